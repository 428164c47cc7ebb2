"""The RQ worker: our queues, with the scheduler, the outbox relay, the decision lane, and
no inherited database connections."""
from __future__ import annotations

import ctypes
import dataclasses
import logging
import os
import signal
import socket
import threading
import time

from redis.exceptions import RedisError
from rq import Queue, SimpleWorker, Worker
from rq.job import Job, JobStatus
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
from queues.jobs import bind_app, queue_name, queue_names
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


class _Prompt:
    """Our workers' waits. Redis away: retry the connection at most every 5 s (rq's default
    grows to 60 s), so work resumes soon after Redis returns. Idle: wake every 10 s (rq: 405 s),
    so a dead scheduler is noticed (BackofficeWorker below)."""

    max_connection_wait_time = 5.0

    @property
    def dequeue_timeout(self) -> int:
        return 10


class BackofficeWorker(_Prompt, Worker):
    """Disposes the parent's database pool before forking a work horse: a forked
    child must never reuse the parent's sockets (SQLAlchemy docs, "Using
    Connection Pools with Multiprocessing")."""

    # The queues whose scheduled jobs this worker's scheduler enqueues: all of them, also the
    # rescore queue it leaves to the decision lane (which has no scheduler of its own).
    scheduler_queues: list[Queue] | None = None

    def _scheduled(self) -> list[Queue]:
        return self.scheduler_queues or self.queues

    def run_maintenance_tasks(self):
        # A scheduler to restart: take over what a dead one left first (see below).
        if self.scheduler is not None and (self.scheduler._process is None or not self.scheduler._process.is_alive()):
            try:
                take_over_stale_scheduler_locks(self.connection, [q.name for q in self._scheduled()])
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

        take_over_stale_scheduler_locks(self.connection, [q.name for q in self._scheduled()])
        self.scheduler = DyingScheduler(
            self._scheduled(), connection=self.connection,
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


# The decision lane ------------------------------------------------------------------------
# RQ runs one job at a time: a worker ranking a year or scoring a bulk chunk holds a decision's
# rescore until it is done (seconds). The lane is a second worker beside each `backoffice
# worker`, on the rescore queue only, so a decision's rescore never waits behind a ranking.
LANE_PREFIX = "backoffice-lane"
LANE_STOP_WAIT = 30  # s: a rescore in progress finishes (its job timeout is 120 s; then SIGKILL)


class DecisionLaneWorker(_Prompt, SimpleWorker):
    """Runs each rescore in the lane's own process, without forking a work horse: no fork and
    no new database connection per job (the lane keeps its pool), which is most of a rescore's
    latency. A job that kills the lane is handed by the worker to RQ's abandoned-job handling
    (release_dead_lane) and a new lane started."""


def _lane_main(settings: Settings, parent_pid: int) -> int:
    # Its own process group: a terminal's Ctrl-C reaches only the parent, which stops the lane
    # once its own work is done. SIGTERM when the parent dies: the rescore in progress finishes.
    os.setpgrp()
    die_with_parent(parent_pid, signal.SIGTERM)
    connection = connect(settings)  # never the parent's sockets
    queues = [Queue(queue_name(settings, "rescore"), connection=connection)]
    host, pid = socket.gethostname(), os.getpid()
    names = (f"{LANE_PREFIX}.{host}.{pid}" + (f".{n}" if n else "") for n in range(1_000_000))
    worked = _serve(connection, lambda: DecisionLaneWorker(queues, connection=connection, name=next(names)),
                    with_scheduler=False)
    return 0 if worked is not False else 1


class DecisionLane:
    """The lane's process, forked from the worker's, and a thread that starts a new one when it
    dies (killed, out of memory) until the worker stops."""

    def __init__(self, settings: Settings, app):
        self.settings, self.app = settings, app
        self.pid: int | None = None
        self.started_at, self.backoff = 0.0, 0.25
        self.stopped = threading.Event()
        self.watcher = threading.Thread(target=self._watch, name="decision-lane", daemon=True)

    def start(self) -> None:
        self._fork()
        self.watcher.start()

    def _fork(self) -> None:
        parent = os.getpid()
        with queues.relay.FORK_GUARD:  # as for a work horse: no database socket crosses the fork
            with self.app.app_context():
                db.engine.dispose(close=False)
            pid = os.fork()
        if pid == 0:
            code = 1
            try:
                code = _lane_main(self.settings, parent)
            except BaseException:
                log.exception("decision lane: stopped on an error")
            finally:
                os._exit(code)  # never return into the parent's code
        self.pid, self.started_at = pid, time.monotonic()
        log.info("decision lane: started (pid %s)", pid)

    def _exited(self) -> bool:
        try:
            done, _status = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:
            return True
        return done != 0

    def _watch(self) -> None:
        # A lane forked here gets its parent-death signal when this thread ends: only at stop(),
        # so nothing may end it before (a failed fork is tried again at the next turn).
        while not self.stopped.wait(0.5):
            try:
                self._check()
            except Exception:
                log.exception("decision lane: could not start a new lane; trying again")

    def _check(self) -> None:
        if self._exited() and not self.stopped.is_set():
            log.warning("decision lane: pid %s is gone; starting a new one", self.pid)
            client = connect(self.settings)
            try:
                release_dead_lane(client, self.settings, f"{LANE_PREFIX}.{socket.gethostname()}.{self.pid}")
            except RedisError as exc:  # its jobs are retried once their heartbeat lapses
                log.warning("decision lane: could not release the dead lane's jobs (%s)", exc)
            finally:
                client.close()
            # A lane that keeps dying at once (a broken deployment) is started less and less often.
            lived = time.monotonic() - self.started_at
            self.backoff = 0.5 if lived > 60 else min(self.backoff * 2, 30.0)
            if not self.stopped.wait(self.backoff):
                self._fork()

    def stop(self, wait: float = LANE_STOP_WAIT) -> None:
        self.stopped.set()
        if self.watcher.is_alive():
            self.watcher.join()
        if self.pid is None or self._exited():
            return
        try:
            os.kill(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if self._exited():
                return
            time.sleep(0.1)
        log.warning("decision lane: pid %s did not stop in %.0f s; killing it", self.pid, wait)
        try:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass


def release_dead_lane(connection, settings: Settings, name: str) -> list[str]:
    """A lane that died (killed, out of memory) left its rescore in the started registry until
    the job's heartbeat lapses (its timeout + 60 s) and itself on the jobs page: hand the job to
    RQ's abandoned-job handling now (retried while it has retries, else failed), and register the
    lane's death. Returns the ids of the jobs released."""
    queue = Queue(queue_name(settings, "rescore"), connection=connection)
    registry = queue.started_job_registry

    def dead(worker_name) -> bool:
        return bool(worker_name) and (worker_name == name or worker_name.startswith(name + "."))

    released = []
    for entry in connection.zrange(registry.key, 0, -1):
        job = Job.fetch_many([registry.parse_job_id(entry)], connection=connection)[0]
        if job is not None and dead(job.worker_name) and job.get_status(refresh=False) == JobStatus.STARTED:
            connection.zadd(registry.key, {entry: 0}, xx=True)  # its execution expired: abandoned
            released.append(job.id)
    if released:
        registry.cleanup(0)  # those alone
        log.warning("decision lane: jobs of the dead lane %s retried or failed: %s", name, ", ".join(released))
    for worker in Worker.all(queue=queue):
        if dead(worker.name):
            worker.register_death()
    return released


def _serve(connection, make_worker, *, with_scheduler: bool, burst: bool = False):
    """Work until told to stop (SIGTERM/SIGINT). rq's worker quits when Redis vanishes in the
    middle of a job; this one waits for Redis and starts working again, so an outage never
    needs a person to restart workers."""
    while True:
        _wait_for_redis(connection)
        worker = make_worker()
        try:
            worked = worker.work(with_scheduler=with_scheduler, burst=burst)
        except (RedisError, OSError) as exc:  # rq's teardown talks to the Redis that just left
            log.warning("worker: lost Redis (%s)", exc)
            worked = False
        # A stop was asked for (SIGTERM/SIGINT): rq records it as a shutdown request date.
        if burst or worker._stop_requested or worker._shutdown_requested_date is not None:
            return worked
        log.warning("worker: stopped without being asked to (Redis lost?); starting again")
        time.sleep(1)


def run_worker(settings: Settings, *, burst: bool = False, relay: bool = True, lane: bool = True,
               worker_class: type[Worker] = BackofficeWorker, name: str | None = None) -> bool:
    """Work the queues until told to stop (SIGTERM/SIGINT), with the outbox relay beside and,
    unless `lane` is off (or in burst mode), the decision lane serving the rescore queue."""
    settings, app = prepare(settings)
    connection = connect(settings)
    everything = queue_names(settings)
    served = everything
    decision_lane = None
    if lane and not burst:
        # Forked before the relay thread starts: a process with one thread.
        decision_lane = DecisionLane(settings, app)
        decision_lane.start()
        served = tuple(q for q in everything if q != queue_name(settings, "rescore"))
    relay_thread = None
    if relay:
        relay_thread = Relay(settings)
        relay_thread.start()

    def make_worker():
        worker = worker_class([Queue(q, connection=connection) for q in served], connection=connection, name=name)
        worker.flask_app = app
        worker.scheduler_queues = [Queue(q, connection=connection) for q in everything]
        return worker

    try:
        return _serve(connection, make_worker, with_scheduler=True, burst=burst)
    finally:
        if decision_lane is not None:
            decision_lane.stop()
        if relay_thread is not None:
            relay_thread.stop()
