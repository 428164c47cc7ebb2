"""The RQ worker: our queues, with the scheduler, the outbox relay, and no inherited
database connections."""
from __future__ import annotations

import ctypes
import dataclasses
import logging
import os
import signal
import socket
import time

from redis.exceptions import RedisError
from rq import Queue, Worker
from rq.scheduler import SCHEDULER_KEY_TEMPLATE, ForkProcess, RQScheduler, run as run_scheduler
from rq.scripts import release_lock

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


_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def die_with_parent(parent_pid: int, sig: int = signal.SIGTERM) -> None:
    """In a forked child: the kernel sends ``sig`` when the parent dies (Linux prctl
    PR_SET_PDEATHSIG), so a worker killed with kill -9 leaves no orphan behind. If the parent
    is already gone (it died between fork and here), exit at once."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the worker's own stop still ends its children
        return
    if os.getppid() != parent_pid:
        os.kill(os.getpid(), sig)


def _scheduler_main(scheduler, parent_pid: int) -> None:
    # SIGTERM: RQ's scheduler stops at its next tick and releases its locks on the way out.
    die_with_parent(parent_pid, signal.SIGTERM)
    run_scheduler(scheduler)


class DyingScheduler(RQScheduler):
    """RQ's scheduler process, bound to the life of the worker that forked it."""

    def start(self):
        self._status = self.Status.STARTED
        self._connection = None  # a Redis connection cannot cross the fork
        self._process = ForkProcess(target=_scheduler_main, args=(self, os.getpid()), name="Scheduler")
        self._process.start()
        return self._process


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# A live scheduler refreshes its lock to interval + 60 s every second; a lock with less than
# this left has not been refreshed for 10 s: its holder is gone.
STALE_LOCK_TTL = 51


def take_over_stale_scheduler_locks(connection, queue_names) -> list[str]:
    """Release scheduler locks whose holder is dead, so this worker's scheduler takes them now
    rather than after the lock lapses (up to 61 s, during which nothing is scheduled): the
    holder is a process of this host that no longer exists, or it stopped refreshing the lock.
    Compare-and-delete: a lock taken meanwhile by a live scheduler is left alone."""
    released = []
    host = socket.gethostname()
    for name in queue_names:
        key = RQScheduler.get_locking_key(name)
        owner = connection.get(key)
        if owner is None:
            continue
        owner = owner.decode() if isinstance(owner, bytes) else owner
        info = {(k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
                for k, v in connection.hgetall(SCHEDULER_KEY_TEMPLATE % owner).items()}
        pid = int(info.get("pid") or 0)
        dead_here = info.get("hostname") == host and pid > 0 and not _alive(pid)
        ttl = connection.ttl(key)
        if dead_here or 0 <= ttl < STALE_LOCK_TTL:
            if release_lock(connection, key, owner):
                log.warning("worker: took over the stale scheduler lock of %s (holder %s, pid %s, ttl %s)",
                            name, owner, pid or "?", ttl)
                released.append(name)
    return released


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

    def run_maintenance_tasks(self):
        # A scheduler to restart: take over what a dead one left first (see below).
        if self.scheduler is not None and (self.scheduler._process is None or not self.scheduler._process.is_alive()):
            try:
                take_over_stale_scheduler_locks(self.connection, [q.name for q in self.queues])
            except RedisError as exc:
                log.warning("worker: could not check scheduler locks (%s)", exc)
        return super().run_maintenance_tasks()

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

    def _start_scheduler(self, burst=False, logging_level="INFO", date_format=None, log_format=None):
        """RQ's own, with a scheduler that dies with this worker, after taking over the locks
        of a scheduler that died without releasing them."""
        from rq.defaults import DEFAULT_LOGGING_DATE_FORMAT, DEFAULT_LOGGING_FORMAT

        take_over_stale_scheduler_locks(self.connection, [q.name for q in self.queues])
        self.scheduler = DyingScheduler(
            self.queues, connection=self.connection,
            logging_level=logging_level if logging_level is not None else self.log.level,
            date_format=date_format or DEFAULT_LOGGING_DATE_FORMAT, log_format=log_format or DEFAULT_LOGGING_FORMAT,
            serializer=self.serializer,
        )
        self.scheduler.acquire_locks()
        if self.scheduler.acquired_locks:
            if burst:
                try:
                    self.scheduler.register_birth()
                    self.scheduler.enqueue_scheduled_jobs()
                finally:
                    self.scheduler.release_locks()
                    self.scheduler.register_death()
            else:
                self.scheduler.start()

    def main_work_horse(self, job, queue):
        # The work horse dies with its worker too (SIGKILL: mid-job, the job's transaction rolls
        # back and the job is retried from the started registry, as for any lost horse).
        die_with_parent(self._parent_pid, signal.SIGKILL)
        return super().main_work_horse(job, queue)

    def fork_work_horse(self, job, queue):
        self._parent_pid = os.getpid()
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
