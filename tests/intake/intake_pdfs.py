"""Small real PDFs for the intake tests (pypdf writes them; no files in the repo)."""
from __future__ import annotations

from io import BytesIO

from pypdf import PdfWriter


def make_pdf(label: str = "evidence", pages: int = 1, password: str | None = None) -> bytes:
    """A valid PDF; ``label`` goes into its metadata so different labels give different bytes."""
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": label})
    if password is not None:
        writer.encrypt(user_password=password, owner_password=password + "-owner", algorithm="RC4-128")
    out = BytesIO()
    writer.write(out)
    return out.getvalue()
