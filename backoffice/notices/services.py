"""Issuing notices (告知书): one per outcome that reaches the applicant.

`issue_notice(case, decision, kind)` renders the kind's template (templates/notices/<kind>.txt:
blocks `title`, `body` and `sms`), renders the PDF (backoffice/core/pdf.py: its Chinese text
extracts), stores both with the case, and writes one `NotificationOutbox` row per channel
plus the job request (backoffice/outbox) — all in the caller's transaction: the notice and
its delivery exist exactly when the decision does. It flushes, never commits.

第四篇 一: "异议申诉处理结果将以短信方式和在线方式告知申请人，并用于计算年度总积分。"
Every notice goes to the online system's events feed; the SMS goes when the applicant has a
phone number on file.

The case decision service calls `notify_decision` for the final decision (the one that
reaches the applicant: after a countersignature when one is needed) and for a return for
materials: 复查 and 异议申诉 results, 资格异议 results (`eligibility_result`, with the
re-check's outcome) and returns for materials of any of them. The settlement module, whose
decisions are steps rather than `Decision` rows, calls `issue_notice(case, NoticeDecision(...),
"settlement_return")` when the district returns the materials.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from jinja2 import Environment, StrictUndefined
from sqlalchemy import func, select

from backoffice.audit.services import record
from backoffice.cases.intake import case_conditions
from backoffice.cases.models import OUTCOME_LABELS, CaseKind, Outcome
from backoffice.core import pdf
from backoffice.core.db import utcnow
from backoffice.eligibility.models import EligibilityResult
from backoffice.extensions import db
from backoffice.notices.models import NOTICE_KINDS, Notice, NotificationOutbox
from backoffice.outbox.services import enqueue, job_key
from verifiers import eligibility as eligibility_rules
from verifiers.indicators import UnknownCode, indicator as indicator_rule
from verifiers.filings import filing_rule
from verifiers.materials import review_type as materials_review_type
from verifiers.reasons import REASON_CODES, decision_reason, reason as registry_reason
from backoffice.notices.models import CHANNEL_LABELS

BEIJING = ZoneInfo("Asia/Shanghai")
SMS_MAX = 70
DELIVER_NOTICE = "deliver_notice"  # the outbox topic the relay turns into queues.notify.deliver_notice

# What the applicant contested, per case kind, in the notices' words.
CONTEST_LABELS = {"review": "复查申请", "filing": "填报凭证", "appeal": "异议申诉", "settlement": "落户材料",
                  "eligibility_objection": "资格异议"}

# Until when the clock waits after a return for materials: the end of the phase in which the
# online system accepts that contest's materials (the handbook sets no shorter term): 复查 in
# the application phase ("申报阶段结束后，无法新增、修改或保存指标信息"), appeals in the
# result-query phase ("该阶段结束后，不再受理申请人针对本人积分指标的异议诉求"), settlement
# materials in the settlement period.
WAIT_UNTIL_PHASE = {
    "review": ("application_end", "申报阶段"),
    "filing": ("application_end", "申报阶段"),
    "appeal": ("result_query_end", "审核结果查询阶段"),
    "eligibility_objection": ("application_end", "申报阶段"),
    "settlement": ("settlement_end", "落户办理期"),
}


class NoticeError(ValueError):
    pass


@dataclass
class NoticeDecision:
    """A decision that is not a `Decision` row (the settlement module's steps), as the notices read
    it: the outcome code, the reason (its code, and its words when the code is not one of
    verifiers/reasons.py), the note, and — when the caller's checklist is not a materials table of
    verifiers/materials.py — the labels of what is missing and the rows marked as a problem."""

    outcome: str
    reason_code: str | None = None
    reason_text: str | None = None
    note: str = ""
    missing: list[str] | None = None
    problems: list[dict] | None = None
    # Until when the clock waits, when the case has its own term (a qualification's two years).
    wait_until: date | None = None
    wait_phase: str | None = None


# Templates ------------------------------------------------------------------------------
_environments: dict[int, Environment] = {}


def _environment() -> Environment:
    """Text templates: no HTML escaping, block tags leave no blank lines, unknown names fail."""
    loader = current_app.jinja_loader
    env = _environments.get(id(loader))
    if env is None:
        env = Environment(loader=loader, autoescape=False, trim_blocks=True, lstrip_blocks=True,
                          undefined=StrictUndefined, keep_trailing_newline=False)
        _environments[id(loader)] = env
    return env


@dataclass
class Rendered:
    title: str
    paragraphs: list[str]
    short_text: str

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


def render_text(kind: str, context: dict) -> Rendered:
    """The kind's template with `context`: title, body paragraphs (separated by blank lines;
    a single newline is a line break inside a paragraph) and the SMS text."""
    if kind not in NOTICE_KINDS:
        raise NoticeError(f"unknown notice kind {kind!r}")
    template = _environment().get_template(f"notices/{kind}.txt")
    ctx = template.new_context(dict(context))

    def block(name: str) -> str:
        return "".join(template.blocks[name](ctx)).strip()

    body = block("body")
    paragraphs = []
    for chunk in body.split("\n\n"):
        lines = [line.strip() for line in chunk.strip().splitlines() if line.strip()]
        if lines:
            paragraphs.append("\n".join(lines))
    short = "".join(block("sms").split())
    return Rendered(title=block("title"), paragraphs=paragraphs, short_text=short)


# Phone numbers ----------------------------------------------------------------------------
def mask_phone(value: str | None) -> str:
    """138****5678: what every page shows of an applicant's phone number."""
    if not value:
        return ""
    digits = value.strip()
    if len(digits) < 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


# Context ----------------------------------------------------------------------------------
def cn_date(day: date | datetime) -> str:
    if isinstance(day, datetime):
        day = day.astimezone(BEIJING).date()
    return f"{day.year}年{day.month}月{day.day}日"


_OBJECTION_REASONS = {r.code: r.label_zh for r in eligibility_rules.OBJECTION_REASONS}


def _decision_reason_text(decision) -> str:
    explicit = getattr(decision, "reason_text", None)
    if explicit:
        return explicit
    code = getattr(decision, "reason_code", None)
    if code in _OBJECTION_REASONS:  # 资格异议's own reasons (verifiers/eligibility.py)
        return _OBJECTION_REASONS[code]
    try:
        return decision_reason(code).label_zh
    except (UnknownCode, KeyError):
        return code or ""


def _registry_text(case) -> str | None:
    """The registry's result on the contested claim, in the handbook's words."""
    claim = case.claim
    if claim is None or not claim.registry_reason:
        return None
    # The result this case contests: a tax claim may carry two, each contested on its own.
    code = case.reason_code if case.reason_code in REASON_CODES else claim.registry_reason
    try:
        return registry_reason(code).text(year=case.year)
    except (UnknownCode, KeyError, ValueError):
        return claim.registry_message


def _materials(case, decision) -> tuple[list[str], list[dict]]:
    """(labels of the missing slots, rows the reviewer marked as a problem with their note),
    by the case's materials table (verifiers/materials.py), or as the caller's decision names
    them (`NoticeDecision.missing`/`problems`, e.g. the settlement checklist of 第五篇 二)."""
    given = getattr(decision, "missing", None)
    if given is not None:
        return list(given), list(getattr(decision, "problems", None) or [])
    if _kind_value(case) == CaseKind.eligibility_objection.value:
        # 资格异议 is decided on the condition's documents (OBJECTION_MATERIALS), brought to the
        # window; a return asks for them, as the workspace lists them.
        return [m.label_zh for m in eligibility_rules.OBJECTION_MATERIALS.get(case.reason_code, ())], []
    checklist = getattr(decision, "checklist", None)
    if not case.review_type:
        return [], []
    rt = materials_review_type(case.review_type)
    if not rt.rows:
        return [], []
    checklist = checklist or {}
    sound = [code for code, entry in checklist.items() if (entry or {}).get("state") == "acceptable"]
    labels = {r.code: r.label_zh for r in rt.rows} | {g.code: g.label_zh for g in rt.groups}
    missing = [labels[code] for code in rt.missing(sound, case_conditions(case))]
    problems = [{"label": labels.get(code, code), "note": (entry or {}).get("note") or ""}
                for code, entry in checklist.items()
                if (entry or {}).get("state") == "problem" and code in labels]
    return missing, problems


def _objection(case, outcome: str | None) -> tuple[str | None, dict | None]:
    if _kind_value(case) != CaseKind.eligibility_objection.value:
        return None, None
    try:
        title = eligibility_rules.condition(case.reason_code).title.split("、", 1)[-1]
    except ValueError:
        title = None
    recheck = None
    if outcome == Outcome.corrected.value:
        # The check re-run by this decision (eligibility/services.apply_objection, same transaction).
        row = db.session.scalar(select(EligibilityResult).where(EligibilityResult.case_id == case.id)
                                .order_by(EligibilityResult.id.desc()).limit(1))
        if row is not None:
            first = row.failing[0] if row.failing else {}
            recheck = {"eligible": row.eligible, "title": (first.get("title") or "").split("、", 1)[-1],
                       "reason": first.get("reason") or ""}
    return title, recheck


def _filing(case) -> dict:
    """A filing's evidence (verifiers/filings.py): what was filed, what its decision settles, and
    the status a rejected spouse's evidence leaves on the home — 第三篇 二 "(2)自有住所、租赁住所配偶
    信息审核无效复查": "该配偶名下自有住所、租赁住所状态显示为“无效(配偶信息无效)”…此种情况不能申请
    复查,可先删除该配偶住所、再删除对应配偶信息后重新填写。"
    """
    rule = filing_rule(case.review_type) if _kind_value(case) == CaseKind.filing.value else None
    if rule is None:
        return {"filing_label": None, "filing_settles": None, "filing_rejected_text": None}
    rejected = None
    if rule.rejected_reason:
        rejected = registry_reason(rule.rejected_reason).text(year=case.year)
    return {"filing_label": materials_review_type(rule.review_type).label_zh, "filing_settles": rule.settles,
            "filing_rejected_text": rejected}


def _kind_value(case) -> str:
    kind = case.kind
    return kind.value if hasattr(kind, "value") else str(kind)


def build_context(case, decision, kind: str, number: str, issued: datetime) -> dict:
    application = case.application
    applicant = application.applicant
    district = case.district
    claim = case.claim
    indicator_label = None
    if claim is not None:
        indicator_label = indicator_rule(claim.indicator.value).label_zh
    elif case.kind == CaseKind.appeal and case.reason_code:
        try:
            indicator_label = indicator_rule(case.reason_code).label_zh
        except UnknownCode:
            indicator_label = None
    outcome = getattr(decision, "outcome", None)
    outcome_code = outcome.value if hasattr(outcome, "value") else outcome
    missing, problems = _materials(case, decision)
    case_kind = _kind_value(case)
    phase_field, phase_label = WAIT_UNTIL_PHASE.get(case_kind, WAIT_UNTIL_PHASE["review"])
    year = application.year_ref
    condition_title, recheck = _objection(case, outcome_code)
    return {
        "number": number,
        "kind_title": NOTICE_KINDS[kind],
        "case_number": case.number,
        "contest": CONTEST_LABELS.get(case_kind, "申请"),
        "year": case.year,
        "applicant_name": applicant.name,
        "masked_id": applicant.masked_id,
        "indicator_label": indicator_label,
        "received_on": cn_date(case.received_on),
        "outcome": outcome_code,
        # Outcome is a str enum: its labels are found by the plain code too.
        "outcome_label": OUTCOME_LABELS.get(outcome_code, outcome_code or ""),
        "reason_text": _decision_reason_text(decision),
        "registry_text": _registry_text(case),
        "note": (getattr(decision, "note", None) or "").strip(),
        "corrected": getattr(decision, "corrected_facts", None),
        "missing": missing,
        "problems": problems,
        "paused_on": cn_date(case.paused_on or issued.astimezone(BEIJING).date()),
        "wait_until": (cn_date(decision.wait_until) if getattr(decision, "wait_until", None)
                       else cn_date(getattr(year, phase_field)) if year is not None else ""),
        "wait_phase": getattr(decision, "wait_phase", None) or phase_label,
        "district_name": district.name,
        "window_address": district.window_address,
        "window_phone": district.phone,
        "issued_on": cn_date(issued),
        # 资格异议: the condition objected to (第一篇's heading) and, when decided in the applicant's
        # favour, the re-check's result (eligible, or the first condition still failing and why).
        "condition_title": condition_title,
        "recheck": recheck,
    } | _filing(case)


# Issuing ----------------------------------------------------------------------------------
def kind_for(case, decision) -> str | None:
    """Which notice a case decision gives the applicant, if any."""
    outcome = getattr(decision, "outcome", None)
    outcome = outcome.value if hasattr(outcome, "value") else outcome
    case_kind = _kind_value(case)
    if outcome == Outcome.returned.value:
        return "settlement_return" if case_kind == "settlement" else "materials_return"
    return {"review": "review_result", "appeal": "appeal_result", "filing": "filing_result",
            "eligibility_objection": "eligibility_result"}.get(case_kind)


def notify_decision(case, decision, *, actor=None) -> Notice | None:
    """The case service's one call: the notice of this decision, when it reaches the applicant."""
    kind = kind_for(case, decision)
    if kind is None:
        return None
    return issue_notice(case, decision, kind, actor=actor)


def _next_number(case) -> str:
    # The case's row is versioned (optimistic lock): two decisions on one case cannot both
    # commit, so counting its notices gives each its own number; the unique index backs it.
    count = db.session.scalar(select(func.count()).select_from(Notice).where(Notice.case_id == case.id)) or 0
    return f"{case.number}-{count + 1:02d}"


def issue_notice(case, decision, kind: str, *, actor=None) -> Notice:
    """Render, store and queue the notice of `decision` on `case` (in the caller's transaction)."""
    if kind not in NOTICE_KINDS:
        raise NoticeError(f"unknown notice kind {kind!r}; expected one of {', '.join(NOTICE_KINDS)}")
    issued = utcnow()
    number = _next_number(case)
    context = build_context(case, decision, kind, number, issued)
    rendered = render_text(kind, context)
    if len(rendered.short_text) > SMS_MAX:
        raise NoticeError(f"SMS text of {kind} has {len(rendered.short_text)} characters (> {SMS_MAX})")
    document = pdf.Document(
        title=rendered.title,
        number=f"编号：{number}",
        paragraphs=rendered.paragraphs,
        closing=[f"{context['district_name']}积分落户服务窗口", context["issued_on"]],
    )
    data = pdf.render(document)
    decision_id = getattr(decision, "id", None) if type(decision).__name__ == "Decision" else None
    notice = Notice(
        number=number, case_id=case.id, application_id=case.application_id, district_id=case.district_id,
        decision_id=decision_id, kind=kind, outcome=context["outcome"], title=rendered.title,
        text=rendered.text, short_text=rendered.short_text, pdf=data,
        pdf_sha256=hashlib.sha256(data).hexdigest(), issued_at=issued,
        issued_by_id=getattr(actor, "id", None),
    )
    db.session.add(notice)
    db.session.flush()
    db.session.add(NotificationOutbox(notice_id=notice.id, channel="feed"))
    phone = (case.application.applicant.phone or "").strip()
    if phone:
        db.session.add(NotificationOutbox(notice_id=notice.id, channel="sms", recipient=phone))
    db.session.flush()
    enqueue(DELIVER_NOTICE, {"notice_id": notice.id}, job_key("notice", notice.id),
            application_id=case.application_id)
    record("notice.issued", "notice", notice.id, district_id=case.district_id, actor=actor,
           after={"number": number, "kind": kind, "case": case.number, "decision_id": decision_id,
                  "channels": ["feed"] + (["sms"] if phone else [])})
    return notice


def notices_of_case(case_id: int) -> list[Notice]:
    return list(db.session.scalars(select(Notice).where(Notice.case_id == case_id).order_by(Notice.id)))


@dataclass
class DeliveryProblem:
    number: str
    channel: str
    recipient: str  # masked
    attempts: int
    last_error: str
    created_at: datetime


def delivery_problems(limit: int = 50) -> list[DeliveryProblem]:
    """Undelivered channels that have failed at least once, for the jobs page."""

    rows = db.session.execute(
        select(Notice.number, NotificationOutbox.channel, NotificationOutbox.recipient, NotificationOutbox.attempts,
               NotificationOutbox.last_error, NotificationOutbox.created_at)
        .join(Notice, Notice.id == NotificationOutbox.notice_id)
        .where(NotificationOutbox.delivered_at.is_(None), NotificationOutbox.last_error.is_not(None))
        .order_by(NotificationOutbox.id.desc()).limit(limit)
    ).all()
    return [DeliveryProblem(r.number, CHANNEL_LABELS.get(r.channel, r.channel), mask_phone(r.recipient),
                            r.attempts, r.last_error, r.created_at) for r in rows]
