"""Eligibility (第一篇) at year scale beside the year's rescore (run by hand, not a test).

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres \\
    .venv/bin/python bench/eligibility.py [--applications 120000] [--keep]

In a fresh PostgreSQL database beside DATABASE_URL (dropped at the end unless --keep):

1. ``backoffice synth`` of a year of N applications (seed 1), with its residence permits,
   criminal records and tax registrations;
2. ``backoffice eligibility --year`` as it runs (``check_year``): the first check of every
   application (every result stored, with the conditions' words and facts), then again with
   nothing changed (nothing stored);
3. ``backoffice rescore --year`` (2 processes), the first scoring, under the same load, for
   comparison with bench/rescore.py's figure.

Each measured step runs in a subprocess of its own, so "peak memory" is that step's max RSS.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def step_eligibility(url: str, year: int) -> dict:
    from sqlalchemy import func, select

    from backoffice.eligibility.models import EligibilityResult
    from backoffice.eligibility.services import check_year
    from backoffice.extensions import db
    from rescore import _app

    app = _app(url)
    with app.app_context():
        started, cpu = time.perf_counter(), time.process_time()
        counts = check_year(year, actor_label="bench")
        db.session.commit()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        failing: dict[str, int] = {}
        if counts["stored"]:
            for (conditions,) in db.session.execute(select(EligibilityResult.conditions)
                                                    .where(EligibilityResult.eligible.is_(False))):
                for c in conditions:
                    if not c["passed"]:
                        failing[c["code"]] = failing.get(c["code"], 0) + 1
        size = db.session.scalar(select(func.pg_total_relation_size("eligibility_results")))
        return {"seconds": seconds, "cpu_s": cpu, "counts": counts, "failing": failing,
                "table_mb": size / 2**20, "rss_mb": _rss_mb()}


def step(name: str, *args) -> dict:
    import rescore

    steps = {"synth": rescore.step_synth, "bulk": rescore.step_bulk, "eligibility": step_eligibility}
    return steps[name](*args)


def run_step(name: str, *args) -> dict:
    out = subprocess.run([sys.executable, __file__, "--step", name, *map(str, args)], cwd=ROOT,
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"step {name} failed:\n{out.stderr[-4000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--applications", type=int, default=120_000)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--step", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        name, *rest = args.step
        print(json.dumps(step(name, *[int(x) if x.isdigit() else x for x in rest]), default=str))
        return

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgresql"):
        raise SystemExit("set DATABASE_URL to a PostgreSQL server (a fresh database is created beside it)")
    name = f"bench_eligibility_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    try:
        from backoffice.migrate import upgrade

        upgrade(url)
        n = args.applications
        print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; "
              f"database {name}")
        synth = run_step("synth", url, 2021, n, 1)
        print(f"synth {n} applications: {synth['seconds']:.1f} s, peak {synth['rss_mb']:.0f} MB; {synth['counts']}")
        first = run_step("eligibility", url, 2021)
        print(f"eligibility, first check: {first['seconds']:.1f} s (CPU {first['cpu_s']:.1f} s), peak "
              f"{first['rss_mb']:.0f} MB; {first['counts']}; failing conditions {first['failing']}; "
              f"eligibility_results {first['table_mb']:.0f} MB")
        again = run_step("eligibility", url, 2021)
        print(f"eligibility, nothing changed: {again['seconds']:.1f} s (CPU {again['cpu_s']:.1f} s), peak "
              f"{again['rss_mb']:.0f} MB; {again['counts']}")
        bulk = run_step("bulk", url, 2021, 2)
        print(f"rescore, 2 processes, first scoring + rank: {bulk['seconds']:.1f} s (CPU {bulk['cpu_s']:.1f} s), "
              f"peak {bulk['rss_mb']:.0f} MB")
        print(f"load average at the end {os.getloadavg()[0]:.1f}")
    finally:
        if not args.keep:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
