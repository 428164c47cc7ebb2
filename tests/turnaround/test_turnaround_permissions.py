"""Who may open the turnaround dashboard, and for which district (plain functions, no HTTP)."""
from types import SimpleNamespace

import pytest

from backoffice.staff.models import Role
from backoffice.staff.permissions import can_view_dashboard

pytestmark = pytest.mark.no_db

CHAOYANG, HAIDIAN = 3, 4


def user(role, district=None):
    return SimpleNamespace(id=1, role=Role(role), district_id=district, is_authenticated=True, is_active=True)


def test_district_supervisor_sees_own_district_only():
    sup = user("supervisor", CHAOYANG)
    assert can_view_dashboard(sup)
    assert can_view_dashboard(sup, CHAOYANG)
    verdict = can_view_dashboard(sup, HAIDIAN)
    assert not verdict and "其他区" in verdict.message


@pytest.mark.parametrize("role", ["supervisor", "administrator"])
def test_city_level_sees_every_district(role):
    assert can_view_dashboard(user(role), HAIDIAN) and can_view_dashboard(user(role), CHAOYANG)


@pytest.mark.parametrize("role,district", [("reviewer", CHAOYANG), ("investigator", None)])
def test_reviewers_and_investigators_may_not(role, district):
    verdict = can_view_dashboard(user(role, district), district)
    assert not verdict and "主管" in verdict.message


def test_signed_out_or_deactivated_may_not():
    assert not can_view_dashboard(None)
    gone = SimpleNamespace(role=Role.supervisor, district_id=None, is_authenticated=True, is_active=False)
    assert not can_view_dashboard(gone)
