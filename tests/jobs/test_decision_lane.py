"""The decision lane (issue 18 §2): `backoffice worker` starts beside itself a process serving
the rescore queue alone, so a decision's rescore is done while the worker's only work horse
ranks a year. The lane dies with its worker, and the worker starts a new lane when it dies alone.
Real worker processes; the ranking is a stand-in job that holds the rank queue until released
(tests/jobs/held_job.py)."""
from __future__ import annotations

import os
import signal
from pathlib import Path

from rq import Worker
from rq.job import JobStatus

from jobs_support import TOTAL_BOTH_COUNTED, wait_until
from queues.worker import LANE_PREFIX
from test_worker_processes import _children, _gone, _stop

HERE = Path(__file__).resolve().parent


def _lane_worker(world, lane=True):
    env = {"PYTHONPATH": os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")]))}
    return world.worker_process("decision-lane", env=env, lane=lane)


def _lane(world, parent_pid: int) -> int | None:
    """The pid of the worker's decision lane: its child registered on the rescore queue alone."""
    children = {pid for pid, _group in _children(parent_pid)}
    for worker in Worker.all(connection=world.redis):
        if (worker.name.startswith(LANE_PREFIX) and worker.queue_names() == [world.queue("rescore").name]
                and worker.pid in children and not _gone(worker.pid)):
            return worker.pid
    return None


def _decided_and_rescored(world) -> None:
    (case_id, app_id), = world.free_cases(1)
    _, decision_id = world.decide(case_id)
    # The worker's relay thread sends the rescore request; the lane rescores.
    wait_until(lambda: world.state(app_id)[2] == decision_id, timeout=90, message="the decision's rescore is done")
    total, snapshot_total, _decision, _n = world.state(app_id)
    assert total == snapshot_total == TOTAL_BOTH_COUNTED


def test_a_decisions_rescore_is_done_while_the_only_worker_ranks(world):
    key = f"{world.settings.queue_namespace}:hold"
    worker = _lane_worker(world)
    try:
        wait_until(lambda: _lane(world, worker.pid), timeout=60, message="the decision lane runs")
        held = world.queue("rank").enqueue("held_job.hold", kwargs={"redis_url": world.settings.redis_url,
                                                                    "key": key}, job_timeout=600)
        wait_until(lambda: world.redis.get(f"{key}:started"), timeout=60, message="the worker ranks")
        # The worker's only work horse is busy with the rank queue's job all along.
        main = [w for w in Worker.all(connection=world.redis) if world.queue("rank").name in w.queue_names()]
        assert len(main) == 1 and world.queue("rescore").name not in main[0].queue_names()
        _decided_and_rescored(world)
        assert held.get_status(refresh=True) == JobStatus.STARTED
    finally:
        world.redis.set(f"{key}:release", "1")
        _stop(worker)


def test_the_lane_dies_with_its_worker(world):
    worker = _lane_worker(world)
    try:
        lane = wait_until(lambda: _lane(world, worker.pid), timeout=60, message="the decision lane runs")
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(10)
        wait_until(lambda: _gone(lane), timeout=30, message="the lane is gone")
        # It stopped on the signal, not by being killed: it left the workers' list itself.
        wait_until(lambda: not [w for w in Worker.all(connection=world.redis) if w.pid == lane], timeout=10,
                   message="the lane is no longer registered")
    finally:
        _stop(worker)


def test_a_lane_killed_alone_is_started_again_and_its_job_given_up_at_once(world):
    key = f"{world.settings.queue_namespace}:hold"
    worker = _lane_worker(world)
    try:
        first = wait_until(lambda: _lane(world, worker.pid), timeout=60, message="the decision lane runs")
        # A job the lane is in the middle of when it is killed (no retries left: it fails).
        held = world.queue("rescore").enqueue("held_job.hold", kwargs={"redis_url": world.settings.redis_url,
                                                                       "key": key}, job_timeout=600)
        wait_until(lambda: world.redis.get(f"{key}:started"), timeout=60, message="the lane runs the job")
        os.kill(first, signal.SIGKILL)
        second = wait_until(lambda: (_lane(world, worker.pid) or first) != first and _lane(world, worker.pid),
                            timeout=60, message="a new lane runs")
        assert second != first and worker.poll() is None
        # Given up now, not once its heartbeat lapses (600 + 60 s); the dead lane is off the list.
        wait_until(lambda: held.get_status(refresh=True) == JobStatus.FAILED, timeout=30,
                   message="the dead lane's job is failed")
        assert not [w for w in Worker.all(connection=world.redis) if w.pid == first]
        _decided_and_rescored(world)
    finally:
        world.redis.set(f"{key}:release", "1")
        _stop(worker)


def test_without_the_lane_one_process_serves_every_queue(world):
    worker = _lane_worker(world, lane=False)
    try:
        wait_until(lambda: world.workers_listening() == 1, timeout=60, message="the worker runs")
        assert _lane(world, worker.pid) is None
        only, = [w for w in Worker.all(connection=world.redis) if world.queue("rescore").name in w.queue_names()]
        assert world.queue("rank").name in only.queue_names()
    finally:
        _stop(worker)
