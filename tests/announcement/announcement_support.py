"""Helpers of the announcement tests (a module of its own: every conftest is named conftest)."""
from __future__ import annotations

from datetime import timedelta

EMPLOYMENT_FROM = 2011


def employment(start_year: int) -> dict:
    """Five insurances paid from January `start_year` to December 2020 and one work district."""
    return {
        "insurance": {t: {"paid": [[f"{start_year}-01", "2020-12"]], "back_paid": []}
                      for t in ("pension", "medical", "unemployment", "injury", "maternity")},
        "work_districts": [{"from": f"{start_year}-01", "to": "2020-12", "district": "朝阳区"}],
    }


def announcement_dates(today) -> dict:
    d = lambda n: today + timedelta(days=n)  # noqa: E731
    offsets = (-90, -70, -40, -20, -3, 3, 4, 800)
    names = ("application_start", "application_end", "result_query_start", "result_query_end",
             "announcement_start", "announcement_end", "settlement_start", "settlement_end")
    return {n: d(o) for n, o in zip(names, offsets)}


def application_dates(today) -> dict:
    """Year dates with `today` in the application phase."""
    d = lambda n: today + timedelta(days=n)  # noqa: E731
    offsets = (-10, 10, 20, 30, 40, 46, 47, 800)
    names = ("application_start", "application_end", "result_query_start", "result_query_end",
             "announcement_start", "announcement_end", "settlement_start", "settlement_end")
    return {n: d(o) for n, o in zip(names, offsets)}
