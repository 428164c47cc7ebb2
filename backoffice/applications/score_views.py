"""The score on the application's page, and the score simulator (积分模拟计算).

* ``ApplicationScoreView`` is the applications' model view (ScopedModelView, so the
  district rule is unchanged) whose details page adds the latest snapshot: each
  indicator's points and figures, the engine's explanation lines, and what changed
  against the previous snapshot (points before/after, the claims and decisions behind it).
* ``SimulatorView`` lets a reviewer open an application of their district, change its
  verified facts in a form and see the breakdown the engine gives, without saving
  anything: for explaining a decision to an applicant at the window. The only write is an
  audit event per computation ("simulator.used").
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from flask import abort, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from backoffice.admin.base import ProtectedView
from backoffice.admin.views import ApplicationView
from backoffice.applications.facts import INDICATORS, INSURANCE_TYPES, FactsError, build_score_input
from backoffice.applications.models import INDICATOR_LABELS, Applicant, Application, Indicator, ScoreSnapshot
from backoffice.audit.services import record
from backoffice.extensions import db
from backoffice.ranking.services import not_final_condition, submitted_in_time
from backoffice.i18n import _, N_, is_english
from backoffice.scoring import ScoreInputError, score
from backoffice.scoring.points import written
from backoffice.scoring.tables import (
    grade_labels,
    DISTRICTS,
    EDUCATION_DEGREES,
    EDUCATION_LEVELS,
    EQUITY_FINANCING_CODE,
    EQUITY_FINANCING_NAME,
    HONOURS,
    INNOVATION,
    INSURANCE_TYPES as INSURANCE_LABELS,
    RESIDENCE_TYPES,
)
from backoffice.staff.permissions import can_see
from verifiers.identifiers import mask_resident_id
from verifiers.indicators import INDICATORS as VERIFIER_INDICATORS

INSURANCE_LABEL = dict(INSURANCE_LABELS)
# The five insurance types in our catalog's words (the engine's INSURANCE_TYPES are its Chinese data).
INSURANCE_WORDS = {
    "pension": N_("养老保险"),
    "medical": N_("医疗保险"),
    "unemployment": N_("失业保险"),
    "injury": N_("工伤保险"),
    "maternity": N_("生育保险"),
}
assert set(INSURANCE_WORDS) == set(INSURANCE_LABEL)
# The figures of score result v1 beside the points, in the words of the handbook.
DETAIL_LABELS = {
    "months": N_("计分月数"),
    "type": N_("险种"),
    "own_months": N_("自有住所月数"),
    "rent_months": N_("租赁/宿舍月数"),
    "deduction": N_("扣除"),
    "both_months": N_("职住均在城六区外月数"),
    "live_months": N_("仅居住在城六区外月数"),
    "qualifying_years": N_("纳税≥10万元年数"),
    "violations": N_("涉税违法次数"),
    "age": N_("年龄(周岁)"),
    "detentions": N_("行政拘留次数"),
}


def application_number(application) -> str:
    return f"{application.year}-{application.id:06d}"


_INDICATOR_EN = {i.code: i.label_en for i in VERIFIER_INDICATORS}


def indicator_label(code: str) -> str:
    if code not in INDICATORS:
        return code
    return _INDICATOR_EN.get(code, code) if is_english() else INDICATOR_LABELS.get(Indicator(code), code)


def _figures(code: str, figures: dict) -> str:
    parts = []
    for key, value in figures.items():
        if key == "points" or key not in DETAIL_LABELS:
            continue
        if key == "type":
            value = _(INSURANCE_WORDS[value]) if value in INSURANCE_WORDS else value
        elif isinstance(value, float):
            value = f"{value:.2f}"
        parts.append(f"{_(DETAIL_LABELS[key])} {value}")
    return _("，").join(parts)


@dataclass
class IndicatorRow:
    code: str
    label: str
    points: float | None
    figures: str
    before: float | None = None
    after: float | None = None


@dataclass
class ChangeRow:
    code: str
    label: str
    before: float | None
    after: float | None
    claims: list
    decisions: list


@dataclass
class ScorePanel:
    snapshot: ScoreSnapshot
    rows: list[IndicatorRow]
    explanation: list[ExplanationLine]
    changes: list[ChangeRow]
    total_before: float | None
    previous_snapshot_id: int | None


# The handbook's score table (第三篇 十、1) lists the education deduction as a row of its own
# under 教育背景, so the rows add up to the total.
DEDUCTION_ROW = "education_deduction"
DEDUCTION_LABEL = N_("扣除获得学历(学位)期间累计的居住及就业分值")


def breakdown_rows(result: dict, compare: dict | None = None, changes: dict | None = None) -> list[IndicatorRow]:
    """The score's rows in the handbook's order, the education deduction as its own row:
    their points add up to the total. ``compare`` (an earlier result) or ``changes`` (a
    snapshot's per-indicator changes) give each row's points before."""
    indicators = result.get("indicators") or {}
    before_of = ((compare or {}).get("indicators") or {})
    changed = ((changes or {}).get("indicators") or {})
    rows = []
    for code in INDICATORS:
        figures = indicators.get(code)
        if figures is None:
            continue
        points = figures.get("points")
        deduction = figures.get("deduction") if code == "education" else None
        label = indicator_label(code)
        row = IndicatorRow(code, label, points, _figures(code, {k: v for k, v in figures.items() if k != "deduction"}))
        if compare is not None:
            row.before = (before_of.get(code) or {}).get("points")
        elif code in changed:
            row.before = changed[code].get("before")
        rows.append(row)
        if deduction is not None:
            rows.append(IndicatorRow(DEDUCTION_ROW, _(DEDUCTION_LABEL),
                                     deduction, ""))
    return rows


# The engine's explanation lines in the page's language -----------------------------------
# The engine writes its lines in Chinese (score result v1, ../shared/contracts/SCORING.md) and
# its output is fixed. A Chinese page shows them exactly; an English page shows one line per
# indicator, in the engine's order, built from the result's structured figures (`indicators`)
# with our catalog's words, stating only what those figures determine. A line the figures do
# not determine (e.g. education scored 0 because of a graduation after the cut-off, which the
# figures cannot tell from no education) is shown as the engine wrote it, marked as Chinese.

@dataclass(frozen=True)
class ExplanationLine:
    text: str
    lang: str | None = None  # "zh-Hans": the engine's own line on an English page


ENGINE_LANG = "zh-Hans"
TOTAL_PREFIX = "总积分"
# The engine's lines that are constants: their English from the catalog.
CONSTANT_LINES = {
    "教育背景: 无": N_("教育背景: 无"),
    "职住区域: 未选择以职住区域指标积分": N_("职住区域: 未选择以职住区域指标积分"),
    "创新创业: 无": N_("创新创业: 无"),
    "荣誉表彰: 无": N_("荣誉表彰: 无"),
}
_INDICATOR_PREFIXES = tuple((i.code, i.label_zh) for i in VERIFIER_INDICATORS)


def _engine_lines_by_indicator(lines: list[str]) -> tuple[list[str], dict[str, list[str]], list[str]]:
    """(lines before any indicator's, each indicator's lines, the total's lines). The engine
    starts each line with its indicator's label ("年龄: …"); an unlabelled line continues
    the indicator before it."""
    before: list[str] = []
    by_code: dict[str, list[str]] = {}
    total: list[str] = []
    current = None
    for line in lines:
        code = next((c for c, label in _INDICATOR_PREFIXES if line.startswith(label)), None)
        if code is not None:
            current = by_code.setdefault(code, [])
        elif line.startswith(TOTAL_PREFIX):
            current = total
        elif current is None:
            current = before
        current.append(line)
    return before, by_code, total


def _n(value) -> str:
    """Points as the engine writes them: two decimals."""
    return f"{float(value):.2f}"


def _whole(value) -> str:
    """Whole points as the engine writes them (work–residence, innovation, age, honours): 3, 12."""
    value = float(value)
    return str(int(value)) if value.is_integer() else f"{value:.2f}"


def _count(figures: dict, key: str) -> int | None:
    value = figures.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _same(points, units: int) -> bool:
    """Whether the written points are those of `units` (1/24 point), as the engine rounds them."""
    return isinstance(points, (int, float)) and written(units) == round(float(points), 2)


def _english_line(code: str, figures: dict, engine_lines: list[str], result: dict) -> str | None:
    """The English line of one indicator from its figures; None when they do not determine it."""
    points = figures.get("points")
    if not isinstance(points, (int, float)) or isinstance(points, bool):
        return None
    if len(engine_lines) == 1 and engine_lines[0] in CONSTANT_LINES:
        return _(CONSTANT_LINES[engine_lines[0]])
    if code == "employment":
        months, kind = _count(figures, "months"), figures.get("type")
        if months is None or kind not in INSURANCE_WORDS or not _same(points, 6 * months):
            return None
        return _("合法稳定就业: %(type)s %(months)s 个月 × 3/12 = %(points)s",
                 type=_(INSURANCE_WORDS[kind]), months=months, points=_n(points))
    if code == "housing":
        own, rent = _count(figures, "own_months"), _count(figures, "rent_months")
        if own is None or rent is None:
            return None
        if own + rent < 12:
            if float(points) != 0:
                return None
            return _("合法稳定住所: 自有 %(own)s + 租赁/宿舍 %(rent)s = %(months)s 个月, 不满 12 个月 (需连续居住满1年), 积 0.00",
                     own=own, rent=rent, months=own + rent)
        if not _same(points, 2 * own + rent):
            return None
        return _("合法稳定住所: 自有 %(own)s 个月 × 1/12 + 租赁/宿舍 %(rent)s 个月 × 0.5/12 = %(points)s",
                 own=own, rent=rent, points=_n(points))
    if code == "education":
        deduction = figures.get("deduction")
        if float(points) == 0 or not isinstance(deduction, (int, float)):
            return None  # no education, or a graduation after the cut-off: the figures cannot tell
        return _("教育背景: %(points)s; 扣除取得学历(学位)期间的就业及居住分值 %(deduction)s",
                 points=_n(points), deduction=_n(deduction))
    if code == "work_residence":
        both, live = _count(figures, "both_months"), _count(figures, "live_months")
        if both is None or live is None or both + live == 0:
            return None  # not chosen, or not living in an own home outside 城六区 at the cut-off
        whole = min(12, 3 * (both // 12) + 2 * ((live + both % 12) // 12))
        if float(points) != whole:
            return None
        return (_("职住区域: 职住均在城六区外 %(both)s 个月, 仅居住在城六区外 %(live)s 个月; "
                  "3 × (%(both)s // 12) + 2 × ((%(live)s + %(both)s %% 12) // 12) = %(points)s",
                  both=both, live=live, points=whole)
                + (_(" (最高 12)") if whole == 12 else ""))
    if code == "innovation":
        return _("创新创业: 附件1 所获奖项中最高一项 = %(points)s", points=_whole(points))
    if code == "tax":
        years = _count(figures, "qualifying_years")
        violations = _count(figures, "violations")
        if violations is None and years is not None and (2 * years - float(points)) % 12 == 0:
            violations = int((2 * years - float(points)) // 12)  # an earlier result without the key
        if years is None or violations is None or violations < 0 or float(points) != 2 * years - 12 * violations:
            return None
        return _("纳税: 纳税额 10 万元及以上 %(years)s 年 × 2 + 涉税违法 %(violations)s 次 × -12 = %(points)s",
                 years=years, violations=violations, points=_n(points))
    if code == "age":
        age, year = _count(figures, "age"), result.get("year")
        if age is None or not isinstance(year, int):
            return None
        return _("年龄: %(year)s 年 1 月 1 日 %(age)s 周岁; 按年龄指标分段积分表 → %(points)s",
                 year=year - 1, age=age, points=_whole(points))
    if code == "honors":
        if float(points) == 0:
            return None
        return _("荣誉表彰: 附件2 荣誉表彰 = %(points)s", points=_whole(points))
    if code == "law_abiding":
        if float(points) % 30 != 0 or float(points) > 0:
            return None
        detentions = _count(figures, "detentions")
        if detentions is None:
            detentions = int(-float(points) // 30)
        if float(points) != -30 * detentions:
            return None
        return _("守法记录: 行政拘留 %(detentions)s 次 × -30 = %(points)s", detentions=detentions, points=_n(points))
    return None


def explanation_lines(result: dict | None) -> list[ExplanationLine]:
    """The explanation of a score result in the page's language (see above)."""
    lines = [line for line in ((result or {}).get("explanation") or []) if isinstance(line, str)]
    if not is_english():
        return [ExplanationLine(line) for line in lines]
    if not lines:
        return []
    indicators = result.get("indicators") or {}
    before, by_code, total_lines = _engine_lines_by_indicator(lines)
    out = [ExplanationLine(line, ENGINE_LANG) for line in before]
    for code in INDICATORS:
        engine_lines = by_code.get(code, [])
        figures = indicators.get(code)
        english = _english_line(code, figures, engine_lines, result) if isinstance(figures, dict) else None
        if english is not None and engine_lines:
            out.append(ExplanationLine(english))
        else:
            out += [ExplanationLine(line, ENGINE_LANG) for line in engine_lines]
    total = result.get("total")
    if total_lines and isinstance(total, (int, float)) and not isinstance(total, bool):
        out.append(ExplanationLine(_("总积分: 各项精确值之和 = %(total)s", total=_n(total))))
    else:
        out += [ExplanationLine(line, ENGINE_LANG) for line in total_lines]
    return out


def score_panel(application_id: int) -> ScorePanel | None:
    """The latest snapshot of an application as the details page shows it (None: never scored)."""
    snapshot = db.session.scalars(
        select(ScoreSnapshot).where(ScoreSnapshot.application_id == application_id)
        .order_by(ScoreSnapshot.id.desc()).limit(1)
    ).first()
    if snapshot is None:
        return None
    breakdown = snapshot.breakdown or {}
    changes = snapshot.changes or {}
    change_rows = [
        ChangeRow(code, indicator_label(code), c.get("before"), c.get("after"), c.get("claims") or [],
                  c.get("decisions") or [])
        for code, c in (changes.get("indicators") or {}).items()
    ]
    change_rows.sort(key=lambda r: INDICATORS.index(r.code) if r.code in INDICATORS else 99)
    return ScorePanel(
        snapshot=snapshot,
        rows=breakdown_rows(breakdown),
        explanation=explanation_lines(breakdown),
        changes=change_rows,
        total_before=(changes.get("total") or {}).get("before"),
        previous_snapshot_id=changes.get("previous_snapshot_id"),
    )


def total_standing(application) -> dict:
    """Whether the application's total is its year total, and if not, why — in the handbook's words."""
    year_row = application.year_ref
    a = type(application)
    submitted = bool(db.session.scalar(select(submitted_in_time(a, year_row)).where(a.id == application.id)))
    if not submitted:
        return {"code": "unsubmitted", "text": _("未提交：如果申报阶段结束时，您未完成提交，将无法获得积分，也将不能计算年度总积分。")}
    if db.session.scalar(select(not_final_condition(a)).where(a.id == application.id)):
        return {"code": "not_final", "text": _("积分尚非最终：尚有审核结果未返回或复查未办结；系统将在所有审核结果与复查申请审核结果返回后为您计算年度总积分。")}
    return {"code": "final", "text": ""}


class ApplicationScoreView(ApplicationView):
    """The applications' view with the latest score on the details page."""

    details_template = "applications/details.html"

    def render(self, template, **kwargs):
        if template == self.details_template and kwargs.get("model") is not None:
            model = kwargs["model"]
            kwargs["score"] = score_panel(model.id)
            kwargs["standing"] = total_standing(model)
            kwargs["may_simulate"] = bool(can_see(current_user, "claims", model.district_id))
        return super().render(template, **kwargs)


# The simulator ---------------------------------------------------------------------------
EXTRA_ROWS = 2  # blank rows offered below the filled ones
MAX_ROWS = 60  # rows read back from a form
_SPLIT = re.compile(r"[\n,;，；]+")
_RANGE_SEP = re.compile(r"\s*(?:~|～|至|—|–|\bto\b)\s*")


def _range_text(r) -> str:
    if isinstance(r, dict):
        a, b = r.get("from"), r.get("to")
    elif isinstance(r, (list, tuple)) and len(r) == 2:
        a, b = r
    else:
        return str(r)
    return a if a == b else f"{a}~{b}"


def to_form(data: dict) -> dict:
    """A score input → the simulator's form values."""
    year = data["year"]
    form = {"birth_date": data["birth_date"]}
    for t in INSURANCE_TYPES:
        slot = data["insurance"].get(t) or {}
        form[f"ins-{t}-paid"] = "\n".join(_range_text(r) for r in slot.get("paid") or [])
        form[f"ins-{t}-back_paid"] = ", ".join(_range_text(m) if not isinstance(m, str) else m
                                               for m in slot.get("back_paid") or [])
    form["wd"] = [dict(w) for w in data["work_districts"]]
    form["res"] = [dict(r) for r in data["residences"]]
    education = data["education"] or {}
    form["edu-level"] = education.get("level") or ""
    form["edu-degree"] = education.get("degree") or ""
    form["edu-graduated"] = education.get("graduated") or ""
    form["work_residence"] = bool(data["work_residence"])
    form["inno"] = [dict(a) for a in data["innovation"]]
    annual = data["tax"]["annual"]
    for y in range(year - 3, year):
        amount = annual.get(str(y))
        form[f"tax-{y}"] = "" if amount is None else (str(int(amount)) if float(amount).is_integer() else str(amount))
    form["tax-violations"] = str(data["tax"]["violations"])
    form["honors"] = list(data["honors"])
    form["detentions"] = str(data["detentions"])
    return form


def _rows(form: MultiDict, prefix: str, keys: tuple[str, ...]) -> list[dict]:
    rows = []
    for i in range(MAX_ROWS):
        row = {k: (form.get(f"{prefix}-{i}-{k}") or "").strip() for k in keys}
        if all(f"{prefix}-{i}-{k}" not in form for k in keys):
            break
        rows.append(row)
    return rows


def _number(value: str, what: str, errors: list, *, integer: bool = True):
    value = value.replace(",", "").replace("，", "").strip()
    try:
        number = int(value) if integer else float(value)
    except ValueError:
        errors.append(f"{what}: “{value}” " + _("不是数字"))
        return None
    if integer or number.is_integer():
        return int(number)
    return number


def parse_form(form: MultiDict, year: int) -> tuple[dict, dict, list[str]]:
    """The simulator's form → (score input, form values to show again, problems)."""
    errors: list[str] = []
    values: dict = {"birth_date": (form.get("birth_date") or "").strip()}
    insurance = {}
    for t in INSURANCE_TYPES:
        paid_text = form.get(f"ins-{t}-paid") or ""
        back_text = form.get(f"ins-{t}-back_paid") or ""
        values[f"ins-{t}-paid"], values[f"ins-{t}-back_paid"] = paid_text, back_text
        paid = []
        for item in filter(None, (s.strip() for s in _SPLIT.split(paid_text))):
            parts = _RANGE_SEP.split(item)
            paid.append([parts[0], parts[-1]] if len(parts) in (1, 2) else parts)
        back = []
        for item in filter(None, (s.strip() for s in _SPLIT.split(back_text))):
            parts = _RANGE_SEP.split(item)
            back.append(parts[0] if len(parts) == 1 else parts)
        insurance[t] = {"paid": paid, "back_paid": back}

    # Rows left blank are dropped (the page offers a few blank rows below the filled ones).
    work_districts = values["wd"] = [w for w in _rows(form, "wd", ("from", "to", "district"))
                                     if w["from"] or w["to"]]
    residences = values["res"] = [r for r in _rows(form, "res", ("type", "from", "to", "district"))
                                  if r["from"] or r["to"]]

    level, degree = form.get("edu-level") or None, form.get("edu-degree") or None
    graduated = (form.get("edu-graduated") or "").strip()
    values.update({"edu-level": level or "", "edu-degree": degree or "", "edu-graduated": graduated})
    education = {"level": level, "degree": degree, "graduated": graduated} if (level or degree) else None

    values["work_residence"] = form.get("work_residence") in ("1", "on", "true")
    values["inno"] = [row for row in _rows(form, "inno", ("code", "grade", "rank", "amount")) if row["code"]]
    innovation = []
    for row in values["inno"]:
        award = {"code": row["code"]}
        if row["code"] == EQUITY_FINANCING_CODE:
            award["amount"] = _number(row["amount"] or "0", _("融资额"), errors, integer=False)
        else:
            if row["grade"]:
                award["grade"] = row["grade"]
            if row["rank"]:
                award["rank"] = _number(row["rank"], _("排名"), errors)
        innovation.append(award)

    annual = {}
    for y in range(year - 3, year):
        raw = (form.get(f"tax-{y}") or "").strip()
        values[f"tax-{y}"] = raw
        if raw:
            amount = _number(raw, _("%(y)s年纳税额", y=y), errors, integer=False)
            if amount is not None:
                annual[str(y)] = amount
    values["tax-violations"] = (form.get("tax-violations") or "0").strip()
    violations = _number(values["tax-violations"] or "0", _("涉税违法次数"), errors)
    values["honors"] = [h for h in form.getlist("honors") if h]
    values["detentions"] = (form.get("detentions") or "0").strip()
    detentions = _number(values["detentions"] or "0", _("行政拘留次数"), errors)

    data = {
        "year": year,
        "birth_date": values["birth_date"],
        "insurance": insurance,
        "work_districts": work_districts,
        "residences": residences,
        "education": education,
        "work_residence": values["work_residence"],
        "innovation": innovation,
        "tax": {"annual": annual, "violations": violations},
        "honors": values["honors"],
        "detentions": detentions,
    }
    return data, values, errors


# 附件1's grades (等级) in the annex table's own words.
GRADE_LABELS = grade_labels()


def _choices():
    grades = []
    for _name, bands in INNOVATION.values():
        for grade in bands:
            if grade is not None and grade not in [g for g, _label in grades]:
                grades.append((grade, GRADE_LABELS.get(grade, grade)))
    awards = [(code, name) for code, (name, _bands) in INNOVATION.items()]
    awards.append((EQUITY_FINANCING_CODE, EQUITY_FINANCING_NAME))
    return {
        "districts": list(DISTRICTS),
        "residence_types": list(RESIDENCE_TYPES.items()),
        "levels": list(EDUCATION_LEVELS.items()),
        "degrees": list(EDUCATION_DEGREES.items()),
        "awards": awards,
        "grades": grades,
        "honours": list(HONOURS.items()),
        "insurance": [(t, _(INSURANCE_WORDS[t])) for t in INSURANCE_TYPES],
    }


_APP_NO = re.compile(r"^(\d{4})-(\d{1,9})$")
_LAST4 = re.compile(r"^\d{3}[\dXx]$")


class SimulatorView(ProtectedView):
    """积分模拟计算: change an application's facts without saving, see the breakdown."""

    # It shows an applicant's verified facts: those who may read claims (reviewers,
    # supervisors, administrators), each in their district (staff/permissions.py).
    area = "claims"


    def _application(self, application_id) -> Application:
        """The application, or 404 — also for another district's: its existence is not told."""
        try:
            application = db.session.get(Application, int(application_id))
        except (TypeError, ValueError):
            application = None
        if application is None or not can_see(current_user, self.area, application.district_id):
            abort(404)
        return application

    def _search(self, q: str) -> list[Application]:
        stmt = select(Application).join(Applicant, Applicant.id == Application.applicant_id)
        if current_user.district_id is not None:
            stmt = stmt.where(Application.district_id == current_user.district_id)
        q = q.strip()
        if match := _APP_NO.match(q):
            stmt = stmt.where(Application.year == int(match.group(1)), Application.id == int(match.group(2)))
        elif _LAST4.match(q):
            stmt = stmt.where(Applicant.id_last4 == q.upper())
        elif q.isdigit():
            stmt = stmt.where(Application.id == int(q))
        else:
            return []
        return list(db.session.scalars(stmt.order_by(Application.year.desc(), Application.id).limit(50)))

    def _baseline(self, application):
        """The application's verified facts as a score input, and what they score."""
        data = build_score_input(application, application.claims)
        return data, score(data)

    def _render(self, application, values, result, baseline, errors, simulated: bool):
        return self.render(
            "applications/simulator.html",
            application=application,
            number=application_number(application),
            applicant_label=f"{application.applicant.name} {mask_resident_id(application.applicant.id_number)}",
            values=values,
            result=result,
            baseline=baseline,
            rows=breakdown_rows(result, baseline) if result else [],
            explanation=explanation_lines(result),
            errors=errors,
            simulated=simulated,
            choices=_choices(),
            extra_rows=EXTRA_ROWS,
            tax_years=list(range(application.year - 3, application.year)),
            
        )

    @expose("/", methods=("GET",))
    def index(self):
        application_id = request.args.get("application_id")
        if application_id is None:
            q = request.args.get("q", "")
            matches = self._search(q) if q else []
            if len(matches) == 1:
                return redirect(url_for(".index", application_id=matches[0].id))
            return self.render("applications/simulator_search.html", q=q, matches=matches,
                               number=application_number, mask=mask_resident_id)
        application = self._application(application_id)
        try:
            data, baseline = self._baseline(application)
        except (FactsError, ScoreInputError) as exc:
            return self._render(application, None, None, None, [str(exc)], simulated=False)
        return self._render(application, to_form(data), baseline, baseline, [], simulated=False)

    @expose("/", methods=("POST",))
    def simulate(self):
        application = self._application(request.form.get("application_id"))
        try:
            _data, baseline = self._baseline(application)
        except (FactsError, ScoreInputError):
            baseline = None
        data, values, errors = parse_form(request.form, application.year)
        result = None
        if not errors:
            try:
                result = score(data)
            except ScoreInputError as exc:
                errors.append(f"{exc.path}: {exc.message}")
        # The one thing written: who simulated what for which application.
        record("simulator.used", "application", application.id, district_id=application.district_id,
               after={"total": result["total"] if result else None,
                      "verified_total": baseline["total"] if baseline else None,
                      "errors": errors[:3]})
        return self._render(application, values, result, baseline, errors, simulated=True)
