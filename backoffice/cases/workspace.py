"""The case workspace: evidence beside the materials checklist, and the decision form.

A custom Flask-Admin view (not the generic edit form). Reviewers and supervisors of the
case's district only: a case of another district answers 404, as if it did not exist,
also by guessed id. Every POST goes through backoffice/cases/services.py; when a service
refuses, the request rolls back and the user sees the page again with the message and
everything they typed: a validation error or a stale form (what a person fixes and sends again)
redirects back to the case (post/redirect/get, so Back and reload never offer to resubmit), the
typed form kept for one showing under a token in the session (the form itself in Redis, since a
long note would not fit in the session cookie); a refusal of the action itself (403, a missing
version) is answered on the spot with its status.
"""
from __future__ import annotations

import json
import secrets

from flask import abort, current_app, flash, jsonify, redirect, request, session, url_for
from flask_admin import expose
from flask_login import current_user
from sqlalchemy import or_, select

from backoffice.settlement.models import SettlementCase
from backoffice.admin.base import ProtectedView
from backoffice.applications.models import (
    INDICATOR_EN,
    INDICATOR_LABELS,
    REGISTRY_STATUS_LABELS,
    EvidenceFile,
    ScoreSnapshot,
)
from backoffice.applications.score_views import breakdown_rows, explanation_lines
from backoffice.audit.models import AuditEvent
from backoffice.cases import due, facts as facts_module, inbox, services
from backoffice.cases.admin import case_reason_text, forget_queue_counts
from backoffice.cases.models import CASE_KIND_LABELS, CASE_STATUS_LABELS, CaseKind, CaseStatus, ReviewCase
from backoffice.extensions import db
from backoffice.i18n import _, is_english
from backoffice.notices.views import notices_for_workspace
from backoffice.outbox.services import pending_rescore
from backoffice.staff.models import Staff
from backoffice.staff.permissions import (
    CASE_WORKERS,
    can_be_assigned,
    can_claim_case,
    can_countersign,
    can_decide,
    can_open_case,
    can_reassign,
    can_reassign_cases,
    can_release_case,
    can_work_cases,
)
from backoffice.turnaround.sql import beijing_today
from verifiers.materials import review_type as materials_review_type
from verifiers.routing import QUEUES
from verifiers.reasons import OUTCOMES, REASON_CODES, decision_reason, reason as registry_reason
from backoffice.security.urls import same_site_path
from backoffice.security.refusals import record_refusal
from backoffice.eligibility.views import describe_corrections
from verifiers.eligibility import OBJECTION_REASONS
from backoffice.eligibility.views import objection_panel
from backoffice.eligibility.views import registration_panel
from queues.relay import relay_client
from redis.exceptions import RedisError
from werkzeug.datastructures import MultiDict

CHECKLIST_STATES = services.CHECKLIST_STATES


def _actor():
    return current_user._get_current_object()


def _outcome_label(code: str) -> str:
    o = next(o for o in OUTCOMES if o.code == code)
    return o.label_en if is_english() else o.label_zh


def _decision_reason_label(code: str) -> str:
    try:
        d = decision_reason(code)
    except KeyError:

        d = next((r for r in OBJECTION_REASONS if r.code == code), None)
        if d is None:
            return code
    return d.label_en if is_english() else d.label_zh


def checklist_from_form(case: ReviewCase, form) -> dict:
    """{row code: {"state", "note"}} from the workspace form's checklist-<code>-state/-note fields."""
    out = {}
    for row in services.checklist_rows(case):
        state = form.get(f"checklist-{row.code}-state", "")
        note = form.get(f"checklist-{row.code}-note", "")
        if state or note.strip():
            out[row.code] = {"state": state, "note": note}
    return out


def facts_from_form(form) -> dict[str, str]:
    return {k[len("facts-"):]: v for k, v in form.items() if k.startswith("facts-")}


def claim_changes_from_form(form) -> dict[str, dict]:
    """{claim id or "new": {"action", "facts": {field: typed}}} from the claims-<key>-action and
    claims-<key>-facts-<field> fields of an indicator appeal's decision form."""
    out: dict[str, dict] = {}
    for name, value in form.items():
        if not name.startswith("claims-"):
            continue
        key, _, rest = name[len("claims-"):].partition("-")
        entry = out.setdefault(key, {"action": "", "facts": {}})
        if rest == "action":
            entry["action"] = value
        elif rest.startswith("facts-"):
            entry["facts"][rest[len("facts-"):]] = value
    return out


def _appeal_claims(case: ReviewCase, form, english: bool) -> list[dict]:
    """An indicator appeal's claims beside their registry results, each with the decision
    form's action and fact values (typed ones win, else what the claim counts now), then one
    empty block for a claim the decision adds."""
    indicator, year = case.reason_code, case.year
    named = {c.id for c in case.disputed_claims}
    typed = claim_changes_from_form(form or {})
    blocks = []
    for c in services.indicator_claims(case):
        values = facts_module.form_values(indicator, year, c.verified or c.claimed)
        values.update((typed.get(str(c.id)) or {}).get("facts") or {})
        blocks.append({
            "key": str(c.id), "claim": c, "named": c.id in named,
            "status": REGISTRY_STATUS_LABELS.get(c.registry_status), "message": c.registry_message or "",
            "counts": c.counts and bool(c.verified),
            "claimed": facts_module.describe(indicator, year, c.claimed, english),
            "verified": facts_module.describe(indicator, year, c.verified, english),
            "action": (typed.get(str(c.id)) or {}).get("action") or "keep",
            "values": values, "actions": services.CLAIM_ACTIONS,
        })
    new = typed.get(services.NEW_CLAIM) or {}
    blocks.append({"key": services.NEW_CLAIM, "claim": None, "named": False, "action": new.get("action") or "",
                   "values": new.get("facts") or {}, "actions": ("", "add")})
    return blocks


def eligible_assignees(case: ReviewCase) -> list[Staff]:
    """Active reviewers and supervisors who may work this case (its district, or city level)."""
    candidates = db.session.scalars(
        select(Staff).where(
            Staff.active.is_(True),
            Staff.role.in_(CASE_WORKERS),
            or_(Staff.district_id == case.district_id, Staff.district_id.is_(None)),
        ).order_by(Staff.role, Staff.full_name)
    ).all()
    return [s for s in candidates if can_be_assigned(s, case)]


def _has_settlement(case: ReviewCase) -> bool:
    """A settlement case with its settlement record is worked in backoffice/settlement."""
    return db.session.scalar(select(SettlementCase.id).where(SettlementCase.case_id == case.id)) is not None


class CaseWorkspaceView(ProtectedView):
    def is_visible(self) -> bool:
        return False

    def access_rule(self, user):
        return can_work_cases(user)

    # Loading -------------------------------------------------------------------------
    def _case(self, case_id: int) -> ReviewCase:
        case = db.session.get(ReviewCase, case_id)
        # Another district's case, or a tip, is answered as if it did not exist.
        if case is None or not can_open_case(current_user, case):
            if case is not None and current_user.district_id is not None and case.district_id != current_user.district_id:

                record_refusal("review_case", case.id, target_district_id=case.district_id)
            abort(404)
        if case.queue == "settlement" and request.method == "POST" and _has_settlement(case):
            abort(404)  # settlement cases are worked in backoffice/settlement (two levels, letters)
        return case

    def _again(self, case_id: int, exc: services.CaseActionError, **state):
        """After a refusal: the workspace again with fresh state, the message and what was typed.
        Validation errors and stale forms redirect to the case (post/redirect/get)."""
        db.session.rollback()
        if isinstance(exc, (services.Invalid, services.StaleCase)) and _stash(_case_page(case_id), exc):
            return redirect(url_for(".workspace", case_id=case_id))
        case = self._case(case_id)
        return self._render(case, error=exc, form=request.form, **state), exc.status

    # Pages ---------------------------------------------------------------------------
    @expose("/")
    def index(self):
        return redirect(url_for("cases.index_view"))

    @expose("/<int:case_id>/")
    def workspace(self, case_id: int):
        case = self._case(case_id)
        if case.queue == "settlement" and _has_settlement(case):
            # Its checklist, review and approval: backoffice/settlement.
            return redirect(url_for("settlement.workspace", case_id=case_id))
        stashed = _unstash(_case_page(case_id))
        if stashed is not None:
            error, form = stashed
            return self._render(case, error=error, form=form)
        return self._render(case)

    @expose("/<int:case_id>/next")
    def next_case(self, case_id: int):
        """办理下一件: the next case of this case's queue the user can act on, in due order."""
        case = self._case(case_id)
        following = inbox.next_case(current_user, case.queue, after=case)
        if following is None:
            flash(_("该队列暂无可办理的案件"), "info")
            return redirect(url_for(f"queue_{case.queue}.index_view"))
        return redirect(url_for(".workspace", case_id=following.id))

    @expose("/<int:case_id>/score.json")
    def score_state(self, case_id: int):
        """Whether the application's rescoring is still pending, and its total: the workspace
        polls it after a countersignature ("积分重算中" until the new snapshot is written).
        Role and district as the workspace (another district's case: 404)."""
        case = self._case(case_id)
        if case.application_id is None:
            abort(404)
        snapshot = db.session.scalar(
            select(ScoreSnapshot).where(ScoreSnapshot.application_id == case.application_id)
            .order_by(ScoreSnapshot.id.desc()).limit(1))
        total = case.application.total
        return jsonify(
            pending=case.application_id in pending_rescore([case.application_id]),
            total=None if total is None else str(total),
            snapshot_id=snapshot.id if snapshot is not None else None,
            snapshot_total=None if snapshot is None else str(snapshot.total),
        )

    @expose("/<int:case_id>/claim", methods=("POST",))
    def claim(self, case_id: int):
        case = self._case(case_id)
        try:
            services.claim(case, actor=_actor(), version=request.form.get("version"))
        except services.CaseActionError as exc:
            return self._again(case_id, exc)
        forget_queue_counts()
        flash(_("已领取该案件"), "success")
        return redirect(url_for(".workspace", case_id=case_id))

    @expose("/<int:case_id>/release", methods=("POST",))
    def release(self, case_id: int):
        case = self._case(case_id)
        try:
            services.release(case, actor=_actor(), version=request.form.get("version"))
        except services.CaseActionError as exc:
            return self._again(case_id, exc)
        forget_queue_counts()
        flash(_("已退回队列"), "success")
        return redirect(url_for(".workspace", case_id=case_id))

    @expose("/<int:case_id>/reassign", methods=("POST",))
    def reassign(self, case_id: int):
        case = self._case(case_id)
        try:
            assignee = _assignee_choice(request.form.get("assignee_id"))
            services.reassign([case], assignee, reason=request.form.get("reason", ""), actor=_actor(),
                              versions={case.id: request.form.get("version")})
        except services.CaseActionError as exc:
            return self._again(case_id, exc)
        forget_queue_counts()
        flash(_("已改派"), "success")
        return redirect(url_for(".workspace", case_id=case_id))

    @expose("/<int:case_id>/decide", methods=("POST",))
    def decide(self, case_id: int):
        case = self._case(case_id)
        form = request.form
        try:
            decision = services.decide(
                case, actor=_actor(), version=form.get("version"),
                outcome=form.get("outcome", ""), reason_code=form.get("reason_code", ""), note=form.get("note", ""),
                corrected_facts=facts_from_form(form), checklist=checklist_from_form(case, form),
                claim_changes=claim_changes_from_form(form),
            )
        except services.CaseActionError as exc:
            return self._again(case_id, exc)
        forget_queue_counts()
        if case.status == CaseStatus.awaiting_countersign:
            flash(_("决定已提交，待主管复核签字"),
                  "success")
        elif case.status == CaseStatus.awaiting_materials:
            flash(_("已退回申请人补正材料，办理时限暂停计算"), "success")
        else:
            flash(_("已作出决定（%(outcome_label_decision_outcome)s），案件已办结",
                    outcome_label_decision_outcome=_outcome_label(decision.outcome.value)), "success")
        return redirect(url_for(".workspace", case_id=case_id))

    @expose("/<int:case_id>/countersign", methods=("POST",))
    def countersign(self, case_id: int):
        case = self._case(case_id)
        confirm = request.form.get("decision") == "confirm"
        try:
            services.countersign(case, actor=_actor(), confirm=confirm, reason=request.form.get("countersign_reason"),
                                 version=request.form.get("version"))
        except services.CaseActionError as exc:
            return self._again(case_id, exc)
        forget_queue_counts()
        flash(_("已复核确认，案件已办结") if confirm
              else _("已退回承办人重新决定"), "success")
        return redirect(url_for(".workspace", case_id=case_id))

    # Bulk pages (from the worklists' actions) ------------------------------------------
    @staticmethod
    def _bulk_ids(raw_ids: str) -> list[int]:
        return [int(i) for i in (raw_ids or "").split(",") if i.strip().isdigit()]

    def _bulk_cases(self, raw_ids: str) -> list[ReviewCase]:
        cases = [db.session.get(ReviewCase, i) for i in self._bulk_ids(raw_ids)]
        # Anything the user may not open is dropped silently, as a guessed id would be.
        return [c for c in cases if c is not None and can_open_case(current_user, c)]

    def _back(self):

        return same_site_path(request.values.get("url")) or url_for("cases.index_view")

    def _bulk_refused(self, endpoint: str, exc: services.CaseActionError):
        """A refused bulk form: like the case forms (post/redirect/get), the page is shown again
        with the message and what was typed, so Back never asks to resubmit. On a bulk page a
        refusal (a selected case closed meanwhile, or already that person's) is answered there
        too: the user changes the selection or the choice. None: answer in place (a form
        without versions, or Redis cannot keep the form)."""
        db.session.rollback()
        ids = self._bulk_ids(request.values.get("ids", ""))
        if not isinstance(exc, tuple(STASHED_ERRORS.values())) or not _stash(_bulk_page(endpoint, ids), exc):
            return None
        return redirect(url_for(f".{endpoint}", ids=",".join(map(str, ids)), url=self._back()))

    def _bulk_stashed(self, endpoint: str):
        """(error, form) of a refused submission of this bulk page with this selection, once."""
        if request.method != "GET":
            return None, request.form
        stashed = _unstash(_bulk_page(endpoint, self._bulk_ids(request.values.get("ids", ""))))
        return stashed if stashed is not None else (None, request.form)

    @expose("/bulk/reassign", methods=("GET", "POST"))
    def bulk_reassign(self):
        cases = self._bulk_cases(request.values.get("ids", ""))
        verdict = can_reassign_cases(current_user)
        if not verdict:
            abort(403, description=verdict.message)
        status = 200
        error, form = self._bulk_stashed("bulk_reassign")
        if request.method == "POST":
            versions = {c.id: request.form.get(f"version-{c.id}") for c in cases}
            try:
                assignee = _assignee_choice(request.form.get("assignee_id"))
                services.reassign(cases, assignee, reason=request.form.get("reason", ""), actor=_actor(),
                                  versions=versions)
            except services.CaseActionError as exc:
                again = self._bulk_refused("bulk_reassign", exc)
                if again is not None:
                    return again
                cases = self._bulk_cases(request.values.get("ids", ""))
                status, error = exc.status, exc
            else:
                forget_queue_counts()
                flash(_("已改派 %(len_cases)s 件", len_cases=len(cases)), "success")
                return redirect(self._back())
        assignees = _common_assignees(cases)
        return self.render("cases/bulk_reassign.html", cases=cases, assignees=assignees, error=error,
                           form=form, back=self._back(),
                           status_labels=CASE_STATUS_LABELS), status

    @expose("/bulk/decide", methods=("GET", "POST"))
    def bulk_decide(self):
        # Only the cases this user can decide (in review, theirs) are offered; the others are
        # named as left out, never silently decided or silently dropped.
        selected = self._bulk_cases(request.values.get("ids", ""))
        cases = [c for c in selected if c.status == CaseStatus.in_review and can_decide(current_user, c)]
        left_out = [c for c in selected if c not in cases]
        outcomes = [o for o in OUTCOMES if o.code in services.BULK_OUTCOMES]
        status = 200
        error, form = self._bulk_stashed("bulk_decide")
        if request.method == "POST":
            try:
                services.decide_many(
                    cases, actor=_actor(), outcome=request.form.get("outcome", ""),
                    reason_code=request.form.get("reason_code", ""), note=request.form.get("note", ""),
                    versions={c.id: request.form.get(f"version-{c.id}") for c in cases},
                )
            except services.CaseActionError as exc:
                again = self._bulk_refused("bulk_decide", exc)
                if again is not None:
                    return again
                selected = self._bulk_cases(request.values.get("ids", ""))
                cases = [c for c in selected if c.status == CaseStatus.in_review and can_decide(current_user, c)]
                left_out = [c for c in selected if c not in cases]
                status, error = exc.status, exc
            else:
                forget_queue_counts()
                flash(_("已对 %(len_cases)s 件作出决定", len_cases=len(cases)), "success")
                return redirect(self._back())
        reasons = {o.code: services.common_reasons(cases, o.code) for o in outcomes}
        return self.render("cases/bulk_decide.html", cases=cases, left_out=left_out, outcomes=outcomes,
                           reasons=reasons, error=error,
                           form=form, back=self._back(), english=is_english(),
                           status_labels=CASE_STATUS_LABELS), status

    # Rendering -------------------------------------------------------------------------
    def _render(self, case: ReviewCase, error: services.CaseActionError | None = None, form=None):
        english = is_english()
        user = current_user
        claim = case.claim
        application = case.application
        indicator = claim.indicator.value if claim is not None else None
        pending = services.latest_decision(case) if case.status == CaseStatus.awaiting_countersign else None

        registry = None
        if case.reason_code in REASON_CODES:
            r = registry_reason(case.reason_code)
            registry = {
                "message": r.text(year=case.year, tax_year=case.year - 1),
                "status": r.status_zh,
                "section": r.section,
                "instruction": r.instruction,
            }
        rt = materials_review_type(case.review_type) if case.review_type else None

        files = db.session.scalars(
            select(EvidenceFile).where(EvidenceFile.case_id == case.id).order_by(EvidenceFile.id)
        ).all()
        rows = services.checklist_rows(case)
        row_codes = {r.code for r in rows}
        # What the checklist shows: what was just typed, else what the latest decision ticked
        # (the pending one for the countersigning supervisor, a sent-back one for its rework).
        previous = services.latest_decision(case)
        ticked = (checklist_from_form(case, form) if form is not None
                  else (previous.checklist or {}) if previous is not None else {})
        group_labels = {g.code: (g.label_en if english else g.label_zh) for g in (rt.groups if rt else ())}
        condition_labels = {c.code: c.label_zh for c in (rt.conditions if rt else ())}
        checklist = [{
            "code": r.code,
            "label": r.label_en if english else r.label_zh,
            "label_zh": r.label_zh,
            "note": r.note_zh,
            "group": group_labels.get(r.one_of) if r.one_of else None,
            "condition": condition_labels.get(r.condition) if r.condition else None,
            "state": (ticked.get(r.code) or {}).get("state") or "",
            "row_note": (ticked.get(r.code) or {}).get("note") or "",
            "files": [f for f in files if f.material_slot == r.code],
        } for r in rows]
        slot_labels = {r.code: (r.label_en if english else r.label_zh) for r in rows}
        if case.kind == CaseKind.employer_registration:
            slot_labels["licence"] = _("单位证照（营业执照等）")
        evidence = [{
            "id": f.id,
            "slot": f.material_slot,
            "label": slot_labels.get(f.material_slot) or _("其他材料") + f" ({f.material_slot})",
            "url": url_for("evidence.download", id=f.id),
            "pages": f.pages,
            "size": f.size,
            "matched": f.material_slot in row_codes,
        } for f in files]

        indicator_appeal = services.is_indicator_appeal(case)
        decisions = [{
            "d": d,
            "outcome": _outcome_label(d.outcome.value),
            "reason": _decision_reason_label(d.reason_code),
            "facts": (services.describe_claim_changes(case, d.corrected_facts, english) if indicator_appeal else
                      facts_module.describe(indicator, case.year, d.corrected_facts, english) if indicator else
                      _objection_facts(case, d.corrected_facts) if case.kind == CaseKind.eligibility_objection else []),
            "checklist": d.checklist or {},
        } for d in case.decisions]

        appeal_claims = _appeal_claims(case, form, english) if indicator_appeal else None
        claim_ids = [str(case.claim_id)] + [b["key"] for b in appeal_claims or () if b["claim"] is not None]
        history = db.session.scalars(
            select(AuditEvent).where(
                or_(
                    (AuditEvent.object_type == "review_case") & (AuditEvent.object_id == str(case.id)),
                    (AuditEvent.object_type == "evidence_file") & AuditEvent.object_id.in_([str(f.id) for f in files]),
                    (AuditEvent.object_type == "indicator_claim") & AuditEvent.object_id.in_(claim_ids),
                )
            ).order_by(AuditEvent.id)
        ).all()
        snapshot = db.session.scalar(
            select(ScoreSnapshot).where(ScoreSnapshot.application_id == case.application_id)
            .order_by(ScoreSnapshot.id.desc()).limit(1)
        )

        # The decision form's values: typed ones win; facts start from what the claim says now.
        form_values = dict(form or {})
        fact_fields = facts_module.fields_for(indicator, case.year) if indicator else ()
        fact_values = facts_module.form_values(indicator, case.year, (claim.verified or claim.claimed)) if claim else {}
        eligibility = None
        if case.kind == CaseKind.eligibility_objection:

            eligibility = objection_panel(case, english)
            fact_fields = eligibility["fields"]
        registration = None
        if case.kind == CaseKind.employer_registration:

            registration = registration_panel(case)
        fact_values.update(facts_from_form(form or {}))
        reasons = {o.code: services.reasons_for_case(case, o.code) for o in OUTCOMES}

        countersign_verdict = can_countersign(user, pending) if pending is not None else None
        return self.render(
            "cases/workspace.html",
            case=case, application=application, applicant=application.applicant if application else None, claim=claim,
            indicator_label=((INDICATOR_EN if english else INDICATOR_LABELS).get(indicator, "")
                             if indicator else ""),
            kind_label=_(CASE_KIND_LABELS.get(case.kind, case.kind)),
            status_label=_(CASE_STATUS_LABELS.get(case.status, case.status)),
            due_state=due.due_state(case.due_date, case.status, beijing_today()),
            reason_text=case_reason_text(case),
            registry=registry,
            registry_status_label=_(REGISTRY_STATUS_LABELS[claim.registry_status]) if claim else None,
            claimed=facts_module.describe(indicator, case.year, claim.claimed, english) if claim else [],
            verified=facts_module.describe(indicator, case.year, claim.verified, english) if claim else [],
            review_type=rt, checklist=checklist, states=CHECKLIST_STATES,
            state_labels={k: _(label) for k, label in services.CHECKLIST_STATE_LABELS.items()},
            evidence=evidence, decisions=decisions, history=history, snapshot=snapshot,
            missing_uploads=services.missing_uploads(case, english) if case.is_open else [],
            # The rows of the application page (education deduction its own row): they add up.
            score_rows=breakdown_rows(snapshot.breakdown or {}, changes=snapshot.changes) if snapshot else [],
            explanation=explanation_lines(snapshot.breakdown) if snapshot else [],
            outcomes=OUTCOMES, reasons=reasons, fact_fields=fact_fields, fact_values=fact_values,
            form=form_values, error=error, pending=pending,
            pending_facts=(services.describe_claim_changes(case, pending.corrected_facts, english)
                           if pending is not None and indicator_appeal else
                           facts_module.describe(indicator, case.year, pending.corrected_facts, english)
                           if pending is not None and indicator else
                           eligibility["describe"](pending.corrected_facts) if pending is not None and eligibility
                           else []),
            can_claim=case.status == CaseStatus.open and bool(can_claim_case(user, case)),
            can_release=case.status == CaseStatus.in_review and bool(can_release_case(user, case)),
            can_decide=case.status == CaseStatus.in_review and bool(can_decide(user, case)),
            decide_hint=_decide_hint(case, user),
            can_countersign=bool(countersign_verdict), countersign_message=getattr(countersign_verdict, "message", ""),
            can_reassign=case.status != CaseStatus.closed and bool(can_reassign(user, case)),
            assignees=eligible_assignees(case) if can_reassign(user, case) else [],
            eligibility=eligibility, registration=registration,
            # An appeal of an indicator with several claims: its claims, and the form to change them.
            appeal_claims=appeal_claims,
            appeal_fields=facts_module.fields_for(case.reason_code, case.year) if indicator_appeal else (),
            appeal_indicator_label=INDICATOR_LABELS.get(case.reason_code, "") if indicator_appeal else "",
            claim_action_labels={k: (en if english else zh) for k, (zh, en) in services.CLAIM_ACTION_LABELS.items()},
            english=english, 
            notices=notices_for_workspace(case),  # 告知书 with print links (backoffice/notices)
            # 积分重算中: a final decision's rescoring request not completed yet; the page polls score.json.
            rescore_pending=(case.application_id is not None
                             and case.application_id in pending_rescore([case.application_id])),
            other_cases=inbox.applicant_cases(case, user),
            queue_label=_queue_label(case.queue),
            note_max=services.NOTE_MAX, status_labels=CASE_STATUS_LABELS,
        )


# Post/redirect/get after a refused form ----------------------------------------------------
STASH_SESSION_KEY = "case_form_stash"
STASH_TTL_SECONDS = 15 * 60


def _stash_key(token: str) -> str:
    return f"{current_app.config['BACKOFFICE'].queue_namespace}case-form:{token}"


def _case_page(case_id: int) -> str:
    return f"case:{case_id}"


def _bulk_page(name: str, ids: list[int]) -> str:
    return f"{name}:{','.join(map(str, ids))}"


STASHED_ERRORS = {cls.__name__: cls for cls in (services.Invalid, services.StaleCase, services.Refused)}


def _stash(page: str, exc: services.CaseActionError) -> bool:
    """Keep the refused form and its errors for the next showing of `page` (a case, or a bulk
    page with its selection); False when Redis cannot take it (the caller then answers the
    POST itself, as before)."""
    form = {k: v for k, v in request.form.lists() if k != "csrf_token"}
    # Messages may be lazy translations (str() renders them in the user's language now).
    data = {"page": page, "kind": type(exc).__name__, "message": exc.message,
            "errors": exc.errors, "form": form}
    token = secrets.token_urlsafe(16)
    try:
        relay_client(current_app.config["BACKOFFICE"]).set(_stash_key(token),
                                                           json.dumps(data, ensure_ascii=False, default=str),
                                                           ex=STASH_TTL_SECONDS)
    except RedisError:
        return False
    session[STASH_SESSION_KEY] = token
    return True


def _unstash(page: str):
    """(error, form) kept for this page by `_stash`, once; None when there is none."""
    token = session.get(STASH_SESSION_KEY)
    if not token:
        return None
    try:
        client = relay_client(current_app.config["BACKOFFICE"])
        raw = client.get(_stash_key(token))
    except RedisError:
        return None
    if raw is None:
        session.pop(STASH_SESSION_KEY, None)
        return None
    data = json.loads(raw)
    if data.get("page") != page:
        return None  # kept for another page (another tab); it waits for that one
    session.pop(STASH_SESSION_KEY, None)
    try:
        client.delete(_stash_key(token))
    except RedisError:
        pass
    cls = STASHED_ERRORS.get(data["kind"], services.Invalid)
    form = data["form"]
    if cls is services.StaleCase:
        # The page shows the cases as they are now: a new submission is made on what it shows.
        form = {k: v for k, v in form.items() if not k.startswith("version")}
    return cls(data["message"], data["errors"]), MultiDict(
        [(k, v) for k, values in form.items() for v in values])


def _queue_label(code: str) -> str:
    q = next((q for q in QUEUES if q.code == code), None)
    return code if q is None else (q.label_en if is_english() else q.label_zh)


def _objection_facts(case: ReviewCase, facts) -> list[tuple[str, str]]:

    return describe_corrections(case.reason_code, facts)


def _decide_hint(case: ReviewCase, user) -> str:
    if case.status == CaseStatus.open:
        return _("请先领取该案件再作出决定")
    if case.status == CaseStatus.in_review and case.assignee_id != user.id:
        name = case.assignee.full_name if case.assignee else ""
        return _("该案件由%(name)s承办，只有承办人可以作出决定", name=name)
    if case.status == CaseStatus.awaiting_countersign:
        return _("决定待主管复核签字")
    if case.status == CaseStatus.awaiting_materials:
        return _("已退回申请人补正材料，等待重新提交")
    if case.status == CaseStatus.closed:
        return _("案件已办结")
    return ""


UNASSIGN = "none"  # the reassign form's choice "back to the queue, nobody"


def _assignee_choice(raw) -> Staff | None:
    """The staff member chosen in a reassign form; None for "back to the queue"."""
    raw = (raw or "").strip()
    if raw == UNASSIGN:
        return None
    staff = db.session.get(Staff, int(raw)) if raw.isdigit() else None
    if staff is None:
        raise services.Invalid(_("请选择承办人"), {"assignee_id": _("必填")})
    return staff


def _common_assignees(cases: list[ReviewCase]) -> list[Staff]:
    if not cases:
        return []
    first, *rest = cases
    return [s for s in eligible_assignees(first) if all(can_be_assigned(s, c) for c in rest)]
