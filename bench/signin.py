"""Signing a benchmark's Flask test client in, as a person does: the login page's CSRF token,
then the form (shared by the benchmarks that fetch pages in-process)."""
from __future__ import annotations

import re


def csrf_from(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def signed_in_client(app, username: str, password: str):
    client = app.test_client()
    page = client.get("/admin/login/").get_data(as_text=True)
    response = client.post("/admin/login/", data={"csrf_token": csrf_from(page), "username": username,
                                                  "password": password})
    assert response.status_code == 302, response.status_code
    return client
