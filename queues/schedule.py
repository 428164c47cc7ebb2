"""Periodic jobs, declared as data with stable ids.

To add one: define the job with `queues.jobs.job(...)` (queue, timeout, TTLs, backoff —
the job takes only plain keyword arguments), then add a `Periodic` line to `PERIODIC`:

    Periodic("daily-sweep", "queues.sweep.daily_sweep", cron="30 6 * * *")

`cron` is read in Beijing time (Asia/Shanghai). Every worker's relay loop calls
`enqueue_due` about twice a second; each slot becomes the job `periodic-<id>-<slot>`
(e.g. ``periodic-daily-sweep-20210416T0630``), enqueued with `unique=True` and kept at least
until the next slot, so however many workers run, each slot runs once. A worker that was
down at slot time enqueues the latest missed slot when it starts (once), not every missed one.

Why not rq's own cron (`rq cron`, rq.cron.CronScheduler, rq ≥ 2.5): it is one more
process to run, and two of them enqueue every job twice; here the slot's job id makes the
workers agree, and the relay loop that already runs in every worker drives it.
"""
from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from croniter import croniter
from redis.exceptions import RedisError
from rq import Queue
from rq.exceptions import DuplicateJobError

from backoffice.outbox.services import job_key
from backoffice.settings import Settings
from queues.jobs import job_id_for, queue_name

log = logging.getLogger(__name__)
BEIJING = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class Periodic:
    id: str  # stable, [A-Za-z0-9_-]: part of every job id this produces
    func: str  # dotted path of a function declared with queues.jobs.job
    cron: str  # five-field cron expression, Beijing time
    kwargs: dict = field(default_factory=dict)

    def __post_init__(self):
        if job_key(self.id) != self.id:
            raise ValueError(f"periodic id {self.id!r} may only use A-Z a-z 0-9 _ -")
        if not croniter.is_valid(self.cron):
            raise ValueError(f"periodic {self.id}: bad cron expression {self.cron!r}")


# The periodic jobs of the back office. Ids are stable: renaming one starts a new series.
PERIODIC: tuple[Periodic, ...] = (
    # 06:30 Beijing, before the windows open: the day's backlog row and the escalation lists
    # (backoffice/turnaround/sweep.py); idempotent for a day, so a re-run changes nothing.
    Periodic("daily-sweep", "queues.sweep.daily_sweep", cron="30 6 * * *"),
    # 00:10 Beijing: listed applications of a year whose 7-day announcement ended yesterday
    # (or earlier) and that are not revoked and have no open tip 取得年度积分落户资格
    # (backoffice/announcement/services.py); idempotent, so a re-run grants nobody twice.
    Periodic("announcement-qualify", "queues.announcement.grant_qualifications", cron="10 0 * * *"),
)


def _function(path: str):
    module, _, name = path.rpartition(".")
    fn = getattr(importlib.import_module(module), name)
    if not hasattr(fn, "spec"):
        raise TypeError(f"{path} is not declared with queues.jobs.job")
    return fn


def slot_of(periodic: Periodic, now: datetime) -> tuple[datetime, datetime]:
    """The latest slot at or before `now` and the next one after it (Beijing time)."""
    local = now.astimezone(BEIJING)
    prev = croniter(periodic.cron, local + timedelta(seconds=1)).get_prev(datetime)
    nxt = croniter(periodic.cron, local).get_next(datetime)
    return prev, nxt


def enqueue_due(connection, settings: Settings, now: datetime | None = None,
                periodic: tuple[Periodic, ...] | None = None) -> list[str]:
    """Enqueue each periodic job's current slot unless some worker already did; returns new job ids."""
    now = now or datetime.now(BEIJING)
    created = []
    for p in PERIODIC if periodic is None else periodic:
        slot, nxt = slot_of(p, now)
        job_id = job_id_for(settings, f"periodic-{p.id}-{slot:%Y%m%dT%H%M}")
        fn = _function(p.func)
        options = fn.spec.options()
        # Keep the slot's id until after the next slot, so a later tick cannot run it again.
        options["result_ttl"] = max(options["result_ttl"], int((nxt - now).total_seconds()) + 3600)
        queue = Queue(queue_name(settings, fn.spec.queue), connection=connection)
        try:
            queue.enqueue(fn, kwargs=dict(p.kwargs), job_id=job_id, unique=True,
                          meta={"periodic": p.id, "slot": slot.isoformat()}, **options)
        except DuplicateJobError:
            continue
        except RedisError:
            raise
        log.info("periodic %s: enqueued slot %s as %s", p.id, slot.isoformat(), job_id)
        created.append(job_id)
    return created
