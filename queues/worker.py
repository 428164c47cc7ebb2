"""The RQ worker: our queues, with the scheduler, the outbox relay, and no inherited
database connections."""
from __future__ import annotations

import dataclasses
import logging
import time

from redis.exceptions import RedisError
from rq import Queue, Worker

# What jobs use, loaded here once: a work horse forked from this process starts with them.
import backoffice.applications.scoring_service  # noqa: F401
import backoffice.ranking.services  # noqa: F401
import queues.relay
import queues.schedule
from backoffice.app import create_app
from backoffice.extensions import db
from backoffice.settings import Settings
from queues.connection import connect, redis_url
from queues.jobs import bind_app, queue_names
from queues.relay import Relay

log = logging.getLogger(__name__)


class BackofficeWorker(Worker):
    """Disposes the parent's database pool before forking a work horse: a forked
    child must never reuse the parent's sockets (SQLAlchemy docs, "Using
    Connection Pools with Multiprocessing")."""

    # Redis away: retry the connection at most every 5 s (rq's default grows to 60 s), so
    # work resumes soon after Redis returns.
    max_connection_wait_time = 5.0

    @property
    def dequeue_timeout(self) -> int:
        # Wake every 10 s when idle (rq: 405 s), so a dead scheduler is noticed (below).
        return 10

    @property
    def should_run_maintenance_tasks(self) -> bool:
        # RQ's scheduler process exits when Redis goes away under it, and rq restarts it only
        # in its 10-minutely maintenance; retries with backoff and the debounced reranks
        # would wait that long. Restart it at the next wake-up instead.
        scheduler = self.scheduler
        if scheduler is not None and self.last_cleaned_at is not None and not self._stop_requested and (
                scheduler._process is None or not scheduler._process.is_alive()):
            return True
        return super().should_run_maintenance_tasks

    def fork_work_horse(self, job, queue):
        # Looked up now, not imported: a forked process gets a fresh lock (queues/relay.py).
        with queues.relay.FORK_GUARD:  # never fork while the relay thread has the database open
            app = getattr(self, "flask_app", None)
            if app is not None:
                with app.app_context():
                    db.engine.dispose(close=False)
            return super().fork_work_horse(job, queue)


def _wait_for_redis(connection, max_wait: float = 5.0) -> None:
    """A worker started while Redis is down waits for it (rq would exit at registration);
    its relay thread meanwhile records why requests are waiting."""
    wait = 0.5
    while True:
        try:
            connection.ping()
            return
        except (RedisError, OSError) as exc:
            log.warning("worker: Redis unreachable (%s); retrying in %.1f s", exc, wait)
            time.sleep(wait)
            wait = min(wait * 2, max_wait)


def prepare(settings: Settings):
    """Settings with the Redis URL resolved (the embedded server started if needed), and the
    app jobs run in, created once in this process and inherited by every work horse."""
    settings = dataclasses.replace(settings, redis_url=redis_url(settings))
    app = create_app(settings)
    bind_app(app)
    # What jobs use is imported at the top of this module, so a work horse starts with it.
    for periodic in queues.schedule.PERIODIC:
        queues.schedule._function(periodic.func)
    return settings, app


def run_worker(settings: Settings, *, burst: bool = False, relay: bool = True,
               worker_class: type[Worker] = BackofficeWorker, name: str | None = None) -> bool:
    """Work the queues until told to stop (SIGTERM/SIGINT), with the outbox relay beside.

    rq's worker quits when Redis vanishes in the middle of a job; this one waits for Redis
    and starts working again, so an outage never needs a person to restart workers.
    """
    settings, app = prepare(settings)
    connection = connect(settings)
    relay_thread = None
    if relay:
        relay_thread = Relay(settings)
        relay_thread.start()
    try:
        while True:
            _wait_for_redis(connection)
            worker = worker_class([Queue(q, connection=connection) for q in queue_names(settings)],
                                  connection=connection, name=name)
            worker.flask_app = app
            try:
                worked = worker.work(with_scheduler=True, burst=burst)
            except (RedisError, OSError) as exc:  # rq's teardown talks to the Redis that just left
                log.warning("worker: lost Redis (%s)", exc)
                worked = False
            # A stop was asked for (SIGTERM/SIGINT): rq records it as a shutdown request date.
            if burst or worker._stop_requested or worker._shutdown_requested_date is not None:
                return worked
            log.warning("worker: stopped without being asked to (Redis lost?); starting again")
            time.sleep(1)
    finally:
        if relay_thread is not None:
            relay_thread.stop()
