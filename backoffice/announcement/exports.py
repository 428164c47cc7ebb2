"""CSV (UTF-8 with a BOM, which Excel needs for Chinese) and XLSX of a list of rows."""
from __future__ import annotations

import csv
import io
from decimal import Decimal

CSV_MIME = "text/csv; charset=utf-8"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _safe(value):
    # A text cell starting with = + - @ is a formula to spreadsheet programs (CSV injection).
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def to_csv(headers: list[str], rows: list[list]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    for row in rows:
        writer.writerow(["" if v is None else _safe(str(v)) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(headers: list[str], rows: list[list], title: str) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    sheet.append(headers)
    for row in rows:
        # Points stay numbers (they can be summed); texts are texts.
        sheet.append([float(v) if isinstance(v, Decimal) else _safe(v) for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
