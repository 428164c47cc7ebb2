"""The year statistics page (年度统计): a Flask-Admin BaseView, like the turnaround dashboard.

City-level supervisors and administrators see the city, or one district they pick; a
district's supervisor sees their district only (`can_view_statistics`: another district
asked for in the URL answers 403). Every table has its chart beside it and CSV (UTF-8 with
a BOM) and XLSX exports of the same rows.
"""
from __future__ import annotations

from flask import Response, abort, request
from flask_admin import expose
from flask_login import current_user
from sqlalchemy import select

from backoffice.admin.base import ProtectedView
from backoffice.extensions import db
from backoffice.reference.models import District, Year
from backoffice.staff.permissions import can_view_statistics
from backoffice.turnaround import exports
from backoffice.turnaround.figures import display
from backoffice.turnaround.sql import beijing_today
from backoffice.yearstats import figures

PAGE_ORDER = ("districts", "employers", "scores", "cutoffs", "invalid", "contests_indicator",
              "contests_district", "tips", "revocations", "settlement")


class YearStatisticsView(ProtectedView):
    def access_rule(self, user):
        return can_view_statistics(user)

    def _scope(self) -> figures.Scope:
        requested = request.args.get("district", type=int)
        verdict = can_view_statistics(current_user, requested)
        if not verdict:
            abort(403, description=verdict.message)
        district_id = current_user.district_id if current_user.district_id is not None else requested
        year = request.args.get("year", type=int) or Year.under_way(beijing_today())
        if year is None:
            abort(404)
        return figures.Scope(year=year, district_id=district_id)

    def _args(self, scope: figures.Scope) -> dict:
        args = {"year": scope.year}
        if current_user.district_id is None and scope.district_id is not None:
            args["district"] = scope.district_id
        return args

    @expose("/")
    def index(self):
        scope = self._scope()
        tables = figures.build(scope)
        districts = (db.session.execute(select(District.id, District.name).order_by(District.code)).all()
                     if current_user.district_id is None else [])
        years = db.session.scalars(select(Year.year).order_by(Year.year.desc())).all()
        district_name = (db.session.scalar(select(District.name).where(District.id == scope.district_id))
                         if scope.district_id is not None else None)
        return self.render("yearstats/index.html", tables=[tables[k] for k in PAGE_ORDER], scope=scope,
                           args=self._args(scope), districts=districts, years=years, district_name=district_name,
                           display=display)

    @expose("/export/<key>.<fmt>")
    def export(self, key: str, fmt: str):
        if key not in figures.TABLE_KEYS or fmt not in ("csv", "xlsx"):
            abort(404)
        scope = self._scope()
        table = figures.build(scope, only=key, full=True)[key]
        suffix = f"-{scope.district_id}" if scope.district_id is not None else ""
        filename = f"year-{scope.year}-{key}{suffix}.{fmt}"
        if fmt == "csv":
            body, mime = exports.to_csv(table), exports.CSV_MIME
        else:
            body, mime = exports.to_xlsx(table), exports.XLSX_MIME
        return Response(body, mimetype=mime, headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "X-Content-Type-Options": "nosniff",
        })
