"""Corrected facts: the fields a reviewer may correct per indicator, and their validation.

A "corrected" decision replaces the claim's verified facts (IndicatorClaim.verified), which
scoring reads in the claim's own shape (SCORING.md score input v1): a housing segment
{type, from, to, district}, an education record {level, degree, graduated}, tax years, an
award, an honour. The form shows one field per value; `parse` turns what was typed back
into that shape or says, per field, what is wrong. No Flask; the shapes and the final check are those of backoffice/applications/facts.py.
"""
from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from backoffice.applications.facts import FactsError, check_facts
from backoffice.scoring.tables import (
    grade_label,
    grade_labels,
    DISTRICTS,
    EDUCATION_DEGREES,
    EDUCATION_LEVELS,
    HONOURS,
    INNOVATION,
    INSURANCE_TYPES,
    RESIDENCE_TYPES,
)
from backoffice.i18n import _, N_

MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
EARLIEST_YEAR = 1950  # social insurance starts 1998; births and degrees go further back

# 附件1's words for each grade (backoffice/scoring/tables.py), never a second list.
_GRADE_LABELS = grade_labels()


@dataclass(frozen=True)
class FactField:
    name: str  # form field name (facts.<name>) and, for flat indicators, the key in the facts
    label_zh: str
    label_en: str
    kind: str  # month | date | choice | count | amount | bool | json
    choices: tuple[tuple[str, str], ...] = ()
    required: bool = True

    def label(self, english: bool = False) -> str:
        return self.label_en if english else self.label_zh


# English for the scoring tables' words (backoffice/scoring/tables.py is the rules layer, which has no
# catalog): the choices stay Chinese data and are shown through _(label).
TABLE_WORDS = (
    N_("自有住所"), N_("合法租赁住所"), N_("单位宿舍"),
    N_("大学专科(含高职)"), N_("大学本科"),
    N_("硕士研究生"), N_("博士研究生"),
    N_("学士"), N_("硕士"), N_("博士"),
)


def _choices(mapping: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple((k, v) for k, v in mapping.items())


def _innovation_grades() -> tuple[tuple[str, str], ...]:
    grades: list[str] = []
    for _name, bands in INNOVATION.values():
        for grade in bands:
            if grade is not None and grade not in grades:
                grades.append(grade)
    return tuple((g, _GRADE_LABELS.get(g, g)) for g in grades)


_FIELDS: dict[str, tuple[FactField, ...]] = {
    "housing": (
        FactField("type", "住所类型", "Residence type", "choice", _choices(RESIDENCE_TYPES)),
        FactField("from", "居住起始年月", "From (month)", "month"),
        FactField("to", "居住终止年月", "To (month)", "month"),
        FactField("district", "所在区", "District", "choice", tuple((d, d) for d in DISTRICTS)),
    ),
    "education": (
        FactField("level", "学历", "Level", "choice", _choices(EDUCATION_LEVELS), required=False),
        FactField("degree", "学位", "Degree", "choice", _choices(EDUCATION_DEGREES), required=False),
        FactField("graduated", "毕业(获得学位)年月", "Graduated (month)", "month"),
    ),
    "innovation": (
        FactField("code", "奖项", "Award", "choice", tuple((k, v[0]) for k, v in INNOVATION.items())),
        FactField("grade", "等级", "Grade", "choice", _innovation_grades(), required=False),
        FactField("rank", "完成人排名/名次", "Rank", "count", required=False),
        FactField("amount", "股权融资金额(元)", "Equity financing (yuan)", "amount", required=False),
    ),
    "honors": (
        FactField("code", "荣誉称号", "Honour", "choice", _choices(HONOURS)),
    ),
    # The social-insurance record is months per insurance type: corrected as the record itself.
    "employment": (
        FactField("json", "社保缴纳记录(JSON，格式见SCORING.md)", "Insurance record (JSON, as in SCORING.md)", "json"),
    ),
    "work_residence": (
        FactField("chosen", "选择职住区域积分", "Scores work–residence area", "bool",
                  (("true", "是"), ("false", "否"))),
    ),
    "age": (FactField("birth_date", "出生日期", "Birth date", "date"),),
    "law_abiding": (FactField("detentions", "行政拘留次数", "Administrative detentions", "count"),),
}


# The part of a claim's facts a 复查 of this review type contests; the rest stands. A tax
# claim carries two contestable results, each contested in its own case with its own row of
# 纳税指标复查所需材料清单 (backoffice/cases/intake.py ``_contested_reason``): the years'
# amounts (个人所得税完税证明) and the violation record (情况说明). Each case's decision
# supersedes only its own part, so two such cases, decided in either order, both count.
CONTESTED_KEYS: dict[str, tuple[str, ...]] = {
    "tax_annual_amount": ("annual",),
    "tax_violation": ("violations",),
}


def merge_contested(review_type: str | None, current: Mapping | None, new: Mapping) -> dict:
    """The facts after a decision of this review type: ``new`` where the review type contests,
    ``current`` (the facts that count now) elsewhere; ``new`` whole for any other type."""
    keys = CONTESTED_KEYS.get(review_type or "")
    if not keys or not current:
        return dict(new)
    merged = dict(current)
    merged.update({k: new[k] for k in keys if k in new})
    return merged


def tax_years(year: int) -> tuple[int, int, int]:
    """The three calendar years a year-Y application's tax indicator looks at (SCORING.md rule 6)."""
    return (year - 3, year - 2, year - 1)


def fields_for(indicator: str, year: int) -> tuple[FactField, ...]:
    """The correctable fields of one indicator (empty: nothing here to correct)."""
    if indicator == "tax":
        return tuple(
            FactField(f"annual_{y}", f"{y}年个人所得税(元)", f"Income tax {y} (yuan)", "amount") for y in tax_years(year)
        ) + (FactField("violations", "近五年涉税违法次数", "Tax violations (5 years)", "count"),)
    return _FIELDS.get(indicator, ())


def form_values(indicator: str, year: int, facts: Mapping | None) -> dict[str, str]:
    """The form's initial values from facts in the claim's shape (what the claim says now)."""
    facts = facts or {}
    if indicator == "tax":
        annual = facts.get("annual") or {}
        values = {f"annual_{y}": str(annual.get(str(y), "")) for y in tax_years(year)}
        values["violations"] = str(facts.get("violations", 0) or 0)
        return values
    if indicator == "employment":
        return {"json": json.dumps(dict(facts), ensure_ascii=False)} if facts else {"json": ""}
    if indicator == "work_residence":
        return {"chosen": "true" if facts.get("chosen") else "false"}
    return {f.name: "" if facts.get(f.name) is None else str(facts.get(f.name)) for f in fields_for(indicator, year)}


def _month(value: str, year: int) -> tuple[str | None, str | None]:
    match = MONTH_RE.match(value)
    if not match:
        return None, _("请按“2021-04”的格式填写年月")
    if not EARLIEST_YEAR <= int(match.group(1)) <= year:
        return None, _("年份应在%(EARLIEST_YEAR)s至%(year)s年之间", EARLIEST_YEAR=EARLIEST_YEAR, year=year)
    return value, None


def parse(indicator: str, year: int, raw: Mapping[str, str]) -> tuple[dict, dict[str, str]]:
    """(facts in the claim's shape, {field name: problem}). `raw` holds the typed strings.

    `year` is the application year: facts count up to December of year-1 (第三篇; SCORING.md
    "the cut-off month"), so no corrected month may lie after it.
    """
    fields = fields_for(indicator, year)
    if not fields:
        return {}, {"": _("该指标没有可更正的信息项")}
    cutoff = f"{year - 1}-12"
    values: dict = {}
    errors: dict[str, str] = {}
    for f in fields:
        text = (raw.get(f.name) or "").strip()
        if not text:
            if f.required:
                errors[f.name] = _("必填")
            values[f.name] = None
            continue
        if f.kind == "month":
            value, problem = _month(text, year)
            if problem is None and value > cutoff:
                problem = _("不能晚于%(cutoff)s(申报年度上一年12月)", cutoff=cutoff)
        elif f.kind == "date":
            try:
                value, problem = date.fromisoformat(text).isoformat(), None
            except ValueError:
                value, problem = None, _("请按“1985-03-14”的格式填写日期")
        elif f.kind == "json":
            try:
                value, problem = json.loads(text), None
            except ValueError:
                value, problem = None, _("不是有效的JSON")
        elif f.kind == "bool":
            value, problem = (text == "true", None) if text in ("true", "false") else (None, _("请选择"))
        elif f.kind == "choice":
            value, problem = (text, None) if text in dict(f.choices) else (None, _("请从列表中选择"))
        else:  # count, amount: whole non-negative numbers
            value, problem = (int(text), None) if text.isdigit() else (None, _("请填写非负整数"))
            if value is not None and f.kind == "count" and value > 1000:
                value, problem = None, _("数值过大")
        if problem:
            errors[f.name] = problem
        values[f.name] = value

    if indicator == "housing" and not errors and values["from"] > values["to"]:
        errors["to"] = _("终止年月不能早于起始年月")
    if indicator == "employment" and not errors and "insurance_from" in values and values["insurance_from"] > values["insurance_to"]:
        errors["insurance_to"] = _("终止年月不能早于起始年月")
    if indicator == "education" and not errors.get("level") and not errors.get("degree"):
        if values["level"] is None and values["degree"] is None:
            errors["level"] = _("学历和学位至少填写一项")
    if indicator == "innovation" and not errors:
        _name, bands = INNOVATION[values["code"]]
        if values["grade"] not in bands:
            allowed = "、".join(grade_label(values["code"], g) for g in bands if g is not None) or "无等级"
            errors["grade"] = _("该奖项的等级为：%(allowed)s", allowed=allowed)
    if errors:
        return {}, errors

    if indicator == "tax":
        facts = {
            "annual": {str(y): values[f"annual_{y}"] for y in tax_years(year)},
            "violations": values["violations"],
        }
    elif indicator == "innovation":
        # grade, rank and amount only where the award's table needs them (applications/facts.py).
        facts = {k: v for k, v in values.items() if v is not None}
    elif indicator == "employment":
        facts = values["json"]
    else:
        facts = values
    # Last, the engine's own check of the shape (the one scoring will apply).
    try:
        check_facts(indicator, facts, year=year)
    except FactsError as exc:
        field = exc.path.split(".")[0].split("[")[0]
        names = {f.name for f in fields}
        key = field if field in names else ("json" if indicator == "employment" else "")
        return {}, {key: f"{exc.path}: {exc.message}" if key in ("", "json") else exc.message}
    return facts, {}


def describe(indicator: str, year: int, facts: Mapping | None, english: bool = False) -> list[tuple[str, str]]:
    """Facts in the claim's shape as (label, value) lines for people: codes in words."""
    if not facts:
        return []
    fields = fields_for(indicator, year)
    if not fields:
        return [(str(k), str(v)) for k, v in facts.items()]
    if indicator == "tax":
        annual = facts.get("annual") or {}
        lines = [(_("%(y)s年个人所得税", y=y), str(annual.get(str(y), "—")))
                 for y in sorted(int(k) for k in annual)]
        return lines + [(fields[-1].label(english), str(facts.get("violations", 0)))]
    if indicator == "employment":
        names = dict(INSURANCE_TYPES)
        lines = []
        for t, record_ in (facts.get("insurance") or {}).items():
            paid = "、".join("–".join(r) if isinstance(r, list) else str(r) for r in (record_ or {}).get("paid", []))
            lines.append((names.get(t, t) if not english else t, paid or "—"))
        for wd in facts.get("work_districts") or []:
            lines.append((_("就业地"),
                          f"{wd.get('from')}–{wd.get('to')} {wd.get('district')}"))
        return lines
    lines = []
    for f in fields:
        value = facts.get(f.name)
        if isinstance(value, bool):
            value = "true" if value else "false"
        if value is None:
            shown = "—"
        elif f.choices:
            shown = _(dict(f.choices).get(str(value), str(value)))
        else:
            shown = str(value)
        lines.append((f.label(english), shown))
    return lines
