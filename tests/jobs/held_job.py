"""A job that holds its worker until the test lets it go (tests/jobs/test_decision_lane.py):
it marks itself started in Redis, then waits on a Redis list. Run by real worker processes,
which import it from PYTHONPATH."""
from __future__ import annotations

import redis


def hold(redis_url: str, key: str, timeout: int = 300) -> str:
    connection = redis.Redis.from_url(redis_url)
    connection.set(f"{key}:started", "1", ex=timeout)
    connection.blpop([key], timeout=timeout)
    return "released"
