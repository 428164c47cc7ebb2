"""The dashboard's figures: every table is aggregated in SQL (GROUP BY over the scope's
cases, decisions and backlog rows); Python only maps the few grouped rows to working days
and buckets. Each table is plain data (columns, rows, an optional chart) so the page,
the CSV and the XLSX export are the same rows.

Definitions (the page says them in words too):

* open: not closed; overdue and due soon as everywhere else (backoffice/cases/due.py):
  overdue = open, not waiting for the applicant, due date before today; due soon = not
  overdue, not waiting, due within 2 working days (verifiers/turnaround.py);
* decided on time (the headline): a closed case of the year whose closing day (Beijing)
  is on or before its due date. The due date already carries every pause, so this is
  "decided within the queue's working days (10) after receipt, pauses excluded";
* working days open (ageing): days used by today (or by the day it was paused, for a case
  waiting for the applicant), from the due date: allowance - working days still left;
* reviewers: decisions written in the last 8 weeks (Monday-based weeks, Beijing), and the
  median working days from receipt to the decision, pauses excluded, over decisions other
  than "returned for materials" (a return is not a decision on the contest). Derived from
  the case's current due date, so a decision sent back by the countersigning supervisor and
  followed by a return for materials counts that later pause too (rare; not corrected).
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, case as sql_case, exists, func, literal_column, or_, select
from sqlalchemy.orm import aliased

from backoffice.applications.models import Applicant, Application
from backoffice.calendar.models import WorkingDayOrdinal
from backoffice.cases import due
from backoffice.cases.clock import subtract_working_days, working_days_between
from backoffice.cases.models import CASE_STATUS_LABELS, CaseStatus, Decision, Outcome, ReviewCase
from backoffice.extensions import db
from backoffice.i18n import _, is_english, pgettext
from backoffice.reference.models import District
from backoffice.staff.models import Role, Staff
from backoffice.turnaround.models import DailyBacklog, Escalation
from backoffice.turnaround.sql import beijing_date, beijing_day_end, beijing_day_start
from verifiers.identifiers import mask_resident_id
from verifiers.turnaround import DEFAULT_DUE_WORKING_DAYS, DUE_SOON_WORKING_DAYS, DUE_WORKING_DAYS, due_working_days

AGEING_BUCKETS: tuple[tuple[int, int | None], ...] = ((0, 2), (3, 5), (6, 8), (9, 10), (11, 15), (16, 20), (21, None))
BACKLOG_DAYS = 30
REVIEWER_WEEKS = 8
LIST_LIMIT = 100  # rows of each case list on the page; its export has them all


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "int"  # int | pct | text | date | num


@dataclass
class Table:
    key: str
    title: str
    columns: list[Column]
    rows: list[list[Any]]
    chart: dict | None = None
    note: str = ""
    total_rows: int | None = None  # lists: rows matching before LIST_LIMIT
    case_ids: list[int] = field(default_factory=list)  # lists: the case of each row (reassignment)
    case_versions: list[int] = field(default_factory=list)  # and the version it was shown at

    @property
    def cells(self) -> list[list[str]]:
        """Every row as the page shows it, which is also what the CSV export writes."""
        kinds = [c.kind for c in self.columns]
        return [[display(v, k) for v, k in zip(row, kinds)] for row in self.rows]

    @property
    def numeric(self) -> list[bool]:
        return [c.kind in ("int", "pct", "num") for c in self.columns]


def display(value, kind: str) -> str:
    """A cell as the page shows it; the CSV export writes exactly this."""
    if value is None:
        return "—"
    if kind == "pct":
        return f"{value * 100:.1f}%"
    if kind == "num":
        return f"{value:.1f}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def bucket_label(low: int, high: int | None) -> str:
    return f"{low}–{high}" if high is not None else f"≥{low}"


def _bucket(days: int) -> int:
    for i, (low, high) in enumerate(AGEING_BUCKETS):
        if high is None or days <= high:
            return i
    return len(AGEING_BUCKETS) - 1


def _share(on_time: int, decided: int) -> float | None:
    return on_time / decided if decided else None


@dataclass(frozen=True)
class Scope:
    """Whose figures: one district (None = every district, city level), the year of the
    headline, "today", and the queues shown (labelled in the user's language)."""

    district_id: int | None
    year: int | None
    today: date
    queues: tuple  # of verifiers.routing.Queue

    @property
    def queue_codes(self) -> tuple[str, ...]:
        return tuple(q.code for q in self.queues)

    def queue_label(self, code: str) -> str:
        for q in self.queues:
            if q.code == code:
                return (q.label_en if is_english() else q.label_zh)
        return code

    def cases(self, *clauses):
        """Clauses limiting review_cases to the scope."""
        out = [ReviewCase.queue.in_(self.queue_codes), *clauses]
        if self.district_id is not None:
            out.append(ReviewCase.district_id == self.district_id)
        return and_(*out)


def _open():
    return ReviewCase.status != CaseStatus.closed


def _run(stmt):
    """Aggregates go through the Core connection: the rows are plain tuples, and the ORM's
    per-row result processing would cost more than the query on a big group-by."""
    return db.session.connection().execute(stmt)


@dataclass
class OpenCounts:
    """The scope's open cases, counted once (one GROUP BY by queue, due date, waiting, paused
    since and assigned) for the queue table, the ageing histogram and the lists' totals."""

    per_queue: dict[str, list[int]]  # queue -> [open, overdue, due soon, awaiting, unassigned]
    ageing: dict[str, list[int]]  # queue -> count per AGEING_BUCKETS
    overdue: int
    due_soon: int


def open_counts(scope: Scope) -> OpenCounts:
    today, soon = scope.today, due.due_soon_limit(scope.today)
    waiting = ReviewCase.status == CaseStatus.awaiting_materials
    # Working days used: as of today, or as of the pause for a case waiting for the applicant.
    as_of = func.coalesce(sql_case((waiting, ReviewCase.paused_on), else_=None), today)
    groups = (select(ReviewCase.queue.label("queue"), ReviewCase.due_date.label("due_date"),
                     waiting.label("waiting"), as_of.label("as_of"),
                     ReviewCase.assignee_id.is_(None).label("unassigned"), func.count().label("n"))
              .where(scope.cases(_open()))
              .group_by(ReviewCase.queue, ReviewCase.due_date, waiting, as_of, ReviewCase.assignee_id.is_(None))
              .cte("open_groups"))
    # The working days used are counted by the database against the calendar's ordinals (the table
    # kept in step with the official calendar), so the cost does not grow with the span of
    # due dates the open cases have (issue 18 §3: ten years of history). A date outside the
    # ordinals' range (none in practice) has none here and is counted in Python below.
    cal_due, cal_as_of = aliased(WorkingDayOrdinal, name="cal_due"), aliased(WorkingDayOrdinal, name="cal_as_of")
    allowance = sql_case({code: literal_column(str(int(n))) for code, n in DUE_WORKING_DAYS.items()},
                         value=groups.c.queue, else_=literal_column(str(int(DEFAULT_DUE_WORKING_DAYS))))
    # NULL when either date is missing from the ordinals.
    used = allowance - (cal_due.ordinal - cal_as_of.ordinal)
    overdue = and_(~groups.c.waiting, groups.c.due_date < today)
    due_soon = and_(~groups.c.waiting, groups.c.due_date >= today, groups.c.due_date <= soon)
    no_bucket = used.is_(None)
    stmt = (select(groups.c.queue, groups.c.waiting, overdue, due_soon, groups.c.unassigned, used,
                   sql_case((no_bucket, groups.c.due_date), else_=None),
                   sql_case((no_bucket, groups.c.as_of), else_=None),
                   func.sum(groups.c.n))
            .select_from(groups)
            # Each join reads only the stretch of ordinals the open cases' dates span (an index
            # range), not the century the table holds.
            .outerjoin(cal_due, and_(cal_due.day == groups.c.due_date,
                                     cal_due.day.between(select(func.min(groups.c.due_date)).scalar_subquery(),
                                                         select(func.max(groups.c.due_date)).scalar_subquery())))
            .outerjoin(cal_as_of, and_(cal_as_of.day == groups.c.as_of,
                                       cal_as_of.day.between(select(func.min(groups.c.as_of)).scalar_subquery(),
                                                             select(func.max(groups.c.as_of)).scalar_subquery())))
            .group_by(groups.c.queue, groups.c.waiting, overdue, due_soon, groups.c.unassigned, used,
                      sql_case((no_bucket, groups.c.due_date), else_=None),
                      sql_case((no_bucket, groups.c.as_of), else_=None)))
    per_queue = {code: [0] * 5 for code in scope.queue_codes}
    ageing = {code: [0] * len(AGEING_BUCKETS) for code in scope.queue_codes}
    for code, is_waiting, is_overdue, is_due_soon, is_unassigned, days, due_date, used_as_of, n in _run(stmt):
        n = int(n)
        row = per_queue[code]
        row[0] += n
        if is_waiting:
            row[3] += n
        elif is_overdue:
            row[1] += n
        elif is_due_soon:
            row[2] += n
        if is_unassigned:
            row[4] += n
        if days is None:
            if isinstance(used_as_of, str):  # SQLite hands back the COALESCE of dates as text
                used_as_of = date.fromisoformat(used_as_of)
            if isinstance(due_date, str):
                due_date = date.fromisoformat(due_date)
            days = due_working_days(code) - working_days_between(used_as_of, due_date)
        ageing[code][_bucket(max(int(days), 0))] += n
    return OpenCounts(per_queue, ageing, sum(r[1] for r in per_queue.values()),
                      sum(r[2] for r in per_queue.values()))


def queue_table(scope: Scope, counts: OpenCounts) -> Table:
    found = counts.per_queue
    rows = [[scope.queue_label(code), *found.get(code, [0, 0, 0, 0, 0])] for code in scope.queue_codes]
    totals = [sum(r[i] for r in rows) for i in range(1, 6)]
    rows.append([_("合计"), *totals])
    body = rows[:-1]
    return Table(
        key="queues",
        title=_("各队列在办、超期与即将到期"),
        columns=[
            Column("queue", _("队列"), "text"),
            Column("open", _("在办")),
            Column("overdue", _("已超期")),
            Column("due_soon", _("%(DUE_SOON_WORKING_DAYS)s个工作日内到期",
                                 DUE_SOON_WORKING_DAYS=DUE_SOON_WORKING_DAYS)),
            Column("awaiting", _("待补正材料（停止计时）")),
            Column("unassigned", pgettext("Unassigned", "未领取")),
        ],
        rows=rows,
        chart={
            "type": "bar",
            "labels": [r[0] for r in body],
            "datasets": [
                {"label": _("已超期"), "data": [r[2] for r in body], "color": "#dc3545"},
                {"label": _("即将到期"), "data": [r[3] for r in body], "color": "#ffc107"},
                {"label": _("其他在办"), "data": [r[1] - r[2] - r[3] for r in body],
                 "color": "#6c757d"},
            ],
            "stacked": True,
        },
    )


def _ontime_counts(scope: Scope) -> dict[tuple[str, int], tuple[int, int]]:
    """{(queue, district): (decided, decided on time)} over the scope's closed cases of the year."""
    closed_day = beijing_date(ReviewCase.closed_at)
    stmt = select(
        ReviewCase.queue,
        ReviewCase.district_id,
        func.count(),
        func.sum(sql_case((closed_day <= ReviewCase.due_date, 1), else_=0)),
    ).where(scope.cases(ReviewCase.status == CaseStatus.closed, ReviewCase.year == scope.year)).group_by(
        ReviewCase.queue, ReviewCase.district_id)
    return {(q, d): (int(n), int(ok or 0)) for q, d, n, ok in _run(stmt)}


def _sum_by(counts: dict, index: int) -> dict:
    out: dict = {}
    for key, (n, ok) in counts.items():
        total = out.setdefault(key[index], [0, 0])
        total[0] += n
        total[1] += ok
    return {k: tuple(v) for k, v in out.items()}


def _ontime_columns(first: Column) -> list[Column]:
    return [
        first,
        Column("decided", _("已办结")),
        Column("on_time", _("按期办结")),
        Column("share", _("按期办结率"), "pct"),
    ]


def _share_chart(rows) -> dict:
    return {
        "type": "bar",
        "labels": [r[0] for r in rows],
        "datasets": [{"label": _("按期办结率"),
                      "data": [None if r[3] is None else round(r[3] * 100, 1) for r in rows], "color": "#28a745"}],
        "percent": True,
    }


def ontime_tables(scope: Scope) -> tuple[dict, Table, Table]:
    """The headline (share decided on time) overall, per queue and per district."""
    counts = _ontime_counts(scope)
    by_queue = _sum_by(counts, 0)
    q_rows = []
    for code in scope.queue_codes:
        n, ok = by_queue.get(code, (0, 0))
        q_rows.append([scope.queue_label(code), n, ok, _share(ok, n)])
    by_district = _sum_by(counts, 1)
    districts = db.session.execute(select(District.id, District.name).order_by(District.code)).all()
    if scope.district_id is not None:
        districts = [d for d in districts if d.id == scope.district_id]
    d_rows = []
    for d in districts:
        n, ok = by_district.get(d.id, (0, 0))
        if n or scope.district_id is not None:
            d_rows.append([d.name, n, ok, _share(ok, n)])
    decided = sum(n for n, _ in by_queue.values())
    on_time = sum(ok for _, ok in by_queue.values())
    headline = {"decided": decided, "on_time": on_time, "share": _share(on_time, decided), "year": scope.year}
    days = sorted({due_working_days(c) for c in scope.queue_codes})
    allowance = "/".join(str(d) for d in days)
    note = _("%(year)s年度已办结案件中，在受理后%(allowance)s个工作日内（不含待补正材料期间）办结的比例。", year=scope.year, allowance=allowance)
    queue_t = Table("ontime_queue", _("按期办结率（按队列）"),
                    _ontime_columns(Column("queue", _("队列"), "text")), q_rows,
                    chart=_share_chart(q_rows), note=note)
    district_t = Table("ontime_district", _("按期办结率（按区）"),
                       _ontime_columns(Column("district", _("区"), "text")), d_rows,
                       chart=_share_chart(d_rows), note=note)
    return headline, queue_t, district_t


def ageing_table(scope: Scope, counts: OpenCounts) -> Table:
    """Open cases by working days used (histogram), per queue."""
    counts = counts.ageing
    labels = [bucket_label(lo, hi) for lo, hi in AGEING_BUCKETS]
    rows = [[labels[i], *[counts[c][i] for c in scope.queue_codes], sum(counts[c][i] for c in scope.queue_codes)]
            for i in range(len(AGEING_BUCKETS))]
    palette = ["#007bff", "#17a2b8", "#6f42c1", "#fd7e14", "#20c997", "#e83e8c", "#6c757d"]
    return Table(
        key="ageing",
        title=_("在办案件已用工作日分布"),
        columns=[Column("bucket", _("已用工作日"), "text"),
                 *[Column(c, scope.queue_label(c)) for c in scope.queue_codes],
                 Column("total", _("合计"))],
        rows=rows,
        chart={
            "type": "bar",
            "labels": labels,
            "datasets": [{"label": scope.queue_label(c), "data": [counts[c][i] for i in range(len(AGEING_BUCKETS))],
                          "color": palette[j % len(palette)]} for j, c in enumerate(scope.queue_codes)],
            "stacked": True,
        },
        note=_("待补正材料的案件按暂停当日计算。"),
    )


def backlog_table(scope: Scope) -> Table:
    first = scope.today - timedelta(days=BACKLOG_DAYS - 1)
    stmt = select(
        DailyBacklog.day,
        func.sum(DailyBacklog.open_cases),
        func.sum(DailyBacklog.overdue),
        func.sum(DailyBacklog.due_soon),
        func.sum(DailyBacklog.awaiting_materials),
    ).where(DailyBacklog.day.between(first, scope.today), DailyBacklog.queue.in_(scope.queue_codes))
    if scope.district_id is not None:
        stmt = stmt.where(DailyBacklog.district_id == scope.district_id)
    found = {day: [int(v) for v in rest] for day, *rest in db.session.execute(stmt.group_by(DailyBacklog.day))}
    days = [first + timedelta(days=i) for i in range(BACKLOG_DAYS)]
    rows = [[d, *found.get(d, [None] * 4)] for d in days]
    return Table(
        key="backlog",
        title=_("近%(BACKLOG_DAYS)s天积压趋势", BACKLOG_DAYS=BACKLOG_DAYS),
        columns=[Column("day", _("日期"), "date"),
                 Column("open", _("在办")),
                 Column("overdue", _("已超期")),
                 Column("due_soon", _("即将到期")),
                 Column("awaiting", _("待补正材料"))],
        rows=rows,
        chart={
            "type": "line",
            "labels": [d.isoformat() for d in days],
            "datasets": [
                {"label": _("在办"), "data": [r[1] for r in rows], "color": "#007bff"},
                {"label": _("已超期"), "data": [r[2] for r in rows], "color": "#dc3545"},
                {"label": _("即将到期"), "data": [r[3] for r in rows], "color": "#ffc107"},
            ],
        },
        note=_("每日清查记录的数字；“—”表示当天未记录。"),
    )


def _median(histogram: dict[int, int] | None) -> float | None:
    """The median of values given as {value: count}."""
    if not histogram:
        return None
    return float(statistics.median([v for v, n in sorted(histogram.items()) for _ in range(n)]))


def _week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _allowance():
    """The queue's working days, in SQL (verifiers/turnaround.py)."""
    return sql_case({code: literal_column(str(int(n))) for code, n in DUE_WORKING_DAYS.items()},
                    value=ReviewCase.queue, else_=literal_column(str(int(DEFAULT_DUE_WORKING_DAYS))))


def reviewer_table(scope: Scope) -> Table:
    this_week = _week_start(scope.today)
    weeks = [this_week - timedelta(weeks=REVIEWER_WEEKS - 1 - i) for i in range(REVIEWER_WEEKS)]
    decided_day = beijing_date(Decision.decided_at)
    window = (Decision.decided_at >= beijing_day_start(weeks[0]), Decision.decided_at < beijing_day_end(scope.today),
              scope.cases())
    # Decisions per reviewer and day, with the span of due dates the median's query will meet.
    per_week: dict[int, list[int]] = {}
    lo = hi = None
    returned = Decision.outcome == Outcome.returned
    weekly = (select(Decision.decided_by_id, decided_day, func.count(),
                     func.min(sql_case((returned, None), else_=ReviewCase.due_date)),
                     func.max(sql_case((returned, None), else_=ReviewCase.due_date)))
              .join(ReviewCase, ReviewCase.id == Decision.case_id).where(*window)
              .group_by(Decision.decided_by_id, decided_day))
    for staff_id, day, n, first_due, last_due in _run(weekly):
        per_week.setdefault(staff_id, [0] * REVIEWER_WEEKS)[(_week_start(day) - weeks[0]).days // 7] += n
        if first_due is not None:
            lo = first_due if lo is None else min(lo, first_due)
            hi = last_due if hi is None else max(hi, last_due)

    # Working days to decide, counted by the database against the calendar's ordinals:
    # allowance - working days from the decision to the due date (pauses are in the due date).
    final = (*window, ~returned)
    # The ordinals are a table kept in step with the official calendar (backoffice/calendar), so
    # the query's cost does not depend on how many days the decisions' due dates span.
    days_to_decide: dict[int, dict[int, int]] = {}
    if lo is not None:
        cal_due, cal_day = aliased(WorkingDayOrdinal, name="cal_due"), aliased(WorkingDayOrdinal, name="cal_day")
        used = (_allowance() - (cal_due.ordinal - cal_day.ordinal)).label("used")
        spans = (select(Decision.decided_by_id, used, func.count())
                 .select_from(Decision)
                 .join(ReviewCase, ReviewCase.id == Decision.case_id)
                 .join(cal_due, cal_due.day == ReviewCase.due_date)
                 .join(cal_day, cal_day.day == decided_day)
                 # The decisions' days lie in the window and the due dates in [lo, hi]: both
                 # joins read only that stretch of the ordinals (an index range, not the table).
                 .where(*final, cal_day.day.between(weeks[0], scope.today), cal_due.day.between(lo, hi))
                 .group_by(Decision.decided_by_id, used))
        for staff_id, days, n in _run(spans):
            histogram = days_to_decide.setdefault(staff_id, {})
            histogram[max(days, 0)] = histogram.get(max(days, 0), 0) + n
    # Everyone who decided, and the scope's reviewers who did not (a quiet week shows too).
    reviewers = select(Staff.id).where(Staff.role == Role.reviewer, Staff.active.is_(True))
    if scope.district_id is not None:
        reviewers = reviewers.where(Staff.district_id == scope.district_id)
    ids = set(per_week) | set(db.session.scalars(reviewers))
    staff = db.session.execute(
        select(Staff.id, Staff.full_name, Staff.username, District.name)
        .outerjoin(District, District.id == Staff.district_id).where(Staff.id.in_(ids))
    ).all() if ids else []
    rows, labels = [], []
    for s in sorted(staff, key=lambda s: (s[3] or "", s[1], s[2])):
        weekly = per_week.get(s.id, [0] * REVIEWER_WEEKS)
        median = _median(days_to_decide.get(s.id))
        label = f"{s.full_name}（{s.username}）"
        labels.append(label)
        rows.append([label, s[3] or _("市级"), *weekly, sum(weekly), median])
    week_cols = [Column(f"w{w.isoformat()}", _("%(w)s起", w=format(w, "%m-%d"))) for w in weeks]
    return Table(
        key="reviewers",
        title=_("审核员每周决定数与办理用时中位数"),
        columns=[Column("reviewer", _("审核员"), "text"),
                 Column("district", _("区"), "text"),
                 *week_cols,
                 Column("total", _("合计")),
                 Column("median", _("办理用时中位数（工作日）"), "num")],
        rows=rows,
        chart={
            "type": "bar",
            "labels": [c.label for c in week_cols],
            "datasets": [{"label": label, "data": row[2:2 + REVIEWER_WEEKS]} for label, row in zip(labels, rows)],
            "stacked": True,
        },
        note=_("近%(REVIEWER_WEEKS)s周（周一起算）写出的决定；用时中位数为受理至决定的工作日（不含待补正材料期间，不计退回补正）。",
               REVIEWER_WEEKS=REVIEWER_WEEKS),
    )


def _case_list(scope: Scope, key: str, title: str, where, note: str, limit: int | None,
               total: int | None) -> Table:
    assignee = aliased(Staff)
    escalated = (select(Escalation.escalated_on).where(Escalation.case_id == ReviewCase.id,
                                                       Escalation.resolved_on.is_(None))
                 .correlate(ReviewCase).scalar_subquery())
    base = scope.cases(_open(), where)
    if total is None:  # not counted already (open_counts)
        total = db.session.scalar(select(func.count()).select_from(ReviewCase).where(base))
    if limit is not None:
        # The page's ids first, in due order from the open-case indexes, then their people: joining
        # before the LIMIT made PostgreSQL join every matching case (4 000 and more) to its
        # applicant, slower as the applicant tables grow with the years kept (issue 18 §7).
        base = and_(base, ReviewCase.id.in_(
            select(ReviewCase.id).where(base).order_by(ReviewCase.due_date, ReviewCase.id).limit(limit)))
    stmt = (
        select(ReviewCase.id, ReviewCase.version, ReviewCase.number, ReviewCase.queue, District.name, Applicant.name,
               Applicant.id_number, ReviewCase.received_on, ReviewCase.due_date, ReviewCase.status,
               assignee.full_name, escalated)
        .join(District, District.id == ReviewCase.district_id)
        .outerjoin(Application, Application.id == ReviewCase.application_id)
        .outerjoin(Applicant, Applicant.id == Application.applicant_id)
        .outerjoin(assignee, assignee.id == ReviewCase.assignee_id)
        .where(base)
        .order_by(ReviewCase.due_date, ReviewCase.id)
        .limit(limit)
    )
    rows, ids, versions = [], [], []
    labels = {code: scope.queue_label(code) for code in scope.queue_codes}
    nobody = _("未领取")
    for (cid, version, number, code, district, name, id_number, received, due_on, status, assignee_name,
         esc) in _run(stmt):
        ids.append(cid)
        versions.append(version)
        rows.append([number, labels[code], district, f"{name} {mask_resident_id(id_number)}" if id_number else "—",
                     received, due_on,
                     working_days_between(due_on, scope.today), _(CASE_STATUS_LABELS[CaseStatus(status)]),
                     assignee_name or nobody, esc])
    return Table(
        key=key, title=title,
        columns=[Column("number", _("案件编号"), "text"),
                 Column("queue", _("队列"), "text"),
                 Column("district", _("区"), "text"),
                 Column("applicant", _("申请人"), "text"),
                 Column("received_on", _("受理日期"), "date"),
                 Column("due_date", _("办结期限"), "date"),
                 Column("late", _("超期工作日（负数为剩余）")),
                 Column("status", _("状态"), "text"),
                 Column("assignee", _("承办人"), "text"),
                 Column("escalated_on", _("督办日期"), "date")],
        rows=rows, note=note, total_rows=int(total or 0), case_ids=ids, case_versions=versions,
    )


def overdue_list(scope: Scope, limit: int | None = LIST_LIMIT, total: int | None = None) -> Table:
    return _case_list(
        scope, "overdue", _("超期案件（督办清单）"),
        due.overdue_clause(scope.today),
        _("每日清查将超期案件列入本区主管的督办清单（督办日期）；按办结期限排序。"),
        limit, total,
    )


def due_soon_list(scope: Scope, limit: int | None = LIST_LIMIT, total: int | None = None) -> Table:
    return _case_list(
        scope, "due_soon", _("%(DUE_SOON_WORKING_DAYS)s个工作日内到期", DUE_SOON_WORKING_DAYS=DUE_SOON_WORKING_DAYS),
        due.due_soon_clause(scope.today),
        _("尚未超期、将在%(DUE_SOON_WORKING_DAYS)s个工作日内到期的案件。", DUE_SOON_WORKING_DAYS=DUE_SOON_WORKING_DAYS),
        limit, total,
    )


# Four eyes must not stall a case: a countersign waiting more than this is escalated.
COUNTERSIGN_ESCALATION_WORKING_DAYS = 2


def countersign_list(scope: Scope, limit: int | None = LIST_LIMIT, total: int | None = None) -> Table:
    """Decisions waiting for a second signature for more than two working days — and, for the
    city, every one whose district has no other supervisor to sign it (a one-supervisor
    district: the city-level supervisor countersigns, never the decider)."""
    pending = aliased(Decision)
    latest_id = (select(func.max(Decision.id)).where(Decision.case_id == ReviewCase.id)
                 .correlate(ReviewCase).scalar_subquery())
    since = beijing_day_start(subtract_working_days(scope.today, COUNTERSIGN_ESCALATION_WORKING_DAYS))
    waiting_long = exists().where(pending.id == latest_id, pending.decided_at < since)
    signer = aliased(Staff)
    no_other_supervisor = exists().where(
        pending.id == latest_id,
        ~exists().where(signer.role == Role.supervisor, signer.active.is_(True),
                        signer.district_id == ReviewCase.district_id, signer.id != pending.decided_by_id)
        .correlate(ReviewCase, pending),
    )
    flagged = waiting_long if scope.district_id is not None else or_(waiting_long, no_other_supervisor)
    return _case_list(
        scope, "countersign",
        (_("待复核签字超过%(COUNTERSIGN_ESCALATION_WORKING_DAYS)s个工作日",
           COUNTERSIGN_ESCALATION_WORKING_DAYS=COUNTERSIGN_ESCALATION_WORKING_DAYS)
         if scope.district_id is not None else
         _("待复核签字超过%(COUNTERSIGN_ESCALATION_WORKING_DAYS)s个工作日或本区无其他主管",
           COUNTERSIGN_ESCALATION_WORKING_DAYS=COUNTERSIGN_ESCALATION_WORKING_DAYS)),
        and_(ReviewCase.status == CaseStatus.awaiting_countersign, flagged),
        _("四眼原则：决定须由另一名主管复核签字；本区仅有一名主管时，由市级主管复核（决定人本人不能签字）。"),
        limit, total,
    )


def full_list(scope: Scope, key: str) -> Table:
    """A case list without the page's limit (its export)."""
    return {"overdue": overdue_list, "due_soon": due_soon_list, "countersign": countersign_list}[key](scope, limit=None)


@dataclass
class Dashboard:
    scope: Scope
    headline: dict
    tables: dict[str, Table]

    @property
    def charts(self) -> list[Table]:
        return [t for t in self.tables.values() if t.chart]


TABLE_KEYS = ("queues", "ontime_queue", "ontime_district", "ageing", "backlog", "reviewers", "overdue", "due_soon",
              "countersign")


def build(scope: Scope, only: str | None = None) -> Dashboard:
    """All tables of the dashboard (or just `only`, for an export)."""
    tables: dict[str, Table] = {}
    headline: dict = {}
    want = (lambda *keys: only is None or only in keys)
    counts = open_counts(scope) if want("queues", "ageing", "overdue", "due_soon") else None
    if want("queues"):
        tables["queues"] = queue_table(scope, counts)
    if want("ontime_queue", "ontime_district"):
        headline, tables["ontime_queue"], tables["ontime_district"] = ontime_tables(scope)
    if want("ageing"):
        tables["ageing"] = ageing_table(scope, counts)
    if want("backlog"):
        tables["backlog"] = backlog_table(scope)
    if want("reviewers"):
        tables["reviewers"] = reviewer_table(scope)
    if want("overdue"):
        tables["overdue"] = overdue_list(scope, total=counts.overdue)
    if want("due_soon"):
        tables["due_soon"] = due_soon_list(scope, total=counts.due_soon)
    if want("countersign"):
        tables["countersign"] = countersign_list(scope)
    return Dashboard(scope, headline, {k: tables[k] for k in TABLE_KEYS if k in tables})
