"""`backoffice synth`: the same seed gives the same year; the year looks like one."""
from __future__ import annotations

import dataclasses
import json
import random

import pytest
from sqlalchemy import func, select


def _build(settings, tmp_path, name: str, **kwargs):
    from backoffice.app import create_app
    from backoffice.migrate import upgrade

    url = f"sqlite:///{tmp_path / name}"
    upgrade(url)
    app = create_app(dataclasses.replace(settings, database_url=url))
    from backoffice.synth import synthesize

    with app.app_context():
        summary = synthesize(**kwargs)
    return app, summary


def _dump(app):
    from backoffice.applications.models import Applicant, EvidenceFile, IndicatorClaim
    from backoffice.cases.models import ReviewCase
    from backoffice.extensions import db

    with app.app_context():
        return (
            db.session.execute(select(Applicant.id_number, Applicant.name).order_by(Applicant.id)).all(),
            [(c, json.dumps(f, sort_keys=True), s, r) for c, f, s, r in db.session.execute(
                select(IndicatorClaim.indicator, IndicatorClaim.claimed, IndicatorClaim.registry_status,
                       IndicatorClaim.registry_reason).order_by(IndicatorClaim.id))],
            db.session.execute(select(ReviewCase.number, ReviewCase.queue, ReviewCase.due_date)
                               .order_by(ReviewCase.id)).all(),
            db.session.execute(select(EvidenceFile.sha256, EvidenceFile.size).order_by(EvidenceFile.id)).all(),
        )


@pytest.fixture(scope="module")
def synthetic(settings, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("synth")
    return _build(settings, tmp, "a.db", year=2021, applications=600, seed=11, open_cases=200)


def test_the_same_seed_gives_the_same_year(settings, tmp_path, synthetic):
    again, _ = _build(settings, tmp_path, "b.db", year=2021, applications=600, seed=11, open_cases=200)
    other, _ = _build(settings, tmp_path, "c.db", year=2021, applications=600, seed=12, open_cases=200)
    assert _dump(again) == _dump(synthetic[0])
    assert _dump(other)[0] != _dump(synthetic[0])[0]


def test_every_claim_follows_its_fact_shape_and_every_application_scores(synthetic):
    from backoffice.applications.facts import build_score_input, check_facts
    from backoffice.applications.models import Application, IndicatorClaim
    from backoffice.extensions import db
    from backoffice.scoring import score

    app, _ = synthetic
    with app.app_context():
        for claim in db.session.scalars(select(IndicatorClaim)):
            check_facts(claim.indicator.value, claim.claimed, year=2021)
        totals = [score(build_score_input(a, a.claims))["total"] for a in db.session.scalars(select(Application))]
    assert len(totals) == 600 and 40 < sum(totals) / len(totals) < 110


def test_the_year_has_the_shape_asked_for(synthetic):
    from backoffice.applications.models import Application, IndicatorClaim, RegistryStatus
    from backoffice.cases.models import CaseStatus, ReviewCase
    from backoffice.extensions import db
    from backoffice.reference.models import District
    from verifiers.reasons import REASON_CODES, reason

    app, summary = synthetic
    with app.app_context():
        claims = db.session.scalar(select(func.count()).select_from(IndicatorClaim))
        invalid = db.session.scalars(select(IndicatorClaim).where(
            IndicatorClaim.registry_status == RegistryStatus.invalid)).all()
        assert 0.05 < len(invalid) / claims < 0.12  # about 8 %
        for c in invalid:
            assert c.registry_reason in REASON_CODES
            assert c.registry_message == reason(c.registry_reason).text(year=2021, tax_year=2020)
            assert c.verified is None
        districts = db.session.scalar(select(func.count(func.distinct(Application.district_id))))
        assert districts >= 12 and db.session.scalar(select(func.count()).select_from(District)) == 17
        cases = db.session.scalars(select(ReviewCase)).all()
        assert len(cases) == 200 == summary.counts["open_cases"]
        assert all(c.status in (CaseStatus.open, CaseStatus.awaiting_materials) for c in cases)
        assert len({c.claim_id for c in cases}) == 200  # one open case per claim
        for c in cases:
            if c.kind.value == "review":
                claim = db.session.get(IndicatorClaim, c.claim_id)
                assert reason(claim.registry_reason).contestable and c.review_type in reason(c.reason_code).review_types
    assert summary.counts["tax_100k_each_year"] / 600 == pytest.approx(0.02, abs=0.015)
    assert 0 < summary.counts["awards"] / 600 < 0.03


def test_a_year_that_has_applications_is_refused(synthetic):
    from backoffice.synth import SynthError, synthesize

    app, _ = synthetic
    with app.app_context():
        with pytest.raises(SynthError, match="already has applications"):
            synthesize(year=2021, applications=10, seed=1)


def test_draws_do_not_depend_on_what_came_before():
    from backoffice.synth import draw_applicant

    cum = list(range(1, 11))
    a = draw_applicant(random.Random(5), 2021, 10, cum)
    random.Random(1).random()
    b = draw_applicant(random.Random(5), 2021, 10, cum)
    assert a == b


def test_the_year_has_the_eligibility_registries_and_a_few_per_cent_fail(synthetic):
    """第一篇/第二篇 datasets: every unit tax-registered, permits for nearly everyone, rare criminal
    records; checking the year refuses a few per cent and says why in the handbook's words."""
    from backoffice.eligibility.models import EligibilityResult
    from backoffice.eligibility.services import check_year
    from backoffice.extensions import db
    from backoffice.intake.models import RegistryRecord
    from backoffice.reference.models import Employer

    app, summary = synthetic
    with app.app_context():
        per_dataset = dict(db.session.execute(select(RegistryRecord.dataset, func.count())
                                              .group_by(RegistryRecord.dataset)).all())
        assert per_dataset["tax_registrations"] == db.session.scalar(select(func.count()).select_from(Employer))
        assert 580 <= per_dataset["residence_permits"] == summary.counts["residence_permits"] <= 600
        counts = check_year(2021, chunk=250, actor_label="test")
        assert counts["applications"] == 600 == counts["eligible"] + counts["refused"] == counts["stored"]
        assert 0.01 <= counts["refused"] / 600 <= 0.08
        refused = db.session.scalars(select(EligibilityResult).where(EligibilityResult.eligible.is_(False))).all()
        reasons = {c["code"] for r in refused for c in r.failing}
        assert "social_insurance" in reasons and "residence_permit" in reasons
        assert all(c["prompt"].startswith("不符合资格条件“") for r in refused for c in r.failing)
        # Nothing changed: a second run stores nothing.
        assert check_year(2021, actor_label="test")["stored"] == 0
        db.session.rollback()


def test_a_record_found_later_is_named_when_the_year_is_checked_again(synthetic):
    from backoffice.audit.models import AuditEvent
    from backoffice.applications.models import Applicant, Application
    from backoffice.eligibility.models import EligibilityResult
    from backoffice.eligibility.services import check_year
    from backoffice.extensions import db
    from backoffice.intake.models import RegistryRecord

    app, _ = synthetic
    with app.app_context():
        check_year(2021, actor_label="test")
        eligible = db.session.scalar(select(EligibilityResult.application_id)
                                     .where(EligibilityResult.eligible.is_(True)).limit(1))
        number = db.session.scalar(select(Applicant.id_number).join(Application, Application.applicant_id == Applicant.id)
                                   .where(Application.id == eligible))
        db.session.add(RegistryRecord(dataset="criminal_records", record_key="(2021)京0105刑初77号", id_number=number,
                                      data={"id_number": number, "source": "judgment", "document_no": "(2021)京0105刑初77号",
                                            "decided_on": "2021-06-01", "summary": "诈骗罪"}))
        db.session.flush()
        counts = check_year(2021, actor_label="test")
        assert counts["stored"] == 1 and counts["lost"] == 1
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "eligibility.lost"))
        assert event.object_id == str(eligible) and event.after == {"failing": ["criminal_record"]}
        db.session.rollback()


def test_an_earlier_year_is_added_with_its_cases_closed(settings, tmp_path):
    """`synth --closed` (bench/years.py's earlier years): the year's cases are decided and closed,
    each after its receipt, and the later, current year's open cases are untouched."""
    from backoffice.cases.models import CaseStatus, ReviewCase
    from backoffice.extensions import db
    from backoffice.synth import synthesize

    app, _ = _build(settings, tmp_path, "years.db", year=2022, applications=300, seed=5, open_cases=100)
    with app.app_context():
        summary = synthesize(year=2021, applications=300, seed=6, open_cases=100, closed=True)
        rows = db.session.execute(select(ReviewCase.year, ReviewCase.status, ReviewCase.received_on,
                                         ReviewCase.closed_at)).all()
    assert summary.counts["closed_cases"] == 100
    earlier = [r for r in rows if r.year == 2021]
    assert len(earlier) == 100
    assert all(r.status == CaseStatus.closed and r.closed_at.date() > r.received_on for r in earlier)
    assert {r.status for r in rows if r.year == 2022} <= {CaseStatus.open, CaseStatus.awaiting_materials}
