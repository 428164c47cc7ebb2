"""Working a review case: claim, release, reassign, decide, countersign.

Plain functions. Each checks the permission rules (staff/permissions.py), changes the case,
flushes, and writes its audit event in the same transaction; none commits (the request or
job does, once). They raise a `CaseActionError` the views show as it is:

* `Refused`  — the rules do not allow it (not the assignee, four eyes, wrong status);
* `Invalid`  — the input is incomplete or wrong; `errors` names each field, so the form
  can be shown again with what the user typed;
* `StaleCase` — the form was rendered from an older version of the case (someone acted
  first). ReviewCase.version is SQLAlchemy's version_id_col, so the UPDATE itself also
  refuses a race between two requests that both passed the version check;
* `MissingVersion` — the request did not say which version of the case it was made on.
  Every action takes the version its form was rendered from (`version`, or `versions` by
  case id for several cases); there is no way to skip the check.

Decisions are never updated: a new decision on a case supersedes the latest one
(Decision.supersedes_id). A decision that changes a score waits for a supervisor's second
signature; the final decision supersedes the claim's verified facts and writes the
rescoring request to the outbox in the same transaction, then closes the case.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from backoffice.applications.models import EvidenceFile, Indicator, IndicatorClaim, RegistryStatus
from backoffice.audit.models import AuditEvent
from backoffice.audit.services import record
from backoffice.cases import facts as facts_module
from backoffice.cases.models import CASE_STATUS_LABELS, CaseKind, CaseStatus, Countersignature, Decision, Outcome, ReviewCase
from backoffice.core.db import utcnow
from backoffice.extensions import db
from backoffice.notices.services import notify_decision
from backoffice.outbox.services import request_rescore
from backoffice.staff.permissions import (
    can_be_assigned,
    can_claim_case,
    can_countersign,
    can_decide,
    can_open_case,
    can_reassign,
    can_release_case,
)
from backoffice.turnaround.sql import beijing_today
from verifiers.filings import REASONS_NOT_FOR_FILINGS, filing_rule
from verifiers.materials import review_type as _review_type
from verifiers.reasons import (  # one derivation for intake and checklist
    OUTCOME_CODES,
    case_conditions,
    decision_reason,
    decision_reasons,
    reason as registry_reason,
)
from backoffice.cases.models import CASE_KIND_LABELS, OUTCOME_LABELS
from backoffice.feed.services import emit
from verifiers.eligibility import objection_reasons
from verifiers.eligibility import licence_reasons
from backoffice.eligibility.services import parse_corrections
from backoffice.eligibility.services import apply_objection
from backoffice.eligibility.services import accept_licence
from backoffice.i18n import _, _l, N_, is_english

CHECKLIST_STATES = ("present", "acceptable", "problem")
CHECKLIST_STATE_LABELS = {  # shown as _(label)
    "present": N_("已提供"),
    "acceptable": N_("合格"),
    "problem": N_("有问题"),
}
NOTE_MAX = 2000
RESCORE_TRIGGER = "decision"


class CaseActionError(Exception):
    status = 400

    def __init__(self, message: str, errors: Mapping[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.errors = dict(errors or {})


class Refused(CaseActionError):
    status = 403


class Invalid(CaseActionError):
    status = 422


class StaleCase(CaseActionError):
    status = 409


class MissingVersion(CaseActionError):
    status = 400


STALE_MESSAGE = _l("该案件已被他人处理（领取、改派或决定），本次提交未保存；页面已显示最新状态，您填写的内容保留在表单中。")


MISSING_VERSION_MESSAGE = _l("提交的表单缺少案件版本，无法确认您看到的是最新状态，本次提交未保存；请刷新页面后重试，您填写的内容保留在表单中。")


# Helpers ---------------------------------------------------------------------------------

def _check_version(case: ReviewCase, version) -> None:
    """Mandatory: a request without the version it was made on is refused, never waved through."""
    if version is None or (isinstance(version, str) and not version.strip()):
        raise MissingVersion(f"{case.number}: {MISSING_VERSION_MESSAGE}")
    try:
        version = int(version)
    except (TypeError, ValueError):
        raise StaleCase(STALE_MESSAGE) from None
    if version != case.version:
        raise StaleCase(STALE_MESSAGE)


def _flush() -> None:
    try:
        db.session.flush()
    except StaleDataError:
        # Another transaction changed the row between our read and our UPDATE.
        raise StaleCase(STALE_MESSAGE) from None


def _refuse_unless(verdict) -> None:
    if not verdict:
        raise Refused(verdict.message)


def _status_label(status: CaseStatus) -> str:
    return _(CASE_STATUS_LABELS[status])


def _audit(action: str, case: ReviewCase, actor, *, before=None, after=None) -> None:
    record(action, "review_case", case.id, district_id=case.district_id, actor=actor, before=before, after=after)


def latest_decision(case: ReviewCase) -> Decision | None:
    return db.session.scalar(
        select(Decision).where(Decision.case_id == case.id).order_by(Decision.id.desc()).limit(1)
    )


def checklist_rows(case: ReviewCase):
    """The checklist a reviewer ticks for this case: its review type's rows that apply."""
    if not case.review_type:
        return ()
    return _review_type(case.review_type).applicable_rows(case_conditions(case))


def reasons_for_case(case: ReviewCase, outcome: str):
    if case.kind == CaseKind.eligibility_objection:

        return objection_reasons(outcome)
    if case.kind == CaseKind.employer_registration:

        return licence_reasons(outcome)
    if case.kind == CaseKind.filing:
        return tuple(r for r in decision_reasons(outcome, case.review_type) if r.code not in REASONS_NOT_FOR_FILINGS)
    return decision_reasons(outcome, case.review_type)


def _changes_score(case: ReviewCase, outcome: str) -> bool:
    """Corrected facts change a score; so does upholding a claim that does not count yet
    (an invalid registry result) or whose verified facts differ from the claim as filed."""
    if case.kind == CaseKind.eligibility_objection:
        # Deciding an objection in the applicant's favour re-runs eligibility: four eyes.
        return outcome in (Outcome.upheld.value, Outcome.corrected.value)
    if is_indicator_appeal(case):
        if outcome == Outcome.corrected.value:
            return True
        if outcome == Outcome.upheld.value:
            return any(not c.counts or (c.verified or None) != c.claimed for c in case.disputed_claims)
        return False
    claim = case.claim
    if claim is None:
        return False
    rule = filing_rule(case.review_type) if case.kind == CaseKind.filing else None
    if rule is not None and rule.settles == "spouse":
        # The spouse information only: a rejection takes a counted claim away, nothing else changes it.
        return outcome == Outcome.rejected.value and claim.counts
    if outcome == Outcome.corrected.value:
        return True
    if outcome == Outcome.upheld.value:
        return not claim.counts or (claim.verified or None) != claim.claimed
    return False


# Appeals of an indicator with several claims -------------------------------------------

def is_indicator_appeal(case: ReviewCase) -> bool:
    """An appeal (异议申诉) of an indicator, not of one claim: housing with several segments,
    innovation with several awards. Its decision works on the indicator's claims."""
    return case.kind == CaseKind.appeal and case.claim_id is None and case.application_id is not None


def indicator_claims(case: ReviewCase) -> list[IndicatorClaim]:
    """The application's claims of the appealed indicator, in filing order."""
    return list(db.session.scalars(
        select(IndicatorClaim).where(IndicatorClaim.application_id == case.application_id,
                                     IndicatorClaim.indicator == Indicator(case.reason_code))
        .order_by(IndicatorClaim.id)))


CLAIM_ACTIONS = ("keep", "correct", "remove")
CLAIM_ACTION_LABELS = {
    "keep": ("不变", "Unchanged"),
    "correct": ("核实后更正", "Correct"),
    "remove": ("不予计分（删除）", "Remove (does not score)"),
    "add": ("核实后增加", "Add"),
}
NEW_CLAIM = "new"  # the key of a claim the decision adds


def _other_open_case(case: ReviewCase, claim: IndicatorClaim) -> str | None:
    return db.session.scalar(select(ReviewCase.number).where(
        ReviewCase.claim_id == claim.id, ReviewCase.id != case.id, ReviewCase.status != CaseStatus.closed).limit(1))


def parse_claim_changes(case: ReviewCase, raw: Mapping | None) -> tuple[list[dict], dict[str, str]]:
    """The changes a "核实后更正" of an indicator appeal makes to the indicator's claims:
    ``raw`` is {claim id or "new…": {"action": keep|correct|remove|add, "facts": {field: typed}}}.
    Returns ([{"claim_id", "action", "facts"?}], errors by form field ``claims.<key>.<field>``);
    the facts are checked as a single claim's correction is (facts.parse)."""
    raw = raw or {}
    indicator = case.reason_code
    own = {str(c.id): c for c in indicator_claims(case)}
    changes: list[dict] = []
    errors: dict[str, str] = {}
    for key, entry in raw.items():
        key = str(key)
        action = ((entry or {}).get("action") or "keep").strip()
        if action == "keep" or (key.startswith(NEW_CLAIM) and action in ("", "keep")):
            continue
        if key.startswith(NEW_CLAIM):
            if action != "add":
                errors[f"claims.{key}"] = _("新增记录只能“核实后增加”")
                continue
        elif key not in own:
            errors[f"claims.{key}"] = _("不是该申请该指标的记录")
            continue
        elif action not in CLAIM_ACTIONS:
            errors[f"claims.{key}"] = _("无效的处理方式")
            continue
        elif (other := _other_open_case(case, own[key])) is not None:
            # One open case per claim: a 复查 of this segment still open decides it first.
            errors[f"claims.{key}"] = _("该记录另有在办案件%(other)s，请待其办结", other=other)
            continue
        change = {"claim_id": None if key.startswith(NEW_CLAIM) else int(key), "action": action}
        if action in ("correct", "add"):
            facts, fact_errors = facts_module.parse(indicator, case.year, (entry or {}).get("facts") or {})
            if fact_errors:
                errors.update({f"claims.{key}.{k}" if k else f"claims.{key}": v for k, v in fact_errors.items()})
                continue
            change["facts"] = facts
        changes.append(change)
    if not changes and not errors:
        errors["claims"] = (_("请至少更正、增加或删除一条记录"))
    return changes, errors


def describe_claim_changes(case: ReviewCase, facts: Mapping | None, english: bool = False) -> list[tuple[str, str]]:
    """A decision's changes to an indicator's claims as (label, value) lines for people."""
    lines = []
    for change in (facts or {}).get("claims") or ():
        zh, en = CLAIM_ACTION_LABELS.get(change.get("action"), (change.get("action"), change.get("action")))
        who = (f"#{change['claim_id']}" if change.get("claim_id") is not None
               else (_("新增记录")))
        detail = "；".join(f"{label}: {value}" for label, value in
                          facts_module.describe(case.reason_code, case.year, change.get("facts"), english))
        lines.append((f"{who} {en if english else zh}", detail or "—"))
    return lines


def _apply_claim_changes(case: ReviewCase, decision: Decision, actor) -> None:
    """A final decision on an indicator appeal: each named change supersedes its claim's
    verified facts (removed: no facts, so it scores nothing); an added claim is filed with
    the verified facts, decided (it needs no registry result); each audited."""
    facts = decision.corrected_facts or {}
    if decision.outcome == Outcome.upheld:
        changes = [{"claim_id": c.id, "action": "uphold", "facts": dict(c.claimed)} for c in case.disputed_claims]
    else:
        changes = facts.get("claims") or []
    for change in changes:
        if change["action"] == "add":
            claim = IndicatorClaim(
                application_id=case.application_id, year=case.year, indicator=Indicator(case.reason_code),
                claimed=dict(change["facts"]), registry_status=RegistryStatus.pending,
                registry_message=f"经异议申诉核实后增加（案件编号{case.number}）"[:500],
            )
            db.session.add(claim)
            _flush()
            before = None
        else:
            claim = db.session.get(IndicatorClaim, change["claim_id"])
            if claim is None or claim.application_id != case.application_id:
                raise Refused(_("该决定所更正的指标记录已不存在，请退回重审"))
            before = {"verified": claim.verified, "verified_by_decision_id": claim.verified_by_decision_id}
        claim.verified = dict(change["facts"]) if change["action"] != "remove" else {}
        claim.verified_by_decision_id = decision.id
        _flush()
        record("claim.added_by_decision" if change["action"] == "add" else "claim.verified_superseded",
               "indicator_claim", claim.id, district_id=case.district_id, actor=actor, before=before,
               after={"verified": claim.verified, "verified_by_decision_id": decision.id,
                      "action": change["action"], "case": case.number})


# Claim, release, reassign ---------------------------------------------------------------

def claim(case: ReviewCase, *, actor, version) -> ReviewCase:
    """A reviewer takes an open case from the queue."""
    _check_version(case, version)
    _refuse_unless(can_open_case(actor, case))
    _refuse_unless(can_claim_case(actor, case))
    if case.status == CaseStatus.in_review and case.assignee_id == actor.id:
        return case  # already theirs: a double click changes nothing
    if case.status != CaseStatus.open:
        raise Refused(_("只有“待领取”的案件可以领取，该案件当前为“%(status_label_case_status)s”",
                        status_label_case_status=_status_label(case.status)))
    case.assignee_id = actor.id
    case.status = CaseStatus.in_review
    _flush()
    _audit("case.claimed", case, actor, before={"status": "open", "assignee_id": None},
           after={"status": case.status, "assignee_id": actor.id})
    return case


def release(case: ReviewCase, *, actor, version) -> ReviewCase:
    """The assignee hands an undecided case back to the queue."""
    _check_version(case, version)
    _refuse_unless(can_release_case(actor, case))
    if case.status != CaseStatus.in_review:
        raise Refused(_("该案件当前为“%(status_label_case_status)s”，不能退回队列",
                        status_label_case_status=_status_label(case.status)))
    case.assignee_id = None
    case.status = CaseStatus.open
    _flush()
    _audit("case.released", case, actor, before={"status": "in_review", "assignee_id": actor.id},
           after={"status": case.status, "assignee_id": None})
    return case


def reassign(cases: Iterable[ReviewCase], assignee, *, reason: str, actor,
             versions: Mapping[int, int | str | None]) -> list[ReviewCase]:
    """A supervisor hands one or many cases to `assignee` (None: back to the queue), with a reason.

    All or nothing: if any case may not be reassigned, nothing changes and the message
    names each problem (a supervisor re-selects rather than guessing what happened).
    """
    cases = list(cases)
    reason = (reason or "").strip()
    if not cases:
        raise Invalid(_("请选择要改派的案件"), {"ids": _("必填")})
    if not reason:
        raise Invalid(_("请填写改派理由"), {"reason": _("必填")})
    if len(reason) > NOTE_MAX:
        raise Invalid(_("改派理由过长"), {"reason": f"≤ {NOTE_MAX}"})
    for case in cases:
        _check_version(case, versions.get(case.id))
    problems = []
    for case in cases:
        verdict = can_reassign(actor, case)
        if not verdict:
            problems.append(f"{case.number}: {verdict.message}")
        elif case.status == CaseStatus.closed:
            problems.append(_("%(number)s: 已办结", number=case.number))
        elif assignee is not None and not (verdict := can_be_assigned(assignee, case)):
            problems.append(f"{case.number}: {verdict.message}")
        elif assignee is not None and case.assignee_id == assignee.id:
            problems.append(_("%(number)s: 已由该人员承办", number=case.number))
    if problems:
        raise Refused(_("未改派任何案件：%(problems)s", problems=_("；").join(problems)))
    for case in cases:
        before = {"status": case.status, "assignee_id": case.assignee_id}
        case.assignee_id = assignee.id if assignee is not None else None
        if assignee is None and case.status == CaseStatus.in_review:
            case.status = CaseStatus.open
        elif assignee is not None and case.status == CaseStatus.open:
            case.status = CaseStatus.in_review
        _flush()
        _audit("case.reassigned", case, actor, before=before,
               after={"status": case.status, "assignee_id": case.assignee_id, "reason": reason})
    return cases


# Decide -----------------------------------------------------------------------------------

def uploaded_slots(case: ReviewCase) -> set[str]:
    """The material slots of this case that hold a file."""
    return set(db.session.scalars(select(EvidenceFile.material_slot).where(EvidenceFile.case_id == case.id)))


UNFILED_TICK = N_("该材料未上传，不能标为“已提供”或“合格”")


def ticks_without_files(case: ReviewCase, ticks: Mapping | None) -> dict[str, str]:
    """Issue 17 §6: "A slot with no file cannot be 已提供 or 合格". The errors, by
    ``checklist.<code>``, of the rows ticked present or acceptable whose slot of ``case`` holds
    no file. Review cases and settlement cases (settlement/services.py) both check with it."""
    ticked = [code for code, entry in (ticks or {}).items()
              if (entry or {}).get("state") in ("present", "acceptable")]
    if not ticked:
        return {}
    with_files = uploaded_slots(case)
    return {f"checklist.{code}": _(UNFILED_TICK) for code in ticked if code not in with_files}


NOT_UPLOADED = {
    "decide": N_("材料未上传，不能认定有效：%(materials)s"),
    "send": N_("材料未上传，不能报送：%(materials)s"),
}


def not_uploaded_error(labels: Iterable[str], action: str = "decide") -> str:
    """The refusal naming the required materials that have no file (issue 17 §6), in the
    user's language (the labels are given in it)."""
    return _(NOT_UPLOADED[action], materials=_("、").join(labels))


def missing_uploads(case: ReviewCase, english: bool = False) -> list[str]:
    """Labels of the required materials (rows and one-of groups, with the case's conditions)
    that have no uploaded file: nothing can be 已提供 or 合格 without its file."""
    if not case.review_type:
        return []
    rt = _review_type(case.review_type)
    if not rt.rows:
        return []
    labels = ({r.code: r.label_en if english else r.label_zh for r in rt.rows}
              | {g.code: g.label_en if english else g.label_zh for g in rt.groups})
    return [labels[code] for code in rt.missing(sorted(uploaded_slots(case)), case_conditions(case))]


def _opened_files(case: ReviewCase, actor) -> dict[str, list[int]]:
    """Which of the case's files this reviewer opened (evidence.viewed events), by slot."""
    files = {str(f_id): slot for f_id, slot in db.session.execute(
        select(EvidenceFile.id, EvidenceFile.material_slot).where(EvidenceFile.case_id == case.id))}
    if not files:
        return {}
    opened = db.session.scalars(
        select(AuditEvent.object_id).where(
            AuditEvent.action == "evidence.viewed", AuditEvent.object_type == "evidence_file",
            AuditEvent.object_id.in_(list(files)), AuditEvent.actor_id == actor.id,
        ).distinct()
    )
    by_slot: dict[str, list[int]] = {}
    for file_id in opened:
        by_slot.setdefault(files[file_id], []).append(int(file_id))
    return by_slot


def _validate_checklist(case: ReviewCase, checklist: Mapping | None) -> tuple[dict, dict[str, str]]:
    rows = {r.code: r for r in checklist_rows(case)}
    clean: dict = {}
    errors: dict[str, str] = {}
    unfiled = ticks_without_files(case, {code: entry for code, entry in (checklist or {}).items() if code in rows})
    for code, entry in (checklist or {}).items():
        if code not in rows:
            errors[f"checklist.{code}"] = _("不属于该复查类型的材料")
            continue
        state = (entry or {}).get("state") or ""
        note = ((entry or {}).get("note") or "").strip()
        if state and state not in CHECKLIST_STATES:
            errors[f"checklist.{code}"] = _("无效的状态")
            continue
        if len(note) > NOTE_MAX:
            errors[f"checklist.{code}"] = _("说明过长")
            continue
        if f"checklist.{code}" in unfiled:
            errors[f"checklist.{code}"] = unfiled[f"checklist.{code}"]
            continue
        if state or note:
            clean[code] = {"state": state or None, "note": note or None}
    return clean, errors


def _missing_materials(case: ReviewCase, checklist: Mapping, english: bool = False) -> list[str]:
    """Labels of what the ticked checklist still lacks (rows and one-of groups), per the materials table."""
    if not case.review_type:
        return []
    rt = _review_type(case.review_type)
    if not rt.rows:
        return []
    sound = [code for code, entry in checklist.items() if entry.get("state") == "acceptable"]
    labels = ({r.code: r.label_en if english else r.label_zh for r in rt.rows}
              | {g.code: g.label_en if english else g.label_zh for g in rt.groups})
    return [labels[code] for code in rt.missing(sound, case_conditions(case))]


def decide(case: ReviewCase, *, actor, outcome: str, reason_code: str, note: str, version,
           corrected_facts: Mapping[str, str] | None = None, checklist: Mapping | None = None,
           claim_changes: Mapping[str, Mapping] | None = None) -> Decision:
    """The assignee's decision: upheld, corrected (with the corrected facts), returned for
    materials (the clock stops) or rejected; a reason of this outcome and review type and a
    note are required. `corrected_facts` are the typed form values (facts.parse validates them).

    An appeal of an indicator with several claims (``is_indicator_appeal``) is corrected
    through ``claim_changes`` (``parse_claim_changes``): correct, remove or add the
    indicator's claims; upheld applies to the claims the appeal names (予以支持: valid as filed)."""
    _check_version(case, version)
    _refuse_unless(can_open_case(actor, case))
    _refuse_unless(can_decide(actor, case))
    if case.queue == "settlement":
        raise Refused(_("落户案件在落户办理页面审核、报送和核准"))
    if case.status != CaseStatus.in_review:
        raise Refused(_("该案件当前为“%(status_label_case_status)s”，不能作出决定",
                        status_label_case_status=_status_label(case.status)))

    errors: dict[str, str] = {}
    outcome = (outcome or "").strip()
    reason_code = (reason_code or "").strip()
    note = (note or "").strip()
    if outcome not in OUTCOME_CODES:
        errors["outcome"] = _("请选择审核结果")
    elif reason_code not in {r.code for r in reasons_for_case(case, outcome)}:
        errors["reason_code"] = _("请选择适用于该结果的理由")
    if not note:
        errors["note"] = _("请填写说明")
    elif len(note) > NOTE_MAX:
        errors["note"] = _("说明不能超过%(NOTE_MAX)s字", NOTE_MAX=NOTE_MAX)
    clean_checklist, checklist_errors = _validate_checklist(case, checklist)
    errors.update(checklist_errors)

    facts = None
    if outcome == Outcome.corrected.value and case.kind == CaseKind.eligibility_objection:

        facts, fact_errors = parse_corrections(case.reason_code, corrected_facts or {})
        errors.update({f"facts.{k}": v for k, v in fact_errors.items()})
    elif outcome == Outcome.corrected.value and is_indicator_appeal(case):
        changes, change_errors = parse_claim_changes(case, claim_changes)
        errors.update(change_errors)
        facts = {"claims": changes} if not change_errors else None
    elif (outcome == Outcome.corrected.value and case.kind == CaseKind.filing
          and getattr(filing_rule(case.review_type), "settles", None) == "spouse"):
        # The window checks the spouse information only; the listing's facts are the register's.
        errors["outcome"] = (_("配偶婚姻凭证只能认定有效或不予支持，住所信息以登记部门核查结果为准"))
    elif outcome == Outcome.corrected.value:
        if case.claim is None:
            errors["outcome"] = _("该案件没有可更正的指标")
        else:
            facts, fact_errors = facts_module.parse(case.claim.indicator.value, case.year, corrected_facts or {})
            errors.update({f"facts.{k}" if k else "facts": v for k, v in fact_errors.items()})
            if not fact_errors:
                errors.update(_outside_contest(case, facts))
    if outcome == Outcome.upheld.value and is_indicator_appeal(case) and not case.disputed_claims:
        errors["outcome"] = (_("该申诉未指明所申诉的指标记录，请以“核实后更正”逐条认定"))
    if outcome in (Outcome.upheld.value, Outcome.corrected.value) and not checklist_errors:
        not_uploaded = missing_uploads(case, is_english())
        missing = _missing_materials(case, clean_checklist, is_english())
        if not_uploaded:
            errors["checklist"] = not_uploaded_error(not_uploaded)
        elif missing:
            errors["checklist"] = _("材料不齐全，不能认定有效；未标为“合格”的：%(materials)s",
                                    materials=_("、").join(missing))
    if errors:
        raise Invalid(_("请修改标出的内容后再提交"), errors)

    previous = latest_decision(case)
    changes = _changes_score(case, outcome)
    # What the reviewer looked at before ticking: the files of each slot they opened.
    opened = _opened_files(case, actor)
    for code, entry in clean_checklist.items():
        entry["opened_files"] = opened.get(code, [])
    decision = Decision(
        case=case,
        outcome=Outcome(outcome),
        reason_code=reason_code,
        note=note,
        corrected_facts=facts,
        checklist=clean_checklist or None,
        changes_score=changes,
        decided_by_id=actor.id,
        supersedes_id=previous.id if previous is not None else None,
    )
    db.session.add(decision)
    before = {"status": case.status}
    if outcome == Outcome.returned.value:
        # 退回补正: the case waits for the applicant and the working-day clock stops.
        case.status = CaseStatus.awaiting_materials
        case.paused_on = beijing_today()  # the windows' day, whatever the server's zone
    elif changes:
        # A score-changing decision needs a supervisor's second signature (four eyes).
        case.status = CaseStatus.awaiting_countersign
    _flush()
    if case.status == CaseStatus.in_review:
        _finalize(case, decision, actor)
    elif case.status == CaseStatus.awaiting_materials:
        notify_decision(case, decision, actor=actor)  # 补正材料告知书, in this transaction
    _audit("case.decided", case, actor, before=before, after={
        "decision_id": decision.id, "outcome": outcome, "reason_code": reason_code,
        "changes_score": changes, "status": case.status, "corrected_facts": facts,
    })
    return decision


def _outside_contest(case: ReviewCase, facts: Mapping) -> dict[str, str]:
    """A 复查 that contests part of a claim's facts (a tax claim: the years, or the violation
    record, facts.CONTESTED_KEYS) corrects only that part; the other is another case's."""
    keys = facts_module.CONTESTED_KEYS.get(case.review_type or "")
    if not keys:
        return {}
    current = case.claim.verified or case.claim.claimed or {}
    changed = sorted(k for k in facts if k not in keys and facts.get(k) != current.get(k))
    if not changed:
        return {}
    return {"facts": "该复查只能更正所复查的结果（" + _review_type(case.review_type).label_zh
                     + _("），其余信息不变")}


def _finalize(case: ReviewCase, decision: Decision, actor) -> None:
    """The final decision: supersede the claim's verified facts, request rescoring (outbox,
    same transaction), close the case. A rejection leaves the registry result standing."""
    claim = case.claim
    if case.kind == CaseKind.filing and claim is not None:
        _settle_filing(case, decision, actor)
        claim = None  # the filing's rule has said what the decision does to the claim
    if case.kind == CaseKind.eligibility_objection and decision.outcome == Outcome.corrected:

        apply_objection(case, decision, actor)
    if case.kind == CaseKind.employer_registration and decision.outcome == Outcome.upheld:

        accept_licence(case, decision, actor)
    if is_indicator_appeal(case) and decision.outcome in (Outcome.upheld, Outcome.corrected):
        _apply_claim_changes(case, decision, actor)
        request_rescore(case.application_id, trigger=RESCORE_TRIGGER, decision_id=decision.id)
    if claim is not None and decision.outcome in (Outcome.upheld, Outcome.corrected):
        before = {"verified": claim.verified, "verified_by_decision_id": claim.verified_by_decision_id}
        decided = dict(decision.corrected_facts) if decision.outcome == Outcome.corrected else dict(claim.claimed)
        # A tax 复查 supersedes only the part it contests (facts.CONTESTED_KEYS).
        claim.verified = facts_module.merge_contested(case.review_type, claim.verified or claim.claimed, decided)
        claim.verified_by_decision_id = decision.id
        _flush()
        record("claim.verified_superseded", "indicator_claim", claim.id, district_id=case.district_id, actor=actor,
               before=before, after={"verified": claim.verified, "verified_by_decision_id": decision.id})
        request_rescore(case.application_id, trigger=RESCORE_TRIGGER, decision_id=decision.id)
    case.status = CaseStatus.closed
    case.closed_at = utcnow()
    _flush()
    _tell_applicant(case, decision)
    if case.application_id is not None:  # a unit's licence case (单位注册) has no applicant to tell
        notify_decision(case, decision, actor=actor)  # the result notice (告知书) and its delivery, same transaction


def _settle_filing(case: ReviewCase, decision: Decision, actor) -> None:
    """A filing's decision on its claim (verifiers/filings.py ``settles``): the claim's registry
    result, and its verified facts where the window's check is the claim's whole check; a
    rescoring request (outbox, this transaction) whenever what scores changes."""
    claim = case.claim
    rule = filing_rule(case.review_type)
    counted = claim.counts and bool(claim.verified)
    before = {"status": claim.registry_status, "reason": claim.registry_reason, "message": claim.registry_message,
              "verified": claim.verified, "verified_by_decision_id": claim.verified_by_decision_id}
    if decision.outcome == Outcome.rejected:
        claim.registry_status = RegistryStatus.invalid
        claim.verified = None
        if rule.rejected_reason is not None:
            claim.registry_reason = rule.rejected_reason
            claim.registry_message = registry_reason(rule.rejected_reason).text(case.year)
        else:
            claim.registry_reason = None
            claim.registry_message = decision_reason(decision.reason_code).label_zh[:500]
    elif rule.settles == "claim" and decision.outcome in (Outcome.upheld, Outcome.corrected):
        claim.registry_status = RegistryStatus.valid
        claim.registry_reason = None
        claim.registry_message = "有效"
        claim.verified = (dict(decision.corrected_facts) if decision.outcome == Outcome.corrected
                          else dict(claim.claimed))
        claim.verified_by_decision_id = decision.id
    else:
        return  # the spouse information found valid: the register's result on the listing stands
    claim.checked_at = utcnow()
    _flush()
    record("claim.filing_decided", "indicator_claim", claim.id, district_id=case.district_id, actor=actor,
           before=before, after={"status": claim.registry_status, "reason": claim.registry_reason,
                                 "message": claim.registry_message, "verified": claim.verified,
                                 "verified_by_decision_id": claim.verified_by_decision_id,
                                 "case": case.number})
    if counted or (claim.counts and claim.verified):
        request_rescore(case.application_id, trigger=RESCORE_TRIGGER, decision_id=decision.id)


def _tell_applicant(case: ReviewCase, decision: Decision) -> None:
    """The applicants' events feed (GET /api/v1/events): the case's result, in words."""

    if case.kind.value == "tip" or case.application is None:  # tips: the investigators'; 单位注册: no applicant
        return
    emit(case.application, "case.decided",
         f"您的{CASE_KIND_LABELS[case.kind]}（案件编号{case.number}）已办结：{OUTCOME_LABELS[decision.outcome]}。"
         f"{decision.note}"[:1000],
         {"case": case.number, "kind": case.kind.value, "outcome": decision.outcome.value,
          "claim_id": case.claim_id})


# Countersign ------------------------------------------------------------------------------

def countersign(case: ReviewCase, *, actor, confirm: bool, version, reason: str | None = None) -> Countersignature:
    """A supervisor who did not decide confirms the pending decision (it becomes final) or
    sends it back to the assignee with a reason."""
    _check_version(case, version)
    if case.status != CaseStatus.awaiting_countersign:
        raise Refused(_("该案件没有待复核的决定"))
    decision = latest_decision(case)
    _refuse_unless(can_countersign(actor, decision))
    reason = (reason or "").strip()
    if not confirm and not reason:
        raise Invalid(_("退回重审需填写理由"),
                      {"countersign_reason": _("必填")})
    if len(reason) > NOTE_MAX:
        raise Invalid(_("理由过长"), {"countersign_reason": f"≤ {NOTE_MAX}"})
    # Built by id, not through decision.signoff: a Decision row is never touched again.
    signature = Countersignature(decision_id=decision.id, signed_by_id=actor.id, confirmed=confirm,
                                 reason=reason or None)
    db.session.add(signature)
    try:
        if confirm:
            _finalize(case, decision, actor)
        else:
            case.status = CaseStatus.in_review  # back to the assignee, who decides again
            _flush()
    except IntegrityError:
        # Two supervisors signed the same decision at once: the unique decision_id refuses one.
        raise StaleCase(STALE_MESSAGE) from None
    _audit("case.countersigned" if confirm else "case.sent_back", case, actor,
           before={"status": "awaiting_countersign"},
           after={"decision_id": decision.id, "confirmed": confirm, "reason": reason or None, "status": case.status})
    return signature


# Bulk decisions ---------------------------------------------------------------------------

# In bulk there is no checklist per case and no facts per case, so only the outcomes that need
# neither: returned for materials and rejected. The reason and the note are still required.
BULK_OUTCOMES = (Outcome.returned.value, Outcome.rejected.value)


def common_reasons(cases: Iterable[ReviewCase], outcome: str):
    """The decision reasons that fit every one of `cases` for this outcome, in table order."""
    cases = list(cases)
    if not cases:
        return ()
    allowed = [set(r.code for r in reasons_for_case(c, outcome)) for c in cases]
    common = set.intersection(*allowed)
    return tuple(r for r in reasons_for_case(cases[0], outcome) if r.code in common)


def decide_many(cases: Iterable[ReviewCase], *, actor, outcome: str, reason_code: str, note: str,
                versions: Mapping[int, int | str | None]) -> list[Decision]:
    """One decision (returned or rejected), with its reason and note, on each case; all or nothing:
    the first refusal raises and the caller rolls back what was flushed before it."""
    cases = list(cases)
    if not cases:
        raise Invalid(_("请选择案件"), {"ids": _("必填")})
    if outcome not in BULK_OUTCOMES:
        raise Invalid(_("批量决定只能“退回补正”或“不予支持”"),
                      {"outcome": _("请选择“退回补正”或“不予支持”")})
    decisions = []
    for case in cases:
        try:
            decisions.append(decide(case, actor=actor, outcome=outcome, reason_code=reason_code, note=note,
                                    version=versions.get(case.id)))
        except Invalid as exc:
            raise type(exc)(exc.message, exc.errors) from None
        except CaseActionError as exc:
            raise type(exc)(f"{case.number}: {exc.message}", exc.errors) from None
    return decisions
