"""Revocation (取消积分落户资格): four eyes, nobody moves up, five-year bars, referrals."""
from __future__ import annotations

import csv
import io

from openpyxl import load_workbook
from sqlalchemy import select

from backoffice.announcement.models import ApplicationBar, Revocation, RevocationStatus
from backoffice.applications.models import Application
from backoffice.audit.models import AuditEvent
from backoffice.cases.models import CaseStatus, ReviewCase
from backoffice.extensions import db
from backoffice.feed.models import ApplicantEvent
from backoffice.ranking import rank_year
from announcement_support import application_dates
from announcement_support import post_form
from test_tips import _act, _html, _people, _ws

FRAUD = "李二提交的社保缴费证明系伪造，用人单位出具虚假在职证明。"


def _propose(tip, client_for, **extra):
    investigator = client_for(_people(tip)["investigator"])
    _act(investigator, tip, "claim")
    data = {"outcome": "falsified", "reason": FRAUD, "ground": "falsified_materials", **extra}
    response = _act(investigator, tip, "close", data)
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    return investigator


def test_four_eyes_and_nobody_moves_up(tip, client_for):
    investigator = _propose(tip, client_for, employer_helped="1", refer_credit="1", refer_judicial="1")
    db.session.expire_all()
    revocation = db.session.scalar(select(Revocation))
    assert revocation.status == RevocationStatus.proposed
    assert db.session.get(ReviewCase, tip.id).status == CaseStatus.awaiting_countersign
    assert db.session.get(Application, tip.application_id).revoked_at is None  # nothing yet
    # Not the investigator, not a district supervisor: a city supervisor confirms.
    page = _html(investigator.get(_ws(tip)))
    assert "待主管确认" in page and 'data-testid="confirm-revocation"' not in page
    for who in ("investigator", "supervisor"):
        client = client_for(_people(tip)[who])
        refused = post_form(client, "/admin/revocations/", f"/admin/revocations/{revocation.id}/confirm",
                            {"decision": "confirm"})
        assert refused.status_code == 403
    supervisor = client_for(_people(tip)["city_supervisor"])
    page = _html(supervisor.get(_ws(tip)))
    assert "举报人信息已保密" in page and 'data-testid="confirm-revocation"' in page
    confirmed = post_form(supervisor, _ws(tip), f"/admin/revocations/{revocation.id}/confirm",
                          {"decision": "confirm", "next": _ws(tip)})
    assert confirmed.status_code == 302
    db.session.expire_all()
    application = db.session.get(Application, tip.application_id)
    assert application.revoked_at is not None and application.admitted is False
    assert application.revoked_reason.startswith("提供虚假材料：")
    assert db.session.get(ReviewCase, tip.id).status == CaseStatus.closed
    # 落户资格不递补: a rerank moves nobody up — the fourth stays out, two remain admitted.
    result = rank_year(2021)
    db.session.expire_all()
    admitted = db.session.scalars(select(Application.id).where(Application.admitted.is_(True))).all()
    assert len(admitted) == 2 and application.id not in admitted and result.admitted == 2
    fourth = db.session.scalar(select(Application).where(Application.rank == 4))
    assert fourth.admitted is False
    # The applicant is told; the change is audited with both people.
    event = db.session.scalar(select(ApplicantEvent).where(ApplicantEvent.kind == "qualification.revoked"))
    assert event.application_id == application.id and "落户资格不递补" in event.text
    trail = {e.action: e.actor_label for e in db.session.scalars(select(AuditEvent))}
    assert trail["revocation.proposed"] == "inv_a" and trail["qualification.revoked"] == "sup_city"
    listed = _html(supervisor.get("/admin/announcement/2021/"))
    assert "已取消资格" in listed


def test_a_supervisor_may_refuse_and_the_tip_goes_back(tip, client_for):
    _propose(tip, client_for)
    revocation = db.session.scalar(select(Revocation))
    supervisor = client_for(_people(tip)["city_supervisor"])
    without_reason = post_form(supervisor, "/admin/revocations/", f"/admin/revocations/{revocation.id}/confirm",
                               {"decision": "reject"})
    assert without_reason.status_code == 302
    db.session.expire_all()
    assert db.session.get(Revocation, revocation.id).status == RevocationStatus.proposed
    post_form(supervisor, "/admin/revocations/", f"/admin/revocations/{revocation.id}/confirm",
              {"decision": "reject", "note": "证据不足，请补充社保中心核查结果"})
    db.session.expire_all()
    assert db.session.get(Revocation, revocation.id).status == RevocationStatus.rejected
    assert db.session.get(ReviewCase, tip.id).status == CaseStatus.in_review
    assert db.session.get(Application, tip.application_id).revoked_at is None


def test_bars_refuse_the_applicant_and_the_employer_for_five_more_years(tip, client_for, api, make, today):
    _propose(tip, client_for, employer_helped="1")
    revocation = db.session.scalar(select(Revocation))
    post_form(client_for(_people(tip)["city_supervisor"]), "/admin/revocations/",
              f"/admin/revocations/{revocation.id}/confirm", {"decision": "confirm"})
    application = db.session.get(Application, tip.application_id)
    bars = db.session.scalars(select(ApplicationBar).order_by(ApplicationBar.id)).all()
    assert [(b.kind.value, b.first_year, b.last_year) for b in bars] == [("applicant", 2021, 2026),
                                                                         ("employer", 2021, 2026)]
    barred_id, barred_uscc = application.applicant.id_number, application.employer.uscc
    other_person = make.applicant(name="赵六")
    other_employer = make.employer("朝阳区")

    def file(year, id_number, uscc):
        return api.post("/applications", {"year": year, "applicant": {"id_number": id_number, "name": "某人"},
                                          "employer": {"uscc": uscc, "name": "北京某公司", "district": "朝阳区"}})

    for year in (2022, 2026, 2027):
        make.year(year, **application_dates(today))
    for year in (2022, 2026):
        person = file(year, barred_id, other_employer.uscc)
        assert person.status_code == 409
        assert "申请人提供虚假材料的，取消其当年及以后5年内的积分落户申请资格" in person.get_json()["error"]["message_zh"]
        company = file(year, other_person.id_number, barred_uscc)
        assert company.status_code == 409
        assert "对用人单位协助提供虚假材料的，当年及以后5年内不受理其积分落户申请事项" in \
            company.get_json()["error"]["message_zh"]
    # From 2027 the bars no longer apply (the filing may still meet 第一篇/第二篇's own checks,
    # which these factory-made people and units, outside the registry datasets, do not pass).
    for later in (file(2027, barred_id, other_employer.uscc), file(2027, other_person.id_number, barred_uscc)):
        code = (later.get_json().get("error") or {}).get("code", "")
        assert later.status_code == 201 or not code.startswith("application.barred"), code
        assert "5年内" not in str(later.get_json())
    # The bars are listed for the city, the applicant's ID number masked.
    page = _html(client_for(_people(tip)["city_supervisor"]).get("/admin/revocations/"))
    assert "2021—2026" in page and barred_id not in page and barred_uscc in page


def test_referrals_are_recorded_and_exported(tip, client_for):
    _propose(tip, client_for, employer_helped="1", refer_credit="1", refer_judicial="1")
    revocation = db.session.scalar(select(Revocation))
    supervisor = client_for(_people(tip)["city_supervisor"])
    post_form(supervisor, "/admin/revocations/", f"/admin/revocations/{revocation.id}/confirm", {"decision": "confirm"})
    application = db.session.get(Application, tip.application_id)
    admin = client_for(_people(tip)["admin"])
    raw = admin.get("/admin/revocations/referrals.csv").get_data()
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][0] == "移送对象"
    assert [r[0] for r in rows[1:]] == ["本市公共信用信息服务平台", "司法机关"]
    assert application.employer.name in rows[1][1] and application.applicant.name in rows[2][1]
    assert rows[-1][4] == "提供虚假材料" and rows[-1][5] == FRAUD
    sheet = load_workbook(io.BytesIO(admin.get("/admin/revocations/referrals.xlsx").get_data())).active
    values = list(sheet.iter_rows(values_only=True))
    assert [v[0] for v in values[1:]] == ["本市公共信用信息服务平台", "司法机关"]
    # Reviewers do not see revocations.
    assert client_for(_people(tip)["reviewer"]).get("/admin/revocations/referrals.csv").status_code == 403
