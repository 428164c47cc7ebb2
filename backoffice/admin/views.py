"""Model views of the back office; all derive from ScopedModelView."""
from __future__ import annotations

import json

from flask import abort, flash, g, redirect, request
from flask_admin import expose
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from flask_admin.contrib.sqla.filters import BaseSQLAFilter, FilterEqual
from markupsafe import Markup, escape
from sqlalchemy import or_, select
from wtforms import PasswordField, SelectField
from wtforms.validators import Length, Optional

from backoffice.admin import labels
from backoffice.admin.base import IndexedSearchMixin, ScopedModelView, via_application
from backoffice.audit.models import AuditEvent
from backoffice.extensions import db
from backoffice.outbox.models import OutboxMessage
from backoffice.applications.models import (
    REGISTRY_STATUS_LABELS,
    Applicant,
    Application,
    EvidenceFile,
    IndicatorClaim,
    ScoreSnapshot,
)
from backoffice.cases.facts import describe as describe_facts
from backoffice.cases.files import send_evidence
from backoffice.cases.models import Decision, ReviewCase
from backoffice.cases.search import applicant_clause
from backoffice.core.timefmt import beijing_minute
from backoffice.i18n import _, _l, LOCALES, data_label, lazy_pgettext, pgettext
from backoffice.security.urls import same_site_path
from backoffice.jobs.views import pending_on_page, total_with_pending
from backoffice.audit.events import EVENT_LABELS, OBJECT_TYPE_LABELS, actor_name, event_label, object_type_label
from backoffice.staff.models import CITY_ROLES, DISTRICT_ROLES, ROLE_LABELS, ROLE_LABELS_EN, Role, Staff
from backoffice.staff.passwords import MIN_PASSWORD_LENGTH, hash_password, password_problem


def _not_common(form, field):
    from wtforms.validators import ValidationError

    if field.data:
        problem = password_problem(field.data)
        if problem:
            raise ValidationError(problem)


def _text(value):
    return None if value is None else str(value)
from verifiers.identifiers import mask_resident_id
from verifiers.indicators import INDICATORS as VERIFIER_INDICATORS
from backoffice.audit.services import record
from backoffice.staff.services import end_sessions, locked_until, unlock
from verifiers.phases import announcement_length_problem
from backoffice.notices.services import mask_phone


def _masked(view, context, model, name):
    return mask_resident_id(model.id_number)


def _applicant_masked(view, context, model, name):
    applicant = model.applicant if hasattr(model, "applicant") else model.application.applicant
    return f"{applicant.name} {mask_resident_id(applicant.id_number)}"


def _district_name(view, context, model, name):
    return model.district.name if model.district else _l("市级")


def _role(view, context, model, name):
    return labels.role_label(model.role)


def _case_number(view, context, model, name):
    return model.case.number if model.case is not None else ""


def _staff_name(attr):
    def fmt(view, context, model, name):
        person = getattr(model, attr)
        return person.full_name if person is not None else ""

    return fmt


def _options(mapping: dict[str, tuple[str, str]]):
    """A filter's choices from a (中文, English) registry, each in the reader's language (Flask-Admin
    reads the options once, when the view is built, and turns each label into text per page)."""
    return [(code, data_label(zh, en)) for code, (zh, en) in mapping.items()]


class ActorNameFilter(BaseSQLAFilter):
    """操作人: by the name as a person knows it (a staff member's full name), or a process's label."""

    def __init__(self):
        super().__init__(AuditEvent.actor_label, _l("操作人"))

    def operation(self):
        return _l("包含")

    def apply(self, query, value, alias=None):
        staff_ids = select(Staff.id).where(Staff.full_name.contains(value))
        return query.filter(or_(AuditEvent.actor_id.in_(staff_ids), AuditEvent.actor_label.contains(value)))


COMMON_LABELS = {
    "id": _l("编号"),
    "district": _l("区"),
    "year": _l("申报年度"),
    "name": _l("名称"),
    "applicant": _l("申请人"),
    "employer": _l("用人单位"),
    "created_at": _l("创建时间"),
}


class DistrictView(ScopedModelView):
    area = "reference"
    district_scope = None
    writable = True
    can_delete = False  # type: ignore[assignment]
    column_list = ("code", "name", "core_six", "window_address", "phone")
    column_labels = {
        "code": _l("区划代码"),
        "name": _l("区"),
        "core_six": _l("城六区"),
        "window_address": _l("服务窗口地址"),
        "phone": _l("联系电话"),
    }
    column_default_sort = "code"


class YearView(ScopedModelView):
    area = "reference"
    district_scope = None
    writable = True
    column_list = (
        "year", "application_start", "application_end", "result_query_start", "result_query_end",
        "announcement_start", "announcement_end", "settlement_start", "settlement_end", "quota",
    )
    form_columns = column_list
    column_labels = {
        "year": _l("申报年度"),
        "application_start": _l("申报开始"),
        "application_end": _l("申报结束"),
        "result_query_start": _l("结果查询开始"),
        "result_query_end": _l("结果查询结束"),
        "announcement_start": _l("公示开始"),
        "announcement_end": _l("公示结束"),
        "settlement_start": _l("落户办理开始"),
        "settlement_end": _l("落户办理结束"),
        "quota": _l("落户指标"),
    }
    column_default_sort = ("year", True)

    def validate_form(self, form):
        valid = super().validate_form(form)
        if not hasattr(form, "announcement_start") or not hasattr(form, "announcement_end"):
            return valid

        problem = announcement_length_problem(form.announcement_start.data, form.announcement_end.data)
        if problem:
            form.announcement_end.errors = [*form.announcement_end.errors, problem]
            return False
        return valid


class EmployerView(ScopedModelView):
    area = "employers"
    column_list = ("uscc", "name", "district")
    column_searchable_list = ("uscc", "name")
    column_labels = {
        "uscc": _l("统一社会信用代码"),
        "name": _l("单位名称"),
        "district": _l("业务办理区"),
    }


def _masked_phone(view, context, model, name):

    return mask_phone(getattr(model, name))


class ApplicantView(IndexedSearchMixin, ScopedModelView):
    area = "applicants"
    # An applicant is visible to the districts of their applications.
    district_scope = staticmethod(
        lambda district_id: Applicant.id.in_(
            select(Application.applicant_id).where(Application.district_id == district_id)
        )
    )
    column_list = ("id_number", "name", "birth_date")
    column_details_list = ("id_number", "name", "birth_date", "phone", "created_at")
    column_export_list = ("id_number", "name", "birth_date")
    column_formatters = {"id_number": _masked}
    column_formatters_export = {"id_number": _masked}
    # Phone numbers are masked on every page (138****5678), as ID numbers are.
    column_formatters_detail = {"id_number": _masked, "phone": _masked_phone}
    # Exact last four or exact full name, each on its index: a substring of a name (ILIKE '%…%')
    # read every applicant of every year kept (issue 18 §7: ×6 on ten years).
    search_hint = _l("身份证号后4位或申请人全名")

    def search_clause(self, search):
        return applicant_clause(search)

    column_labels = {
        "id_number": _l("身份证号"),
        "id_last4": _l("身份证号后4位"),
        "name": _l("姓名"),
        "birth_date": _l("出生日期"),
        "phone": _l("手机号"),
        "created_at": _l("登记时间"),
    }


class ApplicationView(ScopedModelView):
    area = "applications"
    column_list = ("id", "year", "applicant", "employer", "district", "total", "rank", "admitted")
    column_formatters = {"applicant": _applicant_masked, "total": total_with_pending}
    column_formatters_export = {"applicant": _applicant_masked}
    column_formatters_detail = {"applicant": _applicant_masked, "total": total_with_pending}
    column_filters = ("year", "admitted")
    # Rank and admission are Application's hybrids over application_ranks, which Flask-Admin
    # sorts by only when named here.
    column_sortable_list = ("submitted_at", "total", "rank", "admitted", "revoked_at", "revoked_reason", "qualified_at")
    column_details_exclude_list = ("year_ref", "current_snapshot_id")  # 申报年度 is shown; the pointer is internal
    column_default_sort = ("id", False)
    column_labels = {
        **COMMON_LABELS,
        "id": _l("编号"),
        "total": _l("总积分"),
        "rank": _l("排名"),
        "admitted": _l("取得资格"),
        "submitted_at": _l("提交时间"),
        "qualified_at": _l("取得落户资格时间"),
        "revoked_at": _l("取消资格时间"),
        "revoked_reason": _l("取消资格原因"),
    }

    def get_list(self, *args, **kwargs):
        count, rows = super().get_list(*args, **kwargs)
        pending_on_page([row.id for row in rows])  # one query per page for the "rescoring pending" badge
        return count, rows


REGISTRY_STATUS_WORDS = {"pending": ("审核中", "Pending"), "valid": ("有效", "Valid"), "invalid": ("无效", "Invalid")}
assert set(REGISTRY_STATUS_WORDS) == {s.value for s in REGISTRY_STATUS_LABELS}


def _indicator_label(indicator) -> str:
    code = getattr(indicator, "value", indicator)
    found = next((i for i in VERIFIER_INDICATORS if i.code == code), None)
    return "" if found is None else labels.pick((found.label_zh, found.label_en))


def _registry_status_label(status) -> str:
    code = getattr(status, "value", status)
    return labels.pick(REGISTRY_STATUS_WORDS[code]) if code in REGISTRY_STATUS_WORDS else str(code or "")


def _claim_facts(view, context, model, name):
    facts = getattr(model, name)
    if not facts:
        return ""
    indicator = getattr(model.indicator, "value", model.indicator)
    lines = describe_facts(indicator, model.application.year, facts, labels.is_english())
    return Markup("<br>").join(escape(f"{label}: {value}") for label, value in lines)


class ClaimView(ScopedModelView):
    area = "claims"
    district_scope = staticmethod(via_application(IndicatorClaim.application_id))
    column_list = ("id", "application", "indicator", "registry_status", "registry_message")
    column_formatters = {
        "indicator": lambda v, c, m, n: _indicator_label(m.indicator),
        "registry_status": lambda v, c, m, n: _registry_status_label(m.registry_status),
        "application": lambda v, c, m, n: f"{m.application.year}-{m.application_id:06d}",
    }
    column_formatters_export = column_formatters
    # The facts as filed and as verified, each field by its name on the form (cases/facts.py).
    column_formatters_detail = {**column_formatters, "claimed": _claim_facts, "verified": _claim_facts}
    column_filters = (
        FilterEqual(IndicatorClaim.indicator, _l("指标"),
                    options=[(i.code, data_label(i.label_zh, i.label_en)) for i in VERIFIER_INDICATORS]),
        FilterEqual(IndicatorClaim.registry_status, _l("核查结果"),
                    options=[(code, data_label(zh, en)) for code, (zh, en) in REGISTRY_STATUS_WORDS.items()]),
    )
    column_labels = {
        "id": _l("编号"),
        "application": _l("申报"),
        "year": _l("年度"),
        "indicator": _l("指标"),
        "registry_status": _l("核查结果"),
        "registry_message": _l("原因"),
        "claimed": _l("填报内容"),
        "verified": _l("核实信息"),
        "checked_at": _l("核查时间"),
        "registry_reason": _l("核查原因"),
    }


class DecisionView(ScopedModelView):
    area = "decisions"
    district_scope = staticmethod(
        lambda district_id: Decision.case_id.in_(
            select(ReviewCase.id).where(ReviewCase.district_id == district_id)
        )
    )
    column_list = ("id", "case", "outcome", "reason_code", "note", "decided_by", "decided_at")
    column_details_list = ("id", "case", "outcome", "reason_code", "note", "changes_score", "decided_by", "decided_at")
    # The outcome and the reason in words (verifiers/reasons.py), the case by number, the person by name.
    column_formatters = {
        "case": _case_number,
        "outcome": lambda v, c, m, n: labels.outcome_label(m.outcome),
        "reason_code": lambda v, c, m, n: labels.decision_reason_label(m.reason_code),
        "decided_by": _staff_name("decided_by"),
    }
    column_formatters_export = column_formatters
    column_formatters_detail = column_formatters
    column_default_sort = ("id", True)
    column_labels = {
        "id": _l("编号"),
        "case": _l("案件"),
        "outcome": _l("决定"),
        "reason_code": _l("理由"),
        "note": _l("说明"),
        "decided_by": _l("决定人"),
        "changes_score": _l("影响积分"),
        "decided_at": _l("决定时间"),
    }


class EvidenceView(ScopedModelView):
    area = "evidence"
    district_scope = staticmethod(
        lambda district_id: EvidenceFile.case_id.in_(
            select(ReviewCase.id).where(ReviewCase.district_id == district_id)
        )
    )
    column_list = ("id", "case_id", "material_slot", "pages", "size", "sha256", "uploaded_at", "download")
    column_details_list = ("id", "case_id", "material_slot", "original_name", "pages", "size", "sha256", "uploaded_at")
    column_export_list = column_list[:-1]  # the file link is for the page, not the spreadsheet
    column_formatters = {
        # The case by its number, the material by its name in the materials table (not its slot id).
        "case_id": _case_number,
        "material_slot": lambda v, c, m, n: labels.slot_label(m.material_slot),
        "download": lambda v, c, m, n: Markup(
            f'<a href="{escape(v.get_url(".download", id=m.id))}" target="_blank">'
            f"{escape(_l('查看'))}</a>"
        ),
    }
    column_formatters_export = {
        "case_id": _case_number,
        "material_slot": lambda v, c, m, n: labels.slot_label(m.material_slot),
    }
    column_formatters_detail = column_formatters_export
    column_labels = {
        "id": _l("编号"),
        "sha256": _l("文件指纹（SHA-256）"),
        "original_name": _l("原文件名"),
        "case_id": _l("案件"),
        "material_slot": _l("材料项"),
        "pages": _l("页数"),
        "size": _l("大小(字节)"),
        "uploaded_at": _l("上传时间"),
        "download": _l("文件"),
    }

    from flask_admin import expose as _expose

    @_expose("/download/<int:id>")
    def download(self, id: int):
        evidence = self.get_one(id)
        if evidence is None:
            abort(404)
        return send_evidence(evidence)


class SnapshotView(ScopedModelView):
    area = "snapshots"
    district_scope = staticmethod(via_application(ScoreSnapshot.application_id))
    column_list = ("id", "application_id", "created_at", "total", "trigger", "engine_version")
    column_details_list = column_list
    column_default_sort = ("id", True)
    column_formatters = {"trigger": lambda v, c, m, n: labels.trigger_label(m.trigger)}
    column_formatters_export = column_formatters
    column_formatters_detail = column_formatters
    column_labels = {
        "id": _l("编号"),
        "application_id": _l("申报"),
        "created_at": _l("计算时间"),
        "total": _l("总积分"),
        "trigger": _l("触发原因"),
        "engine_version": _l("计分版本"),
    }


class StaffView(ScopedModelView):
    """Staff accounts. The form checks the district against the role (a reviewer works one
    district's window; investigators, administrators and city approvers are city level: the
    role_district constraint of staff/models.py, said on the form before the database says it),
    offers the language as a choice, and a locked account has a 解除锁定 button (audited)."""

    area = "staff"
    writable = True
    can_delete = False  # type: ignore[assignment]  # deactivate instead; the audit trail refers to staff
    edit_template = "staff/edit.html"
    column_list = ("username", "full_name", "role", "district", "active", "locked", "last_login_at")
    column_details_list = ("username", "full_name", "role", "district", "active", "locale", "locked",
                           "last_login_at", "created_at")
    column_export_list = ("username", "full_name", "role", "district", "active", "locale", "last_login_at")
    column_formatters = {"role": _role, "district": _district_name,
                         "locale": lambda v, c, m, n: LOCALES.get(m.locale, m.locale),
                         "locked": lambda v, c, m, n: _locked(v, m)}
    column_formatters_export = {k: f for k, f in column_formatters.items() if k != "locked"}
    column_formatters_detail = column_formatters
    column_sortable_list = ("username", "full_name", "role", "active", "last_login_at")
    column_searchable_list = ("username", "full_name")
    form_columns = ("username", "full_name", "role", "district", "active", "locale", "new_password")
    form_extra_fields = {
        "new_password": PasswordField(
            _l("新密码（留空不变）"),
            validators=[Optional(), Length(min=MIN_PASSWORD_LENGTH), _not_common],
        )
    }
    form_overrides = {"role": SelectField, "locale": SelectField}
    constraint_messages = {
        "role_district": ("district", ("区与角色不符：审核员须属于一个区，举报核查员、系统管理员和市级落户核准员为市级账户",
                                       "The district does not fit the role: a reviewer works for a district; "
                                       "investigators, administrators and city approvers are city level")),
    }
    column_labels = {
        "username": _l("用户名"),
        "full_name": _l("姓名"),
        "role": _l("角色"),
        "district": _l("区"),
        "active": _l("启用"),
        "locked": _l("登录锁定"),
        "locked_until": _l("锁定至"),
        "last_login_at": _l("最近登录"),
        "created_at": _l("创建时间"),
        "locale": _l("界面语言"),
    }

    def __init__(self, model, **kwargs):
        # Choices in the reader's language, built per request (the role labels are words of two languages).
        self.form_args = {
            "role": {"choices": _RoleChoices(), "coerce": Role},
            "locale": {"choices": list(LOCALES.items())},
            "district": {"blank_text": _l("（市级，不属于任何区）")},
        }
        super().__init__(model, **kwargs)

    def validate_form(self, form):
        valid = super().validate_form(form)
        if not hasattr(form, "role") or not hasattr(form, "district"):
            return valid  # the delete form
        problem = _district_problem(form.role.data, form.district.data)
        if problem:
            form.district.errors = [*form.district.errors, problem]
            valid = False
        if request.endpoint == f"{self.endpoint}.create_view" and not form.new_password.data:
            form.new_password.errors = [*form.new_password.errors,
                                        pgettext("A new account needs a password", "新账户需要设置密码")]
            valid = False
        return valid

    def on_model_change(self, form, model, is_created):

        reset = bool(form.new_password.data)
        if reset:
            model.password_hash = hash_password(form.new_password.data)
            model.failed_logins = 0
        before = getattr(model, "_audit_before", {})
        super().on_model_change(form, model, is_created)
        if is_created:
            return
        if reset:
            record("staff.password_reset", "staff", model.id, district_id=model.district_id,
                   after={"password": "changed"})
        # A new password, a deactivation, another role or district: every open session of the
        # account ends (its session version moves on).
        role = model.role.value if model.role is not None else None
        moved = (before.get("role") != role or before.get("district_id") != _text(model.district_id))
        if reset or moved or (before.get("active") == "True" and not model.active):
            end_sessions(model, "password_reset" if reset else "account_changed")

    def lock_of(self, model):
        return locked_until(model)

    @expose("/unlock/<int:id>", methods=("POST",))
    def unlock_view(self, id: int):
        """解除锁定: sign-in opens again for the account at once (staff/services.unlock, audited)."""
        if not self.can_edit:
            abort(403)
        staff = self.get_one(id)
        if staff is None:
            abort(404)
        unlock(staff, actor=current_user._get_current_object())
        flash(_("已解除 %(full_name)s 的登录锁定", full_name=staff.full_name), "success")
        return redirect(same_site_path(request.form.get("url")) or self.get_url(".edit_view", id=id))


class _RoleChoices:
    """The role choices, evaluated when the form is built (so in the reader's language)."""

    def __iter__(self):
        return iter([(r.value, labels.role_label(r)) for r in Role])

    def __len__(self):
        return len(Role)


def _district_problem(role, district) -> str | None:
    """The role_district rule of staff/models.py in words, for the form."""
    if role is None:
        return None
    role = Role(getattr(role, "value", role))
    if role in DISTRICT_ROLES and district is None:
        name = labels.role_label(role).lower()
        return _("%(name)s须属于一个区，请选择区", name=name)
    if role in CITY_ROLES and district is not None:
        name = labels.role_label(role).lower()
        return _("%(name)s为市级账户，不能属于某个区", name=name)
    return None


def _locked(view, model):
    until = locked_until(model)
    if until is None:
        return ""
    label = _("锁定至 %(beijing_minute_until)s", beijing_minute_until=beijing_minute(until))
    if not view.can_edit:
        return label
    return Markup(
        f'{escape(label)} <form method="post" class="d-inline" action="{escape(view.get_url(".unlock_view", id=model.id))}">'
        f'<input type="hidden" name="csrf_token" value="{escape(generate_csrf())}">'
        f'<input type="hidden" name="url" value="{escape(request.full_path)}">'
        f'<button type="submit" class="btn btn-sm btn-outline-warning" data-testid="unlock-{model.id}">'
        f'{escape(_("解除锁定"))}</button></form>'
    )


class AuditView(ScopedModelView):
    """The audit trail read as sentences: the event and the object in words (audit/events.py),
    the actor by full name, the district by name, the changes as "field: value"."""

    area = "audit"
    column_list = ("at", "actor_label", "action", "object_type", "object_id", "district_id")
    column_details_list = ("at", "actor_label", "action", "object_type", "object_id", "district_id", "before", "after", "ip")
    column_default_sort = ("id", True)
    column_labels = {
        "at": _l("时间"),
        "actor_label": _l("操作人"),
        "action": _l("操作"),
        "object_type": _l("对象类型"),
        "object_id": lazy_pgettext("Object no.", "对象编号"),
        "district_id": _l("区"),
        "before": _l("变更前"),
        "after": _l("变更后"),
        "ip": _l("来源地址"),
    }

    def __init__(self, model, **kwargs):
        self.column_filters = (
            FilterEqual(AuditEvent.action, _l("操作"), options=_options(EVENT_LABELS)),
            FilterEqual(AuditEvent.object_type, _l("对象类型"), options=_options(OBJECT_TYPE_LABELS)),
            ActorNameFilter(),
        )
        formatters = {
            "actor_label": _audit_actor,
            "action": lambda v, c, m, n: event_label(m.action),
            "object_type": lambda v, c, m, n: object_type_label(m.object_type),
            "district_id": lambda v, c, m, n: labels.district_label(m.district_id),
            "object_id": _audit_object,
        }
        self.column_formatters = formatters
        self.column_formatters_export = formatters
        self.column_formatters_detail = {**formatters, "before": _audit_changes, "after": _audit_changes}
        super().__init__(model, **kwargs)

    def get_list(self, *args, **kwargs):
        count, rows = super().get_list(*args, **kwargs)
        labels.staff_names([row.actor_id for row in rows])  # the page's actors by name, in one query
        _object_names(rows)
        return count, rows


def _object_names(rows) -> dict[tuple[str, str], str]:
    """The page's objects as people name them: a case by its number, an application as
    2021-000023, a staff member by full name; one query per kind."""
    names = g.setdefault("audit_object_names", {})
    wanted: dict[str, set[int]] = {}
    for row in rows:
        if row.object_id and row.object_id.isdigit() and (row.object_type, row.object_id) not in names:
            wanted.setdefault(row.object_type, set()).add(int(row.object_id))
    if wanted.get("review_case"):
        for key, number in db.session.execute(select(ReviewCase.id, ReviewCase.number)
                                              .where(ReviewCase.id.in_(wanted["review_case"]))):
            names[("review_case", str(key))] = number
    if wanted.get("application"):
        for key, year in db.session.execute(select(Application.id, Application.year)
                                            .where(Application.id.in_(wanted["application"]))):
            names[("application", str(key))] = f"{year}-{key:06d}"
    if wanted.get("staff"):
        for key, full in labels.staff_names(wanted["staff"]).items():
            names[("staff", str(key))] = full
    return names


def _audit_object(view, context, model, name):
    if not model.object_id:
        return ""
    return _object_names([model]).get((model.object_type, model.object_id), model.object_id)


def _audit_actor(view, context, model, name):
    full = labels.staff_names([model.actor_id]).get(model.actor_id) if model.actor_id else None
    return actor_name(model.actor_label, full)


# The fields audit events carry most, in words; others are shown by their name.
AUDIT_FIELD_LABELS: dict[str, tuple[str, str]] = {
    "status": ("状态", "Status"),
    "assignee_id": ("承办人", "Assignee"),
    "district_id": ("区", "District"),
    "role": ("角色", "Role"),
    "active": ("启用", "Active"),
    "username": ("用户名", "Username"),
    "full_name": ("姓名", "Name"),
    "locale": ("界面语言", "Language"),
    "password": ("密码", "Password"),
    "password_hash": ("密码", "Password"),
    "reason": ("原因", "Reason"),
    "number": ("编号", "Number"),
    "outcome": ("决定", "Outcome"),
    "reason_code": ("理由", "Reason"),
    "note": ("说明", "Note"),
    "stage": ("办理进度", "Stage"),
    "address": ("来源地址", "Address"),
    "queue": ("队列", "Queue"),
    "due_date": ("办结期限", "Due"),
    "failed_logins": ("登录失败次数", "Failed sign-ins"),
    "case": ("案件", "Case"),
    "slot": ("材料项", "Material"),
    "sha256": ("文件指纹", "Fingerprint"),
    "size": ("大小（字节）", "Size (bytes)"),
    "pages": ("页数", "Pages"),
    "kind": ("类型", "Kind"),
    "decision_id": ("决定编号", "Decision no."),
    "confirmed": ("同意", "Confirmed"),
    "locked_until": ("锁定至", "Locked until"),
}


def _audit_value(key: str, value) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool) or value in ("True", "False"):
        return labels.yes_no(value in (True, "True"))
    if key == "district_id":
        return labels.district_label(value)
    if key == "assignee_id":
        return labels.staff_names([value]).get(int(value), str(value))
    if key == "role":
        try:
            return labels.role_label(value)
        except ValueError:
            return str(value)
    if key == "slot":
        return labels.slot_label(value)
    if key == "locale":
        return LOCALES.get(value, str(value))
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _audit_changes(view, context, model, name):
    """before/after on the details page: one "field: value" line each, values in words."""
    values = getattr(model, name)
    if not values:
        return ""
    if not isinstance(values, dict):
        return str(values)
    return Markup("<br>").join(
        escape(f"{labels.pick(AUDIT_FIELD_LABELS.get(k, (k, k)))}: {_audit_value(k, v)}") for k, v in values.items()
    )


class OutboxView(ScopedModelView):
    area = "outbox"
    district_scope = None
    column_list = ("id", "created_at", "topic", "application_id", "job_id", "delivered_at", "completed_at",
                   "attempts", "last_error")
    column_default_sort = ("id", True)
    column_filters = (
        FilterEqual(OutboxMessage.topic, _l("任务"), options=_options(labels.TOPIC_LABELS)),
        "application_id",
    )
    column_formatters = {"topic": lambda v, c, m, n: labels.topic_label(m.topic)}
    column_formatters_export = column_formatters
    column_formatters_detail = column_formatters
    column_labels = {
        "id": _l("编号"),
        "job_key": _l("请求键"),
        "payload": _l("参数"),
        "created_at": _l("请求时间"),
        "topic": _l("任务"),
        "application_id": _l("申报"),
        "job_id": _l("任务编号"),
        "delivered_at": _l("发出时间"),
        "completed_at": _l("完成时间"),
        "attempts": _l("发送失败次数"),
        "last_error": _l("最近错误"),
    }
