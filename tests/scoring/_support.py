"""Helpers shared by the scoring tests (pure: no database, no Flask app)."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

#: the installed console script of this venv (``backoffice = backoffice.cli:main``)
BACKOFFICE = Path(sys.executable).parent / "backoffice"

#: shared/ lives beside the repository (CI clones the repo next to it); see tests/support.py
from support import SHARED  # noqa: E402

INSURANCE_TYPES = ("pension", "medical", "unemployment", "injury", "maternity")

BLANK = {
    "year": 2021,
    "birth_date": "1985-05-20",
    "insurance": {t: {"paid": [], "back_paid": []} for t in INSURANCE_TYPES},
    "work_districts": [],
    "residences": [],
    "education": None,
    "work_residence": False,
    "innovation": [],
    "tax": {"annual": {}, "violations": 0},
    "honors": [],
    "detentions": 0,
}


def blank_input(**changes) -> dict:
    """A valid application with nothing to score, top-level keys replaced by ``changes``."""
    data = copy.deepcopy(BLANK)
    data.update(copy.deepcopy(changes))
    return data


def run_score(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    """Run ``backoffice score ARGS`` through the installed console script."""
    if not BACKOFFICE.exists():
        pytest.fail(f"console script {BACKOFFICE} is not installed (pip install -e .)")
    return subprocess.run(
        [str(BACKOFFICE), "score", *args],
        input=stdin, capture_output=True, text=True, encoding="utf-8", timeout=120,
    )
