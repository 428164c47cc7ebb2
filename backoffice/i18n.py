"""Locale selection and our bilingual labels.

Flask-Admin's own strings come from its zh_Hans_CN catalog through Flask-Babel.
Our strings are written in both languages where they are used, `bi("中文", "English")`,
so a reviewer reading the code sees the Chinese the window staff see.
"""
from __future__ import annotations

from flask import current_app, has_request_context, session
from flask_babel import LazyString, get_locale
from flask_login import current_user

LOCALES = {"zh_Hans_CN": "中文", "en": "English"}


def select_locale() -> str:
    if has_request_context():
        if current_user and current_user.is_authenticated and current_user.locale in LOCALES:
            return current_user.locale
        chosen = session.get("locale")
        if chosen in LOCALES:
            return chosen
    return current_app.config.get("BABEL_DEFAULT_LOCALE", "zh_Hans_CN")


def is_english() -> bool:
    if not has_request_context():
        return False
    return str(get_locale() or "").startswith("en")


def bi(zh: str, en: str) -> LazyString:
    """A label that renders in the signed-in user's language."""
    return LazyString(lambda: en if is_english() else zh)


def text(zh: str, en: str) -> str:
    return en if is_english() else zh
