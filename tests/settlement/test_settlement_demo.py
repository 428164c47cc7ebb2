"""The demo's settlement queue: qualified applicants only, with children, both housing
routes, one lapsed case, the same case-number shape as every queue."""
from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select

from backoffice.cases.models import ReviewCase
from backoffice.demo import seed
from backoffice.extensions import db
from backoffice.settlement.models import SettlementCase


def test_demo_settlement_cases_are_for_qualified_applicants_with_children_both_routes_and_one_lapse(app):
    with app.app_context():
        seed(applicants=30, today=date(2026, 9, 1))
        cases = db.session.scalars(select(SettlementCase)).all()
        assert cases
        queue = db.session.scalars(select(ReviewCase).where(ReviewCase.queue == "settlement")).all()
        assert {c.id for c in queue} == {s.case_id for s in cases}  # no settlement case without its submission row
        assert all(s.application.qualified_at is not None and s.application.admitted for s in cases)
        assert any(s.children for s in cases)
        assert {"own_home", "collective"} <= {s.place for s in cases}
        assert [s.stage for s in cases].count("lapsed") == 1
        assert {"received", "sent_to_city", "approved"} <= {s.stage for s in cases}
        for case in queue:
            assert re.fullmatch(r"\d{4}-\d{6}-\d{6}", case.number), case.number
        # Every other queue's numbers have the same shape.
        other = db.session.scalars(select(ReviewCase.number).where(ReviewCase.queue != "settlement")).all()
        assert other and all(re.fullmatch(r"\d{4}-\d{6}-\d{6}", n) for n in other)
