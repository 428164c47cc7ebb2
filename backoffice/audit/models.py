"""Audit events: append-only (on PostgreSQL a trigger refuses UPDATE and DELETE)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, event
from sqlalchemy.orm import Mapped, mapped_column

from backoffice.core.db import JSONType, UTCDateTime, utcnow
from backoffice.extensions import db


class AuditEvent(db.Model):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    # Who, when there is no staff account: "system", "cli", "client:<name>", or a username tried.
    actor_label: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(64))
    # The district the object belongs to, so district supervisors can read their own trail.
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id"))
    before: Mapped[dict | None] = mapped_column(JSONType)
    after: Mapped[dict | None] = mapped_column(JSONType)
    ip: Mapped[str | None] = mapped_column(String(45))


Index("ix_audit_events_object", AuditEvent.object_type, AuditEvent.object_id)


@event.listens_for(AuditEvent, "before_update")
def _refuse_update(_mapper, _connection, _target):
    raise PermissionError("audit events are append-only")


@event.listens_for(AuditEvent, "before_delete")
def _refuse_delete(_mapper, _connection, _target):
    raise PermissionError("audit events are append-only")
