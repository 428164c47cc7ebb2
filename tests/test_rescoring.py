"""Rescoring: a snapshot only when the figures change, what changed and why, totals, audit."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import event, func, select

from backoffice.applications.facts import FactsError
from backoffice.applications.models import Application, ScoreSnapshot
from backoffice.applications.scoring_service import rescore_application, rescore_batch, rescore_many
from backoffice.audit.models import AuditEvent
from backoffice.cases.models import Decision, Outcome
from backoffice.extensions import db

EMPLOYMENT = {
    "insurance": {t: {"paid": [["2011-01", "2020-12"]], "back_paid": []}
                  for t in ("pension", "medical", "unemployment", "injury", "maternity")},
    "work_districts": [{"from": "2011-01", "to": "2020-12", "district": "朝阳区"}],
}
OWN = {"type": "own", "from": "2016-01", "to": "2020-12", "district": "朝阳区"}


def _file(make, application, indicator, facts, status="valid"):
    claim = make.claim(application, indicator=indicator, status=status, reason=None, claimed=facts)
    claim.verified = facts if status == "valid" else None
    db.session.flush()
    return claim


def _filed(make, district="朝阳区", birth=date(1985, 3, 14)):
    """An application with 10 years of insurance (30.00), age 20, and an invalid own home."""
    application = make.application(district, applicant=make.applicant(birth=birth))
    _file(make, application, "employment", EMPLOYMENT)
    housing = _file(make, application, "housing", OWN, status="invalid")
    return application, housing


def _snapshots(application_id):
    return db.session.scalars(
        select(ScoreSnapshot).where(ScoreSnapshot.application_id == application_id).order_by(ScoreSnapshot.id)
    ).all()


def _decide(make, application, claim, corrected):
    reviewer = make.staff("reviewer", "朝阳区")
    case = make.case(application, claim=claim)
    decision = Decision(case_id=case.id, outcome=Outcome.corrected, reason_code="register_dates_corrected",
                        note="按不动产权证书更正登簿日期", decided_by_id=reviewer.id, changes_score=True)
    db.session.add(decision)
    db.session.flush()
    claim.verified = corrected
    claim.verified_by_decision_id = decision.id
    db.session.flush()
    return decision


def test_first_scoring_stores_a_snapshot_sets_the_total_and_is_audited(make):
    application, _housing = _filed(make)
    snapshot = rescore_application(application.id, trigger="intake")
    assert snapshot is not None
    # 120 months × 3/12 = 30; housing before 2020-08 is taken from employment: 115 × 0.5/12 … + B rental 0.
    assert snapshot.breakdown["indicators"]["employment"]["points"] == 30.0
    assert snapshot.total == Decimal(str(snapshot.breakdown["total"]))
    assert any(line.startswith("合法稳定就业") for line in snapshot.breakdown["explanation"])
    assert db.session.get(Application, application.id).total == snapshot.total
    assert snapshot.changes["previous_snapshot_id"] is None
    assert snapshot.changes["indicators"] == {} and snapshot.changes["total"]["before"] is None
    event_ = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "score.changed",
                                                        AuditEvent.object_id == str(application.id)))
    assert event_.after["total"] == str(snapshot.total) and event_.district_id == application.district_id


def test_rescoring_twice_without_a_change_stores_one_snapshot(make):
    application, _housing = _filed(make)
    assert rescore_application(application.id, trigger="intake") is not None
    assert rescore_application(application.id, trigger="intake") is None
    assert rescore_many([application.id, application.id], trigger="year") == 0
    assert len(_snapshots(application.id)) == 1


def test_a_corrected_decision_changes_the_score_and_the_snapshot_says_why(make):
    application, housing = _filed(make)
    first = rescore_application(application.id, trigger="intake")
    decision = _decide(make, application, housing, {**OWN, "from": "2014-01"})
    second = rescore_application(application.id, trigger="decision", decision_id=decision.id)

    assert second is not None and second.decision_id == decision.id and second.trigger == "decision"
    housing_change = second.changes["indicators"]["housing"]
    assert housing_change["before"] == first.breakdown["indicators"]["housing"]["points"]
    assert housing_change["after"] == second.breakdown["indicators"]["housing"]["points"]
    assert housing_change["after"] > housing_change["before"]
    assert housing_change["claims"] == [housing.id] and housing_change["decisions"] == [decision.id]
    # Only what changed is listed; the total moves by exactly the indicators' difference.
    assert "employment" not in second.changes["indicators"]
    assert second.changes["previous_snapshot_id"] == first.id
    assert second.changes["total"] == {"before": float(first.total), "after": float(second.total)}
    assert db.session.get(Application, application.id).total == second.total


def test_a_registry_correction_without_a_decision_names_the_claim(make):
    application, _housing = _filed(make)
    own = _file(make, application, "housing", {**OWN, "district": "通州区"})
    rescore_application(application.id, trigger="intake")
    own.verified = {**OWN, "from": "2012-01", "district": "通州区"}
    db.session.flush()
    snapshot = rescore_application(application.id, trigger="registry")
    assert snapshot.changes["indicators"]["housing"]["claims"] == [own.id]
    assert snapshot.changes["indicators"]["housing"]["decisions"] == []


def test_bulk_rescoring_gives_the_single_path_results_and_skips_bad_facts(make):
    applications = [_filed(make, birth=date(1968 + n, 2, 1))[0] for n in range(6)]
    bad = applications[3]
    _file(make, bad, "honors", {"code": "no_such_title"})
    result = rescore_batch([a.id for a in applications], trigger="rule-correction", chunk=4)
    assert result.changed == 5 and result.unchanged == 0
    assert list(result.failed) == [bad.id] and "no_such_title" in result.failed[bad.id]
    for application in applications:
        snapshots = _snapshots(application.id)
        assert len(snapshots) == (0 if application is bad else 1)
    # Bulk and single paths agree: nothing left to change.
    for application in applications:
        if application is not bad:
            assert rescore_application(application.id, trigger="check") is None
    with pytest.raises(FactsError) as err:
        rescore_application(bad.id, trigger="check")
    assert err.value.claim_id is not None
    # Older applicants score less for age: the totals differ and were written.
    totals = {db.session.get(Application, a.id).total for a in applications if a is not bad}
    assert len(totals) > 1 and None not in totals
    audited = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "score.changed", AuditEvent.after["trigger"].as_string() == "rule-correction"))
    assert audited == 5


def test_bulk_rescoring_runs_a_constant_number_of_statements(make):
    def statements_for(ids):
        seen = []

        def listener(conn, cursor, statement, *args):
            seen.append(statement)

        engine = db.session.get_bind()
        event.listen(engine, "before_cursor_execute", listener)
        try:
            assert rescore_many(ids, trigger="bench") == len(ids)
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(seen)

    few = [_filed(make)[0].id for _ in range(2)]
    many = [_filed(make)[0].id for _ in range(20)]
    assert statements_for(few) == statements_for(many)


def test_the_application_points_at_its_latest_snapshot_whichever_path_wrote_it(make):
    """The rescore reads "the latest snapshot" through Application.current_snapshot_id (issue 18
    §1): each path moves it with the snapshot it writes, submitted or not, and a rescore after
    a change diffs against the snapshot it points at."""
    submitted, housing = _filed(make)
    unsubmitted, _h = _filed(make)
    unsubmitted.submitted_at = None
    db.session.flush()
    assert rescore_many([submitted.id, unsubmitted.id], trigger="year") == 2
    for application in (submitted, unsubmitted):
        db.session.refresh(application)
        assert application.current_snapshot_id == _snapshots(application.id)[-1].id
    assert unsubmitted.total is None  # only a submitted application has a total (第三篇 十、2)

    decision = _decide(make, submitted, housing, OWN)
    single = rescore_application(submitted.id, trigger="decision", decision_id=decision.id)
    first, second = _snapshots(submitted.id)
    assert single.id == second.id and db.session.get(Application, submitted.id).current_snapshot_id == second.id
    assert single.changes["previous_snapshot_id"] == first.id
    # Nothing changed since: the bulk path finds the pointed-at snapshot's digests equal.
    assert rescore_batch([submitted.id, unsubmitted.id], trigger="again").unchanged == 2


def test_unknown_application(make):
    with pytest.raises(LookupError):
        rescore_application(987654321, trigger="intake")


def test_bulk_rescoring_notices_every_kind_of_change_it_skips_the_engine_for(make, monkeypatch):
    import backoffice.applications.scoring_service as service

    application, housing = _filed(make)
    other, _ = _filed(make)
    assert rescore_many([application.id, other.id], trigger="intake") == 2

    calls = []
    real_score = service.score
    monkeypatch.setattr(service, "score", lambda data: calls.append(data) or real_score(data))
    # Same claims, same facts, same engine: the engine is not even run.
    assert rescore_many([application.id, other.id], trigger="again") == 0 and calls == []

    # A registry re-check changes a claim's verified facts.
    own = _file(make, application, "housing", {**OWN, "district": "通州区"})
    assert rescore_many([application.id, other.id], trigger="registry") == 1 and len(calls) == 1
    assert _snapshots(application.id)[-1].changes["indicators"]["housing"]["claims"] == [own.id]

    # The applicant's birth date is corrected (age comes from the ID number here).
    other_applicant = db.session.get(Application, other.id).applicant
    other_applicant.birth_date = date(1960, 3, 14)
    db.session.flush()
    assert rescore_many([application.id, other.id], trigger="identity") == 1
    assert _snapshots(other.id)[-1].changes["indicators"]["age"]["after"] == 0.0

    # force runs the engine although nothing changed; so does a new engine version
    # (a rule correction), and equal figures still store nothing.
    calls.clear()
    assert rescore_many([application.id], trigger="forced", force=True) == 0 and len(calls) == 1
    calls.clear()
    monkeypatch.setattr(service, "ENGINE_VERSION", "test-next")
    assert rescore_many([application.id, other.id], trigger="rule-correction") == 0 and len(calls) == 2


def test_facts_that_change_no_figure_store_no_snapshot(make, monkeypatch):
    import backoffice.applications.scoring_service as service

    application, _housing = _filed(make)
    assert rescore_many([application.id], trigger="intake") == 1
    # A rental before 2020-08 counts as nothing of its own: "2020年7月(含)以前…以就业计" (SCORING.md rule 2).
    _file(make, application, "housing", {"type": "rental", "from": "2015-01", "to": "2019-12", "district": "朝阳区"})
    calls = []
    real_score = service.score
    monkeypatch.setattr(service, "score", lambda data: calls.append(data) or real_score(data))
    result = rescore_batch([application.id], trigger="registry")
    assert (result.changed, result.unchanged, len(calls)) == (0, 1, 1)
    assert len(_snapshots(application.id)) == 1
