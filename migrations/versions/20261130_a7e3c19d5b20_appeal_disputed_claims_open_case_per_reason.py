"""appeals name their disputed claims (review_case_claims); one open case per claim and reason

Issue 17 §3: an appeal of an indicator with several claims (housing segments, awards)
names the claims it disputes. §4: a tax claim's two contestable results (a year below
100 000 yuan, a tax violation) each get their own 复查, so the partial unique index of
open cases is per claim and contested reason.

Revision ID: a7e3c19d5b20
Revises: 04a1cd518beb
Create Date: 2026-11-30 15:40:00
"""
from alembic import op
import sqlalchemy as sa

revision = 'a7e3c19d5b20'
down_revision = '04a1cd518beb'
branch_labels = None
depends_on = None

_OPEN = sa.text("status != 'closed'")


def upgrade() -> None:
    op.create_table('review_case_claims',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['review_cases.id'], name=op.f('fk_review_case_claims_case_id_review_cases')),
    sa.ForeignKeyConstraint(['claim_id'], ['indicator_claims.id'], name=op.f('fk_review_case_claims_claim_id_indicator_claims')),
    sa.PrimaryKeyConstraint('case_id', 'claim_id', name=op.f('pk_review_case_claims'))
    )
    op.create_index(op.f('ix_review_case_claims_claim_id'), 'review_case_claims', ['claim_id'], unique=False)
    with op.batch_alter_table('review_cases') as batch_op:
        batch_op.drop_index('uq_review_cases_open_claim', sqlite_where=_OPEN, postgresql_where=_OPEN)
        batch_op.create_index('uq_review_cases_open_claim', ['claim_id', 'reason_code'], unique=True,
                              sqlite_where=_OPEN, postgresql_where=_OPEN)


def downgrade() -> None:
    with op.batch_alter_table('review_cases') as batch_op:
        batch_op.drop_index('uq_review_cases_open_claim', sqlite_where=_OPEN, postgresql_where=_OPEN)
        batch_op.create_index('uq_review_cases_open_claim', ['claim_id'], unique=True,
                              sqlite_where=_OPEN, postgresql_where=_OPEN)
    op.drop_index(op.f('ix_review_case_claims_claim_id'), table_name='review_case_claims')
    op.drop_table('review_case_claims')
