"""`backoffice synth`: a realistic synthetic year."""
from __future__ import annotations

import time

import click

from backoffice import cliapp
from backoffice.synth import SynthError, synthesize


@click.command("synth")
@click.option("--year", default=2021, show_default=True)
@click.option("--applications", default=120_000, show_default=True)
@click.option("--seed", default=1, show_default=True, help="The same seed gives the same year.")
@click.option("--open-cases", default=60_000, show_default=True,
              help="Open review cases: 复查 of contestable results first, then 异议申诉 up to this count.")
@click.option("--closed", is_flag=True,
              help="An earlier, finished year: its review cases are generated decided and closed.")
def synth(year: int, applications: int, seed: int, open_cases: int, closed: bool) -> None:
    """Generate a synthetic application year (bulk insert; COPY on PostgreSQL)."""
    app = cliapp.cli_app()
    started = time.perf_counter()
    with app.app_context():
        with click.progressbar(length=applications, label=f"synth {year}") as bar:
            try:
                summary = synthesize(year=year, applications=applications, seed=seed, open_cases=open_cases,
                                     progress=bar.update, closed=closed)
            except SynthError as exc:
                raise click.ClickException(str(exc)) from exc
    click.echo(f"{summary.describe()} in {time.perf_counter() - started:.1f} s")
    click.echo(f"score it with: backoffice rescore --year {year}")
