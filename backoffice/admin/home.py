"""The home page: the signed-in user's queues with open and overdue counts."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import redirect, request, url_for
from flask_admin import AdminIndexView, expose
from flask_login import current_user
from sqlalchemy import case, func, select

from backoffice.cases.models import CaseStatus, ReviewCase, not_closed
from backoffice.extensions import db
from backoffice.turnaround.sql import beijing_today
from backoffice.staff.models import Role
from verifiers.routing import QUEUES


@dataclass(frozen=True)
class QueueCount:
    code: str
    label: str
    open: int
    overdue: int
    endpoint: str


def queues_for(user) -> list:
    """Queues a user works: investigators the tips queue only, others every district queue."""
    if user.role == Role.investigator:
        return [q for q in QUEUES if q.city_only]
    if user.role == Role.administrator:
        return list(QUEUES)
    if user.role == Role.city_approver:  # approves the districts' settlement cases (第五篇 二 3)
        return [q for q in QUEUES if q.code == "settlement"]
    return [q for q in QUEUES if not q.city_only]


def queue_counts(user, today: date | None = None) -> dict[str, tuple[int, int]]:
    """{queue: (open, overdue)} over the user's district (all districts at city level).
    The clock does not run while a case waits for the applicant, so those are never overdue."""
    today = today or beijing_today()
    overdue = case(
        ((ReviewCase.due_date < today) & (ReviewCase.status != CaseStatus.awaiting_materials), 1), else_=0
    )
    stmt = (
        select(ReviewCase.queue, func.count(), func.coalesce(func.sum(overdue), 0))
        # "Not closed" rather than the list of open statuses: the partial worklist indexes match it.
        .where(not_closed())
        .group_by(ReviewCase.queue)
    )
    if user.district_id is not None:
        stmt = stmt.where(ReviewCase.district_id == user.district_id)
    return {q: (int(n), int(o)) for q, n, o in db.session.execute(stmt)}


class HomeView(AdminIndexView):
    def is_accessible(self) -> bool:
        return current_user.is_authenticated

    def inaccessible_callback(self, name, **kwargs):
        return redirect(url_for("login.index", next=request.full_path))

    @expose("/")
    def index(self):
        from backoffice.i18n import is_english

        from backoffice.cases.admin import queue_counts_cached

        counts = queue_counts_cached(fresh=True)  # counted now; the menu's badges reuse it
        rows = [
            QueueCount(
                q.code,
                q.label_en if is_english() else q.label_zh,
                *counts.get(q.code, (0, 0)),
                endpoint=f"queue_{q.code}.index_view",
            )
            for q in queues_for(current_user)
        ]
        return self.render("home.html", rows=rows, user=current_user)
