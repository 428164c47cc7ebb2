"""Applications and indicator claims as the online application system files them.
Services change and flush; the request commits. Bad fields raise ``InvalidFields`` (every
bad field with its path), rules raise ``IntakeRefused`` (409 with the rule in words)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import or_, select

from backoffice.applications.facts import FactsError, check_facts
from backoffice.applications.models import (
    Applicant,
    Application,
    Indicator,
    IndicatorClaim,
    RegistryStatus,
)
from backoffice.applications.scoring_service import sync_total
from backoffice.audit.services import record
from backoffice.cases.intake import IntakeRefused, check_phase, open_filings
from backoffice.cases.models import OPEN_STATUSES, CaseClaim, CaseKind, ReviewCase
from backoffice.core.db import utcnow
from backoffice.extensions import db
from backoffice.intake.models import ClaimDetails
from backoffice.intake.schema import FieldError
from backoffice.outbox.services import request_rank, request_rescore
from backoffice.reference.models import District, Employer, Year
from verifiers.filings import CERTIFICATE_ORIGINS
from verifiers.identifiers import birth_date_of, mask_resident_id, resident_id_problem, uscc_problem
from backoffice.announcement.services import bar_for
from backoffice.eligibility import services as eligibility
from backoffice.eligibility.services import require_confirmed_link, require_eligible

# Indicators the registries supply whole: one claim per application, facts optional.
SINGLE = ("employment", "work_residence", "tax", "age", "law_abiding")
_HOUSING_OWNERS = ("self", "spouse", "employer")


class InvalidFields(Exception):
    def __init__(self, fields: list[FieldError]):
        super().__init__("; ".join(f"{f.path}: {f.message_en}" for f in fields))
        self.fields = fields


def _err(path: str, code: str, zh: str, en: str) -> FieldError:
    return FieldError(path, code, zh, en)


def _join(prefix: str, path: str) -> str:
    return f"{prefix}.{path}" if prefix and path else (prefix or path)


# Claims ------------------------------------------------------------------------------------
def default_facts(indicator: str, applicant: Applicant) -> dict | None:
    return {
        "employment": {"insurance": {}, "work_districts": []},
        "tax": {"annual": {}, "violations": 0},
        "age": {"birth_date": applicant.birth_date.isoformat()},
        "law_abiding": {"detentions": 0},
    }.get(indicator)


def _spouse_errors(spouse, prefix: str) -> list[FieldError]:
    if not isinstance(spouse, dict):
        return [_err(prefix, "required", "请填写配偶信息（姓名、身份证号）", "the spouse's name and ID number are required")]
    errors = []
    problem = resident_id_problem(str(spouse.get("id_number", "")).upper())
    if problem:
        errors.append(_err(f"{prefix}.id_number", "id_number", problem, "not a valid resident ID number"))
    if not isinstance(spouse.get("name"), str) or not 0 < len(spouse["name"]) <= 64:
        errors.append(_err(f"{prefix}.name", "required", "请填写配偶姓名", "the spouse's name is required"))
    for key in spouse:
        if key not in ("id_number", "name"):
            errors.append(_err(f"{prefix}.{key}", "unknown_field", "不认识的字段", "unknown field"))
    return errors


def _text_ok(value, limit=100) -> bool:
    return isinstance(value, str) and 0 < len(value.strip()) <= limit


def filed_errors(indicator: str, facts: dict, filed: dict, prefix: str = "filed") -> list[FieldError]:
    """What identifies the registry record, checked per indicator."""
    if not isinstance(filed, dict):
        return [_err(prefix, "type", "应为对象", "expected an object")]
    errors: list[FieldError] = []
    allowed: set[str] = set()
    if indicator == "housing":
        kind = facts.get("type")
        if kind == "rental":
            allowed = {"lease_no", "tenant", "spouse"}
            if not _text_ok(filed.get("lease_no")):
                errors.append(_err(f"{prefix}.lease_no", "required", "请填写租赁合同备案编号",
                                   "the lease registration number is required"))
            relation = filed.get("tenant", "self")
            if relation not in ("self", "spouse"):
                errors.append(_err(f"{prefix}.tenant", "enum", "承租人与本人关系应为self或spouse", "expected self or spouse"))
        else:
            allowed = {"certificate_no", "owner", "spouse"}
            if not _text_ok(filed.get("certificate_no")):
                errors.append(_err(f"{prefix}.certificate_no", "required", "请填写房屋所有权证号(不动产权证号)",
                                   "the ownership certificate number is required"))
            relation = filed.get("owner", "employer" if kind == "dorm" else "self")
            if relation not in _HOUSING_OWNERS:
                errors.append(_err(f"{prefix}.owner", "enum", "房屋所有权人与本人关系应为self、spouse或employer",
                                   "expected self, spouse or employer"))
        if relation == "spouse":
            errors += _spouse_errors(filed.get("spouse"), f"{prefix}.spouse")
    elif indicator == "education":
        allowed = {"kind", "diploma_no", "degree_no", "certificate_no"}
        kind = filed.get("kind", "domestic")
        if kind not in ("domestic", "overseas"):
            errors.append(_err(f"{prefix}.kind", "enum", "教育类型应为domestic或overseas", "expected domestic or overseas"))
        elif kind == "overseas":
            # origin and issue date (optional) tell an old certificate, which takes longer to check
            # (verifiers/filings.py ARCHIVE_QUOTE).
            allowed |= {"origin", "issued_on"}
            if not _text_ok(filed.get("certificate_no")):
                errors.append(_err(f"{prefix}.certificate_no", "required", "请填写认证书编号",
                                   "the recognition certificate number is required"))
            if "origin" in filed and filed["origin"] not in CERTIFICATE_ORIGINS:
                errors.append(_err(f"{prefix}.origin", "enum", "认证书类别应为" + "、".join(
                    f"{k}（{v[0]}）" for k, v in CERTIFICATE_ORIGINS.items()), "expected one of "
                    + ", ".join(CERTIFICATE_ORIGINS)))
            if "issued_on" in filed:
                try:
                    date.fromisoformat(str(filed["issued_on"]))
                except ValueError:
                    errors.append(_err(f"{prefix}.issued_on", "date", "认证书出具日期格式应为2005-07-01",
                                       "issued_on is YYYY-MM-DD"))
        else:
            if facts.get("level") and not _text_ok(filed.get("diploma_no")):
                errors.append(_err(f"{prefix}.diploma_no", "required", "请填写学历证书编号", "the diploma number is required"))
            if facts.get("degree") and not _text_ok(filed.get("degree_no")):
                errors.append(_err(f"{prefix}.degree_no", "required", "请填写学位证书编号", "the degree number is required"))
    for key in filed:
        if key not in allowed:
            errors.append(_err(f"{prefix}.{key}", "unknown_field", "不认识的字段", "unknown field"))
    return errors


def claim_errors(indicator: str, facts, filed, year: int, prefix: str = "") -> list[FieldError]:
    errors: list[FieldError] = []
    try:
        check_facts(indicator, facts, year=year)
    except FactsError as exc:
        errors.append(_err(_join(_join(prefix, "facts"), exc.path), "facts", f"指标内容不正确：{exc.message}",
                           exc.message))
        return errors
    return errors + filed_errors(indicator, facts, filed if filed is not None else {}, _join(prefix, "filed"))


def _prepare_claim(application: Application, data: dict, prefix: str = "") -> tuple[str, dict, dict, list]:
    indicator = data["indicator"]
    facts = data.get("facts")
    if facts is None:
        facts = default_facts(indicator, application.applicant)
        if facts is None:
            return indicator, {}, {}, [_err(_join(prefix, "facts"), "required", "请填写该指标的内容",
                                            "this indicator's facts are required")]
    filed = data.get("filed") or {}
    return indicator, facts, filed, claim_errors(indicator, facts, filed, application.year, prefix)


def _check_single(application: Application, indicator: str, pending: list[str] = ()) -> None:
    if indicator not in SINGLE:
        return
    taken = [c for c in application.claims if c.indicator.value == indicator]
    if taken or pending.count(indicator) > 1:
        raise IntakeRefused("claim.single", f"该指标每份申请只能填报一条（{indicator}）。",
                            f"An application has at most one {indicator} claim.")


def _add_claim(application: Application, indicator: str, facts: dict, filed: dict, actor_label: str,
               today: date | None = None) -> IndicatorClaim:
    claim = IndicatorClaim(application_id=application.id, year=application.year, indicator=Indicator(indicator),
                           claimed=facts, registry_status=RegistryStatus.pending)
    db.session.add(claim)
    db.session.flush()
    db.session.add(ClaimDetails(claim_id=claim.id, filed=filed))
    db.session.flush()
    record("claim.created", "indicator_claim", claim.id, district_id=application.district_id,
           actor_label=actor_label, after={"application_id": application.id, "indicator": indicator,
                                           "facts": facts, "filed": filed})
    # Evidence filed with the claim that the window checks: its case, at intake (verifiers/filings.py).
    open_filings(claim, filed, today=today, actor_label=actor_label)
    return claim


def create_claim(application: Application, data: dict, *, today: date, actor_label: str) -> IndicatorClaim:

    check_phase("claim.create", application.year_ref, today)
    require_eligible(application)
    indicator, facts, filed, errors = _prepare_claim(application, data)
    if errors:
        raise InvalidFields(errors)
    _check_single(application, indicator)
    claim = _add_claim(application, indicator, facts, filed, actor_label, today)
    db.session.refresh(application)
    return claim


def _changeable(claim: IndicatorClaim, action: str, today: date) -> None:
    check_phase(action, claim.application.year_ref, today)
    if claim.registry_status == RegistryStatus.pending:
        # 申报须知: 审核中的指标信息无法删除或修改.
        raise IntakeRefused("claim.under_check", "审核中的指标信息无法删除或修改，请等待审核结果。",
                            "A claim under registry check cannot be changed or deleted; wait for its result.")
    if claim.verified_by_decision_id is not None:
        raise IntakeRefused("claim.decided", "该指标已有复查或申诉决定，不能修改或删除。",
                            "A review or appeal decision has settled this claim; it cannot be changed or deleted.")
    named = select(CaseClaim.case_id).where(CaseClaim.claim_id == claim.id)  # an appeal's disputed claims
    if db.session.scalar(select(ReviewCase.id).where((ReviewCase.claim_id == claim.id) | ReviewCase.id.in_(named),
                                                     ReviewCase.status.in_(OPEN_STATUSES))) is not None:
        raise IntakeRefused("claim.case_open", "该指标有正在办理的案件，不能修改或删除。",
                            "This claim has an open case; it cannot be changed or deleted.")


def update_claim(claim: IndicatorClaim, data: dict, *, today: date, actor_label: str) -> IndicatorClaim:
    """Replace the facts and/or identifiers; the claim goes back to the registries (pending)."""
    _changeable(claim, "claim.change", today)
    details = db.session.get(ClaimDetails, claim.id) or ClaimDetails(claim_id=claim.id, filed={})
    facts = data.get("facts", claim.claimed)
    filed = data.get("filed", details.filed or {})
    errors = claim_errors(claim.indicator.value, facts, filed, claim.application.year)
    if errors:
        raise InvalidFields(errors)
    counted = claim.counts and bool(claim.verified)
    before = {"facts": claim.claimed, "filed": details.filed, "status": claim.registry_status,
              "reason": claim.registry_reason}
    claim.claimed = facts
    details.filed = filed
    claim.registry_status = RegistryStatus.pending
    claim.registry_reason = claim.registry_message = None
    claim.verified = None
    claim.checked_at = None
    details.registry_details = details.registry_source = None
    db.session.add(details)
    db.session.flush()
    record("claim.changed", "indicator_claim", claim.id, district_id=claim.application.district_id,
           actor_label=actor_label, before=before, after={"facts": facts, "filed": filed, "status": "pending"})
    if counted:
        request_rescore(claim.application_id, trigger="claim_changed")
    # Filed again: the evidence it needs is checked again (a new case; the old one is closed).
    open_filings(claim, filed, today=today, actor_label=actor_label)
    return claim


def delete_claim(claim: IndicatorClaim, *, today: date, actor_label: str) -> None:
    _changeable(claim, "claim.delete", today)
    named = select(CaseClaim.case_id).where(CaseClaim.claim_id == claim.id)
    if db.session.scalar(select(ReviewCase.id).where(ReviewCase.id.in_(named))) is not None:
        raise IntakeRefused("claim.has_cases", "该指标有复查或申诉记录，不能删除。",
                            "This claim has review or appeal cases on record; it cannot be deleted.")
    cases = db.session.scalars(select(ReviewCase).where(ReviewCase.claim_id == claim.id)).all()
    if any(c.kind != CaseKind.filing for c in cases):
        raise IntakeRefused("claim.has_cases", "该指标有复查或申诉记录，不能删除。",
                            "This claim has review or appeal cases on record; it cannot be deleted.")
    # Only decided filings (none is open: _changeable): they stay on the application, and the
    # claim goes ("可先删除该配偶住所、再删除对应配偶信息后重新填写", 第三篇 二 3.(2)).
    for case in cases:
        case.claim_id = None
        db.session.flush()
        record("case.claim_deleted", "review_case", case.id, district_id=case.district_id,
               actor_label=actor_label, before={"claim_id": claim.id}, after={"claim_id": None})
    counted = claim.counts and bool(claim.verified)
    application = claim.application
    details = db.session.get(ClaimDetails, claim.id)
    before = {"indicator": claim.indicator, "facts": claim.claimed, "filed": details.filed if details else None,
              "status": claim.registry_status}
    claim_id = claim.id
    if details is not None:
        db.session.delete(details)
    db.session.delete(claim)
    db.session.flush()
    record("claim.deleted", "indicator_claim", claim_id, district_id=application.district_id,
           actor_label=actor_label, before=before)
    if counted:
        request_rescore(application.id, trigger="claim_deleted")
    db.session.expire(application, ["claims"])


# Applications --------------------------------------------------------------------------------
def _district(value: str) -> District | None:
    return db.session.scalar(select(District).where(or_(District.name == value, District.code == value)))


def create_application(data: dict, *, today: date, actor_label: str, keep_ineligible: bool = False) -> Application:
    """A new application; refused (with the condition's prompt) when the applicant does not meet
    the eligibility conditions, unless ``keep_ineligible`` (an objection keeps it, refused)."""
    errors: list[FieldError] = []
    year = db.session.get(Year, data["year"])
    if year is None:
        errors.append(_err("year", "year.unknown", f"{data['year']}年度未开放申报", f"year {data['year']} is not set up"))
    a = data["applicant"]
    id_number = a["id_number"].strip().upper()
    problem = resident_id_problem(id_number)
    if problem:
        errors.append(_err("applicant.id_number", "id_number", problem,
                           "not a valid resident ID number (18 characters, check digit per GB 11643)"))
    e = data["employer"]
    uscc = e["uscc"].strip().upper()
    problem = uscc_problem(uscc)
    employer = None
    if problem:
        errors.append(_err("employer.uscc", "uscc", problem,
                           "not a valid unified social credit code (18 characters, check character per GB 32100)"))
    else:
        employer = db.session.scalar(select(Employer).where(Employer.uscc == uscc))
    if errors:
        raise InvalidFields(errors)
    check_phase("application.create", year, today)
    # 取消其当年及以后5年内的积分落户申请资格 / 当年及以后5年内不受理其积分落户申请事项 (手册 须知).

    bar = bar_for(id_number=id_number, uscc=uscc, year=year.year)
    if bar is not None:
        raise IntakeRefused(f"application.barred_{bar.kind.value}", bar.message_zh, bar.message_en)
    # 第二篇: only a registered Beijing unit with a tax registration, not barred; never created here.

    if employer is None:
        raise eligibility.refuse_employer(uscc, "该单位尚未完成单位注册")
    problem = eligibility.employer_refusal(uscc, year=year.year)
    if problem:
        raise eligibility.refuse_employer(uscc, problem)
    applicant = db.session.scalar(select(Applicant).where(Applicant.id_number == id_number))
    if applicant is not None and db.session.scalar(select(Application.id).where(
            Application.applicant_id == applicant.id, Application.year == year.year)) is not None:
        raise IntakeRefused("application.exists", f"申请人{mask_resident_id(id_number)}已有{year.year}年度的申请。",
                            f"The applicant already has an application for {year.year}.")
    if applicant is None:
        applicant = Applicant(id_number=id_number, name=a["name"].strip(), birth_date=birth_date_of(id_number),
                              phone=a.get("phone"))
        db.session.add(applicant)
        db.session.flush()
        record("applicant.created", "applicant", applicant.id, district_id=employer.district_id,
               actor_label=actor_label, after={"id_number": mask_resident_id(id_number), "name": applicant.name})
    application = Application(applicant_id=applicant.id, year=year.year, employer_id=employer.id,
                              district_id=employer.district_id, submitted_at=None)
    db.session.add(application)
    db.session.flush()
    # 第一篇: the four conditions as of 31 December of Y-1; a failure refuses the application with
    # the condition's prompt ("如不满足资格条件，系统将自动提示原因").
    result = eligibility.check_application(application, post=a.get("post"), actor_label=actor_label)
    if not result.eligible and not keep_ineligible:
        raise eligibility.refusal(result)
    eligibility.request_link(application)
    if not result.eligible:  # kept for an objection: no claims, never submitted
        db.session.refresh(application)
        return application
    if data.get("submitted"):
        eligibility.require_confirmed_link(application)
        application.submitted_at = utcnow()
    record("application.created", "application", application.id, district_id=application.district_id,
           actor_label=actor_label, after={"year": year.year, "applicant": mask_resident_id(id_number),
                                           "employer": uscc, "submitted": bool(data.get("submitted"))})
    prepared, claim_errs, indicators = [], [], []
    for i, item in enumerate(data.get("claims") or []):
        indicator, facts, filed, errs = _prepare_claim(application, item, f"claims[{i}]")
        claim_errs += errs
        prepared.append((indicator, facts, filed))
        indicators.append(indicator)
    if claim_errs:
        raise InvalidFields(claim_errs)
    for indicator in set(indicators):
        _check_single(application, indicator, indicators)
    for indicator, facts, filed in prepared:
        _add_claim(application, indicator, facts, filed, actor_label, today)
    db.session.refresh(application)
    return application


def update_application(application: Application, data: dict, *, today: date, actor_label: str) -> Application:
    check_phase("application.change", application.year_ref, today)
    applicant = application.applicant
    before = {"name": applicant.name, "phone": applicant.phone, "submitted": application.submitted_at is not None}
    if "name" in data:
        applicant.name = data["name"].strip()
    if "phone" in data:
        applicant.phone = data["phone"]
    if "submitted" in data and data["submitted"] != before["submitted"]:
        if data["submitted"]:

            require_eligible(application)
            require_confirmed_link(application)
        application.submitted_at = utcnow() if data["submitted"] else None
        # Submitted, the application has its total; withdrawn for changes, none (and no rank).
        sync_total(application)
        request_rank(application.year)
    after = {"name": applicant.name, "phone": applicant.phone, "submitted": application.submitted_at is not None}
    if after != before:
        db.session.flush()
        record("application.changed", "application", application.id, district_id=application.district_id,
               actor_label=actor_label, before=before, after=after)
    return application
