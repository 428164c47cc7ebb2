"""Decision → outbox → relay → RQ → snapshot, with RQ's SimpleWorker in burst mode on real Redis."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from rq.job import Job, JobStatus
from sqlalchemy import select

from jobs_support import upload_missing, TOTAL_BOTH_COUNTED, TOTAL_NEITHER, TOTAL_OWN_ONLY, TOTAL_RENTAL_ONLY


def test_a_decision_ends_in_a_snapshot_with_the_decision_and_what_changed(world):
    (case_id, app_id), = world.free_cases(1)
    before_total, snap_before, _d, snapshots_before = world.state(app_id)
    assert before_total == snap_before == TOTAL_RENTAL_ONLY  # the year's first scoring, by hand: 86.50
    _, decision_id = world.decide(case_id)

    # Until a job has run, the application shows "rescoring pending".
    with world.ctx():
        from backoffice.outbox.services import pending_rescore

        assert pending_rescore([app_id]) == {app_id}
    report = world.relay()
    # The decision's rescore request, and its notice (告知书) on the notify queue.
    assert _rescores(report) == 1 and report.error is None
    world.work(purposes=("rescore",))

    total, snap_total, snap_decision, snapshots = world.state(app_id)
    assert total == snap_total == TOTAL_BOTH_COUNTED  # the own home now counts: 88.21 by hand
    assert snap_decision == decision_id
    assert snapshots == snapshots_before + 1
    with world.ctx():
        from backoffice.applications.models import ScoreSnapshot
        from backoffice.extensions import db

        snapshot = db.session.scalars(select(ScoreSnapshot).where(ScoreSnapshot.application_id == app_id)
                                      .order_by(ScoreSnapshot.id.desc())).first()
        assert snapshot.changes["total"] == {"before": 86.5, "after": 88.21}
        assert "housing" in snapshot.changes["indicators"], "the changed indicator is named"
        assert pending_rescore([app_id]) == set()
    row, = world.outbox(application_id=app_id)
    assert row.delivered_at is not None and row.completed_at is not None and row.job_id == row.job_key.join(
        (world.settings.queue_namespace + "-", ""))


def test_upholding_one_of_two_invalid_claims_counts_that_one_only(world):
    (case_id, app_id), = world.free_cases(1, both_invalid=True)
    assert world.state(app_id)[:2] == (TOTAL_NEITHER, TOTAL_NEITHER)  # 86.29 by hand
    world.decide(case_id)  # the own home; the rental's 复查 stays open
    world.relay()
    world.work(purposes=("rescore",))
    total, snap_total, _d, _n = world.state(app_id)
    assert total == snap_total == TOTAL_OWN_ONLY  # 88.00 by hand, not 88.21


def test_a_rescore_that_changes_nothing_stores_nothing(world):
    (case_id, app_id), = world.free_cases(1)
    world.decide(case_id)
    world.relay()
    world.work(purposes=("rescore",))
    state = world.state(app_id)
    # The same request again (e.g. delivered twice after a crash, or a repeated intake):
    with world.ctx():
        from backoffice.extensions import db
        from backoffice.outbox.services import request_rescore

        request_rescore(app_id, trigger="intake")
        db.session.commit()
    world.relay()
    world.work(purposes=("rescore",))
    assert world.state(app_id) == state
    assert all(r.completed_at is not None for r in world.outbox(application_id=app_id))


def test_a_duplicated_request_becomes_one_job(world):
    (case_id, app_id), = world.free_cases(1)
    world.decide(case_id, commit=True)
    with world.ctx():
        from backoffice.extensions import db
        from backoffice.outbox.services import request_rescore

        # The same request written again before delivery is the same row …
        first = request_rescore(app_id, trigger="appeal")
        again = request_rescore(app_id, trigger="appeal")
        assert first.id == again.id
        db.session.commit()
    rows = world.outbox(application_id=app_id)
    assert len(rows) == 2  # the decision's request and the appeal's

    world.relay()
    # … and a row delivered twice (a relay that crashed before recording the delivery)
    # lands in the job it is already in.
    with world.ctx():
        from sqlalchemy import update

        from backoffice.outbox.models import OutboxMessage

        db.session.execute(update(OutboxMessage).where(OutboxMessage.application_id == app_id)
                           .values(delivered_at=None, job_id=None))
        db.session.commit()
    world.relay()
    queue = world.queue("rescore")
    assert queue.count == 2, queue.get_job_ids()
    assert sorted(r.job_id for r in world.outbox(application_id=app_id)) == sorted(queue.get_job_ids())

    world.work(purposes=("rescore",))
    total, snap_total, _decision, _n = world.state(app_id)
    assert total == snap_total == TOTAL_BOTH_COUNTED


def test_a_request_after_its_job_ran_still_gets_a_job(world):
    """The id of a finished job is kept (result_ttl); a later request with the same key must
    not be swallowed by it, or a change made after that job read the facts would be lost."""
    (case_id, app_id), (case2, app2) = world.free_cases(2)
    with world.ctx():
        from backoffice.extensions import db
        from backoffice.outbox.services import request_rescore

        request_rescore(app_id, trigger="intake")
        db.session.commit()
    world.relay()
    world.work(purposes=("rescore",))
    # A change commits after that job ran, with a request of the same key.
    world.decide(case_id, commit=True)
    with world.ctx():
        request_rescore(app_id, trigger="intake")
        db.session.commit()
    report = world.relay()
    assert _rescores(report) == 2
    job_ids = set(report.job_ids.values())
    assert any(j.endswith(f"-o{rid}") for rid, j in report.job_ids.items()), job_ids
    world.work(purposes=("rescore",))
    total, snap_total, _d, _n = world.state(app_id)
    assert total == snap_total == TOTAL_BOTH_COUNTED


def test_a_burst_of_rescores_requests_one_rerank(world):
    cases = world.free_cases(6)
    start = max((r.id for r in world.outbox()), default=0)
    for case_id, _app in cases:
        world.decide(case_id)
    world.relay()
    world.work(purposes=("rescore",))
    # Each changed rescore asked for a rerank, and its job pushed the request at once …
    rank_rows = [r for r in world.outbox(topic="rank_year") if r.id > start]
    assert len(rank_rows) == 6 and all(r.delivered_at is not None for r in rank_rows)
    assert world.relay().delivered == 0
    # … into one job per debounce window (two if the burst straddled a window's end).
    rank = world.queue("rank")
    scheduled = rank.scheduled_job_registry.get_job_ids()
    assert 1 <= len(scheduled) <= 2, scheduled
    assert {r.job_id for r in rank_rows} == set(scheduled)
    assert rank.count == 0  # debounced: nothing runs before the window closes
    world.release_scheduled()
    world.work(purposes=("rank",))
    assert world.outbox(topic="rank_year", completed_at=None) == []  # this year's requests, earlier ones too
    with world.ctx():
        from backoffice.applications.models import Application
        from backoffice.extensions import db

        for _case, app_id in cases:
            total = db.session.scalar(select(Application.total).where(Application.id == app_id))
            above = db.session.scalar(select(db.func.count()).where(Application.year == 2021,
                                                                     Application.total > total))
            assert db.session.scalar(select(Application.rank).where(Application.id == app_id)) == above + 1


def test_while_redis_is_down_decisions_commit_and_wait_then_go_out(world, own_redis):
    import dataclasses

    import redis
    from rq import Queue, SimpleWorker

    from backoffice.app import create_app
    from queues.jobs import bind_app, queue_names
    from queues.relay import deliver, relay_client, relay_engine

    settings = dataclasses.replace(world.settings, redis_url=own_redis.url)
    bind_app(create_app(settings))
    own_redis.stop()
    cases = world.free_cases(50)
    for case_id, _app in cases:
        world.decide(case_id)  # nothing here touches Redis: every decision commits
    report = deliver(relay_engine(settings), relay_client(settings), settings)
    assert report.delivered == 0 and report.error
    rows = [r for _c, app_id in cases for r in world.outbox(application_id=app_id, completed_at=None)]
    assert len(rows) == 50
    assert all(r.delivered_at is None and r.attempts == 1 and "Error" in r.last_error for r in rows)

    own_redis.start()  # back, and empty (no persistence)
    report = deliver(relay_engine(settings), relay_client(settings), settings)
    assert _rescores(report) == 50 and report.error is None
    connection = redis.Redis.from_url(own_redis.url)
    SimpleWorker([Queue(n, connection=connection) for n in queue_names(settings)], connection=connection) \
        .work(burst=True)
    for _case, app_id in cases:
        total, snap_total, _d, _n = world.state(app_id)
        assert total == snap_total == TOTAL_BOTH_COUNTED, app_id


def test_a_failing_job_retries_with_backoff_then_waits_for_an_administrator(world, monkeypatch):
    from queues import jobs

    (case_id, app_id), = world.free_cases(1)
    world.decide(case_id)
    world.relay()

    def broken(*_args, **_kwargs):
        raise RuntimeError("registry facts unreadable")

    from backoffice.applications import scoring_service

    monkeypatch.setattr(scoring_service, "rescore_application", broken)
    world.work(purposes=("rescore",))
    queue = world.queue("rescore")
    # The first failure is scheduled for a retry after the first backoff interval.
    job_id, = queue.scheduled_job_registry.get_job_ids()
    job = Job.fetch(job_id, connection=world.redis)
    assert job.retries_left == len(jobs.rescore_application.spec.backoff) - 1
    for _ in jobs.rescore_application.spec.backoff:
        world.release_scheduled()
        world.work(purposes=("rescore",))
    assert queue.failed_job_registry.get_job_ids() == [job_id]
    assert Job.fetch(job_id, connection=world.redis).get_status() == JobStatus.FAILED
    with world.ctx():
        from backoffice.outbox.services import pending_rescore

        assert pending_rescore([app_id]) == {app_id}  # still pending: nothing was lost

    monkeypatch.undo()
    with world.ctx():
        from backoffice.jobs.services import retry_failed

        retry_failed(world.redis, world.settings, "rescore", job_id, actor=None)
        from backoffice.extensions import db

        db.session.commit()
    world.work(purposes=("rescore",))
    total, snap_total, _d, _n = world.state(app_id)
    assert total == snap_total == TOTAL_BOTH_COUNTED
    with world.ctx():
        assert pending_rescore([app_id]) == set()


def test_a_job_lost_from_redis_is_delivered_again(world):
    from queues.relay import redeliver_lost, relay_client, relay_engine

    (case_id, app_id), = world.free_cases(1)
    world.decide(case_id)
    report = world.relay()
    job_id = next(j for j in report.job_ids.values() if "-notice-" not in j)  # the rescore, not the notice
    # Redis restarted without its data: the job is gone, the row says delivered.
    Job.fetch(job_id, connection=world.redis).delete()
    engine, client = relay_engine(world.settings), relay_client(world.settings)
    assert redeliver_lost(engine, client) == 0  # not yet: it might just be waiting in a long queue
    later = datetime.now(timezone.utc) + timedelta(minutes=11)
    # (Rows of earlier tests, whose namespaces were emptied, are found lost too.)
    assert redeliver_lost(engine, client, now=later) >= 1
    row, = world.outbox(application_id=app_id)
    assert row.delivered_at is None and "lost" in row.last_error
    assert world.relay(ids=[row.id]).delivered == 1
    world.work(purposes=("rescore",))
    total, snap_total, _d, _n = world.state(app_id)
    assert total == snap_total == TOTAL_BOTH_COUNTED


def _audit_ids(action: str, object_ids=None) -> list[int]:
    from backoffice.audit.models import AuditEvent
    from backoffice.extensions import db

    stmt = select(AuditEvent.id).where(AuditEvent.action == action).order_by(AuditEvent.id)
    if object_ids is not None:
        stmt = stmt.where(AuditEvent.object_id.in_([str(i) for i in object_ids]))
    return list(db.session.scalars(stmt))


def test_single_rescores_are_served_before_a_ranking_queued_ahead_of_them(world):
    """Issue 18 §2: a decision's rescore never waits behind a ranking. A ranking is already
    waiting on its queue when three decisions' rescores arrive; one worker given the queues in
    the order `backoffice worker` gives them serves the rescores first."""
    from queues.jobs import rerank_year, worker_queues

    cases = world.free_cases(3)
    with world.ctx():
        seen = set(_audit_ids("ranking.computed")) | set(_audit_ids("score.changed"))
    world.queue("rank").enqueue(rerank_year, kwargs={"year": 2021}, **rerank_year.spec.options())
    for case_id, _app in cases:
        world.decide(case_id)
    rows = [r.id for _case, app_id in cases for r in world.outbox(application_id=app_id)]
    assert _rescores(world.relay(ids=rows)) == 3
    assert world.queue("rank").count == 1 and world.queue("rescore").count == 3

    from rq import SimpleWorker

    SimpleWorker(worker_queues(world.settings, world.redis), connection=world.redis).work(burst=True)
    app_ids = [app_id for _case, app_id in cases]
    for app_id in app_ids:
        assert world.state(app_id)[0] == TOTAL_BOTH_COUNTED
    with world.ctx():
        rescored = [i for i in _audit_ids("score.changed", app_ids) if i not in seen]
        ranked = [i for i in _audit_ids("ranking.computed") if i not in seen]
    # In the order the jobs ran (audit ids grow with each commit): the three rescores, then the ranking.
    assert len(rescored) == 3 and len(ranked) == 1
    assert max(rescored) < ranked[0]


def _fan_out(world, *, chunk: int):
    from queues.jobs import fan_out_year

    with world.ctx():
        return fan_out_year(world.redis, world.settings, 2021, trigger="rule_correction", chunk=chunk)


def test_a_year_rescore_is_chunk_jobs_and_a_ranking_after_the_last(world):
    """Issue 18 §6: the year job fans out; chunks on the bulk queue; the ranking waits for all."""
    from queues.jobs import enqueue_year_rescore, year_progress

    (case_id, app_id), = world.free_cases(1)
    world.decide(case_id)  # its request is satisfied by the year's run, not by its own job
    job_id = enqueue_year_rescore(world.redis, world.settings, 2021, trigger="rule_correction")
    world.work(purposes=("maintenance",))  # the fan-out only
    job = Job.fetch(job_id, connection=world.redis)
    assert job.get_status() == JobStatus.FINISHED, job.latest_result().exc_string
    run = job.return_value()
    assert run["applications"] >= 1500 and len(run["chunks"]) == -(-run["applications"] // 2000)
    assert world.queue("bulk").count == len(run["chunks"])
    rank_job = Job.fetch(run["rank_job"], connection=world.redis)
    assert rank_job.get_status() == JobStatus.DEFERRED  # waiting for the chunks
    progress = year_progress(world.redis, world.settings, run["run_id"])
    assert (progress.finished, progress.done, progress.rank_status) == (0, 0, "deferred")

    world.work(purposes=("bulk", "rank"))
    progress = year_progress(world.redis, world.settings, run["run_id"])
    assert progress.finished == progress.chunks and progress.done == run["applications"]
    assert progress.changed >= 1 and progress.complete and progress.ranking["year"] == 2021
    total, snap_total, _d, _n = world.state(app_id)
    assert total == snap_total == TOTAL_BOTH_COUNTED
    assert world.outbox(application_id=app_id, completed_at=None) == []
    with world.ctx():
        from backoffice.applications.models import Application
        from backoffice.extensions import db

        above = db.session.scalar(select(db.func.count()).where(Application.year == 2021, Application.total > total))
        assert db.session.scalar(select(Application.rank).where(Application.id == app_id)) == above + 1


def test_a_failed_chunk_is_retried_alone_and_the_ranking_waits_for_it(world, monkeypatch):
    from queues import jobs

    cases = world.free_cases(2)
    for case_id, _app in cases:
        world.decide(case_id)
    run = _fan_out(world, chunk=400)
    assert len(run["chunks"]) >= 4
    failing = run["chunks"][1]
    real = jobs._rescore_chunk_here
    calls = []

    def flaky(part, trigger):
        from rq import get_current_job

        calls.append(get_current_job().id)
        if get_current_job().id == failing and calls.count(failing) == 1:
            raise RuntimeError("database went away")
        return real(part, trigger)

    monkeypatch.setattr(jobs, "_rescore_chunk_here", flaky)
    world.work(purposes=("bulk", "rank"))
    bulk = world.queue("bulk")
    assert bulk.scheduled_job_registry.get_job_ids() == [failing]  # retried after its backoff
    assert Job.fetch(run["rank_job"], connection=world.redis).get_status() == JobStatus.DEFERRED
    progress = jobs.year_progress(world.redis, world.settings, run["run_id"])
    assert (progress.finished, progress.retrying) == (len(run["chunks"]) - 1, 1)

    world.release_scheduled()
    world.work(purposes=("bulk", "rank"))
    # Every other chunk ran once; the failed one twice; then the ranking.
    assert sorted(calls) == sorted(run["chunks"] + [failing])
    assert jobs.year_progress(world.redis, world.settings, run["run_id"]).complete
    for _case, app_id in cases:
        total, snap_total, _d, _n = world.state(app_id)
        assert total == snap_total == TOTAL_BOTH_COUNTED


def test_the_jobs_page_and_the_command_show_a_year_rescores_progress(world):
    from click.testing import CliRunner

    from support import sign_in

    run = _fan_out(world, chunk=500)
    world.work(purposes=("bulk",))  # the chunks, not yet the ranking
    with world.ctx():
        from backoffice.extensions import db
        from backoffice.staff.services import create_staff

        import uuid

        name = f"jobs-admin-{uuid.uuid4().hex[:6]}"
        create_staff(name, "任务测试管理员", "test-password-123", "administrator", None, actor_label="test")
        db.session.commit()
    client = world.app.test_client()
    assert sign_in(client, name).status_code == 302
    page = client.get("/admin/jobs/").get_data(as_text=True)
    assert run["run_id"] in page
    n = len(run["chunks"])
    assert f"{n} / {n}" in page and "等待分块完成" not in page  # the chunks done; the ranking is queued

    from backoffice.cli import main

    env = {"DATABASE_URL": world.settings.database_url, "REDIS_URL": world.settings.redis_url,
           "QUEUE_NAMESPACE": world.settings.queue_namespace, "SECRET_KEY": "c" * 40}
    out = CliRunner().invoke(main, ["rescore", "--progress", "latest"], env=env)
    assert out.exit_code == 0, out.output
    assert f"{n}/{n} chunks, {run['applications']}/{run['applications']} applications" in out.output
    assert "ranking queued" in out.output


def test_a_year_rescored_by_two_processes_matches_the_engine(world):
    """`backoffice rescore --processes 2` (PostgreSQL; SQLite runs it in one process)."""
    from queues.jobs import rescore_year_in_chunks

    cases = world.free_cases(5)
    for case_id, _app in cases:
        world.decide(case_id)  # no relay, no worker: the year's run covers them
    with world.ctx():
        applications, changed = rescore_year_in_chunks(2021, trigger="rule_correction", chunk=300, processes=2)
    assert applications >= 1500 and changed >= 5
    for _case, app_id in cases:
        total, snap_total, _d, _n = world.state(app_id)
        assert total == snap_total == TOTAL_BOTH_COUNTED
        assert world.outbox(application_id=app_id, completed_at=None) == []


def test_a_decision_made_over_http_is_pushed_to_redis_once_its_response_is_sent(world):
    """The after-response push as production runs it (TESTING switches it off elsewhere): the
    reviewer and the supervisor decide in the browser's way, and no relay runs in this test."""
    import re

    from support import csrf_token_from, sign_in

    (case_id, app_id), = world.free_cases(1)
    assert not world.app.testing and world.app.config.get("OUTBOX_PUSH", True)
    with world.ctx():
        from backoffice.cases import services
        from backoffice.cases.models import ReviewCase
        from backoffice.extensions import db

        case = db.session.get(ReviewCase, case_id)
        upload_missing(case, services)  # the applicant's files: nothing is 合格 without one
        db.session.commit()
        ticked = {f"checklist-{row.code}-state": "acceptable" for row in services.checklist_rows(case)}
        reason = services.reasons_for_case(case, "upheld")[0].code

    def post(client, action, **data):
        page = client.get(f"/admin/case/{case_id}/").get_data(as_text=True)
        version = re.search(r'name="version" value="(\d+)"', page).group(1)
        response = client.post(f"/admin/case/{case_id}/{action}",
                               data={"csrf_token": csrf_token_from(page), "version": version, **data})
        response.close()  # as a server does once the response is sent: the push runs now
        return response

    reviewer, supervisor = world.app.test_client(), world.app.test_client()
    assert sign_in(reviewer, "jobs-reviewer").status_code == 302
    assert sign_in(supervisor, "jobs-supervisor").status_code == 302
    assert post(reviewer, "claim").status_code == 302
    assert post(reviewer, "decide", outcome="upheld", reason_code=reason, note="材料齐全，核实无误",
                **ticked).status_code == 302
    assert world.outbox(application_id=app_id) == []  # awaiting the countersignature: nothing to push
    assert post(supervisor, "countersign", decision="confirm").status_code == 302

    row, = world.outbox(application_id=app_id)
    assert row.delivered_at is not None and row.last_error is None  # pushed by the web process itself
    assert world.queue("rescore").get_job_ids() == [row.job_id]
    world.work(purposes=("rescore",))
    total, snap_total, _d, _n = world.state(app_id)
    assert total == snap_total == TOTAL_BOTH_COUNTED


def _rescores(report) -> int:
    """Deliveries of rescore requests (a decision also delivers its notice, backoffice/notices)."""
    return sum(1 for job_id in report.job_ids.values() if "-notice-" not in job_id)
