"""The announcement window's close as an RQ job; scheduled in queues/schedule.py as the
periodic job "announcement-qualify" (00:10 Beijing, the first minutes after a window's last
day). The work is backoffice/announcement/services.py: 公示期满符合落户条件的，取得年度积分落户资格."""
from __future__ import annotations

from datetime import date

from queues.jobs import DAY, job
from backoffice.announcement.services import grant_due_qualifications


@job(queue="maintenance", timeout=1800, ttl=DAY, result_ttl=DAY, failure_ttl=90 * DAY, backoff=(60, 600, 1800))
def grant_qualifications(day: str | None = None) -> dict:
    """Grant every due qualification; idempotent (a granted application is not granted again).
    `day` (2021-10-22) defaults to today in Beijing."""

    granted = grant_due_qualifications(date.fromisoformat(day) if day else None)
    return {"granted": granted}
