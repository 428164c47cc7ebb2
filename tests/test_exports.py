"""Every "导出" of every admin list, for every role: downloaded over HTTP and read to its last row.

An export is what the user was looking at: the list page's rows (same district scope, same
order, same key column), the page's column labels, masked ID numbers, a CSV with a BOM that
Excel opens, and an XLSX. It used to send its header and then die with DetachedInstanceError
(the streamed body ran after the request's session had closed), logged as 200.
"""
from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timezone
from html.parser import HTMLParser

import pytest
from openpyxl import load_workbook

from backoffice.admin.base import ScopedModelView
from backoffice.applications.models import Applicant
from backoffice.audit.models import AuditEvent
from backoffice.extensions import db
from backoffice.staff.models import Role
from backoffice.staff.permissions import AREAS
from verifiers.identifiers import is_valid_resident_id

from test_district_matrix import OTHER, OWN, world  # noqa: F401  (the two districts' rows, each with a marker)

FULL_ID = re.compile(r"(?<![0-9A-Za-z])[1-9][0-9]{16}[0-9Xx](?![0-9A-Za-z])")

USERS = [
    ("reviewer", OWN),
    ("supervisor", OWN),
    ("supervisor", None),
    ("investigator", None),
    ("administrator", None),
]


class _ListRows(HTMLParser):
    """The text of one column (td.col-<name>) of each row of a Flask-Admin list table."""

    def __init__(self, column: str):
        super().__init__()
        self.css = f"col-{column}"
        self.cells: list[str] = []
        self._depth = 0  # >0 while inside the wanted cell
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        if self._depth:
            self._depth += tag == "td"
            return
        if tag == "td" and self.css in (dict(attrs).get("class") or "").split():
            self._depth, self._text = 1, []

    def handle_endtag(self, tag):
        if self._depth and tag == "td":
            self._depth -= 1
            if not self._depth:
                self.cells.append(" ".join("".join(self._text).split()))

    def handle_data(self, data):
        if self._depth:
            self._text.append(data)


def _list_keys(client, endpoint: str, column: str) -> list[str]:
    """The key column of every row the list shows, page after page."""
    keys: list[str] = []
    for number in range(100):
        page = client.get(f"/admin/{endpoint}/?page_size=100&page={number}")
        assert page.status_code == 200, (endpoint, page.status_code)
        parser = _ListRows(column)
        parser.feed(page.get_data(as_text=True))
        if not parser.cells:
            return keys
        keys += parser.cells
    raise AssertionError(f"{endpoint}: more than 100 pages")


def _csv_rows(response) -> list[list[str]]:
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf"), "CSV without a BOM: Excel shows the Chinese as mojibake"
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def _xlsx_rows(response) -> list[list[str]]:
    sheet = load_workbook(io.BytesIO(response.get_data()), read_only=True).worksheets[0]
    return [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]


def _scoped_views(app):
    admin = app.extensions["admin"][0]
    return [v for v in admin._views if isinstance(v, ScopedModelView) and v.can_export]


def test_every_model_view_is_scoped(app):
    """The export above (and the district rule) live in ScopedModelView: no list escapes them."""
    from flask_admin.model import BaseModelView

    admin = app.extensions["admin"][0]
    loose = [v.endpoint for v in admin._views if isinstance(v, BaseModelView) and not isinstance(v, ScopedModelView)]
    assert loose == []


@pytest.mark.parametrize("role,district", USERS, ids=[f"{r}-{d or 'city'}" for r, d in USERS])
def test_every_export_equals_its_list(app, make, client_for, world, role, district):  # noqa: F811
    user = make.staff(role, district)
    db.session.commit()
    client = client_for(user)
    full_ids = [a.id_number for a in db.session.query(Applicant)]
    assert full_ids
    downloaded = 0
    for view in _scoped_views(app):
        endpoint = view.endpoint
        if Role(role) not in AREAS[view.area][0]:
            assert client.get(f"/admin/{endpoint}/export/csv/").status_code == 403, endpoint
            continue
        key_column = view._export_columns[0][0]
        labels = [str(label) for _name, label in view._export_columns]
        list_keys = _list_keys(client, endpoint, key_column)
        for kind, read in (("csv", _csv_rows), ("xlsx", _xlsx_rows)):
            response = client.get(f"/admin/{endpoint}/export/{kind}/")
            assert response.status_code == 200, (endpoint, kind, response.status_code)
            assert "attachment" in response.headers["Content-Disposition"]
            # Built whole inside the request: its size is announced, so a cut-off download shows.
            assert int(response.headers["Content-Length"]) == len(response.get_data()), (endpoint, kind)
            rows = read(response)
            header, body = rows[0], rows[1:]
            assert header == labels, (endpoint, kind, header)
            # Every row the list shows, in its order, and no other.
            assert [r[0] for r in body] == list_keys, (endpoint, kind)
            text = "\n".join(",".join(r) for r in rows)
            full = [m for m in FULL_ID.findall(text) if is_valid_resident_id(m.upper())]
            assert not full, (endpoint, kind, full)
            for full in full_ids:
                assert full not in text, (endpoint, kind)
            if endpoint in world["own"]:
                own_marker, other_marker = world["own"][endpoint][1], world["other"][endpoint][1]
                assert own_marker in text, (endpoint, kind)
                assert (other_marker in text) == (district is None), (endpoint, kind, "other district")
            downloaded += 1
    assert downloaded >= 2


def test_exported_applicants_are_masked_and_labelled(make, client_for, world):  # noqa: F811
    applicant = db.session.get(Applicant, world["own"]["applicants"][0])
    client = client_for(make.staff("reviewer", OWN))
    for kind, read in (("csv", _csv_rows), ("xlsx", _xlsx_rows)):
        rows = read(client.get(f"/admin/applicants/export/{kind}/"))
        assert rows[0] == ["身份证号", "姓名", "出生日期"]
        assert [applicant.masked_id, applicant.name, applicant.birth_date.isoformat()] in rows[1:]


def test_an_export_that_fails_is_not_a_success(app, make, client_for, world, monkeypatch):  # noqa: F811
    """The body is built inside the request: a failure answers 500, never a 200 with a cut-off file."""
    client = client_for(make.staff("supervisor", OWN))
    view = next(v for v in _scoped_views(app) if v.endpoint == "decisions")

    def broken(model, name):
        raise RuntimeError("a cell could not be read")

    monkeypatch.setattr(view, "get_export_value", broken)
    app.config["PROPAGATE_EXCEPTIONS"], before = False, app.config.get("PROPAGATE_EXCEPTIONS")
    try:
        response = client.get("/admin/decisions/export/csv/")
    finally:
        app.config["PROPAGATE_EXCEPTIONS"] = before
    assert response.status_code == 500


def test_a_generated_body_that_fails_is_an_error_not_a_200(app, make, client_for, world, monkeypatch):  # noqa: F811
    """Any view answering with a generator: the body is completed inside the request."""
    from flask import Response, stream_with_context

    import backoffice.admin.views as admin_views

    def half_a_file(evidence):
        def body():
            yield b"%PDF-1.7 first part"
            raise RuntimeError("the rest could not be read")

        return Response(stream_with_context(body()), mimetype="application/pdf")

    monkeypatch.setattr(admin_views, "send_evidence", half_a_file)
    client = client_for(make.staff("reviewer", OWN))
    app.config["PROPAGATE_EXCEPTIONS"], before = False, app.config.get("PROPAGATE_EXCEPTIONS")
    try:
        response = client.get(f"/admin/evidence/download/{world['own']['evidence'][0]}")
    finally:
        app.config["PROPAGATE_EXCEPTIONS"] = before
    assert response.status_code == 500
    assert b"first part" not in response.get_data()


# Beijing time ----------------------------------------------------------------------------

AT_UTC = datetime(2021, 5, 10, 10, 43, 27, 123456, tzinfo=timezone.utc)  # 18:43 in Beijing


def test_a_utc_timestamp_reads_as_beijing_time_to_the_minute(make, client_for, world):  # noqa: F811
    case_id = make.case(district=OWN).id
    event = AuditEvent(at=AT_UTC, actor_label="时间测试", action="test.timestamp", object_type="review_case",
                       object_id=str(case_id), district_id=make.district(OWN).id)
    db.session.add(event)
    db.session.commit()
    client = client_for(make.staff("supervisor", OWN))

    pages = {
        "list": client.get("/admin/audit/"),
        "details": client.get(f"/admin/audit/details/?id={event.id}"),
        "workspace": client.get(f"/admin/case/{case_id}/"),
    }
    for where, response in pages.items():
        assert response.status_code == 200, where
        page = response.get_data(as_text=True)
        assert "2021-05-10 18:43" in page, where
        assert "2021-05-10 10:43" not in page and "18:43:27" not in page and "123456" not in page, where

    rows = _csv_rows(client.get("/admin/audit/export/csv/"))
    when = rows[0].index("时间")
    assert [r[when] for r in rows[1:] if "时间测试" in r] == ["2021-05-10 18:43"]


def test_case_pages_say_beijing_time_once(make, client_for, world):  # noqa: F811
    client = client_for(make.staff("reviewer", OWN))
    case_id = make.case(district=OWN).id
    db.session.commit()
    workspace = client.get(f"/admin/case/{case_id}/").get_data(as_text=True)
    assert workspace.count("北京时间") == 1
    assert client.get("/admin/queue_housing/").get_data(as_text=True).count("北京时间") == 1


def test_an_english_users_export_has_the_english_labels(make, client_for, world):  # noqa: F811
    user = make.staff("reviewer", OWN)
    user.locale = "en"
    db.session.commit()
    client = client_for(user)
    for kind, read in (("csv", _csv_rows), ("xlsx", _xlsx_rows)):
        rows = read(client.get(f"/admin/decisions/export/{kind}/"))
        assert rows[0] == ["No.", "Case", "Outcome", "Reason", "Note", "Decided by", "Decided at"]
        assert [r[4] for r in rows[1:]] == [world["own"]["decisions"][1]]
        # The decision time as the page shows it: Beijing time, to the minute, no seconds.
        assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", r[6]) for r in rows[1:]), rows


def test_staff_and_outbox_lists_show_beijing_time(make, client_for):
    from backoffice.outbox.models import OutboxMessage

    colleague = make.staff("reviewer", OWN)
    colleague.last_login_at = AT_UTC
    message = OutboxMessage(created_at=AT_UTC, topic="rank_year", payload={}, job_key="beijing-time-test",
                            delivered_at=AT_UTC, job_id="beijing-time-test")
    db.session.add(message)
    db.session.commit()
    client = client_for(make.staff("administrator"))
    for url in ("/admin/staff/", "/admin/outbox/", f"/admin/outbox/details/?id={message.id}"):
        page = client.get(url).get_data(as_text=True)
        assert "2021-05-10 18:43" in page, url
        assert "2021-05-10 10:43" not in page and "18:43:27" not in page, url


def test_typed_text_never_runs_as_a_formula(make, client_for):
    name = '=HYPERLINK("http://example.invalid","点此")'
    make.application(OWN, applicant=make.applicant(name=name))
    db.session.commit()
    client = client_for(make.staff("reviewer", OWN))
    csv_names = [r[1] for r in _csv_rows(client.get("/admin/applicants/export/csv/"))[1:]]
    assert csv_names == ["'" + name]
    sheet = load_workbook(io.BytesIO(client.get("/admin/applicants/export/xlsx/").get_data())).worksheets[0]
    cell = sheet.cell(row=2, column=2)
    assert cell.data_type == "s" and cell.value == "'" + name
