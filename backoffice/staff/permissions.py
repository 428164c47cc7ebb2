"""Who may see and do what: plain functions returning a Verdict, tested without HTTP.

District rule (DESIGN.md): a district user never sees another district's applicants,
cases or files; city-level users (no district) see all districts.
"""
from __future__ import annotations

from dataclasses import dataclass

from backoffice.staff.models import Role


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    message: str = ""

    def __bool__(self) -> bool:
        return self.allowed


ALLOW = Verdict(True)


def deny(message: str) -> Verdict:
    return Verdict(False, message)


NOT_SIGNED_IN = deny("请先登录 / please sign in")
OTHER_DISTRICT = deny("无权查看其他区的数据 / this belongs to another district")

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
}


def _signed_in(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False) and user.is_active


def can_read_area(user, area: str) -> Verdict:
    if not _signed_in(user):
        return NOT_SIGNED_IN
    readers, _writers = AREAS[area]
    if user.role in readers:
        return ALLOW
    return deny(f"{user.role.label}无权查看“{AREA_LABELS[area]}” / your role may not view {area}")


def can_write_area(user, area: str) -> Verdict:
    verdict = can_read_area(user, area)
    if not verdict:
        return verdict
    _readers, writers = AREAS[area]
    if user.role in writers:
        return ALLOW
    return deny(f"{user.role.label}无权修改“{AREA_LABELS[area]}” / your role may not change {area}")


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


def scope_district_id(user) -> int | None:
    """The district every query of this user is limited to, or None for city level."""
    return user.district_id


def case_area(case) -> str:
    """Tips carry the reporter's identity: a tip case belongs to the "tips" area, not "cases"."""
    return "tips" if getattr(case, "queue", None) == "tips" else "cases"


CASE_WORKERS = frozenset({Role.reviewer, Role.supervisor})


def can_work_cases(user) -> Verdict:
    """The case workspace and its actions are for reviewers and supervisors."""
    if not _signed_in(user):
        return NOT_SIGNED_IN
    if user.role not in CASE_WORKERS:
        return deny("只有审核员和主管办理案件 / only reviewers and supervisors work cases")
    return ALLOW


def can_open_case(user, case) -> Verdict:
    """The case workspace: reviewers and supervisors of the case's district (city level: all)."""
    verdict = can_see(user, case_area(case), case.district_id)
    if not verdict:
        return verdict
    if user.role not in CASE_WORKERS:
        return deny("只有审核员和主管办理案件 / only reviewers and supervisors work cases")
    return ALLOW


def can_claim_case(user, case) -> Verdict:
    verdict = can_see(user, case_area(case), case.district_id)
    if not verdict:
        return verdict
    if user.role not in (Role.reviewer, Role.supervisor):
        return deny("只有审核员可以领取案件 / only reviewers claim cases")
    if case.assignee_id not in (None, user.id):
        return deny("该案件已由他人领取 / someone else has claimed this case")
    return ALLOW


def can_reassign(user, case) -> Verdict:
    verdict = can_see(user, case_area(case), case.district_id)
    if not verdict:
        return verdict
    if user.role != Role.supervisor:
        return deny("只有主管可以改派案件 / only supervisors reassign cases")
    return ALLOW


def can_release_case(user, case) -> Verdict:
    """Only the assignee hands a case back to the queue; supervisors reassign instead."""
    verdict = can_see(user, case_area(case), case.district_id)
    if not verdict:
        return verdict
    if case.assignee_id != user.id:
        return deny("只有承办人可以退回队列 / only the assignee may release the case")
    return ALLOW


def can_be_assigned(staff, case) -> Verdict:
    """Who a supervisor may hand a case to: an active reviewer or supervisor who may see it."""
    if staff is None or not getattr(staff, "is_active", False):
        return deny("该人员账户已停用 / that account is not active")
    if staff.role not in CASE_WORKERS:
        return deny(f"{staff.role.label}不办理案件 / {staff.role.value} does not work cases")
    if not can_see_district(staff, case.district_id):
        return deny(f"{staff.full_name}不属于该案件所在区 / {staff.username} works another district")
    return ALLOW


def can_decide(user, case) -> Verdict:
    verdict = can_see(user, case_area(case), case.district_id)
    if not verdict:
        return verdict
    if case.assignee_id != user.id:
        return deny("只有承办人可以作出决定 / only the assignee may decide")
    return ALLOW


def can_countersign(user, decision) -> Verdict:
    """Four eyes: a supervisor who is not the one who decided."""
    verdict = can_see(user, case_area(decision.case), decision.case.district_id)
    if not verdict:
        return verdict
    if user.role != Role.supervisor:
        return deny("只有主管可以复核签字 / only supervisors countersign")
    if decision.decided_by_id == user.id:
        return deny("不能复核自己作出的决定 / you cannot countersign your own decision")
    return ALLOW


DASHBOARD_ROLES = frozenset({Role.supervisor, Role.administrator})


def can_view_dashboard(user, district_id: int | None = None) -> Verdict:
    """The turnaround dashboard: supervisors (and administrators, city level) — of their own
    district only when they belong to one. `district_id`: a district asked for in the URL."""
    if not _signed_in(user):
        return NOT_SIGNED_IN
    if user.role not in DASHBOARD_ROLES:
        return deny(f"{user.role.label}无权查看办理时效看板（仅限主管） / only supervisors view the turnaround dashboard")
    if district_id is not None:
        return can_see_district(user, district_id)
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
        return deny(f"{user.role.label}无权查看年度统计 / your role may not view the year statistics")
    if district_id is not None:
        return can_see_district(user, district_id)
    return ALLOW
