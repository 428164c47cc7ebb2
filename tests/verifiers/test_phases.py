"""Phase rules as data: each action's window, both ends included, refused in words."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest

from verifiers import phases


@dataclass
class Year2021:
    year: int = 2021
    application_start: date = date(2021, 4, 16)
    application_end: date = date(2021, 5, 15)
    result_query_start: date = date(2021, 8, 10)
    result_query_end: date = date(2021, 8, 24)
    announcement_start: date = date(2021, 10, 15)
    announcement_end: date = date(2021, 10, 21)
    settlement_start: date = date(2021, 10, 22)
    settlement_end: date = date(2023, 10, 21)


Y = Year2021()


@pytest.mark.parametrize("action,first,last", [
    ("claim.create", Y.application_start, Y.application_end),
    ("claim.change", Y.application_start, Y.application_end),
    ("application.create", Y.application_start, Y.application_end),
    ("review.submit", Y.application_start, Y.application_end),
    ("appeal.submit", Y.result_query_start, Y.result_query_end),
    ("appeal.withdraw", Y.result_query_start, Y.result_query_end),
    ("tip.submit", Y.announcement_start, Y.announcement_end),
])
def test_window_ends_are_included(action, first, last):
    assert phases.refusal(action, Y, first) is None
    assert phases.refusal(action, Y, last) is None
    before, after = phases.refusal(action, Y, first - timedelta(days=1)), phases.refusal(action, Y, last + timedelta(days=1))
    assert before is not None and after is not None
    assert before.rule == f"phase.{action}"
    assert f"{first:%Y-%m-%d}至{last:%Y-%m-%d}" in after.message_zh and f"{last + timedelta(days=1):%Y-%m-%d}" in after.message_en


def test_the_announcement_lasts_seven_days_and_refusals_quote_the_handbook():
    assert (Y.announcement_end - Y.announcement_start).days + 1 == 7
    refusal = phases.refusal("tip.submit", Y, date(2021, 10, 22))
    assert "公示期间有异议的,可在公示期内向市人力资源社会保障局实名书面举报" in refusal.message_zh
    assert "7-day announcement" in refusal.message_en
    assert "逾期不能再更改" in phases.refusal("appeal.modify", Y, date(2021, 8, 25)).message_zh


def test_every_rule_has_its_words():
    assert set(phases.RULES) == set(phases.ACTION_EN)
    for rule in phases.RULES.values():
        assert rule.quote and rule.section and rule.window_zh and rule.window_en


def test_a_review_is_refused_from_the_first_day_after_the_application_phase():
    """复查 is an application-phase remedy; in the result-query phase objections are appeals."""
    day_after = Y.application_end + timedelta(days=1)
    refusal = phases.refusal("review.submit", Y, day_after)
    assert refusal is not None and "进行填报、修改、删除或复查" in refusal.message_zh
    assert phases.refusal("review.submit", Y, Y.result_query_start) is not None
    assert phases.refusal("appeal.submit", Y, Y.result_query_start) is None
    assert phases.refusal("appeal.submit", Y, Y.result_query_end) is None


from support import HANDBOOK  # noqa: E402  (tests/support.py: shared/ beside the repo)


def test_every_phase_quote_is_verbatim_in_the_handbook():
    if not HANDBOOK.exists():
        pytest.skip(f"handbook not found at {HANDBOOK}")
    text = HANDBOOK.read_text(encoding="utf-8")
    for action, rule in phases.RULES.items():
        # Verbatim, punctuation included: the handbook mixes full-width and ASCII commas.
        assert rule.quote in text, f"{action}: quote not in the handbook: {rule.quote!r}"
