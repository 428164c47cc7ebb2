"""The year statistics page on a full year (run by hand, not a test).

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench_notices \\
        .venv/bin/backoffice db upgrade && .venv/bin/backoffice synth --year 2021 --applications 120000 --seed 7 \\
        && .venv/bin/backoffice rescore --year 2021          # totals, ranks, the cut-off
    DATABASE_URL=... .venv/bin/python bench/yearstats.py [--runs 30]

Once per database it adds what a finished year has beyond the synthetic one: the turnaround
history of bench/dashboard.py (staff, ~70 % of the cases decided and closed), the qualification
of the admitted, and 30 revocations. Then it renders /admin/yearstats/?year=2021 through the
app (test client, signed in) for the city supervisor and the busiest district's supervisor,
`--runs` times each after 3 warm-ups, and prints median / p90 / SQL statements per page, then
each table alone and the full employers' export.

`--before FILE` measures an earlier `backoffice/yearstats/figures.py` side by side, e.g.
`git show ba88966:backoffice/yearstats/figures.py > /tmp/figures_before.py`: each run renders the
page once with each version, alternately, so both see the same machine load; the load average
is printed with each user's block, and the two versions' tables are compared.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import time
from datetime import date

from sqlalchemy import event, func, select, update

from dashboard import BENCH_NOTE, PASSWORD, _csrf, percentile, prepare  # bench/dashboard.py


def _admitted(year: int):
    """The ids of the year's admitted applications (application_ranks)."""
    from backoffice.applications.models import ApplicationRank

    return select(ApplicationRank.application_id).where(ApplicationRank.year == year,
                                                        ApplicationRank.admitted.is_(True))


def finish_year() -> None:
    from backoffice.applications.models import Application
    from backoffice.core.db import utcnow
    from backoffice.extensions import db

    now = utcnow()
    db.session.execute(update(Application).where(Application.id.in_(_admitted(2021)))
                       .values(qualified_at=now))
    ids = db.session.scalars(select(Application.id).where(Application.id.in_(_admitted(2021)))
                             .order_by(Application.id).limit(30)).all()
    db.session.execute(update(Application).where(Application.id.in_(ids))
                       .values(revoked_at=now, revoked_reason="bench: 经核查提供虚假材料"))
    db.session.commit()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--today", default="2021-09-06")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--before", help="an earlier figures.py to measure side by side")
    args = parser.parse_args()

    from backoffice.app import create_app
    from backoffice.applications.models import Application
    from backoffice.cases.models import Decision, ReviewCase
    from backoffice.extensions import db
    from backoffice.settings import Settings
    from backoffice.staff.models import Staff
    from backoffice.yearstats import figures, views

    settings = Settings.from_env()
    if not settings.database_url.startswith("postgresql"):
        print("warning: not PostgreSQL; the recorded figures are for PostgreSQL", file=sys.stderr)
    app = create_app(settings, WTF_CSRF_ENABLED=True)
    with app.app_context():
        if not db.session.scalar(select(func.count()).select_from(Decision).where(Decision.note == BENCH_NOTE)):
            prepare(date.fromisoformat(args.today), args.seed)
        if not db.session.scalar(select(func.count()).where(Application.revoked_at.is_not(None))):
            finish_year()
        apps, admitted = db.session.execute(select(func.count(), func.count().filter(Application.admitted.is_(True)))
                                            .where(Application.year == 2021)).one()
        cases = db.session.scalar(select(func.count()).select_from(ReviewCase))
        decisions = db.session.scalar(select(func.count()).select_from(Decision))
        busiest = db.session.execute(
            select(Application.district_id, func.count()).where(Application.year == 2021)
            .group_by(Application.district_id).order_by(func.count().desc()).limit(1)).first()
        district_sup = db.session.scalar(select(Staff.username).where(
            Staff.role == "supervisor", Staff.district_id == busiest.district_id, Staff.username.like("bench_%")))
        db.session.remove()
    print(f"year 2021: {apps} applications, {admitted} admitted, {cases} cases, {decisions} decisions")

    statements = []
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda *a, **k: statements.append(1))

    versions = [("this version", figures)]
    if args.before:
        spec = importlib.util.spec_from_file_location("figures_before", args.before)
        before = importlib.util.module_from_spec(spec)
        sys.modules["figures_before"] = before  # dataclasses look their module up
        spec.loader.exec_module(before)
        versions.append(("before", before))

    def load() -> str:
        return "/".join(f"{x:.1f}" for x in os.getloadavg())

    for label, username in (("city supervisor (all districts)", "bench_sup_city"),
                            (f"district supervisor ({busiest.count} applications)", district_sup)):
        client = app.test_client()
        page = client.get("/admin/login/")
        client.post("/admin/login/", data={"csrf_token": _csrf(page.get_data(as_text=True)),
                                           "username": username, "password": PASSWORD})
        times = {name: [] for name, _ in versions}
        per_page = {name: [] for name, _ in versions}
        started_load = load()
        for run in range(args.runs + 3):
            order = versions if run % 2 == 0 else versions[::-1]
            for name, module in order:
                views.figures = module
                statements.clear()
                started = time.perf_counter()
                response = client.get("/admin/yearstats/?year=2021")
                elapsed = (time.perf_counter() - started) * 1000
                assert response.status_code == 200
                if run >= 3:  # 3 warm-ups
                    times[name].append(elapsed)
                    per_page[name].append(len(statements))
        views.figures = figures
        print(f"{label} (load average {started_load} → {load()}):")
        for name, _module in versions:
            t = times[name]
            print(f"  {name}: median {statistics.median(t):.0f} ms, p90 {percentile(t, 0.9):.0f} ms, "
                  f"min {min(t):.0f} ms; {statistics.median(per_page[name]):.0f} SQL statements per page "
                  f"(incl. sign-in session lookups)")
        started = time.perf_counter()
        export = client.get("/admin/yearstats/export/employers.csv?year=2021")
        elapsed = (time.perf_counter() - started) * 1000
        rows = export.data.count(b"\n") - 1
        print(f"  employers.csv (all employers, {rows} rows): {elapsed:.0f} ms")

        with app.test_request_context():
            user = db.session.scalar(select(Staff).where(Staff.username == username))
            results = {}
            for name, module in versions:
                scope = module.Scope(year=2021, district_id=user.district_id)
                results[name] = {k: (t.rows, t.total_rows) for k, t in module.build(scope).items()}
            if len(results) == 2:
                differ = [k for k in results["this version"] if results["this version"][k] != results["before"].get(k)]
                print("  tables equal to the earlier version's" if not differ
                      else f"  tables that differ from the earlier version's: {', '.join(differ)}")
            parts = {}
            scope = figures.Scope(year=2021, district_id=user.district_id)
            for key in ("districts", "employers", "scores", "invalid", "contests_indicator", "tips", "settlement"):
                runs = []
                for _ in range(7):
                    started = time.perf_counter()
                    figures.build(scope, only=key)
                    runs.append((time.perf_counter() - started) * 1000)
                parts[key] = statistics.median(runs)
            db.session.remove()
        print("  per table, this version (median ms): " + ", ".join(f"{k} {v:.1f}" for k, v in parts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
