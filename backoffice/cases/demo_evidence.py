"""Evidence PDFs for the demo's open cases, so the workspace shows real files.

One small, real PDF per material slot of the case's checklist (for a "one of" group, its
first option), stored through the same check and store as an upload (verifiers.uploads).
pypdf cannot easily draw CJK text with the standard fonts, so the page carries the
material's English label and the case number in Helvetica. Idempotent: a slot that has
its file already is left alone.
"""
from __future__ import annotations

import io

from pypdf import PdfWriter
from pypdf.generic import DictionaryObject, NameObject, StreamObject
from sqlalchemy import select

from backoffice.applications.models import EvidenceFile
from backoffice.cases.models import CaseKind, CaseStatus, ReviewCase
from backoffice.cases.services import checklist_rows
from backoffice.extensions import db
from verifiers.uploads import store

DEMO_QUEUES = ("housing", "education")


def _escape(text: str) -> str:
    ascii_only = text.encode("ascii", "replace").decode("ascii")
    return ascii_only.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def label_pdf(lines: list[str]) -> bytes:
    """A one-page A4 PDF with the given lines of ASCII text."""
    writer = PdfWriter()
    page = writer.add_blank_page(width=595, height=842)
    font = writer._add_object(DictionaryObject({
        NameObject("/Type"): NameObject("/Font"),
        NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject("/Helvetica"),
    }))
    page[NameObject("/Resources")] = DictionaryObject({
        NameObject("/Font"): DictionaryObject({NameObject("/F1"): font}),
    })
    ops = ["BT", "/F1 22 Tf", "60 770 Td", "28 TL"]
    for i, line in enumerate(lines):
        if i == 1:
            ops.append("/F1 14 Tf")
        ops.append(f"({_escape(line)}) Tj T*")
    ops.append("ET")
    # A frame, so the page reads as a scanned document in the viewer.
    ops.append("0.6 G 40 40 515 762 re S")
    content = StreamObject()
    content.set_data("\n".join(ops).encode("ascii"))
    page[NameObject("/Contents")] = writer._add_object(content)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def demo_slots(case: ReviewCase):
    """The material rows a demo applicant uploads: every row, but one option per "one of" group."""
    seen_groups: set[str] = set()
    for row in checklist_rows(case):
        if row.one_of is not None:
            if row.one_of in seen_groups:
                continue
            seen_groups.add(row.one_of)
        yield row


def ensure_demo_evidence(year: int, upload_dir: str) -> int:
    """Store and attach the demo PDFs of the year's open housing and education 复查 and filings
    (填报凭证审核); returns how many were added."""
    cases = db.session.scalars(
        select(ReviewCase).where(
            ReviewCase.year == year,
            ReviewCase.kind.in_((CaseKind.review, CaseKind.filing)),
            ReviewCase.queue.in_(DEMO_QUEUES),
            ReviewCase.status != CaseStatus.closed,
            ReviewCase.review_type.is_not(None),
        ).order_by(ReviewCase.id)
    ).all()
    have = {
        (case_id, slot)
        for case_id, slot in db.session.execute(
            select(EvidenceFile.case_id, EvidenceFile.material_slot)
            .where(EvidenceFile.case_id.in_([c.id for c in cases]))
        )
    }
    added = 0
    for case in cases:
        for row in demo_slots(case):
            if (case.id, row.code) in have:
                continue
            info = store(label_pdf([row.label_en, f"Case {case.number}", "Demo material - not a real document"]),
                         upload_dir)
            db.session.add(EvidenceFile(case_id=case.id, material_slot=row.code, sha256=info.sha256,
                                        size=info.size, pages=info.pages, original_name=f"{row.code}.pdf"))
            added += 1
    db.session.flush()
    return added
