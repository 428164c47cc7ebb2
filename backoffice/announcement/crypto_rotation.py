"""Key rotation of the sealed reporter fields (MultiFernet.rotate), row by row in SQL."""
from __future__ import annotations

from sqlalchemy import Text, literal, select, update

from backoffice.audit.services import record
from backoffice.core.crypto import rotate_token
from backoffice.extensions import db
from backoffice.intake.models import TipReport

_COLUMNS = ("reporter_name", "reporter_id_number", "reporter_phone")


def rotate() -> int:
    """Re-encrypt every tip report's reporter fields under the newest key; returns the rows.
    The tokens are read and written as plain TEXT (the cast and the literal bypass
    SealedString), so they are never decrypted into Python objects of the session."""
    table = TipReport.__table__
    rows = db.session.execute(select(table.c.case_id, *(table.c[c].cast(Text) for c in _COLUMNS))).all()
    for case_id, *tokens in rows:
        values = {c: literal(rotate_token(t), Text()) for c, t in zip(_COLUMNS, tokens) if t is not None}
        db.session.execute(update(table).where(table.c.case_id == case_id).values(**values))
    db.session.flush()
    if rows:
        record("tips.keys_rotated", "tip_report", None, actor_label="cli", after={"rows": len(rows)})
    return len(rows)
