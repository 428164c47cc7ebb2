"""Helpers of the intake tests (a module of its own: every conftest is named conftest)."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

FIXTURE_DIR = Path(__file__).parent / "registry_fixture"

# Applicants of the fixture dataset (registry_fixture/persons.csv).
WANG = "110105198503140013"  # 王伟
LI = "110105198503140021"  # 李娜
ZHANG = "110108198805060034"  # 张强
LIU = "110108198701010040"  # 刘敏
ZHAO = "130102199002200056"  # 赵刚, 刘敏's husband
CHEN = "110105198008080068"  # 陈静
EMPLOYER_USCC = "91110105MA00000012"  # owns the dormitory of real_estate.csv
ALL_SCOPES = ("applications:write", "applications:read", "registry:write", "reviews:write", "appeals:write",
              "tips:write", "cases:read", "settlement:write", "events:read")


def phase_dates(phase: str, today) -> dict:
    """Year dates that put ``today`` in ``phase`` (or between phases: "none")."""
    d = lambda n: today + timedelta(days=n)  # noqa: E731
    offsets = {
        "application": (-10, 10, 20, 30, 40, 46, 47, 800),
        "result_query": (-60, -40, -5, 5, 10, 16, 17, 800),
        "between": (-60, -40, 5, 15, 20, 26, 27, 800),
        "announcement": (-90, -70, -40, -20, -3, 3, 4, 800),
        "settlement": (-120, -100, -80, -70, -60, -54, -53, 600),
    }[phase]
    names = ("application_start", "application_end", "result_query_start", "result_query_end",
             "announcement_start", "announcement_end", "settlement_start", "settlement_end")
    return {n: d(o) for n, o in zip(names, offsets)}


class Api:
    """A test client that sends the bearer token with every request."""

    def __init__(self, client, token):
        self.client, self.token = client, token

    def _headers(self, headers):
        out = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        out.update(headers or {})
        return out

    def get(self, path, headers=None):
        return self.client.get("/api/v1" + path, headers=self._headers(headers))

    def post(self, path, json=None, headers=None, data=None, **kw):
        return self.client.post("/api/v1" + path, json=json, data=data, headers=self._headers(headers), **kw)

    def patch(self, path, json=None, headers=None):
        return self.client.patch("/api/v1" + path, json=json, headers=self._headers(headers))

    def put(self, path, json=None, headers=None):
        return self.client.put("/api/v1" + path, json=json, headers=self._headers(headers))

    def delete(self, path, headers=None):
        return self.client.delete("/api/v1" + path, headers=self._headers(headers))


def application_body(id_number=WANG, name="王伟", year=2021, uscc=EMPLOYER_USCC, claims=None, **extra):
    body = {"year": year, "applicant": {"id_number": id_number, "name": name},
            "employer": {"uscc": uscc, "name": "北京测试科技有限公司", "district": "朝阳区"}}
    if claims is not None:
        body["claims"] = claims
    body.update(extra)
    return body
