"""What may be done in which phase of an application year, as data.

A year (申报年度) has its phase dates (backoffice.reference.models.Year):
申报阶段 (application), 审核结果查询阶段 (result_query), 公示 (announcement, 7 days)
and 落户办理 (settlement). Each action below is allowed on the days of one window,
both ends included; outside it the intake refuses the action with the rule in words
(HTTP 409 in the API).

Pure data: no Flask, SQLAlchemy or RQ. ``year`` is anything with the Year's date
attributes (``application_start`` … ``settlement_end``).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class PhaseRule:
    action: str
    start: str  # Year attribute that opens the window
    end: str  # Year attribute that closes it (inclusive)
    window_zh: str
    window_en: str
    section: str
    quote: str  # the handbook's words for the rule

    def allows(self, year, day: date) -> bool:
        return getattr(year, self.start) <= day <= getattr(year, self.end)

    def refusal(self, year, day: date) -> "PhaseRefusal | None":
        if self.allows(year, day):
            return None
        start, end = getattr(year, self.start), getattr(year, self.end)
        return PhaseRefusal(
            rule=f"phase.{self.action}",
            message_zh=f"{self.quote}（{year.year}年度{self.window_zh}：{start:%Y-%m-%d}至{end:%Y-%m-%d}，"
            f"今天是{day:%Y-%m-%d}）",
            message_en=f"{ACTION_EN[self.action]} only in the {self.window_en} "
            f"({start:%Y-%m-%d} to {end:%Y-%m-%d} for {year.year}); today is {day:%Y-%m-%d}.",
        )


@dataclass(frozen=True)
class PhaseRefusal:
    rule: str
    message_zh: str
    message_en: str


_FILING_QUOTE = "申报阶段结束后，无法新增、修改或保存指标信息，也无法提交申请。"
_FILING = dict(start="application_start", end="application_end", window_zh="申报阶段",
               window_en="application phase", section="第三篇 十、2. 撤回修改", quote=_FILING_QUOTE)

RULES: dict[str, PhaseRule] = {
    # 第二篇: 用人单位和申请人都要在当年申报阶段内完成注册及积分信息填报.
    "application.create": PhaseRule("application.create", **_FILING),
    # 第三篇 十、2: 申报阶段内，已提交的积分申请可撤回修改.
    "application.change": PhaseRule("application.change", **_FILING),
    "claim.create": PhaseRule("claim.create", **_FILING),
    "claim.change": PhaseRule("claim.change", **_FILING),
    "claim.delete": PhaseRule("claim.delete", **_FILING),
    # 复查 belongs to the application phase (申报须知 5): "申报阶段,积分指标未填报或对审核结果有
    # 异议的,可…进行…复查". From the result-query phase on, objections go through 异议申诉.
    # Only the filing is bound to the window: a 复查 filed in time may be decided after it.
    "review.submit": PhaseRule(
        "review.submit", start="application_start", end="application_end",
        window_zh="申报阶段", window_en="application phase", section="申报须知 5.“北京人社”APP",
        quote="申报阶段,积分指标未填报或对审核结果有异议的,可登录“积分落户在线申报系统”进行填报、修改、删除或复查。",
    ),
    # 第四篇: appeals are filed, changed and withdrawn in the result-query phase only.
    **{
        action: PhaseRule(
            action, start="result_query_start", end="result_query_end", window_zh="审核结果查询阶段",
            window_en="result-query phase", section=section,
            quote=quote,
        )
        for action, section, quote in (
            ("appeal.submit", "第四篇 一、须知", "对审核结果有异议的，可在该阶段通过本系统异议申诉渠道提出申诉。"
                                           "该阶段结束后，不再受理申请人针对本人积分指标的异议诉求。"),
            ("appeal.modify", "第四篇 二、流程", "在审核结果查询阶段，可撤回、修改申诉，但逾期不能再更改。"),
            ("appeal.withdraw", "第四篇 二、流程", "在审核结果查询阶段，可撤回、修改申诉，但逾期不能再更改。"),
        )
    },
    # 第五篇 一、2: 公示期间有异议的,可在公示期内向市人力资源社会保障局实名书面举报.
    "tip.submit": PhaseRule(
        "tip.submit", start="announcement_start", end="announcement_end", window_zh="公示期（7天）",
        window_en="7-day announcement", section="第五篇 一、2. 结果公示",
        quote="公示期间有异议的,可在公示期内向市人力资源社会保障局实名书面举报",
    ),
}

ACTION_EN = {
    "application.create": "Applications can be filed",
    "application.change": "Applications can be changed, submitted or withdrawn",
    "claim.create": "Indicators can be added",
    "claim.change": "Indicators can be changed",
    "claim.delete": "Indicators can be deleted",
    "review.submit": "Review requests (复查) are accepted",
    "appeal.submit": "Appeals (异议申诉) can be filed",
    "appeal.modify": "Appeals can be changed",
    "appeal.withdraw": "Appeals can be withdrawn",
    "tip.submit": "Reports (举报) are accepted",
}
assert set(ACTION_EN) == set(RULES)


def refusal(action: str, year, day: date) -> PhaseRefusal | None:
    """Why ``action`` is refused on ``day`` in ``year``, or None when it is allowed."""
    return RULES[action].refusal(year, day)


# 第五篇 一、2: “落户人员名单将在“首都之窗”公示7天。” Both ends are announcement days.
ANNOUNCEMENT_DAYS = 7
ANNOUNCEMENT_QUOTE = "落户人员名单将在“首都之窗”公示7天。"


def announcement_length_problem(start: date | None, end: date | None) -> str | None:
    """Why a year's announcement dates are refused (the phase must last 7 days), or None."""
    if start is None or end is None:
        return None
    days = (end - start).days + 1
    if days == ANNOUNCEMENT_DAYS:
        return None
    return (f"{ANNOUNCEMENT_QUOTE}公示期应为7天（含首尾两日），现为{days}天（{start:%Y-%m-%d}至{end:%Y-%m-%d}）。"
            f" / The announcement lasts 7 days, both ends included; these dates give {days}.")
