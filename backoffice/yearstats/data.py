"""Published cut-offs (积分落户分值) of earlier years, as announced by the city; entered as data.

The current year's cut-off is computed from the ranking (the lowest admitted total).
"""
from __future__ import annotations

from decimal import Decimal

PUBLISHED_CUTOFFS: dict[int, Decimal] = {
    2018: Decimal("90.75"),
    2019: Decimal("93.58"),
    2020: Decimal("97.13"),
}
