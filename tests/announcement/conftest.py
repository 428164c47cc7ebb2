"""Fixtures of the announcement tests: a year in its announcement with really scored
applications, the people who work it, and helpers to act over HTTP."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest

from announcement_support import announcement_dates, employment
from announcement_support import REPORTER, post_form  # noqa: F401  (tests import them from there)
from support import csrf_token_from


@dataclass
class World:
    year: object
    applications: list  # by descending total: the first `quota` are admitted
    people: dict = field(default_factory=dict)


@pytest.fixture
def today():
    from backoffice.intake.api import today as beijing_today

    return beijing_today()


def scored_application(make, start_year: int, *, district="朝阳区", name=None, birth=date(1985, 3, 14), employer=None):
    """An application with insurance paid from January of `start_year` to December 2020 (3 points
    a year), scored by the real engine (a snapshot, Application.total)."""
    from backoffice.applications.scoring_service import rescore_application
    from backoffice.extensions import db

    application = make.application(district, applicant=make.applicant(name=name, birth=birth), employer=employer)
    facts = employment(start_year)
    claim = make.claim(application, indicator="employment", status="valid", reason=None, claimed=facts)
    claim.verified = facts
    db.session.flush()
    rescore_application(application.id, trigger="test")
    db.session.refresh(application)
    return application


@pytest.fixture
def world(make, today):
    """2021 with today in its announcement window (7 days), quota 3, five scored applications
    (totals 30, 27, 24, 21, 18), and the staff: an administrator, two investigators, a city
    supervisor, a district supervisor and a reviewer."""
    from backoffice.extensions import db

    year = make.year(2021, **announcement_dates(today))
    year.quota = 3
    db.session.flush()
    applications = [scored_application(make, 2011 + i, name=n)
                    for i, n in enumerate(["王一", "李二", "张三", "刘四", "陈五"])]
    people = {
        "admin": make.staff("administrator", username="admin_a"),
        "investigator": make.staff("investigator", username="inv_a"),
        "investigator2": make.staff("investigator", username="inv_b"),
        "city_supervisor": make.staff("supervisor", username="sup_city"),
        "supervisor": make.staff("supervisor", "朝阳区", username="sup_cy"),
        "reviewer": make.staff("reviewer", "朝阳区", username="rev_cy"),
    }
    return World(year, applications, people)


@pytest.fixture
def published(world, client_for):
    """The world's list, published by the administrator with the button."""
    client = client_for(world.people["admin"])
    response = post_form(client, "/admin/announcement/", "/admin/announcement/2021/publish")
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return world


def days_after_window(world, n=1):
    return world.year.announcement_end + timedelta(days=n)




@pytest.fixture
def api_token(app):
    from backoffice.intake.tokens import issue_token

    # The world's applications are made by the factory, not filed through this client: the
    # token reaches every client's records (clients:all), as the online system's reader would.
    _client, token = issue_token("online-system", ("applications:write", "applications:read", "tips:write",
                                                   "cases:read", "events:read", "clients:all"), actor_label="test")
    return token


@pytest.fixture
def api(app, api_token):
    client = app.test_client()

    class Api:
        token = api_token

        def get(self, path):
            return client.get("/api/v1" + path, headers={"Authorization": f"Bearer {api_token}"})

        def post(self, path, json):
            return client.post("/api/v1" + path, json=json, headers={"Authorization": f"Bearer {api_token}"})

    return Api()


@pytest.fixture
def tip(published, api):
    """A tip against the second listed applicant, received through the intake API."""
    from sqlalchemy import select

    from backoffice.cases.models import ReviewCase
    from backoffice.extensions import db

    target = published.applications[1]
    response = api.post(f"/applications/{target.id}/tips", {
        "statement": "李二的社保缴费记录系补缴伪造，实际2013年才入职。", "reporter": REPORTER})
    assert response.status_code == 201, response.get_json()
    return db.session.scalar(select(ReviewCase).where(ReviewCase.number == response.get_json()["number"]))
