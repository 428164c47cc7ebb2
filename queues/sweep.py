"""The daily sweep as an RQ job; scheduled in queues/schedule.py as the periodic job
"daily-sweep" (06:30 Beijing, before the windows open: supervisors see the escalation
list and the day's backlog every morning). The work is backoffice/turnaround/sweep.py."""
from __future__ import annotations

from datetime import date

from backoffice.turnaround.sweep import sweep
from queues.jobs import DAY, job


@job(queue="maintenance", timeout=900, ttl=DAY, result_ttl=DAY, failure_ttl=90 * DAY, backoff=(60, 600, 1800))
def daily_sweep(day: str | None = None) -> dict:
    """Record the day's backlog and update the escalation lists; idempotent for a day.
    `day` (2021-10-18) defaults to today in Beijing."""
    result = sweep(date.fromisoformat(day) if day else None)
    return {"day": result.day.isoformat(), "backlog_rows": result.backlog_rows, "open_cases": result.open_cases,
            "escalated": result.escalated, "resolved": result.resolved}
