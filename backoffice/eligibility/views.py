"""What the window sees of eligibility: the objection panel of the case workspace."""
from __future__ import annotations

from backoffice.cases.facts import FactField
from backoffice.eligibility.services import latest_result
from backoffice.turnaround.sql import BEIJING
from verifiers import eligibility as rules
from backoffice.eligibility.services import registration_of
from backoffice.reference.models import District
from backoffice.extensions import db
from backoffice.i18n import _, N_

# shown as _(label)
_FACT_LABELS = {
    "as_of": N_("截止日期"), "permits": N_("居住证"), "birth_date": N_("出生日期"),
    "sex": N_("性别"), "post": N_("岗位类别"), "age": N_("周岁"), "limit": N_("年龄上限(不含)"),
    "window": N_("核查期间"), "back_paid_months": N_("补缴月份"),
    "status": N_("缴费状态"), "types": N_("各险种缴费"),
    "records": N_("刑事犯罪记录"), "cleared": N_("已核实不属于本人的文书"),
}


def _value(key, value) -> str:
    if key == "permits":
        return "；".join(f"{p['number']}（申领{p['applied_on']}，{p['status']}）" for p in value) or "—"
    if key == "types":
        return "；".join(f"{rules.INSURANCE_LABELS.get(k, k)}{v['months']}个月"
                        + (f"，断缴{'、'.join(v['gaps'][:3])}" if v["gaps"] else "") for k, v in value.items())
    if key == "records":
        return "；".join(f"{r['source']} {r['document_no']}（{r['decided_on']}）" for r in value) or "无"
    if key == "window":
        return f"{value[0]}至{value[1]}"
    if isinstance(value, list):
        return "、".join(map(str, value)) or "—"
    return "—" if value is None else str(value)


def facts_rows(facts: dict, english: bool = False) -> list[tuple[str, str]]:
    return [(_(_FACT_LABELS.get(k, k)), _value(k, v)) for k, v in facts.items()]


def objection_fields(condition: str) -> tuple[FactField, ...]:
    fields = []
    for name, label in rules.CORRECTABLE[condition]:
        if name == "post":
            fields.append(FactField(name, label, "Post", "choice", tuple(rules.POSTS.items())))
        elif name == "applied_on":
            fields.append(FactField(name, label, "Applied on", "date"))
        else:
            fields.append(FactField(name, label, name, "text", required=name != "back_paid"))
    return tuple(fields)


def describe_corrections(condition: str, facts) -> list[tuple[str, str]]:
    """The window's corrected facts of an objection, labelled (for the decision and the countersign)."""
    labels = dict(rules.CORRECTABLE.get(condition, ()))
    rows = []
    for key, value in (facts or {}).items():
        if key == "post":
            value = rules.POSTS.get(value, value)
        elif isinstance(value, list):
            value = "、".join(value) or "—"
        rows.append((labels.get(key, key), str(value)))
    return rows


def objection_panel(case, english: bool = False) -> dict:
    result = latest_result(case.application)
    conditions = [dict(c, facts_rows=facts_rows(c["facts"], english)) for c in (result.conditions if result else [])]
    return {
        "section": rules.SECTION,
        "conditions": conditions,
        "checked_at": result.checked_at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M") if result else "—",
        "materials": [m.label_en if english else m.label_zh for m in rules.OBJECTION_MATERIALS[case.reason_code]],
        "fields": objection_fields(case.reason_code),
        "describe": lambda facts: describe_corrections(case.reason_code, facts),
    }


def registration_panel(case) -> dict:

    r = registration_of(case)
    return {
        "uscc": r.uscc, "name": r.name, "district": db.session.get(District, r.district_id).name,
        "division": rules.division_code(r.uscc), "refusal": r.refusal,
        "employer": r.employer.name if r.employer else None,
        "requirement": "证照中必须含有统一社会信用代码,可以是:" + "、".join(rules.LICENCE_KINDS) + "等单位证照。",
        "prompt": rules.EMPLOYER_REFUSAL,
    }
