"""Staff services: sign-in with throttling, account creation, session ends. They flush; callers commit."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import case, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from backoffice.audit.models import AuditEvent
from backoffice.audit.services import record
from backoffice.core.db import utcnow
from backoffice.extensions import db
from backoffice.staff.models import LoginThrottle, Role, Staff
from backoffice.staff.passwords import dummy_hash, hash_password, verify_password
from backoffice.i18n import _, _l, text


@dataclass(frozen=True)
class SignIn:
    staff: Staff | None
    message: str = ""


BAD_CREDENTIALS = _l("用户名或密码错误")


def throttled_message(minutes: int) -> str:
    return (_("尝试次数过多，请%(minutes)s分钟后再试", minutes=minutes))


def _key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _count_attempt(key: str, window: timedelta) -> int:
    """One more attempt under ``key``; returns the attempts in the current window.

    A single INSERT … ON CONFLICT DO UPDATE … RETURNING: the row is locked by the
    statement itself, so parallel requests each get their own number and no two of them can
    both see "4" (the old read-then-write let 40 parallel requests make 10 checks)."""
    now = utcnow()
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    table = LoginThrottle.__table__
    expired = table.c.window_ends_at <= now
    statement = insert(table).values(key=key, failures=1, window_ends_at=now + window)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.key],
        set_={
            "failures": case((expired, 1), else_=table.c.failures + 1),
            "window_ends_at": case((expired, now + window), else_=table.c.window_ends_at),
        },
    ).returning(table.c.failures)
    return db.session.execute(statement).scalar_one()


def _forget_attempt(key: str, *, reset: bool) -> None:
    table = LoginThrottle.__table__
    if reset:
        db.session.execute(delete(table).where(table.c.key == key))
    else:
        db.session.execute(update(table).where(table.c.key == key, table.c.failures > 0)
                           .values(failures=table.c.failures - 1))


def authenticate(username: str, password: str, address: str | None = None) -> SignIn:
    """Check a password, throttled by account and client address together.

    Every attempt is counted first, atomically, under three keys — the name as typed with
    the address, the name alone, the address alone — and the password is checked only
    while the counts allow it: at most ``login_max_failures`` checks per name and address
    in ``login_lock_minutes``; an address that tries many names is stopped too; and an
    account under attack from many addresses refuses only the addresses that have already
    failed on it, so its owner, signing in from an address that was not failing, still gets
    in. Nothing depends on whether the name exists: an unknown name is counted and answered
    exactly as a known one."""
    settings = current_app.config["BACKOFFICE"]
    max_failures, minutes = settings.login_max_failures, settings.login_lock_minutes
    window = timedelta(minutes=minutes)
    name = username.strip()
    address = address or "?"
    pair_key, account_key, address_key = (
        _key(f"pair:{name.casefold()}|{address}"), _key(f"account:{name.casefold()}"), _key(f"address:{address}"))
    # Address first: on SQLite the first write of a transaction takes the lock, before any read.
    on_address = _count_attempt(address_key, window)
    on_pair = _count_attempt(pair_key, window)
    on_account = _count_attempt(account_key, window)
    allowed = (on_pair <= max_failures and on_address <= max_failures * ADDRESS_FACTOR
               and (on_account <= max_failures * ACCOUNT_FACTOR or on_pair == 1))
    staff = db.session.scalar(select(Staff).where(Staff.username == name))
    district_id = staff.district_id if staff is not None else None
    label = (staff.username if staff is not None else name[:100]) or "?"
    if not allowed:
        record("login.throttled", "staff", staff.id if staff else None, actor_label=label, district_id=district_id,
               after={"address": address, "attempts_from_address_on_account": on_pair})
        return SignIn(None, throttled_message(minutes))
    if staff is None or not staff.active:
        verify_password(dummy_hash(), password)
        reason = "unknown user" if staff is None else "inactive"
        record("login.failed" if staff is None else "login.refused_inactive", "staff", staff.id if staff else None,
               actor_label=label, district_id=district_id, after={"reason": reason})
        return SignIn(None, BAD_CREDENTIALS)
    if not verify_password(staff.password_hash, password):
        db.session.execute(update(Staff).where(Staff.id == staff.id)
                           .values(failed_logins=Staff.failed_logins + 1))
        record("login.failed", "staff", staff.id, actor_label=label, district_id=district_id,
               after={"address": address})
        return SignIn(None, BAD_CREDENTIALS)
    # The right password: this address's failures on this account are forgiven, and this
    # attempt was not a failure.
    _forget_attempt(pair_key, reset=True)
    _forget_attempt(account_key, reset=False)
    _forget_attempt(address_key, reset=False)
    staff.failed_logins = 0
    staff.last_login_at = utcnow()
    record("login.succeeded", "staff", staff.id, actor=staff, district_id=district_id)
    db.session.flush()
    return SignIn(staff)


def end_sessions(staff: Staff, reason: str) -> None:
    """End every session of the account: the version stored in each session no longer
    matches (staff/auth.load_user). Atomic, so two bumps never collapse into one."""
    db.session.execute(update(Staff).where(Staff.id == staff.id)
                       .values(session_version=Staff.session_version + 1)
                       .execution_options(synchronize_session=False))
    db.session.expire(staff, ["session_version"])
    record("staff.sessions_ended", "staff", staff.id, district_id=staff.district_id, after={"reason": reason})


# An address may fail this many times the per-account limit across all names; an account
# under attack from several addresses refuses the failing ones past this many times it.
ADDRESS_FACTOR = 6
ACCOUNT_FACTOR = 4


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
        raise ValueError(_("审核员必须属于一个区"))
    if role in (Role.investigator, Role.administrator, Role.city_approver) and district_id is not None:
        raise ValueError(_("举报核查员、管理员和市级落户核准员为市级账户"))
    if db.session.scalar(select(Staff.id).where(Staff.username == username)):
        raise ValueError(_("用户名已存在：%(username)s", username=username))
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


# Lock state and unlocking (the staff form's 解除锁定) -----------------------------------------
def _recent_addresses(staff: Staff, since) -> set[str]:
    """The addresses that failed on this account lately: the audit trail keeps each one (the
    throttle keeps only hashes), so their per-address counters can be found again."""
    rows = db.session.scalars(
        select(AuditEvent.after).where(
            AuditEvent.object_type == "staff", AuditEvent.object_id == str(staff.id),
            AuditEvent.action.in_(("login.failed", "login.throttled")), AuditEvent.at >= since)
    )
    return {row["address"] for row in rows if isinstance(row, dict) and row.get("address")}


def _throttle_keys(staff: Staff) -> list[str]:
    settings = current_app.config["BACKOFFICE"]
    since = utcnow() - timedelta(minutes=settings.login_lock_minutes)
    name = staff.username.casefold()
    return [_key(f"account:{name}")] + [_key(f"pair:{name}|{a}") for a in sorted(_recent_addresses(staff, since))]


def locked_until(staff: Staff):
    """When sign-in opens again for this account (from any address that failed on it), or None.

    Locked: the account's own counter or the counter of an address that failed on it is past
    its limit in the current window, or the account carries a lock of its own (locked_until)."""
    settings = current_app.config["BACKOFFICE"]
    now = utcnow()
    if not staff.failed_logins and (staff.locked_until is None or staff.locked_until <= now):
        return None  # no failed password since the last sign-in: nothing of this account is locked
    limits = {"account": settings.login_max_failures * ACCOUNT_FACTOR, "pair": settings.login_max_failures}
    keys = _throttle_keys(staff)
    until = staff.locked_until if staff.locked_until is not None and staff.locked_until > now else None
    rows = db.session.execute(
        select(LoginThrottle.key, LoginThrottle.failures, LoginThrottle.window_ends_at)
        .where(LoginThrottle.key.in_(keys), LoginThrottle.window_ends_at > now)
    ).all()
    for key, failures, ends in rows:
        limit = limits["account"] if key == keys[0] else limits["pair"]
        if failures >= limit and (until is None or ends > until):
            until = ends
    return until


def unlock(staff: Staff, *, actor=None) -> bool:
    """Clear the account's sign-in lock: its own and its failing addresses' counters, the failure
    count and any lock date; audited ("staff.unlocked"). Returns whether anything was locked."""
    was = locked_until(staff)
    keys = _throttle_keys(staff)
    db.session.execute(delete(LoginThrottle).where(LoginThrottle.key.in_(keys)))
    before = {"failed_logins": staff.failed_logins, "locked_until": was}
    staff.failed_logins = 0
    staff.locked_until = None
    db.session.flush()
    record("staff.unlocked", "staff", staff.id, district_id=staff.district_id, actor=actor,
           before=before, after={"failed_logins": 0, "locked_until": None})
    return was is not None
