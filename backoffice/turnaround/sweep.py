"""The daily sweep: records the day's backlog (for the 30-day trend) and keeps each
district's escalation list (督办) in step with its overdue cases.

Due-soon and overdue are derived from `due_date` wherever they are shown, so the sweep
does not flag cases; it records what must be kept: the backlog of the day (history that
cannot be recomputed later) and the escalations (a list supervisors work from, with the
day each case went on it). Idempotent for a day: a second run replaces the day's backlog
with the same figures and finds nothing new to escalate or resolve.

Overdue and due soon are backoffice/cases/due.py's, as on every page: open, not waiting
for the applicant, due date before the day (overdue) or within 2 working days (due soon).
Cases of city-only queues (tips) are investigators' work and never escalated to a
district supervisor.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, case as sql_case, delete, func, insert, or_, select, update

from backoffice.audit.models import AuditEvent
from backoffice.cases.due import due_within_limit, overdue_clause, past_due
from backoffice.cases.models import CaseStatus, ReviewCase
from backoffice.core.db import utcnow
from backoffice.extensions import db
from backoffice.reference.models import District
from backoffice.turnaround.models import DailyBacklog, Escalation
from backoffice.turnaround.sql import beijing_day_end, beijing_today
from verifiers.routing import QUEUES
from backoffice.settlement.services import close_lapsed

ESCALATED_QUEUES = tuple(q.code for q in QUEUES if not q.city_only)
ACTOR = "sweep"


@dataclass(frozen=True)
class SweepResult:
    day: date
    backlog_rows: int
    open_cases: int
    escalated: int
    resolved: int

    def describe(self) -> str:
        return (f"{self.day}: backlog {self.open_cases} open cases in {self.backlog_rows} rows, "
                f"{self.escalated} escalated, {self.resolved} escalations resolved")


def _open_on(day: date):
    """Cases open at the end of `day`: received by then and not closed by then."""
    return and_(ReviewCase.received_on <= day,
                or_(ReviewCase.closed_at.is_(None), ReviewCase.closed_at >= beijing_day_end(day)))


def record_backlog(day: date) -> tuple[int, int]:
    """Replace the day's backlog rows: one per district and queue, zeros included, so a day
    the sweep ran is told apart from a day it did not. Returns (rows, open cases).

    For a past day the open set is rebuilt from receipt and closing dates; whether a case
    was waiting for materials that day is not kept, so its current status is used."""
    running = ReviewCase.status != CaseStatus.awaiting_materials
    counts = select(
        ReviewCase.district_id,
        ReviewCase.queue,
        func.count(),
        func.sum(sql_case((and_(running, past_due(day)), 1), else_=0)),
        func.sum(sql_case((and_(running, due_within_limit(day)), 1), else_=0)),
        func.sum(sql_case((ReviewCase.status == CaseStatus.awaiting_materials, 1), else_=0)),
    ).where(_open_on(day)).group_by(ReviewCase.district_id, ReviewCase.queue)
    found = {(d, q): (int(n), int(o or 0), int(s or 0), int(a or 0))
             for d, q, n, o, s, a in db.session.execute(counts)}
    db.session.execute(delete(DailyBacklog).where(DailyBacklog.day == day))
    now = utcnow()
    rows = [
        dict(day=day, district_id=district_id, queue=q.code, open_cases=n, overdue=o, due_soon=s,
             awaiting_materials=a, recorded_at=now)
        for district_id in db.session.scalars(select(District.id).order_by(District.id))
        for q in QUEUES
        for n, o, s, a in [found.get((district_id, q.code), (0, 0, 0, 0))]
    ]
    if rows:
        db.session.execute(insert(DailyBacklog), rows)
    return len(rows), sum(v[0] for v in found.values())


def update_escalations(day: date) -> tuple[int, int]:
    """Put newly overdue cases on their district's escalation list and take off those that
    are closed, waiting for the applicant, or no longer overdue. Returns (added, resolved)."""
    now = utcnow()
    still_overdue = select(ReviewCase.id).where(overdue_clause(day))
    resolving = db.session.execute(
        select(Escalation.id, Escalation.case_id, Escalation.district_id)
        .where(Escalation.resolved_on.is_(None), Escalation.case_id.not_in(still_overdue))
    ).all()
    if resolving:
        db.session.execute(update(Escalation).where(Escalation.id.in_([r.id for r in resolving]))
                           .values(resolved_on=day))
    already = select(Escalation.case_id).where(Escalation.resolved_on.is_(None))
    adding = db.session.execute(
        select(ReviewCase.id, ReviewCase.district_id, ReviewCase.due_date)
        .where(overdue_clause(day), ReviewCase.queue.in_(ESCALATED_QUEUES), ReviewCase.id.not_in(already))
        .order_by(ReviewCase.id)
    ).all()
    if adding:
        db.session.execute(insert(Escalation), [
            dict(case_id=r.id, district_id=r.district_id, escalated_on=day, due_date=r.due_date, created_at=now)
            for r in adding
        ])
    # One audit event per case that went on or off a list, written in bulk (a first sweep
    # of a busy year escalates thousands at once); same transaction as the change.
    events = [
        dict(at=now, actor_label=ACTOR, action="case.escalated", object_type="review_case", object_id=str(r.id),
             district_id=r.district_id, after={"escalated_on": day.isoformat(), "due_date": r.due_date.isoformat()})
        for r in adding
    ] + [
        dict(at=now, actor_label=ACTOR, action="case.escalation_resolved", object_type="review_case",
             object_id=str(r.case_id), district_id=r.district_id, after={"resolved_on": day.isoformat()})
        for r in resolving
    ]
    if events:
        db.session.execute(insert(AuditEvent), events)
    return len(adding), len(resolving)


def sweep(day: date | None = None) -> SweepResult:
    """The daily sweep for `day` (default today in Beijing). Flushes; the job commits."""
    day = day or beijing_today()
    # Settlements past their two years close first, as 逾期视为放弃 (backoffice/settlement).

    close_lapsed(day)
    rows, open_cases = record_backlog(day)
    added, resolved = update_escalations(day)
    db.session.flush()
    return SweepResult(day, rows, open_cases, added, resolved)
