"""A ranking left open against a decision's rescore lock, on PostgreSQL (run by hand, not a test).

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench_ranks .venv/bin/python bench/rank_locks.py

Needs a scored year (``backoffice synth --year 2021 …`` then ``backoffice rescore --year 2021``).
Ranks live in ``application_ranks`` (issue 18 §2); this shows what a ranking still locks:

1. ``rank_year`` with the year's ranks deleted first (every rank inserted) + commit, and again
   with nothing changed + commit: wall time of each;
2. the application ranked last raised to the top, ``rank_year`` left uncommitted (every rank
   below it moves), then from a second connection the rescore's lock (``FOR NO KEY UPDATE
   NOWAIT``, queues/jobs.py) and the old one (``FOR UPDATE NOWAIT``) on the application ranked
   in the middle;
3. the same with the year's ranks deleted first (every rank inserted: the foreign key takes
   ``FOR KEY SHARE`` on every ranked application).

Everything in 2 and 3 is rolled back; the database is left as it was found (ranked).
"""
from __future__ import annotations

import argparse
import time

from sqlalchemy import create_engine, delete, select, text
from sqlalchemy.exc import OperationalError


def _try_lock(url: str, application_id: int, clause: str) -> str:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            try:
                conn.execute(text(f"SELECT id FROM applications WHERE id = :i {clause} NOWAIT"), {"i": application_id})
                return "granted"
            except OperationalError as exc:
                return f"refused ({type(exc.orig).__name__})"
            finally:
                conn.rollback()
    finally:
        engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--year", type=int, default=2021)
    args = parser.parse_args()
    year = args.year

    from backoffice.app import create_app
    from backoffice.applications.models import Application, ApplicationRank
    from backoffice.extensions import db
    from backoffice.ranking import rank_year
    from backoffice.settings import Settings

    settings = Settings.from_env()
    app = create_app(settings)
    url = settings.database_url
    with app.app_context():
        db.session.execute(delete(ApplicationRank).where(ApplicationRank.year == year))
        started = time.perf_counter()
        result = rank_year(year, actor_label="bench")
        db.session.commit()
        print(f"rank_year, every rank inserted (+ commit): {time.perf_counter() - started:.2f} s "
              f"({result.ranked} ranked, {result.admitted} admitted)")
        started = time.perf_counter()
        rank_year(year, actor_label="bench")
        db.session.commit()
        print(f"rank_year again, nothing changed (+ commit): {time.perf_counter() - started:.2f} s")

        for emptied in (False, True):
            ranked = db.session.execute(
                select(ApplicationRank.application_id).where(ApplicationRank.year == year)
                .order_by(ApplicationRank.rank, ApplicationRank.application_id)).scalars().all()
            last, middle = ranked[-1], ranked[len(ranked) // 2]
            top = db.session.scalar(select(Application.total).where(Application.id == ranked[0]))
            db.session.execute(text("UPDATE applications SET total = :t WHERE id = :i"), {"t": top + 1, "i": last})
            if emptied:
                db.session.execute(delete(ApplicationRank).where(ApplicationRank.year == year))
            started = time.perf_counter()
            rank_year(year, actor_label="bench")
            seconds = time.perf_counter() - started
            moved = db.session.scalar(text(
                "SELECT count(*) FROM application_ranks WHERE year = :y AND xmin = pg_current_xact_id()::xid"),
                {"y": year})
            label = "ranks deleted first, every rank inserted" if emptied else "the last raised to the top"
            print(f"{label}: rank_year {seconds:.2f} s, {moved} rank rows written, left uncommitted")
            for clause in ("FOR NO KEY UPDATE", "FOR UPDATE"):
                print(f"  second connection, {clause} NOWAIT on the middle application: "
                      f"{_try_lock(url, middle, clause)}")
            db.session.rollback()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
