"""Claims' facts → the engine's input: the shapes, what counts, and the batch loader."""
from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import event

from backoffice.applications.facts import (
    FactsError,
    build_score_input,
    check_facts,
    load_score_inputs,
)
from backoffice.cases.models import Decision, Outcome
from backoffice.extensions import db
from backoffice.scoring import score

from support import SCORING_CONTRACT, shared_file  # noqa: E402  (tests/support.py)

# The score input example of SCORING.md, as the claims an applicant files.
EXAMPLE_CLAIMS = [
    ("employment", {
        "insurance": {
            "pension": {"paid": [["2010-01", "2020-12"]], "back_paid": ["2013-04"]},
            "medical": {"paid": [["2010-01", "2020-12"]], "back_paid": []},
        },
        "work_districts": [{"from": "2018-01", "to": "2020-12", "district": "通州区"}],
    }),
    ("housing", {"type": "own", "from": "2014-08", "to": "2017-12", "district": "朝阳区"}),
    ("housing", {"type": "rental", "from": "2020-08", "to": "2020-12", "district": "西城区"}),
    ("education", {"level": "bachelor", "degree": "bachelor", "graduated": "2005-07"}),
    ("work_residence", {"chosen": False}),
    ("innovation", {"code": "national_sci_tech_progress", "grade": "second", "rank": 5}),
    ("tax", {"annual": {"2018": 120000, "2019": 80000, "2020": 150000}, "violations": 0}),
    ("age", {"birth_date": "1979-09-11"}),
    ("law_abiding", {"detentions": 0}),
]


def _file(make, application, indicator, facts, status="valid", verified="same"):
    claim = make.claim(application, indicator=indicator, status=status, reason=None, claimed=facts)
    claim.verified = facts if verified == "same" else verified
    db.session.flush()
    return claim


def _claims(application):
    db.session.refresh(application)
    return application.claims


@pytest.mark.parametrize("indicator,facts", EXAMPLE_CLAIMS + [
    ("honors", {"code": "beijing_model_worker"}),
    ("innovation", {"code": "equity_financing", "amount": 45_000_000}),
    ("education", {"level": None, "degree": "master", "graduated": "2012-07"}),
])
def test_every_documented_shape_is_accepted(indicator, facts):
    assert check_facts(indicator, facts) == facts


@pytest.mark.parametrize("indicator,facts,path", [
    ("housing", {"type": "own", "from": "2014-08", "to": "2020-13", "district": "朝阳区"}, "to"),
    ("housing", {"type": "own", "from": "2018-01", "to": "2017-12", "district": "朝阳区"}, "to"),
    ("housing", {"type": "villa", "from": "2014-08", "to": "2017-12", "district": "朝阳区"}, "type"),
    ("housing", {"type": "own", "from": "2014-08", "to": "2017-12"}, "district"),
    ("employment", {"insurance": {"pension": {"paid": [["2010-01", "2009-12"]], "back_paid": []}},
                    "work_districts": []}, "insurance.pension.paid[0]"),
    ("employment", {"insurance": {"pensions": {"paid": [], "back_paid": []}}, "work_districts": []},
     "insurance.pensions"),
    ("employment", {"insurance": {"pension": {"paid": [], "months": 12}}, "work_districts": []},
     "insurance.pension.months"),
    ("education", {"level": None, "degree": None, "graduated": "2005-07"}, "level"),
    ("innovation", {"code": "nobel_prize"}, "code"),
    ("innovation", {"code": "national_sci_tech_progress", "grade": "second"}, "rank"),
    ("tax", {"annual": {"20x9": 1}, "violations": 0}, "annual.20x9"),
    ("age", {"birth_date": "1979-02-30"}, "birth_date"),
    ("honors", {"code": "nobel"}, "code"),
    ("work_residence", {"chosen": "yes"}, "chosen"),
    ("law_abiding", {"detentions": -1}, "detentions"),
    ("law_abiding", {"detentions": 0, "fines": 2}, "fines"),
])
def test_bad_facts_name_the_field(indicator, facts, path):
    with pytest.raises(FactsError) as err:
        check_facts(indicator, facts)
    assert err.value.path == path, str(err.value)


def test_the_contract_example_filed_as_claims_scores_as_the_contract_says(make):
    """SCORING.md's input example (total 88.21), rebuilt from one claim per filed item."""
    application = make.application("朝阳区", applicant=make.applicant(birth=date(1979, 9, 11)))
    for indicator, facts in EXAMPLE_CLAIMS:
        _file(make, application, indicator, facts)
    data = build_score_input(application, _claims(application))
    assert score(data)["total"] == 88.21
    assert "88.21" in shared_file(SCORING_CONTRACT).read_text(encoding="utf-8")


def test_only_verified_facts_count(make):
    application = make.application("朝阳区", applicant=make.applicant(birth=date(1985, 3, 14)))
    _file(make, application, "housing", {"type": "own", "from": "2015-01", "to": "2020-12", "district": "通州区"})
    # Rejected by the registry, still pending, or "valid" without verified facts: none counts.
    _file(make, application, "housing", {"type": "own", "from": "2010-01", "to": "2014-12", "district": "朝阳区"},
          status="invalid", verified=None)
    _file(make, application, "innovation", {"code": "worldskills"}, status="pending", verified=None)
    _file(make, application, "honors", {"code": "beijing_model_worker"}, status="valid", verified=None)
    data = build_score_input(application, _claims(application))
    assert data["residences"] == [{"type": "own", "from": "2015-01", "to": "2020-12", "district": "通州区"}]
    assert data["innovation"] == [] and data["honors"] == []


def test_a_decision_that_supersedes_an_invalid_result_counts_its_corrected_facts(make):
    application = make.application("朝阳区")
    reviewer = make.staff("reviewer", "朝阳区")
    claim = _file(make, application, "housing",
                  {"type": "own", "from": "2014-08", "to": "2020-12", "district": "朝阳区"},
                  status="invalid", verified=None)
    case = make.case(application, claim=claim)
    decision = Decision(case_id=case.id, outcome=Outcome.corrected, reason_code="register_dates_corrected",
                        note="登簿日期更正", decided_by_id=reviewer.id)
    db.session.add(decision)
    db.session.flush()
    claim.verified = {"type": "own", "from": "2016-03", "to": "2020-12", "district": "朝阳区"}
    claim.verified_by_decision_id = decision.id
    db.session.flush()
    data = build_score_input(application, _claims(application))
    assert data["residences"] == [claim.verified]  # the corrected month, not the filed one


def test_age_falls_back_to_the_birth_date_of_the_id_number(make):
    application = make.application("朝阳区", applicant=make.applicant(birth=date(1970, 5, 2)))
    assert build_score_input(application, [])["birth_date"] == "1970-05-02"
    _file(make, application, "age", {"birth_date": "1971-01-01"})
    assert build_score_input(application, _claims(application))["birth_date"] == "1971-01-01"


def test_several_claims_of_one_indicator_combine_as_the_handbook_says(make):
    application = make.application("朝阳区")
    # 以上学历(学位)积分不累计: the master's degree, not the bachelor's.
    _file(make, application, "education", {"level": "master", "degree": "master", "graduated": "2012-07"})
    _file(make, application, "education", {"level": "bachelor", "degree": "bachelor", "graduated": "2009-07"})
    # Awards and segments are listed; the engine takes the best award and merges segments.
    _file(make, application, "innovation", {"code": "worldskills"})
    _file(make, application, "innovation", {"code": "beijing_literature_art"})
    _file(make, application, "tax", {"annual": {"2018": 50000, "2019": 120000}, "violations": 0})
    _file(make, application, "tax", {"annual": {"2019": 110000, "2020": 130000}, "violations": 1})
    data = build_score_input(application, _claims(application))
    assert data["education"]["level"] == "master"
    assert [a["code"] for a in data["innovation"]] == ["worldskills", "beijing_literature_art"]
    assert data["tax"] == {"annual": {"2018": 50000, "2019": 120000, "2020": 130000}, "violations": 1}
    assert score(data)["indicators"]["innovation"]["points"] == 12.0


def test_facts_in_another_shape_fail_loudly_instead_of_scoring_nothing(make):
    application = make.application("朝阳区")
    claim = _file(make, application, "employment", {"insurance_from": "2010-01", "insurance_to": "2020-12"})
    with pytest.raises(FactsError) as err:
        build_score_input(application, _claims(application))
    assert err.value.claim_id == claim.id and err.value.path == "insurance_from"
    [loaded] = [i for chunk in load_score_inputs(db.session, [application.id]) for i in chunk]
    assert loaded.error is not None and loaded.error.claim_id == claim.id


def _count_queries():
    statements = []

    def listener(conn, cursor, statement, *args):
        statements.append(statement)

    engine = db.session.get_bind()
    event.listen(engine, "before_cursor_execute", listener)
    return statements, lambda: event.remove(engine, "before_cursor_execute", listener)


def test_the_batch_loader_builds_the_same_inputs_in_a_constant_number_of_queries(make):
    applications = []
    for n in range(12):
        application = make.application("朝阳区" if n % 2 else "海淀区",
                                        applicant=make.applicant(birth=date(1975 + n, 1 + n % 12, 3)))
        for indicator, facts in EXAMPLE_CLAIMS[: 3 + n % 7]:
            _file(make, application, indicator, facts)
        _file(make, application, "honors", {"code": "capital_moral_model"}, status="invalid", verified=None)
        applications.append(application)
    ids = [a.id for a in applications]

    statements, stop = _count_queries()
    try:
        few = [i for chunk in load_score_inputs(db.session, ids[:2]) for i in chunk]
        few_queries = len(statements)
        statements.clear()
        many = [i for chunk in load_score_inputs(db.session, ids) for i in chunk]
        many_queries = len(statements)
    finally:
        stop()
    assert few_queries == many_queries == 2
    assert [i.application_id for i in many] == sorted(ids) and len(few) == 2
    for item, application in zip(many, sorted(applications, key=lambda a: a.id)):
        assert item.data == build_score_input(application, _claims(application))
        assert json.dumps(item.data)  # JSON-ready, as the engine's command reads it
    # Chunks keep the IN lists short and still cover everything.
    chunked = [i.application_id for chunk in load_score_inputs(db.session, ids, chunk=5) for i in chunk]
    assert chunked == sorted(ids)
