"""Who may see and do what: plain functions returning a Verdict, tested without HTTP.

District rule (DESIGN.md): a district user never sees another district's applicants,
cases or files; city-level users (no district) see all districts.
"""
from __future__ import annotations

from dataclasses import dataclass

from backoffice.staff.models import Role
from backoffice.i18n import _, _l, lazy_pgettext


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    message: str = ""

    def __bool__(self) -> bool:
        return self.allowed


ALLOW = Verdict(True)


def deny(message: str) -> Verdict:
    return Verdict(False, message)


NOT_SIGNED_IN = deny(lazy_pgettext("Please sign in", "请先登录"))
OTHER_DISTRICT = deny(_l("无权查看其他区的数据"))

# Areas of the back office and the roles that may read / change them.
# Tips carry the reporter's identity, which only investigators may see (第五篇 一、2 “严格为举报人保密”).
AREAS: dict[str, tuple[frozenset[Role], frozenset[Role]]] = {
    # area: (read roles, write roles)
    "reference": (frozenset(Role), frozenset({Role.administrator})),
    "employers": (frozenset(Role), frozenset({Role.administrator})),
    "applicants": (frozenset(Role), frozenset()),
    "applications": (frozenset(Role), frozenset()),
    "claims": (frozenset({Role.reviewer, Role.supervisor, Role.administrator}), frozenset()),
    "cases": (frozenset({Role.reviewer, Role.supervisor, Role.administrator}), frozenset()),
    "decisions": (frozenset({Role.reviewer, Role.supervisor, Role.administrator}), frozenset()),
    "evidence": (frozenset({Role.reviewer, Role.supervisor, Role.administrator}), frozenset()),
    "snapshots": (frozenset(Role), frozenset()),
    "staff": (frozenset({Role.administrator}), frozenset({Role.administrator})),
    "audit": (frozenset({Role.supervisor, Role.administrator}), frozenset()),
    "outbox": (frozenset({Role.administrator}), frozenset()),
    # The RQ jobs page: queue counts, failed jobs with tracebacks, the retry button.
    "jobs": (frozenset({Role.administrator}), frozenset({Role.administrator})),
    "tips": (frozenset({Role.investigator}), frozenset({Role.investigator})),
    # The official holiday calendar (节假日安排): every deadline depends on it; the city's
    # administrators enter each year's State Council notice.
    "calendar": (frozenset({Role.supervisor, Role.administrator}), frozenset({Role.administrator})),
    # Settlement (第五篇 二): districts review, the city approves; changes go through services only.
    "settlement": (frozenset({Role.reviewer, Role.supervisor, Role.administrator, Role.city_approver}), frozenset()),
    # The published list (公示) is public: every role reads it; city administrators publish.
    "announcement": (frozenset(Role), frozenset({Role.administrator})),
    # Revocations, bars and referrals: investigators propose, city supervisors confirm.
    "revocations": (frozenset({Role.investigator, Role.supervisor, Role.administrator}),
                    frozenset({Role.investigator, Role.supervisor})),
}

AREA_LABELS = {
    "reference": "基础数据",
    "employers": "用人单位",
    "applicants": "申请人",
    "applications": "申报",
    "claims": "指标",
    "cases": "案件",
    "decisions": "审核决定",
    "evidence": "凭证材料",
    "snapshots": "积分快照",
    "staff": "工作人员账户",
    "audit": "操作日志",
    "outbox": "待发任务",
    "jobs": "后台任务",
    "tips": "举报",
    "calendar": "节假日安排",
    "settlement": "落户办理",
    "announcement": "公示名单",
    "revocations": "取消资格",
}


def _signed_in(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False) and user.is_active


def can_read_area(user, area: str) -> Verdict:
    if not _signed_in(user):
        return NOT_SIGNED_IN
    readers, _writers = AREAS[area]
    if user.role in readers:
        return ALLOW
    return deny(_("%(label)s无权查看“%(area_labels_area)s”",
                  label=user.role.label,
                  area_labels_area=AREA_LABELS[area]))


def can_write_area(user, area: str) -> Verdict:
    verdict = can_read_area(user, area)
    if not verdict:
        return verdict
    _readers, writers = AREAS[area]
    if user.role in writers:
        return ALLOW
    return deny(_("%(label)s无权修改“%(area_labels_area)s”",
                  label=user.role.label,
                  area_labels_area=AREA_LABELS[area]))


def can_see_district(user, district_id: int | None) -> Verdict:
    """District users see their own district only; city-level users see every district."""
    if not _signed_in(user):
        return NOT_SIGNED_IN
    if user.district_id is None:
        return ALLOW
    if district_id is not None and district_id == user.district_id:
        return ALLOW
    return OTHER_DISTRICT


def can_see(user, area: str, district_id: int | None) -> Verdict:
    """An object of `area` owned by `district_id`."""
    verdict = can_read_area(user, area)
    return verdict if not verdict else can_see_district(user, district_id)


def case_area(case) -> str:
    """Tips carry the reporter's identity: a tip case belongs to the "tips" area, not "cases"."""
    return "tips" if getattr(case, "queue", None) == "tips" else "cases"


CASE_WORKERS = frozenset({Role.reviewer, Role.supervisor})


def can_work_cases(user) -> Verdict:
    """The case workspace and its actions are for reviewers and supervisors."""
    if not _signed_in(user):
        return NOT_SIGNED_IN
    if user.role not in CASE_WORKERS:
        return deny(_("只有审核员和主管办理案件"))
    return ALLOW


def can_open_case(user, case) -> Verdict:
    """The case workspace: reviewers and supervisors of the case's district (city level: all)."""
    verdict = can_see(user, case_area(case), case.district_id)
    if not verdict:
        return verdict
    if user.role not in CASE_WORKERS:
        return deny(_("只有审核员和主管办理案件"))
    return ALLOW


def can_claim_case(user, case) -> Verdict:
    verdict = can_see(user, case_area(case), case.district_id)
    if not verdict:
        return verdict
    if user.role not in CASE_WORKERS:
        return deny(_("只有审核员和主管可以领取案件"))
    if case.assignee_id not in (None, user.id):
        return deny(_("该案件已由他人领取"))
    return ALLOW


def can_reassign(user, case) -> Verdict:
    verdict = can_see(user, case_area(case), case.district_id)
    if not verdict:
        return verdict
    if user.role != Role.supervisor:
        return deny(_("只有主管可以改派案件"))
    return ALLOW


def can_reassign_cases(user) -> Verdict:
    """The reassign forms (bulk, and the dashboard's): supervisors only; each case is then
    checked with `can_reassign`."""
    if not _signed_in(user):
        return NOT_SIGNED_IN
    if user.role != Role.supervisor:
        return deny(_("只有主管可以改派案件"))
    return ALLOW


# The worklists' bulk actions and who may use them; each case is then checked by its own rule.
BULK_ACTIONS: dict[str, frozenset[Role]] = {
    "claim": CASE_WORKERS,
    "decide": CASE_WORKERS,
    "reassign": frozenset({Role.supervisor}),
}


def can_bulk_act(user, action: str, queue: str | None = None) -> Verdict:
    """A worklist's bulk action (claim, decide, reassign) for this user on `queue`'s list.
    Tips are investigators' own work, one at a time: no bulk actions on their queue."""
    if not _signed_in(user):
        return NOT_SIGNED_IN
    if queue == "tips":
        return deny(_("举报线索不能批量处理"))
    if user.role not in BULK_ACTIONS[action]:
        if action == "reassign":
            return deny(_("只有主管可以改派案件"))
        return deny(_("只有审核员和主管办理案件"))
    return ALLOW


def can_release_case(user, case) -> Verdict:
    """Only the assignee hands a case back to the queue; supervisors reassign instead."""
    verdict = can_see(user, case_area(case), case.district_id)
    if not verdict:
        return verdict
    if case.assignee_id != user.id:
        return deny(_("只有承办人可以退回队列"))
    return ALLOW


def can_be_assigned(staff, case) -> Verdict:
    """Who a supervisor may hand a case to: an active reviewer or supervisor who may see it."""
    if staff is None or not getattr(staff, "is_active", False):
        return deny(_("该人员账户已停用"))
    if staff.role not in CASE_WORKERS:
        return deny(_("%(label)s不办理案件", label=staff.role.label))
    if not can_see_district(staff, case.district_id):
        return deny(_("%(full_name)s不属于该案件所在区", full_name=staff.full_name))
    return ALLOW


def can_decide(user, case) -> Verdict:
    verdict = can_see(user, case_area(case), case.district_id)
    if not verdict:
        return verdict
    if case.assignee_id != user.id:
        return deny(_("只有承办人可以作出决定"))
    return ALLOW


def can_countersign(user, decision) -> Verdict:
    """Four eyes: a supervisor who is not the one who decided."""
    verdict = can_see(user, case_area(decision.case), decision.case.district_id)
    if not verdict:
        return verdict
    if user.role != Role.supervisor:
        return deny(_("只有主管可以复核签字"))
    if decision.decided_by_id == user.id:
        return deny(_("不能复核自己作出的决定"))
    return ALLOW


DASHBOARD_ROLES = frozenset({Role.supervisor, Role.administrator})


def can_view_dashboard(user, district_id: int | None = None) -> Verdict:
    """The turnaround dashboard: supervisors (and administrators, city level) — of their own
    district only when they belong to one. `district_id`: a district asked for in the URL."""
    if not _signed_in(user):
        return NOT_SIGNED_IN
    if user.role not in DASHBOARD_ROLES:
        return deny(_("%(label)s无权查看办理时效看板（仅限主管）", label=user.role.label))
    if district_id is not None:
        return can_see_district(user, district_id)
    return ALLOW


def can_view_calendar(user) -> Verdict:
    """The official calendar's page: supervisors and administrators."""
    return can_read_area(user, "calendar")


def can_edit_calendar(user) -> Verdict:
    """Entering or correcting the official calendar moves open cases' due dates: the city's
    administrators only (administrators are always city level, staff/models.py)."""
    return can_write_area(user, "calendar")


# Settlement (第五篇 二 3: "上述材料经区指定部门审核无误后报市人力资源社会保障局核准") ----------------
SETTLEMENT_WORKERS = frozenset({Role.reviewer, Role.supervisor, Role.city_approver})
CITY_APPROVERS = frozenset({Role.city_approver, Role.supervisor})


def can_work_settlement(user) -> Verdict:
    """The settlement workspace: the district's reviewers and supervisors, and the city's approvers."""
    if not _signed_in(user):
        return NOT_SIGNED_IN
    if user.role not in SETTLEMENT_WORKERS:
        return deny(_("%(label)s不办理落户案件", label=user.role.label))
    return ALLOW


def can_open_settlement(user, case) -> Verdict:
    """A settlement case: its district's reviewers and supervisors; city approvers (city level) all."""
    verdict = can_work_settlement(user)
    if not verdict:
        return verdict
    return can_see(user, "settlement", case.district_id)


def can_review_settlement(user, case) -> Verdict:
    """The district's review (send up to the city, or return for materials): the assignee,
    a reviewer or supervisor who may see the case's district."""
    verdict = can_see(user, "settlement", case.district_id)
    if not verdict:
        return verdict
    if user.role not in CASE_WORKERS:
        return deny(_("只有区指定部门的审核员办理落户材料审核"))
    if case.assignee_id != user.id:
        return deny(_("只有承办人可以审核并报送"))
    return ALLOW


def can_approve_settlement(user, settlement) -> Verdict:
    """The city's approval (核准) or return: a city-level approver (市人力资源社会保障局: a city
    approver or a city-level supervisor), never on a case they reviewed themselves."""
    if not _signed_in(user):
        return NOT_SIGNED_IN
    if user.role not in CITY_APPROVERS or user.district_id is not None:
        return deny(_("只有市人力资源社会保障局的核准人员可以核准"))
    if user.id in settlement.reviewer_ids:
        return deny(_("不能核准自己审核的案件"))
    return ALLOW


# The announcement period (backoffice/announcement) ------------------------------------------

def can_publish_list(user) -> Verdict:
    """Publishing a year's list: city-level administrators."""
    verdict = can_write_area(user, "announcement")
    if not verdict:
        return verdict
    if user.district_id is not None:
        return deny(_("只有市级管理员可以公示名单"))
    return ALLOW


def _city_supervisor(user) -> bool:
    return user.role == Role.supervisor and user.district_id is None


def can_view_tip(user, case=None) -> Verdict:
    """The tip workspace: investigators work tips; city supervisors open them to countersign
    (without the reporter's identity, see can_see_reporter)."""
    if not _signed_in(user):
        return NOT_SIGNED_IN
    if user.role == Role.investigator or _city_supervisor(user):
        return ALLOW
    return deny(_("只有市级举报核查员和市级主管办理举报"))


def can_see_reporter(user) -> Verdict:
    """第五篇 一、2: “严格为举报人保密” — the reporter's identity is for investigators alone."""
    if not _signed_in(user):
        return NOT_SIGNED_IN
    if user.role == Role.investigator:
        return ALLOW
    return deny(_("举报人信息已保密"))


def can_work_tip(user, case) -> Verdict:
    """Claim, record findings, close: investigators; once claimed, only the assignee."""
    if not _signed_in(user):
        return NOT_SIGNED_IN
    if user.role != Role.investigator:
        return deny(_("只有举报核查员可以办理举报"))
    if case is not None and case.assignee_id not in (None, user.id):
        return deny(_("该举报已由他人领取"))
    return ALLOW


def can_countersign_tip(user, decided_by_id: int) -> Verdict:
    """A score correction from a tip: a second investigator or a city supervisor, never the one who decided."""
    if not _signed_in(user):
        return NOT_SIGNED_IN
    if user.role != Role.investigator and not _city_supervisor(user):
        return deny(_("只有另一名举报核查员或市级主管可以复核"))
    if user.id == decided_by_id:
        return deny(_("不能复核自己作出的决定"))
    return ALLOW


def can_propose_revocation(user) -> Verdict:
    if not _signed_in(user):
        return NOT_SIGNED_IN
    if user.role != Role.investigator:
        return deny(_("只有举报核查员可以提出取消资格"))
    return ALLOW


def can_confirm_revocation(user, revocation) -> Verdict:
    """Four eyes: a city supervisor who did not propose it."""
    if not _signed_in(user):
        return NOT_SIGNED_IN
    if not _city_supervisor(user):
        return deny(_("只有市级主管可以确认取消资格"))
    if revocation.proposed_by_id == user.id:
        return deny(_("不能确认自己提出的取消资格"))
    return ALLOW


def can_print_notice(user, notice) -> Verdict:
    """A notice (告知书) is printed at the window from the case workspace: whoever may open
    the case (its district's reviewers and supervisors; city level: all)."""
    return can_open_case(user, notice.case)


STATISTICS_ROLES = frozenset({Role.supervisor, Role.administrator})


def can_view_statistics(user, district_id: int | None = None) -> Verdict:
    """The year statistics: supervisors and administrators; a district's staff see their own
    district's figures only, city-level users the city's or any one district's.
    `district_id`: a district asked for in the URL."""
    if not _signed_in(user):
        return NOT_SIGNED_IN
    if user.role not in STATISTICS_ROLES:
        return deny(_("%(label)s无权查看年度统计", label=user.role.label))
    if district_id is not None:
        return can_see_district(user, district_id)
    return ALLOW
