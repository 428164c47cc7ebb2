"""The `backoffice` command: its own commands, and each feature's commands (`*/cli.py`)
registered below. The settings and the app every command uses come from cliapp.py."""
from __future__ import annotations

import sys

import click
from sqlalchemy import or_, select

from backoffice import cliapp
from backoffice.announcement.cli import announce as _announce_cmd, qualify as _qualify_cmd, tips as _tips_cmd
from backoffice.calendar.cli import calendar as _calendar_cmd
from backoffice.eligibility.cli import eligibility as _eligibility_cmd
from backoffice.calendar.services import seed_from_package
from backoffice.settlement.cli import settlement as _settlement_cmd
from backoffice.demo import DEMO_PASSWORD, seed as load_demo
from backoffice.extensions import db as _db
from backoffice.intake.cli import create_token as _token_cmd, registry as _registry_cmd
from backoffice.migrate import upgrade
from backoffice.ranking.cli import rank as _rank_cmd
from backoffice.reference.models import District
from backoffice.scoring.cli import score as _score_cmd
from backoffice.server import run_demo, run_gunicorn
from backoffice.staff.services import create_staff
from backoffice.synth.cli import synth as _synth_cmd
from backoffice.turnaround.cli import sweep as _sweep_cmd
from queues.cli import rescore as _rescore_cmd
from queues.worker import run_worker


@click.group()
def main() -> None:
    """积分落户审核后台 / points-settlement review back office."""


@main.group()
def db() -> None:
    """Database schema (Alembic)."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION."""
    settings = cliapp.cli_settings()
    upgrade(settings.database_url, revision)
    click.echo(f"database at {revision}: {settings.database_url.split('@')[-1]}")
    if revision == "head":  # the official calendar: the years it does not cover yet (backoffice/calendar)
        with cliapp.cli_app().app_context():
            click.echo(seed_from_package(actor_label="db upgrade").describe())
            _db.session.commit()


@main.command("seed-demo")
@click.option("--year", type=int, default=None,
              help="The demo year; default the year of the demo's application phase (backoffice/demo.py).")
@click.option("--applicants", default=300, show_default=True)
@click.option("--seed", default=2021, show_default=True)
def seed_demo(year: int, applicants: int, seed: int) -> None:
    """Load a demo year (idempotent) and print the demo logins."""
    app = cliapp.cli_app()
    with app.app_context():
        summary = load_demo(year=year, applicants=applicants, seed=seed)
    click.echo(summary.describe())
    click.echo("")
    click.echo("Demo logins (password for all: %s):" % DEMO_PASSWORD)
    for username, role, district in summary.logins:
        click.echo(f"  {username:<14} {role:<14} {district}")


@main.command("create-user")
@click.option("--username", required=True)
@click.option("--name", "full_name", required=True)
@click.option("--role", type=click.Choice(["reviewer", "supervisor", "investigator", "administrator"]), required=True)
@click.option("--district", default=None, help="District name (e.g. 朝阳区) or code; omit for city level")
@click.password_option()
def create_user(username, full_name, role, district, password) -> None:
    """Create a staff account."""
    app = cliapp.cli_app()
    with app.app_context():
        district_id = None
        if district:
            found = _db.session.scalar(select(District).where(or_(District.name == district, District.code == district)))
            if found is None:
                raise click.ClickException(f"unknown district {district!r}")
            district_id = found.id
        try:
            staff = create_staff(username, full_name, password, role, district_id, actor_label="cli")
        except ValueError as exc:
            _db.session.rollback()
            raise click.ClickException(str(exc)) from exc
        _db.session.commit()
        click.echo(f"created {staff.username} ({role})")


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@click.option("--workers", default=2, show_default=True)
def serve(host: str, port: int, workers: int) -> None:
    """Serve the back office with gunicorn."""
    run_gunicorn(cliapp.cli_settings(), host=host, port=port, workers=workers)


@main.command("worker")
@click.option("--burst", is_flag=True, help="Exit when the queues are empty.")
@click.option("--decision-lane/--no-decision-lane", default=True, show_default=True,
              help="Beside the worker, a process serving only the rescore queue, so that a decision's rescore "
                   "never waits behind a ranking or a bulk chunk (off: one process takes every queue in turn).")
def worker(burst: bool, decision_lane: bool) -> None:
    """Run an RQ worker (with its scheduler and the outbox relay) on every queue, most urgent first."""
    run_worker(cliapp.cli_settings(), burst=burst, lane=decision_lane)


@main.command("demo")
@click.option("--port", default=5000, show_default=True)
def demo(port: int) -> None:
    """Migrate, seed, and serve with an embedded Redis and a worker beside the web server."""
    sys.exit(run_demo(cliapp.cli_settings(), port=port))


# Each feature's commands (one line per feature).
main.add_command(_score_cmd)  # scoring
main.add_command(_rank_cmd)  # ranking
main.add_command(_synth_cmd)  # synthetic year
main.add_command(_rescore_cmd)  # rescoring a year (issue 5)
main.add_command(_token_cmd)  # intake
main.add_command(_registry_cmd)
main.add_command(_sweep_cmd)  # turnaround (issue 7)
main.add_command(_calendar_cmd)  # the official holiday calendar (issue 16 §1)
main.add_command(_settlement_cmd)  # settlement (第五篇 二)
main.add_command(_announce_cmd)  # the announcement (第五篇 一): publish, qualify, tips
main.add_command(_qualify_cmd)
main.add_command(_tips_cmd)
main.add_command(_eligibility_cmd)  # eligibility (第一篇): re-check a year
