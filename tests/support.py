"""Helpers shared by the HTTP tests (a module of its own: every conftest is named conftest)."""
from __future__ import annotations

import re

TEST_PASSWORD = "test-password-123"

_CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token_from(html: str) -> str:
    match = _CSRF_RE.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


def sign_in(client, username: str, password: str = TEST_PASSWORD):
    page = client.get("/admin/login/")
    token = csrf_token_from(page.get_data(as_text=True))
    return client.post("/admin/login/", data={"csrf_token": token, "username": username, "password": password})
