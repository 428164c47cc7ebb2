"""The four eligibility conditions of 第一篇 at their boundaries, and the employer rule of 第二篇.

Pure: no database, no Flask. The conditions' words are looked up in the handbook itself.
"""
from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from verifiers import eligibility as E
from verifiers.identifiers import uscc_check_char
from verifiers.registry import in_memory, parse_file

_CANDIDATES = [Path(__file__).resolve().parents[2].parent / "shared" / "handbook" / "points-handbook-2021.txt",
               Path("/work/shared/handbook/points-handbook-2021.txt")]
HANDBOOK = next((p for p in _CANDIDATES if p.exists()), _CANDIDATES[0])


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def handbook() -> str:
    if not HANDBOOK.exists():
        pytest.skip(f"handbook not found at {HANDBOOK}")
    return _squash(HANDBOOK.read_text(encoding="utf-8"))


def test_each_condition_quotes_the_handbook(handbook):
    section = handbook[handbook.index("第一篇资格条件根据"):handbook.index("第二篇注册关联积分落户")]
    for c in E.CONDITIONS:
        assert _squash(c.title) in section, c.code
        assert _squash(c.words) in section, c.code
    assert _squash(E.EMPLOYER_REFUSAL) in handbook
    assert _squash(E.PROMPT_FOOTER) in handbook
    for materials in E.OBJECTION_MATERIALS.values():
        for m in materials:
            if m.verbatim:
                assert _squash(m.label_zh.strip("《》")) in handbook, m.code
    for kind in E.LICENCE_KINDS:
        assert kind in handbook


# Helpers ------------------------------------------------------------------------------------
def _insurance(start="2014-01", end="2020-12", back_paid=(), types=("pension", "medical"), gaps=()):
    """Each type paid start..end, except the months in ``gaps``."""
    def ranges():
        out, run = [], None
        y, m = int(start[:4]), int(start[5:])
        while f"{y:04d}-{m:02d}" <= end:
            month = f"{y:04d}-{m:02d}"
            if month in gaps:
                if run:
                    out.append(run)
                run = None
            elif run is None:
                run = [month, month]
            else:
                run[1] = month
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        if run:
            out.append(run)
        return out
    hist = {t: {"paid": ranges(), "back_paid": []} for t in types}
    hist["pension"]["back_paid"] = list(back_paid)
    return hist


def _facts(**kw) -> E.Facts:
    base = dict(year=2021, sex="M", birth_date=date(1985, 3, 14), post=None,
                permits=(E.Permit("京居0001", date(2015, 5, 1)),), insurance=_insurance())
    base.update(kw)
    return E.Facts(**base)


def _result(facts, code):
    (r,) = E.evaluate(facts, only=[code])
    return r


def _months(first: str, n: int) -> list[str]:
    y, m = int(first[:4]), int(first[5:])
    out = []
    for _ in range(n):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def test_an_ordinary_applicant_meets_all_four_conditions():
    results = E.evaluate(_facts())
    assert [r.code for r in results] == list(E.CONDITION_CODES)
    assert E.eligible(results) and E.prompt(results) == ""


# 一、持有本市居住证 --------------------------------------------------------------------------
def test_a_permit_applied_for_on_31_december_counts_and_on_1_january_does_not():
    on_time = _result(_facts(permits=(E.Permit("京居1", date(2020, 12, 31)),)), "residence_permit")
    late = _result(_facts(permits=(E.Permit("京居1", date(2021, 1, 1)),)), "residence_permit")
    assert on_time.passed
    assert not late.passed
    assert "2021-01-01，晚于2020-12-31" in late.reason
    assert late.prompt.startswith("不符合资格条件“持有本市居住证”")
    assert late.facts["permits"] == [{"number": "京居1", "applied_on": "2021-01-01", "status": "有效"}]


def test_no_permit_or_a_cancelled_one_fails():
    assert "未查询到" in _result(_facts(permits=()), "residence_permit").reason
    cancelled = _result(_facts(permits=(E.Permit("京居1", date(2016, 1, 1), "注销"),)), "residence_permit")
    assert not cancelled.passed and "注销" in cancelled.reason


# 二、不超过法定退休年龄 ------------------------------------------------------------------------
@pytest.mark.parametrize("sex, post, limit", [("M", None, 60), ("F", "worker", 50), ("F", "cadre", 55)])
def test_retirement_age_the_day_before_and_after_the_birthday(sex, post, limit):
    # Reaching the limit on 31 December 2020 (born that day `limit` years earlier) fails: "(不含)";
    # born one day later, the applicant is still `limit - 1` on that day and may apply.
    reaches = date(2020 - limit, 12, 31)
    day_after = date(2020 - limit + 1, 1, 1)
    fails = _result(_facts(sex=sex, post=post, birth_date=reaches), "retirement_age")
    holds = _result(_facts(sex=sex, post=post, birth_date=day_after), "retirement_age")
    assert not fails.passed and fails.facts["age"] == limit
    assert f"已满{limit}周岁" in fails.reason
    assert holds.passed and holds.facts["age"] == limit - 1


def test_a_woman_of_52_may_apply_as_a_cadre_but_not_as_a_worker():
    born = date(1968, 6, 1)
    assert not _result(_facts(sex="F", post="worker", birth_date=born), "retirement_age").passed
    assert _result(_facts(sex="F", post="cadre", birth_date=born), "retirement_age").passed


def test_the_man_born_in_1950_of_the_issue_is_refused():
    r = _result(_facts(birth_date=date(1950, 5, 1)), "retirement_age")
    assert not r.passed and r.facts["age"] == 70


def test_retirement_limits_are_data_per_year(monkeypatch):
    monkeypatch.setattr(E, "RETIREMENT_LIMITS", E.RETIREMENT_LIMITS + (
        (2025, {("M", None): 63, ("F", "worker"): 55, ("F", "cadre"): 58}),))
    assert E.retirement_limit(2024, "M", None) == 60
    assert E.retirement_limit(2025, "M", None) == 63
    assert _result(_facts(year=2025, birth_date=date(1963, 6, 1)), "retirement_age").passed


# 三、在京连续缴纳社会保险7年及以上 ------------------------------------------------------------
def test_84_months_with_5_back_paid_months_hold_and_with_6_do_not():
    five = _result(_facts(insurance=_insurance(back_paid=_months("2016-01", 5))), "social_insurance")
    six = _result(_facts(insurance=_insurance(back_paid=_months("2016-01", 6))), "social_insurance")
    assert five.passed and len(five.facts["back_paid_months"]) == 5
    assert not six.passed and "补缴记录累计6个月" in six.reason


def test_back_paid_months_count_once_whichever_types_they_were_paid_for():
    hist = _insurance(back_paid=_months("2016-01", 5))
    hist["medical"]["back_paid"] = _months("2016-01", 5)
    assert _result(_facts(insurance=hist), "social_insurance").passed
    hist["medical"]["back_paid"] = _months("2018-01", 1)
    assert not _result(_facts(insurance=hist), "social_insurance").passed


def test_exactly_84_months_hold_and_83_do_not():
    assert _result(_facts(insurance=_insurance(start="2014-01")), "social_insurance").passed
    short = _result(_facts(insurance=_insurance(start="2014-02")), "social_insurance")
    assert not short.passed and "养老保险2014-01断缴" in short.reason


def test_a_one_month_gap_breaks_continuity():
    r = _result(_facts(insurance=_insurance(start="2010-01", gaps=("2018-07",))), "social_insurance")
    assert not r.passed
    assert "养老保险2018-07断缴" in r.reason
    assert r.facts["types"]["pension"]["gaps"] == ["2018-07"]


def test_an_old_gap_before_the_seven_years_does_not_count():
    assert _result(_facts(insurance=_insurance(start="2008-01", gaps=("2012-03",))), "social_insurance").passed


def test_other_types_may_start_later_but_not_break_off():
    hist = _insurance()
    hist["unemployment"] = {"paid": [["2016-05", "2020-12"]], "back_paid": []}
    assert _result(_facts(insurance=hist), "social_insurance").passed
    hist["unemployment"] = {"paid": [["2016-05", "2019-12"]], "back_paid": []}
    r = _result(_facts(insurance=hist), "social_insurance")
    assert not r.passed and "失业保险2020-01断缴" in r.reason


def test_a_payment_status_that_is_not_normal_fails():
    r = _result(_facts(insurance_status="暂停缴费"), "social_insurance")
    assert not r.passed and "缴费状态为“暂停缴费”" in r.reason


# 四、无刑事犯罪记录 ----------------------------------------------------------------------------
def test_a_court_judgment_or_police_certificate_fails_whenever_decided():
    for source in ("judgment", "police_certificate"):
        r = _result(_facts(criminal_records=(E.CriminalRecord(source, "(2021)京0105刑初1号", date(2021, 3, 1)),)),
                    "criminal_record")
        assert not r.passed and "(2021)京0105刑初1号" in r.reason


# Objections: corrected facts re-run the check -------------------------------------------------
def test_corrections_from_the_window_make_a_refused_applicant_eligible():
    facts = _facts(sex="F", post="worker", birth_date=date(1968, 6, 1), permits=(),
                   insurance=_insurance(back_paid=_months("2016-01", 6)),
                   criminal_records=(E.CriminalRecord("judgment", "(2019)京0105刑初9号", date(2019, 1, 1)),))
    assert [r.passed for r in E.evaluate(facts)] == [False, False, False, False]
    fixed = facts.with_corrections({
        "residence_permit": {"number": "京居9", "applied_on": "2019-04-01"},
        "retirement_age": {"post": "cadre"},
        "social_insurance": {"back_paid": _months("2016-01", 2)},
        "criminal_record": {"cleared_documents": ["(2019)京0105刑初9号"]},
    })
    assert E.eligible(E.evaluate(fixed))


# From the registry dataset ---------------------------------------------------------------------
def test_facts_come_from_the_registry_files():
    si = ("id_number,insurance_type,from,to,back_paid,district,employer_uscc,status\n"
          "110105198503140013,pension,2012-01,2020-12,2016-01,朝阳区,91110105MA00000012,\n"
          "110105198503140013,medical,2012-01,2020-12,,朝阳区,91110105MA00000012,暂停缴费\n")
    permits = "permit_no,id_number,applied_on,status\n京居0001,110105198503140013,2020-12-31,有效\n"
    crimes = ("id_number,source,document_no,decided_on,summary\n"
              "110105198503140013,police_certificate,京公证〔2020〕1号,2020-02-01,盗窃\n")
    regs = in_memory(parse_file("social_insurance", si) + parse_file("residence_permits", permits)
                     + parse_file("criminal_records", crimes))
    facts = E.facts_from_registries(regs, id_number="110105198503140013", sex="M", birth_date=date(1985, 3, 14),
                                    year=2021, post=None)
    results = {r.code: r for r in E.evaluate(facts)}
    assert results["residence_permit"].passed
    assert not results["social_insurance"].passed and "暂停缴费" in results["social_insurance"].reason
    assert results["social_insurance"].facts["back_paid_months"] == ["2016-01"]
    assert not results["criminal_record"].passed


# Employers (第二篇) ----------------------------------------------------------------------------
def _uscc(body17: str) -> str:
    return body17 + uscc_check_char(body17)


def test_a_shanghai_credit_code_is_not_a_beijing_unit():
    shanghai = _uscc("91310115MA0000001")
    beijing = _uscc("91110105MA0000001")
    assert E.employer_problem(shanghai, "正常").startswith("统一社会信用代码的登记管理机关行政区划码为310115")
    assert E.employer_problem(beijing, None) == "未查询到该单位在京的税务登记"
    assert "注销" in E.employer_problem(beijing, "注销")
    assert E.employer_problem(beijing, "正常") is None
