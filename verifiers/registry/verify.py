"""The registry check of one claim: the handbook's result shapes and words.

``verify(...)`` compares a claim (its facts as filed and the identifiers the applicant
entered) with the registries and returns a ``RegistryResult``:

* ``status`` valid / invalid, ``reason`` a code of ``verifiers.reasons`` (or None),
  ``message`` the text the applicant sees (the reason's message, "有效", or the per-year
  tax results "2020年无效; 2019年有效; 2018年无效");
* ``verified`` the facts scoring uses, in the claim's own shape
  (backoffice/applications/facts.py), or None when nothing counts;
* ``details`` the result page's fields with the handbook's labels (房源审核状态, 登簿日期(填发日期),
  权证失效日期, 有效的居住起始年月, 有效的居住终止年月, 居住月数 …), "--" where the handbook shows it.

Deterministic: the same claim and registries give the same result. Innovation, honours and
work-residence have no registry here (their departments answer through the API); overseas
education certificates are checked by the district window: ``verify`` returns None for them.

Pure: no Flask or SQLAlchemy.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from verifiers.identifiers import birth_date_of, sex_of
from verifiers.reasons import reason
from verifiers.registry.adapters import Registries

MISSING = "--"
RENTAL_FILED_FROM = "2020-08"  # 2020年8月(含)以后在租赁住所、单位宿舍的连续居住年限须在系统中填报
TAX_YEAR_THRESHOLD = 100_000  # 个人所得税纳税额每1年在10万元及以上的,加2分
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_DEGREE_DATE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])(-\d{2})?$")


@dataclass(frozen=True)
class Person:
    """The applicant as the ID card says (年龄计算以个人身份证件记录为准)."""

    id_number: str
    name: str

    @property
    def birth_date(self) -> date:
        return birth_date_of(self.id_number)

    @property
    def sex(self) -> str:
        return sex_of(self.id_number)


@dataclass(frozen=True)
class RegistryResult:
    status: str  # "valid" | "invalid"
    reason: str | None
    message: str
    verified: dict | None
    details: dict = field(default_factory=dict)
    source: str = ""

    def as_dict(self) -> dict:
        return {"status": self.status, "reason": self.reason, "message": self.message,
                "verified": self.verified, "details": self.details, "source": self.source}


# Months ------------------------------------------------------------------------------------
def _mi(month: str) -> int:
    return int(month[:4]) * 12 + int(month[5:7]) - 1


def _ms(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def months_between(start: str, end: str) -> int:
    """Months from ``start`` to ``end``, both included (2014-08 … 2017-12 is 41); 0 if reversed."""
    return max(0, _mi(end) - _mi(start) + 1)


def _cutoff(year: int) -> str:
    return f"{year - 1}-12"  # facts count up to December of the year before


def _valid_month(value) -> bool:
    return isinstance(value, str) and bool(_MONTH.match(value))


# Verifiers -----------------------------------------------------------------------------------
def verify(indicator: str, claimed: dict, filed: dict, person: Person, year: int, registries: Registries,
           *, employer_uscc: str | None = None) -> RegistryResult | None:
    """The registry result of one claim, or None when no registry checks this claim."""
    claimed = claimed or {}
    filed = filed or {}
    check = _VERIFIERS.get(indicator)
    if check is None:
        return None
    result = check(claimed, filed, person, year, registries, employer_uscc)
    if result is None:
        return None
    return RegistryResult(result.status, result.reason, result.message, result.verified, result.details,
                          registries.source)


def _r(status, code, message, verified, details) -> RegistryResult:
    return RegistryResult(status, code, message, verified, details)


def _spouse_ok(filed: dict, person: Person, registries: Registries, start: str, end: str) -> bool:
    """The spouse entered is married to the applicant over the whole claimed stretch."""
    spouse = filed.get("spouse") or {}
    spouse_id = str(spouse.get("id_number") or "").upper()
    for m in registries.police.marriages(person.id_number):
        if m.spouse_id_number != spouse_id or m.spouse_name != spouse.get("name"):
            continue
        if m.start[:7] <= start and (m.end is None or m.end[:7] >= end):
            return True
    return False


def _housing(claimed, filed, person, year, registries, employer_uscc):
    kind = claimed.get("type")
    start, end = claimed.get("from"), claimed.get("to")
    if not (_valid_month(start) and _valid_month(end)):
        return None
    if kind == "rental":
        return _rental(claimed, filed, person, year, registries)
    owner = filed.get("owner", "employer" if kind == "dorm" else "self")

    def invalid(code):
        r = reason(code)
        return _r("invalid", code, r.message_zh, None, {
            "房源审核状态": r.message_zh, "登簿日期(填发日期)": MISSING, "权证失效日期": MISSING,
            "有效的居住起始年月": MISSING, "有效的居住终止年月": MISSING, "居住月数": 0,
        })

    if owner == "spouse" and not _spouse_ok(filed, person, registries, start, end):
        return invalid("housing_spouse_invalid")
    title = registries.real_estate.title(str(filed.get("certificate_no") or ""))
    expected_owner = {
        "self": person.id_number,
        "spouse": str((filed.get("spouse") or {}).get("id_number") or "").upper(),
        # 单位宿舍的产权应属单位所有
        "employer": employer_uscc,
    }.get(owner)
    if title is None or title.owner_id != expected_owner or title.use != "住宅":
        return invalid("housing_listing_invalid")
    eff_start = max(start, title.registered)
    eff_end = min(end, _cutoff(year), *( [title.expires] if title.expires else [] ))
    months = months_between(eff_start, eff_end)
    details = {
        "房源审核状态": "有效", "登簿日期(填发日期)": title.registered, "权证失效日期": title.expires or MISSING,
        "有效的居住起始年月": eff_start if months else MISSING, "有效的居住终止年月": eff_end if months else MISSING,
        "居住月数": months,
    }
    verified = {"type": kind, "from": eff_start, "to": eff_end, "district": title.district} if months else None
    return _r("valid", "housing_valid_dates", reason("housing_valid_dates").message_zh, verified, details)


def _rental(claimed, filed, person, year, registries):
    start, end = claimed["from"], claimed["to"]

    def invalid(code):
        r = reason(code)
        return _r("invalid", code, r.message_zh, None, {
            "比对结果": r.status_zh or r.message_zh, "原因": r.message_zh, "合同开始日期": MISSING,
            "合同结束日期": MISSING, "有效居住开始日期": MISSING, "有效居住终止日期": MISSING, "居住月数": 0,
        })

    tenant = filed.get("tenant", "self")
    if tenant == "spouse" and not _spouse_ok(filed, person, registries, start, end):
        return invalid("housing_spouse_invalid")
    lease = registries.rental.lease(str(filed.get("lease_no") or ""))
    expected = person.id_number if tenant != "spouse" else str((filed.get("spouse") or {}).get("id_number") or "").upper()
    if lease is None or lease.tenant_id_number != expected:
        return invalid("rental_record_mismatch")
    if lease.use != "住宅":
        return invalid("rental_non_residential")
    if not lease.has_title:
        return invalid("rental_no_title_certificate")
    if lease.needs_verification:
        return invalid("rental_needs_verification")
    eff_start = max(start, lease.start[:7], RENTAL_FILED_FROM)
    eff_end = min(end, lease.end[:7], _cutoff(year))
    months = months_between(eff_start, eff_end)
    details = {
        "比对结果": "有效", "合同开始日期": lease.start, "合同结束日期": lease.end,
        "有效居住开始日期": eff_start if months else MISSING, "有效居住终止日期": eff_end if months else MISSING,
        "居住月数": months,
    }
    verified = {"type": "rental", "from": eff_start, "to": eff_end, "district": lease.district} if months else None
    return _r("valid", None, "有效", verified, details)


def _education(claimed, filed, person, year, registries, _employer):
    if filed.get("kind", "domestic") != "domestic":
        return None  # 留学: the window checks the recognition certificate (edu_overseas_certificate)
    level, degree = claimed.get("level"), claimed.get("degree")
    wanted = [("diploma", level, filed.get("diploma_no")), ("degree", degree, filed.get("degree_no"))]
    wanted = [(kind, lv, no) for kind, lv, no in wanted if lv]
    if not wanted:
        return None
    details: dict = {}
    dates: dict[str, str] = {}
    for kind, lv, number in wanted:
        label = "学历" if kind == "diploma" else "学位"

        def invalid(code, _label=label):
            r = reason(code)
            text = r.text(year)
            details[f"{_label}无效原因"] = text
            return _r("invalid", code, text, None, details)

        rec = registries.education.education(kind, str(number or ""))
        if rec is None or rec.id_number != person.id_number:
            return invalid("edu_not_found")
        if rec.level != lv:
            return invalid("edu_level_number_mismatch")
        if (rec.name, rec.birth_date, rec.sex) != (person.name, person.birth_date.isoformat(), person.sex):
            return invalid("edu_diploma_identity_mismatch" if kind == "diploma" else "edu_degree_identity_mismatch")
        if not rec.date or not _DEGREE_DATE.match(rec.date):
            return invalid("edu_degree_date_format" if kind == "degree" else "edu_not_found")
        if rec.date[:7] > _cutoff(year):
            return invalid("edu_date_after_cutoff")
        dates[kind] = rec.date[:7]
        details["备案毕业时间" if kind == "diploma" else "获学位日期"] = rec.date
        details[f"{label}对比结果"] = "有效"
    # 取得学历及学位的/只取得学历的, 毕业时间以学历的备案"毕业日期"为准; 只取得学位的, 以"获学位日期"为准.
    graduated = dates.get("diploma") or dates["degree"]
    return _r("valid", None, "有效", {"level": level, "degree": degree, "graduated": graduated}, details)


def _tax(claimed, filed, person, year, registries, _employer):
    amounts = registries.tax.annual_tax(person.id_number)
    years = list(range(year - 1, year - 4, -1))  # 近3年, newest first as the result page lists them
    valid_years = [y for y in years if amounts.get(y, 0) >= TAX_YEAR_THRESHOLD]
    texts = [f"{y}年{'有效' if y in valid_years else '无效'}" for y in years]
    # 涉税违法行为: 自积分落户申报工作启动前连续5个自然年度内.
    violations = sum(1 for v in registries.tax.tax_violations(person.id_number)
                     if year - 5 <= int(v.decided_on[:4]) <= year - 1)
    message = "; ".join(texts)
    details = {
        "比对结果": f"有效 ({len(valid_years)}年)" if valid_years else "无效",
        "年度结果": message + ";",
        "近五年在本市涉税违法次数": violations,
    }
    # The engine needs every year's amount (its "each year > 0" rule); points come from the
    # years of 100 000 or more, which are the years shown 有效.
    verified = {"annual": {str(y): amounts[y] for y in sorted(years) if amounts.get(y, 0) > 0},
                "violations": violations}
    if valid_years:
        status = "valid"
        code = "tax_year_invalid" if len(valid_years) < len(years) else ("tax_violation_record" if violations else None)
    elif violations:
        # No year counts, but a violation record deducts points whether or not the positive
        # part applies (SCORING.md rule 6): the facts must count.
        status, code = "valid", "tax_violation_record"
    else:
        status, code = "invalid", "tax_year_invalid"
    return _r(status, code, message, verified if status == "valid" else None, details)


def _employment(claimed, filed, person, year, registries, employer_uscc):
    records = registries.social_insurance.insurance(person.id_number)
    if not records:
        return _r("invalid", None, "未查询到本市社会保险缴费记录", None, {"在京缴纳社会保险": MISSING})
    insurance: dict[str, dict] = {}
    for r in records:
        slot = insurance.setdefault(r.insurance_type, {"paid": [], "back_paid": []})
        slot["paid"].append([r.start, r.end])
        slot["back_paid"].extend(m for m in r.back_paid if r.start <= m <= r.end)
    # 就业地 (work district) from the pension rows, or the first type that has rows.
    basis = next(t for t in ("pension", "medical", "unemployment", "injury", "maternity") if t in insurance)
    work = []
    last_end = -1
    for r in sorted((r for r in records if r.insurance_type == basis), key=lambda r: r.start):
        s, e = max(_mi(r.start), last_end + 1), _mi(r.end)
        if s <= e:
            work.append({"from": _ms(s), "to": _ms(e), "district": r.district})
            last_end = e
    cutoff = _cutoff(year)
    longest = max(insurance, key=lambda t: sum(months_between(a, min(b, cutoff)) for a, b in insurance[t]["paid"]))
    details = {"截止年月": cutoff, "缴费最长险种": longest}
    # 本单位员工是指用人单位正常连续为其缴纳社会保险费并在北京市实际就业的申请人 (第二篇 一 4): the unit
    # insuring the applicant in the latest months (the rows reaching furthest up to the cut-off)
    # must be the applying unit.
    latest = max(min(r.end, cutoff) for r in records)
    insurers = sorted({r.employer_uscc for r in records
                       if r.employer_uscc and r.start <= latest <= r.end})
    if employer_uscc and insurers:
        details["参保单位"] = "、".join(insurers)
        if insurers != [employer_uscc]:
            message = (f"{latest}参保单位（{'、'.join(insurers)}）与申报单位（{employer_uscc}）不一致："
                       "本单位员工是指用人单位正常连续为其缴纳社会保险费并在北京市实际就业的申请人")
            return _r("invalid", None, message, None, details)
    return _r("valid", None, "有效", {"insurance": insurance, "work_districts": work}, details)


def _age(claimed, filed, person, year, registries, _employer):
    born = person.birth_date
    # 年龄计算截至积分落户申报工作启动的上一年度1月1日
    completed = (year - 1) - born.year - (1 if (born.month, born.day) > (1, 1) else 0)
    return _r("valid", None, "有效", {"birth_date": born.isoformat()},
              {"出生日期": born.isoformat(), f"截止到{year - 1}-01-01的年龄": completed})


def _law_abiding(claimed, filed, person, year, registries, _employer):
    count = sum(1 for d in registries.police.detentions(person.id_number) if year - 5 <= int(d.decided_on[:4]) <= year - 1)
    return _r("valid", None, "有效", {"detentions": count}, {"近五年在本市因违反有关法律法规被公安机关处以行政拘留处罚次数": count})


_VERIFIERS = {
    "housing": _housing,
    "education": _education,
    "tax": _tax,
    "employment": _employment,
    "age": _age,
    "law_abiding": _law_abiding,
}
