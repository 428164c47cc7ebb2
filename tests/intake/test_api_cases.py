"""Review requests, appeals and tips through the API and the intake service."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from backoffice.applications.models import EvidenceFile
from backoffice.audit.models import AuditEvent
from backoffice.cases.intake import IntakeRefused, reuse_flags, submit_review
from backoffice.cases.models import CaseStatus, Decision, Outcome, ReviewCase
from backoffice.extensions import db
from backoffice.intake.models import TipReport
from verifiers.reasons import REASONS, contest_refusal, reason
from verifiers.uploads import path_for

from intake_support import LI, WANG, application_body
from intake_pdfs import make_pdf

OWN = {"indicator": "housing", "facts": {"type": "own", "from": "2014-08", "to": "2017-12", "district": "朝阳区"},
       "filed": {"certificate_no": "X京房权证朝字第999999号"}}


@pytest.fixture
def invalid_claim(api, year_in, district):
    """An application with an own-housing claim found 无效(房源无效); today in the application phase."""
    year_in("application")
    created = api.post("/applications", json=application_body(claims=[OWN])).get_json()
    claim_id = created["claims"][0]["id"]
    api.put(f"/claims/{claim_id}/registry-result", json={"status": "invalid", "reason": "housing_listing_invalid"})
    return created["id"], claim_id


def post_review(api, claim_id, files, key=None, **fields):
    from io import BytesIO

    data = dict(fields)
    for slot, content in files.items():
        data[slot] = (BytesIO(content), f"{slot}.pdf")
    headers = {"Idempotency-Key": key} if key else None
    return api.post(f"/claims/{claim_id}/reviews", data=data, headers=headers, content_type="multipart/form-data")


def test_review_request_with_evidence(api, invalid_claim, district, settings, beijing_today):
    _app_id, claim_id = invalid_claim
    owner_id, certificate = make_pdf("owner id"), make_pdf("certificate", pages=2)
    response = post_review(api, claim_id, {"owner_identity": owner_id, "ownership_certificate": certificate},
                           statement="证号填写无误")
    assert response.status_code == 201, response.get_json()
    case = response.get_json()
    assert case["kind"] == "review" and case["queue"] == "housing" and case["status"] == "open"
    assert case["review_type"] == "housing_listing_invalid" and case["reason"] == "housing_listing_invalid"
    assert case["number"].startswith("2021-110105-") and case["received_on"] == beijing_today.isoformat()
    assert date.fromisoformat(case["due_date"]) > beijing_today
    assert {e["slot"]: e["pages"] for e in case["evidence"]} == {"owner_identity": 1, "ownership_certificate": 2}
    for e in case["evidence"]:
        assert path_for(e["sha256"], settings.upload_dir).exists()
    row = db.session.scalar(select(ReviewCase).where(ReviewCase.number == case["number"]))
    assert row.district_id == district.id and row.applicant_statement == "证号填写无误"
    assert api.get(f"/cases/{case['number']}").get_json() == case


def test_one_open_case_per_claim(api, invalid_claim):
    _app_id, claim_id = invalid_claim
    assert post_review(api, claim_id, {"owner_identity": make_pdf("a")}).status_code == 201
    again = post_review(api, claim_id, {"owner_identity": make_pdf("b")})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "case.open_exists"


def test_idempotency_key_never_creates_a_second_case(api, invalid_claim, settings):
    _app_id, claim_id = invalid_claim
    pdf = make_pdf("owner")
    first = post_review(api, claim_id, {"owner_identity": pdf}, key="review-1", statement="s")
    second = post_review(api, claim_id, {"owner_identity": pdf}, key="review-1", statement="s")
    assert first.status_code == second.status_code == 201
    assert second.get_json() == first.get_json() and second.headers["Idempotent-Replayed"] == "true"
    assert db.session.scalar(select(func.count()).select_from(ReviewCase)) == 1
    changed = post_review(api, claim_id, {"owner_identity": make_pdf("other")}, key="review-1", statement="s")
    assert changed.status_code == 422 and changed.get_json()["error"]["code"] == "idempotency.key_reused"
    assert db.session.scalar(select(func.count()).select_from(ReviewCase)) == 1


def test_idempotency_keys_are_per_client(api, api_with, year_in, district):
    year_in("application")
    other = api_with("applications:write")
    mine = api.post("/applications", json=application_body(), headers={"Idempotency-Key": "k"})
    theirs = other.post("/applications", json=application_body(id_number=LI, name="李娜"), headers={"Idempotency-Key": "k"})
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert mine.get_json()["id"] != theirs.get_json()["id"]


def test_idempotent_application_create(api, year_in, district):
    year_in("application")
    first = api.post("/applications", json=application_body(), headers={"Idempotency-Key": "app-1"})
    again = api.post("/applications", json=application_body(), headers={"Idempotency-Key": "app-1"})
    assert (first.status_code, again.status_code) == (201, 201) and first.get_json() == again.get_json()
    other = api.post("/applications", json=application_body(id_number=LI, name="李娜"), headers={"Idempotency-Key": "app-1"})
    assert other.status_code == 422 and other.get_json()["error"]["fields"][0]["path"] == "headers.Idempotency-Key"


@pytest.mark.parametrize("code", [r.code for r in REASONS if contest_refusal(r.code) is not None])
def test_every_non_contestable_reason_is_refused_with_the_handbooks_instruction(make, year_in, code):
    year_in("application")
    r = reason(code)
    claim = make.claim(make.application("朝阳区"), indicator=r.indicator, reason=code, message=r.message_zh)
    with pytest.raises(IntakeRefused) as refused:
        submit_review(claim, files={}, upload_dir="/nonexistent")
    assert refused.value.rule == "review.not_contestable" and refused.value.status == 409
    assert r.instruction in refused.value.message_zh
    assert db.session.scalar(select(func.count()).select_from(ReviewCase)) == 0


def test_non_contestable_reason_through_the_api(api, invalid_claim):
    _app_id, claim_id = invalid_claim
    api.put(f"/claims/{claim_id}/registry-result", json={"status": "invalid", "reason": "housing_spouse_invalid"})
    response = post_review(api, claim_id, {"owner_identity": make_pdf("x")})
    assert response.status_code == 409
    assert "此种情况不能申请复查" in response.get_json()["error"]["message_zh"]


def test_review_type_must_fit_the_reason_and_slots_its_checklist(api, year_in, district, make):
    year_in("application")
    created = api.post("/applications", json=application_body(claims=[
        {"indicator": "education", "facts": {"level": "bachelor", "degree": None, "graduated": "2005-07"},
         "filed": {"diploma_no": "1"}}])).get_json()
    claim_id = created["claims"][0]["id"]
    api.put(f"/claims/{claim_id}/registry-result", json={"status": "invalid", "reason": "edu_diploma_identity_mismatch"})
    pdf = make_pdf("hukou")
    assert post_review(api, claim_id, {"household_register": pdf}).get_json()["error"]["fields"][0]["path"] == "review_type"
    wrong = post_review(api, claim_id, {"household_register": pdf}, review_type="tax_violation")
    assert wrong.status_code == 422 and wrong.get_json()["error"]["fields"][0]["path"] == "review_type"
    slot = post_review(api, claim_id, {"lease_contract": pdf}, review_type="edu_name_mismatch")
    assert slot.status_code == 422 and slot.get_json()["error"]["fields"][0]["path"] == "files.lease_contract"
    none = post_review(api, claim_id, {}, review_type="edu_name_mismatch")
    assert none.status_code == 422 and none.get_json()["error"]["fields"][0]["path"] == "files"
    ok = post_review(api, claim_id, {"household_register": pdf}, review_type="edu_name_mismatch")
    assert ok.status_code == 201 and ok.get_json()["queue"] == "education"


def test_review_of_a_bad_file_names_the_slot_and_the_rule(api, invalid_claim, settings):
    _app_id, claim_id = invalid_claim
    response = post_review(api, claim_id, {"owner_identity": make_pdf("ok"),
                                            "ownership_certificate": make_pdf("locked", password="secret")})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "upload.encrypted" and error["fields"][0]["path"] == "files.ownership_certificate"
    assert "加密" in error["message_zh"] and "encrypted" in error["message_en"]
    assert db.session.scalar(select(func.count()).select_from(EvidenceFile)) == 0


def test_reviews_close_with_the_application_phase(api, invalid_claim, year_in):
    """复查 is filed in the application phase; in the result-query phase objections are appeals."""
    app_id, claim_id = invalid_claim
    year_in("result_query")
    response = post_review(api, claim_id, {"owner_identity": make_pdf("late")})
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "phase.review.submit"
    assert "进行填报、修改、删除或复查" in response.get_json()["error"]["message_zh"]
    appeal = api.post(f"/applications/{app_id}/appeals", json={"indicator": "housing", "statement": "房源有效"})
    assert appeal.status_code == 201 and appeal.get_json()["queue"] == "appeals"


def test_evidence_reused_for_another_applicant_is_flagged_on_both_cases(api, year_in, district):
    year_in("application")
    claim_ids = []
    for id_number, name in ((WANG, "王伟"), (LI, "李娜")):
        created = api.post("/applications", json=application_body(id_number=id_number, name=name, claims=[OWN])).get_json()
        claim_ids.append(created["claims"][0]["id"])
        api.put(f"/claims/{claim_ids[-1]}/registry-result", json={"status": "invalid", "reason": "housing_listing_invalid"})
    shared = make_pdf("the same certificate")
    first = post_review(api, claim_ids[0], {"ownership_certificate": shared, "owner_identity": make_pdf("wang id")})
    second = post_review(api, claim_ids[1], {"registry_query_notice": shared, "owner_identity": make_pdf("li id")})
    one, two = (db.session.scalar(select(ReviewCase).where(ReviewCase.number == r.get_json()["number"]))
                for r in (first, second))
    [flag_one] = reuse_flags(one.id)
    [flag_two] = reuse_flags(two.id)
    assert (flag_one.other_case_number, flag_one.material_slot, flag_one.other_material_slot) == (
        two.number, "ownership_certificate", "registry_query_notice")
    assert flag_two.other_case_number == one.number and flag_two.sha256 == flag_one.sha256
    assert "完全相同" in flag_one.message_zh
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "evidence.reused")) == 1
    # The same file stored once.
    assert len({e["sha256"] for e in first.get_json()["evidence"] + second.get_json()["evidence"]}) == 3


def test_same_applicant_resubmitting_a_file_is_not_a_reuse(api, invalid_claim, make, year_in):
    _app_id, claim_id = invalid_claim
    pdf = make_pdf("mine")
    first = post_review(api, claim_id, {"owner_identity": pdf}).get_json()
    case = db.session.scalar(select(ReviewCase).where(ReviewCase.number == first["number"]))
    case.status, case.closed_at = CaseStatus.closed, case.created_at
    db.session.flush()
    second = post_review(api, claim_id, {"owner_identity": pdf})
    assert second.status_code == 201
    assert reuse_flags(case.id) == []


def test_appeal_submit_modify_withdraw_in_the_result_query_phase(api, year_in, district):
    year_in("application")
    created = api.post("/applications", json=application_body(claims=[{"indicator": "employment"}])).get_json()
    app_id = created["id"]
    early = api.post(f"/applications/{app_id}/appeals", json={"indicator": "employment", "statement": "少算了月份"})
    assert early.status_code == 409 and early.get_json()["error"]["code"] == "phase.appeal.submit"
    assert "审核结果查询阶段" in early.get_json()["error"]["message_zh"]
    year_in("result_query")
    response = api.post(f"/applications/{app_id}/appeals", json={"indicator": "employment", "statement": "少算了月份"})
    assert response.status_code == 201
    case = response.get_json()
    assert case["queue"] == "appeals" and case["indicator"] == "employment"
    assert case["claim_id"] == created["claims"][0]["id"]
    again = api.post(f"/applications/{app_id}/appeals", json={"indicator": "employment", "statement": "再次"})
    assert again.status_code == 409
    changed = api.patch(f"/appeals/{case['number']}", json={"statement": "2012年的社保月份少算"})
    assert changed.status_code == 200 and changed.get_json()["statement"] == "2012年的社保月份少算"
    year_in("announcement")
    late = api.patch(f"/appeals/{case['number']}", json={"statement": "x"})
    assert late.status_code == 409 and late.get_json()["error"]["code"] == "phase.appeal.modify"
    assert api.post(f"/appeals/{case['number']}/withdraw").status_code == 409
    year_in("result_query")
    withdrawn = api.post(f"/appeals/{case['number']}/withdraw")
    assert withdrawn.status_code == 200
    assert withdrawn.get_json()["status"] == "closed" and withdrawn.get_json()["withdrawn"] is True
    assert withdrawn.get_json()["status_zh"] == "已撤回"
    assert api.post(f"/appeals/{case['number']}/withdraw").status_code == 409
    assert api.patch(f"/appeals/{case['number']}", json={"statement": ""}).status_code == 422
    actions = set(db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "review_case")))
    assert {"case.received", "appeal.modified", "appeal.withdrawn"} <= actions


def test_case_status_shows_the_final_decision(api, invalid_claim, make):
    _app_id, claim_id = invalid_claim
    number = post_review(api, claim_id, {"owner_identity": make_pdf("d")}).get_json()["number"]
    case = db.session.scalar(select(ReviewCase).where(ReviewCase.number == number))
    reviewer = make.staff("reviewer", "朝阳区")
    db.session.add(Decision(case_id=case.id, outcome=Outcome.rejected, reason_code="certificate_number_wrong",
                            note="产权证号与登记不符", decided_by_id=reviewer.id))
    case.status, case.closed_at = CaseStatus.closed, case.created_at
    db.session.flush()
    body = api.get(f"/cases/{number}").get_json()
    assert body["status"] == "closed" and body["withdrawn"] is False
    assert body["decision"]["outcome"] == "rejected" and body["decision"]["outcome_zh"] == "不予支持"
    assert body["decision"]["note"] == "产权证号与登记不符" and body["decision"]["reason_zh"]


def test_tips_only_during_the_announcement(api, year_in, district):
    year_in("application")
    app_id = api.post("/applications", json=application_body()).get_json()["id"]
    tip = {"statement": "该申请人的房产证系伪造", "reporter": {"name": "周某", "id_number": LI}}
    year_in("result_query")
    refused = api.post(f"/applications/{app_id}/tips", json=tip)
    assert refused.status_code == 409 and "公示期内" in refused.get_json()["error"]["message_zh"]
    year_in("announcement")
    # 第五篇 一、2: a tip concerns a person on the published list.
    unlisted = api.post(f"/applications/{app_id}/tips", json=tip)
    assert unlisted.status_code == 409 and "公示名单" in unlisted.get_json()["error"]["message_zh"]
    from decimal import Decimal

    from backoffice.announcement.services import publish
    from backoffice.applications.models import Application

    from datetime import datetime, time, timezone

    listed = db.session.get(Application, app_id)
    # Scored and submitted in the application phase: ranked, so listed.
    listed.total = Decimal("80.00")
    listed.submitted_at = datetime.combine(listed.year_ref.application_start, time(2), tzinfo=timezone.utc)
    publish(2021, actor_label="test")
    response = api.post(f"/applications/{app_id}/tips", json=tip)
    assert response.status_code == 201
    case = db.session.scalar(select(ReviewCase).where(ReviewCase.number == response.get_json()["number"]))
    assert case.queue == "tips" and case.applicant_statement is None
    report = db.session.get(TipReport, case.id)
    assert report.reporter_id_number == LI and report.statement == tip["statement"]
    # 严格为举报人保密: the reporter appears in no audit event and in no API answer.
    trail = db.session.scalars(select(AuditEvent).where(AuditEvent.object_id == str(case.id))).all()
    assert trail and not any(LI[-4:] in str(e.after) or "周某" in str(e.after) for e in trail)
    assert "周某" not in str(response.get_json())
    bad = api.post(f"/applications/{app_id}/tips", json={**tip, "reporter": {"name": "周某", "id_number": "110105198503140014"}})
    assert bad.status_code == 422 and bad.get_json()["error"]["fields"][0]["path"] == "reporter.id_number"


def test_materials_resubmitted_to_a_returned_case_restart_its_clock(api, invalid_claim, beijing_today):
    from datetime import timedelta
    from io import BytesIO

    _app_id, claim_id = invalid_claim
    number = post_review(api, claim_id, {"owner_identity": make_pdf("first")}).get_json()["number"]
    case = db.session.scalar(select(ReviewCase).where(ReviewCase.number == number))
    due = case.due_date
    case.status, case.paused_on = CaseStatus.awaiting_materials, beijing_today - timedelta(days=7)
    db.session.flush()
    response = api.post(f"/cases/{number}/evidence", content_type="multipart/form-data",
                        data={"ownership_certificate": (BytesIO(make_pdf("certificate")), "c.pdf")})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "open" and {e["slot"] for e in body["evidence"]} == {"owner_identity",
                                                                                   "ownership_certificate"}
    assert date.fromisoformat(body["due_date"]) > due  # the working days it waited are added
    closed = api.post("/cases/2021-110105-999999/evidence", content_type="multipart/form-data",
                      data={"owner_identity": (BytesIO(make_pdf("x")), "x.pdf")})
    assert closed.status_code == 404


def test_the_creator_condition_applies_only_to_the_culture_award_checklist(make, year_in, settings):
    year_in("application")
    application = make.application("朝阳区")
    claim = make.claim(application, indicator="innovation", reason="innovation_invalid", message="无效",
                       claimed={"code": "five_one_project"})
    pdf = make_pdf("award")
    sci = submit_review(claim, review_type="innovation_sci_tech_award", files={"award_certificate": pdf},
                        upload_dir=settings.upload_dir)
    assert sci.review_type == "innovation_sci_tech_award"
    sci.status, sci.closed_at = CaseStatus.closed, sci.created_at
    db.session.flush()
    culture = submit_review(claim, review_type="innovation_culture_award",
                            files={"award_certificate": pdf, "producer_statement": make_pdf("producer")},
                            upload_dir=settings.upload_dir)
    assert {e.material_slot for e in db.session.scalars(select(EvidenceFile).where(EvidenceFile.case_id == culture.id))} \
        == {"award_certificate", "producer_statement"}


def test_a_review_is_owned_by_the_employers_district_and_due_in_ten_working_days(make, settings):
    # Received the day before the 2021 National Day holiday: 1–7 October are off, Saturday
    # 9 October is a make-up working day (调休), so ten working days end on 18 October.
    make.year(2021, application_start=date(2021, 9, 1), application_end=date(2021, 10, 31),
              result_query_start=date(2021, 11, 10), result_query_end=date(2021, 11, 24),
              announcement_start=date(2021, 12, 1), announcement_end=date(2021, 12, 7),
              settlement_start=date(2021, 12, 8), settlement_end=date(2023, 12, 7))
    employer = make.employer("海淀区")
    application = make.application("海淀区", employer=employer)
    claim = make.claim(application)
    case = submit_review(claim, files={"owner_identity": make_pdf("id")}, today=date(2021, 9, 28),
                         upload_dir=settings.upload_dir)
    assert (case.received_on, case.due_date) == (date(2021, 9, 28), date(2021, 10, 18))
    assert case.district_id == employer.district_id == make.district("海淀区").id
    assert case.number == f"2021-110108-{case.id:06d}" and case.queue == "housing"


def test_a_refused_request_does_not_burn_its_idempotency_key(api, year_in, district):
    year_in("application")
    app_id = api.post("/applications", json=application_body()).get_json()["id"]
    appeal = {"indicator": "age", "statement": "出生日期有误"}
    refused = api.post(f"/applications/{app_id}/appeals", json=appeal, headers={"Idempotency-Key": "appeal-1"})
    assert refused.status_code == 409
    year_in("result_query")
    accepted = api.post(f"/applications/{app_id}/appeals", json=appeal, headers={"Idempotency-Key": "appeal-1"})
    replayed = api.post(f"/applications/{app_id}/appeals", json=appeal, headers={"Idempotency-Key": "appeal-1"})
    assert (accepted.status_code, replayed.status_code) == (201, 201)
    assert accepted.get_json()["number"] == replayed.get_json()["number"]
    assert db.session.scalar(select(func.count()).select_from(ReviewCase)) == 1


def test_a_tax_violation_is_contested_through_the_api_beside_the_invalid_year(api, year_in, district):
    """Issue 17 §4: the claim offers both review types, and each is its own open case."""
    year_in("application")
    created = api.post("/applications", json=application_body(claims=[{"indicator": "tax"}])).get_json()
    tax_id = created["claims"][0]["id"]
    registry = api.put(f"/claims/{tax_id}/registry-result", json={
        "status": "valid", "reason": "tax_year_invalid", "message": "2020年无效; 2019年有效; 2018年有效",
        "verified": {"annual": {"2018": 120000, "2019": 120000, "2020": 30000}, "violations": 1}}).get_json()
    assert registry["registry"]["review_types"] == ["tax_annual_amount", "tax_violation"]
    years = post_review(api, tax_id, {"tax_payment_certificate": make_pdf("完税证明")}, review_type="tax_annual_amount")
    violation = post_review(api, tax_id, {"explanation": make_pdf("情况说明")}, review_type="tax_violation")
    assert years.status_code == violation.status_code == 201, violation.get_json()
    assert (years.get_json()["reason"], violation.get_json()["reason"]) == ("tax_year_invalid", "tax_violation_record")
    again = post_review(api, tax_id, {"explanation": make_pdf("再次")}, review_type="tax_violation")
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "case.open_exists"


def test_an_appeal_names_the_disputed_segments_of_housing(api, year_in, district):
    """Issue 17 §3: an indicator with several claims is appealed naming the claims disputed."""
    year_in("application")
    second_home = {"indicator": "housing", "facts": {"type": "own", "from": "2018-01", "to": "2020-12",
                                                     "district": "朝阳区"},
                   "filed": {"certificate_no": "X京房权证朝字第888888号"}}
    created = api.post("/applications", json=application_body(claims=[OWN, second_home])).get_json()
    assert "claims" in created, created
    own_id, second_id = (c["id"] for c in created["claims"])
    other = api.post("/applications", json=application_body(id_number=LI, name="李娜", claims=[OWN])).get_json()
    year_in("result_query")
    foreign = api.post(f"/applications/{created['id']}/appeals", json={
        "indicator": "housing", "statement": "登簿日期有误", "claim_ids": [other["claims"][0]["id"]]})
    assert foreign.status_code == 422 and foreign.get_json()["error"]["fields"][0]["path"] == "claim_ids"
    response = api.post(f"/applications/{created['id']}/appeals", json={
        "indicator": "housing", "statement": "自有住所登簿日期有误", "claim_ids": [own_id]})
    assert response.status_code == 201, response.get_json()
    case = response.get_json()
    assert case["claim_id"] is None and case["claim_ids"] == [own_id] and case["indicator"] == "housing"
    assert second_id not in case["claim_ids"]
    assert api.get(f"/cases/{case['number']}").get_json()["claim_ids"] == [own_id]
