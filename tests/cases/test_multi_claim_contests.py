"""Appeals of an indicator with several claims, and the two contestable results of a tax
claim (issue 17 §3, §4): filed through the intake, decided and countersigned through the
case services, rescored from the outbox's request as the job does, and reaching the total."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from io import BytesIO

import pytest
from pypdf import PdfWriter
from sqlalchemy import select

from backoffice.applications.models import Application, IndicatorClaim
from backoffice.applications.scoring_service import rescore_application
from backoffice.applications.score_views import total_standing
from backoffice.audit.models import AuditEvent
from backoffice.cases import services
from backoffice.cases.intake import IntakeRefused, submit_appeal, submit_review
from backoffice.cases.models import CaseStatus
from backoffice.extensions import db
from backoffice.outbox.models import OutboxMessage
from support import CONTRACT_EXAMPLE

DISTRICT = "朝阳区"
RESULT_QUERY_DAY = date(2021, 8, 12)  # the factory's 2021: result query 8 Aug 10–24
APPLICATION_DAY = date(2021, 4, 20)  # application phase 16 April – 15 May

# SCORING.md's input example (as tests/jobs/jobs_support.py files it), worked out by hand there:
# everything but housing scores 81.00; housing, with insurance months E_A = 127 (2010-01…2020-07)
# and E_B = 5 (2020-08…2020-12):
#   own 2014-08…2017-12 (41 months) and the rental 2020-08…2020-12 both count:
#       41/12 + ((127 − 41) + 5) × 0.5/12 = 7.2083                           → 88.21
#   the own home only:  41/12 + 86 × 0.5/12 = 7.00                            → 88.00
#   the own home as the registry verified it, 2016-08…2017-12 (17 months), and the rental:
#       17/12 + ((127 − 17) + 5) × 0.5/12 = 6.2083                           → 87.21
OTHERS = CONTRACT_EXAMPLE
OWN_HOME = {"type": "own", "from": "2014-08", "to": "2017-12", "district": "朝阳区"}
OWN_AS_VERIFIED = {"type": "own", "from": "2016-08", "to": "2017-12", "district": "朝阳区"}
RENTAL = {"type": "rental", "from": "2020-08", "to": "2020-12", "district": "西城区"}
BOTH_COUNTED, OWN_ONLY, OWN_SHORTENED = Decimal("88.21"), Decimal("88.00"), Decimal("87.21")


@pytest.fixture
def people(make):
    return {"reviewer": make.staff("reviewer", DISTRICT), "supervisor": make.staff("supervisor", DISTRICT)}


def _valid(make, application, indicator, claimed, verified=None):
    claim = make.claim(application, indicator=indicator, status="valid", reason=None, claimed=claimed,
                       message="有效")
    claim.verified = verified if verified is not None else claimed
    db.session.flush()
    return claim


def _filed(make, *, skip=(), housing=()):
    make.year(2021)
    application = make.application(DISTRICT, applicant=make.applicant(birth=date(1979, 9, 11)))
    claims = {ind: _valid(make, application, ind, facts) for ind, facts in OTHERS if ind not in skip}
    homes = [_valid(make, application, "housing", claimed, verified) for claimed, verified in housing]
    rescore_application(application.id, trigger="registry")
    return application, claims, homes


def _total(application) -> Decimal:
    db.session.refresh(application)
    return application.total


def _rescore_as_the_job_does():
    """Each rescoring request the outbox holds, handled as queues/jobs.rescore_application does."""
    for message in db.session.scalars(select(OutboxMessage).where(OutboxMessage.topic == "rescore_application",
                                                                  OutboxMessage.completed_at.is_(None))):
        payload = message.payload
        rescore_application(payload["application_id"], trigger=payload.get("trigger") or "decision",
                            decision_id=payload.get("decision_id"))


def _decide_and_countersign(case, people, **decision):
    services.claim(case, actor=people["reviewer"], version=case.version)
    made = services.decide(case, actor=people["reviewer"], version=case.version, **decision)
    assert case.status == CaseStatus.awaiting_countersign, "a score-changing decision waits for four eyes"
    with pytest.raises(services.Refused):
        services.countersign(case, actor=people["reviewer"], confirm=True, version=case.version)
    services.countersign(case, actor=people["supervisor"], confirm=True, version=case.version)
    assert case.status == CaseStatus.closed
    return made


def _pdf(title: str) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": title})
    buffer = BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


# §3 Appeals of an indicator with several claims ------------------------------------------------

def test_an_appeal_correcting_one_of_two_housing_segments_changes_the_total(make, people):
    application, _claims, (own, rental) = _filed(make, housing=[(OWN_HOME, OWN_AS_VERIFIED), (RENTAL, None)])
    assert _total(application) == OWN_SHORTENED  # 87.21 by hand: the registry's later 登簿日期

    case = submit_appeal(application, "housing", statement="自有住所自2014年8月起居住，登簿日期有误",
                         claims=[own], today=RESULT_QUERY_DAY, actor_label="test")
    assert case.claim_id is None and [c.id for c in case.disputed_claims] == [own.id]
    assert services.is_indicator_appeal(case)

    # The correction names the segment by id; the rental stays as it is.
    changes = {str(own.id): {"action": "correct", "facts": dict(OWN_HOME)},
               str(rental.id): {"action": "keep", "facts": {}}}
    decision = _decide_and_countersign(
        case, people, outcome="corrected", reason_code="corrected_after_verification",
        note="经核对不动产登记档案，自有住所自2014年8月起", claim_changes=changes)
    assert _total(application) == OWN_SHORTENED, "nothing counts before the rescoring runs"
    _rescore_as_the_job_does()

    assert _total(application) == BOTH_COUNTED  # 88.21 by hand
    db.session.refresh(own)
    db.session.refresh(rental)
    assert own.verified == OWN_HOME and own.verified_by_decision_id == decision.id
    assert rental.verified == RENTAL and rental.verified_by_decision_id is None
    audit = db.session.scalars(select(AuditEvent).where(
        AuditEvent.object_type == "indicator_claim", AuditEvent.object_id == str(own.id),
        AuditEvent.action == "claim.verified_superseded")).one()
    assert audit.before["verified"] == OWN_AS_VERIFIED and audit.after["verified"] == OWN_HOME
    assert audit.after["case"] == case.number and audit.actor_id == people["supervisor"].id
    assert total_standing(application)["code"] == "final"


def test_an_appeal_may_add_a_segment_the_registry_never_saw_and_remove_one(make, people):
    application, _claims, (own,) = _filed(make, housing=[(OWN_HOME, None)])
    extra = _valid(make, application, "housing", RENTAL)  # counted, then found not to be lived in
    rescore_application(application.id, trigger="registry")
    assert _total(application) == BOTH_COUNTED

    case = submit_appeal(application, "housing", statement="租赁住所信息有误", today=RESULT_QUERY_DAY)
    assert services.is_indicator_appeal(case) and case.disputed_claims == []
    services.claim(case, actor=people["reviewer"], version=case.version)
    # 予以支持 of an appeal that names no claim would change nothing: refused, with the way to go.
    with pytest.raises(services.Invalid) as refused:
        services.decide(case, actor=people["reviewer"], version=case.version, outcome="upheld",
                        reason_code="verified_valid", note="支持")
    assert "核实后更正" in refused.value.errors["outcome"]
    # A correction that changes nothing is refused too; a bad month is named per claim and field.
    with pytest.raises(services.Invalid) as refused:
        services.decide(case, actor=people["reviewer"], version=case.version, outcome="corrected",
                        reason_code="corrected_after_verification", note="更正", claim_changes={})
    assert "claims" in refused.value.errors
    with pytest.raises(services.Invalid) as refused:
        services.decide(case, actor=people["reviewer"], version=case.version, outcome="corrected",
                        reason_code="corrected_after_verification", note="更正",
                        claim_changes={"new": {"action": "add", "facts": {**RENTAL, "from": "2020/08"}}})
    assert set(refused.value.errors) == {"claims.new.from"}

    services.decide(case, actor=people["reviewer"], version=case.version, outcome="corrected",
                    reason_code="corrected_after_verification", note="租赁住所另行核实",
                    claim_changes={str(extra.id): {"action": "remove"}})
    services.countersign(case, actor=people["supervisor"], confirm=True, version=case.version)
    _rescore_as_the_job_does()
    assert _total(application) == OWN_ONLY  # 88.00 by hand

    # A second appeal adds the segment back as a claim of its own, decided, not waiting for a registry.
    db.session.refresh(application)
    again = submit_appeal(application, "housing", statement="租赁合同已备案", today=RESULT_QUERY_DAY)
    decision = _decide_and_countersign(
        again, people, outcome="corrected", reason_code="corrected_after_verification", note="核实后增加",
        claim_changes={"new": {"action": "add", "facts": dict(RENTAL)}})
    _rescore_as_the_job_does()
    assert _total(application) == BOTH_COUNTED
    added = db.session.scalars(select(IndicatorClaim).where(
        IndicatorClaim.application_id == application.id, IndicatorClaim.verified_by_decision_id == decision.id)).one()
    assert added.claimed == RENTAL and added.id not in (own.id, extra.id)
    assert db.session.scalar(select(AuditEvent.id).where(
        AuditEvent.action == "claim.added_by_decision", AuditEvent.object_id == str(added.id))) is not None
    assert total_standing(db.session.get(Application, application.id))["code"] == "final"


def test_upholding_an_appeal_counts_the_disputed_segments_as_filed(make, people):
    application, _claims, (own, rental) = _filed(make, housing=[(OWN_HOME, OWN_AS_VERIFIED), (RENTAL, None)])
    case = submit_appeal(application, "housing", statement="登簿日期有误", claims=[own], today=RESULT_QUERY_DAY)
    _decide_and_countersign(case, people, outcome="upheld", reason_code="verified_valid", note="按填报认定有效")
    _rescore_as_the_job_does()
    assert _total(application) == BOTH_COUNTED


def test_a_segment_with_an_open_review_is_left_to_that_review(make, people):
    application, _claims, (own, rental) = _filed(make, housing=[(OWN_HOME, None), (RENTAL, None)])
    review = make.case(application, claim=rental, status="in_review")  # a 复查 of the rental, still open
    case = submit_appeal(application, "housing", statement="自有住所有误", today=RESULT_QUERY_DAY)
    services.claim(case, actor=people["reviewer"], version=case.version)
    with pytest.raises(services.Invalid) as refused:
        services.decide(case, actor=people["reviewer"], version=case.version, outcome="corrected",
                        reason_code="corrected_after_verification", note="删除租赁住所",
                        claim_changes={str(rental.id): {"action": "remove"}})
    assert review.number in refused.value.errors[f"claims.{rental.id}"]


def test_a_named_claim_must_be_of_the_application_and_indicator(make):
    application, claims, (own, _rental) = _filed(make, housing=[(OWN_HOME, None), (RENTAL, None)])
    with pytest.raises(IntakeRefused) as refused:
        submit_appeal(application, "housing", statement="有误", claims=[own, claims["tax"]], today=RESULT_QUERY_DAY)
    assert refused.value.field == "claim_ids" and refused.value.status == 422


# §4 Tax: the year and the violation, each contested -----------------------------------------

TAX_FILED = {"annual": {"2018": 120000, "2019": 150000, "2020": 130000}, "violations": 0}
# What the registry found: 2019 below 100 000 yuan (2019年无效), and one violation.
TAX_VERIFIED = {"annual": {"2018": 120000, "2019": 80000, "2020": 130000}, "violations": 1}


def test_a_violation_is_contested_beside_an_invalid_year_and_both_reach_the_total(make, people, settings):
    application, _claims, _homes = _filed(make, skip=("tax",), housing=[(OWN_HOME, None), (RENTAL, None)])
    tax = make.claim(application, indicator="tax", status="valid", reason="tax_year_invalid", claimed=TAX_FILED,
                     message="2020年有效; 2019年无效; 2018年有效")
    tax.verified = TAX_VERIFIED
    db.session.flush()
    rescore_application(application.id, trigger="registry")
    # Without tax the example scores 88.21 − 4.00 = 84.21; the registry's tax: 2 × 2 − 12 = −8.
    assert _total(application) == BOTH_COUNTED - 4 - 8

    years = submit_review(tax, review_type="tax_annual_amount", files={"tax_payment_certificate": _pdf("完税证明")},
                          today=APPLICATION_DAY, upload_dir=settings.upload_dir)
    violation = submit_review(tax, review_type="tax_violation", files={"explanation": _pdf("情况说明")},
                              today=APPLICATION_DAY, upload_dir=settings.upload_dir)
    assert (years.reason_code, violation.reason_code) == ("tax_year_invalid", "tax_violation_record")
    assert years.status == violation.status == CaseStatus.open
    with pytest.raises(IntakeRefused) as refused:  # still one open case per contested result
        submit_review(tax, review_type="tax_violation", files={"explanation": _pdf("again")},
                      today=APPLICATION_DAY, upload_dir=settings.upload_dir)
    assert refused.value.rule == "case.open_exists"

    # Both decided before either is countersigned: each supersedes only its own part.
    # The certificate shows 120 000 yuan for 2019 (filed 150 000, registry 80 000); the form
    # shows the violation as the registry has it, and the years' decision leaves it to its own case.
    corrected_years = {"annual_2018": "120000", "annual_2019": "120000", "annual_2020": "130000", "violations": "1"}
    for case in (years, violation):
        services.claim(case, actor=people["reviewer"], version=case.version)
    with pytest.raises(services.Invalid) as refused:  # the violation case does not correct the years
        services.decide(violation, actor=people["reviewer"], version=violation.version, outcome="corrected",
                        reason_code="tax_violations_corrected", note="更正",
                        corrected_facts={**corrected_years, "violations": "0"})
    assert "facts" in refused.value.errors
    services.decide(years, actor=people["reviewer"], version=years.version, outcome="corrected",
                    reason_code="tax_years_corrected", note="按2019年完税证明更正", corrected_facts=corrected_years,
                    checklist={"tax_payment_certificate": {"state": "acceptable"}})
    services.decide(violation, actor=people["reviewer"], version=violation.version, outcome="upheld",
                    reason_code="verified_valid", note="罚款已撤销，无涉税违法记录",
                    checklist={"explanation": {"state": "acceptable"}})
    assert years.status == violation.status == CaseStatus.awaiting_countersign
    for case in (violation, years):
        services.countersign(case, actor=people["supervisor"], confirm=True, version=case.version)
    _rescore_as_the_job_does()

    db.session.refresh(tax)
    assert tax.verified == {"annual": {"2018": 120000, "2019": 120000, "2020": 130000}, "violations": 0}
    assert _total(application) == BOTH_COUNTED - 4 + 6  # three years of 100 000 or more, no deduction


# The case workspace ----------------------------------------------------------------------------

def test_staff_correct_a_segment_from_the_appeal_in_the_workspace(make, people, client_for):
    import re

    from support import csrf_token_from

    application, _claims, (own, rental) = _filed(make, housing=[(OWN_HOME, OWN_AS_VERIFIED), (RENTAL, None)])
    case = submit_appeal(application, "housing", statement="登簿日期有误", claims=[own], today=RESULT_QUERY_DAY)
    db.session.commit()

    def post(client, action, **data):
        page = client.get(f"/admin/case/{case.id}/").get_data(as_text=True)
        form = {"csrf_token": csrf_token_from(page),
                "version": re.search(r'name="version" value="(\d+)"', page).group(1), **data}
        return client.post(f"/admin/case/{case.id}/{action}", data=form)

    reviewer = client_for(people["reviewer"])
    assert post(reviewer, "claim").status_code == 302
    page = reviewer.get(f"/admin/case/{case.id}/").get_data(as_text=True)
    # Both segments beside their registry results, the disputed one marked, each with its form.
    assert f'data-testid="appeal-claim-{own.id}"' in page and f'data-testid="appeal-claim-{rental.id}"' in page
    assert f'data-testid="disputed-{own.id}"' in page and f'data-testid="disputed-{rental.id}"' not in page
    assert f'name="claims-{own.id}-facts-from" id="claims-{own.id}-facts-from" value="2016-08"' in page
    assert 'name="claims-new-action"' in page

    own_form = {f"claims-{own.id}-action": "correct", f"claims-{own.id}-facts-type": "own",
                f"claims-{own.id}-facts-from": "2014-08", f"claims-{own.id}-facts-to": "2017-12",
                f"claims-{own.id}-facts-district": "朝阳区", f"claims-{rental.id}-action": "keep"}
    bad = post(reviewer, "decide", outcome="corrected", reason_code="corrected_after_verification", note="更正",
               **{**own_form, f"claims-{own.id}-facts-from": "2014-13"})
    # Refused: back to the case (post/redirect/get), the error on the segment's field.
    assert bad.status_code == 302 and bad.headers["Location"].endswith(f"/admin/case/{case.id}/")
    shown = reviewer.get(bad.headers["Location"]).get_data(as_text=True)
    assert f'data-testid="error-claims.{own.id}.from"' in shown
    response = post(reviewer, "decide", outcome="corrected", reason_code="corrected_after_verification",
                    note="经核对登记档案更正", **own_form)
    assert response.status_code == 302
    db.session.expire_all()
    assert case.status == CaseStatus.awaiting_countersign

    boss = client_for(people["supervisor"])
    page = boss.get(f"/admin/case/{case.id}/").get_data(as_text=True)
    assert 'data-testid="countersign-panel"' in page and f"#{own.id} 核实后更正" in page and "2014-08" in page
    assert post(boss, "countersign", decision="confirm").status_code == 302
    db.session.expire_all()
    assert case.status == CaseStatus.closed and own.verified == OWN_HOME
    # The case's history shows the segment's superseded facts beside the case's own events.
    page = boss.get(f"/admin/case/{case.id}/").get_data(as_text=True)
    history = page[page.index('data-testid="history"'):]
    assert "复查决定更正了核实信息" in history and "复核同意" in history  # the events in words (audit/events.py)
