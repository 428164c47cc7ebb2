"""Running Alembic from code (CLI, demo, tests)."""
from __future__ import annotations

from alembic import command
from alembic.config import Config

from backoffice.settings import PROJECT_ROOT, ensure_sqlite_parent


def alembic_config(database_url: str) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    # ConfigParser interpolation: a literal % in a password must be doubled.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    ensure_sqlite_parent(database_url)
    command.upgrade(alembic_config(database_url), revision)
