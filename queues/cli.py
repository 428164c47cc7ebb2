"""`backoffice rescore`: rescore a whole year (after a rule correction, or after synth)."""
from __future__ import annotations

import os
import time

import click
from sqlalchemy import func, select

from backoffice import cliapp
from backoffice.applications.models import Application
from backoffice.extensions import db
from backoffice.ranking.services import rank_year
from queues.jobs import enqueue_year_rescore, rescore_year_in_chunks
from queues.relay import relay_client


@click.command("rescore")
@click.option("--year", type=int, required=True)
@click.option("--trigger", default="rescore_year", show_default=True, help="Recorded on each new snapshot.")
@click.option("--enqueue", is_flag=True, help="Run it as a job on the maintenance queue instead of here.")
@click.option("--processes", type=int, default=min(4, os.cpu_count() or 1), show_default=True,
              help="Processes sharing the chunks (PostgreSQL; SQLite always uses one).")
def rescore(year: int, trigger: str, enqueue: bool, processes: int) -> None:
    """Rescore every application of YEAR (new snapshots only where something changed), then rerank."""
    app = cliapp.cli_app()
    with app.app_context():
        if enqueue:
            settings = app.config["BACKOFFICE"]
            job_id = enqueue_year_rescore(relay_client(settings), settings, year, trigger=trigger)
            click.echo(f"enqueued {job_id} on the maintenance queue")
            return
        total = db.session.scalar(select(func.count()).where(Application.year == year)) or 0
        started = time.perf_counter()
        with click.progressbar(length=total, label=f"rescore {year}") as bar:
            applications, changed = rescore_year_in_chunks(year, trigger=trigger, progress=bar.update,
                                                           processes=processes)
        ranked = rank_year(year)
        db.session.commit()
        click.echo(f"{applications} applications rescored, {changed} new snapshots, "
                   f"in {time.perf_counter() - started:.1f} s; ranking: {ranked}")
