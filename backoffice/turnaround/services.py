"""The case clock: resuming after the applicant resubmits materials.

Returning a case for materials (backoffice/cases/services.py, the reviewer's decision)
stops the clock: status `awaiting_materials`, `paused_on` = that day. `resume` restarts it
when the materials come back: the due date moves on by the working days the clock stood
still, so the days used before the pause are kept (DESIGN.md: "paused while a case waits
for the applicant"). Services change and flush; the caller commits.
"""
from __future__ import annotations

from datetime import date

from backoffice.audit.services import record
from backoffice.cases.clock import resumed_due_date, working_days_between
from backoffice.cases.models import CaseStatus, ReviewCase
from backoffice.extensions import db
from backoffice.turnaround.sql import beijing_today
from backoffice.i18n import _


class ClockError(ValueError):
    """The case's clock is not in a state that allows this (e.g. resuming a running clock)."""


def resume(case: ReviewCase, on: date | None = None, *, actor=None, actor_label: str | None = None) -> ReviewCase:
    """Restart the clock of a case that waits for the applicant's materials, as of `on`
    (the day the materials arrived; default today in Beijing). The case goes back to its
    assignee (in review) or, without one, to the queue (open)."""
    on = on or beijing_today()
    if case.status != CaseStatus.awaiting_materials:
        raise ClockError(_("案件%(number)s未在等待补正材料，计时未停止", number=case.number))
    paused_on = case.paused_on or on  # a case returned before pauses were recorded: nothing to add
    if on < paused_on:
        raise ClockError(_("恢复日期%(on)s早于暂停日期%(paused_on)s", on=on, paused_on=paused_on))
    before = {"status": case.status, "due_date": case.due_date, "paused_on": case.paused_on}
    case.due_date = resumed_due_date(case.due_date, paused_on, on)
    case.paused_on = None
    case.status = CaseStatus.in_review if case.assignee_id else CaseStatus.open
    db.session.flush()
    record(
        "case.resumed", "review_case", case.id, district_id=case.district_id, actor=actor, actor_label=actor_label,
        before=before,
        after={"status": case.status, "due_date": case.due_date, "resumed_on": on,
               "paused_working_days": working_days_between(paused_on, on)},
    )
    return case
