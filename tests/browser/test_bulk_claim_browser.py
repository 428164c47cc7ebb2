"""Bulk claim from a worklist in the browser: Flask-Admin's actions form sends each listed row's
version (hidden inputs with form="action_form", cases/admin.py), so the claim goes through the
mandatory stale-form check and succeeds."""
import re


def test_bulk_claim_sends_the_rows_versions(page, live_server, artifacts, sign_in):
    sign_in(page, live_server, "reviewer_hd")
    page.goto(f"{live_server}/admin/queue_housing/?flt0_assignee=unassigned")
    rows = page.locator("table.model-list tbody tr")
    assert rows.count() >= 2
    numbers = [rows.nth(i).get_by_test_id("case-link").inner_text() for i in range(2)]
    for i in range(2):
        rows.nth(i).locator("input.action-checkbox").check()
    claim = page.get_by_text("领取所选案件")
    page.locator("li.dropdown", has=claim).locator(".dropdown-toggle").click()
    claim.click()
    page.wait_for_url(re.compile(r".*/admin/queue_housing/.*"))
    assert page.get_by_text("已领取 2 件").is_visible()
    page.goto(f"{live_server}/admin/queue_housing/?flt0_assignee=me")
    mine = page.get_by_test_id("case-link").all_inner_texts()
    assert set(numbers) <= set(mine)
    page.screenshot(path=str(artifacts / "bulk-claim.png"), full_page=True)
