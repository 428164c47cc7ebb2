"""`backoffice eligibility --year Y`: re-run the four conditions (第一篇) for a whole year."""
from __future__ import annotations

import time

import click
from backoffice.cliapp import cli_app
from backoffice.eligibility.services import check_year
from backoffice.extensions import db
from backoffice.applications.models import Application


@click.command("eligibility")
@click.option("--year", required=True, type=int)
def eligibility(year: int) -> None:
    """Check every application of the year against the registries; store what changed."""

    app = cli_app()
    started = time.perf_counter()
    with app.app_context():
        from sqlalchemy import func, select


        total = db.session.scalar(select(func.count()).select_from(Application).where(Application.year == year))
        with click.progressbar(length=total, label=f"eligibility {year}") as bar:
            counts = check_year(year, progress=bar.update)
        db.session.commit()
    click.echo(f"{counts['applications']} applications: {counts['eligible']} eligible, {counts['refused']} refused, "
               f"{counts['stored']} results stored in {time.perf_counter() - started:.1f} s")
