"""Insurance-history arithmetic: months as ordinals, histories as interval lists.

* A month is the ordinal ``year * 12 + month - 1``.
* A history (insurance months, residence months, work-district months) is a sorted list
  of disjoint, non-adjacent, inclusive ``(first, last)`` tuples. Every count is done on
  those interval lists, never month by month.
* The handbook's periods and start months are named here once.

Pure: no parsing (see ``validation``), no points (see ``indicators``).
"""

from __future__ import annotations


def month_ordinal(year: int, month: int) -> int:
    return year * 12 + month - 1


# 第三篇 一、合法稳定就业: "从1998年7月1日起"
EMPLOYMENT_FIRST_MONTH = month_ordinal(1998, 7)
# 第三篇 二、合法稳定住所: "2020年7月(含)以前" (period A) / "2020年8月(含)以后" (period B)
PERIOD_A_LAST_MONTH = month_ordinal(2020, 7)
PERIOD_B_FIRST_MONTH = month_ordinal(2020, 8)
# 第三篇 四、职住区域: "自2018年1月1日起"
WORK_RESIDENCE_FIRST_MONTH = month_ordinal(2018, 1)


def cutoff_month(application_year: int) -> int:
    """December of the year before the application year: "截止到积分落户申报工作启动的上一年度12月31日"."""
    return application_year * 12 - 1


#: "YYYY-MM" → ordinal for the years any application can mention (a constant table, never
#: written to; months outside it go through the careful parser in ``validation``).
MONTH_ORDINALS = {f"{y:04d}-{m + 1:02d}": y * 12 + m for y in range(1900, 2200) for m in range(12)}
_MONTH_NAMES = {ordinal: name for name, ordinal in MONTH_ORDINALS.items()}


def month_str(ordinal: int) -> str:
    """Month ordinal → ``"YYYY-MM"``."""
    try:
        return _MONTH_NAMES[ordinal]
    except KeyError:
        return f"{ordinal // 12:04d}-{ordinal % 12 + 1:02d}"


def merge(intervals):
    """Sort and merge overlapping or adjacent (first, last) tuples."""
    if len(intervals) < 2:
        return intervals
    intervals = sorted(intervals)
    merged = []
    current_first, current_last = intervals[0]
    for first, last in intervals:
        if first <= current_last + 1:
            if last > current_last:
                current_last = last
        else:
            merged.append((current_first, current_last))
            current_first, current_last = first, last
    merged.append((current_first, current_last))
    return merged


def count(intervals) -> int:
    """Months in a merged history."""
    months = 0
    for first, last in intervals:
        months += last - first + 1
    return months


def clip(intervals, lo, hi):
    """The months of ``intervals`` inside [lo, hi] (empty when hi < lo)."""
    clipped = []
    for first, last in intervals:
        if first < lo:
            first = lo
        if last > hi:
            last = hi
        if first <= last:
            clipped.append((first, last))
    return clipped


def count_between(intervals, lo, hi) -> int:
    """How many months of ``intervals`` lie inside [lo, hi]."""
    months = 0
    for first, last in intervals:
        if first < lo:
            first = lo
        if last > hi:
            last = hi
        if last >= first:
            months += last - first + 1
    return months


def subtract(x, y):
    """Months of x not in y (both merged)."""
    if not y or not x:
        return x
    remaining = []
    j = 0
    y_len = len(y)
    for first, last in x:
        while j < y_len and y[j][1] < first:
            j += 1
        k = j
        while first <= last:
            if k >= y_len or y[k][0] > last:
                remaining.append((first, last))
                break
            y_first, y_last = y[k]
            if y_first > first:
                remaining.append((first, y_first - 1))
            first = y_last + 1
            k += 1
    return remaining


def intersect(x, y):
    """Months in both x and y (both merged)."""
    common = []
    i = j = 0
    x_len, y_len = len(x), len(y)
    while i < x_len and j < y_len:
        x_first, x_last = x[i]
        y_first, y_last = y[j]
        first = x_first if x_first > y_first else y_first
        last = x_last if x_last < y_last else y_last
        if first <= last:
            common.append((first, last))
        if x_last < y_last:
            i += 1
        else:
            j += 1
    return common


def format_ranges(intervals, limit: int = 4) -> str:
    """A history as a reviewer reads it: "2010-01~2013-03, 2013-05~2020-12"."""
    if not intervals:
        return "无"
    parts = [month_str(first) if first == last else f"{month_str(first)}~{month_str(last)}"
             for first, last in intervals[:limit]]
    if len(intervals) > limit:
        parts.append(f"等 {len(intervals)} 段")
    return ", ".join(parts)
