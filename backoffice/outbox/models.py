"""Outbox rows: job requests written in the same transaction as the change that causes them."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from backoffice.core.db import JSONType, UTCDateTime, utcnow
from backoffice.extensions import db


class OutboxMessage(db.Model):
    """A job request. Life: written (undelivered) → delivered to RQ → completed by the job.

    `completed_at` is set by the job itself in its own transaction, so "rescoring pending"
    is a database question, and a request whose job vanished from Redis can be found and
    delivered again (at-least-once even across a Redis that lost its data).
    """

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # What to do: "rescore_application", "rank_year", ...
    topic: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict] = mapped_column(JSONType)
    # The job id it becomes; repeats of one request collapse into one job.
    job_key: Mapped[str] = mapped_column(String(128))
    # The application concerned (rescore requests), for "rescoring pending" and for the job
    # to complete every request it satisfies.
    application_id: Mapped[int | None] = mapped_column(Integer)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The RQ job id it went out as (job_key, or job_key plus a suffix when that job had started).
    job_id: Mapped[str | None] = mapped_column(String(160))
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)


# The relay reads only undelivered rows, oldest first.
Index(
    "ix_outbox_pending",
    OutboxMessage.id,
    sqlite_where=text("delivered_at IS NULL"),
    postgresql_where=text("delivered_at IS NULL"),
)
# "Rescoring pending" and the job's completion look up open requests by application.
Index(
    "ix_outbox_open_application",
    OutboxMessage.application_id,
    sqlite_where=text("completed_at IS NULL"),
    postgresql_where=text("completed_at IS NULL"),
)
