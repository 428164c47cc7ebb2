"""Results back to the online system: an application's result and the events feed."""
from __future__ import annotations

import os
from datetime import date

import pytest

from backoffice.announcement import services
from backoffice.applications.models import Application
from backoffice.extensions import db
from support import committed_district_year_employer


def test_an_application_reads_its_total_points_rank_and_published_line(published, api, client_for):
    first, fourth = published.applications[0], published.applications[3]
    body = api.get(f"/applications/{first.id}").get_json()
    result = body["result"]
    assert result["total"] == float(first.total) and result["total"] == sum(i["points"] for i in result["indicators"])
    employment = next(i for i in result["indicators"] if i["indicator"] == "employment")
    assert employment["label_zh"] == "合法稳定就业" and employment["points"] == 30.0
    assert employment["explanation"] and employment["explanation"][0].startswith("合法稳定就业")
    age = next(i for i in result["indicators"] if i["indicator"] == "age")
    assert age["explanation"][0].startswith("年龄")
    assert result["rank"] == 1 and result["admitted"] is True
    assert result["published"]["number"] == "2021000001" and result["published"]["points"]["employment"] == 30.0
    assert result["status_zh"] == "已列入公示名单" and result["qualified_at"] is None
    outside = api.get(f"/applications/{fourth.id}").get_json()["result"]
    assert outside["published"] is None and outside["admitted"] is False and outside["rank"] == 4
    assert outside["status_zh"] == "未列入公示名单"


def test_a_revoked_application_reads_its_revocation(published, api):
    target = published.applications[2]
    revocation = services.propose_revocation(target, actor=published.people["investigator"],
                                             ground="falsified_materials", finding="学历证书系伪造")
    services.confirm_revocation(revocation, actor=published.people["city_supervisor"], confirm=True)
    result = api.get(f"/applications/{target.id}").get_json()["result"]
    assert result["revoked_at"] and result["revocation_ground_zh"] == "提供虚假材料"
    assert result["admitted"] is False and result["status_zh"] == "积分落户资格已取消"
    assert result["published"]["number"] == "2021000003"  # the published line stays what was published


def test_the_events_feed_is_ordered_and_its_cursor_resumes(published, api, app, settings, today):
    first = api.get("/events").get_json()
    # First the five scorings, then the publication of the three listed.
    assert [e["kind"] for e in first["events"]] == ["score.changed"] * 5 + ["list.published"] * 3
    events = first["events"][5:]
    cursors = [e["cursor"] for e in events]
    assert cursors == sorted(cursors) and len(set(cursors)) == 3
    assert [e["cursor"] for e in first["events"]] == sorted(e["cursor"] for e in first["events"])
    assert first["next_cursor"] == cursors[-1]
    by_app = {e["application_id"]: e for e in events}
    listed = published.applications[0]
    assert by_app[listed.id]["applicant"]["name"] == "王一" and "公示编号" in by_app[listed.id]["text"]
    assert by_app[listed.id]["applicant"]["id_number_masked"].count("*") >= 8
    # Nothing new: an empty page, the same cursor.
    again = api.get(f"/events?after={first['next_cursor']}").get_json()
    assert again == {"events": [], "next_cursor": first["next_cursor"]}
    # The window closes: qualifications come after the cursor, in order, with a limit.
    year = published.year
    year.announcement_start, year.announcement_end = date.fromordinal(today.toordinal() - 7), \
        date.fromordinal(today.toordinal() - 1)
    year.settlement_start = today
    db.session.flush()
    assert services.grant_due_qualifications() == 3
    # Each qualification opens the settlement case (落户办理), which the feed reports next.
    page = api.get(f"/events?after={first['next_cursor']}&limit=4").get_json()
    assert [e["kind"] for e in page["events"]] == ["qualification.granted", "settlement.progress"] * 2
    assert page["events"][0]["cursor"] > first["next_cursor"]
    # A restarted server (a new app, same database) resumes from the cursor the client kept.
    from backoffice.app import create_app

    restarted = create_app(settings, TESTING=True)
    token = api.token
    rest = restarted.test_client().get(f"/api/v1/events?after={page['next_cursor']}",
                                       headers={"Authorization": f"Bearer {token}"}).get_json()
    assert [e["kind"] for e in rest["events"]] == ["qualification.granted", "settlement.progress"]
    seen = [e["application_id"] for e in page["events"] + rest["events"] if e["kind"] == "qualification.granted"]
    assert sorted(seen) == sorted(a.id for a in published.applications[:3])


def test_the_feed_needs_its_scope_and_a_sound_cursor(published, api, app):
    from backoffice.intake.tokens import issue_token

    _client, token = issue_token("no-events", ("applications:read",), actor_label="test")
    refused = app.test_client().get("/api/v1/events", headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 403 and "events:read" in refused.get_json()["error"]["message_zh"]
    # A negative cursor is refused app-wide (backoffice/security/inputs.py) before the view runs.
    bad = api.get("/events?after=-1")
    assert bad.status_code == 400 and "超出范围" in bad.get_json()["error"]["message_zh"]
    worse = api.get("/events?after=abc")
    assert worse.status_code in (400, 422) and worse.get_json()["error"]
    assert app.test_client().get("/api/v1/events").status_code == 401


@pytest.mark.postgres
@pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgresql"), reason="needs PostgreSQL")
def test_an_event_committed_late_with_a_lower_id_is_not_skipped(database_url):
    """Two transactions: T1 inserts an event first (lower id) and commits last. A reader polling
    in between serves T2's event; T1's still comes on the next poll, after the cursor."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.orm import Session

    from backoffice.announcement import events

    engine = create_engine(database_url)
    with engine.begin() as conn:
        ids = committed_district_year_employer(conn, code="119999", year=2099, uscc="91119999LATE00001X")
        ids["applicant"] = conn.execute(text("INSERT INTO applicants (id_number, id_last4, name, birth_date, created_at) "
                                             "VALUES ('11999919900101LATE', 'LATE', 'x', '1990-01-01', now()) "
                                             "RETURNING id")).scalar()
        ids["application"] = conn.execute(text(
            "INSERT INTO applications (applicant_id, year, employer_id, district_id) "
            "VALUES (:a, 2099, :e, :d) RETURNING id"),
            {"a": ids["applicant"], "e": ids["employer"], "d": ids["district"]}).scalar()
    insert = text("INSERT INTO applicant_events (occurred_at, application_id, applicant_id, year, kind, text) "
                  "VALUES (now(), :app, :who, 2099, :kind, 'x') RETURNING id")
    params = {"app": ids["application"], "who": ids["applicant"]}
    try:
        with engine.connect() as t1, engine.connect() as t2:
            t1.begin()
            late_id = t1.execute(insert, {**params, "kind": "late"}).scalar()
            with t2.begin():
                early_id = t2.execute(insert, {**params, "kind": "early"}).scalar()
            assert late_id < early_id
            with Session(engine) as reader:
                first = [(e.kind, e.position) for e in events.read(0, 100, reader)]
                reader.commit()
            assert [k for k, _ in first] == ["early"]
            t1.commit()
        with Session(engine) as reader:
            second = [e.kind for e in events.read(first[-1][1], 100, reader)]
            reader.commit()
        assert second == ["late"]  # not skipped
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM applicant_events WHERE year = 2099"))
            conn.execute(text("DELETE FROM applications WHERE id = :i"), {"i": ids["application"]})
            conn.execute(text("DELETE FROM applicants WHERE id = :i"), {"i": ids["applicant"]})
            conn.execute(text("DELETE FROM employers WHERE id = :i"), {"i": ids["employer"]})
            conn.execute(text("DELETE FROM years WHERE year = 2099"))
            conn.execute(text("DELETE FROM districts WHERE code = '119999'"))
        engine.dispose()


def test_case_decisions_and_rescoring_reach_the_feed(published, api, make):
    from backoffice.applications.scoring_service import rescore_application
    from backoffice.cases import services as case_services

    target = published.applications[3]
    claim = make.claim(target, indicator="housing", status="invalid", reason="housing_listing_invalid",
                       claimed={"type": "own", "from": "2016-01", "to": "2020-12", "district": "朝阳区"})
    case = make.case(target, claim=claim)
    reviewer = published.people["reviewer"]
    case_services.claim(case, actor=reviewer, version=case.version)
    case_services.decide(case, actor=reviewer, outcome="rejected", reason_code="registry_result_confirmed",
                         note="未提供不动产权证书", version=case.version)
    rescore_application(target.id, trigger="test")  # nothing changes: no event
    claim.verified = {"type": "own", "from": "2016-01", "to": "2020-12", "district": "朝阳区"}
    claim.registry_status = "valid"
    db.session.flush()
    rescore_application(target.id, trigger="test")
    kinds = [(e["kind"], e["text"]) for e in api.get("/events").get_json()["events"]
             if e["application_id"] == target.id]
    assert [k for k, _ in kinds] == ["score.changed", "case.decided", "score.changed"], kinds
    assert "不予支持" in kinds[1][1] and case.number in kinds[1][1]
    assert f"积分已重新计算：{db.session.get(Application, target.id).total}分" in kinds[2][1]
