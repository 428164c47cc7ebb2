"""Thousands of malformed files through the review-request API: each refused with its rule
(附件3), never a 500, and nothing written to UPLOAD_DIR."""
from __future__ import annotations

import os
import random
from io import BytesIO

import pytest
from sqlalchemy import func, select

from backoffice.applications.models import EvidenceFile
from backoffice.cases.models import ReviewCase
from backoffice.extensions import db
from verifiers.uploads import MAX_UPLOAD_BYTES, UploadRejected, check_pdf

from intake_support import application_body
from intake_pdfs import make_pdf

SEED = 20210416
PER_KIND = {"truncated": 500, "wrong_header": 300, "encrypted": 200, "oversized": 40, "empty": 60,
            "random": 500, "pdf_junk": 400}
EXPECTED = {
    "truncated": {"empty", "not_pdf", "corrupt"},
    "wrong_header": {"not_pdf"},
    "encrypted": {"encrypted"},
    "oversized": {"too_large"},
    "empty": {"empty"},
    "random": {"not_pdf"},
    "pdf_junk": {"corrupt", "no_pages"},
}


def _files(rng: random.Random):
    valid = [make_pdf(f"doc {i}", pages=1 + i % 3) for i in range(12)]
    locked = [make_pdf(f"locked {i}", password=p) for i, p in enumerate(["secret", "", "x" * 8, "123456"])]
    big = make_pdf("big")
    for _ in range(PER_KIND["truncated"]):
        pdf = rng.choice(valid)
        yield "truncated", pdf[: rng.randrange(0, len(pdf) - 6)]
    for _ in range(PER_KIND["wrong_header"]):
        pdf = rng.choice(valid)
        prefix = rng.choice([b"\x89PNG\r\n\x1a\n", b"PK\x03\x04", b"<html>", b" ", b"\xef\xbb\xbf", b"%PDF", b"%pdf-",
                             bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40)))])
        yield "wrong_header", prefix + pdf if prefix != b"%PDF" else b"%PDX-" + pdf[5:]
    for i in range(PER_KIND["encrypted"]):
        pdf = locked[i % len(locked)]
        # Vary the bytes after the end marker so the files differ, keeping them readable.
        yield "encrypted", pdf + b"\n%" + str(i).encode() + b"\n"
    for _ in range(PER_KIND["oversized"]):
        size = MAX_UPLOAD_BYTES + rng.randrange(1, 300_000)
        yield "oversized", big[:-6] + b" " * (size - len(big)) + big[-6:]
    for _ in range(PER_KIND["empty"]):
        yield "empty", b""
    for _ in range(PER_KIND["random"]):
        data = rng.randbytes(rng.randrange(1, 4096))
        yield "random", data if not data.startswith(b"%PDF-") else b"x" + data
    for _ in range(PER_KIND["pdf_junk"]):
        body = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 600)))
        tail = rng.choice([b"", b"\n%%EOF", b"\ntrailer<</Root 1 0 R>>\n%%EOF", b"\nstartxref\n9\n%%EOF\n"])
        yield "pdf_junk", b"%PDF-1." + str(rng.randrange(10)).encode() + b"\n" + body + tail


def _upload_tree(root) -> list[str]:
    return sorted(os.path.relpath(os.path.join(d, f), root) for d, _dirs, files in os.walk(root) for f in files)


@pytest.fixture
def open_claim(api, year_in, district):
    year_in("application")
    created = api.post("/applications", json=application_body(claims=[
        {"indicator": "housing", "facts": {"type": "own", "from": "2014-08", "to": "2017-12", "district": "朝阳区"},
         "filed": {"certificate_no": "X京房权证朝字第1号"}}])).get_json()
    claim_id = created["claims"][0]["id"]
    api.put(f"/claims/{claim_id}/registry-result", json={"status": "invalid", "reason": "housing_listing_invalid"})
    return claim_id


def test_thousands_of_malformed_files_are_each_refused_with_their_rule(api, open_claim, settings):
    os.makedirs(settings.upload_dir, exist_ok=True)
    before = _upload_tree(settings.upload_dir)
    rng = random.Random(SEED)
    seen: dict[str, set[str]] = {}
    sent = 0
    for kind, data in _files(rng):
        with pytest.raises(UploadRejected) as oracle:
            check_pdf(data)
        assert oracle.value.rule in EXPECTED[kind], (kind, oracle.value.rule, data[:40])
        response = api.post(f"/claims/{open_claim}/reviews", content_type="multipart/form-data",
                            data={"owner_identity": (BytesIO(data), "scan.pdf"), "statement": "fuzz"})
        sent += 1
        assert response.status_code == 422, (kind, response.status_code, response.get_data()[:300])
        error = response.get_json()["error"]
        assert error["code"] == f"upload.{oracle.value.rule}"
        assert error["fields"][0]["path"] == "files.owner_identity"
        assert error["message_zh"] == oracle.value.message_zh and error["message_en"] == oracle.value.message_en
        seen.setdefault(kind, set()).add(oracle.value.rule)
    assert sent == sum(PER_KIND.values()) >= 2000
    assert set(seen) == set(PER_KIND)
    assert _upload_tree(settings.upload_dir) == before
    assert db.session.scalar(select(func.count()).select_from(EvidenceFile)) == 0
    assert db.session.scalar(select(func.count()).select_from(ReviewCase)) == 0


def test_a_request_body_over_the_server_limit_answers_413_in_json(api, open_claim, app):
    limit = app.config["MAX_CONTENT_LENGTH"]
    response = api.post(f"/claims/{open_claim}/reviews", content_type="multipart/form-data",
                        data={"owner_identity": (BytesIO(b"%PDF-" + b"0" * limit), "huge.pdf")})
    assert response.status_code == 413
    assert "1M" in response.get_json()["error"]["message_zh"]
