"""Fixtures of the case tests."""
from __future__ import annotations

from functools import lru_cache

import pytest

from backoffice.staff import passwords


@lru_cache(maxsize=4)
def _hash_once(password: str) -> str:
    return passwords.hash_password(password)


@pytest.fixture(autouse=True)
def _one_hash_per_password(monkeypatch):
    """These tests create many accounts; Argon2 costs ~0.3 s per hash, so hash each password
    once (same real hash, sign-in still verifies it)."""
    monkeypatch.setattr("backoffice.staff.services.hash_password", _hash_once)
