"""Words, not codes (issue 13 §3, §6): every admin page read as text, in both languages and for
each role, shows labels — no event names, reason or slot codes, True/False, "__None"; the audit
registry covers every event name the code writes; the staff form says what is wrong with a
district and a role, offers the language as a choice and unlocks a locked account; an integrity
error on an admin form is a form error; error pages keep the navigation, speak the user's
language and carry the request id of their log line."""
from __future__ import annotations

import ast
import csv
import io
import json
import logging
import re
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import select

from backoffice.audit.events import ACTOR_LABELS, EVENT_LABELS, OBJECT_TYPE_LABELS
from backoffice.audit.models import AuditEvent
from backoffice.extensions import db
from backoffice.staff.models import Staff
from support import csrf_token_from, sign_in
from test_jobs_page import failed_job, redis_conn  # noqa: F401  (fixtures: a failed job in this run's Redis)

ROOT = Path(__file__).resolve().parents[1]
CJK = re.compile(r"[\u4e00-\u9fff]")


# The registry covers every event name the code writes ----------------------------------------
def _module_constants(tree: ast.Module) -> dict[str, str]:
    out = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    out[target.id] = node.value.value
    return out


def _names(node, constants, where) -> list[str]:
    """The event names an expression can be: literals, both arms of `a if c else b`, a module
    constant, and the settlement's f"settlement.{stage}" (one per stage of settlement/models.py)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _names(node.body, constants, where) + _names(node.orelse, constants, where)
    if isinstance(node, ast.Name) and node.id in constants:
        return [constants[node.id]]
    if isinstance(node, ast.JoinedStr) and ast.unparse(node) == "f'settlement.{stage}'":
        from backoffice.settlement.models import STAGES

        return [f"settlement.{stage}" for stage in STAGES]
    raise AssertionError(f"{where}: an audit event name the test cannot read: {ast.unparse(node)}")


def written_event_names() -> dict[str, str]:
    """{event name: where it is written} over backoffice/ and queues/: record(...) and the
    modules' own _audit(...) helpers (their first argument), and the bulk writers' rows
    (dict(action=...) and {"action": ...})."""
    found: dict[str, str] = {}
    for path in sorted([*ROOT.glob("backoffice/**/*.py"), *ROOT.glob("queues/**/*.py")]):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants = _module_constants(tree)
        rel = path.relative_to(ROOT)
        if rel == Path("backoffice/audit/services.py"):
            continue  # record() itself: it writes the name it is given
        # Inside a module's own _audit(action, ...) helper, record(action, ...) passes its
        # parameter on: the names are read at the helper's callers.
        passed_on = {id(call) for fn in ast.walk(tree) if isinstance(fn, ast.FunctionDef) and fn.name == "_audit"
                     for call in ast.walk(fn) if isinstance(call, ast.Call) and call.args
                     and isinstance(call.args[0], ast.Name) and call.args[0].id == fn.args.args[0].arg}
        for node in ast.walk(tree):
            if id(node) in passed_on:
                continue
            names: list[str] = []
            where = f"{rel}:{getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.Call):
                func = node.func
                fname = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
                if fname in ("record", "_audit") and node.args:
                    names += _names(node.args[0], constants, where)
                if {kw.arg for kw in node.keywords} >= {"action", "object_type"}:  # a bulk-written row
                    names += [n for kw in node.keywords if kw.arg == "action" for n in _names(kw.value, constants, where)]
            elif isinstance(node, ast.Dict):
                keys = {k.value for k in node.keys if isinstance(k, ast.Constant)}
                if keys >= {"action", "object_type", "actor_label"}:  # a bulk-written row, or a view's columns
                    names += [n for k, v in zip(node.keys, node.values)
                              if isinstance(k, ast.Constant) and k.value == "action"
                              and isinstance(v, (ast.Constant, ast.Name, ast.IfExp, ast.JoinedStr))  # not labels
                              for n in _names(v, constants, where)]
            for name in names:
                found.setdefault(name, where)
    return found


def test_every_event_name_the_code_writes_has_words_in_both_languages():
    written = written_event_names()
    assert len(written) > 60  # the scan finds the trail's events (it read record(...) calls at all)
    assert {"case.received", "login.succeeded", "score.changed", "case.escalated", "settlement.approved"} <= set(written)
    missing = {name: where for name, where in written.items() if name not in EVENT_LABELS}
    assert not missing, f"audit events without words in backoffice/audit/events.py: {missing}"
    for registry in (EVENT_LABELS, OBJECT_TYPE_LABELS, ACTOR_LABELS):
        for code, (zh, en) in registry.items():
            assert CJK.search(zh) and en and not CJK.search(en), code


# Reading pages as a person does --------------------------------------------------------------
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Text(HTMLParser):
    """The visible text: no script, style or hidden element (Flask-Admin's filter data is read
    apart, by `filter_labels`), each option and cell apart."""

    def __init__(self):
        super().__init__()
        self.out: list[str] = []
        self.stack: list[bool] = []  # per open element: hidden?

    def handle_starttag(self, tag, attrs):
        if tag in VOID:
            return
        attrs = dict(attrs)
        hidden = (tag in ("script", "style", "template") or "d-none" in (attrs.get("class") or "").split()
                  or "display:none" in (attrs.get("style") or "").replace(" ", ""))
        self.stack.append(hidden)

    def handle_endtag(self, tag):
        if tag not in VOID and self.stack:
            self.stack.pop()
        self.out.append(" | ")

    def handle_data(self, data):
        if not any(self.stack):
            self.out.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return re.sub(r"\s*(?:\|\s*)+", " | ", "".join(parser.out))  # "cell | cell | …"


def filter_labels(html: str) -> str:
    """What the filter menus show: each filter's name, operation and choices (not their values)."""
    found = re.search(r'<div id="filter-groups-data"[^>]*>(.*?)</div>', html, re.S)
    if not found:
        return ""
    words = []
    for name, items in json.loads(found.group(1)).items():
        words.append(name)
        for item in items:
            words.append(item["operation"])
            words += [label for _value, label in item.get("options") or ()]
    return " | ".join(words)


RAW = {
    "event name": re.compile(r"\b(?!e\.g\b)[a-z]+(?:_[a-z]+)*\.[a-z]+(?:_[a-z]+)*\b"),
    "code": re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b"),
    "__None": re.compile(r"__None"),
    "True/False": re.compile(r"\b(?:True|False)\b"),
    "UTC offset": re.compile(r"[+-]0\d:00\b|\bUTC\b"),
    "district id": re.compile(r"\| (?:区 ?\d+|District \d+) \|"),  # a cell saying "区 3"
}
# Raw queue names on the jobs page, and Flask-Admin's column names made from code ("Revoked At").
RAW_QUEUE = re.compile(r"\b(?:rescore|rank|notify|maintenance)\b")
TITLE_CASED_CODE = re.compile(r"\b(?:Id|Ip|Sha256|[A-Z][a-z]+ (?:At|Id|Reason|Hash|Version|Logins))\b")


def raw_codes(text: str, logins=(), english: bool = False) -> list[str]:
    for login in logins:  # a username is what a person types to sign in: a word of theirs
        text = re.sub(rf"\b{re.escape(login)}\b", " ", text)
    text = re.sub(r"[\w.-]+\.pdf\b", " ", text)  # an uploaded file's own name is the applicant's
    found = [f"{kind}: {m}" for kind, pattern in RAW.items() for m in pattern.findall(text)]
    found += [f"column from code: {m}" for m in TITLE_CASED_CODE.findall(text)]
    if not english:
        found += [f"English in a Chinese page: {m}" for m in re.findall(r"\b[A-Z][a-z]+ [a-z]+ [a-z]+\b", text)]
    return sorted(set(found))


@pytest.fixture
def demo_year(app):
    """The demo's year, small: every queue has cases, evidence, decisions, audit events, outbox rows."""
    from backoffice.demo import LOGINS, seed

    seed(applicants=24, today=date(2021, 9, 1))
    return [login[0] for login in LOGINS]


def _client(app, username: str, locale: str):
    staff = db.session.scalar(select(Staff).where(Staff.username == username))
    staff.locale = locale
    db.session.commit()
    client = app.test_client()
    assert sign_in(client, username, "demo-password-2021").status_code == 302
    return client


def _model_views(app):
    from backoffice.admin.base import ScopedModelView

    return [v for v in app.extensions["admin"][0]._views if isinstance(v, ScopedModelView)]


# The custom pages around the model views (each user opens those their role may).
ADMIN_PAGES = ("/admin/", "/admin/jobs/", "/admin/calendar/", "/admin/announcement/", "/admin/revocations/",
               "/admin/turnaround/", "/admin/yearstats/", "/admin/simulator/")


@pytest.mark.parametrize("locale", ["zh_Hans_CN", "en"])
@pytest.mark.parametrize("username", ["admin", "supervisor", "reviewer", "supervisor_city"])
def test_every_admin_page_reads_as_words(app, demo_year, locale, username):
    """Each list this user may open, its first row's details page, the staff form and the jobs
    page: no code in the visible text."""
    logins = demo_year
    client = _client(app, username, locale)
    english = locale == "en"
    opened = 0
    for view in _model_views(app):
        url = f"/admin/{view.endpoint}/"
        answer = client.get(url)
        if answer.status_code == 403:
            continue
        assert answer.status_code == 200, url
        html = answer.get_data(as_text=True)
        opened += 1
        assert raw_codes(visible_text(html), logins, english) == [], (username, locale, url)
        assert raw_codes(filter_labels(html), logins, english) == [], (username, locale, url, "filters")
        first = re.search(rf'href="(/admin/{view.endpoint}/details/\?id=\d+[^"]*)"', html)
        case = re.search(r'href="/admin/case/(\d+)/"', html)  # worklists link the workspace, not details
        if case and not first:
            first = re.match(r"(.*)", f"/admin/{view.endpoint}/details/?id={case.group(1)}")
        if first:
            details = client.get(first.group(1).replace("&amp;", "&"))
            assert details.status_code == 200
            assert raw_codes(visible_text(details.get_data(as_text=True)), logins, english) == [], first.group(1)
    assert opened >= 3
    for url in ADMIN_PAGES + ("/admin/staff/new/",):
        answer = client.get(url)
        if answer.status_code == 200:
            text = visible_text(answer.get_data(as_text=True))
            assert raw_codes(text, logins, english) == [], url
            assert not RAW_QUEUE.search(text), url


@pytest.mark.parametrize("locale", ["zh_Hans_CN", "en"])
def test_the_audit_trail_reads_as_sentences_and_its_export_says_the_same(app, demo_year, locale):
    client = _client(app, "admin", locale)
    english = locale == "en"
    # The newest events first: the demo's cases were received before its uploads and backlog days,
    # so read page after page (as a person would) until the first receipt shows.
    received = "Case received" if english else "受理案件"
    pages = []
    for page in range(60):
        pages.append(visible_text(client.get(f"/admin/audit/?page={page}").get_data(as_text=True)))
        if received in pages[-1]:
            break
    text = "\n".join(pages)
    assert ("Signed in" if english else "登录成功") in pages[0]
    assert received in text
    assert "系统管理员" in pages[0]  # the administrator by full name, not their login
    assert ("Demo data" if english else "演示数据") in text  # the seed by what it is, not "seed-demo"
    # A case by its number, an application as year-number, not the rows' ids.
    assert re.search(r"(?:Case received|受理案件) \| (?:Case|案件) \| \d{4}-\d{6}-\d{6} \|", text), text[:3000]
    # The page-size chooser in one language.
    assert ("50 per page" in text and "项目" not in text) if english else ("每页 50 条" in text and "items" not in text)
    # The filter's choices are the events' words too.
    html = client.get("/admin/audit/").get_data(as_text=True)
    filter_data = re.sub(r"\\u([0-9a-f]{4})", lambda m: chr(int(m.group(1), 16)),
                         html.split('id="filter-groups-data"', 1)[-1].split("</", 1)[0])
    assert received in filter_data
    export = client.get("/admin/audit/export/csv/")
    assert export.status_code == 200
    rows = list(csv.reader(io.StringIO(export.get_data(as_text=True).lstrip("\ufeff"))))
    actions = {row[2] for row in rows[1:]}
    assert ("Case received" if english else "受理案件") in actions
    assert not any(RAW["event name"].search(a) for a in actions), actions


def test_every_column_of_every_admin_view_has_its_label(app):
    """No column named by Flask-Admin from its code ("Revoked At", "Ip", "Id"): each column a
    list, a details page or an export shows has a label of ours, so the export's header row says
    what the page says."""
    missing = {}
    with app.test_request_context():
        for view in _model_views(app):
            shown = {name for columns in (view._list_columns, view._details_columns, view._export_columns)
                     for name, _label in columns}
            lacking = sorted(shown - set(view.column_labels or {}))
            if lacking:
                missing[view.endpoint] = lacking
    assert not missing, missing


def test_every_admin_table_has_an_object_name(app):
    """admin.created/changed/deleted and refused cross-district reads name the view's table."""
    missing = {view.model.__tablename__ for view in _model_views(app)} - set(OBJECT_TYPE_LABELS)
    assert not missing, missing


def test_evidence_and_decisions_show_materials_and_reasons_in_words(app, demo_year):
    client = _client(app, "admin", "zh_Hans_CN")
    evidence = visible_text(client.get("/admin/evidence/").get_data(as_text=True))
    assert "房屋所有权人身份证明文件" in evidence or "户口簿" in evidence
    assert "owner_identity" not in evidence and "household_register" not in evidence
    english = _client(app, "admin", "en")
    evidence_en = visible_text(english.get("/admin/evidence/").get_data(as_text=True))
    assert "owner_identity" not in evidence_en


def test_a_failed_job_reads_as_words(app, make, client_for, failed_job):
    admin = make.staff("administrator")
    db.session.commit()
    html = client_for(admin).get("/admin/jobs/").get_data(as_text=True)
    row = visible_text(re.search(r'<tr data-job-id=.*?</tr>', html, re.S).group(0))  # the traceback is apart
    assert "重新计算申报积分" in row and "重新计分" in row and "申报 424242，原因 审核决定" in row
    assert failed_job.id in row  # the job's id stays, small, to find it in the log
    row = row.replace(failed_job.id, "")
    assert "application_id" not in row and "queues.jobs" not in row and not RAW_QUEUE.search(row)


def test_the_jobs_page_names_queues_in_words(app, make, client_for):
    admin = make.staff("administrator")
    db.session.commit()
    text = visible_text(client_for(admin).get("/admin/jobs/").get_data(as_text=True))
    assert "重新计分" in text and "年度排名" in text and "告知书送达" in text
    assert not RAW_QUEUE.search(text)


# The staff form ------------------------------------------------------------------------------
def _new_staff_form(client, **fields) -> dict:
    page = client.get("/admin/staff/new/").get_data(as_text=True)
    form = {"csrf_token": csrf_token_from(page), "username": "new_person", "full_name": "新同事",
            "role": "reviewer", "district": "__None", "active": "y", "locale": "zh_Hans_CN",
            "new_password": "a-long-and-unusual-passphrase-42"}
    form.update(fields)
    return form


def test_the_staff_form_checks_the_district_against_the_role(app, make, client_for):
    chaoyang = make.district("朝阳区")
    client = client_for(make.staff("administrator"))
    # A reviewer without a district: said on the district field, the input kept, nothing saved.
    answer = client.post("/admin/staff/new/", data=_new_staff_form(client))
    body = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "审核员须属于一个区，请选择区" in body
    assert 'value="新同事"' in body
    assert db.session.scalar(select(Staff).where(Staff.username == "new_person")) is None
    # An administrator with a district: the other way round.
    answer = client.post("/admin/staff/new/", data=_new_staff_form(client, role="administrator",
                                                                   district=str(chaoyang.id)))
    assert "系统管理员为市级账户，不能属于某个区" in answer.get_data(as_text=True)
    # A new account without a password: said on the password field, not a flash of two languages.
    answer = client.post("/admin/staff/new/", data=_new_staff_form(client, district=str(chaoyang.id),
                                                                   new_password=""))
    assert "新账户需要设置密码" in answer.get_data(as_text=True)
    # Right: saved.
    answer = client.post("/admin/staff/new/", data=_new_staff_form(client, district=str(chaoyang.id)))
    assert answer.status_code == 302
    assert db.session.scalar(select(Staff).where(Staff.username == "new_person")).district_id == chaoyang.id


def test_the_staff_form_speaks_english_and_offers_the_language_as_a_choice(app, make, client_for):
    admin = make.staff("administrator")
    admin.locale = "en"
    db.session.commit()
    client = client_for(admin)
    html = client.get("/admin/staff/new/").get_data(as_text=True)
    locale = re.search(r'<select[^>]*id="locale".*?</select>', html, re.S)
    assert locale is not None, "the language is a choice, not a free-text box"
    assert 'value="zh_Hans_CN"' in locale.group(0) and ">中文<" in locale.group(0) and ">English<" in locale.group(0)
    role = re.search(r'<select[^>]*id="role".*?</select>', html, re.S).group(0)
    assert ">Reviewer<" in role and "审核员" not in role
    assert "__None" not in visible_text(html) and "(city level, no district)" in html
    answer = client.post("/admin/staff/new/", data=_new_staff_form(client))
    assert "A reviewer works for a district: choose the district" in answer.get_data(as_text=True)


def test_an_integrity_error_on_an_admin_form_is_a_form_error(app, make, client_for, monkeypatch):
    """The base view's one hook: a constraint the form's checks did not catch (here the staff
    form's own check is switched off, as if two edits raced) is a form error, never a 500."""
    from backoffice.admin import views

    monkeypatch.setattr(views, "_district_problem", lambda role, district: None)
    client = client_for(make.staff("administrator"))
    answer = client.post("/admin/staff/new/", data=_new_staff_form(client))
    body = answer.get_data(as_text=True)
    assert answer.status_code == 200, body[:300]
    assert "区与角色不符" in body
    district_field = re.search(r'id="district".*?</div>\s*</div>', body, re.S)
    assert district_field and "区与角色不符" in district_field.group(0)  # on the field, not only a flash
    assert 'value="新同事"' in body
    assert "CHECK constraint" not in body and "ck_staff" not in body and "IntegrityError" not in body


# Unlocking -----------------------------------------------------------------------------------
def test_a_locked_account_is_unlocked_from_the_staff_form_and_it_is_audited(app, make, client_for, settings):
    locked = make.staff("reviewer", "朝阳区")
    admin = make.staff("administrator")
    db.session.commit()
    stranger = app.test_client()
    for _ in range(settings.login_max_failures + 1):
        sign_in(stranger, locked.username, "wrong-password-wrong")
    assert sign_in(stranger, locked.username).status_code == 200  # refused: locked
    client = client_for(admin)
    edit = client.get(f"/admin/staff/edit/?id={locked.id}").get_data(as_text=True)
    assert 'data-testid="unlock"' in edit and "登录已锁定至" in edit
    listing = client.get("/admin/staff/").get_data(as_text=True)
    assert f'data-testid="unlock-{locked.id}"' in listing
    answer = client.post(f"/admin/staff/unlock/{locked.id}", data={"csrf_token": csrf_token_from(edit)})
    assert answer.status_code == 302
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "staff.unlocked"))
    assert event is not None and event.actor_id == admin.id and event.object_id == str(locked.id)
    assert sign_in(stranger, locked.username).status_code == 302  # the right password works again
    edit = client.get(f"/admin/staff/edit/?id={locked.id}").get_data(as_text=True)
    assert 'data-testid="not-locked"' in edit


def test_unlocking_needs_the_token_and_the_role(app, make, client_for):
    locked = make.staff("reviewer", "朝阳区")
    supervisor = make.staff("supervisor", None)
    admin = make.staff("administrator")
    db.session.commit()
    assert client_for(admin).post(f"/admin/staff/unlock/{locked.id}").status_code == 400  # no CSRF token
    client = client_for(supervisor)
    token = csrf_token_from(client.get("/admin/").get_data(as_text=True))
    assert client.post(f"/admin/staff/unlock/{locked.id}", data={"csrf_token": token}).status_code == 403


# Error pages ---------------------------------------------------------------------------------
def _request_id(answer) -> str:
    rid = answer.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{16}", rid)
    assert f"<code>{rid}</code>" in answer.get_data(as_text=True)
    return rid


def test_a_404_keeps_the_navigation_speaks_the_users_language_and_carries_the_request_id(app, make, client_for,
                                                                                        caplog):
    reviewer = make.staff("reviewer", "朝阳区")
    reviewer.locale = "en"
    db.session.commit()
    with caplog.at_level(logging.WARNING, logger="backoffice.errors"):
        answer = client_for(reviewer).get("/admin/no-such-page/")
    assert answer.status_code == 404
    html = answer.get_data(as_text=True)
    assert 'data-testid="current-user"' in html and "Sign out" in html  # the frame, the user's menu
    assert "404 · Not found" in html and "未找到" not in html
    rid = _request_id(answer)
    assert any(rid in r.getMessage() and "404" in r.getMessage() for r in caplog.records)


def test_a_403_keeps_the_navigation_in_chinese(app, make, client_for):
    answer = client_for(make.staff("reviewer", "朝阳区")).get("/admin/staff/")
    assert answer.status_code == 403
    html = answer.get_data(as_text=True)
    assert 'data-testid="current-user"' in html and "退出登录" in html and "403 · 无权访问" in html
    _request_id(answer)


def test_a_409_is_a_page_in_the_frame(app, make, client_for, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from backoffice.jobs import views

    def locked(*args, **kwargs):
        raise OperationalError("UPDATE x", {}, Exception("database is locked"))

    monkeypatch.setattr(views.services, "overview", locked)
    answer = client_for(make.staff("administrator")).get("/admin/jobs/")
    assert answer.status_code == 409
    html = answer.get_data(as_text=True)
    assert "409 · 冲突" in html and "请刷新后重试" in html and 'data-testid="current-user"' in html
    _request_id(answer)


def test_a_500_is_a_page_in_the_frame_and_its_log_line_has_the_request_id(app, make, client_for, monkeypatch,
                                                                          caplog):
    from backoffice.jobs import views

    def broken(*args, **kwargs):
        raise RuntimeError("something broke")

    monkeypatch.setattr(views.services, "overview", broken)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)  # as in production: no re-raise
    with caplog.at_level(logging.ERROR, logger="backoffice.errors"):
        answer = client_for(make.staff("administrator")).get("/admin/jobs/")
    assert answer.status_code == 500
    html = answer.get_data(as_text=True)
    assert "500 · 系统内部错误" in html and 'data-testid="current-user"' in html
    assert "something broke" not in html and "Traceback" not in html
    rid = _request_id(answer)
    line = next(r for r in caplog.records if rid in r.getMessage())
    assert "500" in line.getMessage() and line.exc_info and "something broke" in str(line.exc_info[1])


def test_a_sane_request_id_from_the_proxy_is_kept(app, make, client_for):
    answer = client_for(make.staff("reviewer", "朝阳区")).get("/admin/no-such-page/",
                                                             headers={"X-Request-ID": "proxy-abc12345"})
    assert answer.headers["X-Request-ID"] == "proxy-abc12345"
    assert "<code>proxy-abc12345</code>" in answer.get_data(as_text=True)


def test_the_case_history_names_events_and_people_in_words(app, make, client_for):
    from backoffice.cases import services

    reviewer = make.staff("reviewer", "朝阳区")
    case = make.case(district="朝阳区")
    services.claim(case, actor=reviewer, version=case.version)
    db.session.commit()
    html = client_for(reviewer).get(f"/admin/case/{case.id}/").get_data(as_text=True)
    history = re.search(r'data-testid="history".*?</table>', html, re.S).group(0)
    text = visible_text(history)
    assert "领取案件" in text and "测试reviewer" in text
    assert "case.claimed" not in text and reviewer.username not in text
