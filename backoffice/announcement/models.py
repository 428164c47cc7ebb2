"""The announcement period (第五篇 一、2 结果公示): the published list, tip findings and
resolutions, revocations, bars and referrals.

The published list is an immutable snapshot: one `Publication` per year (its rows, a digest
of them, when and by whom) and its `PublicationRow`s; neither is ever updated or deleted,
as audit events are not. A later rescore changes `Application.total`, never the list.
"""
from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    select,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backoffice.applications.models import Application
from backoffice.core.db import JSONType, UTCDateTime, utcnow
from backoffice.extensions import db
from backoffice.staff.models import Staff


def _enum(cls, length=24):
    return Enum(cls, native_enum=False, length=length, validate_strings=True)


# The published list -------------------------------------------------------------------------
class Publication(db.Model):
    """A year's published list (落户人员名单): published once, never changed."""

    __tablename__ = "publications"

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(ForeignKey("years.year"), unique=True)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    actor_label: Mapped[str] = mapped_column(String(64))
    # The cut-off of the ranking the list was taken from, and the quota.
    cutoff: Mapped[Decimal | None] = mapped_column(Numeric(7, 2))
    quota: Mapped[int] = mapped_column(Integer)
    row_count: Mapped[int] = mapped_column(Integer)
    # SHA-256 of the rows' canonical JSON (services.rows_digest): anyone can recompute it.
    digest: Mapped[str] = mapped_column(String(64))

    published_by: Mapped[Staff | None] = relationship()


class PublicationRow(db.Model):
    """One line of the list: 公示编号, 姓名, 出生年月, 单位名称, each indicator's points, the total
    (“公示内容包括姓名、出生年月、单位名称及各项指标积分分值”)."""

    __tablename__ = "publication_rows"
    __table_args__ = (
        UniqueConstraint("publication_id", "application_id"),
        UniqueConstraint("publication_id", "number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    publication_id: Mapped[int] = mapped_column(ForeignKey("publications.id"))
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    number: Mapped[str] = mapped_column(String(16))  # 公示编号, e.g. 2021000123
    name: Mapped[str] = mapped_column(String(64))
    birth_month: Mapped[str] = mapped_column(String(7))  # 1985-03
    employer_name: Mapped[str] = mapped_column(String(200))
    # {indicator code: "points"} in INDICATORS order, as strings (exact decimals).
    points: Mapped[dict] = mapped_column(JSONType)
    total: Mapped[Decimal] = mapped_column(Numeric(7, 2))
    rank: Mapped[int] = mapped_column(Integer)

    publication: Mapped[Publication] = relationship()
    application: Mapped[Application] = relationship()


# Tip findings and resolutions --------------------------------------------------------------
class FindingKind(str, enum.Enum):
    note = "note"  # 核查记录
    evidence = "evidence"  # 上传的证据 (a PDF)
    check = "check"  # 部门核查: which department, what was asked, the answer


FINDING_KIND_LABELS = {FindingKind.note: "核查记录", FindingKind.evidence: "证据材料", FindingKind.check: "部门核查"}


class TipFinding(db.Model):
    """One thing an investigator found on a tip; findings are added, never changed."""

    __tablename__ = "tip_findings"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("review_cases.id"), index=True)
    kind: Mapped[FindingKind] = mapped_column(_enum(FindingKind))
    note: Mapped[str | None] = mapped_column(Text)
    department: Mapped[str | None] = mapped_column(String(100))
    question: Mapped[str | None] = mapped_column(Text)
    answer: Mapped[str | None] = mapped_column(Text)
    file_sha256: Mapped[str | None] = mapped_column(String(64))
    file_name: Mapped[str | None] = mapped_column(String(255))
    file_size: Mapped[int | None] = mapped_column(Integer)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    created_by: Mapped[Staff] = relationship()


class TipOutcome(str, enum.Enum):
    unfounded = "unfounded"  # 不属实
    score_corrected = "score_corrected"  # 属实·积分更正
    falsified = "falsified"  # 属实·提供虚假材料


TIP_OUTCOME_LABELS = {
    TipOutcome.unfounded: "不属实",
    TipOutcome.score_corrected: "属实·积分更正",
    TipOutcome.falsified: "属实·提供虚假材料",
}


class TipResolution(db.Model):
    """How an investigator closes a tip, with the reason. A score correction names the claims
    and their corrected facts ({claim id: facts}) and waits for a second signature."""

    __tablename__ = "tip_resolutions"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("review_cases.id"), index=True)
    outcome: Mapped[TipOutcome] = mapped_column(_enum(TipOutcome))
    reason: Mapped[str] = mapped_column(Text)
    corrections: Mapped[dict | None] = mapped_column(JSONType)
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The second signature of a score correction: confirmed, or sent back with a reason.
    signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    confirmed: Mapped[bool | None] = mapped_column()
    sign_reason: Mapped[str | None] = mapped_column(Text)

    decided_by: Mapped[Staff] = relationship(foreign_keys=[decided_by_id])
    signed_by: Mapped[Staff | None] = relationship(foreign_keys=[signed_by_id])


# Revocation, bars, referrals ---------------------------------------------------------------
class RevocationGround(str, enum.Enum):
    falsified_materials = "falsified_materials"
    criminal = "criminal"
    ineligible = "ineligible"


REVOCATION_GROUND_LABELS = {
    RevocationGround.falsified_materials: "提供虚假材料",
    RevocationGround.criminal: "刑事犯罪",
    RevocationGround.ineligible: "不符合资格条件",
}


class RevocationStatus(str, enum.Enum):
    proposed = "proposed"
    confirmed = "confirmed"
    rejected = "rejected"


REVOCATION_STATUS_LABELS = {
    RevocationStatus.proposed: "待主管确认",
    RevocationStatus.confirmed: "已取消资格",
    RevocationStatus.rejected: "主管未同意",
}


class Revocation(db.Model):
    """取消积分落户资格: an investigator proposes, a city supervisor confirms (four eyes)."""

    __tablename__ = "revocations"
    __table_args__ = (
        CheckConstraint("confirmed_by_id IS NULL OR confirmed_by_id != proposed_by_id", name="four_eyes"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    tip_case_id: Mapped[int | None] = mapped_column(ForeignKey("review_cases.id"), index=True)
    ground: Mapped[RevocationGround] = mapped_column(_enum(RevocationGround))
    finding: Mapped[str] = mapped_column(Text)
    # The finding says the employer helped (协助提供虚假材料): its USCC is barred too.
    employer_helped: Mapped[bool] = mapped_column(default=False)
    refer_credit: Mapped[bool] = mapped_column(default=False)  # 本市公共信用信息服务平台
    refer_judicial: Mapped[bool] = mapped_column(default=False)  # 司法机关
    status: Mapped[RevocationStatus] = mapped_column(_enum(RevocationStatus), default=RevocationStatus.proposed)
    proposed_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision_note: Mapped[str | None] = mapped_column(Text)

    application: Mapped[Application] = relationship()
    proposed_by: Mapped[Staff] = relationship(foreign_keys=[proposed_by_id])
    confirmed_by: Mapped[Staff | None] = relationship(foreign_keys=[confirmed_by_id])


# At most one revocation in progress or done per application.
Index("uq_revocations_live_application", Revocation.application_id, unique=True,
      sqlite_where=text("status != 'rejected'"), postgresql_where=text("status != 'rejected'"))


class BarKind(str, enum.Enum):
    applicant = "applicant"
    employer = "employer"


BAR_KIND_LABELS = {BarKind.applicant: "申请人", BarKind.employer: "用人单位"}


class ApplicationBar(db.Model):
    """No points application is accepted from this ID number (or employer USCC) in
    first_year..last_year (“取消其当年及以后5年内的积分落户申请资格”)."""

    __tablename__ = "application_bars"
    __table_args__ = (CheckConstraint("first_year <= last_year", name="year_order"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[BarKind] = mapped_column(_enum(BarKind, 16))
    key: Mapped[str] = mapped_column(String(18), index=True)  # ID number or USCC
    first_year: Mapped[int] = mapped_column(Integer)
    last_year: Mapped[int] = mapped_column(Integer)
    revocation_id: Mapped[int] = mapped_column(ForeignKey("revocations.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    revocation: Mapped[Revocation] = relationship()


class ReferralTarget(str, enum.Enum):
    credit = "credit"
    judicial = "judicial"


REFERRAL_TARGET_LABELS = {ReferralTarget.credit: "本市公共信用信息服务平台", ReferralTarget.judicial: "司法机关"}


class Referral(db.Model):
    """A revocation's referral (纳入本市公共信用信息服务平台 / 移交司法机关), listed for the city."""

    __tablename__ = "referrals"

    id: Mapped[int] = mapped_column(primary_key=True)
    revocation_id: Mapped[int] = mapped_column(ForeignKey("revocations.id"), index=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    target: Mapped[ReferralTarget] = mapped_column(_enum(ReferralTarget, 16))
    subject: Mapped[str] = mapped_column(String(300))  # who is referred, in words
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    revocation: Mapped[Revocation] = relationship()
    application: Mapped[Application] = relationship()


@event.listens_for(Publication, "before_update")
@event.listens_for(PublicationRow, "before_update")
@event.listens_for(TipFinding, "before_update")
@event.listens_for(ApplicationBar, "before_update")
@event.listens_for(Referral, "before_update")
def _refuse_update(_mapper, _connection, target):
    raise PermissionError(f"{type(target).__name__} rows are never updated")


@event.listens_for(Publication, "before_delete")
@event.listens_for(PublicationRow, "before_delete")
@event.listens_for(TipFinding, "before_delete")
@event.listens_for(ApplicationBar, "before_delete")
@event.listens_for(Referral, "before_delete")
def _refuse_delete(_mapper, _connection, target):
    raise PermissionError(f"{type(target).__name__} rows are never deleted")


def listed_ids(year: int):
    """SELECT of the application ids on the year's published list (ranking, qualification)."""
    return (select(PublicationRow.application_id).join(Publication, Publication.id == PublicationRow.publication_id)
            .where(Publication.year == year))
