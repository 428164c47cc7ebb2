"""Every case POST carries the version of the case its form was rendered from, and one that
does not is refused in words with nothing saved and what was typed kept (cases/services.py
`MissingVersion`); the rule checks of the workspace go through staff/permissions.py."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from backoffice.audit.models import AuditEvent
from backoffice.cases.models import CaseStatus
from backoffice.extensions import db
from support import csrf_token_from

OWN = "朝阳区"
MISSING = "表单缺少案件版本"


@pytest.fixture
def people(make):
    out = {"reviewer": make.staff("reviewer", OWN), "supervisor": make.staff("supervisor", OWN)}
    db.session.commit()
    return out


def _events():
    return db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.object_type == "review_case"))


def _post_without_version(client, case, action, **data):
    page = client.get(f"/admin/case/{case.id}/").get_data(as_text=True)
    # The page's forms send the version (one hidden input per form); this post leaves it out.
    assert re.search(r'name="version" value="\d+"', page)
    return client.post(f"/admin/case/{case.id}/{action}", data={"csrf_token": csrf_token_from(page), **data})


def test_workspace_posts_without_a_version_are_refused_and_change_nothing(make, client_for, people):
    case = make.case(district=OWN, number="V-1")
    case.reason_code = "housing_listing_invalid"
    db.session.commit()
    reviewer = client_for(people["reviewer"])
    events = _events()

    claim = _post_without_version(reviewer, case, "claim")
    assert claim.status_code == 400 and MISSING in claim.get_data(as_text=True)
    db.session.expire_all()
    assert case.status == CaseStatus.open and case.assignee_id is None and _events() == events

    # Claimed properly, the decision form without a version: refused, the note typed is shown back.
    page = reviewer.get(f"/admin/case/{case.id}/").get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    assert reviewer.post(f"/admin/case/{case.id}/claim",
                         data={"csrf_token": csrf_token_from(page), "version": version}).status_code == 302
    events = _events()
    decide = _post_without_version(reviewer, case, "decide", outcome="rejected", reason_code="materials_mismatch",
                                   note="产权证明与登记信息不符（待核）")
    html = decide.get_data(as_text=True)
    assert decide.status_code == 400 and MISSING in html and "产权证明与登记信息不符（待核）" in html
    release = _post_without_version(reviewer, case, "release")
    assert release.status_code == 400 and MISSING in release.get_data(as_text=True)
    supervisor = client_for(people["supervisor"])
    reassign = _post_without_version(supervisor, case, "reassign", assignee_id=str(people["supervisor"].id),
                                     reason="临时接手")
    assert reassign.status_code == 400 and MISSING in reassign.get_data(as_text=True)
    db.session.expire_all()
    assert case.status == CaseStatus.in_review and case.assignee_id == people["reviewer"].id
    assert not case.decisions and _events() == events


def test_bulk_pages_without_versions_are_refused(make, client_for, people):
    cases = [make.case(district=OWN, number=f"V-B{i}") for i in range(2)]
    for c in cases:
        c.assignee_id, c.status = people["reviewer"].id, CaseStatus.in_review
    db.session.commit()
    ids = ",".join(str(c.id) for c in cases)
    reviewer = client_for(people["reviewer"])
    page = reviewer.get(f"/admin/case/bulk/decide?ids={ids}").get_data(as_text=True)
    # The page's form carries each selected case's version ...
    assert all(f'name="version-{c.id}" value="{c.version}"' in page for c in cases)
    # ... and a post without them decides nothing.
    response = reviewer.post(f"/admin/case/bulk/decide?ids={ids}", data={
        "csrf_token": csrf_token_from(page), "ids": ids, "outcome": "rejected",
        "reason_code": "materials_mismatch", "note": "批量不予支持"})
    assert response.status_code == 400 and MISSING in response.get_data(as_text=True)
    supervisor = client_for(people["supervisor"])
    page = supervisor.get(f"/admin/case/bulk/reassign?ids={ids}").get_data(as_text=True)
    response = supervisor.post(f"/admin/case/bulk/reassign?ids={ids}", data={
        "csrf_token": csrf_token_from(page), "ids": ids, "assignee_id": str(people["supervisor"].id),
        "reason": "均衡工作量"})
    assert response.status_code == 400 and MISSING in response.get_data(as_text=True)
    db.session.expire_all()
    assert all(c.status == CaseStatus.in_review and c.assignee_id == people["reviewer"].id and not c.decisions
               for c in cases)


def test_who_may_reassign_is_the_permission_rule(make, client_for, people):
    case = make.case(district=OWN, number="V-R")
    db.session.commit()
    # The workspace offers the reassign form to supervisors only (can_reassign) ...
    assert 'action="/admin/case/%d/reassign"' % case.id not in client_for(people["reviewer"]).get(
        f"/admin/case/{case.id}/").get_data(as_text=True)
    assert 'action="/admin/case/%d/reassign"' % case.id in client_for(people["supervisor"]).get(
        f"/admin/case/{case.id}/").get_data(as_text=True)
    # ... and the bulk page answers a reviewer with the rule's own words (can_reassign_cases).
    refused = client_for(people["reviewer"]).get(f"/admin/case/bulk/reassign?ids={case.id}")
    assert refused.status_code == 403 and "只有主管可以改派案件" in refused.get_data(as_text=True)
