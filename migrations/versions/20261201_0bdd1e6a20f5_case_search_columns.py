"""review_cases.id_last4 and worklist sort indexes; indicator_claims.year for a year's invalid claims

The search joined applicants' id_last4 to applications and review_cases, and PostgreSQL
counted its matches with a scan of every case (issue 18 §4). The last four are copied onto the
case (an ID number never changes) and indexed with the lists' filters after them; the
backfill is one UPDATE … FROM. A status filter sorted by receipt date (the closed cases of
every year kept) gets an index in that order, district-wide and city-wide.

indicator_claims.year: the year statistics' invalid registry results read every year's invalid
claims before joining the year's applications (three years: 44 640 index entries for 14 844);
the claim carries its application's year and the partial index starts with it.

Revision ID: 0bdd1e6a20f5
Revises: b4d1e7a9c352
Create Date: 2026-12-01 04:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0bdd1e6a20f5'
down_revision = 'b4d1e7a9c352'
branch_labels = None
depends_on = None


INVALID = sa.text("registry_status = 'invalid'")


def upgrade() -> None:
    with op.batch_alter_table('review_cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('id_last4', sa.String(length=4), nullable=True))
    # One set-based UPDATE … FROM (PostgreSQL; SQLite since 3.33).
    op.execute(
        "UPDATE review_cases SET id_last4 = applicants.id_last4"
        " FROM applications JOIN applicants ON applicants.id = applications.applicant_id"
        " WHERE applications.id = review_cases.application_id"
    )
    with op.batch_alter_table('review_cases', schema=None) as batch_op:
        batch_op.create_index('ix_review_cases_id_last4', ['id_last4', 'queue', 'status', 'district_id'], unique=False)
        batch_op.create_index('ix_review_cases_worklist_received',
                              ['district_id', 'queue', 'status', 'received_on', 'id'], unique=False)
        batch_op.create_index('ix_review_cases_city_worklist_received',
                              ['queue', 'status', 'received_on', 'id'], unique=False)


    with op.batch_alter_table('indicator_claims', schema=None) as batch_op:
        batch_op.add_column(sa.Column('year', sa.Integer(), nullable=True))
    op.execute(
        "UPDATE indicator_claims SET year = applications.year"
        " FROM applications WHERE applications.id = indicator_claims.application_id"
    )
    with op.batch_alter_table('indicator_claims', schema=None) as batch_op:
        batch_op.drop_index('ix_indicator_claims_invalid', sqlite_where=INVALID, postgresql_where=INVALID)
        batch_op.create_index('ix_indicator_claims_invalid', ['year', 'indicator', 'registry_reason', 'application_id'],
                              unique=False, sqlite_where=INVALID, postgresql_where=INVALID)


def downgrade() -> None:
    with op.batch_alter_table('indicator_claims', schema=None) as batch_op:
        batch_op.drop_index('ix_indicator_claims_invalid', sqlite_where=INVALID, postgresql_where=INVALID)
        batch_op.create_index('ix_indicator_claims_invalid', ['application_id', 'indicator', 'registry_reason'],
                              unique=False, sqlite_where=INVALID, postgresql_where=INVALID)
        batch_op.drop_column('year')
    with op.batch_alter_table('review_cases', schema=None) as batch_op:
        batch_op.drop_index('ix_review_cases_city_worklist_received')
        batch_op.drop_index('ix_review_cases_worklist_received')
        batch_op.drop_index('ix_review_cases_id_last4')
        batch_op.drop_column('id_last4')
