"""Results back to the online system, on the intake API's blueprint (/api/v1):

* the application's result is part of ``GET /applications/{id}`` (``result``, results.py);
* ``GET /events?after=CURSOR&limit=N`` — the applicants' events feed (events.py), scope
  ``events:read``: case decisions, rescoring, ranking, publication, qualification and
  revocation, each with the applicant, the time and the text to show, in feed order.
"""
from __future__ import annotations

from flask import request

from backoffice.announcement import events
from backoffice.applications.models import Applicant
from backoffice.extensions import db
from backoffice.intake.api import ApiError, bp, scoped
from backoffice.intake.schema import FieldError

EVENTS_LIMIT_DEFAULT = 100
EVENTS_LIMIT_MAX = 1000
MAX_CURSOR = 2**63 - 1


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ApiError(422, "fields", "有字段不符合要求。", "Some fields are not valid.",
                       [FieldError(f"query.{name}", "range", f"应为{low}到{high}之间的整数",
                                   f"an integer from {low} to {high}")])
    return int(raw)


@bp.get("/events")
@scoped("events:read")
def list_events():
    after = _int_arg("after", 0, 0, MAX_CURSOR)
    limit = _int_arg("limit", EVENTS_LIMIT_DEFAULT, 1, EVENTS_LIMIT_MAX)
    rows = events.read(after, limit)
    applicants = {a.id: a for a in db.session.query(Applicant).filter(Applicant.id.in_({r.applicant_id for r in rows}))}
    return {
        "events": [{
            "cursor": r.position, "kind": r.kind, "occurred_at": r.occurred_at.isoformat(),
            "application_id": r.application_id, "year": r.year,
            "applicant": {"id_number_masked": applicants[r.applicant_id].masked_id,
                          "name": applicants[r.applicant_id].name},
            "text": r.text, "payload": r.payload,
        } for r in rows],
        "next_cursor": rows[-1].position if rows else after,
    }
