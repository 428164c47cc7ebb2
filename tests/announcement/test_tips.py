"""Tips (举报) worked by investigators, with the reporter sealed (第五篇 一、2: 严格为举报人保密)."""
from __future__ import annotations

import dataclasses
import io
import json
from datetime import timedelta

from click.testing import CliRunner
from cryptography.fernet import Fernet, MultiFernet
from sqlalchemy import select, text

from backoffice.announcement.services import grant_due_qualifications
from backoffice.applications.models import Application, IndicatorClaim
from backoffice.applications.scoring_service import rescore_application
from backoffice.audit.models import AuditEvent
from backoffice.cases.models import CaseStatus, ReviewCase
from backoffice.core.pdf import Document, render
from backoffice.extensions import db
from backoffice.intake.models import TipReport
from backoffice.outbox.models import OutboxMessage
from announcement_support import employment
from announcement_support import REPORTER, post_form

SECRETS = (REPORTER["name"], REPORTER["id_number"], REPORTER["phone"], REPORTER["id_number"][-4:] + '"')


def _html(response):
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


def _ws(tip):
    return f"/admin/tip/{tip.id}/"


def _act(client, tip, action, data=None, **kw):
    return post_form(client, _ws(tip), f"/admin/tip/{tip.id}/{action}", data, **kw)


def test_the_stored_reporter_is_ciphertext_and_a_key_can_be_rotated(tip, app, monkeypatch):
    raw = db.session.execute(text("SELECT reporter_name, reporter_id_number, reporter_phone FROM tip_reports"
                                  " WHERE case_id = :id"), {"id": tip.id}).one()
    for column, secret in zip(raw, (REPORTER["name"], REPORTER["id_number"], REPORTER["phone"])):
        assert column.startswith("gAAAAA") and secret not in column  # a Fernet token
    settings = app.config["BACKOFFICE"]
    old_key = settings.resolved_tip_keys()[0]
    assert MultiFernet([Fernet(old_key)]).decrypt(raw[0].encode()).decode() == REPORTER["name"]
    # Rotation: the new key goes first, the command re-encrypts, then the old key can go.
    new_key = Fernet.generate_key().decode()
    monkeypatch.setitem(app.config, "BACKOFFICE", dataclasses.replace(settings, tip_keys=f"{new_key},{old_key}"))
    import backoffice.cli as cli

    from backoffice.announcement import cli as announcement_cli

    monkeypatch.setattr(announcement_cli, "cli_app", lambda: app)
    result = CliRunner().invoke(cli.main, ["tips", "rotate-keys"])
    assert result.exit_code == 0 and "1 条" in result.output, result.output
    rotated = db.session.execute(text("SELECT reporter_name FROM tip_reports WHERE case_id = :id"),
                                 {"id": tip.id}).scalar()
    assert Fernet(new_key).decrypt(rotated.encode()).decode() == REPORTER["name"]
    monkeypatch.setitem(app.config, "BACKOFFICE", dataclasses.replace(settings, tip_keys=new_key))
    db.session.expire_all()
    assert db.session.get(TipReport, tip.id).reporter_name == REPORTER["name"]


def test_production_needs_its_own_tip_keys():
    import pytest

    from backoffice.settings import Settings, SettingsError

    env = {"BACKOFFICE_ENV": "production", "DATABASE_URL": "postgresql+psycopg://x/y", "REDIS_URL": "redis://x",
           "SECRET_KEY": "k" * 40}
    with pytest.raises(SettingsError, match="TIP_ENCRYPTION_KEYS"):
        Settings.from_env(env)
    with pytest.raises(SettingsError, match="Fernet"):
        Settings.from_env({**env, "TIP_ENCRYPTION_KEYS": "not-a-key"})
    key = Fernet.generate_key().decode()
    assert Settings.from_env({**env, "TIP_ENCRYPTION_KEYS": key}).resolved_tip_keys() == [key]


def test_only_investigators_read_the_reporter(tip, client_for, api):
    investigator = client_for(_people(tip)["investigator"])
    queue = _html(investigator.get("/admin/queue_tips/"))
    assert f'href="/admin/tip/{tip.id}/"' in queue  # the case number links to the tip workspace
    page = _html(investigator.get(_ws(tip)))
    for secret in (REPORTER["name"], REPORTER["id_number"], REPORTER["phone"]):
        assert secret in page
    assert "社保缴费记录系补缴伪造" in page and "2021000002" in page  # the statement and the published line
    # A city supervisor opens the tip to countersign, but the reporter is sealed.
    supervisor = client_for(_people(tip)["city_supervisor"])
    sealed = _html(supervisor.get(_ws(tip)))
    assert "举报人信息已保密" in sealed and "社保缴费记录系补缴伪造" in sealed
    # Every other role: no page, export, audit row or API answer carries the reporter.
    seen = [sealed]
    for role in ("reviewer", "supervisor", "admin", "city_supervisor"):
        client = client_for(_people(tip)[role])
        assert client.get(_ws(tip)).status_code in (403, 404) or role == "city_supervisor"
        assert client.get("/admin/queue_tips/").status_code == 403
        for url in ("/admin/", f"/admin/applications/details/?id={tip.application_id}", "/admin/applications/",
                    "/admin/audit/", "/admin/audit/export/csv/", "/admin/announcement/2021/",
                    "/admin/announcement/2021/export.csv", "/admin/revocations/", "/admin/cases/export/csv/"):
            response = client.get(url)
            if response.status_code == 200:
                seen.append(response.get_data(as_text=True))
        for event in db.session.scalars(select(AuditEvent)):
            response = client.get(f"/admin/audit/details/?id={event.id}")
            if response.status_code == 200:
                seen.append(response.get_data(as_text=True))
    seen.append(api.get(f"/cases/{tip.number}").get_data(as_text=True))
    seen.append(api.get(f"/applications/{tip.application_id}").get_data(as_text=True))
    seen.append(json.dumps([[e.before, e.after] for e in db.session.scalars(select(AuditEvent))], ensure_ascii=False))
    assert len(seen) > 20
    received = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "case.received",
                                                          AuditEvent.object_id == str(tip.id)))
    assert received.after["reporter"] == "举报人信息已保密"
    admin_detail = client_for(_people(tip)["admin"]).get(f"/admin/audit/details/?id={received.id}")
    assert "举报人信息已保密" in _html(admin_detail)
    for body in seen:
        for secret in (REPORTER["name"], REPORTER["id_number"], REPORTER["phone"]):
            assert secret not in body


def _people(tip):
    from backoffice.staff.models import Staff

    names = {"admin": "admin_a", "investigator": "inv_a", "investigator2": "inv_b", "city_supervisor": "sup_city",
             "supervisor": "sup_cy", "reviewer": "rev_cy"}
    return {k: db.session.scalar(select(Staff).where(Staff.username == v)) for k, v in names.items()}


def test_an_investigator_records_findings_and_closes_a_tip_unfounded(tip, client_for):
    investigator = client_for(_people(tip)["investigator"])
    assert 'data-testid="claim"' in _html(investigator.get(_ws(tip)))
    assert _act(investigator, tip, "claim").status_code == 302
    assert _act(investigator, tip, "finding", {"kind": "note", "note": "调取社保缴费明细"}).status_code == 302
    assert _act(investigator, tip, "finding", {"kind": "check", "department": "市社保中心",
                                               "question": "2011年1月起是否连续缴费？",
                                               "answer": "连续缴费，无补缴记录"}).status_code == 302
    missing = _act(investigator, tip, "finding", {"kind": "check", "department": "市税务局", "question": "",
                                                  "answer": ""})
    assert missing.status_code == 422 and 'data-testid="error-question"' in missing.get_data(as_text=True)
    pdf = render(Document(title="社保缴费明细", paragraphs=["2011年1月至2020年12月连续缴费"]))
    upload = _act(investigator, tip, "finding", {"kind": "evidence", "note": "缴费明细",
                                                 "file": (io.BytesIO(pdf), "社保明细.pdf")},
                  content_type="multipart/form-data")
    assert upload.status_code == 302
    page = _html(investigator.get(_ws(tip)))
    assert "市社保中心" in page and "连续缴费，无补缴记录" in page and "社保明细.pdf" in page
    file_link = page.split('href="/admin/tip/')[1].split('"')[0]
    assert investigator.get("/admin/tip/" + file_link).get_data() == pdf
    # Another investigator cannot act on a claimed tip.
    other = client_for(_people(tip)["investigator2"])
    assert _act(other, tip, "finding", {"kind": "note", "note": "x"}).status_code == 403
    closed = _act(investigator, tip, "close", {"outcome": "unfounded", "reason": "社保缴费连续，举报不属实"})
    assert closed.status_code == 302
    db.session.expire_all()
    case = db.session.get(ReviewCase, tip.id)
    assert case.status == CaseStatus.closed
    assert "不属实" in _html(investigator.get(_ws(tip)))
    actions = [e.action for e in db.session.scalars(select(AuditEvent).where(
        AuditEvent.object_type == "review_case", AuditEvent.object_id == str(tip.id)).order_by(AuditEvent.id))]
    assert actions[:2] == ["case.received", "tip.claimed"] and actions[-1] == "tip.decided"


def test_qualification_at_the_windows_close_is_held_by_an_open_tip(tip, client_for, today):
    world_apps = db.session.scalars(select(Application).where(Application.admitted.is_(True))
                                    .order_by(Application.rank)).all()
    year = world_apps[0].year_ref
    assert grant_due_qualifications(today) == 0  # inside the window: nobody yet
    # The seven days pass: the window closed yesterday.
    year.announcement_start, year.announcement_end = today - timedelta(days=7), today - timedelta(days=1)
    year.settlement_start = today
    db.session.flush()
    assert grant_due_qualifications() == 2  # the two listed without an open tip
    db.session.expire_all()
    held = db.session.get(Application, tip.application_id)
    assert held.qualified_at is None
    assert all(a.qualified_at is not None for a in world_apps if a.id != held.id)
    assert grant_due_qualifications() == 0  # idempotent
    # The tip closes unfounded (after the window): the qualification follows at once.
    investigator = client_for(_people(tip)["investigator"])
    _act(investigator, tip, "claim")
    _act(investigator, tip, "close", {"outcome": "unfounded", "reason": "举报不属实"})
    db.session.expire_all()
    assert db.session.get(Application, tip.application_id).qualified_at is not None
    kinds = db.session.execute(text("SELECT kind FROM applicant_events WHERE application_id = :id ORDER BY id"),
                               {"id": tip.application_id}).scalars().all()
    assert kinds == ["score.changed", "list.published", "qualification.granted", "settlement.progress"]


def test_a_score_correction_is_countersigned_and_rescored_without_moving_admission(tip, client_for):
    investigator = client_for(_people(tip)["investigator"])
    _act(investigator, tip, "claim")
    claim = db.session.scalar(select(IndicatorClaim).where(IndicatorClaim.application_id == tip.application_id))
    corrected = employment(2013)
    response = _act(investigator, tip, "close", {"outcome": "score_corrected", "reason": "2013年才入职，更正社保月数",
                                                 f"fix-{claim.id}-json": json.dumps(corrected)})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(ReviewCase, tip.id).status == CaseStatus.awaiting_countersign
    # Not by the one who decided.
    own = _act(investigator, tip, "countersign", {"decision": "confirm"})
    assert own.status_code == 403
    # A city supervisor finds it on the revocations page (the tips queue is the investigators').
    city = client_for(_people(tip)["city_supervisor"])
    awaiting = _html(city.get("/admin/revocations/"))
    assert f'data-testid="awaiting-{tip.id}"' in awaiting and "属实·积分更正" in awaiting
    assert 'data-testid="countersign"' in _html(city.get(_ws(tip)))
    second = client_for(_people(tip)["investigator2"])
    assert 'data-testid="countersign"' in _html(second.get(_ws(tip)))
    assert _act(second, tip, "countersign", {"decision": "confirm"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(ReviewCase, tip.id).status == CaseStatus.closed
    assert db.session.get(IndicatorClaim, claim.id).verified == corrected
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.application_id == tip.application_id))
    assert message is not None and message.payload["trigger"].startswith("tip")
    # The rescoring job's work: the total falls, the admission stays (落户资格不递补, nobody moves).
    before = db.session.get(Application, tip.application_id).total
    rescore_application(tip.application_id, trigger=message.payload["trigger"])
    from backoffice.ranking import rank_year

    rank_year(2021)
    db.session.expire_all()
    application = db.session.get(Application, tip.application_id)
    assert application.total < before and application.admitted is True


def test_tips_run_on_the_working_day_clock_and_show_on_the_city_dashboard(tip, client_for):
    from backoffice.cases.clock import add_working_days
    from verifiers.turnaround import DUE_WORKING_DAYS

    assert tip.due_date == add_working_days(tip.received_on, DUE_WORKING_DAYS["tips"])
    city = _html(client_for(_people(tip)["city_supervisor"]).get("/admin/turnaround/?year=2021"))
    queues = city[city.index('data-testid="section-queues"'):]
    queues = queues[:queues.index("</section>")]
    assert "举报" in queues
    for secret in (REPORTER["name"], REPORTER["id_number"]):
        assert secret not in city
    district = _html(client_for(_people(tip)["supervisor"]).get("/admin/turnaround/?year=2021"))
    district_queues = district[district.index('data-testid="section-queues"'):]
    assert "举报" not in district_queues[:district_queues.index("</section>")]
