"""Indexes the year statistics need on other modules' tables (declared here, beside the
queries that use them, so the tables' own modules stay as they are)."""
from __future__ import annotations

from sqlalchemy import Index, text

from backoffice.applications.models import IndicatorClaim

# Invalid registry results by indicator and reason (figures.invalid_table): an index-only scan
# of the year's invalid claims (~8 % of its claims), not of every year's, nor a sequential scan
# of every claim's wide row; the application id last, for a district's join.
Index(
    "ix_indicator_claims_invalid",
    IndicatorClaim.year, IndicatorClaim.indicator, IndicatorClaim.registry_reason, IndicatorClaim.application_id,
    sqlite_where=text("registry_status = 'invalid'"),
    postgresql_where=text("registry_status = 'invalid'"),
)
