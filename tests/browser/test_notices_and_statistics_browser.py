"""In the browser: a reviewer decides a 复查, prints its notice (告知书) from the workspace and
reads it; a supervisor and an administrator open the year statistics with their charts."""
from __future__ import annotations

import re

from sqlalchemy import select


def _open_housing_case(live_app) -> tuple[int, str]:
    """An open 朝阳 housing 复查 the other browser tests do not take (the newest, not the oldest)."""
    from backoffice.cases.models import CaseStatus, ReviewCase
    from backoffice.extensions import db
    from backoffice.reference.models import District

    with live_app.app_context():
        district_id = db.session.scalar(select(District.id).where(District.name == "朝阳区"))
        case = db.session.scalars(
            select(ReviewCase).where(ReviewCase.queue == "housing", ReviewCase.status == CaseStatus.open,
                                     ReviewCase.district_id == district_id)
            .order_by(ReviewCase.id.desc())).first()
        result = (case.id, case.number)
        db.session.remove()
        return result


def test_print_a_notice_from_the_workspace_and_open_the_statistics(browser, live_server, live_app, artifacts,
                                                                      sign_in):
    from backoffice.core.pdf import extract_text

    case_id, number = _open_housing_case(live_app)
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    page = context.new_page()
    sign_in(page, live_server, "reviewer")
    page.goto(f"{live_server}/admin/case/{case_id}/")
    assert "尚无告知书" in page.get_by_test_id("notices").inner_text()
    page.click("[data-testid=claim]")
    page.wait_for_load_state()
    page.check("[data-testid=outcome-rejected]")
    page.select_option("[data-testid=reason]", "registry_result_confirmed")
    page.fill("[data-testid=note]", "经与不动产登记部门核对，房源信息无误")
    page.click("[data-testid=decide]")
    page.wait_for_load_state()
    assert page.get_by_test_id("case-status").inner_text() == "已办结"

    notices = page.get_by_test_id("notices")
    assert f"{number}-01" in notices.inner_text() and "复查结果告知书" in notices.inner_text()
    assert re.search(r"1[3-9]\d\*{4}\d{4}", notices.inner_text()), "the SMS recipient, masked"
    notices.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "notice-in-workspace.png"), full_page=True)

    # Print: the button opens the stored PDF in a new tab; the window reads it.
    button = page.get_by_test_id("print-notice")
    assert button.get_attribute("target") == "_blank"
    with context.expect_page() as opened:
        button.click()
    tab = opened.value
    response = page.request.get(live_server + button.get_attribute("href"))
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    text = "".join(extract_text(response.body()).split())
    assert "复查结果告知书" in text and f"编号：{number}-01" in text
    assert "复查结果：不予支持。" in text and "经与不动产登记部门核对，房源信息无误" in text
    assert "朝阳区将台路5号院15号楼A座三层" in text and "010-57596123" in text
    tab.wait_for_timeout(1000)
    tab.screenshot(path=str(artifacts / "notice-pdf-tab.png"))
    context.close()

    # The year statistics: the district supervisor's (朝阳 only) and the city's, charts drawn.
    for username, scope, shot in (("supervisor", "朝阳区", "statistics-district.png"),
                                  ("admin", "全市", "statistics-city.png")):
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
        page = context.new_page()
        sign_in(page, live_server, username)
        page.goto(f"{live_server}/admin/yearstats/")
        page.wait_for_selector("body[data-charts-drawn='10']", timeout=15000)
        assert scope in page.get_by_test_id("stats-scope").inner_text()
        table = page.locator("[data-testid=section-contests_district] table").inner_text()
        assert "复查" in table
        if username == "supervisor":
            assert "海淀区" not in table
        page.screenshot(path=str(artifacts / shot), full_page=True)
        context.close()
