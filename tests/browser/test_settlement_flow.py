"""Settlement in the browser (第五篇 二 3): a district reviewer claims a settlement case of
an applicant with an accompanying child, ticks the materials checklist and sends it up; the
city approver approves it and opens the approval letter. Screenshots of both pages and of
the letter go to test-artifacts/."""
from __future__ import annotations

import re

from sqlalchemy import select


def _case_with_child(live_app):
    from backoffice.extensions import db
    from backoffice.settlement.models import SettlementCase

    with live_app.app_context():
        found = [s for s in db.session.scalars(select(SettlementCase).where(SettlementCase.stage == "received")
                                               .order_by(SettlementCase.id))
                 if s.children and s.case.district.name == "朝阳区"]
        assert found, "the demo has a received settlement case with a child in 朝阳区"
        s = found[0]
        result = (s.case_id, s.case.number, s.children[0]["name"])
        db.session.remove()
        return result


def _stage(live_app, case_id):
    from backoffice.extensions import db
    from backoffice.settlement.models import SettlementCase

    with live_app.app_context():
        s = db.session.scalar(select(SettlementCase).where(SettlementCase.case_id == case_id))
        result = (s.stage, s.letter_number)
        db.session.remove()
        return result


def test_district_review_and_city_approval_in_the_browser(browser, live_server, live_app, artifacts, sign_in):
    case_id, number, child_name = _case_with_child(live_app)

    reviewer = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    page = reviewer.new_page()
    sign_in(page, live_server, "reviewer")
    page.click("text=工作队列")
    page.click("a.dropdown-item:has-text('落户材料')")
    page.wait_for_url(re.compile(r".*/admin/queue_settlement/.*"))
    assert number in page.locator("table.model-list").inner_text()
    page.click(f"a[data-testid=case-link]:has-text('{number}')")
    page.wait_for_url(re.compile(rf".*/admin/settlement/{case_id}/"))
    assert child_name in page.get_by_test_id("children").inner_text()
    page.click("[data-testid=claim]")
    page.wait_for_load_state()
    assert page.get_by_test_id("settlement-stage").inner_text() == "区指定部门审核中"

    # The child's rows are in the checklist; tick every document acceptable (one proof per
    # family-planning group is enough), open a file beside it.
    rows = page.locator("[data-testid=checklist] tr[data-row]")
    codes = [rows.nth(i).get_attribute("data-row") for i in range(rows.count())]
    assert "child1_birth_certificate" in codes and "child1_hukou_book" in codes
    seen_groups = set()
    for code in codes:
        group = re.match(r"(child\d+)_(birth_service_card|birth_permit|birth_registration|rebirth_confirmation|other_proof)$", code)
        if group:
            if group.group(1) in seen_groups:
                continue
            seen_groups.add(group.group(1))
        page.check(f"[data-testid=check-{code}-acceptable]")
    page.locator(".ws-file-link").first.click()
    page.fill("#note", "材料齐全，随迁子女凭证核对无误")
    page.wait_for_timeout(800)
    page.screenshot(path=str(artifacts / "settlement-district-review.png"), full_page=True)
    page.click("[data-testid=send-up]")
    page.wait_for_load_state()
    assert page.get_by_test_id("settlement-stage").inner_text() == "已报市人力资源社会保障局核准"
    assert _stage(live_app, case_id)[0] == "sent_to_city"
    reviewer.close()

    approver = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    page = approver.new_page()
    sign_in(page, live_server, "approver")
    page.goto(f"{live_server}/admin/queue_settlement/")
    assert number in page.locator("table.model-list").inner_text()
    page.click(f"a[data-testid=case-link]:has-text('{number}')")
    assert "政府数据比对函询未发现刑事犯罪记录" in page.get_by_test_id("criminal-comparison").inner_text()
    page.screenshot(path=str(artifacts / "settlement-city-approval.png"), full_page=True)
    page.click("[data-testid=approve]")
    page.wait_for_load_state()
    assert page.get_by_test_id("settlement-stage").inner_text() == "已核准"
    stage, letter_number = _stage(live_app, case_id)
    assert stage == "approved" and page.get_by_test_id("letter-number").inner_text() == letter_number

    # The approval letter: its text read back from the PDF, then shown in Chromium's viewer.
    from backoffice.core.pdf import extract_text

    href = page.get_attribute("[data-testid=letter-approval_letter]", "href")
    pdf = page.request.get(f"{live_server}{href}")
    assert pdf.headers["content-type"] == "application/pdf"
    text = extract_text(pdf.body())
    assert letter_number in text and child_name in text
    (artifacts / "settlement-approval-letter.pdf").write_bytes(pdf.body())
    letter = approver.new_page()
    letter.goto(f"{live_server}{href}")
    letter.wait_for_timeout(2000)
    letter.screenshot(path=str(artifacts / "settlement-approval-letter.png"))
    approver.close()
