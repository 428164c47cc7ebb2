"""Each role's main pages in English, as a person switching the language in the user menu sees
them: no Chinese outside handbook quotations (lang="zh-Hans") and names (issue 13 §4).
The score's explanation reads in English (the engine's Chinese lines rendered from its figures).
The choice is stored on the account, so the test switches back to Chinese for the other
browser tests that share the live server."""
import re

import pytest

from english_pages import chinese_left, data_names

PAGES = {
    "reviewer": ["/admin/", "/admin/queue_housing/"],
    "supervisor": ["/admin/", "/admin/turnaround/", "/admin/yearstats/"],
    "supervisor_city": ["/admin/", "/admin/announcement/"],
    "investigator": ["/admin/"],
    "admin": ["/admin/", "/admin/jobs/"],
}


def _choose(page, code: str):
    page.click("#user-menu")
    page.click(f"form[action$='/locale'] button[lang='{code.replace('_', '-')}']")
    page.wait_for_load_state()


def _check(login, urls, page, live_server, live_app, artifacts, sign_in):
    from backoffice.extensions import db

    with live_app.app_context():
        names = data_names(db.session)
    sign_in(page, live_server, login)
    _choose(page, "en")
    try:
        for url in urls:
            if url == "workspace":
                page.goto(f"{live_server}/admin/queue_housing/")
                link = page.locator("table.model-list a[href*='/admin/case/']").first
                page.goto(live_server + link.get_attribute("href"))
            else:
                page.goto(live_server + url)
            page.wait_for_load_state()
            html = page.content()
            left = chinese_left(html, names)
            name = re.sub(r"\W+", "-", url.strip("/")) or "home"
            page.screenshot(path=str(artifacts / f"english-{login}-{name}.png"), full_page=True)
            assert not left, f"{login} {url} in English still shows:\n" + "\n".join(left)
    finally:
        _choose(page, "zh_Hans_CN")


@pytest.mark.parametrize("login", sorted(PAGES))
def test_each_role_s_pages_in_english(login, page, live_server, live_app, artifacts, sign_in):
    _check(login, PAGES[login], page, live_server, live_app, artifacts, sign_in)


def test_a_case_workspace_in_english(page, live_server, live_app, artifacts, sign_in):
    _check("reviewer", ["workspace"], page, live_server, live_app, artifacts, sign_in)
