"""The home page: the signed-in user's queues with open and overdue counts
(backoffice/cases/due.py counts them)."""
from __future__ import annotations

from dataclasses import dataclass

from flask import redirect, request, url_for
from flask_admin import AdminIndexView, expose
from flask_login import current_user

from backoffice.cases.admin import queue_counts_cached
from backoffice.i18n import is_english
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


class HomeView(AdminIndexView):
    def is_accessible(self) -> bool:
        return current_user.is_authenticated

    def inaccessible_callback(self, name, **kwargs):
        return redirect(url_for("login.index", next=request.full_path))

    @expose("/")
    def index(self):
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
