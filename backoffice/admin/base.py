"""The one place admin views apply the permission rules.

`PermissionMixin.is_accessible` applies a view's rule (by default the area rule of
staff/permissions.AREAS; a view may name another rule function) and answers 403 with
the rule's message, or sends an anonymous user to sign in. Custom pages derive from
`ProtectedView`; model views from `ScopedModelView`, which names how its rows reach a
district (`district_scope`) and applies the district rule in `get_query`,
`get_count_query` and `get_one`, so lists, exports, details, edits, deletes, bulk
actions and guessed ids all go through the same filter.
"""
from __future__ import annotations

import csv
import io
import re
from datetime import datetime

from flask import Response, abort, flash, g, redirect, request, session, url_for
from flask_admin import BaseView, expose
from flask_admin.contrib.sqla import ModelView
from flask_admin.helpers import get_redirect_target
from flask_admin.model import typefmt
from markupsafe import Markup
from openpyxl import Workbook
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import DataError, IntegrityError

from backoffice.applications.models import Application
from backoffice.audit.services import record
from backoffice.core.timefmt import BEIJING, beijing_minute
from backoffice.extensions import db
from backoffice.staff.permissions import Verdict, can_read_area, can_write_area
from backoffice.i18n import _, _l, N_, is_english, lazy_pgettext, text
from backoffice.security.refusals import record_refusal
from verifiers.identifiers import is_valid_resident_id, mask_resident_id

# A full resident ID number (18 characters, a valid birth date and check character) standing
# alone in a cell never leaves in an export, whatever a view's formatters forgot.
FULL_ID_RE = re.compile(r"(?<![0-9A-Za-z])[1-9][0-9]{16}[0-9Xx](?![0-9A-Za-z])")
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _beijing_type_formatter(view, value, name):
    return beijing_minute(value)


def _yes_no_type_formatter(view, value, name):
    return lazy_pgettext("Yes", "是") if value else lazy_pgettext("No", "否")


def _with_beijing_time(formatters: dict) -> dict:
    # datetime first: it is a date too, and Flask-Admin takes the first isinstance match.
    # Yes/no in words on every page and export (Flask-Admin shows an icon, "True" on details).
    return {datetime: _beijing_type_formatter, **formatters, bool: _yes_no_type_formatter}


class PermissionMixin:
    """is_accessible for every admin view: one rule function, its message on refusal."""

    area: str = "reference"

    def access_rule(self, user) -> Verdict:
        return can_read_area(user, self.area)

    def is_accessible(self) -> bool:
        # The user itself, not the proxy: the menu asks every view (~30 a page), and each
        # attribute read through current_user resolves the proxy again.
        verdict = self.access_rule(current_user._get_current_object())
        if not verdict:
            g.permission_message = verdict.message
        return verdict.allowed

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("login.index", next=request.full_path))
        abort(403, description=g.get("permission_message"))


class ProtectedView(PermissionMixin, BaseView):
    """A custom admin page (workspace, dashboard, simulator, jobs) under the same rules."""


class IndexedSearchMixin:
    """A list's search box as one predicate the view gives (``search_clause``), each kind of
    term on an index, in place of Flask-Admin's ILIKE '%term%' over every searchable column,
    which no B-tree index serves (a list of hundreds of thousands of rows scanned per search,
    and again for its count). Put it before ScopedModelView in the bases; ``search_hint`` is
    what the box says it understands."""

    search_hint = None  # a lazy string: what the user can type

    def search_clause(self, search: str):
        """The WHERE clause for the box's text, or None for no search."""
        raise NotImplementedError

    def init_search(self) -> bool:
        # Flask-Admin shows the box when this is true; no column list to ILIKE over.
        return True

    def search_placeholder(self):
        return str(self.search_hint) if self.search_hint is not None else None

    def _apply_search(self, query, count_query, joins, count_joins, search):
        clause = self.search_clause(search)
        if clause is None:
            return query, count_query, joins, count_joins
        query = query.filter(clause)
        if count_query is not None:
            count_query = count_query.filter(clause)
        return query, count_query, joins, count_joins


class ScopedModelView(PermissionMixin, ModelView):
    # "self": the model has district_id; a callable (user_district_id) -> SQL clause;
    # None: not district-owned (reference data visible to every reader of the area).
    district_scope = "self"

    can_view_details = True
    can_export = True
    export_types = ["csv", "xlsx"]
    # Every timestamp in Beijing time to the minute, on the list, the details page and exports.
    column_type_formatters = _with_beijing_time(typefmt.BASE_FORMATTERS)
    column_type_formatters_detail = _with_beijing_time(typefmt.DETAIL_FORMATTERS)
    column_type_formatters_export = _with_beijing_time(typefmt.EXPORT_FORMATTERS)
    page_size = 50
    can_set_page_size = True
    # Flask-Admin counts every matching row on each page; keep it, lists are district-sized.
    # Generic forms never write district-owned data: services and custom views do.
    writable = False

    def __init__(self, model, **kwargs):
        super().__init__(model, db, **kwargs)
        if self.column_default_sort is None:
            # A stable order: LIMIT/OFFSET pages never repeat or skip a row, and an export lists
            # the rows in the order the pages showed them.
            self.column_default_sort = (self._primary_key, False)

    def _can_write(self) -> bool:
        return self.writable and bool(can_write_area(current_user, self.area))

    @property
    def can_create(self):  # type: ignore[override]
        return self._can_write()

    @property
    def can_edit(self):  # type: ignore[override]
        return self._can_write()

    @property
    def can_delete(self):  # type: ignore[override]
        return self._can_write()

    # District rule -----------------------------------------------------------------
    def district_clause(self, district_id: int):
        if self.district_scope == "self":
            return self.model.district_id == district_id
        return self.district_scope(district_id)

    def _scoped(self, query):
        if self.district_scope is None or not current_user.is_authenticated:
            return query
        district_id = current_user.district_id
        if district_id is None:
            return query
        return query.filter(self.district_clause(district_id))

    def get_query(self):
        return self._scoped(super().get_query())

    def get_count_query(self):
        return self._scoped(super().get_count_query())

    def get_one(self, id):
        pk = self._primary_key
        try:
            key = int(id)
        except (TypeError, ValueError):
            return None
        if not 0 < key <= 2**63 - 1:
            return None
        found = self.get_query().filter(getattr(self.model, pk) == key).one_or_none()
        if found is None and self.district_scope is not None and current_user.is_authenticated \
                and current_user.district_id is not None:
            # Not in this district's scope: if the row exists elsewhere, the attempt is audited.
            other = db.session.get(self.model, key)
            if other is not None:

                record_refusal(self.model.__tablename__, key, target_district_id=_district_of(other))
        return found

    # Exports ---------------------------------------------------------------------------
    # Flask-Admin streams its CSV from a generator over ORM rows; the generator ran after the
    # request had committed and closed its session, so every export sent its header (logged
    # as 200) and then died on DetachedInstanceError. Here the whole body is built inside the
    # request, from the same scoped query, filters, search and order as the list: a failure
    # is an ordinary error response, never a 200 with a cut-off body.
    # `_export_data` and `_export_columns` are Flask-Admin's own (the list's query, filters,
    # search and order); pyproject pins Flask-Admin below 2.3 and tests/test_exports.py reads
    # every export against its list.
    def export_table(self) -> tuple[list[str], list[list]]:
        """The list's column labels and, per row, the cell texts the page shows (no HTML)."""
        _count, rows = self._export_data()
        columns = self._export_columns
        titles = [str(label) for _name, label in columns]
        table = [[_export_cell(self.get_export_value(row, name)) for name, _label in columns] for row in rows]
        return titles, table

    @expose("/export/<export_type>/")
    def export(self, export_type: str):
        return_url = get_redirect_target() or self.get_url(".index_view")
        if not self.can_export or export_type not in self.export_types:
            flash(_l("不支持该导出格式"), "error")
            return redirect(return_url)
        titles, table = self.export_table()
        stamp = datetime.now(BEIJING).strftime("%Y%m%d-%H%M")
        filename = f"{self.endpoint}-{stamp}.{export_type}"
        headers = {"Content-Disposition": f"attachment; filename={filename}"}
        if export_type == "csv":
            buffer = io.StringIO()
            buffer.write("\ufeff")  # the BOM: Excel on the windows' PCs opens UTF-8 Chinese correctly
            writer = csv.writer(buffer)
            writer.writerow(titles)
            writer.writerows(table)
            return Response(buffer.getvalue().encode("utf-8"), headers=headers,
                            mimetype="text/csv", content_type="text/csv; charset=utf-8")
        book = Workbook(write_only=True)
        sheet = book.create_sheet(title=self.endpoint[:31])
        sheet.append(titles)
        for cells in table:
            sheet.append(cells)
        out = io.BytesIO()
        book.save(out)
        return Response(out.getvalue(), headers=headers, mimetype=XLSX_MIMETYPE)

    # Generic writes (administrators' reference data, staff accounts) are audited in the same
    # commit, with every changed column before and after (secrets only as "changed"):
    # Flask-Admin calls these hooks before it commits the change.
    def update_model(self, form, model):
        model._audit_before = audit_snapshot(model)
        return super().update_model(form, model)

    def on_model_change(self, form, model, is_created):
        db.session.flush()
        before, after = audit_diff(getattr(model, "_audit_before", {}), audit_snapshot(model), is_created)
        if is_created or after:
            record(
                "admin.created" if is_created else "admin.changed",
                self.model.__tablename__,
                getattr(model, self._primary_key),
                district_id=getattr(model, "district_id", None),
                before=before or None,
                after=after,
            )

    def on_model_delete(self, model):
        record(
            "admin.deleted",
            self.model.__tablename__,
            getattr(model, self._primary_key),
            district_id=getattr(model, "district_id", None),
            before={k: ("hidden" if isinstance(v, tuple) else v) for k, v in audit_snapshot(model).items()},
        )

    # A constraint a form broke, by the constraint's name: the field it concerns and what to say
    # (views add their own, e.g. the staff form's role_district).
    constraint_messages: dict[str, tuple[str, tuple[str, str]]] = {}

    def handle_view_exception(self, exc):
        """The one hook for every admin form: a unique or check constraint (IntegrityError) or a
        value the column cannot hold (DataError) is said on the form, which Flask-Admin shows
        again with the user's input, never as the driver's text or a 500 page."""
        if isinstance(exc, (IntegrityError, DataError)):
            db.session.rollback()
            message, field_name = _constraint_message(self, exc)
            form = getattr(g, "_admin_form", None)
            # The column's field, or the relationship's for a foreign key (district_id: district).
            names = [n for n in (field_name, (field_name or "")[:-3] if (field_name or "").endswith("_id") else None) if n]
            field = next((form[n] for n in names if form is not None and n in form), None)
            if field is not None:
                field.errors = [*(field.errors or []), message]
            flash(str(_l("未保存：")) + message, "error")
            return True
        return super().handle_view_exception(exc)

    def validate_form(self, form):
        g._admin_form = form
        return super().validate_form(form)

    def render(self, template, **kwargs):
        _reword_framework_flashes()
        return super().render(template, **kwargs)


# Messages Flask-Admin 2.2 flashes that its zh_Hans_CN catalog lacks (they showed in English on
# Chinese pages): said in the reader's language.
FRAMEWORK_FLASHES = {
    "Failed to create record.": N_("未保存：请改正下面标出的内容"),
}


def _reword_framework_flashes() -> None:
    flashes = session.get("_flashes")
    if flashes and any(message in FRAMEWORK_FLASHES for _category, message in flashes):
        session["_flashes"] = [(category, _(FRAMEWORK_FLASHES[message]) if message in FRAMEWORK_FLASHES else message)
                               for category, message in flashes]


def _export_cell(value):
    """A cell as the page reads it: HTML reduced to its text, numbers kept, ID numbers masked."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(lazy_pgettext("Yes", "是") if value else lazy_pgettext("No", "否"))
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, Markup):
        value = value.striptags()
    text = FULL_ID_RE.sub(_mask_if_resident_id, str(value))
    # Text someone typed (a name, a note) must not run as a spreadsheet formula (OWASP "CSV
    # injection"); openpyxl would even store "=..." as a formula. A number stays a number.
    if text[:1] in FORMULA_STARTS and not _is_number(text):
        return "'" + text
    return text


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _mask_if_resident_id(match) -> str:
    found = match.group(0)
    if is_valid_resident_id(found.upper()):
        return mask_resident_id(found)
    return found


def _district_of(row) -> int | None:
    for path in ("district_id", "case.district_id", "application.district_id"):
        value = row
        for part in path.split("."):
            value = getattr(value, part, None)
        if value is not None:
            return value
    return None


SECRET_MARKERS = ("password", "secret", "token")


def audit_snapshot(model) -> dict:
    """The row's column values as JSON-ready text, secrets hashed out of sight."""
    from sqlalchemy import inspect as sa_inspect

    out = {}
    for attr in sa_inspect(model).mapper.column_attrs:
        value = getattr(model, attr.key, None)
        if any(m in attr.key for m in SECRET_MARKERS):
            out[attr.key] = ("secret", hash(value))
            continue
        out[attr.key] = None if value is None else (value.value if hasattr(value, "value") else str(value))
    return out


def audit_diff(before: dict, after: dict, is_created: bool) -> tuple[dict, dict]:
    changed_before, changed_after = {}, {}
    for key, value in after.items():
        if not is_created and before.get(key) == value:
            continue
        secret = isinstance(value, tuple) and value and value[0] == "secret"
        if is_created:
            changed_after[key] = "set" if secret else value
            continue
        changed_before[key] = "changed" if secret else before.get(key)
        changed_after[key] = "changed" if secret else value
    return changed_before, changed_after


def via_application(district_id_column):
    """Scope rows that reach a district through their application."""
    def clause(district_id):
        return district_id_column.in_(
            select(Application.id).where(Application.district_id == district_id)
        )

    return clause


def _constraint_message(view, exc) -> tuple[str, str | None]:
    """(message in the reader's language, the form field it concerns or None)."""
    detail = str(getattr(exc, "orig", exc))
    for name, (field, (zh, en)) in view.constraint_messages.items():
        if name in detail:
            return (en if is_english() else zh), field
    columns = [c.key for c in view.model.__table__.columns]
    # SQLite: "UNIQUE constraint failed: staff.username"; PostgreSQL: "Key (username)=(x) already exists".
    found = next((c for c in columns if f".{c}" in detail or f"({c})" in detail), None)
    if isinstance(exc, IntegrityError) and ("UNIQUE" in detail or "unique" in detail or "duplicate" in detail):
        return _("已有相同的记录（此项不能重复）"), found
    if isinstance(exc, DataError):
        return _("输入的值无法保存（过长或超出范围）"), found
    return _("不符合规则，未保存"), found
