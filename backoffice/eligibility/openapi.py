"""The eligibility and employer part of the intake API's OpenAPI document (merged by
backoffice/intake/openapi.py with one line)."""
from __future__ import annotations

from verifiers.eligibility import CONDITION_CODES


def extend(schemas: dict, paths: dict, h) -> None:
    """Add this module's schemas and operations; ``h`` is backoffice.intake.openapi (its helpers)."""
    obj, ref = h._obj, h._ref
    schemas["Case"]["properties"]["kind"]["enum"] = list(schemas["Case"]["properties"]["kind"]["enum"]) + [
        "eligibility_objection", "employer_registration"]
    schemas["Case"]["properties"]["application_id"] = {
        "type": ["integer", "null"], "description": "null for a unit's licence case (单位注册)"}
    schemas.update({
        "LicenceForm": {
            "type": "object", "required": ["uscc", "name", "district", "licence"], "additionalProperties": False,
            "properties": {"uscc": h._USCC, "name": {"type": "string", "minLength": 1, "maxLength": 200},
                           "district": {"type": "string", "minLength": 1, "maxLength": 32},
                           "licence": {"type": "string", "contentMediaType": "application/pdf",
                                       "description": "营业执照、事业单位法人证书、统一社会信用代码证书、社会团体法人登记证书"
                                                      "等: one PDF of at most 1 MB containing the credit code"}},
        },
        "EmployerRegister": obj({
            "uscc": h._USCC, "name": {"type": "string", "minLength": 1, "maxLength": 200},
            "district": {"type": "string", "minLength": 1, "maxLength": 32,
                         "description": "积分落户业务办理区(一般为单位社保缴费区): 朝阳区 or 110105"},
            "contact_name": {"type": "string", "minLength": 1, "maxLength": 64},
            "contact_phone": {"type": "string", "pattern": r"^[0-9+\- ]{5,20}$"},
        }, required=("uscc", "name", "district")),
        "EmployerContact": obj({
            "contact_name": {"type": "string", "minLength": 1, "maxLength": 64},
            "contact_phone": {"type": "string", "pattern": r"^[0-9+\- ]{5,20}$"},
        }, minProperties=1),
        "EmployerFiling": obj({
            "changes": {"type": "object", "minProperties": 1,
                        "description": "the changed details, e.g. {\"name\": …, \"address\": …}"},
            "note": {"type": "string", "maxLength": 2000},
        }, required=("changes",)),
        "Employer": obj({
            "uscc": {"type": "string"}, "name": {"type": "string"},
            "district": obj({"code": {"type": "string"}, "name": {"type": "string"}}, required=("code", "name")),
            "contact": {"type": "object"},
            "filings": {"type": "array", "items": {"type": "object"}},
        }, required=("uscc", "name", "district", "contact", "filings")),
        "LinkDecision": obj({
            "decision": {"type": "string", "enum": ["通过", "不通过"]},
            "opinion": {"type": "string", "maxLength": 500, "description": "处理意见, required with 不通过"},
        }, required=("decision",)),
        "Link": obj({
            "application_id": {"type": "integer"}, "status": {"type": "string", "enum": ["pending", "confirmed", "refused"]},
            "status_zh": {"type": "string"}, "opinion": {"type": ["string", "null"]},
            "decided_at": {"type": ["string", "null"]},
        }, required=("application_id", "status", "status_zh", "opinion", "decided_at")),
        "Eligibility": obj({
            "application_id": {"type": "integer"}, "eligible": {"type": "boolean"},
            "checked_at": {"type": "string"}, "post": {"type": ["string", "null"]},
            "conditions": {"type": "array", "items": {"type": "object"}},
        }, required=("application_id", "eligible", "checked_at", "conditions")),
        "ObjectionCreate": obj({
            "application": ref("ApplicationCreate"),
            "condition": {"type": "string", "enum": list(CONDITION_CODES)},
            "statement": h._STATEMENT,
        }, required=("application", "condition", "statement")),
    })
    write, auth = ["applications:write"], h._AUTH
    paths.update({
        "/employers": {
            "post": h._op("registerEmployer", "单位注册: a Beijing-registered, tax-registered unit", write,
                          {**h._ok("Employer", 201), **h._error_responses(*auth, 409, 415, 422)},
                          body=h._json_body("EmployerRegister"), post=True),
        },
        "/employers/licence": {
            "post": h._op("uploadEmployerLicence", "单位注册 by licence when the registries do not admit the unit: "
                          "a case in the district's eligibility queue", write,
                          {**h._ok("Case", 201), **h._error_responses(*auth, 409, 413, 415, 422)},
                          body=h._multipart("LicenceForm"), post=True),
        },
        "/employers/{uscc}": {
            "get": h._op("getEmployer", "A unit with its contact and filed changes", h._READ_APP,
                         {**h._ok("Employer"), **h._error_responses(*auth, 404)}, params=[_USCC_PARAM]),
        },
        "/employers/{uscc}/contact": {
            "put": h._op("changeEmployerContact", "Change the contact person or phone (any time in the year)", write,
                         {**h._ok("Employer"), **h._error_responses(*auth, 404, 415, 422)},
                         body=h._json_body("EmployerContact"), params=[_USCC_PARAM]),
        },
        "/employers/{uscc}/filings": {
            "post": h._op("fileEmployerChange", "File (备案) another change of the unit's details, kept as history",
                          write, {**h._ok("Employer", 201), **h._error_responses(*auth, 404, 415, 422)},
                          body=h._json_body("EmployerFiling"), params=[_USCC_PARAM], post=True),
        },
        "/applications/{application_id}/employer-link": {
            "get": h._op("getEmployerLink", "The employer's confirmation of the applicant", h._READ_APP,
                         {**h._ok("Link"), **h._error_responses(*auth, 404)}, params=[h._p("application_id")]),
            "put": h._op("decideEmployerLink", "The employer confirms (通过) or refuses (不通过, 处理意见) the link",
                         write, {**h._ok("Link"), **h._error_responses(*auth, 404, 409, 415, 422)},
                         body=h._json_body("LinkDecision"), params=[h._p("application_id")]),
        },
        "/applications/{application_id}/eligibility": {
            "get": h._op("getEligibility", "The four conditions' result, with their words and facts", h._READ_APP,
                         {**h._ok("Eligibility"), **h._error_responses(*auth, 404)}, params=[h._p("application_id")]),
        },
        "/eligibility/objections": {
            "post": h._op("createEligibilityObjection", "资格异议: object to an eligibility refusal at the district "
                          "window; answers the case", write,
                          {**h._ok("Case", 201), **h._error_responses(*auth, 409, 415, 422)},
                          body=h._json_body("ObjectionCreate"), post=True),
        },
    })


_USCC_PARAM = {"name": "uscc", "in": "path", "required": True,
               "schema": {"type": "string", "pattern": r"^[0-9A-Za-z]{18}$"}}
