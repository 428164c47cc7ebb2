"""The page frame every admin page shares: the bureau's name, the environment (demo, test or
production, from settings) and the signed-in window in the header, the version in the footer,
and the favicon (a vendored static file, also answered at /favicon.ico)."""
from __future__ import annotations

from functools import lru_cache
from importlib import metadata

from flask import Flask, current_app, send_from_directory

from backoffice.i18n import _, is_english

BUREAU_ZH = "北京市人力资源和社会保障局"  # the handbook's issuing bureau (积分落户操作管理细则)
BUREAU_EN = "Beijing Municipal Human Resources and Social Security Bureau"
DISTRIBUTION = "hukou-backoffice"


@lru_cache(maxsize=1)
def version() -> str:
    """The installed package's version (pyproject.toml)."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "0+unknown"


def environment(app: Flask) -> tuple[str, str]:
    """(code, label) of the environment this process runs as: production, test or demo."""
    env = (app.config["BACKOFFICE"].env or "").lower()
    if env == "production":
        return "production", _("生产环境")
    if app.testing or env in ("test", "testing", "staging"):
        return "test", _("测试环境")
    return "demo", _("演示环境")


def init_app(app: Flask) -> None:
    @app.context_processor
    def _chrome():
        code, label = environment(current_app)
        return {"chrome": {"bureau": (BUREAU_EN if is_english() else BUREAU_ZH), "env_code": code, "env_label": label,
                           "version": version()}}

    @app.route("/favicon.ico")
    def favicon():
        return send_from_directory(app.static_folder, "favicon.ico", mimetype="image/vnd.microsoft.icon",
                                   max_age=86400)
