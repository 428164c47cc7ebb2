"""The outbox relay: committed job requests → RQ, at least once.

Where it runs: a thread inside every `backoffice worker` process (`Relay`), polling the
outbox every half second. It has to live where it notices Redis coming back — a relay that
were itself an RQ job could not run while Redis is down — and beside the workers, so a
deployment that runs workers runs the relay. In addition, the process that committed a
request (a web request, a job) pushes its own rows at once on a best-effort basis
(`push`), so a decision usually reaches Redis milliseconds after it commits.

Delivery: rows are read oldest first, `FOR UPDATE SKIP LOCKED` on PostgreSQL so several
relays share the work without blocking each other; on SQLite the relay's transaction
starts with `BEGIN IMMEDIATE`, so relays take turns. Each row is enqueued (queues.jobs.submit
collapses duplicates) and marked delivered in the same transaction. While Redis is
unreachable the rows stay undelivered: `attempts` and `last_error` say why, nothing
fails for the person who made the decision, and the relay backs off up to 5 s. A row
delivered twice (a crash between enqueue and commit) lands in the same job.

`redeliver_lost` covers a Redis that came back without its data: a row delivered long ago,
not completed, whose job no longer exists, is delivered again.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import redis
from flask import g
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry
from rq.job import Job
from sqlalchemy import bindparam, create_engine, event, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from backoffice.core.db import utcnow
from backoffice.extensions import db
from backoffice.outbox.models import OutboxMessage
from backoffice.outbox.services import RANK, RESCORE, RESCORE_YEAR, job_key
from backoffice.settings import Settings
from queues import jobs
from queues.connection import redis_url
from queues.schedule import enqueue_due
from queues.notify import deliver_notice

log = logging.getLogger(__name__)

# A burst of rank requests for one year within this window becomes one rank job, run at
# the window's end (so after every rescore whose request it absorbed has committed). Ranking
# 120 000 applications takes seconds, during which a lone worker rescores nothing: ranks may
# lag decisions by half a minute, totals do not.
RANK_DEBOUNCE_SECONDS = 30
BATCH = 200
LOST_AFTER = timedelta(minutes=10)

_T = OutboxMessage.__table__


# Connections of the relay: its own engine and Redis client, per process -------------------
_engines: dict[tuple[int, str], Engine] = {}
_clients: dict[tuple[int, str], redis.Redis] = {}
_lock = threading.Lock()
# Held by the relay thread while it has a database connection open, and by the worker while it
# forks a work horse: a child forked while this process holds an SQLite lock inherits SQLite's
# per-process lock bookkeeping and finds the database "locked" by a connection it cannot
# release (SQLite: never carry an open connection across fork()).
FORK_GUARD = threading.Lock()


def _after_fork_in_child() -> None:
    # The relay thread may hold the lock at the instant a work horse is forked; the child
    # has no such thread and must start with a free lock. The parent's engines and clients
    # stay referenced (never used here: they are keyed by pid), so that no garbage collection
    # in the child closes a socket the parent still uses.
    global _lock, FORK_GUARD
    _lock = threading.Lock()
    FORK_GUARD = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)


def relay_engine(settings: Settings) -> Engine:
    """An engine of the relay's own, apart from the app's pool (which the worker disposes
    before each fork, and which request threads use)."""
    key = (os.getpid(), settings.database_url)
    with _lock:
        engine = _engines.get(key)
        if engine is None:
            if settings.database_url.startswith("sqlite"):
                engine = create_engine(settings.database_url, poolclass=NullPool)
                _sqlite_immediate(engine)
            else:
                engine = create_engine(settings.database_url, pool_size=2, max_overflow=2, pool_pre_ping=True)
            _engines[key] = engine
        return engine


def peek_engine(settings: Settings) -> Engine:
    """For the relay's cheap "anything to deliver?" look before it takes SQLite's write lock
    (a poll twice a second must not queue behind, or hold up, every web request)."""
    if not settings.database_url.startswith("sqlite"):
        return relay_engine(settings)
    key = (os.getpid(), "peek:" + settings.database_url)
    with _lock:
        engine = _engines.get(key)
        if engine is None:
            engine = _engines[key] = create_engine(settings.database_url, poolclass=NullPool)
        return engine


def has_undelivered(engine: Engine) -> bool:
    with engine.connect() as conn:
        return conn.execute(
            select(_T.c.id).where(_T.c.delivered_at.is_(None), _T.c.completed_at.is_(None)).limit(1)
        ).first() is not None


def _sqlite_immediate(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection):
        # Take the write lock first: a read lock upgraded later can fail at once (SQLITE_BUSY).
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def relay_client(settings: Settings, url: str | None = None) -> redis.Redis:
    """A Redis client that gives up quickly: the relay must notice an outage, not hang in it."""
    url = url or redis_url(settings)
    key = (os.getpid(), url)
    with _lock:
        client = _clients.get(key)
        if client is None:
            # No client-side retries (redis-py's default backs off for seconds): the relay loop
            # retries, and a page showing the queues should say "unreachable" at once.
            client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=3,
                                          retry=Retry(NoBackoff(), 0))
            _clients[key] = client
        return client


# Delivery -----------------------------------------------------------------------------------
@dataclass
class Report:
    delivered: int = 0
    waiting: int = 0  # rows left undelivered by a Redis error
    error: str | None = None
    job_ids: dict[int, str] = field(default_factory=dict)


def send(connection, settings: Settings, row, now: datetime) -> str:
    """Enqueue one outbox row's job; returns the job id it is in."""
    payload = row.payload or {}
    if row.topic == RESCORE:
        kwargs = {"application_id": int(payload["application_id"]), "trigger": payload.get("trigger") or "request",
                  "decision_id": payload.get("decision_id")}
        return jobs.submit(connection, settings, jobs.rescore_application, key=row.job_key, kwargs=kwargs,
                           again_suffix=f"o{row.id}")
    if row.topic == RANK:
        year = int(payload["year"])
        window = int(now.timestamp()) // RANK_DEBOUNCE_SECONDS
        at = datetime.fromtimestamp((window + 1) * RANK_DEBOUNCE_SECONDS, timezone.utc)
        return jobs.submit(connection, settings, jobs.rerank_year, key=job_key("rank", year, f"w{window}"),
                           kwargs={"year": year}, again_suffix=f"o{row.id}", at=at)
    if row.topic == RESCORE_YEAR:
        return jobs.submit(connection, settings, jobs.rescore_year, key=row.job_key,
                           kwargs={"year": int(payload["year"]), "trigger": payload.get("trigger") or "request"},
                           again_suffix=f"o{row.id}")
    if row.topic == "deliver_notice":  # notices to applicants (queues/notify.py)

        return jobs.submit(connection, settings, deliver_notice, key=row.job_key,
                           kwargs={"notice_id": int(payload["notice_id"])}, again_suffix=f"o{row.id}")
    raise ValueError(f"unknown outbox topic {row.topic!r}")


def deliver(engine: Engine, connection, settings: Settings, *, ids=None, limit: int = BATCH,
            now: datetime | None = None) -> Report:
    """Deliver up to `limit` undelivered rows (only `ids`, when given); one transaction."""
    report = Report()
    now = now or utcnow()
    with engine.begin() as conn:
        stmt = (
            select(_T.c.id, _T.c.topic, _T.c.payload, _T.c.job_key)
            .where(_T.c.delivered_at.is_(None), _T.c.completed_at.is_(None))
            .order_by(_T.c.id)
            .limit(limit)
        )
        if ids is not None:
            stmt = stmt.where(_T.c.id.in_(list(ids)))
        if conn.dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        rows = conn.execute(stmt).all()
        failed: dict[int, str] = {}
        for index, row in enumerate(rows):
            try:
                report.job_ids[row.id] = send(connection, settings, row, now)
            except RedisError as exc:
                report.error = f"{type(exc).__name__}: {exc}"
                report.waiting = len(rows) - index
                for waiting in rows[index:]:
                    failed[waiting.id] = report.error
                break
            except Exception as exc:  # a bad row must not hold up the others
                log.exception("outbox row %s could not be delivered", row.id)
                failed[row.id] = f"{type(exc).__name__}: {exc}"
        if report.job_ids:
            conn.execute(
                update(_T).where(_T.c.id == bindparam("row_id"))
                .values(delivered_at=now, job_id=bindparam("jid"), last_error=None),
                [{"row_id": rid, "jid": jid} for rid, jid in report.job_ids.items()],
            )
        if failed:
            conn.execute(
                update(_T).where(_T.c.id == bindparam("row_id"))
                .values(attempts=_T.c.attempts + 1, last_error=bindparam("err")),
                [{"row_id": rid, "err": err[:1000]} for rid, err in failed.items()],
            )
    report.delivered = len(report.job_ids)
    return report


def redeliver_lost(engine: Engine, connection, *, older_than: timedelta = LOST_AFTER,
                   now: datetime | None = None, limit: int = 500) -> int:
    """Rows delivered before `older_than` whose job is gone from Redis (it lost its data, or
    the job's TTL ran out unrun) go back to undelivered. Failed jobs stay: they wait on the
    jobs page for an administrator's retry."""
    now = now or utcnow()
    with engine.begin() as conn:
        rows = conn.execute(
            select(_T.c.id, _T.c.job_id)
            .where(_T.c.completed_at.is_(None), _T.c.delivered_at < now - older_than, _T.c.job_id.is_not(None))
            .order_by(_T.c.id).limit(limit)
        ).all()
        lost = [r.id for r in rows if not Job.exists(r.job_id, connection=connection)]
        if lost:
            conn.execute(
                update(_T).where(_T.c.id.in_(lost))
                .values(delivered_at=None, job_id=None, last_error="job lost from Redis; delivered again")
            )
    if lost:
        log.warning("outbox: %d delivered requests had lost their jobs; delivering them again", len(lost))
    return len(lost)


def push(app, ids) -> None:
    """Best effort, right after the transaction that wrote `ids` committed: deliver them now.
    Any failure leaves them to the relay."""
    settings: Settings = app.config["BACKOFFICE"]
    if not ids or not settings.redis_url:
        return  # no configured Redis in this process (tests, or the embedded one not started here)

    try:
        with app.app_context():  # the app's own pool: a work horse is already connected
            deliver(db.engine, relay_client(settings), settings, ids=ids)
    except (RedisError, SQLAlchemyError, OSError) as exc:
        log.info("outbox: immediate push failed (%s); the relay will deliver", exc)


def init_app(app) -> None:
    """After a request that wrote outbox rows has committed and its response is sent,
    push those rows (the request commits in app.py's after_request); jobs run in this app
    push theirs after their commit too (queues/jobs.py:run_in_app)."""
    app.extensions[jobs.OUTBOX_PUSH] = push

    @app.after_request
    def _push_after_response(response):
        ids = g.pop("outbox_written", None)
        if ids and response.status_code < 400 and app.config.get("OUTBOX_PUSH", not app.testing):
            the_app = app
            response.call_on_close(lambda: push(the_app, ids))
        return response


# The loop in the worker process ---------------------------------------------------------------
class Relay(threading.Thread):
    """Delivers the outbox while the worker runs; also enqueues due periodic jobs."""

    def __init__(self, settings: Settings, *, interval: float = 0.5, max_backoff: float = 5.0,
                 reconcile_every: float = 60.0, lost_after: timedelta = LOST_AFTER):
        super().__init__(name="outbox-relay", daemon=True)
        self.settings = settings
        self.interval = interval
        self.max_backoff = max_backoff
        self.reconcile_every = reconcile_every
        self.lost_after = lost_after
        self.stopped = threading.Event()
        self.outage: str | None = None

    def stop(self) -> None:
        self.stopped.set()

    def run(self) -> None:
        engine = relay_engine(self.settings)
        peek = peek_engine(self.settings)
        client = relay_client(self.settings)
        wait = 0.0
        next_reconcile = time.monotonic() + self.reconcile_every
        while not self.stopped.wait(wait):
            try:
                with FORK_GUARD:
                    report = deliver(engine, client, self.settings) if has_undelivered(peek) else Report()
                    if report.error:
                        raise RedisError(report.error)
                    enqueue_due(client, self.settings)
                    if time.monotonic() >= next_reconcile:
                        redeliver_lost(engine, client, older_than=self.lost_after)
                        next_reconcile = time.monotonic() + self.reconcile_every
                if self.outage:
                    log.warning("outbox relay: Redis is back (it was: %s)", self.outage)
                    self.outage = None
                wait = 0.0 if report.delivered >= BATCH else self.interval
            except RedisError as exc:
                if not self.outage:
                    log.warning("outbox relay: Redis unreachable, requests wait in the outbox: %s", exc)
                self.outage = str(exc)
                wait = min(max(wait * 2, self.interval), self.max_backoff)
            except SQLAlchemyError as exc:
                log.warning("outbox relay: database error, retrying: %s", exc)
                wait = min(max(wait * 2, self.interval), self.max_backoff)
            except Exception:  # the loop must survive anything; the next tick tries again
                log.exception("outbox relay: unexpected error")
                wait = self.max_backoff
