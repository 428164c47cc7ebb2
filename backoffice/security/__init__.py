"""App-wide protections (issue 15), installed once by the app factory so every route — the
ones other modules add later included — gets them without doing anything:

- ``inputs``: no 500 from any input. Ids in paths are bounded by the ``int`` converter, NUL
  bytes and out-of-range integers in paths, queries, forms, file names and JSON are refused
  with 400/404/422 and a message before a view runs, and errors the database raises on
  input it cannot hold become 400 rather than 500.
- ``headers``: CSP with a per-request nonce, frame denial, referrer policy, no-store.
- ``urls.same_site_path``: the one check for "back" and "next" links.
"""
from __future__ import annotations

from flask import Flask
from backoffice.security import headers, inputs


def init_security(app: Flask) -> None:
    """Call first in the app factory: the converter must be in place before routes exist."""

    inputs.init_app(app)
    headers.init_app(app)
