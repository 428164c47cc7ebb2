"""Delivering notices (backoffice/notices): the job, per channel, once.

The notice's request reaches Redis through the outbox like every other job request
(topic "deliver_notice", written with the decision), so a Redis outage delays a notice but
never loses it, and a job lost from Redis is delivered again (queues/relay.py).

Once per channel: each `NotificationOutbox` row is locked, delivered and marked in its own
transaction, feed first (a database row, atomic with its mark), SMS last (an outside call,
made only for a row still unmarked and committed right after). A job run twice — retried
after a failure, delivered twice by the relay, or redelivered after Redis lost it — finds
the marked rows and delivers nothing again; a failing gateway leaves its row unmarked with
the error, and the retry sends only what is still missing.
"""
from __future__ import annotations

import logging

from sqlalchemy import select, update

from backoffice.core.db import utcnow
from backoffice.extensions import db
from backoffice.outbox.models import OutboxMessage
from backoffice.outbox.services import job_key
from queues.jobs import DAY, _complete, job
from backoffice.notices.models import Notice, NotificationOutbox
from backoffice.notices.sms import gateway as configured_gateway
from backoffice.feed.services import emit
from backoffice.notices.sms import SmsMessage

log = logging.getLogger(__name__)

NOTICE_TOPIC = "deliver_notice"
# Feed before SMS: the event costs nothing outside our database.
CHANNEL_ORDER = ("feed", "sms")


def _lock(row_id: int):

    if db.session.get_bind().dialect.name == "sqlite":
        # SQLite: take the write lock before reading (no row locks; see queues.jobs._lock_application).
        db.session.execute(update(NotificationOutbox).where(NotificationOutbox.id == row_id)
                           .values(id=NotificationOutbox.id))
        return db.session.get(NotificationOutbox, row_id, populate_existing=True)
    return db.session.scalars(select(NotificationOutbox).where(NotificationOutbox.id == row_id)
                              .with_for_update().execution_options(populate_existing=True)).first()


def _deliver_row(row, notice, gateway) -> str:
    if row.channel == "feed":

        event = emit(notice.application, "notice.issued", notice.short_text, {
            "notice_id": notice.id, "number": notice.number, "kind": notice.kind, "title": notice.title,
            "case_number": notice.case.number, "outcome": notice.outcome, "text": notice.text,
            "issued_at": notice.issued_at.isoformat(),
        })
        return str(event.id)
    if row.channel == "sms":

        return gateway.send(SmsMessage(key=f"{notice.number}-sms", phone=row.recipient, text=notice.short_text))
    raise ValueError(f"unknown channel {row.channel!r}")


def deliver_now(notice_id: int, gateway=None) -> dict:
    """Deliver every undelivered channel of the notice; commits per channel. Raises the first
    channel's error after recording it on the row (the job then retries with backoff)."""
    from flask import current_app


    gateway = gateway or configured_gateway(current_app.config)
    rows = db.session.execute(
        select(NotificationOutbox.id, NotificationOutbox.channel)
        .where(NotificationOutbox.notice_id == notice_id, NotificationOutbox.delivered_at.is_(None))
    ).all()
    db.session.commit()
    delivered = []
    for row_id, channel in sorted(rows, key=lambda r: CHANNEL_ORDER.index(r[1]) if r[1] in CHANNEL_ORDER else 9):
        row = _lock(row_id)
        if row is None or row.delivered_at is not None:
            db.session.commit()
            continue  # another run got there first
        notice = db.session.get(Notice, notice_id)
        try:
            external = _deliver_row(row, notice, gateway)
        except Exception as exc:
            db.session.rollback()
            t = NotificationOutbox.__table__
            db.session.execute(update(t).where(t.c.id == row_id).values(
                attempts=t.c.attempts + 1, last_error=f"{type(exc).__name__}: {exc}"[:1000]))
            db.session.commit()
            raise
        row.delivered_at = utcnow()
        row.external_id = external
        row.attempts = (row.attempts or 0) + 1
        row.last_error = None
        db.session.commit()
        delivered.append(channel)
    t = OutboxMessage.__table__
    _complete(t.c.topic == NOTICE_TOPIC, t.c.job_key == job_key("notice", notice_id))
    return {"notice_id": notice_id, "delivered": delivered}


@job(queue="notify", timeout=60, ttl=2 * DAY, result_ttl=3600, failure_ttl=90 * DAY,
     backoff=(10, 60, 300, 1800))
def deliver_notice(notice_id: int) -> dict:
    """Deliver a notice to the online system's feed and by SMS; each channel once."""
    return deliver_now(notice_id)
