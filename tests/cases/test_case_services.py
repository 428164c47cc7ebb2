"""Case services: claim, release, reassign, decide, countersign — the rules a user runs into."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from backoffice.audit.models import AuditEvent
from backoffice.cases import services
from backoffice.cases.models import CaseStatus, Countersignature, Decision, Outcome
from backoffice.extensions import db
from backoffice.outbox.models import OutboxMessage
from backoffice.turnaround.sql import beijing_today

OWN, OTHER = "朝阳区", "海淀区"
CORRECTED = {"type": "own", "from": "2015-03", "to": "2020-12", "district": "朝阳区"}
COMPLETE = {"owner_identity": {"state": "acceptable"}, "ownership_certificate": {"state": "acceptable"}}
FACT_FORM = {"type": "own", "from": "2015-03", "to": "2020-12", "district": "朝阳区"}


def _outbox_count():
    """Rescoring requests (a decision also queues its notice's delivery: backoffice/notices)."""
    return db.session.scalar(select(func.count()).select_from(OutboxMessage)
                             .where(OutboxMessage.topic == "rescore_application"))


def _events(case, action):
    return db.session.scalars(select(AuditEvent).where(
        AuditEvent.object_type == "review_case", AuditEvent.object_id == str(case.id), AuditEvent.action == action
    )).all()


@pytest.fixture
def people(make):
    return {
        "reviewer": make.staff("reviewer", OWN),
        "reviewer2": make.staff("reviewer", OWN),
        "supervisor": make.staff("supervisor", OWN),
        "supervisor2": make.staff("supervisor", OWN),
        "other_reviewer": make.staff("reviewer", OTHER),
        "other_supervisor": make.staff("supervisor", OTHER),
        "city_supervisor": make.staff("supervisor", None),
        "admin": make.staff("administrator", None),
    }


def _upload(case, settings, *slots):
    """Files in the case's slots, stored as the intake stores them (by sha256)."""
    from io import BytesIO

    from pypdf import PdfWriter

    from backoffice.applications.models import EvidenceFile
    from verifiers.uploads import store

    for slot in slots:
        writer = PdfWriter()
        writer.add_blank_page(width=595, height=842)
        writer.add_metadata({"/Title": f"{case.number} {slot}"})
        buffer = BytesIO()
        writer.write(buffer)
        info = store(buffer.getvalue(), settings.upload_dir)
        db.session.add(EvidenceFile(case_id=case.id, material_slot=slot, sha256=info.sha256,
                                    size=info.size, pages=info.pages))
    db.session.flush()


@pytest.fixture
def bare_case(make):
    """A 复查 of an own home (房源无效) with nothing uploaded."""
    return make.case(district=OWN)


@pytest.fixture
def case(bare_case, settings):
    """The same with both of its materials uploaded."""
    _upload(bare_case, settings, "owner_identity", "ownership_certificate")
    return bare_case


def _versions(cases):
    """The versions a form would have shown these cases at."""
    return {c.id: c.version for c in cases}


def _claimed(case, who):
    services.claim(case, actor=who, version=case.version)
    return case


def _decide(case, who, outcome="rejected", reason="materials_mismatch", note="与登记信息不符", **kw):
    return services.decide(case, actor=who, outcome=outcome, reason_code=reason, note=note,
                           version=case.version, **kw)


# Claim, release, reassign -----------------------------------------------------------------

def test_a_reviewer_claims_an_open_case_and_nobody_else_can_then(case, people):
    services.claim(case, actor=people["reviewer"], version=case.version)
    assert case.status == CaseStatus.in_review and case.assignee_id == people["reviewer"].id
    assert len(_events(case, "case.claimed")) == 1
    with pytest.raises(services.Refused, match="他人"):
        services.claim(case, actor=people["reviewer2"], version=case.version)
    # Claiming one's own case again changes nothing (a double click).
    version = case.version
    services.claim(case, actor=people["reviewer"], version=case.version)
    assert case.version == version


@pytest.mark.parametrize("who", ["other_reviewer", "other_supervisor", "admin"])
def test_outsiders_cannot_claim(case, people, who):
    with pytest.raises(services.Refused):
        services.claim(case, actor=people[who], version=case.version)
    assert case.assignee_id is None


def test_a_tip_cannot_be_claimed_by_a_reviewer(make, people):
    tip = make.case(district=OWN, queue="tips", kind="tip")
    with pytest.raises(services.Refused):
        services.claim(tip, actor=people["reviewer"], version=tip.version)


def test_only_the_assignee_releases(case, people):
    _claimed(case, people["reviewer"])
    with pytest.raises(services.Refused, match="承办人"):
        services.release(case, actor=people["reviewer2"], version=case.version)
    with pytest.raises(services.Refused):
        services.release(case, actor=people["supervisor"], version=case.version)
    services.release(case, actor=people["reviewer"], version=case.version)
    assert case.status == CaseStatus.open and case.assignee_id is None
    assert len(_events(case, "case.released")) == 1


def test_reassign_needs_a_supervisor_of_the_district_and_a_reason(make, case, people):
    second = make.case(district=OWN)
    with pytest.raises(services.Refused, match="主管"):
        services.reassign([case], people["reviewer2"], reason="休假", actor=people["reviewer"],
                          versions=_versions([case]))
    with pytest.raises(services.Refused):
        services.reassign([case], people["reviewer2"], reason="休假", actor=people["other_supervisor"],
                          versions=_versions([case]))
    with pytest.raises(services.Invalid) as no_reason:
        services.reassign([case, second], people["reviewer2"], reason="  ", actor=people["supervisor"],
                          versions=_versions([case, second]))
    assert "reason" in no_reason.value.errors
    assert case.assignee_id is None and second.assignee_id is None

    services.reassign([case, second], people["reviewer2"], reason="张三休假", actor=people["supervisor"],
                      versions=_versions([case, second]))
    assert {case.assignee_id, second.assignee_id} == {people["reviewer2"].id}
    assert case.status == second.status == CaseStatus.in_review
    event = _events(case, "case.reassigned")[0]
    assert event.after["reason"] == "张三休假" and event.actor_id == people["supervisor"].id

    # City level may reassign any district's case; back to the queue with nobody.
    services.reassign([case], None, reason="重新分配", actor=people["city_supervisor"], versions=_versions([case]))
    assert case.status == CaseStatus.open and case.assignee_id is None


def test_reassign_is_all_or_nothing_and_names_each_problem(make, case, people):
    closed = make.case(district=OWN)
    _claimed(closed, people["reviewer"])
    _decide(closed, people["reviewer"])
    assert closed.status == CaseStatus.closed
    with pytest.raises(services.Refused) as refused:
        services.reassign([case, closed], people["reviewer2"], reason="均衡工作量", actor=people["supervisor"],
                          versions=_versions([case, closed]))
    assert closed.number in refused.value.message
    assert case.assignee_id is None


def test_a_case_goes_only_to_someone_who_may_work_it(case, people):
    for target in ("other_reviewer", "admin"):
        with pytest.raises(services.Refused):
            services.reassign([case], people[target], reason="试试", actor=people["supervisor"],
                              versions=_versions([case]))
    assert case.assignee_id is None


# Decide ----------------------------------------------------------------------------------

def test_only_the_assignee_decides(case, people):
    with pytest.raises(services.Refused):
        _decide(case, people["reviewer"])  # not claimed yet
    _claimed(case, people["reviewer"])
    for who in ("reviewer2", "supervisor", "city_supervisor"):
        with pytest.raises(services.Refused, match="承办人"):
            _decide(case, people[who])
    assert case.status == CaseStatus.in_review and not case.decisions


def test_reason_and_note_are_required_and_the_reason_must_fit(case, people):
    _claimed(case, people["reviewer"])
    with pytest.raises(services.Invalid) as missing:
        _decide(case, people["reviewer"], reason="", note="  ")
    assert {"reason_code", "note"} <= set(missing.value.errors)
    # A reason of another outcome, or of another review type, is refused.
    with pytest.raises(services.Invalid) as wrong_outcome:
        _decide(case, people["reviewer"], outcome="rejected", reason="materials_incomplete")
    assert "reason_code" in wrong_outcome.value.errors
    with pytest.raises(services.Invalid) as wrong_type:
        _decide(case, people["reviewer"], outcome="corrected", reason="degree_date_corrected",
                corrected_facts=FACT_FORM, checklist=COMPLETE)
    assert "reason_code" in wrong_type.value.errors
    assert case.status == CaseStatus.in_review
    assert db.session.scalar(select(func.count()).select_from(Decision)) == 0


def test_corrected_facts_are_validated_per_field(case, people):
    _claimed(case, people["reviewer"])
    bad = dict(FACT_FORM, **{"from": "2015-13", "to": "2021-05", "district": "火星区"})
    with pytest.raises(services.Invalid) as invalid:
        _decide(case, people["reviewer"], outcome="corrected", reason="corrected_after_verification",
                corrected_facts=bad, checklist=COMPLETE)
    assert {"facts.from", "facts.to", "facts.district"} <= set(invalid.value.errors)
    assert "2020-12" in invalid.value.errors["facts.to"]  # nothing after December of the year before


def test_upholding_or_correcting_needs_the_materials_ticked_acceptable(case, people):
    _claimed(case, people["reviewer"])
    only_identity = {"owner_identity": {"state": "acceptable"}, "ownership_certificate": {"state": "problem",
                                                                                          "note": "复印件模糊"}}
    with pytest.raises(services.Invalid) as incomplete:
        _decide(case, people["reviewer"], outcome="corrected", reason="corrected_after_verification",
                corrected_facts=FACT_FORM, checklist=only_identity)
    assert "产权证明材料" in incomplete.value.errors["checklist"]


def test_nothing_is_acceptable_without_its_file_and_approval_waits_for_the_uploads(bare_case, people, settings):
    """A slot with no file cannot be 已提供 or 合格; upholding or correcting needs the files."""
    case = _claimed(bare_case, people["reviewer"])
    with pytest.raises(services.Invalid) as ticked_empty:
        _decide(case, people["reviewer"], outcome="upheld", reason="verified_valid", checklist=COMPLETE)
    assert "未上传" in ticked_empty.value.errors["checklist.owner_identity"]
    assert "未上传" in ticked_empty.value.errors["checklist.ownership_certificate"]
    with pytest.raises(services.Invalid) as unticked:
        _decide(case, people["reviewer"], outcome="upheld", reason="verified_valid")
    assert "材料未上传" in unticked.value.errors["checklist"]
    assert services.missing_uploads(case) and case.status == CaseStatus.in_review

    _upload(case, settings, "owner_identity")
    with pytest.raises(services.Invalid) as half:
        _decide(case, people["reviewer"], outcome="upheld", reason="verified_valid", checklist=COMPLETE)
    assert "checklist.ownership_certificate" in half.value.errors
    _upload(case, settings, "ownership_certificate")
    assert services.missing_uploads(case) == []
    decision = _decide(case, people["reviewer"], outcome="upheld", reason="verified_valid", checklist=COMPLETE)
    assert decision.outcome == Outcome.upheld
    # Nothing was opened before ticking, and the decision says so row by row.
    assert decision.checklist["owner_identity"]["opened_files"] == []


def test_a_rejection_closes_the_case_and_leaves_the_registry_result(case, people):
    _claimed(case, people["reviewer"])
    before = _outbox_count()
    decision = _decide(case, people["reviewer"])
    assert case.status == CaseStatus.closed and case.closed_at is not None
    assert not decision.changes_score
    assert case.claim.verified is None and case.claim.verified_by_decision_id is None
    assert _outbox_count() == before


def test_returned_for_materials_stops_the_clock_and_requests_no_rescoring(case, people):
    _claimed(case, people["reviewer"])
    before = _outbox_count()
    _decide(case, people["reviewer"], outcome="returned", reason="materials_unclear", note="照片模糊，请重新拍摄原件")
    assert case.status == CaseStatus.awaiting_materials
    assert case.paused_on == beijing_today()
    assert case.closed_at is None
    assert _outbox_count() == before


def test_a_correction_waits_for_a_second_signature_from_another_supervisor(make, people, settings):
    case = make.case(district=OWN)
    _upload(case, settings, "owner_identity", "ownership_certificate")
    # A supervisor works the case: four eyes means another supervisor signs.
    _claimed(case, people["supervisor"])
    decision = _decide(case, people["supervisor"], outcome="corrected", reason="corrected_after_verification",
                       note="按不动产权证书更正居住起始年月", corrected_facts=FACT_FORM, checklist=COMPLETE)
    assert decision.changes_score and case.status == CaseStatus.awaiting_countersign
    assert case.claim.verified is None, "nothing is superseded before the second signature"
    before = _outbox_count()

    with pytest.raises(services.Refused, match="自己"):
        services.countersign(case, actor=people["supervisor"], confirm=True, version=case.version)
    with pytest.raises(services.Refused):
        services.countersign(case, actor=people["other_supervisor"], confirm=True, version=case.version)
    with pytest.raises(services.Refused):
        services.countersign(case, actor=people["reviewer"], confirm=True, version=case.version)
    assert case.status == CaseStatus.awaiting_countersign and _outbox_count() == before

    services.countersign(case, actor=people["supervisor2"], confirm=True, version=case.version)
    assert case.status == CaseStatus.closed
    assert case.claim.verified == CORRECTED and case.claim.verified_by_decision_id == decision.id
    message = db.session.scalars(select(OutboxMessage).where(OutboxMessage.topic == "rescore_application")
                                 .order_by(OutboxMessage.id.desc())).first()
    assert _outbox_count() == before + 1
    assert message.topic == "rescore_application"
    assert message.payload["application_id"] == case.application_id
    assert message.payload["decision_id"] == decision.id
    assert len(_events(case, "case.countersigned")) == 1


def test_the_outbox_row_shares_the_final_decisions_transaction(make, people, settings):
    case = make.case(district=OWN)
    _upload(case, settings, "owner_identity", "ownership_certificate")
    _claimed(case, people["reviewer"])
    _decide(case, people["reviewer"], outcome="corrected", reason="corrected_after_verification",
            note="更正", corrected_facts=FACT_FORM, checklist=COMPLETE)
    db.session.flush()
    before = _outbox_count()
    savepoint = db.session.begin_nested()
    services.countersign(case, actor=people["supervisor"], confirm=True, version=case.version)
    assert _outbox_count() == before + 1
    savepoint.rollback()  # the request failing after the decision: neither survives
    assert _outbox_count() == before
    db.session.refresh(case)
    assert case.status == CaseStatus.awaiting_countersign
    assert db.session.scalar(select(func.count()).select_from(Countersignature)) == 0


def test_sending_back_needs_a_reason_and_the_next_decision_supersedes(make, people, settings):
    case = make.case(district=OWN)
    _upload(case, settings, "owner_identity", "ownership_certificate")
    _claimed(case, people["reviewer"])
    first = _decide(case, people["reviewer"], outcome="corrected", reason="corrected_after_verification",
                    note="更正", corrected_facts=FACT_FORM, checklist=COMPLETE)
    with pytest.raises(services.Invalid):
        services.countersign(case, actor=people["supervisor"], confirm=False, reason="", version=case.version)
    services.countersign(case, actor=people["supervisor"], confirm=False, reason="起始年月与产权证不符",
                         version=case.version)
    assert case.status == CaseStatus.in_review and case.assignee_id == people["reviewer"].id
    second = _decide(case, people["reviewer"], outcome="upheld", reason="verified_valid", note="维持填报",
                     checklist=COMPLETE)
    assert second.supersedes_id == first.id
    assert first.outcome == Outcome.corrected, "the first decision is kept as it was"
    # Upholding an invalid registry result changes the score: a second signature again.
    assert case.status == CaseStatus.awaiting_countersign
    services.countersign(case, actor=people["supervisor"], confirm=True, version=case.version)
    assert case.claim.verified == case.claim.claimed


def test_upholding_a_claim_that_already_counts_as_filed_closes_at_once(make, people, settings):
    application = make.application(OWN)
    facts = {"type": "own", "from": "2014-08", "to": "2020-12", "district": "朝阳区"}
    claim = make.claim(application, status="valid", reason="housing_valid_dates", claimed=facts)
    claim.verified = dict(facts)
    case = make.case(application, claim=claim)
    _upload(case, settings, "owner_identity", "ownership_certificate")
    _claimed(case, people["reviewer"])
    decision = _decide(case, people["reviewer"], outcome="upheld", reason="verified_valid", note="核实无误",
                       checklist=COMPLETE)
    assert not decision.changes_score and case.status == CaseStatus.closed
    assert claim.verified_by_decision_id == decision.id


def test_a_stale_version_is_refused_and_changes_nothing(case, people):
    _claimed(case, people["reviewer"])
    rendered = case.version
    services.reassign([case], people["reviewer2"], reason="临时", actor=people["supervisor"], versions=_versions([case]))
    services.reassign([case], people["reviewer"], reason="改回", actor=people["supervisor"], versions=_versions([case]))
    with pytest.raises(services.StaleCase):
        services.decide(case, actor=people["reviewer"], outcome="rejected", reason_code="materials_mismatch",
                        note="不符", version=rendered)
    assert case.status == CaseStatus.in_review and not case.decisions


def test_a_concurrent_update_is_caught_by_the_version_column(case, people):
    _claimed(case, people["reviewer"])
    db.session.flush()
    # Another transaction changed the row after we read it (same version in our hands).
    db.session.execute(text("UPDATE review_cases SET version = version + 1 WHERE id = :id"), {"id": case.id})
    with pytest.raises(services.StaleCase):
        services.decide(case, actor=people["reviewer"], outcome="rejected", reason_code="materials_mismatch",
                        note="不符", version=case.version)
    db.session.rollback()


# Bulk ------------------------------------------------------------------------------------

def test_bulk_decisions_need_reason_and_note_and_are_all_or_nothing(make, people):
    mine = [make.case(district=OWN) for _ in range(2)]
    theirs = make.case(district=OWN)
    for c in mine:
        _claimed(c, people["reviewer"])
    _claimed(theirs, people["reviewer2"])
    versions = {c.id: c.version for c in mine + [theirs]}
    with pytest.raises(services.Invalid) as missing:
        services.decide_many(mine, actor=people["reviewer"], outcome="rejected", reason_code="",
                             note="", versions=versions)
    assert {"reason_code", "note"} <= set(missing.value.errors)
    with pytest.raises(services.Invalid):
        services.decide_many(mine, actor=people["reviewer"], outcome="upheld", reason_code="verified_valid",
                             note="批量", versions=versions)
    savepoint = db.session.begin_nested()
    with pytest.raises(services.Refused) as refused:
        services.decide_many(mine + [theirs], actor=people["reviewer"], outcome="rejected",
                             reason_code="materials_mismatch", note="材料不符", versions=versions)
    savepoint.rollback()
    assert theirs.number in refused.value.message
    assert all(c.status == CaseStatus.in_review for c in mine)

    decisions = services.decide_many(mine, actor=people["reviewer"], outcome="returned",
                                     reason_code="materials_incomplete", note="请补充产权证明", versions=versions)
    assert [d.reason_code for d in decisions] == ["materials_incomplete"] * 2
    assert all(c.status == CaseStatus.awaiting_materials for c in mine)


def test_common_reasons_fit_every_selected_case(make):
    housing = make.case(district=OWN)
    appeal = make.case(district=OWN, queue="appeals", kind="appeal")
    codes = {r.code for r in services.common_reasons([housing, appeal], "rejected")}
    assert "materials_mismatch" in codes
    assert "certificate_number_wrong" not in codes  # housing-only
