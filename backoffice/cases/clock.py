"""Working-day arithmetic on China's official calendar (weekends, holidays, 调休)."""
from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar


def is_working_day(day: date) -> bool:
    """Official working day; past the calendar package's data, weekdays only."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        # chinese-calendar knows 2004–2026 only: count weekends only until it is updated.
        return day.weekday() < 5


def calendar_covers(day: date) -> bool:
    try:
        chinese_calendar.is_workday(day)
        return True
    except NotImplementedError:
        return False


def add_working_days(start: date, days: int) -> date:
    """The date `days` working days after `start` (the receipt day itself not counted)."""
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if is_working_day(current):
            remaining -= 1
    return current
