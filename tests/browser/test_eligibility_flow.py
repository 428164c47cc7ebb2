"""The eligibility queue in the browser: a window reviewer works a 资格异议 (objection to an
eligibility refusal) and a unit's licence case (单位注册).

The demo year seeds both into 朝阳区's eligibility queue. The reviewer reads the refused condition
in the handbook's words beside the facts the check used, corrects the permit's application date
and decides in the applicant's favour; a supervisor countersigns and the applicant is eligible.
Then the reviewer accepts the unit's licence, and the unit is registered.
"""
from __future__ import annotations

import re

from sqlalchemy import select


def _case_number(live_app, kind: str) -> tuple[int, str]:
    from backoffice.cases.models import ReviewCase
    from backoffice.extensions import db
    from backoffice.reference.models import District

    with live_app.app_context():
        district = db.session.scalar(select(District.id).where(District.name == "朝阳区"))
        case = db.session.scalar(select(ReviewCase).where(ReviewCase.kind == kind, ReviewCase.district_id == district)
                                 .order_by(ReviewCase.id))
        out = (case.id, case.number)
        db.session.remove()
        return out


def _read(live_app, fn):
    from backoffice.extensions import db

    with live_app.app_context():
        try:
            return fn(db.session)
        finally:
            db.session.remove()


def test_objection_and_licence_cases_at_the_window(browser, live_server, live_app, artifacts, sign_in):
    objection_id, objection = _case_number(live_app, "eligibility_objection")
    licence_id, licence = _case_number(live_app, "employer_registration")
    reviewer = browser.new_context(viewport={"width": 1400, "height": 1100}, locale="zh-CN")
    page = reviewer.new_page()
    sign_in(page, live_server, "reviewer")

    # The district's eligibility queue lists both kinds, due dates in working days like every queue.
    page.click("text=工作队列")
    page.click("a.dropdown-item:has-text('资格异议与单位注册')")
    page.wait_for_url(re.compile(r".*/admin/queue_eligibility/.*"))
    listing = page.locator("table.model-list").inner_text()
    assert objection in listing and licence in listing
    assert "资格异议" in listing and "单位注册" in listing
    page.screenshot(path=str(artifacts / "eligibility-queue.png"), full_page=True)

    # The objection: the refused condition's words, the facts used, the documents to look for.
    page.click(f"a[data-testid=case-link]:has-text('{objection}')")
    page.wait_for_url(re.compile(rf".*/admin/case/{objection_id}/"))
    panel = page.get_by_test_id("eligibility-objection")
    assert "应为北京市公安局核发的《北京市居住证》" in panel.inner_text()
    assert "晚于" in page.get_by_test_id("condition-residence_permit").inner_text()
    assert "居住证申领回执" in page.get_by_test_id("objection-materials").inner_text()
    page.click("[data-testid=claim]")
    page.wait_for_load_state()
    page.check("[data-testid=outcome-corrected]")
    page.select_option("[data-testid=reason]", "elig_registry_incomplete")
    year = int(objection[:4])
    page.fill("#facts-number", "京居回执2020001")
    page.fill("#facts-applied_on", f"{year - 1}-12-20")
    page.fill("[data-testid=note]", "申领回执显示上一年度12月20日已申领居住证")
    page.screenshot(path=str(artifacts / "eligibility-objection-decision.png"), full_page=True)
    page.click("[data-testid=decide]")
    page.wait_for_load_state()
    assert page.get_by_test_id("case-status").inner_text() == "待主管复核"

    # The licence case: the unit as filed and why the registries did not admit it; accepted.
    page.goto(f"{live_server}/admin/case/{licence_id}/")
    registration = page.get_by_test_id("employer-registration")
    assert "北京示范新创科技有限公司" in registration.inner_text()
    assert "未查询到该单位在京的税务登记" in page.get_by_test_id("registration-refusal").inner_text()
    page.click("[data-testid=claim]")
    page.wait_for_load_state()
    page.check("[data-testid=outcome-upheld]")
    page.select_option("[data-testid=reason]", "licence_accepted")
    page.fill("[data-testid=note]", "营业执照核验无误，已补录税务登记")
    page.screenshot(path=str(artifacts / "eligibility-licence-decision.png"), full_page=True)
    page.click("[data-testid=decide]")
    page.wait_for_load_state()
    assert page.get_by_test_id("case-status").inner_text() == "已办结"
    reviewer.close()

    # A supervisor countersigns the objection; the applicant is eligible again.
    supervisor = browser.new_context(viewport={"width": 1400, "height": 1100}, locale="zh-CN")
    page = supervisor.new_page()
    sign_in(page, live_server, "supervisor")
    page.goto(f"{live_server}/admin/queue_eligibility/?flt0_status=awaiting_countersign")
    assert objection in page.locator("table.model-list").inner_text()
    page.click(f"a[data-testid=case-link]:has-text('{objection}')")
    assert page.get_by_test_id("countersign-panel").is_visible()
    assert f"{year - 1}-12-20" in page.get_by_test_id("countersign-panel").inner_text()
    page.screenshot(path=str(artifacts / "eligibility-objection-countersign.png"), full_page=True)
    page.click("[data-testid=countersign-confirm]")
    page.wait_for_load_state()
    assert page.get_by_test_id("case-status").inner_text() == "已办结"
    # The applicant's notice (资格异议处理结果告知书), printable from the workspace.
    from backoffice.core.pdf import extract_text

    notices = page.get_by_test_id("notices")
    assert "资格异议处理结果告知书" in notices.inner_text() and f"{objection}-01" in notices.inner_text()
    link = notices.get_by_test_id("print-notice")
    assert link.get_attribute("target") == "_blank"
    printed = page.request.get(live_server + link.get_attribute("href"))
    assert printed.status == 200 and printed.headers["content-type"] == "application/pdf"
    text = "".join(extract_text(printed.body()).split())
    assert "资格异议处理结果告知书" in text and f"编号：{objection}-01" in text and "处理结果：核实后更正。" in text
    assert "经按核实后的信息重新核查，您符合积分落户申请资格条件" in text
    notices.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "eligibility-objection-notice.png"), full_page=True)
    supervisor.close()

    def outcome(session):
        from backoffice.cases.models import ReviewCase
        from backoffice.eligibility.models import EligibilityResult
        from backoffice.reference.models import Employer

        app_id = session.get(ReviewCase, objection_id).application_id
        latest = session.scalar(select(EligibilityResult).where(EligibilityResult.application_id == app_id)
                                .order_by(EligibilityResult.id.desc()).limit(1))
        unit = session.scalar(select(Employer.name).where(Employer.name == "北京示范新创科技有限公司"))
        return latest.eligible, latest.case_id, unit

    eligible, case_id, unit = _read(live_app, outcome)
    assert eligible is True and case_id == objection_id
    assert unit == "北京示范新创科技有限公司"
