"""Rescoring at year scale, and decision → new total latency (run by hand, not a test).

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres \\
    REDIS_URL=redis://127.0.0.1:6379/0 \\
    .venv/bin/python bench/rescore.py [--applications 120000] [--sample 3000] [--decisions 40] [--keep]

In a fresh PostgreSQL database beside DATABASE_URL (dropped at the end unless --keep):

1. ``backoffice synth`` of a year of N applications (seed 1);
2. the full-year rescore as ``backoffice rescore --year`` runs it (``rescore_year_in_chunks``,
   chunks of 2 000 through ``scoring_service.rescore_many``, then ``rank_year``): first the
   initial scoring (every application gets a snapshot), then again with nothing changed;
3. a naive loop — one application at a time through the ORM (get the application, lazy-load
   its claims and applicant, build the input, score, read the latest snapshot, add a
   snapshot and an audit event when it changed, commit) — on a sample: the first scoring of a
   second synthetic year of --sample applications, and the re-run of --sample applications of
   the big year; its rate is compared per application with step 2's;
4. decision → new total visible with one worker (`python -m backoffice worker`): a decision
   (claim upheld, case closed, rescore request; one commit) followed by the immediate push a web
   request does after its commit; the time until another connection reads the new
   ``applications.total``.

Each measured step runs in a subprocess of its own, so "peak memory" is that step's max RSS.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _app(url: str, **extra):
    import dataclasses

    from backoffice.app import create_app
    from backoffice.settings import Settings

    settings = dataclasses.replace(Settings.from_env(), database_url=url, **extra)
    return create_app(settings)


# Steps (each in its own process) --------------------------------------------------------------
def step_synth(url: str, year: int, applications: int, seed: int) -> dict:
    from backoffice.synth import synthesize

    app = _app(url)
    with app.app_context():
        started = time.perf_counter()
        summary = synthesize(year=year, applications=applications, seed=seed,
                             open_cases=min(60_000, applications // 2))
        return {"seconds": time.perf_counter() - started, "counts": summary.counts, "rss_mb": _rss_mb()}


def step_bulk(url: str, year: int, processes: int) -> dict:
    from backoffice.extensions import db
    from backoffice.ranking.services import rank_year
    from queues.jobs import rescore_year_in_chunks

    app = _app(url)
    with app.app_context():
        started, cpu = time.perf_counter(), time.process_time()
        applications, changed = rescore_year_in_chunks(year, trigger="bench", processes=processes)
        rank_year(year)
        db.session.commit()
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return {"seconds": time.perf_counter() - started, "applications": applications, "changed": changed,
                "cpu_s": time.process_time() - cpu + children.ru_utime + children.ru_stime,
                "rss_mb": _rss_mb() + processes * children.ru_maxrss / 1024 if processes > 1 else _rss_mb()}


def step_unscore(url: str, year: int) -> dict:
    """Back to an unscored year, to measure the first scoring again (bench database only)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM score_snapshots WHERE application_id IN "
                          "(SELECT id FROM applications WHERE year = :y)"), {"y": year})
        conn.execute(text("UPDATE applications SET total = NULL WHERE year = :y"), {"y": year})
        conn.execute(text("DELETE FROM application_ranks WHERE year = :y"), {"y": year})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    return {}


def step_naive(url: str, year: int, limit: int) -> dict:
    from decimal import Decimal

    from sqlalchemy import select

    from backoffice.applications.facts import build_score_input
    from backoffice.applications.models import Application, ScoreSnapshot
    from backoffice.audit.services import record
    from backoffice.extensions import db
    from backoffice.scoring import ENGINE_VERSION, score

    app = _app(url)
    with app.app_context():
        ids = list(db.session.scalars(select(Application.id).where(Application.year == year)
                                      .order_by(Application.id).limit(limit)))
        db.session.commit()
        started = time.perf_counter()
        changed = 0
        for app_id in ids:
            application = db.session.get(Application, app_id)
            result = score(build_score_input(application, application.claims))
            previous = db.session.scalars(select(ScoreSnapshot).where(ScoreSnapshot.application_id == app_id)
                                          .order_by(ScoreSnapshot.id.desc()).limit(1)).first()
            if previous is None or previous.breakdown.get("indicators") != result["indicators"]:
                total = Decimal(repr(result["total"])).quantize(Decimal("0.01"))
                db.session.add(ScoreSnapshot(application_id=app_id, engine_version=ENGINE_VERSION, total=total,
                                             breakdown=result, trigger="bench-naive"))
                record("score.changed", "application", app_id, district_id=application.district_id,
                       before={"total": str(application.total)}, after={"total": str(total)})
                application.total = total
                changed += 1
            db.session.commit()
        return {"seconds": time.perf_counter() - started, "applications": len(ids), "changed": changed,
                "rss_mb": _rss_mb()}


def step_latency(url: str, redis_url: str, decisions: int) -> dict:
    """Decisions committed one by one, each pushed at once; the worker runs in a subprocess."""
    from types import SimpleNamespace

    from sqlalchemy import create_engine, select, text, update

    from backoffice.applications.facts import build_score_input
    from backoffice.applications.models import Application, IndicatorClaim, RegistryStatus
    from backoffice.cases.models import CaseKind, CaseStatus, Decision, Outcome, ReviewCase
    from backoffice.core.db import utcnow
    from backoffice.extensions import db
    from backoffice.outbox.services import request_rescore
    from backoffice.scoring import score
    from backoffice.staff.models import Staff
    from backoffice.staff.services import create_staff
    from queues.relay import push

    namespace = f"bench{uuid.uuid4().hex[:6]}"
    app = _app(url, redis_url=redis_url, queue_namespace=namespace)
    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": redis_url, "QUEUE_NAMESPACE": namespace,
           "SECRET_KEY": "b" * 40}
    worker = subprocess.Popen([sys.executable, "-m", "backoffice", "worker"], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    reader = create_engine(url)
    try:
        with app.app_context():
            staff_id = db.session.scalar(select(Staff.id).where(Staff.username == "bench-supervisor"))
            if staff_id is None:
                staff_id = create_staff("bench-supervisor", "压测主管", "bench-password-1", "supervisor", None,
                                        actor_label="bench").id
            db.session.commit()
            # Cases whose upholding changes the total, one per application.
            candidates = db.session.execute(
                select(ReviewCase.id, ReviewCase.application_id, ReviewCase.claim_id)
                .join(IndicatorClaim, IndicatorClaim.id == ReviewCase.claim_id)
                .where(ReviewCase.kind == CaseKind.review, ReviewCase.status == CaseStatus.open,
                       IndicatorClaim.registry_status == RegistryStatus.invalid)
                .order_by(ReviewCase.id).limit(decisions * 10)
            ).all()
            picked, seen = [], set()
            for case_id, app_id, claim_id in candidates:
                if app_id in seen:
                    continue
                application = db.session.get(Application, app_id)
                now = score(build_score_input(application, application.claims))["total"]
                claims = [SimpleNamespace(id=c.id, indicator=c.indicator, registry_status=c.registry_status,
                                          verified=dict(c.claimed), verified_by_decision_id=-1, counts=True)
                          if c.id == claim_id else c for c in application.claims]
                if score(build_score_input(application, claims))["total"] != now:
                    picked.append((case_id, app_id))
                    seen.add(app_id)
                if len(picked) == decisions:
                    break
            db.session.commit()
        _wait_idle(redis_url, namespace)  # up, and done with what it starts with (the daily sweep's slot)
        latencies = []
        for case_id, app_id in picked:
            with reader.connect() as conn:
                before = conn.execute(text("SELECT total FROM applications WHERE id = :i"), {"i": app_id}).scalar()
            with app.app_context():
                db.session.execute(update(ReviewCase).where(ReviewCase.id == case_id).values(id=ReviewCase.id))
                case = db.session.get(ReviewCase, case_id)
                claim = db.session.get(IndicatorClaim, case.claim_id)
                decision = Decision(case_id=case.id, outcome=Outcome.upheld, reason_code="verified_valid",
                                    note="压测", decided_by_id=staff_id, changes_score=True)
                db.session.add(decision)
                db.session.flush()
                claim.verified = dict(claim.claimed)
                claim.verified_by_decision_id = decision.id
                case.status = CaseStatus.closed
                case.closed_at = utcnow()
                row = request_rescore(app_id, trigger="decision", decision_id=decision.id)
                db.session.commit()
                committed = time.perf_counter()
                push(app, [row.id])  # what a web request does once its response is sent
            with reader.connect() as conn:
                while True:
                    now_total = conn.execute(text("SELECT total FROM applications WHERE id = :i"),
                                             {"i": app_id}).scalar()
                    conn.commit()
                    if now_total != before:
                        break
                    if time.perf_counter() - committed > 30:
                        raise RuntimeError(f"application {app_id}: no new total after 30 s")
                    time.sleep(0.005)
            latencies.append(time.perf_counter() - committed)
            time.sleep(0.2)
        latencies.sort()
        return {"decisions": len(latencies), "median_s": statistics.median(latencies),
                "p90_s": latencies[int(len(latencies) * 0.9) - 1], "max_s": latencies[-1], "rss_mb": _rss_mb()}
    finally:
        worker.terminate()
        worker.wait(20)
        reader.dispose()


def _wait_idle(redis_url: str, namespace: str, timeout: float = 300) -> None:
    import redis
    from rq import Queue, Worker

    connection = redis.Redis.from_url(redis_url)
    names = {f"{namespace}-{p}" for p in ("rescore", "rank", "maintenance")}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        workers = [w for w in Worker.all(connection=connection) if names & set(w.queue_names())]
        busy = sum(Queue(n, connection=connection).count for n in names)
        if workers and all(str(w.get_state()) in ("idle", "WorkerStatus.IDLE") for w in workers) and busy == 0:
            time.sleep(1)
            return
        time.sleep(0.5)
    raise RuntimeError("the worker did not become idle")


STEPS = {"synth": step_synth, "bulk": step_bulk, "unscore": step_unscore, "naive": step_naive,
         "latency": step_latency}


def run_step(name: str, *args) -> dict:
    out = subprocess.run([sys.executable, __file__, "--step", name, *map(str, args)], cwd=ROOT,
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"step {name} failed:\n{out.stderr[-4000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _latency(url: str, redis_url: str, decisions: int) -> None:
    latency = run_step("latency", url, redis_url, decisions)
    print(f"decision -> new total visible, one worker: {latency['decisions']} decisions, median "
          f"{latency['median_s'] * 1000:.0f} ms, p90 {latency['p90_s'] * 1000:.0f} ms, "
          f"max {latency['max_s'] * 1000:.0f} ms")
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--applications", type=int, default=120_000)
    parser.add_argument("--sample", type=int, default=3000)
    parser.add_argument("--decisions", type=int, default=40)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument("--only-latency", action="store_true", help="synth, one scoring, then step 4 only")
    parser.add_argument("--step", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        name, *rest = args.step
        conv = [int(x) if x.isdigit() else x for x in rest]
        print(json.dumps(STEPS[name](*conv), default=str))
        return

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgresql"):
        raise SystemExit("set DATABASE_URL to a PostgreSQL server (a fresh database is created beside it)")
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    name = f"bench_rescore_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    try:
        from backoffice.migrate import upgrade

        upgrade(url)
        n, s = args.applications, args.sample
        print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; "
              f"database {name}")
        synth = run_step("synth", url, 2021, n, 1)
        print(f"synth {n} applications: {synth['seconds']:.1f} s, peak {synth['rss_mb']:.0f} MB; {synth['counts']}")
        if args.only_latency:
            run_step("bulk", url, 2021, 2)
            return _latency(url, redis_url, args.decisions)
        runs = {}
        for processes in (2, 1):
            run_step("unscore", url, 2021)  # also VACUUM ANALYZE: both runs start from the same state
            first = run_step("bulk", url, 2021, processes)
            again = run_step("bulk", url, 2021, processes)
            runs[processes] = (first, again)
            for label, r in (("first scoring", first), ("nothing changed", again)):
                print(f"bulk ({processes} process{'es' if processes > 1 else ''}), {label}: {r['applications']} "
                      f"applications, {r['changed']} snapshots, {r['seconds']:.1f} s wall, {r['cpu_s']:.1f} s CPU "
                      f"(ours, not PostgreSQL's), peak {r['rss_mb']:.0f} MB")
        first, again = runs[1]  # the naive loop runs in one process: compare like with like
        run_step("synth", url, 2022, s, 2)
        naive_first = run_step("naive", url, 2022, s)
        naive_again = run_step("naive", url, 2021, s)
        for label, naive, bulk in (("first scoring", naive_first, first), ("nothing changed", naive_again, again)):
            per_naive = naive["seconds"] / naive["applications"]
            per_bulk = bulk["seconds"] / bulk["applications"]
            print(f"naive ORM loop, {label}: {naive['applications']} applications in {naive['seconds']:.1f} s "
                  f"({per_naive * 1000:.2f} ms each, {per_naive * n:.0f} s for {n}); bulk {per_bulk * 1000:.3f} ms "
                  f"each: {per_naive / per_bulk:.1f}x")
        _latency(url, redis_url, args.decisions)
    finally:
        if not args.keep:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
