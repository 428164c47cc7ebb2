"""The demo seed: a usable year, loaded twice without error or duplicates."""
from datetime import date

from sqlalchemy import func, select

from backoffice.applications.models import Applicant, Application, IndicatorClaim, RegistryStatus
from backoffice.cases.clock import working_days_between
from backoffice.cases.models import CaseKind, ReviewCase
from backoffice.cases.services import missing_uploads
from backoffice.demo import LOGINS, seed
from backoffice.extensions import db
from backoffice.reference.models import District, Employer
from backoffice.staff.models import Staff
from verifiers.filings import ARCHIVE_WORKING_DAYS
from verifiers.routing import QUEUES


def _counts():
    return {model.__name__: db.session.scalar(select(func.count()).select_from(model))
            for model in (District, Employer, Applicant, Application, IndicatorClaim, ReviewCase, Staff)}


def test_seed_twice_gives_the_same_rows(app):
    with app.app_context():
        first = seed(applicants=120, today=date(2021, 9, 1))
        counts = _counts()
        second = seed(applicants=120, today=date(2021, 9, 1))
        assert _counts() == counts
        assert second.created == {}
        assert first.created["applicants"] == 120
        assert counts["District"] == 17
        # A usable demo: several districts, mixed registry results, every queue has work, a login per role.
        assert db.session.scalar(select(func.count(func.distinct(Application.district_id)))) >= 6
        statuses = set(db.session.scalars(select(IndicatorClaim.registry_status).distinct()))
        assert {RegistryStatus.valid, RegistryStatus.invalid} <= statuses
        queues = set(db.session.scalars(select(ReviewCase.queue).distinct()))
        assert queues == {q.code for q in QUEUES}
        roles = {s.role.value for s in db.session.scalars(select(Staff))}
        assert roles == {"reviewer", "supervisor", "investigator", "administrator", "city_approver"}
        assert [login[0] for login in first.logins] == [login[0] for login in LOGINS]
        # Two overseas certificates filed in 朝阳区, each a filing case with its file, the old one
        # (教留服认美[2005]…) given the longer time.
        assert first.created["filing cases"] == 2
        filings = db.session.scalars(select(ReviewCase).where(ReviewCase.kind == CaseKind.filing)
                                     .order_by(ReviewCase.id)).all()
        assert [(c.queue, c.district.name, c.review_type) for c in filings] == [
            ("education", "朝阳区", "edu_overseas_certificate")] * 2
        old, new = (working_days_between(c.received_on, c.due_date) for c in filings)
        assert (old, new) == (ARCHIVE_WORKING_DAYS, 10)
        assert all(not missing_uploads(c) for c in filings)


def test_the_demo_records_the_backlog_trend_and_reads_as_one_year(app):
    """The dashboard's 30-day trend has a line from the start (as `sweep --backfill 30`), and the
    demo year, its phases, submissions, registry checks and cases all fall in that year."""
    from datetime import timedelta

    from backoffice.reference.models import Year
    from backoffice.turnaround.models import DailyBacklog

    today = date(2026, 11, 30)
    with app.app_context():
        summary = seed(applicants=40, today=today)
        assert summary.year == 2026
        days = set(db.session.scalars(select(DailyBacklog.day).distinct()))
        assert {today - timedelta(days=n) for n in range(31)} <= days
        # The trend is not flat at zero: cases were open on the days before today.
        assert db.session.scalar(select(func.sum(DailyBacklog.open_cases))
                                 .where(DailyBacklog.day == today - timedelta(days=1))) > 0
        year = db.session.get(Year, 2026)
        phases = [year.application_start, year.application_end, year.result_query_start, year.result_query_end,
                  year.announcement_start, year.announcement_end]
        assert {d.year for d in phases} == {2026}
        applications = db.session.scalars(select(Application).where(Application.year == 2026)).all()
        assert applications
        assert all(year.application_start <= a.submitted_at.date() <= year.application_end for a in applications)
        checked = set(db.session.scalars(select(func.min(IndicatorClaim.checked_at))
                                         .join(Application, Application.id == IndicatorClaim.application_id)
                                         .where(Application.year == 2026)))
        assert all(c.year == 2026 for c in checked)
        received = db.session.scalars(select(ReviewCase.received_on).where(ReviewCase.year == 2026)).all()
        assert received and {d.year for d in received} == {2026}
        assert seed(applicants=40, today=today).created == {}  # the second run adds no backlog day either
