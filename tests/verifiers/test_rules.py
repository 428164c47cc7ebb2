"""The review rules as data (verifiers/materials.py, verifiers/reasons.py) read against the handbook.

Pure: no database, no Flask. Texts that claim to quote the handbook are looked
up in the handbook itself; tests that need it are skipped when it is absent.
"""
from __future__ import annotations

import re
import subprocess
import sys

import pytest

from verifiers.indicators import INDICATOR_CODES, UnknownCode
from verifiers.materials import (
    REVIEW_TYPES,
    Condition,
    Material,
    OneOf,
    ReviewType,
    checklist,
    review_type,
    review_types_for,
)
from verifiers.reasons import (
    DECISION_REASONS,
    OUTCOME_CODES,
    REASONS,
    contest_refusal,
    decision_reasons,
    reason,
    reasons_for,
)

from support import HANDBOOK  # noqa: E402  (tests/support.py: shared/ beside the repo)
SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


def _squash(text: str) -> str:
    """The handbook text wraps lines inside sentences; compare without whitespace."""
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def handbook() -> str:
    if not HANDBOOK.exists():
        pytest.skip(f"handbook not found at {HANDBOOK}")
    return HANDBOOK.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def quoted(handbook):
    """assert-helper: the text appears in the handbook (whitespace aside)."""
    squashed = _squash(handbook)

    def check(text: str, where: str) -> None:
        assert text, f"{where}: empty text"
        assert _squash(text) in squashed, f"{where}: not found in the handbook: {text!r}"

    return check


# --------------------------------------------------------------------------
# Materials tables
# --------------------------------------------------------------------------


def test_review_type_codes_are_unique_snake_case_ascii():
    codes = [t.code for t in REVIEW_TYPES]
    assert len(codes) == len(set(codes))
    for code in codes:
        assert SNAKE.match(code), code


def test_every_review_type_belongs_to_a_known_indicator_and_cites_its_section():
    for t in REVIEW_TYPES:
        assert t.indicator in INDICATOR_CODES
        assert t.section.startswith("第三篇 "), t.code
        assert t.label_zh and t.label_en


def test_row_codes_are_unique_and_snake_case_within_each_type():
    for t in REVIEW_TYPES:
        codes = [r.code for r in t.rows] + [g.code for g in t.groups]
        assert len(codes) == len(set(codes)), t.code
        for code in codes:
            assert SNAKE.match(code), (t.code, code)


def test_every_review_type_has_rows_unless_the_handbook_sends_it_elsewhere():
    for t in REVIEW_TYPES:
        if t.external_system is None:
            assert len(t.rows) >= 1, t.code
            assert any(r.condition is None for r in t.rows), f"{t.code}: nothing required unconditionally"
        else:
            assert t.rows == (), t.code
    # The only such type is the 市科委 row of the innovation table, whose materials cell says "无".
    assert [t.code for t in REVIEW_TYPES if t.external_system] == ["innovation_science_tech"]


def test_one_of_groups_have_at_least_two_options_and_every_option_a_group():
    seen = set()
    for t in REVIEW_TYPES:
        for g in t.groups:
            seen.add((t.code, g.code))
            assert len(t.options(g.code)) >= 2, (t.code, g.code)
        for r in t.rows:
            if r.one_of is not None:
                assert r.one_of in {g.code for g in t.groups}, (t.code, r.code)
    # Every "之一" / "A或B" of the handbook's tables, and nothing else.
    assert seen == {
        ("housing_listing_invalid", "ownership_proof"),
        ("housing_register_dates", "ownership_proof"),
        ("spouse_marriage_evidence", "marriage_evidence"),
        ("edu_name_mismatch", "name_change_proof"),
        ("innovation_culture_award", "award_proof"),
        ("innovation_contest_award", "award_proof"),
        ("honors_heroic", "honor_proof"),
    }


def test_verbatim_labels_and_notes_are_in_the_handbook(quoted):
    for t in REVIEW_TYPES:
        quoted(t.heading_zh, f"{t.code} heading")
        for part in t.section.split():
            quoted(part, f"{t.code} section")
        if t.note_zh:
            quoted(t.note_zh, f"{t.code} note")
        for r in t.rows:
            if r.verbatim:
                quoted(r.label_zh, f"{t.code}.{r.code}")
            if r.note_zh:
                quoted(r.note_zh, f"{t.code}.{r.code} note")
        for g in t.groups:
            if g.verbatim:
                quoted(g.label_zh, f"{t.code} group {g.code}")
        for c in t.conditions:
            quoted(c.label_zh, f"{t.code} condition {c.code}")


def test_table_rows_follow_the_handbook_tables_in_order(handbook):
    """Innovation (5 rows), tax (2) and honours (3) tables: same types, same order, same labels."""
    for title, indicator, count in (
        ("创新创业指标奖项复查所需材料清单", "innovation", 5),
        ("纳税指标复查所需材料清单", "tax", 2),
        ("荣誉表彰指标复查所需材料清单", "honors", 3),
    ):
        types = [t for t in REVIEW_TYPES if t.heading_zh == title]
        assert [t.table_row for t in types] == list(range(1, count + 1)), title
        assert {t.indicator for t in types} == {indicator}
        start = handbook.index(title)
        table = handbook[start:start + 2000]
        for t in types:
            assert re.search(rf"^{t.table_row}\t{re.escape(t.label_zh)}\t", table, re.M), (title, t.code)


def _as_listed(t: ReviewType) -> list[str]:
    """How the handbook lists a table's unconditional items: each row's label (with its
    parenthesised note), a "one of" group once, by its label."""
    out: list[str] = []
    for r in t.rows:
        if r.condition is not None:
            continue
        if r.one_of is None:
            out.append(r.label_zh + (f"({r.note_zh})" if r.note_zh else ""))
        elif r.one_of not in out:
            out.append(r.one_of)
    groups = {g.code: g.label_zh for g in t.groups}
    return [groups.get(x, x) for x in out]


def test_table_cells_list_exactly_our_rows(handbook):
    """Each 复查所需材料清单 cell ("1、… 2、…", or a single item, or "无") is our rows, in order."""
    checked = 0
    for t in REVIEW_TYPES:
        if t.table_row is None:
            continue
        start = handbook.index(t.heading_zh)
        line = re.search(rf"^{t.table_row}\t{re.escape(t.label_zh)}\t(.*)$", handbook[start:start + 2000], re.M)
        assert line, t.code
        cell = line.group(1).strip()
        items = re.findall(r"\d、(\S+)", cell) or ([] if cell == "无" else [cell])
        assert items == _as_listed(t), t.code
        checked += 1
    assert checked == 10


def test_prose_lists_are_exactly_our_rows(handbook):
    # 第三篇 二 3.(1): "(1)…;(2)…;(3)…" after 产权证明材料(可为下列凭证之一)
    t = review_type("housing_listing_invalid")
    start = handbook.index("产权证明材料(可为下列凭证之一)")
    end = handbook.index("凭证材料上传要求", start)
    listed = re.findall(r"^\((\d)\)(.+?)[;；。]?$", handbook[start:end], re.M)
    assert [text for _, text in listed] == [
        o.label_zh + (f"({o.note_zh})" if o.note_zh else "") for o in t.options("ownership_proof")
    ]
    # 第三篇 二 3.(4), route 二: "相关凭证包括:A;B;C;D(note)。"
    t = review_type("rental_listing_verification")
    sentence = re.search(r"二是通过积分落户在线申报系统发起复查。.*?相关凭证包括:(.+?)。", handbook).group(1)
    assert sentence.split(";") == _as_listed(t)
    # 第三篇 二 2.(2): "婚姻凭证包括:A或B或C或D。"
    t = review_type("spouse_marriage_evidence")
    sentence = re.search(r"婚姻凭证包括:(.+?)。", handbook).group(1)
    assert sentence.split("或") == [o.label_zh for o in t.options("marriage_evidence")]


def test_own_housing_listing_table_is_identity_plus_one_of_three():
    t = review_type("housing_listing_invalid")
    assert t.indicator == "housing"
    assert [r.code for r in t.rows if r.required] == ["owner_identity"]
    assert [o.code for o in t.options("ownership_proof")] == [
        "ownership_certificate",
        "registry_query_notice",
        "registration_application",
    ]
    assert t.missing({"owner_identity"}) == ("ownership_proof",)
    assert t.missing({"registry_query_notice"}) == ("owner_identity",)
    assert t.is_complete({"owner_identity", "registration_application"})


def test_rental_verification_needs_all_four_documents():
    t = review_type("rental_listing_verification")
    assert all(r.required for r in t.rows)
    assert len(t.rows) == 4
    assert t.missing({"lease_contract", "lease_parties_identity", "ownership_proof"}) == (
        "lease_review_application",
    )


def test_degree_certificate_is_needed_only_in_a_degree_review():
    for code in ("edu_name_mismatch", "edu_birth_date_lunar_solar", "edu_birth_date_changed", "edu_sex_mismatch"):
        t = review_type(code)
        diploma_rows = {r.code for r in checklist(code)}
        degree_rows = {r.code for r in checklist(code, ["degree_review"])}
        assert "degree_certificate" not in diploma_rows, code
        assert degree_rows - diploma_rows == {"degree_certificate"}, code
        present = {r.code for r in t.rows if r.code != "degree_certificate"}
        assert t.is_complete(present), code
        assert t.missing(present, ["degree_review"]) == ("degree_certificate",), code
    # The degree-date review is always a degree review: the certificate is plainly required.
    assert [r.code for r in checklist("edu_degree_date_format")] == ["degree_certificate"]


def test_culture_award_creators_bring_two_more_documents():
    base = {r.code for r in checklist("innovation_culture_award")}
    creator = {r.code for r in checklist("innovation_culture_award", ["wuge_yi_or_beijing_arts_creator"])}
    assert creator - base == {"producer_statement", "credited_publication"}


def test_missing_refuses_unknown_codes():
    t = review_type("tax_violation")
    with pytest.raises(UnknownCode):
        t.missing({"explanation", "no_such_row"})
    with pytest.raises(UnknownCode):
        t.missing({"explanation"}, ["degree_review"])


def test_review_type_lookups():
    assert review_type("tax_annual_amount").indicator == "tax"
    with pytest.raises(KeyError):
        review_type("no_such_type")
    with pytest.raises(ValueError):
        checklist("no_such_type")
    assert [t.code for t in review_types_for("honors")] == ["honors_model_worker", "honors_moral_model", "honors_heroic"]
    assert review_types_for("age") == ()
    with pytest.raises(ValueError):
        review_types_for("salary")


def test_malformed_tables_are_refused_at_construction():
    doc = Material("a", "甲", "A", one_of="g")
    with pytest.raises(ValueError, match="at least two options"):
        ReviewType("x", "tax", "x", "x", "第三篇", "x", rows=(doc,), groups=(OneOf("g", "g", "g"),))
    with pytest.raises(ValueError, match="unknown one-of group"):
        ReviewType("x", "tax", "x", "x", "第三篇", "x", rows=(doc,))
    with pytest.raises(ValueError, match="unknown indicator"):
        ReviewType("x", "salary", "x", "x", "第三篇", "x", rows=(Material("a", "甲", "A"),))
    with pytest.raises(ValueError, match="adds no row"):
        ReviewType("x", "tax", "x", "x", "第三篇", "x", rows=(Material("a", "甲", "A"),),
                   conditions=(Condition("c", "c", "c"),))
    with pytest.raises(ValueError, match="not both"):
        ReviewType("x", "tax", "x", "x", "第三篇", "x", rows=())


# --------------------------------------------------------------------------
# Registry reasons
# --------------------------------------------------------------------------

# What the handbook says may not be contested (第三篇 二 3.(2), 3.(4); 三 3.).
NOT_CONTESTABLE = {
    "housing_spouse_invalid",
    "rental_record_mismatch",
    "rental_non_residential",
    "rental_no_title_certificate",
    "edu_date_after_cutoff",
    "edu_level_number_mismatch",
    "edu_not_found",
}


def test_reason_codes_are_unique_snake_case_and_of_known_indicators():
    codes = [r.code for r in REASONS]
    assert len(codes) == len(set(codes))
    for r in REASONS:
        assert SNAKE.match(r.code), r.code
        assert r.indicator in INDICATOR_CODES


def test_reason_messages_and_instructions_are_verbatim(quoted):
    for r in REASONS:
        quoted(r.text(year=2021, tax_year=2020), f"{r.code} message")
        for q in r.instruction_zh:
            quoted(q, f"{r.code} instruction")
        if r.status_zh:
            quoted(r.status_zh, f"{r.code} status")


def test_the_not_contestable_reasons_are_exactly_the_handbooks():
    assert {r.code for r in REASONS if not r.contestable} == NOT_CONTESTABLE


def test_the_three_rental_reasons_listed_as_not_contestable_are_ours(handbook):
    start = handbook.index("显示下列3种原因时，不能申请复查")
    listed = re.findall(r"^[123]、(.+?)。$", handbook[start:start + 600], re.M)
    assert len(listed) == 3
    not_contestable = {r.text() for r in REASONS if r.indicator == "housing" and not r.contestable}
    assert set(listed) <= not_contestable


def test_the_education_results_to_refile_are_ours(handbook):
    """'当系统提示“…”或“…”，请核对后重新填写' and '当系统提示“…”，请查询并确认…': all not contestable."""
    sentences = re.findall(r"当系统提示(.+?)，请", handbook)
    messages = [m for s in sentences for m in re.findall(r"“(.+?)”", s)]
    assert len(messages) == 3
    refile = {r.text(year=2021) for r in REASONS if r.indicator == "education" and not r.contestable}
    assert set(messages) == refile


def test_contestable_reasons_point_to_existing_review_types_of_their_indicator():
    for r in REASONS:
        if r.contestable:
            assert r.review_types, r.code
            for code in r.review_types:
                assert review_type(code).indicator == r.indicator, (r.code, code)
        else:
            assert r.review_types == (), r.code
            assert r.instruction, r.code


def test_every_review_type_meant_for_a_contest_is_reachable_from_a_reason():
    reachable = {code for r in REASONS for code in r.review_types}
    review_types = {t.code for t in REVIEW_TYPES if t.purpose == "review"}
    assert review_types <= reachable, review_types - reachable
    # Evidence uploaded with the claim is not a contest of a registry result.
    assert not {t.code for t in REVIEW_TYPES if t.purpose == "filing"} & reachable


def test_contest_refusal_gives_the_handbooks_instruction():
    spouse = contest_refusal("housing_spouse_invalid")
    assert "不能申请复查" in spouse and "重新填写" in spouse
    rental = contest_refusal("rental_record_mismatch")
    assert "可删除后重新填报" in rental and "北京房地产中介行业协会" in rental
    # Contested, but in the 市科委 system: refused here with where to go.
    assert "市科委系统" in contest_refusal("innovation_smkw_result")
    assert contest_refusal("housing_listing_invalid") is None
    assert contest_refusal("rental_needs_verification") is None
    with pytest.raises(KeyError):
        contest_refusal("no_such_reason")


def test_rental_verification_offers_both_routes():
    r = reason("rental_needs_verification")
    assert r.contestable and r.review_types == ("rental_listing_verification",)
    assert r.instruction_zh[0].startswith("一是") and "北京房地产中介行业协会" in r.instruction_zh[0]
    assert r.instruction_zh[1].startswith("二是")


def test_year_dependent_messages_are_rendered():
    assert reason("edu_date_after_cutoff").text(year=2022) == "取得学历(学位)时间应为2021年12月31日以前"
    assert reason("tax_year_invalid").text(tax_year=2019) == "2019年无效"
    with pytest.raises(ValueError, match="prev_year"):
        reason("edu_date_after_cutoff").text()
    assert reason("housing_listing_invalid").text() == "无效(房源无效)"


def test_degree_reasons_bring_the_degree_condition():
    assert reason("edu_degree_identity_mismatch").conditions == {"degree_review"}
    assert reason("edu_diploma_identity_mismatch").conditions == frozenset()


def test_reasons_for_an_indicator():
    assert {r.code for r in reasons_for("tax")} == {"tax_year_invalid", "tax_violation_record"}
    assert reasons_for("age") == ()
    with pytest.raises(ValueError):
        reasons_for("salary")


# --------------------------------------------------------------------------
# Decision reasons
# --------------------------------------------------------------------------


def test_decision_reason_codes_unique_labelled_and_of_known_outcomes():
    codes = [d.code for d in DECISION_REASONS]
    assert len(codes) == len(set(codes))
    for d in DECISION_REASONS:
        assert SNAKE.match(d.code), d.code
        assert d.outcome in OUTCOME_CODES
        assert d.label_zh and d.label_en
        for code in d.review_types:
            review_type(code)


def test_every_outcome_has_a_general_reason():
    for outcome in OUTCOME_CODES:
        assert decision_reasons(outcome), outcome


def test_the_usual_decision_reasons_are_there():
    labels = {o: {d.label_zh for d in decision_reasons(o)} for o in OUTCOME_CODES}
    assert "材料齐全，核实后更正" in labels["corrected"]
    assert "材料不全，退回补正" in labels["returned"]
    assert "材料与登记信息不符" in labels["rejected"]


def test_decision_reasons_for_a_review_type_add_its_own():
    general = decision_reasons("returned")
    rental = decision_reasons("returned", "rental_listing_verification")
    assert rental[: len(general)] == general
    assert [d.code for d in rental[len(general):]] == ["review_application_unsigned"]
    assert decision_reasons("returned", "tax_violation") == general
    assert "marriage_period_mismatch" in {d.code for d in decision_reasons("rejected", "spouse_marriage_evidence")}
    with pytest.raises(ValueError):
        decision_reasons("approved")
    with pytest.raises(KeyError):
        decision_reasons("upheld", "no_such_type")


def test_decision_reasons_that_quote_the_handbook_do(quoted):
    quoting = [d for d in DECISION_REASONS if d.quotes_handbook]
    assert quoting
    for d in quoting:
        quoted(d.label_zh, d.code)


# --------------------------------------------------------------------------
# Purity
# --------------------------------------------------------------------------


def test_rule_modules_import_no_framework():
    code = (
        "import sys, verifiers.materials, verifiers.reasons, verifiers.indicators;"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'flask', 'sqlalchemy', 'rq', 'redis'});"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


# --------------------------------------------------------------------------
# Award grades on the correction form and the simulator: 附件1's own words
# --------------------------------------------------------------------------


def test_grade_labels_are_the_annex_words(quoted):
    from backoffice.applications.score_views import GRADE_LABELS
    from backoffice.cases.facts import fields_for, parse

    grade_field = next(f for f in fields_for("innovation", 2021) if f.name == "grade")
    offered = dict(grade_field.choices)
    assert offered["major"] == "重大创新奖"
    assert offered["zgc_contribution"] == "突出贡献中关村奖"
    assert offered["zgc_young"] == "杰出青年中关村奖"
    assert GRADE_LABELS == offered
    for code, words in offered.items():
        for word in words.split("／"):
            quoted(word, f"grade {code}")
    for wrong in ("重大贡献奖", "中关村突出贡献奖", "中关村青年奖"):
        assert wrong not in offered.values()
    # A grade the award does not have is refused with that award's own words for its grades.
    _facts, errors = parse("innovation", 2021, {"code": "china_journalism", "grade": "second", "rank": "1",
                                                "year": "2019"})
    assert "特别奖、一等奖" in errors["grade"]
