"""The administrator's staff form in a browser: a reviewer without a district is refused on the
form (the district field says why, the input is kept, no error page), the language is a choice;
with the district chosen the account is saved."""
import re
import uuid


def test_staff_form_says_a_reviewer_needs_a_district(page, live_server, artifacts, sign_in):
    sign_in(page, live_server, "admin")
    page.goto(f"{live_server}/admin/staff/new/")
    username = f"reviewer_{uuid.uuid4().hex[:6]}"
    page.fill("#username", username)
    page.fill("#full_name", "新来的审核员")
    page.select_option("#role", "reviewer", force=True)
    # The language is a choice of the two the back office speaks, not a free-text box.
    assert page.locator("select#locale option").all_inner_texts() == ["中文", "English"]
    page.fill("#new_password", "a-long-and-unusual-passphrase-42")
    page.click("form.admin-form button[type=submit], form.admin-form input[type=submit]")
    page.wait_for_load_state()

    assert "/admin/staff/new/" in page.url  # the form again, not an error page
    error = page.locator("text=审核员须属于一个区，请选择区")
    assert error.first.is_visible()
    assert page.input_value("#full_name") == "新来的审核员"  # what was typed is kept
    assert "500" not in page.title() and "Internal" not in page.content()
    assert "Failed to create record" not in page.content()  # Flask-Admin's flash, said in Chinese
    assert page.locator("text=未保存：请改正下面标出的内容").first.is_visible()
    page.screenshot(path=str(artifacts / "staff-form-district-error.png"), full_page=True)

    page.select_option("#district", label="朝阳区", force=True)
    page.fill("#new_password", "a-long-and-unusual-passphrase-42")
    page.click("form.admin-form button[type=submit], form.admin-form input[type=submit]")
    page.wait_for_url(re.compile(r".*/admin/staff/(\?.*)?$"))
    row = page.locator("table.model-list tr", has_text=username)
    assert row.count() == 1 and "朝阳区" in row.inner_text() and "审核员" in row.inner_text()
