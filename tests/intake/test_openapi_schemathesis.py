"""The OpenAPI document against the running API: schemathesis generates requests for every
operation (in-process through WSGI, with a token that has every scope, bounded examples) and
runs ALL its checks (as `--checks all`): no answer is a 500, every answer fits the document,
invalid requests are refused, auth is not ignored, unsupported methods answer 405. Plus the document's sync
with the code: every route documented, every schema keyword one the request validator checks."""
from __future__ import annotations

import zlib
from datetime import timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.core.parameters import ParameterLocation

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
# positive_data_acceptance: a schema-valid request may still break a rule JSON Schema cannot
# state — a check digit (GB 11643, GB 32100), a district or employer that must exist, the
# phase of the year — and is then answered 422 or 409 naming the rule, which is right.
schema.config.checks.positive_data_acceptance.expected_statuses = ["2xx", "401", "403", "404", "409", "422"]


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
    from backoffice.intake.openapi import SCOPES

    # Every scope, the cross-client one included: the rows above were made without a client.
    return {"application_id": application.id, "claim_id": second.id, "number": case.number,
            "uscc": application.employer.uscc, "token": token_for(*SCOPES)}


load_all_checks()
ALL_CHECKS = CHECKS.get_all()


@schema.parametrize()
@settings(max_examples=15, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_api_answers_fit_the_document_and_never_500(case, known, app):
    meta = case.meta
    # Half the time aim at rows that exist, so the operations run past their 404s — unless the
    # path is what this (negative) case got wrong on purpose.
    if (case.path_parameters and zlib.crc32(repr(case.body).encode()) % 2 == 0
            and not (meta and meta.is_negative_at(ParameterLocation.PATH))):
        case.path_parameters = {k: known[k] for k in case.path_parameters}
    # A valid token, unless the headers (Authorization among them) are what the case breaks.
    headers = {} if meta and meta.is_negative_at(ParameterLocation.HEADER) else {
        "Authorization": f"Bearer {known['token']}"}
    # The checks' own probes (ignored_auth, unsupported_method …) go through the schema's app too.
    case.operation.schema.app = _AppContextPerRequest(app)
    case.call_and_validate(app=case.operation.schema.app, headers=headers, checks=ALL_CHECKS)


def _openapi_path(rule: str) -> str:
    """A Werkzeug rule (``<string(length=18):uscc>``) as its OpenAPI path (``{uscc}``)."""
    import re

    return re.sub(r"<(?:\w+(?:\([^)]*\))?:)?(\w+)>", r"{\1}", rule)


def test_every_route_is_documented_and_every_documented_operation_exists(app):
    documented = {(method.upper(), path) for path, item in document()["paths"].items() for method in item}
    routed = set()
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith(bp.name + ".") or rule.endpoint == f"{bp.name}.openapi":
            continue
        path = rule.rule.removeprefix("/api/v1")
        path = _openapi_path(path)
        routed |= {(m, path) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert routed == documented


def test_documented_scopes_are_the_enforced_ones(app):
    for path, item in document()["paths"].items():
        for method, op in item.items():
            rule = next(r for r in app.url_map.iter_rules()
                        if r.endpoint.startswith("api_v1.") and method.upper() in r.methods
                        and _openapi_path(r.rule.removeprefix("/api/v1")) == path)
            view = app.view_functions[rule.endpoint]
            assert tuple(op["x-scopes"]) == view.scopes, (method, path)


def test_the_request_validator_checks_every_keyword_the_document_uses():
    assert schema_keywords(document()) <= KEYWORDS
