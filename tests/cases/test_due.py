"""Overdue and due soon mean the same on every page (backoffice/cases/due.py): the home page's
counts, the worklist's filter and due column, the case workspace, the supervisors' dashboard
and its exports, and the daily sweep's escalations and backlog."""
from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

from click.testing import CliRunner
from sqlalchemy import select

from backoffice import cli, cliapp
from backoffice.cases.clock import add_working_days
from backoffice.cases.models import CaseStatus
from backoffice.extensions import db
from backoffice.reference.models import District
from backoffice.turnaround.models import DailyBacklog, Escalation
from backoffice.turnaround.sql import beijing_today

OWN = "朝阳区"


def _numbers(html: str) -> set[str]:
    return set(re.findall(r'data-testid="case-link">([^<]+)<', html))


def test_overdue_and_due_soon_agree_on_every_page(app, make, client_for, monkeypatch):
    today = beijing_today()
    reviewer, supervisor = make.staff("reviewer", OWN), make.staff("supervisor", OWN)
    cases = {}
    for number, due in (("D-OVERDUE", today - timedelta(days=1)),  # due yesterday: overdue
                        ("D-TODAY", today),  # due today: not overdue yet, due soon
                        ("D-SOON", add_working_days(today, 2)),  # the last day that is "due soon"
                        ("D-LATER", add_working_days(today, 3)),  # one working day further: neither
                        ("D-WAITING", today - timedelta(days=5))):  # past due but waiting: clock stopped
        case = make.case(district=OWN, number=number, received=today - timedelta(days=30))
        case.due_date = due
        cases[number] = case
    cases["D-WAITING"].status = CaseStatus.awaiting_materials
    cases["D-WAITING"].paused_on = today - timedelta(days=7)
    db.session.commit()
    overdue, soon = {"D-OVERDUE"}, {"D-TODAY", "D-SOON"}

    # The home page: five open, one overdue.
    home = client_for(reviewer).get("/admin/").get_data(as_text=True)
    assert re.search(r'data-testid="open-housing">5<', home)
    assert re.search(r'data-testid="overdue-housing">\s*<span class="badge badge-danger">1<', home)

    # The worklist: its filter, and the badges of its due column.
    client = client_for(reviewer)
    assert _numbers(client.get("/admin/queue_housing/?flt0_due=overdue").get_data(as_text=True)) == overdue
    assert _numbers(client.get("/admin/queue_housing/?flt0_due=soon").get_data(as_text=True)) == soon
    listing = client.get("/admin/queue_housing/").get_data(as_text=True)
    assert re.findall(r'badge-danger" title="已超期">([\d-]+)<', listing) == [str(cases["D-OVERDUE"].due_date)]
    assert sorted(re.findall(r'badge-warning" title="即将到期">([\d-]+)<', listing)) == sorted(
        str(cases[n].due_date) for n in soon)

    # The workspace says it beside the due date.
    for number, case in cases.items():
        page = client.get(f"/admin/case/{case.id}/").get_data(as_text=True)
        badge = re.search(r'data-testid="due-state">([^<]+)<', page)
        expected = "已超期" if number in overdue else "即将到期" if number in soon else None
        assert (badge.group(1) if badge else None) == expected, number

    # The dashboard's lists, read to their last row from the CSV exports.
    boss = client_for(supervisor)

    def exported(key):
        body = boss.get(f"/admin/turnaround/export/{key}.csv").get_data(as_text=True).lstrip("\ufeff")
        return {row[0] for row in list(csv.reader(io.StringIO(body)))[1:]}

    assert exported("overdue") == overdue
    assert exported("due_soon") == soon

    # The daily sweep: only the overdue case goes on the escalation list; the backlog counts agree.
    monkeypatch.setattr(cliapp, "cli_app", lambda: app)
    result = CliRunner().invoke(cli.main, ["sweep", "--day", today.isoformat()])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    escalated = set(db.session.scalars(select(Escalation.case_id).where(Escalation.resolved_on.is_(None))))
    assert escalated == {cases["D-OVERDUE"].id}
    district_id = db.session.scalar(select(District.id).where(District.name == OWN))
    row = db.session.scalar(select(DailyBacklog).where(DailyBacklog.day == today, DailyBacklog.queue == "housing",
                                                       DailyBacklog.district_id == district_id))
    assert (row.open_cases, row.overdue, row.due_soon, row.awaiting_materials) == (5, 1, 2, 1)
