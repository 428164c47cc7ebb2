"""Columns sealed at rest with Fernet (the `cryptography` package), keys from settings.

`SealedString` encrypts on the way into the database and decrypts on the way out, with a
MultiFernet over ``Settings.resolved_tip_keys()``: the first key encrypts, every key
decrypts, so a new key is put first and ``backoffice tips rotate-keys`` re-encrypts the
stored rows with it (`rotate_tokens`) before the old key is dropped. The database only ever
holds Fernet tokens ("gAAAAA…"); a dump, a replica or a DBA's query shows no plaintext.
"""
from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import InvalidToken, MultiFernet, Fernet
from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator


@lru_cache(maxsize=8)
def _multifernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(k.encode()) for k in keys])


def sealer(settings=None) -> MultiFernet:
    """The MultiFernet of the running app's settings (or of `settings`)."""
    if settings is None:
        from flask import current_app

        settings = current_app.config["BACKOFFICE"]
    return _multifernet(tuple(settings.resolved_tip_keys()))


def seal(value: str, settings=None) -> str:
    return sealer(settings).encrypt(value.encode("utf-8")).decode("ascii")


def unseal(token: str, settings=None) -> str:
    return sealer(settings).decrypt(token.encode("ascii")).decode("utf-8")


def rotate_token(token: str, settings=None) -> str:
    """The same plaintext under the newest key (MultiFernet.rotate)."""
    return sealer(settings).rotate(token.encode("ascii")).decode("ascii")


class SealedString(TypeDecorator):
    """A string stored as a Fernet token (TEXT), plaintext in Python."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return seal(str(value))

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        try:
            return unseal(value)
        except InvalidToken as exc:
            raise InvalidToken("a sealed column could not be decrypted with the configured keys"
                               " (TIP_ENCRYPTION_KEYS)") from exc
