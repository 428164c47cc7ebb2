"""What the audit trail's codes mean, in words: one registry of every event name the code
writes (tests/test_audit_labels.py collects them from the source and fails on one without
both labels), the object types, and the non-staff actors.

Staff read the trail as sentences ("领取案件", "登录成功"), never as `case.claimed` or
`login.succeeded`; an actor who is a staff member is shown by their full name
(`actor_name`), a process by what it is ("每日巡检" rather than "sweep").
"""
from __future__ import annotations

from backoffice.i18n import _, is_english
from backoffice.settlement.models import STAGES, STAGES_EN

# event name -> (中文, English)
EVENT_LABELS: dict[str, tuple[str, str]] = {
    # Sign-in and accounts
    "login.succeeded": ("登录成功", "Signed in"),
    "login.failed": ("登录失败", "Sign-in failed"),
    "login.throttled": ("登录尝试过多，已暂时锁定", "Too many sign-in attempts; locked for a while"),
    "login.refused_inactive": ("停用账户尝试登录", "Sign-in refused: account deactivated"),
    "logout": ("退出登录", "Signed out"),
    "staff.created": ("新建工作人员账户", "Staff account created"),
    "staff.locale": ("切换界面语言", "Interface language changed"),
    "staff.password_reset": ("重置密码", "Password reset"),
    "staff.sessions_ended": ("结束该账户的全部登录会话", "All sessions of the account ended"),
    "staff.unlocked": ("解除登录锁定", "Sign-in lock cleared"),
    "access.refused_other_district": ("尝试访问其他区的数据，已拒绝", "Refused: another district's record"),
    # Generic administrator edits (reference data, staff accounts)
    "admin.created": ("新建记录", "Record created"),
    "admin.changed": ("修改记录", "Record changed"),
    "admin.deleted": ("删除记录", "Record deleted"),
    # Machine intake (申报系统接口)
    "api_client.token_issued": ("签发接口令牌", "API token issued"),
    "api_client.revoked": ("吊销接口令牌", "API token revoked"),
    "applicant.created": ("登记申请人", "Applicant registered"),
    "application.created": ("提交申报", "Application filed"),
    "application.changed": ("修改申报", "Application changed"),
    "claim.created": ("填报指标", "Indicator claimed"),
    "claim.changed": ("修改填报指标", "Indicator claim changed"),
    "claim.deleted": ("删除填报指标", "Indicator claim deleted"),
    "claim.checked": ("指标取得审核结果", "Indicator checked against the registry"),
    "claim.verified_superseded": ("复查决定更正了核实信息", "Verified facts corrected by a review decision"),
    "claim.verified_corrected": ("举报核查更正了核实信息", "Verified facts corrected after a tip"),
    "claim.added_by_decision": ("申诉决定增加了指标记录", "Claim added by an appeal decision"),
    "claim.filing_decided": ("填报凭证审核决定了指标结果", "Claim's result set by a filing decision"),
    "case.claim_deleted": ("案件所涉指标已删除", "The case's claim was deleted"),
    "registry.loaded": ("载入部门核查数据", "Registry data loaded"),
    "evidence.uploaded": ("上传材料", "Material uploaded"),
    "evidence.reused": ("沿用已上传的材料", "Material reused from an earlier upload"),
    "evidence.viewed": ("查看材料", "Material viewed"),
    # Cases
    "case.received": ("受理案件", "Case received"),
    "case.claimed": ("领取案件", "Case claimed"),
    "case.released": ("退回待领取", "Case released"),
    "case.reassigned": ("改派案件", "Case reassigned"),
    "case.decided": ("作出审核决定", "Decision made"),
    "case.countersigned": ("复核同意", "Decision countersigned"),
    "case.sent_back": ("复核退回承办人", "Sent back by the countersigner"),
    "case.resumed": ("恢复计时", "Clock resumed"),
    "case.escalated": ("超期上报主管", "Escalated as overdue"),
    "case.escalation_resolved": ("超期上报已解除", "Escalation resolved"),
    "appeal.modified": ("修改复核申请", "Appeal changed"),
    "appeal.withdrawn": ("撤回复核申请", "Appeal withdrawn"),
    # Scores, eligibility, ranking, announcement
    "score.changed": ("积分重新计算", "Score recomputed"),
    "simulator.used": ("使用积分模拟计算", "Score simulator used"),
    "eligibility.checked": ("核对申报资格条件", "Eligibility conditions checked"),
    "eligibility.lost": ("不再符合申报资格条件", "No longer eligible"),
    "eligibility.year_checked": ("核对全年度申报资格", "Year's eligibility checked"),
    "employer.created": ("登记用人单位", "Employer registered"),
    "employer.contact_changed": ("变更单位联系人", "Employer contact changed"),
    "employer.change_filed": ("提交单位信息变更", "Employer change filed"),
    "employer.link_decided": ("确认申请人与单位的关系", "Employer link decided"),
    "ranking.computed": ("计算年度排名", "Year ranked"),
    "list.published": ("发布公示名单", "List published"),
    "qualification.granted": ("取得落户资格", "Settlement qualification granted"),
    "qualification.revoked": ("取消落户资格", "Settlement qualification revoked"),
    "revocation.proposed": ("提出取消资格", "Revocation proposed"),
    "revocation.rejected": ("不予取消资格", "Revocation rejected"),
    "tip.claimed": ("领取举报", "Tip claimed"),
    "tip.finding_added": ("添加核查结果", "Finding added"),
    "tip.decided": ("作出举报核查结论", "Tip decided"),
    "tip.countersigned": ("复核同意举报核查结论", "Tip conclusion countersigned"),
    "tip.sent_back": ("举报核查结论被退回", "Tip conclusion sent back"),
    "tip.evidence_viewed": ("查看举报材料", "Tip material viewed"),
    "tip.revocation_confirmed": ("确认取消资格", "Revocation confirmed"),
    "tip.revocation_refused": ("不同意取消资格", "Revocation refused"),
    "tips.keys_rotated": ("更换举报人信息加密密钥", "Tip encryption keys rotated"),
    # Settlement (调京落户): each stage is an event, named after the stage (settlement/models.STAGES)
    "settlement.submitted": ("提交调京落户信息", "Settlement details submitted"),
    "settlement.letter_printed": ("打印落户函件", "Settlement letter printed"),
    **{f"settlement.{code}": (f"落户办理：{zh}", f"Settlement: {STAGES_EN[code]}") for code, zh in STAGES.items()},
    # Notices, jobs, calendar, data
    "notice.issued": ("出具告知书", "Notice issued"),
    "notice.printed": ("打印告知书", "Notice printed"),
    "job.retried": ("重新执行后台任务", "Background job retried"),
    "calendar.seeded": ("载入节假日安排", "Holiday calendar loaded"),
    "calendar.cases_rescheduled": ("按节假日安排重算办结期限", "Due dates recomputed for the calendar"),
    "demo.seeded": ("载入演示数据", "Demo data loaded"),
    "synth.generated": ("生成模拟年度数据", "Synthetic year generated"),
}

OBJECT_TYPE_LABELS: dict[str, tuple[str, str]] = {
    "review_case": ("案件", "Case"),
    "application": ("申报", "Application"),
    "applicant": ("申请人", "Applicant"),
    "indicator_claim": ("指标", "Indicator claim"),
    "evidence_file": ("材料", "Material"),
    "employer": ("用人单位", "Employer"),
    "employers": ("用人单位", "Employer"),
    "staff": ("工作人员", "Staff"),
    "year": ("申报年度", "Year"),
    "years": ("申报年度", "Year"),
    "districts": ("区服务窗口", "District window"),
    "notice": ("告知书", "Notice"),
    "official_calendar": ("节假日安排", "Holiday calendar"),
    "official_days": ("节假日安排", "Holiday calendar"),
    "api_client": ("接口客户端", "API client"),
    "registry_dataset": ("部门核查数据", "Registry data"),
    "rq_job": ("后台任务", "Background job"),
    "tip_report": ("举报", "Tip"),
    "score_snapshots": ("积分快照", "Score snapshot"),
    # Tables, as the generic admin writes and refused cross-district reads name them
    # (admin/base.py: self.model.__tablename__).
    "review_cases": ("案件", "Case"),
    "applications": ("申报", "Application"),
    "applicants": ("申请人", "Applicant"),
    "indicator_claims": ("指标", "Indicator claim"),
    "evidence_files": ("材料", "Material"),
    "decisions": ("审核决定", "Decision"),
    "audit_events": ("操作日志", "Audit event"),
    "outbox": ("待发任务", "Outbox request"),
    "notices": ("告知书", "Notice"),
    "settlement_cases": ("落户办理", "Settlement"),
    "tip_reports": ("举报", "Tip"),
}

# Actors that are not staff accounts (audit_events.actor_label without actor_id).
ACTOR_LABELS: dict[str, tuple[str, str]] = {
    "system": ("系统", "System"),
    "cli": ("命令行", "Command line"),
    "sweep": ("每日巡检", "Daily sweep"),
    "seed": ("演示数据", "Demo data"),
    "seed-demo": ("演示数据", "Demo data"),
    "synth": ("模拟数据生成", "Synthetic data"),
    "db upgrade": ("数据库升级", "Database upgrade"),
}


def _pick(pair: tuple[str, str]) -> str:
    return pair[1] if is_english() else pair[0]


def event_label(action: str | None) -> str:
    """The event in the reader's language; an unknown name (none should exist) as written."""
    if not action:
        return ""
    pair = EVENT_LABELS.get(action)
    return _pick(pair) if pair else action


def object_type_label(object_type: str | None) -> str:
    if not object_type:
        return ""
    pair = OBJECT_TYPE_LABELS.get(object_type)
    return _pick(pair) if pair else object_type


def actor_name(actor_label: str | None, full_name: str | None = None) -> str:
    """A staff member by full name; an API client, a process or a name typed at sign-in in words."""
    if full_name:
        return full_name
    label = actor_label or "system"
    if label in ACTOR_LABELS:
        return _pick(ACTOR_LABELS[label])
    if label.startswith("client:"):
        return (_("接口客户端 ")) + label.split(":", 1)[1]
    return label
