"""Security headers on every answer.

HTML pages get a Content-Security-Policy whose scripts and <style> blocks must carry the
request's nonce (Flask-Admin renders ``admin_csp_nonce_attribute`` on its own; our templates
do the same), so an injected script does not run; inline ``style=""`` attributes stay allowed
(style-src-attr), they cannot run code. Frames are refused (X-Frame-Options and
frame-ancestors), the referrer never leaves the site, and nothing is cached: every page and
API answer here may hold personal data. Static files are the exception to no-store.
"""
from __future__ import annotations

import secrets

from flask import Flask, g, request


def csp_nonce() -> str:
    nonce = g.get("_csp_nonce")
    if nonce is None:
        nonce = g._csp_nonce = secrets.token_urlsafe(16)
    return nonce


def content_security_policy(nonce: str) -> str:
    return "; ".join((
        "default-src 'self'",
        f"script-src 'self' 'nonce-{nonce}'",
        f"style-src 'self' 'nonce-{nonce}'",
        "style-src-attr 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ))


API_POLICY = "default-src 'none'; frame-ancestors 'none'"


def _is_static() -> bool:
    endpoint = request.endpoint or ""
    return endpoint == "static" or endpoint.endswith(".static")


def init_app(app: Flask) -> None:
    app.jinja_env.globals["csp_nonce"] = csp_nonce

    @app.after_request
    def _security_headers(response):
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        own_policy = headers.get("Content-Security-Policy", "")
        # A response that lets our own pages frame it (the evidence PDF in the workspace)
        # says so in its own policy; everything else is never framed.
        headers.setdefault("X-Frame-Options", "SAMEORIGIN" if "frame-ancestors 'self'" in own_policy else "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        if response.mimetype == "text/html":
            headers["Content-Security-Policy"] = content_security_policy(csp_nonce())
        elif "Content-Security-Policy" not in headers:
            headers["Content-Security-Policy"] = API_POLICY
        if not _is_static():
            headers["Cache-Control"] = "no-store"
            headers.pop("Expires", None)
        return response
