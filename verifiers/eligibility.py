"""The four eligibility conditions (第一篇 资格条件) as data, and their check.

"根据《北京市积分落户管理办法》《北京市积分落户操作管理细则》，符合以下四项资格条件的在京外地户籍人员
可以申报北京市积分落户" — every condition is evaluated as of 31 December of the year before
the application year (截至积分落户申报工作启动的上一年度12月31日), from the facts the
registries hold: residence permits, the social-insurance histories (the shape the engine
reads: {type: {"paid": [[from, to]], "back_paid": [...]}}), criminal records, and the
applicant's sex, birth date and post type (工人 or 干部/管理岗, which comes with the application).

``evaluate(facts)`` returns one ``ConditionResult`` per condition: whether it holds, the
condition's words (a verbatim quote), the prompt the applicant sees when it fails
("如不满足资格条件，系统将自动提示原因") and the facts it used, so the result can be stored
and shown at the window. An objection (资格异议, "对提示原因有异议的，可向所在区积分落户服务窗口提出")
is decided on the materials of ``OBJECTION_MATERIALS``; upholding it re-runs ``evaluate``
with the facts the window corrected (``Facts.with_corrections``).

Pure: no Flask, SQLAlchemy or RQ.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date

from verifiers.materials import Material
from verifiers.registry.records import PERMIT_STATUSES, TAX_STATUSES  # noqa: F401 (re-exported)

SECTION = "第一篇 资格条件"
# "如不满足资格条件，系统将自动提示原因。对提示原因有异议的，可向所在区积分落户服务窗口提出。"
PROMPT_FOOTER = "对提示原因有异议的，可向所在区积分落户服务窗口提出。"

INSURANCE_TYPES = ("pension", "medical", "unemployment", "injury", "maternity")
INSURANCE_LABELS = {"pension": "养老", "medical": "医疗", "unemployment": "失业", "injury": "工伤",
                    "maternity": "生育"}
POSTS = {"worker": "工人", "cadre": "干部(管理岗人员)"}
SEXES = {"M": "男", "F": "女"}
PERMIT_VALID = "有效"
INSURANCE_NORMAL = "正常"
CRIMINAL_SOURCES = {"judgment": "人民法院生效的法律文书", "police_certificate": "户籍地公安机关出具的证明"}

CONTINUOUS_MONTHS = 84  # 在京连续缴纳社会保险满7年
BACK_PAID_LIMIT = 5  # 补缴记录累计不超过5个月


@dataclass(frozen=True)
class Condition:
    code: str
    title: str  # the heading of 第一篇, verbatim
    words: str  # the condition's text, verbatim
    label_en: str


CONDITIONS: tuple[Condition, ...] = (
    Condition("residence_permit", "一、持有本市居住证",
              "应为北京市公安局核发的《北京市居住证》，在积分落户申报工作启动的上一年度12月31日前申领。",
              "Holds a Beijing residence permit"),
    Condition("retirement_age", "二、不超过法定退休年龄",
              "截至积分落户申报工作启动的上一年度12月31日，一般应为男60周岁(不含)以下，女工人50周岁(不含)以下，"
              "女干部(管理岗人员)55周岁(不含)以下，且用人单位正常连续为其缴纳社会保险费。如遇国家退休政策调整，按新政策执行。",
              "Under the statutory retirement age"),
    Condition("social_insurance", "三、在京连续缴纳社会保险7年及以上",
              "截至积分落户申报工作启动的上一年度12月31日，申请人应在京连续缴纳社会保险满7年(补缴记录累计不超过5个月)，"
              "养老、医疗、失业、工伤、生育各项险种的缴费应符合北京市社会保险相关规定。"
              "实际缴费记录应在积分落户申报工作启动的上一年度12月31日前形成，且缴费状态正常。",
              "Seven years of continuous social insurance in Beijing"),
    Condition("criminal_record", "四、无刑事犯罪记录",
              "刑事犯罪记录以人民法院生效的法律文书或户籍地公安机关出具的证明为核实依据。",
              "No criminal record"),
)
CONDITION_CODES = tuple(c.code for c in CONDITIONS)
_BY_CODE = {c.code: c for c in CONDITIONS}


def condition(code: str) -> Condition:
    try:
        return _BY_CODE[code]
    except KeyError:
        raise ValueError(f"unknown eligibility condition {code!r}; expected one of {', '.join(CONDITION_CODES)}") from None


# "如遇国家退休政策调整，按新政策执行": the limits are data per application year, not constants.
# Each entry applies from its year until a later entry; add a row when the policy changes.
# Ages are completed years (周岁) that are no longer allowed ("60周岁(不含)以下").
RETIREMENT_LIMITS: tuple[tuple[int, Mapping[tuple[str, str | None], int]], ...] = (
    (2018, {("M", None): 60, ("F", "worker"): 50, ("F", "cadre"): 55}),
)


def retirement_limit(year: int, sex: str, post: str | None) -> int:
    """The completed age (周岁) an applicant of this sex and post must stay under in ``year``."""
    table = None
    for since, limits in RETIREMENT_LIMITS:
        if since <= year:
            table = limits
    if table is None:
        raise ValueError(f"no retirement limits for {year}")
    if sex == "M":
        return table[("M", None)]
    return table[("F", post if post in POSTS else "worker")]


# Which insurance types the 84 months are counted on (第一篇 三: "养老、医疗、失业、工伤、生育各项险种的
# 缴费应符合北京市社会保险相关规定"): pension and medical must be paid every month of the 84;
# unemployment, injury and maternity, where the applicant is insured for them, must not break off
# (no 断缴) from their first month in the period to December of Y-1. Back-paid months are
# counted once per calendar month whichever types they were paid for ("累计不超过5个月").
INSURANCE_RULES: Mapping[str, str] = {
    "pension": "every_month",
    "medical": "every_month",
    "unemployment": "no_break",
    "injury": "no_break",
    "maternity": "no_break",
}


# Facts ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Permit:
    number: str
    applied_on: date
    status: str = PERMIT_VALID


@dataclass(frozen=True)
class CriminalRecord:
    source: str  # judgment | police_certificate
    document_no: str
    decided_on: date
    summary: str = ""


@dataclass(frozen=True)
class Facts:
    year: int
    sex: str  # M | F, from the ID number (年龄计算以个人身份证件记录为准)
    birth_date: date
    post: str | None = None  # worker | cadre; matters for women only
    permits: tuple[Permit, ...] = ()
    insurance: Mapping = field(default_factory=dict)
    insurance_status: str | None = INSURANCE_NORMAL  # the registry's 缴费状态 for the latest months
    criminal_records: tuple[CriminalRecord, ...] = ()
    cleared_documents: frozenset[str] = frozenset()  # records the window found not to be the applicant's

    @property
    def as_of(self) -> date:
        return as_of(self.year)

    def with_corrections(self, corrections: Mapping[str, Mapping]) -> "Facts":
        """These facts with what the window corrected on an objection (see CORRECTABLE)."""
        f = self
        for code, values in (corrections or {}).items():
            values = dict(values or {})
            if code == "residence_permit":
                f = replace(f, permits=f.permits + (Permit(str(values.get("number") or "窗口核实"),
                                                           _as_date(values["applied_on"]), PERMIT_VALID),))
            elif code == "retirement_age":
                f = replace(f, post=values["post"])
            elif code == "social_insurance":
                f = replace(f, insurance=_corrected_insurance(f.insurance, values), insurance_status=INSURANCE_NORMAL)
            elif code == "criminal_record":
                f = replace(f, cleared_documents=f.cleared_documents | frozenset(values["cleared_documents"]))
            else:
                raise ValueError(f"unknown eligibility condition {code!r}")
        return f


def _corrected_insurance(insurance: Mapping, values: Mapping) -> dict:
    """The history with the window's findings: ``back_paid`` replaces the back-paid months (the
    参保人补缴信息查询 shows them), ``gaps_paid`` are months found paid after all (every type)."""
    out = {k: {"paid": [list(r) for r in (v.get("paid") or ())], "back_paid": list(v.get("back_paid") or ())}
           for k, v in (insurance or {}).items()}
    if "back_paid" in values:
        months = list(values["back_paid"] or ())
        for i, slot in enumerate(out.values()):
            slot["back_paid"] = months if i == 0 else []
    for month in values.get("gaps_paid") or ():
        for slot in out.values():
            slot["paid"].append([month, month])
    return out


def as_of(year: int) -> date:
    """截至积分落户申报工作启动的上一年度12月31日."""
    return date(year - 1, 12, 31)


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


@dataclass(frozen=True)
class ConditionResult:
    code: str
    passed: bool
    title: str
    words: str
    reason: str  # what was found, in words ("" when it holds)
    facts: dict  # the facts the condition used (JSON-ready)

    @property
    def prompt(self) -> str:
        """What the applicant is told when the condition fails (empty when it holds)."""
        if self.passed:
            return ""
        return f"不符合资格条件“{self.title[2:]}”：{self.reason}（{self.words}）{PROMPT_FOOTER}"

    def as_dict(self) -> dict:
        return {"code": self.code, "passed": self.passed, "title": self.title, "words": self.words,
                "reason": self.reason, "prompt": self.prompt, "facts": self.facts}


# Months -----------------------------------------------------------------------------------
def _mi(month: str) -> int:
    return int(month[:4]) * 12 + int(month[5:7]) - 1


def _ms(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _completed_age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


# The conditions ---------------------------------------------------------------------------
def _residence_permit(f: Facts) -> ConditionResult:
    c = _BY_CODE["residence_permit"]
    # "在…上一年度12月31日前申领": a permit applied for on 31 December of Y-1 counts, one applied
    # for on 1 January of Y does not; a cancelled or expired permit is not held (持有).
    held = [p for p in f.permits if p.status == PERMIT_VALID]
    in_time = [p for p in held if p.applied_on <= f.as_of]
    facts = {"as_of": f.as_of.isoformat(),
             "permits": [{"number": p.number, "applied_on": p.applied_on.isoformat(), "status": p.status}
                         for p in f.permits]}
    if in_time:
        return ConditionResult(c.code, True, c.title, c.words, "", facts)
    if held:
        first = min(p.applied_on for p in held)
        why = f"居住证申领日期为{first.isoformat()}，晚于{f.as_of.isoformat()}"
    elif f.permits:
        why = "未持有有效的《北京市居住证》（" + "、".join(sorted({p.status for p in f.permits})) + "）"
    else:
        why = "未查询到北京市公安局核发的《北京市居住证》申领记录"
    return ConditionResult(c.code, False, c.title, c.words, why, facts)


def _retirement_age(f: Facts) -> ConditionResult:
    c = _BY_CODE["retirement_age"]
    limit = retirement_limit(f.year, f.sex, f.post)
    age = _completed_age(f.birth_date, f.as_of)
    who = "男" if f.sex == "M" else ("女干部(管理岗人员)" if f.post == "cadre" else "女工人")
    facts = {"as_of": f.as_of.isoformat(), "birth_date": f.birth_date.isoformat(), "sex": SEXES.get(f.sex, f.sex),
             "post": POSTS.get(f.post or "worker") if f.sex == "F" else None, "age": age, "limit": limit}
    if age < limit:
        return ConditionResult(c.code, True, c.title, c.words, "", facts)
    return ConditionResult(c.code, False, c.title, c.words,
                           f"截至{f.as_of.isoformat()}已满{age}周岁，{who}应为{limit}周岁(不含)以下", facts)


def insurance_check(insurance: Mapping, year: int, status: str | None = INSURANCE_NORMAL) -> tuple[bool, str, dict]:
    """The 84-month rule on an insurance history: (holds, reason in words, facts used)."""
    last = _mi(f"{year - 1}-12")
    first = last - CONTINUOUS_MONTHS + 1
    window = (_ms(first), _ms(last))
    paid: dict[str, set[int]] = {}
    back: set[int] = set()
    for kind, slot in (insurance or {}).items():
        months = paid.setdefault(kind, set())
        for start, end in slot.get("paid") or ():
            months.update(range(max(_mi(start), first), min(_mi(end), last) + 1))
        back.update(m for m in (_mi(b) for b in slot.get("back_paid") or ()) if first <= m <= last)
    facts: dict = {"window": list(window), "back_paid_months": sorted(_ms(m) for m in back),
                   "status": status or INSURANCE_NORMAL, "types": {}}
    problems: list[str] = []
    for kind, rule in INSURANCE_RULES.items():
        months = paid.get(kind, set())
        label = INSURANCE_LABELS[kind]
        if rule == "every_month":
            missing = [m for m in range(first, last + 1) if m not in months]
        elif months:
            missing = [m for m in range(min(months), last + 1) if m not in months]
        else:
            facts["types"][kind] = {"months": 0, "gaps": []}
            continue
        facts["types"][kind] = {"months": len(months), "gaps": [_ms(m) for m in missing]}
        if missing and rule == "every_month" and not months:
            problems.append(f"{window[0]}至{window[1]}期间无{label}保险缴费记录")
        elif missing:
            problems.append(f"{label}保险{_ms(missing[0])}断缴" + (f"等{len(missing)}个月" if len(missing) > 1 else ""))
    if len(back) > BACK_PAID_LIMIT:
        problems.append(f"补缴记录累计{len(back)}个月，超过{BACK_PAID_LIMIT}个月")
    if (status or INSURANCE_NORMAL) != INSURANCE_NORMAL:
        problems.append(f"缴费状态为“{status}”，不是正常")
    return (not problems, "；".join(problems), facts)


def _social_insurance(f: Facts) -> ConditionResult:
    c = _BY_CODE["social_insurance"]
    ok, why, facts = insurance_check(f.insurance, f.year, f.insurance_status)
    if not ok:
        why = f"截至{f.as_of.isoformat()}未在京连续缴纳社会保险满7年：{why}"
    return ConditionResult(c.code, ok, c.title, c.words, why, facts)


def _criminal_record(f: Facts) -> ConditionResult:
    c = _BY_CODE["criminal_record"]
    # "此项资格条件贯穿积分落户全程": every record counts, whenever it was decided.
    found = [r for r in f.criminal_records if r.document_no not in f.cleared_documents]
    facts = {"records": [{"source": CRIMINAL_SOURCES.get(r.source, r.source), "document_no": r.document_no,
                          "decided_on": r.decided_on.isoformat(), "summary": r.summary} for r in found],
             "cleared": sorted(f.cleared_documents)}
    if not found:
        return ConditionResult(c.code, True, c.title, c.words, "", facts)
    first = found[0]
    return ConditionResult(c.code, False, c.title, c.words,
                           f"查询到刑事犯罪记录（{CRIMINAL_SOURCES.get(first.source, first.source)} {first.document_no}，"
                           f"{first.decided_on.isoformat()}）", facts)


_CHECKS = {
    "residence_permit": _residence_permit,
    "retirement_age": _retirement_age,
    "social_insurance": _social_insurance,
    "criminal_record": _criminal_record,
}
assert set(_CHECKS) == set(CONDITION_CODES)


def evaluate(facts: Facts, only: Iterable[str] | None = None) -> tuple[ConditionResult, ...]:
    """Every condition (or those named in ``only``), in the handbook's order."""
    wanted = set(only) if only is not None else set(CONDITION_CODES)
    return tuple(_CHECKS[c.code](facts) for c in CONDITIONS if c.code in wanted)


def eligible(results: Iterable[ConditionResult]) -> bool:
    return all(r.passed for r in results)


def prompt(results: Iterable[ConditionResult]) -> str:
    """The prompt of the first condition that fails, or "" when all hold."""
    for r in results:
        if not r.passed:
            return r.prompt
    return ""


# Objections (资格异议) at the district window ---------------------------------------------
# The materials a window reviewer looks for, per condition (the document the condition's
# text names as its basis). Labels marked verbatim=False are ours.
OBJECTION_MATERIALS: Mapping[str, tuple[Material, ...]] = {
    "residence_permit": (
        Material("permit", "《北京市居住证》", "Beijing residence permit"),
        Material("permit_receipt", "居住证申领回执（载明申领日期）", "Permit application receipt (date applied)",
                 verbatim=False),
    ),
    "retirement_age": (
        Material("id_card", "申请人身份证件", "Applicant's ID card", verbatim=False),
        Material("post_proof", "用人单位出具的管理岗人员(干部)身份证明", "Employer's proof of a managerial (cadre) post",
                 verbatim=False),
    ),
    "social_insurance": (
        Material("insurance_record", "参保人补缴信息查询", "Back-payment record of the insured (参保人补缴信息查询)"),
        Material("insurance_statement", "社会保险个人权益记录（缴费明细）", "Social-insurance payment statement",
                 verbatim=False),
    ),
    "criminal_record": (
        Material("court_document", "人民法院生效的法律文书", "Court's effective legal document"),
        Material("police_certificate", "户籍地公安机关出具的证明", "Certificate of the household-registration police"),
    ),
}
assert set(OBJECTION_MATERIALS) == set(CONDITION_CODES)


@dataclass(frozen=True)
class ObjectionReason:
    code: str
    outcome: str  # corrected (in the applicant's favour, with the corrected facts) | returned | rejected
    label_zh: str
    label_en: str


OBJECTION_REASONS: tuple[ObjectionReason, ...] = (
    ObjectionReason("elig_registry_incomplete", "corrected", "登记信息未同步，申请人提交的凭证证明满足该项资格条件",
                    "The registry was out of date; the documents show the condition is met"),
    ObjectionReason("elig_record_not_applicant", "corrected", "所查记录不属于申请人本人", "The record found is not the applicant's"),
    ObjectionReason("elig_post_corrected", "corrected", "经核实岗位类别为管理岗，按女干部(管理岗人员)年龄条件认定",
                    "The post is managerial; the cadre limit applies"),
    ObjectionReason("elig_materials_missing", "returned", "凭证材料不齐全或不清晰，请补正",
                    "Documents incomplete or illegible; please complete them"),
    ObjectionReason("elig_condition_not_met", "rejected", "经核实，不满足该项资格条件，维持系统提示",
                    "Verified: the condition is not met; the refusal stands"),
)

# What the window may correct when it upholds an objection, per condition (the form's fields).
CORRECTABLE: Mapping[str, tuple[tuple[str, str], ...]] = {
    "residence_permit": (("number", "居住证号码"), ("applied_on", "申领日期")),
    "retirement_age": (("post", "岗位类别"),),
    "social_insurance": (("back_paid", "补缴月份(以;分隔)"), ("gaps_paid", "经核实已缴费的月份(以;分隔)")),
    "criminal_record": (("cleared_documents", "核实不属于申请人的文书编号(以;分隔)"),),
}


def objection_reasons(outcome: str) -> tuple[ObjectionReason, ...]:
    return tuple(r for r in OBJECTION_REASONS if r.outcome == outcome)


# Employers (第二篇 注册关联 一、用人单位) -------------------------------------------------
EMPLOYER_REFUSAL = ("登录积分落户在线申报系统的用人单位需在北京市行政区域内登记注册并进行税务登记，"
                    "实际办公地应在北京市内")
BEIJING_DIVISION_PREFIX = "11"  # 登记管理机关行政区划码 of the unified social credit code (GB 32100, chars 3–8)
TAX_REGISTERED = "正常"
LICENCE_KINDS = ("营业执照", "事业单位法人证书", "统一社会信用代码证书", "社会团体法人登记证书")


def division_code(uscc: str) -> str:
    return uscc[2:8]


def registered_in_beijing(uscc: str) -> bool:
    """The registration authority's administrative division code is Beijing's (11xxxx)."""
    return len(uscc) == 18 and division_code(uscc).startswith(BEIJING_DIVISION_PREFIX)


def employer_problem(uscc: str, tax_status: str | None) -> str | None:
    """Why a unit may not take part (in words), or None: registered in Beijing and tax-registered."""
    if not registered_in_beijing(uscc):
        return f"统一社会信用代码的登记管理机关行政区划码为{division_code(uscc)}，不在北京市行政区域内"
    if tax_status is None:
        return "未查询到该单位在京的税务登记"
    if tax_status != TAX_REGISTERED:
        return f"该单位在京税务登记状态为“{tax_status}”"
    return None


# From the registries ------------------------------------------------------------------------
def insurance_history(records) -> dict:
    """Registry insurance rows (adapters.InsuranceRecord) in the engine's shape."""
    out: dict[str, dict] = {}
    for r in records:
        slot = out.setdefault(r.insurance_type, {"paid": [], "back_paid": []})
        slot["paid"].append([r.start, r.end])
        slot["back_paid"].extend(m for m in r.back_paid if r.start <= m <= r.end)
    return out


def latest_status(records, year: int) -> str:
    """缴费状态 of the rows that cover December of Y-1 (正常 unless one says otherwise)."""
    cutoff = f"{year - 1}-12"
    for r in records:
        if r.start <= cutoff <= r.end and r.status and r.status != INSURANCE_NORMAL:
            return r.status
    return INSURANCE_NORMAL


def facts_from_registries(registries, *, id_number: str, sex: str, birth_date: date, year: int,
                          post: str | None) -> Facts:
    """The facts of the four conditions as the registries (adapters.Registries) hold them."""
    insurance_rows = registries.social_insurance.insurance(id_number)
    permits = registries.residence_permits.permits(id_number) if registries.residence_permits else []
    crimes = registries.criminal_records.criminal_records(id_number) if registries.criminal_records else []
    return Facts(
        year=year, sex=sex, birth_date=birth_date, post=post,
        permits=tuple(Permit(p.permit_no, date.fromisoformat(p.applied_on), p.status) for p in permits),
        insurance=insurance_history(insurance_rows),
        insurance_status=latest_status(insurance_rows, year),
        criminal_records=tuple(CriminalRecord(c.source, c.document_no, date.fromisoformat(c.decided_on), c.summary or "")
                               for c in crimes),
    )


# 单位注册 by licence: the window's reasons ----------------------------------------------------
LICENCE_REASONS: tuple[ObjectionReason, ...] = (
    ObjectionReason("licence_accepted", "upheld", "证照核验无误，该单位在北京市行政区域内登记注册并已进行税务登记",
                    "The licence checks out: a Beijing-registered, tax-registered unit"),
    ObjectionReason("licence_unclear", "returned", "证照不清晰或不完整，请重新上传", "Licence illegible or incomplete"),
    ObjectionReason("licence_not_beijing", "rejected", "该单位未在北京市行政区域内登记注册或已注销",
                    "Not registered in Beijing, or deregistered"),
    ObjectionReason("licence_no_tax", "rejected", "该单位在京未进行税务登记", "No tax registration in Beijing"),
    ObjectionReason("licence_mismatch", "rejected", "证照中的统一社会信用代码或单位名称与填报不一致",
                    "The licence's credit code or name differs from what was filed"),
)


def licence_reasons(outcome: str) -> tuple[ObjectionReason, ...]:
    return tuple(r for r in LICENCE_REASONS if r.outcome == outcome)
