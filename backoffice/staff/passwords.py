"""Salted, slow password hashes (Argon2id), and the staff password policy: at least 12
characters, and not a common password (data/common-passwords.txt)."""
import re
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from backoffice.i18n import _

_hasher = PasswordHasher()

MIN_PASSWORD_LENGTH = 12
COMMON_PASSWORDS_FILE = Path(__file__).with_name("data") / "common-passwords.txt"
_TRAILING = re.compile(r"[\d\W_]+$")


@cache
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().casefold() for line in lines if line.strip() and not line.startswith("#"))


def password_problem(password: str) -> str | None:
    """Why ``password`` may not be used, in words; None when it may."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return _("密码至少%(MIN_PASSWORD_LENGTH)s位", MIN_PASSWORD_LENGTH=MIN_PASSWORD_LENGTH)
    folded = password.casefold()
    core = _TRAILING.sub("", folded)
    if folded in common_passwords() or core in common_passwords() or len(set(folded)) <= 2:
        return _("该密码过于常见，请换一个")
    return None


def hash_password(password: str) -> str:
    problem = password_problem(password)
    if problem:
        raise ValueError(problem)
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def dummy_hash() -> str:
    """Verified against when the username is unknown, so timing does not reveal accounts."""
    return _hasher.hash("not-a-real-password-0")
