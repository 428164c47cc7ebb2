"""The online system's side (查看调京进度): submitting the 调京信息 with children, place and one
PDF per slot; the refusals in words; abandonment; progress over the API and the events feed."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from backoffice.extensions import db
from backoffice.feed.models import ApplicantEvent
from backoffice.settlement.models import SettlementCase

from settlement_support import child, year_dates


def _move(year, dates):
    for k, v in dates.items():
        setattr(year, k, v)
    db.session.flush()


def _events(application):
    return [e.text for e in db.session.scalars(
        select(ApplicantEvent).where(ApplicantEvent.application_id == application.id,
                                     ApplicantEvent.kind == "settlement.progress").order_by(ApplicantEvent.id))]


def test_a_qualified_applicant_submits_children_place_and_files_and_reads_the_progress(api, qualified, pdf_bytes):
    application = qualified()
    response = api.submit(application.id, children=[child("小明", "2012-05-01", 1)],
                          files={"id_document": pdf_bytes, "child1_birth_certificate": pdf_bytes})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["stage"] == "received" and body["stage_zh"] == "已受理"
    assert body["children"] == 1 and body["place"] == "own_home"
    # Every queue's case number: year, district code, 6-digit serial.
    assert re.fullmatch(r"2021-110105-\d{6}", body["number"]), body["number"]
    progress = api.progress(application.id).get_json()
    assert progress["kept_until"] == body["kept_until"]
    assert [s["stage_zh"] for s in progress["steps"]][-1] == "已受理"
    assert _events(application)[-1] == "落户办理进度：已受理"


def test_refused_in_words_when_not_qualified(api, qualified, pdf_bytes):
    application = qualified(qualified=False)
    response = api.submit(application.id)
    assert response.status_code == 409
    assert response.get_json()["error"]["message_zh"] == "该申请人尚未取得积分落户资格，不能办理落户。"
    assert db.session.scalar(select(SettlementCase).where(SettlementCase.application_id == application.id)) is None


def test_refused_in_words_when_revoked(api, qualified):
    application = qualified()
    application.revoked_at, application.revoked_reason = datetime.now(timezone.utc), "弄虚作假"
    db.session.flush()
    response = api.submit(application.id)
    assert response.status_code == 409
    assert "资格已被取消" in response.get_json()["error"]["message_zh"]


def test_refused_in_words_the_day_after_the_two_years(api, qualified, year, today):
    application = qualified()
    # The announcement closed exactly two years before today: today is the last day.
    close = today.replace(year=today.year - 2)
    _move(year, year_dates(today, close))
    assert api.submit(application.id).status_code == 201
    _move(year, year_dates(today, close - timedelta(days=1)))
    other = qualified()
    response = api.submit(other.id)
    assert response.status_code == 409
    assert "逾期未办理的视为自行放弃" in response.get_json()["error"]["message_zh"]


def test_a_slot_the_case_does_not_have_is_named(api, qualified, pdf_bytes):
    application = qualified()
    # No children: no child slots on this case.
    response = api.submit(application.id, files={"child1_birth_certificate": pdf_bytes})
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"][0]["path"] == "files.child1_birth_certificate"


def test_the_collective_route_is_refused_when_the_family_owns_a_home(api, qualified):
    application = qualified()
    response = api.submit(application.id, place="collective", certificate="", family_owns_home="true")
    assert response.status_code == 422
    assert "不能在单位集体户内落户" in response.get_json()["error"]["message_zh"]
    ok = api.submit(application.id, place="collective", certificate="", family_owns_home="false")
    assert ok.status_code == 201 and ok.get_json()["place"] == "collective"


def test_abandonment_closes_the_case_without_refill(api, qualified, make):
    from backoffice.ranking.services import rank_year

    application = qualified()
    runner_up = make.application("朝阳区")
    application.total, runner_up.total = 120, 100
    db.session.get(type(application.year_ref), 2021).quota = 1
    rank_year(2021)
    assert (application.admitted, runner_up.admitted) == (True, False)
    assert api.submit(application.id).status_code == 201

    response = api.abandon(application.id)
    assert response.status_code == 200
    assert response.get_json()["stage_zh"] == "自行放弃"
    assert _events(application)[-1].startswith("落户办理进度：自行放弃")
    # 落户资格不递补: ranking again moves no one up, and no one else gets a settlement case.
    rank_year(2021)
    db.session.refresh(runner_up)
    assert runner_up.admitted is False and runner_up.qualified_at is None
    assert db.session.scalars(select(SettlementCase.application_id)).all() == [application.id]
    # Abandoned is final: neither a new submission nor a second abandonment.
    assert api.submit(application.id).status_code == 409
    assert api.abandon(application.id).get_json()["error"]["message_zh"].startswith("该落户案件已办结")


def test_progress_of_an_application_without_settlement_is_404_in_words(api, qualified):
    application = qualified(qualified=False)
    response = api.progress(application.id)
    assert response.status_code == 404
    assert "尚无落户办理案件" in response.get_json()["error"]["message_zh"]


def test_open_for_qualified_is_idempotent_and_waits_for_the_submission(qualified):
    from backoffice.settlement.services import open_for_qualified

    application = qualified()
    first = open_for_qualified(application)
    assert open_for_qualified(application) is first
    assert first.stage == "awaiting_submission"
    assert first.case.status.value == "awaiting_materials"  # the clock waits for the applicant
    assert _events(application) == ["落户办理进度：已取得落户资格，待提交调京信息"]


def test_the_command_opens_the_missing_cases_of_a_years_qualified_applications(app, qualified, monkeypatch):
    from click.testing import CliRunner

    from backoffice import cli, cliapp
    from backoffice.settlement import cli as settlement_cli

    first, second, unqualified = qualified(), qualified(), qualified(qualified=False)
    monkeypatch.setattr(cliapp, "cli_app", lambda: app)
    monkeypatch.setattr(settlement_cli, "cli_app", lambda: app)
    result = CliRunner().invoke(cli.main, ["settlement", "open-qualified", "--year", "2021"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "2021: 2 settlement case(s) opened"
    opened = set(db.session.scalars(select(SettlementCase.application_id)))
    assert opened == {first.id, second.id}
    again = CliRunner().invoke(cli.main, ["settlement", "open-qualified", "--year", "2021"])
    assert again.output.strip() == "2021: 0 settlement case(s) opened"
