"""An application's result as the online system shows it to the applicant (第五篇 一、1:
“申请人及用人单位可登录系统查看个人最终积分及排名”): the total, each indicator's points with the
engine's explanation lines, rank, admission, the published line, qualification or revocation."""
from __future__ import annotations

from sqlalchemy import select

from backoffice.announcement.models import REVOCATION_GROUND_LABELS, Revocation, RevocationStatus
from backoffice.announcement.services import has_open_tip, listed_row, publication_for, row_dict
from backoffice.applications.models import Application, ScoreSnapshot
from backoffice.extensions import db
from verifiers.indicators import INDICATORS


def _points(value) -> float | None:
    return None if value is None else round(float(value), 2)


def _lines_by_indicator(lines: list[str]) -> dict[str, list[str]]:
    """The engine writes each indicator's lines after its label ("年龄: …"); a line that
    starts with no label continues the indicator before it."""
    out: dict[str, list[str]] = {i.code: [] for i in INDICATORS}
    current = None
    for line in lines:
        match = next((i.code for i in INDICATORS if line.startswith(i.label_zh)), None)
        if match is not None:
            current = match
        elif line.startswith("总积分"):
            current = None
            continue
        if current is not None:
            out[current].append(line)
    return out


def status_zh(application: Application, row) -> str:
    if application.revoked_at is not None:
        return "积分落户资格已取消"
    if application.qualified_at is not None:
        return "已取得年度积分落户资格"
    if row is not None:
        return "公示中（有举报正在核查）" if has_open_tip(application.id) else "已列入公示名单"
    if publication_for(application.year) is not None:
        return "未列入公示名单"
    return "积分审核中" if application.total is None else "已计算积分"


def result_out(application: Application) -> dict:
    snapshot = db.session.scalar(select(ScoreSnapshot).where(ScoreSnapshot.application_id == application.id)
                                 .order_by(ScoreSnapshot.id.desc()).limit(1))
    breakdown = (snapshot.breakdown or {}) if snapshot is not None else {}
    figures = breakdown.get("indicators") or {}
    lines = list(breakdown.get("explanation") or [])
    by_indicator = _lines_by_indicator(lines)
    row = listed_row(application)
    publication = publication_for(application.year) if row is not None else None
    revocation = db.session.scalar(select(Revocation).where(Revocation.application_id == application.id,
                                                            Revocation.status == RevocationStatus.confirmed))
    published = None
    if row is not None:
        line = row_dict(row)
        published = {**line, "points": {k: float(v) for k, v in line["points"].items()}, "total": float(line["total"]),
                     "published_at": publication.published_at.isoformat()}
    return {
        "total": _points(application.total),
        "indicators": [{"indicator": i.code, "label_zh": i.label_zh,
                        "points": _points((figures.get(i.code) or {}).get("points")) if figures else None,
                        "explanation": by_indicator[i.code]} for i in INDICATORS],
        "explanation": lines,
        "scored_at": snapshot.created_at.isoformat() if snapshot is not None else None,
        "rank": application.rank,
        "admitted": bool(application.admitted),
        "published": published,
        "changed_since_publication": bool(row is not None and application.total is not None
                                          and application.total != row.total),
        "qualified_at": application.qualified_at.isoformat() if application.qualified_at else None,
        "revoked_at": application.revoked_at.isoformat() if application.revoked_at else None,
        "revocation_ground_zh": REVOCATION_GROUND_LABELS[revocation.ground] if revocation is not None else None,
        "status_zh": status_zh(application, row),
    }
