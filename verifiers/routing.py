"""Which queue a case lands in: routing from (indicator, kind) as data.

The district windows split their work by indicator type (DESIGN.md, Queues):

* a 复查 (``review``) goes to the queue of its indicator; only the indicators
  whose handbook chapter has a "指标复查" part can be reviewed (housing,
  education, innovation, tax, honours); the others (employment, work/residence
  district, age, law-abiding record) are read from the registries and have no
  复查, so a review of them is an error;
* evidence uploaded with a claim that the window checks (``filing``: the spouse's marriage
  evidence, the overseas certificate; verifiers/filings.py) goes to the queue of its
  indicator, as a 复查 of it would;
* an 异议申诉 (``appeal``) of any of the nine indicators (第四篇) goes to appeals;
* settlement materials of admitted applicants (第五篇 二) go to settlement;
* a 举报 (``tip``) received during the announcement goes to tips, which only
  city-level staff (市人社局) work;
* an objection to an eligibility refusal (资格异议, 第一篇/第二篇 二 2: "对提示原因有异议的，可向所在区
  积分落户服务窗口提出") and an employer's licence upload (单位注册, 第二篇 一 2) go to the
  district's eligibility queue; neither names an indicator.

Pure data: no Flask, SQLAlchemy or RQ.
"""
from __future__ import annotations

from dataclasses import dataclass

from verifiers.indicators import INDICATORS, INDICATOR_CODES, UnknownCode, indicator

__all__ = [
    "INDICATORS",
    "KINDS",
    "QUEUES",
    "Queue",
    "REVIEW_QUEUES",
    "queue",
    "queue_for",
    "routes",
]


@dataclass(frozen=True)
class Queue:
    code: str
    label_zh: str
    label_en: str
    city_only: bool = False  # worked by city-level staff only, never by a district


QUEUES: tuple[Queue, ...] = (
    Queue("housing", "住所", "Housing"),
    Queue("education", "教育背景", "Education"),
    Queue("awards", "创新创业与荣誉表彰", "Innovation and honours"),
    Queue("tax", "纳税", "Tax"),
    Queue("appeals", "异议申诉", "Appeals"),
    Queue("settlement", "落户材料", "Settlement materials"),
    Queue("tips", "举报", "Tips (reports)", city_only=True),
    Queue("eligibility", "资格异议与单位注册", "Eligibility objections and employer registration"),
)
QUEUE_CODES: tuple[str, ...] = tuple(q.code for q in QUEUES)

KINDS: dict[str, str] = {
    "review": "复查",
    "filing": "填报凭证审核",
    "appeal": "异议申诉",
    "settlement": "落户办理",
    "tip": "举报",
    "eligibility_objection": "资格异议",
    "employer_registration": "单位注册",
}

# 复查: indicator -> queue. An indicator missing here has no 复查 in the handbook.
REVIEW_QUEUES: dict[str, str] = {
    "housing": "housing",
    "education": "education",
    "innovation": "awards",
    "honors": "awards",
    "tax": "tax",
}

# Kinds that do not depend on the indicator: every case of the kind goes here.
_KIND_QUEUES: dict[str, str] = {
    "appeal": "appeals",
    "settlement": "settlement",
    "tip": "tips",
    "eligibility_objection": "eligibility",
    "employer_registration": "eligibility",
}

# An appeal is always of one indicator (第四篇: 选择要申诉的指标类型); settlement
# materials and tips concern the applicant and may name no indicator.
_INDICATOR_REQUIRED = {"review", "filing", "appeal"}
# Kinds worked in the indicator's review queue.
_BY_INDICATOR = ("review", "filing")

_QUEUE_BY_CODE = {q.code: q for q in QUEUES}
assert set(REVIEW_QUEUES) <= set(INDICATOR_CODES)
assert set(REVIEW_QUEUES.values()) | set(_KIND_QUEUES.values()) == set(QUEUE_CODES)
assert set(_KIND_QUEUES) | set(_BY_INDICATOR) == set(KINDS)


def queue(code: str) -> Queue:
    try:
        return _QUEUE_BY_CODE[code]
    except KeyError:
        raise UnknownCode(f"unknown queue {code!r}") from None


def queue_for(indicator_code: str | None, kind: str) -> str:
    """The code of the queue a case of this kind about this indicator goes to.

    Raises ValueError for an unknown kind or indicator, for a review or appeal
    without an indicator, and for a review of an indicator the handbook gives
    no 复查 (naming it).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown case kind {kind!r}; expected one of {', '.join(KINDS)}")
    if indicator_code is None:
        if kind in _INDICATOR_REQUIRED:
            raise ValueError(f"a {kind!r} case ({KINDS[kind]}) must name its indicator")
    else:
        ind = indicator(indicator_code)  # ValueError for an unknown code
        if kind in _BY_INDICATOR and indicator_code not in REVIEW_QUEUES:
            raise ValueError(
                f"indicator {ind.code!r} ({ind.label_zh}) has no review (复查) queue: "
                f"the handbook gives no 复查 for it; contest its result by appeal (异议申诉) instead"
            )
    if kind in _BY_INDICATOR:
        return REVIEW_QUEUES[indicator_code]
    return _KIND_QUEUES[kind]


def routes() -> tuple[tuple[str | None, str, str], ...]:
    """Every allowed (indicator, kind, queue), for display and for checking the table."""
    out: list[tuple[str | None, str, str]] = []
    for kind in KINDS:
        candidates: list[str | None] = list(INDICATOR_CODES)
        if kind not in _INDICATOR_REQUIRED:
            candidates.append(None)
        for code in candidates:
            if kind in _BY_INDICATOR and code not in REVIEW_QUEUES:
                continue
            out.append((code, kind, queue_for(code, kind)))
    return tuple(out)
