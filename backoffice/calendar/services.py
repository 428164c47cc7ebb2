"""The official calendar: loading it for the clock, seeding it, and what follows a change.

* `current_calendar` is the clock's provider (installed by the app): the table is read at
  most once per request or job (kept on `g`), and only when it changed since the process
  last read it (a stamp of row count, highest id and last update), so the clock itself
  is in-memory arithmetic — the synthetic year's 120 000 due dates cost one small query.
  Page reads (GET) trust the stamp for `FRESHNESS_SECONDS` after it was last compared.
* `seed_from_package` fills the years the table does not cover yet from the
  `chinese-calendar` package; it never touches a year that has entries, so what the
  administrator entered or corrected stays, and running it again changes nothing.
* `apply_change` runs after any change to the table, in the same transaction: it keeps the
  working-day ordinals in step, moves the due dates of open cases the change affects, and
  records what moved in the audit log.

Services flush, never commit.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask import current_app, g, has_app_context, has_request_context, request
from sqlalchemy import bindparam, delete, func, insert, select, update

from backoffice.audit.services import record
from backoffice.calendar.models import ORDINAL_FIRST, ORDINAL_LAST, OfficialDay, WorkingDayOrdinal
from backoffice.cases import clock
from backoffice.cases.clock import Calendar
from backoffice.cases.models import CaseStatus, ReviewCase
from backoffice.extensions import db
from backoffice.i18n import _

# The yearly notice's number where it is known; otherwise its title names it.
NOTICE_NUMBERS = {
    2024: "国办发明电〔2023〕7号",
    2025: "国办发明电〔2024〕12号",
    2026: "国办发明电〔2025〕7号",
}

# chinese-calendar names holidays in English.
HOLIDAY_NAMES_ZH = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "Mid-autumn Festival": "中秋节",
    "National Day": "国庆节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}


def notice_for(year: int) -> str:
    return NOTICE_NUMBERS.get(year) or f"国务院办公厅关于{year}年部分节假日安排的通知"


# Loading --------------------------------------------------------------------------------
def load_calendar() -> Calendar:
    with db.session.no_autoflush:
        return Calendar(db.session.execute(select(OfficialDay.day, OfficialDay.kind)).all())


def _stamp() -> tuple:
    with db.session.no_autoflush:
        row = db.session.execute(select(func.count(), func.max(OfficialDay.id),
                                        func.max(OfficialDay.updated_at))).one()
    # The database too: one process may serve several apps (tests, a CLI beside a worker).
    return (db.engine.url.render_as_string(hide_password=True), *row)


# (stamp, calendar, engine, when the stamp was last compared: time.monotonic())
_process_cache: tuple[tuple, Calendar, object, float] | None = None
# A page read (GET) trusts the process's calendar this long after the last comparison of the
# stamp instead of querying it on every request (a 4th statement on every page): a holiday
# entered in another process shows on pages after at most this delay; a form sent (POST) and
# jobs always compare, and a change made in this process is compared on the next request.
FRESHNESS_SECONDS = 5.0


def _trusted(cached) -> bool:
    if not has_request_context() or request.method not in ("GET", "HEAD"):
        return False
    ttl = current_app.config.get("CALENDAR_FRESHNESS_SECONDS", 0 if current_app.testing else FRESHNESS_SECONDS)
    return bool(ttl) and cached[2] is db.engine and time.monotonic() - cached[3] < ttl


def current_calendar() -> Calendar:
    """The calendar of this request or job: read on first use, reused until the table changes."""
    global _process_cache
    try:
        return g._official_calendar  # the common case: one attribute read
    except AttributeError:
        pass
    except RuntimeError:  # no app context
        return clock.EMPTY
    cached = _process_cache
    if cached is not None and _trusted(cached):
        found = cached[1]
    else:
        stamp = _stamp()
        if cached is not None and cached[0] == stamp:
            found = cached[1]
        else:
            found = load_calendar()
        _process_cache = (stamp, found, db.engine, time.monotonic())
    g._official_calendar = found
    return found


def forget_current() -> None:
    """After a change in this request or job: the next clock call reads the table again, and the
    next page of this process compares the stamp."""
    global _process_cache
    cached = _process_cache
    if cached is not None:
        _process_cache = (*cached[:3], float("-inf"))
    if has_app_context():
        g.pop("_official_calendar", None)


def install(app) -> None:
    clock.set_provider(current_calendar)


# Coverage -------------------------------------------------------------------------------
@dataclass(frozen=True)
class YearCoverage:
    year: int
    holidays: int
    workdays: int
    notices: tuple[str, ...]


def coverage() -> list[YearCoverage]:
    """Which years have entries, with their counts and notices (the administrator's overview)."""
    rows = db.session.execute(select(OfficialDay.day, OfficialDay.kind, OfficialDay.notice)).all()
    years: dict[int, list] = {}
    for day, kind, notice in rows:
        entry = years.setdefault(day.year, [0, 0, set()])
        entry[0 if kind == clock.HOLIDAY else 1] += 1
        entry[2].add(notice)
    return [YearCoverage(y, h, w, tuple(sorted(n))) for y, (h, w, n) in sorted(years.items())]


# Seeding ---------------------------------------------------------------------------------
def package_days(from_year: int | None = None) -> list[tuple[date, str, str, str]]:
    """(day, kind, name, notice) for every date the chinese-calendar package knows."""
    from chinese_calendar import constants

    out = []
    for source, kind in ((constants.holidays, clock.HOLIDAY), (constants.workdays, clock.WORKDAY)):
        for day, name in source.items():
            if from_year is None or day.year >= from_year:
                out.append((day, kind, HOLIDAY_NAMES_ZH.get(name, name), notice_for(day.year)))
    return sorted(out)


@dataclass
class SeedResult:
    years: list[int] = field(default_factory=list)
    days: int = 0
    cases_moved: int = 0

    def describe(self) -> str:
        if not self.years:
            return _("节假日安排：无需补充（各年度已有数据）")
        span = f"{self.years[0]}–{self.years[-1]}" if len(self.years) > 1 else str(self.years[0])
        return (_("节假日安排：补充%(len_self_years)s个年度（%(span)s）%(days)s天，调整在办案件期限%(cases_moved)s件",
                  len_self_years=len(self.years),
                  span=span,
                  days=self.days,
                  cases_moved=self.cases_moved))


def add_days(rows, *, actor=None, actor_label: str = "system", only_new_years: bool = True) -> SeedResult:
    """Insert (day, kind, name, notice) rows, skipping every year the table already covers
    (when `only_new_years`), then apply the change. Idempotent."""
    before = load_calendar()
    result = SeedResult()
    fresh = [r for r in rows if not (only_new_years and before.covers(r[0].year))]
    if fresh:
        db.session.execute(insert(OfficialDay), [
            {"day": day, "kind": kind, "name": name, "notice": notice,
             "updated_by_id": actor.id if actor is not None else None}
            for day, kind, name, notice in fresh
        ])
        result.years = sorted({r[0].year for r in fresh})
        result.days = len(fresh)
        record("calendar.seeded", "official_calendar", None, actor=actor, actor_label=actor_label,
               after={"years": result.years, "days": result.days})
    result.cases_moved = apply_change(before, actor=actor, actor_label=actor_label)
    return result


def seed_from_package(from_year: int | None = None, *, actor=None, actor_label: str = "system") -> SeedResult:
    """Fill the years the table does not cover from the installed chinese-calendar package."""
    return add_days(package_days(from_year), actor=actor, actor_label=actor_label)


# After a change ------------------------------------------------------------------------------
def apply_change(before: Calendar, *, actor=None, actor_label: str | None = None) -> int:
    """The table changed (flushed): bring the ordinals in step, move the due dates of the open
    cases whose working days changed, and read the calendar afresh. Returns cases moved."""
    db.session.flush()
    after = load_calendar()
    forget_current()
    changed = before.changed_days(after)
    sync_ordinals(after, changed)
    if not changed:
        return 0
    return reschedule_open_cases(before, after, min(changed), actor=actor, actor_label=actor_label)


def _ordinal_rows(calendar: Calendar, first: date, base: int) -> list[dict]:
    rows, n, day = [], base, first
    while day <= ORDINAL_LAST:
        if calendar.is_working_day(day):
            n += 1
        rows.append({"day": day, "ordinal": n})
        day += timedelta(days=1)
    return rows


def rebuild_ordinals(calendar: Calendar, first: date = ORDINAL_FIRST) -> None:
    """Recompute the ordinals from `first` on (the ones before it are unchanged)."""
    first = max(first, ORDINAL_FIRST)
    base = 0
    if first > ORDINAL_FIRST:
        base = db.session.scalar(select(WorkingDayOrdinal.ordinal)
                                 .where(WorkingDayOrdinal.day == first - timedelta(days=1)))
        if base is None:  # not built yet
            first, base = ORDINAL_FIRST, 0
    db.session.execute(delete(WorkingDayOrdinal).where(WorkingDayOrdinal.day >= first))
    rows = _ordinal_rows(calendar, first, base)
    for i in range(0, len(rows), 5000):
        db.session.execute(insert(WorkingDayOrdinal), rows[i:i + 5000])


def sync_ordinals(calendar: Calendar, changed: set[date]) -> None:
    """Keep working_day_ordinals equal to `calendar`: a day turning into a working day adds
    one to the ordinal of every date from it on (one UPDATE); many changes, or an empty
    table, rebuild from the first changed day."""
    if db.session.scalar(select(func.count()).select_from(WorkingDayOrdinal)) != (ORDINAL_LAST - ORDINAL_FIRST).days + 1:
        rebuild_ordinals(calendar)
        return
    changed = {d for d in changed if ORDINAL_FIRST <= d <= ORDINAL_LAST}
    if len(changed) > 3:
        rebuild_ordinals(calendar, min(changed))
        return
    for day in sorted(changed):
        delta = 1 if calendar.is_working_day(day) else -1
        db.session.execute(update(WorkingDayOrdinal).where(WorkingDayOrdinal.day >= day)
                           .values(ordinal=WorkingDayOrdinal.ordinal + delta))


def reschedule_open_cases(before: Calendar, after: Calendar, first_changed: date, *, actor=None,
                          actor_label: str | None = None) -> int:
    """Open cases due on or after the first changed day keep the working days they had left
    and get them on the new calendar: counted from the day before the change (or from
    receipt, when that is later), which both calendars agree on. A case waiting for the
    applicant keeps its clock stopped; its due date moves the same way."""
    rows = db.session.execute(
        select(ReviewCase.id, ReviewCase.number, ReviewCase.received_on, ReviewCase.due_date, ReviewCase.district_id)
        .where(ReviewCase.status != CaseStatus.closed, ReviewCase.due_date >= first_changed)
    ).all()
    eve = first_changed - timedelta(days=1)
    moves = []
    for case_id, number, received, due, district_id in rows:
        anchor = max(eve, received)
        left = before.working_days_between(anchor, due)
        new_due = after.add_working_days(anchor, left) if left > 0 else due
        if new_due != due:
            moves.append((case_id, number, due, new_due, district_id))
    if not moves:
        return 0
    table = ReviewCase.__table__
    db.session.execute(
        update(table).where(table.c.id == bindparam("case_id"))
        .values(due_date=bindparam("new_due"), version=table.c.version + 1),
        [{"case_id": m[0], "new_due": m[3]} for m in moves],
    )
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, ReviewCase):
            db.session.expire(obj)
    record("calendar.cases_rescheduled", "official_calendar", None, actor=actor, actor_label=actor_label,
           after={"cases": [[number, old, new] for _cid, number, old, new, _d in moves]})
    return len(moves)
