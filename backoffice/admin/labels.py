"""Words for the codes the admin pages and the jobs page would otherwise show: material slots
(from the verifiers' materials tables), districts (the reference table), queues and jobs,
outbox topics, rescore triggers, roles, yes/no. Each in the reader's language, from the same
data the rules use; audit event names have their own registry (backoffice/audit/events.py).
"""
from __future__ import annotations

from datetime import date

from flask import g
from sqlalchemy import select

from backoffice.extensions import db
from backoffice.i18n import _, is_english, pgettext
from backoffice.notices.services import DELIVER_NOTICE
from backoffice.outbox.services import RANK, RESCORE, RESCORE_YEAR
from backoffice.reference.models import District
from backoffice.staff.models import ROLE_LABELS, ROLE_LABELS_EN, Role, Staff
from queues.jobs import PURPOSES
from verifiers.eligibility import OBJECTION_MATERIALS, OBJECTION_REASONS
from verifiers import settlement
from verifiers.materials import REVIEW_TYPES
from verifiers.reasons import OUTCOMES, decision_reason

# Material slots: every row of every materials table (附件 / 第三篇), the objection materials,
# and the employer's licence (单位注册).
_SLOTS: dict[str, tuple[str, str]] = {}
for _t in REVIEW_TYPES:
    for _row in _t.rows:
        _SLOTS.setdefault(_row.code, (_row.label_zh, _row.label_en))
for _rows in OBJECTION_MATERIALS.values():
    for _row in _rows:
        _SLOTS.setdefault(_row.code, (_row.label_zh, _row.label_en))
_SLOTS.setdefault("licence", ("单位证照（营业执照等）", "Unit licence"))
# The settlement checklist (第五篇 二), every place and up to MAX_CHILDREN children.
_everyone = tuple(settlement.Child("x", "x", date(2010, 1, 1), 3, "father") for _ in range(settlement.MAX_CHILDREN))
for _place in settlement.PLACES:
    for _archive in (True, False):
        _facts = settlement.SettlementFacts(place=_place, children=_everyone, spouse_home_points=True,
                                            has_archive=_archive, by_agent=True)
        for _item in settlement.checklist(_facts):
            _zh = f"随迁子女{_item.child}：{_item.label_zh}" if _item.child else _item.label_zh
            _SLOTS.setdefault(_item.code, (_zh, _item.label_en))
SLOT_LABELS = _SLOTS

# The RQ queues, named by purpose (queues/jobs.py PURPOSES).
QUEUE_LABELS: dict[str, tuple[str, str]] = {
    "rescore": ("重新计分", "Rescoring"),
    "rank": ("年度排名", "Ranking"),
    "notify": ("告知书送达", "Notice delivery"),
    "bulk": ("全年度重新计分（分块）", "Whole-year rescoring (chunks)"),
    "maintenance": ("维护（全年度重算）", "Maintenance (whole-year rescoring)"),
}
assert set(QUEUE_LABELS) == set(PURPOSES), "every queue of queues/jobs.py needs its words"

# What an outbox row asks for (outbox/services.py, notices/services.py topics).
TOPIC_LABELS: dict[str, tuple[str, str]] = {
    RESCORE: ("重新计算申报积分", "Rescore an application"),
    RANK: ("重新计算年度排名", "Rank the year"),
    RESCORE_YEAR: ("全年度重新计分", "Rescore the whole year"),
    DELIVER_NOTICE: ("发送告知书", "Deliver a notice"),
}

# Job functions, by name (queues/jobs.py, queues/notify.py).
JOB_LABELS: dict[str, tuple[str, str]] = {
    "rescore_application": ("重新计算申报积分", "Rescore an application"),
    "rerank_year": ("重新计算年度排名", "Rank the year"),
    "rescore_year": ("全年度重新计分", "Rescore the whole year"),
    "rescore_chunk": ("全年度重新计分（一块）", "Rescore one chunk of the year"),
    "deliver_notice": ("发送告知书", "Deliver a notice"),
}

# Why a score was (re)computed: the trigger written with each snapshot and rescore request.
TRIGGER_LABELS: dict[str, tuple[str, str]] = {
    "decision": ("审核决定", "Review decision"),
    "tip": ("举报核查", "Tip finding"),
    "claim_changed": ("指标修改", "Claim changed"),
    "claim_deleted": ("指标删除", "Claim deleted"),
    "registry": ("部门核查结果", "Registry result"),
    "seed-demo": ("演示数据", "Demo data"),
    "seed": ("演示数据", "Demo data"),
    "synth": ("模拟数据", "Synthetic data"),
    "rule_correction": ("计分规则更正", "Rule correction"),
    "rescore": ("积分变化", "Score change"),
    "intake": ("申报", "Filing"),
    "simulator": ("模拟计算", "Simulator"),
}

WORKER_STATES: dict[str, tuple[str, str]] = {
    "idle": ("空闲", "Idle"),
    "busy": ("执行中", "Busy"),
    "started": ("已启动", "Started"),
    "suspended": ("已暂停", "Suspended"),
}


def pick(pair: tuple[str, str]) -> str:
    return pair[1] if is_english() else pair[0]


def _from(mapping: dict[str, tuple[str, str]], code) -> str:
    if code is None or code == "":
        return ""
    pair = mapping.get(str(code))
    return pick(pair) if pair else str(code)


def slot_label(code: str | None) -> str:
    return _from(SLOT_LABELS, code)


def queue_label(purpose: str | None) -> str:
    return _from(QUEUE_LABELS, purpose)


def topic_label(topic: str | None) -> str:
    return _from(TOPIC_LABELS, topic)


def job_label(func_name: str | None) -> str:
    """A job by what it does: "queues.jobs.rescore_application" -> 重新计算申报积分."""
    if not func_name:
        return ""
    return _from(JOB_LABELS, func_name.rsplit(".", 1)[-1])


def worker_state_label(state: str | None) -> str:
    return _from(WORKER_STATES, (state or "").rsplit(".", 1)[-1].lower())


def trigger_label(trigger: str | None) -> str:
    """"decision", "tip-38", "rescore:12": the cause in words, the case or application kept."""
    if not trigger:
        return ""
    if trigger in TRIGGER_LABELS:
        return pick(TRIGGER_LABELS[trigger])
    for sep in ("-", ":"):
        head, _, tail = trigger.partition(sep)
        if tail and head in TRIGGER_LABELS:
            return f"{pick(TRIGGER_LABELS[head])} {tail}"
    return trigger


def role_label(role) -> str:
    if role is None:
        return ""
    role = Role(getattr(role, "value", role))
    return ROLE_LABELS_EN[role] if is_english() else ROLE_LABELS[role]


def yes_no(value) -> str:
    return pgettext("Yes", "是") if value else pgettext("No", "否")


def district_names() -> dict[int, str]:
    """{district id: name}, read once per request (seventeen rows)."""
    if "district_names" not in g:
        g.district_names = dict(db.session.execute(select(District.id, District.name)).all())
    return g.district_names


def district_label(district_id) -> str:
    """A district by its name; none: city level (市级)."""
    if district_id is None or district_id == "":
        return _("市级")
    try:
        return district_names().get(int(district_id), str(district_id))
    except (TypeError, ValueError):
        return str(district_id)


def staff_names(ids) -> dict[int, str]:
    """{staff id: full name} for the ids given, in one query, kept for the request."""
    known = g.setdefault("staff_names", {})
    wanted = {int(i) for i in ids if i is not None} - set(known)
    if wanted:
        known.update(db.session.execute(select(Staff.id, Staff.full_name).where(Staff.id.in_(wanted))).all())
    return known


def decision_reason_label(code: str | None) -> str:
    """A decision's reason (verifiers/reasons.py DECISION_REASONS, or an objection's reason)."""
    if not code:
        return ""
    try:
        found = decision_reason(code)
    except KeyError:
        found = next((r for r in OBJECTION_REASONS if r.code == code), None)
    if found is None:
        return code
    return found.label_en if is_english() else found.label_zh


def outcome_label(outcome) -> str:
    code = getattr(outcome, "value", outcome)
    found = next((o for o in OUTCOMES if o.code == code), None)
    if found is None:
        return str(code or "")
    return found.label_en if is_english() else found.label_zh


# A job's arguments (queues/jobs.py signatures), named as the pages name them.
ARGUMENT_LABELS: dict[str, tuple[str, str]] = {
    "application_id": ("申报", "Application"),
    "year": ("年度", "Year"),
    "trigger": ("原因", "Cause"),
    "decision_id": ("审核决定", "Decision"),
    "notice_id": ("告知书", "Notice"),
    "force": ("强制重算", "Forced"),
    "first_id": ("起始申报编号", "From application"),
    "last_id": ("截止申报编号", "To application"),
}


def job_arguments(kwargs: dict | None) -> str:
    """"申报 12，原因 审核决定" rather than "application_id=12, trigger=decision"."""
    parts = []
    for key, value in (kwargs or {}).items():
        if key == "trigger":
            value = trigger_label(value)
        elif isinstance(value, bool):
            value = yes_no(value)
        parts.append(f"{_from(ARGUMENT_LABELS, key)} {value}")
    return _("，").join(parts)
