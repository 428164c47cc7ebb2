"""applicants: an index on the full name, for the worklists' search by exact name

Revision ID: 5e1f0c2b7a91
Revises: 5ca1e0f4d7b2
Create Date: 2026-11-30 15:25:00
"""
from alembic import op

revision = '5e1f0c2b7a91'
down_revision = '5ca1e0f4d7b2'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('applicants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_applicants_name'), ['name'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('applicants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_applicants_name'))
