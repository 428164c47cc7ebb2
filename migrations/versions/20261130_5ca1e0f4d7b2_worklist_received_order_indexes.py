"""worklist indexes for the receipt-date sort of open cases (issue 18 §4)

The worklists' search by the ID number's last four characters needs no new index (it now reads
applicants' id_last4, applications' (applicant_id, year) and review_cases' application_id
indexes); the receipt-date sort needed these two.

Revision ID: 5ca1e0f4d7b2
Revises: 5e0c2a9d7b31
Create Date: 2026-11-30 15:45:00
"""
from alembic import op
import sqlalchemy as sa


revision = '5ca1e0f4d7b2'
down_revision = '5e0c2a9d7b31'
branch_labels = None
depends_on = None

OPEN = sa.text("status != 'closed'")


def upgrade() -> None:
    with op.batch_alter_table('review_cases', schema=None) as batch_op:
        batch_op.create_index('ix_review_cases_open_by_district_received',
                              ['district_id', 'queue', 'received_on', 'id'], unique=False,
                              sqlite_where=OPEN, postgresql_where=OPEN)
        batch_op.create_index('ix_review_cases_open_by_queue_received', ['queue', 'received_on', 'id'], unique=False,
                              sqlite_where=OPEN, postgresql_where=OPEN)


def downgrade() -> None:
    with op.batch_alter_table('review_cases', schema=None) as batch_op:
        batch_op.drop_index('ix_review_cases_open_by_queue_received', sqlite_where=OPEN, postgresql_where=OPEN)
        batch_op.drop_index('ix_review_cases_open_by_district_received', sqlite_where=OPEN, postgresql_where=OPEN)
