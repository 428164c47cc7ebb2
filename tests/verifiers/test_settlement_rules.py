"""The settlement checklist of 第五篇 二 3 (verifiers/settlement.py) read against the handbook:
each condition adds its rows, the family-planning exemption case by case, the housing routes,
the 职住区域 same-home check, and the two-year lapse on its exact day. Pure: no database."""
from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from verifiers import settlement as s
from verifiers.settlement import Child, SettlementFacts

_CANDIDATES = (
    Path(__file__).resolve().parents[2].parent / "shared" / "handbook" / "points-handbook-2021.txt",
    Path("/work/shared/handbook/points-handbook-2021.txt"),
)


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def handbook() -> str:
    for path in _CANDIDATES:
        if path.exists():
            return _squash(path.read_text(encoding="utf-8"))
    pytest.skip("handbook not found")


def test_every_quoted_sentence_and_verbatim_label_is_in_the_handbook(handbook):
    for quote in s.QUOTES:
        assert _squash(quote) in handbook, quote
    facts = SettlementFacts(place="own_home", children=(Child("甲", "x", date(2014, 1, 1), 3, "father"),),
                            spouse_home_points=True, by_agent=True)
    for place in s.PLACES:
        for item in s.checklist(SettlementFacts(place=place)) + s.checklist(facts):
            assert _squash(item.source) in handbook, item.code
            if item.verbatim:
                assert _squash(item.label_zh.strip("《》")) in handbook, item.label_zh


def _codes(facts):
    return [i.code for i in s.checklist(facts)]


def test_the_base_checklist_is_the_printed_forms_identity_document_household_register_archive_and_home():
    assert _codes(SettlementFacts(place="own_home")) == [
        "materials_list", "application_form", "id_document", "hukou_book", "archive", "home_title"]


def test_spouse_home_points_add_the_marriage_evidence_for_that_home():
    assert "spouse_home_marriage" not in _codes(SettlementFacts(place="own_home"))
    assert "spouse_home_marriage" in _codes(SettlementFacts(place="own_home", spouse_home_points=True))


def test_no_archive_means_the_declaration_instead_of_the_archive():
    codes = _codes(SettlementFacts(place="own_home", has_archive=False))
    assert "no_archive_declaration" in codes and "archive" not in codes


def test_an_agent_brings_the_power_of_attorney_and_their_own_id():
    codes = _codes(SettlementFacts(place="own_home", by_agent=True))
    assert {"power_of_attorney", "agent_id"} <= set(codes)
    assert not {"power_of_attorney", "agent_id"} & set(_codes(SettlementFacts(place="own_home")))


@pytest.mark.parametrize("place, item", [
    ("own_home", "home_title"), ("public_direct", "public_housing_lease"),
    ("public_unit", "housing_allocation_notice"), ("collective", "unit_collective_household"),
])
def test_each_place_of_settlement_needs_its_own_evidence(place, item):
    codes = _codes(SettlementFacts(place=place))
    assert item in codes
    others = {"home_title", "public_housing_lease", "housing_allocation_notice", "unit_collective_household"} - {item}
    assert not others & set(codes)


def test_each_child_brings_household_register_birth_certificate_and_marriage_evidence():
    kids = (Child("小明", "x", date(2012, 5, 1), 1, "father"), Child("小红", "y", date(2017, 3, 1), 2, "father"))
    codes = _codes(SettlementFacts(place="own_home", children=kids))
    for i in (1, 2):
        assert {f"child{i}_hukou_book", f"child{i}_birth_certificate", f"child{i}_marriage"} <= set(codes)


# 第五篇 二 3(3): "2016年1月1日(不含)以前生育第一孩、2016年1月1日(含)以后生育第二孩,
# 或2016年1月1日(含)以后生育两孩以内的,可不提交符合计划生育政策凭证".
FAMILY_PLANNING_TABLE = [
    # (case, children as (birth date, order), which of them need the proof)
    ("first child before 2016", [(date(2012, 5, 1), 1)], []),
    ("second child before 2016", [(date(2010, 1, 1), 1), (date(2015, 12, 31), 2)], [2]),
    ("second child on 2016-01-01, first before", [(date(2010, 1, 1), 1), (date(2016, 1, 1), 2)], []),
    ("second child after 2016, first before", [(date(2010, 1, 1), 1), (date(2018, 6, 1), 2)], []),
    ("two children both after 2016", [(date(2016, 3, 1), 1), (date(2019, 6, 1), 2)], []),
    ("a third child after 2016", [(date(2010, 1, 1), 1), (date(2016, 5, 1), 2), (date(2020, 2, 2), 3)], [3]),
    ("a third child before 2016", [(date(2008, 1, 1), 1), (date(2010, 5, 1), 2), (date(2013, 2, 2), 3)], [2, 3]),
]


@pytest.mark.parametrize("case, children, needing", FAMILY_PLANNING_TABLE, ids=[c[0] for c in FAMILY_PLANNING_TABLE])
def test_family_planning_proof_case_by_case(case, children, needing):
    kids = tuple(Child(f"子{n}", "x", born, order, "mother") for n, (born, order) in enumerate(children, start=1))
    facts = SettlementFacts(place="own_home", children=kids)
    groups = [g.code for g in s.groups(facts)]
    assert groups == [f"child{i}_family_planning" for i in needing]
    # Any one of the five proofs of 注① is enough; none leaves the group missing.
    for i in needing:
        options = [it.code for it in s.checklist(facts) if it.one_of == f"child{i}_family_planning"]
        assert len(options) == 5
        everything_else = [it.code for it in s.checklist(facts) if it.one_of is None]
        assert any("符合计划生育政策凭证" in m for m in s.missing(facts, everything_else))
        others = [f"child{j}_birth_permit" for j in needing if j != i]
        assert not [m for m in s.missing(facts, everything_else + others + [options[2]])
                    if f"随迁子女{i}" in m]


def test_collective_route_only_when_no_one_in_the_family_owns_a_legal_home():
    open_route = s.checks(SettlementFacts(place="collective", family_owns_home=False))
    closed = s.checks(SettlementFacts(place="collective", family_owns_home=True))
    assert [c.passed for c in open_route if c.code == "collective_route"] == [True]
    [refused] = [c for c in closed if c.code == "collective_route"]
    assert not refused.passed and "不能在单位集体户内落户" in refused.message_zh


def test_work_residence_points_mean_settling_in_that_own_home():
    same = SettlementFacts(place="own_home", work_residence_points=True, place_certificate_no="X京房权证通字第1号",
                           points_home_certificate_no="X京房权证通字第1号")
    other_home = SettlementFacts(place="own_home", work_residence_points=True, place_certificate_no="X京房权证朝字第9号",
                                 points_home_certificate_no="X京房权证通字第1号")
    collective = SettlementFacts(place="collective", work_residence_points=True,
                                 points_home_certificate_no="X京房权证通字第1号")
    verdict = {f: [c.passed for c in s.checks(f) if c.code == "work_residence_same_home"]
               for f in (same, other_home, collective)}
    assert verdict == {same: [True], other_home: [False], collective: [False]}
    assert not [c for c in s.checks(SettlementFacts(place="collective")) if c.code == "work_residence_same_home"]


def test_the_qualification_lapses_the_day_after_two_years_from_the_announcements_close():
    close = date(2021, 10, 21)
    assert s.qualification_kept_until(close) == date(2023, 10, 21)
    assert not s.is_lapsed(close, date(2023, 10, 21))
    assert s.is_lapsed(close, date(2023, 10, 22))
    assert s.qualification_kept_until(date(2024, 2, 29)) == date(2026, 2, 28)


def test_an_own_home_whose_register_use_is_not_residential_is_not_legal_housing():
    def legal(use):
        return [c.passed for c in s.checks(SettlementFacts(place="own_home", place_title_use=use))
                if c.code == "legal_housing"]

    assert legal("住宅") == [True] and legal(None) == [True]  # not found: checked against the original
    assert legal("非住宅") == [False]
