"""score snapshots: result digest (figures compared without reading the breakdown)

Revision ID: 8d3f6b2c4e10
Revises: 37cee246a709
Create Date: 2026-11-29 05:35:00
"""
from alembic import op
import sqlalchemy as sa


revision = '8d3f6b2c4e10'
down_revision = '37cee246a709'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('score_snapshots', schema=None) as batch_op:
        batch_op.add_column(sa.Column('result_digest', sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('score_snapshots', schema=None) as batch_op:
        batch_op.drop_column('result_digest')
