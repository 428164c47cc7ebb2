"""The supervisors' turnaround dashboard on a full year (run by hand, not a test).

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/e7_bench \\
        .venv/bin/backoffice db upgrade && .venv/bin/backoffice synth --year 2021 --seed 7
    DATABASE_URL=... .venv/bin/python bench/dashboard.py [--runs 30] [--today 2021-09-06]

1. once per database (when no bench history is there yet): gives the synthetic year a
   turnaround history as of TODAY — 3 reviewers and 1 supervisor per district, a city
   supervisor; of the cases received at least 2 days before, ~70% decided 2–14 working days
   after receipt (one decision each, by a reviewer of the district) and closed; half of the
   rest in review; 30 days of backlog rows (record_backlog) and TODAY's sweep (escalations);
2. renders /admin/turnaround/ through the app (test client, signed in) for the city
   supervisor and for the supervisor of the busiest district, `--runs` times each after a
   warm-up, "today" pinned to TODAY; prints median / p90 server time and the number of SQL
   statements per page, then the time of each table alone and of the full overdue export.
"""
from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import time
from datetime import date, datetime, time as dtime, timedelta, timezone

from sqlalchemy import event, func, insert, select, update

BENCH_NOTE = "bench-turnaround"
PASSWORD = "bench-password-2021"


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def prepare(today: date, seed: int) -> None:
    from backoffice.cases.clock import add_working_days
    from backoffice.cases.models import CaseStatus, Decision, Outcome, ReviewCase
    from backoffice.extensions import db
    from backoffice.reference.models import District
    from backoffice.staff.models import Staff
    from backoffice.staff.services import create_staff
    from backoffice.turnaround.sql import BEIJING
    from backoffice.turnaround.sweep import record_backlog, sweep

    rng = random.Random(seed)
    districts = db.session.execute(select(District.id, District.code).order_by(District.code)).all()
    reviewers: dict[int, list[int]] = {}
    for d in districts:
        for i in range(3):
            s = create_staff(f"bench_r{d.code}_{i}", f"审核员{d.code}-{i}", PASSWORD, "reviewer", d.id,
                             actor_label="bench")
            reviewers.setdefault(d.id, []).append(s.id)
        create_staff(f"bench_sup{d.code}", f"主管{d.code}", PASSWORD, "supervisor", d.id, actor_label="bench")
    create_staff("bench_sup_city", "市级主管", PASSWORD, "supervisor", None, actor_label="bench")
    db.session.flush()

    cases = db.session.execute(
        select(ReviewCase.id, ReviewCase.district_id, ReviewCase.received_on, ReviewCase.status)
        .where(ReviewCase.received_on <= today - timedelta(days=2)).order_by(ReviewCase.id)
    ).all()
    closing, assigning, decisions = [], [], []
    for c in cases:
        who = rng.choice(reviewers[c.district_id])
        if c.status == CaseStatus.open and rng.random() < 0.7:
            day = add_working_days(c.received_on, rng.choice((2, 3, 4, 5, 6, 7, 8, 8, 9, 9, 10, 10, 11, 12, 14)))
            if day < today:
                at = datetime.combine(day, dtime(9), tzinfo=BEIJING) + timedelta(minutes=rng.randrange(0, 540))
                at = at.astimezone(timezone.utc)
                closing.append({"cid": c.id, "who": who, "at": at})
                decisions.append({"case_id": c.id, "outcome": rng.choice((Outcome.upheld, Outcome.rejected,
                                                                           Outcome.rejected, Outcome.corrected)),
                                  "reason_code": "bench", "note": BENCH_NOTE, "decided_by_id": who, "decided_at": at,
                                  "changes_score": False})
                continue
        if c.status == CaseStatus.open and rng.random() < 0.5:
            assigning.append({"cid": c.id, "who": who})
    from sqlalchemy import bindparam

    t = ReviewCase.__table__
    if closing:
        db.session.execute(update(t).where(t.c.id == bindparam("cid")).values(
            status="closed", closed_at=bindparam("at"), assignee_id=bindparam("who"), version=t.c.version + 1),
            closing)
    if assigning:
        db.session.execute(update(t).where(t.c.id == bindparam("cid")).values(
            status="in_review", assignee_id=bindparam("who"), version=t.c.version + 1), assigning)
    for i in range(0, len(decisions), 10_000):
        db.session.execute(insert(Decision.__table__), decisions[i:i + 10_000])
    db.session.commit()
    for back in range(29, 0, -1):
        record_backlog(today - timedelta(days=back))
    result = sweep(today)
    db.session.commit()
    print(f"prepared: {len(closing)} cases closed with a decision, {len(assigning)} assigned, "
          f"{len(districts) * 4 + 1} staff; {result.describe()}")


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--today", default="2021-09-06")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    today = date.fromisoformat(args.today)

    from backoffice.app import create_app
    from backoffice.cases.models import Decision, ReviewCase
    from backoffice.extensions import db
    from backoffice.settings import Settings
    from backoffice.staff.models import Staff
    from backoffice.turnaround import figures, views

    settings = Settings.from_env()
    if not settings.database_url.startswith("postgresql"):
        print("warning: not PostgreSQL; the recorded figures are for PostgreSQL", file=sys.stderr)
    app = create_app(settings, WTF_CSRF_ENABLED=True)
    views.beijing_today = lambda: today  # the history is as of TODAY

    with app.app_context():
        has_history = db.session.scalar(select(func.count()).select_from(Decision).where(Decision.note == BENCH_NOTE))
        if not has_history:
            prepare(today, args.seed)
        counts = dict(db.session.execute(select(ReviewCase.status, func.count()).group_by(ReviewCase.status)).all())
        busiest = db.session.execute(
            select(ReviewCase.district_id, func.count()).where(ReviewCase.status != "closed")
            .group_by(ReviewCase.district_id).order_by(func.count().desc()).limit(1)).first()
        district_sup = db.session.scalar(select(Staff.username).where(
            Staff.role == "supervisor", Staff.district_id == busiest.district_id, Staff.username.like("bench_%")))
        decisions = db.session.scalar(select(func.count()).select_from(Decision))
        db.session.remove()
    print(f"cases by status: { {str(k.value if hasattr(k, 'value') else k): v for k, v in counts.items()} }, "
          f"decisions {decisions}; today pinned to {today}")

    statements = []

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda *a, **k: statements.append(1))

    for label, username in (("city supervisor (17 districts)", "bench_sup_city"),
                            (f"district supervisor ({busiest.count} open)", district_sup)):
        client = app.test_client()
        page = client.get("/admin/login/")
        client.post("/admin/login/", data={"csrf_token": _csrf(page.get_data(as_text=True)),
                                           "username": username, "password": PASSWORD})
        for _ in range(3):
            assert client.get("/admin/turnaround/?year=2021").status_code == 200
        times, per_page = [], []
        for _ in range(args.runs):
            statements.clear()
            started = time.perf_counter()
            response = client.get("/admin/turnaround/?year=2021")
            times.append((time.perf_counter() - started) * 1000)
            per_page.append(len(statements))
            assert response.status_code == 200
        print(f"{label}: median {statistics.median(times):.0f} ms, p90 {percentile(times, 0.9):.0f} ms, "
              f"min {min(times):.0f} ms; {statistics.median(per_page):.0f} SQL statements per page "
              f"(incl. sign-in session lookups); {len(response.data) // 1024} KiB")
        started = time.perf_counter()
        export = client.get("/admin/turnaround/export/overdue.csv?year=2021")
        elapsed = (time.perf_counter() - started) * 1000
        rows = export.data.count(b"\n") - 1
        print(f"  overdue.csv (full list, {rows} rows): {elapsed:.0f} ms")

        # Each table alone, in the same scope (where the time goes).
        with app.test_request_context():
            user = db.session.scalar(select(Staff).where(Staff.username == username))
            scope = figures.Scope(user.district_id, 2021, today, views.dashboard_queues(user))
            parts = {}
            for key in figures.TABLE_KEYS:
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
