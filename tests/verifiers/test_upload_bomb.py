"""A PDF whose streams inflate past MAX_INFLATED_BYTES is refused as a decompression bomb
(issue 15 §7), before anything is stored; an ordinary compressed PDF passes."""
from __future__ import annotations

import zlib

import pytest

from verifiers.uploads import MAX_INFLATED_BYTES, MAX_UPLOAD_BYTES, UploadRejected, check_pdf, store


def _pdf_with_stream(payload: bytes, filters: str = "/FlateDecode") -> bytes:
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        b"<< /Length %d /Filter %s >>\nstream\n" % (len(payload), filters.encode()) + payload + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _deflate_zeros(size: int) -> bytes:
    compressor = zlib.compressobj(9)
    chunk = bytes(1024 * 1024)
    parts = [compressor.compress(chunk) for _ in range(size // len(chunk))]
    return b"".join(parts) + compressor.flush()


def test_a_flate_bomb_is_refused_and_not_stored(tmp_path):
    bomb = _pdf_with_stream(_deflate_zeros(MAX_INFLATED_BYTES + 8 * 1024 * 1024))
    assert len(bomb) < MAX_UPLOAD_BYTES  # small on the wire ...
    with pytest.raises(UploadRejected) as refused:
        store(bomb, tmp_path)
    assert refused.value.rule == "bomb" and "压缩炸弹" in refused.value.message_zh
    assert not any(tmp_path.rglob("*.pdf"))


def test_a_nested_flate_bomb_is_refused():
    inner = _deflate_zeros(MAX_INFLATED_BYTES + 4 * 1024 * 1024)
    bomb = _pdf_with_stream(zlib.compress(inner, 9), "[/FlateDecode /FlateDecode]")
    assert len(bomb) < 8 * 1024  # two layers: kilobytes for 68 MiB
    with pytest.raises(UploadRejected) as refused:
        check_pdf(bomb)
    assert refused.value.rule == "bomb"


def test_an_ordinary_compressed_page_passes():
    content = b"BT /F1 12 Tf 72 720 Td (hello) Tj ET\n" * 2000
    info = check_pdf(_pdf_with_stream(zlib.compress(content)))
    assert info.pages == 1
