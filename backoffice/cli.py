"""The `backoffice` command."""
from __future__ import annotations

import sys

import click

from backoffice.settings import Settings, SettingsError


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc


def _app():
    from backoffice.app import create_app

    return create_app(_settings())


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
    from backoffice.migrate import upgrade

    settings = _settings()
    upgrade(settings.database_url, revision)
    click.echo(f"database at {revision}: {settings.database_url.split('@')[-1]}")


@main.command("seed-demo")
@click.option("--year", default=2021, show_default=True)
@click.option("--applicants", default=300, show_default=True)
@click.option("--seed", default=2021, show_default=True)
def seed_demo(year: int, applicants: int, seed: int) -> None:
    """Load a demo year (idempotent) and print the demo logins."""
    from backoffice.demo import DEMO_PASSWORD, seed as load_demo

    app = _app()
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
    from sqlalchemy import or_, select

    from backoffice.extensions import db as _db
    from backoffice.reference.models import District
    from backoffice.staff.services import create_staff

    app = _app()
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
    from backoffice.server import run_gunicorn

    run_gunicorn(_settings(), host=host, port=port, workers=workers)


@main.command("worker")
@click.option("--burst", is_flag=True, help="Exit when the queues are empty.")
def worker(burst: bool) -> None:
    """Run an RQ worker (with its scheduler) on the rescore, rank and maintenance queues."""
    from queues.worker import run_worker

    run_worker(_settings(), burst=burst)


@main.command("demo")
@click.option("--port", default=5000, show_default=True)
def demo(port: int) -> None:
    """Migrate, seed, and serve with an embedded Redis and a worker beside the web server."""
    from backoffice.server import run_demo

    sys.exit(run_demo(_settings(), port=port))


# commands: scoring
from backoffice.scoring.cli import score as _score_cmd; main.add_command(_score_cmd)
# commands: ranking
from backoffice.ranking.cli import rank as _rank_cmd; main.add_command(_rank_cmd)
# commands: synthetic year and rescoring (issue 5)
from backoffice.synth.cli import synth as _synth_cmd; main.add_command(_synth_cmd)
from backoffice.eligibility.cli import eligibility as _eligibility_cmd; main.add_command(_eligibility_cmd)
from queues.cli import rescore as _rescore_cmd; main.add_command(_rescore_cmd)
# commands: intake
from backoffice.intake.cli import create_token as _token_cmd, registry as _registry_cmd; main.add_command(_token_cmd); main.add_command(_registry_cmd)
# commands: turnaround (issue 7)
from backoffice.turnaround.cli import sweep as _sweep_cmd; main.add_command(_sweep_cmd)
