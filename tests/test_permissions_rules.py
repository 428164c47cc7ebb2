"""Permission rules as plain functions, without HTTP."""
from types import SimpleNamespace

import pytest

from backoffice.staff.models import Role
from backoffice.staff.permissions import (
    AREAS,
    can_bulk_act,
    can_claim_case,
    can_countersign,
    can_decide,
    can_read_area,
    can_reassign,
    can_reassign_cases,
    can_see,
    can_see_district,
)

pytestmark = pytest.mark.no_db

CHAOYANG, HAIDIAN = 3, 4


def user(role, district=None, id=1):
    return SimpleNamespace(id=id, role=Role(role), district_id=district, is_authenticated=True, is_active=True)


def test_district_user_sees_only_own_district():
    reviewer = user("reviewer", CHAOYANG)
    assert can_see_district(reviewer, CHAOYANG)
    verdict = can_see_district(reviewer, HAIDIAN)
    assert not verdict and "其他区" in verdict.message
    assert not can_see_district(reviewer, None)


def test_city_level_users_see_every_district():
    for role in ("supervisor", "investigator", "administrator"):
        assert can_see_district(user(role, None), HAIDIAN)


def test_anonymous_and_inactive_are_refused():
    anonymous = SimpleNamespace(is_authenticated=False, is_active=False)
    assert not can_read_area(anonymous, "cases")
    inactive = user("administrator")
    inactive.is_active = False
    assert not can_read_area(inactive, "reference")


def test_tips_only_for_investigators():
    assert can_read_area(user("investigator"), "tips")
    for role in ("reviewer", "supervisor", "administrator"):
        assert not can_read_area(user(role, CHAOYANG if role != "administrator" else None), "tips")


def test_staff_accounts_only_for_administrators():
    assert can_read_area(user("administrator"), "staff")
    assert not can_read_area(user("supervisor", CHAOYANG), "staff")


def test_every_area_has_a_reader():
    assert all(readers for readers, _ in AREAS.values())


def test_case_rules():
    case = SimpleNamespace(district_id=CHAOYANG, assignee_id=None)
    me = user("reviewer", CHAOYANG, id=7)
    assert can_claim_case(me, case)
    assert not can_claim_case(user("reviewer", HAIDIAN, id=8), case)
    assert not can_decide(me, case), "only the assignee decides"
    case.assignee_id = 7
    assert can_decide(me, case)
    assert not can_claim_case(user("reviewer", CHAOYANG, id=9), case)
    assert not can_reassign(me, case)
    assert can_reassign(user("supervisor", CHAOYANG), case)
    assert not can_reassign(user("supervisor", HAIDIAN), case)


def test_who_claims_is_what_the_message_says():
    case = SimpleNamespace(district_id=CHAOYANG, assignee_id=None, queue="housing")
    # Reviewers and supervisors of the district claim; the refusal names both roles.
    assert can_claim_case(user("reviewer", CHAOYANG), case)
    assert can_claim_case(user("supervisor", CHAOYANG), case)
    refused = can_claim_case(user("administrator"), case)
    assert not refused and refused.message == "只有审核员和主管可以领取案件"  # Chinese outside a request


def test_bulk_actions_on_the_worklists():
    reviewer, supervisor = user("reviewer", CHAOYANG), user("supervisor", CHAOYANG)
    assert can_bulk_act(reviewer, "claim", "housing") and can_bulk_act(reviewer, "decide", "housing")
    assert not can_bulk_act(reviewer, "reassign", "housing")
    assert can_bulk_act(supervisor, "reassign", "housing") and can_bulk_act(supervisor, "reassign", None)
    assert not can_bulk_act(user("administrator"), "claim", None)
    assert not can_bulk_act(user("investigator"), "claim", "tips")
    assert not can_bulk_act(supervisor, "claim", "tips"), "tips are worked one at a time"
    assert not can_reassign_cases(reviewer) and can_reassign_cases(supervisor)
    assert can_reassign_cases(reviewer).message == "只有主管可以改派案件"


def test_four_eyes():
    decision = SimpleNamespace(decided_by_id=5, case=SimpleNamespace(district_id=CHAOYANG))
    assert can_countersign(user("supervisor", CHAOYANG, id=6), decision)
    assert not can_countersign(user("supervisor", CHAOYANG, id=5), decision)
    assert not can_countersign(user("reviewer", CHAOYANG, id=6), decision)
    assert not can_see(user("supervisor", HAIDIAN, id=6), "cases", CHAOYANG)
