"""The settlement queue's worklist: the cases module's worklist (filters, order, district
rule) with the settlement's own columns — its stage in words and the lapse date
(落户资格保留2年) — and the case number opening the settlement workspace. City approvers
(city level) read it too: area "settlement" (staff/permissions.py)."""
from __future__ import annotations

from flask import g, url_for
from markupsafe import Markup, escape
from sqlalchemy import select

from backoffice.cases.admin import _CaseFilter
from backoffice.cases.models import ReviewCase
from backoffice.extensions import db
from backoffice.i18n import _l, data_label, is_english
from backoffice.settlement.models import STAGES, STAGES_EN, SettlementCase


def _rows(view) -> dict[int, tuple[str, object]]:
    return g.get("settlement_rows") or {}


def _number(view, context, model, name):
    href = url_for("settlement.workspace", case_id=model.id)
    return Markup(f'<a href="{escape(href)}" data-testid="case-link">{escape(model.number)}</a>')


def _kept_until(view, context, model, name):
    row = _rows(view).get(model.id)
    return row[1].isoformat() if row else ""


def _stage(view, context, model, name):
    row = _rows(view).get(model.id)
    if row is None:
        return ""
    return (STAGES_EN if is_english() else STAGES)[row[0]]


class StageFilter(_CaseFilter):
    """办理进度, e.g. ?flt_stage=sent_to_city: what waits for the city's approval."""

    url_key = "stage"

    def __init__(self):
        super().__init__(_l("办理进度"), [(code, data_label(zh, STAGES_EN[code])) for code, zh in STAGES.items()])

    def apply(self, query, value, alias=None):
        return query.filter(ReviewCase.id.in_(select(SettlementCase.case_id).where(SettlementCase.stage == value)))


class SettlementQueueMixin:
    area = "settlement"
    column_list = ("number", "applicant", "received_on", "due_date", "kept_until", "status", "assignee")

    def __init__(self, model, **kwargs):
        self.column_formatters = {**self.column_formatters, "number": _number, "kept_until": _kept_until,
                                  "status": _stage}
        self.column_formatters_export = {**self.column_formatters_export, "kept_until": _kept_until,
                                         "status": _stage}
        self.column_labels = {**self.column_labels, "kept_until": _l("落户资格保留至"),
                              "status": _l("办理进度")}
        super().__init__(model, **kwargs)

    def extra_filters(self):
        return (StageFilter(),)

    def is_action_allowed(self, name):
        # Claiming and deciding happen in the settlement workspace (stages, two levels);
        # a supervisor may still reassign from the list.
        return name == "reassign" and super().is_action_allowed(name)

    def get_list(self, page, sort_column, sort_desc, search, filters, execute=True, page_size=None):
        count, rows = super().get_list(page, sort_column, sort_desc, search, filters, execute=execute,
                                       page_size=page_size)
        if execute:
            ids = [r.id for r in rows]
            g.settlement_rows = {
                case_id: (stage, kept) for case_id, stage, kept in db.session.execute(
                    select(SettlementCase.case_id, SettlementCase.stage, SettlementCase.kept_until)
                    .where(SettlementCase.case_id.in_(ids)))
            } if ids else {}
        return count, rows
