"""Eligibility at intake, 资格异议 cases, employers' registration and links. Services change and
flush; the request (or job) commits. Refusals are ``IntakeRefused`` with the handbook's words.

* ``check_application`` runs the four conditions of 第一篇 for an application against the
  registries and stores the result (``EligibilityResult``); ``refuse_ineligible`` turns a failing
  result into the prompt the applicant sees ("如不满足资格条件，系统将自动提示原因").
* ``employer_refusal`` / ``register_employer``: a unit takes part only when registered in Beijing
  (the credit code's division code 11…) and tax-registered there, and not barred; otherwise the
  handbook's prompt "登录积分落户在线申报系统的用人单位需在北京市行政区域内登记注册并进行税务登记，
  实际办公地应在北京市内".
* ``decide_link``: the employer confirms (通过) or refuses (不通过, with 处理意见) each applicant.
* ``file_objection`` / ``apply_objection``: an objection becomes a 资格异议 case in the district's
  eligibility queue; a decision in the applicant's favour (countersigned, cases/services.py)
  re-runs the check with the facts the window corrected.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from sqlalchemy import func, select

from backoffice.announcement.models import ApplicationBar, BarKind
from backoffice.applications.models import Application
from backoffice.audit.services import record
from backoffice.cases.intake import IntakeRefused
from backoffice.core.db import utcnow
from backoffice.eligibility.models import EligibilityResult, EmployerFiling, EmployerLink, LinkStatus
from backoffice.extensions import db
from backoffice.reference.models import Employer
from verifiers import eligibility as rules
from verifiers.identifiers import sex_of
from backoffice.intake.registry import local_registries
from backoffice.cases.intake import _new_case
from verifiers.routing import queue_for
from backoffice.feed.services import emit
from backoffice.applications.models import Applicant, IndicatorClaim
from backoffice.intake.models import RegistryRecord
from backoffice.core.bulk import Bulk
from backoffice.applications.models import EvidenceFile
from backoffice.cases.intake import _due, _upload_dir
from backoffice.cases.models import OPEN_STATUSES, CaseKind, CaseStatus, ReviewCase
from backoffice.core.pdf import extract_text
from backoffice.eligibility.models import EmployerRegistration
from backoffice.reference.models import Year
from verifiers.uploads import UploadRejected, check_pdf, store
from verifiers.registry.adapters import InsuranceRecord
from backoffice.i18n import _

POSTS = tuple(rules.POSTS)
OPINION_MAX = 500


def _registries():

    return local_registries()


# Eligibility --------------------------------------------------------------------------------
def latest_result(application: Application) -> EligibilityResult | None:
    return db.session.scalar(select(EligibilityResult).where(EligibilityResult.application_id == application.id)
                             .order_by(EligibilityResult.id.desc()).limit(1))


def facts_for(application: Application, post: str | None, registries=None) -> rules.Facts:
    """The registries' facts; the insurance history is the one the engine reads — the employment
    claim's verified facts when it has them, else the social-insurance registry's rows."""
    from dataclasses import replace

    applicant = application.applicant
    facts = rules.facts_from_registries(registries or _registries(), id_number=applicant.id_number,
                                        sex=sex_of(applicant.id_number), birth_date=applicant.birth_date,
                                        year=application.year, post=post)
    verified = next((c.verified for c in application.claims
                     if c.indicator.value == "employment" and c.verified and c.verified.get("insurance")), None)
    if verified:
        facts = replace(facts, insurance=verified["insurance"])
    return facts


def check_application(application: Application, *, post: str | None = None, registries=None,
                      corrections: Mapping | None = None, case=None, actor=None,
                      actor_label: str | None = None) -> EligibilityResult:
    """Run the four conditions for ``application`` (as of 31 December of Y-1) and store the result.
    ``corrections`` are the window's corrected facts on an objection, added to every earlier
    correction of the application's objections."""
    previous = latest_result(application)
    if post is None and previous is not None:
        post = previous.post
    merged: dict = dict(previous.corrections or {}) if previous is not None else {}
    for code, values in (corrections or {}).items():
        merged[code] = values
    facts = facts_for(application, post, registries)
    if merged:
        facts = facts.with_corrections(merged)
    results = rules.evaluate(facts)
    row = EligibilityResult(application_id=application.id, eligible=rules.eligible(results), post=post,
                            conditions=[r.as_dict() for r in results], corrections=merged or None,
                            case_id=case.id if case is not None else None,
                            source="objection" if case is not None else (registries.source if registries else "local"))
    db.session.add(row)
    db.session.flush()
    record("eligibility.checked", "application", application.id, district_id=application.district_id,
           actor=actor, actor_label=None if actor is not None else (actor_label or "system"),
           before={"eligible": previous.eligible} if previous is not None else None,
           after={"eligible": row.eligible, "failing": [c["code"] for c in row.failing],
                  "case": case.number if case is not None else None})
    return row


def refusal(result: EligibilityResult) -> IntakeRefused:
    first = result.failing[0]
    return IntakeRefused("eligibility.refused", first["prompt"],
                         f"The applicant does not meet the eligibility condition {first['code']!r}: "
                         + "; ".join(c["code"] for c in result.failing))


def require_eligible(application: Application) -> None:
    """Refuse (409, the condition's prompt) anything but an objection for an application whose
    standing result fails; an application without any result is one created before this check."""
    result = latest_result(application)
    if result is not None and not result.eligible:
        raise refusal(result)


# Employers ----------------------------------------------------------------------------------
def is_barred(uscc: str, year: int | None = None) -> bool:
    """Whether the unit is barred from the scheme for fraud ("当年及以后5年内不受理其积分落户申请事项"):
    the announcement module keeps the bars a confirmed revocation writes."""
    if year is None:
        return False
    return db.session.scalar(
        select(ApplicationBar.id).where(ApplicationBar.kind == BarKind.employer,
                                        ApplicationBar.key == (uscc or "").strip().upper(),
                                        ApplicationBar.first_year <= year, ApplicationBar.last_year >= year).limit(1)
    ) is not None


def employer_refusal(uscc: str, *, year: int | None = None, registries=None) -> str | None:
    """Why the unit may not take part, in words, or None (Beijing-registered, tax-registered, not barred)."""
    registries = registries or _registries()
    registration = registries.tax_registrations.tax_registration(uscc) if registries.tax_registrations else None
    problem = rules.employer_problem(uscc, registration.status if registration else None)
    if problem is None and is_barred(uscc, year):
        problem = "该单位因协助申请人弄虚作假，被限制参加积分落户申报"
    return problem


def refuse_employer(uscc: str, problem: str) -> IntakeRefused:
    return IntakeRefused("employer.not_eligible", f"{rules.EMPLOYER_REFUSAL}（{problem}）",
                         f"The unit {uscc} must be registered and tax-registered in Beijing: {problem}")


def register_employer(uscc: str, name: str, district_id: int, *, contact: Mapping | None = None,
                      actor_label: str) -> Employer:
    """单位注册: a unit the registries know as a Beijing, tax-registered unit; otherwise refused with
    the handbook's prompt (the unit may then upload its licence at the window)."""
    found = db.session.scalar(select(Employer).where(Employer.uscc == uscc))
    if found is not None:
        return found
    problem = employer_refusal(uscc)
    if problem:
        raise refuse_employer(uscc, problem)
    employer = Employer(uscc=uscc, name=name, district_id=district_id)
    db.session.add(employer)
    db.session.flush()
    record("employer.created", "employer", employer.id, district_id=district_id, actor_label=actor_label,
           after={"uscc": uscc, "name": name})
    if contact:
        change_contact(employer, contact, actor_label=actor_label)
    return employer


CONTACT_FIELDS = ("contact_name", "contact_phone")


def current_contact(employer: Employer) -> dict:
    row = db.session.scalar(select(EmployerFiling).where(EmployerFiling.employer_id == employer.id,
                                                         EmployerFiling.kind == "contact")
                            .order_by(EmployerFiling.id.desc()).limit(1))
    return dict(row.after) if row is not None else {}


def change_contact(employer: Employer, contact: Mapping, *, actor_label: str) -> EmployerFiling:
    """联系人、联系电话发生变更的，请用人单位及时修改: allowed at any time during the year."""
    after = {k: str(contact[k]).strip()[:64] for k in CONTACT_FIELDS if contact.get(k)}
    before = current_contact(employer) or None
    row = EmployerFiling(employer_id=employer.id, kind="contact", before=before, after=after, actor_label=actor_label)
    db.session.add(row)
    db.session.flush()
    record("employer.contact_changed", "employer", employer.id, district_id=employer.district_id,
           actor_label=actor_label, before=before, after=after)
    return row


def file_change(employer: Employer, changes: Mapping, note: str | None, *, actor_label: str) -> EmployerFiling:
    """其余单位信息当年不可修改，如有变化不影响年度申报，及时向区积分落户服务窗口备案即可: the change is
    kept as history; the unit's registered name and district stay as they are this year."""
    before = {"name": employer.name, "district": employer.district.name}
    row = EmployerFiling(employer_id=employer.id, kind="filed", before=before, after=dict(changes),
                         note=(note or "").strip()[:2000] or None, actor_label=actor_label)
    db.session.add(row)
    db.session.flush()
    record("employer.change_filed", "employer", employer.id, district_id=employer.district_id,
           actor_label=actor_label, before=before, after=dict(changes))
    return row


# Links (单位处理关联申请) -------------------------------------------------------------------
def request_link(application: Application) -> EmployerLink:
    link = db.session.get(EmployerLink, application.id)
    if link is None:
        link = EmployerLink(application_id=application.id, employer_id=application.employer_id,
                            status=LinkStatus.pending)
        db.session.add(link)
        db.session.flush()
    return link


def link_of(application: Application) -> EmployerLink | None:
    return db.session.get(EmployerLink, application.id)


def decide_link(application: Application, *, approve: bool, opinion: str | None, actor_label: str) -> EmployerLink:
    """是本单位员工的，点击“通过”完成关联；不是本单位员工的，点击“不通过”并填写处理意见."""
    link = request_link(application)
    opinion = (opinion or "").strip()
    if not approve and not opinion:
        raise IntakeRefused("link.opinion", "不通过关联申请时请填写处理意见。",
                            "Refusing a link needs an opinion (处理意见).", status=422, field="opinion")
    if len(opinion) > OPINION_MAX:
        raise IntakeRefused("link.opinion", f"处理意见不能超过{OPINION_MAX}字。", "The opinion is too long.",
                            status=422, field="opinion")
    if link.status == LinkStatus.confirmed:
        # 关联操作一经完成，本年度将无法更改.
        raise IntakeRefused("link.done", "关联操作一经完成，本年度将无法更改。",
                            "A completed link cannot be changed this year.")
    before = {"status": link.status.value}
    link.status = LinkStatus.confirmed if approve else LinkStatus.refused
    link.opinion = opinion or None
    link.decided_at = utcnow()
    db.session.flush()
    record("employer.link_decided", "application", application.id, district_id=application.district_id,
           actor_label=actor_label, before=before, after={"status": link.status.value, "opinion": link.opinion})
    return link


def require_confirmed_link(application: Application) -> None:
    """Only a link the employer confirmed proceeds (to submission)."""
    link = link_of(application)
    if link is not None and link.status != LinkStatus.confirmed:
        if link.status == LinkStatus.refused:
            raise IntakeRefused("link.refused", f"用人单位未通过关联申请（处理意见：{link.opinion}），"
                                "请核实单位注册码后再次发起关联申请。",
                                "The employer refused the link; check the unit's registration code and ask again.")
        raise IntakeRefused("link.pending", "关联申请等待用人单位确认，确认通过后方可提交。",
                            "The employer has not yet confirmed the applicant; submission waits for it.")


# Objections (资格异议) ---------------------------------------------------------------------
def file_objection(application: Application, *, condition: str, statement: str, today: date,
                   actor_label: str):
    """对提示原因有异议的，可向所在区积分落户服务窗口提出: a 资格异议 case in the eligibility queue of
    the application's district, against a condition that failed."""

    result = latest_result(application)
    failing = {c["code"] for c in result.failing} if result is not None else set()
    if condition not in rules.CONDITION_CODES:
        raise IntakeRefused("objection.condition", f"未知的资格条件：{condition}", f"unknown condition {condition!r}",
                            status=422, field="condition")
    if condition not in failing:
        raise IntakeRefused("objection.not_refused", "该项资格条件未提示不满足，无需提出异议。",
                            "This condition did not fail; there is nothing to object to.")
    open_case = db.session.scalar(select(ReviewCase.id).where(
        ReviewCase.application_id == application.id, ReviewCase.kind == CaseKind.eligibility_objection,
        ReviewCase.status.in_(OPEN_STATUSES)))
    if open_case is not None:
        raise IntakeRefused("objection.open", "已有正在办理的资格异议，请等待办理结果。",
                            "An eligibility objection of this application is already open.")
    statement = (statement or "").strip()
    if not statement:
        raise IntakeRefused("statement.required", "请填写异议说明。", "A statement is required.", status=422,
                            field="statement")
    case = _new_case(application, kind=CaseKind.eligibility_objection, queue=queue_for(None, "eligibility_objection"),
                     received=today, reason_code=condition, statement=statement[:2000])
    record("case.received", "review_case", case.id, district_id=case.district_id, actor_label=actor_label,
           after={"number": case.number, "kind": "eligibility_objection", "queue": case.queue,
                  "condition": condition})
    return case


def parse_corrections(condition: str, values: Mapping[str, str]) -> tuple[dict, dict[str, str]]:
    """The window's corrected facts of one condition, from the decision form (CORRECTABLE)."""
    errors: dict[str, str] = {}
    out: dict = {}

    def months(raw: str, field: str) -> list[str]:
        found = [p.strip() for p in (raw or "").replace("；", ";").split(";") if p.strip()]
        bad = [p for p in found if len(p) != 7 or p[4] != "-" or not p[:4].isdigit() or not p[5:].isdigit()
               or not 1 <= int(p[5:]) <= 12]
        if bad:
            errors[field] = _("月份格式应为YYYY-MM")
        return found

    if condition == "residence_permit":
        number = (values.get("number") or "").strip()
        try:
            applied = date.fromisoformat((values.get("applied_on") or "").strip())
        except ValueError:
            errors["applied_on"] = _("请填写申领日期（YYYY-MM-DD）")
            applied = None
        if not number:
            errors["number"] = _("请填写居住证号码")
        if applied is not None:
            out = {"number": number, "applied_on": applied.isoformat()}
    elif condition == "retirement_age":
        post = (values.get("post") or "").strip()
        if post not in POSTS:
            errors["post"] = _("请选择岗位类别")
        out = {"post": post}
    elif condition == "social_insurance":
        if values.get("back_paid") is not None:
            out["back_paid"] = months(values["back_paid"], "back_paid")
        out["gaps_paid"] = months(values.get("gaps_paid") or "", "gaps_paid")
    elif condition == "criminal_record":
        docs = [p.strip() for p in (values.get("cleared_documents") or "").replace("；", ";").split(";") if p.strip()]
        if not docs:
            errors["cleared_documents"] = _("请填写文书编号")
        out = {"cleared_documents": docs}
    return out, errors


def apply_objection(case, decision, actor) -> EligibilityResult:
    """The objection was decided in the applicant's favour (and countersigned): re-run the check
    with the corrected facts and tell the applicant."""

    application = case.application
    corrections = {case.reason_code: dict(decision.corrected_facts or {})}
    post = (decision.corrected_facts or {}).get("post") if case.reason_code == "retirement_age" else None
    result = check_application(application, post=post, corrections=corrections, case=case, actor=actor)
    emit(application, "eligibility.rechecked",
         "资格异议已办结：" + ("经复核，满足资格条件，可继续申报。" if result.eligible
                          else "经复核，仍不满足资格条件：" + result.failing[0]["prompt"]),
         {"case": case.number, "eligible": result.eligible})
    return result


# A whole year at once --------------------------------------------------------------------------
def check_year(year: int, *, chunk: int = 4000, progress=None, actor_label: str = "cli") -> dict[str, int]:
    """Re-run the four conditions for every application of ``year`` in chunks (one query per
    registry per chunk, results written in bulk), e.g. after the registries were reloaded: "此项资格
    条件贯穿积分落户全程". A result is stored only where it differs from the application's latest;
    the insurance history is the one the engine reads (the employment claim's verified facts, else
    the registry's rows) — as ``facts_for``. The caller commits. Returns counts."""

    session = db.session
    ids = session.scalars(select(Application.id).where(Application.year == year).order_by(Application.id)).all()
    bulk = Bulk(session)
    next_id = (session.scalar(select(func.max(EligibilityResult.id))) or 0) + 1
    counts = {"applications": len(ids), "eligible": 0, "refused": 0, "stored": 0, "lost": 0}
    lost: list[tuple[int, list[str]]] = []
    now = utcnow()
    for start in range(0, len(ids), chunk):
        part = ids[start:start + chunk]
        people = session.execute(select(Application.id, Applicant.id_number, Applicant.birth_date)
                                 .join(Applicant, Applicant.id == Application.applicant_id)
                                 .where(Application.id.in_(part))).all()
        numbers = [p.id_number for p in people]
        insurance = {a: v for a, v in session.execute(
            select(IndicatorClaim.application_id, IndicatorClaim.verified)
            .where(IndicatorClaim.application_id.in_(part), IndicatorClaim.indicator == "employment"))}
        records: dict[tuple[str, str], list[dict]] = {}
        for dataset, number, data in session.execute(
                select(RegistryRecord.dataset, RegistryRecord.id_number, RegistryRecord.data)
                .where(RegistryRecord.dataset.in_(("residence_permits", "criminal_records", "social_insurance")),
                       RegistryRecord.id_number.in_(numbers))):
            records.setdefault((dataset, number), []).append(data)
        latest_ids = select(func.max(EligibilityResult.id)).where(
            EligibilityResult.application_id.in_(part)).group_by(EligibilityResult.application_id)
        latest = {r.application_id: r for r in session.execute(
            select(EligibilityResult.application_id, EligibilityResult.eligible, EligibilityResult.post,
                   EligibilityResult.corrections, EligibilityResult.conditions)
            .where(EligibilityResult.id.in_(latest_ids)))}
        rows = []
        for app_id, number, born in people:
            before = latest.get(app_id)
            history = (insurance.get(app_id) or {}).get("insurance")
            if not history:

                history = rules.insurance_history(
                    InsuranceRecord(d["insurance_type"], d["from"], d["to"], tuple(d.get("back_paid") or ()), d["district"])
                    for d in records.get(("social_insurance", number), ()))
            facts = rules.Facts(
                year=year, sex=sex_of(number), birth_date=born, post=before.post if before else None,
                permits=tuple(rules.Permit(d["permit_no"], date.fromisoformat(d["applied_on"]), d["status"])
                              for d in records.get(("residence_permits", number), ())),
                insurance=history,
                criminal_records=tuple(rules.CriminalRecord(d["source"], d["document_no"],
                                                            date.fromisoformat(d["decided_on"]), d.get("summary") or "")
                                       for d in records.get(("criminal_records", number), ())))
            if before is not None and before.corrections:
                facts = facts.with_corrections(before.corrections)
            results = rules.evaluate(facts)
            ok = rules.eligible(results)
            counts["eligible" if ok else "refused"] += 1
            conditions = [r.as_dict() for r in results]
            if before is not None and before.eligible == ok and before.conditions == conditions:
                continue
            if before is not None and before.eligible and not ok:
                lost.append((app_id, [r.code for r in results if not r.passed]))
            rows.append({"id": next_id, "application_id": app_id, "eligible": ok,
                         "post": before.post if before else None, "conditions": conditions,
                         "corrections": before.corrections if before else None, "case_id": None,
                         "source": "local", "checked_at": now})
            next_id += 1
        bulk.insert(EligibilityResult, rows)
        counts["stored"] += len(rows)
        if progress is not None:
            progress(len(part))
    bulk.move_sequences(EligibilityResult)
    # "此项资格条件贯穿积分落户全程": an application that met the conditions and no longer does is
    # named in the audit trail (the announcement and settlement work revoke or stop it from there).
    for app_id, codes in lost:
        record("eligibility.lost", "application", app_id, actor_label=actor_label, after={"failing": codes})
    counts["lost"] = len(lost)
    record("eligibility.year_checked", "year", year, actor_label=actor_label, after=counts)
    return counts


# 单位注册 by licence ---------------------------------------------------------------------------
LICENCE_SLOT = "licence"


def submit_licence(*, uscc: str, name: str, district, licence, today: date, actor_label: str,
                   upload_dir: str | None = None):
    """如用人单位符合申报要求仍不能进入系统，请上传相关证照凭证: one PDF of at most 1 MB containing the
    unit's credit code becomes a 单位注册 case in the district's eligibility queue."""

    if db.session.scalar(select(Employer.id).where(Employer.uscc == uscc)) is not None:
        raise IntakeRefused("employer.registered", "该单位已完成注册。", "This unit is already registered.")
    if not rules.registered_in_beijing(uscc):
        raise refuse_employer(uscc, rules.employer_problem(uscc, rules.TAX_REGISTERED))
    pending = db.session.scalar(select(ReviewCase.number).join(EmployerRegistration, EmployerRegistration.case_id == ReviewCase.id)
                                .where(EmployerRegistration.uscc == uscc, ReviewCase.status.in_(OPEN_STATUSES)))
    if pending is not None:
        raise IntakeRefused("employer.licence_open", f"该单位的注册凭证正在审核中（{pending}）。",
                            f"This unit's licence is already under review ({pending}).")
    try:
        info = check_pdf(licence.data)
    except UploadRejected as exc:
        raise IntakeRefused(f"upload.{exc.rule}", exc.message_zh, exc.message_en, status=422,
                            field=f"files.{LICENCE_SLOT}") from None
    if uscc not in extract_text(licence.data).replace(" ", "").upper():
        raise IntakeRefused("upload.no_uscc", "证照中必须含有统一社会信用代码：上传的PDF中未找到" + uscc + "。",
                            f"The licence must show the unit's credit code; {uscc} is not in the PDF.",
                            status=422, field=f"files.{LICENCE_SLOT}")
    year = Year.under_way(today)
    if year is None:
        raise IntakeRefused("year.none", "尚未设置申报年度。", "No application year is set up.")
    queue = queue_for(None, "employer_registration")
    case = ReviewCase(number=f"new-{uscc}-{utcnow().timestamp():.0f}"[:32], year=year, application_id=None,
                      claim_id=None, queue=queue, kind=CaseKind.employer_registration, review_type=None,
                      reason_code=None, applicant_statement=f"{name}（{uscc}）", district_id=district.id,
                      status=CaseStatus.open, received_on=today, due_date=_due(queue, today))
    db.session.add(case)
    db.session.flush()
    case.number = f"{year}-{district.code}-{case.id:06d}"
    stored = store(licence.data, _upload_dir(upload_dir))
    db.session.add(EvidenceFile(case_id=case.id, material_slot=LICENCE_SLOT, sha256=stored.sha256, size=stored.size,
                                pages=stored.pages, original_name=(licence.filename or "")[:255] or None))
    registration = EmployerRegistration(case_id=case.id, uscc=uscc, name=name, district_id=district.id,
                                        refusal=employer_refusal(uscc))
    db.session.add(registration)
    db.session.flush()
    record("case.received", "review_case", case.id, district_id=district.id, actor_label=actor_label,
           after={"number": case.number, "kind": "employer_registration", "queue": queue, "uscc": uscc,
                  "sha256": info.sha256})
    return case


def registration_of(case):

    return db.session.scalar(select(EmployerRegistration).where(EmployerRegistration.case_id == case.id))


def accept_licence(case, decision, actor) -> Employer:
    """The window accepted the licence: the unit is registered in the case's district."""
    registration = registration_of(case)
    employer = db.session.scalar(select(Employer).where(Employer.uscc == registration.uscc))
    if employer is None:
        employer = Employer(uscc=registration.uscc, name=registration.name, district_id=registration.district_id)
        db.session.add(employer)
        db.session.flush()
        record("employer.created", "employer", employer.id, district_id=employer.district_id, actor=actor,
               after={"uscc": employer.uscc, "name": employer.name, "case": case.number})
    registration.employer_id = employer.id
    db.session.flush()
    return employer
