"""Intake of review requests (复查), appeals (异议申诉) and tips (举报) as cases.

The intake API (backoffice/intake/api.py) and the demo seed call these; they change and
flush, the caller commits. Every refusal is an ``IntakeRefused`` carrying a rule code and
the rule in Chinese and English; ``status`` is the HTTP status the API answers with
(409 for a rule of the scheme, 422 for a bad field, naming it in ``field``).

Rules, each from the handbook:

* a 复查 contests a registry result whose reason may be contested; otherwise it is refused
  with the handbook's instruction (``verifiers.reasons.contest_refusal``: delete and refile,
  or file in the 市科委 system);
* one open case per claim and contested result (the partial unique index
  ``uq_review_cases_open_claim`` backs it): a tax claim may carry two results at once, some
  year invalid and a tax violation, and each is contested on its own (see ``submit_review``);
  an open appeal of a claim excludes any other case of it;
* an appeal names the indicator, and may name the claims it disputes (``claims``): a
  housing indicator of several segments, several awards (``CaseClaim``);
* a case goes to the queue of ``verifiers.routing.queue_for``, belongs to the application's
  district (the employer's 业务办理区), and is due in the queue's working days;
* the review type is one of the reason's ``review_types``; evidence is one PDF per material
  slot of that type's checklist (附件3, ``verifiers.uploads``), all checked before any is stored;
* appeals are filed, changed and withdrawn only in the result-query phase, tips received
  only during the 7-day announcement (``verifiers.phases``);
* a claim whose filed identifiers need evidence checked at the window (the spouse's marriage
  evidence, the overseas certificate: ``verifiers.filings``) gets its filing case when it is
  filed (``open_filings``), due in its queue's working days or, for an old overseas
  certificate, the longer time of ``verifiers.filings.ARCHIVE_WORKING_DAYS``.
"""
from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from flask import current_app
from sqlalchemy import and_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from backoffice.applications.models import Application, EvidenceFile, IndicatorClaim, RegistryStatus
from backoffice.audit.services import record
from backoffice.cases import clock
from backoffice.cases.models import OPEN_STATUSES, CaseClaim, CaseKind, CaseStatus, Decision, Outcome, ReviewCase
from backoffice.core.db import utcnow
from backoffice.extensions import db
from backoffice.intake.models import TipReport
from backoffice.reference.models import District, Year
from backoffice.turnaround.services import resume
from verifiers import phases
from verifiers.filings import due_working_days_for as filing_due_days, filings_for
from verifiers.identifiers import resident_id_problem
from verifiers.indicators import INDICATOR_CODES
from verifiers.materials import review_type as _review_type
from verifiers.reasons import REASON_CODES, case_conditions, claim_reasons, contest_refusal, reason as _reason
from verifiers.routing import queue_for
from verifiers.uploads import UploadRejected, check_pdf, store
from backoffice.announcement.models import Publication, PublicationRow
from backoffice.i18n import _

STATEMENT_MAX = 2000


class IntakeRefused(Exception):
    """A request the intake refuses; the API answers ``status`` with the rule in words."""

    def __init__(self, rule: str, message_zh: str, message_en: str, *, status: int = 409,
                 field: str | None = None):
        super().__init__(rule, message_zh, message_en)
        self.rule = rule
        self.message_zh = message_zh
        self.message_en = message_en
        self.status = status
        self.field = field

    def __str__(self) -> str:
        return f"{self.rule}: {self.message_en}"


def _field_error(field: str, rule: str, zh: str, en: str) -> IntakeRefused:
    return IntakeRefused(rule, zh, en, status=422, field=field)


# Helpers ---------------------------------------------------------------------------------
def _today(today: date | None) -> date:
    return today or date.today()


def _year(application: Application) -> Year:
    year = db.session.get(Year, application.year)
    if year is None:  # pragma: no cover - the foreign key makes this impossible
        raise IntakeRefused("year.unknown", f"{application.year}年度未设置", f"year {application.year} is not set up")
    return year


def _on_published_list(application: Application) -> bool:
    """Whether the application is on its year's published list (公示名单)."""
    return db.session.scalar(
        select(PublicationRow.id).join(Publication, Publication.id == PublicationRow.publication_id)
        .where(Publication.year == application.year, PublicationRow.application_id == application.id)
    ) is not None


def check_phase(action: str, year: Year, today: date) -> None:
    refusal = phases.refusal(action, year, today)
    if refusal is not None:
        raise IntakeRefused(refusal.rule, refusal.message_zh, refusal.message_en)


def _due(queue: str, received: date, working_days: int | None = None) -> date:
    if working_days is not None:
        return clock.add_working_days(received, working_days)
    return clock.due_date_for(queue, received)  # the queue's working days (verifiers/turnaround.py)


def _upload_dir(upload_dir: str | None) -> str:
    if upload_dir is not None:
        return upload_dir
    return current_app.config["BACKOFFICE"].upload_dir


def _actor(actor_label: str | None) -> dict:
    return {"actor_label": actor_label} if actor_label else {}


def _open_case_of_claim(claim_id: int, reason_code: str | None = None) -> ReviewCase | None:
    """An open case of the claim: any (``reason_code`` None), or one that excludes a 复查 of
    this reason: a case of the same reason, or an appeal of the claim, alone or named."""
    stmt = select(ReviewCase).where(ReviewCase.status.in_(OPEN_STATUSES))
    named = select(CaseClaim.case_id).where(CaseClaim.claim_id == claim_id)
    of_claim = (ReviewCase.claim_id == claim_id) | ReviewCase.id.in_(named)
    if reason_code is not None:
        of_claim = of_claim & ((ReviewCase.reason_code == reason_code) | (ReviewCase.kind == CaseKind.appeal))
    return db.session.scalars(stmt.where(of_claim).limit(1)).first()


def _new_case(application: Application, *, kind: CaseKind, queue: str, received: date, claim=None,
              review_type=None, reason_code=None, statement=None, working_days: int | None = None) -> ReviewCase:
    """Insert a case and give it its number, 2021-110105-000123 (year, district code, id)."""
    case = ReviewCase(
        number=f"new-{uuid.uuid4().hex}"[:32],
        year=application.year,
        application_id=application.id,
        id_last4=application.applicant.id_last4,
        claim_id=claim.id if claim is not None else None,
        queue=queue,
        kind=kind,
        review_type=review_type,
        reason_code=reason_code,
        applicant_statement=statement,
        district_id=application.district_id,
        status=CaseStatus.open,
        received_on=received,
        due_date=_due(queue, received, working_days),
    )
    db.session.add(case)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        # Two requests raced for the same claim: the partial unique index decided.
        raise IntakeRefused(
            "case.open_exists", "该指标已有正在办理的案件，请等待办理结果。",
            "This claim already has an open case; wait for its result.",
        ) from None
    district_code = db.session.scalar(select(District.code).where(District.id == application.district_id))
    case.number = f"{application.year}-{district_code}-{case.id:06d}"
    db.session.flush()
    return case


def _statement(text: str | None, *, required: bool) -> str | None:
    text = (text or "").strip()
    if not text:
        if required:
            raise _field_error("statement", "statement.required", "请填写申诉说明。", "A statement is required.")
        return None
    if len(text) > STATEMENT_MAX:
        raise _field_error("statement", "statement.too_long", f"说明不能超过{STATEMENT_MAX}字。",
                           f"The statement may have at most {STATEMENT_MAX} characters.")
    return text


# 复查 --------------------------------------------------------------------------------------
def _choose_review_type(reason, requested: str | None) -> str:
    if requested is None:
        if len(reason.review_types) == 1:
            return reason.review_types[0]
        raise _field_error(
            "review_type", "review_type.required",
            "请选择复查类型：" + "、".join(reason.review_types),
            "Choose the review type, one of: " + ", ".join(reason.review_types),
        )
    if requested not in reason.review_types:
        raise _field_error(
            "review_type", "review_type.not_for_reason",
            f"复查类型{requested}不适用于“{reason.message_zh}”，可选：" + "、".join(reason.review_types),
            f"Review type {requested!r} does not apply to this result; one of: " + ", ".join(reason.review_types),
        )
    return requested


@dataclass(frozen=True)
class Upload:
    """One file as received: the bytes and the client's file name (kept only as a label)."""

    data: bytes
    filename: str | None = None


def check_evidence(review_type_code: str, conditions: frozenset[str], files: Mapping[str, Upload | bytes],
                   *, require: bool = True) -> dict[str, tuple[Upload, object]]:
    """Check every file against its slot and 附件3 before anything is stored.
    Returns {slot: (upload, PdfInfo)}; raises IntakeRefused (422) naming ``files.<slot>``."""
    rt = _review_type(review_type_code)
    slots = {row.code: row for row in rt.applicable_rows(conditions)}
    if require and not files:
        raise _field_error(
            "files", "files.required",
            "请上传凭证材料（每项材料一个PDF文件，不超过1M）：" + "、".join(r.label_zh for r in slots.values()),
            "Upload the supporting documents (one PDF of at most 1 MB per item): " + ", ".join(slots),
        )
    checked: dict[str, tuple[Upload, object]] = {}
    for slot, upload in files.items():
        if slot not in slots:
            raise _field_error(
                f"files.{slot}", "files.unknown_slot",
                f"“{rt.label_zh}”没有材料项{slot}；可上传：" + "、".join(f"{c}（{r.label_zh}）" for c, r in slots.items()),
                f"{slot!r} is not a material of review type {rt.code}; expected one of: " + ", ".join(slots),
            )
        if not isinstance(upload, Upload):
            upload = Upload(bytes(upload))
        try:
            info = check_pdf(upload.data)
        except UploadRejected as exc:
            raise IntakeRefused(f"upload.{exc.rule}", exc.message_zh, exc.message_en, status=422,
                                field=f"files.{slot}") from None
        checked[slot] = (upload, info)
    return checked


def _attach(case: ReviewCase, checked: dict, upload_dir: str | None, actor_label: str | None) -> list[EvidenceFile]:
    """Record the checked files on the case, then write them. The rows are flushed first, in
    a savepoint: a parallel first upload to the same slot (unique case and slot) answers 409
    and nothing is written; a file reaches the disk only once its request is known valid."""
    directory = _upload_dir(upload_dir)
    rows = []
    for slot, (upload, info) in sorted(checked.items()):
        existing = db.session.scalar(
            select(EvidenceFile).where(EvidenceFile.case_id == case.id, EvidenceFile.material_slot == slot)
        )
        before = None
        if existing is None:
            existing = EvidenceFile(case_id=case.id, material_slot=slot)
            db.session.add(existing)
        else:
            before = {"sha256": existing.sha256, "size": existing.size, "pages": existing.pages}
        existing.sha256, existing.size, existing.pages = info.sha256, info.size, info.pages
        existing.original_name = (upload.filename or "")[:255] or None
        existing.uploaded_at = utcnow()
        try:
            with db.session.begin_nested():
                db.session.flush()
        except IntegrityError:
            raise IntakeRefused("evidence.concurrent", "该材料项正在被另一请求上传，请稍后查看案件后再试。",
                                "Another request is uploading this material right now; check the case and "
                                "retry.", status=409) from None
        record("evidence.uploaded", "evidence_file", existing.id, district_id=case.district_id, before=before,
               after={"case": case.number, "slot": slot, "sha256": info.sha256, "size": info.size,
                      "pages": info.pages}, **_actor(actor_label))
        for flag in reuse_flags(case.id, sha256=info.sha256):
            # 提供虚假材料: the same file for two applicants is what the handbook warns of. The
            # other case's number is shown only when it is this district's own case: another
            # district's case is named to those who may see it (city level, that district).
            same_district = flag.other_district_id == case.district_id
            detail = {"sha256": info.sha256, "slot": slot, "other_case_same_district": same_district}
            if same_district:
                detail["other_case"] = flag.other_case_number
            else:
                detail["other_case_visible_to"] = _("市级工作人员及另一区的窗口")
            record("evidence.reused", "review_case", case.id, district_id=case.district_id, after=detail,
                   **_actor(actor_label))
        rows.append((existing, upload))
    for _row, upload in rows:
        store(upload.data, directory)
    return [row for row, _upload in rows]


def _contested_reason(claim: IndicatorClaim, review_type: str | None):
    """The registry result a 复查 contests: the claim's, or, when the claim carries two (a tax
    claim with an invalid year and a violation, ``verifiers.reasons.claim_reasons``), the one
    whose materials table the requested review type is.

    Why a 复查 per result, concurrently, and not one case with both tables: 第三篇 六
    "纳税指标复查所需材料清单" gives each "纳税指标类型" its own row and its own materials
    ("1 个人所得税纳税额每年在10万元及以上 — 个人所得税完税证明", "2 涉税违法行为 — 情况说明"),
    as every table of 第三篇 gives one row per kind of 复查; the two results rest on different
    facts (the yearly amounts, the violation count) and may end differently (the years
    corrected from the 完税证明, the violation record standing), and a case has one review
    type, one checklist and one outcome. So each contestable result of a claim has its own
    case, and each decision supersedes only its own part of the facts
    (``backoffice.cases.facts.CONTESTED_KEYS``)."""
    codes = claim_reasons(claim.registry_reason, claim.verified)
    if review_type is not None:
        for code in codes:
            if code in REASON_CODES and review_type in _reason(code).review_types:
                return _reason(code)
    return _reason(claim.registry_reason)


def submit_review(claim: IndicatorClaim, *, review_type: str | None = None, statement: str | None = None,
                  files: Mapping[str, Upload | bytes] | None = None, today: date | None = None,
                  upload_dir: str | None = None, actor_label: str | None = None,
                  require_evidence: bool = True) -> ReviewCase:
    """File a 复查 of the claim's registry result; returns the new case (flushed)."""
    today = _today(today)
    application = claim.application
    if claim.registry_status == RegistryStatus.pending or not claim.registry_reason:
        raise IntakeRefused(
            "review.no_result", "该指标尚无可复查的核查结果。",
            "This claim has no registry result that can be contested.",
        )
    if claim.registry_reason not in REASON_CODES:
        raise IntakeRefused("review.no_result", "该指标的核查结果不能在此申请复查。",
                            f"The registry result {claim.registry_reason!r} cannot be contested here.")
    reason = _contested_reason(claim, review_type)
    instruction = contest_refusal(reason.code)
    if instruction is not None:
        raise IntakeRefused(
            "review.not_contestable", f"“{reason.text(application.year)}”不能申请复查。{instruction}",
            f"This result ({reason.label_en}) may not be contested by a review request. "
            "The handbook's instruction to the applicant is given in Chinese.",
        )
    check_phase("review.submit", _year(application), today)
    if _open_case_of_claim(claim.id, reason.code) is not None:
        raise IntakeRefused(
            "case.open_exists", "该指标已有正在办理的案件，请等待办理结果。",
            "This claim already has an open case; wait for its result.",
        )
    chosen = _choose_review_type(reason, review_type)
    text = _statement(statement, required=False)
    conditions = case_conditions(reason.code, claim, chosen)
    checked = check_evidence(chosen, conditions, files or {}, require=require_evidence)
    queue = queue_for(claim.indicator.value, "review")
    case = _new_case(application, kind=CaseKind.review, queue=queue, received=today, claim=claim,
                     review_type=chosen, reason_code=reason.code, statement=text)
    record("case.received", "review_case", case.id, district_id=case.district_id, **_actor(actor_label),
           after={"number": case.number, "kind": "review", "queue": queue, "claim_id": claim.id,
                  "reason": reason.code, "review_type": chosen, "due_date": case.due_date})
    _attach(case, checked, upload_dir, actor_label)
    return case


def add_evidence(case: ReviewCase, files: Mapping[str, Upload | bytes], *, today: date | None = None,
                 upload_dir: str | None = None, actor_label: str | None = None) -> list[EvidenceFile]:
    """Add or replace files of an open 复查. A case returned for materials resumes: its clock
    restarts and the due date moves on by the working days it waited (turnaround.services.resume)."""
    if case.kind not in (CaseKind.review, CaseKind.filing) or not case.is_open:
        raise IntakeRefused("evidence.case_closed", "只能为办理中的复查或填报凭证审核案件补充材料。",
                            "Files can be added to an open review or filing case only.")
    checked = check_evidence(case.review_type, case_conditions(case), files, require=True)
    rows = _attach(case, checked, upload_dir, actor_label)
    if case.status == CaseStatus.awaiting_materials:
        resume(case, _today(today), actor_label=actor_label)
    return rows


# Filings (填报凭证) ---------------------------------------------------------------------------
def open_filings(claim: IndicatorClaim, filed: Mapping | None, *, today: date | None = None,
                 actor_label: str | None = None) -> list[ReviewCase]:
    """Open the filing cases the claim needs (verifiers.filings), one per rule that applies,
    unless the claim has an open case already. The client uploads the evidence to each case
    (POST /api/v1/cases/{number}/evidence); until then the workspace names what is missing
    and no decision that needs the materials can be taken."""
    today = _today(today)
    cases = []
    for rule in filings_for(claim.indicator.value, filed):
        if _open_case_of_claim(claim.id) is not None:
            break  # one open case per claim (uq_review_cases_open_claim)
        queue = queue_for(claim.indicator.value, "filing")
        days = filing_due_days(rule, queue, filed)
        case = _new_case(claim.application, kind=CaseKind.filing, queue=queue, received=today, claim=claim,
                         review_type=rule.review_type, working_days=days)
        record("case.received", "review_case", case.id, district_id=case.district_id, **_actor(actor_label),
               after={"number": case.number, "kind": "filing", "queue": queue, "claim_id": claim.id,
                      "review_type": rule.review_type, "due_date": case.due_date, "working_days": days})
        cases.append(case)
    return cases


def filing_rejected(claim: IndicatorClaim) -> bool:
    """The claim's latest filing case was decided 不予支持 (the window's finding stands until
    the claim is filed again)."""
    latest = db.session.scalar(
        select(ReviewCase).where(ReviewCase.claim_id == claim.id, ReviewCase.kind == CaseKind.filing)
        .order_by(ReviewCase.id.desc()).limit(1))
    if latest is None or latest.status != CaseStatus.closed:
        return False
    outcome = db.session.scalar(select(Decision.outcome).where(Decision.case_id == latest.id)
                                .order_by(Decision.id.desc()).limit(1))
    return outcome == Outcome.rejected


# 异议申诉 -----------------------------------------------------------------------------------
def submit_appeal(application: Application, indicator: str, *, statement: str, claim: IndicatorClaim | None = None,
                  claims: list[IndicatorClaim] | None = None, today: date | None = None,
                  actor_label: str | None = None) -> ReviewCase:
    """File an appeal of one indicator's result (第四篇: 选择要申诉的指标类型).

    ``claim`` (or the indicator's only claim) becomes the case's claim, as a 复查's is.
    Otherwise the case is the indicator's: ``claims`` names the claims disputed of several
    (housing segments, awards; ``CaseClaim``), and the reviewer may correct, add or remove
    the indicator's claims from the case (backoffice/cases/services.py), so that the result
    counts "并用于计算年度总积分"."""
    today = _today(today)
    if indicator not in INDICATOR_CODES:
        raise _field_error("indicator", "indicator.unknown", f"未知的指标类型：{indicator}",
                           f"Unknown indicator {indicator!r}; one of: " + ", ".join(INDICATOR_CODES))
    check_phase("appeal.submit", _year(application), today)
    text = _statement(statement, required=True)
    named = list(dict.fromkeys(claims or ()))
    for one, field in [(claim, "claim_id")] * (claim is not None) + [(c, "claim_ids") for c in named]:
        if one.application_id != application.id or one.indicator.value != indicator:
            raise _field_error(field, "appeal.claim_mismatch", "所选指标记录不属于该申请或该指标类型。",
                               "The claim does not belong to this application and indicator.")
    if claim is not None and named:
        raise _field_error("claim_ids", "appeal.claims_or_claim", "请只用一种方式指明申诉的指标记录。",
                           "Name one claim (claim_id) or the disputed claims (claim_ids), not both.")
    of_indicator = [c for c in application.claims if c.indicator.value == indicator]
    if claim is None and len(of_indicator) == 1:
        claim, named = of_indicator[0], []  # the indicator's only claim: the case's claim
    # Otherwise, claims named of several: the case is the indicator's, and names them.
    existing = db.session.scalar(
        select(ReviewCase.number).where(
            ReviewCase.application_id == application.id, ReviewCase.kind == CaseKind.appeal,
            ReviewCase.reason_code == indicator, ReviewCase.status.in_(OPEN_STATUSES),
        )
    )
    busy = [c for c in ([claim] if claim is not None else named) if _open_case_of_claim(c.id) is not None]
    if existing is not None or busy:
        raise IntakeRefused(
            "case.open_exists", "该指标已有正在办理的案件（可修改或撤回已提交的申诉）。",
            "This indicator already has an open case (an appeal can be changed or withdrawn instead).",
        )
    queue = queue_for(indicator, "appeal")
    case = _new_case(application, kind=CaseKind.appeal, queue=queue, received=today, claim=claim,
                     reason_code=indicator, statement=text)
    for one in named:
        db.session.add(CaseClaim(case_id=case.id, claim_id=one.id))
    db.session.flush()
    record("case.received", "review_case", case.id, district_id=case.district_id, **_actor(actor_label),
           after={"number": case.number, "kind": "appeal", "queue": queue, "indicator": indicator,
                  "claim_id": case.claim_id, "claim_ids": [c.id for c in named], "due_date": case.due_date})
    return case


_APPEAL_CHANGEABLE = (CaseStatus.open, CaseStatus.in_review, CaseStatus.awaiting_materials)


def _changeable_appeal(case: ReviewCase, action: str, today: date) -> None:
    if case.kind != CaseKind.appeal:
        raise IntakeRefused("appeal.not_an_appeal", "该案件不是异议申诉。", "This case is not an appeal.", status=404)
    check_phase(action, _year(case.application), today)
    if case.status not in _APPEAL_CHANGEABLE:
        raise IntakeRefused(
            "appeal.decided", "该申诉已有处理决定或已撤回，不能再更改。",
            "This appeal has been decided or withdrawn and can no longer be changed.",
        )


def modify_appeal(case: ReviewCase, *, statement: str, today: date | None = None,
                  actor_label: str | None = None) -> ReviewCase:
    """Change an appeal's statement (第四篇: 在审核结果查询阶段，可撤回、修改申诉)."""
    today = _today(today)
    _changeable_appeal(case, "appeal.modify", today)
    text = _statement(statement, required=True)
    before = case.applicant_statement
    if text == before:
        return case
    case.applicant_statement = text
    db.session.flush()  # bumps the version: a reviewer's open form on the old text goes stale
    record("appeal.modified", "review_case", case.id, district_id=case.district_id, **_actor(actor_label),
           before={"statement": before}, after={"statement": text})
    return case


def withdraw_appeal(case: ReviewCase, *, today: date | None = None, actor_label: str | None = None) -> ReviewCase:
    """Withdraw an appeal: the case closes without a decision."""
    today = _today(today)
    _changeable_appeal(case, "appeal.withdraw", today)
    before = case.status
    case.status = CaseStatus.closed
    case.closed_at = utcnow()
    db.session.flush()
    record("appeal.withdrawn", "review_case", case.id, district_id=case.district_id, **_actor(actor_label),
           before={"status": before}, after={"status": case.status})
    return case


def was_withdrawn(case: ReviewCase) -> bool:
    """A closed case without any decision was withdrawn by the applicant."""
    return case.status == CaseStatus.closed and not case.decisions


# 举报 ---------------------------------------------------------------------------------------
def submit_tip(application: Application, *, statement: str, reporter_name: str, reporter_id_number: str,
               reporter_phone: str | None = None, today: date | None = None,
               actor_label: str | None = None) -> ReviewCase:
    """Receive a real-name report against an announced applicant (city-level queue "tips")."""


    today = _today(today)
    check_phase("tip.submit", _year(application), today)
    if not _on_published_list(application):
        # 第五篇 一、2: a tip concerns a person on the published list (公示期间有异议的…).
        raise IntakeRefused("tip.not_listed", "只能对公示名单中的人员进行举报，该申请人不在本年度公示名单中。",
                            "Only a person on the published list can be reported; this applicant is not on it.")
    text = _statement(statement, required=True)
    name = (reporter_name or "").strip()
    if not name or len(name) > 64:
        raise _field_error("reporter.name", "reporter.name", "请填写举报人真实姓名（实名举报）。",
                           "The reporter's real name is required (reports are made in one's own name).")
    id_number = (reporter_id_number or "").strip().upper()
    problem = resident_id_problem(id_number)
    if problem:
        raise _field_error("reporter.id_number", "reporter.id_number", problem,
                           "The reporter's resident ID number is not valid (18 characters with a check digit).")
    queue = queue_for(None, "tip")
    case = _new_case(application, kind=CaseKind.tip, queue=queue, received=today)
    db.session.add(TipReport(case_id=case.id, reporter_name=name, reporter_id_number=id_number,
                             reporter_phone=(reporter_phone or "").strip()[:20] or None, statement=text))
    db.session.flush()
    # The reporter's identity stays out of the audit trail (第五篇: 严格为举报人保密): only
    # investigators read TipReport; the event is city-level (no district).
    record("case.received", "review_case", case.id, district_id=None, **_actor(actor_label),
           after={"number": case.number, "kind": "tip", "queue": queue, "reporter": "举报人信息已保密"})
    return case


# Evidence reuse ------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReuseFlag:
    """The same file (same SHA-256) also lies on a case of another applicant."""

    sha256: str
    material_slot: str  # the slot on this case
    other_case_id: int
    other_case_number: str
    other_material_slot: str
    other_district_id: int
    other_application_id: int

    @property
    def message_zh(self) -> str:
        return (f"材料“{self.material_slot}”与另一申请人的案件{self.other_case_number}中的材料完全相同"
                "（同一文件），请核实是否为虚假材料。")


def reuse_flags(case_id: int, *, sha256: str | None = None) -> list[ReuseFlag]:
    """Files of this case that were also submitted for a different applicant, one flag per
    (file, other case). Symmetric: the other case shows the flag for this one. The other
    case may be in another district; a view shows its number and district only to users who
    may see that district (staff.permissions.can_see_district)."""
    mine, theirs = aliased(EvidenceFile), aliased(EvidenceFile)
    my_case, their_case = aliased(ReviewCase), aliased(ReviewCase)
    my_app, their_app = aliased(Application), aliased(Application)
    stmt = (
        select(mine.sha256, mine.material_slot, their_case.id, their_case.number, theirs.material_slot,
               their_case.district_id, their_case.application_id)
        .join(my_case, my_case.id == mine.case_id)
        .join(my_app, my_app.id == my_case.application_id)
        .join(theirs, and_(theirs.sha256 == mine.sha256, theirs.case_id != mine.case_id))
        .join(their_case, their_case.id == theirs.case_id)
        .join(their_app, their_app.id == their_case.application_id)
        .where(mine.case_id == case_id, their_app.applicant_id != my_app.applicant_id)
        .order_by(mine.material_slot, their_case.id)
    )
    if sha256 is not None:
        stmt = stmt.where(mine.sha256 == sha256)
    return [ReuseFlag(*row) for row in db.session.execute(stmt)]
