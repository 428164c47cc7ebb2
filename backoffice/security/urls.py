"""Same-site paths for "back" and "next" links: never an open redirect."""
from __future__ import annotations

from urllib.parse import urlsplit


def same_site_path(target: str | None) -> str | None:
    """``target`` when it is a path on this site, else None.

    Browsers read a backslash as a slash and drop tabs and newlines, so ``/\\evil.example/``
    and ``/\\t/evil.example`` leave the site just as ``//evil.example`` does: only a path that
    starts with one "/" followed by something other than "/" or "\\", with no backslash or
    control character anywhere, is accepted."""
    if not target or not target.startswith("/") or len(target) > 2000:
        return None
    if "\\" in target or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target):
        return None
    if target.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target
