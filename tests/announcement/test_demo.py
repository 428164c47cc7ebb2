"""The demo year shows a published list, an open tip with a statement, and one revoked application."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from backoffice.announcement.models import Publication, Revocation, RevocationStatus
from backoffice.applications.models import Application
from backoffice.cases.models import CaseKind, CaseStatus, ReviewCase
from backoffice.demo import DEMO_PASSWORD, seed
from backoffice.extensions import db
from support import sign_in


def test_the_demo_year_has_a_list_an_open_tip_and_a_revocation(app):
    seed(applicants=60, today=date(2021, 9, 1))
    assert seed(applicants=60, today=date(2021, 9, 1)).created == {}  # idempotent
    publication = db.session.scalar(select(Publication).where(Publication.year == 2021))
    assert publication.row_count > 25
    revoked = db.session.scalars(select(Application).where(Application.revoked_at.is_not(None))).all()
    assert len(revoked) == 1
    assert db.session.scalar(select(Revocation)).status == RevocationStatus.confirmed
    open_tip = db.session.scalar(select(ReviewCase).where(ReviewCase.kind == CaseKind.tip,
                                                          ReviewCase.status == CaseStatus.open))
    client = app.test_client()
    assert sign_in(client, "investigator", DEMO_PASSWORD).status_code == 302
    queue = client.get("/admin/queue_tips/").get_data(as_text=True)
    assert f'href="/admin/tip/{open_tip.id}/"' in queue
    page = client.get(f"/admin/tip/{open_tip.id}/").get_data(as_text=True)
    assert "请核查" in page or "不一致" in page or "不符" in page
    listed = client.get("/admin/announcement/2021/").get_data(as_text=True)
    assert "已取消资格" in listed and "2021000001" in listed
    city = app.test_client()
    assert sign_in(city, "supervisor_city", DEMO_PASSWORD).status_code == 302
    assert "已取消资格" in city.get("/admin/revocations/").get_data(as_text=True)
