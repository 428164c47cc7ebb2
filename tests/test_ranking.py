"""Ranking a year: shared ranks, the cut-off at the quota's position, ties, revocations."""
from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from click.testing import CliRunner
from sqlalchemy import event, select

from backoffice.applications.models import ScoreSnapshot
from backoffice.audit.models import AuditEvent
from backoffice.extensions import db
from backoffice.ranking import RankResult, rank_year
from support import committed_district_year_employer

T0 = datetime(2021, 9, 1, 8, tzinfo=timezone.utc)


def _year(make, quota, year=2021):
    row = make.year(year)
    row.quota = quota
    db.session.flush()
    return row


def _scored(make, totals, year=2021):
    """Applications with the given totals (None: never scored), each with its snapshot."""
    out = []
    for total in totals:
        application = make.application("朝阳区", year=year)
        if total is not None:
            application.total = Decimal(str(total))
            db.session.add(ScoreSnapshot(application_id=application.id, engine_version="test", created_at=T0,
                                         total=application.total, breakdown={}, trigger="test"))
        out.append(application)
    db.session.flush()
    return out


def _state(applications):
    for a in applications:
        db.session.refresh(a)
    return [(a.rank, a.admitted) for a in applications]


def _revoke(application, at=T0 + timedelta(days=50)):
    application.revoked_at = at
    application.revoked_reason = "举报查实：凭证材料弄虚作假"
    db.session.flush()


def test_equal_totals_share_a_rank_and_the_next_rank_skips(make):
    _year(make, 6000)
    applications = _scored(make, [90, 100, 80, 90])
    result = rank_year(2021)
    assert [a.rank for a in applications if db.session.refresh(a) is None] == [2, 1, 4, 2]
    # Fewer applications than the quota: all are in, the cut-off is the lowest total.
    assert result == RankResult(cutoff=Decimal("80.00"), admitted=4, ranked=4, year=2021, quota=6000)


def test_everyone_tied_at_the_cutoff_is_admitted(make):
    _year(make, 3)
    applications = _scored(make, [100, 95, 90, 90, 90, 85])
    result = rank_year(2021)
    assert result.cutoff == Decimal("90.00") and result.admitted == 5 and result.ranked == 6
    assert _state(applications) == [(1, True), (2, True), (3, True), (3, True), (3, True), (6, False)]


def test_the_cutoff_is_the_total_at_the_quotas_position(make):
    _year(make, 2)
    applications = _scored(make, [97.13, 97.14, 97.12])
    result = rank_year(2021)
    assert result.cutoff == Decimal("97.13") and result.admitted == 2
    assert _state(applications) == [(2, True), (1, True), (3, False)]


def test_applications_without_a_score_are_neither_ranked_nor_admitted(make):
    _year(make, 2)
    applications = _scored(make, [None, 70, None, 60, 50])
    result = rank_year(2021)
    assert result.ranked == 3 and result.cutoff == Decimal("60.00") and result.admitted == 2
    assert _state(applications) == [(None, False), (1, True), (None, False), (2, True), (3, False)]
    # A total taken away later takes the rank with it; nobody else's rank moves up into it.
    applications[1].total = None
    db.session.flush()
    result = rank_year(2021)
    assert _state(applications)[1] == (None, False) and result.ranked == 2


def test_other_years_are_left_alone(make):
    _year(make, 1)
    _year(make, 1, year=2022)
    this_year = _scored(make, [80, 70])
    next_year = _scored(make, [90], year=2022)
    rank_year(2021)
    assert _state(next_year) == [(None, False)]
    assert _state(this_year) == [(1, True), (2, False)]


def test_a_revoked_qualification_moves_nobody_up(make):
    """第五篇 二 注意 2 "经核查取消积分落户资格…落户资格不递补"."""
    _year(make, 3)
    top, revoked, third, fourth = _scored(make, [100, 95, 90, 85])
    before = rank_year(2021)
    assert before.cutoff == Decimal("90.00") and before.admitted == 3

    _revoke(revoked)
    after = rank_year(2021)
    assert after.cutoff == before.cutoff and after.admitted == 2
    assert _state([top, revoked, third, fourth]) == [(1, True), (2, False), (3, True), (4, False)]

    # The fraudulent facts struck, the revoked applicant is rescored far below: they still hold
    # the place they had when revoked, so the next applicant does not move into the quota.
    revoked.total = Decimal("10.00")
    db.session.add(ScoreSnapshot(application_id=revoked.id, engine_version="test", total=revoked.total,
                                 created_at=T0 + timedelta(days=60), breakdown={}, trigger="decision"))
    db.session.flush()
    again = rank_year(2021)
    assert again.cutoff == before.cutoff and again.admitted == 2
    assert _state([top, revoked, third, fourth]) == [(1, True), (2, False), (3, True), (4, False)]


def test_a_revoked_qualification_in_a_tie_at_the_cutoff_keeps_the_others_in(make):
    _year(make, 3)
    applications = _scored(make, [100, 90, 90, 90, 80])
    assert rank_year(2021).admitted == 4
    _revoke(applications[2])
    result = rank_year(2021)
    assert result.cutoff == Decimal("90.00") and result.admitted == 3
    assert _state(applications) == [(1, True), (2, True), (2, False), (2, True), (5, False)]


def test_ranking_is_audited_and_takes_the_same_statements_for_any_size(make):
    _year(make, 2)

    def statements_for(count):
        _scored(make, [50 + n for n in range(count)])
        seen = []

        def listener(conn, cursor, statement, *args):
            seen.append(statement)

        engine = db.session.get_bind()
        event.listen(engine, "before_cursor_execute", listener)
        try:
            rank_year(2021)
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(seen)

    assert statements_for(3) == statements_for(40)
    audit = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "ranking.computed")
                               .order_by(AuditEvent.id.desc())).first()
    assert audit.object_id == "2021" and audit.after["admitted"] == 2 and audit.after["ranked"] == 43


def test_unknown_year():
    with pytest.raises(LookupError):
        rank_year(2099)


def test_rank_command_writes_ranks_and_prints_cutoff_and_admitted(app, make, monkeypatch):
    import backoffice.cli as cli
    from backoffice import cliapp

    _year(make, 2)
    applications = _scored(make, [88.5, 91.25, 91.25, 70])
    monkeypatch.setattr(cliapp, "cli_app", lambda: app)
    result = CliRunner().invoke(cli.main, ["rank", "--year", "2021"])
    assert result.exit_code == 0, result.output
    assert "91.25" in result.output and "取得资格 2 人" in result.output
    assert _state(applications) == [(3, False), (1, True), (1, True), (4, False)]
    missing = CliRunner().invoke(cli.main, ["rank", "--year", "2077"])
    assert missing.exit_code == 1 and "2077" in missing.output


# 第三篇 十、2: "如果申报阶段结束时，您未完成提交，将无法获得积分，也将不能计算年度总积分。"
EMPLOYMENT_10Y = {"insurance": {t: {"paid": [["2011-01", "2020-12"]], "back_paid": []}
                                for t in ("pension", "medical", "unemployment", "injury", "maternity")},
                  "work_districts": [{"from": "2011-01", "to": "2020-12", "district": "朝阳区"}]}


def _filed(make, *, submitted):
    from datetime import date

    application = make.application("朝阳区", applicant=make.applicant(birth=date(1985, 3, 14)), submitted=submitted)
    claim = make.claim(application, indicator="employment", status="valid", reason=None, claimed=EMPLOYMENT_10Y)
    claim.verified = EMPLOYMENT_10Y
    db.session.flush()
    return application


def test_an_unsubmitted_application_has_no_total_and_no_rank(make):
    from backoffice.applications.scoring_service import rescore_application, rescore_batch, sync_total

    _year(make, 6000)
    submitted, unsubmitted, bulk = _filed(make, submitted=True), _filed(make, submitted=False), \
        _filed(make, submitted=False)
    rescore_application(submitted.id, trigger="intake")
    snapshot = rescore_application(unsubmitted.id, trigger="intake")
    rescore_batch([bulk.id], trigger="year")
    # Employment 120 months × 3/12 = 30.00; housing in period A taken from employment,
    # 2011-01 … 2020-07 = 115 months × 0.5/12 = 4.79; age 20 (born 1985): 54.79 for each, but only
    # the submitted one has it as its total; the others keep their indicators' points in the snapshot.
    assert snapshot.breakdown["indicators"]["employment"]["points"] == 30.0
    result = rank_year(2021)
    assert _state([submitted, unsubmitted, bulk]) == [(1, True), (None, False), (None, False)]
    assert submitted.total == Decimal("54.79") and unsubmitted.total is None and bulk.total is None
    assert result.ranked == 1 and result.admitted == 1

    # Submitted in time after all (still in the application phase): the total and the rank follow.
    unsubmitted.submitted_at = datetime(2021, 5, 15, 15, 59, tzinfo=timezone.utc)  # 23:59 in Beijing
    sync_total(unsubmitted)
    rank_year(2021)
    assert _state([submitted, unsubmitted]) == [(1, True), (1, True)] and unsubmitted.total == Decimal("54.79")
    # A submission stamped after the phase's last day (Beijing) is not ranked.
    unsubmitted.submitted_at = datetime(2021, 5, 15, 16, 0, tzinfo=timezone.utc)  # 00:00 on 16 May in Beijing
    db.session.flush()
    rank_year(2021)
    assert _state([unsubmitted]) == [(None, False)]


def test_ranking_counts_the_applications_that_are_not_final(make, app):
    from backoffice.cases.models import CaseStatus
    from backoffice.cli import main

    _year(make, 6000)
    done, pending, reviewing, closed_review = _scored(make, [90, 80, 70, 60])
    make.claim(pending, indicator="tax", status="pending", reason=None)
    make.case(reviewing)  # an open 复查
    finished = make.case(closed_review)
    finished.status, finished.closed_at = CaseStatus.closed, T0
    make.case(done, queue="appeals", kind="appeal")  # an appeal does not hold the total back
    db.session.commit()
    assert rank_year(2021).not_final == 2
    output = CliRunner().invoke(main, ["rank", "--year", "2021"], obj=app).output
    assert "2 份已提交的申请尚有审核结果未返回或复查未办结" in output


@pytest.mark.no_db
@pytest.mark.postgres
@pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgresql"),
                    reason="row locks are PostgreSQL's: on SQLite any write takes the whole database's lock")
def test_an_open_ranking_does_not_hold_up_a_decisions_rescore(app, database_url):
    """A ranking that has written its ranks but not committed yet, and a decision's rescore
    locking one of the applications it ranked, from another connection: the rescore gets its
    lock at once (issue 18 §2). A FOR UPDATE lock, as the rescore took before, would wait."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError

    from backoffice.applications.models import Application, ApplicationRank
    from queues.jobs import _lock_application

    engine = create_engine(database_url)
    with engine.begin() as conn:
        ids = committed_district_year_employer(conn, code="119998", year=2098, uscc="91119998RANK00001X")
        ids["applications"] = []
        for n, total in enumerate((90, 80)):
            applicant = conn.execute(text(
                "INSERT INTO applicants (id_number, id_last4, name, birth_date, created_at) "
                f"VALUES ('1199981990010{n}RANK', 'RAN{n}', 'x', '1990-01-01', now()) RETURNING id")).scalar()
            ids["applications"].append(conn.execute(text(
                "INSERT INTO applications (applicant_id, year, employer_id, district_id, submitted_at, total) "
                "VALUES (:a, 2098, :e, :d, '2098-01-01T02:00:00+00:00', :t) RETURNING id"),
                {"a": applicant, "e": ids["employer"], "d": ids["district"], "t": total}).scalar())
    first, second = ids["applications"]
    try:
        with app.app_context():
            result = rank_year(2098, actor_label="test")  # written (flushed), not committed
            assert (result.ranked, result.admitted) == (2, 1)
            assert db.session.get(ApplicationRank, second).rank == 2
            with app.app_context():  # another session, on its own connection: the decision's rescore
                db.session.execute(text("SET LOCAL lock_timeout = '2s'"))
                assert _lock_application(second) == 2098
                db.session.rollback()
            with app.app_context():
                db.session.execute(text("SET LOCAL lock_timeout = '100ms'"))
                with pytest.raises(OperationalError, match="lock"):
                    db.session.execute(select(Application.id).where(Application.id == first).with_for_update())
                db.session.rollback()
            db.session.rollback()  # the ranking is left uncommitted: no audit row stays behind
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM applications WHERE year = 2098"))
            conn.execute(text("DELETE FROM applicants WHERE id_number LIKE '119998%RANK'"))
            conn.execute(text("DELETE FROM employers WHERE id = :i"), {"i": ids["employer"]})
            conn.execute(text("DELETE FROM years WHERE year = 2098"))
            conn.execute(text("DELETE FROM districts WHERE code = '119998'"))
        engine.dispose()
