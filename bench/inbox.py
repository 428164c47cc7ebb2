"""The home page's inboxes, 办理下一件 and the name search on a full year (run by hand on
PostgreSQL, not a test).

    createdb -h 127.0.0.1 -U postgres bench_inbox
    export DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench_inbox
    .venv/bin/backoffice db upgrade && .venv/bin/backoffice synth --seed 7   # 120 000 applications, 60 000 cases
    .venv/bin/python bench/inbox.py [--runs 30]

Once per database (when its accounts are missing): a reviewer and a supervisor of the busiest
district; ~30 % of the cases closed, ~15 % claimed by district reviewers (the bench reviewer
among them), ~3 % waiting for a countersignature with a decision by a district reviewer, an
escalation for every overdue case (the daily sweep), VACUUM ANALYZE. Then, median and p90 of
`--runs` after a warm-up: the home page through the app (Flask test client, signed in) for
each, the inbox functions alone, `next_case`, and the worklist searched by a full name.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time

from sqlalchemy import event, select, text

PASSWORD = "bench-password-2021"
REVIEWER = "bench_ib_reviewer"
SUPERVISOR = "bench_ib_supervisor"


def prepare() -> None:
    from backoffice.cases.models import Decision, Outcome, ReviewCase
    from backoffice.extensions import db
    from backoffice.staff.services import create_staff
    from backoffice.turnaround.sweep import update_escalations
    from backoffice.turnaround.sql import beijing_today

    busiest = db.session.execute(text(
        "SELECT district_id FROM review_cases GROUP BY district_id ORDER BY count(*) DESC LIMIT 1")).scalar()
    reviewer = create_staff(REVIEWER, "基准审核员", PASSWORD, "reviewer", busiest, actor_label="bench")
    create_staff(SUPERVISOR, "基准主管", PASSWORD, "supervisor", busiest, actor_label="bench")
    for (d,) in db.session.execute(text("SELECT DISTINCT district_id FROM review_cases")).all():
        if d != busiest:
            create_staff(f"bench_ib_r{d}", f"审核员{d}", PASSWORD, "reviewer", d, actor_label="bench")
    db.session.flush()
    db.session.execute(text(
        "UPDATE review_cases SET status = 'closed', closed_at = now(), version = version + 1 WHERE id % 10 IN (1, 4, 7)"))
    db.session.execute(text(
        "UPDATE review_cases c SET status = 'in_review', version = c.version + 1, assignee_id = s.id "
        "FROM staff s WHERE s.district_id = c.district_id AND s.role = 'reviewer' "
        "AND s.username LIKE 'bench_ib_%' AND c.id % 20 IN (2, 5, 15) AND c.status = 'open'"))
    waiting = db.session.scalars(select(ReviewCase).where(ReviewCase.status == "in_review",
                                                          ReviewCase.id % 100 < 20)).all()
    for case in waiting:  # ~3 % of all cases: a decision waiting for its countersignature
        db.session.add(Decision(case_id=case.id, outcome=Outcome.corrected, reason_code="corrected_after_verification",
                                note="基准", decided_by_id=case.assignee_id))
    db.session.flush()
    db.session.execute(text("UPDATE review_cases SET status = 'awaiting_countersign' "
                            "WHERE status = 'in_review' AND id % 100 < 20"))
    update_escalations(beijing_today())
    db.session.commit()
    assert reviewer.id
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))


def _timed(fn, runs: int) -> tuple[float, float]:
    fn()
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.9) - 1]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()

    from backoffice.app import create_app
    from backoffice.applications.models import Applicant
    from backoffice.cases import inbox
    from backoffice.cases.models import ReviewCase
    from backoffice.extensions import db
    from backoffice.settings import Settings
    from backoffice.staff.models import Staff
    from backoffice.turnaround.sql import beijing_today

    app = create_app(Settings.from_env())
    app.config["WTF_CSRF_ENABLED"] = False
    with app.app_context():
        if db.session.scalar(select(Staff.id).where(Staff.username == REVIEWER)) is None:
            t0 = time.perf_counter()
            prepare()
            print(f"prepared in {time.perf_counter() - t0:.1f} s")
        statements: list[float] = []

        @event.listens_for(db.engine, "before_cursor_execute")
        def _start(conn, cursor, statement, params, context, executemany):
            conn.info["t0"] = time.perf_counter()

        @event.listens_for(db.engine, "after_cursor_execute")
        def _end(conn, cursor, statement, params, context, executemany):
            statements.append((time.perf_counter() - conn.info["t0"]) * 1000)

        today = beijing_today()
        reviewer = db.session.scalar(select(Staff).where(Staff.username == REVIEWER))
        supervisor = db.session.scalar(select(Staff).where(Staff.username == SUPERVISOR))
        counts = {
            "cases": db.session.scalar(text("SELECT count(*) FROM review_cases")),
            "reviewer's in review": len(inbox.my_cases(reviewer, today)),
            "awaiting countersign (district)": db.session.scalar(text(
                "SELECT count(*) FROM review_cases WHERE status = 'awaiting_countersign' AND district_id = :d"),
                {"d": supervisor.district_id}),
            "open escalations (district)": inbox.escalation_count(supervisor),
        }
        print(counts)
        queue = db.session.scalar(select(ReviewCase.queue).where(ReviewCase.district_id == reviewer.district_id)
                                  .group_by(ReviewCase.queue).order_by(text("count(*) DESC")).limit(1))
        name = db.session.scalar(select(Applicant.name).order_by(Applicant.id).limit(1))
        namesakes = db.session.scalar(select(text("count(*)")).select_from(Applicant).where(Applicant.name == name))
        rows = []
        for label, fn in (
            ("my_cases (reviewer)", lambda: inbox.my_cases(reviewer, today)),
            ("awaiting_my_countersign (supervisor)", lambda: inbox.awaiting_my_countersign(supervisor, today)),
            ("open_escalations + count (supervisor)",
             lambda: (inbox.open_escalations(supervisor, today), inbox.escalation_count(supervisor))),
            (f"next_case (reviewer, {queue})", lambda: inbox.next_case(reviewer, queue)),
            (f"next_case (supervisor, {queue})", lambda: inbox.next_case(supervisor, queue)),
        ):
            statements.clear()
            median, p90 = _timed(fn, args.runs)
            rows.append((label, median, p90))
        for username in (REVIEWER, SUPERVISOR):
            client = app.test_client()
            client.post("/admin/login/", data={"username": username, "password": PASSWORD})
            median, p90 = _timed(lambda: client.get("/admin/"), args.runs)
            rows.append((f"GET /admin/ ({username})", median, p90))
            median, p90 = _timed(lambda: client.get(f"/admin/queue_{queue}/", query_string={"search": name}), args.runs)
            rows.append((f"worklist searched by a full name ({namesakes} namesakes in the year)", median, p90))
        db.session.remove()
    print(f"| what | median | p90 |\n|---|---|---|")
    for label, median, p90 in rows:
        print(f"| {label} | {median:.1f} ms | {p90:.1f} ms |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
