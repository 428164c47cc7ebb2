"""Check characters of the two national identifiers the back office stores.

- 公民身份号码, GB 11643-1999: 17 digits and an ISO 7064 MOD 11-2 check
  character (0-9 or X).
- 统一社会信用代码, GB 32100-2015: 17 characters from a 31-character alphabet
  (no I, O, Z, S, V) and a MOD 31 check character.
"""
from __future__ import annotations

import re
from datetime import date

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_RE = re.compile(r"^\d{17}[\dX]$")

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_RE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{9}$")


def resident_id_check_char(first17: str) -> str:
    total = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS))
    return _ID_CHECK[total % 11]


def resident_id_problem(value: str) -> str | None:
    """None when `value` is a well-formed 身份证号, else what is wrong (Chinese)."""
    if not isinstance(value, str) or not _ID_RE.match(value):
        return "身份证号应为18位，前17位为数字，末位为数字或X"
    try:
        date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return "身份证号中的出生日期无效"
    if resident_id_check_char(value[:17]) != value[17]:
        return "身份证号校验位不正确"
    return None


def is_valid_resident_id(value: str) -> bool:
    return resident_id_problem(value) is None


def birth_date_of(resident_id: str) -> date:
    return date(int(resident_id[6:10]), int(resident_id[10:12]), int(resident_id[12:14]))


def sex_of(resident_id: str) -> str:
    """'M' or 'F' from the sequence digit (odd for men)."""
    return "M" if int(resident_id[16]) % 2 else "F"


def mask_resident_id(value: str | None) -> str:
    """110***********1234: the region prefix and last four only, as every list shows it."""
    if not value:
        return ""
    if len(value) < 8:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def uscc_problem(value: str) -> str | None:
    """None when `value` is a well-formed 统一社会信用代码, else what is wrong (Chinese)."""
    if not isinstance(value, str) or len(value) != 18:
        return "统一社会信用代码应为18位"
    if not _USCC_RE.match(value[:17]) or value[17] not in USCC_ALPHABET:
        return "统一社会信用代码含有不允许的字符"
    if uscc_check_char(value[:17]) != value[17]:
        return "统一社会信用代码校验位不正确"
    return None


def is_valid_uscc(value: str) -> bool:
    return uscc_problem(value) is None
