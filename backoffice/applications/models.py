"""Applicants, their applications per year, indicator claims, evidence and score snapshots."""
from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
    event,
    false,
    func,
    select,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from backoffice.core.db import JSONType, UTCDateTime, utcnow
from backoffice.extensions import db
from backoffice.i18n import N_
from backoffice.reference.models import District, Employer, Year
from verifiers.identifiers import mask_resident_id, resident_id_problem
from verifiers.indicators import INDICATORS


class Indicator(str, enum.Enum):
    employment = "employment"
    housing = "housing"
    education = "education"
    work_residence = "work_residence"
    innovation = "innovation"
    tax = "tax"
    age = "age"
    honors = "honors"
    law_abiding = "law_abiding"


# Labels live with the rules (verifiers/indicators.py), not here.
INDICATOR_LABELS = {Indicator(i.code): i.label_zh for i in INDICATORS}
INDICATOR_EN = {Indicator(i.code): i.label_en for i in INDICATORS}  # reference data in both languages


class RegistryStatus(str, enum.Enum):
    pending = "pending"
    valid = "valid"
    invalid = "invalid"


REGISTRY_STATUS_LABELS = {  # pages show them through _(label)
    RegistryStatus.pending: N_("审核中"),
    RegistryStatus.valid: N_("有效"),
    RegistryStatus.invalid: N_("无效"),
}


def _enum(cls, length=24):
    return Enum(cls, native_enum=False, length=length, validate_strings=True)


class Applicant(db.Model):
    """申请人. The ID number is stored whole and shown masked wherever it is listed."""

    __tablename__ = "applicants"

    id: Mapped[int] = mapped_column(primary_key=True)
    id_number: Mapped[str] = mapped_column(String(18), unique=True)
    # Last four characters, indexed, so reviewers can search by them without a full scan.
    id_last4: Mapped[str] = mapped_column(String(4), index=True)
    # Indexed: the worklists find an applicant's cases by exact full name (cases/admin.py).
    name: Mapped[str] = mapped_column(String(64), index=True)
    birth_date: Mapped[date] = mapped_column(Date)
    phone: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @validates("id_number")
    def _check_id_number(self, _key, value):
        value = (value or "").strip().upper()
        problem = resident_id_problem(value)
        if problem:
            raise ValueError(problem)
        self.id_last4 = value[-4:]
        return value

    @property
    def masked_id(self) -> str:
        return mask_resident_id(self.id_number)

    def __str__(self) -> str:
        return f"{self.name} {self.masked_id}"


class Application(db.Model):
    """One applicant's filing in one year; owned by the employer's business district."""

    __tablename__ = "applications"
    __table_args__ = (UniqueConstraint("applicant_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    applicant_id: Mapped[int] = mapped_column(ForeignKey("applicants.id"))
    year: Mapped[int] = mapped_column(ForeignKey("years.year"), index=True)
    employer_id: Mapped[int] = mapped_column(ForeignKey("employers.id"), index=True)
    # Copied from the employer when filed: the district that owns this year's cases.
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"), index=True)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Latest score, kept here for lists and ranking; history is in score_snapshots. The rank
    # and admission live in application_ranks (``ranking``, below).
    total: Mapped[Decimal | None] = mapped_column(Numeric(7, 2))
    # The latest score snapshot (score_snapshots.id), set in the transaction that writes it
    # (applications/scoring_service.py): the rescore reads "each application's latest snapshot"
    # through this primary-key pointer, a plan that stays one index probe per application
    # whatever the planner believes about score_snapshots (stale statistics made the
    # max(id)-per-application form a nested loop over the whole table, issue 18 §1).
    # No foreign key: snapshots are never deleted, and a key would need an index on this
    # column for PostgreSQL to check deletions from score_snapshots.
    current_snapshot_id: Mapped[int | None] = mapped_column(Integer)
    # 经核查取消积分落户资格: a proven fraud revokes the qualification; nobody moves up.
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_reason: Mapped[str | None] = mapped_column(String(500))
    # 取得年度积分落户资格: set when the announcement window closes for a listed application
    # that is not revoked and has no open tip (or when its tip closes unfounded).
    qualified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The intake API client that filed it (None: staff, demo or synth). A client reads and
    # changes only its own filings unless its token has the cross-client scope.
    created_by_client_id: Mapped[int | None] = mapped_column(ForeignKey("api_clients.id"))

    applicant: Mapped[Applicant] = relationship()
    employer: Mapped[Employer] = relationship()
    district: Mapped[District] = relationship()
    year_ref: Mapped[Year] = relationship()
    claims: Mapped[list["IndicatorClaim"]] = relationship(
        back_populates="application", order_by="IndicatorClaim.id"
    )
    # The latest ranking's row; None while the application holds no rank.
    ranking: Mapped["ApplicationRank | None"] = relationship(
        back_populates="application", uselist=False, passive_deletes=True
    )

    def __str__(self) -> str:
        return f"{self.year}-{self.id:06d} {self.applicant.name if self.applicant else ''}"

    # Rank and admission read through ``ranking`` on an object; in SQL a correlated subquery,
    # convenient for a few rows (lists of a year join application_ranks instead).
    @hybrid_property
    def rank(self) -> int | None:
        return self.ranking.rank if self.ranking is not None else None

    @rank.inplace.expression
    @classmethod
    def _rank_expression(cls):
        return (select(ApplicationRank.rank).where(ApplicationRank.application_id == cls.id)
                .correlate_except(ApplicationRank).scalar_subquery())

    @hybrid_property
    def admitted(self) -> bool:
        return self.ranking is not None and bool(self.ranking.admitted)

    @admitted.inplace.setter
    def _admitted_setter(self, value: bool) -> None:
        if self.ranking is None:
            self.ranking = ApplicationRank(year=self.year, admitted=value)
        else:
            self.ranking.admitted = value

    @admitted.inplace.expression
    @classmethod
    def _admitted_expression(cls):
        held = (select(ApplicationRank.admitted).where(ApplicationRank.application_id == cls.id)
                .correlate_except(ApplicationRank).scalar_subquery())
        return func.coalesce(held, false())


Index("ix_applications_year_total", Application.year, Application.total.desc())


class ApplicationRank(db.Model):
    """An application's place in its year's latest ranking (ranking/services.py writes it).

    Kept out of ``applications`` so that writing a year's ranks locks no application row: the
    ranking's INSERT … ON CONFLICT takes only FOR KEY SHARE on the application it references,
    which a decision's rescore (FOR NO KEY UPDATE, queues/jobs.py) does not wait for (issue 18 §2).
    A row exists only for an application that holds a rank (scored and submitted in time).
    """

    __tablename__ = "application_ranks"

    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), primary_key=True
    )
    # applications.year copied, so a year's ranks are read without applications. No key to
    # years: the year is the application's, and a key would only add locks.
    year: Mapped[int] = mapped_column(Integer)
    rank: Mapped[int | None] = mapped_column(Integer)
    admitted: Mapped[bool] = mapped_column(default=False)

    application: Mapped[Application] = relationship(back_populates="ranking")


# "Admitted of a year" counts and the admitted list in rank order read this index alone.
Index("ix_application_ranks_year_admitted_rank", ApplicationRank.year, ApplicationRank.admitted,
      ApplicationRank.rank)


class IndicatorClaim(db.Model):
    """One filed indicator item (a housing segment, an education record, an award…)."""

    __tablename__ = "indicator_claims"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    # The application's year, copied when the claim is filed (fill_year below; bulk loaders give
    # it): a year's claims are then one range of an index (yearstats' ix_indicator_claims_invalid)
    # instead of every year's claims joined to the year's applications (issue 18 §7).
    year: Mapped[int | None] = mapped_column(Integer)
    indicator: Mapped[Indicator] = mapped_column(_enum(Indicator))
    # As filed by the applicant, in the score-input shape of this indicator.
    claimed: Mapped[dict] = mapped_column(JSONType, default=dict)
    registry_status: Mapped[RegistryStatus] = mapped_column(
        _enum(RegistryStatus), default=RegistryStatus.pending
    )
    registry_reason: Mapped[str | None] = mapped_column(String(64))
    registry_message: Mapped[str | None] = mapped_column(String(500))
    # The registry's verified facts (dates, months) that scoring uses; superseded by a decision.
    verified: Mapped[dict | None] = mapped_column(JSONType)
    verified_by_decision_id: Mapped[int | None] = mapped_column(
        ForeignKey("decisions.id", use_alter=True)
    )
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    application: Mapped[Application] = relationship(back_populates="claims")

    @property
    def counts(self) -> bool:
        """Only verified facts score: a valid registry result or a superseding decision."""
        return self.registry_status == RegistryStatus.valid or self.verified_by_decision_id is not None


@event.listens_for(IndicatorClaim, "before_insert")
def fill_year(_mapper, connection, target):
    """Every claim filed through the ORM carries its application's year."""
    if target.year is None:
        target.year = connection.scalar(select(Application.year).where(Application.id == target.application_id))


class EvidenceFile(db.Model):
    """An uploaded PDF (附件3: one PDF of at most 1 MB per material), stored by sha256."""

    __tablename__ = "evidence_files"
    __table_args__ = (
        CheckConstraint("size > 0 AND size <= 1048576", name="size_limit"),
        CheckConstraint("pages > 0", name="pages_positive"),
        UniqueConstraint("case_id", "material_slot"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("review_cases.id"), index=True)
    material_slot: Mapped[str] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(Integer)
    pages: Mapped[int] = mapped_column(Integer)
    original_name: Mapped[str | None] = mapped_column(String(255))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The intake API client that uploaded it (None: staff or demo).
    created_by_client_id: Mapped[int | None] = mapped_column(ForeignKey("api_clients.id"))

    case: Mapped["ReviewCase"] = relationship()  # noqa: F821 (backoffice.cases.models)


class ScoreSnapshot(db.Model):
    """One computation of an application's score; never changed once written."""

    __tablename__ = "score_snapshots"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Indexed with id below: "the latest snapshot of these applications" reads the index only.
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    engine_version: Mapped[str] = mapped_column(String(32))
    # Digest of what the input was built from (engine version, year, birth date, each counted
    # claim's id, decision and verified facts): equal digests, equal results, so a bulk
    # rescoring skips the engine (applications/scoring_service.py).
    input_digest: Mapped[str | None] = mapped_column(String(32))
    # Digest of the figures (breakdown["indicators"]): equal digests, no need to read the breakdown.
    result_digest: Mapped[str | None] = mapped_column(String(32))
    total: Mapped[Decimal] = mapped_column(Numeric(7, 2))
    breakdown: Mapped[dict] = mapped_column(JSONType)
    # Per-indicator difference against the previous snapshot.
    changes: Mapped[dict | None] = mapped_column(JSONType)
    trigger: Mapped[str] = mapped_column(String(64))
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("decisions.id", use_alter=True))


Index("ix_score_snapshots_application_latest", ScoreSnapshot.application_id, ScoreSnapshot.id)
