"""The nine indicators (指标) of the points scheme, in the handbook's order.

Source: 《北京市积分落户申报手册》2021年版, 第三篇 一 … 九, and the indicator
list of 第四篇 审核结果异议申诉. Pure data: no Flask, SQLAlchemy or RQ here.
"""
from __future__ import annotations

from dataclasses import dataclass


class UnknownCode(KeyError, ValueError):
    """A code that is not in a table: a KeyError for lookups, a ValueError for callers
    that validate input. Its message is printed as written (KeyError would quote it)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class Indicator:
    code: str
    label_zh: str  # as in the handbook's 异议申诉 list (第四篇 二)
    label_en: str
    section: str  # handbook section that explains and scores it


INDICATORS: tuple[Indicator, ...] = (
    Indicator("employment", "合法稳定就业", "Legal and stable employment", "第三篇 一、合法稳定就业指标"),
    Indicator("housing", "合法稳定住所", "Legal and stable residence", "第三篇 二、合法稳定住所指标"),
    Indicator("education", "教育背景", "Education", "第三篇 三、教育背景指标"),
    Indicator("work_residence", "职住区域", "Work and residence district", "第三篇 四、职住区域指标"),
    Indicator("innovation", "创新创业", "Innovation and entrepreneurship", "第三篇 五、创新创业指标"),
    Indicator("tax", "纳税", "Income tax", "第三篇 六、纳税指标"),
    Indicator("age", "年龄", "Age", "第三篇 七、年龄指标"),
    Indicator("honors", "荣誉表彰", "Honours", "第三篇 八、荣誉表彰指标"),
    Indicator("law_abiding", "守法记录", "Law-abiding record", "第三篇 九、守法记录指标"),
)

INDICATOR_CODES: tuple[str, ...] = tuple(i.code for i in INDICATORS)

_BY_CODE = {i.code: i for i in INDICATORS}


def indicator(code: str) -> Indicator:
    """The indicator with this code; an unknown code raises UnknownCode (a ValueError)."""
    try:
        return _BY_CODE[code]
    except KeyError:
        raise UnknownCode(
            f"unknown indicator {code!r}; expected one of {', '.join(INDICATOR_CODES)}"
        ) from None
