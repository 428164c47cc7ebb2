"""The settlement workspace: the district reviews the 调京信息 and materials against the
checklist of 第五篇 二 3 and sends the case up; the city approves (核准) or returns it, and
downloads the letters.

Every page applies the rules of staff/permissions.py: the view's access rule
(`can_work_settlement`) through PermissionMixin, and for each case `can_open_settlement`
(another district's case answers 404, as if it did not exist). Every POST goes through
backoffice/settlement/services.py; a refusal shows the page again with the message and
what was typed, and the request rolls back.
"""
from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import abort, current_app, flash, redirect, request, send_file, url_for
from flask_admin import expose
from flask_login import current_user
from sqlalchemy import select

from backoffice.notices.views import notices_for_workspace
from backoffice.admin.base import ProtectedView
from backoffice.applications.models import EvidenceFile
from backoffice.audit.services import record
from backoffice.cases.admin import forget_queue_counts
from backoffice.cases.files import send_evidence
from backoffice.cases.models import CASE_STATUS_LABELS, CaseStatus, ReviewCase
from backoffice.cases.services import CHECKLIST_STATE_LABELS, CaseActionError
from backoffice.extensions import db
from backoffice.i18n import _, N_, is_english
from backoffice.settlement import services
from backoffice.settlement.models import LETTER_KINDS, STAGES, STAGES_EN, SettlementCase, SettlementLetter
from backoffice.staff.permissions import (
    CASE_WORKERS,
    can_approve_settlement,
    can_claim_case,
    can_open_settlement,
    can_review_settlement,
    can_work_settlement,
)
from verifiers import settlement as rules
from verifiers.uploads import path_for


BEIJING = ZoneInfo("Asia/Shanghai")


def _actor():
    return current_user._get_current_object()


# English for the rules' words (verifiers/settlement.py is the rules layer: no catalog there).
PARENT_WORDS = (N_("父亲"), N_("母亲"))


def _item_label(item, english: bool) -> str:
    """A checklist row's words (reference data); label_en already names the child ("Child 1: …")."""
    if english:
        return item.label_en
    return (f"随迁子女{item.child}：" if item.child else "") + item.label_zh


def stage_label(stage: str) -> str:
    return STAGES_EN[stage] if is_english() else STAGES[stage]


def checklist_from_form(s: SettlementCase, form) -> dict:
    out = {}
    for item in services.checklist(s):
        state = form.get(f"checklist-{item.code}-state", "")
        note = form.get(f"checklist-{item.code}-note", "")
        if state or note.strip():
            out[item.code] = {"state": state, "note": note}
    return out


class SettlementWorkspaceView(ProtectedView):
    def is_visible(self) -> bool:
        return False

    def access_rule(self, user):
        return can_work_settlement(user)

    def _settlement(self, case_id: int) -> SettlementCase:
        case = db.session.get(ReviewCase, case_id)
        if case is None or not can_open_settlement(current_user, case):
            abort(404)
        s = services.settlement_for_case(case)
        if s is None:
            abort(404)
        return s

    def _again(self, case_id: int, exc: CaseActionError):
        db.session.rollback()
        return self._render(self._settlement(case_id), error=exc, form=request.form), exc.status

    def _done(self, case_id: int, message: str):
        forget_queue_counts()
        flash(message, "success")
        return redirect(url_for(".workspace", case_id=case_id))

    @expose("/")
    def index(self):
        return redirect(url_for("queue_settlement.index_view"))

    @expose("/<int:case_id>/")
    def workspace(self, case_id: int):
        return self._render(self._settlement(case_id))

    @expose("/<int:case_id>/claim", methods=("POST",))
    def claim(self, case_id: int):
        s = self._settlement(case_id)
        try:
            services.claim(s, actor=_actor(), version=request.form.get("version"))
        except CaseActionError as exc:
            return self._again(case_id, exc)
        return self._done(case_id, _("已领取该案件"))

    @expose("/<int:case_id>/send-up", methods=("POST",))
    def send_up(self, case_id: int):
        s = self._settlement(case_id)
        try:
            services.send_up(s, actor=_actor(), ticks=checklist_from_form(s, request.form),
                             note=request.form.get("note", ""), version=request.form.get("version"))
        except CaseActionError as exc:
            return self._again(case_id, exc)
        return self._done(case_id, _("已报市人力资源社会保障局核准"))

    @expose("/<int:case_id>/return", methods=("POST",))
    def return_to_applicant(self, case_id: int):
        s = self._settlement(case_id)
        try:
            services.return_to_applicant(s, actor=_actor(), reason_code=request.form.get("reason_code", ""),
                                         note=request.form.get("note", ""), ticks=checklist_from_form(s, request.form),
                                         version=request.form.get("version"))
        except CaseActionError as exc:
            return self._again(case_id, exc)
        return self._done(case_id, _("已退回申请人补正材料"))

    @expose("/<int:case_id>/approve", methods=("POST",))
    def approve(self, case_id: int):
        s = self._settlement(case_id)
        try:
            services.approve(s, actor=_actor(), version=request.form.get("version"))
        except CaseActionError as exc:
            return self._again(case_id, exc)
        if s.stage == "stopped":
            forget_queue_counts()
            flash(_("经政府数据比对函询发现刑事犯罪记录，案件已终止，积分落户资格已取消"), "danger")
            return redirect(url_for(".workspace", case_id=case_id))
        return self._done(case_id, _("已核准，函件编号%(letter_number)s", letter_number=s.letter_number))

    @expose("/<int:case_id>/city-return", methods=("POST",))
    def city_return(self, case_id: int):
        s = self._settlement(case_id)
        try:
            services.return_to_district(s, actor=_actor(), reason_code=request.form.get("reason_code", ""),
                                        note=request.form.get("note", ""), version=request.form.get("version"))
        except CaseActionError as exc:
            return self._again(case_id, exc)
        return self._done(case_id, _("已退回区指定部门"))

    @expose("/<int:case_id>/file/<int:file_id>")
    def file(self, case_id: int, file_id: int):
        s = self._settlement(case_id)
        evidence = db.session.get(EvidenceFile, file_id)
        if evidence is None or evidence.case_id != s.case_id:
            abort(404)
        return send_evidence(evidence)

    @expose("/<int:case_id>/letter/<kind>.pdf")
    def letter(self, case_id: int, kind: str):
        s = self._settlement(case_id)
        found = db.session.scalar(select(SettlementLetter).where(SettlementLetter.settlement_id == s.id,
                                                                 SettlementLetter.kind == kind))
        if found is None:
            abort(404)
        path = path_for(found.sha256, current_app.config["BACKOFFICE"].upload_dir)
        if not path.exists():
            abort(410, description=_("文件已不在存储中"))
        record("settlement.letter_printed", "review_case", s.case_id, district_id=s.case.district_id,
               after={"kind": kind, "number": found.number})
        # Shown in the browser's PDF viewer to print (and reprint); ?download=1 saves the file.
        response = send_file(path, mimetype="application/pdf", as_attachment=request.args.get("download") == "1",
                             download_name=f"{found.kind}-{found.letter_seq_suffix}.pdf", max_age=0)
        response.headers["Cache-Control"] = "private, no-store"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    # Rendering -------------------------------------------------------------------------
    def _render(self, s: SettlementCase, error: CaseActionError | None = None, form=None):
        english = is_english()
        user = current_user
        case = s.case
        application = s.application
        files = services.evidence_files(s)
        items = services.checklist(s)
        # Typed values win; else what the district ticked when it last sent the case up or returned it.
        last_ticks = next((st.checklist for st in reversed(s.steps) if st.checklist), None) or {}
        ticked = checklist_from_form(s, form) if form is not None else last_ticks
        group_labels = ({g.code: g.label_en if english else g.label_zh for g in rules.groups(services.facts(s))}
                        if s.place else {})
        checklist = [{
            "code": i.code,
            "label": _item_label(i, english),
            "group": group_labels.get(i.one_of) if i.one_of else None,
            "state": (ticked.get(i.code) or {}).get("state") or "",
            "row_note": (ticked.get(i.code) or {}).get("note") or "",
            "files": [f for f in files if f.material_slot == i.code],
            "upload": i.upload,
        } for i in items]
        labels = {row["code"]: row["label"] for row in checklist}
        children = [{
            "child": c, "exempt": rules.family_planning_exempt(c), "parent": _(rules.PARENTS.get(c.parent, c.parent)),
        } for c in services.children_of(s)]
        can_review = services.under_district_review(s) and bool(
            can_review_settlement(user, case))
        approve_verdict = can_approve_settlement(user, s) if s.stage == "sent_to_city" else None
        records = services.criminal_records(application) if s.stage == "sent_to_city" and approve_verdict else []
        return self.render(
            "settlement/workspace.html",
            s=s, case=case, application=application, applicant=application.applicant,
            notices=notices_for_workspace(case),  # 告知书 with print links (backoffice/notices)
            stage=stage_label(s.stage), status_label=_(CASE_STATUS_LABELS.get(case.status, case.status)),
            place=rules.PLACES.get(s.place, ("", ""))[1 if english else 0] if s.place else "",
            children=children, checklist=checklist, checks=[{"code": c.code, "passed": c.passed, "source": c.source,
                                                               "text": _("%(label)s：%(message)s",
                                                                         label=c.label_en if english else c.label_zh,
                                                                         message=c.message_en if english else c.message_zh)}
                                                              for c in services.checks(s)],
            missing_uploads=services.missing_uploads(s, english) if not s.is_final else [],
            states=services.CHECKLIST_STATES,
            state_labels={k: _(label) for k, label in CHECKLIST_STATE_LABELS.items()},
            evidence=[{"id": f.id, "slot": f.material_slot, "url": url_for(".file", case_id=case.id, file_id=f.id),
                       "label": labels.get(f.material_slot) or _("其他材料")} for f in files],
            district_reasons=rules.return_reasons("district"), city_reasons=rules.return_reasons("city"),
            steps=[{"step": st, "stage": stage_label(st.stage), "when": _beijing(st.at),
                    "reason": rules.return_reason(st.reason_code).label_zh
                    if st.reason_code and st.reason_code != "criminal_record" else
                    ("刑事犯罪记录" if st.reason_code == "criminal_record" else "")} for st in s.steps],
            letters=[{"kind": le.kind, "title": LETTER_KINDS[le.kind], "number": le.number,
                      "url": url_for(".letter", case_id=case.id, kind=le.kind)} for le in s.letters],
            error=error, form=dict(form or {}),
            can_claim=case.status == CaseStatus.open and user.role in CASE_WORKERS
            and bool(can_claim_case(user, case)) and not s.is_final,
            can_review=can_review, review_hint=_review_hint(s, user),
            can_approve=bool(approve_verdict), approve_message=getattr(approve_verdict, "message", ""),
            criminal=records, lapse_quote=rules.Q_LAPSE, two_levels_quote=rules.Q_TWO_LEVELS,
            criminal_quote=rules.Q_CRIMINAL, english=english, 
        )


def _beijing(moment) -> str:
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M") if moment else ""


def _review_hint(s: SettlementCase, user) -> str:
    case = s.case
    if s.stage == "awaiting_submission":
        return _("申请人尚未提交调京信息和材料")
    if case.status == CaseStatus.open:
        return _("请先领取该案件再审核")
    if s.stage == "returned":
        return _("已退回申请人补正材料，等待重新提交")
    if s.stage == "sent_to_city":
        return _("已报市人力资源社会保障局核准")
    if s.is_final:
        return _("案件已办结（%(stage_label_s_stage)s）", stage_label_s_stage=stage_label(s.stage))
    if case.assignee_id != user.id:
        name = case.assignee.full_name if case.assignee else ""
        return _("该案件由%(name)s承办", name=name)
    return ""

