"""A supervisor exports their worklist from the browser: the "导出" menu, the file the browser
saves, opened and counted against the list's own count, with the page's column labels and
masked ID numbers (issue 13 §1, done when: "an export download opened and counted")."""
from __future__ import annotations

import csv
import io
import re

from openpyxl import load_workbook

FULL_ID = re.compile(r"(?<![0-9A-Za-z])[1-9][0-9]{16}[0-9Xx](?![0-9A-Za-z])")
MASKED_ID = re.compile(r"\d{3}\*{11}[\dX]{4}")


def _open_busiest_queue(page, live_server):
    page.goto(f"{live_server}/admin/")
    table = page.get_by_test_id("my-queues")
    counts = {code: int(page.get_by_test_id(f"open-{code}").inner_text())
              for code in (row.get_attribute("data-queue") for row in table.locator("tr[data-queue]").all())
              if code in ("housing", "education", "awards", "tax", "appeals")}
    queue, open_cases = max(counts.items(), key=lambda item: item[1])
    assert open_cases > 0, counts
    page.click(f"tr[data-queue={queue}] a")
    page.wait_for_url(re.compile(rf".*/admin/queue_{queue}/.*"))
    return queue


def _download(page, label):
    page.get_by_role("button", name="导出").or_(page.locator("a.dropdown-toggle", has_text="导出")).first.click()
    with page.expect_download() as info:
        page.get_by_text(label, exact=True).click()
    download = info.value
    assert download.failure() is None
    return download


def test_a_supervisor_exports_the_worklist_and_counts_its_rows(page, live_server, artifacts, sign_in):
    sign_in(page, live_server, "supervisor")
    queue = _open_busiest_queue(page, live_server)
    count_text = page.get_by_test_id("worklist-count").inner_text()
    listed = int(re.search(r"\((\d+)\)", count_text).group(1))
    headers = [h.strip() for h in page.locator("table.model-list thead th").all_inner_texts()]
    first_row = page.locator("table.model-list tbody tr").first.inner_text()
    page.screenshot(path=str(artifacts / "export-worklist.png"), full_page=True)

    saved = _download(page, "导出 CSV")
    assert saved.suggested_filename.endswith(".csv")
    path = artifacts / f"export-{queue}.csv"
    saved.save_as(path)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "Excel needs the BOM to read the Chinese columns"
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    assert len(body) == listed, (len(body), count_text)
    # The export's columns are the page's labels (the page has a checkbox/actions column first).
    assert [h for h in header if h] and all(h in headers for h in header), (header, headers)
    text = raw.decode("utf-8-sig")
    assert not FULL_ID.search(text)
    assert MASKED_ID.search(text)
    # The list's first row is the file's first row (case numbers: year-district-serial).
    case_number = re.search(r"\d{4}-\d{6}-\d{6}", first_row).group(0)
    assert body[0][0] == case_number

    saved = _download(page, "导出 XLSX")
    assert saved.suggested_filename.endswith(".xlsx")
    path = artifacts / f"export-{queue}.xlsx"
    saved.save_as(path)
    sheet = load_workbook(path, read_only=True).active
    values = [[cell for cell in row] for row in sheet.iter_rows(values_only=True)]
    assert [str(v) for v in values[0] if v is not None] == [h for h in header if h]
    assert len(values) - 1 == listed
    assert not any(FULL_ID.search(str(v)) for row in values for v in row if v is not None)
