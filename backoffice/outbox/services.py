"""Writing job requests to the outbox, in the caller's transaction; reading what is pending.

The relay (queues/relay.py) delivers undelivered rows to RQ and marks them delivered; a
Redis outage delays a request but never loses it. `job_key` is the RQ job id the request
becomes, so repeated requests for the same thing collapse into one job. The job marks the
rows it satisfied `completed_at` in its own transaction.

After the request (or job) that wrote rows commits, they are pushed at once on a best-effort
basis (`queues.relay.push_after_commit`), so a decision does not wait for the relay's next
poll; when that push fails the rows simply wait for the relay.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

from flask import g, has_app_context
from sqlalchemy import select

from backoffice.extensions import db
from backoffice.outbox.models import OutboxMessage

_JOB_ID_SAFE = re.compile(r"[^A-Za-z0-9_-]")

RESCORE = "rescore_application"
RANK = "rank_year"
RESCORE_YEAR = "rescore_year"


def job_key(*parts) -> str:
    """An RQ-safe job id (RQ accepts [A-Za-z0-9_-] only)."""
    return "-".join(_JOB_ID_SAFE.sub("_", str(p)) for p in parts)[:128]


def enqueue(topic: str, payload: dict, key: str, *, application_id: int | None = None) -> OutboxMessage:
    """Add a request; a request with the same key still waiting for delivery is reused
    (it has not reached Redis yet, so its job will run after this transaction commits)."""
    waiting = db.session.scalar(
        select(OutboxMessage)
        .where(OutboxMessage.job_key == key, OutboxMessage.delivered_at.is_(None),
               OutboxMessage.completed_at.is_(None))
        .order_by(OutboxMessage.id)
        .limit(1)
    )
    if waiting is not None:
        return waiting
    message = OutboxMessage(topic=topic, payload=payload, job_key=key, application_id=application_id)
    db.session.add(message)
    db.session.flush()
    _note_for_push(message.id)
    return message


def request_rescore(application_id: int, *, trigger: str, decision_id: int | None = None) -> OutboxMessage:
    """Ask for an application to be rescored after the current transaction commits."""
    payload = {"application_id": application_id, "trigger": trigger, "decision_id": decision_id}
    key = job_key("rescore", application_id, f"d{decision_id}" if decision_id else trigger)
    return enqueue(RESCORE, payload, key, application_id=application_id)


def request_rank(year: int, *, trigger: str = "rescore") -> OutboxMessage:
    """Ask for the year to be reranked; the relay debounces a burst into one rank job."""
    return enqueue(RANK, {"year": year, "trigger": trigger}, job_key("rank", year))


def pending_rescore(application_ids: Iterable[int]) -> set[int]:
    """The applications among these whose rescoring was requested and has not completed
    (undelivered, queued, running, or failed and waiting for an administrator's retry)."""
    ids = {int(i) for i in application_ids}
    if not ids:
        return set()
    stmt = (
        select(OutboxMessage.application_id)
        .where(OutboxMessage.completed_at.is_(None), OutboxMessage.topic == RESCORE)
        .distinct()
    )
    if len(ids) <= 1000:
        stmt = stmt.where(OutboxMessage.application_id.in_(sorted(ids)))
    # else (an export of many rows): the open requests are few; read them all and intersect.
    return set(db.session.scalars(stmt)) & ids


def _note_for_push(message_id: int) -> None:
    """Remember the row so it can be pushed once this app context's transaction commits."""
    if has_app_context():
        g.setdefault("outbox_written", []).append(message_id)
