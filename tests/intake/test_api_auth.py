"""Bearer tokens: one per client, stored hashed, scoped; a staff session never reaches the API."""
from __future__ import annotations

import hashlib

import pytest
from click.testing import CliRunner
from intake_support import Api, application_body
from sqlalchemy import select

from backoffice.audit.models import AuditEvent
from backoffice.extensions import db
from backoffice.intake.models import ApiClient
from backoffice.intake.openapi import SCOPES, document


def _operations():
    for path, item in document()["paths"].items():
        for method, op in item.items():
            yield method, path, op


def _concrete(path: str) -> str:
    return path.replace("{uscc}", "91110105MA00000012").replace("{application_id}", "1").replace("{claim_id}", "1").replace("{number}", "2021-110105-000001")


def test_no_token_bad_token_and_revoked_token_answer_401(app, token_for):
    client = app.test_client()
    missing = client.get("/api/v1/cases/2021-110105-000001")
    assert missing.status_code == 401
    assert missing.get_json()["error"]["code"] == "auth.missing"
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert missing.get_json()["error"]["message_zh"] and missing.get_json()["error"]["message_en"]

    bad = client.get("/api/v1/cases/x", headers={"Authorization": "Bearer bo_not-a-real-token"})
    assert bad.status_code == 401 and bad.get_json()["error"]["code"] == "auth.invalid"
    basic = client.get("/api/v1/cases/x", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert basic.status_code == 401

    from backoffice.intake.tokens import revoke

    token = token_for("cases:read", name="soon-revoked")
    assert client.get("/api/v1/cases/x", headers={"Authorization": f"Bearer {token}"}).status_code == 404
    revoke("soon-revoked", actor_label="test")
    assert client.get("/api/v1/cases/x", headers={"Authorization": f"Bearer {token}"}).status_code == 401


@pytest.mark.parametrize("method,path,op", list(_operations()), ids=lambda v: v if isinstance(v, str) else "")
def test_every_operation_needs_a_token_and_its_scope(app, token_for, method, path, op):
    client = app.test_client()
    url = "/api/v1" + _concrete(path)
    assert client.open(url, method=method.upper()).status_code == 401
    others = [s for s in SCOPES if s not in op["x-scopes"]]
    token = token_for(*others)
    response = client.open(url, method=method.upper(), headers={"Authorization": f"Bearer {token}"},
                           json={} if method in ("post", "patch", "put") else None)
    assert response.status_code == 403, response.get_json()
    assert response.get_json()["error"]["code"] == "auth.scope"
    assert op["x-scopes"][0] in response.get_json()["error"]["message_en"]


def test_a_staff_session_cookie_alone_never_reaches_the_api(app, make, client_for, year_in):
    year_in("application")
    admin = make.staff("administrator")
    browser = client_for(admin)  # signed in to the back office, with its session cookie
    response = browser.post("/api/v1/applications", json=application_body())
    assert response.status_code == 401
    assert browser.get("/api/v1/cases/2021-110105-000001").status_code == 401


def test_token_authenticated_posts_need_no_csrf_token(api, year_in, district):
    year_in("application")
    assert api.post("/applications", json=application_body()).status_code == 201


def test_openapi_document_is_public_json(app):
    response = app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.get_json()["openapi"].startswith("3.1")


def test_unknown_paths_and_methods_answer_json(api):
    missing = api.get("/no-such-thing")
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "http.404"
    wrong = api.client.put("/api/v1/applications", headers={"Authorization": f"Bearer {api.token}"})
    assert wrong.status_code == 405 and wrong.get_json()["error"]["message_zh"]


def test_create_token_prints_it_once_and_stores_only_its_hash(app, monkeypatch):
    from backoffice import cli, cliapp

    monkeypatch.setattr(cliapp, "cli_app", lambda: app)
    result = CliRunner().invoke(cli.main, ["create-token", "--client", "online-system",
                                           "--scope", "applications:write,registry:write", "--scope", "cases:read"])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[-1]
    assert token.startswith("bo_") and len(token) > 40
    client = db.session.scalar(select(ApiClient).where(ApiClient.name == "online-system"))
    assert client.scope_set == {"applications:write", "registry:write", "cases:read"}
    assert client.token_sha256 == hashlib.sha256(token.encode()).hexdigest()
    assert token not in client.token_sha256
    # The token works, with exactly its scopes.
    api = Api(app.test_client(), token)
    assert api.get("/cases/none").status_code == 404
    assert api.post("/applications/1/tips", json={}).status_code == 403
    # A second client of the same name needs --rotate; a bad scope is refused.
    again = CliRunner().invoke(cli.main, ["create-token", "--client", "online-system", "--scope", "cases:read"])
    assert again.exit_code != 0 and "--rotate" in again.output
    bad = CliRunner().invoke(cli.main, ["create-token", "--client", "x", "--scope", "everything"])
    assert bad.exit_code != 0 and "unknown scopes" in bad.output


def test_every_state_change_is_audited_as_the_client(api, year_in, district):
    year_in("application")
    before = db.session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)) or 0
    assert api.post("/applications", json=application_body()).status_code == 201
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.id > before)).all()
    assert {e.action for e in events} >= {"applicant.created", "application.created", "eligibility.checked"}
    name = db.session.scalar(select(ApiClient.name).order_by(ApiClient.id.desc()).limit(1))
    assert {e.actor_label for e in events} == {f"client:{name}"}
