"""PDF documents with Chinese text: notices, settlement letters.

ReportLab's built-in Adobe CID font STSong-Light needs no font file on the machine and
its UniGB-UCS2-H encoding maps back to Unicode, so the text both renders in any viewer
and extracts (pypdf reads it back) — what a window prints and what a test can check.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

FONT = "STSong-Light"
_registered = False


def _font() -> str:
    global _registered
    if not _registered:
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
        _registered = True
    return FONT


@dataclass
class Document:
    """A simple official document: a title, a number, paragraphs, optional tables, a footer."""

    title: str
    number: str | None = None
    paragraphs: list[str] = field(default_factory=list)
    # Each table is a list of rows of cell strings; the first row is the header.
    tables: list[list[list[str]]] = field(default_factory=list)
    closing: list[str] = field(default_factory=list)  # signature block, date: right-aligned
    author: str = "北京市人力资源和社会保障局"


def render(doc: Document) -> bytes:
    """The document as PDF bytes (A4, Chinese text in STSong-Light)."""
    font = _font()
    title = ParagraphStyle("title", fontName=font, fontSize=18, leading=26, alignment=1, spaceAfter=4 * mm)
    number = ParagraphStyle("number", fontName=font, fontSize=11, leading=16, alignment=1, spaceAfter=6 * mm)
    body = ParagraphStyle("body", fontName=font, fontSize=12, leading=20, wordWrap="CJK", spaceAfter=3 * mm)
    right = ParagraphStyle("right", parent=body, alignment=2)
    cell = ParagraphStyle("cell", fontName=font, fontSize=10, leading=14, wordWrap="CJK")

    story = [Paragraph(escape(doc.title), title)]
    if doc.number:
        story.append(Paragraph(escape(doc.number), number))
    for text in doc.paragraphs:
        story.append(Paragraph(escape(text).replace("\n", "<br/>"), body))
    for rows in doc.tables:
        table = Table([[Paragraph(escape(str(c)), cell) for c in row] for row in rows], repeatRows=1)
        table.setStyle(TableStyle([
            ("GRID", (0, 0), (-1, -1), 0.5, "#444444"),
            ("BACKGROUND", (0, 0), (-1, 0), "#eeeeee"),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]))
        story += [table, Spacer(1, 5 * mm)]
    if doc.closing:
        story.append(Spacer(1, 10 * mm))
        story += [Paragraph(escape(line), right) for line in doc.closing]

    out = io.BytesIO()
    SimpleDocTemplate(
        out, pagesize=A4, title=doc.title, author=doc.author,
        leftMargin=25 * mm, rightMargin=25 * mm, topMargin=25 * mm, bottomMargin=20 * mm,
    ).build(story)
    return out.getvalue()


def extract_text(data: bytes) -> str:
    """The PDF's text, as pypdf reads it (for tests and for checking a stored letter)."""
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)
