"""The score on the application's page, and the score simulator (积分模拟计算), over HTTP."""
from __future__ import annotations

from datetime import date
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select

from backoffice.applications.models import Application, IndicatorClaim, ScoreSnapshot
from backoffice.applications.scoring_service import rescore_application
from backoffice.audit.models import AuditEvent
from backoffice.cases.models import Decision, Outcome
from backoffice.extensions import db

EMPLOYMENT = {
    "insurance": {t: {"paid": [["2011-01", "2020-12"]], "back_paid": []}
                  for t in ("pension", "medical", "unemployment", "injury", "maternity")},
    "work_districts": [{"from": "2011-01", "to": "2020-12", "district": "朝阳区"}],
}
OWN = {"type": "own", "from": "2016-01", "to": "2020-12", "district": "朝阳区"}


class _Form(HTMLParser):
    """The fields a browser would submit from the page's one form (inputs, textareas, selects)."""

    def __init__(self):
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self._textarea = self._select = None
        self._selected = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and a.get("name"):
            if a.get("type") == "checkbox" and "checked" not in a:
                return
            self.fields.append((a["name"], a.get("value", "")))
        elif tag == "textarea":
            self._textarea = [a["name"], ""]
        elif tag == "select":
            self._select, self._selected = a["name"], ""
        elif tag == "option" and self._select is not None and "selected" in a:
            self._selected = a.get("value", "\0")  # "\0": the option's text is its value

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data
        elif self._select is not None and self._selected == "\0":
            self._selected = data

    def handle_endtag(self, tag):
        if tag == "textarea" and self._textarea is not None:
            self.fields.append(tuple(self._textarea))
            self._textarea = None
        elif tag == "select" and self._select is not None:
            self.fields.append((self._select, self._selected or ""))
            self._select = None


def form_of(html: str) -> dict:
    start = html.index('data-testid="simulator-form"')
    parser = _Form()
    parser.feed(html[html.rindex("<form", 0, start):html.index("</form>", start)])
    out: dict = {}
    for name, value in parser.fields:
        out.setdefault(name, []).append(value)
    return out


def _file(make, application, indicator, facts, status="valid"):
    claim = make.claim(application, indicator=indicator, status=status, reason=None, claimed=facts)
    claim.verified = facts if status == "valid" else None
    db.session.flush()
    return claim


def _scored_application(make, district="朝阳区"):
    application = make.application(district, applicant=make.applicant(birth=date(1985, 3, 14)))
    _file(make, application, "employment", EMPLOYMENT)
    housing = _file(make, application, "housing", OWN, status="invalid")
    rescore_application(application.id, trigger="intake")
    return application, housing


def _counts():
    return (db.session.scalar(select(func.count()).select_from(ScoreSnapshot)),
            db.session.scalar(select(func.count()).select_from(IndicatorClaim)))


def test_the_application_page_shows_the_breakdown_its_explanation_and_what_changed(make, client_for):
    application, housing = _scored_application(make)
    reviewer = make.staff("reviewer", "朝阳区")
    case = make.case(application, claim=housing)
    decision = Decision(case_id=case.id, outcome=Outcome.corrected, reason_code="register_dates_corrected",
                        note="按不动产权证书更正", decided_by_id=reviewer.id, changes_score=True)
    db.session.add(decision)
    db.session.flush()
    housing.verified, housing.verified_by_decision_id = {**OWN, "from": "2013-01"}, decision.id
    db.session.flush()
    latest = rescore_application(application.id, trigger="decision", decision_id=decision.id)
    db.session.commit()

    html = client_for(reviewer).get(f"/admin/applications/details/?id={application.id}").get_data(as_text=True)
    assert f'data-testid="score-total">{latest.total:.2f}<' in html
    # The engine's own explanation lines, as stored with the snapshot.
    assert latest.breakdown["explanation"][1] in html
    changes = html[html.index('data-testid="score-changes"'):]
    assert 'data-indicator="housing"' in changes and 'data-indicator="employment"' not in changes
    assert f"/admin/decisions/details/?id={decision.id}" in changes
    assert f"/admin/claims/details/?id={housing.id}" in changes
    assert "/admin/simulator/?application_id=" in html


def test_an_application_never_scored_says_so(make, client_for):
    application = make.application("朝阳区")
    reviewer = make.staff("reviewer", "朝阳区")
    db.session.commit()
    html = client_for(reviewer).get(f"/admin/applications/details/?id={application.id}").get_data(as_text=True)
    assert 'data-testid="score-none"' in html


def test_the_simulator_changes_facts_shows_the_new_total_and_saves_nothing(make, client_for):
    application, _housing = _scored_application(make)
    reviewer = make.staff("reviewer", "朝阳区")
    db.session.commit()
    verified_total = db.session.get(Application, application.id).total
    client = client_for(reviewer)

    page = client.get(f"/admin/simulator/?application_id={application.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'data-testid="simulated-total">{verified_total:.2f}<' in html
    form = form_of(html)
    assert form["ins-pension-paid"] == ["2011-01~2020-12"]  # pre-filled with the verified facts
    assert form["res-0-from"] == [""]  # the invalid own home is not among them

    # At the window: "what if your own home from 2016-01 had been accepted?"
    form.update({"res-0-type": ["own"], "res-0-from": ["2016-01"], "res-0-to": ["2020-12"],
                 "res-0-district": ["朝阳区"]})
    before = _counts()
    events = db.session.scalar(select(func.count()).select_from(AuditEvent))
    answer = client.post("/admin/simulator/", data=form)
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    shown = float(html.split('data-testid="simulated-total">')[1].split("<")[0])
    assert shown > float(verified_total)
    assert "合法稳定住所: 自有 60 个月" in html  # the engine's explanation of the changed fact

    db.session.expire_all()
    assert _counts() == before
    assert db.session.get(Application, application.id).total == verified_total
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == events + 1
    used = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "simulator.used"))
    assert used.object_id == str(application.id) and used.actor_id == reviewer.id
    assert used.after["total"] == shown


def test_bad_input_is_named_not_a_server_error(make, client_for):
    application, _housing = _scored_application(make)
    reviewer = make.staff("reviewer", "朝阳区")
    db.session.commit()
    client = client_for(reviewer)
    form = form_of(client.get(f"/admin/simulator/?application_id={application.id}").get_data(as_text=True))
    form["ins-pension-paid"] = ["2011-01~2020-13"]
    form["tax-2020"] = ["很多"]
    html = client.post("/admin/simulator/", data=form).get_data(as_text=True)
    assert 'data-testid="simulator-errors"' in html and "很多" in html
    form["tax-2020"] = ["150000"]
    html = client.post("/admin/simulator/", data=form).get_data(as_text=True)
    assert "insurance.pension.paid[0][1]" in html and "2020-13" in html


def test_another_districts_application_is_not_found(make, client_for):
    other, _ = _scored_application(make, district="海淀区")
    own, _ = _scored_application(make)
    reviewer = make.staff("reviewer", "朝阳区")
    db.session.commit()
    client = client_for(reviewer)
    assert client.get(f"/admin/simulator/?application_id={other.id}").status_code == 404
    form = form_of(client.get(f"/admin/simulator/?application_id={own.id}").get_data(as_text=True))
    form["application_id"] = [str(other.id)]
    assert client.post("/admin/simulator/", data=form).status_code == 404
    # Searching by the last 4 ID characters finds only the own district's application.
    last4 = other.applicant.id_number[-4:]
    html = client.get(f"/admin/simulator/?q={last4}").get_data(as_text=True)
    assert f"application_id={other.id}" not in html
    found = client.get(f"/admin/simulator/?q={own.year}-{own.id:06d}")
    assert found.status_code == 302 and found.headers["Location"].endswith(f"application_id={own.id}")
    # City level sees both.
    admin = make.staff("administrator")
    db.session.commit()
    assert client_for(admin).get(f"/admin/simulator/?application_id={other.id}").status_code == 200


def test_the_simulator_needs_csrf_and_a_role_that_reads_claims(make, client_for, app):
    application, _ = _scored_application(make)
    reviewer = make.staff("reviewer", "朝阳区")
    investigator = make.staff("investigator")
    db.session.commit()
    client = client_for(reviewer)
    form = form_of(client.get(f"/admin/simulator/?application_id={application.id}").get_data(as_text=True))
    del form["csrf_token"]
    events = db.session.scalar(select(func.count()).select_from(AuditEvent))
    assert client.post("/admin/simulator/", data=form).status_code == 400
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == events
    assert client_for(investigator).get(f"/admin/simulator/?application_id={application.id}").status_code == 403
    assert app.test_client().get("/admin/simulator/").status_code == 302  # sign in first


@pytest.mark.parametrize("english", [False, True])
def test_the_simulator_search_page(make, client_for, english):
    reviewer = make.staff("reviewer", "朝阳区")
    if english:
        reviewer.locale = "en"
    db.session.commit()
    client = client_for(reviewer)
    html = client.get("/admin/simulator/?q=nothing").get_data(as_text=True)
    assert ("No application of your district matches" if english else "没有找到本区的申报") in html
    application, _ = _scored_application(make)
    db.session.commit()
    html = client.get(f"/admin/simulator/?application_id={application.id}").get_data(as_text=True)
    assert ("Legal and stable residence" if english else "合法稳定住所") in html  # the breakdown's labels


def test_the_application_page_says_why_there_is_no_total_or_why_it_is_not_final(make, client_for):
    reviewer = make.staff("reviewer", "朝阳区")
    unsubmitted = make.application("朝阳区", submitted=False)
    waiting = make.application("朝阳区")
    make.claim(waiting, indicator="tax", status="pending", reason=None)
    final = make.application("朝阳区")
    db.session.commit()
    client = client_for(reviewer)

    def standing(application):
        html = client.get(f"/admin/applications/details/?id={application.id}").get_data(as_text=True)
        if 'data-testid="total-standing"' not in html:
            return None
        block = html[html.index('data-testid="total-standing"'):]
        return block[:block.index("</div>")]

    assert "如果申报阶段结束时，您未完成提交，将无法获得积分，也将不能计算年度总积分。" in standing(unsubmitted)
    assert "系统将在所有审核结果与复查申请审核结果返回后为您计算年度总积分" in standing(waiting)
    assert standing(final) is None
