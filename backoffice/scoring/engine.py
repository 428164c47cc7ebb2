"""The points engine: score input v1 → score result v1 (shared/contracts/SCORING.md).

``score()`` assembles the parts:

* ``validation`` — the input checked against the contract, months turned into histories;
* ``history``    — insurance-history arithmetic on interval lists of month ordinals;
* ``indicators`` — the nine rules of 第三篇, one function each;
* ``points``     — exact points (twenty-fourths of a point), rounded only when written.

Pure Python: imports nothing from Flask, SQLAlchemy or RQ.
"""

from __future__ import annotations

from . import indicators
from .history import cutoff_month, month_str
from .points import _half_up_hundredths, shown, written  # noqa: F401  (the rounding's property tests import it from here)
from .validation import ScoreInput, ScoreInputError, month_count, validate

ENGINE_VERSION = "2021.2"  # 2021.2: the age line worded by birth year (issue 17)

__all__ = [
    "ENGINE_VERSION",
    "ScoreInput",
    "ScoreInputError",
    "month_count",
    "month_str",
    "score",
    "validate",
]


def score(data) -> dict:
    """Score one application: a score input v1 dict (or a ScoreInput) → score result v1.

    Raises ScoreInputError when the input does not follow the contract.
    """
    facts = data if type(data) is ScoreInput else validate(data)
    year = facts.year
    cutoff = cutoff_month(year)
    explanation = []

    employment, employment_months, employment_type, employment_history = indicators.employment(
        facts.insurance, cutoff, explanation)
    housing, own_months, rent_months, own_history, rental_period_b_history = indicators.housing(
        employment_history, employment_months, facts.own, facts.rent, cutoff, explanation)
    education, education_deduction = indicators.education(
        facts.education, employment_history, own_history, rental_period_b_history, cutoff, explanation)
    work_residence, both_outside_months, live_outside_months = indicators.work_residence(
        facts.work_residence, facts.own_outside, facts.work_outside, cutoff, explanation)
    innovation = indicators.innovation(facts.innovation, explanation)
    tax, qualifying_tax_years = indicators.tax(facts.tax, facts.violations, year, explanation)
    age, age_years = indicators.age(facts.birth, year, explanation)
    honours = indicators.honours(facts.honors, explanation)
    law_abiding = indicators.law_abiding(facts.detentions, explanation)

    # "total is the exact sum, rounded once"
    total = (employment + housing + education + education_deduction + work_residence
             + innovation + tax + age + honours + law_abiding)
    explanation.append(f"总积分: 各项精确值之和 = {shown(total)}")

    return {
        "year": year,
        "total": written(total),
        "indicators": {
            "employment": {"points": written(employment), "months": employment_months,
                           "type": employment_type},
            "housing": {"points": written(housing), "own_months": own_months,
                        "rent_months": rent_months},
            "education": {"points": written(education), "deduction": written(education_deduction)},
            "work_residence": {"points": written(work_residence), "both_months": both_outside_months,
                               "live_months": live_outside_months},
            "innovation": {"points": written(innovation)},
            "tax": {"points": written(tax), "qualifying_years": qualifying_tax_years,
                    "violations": facts.violations},
            "age": {"points": written(age), "age": age_years},
            "honors": {"points": written(honours)},
            "law_abiding": {"points": written(law_abiding), "detentions": facts.detentions},
        },
        "explanation": explanation,
        "engine_version": ENGINE_VERSION,
    }
