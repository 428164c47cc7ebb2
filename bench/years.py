"""Ten years kept against one (issue 18 §7): the current year's pages and jobs on a database
holding only that year and on one holding nine earlier, finished years besides (run by hand on
PostgreSQL, not a test).

    U=postgresql+psycopg://postgres@127.0.0.1:5432
    createdb bench_scale_1y && DATABASE_URL=$U/bench_scale_1y backoffice db upgrade
    DATABASE_URL=$U/bench_scale_1y backoffice synth --year 2027 --applications 120000 --seed 7
    createdb -T bench_scale_1y bench_scale          # the same current year, then nine earlier ones
    for y in 2018 2019 2020 2021 2022 2023 2024 2025 2026; do
      DATABASE_URL=$U/bench_scale backoffice synth --year $y --applications 120000 --seed $y --closed
    done
    .venv/bin/python bench/years.py --one $U/bench_scale_1y --ten $U/bench_scale [--runs 20] [--no-jobs]

1. once per database (when its bench staff is missing), the same steps on both, each timed:
   the year's first scoring and ranking (`backoffice rescore --year Y`, 2 processes, in a
   process of its own); the turnaround history of bench/dashboard.py as of TODAY (staff, ~70 %
   of the year's cases decided and closed, the rest half in review, the backlog and the sweep);
   the admitted qualified and 30 revocations (bench/yearstats.py); VACUUM ANALYZE;
2. then, alternating between the two databases round by round so both see the same machine
   load: each page through the app (Flask test client, signed in, in-process), `--runs` times
   after 3 warm-ups — median wall, median CPU of this process (time.process_time), statements;
3. the year's rescore with nothing changed and its ranking (`backoffice rank`), each database
   in turn, in processes of their own (wall, and CPU of the child);
4. prints one table, ten years ÷ one year per row, and the load average.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from sqlalchemy import event, func, select, text, update

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dashboard import PASSWORD, _csrf, prepare as turnaround_history  # noqa: E402  bench/dashboard.py

ROOT = Path(__file__).resolve().parents[1]
BACKOFFICE = str(ROOT / ".venv" / "bin" / "backoffice")


def _load() -> str:
    return " ".join(open("/proc/loadavg").read().split()[:3])


def _cli(url: str, *args: str) -> dict:
    """A `backoffice` command in a process of its own: wall clock and the child's CPU."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run([BACKOFFICE, *args], env={**os.environ, "DATABASE_URL": url}, capture_output=True,
                          text=True, check=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": wall, "cpu": cpu, "out": done.stdout.strip().splitlines()[-1:], "load": _load()}


def _admitted(year: int):
    """The ids of the year's admitted applications (application_ranks)."""
    from backoffice.applications.models import ApplicationRank

    return select(ApplicationRank.application_id).where(ApplicationRank.year == year,
                                                        ApplicationRank.admitted.is_(True))


def _finish_year(year: int) -> None:
    """bench/yearstats.py's finish_year for `year`: the admitted qualified, 30 revocations."""
    from backoffice.applications.models import Application
    from backoffice.core.db import utcnow
    from backoffice.extensions import db

    now = utcnow()
    db.session.execute(update(Application).where(Application.id.in_(_admitted(year)))
                       .values(qualified_at=now))
    ids = db.session.scalars(select(Application.id).where(Application.id.in_(_admitted(year)))
                             .order_by(Application.id).limit(30)).all()
    db.session.execute(update(Application).where(Application.id.in_(ids))
                       .values(revoked_at=now, revoked_reason="bench: 经核查提供虚假材料"))
    db.session.commit()


def prepare(app, url: str, year: int, today: date, seed: int) -> dict:
    from backoffice.extensions import db

    timings = {"first rescore + rank": _cli(url, "rescore", "--year", str(year), "--processes", "2")}
    with app.app_context():
        t0 = time.perf_counter()
        turnaround_history(today, seed)
        _finish_year(year)
        timings["history"] = {"wall": time.perf_counter() - t0}
        db.session.remove()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    return timings


class Counter:
    def __init__(self, engine):
        self.n = 0
        event.listen(engine, "after_cursor_execute", self._after)

    def _after(self, *args):
        self.n += 1


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--one", required=True, help="database URL: the current year alone")
    parser.add_argument("--ten", required=True, help="database URL: the current year and nine earlier ones")
    parser.add_argument("--year", type=int, default=2027)
    parser.add_argument("--today", default=None, help="the history's today (default: YEAR-09-06)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--only", help="measure only the pages whose name contains this (no jobs)")
    parser.add_argument("--no-jobs", action="store_true", help="measure the pages only, not the rescore and ranking")
    parser.add_argument("--prepare-only", choices=("one", "ten"),
                        help="prepare that database and stop (to prepare one while the other is generated)")
    args = parser.parse_args()
    today = date.fromisoformat(args.today or f"{args.year}-09-06")
    year = args.year

    from backoffice.app import create_app
    from backoffice.applications.models import Applicant, Application
    from backoffice.cases.models import ReviewCase
    from backoffice.extensions import db
    from backoffice.settings import Settings
    from backoffice.staff.models import Staff
    from backoffice.turnaround import views as turnaround_views

    turnaround_views.beijing_today = lambda: today  # the history is as of TODAY
    base = Settings.from_env()
    dbs = {"1 year": args.one, "10 years": args.ten}
    apps, setup = {}, {}
    for label, url in dbs.items():
        if args.prepare_only and label != {"one": "1 year", "ten": "10 years"}[args.prepare_only]:
            continue
        app = create_app(dataclasses.replace(base, database_url=url), WTF_CSRF_ENABLED=True)
        apps[label] = app
        with app.app_context():
            prepared = db.session.scalar(select(Staff.id).where(Staff.username == "bench_sup_city")) is not None
            db.session.remove()
        if not prepared:
            print(f"{label}: preparing (first rescore, history, VACUUM ANALYZE) at load {_load()} ...", flush=True)
            setup[label] = prepare(app, url, year, today, args.seed)
            print(f"  {setup[label]}", flush=True)
    if args.prepare_only:
        return 0

    # What to fetch: the same users and the same targets on both (the current year is the same
    # synthetic year in both databases, so ids of its rows are equal).
    with apps["1 year"].app_context():
        busiest = db.session.execute(
            select(ReviewCase.district_id, func.count()).where(ReviewCase.year == year, ReviewCase.status != "closed")
            .group_by(ReviewCase.district_id).order_by(func.count().desc()).limit(1)).first().district_id
        code = db.session.scalar(text("SELECT code FROM districts WHERE id = :d"), {"d": busiest})
        reviewer = f"bench_r{code}_0"
        target = db.session.execute(
            select(ReviewCase.id, ReviewCase.application_id, Applicant.id_last4, Applicant.name)
            .join(Application, Application.id == ReviewCase.application_id)
            .join(Applicant, Applicant.id == Application.applicant_id)
            .where(ReviewCase.year == year, ReviewCase.queue == "housing", ReviewCase.status == "open",
                   ReviewCase.district_id == busiest)
            .order_by(ReviewCase.id).limit(1)).one()
        with apps["1 year"].test_request_context():
            from flask import url_for
            workspace = url_for("case.workspace", case_id=target.id)
        db.session.remove()
    for label, app in apps.items():
        with app.app_context():
            n_apps = db.session.scalar(select(func.count()).select_from(Application))
            n_cases = dict(db.session.execute(select(ReviewCase.status, func.count()).group_by(ReviewCase.status)).all())
            same_last4 = db.session.scalar(select(func.count()).where(Applicant.id_last4 == target.id_last4))
            same_name = db.session.scalar(select(func.count()).where(Applicant.name == target.name))
            db.session.remove()
        print(f"{label}: {n_apps} applications, cases { {getattr(k, 'value', k): v for k, v in n_cases.items()} }; "
              f"applicants with last four {target.id_last4}: {same_last4}, named {target.name}: {same_name}")

    pages = [
        ("worklist, district reviewer, housing, page 1", reviewer, "/admin/queue_housing/"),
        ("worklist, city supervisor, housing, page 1", "bench_sup_city", "/admin/queue_housing/"),
        ("worklist, city, housing, received (newest first), page 1", "bench_sup_city",
         "/admin/queue_housing/?sort=3&desc=1"),
        ("worklist, city, housing, closed, page 200", "bench_sup_city",
         "/admin/queue_housing/?flt0_status=closed&page=199"),
        ("worklist, city, housing, closed, received (newest first), page 1", "bench_sup_city",
         "/admin/queue_housing/?flt0_status=closed&sort=3&desc=1"),
        ("search ID last 4, city, housing", "bench_sup_city", f"/admin/queue_housing/?search={target.id_last4}"),
        ("search ID last 4, district reviewer, housing", reviewer,
         f"/admin/queue_housing/?search={target.id_last4}"),
        ("search name, city, housing", "bench_sup_city", f"/admin/queue_housing/?search={target.name}"),
        ("search application number, city, housing", "bench_sup_city",
         f"/admin/queue_housing/?search={year}-{target.application_id:06d}"),
        ("search name, applicants, city", "bench_sup_city", f"/admin/applicants/?search={target.name}"),
        ("case workspace", reviewer, workspace),
        ("turnaround dashboard, city", "bench_sup_city", "/admin/turnaround/"),
        (f"year statistics {year}, city", "bench_sup_city", f"/admin/yearstats/?year={year}"),
    ]
    if args.only:
        pages = [p for p in pages if args.only in p[0]]
    clients, counters = {}, {}
    for label, app in apps.items():
        with app.app_context():
            counters[label] = Counter(db.engine)
        for user in {u for _, u, _ in pages}:
            client = app.test_client()
            page = client.get("/admin/login/").get_data(as_text=True)
            response = client.post("/admin/login/", data={"csrf_token": _csrf(page), "username": user,
                                                          "password": PASSWORD})
            assert response.status_code == 302, (label, user, response.status_code)
            clients[label, user] = client

    results = {}
    loads = [_load()]
    for name, user, url in pages:
        for label in dbs:
            for _ in range(3):
                response = clients[label, user].get(url)
                assert response.status_code == 200, (name, label, response.status_code)
        walls = {label: [] for label in dbs}
        cpus = {label: [] for label in dbs}
        statements = {label: set() for label in dbs}
        for _ in range(args.runs):  # round by round, so both databases see the same load
            for label in dbs:
                counters[label].n = 0
                t0, c0 = time.perf_counter(), time.process_time()
                response = clients[label, user].get(url)
                walls[label].append(time.perf_counter() - t0)
                cpus[label].append(time.process_time() - c0)
                assert response.status_code == 200
                statements[label].add(counters[label].n)
        results[name] = {label: (statistics.median(walls[label]), statistics.median(cpus[label]),
                                 sorted(statements[label])) for label in dbs}
        one, ten = results[name]["1 year"], results[name]["10 years"]
        print(f"{name}: {url}\n  1 year {one[0] * 1000:.1f} ms (CPU {one[1] * 1000:.1f}), "
              f"10 years {ten[0] * 1000:.1f} ms (CPU {ten[1] * 1000:.1f}), ×{ten[0] / one[0]:.2f}; "
              f"statements {one[2]} / {ten[2]}; load {_load()}", flush=True)
        loads.append(_load())

    jobs = {}
    for step, cli_args in () if args.only or args.no_jobs else (("rescore, nothing changed (+ rank)", ("rescore", "--year", str(year), "--processes", "2")),
                           ("rank", ("rank", "--year", str(year)))):
        jobs[step] = {}
        for label, url in dbs.items():
            jobs[step][label] = _cli(url, *cli_args)
            print(f"{step}, {label}: {jobs[step][label]}", flush=True)
    loads.append(_load())

    print(f"\nload average during the run: {', '.join(loads)}")
    print("| current year (2027) | 1 year | 10 years | 10 ÷ 1 | CPU 1 year / 10 years | statements |")
    print("|---|---|---|---|---|---|")
    for name, r in results.items():
        one, ten = r["1 year"], r["10 years"]
        print(f"| {name} | {one[0] * 1000:.1f} ms | {ten[0] * 1000:.1f} ms | {ten[0] / one[0]:.2f} | "
              f"{one[1] * 1000:.1f} / {ten[1] * 1000:.1f} ms | {'/'.join(map(str, one[2]))} · "
              f"{'/'.join(map(str, ten[2]))} |")
    for step, r in {**{k: {lbl: t[k] for lbl, t in setup.items()} for k in ("first rescore + rank",)
                       if len(setup) == 2}, **jobs}.items():
        one, ten = r["1 year"], r["10 years"]
        print(f"| {step} | {one['wall']:.1f} s | {ten['wall']:.1f} s | {ten['wall'] / one['wall']:.2f} | "
              f"{one['cpu']:.1f} / {ten['cpu']:.1f} s | |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
