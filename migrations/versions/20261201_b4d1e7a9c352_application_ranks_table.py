"""application_ranks: a year's ranks and admission out of applications

The ranking wrote applications.rank and applications.admitted with UPDATE … FROM, so from its
first statement it held the row lock of every application whose rank moved until it committed,
and a decision's rescore (which locks its application) waited behind it (issue 18 §2). In their
own table the ranking's INSERT … ON CONFLICT takes only FOR KEY SHARE on the applications it
references, which the rescore's FOR NO KEY UPDATE does not wait for. Existing ranks are copied.

The year statistics' extended statistics (c3d9e2f4a871) named applications.admitted; they are
made again on the applications' own grouping expressions (admission now comes from the joined
application_ranks, whose two values PostgreSQL estimates by itself).

Revision ID: b4d1e7a9c352
Revises: 5e1f0c2b7a91
Create Date: 2026-12-01 04:30:00
"""
from alembic import op
import sqlalchemy as sa

revision = 'b4d1e7a9c352'
down_revision = '5e1f0c2b7a91'
branch_labels = None
depends_on = None

STATISTICS = "st_applications_yearstats"
_GROUPING = ("((floor(total))::integer / 5 * 5), (revoked_at IS NOT NULL), "
             "(qualified_at IS NOT NULL AND revoked_at IS NULL) FROM applications")


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    op.create_table('application_ranks',
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=True),
    sa.Column('admitted', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_application_ranks_application_id_applications'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('application_id', name=op.f('pk_application_ranks'))
    )
    op.create_index('ix_application_ranks_year_admitted_rank', 'application_ranks', ['year', 'admitted', 'rank'], unique=False)
    op.execute(
        "INSERT INTO application_ranks (application_id, year, rank, admitted) "
        "SELECT id, year, rank, admitted FROM applications WHERE rank IS NOT NULL OR admitted"
    )
    if _postgresql():
        op.execute(f"DROP STATISTICS IF EXISTS {STATISTICS}")
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_column('admitted')
        batch_op.drop_column('rank')
    if _postgresql():
        op.execute(f"CREATE STATISTICS IF NOT EXISTS {STATISTICS} (ndistinct) ON district_id, {_GROUPING}")
        op.execute("ANALYZE applications")
        op.execute("ANALYZE application_ranks")


def downgrade() -> None:
    if _postgresql():
        op.execute(f"DROP STATISTICS IF EXISTS {STATISTICS}")
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rank', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('admitted', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute(
        "UPDATE applications SET rank = r.rank, admitted = r.admitted FROM application_ranks r "
        "WHERE r.application_id = applications.id"
    )
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.alter_column('admitted', server_default=None)
    op.drop_index('ix_application_ranks_year_admitted_rank', table_name='application_ranks')
    op.drop_table('application_ranks')
    if _postgresql():
        op.execute(f"CREATE STATISTICS IF NOT EXISTS {STATISTICS} (ndistinct) ON district_id, admitted, {_GROUPING}")
        op.execute("ANALYZE applications")
