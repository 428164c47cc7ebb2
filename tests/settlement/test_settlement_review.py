"""The district window and the city over HTTP: the checklist with its conditions in the
workspace, review and send-up, the city's approval with its letters read back from the PDFs,
who may approve what (also without HTTP), the criminal-record stop, the lapse."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from backoffice.core.pdf import extract_text
from backoffice.extensions import db
from backoffice.feed.models import ApplicantEvent
from backoffice.notices.models import Notice
from backoffice.outbox.models import OutboxMessage
from backoffice.settlement import services
from backoffice.staff.permissions import can_approve_settlement, can_open_settlement, can_review_settlement

from settlement_support import all_acceptable, child, post_form


@pytest.fixture
def people(make):
    return {
        "reviewer": make.staff("reviewer", "朝阳区"),
        "other_district": make.staff("reviewer", "海淀区"),
        "district_supervisor": make.staff("supervisor", "朝阳区"),
        "approver": make.staff("city_approver"),
        "city_supervisor": make.staff("supervisor"),
    }


def _submitted(api, qualified, pdf_bytes, *, children=(), files=None, **kwargs):
    application = qualified(**{k: kwargs.pop(k) for k in ("owner", "certificate", "work_residence", "district")
                               if k in kwargs})
    response = api.submit(application.id, children=children, files=files or "all", **kwargs)
    assert response.status_code == 201, response.get_json()
    return services.settlement_of(application)


def _rows(html: str) -> list[str]:
    import re

    return re.findall(r'<tr data-row="([^"]+)"', html)


def test_the_workspace_shows_children_place_lapse_date_and_each_condition_s_rows(
        api, qualified, pdf_bytes, people, client_for):
    s = _submitted(api, qualified, pdf_bytes, owner="spouse", has_archive="false",
                   agent_name="王五", agent_id_number=child("王五", "1980-01-01")["id_number"],
                   children=[child("小明", "2010-05-01", 1), child("小红", "2015-06-01", 2, parent="father")])
    client = client_for(people["reviewer"])
    html = client.get(f"/admin/settlement/{s.case_id}/").get_data(as_text=True)
    assert "小明" in html and "小红" in html and "自有住房" in html
    assert s.kept_until.isoformat() in html
    rows = _rows(html)
    # Printed forms, ID and household register; spouse-home marriage evidence; per child the
    # household register, birth certificate and marriage evidence; the second child (born
    # before 2016) needs one of the five family-planning proofs, the first none.
    for code in ("materials_list", "application_form", "id_document", "hukou_book", "spouse_home_marriage",
                 "child1_hukou_book", "child1_birth_certificate", "child1_marriage",
                 "child2_hukou_book", "child2_birth_certificate", "child2_marriage",
                 "no_archive_declaration", "power_of_attorney", "agent_id", "home_title"):
        assert code in rows, code
    assert [r for r in rows if r.startswith("child2_") and r not in (
        "child2_hukou_book", "child2_birth_certificate", "child2_marriage")] == [
        "child2_birth_service_card", "child2_birth_permit", "child2_birth_registration",
        "child2_rebirth_confirmation", "child2_other_proof"]
    assert not [r for r in rows if r.startswith("child1_") and "birth_permit" in r]
    assert "archive" not in rows
    assert "须提交（任意一项）" in html and "可不提交" in html
    # The worklist shows the lapse date too.
    worklist = client.get("/admin/queue_settlement/").get_data(as_text=True)
    assert s.case.number in worklist and s.kept_until.isoformat() in worklist and "已受理" in worklist


def test_public_housing_and_collective_routes_ask_for_their_own_evidence(api, qualified, pdf_bytes, people,
                                                                         client_for):
    direct = _submitted(api, qualified, pdf_bytes, place="public_direct", certificate="公房租赁第88号")
    collective = _submitted(api, qualified, pdf_bytes, place="collective", certificate="")
    client = client_for(people["reviewer"])
    assert "public_housing_lease" in _rows(client.get(f"/admin/settlement/{direct.case_id}/").get_data(as_text=True))
    html = client.get(f"/admin/settlement/{collective.case_id}/").get_data(as_text=True)
    assert "unit_collective_household" in _rows(html) and "home_title" not in _rows(html)
    assert "申请人及其配偶、父母、子女在本市均无合法产权住房，可在单位集体户内落户" in html


def _claim_and_send_up(client, s, extra=None):
    assert post_form(client, s.case_id, "claim").status_code == 302
    return post_form(client, s.case_id, "send-up", {**all_acceptable(s), "note": "材料齐全", **(extra or {})})


def test_district_review_then_city_approval_with_the_letters_read_back(api, qualified, pdf_bytes, people,
                                                                      client_for):
    s = _submitted(api, qualified, pdf_bytes, children=[child("小明", "2012-05-01", 1)])
    reviewer = client_for(people["reviewer"])
    # Nothing ticked: refused, naming what is missing.
    post_form(reviewer, s.case_id, "claim")
    refused = post_form(reviewer, s.case_id, "send-up", {"note": "x"})
    assert refused.status_code == 422 and "材料不齐全" in refused.get_data(as_text=True)
    sent = post_form(reviewer, s.case_id, "send-up", {**all_acceptable(s), "note": "材料齐全"})
    assert sent.status_code == 302
    db.session.refresh(s)
    assert s.stage == "sent_to_city" and s.sent_up_by_id == people["reviewer"].id

    # The district reviewer cannot approve at city level.
    html = reviewer.get(f"/admin/settlement/{s.case_id}/").get_data(as_text=True)
    assert "只有市人力资源社会保障局的核准人员可以核准" in html
    refused = post_form(reviewer, s.case_id, "approve", page_html=html)
    assert refused.status_code == 403 and "只有市人力资源社会保障局的核准人员可以核准" in refused.get_data(as_text=True)

    approver = client_for(people["approver"])
    # The city's worklist: what waits for its approval, across districts.
    waiting = _submitted(api, qualified, pdf_bytes, district="海淀区")
    listed = approver.get("/admin/queue_settlement/?flt0_stage=sent_to_city").get_data(as_text=True)
    assert s.case.number in listed and "已报市人力资源社会保障局核准" in listed
    assert waiting.case.number not in listed
    assert waiting.case.number in approver.get("/admin/queue_settlement/").get_data(as_text=True)
    html = approver.get(f"/admin/settlement/{s.case_id}/").get_data(as_text=True)
    assert "政府数据比对函询未发现刑事犯罪记录" in html
    assert post_form(approver, s.case_id, "approve", page_html=html).status_code == 302
    db.session.refresh(s)
    assert s.stage == "approved" and s.case.status.value == "closed"
    numbers = services.letter_numbers(s.letter_year, s.letter_seq)
    applicant = s.application.applicant
    page = approver.get(f"/admin/settlement/{s.case_id}/").get_data(as_text=True)
    assert s.letter_number in page
    titles = {"approval_letter": "北京市人力资源和社会保障局积分落户核准函",
              "transfer_introduction": "北京市人力资源和社会保障局调动介绍信",
              "personnel_registration": "调动人员情况登记表"}
    for kind, title in titles.items():
        response = approver.get(f"/admin/settlement/{s.case_id}/letter/{kind}.pdf")
        assert response.status_code == 200 and response.mimetype == "application/pdf"
        text = extract_text(response.get_data())
        assert title in text and numbers[kind] in text and applicant.name in text, text
        # Reprintable: the same file again.
        assert approver.get(f"/admin/settlement/{s.case_id}/letter/{kind}.pdf").get_data() == response.get_data()
    letter = extract_text(approver.get(f"/admin/settlement/{s.case_id}/letter/approval_letter.pdf").get_data())
    assert "小明" in letter and "可凭本函按有关规定办理调档及落户手续" in letter
    # The district reviewer downloads them too; another district never sees the case.
    assert reviewer.get(f"/admin/settlement/{s.case_id}/letter/approval_letter.pdf").status_code == 200
    other = client_for(people["other_district"])
    assert other.get(f"/admin/settlement/{s.case_id}/").status_code == 404
    assert other.get(f"/admin/settlement/{s.case_id}/letter/approval_letter.pdf").status_code == 404
    # Progress and feed: sent up, approved with the letter number.
    events = [e.text for e in db.session.scalars(select(ApplicantEvent).where(
        ApplicantEvent.application_id == s.application_id).order_by(ApplicantEvent.id))]
    assert "落户办理进度：已报市人力资源社会保障局核准" in events
    assert events[-1] == f"落户办理进度：已核准，函件编号{s.letter_number}"
    progress = api.progress(s.application_id).get_json()
    assert progress["stage_zh"] == "已核准" and progress["letter_number"] == s.letter_number


def test_a_city_supervisor_who_reviewed_the_case_cannot_approve_it(api, qualified, pdf_bytes, people, client_for):
    s = _submitted(api, qualified, pdf_bytes)
    city = client_for(people["city_supervisor"])
    assert _claim_and_send_up(city, s).status_code == 302
    db.session.refresh(s)
    html = city.get(f"/admin/settlement/{s.case_id}/").get_data(as_text=True)
    assert "不能核准自己审核的案件" in html
    assert post_form(city, s.case_id, "approve", page_html=html).status_code == 403
    db.session.refresh(s)
    assert s.stage == "sent_to_city"


def test_permission_rules_without_http(api, qualified, pdf_bytes, people):
    s = _submitted(api, qualified, pdf_bytes)
    services.claim(s, actor=people["city_supervisor"], version=s.case.version)
    services.send_up(s, actor=people["city_supervisor"], ticks={i.code: {"state": "acceptable"}
                                                                for i in services.checklist(s)}, version=s.case.version)
    assert not can_approve_settlement(people["reviewer"], s)
    assert not can_approve_settlement(people["district_supervisor"], s)
    verdict = can_approve_settlement(people["city_supervisor"], s)
    assert not verdict and verdict.message.startswith("不能核准自己审核的案件")
    assert can_approve_settlement(people["approver"], s)
    assert can_open_settlement(people["approver"], s.case) and not can_open_settlement(people["other_district"], s.case)
    assert not can_review_settlement(people["approver"], s.case)


def test_the_city_returns_with_a_reason_and_the_district_sends_again(api, qualified, pdf_bytes, people, client_for):
    s = _submitted(api, qualified, pdf_bytes)
    reviewer = client_for(people["reviewer"])
    _claim_and_send_up(reviewer, s)
    approver = client_for(people["approver"])
    returned = post_form(approver, s.case_id, "city-return", {"reason_code": "materials_doubt", "note": "请核实房产证"})
    assert returned.status_code == 302
    db.session.refresh(s)
    assert s.stage == "district_review"
    progress = api.progress(s.application_id).get_json()
    assert progress["steps"][-1]["reason_zh"] == "材料存疑，请区指定部门核实"
    events = db.session.scalars(select(ApplicantEvent.text).where(ApplicantEvent.application_id == s.application_id)
                                .order_by(ApplicantEvent.id.desc()).limit(1)).all()
    assert events == ["落户办理进度：区指定部门审核中。原因：市人力资源社会保障局退回区审核：材料存疑，请区指定部门核实"]
    # The reviewer who reviewed it still may not approve it, and sends it up again.
    assert post_form(reviewer, s.case_id, "send-up", {**all_acceptable(s), "note": "已核实"}).status_code == 302


def test_the_district_returns_for_materials_and_the_resubmission_resumes(api, qualified, pdf_bytes, people,
                                                                        client_for):
    s = _submitted(api, qualified, pdf_bytes, children=[child("小刚", "2014-03-01", 2)])
    reviewer = client_for(people["reviewer"])
    post_form(reviewer, s.case_id, "claim")
    ticks = {**all_acceptable(s), "checklist-child1_birth_certificate-state": "problem",
             "checklist-child1_birth_certificate-note": "出生医学证明照片模糊"}
    for code in [i.code for i in services.checklist(s) if i.one_of]:
        ticks.pop(f"checklist-{code}-state", None)
    response = post_form(reviewer, s.case_id, "return",
                         {"reason_code": "family_planning_proof_missing", "note": "第二孩生于2016年以前", **ticks})
    assert response.status_code == 302
    assert api.progress(s.application_id).get_json()["stage_zh"] == "已退回，待补正材料"
    # The applicant's notice (落户材料退回补正告知书): printed from the settlement workspace, read back.
    html = reviewer.get(f"/admin/settlement/{s.case_id}/").get_data(as_text=True)
    links = re.findall(r'href="(/admin/notices/\d+\.pdf)"[^>]*data-testid="print-notice"', html)
    assert len(links) == 1
    printed = reviewer.get(links[0])
    assert printed.status_code == 200 and printed.mimetype == "application/pdf"
    text = "".join(extract_text(printed.data).split())
    number = s.case.number
    assert "落户材料退回补正告知书" in text and f"编号：{number}-01" in text and f"案件编号：{number}" in text
    assert s.application.applicant.name in text
    assert "经区指定部门（朝阳区积分落户服务窗口）审核，需补正后重新提交" in text
    assert "退回理由：随迁子女需提交符合计划生育政策凭证。" in text and "说明：第二孩生于2016年以前" in text
    # What is missing by the case's checklist (the child's five proofs: any one), and what is wrong.
    assert "需补正的材料：1.随迁子女1" in text and "符合计划生育政策凭证（任意一项）" in text
    assert "存在问题的材料：1.随迁子女1：《出生医学证明》：出生医学证明照片模糊" in text
    kept = s.kept_until
    assert f"请于{kept.year}年{kept.month}月{kept.day}日（落户资格保留期结束）前补正并重新提交" in text
    assert "朝阳区将台路5号院15号楼A座三层" in text and "010-57596123" in text
    notice = db.session.scalar(select(Notice).where(Notice.case_id == s.case_id))
    assert notice.kind == "settlement_return" and len(notice.short_text) <= 70 and notice.short_text in html
    # Queued with the return (same transaction): the feed always, and the job request.
    assert [r.channel for r in notice.deliveries][0] == "feed"
    assert db.session.scalar(select(OutboxMessage.payload).where(OutboxMessage.topic == "deliver_notice")) \
        == {"notice_id": notice.id}
    again = api.submit(s.application_id, children=[child("小刚", "2014-03-01", 2)],
                       files={"child1_birth_permit": pdf_bytes})
    assert again.status_code == 200 and again.get_json()["stage"] == "district_review"
    db.session.refresh(s)
    assert s.case.status.value == "in_review"


def test_work_residence_points_refuse_a_different_home(api, qualified, pdf_bytes, people, client_for):
    s = _submitted(api, qualified, pdf_bytes, work_residence=True, certificate="X京房权证朝字第9号")
    reviewer = client_for(people["reviewer"])
    html = reviewer.get(f"/admin/settlement/{s.case_id}/").get_data(as_text=True)
    assert "所选落户地址不是该自有住所" in html
    refused = _claim_and_send_up(reviewer, s)
    assert refused.status_code == 422
    assert "取得落户资格后应当在该自有住所落户" in refused.get_data(as_text=True)
    same = _submitted(api, qualified, pdf_bytes, work_residence=True, certificate="X京房权证朝字第1号")
    assert _claim_and_send_up(reviewer, same).status_code == 302


def test_a_criminal_record_stops_the_case_and_marks_the_qualification_revoked(api, qualified, pdf_bytes, people,
                                                                              client_for, tmp_path):
    from backoffice.intake.registry import load_dataset

    s = _submitted(api, qualified, pdf_bytes)
    applicant = s.application.applicant
    (tmp_path / "criminal_records.csv").write_text(
        "id_number,source,document_no,decided_on,summary\n"
        f"{applicant.id_number},judgment,（2022）京0105刑初123号,2022-09-01,盗窃罪\n", encoding="utf-8")
    load_dataset(tmp_path, actor_label="test")
    _claim_and_send_up(client_for(people["reviewer"]), s)
    approver = client_for(people["approver"])
    html = approver.get(f"/admin/settlement/{s.case_id}/").get_data(as_text=True)
    assert "政府数据比对函询发现刑事犯罪记录" in html
    assert post_form(approver, s.case_id, "approve", page_html=html).status_code == 302
    db.session.refresh(s)
    assert s.stage == "stopped" and s.letter_number is None and not s.letters
    application = s.application
    assert application.revoked_at is not None and application.revoked_reason.startswith("刑事犯罪")
    assert "（2022）京0105刑初123号" in application.revoked_reason
    assert api.progress(s.application_id).get_json()["stage_zh"] == "经比对发现刑事犯罪记录，已终止办理"


def test_the_sweep_closes_the_case_on_the_day_after_the_two_years_and_work_is_refused(
        api, qualified, pdf_bytes, people, client_for):
    from backoffice.turnaround.sweep import sweep

    s = _submitted(api, qualified, pdf_bytes)
    sweep(s.kept_until)
    db.session.refresh(s)
    assert s.stage == "received" and s.case.status.value == "open"
    sweep(s.kept_until + timedelta(days=1))
    db.session.refresh(s)
    assert s.stage == "lapsed" and s.case.status.value == "closed"
    assert api.progress(s.application_id).get_json()["stage_zh"] == "逾期视为放弃"
    last = db.session.scalars(select(ApplicantEvent.text).where(ApplicantEvent.application_id == s.application_id)
                              .order_by(ApplicantEvent.id.desc()).limit(1)).one()
    assert last == (f"落户办理进度：逾期视为放弃。原因：落户资格保留2年（至{s.kept_until.isoformat()}），"
                    "逾期未办理的视为自行放弃")
    # A second sweep finds nothing more to close.
    from backoffice.settlement.services import close_lapsed

    assert close_lapsed(s.kept_until + timedelta(days=2)) == 0
    reviewer = client_for(people["reviewer"])
    html = reviewer.get(f"/admin/settlement/{s.case_id}/").get_data(as_text=True)
    assert "逾期视为放弃" in html and 'data-testid="claim"' not in html
    refused = post_form(reviewer, s.case_id, "claim", page_html=html)
    assert refused.status_code == 403 and "逾期未办理的视为自行放弃" in refused.get_data(as_text=True)
    assert api.submit(s.application_id).status_code == 409


def test_whoever_worked_the_district_review_may_not_approve_even_after_a_reassignment(api, qualified, pdf_bytes,
                                                                                       people):
    from backoffice.cases.services import reassign

    s = _submitted(api, qualified, pdf_bytes)
    services.claim(s, actor=people["city_supervisor"], version=s.case.version)
    reassign([s.case], people["reviewer"], reason="交区审核员办理", actor=people["district_supervisor"],
             versions={s.case.id: s.case.version})
    services.send_up(s, actor=people["reviewer"], ticks={i.code: {"state": "acceptable"}
                                                         for i in services.checklist(s)}, version=s.case.version)
    assert not can_approve_settlement(people["city_supervisor"], s)
    assert not can_approve_settlement(people["reviewer"], s)
    # The city returns it; the approver who returned it still approves once it comes back.
    services.return_to_district(s, actor=people["approver"], reason_code="review_incomplete", note="补充审核意见",
                                 version=s.case.version)
    services.send_up(s, actor=people["reviewer"], ticks={i.code: {"state": "acceptable"}
                                                         for i in services.checklist(s)}, version=s.case.version)
    assert can_approve_settlement(people["approver"], s)
    services.approve(s, actor=people["approver"], version=s.case.version)
    assert s.stage == "approved" and len(s.letters) == 3


def test_an_own_home_registered_as_non_residential_cannot_be_sent_up(api, qualified, pdf_bytes, people, client_for,
                                                                     tmp_path):
    from backoffice.intake.registry import load_dataset

    s = _submitted(api, qualified, pdf_bytes, certificate="X京房权证朝字第1号")
    owner = s.application.applicant
    (tmp_path / "real_estate.csv").write_text(
        "certificate_no,owner_id,owner_name,district,use,registered,expires\n"
        f"X京房权证朝字第1号,{owner.id_number},{owner.name},朝阳区,非住宅,2015-01-01,\n", encoding="utf-8")
    load_dataset(tmp_path, actor_label="test")
    reviewer = client_for(people["reviewer"])
    html = reviewer.get(f"/admin/settlement/{s.case_id}/").get_data(as_text=True)
    assert "规划用途不是住宅" in html
    refused = _claim_and_send_up(reviewer, s)
    assert refused.status_code == 422 and "规划用途不是住宅" in refused.get_data(as_text=True)


def test_the_city_approver_works_the_settlement_queue_only(people, client_for):
    approver = client_for(people["approver"])
    home = approver.get("/admin/").get_data(as_text=True)
    assert "落户材料" in home and "queue_housing" not in home
    assert approver.get("/admin/queue_settlement/").status_code == 200
    assert approver.get("/admin/queue_housing/").status_code == 403


def test_a_document_without_its_file_is_never_acceptable_and_the_case_is_not_sent_up(
        api, qualified, pdf_bytes, people, client_for):
    """Issue 17 §6 in settlement: a slot with no file cannot be 已提供 or 合格, sending up is
    refused until every required document has its file, and the workspace says which."""
    s = _submitted(api, qualified, pdf_bytes, files={"id_document": pdf_bytes})
    reviewer = client_for(people["reviewer"])
    html = reviewer.get(f"/admin/settlement/{s.case_id}/").get_data(as_text=True)
    warning = re.search(r'data-testid="missing-uploads">(.*?)</div>', html, re.S).group(1)
    assert "户口簿" in warning and "《积分落户申请表》" in warning and "本人身份证件" not in warning
    # The archive is checked at the window by the archive rules, not uploaded (第五篇 二 3 (4)).
    assert "档案审核按相关规定办理" not in warning
    assert "窗口核查，无需上传" in html
    assert post_form(reviewer, s.case_id, "claim").status_code == 302

    # Every row ticked 合格: the rows without a file are refused one by one, and the refusal
    # names the documents that have none.
    ticked = {f"checklist-{i.code}-state": "acceptable" for i in services.checklist(s)}
    refused = post_form(reviewer, s.case_id, "send-up", {**ticked, "note": "材料齐全"})
    body = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "材料未上传，不能报送：" in body and "户口簿" in body and "《积分落户申请表》" in body
    assert 'data-testid="error-checklist.hukou_book"' in body
    assert 'data-testid="error-checklist.id_document"' not in body
    # 已提供 without a file is refused too; only the uploaded document ticked: still not sent up.
    assert post_form(reviewer, s.case_id, "send-up", {"checklist-hukou_book-state": "present",
                                                      "note": "x"}).status_code == 422
    only_filed = post_form(reviewer, s.case_id, "send-up", {**all_acceptable(s), "note": "材料齐全"})
    assert only_filed.status_code == 422 and "户口簿" in only_filed.get_data(as_text=True)
    db.session.refresh(s)
    assert s.stage == "district_review"

    # The same case with every document's file (the archive row has none, and needs none): sent up.
    complete = _submitted(api, qualified, pdf_bytes)
    assert "missing-uploads" not in reviewer.get(f"/admin/settlement/{complete.case_id}/").get_data(as_text=True)
    assert _claim_and_send_up(reviewer, complete).status_code == 302
    db.session.refresh(complete)
    assert complete.stage == "sent_to_city"


def test_a_note_longer_than_allowed_is_refused_whole_never_cut(api, qualified, pdf_bytes, people, client_for):
    """The page has no maxlength (the browser would cut a pasted note silently): the server
    refuses an overlong note with a message and keeps the case as it was."""
    s = _submitted(api, qualified, pdf_bytes)
    reviewer = client_for(people["reviewer"])
    html = reviewer.get(f"/admin/settlement/{s.case_id}/").get_data(as_text=True)
    assert 'maxlength="2000"' not in html
    post_form(reviewer, s.case_id, "claim")
    refused = post_form(reviewer, s.case_id, "return",
                        {"reason_code": "family_planning_proof_missing", "note": "说" * (services.NOTE_MAX + 1)})
    assert refused.status_code == 422
    assert f"说明不能超过{services.NOTE_MAX}字" in refused.get_data(as_text=True)
    db.session.refresh(s)
    assert s.stage == "district_review"
