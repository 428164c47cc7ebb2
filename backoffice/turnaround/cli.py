"""`backoffice sweep`: the daily sweep by hand (the worker runs it every morning as the
periodic job "daily-sweep"), and a backfill of the backlog trend for a new installation."""
from __future__ import annotations

from datetime import date, timedelta

import click

from backoffice import cliapp
from backoffice.extensions import db
from backoffice.turnaround.sql import beijing_today
from backoffice.turnaround.sweep import record_backlog, sweep as run_sweep


@click.command("sweep")
@click.option("--day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="The day to sweep (2021-10-18); default today in Beijing.")
@click.option("--backfill", type=click.IntRange(0, 366), default=0, show_default=True,
              help="Also record the backlog of this many days before it, rebuilt from receipt and closing dates.")
def sweep(day, backfill: int) -> None:
    """Record the day's backlog and update the escalation lists (idempotent for a day)."""
    app = cliapp.cli_app()
    with app.app_context():
        target: date = day.date() if day else beijing_today()
        for back in range(backfill, 0, -1):
            record_backlog(target - timedelta(days=back))
        result = run_sweep(target)
        db.session.commit()
    if backfill:
        click.echo(f"backlog recorded for the {backfill} days before {target}")
    click.echo(result.describe())
