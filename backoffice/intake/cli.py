"""`backoffice create-token` and `backoffice registry load DIR`."""
from __future__ import annotations

import click

from backoffice import cliapp
from backoffice.extensions import db
from backoffice.intake.openapi import SCOPES
from backoffice.intake.registry import load_dataset
from backoffice.intake.tokens import issue_token
from verifiers.registry import DatasetError


@click.command("create-token")
@click.option("--client", "name", required=True, help="Client name, e.g. online-application-system")
@click.option("--scope", "scopes", multiple=True, required=True,
              help="Repeat or separate with commas: " + ", ".join(SCOPES))
@click.option("--rotate", is_flag=True, help="Replace an existing client's token (the old one stops working)")
def create_token(name: str, scopes: tuple[str, ...], rotate: bool) -> None:
    """Issue an intake API token for a machine client; the token is printed once."""
    wanted = [s.strip() for item in scopes for s in item.split(",") if s.strip()]
    app = cliapp.cli_app()
    with app.app_context():
        try:
            client, token = issue_token(name, wanted, rotate=rotate, actor_label="cli")
        except ValueError as exc:
            db.session.rollback()
            raise click.ClickException(str(exc)) from exc
        db.session.commit()
        click.echo(f"client {client.name}: scopes {client.scopes}", err=True)
        click.echo("token (shown once; store it now):", err=True)
        click.echo(token)


@click.group("registry")
def registry() -> None:
    """The local registry dataset the verifiers read."""


@registry.command("load")
@click.argument("directory", type=click.Path(exists=True, file_okay=False))
@click.option("--replace", is_flag=True, help="Remove rows of a loaded file's registry that the file no longer has")
def registry_load(directory: str, replace: bool) -> None:
    """Load DIRECTORY's CSV files (verifiers/registry/records.py) into the dataset."""
    app = cliapp.cli_app()
    with app.app_context():
        try:
            summary = load_dataset(directory, replace=replace)
        except (DatasetError, FileNotFoundError) as exc:
            db.session.rollback()
            raise click.ClickException(str(exc)) from exc
        db.session.commit()
    for name, counts in summary.items():
        click.echo(f"{name}: " + ", ".join(f"{n} {what}" for what, n in counts.items()))
