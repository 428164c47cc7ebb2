"""Fixtures of the settlement tests: a qualified application in a year whose announcement
closed 54 days ago (so its two years run), the online system's API client, real PDFs."""
from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache

import pytest

from backoffice.staff import passwords

from support import csrf_token_from


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


def year_dates(today: date, announcement_end: date | None = None) -> dict:
    """Phases with the announcement closed on ``announcement_end`` (default 54 days ago)."""
    end = announcement_end or today - timedelta(days=54)
    d = lambda n: end + timedelta(days=n)  # noqa: E731
    return dict(application_start=d(-180), application_end=d(-150), result_query_start=d(-100),
                result_query_end=d(-90), announcement_start=d(-6), announcement_end=end,
                settlement_start=d(1), settlement_end=d(730))


@pytest.fixture
def year(make, today):
    return make.year(2021, **year_dates(today))


def _pdf(title: str) -> bytes:
    from backoffice.core.pdf import Document, render

    return render(Document(title=title, paragraphs=["测试材料"]))


@pytest.fixture(scope="session")
def pdf_bytes():
    return _pdf("材料")


@pytest.fixture
def qualified(make, year):
    """qualified(district="朝阳区", owner="self", certificate="X京房权证朝字第1号", work_residence=False)
    → a qualified application with a counted own-housing claim (and what was filed with it)."""
    from backoffice.extensions import db
    from backoffice.intake.models import ClaimDetails

    def build(district: str = "朝阳区", owner: str = "self", certificate: str = "X京房权证朝字第1号",
              work_residence: bool = False, qualified: bool = True):
        application = make.application(district)
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


class Api:
    def __init__(self, client, token):
        self.client, self.token = client, token

    def _h(self):
        return {"Authorization": f"Bearer {self.token}"}

    def submit(self, application_id: int, *, place="own_home", certificate="X京房权证朝字第1号", children=(),
               files=None, **fields):
        data = {"place": place, "place_certificate_no": certificate, "place_address": "北京市通州区某小区1号楼",
                "children": json.dumps(list(children), ensure_ascii=False), **fields}
        for slot, content in (files or {}).items():
            data[slot] = (__import__("io").BytesIO(content), f"{slot}.pdf", "application/pdf")
        return self.client.post(f"/api/v1/applications/{application_id}/settlement", data=data,
                                headers=self._h(), content_type="multipart/form-data")

    def progress(self, application_id: int):
        return self.client.get(f"/api/v1/applications/{application_id}/settlement", headers=self._h())

    def abandon(self, application_id: int):
        return self.client.post(f"/api/v1/applications/{application_id}/settlement/abandon", headers=self._h())


@pytest.fixture
def api(app):
    from backoffice.intake.tokens import issue_token

    _client, token = issue_token("online-system-settlement", ["settlement:write"], actor_label="test")
    return Api(app.test_client(), token)


def child(name="小明", born="2012-05-01", order=1, parent="father", id_number=None):
    from verifiers.identifiers import resident_id_check_char

    body = id_number or f"110105{born.replace('-', '')}{abs(hash(name)) % 1000:03d}"
    return {"name": name, "id_number": body + resident_id_check_char(body), "birth_date": born,
            "birth_order": order, "parent": parent}


@pytest.fixture
def page_of(client_for):
    """page_of(staff, case) → (client, html) of the settlement workspace."""
    def get(staff, case_id, client=None):
        client = client or client_for(staff)
        response = client.get(f"/admin/settlement/{case_id}/")
        return client, response

    return get


def post_form(client, case_id: int, action: str, data: dict | None = None, page_html: str | None = None):
    """POST a workspace form with the page's CSRF token and the case's current version."""
    html = page_html or client.get(f"/admin/settlement/{case_id}/").get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', html)
    form = {"csrf_token": csrf_token_from(html), "version": version.group(1) if version else ""}
    form.update(data or {})
    return client.post(f"/admin/settlement/{case_id}/{action}", data=form)


def all_acceptable(settlement) -> dict:
    """The checklist form with every item ticked acceptable."""
    from backoffice.settlement import services

    return {f"checklist-{i.code}-state": "acceptable" for i in services.checklist(settlement)}
