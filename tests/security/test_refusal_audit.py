"""Refused cross-district attempts are audited as such (issue 15 §3): another district's
case, file or application answers as if it did not exist, and the attempt is recorded
although the request failed."""
from __future__ import annotations

from sqlalchemy import select

from backoffice.applications.models import EvidenceFile
from backoffice.audit.models import AuditEvent
from backoffice.extensions import db


def _refusals():
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == "access.refused_other_district")
                              .order_by(AuditEvent.id)).all()


def test_another_districts_case_file_and_application_are_refused_and_audited(app, make, client_for):
    chaoyang_case = make.case(district="朝阳区")
    evidence = EvidenceFile(case_id=chaoyang_case.id, material_slot="owner_identity", sha256="a" * 64, size=10, pages=1)
    db.session.add(evidence)
    db.session.flush()
    intruder = make.staff("reviewer", "海淀区")
    client = client_for(intruder)
    assert client.get(f"/admin/case/{chaoyang_case.id}/").status_code == 404
    assert client.get(f"/admin/evidence/download/{evidence.id}").status_code == 404
    details = client.get(f"/admin/applications/details/?id={chaoyang_case.application_id}")
    assert details.status_code in (302, 404)
    events = _refusals()
    assert [(e.object_type, e.object_id) for e in events] == [
        ("review_case", str(chaoyang_case.id)), ("evidence_files", str(evidence.id)),
        ("applications", str(chaoyang_case.application_id))]
    chaoyang = make.district("朝阳区").id
    for event in events:
        assert event.actor_label == intruder.username
        assert event.after["target_district_id"] == chaoyang
        assert event.after["actor_district_id"] == make.district("海淀区").id
        assert event.district_id is None  # city level: it names another district's row


def test_a_row_that_does_not_exist_is_not_a_refusal(app, make, client_for):
    client = client_for(make.staff("reviewer", "海淀区"))
    assert client.get("/admin/case/987654/").status_code == 404
    assert _refusals() == []


def test_own_districts_case_is_not_a_refusal(app, make, client_for):
    case = make.case(district="海淀区")
    client = client_for(make.staff("reviewer", "海淀区"))
    assert client.get(f"/admin/case/{case.id}/").status_code == 200
    assert _refusals() == []
