"""A hand-built fortnight around the 2021 National Day holiday, "today" = Monday 2021-10-18.

朝阳区 (the supervisor's district), working days from the official calendar:

| case | queue | received | due | state on 10-18 | working days open |
|---|---|---|---|---|---|
| A | housing | 09-28 | 10-18 | in review (r1), due soon | 10 |
| B | housing | 09-24 | 10-13 | open, overdue by 3 | 13 |
| C | education | 09-24 | 10-13 | awaiting materials since 10-12 (r2 returned it) | 9 |
| D | appeals | 10-14 | 10-28 | open | 2 |
| E | housing | 09-01 | 09-15 | closed 09-14 10:00 by r1 (on time) | — |
| F | housing | 09-01 | 09-15 | closed 09-22 10:00 by r1 (late) | — |
| G1 | education | 09-01 | 09-15 | closed 09-15 23:30 Beijing by r2 (on time) | — |
| G2 | education | 09-01 | 09-15 | closed 09-16 00:30 Beijing by r2 (late) | — |
| J | housing | 09-29 | 10-19 | closed 10-18 09:00 by r1 (on time) | — |

海淀区: H (housing, overdue) and K (housing, closed late), which a 朝阳区 supervisor never sees.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone

import pytest

from backoffice.cases.models import CaseStatus, Decision, Outcome
from backoffice.extensions import db
from backoffice.turnaround.sql import BEIJING

TODAY = date(2021, 10, 18)
OWN, OTHER = "朝阳区", "海淀区"


def beijing(y, m, d, hh=10, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=BEIJING).astimezone(timezone.utc)


@dataclass
class World:
    today: date = TODAY
    own: str = OWN
    other: str = OTHER
    cases: dict = field(default_factory=dict)
    staff: dict = field(default_factory=dict)
    districts: dict = field(default_factory=dict)


@pytest.fixture
def world(make):
    w = World()
    w.districts = {OWN: make.district(OWN), OTHER: make.district(OTHER)}
    r1 = make.staff("reviewer", OWN, username="r1_chaoyang")
    r2 = make.staff("reviewer", OWN, username="r2_chaoyang")
    r3 = make.staff("reviewer", OTHER, username="r3_haidian")
    w.staff = {"r1": r1, "r2": r2, "r3": r3}

    def case(tag, queue, received, district=OWN, kind=None, **changes):
        kind = kind or ("appeal" if queue == "appeals" else "review")
        c = make.case(district=district, queue=queue, kind=kind, received=received, number=f"TA-{tag}")
        for k, v in changes.items():
            setattr(c, k, v)
        w.cases[tag] = c
        return c

    def decide(c, who, outcome, at, close=True):
        db.session.add(Decision(case_id=c.id, outcome=outcome, reason_code="test", note="测试",
                                decided_by_id=who.id, decided_at=at))
        if close:
            c.status, c.closed_at = CaseStatus.closed, at

    case("A", "housing", date(2021, 9, 28), status=CaseStatus.in_review, assignee_id=r1.id)
    case("B", "housing", date(2021, 9, 24))
    c = case("C", "education", date(2021, 9, 24), status=CaseStatus.awaiting_materials,
             paused_on=date(2021, 10, 12), assignee_id=r2.id)
    decide(c, r2, Outcome.returned, beijing(2021, 10, 12), close=False)
    case("D", "appeals", date(2021, 10, 14))
    decide(case("E", "housing", date(2021, 9, 1)), r1, Outcome.upheld, beijing(2021, 9, 14))
    decide(case("F", "housing", date(2021, 9, 1)), r1, Outcome.rejected, beijing(2021, 9, 22))
    decide(case("G1", "education", date(2021, 9, 1)), r2, Outcome.corrected, beijing(2021, 9, 15, 23, 30))
    decide(case("G2", "education", date(2021, 9, 1)), r2, Outcome.rejected, beijing(2021, 9, 16, 0, 30))
    decide(case("J", "housing", date(2021, 9, 29)), r1, Outcome.upheld, beijing(2021, 10, 18, 9))
    case("H", "housing", date(2021, 9, 24), district=OTHER)
    decide(case("K", "housing", date(2021, 9, 1), district=OTHER), r3, Outcome.rejected, beijing(2021, 9, 30))
    db.session.flush()
    assert w.cases["A"].due_date == date(2021, 10, 18) and w.cases["B"].due_date == date(2021, 10, 13)
    assert w.cases["D"].due_date == date(2021, 10, 28) and w.cases["J"].due_date == date(2021, 10, 19)
    return w


@pytest.fixture
def today(monkeypatch):
    """Pin "today" (Beijing) for the dashboard and the sweep."""
    from backoffice.turnaround import services, sweep, views

    def pin(day: date = TODAY):
        for module in (views, sweep, services):
            monkeypatch.setattr(module, "beijing_today", lambda: day)
        return day

    pin()
    return pin
