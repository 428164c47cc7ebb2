"""How many working days each queue has to decide a case: the turnaround promise as data.

The handbook tells applicants a review takes about two weeks (第三篇 二、合法稳定住所指标,
复查: "因房源复查可能需要核对历史档案，所需时间约两周左右，请耐心等待"; 三、教育背景指标
and the other reviews say "所需时间约两周左右" too). DESIGN.md fixes two weeks as ten working
days on China's official calendar, paused while a case waits for the applicant.

Change a queue's figure here; `backoffice.cases.clock.due_date_for` uses it for new cases,
and the supervisors' dashboard for ageing and the headline. Pure data: no Flask,
SQLAlchemy or RQ.
"""
from __future__ import annotations

from verifiers.routing import QUEUE_CODES

DEFAULT_DUE_WORKING_DAYS = 10

# queue -> working days after receipt (the day of receipt itself not counted).
DUE_WORKING_DAYS: dict[str, int] = {
    "housing": 10,
    "education": 10,
    "awards": 10,
    "tax": 10,
    "appeals": 10,
    "settlement": 10,
    "tips": 10,
    "eligibility": 10,
}

# A case is "due soon" when its due date is at most this many working days ahead.
DUE_SOON_WORKING_DAYS = 2

assert set(DUE_WORKING_DAYS) == set(QUEUE_CODES), "every queue needs its turnaround"
assert all(n > 0 for n in DUE_WORKING_DAYS.values())


def due_working_days(queue: str) -> int:
    return DUE_WORKING_DAYS.get(queue, DEFAULT_DUE_WORKING_DAYS)
