"""Filings (填报凭证, verifiers/filings.py) as a client makes them: a claim filed through the
intake API with a spouse's home or an overseas education opens its case at intake, due by the
working-day clock (longer for an old overseas certificate); the client uploads the evidence;
the district decides it with four eyes, and the decision reaches the claim's registry result
and, through the rescoring request, the points."""
from __future__ import annotations

import re
from datetime import date
from io import BytesIO

from sqlalchemy import func, select

from backoffice.applications.models import ScoreSnapshot
from backoffice.applications.scoring_service import rescore_application
from backoffice.cases import clock
from backoffice.cases.models import CaseStatus, ReviewCase
from backoffice.extensions import db
from backoffice.outbox.models import OutboxMessage
from verifiers.filings import ARCHIVE_WORKING_DAYS
from verifiers.turnaround import due_working_days

from intake_pdfs import make_pdf
from intake_support import LI, LIU, ZHAO, application_body
from support import csrf_token_from, printed_notice

OLD_CERTIFICATE = "教留服认美[2005]00001号"  # 旧版认证书编号, issued before 2006-08-01
NEW_CERTIFICATE = "120190000001"


def _overseas(certificate_no: str) -> dict:
    return {"indicator": "education", "facts": {"level": "master", "degree": "master", "graduated": "2012-07"},
            "filed": {"kind": "overseas", "certificate_no": certificate_no}}


SPOUSE_HOME = {"indicator": "housing",
               "facts": {"type": "own", "from": "2016-05", "to": "2020-12", "district": "海淀区"},
               "filed": {"certificate_no": "京(2016)海不动产权第0000100号", "owner": "spouse",
                         "spouse": {"id_number": ZHAO, "name": "赵刚"}}}


def _act(client, case_id: int, action: str, data: dict | None = None):
    """A workspace form as the page sends it: its CSRF token and the case's version."""
    html = client.get(f"/admin/case/{case_id}/").get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', html).group(1)
    return client.post(f"/admin/case/{case_id}/{action}",
                       data={"csrf_token": csrf_token_from(html), "version": version, **(data or {})})


def _upload(api, number: str, slot: str):
    return api.post(f"/cases/{number}/evidence", data={slot: (BytesIO(make_pdf(slot)), f"{slot}.pdf")},
                    content_type="multipart/form-data")


def _rescored_by_the_decision(case: ReviewCase) -> ScoreSnapshot:
    """The outbox holds the decision's rescoring request; run it as the job does."""
    decision = case.decisions[-1]
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.topic == "rescore_application")
                                .order_by(OutboxMessage.id.desc()).limit(1))
    assert message.payload == {"application_id": case.application_id, "trigger": "decision",
                               "decision_id": decision.id}
    return rescore_application(case.application_id, trigger="decision", decision_id=decision.id)


def _points(snapshot: ScoreSnapshot, indicator: str) -> float:
    return float(snapshot.breakdown["indicators"][indicator]["points"])


def test_an_overseas_certificate_is_a_case_at_intake_and_its_decision_makes_the_claim_score(
        api, year_in, district, make, client_for, beijing_today):
    year_in("application")
    created = api.post("/applications", json=application_body(claims=[_overseas(OLD_CERTIFICATE)]))
    assert created.status_code == 201, created.get_json()
    [claim] = created.get_json()["claims"]
    assert claim["registry"]["status"] == "pending"  # 审核中: no department answers for it
    [filing] = claim["filings"]
    # 2006年8月1日之前出具的国外学历学位认证书…因需要核对历史档案，所需时间较长: the longer time.
    assert filing["review_type"] == "edu_overseas_certificate" and filing["status"] == "open"
    assert date.fromisoformat(filing["due_date"]) == clock.add_working_days(beijing_today, ARCHIVE_WORKING_DAYS)
    assert ARCHIVE_WORKING_DAYS > due_working_days("education")

    # A new certificate, filed as a claim of an application already made: the queue's ten days.
    other = api.post("/applications", json=application_body(id_number=LI, name="李娜")).get_json()
    added = api.post(f"/applications/{other['id']}/claims", json=_overseas(NEW_CERTIFICATE))
    assert added.status_code == 201, added.get_json()
    [new_filing] = added.get_json()["filings"]
    assert date.fromisoformat(new_filing["due_date"]) == clock.add_working_days(beijing_today, 10)

    case_out = api.get(f"/cases/{filing['number']}").get_json()
    assert (case_out["kind"], case_out["queue"], case_out["claim_id"]) == ("filing", "education", claim["id"])
    case = db.session.scalar(select(ReviewCase).where(ReviewCase.number == filing["number"]))
    assert case.district_id == district.id

    # The district's education queue lists it; the workspace shows its checklist and what is missing.
    reviewer, supervisor = make.staff("reviewer", "朝阳区"), make.staff("supervisor", "朝阳区")
    desk = client_for(reviewer)
    assert filing["number"] in desk.get("/admin/queue_education/").get_data(as_text=True)
    page = desk.get(f"/admin/case/{case.id}/").get_data(as_text=True)
    assert "填报凭证审核" in page and 'data-row="overseas_recognition_certificate"' in page
    assert 'data-testid="missing-uploads"' in page and "学历学位认证证书" in page
    assert _act(desk, case.id, "claim").status_code == 302
    upheld = {"outcome": "upheld", "reason_code": "verified_valid", "note": "认证书已明确硕士层次，核实无误",
              "checklist-overseas_recognition_certificate-state": "acceptable"}
    refused = _act(desk, case.id, "decide", upheld)
    # Refused: back to the case (post/redirect/get), which names what has no file.
    assert refused.status_code == 302
    assert "该材料未上传" in desk.get(refused.headers["Location"]).get_data(as_text=True)

    # The client uploads the certificate; the reviewer upholds; a supervisor countersigns.
    uploaded = _upload(api, filing["number"], "overseas_recognition_certificate")
    assert uploaded.status_code == 200, uploaded.get_json()
    assert _act(desk, case.id, "decide", upheld).status_code == 302
    db.session.refresh(case)
    assert case.status == CaseStatus.awaiting_countersign
    assert _act(desk, case.id, "countersign", {"decision": "confirm"}).status_code == 403  # never the decider
    assert api.get(f"/claims/{claim['id']}").get_json()["registry"]["status"] == "pending"
    assert _act(client_for(supervisor), case.id, "countersign", {"decision": "confirm"}).status_code == 302
    db.session.refresh(case)
    assert case.status == CaseStatus.closed

    registry = api.get(f"/claims/{claim['id']}").get_json()["registry"]
    assert registry["status"] == "valid" and registry["superseded_by_decision"] is True
    assert registry["verified"] == _overseas(OLD_CERTIFICATE)["facts"]
    text, _html = printed_notice(client_for(supervisor), case)
    assert "填报凭证审核结果告知书" in text and "国(境)外学历学位认证书" in text
    assert "审核结果：予以支持。" in text and "该指标按审核结果计算积分" in text
    # 研究生学历并取得硕士学位: 26 points (第三篇 三), through the decision's rescoring request.
    assert _points(_rescored_by_the_decision(case), "education") == 26


def test_a_spouse_home_opens_the_marriage_evidence_case_and_its_rejection_takes_the_points_away(
        api, year_in, district, make, client_for, beijing_today):
    year_in("application")
    created = api.post("/applications", json=application_body(id_number=LIU, name="刘敏",
                                                                claims=[SPOUSE_HOME, {"indicator": "employment"}]))
    assert created.status_code == 201, created.get_json()
    application_id = created.get_json()["id"]
    claim, employment = created.get_json()["claims"]
    assert employment["filings"] == []
    [filing] = claim["filings"]
    assert filing["review_type"] == "spouse_marriage_evidence"
    assert date.fromisoformat(filing["due_date"]) == clock.add_working_days(beijing_today, due_working_days("housing"))
    case = db.session.scalar(select(ReviewCase).where(ReviewCase.number == filing["number"]))
    assert (case.queue, case.kind.value, case.district_id) == ("housing", "filing", district.id)

    # The real-estate register answers for the listing; the home counts.
    checked = api.post(f"/applications/{application_id}/verify").get_json()["claims"]
    assert [c["registry"]["status"] for c in checked] == ["valid", "valid"]
    before = rescore_application(application_id, trigger="registry").breakdown["indicators"]["housing"]
    assert before["own_months"] > 0

    reviewer, supervisor = make.staff("reviewer", "朝阳区"), make.staff("supervisor", "朝阳区")
    desk = client_for(reviewer)
    assert filing["number"] in desk.get("/admin/queue_housing/").get_data(as_text=True)
    assert "结婚证" in desk.get(f"/admin/case/{case.id}/").get_data(as_text=True)
    assert _upload(api, filing["number"], "marriage_certificate").status_code == 200
    assert _act(desk, case.id, "claim").status_code == 302
    rejected = _act(desk, case.id, "decide", {"outcome": "rejected", "reason_code": "marriage_period_mismatch",
                                               "note": "结婚证登记日期为2015年6月，与填报的婚姻存续时间不一致",
                                               "checklist-marriage_certificate-state": "problem"})
    assert rejected.status_code == 302
    db.session.refresh(case)
    # It takes counted points away: four eyes.
    assert case.status == CaseStatus.awaiting_countersign
    assert _act(client_for(supervisor), case.id, "countersign", {"decision": "confirm"}).status_code == 302
    db.session.refresh(case)
    assert case.status == CaseStatus.closed

    # The applicant's notice says what was decided and what they can do (第三篇 二: no 复查;
    # delete the spouse's home and the spouse's information, then file them again).
    text, _html = printed_notice(desk, case)
    assert "填报凭证审核结果告知书" in text and "刘敏" in text and filing["number"] in text
    assert "填报并上传的配偶名下住所的婚姻凭证" in text and "审核结果：不予支持。" in text
    assert "说明：结婚证登记日期为2015年6月，与填报的婚姻存续时间不一致" in text
    assert "状态显示为“无效(配偶信息无效)”。此种情况不能申请复查，可先删除该配偶住所、再删除对应配偶信息后重新填写。" in text
    registry = api.get(f"/claims/{claim['id']}").get_json()["registry"]
    assert (registry["status"], registry["reason"], registry["message"]) == (
        "invalid", "housing_spouse_invalid", "无效(配偶信息无效)")
    assert registry["contestable"] is False
    # The spouse's home no longer counts as an own home (the months before 2020-08 still count as
    # residence taken from employment, 第三篇 二, at the rental rate): fewer points.
    after = _rescored_by_the_decision(case).breakdown["indicators"]["housing"]
    assert after["own_months"] == 0 and float(after["points"]) < float(before["points"])
    # The register cannot undo the window's finding; filing the claim again can.
    assert api.post(f"/claims/{claim['id']}/verify").get_json()["registry"]["status"] == "invalid"
    refused = api.put(f"/claims/{claim['id']}/registry-result", json={"status": "valid"})
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "registry.filing_rejected"
    # "可先删除该配偶住所…后重新填写": the claim can be deleted; the decided case stays on record.
    assert api.delete(f"/claims/{claim['id']}").status_code == 204
    kept = api.get(f"/cases/{filing['number']}").get_json()
    assert kept["claim_id"] is None and kept["decision"]["reason_code"] == "marriage_period_mismatch"
    assert "凭证中婚姻存续时间与填报信息不一致" in desk.get(f"/admin/case/{case.id}/").get_data(as_text=True)


def test_marriage_evidence_found_valid_leaves_the_register_s_result_and_needs_no_second_signature(
        api, year_in, district, make, client_for):
    year_in("application")
    created = api.post("/applications", json=application_body(id_number=LIU, name="刘敏",
                                                                claims=[SPOUSE_HOME, {"indicator": "employment"}]))
    application_id = created.get_json()["id"]
    claim = created.get_json()["claims"][0]
    number = claim["filings"][0]["number"]
    api.post(f"/applications/{application_id}/verify")
    registry = api.get(f"/claims/{claim['id']}").get_json()["registry"]
    assert registry["status"] == "valid"
    case = db.session.scalar(select(ReviewCase).where(ReviewCase.number == number))
    desk = client_for(make.staff("reviewer", "朝阳区"))
    assert _upload(api, number, "marriage_certificate").status_code == 200
    assert _act(desk, case.id, "claim").status_code == 302
    page = desk.get(f"/admin/case/{case.id}/").get_data(as_text=True)
    assert "凭证中婚姻存续时间与填报信息不一致" in page  # the reasons of this table are offered,
    assert "维持原结果" not in page  # but not "the registry result stands": a filing contests none
    # The window checks the spouse information, not the home's facts: nothing to correct.
    corrected = _act(desk, case.id, "decide", {"outcome": "corrected", "reason_code": "corrected_after_verification",
                                                "note": "x", "checklist-marriage_certificate-state": "acceptable"})
    assert corrected.status_code == 302
    assert "配偶婚姻凭证只能认定有效或不予支持" in desk.get(corrected.headers["Location"]).get_data(as_text=True)
    rescores = db.session.scalar(select(func.count()).select_from(OutboxMessage)
                                 .where(OutboxMessage.topic == "rescore_application"))
    upheld = _act(desk, case.id, "decide", {"outcome": "upheld", "reason_code": "verified_valid",
                                             "note": "结婚证与填报的配偶信息、婚姻存续时间一致",
                                             "checklist-marriage_certificate-state": "acceptable"})
    assert upheld.status_code == 302
    db.session.refresh(case)
    assert case.status == CaseStatus.closed  # no points change: no second signature
    assert api.get(f"/claims/{claim['id']}").get_json()["registry"] == registry
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)
                             .where(OutboxMessage.topic == "rescore_application")) == rescores
