"""The district matrix: every admin endpoint × every role × own and other district,
by list, by guessed id (details), in exports, and in file downloads.

A 朝阳区 user must get 403 or 404 for anything of 海淀区; city-level users see both.
"""
from __future__ import annotations

import io
from decimal import Decimal

import pytest
from pypdf import PdfWriter

from backoffice.admin.base import ScopedModelView
from backoffice.applications.models import EvidenceFile, ScoreSnapshot
from backoffice.audit.services import record
from backoffice.cases.models import Decision, Outcome
from backoffice.extensions import db
from backoffice.staff.models import Role
from backoffice.staff.permissions import AREAS
from verifiers.uploads import store

OWN, OTHER = "朝阳区", "海淀区"


def _pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


@pytest.fixture
def world(app, make, settings):
    """Two districts' worth of everything, each row carrying a marker the list shows."""
    rows = {}
    pdf = store(_pdf(), settings.upload_dir)
    for tag, district in (("own", OWN), ("other", OTHER)):
        employer = make.employer(district, name=f"单位-{tag}-标记")
        applicant = make.applicant(name=f"申请人{tag}标记")
        application = make.application(district, applicant=applicant, employer=employer)
        claim = make.claim(application, message=f"核查原因-{tag}-标记")
        case = make.case(application, claim=claim, number=f"CASE-{tag.upper()}-1")
        tip = make.case(application, queue="tips", kind="tip", number=f"TIP-{tag.upper()}-1")
        reviewer = make.staff("reviewer", district)
        decision = Decision(case_id=case.id, outcome=Outcome.rejected, reason_code="materials_mismatch",
                            note=f"决定说明-{tag}-标记", decided_by_id=reviewer.id)
        evidence = EvidenceFile(case_id=case.id, material_slot=f"slot_{tag}", sha256=pdf.sha256,
                                size=pdf.size, pages=pdf.pages)
        snapshot = ScoreSnapshot(application_id=application.id, engine_version="test", total=Decimal("10.00"),
                                 breakdown={}, trigger=f"trigger-{tag}-mark")
        db.session.add_all([decision, evidence, snapshot])
        db.session.flush()
        audit = record("test.marker", "review_case", case.id, district_id=case.district_id,
                       actor_label=f"audit-{tag}-mark")
        rows[tag] = {
            "applications": (application.id, f"申请人{tag}标记"),
            "applicants": (applicant.id, f"申请人{tag}标记"),
            "claims": (claim.id, f"核查原因-{tag}-标记"),
            "cases": (case.id, f"CASE-{tag.upper()}-1"),
            "queue_housing": (case.id, f"CASE-{tag.upper()}-1"),
            "queue_tips": (tip.id, f"TIP-{tag.upper()}-1"),
            "decisions": (decision.id, f"决定说明-{tag}-标记"),
            "evidence": (evidence.id, f"slot_{tag}"),
            "snapshots": (snapshot.id, f"trigger-{tag}-mark"),
            "employers": (employer.id, f"单位-{tag}-标记"),
            "audit": (audit.id, f"audit-{tag}-mark"),
        }
    db.session.commit()
    return rows


# Endpoints whose rows belong to no district (reference data, accounts, the outbox).
CITY_ENDPOINTS = {"districts": "reference", "years": "reference", "staff": "staff", "outbox": "outbox",
                  "calendar": "calendar"}
QUEUES_WITHOUT_ROWS = {"queue_education", "queue_awards", "queue_tax", "queue_appeals", "queue_settlement",
                       "queue_eligibility"}

USERS = [
    ("reviewer", OWN),
    ("supervisor", OWN),
    ("supervisor", None),
    ("investigator", None),
    ("administrator", None),
]


def _scoped_views(app):
    admin = app.extensions["admin"][0]
    return {v.endpoint: v for v in admin._views if isinstance(v, ScopedModelView)}


def test_matrix_covers_every_admin_endpoint(app, world):
    endpoints = set(_scoped_views(app))
    covered = set(world["own"]) | set(CITY_ENDPOINTS) | QUEUES_WITHOUT_ROWS
    assert endpoints == covered, f"add new endpoints to the matrix: {endpoints ^ covered}"


@pytest.mark.parametrize("role,district", USERS, ids=[f"{r}-{d or 'city'}" for r, d in USERS])
def test_district_matrix(app, make, client_for, world, role, district):
    user = make.staff(role, district)
    db.session.commit()
    client = client_for(user)
    views = _scoped_views(app)
    city_level = district is None
    for endpoint, view in views.items():
        readers = AREAS[view.area][0]
        may_read = Role(role) in readers
        list_page = client.get(f"/admin/{endpoint}/")
        if not may_read:
            assert list_page.status_code == 403, (endpoint, role)
            continue
        assert list_page.status_code == 200, (endpoint, role, list_page.status_code)
        if endpoint not in world["own"]:
            continue
        html = list_page.get_data(as_text=True)
        own_id, own_marker = world["own"][endpoint]
        other_id, other_marker = world["other"][endpoint]
        assert own_marker in html, (endpoint, role)
        assert (other_marker in html) == city_level, (endpoint, role, "list")

        # Guessing the other district's id in the URL.
        details = client.get(f"/admin/{endpoint}/details/?id={other_id}")
        if city_level:
            assert details.status_code == 200, (endpoint, role)
        else:
            # Flask-Admin answers a missing record with a redirect to the list and a flash.
            assert details.status_code in (302, 404), (endpoint, role, details.status_code)
            assert other_marker not in details.get_data(as_text=True)
        assert client.get(f"/admin/{endpoint}/edit/?id={other_id}").status_code in (302, 403, 404)

        # Exports run the same query.
        export = client.get(f"/admin/{endpoint}/export/csv/")
        assert export.status_code == 200, (endpoint, role)
        csv_text = export.get_data(as_text=True)
        assert own_marker in csv_text or endpoint == "evidence" and "slot_own" in csv_text
        assert (other_marker in csv_text) == city_level, (endpoint, role, "export")

    # File downloads.
    if Role(role) in AREAS["evidence"][0]:
        other_file = client.get(f"/admin/evidence/download/{world['other']['evidence'][0]}")
        own_file = client.get(f"/admin/evidence/download/{world['own']['evidence'][0]}")
        assert own_file.status_code == 200
        assert own_file.headers["Content-Disposition"].startswith("inline")
        assert own_file.headers["X-Content-Type-Options"] == "nosniff"
        assert "default-src 'none'" in own_file.headers["Content-Security-Policy"]
        assert other_file.status_code == (200 if city_level else 404)


def test_masked_id_everywhere_it_is_listed(app, make, client_for, world):
    from backoffice.applications.models import Applicant

    applicant = db.session.get(Applicant, world["own"]["applicants"][0])
    client = client_for(make.staff("reviewer", OWN))
    for endpoint in ("applicants", "applications", "queue_housing", "cases"):
        html = client.get(f"/admin/{endpoint}/").get_data(as_text=True)
        assert applicant.id_number not in html, endpoint
        assert applicant.masked_id in html, endpoint
        assert applicant.id_number not in client.get(f"/admin/{endpoint}/export/csv/").get_data(as_text=True)
    details = client.get(f"/admin/applicants/details/?id={applicant.id}").get_data(as_text=True)
    assert applicant.id_number not in details


def test_viewing_a_file_is_audited(app, make, client_for, world):
    from sqlalchemy import select

    from backoffice.audit.models import AuditEvent

    user = make.staff("reviewer", OWN)
    db.session.commit()
    client_for(user).get(f"/admin/evidence/download/{world['own']['evidence'][0]}")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "evidence.viewed",
                                                       AuditEvent.actor_id == user.id))
    assert event is not None and event.object_id == str(world["own"]["evidence"][0])
