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

from backoffice.cases.models import CaseStatus
from backoffice.extensions import db
from backoffice.notices.models import Notice, NotificationOutbox
from backoffice.outbox.models import OutboxMessage
from backoffice.turnaround.sql import beijing_today
from support import csrf_token_from, printed_notice

OWN, OTHER = "朝阳区", "海淀区"
# 第四篇 一、须知, quoted in the appeal result notice.
APPEAL_QUOTE = "异议申诉处理结果将以短信方式和在线方式告知申请人，并用于计算年度总积分。"
PHONE = "13812345678"
FACTS = {"facts-type": "own", "facts-from": "2015-03", "facts-to": "2020-12", "facts-district": "朝阳区"}
TICKED = {"checklist-owner_identity-state": "acceptable", "checklist-ownership_certificate-state": "acceptable"}


def _today_cn() -> str:
    d = beijing_today()
    return f"{d.year}年{d.month}月{d.day}日"


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


def test_a_corrected_review_gives_its_notice_after_the_countersignature(world, client_for):
    reviewer = client_for(world.reviewer)
    _post(reviewer, world.case, "claim")
    _post(reviewer, world.case, "decide", outcome="corrected", reason_code="corrected_after_verification",
          note="按不动产权证书更正居住起始年月", **FACTS, **TICKED)
    # Waiting for the second signature, nothing has reached the applicant yet.
    assert db.session.scalar(select(Notice).where(Notice.case_id == world.case.id)) is None
    boss = client_for(world.supervisor)
    _post(boss, world.case, "countersign", decision="confirm")

    text, html = printed_notice(boss, world.case)
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

    text, _html = printed_notice(reviewer, world.case)
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

    text, html = printed_notice(client, case)
    assert "异议申诉处理结果告知书" in text and "编号：2021-110105-000200-01" in text
    assert "处理结果：不予支持。" in text
    assert "理由：经核实，相关部门核查结果无误，维持原结果。" in text
    assert "原审核结果：无效(房源无效)" in text
    assert APPEAL_QUOTE in text
    # No phone on file: the feed only.
    notice = db.session.scalar(select(Notice).where(Notice.case_id == case.id))
    assert [r.channel for r in notice.deliveries] == ["feed"]


def test_the_generic_service_for_a_decision_recorded_elsewhere(make, client_for):
    """A decision-like object of another module (the settlement module passes its own): the same
    notice, numbered on the case and printable from its workspace."""
    from backoffice.notices.services import NoticeDecision, issue_notice

    supervisor = make.staff("supervisor", OTHER)
    application = make.application(OTHER, applicant=make.applicant(name="王芳"))
    settlement = make.case(application, district=OTHER, queue="settlement", kind="settlement",
                           number="2021-110108-000301", received=date(2021, 11, 2))
    issue_notice(settlement, NoticeDecision(outcome="returned", reason_code="materials_incomplete",
                                            reason_text="材料不全，退回补正", note="缺少户口簿首页复印件",
                                            missing=["申请人户口簿"], problems=[]),
                 "settlement_return", actor=supervisor)
    db.session.commit()

    text, _ = printed_notice(client_for(supervisor), settlement)
    assert "落户材料退回补正告知书" in text and "编号：2021-110108-000301-01" in text
    assert "王芳" in text and "2021年11月2日" in text
    assert "退回理由：材料不全，退回补正。" in text and "说明：缺少户口簿首页复印件" in text
    assert "需补正的材料：1.申请人户口簿" in text
    # Settlement materials wait until the settlement period ends (two years after the list).
    assert "请于2023年10月21日（落户办理期结束）前补正并重新提交" in text
    assert "海淀区西四环北路73号中关村人才发展中心二层" in text and "010-68982166" in text


@pytest.fixture
def objection(make):
    """A 资格异议 of 张丽 (social insurance refused) at the 朝阳 window, with her phone on file."""
    applicant = make.applicant(name="张丽")
    applicant.phone = PHONE
    application = make.application(OWN, applicant=applicant)
    case = make.case(application, queue="eligibility", kind="eligibility_objection",
                     number="2021-110105-000400", received=date(2021, 4, 22))
    case.reason_code = "social_insurance"
    case.applicant_statement = "2014年的断缴月份已补缴"
    db.session.commit()
    return case


def test_an_eligibility_objection_returned_for_materials_asks_for_the_conditions_documents(
        objection, make, client_for):
    reviewer = make.staff("reviewer", OWN)
    db.session.commit()
    client = client_for(reviewer)
    _post(client, objection, "claim")
    _post(client, objection, "decide", outcome="returned", reason_code="elig_materials_missing",
          note="请提供2014年补缴月份的缴费明细")

    text, html = printed_notice(client, objection)
    assert "补正材料告知书" in text and "编号：2021-110105-000400-01" in text
    assert "2021年度积分落户资格异议" in text and "2021-110105-000400" in text
    assert "退回理由：凭证材料不齐全或不清晰，请补正。" in text
    assert "说明：请提供2014年补缴月份的缴费明细" in text
    # The documents of the condition (verifiers/eligibility.py OBJECTION_MATERIALS), brought to the window.
    assert "需补正的材料：1.参保人补缴信息查询2.社会保险个人权益记录（缴费明细）" in text
    assert "请于2021年5月15日（申报阶段结束）前携上述凭证材料到朝阳区积分落户服务窗口补正" in text
    assert "朝阳区将台路5号院15号楼A座三层" in text and "010-57596123" in text
    notice = db.session.scalar(select(Notice).where(Notice.case_id == objection.id))
    assert notice.short_text == ("【积分落户】您的资格异议需补正材料，请于2021年5月15日前上传。"
                                 "详见告知书2021-110105-000400-01。")
    assert notice.short_text in html and "138****5678" in html
    assert [r.channel for r in notice.deliveries] == ["feed", "sms"]


def test_a_rejected_eligibility_objection_gives_its_result_notice(objection, make, client_for):
    reviewer = make.staff("reviewer", OWN)
    db.session.commit()
    client = client_for(reviewer)
    _post(client, objection, "claim")
    _post(client, objection, "decide", outcome="rejected", reason_code="elig_condition_not_met",
          note="补缴记录累计超过5个月")

    text, _html = printed_notice(client, objection)
    assert "资格异议处理结果告知书" in text and "编号：2021-110105-000400-01" in text
    assert "张丽" in text and "2021年4月22日" in text
    # The condition objected to, in 第一篇's heading, and the reason in the rules' words.
    assert "资格条件“在京连续缴纳社会保险7年及以上”的系统提示原因提出的异议" in text
    assert "处理结果：不予支持。" in text
    assert "理由：经核实，不满足该项资格条件，维持系统提示。" in text
    assert "说明：补缴记录累计超过5个月" in text and "原资格条件核查结果维持不变。" in text
    assert "朝阳区将台路5号院15号楼A座三层" in text and "010-57596123" in text
    assert text.endswith("朝阳区积分落户服务窗口" + _today_cn())
    notice = db.session.scalar(select(Notice).where(Notice.case_id == objection.id))
    assert notice.kind == "eligibility_result"
    assert notice.short_text == ("【积分落户】您的资格异议已处理，结果：不予支持。"
                                 "详见告知书2021-110105-000400-01，请登录申报系统查看。")
    assert db.session.scalar(select(OutboxMessage.payload).where(OutboxMessage.topic == "deliver_notice")) \
        == {"notice_id": notice.id}


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
        issued_on="2099年12月31日", condition_title="在京连续缴纳社会保险7年及以上",
        recheck={"eligible": False, "title": "无刑事犯罪记录", "reason": "理" * 100},
        filing_label="国(境)外学历学位认证书", filing_settles="spouse", filing_rejected_text="无效(配偶信息无效)",
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
