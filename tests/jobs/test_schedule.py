"""Periodic jobs declared as data: each slot becomes one job, however many workers tick."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from rq.job import Job

from queues.schedule import BEIJING, PERIODIC, Periodic, _function, enqueue_due


def test_each_slot_is_enqueued_once_however_often_workers_tick(world):
    every_ten = Periodic("test-rerank", "queues.jobs.rerank_year", cron="*/10 * * * *", kwargs={"year": 2021})
    t = datetime(2021, 8, 10, 9, 3, tzinfo=BEIJING)
    first = enqueue_due(world.redis, world.settings, now=t, periodic=(every_ten,))
    assert first == [f"{world.settings.queue_namespace}-periodic-test-rerank-20210810T0900"]
    # Two more workers' ticks in the same slot: nothing new.
    assert enqueue_due(world.redis, world.settings, now=t + timedelta(seconds=1), periodic=(every_ten,)) == []
    assert enqueue_due(world.redis, world.settings, now=t + timedelta(minutes=6), periodic=(every_ten,)) == []
    # The job is the declared one: its queue, timeout and arguments.
    job = Job.fetch(first[0], connection=world.redis)
    assert job.origin == world.queue("rank").name and job.kwargs == {"year": 2021}
    assert job.timeout == _function("queues.jobs.rerank_year").spec.timeout
    assert job.result_ttl >= 7 * 60  # kept at least until the next slot, so it cannot run twice
    # The next slot is a new job.
    assert enqueue_due(world.redis, world.settings, now=t + timedelta(minutes=7), periodic=(every_ten,)) == [
        f"{world.settings.queue_namespace}-periodic-test-rerank-20210810T0910"]


def test_a_worker_starting_late_runs_the_missed_slot_once():
    daily = Periodic("test-daily", "queues.jobs.rerank_year", cron="30 6 * * *")
    from queues.schedule import slot_of

    slot, nxt = slot_of(daily, datetime(2021, 8, 10, 14, 0, tzinfo=BEIJING))
    assert (slot, nxt) == (datetime(2021, 8, 10, 6, 30, tzinfo=BEIJING), datetime(2021, 8, 11, 6, 30, tzinfo=BEIJING))
    # At the minute itself the slot is due, not yesterday's.
    assert slot_of(daily, datetime(2021, 8, 10, 6, 30, tzinfo=BEIJING))[0].day == 10


def test_declarations_are_checked():
    with pytest.raises(ValueError, match="may only use"):
        Periodic("daily sweep", "queues.jobs.rerank_year", cron="30 6 * * *")
    with pytest.raises(ValueError, match="bad cron"):
        Periodic("x", "queues.jobs.rerank_year", cron="every day")
    with pytest.raises(TypeError, match="not declared"):
        _function("queues.schedule.slot_of")


@pytest.mark.parametrize("periodic", PERIODIC, ids=[p.id for p in PERIODIC])
def test_every_declared_periodic_job_is_a_declared_job(periodic):
    assert _function(periodic.func).spec.queue in ("rescore", "rank", "maintenance")
