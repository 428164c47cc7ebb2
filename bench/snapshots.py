"""Score snapshots and ranking at the scale of a year, on PostgreSQL (run by hand, not a test).

    .venv/bin/python bench/snapshots.py generate [--n 120000] [--seed 2021]   # once: a template database
    .venv/bin/python bench/snapshots.py measure [--naive 2000]                # a fresh copy of it each run
    .venv/bin/python bench/snapshots.py drop

DATABASE_URL names the server (default postgresql+psycopg://postgres@127.0.0.1:5432/postgres);
the template database is ``bench_snapshots``. Applications are bench/score.py's realistic
score inputs split back into the claims an applicant files (one per residence segment,
award, honour…), about 8 % of them rejected by the registry. ``measure`` runs in its own
process (its peak RSS is the measurement's alone) and reports, for the whole year:

1. load_score_inputs over every application (no scoring);
2. rescore_many, first time (a snapshot, a total and an audit event per application), commit;
3. rescore_many again (nothing changed), commit;
4. rescore_many after 1 % of the claims changed, commit;
   rescore_many under a new engine version (every application scored, figures unchanged);
5. rank_year, and rank_year again with nothing changed;
6. the one-application-at-a-time paths on a sample, extrapolated to the year:
   a naive ORM loop (application.claims, build_score_input, score, latest snapshot) and
   rescore_application per id.
"""
from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import time
from datetime import date, datetime, timezone
from pathlib import Path

from sqlalchemy import create_engine, insert, select, text, update
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))
from score import application as generated_input  # noqa: E402  (bench/score.py)

TEMPLATE = "bench_snapshots"
YEAR = 2021


def server_url() -> str:
    return os.environ.get("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def db_url(name: str) -> str:
    return make_url(server_url()).set(database=name).render_as_string(hide_password=False)


def admin_execute(*statements: str) -> None:
    engine = create_engine(db_url("postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        for statement in statements:
            conn.execute(text(statement))
    engine.dispose()


def app_for(name: str):
    from backoffice.app import create_app
    from backoffice.settings import Settings

    return create_app(Settings(env="test", database_url=db_url(name), redis_url="", secret_key="b" * 40))


def claims_of(data: dict, rnd: random.Random) -> list[tuple[str, dict]]:
    """A score input split into the claims that assemble back into it (facts.py shapes)."""
    claims = [("employment", {"insurance": data["insurance"], "work_districts": data["work_districts"]})]
    claims += [("housing", r) for r in data["residences"]]
    if data["education"] is not None:
        claims.append(("education", data["education"]))
    if data["work_residence"]:
        claims.append(("work_residence", {"chosen": True}))
    claims += [("innovation", a) for a in data["innovation"]]
    claims.append(("tax", data["tax"]))
    claims.append(("age", {"birth_date": data["birth_date"]}))
    claims += [("honors", {"code": c}) for c in data["honors"]]
    claims.append(("law_abiding", {"detentions": data["detentions"]}))
    return claims


def generate(n: int, seed: int) -> None:
    from backoffice.applications.models import Applicant, Application, IndicatorClaim
    from backoffice.demo import SeedSummary, ensure_reference
    from backoffice.extensions import db
    from backoffice.migrate import upgrade
    from backoffice.reference.models import Employer
    from verifiers.identifiers import resident_id_check_char, uscc_check_char

    admin_execute(f'DROP DATABASE IF EXISTS "{TEMPLATE}"', f'CREATE DATABASE "{TEMPLATE}"')
    upgrade(db_url(TEMPLATE))
    app = app_for(TEMPLATE)
    rnd = random.Random(seed)
    t0 = time.perf_counter()
    with app.app_context():
        districts = list(ensure_reference(SeedSummary(YEAR), YEAR).values())
        employers = []
        for i in range(170):
            district = districts[i % len(districts)]
            body = f"91{district.code}{i:09d}"
            employer = Employer(uscc=body + uscc_check_char(body), name=f"北京基准{i}有限公司", district_id=district.id)
            db.session.add(employer)
            employers.append(employer)
        db.session.flush()
        employers = [(e.id, e.district_id) for e in employers]
        db.session.commit()

        conn = db.session.connection()
        applicants, applications, claims = [], [], []
        claim_id = 0
        submitted = datetime(YEAR, 5, 10, 1, tzinfo=timezone.utc)
        for i in range(1, n + 1):
            data = generated_input(rnd)
            data["year"] = YEAR
            birth = date.fromisoformat(data["birth_date"])
            body = f"{110000 + i // 1000:06d}{birth:%Y%m%d}{i % 1000:03d}"  # unique per i
            id_number = body + resident_id_check_char(body)
            applicants.append({"id": i, "id_number": id_number, "id_last4": id_number[-4:], "name": f"申请人{i}",
                               "birth_date": birth, "created_at": submitted})
            employer_id, district_id = employers[i % len(employers)]
            applications.append({"id": i, "applicant_id": i, "year": YEAR, "employer_id": employer_id,
                                 "district_id": district_id, "submitted_at": submitted})
            for indicator, facts in claims_of(data, rnd):
                claim_id += 1
                valid = rnd.random() >= 0.08 or indicator in ("age", "law_abiding")
                claims.append({"id": claim_id, "application_id": i, "year": YEAR, "indicator": indicator,
                               "claimed": facts,
                               "registry_status": "valid" if valid else "invalid",
                               "registry_reason": None if valid else "housing_listing_invalid",
                               "verified": facts if valid else None, "checked_at": submitted})
            if i % 10_000 == 0 or i == n:
                # Core inserts: the ID-number validator of the model is bypassed, the numbers are valid anyway.
                conn.execute(insert(Applicant.__table__), applicants)
                conn.execute(insert(Application.__table__), applications)
                conn.execute(insert(IndicatorClaim.__table__), claims)
                applicants, applications, claims = [], [], []
                print(f"  {i} applications", file=sys.stderr)
        for table in ("applicants", "applications", "indicator_claims"):
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
        db.session.commit()
    engine = create_engine(db_url(TEMPLATE), isolation_level="AUTOCOMMIT")
    with engine.connect() as c:
        c.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    print(f"generated {n} applications, {claim_id} claims in {time.perf_counter() - t0:.0f} s")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(naive: int) -> None:
    from backoffice.applications.facts import build_score_input, load_score_inputs
    from backoffice.applications.models import Application, IndicatorClaim, ScoreSnapshot
    from backoffice.applications.scoring_service import rescore_application, rescore_batch
    from backoffice.extensions import db
    from backoffice.ranking import rank_year
    from backoffice.scoring import score

    run = f"{TEMPLATE}_run"
    admin_execute(f'DROP DATABASE IF EXISTS "{run}"', f'CREATE DATABASE "{run}" TEMPLATE "{TEMPLATE}"')
    app = app_for(run)
    rows = []

    def timed(label, fn):
        t0, c0 = time.perf_counter(), time.process_time()
        value = fn()
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        rows.append((label, seconds, value, peak_mb()))
        print(f"{label:<58} {seconds:7.2f} s wall {cpu:6.2f} s cpu  {value!s:>26}  peak RSS {peak_mb():5.0f} MB  "
              f"load {os.getloadavg()[0]:.1f}", flush=True)
        return value

    try:
        with app.app_context():
            ids = list(db.session.scalars(select(Application.id).where(Application.year == YEAR).order_by(Application.id)))
            n = len(ids)
            db.session.commit()
            timed(f"load_score_inputs, {n} applications",
                  lambda: sum(len(chunk) for chunk in load_score_inputs(db.session, ids)))

            def bulk(trigger):
                result = rescore_batch(ids, trigger=trigger)
                db.session.commit()
                return f"changed {result.changed}, failed {len(result.failed)}"

            timed("rescore_many, first snapshots (+ commit)", lambda: bulk("bench-first"))
            timed("rescore_many, nothing changed (+ commit)", lambda: bulk("bench-again"))

            # 1 % of the claims: a housing segment moved a year earlier.
            rnd = random.Random(7)
            housing = [(cid, facts) for cid, facts in db.session.execute(
                select(IndicatorClaim.id, IndicatorClaim.verified).where(IndicatorClaim.indicator == "housing"))
                if facts]
            moved = rnd.sample(housing, min(len(housing), n // 100))
            for claim_id, facts in moved:
                y, m = facts["from"].split("-")
                db.session.execute(update(IndicatorClaim).where(IndicatorClaim.id == claim_id)
                                   .values(verified={**facts, "from": f"{int(y) - 1}-{m}"}))
            db.session.commit()
            timed(f"rescore_many after {len(moved)} claims changed (+ commit)", lambda: bulk("bench-1pc"))

            # A new engine version (a rule correction): every application is scored again.
            import backoffice.applications.scoring_service as service

            real_version = service.ENGINE_VERSION
            service.ENGINE_VERSION = real_version + "-bench"
            try:
                timed("rescore_many, new engine version, same figures (+ commit)", lambda: bulk("bench-engine"))
            finally:
                service.ENGINE_VERSION = real_version

            def rank():
                result = rank_year(YEAR)
                db.session.commit()
                return f"cut-off {result.cutoff}, {result.admitted} in"

            timed("rank_year (+ commit)", rank)
            timed("rank_year again, nothing changed (+ commit)", rank)

            sample = ids[:: max(1, n // naive)][:naive]

            def naive_loop():
                changed = 0
                for app_id in sample:
                    application = db.session.get(Application, app_id)
                    data = build_score_input(application, application.claims)
                    result = score(data)
                    latest = db.session.scalars(select(ScoreSnapshot).where(ScoreSnapshot.application_id == app_id)
                                                .order_by(ScoreSnapshot.id.desc()).limit(1)).first()
                    changed += latest is None or latest.breakdown["indicators"] != result["indicators"]
                db.session.rollback()
                return f"{len(sample)} apps, changed {changed}"

            seconds_before = time.perf_counter()
            timed("naive ORM loop on a sample", naive_loop)
            naive_seconds = time.perf_counter() - seconds_before

            def single_loop():
                for app_id in sample:
                    rescore_application(app_id, trigger="bench-single")
                db.session.rollback()
                return f"{len(sample)} apps"

            seconds_before = time.perf_counter()
            timed("rescore_application per id on a sample", single_loop)
            single_seconds = time.perf_counter() - seconds_before
            bulk_unchanged = rows[2][1]  # "nothing changed"
            print(f"\nextrapolated to {n}: naive ORM loop {naive_seconds / len(sample) * n:.0f} s, "
                  f"rescore_application loop {single_seconds / len(sample) * n:.0f} s, "
                  f"rescore_many {bulk_unchanged:.1f} s (nothing changed) → "
                  f"{naive_seconds / len(sample) * n / bulk_unchanged:.0f}× / "
                  f"{single_seconds / len(sample) * n / bulk_unchanged:.0f}×")
    finally:
        from backoffice.extensions import db as _db

        with app.app_context():
            _db.engine.dispose()
        admin_execute(f'DROP DATABASE IF EXISTS "{run}"')


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("what", choices=("generate", "measure", "drop"))
    ap.add_argument("--n", type=int, default=120_000)
    ap.add_argument("--seed", type=int, default=2021)
    ap.add_argument("--naive", type=int, default=2000, help="sample size of the one-at-a-time loops")
    args = ap.parse_args()
    if args.what == "generate":
        generate(args.n, args.seed)
    elif args.what == "measure":
        measure(args.naive)
    else:
        admin_execute(f'DROP DATABASE IF EXISTS "{TEMPLATE}"', f'DROP DATABASE IF EXISTS "{TEMPLATE}_run"')
    return 0


if __name__ == "__main__":
    sys.exit(main())
