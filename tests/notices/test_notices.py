"""Notices (告知书) as the window prints them and the applicant reads them.

Each test decides through the workspace over HTTP (or calls `issue_notice` as the other
modules will), then downloads the notice from the workspace's print link and reads the
PDF's text back.
"""
from __future__ import annotations

import re
from datetime import date
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from backoffice.cases.models import CaseStatus, Decision, Outcome
from backoffice.core.pdf import extract_text
from backoffice.extensions import db
from backoffice.notices.models import Notice, NotificationOutbox
from backoffice.outbox.models import OutboxMessage
from backoffice.turnaround.sql import beijing_today
from support import csrf_token_from

OWN, OTHER = "朝阳区", "海淀区"
# 第四篇 一、须知, quoted in the appeal result notice.
APPEAL_QUOTE = "异议申诉处理结果将以短信方式和在线方式告知申请人，并用于计算年度总积分。"
PHONE = "13812345678"
FACTS = {"facts-type": "own", "facts-from": "2015-03", "facts-to": "2020-12", "facts-district": "朝阳区"}
TICKED = {"checklist-owner_identity-state": "acceptable", "checklist-ownership_certificate-state": "acceptable"}


def _today_cn() -> str:
    d = beijing_today()
    return f"{d.year}年{d.month}月{d.day}日"


def _flat(text: str) -> str:
    """The PDF's text without line wraps (CJK lines break anywhere)."""
    return "".join(text.split())


@pytest.fixture
def world(make):
    applicant = make.applicant(name="张明")
    applicant.phone = PHONE
    application = make.application(OWN, applicant=applicant)
    case = make.case(application, number="2021-110105-000123", received=date(2021, 5, 6))
    case.reason_code = "housing_listing_invalid"
    make.evidence(case, "owner_identity", "ownership_certificate")
    out = SimpleNamespace(
        case=case, applicant=applicant, application=application,
        reviewer=make.staff("reviewer", OWN), supervisor=make.staff("supervisor", OWN),
        other_supervisor=make.staff("supervisor", OTHER), investigator=make.staff("investigator"),
    )
    db.session.commit()
    return out


def _version(html: str) -> str:
    return re.search(r'name="version" value="(\d+)"', html).group(1)


def _post(client, case, action, **data):
    page = client.get(f"/admin/case/{case.id}/").get_data(as_text=True)
    form = {"csrf_token": csrf_token_from(page), "version": _version(page)}
    form.update(data)
    response = client.post(f"/admin/case/{case.id}/{action}", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    return response


def _printed(client, case) -> tuple[str, str]:
    """Open the workspace, follow its (latest) print link, read the PDF: (pdf text, workspace html)."""
    # (A settlement case's workspace is the settlement module's: the case page redirects there.)
    html = client.get(f"/admin/case/{case.id}/", follow_redirects=True).get_data(as_text=True)
    links = re.findall(r'href="(/admin/notices/\d+\.pdf)"[^>]*data-testid="print-notice"', html)
    assert links, "the workspace offers the notice for printing"
    response = client.get(links[-1])
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    return _flat(extract_text(response.data)), html


def test_a_corrected_review_gives_its_notice_after_the_countersignature(world, client_for):
    reviewer = client_for(world.reviewer)
    _post(reviewer, world.case, "claim")
    _post(reviewer, world.case, "decide", outcome="corrected", reason_code="corrected_after_verification",
          note="按不动产权证书更正居住起始年月", **FACTS, **TICKED)
    # Waiting for the second signature, nothing has reached the applicant yet.
    assert db.session.scalar(select(Notice).where(Notice.case_id == world.case.id)) is None
    boss = client_for(world.supervisor)
    _post(boss, world.case, "countersign", decision="confirm")

    text, html = _printed(boss, world.case)
    assert "复查结果告知书" in text
    assert "编号：2021-110105-000123-01" in text
    assert "张明" in text and world.applicant.masked_id in text and world.applicant.id_number not in text
    assert "2021年5月6日" in text and "合法稳定住所指标" in text and "2021-110105-000123" in text
    assert "复查结果：核实后更正。" in text
    assert "理由：材料齐全，核实后更正。" in text
    assert "相关部门核查结果：无效(房源无效)" in text  # the registry's result in the handbook's words
    assert "说明：按不动产权证书更正居住起始年月" in text
    # The window of 附件5: address and telephone.
    assert "朝阳区将台路5号院15号楼A座三层" in text and "010-57596123" in text
    assert text.endswith("朝阳区积分落户服务窗口" + _today_cn())
    # The workspace shows the SMS text and the phone number masked only.
    assert "138****5678" in html and PHONE not in html
    notice = db.session.scalar(select(Notice).where(Notice.case_id == world.case.id))
    assert notice.short_text == ("【积分落户】您的复查申请已办结，结果：核实后更正。"
                                 "详见告知书2021-110105-000123-01，请登录申报系统查看。")
    assert notice.short_text in html
    # Queued for delivery in the decision's transaction: one row per channel and one job request.
    channels = db.session.scalars(select(NotificationOutbox.channel).where(NotificationOutbox.notice_id == notice.id)
                                  .order_by(NotificationOutbox.channel)).all()
    assert channels == ["feed", "sms"]
    assert db.session.scalar(select(OutboxMessage.payload).where(OutboxMessage.topic == "deliver_notice")) \
        == {"notice_id": notice.id}


def test_a_return_for_materials_names_the_missing_slots_and_until_when_the_clock_waits(world, client_for):
    reviewer = client_for(world.reviewer)
    _post(reviewer, world.case, "claim")
    _post(reviewer, world.case, "decide", outcome="returned", reason_code="materials_unclear",
          note="请重新拍摄身份证原件",
          **{"checklist-owner_identity-state": "problem", "checklist-owner_identity-note": "身份证照片模糊"})
    db.session.expire_all()
    assert world.case.status == CaseStatus.awaiting_materials

    text, _html = _printed(reviewer, world.case)
    assert "补正材料告知书" in text and "编号：2021-110105-000123-01" in text
    assert "合法稳定住所指标复查申请" in text
    assert "退回理由：凭证照片不清晰、不完整或有遮挡，退回补正。" in text
    # Missing, by the slots' labels of the materials table (verifiers/materials.py).
    assert "需补正的材料：1.房屋所有权人身份证明文件2.产权证明材料(可为下列凭证之一)" in text
    assert "存在问题的材料：1.房屋所有权人身份证明文件：身份证照片模糊" in text
    # The clock stops today and waits until the application phase ends (2021-05-15 for this year).
    assert f"审核时限自{_today_cn()}起暂停" in text
    assert "请于2021年5月15日（申报阶段结束）前" in text
    notice = db.session.scalar(select(Notice).where(Notice.case_id == world.case.id))
    assert notice.short_text == ("【积分落户】您的复查申请需补正材料，请于2021年5月15日前上传。"
                                 "详见告知书2021-110105-000123-01。")


def test_an_appeal_result_says_how_the_result_is_told(make, client_for):
    applicant = make.applicant(name="李华")
    application = make.application(OWN, applicant=applicant)
    case = make.case(application, queue="appeals", kind="appeal", number="2021-110105-000200",
                     received=date(2021, 8, 12))
    case.reason_code = "housing"
    reviewer = make.staff("reviewer", OWN)
    db.session.commit()
    client = client_for(reviewer)
    _post(client, case, "claim")
    _post(client, case, "decide", outcome="rejected", reason_code="registry_result_confirmed",
          note="经与不动产登记部门核对，原结果无误")

    text, html = _printed(client, case)
    assert "异议申诉处理结果告知书" in text and "编号：2021-110105-000200-01" in text
    assert "处理结果：不予支持。" in text
    assert "理由：经核实，相关部门核查结果无误，维持原结果。" in text
    assert "原审核结果：无效(房源无效)" in text
    assert APPEAL_QUOTE in text
    # No phone on file: the feed only.
    notice = db.session.scalar(select(Notice).where(Notice.case_id == case.id))
    assert [r.channel for r in notice.deliveries] == ["feed"]


def _decision(case, staff, outcome, reason_code, note, checklist=None):
    d = Decision(case_id=case.id, outcome=Outcome(outcome), reason_code=reason_code, note=note,
                 checklist=checklist, decided_by_id=staff.id)
    db.session.add(d)
    db.session.flush()
    return d


def test_the_generic_service_for_settlement_returns_and_eligibility_results(make, client_for):
    from backoffice.notices.services import issue_notice

    supervisor = make.staff("supervisor", OTHER)
    application = make.application(OTHER, applicant=make.applicant(name="王芳"))
    settlement = make.case(application, district=OTHER, queue="settlement", kind="settlement",
                           number="2021-110108-000301", received=date(2021, 11, 2))
    decision = _decision(settlement, supervisor, "returned", "materials_incomplete", "缺少户口簿首页复印件")
    issue_notice(settlement, decision, "settlement_return", actor=supervisor)

    objection = make.case(make.application(OTHER, applicant=make.applicant(name="赵强")), district=OTHER,
                          queue="appeals", kind="appeal", number="2021-110108-000302", received=date(2021, 4, 20))
    decision = _decision(objection, supervisor, "upheld", "verified_valid", "社保缴纳记录已补录")
    issue_notice(objection, decision, "eligibility_result", actor=supervisor)
    db.session.commit()

    client = client_for(supervisor)
    text, _ = _printed(client, settlement)
    assert "落户材料退回补正告知书" in text and "编号：2021-110108-000301-01" in text
    assert "王芳" in text and "2021年11月2日" in text
    assert "退回理由：材料不全，退回补正。" in text and "说明：缺少户口簿首页复印件" in text
    # Settlement materials wait until the settlement period ends (two years after the list).
    assert "请于2023年10月21日（落户办理期结束）前补正并重新提交" in text
    assert "海淀区西四环北路73号中关村人才发展中心二层" in text and "010-68982166" in text

    text, _ = _printed(client, objection)
    assert "资格异议处理结果告知书" in text and "处理结果：予以支持。" in text
    assert "理由：材料齐全，核实无误，认定有效。" in text and "您可登录积分落户在线申报系统继续填报。" in text


def test_notices_are_printed_only_by_the_cases_district(world, client_for):
    reviewer = client_for(world.reviewer)
    _post(reviewer, world.case, "claim")
    _post(reviewer, world.case, "decide", outcome="rejected", reason_code="registry_result_confirmed",
          note="原结果无误")
    notice = db.session.scalar(select(Notice).where(Notice.case_id == world.case.id))
    url = f"/admin/notices/{notice.id}.pdf"
    assert client_for(world.supervisor).get(url).status_code == 200
    assert client_for(world.other_supervisor).get(url).status_code == 404
    assert client_for(world.investigator).get(url).status_code == 403


def test_every_sms_text_fits_one_message_with_the_longest_inputs(app):
    from itertools import product

    from backoffice.notices.models import NOTICE_KINDS
    from backoffice.notices.services import CONTEST_LABELS, SMS_MAX, render_text
    from verifiers.reasons import OUTCOMES

    longest_outcome = max((o.label_zh for o in OUTCOMES), key=len)
    base = dict(
        number="2099-110400-9999999-99",  # a 7-digit case id and the 99th notice of a case
        kind_title="", case_number="2099-110400-9999999", year=2099, applicant_name="欧阳" * 10,
        masked_id="110***********123X", indicator_label="合法稳定住所", received_on="2099年12月31日",
        outcome="corrected", outcome_label=longest_outcome, reason_text="理" * 200, registry_text="无" * 200,
        note="注" * 2000, corrected=None, missing=["材料" * 20] * 9, problems=[{"label": "材料", "note": "注" * 50}],
        paused_on="2099年12月31日", wait_until="2099年12月31日", wait_phase="审核结果查询阶段",
        district_name="北京经济技术开发区", window_address="地" * 60, window_phone="010-69867795 010-69865540 010-69844705",
        issued_on="2099年12月31日",
    )
    with app.test_request_context():
        for kind, contest in product(NOTICE_KINDS, CONTEST_LABELS.values()):
            short = render_text(kind, {**base, "contest": contest}).short_text
            assert len(short) <= SMS_MAX, (kind, len(short), short)
            assert "2099-110400-9999999-99" in short  # the notice number is never cut


def test_applicants_phone_numbers_are_masked_on_their_page(world, client_for, make):
    admin = make.staff("administrator")
    db.session.commit()
    html = client_for(admin).get(f"/admin/applicants/details/?id={world.applicant.id}").get_data(as_text=True)
    assert "138****5678" in html and PHONE not in html


def test_the_appeal_notice_quotes_the_handbook_verbatim():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    candidates = [base / "shared" / "handbook" / "points-handbook-2021.txt" for base in (root.parent, root.parent.parent)]
    handbook = next((c for c in candidates if c.exists()), None)
    if handbook is None:
        pytest.skip("the handbook (shared/handbook) is not beside this checkout")
    assert APPEAL_QUOTE in handbook.read_text(encoding="utf-8")
    template = root / "templates" / "notices" / "appeal_result.txt"
    assert APPEAL_QUOTE in template.read_text(encoding="utf-8")
