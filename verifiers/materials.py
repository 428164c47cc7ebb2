"""Materials tables (复查所需材料清单): what evidence each review type needs.

Every table is copied from 《北京市积分落户申报手册》2021年版 (第三篇), so a
reviewer can hold this file next to the handbook and read it line by line.
Row labels are the handbook's own words; a label that is not a verbatim quote
says so (``verbatim=False``), and the tests check the others against the text.

How to read a table
-------------------
* A row without ``one_of`` is required.
* Rows that share a ``one_of`` group are alternatives: at least one of them
  must be present ("可为下列凭证之一", "A或B").
* A row with a ``condition`` is required (or counts) only when that condition
  applies to the case, e.g. "学位复查时还需提供学位证书".
* ``purpose`` is ``"review"`` for a 复查 the applicant files against a registry
  result, and ``"filing"`` for evidence uploaded with the claim itself that
  district staff check (spouse-housing marriage evidence, overseas
  certificates); both are worked in the indicator's review queue.
* ``external_system`` names the system where the review happens instead of
  ours (the 市科委 system); such a type has no rows here, as the handbook's
  table says "无".

Pure data: no Flask, SQLAlchemy or RQ.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from verifiers.indicators import INDICATOR_CODES, UnknownCode, indicator as _indicator

PURPOSES = ("review", "filing")


@dataclass(frozen=True)
class Material:
    """One row of a materials table: one document the reviewer looks for."""

    code: str
    label_zh: str
    label_en: str
    one_of: str | None = None  # code of the OneOf group this row is an option of
    condition: str | None = None  # code of the Condition under which the row is needed
    note_zh: str = ""  # the handbook's remark on this document, quoted
    verbatim: bool = True  # label_zh is a quote from the handbook

    @property
    def required(self) -> bool:
        """Required on its own (not one option of a group, not conditional)."""
        return self.one_of is None and self.condition is None


@dataclass(frozen=True)
class OneOf:
    """A "one of" group: at least one of its rows must be present."""

    code: str
    label_zh: str
    label_en: str
    verbatim: bool = True


@dataclass(frozen=True)
class Condition:
    """A circumstance of the case that adds rows to the checklist."""

    code: str
    label_zh: str  # quoted from the handbook
    label_en: str


@dataclass(frozen=True)
class ReviewType:
    code: str
    indicator: str
    label_zh: str
    label_en: str
    section: str  # e.g. "第三篇 二、合法稳定住所指标"
    heading_zh: str  # the handbook heading or table title the rows come from (quoted)
    rows: tuple[Material, ...]
    groups: tuple[OneOf, ...] = ()
    conditions: tuple[Condition, ...] = ()
    table_row: int | None = None  # 序号 in the handbook's table, when from a table
    purpose: str = "review"
    external_system: str | None = None
    note_zh: str = ""  # the handbook's remark on the whole review type, quoted

    def __post_init__(self) -> None:
        if self.indicator not in INDICATOR_CODES:
            raise ValueError(f"{self.code}: unknown indicator {self.indicator!r}")
        if self.purpose not in PURPOSES:
            raise ValueError(f"{self.code}: unknown purpose {self.purpose!r}")
        if bool(self.rows) == bool(self.external_system):
            raise ValueError(
                f"{self.code}: a review type has rows here, or is reviewed in an external system, not both"
            )
        codes = [r.code for r in self.rows]
        if len(set(codes)) != len(codes):
            raise ValueError(f"{self.code}: duplicate row codes")
        group_codes = {g.code for g in self.groups}
        if len(group_codes) != len(self.groups):
            raise ValueError(f"{self.code}: duplicate group codes")
        condition_codes = {c.code for c in self.conditions}
        for r in self.rows:
            if r.one_of is not None and r.one_of not in group_codes:
                raise ValueError(f"{self.code}.{r.code}: unknown one-of group {r.one_of!r}")
            if r.condition is not None and r.condition not in condition_codes:
                raise ValueError(f"{self.code}.{r.code}: unknown condition {r.condition!r}")
        for g in self.groups:
            if len(self.options(g.code)) < 2:
                raise ValueError(f"{self.code}: one-of group {g.code!r} needs at least two options")
        for c in self.conditions:
            if not any(r.condition == c.code for r in self.rows):
                raise ValueError(f"{self.code}: condition {c.code!r} adds no row")

    @property
    def reference(self) -> str:
        """Where to find this table in the handbook."""
        ref = f"{self.section} {self.heading_zh}"
        return ref if self.table_row is None else f"{ref} 序号{self.table_row}"

    def options(self, group: str) -> tuple[Material, ...]:
        """The alternatives of one "one of" group."""
        return tuple(r for r in self.rows if r.one_of == group)

    def applicable_rows(self, conditions: Iterable[str] = ()) -> tuple[Material, ...]:
        """The checklist for a case: unconditional rows plus those of the conditions that apply."""
        applies = self._check_conditions(conditions)
        return tuple(r for r in self.rows if r.condition is None or r.condition in applies)

    def missing(self, present: Iterable[str], conditions: Iterable[str] = ()) -> tuple[str, ...]:
        """Codes of what is still missing, given the codes of the rows found present and sound.

        A missing required row is named by its row code, an unsatisfied "one of"
        group by its group code. Empty means the materials are complete.
        """
        have = set(present)
        known = {r.code for r in self.rows}
        unknown = have - known
        if unknown:
            raise UnknownCode(f"{self.code}: unknown row codes {sorted(unknown)}")
        out: list[str] = []
        seen_groups: set[str] = set()
        for r in self.applicable_rows(conditions):
            if r.one_of is None:
                if r.code not in have:
                    out.append(r.code)
            elif r.one_of not in seen_groups:
                seen_groups.add(r.one_of)
                if not any(o.code in have for o in self.options(r.one_of)):
                    out.append(r.one_of)
        return tuple(out)

    def is_complete(self, present: Iterable[str], conditions: Iterable[str] = ()) -> bool:
        return not self.missing(present, conditions)

    def _check_conditions(self, conditions: Iterable[str]) -> frozenset[str]:
        applies = frozenset(conditions)
        unknown = applies - {c.code for c in self.conditions}
        if unknown:
            raise UnknownCode(f"{self.code}: unknown conditions {sorted(unknown)}")
        return applies


# --------------------------------------------------------------------------
# Shared rows and conditions
# --------------------------------------------------------------------------

HOUSING = "第三篇 二、合法稳定住所指标"
EDUCATION = "第三篇 三、教育背景指标"
INNOVATION = "第三篇 五、创新创业指标"
TAX = "第三篇 六、纳税指标"
HONORS = "第三篇 八、荣誉表彰指标"

SMKW_SYSTEM = "市科委创新创业人才积分落户管理信息系统"

_OWNER_IDENTITY = Material("owner_identity", "房屋所有权人身份证明文件", "Identity document of the owner")

# 第三篇 三 3.(1): "学位复查时还需提供学位证书" closes each of the four cases.
DEGREE_REVIEW = Condition(
    "degree_review", "学位复查时还需提供学位证书", "Review of the degree (学位) record"
)
_DEGREE_CERTIFICATE_IF_DEGREE = Material(
    "degree_certificate", "学位证书", "Degree certificate", condition=DEGREE_REVIEW.code
)

_AWARDEE_ID = Material("awardee_id", "获奖人员身份证", "Identity card of the awardee")
_HONOREE_ID = Material("honoree_id", "获表彰人员身份证件", "Identity document of the honoree")


# --------------------------------------------------------------------------
# The tables, in handbook order
# --------------------------------------------------------------------------

REVIEW_TYPES: tuple[ReviewType, ...] = (
    # ---- 第三篇 二、合法稳定住所指标 ------------------------------------------
    ReviewType(
        code="housing_listing_invalid",
        indicator="housing",
        label_zh="自有住所、单位宿舍房源审核无效复查",
        label_en="Own housing or dormitory: listing found invalid",
        section=HOUSING,
        heading_zh="(1)自有住所、单位宿舍房源审核无效复查",
        rows=(
            _OWNER_IDENTITY,
            Material(
                "ownership_certificate", "房屋所有权证或不动产权证",
                "House ownership certificate or real-estate title certificate",
                one_of="ownership_proof",
                note_zh="对于已出售的房屋,提交的产权证复印件盖有“作废章”或手写“作废”的情况也符合要求",
            ),
            Material(
                "registry_query_notice", "不动产登记信息查询结果告知单",
                "Real-estate register query result notice",
                one_of="ownership_proof",
                note_zh="可通过“北京通”APP或“北京不动产”APP或“北京市不动产登记”微信公众号"
                "或“北京市不动产登记领域网上办事服务平台”或不动产窗口查询",
            ),
            Material(
                "registration_application", "登记申请书或审批表",
                "Registration application or approval form",
                one_of="ownership_proof",
            ),
        ),
        groups=(OneOf("ownership_proof", "产权证明材料(可为下列凭证之一)", "Proof of ownership (any one of)"),),
        note_zh="如证号填写无误,可申请复查。",
    ),
    ReviewType(
        code="housing_register_dates",
        indicator="housing",
        label_zh="自有住所、单位宿舍登簿日期(填发日期)、权证失效日期复查",
        label_en="Own housing or dormitory: registration (issue) date or certificate expiry date disputed",
        section=HOUSING,
        heading_zh="(3)自有住所、单位宿舍登簿日期(填发日期)、权证失效日期复查",
        rows=(
            # The handbook lists "房屋所有权证或不动产权证书，……查询的结果；房屋所有权人身份证明文件".
            # Read like case (1): the title document or the register query, plus the owner's identity.
            Material(
                "ownership_certificate", "房屋所有权证或不动产权证书",
                "House ownership certificate or real-estate title certificate",
                one_of="ownership_proof",
            ),
            Material(
                "registry_query_result", "“北京市不动产登记领域网上办事服务平台”或不动产窗口查询的结果",
                "Query result from the Beijing real-estate registration online platform or a registry window",
                one_of="ownership_proof",
            ),
            _OWNER_IDENTITY,
        ),
        groups=(OneOf("ownership_proof", "产权证明材料", "Proof of ownership (either)"),),
        note_zh="因房源复查可能需要核对历史档案，所需时间约两周左右",
    ),
    ReviewType(
        code="rental_listing_verification",
        indicator="housing",
        label_zh="租赁住所复查(需要进一步进行房源核验)",
        label_en="Rental: the rented listing needs further verification",
        section=HOUSING,
        heading_zh="(4)租赁住所复查",
        rows=(
            Material("lease_contract", "房屋租赁合同", "Lease contract"),
            Material("lease_parties_identity", "房屋租赁当事人身份证明", "Identity documents of the lease parties"),
            Material(
                "ownership_proof", "房屋所有权证书或者其他合法权属证明",
                "House ownership certificate or other lawful proof of title",
            ),
            Material(
                "lease_review_application", "房屋租赁合同备案复核申请",
                "Application to re-check the lease registration (signed template)",
                note_zh="在线下载模板并本人签字",
            ),
        ),
    ),
    ReviewType(
        code="spouse_marriage_evidence",
        indicator="housing",
        label_zh="配偶名下住所的婚姻凭证",
        label_en="Spouse's housing: marriage evidence",
        section=HOUSING,
        heading_zh="(2) 填报配偶名下自有住所",
        rows=(
            Material("marriage_certificate", "结婚证", "Marriage certificate", one_of="marriage_evidence"),
            Material(
                "divorce_certificate", "离婚证(含离婚协议书)",
                "Divorce certificate (with the divorce agreement)", one_of="marriage_evidence",
            ),
            Material(
                "divorce_judgment", "人民法院生效的离婚判决书(一审判决书同时提供生效证明)",
                "Effective divorce judgment of a people's court (first-instance judgment with proof it took effect)",
                one_of="marriage_evidence",
            ),
            Material("mediation_statement", "调解书", "Court mediation statement", one_of="marriage_evidence"),
        ),
        groups=(OneOf("marriage_evidence", "婚姻凭证", "Marriage evidence (any one of)"),),
        purpose="filing",
        note_zh="每条配偶信息需上传对应婚姻凭证照片。配偶姓名、身份证件号、婚姻存续期等信息应与婚姻凭证记载一致",
    ),
    # ---- 第三篇 三、教育背景指标 ---------------------------------------------
    # 3.(1) 关于姓名、出生日期、性别不一致的复查: four cases, each "学位复查时还需提供学位证书".
    ReviewType(
        code="edu_name_mismatch",
        indicator="education",
        label_zh="身份证上的姓名与教育部备案信息不一致",
        label_en="Name on the ID card differs from the Ministry of Education record",
        section=EDUCATION,
        heading_zh="(1) 关于姓名、出生日期、性别不一致的复查",
        rows=(
            Material("household_register", "户口簿", "Household register (hukou booklet)", one_of="name_change_proof"),
            Material(
                "name_change_certificate", "公安机关出具的更名凭证",
                "Name-change certificate issued by the police", one_of="name_change_proof",
            ),
            _DEGREE_CERTIFICATE_IF_DEGREE,
        ),
        groups=(OneOf("name_change_proof", "户口簿或公安机关出具的更名凭证", "Household register or police name-change certificate"),),
        conditions=(DEGREE_REVIEW,),
    ),
    ReviewType(
        code="edu_birth_date_lunar_solar",
        indicator="education",
        label_zh="出生日期不一致(分别采集了阴历或者阳历日期)",
        label_en="Birth date differs: lunar and solar dates recorded",
        section=EDUCATION,
        heading_zh="(1) 关于姓名、出生日期、性别不一致的复查",
        rows=(
            Material("birth_date_statement", "出生日期不一致的情况说明", "Statement explaining the differing birth dates"),
            _DEGREE_CERTIFICATE_IF_DEGREE,
        ),
        conditions=(DEGREE_REVIEW,),
        note_zh="属于身份证和教育部备案信息分别采集了阴历或者阳历日期的情况",
    ),
    ReviewType(
        code="edu_birth_date_changed",
        indicator="education",
        label_zh="出生日期不一致(不属于阴历、阳历分别采集)",
        label_en="Birth date differs for another reason (ID number changed)",
        section=EDUCATION,
        heading_zh="(1) 关于姓名、出生日期、性别不一致的复查",
        rows=(
            Material(
                "id_number_change_certificate", "派出所出具的更改身份证号凭证",
                "ID-number change certificate issued by the police station",
            ),
            _DEGREE_CERTIFICATE_IF_DEGREE,
        ),
        conditions=(DEGREE_REVIEW,),
        note_zh="不属于分别采集了阴历或者阳历日期的情况",
    ),
    ReviewType(
        code="edu_sex_mismatch",
        indicator="education",
        label_zh="身份证上的性别与教育部备案的信息不一致",
        label_en="Sex on the ID card differs from the Ministry of Education record",
        section=EDUCATION,
        heading_zh="(1) 关于姓名、出生日期、性别不一致的复查",
        rows=(
            Material("medical_certificate", "相关医学凭证", "Relevant medical certificate"),
            _DEGREE_CERTIFICATE_IF_DEGREE,
        ),
        conditions=(DEGREE_REVIEW,),
    ),
    ReviewType(
        code="edu_degree_date_format",
        indicator="education",
        label_zh="获得学位日期不完整",
        label_en="Degree date incomplete (not year-month or year-month-day)",
        section=EDUCATION,
        heading_zh="(2) 关于获得学位日期不完整的复查",
        rows=(Material("degree_certificate", "学位证书", "Degree certificate"),),
        note_zh="如只以学位积分，可对“获得学位日期”进行复查，请发起复查申请并上传学位证书。",
    ),
    ReviewType(
        code="edu_overseas_certificate",
        indicator="education",
        label_zh="国(境)外学历学位认证书",
        label_en="Overseas degree recognition certificate (CSCSE)",
        section=EDUCATION,
        heading_zh="(2) 填报留学教育信息",
        rows=(
            Material(
                "overseas_recognition_certificate", "学历学位认证证书",
                "Degree recognition certificate (教育部留学服务中心)",
                note_zh="国(境)外学历学位认证书上已明确留学学历学位对应国内学历学位层次(专科、学士、硕士、博士)的，直接填报。",
            ),
        ),
        purpose="filing",
        note_zh="未明确留学取得的学历学位层次的，该认证书不能作为积分依据",
    ),
    # ---- 第三篇 五、创新创业指标: 创新创业指标奖项复查所需材料清单 ---------------
    ReviewType(
        code="innovation_sci_tech_award",
        indicator="innovation",
        label_zh="在科技领域获得国家级或本市市级奖项",
        label_en="National or Beijing award in science and technology",
        section=INNOVATION,
        heading_zh="创新创业指标奖项复查所需材料清单",
        table_row=1,
        rows=(
            Material("award_certificate", "获奖证书", "Award certificate"),
            Material(
                "awardee_valid_id", "获奖人员有效证件(身份证件、军官证)",
                "Valid identity document of the awardee (ID card, officer's card)",
            ),
        ),
    ),
    ReviewType(
        code="innovation_culture_award",
        indicator="innovation",
        label_zh="在文化领域获得国家级或本市市级奖项",
        label_en="National or Beijing award in culture",
        section=INNOVATION,
        heading_zh="创新创业指标奖项复查所需材料清单",
        table_row=2,
        rows=(
            Material("award_certificate", "获奖证书", "Award certificate", one_of="award_proof"),
            Material(
                "awarding_body_proof", "评奖单位相关证明材料",
                "Supporting proof from the awarding body", one_of="award_proof",
            ),
            _AWARDEE_ID,
            Material(
                "producer_statement", "作品申报(出品)单位出具的证明材料(加盖公章)",
                "Statement (sealed) by the work's submitting/producing unit",
                condition="wuge_yi_or_beijing_arts_creator",
                note_zh="证明申请人参与获奖作品并说明所承担工作",
            ),
            Material(
                "credited_publication", "申请人所参与作品正式出版物、纸质文件",
                "Published copy of the work crediting the applicant",
                condition="wuge_yi_or_beijing_arts_creator",
                note_zh="作品字幕或版权页须有申请人署名显示",
            ),
        ),
        groups=(OneOf("award_proof", "获奖证书或评奖单位相关证明材料", "Award certificate or proof from the awarding body"),),
        conditions=(
            Condition(
                "wuge_yi_or_beijing_arts_creator",
                "获得精神文明建设“五个一工程”奖、“北京市文学艺术奖”的相关主创人员",
                "Main creator of a work awarded the 'Five One Project' award or the Beijing Literature and Art Award",
            ),
        ),
    ),
    ReviewType(
        code="innovation_science_tech",
        indicator="innovation",
        label_zh="科技方面",
        label_en="Science and technology contests and equity (reviewed in the 市科委 system)",
        section=INNOVATION,
        heading_zh="创新创业指标奖项复查所需材料清单",
        table_row=3,
        rows=(),
        external_system=SMKW_SYSTEM,
        note_zh="对在市科委创新创业人才积分落户管理信息系统填报奖项的审核结果有异议的,"
        "可在市科委系统按要求补充提交相应材料,申请复查。",
    ),
    ReviewType(
        code="innovation_vocational_skills",
        indicator="innovation",
        label_zh="职业技能方面",
        label_en="Vocational skills competitions",
        section=INNOVATION,
        heading_zh="创新创业指标奖项复查所需材料清单",
        table_row=4,
        rows=(
            Material("honor_certificate", "荣誉证书", "Honour certificate"),
            _AWARDEE_ID,
        ),
    ),
    ReviewType(
        code="innovation_contest_award",
        indicator="innovation",
        label_zh="在创新创业大赛获得国家级或本市市级奖项",
        label_en="National or Beijing award in an innovation and entrepreneurship contest",
        section=INNOVATION,
        heading_zh="创新创业指标奖项复查所需材料清单",
        table_row=5,
        rows=(
            Material("award_certificate", "获奖证书", "Award certificate", one_of="award_proof"),
            Material(
                "committee_award_proof", "组委会办公室出具的获奖证明",
                "Award proof issued by the organising committee office", one_of="award_proof",
            ),
            _AWARDEE_ID,
            Material(
                "founder_proof", "由获奖企业出具并盖章的创始人或联合创始人证明",
                "Founder or co-founder certificate, sealed by the award-winning company",
            ),
            Material(
                "due_diligence_report", "组委会办公室委托第三方机构出具的尽职调查报告",
                "Due-diligence report by a third party commissioned by the organising committee office",
            ),
        ),
        groups=(OneOf("award_proof", "获奖证书或组委会办公室出具的获奖证明", "Award certificate or committee's award proof"),),
    ),
    # ---- 第三篇 六、纳税指标: 纳税指标复查所需材料清单 -----------------------------
    ReviewType(
        code="tax_annual_amount",
        indicator="tax",
        label_zh="个人所得税纳税额每年在10万元及以上",
        label_en="Individual income tax of 100 000 yuan or more a year",
        section=TAX,
        heading_zh="纳税指标复查所需材料清单",
        table_row=1,
        rows=(Material("tax_payment_certificate", "个人所得税完税证明", "Individual income tax payment certificate"),),
    ),
    ReviewType(
        code="tax_violation",
        indicator="tax",
        label_zh="涉税违法行为",
        label_en="Tax violation record",
        section=TAX,
        heading_zh="纳税指标复查所需材料清单",
        table_row=2,
        rows=(Material("explanation", "情况说明", "Written explanation"),),
    ),
    # ---- 第三篇 八、荣誉表彰指标: 荣誉表彰指标复查所需材料清单 ------------------------
    ReviewType(
        code="honors_model_worker",
        indicator="honors",
        label_zh="省部级以上劳动模范",
        label_en="Model worker (provincial/ministerial level or above)",
        section=HONORS,
        heading_zh="荣誉表彰指标复查所需材料清单",
        table_row=1,
        rows=(
            Material("honor_certificate", "荣誉证书", "Honour certificate"),
            Material("commendation_decision_copy", "表彰决定的复印件", "Copy of the commendation decision"),
            Material("recommendation_form_copy", "推荐审批表复印件", "Copy of the recommendation and approval form"),
        ),
    ),
    ReviewType(
        code="honors_moral_model",
        indicator="honors",
        label_zh="全国道德模范或首都道德模范",
        label_en="National or capital moral model",
        section=HONORS,
        heading_zh="荣誉表彰指标复查所需材料清单",
        table_row=2,
        rows=(
            Material(
                "honor_certificate", "荣誉证书", "Honour certificate",
                note_zh="复印件需标注获得荣誉称号时所在的用人单位",
            ),
            _HONOREE_ID,
        ),
    ),
    ReviewType(
        code="honors_heroic",
        indicator="honors",
        label_zh="全国见义勇为英雄模范或首都见义勇为好市民",
        label_en="National heroic model or capital heroic citizen",
        section=HONORS,
        heading_zh="荣誉表彰指标复查所需材料清单",
        table_row=3,
        rows=(
            Material("honor_certificate", "荣誉证书", "Honour certificate", one_of="honor_proof"),
            Material(
                "commendation_decision_copy", "表彰决定的复印件", "Copy of the commendation decision",
                one_of="honor_proof",
            ),
            _HONOREE_ID,
        ),
        groups=(OneOf("honor_proof", "荣誉证书或表彰决定的复印件", "Honour certificate or copy of the commendation decision"),),
    ),
)

REVIEW_TYPE_CODES: tuple[str, ...] = tuple(t.code for t in REVIEW_TYPES)

_BY_CODE = {t.code: t for t in REVIEW_TYPES}
if len(_BY_CODE) != len(REVIEW_TYPES):  # pragma: no cover - a table typo, caught at import
    raise ValueError("duplicate review type codes")


def review_type(code: str) -> ReviewType:
    """The review type with this code; an unknown code raises UnknownCode (KeyError/ValueError)."""
    try:
        return _BY_CODE[code]
    except KeyError:
        raise UnknownCode(f"unknown review type {code!r}") from None


def checklist(code: str, conditions: Iterable[str] = ()) -> tuple[Material, ...]:
    """The rows a reviewer ticks for a case of this review type.

    ``conditions`` are the Condition codes that apply to the case (e.g.
    ``"degree_review"`` when the 复查 is of a degree record); rows tied to
    other conditions are left out.
    """
    return review_type(code).applicable_rows(conditions)


def review_types_for(indicator: str) -> tuple[ReviewType, ...]:
    """The review types of one indicator, in handbook order (empty when it has none)."""
    _indicator(indicator)  # validates the code
    return tuple(t for t in REVIEW_TYPES if t.indicator == indicator)
