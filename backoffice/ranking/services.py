"""Ranking a year (DESIGN.md flow 7; handbook 第五篇).

Rules
-----
* Applications of the year that have a total are ranked by total, descending; equal
  totals share a rank and the next rank skips (1, 2, 2, 4). An application without a
  total (never scored) gets no rank and is not admitted.
* The cut-off is the total at the quota's position (``Year.quota``, 6 000 by default);
  everyone at or above it is admitted, so ties at the cut-off are all in (2020: quota
  6 000, cut-off 97.13, 6 032 admitted). With fewer scored applications than the quota,
  everyone scored is admitted and the cut-off is the lowest total.
* A revoked qualification (``Application.revoked_at``: fraud proven after a tip during
  the announcement, 第五篇 一 2 / 二 3) is not refilled — 第五篇 二 注意 2
  "经核查取消积分落户资格…落户资格不递补". So a revoked applicant keeps the place they
  held: they still count toward the quota's position, at the total they had when the
  qualification was revoked (their latest snapshot before ``revoked_at``; their current
  total if there is none). Reranking after the revocation, or rescoring the revoked
  applicant once the fraudulent facts are struck, therefore moves nobody up: the cut-off
  computed before the revocation stays. The revoked applicant keeps their rank and is
  not admitted.

* Only applications submitted (已提交) by the end of the application phase are ranked —
  第三篇 十、2 "如果申报阶段结束时，您未完成提交，将无法获得积分，也将不能计算年度总积分。"
  The others keep their claims and snapshots, and have no total, no rank, no admission.
* "系统将在所有审核结果与复查申请审核结果返回后为您计算年度总积分" (第三篇 十、1): an application
  with a registry result still pending or a 复查 still open is not final. Ranking counts
  them (``RankResult.not_final``) so the city never publishes a list with open cases unknowingly.

Everything is set-based: one query for the cut-off, one INSERT … SELECT with a window
function (ON CONFLICT … DO UPDATE) and a DELETE by id of ranks that lapsed, whatever the
number of applications;
rows whose rank and admission do not change are not written. Ranks live in
``application_ranks``, not on the applications: writing them locks no application row (only
FOR KEY SHARE through the foreign key), so a decision's rescore, which locks its application
FOR NO KEY UPDATE, never waits for a ranking to commit (issue 18 §2).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, delete, exists, func, not_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased

from backoffice.announcement.models import Publication, listed_ids
from backoffice.applications.facts import id_in
from backoffice.applications.models import Application, ApplicationRank, IndicatorClaim, RegistryStatus, ScoreSnapshot
from backoffice.cases.models import CaseKind, CaseStatus, ReviewCase
from backoffice.audit.services import record
from backoffice.extensions import db
from backoffice.reference.models import Year


@dataclass(frozen=True)
class RankResult:
    cutoff: Decimal | None  # None when nothing of the year is scored (after publication: the published one)
    admitted: int
    ranked: int
    year: int = 0
    quota: int = 0
    # Ranked applications still waiting for a registry result or a 复查 decision.
    not_final: int = 0


BEIJING = ZoneInfo("Asia/Shanghai")
# Ids per DELETE of ranks that lapsed (SQLite binds each id as its own parameter).
_DELETE_CHUNK = 5000


def submission_deadline(year_row) -> datetime:
    """The end of the application phase's last day at the windows (Beijing), as an instant."""
    return datetime.combine(year_row.application_end + timedelta(days=1), time(0), tzinfo=BEIJING)


def submitted_in_time(application_alias, year_row):
    """SQL: submitted (已提交) by the end of the application phase."""
    return and_(application_alias.submitted_at.is_not(None),
                application_alias.submitted_at < submission_deadline(year_row))


def not_final_condition(application_alias):
    """SQL: a registry result still pending, or a 复查 or filing (填报凭证审核) not yet decided.
    A claim whose facts a decision set (one an appeal's decision added) waits for no registry result."""
    pending = exists().where(IndicatorClaim.application_id == application_alias.id,
                             IndicatorClaim.registry_status == RegistryStatus.pending,
                             IndicatorClaim.verified_by_decision_id.is_(None))
    open_review = exists().where(ReviewCase.application_id == application_alias.id,
                                 ReviewCase.kind.in_((CaseKind.review, CaseKind.filing)),
                                 ReviewCase.status != CaseStatus.closed)
    return pending | open_review


def not_final_count(year: int) -> int:
    """How many of the year's submitted applications are not final yet (see the docstring)."""
    year_row = db.session.get(Year, year)
    if year_row is None:
        return 0
    a = aliased(Application)
    return db.session.scalar(
        select(func.count()).select_from(a)
        .where(a.year == year, submitted_in_time(a, year_row), not_final_condition(a))
    ) or 0


def _ranking_total(a):
    """The total an application ranks with: its total, or for a revoked qualification
    the total it held when it was revoked (see the module docstring)."""
    held = (
        select(ScoreSnapshot.total)
        .where(ScoreSnapshot.application_id == a.id, ScoreSnapshot.created_at <= a.revoked_at)
        .order_by(ScoreSnapshot.id.desc())
        .limit(1)
        .correlate(a)
        .scalar_subquery()
    )
    return case((a.revoked_at.is_(None), a.total), else_=func.coalesce(held, a.total))


def rank_year(year: int, *, actor_label: str | None = None) -> RankResult:
    """Write ranks and admission for a year's applications; flushes, never commits."""
    db.session.flush()
    year_row = db.session.get(Year, year)
    if year_row is None:
        raise LookupError(f"year {year} does not exist")
    quota = year_row.quota

    a = aliased(Application)
    total = _ranking_total(a)
    scored = and_(a.year == year, a.total.is_not(None), submitted_in_time(a, year_row))
    ranked = db.session.scalar(select(func.count()).select_from(a).where(scored)) or 0
    if ranked == 0:
        cutoff = None
    elif ranked >= quota:
        cutoff = db.session.scalar(select(total).where(scored).order_by(total.desc()).offset(quota - 1).limit(1))
    else:
        cutoff = db.session.scalar(select(func.min(total)).where(scored))

    # Once the year's list is published nobody moves in or out by ranking: a rescore still
    # changes the total and the rank, admission changes only by revocation (第五篇 二 注意 2:
    # “经核查取消积分落户资格，或申请人取得落户资格后自行放弃的，落户资格不递补。”).
    publication = db.session.execute(select(Publication.id, Publication.cutoff).where(Publication.year == year)).first()
    if publication is not None:
        admission = case((and_(a.id.in_(listed_ids(year)), a.revoked_at.is_(None)), True), else_=False)
        cutoff = publication.cutoff
    elif cutoff is not None:
        admission = case((and_(total >= cutoff, a.revoked_at.is_(None)), True), else_=False)
    # Counted before the ranks are written, so the write is the transaction's last slow step.
    not_final = not_final_count(year)
    if ranked:
        positions = (
            select(
                a.id,
                a.year,
                func.rank().over(order_by=total.desc()),
                admission,
            )
            .where(scored)
        )
        insert = (postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert)
        stmt = insert(ApplicationRank).from_select(["application_id", "year", "rank", "admitted"], positions)
        stmt = stmt.on_conflict_do_update(
            index_elements=[ApplicationRank.application_id],
            set_={"rank": stmt.excluded.rank, "admitted": stmt.excluded.admitted},
            where=(ApplicationRank.rank.is_distinct_from(stmt.excluded.rank)
                   | (ApplicationRank.admitted != stmt.excluded.admitted)),
        )
        db.session.execute(stmt)
    # Unscored or unsubmitted applications hold no rank (a total taken away by a data
    # correction, an application withdrawn for changes and never submitted again). Their ids
    # first, then a delete by primary key: a NOT EXISTS anti-join here became a nested loop
    # over both tables when applications' statistics were taken before the year was scored.
    unscored = db.session.scalars(
        select(Application.id).where(Application.year == year,
                                     Application.total.is_(None) | not_(submitted_in_time(Application, year_row)))
    ).all()
    for start in range(0, len(unscored), _DELETE_CHUNK):
        db.session.execute(
            delete(ApplicationRank)
            .where(id_in(ApplicationRank.application_id, unscored[start:start + _DELETE_CHUNK], db.session))
            .execution_options(synchronize_session=False)
        )
    admitted = db.session.scalar(
        select(func.count()).select_from(ApplicationRank)
        .where(ApplicationRank.year == year, ApplicationRank.admitted.is_(True))
    ) or 0
    # The ORM objects in this session still carry the old ranks.
    db.session.expire_all()
    result = RankResult(cutoff=cutoff, admitted=admitted, ranked=ranked, year=year, quota=quota,
                        not_final=not_final)
    record("ranking.computed", "year", year, actor_label=actor_label,
           after={"quota": quota, "cutoff": None if cutoff is None else str(cutoff),
                  "admitted": admitted, "ranked": ranked, "not_final": not_final})
    return result
