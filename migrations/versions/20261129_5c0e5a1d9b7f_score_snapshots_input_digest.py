"""score snapshots: input digest, and (application_id, id) for the latest snapshot

Revision ID: 5c0e5a1d9b7f
Revises: a120b3a95deb
Create Date: 2026-11-29 05:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '5c0e5a1d9b7f'
down_revision = 'a120b3a95deb'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('score_snapshots', schema=None) as batch_op:
        batch_op.add_column(sa.Column('input_digest', sa.String(length=32), nullable=True))
        batch_op.drop_index('ix_score_snapshots_application_id')
        batch_op.create_index('ix_score_snapshots_application_latest', ['application_id', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('score_snapshots', schema=None) as batch_op:
        batch_op.drop_index('ix_score_snapshots_application_latest')
        batch_op.create_index('ix_score_snapshots_application_id', ['application_id'], unique=False)
        batch_op.drop_column('input_digest')
