"""Fixtures of the intake tests: API tokens, a year in a chosen phase, the fixture registry."""
from __future__ import annotations

import pytest

from intake_support import ALL_SCOPES, EMPLOYER_USCC, FIXTURE_DIR, Api, phase_dates  # noqa: F401


@pytest.fixture
def beijing_today():
    from backoffice.intake.api import today

    return today()


@pytest.fixture
def year_in(app, make, beijing_today):
    """year_in("result_query", 2021) → the Year row with today in that phase."""
    from backoffice.extensions import db
    from backoffice.reference.models import Year

    def build(phase: str, year: int = 2021):
        existing = db.session.get(Year, year)
        dates = phase_dates(phase, beijing_today)
        if existing is not None:
            for k, v in dates.items():
                setattr(existing, k, v)
            db.session.flush()
            return existing
        return make.year(year, **dates)

    return build


@pytest.fixture
def token_for(app):
    """token_for(scope, ...) → a bearer token of a new client with those scopes."""
    from backoffice.intake.tokens import issue_token

    counter = iter(range(1, 10_000))

    def build(*scopes, name: str | None = None):
        _client, token = issue_token(name or f"test-client-{next(counter)}", scopes or ALL_SCOPES, actor_label="test")
        return token

    return build


@pytest.fixture
def api(app, token_for):
    """An API client holding a token with every scope."""
    return Api(app.test_client(), token_for())


@pytest.fixture
def api_with(app, token_for):
    def build(*scopes):
        return Api(app.test_client(), token_for(*scopes))

    return build


@pytest.fixture
def registry_loaded(app):
    from backoffice.intake.registry import load_dataset

    return load_dataset(FIXTURE_DIR, actor_label="test")


@pytest.fixture
def district(make, app):
    """朝阳区, with what an application needs since 第一篇/第二篇 are checked at intake: the fixture
    registry (permits, seven years of insurance, tax registrations) and the fixture employer
    registered as a Beijing, tax-registered unit of the district."""
    from backoffice.eligibility.services import register_employer
    from backoffice.intake.registry import load_dataset

    found = make.district("朝阳区")
    load_dataset(FIXTURE_DIR, actor_label="test")
    register_employer(EMPLOYER_USCC, "北京测试科技有限公司", found.id, actor_label="test")
    return found
