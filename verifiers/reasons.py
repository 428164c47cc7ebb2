"""Reason codes: what a registry result says, and what staff may say in a decision.

1. ``REASONS`` are the registry results (相关部门核查结果) an applicant may see
   on a claim, with the handbook's exact text, whether the result may be
   contested (复查), which materials table a contest uses, and the handbook's
   instruction to the applicant. A contest of a reason that may not be
   contested is refused at intake with that instruction (``contest_refusal``).

2. ``DECISION_REASONS`` are the reasons a reviewer picks when deciding a case,
   grouped by outcome (upheld / corrected / returned / rejected). These are
   ours, not the handbook's; where one quotes the handbook it says so.

Source: 《北京市积分落户申报手册》2021年版, 第三篇 "指标复查" of each
indicator. Texts marked as quotes are checked against the handbook by the
tests. Pure data: no Flask, SQLAlchemy or RQ.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from verifiers import materials
from verifiers.indicators import INDICATOR_CODES, UnknownCode, indicator as _indicator
from verifiers.materials import (
    EDUCATION,
    HONORS,
    HOUSING,
    INNOVATION,
    REVIEW_TYPES,
    TAX,
    review_type,
)

RESULTS = ("invalid", "valid", "record")
"""What the registry said: ``invalid`` (无效 + reason), ``valid`` (有效, with verified
values the applicant may dispute, e.g. 登簿日期), ``record`` (an adverse record was
found, e.g. 涉税违法行为)."""


@dataclass(frozen=True)
class Reason:
    code: str
    indicator: str
    message_zh: str  # the handbook's text, verbatim; {prev_year}/{tax_year} are filled by text()
    label_en: str
    section: str
    result: str = "invalid"
    contestable: bool = True
    review_types: tuple[str, ...] = ()  # materials tables a contest may use; the claim decides which
    instruction_zh: tuple[str, ...] = ()  # the handbook's instruction to the applicant, each a quote
    status_zh: str = ""  # the status line shown with the reason, when it differs (quote)
    conditions: frozenset[str] = field(default_factory=frozenset)  # materials conditions that apply

    def __post_init__(self) -> None:
        if self.indicator not in INDICATOR_CODES:
            raise ValueError(f"{self.code}: unknown indicator {self.indicator!r}")
        if self.result not in RESULTS:
            raise ValueError(f"{self.code}: unknown result {self.result!r}")
        if self.contestable != bool(self.review_types):
            raise ValueError(f"{self.code}: a contestable reason names its review types, no other does")
        if not self.contestable and not self.instruction_zh:
            raise ValueError(f"{self.code}: a reason that may not be contested needs the handbook's instruction")
        for rt in self.review_types:
            t = review_type(rt)
            if t.indicator != self.indicator:
                raise ValueError(f"{self.code}: review type {rt!r} belongs to {t.indicator!r}")
            unknown = self.conditions - {c.code for c in t.conditions}
            if unknown:
                raise ValueError(f"{self.code}: conditions {sorted(unknown)} unknown to {rt!r}")

    def text(self, year: int | None = None, tax_year: int | None = None) -> str:
        """The message as the applicant sees it.

        ``year`` is the application year (申报年度); the education deadline is
        December 31 of the year before. ``tax_year`` is the calendar year of a
        per-year tax result.
        """
        values: dict[str, int] = {}
        if year is not None:
            values["prev_year"] = year - 1
        if tax_year is not None:
            values["tax_year"] = tax_year
        try:
            return self.message_zh.format_map(values)
        except KeyError as e:
            raise ValueError(f"{self.code}: the message needs {e.args[0]}") from None

    @property
    def instruction(self) -> str:
        """The instruction as one text: the quotes in order, each closed as a sentence."""
        return "".join(q if q.endswith(("。", "；", "！", "？")) else q + "。" for q in self.instruction_zh)

    @property
    def contested_elsewhere(self) -> str | None:
        """The external system where a contest of this result is filed, if not ours."""
        systems = {review_type(rt).external_system for rt in self.review_types}
        if systems and None not in systems:
            return systems.pop()
        return None


# --------------------------------------------------------------------------
# Instructions quoted from the handbook
# --------------------------------------------------------------------------

_RENTAL_NO_REVIEW = "租赁住所审核无效，显示下列3种原因时，不能申请复查，可删除后重新填报"
_EDU_CHECK_AND_REFILL = "请核对后重新填写。"
_EDU_ONLY_IN_FILING_PHASE = "如需修改或删除，需待已填报的指标取得审核结果后操作，且应在年度申报阶段内进行。"
_EDU_IDENTITY_REVIEW = (
    "国内学历(学位)审核结果无效，无效原因提示为“教育部学历(学位)备案信息"
    "中的姓名、出生日期、性别与身份证上的姓名、出生日期、性别不一致”时，可点击页面链接发起复查。"
)

REASONS: tuple[Reason, ...] = (
    # ---- 合法稳定住所: 自有住所、单位宿舍 -----------------------------------------
    Reason(
        code="housing_listing_invalid",
        indicator="housing",
        message_zh="无效(房源无效)",
        label_en="Invalid (listing invalid)",
        section=f"{HOUSING} 3.(1)",
        review_types=("housing_listing_invalid",),
        instruction_zh=(
            "请先核对房屋所有权证号(不动产权证号)是否填写正确。如有误,请删除后重新填写。",
            "如证号填写无误,可申请复查。",
        ),
    ),
    Reason(
        code="housing_spouse_invalid",
        indicator="housing",
        message_zh="无效(配偶信息无效)",
        label_en="Invalid (spouse information invalid)",
        section=f"{HOUSING} 3.(2)",
        contestable=False,
        instruction_zh=(
            "可在配偶信息展示页面查看审核无效原因。",
            "此种情况不能申请复查,可先删除该配偶住所、再删除对应配偶信息后重新填写。",
        ),
    ),
    Reason(
        code="housing_valid_dates",
        indicator="housing",
        message_zh="有效",
        label_en="Valid: registration (issue) date and certificate expiry date as verified",
        section=f"{HOUSING} 3.(3)",
        result="valid",
        review_types=("housing_register_dates",),
        instruction_zh=("对登簿日期(填发日期)、权证失效日期有异议的，可申请复查。",),
    ),
    # ---- 合法稳定住所: 租赁住所 -----------------------------------------------
    Reason(
        code="rental_record_mismatch",
        indicator="housing",
        message_zh="您录入的租赁合同备案编号不存在或申请人信息与租赁监管平台备案承租人信息不匹配",
        label_en="Lease registration number not found, or the applicant is not the registered tenant",
        section=f"{HOUSING} 3.(4)",
        status_zh="无效(备案合同无效)",
        contestable=False,
        instruction_zh=(
            _RENTAL_NO_REVIEW,
            "请在市住建委首页房屋管理的查询服务模块“住房租赁备案查询”中查询备案信息,确认您本人是否办理租赁登记备案。"
            "如未查到或备案信息不全,应到住房租赁服务平台办理备案(参见积分落户专栏中关于合法稳定住所问答)。",
            "如有异常,可在工作日9:00—17:00向北京房地产中介行业协会(朝阳区朝阳门外大街20号联合大厦1607办公室)"
            "预约申请备案信息复核,预约电话:65883200。",
        ),
    ),
    Reason(
        code="rental_non_residential",
        indicator="housing",
        message_zh="您租赁合同备案信息中的房屋规划用途为非住宅类",
        label_en="The registered lease is for a non-residential property",
        section=f"{HOUSING} 3.(4)",
        status_zh="无效(备案合同无效)",
        contestable=False,
        instruction_zh=(_RENTAL_NO_REVIEW,),
    ),
    Reason(
        code="rental_no_title_certificate",
        indicator="housing",
        message_zh="您租赁合同备案信息中的房屋没有不动产权证书/房屋所有权证书",
        label_en="The registered leased property has no title certificate",
        section=f"{HOUSING} 3.(4)",
        status_zh="无效(备案合同无效)",
        contestable=False,
        instruction_zh=(_RENTAL_NO_REVIEW,),
    ),
    Reason(
        code="rental_needs_verification",
        indicator="housing",
        message_zh="您的租赁备案房屋需要进一步进行房源核验",
        label_en="The registered leased property needs further verification",
        section=f"{HOUSING} 3.(4)",
        status_zh="无效(备案合同无效)",
        review_types=("rental_listing_verification",),
        instruction_zh=(
            "一是在工作日9:00-17:00向北京房地产中介行业协会(朝阳区朝阳门外大街20号联合大厦1607办公室,"
            "电话:65883200)预约申请住房租赁合同备案信息的复核,复核完成后登录积分落户在线申报系统删除该条租赁住所信息并重新填报。",
            "二是通过积分落户在线申报系统发起复查。",
        ),
    ),
    # ---- 教育背景 (国内) ----------------------------------------------------
    Reason(
        code="edu_date_after_cutoff",
        indicator="education",
        message_zh="取得学历(学位)时间应为{prev_year}年12月31日以前",
        label_en="The qualification must have been obtained by December 31 of the year before",
        section=f"{EDUCATION} 3.",
        contestable=False,
        instruction_zh=(_EDU_CHECK_AND_REFILL, _EDU_ONLY_IN_FILING_PHASE),
    ),
    Reason(
        code="edu_level_number_mismatch",
        indicator="education",
        message_zh="您选择的‘学历(学位)层次’与填写的‘学历证书编号’不匹配",
        label_en="The chosen level does not match the certificate number",
        section=f"{EDUCATION} 3.",
        contestable=False,
        instruction_zh=(_EDU_CHECK_AND_REFILL, _EDU_ONLY_IN_FILING_PHASE),
    ),
    Reason(
        code="edu_not_found",
        indicator="education",
        message_zh="未查询到您填写的学历(学位)信息",
        label_en="No record found for the qualification entered",
        section=f"{EDUCATION} 3.",
        contestable=False,
        instruction_zh=("请查询并确认备案信息或认证信息后重新填报。", _EDU_ONLY_IN_FILING_PHASE),
    ),
    Reason(
        code="edu_diploma_identity_mismatch",
        indicator="education",
        message_zh="教育部学历备案信息中的姓名、出生日期、性别与身份证上的姓名、出生日期、性别不一致",
        label_en="Name, birth date or sex in the MoE academic record differs from the ID card",
        section=f"{EDUCATION} 3.(1)",
        review_types=("edu_name_mismatch", "edu_birth_date_lunar_solar", "edu_birth_date_changed", "edu_sex_mismatch"),
        instruction_zh=(_EDU_IDENTITY_REVIEW,),
    ),
    Reason(
        code="edu_degree_identity_mismatch",
        indicator="education",
        message_zh="教育部学位备案信息中的姓名、出生日期、性别与身份证上的姓名、出生日期、性别不一致",
        label_en="Name, birth date or sex in the MoE degree record differs from the ID card",
        section=f"{EDUCATION} 3.(1)",
        review_types=("edu_name_mismatch", "edu_birth_date_lunar_solar", "edu_birth_date_changed", "edu_sex_mismatch"),
        instruction_zh=(_EDU_IDENTITY_REVIEW,),
        conditions=frozenset({"degree_review"}),
    ),
    Reason(
        code="edu_degree_date_format",
        indicator="education",
        message_zh="获得学位日期不是‘年月’或‘年月日’格式",
        label_en="The degree date is not in year-month or year-month-day form",
        section=f"{EDUCATION} 3.(2)",
        review_types=("edu_degree_date_format",),
        instruction_zh=(
            "如只以学位积分，可对“获得学位日期”进行复查，请发起复查申请并上传学位证书。",
            "如同时以取得学历学位积分，可不复查“获得学位日期”，请确认学历备案或认证信息，并重新准确填写学历信息。",
        ),
    ),
    # ---- 创新创业 ------------------------------------------------------------
    Reason(
        code="innovation_invalid",
        indicator="innovation",
        message_zh="无效",
        label_en="Invalid (award not confirmed)",
        section=f"{INNOVATION} 3.(2)",
        status_zh="比对结果: 无效",
        review_types=(
            "innovation_sci_tech_award",
            "innovation_culture_award",
            "innovation_vocational_skills",
            "innovation_contest_award",
        ),
        instruction_zh=(
            "对在科技、文化领域获得国家级、本市市级奖项,在科技、人社和文化领域创新创业大赛获得国家级、本市市级奖项,"
            "或国家有关部门认定的世界级奖项的审核结果有异议的,可在市人力资源社会保障局积分落户在线申报系统中点击页面链接发起复查。",
        ),
    ),
    Reason(
        code="innovation_smkw_result",
        indicator="innovation",
        message_zh="审核结果以市科委创新创业人才积分落户管理信息系统为准",
        label_en="Result decided in the Beijing Science and Technology Commission's system",
        section=f"{INNOVATION} 3.(1)",
        review_types=("innovation_science_tech",),
        instruction_zh=(
            "对在市科委创新创业人才积分落户管理信息系统填报奖项的审核结果有异议的,可在市科委系统按要求补充提交相应材料,申请复查。",
        ),
    ),
    # ---- 纳税 ---------------------------------------------------------------
    Reason(
        code="tax_year_invalid",
        indicator="tax",
        message_zh="{tax_year}年无效",
        label_en="Year not counted (income tax below 100 000 yuan or not paid in Beijing)",
        section=f"{TAX} 3.",
        review_types=("tax_annual_amount",),
        instruction_zh=("对填报的纳税指标审核结果有异议的,可点击页面链接发起复查。",),
    ),
    Reason(
        code="tax_violation_record",
        indicator="tax",
        message_zh="近五年在本市涉税违法次数",
        label_en="Tax violations in Beijing in the last five years",
        section=f"{TAX} 3.",
        result="record",
        review_types=("tax_violation",),
        instruction_zh=("对填报的纳税指标审核结果有异议的,可点击页面链接发起复查。",),
    ),
    # ---- 荣誉表彰 ------------------------------------------------------------
    Reason(
        code="honors_invalid",
        indicator="honors",
        message_zh="无效",
        label_en="Invalid (honour not confirmed)",
        section=f"{HONORS} 3.",
        status_zh="比对结果: 无效",
        review_types=("honors_model_worker", "honors_moral_model", "honors_heroic"),
        instruction_zh=("申请人对填报的荣誉表彰指标审核结果有异议的,可点击页面链接发起复查。",),
    ),
)

REASON_CODES: tuple[str, ...] = tuple(r.code for r in REASONS)
_BY_CODE = {r.code: r for r in REASONS}
if len(_BY_CODE) != len(REASONS):  # pragma: no cover - a table typo, caught at import
    raise ValueError("duplicate reason codes")


def reason(code: str) -> Reason:
    """The registry reason with this code; an unknown code raises UnknownCode (KeyError/ValueError)."""
    try:
        return _BY_CODE[code]
    except KeyError:
        raise UnknownCode(f"unknown reason {code!r}") from None


def reasons_for(indicator: str) -> tuple[Reason, ...]:
    """The registry reasons of one indicator, in handbook order (empty when the handbook gives none)."""
    _indicator(indicator)
    return tuple(r for r in REASONS if r.indicator == indicator)


def contest_refusal(code: str) -> str | None:
    """Why a 复查 of this registry result is refused at intake, or None if we accept it.

    Refused: reasons the handbook says may not be contested, and results whose
    复查 is filed in another system (市科委). The text is the handbook's
    instruction to the applicant.
    """
    r = reason(code)
    if not r.contestable or r.contested_elsewhere:
        return r.instruction
    return None


def claim_reasons(code: str | None, verified: dict | None) -> tuple[str, ...]:
    """Every registry result a claim carries, the one it was stored with first.

    A claim stores one reason code, but a tax result can say two things at once
    (第三篇 六 3.: "年度结果 2020年无效; …" and "近五年在本市涉税违法次数"): when some year
    is invalid (``tax_year_invalid``) and the registry also found violations (the
    verified ``violations``), the violation is a result of its own
    (``tax_violation_record``), contested with its own row of 纳税指标复查所需材料清单.
    """
    if not code:
        return ()
    codes = [code]
    if code == "tax_year_invalid" and int((verified or {}).get("violations") or 0) > 0:
        codes.append("tax_violation_record")
    return tuple(codes)


# --------------------------------------------------------------------------
# Decision reasons
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    code: str
    label_zh: str
    label_en: str
    description: str


OUTCOMES: tuple[Outcome, ...] = (
    Outcome("upheld", "予以支持", "Upheld",
            "the contest succeeds: the claim is valid as filed"),
    Outcome("corrected", "核实后更正", "Corrected",
            "the result changes to verified facts that differ from both the registry's and the claim's, "
            "e.g. a registration date"),
    Outcome("returned", "退回补正", "Returned for materials",
            "the applicant must supply or redo materials; the two-week clock stops"),
    Outcome("rejected", "不予支持", "Rejected",
            "the contest fails: the registry result stands"),
)
OUTCOME_CODES: tuple[str, ...] = tuple(o.code for o in OUTCOMES)


@dataclass(frozen=True)
class DecisionReason:
    code: str
    outcome: str
    label_zh: str
    label_en: str
    review_types: tuple[str, ...] = ()  # empty: fits any case, appeals included
    quotes_handbook: bool = False  # label_zh is a quote from the handbook

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOME_CODES:
            raise ValueError(f"{self.code}: unknown outcome {self.outcome!r}")
        for rt in self.review_types:
            review_type(rt)


_INNOVATION_HERE = tuple(
    t.code for t in REVIEW_TYPES if t.indicator == "innovation" and t.external_system is None
)
_HONORS = tuple(t.code for t in REVIEW_TYPES if t.indicator == "honors")
_EDU_IDENTITY = ("edu_name_mismatch", "edu_birth_date_lunar_solar", "edu_birth_date_changed", "edu_sex_mismatch")

DECISION_REASONS: tuple[DecisionReason, ...] = (
    # upheld
    DecisionReason("verified_valid", "upheld", "材料齐全，核实无误，认定有效",
                   "Materials complete and verified; valid as filed"),
    DecisionReason("register_data_incomplete", "upheld", "登记系统数据不全，经核对档案认定有效",
                   "Register data incomplete; valid on the archive records",
                   review_types=("housing_listing_invalid", "housing_register_dates")),
    DecisionReason("identity_difference_explained", "upheld", "身份信息差异已由凭证说明，认定有效",
                   "The identity difference is explained by the evidence; valid",
                   review_types=_EDU_IDENTITY),
    DecisionReason("listing_verified", "upheld", "房源核验通过，认定有效",
                   "Listing verified; valid", review_types=("rental_listing_verification",)),
    # corrected
    DecisionReason("corrected_after_verification", "corrected", "材料齐全，核实后更正",
                   "Materials complete; corrected after verification"),
    DecisionReason("register_dates_corrected", "corrected", "按凭证更正登簿日期(填发日期)、权证失效日期",
                   "Registration (issue) date / expiry date corrected from the evidence",
                   review_types=("housing_register_dates",)),
    DecisionReason("degree_date_corrected", "corrected", "按学位证书更正获得学位日期",
                   "Degree date corrected from the degree certificate",
                   review_types=("edu_degree_date_format",)),
    DecisionReason("tax_years_corrected", "corrected", "按完税证明更正年度纳税结果",
                   "Yearly tax results corrected from the payment certificates",
                   review_types=("tax_annual_amount",)),
    DecisionReason("tax_violations_corrected", "corrected", "经核实更正涉税违法记录",
                   "Tax violation record corrected after verification",
                   review_types=("tax_violation",)),
    DecisionReason("award_grade_corrected", "corrected", "按获奖证书更正奖项等级或排名",
                   "Award grade or rank corrected from the certificate",
                   review_types=_INNOVATION_HERE),
    # returned (附件3 sets the upload rules these refer to)
    DecisionReason("materials_incomplete", "returned", "材料不全，退回补正",
                   "Materials incomplete; returned for completion"),
    DecisionReason("materials_unclear", "returned", "凭证照片不清晰、不完整或有遮挡，退回补正",
                   "Photos unclear, incomplete or obscured; returned"),
    DecisionReason("materials_not_original", "returned", "未对凭证原件拍摄，退回补正",
                   "Not photographed from the original; returned"),
    DecisionReason("materials_irrelevant", "returned", "提交内容与复查事项无关，退回补正",
                   "Submitted content unrelated to the case; returned"),
    DecisionReason("review_application_unsigned", "returned", "房屋租赁合同备案复核申请未经本人签字，退回补正",
                   "Lease re-check application not signed by the applicant; returned",
                   review_types=("rental_listing_verification",)),
    # rejected
    DecisionReason("materials_mismatch", "rejected", "材料与登记信息不符",
                   "Materials do not match the registered information"),
    DecisionReason("registry_result_confirmed", "rejected", "经核实，相关部门核查结果无误，维持原结果",
                   "Verified: the registry result is correct and stands"),
    DecisionReason("falsified_materials", "rejected", "凭证材料弄虚作假",
                   "Falsified materials"),
    DecisionReason("certificate_number_wrong", "rejected", "房屋所有权证号(不动产权证号)填写有误，请删除后重新填写",
                   "Certificate number entered wrongly; delete and refile",
                   review_types=("housing_listing_invalid",)),
    DecisionReason("marriage_period_mismatch", "rejected", "凭证中婚姻存续时间与填报信息不一致",
                   "Marriage period in the evidence differs from the filed one",
                   review_types=("spouse_marriage_evidence",), quotes_handbook=True),
    DecisionReason("overseas_level_unspecified", "rejected", "未明确留学取得的学历学位层次的，该认证书不能作为积分依据",
                   "The certificate does not state the equivalent domestic level; it cannot be scored",
                   review_types=("edu_overseas_certificate",), quotes_handbook=True),
    DecisionReason("award_not_in_standard", "rejected", "所获奖项不在创新创业指标积分标准范围内",
                   "The award is not in the innovation points standard (附件1)",
                   review_types=_INNOVATION_HERE),
    DecisionReason("honor_not_in_standard", "rejected", "所获荣誉不在荣誉表彰指标积分标准范围内",
                   "The honour is not in the honours points standard (附件2)",
                   review_types=_HONORS),
)

_DECISION_BY_CODE = {d.code: d for d in DECISION_REASONS}
if len(_DECISION_BY_CODE) != len(DECISION_REASONS):  # pragma: no cover
    raise ValueError("duplicate decision reason codes")


def decision_reason(code: str) -> DecisionReason:
    try:
        return _DECISION_BY_CODE[code]
    except KeyError:
        raise UnknownCode(f"unknown decision reason {code!r}") from None


def decision_reasons(outcome: str, review_type: str | None = None) -> tuple[DecisionReason, ...]:
    """The reasons a reviewer may pick for this outcome.

    Without a review type (an appeal, or any case) only the general reasons;
    with one, the general reasons followed by those specific to that type.
    """
    if outcome not in OUTCOME_CODES:
        raise UnknownCode(f"unknown outcome {outcome!r}; expected one of {', '.join(OUTCOME_CODES)}")
    if review_type is not None:
        materials.review_type(review_type)  # validates the code
    general = [d for d in DECISION_REASONS if d.outcome == outcome and not d.review_types]
    specific = [
        d for d in DECISION_REASONS
        if d.outcome == outcome and review_type is not None and review_type in d.review_types
    ]
    return tuple(general + specific)


# 第三篇 五 创新创业指标复查所需材料清单 序号2: the extra rows apply to the main creators of
# works awarded these two prizes (SCORING.md annex-1 codes).
_CREATOR_AWARDS = frozenset({"five_one_project", "beijing_literature_art"})


def case_conditions(case_or_reason_code, claim=None,
                    review_type: str | None = None) -> frozenset[str]:
    """The materials conditions that apply to a 复查 (e.g. ``degree_review``), derived from
    the contested reason and the claim, so the checklist never depends on what a client says;
    only conditions the review type knows. Takes a case (anything with ``reason_code``,
    ``claim`` and ``review_type``) or a reason code with the claim (``claimed`` facts) and
    the review type; the intake and the case checklist share this one derivation."""
    code = getattr(case_or_reason_code, "reason_code", case_or_reason_code)
    if claim is None:
        claim = getattr(case_or_reason_code, "claim", None)
    if review_type is None:
        review_type = getattr(case_or_reason_code, "review_type", None)
    conditions = set(reason(code).conditions) if code in REASON_CODES else set()  # an appeal names an indicator
    if claim is not None and (claim.claimed or {}).get("code") in _CREATOR_AWARDS:
        conditions.add("wuge_yi_or_beijing_arts_creator")
    if review_type is None:
        return frozenset(conditions)
    return frozenset(conditions & {c.code for c in materials.review_type(review_type).conditions})
