"""Which claims need a filing (verifiers/filings.py), and the longer time of old overseas
certificates, read against the handbook. Pure: no database, no Flask."""
from __future__ import annotations

import re

import pytest

from verifiers.filings import (
    ARCHIVE_QUOTE,
    ARCHIVE_WORKING_DAYS,
    CERTIFICATE_ORIGINS,
    FILINGS,
    due_working_days_for,
    filing_rule,
    filings_for,
    needs_archive,
)
from verifiers.materials import REVIEW_TYPES
from verifiers.reasons import reason
from verifiers.turnaround import due_working_days

from support import HANDBOOK  # noqa: E402  (tests/support.py: shared/ beside the repo)


@pytest.fixture(scope="module")
def squashed() -> str:
    if not HANDBOOK.exists():
        pytest.skip(f"handbook not found at {HANDBOOK}")
    return re.sub(r"\s+", "", HANDBOOK.read_text(encoding="utf-8"))


def test_every_filing_table_has_a_rule_and_every_quote_is_the_handbooks(squashed):
    assert {f.review_type for f in FILINGS} == {t.code for t in REVIEW_TYPES if t.purpose == "filing"}
    for rule in FILINGS:
        assert re.sub(r"\s+", "", rule.source) in squashed, rule.review_type
    assert re.sub(r"\s+", "", ARCHIVE_QUOTE) in squashed
    # The cut-off dates are those of the quote, in its words.
    for label, cutoff in CERTIFICATE_ORIGINS.values():
        assert f"{cutoff.year}年{cutoff.month}月{cutoff.day}日" in ARCHIVE_QUOTE and label in ARCHIVE_QUOTE


def test_spouse_housing_and_overseas_education_need_a_filing_and_nothing_else_does():
    spouse = filing_rule("spouse_marriage_evidence")
    overseas = filing_rule("edu_overseas_certificate")
    assert filings_for("housing", {"owner": "spouse", "certificate_no": "X"}) == (spouse,)
    assert filings_for("housing", {"tenant": "spouse", "lease_no": "1"}) == (spouse,)
    assert filings_for("housing", {"owner": "self"}) == filings_for("housing", {}) == ()
    assert filings_for("education", {"kind": "overseas", "certificate_no": "120190000001"}) == (overseas,)
    assert filings_for("education", {"kind": "domestic"}) == filings_for("education", None) == ()
    assert filings_for("tax", {"kind": "overseas"}) == ()
    # What a rejection does to the claim: the handbook's "无效(配偶信息无效)" for the spouse.
    assert reason(spouse.rejected_reason).message_zh == "无效(配偶信息无效)"
    assert (spouse.settles, overseas.settles) == ("spouse", "claim")


@pytest.mark.parametrize("filed, old", [
    ({"issued_on": "2006-07-31"}, True),
    ({"issued_on": "2006-08-01"}, False),
    ({"origin": "hmt", "issued_on": "2008-07-31"}, True),
    ({"origin": "hmt", "issued_on": "2008-08-01"}, False),
    ({"origin": "sino_foreign", "issued_on": "2012-12-31"}, True),
    ({"origin": "sino_foreign", "issued_on": "2013-01-01"}, False),
    # Without the date, an old-style number's year: the cut-off's own year cannot be told apart.
    ({"certificate_no": "教留服认美[2005]00001号"}, True),
    ({"certificate_no": "教留服认美[2006]00001号"}, True),
    ({"certificate_no": "教留服认美[2010]00001号"}, False),
    ({"origin": "sino_foreign", "certificate_no": "教留服认合[2013]00001号"}, False),
    ({"certificate_no": "120190000001"}, False),
])
def test_old_certificates_are_those_the_handbook_names(filed, old):
    assert needs_archive(filed) is old


def test_an_old_certificate_has_the_longer_time_and_it_is_longer_than_two_weeks():
    overseas = filing_rule("edu_overseas_certificate")
    assert due_working_days_for(overseas, "education", {"certificate_no": "120190000001"}) == due_working_days("education")
    assert due_working_days_for(overseas, "education", {"issued_on": "2001-06-01"}) == ARCHIVE_WORKING_DAYS
    assert ARCHIVE_WORKING_DAYS > due_working_days("education")
    spouse = filing_rule("spouse_marriage_evidence")
    assert due_working_days_for(spouse, "housing", {"owner": "spouse", "issued_on": "2001-06-01"}) == \
        due_working_days("housing")


def test_the_reasons_left_out_of_filings_exist():
    from verifiers.filings import REASONS_NOT_FOR_FILINGS
    from verifiers.reasons import DECISION_REASONS

    assert REASONS_NOT_FOR_FILINGS <= {d.code for d in DECISION_REASONS}
