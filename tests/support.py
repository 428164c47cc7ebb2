"""Helpers shared by the HTTP tests (a module of its own: every conftest is named conftest)."""
from __future__ import annotations

import os
import re
import uuid
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from backoffice.core.pdf import extract_text

TEST_PASSWORD = "test-password-123"

# The contract's worked example (../shared/contracts/SCORING.md), every indicator but housing:
# the applications whose housing segments the job and case tests vary.
CONTRACT_EXAMPLE = [
    ("employment", {
        "insurance": {
            "pension": {"paid": [["2010-01", "2020-12"]], "back_paid": ["2013-04"]},
            "medical": {"paid": [["2010-01", "2020-12"]], "back_paid": []},
        },
        "work_districts": [{"from": "2018-01", "to": "2020-12", "district": "通州区"}],
    }),
    ("education", {"level": "bachelor", "degree": "bachelor", "graduated": "2005-07"}),
    ("work_residence", {"chosen": False}),
    ("innovation", {"code": "national_sci_tech_progress", "grade": "second", "rank": 5}),
    ("tax", {"annual": {"2018": 120000, "2019": 80000, "2020": 150000}, "violations": 0}),
    ("age", {"birth_date": "1979-09-11"}),
    ("law_abiding", {"detentions": 0}),
]

_CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token_from(html: str) -> str:
    match = _CSRF_RE.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


def sign_in(client, username: str, password: str = TEST_PASSWORD):
    page = client.get("/admin/login/")
    token = csrf_token_from(page.get_data(as_text=True))
    return client.post("/admin/login/", data={"csrf_token": token, "username": username, "password": password})


@contextmanager
def fresh_database(prefix: str, tmp_dir: Path, *, postgres_url: str | None = None):
    """An empty database of its own: beside DATABASE_URL's on PostgreSQL (dropped
    afterwards, even with connections left open), else a SQLite file in `tmp_dir`."""
    base = postgres_url if postgres_url is not None else os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgresql"):
        yield f"sqlite:///{Path(tmp_dir) / f'{prefix}.db'}"
        return
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


FIXTURE_CALENDAR = Path(__file__).parent / "fixtures" / "official_calendar_2019_2026.csv"


def fixture_calendar_rows() -> list[tuple]:
    """The tests' own official calendar: the State Council's arrangements for 2019–2026 as a
    file of the suite (so no test depends on which years the installed chinese-calendar knows)."""
    import csv
    from datetime import date

    with FIXTURE_CALENDAR.open(encoding="utf-8") as f:
        return [(date.fromisoformat(r["day"]), r["kind"], r["name"], r["notice"]) for r in csv.DictReader(f)]


def load_fixture_calendar(url: str) -> None:
    """Replace the migrated database's official calendar (copied from the package by the
    migration) with the fixture calendar, and rebuild the working-day ordinals to match."""
    from datetime import timedelta

    from backoffice.calendar.models import ORDINAL_FIRST, ORDINAL_LAST, OfficialDay, WorkingDayOrdinal
    from backoffice.cases.clock import Calendar

    rows = fixture_calendar_rows()
    calendar = Calendar((day, kind) for day, kind, _name, _notice in rows)
    ordinals, n, day = [], 0, ORDINAL_FIRST
    while day <= ORDINAL_LAST:
        n += calendar.is_working_day(day)
        ordinals.append({"day": day, "ordinal": n})
        day += timedelta(days=1)
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(OfficialDay.__table__.delete())
            conn.execute(WorkingDayOrdinal.__table__.delete())
            conn.execute(OfficialDay.__table__.insert(), [
                {"day": d, "kind": k, "name": name, "notice": notice} for d, k, name, notice in rows])
            conn.execute(WorkingDayOrdinal.__table__.insert(), ordinals)
    finally:
        engine.dispose()


# shared/ (the handbook and the contracts) ---------------------------------------------------
def _shared_dir() -> Path:
    """shared/ lives beside the repository (CI clones the repo next to it). In a git worktree
    it lives beside the main checkout; SHARED_DIR overrides both."""
    if os.environ.get("SHARED_DIR"):
        return Path(os.environ["SHARED_DIR"])
    root = Path(__file__).resolve().parents[1]
    beside = root.parent / "shared"
    dot_git = root / ".git"
    if beside.is_dir() or not dot_git.is_file():
        return beside
    # A worktree's .git is a file "gitdir: <main>/.git/worktrees/<name>"; its commondir is <main>/.git.
    gitdir = Path(dot_git.read_text(encoding="utf-8").split(":", 1)[1].strip())
    common = gitdir / "commondir"
    main_git = (gitdir / common.read_text(encoding="utf-8").strip()).resolve() if common.is_file() else gitdir
    return main_git.parent.parent / "shared"


SHARED = _shared_dir()
HANDBOOK = SHARED / "handbook" / "points-handbook-2021.txt"
SCORING_CONTRACT = SHARED / "contracts" / "SCORING.md"


def shared_file(path: Path) -> Path:
    """`path` inside shared/, or skip the calling test with the reason (printed by -ra)."""
    import pytest

    if not path.exists():
        pytest.skip(f"{path} not found: shared/ (handbook, contracts) is not beside the repository "
                    "(clone it there or set SHARED_DIR)")
    return path


def printed_notice(client, case) -> tuple[str, str]:
    """Open the case's workspace, follow its latest print link, read the PDF as the applicant does:
    (the PDF's text without line wraps — CJK lines break anywhere —, the workspace's HTML)."""
    # (A settlement case's workspace is the settlement module's: the case page redirects there.)
    html = client.get(f"/admin/case/{case.id}/", follow_redirects=True).get_data(as_text=True)
    links = re.findall(r'href="(/admin/notices/\d+\.pdf)"[^>]*data-testid="print-notice"', html)
    assert links, "the workspace offers the notice for printing"
    response = client.get(links[-1])
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    return "".join(extract_text(response.data).split()), html


def committed_district_year_employer(conn, *, code: str, year: int, uscc: str) -> dict:
    """A district, a year (every phase one day after the other, quota 1) and an employer of that
    district, inserted on `conn` — for tests whose rows must be committed for other connections
    to see them (the usual rolled-back test transaction would hide them). Returns their ids."""
    conn.execute(text("INSERT INTO districts (code, name, window_address, phone, core_six) "
                      "VALUES (:c, :n, '地址', '1', false) ON CONFLICT DO NOTHING"), {"c": code, "n": f"测试区{code}"})
    district = conn.execute(text("SELECT id FROM districts WHERE code = :c"), {"c": code}).scalar()
    conn.execute(text("INSERT INTO years (year, application_start, application_end, result_query_start, "
                      "result_query_end, announcement_start, announcement_end, settlement_start, settlement_end, "
                      "quota) VALUES (:y, :d1, :d2, :d3, :d4, :d5, :d11, :d12, :end, 1)"),
                 {"y": year, "end": f"{year}-12-31",
                  **{f"d{n}": f"{year}-01-{n:02d}" for n in (1, 2, 3, 4, 5, 11, 12)}})
    employer = conn.execute(text("INSERT INTO employers (uscc, name, district_id) VALUES (:u, 'x', :d) RETURNING id"),
                            {"u": uscc, "d": district}).scalar()
    return {"district": district, "employer": employer}
