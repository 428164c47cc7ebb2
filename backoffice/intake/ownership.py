"""API clients own their records (issue 15 §4).

Each application, case and evidence file an API client creates carries its client
(``created_by_client_id``, set here for every new row flushed during an API request, so no
service has to remember it). A client reads and changes only what it created — a claim
belongs to its application, a case to its creator — unless its token carries the
cross-client scope ``CROSS_CLIENT_SCOPE`` (e.g. the registry departments' client, which
records results on every claim). Another client's record answers 404, exactly as a record
that does not exist. Rows made by staff, the demo or synth have no client: cross-client
tokens only.
"""
from __future__ import annotations

from flask import g, has_request_context
from sqlalchemy import event
from backoffice.applications.models import Application, EvidenceFile
from backoffice.cases.models import ReviewCase

CROSS_CLIENT_SCOPE = "clients:all"


def current_client():
    return g.get("api_client") if has_request_context() else None


def may_use(owner_client_id: int | None) -> bool:
    client = current_client()
    if client is None:
        return True
    return CROSS_CLIENT_SCOPE in client.scope_set or owner_client_id == client.id


def application_owner(application) -> int | None:
    return application.created_by_client_id


def case_owner(case) -> int | None:
    if case.created_by_client_id is not None:
        return case.created_by_client_id
    return case.application.created_by_client_id if case.application is not None else None


def _stamp(session, _context, _instances):
    """Stamp the requesting client on every new owned row before it is flushed."""
    client = current_client()
    if client is None:
        return

    for obj in session.new:
        if isinstance(obj, (Application, ReviewCase, EvidenceFile)) and obj.created_by_client_id is None:
            obj.created_by_client_id = client.id


def install() -> None:
    from sqlalchemy.orm import Session

    if not event.contains(Session, "before_flush", _stamp):
        event.listen(Session, "before_flush", _stamp)
