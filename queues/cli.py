"""`backoffice rescore`: rescore a whole year (after a rule correction, or after synth)."""
from __future__ import annotations

import os
import sys
import time

import click
from sqlalchemy import func, select

from backoffice import cliapp
from backoffice.applications.models import Application
from backoffice.extensions import db
from backoffice.ranking.services import rank_year
from queues.jobs import fan_out_year, rescore_year_in_chunks, year_progress, year_runs
from queues.relay import relay_client


@click.command("rescore")
@click.option("--year", type=int, help="The year to rescore (not needed with --progress).")
@click.option("--trigger", default="rescore_year", show_default=True, help="Recorded on each new snapshot.")
@click.option("--enqueue", is_flag=True,
              help="Fan it out over RQ instead: chunk jobs on the bulk queue that any worker on any host "
                   "takes, and the ranking once the last chunk is done.")
@click.option("--wait", is_flag=True, help="With --enqueue: follow the run's progress until it is ranked.")
@click.option("--progress", "progress_of", metavar="RUN_ID|latest",
              help="Show how far an enqueued run got (read from its chunks' results).")
@click.option("--processes", type=int, default=min(4, os.cpu_count() or 1), show_default=True,
              help="Here, without --enqueue: processes sharing the chunks (PostgreSQL; SQLite always uses one).")
def rescore(year: int | None, trigger: str, enqueue: bool, wait: bool, progress_of: str | None,
            processes: int) -> None:
    """Rescore every application of YEAR (new snapshots only where something changed), then rerank."""
    app = cliapp.cli_app()
    with app.app_context():
        settings = app.config["BACKOFFICE"]
        if progress_of:
            connection = relay_client(settings)
            run_id = progress_of
            if progress_of == "latest":
                runs = year_runs(connection, settings)
                if not runs:
                    raise click.ClickException("no year rescore has been enqueued (or its record expired)")
                run_id = runs[0]
            _show(connection, settings, run_id)
            return
        if year is None:
            raise click.UsageError("--year is required")
        if enqueue:
            connection = relay_client(settings)
            run = fan_out_year(connection, settings, year, trigger=trigger)
            click.echo(f"enqueued {run['run_id']}: {run['applications']} applications in {len(run['chunks'])} "
                       f"chunk jobs on the bulk queue; ranking {run['rank_job']} once they are all done")
            if wait:
                _follow(connection, settings, run["run_id"])
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


def _line(p) -> str:
    return (f"{p.run_id} (year {p.year}): {p.finished}/{p.chunks} chunks, {p.done}/{p.applications} applications, "
            f"{p.changed} new snapshots; {p.retrying} retrying, {p.failed} failed; ranking {p.rank_status}")


def _show(connection, settings, run_id: str) -> None:
    progress = year_progress(connection, settings, run_id)
    if progress is None:
        raise click.ClickException(f"no such run: {run_id}")
    click.echo(_line(progress))
    if progress.ranking:
        click.echo(f"ranking: {progress.ranking.get('result')}")


def _follow(connection, settings, run_id: str) -> None:
    progress = year_progress(connection, settings, run_id)
    with click.progressbar(length=max(progress.applications, 1), label="rescore") as bar:
        shown = 0
        while True:
            progress = year_progress(connection, settings, run_id)
            bar.update(progress.done - shown)
            shown = progress.done
            if progress.complete or progress.rank_status == "failed":
                break
            if progress.failed:
                bar.render_finish()
                click.echo(f"\n{progress.failed} chunk(s) failed for good: retry them on the jobs page "
                           "(系统 › 后台任务); the ranking waits for them", err=True)
                sys.exit(1)
            time.sleep(1)
    click.echo(_line(progress))
    if progress.ranking:
        click.echo(f"ranking: {progress.ranking.get('result')}")
