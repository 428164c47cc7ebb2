"""Pages of the announcement period: the published list (公示名单), the tip workspace (举报核查)
and revocations with their referrals (取消资格).

Custom Flask-Admin views under the rules of staff/permissions.py (applied by
PermissionMixin and, per object, in each view). Every POST goes through services.py or
tips.py; a refusal shows the page again with the message and the request rolls back.
"""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Response, abort, current_app, flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user
from sqlalchemy import or_, select

from backoffice.admin.base import ProtectedView
from backoffice.announcement import exports, services, tips
from backoffice.announcement.models import (
    BAR_KIND_LABELS,
    FINDING_KIND_LABELS,
    REFERRAL_TARGET_LABELS,
    REVOCATION_GROUND_LABELS,
    REVOCATION_STATUS_LABELS,
    TIP_OUTCOME_LABELS,
    ApplicationBar,
    FindingKind,
    Publication,
    PublicationRow,
    Referral,
    Revocation,
    RevocationGround,
    RevocationStatus,
    TipFinding,
    TipOutcome,
)
from backoffice.applications.models import INDICATOR_LABELS, Application, Indicator
from backoffice.applications.score_views import score_panel
from backoffice.cases import facts as facts_module
from backoffice.cases.models import CASE_STATUS_LABELS, CaseKind, CaseStatus, ReviewCase
from backoffice.extensions import db
from backoffice.i18n import _
from backoffice.intake.models import TipReport
from backoffice.reference.models import Year
from backoffice.staff.permissions import (
    can_confirm_revocation,
    can_countersign_tip,
    can_publish_list,
    can_see_reporter,
    can_view_tip,
    can_work_tip,
)
from verifiers.identifiers import mask_resident_id
from verifiers.indicators import INDICATOR_CODES
from verifiers.uploads import path_for
from backoffice.audit.services import record
from backoffice.applications.models import IndicatorClaim

BEIJING = ZoneInfo("Asia/Shanghai")
PAGE_SIZE = 100
CONFIDENTIAL = services.CONFIDENTIAL


def beijing_minute(moment: datetime | None) -> str:
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M") if moment else ""


def _actor():
    return current_user._get_current_object()


def _download(data: bytes, mimetype: str, filename: str) -> Response:
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f"attachment; filename={filename}"
    return response


# The published list -------------------------------------------------------------------------
LIST_HEADERS = (["公示编号", "姓名", "出生年月", "单位名称"] + [INDICATOR_LABELS[Indicator(c)] for c in INDICATOR_CODES]
                + ["积分", "排名"])


def _row_values(row: PublicationRow) -> list:
    from decimal import Decimal

    return ([row.number, row.name, row.birth_month, row.employer_name]
            + [Decimal(row.points.get(c, "0")) for c in INDICATOR_CODES] + [row.total, row.rank])


class AnnouncementView(ProtectedView):
    """公示名单: every role reads it; city administrators publish a year's list."""

    area = "announcement"

    def _search(self, publication: Publication, term: str):
        query = select(PublicationRow).where(PublicationRow.publication_id == publication.id)
        term = term.strip()
        if term:
            like = f"%{term}%"
            query = query.where(or_(PublicationRow.number == term, PublicationRow.name.like(like),
                                    PublicationRow.employer_name.like(like)))
        return query.order_by(PublicationRow.number)

    @expose("/")
    def index(self):
        years = db.session.scalars(select(Year).order_by(Year.year.desc())).all()
        publications = {p.year: p for p in db.session.scalars(select(Publication))}
        return self.render("announcement/index.html", years=years, publications=publications,
                           can_publish=bool(can_publish_list(current_user)), when=beijing_minute)

    @expose("/<int:year>/publish", methods=("POST",))
    def publish(self, year: int):
        verdict = can_publish_list(current_user)
        if not verdict:
            abort(403, description=verdict.message)
        try:
            publication = services.publish(year, actor=_actor())
        except services.AnnouncementError as exc:
            db.session.rollback()
            flash(exc.message, "error")
            return redirect(url_for(".index"))
        flash(_("%(year)s年度落户人员名单已公示，共%(row_count)s人", year=year, row_count=publication.row_count), "success")
        return redirect(url_for(".year_list", year=year))

    @expose("/<int:year>/")
    def year_list(self, year: int):
        publication = services.publication_for(year)
        if publication is None:
            abort(404, description=_("%(year)s年度名单尚未公示", year=year))
        term = request.args.get("q", "")
        page = max(request.args.get("page", 1, type=int) or 1, 1)
        query = self._search(publication, term)
        found = db.session.scalar(select(db.func.count()).select_from(query.subquery()))
        rows = db.session.scalars(query.offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
        applications = {a.id: a for a in db.session.scalars(
            select(Application).where(Application.id.in_([r.application_id for r in rows])))}
        return self.render(
            "announcement/list.html", publication=publication, rows=rows, applications=applications, term=term,
            page=page, pages=max((found + PAGE_SIZE - 1) // PAGE_SIZE, 1), found=found, codes=INDICATOR_CODES,
            indicator_labels={c: INDICATOR_LABELS[Indicator(c)] for c in INDICATOR_CODES}, when=beijing_minute,
            year_row=db.session.get(Year, year))

    def _export_rows(self, year: int):
        publication = services.publication_for(year)
        if publication is None:
            abort(404)
        rows = db.session.scalars(self._search(publication, request.args.get("q", ""))).all()
        return [_row_values(r) for r in rows]

    @expose("/<int:year>/export.csv")
    def export_csv(self, year: int):
        return _download(exports.to_csv(LIST_HEADERS, self._export_rows(year)), exports.CSV_MIME,
                         f"announcement-{year}.csv")

    @expose("/<int:year>/export.xlsx")
    def export_xlsx(self, year: int):
        return _download(exports.to_xlsx(LIST_HEADERS, self._export_rows(year), f"{year}公示名单"), exports.XLSX_MIME,
                         f"announcement-{year}.xlsx")


# The tip workspace --------------------------------------------------------------------------
def corrections_from_form(form) -> dict[int, dict[str, str]]:
    """{claim id: {field: value}} from fields named fix-<claim id>-<field>."""
    out: dict[int, dict[str, str]] = {}
    for key, value in form.items():
        if key.startswith("fix-"):
            _prefix, claim_id, field = key.split("-", 2)
            if claim_id.isdigit():
                out.setdefault(int(claim_id), {})[field] = value
    return out


class TipWorkspaceView(ProtectedView):
    """举报核查: investigators work a tip; city supervisors open it to countersign."""

    def is_visible(self) -> bool:
        return False

    def access_rule(self, user):
        return can_view_tip(user)

    def _tip(self, case_id: int) -> ReviewCase:
        case = db.session.get(ReviewCase, case_id)
        if case is None or case.kind != CaseKind.tip or not can_view_tip(current_user, case):
            abort(404)
        return case

    @expose("/")
    def index(self):
        return redirect(url_for("queue_tips.index_view"))

    @expose("/<int:case_id>/")
    def workspace(self, case_id: int):
        return self._render(self._tip(case_id))

    def _act(self, case_id: int, action, done: str):
        case = self._tip(case_id)
        try:
            action(case)
        except services.AnnouncementError as exc:
            db.session.rollback()
            return self._render(self._tip(case_id), error=exc, form=request.form), exc.status
        flash(done, "success")
        return redirect(url_for(".workspace", case_id=case_id))

    @expose("/<int:case_id>/claim", methods=("POST",))
    def claim(self, case_id: int):
        return self._act(case_id, lambda c: tips.claim_tip(c, actor=_actor()), _("已领取该举报"))

    @expose("/<int:case_id>/finding", methods=("POST",))
    def finding(self, case_id: int):
        form = request.form
        upload = request.files.get("file")

        def act(case):
            tips.add_finding(case, actor=_actor(), kind=form.get("kind", ""), note=form.get("note"),
                             department=form.get("department"), question=form.get("question"),
                             answer=form.get("answer"), file_data=upload.read() if upload else None,
                             file_name=upload.filename if upload else None)

        return self._act(case_id, act, _("已记录"))

    @expose("/<int:case_id>/close", methods=("POST",))
    def close(self, case_id: int):
        form = request.form

        def act(case):
            tips.close_tip(case, actor=_actor(), outcome=form.get("outcome", ""), reason=form.get("reason", ""),
                           corrections=corrections_from_form(form), ground=form.get("ground") or None,
                           employer_helped=form.get("employer_helped") == "1",
                           refer_credit=form.get("refer_credit") == "1", refer_judicial=form.get("refer_judicial") == "1")

        return self._act(case_id, act, _("已提交核查结论"))

    @expose("/<int:case_id>/countersign", methods=("POST",))
    def countersign(self, case_id: int):
        form = request.form
        confirm = form.get("decision") == "confirm"
        return self._act(case_id, lambda c: tips.countersign_tip(c, actor=_actor(), confirm=confirm,
                                                                 reason=form.get("sign_reason")),
                         (_("已复核确认，举报已办结") if confirm else _("已退回核查员")))

    @expose("/<int:case_id>/finding/<int:finding_id>/file")
    def finding_file(self, case_id: int, finding_id: int):
        from flask import send_file


        case = self._tip(case_id)
        finding = db.session.get(TipFinding, finding_id)
        if finding is None or finding.case_id != case.id or not finding.file_sha256:
            abort(404)
        path = path_for(finding.file_sha256, current_app.config["BACKOFFICE"].upload_dir)
        if not path.exists():
            abort(410)

        record("tip.evidence_viewed", "review_case", case.id, district_id=None, after={"finding_id": finding.id})
        response = send_file(path, mimetype="application/pdf", max_age=0)
        response.headers["Content-Security-Policy"] = "default-src 'none'; object-src 'self'; frame-ancestors 'self'; sandbox"
        response.headers["Cache-Control"] = "private, no-store"
        return response

    def _render(self, case: ReviewCase, error=None, form=None):
        user = current_user
        application = case.application
        report = db.session.get(TipReport, case.id)
        reporter_visible = bool(can_see_reporter(user))
        reporter = None
        if reporter_visible and report is not None:
            reporter = {"name": report.reporter_name, "id_number": report.reporter_id_number,
                        "phone": report.reporter_phone or ""}
        resolution = tips.latest_resolution(case)
        revocation = db.session.scalar(select(Revocation).where(Revocation.tip_case_id == case.id)
                                       .order_by(Revocation.id.desc()).limit(1))
        claims = [{
            "claim": c, "label": INDICATOR_LABELS[c.indicator],
            "facts": facts_module.describe(c.indicator.value, case.year, c.verified if c.counts else c.claimed, False),
            "fields": facts_module.fields_for(c.indicator.value, case.year) if c.counts else (),
        } for c in application.claims]
        corrections = []
        if resolution is not None and resolution.corrections:

            for claim_id, facts in resolution.corrections.items():
                claim = db.session.get(IndicatorClaim, int(claim_id))
                corrections.append({"label": INDICATOR_LABELS[claim.indicator],
                                    "facts": facts_module.describe(claim.indicator.value, case.year, facts, False)})
        return self.render(
            "announcement/tip.html", case=case, application=application, report=report, reporter=reporter,
            reporter_visible=reporter_visible, confidential=CONFIDENTIAL, row=services.listed_row(application),
            panel=score_panel(application.id), claims=claims, findings=tips.findings(case),
            finding_labels=FINDING_KIND_LABELS, resolution=resolution, outcome_labels=TIP_OUTCOME_LABELS,
            corrections=corrections, revocation=revocation, ground_labels=REVOCATION_GROUND_LABELS,
            revocation_status_labels=REVOCATION_STATUS_LABELS, status_label=_(CASE_STATUS_LABELS[case.status]),
            can_claim=case.status == CaseStatus.open and bool(can_work_tip(user, case)),
            can_work=case.status == CaseStatus.in_review and case.assignee_id == user.id and bool(can_work_tip(user, case)),
            can_countersign=(case.status == CaseStatus.awaiting_countersign and resolution is not None
                             and resolution.outcome == TipOutcome.score_corrected
                             and bool(can_countersign_tip(user, resolution.decided_by_id))),
            can_confirm=(revocation is not None and revocation.status == RevocationStatus.proposed
                         and bool(can_confirm_revocation(user, revocation))),
            indicator_labels={c: INDICATOR_LABELS[Indicator(c)] for c in INDICATOR_CODES}, codes=INDICATOR_CODES,
            error=error, form=form or {}, when=beijing_minute, FindingKind=FindingKind, TipOutcome=TipOutcome,
            grounds=list(RevocationGround),
        )


# Revocations, bars, referrals ---------------------------------------------------------------
REFERRAL_HEADERS = ["移送对象", "被移送人/单位", "申请编号", "年度", "取消资格依据", "核查结论", "确认时间（北京时间）"]


def _referral_rows() -> list[list]:
    rows = db.session.scalars(select(Referral).order_by(Referral.id)).all()
    return [[REFERRAL_TARGET_LABELS[r.target], r.subject, str(r.application), r.application.year,
             REVOCATION_GROUND_LABELS[r.revocation.ground], r.revocation.finding,
             beijing_minute(r.revocation.confirmed_at)] for r in rows]


class RevocationsView(ProtectedView):
    """取消资格: proposals waiting for a city supervisor, revocations, bars and referrals."""

    area = "revocations"

    @expose("/")
    def index(self):
        revocations = db.session.scalars(select(Revocation).order_by(Revocation.id.desc())).all()
        bars = db.session.scalars(select(ApplicationBar).order_by(ApplicationBar.id.desc())).all()
        referrals = db.session.scalars(select(Referral).order_by(Referral.id.desc())).all()
        # Tips waiting for a second signature (a score correction or a revocation), for those
        # who may open tips: city supervisors find their work here (the tips queue is the investigators').
        awaiting = []
        if can_view_tip(current_user):
            awaiting = db.session.scalars(select(ReviewCase).where(
                ReviewCase.kind == CaseKind.tip, ReviewCase.status == CaseStatus.awaiting_countersign)
                .order_by(ReviewCase.due_date, ReviewCase.id)).all()
        return self.render(
            "announcement/revocations.html", revocations=revocations, bars=bars, referrals=referrals,
            awaiting=[(c, tips.latest_resolution(c)) for c in awaiting], outcome_labels=TIP_OUTCOME_LABELS,
            can_open_tip=bool(can_view_tip(current_user)),
            ground_labels=REVOCATION_GROUND_LABELS, status_labels=REVOCATION_STATUS_LABELS,
            bar_labels=BAR_KIND_LABELS, referral_labels=REFERRAL_TARGET_LABELS, when=beijing_minute, 
            can_confirm=lambda r: r.status == RevocationStatus.proposed and bool(can_confirm_revocation(current_user, r)),
            mask=mask_resident_id,
        )

    @expose("/<int:revocation_id>/confirm", methods=("POST",))
    def confirm(self, revocation_id: int):
        revocation = db.session.get(Revocation, revocation_id)
        if revocation is None:
            abort(404)
        confirm = request.form.get("decision") == "confirm"
        try:
            services.confirm_revocation(revocation, actor=_actor(), confirm=confirm, note=request.form.get("note"))
        except services.AnnouncementError as exc:
            db.session.rollback()
            if exc.status == 403:
                abort(403, description=exc.message)
            flash(exc.message + "".join(f" {v}" for v in exc.errors.values()), "error")
            return redirect(request.form.get("next") or url_for(".index"))
        flash((_("已确认取消积分落户资格") if confirm else _("已不予同意，举报退回核查员")), "success")
        target = request.form.get("next") or ""
        return redirect(target if target.startswith("/") and not target.startswith("//") else url_for(".index"))

    @expose("/referrals.csv")
    def referrals_csv(self):
        return _download(exports.to_csv(REFERRAL_HEADERS, _referral_rows()), exports.CSV_MIME, "referrals.csv")

    @expose("/referrals.xlsx")
    def referrals_xlsx(self):
        return _download(exports.to_xlsx(REFERRAL_HEADERS, _referral_rows(), "移送记录"), exports.XLSX_MIME,
                         "referrals.xlsx")
