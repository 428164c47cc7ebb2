"""A worker's children die with it (issue 15 §8): after kill -9 of a real worker process its
RQ scheduler child does not survive as an orphan holding the scheduler lock, and a lock left
by a scheduler that died anyway is taken over by the next worker at once."""
from __future__ import annotations

import os
import signal

from jobs_support import wait_until
from test_worker_processes import _children, _gone, _stop


def _alive(pid: int) -> bool:
    return not _gone(pid)


def _scheduler_child(worker_pid: int) -> int | None:
    """RQ's scheduler: the worker's child that stays in the worker's process group."""
    group = os.getpgid(worker_pid)
    for pid, pgrp in _children(worker_pid):
        if pgrp == group:
            return pid
    return None


def _lock_owner(world) -> str | None:
    owner = world.redis.get(f"rq:scheduler-lock:{world.queue('rescore').name}")
    return owner.decode() if owner else None


def test_a_killed_workers_scheduler_dies_with_it_and_frees_the_lock(world):
    worker = world.worker_process("pdeathsig")
    try:
        scheduler = wait_until(lambda: _scheduler_child(worker.pid), timeout=60, message="the scheduler runs")
        wait_until(lambda: _lock_owner(world), timeout=20, message="the scheduler holds its lock")
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(10)
        wait_until(lambda: not _alive(scheduler), timeout=10, message="the scheduler child is gone")
        # It stopped cleanly on the signal: its lock is released, not left to lapse.
        wait_until(lambda: _lock_owner(world) is None, timeout=10, message="the lock is released")
    finally:
        _stop(worker)


def test_a_stale_scheduler_lock_is_taken_over_by_the_next_worker(world):
    first = world.worker_process("stale-first")
    second = None
    try:
        scheduler = wait_until(lambda: _scheduler_child(first.pid), timeout=60, message="the scheduler runs")
        stale = wait_until(lambda: _lock_owner(world), timeout=20, message="the scheduler holds its lock")
        # Both at once, as the kernel's OOM killer might: nobody releases the lock.
        os.kill(scheduler, signal.SIGKILL)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
        assert _lock_owner(world) == stale and world.redis.ttl(f"rq:scheduler-lock:{world.queue('rescore').name}") > 50
        second = world.worker_process("stale-second")
        # Taken over at the new worker's start, long before the dead lock's 61 s would lapse.
        new_owner = wait_until(lambda: (_lock_owner(world) not in (None, stale)) and _lock_owner(world),
                               timeout=40, message="the new worker's scheduler holds the lock")
        assert new_owner != stale
        # The lock is taken just before the scheduler's process is forked.
        wait_until(lambda: _scheduler_child(second.pid), timeout=20, message="the new scheduler runs")
    finally:
        _stop(first)
        if second is not None:
            _stop(second)
