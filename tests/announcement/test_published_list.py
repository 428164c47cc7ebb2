"""The published list (公示名单): publishing, the frozen snapshot, search and exports, the
7-day rule, and ranking after publication."""
from __future__ import annotations

import csv
import hashlib
import io
import json
from decimal import Decimal
from zoneinfo import ZoneInfo

from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import select

from backoffice.announcement.models import Publication, PublicationRow
from backoffice.applications.models import Application
from backoffice.applications.scoring_service import rescore_application
from backoffice.audit.models import AuditEvent
from backoffice.extensions import db
from backoffice.feed.models import ApplicantEvent
from backoffice.ranking import rank_year
from announcement_support import post_form
from support import csrf_token_from


def _html(response):
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


def test_an_administrator_publishes_the_list_from_the_ranking(world, client_for):
    admin = client_for(world.people["admin"])
    index = _html(admin.get("/admin/announcement/"))
    assert 'data-testid="publish-2021"' in index and "未公示" in index
    response = post_form(admin, "/admin/announcement/", "/admin/announcement/2021/publish")
    assert response.status_code == 302
    page = _html(admin.get(response.headers["Location"]))
    # The three best of five (quota 3), in rank order, with the handbook's columns.
    table = page[page.index('data-testid="published-list"'):]
    assert table.index("王一") < table.index("李二") < table.index("张三")
    assert "刘四" not in table and "陈五" not in table
    for heading in ("公示编号", "姓名", "出生年月", "单位名称", "合法稳定就业", "守法记录", "积分"):
        assert heading in page
    assert "1985-03" in table and "2021000001" in table
    first = world.applications[0]
    assert str(first.total) in table  # 10 years of insurance: 30.00
    assert first.employer.name in table
    # Published when (Beijing time, to the minute) and by whom.
    publication = db.session.scalar(select(Publication).where(Publication.year == 2021))
    assert publication.published_at.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M") in page
    assert world.people["admin"].full_name in page
    # The digest is the SHA-256 of the rows as published: anyone can recompute it.
    rows = db.session.scalars(select(PublicationRow).where(PublicationRow.publication_id == publication.id)
                              .order_by(PublicationRow.id)).all()
    recomputed = hashlib.sha256(json.dumps([
        {"number": r.number, "name": r.name, "birth_month": r.birth_month, "employer_name": r.employer_name,
         "points": r.points, "total": f"{r.total:.2f}", "rank": r.rank} for r in rows],
        ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    assert recomputed == publication.digest and publication.digest in page
    # The applicants are told, and the publication is audited.
    events = db.session.scalars(select(ApplicantEvent).where(ApplicantEvent.kind == "list.published")).all()
    assert sorted(e.application_id for e in events) == sorted(a.id for a in world.applications[:3])
    assert "公示编号2021000001" in next(e.text for e in events if e.application_id == first.id)
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "list.published")).actor_label == "admin_a"
    # Once only: the button is gone and a second POST is refused.
    assert 'data-testid="publish-2021"' not in _html(admin.get("/admin/announcement/"))


def test_the_list_cannot_be_published_twice_or_by_others(world, client_for, published):
    admin = client_for(world.people["admin"])
    page = _html(admin.get("/admin/announcement/"))
    again = admin.post("/admin/announcement/2021/publish", data={"csrf_token": csrf_token_from(page)})
    assert again.status_code == 302
    assert "已公示，不能再次公示" in _html(admin.get("/admin/announcement/"))
    assert db.session.scalar(select(db.func.count()).select_from(Publication)) == 1
    reviewer = client_for(world.people["reviewer"])
    page = _html(reviewer.get("/admin/announcement/2021/"))  # every role reads the list
    assert "王一" in page and 'data-testid="publish-2021"' not in _html(reviewer.get("/admin/announcement/"))
    refused = reviewer.post("/admin/announcement/2021/publish", data={"csrf_token": csrf_token_from(page)})
    assert refused.status_code == 403


def test_rows_are_never_changed(published):
    row = db.session.scalars(select(PublicationRow)).first()
    row.total = Decimal("99.00")
    try:
        db.session.flush()
    except PermissionError:
        db.session.rollback()
    else:  # pragma: no cover - the assertion below names the failure
        raise AssertionError("a published row was updated")


def test_search_and_exports_read_to_the_last_row(published, client_for):
    client = client_for(published.people["supervisor"])
    page = _html(client.get("/admin/announcement/2021/?q=李二"))
    table = page[page.index('data-testid="published-list"'):]
    assert "李二" in table and "王一" not in table
    response = client.get("/admin/announcement/2021/export.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode())  # Excel needs the BOM for Chinese
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:4] == ["公示编号", "姓名", "出生年月", "单位名称"] and rows[0][-2:] == ["积分", "排名"]
    assert [r[1] for r in rows[1:]] == ["王一", "李二", "张三"]
    totals = [str(a.total) for a in published.applications[:3]]
    assert [r[-2] for r in rows[1:]] == totals
    assert rows[-1][0] == "2021000003" and rows[-1][-1] == "3"
    book = load_workbook(io.BytesIO(client.get("/admin/announcement/2021/export.xlsx").get_data()))
    sheet = book.active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][1] == "姓名" and [v[1] for v in values[1:]] == ["王一", "李二", "张三"]
    assert values[-1][-2] == float(published.applications[2].total)  # a number, summable
    searched = list(csv.reader(io.StringIO(client.get("/admin/announcement/2021/export.csv?q=张三")
                                           .get_data().decode("utf-8-sig"))))
    assert [r[1] for r in searched[1:]] == ["张三"]


def test_the_announce_command_publishes(world, app, monkeypatch):
    import backoffice.cli as cli

    from backoffice.announcement import cli as announcement_cli

    monkeypatch.setattr(announcement_cli, "cli_app", lambda: app)
    result = CliRunner().invoke(cli.main, ["announce", "--year", "2021"])
    assert result.exit_code == 0, result.output
    assert "3 人" in result.output
    again = CliRunner().invoke(cli.main, ["announce", "--year", "2021"])
    assert again.exit_code == 1 and "已公示" in again.output


def test_the_announcement_phase_must_last_seven_days(world, client_for):
    admin = client_for(world.people["admin"])
    url = "/admin/years/edit/?id=2021"
    page = _html(admin.get(url))
    year = world.year
    form = {"csrf_token": csrf_token_from(page)}
    for name in ("application_start", "application_end", "result_query_start", "result_query_end",
                 "announcement_start", "announcement_end", "settlement_start", "settlement_end"):
        form[name] = getattr(year, name).isoformat()
    form.update(year="2021", quota="3")
    eight = dict(form, announcement_end=(year.announcement_end.fromordinal(year.announcement_end.toordinal() + 1)).isoformat(),
                 settlement_start=(year.settlement_start.fromordinal(year.settlement_start.toordinal() + 1)).isoformat())
    refused = admin.post(url, data=eight)
    text = refused.get_data(as_text=True)
    assert "落户人员名单将在“首都之窗”公示7天。" in text and "现为8天" in text
    db.session.expire_all()
    assert db.session.get(type(year), 2021).announcement_end == year.announcement_end
    saved = admin.post(url, data=dict(form, quota="4"))
    assert saved.status_code == 302
    db.session.expire_all()
    assert db.session.get(type(year), 2021).quota == 4


def test_a_rescore_after_publication_changes_the_total_but_no_admission(published, client_for):
    from backoffice.applications.models import IndicatorClaim

    fourth = published.applications[3]  # 21.00, not listed
    claim = db.session.scalar(select(IndicatorClaim).where(IndicatorClaim.application_id == fourth.id))
    from announcement_support import employment

    claim.verified = employment(2001)  # twenty years: above everyone listed
    db.session.flush()
    rescore_application(fourth.id, trigger="test")
    result = rank_year(2021)
    db.session.expire_all()
    fourth = db.session.get(Application, fourth.id)
    assert fourth.rank == 1 and fourth.total > published.applications[0].total
    assert fourth.admitted is False  # ranking no longer moves anyone in…
    admitted = db.session.scalars(select(Application.id).where(Application.admitted.is_(True))).all()
    assert sorted(admitted) == sorted(a.id for a in published.applications[:3])  # …or out
    assert result.admitted == 3
    # A listed applicant whose total falls is still on the list, shown as changed since publication.
    third = published.applications[2]
    claim = db.session.scalar(select(IndicatorClaim).where(IndicatorClaim.application_id == third.id))
    claim.verified = employment(2019)
    db.session.flush()
    rescore_application(third.id, trigger="test")
    rank_year(2021)
    db.session.expire_all()
    third = db.session.get(Application, third.id)
    assert third.admitted is True and third.rank == 5
    page = _html(client_for(published.people["supervisor"]).get("/admin/announcement/2021/"))
    assert f"积分已更正为 {third.total}" in page
