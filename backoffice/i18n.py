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

from flask import current_app, has_request_context, session
from flask_babel import LazyString, get_locale
from flask_babel import gettext, lazy_gettext, lazy_pgettext, pgettext
from flask_login import current_user

# The language chooser shows each language by its own name, once.
LOCALES = {"zh_Hans_CN": "中文", "en": "English"}

TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"

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
    if not has_request_context():
        return False
    return str(get_locale() or "").startswith("en")


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
