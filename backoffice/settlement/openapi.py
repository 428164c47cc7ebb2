"""The settlement endpoints' part of the OpenAPI document; intake/openapi.py merges it in
with one line (``merge(SCHEMAS, PATHS, SCOPES, helpers)``), passing itself as ``base`` for its
helpers (so this module does not import it back)."""
from __future__ import annotations

from verifiers import settlement as rules
from backoffice.settlement.models import STAGES

SCOPE = ("settlement:write", "submit and abandon settlement (调京信息, 落户办理) and read its progress")


def merge(schemas: dict, paths: dict, scopes: dict, base) -> None:

    scopes.setdefault(*SCOPE)
    stage = {"type": "string", "enum": list(STAGES)}
    schemas["SettlementStep"] = base._obj({
        "stage": stage, "stage_zh": {"type": "string"}, "at": {"type": "string"},
        "reason": {"type": ["string", "null"]}, "reason_zh": {"type": ["string", "null"]},
    }, required=("stage", "stage_zh", "at", "reason", "reason_zh"))
    schemas["SettlementProgress"] = base._obj({
        "number": {"type": "string"}, "application_id": {"type": "integer"},
        "stage": stage, "stage_zh": {"type": "string"},
        "kept_until": {"type": "string", "format": "date",
                       "description": "落户资格保留2年: the last day of the qualification"},
        "letter_number": {"type": ["string", "null"]},
        "place": {"type": ["string", "null"], "enum": [*rules.PLACE_CODES, None]},
        "children": {"type": "integer"},
        "steps": {"type": "array", "items": base._ref("SettlementStep")},
    }, required=("number", "application_id", "stage", "stage_zh", "kept_until", "letter_number", "place",
                 "children", "steps"))
    schemas["SettlementForm"] = {
        "type": "object",
        "properties": {
            "place": {"type": "string", "enum": list(rules.PLACE_CODES),
                      "description": "own_home 自有住房 | public_direct 直管公房 | public_unit 自管公房 | collective 单位集体户"},
            "place_address": {"type": "string", "maxLength": 200},
            "place_certificate_no": {"type": "string", "maxLength": 64,
                                     "description": "房屋所有权证/不动产权证书号, 公有住房租赁合同号 or 住房分配通知单号"},
            "family_owns_home": {"type": "string", "enum": ["true", "false"],
                                 "description": "the applicant, spouse, parents or children own a legal home in Beijing"},
            "has_archive": {"type": "string", "enum": ["true", "false"]},
            "agent_name": {"type": "string", "maxLength": 64, "description": "被委托人 when someone else files"},
            "agent_id_number": {"type": "string", "maxLength": 18},
            "children": {"type": "string", "contentMediaType": "application/json",
                         "description": "JSON list of {name, id_number, birth_date (YYYY-MM-DD), birth_order, "
                         "parent: father|mother (the applicant's relation)}"},
            **{slot: {"type": "string", "contentMediaType": "application/pdf",
                      "description": "one PDF of at most 1 MB (附件3)"} for slot in rules.all_slots()},
        },
        "required": ["place"],
        "additionalProperties": False,
    }
    p = base._p("application_id")
    paths["/applications/{application_id}/settlement"] = {
        "post": base._op(
            "submitSettlement", "Submit (or resubmit after a return) the applicant's 调京信息: place of settlement, "
            "accompanying children, one PDF per material slot (qualified, unrevoked, within 2 years)",
            ["settlement:write"],
            {**base._ok("SettlementProgress", 201, "received"), **base._ok("SettlementProgress", 200, "resubmitted"),
             **base._error_responses(*base._AUTH, 404, 409, 413, 415, 422)},
            body=base._multipart("SettlementForm"), params=[p], post=True),
        "get": base._op("getSettlement", "The settlement's progress (查看调京进度)", ["settlement:write", "cases:read"],
                        {**base._ok("SettlementProgress"), **base._error_responses(*base._AUTH, 404)}, params=[p]),
    }
    paths["/applications/{application_id}/settlement/abandon"] = {
        "post": base._op("abandonSettlement", "The applicant gives up the qualification (自行放弃; 落户资格不递补)",
                         ["settlement:write"],
                         {**base._ok("SettlementProgress"), **base._error_responses(*base._AUTH, 404, 409)},
                         params=[p], post=True),
    }
