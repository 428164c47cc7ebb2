"""Intake API timings, in-process (Flask test client) on a temporary SQLite database.

    .venv/bin/python bench/intake.py            # or with DATABASE_URL=postgresql+psycopg://…/bench_intake

Measures the median server-side time of: filing an application with six claims; running the
registry verifiers on it (local dataset, tests/intake/registry_fixture); a review request with
two 1-page PDFs (check, store, case, audit, reuse query); the same request replayed with its
Idempotency-Key; a malformed file refused; reading a case.
"""
from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "intake")]

from intake_pdfs import make_pdf  # noqa: E402
from verifiers.identifiers import resident_id_check_char  # noqa: E402

ROUNDS = int(os.environ.get("ROUNDS", "60"))


def main() -> None:
    from backoffice.app import create_app
    from backoffice.extensions import db
    from backoffice.intake.api import today
    from backoffice.intake.registry import load_dataset
    from backoffice.intake.tokens import issue_token
    from backoffice.migrate import upgrade
    from backoffice.reference.data import DISTRICTS
    from backoffice.reference.models import District, Year
    from backoffice.settings import Settings

    tmp = tempfile.mkdtemp(prefix="bench-intake-")
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp}/bench.db"
    settings = Settings(env="bench", database_url=url, secret_key="b" * 40, upload_dir=f"{tmp}/uploads")
    upgrade(url)
    app = create_app(settings)
    with app.app_context():
        for code, name, address, phone, core in DISTRICTS:
            db.session.add(District(code=code, name=name, window_address=address, phone=phone, core_six=core))
        t = today()
        d = lambda n: t + timedelta(days=n)  # noqa: E731
        db.session.add(Year(year=2021, application_start=d(-10), application_end=d(10), result_query_start=d(20),
                            result_query_end=d(30), announcement_start=d(40), announcement_end=d(46),
                            settlement_start=d(47), settlement_end=d(800)))
        load_dataset(ROOT / "tests" / "intake" / "registry_fixture", actor_label="bench")
        _client, token = issue_token("bench", ["applications:write", "registry:write", "reviews:write", "cases:read"])
        db.session.commit()
    client = app.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    times: dict[str, list[float]] = {}

    def timed(name, fn):
        start = time.perf_counter()
        response = fn()
        times.setdefault(name, []).append((time.perf_counter() - start) * 1000)
        return response

    for i in range(ROUNDS):
        body = f"11010519850314{i % 1000:03d}"
        id_number = body[:17] + resident_id_check_char(body[:17])
        application = timed("create application (6 claims)", lambda: client.post("/api/v1/applications", headers=auth, json={
            "year": 2021, "applicant": {"id_number": id_number, "name": "王伟"},
            "employer": {"uscc": "91110105MA00000012", "name": "北京测试科技有限公司", "district": "朝阳区"},
            "claims": [
                {"indicator": "housing", "facts": {"type": "own", "from": "2014-08", "to": "2017-12", "district": "朝阳区"},
                 "filed": {"certificate_no": "X京房权证朝字第999999号"}},
                {"indicator": "employment"}, {"indicator": "tax"}, {"indicator": "age"}, {"indicator": "law_abiding"},
                {"indicator": "education", "facts": {"level": "bachelor", "degree": "bachelor", "graduated": "2005-07"},
                 "filed": {"diploma_no": "100011200505000001", "degree_no": "100012200505000001"}}]}))
        assert application.status_code == 201, application.get_json()
        app_id = application.get_json()["id"]
        verified = timed("verify application (6 claims)", lambda: client.post(f"/api/v1/applications/{app_id}/verify",
                                                                              headers=auth))
        claim_id = verified.get_json()["claims"][0]["id"]
        files = (make_pdf(f"id {i}"), make_pdf(f"certificate {i}"))

        def review(key):
            return client.post(f"/api/v1/claims/{claim_id}/reviews", headers={**auth, "Idempotency-Key": key},
                               content_type="multipart/form-data",
                               data={"owner_identity": (BytesIO(files[0]), "a.pdf"),
                                     "ownership_certificate": (BytesIO(files[1]), "b.pdf")})
        created = timed("review request (2 PDFs)", lambda: review(f"r{i}"))
        assert created.status_code == 201, created.get_json()
        assert timed("same request replayed (Idempotency-Key)", lambda: review(f"r{i}")).status_code == 201
        bad = timed("malformed file refused", lambda: client.post(
            f"/api/v1/claims/{claim_id}/reviews", headers=auth, content_type="multipart/form-data",
            data={"owner_identity": (BytesIO(files[0][:-40]), "cut.pdf")}))
        assert bad.status_code in (409, 422)
        number = created.get_json()["number"]
        timed("read a case", lambda: client.get(f"/api/v1/cases/{number}", headers=auth))
    print(f"{ROUNDS} rounds, {url.split('://')[0]}")
    for name, values in times.items():
        print(f"  {name:<42} median {statistics.median(values):6.1f} ms   p90 {sorted(values)[int(len(values) * .9)]:6.1f} ms")


if __name__ == "__main__":
    main()
