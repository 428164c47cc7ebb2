"""When a case is overdue or due soon: the one definition the worklists (filter and due
column), the case workspace, the home page's counts, the supervisors' dashboard and the
daily sweep all use.

A case's clock runs while it is open and not waiting for the applicant's materials (a
return for materials pauses it; the due date moves on when it resumes, cases/clock.py):

* overdue  — clock running, due date before today;
* due soon — clock running, not overdue, due within ``DUE_SOON_WORKING_DAYS`` working days
  (verifiers/turnaround.py), i.e. on or before ``due_soon_limit(today)``.

Each comes as a Python test on one case (``due_state``) and as SQL clauses over
``review_cases`` (``overdue_clause``, ``due_soon_clause``); the clauses on the due date
alone (``past_due``, ``due_within_limit``) are for the sweep's backlog of a past day, whose
open set is rebuilt from dates rather than the current status.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import and_, case as sql_case, func, select

from backoffice.cases.clock import add_working_days
from backoffice.cases.models import CaseStatus, ReviewCase, not_closed
from backoffice.extensions import db
from backoffice.turnaround.sql import beijing_today
from verifiers.turnaround import DUE_SOON_WORKING_DAYS

OVERDUE = "overdue"
DUE_SOON = "due_soon"
# Statuses in which the clock stands still: closed, or waiting for the applicant.
CLOCK_STOPPED = (CaseStatus.closed, CaseStatus.awaiting_materials)


def due_soon_limit(today: date) -> date:
    """The last due date that counts as "due soon" on `today`."""
    return add_working_days(today, DUE_SOON_WORKING_DAYS)


def clock_running(status: CaseStatus) -> bool:
    return status not in CLOCK_STOPPED


def due_state(due_date: date, status: CaseStatus, today: date, limit: date | None = None) -> str | None:
    """OVERDUE, DUE_SOON or None for a case with this due date and status on `today`.
    `limit`: due_soon_limit(today), when the caller has it already (a list of cases)."""
    if not clock_running(status):
        return None
    if due_date < today:
        return OVERDUE
    if due_date <= (limit or due_soon_limit(today)):
        return DUE_SOON
    return None


# The same in SQL ---------------------------------------------------------------------------
def clock_running_clause():
    return ReviewCase.status.notin_(CLOCK_STOPPED)


def past_due(today: date):
    return ReviewCase.due_date < today


def due_within_limit(today: date):
    return and_(ReviewCase.due_date >= today, ReviewCase.due_date <= due_soon_limit(today))


def overdue_clause(today: date):
    return and_(clock_running_clause(), past_due(today))


def due_soon_clause(today: date):
    return and_(clock_running_clause(), due_within_limit(today))


def queue_counts(user, today: date | None = None) -> dict[str, tuple[int, int]]:
    """{queue: (open, overdue)} over the user's district (all districts at city level):
    the home page's table and the menu's badges."""
    today = today or beijing_today()
    overdue = sql_case((overdue_clause(today), 1), else_=0)
    stmt = (
        select(ReviewCase.queue, func.count(), func.coalesce(func.sum(overdue), 0))
        # "Not closed" rather than the list of open statuses: the partial worklist indexes match it.
        .where(not_closed())
        .group_by(ReviewCase.queue)
    )
    if user.district_id is not None:
        stmt = stmt.where(ReviewCase.district_id == user.district_id)
    return {q: (int(n), int(o)) for q, n, o in db.session.execute(stmt)}
