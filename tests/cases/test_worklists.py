"""Worklists: order, filters, search, columns, capped count, menu badges, bulk actions."""
from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event, select, update

from backoffice.cases import admin as worklists
from backoffice.cases.clock import add_working_days
from backoffice.cases.models import CaseStatus, ReviewCase
from backoffice.extensions import db
from backoffice.turnaround.sql import beijing_today
from support import csrf_token_from

OWN, OTHER = "朝阳区", "海淀区"
TODAY = beijing_today()  # the worklists' day (cases/admin.py)


def _numbers(html: str) -> list[str]:
    return re.findall(r'data-testid="case-link">([^<]+)<', html)


def _case(make, number, received=None, status="open", district=OWN, **kw):
    case = make.case(district=district, number=number, received=received or TODAY - timedelta(days=3),
                     status="open" if status == "closed" else status, **kw)
    if status == "closed":
        from backoffice.core.db import utcnow

        case.status, case.closed_at = CaseStatus.closed, utcnow()
        db.session.flush()
    return case


@contextmanager
def statements():
    seen: list[str] = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listener)


@pytest.fixture
def reviewer(make):
    return make.staff("reviewer", OWN)


def test_oldest_due_first_and_closed_cases_leave_the_list(make, client_for, reviewer):
    _case(make, "W-LATE", received=TODAY - timedelta(days=1))
    _case(make, "W-EARLY", received=TODAY - timedelta(days=9))
    _case(make, "W-MIDDLE", received=TODAY - timedelta(days=5))
    _case(make, "W-CLOSED", received=TODAY - timedelta(days=20), status="closed")
    _case(make, "W-HAIDIAN", received=TODAY - timedelta(days=30), district=OTHER)
    db.session.commit()
    client = client_for(reviewer)
    html = client.get("/admin/queue_housing/").get_data(as_text=True)
    assert _numbers(html) == ["W-EARLY", "W-MIDDLE", "W-LATE"]
    closed = client.get("/admin/queue_housing/?flt0_status=closed").get_data(as_text=True)
    assert _numbers(closed) == ["W-CLOSED"]
    # Other queues' worklists do not list housing cases.
    assert _numbers(client.get("/admin/queue_education/").get_data(as_text=True)) == []


def test_columns_in_words_with_the_id_masked(make, client_for, reviewer):
    case = _case(make, "W-COLS")
    case.reason_code = "housing_listing_invalid"
    case.assignee_id = reviewer.id
    case.status = CaseStatus.in_review
    db.session.commit()
    html = client_for(reviewer).get("/admin/queue_housing/").get_data(as_text=True)
    applicant = case.application.applicant
    assert applicant.masked_id in html and applicant.id_number not in html
    assert "合法稳定住所：无效(房源无效)" in html
    assert reviewer.full_name in html and "审核中" in html
    assert case.received_on.isoformat() in html and case.due_date.isoformat() in html


def test_filters_assignee_due_reason(make, client_for, reviewer):
    colleague = make.staff("reviewer", OWN)
    mine = _case(make, "W-MINE")
    mine.assignee_id, mine.status = reviewer.id, CaseStatus.in_review
    theirs = _case(make, "W-THEIRS")
    theirs.assignee_id, theirs.status = colleague.id, CaseStatus.in_review
    overdue = _case(make, "W-OVERDUE", received=TODAY - timedelta(days=40))
    overdue.reason_code = "rental_needs_verification"
    soon = _case(make, "W-SOON")
    soon.due_date = add_working_days(TODAY, 1)
    waiting = _case(make, "W-WAITING", received=TODAY - timedelta(days=40), status="awaiting_materials")
    db.session.commit()
    client = client_for(reviewer)

    def numbers(query):
        return set(_numbers(client.get(f"/admin/queue_housing/?{query}").get_data(as_text=True)))

    assert numbers("flt0_assignee=me") == {"W-MINE"}
    assert numbers("flt0_assignee=unassigned") == {"W-OVERDUE", "W-SOON", "W-WAITING"}
    assert numbers("flt0_assignee=anyone") == {"W-MINE", "W-THEIRS", "W-OVERDUE", "W-SOON", "W-WAITING"}
    # The clock stands still while a case waits for materials: not overdue.
    assert numbers("flt0_due=overdue") == {"W-OVERDUE"}
    assert "W-SOON" in numbers("flt0_due=soon") and "W-OVERDUE" not in numbers("flt0_due=soon")
    assert numbers("flt0_reason=rental_needs_verification") == {"W-OVERDUE"}
    assert numbers("flt0_status=awaiting_materials") == {"W-WAITING"}
    assert numbers("flt0_assignee=unassigned&flt1_due=overdue") == {"W-OVERDUE"}
    # Paused, it is listed as waiting for materials, without the overdue mark its age would earn.
    paused = client.get("/admin/queue_housing/?flt0_status=awaiting_materials").get_data(as_text=True)
    row = paused[paused.index(f'>{waiting.number}<'):]
    row = row[:row.index("</tr>")]
    assert "待补正材料" in row and "已超期" not in row
    # A value that is not an option is ignored with a message, never an error page.
    assert client.get("/admin/queue_housing/?flt0_due=someday").status_code == 200
    assert client.get("/admin/queue_settlement/?flt0_reason=x").status_code == 200


def test_district_filter_only_for_city_level(make, client_for, reviewer):
    _case(make, "W-CY")
    _case(make, "W-HD", district=OTHER)
    city = make.staff("supervisor", None)
    db.session.commit()
    city_client = client_for(city)
    assert set(_numbers(city_client.get("/admin/queue_housing/").get_data(as_text=True))) >= {"W-CY", "W-HD"}
    haidian_code = make.district(OTHER).code
    only_hd = _numbers(city_client.get(f"/admin/queue_housing/?flt0_district={haidian_code}").get_data(as_text=True))
    assert "W-HD" in only_hd and "W-CY" not in only_hd
    assert '"district"' in city_client.get("/admin/queue_housing/").get_data(as_text=True)
    # A district user is offered no district filter, and forcing one shows nothing of another district.
    client = client_for(reviewer)
    assert "flt0_district" not in client.get("/admin/queue_housing/").get_data(as_text=True)
    forced = client.get(f"/admin/queue_housing/?flt0_district={haidian_code}").get_data(as_text=True)
    assert _numbers(forced) == []


def test_search_by_case_number_or_last_four_of_the_id(make, client_for, reviewer):
    target = _case(make, "W-FIND-ME")
    _case(make, "W-OTHER")
    foreign = _case(make, "W-FOREIGN", district=OTHER)
    db.session.commit()
    client = client_for(reviewer)
    assert _numbers(client.get("/admin/queue_housing/?search=W-FIND-ME").get_data(as_text=True)) == ["W-FIND-ME"]
    last4 = target.application.applicant.id_last4
    found = _numbers(client.get(f"/admin/queue_housing/?search={last4}").get_data(as_text=True))
    assert "W-FIND-ME" in found and "W-FOREIGN" not in found
    assert _numbers(client.get("/admin/queue_housing/?search=W-FOREIGN").get_data(as_text=True)) == []
    # The other district's applicant is not found by their last four digits either …
    foreign_last4 = foreign.application.applicant.id_last4
    assert "W-FOREIGN" not in _numbers(client.get(f"/admin/queue_housing/?search={foreign_last4}").get_data(as_text=True))
    # … while a city-level supervisor finds them that way.
    city = client_for(make.staff("supervisor", None))
    assert "W-FOREIGN" in _numbers(city.get(f"/admin/queue_housing/?search={foreign_last4}").get_data(as_text=True))


def test_search_by_the_applicants_exact_full_name(make, client_for, reviewer):
    """Exact full name: every case of that applicant and of namesakes in the district, none
    for part of a name, none of another district's namesake."""
    wang = make.applicant(name="王建国")
    namesake = make.applicant(name="王建国")
    other = make.applicant(name="王建")
    _case(make, "W-NAME-1", application=make.application(OWN, applicant=wang))
    _case(make, "W-NAME-2", application=make.application(OWN, applicant=namesake))
    _case(make, "W-NAME-3", application=make.application(OWN, applicant=other))
    _case(make, "W-NAME-4", district=OTHER, application=make.application(OTHER, applicant=make.applicant(name="王建国")))
    db.session.commit()
    client = client_for(reviewer)
    found = _numbers(client.get("/admin/queue_housing/?search=王建国").get_data(as_text=True))
    assert sorted(found) == ["W-NAME-1", "W-NAME-2"]
    assert _numbers(client.get("/admin/queue_housing/?search= 王建国 ").get_data(as_text=True)) == found
    assert _numbers(client.get("/admin/queue_housing/?search=王").get_data(as_text=True)) == []
    assert _numbers(client.get("/admin/cases/?search=王建").get_data(as_text=True)) == ["W-NAME-3"]
    city = client_for(make.staff("supervisor", None))
    assert "W-NAME-4" in _numbers(city.get("/admin/queue_housing/?search=王建国").get_data(as_text=True))


def test_the_count_is_capped_and_the_page_is_one_query(make, client_for, reviewer, monkeypatch):
    for i in range(25):
        _case(make, f"W-MANY-{i:02d}", received=TODAY - timedelta(days=i % 9))
    db.session.commit()
    client = client_for(reviewer)
    with statements() as seen:
        html = client.get("/admin/queue_housing/?page_size=20").get_data(as_text=True)
    assert re.search(r"\(25\)", html)
    case_selects = [s for s in seen if "FROM review_cases" in s and "GROUP BY" not in s]
    # The count (bounded by LIMIT) and the page with its applicants and assignees: no per-row queries.
    assert len(case_selects) == 2, case_selects
    count_sql = next(s for s in case_selects if "count(" in s.lower())
    assert "LIMIT" in count_sql.upper()

    monkeypatch.setattr(worklists, "COUNT_LOOKAHEAD_PAGES", 0)
    capped = client.get("/admin/queue_housing/?page_size=20").get_data(as_text=True)
    assert re.search(r"\(20\+\)", capped)
    assert len(_numbers(capped)) == 20
    second_page = _numbers(client.get("/admin/queue_housing/?page_size=20&page=1").get_data(as_text=True))
    assert len(second_page) == 5 and not set(second_page) & set(_numbers(capped))


def test_menu_badges_count_open_cases_of_the_district_in_one_query(make, client_for, reviewer):
    for i in range(3):
        _case(make, f"W-B-H{i}")
    _case(make, "W-B-E", queue="education")
    _case(make, "W-B-CLOSED", status="closed")
    _case(make, "W-B-HD", district=OTHER)
    db.session.commit()
    client = client_for(reviewer)
    with statements() as seen:
        html = client.get("/admin/").get_data(as_text=True)
    assert re.search(r'data-testid="badge-housing">3<', html)
    assert re.search(r'data-testid="badge-education">1<', html)
    assert 'data-testid="badge-tips"' not in html
    grouped = [s for s in seen if "GROUP BY review_cases.queue" in s]
    assert len(grouped) == 1, "the home page and the menu share one grouped count"
    # English menu: same badges, translated labels.
    assert 'badge-appeals' not in html  # no open appeals: no badge


def test_menu_badges_are_kept_for_a_while_and_counted_afresh_on_home_and_after_an_action(
        app, make, client_for, reviewer, monkeypatch):
    """The badge cache as production runs it (it is off under test unless switched on)."""
    monkeypatch.setitem(app.config, "QUEUE_BADGE_TTL", worklists.BADGE_TTL_SECONDS)
    worklists.forget_queue_counts()
    first = _case(make, "W-K-1")
    _case(make, "W-K-2")
    db.session.commit()
    client = client_for(reviewer)

    def badge(html):
        return int(re.search(r'data-testid="badge-housing">(\d+)<', html).group(1))

    assert badge(client.get("/admin/queue_housing/").get_data(as_text=True)) == 2
    # A case arrives behind this process's back (another process, an intake): the menu keeps its count …
    _case(make, "W-K-3")
    db.session.commit()
    with statements() as seen:
        html = client.get("/admin/queue_housing/").get_data(as_text=True)
    assert badge(html) == 2 and "W-K-3" in _numbers(html)  # the list itself is always current
    assert not [s for s in seen if "GROUP BY review_cases.queue" in s], "the kept count is not recounted"
    # … the home page counts afresh, and the menu shows that count from then on …
    assert badge(client.get("/admin/").get_data(as_text=True)) == 3
    _case(make, "W-K-4")
    db.session.commit()
    assert badge(client.get("/admin/queue_housing/").get_data(as_text=True)) == 3
    # … and an action on a case in this process drops the kept counts: the next page counts again.
    page = client.get(f"/admin/case/{first.id}/").get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    assert client.post(f"/admin/case/{first.id}/claim",
                       data={"csrf_token": csrf_token_from(page), "version": version}).status_code == 302
    assert badge(client.get("/admin/queue_housing/").get_data(as_text=True)) == 4
    worklists.forget_queue_counts()


def test_tips_stay_out_of_the_all_cases_list(make, client_for, reviewer):
    _case(make, "W-TIP", queue="tips", kind="tip")
    _case(make, "W-PLAIN")
    db.session.commit()
    html = client_for(reviewer).get("/admin/cases/").get_data(as_text=True)
    assert "W-PLAIN" in html and "W-TIP" not in html


# Bulk actions ---------------------------------------------------------------------------

def _row_versions(page: str) -> dict[str, str]:
    """What a browser sends with the bulk actions' form: each listed row's version input."""
    return dict(re.findall(r'<input type="hidden" form="action_form" name="(version-\d+)" value="(\d+)">', page))


def _action(client, endpoint, action, ids, *, send_versions=True):
    page = client.get(f"/admin/{endpoint}/").get_data(as_text=True)
    return client.post(f"/admin/{endpoint}/action/", data={
        "csrf_token": csrf_token_from(page), "action": action, "rowid": [str(i) for i in ids],
        **(_row_versions(page) if send_versions else {}),
    })


def test_bulk_reassign_needs_a_supervisor_and_a_reason(make, client_for, reviewer):
    supervisor = make.staff("supervisor", OWN)
    cases = [_case(make, f"W-R{i}") for i in range(3)]
    db.session.commit()
    ids = [c.id for c in cases]
    # Reviewers are not offered the action, and the page refuses them.
    reviewer_client = client_for(reviewer)
    assert "reassign" not in reviewer_client.get("/admin/queue_housing/").get_data(as_text=True)
    assert reviewer_client.get(f"/admin/case/bulk/reassign?ids={ids[0]}").status_code == 403

    client = client_for(supervisor)
    response = _action(client, "queue_housing", "reassign", ids)
    assert response.status_code == 302 and "/admin/case/bulk/reassign" in response.location
    form = client.get(response.location).get_data(as_text=True)
    token = csrf_token_from(form)
    data = {"csrf_token": token, "ids": ",".join(map(str, ids)), "assignee_id": str(reviewer.id), "reason": ""}
    data.update({f"version-{c.id}": str(c.version) for c in cases})
    # Refused: back to the page (post/redirect/get) with the message and what was chosen, once.
    refused = client.post("/admin/case/bulk/reassign", data=data)
    assert refused.status_code == 302 and "/admin/case/bulk/reassign?" in refused.location
    again = client.get(refused.location)
    body = again.get_data(as_text=True)
    assert again.status_code == 200 and "请填写改派理由" in body and 'data-testid="error-reason"' in body
    assert f'<option value="{reviewer.id}" selected>' in body
    assert all(f'name="version-{c.id}"' in body for c in cases)
    reloaded = client.get(refused.location).get_data(as_text=True)  # Back or reload: the page, not the refusal
    assert "请填写改派理由" not in reloaded
    db.session.expire_all()
    assert all(c.assignee_id is None for c in cases)

    data["reason"] = "按工作量分配"
    assert client.post("/admin/case/bulk/reassign", data=data).status_code == 302
    db.session.expire_all()
    assert {c.assignee_id for c in cases} == {reviewer.id}
    assert {c.status for c in cases} == {CaseStatus.in_review}


def test_a_stale_bulk_reassign_comes_back_with_the_cases_as_they_are_now(make, client_for, reviewer):
    from backoffice.cases import services

    supervisor = make.staff("supervisor", OWN)
    colleague = make.staff("reviewer", OWN)
    cases = [_case(make, f"W-S{i}") for i in range(2)]
    db.session.commit()
    client = client_for(supervisor)
    ids = ",".join(str(c.id) for c in cases)
    page = client.get(f"/admin/case/bulk/reassign?ids={ids}").get_data(as_text=True)
    data = {"csrf_token": csrf_token_from(page), "ids": ids, "assignee_id": str(colleague.id),
            "reason": "按工作量分配", **{f"version-{c.id}": str(c.version) for c in cases}}
    services.claim(cases[0], actor=reviewer, version=cases[0].version)  # meanwhile, at another desk
    db.session.commit()
    refused = client.post("/admin/case/bulk/reassign", data=data)
    assert refused.status_code == 302
    body = client.get(refused.location).get_data(as_text=True)
    assert "该案件已被他人处理" in body and "按工作量分配" in body  # the message, and what was typed
    assert f'name="version-{cases[0].id}" value="{cases[0].version}"' in body  # as the page now shows it
    db.session.expire_all()
    assert cases[0].assignee_id == reviewer.id and cases[1].assignee_id is None
    # Sending what the page now shows goes through.
    resend = {**data, **{f"version-{c.id}": v for c, v in zip(cases, re.findall(r'name="version-\d+" value="(\d+)"', body))}}
    assert client.post("/admin/case/bulk/reassign", data=resend).status_code == 302
    db.session.expire_all()
    assert {c.assignee_id for c in cases} == {colleague.id}


def test_bulk_decide_requires_reason_and_note_on_the_server(make, client_for, reviewer):
    cases = [_case(make, f"W-D{i}") for i in range(2)]
    for c in cases:
        c.assignee_id, c.status = reviewer.id, CaseStatus.in_review
    db.session.commit()
    client = client_for(reviewer)
    response = _action(client, "queue_housing", "decide", [c.id for c in cases])
    form_page = client.get(response.location).get_data(as_text=True)
    base = {"csrf_token": csrf_token_from(form_page), "ids": ",".join(str(c.id) for c in cases)}
    base.update({f"version-{c.id}": str(c.version) for c in cases})
    # Neither reason nor note (a hand-made POST: the browser form is not the guard).
    refused = client.post("/admin/case/bulk/decide", data=dict(base, outcome="rejected", reason_code="", note=""))
    assert refused.status_code == 302 and "/admin/case/bulk/decide?" in refused.location
    assert 'data-testid="action-error"' in client.get(refused.location).get_data(as_text=True)
    db.session.expire_all()
    assert all(c.status == CaseStatus.in_review and not c.decisions for c in cases)
    no_note = client.post("/admin/case/bulk/decide",
                          data=dict(base, outcome="rejected", reason_code="materials_mismatch", note=" "))
    assert no_note.status_code == 302
    page = client.get(no_note.location).get_data(as_text=True)
    assert 'data-testid="error-note"' in page
    assert '<option value="materials_mismatch" selected>' in page  # the choice is kept
    assert 'value="rejected" checked' in page
    ok = client.post("/admin/case/bulk/decide",
                     data=dict(base, outcome="rejected", reason_code="materials_mismatch", note="与登记信息不符"))
    assert ok.status_code == 302
    db.session.expire_all()
    assert all(c.status == CaseStatus.closed for c in cases)
    assert [c.decisions[0].note for c in cases] == ["与登记信息不符"] * 2


def test_bulk_decide_is_offered_only_for_cases_the_user_can_decide(make, client_for, reviewer):
    mine = _case(make, "W-MINE")
    mine.assignee_id, mine.status = reviewer.id, CaseStatus.in_review
    unclaimed = _case(make, "W-UNCLAIMED")
    theirs = _case(make, "W-THEIRS")
    colleague = make.staff("reviewer", OWN)
    theirs.assignee_id, theirs.status = colleague.id, CaseStatus.in_review
    db.session.commit()
    # The colleague's list shows their case: decide is offered; a list with none of one's own is not.
    assert "execute('decide')" in client_for(colleague).get("/admin/queue_housing/").get_data(as_text=True)
    assert "execute('decide')" not in client_for(colleague).get(
        "/admin/queue_housing/?search=W-UNCLAIMED").get_data(as_text=True)
    client = client_for(reviewer)
    assert "execute('decide')" in client.get("/admin/queue_housing/").get_data(as_text=True)
    response = _action(client, "queue_housing", "decide", [mine.id, unclaimed.id, theirs.id])
    page = client.get(response.location).get_data(as_text=True)
    offered = re.findall(r'name="version-(\d+)"', page)
    assert offered == [str(mine.id)]
    left_out = page[page.index('data-testid="left-out"'):]
    assert "W-UNCLAIMED" in left_out and "W-THEIRS" in left_out
    # Posting the three decides the user's own case only.
    data = {"csrf_token": csrf_token_from(page), "ids": ",".join(str(c.id) for c in (mine, unclaimed, theirs)),
            "outcome": "rejected", "reason_code": "materials_mismatch", "note": "与登记信息不符",
            **{f"version-{c.id}": str(c.version) for c in (mine, unclaimed, theirs)}}
    assert client.post("/admin/case/bulk/decide", data=data).status_code == 302
    db.session.expire_all()
    assert mine.status == CaseStatus.closed
    assert unclaimed.status == CaseStatus.open and theirs.status == CaseStatus.in_review


def test_bulk_claim_from_the_worklist(make, client_for, reviewer):
    cases = [_case(make, f"W-C{i}") for i in range(2)]
    taken = _case(make, "W-C-TAKEN")
    other = make.staff("reviewer", OWN)
    taken.assignee_id, taken.status = other.id, CaseStatus.in_review
    db.session.commit()
    client = client_for(reviewer)
    # One of them is someone else's: nothing is claimed, and the message says why.
    response = _action(client, "queue_housing", "claim", [c.id for c in cases] + [taken.id])
    assert response.status_code == 302
    db.session.expire_all()
    assert all(c.assignee_id is None for c in cases)
    assert "他人" in client.get(response.location).get_data(as_text=True)
    _action(client, "queue_housing", "claim", [c.id for c in cases])
    db.session.expire_all()
    assert {c.assignee_id for c in cases} == {reviewer.id}
    assert db.session.scalar(select(ReviewCase.assignee_id).where(ReviewCase.id == taken.id)) == other.id


def test_bulk_claim_needs_the_versions_the_rows_were_shown_at(make, client_for, reviewer):
    cases = [_case(make, f"W-V{i}") for i in range(2)]
    db.session.commit()
    client = client_for(reviewer)
    # Without the rows' versions nothing is claimed, and the page says why in words.
    response = _action(client, "queue_housing", "claim", [c.id for c in cases], send_versions=False)
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    assert "表单缺少案件版本" in page and "nothing was saved" not in page  # Chinese page, Chinese message (no pair)
    db.session.expire_all()
    assert all(c.assignee_id is None and c.status == CaseStatus.open for c in cases)
    # A row that changed after the list was shown is refused as stale: nothing is claimed.
    page = client.get("/admin/queue_housing/").get_data(as_text=True)
    versions = _row_versions(page)
    assert versions[f"version-{cases[0].id}"] == str(cases[0].version)
    db.session.execute(update(ReviewCase).where(ReviewCase.id == cases[0].id)
                       .values(version=ReviewCase.version + 1))
    db.session.commit()
    stale = client.post("/admin/queue_housing/action/", data={
        "csrf_token": csrf_token_from(page), "action": "claim", "rowid": [str(c.id) for c in cases], **versions})
    assert "已被他人处理" in client.get(stale.location).get_data(as_text=True)
    db.session.expire_all()
    assert all(c.assignee_id is None for c in cases)


def test_deep_pages_list_the_same_cases_in_the_same_order(make, client_for, reviewer, monkeypatch):
    for i in range(30):
        _case(make, f"W-DEEP-{i:02d}", received=TODAY - timedelta(days=i % 4))
    db.session.commit()
    client = client_for(reviewer)

    def pages():
        return [_numbers(client.get(f"/admin/queue_housing/?page_size=20&page={p}").get_data(as_text=True))
                for p in (0, 1)]

    shallow = pages()
    monkeypatch.setattr(worklists, "DEFERRED_JOIN_OFFSET", 0)  # every page by ids first
    assert pages() == shallow
    assert sorted(shallow[0] + shallow[1]) == sorted(f"W-DEEP-{i:02d}" for i in range(30))
