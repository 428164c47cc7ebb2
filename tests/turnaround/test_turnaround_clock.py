"""Working-day arithmetic on the official calendar: the 2021 National Day holiday, pauses,
per-queue turnaround, and a year with no entries (weekends only, and a warning).

Pure: the clock computes with the suite's own fixture calendar (tests/fixtures, 2019–2026),
never with whatever years the installed chinese-calendar package knows."""
from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from backoffice.cases import clock
from backoffice.cases.clock import (
    Calendar,
    add_working_days,
    calendar_warning,
    due_date_for,
    is_working_day,
    resumed_due_date,
    working_days_between,
    working_days_used,
)
from support import fixture_calendar_rows
from verifiers import turnaround

pytestmark = pytest.mark.no_db

FIXTURE = Calendar((day, kind) for day, kind, _name, _notice in fixture_calendar_rows())


@pytest.fixture(autouse=True)
def fixture_calendar():
    with clock.using(FIXTURE):
        yield FIXTURE


def test_received_before_national_day_is_due_on_18_october():
    # 2021: 1–7 October off; Sunday 26 September and Saturday 9 October are make-up working days.
    assert add_working_days(date(2021, 9, 28), 10) == date(2021, 10, 18)
    counted = [d for d in (date(2021, 9, 28) + timedelta(days=i) for i in range(1, 21)) if is_working_day(d)]
    assert counted[:10] == [
        date(2021, 9, 29), date(2021, 9, 30), date(2021, 10, 8), date(2021, 10, 9),
        date(2021, 10, 11), date(2021, 10, 12), date(2021, 10, 13), date(2021, 10, 14),
        date(2021, 10, 15), date(2021, 10, 18),
    ]
    assert is_working_day(date(2021, 10, 9))  # the make-up Saturday counts
    assert not any(is_working_day(date(2021, 10, d)) for d in range(1, 8))
    assert not is_working_day(date(2021, 10, 10))  # an ordinary Sunday


def test_counting_between_dates_agrees_with_adding():
    assert working_days_between(date(2021, 9, 28), date(2021, 10, 18)) == 10
    assert working_days_between(date(2021, 10, 18), date(2021, 9, 28)) == -10
    assert working_days_between(date(2021, 10, 1), date(2021, 10, 7)) == 0
    # Through the holiday a single calendar day later: Friday 8 October is one working day.
    assert working_days_between(date(2021, 10, 7), date(2021, 10, 8)) == 1


def test_working_days_between_matches_day_by_day_count_across_years():
    # Includes years past the calendar's data (weekends only), so the fast count
    # by year tables is checked against the plain definition everywhere.
    rng = random.Random(7)
    for _ in range(300):
        a = date(2019, 1, 1) + timedelta(days=rng.randrange(0, 365 * 10))
        b = a + timedelta(days=rng.randrange(-400, 400))
        lo, hi = sorted((a, b))
        expected = sum(is_working_day(lo + timedelta(days=i)) for i in range(1, (hi - lo).days + 1))
        assert working_days_between(lo, hi) == expected, (lo, hi)
        assert working_days_between(hi, lo) == -expected
        if b > a:
            n = working_days_between(a, b)
            if n and is_working_day(b):
                assert add_working_days(a, n) == b


def test_due_date_follows_the_queue_turnaround(monkeypatch):
    assert due_date_for("housing", date(2021, 9, 28)) == date(2021, 10, 18)
    monkeypatch.setitem(turnaround.DUE_WORKING_DAYS, "appeals", 15)
    assert due_date_for("appeals", date(2021, 9, 28)) == date(2021, 10, 25)
    assert due_date_for("housing", date(2021, 9, 28)) == date(2021, 10, 18)


def test_pause_keeps_the_days_used_and_moves_the_due_date_by_the_paused_working_days():
    received = date(2021, 9, 24)
    due = add_working_days(received, 10)
    assert due == date(2021, 10, 13)
    # Returned for materials on Tuesday 12 October: 9 working days used, 1 left.
    assert working_days_between(received, date(2021, 10, 12)) == 9
    # Materials back on Friday 15 October: the clock stood still on the 13th, 14th and 15th.
    resumed = resumed_due_date(due, date(2021, 10, 12), date(2021, 10, 15))
    assert resumed == date(2021, 10, 18) == add_working_days(date(2021, 10, 15), 1)
    # Ageing after the resume: as many days used as before the pause, plus the days since.
    assert working_days_used("housing", resumed, date(2021, 10, 15)) == 9
    assert working_days_used("housing", resumed, date(2021, 10, 18)) == 10
    # Paused over the whole National Day holiday: no working day lost.
    assert resumed_due_date(date(2021, 10, 11), date(2021, 9, 30), date(2021, 10, 7)) == date(2021, 10, 11)
    with pytest.raises(ValueError):
        resumed_due_date(due, date(2021, 10, 12), date(2021, 10, 11))


def test_a_year_without_entries_counts_weekends_only_and_is_warned_about_never_an_error():
    assert not FIXTURE.covers(2027) and FIXTURE.covers(2026)
    # 1 January 2027 is a Friday: without the year's arrangement it counts as a working day.
    assert is_working_day(date(2027, 1, 1))
    assert not is_working_day(date(2027, 1, 2))
    assert add_working_days(date(2026, 12, 28), 10) == date(2027, 1, 11)
    assert working_days_between(date(2026, 12, 31), date(2027, 1, 11)) == 7
    assert resumed_due_date(date(2027, 1, 11), date(2027, 1, 4), date(2027, 1, 8)) == date(2027, 1, 15)
    assert calendar_warning(date(2026, 12, 31)) is None
    warning = calendar_warning(date(2026, 12, 31), date(2027, 1, 4), None)
    assert warning.startswith("节假日安排未录入：2027年尚无放假和调休上班数据，期限按周末计算")


def test_an_entered_arrangement_changes_the_count():
    # 2027 as an administrator might enter it: 1 January off, the Spring Festival 6–12
    # February off with Sunday 14 February worked (an arrangement made up for the test).
    days = [(date(2027, 1, 1), clock.HOLIDAY),
            *((date(2027, 2, d), clock.HOLIDAY) for d in range(6, 13)),
            (date(2027, 2, 14), clock.WORKDAY)]
    entered = Calendar([*((d, k) for d, k, _n, _no in fixture_calendar_rows()), *days])
    with clock.using(entered):
        assert calendar_warning(date(2027, 1, 4)) is None
        assert not is_working_day(date(2027, 1, 1)) and is_working_day(date(2027, 2, 14))
        # Received Friday 29 January: 10 working days are 1–5, 14 (the make-up Sunday), 15–18 February.
        assert add_working_days(date(2027, 1, 29), 10) == date(2027, 2, 18)
    assert add_working_days(date(2027, 1, 29), 10) == date(2027, 2, 12)  # weekends only
    assert FIXTURE.changed_days(entered) == {date(2027, 1, 1), date(2027, 2, 8), date(2027, 2, 9),
                                             date(2027, 2, 10), date(2027, 2, 11), date(2027, 2, 12),
                                             date(2027, 2, 14)}
