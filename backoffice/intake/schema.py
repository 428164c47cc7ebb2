"""Request validation against the OpenAPI document's own schemas (openapi.py), so what the
document promises and what the API checks cannot drift apart.

A small validator for the JSON Schema keywords the document uses (``KEYWORDS``; a test
walks the document and fails on any other), reporting every bad field with its path
(``applicant.id_number``, ``claims[2].indicator``) and a message in Chinese and English.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

KEYWORDS = frozenset({
    "$ref", "type", "properties", "required", "additionalProperties", "enum", "pattern", "minLength",
    "maxLength", "minimum", "maximum", "items", "minItems", "maxItems", "format", "minProperties",
    # annotations, not checked
    "description", "title", "example", "examples", "contentMediaType", "default",
})

_TYPE_ZH = {"string": "文本", "integer": "整数", "number": "数字", "boolean": "true或false", "object": "对象",
            "array": "数组", "null": "null"}


@dataclass(frozen=True)
class FieldError:
    path: str
    code: str
    message_zh: str
    message_en: str

    def as_dict(self) -> dict:
        return {"path": self.path, "code": self.code, "message_zh": self.message_zh, "message_en": self.message_en}


def _join(path: str, key) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


def _is_type(value, t: str) -> bool:
    if t == "string":
        return isinstance(value, str)
    if t == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if t == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if t == "boolean":
        return isinstance(value, bool)
    if t == "object":
        return isinstance(value, dict)
    if t == "array":
        return isinstance(value, list)
    if t == "null":
        return value is None
    raise ValueError(f"unknown type {t!r}")


def _format_ok(value: str, fmt: str) -> bool:
    if fmt == "date":
        try:
            date.fromisoformat(value)
            return re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) is not None
        except ValueError:
            return False
    return True  # binary and other annotations


class Validator:
    def __init__(self, components: dict):
        self.components = components

    def resolve(self, schema: dict) -> dict:
        while "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            schema = self.components[name]
        return schema

    def errors(self, value, schema: dict, path: str = "") -> list[FieldError]:
        out: list[FieldError] = []
        self._check(value, self.resolve(schema), path, out)
        return out

    def _check(self, value, schema: dict, path: str, out: list[FieldError]) -> None:
        schema = self.resolve(schema)
        where = path or "(body)"
        types = schema.get("type")
        if types is not None:
            types = [types] if isinstance(types, str) else types
            if not any(_is_type(value, t) for t in types):
                out.append(FieldError(where, "type", f"应为{'或'.join(_TYPE_ZH[t] for t in types)}",
                                      f"expected {' or '.join(types)}"))
                return
        if "enum" in schema and value not in schema["enum"]:
            shown = ", ".join("null" if v is None else str(v) for v in schema["enum"])
            out.append(FieldError(where, "enum", f"取值应为以下之一：{shown}", f"expected one of: {shown}"))
            return
        if isinstance(value, str):
            if "minLength" in schema and len(value) < schema["minLength"]:
                out.append(FieldError(where, "min_length", "不能为空" if schema["minLength"] == 1 else
                                      f"至少{schema['minLength']}个字符", f"at least {schema['minLength']} characters"))
            elif "maxLength" in schema and len(value) > schema["maxLength"]:
                out.append(FieldError(where, "max_length", f"不能超过{schema['maxLength']}个字符",
                                      f"at most {schema['maxLength']} characters"))
            elif "pattern" in schema and re.search(schema["pattern"], value) is None:
                out.append(FieldError(where, "pattern", f"格式不正确（应符合 {schema['pattern']}）",
                                      f"does not match {schema['pattern']}"))
            elif "format" in schema and not _format_ok(value, schema["format"]):
                out.append(FieldError(where, "format", f"格式不正确（应为{schema['format']}）",
                                      f"not a valid {schema['format']}"))
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if "minimum" in schema and value < schema["minimum"]:
                out.append(FieldError(where, "minimum", f"不能小于{schema['minimum']}", f"at least {schema['minimum']}"))
            if "maximum" in schema and value > schema["maximum"]:
                out.append(FieldError(where, "maximum", f"不能大于{schema['maximum']}", f"at most {schema['maximum']}"))
        if isinstance(value, list):
            if "minItems" in schema and len(value) < schema["minItems"]:
                out.append(FieldError(where, "min_items", f"至少{schema['minItems']}项", f"at least {schema['minItems']} items"))
            if "maxItems" in schema and len(value) > schema["maxItems"]:
                out.append(FieldError(where, "max_items", f"最多{schema['maxItems']}项", f"at most {schema['maxItems']} items"))
                return
            if "items" in schema:
                for i, item in enumerate(value):
                    self._check(item, schema["items"], _join(path, i), out)
        if isinstance(value, dict):
            props = schema.get("properties", {})
            if "minProperties" in schema and len(value) < schema["minProperties"]:
                out.append(FieldError(where, "min_properties", "请至少提供一个字段", "give at least one field"))
            for name in schema.get("required", ()):
                if name not in value:
                    out.append(FieldError(_join(path, name), "required", "必填", "required"))
            extra = schema.get("additionalProperties", True)
            for key, item in value.items():
                if key in props:
                    self._check(item, props[key], _join(path, key), out)
                elif extra is False:
                    out.append(FieldError(_join(path, key), "unknown_field", "不认识的字段", "unknown field"))
                elif isinstance(extra, dict):
                    self._check(item, extra, _join(path, key), out)


def schema_keywords(node, found: set[str] | None = None, *, in_schema: bool = False) -> set[str]:
    """Every keyword used in the schemas of an OpenAPI document (for the sync test)."""
    found = set() if found is None else found
    if isinstance(node, dict):
        for key, value in node.items():
            if in_schema:
                found.add(key)
                if key == "properties":
                    for sub in value.values():
                        schema_keywords(sub, found, in_schema=True)
                    continue
                if key in ("items", "additionalProperties") and isinstance(value, dict):
                    schema_keywords(value, found, in_schema=True)
                    continue
                if key in ("enum", "example", "examples", "default", "required"):
                    continue
            if not in_schema and key == "schema" or (not in_schema and key == "schemas"):
                if key == "schemas":
                    for sub in value.values():
                        schema_keywords(sub, found, in_schema=True)
                else:
                    schema_keywords(value, found, in_schema=True)
            elif not in_schema:
                schema_keywords(value, found)
    elif isinstance(node, list) and not in_schema:
        for item in node:
            schema_keywords(item, found)
    return found
