"""Where the back office leans on a framework beyond its public API, a test says so.

* The worklists (backoffice/cases/admin.py) rewrite Flask-Admin's `get_list` on its
  private query helpers — there is no public hook for a capped count or a default filter on
  the count query. pyproject.toml pins Flask-Admin's range; these tests fail on a version
  whose helpers changed, before a worklist silently does.
* The intake API answers JSON for errors under /api/, routing 404/405 included, through the
  app's one error handler and `app.extensions` (public Flask), the HTML pages keep theirs.
"""
from __future__ import annotations

import inspect
import re
import tomllib
from pathlib import Path

from flask_admin import __version__ as flask_admin_version
from flask_admin.contrib.sqla import ModelView
from packaging.specifiers import SpecifierSet

from backoffice.cases.admin import CaseView
from backoffice.extensions import db

ROOT = Path(__file__).resolve().parents[1]


def test_the_installed_flask_admin_is_within_the_pinned_range():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    spec = next(d for d in deps if d.startswith("flask-admin"))
    specifier = SpecifierSet(re.sub(r"^flask-admin(\[[^\]]*\])?", "", spec))
    assert "<" in str(specifier), "the get_list override needs an upper bound on Flask-Admin"
    assert flask_admin_version in specifier


def test_the_private_helpers_the_worklists_override_keep_their_shape():
    expected = {
        "_apply_search": ["query", "count_query", "joins", "count_joins", "search"],
        "_apply_filters": ["query", "count_query", "joins", "count_joins", "filters"],
        "_apply_sorting": ["query", "joins", "sort_column", "sort_desc"],
        "_apply_pagination": ["query", "page", "page_size"],
        "get_list": ["page", "sort_column", "sort_desc", "search", "filters", "execute", "page_size"],
    }
    for name, params in expected.items():
        found = list(inspect.signature(getattr(ModelView, name)).parameters)[1:]
        assert found == params, name
        # The worklist's own versions take the same arguments.
        assert list(inspect.signature(getattr(CaseView, name)).parameters)[1:] == params, name
    # IndexedSearchMixin (admin/base.py) turns the box on through init_search, as Flask-Admin's own does.
    assert list(inspect.signature(ModelView.init_search).parameters) == ["self"]
    assert "self._search_supported = self.init_search()" in inspect.getsource(ModelView._refresh_cache)
    source = inspect.getsource(ModelView.get_list)
    # What our get_list reads from the view, as Flask-Admin's own does.
    assert "self._filters" in source and "self._search_supported" in source


def test_a_worklist_search_filter_and_sort_pass_through_the_override(make, client_for):
    reviewer = make.staff("reviewer", "朝阳区")
    for number in ("S-1", "S-2", "S-3"):
        make.case(district="朝阳区", number=number)
    db.session.commit()
    client = client_for(reviewer)
    html = client.get("/admin/queue_housing/?search=S-2&flt0_assignee=unassigned").get_data(as_text=True)
    assert re.findall(r'data-testid="case-link">([^<]+)<', html) == ["S-2"]
    html = client.get("/admin/queue_housing/?sort=0&desc=1").get_data(as_text=True)
    assert re.findall(r'data-testid="case-link">([^<]+)<', html) == ["S-3", "S-2", "S-1"]


def test_api_errors_answer_json_and_pages_keep_their_html_error_page(app):
    client = app.test_client()
    missing = client.get("/api/v1/no-such-thing")
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "http.404"
    assert missing.get_json()["error"]["message_zh"] == "未找到该接口。"
    wrong = client.delete("/api/v1/openapi.json")
    assert wrong.status_code == 405 and "GET" in wrong.headers["Allow"]
    assert wrong.get_json()["error"]["code"] == "http.405"
    page = client.get("/no-such-page")
    assert page.status_code == 404 and page.mimetype == "text/html"
    assert "未找到" in page.get_data(as_text=True)
