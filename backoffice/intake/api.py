"""The intake API under /api/v1 (OpenAPI document in openapi.py).

Bearer-token only: the blueprint is exempt from CSRF because no browser session can reach
it — the staff session cookie is never read here (current_user is pinned to anonymous for
every API request), so a request without a valid token answers 401 whatever cookies it has.
Every answer is JSON; errors carry ``code`` (the rule), ``message_zh``, ``message_en`` and,
for 422, every bad field with its path.
"""
from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime
from functools import wraps
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, g, jsonify, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from backoffice.intake import ownership
from backoffice.announcement.results import result_out
from backoffice.applications.models import Application, EvidenceFile, IndicatorClaim
from backoffice.cases.intake import (
    IntakeRefused,
    Upload,
    add_evidence,
    modify_appeal,
    submit_appeal,
    submit_review,
    submit_tip,
    was_withdrawn,
    withdraw_appeal,
)
from backoffice.cases.models import CASE_STATUS_LABELS, OUTCOME_LABELS, CaseKind, CaseStatus, Outcome, ReviewCase
from backoffice.extensions import csrf, db
from backoffice.intake import services
from backoffice.intake.models import ApiClient, ClaimDetails, IdempotencyRecord
from backoffice.intake.openapi import MATERIAL_SLOTS, MAX_ID, SCHEMAS, document
from backoffice.intake.ownership import application_owner, case_owner, may_use
from backoffice.intake.registry import record_result, run_verifier
from backoffice.intake.schema import FieldError, Validator
from backoffice.intake.tokens import authenticate
from verifiers.reasons import UnknownCode, claim_reasons, contest_refusal, decision_reason, reason as _reason
from verifiers.registry import RegistryResult

bp = Blueprint("api_v1", __name__, url_prefix="/api/v1")
_validator = Validator(SCHEMAS)
_BEIJING = ZoneInfo("Asia/Shanghai")
_IDEMPOTENCY_KEY = re.compile(r"^[!-~]{1,200}$")


class ApiError(Exception):
    def __init__(self, status: int, code: str, zh: str, en: str, fields: list[FieldError] | None = None,
                 headers: dict | None = None):
        super().__init__(code)
        self.status, self.code, self.zh, self.en = status, code, zh, en
        self.fields = fields or []
        self.headers = headers or {}


def error_response(status: int, code: str, zh: str, en: str, fields=(), headers=None):
    body = {"error": {"code": code, "message_zh": zh, "message_en": en,
                      "fields": [f.as_dict() for f in fields]}}
    response = jsonify(body)
    response.status_code = status
    for k, v in (headers or {}).items():
        response.headers[k] = v
    return response


def today():
    """The date in Beijing: phases are calendar days there."""
    return datetime.now(_BEIJING).date()


def client_label() -> str:
    return f"client:{g.api_client.name}"


# Authentication and scopes -------------------------------------------------------------------
@bp.before_request
def _authenticate():
    # The staff session is never consulted: current_user is anonymous for every API request.
    g._login_user = current_app.login_manager.anonymous_user()
    if request.endpoint == "api_v1.openapi":
        return None
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "auth.missing", "缺少访问令牌（Authorization: Bearer …）。",
                       "A bearer token is required (Authorization: Bearer …).",
                       headers={"WWW-Authenticate": 'Bearer realm="backoffice"'})
    client = authenticate(token.strip())
    if client is None:
        raise ApiError(401, "auth.invalid", "访问令牌无效或已吊销。", "The bearer token is not valid or was revoked.",
                       headers={"WWW-Authenticate": 'Bearer realm="backoffice", error="invalid_token"'})
    g.api_client = client


def scoped(*scopes: str):
    """The client needs any one of ``scopes``."""
    def decorate(view):
        @wraps(view)
        def wrapper(**kwargs):
            if not g.api_client.scope_set & set(scopes):
                raise ApiError(403, "auth.scope", f"该客户端没有权限（需要 {' 或 '.join(scopes)}）。",
                               f"This client lacks the scope {' or '.join(scopes)}.")
            return view(**kwargs)
        wrapper.scopes = scopes
        return wrapper
    return decorate


# Request bodies ------------------------------------------------------------------------------
def json_body(schema: str) -> dict:
    if request.mimetype != "application/json":
        raise ApiError(415, "body.media_type", "请求体应为JSON（Content-Type: application/json）。",
                       "The body must be JSON (Content-Type: application/json).")
    try:
        data = json.loads(request.get_data(cache=True) or b"null")
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "body.json", "请求体不是有效的JSON。", "The body is not valid JSON.") from None
    errors = _validator.errors(data, {"$ref": f"#/components/schemas/{schema}"})
    if errors:
        raise ApiError(422, "fields", "有字段不符合要求。", "Some fields are not valid.", errors)
    return data


def read_multipart(text_fields, slots) -> tuple[dict, dict[str, Upload], list[FieldError]]:
    """(form fields, {slot: Upload}, errors) of a multipart body: ``text_fields`` once each, one
    PDF per slot of ``slots``; any other field is named as an error (415 for another media type)."""
    if request.mimetype != "multipart/form-data":
        raise ApiError(415, "body.media_type", "请求体应为multipart/form-data，每项材料一个PDF文件。",
                       "The body must be multipart/form-data, one PDF per material slot.")
    fields: dict = {}
    files: dict[str, Upload] = {}
    errors: list[FieldError] = []
    for key in request.form:
        values = request.form.getlist(key)
        if key in text_fields:
            if len(values) > 1:
                errors.append(FieldError(key, "repeated", "只能填写一次", "give it once"))
            fields[key] = values[0]
        elif key in slots:
            # A client that sends a slot as a plain field still gets its bytes checked as a PDF.
            files[key] = Upload(values[0].encode("utf-8", "surrogateescape"))
        else:
            errors.append(FieldError(key, "unknown_field", "不认识的字段", "unknown field"))
    for key in request.files:
        parts = request.files.getlist(key)
        if key not in slots:
            errors.append(FieldError(f"files.{key}", "unknown_slot", "不认识的材料项", "unknown material slot"))
            continue
        if len(parts) > 1 or key in files:
            errors.append(FieldError(f"files.{key}", "one_file_per_slot", "每项材料只能上传一个PDF文件（附件3）",
                                     "one PDF per material slot (annex 3)"))
            continue
        files[key] = Upload(parts[0].read(), parts[0].filename)
    return fields, files, errors


def multipart_body(allow_review_fields: bool) -> tuple[dict, dict[str, Upload]]:
    """(form fields, {slot: Upload}); any other field is named and refused."""
    text_fields = ("review_type", "statement") if allow_review_fields else ()
    fields, files, errors = read_multipart(text_fields, MATERIAL_SLOTS)
    if errors:
        raise ApiError(422, "fields", "有字段不符合要求。", "Some fields are not valid.", errors)
    return fields, files


def _fingerprint() -> str:
    """The request as parsed: a multipart retry with a new boundary is the same request."""
    h = hashlib.sha256()
    h.update(request.method.encode() + b" " + request.path.encode() + b"\n")
    if request.mimetype == "multipart/form-data":
        for key in sorted(request.form):
            for value in request.form.getlist(key):
                h.update(json.dumps([key, value]).encode())
        for key in sorted(request.files):
            for part in request.files.getlist(key):
                data = part.read()
                part.seek(0)
                h.update(json.dumps([key, hashlib.sha256(data).hexdigest()]).encode())
    else:
        raw = request.get_data(cache=True)
        try:
            h.update(json.dumps(json.loads(raw), sort_keys=True, ensure_ascii=False).encode())
        except (ValueError, UnicodeDecodeError):
            h.update(raw)
    return h.hexdigest()


def idempotent(view):
    """A POST with an Idempotency-Key answers, on a repeat, what the first one answered."""
    @wraps(view)
    def wrapper(**kwargs):
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return view(**kwargs)
        if not _IDEMPOTENCY_KEY.match(key):
            raise ApiError(422, "fields", "Idempotency-Key格式不正确。", "Bad Idempotency-Key.",
                           [FieldError("headers.Idempotency-Key", "pattern", "应为1到200个可见ASCII字符",
                                       "1 to 200 visible ASCII characters")])
        fingerprint = _fingerprint()
        client: ApiClient = g.api_client
        found = db.session.scalar(select(IdempotencyRecord).where(
            IdempotencyRecord.client_id == client.id, IdempotencyRecord.key == key))
        if found is None:
            found = IdempotencyRecord(client_id=client.id, key=key, method=request.method, path=request.path,
                                      request_sha256=fingerprint)
            db.session.add(found)
            try:
                with db.session.begin_nested():
                    db.session.flush()
            except IntegrityError:
                raise ApiError(409, "idempotency.in_progress", "相同Idempotency-Key的请求正在处理，请稍后重试。",
                               "A request with this Idempotency-Key is being processed; retry later.") from None
            response = current_app.make_response(view(**kwargs))
            if response.status_code < 300:
                found.status_code = response.status_code
                found.response = response.get_json()
                db.session.flush()
            return response
        if (found.method, found.path, found.request_sha256) != (request.method, request.path, fingerprint):
            raise ApiError(422, "idempotency.key_reused", "该Idempotency-Key已用于另一个不同的请求。",
                           "This Idempotency-Key was used for a different request.",
                           [FieldError("headers.Idempotency-Key", "key_reused", "已用于另一个请求",
                                       "already used for a different request")])
        if found.status_code is None:
            raise ApiError(409, "idempotency.in_progress", "相同Idempotency-Key的请求正在处理，请稍后重试。",
                           "A request with this Idempotency-Key is being processed; retry later.")
        response = jsonify(found.response)
        response.status_code = found.status_code
        response.headers["Idempotent-Replayed"] = "true"
        return response
    return wrapper


# Serialisers ---------------------------------------------------------------------------------
def _iso(value):
    return value.isoformat() if value is not None else None


def claim_out(claim: IndicatorClaim, details: ClaimDetails | None = None, **extra) -> dict:
    if details is None:
        details = db.session.get(ClaimDetails, claim.id)
    contestable = None
    review_types: list[str] = []
    if claim.registry_reason:
        try:
            contestable = contest_refusal(claim.registry_reason) is None
            # Every result the claim carries that may be contested here (a tax claim may carry two).
            for code in claim_reasons(claim.registry_reason, claim.verified):
                if contest_refusal(code) is None:
                    review_types.extend(_reason(code).review_types)
        except UnknownCode:
            contestable = False
    filings = db.session.scalars(select(ReviewCase).where(ReviewCase.claim_id == claim.id,
                                                         ReviewCase.kind == CaseKind.filing)
                                 .order_by(ReviewCase.id)).all()
    return {
        "id": claim.id, "application_id": claim.application_id, "indicator": claim.indicator.value,
        "facts": claim.claimed or {}, "filed": (details.filed if details else None) or {},
        # The window's checks of evidence filed with the claim: upload to /cases/{number}/evidence.
        "filings": [{"number": c.number, "review_type": c.review_type, "status": c.status.value,
                     "status_zh": CASE_STATUS_LABELS[c.status], "due_date": c.due_date.isoformat()}
                    for c in filings],
        "registry": {
            "status": claim.registry_status.value, "reason": claim.registry_reason,
            "message": claim.registry_message, "contestable": contestable, "review_types": review_types,
            "verified": claim.verified,
            "details": details.registry_details if details else None,
            "source": details.registry_source if details else None,
            "checked_at": _iso(claim.checked_at),
            "superseded_by_decision": claim.verified_by_decision_id is not None,
        },
        **extra,
    }


def application_out(application: Application) -> dict:
    applicant, employer, district = application.applicant, application.employer, application.district
    return {
        "id": application.id, "year": application.year,
        "applicant": {"id_number_masked": applicant.masked_id, "name": applicant.name, "phone": applicant.phone},
        "employer": {"uscc": employer.uscc, "name": employer.name},
        "district": {"code": district.code, "name": district.name},
        "submitted_at": _iso(application.submitted_at),
        "claims": [claim_out(c) for c in application.claims],
        "result": result_out(application),  # backoffice/announcement/results.py
    }


def _decision_out(case: ReviewCase) -> dict | None:
    if not case.decisions:
        return None
    latest = case.decisions[-1]
    final = case.status == CaseStatus.closed or latest.outcome == Outcome.returned
    if not final:
        return None
    try:
        reason_zh = decision_reason(latest.reason_code).label_zh
    except (UnknownCode, KeyError, ValueError):
        reason_zh = None
    return {"outcome": latest.outcome.value, "outcome_zh": OUTCOME_LABELS[latest.outcome],
            "reason_code": latest.reason_code, "reason_zh": reason_zh, "note": latest.note,
            "decided_at": latest.decided_at.isoformat()}


def case_out(case: ReviewCase) -> dict:
    evidence = db.session.scalars(select(EvidenceFile).where(EvidenceFile.case_id == case.id)
                                  .order_by(EvidenceFile.material_slot)).all()
    indicator = case.claim.indicator.value if case.claim is not None else (
        case.reason_code if case.kind == CaseKind.appeal else None)
    return {
        "number": case.number, "kind": case.kind.value, "queue": case.queue, "status": case.status.value,
        "status_zh": "已撤回" if was_withdrawn(case) else CASE_STATUS_LABELS[case.status],
        "withdrawn": was_withdrawn(case),
        "application_id": case.application_id, "claim_id": case.claim_id,
        "claim_ids": [case.claim_id] if case.claim_id is not None else [c.id for c in case.disputed_claims],
        "indicator": indicator,
        "review_type": case.review_type, "reason": case.reason_code,
        "statement": case.applicant_statement if case.kind != CaseKind.tip else None,
        "received_on": case.received_on.isoformat(), "due_date": case.due_date.isoformat(),
        "closed_at": _iso(case.closed_at),
        "evidence": [{"slot": e.material_slot, "sha256": e.sha256, "size": e.size, "pages": e.pages,
                      "uploaded_at": e.uploaded_at.isoformat()} for e in evidence],
        "decision": _decision_out(case),
    }


# Lookups -------------------------------------------------------------------------------------
def _not_found(what_zh: str, what_en: str) -> ApiError:
    return ApiError(404, "not_found", f"未找到该{what_zh}。", f"No such {what_en}.")


def _get(model, ident: int):
    # A path may carry any integer; one past the column's range names nothing (and must not
    # reach the driver, which would overflow).
    return db.session.get(model, ident) if 0 < ident <= MAX_ID else None


def _application(application_id: int) -> Application:
    found = _get(Application, application_id)
    if found is None or not may_use(application_owner(found)):
        raise _not_found("申请", "application")
    return found


def _claim(claim_id: int) -> IndicatorClaim:
    found = _get(IndicatorClaim, claim_id)
    if found is None or not may_use(application_owner(found.application)):
        raise _not_found("指标", "claim")
    return found


def _case(number: str, kind: CaseKind | None = None) -> ReviewCase:
    found = db.session.scalar(select(ReviewCase).where(ReviewCase.number == number))
    if found is None or (kind is not None and found.kind != kind) or not may_use(case_owner(found)):
        raise _not_found("案件" if kind is None else "申诉", "case" if kind is None else "appeal")
    return found


# Operations ----------------------------------------------------------------------------------
@bp.get("/openapi.json")
def openapi():
    return jsonify(document())


_READ = ("applications:read", "applications:write", "cases:read")


@bp.post("/applications")
@scoped("applications:write")
@idempotent
def create_application():
    data = json_body("ApplicationCreate")
    application = services.create_application(data, today=today(), actor_label=client_label())
    return application_out(application), 201


@bp.get("/applications/<int:application_id>")
@scoped(*_READ)
def get_application(application_id: int):
    return application_out(_application(application_id))


@bp.patch("/applications/<int:application_id>")
@scoped("applications:write")
def update_application(application_id: int):
    application = _application(application_id)
    data = json_body("ApplicationPatch")
    services.update_application(application, data, today=today(), actor_label=client_label())
    return application_out(application)


@bp.post("/applications/<int:application_id>/claims")
@scoped("applications:write")
@idempotent
def create_claim(application_id: int):
    application = _application(application_id)
    data = json_body("ClaimIn")
    claim = services.create_claim(application, data, today=today(), actor_label=client_label())
    return claim_out(claim), 201


@bp.get("/claims/<int:claim_id>")
@scoped(*_READ)
def get_claim(claim_id: int):
    return claim_out(_claim(claim_id))


@bp.patch("/claims/<int:claim_id>")
@scoped("applications:write")
def update_claim(claim_id: int):
    claim = _claim(claim_id)
    data = json_body("ClaimPatch")
    services.update_claim(claim, data, today=today(), actor_label=client_label())
    return claim_out(claim)


@bp.delete("/claims/<int:claim_id>")
@scoped("applications:write")
def delete_claim(claim_id: int):
    services.delete_claim(_claim(claim_id), today=today(), actor_label=client_label())
    return "", 204


@bp.put("/claims/<int:claim_id>/registry-result")
@scoped("registry:write")
def put_registry_result(claim_id: int):
    claim = _claim(claim_id)
    data = json_body("RegistryResultIn")
    code = data.get("reason")
    message = data.get("message")
    if not message:
        if code:
            r = _reason(code)
            try:
                message = r.text(claim.application.year, tax_year=claim.application.year - 1)
            except ValueError:
                message = r.message_zh
        else:
            message = "有效" if data["status"] == "valid" else "无效"
    result = RegistryResult(data["status"], code, message, data.get("verified"), data.get("details") or {},
                            client_label())
    changed = record_result(claim, result, actor_label=client_label())
    return claim_out(claim, changed=changed)


@bp.post("/claims/<int:claim_id>/verify")
@scoped("registry:write")
@idempotent
def verify_claim(claim_id: int):
    claim = _claim(claim_id)
    _result, changed = run_verifier(claim, actor_label=client_label())
    return claim_out(claim, changed=changed)


@bp.post("/applications/<int:application_id>/verify")
@scoped("registry:write")
@idempotent
def verify_application(application_id: int):
    application = _application(application_id)
    out = []
    for claim in application.claims:
        if claim.verified_by_decision_id is not None:
            out.append(claim_out(claim, changed=False))
            continue
        _result, changed = run_verifier(claim, actor_label=client_label())
        out.append(claim_out(claim, changed=changed))
    return {"claims": out}


@bp.post("/claims/<int:claim_id>/reviews")
@scoped("reviews:write")
@idempotent
def create_review(claim_id: int):
    claim = _claim(claim_id)
    fields, files = multipart_body(allow_review_fields=True)
    case = submit_review(claim, review_type=fields.get("review_type") or None, statement=fields.get("statement"),
                         files=files, today=today(), actor_label=client_label())
    return case_out(case), 201


@bp.post("/cases/<string:number>/evidence")
@scoped("reviews:write")
@idempotent
def add_case_evidence(number: str):
    case = _case(number)
    if case.kind not in (CaseKind.review, CaseKind.filing):
        raise _not_found("复查或填报凭证审核案件", "review or filing case")
    _fields, files = multipart_body(allow_review_fields=False)
    add_evidence(case, files, today=today(), actor_label=client_label())
    return case_out(case)


@bp.get("/cases/<string:number>")
@scoped("cases:read")
def get_case(number: str):
    return case_out(_case(number))


@bp.post("/applications/<int:application_id>/appeals")
@scoped("appeals:write")
@idempotent
def create_appeal(application_id: int):
    application = _application(application_id)
    data = json_body("AppealCreate")
    claim = None
    if data.get("claim_id") is not None:
        claim = _get(IndicatorClaim, data["claim_id"])
        if claim is None or claim.application_id != application.id:
            raise ApiError(422, "fields", "有字段不符合要求。", "Some fields are not valid.",
                           [FieldError("claim_id", "not_found", "未找到该指标记录", "no such claim")])
    # The claims disputed of an indicator with several (housing segments, awards).
    claims = []
    for claim_id in dict.fromkeys(data.get("claim_ids") or ()):
        found = _get(IndicatorClaim, claim_id)
        if found is None or found.application_id != application.id:
            raise ApiError(422, "fields", "有字段不符合要求。", "Some fields are not valid.",
                           [FieldError("claim_ids", "not_found", "未找到该指标记录", f"no such claim {claim_id}")])
        claims.append(found)
    case = submit_appeal(application, data["indicator"], statement=data["statement"], claim=claim, claims=claims,
                         today=today(), actor_label=client_label())
    return case_out(case), 201


@bp.patch("/appeals/<string:number>")
@scoped("appeals:write")
def update_appeal(number: str):
    case = _case(number, CaseKind.appeal)
    data = json_body("AppealPatch")
    modify_appeal(case, statement=data["statement"], today=today(), actor_label=client_label())
    return case_out(case)


@bp.post("/appeals/<string:number>/withdraw")
@scoped("appeals:write")
@idempotent
def withdraw(number: str):
    case = _case(number, CaseKind.appeal)
    withdraw_appeal(case, today=today(), actor_label=client_label())
    return case_out(case)


@bp.post("/applications/<int:application_id>/tips")
@scoped("tips:write")
@idempotent
def create_tip(application_id: int):
    application = _application(application_id)
    data = json_body("TipCreate")
    reporter = data["reporter"]
    case = submit_tip(application, statement=data["statement"], reporter_name=reporter["name"],
                      reporter_id_number=reporter["id_number"], reporter_phone=reporter.get("phone"),
                      today=today(), actor_label=client_label())
    return {"number": case.number, "received_on": case.received_on.isoformat()}, 201


# Errors --------------------------------------------------------------------------------------
@bp.errorhandler(ApiError)
def _api_error(exc: ApiError):
    return error_response(exc.status, exc.code, exc.zh, exc.en, exc.fields, exc.headers)


@bp.errorhandler(IntakeRefused)
def _refused(exc: IntakeRefused):
    fields = [FieldError(exc.field, exc.rule, exc.message_zh, exc.message_en)] if exc.field else []
    return error_response(exc.status, exc.rule, exc.message_zh, exc.message_en, fields)


@bp.errorhandler(services.InvalidFields)
def _invalid(exc: services.InvalidFields):
    return error_response(422, "fields", "有字段不符合要求。", "Some fields are not valid.", exc.fields)


_HTTP_WORDS = {
    400: ("请求无效。", "Bad request."),
    404: ("未找到该接口。", "No such operation."),
    405: ("该接口不支持此请求方法。", "Method not allowed for this operation."),
    413: ("请求过大：每项材料一个PDF，不超过1M（附件3）。", "Request too large: one PDF of at most 1 MB per material."),
}


def http_error(exc: HTTPException):
    zh, en = _HTTP_WORDS.get(exc.code, (exc.name, exc.name))
    headers = {"Allow": ", ".join(exc.valid_methods)} if getattr(exc, "valid_methods", None) else None
    return error_response(exc.code or 500, f"http.{exc.code}", zh, en, headers=headers)


bp.register_error_handler(RequestEntityTooLarge, http_error)


def init_api(app) -> None:
    """Register the blueprint (CSRF-exempt: token-authenticated) and answer JSON for every
    error under /api/, routing errors (404/405) included, which blueprint handlers never see:
    the app's one HTTPException handler (app.py) hands errors under a registered URL prefix to
    that prefix's responder (app.extensions["http_error_responders"])."""
    csrf.exempt(bp)
    app.register_blueprint(bp)
    app.extensions.setdefault("http_error_responders", {})["/api/"] = http_error
    ownership.install()  # new applications, cases and files carry the client that made them


