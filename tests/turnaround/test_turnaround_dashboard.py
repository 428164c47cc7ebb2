"""The supervisors' dashboard on the hand-built fortnight (conftest.py): the figures, the
district rule (by page, by URL and by export), exports equal to the tables, reassignment."""
from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime
from html.parser import HTMLParser

import pytest
from openpyxl import load_workbook
from sqlalchemy import delete, select

from backoffice.audit.models import AuditEvent
from backoffice.cases.models import CaseStatus
from backoffice.extensions import db
from backoffice.turnaround.figures import TABLE_KEYS, display
from backoffice.turnaround.sweep import sweep
from support import csrf_token_from

URL = "/admin/turnaround/"


class _Tables(HTMLParser):
    """{data-table key: [header row, *rows]} as the page shows them (cell text, stripped)."""

    def __init__(self):
        super().__init__()
        self.tables, self._key, self._row, self._cell = {}, None, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and "data-table" in attrs:
            self._key = attrs["data-table"]
            self.tables[self._key] = []
        elif self._key and tag == "tr":
            self._row = []
        elif self._key and self._row is not None and tag in ("td", "th"):
            # The reassignment checkbox column ("pick") is not data.
            self._cell = None if "pick" in (attrs.get("class") or "").split() else ""

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data

    def handle_endtag(self, tag):
        if self._key and tag in ("td", "th") and self._row is not None:
            if self._cell is not None:
                self._row.append(" ".join(self._cell.split()))
            self._cell = None
        elif self._key and tag == "tr" and self._row is not None:
            cells = [c for c in self._row if c is not None]
            if cells and cells != ["无"]:
                self.tables[self._key].append(cells)
            self._row = None
        elif tag == "table":
            self._key = None


def tables_of(html: str) -> dict[str, list[list[str]]]:
    parser = _Tables()
    parser.feed(html)
    return parser.tables


def rows_by_first(table):
    return {row[0]: row[1:] for row in table[1:]}


@pytest.fixture
def supervisor(make):
    return make.staff("supervisor", "朝阳区", username="sup_chaoyang")


@pytest.fixture
def page(world, today, supervisor, client_for):
    sweep()  # today's backlog row and escalations
    db.session.commit()
    client = client_for(supervisor)
    response = client.get(URL + "?year=2021")
    assert response.status_code == 200
    return client, response.get_data(as_text=True)


def test_queue_counts_of_the_district(page):
    _client, html = page
    queues = rows_by_first(tables_of(html)["queues"])
    # open, overdue, due within 2 working days, awaiting materials, unassigned
    assert queues["住所"] == ["2", "1", "1", "0", "1"]
    assert queues["教育背景"] == ["1", "0", "0", "1", "0"]
    assert queues["异议申诉"] == ["1", "0", "0", "0", "1"]
    assert queues["纳税"] == ["0", "0", "0", "0", "0"]
    assert queues["合计"] == ["4", "1", "1", "1", "2"]
    assert "举报" not in queues  # the tips queue is investigators' work


def test_headline_share_decided_on_time(page):
    _client, html = page
    # E, G1 (23:30 Beijing on the due day) and J on time; F and G2 (00:30 the day after) late.
    assert 'data-testid="headline-share">60.0%<' in html
    tables = tables_of(html)
    by_queue = rows_by_first(tables["ontime_queue"])
    assert by_queue["住所"] == ["3", "2", "66.7%"]
    assert by_queue["教育背景"] == ["2", "1", "50.0%"]
    assert by_queue["纳税"] == ["0", "0", "—"]
    assert rows_by_first(tables["ontime_district"]) == {"朝阳区": ["5", "3", "60.0%"]}


def test_ageing_histogram_in_working_days(page):
    _client, html = page
    ageing = tables_of(html)["ageing"]
    header = ageing[0]
    rows = rows_by_first(ageing)
    col = {name: header.index(name) - 1 for name in ("住所", "教育背景", "异议申诉", "合计")}
    assert rows["0–2"][col["异议申诉"]] == "1"  # D, received Thursday 10-14
    assert rows["9–10"][col["住所"]] == "1"  # A: its tenth working day today
    assert rows["9–10"][col["教育背景"]] == "1"  # C: stopped on its ninth
    assert rows["11–15"][col["住所"]] == "1"  # B: 13 working days
    assert [r[col["合计"]] for r in rows.values()] == ["1", "0", "0", "2", "1", "0", "0"]


def test_ageing_counts_a_day_missing_from_the_ordinals(world, today, supervisor, client_for):
    """The histogram is counted in SQL against the working-day ordinals; a date they do not hold
    (outside their range) is counted by the clock instead, in the same bucket."""
    from backoffice.calendar.models import WorkingDayOrdinal
    for day in (date(2021, 10, 13), date(2021, 10, 12)):  # B's due date, C's pause
        db.session.execute(delete(WorkingDayOrdinal).where(WorkingDayOrdinal.day == day))
    sweep()
    db.session.commit()
    html = client_for(supervisor).get(URL + "?year=2021").get_data(as_text=True)
    ageing = tables_of(html)["ageing"]
    header, rows = ageing[0], rows_by_first(ageing)
    col = {name: header.index(name) - 1 for name in ("住所", "教育背景", "合计")}
    assert rows["11–15"][col["住所"]] == "1"  # B: 13 working days
    assert rows["9–10"][col["教育背景"]] == "1"  # C: stopped on its ninth
    assert [r[col["合计"]] for r in rows.values()] == ["1", "0", "0", "2", "1", "0", "0"]


def test_backlog_trend_shows_recorded_days_only(page):
    _client, html = page
    backlog = rows_by_first(tables_of(html)["backlog"])
    assert len(backlog) == 30
    assert backlog["2021-10-18"] == ["4", "1", "1", "1"]
    assert backlog["2021-10-17"] == ["—", "—", "—", "—"]
    assert min(backlog) == "2021-09-19"


def test_reviewers_decisions_per_week_and_median(page):
    _client, html = page
    reviewers = tables_of(html)["reviewers"]
    header, rows = reviewers[0], rows_by_first(reviewers)
    assert header[2] == "08-30起" and header[9] == "10-18起"
    r1 = rows["测试reviewer（r1_chaoyang）"]
    r2 = rows["测试reviewer（r2_chaoyang）"]
    # weeks from 08-30 … 10-18, total, median working days (returns not counted in the median)
    assert r1[1:] == ["0", "0", "1", "1", "0", "0", "0", "1", "3", "9.0"]  # E: 9, F: 14, J: 9
    assert r2[1:] == ["0", "0", "2", "0", "0", "0", "1", "0", "3", "10.5"]  # G1: 10, G2: 11; C returned
    assert not any("r3_haidian" in name for name in rows)


def test_overdue_and_due_soon_lists(page):
    _client, html = page
    tables = tables_of(html)
    overdue = tables["overdue"]
    assert [r[0] for r in overdue[1:]] == ["TA-B"]
    row = dict(zip(overdue[0], overdue[1]))
    assert row["超期工作日（负数为剩余）"] == "3" and row["督办日期"] == "2021-10-18"
    assert row["承办人"] == "未领取"
    assert [r[0] for r in tables["due_soon"][1:]] == ["TA-A"]


def test_district_supervisor_never_sees_another_district(page, world, client_for, supervisor):
    client, html = page
    assert "TA-H" not in html and "海淀区" not in "".join(tables_of(html)["ontime_district"][1])
    other = world.districts[world.other].id
    assert client.get(f"{URL}?district={other}").status_code == 403
    for key in TABLE_KEYS:
        assert client.get(f"{URL}export/{key}.csv?district={other}").status_code == 403
        body = client.get(f"{URL}export/{key}.csv").get_data(as_text=True)
        assert "TA-H" not in body and "r3_haidian" not in body


def test_city_level_sees_every_district_and_can_pick_one(world, today, make, client_for):
    sweep()
    city = make.staff("supervisor", None, username="sup_city")
    db.session.commit()
    client = client_for(city)
    html = client.get(URL + "?year=2021").get_data(as_text=True)
    tables = tables_of(html)
    assert rows_by_first(tables["ontime_district"]) == {"朝阳区": ["5", "3", "60.0%"], "海淀区": ["1", "0", "0.0%"]}
    assert {r[0] for r in tables["overdue"][1:]} == {"TA-B", "TA-H"}
    haidian = world.districts[world.other].id
    picked = tables_of(client.get(f"{URL}?year=2021&district={haidian}").get_data(as_text=True))
    assert [r[0] for r in picked["overdue"][1:]] == ["TA-H"]


@pytest.mark.parametrize("role", ["reviewer", "investigator"])
def test_other_roles_may_not_open_the_dashboard(make, client_for, role):
    user = make.staff(role, "朝阳区" if role == "reviewer" else None)
    db.session.commit()
    client = client_for(user)
    assert client.get(URL).status_code == 403
    assert client.get(URL + "export/queues.csv").status_code == 403


def _xlsx_as_page(value, kind):
    """A typed XLSX cell as the page writes it."""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, str) and value.startswith("'"):
        value = value[1:]  # a quoted formula-like text
    return display(value, kind)


def test_every_export_matches_its_table(page, supervisor):
    from backoffice.turnaround.figures import Scope, build
    from backoffice.turnaround.views import dashboard_queues

    client, html = page
    tables = tables_of(html)
    kinds = {key: [c.kind for c in t.columns] for key, t in build(
        Scope(supervisor.district_id, 2021, date(2021, 10, 18), dashboard_queues(supervisor))).tables.items()}
    typed = {}
    # The fortnight has no decision waiting for a countersign: that table's export is read in
    # test_countersigns_waiting_are_escalated_and_a_one_supervisor_district_goes_to_the_city.
    for key in (k for k in TABLE_KEYS if k != "countersign"):
        on_page = tables[key]
        assert len(on_page) > 1, key
        text = client.get(f"{URL}export/{key}.csv?year=2021").get_data(as_text=True)
        assert text.startswith("\ufeff")  # Excel reads UTF-8 CSV only with a BOM
        assert list(csv.reader(io.StringIO(text.lstrip("\ufeff")))) == on_page, key
        response = client.get(f"{URL}export/{key}.xlsx?year=2021")
        assert response.headers["Content-Type"].startswith("application/vnd.openxmlformats")
        rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
        assert [str(c) for c in rows[0]] == on_page[0], key
        assert [[_xlsx_as_page(v, k) for v, k in zip(row, kinds[key])] for row in rows[1:]] == on_page[1:], key
        typed[key] = rows
    # Typed cells: a share is a fraction, a date a date, a count a number, a gap empty.
    assert {r[0]: r for r in typed["ontime_queue"][1:]}["住所"][1:] == (3, 2, pytest.approx(2 / 3))
    backlog = {r[0].date(): r[1:] for r in typed["backlog"][1:]}
    assert backlog[date(2021, 10, 18)] == (4, 1, 1, 1)
    assert backlog[date(2021, 10, 17)] == (None, None, None, None)


def _reassign_form(client, html, ids, assignee_id, reason, *, send_versions=True):
    """What the browser posts: the ticked rows, and every listed row's version (hidden inputs)."""
    data = {"csrf_token": csrf_token_from(html), "assignee_id": str(assignee_id), "reason": reason,
            "case_id": [str(i) for i in ids]}
    if send_versions:
        data.update(re.findall(r'name="(version_\d+)" value="(\d+)"', html))
    return client.post(URL + "reassign?year=2021", data=data)


def test_reassign_without_the_rows_versions_is_refused_and_changes_nothing(page, world):
    client, html = page
    a, r2 = world.cases["A"], world.staff["r2"]
    before = a.assignee_id
    assert _reassign_form(client, html, [a.id], r2.id, "r1病假", send_versions=False).status_code == 302
    db.session.expire_all()
    assert a.assignee_id == before
    assert "表单缺少案件版本" in client.get(URL + "?year=2021").get_data(as_text=True)


def test_reassign_many_with_a_reason_recorded(page, world):
    client, html = page
    a, b, r2 = world.cases["A"], world.cases["B"], world.staff["r2"]
    response = _reassign_form(client, html, [a.id, b.id], r2.id, "r1病假，由r2接办")
    assert response.status_code == 302
    db.session.expire_all()
    assert (a.assignee_id, b.assignee_id) == (r2.id, r2.id)
    assert a.status == b.status == CaseStatus.in_review
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "case.reassigned")).all()
    assert {e.object_id for e in events} == {str(a.id), str(b.id)}
    assert all(e.after["reason"] == "r1病假，由r2接办" for e in events)
    flashed = client.get(URL + "?year=2021").get_data(as_text=True)
    assert "已将2件案件改派给" in flashed


def test_reassign_needs_a_reason_and_csrf_and_changes_nothing_otherwise(page, world):
    client, html = page
    b, r2 = world.cases["B"], world.staff["r2"]
    assert _reassign_form(client, html, [b.id], r2.id, "   ").status_code == 302
    db.session.expire_all()
    assert b.assignee_id is None
    assert "改派理由" in client.get(URL + "?year=2021").get_data(as_text=True)
    no_token = client.post(URL + "reassign", data={"assignee_id": r2.id, "reason": "x", "case_id": [b.id]})
    assert no_token.status_code == 400
    db.session.expire_all()
    assert b.assignee_id is None


def test_reassign_of_another_districts_case_is_refused_as_unknown(page, world):
    client, html = page
    h, b, r2 = world.cases["H"], world.cases["B"], world.staff["r2"]
    response = _reassign_form(client, html, [b.id, h.id], r2.id, "试图改派海淀区案件")
    assert response.status_code == 404
    db.session.expire_all()
    assert b.assignee_id is None and h.assignee_id is None


def test_calendar_warning_for_a_year_with_no_entries(make, today, supervisor, client_for):
    # The suite's fixture calendar covers 2019–2026 (tests/fixtures); 2027 has no entries.
    warning = "节假日安排未录入：2027年尚无放假和调休上班数据，期限按周末计算"
    client = client_for(supervisor)
    today(date(2026, 11, 2))
    assert warning not in client.get(URL).get_data(as_text=True)
    # Late December: a case received today would be due in 2027.
    today(date(2026, 12, 24))
    assert warning in client.get(URL).get_data(as_text=True)
    # In 2027: received 2026-12-28, due 10 weekdays later (no entries for 2027): 2027-01-11.
    case = make.case(district="朝阳区", received=date(2026, 12, 28), number="TA-2027")
    db.session.commit()
    assert case.due_date == date(2027, 1, 11)
    today(date(2027, 1, 8))
    response = client.get(URL)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert warning in html
    due_soon = tables_of(html)["due_soon"]
    assert dict(zip(due_soon[0], due_soon[1]))["办结期限"] == "2027-01-11"


def test_countersigns_waiting_are_escalated_and_a_one_supervisor_district_goes_to_the_city(world, today, make,
                                                                                          client_for):
    """海淀区 has one supervisor: their own decision can only be countersigned by the city.
    朝阳区's reviewer decision of Tuesday 10-12 has waited 4 working days by Monday 10-18."""
    from datetime import timezone

    from backoffice.cases import services
    from backoffice.cases.models import Decision, Outcome
    from backoffice.turnaround.sql import BEIJING

    def beijing(y, m, d):
        return datetime(y, m, d, 10, tzinfo=BEIJING).astimezone(timezone.utc)

    own_supervisor = make.staff("supervisor", "朝阳区", username="sup_own")
    make.staff("supervisor", "朝阳区", username="sup_own2")
    lone = make.staff("supervisor", "海淀区", username="sup_lone")
    city = make.staff("supervisor", None, username="sup_city")

    def awaiting(tag, district, who, at):
        case = make.case(district=district, number=f"TA-{tag}", received=date(2021, 10, 8))
        db.session.add(Decision(case_id=case.id, outcome=Outcome.upheld, reason_code="verified_valid",
                                note="核实无误", decided_by_id=who.id, decided_at=at, changes_score=True))
        case.status = CaseStatus.awaiting_countersign
        return case

    awaiting("CS-LONG", "朝阳区", world.staff["r1"], beijing(2021, 10, 12))   # Tue: 4 working days
    awaiting("CS-FRESH", "朝阳区", world.staff["r1"], beijing(2021, 10, 15))  # Fri: 1 working day
    lone_case = awaiting("CS-LONE", "海淀区", lone, beijing(2021, 10, 15))
    db.session.commit()

    own_client = client_for(own_supervisor)
    district_view = tables_of(own_client.get(URL + "?year=2021").get_data(as_text=True))
    assert [r[0] for r in district_view["countersign"][1:]] == ["TA-CS-LONG"]
    exported = own_client.get(f"{URL}export/countersign.csv?year=2021").get_data(as_text=True)
    assert list(csv.reader(io.StringIO(exported.lstrip("\ufeff")))) == district_view["countersign"]
    city_view = tables_of(client_for(city).get(URL + "?year=2021").get_data(as_text=True))
    assert {r[0] for r in city_view["countersign"][1:]} == {"TA-CS-LONG", "TA-CS-LONE"}

    # The lone supervisor cannot sign their own decision; the city-level supervisor can.
    with pytest.raises(services.Refused):
        services.countersign(lone_case, actor=lone, confirm=True, version=lone_case.version)
    services.countersign(lone_case, actor=city, confirm=True, version=lone_case.version)
    assert lone_case.status == CaseStatus.closed
