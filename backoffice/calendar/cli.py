"""`backoffice calendar`: seed the official calendar from chinese-calendar, show coverage."""
from __future__ import annotations

import click

from backoffice.calendar.services import coverage as year_coverage, seed_from_package
from backoffice.cliapp import cli_app
from backoffice.extensions import db


@click.group("calendar")
def calendar() -> None:
    """节假日安排 / the official holiday calendar."""


@calendar.command("seed")
@click.option("--from-year", type=int, default=None, help="Only years from this one (default: all the package knows).")
def seed(from_year: int | None) -> None:
    """Fill the years the table does not cover yet from the chinese-calendar package (idempotent:
    a year with any entry, e.g. one the administrator entered, is left as it is)."""
    app = cli_app()
    with app.app_context():
        result = seed_from_package(from_year, actor_label="cli")
        db.session.commit()
    click.echo(result.describe())


@calendar.command("coverage")
def coverage() -> None:
    """The years with entries (days off / make-up working days) and their notices."""
    app = cli_app()
    with app.app_context():
        for c in year_coverage():
            click.echo(f"{c.year}  {c.holidays:3d} / {c.workdays:2d}  {'；'.join(c.notices)}")
