"""Filings (填报凭证): evidence uploaded with a claim itself, which the district window checks.

Two materials tables have ``purpose="filing"`` (verifiers/materials.py): the spouse's
marriage evidence and the overseas degree recognition certificate. Neither is a 复查 of a
registry result; each is opened as a case when the claim is filed (cases/intake.py
``open_filings``), in the queue of the claim's indicator, and decided like a 复查.

Which claims need one is this table, read against the claim's filed identifiers
(``filed``, backoffice/intake/services.py): a rule applies when any of its ``when`` pairs
matches. What a decision does to the claim is the rule's ``settles``:

* ``"claim"`` — no department answers for the claim (留学: the 教育部留学服务中心 certificate is
  checked at the window, verifiers/registry/verify.py), so the window's decision is the claim's
  result: 认定有效 makes it valid as filed (or as corrected), 不予支持 invalid with the
  decision's reason;
* ``"spouse"`` — the window checks the spouse information only; the listing stays with the
  real-estate or rental register. 不予支持 makes the claim "无效(配偶信息无效)" (第三篇 二 3.(2):
  "配偶信息审核无效的,该配偶名下自有住所、租赁住所状态显示为“无效(配偶信息无效)”"), and the
  register's later answers cannot undo it; 认定有效 leaves the register's result as it is.

Old certificates take longer. 第三篇 三 2 "需要注意的是" ②, quoted in ``ARCHIVE_QUOTE``:
certificates issued before those dates need the historical archive, "所需时间较长". The
handbook gives no figure: every other review "所需时间约两周左右" (ten working days,
verifiers/turnaround.py), and ``ARCHIVE_WORKING_DAYS`` doubles it. That number is ours, not
the handbook's; change it here.

Pure data: no Flask, SQLAlchemy or RQ.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from verifiers.materials import review_type as _review_type
from verifiers.reasons import REASON_CODES
from verifiers.turnaround import due_working_days

SETTLES = ("claim", "spouse")


@dataclass(frozen=True)
class FilingRule:
    review_type: str  # a materials table with purpose "filing"
    when: tuple[tuple[str, str], ...]  # (key of the claim's filed identifiers, value): any one matches
    settles: str  # what the decision decides: the whole claim, or the spouse information only
    source: str  # the handbook's sentence that asks for the upload (verbatim)
    rejected_reason: str | None = None  # registry reason the claim carries when the filing is rejected

    def __post_init__(self) -> None:
        rt = _review_type(self.review_type)
        if rt.purpose != "filing":
            raise ValueError(f"{self.review_type}: not a filing's materials table")
        if self.settles not in SETTLES:
            raise ValueError(f"{self.review_type}: settles is one of {SETTLES}")
        if self.rejected_reason is not None and self.rejected_reason not in REASON_CODES:
            raise ValueError(f"{self.review_type}: unknown reason {self.rejected_reason!r}")
        if not self.when:
            raise ValueError(f"{self.review_type}: a rule needs a condition")

    @property
    def indicator(self) -> str:
        return _review_type(self.review_type).indicator

    def applies(self, indicator: str, filed: Mapping | None) -> bool:
        filed = filed or {}
        return indicator == self.indicator and any(filed.get(key) == value for key, value in self.when)


FILINGS: tuple[FilingRule, ...] = (
    # 第三篇 二 2.(2) 填报配偶名下自有住所, and (4) 填报配偶租赁住所 ("具体填报方法参考“填报配偶名下自有住所”").
    FilingRule(
        review_type="spouse_marriage_evidence",
        when=(("owner", "spouse"), ("tenant", "spouse")),
        settles="spouse",
        source="每条配偶信息需上传对应婚姻凭证照片",
        rejected_reason="housing_spouse_invalid",
    ),
    # 第三篇 三 2.(2) 填报留学教育信息.
    FilingRule(
        review_type="edu_overseas_certificate",
        when=(("kind", "overseas"),),
        settles="claim",
        source="点击“新增教育背景”，教育类型选择“留学教育”，根据实际情况填写并上传学历学位认证证书。",
    ),
)

_BY_TYPE = {f.review_type: f for f in FILINGS}

# Decision reasons of a 复查 that make no sense for a filing: no registry result is contested.
REASONS_NOT_FOR_FILINGS = frozenset({"registry_result_confirmed"})


def filing_rule(review_type: str | None) -> FilingRule | None:
    """The filing rule of a materials table, None for a 复查's table."""
    return _BY_TYPE.get(review_type or "")


def filings_for(indicator: str, filed: Mapping | None) -> tuple[FilingRule, ...]:
    """The filings a claim of this indicator with these identifiers needs, in table order."""
    return tuple(f for f in FILINGS if f.applies(indicator, filed))


# Old overseas certificates ---------------------------------------------------------------

ARCHIVE_QUOTE = ("2006年8月1日之前出具的国外学历学位认证书、2008年8月1日之前出具的港澳台地区学历学位认证书"
                 "及2013年1月1日以前出具的中外合作办学学历学位认证书，因需要核对历史档案，所需时间较长，"
                 "请尽早申报并耐心等待。")

# origin (filed["origin"]) -> (the handbook's words, first issue date that needs no archive check)
CERTIFICATE_ORIGINS: dict[str, tuple[str, date]] = {
    "foreign": ("国外学历学位认证书", date(2006, 8, 1)),
    "hmt": ("港澳台地区学历学位认证书", date(2008, 8, 1)),
    "sino_foreign": ("中外合作办学学历学位认证书", date(2013, 1, 1)),
}
DEFAULT_ORIGIN = "foreign"

# Ours, not the handbook's (it says only "所需时间较长"): twice the two weeks of every review.
ARCHIVE_WORKING_DAYS = 20

# 旧版认证书编号样式为：教留服认美[2010]00001号 (the year in brackets); the new style, 120190000001,
# dates from after every cut-off above.
_OLD_NUMBER = re.compile(r"^教留服认.{1,4}\[(\d{4})\]\d+号$")


def _issued(value) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def needs_archive(filed: Mapping | None) -> bool:
    """Whether an overseas certificate was issued before its origin's cut-off (ARCHIVE_QUOTE).

    The issue date (``issued_on``, YYYY-MM-DD) decides when the client sends it; otherwise
    the year of an old-style number: before the cut-off's year, old; in that very year the
    month is unknown, and the case is given the longer time.
    """
    filed = filed or {}
    _label, cutoff = CERTIFICATE_ORIGINS.get(filed.get("origin") or DEFAULT_ORIGIN, CERTIFICATE_ORIGINS[DEFAULT_ORIGIN])
    issued = _issued(filed.get("issued_on"))
    if issued is not None:
        return issued < cutoff
    match = _OLD_NUMBER.match(str(filed.get("certificate_no") or "").strip())
    if match is None:
        return False
    year = int(match.group(1))
    return year < cutoff.year or (year == cutoff.year and (cutoff.month, cutoff.day) != (1, 1))


def due_working_days_for(rule: FilingRule, queue: str, filed: Mapping | None) -> int:
    """Working days a filing case has: its queue's, or ARCHIVE_WORKING_DAYS for an old certificate."""
    if rule.review_type == "edu_overseas_certificate" and needs_archive(filed):
        return max(ARCHIVE_WORKING_DAYS, due_working_days(queue))
    return due_working_days(queue)

