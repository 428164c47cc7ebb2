"""Each person's work for the home page, and the next case of a queue.

* a reviewer's 我的在办: the cases they have claimed (in review), those a supervisor sent
  back to them marked as such, overdue and due today first (due order);
* a supervisor's 待我复核: decisions of their district (city level: all) waiting for a
  countersignature that they did not make themselves (four eyes, staff/permissions.py);
* the district's escalations (督办, kept by the daily sweep, turnaround/sweep.py);
* an investigator's tips: theirs and the unclaimed ones;
* the next case of a queue after a decision, in the worklists' due order.

Overdue is backoffice/cases/due.py's definition; every list is scoped to the user's district
as the worklists are.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import joinedload

from backoffice.applications.models import Application
from backoffice.cases import due
from backoffice.cases.models import CaseStatus, Countersignature, Decision, ReviewCase, not_closed
from backoffice.extensions import db
from backoffice.staff.models import Role
from backoffice.staff.permissions import CASE_WORKERS
from backoffice.turnaround.models import Escalation

#: Rows a home-page list shows; the worklists hold the rest.
LIST_LIMIT = 20
TIPS_QUEUE = "tips"


@dataclass(frozen=True)
class InboxRow:
    case: ReviewCase
    due_state: str | None  # due.OVERDUE, due.DUE_SOON or None
    due_today: bool
    sent_back: bool = False
    escalated_on: date | None = None


def _scoped(stmt, user):
    if user.district_id is not None:
        stmt = stmt.where(ReviewCase.district_id == user.district_id)
    return stmt


def _with_people(stmt):
    return stmt.options(joinedload(ReviewCase.application).joinedload(Application.applicant),
                        joinedload(ReviewCase.assignee))


def _rows(cases, today: date, limit: date, sent_back: set[int] = frozenset(), escalated=None) -> list[InboxRow]:
    return [InboxRow(c, due.due_state(c.due_date, c.status, today, limit), c.due_date == today,
                     c.id in sent_back, (escalated or {}).get(c.id)) for c in cases]


def _sent_back_ids(case_ids: list[int]) -> set[int]:
    """Of these cases, those whose latest decision a supervisor sent back."""
    if not case_ids:
        return set()
    latest = (select(Decision.case_id, func.max(Decision.id).label("decision_id"))
              .where(Decision.case_id.in_(case_ids)).group_by(Decision.case_id).subquery())
    stmt = (select(latest.c.case_id)
            .join(Countersignature, Countersignature.decision_id == latest.c.decision_id)
            .where(Countersignature.confirmed.is_(False)))
    return set(db.session.scalars(stmt))


def my_cases(user, today: date) -> list[InboxRow]:
    """我的在办: claimed by the user and in review (sent back ones included), due order."""
    stmt = _with_people(select(ReviewCase).where(
        ReviewCase.assignee_id == user.id, ReviewCase.status == CaseStatus.in_review,
        ReviewCase.queue != TIPS_QUEUE,
    )).order_by(ReviewCase.due_date, ReviewCase.id).limit(LIST_LIMIT)
    cases = db.session.scalars(stmt).unique().all()
    return _rows(cases, today, due.due_soon_limit(today), _sent_back_ids([c.id for c in cases]))


def awaiting_my_countersign(user, today: date) -> list[InboxRow]:
    """待我复核: pending decisions the user may countersign (not their own), due order."""
    if user.role != Role.supervisor:
        return []
    # The pending decision is each waiting case's latest; correlated, so only the few waiting
    # cases' decisions are read (not an aggregate over every decision ever made).
    latest = (select(func.max(Decision.id)).where(Decision.case_id == ReviewCase.id)
              .correlate(ReviewCase).scalar_subquery())
    stmt = (select(ReviewCase)
            .join(Decision, Decision.id == latest)
            .where(ReviewCase.status == CaseStatus.awaiting_countersign, Decision.decided_by_id != user.id,
                   ReviewCase.queue != TIPS_QUEUE)
            .order_by(ReviewCase.due_date, ReviewCase.id).limit(LIST_LIMIT))
    cases = db.session.scalars(_with_people(_scoped(stmt, user))).unique().all()
    return _rows(cases, today, due.due_soon_limit(today))


def open_escalations(user, today: date) -> list[InboxRow]:
    """The district's open escalations (督办) with the day each case went on the list."""
    stmt = (select(ReviewCase, Escalation.escalated_on)
            .join(Escalation, and_(Escalation.case_id == ReviewCase.id, Escalation.resolved_on.is_(None)))
            .where(not_closed())
            .order_by(Escalation.escalated_on, ReviewCase.due_date, ReviewCase.id).limit(LIST_LIMIT))
    if user.district_id is not None:
        stmt = stmt.where(Escalation.district_id == user.district_id)
    pairs = db.session.execute(stmt.options(joinedload(ReviewCase.application).joinedload(Application.applicant),
                                            joinedload(ReviewCase.assignee))).unique().all()
    return _rows([c for c, _ in pairs], today, due.due_soon_limit(today),
                 escalated={c.id: on for c, on in pairs})


def escalation_count(user) -> int:
    stmt = select(func.count()).select_from(Escalation).where(Escalation.resolved_on.is_(None))
    if user.district_id is not None:
        stmt = stmt.where(Escalation.district_id == user.district_id)
    return db.session.scalar(stmt) or 0


def my_tips(user, today: date) -> list[InboxRow]:
    """An investigator's tips: those they have and the unclaimed ones, due order."""
    stmt = _with_people(select(ReviewCase).where(
        ReviewCase.queue == TIPS_QUEUE, not_closed(),
        or_(ReviewCase.assignee_id == user.id, ReviewCase.assignee_id.is_(None)),
    )).order_by(ReviewCase.due_date, ReviewCase.id).limit(LIST_LIMIT)
    return _rows(db.session.scalars(stmt).unique().all(), today, due.due_soon_limit(today))


def _actionable(user):
    """What the user can take up next in a queue: an unclaimed case, one of their own in
    review, and for a supervisor a decision of someone else's waiting for countersignature."""
    clauses = [ReviewCase.status == CaseStatus.open,
               and_(ReviewCase.status == CaseStatus.in_review, ReviewCase.assignee_id == user.id)]
    if user.role == Role.supervisor:
        others = (select(Decision.case_id).where(Decision.decided_by_id != user.id)
                  .where(Decision.id == select(func.max(Decision.id)).where(Decision.case_id == ReviewCase.id)
                         .correlate(ReviewCase).scalar_subquery()))
        clauses.append(and_(ReviewCase.status == CaseStatus.awaiting_countersign, ReviewCase.id.in_(others)))
    return or_(*clauses)


def next_case(user, queue: str, after: ReviewCase | None = None) -> ReviewCase | None:
    """The next case of `queue` the user can act on, in the worklists' order (due date, id),
    other than `after`. The first such case from the top of the queue: a case decided just
    now has left it, so "next" is the oldest-due case still waiting."""
    if user.role not in CASE_WORKERS or queue == TIPS_QUEUE:
        return None
    stmt = _scoped(select(ReviewCase).where(ReviewCase.queue == queue, not_closed(), _actionable(user)), user)
    if after is not None:
        stmt = stmt.where(ReviewCase.id != after.id)
    return db.session.scalars(stmt.order_by(ReviewCase.due_date, ReviewCase.id).limit(1)).first()


def applicant_cases(case: ReviewCase, user) -> list[ReviewCase]:
    """The applicant's other cases (any year) the user's district may see; tips left out."""
    if case.application is None:
        return []
    stmt = (select(ReviewCase).join(Application, Application.id == ReviewCase.application_id)
            .where(Application.applicant_id == case.application.applicant_id, ReviewCase.id != case.id,
                   ReviewCase.queue != TIPS_QUEUE)
            .order_by(ReviewCase.received_on.desc(), ReviewCase.id.desc()).limit(LIST_LIMIT))
    return db.session.scalars(_scoped(stmt, user)).all()
