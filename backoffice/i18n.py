"""Locale selection and our translation catalog.

Every string of ours is written in Chinese, the language of the handbook and of the
window, and marked for translation: `_("中文")` where a request is being answered,
`_l("中文")` where the string is built at import time (menu names, form labels).
The Chinese is the msgid; English comes from backoffice/translations/en/LC_MESSAGES/messages.po
(extracted with `pybabel extract -F babel.cfg`, see tools/i18n.md). Placeholders are named:
`_("共%(count)s件", count=n)`. In templates the same `_()` is Jinja's i18n extension.

Handbook quotations are not translated: they are shown in the handbook's Chinese in both
languages, through `quote()` (which is not an extraction keyword) and, in HTML, inside an
element marked `lang="zh-Hans"`.

Flask-Admin's own strings come from its zh_Hans_CN catalog through Flask-Babel (its own
"admin" domain). Reference data that carries both languages (label_zh/label_en on statuses,
reasons, districts…) is chosen with `is_english()`.
"""
from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

import flask_babel
from flask import current_app, has_request_context, session
from flask.globals import _cv_app, _cv_request
from flask_babel import LazyString, get_locale, get_translations
from flask_login import current_user

# The language chooser shows each language by its own name, once.
LOCALES = {"zh_Hans_CN": "中文", "en": "English"}

TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"


# Flask-Babel finds the request's context, domain, locale and catalog again for every string
# (~200 times on a worklist page). Here the catalog is looked up once per app context and kept
# in g beside Flask-Babel's own locale, which it follows: a new locale (Flask-Babel's
# refresh or force_locale) is a new Locale object, and the catalog is looked up again.
def _catalog():
    """(locale, translations, english?) of this app context, or None outside one."""
    ctx = _cv_app.get(None)
    if ctx is None:
        return None
    store = ctx.g.__dict__
    kept = store.get("_bo_catalog")
    if kept is not None:
        babel_ctx = store.get("_flask_babel")
        if babel_ctx is not None and getattr(babel_ctx, "babel_locale", None) is kept[0]:
            return kept
    translations = get_translations()
    locale = get_locale()
    kept = store["_bo_catalog"] = (locale, translations, str(locale or "").startswith("en"))
    return kept


def gettext(string: str, **variables) -> str:
    kept = _catalog()
    if kept is None:
        return flask_babel.gettext(string, **variables)
    s = kept[1].ugettext(string)
    return s if not variables else s % variables


def pgettext(context: str, string: str, **variables) -> str:
    kept = _catalog()
    if kept is None:
        return flask_babel.pgettext(context, string, **variables)
    s = kept[1].upgettext(context, string)
    return s if not variables else s % variables


def ngettext(singular: str, plural: str, num: int, **variables) -> str:
    kept = _catalog()
    if kept is None:
        return flask_babel.ngettext(singular, plural, num, **variables)
    variables.setdefault("num", num)
    s = kept[1].ungettext(singular, plural, num)
    return s if not variables else s % variables


def lazy_gettext(string: str, **variables) -> LazyString:
    return LazyString(gettext, string, **variables)


def lazy_pgettext(context: str, string: str, **variables) -> LazyString:
    return LazyString(pgettext, context, string, **variables)


def install_template_gettext(app) -> None:
    """Templates' _() through the same kept catalog (after Flask-Babel installed its own)."""
    def _t():
        kept = _catalog()
        return kept[1] if kept is not None else get_translations()

    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _t().ugettext(s),
        ngettext=lambda s, p, n: _t().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: _t().upgettext(c, s),
        npgettext=lambda c, s, p, n: _t().unpgettext(c, s, p, n),
    )


_ = gettext
_l = lazy_gettext
__all__ = ["_", "_l", "N_", "data_label", "gettext", "lazy_gettext", "pgettext", "lazy_pgettext", "quote", "is_english",
           "select_locale", "LOCALES", "TRANSLATIONS_DIR", "compile_catalogs"]

log = logging.getLogger(__name__)


def select_locale() -> str:
    if has_request_context():
        if current_user and current_user.is_authenticated and current_user.locale in LOCALES:
            return current_user.locale
        chosen = session.get("locale")
        if chosen in LOCALES:
            return chosen
    return current_app.config.get("BABEL_DEFAULT_LOCALE", "zh_Hans_CN")


def is_english() -> bool:
    """For reference data that carries both languages (label_en / label_zh)."""
    if _cv_request.get(None) is None:
        return False
    return _catalog()[2]


def N_(zh: str, en: str | None = None) -> str:  # noqa: N802 (gettext's name for a marker)
    """Marks a label kept as data (a plain str: it also goes into letters to applicants) for
    extraction; the page shows it through `_(label)`. `N_("待领取", "Open")` is the form before
    tools/i18n_codemod.py, which moves the English to the catalog and leaves `N_("待领取")`."""
    return zh


def quote(handbook_words: str) -> str:
    """A quotation of the handbook: shown in its Chinese in both languages, never translated."""
    return handbook_words


def data_label(zh: str, en: str) -> LazyString:
    """Reference data that carries both languages (label_zh/label_en), where a lazy value is
    needed (menu names, filter options built at import). Not for our own words: those are _l()."""
    return LazyString(lambda: en if is_english() else zh)


# Transition shims: the codemod (tools/i18n_codemod.py) rewrites every call of these to
# `_`/`_l`; they remain only so that a branch written before the conversion still runs.
def bi(zh: str, en: str) -> LazyString:  # pragma: no cover - replaced by _l
    return LazyString(lambda: en if is_english() else zh)


def text(zh: str, en: str) -> str:  # pragma: no cover - replaced by _
    return en if is_english() else zh


def compile_catalogs(directory: Path = TRANSLATIONS_DIR, *, force: bool = False) -> list[Path]:
    """Compile each messages.po to messages.mo when the .mo is missing or older.

    `make install` compiles them with pybabel;
    the app factory runs it too, so a checkout whose catalog changed (a merge, the codemod)
    never serves a stale catalog. Written through a temporary file and a rename, so two
    processes starting together cannot read a half-written catalog."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    written = []
    for po_path in sorted(directory.glob("*/LC_MESSAGES/*.po")):
        mo_path = po_path.with_suffix(".mo")
        if not force and mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as handle:
            catalog = read_po(handle, locale=po_path.parent.parent.name)
        try:
            fd, tmp = tempfile.mkstemp(dir=mo_path.parent, suffix=".mo.tmp")
            with os.fdopen(fd, "wb") as out:
                write_mo(out, catalog, use_fuzzy=False)
            os.replace(tmp, mo_path)
        except OSError as exc:  # a read-only install: it was compiled when it was installed
            log.warning("cannot compile %s: %s", po_path, exc)
            continue
        written.append(mo_path)
    return written


if __name__ == "__main__":  # `python -m backoffice.i18n`: compile the catalogs (make install)
    for path in compile_catalogs(force=True):
        print(f"compiled {path}")
