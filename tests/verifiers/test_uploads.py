"""Tests for verifiers/uploads.py: the 附件3 upload check and the content-addressed store.

Pure: no Flask, no database. Every PDF is generated here with pypdf (or written by hand
where pypdf cannot produce the case, e.g. AES encryption without the crypto extra).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import random
import time
import zlib
from io import BytesIO
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader, PdfWriter
from pypdf.errors import (
    DependencyError,
    FileNotDecryptedError,
    LimitReachedError,
    PdfReadError,
    PdfStreamError,
)

from verifiers import uploads
from verifiers.uploads import (
    MAX_UPLOAD_BYTES,
    RULES,
    PdfInfo,
    UploadRejected,
    check_pdf,
    path_for,
    store,
)

# --------------------------------------------------------------------------- builders


def _write(writer: PdfWriter) -> bytes:
    buf = BytesIO()
    writer.write(buf)
    return buf.getvalue()


@functools.cache
def make_pdf(pages: int = 1) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)  # A4 in points
    return _write(writer)


def padded_pdf(target_size: int) -> bytes:
    """A valid 1-page PDF of exactly ``target_size`` bytes (padding in the Info dict)."""

    def build(n: int) -> bytes:
        writer = PdfWriter()
        writer.add_blank_page(width=595, height=842)
        writer.add_metadata({"/Padding": "x" * n})
        return _write(writer)

    n = target_size - len(build(0))
    for _ in range(5):  # the startxref offset is not fixed-width: converge on the size
        data = build(n)
        if len(data) == target_size:
            return data
        n += target_size - len(data)
    raise AssertionError(f"cannot build a PDF of exactly {target_size} bytes")


def encrypted_pdf(**encrypt_kwargs) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.encrypt(**encrypt_kwargs)
    return _write(writer)


def raw_pdf(objects: list[bytes], trailer_extra: bytes = b"", root: int = 1) -> bytes:
    """Hand-written PDF with a classic xref table; object i+1 is ``objects[i]``."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root %d 0 R %s >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        root,
        trailer_extra,
        xref_at,
    )
    return bytes(out)


ONE_PAGE_OBJECTS = [
    b"<< /Type /Catalog /Pages 2 0 R >>",
    b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
]
FILE_ID = b"/ID [<00112233445566778899aabbccddeeff> <00112233445566778899aabbccddeeff>]"


def aes_pdf(bits: int) -> bytes:
    """A PDF whose /Encrypt dictionary declares AES-128 (V4/R4, AESV2) or AES-256
    (V5/R6, AESV3). pypdf cannot write AES without the ``cryptography`` package, so the
    dictionary is written by hand; the keys are random, which is all the check needs."""
    rng = random.Random(bits)

    def hexstr(n: int) -> bytes:
        return b"<" + rng.randbytes(n).hex().encode() + b">"

    if bits == 128:
        encrypt = (
            b"<< /Filter /Standard /V 4 /R 4 /Length 128 /P -3904 /O %s /U %s "
            b"/CF << /StdCF << /CFM /AESV2 /AuthEvent /DocOpen /Length 16 >> >> "
            b"/StmF /StdCF /StrF /StdCF >>" % (hexstr(32), hexstr(32))
        )
    else:
        encrypt = (
            b"<< /Filter /Standard /V 5 /R 6 /Length 256 /P -3904 /O %s /U %s /OE %s "
            b"/UE %s /Perms %s /CF << /StdCF << /CFM /AESV3 /AuthEvent /DocOpen "
            b"/Length 32 >> >> /StmF /StdCF /StrF /StdCF >>"
            % (hexstr(48), hexstr(48), hexstr(32), hexstr(32), hexstr(16))
        )
    return raw_pdf(ONE_PAGE_OBJECTS + [encrypt], trailer_extra=b"/Encrypt 4 0 R " + FILE_ID)


def xref_stream_pdf() -> bytes:
    """A 1-page PDF using a compressed cross-reference stream (PDF 1.5+) instead of a table."""
    out = bytearray(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(ONE_PAGE_OBJECTS, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref_at = len(out)
    rows = [b"\x00" + (0).to_bytes(4, "big") + b"\xff\xff"]
    rows += [b"\x01" + off.to_bytes(4, "big") + b"\x00\x00" for off in offsets]
    rows += [b"\x01" + xref_at.to_bytes(4, "big") + b"\x00\x00"]
    data = zlib.compress(b"".join(rows))
    out += (
        b"4 0 obj\n<< /Type /XRef /Size 5 /W [1 4 2] /Root 1 0 R /Filter /FlateDecode "
        b"/Length %d >>\nstream\n%s\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n"
        % (len(data), data, xref_at)
    )
    return bytes(out)


def text_pdf(pages: int = 2) -> bytes:
    """Pages with a Flate-compressed content stream and a font, like a real document."""
    font = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
    content = zlib.compress(b"BT /F1 24 Tf 72 720 Td (Beijing jifen luohu) Tj ET")
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"", font]
    stream = b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (
        len(content),
        content,
    )
    objects.append(stream)  # 4
    kids = []
    for _ in range(pages):
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
            b"/Resources << /Font << /F1 3 0 R >> >> >>"
        )
        kids.append(b"%d 0 R" % len(objects))
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(kids), pages)
    return raw_pdf(objects, trailer_extra=FILE_ID)


def incremental_pdf() -> bytes:
    """1 page, then an incremental update adding 40 pages: two %%EOF markers."""
    writer = PdfWriter(BytesIO(make_pdf(1)), incremental=True)
    for _ in range(40):
        writer.add_blank_page(width=595, height=842)
    return _write(writer)


def files_in(directory: Path) -> list[Path]:
    if not directory.exists():
        return []
    return sorted(p for p in directory.rglob("*") if p.is_file())


def rejected_rule(data: bytes) -> str:
    with pytest.raises(UploadRejected) as excinfo:
        check_pdf(data)
    return excinfo.value.rule


# --------------------------------------------------------------------------- accepted


@pytest.mark.parametrize("pages", [1, 3])
def test_accepts_blank_pdf_with_page_count_size_and_sha256(pages):
    data = make_pdf(pages)
    info = check_pdf(data)
    assert info == PdfInfo(sha256=hashlib.sha256(data).hexdigest(), size=len(data), pages=pages)
    assert len(PdfReader(BytesIO(data)).pages) == pages  # the fixture itself is right


@pytest.mark.parametrize(
    "data, pages",
    [
        pytest.param(text_pdf(2), 2, id="flate-content-and-font"),
        pytest.param(xref_stream_pdf(), 1, id="xref-stream"),
        pytest.param(raw_pdf(ONE_PAGE_OBJECTS), 1, id="hand-written"),
        pytest.param(incremental_pdf(), 41, id="incremental-update"),
        pytest.param(make_pdf(1)[:-1], 1, id="final-newline-missing"),
        pytest.param(make_pdf(1) + b"\0" * 512, 1, id="padding-after-eof-within-1KiB"),
    ],
)
def test_accepts_other_well_formed_pdfs(data, pages):
    assert check_pdf(data).pages == pages


def test_info_is_frozen():
    info = check_pdf(make_pdf(1))
    with pytest.raises(AttributeError):
        info.pages = 2  # type: ignore[misc]


@pytest.mark.parametrize("wrap", [bytearray, memoryview], ids=["bytearray", "memoryview"])
def test_accepts_bytes_like(wrap):
    data = make_pdf(3)
    assert check_pdf(wrap(data)) == check_pdf(data)


def test_non_bytes_is_a_programming_error():
    with pytest.raises(TypeError):
        check_pdf(make_pdf(1).decode("latin-1"))  # type: ignore[arg-type]


# --------------------------------------------------------------------------- the size rule


def test_limit_is_one_mebibyte():
    assert MAX_UPLOAD_BYTES == 1_048_576


def test_pdf_of_exactly_the_limit_is_accepted():
    data = padded_pdf(MAX_UPLOAD_BYTES)
    assert check_pdf(data).size == MAX_UPLOAD_BYTES


def test_pdf_one_byte_over_the_limit_is_refused():
    data = padded_pdf(MAX_UPLOAD_BYTES + 1)
    assert len(PdfReader(BytesIO(data)).pages) == 1  # a perfectly good PDF otherwise
    with pytest.raises(UploadRejected) as excinfo:
        check_pdf(data)
    exc = excinfo.value
    assert exc.rule == "too_large"
    assert "1M" in exc.message_zh and "附件3" in exc.message_zh
    assert str(MAX_UPLOAD_BYTES + 1) in exc.message_zh
    assert str(MAX_UPLOAD_BYTES + 1) in exc.message_en


def test_many_page_pdf_over_the_limit_is_refused():
    writer = PdfWriter()
    for _ in range(9000):
        writer.add_blank_page(width=595, height=842)
    data = _write(writer)
    assert MAX_UPLOAD_BYTES < len(data) < 1.2 * MAX_UPLOAD_BYTES
    assert rejected_rule(data) == "too_large"


def test_size_is_checked_before_header_and_before_parsing(monkeypatch):
    def must_not_parse(*args, **kwargs):
        raise AssertionError("pypdf must not be called")

    monkeypatch.setattr(uploads, "PdfReader", must_not_parse)
    assert rejected_rule(b"\x89PNG\r\n\x1a\n" + b"\0" * MAX_UPLOAD_BYTES) == "too_large"
    assert rejected_rule(b"%PDF-1.4\n" + b"\0" * (50 * MAX_UPLOAD_BYTES)) == "too_large"
    assert rejected_rule(b"") == "empty"
    assert rejected_rule(b"<html>") == "not_pdf"
    assert rejected_rule(make_pdf(1)[:-10]) == "corrupt"  # no %%EOF: refused before pypdf


def test_huge_upload_is_refused_fast():
    data = bytes(64 * MAX_UPLOAD_BYTES)
    start = time.perf_counter()
    assert rejected_rule(data) == "too_large"
    assert time.perf_counter() - start < 0.5


# --------------------------------------------------------------------------- refused


@pytest.mark.parametrize("data", [b"", bytearray()], ids=["bytes", "bytearray"])
def test_zero_bytes_is_empty(data):
    assert rejected_rule(data) == "empty"


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + bytes(200), id="png"),
        pytest.param(b"\xff\xd8\xff\xe0\0\x10JFIF\0" + bytes(200), id="jpeg"),
        pytest.param(b"PK\x03\x04\x14\0\0\0\x08\0" + bytes(200), id="zip-docx"),
        pytest.param(b"GIF89a" + bytes(200), id="gif"),
        pytest.param(b"<!DOCTYPE html><html><body>%PDF-1.4</body></html>", id="html"),
        pytest.param(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(200), id="ms-office-doc"),
        pytest.param(b"%PDF", id="magic-without-dash"),
        pytest.param(b"%pdf-1.4\n" + make_pdf(1)[9:], id="lowercase-magic"),
        pytest.param(b"\xef\xbb\xbf" + make_pdf(1), id="utf8-bom-then-pdf"),
        pytest.param(b" " + make_pdf(1), id="space-then-pdf"),
        pytest.param(b"garbage\n" + make_pdf(1), id="junk-then-pdf"),
    ],
)
def test_wrong_header_is_not_pdf(data):
    assert rejected_rule(data) == "not_pdf"


def test_header_must_be_at_offset_zero_although_pypdf_would_read_it():
    """Documents the strictness decision: pypdf tolerates junk before %PDF-, we don't."""
    data = b"<script>alert(1)</script>\n" + make_pdf(1)
    assert len(PdfReader(BytesIO(data), strict=False).pages) == 1
    assert rejected_rule(data) == "not_pdf"


@pytest.mark.parametrize("fraction", [0.0, 0.1, 0.25, 0.5, 0.75, 0.9])
@pytest.mark.parametrize("pages", [1, 3])
def test_truncated_pdf_is_corrupt(pages, fraction):
    data = make_pdf(pages)
    cut = max(len(b"%PDF-"), int(len(data) * fraction))
    assert rejected_rule(data[:cut]) == "corrupt"


@pytest.mark.parametrize("cut_from_end", [3, 4, 6, 10, 20, 40, 80])
def test_pdf_truncated_in_its_trailer_is_corrupt(cut_from_end):
    assert rejected_rule(make_pdf(3)[:-cut_from_end]) == "corrupt"


def test_eof_marker_cut_short_is_corrupt_although_pypdf_reads_it():
    data = make_pdf(3)[:-3]  # ends in "%%E"
    assert len(PdfReader(BytesIO(data), strict=False).pages) == 3  # pypdf: "truncated, go on"
    assert rejected_rule(data) == "corrupt"


def test_cut_incremental_update_is_corrupt_not_the_older_revision():
    """A cut-off upload of an updated PDF: pypdf silently opens the first revision."""
    data = incremental_pdf()[:-300]
    assert len(PdfReader(BytesIO(data), strict=False).pages) == 1  # 40 pages lost
    assert rejected_rule(data) == "corrupt"


def test_eof_marker_further_than_1kib_from_the_end_is_corrupt():
    assert rejected_rule(make_pdf(1) + b"\0" * 1024) == "corrupt"


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"%PDF-1.4\n%%EOF\n", id="header-and-eof-only"),
        pytest.param(b"%PDF-1.7\n" + random.Random(1).randbytes(5000) + b"\n%%EOF\n", id="random-body"),
        pytest.param(raw_pdf([b"<< /Type /Catalog >>"]), id="catalog-without-pages"),
        pytest.param(raw_pdf([b"<< /Type /Catalog /Pages 2 0 R >>"]), id="pages-missing"),
        pytest.param(
            raw_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [2 0 R] /Count 1 >>"]),
            id="cyclic-page-tree",
        ),
        pytest.param(
            raw_pdf(
                [b"<< /Type /Catalog /Pages 2 0 R >>"]
                + [b"<< /Type /Pages /Kids [%d 0 R %d 0 R] /Count 2 >>" % (i, i) for i in range(3, 43)]
                + [b"<< /Type /Page /MediaBox [0 0 595 842] >>"]
            ),
            id="page-tree-doubling-2^40",
        ),
        pytest.param(
            raw_pdf([b"<< /Type /Catalog /Pages 2 0 R /X " + b"[" * 100_000 + b" >>"] + ONE_PAGE_OBJECTS[1:]),
            id="deeply-nested-arrays",
        ),
    ],
)
def test_malformed_structure_is_corrupt(data):
    assert rejected_rule(data) == "corrupt"


def test_pdf_without_pages_is_no_pages():
    data = _write(PdfWriter())
    assert rejected_rule(data) == "no_pages"


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(encrypted_pdf(user_password="pw"), id="user-password-rc4-128"),
        pytest.param(
            encrypted_pdf(user_password="", owner_password="owner"), id="owner-only-rc4-128"
        ),
        pytest.param(
            encrypted_pdf(user_password="", owner_password="owner", algorithm="RC4-40"),
            id="owner-only-rc4-40",
        ),
        pytest.param(
            encrypted_pdf(user_password="pw", owner_password="owner", algorithm="RC4-40"),
            id="user-password-rc4-40",
        ),
        pytest.param(aes_pdf(128), id="aes-128"),
        pytest.param(aes_pdf(256), id="aes-256"),
    ],
)
def test_encrypted_pdf_is_refused(data):
    assert data.startswith(b"%PDF-")
    assert rejected_rule(data) == "encrypted"


def test_owner_password_only_pdf_is_readable_but_still_refused():
    """An empty user password opens without a prompt; it is refused anyway (the owner
    password restricts printing/copying, which reviewers and the archive need)."""
    data = encrypted_pdf(user_password="", owner_password="owner")
    reader = PdfReader(BytesIO(data))
    assert reader.is_encrypted and len(reader.pages) == 1
    assert rejected_rule(data) == "encrypted"


def test_aes_256_without_crypto_extra_fails_inside_pdfreader(tmp_path):
    """Why DependencyError maps to 'encrypted': without pypdf[crypto], pypdf cannot even
    open an AES-256 file (it raises while trying the empty password). cryptography is
    installed here, so the check runs in a fresh interpreter where it cannot be imported."""
    import subprocess
    import sys

    sample = tmp_path / "aes256.pdf"
    sample.write_bytes(aes_pdf(256))
    script = f"""
import sys
sys.modules["cryptography"] = None  # as without pypdf[crypto]: importing it raises ImportError
sys.modules["Crypto"] = None        # nor pycryptodome
from io import BytesIO
from pypdf import PdfReader, PdfWriter
from pypdf.errors import DependencyError
try:
    PdfReader(BytesIO(open({str(sample)!r}, "rb").read()), strict=False)
except DependencyError:
    print("read: DependencyError")
writer = PdfWriter()
writer.add_blank_page(width=595, height=842)
try:
    writer.encrypt(user_password="pw", algorithm="AES-128")
    writer.write(BytesIO())  # cannot even write one
except DependencyError:
    print("write: DependencyError")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["read: DependencyError", "write: DependencyError"]


@pytest.mark.parametrize(
    "error, rule",
    [
        (DependencyError("cryptography>=3.1 is required for AES algorithm"), "encrypted"),
        (FileNotDecryptedError("File has not been decrypted"), "encrypted"),
        (PdfReadError("x"), "corrupt"),
        (PdfStreamError("x"), "corrupt"),
        (LimitReachedError("x"), "corrupt"),
        (ValueError("x"), "corrupt"),
        (KeyError("x"), "corrupt"),
        (TypeError("x"), "corrupt"),
        (AttributeError("x"), "corrupt"),
        (IndexError("x"), "corrupt"),
        (AssertionError("x"), "corrupt"),
        (RecursionError("x"), "corrupt"),
        (ZeroDivisionError("x"), "corrupt"),
        (OverflowError("x"), "corrupt"),
        (UnicodeDecodeError("utf-8", b"\xff", 0, 1, "x"), "corrupt"),
        (NotImplementedError("x"), "corrupt"),
        (MemoryError(), "corrupt"),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, BaseException) else v,
)
@pytest.mark.parametrize("where", ["PdfReader()", "len(pages)"])
def test_any_pypdf_exception_becomes_an_upload_rejection(monkeypatch, error, rule, where):
    class FakeReader:
        def __init__(self, stream, strict):
            assert strict is False
            if where == "PdfReader()":
                raise error
            self.is_encrypted = False

        @property
        def pages(self):
            raise error

    monkeypatch.setattr(uploads, "PdfReader", FakeReader)
    with pytest.raises(UploadRejected) as excinfo:
        check_pdf(make_pdf(1))
    assert excinfo.value.rule == rule
    assert excinfo.value.__cause__ is None and excinfo.value.__suppress_context__


def test_keyboard_interrupt_is_not_swallowed(monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(uploads, "PdfReader", interrupted)
    with pytest.raises(KeyboardInterrupt):
        check_pdf(make_pdf(1))


def test_random_bytes_are_refused():
    rng = random.Random(20210601)
    for _ in range(200):
        data = rng.randbytes(rng.randrange(1, 3000))
        assert rejected_rule(data) == ("not_pdf" if not data.startswith(b"%PDF-") else "corrupt")


# --------------------------------------------------------------------------- messages


def test_every_rule_has_both_messages():
    assert set(RULES) == {"empty", "too_large", "not_pdf", "encrypted", "corrupt", "no_pages"}
    for rule, (zh, en) in RULES.items():
        exc = UploadRejected.for_rule(rule, size=MAX_UPLOAD_BYTES + 1)
        assert isinstance(exc, Exception)
        assert exc.rule == rule
        assert exc.message_zh and exc.message_en
        assert "{" not in exc.message_zh + exc.message_en
        assert any("\u4e00" <= ch <= "\u9fff" for ch in exc.message_zh)
        assert exc.message_en.isascii()
        assert rule in str(exc)


@pytest.mark.parametrize("rule", ["empty", "too_large", "not_pdf"])
def test_messages_quote_the_handbook_rule(rule):
    exc = UploadRejected.for_rule(rule, size=2_000_000)
    assert "凭证材料须为一个PDF文件，大小不超过1M（附件3）" in exc.message_zh
    assert "annex 3" in exc.message_en and "1 MB" in exc.message_en


def test_constructor_takes_rule_and_two_messages():
    exc = UploadRejected("corrupt", "中文", "english")
    assert (exc.rule, exc.message_zh, exc.message_en) == ("corrupt", "中文", "english")


# --------------------------------------------------------------------------- logging


def _noisy_pdf() -> bytes:
    """A readable PDF whose startxref points to the wrong place: pypdf repairs it, with
    warnings."""
    data = make_pdf(1)
    head, _, tail = data.rpartition(b"startxref\n")
    offset = tail.split(b"\n", 1)[0]
    return head + b"startxref\n" + str(int(offset) - 7).encode() + tail[len(offset):]


def test_pypdf_warnings_are_silenced(caplog):
    data = _noisy_pdf()
    pypdf_logger = logging.getLogger("pypdf")
    assert pypdf_logger.level == logging.ERROR  # set by importing verifiers.uploads

    pypdf_logger.setLevel(logging.WARNING)  # prove the input is noisy without the setting
    try:
        with caplog.at_level(logging.WARNING):
            check_pdf(data)
        assert any(r.name.startswith("pypdf") for r in caplog.records)
    finally:
        pypdf_logger.setLevel(logging.ERROR)

    caplog.clear()
    with caplog.at_level(logging.DEBUG):
        assert check_pdf(data).pages == 1
        for junk in (b"%PDF-1.4\n" + bytes(3000) + b"%%EOF", make_pdf(3)[:200] + b"\n%%EOF"):
            with pytest.raises(UploadRejected):
                check_pdf(junk)
    assert [r for r in caplog.records if r.name.startswith("pypdf")] == []


def test_only_the_pypdf_logger_level_is_set():
    pypdf_logger = logging.getLogger("pypdf")
    assert pypdf_logger.handlers == [] and pypdf_logger.filters == []
    assert pypdf_logger.propagate  # errors still reach the application's handlers
    assert logging.getLogger("verifiers").level == logging.NOTSET


# --------------------------------------------------------------------------- path_for


def test_path_for_layout(tmp_path):
    sha = hashlib.sha256(b"x").hexdigest()
    assert path_for(sha, tmp_path) == tmp_path / sha[:2] / f"{sha}.pdf"
    assert path_for(sha, str(tmp_path)) == tmp_path / sha[:2] / f"{sha}.pdf"


@pytest.mark.parametrize(
    "bad",
    [
        "../etc/passwd",
        "../../" + "a" * 58,
        "/" + "a" * 63,
        "a" * 62 + "/.",
        "..\\" + "a" * 61,
        hashlib.sha256(b"x").hexdigest().upper(),
        "A" + "a" * 63,
        "a" * 63,
        "a" * 65,
        "a" * 64 + "\n",
        "\n" + "a" * 64,
        " " + "a" * 63,
        "a" * 63 + "\0",
        "g" * 64,
        "０" * 64,  # fullwidth digit zero
        "٠" * 64,  # Arabic-Indic digit zero (\d would match it)
        "",
        "abc",
        None,
        b"a" * 64,
        123,
    ],
)
def test_path_for_refuses_anything_but_a_lowercase_sha256(tmp_path, bad):
    with pytest.raises(ValueError):
        path_for(bad, tmp_path)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- store


def test_store_writes_content_addressed_file(tmp_path):
    upload_dir = tmp_path / "uploads"
    data = make_pdf(3)
    info = store(data, upload_dir)
    assert info == check_pdf(data)
    target = upload_dir / info.sha256[:2] / f"{info.sha256}.pdf"
    assert target.read_bytes() == data
    assert files_in(upload_dir) == [target]  # no temporary file left behind
    assert target.stat().st_mode & 0o077 == 0  # applicants' documents: owner only


def test_store_twice_writes_once(tmp_path, monkeypatch):
    data = make_pdf(1)
    first = store(data, tmp_path)
    replaced = []
    monkeypatch.setattr(uploads.os, "replace", lambda *a: replaced.append(a))
    second = store(bytearray(data), str(tmp_path))
    assert first == second
    assert replaced == []
    assert files_in(tmp_path) == [path_for(first.sha256, tmp_path)]


def test_store_two_files_in_two_places(tmp_path):
    a, b = store(make_pdf(1), tmp_path), store(make_pdf(3), tmp_path)
    assert a.sha256 != b.sha256
    assert files_in(tmp_path) == sorted([path_for(a.sha256, tmp_path), path_for(b.sha256, tmp_path)])


def test_store_repairs_a_damaged_copy(tmp_path):
    data = make_pdf(1)
    target = path_for(hashlib.sha256(data).hexdigest(), tmp_path)
    target.parent.mkdir(parents=True)
    target.write_bytes(data[:100])
    store(data, tmp_path)
    assert target.read_bytes() == data


def test_store_leaves_no_temporary_file_when_the_write_fails(tmp_path, monkeypatch):
    def fail(*args):
        raise OSError("disk full")

    monkeypatch.setattr(uploads.os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        store(make_pdf(1), tmp_path)
    assert files_in(tmp_path) == []


REFUSED_SAMPLES = [
    pytest.param(b"", id="empty"),
    pytest.param(padded_pdf(MAX_UPLOAD_BYTES + 1), id="too_large"),
    pytest.param(b"\x89PNG\r\n\x1a\n" + bytes(100), id="not_pdf"),
    pytest.param(make_pdf(3)[:300], id="truncated"),
    pytest.param(encrypted_pdf(user_password="pw"), id="encrypted"),
    pytest.param(aes_pdf(256), id="encrypted-aes-256"),
    pytest.param(_write(PdfWriter()), id="no_pages"),
    pytest.param(random.Random(7).randbytes(4096), id="random"),
]


@pytest.mark.parametrize("data", REFUSED_SAMPLES)
def test_store_writes_nothing_for_a_refused_file(tmp_path, data):
    existing = tmp_path / "existing"
    existing.mkdir()
    missing = tmp_path / "missing"
    for upload_dir in (existing, missing):
        with pytest.raises(UploadRejected):
            store(data, upload_dir)
    assert files_in(tmp_path) == []
    assert list(existing.iterdir()) == []
    assert not missing.exists()


# --------------------------------------------------------------------------- fuzzing

MAGICS = [
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff\xe0",
    b"PK\x03\x04",
    b"GIF89a",
    b"<html>",
    b"%!PS-Adobe-3.0",
    b"%PDF",
    b"%PDF-",
    b"%PDF-2.0",
    b"%FDP-",
    b"",
]
TOKENS = [
    b"/Type", b"/Pages", b"/Page", b"/Kids", b"/Count", b"/Root", b"/Catalog", b"/Parent",
    b"/Size", b"/Length", b"/Filter", b"/FlateDecode", b"/Encrypt", b"/XRef", b"/W",
    b"obj", b"endobj", b"stream", b"endstream", b"xref", b"trailer", b"startxref",
    b"%%EOF", b" R", b"<<", b">>", b"[", b"]", b"(", b")", b"<", b">", b"null", b"0", b"-1",
    b"99999999999", b"1e308", b"\\", b"\n", b"",
]


@functools.cache
def seed_pdfs() -> tuple[bytes, ...]:
    return (
        make_pdf(1),
        make_pdf(3),
        text_pdf(2),
        xref_stream_pdf(),
        raw_pdf(ONE_PAGE_OBJECTS),
        incremental_pdf(),
        encrypted_pdf(user_password="", owner_password="owner"),
        aes_pdf(128),
    )


def mutate(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    """One random damage to ``data``; returns the new bytes and what was done."""
    op = rng.choice(
        ["truncate", "flip_bytes", "flip_bits", "header_swap", "random_bytes", "oversize",
         "delete_chunk", "insert_chunk", "digits", "token", "splice", "tail_junk"]
    )
    n = len(data)
    if op == "truncate":
        cut = rng.randrange(n + 1)
        return data[:cut], f"truncate@{cut}"
    if op == "flip_bytes":
        buf = bytearray(data)
        for _ in range(rng.randint(1, 20)):
            if buf:
                buf[rng.randrange(len(buf))] = rng.randrange(256)
        return bytes(buf), op
    if op == "flip_bits":
        buf = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            if buf:
                buf[rng.randrange(len(buf))] ^= 1 << rng.randrange(8)
        return bytes(buf), op
    if op == "header_swap":
        magic = rng.choice(MAGICS)
        return magic + data[rng.randint(0, 9):], f"header_swap:{magic!r}"
    if op == "random_bytes":
        body = rng.randbytes(rng.randrange(0, 4096))
        prefix = rng.choice([b"", b"%PDF-1.4\n"])
        suffix = rng.choice([b"", b"\n%%EOF\n"])
        return prefix + body + suffix, "random_bytes"
    if op == "oversize":
        extra = max(1, MAX_UPLOAD_BYTES + 1 - n + rng.randrange(0, 4096))
        at = rng.randrange(n + 1)
        return data[:at] + bytes(extra) + data[at:], "oversize"
    if op == "delete_chunk":
        start = rng.randrange(n + 1)
        end = min(n, start + rng.randint(1, 200))
        return data[:start] + data[end:], f"delete[{start}:{end}]"
    if op == "insert_chunk":
        other = rng.choice(seed_pdfs())
        start = rng.randrange(len(other) + 1)
        chunk = other[start:start + rng.randint(1, 200)]
        at = rng.randrange(n + 1)
        return data[:at] + chunk + data[at:], f"insert@{at}"
    if op == "digits":
        positions = [i for i, b in enumerate(data) if 48 <= b <= 57]
        if not positions:
            return data, op
        at = rng.choice(positions)
        end = at
        while end < n and 48 <= data[end] <= 57:
            end += 1
        number = rng.choice([b"0", b"1", b"-1", b"2147483648", b"99999999999999999999",
                             str(rng.randrange(10**6)).encode()])
        return data[:at] + number + data[end:], f"digits@{at}={number!r}"
    if op == "token":
        token = rng.choice([t for t in TOKENS if t])
        hits = []
        start = data.find(token)
        while start != -1 and len(hits) < 50:
            hits.append(start)
            start = data.find(token, start + 1)
        if not hits:
            return data, op
        at = rng.choice(hits)
        replacement = rng.choice(TOKENS)
        return data[:at] + replacement + data[at + len(token):], f"token {token!r}->{replacement!r}"
    if op == "splice":
        other = rng.choice(seed_pdfs())
        a, b = rng.randrange(n + 1), rng.randrange(len(other) + 1)
        return data[:a] + other[b:], f"splice@{a}/{b}"
    # tail_junk: keep the document, add bytes after it (sometimes within the 1 KiB window)
    junk = rng.randbytes(rng.choice([1, 100, 1000, 1100, 5000]))
    return data + junk, f"tail_junk+{len(junk)}"


def damaged(rng: random.Random) -> tuple[bytes, str]:
    data = rng.choice(seed_pdfs())
    steps = []
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        data, step = mutate(rng, data)
        steps.append(step)
    return data, " | ".join(steps)


class FuzzStats:
    def __init__(self) -> None:
        self.outcomes: dict[str, int] = {}
        self.slowest = (0.0, "")


def check_one(data: bytes, how: str, upload_dir: Path, stored: set[Path], stats: FuzzStats) -> None:
    """The invariant: store() returns a consistent PdfInfo and keeps the exact bytes, or
    raises UploadRejected with a known rule and writes nothing. Nothing else, ever."""
    start = time.perf_counter()
    try:
        info = store(data, upload_dir)
    except UploadRejected as exc:
        outcome = exc.rule
        assert exc.rule in RULES, how
        assert (exc.message_zh, exc.message_en) != ("", ""), how
        assert not (upload_dir / hashlib.sha256(data).hexdigest()[:2]).joinpath(
            hashlib.sha256(data).hexdigest() + ".pdf"
        ).exists(), how
        expected_early = (
            "empty" if not data
            else "too_large" if len(data) > MAX_UPLOAD_BYTES
            else "not_pdf" if not data.startswith(b"%PDF-")
            else None
        )
        if expected_early or exc.rule in ("empty", "too_large", "not_pdf"):
            assert exc.rule == expected_early, how
    except Exception as exc:  # pragma: no cover - this is the failure being hunted
        pytest.fail(f"{type(exc).__name__}: {exc!r} escaped for damage: {how} (len {len(data)})")
    else:
        outcome = "accepted"
        assert isinstance(info, PdfInfo), how
        assert info.sha256 == hashlib.sha256(data).hexdigest(), how
        assert info.size == len(data) <= MAX_UPLOAD_BYTES, how
        assert info.pages >= 1, how
        target = path_for(info.sha256, upload_dir)
        assert target.read_bytes() == data, how
        stored.add(target)
    elapsed = time.perf_counter() - start
    assert elapsed < 10, f"{elapsed:.1f} s for damage: {how}"
    stats.outcomes[outcome] = stats.outcomes.get(outcome, 0) + 1
    stats.slowest = max(stats.slowest, (elapsed, how))


FUZZ_CASES = 4000


def test_fuzz_seeded_mutations(tmp_path):
    rng = random.Random(1289)  # fixed seed: reproducible; the line of 附件3 in the handbook
    upload_dir = tmp_path / "uploads"
    stored: set[Path] = set()
    stats = FuzzStats()
    for _ in range(FUZZ_CASES):
        data, how = damaged(rng)
        check_one(data, how, upload_dir, stored, stats)
    # Nothing but the accepted files exists: refused uploads wrote nothing, and no
    # temporary files were left behind.
    assert files_in(upload_dir) == sorted(stored)
    # The corpus exercises every refusal path and the parser, not just the cheap checks.
    for outcome in ("accepted", "too_large", "not_pdf", "corrupt", "encrypted"):
        assert stats.outcomes.get(outcome, 0) > 20, stats.outcomes
    print(f"\nfuzz outcomes: {stats.outcomes}; slowest {stats.slowest[0] * 1000:.0f} ms "
          f"({stats.slowest[1]})")


@pytest.fixture(scope="module")
def hypothesis_upload_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("hypothesis-uploads")


@settings(
    derandomize=True,
    database=None,
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    seed_index=st.integers(0, 7),
    cuts=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 300)), max_size=3),
    flips=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=10),
    prefix=st.sampled_from(MAGICS + [b"%PDF-1.4\n"]),
    keep_header=st.booleans(),
    noise=st.binary(max_size=200),
    noise_at=st.integers(0, 10**6),
)
def test_fuzz_hypothesis(hypothesis_upload_dir, seed_index, cuts, flips, prefix,
                         keep_header, noise, noise_at):
    data = bytearray(seed_pdfs()[seed_index])
    for position, value in flips:
        if data:
            data[position % len(data)] = value
    for start, length in cuts:
        if data:
            start %= len(data)
            del data[start:start + length]
    at = noise_at % (len(data) + 1)
    data[at:at] = noise
    if not keep_header:
        data[:8] = prefix
    how = f"seed={seed_index} cuts={cuts} flips={flips} prefix={prefix!r} noise@{at}"
    check_one(bytes(data), how, hypothesis_upload_dir, set(), FuzzStats())
