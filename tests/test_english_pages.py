"""The main pages in English carry no Chinese outside handbook quotations (marked lang="zh-Hans")
and data (people's, employers' and districts' names): issue 13 §4. The settlement workspace
is checked in tests/settlement/test_settlement_english.py (it needs that package's fixtures)."""
from __future__ import annotations

import re
from datetime import date

import pytest

from backoffice.extensions import db

from english_pages import chinese_left, data_names, visible_text
from support import csrf_token_from

OWN = "朝阳区"


@pytest.fixture
def people(make):
    staff = {
        "reviewer": make.staff("reviewer", OWN),
        "supervisor": make.staff("supervisor", OWN),
        "city_supervisor": make.staff("supervisor"),
        "administrator": make.staff("administrator"),
    }
    for person in staff.values():
        person.locale = "en"
    db.session.commit()
    return staff


@pytest.fixture
def a_case(make, people):
    case = make.case(district=OWN, queue="housing", received=date.today())
    case.assignee_id = people["reviewer"].id
    db.session.commit()
    return case


@pytest.mark.parametrize("role, url", [
    ("reviewer", "/admin/"),
    ("reviewer", "/admin/queue_housing/"),
    ("reviewer", "workspace"),
    ("supervisor", "/admin/turnaround/"),
    ("city_supervisor", "/admin/announcement/"),
    ("supervisor", "/admin/yearstats/"),
    ("administrator", "/admin/jobs/"),
])
def test_an_english_page_has_no_chinese_outside_quotations_and_names(role, url, people, a_case, client_for):
    if url == "workspace":
        url = f"/admin/case/{a_case.id}/"
    response = client_for(people[role]).get(url)
    assert response.status_code == 200, (url, response.status_code)
    html = response.get_data(as_text=True)
    assert '<html lang="en"' in html or "lang=\"en\"" in html or "Sign out" in html  # it is the English page
    left = chinese_left(html, data_names(db.session))
    assert not left, f"{url} in English still shows:\n" + "\n".join(left)


def test_the_check_sees_chinese_and_skips_quotations_and_names():
    html = ('<p>Case <span lang="zh-Hans">落户资格保留2年</span> for 张三</p><script>var a = "脚本";</script>'
            '<input placeholder="说明">')
    assert chinese_left(html, {"张三"}) == ["说明"]
    assert chinese_left('<p>Case</p><p lang="zh-Hans">逾期未办理的视为自行放弃</p>', set()) == []


# The engine's explanation lines (Chinese, a fixed contract) in English -----------------------------
OWN_HOME = {"type": "own", "from": "2014-08", "to": "2017-12", "district": OWN}
RENTAL = {"type": "rental", "from": "2020-08", "to": "2020-12", "district": "西城区"}


@pytest.fixture
def scored_case(make, people):
    """SCORING.md's worked example (tests/support.py), scored: 88.21, medical insurance 132 months."""
    from backoffice.applications.scoring_service import rescore_application
    from support import CONTRACT_EXAMPLE

    make.year(2021)
    application = make.application(OWN, applicant=make.applicant(birth=date(1979, 9, 11)))
    for indicator, facts in [*CONTRACT_EXAMPLE, ("housing", OWN_HOME), ("housing", RENTAL)]:
        claim = make.claim(application, indicator=indicator, status="valid", reason=None, claimed=facts,
                           message="有效")
        claim.verified = facts
    db.session.flush()
    rescore_application(application.id, trigger="registry")
    case = make.case(application, district=OWN, queue="housing", received=date.today())
    case.assignee_id = people["reviewer"].id
    db.session.commit()
    return case


def _explanation(html: str) -> list[str]:
    import html as markup

    return [markup.unescape(re.sub(r"<[^>]+>", "", m)) for m in re.findall(r'data-testid="explanation-line"[^>]*>(.*?)</div>', html)]


def test_the_workspace_explains_the_score_in_english_from_the_engine_s_figures(people, scored_case, client_for):
    html = client_for(people["reviewer"]).get(f"/admin/case/{scored_case.id}/").get_data(as_text=True)
    lines = _explanation(html)
    # One line per indicator and the total, in the engine's order, with its figures.
    assert lines[0] == "Legal and stable employment: medical insurance, months counted 132 × 3/12 = 33.00"
    assert lines[1] == ("Legal and stable residence: own-home months 41 × 1/12 + rented or dormitory months 91 "
                        "× 0.5/12 = 7.21")
    assert lines[2].startswith("Education: 15.00;")
    assert "Income tax: years with 100,000 yuan or more 2 × 2 + tax violations 0 × -12 = 4.00" in lines
    assert "Innovation and entrepreneurship: the highest of the awards (annex 1) = 9" in lines
    assert lines[-1] == "Total: the exact sum of the indicators = 88.21"
    assert len(lines) == 10 and not chinese_left(html, data_names(db.session))


def test_a_chinese_workspace_keeps_the_engine_s_lines_exactly(people, scored_case, client_for):
    from sqlalchemy import select

    from backoffice.applications.models import ScoreSnapshot

    reviewer = people["reviewer"]
    reviewer.locale = "zh_Hans_CN"
    db.session.commit()
    html = client_for(reviewer).get(f"/admin/case/{scored_case.id}/").get_data(as_text=True)
    snapshot = db.session.scalars(select(ScoreSnapshot).where(
        ScoreSnapshot.application_id == scored_case.application_id).order_by(ScoreSnapshot.id.desc())).first()
    lines = _explanation(html)
    assert lines == snapshot.breakdown["explanation"]
    assert "合法稳定就业: 医疗保险 132 个月 × 3/12 = 33.00 (2010-01~2020-12)" in lines


def test_a_line_the_figures_do_not_determine_stays_the_engine_s_marked_as_chinese(app):
    from flask_babel import force_locale

    from backoffice.applications.score_views import explanation_lines
    from backoffice.scoring import score

    example = {
        "year": 2021, "birth_date": "1979-09-11",
        "insurance": {t: {"paid": [["2010-01", "2020-12"]], "back_paid": []}
                      for t in ("pension", "medical", "unemployment", "injury", "maternity")},
        "work_districts": [], "residences": [],
        # A graduation after the cut-off scores 0, as no education does: the figures cannot tell which.
        "education": {"level": "master", "degree": "master", "graduated": "2021-07"},
        "work_residence": False, "innovation": [], "tax": {"annual": {}, "violations": 0},
        "honors": [], "detentions": 0,
    }
    result = score(example)
    with app.test_request_context(), force_locale("en"):
        lines = explanation_lines(result)
    education = [line for line in lines if line.lang]
    assert [line.text for line in education] == [
        "教育背景: 硕士研究生学历 + 硕士学位, 毕业 2021-07 晚于 2020-12, 积 0.00"]
    assert education[0].lang == "zh-Hans"
    assert lines[0].text == "Legal and stable employment: pension insurance, months counted 132 × 3/12 = 33.00"
    assert len(lines) == 10  # one per indicator, and the total


FULL_WIDTH = re.compile(r"[^\n]*[\u3000-\u303f\uff00-\uffef][^\n]*")  # Chinese punctuation: （）：；，【】


def _english_only(html: str) -> list[str]:
    """Chinese left outside quotations and names, and Chinese punctuation left in the English."""
    return chinese_left(html, data_names(db.session)) + FULL_WIDTH.findall(visible_text(html))


def test_the_application_page_the_bulk_pages_and_their_refusals_in_english(people, scored_case, client_for, make):
    from backoffice.cases.models import CaseStatus

    scored_case.status = CaseStatus.in_review
    unclaimed = make.case(district=OWN, queue="housing")
    db.session.commit()
    ids = f"{scored_case.id},{unclaimed.id}"
    reviewer, supervisor = client_for(people["reviewer"]), client_for(people["supervisor"])
    application = reviewer.get(f"/admin/applications/details/?id={scored_case.application_id}")
    assert application.status_code == 200 and not _english_only(application.get_data(as_text=True))
    assert "Trigger Registry result" in re.sub(r"\s+", " ", visible_text(application.get_data(as_text=True)))

    decide = reviewer.get(f"/admin/case/bulk/decide?ids={ids}").get_data(as_text=True)
    assert f"{unclaimed.number} (Open)" in decide and not _english_only(decide)  # left out, in words
    refused = reviewer.post("/admin/case/bulk/decide", data={
        "csrf_token": csrf_token_from(decide), "ids": ids, "outcome": "upheld",
        f"version-{scored_case.id}": str(scored_case.version)})
    shown = reviewer.get(refused.location).get_data(as_text=True)
    assert "Choose “Returned for materials” or “Rejected”" in shown and not _english_only(shown)

    reassign = supervisor.get(f"/admin/case/bulk/reassign?ids={ids}").get_data(as_text=True)
    refused = supervisor.post("/admin/case/bulk/reassign", data={
        "csrf_token": csrf_token_from(reassign), "ids": ids, "assignee_id": str(people["reviewer"].id),
        "reason": "workload", **{f"version-{c.id}": str(c.version) for c in (scored_case, unclaimed)}})
    shown = supervisor.get(refused.location).get_data(as_text=True)
    assert f"Nothing was reassigned: {scored_case.number}: already assigned to them" in shown
    assert not _english_only(shown)


def test_a_decided_case_with_its_notice_in_english(people, scored_case, client_for):
    from backoffice.cases.models import CaseStatus

    scored_case.status = CaseStatus.in_review
    db.session.commit()
    reviewer = client_for(people["reviewer"])
    url = f"/admin/case/{scored_case.id}/"
    page = reviewer.get(url).get_data(as_text=True)
    decided = reviewer.post(url + "decide", data={
        "csrf_token": csrf_token_from(page), "version": str(scored_case.version), "outcome": "rejected",
        "reason_code": "materials_mismatch", "note": "does not match the register"})
    assert decided.status_code == 302
    html = reviewer.get(url).get_data(as_text=True)
    notices = re.sub(r"\s+", " ", visible_text(html[html.index('data-testid="notices"'):]))
    assert "Review result notice" in notices and "SMS:" in notices and "Online application system:" in notices
    assert not _english_only(html)
