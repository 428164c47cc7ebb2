"""Eligibility results per application, employers' confirmation of their applicants, and
employers' filed changes (备案).

* ``EligibilityResult`` — one row per check of the four conditions (第一篇), never changed: the
  latest row of an application is its standing result. Each condition is stored with its
  words, whether it held, the prompt the applicant was shown and the facts it used; a check
  re-run on an objection names the case and the corrections the window made.
* ``EmployerLink`` — 单位处理关联申请 (第二篇 一 4): the employer confirms (通过) or refuses
  (不通过, with 处理意见) that the applicant is its employee; only a confirmed link proceeds.
* ``EmployerFiling`` — changes to a unit's details: contact changes made during the year, and the
  other changes filed with the district window (备案), kept as history.
"""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, Enum, ForeignKey, Index, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backoffice.applications.models import Application
from backoffice.core.db import JSONType, UTCDateTime, utcnow
from backoffice.extensions import db
from backoffice.reference.models import Employer


class EligibilityResult(db.Model):
    __tablename__ = "eligibility_results"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    eligible: Mapped[bool] = mapped_column(Boolean)
    # The applicant's post type (worker | cadre) the retirement limit was read with.
    post: Mapped[str | None] = mapped_column(String(8))
    # [{code, passed, title, words, reason, prompt, facts}] in the handbook's order.
    conditions: Mapped[list] = mapped_column(JSONType)
    # What the window corrected on an objection, per condition (None for a registry check).
    corrections: Mapped[dict | None] = mapped_column(JSONType)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("review_cases.id"))
    source: Mapped[str] = mapped_column(String(32))  # the registries' name, or "objection"
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    application: Mapped[Application] = relationship()

    @property
    def failing(self) -> list[dict]:
        return [c for c in self.conditions if not c["passed"]]


Index("ix_eligibility_results_application", EligibilityResult.application_id, EligibilityResult.id)


class LinkStatus(str, enum.Enum):
    pending = "pending"  # 等待单位确认
    confirmed = "confirmed"  # 通过
    refused = "refused"  # 不通过


LINK_STATUS_LABELS = {LinkStatus.pending: "等待单位确认", LinkStatus.confirmed: "通过", LinkStatus.refused: "不通过"}


class EmployerLink(db.Model):
    __tablename__ = "employer_links"

    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), primary_key=True)
    employer_id: Mapped[int] = mapped_column(ForeignKey("employers.id"), index=True)
    status: Mapped[LinkStatus] = mapped_column(
        Enum(LinkStatus, native_enum=False, length=16, validate_strings=True), default=LinkStatus.pending)
    opinion: Mapped[str | None] = mapped_column(Text)  # 处理意见 of a refusal
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    application: Mapped[Application] = relationship()
    employer: Mapped[Employer] = relationship()


class EmployerFiling(db.Model):
    """A change of a unit's details: ``contact`` (changed by the unit itself during the year) or
    ``filed`` (备案 with the district window; the unit's record keeps its registered values)."""

    __tablename__ = "employer_filings"

    id: Mapped[int] = mapped_column(primary_key=True)
    employer_id: Mapped[int] = mapped_column(ForeignKey("employers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # contact | filed
    before: Mapped[dict | None] = mapped_column(JSONType)
    after: Mapped[dict] = mapped_column(JSONType)
    note: Mapped[str | None] = mapped_column(Text)
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_label: Mapped[str] = mapped_column(String(64))

    employer: Mapped[Employer] = relationship()


class EmployerRegistration(db.Model):
    """单位注册 by licence (第二篇 一 2): a unit the registries did not admit uploads its licence
    (one PDF ≤ 1 MB containing its credit code); a case in its district's eligibility queue
    accepts (the unit is registered) or refuses it with a reason."""

    __tablename__ = "employer_registrations"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("review_cases.id"), unique=True)
    uscc: Mapped[str] = mapped_column(String(18), index=True)
    name: Mapped[str] = mapped_column(String(200))
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"))
    # Why the registries did not admit it (the prompt the unit saw).
    refusal: Mapped[str | None] = mapped_column(Text)
    employer_id: Mapped[int | None] = mapped_column(ForeignKey("employers.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    employer: Mapped[Employer | None] = relationship()


@event.listens_for(EligibilityResult, "before_update")
@event.listens_for(EmployerFiling, "before_update")
def _refuse_update(_mapper, _connection, target):
    raise PermissionError(f"{type(target).__name__} rows are never updated; write a new one")
