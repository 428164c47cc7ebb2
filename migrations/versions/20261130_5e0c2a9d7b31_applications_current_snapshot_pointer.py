"""applications.current_snapshot_id: a pointer to each application's latest score snapshot

The rescore reads the latest snapshot of a chunk of applications through it (one primary-key
probe each) instead of max(id) per application over score_snapshots, whose plan turned into a
nested loop over the whole table when the statistics were stale (issue 18 §1). Backfilled from
the snapshots already stored.

Revision ID: 5e0c2a9d7b31
Revises: c3d9e2f4a871
Create Date: 2026-11-30 15:30:00
"""
from alembic import op
import sqlalchemy as sa

revision = '5e0c2a9d7b31'
down_revision = 'c3d9e2f4a871'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('current_snapshot_id', sa.Integer(), nullable=True))
    # Backfill: the latest snapshot of each application (the index (application_id, id) serves it).
    op.execute(
        "UPDATE applications SET current_snapshot_id = "
        "(SELECT max(s.id) FROM score_snapshots s WHERE s.application_id = applications.id)"
    )


def downgrade() -> None:
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_column('current_snapshot_id')
