"""Mounting Flask-Admin: theme, locale, menu, views."""
from __future__ import annotations

from flask import Flask
from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme

from backoffice.core.timefmt import beijing_minute
from backoffice.admin.labels import staff_names
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
from backoffice.i18n import bi
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
from backoffice.admin import chrome


def init_admin(app: Flask) -> Admin:
    # The one timestamp formatter for templates: {{ moment|beijing }} (Beijing time, to the minute).
    app.add_template_filter(beijing_minute, "beijing")
    # The audit trail in words wherever a page shows it: {{ e|audit_action }}, {{ e|audit_actor }}.
    app.add_template_filter(lambda e: event_label(e.action), "audit_action")
    app.add_template_filter(_audit_actor, "audit_actor")
    chrome.init_app(app)  # header (bureau, environment, window), footer (version), favicon
    _complete_bodies_inside_the_request(app)
    admin = Admin(
        app,
        name="积分落户审核",
        index_view=HomeView(name=bi("首页", "Home"), url="/admin"),
        theme=Bootstrap4Theme(swatch="default", fluid=True, base_template="layout.html"),
        csp_nonce_generator=csp_nonce,  # every script and style block carries the request's CSP nonce
    )
    admin.add_view(LoginView(name="login", endpoint="login", url="/admin/login"))

    # Worklists per queue with open-count badges, and the case workspace (backoffice/cases).
    add_queue_views(admin, bi("工作队列", "Queues"), mixins={"settlement": SettlementQueueMixin})
    admin.add_view(CaseWorkspaceView(name=bi("案件办理", "Case"), endpoint="case", url="/admin/case"))

    admin.add_view(SettlementWorkspaceView(name=bi("落户办理", "Settlement"), endpoint="settlement",
                                           url="/admin/settlement"))
    # Printing notices (告知书) from the workspace (backoffice/notices).

    admin.add_view(NoticeView(name=bi("告知书", "Notices"), endpoint="notices", url="/admin/notices"))

    records = bi("申报数据", "Filings")
    # The applications' view with the latest score on its details page, and the simulator (backoffice/applications).

    admin.add_view(ApplicationScoreView(Application, name=bi("申报", "Applications"), endpoint="applications", category=records))
    admin.add_view(SimulatorView(name=bi("积分模拟计算", "Score simulator"), endpoint="simulator", url="/admin/simulator", category=records))
    admin.add_view(ApplicantView(Applicant, name=bi("申请人", "Applicants"), endpoint="applicants", category=records))
    admin.add_view(ClaimView(IndicatorClaim, name=bi("指标", "Indicator claims"), endpoint="claims", category=records))
    admin.add_view(CaseView(ReviewCase, name=bi("全部案件", "All cases"), endpoint="cases", category=records))
    admin.add_view(DecisionView(Decision, name=bi("审核决定", "Decisions"), endpoint="decisions", category=records))
    admin.add_view(EvidenceView(EvidenceFile, name=bi("凭证材料", "Evidence"), endpoint="evidence", category=records))
    admin.add_view(SnapshotView(ScoreSnapshot, name=bi("积分快照", "Score snapshots"), endpoint="snapshots", category=records))
    admin.add_view(EmployerView(Employer, name=bi("用人单位", "Employers"), endpoint="employers", category=records))

    settings_menu = bi("系统", "System")
    admin.add_view(YearView(Year, name=bi("申报年度", "Years"), endpoint="years", category=settings_menu))
    admin.add_view(DistrictView(District, name=bi("区服务窗口", "District windows"), endpoint="districts", category=settings_menu))
    admin.add_view(StaffView(Staff, name=bi("工作人员", "Staff"), endpoint="staff", category=settings_menu))
    admin.add_view(AuditView(AuditEvent, name=bi("操作日志", "Audit log"), endpoint="audit", category=settings_menu))
    admin.add_view(OutboxView(OutboxMessage, name=bi("待发任务", "Outbox"), endpoint="outbox", category=settings_menu))

    admin.add_view(JobsView(name=bi("后台任务", "Jobs"), endpoint="jobs", url="/admin/jobs", category=settings_menu))
    # The official holiday calendar (backoffice/calendar): administrators enter each year's notice.
    admin.add_view(CalendarView(OfficialDay, name=bi("节假日安排", "Holiday calendar"), endpoint="calendar",
                                url="/admin/calendar", category=settings_menu))

    # The announcement period (backoffice/announcement): published lists, tips, revocations.

    admin.add_view(AnnouncementView(name=bi("公示名单", "Published lists"), endpoint="announcement", url="/admin/announcement"))
    admin.add_view(TipWorkspaceView(name=bi("举报核查", "Tip"), endpoint="tip", url="/admin/tip"))
    admin.add_view(RevocationsView(name=bi("取消资格", "Revocations"), endpoint="revocations", url="/admin/revocations"))

    # Supervisors' turnaround dashboard (backoffice/turnaround); hidden from roles that may not see it.

    admin.add_view(TurnaroundView(name=bi("办理时效", "Turnaround"), endpoint="turnaround", url="/admin/turnaround"))

    # The year statistics (backoffice/yearstats); hidden from roles that may not see it.

    admin.add_view(YearStatisticsView(name=bi("年度统计", "Year statistics"), endpoint="yearstats", url="/admin/yearstats"))
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
