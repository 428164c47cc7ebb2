"""The turnaround dashboard when the decisions of the last 8 weeks reach back ten years
(issue 18 §3; run by hand, not a test).

The reviewers' table counts working days from receipt to decision for the decisions of the
last 8 weeks. Before the calendar became a table it joined a CTE with one row per calendar
day between the oldest due date among those decisions and today (built in Python, one
SELECT per day in a UNION ALL), so one decision on a case of an earlier year made the
query, and its planning, grow with the years kept. Now it joins `working_day_ordinals`.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench_years \\
        .venv/bin/backoffice db upgrade && \\
        .venv/bin/backoffice synth --year 2021 --applications 30000 --open-cases 15000 --seed 7
    DATABASE_URL=... .venv/bin/python bench/dashboard_years.py [--runs 30]

First use only: receipt dates of two thirds of the cases are spread over the ten years
2012–2021 (due date 10 working days later), bench/dashboard.py's `prepare` adds its
history (staff, decisions 2–14 working days after receipt, backlog, the sweep), then
LATE decisions on cases of earlier years are moved into the last 8 weeks (an appeal or a
tip on an old case decided now), so their due dates span ten years. Then the city
supervisor's page is loaded `--runs` times after 3 warm-ups, and the reviewers' table
alone; prints the medians.

The same script runs against the code before the change (its tree extracted with
`git archive <commit>` into a folder put first on PYTHONPATH); the database is the same.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import date, datetime, time as dtime, timedelta, timezone

from sqlalchemy import bindparam, func, select, text, update

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dashboard  # noqa: E402  (bench/dashboard.py: prepare, sign-in helpers)

SPREAD_NOTE = "bench-years"
LATE = 3000  # decisions of the last 8 weeks on cases of earlier years
PASSWORD = dashboard.PASSWORD


def spread(today: date, seed: int) -> None:
    from backoffice.cases.clock import add_working_days
    from backoffice.cases.models import ReviewCase
    from backoffice.extensions import db

    rng = random.Random(seed)
    first = date(today.year - 9, 1, 1)
    t = ReviewCase.__table__
    ids = db.session.scalars(select(ReviewCase.id).order_by(ReviewCase.id)).all()
    moves = []
    for cid in ids:
        if rng.random() < 2 / 3:
            received = first + timedelta(days=rng.randrange((today - first).days - 30))
            moves.append({"cid": cid, "received": received, "due": add_working_days(received, 10)})
    db.session.execute(update(t).where(t.c.id == bindparam("cid")).values(
        received_on=bindparam("received"), due_date=bindparam("due")), moves)
    db.session.commit()
    print(f"spread: {len(moves)} cases received over {first.year}–{today.year}")


def late_decisions(today: date, seed: int) -> None:
    from backoffice.cases.models import Decision, ReviewCase
    from backoffice.extensions import db
    from backoffice.turnaround.sql import BEIJING

    rng = random.Random(seed + 1)
    old = db.session.execute(
        select(Decision.id, ReviewCase.id).join(ReviewCase, ReviewCase.id == Decision.case_id)
        .where(ReviewCase.due_date < date(today.year - 1, 1, 1)).order_by(Decision.id)).all()
    chosen = rng.sample(old, min(LATE, len(old)))
    rows = []
    for decision_id, case_id in chosen:
        day = today - timedelta(days=rng.randrange(1, 55))
        at = datetime.combine(day, dtime(9), tzinfo=BEIJING).astimezone(timezone.utc) + timedelta(
            minutes=rng.randrange(0, 540))
        rows.append({"did": decision_id, "at": at, "cid": case_id})
    d, c = Decision.__table__, ReviewCase.__table__
    if db.engine.dialect.name == "postgresql":
        # Decisions are append-only (a trigger refuses UPDATE); this bench moves old decisions
        # into the last 8 weeks, so it turns triggers off for its own transaction only.
        db.session.execute(text("SET LOCAL session_replication_role = replica"))
    db.session.execute(update(d).where(d.c.id == bindparam("did")).values(decided_at=bindparam("at")), rows)
    db.session.execute(update(c).where(c.c.id == bindparam("cid")).values(closed_at=bindparam("at")), rows)
    db.session.execute(update(d).where(d.c.id == rows[0]["did"]).values(note=SPREAD_NOTE))
    db.session.commit()
    lo = db.session.scalar(select(func.min(ReviewCase.due_date)).join(Decision, Decision.case_id == ReviewCase.id)
                           .where(Decision.decided_at >= datetime.combine(today - timedelta(weeks=8), dtime(0),
                                                                          tzinfo=timezone.utc)))
    print(f"late: {len(rows)} decisions of the last 8 weeks on cases of earlier years; oldest due date {lo} "
          f"({(today - lo).days} days before today)")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--today", default="2021-09-06")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    today = date.fromisoformat(args.today)

    from backoffice.app import create_app
    from backoffice.cases.models import Decision
    from backoffice.extensions import db
    from backoffice.settings import Settings
    from backoffice.staff.models import Staff
    from backoffice.turnaround import figures, views

    import backoffice
    print(f"code: {os.path.dirname(backoffice.__file__)}")
    settings = Settings.from_env()
    app = create_app(settings, WTF_CSRF_ENABLED=True)
    views.beijing_today = lambda: today

    with app.app_context():
        if not db.session.scalar(select(func.count()).select_from(Decision).where(Decision.note == SPREAD_NOTE)):
            spread(today, args.seed)
            dashboard.prepare(today, args.seed)
            late_decisions(today, args.seed)
            if db.engine.dialect.name == "postgresql":
                with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    conn.exec_driver_sql("VACUUM ANALYZE")
        db.session.remove()

    client = app.test_client()
    page = client.get("/admin/login/")
    client.post("/admin/login/", data={"csrf_token": dashboard._csrf(page.get_data(as_text=True)),
                                       "username": "bench_sup_city", "password": PASSWORD})
    for _ in range(3):
        assert client.get("/admin/turnaround/?year=2021").status_code == 200
    times = []
    for _ in range(args.runs):
        started = time.perf_counter()
        response = client.get("/admin/turnaround/?year=2021")
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    print(f"city supervisor page: median {statistics.median(times):.0f} ms, "
          f"p90 {dashboard.percentile(times, 0.9):.0f} ms, min {min(times):.0f} ms ({args.runs} loads)")
    with app.test_request_context():
        user = db.session.scalar(select(Staff).where(Staff.username == "bench_sup_city"))
        scope = figures.Scope(None, 2021, today, views.dashboard_queues(user))
        runs = []
        for _ in range(max(7, args.runs // 3)):
            started = time.perf_counter()
            figures.build(scope, only="reviewers")
            runs.append((time.perf_counter() - started) * 1000)
        db.session.remove()
    print(f"  reviewers' table alone: median {statistics.median(runs):.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
