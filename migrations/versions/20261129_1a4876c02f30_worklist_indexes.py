"""worklist indexes: due order with the id as tie-breaker, and partial indexes for open cases

Revision ID: 1a4876c02f30
Revises: e0fc95aa790d
Create Date: 2026-11-29 04:46:47.028913
"""
from alembic import op
import sqlalchemy as sa
import backoffice.core.db


revision = '1a4876c02f30'
down_revision = 'e0fc95aa790d'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('review_cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_cases_worklist'))
        batch_op.create_index('ix_review_cases_worklist', ['district_id', 'queue', 'status', 'due_date', 'id'], unique=False)
        batch_op.create_index('ix_review_cases_city_worklist', ['queue', 'status', 'due_date', 'id'], unique=False)
        batch_op.create_index('ix_review_cases_open_by_district', ['district_id', 'queue', 'due_date', 'id'], unique=False, sqlite_where=sa.text("status != 'closed'"), postgresql_where=sa.text("status != 'closed'"))
        batch_op.create_index('ix_review_cases_open_by_queue', ['queue', 'due_date', 'id'], unique=False, sqlite_where=sa.text("status != 'closed'"), postgresql_where=sa.text("status != 'closed'"))


def downgrade() -> None:
    with op.batch_alter_table('review_cases', schema=None) as batch_op:
        batch_op.drop_index('ix_review_cases_open_by_queue', sqlite_where=sa.text("status != 'closed'"), postgresql_where=sa.text("status != 'closed'"))
        batch_op.drop_index('ix_review_cases_open_by_district', sqlite_where=sa.text("status != 'closed'"), postgresql_where=sa.text("status != 'closed'"))
        batch_op.drop_index('ix_review_cases_city_worklist')
        batch_op.drop_index('ix_review_cases_worklist')
        batch_op.create_index(batch_op.f('ix_review_cases_worklist'), ['district_id', 'queue', 'status', 'due_date'], unique=False)
