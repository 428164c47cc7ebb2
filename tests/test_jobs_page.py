"""The administrators' jobs page and the "rescoring pending" badge.

Redis here is real (REDIS_URL or the embedded server); the queues are this run's own
(settings.queue_namespace).
"""
from __future__ import annotations

import pytest
from rq import Queue
from rq.job import Job, JobStatus
from sqlalchemy import select

from backoffice.audit.models import AuditEvent
from backoffice.extensions import db
from backoffice.outbox.services import request_rescore
from queues.jobs import queue_name
from support import csrf_token_from


@pytest.fixture
def redis_conn(settings):
    from queues.relay import relay_client

    return relay_client(settings)


@pytest.fixture
def failed_job(settings, redis_conn):
    """A rescore job that failed for good, as the worker leaves it: in the failed registry
    with its traceback."""
    from queues import jobs

    queue = Queue(queue_name(settings, "rescore"), connection=redis_conn)
    job = queue.enqueue(jobs.rescore_application, kwargs={"application_id": 424242, "trigger": "decision"},
                        job_id=f"{settings.queue_namespace}-rescore-424242-d9")
    queue.remove(job)
    with redis_conn.pipeline() as pipeline:  # what rq's worker does with a job out of retries
        job.set_status(JobStatus.FAILED, pipeline=pipeline)
        job._handle_failure(
            "Traceback (most recent call last):\n  File \"queues/jobs.py\", line 1, in rescore_application\n"
            "RuntimeError: registry facts unreadable <script>alert(1)</script>\n", pipeline)
        pipeline.execute()
    yield job
    job.delete()


def test_only_administrators_see_the_jobs_page(make, client_for):
    for role, district in (("reviewer", "朝阳区"), ("supervisor", "朝阳区"), ("supervisor", None),
                           ("investigator", None)):
        user = make.staff(role, district)
        db.session.commit()
        assert client_for(user).get("/admin/jobs/").status_code == 403, role
    assert client_for(make.staff("administrator")).get("/admin/jobs/").status_code == 200


def test_the_page_shows_queues_a_failed_job_with_its_traceback_and_the_outbox(make, client_for, failed_job):
    admin = make.staff("administrator")
    application = make.application("朝阳区")
    request_rescore(application.id, trigger="intake")
    db.session.commit()
    html = client_for(admin).get("/admin/jobs/").get_data(as_text=True)
    assert 'data-testid="failed-rescore">1<' in html
    assert failed_job.id in html
    assert "RuntimeError: registry facts unreadable" in html
    assert "<script>alert(1)</script>" not in html  # the traceback is escaped
    assert 'data-testid="undelivered">1<' in html


def test_retry_puts_the_failed_job_back_and_is_audited(make, client_for, failed_job, settings, redis_conn):
    admin = make.staff("administrator")
    db.session.commit()
    client = client_for(admin)
    page = client.get("/admin/jobs/").get_data(as_text=True)
    response = client.post("/admin/jobs/retry", data={"csrf_token": csrf_token_from(page), "job_id": failed_job.id,
                                                      "queue": "rescore"})
    assert response.status_code == 302
    queue = Queue(queue_name(settings, "rescore"), connection=redis_conn)
    assert queue.get_job_ids() == [failed_job.id]
    assert Job.fetch(failed_job.id, connection=redis_conn).get_status() == JobStatus.QUEUED
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "job.retried"))
    assert event.actor_id == admin.id and event.object_id == failed_job.id
    # A second retry of the same job is refused with a message, not an error page.
    again = client.post("/admin/jobs/retry", data={"csrf_token": csrf_token_from(page), "job_id": failed_job.id,
                                                   "queue": "rescore"}, follow_redirects=True)
    assert again.status_code == 200 and "不在失败列表中" in again.get_data(as_text=True)


def test_retry_needs_the_csrf_token_and_the_role(make, client_for, failed_job, settings, redis_conn):
    admin = make.staff("administrator")
    supervisor = make.staff("supervisor", None)
    db.session.commit()
    assert client_for(admin).post("/admin/jobs/retry", data={"job_id": failed_job.id, "queue": "rescore"}) \
        .status_code == 400
    client = client_for(supervisor)
    token = csrf_token_from(client.get("/admin/").get_data(as_text=True))
    assert client.post("/admin/jobs/retry", data={"csrf_token": token, "job_id": failed_job.id,
                                                  "queue": "rescore"}).status_code == 403
    queue = Queue(queue_name(settings, "rescore"), connection=redis_conn)
    assert queue.failed_job_registry.get_job_ids() == [failed_job.id]


def test_the_page_still_answers_when_redis_is_unreachable(app, make, client_for, monkeypatch):
    from backoffice.jobs import views
    from queues.relay import relay_client

    monkeypatch.setattr(views, "_connection",
                        lambda: relay_client(app.config["BACKOFFICE"], url="unix:///nonexistent/redis.sock"))
    admin = make.staff("administrator")
    request_rescore(make.application("海淀区").id, trigger="intake")
    db.session.commit()
    html = client_for(admin).get("/admin/jobs/").get_data(as_text=True)
    assert 'data-testid="redis-error"' in html and 'data-testid="undelivered">1<' in html


def test_an_application_shows_rescoring_pending_until_its_request_completes(make, client_for):
    from backoffice.core.db import utcnow

    reviewer = make.staff("reviewer", "朝阳区")
    waiting = make.application("朝阳区")
    done = make.application("朝阳区")
    request_rescore(waiting.id, trigger="decision", decision_id=None)
    finished = request_rescore(done.id, trigger="intake")
    finished.delivered_at = finished.completed_at = utcnow()
    db.session.commit()
    client = client_for(reviewer)
    html = client.get("/admin/applications/").get_data(as_text=True)
    assert html.count('data-testid="rescoring-pending"') == 1
    pending_row = next(r for r in html.split("<tr") if 'data-testid="rescoring-pending"' in r)
    assert f"?id={waiting.id}" in pending_row
    details = client.get(f"/admin/applications/details/?id={waiting.id}").get_data(as_text=True)
    assert "rescoring-pending" in details
    assert "rescoring-pending" not in client.get(f"/admin/applications/details/?id={done.id}").get_data(as_text=True)


@pytest.fixture
def lane_and_worker(settings, redis_conn):
    """Two registered workers on this run's queues, as `backoffice worker` leaves them: the
    worker on every queue but rescore, and its decision lane on rescore alone."""
    from rq import Worker

    from queues.jobs import PURPOSES

    lane = Worker([Queue(queue_name(settings, "rescore"), connection=redis_conn)], connection=redis_conn,
                  name=f"backoffice-lane.{settings.queue_namespace}")
    main = Worker([Queue(queue_name(settings, p), connection=redis_conn) for p in PURPOSES if p != "rescore"],
                  connection=redis_conn, name=f"main.{settings.queue_namespace}")
    for worker in (lane, main):
        worker.register_birth()
    yield lane, main
    for worker in (lane, main):
        worker.register_death()


def test_the_workers_decision_lane_is_named_in_words(make, client_for, lane_and_worker):
    lane, main = lane_and_worker
    admin = make.staff("administrator")
    db.session.commit()
    html = client_for(admin).get("/admin/jobs/").get_data(as_text=True)
    rows = {name: row for row in html.split("<tr>") for name in (lane.name, main.name) if name in row}
    assert "决定通道" in rows[lane.name] and "决定通道" not in rows[main.name]
    admin.locale = "en"
    db.session.commit()
    html = client_for(admin).get("/admin/jobs/").get_data(as_text=True)
    assert html.count("decision lane") == 1 and "决定通道" not in html
