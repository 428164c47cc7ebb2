"""Server CPU of a worklist's first page (issue 18 §5), in-process (run by hand, not a test).

    .venv/bin/python bench/worklist_cpu.py [--applications 6000] [--runs 200] [--profile 40]
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/worklist_cpu.py

Builds a database of its own (a SQLite file in a temporary directory, or on PostgreSQL a fresh
database beside DATABASE_URL's, dropped at the end), migrates it, synthesizes a year
(`backoffice synth`'s generator, N applications, half of them with an open case), adds a
reviewer of the busiest district and a city-level supervisor, signs both in and fetches the
housing worklist's first page (50 rows) through the Flask test client. For each page:
median / p25 / p90 of the request's server CPU (`time.process_time()` around the in-process
call, so the test client's own work is included: about 0.3 ms), the number of SQL statements,
and the number of Python function calls of one request (cProfile); `--profile N` prints the
N functions with the most own time and the most cumulative time over 20 profiled requests
(BENCH_PROFILE_DUMP=path also writes them for pstats); BENCH_SQL=1 prints each statement.
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import event, select, text

from signin import signed_in_client  # bench/signin.py

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

PASSWORD = "bench-password-2021"
REVIEWER = "bench_cpu_reviewer"
CITY = "bench_cpu_city"



def seed(applications: int) -> None:
    from backoffice.extensions import db
    from backoffice.staff.services import create_staff
    from backoffice.synth import synthesize

    synthesize(year=2021, applications=applications, seed=7, open_cases=applications // 2)
    busiest = db.session.execute(text(
        "SELECT district_id FROM review_cases GROUP BY district_id ORDER BY count(*) DESC LIMIT 1")).scalar()
    create_staff(REVIEWER, "基准审核员", PASSWORD, "reviewer", busiest, actor_label="bench")
    create_staff(CITY, "基准市级主管", PASSWORD, "supervisor", None, actor_label="bench")
    # Some cases claimed by the reviewer, so the assignee column is not empty.
    db.session.execute(text(
        "UPDATE review_cases SET status = 'in_review', version = version + 1, assignee_id = "
        "(SELECT id FROM staff WHERE username = :u) WHERE district_id = :d AND id % 5 = 2"),
        {"u": REVIEWER, "d": busiest})
    db.session.commit()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--applications", type=int, default=6000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--profile", type=int, default=0, help="print the top N functions by own time")
    parser.add_argument("--url", default="/admin/queue_housing/")
    args = parser.parse_args()

    from support import fresh_database

    from backoffice.app import create_app
    from backoffice.extensions import db
    from backoffice.migrate import upgrade
    from backoffice.settings import Settings
    from backoffice.staff.models import Staff

    with tempfile.TemporaryDirectory() as tmp, fresh_database("bo_bench_cpu", Path(tmp)) as url:
        upgrade(url)
        settings = Settings(env="development", database_url=url, redis_url=os.environ.get("REDIS_URL", ""),
                            secret_key="b" * 40, upload_dir=tmp, embedded_redis_path=str(Path(tmp) / "redis.db"),
                            queue_namespace="benchcpu")
        app = create_app(settings)
        with app.app_context():
            if db.session.scalar(select(Staff.id).where(Staff.username == REVIEWER)) is None:
                t0 = time.perf_counter()
                seed(args.applications)
                print(f"seeded {args.applications} applications in {time.perf_counter() - t0:.0f} s", flush=True)
            cases = db.session.execute(text("SELECT count(*) FROM review_cases")).scalar()
            db.session.remove()

        statements = [0]
        with app.app_context():
            event.listen(db.engine, "after_cursor_execute", lambda *a: statements.__setitem__(0, statements[0] + 1))
            if os.environ.get("BENCH_SQL"):
                event.listen(db.engine, "after_cursor_execute", lambda c, cur, st, *a: print("SQL:", st[:150].replace("\n", " ")))

        def client_for(username):
            return signed_in_client(app, username, PASSWORD)

        print(f"{url.split(':')[0]}, {cases} cases, {args.runs} requests each, "
              f"load average {os.getloadavg()[0]:.1f}")
        print("| page | rows | CPU median | p25 | p90 | statements | Python calls |")
        print("|---|---|---|---|---|---|---|")
        for label, user in (("district reviewer, housing, page 1", REVIEWER), ("city supervisor, housing, page 1", CITY)):
            client = client_for(user)
            for _ in range(5):
                assert client.get(args.url).status_code == 200
            cpu = []
            for _ in range(args.runs):
                statements[0] = 0
                c0 = time.process_time()
                response = client.get(args.url)
                cpu.append(time.process_time() - c0)
                assert response.status_code == 200
            html = response.get_data(as_text=True)
            rows = len(re.findall(r'data-testid="case-link"', html))
            statements[0] = 0
            profiler = cProfile.Profile()
            profiler.enable()
            client.get(args.url)
            profiler.disable()
            calls = pstats.Stats(profiler).total_calls
            q = statistics.quantiles(cpu, n=20)
            print(f"| {label} | {rows} | {statistics.median(cpu) * 1000:.1f} ms | {q[4] * 1000:.1f} ms | "
                  f"{q[17] * 1000:.1f} ms | {statements[0]} | {calls} |", flush=True)
            if args.profile:
                profiler = cProfile.Profile()
                profiler.enable()
                for _ in range(20):
                    client.get(args.url)
                profiler.disable()
                if os.environ.get("BENCH_PROFILE_DUMP"):
                    profiler.dump_stats(os.environ["BENCH_PROFILE_DUMP"] + "." + user)
                pstats.Stats(profiler).sort_stats("tottime").print_stats(args.profile)
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.profile)
        print(f"(load average at the end: {os.getloadavg()[0]:.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
