"""Fixtures for the scoring tests: pure, no database, no Flask app."""

from __future__ import annotations

import json

import pytest

from ._support import blank_input


@pytest.fixture
def blank():
    """Factory: ``blank(**top_level_changes)`` → a valid application scoring only age."""
    return blank_input


@pytest.fixture
def write_json(tmp_path):
    """Write a JSON document to a temp file and return its path (str)."""
    counter = iter(range(10**6))

    def write(data, name=None) -> str:
        path = tmp_path / (name or f"app{next(counter)}.json")
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        return str(path)

    return write
