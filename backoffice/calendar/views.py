"""The administrator's page for the official calendar (系统 › 节假日安排).

Rows are dates the yearly State Council notice changes; the page opens with the years the
table covers, so a missing year shows at a glance. Every write (create, edit, delete, the
list's bulk delete) goes through `services.apply_change` in the same commit: the working-day
ordinals follow, and open cases whose working days changed get their new due date.
"""
from __future__ import annotations

from datetime import date

from flask import flash, g
from flask_admin import expose
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectField
from wtforms.validators import ValidationError

from backoffice.admin.base import ScopedModelView
from backoffice.core.timefmt import beijing_minute
from backoffice.calendar import services
from backoffice.calendar.models import KIND_LABELS, KINDS, OfficialDay
from backoffice.extensions import db
from backoffice.i18n import _, _l, N_
from backoffice.staff.permissions import can_edit_calendar, can_view_calendar

WEEKDAYS = (N_("星期一"), N_("星期二"), N_("星期三"), N_("星期四"), N_("星期五"),
            N_("星期六"), N_("星期日"))


def _kind(view, context, model, name):
    return _(KIND_LABELS.get(model.kind, model.kind))


def _weekday(view, context, model, name):
    return _(WEEKDAYS[model.day.weekday()])


def _updated_at(view, context, model, name):
    return beijing_minute(model.updated_at)


def _updated_by(view, context, model, name):
    return model.updated_by.full_name if model.updated_by else _("系统导入")


class CalendarView(ScopedModelView):
    area = "calendar"
    district_scope = None
    writable = True
    list_template = "calendar/list.html"
    column_list = ("day", "weekday", "kind", "name", "notice", "updated_by", "updated_at")
    column_details_list = column_list
    column_export_list = ("day", "kind", "name", "notice")
    column_default_sort = ("day", True)
    column_searchable_list = ("name", "notice")
    column_sortable_list = ("day", "kind", "name", "notice")
    form_columns = ("day", "kind", "name", "notice")
    form_overrides = {"kind": SelectField}
    form_args = {
        "kind": {"choices": [(k, _l(KIND_LABELS[k])) for k in KINDS]},
        "name": {"description": _l("节日名称，如“春节”")},
        "notice": {"description": _l("所依据的通知文号，如“国办发明电〔2025〕7号”")},
    }
    column_labels = {
        "day": _l("日期"),
        "weekday": _l("星期"),
        "kind": _l("安排"),
        "name": _l("节日"),
        "notice": _l("依据通知"),
        "updated_by": _l("录入人"),
        "updated_at": _l("录入时间"),
    }
    column_formatters = {"kind": _kind, "weekday": _weekday, "updated_at": _updated_at, "updated_by": _updated_by}
    column_formatters_detail = column_formatters
    column_formatters_export = {"kind": _kind}
    page_size = 100

    def access_rule(self, user):
        return can_view_calendar(user)

    def _can_write(self) -> bool:
        return bool(can_edit_calendar(current_user))

    @expose("/")
    def index_view(self):
        self._template_args["coverage"] = services.coverage()
        self._template_args["this_year"] = date.today().year
        return super().index_view()

    # Writes: remember the calendar before, apply the change in the same commit ------------------
    def create_model(self, form):
        g._calendar_before = services.load_calendar()
        return super().create_model(form)

    def update_model(self, form, model):
        g._calendar_before = services.load_calendar()
        return super().update_model(form, model)

    def on_model_change(self, form, model, is_created):
        if model.kind == "workday" and model.day.weekday() < 5:
            raise ValidationError(_("调休上班日应为星期六或星期日"))
        with db.session.no_autoflush:
            other = db.session.scalar(select(OfficialDay.id).where(OfficialDay.day == model.day,
                                                                   OfficialDay.id != (model.id or 0)))
        if other is not None:
            raise ValidationError(_("%(model_day_isoformat)s已有安排，请编辑该条目",
                                    model_day_isoformat=model.day.isoformat()))
        model.updated_by_id = current_user.id
        super().on_model_change(form, model, is_created)
        self._apply()

    def delete_model(self, model) -> bool:
        before = services.load_calendar()
        try:
            self.on_model_delete(model)
            db.session.delete(model)
            db.session.flush()
            g._calendar_before = before
            self._apply()
            db.session.commit()
        except Exception as exc:  # as Flask-Admin's own delete_model
            db.session.rollback()
            if not self.handle_view_exception(exc):
                flash(_("删除失败：%(exc)s", exc=exc), "error")
            return False
        self.after_model_delete(model)
        return True

    def _apply(self) -> None:
        moved = services.apply_change(g.pop("_calendar_before"), actor=current_user._get_current_object())
        if moved:
            flash(_("已按新的节假日安排调整%(moved)s件在办案件的办结期限", moved=moved), "info")
