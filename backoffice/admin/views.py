"""Model views of the back office; all derive from ScopedModelView."""
from __future__ import annotations

from flask import abort
from markupsafe import Markup, escape
from sqlalchemy import select
from wtforms import PasswordField, SelectField
from wtforms.validators import Length, Optional

from backoffice.admin.base import ScopedModelView, via_application
from backoffice.applications.models import (
    INDICATOR_LABELS,
    REGISTRY_STATUS_LABELS,
    Applicant,
    Application,
    EvidenceFile,
    IndicatorClaim,
    ScoreSnapshot,
)
from backoffice.cases.files import send_evidence
from backoffice.cases.models import OUTCOME_LABELS, Decision, ReviewCase
from backoffice.i18n import bi
from backoffice.jobs.views import pending_on_page, total_with_pending
from backoffice.staff.models import ROLE_LABELS, Role
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
from backoffice.audit.services import record
from backoffice.staff.services import end_sessions
from verifiers.phases import announcement_length_problem
from backoffice.notices.services import mask_phone


def _label(mapping):
    def fmt(view, context, model, name):
        value = getattr(model, name)
        return mapping.get(value, value) if value is not None else ""

    return fmt


def _masked(view, context, model, name):
    return mask_resident_id(model.id_number)


def _applicant_masked(view, context, model, name):
    applicant = model.applicant if hasattr(model, "applicant") else model.application.applicant
    return f"{applicant.name} {mask_resident_id(applicant.id_number)}"


def _district_name(view, context, model, name):
    return model.district.name if model.district else bi("市级", "City level")


COMMON_LABELS = {
    "district": bi("区", "District"),
    "year": bi("申报年度", "Year"),
    "name": bi("名称", "Name"),
    "applicant": bi("申请人", "Applicant"),
    "employer": bi("用人单位", "Employer"),
    "created_at": bi("创建时间", "Created"),
}


class DistrictView(ScopedModelView):
    area = "reference"
    district_scope = None
    writable = True
    can_delete = False  # type: ignore[assignment]
    column_list = ("code", "name", "core_six", "window_address", "phone")
    column_labels = {
        "code": bi("区划代码", "Code"),
        "name": bi("区", "District"),
        "core_six": bi("城六区", "Core six"),
        "window_address": bi("服务窗口地址", "Window address"),
        "phone": bi("联系电话", "Phone"),
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
        "year": bi("申报年度", "Year"),
        "application_start": bi("申报开始", "Application from"),
        "application_end": bi("申报结束", "Application to"),
        "result_query_start": bi("结果查询开始", "Result query from"),
        "result_query_end": bi("结果查询结束", "Result query to"),
        "announcement_start": bi("公示开始", "Announcement from"),
        "announcement_end": bi("公示结束", "Announcement to"),
        "settlement_start": bi("落户办理开始", "Settlement from"),
        "settlement_end": bi("落户办理结束", "Settlement to"),
        "quota": bi("落户指标", "Quota"),
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
        "uscc": bi("统一社会信用代码", "Unified social credit code"),
        "name": bi("单位名称", "Name"),
        "district": bi("业务办理区", "Business district"),
    }


def _masked_phone(view, context, model, name):

    return mask_phone(getattr(model, name))


class ApplicantView(ScopedModelView):
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
    column_searchable_list = ("id_last4", "name")
    column_labels = {
        "id_number": bi("身份证号", "ID number"),
        "id_last4": bi("身份证号后4位", "ID last 4"),
        "name": bi("姓名", "Name"),
        "birth_date": bi("出生日期", "Birth date"),
        "phone": bi("手机号", "Phone"),
        "created_at": bi("登记时间", "Registered"),
    }


class ApplicationView(ScopedModelView):
    area = "applications"
    column_list = ("id", "year", "applicant", "employer", "district", "total", "rank", "admitted")
    column_formatters = {"applicant": _applicant_masked, "total": total_with_pending}
    column_formatters_export = {"applicant": _applicant_masked}
    column_formatters_detail = {"applicant": _applicant_masked, "total": total_with_pending}
    column_filters = ("year", "admitted")
    column_details_exclude_list = ("year_ref",)  # the year is shown as 申报年度 already
    column_default_sort = ("id", False)
    column_labels = {
        **COMMON_LABELS,
        "id": bi("编号", "No."),
        "total": bi("总积分", "Total"),
        "rank": bi("排名", "Rank"),
        "admitted": bi("取得资格", "Admitted"),
        "submitted_at": bi("提交时间", "Submitted"),
    }

    def get_list(self, *args, **kwargs):
        count, rows = super().get_list(*args, **kwargs)
        pending_on_page([row.id for row in rows])  # one query per page for the "rescoring pending" badge
        return count, rows


class ClaimView(ScopedModelView):
    area = "claims"
    district_scope = staticmethod(via_application(IndicatorClaim.application_id))
    column_list = ("id", "application", "indicator", "registry_status", "registry_message")
    column_formatters = {
        "indicator": _label(INDICATOR_LABELS),
        "registry_status": _label(REGISTRY_STATUS_LABELS),
        "application": lambda v, c, m, n: f"{m.application.year}-{m.application_id:06d}",
    }
    column_filters = ("indicator", "registry_status")
    column_labels = {
        "id": bi("编号", "No."),
        "application": bi("申报", "Application"),
        "indicator": bi("指标", "Indicator"),
        "registry_status": bi("核查结果", "Registry result"),
        "registry_message": bi("原因", "Reason"),
        "claimed": bi("填报内容", "As filed"),
        "verified": bi("核实信息", "Verified facts"),
    }


class DecisionView(ScopedModelView):
    area = "decisions"
    district_scope = staticmethod(
        lambda district_id: Decision.case_id.in_(
            select(ReviewCase.id).where(ReviewCase.district_id == district_id)
        )
    )
    column_list = ("id", "case", "outcome", "reason_code", "note", "decided_by", "decided_at")
    column_formatters = {"outcome": _label(OUTCOME_LABELS)}
    column_default_sort = ("id", True)
    column_labels = {
        "id": bi("编号", "No."),
        "case": bi("案件", "Case"),
        "outcome": bi("决定", "Outcome"),
        "reason_code": bi("理由", "Reason"),
        "note": bi("说明", "Note"),
        "decided_by": bi("决定人", "Decided by"),
        "decided_at": bi("决定时间", "Decided at"),
    }


class EvidenceView(ScopedModelView):
    area = "evidence"
    district_scope = staticmethod(
        lambda district_id: EvidenceFile.case_id.in_(
            select(ReviewCase.id).where(ReviewCase.district_id == district_id)
        )
    )
    column_list = ("id", "case_id", "material_slot", "pages", "size", "sha256", "uploaded_at", "download")
    column_export_list = column_list[:-1]  # the file link is for the page, not the spreadsheet
    column_formatters = {
        "download": lambda v, c, m, n: Markup(
            f'<a href="{escape(v.get_url(".download", id=m.id))}" target="_blank">'
            f"{escape(bi('查看', 'View'))}</a>"
        ),
    }
    column_labels = {
        "case_id": bi("案件", "Case"),
        "material_slot": bi("材料项", "Material"),
        "pages": bi("页数", "Pages"),
        "size": bi("大小(字节)", "Size (bytes)"),
        "uploaded_at": bi("上传时间", "Uploaded"),
        "download": bi("文件", "File"),
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
    column_default_sort = ("id", True)
    column_labels = {
        "application_id": bi("申报", "Application"),
        "created_at": bi("计算时间", "Computed"),
        "total": bi("总积分", "Total"),
        "trigger": bi("触发原因", "Trigger"),
        "engine_version": bi("计分版本", "Engine"),
    }


class StaffView(ScopedModelView):
    area = "staff"
    writable = True
    can_delete = False  # type: ignore[assignment]  # deactivate instead; the audit trail refers to staff
    column_list = ("username", "full_name", "role", "district", "active", "last_login_at")
    column_formatters = {"role": _label(ROLE_LABELS), "district": _district_name}
    column_searchable_list = ("username", "full_name")
    form_columns = ("username", "full_name", "role", "district", "active", "locale", "new_password")
    form_extra_fields = {
        "new_password": PasswordField(
            bi("新密码（留空不变）", "New password (blank keeps it)"),
            validators=[Optional(), Length(min=MIN_PASSWORD_LENGTH), _not_common],
        )
    }
    form_overrides = {"role": SelectField}
    form_args = {
        "role": {"choices": [(r.value, ROLE_LABELS[r]) for r in Role], "coerce": Role},
    }
    column_labels = {
        "username": bi("用户名", "Username"),
        "full_name": bi("姓名", "Name"),
        "role": bi("角色", "Role"),
        "district": bi("区", "District"),
        "active": bi("启用", "Active"),
        "locked_until": bi("锁定至", "Locked until"),
        "last_login_at": bi("最近登录", "Last sign-in"),
        "locale": bi("界面语言", "Language"),
    }

    def on_model_change(self, form, model, is_created):

        reset = bool(form.new_password.data)
        if reset:
            model.password_hash = hash_password(form.new_password.data)
            model.failed_logins = 0
        elif is_created:
            raise ValueError("新账户需要设置密码 / a new account needs a password")
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


class AuditView(ScopedModelView):
    area = "audit"
    column_list = ("at", "actor_label", "action", "object_type", "object_id", "district_id")
    column_details_list = ("at", "actor_label", "action", "object_type", "object_id", "district_id", "before", "after", "ip")
    column_default_sort = ("id", True)
    column_filters = ("action", "object_type", "actor_label")
    column_labels = {
        "at": bi("时间", "When"),
        "actor_label": bi("操作人", "Who"),
        "action": bi("操作", "Action"),
        "object_type": bi("对象类型", "Object"),
        "object_id": bi("对象编号", "Object id"),
        "district_id": bi("区", "District"),
        "before": bi("变更前", "Before"),
        "after": bi("变更后", "After"),
    }


class OutboxView(ScopedModelView):
    area = "outbox"
    district_scope = None
    column_list = ("id", "created_at", "topic", "application_id", "job_id", "delivered_at", "completed_at",
                   "attempts", "last_error")
    column_default_sort = ("id", True)
    column_filters = ("topic", "application_id")
    column_labels = {
        "created_at": bi("请求时间", "Requested"),
        "topic": bi("任务", "Job"),
        "application_id": bi("申报", "Application"),
        "job_id": bi("任务编号", "Job id"),
        "delivered_at": bi("发出时间", "Delivered"),
        "completed_at": bi("完成时间", "Completed"),
        "attempts": bi("发送失败次数", "Failed deliveries"),
        "last_error": bi("最近错误", "Last error"),
    }
