"""Staff accounts: who signs in, in which role, for which district."""
from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backoffice.core.db import UTCDateTime, utcnow
from backoffice.extensions import db
from backoffice.i18n import _, N_
from backoffice.reference.models import District


class Role(str, enum.Enum):
    reviewer = "reviewer"
    supervisor = "supervisor"
    investigator = "investigator"
    administrator = "administrator"
    # 市人力资源社会保障局: approves (核准) settlement cases a district has reviewed (第五篇 二 3).
    city_approver = "city_approver"

    @property
    def label(self) -> str:
        return _(ROLE_LABELS[self])  # in the reader's language; ROLE_LABELS stays Chinese


ROLE_LABELS = {
    Role.reviewer: N_("审核员"),
    Role.supervisor: N_("主管"),
    Role.investigator: N_("举报核查员"),
    Role.administrator: N_("系统管理员"),
    Role.city_approver: N_("市级落户核准员"),
}
ROLE_LABELS_EN = {
    Role.reviewer: "Reviewer",
    Role.supervisor: "Supervisor",
    Role.investigator: "Tip investigator",
    Role.administrator: "Administrator",
    Role.city_approver: "City settlement approver",
}

# Roles that work one district's window, and roles that are city level (市人社局); a supervisor
# may be either (the role_district check constraint below says the same).
DISTRICT_ROLES = frozenset({Role.reviewer})
CITY_ROLES = frozenset({Role.investigator, Role.administrator, Role.city_approver})


class Staff(UserMixin, db.Model):
    __tablename__ = "staff"
    __table_args__ = (
        # Reviewers work one district's window; investigators, administrators and city approvers are
        # city level (市人社局); a supervisor heads a district window or works city-wide.
        CheckConstraint(
            "(role = 'reviewer' AND district_id IS NOT NULL)"
            " OR (role IN ('investigator', 'administrator', 'city_approver') AND district_id IS NULL)"
            " OR role = 'supervisor'",
            name="role_district",
        ),
        CheckConstraint("failed_logins >= 0", name="failed_logins_nonneg"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=16, validate_strings=True))
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str] = mapped_column(String(16), default="zh_Hans_CN")
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Stored in the session at sign-in and compared on every request (staff/auth.load_user):
    # bumping it (logout, password change or reset, deactivation, role or district change)
    # ends every session of the account.
    session_version: Mapped[int] = mapped_column(default=1, server_default="1")

    district: Mapped[District | None] = relationship()

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    @property
    def city_level(self) -> bool:
        return self.district_id is None

    def __str__(self) -> str:
        return f"{self.full_name} ({self.username})"


class LoginThrottle(db.Model):
    """Failed sign-in attempts per key in a fixed window: ``pair:<username>|<address>``,
    ``account:<username>`` and ``address:<address>`` (staff/services.py). Keyed by the name
    as typed, so an unknown username is counted exactly as a known one."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of the key text
    failures: Mapped[int] = mapped_column(default=0)
    window_ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
