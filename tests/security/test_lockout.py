"""Sign-in throttling (issue 15 §1): a stranger cannot lock an account out, cannot tell real
usernames from unknown ones, and parallel guesses cannot get more checks than allowed."""
from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import func, select

from backoffice.audit.models import AuditEvent
from backoffice.extensions import db
from support import TEST_PASSWORD, csrf_token_from, sign_in

WRONG = "用户名或密码错误"
THROTTLED = "尝试次数过多"


def _from(app, address):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _message(response) -> str:
    found = re.search(r'data-testid="login-error">([^<]*)<', response.get_data(as_text=True))
    return found.group(1) if found else ""


def test_a_stranger_failing_does_not_lock_out_the_owner(app, make):
    owner = make.staff("reviewer", "朝阳区")
    stranger = _from(app, "203.0.113.66")
    answers = [_message(sign_in(stranger, owner.username, "wrong-password-1")) for _ in range(8)]
    assert answers[:5] == [answers[0]] * 5 and WRONG in answers[0]
    assert all(THROTTLED in a for a in answers[5:])
    # Even the right password is not checked for the stranger's address any more ...
    assert THROTTLED in _message(sign_in(stranger, owner.username, TEST_PASSWORD))
    # ... while the owner, from the office, signs in at once.
    office = _from(app, "198.51.100.7")
    assert sign_in(office, owner.username, TEST_PASSWORD).status_code == 302
    assert office.get("/admin/").status_code == 200
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "login.throttled", AuditEvent.object_id == str(owner.id))) == 4


def test_an_unknown_username_is_answered_exactly_as_a_known_one(app, make):
    known = make.staff("reviewer", "朝阳区")
    known_answers = [_message(sign_in(_from(app, "203.0.113.1"), known.username, "wrong-password-1"))
                     for _ in range(7)]
    unknown_answers = [_message(sign_in(_from(app, "203.0.113.2"), "no-such-user", "wrong-password-1"))
                       for _ in range(7)]
    assert known_answers == unknown_answers
    assert THROTTLED in known_answers[-1]


def test_an_address_trying_many_names_is_stopped(app, make, monkeypatch):
    # Two names' worth of failures per address here (six in production), so the test is short.
    monkeypatch.setattr("backoffice.staff.services.ADDRESS_FACTOR", 2)
    sprayer = _from(app, "203.0.113.99")
    answers = [_message(sign_in(sprayer, f"guess{i}", "wrong-password-1")) for i in range(11)]
    assert all(WRONG in a for a in answers[:10]) and THROTTLED in answers[10]
    # Another address is not affected.
    owner = make.staff("reviewer", "朝阳区")
    assert sign_in(_from(app, "198.51.100.8"), owner.username, TEST_PASSWORD).status_code == 302


def test_right_password_after_a_typo_signs_in_and_forgives_the_typo(app, make):
    owner = make.staff("reviewer", "朝阳区")
    client = _from(app, "198.51.100.9")
    for _ in range(4):
        sign_in(client, owner.username, "wrong-password-1")
    assert sign_in(client, owner.username, TEST_PASSWORD).status_code == 302
    client.post("/admin/login/logout", data={"csrf_token": csrf_token_from(client.get("/admin/").get_data(as_text=True))})
    # The count starts again: four more typos are still checked.
    for _ in range(4):
        assert WRONG in _message(sign_in(client, owner.username, "wrong-password-1"))


@pytest.mark.no_db
def test_forty_parallel_wrong_passwords_get_at_most_five_checks(live):
    base = live["url"]

    def attempt(_):
        with requests.Session() as s:
            page = s.get(f"{base}/admin/login/", timeout=60)
            token = csrf_token_from(page.text)
            answer = s.post(f"{base}/admin/login/", timeout=60, allow_redirects=False,
                            data={"csrf_token": token, "username": "owner", "password": "wrong-password-1"})
            return answer.status_code, (WRONG in answer.text), (THROTTLED in answer.text)

    with ThreadPoolExecutor(max_workers=40) as pool:
        answers = list(pool.map(attempt, range(40)))
    assert all(status == 200 for status, _, _ in answers), answers
    checked = sum(wrong for _, wrong, _ in answers)
    assert checked <= 5 and checked + sum(t for _, _, t in answers) == 40
    with live["app"].app_context():
        failed = db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "login.failed"))
        assert failed == checked
