"""CSV and XLSX of a dashboard table: the same rows the page shows.

CSV cells are the page's text exactly (`figures.display`); XLSX keeps numbers, shares and
dates as typed cells (a share as a fraction with a percent format) so they can be summed.
"""
from __future__ import annotations

import csv
import io

from backoffice.turnaround.figures import Table, display

CSV_MIME = "text/csv; charset=utf-8"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _safe_text(value: str) -> str:
    # A cell starting with = + - @ is a formula to spreadsheet programs (CSV injection);
    # our texts are names and labels, so quote such a cell rather than let it run.
    return "'" + value if value[:1] in ("=", "+", "@") or (value[:1] == "-" and not _is_number(value)) else value


def _is_number(value: str) -> bool:
    try:
        float(value.rstrip("%"))
        return True
    except ValueError:
        return False


def to_csv(table: Table) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([c.label for c in table.columns])
    for row in table.cells:
        writer.writerow([_safe_text(cell) for cell in row])
    # UTF-8 with a BOM: Excel opens Chinese CSV correctly only with it.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(table: Table) -> bytes:
    from openpyxl import Workbook  # local import: openpyxl is heavy and only an XLSX export needs it

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = table.key[:31]
    sheet.append([c.label for c in table.columns])
    for row in table.rows:
        cells = []
        for value, column in zip(row, table.columns):
            if value is None:
                cells.append(None)
            elif column.kind == "text":
                cells.append(_safe_text(str(value)))
            else:
                cells.append(value)
        sheet.append(cells)
    for col_idx, column in enumerate(table.columns, start=1):
        fmt = {"pct": "0.0%", "num": "0.0", "date": "yyyy-mm-dd"}.get(column.kind)
        if fmt:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=col_idx, max_col=col_idx):
                cell.number_format = fmt
        width = max([len(str(column.label))] + [len(display(r[col_idx - 1], column.kind)) for r in table.rows])
        sheet.column_dimensions[sheet.cell(row=1, column=col_idx).column_letter].width = min(2 + width * 1.6, 60)
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()

