"""Decisions and countersignatures are append-only at the database (issue 15 §7), as the
audit table is: UPDATE and DELETE are refused by triggers on PostgreSQL and SQLite."""
from __future__ import annotations

import os

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from backoffice.cases.models import Countersignature, Decision, Outcome
from backoffice.extensions import db

ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith("postgresql")


@pytest.fixture
def signed_decision(make):
    case = make.case(district="朝阳区")
    reviewer, supervisor = make.staff("reviewer", "朝阳区"), make.staff("supervisor", "朝阳区")
    decision = Decision(case_id=case.id, outcome=Outcome.rejected, reason_code="housing_listing_invalid",
                        note="不予支持", decided_by_id=reviewer.id)
    db.session.add(decision)
    db.session.flush()
    signature = Countersignature(decision_id=decision.id, signed_by_id=supervisor.id, confirmed=True)
    db.session.add(signature)
    db.session.flush()
    return decision, signature


def _refused(statement: str, row_id: int) -> str:
    savepoint = db.session.begin_nested()
    with pytest.raises(DBAPIError) as failure:
        db.session.execute(text(statement), {"id": row_id})
        db.session.flush()
    savepoint.rollback()
    return str(failure.value)


@pytest.mark.parametrize("statement, row", [
    ("UPDATE decisions SET outcome = 'granted', note = 'changed' WHERE id = :id", 0),
    ("DELETE FROM decisions WHERE id = :id", 0),
    ("UPDATE countersignatures SET confirmed = false WHERE id = :id", 1),
    ("DELETE FROM countersignatures WHERE id = :id", 1),
])
def test_decisions_and_countersignatures_refuse_update_and_delete(app, signed_decision, statement, row):
    message = _refused(statement, signed_decision[row].id)
    assert "append-only" in message
    assert db.session.execute(text("SELECT note FROM decisions WHERE id = :id"),
                              {"id": signed_decision[0].id}).scalar() == "不予支持"


@pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL not configured (set DATABASE_URL); CI runs this")
def test_an_update_on_decisions_is_refused_by_postgresql(app, signed_decision):
    message = _refused("UPDATE decisions SET note = 'tampered' WHERE id = :id", signed_decision[0].id)
    assert "decisions is append-only (UPDATE refused)" in message
