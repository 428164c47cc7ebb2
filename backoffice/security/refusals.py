"""Refused cross-district attempts are audited (issue 15 §3).

A view that answers 404 (or 403) because the row belongs to another district calls
``record_refusal``. The request then rolls back — it failed — so the refusal is kept aside
and written by the app's commit hook after the rollback, in a transaction of its own
(app.py ``_install_request_transaction`` calls ``write_refusals``). The event is city level
(district None): it names another district's row, which the refused district may not see.
"""
from __future__ import annotations

from flask import g
from backoffice.audit.services import record


def record_refusal(object_type: str, object_id, *, target_district_id: int | None, status: int = 404) -> None:
    g.setdefault("_refusals", []).append(
        {"object_type": object_type, "object_id": object_id, "target_district_id": target_district_id,
         "status": status}
    )


def write_refusals() -> bool:
    """Record the refusals of this request; True when there were any (the caller commits)."""
    pending = g.pop("_refusals", None)
    if not pending:
        return False
    from flask import request
    from flask_login import current_user


    actor_district = getattr(current_user, "district_id", None) if current_user.is_authenticated else None
    for item in pending:
        record("access.refused_other_district", item["object_type"], item["object_id"], district_id=None,
               after={"path": request.path[:300], "answered": item["status"],
                      "actor_district_id": actor_district, "target_district_id": item["target_district_id"]})
    return True
