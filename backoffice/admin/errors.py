"""Error pages (400, 403, 404, 409, 500 …) inside the back office's frame, and request ids.

Every request gets an id (a proxy's X-Request-ID when it sent a sane one, else a fresh one),
returned in the X-Request-ID header, printed on an error page and written in the error's log
line, so what a window clerk reads out over the phone finds the line in the log. The page
keeps the navigation (the menu the user may use, their name, the language switch) and speaks
the user's language; when the frame itself cannot be drawn (the database is down), a bare
page says the same.
"""
from __future__ import annotations

import logging
import re
import uuid

from flask import Flask, current_app, g, has_request_context, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from backoffice.extensions import db
from backoffice.i18n import _, N_

log = logging.getLogger("backoffice.errors")

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

TITLES: dict[int, str] = {
    400: N_("请求无效"),
    403: N_("无权访问"),
    404: N_("未找到"),
    405: N_("不支持的操作"),
    409: N_("冲突"),
    410: N_("已删除"),
    413: N_("文件过大"),
    422: N_("无法处理"),
    500: N_("系统内部错误"),
}
DESCRIPTIONS: dict[int, str] = {
    403: N_("您的角色或所属区无权访问此页面。"),
    404: N_("没有找到这个页面或记录，可能地址有误或记录已不存在。"),
    405: N_("此地址不支持该操作。"),
    500: N_("系统出现内部错误，本次操作未保存。请稍后重试；如仍出错，请将下方请求编号告知系统管理员。"),
}


def request_id() -> str:
    if not has_request_context():
        return ""
    if "request_id" not in g:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = incoming if _SANE_ID.match(incoming) else uuid.uuid4().hex[:16]
    return g.request_id


def render_error_page(code: int, description: str | None = None, title: str | None = None):
    """(html, code): the page in the frame with the navigation, or the bare page if the frame fails."""
    context = {
        "code": code,
        "title": title or (_(TITLES[code]) if code in TITLES else str(code)),
        "description": description or (_(DESCRIPTIONS[code]) if code in DESCRIPTIONS else ""),
        "request_id": request_id(),
    }
    try:
        admin = current_app.extensions["admin"][0]
        return admin.index_view.render("errors/error.html", **context), code
    except Exception:  # the frame needs the database (menu counts, the user): say it without the frame
        db.session.rollback()
        log.exception("error page frame failed request_id=%s", context["request_id"])
        return render_template("errors/bare.html", **context), code


def _description(exc: HTTPException) -> str | None:
    """A message a view gave on purpose (abort(403, description=...)), not werkzeug's stock English."""
    stock = type(exc).description
    if exc.description and exc.description != stock:
        return exc.description
    return None


def init_app(app: Flask) -> None:
    app.extensions["render_error_page"] = render_error_page

    @app.before_request
    def _assign_request_id():
        request_id()

    @app.after_request
    def _send_request_id(response):
        response.headers[REQUEST_ID_HEADER] = request_id()
        return response

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if exc.code is None or exc.code < 400:  # routing redirects are exceptions too
            return exc
        # A machine API answers in its own format, routing 404/405 included (which its
        # blueprint's handlers never see): its init registers a responder for its URL prefix.
        for prefix, respond in app.extensions.get("http_error_responders", {}).items():
            if request.path.startswith(prefix):
                return respond(exc)
        log.warning("%s %s -> %s request_id=%s", request.method, request.path, exc.code, request_id())
        return render_error_page(exc.code, _description(exc))

    @app.errorhandler(InternalServerError)
    def _internal_error(exc: InternalServerError):
        # Flask hands an unhandled exception here (outside testing) wrapped in InternalServerError.
        db.session.rollback()
        original = getattr(exc, "original_exception", None) or exc
        log.error("%s %s -> 500 request_id=%s", request.method, request.path, request_id(),
                  exc_info=(type(original), original, original.__traceback__))
        for prefix, respond in app.extensions.get("http_error_responders", {}).items():
            if request.path.startswith(prefix):
                return respond(exc)
        return render_error_page(500)

    @app.errorhandler(CSRFError)
    def _csrf_error(exc: CSRFError):
        log.warning("%s %s -> 400 (form expired) request_id=%s", request.method, request.path, request_id())
        return render_error_page(400, _("请刷新页面后重试，本次提交未保存。"),
                                 title=_("表单已失效"))
