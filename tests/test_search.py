"""The worklists' one search box (backoffice/cases/search.py): each kind of term finds its
cases and no others, within the user's district; the box says what it understands; on
PostgreSQL the last-four search and its count read an index, not every case."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import event, text

from backoffice.cases.search import APPLICATION, CASE, LAST4, NAME, NOTHING, parse
from backoffice.extensions import db

OWN, OTHER = "朝阳区", "海淀区"


def _numbers(html: str) -> list[str]:
    return re.findall(r'data-testid="case-link">([^<]+)<', html)


def _found(client, term: str, view: str = "queue_housing") -> list[str]:
    answer = client.get(f"/admin/{view}/", query_string={"search": term})
    assert answer.status_code == 200
    return sorted(_numbers(answer.get_data(as_text=True)))


@pytest.fixture
def cases(make):
    """Two applicants of the district with a case each (different last four, names, applications),
    and a third in another district."""
    zhang = make.applicant(name="张卫东")
    li = make.applicant(name="李秀英")
    foreign = make.applicant(name="赵海")
    assert len({zhang.id_last4, li.id_last4, foreign.id_last4}) == 3
    found = {
        "zhang": make.case(application=make.application(OWN, applicant=zhang), number="2021-110105-000101"),
        "li": make.case(application=make.application(OWN, applicant=li), number="2021-110105-000102"),
        "foreign": make.case(application=make.application(OTHER, applicant=foreign), district=OTHER,
                             number="2021-110108-000103"),
    }
    db.session.commit()
    return found


def _application_number(case) -> str:
    return f"{case.application.year}-{case.application.id:06d}"


def test_a_new_case_carries_its_applicants_last_four(cases):
    for case in cases.values():
        assert case.id_last4 == case.application.applicant.id_last4


def test_terms_are_read_by_their_shape():
    assert parse("  ") is None
    assert parse("123x") == parse("123X") and parse("123x").kind == LAST4 and parse("123x").value == "123X"
    assert parse("2021-000123").kind == APPLICATION and parse("2021-000123").value == (2021, 123)
    assert parse("2021-110105-000123").kind == CASE
    assert parse("2021-110105-S000123").kind == CASE
    assert parse(" 王建国 ").kind == NAME and parse(" 王建国 ").value == "王建国"
    assert parse("王" * 65).kind == NOTHING


def test_each_kind_of_search_finds_its_case_and_no_other(make, client_for, cases):
    zhang, li = cases["zhang"], cases["li"]
    client = client_for(make.staff("reviewer", OWN))
    assert _found(client, "") == sorted([zhang.number, li.number])
    assert _found(client, zhang.id_last4) == [zhang.number]
    assert _found(client, li.id_last4.lower()) == [li.number]
    assert _found(client, _application_number(zhang)) == [zhang.number]
    # The application's id under another year is another application.
    assert _found(client, f"{zhang.application.year + 1}-{zhang.application.id:06d}") == []
    assert _found(client, zhang.number) == [zhang.number]
    assert _found(client, "张卫东") == [zhang.number]
    assert _found(client, " 李秀英 ") == [li.number]
    # Exact only: part of a name or of a number finds nothing.
    assert _found(client, "张卫") == []
    assert _found(client, "2021-110105") == []
    # The all-cases list searches the same way.
    assert _found(client, zhang.id_last4, view="cases") == [zhang.number]


def test_search_keeps_to_the_users_district(make, client_for, cases):
    foreign = cases["foreign"]
    terms = [foreign.id_last4, _application_number(foreign), foreign.number, "赵海"]
    reviewer = client_for(make.staff("reviewer", OWN))
    for term in terms:
        assert _found(reviewer, term) == [], term
    city = client_for(make.staff("supervisor", None))
    for term in terms:
        assert _found(city, term) == [foreign.number], term


@pytest.mark.parametrize("locale, hint", [
    ("zh_Hans_CN", "身份证号后4位、申请编号（如2027-000123）、案件编号或申请人全名"),
    ("en", "Last 4 of the ID number, application no. (e.g. 2027-000123), case no. or full name"),
])
def test_the_search_box_says_what_it_understands(make, client_for, locale, hint):
    staff = make.staff("reviewer", OWN)
    staff.locale = locale
    db.session.commit()
    html = client_for(staff).get("/admin/queue_housing/").get_data(as_text=True)
    assert f'placeholder="{hint}"' in html


def test_on_postgresql_the_last_four_search_and_its_count_use_an_index(make, client_for, cases):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the plan is PostgreSQL's")
    zhang = cases["zhang"]
    # Enough cases for the planner to prefer an index: 20 000 of one application, their last
    # four spread over 10 000 values (one SQL statement).
    db.session.execute(text(
        "INSERT INTO review_cases (number, year, application_id, id_last4, queue, kind, district_id, status,"
        " received_on, due_date, created_at, version)"
        " SELECT 'BULK-' || g, c.year, c.application_id, lpad((g % 10000)::text, 4, '0'), 'housing', 'review',"
        " c.district_id, 'open', c.received_on, c.due_date, c.created_at, 1"
        " FROM generate_series(1, 20000) AS g, review_cases AS c WHERE c.id = :id"), {"id": zhang.id})
    db.session.execute(text("ANALYZE review_cases"))
    db.session.commit()
    seen: list[tuple[str, object]] = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        if "FROM review_cases" in statement and "review_cases.id_last4 = " in statement:
            seen.append((statement, parameters))

    for staff in (make.staff("reviewer", OWN), make.staff("supervisor", None)):
        client = client_for(staff)
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert zhang.number in _found(client, zhang.id_last4)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
    assert any("count(" in s.lower() for s, _p in seen), seen
    for statement, parameters in seen:
        # The test's own connection: the rows and their statistics are in its transaction.
        result = db.session.connection().exec_driver_sql("EXPLAIN " + statement, parameters)
        plan = "\n".join(r[0] for r in result)
        assert "ix_review_cases_id_last4" in plan, plan
        assert not re.search(r"Seq Scan on review_cases", plan), plan


def test_the_applicants_list_finds_by_last_four_or_exact_name(make, client_for, cases):
    zhang = cases["zhang"].application.applicant
    client = client_for(make.staff("supervisor", None))

    def names(term):
        html = client.get("/admin/applicants/", query_string={"search": term}).get_data(as_text=True)
        return {n for n in ("张卫东", "李秀英", "赵海") if n in html}

    assert names(zhang.id_last4) == {"张卫东"}
    assert names("李秀英") == {"李秀英"}
    assert names("李秀") == set()
    html = client.get("/admin/applicants/").get_data(as_text=True)
    assert 'placeholder="身份证号后4位或申请人全名"' in html
