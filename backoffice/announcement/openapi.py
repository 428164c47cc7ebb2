"""The announcement module's part of the OpenAPI document (merged by intake/openapi.py)."""
from __future__ import annotations


def extend(m) -> None:
    """Add our schemas and paths to the intake document's (module `m`: backoffice.intake.openapi)."""
    num_or_null = {"type": ["number", "null"]}
    str_or_null = {"type": ["string", "null"]}
    lines = {"type": "array", "items": {"type": "string"}}
    published_line = m._obj({
        "number": {"type": "string", "description": "公示编号"}, "name": {"type": "string"},
        "birth_month": {"type": "string", "description": "出生年月, YYYY-MM"},
        "employer_name": {"type": "string"},
        "points": {"type": "object", "description": "each indicator's points as published, by indicator code"},
        "total": {"type": "number"}, "rank": {"type": "integer"}, "published_at": {"type": "string"},
    }, required=("number", "name", "birth_month", "employer_name", "points", "total", "rank", "published_at"))
    published_line["type"] = ["object", "null"]
    published_line["description"] = "the line of the published list (公示名单), null when not listed"
    m.SCHEMAS["Result"] = m._obj({
        "total": num_or_null,
        "indicators": {"type": "array", "items": m._obj({
            "indicator": {"type": "string"}, "label_zh": {"type": "string"}, "points": num_or_null,
            "explanation": lines}, required=("indicator", "label_zh", "points", "explanation"))},
        "explanation": lines,
        "scored_at": str_or_null,
        "rank": {"type": ["integer", "null"]},
        "admitted": {"type": "boolean"},
        "published": published_line,
        "changed_since_publication": {"type": "boolean",
                                      "description": "the total changed after the list was published"},
        "qualified_at": str_or_null,
        "revoked_at": str_or_null,
        "revocation_ground_zh": str_or_null,
        "status_zh": {"type": "string", "description": "the state in words, for the applicant"},
    }, required=("total", "indicators", "explanation", "scored_at", "rank", "admitted", "published",
                 "changed_since_publication", "qualified_at", "revoked_at", "revocation_ground_zh", "status_zh"),
        description="最终积分及排名 (第五篇 一、1)")
    application = m.SCHEMAS["Application"]
    application["properties"]["result"] = m._ref("Result")
    application["required"] = [*application["required"], "result"]
    m.SCHEMAS["Event"] = m._obj({
        "cursor": {"type": "integer", "description": "the feed position; pass the last one as `after`"},
        "kind": {"type": "string", "description": "case.decided, score.changed, ranking.changed, list.published, "
                 "qualification.granted, qualification.revoked, notice.issued, settlement.progress"},
        "occurred_at": {"type": "string"}, "application_id": {"type": "integer"}, "year": {"type": "integer"},
        "applicant": m._obj({"id_number_masked": {"type": "string"}, "name": {"type": "string"}},
                            required=("id_number_masked", "name")),
        "text": {"type": "string", "description": "the words to show the applicant (Chinese)"},
        "payload": {"type": ["object", "null"]},
    }, required=("cursor", "kind", "occurred_at", "application_id", "year", "applicant", "text", "payload"))
    m.SCHEMAS["EventPage"] = m._obj({
        "events": {"type": "array", "items": m._ref("Event")},
        "next_cursor": {"type": "integer", "description": "pass as `after` to continue; unchanged when empty"},
    }, required=("events", "next_cursor"))
    params = [
        {"name": "after", "in": "query", "required": False,
         "schema": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1},  # the app-wide query range
         "description": "the last cursor read (0 or absent: from the beginning)"},
        {"name": "limit", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1, "maximum": 1000}},
    ]
    m.PATHS["/events"] = {
        "get": m._op("listEvents", "The applicants' events, in feed order after a cursor (poll it)", ["events:read"],
                     {**m._ok("EventPage"), **m._error_responses(*m._AUTH, 422)}, params=params),
    }
