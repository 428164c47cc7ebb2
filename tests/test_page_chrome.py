"""The page frame: bureau, environment and signed-in window in the header, version in the footer, favicon."""
from __future__ import annotations

import dataclasses
import types
from importlib import metadata



def test_the_header_names_the_bureau_the_environment_and_the_window(make, client_for):
    reviewer = make.staff("reviewer", "朝阳区")
    html = client_for(reviewer).get("/admin/").get_data(as_text=True)
    assert "北京市人力资源和社会保障局" in html
    assert 'data-env="test"' in html and "测试环境" in html  # the test suite's app
    header = html[html.index('data-testid="gov-header"'):html.index("</header>")]
    assert "当前窗口：朝阳区服务窗口" in header
    footer = html[html.index('data-testid="gov-footer"'):]
    assert f"版本 {metadata.version('hukou-backoffice')}" in footer
    assert 'rel="icon"' in html


def test_the_english_header_punctuates_in_english(make, client_for):
    import re

    from backoffice.extensions import db

    reviewer = make.staff("reviewer", "朝阳区")
    reviewer.locale = "en"
    db.session.commit()
    html = client_for(reviewer).get("/admin/").get_data(as_text=True)
    header = html[html.index('data-testid="gov-header"'):html.index("</header>")]
    window = re.sub(r"\s+", " ", header[header.index('data-testid="signed-in-window"'):])
    assert "Window: 朝阳区" in window and "：" not in window


def test_the_environment_comes_from_settings(app, settings):
    from backoffice.admin.chrome import environment

    for env, testing, code, label in (("production", False, "production", "生产环境"),
                                      ("test", False, "test", "测试环境"),
                                      ("development", False, "demo", "演示环境"),
                                      ("development", True, "test", "测试环境")):
        frame = types.SimpleNamespace(config={"BACKOFFICE": dataclasses.replace(settings, env=env)}, testing=testing)
        with app.test_request_context("/"):
            assert environment(frame) == (code, label)


def test_the_favicon_is_served(app):
    client = app.test_client()
    for path in ("/favicon.ico", "/static/favicon.svg"):
        response = client.get(path)
        assert response.status_code == 200 and len(response.data) > 100, path
