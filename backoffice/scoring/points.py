"""Exact points: every point value is an integer number of twenty-fourths of a point.

3/12 per employment month = 6/24, 1/12 per own month = 2/24, 0.5/12 per rental month =
1/24, 10.5 = 252/24 ... Values are rounded half-up to two decimals only when written, and
the total is the exact sum rounded once (SCORING.md conventions).
"""

from __future__ import annotations

import functools

UNITS_PER_POINT = 24
UNITS_PER_EMPLOYMENT_MONTH = 6   # 3/12 point
UNITS_PER_OWN_MONTH = 2          # 1/12 point
UNITS_PER_RENTAL_MONTH = 1       # 0.5/12 point


def _half_up_hundredths(units: int) -> int:
    """units (1/24 point) → round-half-up(units/24, 2 dp) × 100, as an int.

    Equal to Decimal(units/24).quantize(Decimal("0.01"), ROUND_HALF_UP) × 100 but
    computed on integers (no binary float or 28-digit context in between).
    """
    if units >= 0:
        return (units * 50 + 6) // 12
    return -((-units * 50 + 6) // 12)


half_up_hundredths = _half_up_hundredths


@functools.lru_cache(maxsize=65536)
def written(units: int) -> float:
    """Units → the float written in the result, rounded half-up to 2 decimals (the only rounding)."""
    return _half_up_hundredths(units) / 100


@functools.lru_cache(maxsize=65536)
def shown(units: int) -> str:
    """Units → "12.34" (half-up), as an explanation line shows it."""
    hundredths = _half_up_hundredths(units)
    if hundredths < 0:
        return f"-{-hundredths // 100}.{-hundredths % 100:02d}"
    return f"{hundredths // 100}.{hundredths % 100:02d}"


def yuan(amount) -> str:
    """An amount of yuan as typed: 120000, not 120000.0."""
    return str(amount) if type(amount) is int or amount != amount // 1 else str(int(amount))
