"""No 500 from any input (issue 15 §5).

PostgreSQL text cannot hold NUL, SQLite and PostgreSQL integers end at 2**63-1 (and our
ids at 2**31-1), and a negative page makes a negative OFFSET: input like that must be
answered in words before it reaches the database. The checks run before every view:

- ``<int:…>`` in any route is bounded to 0 … 2**63-1 by the converter (a bigger number names
  nothing: 404), so no view can receive an id the driver cannot bind;
- a NUL in the path answers 404 (no page has one); a NUL or an unpaired surrogate in a query
  parameter, a form field, a file name or anywhere in a JSON body answers 400 (422 with the
  field's path under /api/, as every other bad field there);
- an integer in a query parameter (``page=-1``, ``id=99999999999999999999``, ``ids=1,2,…``)
  must lie in 0 … 2**31-1: 400 naming the parameter.

As a last line, a database error caused by a value (DataError, an integer the driver cannot
bind) answers 400 instead of 500, and a unique key lost to a parallel request (or SQLite's
"database is locked") 409, both rolled back.
"""
from __future__ import annotations

import json
import re

from flask import Flask, abort, current_app, jsonify, render_template, request
from werkzeug.exceptions import BadRequest, NotFound
from werkzeug.routing import IntegerConverter, ValidationError
from backoffice.extensions import db
from backoffice.i18n import is_english, text

MAX_BIGINT = 2**63 - 1
MAX_QUERY_INT = 2**31 - 1
_INTEGER = re.compile(r"^\s*[+-]?\d+\s*$")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


class BoundedIntConverter(IntegerConverter):
    """Flask's ``int`` with the range a database id can have: 0 … 2**63-1 unless the rule
    says otherwise (0 names no row, and views answer it 404 themselves)."""

    def __init__(self, map, fixed_digits=0, min=0, max=MAX_BIGINT, signed=False):  # noqa: A002
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)

    def to_python(self, value: str):
        # Werkzeug checks the method before it converts, so a rejected number on one rule of a
        # path with several methods would answer 405; it names nothing: 404.
        try:
            return super().to_python(value)
        except ValidationError:
            raise NotFound() from None


class BadInput(BadRequest):
    """A value no view can take. ``field`` is where it was (a query parameter, a JSON path)."""

    def __init__(self, field: str, zh: str, en: str):
        super().__init__(description=f"{zh} / {en}")
        self.field, self.zh, self.en = field, zh, en


def _unholdable(value: str) -> bool:
    return "\x00" in value or bool(_SURROGATE.search(value))


def _bad_text(field: str) -> BadInput:
    return BadInput(field, f"“{field}”含有不允许的字符（如NUL）", f"“{field}” contains a character that is not allowed (such as NUL)")


def _json_strings(value, path: str = ""):
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield f"{path}.{key}" if path else str(key), str(key)
            yield from _json_strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _json_strings(item, f"{path}[{index}]")


def check_request() -> None:
    if "\x00" in request.path:
        abort(404)
    for key, value in request.args.items(multi=True):
        if _unholdable(key) or _unholdable(value):
            raise _bad_text(key.replace("\x00", "") or "?")
        for piece in value.split(","):
            if _INTEGER.match(piece) and not 0 <= int(piece) <= MAX_QUERY_INT:
                raise BadInput(key, f"参数“{key}”超出范围（0至{MAX_QUERY_INT}）",
                               f"parameter “{key}” is out of range (0 to {MAX_QUERY_INT})")
    if request.method in ("GET", "HEAD", "OPTIONS", "DELETE"):
        return
    if request.mimetype == "application/json":
        raw = request.get_data(cache=True)
        try:
            data = json.loads(raw or b"null")
        except (ValueError, UnicodeDecodeError):
            return  # the view answers "not JSON"
        for path, text in _json_strings(data):
            if _unholdable(text):
                raise _bad_text(path or "body")
    elif request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        for key, value in request.form.items(multi=True):
            if _unholdable(key) or _unholdable(value):
                raise _bad_text(key.replace("\x00", "") or "?")
        for key, part in request.files.items(multi=True):
            if _unholdable(key) or _unholdable(part.filename or ""):
                raise _bad_text(f"files.{key.replace(chr(0), '')}")


def _answer(exc: BadInput):
    if request.path.startswith("/api/"):
        status = 422 if request.method not in ("GET", "HEAD", "DELETE") else 400
        response = jsonify({"error": {"code": "fields" if status == 422 else "input", "message_zh": exc.zh,
                                      "message_en": exc.en,
                                      "fields": [{"path": exc.field, "code": "bad_value", "message_zh": exc.zh,
                                                  "message_en": exc.en}]}})
        response.status_code = status
        return response
    return _page(400, (exc.en if is_english() else exc.zh))


def _page(code: int, description: str):
    """The app's error page (in the frame, with a request id) when the app installed one."""
    render = current_app.extensions.get("render_error_page")
    if render is not None:
        return render(code, description)
    return render_template("errors/bare.html", code=code, title=str(code), description=description), code


def init_app(app: Flask) -> None:
    from sqlalchemy.exc import DataError, IntegrityError, OperationalError, StatementError


    app.url_map.converters["int"] = BoundedIntConverter
    app.before_request(check_request)
    app.register_error_handler(BadInput, _answer)

    def _value_error(exc):
        # The database refused a value (out of range, NUL, bad encoding): the input's fault.
        db.session.rollback()
        return _answer(BadInput("?", "输入的值无法保存（超出范围或含不允许的字符）",
                                "a value cannot be stored (out of range or a character that is not allowed)"))

    app.register_error_handler(DataError, _value_error)
    app.register_error_handler(OverflowError, _value_error)

    def _statement_error(exc: StatementError):
        if isinstance(getattr(exc, "orig", None), (OverflowError, ValueError, UnicodeError)):
            return _value_error(exc)
        raise exc

    app.register_error_handler(StatementError, _statement_error)

    def _conflict(exc):
        # Two requests raced for the same row (a unique key, SQLite's single writer): the
        # loser is told to look again and retry, not given a 500.
        if isinstance(exc, OperationalError) and "locked" not in str(exc.orig).lower():
            raise exc
        db.session.rollback()
        zh = "与另一请求同时修改了同一记录，未保存；请刷新后重试"
        en = "another request changed the same record at the same moment; nothing was saved, reload and retry"
        if request.path.startswith("/api/"):
            response = jsonify({"error": {"code": "conflict", "message_zh": zh, "message_en": en, "fields": []}})
            response.status_code = 409
            return response
        return _page(409, (en if is_english() else zh))

    app.register_error_handler(IntegrityError, _conflict)
    app.register_error_handler(OperationalError, _conflict)
