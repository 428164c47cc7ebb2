"""Notices (告知书) and their per-channel delivery rows.

A notice is written in the same transaction as the decision that reaches the applicant:
its number, the case, the decision, the kind, the text as rendered, the short text for SMS
and the PDF itself (stored with the case, in the database: it commits or rolls back with
the decision). Notices are never changed; a later decision issues a new notice.

`NotificationOutbox` holds one row per channel ("feed" — the online system's events
feed, always; "sms" — when the applicant has a phone number), written in the same
transaction; the delivery job marks each row delivered, so a retried or repeated job
delivers nothing twice.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint, event, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backoffice.core.db import UTCDateTime, utcnow
from backoffice.extensions import db
from backoffice.i18n import N_

# The kinds of notice, each with its template in templates/notices/<kind>.txt (the letter's
# title, in Chinese); staff pages show the kind through `_(label)`.
NOTICE_KINDS = {
    "review_result": N_("复查结果告知书"),
    "appeal_result": N_("异议申诉处理结果告知书"),
    "materials_return": N_("补正材料告知书"),
    "eligibility_result": N_("资格异议处理结果告知书"),
    "settlement_return": N_("落户材料退回补正告知书"),
    "filing_result": N_("填报凭证审核结果告知书"),
}
CHANNELS = ("feed", "sms")
CHANNEL_LABELS = {"feed": N_("在线申报系统"), "sms": N_("短信")}


class Notice(db.Model):
    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    # 积分落户告知书编号: the case number and the notice's place among the case's notices.
    number: Mapped[str] = mapped_column(String(48), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("review_cases.id"), index=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"), index=True)
    # The decision the notice tells (None for outcomes recorded elsewhere, e.g. settlement).
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("decisions.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    outcome: Mapped[str | None] = mapped_column(String(24))
    title: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)  # the body as rendered (what the PDF says)
    short_text: Mapped[str] = mapped_column(String(70))  # SMS: at most 70 characters
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    pdf_sha256: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))

    case = relationship("ReviewCase")
    application = relationship("Application")
    district = relationship("District")
    deliveries: Mapped[list["NotificationOutbox"]] = relationship(
        back_populates="notice", order_by="NotificationOutbox.id"
    )

    @property
    def kind_label(self) -> str:
        return NOTICE_KINDS.get(self.kind, self.kind)

    def __str__(self) -> str:
        return self.number


class NotificationOutbox(db.Model):
    """One channel's delivery of one notice: written with the notice, marked by the job."""

    __tablename__ = "notification_outbox"
    __table_args__ = (UniqueConstraint("notice_id", "channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id"))
    channel: Mapped[str] = mapped_column(String(16))
    # The SMS recipient as it was when the notice was issued (never shown unmasked).
    recipient: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # What the channel answered: the feed event's id, the gateway's message id.
    external_id: Mapped[str | None] = mapped_column(String(100))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)

    notice: Mapped[Notice] = relationship(back_populates="deliveries")


Index(
    "ix_notification_outbox_undelivered",
    NotificationOutbox.notice_id,
    sqlite_where=text("delivered_at IS NULL"),
    postgresql_where=text("delivered_at IS NULL"),
)


@event.listens_for(Notice, "before_update")
def _refuse_update(_mapper, _connection, _target):
    raise PermissionError("notices are never changed; issue a new one")
