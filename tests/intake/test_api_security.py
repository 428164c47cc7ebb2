"""API clients own their records (issue 15 §4), bad input answered in words (§5), and the
evidence.reused audit detail that must not name another district's case (§7)."""
from __future__ import annotations

from io import BytesIO

import pytest
from sqlalchemy import select

from backoffice.applications.models import Application, EvidenceFile
from backoffice.audit.models import AuditEvent
from backoffice.cases.models import ReviewCase
from backoffice.extensions import db
from backoffice.intake.models import ApiClient

from intake_pdfs import make_pdf
from intake_support import ALL_SCOPES, LI, WANG, Api, application_body

OWN = {"indicator": "housing", "facts": {"type": "own", "from": "2014-08", "to": "2017-12", "district": "朝阳区"},
       "filed": {"certificate_no": "X京房权证朝字第999999号"}}


def _review(api, claim_id, files, **fields):
    data = dict(fields)
    for slot, (content, name) in files.items():
        data[slot] = (BytesIO(content), name)
    return api.post(f"/claims/{claim_id}/reviews", data=data, content_type="multipart/form-data")


@pytest.fixture
def filed_by_a(app, token_for, year_in, district):
    """Client A files an application with an invalid housing claim and asks for a review."""
    year_in("application")
    a = Api(app.test_client(), token_for(*ALL_SCOPES, name="online-system"))
    created = a.post("/applications", json=application_body(claims=[OWN])).get_json()
    claim_id = created["claims"][0]["id"]
    a.put(f"/claims/{claim_id}/registry-result", json={"status": "invalid", "reason": "housing_listing_invalid"})
    case = _review(a, claim_id, {"owner_identity": (make_pdf("wang id"), "id.pdf")}).get_json()
    return {"api": a, "application_id": created["id"], "claim_id": claim_id, "number": case["number"]}


def test_another_client_can_neither_read_nor_change_what_a_client_filed(app, token_for, filed_by_a):
    b = Api(app.test_client(), token_for(*ALL_SCOPES, name="other-system"))
    app_id, claim_id, number = filed_by_a["application_id"], filed_by_a["claim_id"], filed_by_a["number"]
    refused = [
        b.get(f"/applications/{app_id}"),
        b.patch(f"/applications/{app_id}", json={"applicant": {"name": "改名"}}),
        b.get(f"/claims/{claim_id}"),
        b.patch(f"/claims/{claim_id}", json={"filed": {"certificate_no": "X"}}),
        b.delete(f"/claims/{claim_id}"),
        b.post(f"/applications/{app_id}/claims", json={"indicator": "education"}),
        b.get(f"/cases/{number}"),
        b.post(f"/cases/{number}/evidence", data={"ownership_certificate": (BytesIO(make_pdf("x")), "x.pdf")},
               content_type="multipart/form-data"),
    ]
    for answer in refused:
        assert answer.status_code == 404, (answer.request.method, answer.request.path, answer.get_json())
        # Exactly the answer for a record that does not exist.
        assert answer.get_json()["error"]["code"] == "not_found"
    application = db.session.get(Application, app_id)
    assert application.applicant.name == "王伟"
    # The owner still reads it; a client with the cross-client scope does too.
    assert filed_by_a["api"].get(f"/applications/{app_id}").status_code == 200
    registry = Api(app.test_client(), token_for("registry:write", "applications:read", "clients:all", name="registry"))
    assert registry.get(f"/applications/{app_id}").status_code == 200
    assert registry.put(f"/claims/{claim_id}/registry-result",
                        json={"status": "invalid", "reason": "housing_listing_invalid"}).status_code == 200


def test_the_creating_client_is_recorded_on_application_case_and_files(filed_by_a):
    client = db.session.scalar(select(ApiClient).where(ApiClient.name == "online-system"))
    application = db.session.get(Application, filed_by_a["application_id"])
    case = db.session.scalar(select(ReviewCase).where(ReviewCase.number == filed_by_a["number"]))
    files = db.session.scalars(select(EvidenceFile).where(EvidenceFile.case_id == case.id)).all()
    assert application.created_by_client_id == case.created_by_client_id == client.id
    assert files and all(f.created_by_client_id == client.id for f in files)


def test_the_document_says_who_may_reach_a_record():
    from backoffice.intake.openapi import SCOPES, document

    doc = document()
    assert "clients:all" in SCOPES and "clients:all" in doc["components"]["securitySchemes"]["bearer"]["description"]
    assert "another client's answer 404" in doc["info"]["description"]


def test_nul_in_a_json_field_is_a_field_error(api, year_in, district):
    year_in("application")
    answer = api.post("/applications", json=application_body(name="王\x00伟"))
    assert answer.status_code == 422
    error = answer.get_json()["error"]
    assert error["fields"][0]["path"] == "applicant.name" and "NUL" in error["message_en"]
    assert db.session.scalar(select(Application.id)) is None


def test_nul_in_a_file_name_is_refused_and_nothing_is_written(filed_by_a, settings):
    from pathlib import Path

    before = set(Path(settings.upload_dir).rglob("*.pdf"))
    answer = filed_by_a["api"].post(f"/cases/{filed_by_a['number']}/evidence",
                                    data={"ownership_certificate": (BytesIO(make_pdf("nul name")), "a\x00b.pdf")},
                                    content_type="multipart/form-data")
    assert answer.status_code == 422 and answer.get_json()["error"]["fields"][0]["path"] == "files.ownership_certificate"
    assert set(Path(settings.upload_dir).rglob("*.pdf")) == before


def test_a_file_is_not_written_when_the_request_is_refused(filed_by_a, settings):
    from pathlib import Path

    before = set(Path(settings.upload_dir).rglob("*.pdf"))
    good = make_pdf("good file of a bad request")
    answer = filed_by_a["api"].post(f"/cases/{filed_by_a['number']}/evidence",
                                    data={"ownership_certificate": (BytesIO(good), "ok.pdf"),
                                          "owner_identity": (BytesIO(b"%PDF-1.4 not really"), "bad.pdf")},
                                    content_type="multipart/form-data")
    assert answer.status_code == 422
    assert set(Path(settings.upload_dir).rglob("*.pdf")) == before


def test_evidence_reuse_across_districts_does_not_name_the_other_districts_case(app, api, year_in, make, client_for,
                                                                                district):
    from backoffice.eligibility.services import register_employer

    year_in("application")
    # Two registered Beijing units of the fixture registry (第二篇), one per district.
    register_employer("91110108MA0000002G", "北京海淀测试有限公司", make.district("海淀区").id, actor_label="test")
    claims = []
    for id_number, name, uscc in ((WANG, "王伟", "91110105MA00000012"), (LI, "李娜", "91110108MA0000002G")):
        body = application_body(id_number=id_number, name=name, claims=[OWN])
        body["employer"] = {"uscc": uscc, "name": "单位"}
        created = api.post("/applications", json=body).get_json()
        claims.append(created["claims"][0]["id"])
        api.put(f"/claims/{claims[-1]}/registry-result", json={"status": "invalid", "reason": "housing_listing_invalid"})
    shared = make_pdf("the same certificate")
    first = _review(api, claims[0], {"ownership_certificate": (shared, "a.pdf"), "owner_identity": (make_pdf("w"), "b.pdf")})
    second = _review(api, claims[1], {"ownership_certificate": (shared, "c.pdf"), "owner_identity": (make_pdf("l"), "d.pdf")})
    assert first.status_code == second.status_code == 201
    chaoyang_number = first.get_json()["number"]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "evidence.reused"))
    assert event.district_id == make.district("海淀区").id
    assert chaoyang_number not in str(event.after)
    assert event.after["other_case_same_district"] is False and "市级" in event.after["other_case_visible_to"]
    # What a Haidian supervisor reads in the audit log.
    supervisor = client_for(make.staff("supervisor", "海淀区"))
    page = supervisor.get(f"/admin/audit/details/?id={event.id}")
    if page.status_code == 200:
        assert chaoyang_number not in page.get_data(as_text=True)
