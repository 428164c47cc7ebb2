"""The year's rescore with stale statistics on score_snapshots, beside fresh ones (issue 18 §1).
Run by hand, not a test.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench_rescore \\
    .venv/bin/python bench/rescore_stale.py [--year 2021] [--cycles 2] [--old-chunks 3] [--old-timeout 180]

DATABASE_URL names a database of its own holding a synthetic year (`backoffice db upgrade`,
`backoffice synth --year 2021 --applications N --seed 1`); the script deletes and rewrites that
year's score snapshots. In one process, one run of --cycles cycles (fresh and stale alternate, so a
load that drifts during the run weighs on both), each:

1. **fresh**: ``DELETE`` the year's snapshots (pointers and totals cleared) and ``VACUUM
   ANALYZE`` (a truly empty table, whose estimates follow its growth); the year's first scoring
   through ``rescore_year_in_chunks`` (chunks of 2 000, one process: a chunk's time is the
   figure the issue quotes); ``VACUUM ANALYZE``; a second run with nothing changed;
2. **stale**: ``DELETE`` again, autovacuum off for score_snapshots, ``ANALYZE`` only: pg_class
   now says 0 live rows on the table's N pages, so the planner believes it empty however much
   is written after. The first scoring (the reload) and the nothing-changed run again, with
   those statistics. Each nothing-changed run is made twice and the second compared: the first
   read of freshly written rows sets their hint bits (page writes) when no VACUUM did;
3. in both states (first cycle), the two reads of "each application's latest snapshot" on the first chunks,
   timed alone: this version (the pointer ``applications.current_snapshot_id``, then the
   snapshots by primary key) and the former one (``id IN (SELECT max(id) … GROUP BY
   application_id)``), the latter under ``statement_timeout`` (--old-timeout), with their plans.

Prints one line per measurement with the load average beside it; at the end autovacuum is
turned back on for the table.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def load() -> str:
    one, five, _fifteen = os.getloadavg()
    return f"load {one:.1f} (5 min {five:.1f})"


def app_for(url: str):
    import dataclasses

    from backoffice.app import create_app
    from backoffice.settings import Settings

    return create_app(dataclasses.replace(Settings.from_env(), database_url=url))


# The former reads (before issue 18 §1), kept here to measure them beside the new ones ---------------
def old_latest_digests(ids):
    from sqlalchemy import func, select

    from backoffice.applications.facts import id_in
    from backoffice.applications.models import ScoreSnapshot
    from backoffice.extensions import db

    latest = (select(func.max(ScoreSnapshot.id)).where(id_in(ScoreSnapshot.application_id, ids, db.session))
              .group_by(ScoreSnapshot.application_id))
    return select(ScoreSnapshot.application_id, ScoreSnapshot.input_digest, ScoreSnapshot.result_digest) \
        .where(ScoreSnapshot.id.in_(latest))


def old_previous(ids):
    from sqlalchemy import func, select

    from backoffice.applications.facts import id_in
    from backoffice.applications.models import ScoreSnapshot
    from backoffice.extensions import db

    latest = (select(func.max(ScoreSnapshot.id)).where(id_in(ScoreSnapshot.application_id, ids, db.session))
              .group_by(ScoreSnapshot.application_id))
    b = ScoreSnapshot.breakdown
    return select(ScoreSnapshot.application_id, ScoreSnapshot.id, ScoreSnapshot.total, b["indicators"],
                  b["sources"]).where(ScoreSnapshot.id.in_(latest))


PLAN_NEW = ("SELECT a.current_snapshot_id FROM applications a WHERE a.id = ANY(:ids) "
            "AND a.current_snapshot_id IS NOT NULL",
            "SELECT s.application_id, s.input_digest, s.result_digest FROM score_snapshots s "
            "WHERE s.id = ANY(:sids) AND s.application_id = ANY(:ids)")
PLAN_OLD = ("SELECT s.application_id, s.input_digest, s.result_digest FROM score_snapshots s WHERE s.id IN "
            "(SELECT max(id) FROM score_snapshots WHERE application_id = ANY(:ids) GROUP BY application_id)",)


def explain(sql: str, ids: list[int], sids: list[int] | None = None) -> str:
    from sqlalchemy import text

    from backoffice.extensions import db

    lines = db.session.execute(text("EXPLAIN " + sql), {"ids": ids, "sids": sids or []}).scalars().all()
    return "\n      ".join(line if len(line) < 140 else line[:120] + " …" for line in lines)


def buffers(sql: str, ids: list[int], sids: list[int] | None = None) -> str:
    """Execution time and pages touched (EXPLAIN ANALYZE, BUFFERS) of one statement: pages do
    not depend on the machine's load, milliseconds do."""
    import re

    from sqlalchemy import text

    from backoffice.extensions import db

    lines = db.session.execute(text("EXPLAIN (ANALYZE, BUFFERS) " + sql),
                               {"ids": ids, "sids": sids or []}).scalars().all()
    pages = sum(int(n) for n in re.findall(r"(?:hit|read)=(\d+)", next((x for x in lines if "Buffers" in x), "")))
    took = next((x.split(":")[1].strip() for x in lines if x.startswith("Execution Time")), "?")
    return f"{took}, {pages} pages"


def time_reads(label: str, chunks: list[list[int]], old_chunks: int, old_timeout: int) -> None:
    from sqlalchemy import text

    from backoffice.applications import scoring_service
    from backoffice.extensions import db

    for n, part in enumerate(chunks[:old_chunks]):
        # Two rounds, each form in turn, the faster of its two kept: the first reader of a chunk
        # pays for reading its pages into the cache, whichever form it is.
        new_times, old_times = [], []
        for _round in range(2):
            started = time.perf_counter()
            digests = scoring_service._latest_digests(part)
            previous = scoring_service._previous(part)
            new_times.append(time.perf_counter() - started)
            db.session.commit()
            db.session.execute(text(f"SET statement_timeout = {old_timeout * 1000}"))
            started = time.perf_counter()
            try:
                old_d = db.session.execute(old_latest_digests(part)).all()
                old_p = db.session.execute(old_previous(part)).all()
                old_times.append(time.perf_counter() - started)
                assert len(old_d) == len(digests) and len(old_p) == len(previous)
            except Exception as exc:  # the statement timeout
                old_times.append(float("inf"))
                print(f"    former form gave up after {old_timeout} s ({type(exc).__name__})")
            db.session.rollback()
            db.session.execute(text("SET statement_timeout = 0"))
            db.session.commit()
        new_s = min(new_times)
        old_s = f"{min(old_times):.3f} s"
        print(f"  [{label}] chunk {n + 1} ({len(part)} applications, {len(digests)} with a snapshot): "
              f"both reads (digests, then previous figures), best of 2: this version {new_s:.3f} s; "
              f"former max(id) form {old_s}; {load()}", flush=True)
        if n == 0:
            snapshot_ids = scoring_service._snapshot_ids(part)
            print("    plans, this version (pointers, then snapshots by primary key):\n      "
                  + explain(PLAN_NEW[0], part) + "\n      ---\n      " + explain(PLAN_NEW[1], part, snapshot_ids))
            print("    plan, former _latest_digests:\n      " + explain(PLAN_OLD[0], part), flush=True)
            print(f"    EXPLAIN ANALYZE: pointers {buffers(PLAN_NEW[0], part)}; snapshots by id "
                  f"{buffers(PLAN_NEW[1], part, snapshot_ids)}; former form {buffers(PLAN_OLD[0], part)}", flush=True)
        db.session.commit()


def year_run(label: str, year: int) -> float:
    from backoffice.extensions import db
    from queues.jobs import rescore_year_in_chunks

    chunk_times = []
    last = [time.perf_counter()]

    def progress(_n):
        now = time.perf_counter()
        chunk_times.append(now - last[0])
        last[0] = now

    started = time.perf_counter()
    applications, changed = rescore_year_in_chunks(year, trigger="bench-stale", progress=progress, processes=1)
    wall = time.perf_counter() - started
    db.session.commit()
    chunk_times.sort()
    print(f"  [{label}] {applications} applications, {changed} new snapshots: {wall:.1f} s wall; chunk median "
          f"{chunk_times[len(chunk_times) // 2]:.2f} s, slowest {chunk_times[-1]:.2f} s; {load()}", flush=True)
    return wall


def reset(year: int, *, fresh: bool) -> None:
    """Delete the year's snapshots; `fresh`: VACUUM ANALYZE (truly empty); else ANALYZE only,
    with autovacuum off (0 live rows on the table's pages: believed empty from now on)."""
    from sqlalchemy import text

    from backoffice.extensions import db

    db.session.execute(text("UPDATE applications SET total = NULL, current_snapshot_id = NULL WHERE year = :y"),
                       {"y": year})
    db.session.execute(text("DELETE FROM application_ranks WHERE year = :y"), {"y": year})
    db.session.execute(text("DELETE FROM score_snapshots WHERE application_id IN "
                            "(SELECT id FROM applications WHERE year = :y)"), {"y": year})
    db.session.commit()
    statistics("VACUUM ANALYZE score_snapshots" if fresh else "ANALYZE score_snapshots")


def statistics(statement: str) -> None:
    from sqlalchemy import text

    from backoffice.extensions import db

    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(statement))
        pages, tuples = conn.execute(text("SELECT relpages, reltuples FROM pg_class "
                                          "WHERE relname = 'score_snapshots'")).one()
        actual = conn.execute(text("SELECT count(*) FROM score_snapshots")).scalar()
    print(f"  {statement}: pg_class says {tuples:.0f} rows on {pages} pages; the table holds {actual}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--year", type=int, default=2021)
    parser.add_argument("--old-chunks", type=int, default=3, help="chunks read the former way, per state")
    parser.add_argument("--old-timeout", type=int, default=180, help="seconds per former read before giving up")
    parser.add_argument("--cycles", type=int, default=2, help="fresh/stale cycles, alternating")
    parser.add_argument("--reads-only", action="store_true",
                        help="only the reads of step 3, fresh then stale (on a year scored already)")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        raise SystemExit("set DATABASE_URL to the PostgreSQL benchmark database")

    from sqlalchemy import select, text

    from backoffice.applications.models import Application
    from backoffice.extensions import db

    app = app_for(url)
    with app.app_context():
        ids = list(db.session.scalars(select(Application.id).where(Application.year == args.year)
                                      .order_by(Application.id)))
        chunks = [ids[i:i + 2000] for i in range(0, len(ids), 2000)]
        print(f"{len(ids)} applications of {args.year}, {os.cpu_count()} CPUs, {load()}", flush=True)
        db.session.execute(text("ALTER TABLE score_snapshots SET (autovacuum_enabled = false)"))
        db.session.commit()
        try:
            if args.reads_only:
                # The reads alone, in both states: the state the table is in (fresh after a full run),
                # then DELETE + ANALYZE and the reload.
                statistics("VACUUM ANALYZE score_snapshots")
                time_reads("fresh", chunks, args.old_chunks, args.old_timeout)
                reset(args.year, fresh=False)
                year_run("stale, first scoring (the reload)", args.year)
                statistics("SELECT 1")
                time_reads("stale", chunks, args.old_chunks, args.old_timeout)
                statistics("VACUUM ANALYZE score_snapshots")
                return
            ratios = []
            for cycle in range(1, args.cycles + 1):
                # Fresh and stale alternate, so a load that drifts during the run weighs on both.
                print(f"cycle {cycle}, fresh statistics:", flush=True)
                reset(args.year, fresh=True)  # truly empty: estimates follow the table's growth
                fresh_first = year_run("fresh, first scoring", args.year)
                statistics("VACUUM ANALYZE score_snapshots")
                fresh_again = year_run("fresh, nothing changed", args.year)
                # Again: the first read of freshly written rows sets their hint bits (writes), whatever
                # the statistics; VACUUM did it for the fresh rows, nobody for the stale ones.
                fresh_again = year_run("fresh, nothing changed, again", args.year)
                if cycle == 1:
                    time_reads("fresh", chunks, args.old_chunks, args.old_timeout)

                print(f"cycle {cycle}, stale statistics (DELETE + ANALYZE, autovacuum off):", flush=True)
                reset(args.year, fresh=False)  # 0 live rows on the table's pages: believed empty from now on
                stale_first = year_run("stale, first scoring (the reload)", args.year)
                stale_again = year_run("stale, nothing changed", args.year)
                stale_again = year_run("stale, nothing changed, again", args.year)
                statistics("SELECT 1")  # what the planner still believes
                if cycle == 1:
                    time_reads("stale", chunks, args.old_chunks, args.old_timeout)
                ratios.append((stale_first / fresh_first, stale_again / fresh_again))
                print(f"cycle {cycle}: stale / fresh: first scoring {ratios[-1][0]:.2f}, nothing changed "
                      f"{ratios[-1][1]:.2f}; {load()}", flush=True)
            statistics("VACUUM ANALYZE score_snapshots")
        finally:
            db.session.rollback()
            db.session.execute(text("ALTER TABLE score_snapshots RESET (autovacuum_enabled)"))
            db.session.commit()


if __name__ == "__main__":
    main()
