"""Mounting Flask-Admin: theme, locale, menu, views."""
from __future__ import annotations

from flask import Flask
from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme

from backoffice.i18n import bi


def init_admin(app: Flask) -> Admin:
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
    from backoffice.applications.models import (
        Applicant,
        Application,
        EvidenceFile,
        IndicatorClaim,
        ScoreSnapshot,
    )
    from backoffice.audit.models import AuditEvent
    from backoffice.cases.models import Decision, ReviewCase
    from backoffice.outbox.models import OutboxMessage
    from backoffice.reference.models import District, Employer, Year
    from backoffice.staff.auth import LoginView
    from backoffice.cases.admin import CaseView
    from backoffice.staff.models import Staff

    admin = Admin(
        app,
        name="积分落户审核",
        index_view=HomeView(name=bi("首页", "Home"), url="/admin"),
        theme=Bootstrap4Theme(swatch="default", fluid=True, base_template="layout.html"),
    )
    admin.add_view(LoginView(name="login", endpoint="login", url="/admin/login"))

    # Worklists per queue with open-count badges, and the case workspace (backoffice/cases).
    from backoffice.cases.admin import add_queue_views
    from backoffice.cases.workspace import CaseWorkspaceView

    add_queue_views(admin, bi("工作队列", "Queues"))
    admin.add_view(CaseWorkspaceView(name=bi("案件办理", "Case"), endpoint="case", url="/admin/case"))

    # Printing notices (告知书) from the workspace (backoffice/notices).
    from backoffice.notices.views import NoticeView

    admin.add_view(NoticeView(name=bi("告知书", "Notices"), endpoint="notices", url="/admin/notices"))

    records = bi("申报数据", "Filings")
    # The applications' view with the latest score on its details page, and the simulator (backoffice/applications).
    from backoffice.applications.score_views import ApplicationScoreView, SimulatorView

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
    from backoffice.jobs.views import JobsView

    admin.add_view(JobsView(name=bi("后台任务", "Jobs"), endpoint="jobs", url="/admin/jobs", category=settings_menu))

    # Supervisors' turnaround dashboard (backoffice/turnaround); hidden from roles that may not see it.
    from backoffice.turnaround.views import TurnaroundView

    admin.add_view(TurnaroundView(name=bi("办理时效", "Turnaround"), endpoint="turnaround", url="/admin/turnaround"))

    # The year statistics (backoffice/yearstats); hidden from roles that may not see it.
    from backoffice.yearstats.views import YearStatisticsView

    admin.add_view(YearStatisticsView(name=bi("年度统计", "Year statistics"), endpoint="yearstats", url="/admin/yearstats"))
    return admin
