"""`backoffice settlement open-qualified --year Y`: open the settlement case of every
qualified, unrevoked application of a year that has none yet (idempotent; the same
services.open_for_qualified the announcement's close calls)."""
from __future__ import annotations

import click
from backoffice.applications.models import Application
from backoffice.cliapp import cli_app
from backoffice.extensions import db
from backoffice.settlement.models import SettlementCase
from backoffice.settlement.services import open_for_qualified
from backoffice.cases.intake import IntakeRefused


@click.group("settlement")
def settlement() -> None:
    """Settlement (落户办理) by hand."""


@settlement.command("open-qualified")
@click.option("--year", type=int, required=True, help="The application year.")
def open_qualified(year: int) -> None:
    """Open the missing settlement cases of a year's qualified applications."""
    from sqlalchemy import select


    app = cli_app()
    with app.app_context():
        missing = db.session.scalars(
            select(Application).where(Application.year == year, Application.qualified_at.is_not(None),
                                      Application.revoked_at.is_(None),
                                      Application.id.not_in(select(SettlementCase.application_id)))
            .order_by(Application.id)).all()
        opened = 0
        for application in missing:

            try:
                open_for_qualified(application, actor_label="cli")
                opened += 1
            except IntakeRefused as exc:
                click.echo(f"application {application.id}: {exc.message_zh}", err=True)
        db.session.commit()
    click.echo(f"{year}: {opened} settlement case(s) opened")
