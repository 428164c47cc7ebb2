"""Working-day arithmetic on the official calendar: the 2021 National Day holiday, pauses,
per-queue turnaround, and the fallback past the calendar package's data."""
from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from backoffice.cases.clock import (
    add_working_days,
    calendar_last_year,
    calendar_warning,
    due_date_for,
    is_working_day,
    resumed_due_date,
    working_days_between,
    working_days_used,
)
from verifiers import turnaround

pytestmark = pytest.mark.no_db


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


def test_past_the_calendar_data_weekends_only_and_a_warning_never_an_error():
    assert calendar_last_year() == 2026  # chinese-calendar 1.11; update the message when this moves
    # 1 January 2027 is a Friday: without holiday data it counts as a working day.
    assert is_working_day(date(2027, 1, 1))
    assert not is_working_day(date(2027, 1, 2))
    assert add_working_days(date(2026, 12, 28), 10) == date(2027, 1, 11)
    assert working_days_between(date(2026, 12, 31), date(2027, 1, 11)) == 7
    assert resumed_due_date(date(2027, 1, 11), date(2027, 1, 4), date(2027, 1, 8)) == date(2027, 1, 15)
    assert calendar_warning(date(2026, 12, 31)) is None
    assert calendar_warning(date(2026, 12, 31), date(2027, 1, 4)) == (
        "节假日数据仅至2026年，2027年起按周末计算，请更新chinese-calendar"
    )
