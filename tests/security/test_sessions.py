"""Sessions end (issue 15 §2): a session cookie replayed after logout, after a password
reset, a deactivation or a role or district change no longer works; and the admin audit
(issue 15 §3) records before and after, secrets as "changed", a reset as its own event."""
from __future__ import annotations

import re

from sqlalchemy import select

from backoffice.audit.models import AuditEvent
from backoffice.extensions import db
from support import csrf_token_from


def _replay(app, cookie: str):
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    return thief.get("/admin/")


def _staff_form(admin_client, staff_id: int) -> dict:
    page = admin_client.get(f"/admin/staff/edit/?id={staff_id}").get_data(as_text=True)
    def value(name):
        found = re.search(rf'id="{name}"[^>]*value="([^"]*)"', page) or re.search(rf'name="{name}"[^>]*value="([^"]*)"', page)
        return found.group(1) if found else ""
    district = re.search(r'<select[^>]*id="district".*?<option selected value="([^"]*)"', page, re.S)
    return {"csrf_token": csrf_token_from(page), "username": value("username"), "full_name": value("full_name"),
            "role": re.search(r'<select[^>]*id="role".*?<option selected value="([^"]*)"', page, re.S).group(1),
            "district": district.group(1) if district else "__None", "active": "y", "locale": "zh_Hans_CN",
            "new_password": ""}


def test_a_cookie_replayed_after_logout_is_refused(app, make, client_for):
    client = client_for(make.staff("reviewer", "朝阳区"))
    cookie = client.get_cookie("session").value
    assert _replay(app, cookie).status_code == 200  # the cookie works while signed in
    token = csrf_token_from(client.get("/admin/").get_data(as_text=True))
    client.post("/admin/login/logout", data={"csrf_token": token})
    replayed = _replay(app, cookie)
    assert replayed.status_code == 302 and "/admin/login/" in replayed.headers["Location"]


def test_a_password_reset_ends_every_session_and_is_audited_as_such(app, make, client_for):
    reviewer = make.staff("reviewer", "朝阳区")
    victim_client = client_for(reviewer)
    cookie = victim_client.get_cookie("session").value
    administrator = make.staff("administrator")
    admin = client_for(administrator)
    form = _staff_form(admin, reviewer.id)
    form["new_password"] = "a-much-longer-secret-2021"
    answer = admin.post(f"/admin/staff/edit/?id={reviewer.id}", data=form)
    assert answer.status_code == 302, answer.get_data(as_text=True)[:3000]
    assert _replay(app, cookie).status_code == 302
    assert victim_client.get("/admin/").status_code == 302
    reset = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "staff.password_reset",
                                                       AuditEvent.object_id == str(reviewer.id)))
    assert reset is not None and reset.actor_label == administrator.username
    changed = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "admin.changed",
                                                         AuditEvent.object_id == str(reviewer.id)))
    assert changed.before["password_hash"] == "changed" and changed.after["password_hash"] == "changed"
    assert "argon2" not in str(changed.before) + str(changed.after)


def test_role_district_and_deactivation_end_sessions_and_record_before_and_after(app, make, client_for):
    make.district("海淀区")
    reviewer = make.staff("reviewer", "朝阳区")
    admin = client_for(make.staff("administrator"))
    for change in ({"district": str(make.district("海淀区").id)}, {"role": "supervisor"}, {"active": None}):
        client = client_for(reviewer) if reviewer.active else None
        cookie = client.get_cookie("session").value
        form = _staff_form(admin, reviewer.id)
        form.update(change)
        if change.get("active", "y") is None:
            del form["active"]
        answer = admin.post(f"/admin/staff/edit/?id={reviewer.id}", data=form)
        assert answer.status_code == 302, answer.get_data(as_text=True)[:3000]
        assert _replay(app, cookie).status_code == 302, change
        db.session.refresh(reviewer)
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "admin.changed",
                                                         AuditEvent.object_id == str(reviewer.id))
                                .order_by(AuditEvent.id)).all()
    chaoyang, haidian = make.district("朝阳区").id, make.district("海淀区").id
    assert [(e.before, e.after) for e in events] == [
        ({"district_id": str(chaoyang)}, {"district_id": str(haidian)}),
        ({"role": "reviewer"}, {"role": "supervisor"}),
        ({"active": "True"}, {"active": "False"}),
    ]


def test_an_edit_of_reference_data_records_the_old_value(app, make, client_for):
    district = make.district("朝阳区")
    old_address = district.window_address
    admin = client_for(make.staff("administrator"))
    page = admin.get(f"/admin/districts/edit/?id={district.id}").get_data(as_text=True)
    answer = admin.post(f"/admin/districts/edit/?id={district.id}", data={
        "csrf_token": csrf_token_from(page), "code": district.code, "name": district.name, "core_six": "y",
        "window_address": "北京市朝阳区新地址1号", "phone": district.phone})
    assert answer.status_code == 302
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "admin.changed",
                                                       AuditEvent.object_type == "districts"))
    assert event.after == {"window_address": "北京市朝阳区新地址1号"}
    assert event.before == {"window_address": old_address}
