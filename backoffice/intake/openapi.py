"""The OpenAPI 3.1 document of the intake API, written as data.

The API validates every JSON body against these same schemas (schema.py), tests compare the
document's operations with the blueprint's routes, and schemathesis checks the responses
against it, so the document cannot silently drift from the code.
"""
from __future__ import annotations

import copy
import sys

from verifiers.indicators import INDICATOR_CODES
from verifiers.materials import REVIEW_TYPE_CODES, REVIEW_TYPES
from verifiers.reasons import REASON_CODES

SCOPES = {
    "applications:write": "create and change applications and their indicator claims (and read them back)",
    "applications:read": "read applications and claims",
    "registry:write": "record registry results and run the registry verifiers",
    "reviews:write": "submit review requests (复查) with their evidence",
    "appeals:write": "submit, change and withdraw appeals (异议申诉)",
    "tips:write": "submit real-name reports (举报) during the announcement",
    "cases:read": "read a case's status and decision",
    "clients:all": "reach every client's records: without it a client reads and changes only the applications, "
                   "claims, cases and files it created itself, and another client's record answers 404 as if it "
                   "did not exist (for the registry departments' client, which records results on every claim)",
    "events:read": "poll the applicants' events feed (GET /events)",
}

MATERIAL_SLOTS = tuple(sorted({row.code for t in REVIEW_TYPES for row in t.rows}))

_ID_NUMBER = {"type": "string", "pattern": r"^[0-9]{17}[0-9Xx]$", "description": "公民身份号码 (GB 11643, check digit)",
              "example": "110105198503140013"}
_USCC = {"type": "string", "pattern": r"^[0-9A-Za-z]{18}$", "description": "统一社会信用代码 (GB 32100, check character)",
         "example": "91110105MA00000012"}
_NAME = {"type": "string", "minLength": 1, "maxLength": 64}
_PHONE = {"type": ["string", "null"], "pattern": r"^[0-9+\- ]{5,20}$"}
_STATEMENT = {"type": "string", "minLength": 1, "maxLength": 2000}
_DATE = {"type": "string", "format": "date"}
_DATE_OR_NULL = {"type": ["string", "null"], "format": "date"}
_DATETIME_OR_NULL = {"type": ["string", "null"]}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(properties: dict, required=(), **extra) -> dict:
    schema = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = list(required)
    schema.update(extra)
    return schema


SCHEMAS: dict[str, dict] = {
    "FieldError": _obj({
        "path": {"type": "string"}, "code": {"type": "string"},
        "message_zh": {"type": "string"}, "message_en": {"type": "string"},
    }, required=("path", "code", "message_zh", "message_en")),
    "Error": _obj({
        "error": _obj({
            "code": {"type": "string", "description": "the rule, e.g. phase.appeal.submit, upload.encrypted"},
            "message_zh": {"type": "string"},
            "message_en": {"type": "string"},
            "fields": {"type": "array", "items": _ref("FieldError")},
        }, required=("code", "message_zh", "message_en", "fields")),
    }, required=("error",)),
    "ApplicantIn": _obj({"id_number": _ID_NUMBER, "name": _NAME, "phone": _PHONE,
                         "post": {"type": "string", "enum": ["worker", "cadre"],
                                  "description": "岗位类别: 工人 or 干部(管理岗人员); the retirement limit of women (第一篇 二)"}},
                        required=("id_number", "name")),
    "EmployerIn": _obj({
        "uscc": _USCC, "name": {"type": "string", "minLength": 1, "maxLength": 200},
        "district": {"type": "string", "minLength": 1, "maxLength": 32,
                     "description": "业务办理区: district name (朝阳区) or code (110105); needed for a new employer"},
    }, required=("uscc", "name")),
    "ClaimIn": _obj({
        "indicator": {"type": "string", "enum": list(INDICATOR_CODES)},
        "facts": {"type": "object", "description": "the claim in its indicator's score-input shape "
                  "(backoffice/applications/facts.py); optional for employment, tax, age and law_abiding, "
                  "which the registries supply"},
        "filed": {"type": "object", "description": "what identifies the registry record: certificate_no, owner "
                  "(self|spouse|employer), spouse {id_number, name}, lease_no, tenant, kind (domestic|overseas), "
                  "diploma_no, degree_no; overseas: origin (foreign|hmt|sino_foreign) and issued_on (YYYY-MM-DD) "
                  "of the recognition certificate, optional. A spouse's housing and an overseas education open "
                  "a filing case (填报凭证审核) for the evidence; see the claim's filings"},
    }, required=("indicator",)),
    "ClaimPatch": _obj({"facts": {"type": "object"}, "filed": {"type": "object"}}, minProperties=1),
    "ApplicationCreate": _obj({
        "year": {"type": "integer", "minimum": 2018, "maximum": 2100},
        "applicant": _ref("ApplicantIn"),
        "employer": _ref("EmployerIn"),
        "claims": {"type": "array", "items": _ref("ClaimIn"), "maxItems": 50},
        "submitted": {"type": "boolean"},
    }, required=("year", "applicant", "employer")),
    "ApplicationPatch": _obj({
        "name": _NAME, "phone": _PHONE,
        "submitted": {"type": "boolean", "description": "true submits; false withdraws for changes (撤回修改)"},
    }, minProperties=1),
    "RegistryOut": _obj({
        "status": {"type": "string", "enum": ["pending", "valid", "invalid"]},
        "reason": {"type": ["string", "null"]},
        "message": {"type": ["string", "null"]},
        "contestable": {"type": ["boolean", "null"], "description": "a review request (复查) may be filed"},
        "review_types": {"type": "array", "items": {"type": "string"},
                         "description": "the review types a 复查 of this claim may use, one case per contested "
                                        "result: a tax claim with an invalid year and a violation offers "
                                        "tax_annual_amount and tax_violation, each contested on its own"},
        "verified": {"type": ["object", "null"]},
        "details": {"type": ["object", "null"], "description": "the result page's fields, handbook labels"},
        "source": {"type": ["string", "null"]},
        "checked_at": _DATETIME_OR_NULL,
        "superseded_by_decision": {"type": "boolean"},
    }, required=("status", "reason", "message", "contestable", "verified", "details", "checked_at",
                 "superseded_by_decision")),
    "Claim": _obj({
        "id": {"type": "integer"}, "application_id": {"type": "integer"},
        "indicator": {"type": "string", "enum": list(INDICATOR_CODES)},
        "facts": {"type": "object"}, "filed": {"type": "object"},
        "filings": {"type": "array", "description": "the window's checks of the evidence filed with the claim "
                    "(spouse's marriage evidence, overseas certificate): upload each to /cases/{number}/evidence",
                    "items": _obj({"number": {"type": "string"}, "review_type": {"type": "string"},
                                   "status": {"type": "string"}, "status_zh": {"type": "string"},
                                   "due_date": {"type": "string", "format": "date"}},
                                  required=("number", "review_type", "status", "status_zh", "due_date"))},
        "registry": _ref("RegistryOut"),
        "changed": {"type": "boolean", "description": "verify only: the result changed"},
    }, required=("id", "application_id", "indicator", "facts", "filed", "registry")),
    "Application": _obj({
        "id": {"type": "integer"}, "year": {"type": "integer"},
        "applicant": _obj({"id_number_masked": {"type": "string"}, "name": {"type": "string"},
                           "phone": {"type": ["string", "null"]}}, required=("id_number_masked", "name", "phone")),
        "employer": _obj({"uscc": {"type": "string"}, "name": {"type": "string"}}, required=("uscc", "name")),
        "district": _obj({"code": {"type": "string"}, "name": {"type": "string"}}, required=("code", "name")),
        "submitted_at": _DATETIME_OR_NULL,
        "claims": {"type": "array", "items": _ref("Claim")},
    }, required=("id", "year", "applicant", "employer", "district", "submitted_at", "claims")),
    "ClaimList": _obj({"claims": {"type": "array", "items": _ref("Claim")}}, required=("claims",)),
    "RegistryResultIn": _obj({
        "status": {"type": "string", "enum": ["valid", "invalid"]},
        "reason": {"type": ["string", "null"], "enum": [*REASON_CODES, None]},
        "message": {"type": ["string", "null"], "maxLength": 500},
        "verified": {"type": ["object", "null"]},
        "details": {"type": ["object", "null"]},
    }, required=("status",)),
    "Evidence": _obj({
        "slot": {"type": "string"}, "sha256": {"type": "string"}, "size": {"type": "integer"},
        "pages": {"type": "integer"}, "uploaded_at": {"type": "string"},
    }, required=("slot", "sha256", "size", "pages", "uploaded_at")),
    "Decision": _obj({
        "outcome": {"type": "string", "enum": ["upheld", "corrected", "returned", "rejected"]},
        "outcome_zh": {"type": "string"},
        "reason_code": {"type": "string"}, "reason_zh": {"type": ["string", "null"]},
        "note": {"type": "string"},
        "decided_at": {"type": "string"},
    }, required=("outcome", "outcome_zh", "reason_code", "reason_zh", "note", "decided_at")),
    "Case": _obj({
        "number": {"type": "string"},
        "kind": {"type": "string", "enum": ["review", "filing", "appeal", "settlement", "tip"]},
        "queue": {"type": "string"},
        "status": {"type": "string", "enum": ["open", "in_review", "awaiting_materials", "awaiting_countersign",
                                              "closed"]},
        "status_zh": {"type": "string"},
        "withdrawn": {"type": "boolean"},
        "application_id": {"type": "integer"},
        "claim_id": {"type": ["integer", "null"]},
        "claim_ids": {"type": "array", "items": {"type": "integer"},
                      "description": "the claims the case concerns: its claim, or the claims an appeal disputes"},
        "indicator": {"type": ["string", "null"]},
        "review_type": {"type": ["string", "null"]},
        "reason": {"type": ["string", "null"]},
        "statement": {"type": ["string", "null"]},
        "received_on": _DATE, "due_date": _DATE,
        "closed_at": _DATETIME_OR_NULL,
        "evidence": {"type": "array", "items": _ref("Evidence")},
        "decision": {"type": ["object", "null"]},  # completed below from Decision
    }, required=("number", "kind", "queue", "status", "status_zh", "withdrawn", "application_id", "claim_id",
                 "claim_ids", "indicator", "review_type", "reason", "statement", "received_on", "due_date", "closed_at",
                 "evidence", "decision")),
    "AppealCreate": _obj({
        "indicator": {"type": "string", "enum": list(INDICATOR_CODES)},
        "statement": _STATEMENT,
        "claim_id": {"type": ["integer", "null"], "minimum": 1, "maximum": 2**31 - 1},
        "claim_ids": {"type": "array", "maxItems": 50, "items": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
                      "description": "the claims disputed, when the indicator has several (housing segments, "
                                     "awards); each of this application and indicator. The reviewer may correct, "
                                     "add or remove the indicator's claims when deciding the appeal."},
    }, required=("indicator", "statement")),
    "AppealPatch": _obj({"statement": _STATEMENT}, required=("statement",)),
    "TipCreate": _obj({
        "statement": _STATEMENT,
        "reporter": _obj({"name": _NAME, "id_number": _ID_NUMBER, "phone": _PHONE}, required=("name", "id_number")),
    }, required=("statement", "reporter")),
    "TipReceipt": _obj({"number": {"type": "string"}, "received_on": _DATE}, required=("number", "received_on")),
    "ReviewForm": {
        "type": "object",
        "properties": {
            "review_type": {"type": "string", "enum": list(REVIEW_TYPE_CODES),
                            "description": "needed when the contested reason allows several; it also chooses "
                                           "the result contested when the claim carries two (a tax claim with "
                                           "an invalid year and a violation: tax_annual_amount or "
                                           "tax_violation, each its own case)"},
            "statement": {"type": "string", "maxLength": 2000},
            **{slot: {"type": "string", "contentMediaType": "application/pdf",
                      "description": "one PDF of at most 1 MB (附件3)"} for slot in MATERIAL_SLOTS},
        },
        "additionalProperties": False,
    },
    "EvidenceForm": {
        "type": "object",
        "properties": {slot: {"type": "string", "contentMediaType": "application/pdf"} for slot in MATERIAL_SLOTS},
        "additionalProperties": False,
    },
}
# A decision in a case: the Decision schema, or null.
SCHEMAS["Case"]["properties"]["decision"] = {
    "type": ["object", "null"], "properties": SCHEMAS["Decision"]["properties"],
    "required": SCHEMAS["Decision"]["required"], "additionalProperties": False,
    "description": "the decision once final, or the one that returned the case for materials",
}


def _error_responses(*codes: int) -> dict:
    words = {400: "bad request", 401: "missing or bad bearer token", 403: "the token lacks the scope",
             404: "not found",
             409: "refused by a rule (phase, contestability, one open case per claim and contested result)",
             413: "request too large", 415: "unsupported media type", 422: "a field is bad (its path is named)"}
    # Every operation may answer 400: the app-wide input check (backoffice/security/inputs.py)
    # refuses NUL bytes and out-of-range numbers in any path, query or body before the view.
    codes = tuple(sorted(set(codes) | {400}))
    return {str(c): {"description": words[c], "content": {"application/json": {"schema": _ref("Error")}}}
            for c in codes}


def _json_body(name: str) -> dict:
    media = {"schema": _ref(name)}
    if name in EXAMPLES:
        media["example"] = copy.deepcopy(EXAMPLES[name])
    return {"required": True, "content": {"application/json": media}}


# Whole request bodies as examples. Every example in this document passes the server's own
# validation (schema, check digits, reference data): tests/intake/test_openapi_examples.py.
EXAMPLES: dict[str, dict] = {
    "ApplicationCreate": {
        "year": 2021,
        "applicant": {"id_number": "110105198503140013", "name": "王伟", "phone": "13800000000"},
        "employer": {"uscc": "91110105MA00000012", "name": "北京示例科技有限公司", "district": "朝阳区"},
    },
}


def _multipart(name: str) -> dict:
    return {"required": True, "content": {"multipart/form-data": {"schema": _ref(name)}}}


def _ok(name: str | None, status: int = 200, description: str = "ok") -> dict:
    if name is None:
        return {str(status): {"description": description}}
    return {str(status): {"description": description, "content": {"application/json": {"schema": _ref(name)}}}}


MAX_ID = 2**31 - 1  # ids are 32-bit integers on PostgreSQL
_ID_PARAM = {"in": "path", "required": True, "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}}
_NUMBER_PARAM = {"name": "number", "in": "path", "required": True,
                 "schema": {"type": "string", "pattern": r"^[0-9A-Za-z-]{1,32}$"}}
_IDEMPOTENCY = {"name": "Idempotency-Key", "in": "header", "required": False,
                "schema": {"type": "string", "pattern": r"^[!-~]{1,200}$"},
                "description": "a repeat of the same POST with the same key answers the first response and "
                "creates nothing; the same key with a different request answers 422"}


def _op(op_id: str, summary: str, scopes: list[str], responses: dict, *, body=None, params=(), post=False) -> dict:
    op = {"operationId": op_id, "summary": summary, "security": [{"bearer": scopes}],
          "x-scopes": scopes, "responses": responses}
    parameters = list(params) + ([_IDEMPOTENCY] if post else [])
    if post:  # a bad or reused Idempotency-Key answers 422
        responses = {**responses, **_error_responses(422)}
        op["responses"] = responses
    if parameters:
        op["parameters"] = parameters
    if body is not None:
        op["requestBody"] = body
        # A body that does not parse (bad JSON, or bytes that are not UTF-8) answers 400.
        op["responses"] = {**op["responses"], **_error_responses(400)}
    return op


def _p(name: str) -> dict:
    return {**_ID_PARAM, "name": name}


_READ_APP = ["applications:read", "applications:write", "cases:read"]
_AUTH = (401, 403)

PATHS: dict[str, dict] = {
    "/applications": {
        "post": _op("createApplication", "File an application with its applicant, employer and claims",
                    ["applications:write"], {**_ok("Application", 201), **_error_responses(*_AUTH, 409, 415, 422)},
                    body=_json_body("ApplicationCreate"), post=True),
    },
    "/applications/{application_id}": {
        "get": _op("getApplication", "An application with its claims and registry results", _READ_APP,
                   {**_ok("Application"), **_error_responses(*_AUTH, 404)}, params=[_p("application_id")]),
        "patch": _op("updateApplication", "Change the applicant's name or phone, submit or withdraw for changes",
                     ["applications:write"], {**_ok("Application"), **_error_responses(*_AUTH, 404, 409, 415, 422)},
                     body=_json_body("ApplicationPatch"), params=[_p("application_id")]),
    },
    "/applications/{application_id}/claims": {
        "post": _op("createClaim", "Add an indicator claim (application phase only)", ["applications:write"],
                    {**_ok("Claim", 201), **_error_responses(*_AUTH, 404, 409, 415, 422)},
                    body=_json_body("ClaimIn"), params=[_p("application_id")], post=True),
    },
    "/applications/{application_id}/verify": {
        "post": _op("verifyApplication", "Run the registry verifiers on every claim of the application",
                    ["registry:write"], {**_ok("ClaimList"), **_error_responses(*_AUTH, 404, 409)},
                    params=[_p("application_id")], post=True),
    },
    "/applications/{application_id}/appeals": {
        "post": _op("createAppeal", "File an appeal (异议申诉) of one indicator (result-query phase only)",
                    ["appeals:write"], {**_ok("Case", 201), **_error_responses(*_AUTH, 404, 409, 415, 422)},
                    body=_json_body("AppealCreate"), params=[_p("application_id")], post=True),
    },
    "/applications/{application_id}/tips": {
        "post": _op("createTip", "Receive a real-name report (举报) during the 7-day announcement",
                    ["tips:write"], {**_ok("TipReceipt", 201), **_error_responses(*_AUTH, 404, 409, 415, 422)},
                    body=_json_body("TipCreate"), params=[_p("application_id")], post=True),
    },
    "/claims/{claim_id}": {
        "get": _op("getClaim", "A claim with its registry result", _READ_APP,
                   {**_ok("Claim"), **_error_responses(*_AUTH, 404)}, params=[_p("claim_id")]),
        "patch": _op("updateClaim", "Change a claim (application phase, once its result is back)",
                     ["applications:write"], {**_ok("Claim"), **_error_responses(*_AUTH, 404, 409, 415, 422)},
                     body=_json_body("ClaimPatch"), params=[_p("claim_id")]),
        "delete": _op("deleteClaim", "Delete a claim (application phase, once its result is back)",
                      ["applications:write"], {**_ok(None, 204, "deleted"), **_error_responses(*_AUTH, 404, 409)},
                      params=[_p("claim_id")]),
    },
    "/claims/{claim_id}/registry-result": {
        "put": _op("putRegistryResult", "Record a department's registry result on a claim", ["registry:write"],
                   {**_ok("Claim"), **_error_responses(*_AUTH, 404, 409, 415, 422)},
                   body=_json_body("RegistryResultIn"), params=[_p("claim_id")]),
    },
    "/claims/{claim_id}/verify": {
        "post": _op("verifyClaim", "Run the registry verifier on one claim", ["registry:write"],
                    {**_ok("Claim"), **_error_responses(*_AUTH, 404, 409)}, params=[_p("claim_id")], post=True),
    },
    "/claims/{claim_id}/reviews": {
        "post": _op("createReview", "Submit a review request (复查) of the claim's result with its evidence, "
                    "one PDF per material slot", ["reviews:write"],
                    {**_ok("Case", 201), **_error_responses(*_AUTH, 404, 409, 413, 415, 422)},
                    body=_multipart("ReviewForm"), params=[_p("claim_id")], post=True),
    },
    "/cases/{number}": {
        "get": _op("getCase", "A case's status and decision", ["cases:read"],
                   {**_ok("Case"), **_error_responses(*_AUTH, 404)}, params=[_NUMBER_PARAM]),
    },
    "/cases/{number}/evidence": {
        "post": _op("addEvidence", "Add or replace files of an open review case", ["reviews:write"],
                    {**_ok("Case"), **_error_responses(*_AUTH, 404, 409, 413, 415, 422)},
                    body=_multipart("EvidenceForm"), params=[_NUMBER_PARAM], post=True),
    },
    "/appeals/{number}": {
        "patch": _op("updateAppeal", "Change an appeal's statement (result-query phase only)", ["appeals:write"],
                     {**_ok("Case"), **_error_responses(*_AUTH, 404, 409, 415, 422)},
                     body=_json_body("AppealPatch"), params=[_NUMBER_PARAM]),
    },
    "/appeals/{number}/withdraw": {
        "post": _op("withdrawAppeal", "Withdraw an appeal (result-query phase only)", ["appeals:write"],
                    {**_ok("Case"), **_error_responses(*_AUTH, 404, 409)}, params=[_NUMBER_PARAM], post=True),
    },
}
from backoffice.settlement.openapi import merge as _merge_settlement  # noqa: E402

_merge_settlement(SCHEMAS, PATHS, SCOPES, sys.modules[__name__])

# The announcement module's results and events (backoffice/announcement/openapi.py).
from backoffice.announcement.openapi import extend as _extend_announcement  # noqa: E402

_extend_announcement(sys.modules[__name__])

from backoffice.eligibility.openapi import extend as _eligibility  # noqa: E402 (uses the helpers above)

_eligibility(SCHEMAS, PATHS, sys.modules[__name__])

DOCUMENT: dict = {
    "openapi": "3.1.0",
    "info": {
        "title": "积分落户审核后台 intake API",
        "version": "1.0.0",
        "description": "For the online application system (a machine client). Bearer token per client, "
        "scoped (see x-scopes per operation); errors carry message_zh and message_en; a bad field answers "
        "422 naming its path; a POST may carry an Idempotency-Key. A client owns what it creates: it reads and "
        "changes only its own applications (and their claims), cases and files — another client's answer 404 — "
        "unless its token also has the cross-client scope clients:all.",
    },
    "servers": [{"url": "/api/v1"}],
    "paths": PATHS,
    "components": {
        "schemas": SCHEMAS,
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                       "description": "scopes: " + "; ".join(f"{k}: {v}" for k, v in SCOPES.items())}},
    },
}


def document() -> dict:
    return copy.deepcopy(DOCUMENT)
