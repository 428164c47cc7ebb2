"""RQ jobs: rescore one application, rerank a year, rescore a year (fanned out in chunks).

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
* a rescore locks its application row first (FOR NO KEY UPDATE; on SQLite a no-op UPDATE
  takes the write lock), so two jobs for one application run one after the other and the last
  snapshot always reflects the last committed facts.

Reranking is debounced by the relay: each changed rescore writes a ``rank_year`` request,
and the relay schedules it under one job id per year and time window (queues/relay.py).

A year's rescore (``rescore_year``, ``backoffice rescore --enqueue``) is fanned out
(``fan_out_year``): one ``rescore_chunk`` job per 2 000 applications on the ``bulk`` queue,
taken by any worker on any host, and one ``rerank_year`` job that depends on all of them
(enqueued by RQ when the last chunk finishes). ``year_progress`` reads how far a run got
from its chunks' statuses and results.
"""
from __future__ import annotations

import dataclasses
import functools
import json
import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime

from flask import current_app, g
from rq import Queue, Retry, get_current_job
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

# Queues named by purpose, most urgent first: a worker drains them in this order (RQ takes the
# next job from the first non-empty queue of its list). "rescore" holds only single rescores
# (one application, after a decision, an intake, an appeal): a decision never waits behind a
# year's chunks or a ranking that has not started yet. "bulk" holds the chunks of a year's
# rescore (rescore_chunk), which any worker on any host takes; notify: notices to applicants
# (queues/notify.py).
PURPOSES = ("rescore", "rank", "notify", "bulk", "maintenance")

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
    """Every queue, most urgent first: the order a worker is given them in (`backoffice worker`)."""
    return tuple(queue_name(settings, p) for p in PURPOSES)


def worker_queues(settings: Settings, connection) -> list[Queue]:
    return [Queue(name, connection=connection) for name in queue_names(settings)]


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
    # FOR NO KEY UPDATE, not FOR UPDATE: it excludes another rescore of the application alike,
    # but not the FOR KEY SHARE that a ranking's INSERT into application_ranks holds on the
    # applications it ranks until it commits (the foreign key), so a decision's rescore never
    # waits behind a ranking (issue 18 §2). The rescore changes no key of the row.
    return db.session.scalar(
        select(Application.year).where(Application.id == application_id).with_for_update(key_share=True)
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
YEAR_RUNS_KEPT = 20  # year rescores listed on the jobs page (and kept for `backoffice rescore --progress`)


@job(queue="maintenance", timeout=600, ttl=DAY, result_ttl=7 * DAY, failure_ttl=90 * DAY, backoff=(60, 600))
def rescore_year(year: int, trigger: str = "rule_correction") -> dict:
    """Rescore every application of a year, then rerank it: fanned out as chunk jobs on the bulk
    queue, which any worker on any host takes, and a ranking that waits for all of them
    (`fan_out_year`). Returns the run's description; its progress is read from the chunks."""
    t = OutboxMessage.__table__
    _complete(t.c.topic == RESCORE_YEAR, t.c.job_key == job_key("rescore_year", year, trigger))
    db.session.commit()
    settings = current_app.config["BACKOFFICE"]
    return fan_out_year(get_current_job().connection, settings, year, trigger=trigger)


@job(queue="bulk", timeout=1800, ttl=7 * DAY, result_ttl=7 * DAY, failure_ttl=90 * DAY, backoff=(10, 60, 300))
def rescore_chunk(year: int, first_id: int, last_id: int, trigger: str = "rule_correction") -> dict:
    """Rescore the applications of `year` with ids first_id … last_id (one chunk of a year's run);
    its own transaction, idempotent, so a failed chunk is retried alone (RQ Retry, then the jobs
    page's button) and a retry after a partial run finds nothing left to write."""
    ids = list(db.session.scalars(
        select(Application.id).where(Application.year == year, Application.id.between(first_id, last_id))
        .order_by(Application.id)))
    # End the read transaction before writing: on SQLite a read transaction that then writes
    # must upgrade its lock, and two chunk jobs doing so at once fail with "database is locked"
    # instead of waiting for each other (PostgreSQL does not mind).
    db.session.commit()
    changed = _rescore_chunk_here(ids, trigger) if ids else 0
    return {"year": year, "first_id": first_id, "last_id": last_id, "applications": len(ids), "changed": changed}


def _rank_job_id(run_id: str) -> str:
    return f"{run_id}-rank"


def fan_out_year(connection, settings: Settings, year: int, *, trigger: str, chunk: int = RESCORE_CHUNK) -> dict:
    """Enqueue a year's rescore as chunk jobs (bulk queue) and its ranking as one job that depends
    on all of them (RQ `depends_on` a list: it is enqueued once, when the last chunk finishes;
    a chunk that fails for good keeps it deferred until the chunk is retried and succeeds).
    Returns the run: its id, the year, the chunk job ids and the ranking's job id; the run is
    listed in Redis for the jobs page and `backoffice rescore --progress`."""
    ids = list(db.session.scalars(select(Application.id).where(Application.year == year).order_by(Application.id)))
    db.session.commit()
    run_id = job_id_for(settings, f"rescore-year-{year}-{utcnow().strftime('%Y%m%dT%H%M%S%f')}")
    bulk = Queue(queue_name(settings, rescore_chunk.spec.queue), connection=connection)
    chunks = []
    for n, start in enumerate(range(0, len(ids), chunk)):
        part = ids[start:start + chunk]
        chunks.append(bulk.enqueue(
            rescore_chunk, kwargs={"year": year, "first_id": part[0], "last_id": part[-1], "trigger": trigger},
            job_id=f"{run_id}-c{n:04d}", **rescore_chunk.spec.options()))
    rank = Queue(queue_name(settings, rerank_year.spec.queue), connection=connection)
    rank_job = rank.enqueue(rerank_year, kwargs={"year": year}, job_id=_rank_job_id(run_id),
                            depends_on=chunks or None, **rerank_year.spec.options())
    run = {"run_id": run_id, "year": year, "trigger": trigger, "applications": len(ids),
           "chunks": [j.id for j in chunks], "rank_job": rank_job.id}
    key = _runs_key(settings)
    pipe = connection.pipeline()
    pipe.set(f"{key}:{run_id}", json.dumps(run), ex=7 * DAY)
    pipe.lpush(key, run_id)
    pipe.ltrim(key, 0, YEAR_RUNS_KEPT - 1)
    pipe.execute()
    return run


def _runs_key(settings: Settings) -> str:
    return _prefix(settings) + "backoffice-year-rescores"


@dataclass
class YearProgress:
    run_id: str
    year: int
    applications: int  # of the year when the run started
    chunks: int
    finished: int  # chunks done
    failed: int  # chunks failed for good (waiting on the jobs page's retry)
    retrying: int  # chunks failed once, scheduled to run again
    done: int  # applications rescored by the finished chunks (their results)
    changed: int  # new snapshots written by them
    rank_status: str  # deferred (waiting for the chunks), queued, started, finished, failed
    ranking: dict | None  # the ranking's result once finished

    @property
    def complete(self) -> bool:
        return self.rank_status == JobStatus.FINISHED.value


def year_runs(connection, settings: Settings) -> list[str]:
    return [r.decode() if isinstance(r, bytes) else r for r in connection.lrange(_runs_key(settings), 0, -1)]


def year_progress(connection, settings: Settings, run_id: str) -> YearProgress | None:
    """A year's rescore as far as it got, read from its chunk jobs' statuses and results."""
    raw = connection.get(f"{_runs_key(settings)}:{run_id}")
    if raw is None:
        return None
    run = json.loads(raw)
    finished = failed = retrying = done = changed = 0
    for chunk_job in Job.fetch_many(run["chunks"], connection=connection):
        if chunk_job is None:
            continue
        status = chunk_job.get_status(refresh=False)
        if status == JobStatus.FINISHED:
            finished += 1
            result = chunk_job.return_value() or {}
            done += int(result.get("applications", 0))
            changed += int(result.get("changed", 0))
        elif status == JobStatus.FAILED:
            failed += 1
        elif status == JobStatus.SCHEDULED:
            retrying += 1
    try:
        rank_job = Job.fetch(run["rank_job"], connection=connection)
        rank_status = rank_job.get_status(refresh=False)
        ranking = rank_job.return_value() if rank_status == JobStatus.FINISHED else None
        rank_status = rank_status.value if rank_status is not None else "expired"
    except NoSuchJobError:
        rank_status, ranking = "expired", None
    return YearProgress(run_id, run["year"], run["applications"], len(run["chunks"]), finished, failed, retrying,
                        done, changed, rank_status, ranking)


def rescore_year_in_chunks(year: int, *, trigger: str, chunk: int = RESCORE_CHUNK,
                           progress=None, processes: int = 1) -> tuple[int, int]:
    """Rescore a year chunk by chunk on this machine (`backoffice rescore`; the job path fans the
    chunks out over RQ instead, `fan_out_year`); returns (applications, changed).

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
    """Start a year's rescore through a job on the maintenance queue, which fans it out
    (`rescore_year`); the CLI's --enqueue calls `fan_out_year` itself."""
    suffix = utcnow().strftime("%Y%m%dT%H%M%S")
    return submit(connection, settings, rescore_year, key=job_key("rescore_year", year, trigger),
                  kwargs={"year": year, "trigger": trigger}, again_suffix=suffix)

