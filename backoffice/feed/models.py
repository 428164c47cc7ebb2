"""Applicant-facing events, in the order the online system reads them.

Each row is something an applicant (or their employer) is told: a case decided, a total
rescored, the list published, a qualification granted or revoked, a notice issued, a
settlement's progress. Rows are written by services in the same transaction as the change
they describe and are never changed afterwards.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, event, text
from sqlalchemy.orm import Mapped, mapped_column

from backoffice.core.db import JSONType, UTCDateTime, utcnow
from backoffice.extensions import db


class ApplicantEvent(db.Model):
    __tablename__ = "applicant_events"

    # The feed's cursor: ascending, never reused (BIGINT on PostgreSQL, ROWID on SQLite).
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    applicant_id: Mapped[int] = mapped_column(ForeignKey("applicants.id"))
    year: Mapped[int] = mapped_column(Integer)
    # What happened, e.g. "case.decided", "score.changed", "list.published",
    # "qualification.granted", "qualification.revoked", "notice.issued", "settlement.progress".
    kind: Mapped[str] = mapped_column(String(48))
    # The words to show the applicant, in Chinese (the online system's language).
    text: Mapped[str] = mapped_column(String(1000))
    payload: Mapped[dict | None] = mapped_column(JSONType)
    # The feed position the online system's cursor counts in (GET /api/v1/events): given
    # after commit, in one writer at a time, so a reader never passes an event that commits
    # late with a lower id (backoffice/announcement/events.py). NULL until then.
    position: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))


Index("ix_applicant_events_application", ApplicantEvent.application_id, ApplicantEvent.id)
Index("uq_applicant_events_position", ApplicantEvent.position, unique=True)
Index("ix_applicant_events_unpositioned", ApplicantEvent.id,
      sqlite_where=text("position IS NULL"), postgresql_where=text("position IS NULL"))


@event.listens_for(ApplicantEvent, "before_update")
def _refuse_update(_mapper, _connection, _target):
    # The feed position is set by a set-based UPDATE (announcement/events.py), never here.
    raise PermissionError("applicant events are append-only")


@event.listens_for(ApplicantEvent, "before_delete")
def _refuse_delete(_mapper, _connection, _target):
    raise PermissionError("applicant events are append-only")
