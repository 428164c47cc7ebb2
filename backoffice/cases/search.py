"""The worklists' one search box: what a term is, and the indexed predicate that finds it.

A term is read as exactly one kind, by its shape, so each search is one indexed predicate and
never an OR across kinds (an OR with a subquery made PostgreSQL walk the whole list in its
order, testing each case, issue 18 §4):

* four digits (the last may be X): the last four characters of the ID number, the stored
  ``review_cases.id_last4`` (ix_review_cases_id_last4, which also holds the lists' filters);
* ``2027-000123``: an application number (applications/score_views.application_number), the
  cases of that application (review_cases.application_id);
* anything else with a digit or a hyphen, which no name has: a case number
  (``2027-110105-000123``, the synthetic ``…-S000123``), on its unique index;
* anything else up to a name's length: the applicant's exact full name (ix_applicants_name,
  then applications by applicant and review_cases by application); part of a name finds
  nothing, and namesakes are all found.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import and_, false, select

from backoffice.applications.models import Applicant, Application
from backoffice.cases.models import ReviewCase

NAME_MAX = 64  # Applicant.name's length
NUMBER_MAX = 32  # ReviewCase.number's length
LAST4_RE = re.compile(r"^[0-9Xx]{4}$")
APPLICATION_RE = re.compile(r"^(\d{4})-(\d{1,12})$")
CASE_RE = re.compile(r"[0-9-]")  # a case number has them; a name has neither

LAST4, APPLICATION, CASE, NAME, NOTHING = "last4", "application", "case", "name", "nothing"


@dataclass(frozen=True)
class Term:
    kind: str
    value: str | tuple[int, int]


def parse(search: str | None) -> Term | None:
    """What the user typed, as one kind of search; None for an empty box."""
    term = (search or "").strip()
    if not term:
        return None
    if LAST4_RE.match(term):
        return Term(LAST4, term.upper())
    if match := APPLICATION_RE.match(term):
        return Term(APPLICATION, (int(match.group(1)), int(match.group(2))))
    if CASE_RE.search(term):
        return Term(CASE, term) if len(term) <= NUMBER_MAX else Term(NOTHING, term)
    if len(term) <= NAME_MAX:
        return Term(NAME, term)
    return Term(NOTHING, term)


def case_clause(search: str | None):
    """The cases the search box's text finds, as one WHERE clause on review_cases (None: no search)."""
    term = parse(search)
    if term is None:
        return None
    if term.kind == LAST4:
        return ReviewCase.id_last4 == term.value
    if term.kind == APPLICATION:
        year, application_id = term.value
        if application_id > 2**63 - 1:
            return false()
        return and_(ReviewCase.application_id == application_id, ReviewCase.year == year)
    if term.kind == CASE:
        return ReviewCase.number == term.value
    if term.kind == NAME:
        named = (select(Application.id).join(Applicant, Applicant.id == Application.applicant_id)
                 .where(Applicant.name == term.value))
        return ReviewCase.application_id.in_(named)
    return false()


def applicant_clause(search: str | None):
    """The applicants' list's search: the last four of the ID number or the exact full name."""
    term = parse(search)
    if term is None:
        return None
    if term.kind == LAST4:
        return Applicant.id_last4 == term.value
    if term.kind == NAME:
        return Applicant.name == term.value
    return false()
