"""Fixtures of the settlement tests: a qualified application in a year whose announcement
closed 54 days ago (so its two years run), the online system's API client, real PDFs."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from functools import lru_cache

import pytest

from backoffice.staff import passwords

from settlement_support import Api, _pdf, year_dates  # noqa: F401


@lru_cache(maxsize=4)
def _hash_once(password: str) -> str:
    return passwords.hash_password(password)


@pytest.fixture(autouse=True)
def _one_hash_per_password(monkeypatch):
    monkeypatch.setattr("backoffice.staff.services.hash_password", _hash_once)


@pytest.fixture
def today():
    from backoffice.intake.api import today

    return today()


@pytest.fixture
def year(make, today):
    return make.year(2021, **year_dates(today))


@pytest.fixture(scope="session")
def pdf_bytes():
    return _pdf("材料")


@pytest.fixture
def qualified(make, year, api):
    """qualified(district="朝阳区", owner="self", certificate="X京房权证朝字第1号", work_residence=False)
    → a qualified application with a counted own-housing claim (and what was filed with it)."""
    from backoffice.extensions import db
    from backoffice.intake.models import ClaimDetails

    def build(district: str = "朝阳区", owner: str = "self", certificate: str = "X京房权证朝字第1号",
              work_residence: bool = False, qualified: bool = True):
        application = make.application(district)
        # Filed by the online system whose token the tests use (API clients own their records).
        application.created_by_client_id = api.owner_id
        claim = make.claim(application, "housing", status="valid", reason=None,
                           claimed={"type": "own", "from": "2015-01", "to": "2020-12", "district": "通州区"})
        db.session.add(ClaimDetails(claim_id=claim.id, filed={"certificate_no": certificate, "owner": owner}))
        if work_residence:
            make.claim(application, "work_residence", status="valid", reason=None, claimed={"chosen": True})
        if qualified:
            application.qualified_at = datetime.now(timezone.utc) - timedelta(days=54)
        db.session.flush()
        db.session.refresh(application)
        return application

    return build


@pytest.fixture
def api(app):
    from backoffice.intake.tokens import issue_token

    client, token = issue_token("online-system-settlement", ["settlement:write"], actor_label="test")
    api = Api(app.test_client(), token)
    api.owner_id = client.id
    return api
