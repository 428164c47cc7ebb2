"""The admin menu, rendered once per (role, district, language, page) and kept; the static
files' URLs, built once.

Flask-Admin's menu macro asks each of ~30 views whether the user may see it, builds its URL
and its active state on every page: ~10 % of a worklist page's CPU for HTML that only changes
with who is signed in (their role and district decide what they may open), the page's
language and which entry is the current page. The menu is kept per those; what does change
from one request to the next (the queues' open-count badges) is written into the kept HTML
as a mark (`per_request`) and filled in on every page.
"""
from __future__ import annotations

import re
import threading
from collections import OrderedDict
from typing import Callable

from flask import current_app, g, request, url_for
from flask_babel import get_locale
from flask_login import current_user
from markupsafe import Markup

MAX_KEPT = 2048  # menus kept per process (roles × districts × languages × pages: a few hundred)
_MARK = re.compile(r"<!--menu:([a-z_-]+):([A-Za-z0-9_-]*)-->")
_kept: OrderedDict[tuple, str] = OrderedDict()
_lock = threading.Lock()
_fillers: dict[str, Callable[[str], str]] = {}


def per_request(kind: str, arg: str, fill: Callable[[str], str]) -> str:
    """HTML inside a menu entry that changes per request: a mark while the menu is being kept,
    filled by `fill(arg)` on each page (and directly when the menu is not being kept)."""
    if g.get("_menu_keeping"):
        _fillers[kind] = fill
        return f"<!--menu:{kind}:{arg}-->"
    return fill(arg)


def menu_key(admin_view) -> tuple | None:
    """What the menu depends on; None: not kept (nobody signed in, or switched off)."""
    if not current_app.config.get("ADMIN_MENU_CACHE", True):
        return None
    user = current_user._get_current_object()
    if not user.is_authenticated:
        return None
    return (id(current_app._get_current_object()), user.role, user.district_id, user.is_active, str(get_locale()),
            request.script_root, getattr(admin_view, "endpoint", None))


def kept_menu(key: tuple | None) -> Markup | None:
    """The kept menu with this request's figures, or None: the template renders and keeps it."""
    if key is None:
        return None
    with _lock:
        html = _kept.get(key)
        if html is not None:
            _kept.move_to_end(key)
    if html is None:
        g._menu_keeping = True  # the entries render their per-request parts as marks
        return None
    return _fill(html)


def keep_menu(key: tuple | None, html: str) -> Markup:
    """Keep the menu just rendered (with its marks) and return it filled."""
    g.pop("_menu_keeping", None)
    if key is None:
        return Markup(html)
    with _lock:
        _kept[key] = str(html)
        while len(_kept) > MAX_KEPT:
            _kept.popitem(last=False)
    return _fill(str(html))


def _fill(html: str) -> Markup:
    return Markup(_MARK.sub(lambda m: _fillers[m.group(1)](m.group(2)), html))


def forget_menus() -> None:
    with _lock:
        _kept.clear()


# Flask-Admin's pages link ~20 static files (CSS, scripts), each through url_for on every page;
# their URLs only change with the app and where it is mounted.
_static_urls: dict[tuple, str] = {}


def static_url(endpoint: str, **kwargs) -> str:
    key = (id(current_app._get_current_object()), request.script_root, endpoint, tuple(sorted(kwargs.items())))
    found = _static_urls.get(key)
    if found is None:
        found = _static_urls[key] = url_for(endpoint, **kwargs)
    return found


def init_app(app) -> None:
    app.jinja_env.globals.update(admin_menu_key=menu_key, admin_kept_menu=kept_menu, admin_keep_menu=keep_menu,
                                 admin_static_url=static_url)
