"""Every example in the OpenAPI document passes the server's own validation (issue 15 §9):
property examples against their schema and the identifier check digits the services apply,
whole request-body examples by sending them to the API, which must accept them."""
from __future__ import annotations

from backoffice.intake.openapi import SCHEMAS, document
from backoffice.intake.schema import Validator
from verifiers.identifiers import resident_id_problem, uscc_problem


def _examples(node, path="#"):
    """(path, schema or media object, example) for every example in the document."""
    if isinstance(node, dict):
        if "example" in node:
            yield path, node, node["example"]
        for name, example in (node.get("examples") or {}).items() if isinstance(node.get("examples"), dict) else ():
            yield f"{path}/examples/{name}", node, example.get("value") if isinstance(example, dict) else example
        for key, value in node.items():
            if key not in ("example", "examples"):
                yield from _examples(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _examples(item, f"{path}/{i}")


def test_our_check_digit_refuses_the_old_example():
    # The example the document used to give: its check digit is wrong (GB 11643 gives 1).
    assert resident_id_problem("11010519850314002X") is not None


def test_every_property_example_fits_its_schema_and_the_identifier_checks():
    validator = Validator(SCHEMAS)
    found = [e for e in _examples(document()) if "/content/" not in e[0]]
    assert len(found) >= 2
    for path, schema, example in found:
        assert validator.errors(example, schema) == [], path
        description = schema.get("description", "")
        if "GB 11643" in description:
            assert resident_id_problem(example) is None, (path, example)
        if "GB 32100" in description:
            assert uscc_problem(example) is None, (path, example)


def test_every_request_body_example_is_accepted_by_the_api(api, year_in, district):
    year_in("application")
    doc = document()
    sent = 0
    for path, item in doc["paths"].items():
        for method, op in item.items():
            media = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            if "example" not in media:
                continue
            assert "{" not in path, "path parameters: give the example a real row to aim at"
            answer = getattr(api, method)(path, json=media["example"])
            assert answer.status_code < 300, (method, path, answer.get_json())
            sent += 1
    assert sent >= 1
