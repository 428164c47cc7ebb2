"""Settlement cases (落户办理): the submission (调京信息) beside its ReviewCase, the steps of
the two-level approval, and the letters the city issues.

A SettlementCase belongs to one ReviewCase of the settlement queue (the case number, the
district, the working-day clock and the worklists are the cases module's); it adds what
第五篇 二 needs: the accompanying children, the chosen place of settlement, the archive and
agent, the stage of the approval, the lapse date, the letter number. Steps and letters are
append-only.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backoffice.applications.models import Application
from backoffice.cases.models import ReviewCase
from backoffice.core.db import JSONType, UTCDateTime, utcnow
from backoffice.extensions import db
from backoffice.staff.models import Staff

# The stages of a settlement, in the order the applicant sees them (查看调京进度).
STAGES: dict[str, str] = {
    "awaiting_submission": "已取得落户资格，待提交调京信息",
    "received": "已受理",
    "district_review": "区指定部门审核中",
    "returned": "已退回，待补正材料",
    "sent_to_city": "已报市人力资源社会保障局核准",
    "approved": "已核准",
    "stopped": "经比对发现刑事犯罪记录，已终止办理",
    "lapsed": "逾期视为放弃",
    "abandoned": "自行放弃",
}
STAGES_EN: dict[str, str] = {
    "awaiting_submission": "Qualified; waiting for the applicant's submission",
    "received": "Received",
    "district_review": "Under district review",
    "returned": "Returned for materials",
    "sent_to_city": "Sent to the city for approval",
    "approved": "Approved",
    "stopped": "Stopped: criminal record found",
    "lapsed": "Lapsed (deemed abandoned)",
    "abandoned": "Abandoned by the applicant",
}
FINAL_STAGES = ("approved", "stopped", "lapsed", "abandoned")

LETTER_KINDS: dict[str, str] = {
    "approval_letter": "北京市人力资源和社会保障局积分落户核准函",
    "transfer_introduction": "北京市人力资源和社会保障局调动介绍信",
    "personnel_registration": "调动人员情况登记表",
}


class SettlementCase(db.Model):
    __tablename__ = "settlement_cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("review_cases.id"), unique=True)
    # One settlement per qualification: no second case, no refill (落户资格不递补).
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), unique=True)
    stage: Mapped[str] = mapped_column(String(24), default="awaiting_submission")
    # 落户资格保留2年: the last day the qualification is kept.
    kept_until: Mapped[date] = mapped_column(Date)
    # The submission (调京信息); empty until the online system sends it.
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    place: Mapped[str | None] = mapped_column(String(16))  # verifiers.settlement.PLACES
    place_address: Mapped[str | None] = mapped_column(String(200))
    place_certificate_no: Mapped[str | None] = mapped_column(String(64))
    family_owns_home: Mapped[bool] = mapped_column(default=False)
    has_archive: Mapped[bool] = mapped_column(default=True)
    agent_name: Mapped[str | None] = mapped_column(String(64))
    agent_id_number: Mapped[str | None] = mapped_column(String(18))
    # [{name, id_number, birth_date, birth_order, parent}]
    children: Mapped[list | None] = mapped_column(JSONType)
    # The district's review and the city's approval.
    sent_up_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    sent_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    letter_year: Mapped[int | None] = mapped_column(Integer)
    letter_seq: Mapped[int | None] = mapped_column(Integer)
    letter_number: Mapped[str | None] = mapped_column(String(64), unique=True)
    stop_ground: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    case: Mapped[ReviewCase] = relationship()
    application: Mapped[Application] = relationship()
    sent_up_by: Mapped[Staff | None] = relationship(foreign_keys=[sent_up_by_id])
    approved_by: Mapped[Staff | None] = relationship(foreign_keys=[approved_by_id])
    steps: Mapped[list["SettlementStep"]] = relationship(back_populates="settlement", order_by="SettlementStep.id")
    letters: Mapped[list["SettlementLetter"]] = relationship(back_populates="settlement",
                                                             order_by="SettlementLetter.id")

    __table_args__ = (UniqueConstraint("letter_year", "letter_seq", name="uq_settlement_letter_seq"),)

    @property
    def stage_label(self) -> str:
        return STAGES[self.stage]

    @property
    def is_final(self) -> bool:
        return self.stage in FINAL_STAGES

    @property
    def reviewer_ids(self) -> set[int]:
        """Everyone who worked the district's review: claimed it, sent it up or returned it to
        the applicant (a city return, which carries a reason, is not a review), and the assignee."""
        ids = {step.actor_id for step in self.steps
               if step.stage in ("sent_to_city", "returned") or (step.stage == "district_review" and not step.reason_code)}
        return (ids | {self.sent_up_by_id, self.case.assignee_id}) - {None}


class SettlementStep(db.Model):
    """One step of a settlement (received, sent up, returned, approved …); never changed."""

    __tablename__ = "settlement_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    settlement_id: Mapped[int] = mapped_column(ForeignKey("settlement_cases.id"), index=True)
    stage: Mapped[str] = mapped_column(String(24))  # the stage this step led to
    reason_code: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    # The ticked checklist when the district sent it up: {item code: {"state", "note"}}.
    checklist: Mapped[dict | None] = mapped_column(JSONType)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    actor_label: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    settlement: Mapped[SettlementCase] = relationship(back_populates="steps")
    actor: Mapped[Staff | None] = relationship()


class SettlementLetter(db.Model):
    """A letter the city issues on approval: a PDF stored by SHA-256 in the upload directory."""

    __tablename__ = "settlement_letters"
    __table_args__ = (UniqueConstraint("settlement_id", "kind", name="uq_settlement_letter_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    settlement_id: Mapped[int] = mapped_column(ForeignKey("settlement_cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # LETTER_KINDS
    number: Mapped[str] = mapped_column(String(64), unique=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    settlement: Mapped[SettlementCase] = relationship(back_populates="letters")

    @property
    def title(self) -> str:
        return LETTER_KINDS[self.kind]

    @property
    def letter_seq_suffix(self) -> str:
        """The number's year and serial in ASCII, for a file name: 2026-000001."""
        digits = "".join(ch if ch.isdigit() else " " for ch in self.number).split()
        return "-".join(digits)


@event.listens_for(SettlementStep, "before_update")
@event.listens_for(SettlementLetter, "before_update")
def _refuse_update(_mapper, _connection, target):
    raise PermissionError(f"{type(target).__name__} rows are never updated; write a new one")
