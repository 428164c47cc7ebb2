"""The RQ worker: our queues, with the scheduler, and no inherited database connections."""
from __future__ import annotations

from rq import Queue, Worker

from backoffice.settings import Settings
from queues.connection import connect

# Queues named by purpose, most urgent first: a worker drains them in this order.
WORKER_QUEUES = ("rescore", "rank", "maintenance")


class BackofficeWorker(Worker):
    """Disposes the parent's database pool before forking a work horse: a forked
    child must never reuse the parent's sockets (SQLAlchemy docs, "Using
    Connection Pools with Multiprocessing")."""

    def fork_work_horse(self, job, queue):
        from backoffice.extensions import db

        app = getattr(self, "flask_app", None)
        if app is not None:
            with app.app_context():
                db.engine.dispose(close=False)
        return super().fork_work_horse(job, queue)


def run_worker(settings: Settings, *, burst: bool = False, queues: tuple[str, ...] = WORKER_QUEUES) -> bool:
    from backoffice.app import create_app

    app = create_app(settings)
    connection = connect(settings)
    worker = BackofficeWorker([Queue(name, connection=connection) for name in queues], connection=connection)
    worker.flask_app = app
    return worker.work(with_scheduler=True, burst=burst)
