"""Each person's work in the browser: every role's home page, the next-case flow with a
failed submit and Back, and the rescoring hint turning into the new total after a
countersignature (the rescoring job run by a burst SimpleWorker, as tests/browser/test_review_flow.py
does). Screenshots go to test-artifacts/."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

ROLES = (  # login, what the home page must show
    ("reviewer", ("inbox-mine",)),
    ("supervisor", ("inbox-mine", "inbox-countersign", "inbox-escalations")),
    ("investigator", ("inbox-tips",)),
    ("supervisor_city", ("inbox-mine", "inbox-countersign", "inbox-escalations", "city-lists")),
    ("approver", ("city-lists",)),
    ("admin", ("city-lists",)),
)


def _db(live_app, fn):
    from backoffice.extensions import db

    with live_app.app_context():
        try:
            return fn(db.session)
        finally:
            db.session.remove()


def _context(browser, width=1366):
    return browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")


@pytest.mark.parametrize("login,sections", ROLES, ids=[r[0] for r in ROLES])
def test_each_roles_home_page_shows_their_work(browser, live_server, artifacts, sign_in, login, sections):
    context = _context(browser)
    page = context.new_page()
    sign_in(page, live_server, login)
    header = page.get_by_test_id("gov-header")
    assert "北京市人力资源和社会保障局" in header.inner_text()
    assert page.get_by_test_id("environment").get_attribute("data-env") in ("demo", "test", "production")
    assert re.search(r"\d+\.\d+", page.get_by_test_id("version").inner_text())
    for section in sections:
        assert page.get_by_test_id(section).is_visible(), (login, section)
    for absent in {"inbox-mine", "inbox-countersign", "inbox-escalations", "inbox-tips"} - set(sections):
        assert page.get_by_test_id(absent).count() == 0, (login, absent)
    if login == "investigator":
        # The demo's open tips (announcement), each linking to the tip workspace.
        links = page.locator("[data-testid=tips-table] a[data-testid=inbox-case-link]")
        assert links.count() > 0
        assert "/admin/tip/" in links.first.get_attribute("href")
    if login == "supervisor_city":
        assert page.get_by_test_id("city-list-announcement").is_visible()
    # The page fits 1366 px: nothing scrolls sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    page.screenshot(path=str(artifacts / f"home-{login}.png"), full_page=True)
    context.close()


def _one_line(page, selector: str) -> list[str]:
    """The cells matching `selector` whose text takes more than one line."""
    return page.evaluate("""(sel) => Array.from(document.querySelectorAll(sel)).filter(td => {
        const range = document.createRange();
        range.selectNodeContents(td);
        const tops = Array.from(range.getClientRects()).filter(r => r.width > 0).map(r => Math.round(r.top));
        return tops.length && (Math.max(...tops) - Math.min(...tops)) > 4;
    }).map(td => td.innerText)""", selector)


def _next_expected(live_app, username: str, queue: str, after_id: int):
    from backoffice.cases.inbox import next_case
    from backoffice.cases.models import ReviewCase
    from backoffice.staff.models import Staff

    def find(session):
        user = session.scalar(select(Staff).where(Staff.username == username))
        following = next_case(user, queue, after=session.get(ReviewCase, after_id))
        return following.id if following is not None else None

    return _db(live_app, find)


def _fullest_unclaimed_queue(live_app, district_name: str) -> str:
    """The applicants' review queue with the most unclaimed open cases of the district (at least
    two: one to decide, one to be next)."""
    from sqlalchemy import func

    from backoffice.cases.models import CaseStatus, ReviewCase
    from backoffice.reference.models import District

    def count(session):
        district = session.scalar(select(District.id).where(District.name == district_name))
        return dict(session.execute(
            select(ReviewCase.queue, func.count()).where(
                ReviewCase.district_id == district, ReviewCase.status == CaseStatus.open,
                ReviewCase.queue.in_(("housing", "education", "awards", "tax", "appeals")))
            .group_by(ReviewCase.queue)).all())

    counts = _db(live_app, count)
    others = {q: n for q, n in counts.items() if q != "housing" and n >= 2}
    queue, n = max((others or counts).items(), key=lambda item: item[1])
    assert n >= 2, counts
    return queue


def test_next_case_flow_with_a_failed_submit_and_back(browser, live_server, live_app, artifacts, sign_in):
    """朝阳's reviewer takes a case from the review queue with the most unclaimed cases (housing
    left to test_review_flow where another will do), fails a submit (no note, then a note too long), goes Back without being asked
    to resubmit, decides, and 办理下一件 opens the next case of the queue in due order."""
    context = _context(browser)
    page = context.new_page()
    sign_in(page, live_server, "reviewer")
    queue = _fullest_unclaimed_queue(live_app, "朝阳区")
    page.click(f"[data-testid=my-queues] tr[data-queue={queue}] a")
    page.wait_for_url(re.compile(rf".*/admin/queue_{queue}/.*"))
    # The queue at 1366 px: the table fits and no date wraps.
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    assert _one_line(page, "table.model-list td.col-due_date, table.model-list td.col-received_on") == []
    page.screenshot(path=str(artifacts / "worklist-1366.png"), full_page=True)

    # The first case nobody has claimed (other browser tests of the session claim some).
    page.goto(f"{live_server}/admin/queue_{queue}/?flt0_assignee=unassigned&flt1_status=open")
    page.locator("a[data-testid=case-link]").first.click()
    page.wait_for_url(re.compile(r".*/admin/case/\d+/$"))
    case_url = page.url
    case_id = int(re.search(r"/admin/case/(\d+)/", case_url).group(1))
    page.click("[data-testid=claim]")
    page.wait_for_load_state()
    assert page.get_by_test_id("case-assignee").inner_text() == "朝阳审核员"

    # A failed submit: no note. The answer is a redirect back to the case (post/redirect/get).
    page.check("[data-testid=outcome-rejected]")
    reason = page.locator("#reason_code option[data-outcome=rejected]").first.get_attribute("value")
    page.select_option("[data-testid=reason]", reason)
    with page.expect_navigation() as navigation:
        page.click("[data-testid=decide]")
    assert navigation.value.request.method == "GET" and navigation.value.status == 200
    assert navigation.value.request.redirected_from is not None
    assert navigation.value.request.redirected_from.method == "POST"
    assert page.url == case_url
    assert page.get_by_test_id("error-note").is_visible()
    assert page.is_checked("[data-testid=outcome-rejected]")  # what was chosen is kept
    page.screenshot(path=str(artifacts / "workspace-failed-submit.png"), full_page=True)

    # Back: the previous page of the case, fetched again with GET; no resubmission asked.
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    response = page.go_back()
    assert response is not None and response.request.method == "GET" and response.status == 200
    assert page.url == case_url and not dialogs
    assert page.get_by_test_id("decision-form").is_visible()
    assert page.get_by_test_id("action-error").count() == 0  # the error was shown once
    page.screenshot(path=str(artifacts / "workspace-after-back.png"), full_page=True)
    page.go_forward()
    assert page.url == case_url and not dialogs

    # A note past the limit: the counter says so, the server refuses it and nothing is cut off.
    long_note = "材料与登记信息不符。" * 210  # 2 100 characters
    page.check("[data-testid=outcome-rejected]")
    page.select_option("[data-testid=reason]", reason)
    page.fill("[data-testid=note]", long_note)
    counter = page.get_by_test_id("note-counter")
    assert counter.inner_text().startswith("2100 / 2000") and "over" in counter.get_attribute("class")
    page.click("[data-testid=decide]")
    page.wait_for_load_state()
    assert page.url == case_url
    assert "2000" in page.get_by_test_id("error-note").inner_text()
    assert page.input_value("[data-testid=note]") == long_note  # kept whole
    page.screenshot(path=str(artifacts / "workspace-note-too-long.png"), full_page=True)

    page.fill("[data-testid=note]", "经核对，材料与登记信息不符，不予支持。")
    assert page.get_by_test_id("note-counter").inner_text() == "19 / 2000"
    page.click("[data-testid=decide]")
    page.wait_for_load_state()
    assert page.get_by_test_id("case-status").inner_text() == "已办结"
    # Closed: the decision is shown, not a greyed-out form.
    assert page.get_by_test_id("final-decision").is_visible()
    assert page.get_by_test_id("decision-form").count() == 0
    assert "不予支持" in page.get_by_test_id("final-outcome").inner_text()

    expected = _next_expected(live_app, "reviewer", queue, case_id)
    assert expected is not None and expected != case_id
    page.screenshot(path=str(artifacts / "workspace-decided-next.png"), full_page=True)
    page.click("[data-testid=next-case]")
    page.wait_for_url(re.compile(rf".*/admin/case/{expected}/$"))
    assert page.get_by_test_id("case-number").is_visible()
    page.screenshot(path=str(artifacts / "workspace-next-case.png"), full_page=True)
    context.close()


def _process_outbox(live_app, case_id):
    """Deliver the case's rescoring request to RQ (the live server may have pushed it after its
    commit) and run it in-process with a burst SimpleWorker (queues/relay.py, queues/jobs.py)."""
    from rq import Queue, SimpleWorker

    from backoffice.cases.models import Decision
    from backoffice.outbox.models import OutboxMessage
    from queues import jobs
    from queues.relay import deliver, relay_client, relay_engine

    settings = live_app.config["BACKOFFICE"]

    def rows(session):
        decision_ids = session.scalars(select(Decision.id).where(Decision.case_id == case_id)).all()
        found = [r for r in session.scalars(select(OutboxMessage).where(OutboxMessage.topic == "rescore_application"))
                 if r.payload.get("decision_id") in decision_ids]
        return [(r.id, r.delivered_at is not None) for r in found]

    found = _db(live_app, rows)
    assert len(found) == 1, found
    row_id, delivered = found[0]
    connection = relay_client(settings)
    if not delivered:
        assert deliver(relay_engine(settings), connection, settings, ids=[row_id]).delivered == 1
    jobs.bind_app(live_app)
    try:
        worker = SimpleWorker([Queue(jobs.queue_name(settings, "rescore"), connection=connection)],
                              connection=connection)
        worker.work(burst=True, with_scheduler=False)
    finally:
        jobs.bind_app(None)


def _upholdable_case(live_app):
    """An open 朝阳 review case whose materials all have a file, taken from the end of the due
    order (test_review_flow takes the housing queue's first)."""
    from backoffice.cases import services
    from backoffice.cases.models import CaseStatus, ReviewCase
    from backoffice.reference.models import District

    def find(session):
        district = session.scalar(select(District.id).where(District.name == "朝阳区"))
        cases = session.scalars(select(ReviewCase).where(
            ReviewCase.district_id == district, ReviewCase.status == CaseStatus.open,
            ReviewCase.queue.in_(("housing", "education")), ReviewCase.assignee_id.is_(None),
        ).order_by(ReviewCase.due_date.desc(), ReviewCase.id.desc())).all()
        for case in cases:
            if case.claim is not None and not case.claim.counts and services.uploaded_slots(case) \
                    and not services.missing_uploads(case):
                return case.id, case.application_id
        return None

    return _db(live_app, find)


def test_the_rescoring_hint_turns_into_the_new_total(browser, live_server, live_app, artifacts, sign_in):
    from backoffice.applications.models import Application

    found = _upholdable_case(live_app)
    assert found is not None, "the demo has an open 朝阳 case with every material uploaded"
    case_id, application_id = found
    total_before = _db(live_app, lambda s: s.get(Application, application_id).total)

    reviewer = _context(browser, width=1400)
    page = reviewer.new_page()
    sign_in(page, live_server, "reviewer")
    page.goto(f"{live_server}/admin/case/{case_id}/")
    page.click("[data-testid=claim]")
    page.wait_for_load_state()
    rows = page.locator("[data-testid=checklist] tr[data-row]")
    for i in range(rows.count()):
        if rows.nth(i).locator(".ws-file-link").count():  # every uploaded material (the required ones are)
            page.check(f"[data-testid=check-{rows.nth(i).get_attribute('data-row')}-acceptable]")
    page.check("[data-testid=outcome-upheld]")
    reason = page.locator("#reason_code option[data-outcome=upheld]").first.get_attribute("value")
    page.select_option("[data-testid=reason]", reason)
    page.fill("[data-testid=note]", "材料齐全，核实无误，认定有效")
    page.click("[data-testid=decide]")
    page.wait_for_load_state()
    assert page.get_by_test_id("case-status").inner_text() == "待主管复核", page.locator(".alert, .field-error").all_inner_texts()
    reviewer.close()

    supervisor = _context(browser, width=1400)
    page = supervisor.new_page()
    sign_in(page, live_server, "supervisor")
    # The decision waits on the supervisor's home page.
    assert page.locator(f"[data-testid=countersign-table] a[href$='/admin/case/{case_id}/']").count() == 1
    page.click(f"[data-testid=countersign-table] a[href$='/admin/case/{case_id}/']")
    page.wait_for_url(re.compile(rf".*/admin/case/{case_id}/$"))
    page.click("[data-testid=countersign-confirm]")
    page.wait_for_load_state()
    assert page.get_by_test_id("case-status").inner_text() == "已办结"
    hint = page.get_by_test_id("rescore-pending")
    assert hint.is_visible() and hint.inner_text() == "积分重算中"
    page.screenshot(path=str(artifacts / "workspace-rescoring.png"), full_page=True)

    # The page keeps polling; the job runs; the hint becomes the new total without a reload.
    _process_outbox(live_app, case_id)
    page.wait_for_selector("[data-testid=rescore-done]", timeout=30_000)
    total_after = _db(live_app, lambda s: s.get(Application, application_id).total)
    assert total_after != total_before, (total_before, total_after)
    assert page.get_by_test_id("application-total").inner_text() == str(total_after)
    assert page.get_by_test_id("rescore-done").inner_text() == "积分已更新"
    assert page.get_by_test_id("snapshot-total").inner_text() == str(total_after)  # the score card follows
    page.screenshot(path=str(artifacts / "workspace-rescored.png"), full_page=True)

    # The case links to its application and to the applicant's other cases.
    href = page.get_by_test_id("application-link").get_attribute("href")
    assert f"id={application_id}" in href
    assert page.get_by_test_id("other-cases").is_visible()
    supervisor.close()
