"""A demo year: the 17 windows, ~300 applicants over 8 districts, claims with valid and
invalid registry results, open cases in every queue, and one login per role.

Deterministic for a seed and idempotent: everything is looked up by its natural key
(district code, year, credit code, ID number, case number, username) before it is added.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from flask import current_app
from sqlalchemy import select

from backoffice.calendar.services import seed_from_package
from backoffice.applications.facts import INSURANCE_TYPES
from backoffice.applications.models import (
    Applicant,
    Application,
    Indicator,
    IndicatorClaim,
    RegistryStatus,
)
from backoffice.applications.scoring_service import rescore_batch
from backoffice.audit.services import record
from backoffice.cases import intake
from backoffice.cases.demo_evidence import ensure_demo_evidence
from backoffice.cases.models import CaseKind, CaseStatus, ReviewCase
from backoffice.extensions import db
from backoffice.intake.models import ClaimDetails
from backoffice.reference.data import DISTRICTS
from backoffice.reference.models import District, Employer, Year
from backoffice.scoring.tables import DISTRICTS as CORE_SIX
from backoffice.staff.models import Role, Staff
from backoffice.staff.services import create_staff
from verifiers.identifiers import USCC_ALPHABET, resident_id_check_char, uscc_check_char
from verifiers.reasons import reason
from backoffice.settlement.demo import seed_settlement
from backoffice.announcement.demo import seed_announcement
from backoffice.eligibility.demo import seed_eligibility
from backoffice.turnaround.models import DailyBacklog
from backoffice.turnaround.sweep import record_backlog, sweep

DEMO_PASSWORD = "demo-password-2021"
# Days of backlog history the demo records (as `backoffice sweep --backfill 30` would), so the
# dashboard's 30-day trend has a line from the first start.
BACKLOG_DAYS = 30
DEMO_DISTRICTS = ("朝阳区", "海淀区", "东城区", "西城区", "丰台区", "通州区", "大兴区", "昌平区")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红玉兰亮鹏飞宇浩然晨阳欣怡子涵梓轩"
EMPLOYER_WORDS = ("科技", "信息技术", "网络", "生物医药", "文化传媒", "智能制造", "咨询", "新能源", "软件", "金融服务")
BIRTH_REGIONS = ("130102", "370102", "410105", "420106", "510104", "230103", "210102", "320106", "340104", "610113")

LOGINS = (
    ("reviewer", "朝阳审核员", Role.reviewer, "朝阳区"),
    ("reviewer_hd", "海淀审核员", Role.reviewer, "海淀区"),
    ("supervisor", "朝阳主管", Role.supervisor, "朝阳区"),
    ("supervisor_city", "市级主管", Role.supervisor, None),  # confirms revocations (announcement)
    ("investigator", "市级举报核查员", Role.investigator, None),
    ("admin", "系统管理员", Role.administrator, None),
    ("approver", "市级落户核准员", Role.city_approver, None),
)


@dataclass
class SeedSummary:
    year: int
    created: dict[str, int] = field(default_factory=dict)
    logins: list[tuple[str, str, str]] = field(default_factory=list)

    def bump(self, what: str) -> None:
        self.created[what] = self.created.get(what, 0) + 1

    def describe(self) -> str:
        if not self.created:
            return f"demo year {self.year}: already loaded, nothing added"
        parts = ", ".join(f"{n} {what}" for what, n in sorted(self.created.items()))
        return f"demo year {self.year}: added {parts}"


def _month(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def _uscc(rng: random.Random, district_code: str) -> str:
    body = "91" + district_code + "".join(rng.choice(USCC_ALPHABET) for _ in range(9))
    return body + uscc_check_char(body)


def _resident_id(rng: random.Random, birth: date) -> str:
    body = rng.choice(BIRTH_REGIONS) + birth.strftime("%Y%m%d") + f"{rng.randrange(1000):03d}"
    return body + resident_id_check_char(body)


def demo_year_dates(year: int, today: date | None) -> dict[str, date]:
    """The demo year's phases. Without ``today`` the 2021 calendar's shape; with it, phases
    placed around ``today`` so every kind of case can have arrived through the intake's phase
    rules: the result-query phase (复查 and 异议申诉) ended days ago and today is in the 7-day
    announcement (举报)."""
    if today is None:
        return dict(application_start=date(year, 4, 16), application_end=date(year, 5, 15),
                    result_query_start=date(year, 8, 10), result_query_end=date(year, 8, 24),
                    announcement_start=date(year, 10, 15), announcement_end=date(year, 10, 21),
                    settlement_start=date(year, 10, 22), settlement_end=date(year + 2, 10, 21))
    d = lambda n: today + timedelta(days=n)  # noqa: E731
    return dict(application_start=d(-75), application_end=d(-45), result_query_start=d(-24),
                result_query_end=d(-4), announcement_start=d(-3), announcement_end=d(3),
                settlement_start=d(4), settlement_end=d(734))


def demo_year(today: date) -> int:
    """The demo year for a demo started on `today`: the calendar year of its application phase
    (demo_year_dates puts it 75 to 45 days back), so the year, its phases, the submissions and
    the registry checks read as one year."""
    return (today - timedelta(days=75)).year


def ensure_reference(summary: SeedSummary, year: int, today: date | None = None) -> dict[str, District]:
    districts = {d.code: d for d in db.session.scalars(select(District))}
    for code, name, address, phone, core in DISTRICTS:
        if code not in districts:
            district = District(code=code, name=name, window_address=address, phone=phone, core_six=core)
            db.session.add(district)
            districts[code] = district
            summary.bump("districts")
    db.session.flush()
    if db.session.get(Year, year) is None:
        db.session.add(Year(year=year, quota=6000, **demo_year_dates(year, today)))
        summary.bump("years")
        db.session.flush()
    return {d.name: d for d in districts.values()}


def _overseas_filing(summary, application: Application, certificate_no: str, received: date) -> None:
    """The application's education claim filed as 留学教育: no department answers for it (审核中),
    and its filing case opens as the intake opens it (cases/intake.py open_filings)."""
    claim = db.session.scalar(select(IndicatorClaim).where(IndicatorClaim.application_id == application.id,
                                                           IndicatorClaim.indicator == Indicator.education))
    if claim is None:
        return
    claim.registry_status, claim.registry_reason, claim.registry_message = RegistryStatus.pending, None, None
    claim.verified, claim.checked_at = None, None
    filed = {"kind": "overseas", "certificate_no": certificate_no}
    db.session.add(ClaimDetails(claim_id=claim.id, filed=filed))
    db.session.flush()
    if intake.open_filings(claim, filed, today=received, actor_label="seed-demo"):
        summary.bump("filing cases")


def _claims_for(rng: random.Random, year: int, birth: date, district_name: str) -> list[dict]:
    """Claims in the score-input shape of each indicator, with a registry result."""
    cutoff = year - 1
    start_year = rng.randint(2004, cutoff - 7)
    insurance_from = _month(start_year, rng.randint(1, 12))
    # Every insurance type paid from the first month to the cut-off, all at the employer's district.
    employment = {"insurance": {t: {"paid": [[insurance_from, _month(cutoff, 12)]], "back_paid": []}
                                for t in INSURANCE_TYPES},
                  "work_districts": [{"from": insurance_from, "to": _month(cutoff, 12), "district": district_name}]}
    claims = [
        dict(indicator="employment", claimed=employment, status="valid", reason=None),
        dict(indicator="age", claimed={"birth_date": birth.isoformat()}, status="valid", reason=None),
        dict(indicator="law_abiding", claimed={"detentions": 0}, status="valid", reason=None),
    ]
    own_from = _month(rng.randint(start_year, cutoff - 1), rng.randint(1, 12))
    own_district = rng.choice(("朝阳区", "海淀区", "通州区", "大兴区", "昌平区", "丰台区"))
    housing_roll = rng.random()
    if housing_roll < 0.55:
        claims.append(dict(indicator="housing", claimed={"type": "own", "from": own_from, "to": _month(cutoff, 12),
                                                          "district": own_district},
                           status="valid", reason="housing_valid_dates"))
    elif housing_roll < 0.70:
        claims.append(dict(indicator="housing", claimed={"type": "own", "from": own_from, "to": _month(cutoff, 12),
                                                          "district": own_district},
                           status="invalid", reason="housing_listing_invalid"))
    elif housing_roll < 0.80:
        claims.append(dict(indicator="housing", claimed={"type": "rental", "from": _month(2020, 8), "to": _month(cutoff, 12),
                                                          "district": district_name},
                           status="invalid", reason=rng.choice(("rental_needs_verification", "rental_record_mismatch"))))
    else:
        claims.append(dict(indicator="housing", claimed={"type": "rental", "from": _month(2020, 8), "to": _month(cutoff, 12),
                                                          "district": district_name},
                           status="valid", reason=None))
    if housing_roll < 0.70 and not CORE_SIX.get(own_district, True):
        # Own home outside 城六区: the applicant may choose to score 职住区域.
        claims.append(dict(indicator="work_residence", claimed={"chosen": True}, status="valid", reason=None))
    level = rng.choice(("bachelor", "bachelor", "master", "junior_college", "doctor"))
    graduated = _month(min(birth.year + 22 + rng.randint(0, 6), cutoff), rng.choice((6, 7)))
    edu_roll = rng.random()
    edu_reason, edu_status = None, "valid"
    if edu_roll < 0.12:
        edu_status, edu_reason = "invalid", "edu_diploma_identity_mismatch"
    elif edu_roll < 0.17:
        edu_status, edu_reason = "invalid", "edu_degree_date_format"
    elif edu_roll < 0.20:
        edu_status, edu_reason = "invalid", "edu_not_found"
    claims.append(dict(indicator="education",
                       claimed={"level": level, "degree": level if level != "junior_college" else None,
                                "graduated": graduated},
                       status=edu_status, reason=edu_reason))
    if rng.random() < 0.12:
        tax = {str(y): rng.choice((60000, 120000, 150000, 0)) for y in range(year - 3, year)}
        ok = rng.random() < 0.6
        claims.append(dict(indicator="tax", claimed={"annual": tax, "violations": 0},
                           status="valid" if ok else "invalid", reason=None if ok else "tax_year_invalid"))
    if rng.random() < 0.06:
        ok = rng.random() < 0.4
        claims.append(dict(indicator="innovation",
                           claimed={"code": "beijing_sci_tech", "grade": "second", "rank": rng.randint(1, 8)},
                           status="valid" if ok else "invalid", reason=None if ok else "innovation_invalid"))
    if rng.random() < 0.02:
        claims.append(dict(indicator="honors", claimed={"code": "beijing_model_worker"},
                           status="invalid", reason="honors_invalid"))
    return claims


def seed(year: int | None = None, applicants: int = 300, seed: int = 2021, today: date | None = None) -> SeedSummary:
    """Load the demo year (default: demo_year(today)); safe to run again (adds only what is
    missing). Commits."""
    rng = random.Random(seed)
    today = today or date.today()
    year = year or demo_year(today)
    summary = SeedSummary(year)
    by_name = ensure_reference(summary, year, today)
    phases = db.session.get(Year, year)
    # Submitted during the application phase, checked by the registries just after it.
    submitted_on = min(phases.application_start + timedelta(days=10), phases.application_end)
    checked_on = phases.application_end + timedelta(days=7)
    seed_from_package(actor_label="seed-demo")  # the official calendar, before any due date is set

    for username, full_name, role, district_name in LOGINS:
        district = by_name[district_name] if district_name else None
        if db.session.scalar(select(Staff.id).where(Staff.username == username)) is None:
            create_staff(username, full_name, DEMO_PASSWORD, role, district.id if district else None,
                         actor_label="seed-demo")
            summary.bump("staff")
        summary.logins.append((username, role.label, district_name or "市级"))

    employers: list[Employer] = []
    for i in range(40):
        district = by_name[DEMO_DISTRICTS[i % len(DEMO_DISTRICTS)]]
        uscc = _uscc(rng, district.code)
        name = f"北京{rng.choice('华京科创远达博瑞中信安泰')}{rng.choice('新宏联通汇智星海云天')}{rng.choice(EMPLOYER_WORDS)}有限公司"
        employer = db.session.scalar(select(Employer).where(Employer.uscc == uscc))
        if employer is None:
            employer = Employer(uscc=uscc, name=name, district_id=district.id)
            db.session.add(employer)
            summary.bump("employers")
        employers.append(employer)
    db.session.flush()

    case_seq = 0
    seeded_ids: list[int] = []
    # The first new applications of 朝阳区 (the demo reviewer's) filed an overseas education: its
    # certificate is checked at the window (填报凭证审核, verifiers/filings.py), one of them old.
    overseas_certificates = ["教留服认美[2005]00231号", "120190003512"]
    contested_reasons = {"housing_listing_invalid", "rental_needs_verification", "edu_diploma_identity_mismatch",
                         "edu_degree_date_format", "tax_year_invalid", "innovation_invalid", "honors_invalid"}
    for n in range(applicants):
        # One generator per applicant: what a second run skips cannot shift the others.
        rng = random.Random(seed * 1_000_003 + n)
        birth = date(rng.randint(1976, 1992), rng.randint(1, 12), rng.randint(1, 28))
        id_number = _resident_id(rng, birth)
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
        employer = employers[n % len(employers)]
        claims = _claims_for(rng, year, birth, employer.district.name)
        case_roll = rng.random()
        received = today - timedelta(days=rng.randint(0, 24))
        phone = f"13{rng.randint(100000000, 999999999)}"

        applicant = db.session.scalar(select(Applicant).where(Applicant.id_number == id_number))
        if applicant is None:
            applicant = Applicant(id_number=id_number, name=name, birth_date=birth,
                                  phone=phone)
            db.session.add(applicant)
            db.session.flush()
            summary.bump("applicants")
        application = db.session.scalar(
            select(Application).where(Application.applicant_id == applicant.id, Application.year == year)
        )
        if application is None:
            application = Application(
                applicant_id=applicant.id, year=year, employer_id=employer.id, district_id=employer.district_id,
                submitted_at=datetime.combine(submitted_on, time(9), tzinfo=timezone.utc),
            )
            db.session.add(application)
            db.session.flush()
            summary.bump("applications")
            for spec in claims:
                r = reason(spec["reason"]) if spec["reason"] else None
                db.session.add(IndicatorClaim(
                    application_id=application.id,
                    indicator=Indicator(spec["indicator"]),
                    claimed=spec["claimed"],
                    registry_status=RegistryStatus(spec["status"]),
                    registry_reason=spec["reason"],
                    registry_message=r.message_zh.format(prev_year=year - 1, tax_year=year - 1) if r else None,
                    verified=spec["claimed"] if spec["status"] == "valid" else None,
                    checked_at=datetime.combine(checked_on, time(9), tzinfo=timezone.utc),
                ))
                summary.bump("claims")
            db.session.flush()
            if overseas_certificates and employer.district.name == "朝阳区":
                _overseas_filing(summary, application, overseas_certificates.pop(0), received)

        seeded_ids.append(application.id)
        # Cases: contests of contestable invalid results, some appeals, settlement and tips.
        db.session.refresh(application)
        for claim in application.claims:
            if claim.registry_reason in contested_reasons and case_roll < 0.75:
                case_seq += 1
                r = reason(claim.registry_reason)
                _ensure_case(summary, application, claim, CaseKind.review, case_seq, received,
                             review_type=r.review_types[0], reason_code=r.code, rng=rng, today=today)
        if 0.75 <= case_roll < 0.80:
            case_seq += 1
            claim = application.claims[0]
            _ensure_case(summary, application, claim, CaseKind.appeal, case_seq, received,
                         reason_code=claim.indicator.value, rng=rng, today=today)
        # (0.80–0.83 once made settlement cases for anyone: they are seed_settlement's now, qualified only.)
        elif 0.83 <= case_roll < 0.85:
            # Tips target the published list: backoffice/announcement/demo.py files them once
            # the year is scored and published (below).
            case_seq += 1

    # A real PDF per material slot of the open housing and education cases, for the workspace.
    files = ensure_demo_evidence(year, current_app.config["BACKOFFICE"].upload_dir)
    if files:
        summary.created["evidence files"] = files

    eligibility_cases = seed_eligibility(year, today, current_app.config["BACKOFFICE"].upload_dir)
    if eligibility_cases:
        summary.created["eligibility cases"] = eligibility_cases

    # Settlement cases, for qualified applicants of earlier years only (backoffice/settlement/demo.py).

    seed_settlement(summary, year, today)

    # Each application's first snapshot (none again on a second run: nothing changed).
    scored = rescore_batch(seeded_ids, trigger="seed-demo", actor_label="seed-demo")
    if scored.changed:
        summary.created["snapshots"] = scored.changed
    # The announcement: the published list, open tips, one revocation (backoffice/announcement).

    seed_announcement(summary, year, today)
    seed_backlog(summary, today)
    if summary.created:
        record("demo.seeded", "year", year, actor_label="seed-demo", after=dict(summary.created))
    db.session.commit()
    return summary


def seed_backlog(summary: SeedSummary, today: date, days: int = BACKLOG_DAYS) -> None:
    """The backlog trend's history (the days before `today`, rebuilt from receipt and closing
    dates, as `backoffice sweep --backfill` does) and today's sweep (backlog and escalations).
    Days already recorded are left alone, so a second run adds nothing."""
    first = today - timedelta(days=days)
    recorded = set(db.session.scalars(
        select(DailyBacklog.day).where(DailyBacklog.day >= first, DailyBacklog.day <= today).distinct()))
    for back in range(days, 0, -1):
        day = today - timedelta(days=back)
        if day not in recorded:
            record_backlog(day)
            summary.bump("backlog days")
    if today not in recorded:
        sweep(today)
        summary.bump("backlog days")


_APPEAL_STATEMENTS = ("对该指标的审核结果有异议，请核实。", "部分月份未计入，申请复核。", "核查结果与本人证书记载不一致。")


def _received_in_phase(application, kind, received, today):
    """The day a case of this kind reached the intake: the demo's day, moved into the phase
    the intake accepts it in (复查: the application phase; 异议申诉: the result-query phase;
    举报: the announcement; verifiers/phases.py)."""
    year = application.year_ref
    start, end = {
        CaseKind.tip: (year.announcement_start, year.announcement_end),
        CaseKind.review: (year.application_start, year.application_end),
    }.get(kind, (year.result_query_start, year.result_query_end))
    end = min(end, today)
    if end < start:
        return None
    return max(start, min(end, received))


def _ensure_case(summary, application, claim, kind, seq, received, *, review_type=None, reason_code=None, rng,
                 today=None):
    # Drawn before the existence check, so a second run follows the same random sequence.
    status = CaseStatus.awaiting_materials if rng.random() < 0.08 else CaseStatus.open
    return _ensure_intake_case(summary, application, claim, kind, received, review_type, status, today)


def _ensure_intake_case(summary, application, claim, kind, received, review_type, status, today):
    """复查, 异议申诉 and 举报 arrive through the intake service, as the API's would; found again
    by what they are about (the claim, the appealed indicator, the reported application)."""
    existing = select(ReviewCase.id).where(ReviewCase.application_id == application.id, ReviewCase.kind == kind)
    if kind == CaseKind.review:
        existing = existing.where(ReviewCase.claim_id == claim.id)
    elif kind == CaseKind.appeal:
        existing = existing.where(ReviewCase.reason_code == claim.indicator.value)
    if db.session.scalar(existing.limit(1)) is not None:
        return
    on = _received_in_phase(application, kind, received, today)
    if on is None:
        return
    try:
        if kind == CaseKind.review:
            # The files come from cases/demo_evidence.py once the case exists.
            case = intake.submit_review(claim, review_type=review_type, today=on, require_evidence=False,
                                        actor_label="seed-demo")
        elif kind == CaseKind.appeal:
            # An indicator of several claims (housing segments) is appealed naming the disputed one.
            several = sum(c.indicator == claim.indicator for c in application.claims) > 1
            named = {"claims": [claim]} if several else {"claim": claim}
            case = intake.submit_appeal(application, claim.indicator.value, **named, today=on,
                                        statement=_APPEAL_STATEMENTS[application.id % len(_APPEAL_STATEMENTS)],
                                        actor_label="seed-demo")
        else:
            reporter = random.Random(application.id)
            case = intake.submit_tip(
                application, today=on, statement="该申请人填报的住所信息与实际不符，请核查。",
                reporter_name=rng_name(reporter), reporter_id_number=_resident_id(reporter, date(1980, 6, 1)),
                actor_label="seed-demo")
    except intake.IntakeRefused:
        return  # e.g. the demo year existed with other phase dates
    if status != CaseStatus.open:
        case.status = status  # a few returned to the applicant, for the worklist's filters
        case.paused_on = on
        db.session.flush()
    summary.bump("cases")


def rng_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(2))
