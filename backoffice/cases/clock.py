"""Working-day arithmetic on China's official calendar (weekends, holidays, 调休).

Pure: no Flask or SQLAlchemy. Conventions used everywhere a clock is shown or stored:

* a case's clock counts the working days *after* an event: the day a case is received
  (or resumes after the applicant resubmitted) is not counted, the day it is paused is;
* `working_days_between(a, b)` = working days in (a, b], negative when b < a;
* past the calendar package's data (chinese-calendar 1.11 knows 2004–2026) only weekends
  count as days off until the package is updated — never an exception.
"""
from __future__ import annotations

from bisect import bisect_right
from datetime import date, timedelta
from functools import lru_cache

import chinese_calendar

from verifiers.turnaround import due_working_days


def is_working_day(day: date) -> bool:
    """Official working day; past the calendar package's data, weekdays only."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        # chinese-calendar knows 2004–2026 only: count weekends only until it is updated.
        return day.weekday() < 5


@lru_cache(maxsize=1)
def calendar_last_year() -> int:
    """The last year the installed chinese-calendar has holiday data for (2026 for 1.11)."""
    from chinese_calendar import constants

    return max(day.year for day in constants.holidays)


def calendar_warning(*days: date) -> str | None:
    """The dashboard's warning when any of `days` lies past the holiday data, else None."""
    last = calendar_last_year()
    if not any(d.year > last for d in days if d is not None):
        return None
    return f"节假日数据仅至{last}年，{last + 1}年起按周末计算，请更新chinese-calendar"


def add_working_days(start: date, days: int) -> date:
    """The date `days` working days after `start` (the receipt day itself not counted)."""
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if is_working_day(current):
            remaining -= 1
    return current


def subtract_working_days(start: date, days: int) -> date:
    """The date `days` working days before `start`."""
    current = start
    remaining = days
    while remaining > 0:
        current -= timedelta(days=1)
        if is_working_day(current):
            remaining -= 1
    return current


# Counting over a range: a sorted list of working days per year, built once per year.
@lru_cache(maxsize=64)
def _working_days_of_year(year: int) -> tuple[int, ...]:
    day, out = date(year, 1, 1), []
    while day.year == year:
        if is_working_day(day):
            out.append(day.toordinal())
        day += timedelta(days=1)
    return tuple(out)


def _working_days_through(day: date) -> int:
    """Working days from 1 January of `day`'s year through `day`, inclusive."""
    return bisect_right(_working_days_of_year(day.year), day.toordinal())


@lru_cache(maxsize=256)
def _working_days_in_years(first: int, last: int) -> int:
    return sum(len(_working_days_of_year(y)) for y in range(first, last + 1))


def working_days_between(start: date, end: date) -> int:
    """Working days in (start, end]; negative (-(working days in (end, start])) when end < start."""
    if end < start:
        return -working_days_between(end, start)
    if start.year == end.year:
        return _working_days_through(end) - _working_days_through(start)
    # The rest of start's year, the whole years between, and end's year through end.
    rest_of_start = len(_working_days_of_year(start.year)) - _working_days_through(start)
    middle = _working_days_in_years(start.year + 1, end.year - 1) if end.year - start.year > 1 else 0
    return rest_of_start + middle + _working_days_through(end)


def due_date_for(queue: str, received_on: date) -> date:
    """A new case's due date: the queue's working days after receipt (verifiers/turnaround.py)."""
    return add_working_days(received_on, due_working_days(queue))


def resumed_due_date(due_date: date, paused_on: date, resumed_on: date) -> date:
    """The due date after a pause: moved on by the working days the clock stood still,
    those in (paused_on, resumed_on], so the days used before the pause are kept."""
    if resumed_on < paused_on:
        raise ValueError(f"resumed {resumed_on} before it was paused ({paused_on})")
    return add_working_days(due_date, working_days_between(paused_on, resumed_on))


def working_days_used(queue: str, due_date: date, as_of: date) -> int:
    """Working days a case has used by `as_of` (ageing), derived from its due date: the due
    date already carries every pause, so used = allowance - working days still left."""
    return due_working_days(queue) - working_days_between(as_of, due_date)
