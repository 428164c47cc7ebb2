"""The announcement period (第五篇 一、2 结果公示; 二 注意 2; the handbook's front notice).

Plain functions: they change and flush, write their audit events (and applicant events) in
the caller's transaction, and never commit.

* `publish(year)` freezes the year's ranking into the published list (落户人员名单) —
  “公示内容包括姓名、出生年月、单位名称及各项指标积分分值” — with a digest of its rows.
  From then on ranking moves nobody in or out (backoffice/ranking/services.py asks
  `listed_ids`): “经核查取消积分落户资格，或申请人取得落户资格后自行放弃的，落户资格不递补。”
* `grant_qualification(application)` is the one place an application 取得年度积分落户资格;
  `grant_due_qualifications()` (the periodic job "announcement-qualify") calls it for every
  listed, unrevoked application without an open tip once the 7-day window has closed
  (“公示期满符合落户条件的，取得年度积分落户资格”); a tip closed 不属实 after the window calls
  it for its application.
* Revocation is four-eyes (`propose_revocation` by an investigator, `confirm_revocation` by
  a city supervisor who did not propose it). A confirmed revocation of a fraud bars the
  applicant's ID number — “取消其当年及以后5年内的积分落户申请资格” — and, when the finding
  says the employer helped, its USCC — “当年及以后5年内不受理其积分落户申请事项”; `bar_for`
  answers whether a filing is barred.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import exists, func, select

from backoffice.settlement.services import open_for_qualified
from backoffice.announcement.models import (
    REVOCATION_GROUND_LABELS,
    listed_ids,
    ApplicationBar,
    BarKind,
    Publication,
    PublicationRow,
    Referral,
    ReferralTarget,
    Revocation,
    RevocationGround,
    RevocationStatus,
)
from backoffice.applications.models import Applicant, Application, ApplicationRank, ScoreSnapshot
from backoffice.audit.services import record
from backoffice.cases.models import CaseKind, CaseStatus, ReviewCase, not_closed
from backoffice.core.db import utcnow
from backoffice.extensions import db
from backoffice.feed.services import emit
from backoffice.reference.models import Employer, Year
from backoffice.turnaround.sql import beijing_today
from verifiers.indicators import INDICATOR_CODES
from backoffice.ranking.services import rank_year
from backoffice.staff.permissions import can_propose_revocation
from backoffice.staff.permissions import can_confirm_revocation
from backoffice.i18n import _

# 取消其当年及以后5年内的积分落户申请资格: the year of the finding and the five after it.
BAR_YEARS_AFTER = 5
APPLICANT_BAR_QUOTE = "申请人提供虚假材料的，取消其当年及以后5年内的积分落户申请资格"
EMPLOYER_BAR_QUOTE = "对用人单位协助提供虚假材料的，当年及以后5年内不受理其积分落户申请事项"
NO_REFILL_QUOTE = "经核查取消积分落户资格，或申请人取得落户资格后自行放弃的，落户资格不递补。"
CONFIDENTIAL = "举报人信息已保密"


class AnnouncementError(Exception):
    """A refusal shown to the user as it is (status: the HTTP status of the page)."""

    status = 409

    def __init__(self, message: str, errors: dict | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.errors = dict(errors or {})
        if status is not None:
            self.status = status


def _refuse_unless(verdict) -> None:
    if not verdict:
        raise AnnouncementError(verdict.message, status=403)


# The published list -------------------------------------------------------------------------
def publication_for(year: int) -> Publication | None:
    return db.session.scalar(select(Publication).where(Publication.year == year))


def listed_row(application: Application) -> PublicationRow | None:
    return db.session.scalar(
        select(PublicationRow).join(Publication).where(
            Publication.year == application.year, PublicationRow.application_id == application.id)
    )


def _decimal_text(value) -> str:
    return f"{Decimal(str(value)).quantize(Decimal('0.01'))}"


def row_dict(row: PublicationRow) -> dict:
    """A row as published and as digested: strings only, so the digest is exact."""
    return {
        "number": row.number, "name": row.name, "birth_month": row.birth_month,
        "employer_name": row.employer_name,
        "points": {code: row.points.get(code, "0.00") for code in INDICATOR_CODES},
        "total": _decimal_text(row.total), "rank": row.rank,
    }


def rows_digest(rows: list[dict]) -> str:
    canonical = json.dumps(rows, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _latest_breakdowns(application_ids: list[int]) -> dict[int, dict]:
    latest = (select(func.max(ScoreSnapshot.id)).where(ScoreSnapshot.application_id.in_(application_ids))
              .group_by(ScoreSnapshot.application_id))
    return dict(db.session.execute(
        select(ScoreSnapshot.application_id, ScoreSnapshot.breakdown).where(ScoreSnapshot.id.in_(latest))
    ).all())


def publish(year: int, *, actor=None, actor_label: str | None = None) -> Publication:
    """Rank the year and publish who is admitted as the year's list; once only."""

    year_row = db.session.get(Year, year)
    if year_row is None:
        raise AnnouncementError(_("%(year)s年度不存在", year=year), status=404)
    if publication_for(year) is not None:
        raise AnnouncementError(_("%(year)s年度落户人员名单已公示，不能再次公示", year=year))
    result = rank_year(year, actor_label=actor_label)
    if not result.admitted:
        raise AnnouncementError(_("%(year)s年度尚无可公示的落户人员（没有已排名的申请）", year=year))
    admitted = db.session.execute(
        select(Application, ApplicationRank.rank, Applicant.name, Applicant.birth_date, Employer.name)
        .join(ApplicationRank, ApplicationRank.application_id == Application.id)
        .join(Applicant, Applicant.id == Application.applicant_id)
        .join(Employer, Employer.id == Application.employer_id)
        .where(ApplicationRank.year == year, ApplicationRank.admitted.is_(True))
        .order_by(ApplicationRank.rank, Application.id)
    ).all()
    breakdowns = _latest_breakdowns([a.id for a, *_ in admitted])
    rows = []
    for seq, (application, rank, name, birth, employer_name) in enumerate(admitted, start=1):
        indicators = (breakdowns.get(application.id) or {}).get("indicators") or {}
        rows.append(PublicationRow(
            application_id=application.id, number=f"{year}{seq:06d}",
            name=name, birth_month=f"{birth:%Y-%m}", employer_name=employer_name,
            points={code: _decimal_text((indicators.get(code) or {}).get("points", 0)) for code in INDICATOR_CODES},
            total=application.total, rank=rank,
        ))
    digest = rows_digest([row_dict(r) for r in rows])
    label = actor_label or (actor.username if actor is not None else "system")
    publication = Publication(year=year, published_by_id=actor.id if actor is not None else None,
                              actor_label=label, cutoff=result.cutoff, quota=result.quota, row_count=len(rows),
                              digest=digest)
    db.session.add(publication)
    db.session.flush()
    for row in rows:
        row.publication_id = publication.id
    db.session.add_all(rows)
    db.session.flush()
    window = f"{year_row.announcement_start:%Y年%m月%d日}至{year_row.announcement_end:%Y年%m月%d日}"
    for row, (application, *_rest) in zip(rows, admitted):
        emit(application, "list.published",
             f"您已列入{year}年度积分落户人员公示名单（公示编号{row.number}，积分{_decimal_text(row.total)}），"
             f"公示期为{window}。",
             {"number": row.number, "total": _decimal_text(row.total), "rank": row.rank,
              "announcement_start": year_row.announcement_start.isoformat(),
              "announcement_end": year_row.announcement_end.isoformat()})
    record("list.published", "year", year, actor=actor, actor_label=actor_label,
           after={"rows": len(rows), "digest": digest, "cutoff": None if result.cutoff is None else str(result.cutoff),
                  "quota": result.quota})
    return publication


def verify_digest(publication: Publication) -> bool:
    rows = db.session.scalars(select(PublicationRow).where(PublicationRow.publication_id == publication.id)
                              .order_by(PublicationRow.id)).all()
    return rows_digest([row_dict(r) for r in rows]) == publication.digest


# Qualification ------------------------------------------------------------------------------
def open_tips_clause(application_id_column):
    return exists().where(ReviewCase.application_id == application_id_column, ReviewCase.kind == CaseKind.tip,
                          not_closed())


def has_open_tip(application_id: int) -> bool:
    return bool(db.session.scalar(select(open_tips_clause(Application.id)).where(Application.id == application_id)))


def window_closed(year_row: Year, today: date | None = None) -> bool:
    return (today or beijing_today()) > year_row.announcement_end


def qualification_blocker(application: Application, today: date | None = None) -> str | None:
    """Why this application does not (yet) qualify, in words; None when it does."""
    if application.qualified_at is not None:
        return "已取得年度积分落户资格"
    if application.revoked_at is not None:
        return "积分落户资格已取消"
    if listed_row(application) is None:
        return "未列入公示名单"
    if not window_closed(application.year_ref, today):
        return "公示期尚未结束"
    if has_open_tip(application.id):
        return "有正在核查的举报"
    return None


def grant_qualification(application: Application, *, actor=None, actor_label: str | None = None,
                        today: date | None = None) -> bool:
    """取得年度积分落户资格: the one place it is granted (audit + applicant event).
    Returns False, changing nothing, when the application does not qualify (see
    `qualification_blocker`). Settlement (落户办理) hooks in here."""
    if qualification_blocker(application, today) is not None:
        return False
    application.qualified_at = utcnow()
    db.session.flush()
    record("qualification.granted", "application", application.id, district_id=application.district_id,
           actor=actor, actor_label=actor_label or (None if actor is not None else "system"),
           after={"qualified_at": application.qualified_at})
    emit(application, "qualification.granted",
         f"公示期满，您已取得{application.year}年度积分落户资格，可按有关规定办理调京落户手续，落户资格保留2年，"
         f"逾期未办理的视为自行放弃。",
         {"qualified_at": application.qualified_at.isoformat()})
    # 第五篇 二: the qualified applicant's settlement (落户办理) case opens with the qualification.
    open_for_qualified(application, today=today, actor_label=actor_label or "system")
    return True


def grant_due_qualifications(today: date | None = None, *, actor_label: str = "job:announcement-qualify") -> int:
    """Grant every due qualification of every published year whose window has closed."""
    today = today or beijing_today()
    granted = 0
    years = db.session.scalars(
        select(Year).join(Publication, Publication.year == Year.year).where(Year.announcement_end < today)
    ).all()
    for year_row in years:
        candidates = db.session.scalars(
            select(Application).where(
                Application.id.in_(listed_ids(year_row.year)), Application.qualified_at.is_(None),
                Application.revoked_at.is_(None), ~open_tips_clause(Application.id),
            ).order_by(Application.id)
        ).all()
        for application in candidates:
            granted += grant_qualification(application, actor_label=actor_label, today=today)
    return granted


# Revocation ---------------------------------------------------------------------------------
def live_revocation(application_id: int) -> Revocation | None:
    return db.session.scalar(select(Revocation).where(Revocation.application_id == application_id,
                                                      Revocation.status != RevocationStatus.rejected))


def propose_revocation(application: Application, *, actor, ground: str, finding: str, tip_case=None,
                       employer_helped: bool = False, refer_credit: bool = False,
                       refer_judicial: bool = False) -> Revocation:
    """An investigator proposes to revoke the qualification; nothing changes until a city
    supervisor confirms it."""

    _refuse_unless(can_propose_revocation(actor))
    errors = {}
    try:
        ground_value = RevocationGround(ground)
    except ValueError:
        errors["ground"] = _("请选择取消资格的依据")
    finding = (finding or "").strip()
    if not finding:
        errors["finding"] = _("请填写核查结论")
    elif len(finding) > 2000:
        errors["finding"] = _("核查结论不能超过2000字")
    if errors:
        raise AnnouncementError(_("请修改标出的内容后再提交"), errors, status=422)
    if application.revoked_at is not None or live_revocation(application.id) is not None:
        raise AnnouncementError(_("该申请已有取消资格的记录"))
    revocation = Revocation(application_id=application.id, tip_case_id=tip_case.id if tip_case else None,
                            ground=ground_value, finding=finding,
                            employer_helped=bool(employer_helped) and ground_value == RevocationGround.falsified_materials,
                            refer_credit=bool(refer_credit), refer_judicial=bool(refer_judicial),
                            proposed_by_id=actor.id)
    db.session.add(revocation)
    db.session.flush()
    record("revocation.proposed", "application", application.id, district_id=None, actor=actor,
           after={"revocation_id": revocation.id, "ground": ground_value, "employer_helped": revocation.employer_helped,
                  "refer_credit": revocation.refer_credit, "refer_judicial": revocation.refer_judicial,
                  "tip": tip_case.number if tip_case else None})
    return revocation


def confirm_revocation(revocation: Revocation, *, actor, confirm: bool, note: str | None = None) -> Revocation:
    """A city supervisor who did not propose it confirms (the qualification is revoked, bars
    and referrals recorded) or refuses it with a reason."""

    _refuse_unless(can_confirm_revocation(actor, revocation))
    if revocation.status != RevocationStatus.proposed:
        raise AnnouncementError(_("该取消资格建议已处理"))
    note = (note or "").strip()
    if not confirm and not note:
        raise AnnouncementError(_("不同意时请填写理由"), {"note": _("必填")}, status=422)
    revocation.confirmed_by_id = actor.id
    revocation.confirmed_at = utcnow()
    revocation.decision_note = note or None
    application = revocation.application
    if not confirm:
        revocation.status = RevocationStatus.rejected
        db.session.flush()
        record("revocation.rejected", "application", application.id, district_id=None, actor=actor,
               after={"revocation_id": revocation.id, "note": note})
        _after_revocation_decided(revocation, actor, confirmed=False)
        return revocation
    revocation.status = RevocationStatus.confirmed
    revoke(application, ground=revocation.ground, finding=revocation.finding, actor=actor, revocation=revocation)
    _after_revocation_decided(revocation, actor, confirmed=True)
    return revocation


def revoke(application: Application, *, ground: RevocationGround, finding: str, actor, revocation: Revocation) -> None:
    """Set the revocation, bar and refer; moves nobody up (“落户资格不递补”)."""
    ground_label = REVOCATION_GROUND_LABELS[ground]
    # Read the rows afresh and lock them: a ranking job may have written admission meanwhile.
    # FOR NO KEY UPDATE on the application (no key changes), so a ranking's FOR KEY SHARE on it
    # does not hold the revocation up; its rank row is locked as it is.
    db.session.refresh(application, with_for_update={"key_share": True})
    ranking = db.session.scalars(select(ApplicationRank).where(ApplicationRank.application_id == application.id)
                                 .with_for_update().execution_options(populate_existing=True)).first()
    before = {"admitted": application.admitted, "qualified_at": application.qualified_at}
    application.revoked_at = utcnow()
    application.revoked_reason = f"{ground_label}：{finding}"[:500]
    if ranking is not None:
        ranking.admitted = False
    application.qualified_at = None
    db.session.flush()
    bars = []
    if ground == RevocationGround.falsified_materials:
        last = application.year + BAR_YEARS_AFTER
        bars.append(ApplicationBar(kind=BarKind.applicant, key=application.applicant.id_number,
                                   first_year=application.year, last_year=last, revocation_id=revocation.id))
        if revocation.employer_helped:
            bars.append(ApplicationBar(kind=BarKind.employer, key=application.employer.uscc,
                                       first_year=application.year, last_year=last, revocation_id=revocation.id))
    referrals = []
    person = f"{application.applicant.name}（{application.applicant.masked_id}）"
    if revocation.refer_credit:
        subject = person + (f"、{application.employer.name}（{application.employer.uscc}）" if revocation.employer_helped else "")
        referrals.append(Referral(revocation_id=revocation.id, application_id=application.id,
                                  target=ReferralTarget.credit, subject=subject))
    if revocation.refer_judicial:
        referrals.append(Referral(revocation_id=revocation.id, application_id=application.id,
                                  target=ReferralTarget.judicial, subject=person))
    db.session.add_all(bars + referrals)
    db.session.flush()
    record("qualification.revoked", "application", application.id, district_id=application.district_id, actor=actor,
           before=before,
           after={"revoked_at": application.revoked_at, "ground": ground, "revocation_id": revocation.id,
                  "bars": [{"kind": b.kind, "years": f"{b.first_year}-{b.last_year}"} for b in bars],
                  "referrals": [r.target for r in referrals]})
    text = f"经核查，您的{application.year}年度积分落户资格已取消（{ground_label}）。{NO_REFILL_QUOTE}"
    if bars:
        text += f"自{application.year}年至{application.year + BAR_YEARS_AFTER}年不受理您的积分落户申请。"
    emit(application, "qualification.revoked", text,
         {"ground": ground.value, "ground_zh": ground_label, "revoked_at": application.revoked_at.isoformat(),
          "barred_until": application.year + BAR_YEARS_AFTER if bars else None})


def _after_revocation_decided(revocation: Revocation, actor, *, confirmed: bool) -> None:
    """A revocation proposed from a tip closes the tip (confirmed) or hands it back."""
    if revocation.tip_case_id is None:
        return

    # (Here rather than in tips.py, which builds on this module.)
    case = db.session.get(ReviewCase, revocation.tip_case_id)
    if confirmed:
        case.status, case.closed_at = CaseStatus.closed, utcnow()
    else:
        case.status = CaseStatus.in_review  # back to the investigator, who decides again
    db.session.flush()
    # City level (district None): tips are the investigators' work, not a district's.
    record("tip.revocation_confirmed" if confirmed else "tip.revocation_refused", "review_case", case.id,
           district_id=None, actor=actor, after={"revocation_id": revocation.id, "status": case.status})


# Bars ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BarFinding:
    kind: BarKind
    first_year: int
    last_year: int
    message_zh: str
    message_en: str


def bar_for(*, id_number: str | None = None, uscc: str | None = None, year: int) -> BarFinding | None:
    """Is a filing for `year` by this ID number, or through this employer, barred? The
    applicant's bar is checked first. Plain function: intake and eligibility call it."""
    checks = []
    if id_number:
        checks.append((BarKind.applicant, id_number.strip().upper()))
    if uscc:
        checks.append((BarKind.employer, uscc.strip().upper()))
    for kind, key in checks:
        bar = db.session.scalar(
            select(ApplicationBar).where(ApplicationBar.kind == kind, ApplicationBar.key == key,
                                         ApplicationBar.first_year <= year, ApplicationBar.last_year >= year)
            .order_by(ApplicationBar.last_year.desc()).limit(1)
        )
        if bar is None:
            continue
        if kind == BarKind.applicant:
            return BarFinding(kind, bar.first_year, bar.last_year,
                              f"{APPLICANT_BAR_QUOTE}。（{bar.first_year}年至{bar.last_year}年不受理该申请人的积分落户申请）",
                              f"The applicant provided false materials and may not apply from {bar.first_year}"
                              f" to {bar.last_year}.")
        return BarFinding(kind, bar.first_year, bar.last_year,
                          f"{EMPLOYER_BAR_QUOTE}。（{bar.first_year}年至{bar.last_year}年不受理该用人单位的积分落户申请事项）",
                          f"The employer helped to provide false materials; its applications are not accepted from"
                          f" {bar.first_year} to {bar.last_year}.")
    return None
