"""The case workspace over HTTP: who reaches it, evidence, decisions, four eyes, stale forms."""
from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfWriter
from sqlalchemy import func, select

from backoffice.applications.models import EvidenceFile
from backoffice.audit.models import AuditEvent
from backoffice.cases import services
from backoffice.cases.models import CaseStatus, Countersignature
from backoffice.extensions import db
from backoffice.outbox.models import OutboxMessage
from support import csrf_token_from
from verifiers.uploads import store

OWN, OTHER = "朝阳区", "海淀区"
FACTS = {"facts-type": "own", "facts-from": "2015-03", "facts-to": "2020-12", "facts-district": "朝阳区"}
TICKED = {"checklist-owner_identity-state": "acceptable", "checklist-ownership_certificate-state": "acceptable"}


def _pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _version(html: str) -> str:
    return re.search(r'name="version" value="(\d+)"', html).group(1)


def _outbox():
    """Rescoring requests (a decision also queues its notice's delivery: backoffice/notices)."""
    return db.session.scalar(select(func.count()).select_from(OutboxMessage)
                             .where(OutboxMessage.topic == "rescore_application"))


@pytest.fixture
def world(make, settings):
    info = store(_pdf(), settings.upload_dir)
    out = {}
    for tag, district in (("own", OWN), ("other", OTHER)):
        case = make.case(district=district, number=f"WS-{tag.upper()}")
        case.reason_code = "housing_listing_invalid"
        evidence = EvidenceFile(case_id=case.id, material_slot="owner_identity", sha256=info.sha256,
                                size=info.size, pages=info.pages)
        certificate = EvidenceFile(case_id=case.id, material_slot="ownership_certificate", sha256=info.sha256,
                                   size=info.size, pages=info.pages)
        db.session.add_all([evidence, certificate])
        db.session.flush()
        out[tag] = (case, evidence)
    out["tip"] = make.case(district=OWN, queue="tips", kind="tip", number="WS-TIP")
    out["reviewer"] = make.staff("reviewer", OWN)
    out["supervisor"] = make.staff("supervisor", OWN)
    db.session.commit()
    return out


def _get(client, case):
    return client.get(f"/admin/case/{case.id}/")


def _post(client, case, action, **data):
    page = _get(client, case).get_data(as_text=True)
    form = {"csrf_token": csrf_token_from(page), "version": _version(page)}
    form.update(data)
    return client.post(f"/admin/case/{case.id}/{action}", data=form)


def _shown_back(client, case, response):
    """A refused form redirects back to the case (post/redirect/get); the case page then shows
    the message and what was typed, once."""
    assert response.status_code == 302, response.status_code
    assert response.headers["Location"].endswith(f"/admin/case/{case.id}/")
    html = _get(client, case).get_data(as_text=True)
    again = _get(client, case).get_data(as_text=True)
    assert 'data-testid="action-error"' not in again  # a reload shows the case, not the old error
    return html


def test_the_workspace_shows_the_claim_beside_the_registry_and_the_files(world, client_for):
    case, evidence = world["own"]
    html = _get(client_for(world["reviewer"]), case).get_data(as_text=True)
    applicant = case.application.applicant
    assert applicant.masked_id in html and applicant.id_number not in html
    assert "无效(房源无效)" in html  # the registry result in the handbook's words
    assert "2014-08" in html  # the claim as filed
    assert f"/admin/evidence/download/{evidence.id}" in html
    # The checklist of the review type: the owner's identity and the one-of ownership proofs.
    assert "房屋所有权人身份证明文件" in html and "不动产登记信息查询结果告知单" in html
    assert "产权证明材料" in html
    assert 'data-testid="claim"' in html and "<fieldset disabled>" in html  # claim first; the form waits


def test_other_districts_tips_and_other_roles_cannot_reach_it(world, client_for, make, app):
    other_case, other_file = world["other"]
    client = client_for(world["reviewer"])
    assert _get(client, other_case).status_code == 404
    assert _get(client, world["tip"]).status_code == 404
    own_page = _get(client, world["own"][0]).get_data(as_text=True)
    token = csrf_token_from(own_page)
    for action in ("claim", "release", "decide", "countersign", "reassign"):
        response = client.post(f"/admin/case/{other_case.id}/{action}", data={"csrf_token": token, "version": "1"})
        assert response.status_code == 404, action
    assert client.get(f"/admin/evidence/download/{other_file.id}").status_code == 404
    db.session.expire_all()
    assert other_case.assignee_id is None
    # Administrators and investigators do not work cases; signed-out users go to the sign-in page.
    admin_client = client_for(make.staff("administrator", None))
    assert _get(admin_client, world["own"][0]).status_code == 403
    assert app.test_client().get(f"/admin/case/{world['own'][0].id}/").status_code == 302


def test_opening_a_file_is_served_inline_restricted_and_audited(world, client_for):
    case, evidence = world["own"]
    response = client_for(world["reviewer"]).get(f"/admin/evidence/download/{evidence.id}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("inline")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'self'" in csp and "sandbox" in csp
    assert db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "evidence.viewed", AuditEvent.object_id == str(evidence.id),
        AuditEvent.actor_id == world["reviewer"].id)) is not None


def test_claim_decide_countersign_over_http(world, client_for, make):
    case, _evidence = world["own"]
    reviewer, supervisor = world["reviewer"], world["supervisor"]
    client = client_for(reviewer)
    assert _post(client, case, "claim").status_code == 302
    page = _get(client, case).get_data(as_text=True)
    assert "<fieldset disabled>" not in page

    response = _post(client, case, "decide", outcome="corrected", reason_code="corrected_after_verification",
                     note="按不动产权证书更正居住起始年月", **FACTS, **TICKED)
    assert response.status_code == 302
    db.session.expire_all()
    assert case.status == CaseStatus.awaiting_countersign
    before = _outbox()

    # The reviewer cannot countersign; a supervisor of another district cannot even see it.
    assert _post(client, case, "countersign", decision="confirm").status_code == 403
    other_supervisor = make.staff("supervisor", OTHER)
    db.session.commit()
    assert _get(client_for(other_supervisor), case).status_code == 404

    boss = client_for(supervisor)
    page = _get(boss, case).get_data(as_text=True)
    assert 'data-testid="countersign-panel"' in page and "2015-03" in page
    # The supervisor sees what the reviewer ticked.
    assert re.search(r'data-testid="check-owner_identity-acceptable"\s+checked', page)
    assert _post(boss, case, "countersign", decision="confirm").status_code == 302
    db.session.expire_all()
    assert case.status == CaseStatus.closed
    assert case.claim.verified == {"type": "own", "from": "2015-03", "to": "2020-12", "district": "朝阳区"}
    assert _outbox() == before + 1
    assert "已办结" in _get(boss, case).get_data(as_text=True)


def test_the_decider_cannot_countersign(world, client_for, make):
    case, _evidence = world["own"]
    supervisor = world["supervisor"]
    client = client_for(supervisor)
    _post(client, case, "claim")
    _post(client, case, "decide", outcome="corrected", reason_code="corrected_after_verification",
          note="更正", **FACTS, **TICKED)
    page = _get(client, case).get_data(as_text=True)
    assert 'data-testid="countersign-refused"' in page and "自己" in page
    response = _post(client, case, "countersign", decision="confirm")
    assert response.status_code == 403
    db.session.expire_all()
    assert case.status == CaseStatus.awaiting_countersign
    assert db.session.scalar(select(func.count()).select_from(Countersignature)) == 0


def test_reason_and_note_are_required_by_the_server_and_input_is_kept(world, client_for):
    case, _evidence = world["own"]
    client = client_for(world["reviewer"])
    _post(client, case, "claim")
    response = _post(client, case, "decide", outcome="rejected", reason_code="", note="   ")
    html = _shown_back(client, case, response)
    assert 'data-testid="error-reason_code"' in html and 'data-testid="error-note"' in html
    response = _post(client, case, "decide", outcome="rejected", reason_code="materials_mismatch", note="",
                     **{"checklist-owner_identity-note": "照片被遮挡"})
    html = _shown_back(client, case, response)
    assert 'value="materials_mismatch" data-outcome="rejected" selected' in html
    assert "照片被遮挡" in html  # the checklist note typed is shown back
    db.session.expire_all()
    assert case.status == CaseStatus.in_review and not case.decisions


def test_only_the_assignee_decides_over_http(world, client_for, make):
    case, _evidence = world["own"]
    _post(client_for(world["reviewer"]), case, "claim")
    colleague = make.staff("reviewer", OWN)
    db.session.commit()
    response = _post(client_for(colleague), case, "decide", outcome="rejected", reason_code="materials_mismatch",
                     note="不符")
    assert response.status_code == 403
    assert "只有承办人" in response.get_data(as_text=True)
    db.session.expire_all()
    assert not case.decisions


def test_a_stale_form_is_refused_and_the_typed_note_is_shown_back(world, client_for):
    case, _evidence = world["own"]
    reviewer, supervisor = world["reviewer"], world["supervisor"]
    client = client_for(reviewer)
    _post(client, case, "claim")
    page = _get(client, case).get_data(as_text=True)
    stale_version = _version(page)
    # Meanwhile a supervisor moves the case away and back.
    boss = client_for(supervisor)
    colleague_page = _get(boss, case).get_data(as_text=True)
    db.session.expire_all()
    services.reassign([case], supervisor, reason="临时接手", actor=supervisor, versions={case.id: case.version})
    services.reassign([case], reviewer, reason="交回", actor=supervisor, versions={case.id: case.version})
    db.session.commit()
    # The supervisor's page had shown the case as the reviewer's, in review.
    assert reviewer.full_name in colleague_page and "审核中" in colleague_page

    note = "产权证复印件与原件一致，登簿日期为2015年3月"
    response = client.post(f"/admin/case/{case.id}/decide", data={
        "csrf_token": csrf_token_from(page), "version": stale_version, "outcome": "rejected",
        "reason_code": "materials_mismatch", "note": note,
    })
    html = _shown_back(client, case, response)
    assert "已被他人处理" in html and note in html
    assert _version(html) != stale_version  # the form now carries the current version
    db.session.expire_all()
    assert case.status == CaseStatus.in_review and not case.decisions


def test_returned_for_materials_writes_no_rescoring_request(world, client_for):
    case, _evidence = world["own"]
    client = client_for(world["reviewer"])
    _post(client, case, "claim")
    before = _outbox()
    response = _post(client, case, "decide", outcome="returned", reason_code="materials_incomplete",
                     note="请补充房屋所有权证")
    assert response.status_code == 302
    db.session.expire_all()
    assert case.status == CaseStatus.awaiting_materials and case.paused_on is not None
    assert _outbox() == before


def test_a_failing_outbox_write_rolls_the_decision_back(world, client_for, monkeypatch):
    case, _evidence = world["own"]
    client = client_for(world["reviewer"])
    _post(client, case, "claim")
    _post(client, case, "decide", outcome="corrected", reason_code="corrected_after_verification",
          note="更正", **FACTS, **TICKED)
    boss = client_for(world["supervisor"])
    page = _get(boss, case).get_data(as_text=True)

    def broken(*args, **kwargs):
        raise RuntimeError("outbox unavailable")

    monkeypatch.setattr(services, "request_rescore", broken)
    with pytest.raises(RuntimeError):
        boss.post(f"/admin/case/{case.id}/countersign", data={
            "csrf_token": csrf_token_from(page), "version": _version(page), "decision": "confirm"})
    db.session.expire_all()
    assert case.status == CaseStatus.awaiting_countersign
    assert case.claim.verified is None
    assert db.session.scalar(select(func.count()).select_from(Countersignature)) == 0


def test_release_and_reassign_from_the_workspace(world, client_for):
    case, _evidence = world["own"]
    reviewer, supervisor = world["reviewer"], world["supervisor"]
    client = client_for(reviewer)
    _post(client, case, "claim")
    assert _post(client, case, "release").status_code == 302
    db.session.expire_all()
    assert case.assignee_id is None and case.status == CaseStatus.open
    boss = client_for(supervisor)
    refused = _post(boss, case, "reassign", assignee_id=str(reviewer.id), reason="")
    assert 'data-testid="error-reason"' in _shown_back(boss, case, refused)
    assert _post(boss, case, "reassign", assignee_id=str(reviewer.id), reason="熟悉该小区").status_code == 302
    db.session.expire_all()
    assert case.assignee_id == reviewer.id and case.status == CaseStatus.in_review
    assert reviewer.full_name in _get(client, case).get_data(as_text=True)


def test_appeals_and_settlement_cases_open_without_a_materials_table(world, client_for, make):
    reviewer = world["reviewer"]
    appeal = make.case(district=OWN, queue="appeals", kind="appeal", number="WS-APPEAL")
    appeal.reason_code = "housing"
    settlement = make.case(district=OWN, queue="settlement", kind="settlement", number="WS-SETTLE")
    from datetime import date

    from backoffice.settlement.models import SettlementCase

    db.session.add(SettlementCase(case_id=settlement.id, application_id=settlement.application_id,
                                  kept_until=date(2023, 10, 21)))
    db.session.commit()
    client = client_for(reviewer)
    html = _get(client, appeal).get_data(as_text=True)
    assert "该类案件没有材料清单" in html and "合法稳定住所" in html
    # A settlement case has its own workspace (checklist of 第五篇 二 3, two levels): backoffice/settlement.
    moved = _get(client, settlement)
    assert moved.status_code == 302 and moved.headers["Location"].endswith(f"/admin/settlement/{settlement.id}/")
    # An appeal is upheld with a general reason; no checklist is asked for.
    _post(client, appeal, "claim")
    response = _post(client, appeal, "decide", outcome="upheld", reason_code="verified_valid", note="申诉成立")
    assert response.status_code == 302
    db.session.expire_all()
    assert appeal.status == CaseStatus.awaiting_countersign  # the appealed claim was invalid


def test_the_workspace_in_english(world, client_for):
    reviewer = world["reviewer"]
    reviewer.locale = "en"
    db.session.commit()
    html = _get(client_for(reviewer), world["own"][0]).get_data(as_text=True)
    assert "Materials checklist" in html and "Identity document of the owner" in html
    assert "Submit decision" in html


def test_the_workspace_score_rows_add_up_to_the_total_with_the_education_deduction(make, client_for):
    """第三篇 十、1's table: the deduction is a row of its own under 教育背景, so the rows sum."""
    import re
    from datetime import date
    from decimal import Decimal

    from backoffice.applications.scoring_service import rescore_application

    application = make.application(OWN, applicant=make.applicant(birth=date(1985, 3, 14)))
    employment = {"insurance": {t: {"paid": [["2011-01", "2020-12"]], "back_paid": []}
                                for t in ("pension", "medical", "unemployment", "injury", "maternity")},
                  "work_districts": [{"from": "2011-01", "to": "2020-12", "district": "朝阳区"}]}
    education = {"level": "bachelor", "degree": "bachelor", "graduated": "2015-07"}
    for indicator, facts in (("employment", employment), ("education", education)):
        claim = make.claim(application, indicator=indicator, status="valid", reason=None, claimed=facts)
        claim.verified = facts
    db.session.flush()
    rescore_application(application.id, trigger="intake")
    case = make.case(application, district=OWN)
    reviewer = make.staff("reviewer", OWN)
    db.session.commit()

    page = client_for(reviewer).get(f"/admin/case/{case.id}/").get_data(as_text=True)
    table = page[page.index('data-testid="score-rows"'):]
    table = table[:table.index("</table>")]
    rows = re.findall(r'data-indicator="([a-z_]+)"><td>([^<]+)</td>\s*<td[^>]*>\s*(?:<span[^>]*>[^<]*</span>)?\s*(-?\d+\.\d\d)',
                      table)
    points = {code: Decimal(value) for code, _label, value in rows}
    # Bachelor with degree: 15 points, window 4 years before 2015-07 (2011-07 … 2015-06, 48 months,
    # all insured and in period A): 48 × 3/12 + 48 × 0.5/12 = 12 + 2 = 14 deducted.
    assert points["education"] == Decimal("15.00")
    assert points["education_deduction"] == Decimal("-14.00")
    assert any(label == "扣除获得学历(学位)期间累计的居住及就业分值" for _c, label, _v in rows)
    total = Decimal(re.search(r'data-testid="snapshot-total">([\d.]+)<', page).group(1))
    assert sum(points.values()) == total


def test_the_workspace_names_the_materials_that_have_no_file(make, client_for):
    bare = make.case(district=OWN, number="WS-BARE")
    reviewer = make.staff("reviewer", OWN)
    db.session.commit()
    page = client_for(reviewer).get(f"/admin/case/{bare.id}/").get_data(as_text=True)
    notice = page[page.index('data-testid="missing-uploads"'):]
    notice = notice[:notice.index("</div>")]
    assert "以下材料尚未上传" in notice and "产权证明材料" in notice
