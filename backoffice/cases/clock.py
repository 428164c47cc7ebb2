"""Working-day arithmetic on China's official calendar (weekends, holidays, 调休).

Pure: no Flask or SQLAlchemy. The official arrangement is data (the `official_calendar`
table, backoffice/calendar): the application loads it into a `Calendar` once per request
or job and installs a provider here (`set_provider`); tests may use `using(calendar)`.
Conventions used everywhere a clock is shown or stored:

* a case's clock counts the working days *after* an event: the day a case is received
  (or resumes after the applicant resubmitted) is not counted, the day it is paused is;
* `working_days_between(a, b)` = working days in (a, b], negative when b < a;
* a year with no entries in the table counts weekends only (the dashboard warns about
  it) — never an exception.
"""
from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, timedelta

from verifiers.turnaround import due_working_days

HOLIDAY = "holiday"  # 放假 (a day off, including the weekend days inside a holiday)
WORKDAY = "workday"  # 调休上班 (a weekend day worked to make up for a holiday)


class Calendar:
    """The official arrangement, in memory: days off and make-up working days by date.
    Immutable once built; derived tables (working days per year, additions) are memoised."""

    def __init__(self, days: Mapping[date, str] | Iterable[tuple[date, str]] = ()):
        items = days.items() if isinstance(days, Mapping) else days
        holidays, workdays = set(), set()
        for day, kind in items:
            (workdays if kind == WORKDAY else holidays).add(day)
        self.holidays = frozenset(holidays)
        self.workdays = frozenset(workdays)
        self.years = frozenset(d.year for d in self.holidays | self.workdays)
        self._year_days: dict[int, tuple[int, ...]] = {}
        self._added: dict[tuple[date, int], date] = {}

    def __eq__(self, other) -> bool:
        return isinstance(other, Calendar) and (self.holidays, self.workdays) == (other.holidays, other.workdays)

    def __hash__(self) -> int:
        return hash((self.holidays, self.workdays))

    def kind_of(self, day: date) -> str | None:
        return WORKDAY if day in self.workdays else HOLIDAY if day in self.holidays else None

    def covers(self, year: int) -> bool:
        """Whether the year's arrangement has been entered (any holiday or make-up day)."""
        return year in self.years

    def is_working_day(self, day: date) -> bool:
        if day in self.workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def changed_days(self, other: "Calendar") -> set[date]:
        """Days whose working status differs between the two calendars."""
        candidates = (self.holidays ^ other.holidays) | (self.workdays ^ other.workdays)
        return {d for d in candidates if self.is_working_day(d) != other.is_working_day(d)}

    # Counting ------------------------------------------------------------------------------
    def working_days_of_year(self, year: int) -> tuple[int, ...]:
        """The year's working days as sorted ordinals, built once per year."""
        found = self._year_days.get(year)
        if found is None:
            day, out = date(year, 1, 1), []
            while day.year == year:
                if self.is_working_day(day):
                    out.append(day.toordinal())
                day += timedelta(days=1)
            found = self._year_days[year] = tuple(out)
        return found

    def _through(self, day: date) -> int:
        """Working days from 1 January of `day`'s year through `day`, inclusive."""
        return bisect_right(self.working_days_of_year(day.year), day.toordinal())

    def working_days_between(self, start: date, end: date) -> int:
        if end < start:
            return -self.working_days_between(end, start)
        if start.year == end.year:
            return self._through(end) - self._through(start)
        rest_of_start = len(self.working_days_of_year(start.year)) - self._through(start)
        middle = sum(len(self.working_days_of_year(y)) for y in range(start.year + 1, end.year))
        return rest_of_start + middle + self._through(end)

    def add_working_days(self, start: date, days: int) -> date:
        key = (start, days)
        found = self._added.get(key)
        if found is None:
            current, remaining = start, days
            while remaining > 0:
                current += timedelta(days=1)
                if self.is_working_day(current):
                    remaining -= 1
            found = self._added[key] = current
        return found


EMPTY = Calendar()

_override: ContextVar[Calendar | None] = ContextVar("calendar_override", default=None)
_provider: Callable[[], Calendar] | None = None


def set_provider(provider: Callable[[], Calendar] | None) -> None:
    """Install where the current calendar comes from (the app: the table, once per request/job)."""
    global _provider
    _provider = provider


@contextmanager
def using(calendar: Calendar):
    """Compute with this calendar (tests; a service comparing before and after a change)."""
    token = _override.set(calendar)
    try:
        yield calendar
    finally:
        _override.reset(token)


def current() -> Calendar:
    found = _override.get()
    if found is not None:
        return found
    if _provider is not None:
        return _provider()
    return EMPTY


def is_working_day(day: date) -> bool:
    """Official working day; in a year with no entries, weekdays only."""
    return current().is_working_day(day)


def add_working_days(start: date, days: int) -> date:
    """The date `days` working days after `start` (the receipt day itself not counted)."""
    return current().add_working_days(start, days)


def subtract_working_days(start: date, days: int) -> date:
    """The date `days` working days before `start`."""
    calendar, day, remaining = current(), start, days
    while remaining > 0:
        day -= timedelta(days=1)
        if calendar.is_working_day(day):
            remaining -= 1
    return day


def working_days_between(start: date, end: date) -> int:
    """Working days in (start, end]; negative (-(working days in (end, start])) when end < start."""
    return current().working_days_between(start, end)


def uncovered_years(*days: date | None) -> list[int]:
    """The years of `days` with no entries in the official calendar (counted weekends only)."""
    calendar = current()
    return sorted({d.year for d in days if d is not None and not calendar.covers(d.year)})


def calendar_warning(*days: date | None) -> str | None:
    """The dashboard's warning when any of `days` lies in a year with no entries, else None."""
    years = uncovered_years(*days)
    if not years:
        return None
    listed = "、".join(f"{y}年" for y in years)
    return (f"节假日安排未录入：{listed}尚无放假和调休上班数据，期限按周末计算；"
            "请系统管理员在“节假日安排”中录入国务院办公厅发布的通知")


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
