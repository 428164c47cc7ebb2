"""No dead code that a dead-code finder is sure about (vulture at 90 % confidence and above:
unused imports, arguments and variables, unreachable code). Its lower-confidence findings
(functions only tests call, Flask-Admin and Flask hooks called by name) are checked by hand."""
from __future__ import annotations

from pathlib import Path

import vulture  # the dev extras (pyproject.toml), as CI installs them

ROOT = Path(__file__).resolve().parents[1]
# Flask-Admin calls column formatters as f(view, context, model, name); the signature is its.
# Flask-Admin filters are called as apply(query, value, alias=None): the signature is its too.
FRAMEWORK_NAMES = ["context", "alias"]


def test_vulture_finds_nothing_certain():
    finder = vulture.Vulture(ignore_names=FRAMEWORK_NAMES)
    finder.scavenge([str(ROOT / p) for p in ("backoffice", "queues", "verifiers")])
    found = [f"{Path(item.filename).relative_to(ROOT)}:{item.first_lineno}: {item.message}"
             for item in finder.get_unused_code(min_confidence=90)]
    assert found == []
