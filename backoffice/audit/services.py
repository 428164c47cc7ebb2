"""Writing audit events; called by services inside the transaction they change."""
from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from flask import has_request_context, request
from flask_login import current_user

from backoffice.audit.models import AuditEvent
from backoffice.extensions import db


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def record(
    action: str,
    object_type: str,
    object_id=None,
    *,
    district_id: int | None = None,
    before: dict | None = None,
    after: dict | None = None,
    actor=None,
    actor_label: str | None = None,
) -> AuditEvent:
    """Add an audit event to the current session (committed with the change it records)."""
    if actor is None and has_request_context() and current_user and current_user.is_authenticated:
        actor = current_user._get_current_object()
    label = actor_label or (actor.username if actor is not None else "system")
    event = AuditEvent(
        actor_id=actor.id if actor is not None else None,
        actor_label=label,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        district_id=district_id,
        before=_jsonable(before) if before is not None else None,
        after=_jsonable(after) if after is not None else None,
        ip=request.remote_addr if has_request_context() else None,
    )
    db.session.add(event)
    db.session.flush()
    return event
