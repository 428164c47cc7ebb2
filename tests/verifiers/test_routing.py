"""Routing of cases to queues (verifiers/routing.py) against DESIGN.md and the handbook.

Pure: no database, no Redis, no Flask.
"""
from __future__ import annotations

import itertools
import re
import subprocess
import sys

import pytest

from verifiers.routing import INDICATORS, KINDS, QUEUES, REVIEW_QUEUES, queue, queue_for, routes
from verifiers.materials import REVIEW_TYPES

from support import HANDBOOK  # noqa: E402  (tests/support.py: shared/ beside the repo)

EXPECTED_REVIEW = {
    "housing": "housing",
    "education": "education",
    "innovation": "awards",
    "honors": "awards",
    "tax": "tax",
}


def test_queues_in_order_with_labels_and_city_only_flag():
    assert [q.code for q in QUEUES] == ["housing", "education", "awards", "tax", "appeals", "settlement", "tips",
                                        "eligibility"]
    for q in QUEUES:
        assert q.label_zh and q.label_en
    assert [q.code for q in QUEUES if q.city_only] == ["tips"]
    assert queue("awards").label_zh == "创新创业与荣誉表彰"
    with pytest.raises(KeyError):
        queue("nowhere")


def test_the_nine_indicators_in_handbook_order():
    assert [(i.code, i.label_zh) for i in INDICATORS] == [
        ("employment", "合法稳定就业"),
        ("housing", "合法稳定住所"),
        ("education", "教育背景"),
        ("work_residence", "职住区域"),
        ("innovation", "创新创业"),
        ("tax", "纳税"),
        ("age", "年龄"),
        ("honors", "荣誉表彰"),
        ("law_abiding", "守法记录"),
    ]


def test_indicators_are_those_the_handbook_lets_one_appeal():
    """第四篇 二: the appeal page lists every indicator type with a 我要申诉 button."""
    if not HANDBOOK.exists():
        pytest.skip(f"handbook not found at {HANDBOOK}")
    text = HANDBOOK.read_text(encoding="utf-8")
    section = text[text.index("第四篇 审核结果异议申诉\n\n一、须知"):text.index("第五篇 公示和落户办理\n\n一")]
    listed = re.findall(r"^(\S+)\t<input type=\"button\" value=\"我要申诉\"/>", section, re.M)
    assert listed == [i.label_zh for i in INDICATORS]
    for i in INDICATORS:
        assert f"{i.section.split()[1]}" in text, i.section


def test_reviews_go_to_the_queue_of_their_indicator():
    for indicator, expected in EXPECTED_REVIEW.items():
        assert queue_for(indicator, "review") == expected


def test_review_queues_are_exactly_the_indicators_with_review_types():
    """The handbook's 复查 parts (the materials tables) and the routing table agree."""
    assert set(REVIEW_QUEUES) == {t.indicator for t in REVIEW_TYPES}
    for t in REVIEW_TYPES:
        assert queue_for(t.indicator, "review") == EXPECTED_REVIEW[t.indicator], t.code


@pytest.mark.parametrize("indicator", ["employment", "work_residence", "age", "law_abiding"])
def test_a_review_of_an_indicator_without_review_is_refused_by_name(indicator):
    with pytest.raises(ValueError, match=indicator):
        queue_for(indicator, "review")


@pytest.mark.parametrize("indicator", [i.code for i in INDICATORS])
def test_any_indicator_may_be_appealed(indicator):
    assert queue_for(indicator, "appeal") == "appeals"


def test_settlement_and_tips_do_not_depend_on_the_indicator():
    for indicator in [None] + [i.code for i in INDICATORS]:
        assert queue_for(indicator, "settlement") == "settlement"
        assert queue_for(indicator, "tip") == "tips"


def test_review_and_appeal_must_name_an_indicator():
    for kind in ("review", "appeal"):
        with pytest.raises(ValueError):
            queue_for(None, kind)


def test_unknown_kind_or_indicator_is_refused():
    with pytest.raises(ValueError, match="kind"):
        queue_for("housing", "complaint")
    for kind in KINDS:
        with pytest.raises(ValueError, match="salary"):
            queue_for("salary", kind)


def test_every_pair_either_routes_as_expected_or_is_refused():
    allowed = set()
    for indicator, kind in itertools.product([None] + [i.code for i in INDICATORS], KINDS):
        if kind in ("review", "filing"):  # evidence filed with a claim: the indicator's review queue
            expected = EXPECTED_REVIEW.get(indicator)
        elif kind == "appeal":
            expected = "appeals" if indicator else None
        else:
            expected = {"settlement": "settlement", "tip": "tips", "eligibility_objection": "eligibility",
                        "employer_registration": "eligibility"}[kind]
        if expected is None:
            with pytest.raises(ValueError):
                queue_for(indicator, kind)
        else:
            assert queue_for(indicator, kind) == expected, (indicator, kind)
            allowed.add((indicator, kind, expected))
    assert set(routes()) == allowed


def test_every_queue_receives_something():
    assert {q for _, _, q in routes()} == {q.code for q in QUEUES}


def test_routing_imports_no_framework():
    code = (
        "import sys, verifiers.routing;"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'flask', 'sqlalchemy', 'rq', 'redis'});"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
