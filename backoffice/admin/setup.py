"""Mounting Flask-Admin: theme, locale, menu, views."""
from __future__ import annotations

from flask import Flask
from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme

from backoffice.core.timefmt import beijing_minute
from backoffice.admin.labels import staff_names, trigger_label
from backoffice.audit.events import actor_name, event_label
from backoffice.security.headers import csp_nonce
from backoffice.admin.home import HomeView
from backoffice.admin.views import (
    ApplicantView,
    AuditView,
    ClaimView,
    DecisionView,
    DistrictView,
    EmployerView,
    EvidenceView,
    OutboxView,
    SnapshotView,
    StaffView,
    YearView,
)
from backoffice.applications.models import Applicant, Application, EvidenceFile, IndicatorClaim, ScoreSnapshot
from backoffice.applications.score_views import ApplicationScoreView, SimulatorView
from backoffice.audit.models import AuditEvent
from backoffice.calendar.models import OfficialDay
from backoffice.calendar.views import CalendarView
from backoffice.cases.admin import CaseView, add_queue_views
from backoffice.settlement.admin import SettlementQueueMixin
from backoffice.cases.models import Decision, ReviewCase
from backoffice.cases.workspace import CaseWorkspaceView
from backoffice.i18n import _l, lazy_pgettext
from backoffice.jobs.views import JobsView
from backoffice.outbox.models import OutboxMessage
from backoffice.reference.models import District, Employer, Year
from backoffice.staff.auth import LoginView
from backoffice.staff.models import Staff
from backoffice.turnaround.views import TurnaroundView
from backoffice.settlement.views import SettlementWorkspaceView
from backoffice.announcement.views import AnnouncementView, RevocationsView, TipWorkspaceView
from backoffice.notices.views import NoticeView
from backoffice.yearstats.views import YearStatisticsView
from backoffice.admin import chrome, menu


def init_admin(app: Flask) -> Admin:
    # The one timestamp formatter for templates: {{ moment|beijing }} (Beijing time, to the minute).
    app.add_template_filter(beijing_minute, "beijing")
    # The audit trail in words wherever a page shows it: {{ e|audit_action }}, {{ e|audit_actor }}.
    app.add_template_filter(lambda e: event_label(e.action), "audit_action")
    app.add_template_filter(_audit_actor, "audit_actor")
    # A score snapshot's cause in words ("decision", "tip-38"): {{ snapshot.trigger|trigger_label }}.
    app.add_template_filter(trigger_label, "trigger_label")
    menu.init_app(app)  # the menu kept per role, district, language and page
    chrome.init_app(app)  # header (bureau, environment, window), footer (version), favicon
    _complete_bodies_inside_the_request(app)
    admin = Admin(
        app,
        name=_l("积分落户审核"),
        index_view=HomeView(name=_l("首页"), url="/admin"),
        theme=Bootstrap4Theme(swatch="default", fluid=True, base_template="layout.html"),
        csp_nonce_generator=csp_nonce,  # every script and style block carries the request's CSP nonce
    )
    admin.add_view(LoginView(name="login", endpoint="login", url="/admin/login"))

    # Worklists per queue with open-count badges, and the case workspace (backoffice/cases).
    add_queue_views(admin, _l("工作队列"), mixins={"settlement": SettlementQueueMixin})
    admin.add_view(CaseWorkspaceView(name=_l("案件办理"), endpoint="case", url="/admin/case"))

    admin.add_view(SettlementWorkspaceView(name=_l("落户办理"), endpoint="settlement",
                                           url="/admin/settlement"))
    # Printing notices (告知书) from the workspace (backoffice/notices).

    admin.add_view(NoticeView(name=_l("告知书"), endpoint="notices", url="/admin/notices"))

    records = _l("申报数据")
    # The applications' view with the latest score on its details page, and the simulator (backoffice/applications).

    admin.add_view(ApplicationScoreView(Application, name=lazy_pgettext("Applications", "申报"), endpoint="applications", category=records))
    admin.add_view(SimulatorView(name=_l("积分模拟计算"), endpoint="simulator", url="/admin/simulator", category=records))
    admin.add_view(ApplicantView(Applicant, name=lazy_pgettext("Applicants", "申请人"), endpoint="applicants", category=records))
    admin.add_view(ClaimView(IndicatorClaim, name=lazy_pgettext("Indicator claims", "指标"), endpoint="claims", category=records))
    admin.add_view(CaseView(ReviewCase, name=_l("全部案件"), endpoint="cases", category=records))
    admin.add_view(DecisionView(Decision, name=_l("审核决定"), endpoint="decisions", category=records))
    admin.add_view(EvidenceView(EvidenceFile, name=_l("凭证材料"), endpoint="evidence", category=records))
    admin.add_view(SnapshotView(ScoreSnapshot, name=_l("积分快照"), endpoint="snapshots", category=records))
    admin.add_view(EmployerView(Employer, name=lazy_pgettext("Employers", "用人单位"), endpoint="employers", category=records))

    settings_menu = _l("系统")
    admin.add_view(YearView(Year, name=lazy_pgettext("Years", "申报年度"), endpoint="years", category=settings_menu))
    admin.add_view(DistrictView(District, name=_l("区服务窗口"), endpoint="districts", category=settings_menu))
    admin.add_view(StaffView(Staff, name=_l("工作人员"), endpoint="staff", category=settings_menu))
    admin.add_view(AuditView(AuditEvent, name=_l("操作日志"), endpoint="audit", category=settings_menu))
    admin.add_view(OutboxView(OutboxMessage, name=_l("待发任务"), endpoint="outbox", category=settings_menu))

    admin.add_view(JobsView(name=_l("后台任务"), endpoint="jobs", url="/admin/jobs", category=settings_menu))
    # The official holiday calendar (backoffice/calendar): administrators enter each year's notice.
    admin.add_view(CalendarView(OfficialDay, name=_l("节假日安排"), endpoint="calendar",
                                url="/admin/calendar", category=settings_menu))

    # The announcement period (backoffice/announcement): published lists, tips, revocations.

    admin.add_view(AnnouncementView(name=_l("公示名单"), endpoint="announcement", url="/admin/announcement"))
    admin.add_view(TipWorkspaceView(name=_l("举报核查"), endpoint="tip", url="/admin/tip"))
    admin.add_view(RevocationsView(name=_l("取消资格"), endpoint="revocations", url="/admin/revocations"))

    # Supervisors' turnaround dashboard (backoffice/turnaround); hidden from roles that may not see it.

    admin.add_view(TurnaroundView(name=_l("办理时效"), endpoint="turnaround", url="/admin/turnaround"))

    # The year statistics (backoffice/yearstats); hidden from roles that may not see it.

    admin.add_view(YearStatisticsView(name=_l("年度统计"), endpoint="yearstats", url="/admin/yearstats"))
    return admin


def _complete_bodies_inside_the_request(app: Flask) -> None:
    """A body produced by a generator runs after the status line has gone out, logged as 200:
    if it fails half-way the user gets a cut-off file and the log a success (the exports did,
    with DetachedInstanceError). Every generated body is completed here, inside the request,
    so a failure is an error response and logged as one. Files (send_file: direct_passthrough)
    stream as they are."""
    @app.after_request
    def _complete(response):
        if response.is_streamed and not response.direct_passthrough:
            response.make_sequence()
        return response


def _audit_actor(event) -> str:
    """An audit event's actor: a staff member by full name, a process or API client in words."""
    full = staff_names([event.actor_id]).get(event.actor_id) if event.actor_id else None
    return actor_name(event.actor_label, full)
