"""What the pages keep between requests (issue 18 §5) never shows one user another's page:
the admin menu kept per role, district, language and page (admin/menu.py) with its badges
counted per request, and the official calendar trusted for a few seconds on page reads
(calendar/services.py)."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import update

from backoffice.admin import menu
from backoffice.calendar import services as calendar_services
from backoffice.calendar.models import OfficialDay
from backoffice.cases.models import CaseStatus, ReviewCase
from backoffice.core.db import utcnow
from backoffice.extensions import db
from backoffice.turnaround.sql import beijing_today
from support import csrf_token_from

OWN, OTHER = "朝阳区", "海淀区"


def _badge(html: str, queue: str) -> int:
    found = re.search(rf'data-testid="badge-{queue}">(\d+)<', html)
    return int(found.group(1)) if found else 0


def _menu(html: str) -> str:
    return html[html.index('<ul class="nav navbar-nav mr-auto">'):html.index('<ul class="nav navbar-nav navbar-right">')]


@pytest.fixture
def cases(make):
    received = beijing_today() - timedelta(days=3)
    made = [make.case(district=OWN, number=f"PC-O{i}", received=received) for i in range(3)]
    made.append(make.case(district=OTHER, number="PC-T1", received=received))
    db.session.commit()
    return made


def test_the_kept_menu_shows_each_user_their_own_entries_and_counts(make, client_for, cases):
    menu.forget_menus()
    own = client_for(make.staff("reviewer", OWN))
    other = client_for(make.staff("reviewer", OTHER))
    city = client_for(make.staff("supervisor", None))
    own_supervisor = client_for(make.staff("supervisor", OWN))
    expected = {own: 3, other: 1, city: 4, own_supervisor: 3}
    pages = {}
    for _round in range(2):  # the second round is served from the kept menus
        for client, count in expected.items():
            html = client.get("/admin/queue_housing/").get_data(as_text=True)
            assert _badge(html, "housing") == count
            pages.setdefault(client, []).append(_menu(html))
    assert menu._kept, "the menus were kept"
    for client, (first, kept) in pages.items():
        assert first == kept
    # The same page, another role: the supervisors' dashboard is in their menu only.
    assert "/admin/turnaround/" in pages[own_supervisor][1] and "/admin/turnaround/" in pages[city][1]
    assert "/admin/turnaround/" not in pages[own][1]
    # The current page is the active entry, whichever page the menu was kept for first.
    home = own.get("/admin/").get_data(as_text=True)
    active = re.compile(r'class="dropdown-item active\s*" href="/admin/queue_housing/"')
    assert active.search(pages[own][1]) and not active.search(_menu(home))


def test_a_badge_follows_a_case_that_moves(make, client_for, cases):
    client = client_for(make.staff("reviewer", OWN))
    html = client.get("/admin/queue_housing/").get_data(as_text=True)
    assert (_badge(html, "housing"), _badge(html, "education")) == (3, 0)
    db.session.execute(update(ReviewCase).where(ReviewCase.id == cases[0].id).values(queue="education"))
    db.session.execute(update(ReviewCase).where(ReviewCase.id == cases[1].id).values(status=CaseStatus.closed,
                                                                                       closed_at=utcnow()))
    db.session.commit()
    html = client.get("/admin/queue_housing/").get_data(as_text=True)
    assert (_badge(html, "housing"), _badge(html, "education")) == (1, 1)


def test_the_language_switch_gives_the_english_menu(make, client_for, cases):
    client = client_for(make.staff("reviewer", OWN))
    chinese = _menu(client.get("/admin/queue_housing/").get_data(as_text=True))
    assert "教育背景" in chinese and "Education" not in chinese
    page = client.get("/admin/queue_housing/").get_data(as_text=True)
    assert client.post("/admin/login/locale", data={"csrf_token": csrf_token_from(page), "locale": "en",
                                                    "next": "/admin/queue_housing/"}).status_code == 302
    html = client.get("/admin/queue_housing/").get_data(as_text=True)
    english = _menu(html)
    assert "Education" in english and "教育背景" not in english
    assert _badge(html, "housing") == 3
    # Another user still reading Chinese gets the Chinese menu.
    other = _menu(client_for(make.staff("reviewer", OWN)).get("/admin/queue_housing/").get_data(as_text=True))
    assert "教育背景" in other and "Education" not in other


A_WEDNESDAY = date(2026, 11, 18)  # a working day in the suite's calendar (tests/fixtures)


def _kind_on_page_read(app, method="GET"):
    # A request of its own (its own app context and g), as the server gives each request.
    with app.app_context(), app.test_request_context(method=method):
        return calendar_services.current_calendar().kind_of(A_WEDNESDAY)


def test_a_holiday_added_elsewhere_shows_after_the_freshness_window_or_at_once_on_a_form(app, monkeypatch):
    monkeypatch.setitem(app.config, "CALENDAR_FRESHNESS_SECONDS", calendar_services.FRESHNESS_SECONDS)
    now = [1000.0]
    monkeypatch.setattr(calendar_services.time, "monotonic", lambda: now[0])
    assert _kind_on_page_read(app) is None
    # Another process (the calendar page on another server) enters a holiday.
    db.session.add(OfficialDay(day=A_WEDNESDAY, kind="holiday", name="测试假日", notice="测试通知"))
    db.session.commit()
    now[0] += 1
    assert _kind_on_page_read(app) is None, "within the window a page read trusts the calendar it has"
    assert _kind_on_page_read(app, method="POST") == "holiday", "a form sent always compares"
    db.session.execute(OfficialDay.__table__.delete().where(OfficialDay.day == A_WEDNESDAY))
    db.session.commit()
    now[0] += 1
    assert _kind_on_page_read(app) == "holiday"
    now[0] += calendar_services.FRESHNESS_SECONDS
    assert _kind_on_page_read(app) is None, "after the window the page reads the table's change"


def test_a_calendar_change_in_this_process_shows_on_the_next_page(app, monkeypatch):
    monkeypatch.setitem(app.config, "CALENDAR_FRESHNESS_SECONDS", calendar_services.FRESHNESS_SECONDS)
    monkeypatch.setattr(calendar_services.time, "monotonic", lambda: 2000.0)
    assert _kind_on_page_read(app) is None
    db.session.add(OfficialDay(day=A_WEDNESDAY, kind="holiday", name="测试假日", notice="测试通知"))
    db.session.commit()
    with app.app_context():
        calendar_services.forget_current()  # what apply_change does after a change
    assert _kind_on_page_read(app) == "holiday"
    db.session.execute(OfficialDay.__table__.delete().where(OfficialDay.day == A_WEDNESDAY))
    db.session.commit()
    with app.app_context():
        calendar_services.forget_current()
