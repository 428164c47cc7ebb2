"""The daily sweep: the day's backlog, the escalation list, idempotence; resuming a clock."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from backoffice.audit.models import AuditEvent
from backoffice.cases.models import CaseStatus, Outcome
from backoffice.extensions import db
from backoffice.reference.models import District
from backoffice.turnaround.models import DailyBacklog, Escalation
from backoffice.turnaround.services import ClockError, resume
from verifiers.routing import QUEUES
from backoffice.turnaround.sweep import sweep


def _backlog(day, district_id):
    rows = db.session.execute(
        select(DailyBacklog.queue, DailyBacklog.open_cases, DailyBacklog.overdue, DailyBacklog.due_soon,
               DailyBacklog.awaiting_materials)
        .where(DailyBacklog.day == day, DailyBacklog.district_id == district_id)
    ).all()
    return {q: tuple(rest) for q, *rest in rows}


def _escalated(case):
    return db.session.scalars(select(Escalation).where(Escalation.case_id == case.id).order_by(Escalation.id)).all()


def _events(action, case):
    return db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == action, AuditEvent.object_id == str(case.id)))


def test_sweep_records_the_backlog_of_each_district_and_queue(world, today):
    result = sweep()
    assert result.day == world.today
    own, other = world.districts[world.own].id, world.districts[world.other].id
    # (open, overdue, due soon, awaiting materials): A due today and B overdue; C waits; D fresh.
    assert _backlog(world.today, own) == {
        "housing": (2, 1, 1, 0), "education": (1, 0, 0, 1), "appeals": (1, 0, 0, 0),
        "awards": (0, 0, 0, 0), "tax": (0, 0, 0, 0), "settlement": (0, 0, 0, 0), "tips": (0, 0, 0, 0),
        "eligibility": (0, 0, 0, 0),
    }
    assert _backlog(world.today, other)["housing"] == (1, 1, 0, 0)
    # Every district gets its rows, zeros included: a day the sweep ran is told from one it did not.
    districts = db.session.scalar(select(func.count()).select_from(District))
    assert result.backlog_rows == districts * len(QUEUES)  # one row per district and queue


def test_sweep_of_an_earlier_day_rebuilds_what_was_open_then(world, today):
    sweep(date(2021, 10, 15))
    own = world.districts[world.own].id
    # On Friday 15 October J (closed on the 18th) was still open and due within 2 working days.
    assert _backlog(date(2021, 10, 15), own)["housing"] == (3, 1, 2, 0)


def test_overdue_cases_go_on_their_district_list_once(world, today):
    first = sweep()
    assert first.escalated == 2  # B (朝阳区) and H (海淀区)
    b = world.cases["B"]
    [entry] = _escalated(b)
    assert (entry.district_id, entry.escalated_on, entry.due_date, entry.resolved_on) == (
        b.district_id, world.today, date(2021, 10, 13), None)
    assert _events("case.escalated", b) == 1
    # Waiting for the applicant is not overdue; neither is a case due today.
    assert _escalated(world.cases["C"]) == [] and _escalated(world.cases["A"]) == []

    backlog_before = _backlog(world.today, b.district_id)
    again = sweep()
    assert (again.escalated, again.resolved) == (0, 0)
    assert len(_escalated(b)) == 1 and _events("case.escalated", b) == 1
    assert _backlog(world.today, b.district_id) == backlog_before
    assert db.session.scalar(select(func.count()).select_from(DailyBacklog)
                             .where(DailyBacklog.day == world.today)) == first.backlog_rows


def test_escalation_is_resolved_when_the_case_is_closed_and_renewed_if_late_again(world, today):
    sweep()
    b = world.cases["B"]
    b.status, b.closed_at = CaseStatus.closed, world.cases["J"].closed_at
    db.session.flush()
    today(date(2021, 10, 19))
    assert sweep().resolved == 1
    [entry] = _escalated(b)
    assert entry.resolved_on == date(2021, 10, 19)
    assert _events("case.escalation_resolved", b) == 1


def test_tips_are_never_put_on_a_district_supervisors_list(world, make, today):
    tip = make.case(district=world.own, queue="tips", kind="tip", received=date(2021, 9, 24))
    sweep()
    assert _escalated(tip) == []


def test_resume_moves_the_due_date_by_the_paused_working_days(world, today):
    c = world.cases["C"]  # received 09-24, due 10-13, returned on Tuesday 10-12
    resume(c, on=date(2021, 10, 15))
    assert c.due_date == date(2021, 10, 18)  # 13th, 14th, 15th stood still; one day was left
    assert (c.status, c.paused_on) == (CaseStatus.in_review, None)  # back to r2, who returned it
    assert _events("case.resumed", c) == 1
    # Due today, so not overdue: the sweep does not escalate it.
    sweep()
    assert _escalated(c) == []


def test_resume_refuses_a_running_clock_and_a_date_before_the_pause(world, today):
    with pytest.raises(ClockError):
        resume(world.cases["B"], on=world.today)
    with pytest.raises(ClockError):
        resume(world.cases["C"], on=date(2021, 10, 11))
    assert world.cases["C"].status == CaseStatus.awaiting_materials


def test_return_for_materials_then_resume_through_the_case_service(world, make, today):
    """The case service's return stops the clock (paused_on); resume picks it up from there."""
    from backoffice.cases import services
    from backoffice.cases.clock import add_working_days, working_days_between

    r1 = world.staff["r1"]
    case = world.cases["A"]  # in review with r1
    reason = next(r.code for r in services.reasons_for_case(case, Outcome.returned.value))
    services.decide(case, actor=r1, outcome=Outcome.returned.value, reason_code=reason,
                    note="请补充不动产登记信息查询结果告知单", version=case.version)
    assert case.status == CaseStatus.awaiting_materials and case.paused_on is not None
    paused_on, due_before = case.paused_on, case.due_date
    back_on = date.fromordinal(paused_on.toordinal() + 9)
    resume(case, on=back_on, actor=r1)
    assert case.due_date == add_working_days(due_before, working_days_between(paused_on, back_on))
    assert case.status == CaseStatus.in_review and case.assignee_id == r1.id
