"""Helpers of the rescoring tests (a module of its own: every conftest is named conftest)."""
from __future__ import annotations

import time


def wait_until(predicate, *, timeout: float, interval: float = 0.2, message: str = ""):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s: {message}")
        time.sleep(interval)
