"""Key rotation of the sealed reporter fields (MultiFernet.rotate), row by row in SQL."""
from __future__ import annotations

from sqlalchemy import select, update

from backoffice.core.crypto import rotate_token
from backoffice.extensions import db
from backoffice.intake.models import TipReport

_COLUMNS = ("reporter_name", "reporter_id_number", "reporter_phone")


def rotate() -> int:
    """Re-encrypt every tip report's reporter fields under the newest key; returns the rows."""
    table = TipReport.__table__
    rows = db.session.execute(select(table.c.case_id, *(table.c[c].cast(db.Text) for c in _COLUMNS))).all()
    # Read the raw tokens (the cast bypasses SealedString's decryption), write raw tokens back.
    for case_id, *tokens in rows:
        values = {c: rotate_token(t) for c, t in zip(_COLUMNS, tokens) if t is not None}
        db.session.execute(update(table).where(table.c.case_id == case_id)
                           .values(**{c: _raw(v) for c, v in values.items()}))
    db.session.flush()
    if rows:
        from backoffice.audit.services import record

        record("tips.keys_rotated", "tip_report", None, actor_label="cli", after={"rows": len(rows)})
    return len(rows)


def _raw(token: str):
    from sqlalchemy import literal

    from sqlalchemy import Text

    return literal(token, Text())
