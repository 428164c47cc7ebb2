"""The home page: the signed-in user's work (backoffice/cases/inbox.py) and their queues with
open and overdue counts (backoffice/cases/due.py counts them).

A reviewer sees 我的在办 (claimed by them, sent back to them; overdue and due today first);
a supervisor 待我复核 and the district's escalations; an investigator their tips; city-level
staff the city's lists (published lists, revocations, statistics) they may open.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import redirect, request, url_for
from flask_admin import AdminIndexView, expose
from flask_login import current_user

from backoffice.cases import inbox
from backoffice.cases.admin import queue_counts_cached
from backoffice.i18n import is_english
from backoffice.staff.models import Role
from backoffice.turnaround.sql import beijing_today
from verifiers.routing import QUEUES

# The city's lists on a city-level user's home page, by admin endpoint, when the user may open them.
CITY_LISTS = ("announcement", "revocations", "turnaround", "yearstats")


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

    def _city_lists(self) -> list[tuple[str, str, str]]:
        """(endpoint, label, url) of the city's list pages this user may open, in CITY_LISTS order."""
        views = {getattr(v, "endpoint", None): v for v in self.admin._views}
        return [(code, str(views[code].name), url_for(f"{code}.index"))
                for code in CITY_LISTS if code in views and views[code].is_accessible()]

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
        user = current_user._get_current_object()
        today = beijing_today()
        work = {}
        if user.role in (Role.reviewer, Role.supervisor):
            work["mine"] = inbox.my_cases(user, today)
        if user.role == Role.supervisor:
            work["countersign"] = inbox.awaiting_my_countersign(user, today)
            work["escalations"] = inbox.open_escalations(user, today)
            work["escalation_count"] = inbox.escalation_count(user)
        if user.role == Role.investigator:
            work["tips"] = inbox.my_tips(user, today)
        city_lists = self._city_lists() if user.district_id is None else []
        queue_labels = {q.code: (q.label_en if is_english() else q.label_zh) for q in QUEUES}
        return self.render("home.html", rows=rows, user=user, work=work, today=today, city_lists=city_lists,
                           queue_labels=queue_labels)
