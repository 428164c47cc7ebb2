"""Eligibility and employer operations of the intake API (/api/v1, the intake blueprint).

* ``POST /employers`` — 单位注册 of a Beijing, tax-registered unit, else the handbook's prompt;
  ``PUT /employers/{uscc}/contact`` (contact changes, any time) and ``POST …/filings`` (备案);
* ``PUT /applications/{id}/employer-link`` — the employer's 通过 / 不通过 (with 处理意见);
* ``GET /applications/{id}/eligibility`` — the four conditions' stored result;
* ``POST /eligibility/objections`` — 资格异议 of a refused applicant: the application is kept
  (refused, not submittable) and a case opens in the district's eligibility queue.
"""
from __future__ import annotations

from sqlalchemy import select

from backoffice.eligibility import services
from backoffice.eligibility.models import LINK_STATUS_LABELS, EmployerFiling
from backoffice.extensions import db
from backoffice.intake import services as intake_services
from backoffice.intake.api import (
    _READ,
    ApiError,
    _application,
    _iso,
    bp,
    case_out,
    client_label,
    idempotent,
    json_body,
    scoped,
    today,
)
from backoffice.intake.schema import FieldError
from backoffice.reference.models import Employer
from verifiers.identifiers import uscc_problem
from backoffice.cases.intake import Upload
from backoffice.eligibility.services import submit_licence


def _employer(uscc: str) -> Employer:
    found = db.session.scalar(select(Employer).where(Employer.uscc == uscc.upper()))
    if found is None:
        raise ApiError(404, "not_found", "未找到该用人单位。", "No such employer.")
    return found


def employer_out(employer: Employer) -> dict:
    filings = db.session.scalars(select(EmployerFiling).where(EmployerFiling.employer_id == employer.id)
                                 .order_by(EmployerFiling.id)).all()
    return {"uscc": employer.uscc, "name": employer.name,
            "district": {"code": employer.district.code, "name": employer.district.name},
            "contact": services.current_contact(employer),
            "filings": [{"kind": f.kind, "before": f.before, "after": f.after, "note": f.note,
                         "filed_at": _iso(f.filed_at)} for f in filings]}


def link_out(link) -> dict:
    return {"application_id": link.application_id, "status": link.status.value,
            "status_zh": LINK_STATUS_LABELS[link.status], "opinion": link.opinion, "decided_at": _iso(link.decided_at)}


@bp.post("/employers")
@scoped("applications:write")
@idempotent
def register_employer():
    data = json_body("EmployerRegister")
    uscc = data["uscc"].strip().upper()
    problem = uscc_problem(uscc)
    if problem:
        raise ApiError(422, "fields", "有字段不符合要求。", "Some fields are not valid.",
                       [FieldError("uscc", "uscc", problem, "not a valid unified social credit code")])
    district = intake_services._district(data["district"].strip())
    if district is None:
        raise ApiError(422, "fields", "有字段不符合要求。", "Some fields are not valid.",
                       [FieldError("district", "district", "积分落户业务办理区应为北京市的区（如朝阳区或110105）",
                                   "the business district must be one of Beijing's (e.g. 朝阳区 or 110105)")])
    employer = services.register_employer(uscc, data["name"].strip(), district.id, contact=data,
                                          actor_label=client_label())
    return employer_out(employer), 201


@bp.get("/employers/<string(length=18):uscc>")  # 18 characters: /employers/licence is another route
@scoped(*_READ)
def get_employer(uscc: str):
    return employer_out(_employer(uscc))


@bp.put("/employers/<string:uscc>/contact")
@scoped("applications:write")
def change_employer_contact(uscc: str):
    employer = _employer(uscc)
    services.change_contact(employer, json_body("EmployerContact"), actor_label=client_label())
    return employer_out(employer)


@bp.post("/employers/<string(length=18):uscc>/filings")
@scoped("applications:write")
@idempotent
def file_employer_change(uscc: str):
    employer = _employer(uscc)
    data = json_body("EmployerFiling")
    services.file_change(employer, data["changes"], data.get("note"), actor_label=client_label())
    return employer_out(employer), 201


@bp.get("/applications/<int:application_id>/employer-link")
@scoped(*_READ)
def get_employer_link(application_id: int):
    link = services.link_of(_application(application_id))
    if link is None:
        raise ApiError(404, "not_found", "该申请没有关联申请记录。", "This application has no link request.")
    return link_out(link)


@bp.put("/applications/<int:application_id>/employer-link")
@scoped("applications:write")
def decide_employer_link(application_id: int):
    application = _application(application_id)
    data = json_body("LinkDecision")
    link = services.decide_link(application, approve=data["decision"] == "通过", opinion=data.get("opinion"),
                                actor_label=client_label())
    return link_out(link)


@bp.get("/applications/<int:application_id>/eligibility")
@scoped(*_READ)
def get_eligibility(application_id: int):
    application = _application(application_id)
    result = services.latest_result(application)
    if result is None:
        raise ApiError(404, "not_found", "该申请没有资格条件核查结果。", "This application has no eligibility result.")
    return {"application_id": application.id, "eligible": result.eligible, "checked_at": _iso(result.checked_at),
            "post": result.post, "conditions": result.conditions}


@bp.post("/eligibility/objections")
@scoped("applications:write")
@idempotent
def create_objection():
    data = json_body("ObjectionCreate")
    application = intake_services.create_application(data["application"], today=today(), actor_label=client_label(),
                                                     keep_ineligible=True)
    case = services.file_objection(application, condition=data["condition"], statement=data["statement"],
                                   today=today(), actor_label=client_label())
    return case_out(case), 201


@bp.post("/employers/licence")
@scoped("applications:write")
@idempotent
def upload_employer_licence():
    """单位注册 by licence: multipart with uscc, name, district and one PDF ``licence``."""
    from flask import request


    if request.mimetype != "multipart/form-data":
        raise ApiError(415, "body.media_type", "请求体应为multipart/form-data，证照为一个PDF文件。",
                       "The body must be multipart/form-data with one PDF licence.")
    errors: list[FieldError] = []
    values = {}
    for key in request.form:
        if key not in ("uscc", "name", "district"):
            errors.append(FieldError(key, "unknown_field", "不认识的字段", "unknown field"))
        else:
            values[key] = (request.form.get(key) or "").strip()
    for key in request.files:
        if key != "licence":
            errors.append(FieldError(f"files.{key}", "unknown_slot", "不认识的材料项", "unknown material slot"))
        elif len(request.files.getlist(key)) > 1:
            errors.append(FieldError("files.licence", "one_file", "请将所有凭证材料保存在一个PDF文件中",
                                     "all documents in one PDF"))
    uscc = values.get("uscc", "").upper()
    problem = uscc_problem(uscc)
    if problem:
        errors.append(FieldError("uscc", "uscc", problem, "not a valid unified social credit code"))
    if not 0 < len(values.get("name", "")) <= 200:
        errors.append(FieldError("name", "required", "请填写单位名称", "the unit's name is required"))
    district = intake_services._district(values["district"]) if values.get("district") else None
    if district is None:
        errors.append(FieldError("district", "district", "请选择积分落户业务办理区(一般为单位社保缴费区)",
                                 "choose the business district"))
    if "licence" not in request.files:
        errors.append(FieldError("files.licence", "required", "请上传相关凭证材料（一个PDF文件，不超过1M）",
                                 "upload the licence (one PDF of at most 1 MB)"))
    if errors:
        raise ApiError(422, "fields", "有字段不符合要求。", "Some fields are not valid.", errors)
    part = request.files["licence"]
    case = submit_licence(uscc=uscc, name=values["name"], district=district,
                          licence=Upload(part.read(), part.filename), today=today(), actor_label=client_label())
    return case_out(case), 201
