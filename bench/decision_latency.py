"""Decision → new total while rankings run, with one and with two workers (issue 18 §2).
Run by hand, not a test.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench_rescore_lat \\
    REDIS_URL=redis://127.0.0.1:6379/0 \\
    .venv/bin/python bench/decision_latency.py [--decisions 60] [--setups 1:nolane 1 2]

DATABASE_URL is a database of its own with a scored synthetic year (`backoffice synth`, then
`backoffice rescore --year 2021`). For each setup — a worker count, ``N`` with each worker's
decision lane (production's default), ``N:nolane`` with `--no-decision-lane` (one process takes
every queue in turn) — in one run, on fresh queue names:

* that many `python -m backoffice worker` processes (each with its relay thread and RQ's
  scheduler, and its decision lane unless ``:nolane``), as production runs them;
* a driver thread that keeps a ranking running: whenever the rank queue is empty and no
  ranking is running, it enqueues `rerank_year(2021)` — rankings back to back, the worst case;
  with ``--rank-every S`` at most one every S seconds (production debounces them to one per
  30 s window);
* decisions one after another, 0.1–0.5 s apart (so they land at every phase of a ranking):
  a 复查 upheld, its claim superseded, the case closed and the rescore requested in one commit,
  then the immediate push a web request does after its response; the time until another
  connection reads the new ``applications.total``.

Prints median, p90, p99 (nearest rank) and max per setup, how many decisions were
committed while a ranking was running, the rankings run and their median duration, and the
load average beside each line.
"""
from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.1f} (5 min {five:.1f})"


def pick_cases(app, n: int) -> list[tuple[int, int]]:
    """Open 复查 cases whose upholding changes their application's total, one per application."""
    from types import SimpleNamespace

    from sqlalchemy import select

    from backoffice.applications.facts import build_score_input
    from backoffice.applications.models import Application, IndicatorClaim, RegistryStatus
    from backoffice.cases.models import CaseKind, CaseStatus, ReviewCase
    from backoffice.extensions import db
    from backoffice.scoring import score

    picked, seen = [], set()
    with app.app_context():
        rows = db.session.execute(
            select(ReviewCase.id, ReviewCase.application_id, ReviewCase.claim_id)
            .join(IndicatorClaim, IndicatorClaim.id == ReviewCase.claim_id)
            .join(Application, Application.id == ReviewCase.application_id)
            .where(ReviewCase.kind == CaseKind.review, ReviewCase.status == CaseStatus.open,
                   IndicatorClaim.registry_status == RegistryStatus.invalid, Application.total.is_not(None))
            .order_by(ReviewCase.id).limit(n * 10)
        ).all()
        for case_id, app_id, claim_id in rows:
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
            if len(picked) == n:
                break
        db.session.rollback()
    if len(picked) < n:
        raise SystemExit(f"only {len(picked)} suitable open cases left (asked for {n})")
    return picked


def decide(app, staff_id: int, case_id: int, app_id: int) -> int:
    """One commit, as the case services make it; returns the outbox row id of the rescore request."""
    from sqlalchemy import update

    from backoffice.applications.models import IndicatorClaim
    from backoffice.cases.models import CaseStatus, Decision, Outcome, ReviewCase
    from backoffice.core.db import utcnow
    from backoffice.extensions import db
    from backoffice.outbox.services import request_rescore

    with app.app_context():
        db.session.execute(update(ReviewCase).where(ReviewCase.id == case_id).values(id=ReviewCase.id))
        case = db.session.get(ReviewCase, case_id)
        claim = db.session.get(IndicatorClaim, case.claim_id)
        decision = Decision(case_id=case.id, outcome=Outcome.upheld, reason_code="verified_valid", note="压测",
                            decided_by_id=staff_id, changes_score=True)
        db.session.add(decision)
        db.session.flush()
        claim.verified = dict(claim.claimed)
        claim.verified_by_decision_id = decision.id
        case.status = CaseStatus.closed
        case.closed_at = utcnow()
        row = request_rescore(app_id, trigger="decision", decision_id=decision.id)
        db.session.commit()
        return row.id


class Rankings(threading.Thread):
    """Keeps a ranking of the year running, back to back."""

    def __init__(self, settings, connection, every: float = 0.0, year: int = 2021):
        super().__init__(daemon=True)
        self.settings, self.connection, self.every, self.year = settings, connection, every, year
        self.stopped = threading.Event()
        self.enqueued: list[str] = []

    def running(self) -> bool:
        from queues.jobs import queue_name
        from rq import Queue

        return Queue(queue_name(self.settings, "rank"), connection=self.connection).started_job_registry.count > 0

    def run(self) -> None:
        from rq import Queue

        from queues.jobs import queue_name, rerank_year

        queue = Queue(queue_name(self.settings, "rank"), connection=self.connection)
        last = 0.0
        while not self.stopped.wait(0.05):
            if queue.count == 0 and queue.started_job_registry.count == 0 and time.monotonic() - last >= self.every:
                job = queue.enqueue(rerank_year, kwargs={"year": self.year}, **rerank_year.spec.options())
                self.enqueued.append(job.id)
                last = time.monotonic()

    def durations(self) -> list[float]:
        from rq.job import Job

        out = []
        for job in Job.fetch_many(self.enqueued, connection=self.connection):
            if job is not None and job.started_at and job.ended_at:
                out.append((job.ended_at - job.started_at).total_seconds())
        return out


def wait_for_workers(connection, settings, n: int, timeout: float = 180) -> None:
    """n workers on the rank queue and n on the rescore queue (the same n processes without the
    lane; n workers and their n lanes with it), all idle."""
    from rq import Worker

    from queues.jobs import queue_name

    names = (queue_name(settings, "rescore"), queue_name(settings, "rank"))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        workers = [w for w in Worker.all(connection=connection) if set(names) & set(w.queue_names())]
        if (all(sum(1 for w in workers if name in w.queue_names()) == n for name in names)
                and all(str(w.get_state()).lower().endswith("idle") for w in workers)):
            return
        time.sleep(0.5)
    raise SystemExit("the workers did not come up")


def phase(url: str, redis_url: str, workers: int, lane: bool, cases, staff_id: int, rank_every: float,
          year: int = 2021) -> None:
    import dataclasses

    import redis
    from sqlalchemy import create_engine, text

    from backoffice.app import create_app
    from backoffice.settings import Settings
    from queues.relay import push

    namespace = f"lat{uuid.uuid4().hex[:6]}"
    settings = dataclasses.replace(Settings.from_env(), database_url=url, redis_url=redis_url,
                                   queue_namespace=namespace)
    app = create_app(settings)
    connection = redis.Redis.from_url(redis_url)
    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": redis_url, "QUEUE_NAMESPACE": namespace,
           "SECRET_KEY": "b" * 40}
    command = [sys.executable, "-m", "backoffice", "worker"] + ([] if lane else ["--no-decision-lane"])
    processes = [subprocess.Popen(command, env=env, cwd=ROOT,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(workers)]
    reader = create_engine(url)
    rankings = Rankings(settings, connection, rank_every, year)
    try:
        wait_for_workers(connection, settings, workers)
        rankings.start()
        time.sleep(2)
        latencies, during = [], []
        for case_id, app_id in cases:
            with reader.connect() as conn:
                before = conn.execute(text("SELECT total FROM applications WHERE id = :i"), {"i": app_id}).scalar()
            ranking_now = rankings.running()
            row_id = decide(app, staff_id, case_id, app_id)
            committed = time.perf_counter()
            push(app, [row_id])  # what a web request does once its response is sent
            with reader.connect() as conn:
                while True:
                    total = conn.execute(text("SELECT total FROM applications WHERE id = :i"), {"i": app_id}).scalar()
                    conn.commit()
                    if total != before:
                        break
                    if time.perf_counter() - committed > 60:
                        raise RuntimeError(f"application {app_id}: no new total after 60 s")
                    time.sleep(0.005)
            latency = time.perf_counter() - committed
            latencies.append(latency)
            if ranking_now:
                during.append(latency)
            time.sleep(random.uniform(0.1, 0.5))
        rankings.stopped.set()
        rankings.join(5)
        ordered = sorted(latencies)

        def nearest(p):
            return ordered[max(0, math.ceil(p * len(ordered)) - 1)]

        ranks = sorted(rankings.durations())
        regime = f"a ranking started every {rank_every:.0f} s" if rank_every else "rankings back to back"
        setup = f"{workers} worker{'s' if workers > 1 else ''} " + ("with decision lanes" if lane else "without lane")
        print(f"{setup}, {regime}: {len(latencies)} decisions, median "
              f"{statistics.median(ordered) * 1000:.0f} ms, p90 {nearest(0.9) * 1000:.0f} ms, p99 "
              f"{nearest(0.99) * 1000:.0f} ms, max {ordered[-1] * 1000:.0f} ms; {len(during)} committed while a "
              f"ranking ran (their max {max(during, default=0) * 1000:.0f} ms); {len(ranks)} rankings, median "
              f"{statistics.median(ranks) if ranks else 0:.2f} s; {load()}", flush=True)
    finally:
        rankings.stopped.set()
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(30)
        reader.dispose()
        for key in connection.scan_iter(match=f"*{namespace}*", count=1000):
            connection.delete(key)


def setup(text: str) -> tuple[int, bool]:
    """"2" → two workers with their decision lanes; "1:nolane" → one worker, no lane."""
    count, _, kind = text.partition(":")
    if not count.isdigit() or int(count) < 1 or kind not in ("", "nolane", "lane"):
        raise argparse.ArgumentTypeError(f"expected N or N:nolane, got {text!r}")
    return int(count), kind != "nolane"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--decisions", type=int, default=60)
    parser.add_argument("--setups", nargs="+", default=["1:nolane", "1", "2"], type=setup,
                        help="worker counts, each with its decision lane (N) or without (N:nolane)")
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--rank-every", type=float, default=0.0,
                        help="seconds between rankings (0: back to back; production debounces to 30)")
    parser.add_argument("--year", type=int, default=2021, help="the scored year whose rankings run")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        raise SystemExit("set DATABASE_URL to the PostgreSQL benchmark database")
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    random.seed(args.seed)

    import dataclasses

    from sqlalchemy import select

    from backoffice.app import create_app
    from backoffice.extensions import db
    from backoffice.settings import Settings
    from backoffice.staff.models import Staff
    from backoffice.staff.services import create_staff

    app = create_app(dataclasses.replace(Settings.from_env(), database_url=url))
    with app.app_context():
        staff_id = db.session.scalar(select(Staff.id).where(Staff.username == "bench-supervisor"))
        if staff_id is None:
            staff_id = create_staff("bench-supervisor", "压测主管", "bench-password-1", "supervisor", None,
                                    actor_label="bench").id
        db.session.commit()
    cases = pick_cases(app, args.decisions * len(args.setups))
    print(f"{os.cpu_count()} CPUs, {load()}; {args.decisions} decisions per setup", flush=True)
    for n, (workers, lane) in enumerate(args.setups):
        phase(url, redis_url, workers, lane, cases[n * args.decisions:(n + 1) * args.decisions], staff_id,
              args.rank_every, args.year)


if __name__ == "__main__":
    main()
