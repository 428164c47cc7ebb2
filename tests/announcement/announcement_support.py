"""Helpers of the announcement tests (a module of its own: every conftest is named conftest)."""
from __future__ import annotations

from support import csrf_token_from  # tests/support.py

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


REPORTER = {"name": "周晓梅", "id_number": "110105199001010010", "phone": "13912345678"}


def post_form(client, page_url: str, action_url: str, data: dict | None = None, **kw):
    """Fetch the page (for its CSRF token), then post the form to `action_url`."""
    page = client.get(page_url)
    assert page.status_code == 200, page.get_data(as_text=True)[:300]
    form = {"csrf_token": csrf_token_from(page.get_data(as_text=True))}
    form.update(data or {})
    return client.post(action_url, data=form, **kw)
