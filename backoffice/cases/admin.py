"""Worklists: one Flask-Admin list per queue, with the menu's open-count badges.

Oldest due first; filters for status, assignee (me / unassigned / anyone), due (overdue /
due within 2 working days), the contested reason, and the district for city-level users;
search (cases/search.py) by the last 4 characters of the ID number, the application number, the
case number or the applicant's exact full name. Without a status filter a
worklist shows the cases still open (closed cases leave the queue).

Large lists (STACK-NOTES): Flask-Admin counts every matching row on each page. Here the
count stops a few pages past the page shown (`COUNT_LOOKAHEAD_PAGES`), so it never costs
more than the page itself; the filters and the order are served by the worklist indexes
(cases/models.py), and every row's applicant and assignee come in the page's one query.
"""
from __future__ import annotations

import threading
import time
from datetime import date

from flask import current_app, flash, g, redirect, request, url_for
from flask_admin.actions import action
from flask_admin.babel import gettext as admin_gettext
from flask_admin.helpers import get_redirect_target
from flask_admin.contrib.sqla.filters import BaseSQLAFilter
from flask_login import current_user
from jinja2 import pass_context
from markupsafe import Markup, escape
from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager

from backoffice.admin.base import IndexedSearchMixin, ScopedModelView
from backoffice.admin.menu import per_request
from backoffice.applications.models import INDICATOR_EN, INDICATOR_LABELS, Application
from backoffice.cases import due, services
from backoffice.cases.search import case_clause
from backoffice.cases.models import CASE_KIND_LABELS, CASE_STATUS_LABELS, CaseStatus, ReviewCase, not_closed
from backoffice.extensions import db
from backoffice.i18n import _, _l, data_label, is_english, lazy_pgettext
from backoffice.reference.data import DISTRICTS
from backoffice.reference.models import District
from backoffice.staff.permissions import can_bulk_act
from backoffice.turnaround.sql import beijing_today
from verifiers.identifiers import mask_resident_id
from verifiers.materials import review_type as review_type_rule
from verifiers.indicators import INDICATOR_CODES, INDICATORS
from verifiers.reasons import REASON_CODES, REASONS, reason as registry_reason
from verifiers.routing import QUEUES, REVIEW_QUEUES, queue as routing_queue
from verifiers.turnaround import DUE_SOON_WORKING_DAYS
from verifiers.eligibility import CONDITION_CODES, condition

# The list's count stops this many pages past the page shown.
COUNT_LOOKAHEAD_PAGES = 10
# From this offset on, a page is fetched as ids first (see get_list).
DEFERRED_JOIN_OFFSET = 500


# Counts for the menu badges: one grouped query per request -----------------------------

# The menu is on every page, so its grouped count would cost every request a scan of the
# district's open cases (~7 ms for 12 000 of them on PostgreSQL, ten times the worklist page
# itself). Counts are kept per scope (district, or city level) for a few seconds; the home
# page always counts afresh, and this process's own decisions drop the kept counts.
BADGE_TTL_SECONDS = 30
_badges: dict[tuple[int, int | None], tuple[float, dict]] = {}
_badges_lock = threading.Lock()


def queue_counts_cached(fresh: bool = False) -> dict[str, tuple[int, int]]:
    """{queue: (open, overdue)} for the signed-in user's scope: at most one grouped query per request."""
    if "queue_counts" in g and not fresh:
        return g.queue_counts
    if not current_user.is_authenticated:
        return {}

    key = (id(current_app._get_current_object()), current_user.district_id)
    # Off under test unless a test switches it on (QUEUE_BADGE_TTL), as tests/cases/test_worklists.py does.
    ttl = current_app.config.get("QUEUE_BADGE_TTL", 0 if current_app.testing else BADGE_TTL_SECONDS)
    now = time.monotonic()
    with _badges_lock:
        kept = _badges.get(key)
    if fresh or not ttl or kept is None or kept[0] <= now:
        counts = due.queue_counts(current_user)
        with _badges_lock:
            _badges[key] = (now + ttl, counts)
    else:
        counts = kept[1]
    g.queue_counts = counts
    return counts


def forget_queue_counts() -> None:
    """After a change to cases in this process: the next page counts again."""
    with _badges_lock:
        _badges.clear()


class QueueMenuLabel:
    """A menu entry's name: the queue's label and, in HTML, a badge with its open cases."""

    def __init__(self, queue):
        self.queue = queue

    def __str__(self) -> str:
        return self.queue.label_en if is_english() else self.queue.label_zh

    def __html__(self) -> str:
        # The badge is filled in per request, also when the menu around it is kept (admin/menu.py).
        return str(escape(str(self))) + per_request("queue-badge", self.queue.code, _queue_badge)


def _queue_badge(code: str) -> str:
    n = queue_counts_cached().get(code, (0, 0))[0]
    return (f' <span class="badge badge-pill badge-primary badge-queue" data-testid="badge-{code}">'
            f"{n}</span>") if n else ""


# Filters ---------------------------------------------------------------------------------

class _CaseFilter(BaseSQLAFilter):
    """A filter with a stable URL key (?flt0_status=open), the same in every language."""

    url_key = ""

    def __init__(self, name, options):
        super().__init__(ReviewCase.id, name, options=options)

    def operation(self):
        return admin_gettext("equals")

    def validate(self, value):
        return value in {k for k, _ in self.get_options(None) or ()}

    def clean(self, value):
        return value


class StatusFilter(_CaseFilter):
    url_key = "status"
    ACTIVE = "active"

    def __init__(self):
        options = [(self.ACTIVE, _l("在办（未办结）"))]
        options += [(s.value, _l(CASE_STATUS_LABELS[s])) for s in CaseStatus]
        super().__init__(_l("状态"), options)

    def apply(self, query, value, alias=None):
        if value == self.ACTIVE:
            return query.filter(not_closed())
        return query.filter(ReviewCase.status == CaseStatus(value))


class AssigneeFilter(_CaseFilter):
    url_key = "assignee"

    def __init__(self):
        super().__init__(_l("承办人"), [
            ("me", _l("我")),
            ("unassigned", lazy_pgettext("Unassigned", "未领取")),
            ("anyone", _l("任何人")),
        ])

    def apply(self, query, value, alias=None):
        if value == "me":
            return query.filter(ReviewCase.assignee_id == current_user.id)
        if value == "unassigned":
            return query.filter(ReviewCase.assignee_id.is_(None))
        return query


class DueFilter(_CaseFilter):
    url_key = "due"

    def __init__(self):
        super().__init__(_l("期限"), [
            ("overdue", _l("已超期")),
            ("soon", _l("%(DUE_SOON_WORKING_DAYS)s个工作日内到期", DUE_SOON_WORKING_DAYS=DUE_SOON_WORKING_DAYS)),
        ])

    def apply(self, query, value, alias=None):
        today = beijing_today()
        if value == "overdue":
            return query.filter(due.overdue_clause(today))
        return query.filter(due.due_soon_clause(today))


def reason_options(queue_code: str | None):
    """The contested reasons a queue receives, in words; appeals are filed per indicator."""
    if queue_code == "appeals":
        return [(i.code, data_label(i.label_zh, i.label_en)) for i in INDICATORS]
    indicators = {i for i, q in REVIEW_QUEUES.items() if queue_code is None or q == queue_code}
    return [
        (r.code, data_label(f"{INDICATOR_LABELS[r.indicator]}：{_any_year(r.status_zh or r.message_zh)}", r.label_en))
        for r in REASONS if r.indicator in indicators
    ]


def _any_year(message: str) -> str:
    """A reason's text for a filter, which serves every year: its year placeholders in words."""
    return message.replace("{prev_year}年", "申报上一年").replace("{tax_year}年", "某一纳税年度")


class ReasonFilter(_CaseFilter):
    url_key = "reason"

    def __init__(self, queue_code):
        super().__init__(_l("原因"), reason_options(queue_code))

    def apply(self, query, value, alias=None):
        return query.filter(ReviewCase.reason_code == value)


class DistrictFilter(_CaseFilter):
    """City-level users only; a district user's list is limited to their district anyway."""

    url_key = "district"

    def __init__(self):
        super().__init__(_l("区"), [(code, name) for code, name, *_ in DISTRICTS])

    def apply(self, query, value, alias=None):
        return query.filter(
            ReviewCase.district_id == select(District.id).where(District.code == value).scalar_subquery()
        )


# Columns ---------------------------------------------------------------------------------

# A formatter's result that no type formatter applies to (Flask-Admin's: None, bool, list, dict,
# Enum; ours: datetime): the list shows it as it is (CaseView.list_row_html).
_PLAIN = (str, Markup)

def _workspace_url(case_id: int) -> str:
    # Built once per request and completed per row: url_for costs ~0.1 ms, fifty times a page.
    if "workspace_url" not in g:
        g.workspace_url = url_for("case.workspace", case_id=0).rsplit("/0/", 1)[0] + "/{}/"
    return g.workspace_url.format(case_id)


def _number(view, context, model, name):
    if model.queue == "tips":
        # Tips are worked in the tip workspace (backoffice/announcement), by investigators.
        href = url_for("tip.workspace", case_id=model.id)
        return Markup(f'<a href="{escape(href)}" data-testid="tip-link">{escape(model.number)}</a>')
    return Markup(_case_link(escape(_workspace_url(model.id)), model))


def _case_link(href: str, model) -> str:
    """The case number linked to its workspace (`href` already escaped). The version the row was
    shown at goes with the bulk actions' form (form="action_form", Flask-Admin's actions.html):
    a case someone changed since is refused, not silently claimed."""
    return (f'<a href="{href}" data-testid="case-link">{escape(model.number)}</a>'
            f'<input type="hidden" form="action_form" name="version-{model.id}" value="{model.version}">')


def _applicant(view, context, model, name):
    if model.application is None:  # a unit's licence case (单位注册) concerns no applicant
        return "—"
    applicant = model.application.applicant
    return f"{applicant.name} {mask_resident_id(applicant.id_number)}"


def case_reason_text(case) -> str:
    """The contested registry result in the handbook's words, or the appealed indicator."""
    code = case.reason_code
    if code in REASON_CODES:
        r = registry_reason(code)
        return f"{INDICATOR_LABELS[r.indicator]}：{r.text(year=case.year, tax_year=case.year - 1)}"
    if code in INDICATOR_CODES:
        return INDICATOR_LABELS[code]

    if code in CONDITION_CODES:
        return "资格异议 · 资格条件：" + condition(code).title[2:]
    if getattr(case.kind, "value", case.kind) == "employer_registration":
        return "单位注册：" + (case.applicant_statement or "")
    return code or ""


def _reason_en(case) -> str:
    """The contested result in English for lists: the rules' English label (the handbook's
    words stay in the workspace, marked as a quotation)."""
    code = case.reason_code
    if code in REASON_CODES:
        r = registry_reason(code)
        return f"{INDICATOR_EN[r.indicator]}: {r.label_en}"
    if code in INDICATOR_CODES:
        return INDICATOR_EN[code]
    if code in CONDITION_CODES:
        return f"Eligibility objection · {condition(code).label_en}"
    if getattr(case.kind, "value", case.kind) == "employer_registration":
        return "Employer registration: " + (case.applicant_statement or "")
    return code or ""


def _reason(view, context, model, name):
    return _reason_en(model) if is_english() else case_reason_text(model)


def _due_context() -> tuple[date, date, str, str]:
    """Today, the last "due soon" date and the two badges' titles, once per request (a page has
    fifty rows): one lookup in g per row."""
    found = g.get("worklist_due")
    if found is None:
        today = beijing_today()
        found = g.worklist_due = (today, due.due_soon_limit(today), escape(_l("已超期")),
                                  escape(_l("即将到期")))
    return found


def _due(view, context, model, name):
    return Markup(_due_html(model, *_due_context()))


def _due_html(model, today, limit, overdue_title, soon_title) -> str:
    """The due date, in a red badge when overdue and an amber one when due soon."""
    text = model.due_date.isoformat()
    state = due.due_state(model.due_date, model.status, today, limit)
    if state == due.OVERDUE:
        return f'<span class="badge badge-danger" title="{overdue_title}">{text}</span>'
    if state == due.DUE_SOON:
        return f'<span class="badge badge-warning" title="{soon_title}">{text}</span>'
    return text


def _status(view, context, model, name):
    return _(CASE_STATUS_LABELS.get(model.status, model.status))


def _queue(view, context, model, name):
    q = routing_queue(model.queue)
    return q.label_en if is_english() else q.label_zh


def _review_type(code: str | None) -> str:
    """The materials table a review follows (verifiers/materials.py), by its name."""
    if not code:
        return ""
    try:
        found = review_type_rule(code)
    except (KeyError, ValueError):
        return code
    return found.label_en if is_english() else found.label_zh


def _assignee(view, context, model, name):
    return model.assignee.full_name if model.assignee else ""


def _date(view, context, model, name):
    value = getattr(model, name)
    return value.isoformat() if value else ""


def _typed(view, value, name):
    """_get_list_value's type formatting of a formatter's result (texts are shown as they are)."""
    if type(value) not in _PLAIN:
        for typeobj, type_fmt in view.column_type_formatters.items():
            if isinstance(value, typeobj):
                return type_fmt(view, value, name)
    return value


def _fast_cells(view) -> dict:
    """This module's list formatters as cells for one page: {formatter: cell(context, row) -> HTML},
    each giving what `escape(formatter(...))` gives."""
    english = is_english()
    due_context = _due_context()
    workspace = str(escape(_workspace_url(0).rsplit("/0/", 1)[0])) + "/"
    statuses: dict = {}

    def number(context, row):
        if row.queue == "tips":
            return _number(view, context, row, "number")
        return _case_link(f"{workspace}{row.id}/", row)

    def applicant(context, row):
        return escape(_applicant(view, context, row, "applicant"))

    def reason(context, row):
        return escape(_reason_en(row) if english else case_reason_text(row))

    def due_date(context, row):
        return _due_html(row, *due_context)

    def status(context, row):
        found = statuses.get(row.status)
        if found is None:
            found = statuses[row.status] = escape(_status(view, context, row, "status"))
        return found

    def assignee(context, row):
        return escape(_assignee(view, context, row, "assignee"))

    def queue(context, row):
        return escape(_queue(view, context, row, "queue"))

    return {_number: number, _applicant: applicant, _reason: reason, _due: due_date, _status: status,
            _assignee: assignee, _queue: queue}


def _date_cell(name: str):
    def cell(context, row):
        value = getattr(row, name)
        return value.isoformat() if value else ""
    return cell


# The view --------------------------------------------------------------------------------

class CaseView(IndexedSearchMixin, ScopedModelView):
    """All cases of the user's districts; the per-queue worklists narrow it to one queue."""

    area = "cases"
    queue: str | None = None
    list_template = "cases/worklist.html"
    # The case number opens the workspace; details stay as a plain read-only record, not
    # linked from each row (a row action costs a url_for per row).
    column_display_actions = False
    column_details_list = ("number", "applicant", "kind", "queue", "reason_code", "review_type", "district",
                           "status", "assignee", "received_on", "due_date", "paused_on", "closed_at")
    named_filter_urls = True
    column_list = ("number", "applicant", "queue", "reason_code", "received_on", "due_date", "status", "assignee")
    column_formatters = {
        "number": _number,
        "applicant": _applicant,
        "kind": lambda v, c, m, n: _(CASE_KIND_LABELS.get(m.kind, m.kind)),
        "queue": _queue,
        "reason_code": _reason,
        "received_on": _date,
        "due_date": _due,
        "status": _status,
        "assignee": _assignee,
    }
    column_formatters_export = {
        "number": lambda v, c, m, n: m.number,
        "applicant": _applicant,
        "queue": _queue,
        "reason_code": _reason,
        "received_on": _date,
        "due_date": _date,
        "status": _status,
        "assignee": _assignee,
    }
    column_formatters_detail = {**{k: v for k, v in column_formatters.items() if k != "number"},
                                "review_type": lambda v, c, m, n: _review_type(m.review_type),
                                "district": lambda v, c, m, n: m.district.name if m.district else ""}
    column_sortable_list = ("number", "received_on", "due_date", "status")
    # Oldest due first; the id breaks ties so LIMIT/OFFSET pages never repeat or skip a case.
    column_default_sort = [("due_date", False), ("id", False)]
    column_labels = {
        "number": _l("案件编号"),
        "applicant": _l("申请人"),
        "queue": _l("队列"),
        "kind": _l("类型"),
        "reason_code": _l("指标与原因"),
        "received_on": _l("受理日期"),
        "due_date": _l("办结期限"),
        "status": _l("状态"),
        "assignee": _l("承办人"),
        "review_type": _l("复查类型"),
        "district": _l("区"),
        "paused_on": _l("计时暂停于"),
        "closed_at": _l("办结时间"),
    }

    def __init__(self, model, **kwargs):
        if self.queue:
            # One queue: its name is in the menu already.
            self.column_list = tuple(c for c in self.column_list if c != "queue")
            self.column_export_list = self.column_list
        self.column_filters = [StatusFilter(), AssigneeFilter(), DueFilter(), DistrictFilter()]
        if reason_options(self.queue):  # settlement materials and tips contest no registry result
            self.column_filters.insert(3, ReasonFilter(self.queue))
        self.column_filters += list(self.extra_filters())
        super().__init__(model, **kwargs)

    def extra_filters(self):
        """A queue's own filters after the common ones (the settlement queue's stage)."""
        return ()

    # Scope -----------------------------------------------------------------------------
    def _scoped(self, query):
        query = super()._scoped(query)
        if self.queue:
            return query.filter(ReviewCase.queue == self.queue)
        if self.area != "tips":
            # Tips carry the reporter's identity: only their own queue (investigators) lists them.
            query = query.filter(ReviewCase.queue != "tips")
        return query

    def get_filter_arg(self, index, flt):
        return getattr(flt, "url_key", None) or super().get_filter_arg(index, flt)

    def _get_filter_groups(self):
        groups = super()._get_filter_groups()
        if groups and current_user.is_authenticated and current_user.district_id is not None:
            district_label = str(_l("区"))
            groups.pop(district_label, None)
        return groups

    # Search: one box, each kind of term on an index (cases/search.py says which) -------------
    search_hint = _l("身份证号后4位、申请编号（如2027-000123）、案件编号或申请人全名")

    def search_clause(self, search):
        return case_clause(search)

    def _apply_sorting(self, query, joins, sort_column, sort_desc):
        query, joins = super()._apply_sorting(query, joins, sort_column, sort_desc)
        if sort_column is not None:
            query = query.order_by(ReviewCase.id.desc() if sort_desc else ReviewCase.id)
        return query, joins

    # The list: default status, capped count, one query for the page ------------------------
    # Flask-Admin has no public hook for any of these (its count query gets the filters only
    # inside get_list), so get_list is rewritten on its private helpers; pyproject.toml pins
    # Flask-Admin below 2.3 and tests/test_framework_seams.py checks the helpers it relies on.
    def get_list(self, page, sort_column, sort_desc, search, filters, execute=True, page_size=None):
        joins: dict = {}
        query = self.get_query()
        if self._search_supported and search:
            query, _, joins, _ = self._apply_search(query, None, joins, {}, search)
        if filters and self._filters:
            query, _, joins, _ = self._apply_filters(query, None, joins, {}, filters)
        if not any(isinstance(self._filters[idx], StatusFilter) for idx, _name, _value in filters or ()):
            query = query.filter(not_closed())

        page = page or 0
        page_size = page_size if page_size is not None else self.page_size
        count = self._capped_count(query, page, page_size) if page_size else None

        def with_people(q):
            # Many-to-one joins: the applicant and the assignee arrive with the page's rows.
            return (
                q.outerjoin(ReviewCase.application).outerjoin(Application.applicant).outerjoin(ReviewCase.assignee)
                .options(contains_eager(ReviewCase.application).contains_eager(Application.applicant),
                         contains_eager(ReviewCase.assignee))
            )

        if page * (page_size or 0) < DEFERRED_JOIN_OFFSET:
            rows, _ = self._apply_sorting(with_people(query), joins, sort_column, sort_desc)
            rows = self._apply_pagination(rows, page, page_size)
        else:
            # Deep pages: the page's ids first, from the worklist indexes alone (the OFFSET skips
            # index entries, not joined rows), then those rows with their people in the same
            # statement. Joining before a deep OFFSET made PostgreSQL hash-join whole tables.
            ids, _ = self._apply_sorting(query.with_entities(ReviewCase.id), dict(joins), sort_column, sort_desc)
            ids = self._apply_pagination(ids, page, page_size)
            rows = with_people(db.session.query(ReviewCase)).filter(ReviewCase.id.in_(ids.subquery().select()))
            rows, _ = self._apply_sorting(rows, {}, sort_column, sort_desc)
        if not execute:
            return count, rows
        rows = rows.all()
        g.worklist_decidable = any(r.status == CaseStatus.in_review and r.assignee_id == current_user.id
                                   for r in rows)
        return count, rows

    # Rows, rendered here rather than by Flask-Admin's list_row block (templates/cases/worklist.html):
    # the block makes ~22 template calls a row (is_editable, get_value and get_pk_value for each
    # cell, a translation for each checkbox), ~45 % of a page's CPU. The same cells, the same
    # formatters (get_list_value's path: column formatter, then type formatter), escaped as the
    # template would; worklists have no editable columns and no row-action column.
    # The page's columns are planned once per request (_row_plan): this view's own formatters
    # become per-row functions with what they share (today, the labels, the language, the
    # workspace URL) worked out once; any other column takes get_list_value's path.
    @pass_context
    def list_rows_html(self, context, rows, list_columns, actions) -> Markup:
        """Every row of the page, with the whitespace Flask-Admin's loop puts around each."""
        return Markup("".join(f"\n        <tr>\n            {self.list_row_html(context, row, list_columns, actions)}"
                              f"\n        </tr>\n        " for row in rows))

    def list_row_html(self, context, row, list_columns, actions) -> Markup:
        plan = g.get("worklist_row_plan")
        if plan is None or plan[0] is not self or plan[1] != list_columns:
            plan = g.worklist_row_plan = (self, list_columns, self._row_plan(list_columns))
        cells = []
        if actions:
            if "worklist_select_title" not in g:
                g.worklist_select_title = escape(admin_gettext("Select record"))
            # get_pk_value(row) of an integer id is its digits: nothing to escape.
            cells.append(f'<td>\n<input type="checkbox" name="rowid" class="action-checkbox" '
                         f'value="{row.id}" title="{g.worklist_select_title}" />\n</td>')
        for c, cell in plan[2]:
            cells.append(f'<td class="col-{c}">\n{cell(context, row)}\n</td>')
        return Markup("\n".join(cells))

    def _row_plan(self, list_columns) -> list:
        """[(column, cell(context, row) -> escaped HTML)] for this request's page."""
        formatters, type_formatters = self.column_formatters, self.column_type_formatters
        fast = _fast_cells(self)
        plan = []
        for c, _name in list_columns:
            fmt = formatters.get(c)
            if c in self._column_choices_map:
                plan.append((c, lambda context, row, c=c: escape(
                    self._get_list_value(context, row, c, formatters, type_formatters))))
            elif fmt is _date:
                plan.append((c, _date_cell(c)))
            elif fmt is not None and fast.get(fmt) is not None:
                plan.append((c, fast[fmt]))
            elif fmt is None:
                plan.append((c, lambda context, row, c=c: escape(
                    self._get_list_value(context, row, c, formatters, type_formatters))))
            else:
                plan.append((c, lambda context, row, c=c, fmt=fmt: escape(_typed(self, fmt(self, context, row, c), c))))
        return plan

    def _capped_count(self, query, page: int, page_size: int) -> int:
        """Rows up to a few pages past this one; g.worklist_count_capped says there are more."""
        cap = (page + 1 + COUNT_LOOKAHEAD_PAGES) * page_size
        rows = query.with_entities(ReviewCase.id).order_by(None).limit(cap + 1).subquery()
        n = db.session.scalar(select(func.count()).select_from(rows))
        g.worklist_count_capped = n > cap
        return n

    # Bulk actions -------------------------------------------------------------------------
    def is_action_allowed(self, name):
        if name in ("claim", "reassign", "decide"):
            if not can_bulk_act(current_user, name, self.queue):
                return False
            if name == "decide":
                # On a list page, offered only when a row shown is the user's to decide (in
                # review, theirs); the bulk page then offers only those (cases/workspace.py).
                return g.get("worklist_decidable", True)
            return True
        return super().is_action_allowed(name)

    @action("claim", _l("领取所选案件"))
    def action_claim(self, ids):
        cases = self._cases_for(ids)
        try:
            for case in cases:
                services.claim(case, actor=current_user._get_current_object(),
                               version=request.form.get(f"version-{case.id}"))
        except services.CaseActionError as exc:
            db.session.rollback()
            flash(exc.message, "error")
            return None
        flash(str(_l("已领取 %(len_cases)s 件", len_cases=len(cases))), "success")
        return None

    @action("reassign", _l("改派所选案件"))
    def action_reassign(self, ids):
        return redirect(url_for("case.bulk_reassign", ids=",".join(ids), url=self._return_url()))

    @action("decide", _l("批量决定（退回补正/不予支持）"))
    def action_decide(self, ids):
        return redirect(url_for("case.bulk_decide", ids=",".join(ids), url=self._return_url()))

    def _return_url(self):
        return get_redirect_target() or self.get_url(".index_view")

    def _cases_for(self, ids):
        keys = [int(i) for i in ids if str(i).isdigit()]
        return self.get_query().filter(ReviewCase.id.in_(keys)).order_by(ReviewCase.id).all()


def add_queue_views(admin, category, mixins: dict | None = None) -> list[CaseView]:
    """One worklist per queue (verifiers/routing.py), each with its open-count badge in the menu.
    ``mixins``: a queue's own list behaviour (e.g. settlement's columns), by queue code, given by
    the composition root so this module need not import the features built on it."""
    mixins = mixins or {}
    views = []
    for queue in QUEUES:
        # The tips queue carries reporters' identities: investigators only (area "tips").
        attrs = {"queue": queue.code, "area": "tips" if queue.city_only else "cases"}
        mixin = mixins.get(queue.code)
        bases = (mixin, CaseView) if mixin is not None else (CaseView,)
        view_cls = type(f"{queue.code.title()}QueueView", bases, attrs if mixin is None else {"queue": queue.code})
        view = view_cls(ReviewCase, name=data_label(queue.label_zh, queue.label_en), endpoint=f"queue_{queue.code}",
                        category=category)
        admin.add_view(view)
        view.menu.name = QueueMenuLabel(queue)
        views.append(view)
    return views
