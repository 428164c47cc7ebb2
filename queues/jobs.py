"""RQ jobs: rescore one application, rerank a year, rescore a year.

Each job is declared with its queue (named by purpose), timeout, TTLs and retry backoff
right where it is defined (`@job(...)`), takes ids only, and runs in an app context
created once per worker process; it commits once at the end and rolls back on error.

Idempotence and collapsing (STACK-NOTES: `unique=True` raises DuplicateJobError while
the job's key exists, even after it finished):

* a request's job id is its outbox `job_key` (e.g. ``rescore-42-d17``), enqueued with
  ``unique=True``; a duplicate of a request whose job has not started yet collapses into
  it (that job starts after the duplicate committed, so it sees the same state); a
  duplicate of a job that already started or finished is enqueued again as
  ``<key>-o<outbox id>`` so a later change is never lost, and that job finds nothing new
  and writes no snapshot;
* each job first marks the outbox requests it satisfies (`completed_at`) and only then
  reads the facts: every request committed before that statement is covered by what the
  job reads next, so the marking is never premature;
* a rescore locks its application row first (FOR UPDATE; on SQLite a no-op UPDATE takes
  the write lock), so two jobs for one application run one after the other and the last
  snapshot always reflects the last committed facts.

Reranking is debounced by the relay: each changed rescore writes a ``rank_year`` request,
and the relay schedules it under one job id per year and time window (queues/relay.py).
"""
from __future__ import annotations

import dataclasses
import functools
import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime

from flask import current_app, g
from rq import Queue, Retry
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import func, literal, select, update

from backoffice.applications import scoring_service
from backoffice.applications.models import Application
from backoffice.core.db import utcnow
from backoffice.extensions import db
from backoffice.outbox.models import OutboxMessage
from backoffice.outbox.services import RANK, RESCORE, RESCORE_YEAR, job_key, request_rank
from backoffice.ranking.services import rank_year
from backoffice.settings import Settings

log = logging.getLogger(__name__)

# Queues named by purpose, most urgent first: a worker drains them in this order.
PURPOSES = ("rescore", "rank", "notify", "maintenance")  # notify: notices to applicants (queues/notify.py)

# Statuses in which a job has not begun reading the database: a new request with the
# same key is satisfied by it.
NOT_STARTED = {JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED}


@dataclass(frozen=True)
class JobSpec:
    name: str
    queue: str  # purpose: rescore, rank, maintenance
    timeout: int  # seconds one run may take before the worker kills it
    ttl: int  # seconds it may wait in the queue; a job dropped unrun is redelivered by the relay
    result_ttl: int  # seconds a finished job (and so its id) is kept
    failure_ttl: int  # seconds a failed job is kept for the jobs page and its retry button
    backoff: tuple[int, ...]  # seconds before each retry; needs the worker's scheduler

    def retry(self) -> Retry | None:
        return Retry(max=len(self.backoff), interval=list(self.backoff)) if self.backoff else None

    def options(self) -> dict:
        return dict(job_timeout=self.timeout, ttl=self.ttl, result_ttl=self.result_ttl,
                    failure_ttl=self.failure_ttl, retry=self.retry())


JOBS: dict[str, JobSpec] = {}
DAY = 86400


def job(*, queue: str, timeout: int, ttl: int, result_ttl: int, failure_ttl: int, backoff: tuple[int, ...]):
    """Declare a job: its function runs in an app context and commits once, or rolls back."""
    if queue not in PURPOSES:
        raise ValueError(f"unknown queue {queue!r}; expected one of {PURPOSES}")

    def decorate(fn):
        spec = JobSpec(f"{fn.__module__}.{fn.__name__}", queue, timeout, ttl, result_ttl, failure_ttl, backoff)

        @functools.wraps(fn)
        def run(*args, **kwargs):
            return run_in_app(fn, args, kwargs)

        run.spec = spec
        run.body = fn
        JOBS[spec.name] = spec
        return run

    return decorate


# The app a worker process runs jobs in --------------------------------------------------
# Bound from above: this module sits below the web and command-line layer, so it never builds
# the app itself. `backoffice worker` (queues/worker.py) creates the app once and binds it
# before forking work horses; a process may instead bind a factory, called on first use.
_app = None
_app_factory = None


def bind_app(app, *, factory=None) -> None:
    """Use `app` for jobs in this process, or (app None) the app `factory()` makes when a
    job first needs one. `bind_app(None)` unbinds both."""
    global _app, _app_factory
    _app = app
    _app_factory = factory


def job_app():
    global _app
    if _app is None:
        if _app_factory is None:
            raise RuntimeError("no app bound for jobs in this process: run them with `backoffice worker`, "
                               "or call queues.jobs.bind_app(app) first")
        _app = _app_factory()
    return _app


# After a job commits, the outbox rows it wrote are pushed to Redis at once by the hook the app
# carries (queues/relay.py:init_app puts it in app.extensions); else the relay's next poll does.
OUTBOX_PUSH = "outbox_push"


def run_in_app(fn, args, kwargs):
    app = job_app()
    with app.app_context():
        try:
            result = fn(*args, **kwargs)
            db.session.commit()
        except BaseException:
            db.session.rollback()
            raise
        finally:
            written = list(g.pop("outbox_written", ()))
        push = app.extensions.get(OUTBOX_PUSH)
        if written and push is not None:
            # The rows are committed; push them now rather than at the relay's next poll.
            push(app, written)
    return result


# Names in Redis ---------------------------------------------------------------------------
def _prefix(settings: Settings) -> str:
    return f"{settings.queue_namespace}-" if settings.queue_namespace else ""


def queue_name(settings: Settings, purpose: str) -> str:
    return _prefix(settings) + purpose


def queue_names(settings: Settings) -> tuple[str, ...]:
    return tuple(queue_name(settings, p) for p in PURPOSES)


def job_id_for(settings: Settings, key: str) -> str:
    return _prefix(settings) + key


def submit(connection, settings: Settings, fn, *, key: str, kwargs: dict, again_suffix: str,
           at: datetime | None = None) -> str:
    """Enqueue `fn(**kwargs)` under the id derived from `key`; returns the job id it is in.

    A job with that id that has not started yet absorbs the request; one that has
    started, finished or failed does not (it may have read the database before this
    request's change committed), so the request gets its own job `<key>-<again_suffix>`.
    """
    spec: JobSpec = fn.spec
    queue = Queue(queue_name(settings, spec.queue), connection=connection)
    first = job_id_for(settings, key)
    for job_id in (first, f"{first}-{again_suffix}"[:200]):
        for _attempt in range(2):
            try:
                if at is None:
                    queue.enqueue(fn, kwargs=kwargs, job_id=job_id, unique=True, **spec.options())
                else:
                    queue.enqueue_at(at, fn, kwargs=kwargs, job_id=job_id, unique=True, **spec.options())
                return job_id
            except DuplicateJobError:
                try:
                    status = Job.fetch(job_id, connection=connection).get_status()
                except NoSuchJobError:
                    continue  # it expired in between: try once more
                if status in NOT_STARTED or job_id != first:
                    # Not started yet, or this very request was delivered before (at-least-once).
                    return job_id
                break
    raise RuntimeError(f"could not enqueue {key}")  # pragma: no cover (both ids taken and vanished twice)


# Helpers the jobs share ---------------------------------------------------------------------
def _complete(*criteria) -> int:
    """Mark the open requests this run satisfies; called before the facts are read."""
    now = utcnow()
    t = OutboxMessage.__table__
    result = db.session.execute(
        update(t).where(t.c.completed_at.is_(None), *criteria)
        .values(completed_at=now, delivered_at=func.coalesce(t.c.delivered_at, literal(now, t.c.delivered_at.type)))
    )
    return result.rowcount


def _lock_application(application_id: int) -> int | None:
    """Lock the application's row for this transaction; returns its year (None if absent)."""
    if db.session.get_bind().dialect.name == "sqlite":
        # SQLite has no row locks: a write takes the database's write lock up front, before
        # any read, so concurrent jobs serialise instead of deadlocking on lock upgrades.
        db.session.execute(update(Application).where(Application.id == application_id)
                           .values(id=Application.id))
        return db.session.scalar(select(Application.year).where(Application.id == application_id))
    return db.session.scalar(
        select(Application.year).where(Application.id == application_id).with_for_update()
    )


# The jobs -----------------------------------------------------------------------------------
@job(queue="rescore", timeout=120, ttl=2 * DAY, result_ttl=3600, failure_ttl=90 * DAY,
     backoff=(5, 30, 120, 600, 1800))
def rescore_application(application_id: int, trigger: str = "decision", decision_id: int | None = None) -> dict:
    """Rescore one application; a new snapshot only when something changed, then a rerank."""
    year = _lock_application(application_id)
    t = OutboxMessage.__table__
    _complete(t.c.topic == RESCORE, t.c.application_id == application_id)
    if year is None:
        return {"application_id": application_id, "changed": False, "missing": True}
    snapshot = scoring_service.rescore_application(application_id, trigger=trigger, decision_id=decision_id)
    if snapshot is None:
        return {"application_id": application_id, "changed": False}
    request_rank(year, trigger=f"rescore:{application_id}")
    return {"application_id": application_id, "changed": True, "snapshot_id": snapshot.id,
            "total": str(snapshot.total)}


@job(queue="rank", timeout=600, ttl=DAY, result_ttl=3600, failure_ttl=90 * DAY, backoff=(10, 60, 300))
def rerank_year(year: int) -> dict:
    """Rank a year by total (ties share a rank) and mark who is admitted."""
    t = OutboxMessage.__table__
    _complete(t.c.topic == RANK, t.c.job_key == job_key("rank", year))
    result = rank_year(year)
    return {"year": year, "result": _plain(result)}


RESCORE_CHUNK = 2000


@job(queue="maintenance", timeout=3600, ttl=DAY, result_ttl=DAY, failure_ttl=90 * DAY, backoff=(60, 600))
def rescore_year(year: int, trigger: str = "rule_correction") -> dict:
    """Rescore every application of a year, then rerank it."""
    t = OutboxMessage.__table__
    _complete(t.c.topic == RESCORE_YEAR, t.c.job_key == job_key("rescore_year", year, trigger))
    db.session.commit()
    applications, changed = rescore_year_in_chunks(year, trigger=trigger)
    rank_year(year)
    return {"year": year, "applications": applications, "changed": changed}


def rescore_year_in_chunks(year: int, *, trigger: str, chunk: int = RESCORE_CHUNK,
                           progress=None, processes: int = 1) -> tuple[int, int]:
    """Rescore a year chunk by chunk (the job above and `backoffice rescore`); returns
    (applications, changed).

    Commits per chunk rather than once: one transaction over a whole year would hold every
    application's row lock for the run, stalling the rescoring of new decisions behind it.
    Each chunk is idempotent, so a retry after a partial run finds the committed chunks
    unchanged.

    With `processes` > 1 (PostgreSQL only) the chunks are shared among that many forked
    processes: the engine and JSON work is Python, one core per process.
    """
    ids = list(db.session.scalars(select(Application.id).where(Application.year == year).order_by(Application.id)))
    db.session.commit()
    chunks = [ids[start:start + chunk] for start in range(0, len(ids), chunk)]
    changed = 0
    if processes > 1 and len(chunks) > 1 and db.engine.dialect.name == "postgresql":
        global _pool_app
        _pool_app = current_app._get_current_object()
        db.engine.dispose(close=False)  # no pooled connection crosses the fork
        with ProcessPoolExecutor(max_workers=processes, mp_context=multiprocessing.get_context("fork"),
                                 initializer=_pool_init) as pool:
            futures = [pool.submit(_rescore_chunk, part, trigger) for part in chunks]
            for future in as_completed(futures):
                n, part_changed = future.result()
                changed += part_changed
                if progress is not None:
                    progress(n)
        return len(ids), changed
    for part in chunks:
        changed += _rescore_chunk_here(part, trigger)
        if progress is not None:
            progress(len(part))
    return len(ids), changed


def _rescore_chunk_here(part: list[int], trigger: str) -> int:
    t = OutboxMessage.__table__
    # Open requests of these applications are satisfied by this run (marked before reading).
    _complete(t.c.topic == RESCORE, t.c.application_id.in_(part))
    changed = scoring_service.rescore_many(part, trigger=trigger)
    db.session.commit()
    return changed


_pool_app = None


def _pool_init() -> None:
    with _pool_app.app_context():
        db.engine.dispose(close=False)  # the parent's connections stay the parent's


def _rescore_chunk(part: list[int], trigger: str) -> tuple[int, int]:
    with _pool_app.app_context():
        try:
            return len(part), _rescore_chunk_here(part, trigger)
        except BaseException:
            db.session.rollback()
            raise


def _plain(value):
    """A job result Redis can keep without pickling ORM objects."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    if value is None or isinstance(value, (int, float, str, bool)):
        return value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return str(value)


def enqueue_year_rescore(connection, settings: Settings, year: int, *, trigger: str) -> str:
    """Start a year's rescore on the maintenance queue (the CLI's --enqueue)."""
    suffix = utcnow().strftime("%Y%m%dT%H%M%S")
    return submit(connection, settings, rescore_year, key=job_key("rescore_year", year, trigger),
                  kwargs={"year": year, "trigger": trigger}, again_suffix=suffix)

