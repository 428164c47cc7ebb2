"""Application factory."""
from __future__ import annotations

from flask import Flask, redirect, url_for
from flask_babel import get_locale
from sqlalchemy import event

from backoffice.security import init_security
import backoffice.announcement.api  # noqa: F401  (GET /events joins the API blueprint before init_api registers it)
import backoffice.eligibility.api  # noqa: F401  (units, links and objections join the API blueprint)
import backoffice.settlement.api  # noqa: F401  (its routes join the API blueprint before init_api registers it)
from backoffice.calendar.services import install as install_calendar
from backoffice.admin.errors import init_app as init_error_pages
from backoffice.admin.setup import init_admin
from backoffice.extensions import babel, csrf, db, login_manager
from backoffice.i18n import _l, LOCALES, TRANSLATIONS_DIR, compile_catalogs, install_template_gettext, is_english, select_locale, text
from backoffice.intake.api import init_api
from backoffice.settings import PROJECT_ROOT, Settings, ensure_sqlite_parent
from backoffice.staff.auth import load_user
from queues.relay import init_app as init_outbox_push
from backoffice.security.refusals import write_refusals


def create_app(settings: Settings | None = None, **config_overrides) -> Flask:
    settings = settings or Settings.from_env()
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "backoffice" / "static"),
        instance_path=str(PROJECT_ROOT / "instance"),
    )
    app.config.update(
        SECRET_KEY=settings.resolved_secret_key(),
        SQLALCHEMY_DATABASE_URI=settings.database_url,
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True},
        BABEL_DEFAULT_LOCALE=settings.default_locale,
        BABEL_DEFAULT_TIMEZONE="Asia/Shanghai",
        BABEL_TRANSLATION_DIRECTORIES=str(TRANSLATIONS_DIR),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # Production is served over HTTPS only: the cookies never travel in clear.
        SESSION_COOKIE_SECURE=settings.session_cookie_secure or settings.production,
        REMEMBER_COOKIE_SECURE=settings.session_cookie_secure or settings.production,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        MAX_CONTENT_LENGTH=8 * 1024 * 1024,
        FLASK_ADMIN_SWATCH="default",
        BACKOFFICE=settings,
    )
    app.config.update(config_overrides)
    ensure_sqlite_parent(settings.database_url)

    init_security(app)  # first: bounded id converter before any route, app-wide input checks and headers

    db.init_app(app)
    csrf.init_app(app)
    compile_catalogs()  # `make install` compiled them; a catalog changed since (a merge) is rebuilt
    babel.init_app(app, locale_selector=select_locale)
    install_template_gettext(app)
    login_manager.init_app(app)
    login_manager.login_view = "login.index"
    login_manager.login_message = _l("请先登录")  # lazy: read when a request is refused, in its language
    login_manager.session_protection = "strong"

    login_manager.user_loader(load_user)

    init_admin(app)

    init_outbox_push(app)
    install_calendar(app)  # the working-day clock reads the official calendar table
    _install_request_transaction(app)
    _install_templates_and_errors(app)

    init_api(app)  # after the HTML error handlers: it answers JSON under /api/ only
    if settings.database_url.startswith("sqlite"):
        with app.app_context():
            _sqlite_connection_setup(db.engine)

    @app.get("/")
    def root():
        return redirect(url_for("admin.index"))

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    return app


def _install_request_transaction(app: Flask) -> None:
    """One commit per request: views and services flush; the request commits once, or
    rolls back when the view failed (as indico's request handler does)."""
    @app.after_request
    def _commit(response):
        if response.status_code < 400:
            session = db.session()
            # The session ends with the request (removed at teardown): expiring each object it
            # loaded (~150 on a worklist page) at this commit is work for nothing.
            expire, session.expire_on_commit = session.expire_on_commit, False
            try:
                session.commit()
            finally:
                session.expire_on_commit = expire
        else:
            db.session.rollback()

        if write_refusals():  # a refused cross-district attempt is audited although the request failed
            db.session.commit()
        return response

    @app.teardown_request
    def _rollback(exc):
        if exc is not None:
            db.session.rollback()


def _sqlite_connection_setup(engine) -> None:
    """Foreign keys on, a busy timeout, and real transactions: pysqlite's own BEGIN
    handling breaks SAVEPOINTs, so the driver is put in autocommit and SQLAlchemy
    emits BEGIN itself (SQLAlchemy docs, "Serializable isolation / Savepoints")."""
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN")

    if not event.contains(engine, "connect", _on_connect):
        event.listen(engine, "connect", _on_connect)
        event.listen(engine, "begin", _on_begin)


def _html_lang() -> str:
    """The page's language for <html lang>: zh-Hans-CN or en."""
    return str(get_locale() or "zh_Hans_CN").replace("_", "-")


def _install_templates_and_errors(app: Flask) -> None:
    @app.context_processor
    def _globals():
        # `t` is the transition shim of t('中文', 'English'): tools/i18n_codemod.py rewrites every
        # call to _('中文'); a template written before the rewrite still renders meanwhile.
        return {"is_english": is_english, "locales": LOCALES, "t": text, "html_lang": _html_lang}

    # Error pages in the frame with the navigation, in the user's language, with a request id
    # (also in the log line): backoffice/admin/errors.py.
    init_error_pages(app)
