"""Sign-in, lock-out, sign-out, CSRF, cookies, and the per-user language."""
from datetime import timedelta

from sqlalchemy import select

from backoffice.audit.models import AuditEvent
from backoffice.core.db import utcnow
from backoffice.extensions import db
from backoffice.staff.models import Staff
from support import TEST_PASSWORD, csrf_token_from, sign_in


def test_sign_in_page_is_chinese(app):
    page = app.test_client().get("/admin/login/").get_data(as_text=True)
    assert "登录" in page and "用户名" in page and "密码" in page


def test_anonymous_is_sent_to_sign_in(app):
    response = app.test_client().get("/admin/queue_housing/")
    assert response.status_code == 302 and "/admin/login/" in response.headers["Location"]


def test_sign_in_shows_my_queues_and_sets_safe_cookie(app, make):
    reviewer = make.staff("reviewer", "朝阳区")
    make.case(district="朝阳区", queue="housing")
    client = app.test_client()
    response = sign_in(client, reviewer.username)
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    home = client.get("/admin/").get_data(as_text=True)
    assert 'data-testid="open-housing">1<' in home
    assert 'data-queue="tips"' not in home  # the tips queue is city level


def test_wrong_password_is_refused_and_counted(app, make):
    reviewer = make.staff("reviewer", "朝阳区")
    response = sign_in(app.test_client(), reviewer.username, "wrong-password-1")
    assert response.status_code == 200
    assert "用户名或密码错误" in response.get_data(as_text=True)
    db.session.refresh(reviewer)
    assert reviewer.failed_logins == 1
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "login.failed",
                                                      AuditEvent.object_id == str(reviewer.id)))


def test_unknown_user_gets_the_same_message(app):
    response = sign_in(app.test_client(), "nobody", "whatever-password")
    assert "用户名或密码错误" in response.get_data(as_text=True)


def test_logout_needs_post_with_token(app, make, client_for):
    client = client_for(make.staff("reviewer", "朝阳区"))
    assert client.get("/admin/login/logout").status_code == 405
    assert client.post("/admin/login/logout").status_code == 400  # no CSRF token
    assert client.get("/admin/").status_code == 200  # still signed in
    token = csrf_token_from(client.get("/admin/").get_data(as_text=True))
    assert client.post("/admin/login/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/admin/").status_code == 302


def test_post_without_csrf_token_changes_nothing(app, make, client_for):
    admin = make.staff("administrator")
    client = client_for(admin)
    make.district("朝阳区")
    before = db.session.scalar(select(Staff).where(Staff.username == "ghost"))
    response = client.post("/admin/staff/new/", data={
        "username": "ghost", "full_name": "幽灵", "role": "administrator", "active": "y",
        "locale": "zh_Hans_CN", "new_password": "ghost-password-1",
    })
    assert response.status_code == 400
    assert before is None
    assert db.session.scalar(select(Staff).where(Staff.username == "ghost")) is None
    # The same form with its token is accepted: the refusal above was the token.
    page = client.get("/admin/staff/new/").get_data(as_text=True)
    response = client.post("/admin/staff/new/", data={
        "csrf_token": csrf_token_from(page), "username": "ghost", "full_name": "幽灵",
        "role": "administrator", "active": "y", "locale": "zh_Hans_CN", "new_password": "ghost-password-1",
    })
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    created = db.session.scalar(select(Staff).where(Staff.username == "ghost"))
    assert created is not None
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "admin.created",
                                                      AuditEvent.object_id == str(created.id)))


def test_language_switch_is_per_user(app, make, client_for):
    reviewer = make.staff("reviewer", "朝阳区")
    client = client_for(reviewer)
    assert "队列" in client.get("/admin/").get_data(as_text=True)
    token = csrf_token_from(client.get("/admin/").get_data(as_text=True))
    client.post("/admin/login/locale", data={"csrf_token": token, "locale": "en"})
    page = client.get("/admin/").get_data(as_text=True)
    assert "Queue" in page and "Overdue" in page
    db.session.refresh(reviewer)
    assert reviewer.locale == "en"
    # Another user keeps Chinese.
    other = client_for(make.staff("reviewer", "朝阳区"))
    assert "已超期" in other.get("/admin/").get_data(as_text=True)


def test_open_redirect_is_refused(app, make):
    reviewer = make.staff("reviewer", "朝阳区")
    client = app.test_client()
    page = client.get("/admin/login/?next=https://evil.example/")
    token = csrf_token_from(page.get_data(as_text=True))
    response = client.post("/admin/login/?next=https://evil.example/",
                           data={"csrf_token": token, "username": reviewer.username, "password": TEST_PASSWORD})
    assert response.headers["Location"].endswith("/admin/")
