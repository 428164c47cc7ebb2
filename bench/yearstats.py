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
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import date

from sqlalchemy import event, func, select, update

from dashboard import BENCH_NOTE, PASSWORD, _csrf, percentile, prepare  # bench/dashboard.py


def finish_year() -> None:
    from backoffice.applications.models import Application
    from backoffice.core.db import utcnow
    from backoffice.extensions import db

    now = utcnow()
    db.session.execute(update(Application).where(Application.year == 2021, Application.admitted.is_(True))
                       .values(qualified_at=now))
    ids = db.session.scalars(select(Application.id).where(Application.year == 2021, Application.admitted.is_(True))
                             .order_by(Application.id).limit(30)).all()
    db.session.execute(update(Application).where(Application.id.in_(ids))
                       .values(revoked_at=now, revoked_reason="bench: 经核查提供虚假材料"))
    db.session.commit()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--today", default="2021-09-06")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    from backoffice.app import create_app
    from backoffice.applications.models import Application
    from backoffice.cases.models import Decision, ReviewCase
    from backoffice.extensions import db
    from backoffice.settings import Settings
    from backoffice.staff.models import Staff
    from backoffice.yearstats import figures

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

    for label, username in (("city supervisor (all districts)", "bench_sup_city"),
                            (f"district supervisor ({busiest.count} applications)", district_sup)):
        client = app.test_client()
        page = client.get("/admin/login/")
        client.post("/admin/login/", data={"csrf_token": _csrf(page.get_data(as_text=True)),
                                           "username": username, "password": PASSWORD})
        for _ in range(3):
            assert client.get("/admin/yearstats/?year=2021").status_code == 200
        times, per_page = [], []
        for _ in range(args.runs):
            statements.clear()
            started = time.perf_counter()
            response = client.get("/admin/yearstats/?year=2021")
            times.append((time.perf_counter() - started) * 1000)
            per_page.append(len(statements))
            assert response.status_code == 200
        print(f"{label}: median {statistics.median(times):.0f} ms, p90 {percentile(times, 0.9):.0f} ms, "
              f"min {min(times):.0f} ms; {statistics.median(per_page):.0f} SQL statements per page "
              f"(incl. sign-in session lookups); {len(response.data) // 1024} KiB")
        started = time.perf_counter()
        export = client.get("/admin/yearstats/export/employers.csv?year=2021")
        elapsed = (time.perf_counter() - started) * 1000
        rows = export.data.count(b"\n") - 1
        print(f"  employers.csv (all employers, {rows} rows): {elapsed:.0f} ms")

        with app.test_request_context():
            user = db.session.scalar(select(Staff).where(Staff.username == username))
            scope = figures.Scope(year=2021, district_id=user.district_id)
            parts = {}
            for key in ("districts", "employers", "scores", "invalid", "contests_indicator", "tips", "settlement"):
                runs = []
                for _ in range(7):
                    started = time.perf_counter()
                    figures.build(scope, only=key)
                    runs.append((time.perf_counter() - started) * 1000)
                parts[key] = statistics.median(runs)
            db.session.remove()
        print("  per table (median ms): " + ", ".join(f"{k} {v:.1f}" for k, v in parts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
