"""Worklists on a full year (run by hand on PostgreSQL, not a test).

    createdb ...; export DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bo_bench_i4
    .venv/bin/backoffice db upgrade && .venv/bin/backoffice synth          # 120 000 applications, 60 000 cases
    .venv/bin/python bench/worklist.py [--runs 40]

1. once per database (automatic when the bench accounts are missing): a reviewer of the
   busiest district and a city-level supervisor; ~30% of the cases decided and closed and
   ~15% claimed by a reviewer of their district (plain UPDATEs: the synthetic year has every
   case open), then VACUUM ANALYZE;
2. fetches worklist pages through the app (Flask test client, signed in, in-process):
   the district reviewer's housing queue filtered to status "open", first page and last
   page; the city supervisor's housing queue (status "open"), first page and page 200
   (offset 10 000). Each `--runs` times after a warm-up: median and p90 server time, the
   database time of the request (sum of its statements), the number of statements;
3. runs the bare SQL of each page's rows (the cases with their applicant and assignee, same
   filter, order and LIMIT/OFFSET) on a plain connection, median of `--runs`, for the
   "database time within 3x of the bare SQL" ratio; and EXPLAINs it.
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time

from sqlalchemy import event, select, text

from signin import signed_in_client  # bench/signin.py

PASSWORD = "bench-password-2021"
REVIEWER = "bench_wl_reviewer"
CITY = "bench_wl_city"



def prepare() -> None:
    from backoffice.extensions import db
    from backoffice.staff.services import create_staff

    busiest = db.session.execute(text(
        "SELECT district_id FROM review_cases GROUP BY district_id ORDER BY count(*) DESC LIMIT 1")).scalar()
    reviewer = create_staff(REVIEWER, "基准审核员", PASSWORD, "reviewer", busiest, actor_label="bench")
    create_staff(CITY, "基准市级主管", PASSWORD, "supervisor", None, actor_label="bench")
    others = [create_staff(f"bench_wl_r{d}", f"审核员{d}", PASSWORD, "reviewer", d, actor_label="bench").id
              for (d,) in db.session.execute(text("SELECT DISTINCT district_id FROM review_cases")) if d != busiest]
    db.session.flush()
    # Decided and closed: a deterministic 30% by id; claimed: another 15%, by a reviewer of the district.
    db.session.execute(text(
        "UPDATE review_cases SET status = 'closed', closed_at = now(), version = version + 1 WHERE id % 10 IN (1, 4, 7)"))
    db.session.execute(text(
        "UPDATE review_cases c SET status = 'in_review', version = c.version + 1, assignee_id = s.id "
        "FROM staff s WHERE s.district_id = c.district_id AND s.role = 'reviewer' "
        "AND s.username LIKE 'bench_wl_%' AND c.id % 20 IN (2, 5, 15) AND c.status = 'open'"))
    db.session.commit()
    assert reviewer.id and others is not None
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))


class Timer:
    """Statement count and database time of what runs between start() and stop()."""

    def __init__(self, engine):
        self.statements = 0
        self.db_seconds = 0.0
        self._t0 = {}
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, params, context, executemany):
        self._t0[id(cursor)] = time.perf_counter()

    def _after(self, conn, cursor, statement, params, context, executemany):
        self.db_seconds += time.perf_counter() - self._t0.pop(id(cursor), time.perf_counter())
        self.statements += 1

    def reset(self):
        self.statements, self.db_seconds = 0, 0.0


BADGE_TTL = 30  # backoffice/cases/admin.py BADGE_TTL_SECONDS


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


# The same page with the ids first (what the app does from offset 500 on, cases/admin.py).
BARE_IDS_FIRST = """
SELECT c.*, a.*, p.*, s.*
FROM review_cases c
JOIN applications a ON a.id = c.application_id
JOIN applicants p ON p.id = a.applicant_id
LEFT JOIN staff s ON s.id = c.assignee_id
WHERE c.id IN (SELECT c.id FROM review_cases c WHERE {where} ORDER BY c.due_date, c.id LIMIT 50 OFFSET {offset})
ORDER BY c.due_date, c.id
"""

BADGES_SQL = """
SELECT queue, count(*), sum(CASE WHEN due_date < current_date AND status != 'awaiting_materials' THEN 1 ELSE 0 END)
FROM review_cases WHERE status != 'closed' {district} GROUP BY queue
"""

BARE_SQL = """
SELECT c.*, a.*, p.*, s.*
FROM review_cases c
JOIN applications a ON a.id = c.application_id
JOIN applicants p ON p.id = a.applicant_id
LEFT JOIN staff s ON s.id = c.assignee_id
WHERE {where}
ORDER BY c.due_date, c.id
LIMIT 50 OFFSET {offset}
"""


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()

    from backoffice.app import create_app
    from backoffice.extensions import db
    from backoffice.settings import Settings
    from backoffice.staff.models import Staff

    settings = Settings.from_env()
    if not settings.database_url.startswith("postgresql"):
        print("set DATABASE_URL to a PostgreSQL database holding `backoffice synth`'s year", file=sys.stderr)
        return 2
    app = create_app(settings)
    with app.app_context():
        if db.session.scalar(select(Staff.id).where(Staff.username == REVIEWER)) is None:
            print("preparing (bench accounts, 30% closed, 15% claimed, ANALYZE) ...", flush=True)
            prepare()
        reviewer = db.session.scalar(select(Staff).where(Staff.username == REVIEWER))
        district_id = reviewer.district_id
        counts = dict(db.session.execute(text(
            "SELECT status, count(*) FROM review_cases GROUP BY status")).all())
        own_open = db.session.execute(text(
            "SELECT count(*) FROM review_cases WHERE district_id = :d AND queue = 'housing' AND status = 'open'"),
            {"d": district_id}).scalar()
        city_open = db.session.execute(text(
            "SELECT count(*) FROM review_cases WHERE queue = 'housing' AND status = 'open'")).scalar()
        total_cases = sum(counts.values())
        db.session.remove()
    print(f"cases: {total_cases} ({counts}); district {district_id} housing open: {own_open}; "
          f"city housing open: {city_open}")

    with app.app_context():
        timer = Timer(db.engine)

    def client_for(username):
        return signed_in_client(app, username, PASSWORD)

    last_own = max(0, (own_open - 1) // 50)
    pages = [
        ("district reviewer, housing, status open, page 1", REVIEWER, "flt0_status=open", 0,
         f"c.district_id = {district_id} AND c.queue = 'housing' AND c.status = 'open'"),
        (f"district reviewer, housing, status open, last page ({last_own + 1})", REVIEWER, "flt0_status=open",
         last_own, f"c.district_id = {district_id} AND c.queue = 'housing' AND c.status = 'open'"),
        ("district reviewer, housing, default (not closed), page 1", REVIEWER, "", 0,
         f"c.district_id = {district_id} AND c.queue = 'housing' AND c.status != 'closed'"),
        ("city supervisor, housing, status open, page 1", CITY, "flt0_status=open", 0,
         "c.queue = 'housing' AND c.status = 'open'"),
        ("city supervisor, housing, status open, page 200", CITY, "flt0_status=open", 199,
         "c.queue = 'housing' AND c.status = 'open'"),
    ]
    clients = {REVIEWER: client_for(REVIEWER), CITY: client_for(CITY)}
    rows = []
    for label, user, query, page, where in pages:
        url = f"/admin/queue_housing/?{query}" + (f"&page={page}" if page else "")
        client = clients[user]
        for _ in range(3):  # warm-up
            assert client.get(url).status_code == 200
        times, cpu_times, db_times, statements = [], [], [], set()
        for _ in range(args.runs):
            timer.reset()
            t0, c0 = time.perf_counter(), time.process_time()
            response = client.get(url)
            times.append(time.perf_counter() - t0)
            cpu_times.append(time.process_time() - c0)
            assert response.status_code == 200
            db_times.append(timer.db_seconds)
            statements.add(timer.statements)
        html = response.get_data(as_text=True)
        shown = len(re.findall(r'data-testid="case-link"', html))

        bare = {name: sql.format(where=where, offset=page * 50)
                for name, sql in (("join", BARE_SQL), ("ids first", BARE_IDS_FIRST))}
        bare_med, plans = {}, []
        with app.app_context():
            with db.engine.connect() as conn:
                for name, sql in bare.items():
                    for _ in range(3):
                        conn.execute(text(sql)).all()
                    bare_times = []
                    for _ in range(args.runs):
                        t0 = time.perf_counter()
                        conn.execute(text(sql)).all()
                        bare_times.append(time.perf_counter() - t0)
                    bare_med[name] = statistics.median(bare_times)
                    plan = [r[0] for r in conn.execute(text("EXPLAIN (ANALYZE, BUFFERS OFF, TIMING OFF) " + sql))]
                    plans.append(f"  plan ({name}): " + " | ".join(line.strip() for line in plan if "Scan" in line)[:300])
                # What Flask-Admin would run on every page by default: count every matching row.
                full_count = []
                for _ in range(args.runs):
                    t0 = time.perf_counter()
                    conn.execute(text(f"SELECT count(*) FROM review_cases c WHERE {where}")).scalar()
                    full_count.append(time.perf_counter() - t0)
        med, p90 = statistics.median(times), statistics.quantiles(times, n=10)[-1]
        db_med = statistics.median(db_times)
        best = min(bare_med.values())
        rows.append((label, shown, med, p90, statistics.median(cpu_times), db_med, bare_med, best, sorted(statements)))
        print(f"{label}: {url}\n  rows {shown}, server median {_ms(med)} ms (p90 {_ms(p90)}), "
              f"db {_ms(db_med)} ms in {sorted(statements)} statements, bare SQL "
              f"{ {k: _ms(v) for k, v in bare_med.items()} } ms, ratio {db_med / best:.1f}x; "
              f"a full count of the matching rows: {_ms(statistics.median(full_count))} ms")
        print("\n".join(plans) + "\n")

    with app.app_context():
        with db.engine.connect() as conn:
            badge = {}
            for scope, district in (("district", f"AND district_id = {district_id}"), ("city", "")):
                times = []
                for _ in range(args.runs):
                    t0 = time.perf_counter()
                    conn.execute(text(BADGES_SQL.format(district=district))).all()
                    times.append(time.perf_counter() - t0)
                badge[scope] = statistics.median(times)

    load = open("/proc/loadavg").read().split()[0] if os.path.exists("/proc/loadavg") else "?"
    print(f"(load average at the end: {load})")
    print("| page | rows | server median | p90 | app CPU | DB time (statements) | bare SQL: join / ids first "
          "| DB ÷ best bare |")
    print("|---|---|---|---|---|---|---|---|")
    for label, shown, med, p90, cpu, db_med, bare_med, best, statements in rows:
        print(f"| {label} | {shown} | {_ms(med)} ms | {_ms(p90)} ms | {_ms(cpu)} ms | {_ms(db_med)} ms "
              f"({'/'.join(map(str, statements))}) | {_ms(bare_med['join'])} / {_ms(bare_med['ids first'])} ms | "
              f"{db_med / best:.1f}× |")
    print(f"\nmenu badges' grouped count (kept {BADGE_TTL} s per scope): district {_ms(badge['district'])} ms, "
          f"city level {_ms(badge['city'])} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
