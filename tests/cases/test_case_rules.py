"""The permission rules the case services add, as plain functions."""
from types import SimpleNamespace

import pytest

from backoffice.staff.models import Role
from backoffice.staff.permissions import can_be_assigned, can_claim_case, can_open_case, can_release_case, case_area

pytestmark = pytest.mark.no_db

CHAOYANG, HAIDIAN = 3, 4


def user(role, district=None, id=1, active=True):
    return SimpleNamespace(id=id, role=Role(role), district_id=district, is_authenticated=True, is_active=active,
                           full_name=f"{role}{id}", username=f"{role}{id}")


def case(queue="housing", district=CHAOYANG, assignee=None):
    return SimpleNamespace(queue=queue, district_id=district, assignee_id=assignee)


def test_reviewers_and_supervisors_of_the_district_open_cases():
    assert can_open_case(user("reviewer", CHAOYANG), case())
    assert can_open_case(user("supervisor", None), case())
    assert not can_open_case(user("reviewer", HAIDIAN), case())
    for role in ("administrator", "investigator"):
        assert not can_open_case(user(role), case())


def test_a_tip_is_not_a_case_for_reviewers():
    tip = case(queue="tips")
    assert case_area(tip) == "tips"
    assert not can_open_case(user("reviewer", CHAOYANG), tip)
    assert not can_claim_case(user("reviewer", CHAOYANG), tip)


def test_only_the_assignee_releases():
    mine = case(assignee=7)
    assert can_release_case(user("reviewer", CHAOYANG, id=7), mine)
    assert not can_release_case(user("reviewer", CHAOYANG, id=8), mine)
    assert not can_release_case(user("supervisor", CHAOYANG, id=9), mine)


def test_who_a_case_may_be_given_to():
    assert can_be_assigned(user("reviewer", CHAOYANG), case())
    assert can_be_assigned(user("supervisor", None), case())
    assert not can_be_assigned(user("reviewer", HAIDIAN), case())
    assert not can_be_assigned(user("reviewer", CHAOYANG, active=False), case())
    assert not can_be_assigned(user("administrator"), case())
    assert not can_be_assigned(None, case())
