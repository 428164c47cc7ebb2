"""`backoffice announce --year Y`, `backoffice qualify`, `backoffice tips rotate-keys`."""
from __future__ import annotations



import click
from backoffice.announcement.services import AnnouncementError, publish
from backoffice.cliapp import cli_app
from backoffice.extensions import db
from backoffice.announcement.services import grant_due_qualifications
from backoffice.announcement.crypto_rotation import rotate


@click.command("announce")
@click.option("--year", type=int, required=True, help="申报年度 / application year")
def announce(year: int) -> None:
    """Publish the year's list (公示名单) from its ranking; once only."""

    app = cli_app()
    with app.app_context():
        try:
            publication = publish(year, actor_label="cli")
        except AnnouncementError as exc:
            db.session.rollback()
            raise click.ClickException(exc.message) from exc
        db.session.commit()
        click.echo(f"{year}年度公示名单已发布 / published: {publication.row_count} 人 rows, "
                   f"分数线 cut-off {publication.cutoff}, digest {publication.digest}")


@click.command("qualify")
@click.option("--day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="按该日（北京时间）判断公示期是否结束 / the day to judge by")
def qualify(day) -> None:
    """Grant the qualification of every listed application whose window has closed (the job by hand)."""

    app = cli_app()
    with app.app_context():
        granted = grant_due_qualifications(day.date() if day else None, actor_label="cli")
        db.session.commit()
    click.echo(f"取得年度积分落户资格 / qualified: {granted}")


@click.group("tips")
def tips() -> None:
    """Tips (举报): the reporters' sealed fields."""


@tips.command("rotate-keys")
def rotate_keys() -> None:
    """Re-encrypt every reporter field with the newest key of TIP_ENCRYPTION_KEYS (put the new
    key first, run this, then drop the old key)."""

    app = cli_app()
    with app.app_context():
        count = rotate()
        db.session.commit()
    click.echo(f"已用最新密钥重新加密 {count} 条举报人信息 / re-encrypted {count} reporter rows")


