"""What every command shares: the settings from the environment and the app built from them.

Its own small module so that `backoffice/cli.py` (which registers every command) and the
feature packages' commands (`*/cli.py`) both import it, and none imports the other.
"""
from __future__ import annotations

import click
from flask import Flask

from backoffice.app import create_app
from backoffice.settings import Settings, SettingsError


def cli_settings() -> Settings:
    """Settings from the environment; a bad one ends the command with its message."""
    try:
        return Settings.from_env()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc


def cli_app() -> Flask:
    return create_app(cli_settings())
