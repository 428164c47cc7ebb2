"""The settlement endpoints of the intake API (/api/v1), on the intake blueprint:

* ``POST /applications/{id}/settlement`` — the online system submits (or, after a return,
  resubmits) the applicant's 调京信息: multipart, the chosen place of settlement, the
  accompanying children (a JSON list in the ``children`` field) and one PDF per material
  slot; only for a qualified, unrevoked application within its two years (409 in words);
* ``POST /applications/{id}/settlement/abandon`` — the applicant gives up (自行放弃);
* ``GET /applications/{id}/settlement`` — the progress (查看调京进度).

Imported by intake/api.py's init_api before the blueprint is registered.
"""
from __future__ import annotations

import json


from backoffice.cases.intake import Upload
from backoffice.intake.api import (
    ApiError,
    _application,
    bp,
    client_label,
    idempotent,
    read_multipart,
    scoped,
    today,
)
from backoffice.intake.schema import FieldError
from backoffice.settlement import services
from verifiers import settlement as rules

SLOTS = rules.all_slots()
TEXT_FIELDS = ("place", "place_address", "place_certificate_no", "family_owns_home", "has_archive", "agent_name",
               "agent_id_number", "children")
_BOOL = {"true": True, "false": False, "1": True, "0": False, "是": True, "否": False}
_READ = ("settlement:write", "cases:read")


def _fields_error(errors):
    return ApiError(422, "fields", "有字段不符合要求。", "Some fields are not valid.", errors)


def _form() -> tuple[services.Submission, dict[str, Upload]]:
    fields, files, errors = read_multipart(TEXT_FIELDS, SLOTS)
    if "place" not in fields:
        errors.append(FieldError("place", "required", "请选择落户地", "place is required"))
    flags = {}
    for key, default in (("family_owns_home", False), ("has_archive", True)):
        raw = fields.get(key)
        if raw is None:
            flags[key] = default
        elif raw.strip().lower() in _BOOL:
            flags[key] = _BOOL[raw.strip().lower()]
        else:
            errors.append(FieldError(key, "boolean", "应为true或false", "true or false"))
    children = []
    if fields.get("children"):
        try:
            children = json.loads(fields["children"])
        except ValueError:
            errors.append(FieldError("children", "json", "随迁子女应为JSON列表", "children is a JSON list"))
    if errors:
        raise _fields_error(errors)
    if not isinstance(children, list):
        raise _fields_error([FieldError("children", "json", "随迁子女应为JSON列表", "children is a JSON list")])
    submission = services.Submission(
        place=fields["place"], place_address=fields.get("place_address"),
        place_certificate_no=fields.get("place_certificate_no"), family_owns_home=flags["family_owns_home"],
        has_archive=flags["has_archive"], agent_name=fields.get("agent_name"),
        agent_id_number=fields.get("agent_id_number"), children=tuple(children),
    )
    return submission, files


def _progress_or_404(application):
    s = services.settlement_of(application)
    if s is None:
        raise ApiError(404, "settlement.none", "该申请尚无落户办理案件（取得积分落户资格后开始）。",
                       "This application has no settlement case (it starts with the qualification).")
    return services.progress(s)


@bp.post("/applications/<int:application_id>/settlement")
@scoped("settlement:write")
@idempotent
def submit_settlement(application_id: int):
    application = _application(application_id)
    submission, files = _form()
    existed = services.settlement_of(application) is not None and services.settlement_of(application).submitted_at
    s = services.submit(application, submission, files, today=today(), actor_label=client_label())
    return services.progress(s), (200 if existed else 201)


@bp.post("/applications/<int:application_id>/settlement/abandon")
@scoped("settlement:write")
@idempotent
def abandon_settlement(application_id: int):
    application = _application(application_id)
    s = services.abandon(application, today=today(), actor_label=client_label())
    return services.progress(s)


@bp.get("/applications/<int:application_id>/settlement")
@scoped(*_READ)
def get_settlement(application_id: int):
    return _progress_or_404(_application(application_id))
