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
