"""Sign-in, sign-out and language choice, as admin views outside the menu."""
from __future__ import annotations

from flask import abort, redirect, request, session, url_for
from flask_admin import BaseView, expose
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy.orm import joinedload
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from backoffice.audit.services import record
from backoffice.extensions import db
from backoffice.i18n import _l, LOCALES
from backoffice.security.urls import same_site_path
from backoffice.staff.models import Staff
from backoffice.staff.services import authenticate, end_sessions


SESSION_VERSION_KEY = "_sv"


def load_user(user_id: str) -> Staff | None:
    try:
        # The district comes along: every page's header shows it (one query, not two).
        staff = db.session.get(Staff, int(user_id), options=[joinedload(Staff.district)])
    except (TypeError, ValueError, OverflowError):
        return None
    # A session is valid only for the account's current session version: logout, a password
    # change or reset, deactivation and a role or district change bump it (staff/services.py
    # end_sessions), so every cookie issued before — replayed or still open elsewhere — ends.
    if staff is None or session.get(SESSION_VERSION_KEY) != staff.session_version:
        return None
    return staff


class LoginForm(FlaskForm):
    username = StringField(_l("用户名"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("密码"), validators=[DataRequired(), Length(max=256)])


def _safe_next(target: str | None) -> str | None:
    # Only same-site relative paths: never an open redirect (backslashes included).
    return same_site_path(target)


class LoginView(BaseView):
    def is_visible(self) -> bool:
        return False

    @expose("/", methods=("GET", "POST"))
    def index(self):
        if current_user.is_authenticated:
            return redirect(url_for("admin.index"))
        form = LoginForm()
        message = None
        if form.validate_on_submit():
            result = authenticate(form.username.data, form.password.data, request.remote_addr)
            if result.staff is not None:
                session.clear()
                session[SESSION_VERSION_KEY] = result.staff.session_version
                login_user(result.staff)
                return redirect(_safe_next(request.args.get("next")) or url_for("admin.index"))
            message = result.message
            # The failure counter and its audit event must persist although we answer 200.
            db.session.commit()
        return self.render("auth/login.html", form=form, message=message)

    @expose("/logout", methods=("POST",))
    def logout(self):
        if current_user.is_authenticated:
            record("logout", "staff", current_user.id, district_id=current_user.district_id)
            end_sessions(current_user._get_current_object(), "logout")
            logout_user()
        session.clear()
        return redirect(url_for("login.index"))

    @expose("/locale", methods=("POST",))
    def locale(self):
        choice = request.form.get("locale")
        if choice not in LOCALES:
            abort(400)
        if current_user.is_authenticated:
            before = current_user.locale
            current_user.locale = choice
            record("staff.locale", "staff", current_user.id, district_id=current_user.district_id,
                   before={"locale": before}, after={"locale": choice})
        session["locale"] = choice
        return redirect(_safe_next(request.form.get("next")) or url_for("admin.index"))
