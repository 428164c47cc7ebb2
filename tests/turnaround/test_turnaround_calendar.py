"""The official calendar as data: an administrator enters next year's arrangement on the
page the day the State Council publishes it, and open cases' due dates follow.

The suite's fixture calendar covers 2019–2026 (tests/fixtures); 2027 has no entries, so
until it is entered 2027 counts weekends only. The 2027 days entered here are made up for
the test (the real notice is not published yet): 1 January off, the Spring Festival
6–12 February off with Sunday 14 February worked.
"""
from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from backoffice.audit.models import AuditEvent
from backoffice.calendar.models import OfficialDay, WorkingDayOrdinal
from backoffice.cases.models import ReviewCase
from backoffice.extensions import db
from support import csrf_token_from

NEW = "/admin/calendar/new/"
LIST = "/admin/calendar/"
NOTICE = "国办发明电〔2026〕99号"  # made up for the test


@pytest.fixture
def admin(make):
    return make.staff("administrator")


@pytest.fixture
def viewer(make):
    return make.staff("supervisor", "朝阳区")


def _enter(client, day: date, kind: str = "holiday", name: str = "春节", notice: str = NOTICE):
    token = csrf_token_from(client.get(NEW).get_data(as_text=True))
    return client.post(NEW, data={"csrf_token": token, "day": day.isoformat(), "kind": kind, "name": name,
                                  "notice": notice})


def _due_shown(client, case) -> str:
    html = client.get(f"/admin/case/{case.id}/").get_data(as_text=True)
    return re.search(r"办结期限\s+(\d{4}-\d{2}-\d{2})", html).group(1)


DASHBOARD_WARNING = "节假日安排未录入：2027年"


def test_entering_2027_on_the_admin_page_moves_open_cases_due_dates(app, make, admin, viewer, client_for, today):
    today(date(2026, 12, 24))
    # Received Monday 28 December 2026 and Friday 29 January 2027, counted weekends only.
    new_year = make.case(district="朝阳区", received=date(2026, 12, 28), number="CAL-NY")
    spring = make.case(district="朝阳区", received=date(2027, 1, 29), number="CAL-SF")
    db.session.commit()
    supervisor = client_for(viewer)
    assert _due_shown(supervisor, new_year) == "2027-01-11"
    assert _due_shown(supervisor, spring) == "2027-02-12"
    assert DASHBOARD_WARNING in supervisor.get("/admin/turnaround/").get_data(as_text=True)

    client = client_for(admin)
    assert "2027年尚无放假和调休上班安排" in client.get(LIST).get_data(as_text=True)
    assert _enter(client, date(2027, 1, 1), name="元旦").status_code == 302
    for day in range(6, 13):
        assert _enter(client, date(2027, 2, day)).status_code == 302
    response = _enter(client, date(2027, 2, 14), kind="workday")
    assert response.status_code == 302

    # 1 January off: the tenth working day after 28 December is now Tuesday 12 January.
    assert _due_shown(supervisor, new_year) == "2027-01-12"
    # 1–5 February, Sunday the 14th worked, then 15–18 February.
    assert _due_shown(supervisor, spring) == "2027-02-18"
    # A case received after the entry (in a request or job of its own) is counted on the new calendar.
    with app.app_context():
        later = make.case(district="朝阳区", received=date(2027, 2, 4), number="CAL-NEW").id
        db.session.commit()
    assert _due_shown(supervisor, db.session.get(ReviewCase, later)) == "2027-02-24"  # 5, 14, 15–19, 22–24 February

    assert DASHBOARD_WARNING not in supervisor.get("/admin/turnaround/").get_data(as_text=True)
    page = client.get(LIST).get_data(as_text=True)
    assert "2027年尚无放假和调休上班安排" not in page
    assert "2027（8/1）" in page  # coverage: 8 days off, 1 make-up working day
    assert "调休上班" in page and NOTICE in page
    db.session.expire_all()
    entered = db.session.scalars(select(OfficialDay).where(OfficialDay.day >= date(2027, 1, 1))).all()
    assert {e.updated_by_id for e in entered} == {admin.id}
    moved = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "calendar.cases_rescheduled")
                               .order_by(AuditEvent.id)).all()
    assert moved[0].after["cases"] == [["CAL-NY", "2027-01-11", "2027-01-12"]]  # 1 January entered
    # Each Spring Festival weekday pushed it one day; the make-up Sunday brings it back one.
    assert moved[-1].after["cases"] == [["CAL-SF", "2027-02-19", "2027-02-18"]]
    # The dashboard's working-day ordinals follow: (29 January, 18 February] holds 10 working days.
    ordinal = dict(db.session.execute(select(WorkingDayOrdinal.day, WorkingDayOrdinal.ordinal).where(
        WorkingDayOrdinal.day.in_([date(2027, 1, 29), date(2027, 2, 18)]))).all())
    assert ordinal[date(2027, 2, 18)] - ordinal[date(2027, 1, 29)] == 10
    from backoffice.calendar.services import load_calendar

    _assert_ordinals_agree(load_calendar(), date(2025, 1, 1), date(2028, 12, 31))


def test_deleting_an_entry_moves_the_due_date_back(make, admin, viewer, client_for):
    case = make.case(district="朝阳区", received=date(2026, 12, 28), number="CAL-DEL")
    db.session.commit()
    client = client_for(admin)
    assert _enter(client, date(2027, 1, 1), name="元旦").status_code == 302
    assert _due_shown(client_for(viewer), case) == "2027-01-12"
    entry = db.session.scalar(select(OfficialDay).where(OfficialDay.day == date(2027, 1, 1)))
    token = csrf_token_from(client.get(LIST).get_data(as_text=True))
    response = client.post("/admin/calendar/delete/", data={"csrf_token": token, "id": entry.id, "url": LIST})
    assert response.status_code == 302
    assert _due_shown(client_for(viewer), case) == "2027-01-11"
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.action == "admin.deleted",
                                                             AuditEvent.object_type == "official_calendar"))


def test_a_make_up_working_day_must_be_a_weekend_and_a_date_is_entered_once(admin, client_for):
    client = client_for(admin)
    html = _enter(client, date(2027, 2, 15), kind="workday").get_data(as_text=True)
    assert "调休上班日应为星期六或星期日" in html
    assert _enter(client, date(2027, 1, 1), name="元旦").status_code == 302
    html = _enter(client, date(2027, 1, 1), name="元旦").get_data(as_text=True)
    assert "已经存在" in html  # the date field: one entry per date
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(OfficialDay)
                             .where(OfficialDay.day == date(2027, 1, 1))) == 1
    assert db.session.scalar(select(OfficialDay.kind).where(OfficialDay.day == date(2027, 2, 15))) is None


def test_only_administrators_change_the_calendar(make, viewer, client_for):
    supervisor = client_for(viewer)
    page = supervisor.get(LIST)
    assert page.status_code == 200 and "国庆节" in page.get_data(as_text=True)  # 2026 from the fixture
    assert supervisor.get(NEW).status_code in (302, 403)
    token = csrf_token_from(page.get_data(as_text=True))
    supervisor.post(NEW, data={"csrf_token": token, "day": "2027-01-01", "kind": "holiday", "name": "元旦",
                               "notice": NOTICE})
    assert db.session.scalar(select(OfficialDay).where(OfficialDay.day == date(2027, 1, 1))) is None
    reviewer = client_for(make.staff("reviewer", "朝阳区"))
    assert reviewer.get(LIST).status_code == 403


def test_english_labels_for_an_english_user(make, client_for):
    admin = make.staff("administrator")
    admin.locale = "en"
    db.session.commit()
    html = client_for(admin).get(LIST).get_data(as_text=True)
    assert "Make-up working day" in html and "Holiday calendar" in html and "Years entered" in html


def test_seeding_from_the_package_adds_only_uncovered_years_and_is_idempotent(app):
    from backoffice.calendar.services import load_calendar, seed_from_package

    with app.test_request_context():
        before = db.session.execute(select(OfficialDay.day, OfficialDay.kind, OfficialDay.notice)
                                    .where(OfficialDay.day.between(date(2019, 1, 1), date(2026, 12, 31)))).all()
        first = seed_from_package()
        # The years the table covered (the fixture's 2019–2026) are untouched; earlier ones are added.
        assert 2018 in first.years and not set(first.years) & set(range(2019, 2027))
        after = db.session.execute(select(OfficialDay.day, OfficialDay.kind, OfficialDay.notice)
                                   .where(OfficialDay.day.between(date(2019, 1, 1), date(2026, 12, 31)))).all()
        assert sorted(after) == sorted(before)
        assert not load_calendar().is_working_day(date(2018, 2, 16))  # 2018 Spring Festival, from the package
        second = seed_from_package()
        assert second.years == [] and second.days == 0
        # The dashboard's ordinals were rebuilt from 2004 on and agree with the clock's arithmetic.
        _assert_ordinals_agree(load_calendar(), date(2004, 1, 1), date(2027, 12, 31))


def _assert_ordinals_agree(calendar, first: date, last: date) -> None:
    import random
    from datetime import timedelta

    ordinal = dict(db.session.execute(select(WorkingDayOrdinal.day, WorkingDayOrdinal.ordinal)
                                      .where(WorkingDayOrdinal.day.between(first, last))).all())
    rng = random.Random(3)
    for _ in range(300):
        a = first + timedelta(days=rng.randrange((last - first).days))
        b = min(last, a + timedelta(days=rng.randrange(1, 800)))
        assert ordinal[b] - ordinal[a] == calendar.working_days_between(a, b), (a, b)

