"""A job that holds its worker until the test lets it go (tests/jobs/test_decision_lane.py):
it marks itself started in Redis, then waits for a release key. Run by real worker processes,
which import it from PYTHONPATH."""
from __future__ import annotations

import time

import redis


def hold(redis_url: str, key: str, timeout: int = 300) -> str:
    # Polled, not one long BLPOP: a client's socket timeout may be shorter than the hold.
    connection = redis.Redis.from_url(redis_url)
    connection.set(f"{key}:started", "1", ex=timeout)
    deadline = time.monotonic() + timeout
    while not connection.exists(f"{key}:release"):
        if time.monotonic() > deadline:
            raise TimeoutError("never released")
        time.sleep(0.1)
    return "released"
