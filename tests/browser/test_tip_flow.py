"""A tip from the queue to a countersigned revocation, in the browser.

The city investigator opens the tips queue, follows a tip to its workspace (the statement,
the reporter, the published line), claims it, records a department check and closes it as
属实·提供虚假材料 with a referral; a city supervisor opens the same tip — the reporter sealed —
and confirms the revocation. The published list shows the application as revoked.
"""
from __future__ import annotations

import re
from datetime import date

from backoffice.demo import demo_year

# The live server's demo year (tests/browser/conftest.py seeds it for today).
DEMO_YEAR = demo_year(date.today())


def _tip_state(live_app, case_id):
    from backoffice.applications.models import Application
    from backoffice.cases.models import ReviewCase
    from backoffice.extensions import db
    from backoffice.intake.models import TipReport as Report

    with live_app.app_context():
        case = db.session.get(ReviewCase, case_id)
        application = db.session.get(Application, case.application_id)
        report = db.session.get(Report, case_id)
        state = (case.status.value, application.revoked_at is not None, application.admitted, report.reporter_name,
                 application.applicant.name)
        db.session.remove()
        return state


def test_investigator_works_a_tip_to_a_countersigned_revocation(browser, live_server, live_app, artifacts, sign_in):
    investigator = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    page = investigator.new_page()
    sign_in(page, live_server, "investigator")
    page.click("text=工作队列")
    page.click("a.dropdown-item:has-text('举报')")
    page.wait_for_url(re.compile(r".*/admin/queue_tips/.*"))
    link = page.locator("a[data-testid=tip-link]").first
    number = link.inner_text()
    link.click()
    page.wait_for_url(re.compile(r".*/admin/tip/\d+/"))
    case_id = int(re.search(r"/admin/tip/(\d+)/", page.url).group(1))
    status, revoked, admitted, reporter_name, applicant_name = _tip_state(live_app, case_id)
    assert status == "open" and not revoked and admitted
    assert page.get_by_test_id("tip-number").inner_text() == number
    assert page.get_by_test_id("reporter").inner_text() == reporter_name  # investigators read the reporter
    assert page.get_by_test_id("statement").inner_text().strip()
    assert applicant_name in page.get_by_test_id("published-line").inner_text()
    page.screenshot(path=str(artifacts / "tip-workspace.png"), full_page=True)

    page.click("[data-testid=claim]")
    page.wait_for_load_state()
    assert page.get_by_test_id("tip-assignee").inner_text() == "市级举报核查员"
    page.select_option("[data-testid=finding-kind]", "check")
    page.fill("[data-testid=finding-department]", "市社会保险基金管理中心")
    page.fill("[data-testid=finding-question]", "社保缴费是否为正常缴纳？")
    page.fill("[data-testid=finding-answer]", "为一次性补缴，补缴凭证系伪造。")
    page.click("[data-testid=add-finding]")
    page.wait_for_load_state()
    assert "市社会保险基金管理中心" in page.get_by_test_id("findings").inner_text()

    page.check("[data-testid=outcome-falsified]")
    page.fill("[data-testid=close-reason]", "经市社保中心核查，社保缴费凭证系伪造，提供虚假材料。")
    page.click("text=属实·提供虚假材料：取消资格")
    page.check("[data-testid=refer-credit]")
    page.screenshot(path=str(artifacts / "tip-workspace-outcome.png"), full_page=True)
    page.click("[data-testid=close-tip]")
    page.wait_for_load_state()
    assert page.get_by_test_id("tip-status").inner_text() == "待主管复核"
    assert page.get_by_test_id("revocation-status").inner_text() == "待主管确认"
    assert page.locator("[data-testid=confirm-revocation]").count() == 0  # not by the one who proposed
    investigator.close()

    supervisor = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    page = supervisor.new_page()
    sign_in(page, live_server, "supervisor_city")
    page.goto(f"{live_server}/admin/tip/{case_id}/")
    assert page.get_by_test_id("reporter").inner_text() == "举报人信息已保密"
    assert reporter_name not in page.content()
    page.screenshot(path=str(artifacts / "tip-workspace-supervisor.png"), full_page=True)
    page.click("[data-testid=confirm-revocation]")
    page.wait_for_load_state()
    assert page.get_by_test_id("revocation-status").inner_text() == "已取消资格"
    assert page.get_by_test_id("tip-status").inner_text() == "已办结"
    status, revoked, admitted, _name, _applicant = _tip_state(live_app, case_id)
    assert status == "closed" and revoked and not admitted

    page.goto(f"{live_server}/admin/announcement/")
    page.click(f"[data-testid=list-link-{DEMO_YEAR}]")
    page.wait_for_url(re.compile(rf".*/admin/announcement/{DEMO_YEAR}/"))
    page.fill("[data-testid=search]", applicant_name)
    with page.expect_navigation():  # the search's own page, not the list still shown before it
        page.keyboard.press("Enter")
    row = page.locator("[data-testid=published-list] tbody tr", has_text=applicant_name).first
    assert "已取消资格" in row.inner_text()
    page.goto(f"{live_server}/admin/announcement/{DEMO_YEAR}/")
    page.screenshot(path=str(artifacts / "published-list.png"), full_page=True)
    supervisor.close()
