"""The one place admin views apply the permission rules.

`PermissionMixin.is_accessible` applies a view's rule (by default the area rule of
staff/permissions.AREAS; a view may name another rule function) and answers 403 with
the rule's message, or sends an anonymous user to sign in. Custom pages derive from
`ProtectedView`; model views from `ScopedModelView`, which names how its rows reach a
district (`district_scope`) and applies the district rule in `get_query`,
`get_count_query` and `get_one`, so lists, exports, details, edits, deletes, bulk
actions and guessed ids all go through the same filter.
"""
from __future__ import annotations

from flask import abort, g, redirect, request, url_for
from flask_admin import BaseView
from flask_admin.contrib.sqla import ModelView
from flask_login import current_user
from sqlalchemy import select

from backoffice.applications.models import Application
from backoffice.audit.services import record
from backoffice.extensions import db
from backoffice.staff.permissions import Verdict, can_read_area, can_write_area


class PermissionMixin:
    """is_accessible for every admin view: one rule function, its message on refusal."""

    area: str = "reference"

    def access_rule(self, user) -> Verdict:
        return can_read_area(user, self.area)

    def is_accessible(self) -> bool:
        verdict = self.access_rule(current_user)
        if not verdict:
            g.permission_message = verdict.message
        return verdict.allowed

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("login.index", next=request.full_path))
        abort(403, description=g.get("permission_message"))


class ProtectedView(PermissionMixin, BaseView):
    """A custom admin page (workspace, dashboard, simulator, jobs) under the same rules."""


class ScopedModelView(PermissionMixin, ModelView):
    # "self": the model has district_id; a callable (user_district_id) -> SQL clause;
    # None: not district-owned (reference data visible to every reader of the area).
    district_scope = "self"

    can_view_details = True
    can_export = True
    export_types = ["csv"]
    page_size = 50
    can_set_page_size = True
    # Flask-Admin counts every matching row on each page; keep it, lists are district-sized.
    # Generic forms never write district-owned data: services and custom views do.
    writable = False

    def __init__(self, model, **kwargs):
        super().__init__(model, db, **kwargs)

    def _can_write(self) -> bool:
        return self.writable and bool(can_write_area(current_user, self.area))

    @property
    def can_create(self):  # type: ignore[override]
        return self._can_write()

    @property
    def can_edit(self):  # type: ignore[override]
        return self._can_write()

    @property
    def can_delete(self):  # type: ignore[override]
        return self._can_write()

    # District rule -----------------------------------------------------------------
    def district_clause(self, district_id: int):
        if self.district_scope == "self":
            return self.model.district_id == district_id
        return self.district_scope(district_id)

    def _scoped(self, query):
        if self.district_scope is None or not current_user.is_authenticated:
            return query
        district_id = current_user.district_id
        if district_id is None:
            return query
        return query.filter(self.district_clause(district_id))

    def get_query(self):
        return self._scoped(super().get_query())

    def get_count_query(self):
        return self._scoped(super().get_count_query())

    def get_one(self, id):
        pk = self._primary_key
        try:
            key = int(id)
        except (TypeError, ValueError):
            return None
        return self.get_query().filter(getattr(self.model, pk) == key).one_or_none()

    # Generic writes (administrators' reference data) are audited in the same commit:
    # Flask-Admin calls these hooks before it commits the change.
    def on_model_change(self, form, model, is_created):
        db.session.flush()
        record(
            "admin.created" if is_created else "admin.changed",
            self.model.__tablename__,
            getattr(model, self._primary_key),
            district_id=getattr(model, "district_id", None),
            after={k: str(v) for k, v in (form.data or {}).items() if "password" not in k and k != "csrf_token"},
        )

    def on_model_delete(self, model):
        record(
            "admin.deleted",
            self.model.__tablename__,
            getattr(model, self._primary_key),
            district_id=getattr(model, "district_id", None),
        )


def via_application(district_id_column):
    """Scope rows that reach a district through their application."""
    def clause(district_id):
        return district_id_column.in_(
            select(Application.id).where(Application.district_id == district_id)
        )

    return clause
