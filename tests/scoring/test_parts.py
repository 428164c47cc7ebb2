"""The engine's parts on their own: history arithmetic, exact points, single indicators, purity.

Figures are SCORING.md's input example worked out by hand (the contract's letters in comments).
"""

from __future__ import annotations

import subprocess
import sys

from backoffice.scoring import history, indicators, points
from backoffice.scoring.validation import validate

from ._support import blank_input


def m(text: str) -> int:
    return history.MONTH_ORDINALS[text]


def test_history_counts_merges_and_subtracts_whole_months():
    own = [(m("2014-08"), m("2017-12"))]
    assert history.count(own) == 41  # "2014-08 … 2017-12 is 41 months" (SCORING.md conventions)
    assert history.merge([(m("2016-01"), m("2018-01")), (m("2014-08"), m("2017-12"))]) == \
        [(m("2014-08"), m("2018-01"))]
    assert history.merge([(m("2010-01"), m("2010-06")), (m("2010-07"), m("2010-12"))]) == \
        [(m("2010-01"), m("2010-12"))]  # adjacent months join
    paid = [(m("2010-01"), m("2020-12"))]
    assert history.count(history.subtract(paid, [(m("2013-04"), m("2013-04"))])) == 131  # back-paid month out
    assert history.count_between(paid, history.EMPLOYMENT_FIRST_MONTH, history.PERIOD_A_LAST_MONTH) == 127
    assert history.intersect(own, [(m("2017-01"), m("2019-01"))]) == [(m("2017-01"), m("2017-12"))]
    assert history.cutoff_month(2021) == m("2020-12")
    assert history.month_str(m("2020-08")) == "2020-08" == history.month_str(history.PERIOD_B_FIRST_MONTH)
    assert history.format_ranges([(m("2010-01"), m("2013-03")), (m("2013-05"), m("2013-05"))]) == \
        "2010-01~2013-03, 2013-05"


def test_points_are_exact_and_rounded_half_up_only_when_written():
    # 41 own months × 1/12 + 91 rental months × 0.5/12 = 173/24 = 7.208333…
    units = 41 * points.UNITS_PER_OWN_MONTH + 91 * points.UNITS_PER_RENTAL_MONTH
    assert units == 173
    assert points.written(units) == 7.21 and points.shown(units) == "7.21"
    assert points.written(1) == 0.04  # 1/24 = 0.041666…
    assert points.shown(-30 * points.UNITS_PER_POINT) == "-30.00"
    assert points.written(3) == 0.13  # 0.125 → 0.13 (half up, not to even)


def _example():
    return validate(blank_input(
        insurance={
            "pension": {"paid": [["2010-01", "2020-12"]], "back_paid": ["2013-04"]},
            "medical": {"paid": [["2010-01", "2020-12"]], "back_paid": []},
            "unemployment": {"paid": [], "back_paid": []},
            "injury": {"paid": [], "back_paid": []},
            "maternity": {"paid": [], "back_paid": []},
        },
        residences=[
            {"type": "own", "from": "2014-08", "to": "2017-12", "district": "朝阳区"},
            {"type": "rental", "from": "2020-08", "to": "2020-12", "district": "西城区"},
        ],
    ))


def test_employment_and_housing_of_the_contract_example_by_hand():
    facts = _example()
    cutoff = history.cutoff_month(2021)
    explanation: list[str] = []
    units, months, kind, counted = indicators.employment(facts.insurance, cutoff, explanation)
    # pension 131 (one back-paid month), medical 132: E = 132, the employment type is medical
    assert (months, kind, units) == (132, "medical", 132 * 6)
    assert explanation[-1].startswith("合法稳定就业: 医疗保险 132 个月 × 3/12 = 33.00")
    units, own, rent, own_history, rental_b = indicators.housing(counted, months, facts.own, facts.rent,
                                                                 cutoff, explanation)
    # E_A = 127, O_A = 41 → own 41, rent_A 86; E_B = 5, R_B = 5 → rent_B 5
    assert (own, rent, units) == (41, 91, 173)
    assert history.count(rental_b) == 5 and history.count(own_history) == 41
    assert "自有 41 个月 × 1/12 + 租赁/宿舍 91 个月 × 0.5/12 = 7.21" in explanation[-1]


def test_short_residence_scores_nothing_and_age_follows_the_table():
    explanation: list[str] = []
    # 11 months of employment, all as rental before 2020-08: "需连续居住满1年" → 0
    paid = [(m("2019-01"), m("2019-11"))]
    assert indicators.housing(paid, 11, [], [], history.cutoff_month(2021), explanation)[:3] == (0, 0, 11)
    assert "不满 12 个月" in explanation[-1]
    # (2021 - 2) - 1972 = 47 > 45: 20 - 4 × 2 = 12
    assert indicators.age((1972, 6, 1), 2021, explanation) == (12 * 24, 47)  # 47 on 2020-01-01
    assert indicators.age((1930, 1, 1), 2021, explanation)[0] == 0  # never below 0


def test_the_engine_loads_no_web_stack_in_a_fresh_interpreter():
    code = ("import sys, backoffice.scoring, backoffice.scoring.cli; "
            "print(sorted(m for m in ('flask', 'sqlalchemy', 'rq', 'flask_sqlalchemy') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
