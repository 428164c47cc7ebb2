"""Writing many rows of one table at once: COPY on PostgreSQL, executemany elsewhere (the
synthetic year and the eligibility year check)."""
from __future__ import annotations

import json

from sqlalchemy import JSON, insert, text


class Bulk:
    """Insert many rows of one table: COPY on PostgreSQL, executemany elsewhere."""

    def __init__(self, session):
        self.session = session
        self.postgres = session.get_bind().dialect.name == "postgresql"

    def insert(self, model, rows: list[dict]) -> None:
        if not rows:
            return
        table = model.__table__
        columns = [c for c in table.columns if c.name in rows[0] or c.default is not None and not c.primary_key]
        for c in columns:
            if c.name not in rows[0] and c.default is not None:
                value = c.default.arg(None) if c.default.is_callable else c.default.arg
                for r in rows:
                    r[c.name] = value
        if not self.postgres:
            self.session.execute(insert(table), rows)
            return
        names = [c.name for c in columns]
        is_json = {c.name: isinstance(c.type, JSON) for c in columns}
        raw = self.session.connection().connection.driver_connection
        with raw.cursor() as cur:
            with cur.copy(f'COPY {table.name} ({", ".join(names)}) FROM STDIN') as copy:
                for r in rows:
                    copy.write_row(tuple(
                        (json.dumps(r[n], ensure_ascii=False) if is_json[n] and r[n] is not None else _plain(r[n]))
                        for n in names
                    ))

    def move_sequences(self, *models) -> None:
        if not self.postgres:
            return
        for model in models:
            t = model.__table__.name
            self.session.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), COALESCE((SELECT max(id) FROM {t}), 1))"
            ))


def _plain(value):
    if hasattr(value, "value") and not isinstance(value, (int, float, str)):  # enums
        return value.value
    return value


