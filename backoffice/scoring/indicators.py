"""The nine indicators of 第三篇 积分指标及分值, one function each (SCORING.md rules 1–9).

Each takes the validated facts it needs and the cut-off month, appends the lines a reviewer
reads to retrace its figure to ``explanation``, and returns its points in units (1/24 point,
see ``points``) with the figures the result shows. The contract's letters (E, E_A, O_B,
R_B, J, L …) are named in full here; each appears once in a comment next to its name.
"""

from __future__ import annotations

import functools

from .history import (
    EMPLOYMENT_FIRST_MONTH,
    PERIOD_A_LAST_MONTH,
    PERIOD_B_FIRST_MONTH,
    WORK_RESIDENCE_FIRST_MONTH,
    clip,
    count,
    count_between,
    format_ranges,
    intersect,
    merge,
    month_str,
    subtract,
)
from .points import (
    UNITS_PER_EMPLOYMENT_MONTH,
    UNITS_PER_OWN_MONTH,
    UNITS_PER_POINT,
    UNITS_PER_RENTAL_MONTH,
    shown,
    yuan,
)
from .tables import (
    EDUCATION,
    EDUCATION_DEGREES,
    EDUCATION_LEVELS,
    EQUITY_FINANCING,
    EQUITY_FINANCING_CODE,
    EQUITY_FINANCING_NAME,
    HONOUR_POINTS,
    HONOURS,
    INNOVATION,
    INSURANCE_TYPES,
)

INSURANCE_CODES = tuple(code for code, _label in INSURANCE_TYPES)  # the tie-break order of rule 1
INSURANCE_LABELS = dict(INSURANCE_TYPES)
TAX_THRESHOLD_YUAN = 100_000
TAX_POINTS_PER_YEAR = 2
TAX_VIOLATION_POINTS = -12
DETENTION_POINTS = -30
WORK_RESIDENCE_MAX_POINTS = 12


# 1. 合法稳定就业 ------------------------------------------------------------------------------
def employment(insurance, cutoff, explanation):
    """Rule 1. "从1998年7月1日起, 截止到...上一年度12月31日, 在养老、医疗、失业、工伤、生育保险中,
    选取申请人在京累计缴费时间最长的险种月数除以12 ... 不包括...补缴月数。"

    Returns (units, employment_months (E), employment type, the employment type's counted
    months as a history).
    """
    best_months = -1
    employment_type = None
    months_per_type = []
    back_paid_note = ""
    previous = None
    months = 0
    for code in INSURANCE_CODES:
        paid_and_back_paid = insurance[code]
        if paid_and_back_paid is previous:
            months_per_type.append(months)  # the same history as the previous type (shared by validate)
            continue
        previous = paid_and_back_paid
        paid, back_paid = paid_and_back_paid
        months = count_between(paid, EMPLOYMENT_FIRST_MONTH, cutoff)
        if back_paid and months:
            with_back_paid = months
            months = count(subtract(clip(paid, EMPLOYMENT_FIRST_MONTH, cutoff), back_paid))
            if months != with_back_paid:
                back_paid_note += f" {INSURANCE_LABELS[code][:2]} {with_back_paid - months}"
        months_per_type.append(months)
        if months > best_months:
            best_months, employment_type = months, code
    paid, back_paid = insurance[employment_type]
    counted = clip(paid, EMPLOYMENT_FIRST_MONTH, cutoff)  # the employment type's counted months
    if back_paid:
        counted = subtract(counted, back_paid)
    employment_months = best_months  # E
    units = employment_months * UNITS_PER_EMPLOYMENT_MONTH  # E × 3/12 point
    explanation.append(
        f"合法稳定就业: {month_str(EMPLOYMENT_FIRST_MONTH)}~{month_str(cutoff)} 各险种计分月数 "
        f"养老 {months_per_type[0]}, 医疗 {months_per_type[1]}, 失业 {months_per_type[2]}, "
        f"工伤 {months_per_type[3]}, 生育 {months_per_type[4]}"
        + (f" (已除去补缴月数:{back_paid_note})" if back_paid_note else ""))
    explanation.append(
        f"合法稳定就业: {INSURANCE_LABELS[employment_type]} {employment_months} 个月 × 3/12 = {shown(units)}"
        + (f" ({format_ranges(counted)})" if employment_months else ""))
    return units, employment_months, employment_type, counted


# 2. 合法稳定住所 ------------------------------------------------------------------------------
def housing(employment_history, employment_months, own, rent, cutoff, explanation):
    """Rule 2. "2020年7月(含)以前在租赁住所、单位宿舍的连续居住年限, 无需填报, 系统将以申请人同期
    在京合法稳定就业年限计算。" / "当连续居住年限多于合法稳定就业年限, 以申请人合法稳定
    就业年限作为连续居住年限计算, 优先计算自有住所积分。"

    Returns (units, own months, rental/dorm months, the own months up to the cut-off, the
    rental/dorm months of period B that are not own months) — the last two for rule 3.
    """
    period_a_last = PERIOD_A_LAST_MONTH if PERIOD_A_LAST_MONTH < cutoff else cutoff
    employment_period_a = count_between(employment_history, EMPLOYMENT_FIRST_MONTH, period_a_last)  # E_A
    employment_period_b = employment_months - employment_period_a  # E_B
    own_history = clip(merge(own), 0, cutoff)
    own_period_a = count_between(own_history, 0, period_a_last)  # O_A
    own_period_b = count_between(own_history, PERIOD_B_FIRST_MONTH, cutoff)  # O_B
    rental_period_b_history = subtract(clip(merge(rent), PERIOD_B_FIRST_MONTH, cutoff), own_history)
    rental_period_b = count(rental_period_b_history)  # R_B
    # own_A = min(O_A, E_A); rent_A = E_A - own_A (before 2020-08 residence is taken from employment)
    counted_own_a = own_period_a if own_period_a < employment_period_a else employment_period_a
    counted_rent_a = employment_period_a - counted_own_a
    # own_B = min(O_B, E_B); rent_B = min(R_B, E_B - own_B)
    counted_own_b = own_period_b if own_period_b < employment_period_b else employment_period_b
    counted_rent_b = employment_period_b - counted_own_b
    if rental_period_b < counted_rent_b:
        counted_rent_b = rental_period_b
    own_months = counted_own_a + counted_own_b
    rent_months = counted_rent_a + counted_rent_b
    enough = own_months + rent_months >= 12  # "需连续居住满1年"
    units = (UNITS_PER_OWN_MONTH * own_months + UNITS_PER_RENTAL_MONTH * rent_months) if enough else 0
    explanation.append(f"合法稳定住所 2020-07 及以前: 就业 {employment_period_a} 个月, 自有 {own_period_a} 个月 → "
                       f"自有 {counted_own_a} + 租赁/宿舍(以就业计) {counted_rent_a}")
    if cutoff >= PERIOD_B_FIRST_MONTH:
        explanation.append(f"合法稳定住所 2020-08 起: 就业 {employment_period_b} 个月, 自有 {own_period_b} 个月, "
                           f"租赁/宿舍(非自有) {rental_period_b} 个月 → 自有 {counted_own_b} + 租赁/宿舍 {counted_rent_b}")
    if enough:
        explanation.append(f"合法稳定住所: 自有 {own_months} 个月 × 1/12 + 租赁/宿舍 {rent_months} 个月 × 0.5/12 "
                           f"= {shown(units)}")
    else:
        explanation.append(f"合法稳定住所: 自有 {own_months} + 租赁/宿舍 {rent_months} = {own_months + rent_months} 个月, "
                           "不满 12 个月 (需连续居住满1年), 积 0.00")
    return units, own_months, rent_months, own_history, rental_period_b_history


# 3. 教育背景 ----------------------------------------------------------------------------------
def _education_row(level, degree):
    """(points, years of the deduction window, (level, degree) of the table row used)."""
    row = EDUCATION.get((level, degree))
    if row is not None:
        return row[0], row[1], (level, degree)
    # "Any other pairing ... is scored as the better of its parts." (SCORING.md 3)
    by_level = EDUCATION[(level, None)]
    by_degree = EDUCATION[(None, degree)]
    if by_level[0] >= by_degree[0]:
        return by_level[0], by_level[1], (level, None)
    return by_degree[0], by_degree[1], (None, degree)


def _education_label(level, degree):
    parts = []
    if level is not None:
        parts.append(EDUCATION_LEVELS[level] + "学历")
    if degree is not None:
        parts.append(EDUCATION_DEGREES[degree] + "学位")
    return " + ".join(parts)


def _education_rows():
    """(level, degree) → (units, years, label) for every accepted pairing."""
    rows = {}
    for level in (None, *EDUCATION_LEVELS):
        for degree in (None, *EDUCATION_DEGREES):
            if level is None and degree is None:
                continue
            points, years, row = _education_row(level, degree)
            units = points * UNITS_PER_POINT
            assert units == int(units), (level, degree, points)
            label = _education_label(level, degree)
            if row != (level, degree):
                label += f" (按较高一项 {_education_label(*row)} 计)"
            rows[(level, degree)] = (int(units), years, label)
    return rows


EDUCATION_ROWS = _education_rows()


def education(facts, employment_history, own_history, rental_period_b_history, cutoff, explanation):
    """Rule 3. "取得学历(学位)期间连续缴纳社会保险年限及连续居住年限的积分与学历(学位)积分不累计";
    表中 "自毕业时间起前3年/前4年" — the window ends before the graduation month.

    Returns (units, deduction units (≤ 0)).
    """
    if facts is None:
        explanation.append("教育背景: 无")
        return 0, 0
    level, degree, graduated = facts
    units, years, label = EDUCATION_ROWS[(level, degree)]
    if graduated > cutoff:
        explanation.append(f"教育背景: {label}, 毕业 {month_str(graduated)} 晚于 {month_str(cutoff)}, 积 0.00")
        return 0, 0
    window_first, window_last = graduated - 12 * years, graduated - 1
    employment_in_window = count_between(employment_history, window_first, window_last)
    period_a_last = PERIOD_A_LAST_MONTH if PERIOD_A_LAST_MONTH < cutoff else cutoff
    employment_period_a = clip(employment_history, EMPLOYMENT_FIRST_MONTH, period_a_last)
    # A residence month: own, or (period A and an employment month), or (period B and rental/dorm).
    residence = merge(own_history + employment_period_a + rental_period_b_history)
    residence_in_window = count_between(residence, window_first, window_last)
    if residence_in_window > employment_in_window:
        residence_in_window = employment_in_window  # capped at the window's employment months
    deduction = -(UNITS_PER_EMPLOYMENT_MONTH * employment_in_window
                  + UNITS_PER_RENTAL_MONTH * residence_in_window)
    explanation.append(f"教育背景: {label} = {shown(units)} (毕业 {month_str(graduated)})")
    explanation.append(f"教育背景扣除: 毕业前 {years} 年 {month_str(window_first)}~{month_str(window_last)}, "
                       f"就业 {employment_in_window} 个月 × 3/12 + 居住 {residence_in_window} 个月 × 0.5/12 "
                       f"= {shown(deduction)}")
    return units, deduction


# 4. 职住区域 ----------------------------------------------------------------------------------
def work_residence(chosen, own_outside, work_outside, cutoff, explanation):
    """Rule 4. "上述情况分别累计12个月按满1年确定积分, 不足12个月不积分, 最高加12分。"
    "申报本项指标的申请人在...上一年度12月, 应在本市城六区之外其他行政区自有住所居住"

    Returns (units, months living and working outside 城六区 (J), months only living
    outside (L)).
    """
    if not chosen:
        explanation.append("职住区域: 未选择以职住区域指标积分")
        return 0, 0, 0
    own_outside_history = clip(merge(own_outside), WORK_RESIDENCE_FIRST_MONTH, cutoff)
    if not own_outside_history or own_outside_history[-1][1] != cutoff:
        explanation.append(f"职住区域: {month_str(cutoff)} 不在城六区以外自有住所居住, 积 0.00")
        return 0, 0, 0
    # work_outside: sorted, never overlapping (validated)
    both_outside = count(intersect(own_outside_history, work_outside))  # J
    live_outside = count(own_outside_history) - both_outside  # L
    # min(12, 3 × (J // 12) + 2 × ((L + J % 12) // 12))
    points = 3 * (both_outside // 12) + 2 * ((live_outside + both_outside % 12) // 12)
    if points > WORK_RESIDENCE_MAX_POINTS:
        points = WORK_RESIDENCE_MAX_POINTS
    explanation.append(
        f"职住区域: {month_str(WORK_RESIDENCE_FIRST_MONTH)}~{month_str(cutoff)} "
        f"职住均在城六区外 {both_outside} 个月, 仅居住在城六区外 {live_outside} 个月; "
        f"3 × ({both_outside} // 12) + 2 × (({live_outside} + {both_outside} % 12) // 12) = {points}"
        + (" (最高 12)" if points == WORK_RESIDENCE_MAX_POINTS else ""))
    return points * UNITS_PER_POINT, both_outside, live_outside


# 5. 创新创业 ----------------------------------------------------------------------------------
def award_points(code, grade, rank, amount):
    """(points, readable table row) of one verified award (附件1)."""
    if code == EQUITY_FINANCING_CODE:
        for minimum, points, label in EQUITY_FINANCING:
            if amount >= minimum:
                return points, f"{EQUITY_FINANCING_NAME} 融资 {yuan(amount)} 元: {label}"
        return 0, f"{EQUITY_FINANCING_NAME} 融资 {yuan(amount)} 元: 不足 500 万元"
    name, grades = INNOVATION[code]
    for rank_from, rank_to, points, label in grades[grade]:
        if rank_from is None or rank_from <= rank <= rank_to:
            return points, f"{name} {label}"
    return 0, f"{name} 第 {rank} 名不在附件1 任何档次内"


def innovation(awards, explanation):
    """Rule 5. "上述创新创业指标各项加分不累计, 同时符合多项积分条件的, 只计最高分。" Returns units."""
    if not awards:
        explanation.append("创新创业: 无")
        return 0
    best_points, best_label = 0, None
    for code, grade, rank, amount in awards:
        points, label = award_points(code, grade, rank, amount)
        if best_label is None or points > best_points:
            best_points, best_label = points, label
    more = f" (共 {len(awards)} 项, 只计最高)" if len(awards) > 1 else ""
    explanation.append(f"创新创业: 附件1 {best_label} = {best_points}{more}")
    return best_points * UNITS_PER_POINT


# 6. 纳税 --------------------------------------------------------------------------------------
def tax(annual, violations, application_year, explanation):
    """Rule 6. "申请人须每年...在京缴纳个人所得税, 且纳税额大于“0”。上述个人所得税纳税额每1年在
    10万元及以上的, 加2分, 最高加6分" / "近5年有涉税违法行为记录的, 每条记录减12分。"

    Returns (units, qualifying years).
    """
    y = application_year
    amounts = (annual.get(y - 3, 0), annual.get(y - 2, 0), annual.get(y - 1, 0))
    if amounts[0] > 0 and amounts[1] > 0 and amounts[2] > 0:
        qualifying_years = ((amounts[0] >= TAX_THRESHOLD_YUAN) + (amounts[1] >= TAX_THRESHOLD_YUAN)
                            + (amounts[2] >= TAX_THRESHOLD_YUAN))
        condition = f"三年均 > 0, {qualifying_years} 年 ≥ 10 万 × 2"
    else:
        qualifying_years = 0
        condition = "并非三年均 > 0, 不加分"
    units = (TAX_POINTS_PER_YEAR * qualifying_years + TAX_VIOLATION_POINTS * violations) * UNITS_PER_POINT
    explanation.append(f"纳税: {y - 3} 年 {yuan(amounts[0])} 元, {y - 2} 年 {yuan(amounts[1])} 元, "
                       f"{y - 1} 年 {yuan(amounts[2])} 元; {condition}; 涉税违法 {violations} 次 × -12 → {shown(units)}")
    return units, qualifying_years


# 7. 年龄 --------------------------------------------------------------------------------------
def age(birth, application_year, explanation):
    """Rule 7. "年龄不超过45周岁的, 加20分; 年龄在45周岁以上的, 每增加一岁(含不满一岁)少加4分。"
    "截至积分落户申报工作启动的上一年度1月1日" — the table equals 20 - 4 × ((Y-2) - 出生年 - 45).

    Returns (units, completed years on 1 January of Y-1).
    """
    birth_year, birth_month, birth_day = birth
    completed_years = (application_year - 1) - birth_year - (1 if (birth_month, birth_day) > (1, 1) else 0)
    points, line = _age_points(application_year, birth_year, completed_years)
    explanation.append(line)
    return points * UNITS_PER_POINT, completed_years


@functools.lru_cache(maxsize=4096)  # a year's applicants share few birth years
def _age_points(application_year, birth_year, completed_years):
    table_age = (application_year - 2) - birth_year  # a = (Y - 2) - birth year
    points = 20 - 4 * (table_age - 45) if table_age > 45 else 20
    if points < 0:
        points = 0
    # Worded by birth year, as the handbook's 年龄指标分段积分表 is: an applicant born on
    # 1 January 1974 is 46 on 2020-01-01 yet the table gives 1974 births 20 points for 2021.
    line = (f"年龄: {birth_year} 年出生; 年龄指标分段积分表 {application_year} 年度 {birth_year} 年出生 "
            f"({application_year - 2} - {birth_year} = {table_age}"
            + (f" > 45, 20 - 4 × {table_age - 45}" if table_age > 45 else " ≤ 45") + f") → {points}")
    return points, line


# 8. 荣誉表彰 ----------------------------------------------------------------------------------
def honours(codes, explanation):
    """Rule 8: 20 points for any honour of 附件2, not cumulative. Returns units."""
    if not codes:
        explanation.append("荣誉表彰: 无")
        return 0
    explanation.append(f"荣誉表彰: 附件2 {HONOURS[codes[0]]} = {HONOUR_POINTS}"
                       + (f" (共 {len(codes)} 项, 不累计)" if len(codes) > 1 else ""))
    return HONOUR_POINTS * UNITS_PER_POINT


# 9. 守法记录 ----------------------------------------------------------------------------------
def law_abiding(detentions, explanation):
    """Rule 9: -30 points per administrative detention in the last 5 years. Returns units."""
    units = DETENTION_POINTS * detentions * UNITS_PER_POINT
    explanation.append(f"守法记录: 行政拘留 {detentions} 次 × -30 = {shown(units)}")
    return units
