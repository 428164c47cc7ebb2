"""What the daily sweep records: the day's backlog per district and queue (for the trend)
and the escalation list of overdue cases (督办) each district supervisor works from.

Due-soon and overdue themselves are not stored: they are derived from `due_date` at query
time (the worklist index covers it), so they can never be stale between sweeps.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backoffice.cases.models import Decision, ReviewCase
from backoffice.core.db import UTCDateTime, utcnow
from backoffice.extensions import db
from backoffice.reference.models import District


class DailyBacklog(db.Model):
    """One row per (day, district, queue): the open cases as the sweep found them that day.
    Re-running the sweep for a day replaces that day's figures."""

    __tablename__ = "daily_backlog"
    __table_args__ = (
        UniqueConstraint("day", "district_id", "queue", name="uq_daily_backlog_day_district_queue"),
        CheckConstraint("open_cases >= 0 AND overdue >= 0 AND due_soon >= 0 AND awaiting_materials >= 0",
                        name="counts_nonneg"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"))
    queue: Mapped[str] = mapped_column(String(16))
    open_cases: Mapped[int] = mapped_column(Integer)
    overdue: Mapped[int] = mapped_column(Integer)
    due_soon: Mapped[int] = mapped_column(Integer)
    awaiting_materials: Mapped[int] = mapped_column(Integer)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    district: Mapped[District] = relationship()


class Escalation(db.Model):
    """An overdue case on its district supervisor's escalation list. Open while `resolved_on`
    is empty; the sweep resolves it once the case is closed or no longer overdue (resumed,
    its clock moved on). At most one open escalation per case."""

    __tablename__ = "escalations"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("review_cases.id"))
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"))
    escalated_on: Mapped[date] = mapped_column(Date)
    # The due date it missed, as it was when escalated.
    due_date: Mapped[date] = mapped_column(Date)
    resolved_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    case: Mapped[ReviewCase] = relationship()
    district: Mapped[District] = relationship()


# One open escalation per case; the dashboard reads a district's open ones.
Index("uq_escalations_open_case", Escalation.case_id, unique=True,
      sqlite_where=text("resolved_on IS NULL"), postgresql_where=text("resolved_on IS NULL"))
Index("ix_escalations_district_open", Escalation.district_id, Escalation.resolved_on)


# The dashboard's reads (bench/dashboard.py, bench/README.md). Open cases by due date, with
# every column the dashboard groups on, so the open-case aggregate is an index-only scan and
# the overdue / due-soon lists stop after their first rows in due order; the same per
# district; closed cases of a year for the share decided on time; decisions by time.
_OPEN = text("status != 'closed'")
Index("ix_review_cases_open_due", ReviewCase.due_date, ReviewCase.id, ReviewCase.queue, ReviewCase.status,
      ReviewCase.paused_on, ReviewCase.assignee_id, sqlite_where=_OPEN, postgresql_where=_OPEN)
Index("ix_review_cases_open_district_due", ReviewCase.district_id, ReviewCase.due_date, ReviewCase.id,
      ReviewCase.queue, ReviewCase.status, ReviewCase.paused_on, ReviewCase.assignee_id,
      sqlite_where=_OPEN, postgresql_where=_OPEN)
_CLOSED = text("status = 'closed'")
Index("ix_review_cases_closed_year", ReviewCase.year, ReviewCase.queue, ReviewCase.district_id,
      ReviewCase.due_date, ReviewCase.closed_at, sqlite_where=_CLOSED, postgresql_where=_CLOSED)
Index("ix_decisions_decided_at", Decision.decided_at)
# Decisions of the 8-week window joined to their cases (reviewers' table): the case columns
# it needs, readable from this index alone instead of the wide table (~30% of the page's SQL
# time at city level, bench/README.md).
Index("ix_review_cases_id_scope", ReviewCase.id, ReviewCase.queue, ReviewCase.district_id, ReviewCase.due_date)
