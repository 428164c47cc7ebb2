"""A notice reaches the applicant once per channel: decision → outbox → relay → RQ →
events feed and SMS, through a retried job, a repeated job and a Redis outage."""
from __future__ import annotations

import dataclasses
import logging

import pytest
from rq import Queue, SimpleWorker
from rq.job import Job
from sqlalchemy import func, select

SMS_LOGGER = "backoffice.notices.sms"


def _decide(world) -> tuple[int, int, str]:
    """A reviewer rejects a free 复查 through the case service; returns (notice id, application id, number)."""
    from backoffice.cases import services
    from backoffice.cases.models import ReviewCase
    from backoffice.extensions import db
    from backoffice.notices.models import Notice
    from backoffice.staff.models import Staff

    (case_id, app_id), = world.free_cases(1)
    with world.ctx():
        actor = db.session.get(Staff, world.reviewer_id())
        case = db.session.get(ReviewCase, case_id)
        # The SMS channel needs a phone number (the hand-built test applicants may have none).
        case.application.applicant.phone = case.application.applicant.phone or "13812345678"
        services.claim(case, actor=actor, version=case.version)
        services.decide(case, actor=actor, outcome="rejected", reason_code="registry_result_confirmed",
                        note="经核实，原结果无误", version=case.version)
        db.session.commit()
        notice = db.session.scalars(select(Notice).where(Notice.case_id == case_id)).one()
        return notice.id, app_id, notice.number


def _feed_events(world, app_id: int) -> list:
    from backoffice.extensions import db
    from backoffice.feed.models import ApplicantEvent

    with world.ctx():
        rows = db.session.execute(select(ApplicantEvent.kind, ApplicantEvent.text, ApplicantEvent.payload)
                                  .where(ApplicantEvent.application_id == app_id,
                                         ApplicantEvent.kind == "notice.issued")).all()
        return [tuple(r) for r in rows]


def _sms_sent(caplog, number: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == SMS_LOGGER and f"{number}-sms" in r.getMessage()]


def _rows(world, notice_id: int) -> dict:
    from backoffice.extensions import db
    from backoffice.notices.models import NotificationOutbox

    with world.ctx():
        rows = db.session.scalars(select(NotificationOutbox).where(NotificationOutbox.notice_id == notice_id)).all()
        return {r.channel: (r.delivered_at is not None, r.attempts, r.last_error) for r in rows}


def _release_scheduled(world, purpose: str = "notify") -> int:
    queue = world.queue(purpose)
    registry = queue.scheduled_job_registry
    ids = registry.get_job_ids()
    for job_id in ids:
        job = Job.fetch(job_id, connection=world.redis)
        registry.remove(job)
        queue._enqueue_job(job)
    return len(ids)


def test_a_decision_notice_reaches_the_feed_and_the_phone_once(world, caplog):
    caplog.set_level(logging.INFO, logger=SMS_LOGGER)
    notice_id, app_id, number = _decide(world)
    assert _rows(world, notice_id) == {"feed": (False, 0, None), "sms": (False, 0, None)}
    report = world.relay()
    assert report.delivered >= 1 and report.error is None
    world.work(purposes=("notify",))

    events = _feed_events(world, app_id)
    assert len(events) == 1
    kind, text, payload = events[0]
    assert text.startswith("【积分落户】您的复查申请已办结，结果：不予支持。") and number in text
    assert payload["number"] == number and "复查结果告知书" == payload["title"]
    sent = _sms_sent(caplog, number)
    assert len(sent) == 1 and "****" in sent[0]  # the log never holds the whole number
    assert _rows(world, notice_id)["sms"][:2] == (True, 1)

    # The same job again (the relay delivered twice, or the job was redelivered): nothing more.
    world.queue("notify").enqueue("queues.notify.deliver_notice", kwargs={"notice_id": notice_id})
    world.work(purposes=("notify",))
    assert len(_feed_events(world, app_id)) == 1 and len(_sms_sent(caplog, number)) == 1


def test_a_failing_gateway_is_retried_with_backoff_and_sends_once(world, caplog, monkeypatch):
    from backoffice.notices import sms
    from queues.notify import deliver_notice

    caplog.set_level(logging.INFO, logger=SMS_LOGGER)
    calls = {"n": 0}
    real_send = sms.LoggingGateway.send

    def flaky(self, message):
        calls["n"] += 1
        if calls["n"] == 1:
            raise sms.SmsUnavailable("gateway timeout")
        return real_send(self, message)

    monkeypatch.setattr(sms.LoggingGateway, "send", flaky)
    notice_id, app_id, number = _decide(world)
    world.relay()
    world.work(purposes=("notify",))
    # The feed went out and stays out; the SMS waits for the retry, scheduled by the job's backoff.
    assert _rows(world, notice_id)["feed"][0] is True
    assert _rows(world, notice_id)["sms"] == (False, 1, "SmsUnavailable: gateway timeout")
    job_id, = world.queue("notify").scheduled_job_registry.get_job_ids()
    assert Job.fetch(job_id, connection=world.redis).retries_left == len(deliver_notice.spec.backoff) - 1

    assert _release_scheduled(world) == 1
    world.work(purposes=("notify",))
    assert len(_feed_events(world, app_id)) == 1
    assert len(_sms_sent(caplog, number)) == 1
    assert _rows(world, notice_id)["sms"][:2] == (True, 2)


def test_a_gateway_that_keeps_failing_ends_on_the_jobs_page(world, monkeypatch, make_admin_client):
    from backoffice.notices import sms
    from queues.notify import deliver_notice

    def broken(self, message):
        raise sms.SmsRejected("号码已停机")

    monkeypatch.setattr(sms.LoggingGateway, "send", broken)
    notice_id, _app_id, number = _decide(world)
    world.relay()
    world.work(purposes=("notify",))
    for _ in deliver_notice.spec.backoff:
        _release_scheduled(world)
        world.work(purposes=("notify",))
    failed = world.queue("notify").failed_job_registry.get_job_ids()
    assert len(failed) == 1

    html = make_admin_client().get("/admin/jobs/").get_data(as_text=True)
    # The failed job by what it does (admin/labels.py), its id kept for the log.
    assert failed[0] in html and "发送告知书" in html and "queues.notify.deliver_notice" not in html
    assert 'data-testid="notice-problems"' in html and number in html and "SmsRejected: 号码已停机" in html
    assert f"告知书 {notice_id}" in html  # its argument by name (admin/labels.py), not notice_id=…


def test_while_redis_is_down_notices_wait_then_go_out_once(world, own_redis, caplog):
    import redis

    from backoffice.app import create_app
    from queues.jobs import bind_app, queue_names
    from queues.relay import deliver, relay_client, relay_engine

    caplog.set_level(logging.INFO, logger=SMS_LOGGER)
    settings = dataclasses.replace(world.settings, redis_url=own_redis.url)
    bind_app(create_app(settings))
    own_redis.stop()
    notice_id, app_id, number = _decide(world)  # commits: nothing here needs Redis
    report = deliver(relay_engine(settings), relay_client(settings), settings)
    assert report.delivered == 0 and report.error
    assert _rows(world, notice_id) == {"feed": (False, 0, None), "sms": (False, 0, None)}

    own_redis.start()  # back, and empty
    report = deliver(relay_engine(settings), relay_client(settings), settings)
    assert report.error is None and report.delivered >= 1
    # A second relay pass (another worker's) finds nothing left to send.
    assert deliver(relay_engine(settings), relay_client(settings), settings).delivered == 0
    connection = redis.Redis.from_url(own_redis.url)
    SimpleWorker([Queue(n, connection=connection) for n in queue_names(settings)], connection=connection) \
        .work(burst=True)
    assert len(_feed_events(world, app_id)) == 1
    assert len(_sms_sent(caplog, number)) == 1


@pytest.fixture
def make_admin_client(world):
    """A test client of the world's app, signed in as an administrator."""
    import uuid

    from support import TEST_PASSWORD, sign_in

    from backoffice.extensions import db
    from backoffice.staff.services import create_staff

    username = f"jobs-admin-{uuid.uuid4().hex[:6]}"
    with world.ctx():
        create_staff(username, "任务管理员", TEST_PASSWORD, "administrator", None, actor_label="test")
        db.session.commit()

    def build():
        client = world.app.test_client()
        assert sign_in(client, username).status_code == 302
        return client

    return build
