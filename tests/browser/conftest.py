"""Browser tests: Debian's chromium driven by Playwright against a live server.

The live server runs in a thread on its own database (seeded with the demo year), since
the per-test rolled-back transaction of the other tests is invisible to it. Where chromium
or Playwright is missing the tests skip, with the reason printed in the run's summary
(-ra); in CI (CI=true, as .ci/run sets it) they fail instead, so a browser that could not
be installed never turns into a green run without browser tests.
"""
from __future__ import annotations

import dataclasses
import os
import threading
import uuid
from pathlib import Path

import pytest

#: Debian's chromium; .ci/run installs it and checks this very path.
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def missing(reason: str):
    """In CI a missing browser fails the run; elsewhere the test skips with the reason."""
    if in_ci():
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "browser" in item.path.parts:
            item.add_marker(pytest.mark.no_db)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        missing(f"{CHROMIUM} not installed (apt-get install -y chromium); browser tests skipped")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("playwright not installed (make install)")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def live_database(tmp_path_factory):
    from support import fresh_database  # tests/support.py

    with fresh_database("bo_live", tmp_path_factory.mktemp("live")) as url:
        yield url


@pytest.fixture(scope="session")
def live_server(settings, live_database):
    from werkzeug.serving import make_server

    from backoffice.app import create_app
    from backoffice.demo import seed
    from backoffice.migrate import upgrade

    upgrade(live_database)
    # Its own RQ queue names: jobs the live server pushes to a shared Redis reach no one else's worker.
    live_settings = dataclasses.replace(settings, database_url=live_database,
                                        queue_namespace=f"live{uuid.uuid4().hex[:8]}")
    app = create_app(live_settings)
    _LIVE["app"] = app
    with app.app_context():
        seed(applicants=120)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    with app.app_context():
        from backoffice.extensions import db

        db.engine.dispose()


_LIVE: dict = {}


@pytest.fixture(scope="session")
def live_app(live_server):
    """The live server's app, for a test to read its database or run its jobs in-process."""
    return _LIVE["app"]


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="session")
def artifacts():
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def sign_in():
    return _sign_in


def _sign_in(page, base: str, username: str, password: str = "demo-password-2021"):
    page.goto(f"{base}/admin/login/")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/admin/")
