"""year statistics: extended statistics on applications for the score-bin GROUP BY (PostgreSQL)

Without them PostgreSQL estimates the year statistics' applications aggregate (district × score
bin × admitted × revoked × qualified) at 96 000 groups for 120 000 rows, so it never aggregates in
parallel; with the ndistinct statistics of these exact expressions it expects a few hundred and
runs a parallel partial aggregate (bench/README.md, "Year statistics"). The expressions must stay
the ones `backoffice/yearstats/figures.py` groups by. Nothing to do on SQLite.

Revision ID: c3d9e2f4a871
Revises: a7e3c19d5b20
Create Date: 2026-11-30 15:40:00
"""
from alembic import op

revision = 'c3d9e2f4a871'
down_revision = 'a7e3c19d5b20'
branch_labels = None
depends_on = None

STATISTICS = "st_applications_yearstats"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"CREATE STATISTICS IF NOT EXISTS {STATISTICS} (ndistinct) ON district_id, admitted, "
        "((floor(total))::integer / 5 * 5), (revoked_at IS NOT NULL), "
        "(qualified_at IS NOT NULL AND revoked_at IS NULL) FROM applications"
    )
    op.execute("ANALYZE applications")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP STATISTICS IF EXISTS {STATISTICS}")
