"""Settlement (调京落户) as data: the materials checklist of 第五篇 二 3, its conditions,
the family-planning exemption, the legal-housing routes, and the two-year lapse.

A reviewer can hold this file next to the handbook: every ``source`` below is the
handbook's own sentence (tests look each one up in the text), every label that is not a
verbatim quote says so (``verbatim=False``).

The checklist is derived from the case (``SettlementFacts``), never from what a client
says it needs: the spouse-home condition from the housing claim the points came from,
one block of rows per accompanying child, the archive or the no-archive declaration, the
power of attorney when an agent files, and the evidence of the chosen place of
settlement. Two checks are computed rather than ticked: the 集体户 route is open only
when no one in the family has a legal home in Beijing, and an applicant who scored
职住区域 points settles in that very home.

Pure data: no Flask, SQLAlchemy or RQ.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

SECTION = "第五篇 二、调京落户审核"

# ---------------------------------------------------------------------------------------
# The handbook's sentences the rules below come from (verbatim; tests check them).
# ---------------------------------------------------------------------------------------
Q_CARRY = "在办理落户手续时应持本人身份证件、户口簿,向区指定部门提交下列材料"
Q_PRINTED = "(1)系统打印的《积分落户申报材料清单》《积分落户申请表》"
Q_SPOUSE_HOME = "(2)以配偶名下自有住所取得积分的,提交与该自有住所有关的婚姻凭证"
Q_CHILDREN = ("(3)需随迁未成年子女的,提交随迁子女的户口簿、《出生医学证明》、户籍地县级计划生育行政部门出具的"
              "符合计划生育政策凭证以及与随迁子女有关的申请人婚姻凭证")
Q_EXEMPT = ("随迁子女系2016年1月1日(不含)以前生育第一孩、2016年1月1日(含)以后生育第二孩,"
            "或2016年1月1日(含)以后生育两孩以内的,可不提交符合计划生育政策凭证")
Q_FP_PROOFS = ("可作为随迁子女符合计划生育政策凭证的包括：《生育服务证》、《准生证》、《生育登记服务单》、"
               "《再生育确认单》以及户籍地县级计划生育行政部门出具并盖章的其他合法生育子女凭证。"
               "上述凭证只需提供任意一项即可。")
Q_ARCHIVE = "(4)档案审核按相关规定办理,无档案人员应出具无档案诚信声明"
Q_AGENT = ("(5)申请人不能亲自前往区积分落户服务窗口提交落户材料的,应签署《授权委托书》,"
           "由被委托人携身份证件、《授权委托书》及上述材料前往办理。")
Q_LEGAL_HOUSING = ("可以办理落户手续的合法住房是指：具有本市房屋所有权证或不动产权证书且规划用途为住宅的自有住房，"
                   "具有公有住房租赁合同的直管公房，具有单位出具的住房分配通知单的自管公房。")
Q_COLLECTIVE = "申请人及其配偶、父母、子女在本市虽无合法产权住房，但申请人单位有集体户口的，可在单位集体户内落户。"
Q_WORK_RESIDENCE = "取得落户资格后应当在该自有住所落户"
Q_TWO_LEVELS = "上述材料经区指定部门审核无误后报市人力资源社会保障局核准。"
Q_CRIMINAL = "申请人无刑事犯罪记录证明统一由政府数据比对函询取得。个人无需开具无刑事犯罪记录证明。"
Q_LAPSE = "落户资格保留2年,逾期未办理的视为自行放弃"
Q_NO_REFILL = "经核查取消积分落户资格，或申请人取得落户资格后自行放弃的，落户资格不递补。"
Q_LETTER = "可凭市人力资源社会保障局出具的函件按有关规定办理调档及落户手续"

QUOTES = (Q_CARRY, Q_PRINTED, Q_SPOUSE_HOME, Q_CHILDREN, Q_EXEMPT, Q_FP_PROOFS, Q_ARCHIVE, Q_AGENT,
          Q_LEGAL_HOUSING, Q_COLLECTIVE, Q_WORK_RESIDENCE, Q_TWO_LEVELS, Q_CRIMINAL, Q_LAPSE, Q_NO_REFILL, Q_LETTER)

# ---------------------------------------------------------------------------------------
# Places of settlement (需要注意的是 1)
# ---------------------------------------------------------------------------------------
PLACES: dict[str, tuple[str, str]] = {
    "own_home": ("自有住房", "Own home"),
    "public_direct": ("直管公房", "Public housing (directly managed)"),
    "public_unit": ("自管公房", "Public housing (managed by a unit)"),
    "collective": ("单位集体户", "The employer's collective household"),
}
PLACE_CODES = tuple(PLACES)
PARENTS: dict[str, str] = {"father": "父亲", "mother": "母亲"}
MAX_CHILDREN = 5
FAMILY_PLANNING_CUTOFF = date(2016, 1, 1)


@dataclass(frozen=True)
class Child:
    """An accompanying child (随迁子女) as submitted with the 调京信息."""

    name: str
    id_number: str
    birth_date: date
    birth_order: int  # 第几孩: 1 for the first child
    parent: str  # the applicant is the child's father or mother (PARENTS)


def family_planning_exempt(child: Child) -> bool:
    """第五篇 二 3(3): no family-planning proof is needed for a first child born before
    2016-01-01, a second child born on or after it, or either of two children born on or
    after it ("2016年1月1日(不含)以前生育第一孩、2016年1月1日(含)以后生育第二孩,
    或2016年1月1日(含)以后生育两孩以内"). Every other child needs one of the five proofs."""
    born_after = child.birth_date >= FAMILY_PLANNING_CUTOFF
    first_before = child.birth_order == 1 and not born_after
    second_after = child.birth_order == 2 and born_after
    within_two_after = child.birth_order <= 2 and born_after
    return first_before or second_after or within_two_after


@dataclass(frozen=True)
class SettlementFacts:
    """What the checklist depends on, derived from the case and its submission."""

    place: str
    children: tuple[Child, ...] = ()
    spouse_home_points: bool = False  # the housing points came from a home in the spouse's name
    has_archive: bool = True
    by_agent: bool = False
    family_owns_home: bool = False  # applicant, spouse, parents or children own a legal home in Beijing
    work_residence_points: bool = False  # the applicant scored 职住区域 points
    place_certificate_no: str | None = None  # certificate / lease / allocation notice of the place
    points_home_certificate_no: str | None = None  # the own home the housing points came from
    # The real-estate register's 规划用途 of the own home's certificate (住宅 | 非住宅), None if not found.
    place_title_use: str | None = None

    def __post_init__(self) -> None:
        if self.place not in PLACES:
            raise ValueError(f"unknown place of settlement {self.place!r}; one of {', '.join(PLACES)}")
        if len(self.children) > MAX_CHILDREN:
            raise ValueError(f"at most {MAX_CHILDREN} accompanying children")


@dataclass(frozen=True)
class Item:
    """One document of the checklist; its code is also the upload slot of the API."""

    code: str
    label_zh: str
    label_en: str
    source: str  # the handbook sentence it comes from (verbatim)
    one_of: str | None = None  # group: any one of the group's items is enough
    child: int | None = None  # 1-based index of the child it concerns
    verbatim: bool = True  # label_zh is a quote from the handbook
    # The archive is not a document the applicant hands in: "档案审核按相关规定办理" (the window
    # checks the personnel archive by the archive rules; it moves after settlement, 第五篇 三), so
    # its row is ticked by the reviewer without an upload.
    upload: bool = True


@dataclass(frozen=True)
class Group:
    code: str
    label_zh: str
    label_en: str
    note_zh: str


@dataclass(frozen=True)
class Check:
    """A rule the system evaluates from the case (not a document to tick)."""

    code: str
    label_zh: str
    passed: bool
    message_zh: str
    source: str
    label_en: str = ""
    message_en: str = ""


_FP_PROOFS = (
    ("birth_service_card", "《生育服务证》", "Birth service card"),
    ("birth_permit", "《准生证》", "Birth permit"),
    ("birth_registration", "《生育登记服务单》", "Birth registration form"),
    ("rebirth_confirmation", "《再生育确认单》", "Confirmation for another birth"),
    ("other_proof", "户籍地县级计划生育行政部门出具并盖章的其他合法生育子女凭证",
     "Other sealed proof from the county family-planning department"),
)


def child_label(child: Child, index: int) -> str:
    return f"随迁子女{index}（{child.name}，第{child.birth_order}孩，{child.birth_date.isoformat()}出生）"


def groups(facts: SettlementFacts) -> tuple[Group, ...]:
    return tuple(
        Group(f"child{i}_family_planning", f"{child_label(c, i)}：符合计划生育政策凭证（任意一项）",
              f"Child {i}: family-planning proof (any one)", "上述凭证只需提供任意一项即可。")
        for i, c in enumerate(facts.children, start=1) if not family_planning_exempt(c)
    )


def checklist(facts: SettlementFacts) -> tuple[Item, ...]:
    """The documents the district checks for this case, in the handbook's order."""
    items = [
        Item("materials_list", "《积分落户申报材料清单》", "Printed materials list", Q_PRINTED),
        Item("application_form", "《积分落户申请表》", "Printed application form", Q_PRINTED),
        Item("id_document", "本人身份证件", "Identity document", Q_CARRY),
        Item("hukou_book", "户口簿", "Household register", Q_CARRY),
    ]
    if facts.spouse_home_points:
        items.append(Item("spouse_home_marriage", "与该自有住所有关的婚姻凭证",
                          "Marriage evidence for the spouse's home", Q_SPOUSE_HOME))
    for i, c in enumerate(facts.children, start=1):
        items += [
            Item(f"child{i}_hukou_book", "随迁子女的户口簿", f"Child {i}: household register", Q_CHILDREN, child=i),
            Item(f"child{i}_birth_certificate", "《出生医学证明》", f"Child {i}: medical birth certificate",
                 Q_CHILDREN, child=i),
            Item(f"child{i}_marriage", "与随迁子女有关的申请人婚姻凭证", f"Child {i}: the applicant's marriage evidence",
                 Q_CHILDREN, child=i),
        ]
        if not family_planning_exempt(c):
            items += [Item(f"child{i}_{code}", zh, f"Child {i}: {en}", Q_FP_PROOFS,
                           one_of=f"child{i}_family_planning", child=i) for code, zh, en in _FP_PROOFS]
    if facts.has_archive:
        items.append(Item("archive", "档案审核按相关规定办理", "Personnel archive", Q_ARCHIVE, upload=False))
    else:
        items.append(Item("no_archive_declaration", "无档案诚信声明", "No-archive declaration", Q_ARCHIVE))
    if facts.by_agent:
        items += [
            Item("power_of_attorney", "《授权委托书》", "Power of attorney", Q_AGENT),
            Item("agent_id", "被委托人身份证件", "The agent's identity document", Q_AGENT, verbatim=False),
        ]
    place_items = {
        "own_home": Item("home_title", "房屋所有权证或不动产权证书", "Title certificate of the own home",
                         Q_LEGAL_HOUSING),
        "public_direct": Item("public_housing_lease", "公有住房租赁合同", "Public housing lease", Q_LEGAL_HOUSING),
        "public_unit": Item("housing_allocation_notice", "单位出具的住房分配通知单",
                            "The unit's housing allocation notice", Q_LEGAL_HOUSING),
        "collective": Item("unit_collective_household", "申请人单位有集体户口", "The employer has a collective household",
                           Q_COLLECTIVE),
    }
    items.append(place_items[facts.place])
    return tuple(items)


def child_of(items: Iterable[Item], code: str) -> int | None:
    return next((i.child for i in items if i.code == code), None)


def all_slots() -> tuple[str, ...]:
    """Every upload slot any case can have (the API's form fields), children up to MAX_CHILDREN."""
    everyone = tuple(Child("x", "x", date(2010, 1, 1), 3, "father") for _ in range(MAX_CHILDREN))
    codes: list[str] = []
    for place in PLACES:
        for has_archive in (True, False):
            facts = SettlementFacts(place=place, children=everyone, spouse_home_points=True, has_archive=has_archive,
                                    by_agent=True)
            codes += [i.code for i in checklist(facts) if i.code not in codes]
    return tuple(codes)


def missing(facts: SettlementFacts, acceptable: Iterable[str], english: bool = False) -> tuple[str, ...]:
    """Labels of what is not yet ticked as acceptable: each required item, and each
    family-planning group none of whose five proofs is acceptable."""
    have = set(acceptable)
    items = checklist(facts)
    group_labels = {g.code: g.label_en if english else g.label_zh for g in groups(facts)}
    out: list[str] = []
    seen: set[str] = set()
    for item in items:
        if item.one_of is None:
            if item.code not in have:
                if english:
                    out.append(item.label_en)  # "Child 1: …" already
                else:
                    out.append((f"随迁子女{item.child}：" if item.child else "") + item.label_zh)
        elif item.one_of not in seen:
            seen.add(item.one_of)
            if not any(o.code in have for o in items if o.one_of == item.one_of):
                out.append(group_labels[item.one_of])
    return tuple(out)


def checks(facts: SettlementFacts) -> tuple[Check, ...]:
    """The rules evaluated from the case: the 集体户 route and the 职住区域 same-home rule."""
    out = []
    if facts.place == "collective":
        ok = not facts.family_owns_home
        out.append(Check(
            "collective_route", "在单位集体户内落户的条件", ok,
            "申请人及其配偶、父母、子女在本市均无合法产权住房，可在单位集体户内落户" if ok else
            "申请人或其配偶、父母、子女在本市有合法产权住房，不能在单位集体户内落户，应在合法住房落户",
            Q_COLLECTIVE, "Settling in the employer's collective household",
            "Neither the applicant nor their spouse, parents or children own legal housing in Beijing: "
            "the collective household is open" if ok else
            "The applicant or their spouse, parents or children own legal housing in Beijing: not the "
            "collective household; settle in the legal housing"))
    elif facts.place == "own_home" and facts.place_title_use == "非住宅":
        out.append(Check("legal_housing", "合法住房", False,
                         "不动产登记信息显示该房屋规划用途不是住宅，不是可以办理落户手续的合法住房", Q_LEGAL_HOUSING,
                         "Legal housing", "The property register gives a planned use other than residential: "
                         "not legal housing for settlement"))
    elif facts.place == "own_home" and facts.place_title_use is None:
        out.append(Check("legal_housing", "合法住房", True,
                         "不动产登记信息中未查到该证书，请核对房屋所有权证或不动产权证书原件及规划用途", Q_LEGAL_HOUSING,
                         "Legal housing", "The certificate is not in the property register: check the original "
                         "certificate and its planned use"))
    else:
        out.append(Check("legal_housing", "合法住房", True,
                         f"在{PLACES[facts.place][0]}落户，须提交相应凭证"
                         + ("；不动产登记信息显示规划用途为住宅" if facts.place == "own_home" else ""), Q_LEGAL_HOUSING,
                         "Legal housing", f"Settling in: {PLACES[facts.place][1].lower()}, with its evidence"
                         + ("; the property register gives residential use" if facts.place == "own_home" else "")))
    if facts.work_residence_points:
        same = (facts.place == "own_home" and bool(facts.place_certificate_no)
                and facts.place_certificate_no == facts.points_home_certificate_no)
        out.append(Check(
            "work_residence_same_home", "职住区域指标：在该自有住所落户", same,
            "落户地址为取得职住区域积分的自有住所" if same else
            "申请人以职住区域指标积分，取得落户资格后应当在该自有住所落户；所选落户地址不是该自有住所"
            + (f"（积分住所证号：{facts.points_home_certificate_no}）" if facts.points_home_certificate_no else ""),
            Q_WORK_RESIDENCE, "Work-residence points: settle in that own home",
            "The address is the own home that earned the work-residence points" if same else
            "Points were earned for work and residence: after qualifying, settle in that own home; the chosen "
            "address is not it"
            + (f" (certificate of the home that earned the points: {facts.points_home_certificate_no})"
               if facts.points_home_certificate_no else "")))
    return tuple(out)


# ---------------------------------------------------------------------------------------
# The two-year lapse (第五篇 一 2: "落户资格保留2年,逾期未办理的视为自行放弃")
# ---------------------------------------------------------------------------------------
def qualification_kept_until(announcement_end: date) -> date:
    """The last day of the qualification: two years from the announcement's close (the day
    it was obtained). 29 February, which a later year may not have, keeps until 28 February."""
    try:
        return announcement_end.replace(year=announcement_end.year + 2)
    except ValueError:
        return announcement_end.replace(year=announcement_end.year + 2, day=28)


def is_lapsed(announcement_end: date, day: date) -> bool:
    """From the day after the two years, the qualification counts as abandoned."""
    return day > qualification_kept_until(announcement_end)


# ---------------------------------------------------------------------------------------
# Reasons for sending a case back (district to the applicant; city to the district)
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReturnReason:
    code: str
    label_zh: str
    label_en: str
    by: str  # "district": back to the applicant for materials; "city": back to the district


RETURN_REASONS: tuple[ReturnReason, ...] = (
    ReturnReason("materials_incomplete", "材料不全，退回补正", "Materials incomplete", "district"),
    ReturnReason("materials_unclear", "凭证照片不清晰、不完整或有遮挡，退回补正", "Unclear copies", "district"),
    ReturnReason("family_planning_proof_missing", "随迁子女需提交符合计划生育政策凭证", "Family-planning proof needed",
                 "district"),
    ReturnReason("housing_not_legal", "落户住房不符合合法住房条件", "The place is not legal housing", "district"),
    ReturnReason("work_residence_home", "以职住区域指标积分的，应当在该自有住所落户", "Must settle in the scored home",
                 "district"),
    ReturnReason("review_incomplete", "区审核意见不完整，请补充审核", "District review incomplete", "city"),
    ReturnReason("materials_doubt", "材料存疑，请区指定部门核实", "Materials in doubt; verify", "city"),
    ReturnReason("checklist_error", "材料清单核对有误，请重新核对", "Checklist error; check again", "city"),
)
_REASONS = {r.code: r for r in RETURN_REASONS}


def return_reasons(by: str) -> tuple[ReturnReason, ...]:
    return tuple(r for r in RETURN_REASONS if r.by == by)


def return_reason(code: str) -> ReturnReason:
    return _REASONS[code]


# ---------------------------------------------------------------------------------------
# Criminal-record comparison (政府数据比对函询)
# ---------------------------------------------------------------------------------------
RECORD_SOURCES = {"judgment": "人民法院生效的法律文书", "police_certificate": "户籍地公安机关出具的证明"}
