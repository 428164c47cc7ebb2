"""A reviewer signs in, sees their queues, opens a worklist; the shell switches to English."""
import re


def test_reviewer_sees_own_queues_and_worklist(page, live_server, artifacts, sign_in):
    page.goto(f"{live_server}/admin/")
    assert "/admin/login/" in page.url
    assert page.locator("text=登录").first.is_visible()
    sign_in(page, live_server, "reviewer")
    assert page.get_by_test_id("current-user").inner_text() == "朝阳审核员"
    table = page.get_by_test_id("my-queues")
    assert table.locator("tr[data-queue=housing]").is_visible()
    assert table.locator("tr[data-queue=tips]").count() == 0
    # The queue with the most open cases (other browser tests of the session decide some).
    counts = {code: int(page.get_by_test_id(f"open-{code}").inner_text())
              for code in (row.get_attribute("data-queue") for row in table.locator("tr[data-queue]").all())
              if code in ("housing", "education", "awards", "tax", "appeals")}  # applicants' review queues
    queue, open_cases = max(counts.items(), key=lambda item: item[1])
    assert open_cases > 0, counts
    page.screenshot(path=str(artifacts / "home-reviewer.png"), full_page=True)

    page.click(f"tr[data-queue={queue}] a")
    page.wait_for_url(re.compile(rf".*/admin/queue_{queue}/.*"))
    rows = page.locator("table.model-list tbody tr")
    assert rows.count() == min(open_cases, 50)  # every open case, up to one page of 50
    body = page.locator("table.model-list").inner_text()
    # IDs are masked in the list: region prefix, eleven stars, last four.
    assert re.search(r"\d{3}\*{11}[\dX]{4}", body)
    assert "海淀区" not in body
    page.screenshot(path=str(artifacts / "worklist-review-queue.png"), full_page=True)


def test_wrong_password_then_english(page, live_server, artifacts, sign_in):
    page.goto(f"{live_server}/admin/login/")
    page.fill("#username", "reviewer_hd")
    page.fill("#password", "not-the-password")
    page.click("button[type=submit]")
    assert "用户名或密码错误" in page.get_by_test_id("login-error").inner_text()
    sign_in(page, live_server, "reviewer_hd")
    page.click("#user-menu")
    page.click("text=English")
    page.wait_for_load_state()
    assert page.locator("text=Overdue").first.is_visible()
    page.screenshot(path=str(artifacts / "home-english.png"), full_page=True)
