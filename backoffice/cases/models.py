"""Review cases (复查, 异议申诉, settlement checks, tips) and their decisions."""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, Enum, ForeignKey, Index, Integer, String, Text, event, literal_column, select, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backoffice.applications.models import Applicant, Application, IndicatorClaim
from backoffice.core.db import JSONType, UTCDateTime, utcnow
from backoffice.extensions import db
from backoffice.i18n import N_
from backoffice.reference.models import District
from backoffice.staff.models import Staff
from verifiers.reasons import OUTCOMES

QUEUE_CODES = ("housing", "education", "awards", "tax", "appeals", "settlement", "tips", "eligibility")


class CaseKind(str, enum.Enum):
    review = "review"  # 复查 of an invalid registry result
    filing = "filing"  # evidence filed with a claim, checked at the window (verifiers/filings.py)
    appeal = "appeal"  # 异议申诉 in the result-query phase
    settlement = "settlement"  # 落户办理材料
    tip = "tip"  # 举报 during the announcement
    eligibility_objection = "eligibility_objection"  # 资格异议 of an eligibility refusal (第一篇)
    employer_registration = "employer_registration"  # 单位注册: an employer's licence upload (第二篇)


class CaseStatus(str, enum.Enum):
    open = "open"  # in the queue, nobody has it
    in_review = "in_review"  # claimed by a reviewer
    awaiting_materials = "awaiting_materials"  # returned to the applicant; the clock stops
    awaiting_countersign = "awaiting_countersign"  # a score-changing decision waits for a supervisor
    closed = "closed"


OPEN_STATUSES = (
    CaseStatus.open,
    CaseStatus.in_review,
    CaseStatus.awaiting_materials,
    CaseStatus.awaiting_countersign,
)

# Chinese data (they also go into notices to applicants); pages show them through _(label).
CASE_KIND_LABELS = {
    CaseKind.review: N_("复查"),
    CaseKind.filing: N_("填报凭证审核"),
    CaseKind.appeal: N_("异议申诉"),
    CaseKind.settlement: N_("落户材料审核"),
    CaseKind.tip: N_("举报核查"),
    CaseKind.eligibility_objection: N_("资格异议"),
    CaseKind.employer_registration: N_("单位注册"),
}
CASE_STATUS_LABELS = {
    CaseStatus.open: N_("待领取"),
    CaseStatus.in_review: N_("审核中"),
    CaseStatus.awaiting_materials: N_("待补正材料"),
    CaseStatus.awaiting_countersign: N_("待主管复核"),
    CaseStatus.closed: N_("已办结"),
}


class Outcome(str, enum.Enum):
    """The contest's outcome; meanings and labels live with the rules (verifiers.reasons.OUTCOMES)."""

    upheld = "upheld"  # the contest succeeds: the claim is valid as filed
    corrected = "corrected"  # valid with corrected facts (e.g. a registration month)
    returned = "returned"  # back to the applicant for materials; the clock stops
    rejected = "rejected"  # the contest fails: the registry result stands


OUTCOME_LABELS = {Outcome(o.code): o.label_zh for o in OUTCOMES}


def _enum(cls, length=24):
    return Enum(cls, native_enum=False, length=length, validate_strings=True)


class ReviewCase(db.Model):
    __tablename__ = "review_cases"
    __table_args__ = (
        CheckConstraint(
            "queue IN (" + ", ".join(f"'{q}'" for q in QUEUE_CODES) + ")", name="queue_known"
        ),
        CheckConstraint("due_date >= received_on", name="due_after_received"),
        CheckConstraint(
            "(status = 'closed') = (closed_at IS NOT NULL)", name="closed_at_iff_closed"
        ),
        CheckConstraint("application_id IS NOT NULL OR kind = 'employer_registration'",
                        name="application_unless_registration"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    year: Mapped[int] = mapped_column(ForeignKey("years.year"), index=True)
    # None only for a unit's licence case (单位注册), which concerns no application.
    application_id: Mapped[int | None] = mapped_column(ForeignKey("applications.id"), index=True)
    # The applicant's ID number's last four characters, copied when the case is created (an ID
    # number never changes): the worklists' search by them is then one index range on this
    # table (ix_review_cases_id_last4), not a join through applicants and applications that
    # PostgreSQL answered, and counted, with a scan of every case (issue 18 §4). None for a
    # unit's licence case. Filled by fill_id_last4 below for ORM inserts; bulk loaders give it.
    id_last4: Mapped[str | None] = mapped_column(String(4))
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("indicator_claims.id"), index=True)
    queue: Mapped[str] = mapped_column(String(16))
    kind: Mapped[CaseKind] = mapped_column(_enum(CaseKind))
    # Materials table (复查所需材料清单) code of verifiers.materials.
    review_type: Mapped[str | None] = mapped_column(String(64))
    # The registry reason being contested, or the appeal's indicator.
    reason_code: Mapped[str | None] = mapped_column(String(64))
    applicant_statement: Mapped[str | None] = mapped_column(Text)
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"))
    status: Mapped[CaseStatus] = mapped_column(_enum(CaseStatus), default=CaseStatus.open)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    received_on: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    # Working days already used before the clock was stopped (returned for materials).
    paused_on: Mapped[date | None] = mapped_column(Date)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # The intake API client that opened it (None: staff, demo or synth).
    created_by_client_id: Mapped[int | None] = mapped_column(ForeignKey("api_clients.id"))

    application: Mapped[Application | None] = relationship()
    claim: Mapped[IndicatorClaim | None] = relationship()
    district: Mapped[District] = relationship()
    assignee: Mapped[Staff | None] = relationship()
    # An appeal's disputed claims (CaseClaim), named at filing; written through CaseClaim rows.
    disputed_claims: Mapped[list[IndicatorClaim]] = relationship(
        secondary="review_case_claims", order_by="IndicatorClaim.id", viewonly=True
    )
    decisions: Mapped[list["Decision"]] = relationship(
        back_populates="case", order_by="Decision.id", foreign_keys="Decision.case_id"
    )

    # Optimistic locking: a stale form's UPDATE matches no row and raises StaleDataError.
    __mapper_args__ = {"version_id_col": version}

    @property
    def is_open(self) -> bool:
        return self.status != CaseStatus.closed

    def __str__(self) -> str:
        return self.number


# Worklists (cases/admin.py), oldest due first, the id breaking ties so pages are stable.
# With a status filter: district (or city level), queue and status, in due order.
Index(
    "ix_review_cases_worklist",
    ReviewCase.district_id, ReviewCase.queue, ReviewCase.status, ReviewCase.due_date, ReviewCase.id,
)
Index("ix_review_cases_city_worklist", ReviewCase.queue, ReviewCase.status, ReviewCase.due_date, ReviewCase.id)
# Without one (the default): the cases still open, of a district's queue and of a queue city-wide.
Index(
    "ix_review_cases_open_by_district",
    ReviewCase.district_id, ReviewCase.queue, ReviewCase.due_date, ReviewCase.id,
    sqlite_where=text("status != 'closed'"),
    postgresql_where=text("status != 'closed'"),
)
Index(
    "ix_review_cases_open_by_queue",
    ReviewCase.queue, ReviewCase.due_date, ReviewCase.id,
    sqlite_where=text("status != 'closed'"),
    postgresql_where=text("status != 'closed'"),
)

# The same lists sorted by receipt date (the worklist's "received" column, either direction: a
# backward index scan), so that sort reads 50 index entries instead of sorting the queue.
Index(
    "ix_review_cases_open_by_district_received",
    ReviewCase.district_id, ReviewCase.queue, ReviewCase.received_on, ReviewCase.id,
    sqlite_where=text("status != 'closed'"),
    postgresql_where=text("status != 'closed'"),
)
Index(
    "ix_review_cases_open_by_queue_received",
    ReviewCase.queue, ReviewCase.received_on, ReviewCase.id,
    sqlite_where=text("status != 'closed'"),
    postgresql_where=text("status != 'closed'"),
)


# Search by the last four: equality on id_last4 first (a few dozen cases per value over ten
# years), then the list's own filters (queue, status, district) read from the same entries.
Index("ix_review_cases_id_last4", ReviewCase.id_last4, ReviewCase.queue, ReviewCase.status, ReviewCase.district_id)


@event.listens_for(ReviewCase, "before_insert")
def fill_id_last4(_mapper, connection, target):
    """Every case created through the ORM (intake, demo, tests) carries its applicant's last four."""
    if target.id_last4 is None and target.application_id is not None:
        target.id_last4 = connection.scalar(
            select(Applicant.id_last4).join(Application, Application.applicant_id == Applicant.id)
            .where(Application.id == target.application_id))


# With a status filter (closed cases of every year kept, say), sorted by receipt date: the filter
# and the sort on one index, not the matching rows sorted (on disk at 480 000 cases).
Index(
    "ix_review_cases_worklist_received",
    ReviewCase.district_id, ReviewCase.queue, ReviewCase.status, ReviewCase.received_on, ReviewCase.id,
)
Index(
    "ix_review_cases_city_worklist_received",
    ReviewCase.queue, ReviewCase.status, ReviewCase.received_on, ReviewCase.id,
)


def not_closed():
    """The open cases, written as the partial indexes' predicate: a literal, not a bound
    parameter, or PostgreSQL's generic plan for a prepared statement cannot use them."""
    return ReviewCase.status != literal_column("'closed'")
# 每条指标同时只能有一个在办案件: one open case per claim and contested reason. A tax claim
# carries two contestable results (years below 100 000 yuan, and 涉税违法行为), and the
# handbook gives each its own row of 纳税指标复查所需材料清单, so each gets its own 复查
# (backoffice/cases/intake.py says why); every other claim carries one reason.
Index(
    "uq_review_cases_open_claim",
    ReviewCase.claim_id,
    ReviewCase.reason_code,
    unique=True,
    sqlite_where=text("status != 'closed'"),
    postgresql_where=text("status != 'closed'"),
)


class CaseClaim(db.Model):
    """A claim an appeal (异议申诉) names as disputed: an indicator with several claims (housing
    segments, awards) is appealed as one indicator, and the appeal says which of its claims."""

    __tablename__ = "review_case_claims"

    case_id: Mapped[int] = mapped_column(ForeignKey("review_cases.id"), primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("indicator_claims.id"), primary_key=True, index=True)


class Decision(db.Model):
    """A reviewer's decision on a case. Never updated: a later decision supersedes it."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("review_cases.id"), index=True)
    outcome: Mapped[Outcome] = mapped_column(_enum(Outcome))
    reason_code: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text)
    corrected_facts: Mapped[dict | None] = mapped_column(JSONType)
    # Ticked checklist: {row_code: {"state": "present|acceptable|problem", "note": ...}}.
    checklist: Mapped[dict | None] = mapped_column(JSONType)
    changes_score: Mapped[bool] = mapped_column(default=False)
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("decisions.id"), unique=True)

    case: Mapped[ReviewCase] = relationship(back_populates="decisions", foreign_keys=[case_id])
    decided_by: Mapped[Staff] = relationship(foreign_keys=[decided_by_id])
    signoff: Mapped["Countersignature | None"] = relationship(back_populates="decision")


class Countersignature(db.Model):
    """A supervisor's second signature on a score-changing decision (four eyes)."""

    __tablename__ = "countersignatures"

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id"), unique=True)
    signed_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    confirmed: Mapped[bool] = mapped_column()
    reason: Mapped[str | None] = mapped_column(Text)
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    decision: Mapped[Decision] = relationship(back_populates="signoff")
    signed_by: Mapped[Staff] = relationship()


@event.listens_for(Decision, "before_update")
@event.listens_for(Countersignature, "before_update")
def _refuse_update(_mapper, _connection, target):
    raise PermissionError(f"{type(target).__name__} rows are never updated; write a new one")
