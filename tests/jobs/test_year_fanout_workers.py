"""A year's rescore fanned out over RQ (issue 18 §6), worked by two real worker processes
(`python -m backoffice worker`, as on two hosts): the chunks are shared between them and the
ranking runs once, after the last chunk. Checked in RQ's registries and the jobs' results."""
from __future__ import annotations

import signal

from rq.job import Job, JobStatus
from sqlalchemy import select, update

from jobs_support import TOTAL_BOTH_COUNTED, wait_until


def _stop(process) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except Exception:
            process.kill()
            process.wait(5)


def _rankings() -> int:
    from backoffice.audit.models import AuditEvent
    from backoffice.extensions import db

    return db.session.scalar(select(db.func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "ranking.computed"))


def test_two_workers_share_the_chunks_and_the_ranking_runs_once_after_the_last(world):
    from backoffice.applications.models import IndicatorClaim, RegistryStatus
    from backoffice.cases.models import ReviewCase
    from backoffice.extensions import db
    from queues.jobs import fan_out_year, year_progress

    # Registry corrections that only a rescore of the year picks up (no request, no decision):
    # the own home of three hand-built applications becomes valid (86.50 → 88.21 by hand).
    picked = world.free_cases(3)
    with world.ctx():
        claim_ids = [db.session.scalar(select(ReviewCase.claim_id).where(ReviewCase.id == case_id))
                     for case_id, _app in picked]
        db.session.execute(update(IndicatorClaim).where(IndicatorClaim.id.in_(claim_ids))
                           .values(registry_status=RegistryStatus.valid, verified=IndicatorClaim.claimed,
                                   registry_reason=None))
        db.session.commit()
        rankings_before = _rankings()

    workers = [world.worker_process("fanout-a"), world.worker_process("fanout-b")]
    try:
        wait_until(lambda: world.workers_listening() == 2, timeout=120, message="both workers listen")
        with world.ctx():
            run = fan_out_year(world.redis, world.settings, 2021, trigger="registry_correction", chunk=100)
        assert len(run["chunks"]) >= 15
        wait_until(lambda: year_progress(world.redis, world.settings, run["run_id"]).complete, timeout=600,
                   interval=0.5, message="every chunk done and the year ranked")
    finally:
        for process in workers:
            _stop(process)

    chunks = [Job.fetch(job_id, connection=world.redis) for job_id in run["chunks"]]
    assert all(job.get_status() == JobStatus.FINISHED for job in chunks)
    # Shared: each worker process took some of the chunks.
    by_worker = {}
    for job in chunks:
        by_worker.setdefault(job.worker_name, []).append(job.id)
    assert len(by_worker) == 2, {name: len(ids) for name, ids in by_worker.items()}
    assert sum(job.return_value()["applications"] for job in chunks) == run["applications"]

    # The ranking: started after the last chunk had ended, finished, and run once.
    rank = Job.fetch(run["rank_job"], connection=world.redis)
    assert rank.get_status() == JobStatus.FINISHED and rank.return_value()["year"] == 2021
    assert rank.started_at >= max(job.ended_at for job in chunks)
    finished_rankings = world.queue("rank").finished_job_registry.get_job_ids()
    assert run["rank_job"] in finished_rankings
    with world.ctx():
        # One ranking per finished rank job of this test's queues: none ran twice.
        assert _rankings() - rankings_before == len(finished_rankings)

    for _case, app_id in picked:
        total, snap_total, _d, _n = world.state(app_id)
        assert total == snap_total == TOTAL_BOTH_COUNTED
