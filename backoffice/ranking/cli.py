"""`backoffice rank --year Y`."""
from __future__ import annotations

import click

from backoffice import cliapp
from backoffice.extensions import db
from backoffice.ranking.services import rank_year


@click.command("rank")
@click.option("--year", type=int, required=True, help="申报年度 / application year")
def rank(year: int) -> None:
    """Rank a year: write ranks and admission, print the cut-off and the admitted count."""
    app = cliapp.cli_app()
    with app.app_context():
        try:
            result = rank_year(year, actor_label="cli")
        except LookupError as exc:
            db.session.rollback()
            raise click.ClickException(str(exc)) from exc
        db.session.commit()
    cutoff = "-" if result.cutoff is None else f"{result.cutoff:.2f}"
    click.echo(f"{year}年度 / year {year}: 排名 {result.ranked} 人 ranked, 落户指标 quota {result.quota}, "
               f"分数线 cut-off {cutoff}, 取得资格 {result.admitted} 人 admitted")
    if result.not_final:
        click.echo(f"注意：{result.not_final} 份已提交的申请尚有审核结果未返回或复查未办结，积分尚非最终 / "
                   f"{result.not_final} submitted applications still wait for a registry result or a review "
                   "decision; their totals are not final")
