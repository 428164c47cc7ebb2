"""The one way a timestamp reaches a person: Beijing time (Asia/Shanghai), to the minute.

Columns hold aware UTC datetimes (core/db.py: UTCDateTime). Every page, list, details page
and export renders them through `beijing_minute`: the Jinja filter ``beijing`` (registered
in admin/setup.py) and the default datetime type formatter of every ScopedModelView.
Plain dates (a due date, a received date) are calendar days and print as they are.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

BEIJING = ZoneInfo("Asia/Shanghai")
MINUTE_FORMAT = "%Y-%m-%d %H:%M"


def beijing_minute(value) -> str:
    """'2026-11-30 18:43' for 10:43 UTC; '' for None; a date as YYYY-MM-DD."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        if value.tzinfo is None:  # a naive value from the database is UTC (core/db.py)
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(BEIJING).strftime(MINUTE_FORMAT)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
