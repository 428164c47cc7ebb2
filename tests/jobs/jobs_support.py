"""Helpers of the rescoring tests (a module of its own: every conftest is named conftest)."""
from __future__ import annotations

import time
from decimal import Decimal

from support import CONTRACT_EXAMPLE  # noqa: F401  (tests/jobs import it from here)


def wait_until(predicate, *, timeout: float, interval: float = 0.2, message: str = ""):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s: {message}")
        time.sleep(interval)


# The hand-built applications: SCORING.md's input example filed as claims (one claim per item),
# year 2021, so the cut-off month is 2020-12 and period B is 2020-08 … 2020-12.
OWN_HOME = {"type": "own", "from": "2014-08", "to": "2017-12", "district": "朝阳区"}
RENTAL = {"type": "rental", "from": "2020-08", "to": "2020-12", "district": "西城区"}
# Worked out by hand (第三篇; SCORING.md rules 1–9):
#   employment  medical 2010-01…2020-12 = 132 months (pension loses its back-paid 2013-04: 131)
#               132 × 3/12                                                        = 33.00
#   education   本科学历 + 学士学位 15; window 2001-07…2005-06 has no insurance month: − 0 = 15.00
#   innovation  国家科学技术进步奖 二等奖, rank 5 (4–6)                            =  9.00
#   tax         2018/2019/2020 all > 0; 120 000 and 150 000 ≥ 100 000: 2 × 2          =  4.00
#   age         (2021 − 2) − 1979 = 40 ≤ 45                                         = 20.00
#   work_residence not chosen 0, honours 0, law-abiding 0                  subtotal  = 81.00
#   housing     employment months in period A (2010-01…2020-07) E_A = 127, in B E_B = 5
#     own 2014-08…2017-12 = 41 months (all in A), rental 2020-08…2020-12 = 5 months (in B)
#     own and rental both counted:   own 41, rent (127 − 41) + min(5, 5) = 91
#                                    41/12 + 91 × 0.5/12 = 173/24 = 7.2083        → 88.21
#     rental counted, own not:       own 0, rent 127 + 5 = 132: 132 × 0.5/12 = 5.50 → 86.50
#     own counted, rental not:       own 41, rent 86 + min(0, 5) = 86:
#                                    41/12 + 86 × 0.5/12 = 168/24 = 7.00           → 88.00
#     neither:                       own 0, rent 127: 127/24 = 5.2917              → 86.29
TOTAL_BOTH_COUNTED = Decimal("88.21")
TOTAL_RENTAL_ONLY = Decimal("86.50")
TOTAL_OWN_ONLY = Decimal("88.00")
TOTAL_NEITHER = Decimal("86.29")
SINGLE = 320   # the own home's registry result is invalid, the rental's valid: 86.50 → 88.21
DOUBLE = 60    # both registry results invalid: 86.29 → 88.00 (own upheld) → 88.21 (both)


def upload_missing(case, services) -> None:
    """A stored one-page PDF in each of the case's checklist slots that has no file yet."""
    from io import BytesIO

    from flask import current_app
    from pypdf import PdfWriter

    from backoffice.applications.models import EvidenceFile
    from backoffice.extensions import db
    from verifiers.uploads import store

    have = services.uploaded_slots(case)
    missing = [row.code for row in services.checklist_rows(case) if row.code not in have]
    if not missing:
        return
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    buffer = BytesIO()
    writer.write(buffer)
    info = store(buffer.getvalue(), current_app.config["BACKOFFICE"].upload_dir)
    db.session.add_all(EvidenceFile(case_id=case.id, material_slot=slot, sha256=info.sha256, size=info.size,
                                    pages=info.pages) for slot in missing)
    db.session.flush()
