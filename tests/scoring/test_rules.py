"""Focused tests of the rules that are easy to get subtly wrong (SCORING.md, handbook 第三篇)."""

from __future__ import annotations

import pytest

from backoffice.scoring import ENGINE_VERSION, month_count, score

from ._support import INSURANCE_TYPES, blank_input


def ins(**paid):
    """insurance with ``type=[ranges]`` or ``type=([ranges], [back_paid])``."""
    out = {t: {"paid": [], "back_paid": []} for t in INSURANCE_TYPES}
    for t, v in paid.items():
        ranges, back = v if isinstance(v, tuple) else (v, [])
        out[t] = {"paid": ranges, "back_paid": back}
    return out


def own(f, t, district="朝阳区"):
    return {"type": "own", "from": f, "to": t, "district": district}


def rental(f, t, district="西城区", kind="rental"):
    return {"type": kind, "from": f, "to": t, "district": district}


def ind(**changes):
    return score(blank_input(**changes))["indicators"]


# --- 合法稳定就业 -------------------------------------------------------------

def test_back_paid_months_never_count_and_can_change_the_type():
    e = ind(insurance=ins(pension=([["2010-01", "2020-12"]], ["2013-04", ["2015-01", "2015-02"]]),
                          medical=[["2010-03", "2020-12"]]))["employment"]
    # pension 132 - 3 back-paid = 129 < medical 130
    assert (e["type"], e["months"], e["points"]) == ("medical", 130, 32.5)


def test_back_paid_outside_paid_is_harmless():
    e = ind(insurance=ins(pension=([["2010-01", "2010-12"]], ["2009-05"])))["employment"]
    assert e["months"] == 12


def test_nothing_counts_before_1998_07():
    # "从1998年7月1日起"
    e = ind(insurance=ins(pension=[["1996-01", "1999-06"]]))["employment"]
    assert e["months"] == 12


def test_nothing_counts_after_the_cut_off_month():
    # "截止到积分落户申报工作启动的上一年度12月31日": for 2021, 2020-12 is the last month
    data = dict(insurance=ins(pension=[["2020-01", "2021-06"]]))
    assert ind(**data)["employment"]["months"] == 12
    assert score(blank_input(year=2022, **data))["indicators"]["employment"]["months"] == 18


def test_tie_goes_to_the_first_type_in_contract_order():
    e = ind(insurance=ins(maternity=[["2015-01", "2019-12"]], injury=[["2014-01", "2018-12"]]))
    assert e["employment"]["type"] == "injury"
    e = ind(insurance=ins(medical=[["2015-01", "2019-12"]], pension=[["2014-01", "2018-12"]]))
    assert e["employment"]["type"] == "pension"


def test_overlapping_paid_ranges_count_once():
    e = ind(insurance=ins(pension=[["2010-01", "2012-12"], ["2012-01", "2013-12"], ["2011-05", "2011-05"]]))
    assert e["employment"]["months"] == 48
    assert month_count([["2014-08", "2017-12"]]) == 41


# --- 合法稳定住所 -------------------------------------------------------------

EMP_2013 = ins(pension=[["2013-02", "2020-12"]])  # 95 months: 90 in A, 5 in B


def test_handbook_period_split_85_5_and_2_0():
    h = ind(insurance=EMP_2013, residences=[own("2013-07", "2020-09")])["housing"]
    assert (h["own_months"], h["rent_months"], h["points"]) == (87, 5, 7.46)


def test_own_longer_than_employment_is_capped_by_employment():
    # 自有 100 个月 > 就业 95 个月 → 按 95 个月自有计
    h = ind(insurance=EMP_2013, residences=[own("2012-09", "2020-12")])["housing"]
    assert (h["own_months"], h["rent_months"]) == (95, 0)


def test_rental_before_2020_08_is_taken_from_employment_not_from_filings():
    # "2020年7月(含)以前在租赁住所、单位宿舍的连续居住年限, 无需填报, 系统将以申请人同期在京合法稳定就业年限计算"
    without = ind(insurance=EMP_2013)["housing"]
    with_rent_a = ind(insurance=EMP_2013, residences=[rental("2014-01", "2019-12")])["housing"]
    assert without == with_rent_a == {"points": 3.75, "own_months": 0, "rent_months": 90}


def test_rental_from_2020_08_only_counts_when_filed():
    # "2020年8月(含)以后...须在系统中填报, 未填报或比对无效的不积分"
    h = ind(insurance=EMP_2013, residences=[rental("2020-08", "2020-10", kind="dorm")])["housing"]
    assert h["rent_months"] == 90 + 3


def test_rental_months_that_are_also_own_count_as_own():
    h = ind(insurance=EMP_2013,
            residences=[rental("2020-08", "2020-12"), own("2020-10", "2021-03")])["housing"]
    # B: own 3 (2020-10..12), rental-not-own 2 → own 3 + rent 90 + 2
    assert (h["own_months"], h["rent_months"]) == (3, 92)


def test_housing_needs_12_months():
    # "申请人需连续居住满1年以上"
    eleven = ind(insurance=ins(pension=[["2020-02", "2020-12"]]),
                 residences=[rental("2020-08", "2020-12")])["housing"]
    assert (eleven["own_months"] + eleven["rent_months"], eleven["points"]) == (11, 0.0)
    twelve = ind(insurance=ins(pension=[["2020-01", "2020-12"]]),
                 residences=[rental("2020-08", "2020-12")])["housing"]
    assert (twelve["rent_months"], twelve["points"]) == (12, 0.5)


def test_housing_before_2021_has_no_period_b():
    data = blank_input(year=2020, insurance=ins(pension=[["2017-01", "2021-12"]]),
                       residences=[rental("2018-01", "2021-12")])
    h = score(data)["indicators"]["housing"]
    assert (h["own_months"], h["rent_months"]) == (0, 36)


def test_half_up_rounding_and_total_rounded_once():
    # housing 15/24 = 0.625 → 0.63 (half-up, not half-even); deduction 7/24 → -0.29;
    # total 3.75 + 0.625 + 10.5 - 0.291666… + 20 = 34.58333… → 34.58 (not 34.59)
    r = score(blank_input(insurance=ins(pension=[["2019-10", "2020-12"]]),
                          residences=[rental("2020-08", "2020-12")],
                          education={"level": "junior_college", "degree": None,
                                     "graduated": "2019-11"}))
    i = r["indicators"]
    assert i["housing"]["points"] == 0.63
    assert i["education"]["deduction"] == -0.29
    assert r["total"] == 34.58
    assert sum(x["points"] for x in i.values()) + i["education"]["deduction"] == pytest.approx(34.59)


# --- 教育背景 -----------------------------------------------------------------

BACHELOR = {"level": "bachelor", "degree": "bachelor", "graduated": "2016-07"}


def test_education_window_excludes_the_graduation_month():
    # 本科+学士: "自毕业时间起前4年" = 2012-07 … 2016-06
    e = ind(education=BACHELOR, insurance=ins(pension=[["2016-07", "2020-12"]]))["education"]
    assert (e["points"], e["deduction"]) == (15.0, 0.0)
    e = ind(education=BACHELOR, insurance=ins(pension=[["2016-06", "2020-12"]]))["education"]
    assert e["deduction"] == -0.29  # 1 × 3/12 + 1 × 0.5/12 = 7/24
    e = ind(education=BACHELOR, insurance=ins(pension=[["2012-06", "2020-12"]]))["education"]
    assert e["deduction"] == -14.0  # 48 × 3/12 + 48 × 0.5/12


def test_education_residence_is_capped_by_window_employment():
    e = ind(education=BACHELOR, residences=[own("2010-01", "2020-12")],
            insurance=ins(pension=[["2016-01", "2020-12"]]))["education"]
    assert e["deduction"] == -(6 * 3 / 12 + 6 * 0.5 / 12)


def test_education_after_the_cut_off_scores_nothing():
    e = ind(education={**BACHELOR, "graduated": "2021-01"},
            insurance=ins(pension=[["2015-01", "2020-12"]]))["education"]
    assert (e["points"], e["deduction"]) == (0.0, 0.0)


@pytest.mark.parametrize("level,degree,points", [
    ("junior_college", None, 10.5), (None, "bachelor", 10.5), ("master", None, 15),
    ("master", "master", 26), ("doctor", "doctor", 37),
    ("junior_college", "bachelor", 10.5), ("master", "bachelor", 15), ("bachelor", "master", 15),
    ("doctor", "master", 26), ("junior_college", "doctor", 26),
])
def test_education_table_and_better_of_parts(level, degree, points):
    e = ind(education={"level": level, "degree": degree, "graduated": "2010-07"})["education"]
    assert e["points"] == points


# --- 职住区域 -----------------------------------------------------------------

def wr(residences, work, year=2021, chosen=True):
    return score(blank_input(year=year, residences=residences, work_districts=work,
                             work_residence=chosen))["indicators"]["work_residence"]


def work(f, t, district):
    return {"from": f, "to": t, "district": district}


def test_work_residence_j_l_formula():
    w = wr([own("2016-01", "2020-12", "通州区")], [work("2018-01", "2019-06", "大兴区")])
    # J = 18, L = 18: 3 × 1 + 2 × ((18 + 6) // 12) = 7
    assert (w["both_months"], w["live_months"], w["points"]) == (18, 18, 7.0)


def test_work_residence_counts_from_2018_and_caps_at_12():
    w = wr([own("2010-01", "2022-12", "昌平区")], [work("2010-01", "2022-12", "昌平区")], year=2023)
    assert (w["both_months"], w["points"]) == (60, 12.0)


def test_work_residence_needs_own_outside_in_the_cut_off_month():
    w = wr([own("2018-01", "2020-11", "通州区")], [work("2018-01", "2020-12", "通州区")])
    assert w["points"] == 0.0
    w = wr([own("2018-01", "2020-12", "通州区")], [work("2018-01", "2020-12", "通州区")], chosen=False)
    assert w["points"] == 0.0


def test_shi_ben_ji_is_city_six_and_the_development_zone_is_outside():
    # "在市本级社会保险经办机构缴纳社会保险费的, 视为就业地在城六区"
    w = wr([own("2018-01", "2020-12", "北京经济技术开发区")], [work("2018-01", "2020-12", "市本级")])
    assert (w["both_months"], w["live_months"], w["points"]) == (0, 36, 6.0)


def test_work_residence_own_outside_when_any_own_segment_is_outside():
    w = wr([own("2018-01", "2020-12", "海淀区"), own("2019-01", "2020-12", "顺义区")],
           [work("2019-01", "2020-12", "顺义区")])
    assert (w["both_months"], w["live_months"], w["points"]) == (24, 0, 6.0)


def test_months_without_a_work_district_are_live_only():
    w = wr([own("2018-01", "2020-12", "房山区")], [])
    assert (w["both_months"], w["live_months"], w["points"]) == (0, 36, 6.0)


# --- 创新创业, 纳税, 年龄, 荣誉, 守法 -----------------------------------------------

def test_innovation_is_the_best_single_award():
    i = ind(innovation=[
        {"code": "beijing_sci_tech", "grade": "first", "rank": 3},            # 6
        {"code": "national_skills_contest", "rank": 2},                       # 10
        {"code": "worldskills", "grade": "first"},                            # 12 (grade ignored)
    ])["innovation"]
    assert i["points"] == 12.0


@pytest.mark.parametrize("award,points", [
    ({"code": "national_sci_tech_progress", "grade": "second", "rank": 11}, 0),
    ({"code": "national_sci_tech_progress", "grade": "special", "rank": 31}, 10),
    ({"code": "national_natural_science", "grade": "first", "rank": 40}, 12),
    ({"code": "beijing_skills_contest", "rank": 8}, 1),
    ({"code": "equity_financing", "amount": 4_999_999}, 0),
    ({"code": "equity_financing", "amount": 5_000_000}, 2),
    ({"code": "equity_financing", "amount": 20_000_000}, 4),
    ({"code": "equity_financing", "amount": 40_000_000}, 6),
])
def test_innovation_table_rows(award, points):
    assert ind(innovation=[award])["innovation"]["points"] == points


def tax(annual, violations=0, year=2021):
    return score(blank_input(year=year, tax={"annual": annual, "violations": violations}))[
        "indicators"]["tax"]


def test_tax_needs_all_three_years_above_zero():
    assert tax({"2018": 200000, "2019": 200000})["points"] == 0.0
    assert tax({"2018": 200000, "2019": 200000, "2020": 0})["points"] == 0.0
    t = tax({"2018": 200000, "2019": 200000, "2020": 1})
    assert (t["points"], t["qualifying_years"]) == (4.0, 2)
    assert tax({"2018": 100000, "2019": 99999.99, "2020": 3e5, "2017": 1e6})["points"] == 4.0
    assert tax({"2018": 1e5, "2019": 1e5, "2020": 1e5})["points"] == 6.0


def test_tax_violations_apply_regardless():
    assert tax({}, violations=1)["points"] == -12.0
    assert tax({"2018": 1e5, "2019": 1e5, "2020": 1e5}, violations=1)["points"] == -6.0


def test_detentions_minus_30_each():
    r = score(blank_input(detentions=2))
    assert r["indicators"]["law_abiding"]["points"] == -60.0
    assert r["total"] == 20.0 - 60.0


@pytest.mark.parametrize("birth,year,age,points", [
    ("1979-01-01", 2021, 41, 20), ("1979-01-02", 2021, 40, 20),
    ("1969-12-31", 2021, 50, 0), ("1973-06-01", 2021, 46, 16), ("1968-01-01", 2021, 52, 0),
])
def test_age(birth, year, age, points):
    a = score(blank_input(birth_date=birth, year=year))["indicators"]["age"]
    assert (a["age"], a["points"]) == (age, points)


def test_honours_do_not_add_up():
    assert ind(honors=["national_model_worker", "capital_moral_model"])["honors"]["points"] == 20.0


def test_result_shape():
    r = score(blank_input())
    assert set(r) >= {"year", "total", "indicators", "explanation"}
    assert r["engine_version"] == ENGINE_VERSION
    assert set(r["indicators"]) == {"employment", "housing", "education", "work_residence",
                                    "innovation", "tax", "age", "honors", "law_abiding"}
    assert all(isinstance(v["points"], float) for v in r["indicators"].values())


def test_engine_imports_no_web_stack():
    """backoffice.scoring must stay pure: no Flask, SQLAlchemy or RQ imports in its modules."""
    import ast
    from pathlib import Path

    import backoffice.scoring as pkg

    for path in Path(pkg.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert name.split(".")[0] not in {"flask", "sqlalchemy", "rq", "flask_sqlalchemy"}, \
                    f"{path.name} imports {name}"


def test_the_age_line_follows_the_table_by_birth_year():
    """Born 1 January 1974, applying in 2021: the handbook's table gives 1974 births 20 points,
    so the line must not call the applicant 46 (which they are on 2020-01-01)."""
    from backoffice.scoring.indicators import age

    lines: list[str] = []
    units, _completed = age((1974, 1, 1), 2021, lines)
    assert "满 46 周岁" not in lines[0] and "周岁" not in lines[0]
    assert lines[0].startswith("年龄: 1974 年出生; 年龄指标分段积分表 2021 年度 1974 年出生")
    assert lines[0].endswith("→ 20")
    lines.clear()
    age((1970, 6, 30), 2021, lines)  # the table: 1970 births, 2021 → 4
    assert lines[0].endswith("20 - 4 × 4) → 4")
