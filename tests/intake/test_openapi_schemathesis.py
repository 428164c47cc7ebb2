"""The OpenAPI document against the running API: schemathesis generates requests for every
operation (in-process through WSGI, with a token that has every scope, bounded examples) and
checks that no answer is a 500 and every answer fits the document. Plus the document's sync
with the code: every route documented, every schema keyword one the request validator checks."""
from __future__ import annotations

import zlib
from datetime import timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from backoffice.intake.api import bp
from backoffice.intake.openapi import document
from backoffice.intake.schema import KEYWORDS, schema_keywords

from intake_support import application_body, phase_dates


class _AppContextPerRequest:
    """Each request in its own app context (and so its own session), as in production and as
    tests/conftest.py's client does; the test's transaction is shared, rolled back at the end."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        with self.app.app_context():
            return self.app.wsgi_app(environ, start_response)


# The document is static data, so it is loaded at collection; the app is given per call.
# (schemathesis.pytest.from_fixture needs pytest internals that pytest 9 no longer has.)
schema = schemathesis.openapi.from_dict(document())


@pytest.fixture
def known(app, make, token_for, beijing_today, district):
    """Real rows for some requests to hit: an application with an invalid housing claim, a
    review case; today in the application phase."""
    from backoffice.cases.intake import submit_review
    from backoffice.intake import services

    make.year(2021, **phase_dates("application", beijing_today))
    application = services.create_application(application_body(claims=[
        {"indicator": "housing", "facts": {"type": "own", "from": "2014-08", "to": "2017-12", "district": "朝阳区"},
         "filed": {"certificate_no": "X京房权证朝字第1号"}},
        {"indicator": "housing", "facts": {"type": "own", "from": "2018-01", "to": "2020-12", "district": "朝阳区"},
         "filed": {"certificate_no": "X京房权证朝字第2号"}}]), today=beijing_today, actor_label="test")
    first, second = application.claims
    for claim in (first, second):
        claim.registry_status, claim.registry_reason = "invalid", "housing_listing_invalid"
    from intake_pdfs import make_pdf

    case = submit_review(first, files={"owner_identity": make_pdf("x")}, today=beijing_today - timedelta(days=1))
    return {"application_id": application.id, "claim_id": second.id, "number": case.number,
            "uscc": application.employer.uscc, "token": token_for()}


@schema.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_api_answers_fit_the_document_and_never_500(case, known, app):
    # Half the time aim at rows that exist, so the operations run past their 404s.
    if case.path_parameters and zlib.crc32(repr(case.body).encode()) % 2 == 0:
        case.path_parameters = {k: known[k] for k in case.path_parameters}
    case.call_and_validate(
        app=_AppContextPerRequest(app),
        headers={"Authorization": f"Bearer {known['token']}"},
        checks=[not_a_server_error, status_code_conformance, content_type_conformance,
                response_schema_conformance, response_headers_conformance],
    )


def test_every_route_is_documented_and_every_documented_operation_exists(app):
    documented = {(method.upper(), path) for path, item in document()["paths"].items() for method in item}
    routed = set()
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith(bp.name + ".") or rule.endpoint == f"{bp.name}.openapi":
            continue
        path = rule.rule.removeprefix("/api/v1")
        for arg in rule.arguments:
            path = path.replace(f"<int:{arg}>", "{%s}" % arg).replace(f"<string:{arg}>", "{%s}" % arg)
        routed |= {(m, path) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert routed == documented


def test_documented_scopes_are_the_enforced_ones(app):
    for path, item in document()["paths"].items():
        for method, op in item.items():
            rule = next(r for r in app.url_map.iter_rules()
                        if r.endpoint.startswith("api_v1.") and method.upper() in r.methods
                        and r.rule.removeprefix("/api/v1").replace("<int:", "{").replace("<string:", "{")
                        .replace(">", "}") == path)
            view = app.view_functions[rule.endpoint]
            assert tuple(op["x-scopes"]) == view.scopes, (method, path)


def test_the_request_validator_checks_every_keyword_the_document_uses():
    assert schema_keywords(document()) <= KEYWORDS
