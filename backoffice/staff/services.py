"""Staff services: sign-in with lock-out, account creation. They flush; callers commit."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from backoffice.audit.services import record
from backoffice.core.db import utcnow
from backoffice.extensions import db
from backoffice.staff.models import Role, Staff
from backoffice.staff.passwords import dummy_hash, hash_password, verify_password


@dataclass(frozen=True)
class SignIn:
    staff: Staff | None
    message: str = ""


BAD_CREDENTIALS = "用户名或密码错误 / wrong username or password"


def _limits() -> tuple[int, int]:
    settings = current_app.config["BACKOFFICE"]
    return settings.login_max_failures, settings.login_lock_minutes


def authenticate(username: str, password: str) -> SignIn:
    """Check a password; 5 consecutive failures lock the account for 15 minutes."""
    max_failures, lock_minutes = _limits()
    staff = db.session.scalar(select(Staff).where(Staff.username == username.strip()))
    now = utcnow()
    if staff is None:
        verify_password(dummy_hash(), password)
        record("login.failed", "staff", None, actor_label=username[:100] or "?", after={"reason": "unknown user"})
        return SignIn(None, BAD_CREDENTIALS)
    if staff.locked_until and staff.locked_until > now:
        minutes = max(1, int((staff.locked_until - now).total_seconds() // 60) + 1)
        record("login.refused_locked", "staff", staff.id, actor_label=staff.username, district_id=staff.district_id)
        return SignIn(None, f"账户已锁定，请{minutes}分钟后再试 / account locked, try again in {minutes} min")
    if not staff.active:
        verify_password(dummy_hash(), password)
        record("login.refused_inactive", "staff", staff.id, actor_label=staff.username, district_id=staff.district_id)
        return SignIn(None, BAD_CREDENTIALS)
    if not verify_password(staff.password_hash, password):
        staff.failed_logins += 1
        after = {"failed_logins": staff.failed_logins}
        if staff.failed_logins >= max_failures:
            staff.locked_until = now + timedelta(minutes=lock_minutes)
            staff.failed_logins = 0
            after = {"locked_until": staff.locked_until}
            record("login.locked", "staff", staff.id, actor_label=staff.username, district_id=staff.district_id, after=after)
            db.session.flush()
            return SignIn(None, f"连续{max_failures}次密码错误，账户锁定{lock_minutes}分钟 / "
                                f"{max_failures} failures: account locked for {lock_minutes} min")
        record("login.failed", "staff", staff.id, actor_label=staff.username, district_id=staff.district_id, after=after)
        db.session.flush()
        return SignIn(None, BAD_CREDENTIALS)
    staff.failed_logins = 0
    staff.locked_until = None
    staff.last_login_at = now
    record("login.succeeded", "staff", staff.id, actor=staff, district_id=staff.district_id)
    db.session.flush()
    return SignIn(staff)


def create_staff(
    username: str,
    full_name: str,
    password: str,
    role: Role | str,
    district_id: int | None = None,
    *,
    actor=None,
    actor_label: str | None = None,
) -> Staff:
    role = Role(role)
    if role == Role.reviewer and district_id is None:
        raise ValueError("审核员必须属于一个区 / a reviewer belongs to a district")
    if role in (Role.investigator, Role.administrator, Role.city_approver) and district_id is not None:
        raise ValueError("举报核查员、管理员和市级落户核准员为市级账户 / investigators, administrators and city approvers are city level")
    if db.session.scalar(select(Staff.id).where(Staff.username == username)):
        raise ValueError(f"用户名已存在 / username {username!r} exists")
    staff = Staff(
        username=username,
        full_name=full_name,
        password_hash=hash_password(password),
        role=role,
        district_id=district_id,
    )
    db.session.add(staff)
    db.session.flush()
    record(
        "staff.created", "staff", staff.id, district_id=district_id, actor=actor, actor_label=actor_label,
        after={"username": username, "role": role, "district_id": district_id},
    )
    return staff
