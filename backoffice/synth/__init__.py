"""A realistic synthetic year, for benchmarks and load tests: `backoffice synth`.

What a year of 120 000 applications looks like (DESIGN.md, 2018–2020 figures): applicants
over the 17 district windows through their employers, social-insurance histories with
gaps and back payments, housing segments (own, rental from 2020-08, dorm), education,
rare awards (~1 % innovation or honours), tax of 100 000 yuan or more in each of the three
years (~2 %), about 8 % invalid registry results with the handbook's reasons
(verifiers.reasons), open review cases (复查 of contestable invalid results, then
异议申诉 to reach the count asked for) with evidence metadata (files' hashes, sizes and
pages; no bytes are written).

Claims follow the fact shapes of backoffice/applications/facts.py (one claim per filed
item; ``verified`` = the facts when the registry found them valid). Deterministic for a
seed: each applicant is drawn from its own generator, so the output does not depend on
chunking. Rows are written in bulk — COPY on PostgreSQL, executemany on SQLite — in one
transaction, with ids assigned here (sequences are moved past them afterwards).
"""
from __future__ import annotations

import hashlib
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache

from sqlalchemy import func, select, text

from backoffice.applications.models import Applicant, Application, EvidenceFile, IndicatorClaim
from backoffice.audit.services import record
from backoffice.core.bulk import Bulk
from backoffice.cases.clock import add_working_days
from backoffice.cases.models import ReviewCase
from backoffice.demo import SeedSummary, ensure_reference
from backoffice.extensions import db
from backoffice.intake.models import RegistryRecord
from backoffice.reference.data import DISTRICTS
from backoffice.reference.models import Employer, Year
from backoffice.scoring.tables import HONOURS, INNOVATION
from verifiers.identifiers import USCC_ALPHABET, resident_id_check_char, uscc_check_char
from verifiers.materials import review_type
from verifiers.reasons import reason
from verifiers.routing import queue_for

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红玉兰亮鹏飞宇浩然晨阳欣怡子涵梓轩思远雨婷嘉怡俊杰文博天佑佳琪诗涵一鸣泽宇晓东海燕丹丹春梅"
EMPLOYER_WORDS = ("科技", "信息技术", "网络", "生物医药", "文化传媒", "智能制造", "咨询", "新能源", "软件",
                  "金融服务", "电子商务", "物流", "医疗器械", "教育科技", "建筑设计", "环保", "数据", "通信")
BIRTH_REGIONS = ("110105", "110108", "130102", "370102", "410105", "420106", "510104", "230103", "210102",
                 "320106", "340104", "610113", "140105", "360102", "430104", "500103", "220102", "150102")
# Share of employers (and so of applications) per district window, roughly Beijing's.
DISTRICT_WEIGHTS = {
    "朝阳区": 22, "海淀区": 21, "东城区": 6, "西城区": 8, "丰台区": 6, "石景山区": 2, "门头沟区": 1,
    "房山区": 2, "通州区": 5, "顺义区": 4, "大兴区": 4, "昌平区": 5, "平谷区": 1, "怀柔区": 1,
    "密云区": 1, "延庆区": 1, "北京经济技术开发区": 6,
}
RESIDENCE_DISTRICTS = tuple(d[1] for d in DISTRICTS)

# Registry results per indicator: (reason code or None for a plain valid result, weight).
HOUSING_RESULTS = (
    (None, 720), ("housing_valid_dates", 60), ("housing_listing_invalid", 90), ("rental_needs_verification", 50),
    ("rental_record_mismatch", 35), ("housing_spouse_invalid", 15), ("rental_non_residential", 15),
    ("rental_no_title_certificate", 15),
)
EDUCATION_RESULTS = (
    (None, 790), ("edu_diploma_identity_mismatch", 80), ("edu_degree_identity_mismatch", 35),
    ("edu_degree_date_format", 40), ("edu_not_found", 30), ("edu_level_number_mismatch", 20),
    ("edu_date_after_cutoff", 5),
)
TAX_RESULTS = ((None, 82), ("tax_year_invalid", 15), ("tax_violation_record", 3))
INNOVATION_RESULTS = ((None, 70), ("innovation_invalid", 20), ("innovation_smkw_result", 10))
HONORS_RESULTS = ((None, 70), ("honors_invalid", 30))


def _pick(rng: random.Random, weighted):
    total = sum(w for _, w in weighted)
    x = rng.random() * total
    for value, w in weighted:
        x -= w
        if x < 0:
            return value
    return weighted[-1][0]


def _month(y: int, m: int) -> str:
    return f"{y:04d}-{m:02d}"


def _add_months(y: int, m: int, n: int) -> tuple[int, int]:
    k = y * 12 + (m - 1) + n
    return k // 12, k % 12 + 1


# Drawing one applicant ----------------------------------------------------------------------
@dataclass
class DrawnClaim:
    indicator: str
    facts: dict
    reason: str | None  # registry reason code; None = plain valid
    status: str  # valid | invalid


@dataclass
class Drawn:
    id_number: str
    name: str
    birth: date
    phone: str
    employer_index: int
    claims: list[DrawnClaim]


def draw_applicant(rng: random.Random, year: int, n_employers: int, employer_cum_weights) -> Drawn:
    cutoff = year - 1
    birth = date(rng.randint(1972, 1996), rng.randint(1, 12), rng.randint(1, 28))
    body = rng.choice(BIRTH_REGIONS) + birth.strftime("%Y%m%d") + f"{rng.randrange(1000):03d}"
    name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
    employer_index = rng.choices(range(n_employers), cum_weights=employer_cum_weights)[0]
    claims = [
        DrawnClaim("employment", _insurance(rng, birth, cutoff), None, "valid"),
        DrawnClaim("age", {"birth_date": birth.isoformat()}, None, "valid"),
        DrawnClaim("law_abiding", {"detentions": 1 if rng.random() < 0.003 else 0}, None, "valid"),
    ]
    claims += _housing(rng, cutoff, year)
    claims += _education(rng, birth, cutoff)
    if rng.random() < 0.18:
        claims.append(DrawnClaim("work_residence", {"chosen": True}, None, "valid"))
    tax = _tax(rng, year)
    if tax:
        claims.append(tax)
    roll = rng.random()
    if roll < 0.008:
        claims.append(_innovation(rng))
    elif roll < 0.010:
        code = _pick(rng, HONORS_RESULTS)
        claims.append(DrawnClaim("honors", {"code": rng.choice(tuple(HONOURS))}, code,
                                 "valid" if code is None else "invalid"))
    return Drawn(body + resident_id_check_char(body), name, birth, f"1{rng.choice('3578')}{rng.randint(100000000, 999999999)}",
                 employer_index, claims)


def _insurance(rng, birth: date, cutoff: int) -> dict:
    """Five insurance types paid from one start month to the cut-off, sometimes with a gap,
    a later start for some types, and a few back-paid (补缴) months."""
    first = max(1998, birth.year + 21)
    last = cutoff - 7  # eligibility: seven years of Beijing social insurance
    start_y = rng.randint(min(first, last), last)
    start = (start_y, rng.randint(1, 12))
    end = (cutoff, 12)

    def ranges(begin):
        if rng.random() < 0.12:  # one gap of 1–8 months (a job change)
            span = (end[0] - begin[0]) * 12 + end[1] - begin[1]
            # Mostly before the seven years that eligibility counts (第一篇 三): a gap inside them
            # (those who started just seven years ago) makes the few per cent who fail it.
            at = rng.randint(6, max(7, span - 6 - 84 - 8))
            gap_from = _add_months(*begin, at)
            gap_to = _add_months(*gap_from, rng.randint(1, 8))
            if gap_to < end:
                return [[_month(*begin), _month(*_add_months(*gap_from, -1))], [_month(*gap_to), _month(*end)]]
        return [[_month(*begin), _month(*end)]]

    pension = ranges(start)
    insurance = {"pension": {"paid": pension, "back_paid": []}}
    if rng.random() < 0.05:
        y, m = _add_months(*start, rng.randint(1, 24))
        insurance["pension"]["back_paid"] = [_month(y, m)]
    insurance["medical"] = {"paid": [list(r) for r in pension], "back_paid": []}
    later = _add_months(*start, rng.randint(0, 18))
    for kind in ("unemployment", "injury", "maternity"):
        if rng.random() < 0.93:
            insurance[kind] = {"paid": [[_month(*later), _month(*end)]], "back_paid": []}
    # 就业地 since 2018-01: one to three employers' districts, end to end.
    segments = []
    begin = max((2018, 1), start)
    pieces = rng.choice((1, 1, 1, 2, 2, 3))
    for i in range(pieces):
        if i == pieces - 1:
            stop = end
        else:
            stop = _add_months(*begin, rng.randint(6, 18))
            if stop >= end:
                stop = end
        segments.append({"from": _month(*begin), "to": _month(*stop), "district": rng.choice(RESIDENCE_DISTRICTS)})
        if stop == end:
            break
        begin = _add_months(*stop, 1)
    return {"insurance": insurance, "work_districts": segments}


def eligibility_records(rng: random.Random, year: int, id_number: str) -> list[tuple[str, str, dict]]:
    """An applicant's residence permit and, rarely, a criminal record (第一篇 一、四), from a stream
    of their own so the claims drawn do not change: 98.5 % hold a permit applied for in time,
    1.2 % applied for it in January of the application year, 0.3 % have none; 0.2 % have a record."""
    rows = []
    roll = rng.random()
    if roll < 0.985:
        applied = date(2010, 1, 1) + timedelta(days=rng.randrange((date(year - 1, 12, 31) - date(2010, 1, 1)).days + 1))
    elif roll < 0.997:
        applied = date(year, 1, rng.randint(1, 28))
    else:
        applied = None
    if applied is not None:
        number = f"京居{applied.year}{id_number}"
        rows.append(("residence_permits", number, {"permit_no": number, "id_number": id_number,
                                                   "applied_on": applied.isoformat(), "status": "有效"}))
    if rng.random() < 0.002:
        document = f"({year - 1 - rng.randint(0, 8)})京{rng.randint(101, 117):04d}刑初{rng.randint(1, 9999)}号-{id_number}"
        rows.append(("criminal_records", document, {
            "id_number": id_number, "source": "judgment", "document_no": document,
            "decided_on": date(year - 2, rng.randint(1, 12), rng.randint(1, 28)).isoformat(), "summary": "盗窃罪"}))
    return rows


def _registry(rng, weighted, indicator) -> tuple[str | None, str]:
    code = _pick(rng, weighted)
    if code is None:
        return None, "valid"
    return code, "valid" if reason(code).result == "valid" else "invalid"


def _housing(rng, cutoff: int, year: int) -> list[DrawnClaim]:
    segments = []
    roll = rng.random()
    if roll < 0.55:
        y = rng.randint(2008, cutoff - 1)
        segments.append({"type": "own", "from": _month(y, rng.randint(1, 12)), "to": _month(cutoff, 12),
                         "district": rng.choice(RESIDENCE_DISTRICTS)})
        if rng.random() < 0.15 and y > 2010:  # rented before buying
            segments.insert(0, {"type": "rental", "from": _month(y - 2, rng.randint(1, 12)),
                                "to": _month(y - 1, 12), "district": rng.choice(RESIDENCE_DISTRICTS)})
    elif roll < 0.88:
        segments.append({"type": "rental", "from": "2020-08", "to": _month(cutoff, 12),
                         "district": rng.choice(RESIDENCE_DISTRICTS)})
    elif roll < 0.95:
        segments.append({"type": "dorm", "from": "2020-08", "to": _month(cutoff, 12),
                         "district": rng.choice(RESIDENCE_DISTRICTS)})
    out = []
    for seg in segments:
        code, status = _registry(rng, HOUSING_RESULTS, "housing")
        if code is not None and seg["type"] != "own" and code in ("housing_listing_invalid", "housing_spouse_invalid",
                                                                 "housing_valid_dates"):
            code = "rental_needs_verification"
        if code is not None and seg["type"] == "own" and code.startswith("rental_"):
            code = "housing_listing_invalid"
        if code is not None:
            status = "valid" if reason(code).result == "valid" else "invalid"
        out.append(DrawnClaim("housing", seg, code, status))
    return out


def _education(rng, birth: date, cutoff: int) -> list[DrawnClaim]:
    level = _pick(rng, (("bachelor", 50), ("master", 24), ("junior_college", 14), ("doctor", 5), (None, 7)))
    if level is None:
        return []
    grad_year = min(birth.year + {"junior_college": 21, "bachelor": 22, "master": 25, "doctor": 28}[level]
                    + rng.randint(0, 4), cutoff)
    degree = None if level == "junior_college" else level
    if degree is not None and rng.random() < 0.04:
        degree = None  # a diploma without the degree
    claims = [_edu_claim(rng, {"level": level, "degree": degree, "graduated": _month(grad_year, rng.choice((6, 7)))})]
    if level in ("master", "doctor") and rng.random() < 0.25:  # the earlier degree filed too
        earlier = grad_year - (3 if level == "master" else 6)
        claims.append(_edu_claim(rng, {"level": "bachelor", "degree": "bachelor", "graduated": _month(earlier, 7)}))
    return claims


def _edu_claim(rng, facts: dict) -> DrawnClaim:
    code, status = _registry(rng, EDUCATION_RESULTS, "education")
    return DrawnClaim("education", facts, code, status)


def _tax(rng, year: int) -> DrawnClaim | None:
    roll = rng.random()
    if roll < 0.02:  # 100 000 yuan or more in each of the three years
        annual = {str(y): rng.randint(100_000, 400_000) for y in range(year - 3, year)}
    elif roll < 0.20:
        annual = {str(y): rng.randint(8_000, 99_000) for y in range(year - 3, year)}
        if rng.random() < 0.2:
            annual[str(year - 1)] = rng.randint(100_000, 150_000)
    else:
        return None
    code, status = _registry(rng, TAX_RESULTS, "tax")
    violations = 0
    if code == "tax_violation_record":
        violations, status = 1, "valid"  # a record found is a verified fact (it scores −12)
    return DrawnClaim("tax", {"annual": annual, "violations": violations}, code, status)


_AWARDS = tuple(sorted(INNOVATION))


def _innovation(rng) -> DrawnClaim:
    code = rng.choice(_AWARDS)
    _name, grades = INNOVATION[code]
    grade = rng.choice(sorted(grades, key=lambda g: (g is None, g or "")))
    facts: dict = {"code": code}
    if grade is not None:
        facts["grade"] = grade
    bands = grades[grade]
    if any(b[0] is not None for b in bands):
        facts["rank"] = rng.randint(1, max(b[1] for b in bands if b[1] is not None))
    code_r, status = _registry(rng, INNOVATION_RESULTS, "innovation")
    return DrawnClaim("innovation", facts, code_r, status)


# Writing in bulk: backoffice/core/bulk.py (Bulk), shared with the eligibility year check.


# The generator -----------------------------------------------------------------------------------
@dataclass
class SynthSummary:
    year: int
    seed: int
    counts: dict[str, int] = field(default_factory=dict)

    def describe(self) -> str:
        parts = ", ".join(f"{n} {what}" for what, n in self.counts.items())
        return f"synthetic year {self.year} (seed {self.seed}): {parts}"


class SynthError(RuntimeError):
    pass


def synthesize(year: int = 2021, applications: int = 120_000, seed: int = 1, open_cases: int = 60_000,
               chunk: int = 5000, progress: Callable[[int], None] | None = None,
               closed: bool = False) -> SynthSummary:
    """Generate and insert a synthetic year; commits once at the end. ``closed``: an earlier,
    finished year (its review cases decided and closed), for a database holding several years."""
    session = db.session
    if session.scalar(select(func.count()).select_from(Application).where(Application.year == year)):
        raise SynthError(f"year {year} already has applications; synthesize into an empty year or database")
    by_name = ensure_reference(SeedSummary(year), year)
    year_row = session.get(Year, year)
    bulk = Bulk(session)
    master = random.Random(seed)
    summary = SynthSummary(year, seed)

    # Employers: about one per 20 applications, spread over the windows.
    n_employers = max(20, applications // 20)
    names = list(DISTRICT_WEIGHTS)
    weights = [DISTRICT_WEIGHTS[n] for n in names]
    taken_uscc = set(session.scalars(select(Employer.uscc)))
    next_id = {m: (session.scalar(select(func.max(m.id))) or 0) + 1
               for m in (Employer, Applicant, Application, IndicatorClaim, ReviewCase, EvidenceFile)}
    employers = []
    employer_district = []
    for i in range(n_employers):
        # Every window gets employers: the first 17 go one to each, the rest by weight.
        district = by_name[names[i] if i < len(names) else master.choices(names, weights=weights)[0]]
        while True:
            body = "91" + district.code + "".join(master.choice(USCC_ALPHABET) for _ in range(9))
            uscc = body + uscc_check_char(body)
            if uscc not in taken_uscc:
                taken_uscc.add(uscc)
                break
        employers.append({
            "id": next_id[Employer] + i, "uscc": uscc, "district_id": district.id,
            "name": f"北京{master.choice('华京科创远达博瑞中信安泰智云星')}{master.choice('新宏联通汇智星海云天恒盛')}"
                    f"{master.choice(EMPLOYER_WORDS)}有限公司",
        })
        employer_district.append(district.id)
    bulk.insert(Employer, employers)
    summary.counts["employers"] = n_employers
    registry_id = (session.scalar(select(func.max(RegistryRecord.id))) or 0) + 1
    loaded = datetime.combine(year_row.application_start, time(8), tzinfo=timezone.utc)
    # 第二篇: every unit is a Beijing unit with a tax registration (tax_registrations.csv).
    tax_rows = [{"id": registry_id + i, "dataset": "tax_registrations", "record_key": e["uscc"], "id_number": None,
                 "data": {"uscc": e["uscc"], "name": e["name"], "status": "正常", "registered_on": "2010-01-01"},
                 "loaded_at": loaded} for i, e in enumerate(employers)]
    bulk.insert(RegistryRecord, tax_rows)
    registry_id += len(tax_rows)
    n_permits = n_crimes = 0
    # Large employers file many applications: a long-tailed weight per employer.
    employer_weights = list(itertools.accumulate(master.paretovariate(1.3) for _ in range(n_employers)))

    taken_ids = set(session.scalars(select(Applicant.id_number)))
    submitted = datetime.combine(year_row.application_end - timedelta(days=5), time(9), tzinfo=timezone.utc)
    checked = datetime.combine(year_row.application_end + timedelta(days=20), time(9), tzinfo=timezone.utc)
    contestable: list[tuple[int, int, str, str, int]] = []  # (claim id, app id, indicator, reason, district)
    last4_of_app: dict[int, str] = {}  # copied onto the cases (review_cases.id_last4)
    appealable: list[tuple[int, int, str, int]] = []  # valid claims for appeals: (claim id, app id, indicator, district)
    n_claims = n_invalid = n_tax100 = n_awards = 0
    app_id, claim_id, applicant_id = next_id[Application], next_id[IndicatorClaim], next_id[Applicant]
    messages: dict[str, str] = {}

    for start in range(0, applications, chunk):
        applicants_rows, application_rows, claim_rows, registry_rows = [], [], [], []
        for n in range(start, min(start + chunk, applications)):
            rng = random.Random(seed * 1_000_003 + n)
            drawn = draw_applicant(rng, year, n_employers, employer_weights)
            while drawn.id_number in taken_ids:  # a rare clash of region, birth date and sequence
                drawn = draw_applicant(rng, year, n_employers, employer_weights)
            taken_ids.add(drawn.id_number)
            for dataset, key, data in eligibility_records(random.Random(seed * 7_000_003 + n), year, drawn.id_number):
                registry_rows.append({"id": registry_id, "dataset": dataset, "record_key": key,
                                      "id_number": drawn.id_number, "data": data, "loaded_at": loaded})
                registry_id += 1
                n_permits += dataset == "residence_permits"
                n_crimes += dataset == "criminal_records"
            last4_of_app[app_id] = drawn.id_number[-4:]
            applicants_rows.append({"id": applicant_id, "id_number": drawn.id_number, "id_last4": drawn.id_number[-4:],
                                    "name": drawn.name, "birth_date": drawn.birth, "phone": drawn.phone,
                                    "created_at": submitted})
            district_id = employer_district[drawn.employer_index]
            application_rows.append({"id": app_id, "applicant_id": applicant_id, "year": year,
                                     "employer_id": employers[drawn.employer_index]["id"], "district_id": district_id,
                                     "submitted_at": submitted, "total": None})
            for c in drawn.claims:
                message = None
                if c.reason is not None:
                    message = messages.get(c.reason)
                    if message is None:
                        message = messages[c.reason] = reason(c.reason).text(year=year, tax_year=year - 1)
                claim_rows.append({
                    "id": claim_id, "application_id": app_id, "year": year, "indicator": c.indicator,
                    "claimed": c.facts,
                    "registry_status": c.status, "registry_reason": c.reason, "registry_message": message,
                    "verified": c.facts if c.status == "valid" else None, "verified_by_decision_id": None,
                    "checked_at": checked,
                })
                if c.status == "invalid":
                    n_invalid += 1
                if c.reason is not None and reason(c.reason).contestable:
                    contestable.append((claim_id, app_id, c.indicator, c.reason, district_id))
                elif c.status == "valid" and c.indicator in ("housing", "education", "employment"):
                    appealable.append((claim_id, app_id, c.indicator, district_id))
                if c.indicator == "tax" and all(v >= 100_000 for v in c.facts["annual"].values()) \
                        and len(c.facts["annual"]) == 3:
                    n_tax100 += 1
                if c.indicator in ("innovation", "honors"):
                    n_awards += 1
                claim_id += 1
                n_claims += 1
            applicant_id += 1
            app_id += 1
        bulk.insert(Applicant, applicants_rows)
        bulk.insert(Application, application_rows)
        bulk.insert(IndicatorClaim, claim_rows)
        bulk.insert(RegistryRecord, registry_rows)
        if progress is not None:
            progress(len(application_rows))

    summary.counts.update(applications=applications, claims=n_claims, invalid_claims=n_invalid,
                          tax_100k_each_year=n_tax100, awards=n_awards, residence_permits=n_permits,
                          criminal_records=n_crimes)
    cases, evidence = _cases(master, year, year_row, by_name, contestable, appealable, open_cases,
                             next_id[ReviewCase], next_id[EvidenceFile], closed)
    for case in cases:
        case["id_last4"] = last4_of_app[case["application_id"]]
    for i in range(0, len(cases), 20_000):
        bulk.insert(ReviewCase, cases[i:i + 20_000])
    for i in range(0, len(evidence), 20_000):
        bulk.insert(EvidenceFile, evidence[i:i + 20_000])
    summary.counts.update({"closed_cases" if closed else "open_cases": len(cases), "evidence_files": len(evidence)})
    bulk.move_sequences(Employer, Applicant, Application, IndicatorClaim, ReviewCase, EvidenceFile, RegistryRecord)
    record("synth.generated", "year", year, actor_label="synth", after={"seed": seed, **summary.counts})
    session.commit()
    if bulk.postgres:  # the planner's statistics: the tables just grew from nothing
        for model in (Applicant, Application, IndicatorClaim, ReviewCase, EvidenceFile, Employer, RegistryRecord):
            session.execute(text(f"ANALYZE {model.__tablename__}"))
        session.commit()
    return summary


@lru_cache(maxsize=None)
def _due(received: date) -> date:
    return add_working_days(received, 10)


def _cases(rng, year, year_row, by_name, contestable, appealable, wanted, first_case_id, first_evidence_id,
           closed=False):
    """Open review cases: 复查 of contestable results first, then 异议申诉 up to `wanted`;
    with ``closed``, the same cases closed a few working days before their due date."""
    codes = {d.id: d.code for d in by_name.values()}
    rng.shuffle(contestable)
    chosen = [("review", *c) for c in contestable[:wanted]]
    if len(chosen) < wanted:
        rng.shuffle(appealable)
        chosen += [("appeal", cid, aid, ind, None, did) for cid, aid, ind, did in appealable[:wanted - len(chosen)]]
    chosen.sort(key=lambda c: c[1])  # by claim: case ids follow the applications
    cases, evidence = [], []
    case_id, evidence_id = first_case_id, first_evidence_id
    base = year_row.result_query_start
    for seq, (kind, cid, aid, indicator, reason_code, district_id) in enumerate(chosen, start=1):
        received = base + timedelta(days=rng.randint(0, 24))
        paused = rng.random() < 0.08
        status = "awaiting_materials" if paused else "open"
        closed_at = None
        if closed:
            status = "closed"
            closed_at = datetime.combine(add_working_days(received, rng.randint(2, 9)), time(16), tzinfo=timezone.utc)
        rt = None
        if kind == "review":
            types = reason(reason_code).review_types
            rt = types[0] if len(types) == 1 else rng.choice(types)
        cases.append({
            "id": case_id, "number": f"{year}-{codes[district_id]}-S{seq:06d}", "year": year,
            "application_id": aid, "claim_id": cid, "queue": queue_for(indicator, kind), "kind": kind,
            "review_type": rt, "reason_code": reason_code if kind == "review" else indicator,
            "applicant_statement": None, "district_id": district_id,
            "status": status, "assignee_id": None,
            "received_on": received, "due_date": _due(received),
            "paused_on": received + timedelta(days=rng.randint(1, 6)) if paused else None,
            "closed_at": closed_at, "created_at": datetime.combine(received, time(10), tzinfo=timezone.utc),
            "version": 1,
        })
        if rt is not None and rng.random() < 0.7:
            rows = review_type(rt).rows
            for material in rng.sample(rows, k=min(len(rows), rng.randint(1, 3))):
                size = rng.randint(40_000, 1_048_576)
                evidence.append({
                    "id": evidence_id, "case_id": case_id, "material_slot": material.code,
                    "sha256": hashlib.sha256(f"{case_id}:{material.code}:{rng.random()}".encode()).hexdigest(),
                    "size": size, "pages": rng.randint(1, 6), "original_name": f"{material.code}.pdf",
                    "uploaded_at": datetime.combine(received, time(11), tzinfo=timezone.utc),
                })
                evidence_id += 1
        case_id += 1
    return cases, evidence
