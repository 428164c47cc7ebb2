"""The RQ worker: our queues, with the scheduler, the outbox relay, and no inherited
database connections."""
from __future__ import annotations

import dataclasses

from rq import Queue, Worker

from backoffice.settings import Settings
from queues.connection import connect, redis_url
from queues.jobs import PURPOSES, bind_app, queue_names

# Queues named by purpose, most urgent first: a worker drains them in this order.
WORKER_QUEUES = PURPOSES


class BackofficeWorker(Worker):
    """Disposes the parent's database pool before forking a work horse: a forked
    child must never reuse the parent's sockets (SQLAlchemy docs, "Using
    Connection Pools with Multiprocessing")."""

    # Redis away: retry the connection at most every 5 s (rq's default grows to 60 s), so
    # work resumes soon after Redis returns.
    max_connection_wait_time = 5.0

    def fork_work_horse(self, job, queue):
        from backoffice.extensions import db

        app = getattr(self, "flask_app", None)
        if app is not None:
            with app.app_context():
                db.engine.dispose(close=False)
        return super().fork_work_horse(job, queue)


def prepare(settings: Settings):
    """Settings with the Redis URL resolved (the embedded server started if needed), and the
    app jobs run in, created once in this process and inherited by every work horse."""
    from backoffice.app import create_app

    settings = dataclasses.replace(settings, redis_url=redis_url(settings))
    app = create_app(settings)
    bind_app(app)
    return settings, app


def run_worker(settings: Settings, *, burst: bool = False, relay: bool = True,
               worker_class: type[Worker] = BackofficeWorker, name: str | None = None) -> bool:
    from queues.relay import Relay

    settings, app = prepare(settings)
    connection = connect(settings)
    worker = worker_class([Queue(q, connection=connection) for q in queue_names(settings)],
                          connection=connection, name=name)
    worker.flask_app = app
    relay_thread = None
    if relay:
        relay_thread = Relay(settings)
        relay_thread.start()
    try:
        return worker.work(with_scheduler=True, burst=burst)
    finally:
        if relay_thread is not None:
            relay_thread.stop()
