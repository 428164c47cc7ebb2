"""Writing applicant events; called by services inside the transaction they change."""
from __future__ import annotations

from backoffice.extensions import db
from backoffice.feed.models import ApplicantEvent


def emit(application, kind: str, text: str, payload: dict | None = None) -> ApplicantEvent:
    """Add an event for this application's applicant to the session (flushed, not committed)."""
    row = ApplicantEvent(
        application_id=application.id,
        applicant_id=application.applicant_id,
        year=application.year,
        kind=kind,
        text=text,
        payload=payload,
    )
    db.session.add(row)
    db.session.flush()
    return row
