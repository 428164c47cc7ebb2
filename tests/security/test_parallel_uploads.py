"""Eight parallel first uploads to one material slot, and eight parallel review requests on
one claim, against a live server (issue 15 §5): each answers 200/201 or 409 in words, never
500, and the case ends with one file in the slot."""
from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "intake"))
from intake_pdfs import make_pdf  # noqa: E402
from intake_support import ALL_SCOPES, LI, WANG, application_body, phase_dates  # noqa: E402

pytestmark = pytest.mark.no_db

OWN = {"indicator": "housing", "facts": {"type": "own", "from": "2014-08", "to": "2017-12", "district": "朝阳区"},
       "filed": {"certificate_no": "X京房权证朝字第777777号"}}


@pytest.fixture(scope="module")
def filed(live):
    from backoffice.extensions import db
    from backoffice.intake.api import today
    from backoffice.intake.tokens import issue_token
    from backoffice.reference.models import Year

    from backoffice.eligibility.services import register_employer
    from backoffice.intake.registry import load_dataset
    from backoffice.reference.models import District
    from intake_support import EMPLOYER_USCC, FIXTURE_DIR

    with live["app"].app_context():
        db.session.add(Year(year=2021, **phase_dates("application", today())))
        # 第一篇/第二篇 at intake: the fixture registry (permits, insurance, tax registrations)
        # and the fixture employer registered as a unit of 朝阳区.
        load_dataset(FIXTURE_DIR, actor_label="test")
        chaoyang = db.session.scalar(select(District).where(District.name == "朝阳区"))
        register_employer(EMPLOYER_USCC, "北京测试科技有限公司", chaoyang.id, actor_label="test")
        _client, token = issue_token("parallel", ALL_SCOPES, actor_label="test")
        db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    base = live["url"] + "/api/v1"
    claim_ids = []
    for number in range(2):
        body = application_body(id_number=[WANG, LI][number], claims=[OWN])
        created = requests.post(f"{base}/applications", json=body, headers=headers, timeout=60)
        assert created.status_code == 201, created.text
        claim_ids.append(created.json()["claims"][0]["id"])
        result = requests.put(f"{base}/claims/{claim_ids[-1]}/registry-result", headers=headers, timeout=60,
                              json={"status": "invalid", "reason": "housing_listing_invalid"})
        assert result.status_code == 200, result.text
    return {"base": base, "headers": headers, "claims": claim_ids}


def _parallel(call, n=8):
    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(call, range(n)))


def test_eight_parallel_reviews_of_one_claim_open_one_case(live, filed):
    def review(i):
        return requests.post(f"{filed['base']}/claims/{filed['claims'][0]}/reviews", headers=filed["headers"],
                             files={"owner_identity": ("id.pdf", make_pdf(f"id {i}"))}, timeout=120)

    answers = _parallel(review)
    statuses = sorted(a.status_code for a in answers)
    assert set(statuses) <= {201, 409}, [(a.status_code, a.text[:300]) for a in answers]
    assert statuses.count(201) == 1
    for answer in answers:
        assert answer.json()["error"]["message_zh"] if answer.status_code == 409 else answer.json()["number"]


def test_eight_parallel_first_uploads_to_one_slot_answer_200_or_409(live, filed):
    from backoffice.applications.models import EvidenceFile
    from backoffice.cases.models import ReviewCase
    from backoffice.extensions import db

    opened = requests.post(f"{filed['base']}/claims/{filed['claims'][1]}/reviews", headers=filed["headers"],
                           files={"owner_identity": ("id.pdf", make_pdf("li id"))}, timeout=120)
    assert opened.status_code == 201, opened.text
    number = opened.json()["number"]

    def upload(i):
        return requests.post(f"{filed['base']}/cases/{number}/evidence", headers=filed["headers"],
                             files={"ownership_certificate": ("cert.pdf", make_pdf(f"certificate {i}"))}, timeout=120)

    answers = _parallel(upload)
    assert {a.status_code for a in answers} <= {200, 409}, [(a.status_code, a.text[:300]) for a in answers]
    assert any(a.status_code == 200 for a in answers)
    for answer in answers:
        if answer.status_code == 409:
            assert answer.json()["error"]["message_zh"]
    with live["app"].app_context():
        case_id = db.session.scalar(select(ReviewCase.id).where(ReviewCase.number == number))
        assert db.session.scalar(select(func.count()).select_from(EvidenceFile).where(
            EvidenceFile.case_id == case_id, EvidenceFile.material_slot == "ownership_certificate")) == 1
