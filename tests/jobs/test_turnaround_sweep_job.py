"""The daily sweep is a periodic job declared as data (queues/schedule.py): its slot gets a
stable job id, a second worker's tick for the same slot adds nothing, and a worker runs it."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from queues.schedule import BEIJING, PERIODIC, enqueue_due
from verifiers.routing import QUEUES


def test_daily_sweep_runs_once_per_slot_through_a_worker(world):
    [sweep_job] = [p for p in PERIODIC if p.id == "daily-sweep"]
    assert sweep_job.func == "queues.sweep.daily_sweep" and sweep_job.cron == "30 6 * * *"
    morning = datetime(2021, 10, 18, 7, 5, tzinfo=BEIJING)
    created = enqueue_due(world.redis, world.settings, now=morning, periodic=(sweep_job,))
    assert created == [f"{world.settings.queue_namespace}-periodic-daily-sweep-20211018T0630"]
    # Another worker's relay loop ticking in the same slot finds the job already there.
    assert enqueue_due(world.redis, world.settings, now=morning, periodic=(sweep_job,)) == []

    world.work(purposes=("maintenance",))

    from rq.job import Job

    job = Job.fetch(created[0], connection=world.redis)
    assert job.is_finished, job.latest_result()
    result = job.return_value()
    with world.ctx():
        from backoffice.extensions import db
        from backoffice.reference.models import District
        from backoffice.turnaround.models import DailyBacklog

        day = datetime.fromisoformat(result["day"]).date()
        rows = db.session.scalar(select(func.count()).select_from(DailyBacklog).where(DailyBacklog.day == day))
        districts = db.session.scalar(select(func.count()).select_from(District))
        assert rows == result["backlog_rows"] == districts * len(QUEUES)  # one row per district and queue
        recorded = db.session.scalar(select(func.sum(DailyBacklog.open_cases)).where(DailyBacklog.day == day))
        assert recorded == result["open_cases"] > 0
