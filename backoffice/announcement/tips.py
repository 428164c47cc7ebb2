"""Working a tip (举报) during the announcement (第五篇 一、2):

“公示期间有异议的，可在公示期内向市人力资源社会保障局实名书面举报，市人力资源社会保障局会同相关部门
根据举报情况进行查证，并严格为举报人保密。”

An investigator claims the tip, records findings (notes, evidence PDFs, each check made
with a department: which department, what was asked, the answer) and closes it with an
outcome and a reason:

* 不属实 (unfounded): the tip closes; if the window has closed meanwhile, the application
  gets its qualification now (services.grant_qualification);
* 属实·积分更正 (score corrected): names the claims and their corrected facts; a second
  investigator or a city supervisor countersigns, then the corrected facts become the
  claims' verified facts and the application is rescored through the outbox, as a case
  decision is (cases/services.py);
* 属实·提供虚假材料 (falsified): proposes a revocation (services.propose_revocation); the tip
  closes when a city supervisor confirms it, or goes back to the investigator when they refuse.

Every function checks the rules of staff/permissions.py, flushes, audits, never commits.
Audit rows of tips never carry the reporter's identity.
"""
from __future__ import annotations

from collections.abc import Mapping

from flask import current_app
from sqlalchemy import select

from backoffice.announcement import services
from backoffice.announcement.models import (
    FindingKind,
    RevocationGround,
    TIP_OUTCOME_LABELS,
    TipFinding,
    TipOutcome,
    TipResolution,
)
from backoffice.applications.models import IndicatorClaim
from backoffice.audit.services import record
from backoffice.cases import facts as facts_module
from backoffice.cases.models import CaseKind, CaseStatus, ReviewCase
from backoffice.core.db import utcnow
from backoffice.extensions import db
from backoffice.outbox.services import request_rescore
from backoffice.staff.permissions import can_countersign_tip, can_view_tip, can_work_tip
from verifiers.uploads import UploadRejected, store
from backoffice.i18n import _

TEXT_MAX = 2000
RESCORE_TRIGGER = "tip"
AnnouncementError = services.AnnouncementError


def _refuse_unless(verdict) -> None:
    if not verdict:
        raise AnnouncementError(verdict.message, status=403)


def _invalid(errors: dict) -> AnnouncementError:
    return AnnouncementError(_("请修改标出的内容后再提交"), errors, status=422)


def _audit(action: str, case: ReviewCase, actor, after: dict | None = None, before: dict | None = None) -> None:
    # City level (district None): tips are the investigators' work, not a district's.
    record(action, "review_case", case.id, district_id=None, actor=actor, before=before, after=after)


def _text(value, field: str, errors: dict, *, required: bool = True, limit: int = TEXT_MAX) -> str:
    value = (value or "").strip()
    if required and not value:
        errors[field] = _("必填")
    elif len(value) > limit:
        errors[field] = _("不能超过%(limit)s字", limit=limit)
    return value


def _check_tip(case: ReviewCase) -> None:
    if case.kind != CaseKind.tip:
        raise AnnouncementError(_("这不是举报"), status=404)


def latest_resolution(case: ReviewCase) -> TipResolution | None:
    return db.session.scalar(select(TipResolution).where(TipResolution.case_id == case.id)
                             .order_by(TipResolution.id.desc()).limit(1))


def findings(case: ReviewCase) -> list[TipFinding]:
    return db.session.scalars(select(TipFinding).where(TipFinding.case_id == case.id).order_by(TipFinding.id)).all()


def claim_tip(case: ReviewCase, *, actor) -> ReviewCase:
    _check_tip(case)
    _refuse_unless(can_work_tip(actor, case))
    if case.status == CaseStatus.in_review and case.assignee_id == actor.id:
        return case
    if case.status != CaseStatus.open:
        raise AnnouncementError(_("只有“待领取”的举报可以领取"))
    case.assignee_id, case.status = actor.id, CaseStatus.in_review
    db.session.flush()
    _audit("tip.claimed", case, actor, before={"status": "open"}, after={"status": case.status, "assignee_id": actor.id})
    return case


def _assignee_working(case: ReviewCase, actor) -> None:
    _check_tip(case)
    _refuse_unless(can_work_tip(actor, case))
    if case.assignee_id != actor.id or case.status != CaseStatus.in_review:
        raise AnnouncementError(_("请先领取该举报"))


def add_finding(case: ReviewCase, *, actor, kind: str, note: str | None = None, department: str | None = None,
                question: str | None = None, answer: str | None = None, file_data: bytes | None = None,
                file_name: str | None = None) -> TipFinding:
    _assignee_working(case, actor)
    errors: dict = {}
    try:
        kind_value = FindingKind(kind)
    except ValueError:
        raise _invalid({"kind": _("请选择记录类型")}) from None
    finding = TipFinding(case_id=case.id, kind=kind_value, created_by_id=actor.id)
    if kind_value == FindingKind.note:
        finding.note = _text(note, "note", errors)
    elif kind_value == FindingKind.check:
        finding.department = _text(department, "department", errors, limit=100)
        finding.question = _text(question, "question", errors)
        finding.answer = _text(answer, "answer", errors)
    else:
        finding.note = _text(note, "note", errors, required=False)
        if not file_data:
            errors["file"] = _("请选择PDF文件")
        else:
            try:
                info = store(file_data, current_app.config["BACKOFFICE"].upload_dir)
            except UploadRejected as exc:
                errors["file"] = f"{exc.message_zh} / {exc.message_en}"
            else:
                finding.file_sha256, finding.file_size = info.sha256, info.size
                finding.file_name = (file_name or "")[:255] or None
    if errors:
        raise _invalid(errors)
    db.session.add(finding)
    db.session.flush()
    _audit("tip.finding_added", case, actor, after={
        "finding_id": finding.id, "kind": kind_value, "department": finding.department,
        "file_sha256": finding.file_sha256})
    return finding


def parse_corrections(case: ReviewCase, raw: Mapping[int, Mapping[str, str]]) -> tuple[dict, dict]:
    """{claim id: typed facts} → ({"<claim id>": facts}, errors). Only the application's
    counting claims can be corrected (others do not score)."""
    corrections, errors = {}, {}
    for claim_id, values in raw.items():
        claim = db.session.get(IndicatorClaim, int(claim_id))
        if claim is None or claim.application_id != case.application_id:
            errors[f"claim-{claim_id}"] = _("不是该申请的指标")
            continue
        if not any((v or "").strip() for v in values.values()):
            continue
        if not claim.counts:
            errors[f"claim-{claim_id}"] = _("该指标未计分，无需更正")
            continue
        facts, problems = facts_module.parse(claim.indicator.value, case.year, values)
        if problems:
            errors.update({f"facts-{claim_id}-{k}" if k else f"claim-{claim_id}": v for k, v in problems.items()})
        else:
            corrections[str(claim.id)] = facts
    return corrections, errors


def close_tip(case: ReviewCase, *, actor, outcome: str, reason: str,
              corrections: Mapping[int, Mapping[str, str]] | None = None, ground: str | None = None,
              employer_helped: bool = False, refer_credit: bool = False, refer_judicial: bool = False) -> TipResolution:
    """The assignee's outcome, with a reason (see the module docstring)."""
    _assignee_working(case, actor)
    errors: dict = {}
    try:
        outcome_value = TipOutcome(outcome)
    except ValueError:
        outcome_value = None
        errors["outcome"] = _("请选择核查结论")
    reason = _text(reason, "reason", errors)
    clean = None
    if outcome_value == TipOutcome.score_corrected:
        clean, fact_errors = parse_corrections(case, corrections or {})
        errors.update(fact_errors)
        if not clean and not fact_errors:
            errors["corrections"] = _("请填写需更正的指标及更正后的信息")
    if outcome_value == TipOutcome.falsified:
        ground = ground or RevocationGround.falsified_materials.value
    if errors:
        raise _invalid(errors)
    resolution = TipResolution(case_id=case.id, outcome=outcome_value, reason=reason, corrections=clean,
                               decided_by_id=actor.id)
    db.session.add(resolution)
    db.session.flush()
    before = {"status": case.status}
    if outcome_value == TipOutcome.unfounded:
        _close(case)
    else:
        case.status = CaseStatus.awaiting_countersign
        db.session.flush()
    _audit("tip.decided", case, actor, before=before, after={
        "resolution_id": resolution.id, "outcome": outcome_value, "outcome_zh": TIP_OUTCOME_LABELS[outcome_value],
        "reason": reason, "corrections": clean, "status": case.status})
    if outcome_value == TipOutcome.falsified:
        services.propose_revocation(case.application, actor=actor, ground=ground, finding=reason, tip_case=case,
                                    employer_helped=employer_helped, refer_credit=refer_credit,
                                    refer_judicial=refer_judicial)
    if outcome_value == TipOutcome.unfounded:
        services.grant_qualification(case.application, actor=actor)
    return resolution


def _close(case: ReviewCase) -> None:
    case.status = CaseStatus.closed
    case.closed_at = utcnow()
    db.session.flush()


def countersign_tip(case: ReviewCase, *, actor, confirm: bool, reason: str | None = None) -> TipResolution:
    """The second signature of a score correction: confirmed, the corrected facts replace the
    claims' verified facts and the application is rescored (outbox); or sent back."""
    _check_tip(case)
    resolution = latest_resolution(case)
    if (case.status != CaseStatus.awaiting_countersign or resolution is None
            or resolution.outcome != TipOutcome.score_corrected or resolution.signed_at is not None):
        raise AnnouncementError(_("该举报没有待复核的积分更正"))
    _refuse_unless(can_countersign_tip(actor, resolution.decided_by_id))
    reason = (reason or "").strip()
    if not confirm and not reason:
        raise _invalid({"sign_reason": _("退回时请填写理由")})
    resolution.signed_by_id, resolution.signed_at = actor.id, utcnow()
    resolution.confirmed, resolution.sign_reason = confirm, reason or None
    if confirm:
        for claim_id, facts in (resolution.corrections or {}).items():
            claim = db.session.get(IndicatorClaim, int(claim_id))
            before = {"verified": claim.verified}
            claim.verified = dict(facts)
            db.session.flush()
            record("claim.verified_corrected", "indicator_claim", claim.id, district_id=case.district_id, actor=actor,
                   before=before, after={"verified": claim.verified, "tip": case.number})
        request_rescore(case.application_id, trigger=f"{RESCORE_TRIGGER}-{case.id}")
        _close(case)
    else:
        case.status = CaseStatus.in_review
        db.session.flush()
    _audit("tip.countersigned" if confirm else "tip.sent_back", case, actor,
           after={"resolution_id": resolution.id, "confirmed": confirm, "reason": reason or None, "status": case.status})
    if confirm:
        services.grant_qualification(case.application, actor=actor)
    return resolution


def can_open(user, case) -> bool:
    return case is not None and case.kind == CaseKind.tip and bool(can_view_tip(user, case))
