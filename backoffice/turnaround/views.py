"""The supervisors' dashboard (办理时效看板): a Flask-Admin BaseView.

District supervisors see their district; city-level supervisors (and administrators) see
every district, or one they pick. A district given in the URL is checked like any other
object's district (`can_view_dashboard`), so another district's figures, lists and exports
answer 403. Reassignment posts here and goes through the case service's `reassign`.
"""
from __future__ import annotations

from datetime import date

from flask import Response, abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user
from sqlalchemy import func, select

from backoffice.admin.base import ProtectedView
from backoffice.cases.clock import add_working_days, uncovered_years
from backoffice.cases.models import CaseStatus, ReviewCase
from backoffice.cases.services import NOTE_MAX, CaseActionError, reassign as reassign_cases
from backoffice.extensions import db
from backoffice.i18n import _
from backoffice.reference.models import District, Year
from backoffice.staff.models import Staff
from backoffice.staff.permissions import CASE_WORKERS, can_read_area, can_reassign_cases, can_view_dashboard
from backoffice.turnaround import exports, figures
from backoffice.turnaround.sql import beijing_today
from verifiers.routing import QUEUES
from verifiers.turnaround import DUE_WORKING_DAYS
from backoffice.staff.permissions import can_view_tip

# Who may be handed a case (the case service checks it again, with the district).
ASSIGNABLE_ROLES = tuple(CASE_WORKERS)


def dashboard_queues(user) -> tuple:
    """The district queues; the tips queue only for those who handle tips (investigators, and
    city supervisors, who countersign them): its counts, never a reporter."""

    return tuple(q for q in QUEUES if not q.city_only or can_read_area(user, "tips") or can_view_tip(user))


class TurnaroundView(ProtectedView):
    def access_rule(self, user):
        return can_view_dashboard(user)

    # Scope ------------------------------------------------------------------------------
    def _scope(self) -> figures.Scope:
        requested = request.args.get("district", type=int)
        verdict = can_view_dashboard(current_user, requested)
        if not verdict:
            abort(403, description=verdict.message)
        district_id = current_user.district_id if current_user.district_id is not None else requested
        year = request.args.get("year", type=int) or Year.under_way(beijing_today())
        return figures.Scope(district_id=district_id, year=year, today=beijing_today(),
                             queues=dashboard_queues(current_user))

    def _args(self, scope: figures.Scope) -> dict:
        args = {"year": scope.year}
        if current_user.district_id is None and scope.district_id is not None:
            args["district"] = scope.district_id
        return args

    def _warning(self, scope: figures.Scope) -> str | None:
        """Warn when today, a new case's due date, or an open case's due date lies in a year
        the official calendar has no entries for (counted with weekends only until an
        administrator enters the year's notice on 系统 › 节假日安排)."""
        latest_due = db.session.scalar(select(func.max(ReviewCase.due_date))
                                       .where(scope.cases(ReviewCase.status != CaseStatus.closed)))
        horizon = add_working_days(scope.today, max(DUE_WORKING_DAYS.values()))
        years = uncovered_years(scope.today, horizon, latest_due)
        if not years:
            return None
        listed = "、".join(map(str, years))
        return _("节假日安排未录入：%(listed)s年尚无放假和调休上班数据，期限按周末计算；请系统管理员在“节假日安排”中录入国务院办公厅发布的通知", listed=listed)

    def _assignees(self, scope: figures.Scope):
        stmt = (select(Staff.id, Staff.full_name, Staff.username, Staff.role, District.name)
                .join(District, District.id == Staff.district_id)
                .where(Staff.active.is_(True), Staff.role.in_(ASSIGNABLE_ROLES))
                .order_by(District.code, Staff.role, Staff.full_name))
        if scope.district_id is not None:
            stmt = stmt.where(Staff.district_id == scope.district_id)
        return db.session.execute(stmt).all()

    # Pages ------------------------------------------------------------------------------
    @expose("/")
    def index(self):
        scope = self._scope()
        dashboard = figures.build(scope)
        districts = (db.session.execute(select(District.id, District.name).order_by(District.code)).all()
                     if current_user.district_id is None else [])
        years = db.session.scalars(select(Year.year).order_by(Year.year.desc())).all()
        district_name = (db.session.scalar(select(District.name).where(District.id == scope.district_id))
                         if scope.district_id is not None else None)
        return self.render(
            "dashboard/index.html",
            dashboard=dashboard, scope=scope, args=self._args(scope), warning=self._warning(scope),
            districts=districts, years=years, district_name=district_name, display=figures.display,
            assignees=self._assignees(scope) if can_reassign_cases(current_user) else [],
            reason_max=NOTE_MAX,
        )

    @expose("/export/<key>.<fmt>")
    def export(self, key: str, fmt: str):
        if key not in figures.TABLE_KEYS or fmt not in ("csv", "xlsx"):
            abort(404)
        scope = self._scope()
        table = figures.build(scope, only=key).tables[key]
        if table.total_rows is not None and table.total_rows > len(table.rows):
            table = figures.full_list(scope, key)
        suffix = f"-{scope.district_id}" if scope.district_id is not None else ""
        filename = f"turnaround-{key}{suffix}-{scope.today.isoformat()}.{fmt}"
        if fmt == "csv":
            body, mime = exports.to_csv(table), exports.CSV_MIME
        else:
            body, mime = exports.to_xlsx(table), exports.XLSX_MIME
        return Response(body, mimetype=mime, headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "X-Content-Type-Options": "nosniff",
        })

    @expose("/reassign", methods=("POST",))
    def reassign(self):
        """Reassign the ticked cases to one person, with a reason, through the case service
        (all or nothing; it checks the rules again and records the reason with each case)."""
        scope = self._scope()
        back = redirect(url_for(".index", **self._args(scope)))
        ids = sorted({int(v) for v in request.form.getlist("case_id") if v.isdigit()})
        assignee_id = request.form.get("assignee_id", type=int)
        assignee = db.session.get(Staff, assignee_id) if assignee_id else None
        if ids and assignee is None:
            flash(_("请选择承办人，未改派任何案件"), "error")
            return back
        cases = db.session.scalars(select(ReviewCase).where(ReviewCase.id.in_(ids), scope.cases())).all()
        if len(cases) != len(ids):
            # Another district's case, or one outside the dashboard's queues: as if it did not exist.
            abort(404)
        # The version each row was shown at: a case someone claimed or reassigned since is refused.
        # A row without its version is refused by the service like a stale one (nothing saved).
        versions = {c.id: request.form.get(f"version_{c.id}") for c in cases}
        try:
            reassign_cases(cases, assignee, reason=request.form.get("reason", ""),
                           actor=current_user._get_current_object(), versions=versions)
        except CaseActionError as exc:
            db.session.rollback()
            flash(exc.message, "error")
            return back
        flash(_("已将%(len_cases)s件案件改派给%(full_name)s", len_cases=len(cases), full_name=assignee.full_name), "success")
        return back
