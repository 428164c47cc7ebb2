"""The home page's inboxes, 办理下一件, and the rescoring state the workspace polls."""
from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import update

from backoffice.cases.models import CaseStatus, Countersignature, Decision, Outcome
from backoffice.core.db import utcnow
from backoffice.extensions import db
from backoffice.outbox.models import OutboxMessage
from backoffice.outbox.services import request_rescore
from backoffice.turnaround.models import Escalation
from backoffice.turnaround.sql import beijing_today

OWN, OTHER = "朝阳区", "海淀区"
TODAY = beijing_today()


def _claimed(make, staff, number, received, queue="housing", district=OWN):
    case = make.case(district=district, number=number, received=received, queue=queue,
                     kind="review" if queue in ("housing", "education") else "appeal")
    case.assignee_id, case.status = staff.id, CaseStatus.in_review
    db.session.flush()
    return case


def _decide(case, staff, outcome=Outcome.corrected):
    decision = Decision(case_id=case.id, outcome=outcome, reason_code="corrected_after_verification", note="更正",
                        decided_by_id=staff.id)
    db.session.add(decision)
    db.session.flush()
    return decision


def _rows(html: str, testid: str) -> list[str]:
    start = html.index(f'data-testid="{testid}"')
    table = html[start:html.index("</table>", start)]
    return re.findall(r'<tr data-case="([^"]+)"', table)


# The home page -------------------------------------------------------------------------------

def test_a_reviewers_home_lists_their_cases_overdue_first_and_marks_sent_back(make, client_for):
    reviewer = make.staff("reviewer", OWN)
    supervisor = make.staff("supervisor", OWN)
    later = _claimed(make, reviewer, "H-LATER", TODAY - timedelta(days=1))
    overdue = _claimed(make, reviewer, "H-OVERDUE", TODAY - timedelta(days=40))
    sent_back = _claimed(make, reviewer, "H-SENT-BACK", TODAY - timedelta(days=5))
    decision = _decide(sent_back, reviewer)
    db.session.add(Countersignature(decision_id=decision.id, signed_by_id=supervisor.id, confirmed=False,
                                    reason="请补充核实"))
    make.case(district=OWN, number="H-UNCLAIMED")  # in the queue, not theirs
    _claimed(make, make.staff("reviewer", OWN), "H-COLLEAGUE", TODAY - timedelta(days=50))
    db.session.commit()

    html = client_for(reviewer).get("/admin/").get_data(as_text=True)
    assert _rows(html, "mine-table") == ["H-OVERDUE", "H-SENT-BACK", "H-LATER"]
    row = html[html.index('data-case="H-OVERDUE"'):]
    assert 'data-testid="flag-overdue"' in row[:row.index("</tr>")]
    row = html[html.index('data-case="H-SENT-BACK"'):]
    assert 'data-testid="flag-sent-back"' in row[:row.index("</tr>")]
    assert 'data-testid="inbox-countersign"' not in html  # a reviewer countersigns nothing
    assert f'href="/admin/case/{overdue.id}/"' in html and later.number in html


def test_a_supervisors_home_lists_decisions_to_countersign_and_the_districts_escalations(make, client_for):
    reviewer = make.staff("reviewer", OWN)
    supervisor = make.staff("supervisor", OWN)
    waiting = _claimed(make, reviewer, "S-WAITING", TODAY - timedelta(days=3))
    _decide(waiting, reviewer)
    own_decision = _claimed(make, supervisor, "S-OWN-DECISION", TODAY - timedelta(days=3))
    _decide(own_decision, supervisor)
    foreign = _claimed(make, make.staff("reviewer", OTHER), "S-FOREIGN", TODAY - timedelta(days=3), district=OTHER)
    _decide(foreign, foreign.assignee)
    for case in (waiting, own_decision, foreign):
        case.status = CaseStatus.awaiting_countersign
    late = make.case(district=OWN, number="S-LATE", received=TODAY - timedelta(days=40))
    late_foreign = make.case(district=OTHER, number="S-LATE-FOREIGN", received=TODAY - timedelta(days=40))
    for case in (late, late_foreign):
        db.session.add(Escalation(case_id=case.id, district_id=case.district_id, escalated_on=TODAY,
                                  due_date=case.due_date))
    db.session.commit()

    html = client_for(supervisor).get("/admin/").get_data(as_text=True)
    assert _rows(html, "countersign-table") == ["S-WAITING"]  # not their own decision, not another district's
    assert _rows(html, "escalations-table") == ["S-LATE"]
    city = client_for(make.staff("supervisor", None)).get("/admin/").get_data(as_text=True)
    assert sorted(_rows(city, "countersign-table")) == ["S-FOREIGN", "S-OWN-DECISION", "S-WAITING"]
    assert sorted(_rows(city, "escalations-table")) == ["S-LATE", "S-LATE-FOREIGN"]
    assert 'data-testid="city-list-announcement"' in city


def test_an_investigators_home_lists_their_tips_and_the_unclaimed_ones(make, client_for):
    investigator = make.staff("investigator", None)
    colleague = make.staff("investigator", None)
    mine = make.case(district=OWN, queue="tips", kind="tip", number="T-MINE")
    mine.assignee_id, mine.status = investigator.id, CaseStatus.in_review
    make.case(district=OTHER, queue="tips", kind="tip", number="T-UNCLAIMED")
    theirs = make.case(district=OWN, queue="tips", kind="tip", number="T-THEIRS")
    theirs.assignee_id, theirs.status = colleague.id, CaseStatus.in_review
    make.case(district=OWN, number="T-HOUSING")
    db.session.commit()
    html = client_for(investigator).get("/admin/").get_data(as_text=True)
    assert sorted(_rows(html, "tips-table")) == ["T-MINE", "T-UNCLAIMED"]
    assert f'href="/admin/tip/{mine.id}/"' in html
    assert 'data-testid="inbox-mine"' not in html


# 办理下一件 ---------------------------------------------------------------------------------

def test_next_case_opens_the_oldest_due_case_of_the_same_queue_the_user_can_take(make, client_for):
    reviewer = make.staff("reviewer", OWN)
    done = _claimed(make, reviewer, "N-DONE", TODAY - timedelta(days=2))
    done.status, done.closed_at = CaseStatus.closed, utcnow()
    _claimed(make, make.staff("reviewer", OWN), "N-COLLEAGUES", TODAY - timedelta(days=30))  # someone else's
    make.case(district=OTHER, number="N-FOREIGN", received=TODAY - timedelta(days=29))  # another district
    make.case(district=OWN, number="N-APPEAL", queue="appeals", kind="appeal", received=TODAY - timedelta(days=28))
    oldest = make.case(district=OWN, number="N-OLDEST", received=TODAY - timedelta(days=10))
    newer = make.case(district=OWN, number="N-NEWER", received=TODAY - timedelta(days=4))
    db.session.commit()
    client = client_for(reviewer)
    page = client.get(f"/admin/case/{done.id}/").get_data(as_text=True)
    assert 'data-testid="next-case"' in page
    assert 'data-testid="final-decision"' in page and 'id="decision-form"' not in page  # closed: no greyed form
    response = client.get(f"/admin/case/{done.id}/next")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/admin/case/{oldest.id}/")

    db.session.execute(update(type(oldest)).where(type(oldest).id == oldest.id).values(
        status=CaseStatus.closed, closed_at=utcnow()))
    db.session.commit()
    response = client.get(f"/admin/case/{done.id}/next")
    assert response.headers["Location"].endswith(f"/admin/case/{newer.id}/")
    db.session.execute(update(type(newer)).where(type(newer).id == newer.id).values(
        status=CaseStatus.closed, closed_at=utcnow()))
    db.session.commit()
    # Nothing left to take: back to the queue, with a word.
    response = client.get(f"/admin/case/{done.id}/next")
    assert response.headers["Location"].endswith("/admin/queue_housing/")


# The rescoring state the workspace polls -------------------------------------------------------

def test_the_score_state_says_pending_until_the_rescoring_completes(make, client_for):
    reviewer = make.staff("reviewer", OWN)
    case = make.case(district=OWN, number="J-CASE")
    case.application.total = Decimal("101.25")
    request_rescore(case.application_id, trigger="decision")
    db.session.commit()
    client = client_for(reviewer)
    page = client.get(f"/admin/case/{case.id}/").get_data(as_text=True)
    assert 'data-testid="rescore-pending"' in page and f'/admin/case/{case.id}/score.json' in page
    response = client.get(f"/admin/case/{case.id}/score.json")
    assert response.status_code == 200 and response.is_json
    assert response.get_json()["pending"] is True

    db.session.execute(update(OutboxMessage).values(completed_at=utcnow()))
    case.application.total = Decimal("104.25")
    db.session.commit()
    state = client.get(f"/admin/case/{case.id}/score.json").get_json()
    assert state["pending"] is False and state["total"] == "104.25"
    assert 'data-testid="rescore-pending"' not in client.get(f"/admin/case/{case.id}/").get_data(as_text=True)


def test_the_score_state_checks_role_and_district(make, client_for, app):
    case = make.case(district=OWN, number="J-SCOPE")
    tip = make.case(district=OWN, queue="tips", kind="tip", number="J-TIP")
    own_supervisor = make.staff("supervisor", OWN)
    other_reviewer = make.staff("reviewer", OTHER)
    investigator = make.staff("investigator", None)
    admin = make.staff("administrator", None)
    db.session.commit()
    url = f"/admin/case/{case.id}/score.json"
    assert client_for(own_supervisor).get(url).status_code == 200
    assert client_for(make.staff("supervisor", None)).get(url).status_code == 200  # city level
    assert client_for(other_reviewer).get(url).status_code == 404  # as if it did not exist
    assert client_for(own_supervisor).get(f"/admin/case/{tip.id}/score.json").status_code == 404
    assert client_for(investigator).get(url).status_code == 403
    assert client_for(admin).get(url).status_code == 403
    anonymous = app.test_client().get(url)
    assert anonymous.status_code == 302 and "/admin/login/" in anonymous.headers["Location"]


def test_a_supervisors_next_case_includes_decisions_to_countersign_but_not_their_own(make, client_for):
    reviewer = make.staff("reviewer", OWN)
    supervisor = make.staff("supervisor", OWN)
    current = make.case(district=OWN, number="NS-CURRENT", received=TODAY - timedelta(days=1))
    own = _claimed(make, supervisor, "NS-OWN", TODAY - timedelta(days=30))
    _decide(own, supervisor)
    theirs = _claimed(make, reviewer, "NS-THEIRS", TODAY - timedelta(days=20))
    _decide(theirs, reviewer)
    for case in (own, theirs):
        case.status = CaseStatus.awaiting_countersign
    db.session.commit()
    response = client_for(supervisor).get(f"/admin/case/{current.id}/next")
    assert response.headers["Location"].endswith(f"/admin/case/{theirs.id}/")
