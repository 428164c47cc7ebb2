"""Upload check and content-addressed storage for 凭证材料 (supporting documents).

Pure Python: no Flask, no database. Used by the staff workspace and the intake API.

The rule, from the handbook, 附件3 "凭证材料上传要求及制作方法", 二、制作凭证材料方法:

    将拍摄后符合提交要求的照片存入 PDF 文件中上传，该文件大小不超过 1M，
    可将相关凭证照片插入 Word 文档后另存为 PDF 文件。

and on every upload field of the online form: "请将所有凭证材料保存在一个PDF文件中，
PDF文件大小不能超过1M". So: each upload (all the materials of one item) is one PDF
file of at most 1M.

Checks, in this order (the first failing one is reported):

``empty``      zero bytes.
``too_large``  more than ``MAX_UPLOAD_BYTES``. Decided on the length alone, before the
               bytes are hashed or parsed, so an oversized upload costs nothing.
``not_pdf``    the bytes do not start with ``%PDF-`` at offset 0 (see ``PDF_MAGIC``).
``encrypted``  the file has an ``/Encrypt`` dictionary (any password, any algorithm,
               including an empty user password with only an owner password), or pypdf
               cannot even open it for lack of a password or of the AES crypto extra.
``corrupt``    no ``%%EOF`` marker in the last 1 KiB (a cut-off upload, see ``EOF_WINDOW``),
               or pypdf cannot read the cross-reference table, trailer, catalog or page
               tree. Any exception from pypdf lands here: the check never raises anything
               but ``UploadRejected`` for a byte string.
``no_pages``   the page tree is readable but holds no page.
``bomb``       the file's Flate streams inflate to more than ``MAX_INFLATED_BYTES`` in all
               (a decompression bomb: 1 MB of zeros deflates to about 1 KB). Counted by
               inflating in pieces, never holding more than one piece, so the check itself
               is bounded; a chain of FlateDecode filters is followed to its last layer.

``store()`` runs the check, then writes the bytes to ``<upload_dir>/<sha[:2]>/<sha>.pdf``
(SHA-256 of the content, lowercase hex): nothing of the client's file name or path is
ever used, the same bytes are stored once, and a refused file writes nothing at all.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
import zlib
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from pypdf import PdfReader
from pypdf.errors import DependencyError, FileNotDecryptedError

__all__ = [
    "MAX_UPLOAD_BYTES",
    "MAX_INFLATED_BYTES",
    "EOF_MARKER",
    "EOF_WINDOW",
    "PDF_MAGIC",
    "RULES",
    "PdfInfo",
    "UploadRejected",
    "check_pdf",
    "path_for",
    "store",
]

# 附件3: "该文件大小不超过 1M" / upload fields: "PDF文件大小不能超过1M".
# "1M" is read as 1 MiB = 1 048 576 bytes, inclusive ("不超过" = not more than):
# - the handbook gives no byte count, and file-size limits in web upload widgets are
#   commonly written as ``1024 * 1024``;
# - applicants check the size in Windows Explorer / macOS Finder "KB/MB" columns, which on
#   Windows are binary units: a file shown as "1,000 KB" (1 024 000 bytes) or "1.00 MB"
#   is one they were told is allowed. Reading "1M" as 1 000 000 would refuse it.
# - of the two readings this is the more lenient one, so we never refuse a file the
#   official system might have accepted; the difference (48 576 bytes, 4.6 %) is not a
#   storage concern.
MAX_UPLOAD_BYTES = 1024 * 1024

# Header strictness: ``%PDF-`` must be at offset 0. The PDF spec (ISO 32000-1 §7.5.2)
# puts the header on the first line; readers such as Acrobat and pypdf tolerate up to
# 1 KiB of junk before it, but every PDF writer an applicant would use (Word 另存为 PDF,
# 扫描全能王, WPS, phone scanners) starts at offset 0, and leading bytes are how
# polyglot files (HTML/ZIP/image + PDF) are made. Such a file is refused as ``not_pdf``;
# re-saving it as PDF fixes it. Nothing after the five bytes is required here (the
# version digits are pypdf's business).
PDF_MAGIC = b"%PDF-"

# End marker: ``%%EOF`` must occur in the last ``EOF_WINDOW`` bytes. This is the rule
# Acrobat applies (PDF Reference 1.7, Appendix H, implementation note 18: "the %%EOF
# marker [must] appear somewhere within the last 1024 bytes of the file"). pypdf in
# non-strict mode does not require it: it accepts a marker cut to "%%E", and on a file
# with incremental updates cut inside the last update it walks back to an earlier
# %%EOF and silently opens the older revision. An interrupted upload is the commonest
# damage, and storing a silently shortened document as evidence is worse than asking
# for the file again, so a file without the marker near its end is ``corrupt``.
EOF_MARKER = b"%%EOF"
EOF_WINDOW = 1024

_SHA256_RE = re.compile(r"[0-9a-f]{64}")

_LIMIT_TEXT_ZH = "凭证材料须为一个PDF文件，大小不超过1M（附件3）"
_LIMIT_TEXT_EN = (
    "Each supporting document must be one PDF file of at most 1 MB "
    f"({MAX_UPLOAD_BYTES} bytes; handbook annex 3)"
)

# rule code -> (message_zh, message_en). Each message names the rule in words.
RULES: dict[str, tuple[str, str]] = {
    "empty": (
        f"上传的文件是空的（0字节）。{_LIMIT_TEXT_ZH}。",
        f"The uploaded file is empty (0 bytes). {_LIMIT_TEXT_EN}.",
    ),
    "too_large": (
        f"{_LIMIT_TEXT_ZH}；本文件{{size}}字节，超过上限{MAX_UPLOAD_BYTES}字节，"
        "请压缩照片后重新生成PDF。",
        f"{_LIMIT_TEXT_EN}; this file is {{size}} bytes, over the limit of "
        f"{MAX_UPLOAD_BYTES} bytes. Compress the photos and make the PDF again.",
    ),
    "not_pdf": (
        f"{_LIMIT_TEXT_ZH}；本文件不是PDF文件（文件开头不是“%PDF-”，可能是图片、"
        "压缩包或网页），请将照片存入PDF文件后上传。",
        f"{_LIMIT_TEXT_EN}; this file is not a PDF (it does not start with \"%PDF-\"; "
        "it may be an image, an archive or a web page). Put the photos into a PDF "
        "file and upload that.",
    ),
    "encrypted": (
        "PDF文件已加密或设置了密码（包括仅限制打印、复制的权限密码），审核人员无法"
        "查阅、留存，请取消加密后重新上传。",
        "The PDF is encrypted or password-protected (including an owner password that "
        "only restricts printing or copying); reviewers cannot read and keep it. "
        "Remove the protection and upload it again.",
    ),
    "corrupt": (
        "PDF文件已损坏或不完整，无法读取（可能上传中断或文件被截断），请重新生成PDF"
        "后上传。",
        "The PDF is damaged or incomplete and cannot be read (the upload may have "
        "been interrupted or the file cut short). Make the PDF again and upload it.",
    ),
    "no_pages": (
        "PDF文件中没有任何页面，请将凭证照片存入PDF文件后上传。",
        "The PDF has no pages. Put the photos of the documents into the PDF and "
        "upload it again.",
    ),
    "bomb": (
        "PDF文件解压后的内容异常巨大（疑似压缩炸弹），无法接收，请用拍摄的照片重新生成PDF后上传。",
        "The PDF's contents inflate to an abnormal size (a decompression bomb) and cannot be "
        "accepted. Make the PDF again from the photos and upload it.",
    ),
}


class UploadRejected(Exception):
    """An upload that breaks a rule. ``rule`` is one of the keys of ``RULES``."""

    def __init__(self, rule: str, message_zh: str, message_en: str) -> None:
        super().__init__(rule, message_zh, message_en)
        self.rule = rule
        self.message_zh = message_zh
        self.message_en = message_en

    def __str__(self) -> str:
        return f"{self.rule}: {self.message_en}"

    @classmethod
    def for_rule(cls, rule: str, **fields: object) -> UploadRejected:
        zh, en = RULES[rule]
        return cls(rule, zh.format(**fields), en.format(**fields))


@dataclass(frozen=True)
class PdfInfo:
    sha256: str  # 64 lowercase hex digits, of the exact bytes stored
    size: int  # bytes
    pages: int  # >= 1


# pypdf logs a warning for every oddity it repairs in non-strict mode ("incorrect
# startxref pointer", "Object 5 0 not defined", ...): on junk uploads that is pure noise,
# and the outcome is reported through UploadRejected anyway. Raising the level of the
# "pypdf" logger silences its child loggers ("pypdf._reader", "pypdf.generic...") while
# keeping errors; nothing else in logging is touched.
logging.getLogger("pypdf").setLevel(logging.ERROR)


def check_pdf(data: bytes) -> PdfInfo:
    """Check one uploaded material against 附件3. Raises ``UploadRejected`` only.

    ``data`` may be ``bytes``, ``bytearray`` or ``memoryview``; any other type is a
    programming error and raises ``TypeError``.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"check_pdf() needs bytes, not {type(data).__name__}")
    data = bytes(data)
    size = len(data)
    if size == 0:
        raise UploadRejected.for_rule("empty")
    if size > MAX_UPLOAD_BYTES:
        raise UploadRejected.for_rule("too_large", size=size)
    if not data.startswith(PDF_MAGIC):
        raise UploadRejected.for_rule("not_pdf")
    if EOF_MARKER not in data[-EOF_WINDOW:]:
        raise UploadRejected.for_rule("corrupt")

    pages = _count_pages(data)
    if pages == 0:
        raise UploadRejected.for_rule("no_pages")
    if inflated_size(data, MAX_INFLATED_BYTES) > MAX_INFLATED_BYTES:
        raise UploadRejected.for_rule("bomb")
    return PdfInfo(sha256=hashlib.sha256(data).hexdigest(), size=size, pages=pages)


def _count_pages(data: bytes) -> int:
    """Parse with pypdf and count pages; every failure becomes an UploadRejected."""
    try:
        reader = PdfReader(BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise UploadRejected.for_rule("encrypted")
        return len(reader.pages)
    except UploadRejected:
        raise
    except (DependencyError, FileNotDecryptedError):
        # AES without the crypto extra (DependencyError, raised by PdfReader() itself
        # when it tries the empty password) or a user password (FileNotDecryptedError).
        raise UploadRejected.for_rule("encrypted") from None
    except Exception:  # noqa: BLE001 - by design: any pypdf failure means "unreadable"
        # PdfReadError/PdfStreamError/LimitReachedError, and the plain ValueError,
        # KeyError, TypeError, AttributeError, IndexError, AssertionError, RecursionError,
        # ... that pypdf lets through on hostile input. KeyboardInterrupt/SystemExit are
        # not Exceptions and still propagate.
        raise UploadRejected.for_rule("corrupt") from None


# What the Flate streams of one upload may inflate to, in all. A 1 MB phone scan whose photos
# are Flate-compressed (not JPEG) inflates to a few MB of pixels; 64 MiB leaves a wide margin
# while a bomb (1 MB inflating to about 1 GB) is refused before any reader meets it.
MAX_INFLATED_BYTES = 64 * 1024 * 1024
_STREAM_RE = re.compile(rb"stream\r?\n")
_FLATE_RE = re.compile(rb"/(?:FlateDecode|Fl)\b")
_PIECE = 64 * 1024


def inflated_size(data: bytes, limit: int) -> int:
    """The bytes the Flate streams of ``data`` inflate to, counting stops once past ``limit``.

    Reads the raw file (streams inside object streams included, as they are streams too):
    for each ``stream`` keyword, the dictionary before it names its filters; each
    FlateDecode layer is inflated in pieces of at most 64 KiB into the next."""
    total = 0
    for match in _STREAM_RE.finditer(data):
        start = match.end()
        dict_start = data.rfind(b"<<", max(0, match.start() - 4096), match.start())
        header = data[dict_start:match.start()] if dict_start >= 0 else b""
        layers = len(_FLATE_RE.findall(header))
        if not layers:
            continue
        end = data.find(b"endstream", start)
        body = data[start:end if end >= 0 else len(data)]
        total += _inflate_layers(body, min(layers, 4), limit - total + 1)
        if total > limit:
            return total
    return total


def _inflate_layers(body: bytes, layers: int, budget: int) -> int:
    decoders = [zlib.decompressobj() for _ in range(layers)]
    produced = 0

    def feed(level: int, chunk: bytes) -> None:
        nonlocal produced
        decoder = decoders[level]
        pending = chunk
        while pending and produced < budget:
            try:
                out = decoder.decompress(pending, _PIECE)
            except zlib.error:
                return  # not (or no longer) valid Flate: nothing more comes out of this layer
            pending = decoder.unconsumed_tail
            if level + 1 < layers:
                feed(level + 1, out)
            else:
                produced += len(out)
            if not out:
                return

    for i in range(0, len(body), _PIECE):
        feed(0, body[i:i + _PIECE])
        if produced >= budget:
            break
    return produced


def path_for(sha256: str, upload_dir: str | os.PathLike[str]) -> Path:
    """Where the file with this SHA-256 lives: ``<upload_dir>/<sha[:2]>/<sha>.pdf``.

    ``sha256`` must be exactly 64 lowercase hex digits, else ``ValueError``: it comes from
    URLs when files are served, so nothing like ``../etc/passwd`` may reach the path.
    """
    if not isinstance(sha256, str) or _SHA256_RE.fullmatch(sha256) is None:
        raise ValueError(f"not a sha256 (64 lowercase hex digits): {sha256!r:.80}")
    return Path(upload_dir) / sha256[:2] / f"{sha256}.pdf"


def store(data: bytes, upload_dir: str | os.PathLike[str]) -> PdfInfo:
    """Check ``data`` and store it under its SHA-256. Returns the same ``PdfInfo`` as
    ``check_pdf``. Raises ``UploadRejected`` (and writes nothing) for a refused file.

    Idempotent: the same bytes stored twice are written once. The write is atomic
    (temporary file in the target directory, fsync, ``os.replace``), so a reader never
    sees a partial file and concurrent stores of the same bytes are harmless. Files are
    created with mode 0600 (``tempfile.mkstemp``): they are applicants' identity
    documents, served through the application only.
    """
    info = check_pdf(data)
    target = path_for(info.sha256, upload_dir)
    try:
        if target.stat().st_size == info.size:
            return info
    except FileNotFoundError:
        pass
    # A file with the right name but the wrong size can only be damage from outside;
    # it is replaced like a missing one.
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".upload-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise
    _fsync_dir(target.parent)
    return info


def _fsync_dir(directory: Path) -> None:
    """Make the rename durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
