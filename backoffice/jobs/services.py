"""What the jobs page shows and the one thing it changes (retrying a failed job).

Reads Redis through RQ's registries and the outbox through the database; when Redis is
unreachable the page still shows the outbox, which is where requests wait meanwhile.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from redis.exceptions import RedisError
from rq import Queue, Worker
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job
from rq.results import Result
from sqlalchemy import func, select

from backoffice.audit.services import record
from backoffice.extensions import db
from backoffice.outbox.models import OutboxMessage
from backoffice.settings import Settings
from queues.jobs import PURPOSES, YearProgress, queue_name, year_progress, year_runs
from backoffice.i18n import _

FAILED_SHOWN = 50


@dataclass
class FailedJob:
    id: str
    queue: str
    func: str
    kwargs: dict
    ended_at: datetime | None
    traceback: str


@dataclass
class QueueFigures:
    purpose: str
    name: str
    queued: int = 0
    started: int = 0
    scheduled: int = 0
    deferred: int = 0
    failed: int = 0
    finished: int = 0
    failed_jobs: list[FailedJob] = field(default_factory=list)


@dataclass
class WorkerFigures:
    name: str
    state: str
    current_job: str | None
    last_heartbeat: datetime | None
    # A worker's decision lane (queues/worker.py): it serves the rescore queue alone.
    lane: bool = False


@dataclass
class Overview:
    queues: list[QueueFigures]
    workers: list[WorkerFigures]
    redis_error: str | None = None


def _traceback(job: Job) -> str:
    result = job.latest_result()
    if result is not None and result.type == Result.Type.FAILED and result.exc_string:
        return result.exc_string
    return job._exc_info or ""


def overview(connection, settings: Settings) -> Overview:
    figures = []
    names = {}
    try:
        for purpose in PURPOSES:
            name = queue_name(settings, purpose)
            names[name] = purpose
            queue = Queue(name, connection=connection)
            q = QueueFigures(
                purpose=purpose, name=name, queued=queue.count,
                started=queue.started_job_registry.count, scheduled=queue.scheduled_job_registry.count,
                deferred=queue.deferred_job_registry.count, failed=queue.failed_job_registry.count,
                finished=queue.finished_job_registry.count,
            )
            ids = queue.failed_job_registry.get_job_ids(0, FAILED_SHOWN - 1, desc=True)
            for job in Job.fetch_many(ids, connection=connection):
                if job is None:
                    continue
                q.failed_jobs.append(FailedJob(job.id, purpose, job.func_name, dict(job.kwargs or {}),
                                               job.ended_at, _traceback(job)))
            figures.append(q)
        workers = []
        for worker in Worker.all(connection=connection):
            if not set(worker.queue_names()) & set(names):
                continue
            workers.append(WorkerFigures(worker.name, str(worker.get_state()), worker.get_current_job_id(),
                                         worker.last_heartbeat,
                                         lane=worker.queue_names() == [queue_name(settings, "rescore")]))
        return Overview(figures, workers)
    except RedisError as exc:
        return Overview([QueueFigures(p, queue_name(settings, p)) for p in PURPOSES], [],
                        redis_error=f"{type(exc).__name__}: {exc}")


def year_rescores(connection, settings: Settings) -> list[YearProgress]:
    """The latest year rescores fanned out over RQ, each with its progress (from its chunks'
    results); empty when Redis is unreachable (the queues' table says so)."""
    try:
        return [p for p in (year_progress(connection, settings, run) for run in year_runs(connection, settings))
                if p is not None]
    except RedisError:
        return []


@dataclass
class Backlog:
    undelivered: int
    oldest_undelivered: datetime | None
    in_flight: int  # delivered, not yet completed by a job
    with_errors: list[OutboxMessage]


def outbox_backlog() -> Backlog:
    t = OutboxMessage
    undelivered, oldest = db.session.execute(
        select(func.count(), func.min(t.created_at))
        .where(t.delivered_at.is_(None), t.completed_at.is_(None))
    ).one()
    in_flight = db.session.scalar(
        select(func.count()).where(t.delivered_at.is_not(None), t.completed_at.is_(None))
    )
    errors = list(db.session.scalars(
        select(t).where(t.completed_at.is_(None), t.last_error.is_not(None)).order_by(t.id.desc()).limit(20)
    ))
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=timezone.utc)
    return Backlog(undelivered or 0, oldest, in_flight or 0, errors)


class RetryRefused(ValueError):
    pass


def retry_failed(connection, settings: Settings, purpose: str, job_id: str, *, actor=None) -> Job:
    """Put a failed job back on its queue; audited in the caller's transaction."""
    if purpose not in PURPOSES:
        raise RetryRefused(f"unknown queue {purpose!r}")
    queue = Queue(queue_name(settings, purpose), connection=connection)
    try:
        job = queue.failed_job_registry.requeue(job_id)
    except (NoSuchJobError, InvalidJobOperation):
        raise RetryRefused(_("该任务不在失败列表中（可能已重试）")) from None
    record("job.retried", "rq_job", job_id, actor=actor,
           after={"queue": purpose, "func": job.func_name, "kwargs": dict(job.kwargs or {})})
    return job
