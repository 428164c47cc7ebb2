"""Writing job requests to the outbox, in the caller's transaction.

The relay (queues/) delivers undelivered rows to RQ and marks them delivered; a Redis
outage delays a request but never loses it. `job_key` is the RQ job id the request
becomes, so repeated requests for the same thing collapse into one job.
"""
from __future__ import annotations

import re

from backoffice.extensions import db
from backoffice.outbox.models import OutboxMessage

_JOB_ID_SAFE = re.compile(r"[^A-Za-z0-9_-]")


def job_key(*parts) -> str:
    """An RQ-safe job id (RQ accepts [A-Za-z0-9_-] only)."""
    return "-".join(_JOB_ID_SAFE.sub("_", str(p)) for p in parts)[:128]


def enqueue(topic: str, payload: dict, key: str) -> OutboxMessage:
    message = OutboxMessage(topic=topic, payload=payload, job_key=key)
    db.session.add(message)
    db.session.flush()
    return message


def request_rescore(application_id: int, *, trigger: str, decision_id: int | None = None) -> OutboxMessage:
    """Ask for an application to be rescored after the current transaction commits."""
    payload = {"application_id": application_id, "trigger": trigger, "decision_id": decision_id}
    key = job_key("rescore", application_id, f"d{decision_id}" if decision_id else trigger)
    return enqueue("rescore_application", payload, key)
