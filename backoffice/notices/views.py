"""Printing a notice (告知书) from the case workspace: the stored PDF, inline.

Reviewers and supervisors of the case's district (city level: all), by `can_print_notice`;
a notice of another district answers 404, as if it did not exist. Each print is audited.
"""
from __future__ import annotations

from flask import Response, abort, url_for
from flask_admin import expose
from flask_login import current_user
from sqlalchemy import select

from backoffice.admin.base import ProtectedView
from backoffice.audit.services import record
from backoffice.extensions import db
from backoffice.i18n import _
from backoffice.notices.models import CHANNEL_LABELS, NOTICE_KINDS, Notice, NotificationOutbox
from backoffice.notices.services import mask_phone
from backoffice.staff.permissions import can_print_notice, can_work_cases


def notices_for_workspace(case) -> list[dict]:
    """The case's notices for the workspace: number, title, date, print link, each channel's
    state (the phone number masked)."""
    from zoneinfo import ZoneInfo

    notices = db.session.scalars(select(Notice).where(Notice.case_id == case.id).order_by(Notice.id)).all()
    if not notices:
        return []
    rows = db.session.scalars(select(NotificationOutbox)
                              .where(NotificationOutbox.notice_id.in_([n.id for n in notices]))
                              .order_by(NotificationOutbox.id)).all()
    out = []
    for n in notices:
        channels = [{
            "label": (_(CHANNEL_LABELS[r.channel]) if r.channel in CHANNEL_LABELS else r.channel)
                     + (f" {mask_phone(r.recipient)}" if r.channel == "sms" else ""),
            "delivered": r.delivered_at is not None,
            "error": r.last_error,
        } for r in rows if r.notice_id == n.id]
        out.append({
            # The kind in the page's language (the letter's own title is its Chinese label).
            "number": n.number, "title": _(NOTICE_KINDS[n.kind]) if n.kind in NOTICE_KINDS else n.title,
            "kind": n.kind,
            "issued": n.issued_at.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M"),
            "url": url_for("notices.pdf", notice_id=n.id), "short_text": n.short_text, "channels": channels,
        })
    return out


class NoticeView(ProtectedView):
    def is_visible(self) -> bool:
        return False

    def access_rule(self, user):
        return can_work_cases(user)

    @expose("/")
    def index(self):
        abort(404)

    @expose("/<int:notice_id>.pdf")
    def pdf(self, notice_id: int):
        notice = db.session.get(Notice, notice_id)
        if notice is None or not can_print_notice(current_user, notice):
            abort(404)
        record("notice.printed", "notice", notice.id, district_id=notice.district_id,
               after={"number": notice.number})
        return Response(notice.pdf, mimetype="application/pdf", headers={
            "Content-Disposition": f'inline; filename="notice-{notice.number}.pdf"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        })
