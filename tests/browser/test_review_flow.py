"""A review from the queue to a new score, in the browser.

A reviewer signs in, opens the housing queue, claims the oldest case, opens its PDF, ticks
the checklist and decides "corrected" with a reason; a supervisor countersigns; the case
leaves the queue; the rescoring request is processed the way production does it (issue #5's
outbox relay into RQ, a burst SimpleWorker running the job in-process) and the
application's total changes.
"""
from __future__ import annotations

import re

from sqlalchemy import select


def _state(live_app, case_number):
    from backoffice.applications.models import Application
    from backoffice.cases.models import ReviewCase
    from backoffice.extensions import db

    with live_app.app_context():
        case = db.session.scalar(select(ReviewCase).where(ReviewCase.number == case_number))
        total = db.session.scalar(select(Application.total).where(Application.id == case.application_id))
        result = (case.id, case.status.value, total)
        db.session.remove()
        return result


def _process_outbox(live_app, case_id):
    """Deliver the case's rescoring request from the outbox to RQ and run it (queues/relay.py,
    queues/jobs.py). The live server may have pushed it already right after its commit."""
    from rq import Queue, SimpleWorker

    from backoffice.cases.models import Decision
    from backoffice.extensions import db
    from backoffice.outbox.models import OutboxMessage
    from queues import jobs
    from queues.relay import deliver, relay_client, relay_engine

    settings = live_app.config["BACKOFFICE"]
    with live_app.app_context():
        decision_ids = db.session.scalars(select(Decision.id).where(Decision.case_id == case_id)).all()
        rows = [r for r in db.session.scalars(select(OutboxMessage).where(OutboxMessage.topic == "rescore_application"))
                if r.payload.get("decision_id") in decision_ids]
        assert len(rows) == 1, "one rescoring request, written with the final decision"
        row_id, delivered = rows[0].id, rows[0].delivered_at is not None
        db.session.remove()
    connection = relay_client(settings)
    if not delivered:
        report = deliver(relay_engine(settings), connection, settings, ids=[row_id])
        assert report.delivered == 1, report
    jobs.bind_app(live_app)
    try:
        worker = SimpleWorker([Queue(jobs.queue_name(settings, "rescore"), connection=connection)],
                              connection=connection)
        worker.work(burst=True, with_scheduler=False)
    finally:
        jobs.bind_app(None)


def test_review_from_queue_to_new_total(browser, live_server, live_app, artifacts, sign_in):
    reviewer = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    page = reviewer.new_page()
    sign_in(page, live_server, "reviewer")

    # The housing queue, oldest due first; the first row is the oldest case.
    page.click("text=工作队列")
    page.click("a.dropdown-item:has-text('住所')")
    page.wait_for_url(re.compile(r".*/admin/queue_housing/.*"))
    due_dates = page.locator("td.col-due_date").all_inner_texts()
    assert due_dates == sorted(due_dates) and due_dates
    page.screenshot(path=str(artifacts / "worklist-housing-queue.png"), full_page=True)
    first = page.locator("a[data-testid=case-link]").first
    number = first.inner_text()
    case_id, status, total_before = _state(live_app, number)
    assert status == "open" and total_before is not None
    first.click()
    page.wait_for_url(re.compile(rf".*/admin/case/{case_id}/"))

    page.click("[data-testid=claim]")
    page.wait_for_load_state()
    assert page.get_by_test_id("case-assignee").inner_text() == "朝阳审核员"

    # Open its PDF in the viewer beside the checklist: served inline, as a PDF, audited.
    with page.expect_response(re.compile(r".*/admin/evidence/download/\d+")) as served:
        page.locator(".btn-file").first.click()
    response = served.value
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith("inline")
    # Chromium's PDF viewer renders it inside the frame (a refused frame shows chrome-error://):
    # wait until the viewer frame has loaded one or the other, then look which.
    viewer = page.locator("#ws-viewer").element_handle().content_frame()
    viewer.wait_for_url(re.compile(r"^chrome-error://|/admin/evidence/download/\d+"), wait_until="load")
    assert "/admin/evidence/download/" in viewer.url, viewer.url
    assert not any(f.url.startswith("chrome-error://") for f in page.frames)

    # Tick every uploaded material as acceptable, with a note on the first.
    rows = page.locator("[data-testid=checklist] tr[data-row]")
    ticked = 0
    for i in range(rows.count()):
        row = rows.nth(i)
        if row.locator(".ws-file-link").count():
            code = row.get_attribute("data-row")
            page.check(f"[data-testid=check-{code}-acceptable]")
            ticked += 1
    assert ticked >= 1
    rows.first.locator("input[type=text]").fill("与原件一致")

    page.check("[data-testid=outcome-corrected]")
    page.select_option("[data-testid=reason]", "corrected_after_verification")
    to_month = page.input_value("#facts-to")
    page.fill("#facts-from", f"{int(to_month[:4]) - 3}-01")
    page.fill("[data-testid=note]", "按不动产权证书核实，更正居住起始年月")
    page.screenshot(path=str(artifacts / "workspace-decision.png"), full_page=True)
    page.click("[data-testid=decide]")
    page.wait_for_load_state()
    assert page.get_by_test_id("case-status").inner_text() == "待主管复核"
    reviewer.close()

    # A supervisor of the district countersigns.
    supervisor = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    page = supervisor.new_page()
    sign_in(page, live_server, "supervisor")
    page.goto(f"{live_server}/admin/queue_housing/?flt0_status=awaiting_countersign")
    assert number in page.locator("table.model-list").inner_text()
    page.click(f"a[data-testid=case-link]:has-text('{number}')")
    assert page.get_by_test_id("countersign-panel").is_visible()
    page.screenshot(path=str(artifacts / "workspace-countersign.png"), full_page=True)
    page.click("[data-testid=countersign-confirm]")
    page.wait_for_load_state()
    assert page.get_by_test_id("case-status").inner_text() == "已办结"

    # The case has left the queue.
    page.goto(f"{live_server}/admin/queue_housing/")
    assert number not in page.locator("table.model-list").inner_text()
    supervisor.close()

    # The rescoring request is processed; the application's total changes.
    _process_outbox(live_app, case_id)
    _case_id, status, total_after = _state(live_app, number)
    assert status == "closed"
    assert total_after != total_before, (total_before, total_after)
