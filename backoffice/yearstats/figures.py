"""The year statistics, every table aggregated by the database (GROUP BY) in a few queries;
Python only labels the grouped rows. Tables are `turnaround.figures.Table`s, so the page,
the CSV and the XLSX exports share the dashboard's rendering and export code.

Scope: a year, and the whole city or one district (the application's district, which owns
its cases). The cut-off is the city's (one ranking per year) in either scope.

Definitions:

* applications: filed in the year; admitted: `ApplicationRank.admitted` (at or above the
  cut-off in the latest ranking); revoked: `Application.revoked_at` set (经核查取消积分落户资格);
* invalid registry results: indicator claims whose registry status is invalid, by the reason
  the registry gave (the handbook's text, `verifiers/reasons.py`);
* 复查 and 异议申诉: cases of those kinds received for the year; their outcome is the latest
  decision of a closed case; "supported" = upheld or corrected (the contest succeeded);
* tips: tip cases of the year, open or by the outcome of their latest decision;
* settlement: see `settlement_rows` (the settlement module counts there).

How it runs (bench/README.md, "Year statistics"): `build` first collects the statements its
tables need, `fetch` runs them, then Python labels the grouped rows. On PostgreSQL, when the
request's transaction has written nothing, `fetch` runs them side by side on pooled connections
that import this transaction's snapshot (`pg_export_snapshot` / `SET TRANSACTION SNAPSHOT`):
every table reads the same committed state, and the four scans of the year (applications,
employers, invalid results, contests) no longer wait for each other. Otherwise (SQLite, or a
transaction with its own uncommitted writes, which other connections could not see) they run
one after another in the request's session.
"""
from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Integer, and_, case as sql_case, cast, false, func, literal_column, select, text as sql_text
from sqlalchemy.orm import aliased

from backoffice.applications.models import INDICATOR_EN, INDICATOR_LABELS, Application, ApplicationRank, Indicator, \
    IndicatorClaim, RegistryStatus
from backoffice.cases.models import CASE_KIND_LABELS, CASE_STATUS_LABELS, CaseKind, CaseStatus, Decision, Outcome, \
    OUTCOME_LABELS, ReviewCase
from backoffice.extensions import db
from backoffice.i18n import _, is_english
from backoffice.reference.models import District, Employer
from backoffice.turnaround.figures import Column, Table
from backoffice.yearstats.data import PUBLISHED_CUTOFFS
from verifiers.indicators import UnknownCode
from verifiers.reasons import OUTCOMES
from verifiers.reasons import reason as registry_reason

SCORE_BIN = 5  # points per bar of the score distribution
EMPLOYERS_SHOWN = 20  # employers on the page; the export has them all
TABLE_KEYS = ("districts", "employers", "scores", "cutoffs", "invalid", "contests_indicator",
              "contests_district", "tips", "revocations", "settlement")


@dataclass(frozen=True)
class Scope:
    year: int
    district_id: int | None = None

    def applications(self):
        out = [Application.year == self.year]
        if self.district_id is not None:
            out.append(Application.district_id == self.district_id)
        return and_(*out)

    def cases(self, *clauses):
        out = [ReviewCase.year == self.year, *clauses]
        if self.district_id is not None:
            out.append(ReviewCase.district_id == self.district_id)
        return and_(*out)


SNAPSHOT_ID = re.compile(r"^[0-9A-F]+-[0-9A-F]+-[0-9]+$")
CONCURRENT_STATEMENTS = 4  # pooled connections a page may use besides the request's own


def fetch(statements: dict) -> dict[str, list[tuple]]:
    """Core rows (plain tuples: cheaper than ORM rows on a big GROUP BY) of each statement, by key."""
    connection = db.session.connection()

    def here():
        return {key: connection.execute(stmt).all() for key, stmt in statements.items()}

    # A snapshot cannot be exported from a SAVEPOINT (the tests' transactions), and this
    # transaction's uncommitted writes would be invisible to other connections: read them here.
    if connection.dialect.name != "postgresql" or len(statements) < 2 or connection.in_nested_transaction():
        return here()
    if not connection.execute(sql_text("SELECT pg_current_xact_id_if_assigned() IS NULL")).scalar():
        return here()
    snapshot = connection.execute(sql_text("SELECT pg_export_snapshot()")).scalar()
    if not SNAPSHOT_ID.match(snapshot or ""):
        return here()
    engine = connection.engine

    def run(stmt):
        with engine.connect() as other:
            other = other.execution_options(isolation_level="REPEATABLE READ")
            # The first statement of its transaction (one round trip for both).
            other.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{snapshot}'; SET TRANSACTION READ ONLY")
            rows = other.execute(stmt).all()
            other.rollback()
            return rows

    # The exporting transaction (the request's) stays open until every import is done.
    with ThreadPoolExecutor(max_workers=min(CONCURRENT_STATEMENTS, len(statements))) as pool:
        futures = {key: pool.submit(run, stmt) for key, stmt in statements.items()}
        return {key: future.result() for key, future in futures.items()}


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _outcome(outcome) -> str:
    """An outcome's label, reference data in both languages (verifiers.reasons.OUTCOMES)."""
    o = next(o for o in OUTCOMES if o.code == outcome.value)
    return o.label_en if is_english() else o.label_zh


def _indicator_label(code) -> str:
    try:
        return (INDICATOR_EN if is_english() else INDICATOR_LABELS)[Indicator(code)]
    except ValueError:
        return str(code or "—")


def _district_names_stmt():
    return select(District.id, District.name)


def _admitted():
    """1 for an admitted application, 0 otherwise; with applications outer-joined to their ranks."""
    return sql_case((ApplicationRank.admitted.is_(True), 1), else_=0)


def _with_ranks(stmt):
    """Admission lives in application_ranks; an application without a rank is not admitted."""
    return stmt.outerjoin(ApplicationRank, ApplicationRank.application_id == Application.id)


# Applications and admissions ---------------------------------------------------------------
def _score_bin(column):
    """The lower bound of the score's bin, computed by the database (totals are never negative;
    a missing total has no bin)."""
    if db.session.get_bind().dialect.name == "sqlite":
        return cast(column / SCORE_BIN, Integer) * SCORE_BIN  # SQLite's CAST truncates
    # floor(total)::integer / 5 * 5 in integers (floor(floor(t) / 5) = floor(t / 5) for t >= 0),
    # written with literal constants so that it is the very expression of the extended
    # statistics `st_applications_yearstats` (migrations c3d9e2f4a871, b4d1e7a9c352): with them PostgreSQL
    # knows the GROUP BY yields a few hundred groups, not 96 000, and aggregates in parallel.
    five = literal_column(str(SCORE_BIN), Integer)
    return (cast(func.floor(column), Integer) // five) * five


@dataclass
class ApplicationCounts:
    """The scope's applications counted once (one GROUP BY by district, score bin, admitted,
    revoked and qualified): the district, revocation and score tables and the qualified count."""

    per_district: dict[int, list[int]]  # district -> [applications, admitted, revoked, qualified]
    per_bin: dict[int, list[int]]  # bin's lower bound -> [applications, admitted]
    lowest_admitted: Decimal | None  # the scope's lowest admitted total


def application_counts_stmt(scope: Scope):
    bin_ = _score_bin(Application.total)
    revoked = Application.revoked_at.is_not(None)
    qualified = and_(Application.qualified_at.is_not(None), Application.revoked_at.is_(None))
    admitted = func.coalesce(ApplicationRank.admitted, false())
    return (_with_ranks(select(Application.district_id, bin_, admitted, revoked, qualified, func.count(),
                               func.min(Application.total)).select_from(Application))
            .where(scope.applications())
            .group_by(Application.district_id, bin_, admitted, revoked, qualified))


def application_counts(rows) -> ApplicationCounts:
    per_district: dict[int, list[int]] = {}
    per_bin: dict[int, list[int]] = {}
    lowest = None
    for district_id, low, admitted, is_revoked, is_qualified, n, minimum in rows:
        d = per_district.setdefault(district_id, [0, 0, 0, 0])
        d[0] += n
        d[1] += n if admitted else 0
        d[2] += n if is_revoked else 0
        d[3] += n if is_qualified else 0
        if low is not None:
            b = per_bin.setdefault(int(low), [0, 0])
            b[0] += n
            b[1] += n if admitted else 0
        if admitted and minimum is not None and (lowest is None or minimum < lowest):
            lowest = minimum
    return ApplicationCounts(per_district, per_bin, Decimal(lowest) if lowest is not None else None)


def district_table(scope: Scope, names: dict[int, str], counts: ApplicationCounts) -> tuple[Table, Table]:
    """Applications, admissions and revocations per district."""
    found = counts.per_district
    order = sorted(found, key=lambda d: (-found[d][0], names.get(d, "")))
    rows = [[names.get(d, str(d)), found[d][0], found[d][1], _share(found[d][1], found[d][0])] for d in order]
    total_n, total_a = sum(r[1] for r in rows), sum(r[2] for r in rows)
    body = list(rows)
    rows.append([_("合计"), total_n, total_a, _share(total_a, total_n)])
    districts = Table(
        key="districts",
        title=_("各区申报与落户人数"),
        columns=[Column("district", _("区"), "text"),
                 Column("applications", _("申报人数")),
                 Column("admitted", _("取得资格人数")),
                 Column("rate", _("落户比例"), "pct")],
        rows=rows,
        chart={"type": "bar", "labels": [r[0] for r in body], "datasets": [
            {"label": _("申报人数"), "data": [r[1] for r in body], "color": "#6c757d"},
            {"label": _("取得资格人数"), "data": [r[2] for r in body], "color": "#28a745"}]},
        note=_("取得资格人数：最近一次排名中达到落户分值的申报（含其后被取消资格的）。"),
    )
    revoked = [[names.get(d, str(d)), found[d][2]] for d in order if found[d][2]]
    revoked_total = sum(r[1] for r in revoked)
    revocations = Table(
        key="revocations",
        title=_("取消积分落户资格"),
        columns=[Column("district", _("区"), "text"),
                 Column("revoked", _("取消资格人数"))],
        rows=revoked + [[_("合计"), revoked_total]],
        chart={"type": "bar", "labels": [r[0] for r in revoked], "datasets": [
            {"label": _("取消资格人数"), "data": [r[1] for r in revoked], "color": "#dc3545"}]},
        note=_("经核查取消积分落户资格的，名额不递补。"),
    )
    return districts, revocations


def employer_stmt(scope: Scope, *, limit: int | None = EMPLOYERS_SHOWN):
    """Applications and admissions per employer, most applications first; one aggregate (the
    number of employers comes with the rows, by a window function)."""
    grouped = (_with_ranks(select(Application.employer_id, func.count().label("n"), func.sum(_admitted()).label("a"))
                           .select_from(Application))
               .where(scope.applications()).group_by(Application.employer_id).subquery())
    stmt = (select(Employer.name, Employer.district_id, grouped.c.n, grouped.c.a, func.count().over())
            .join(grouped, grouped.c.employer_id == Employer.id)
            .order_by(grouped.c.n.desc(), grouped.c.a.desc(), Employer.name))
    return stmt.limit(limit) if limit is not None else stmt


def employer_table(found, names: dict[int, str], *, limit: int | None = EMPLOYERS_SHOWN) -> Table:
    rows = [[name, names.get(d, str(d)), n, int(a or 0), _share(int(a or 0), n)] for name, d, n, a, _all in found]
    total = found[0][4] if found else 0
    return Table(
        key="employers",
        title=_("各用人单位申报与落户人数"),
        columns=[Column("employer", _("用人单位"), "text"),
                 Column("district", _("业务办理区"), "text"),
                 Column("applications", _("申报人数")),
                 Column("admitted", _("取得资格人数")),
                 Column("rate", _("落户比例"), "pct")],
        rows=rows,
        chart={"type": "bar", "labels": [r[0] for r in rows[:10]], "datasets": [
            {"label": _("申报人数"), "data": [r[2] for r in rows[:10]], "color": "#6c757d"},
            {"label": _("取得资格人数"), "data": [r[3] for r in rows[:10]], "color": "#28a745"}]},
        total_rows=total if limit is not None else None,
    )


# Scores and cut-offs ----------------------------------------------------------------------
def city_cutoff_stmt(year: int):
    """The year's cut-off: the lowest total admitted by the latest ranking (the city's)."""
    return (select(func.min(Application.total))
            .join(ApplicationRank, ApplicationRank.application_id == Application.id)
            .where(ApplicationRank.year == year, ApplicationRank.admitted.is_(True)))


def score_tables(scope: Scope, counts: ApplicationCounts, city_lowest=None) -> tuple[Table, Table]:
    # The cut-off is the city's: in the city's scope it is the lowest admitted total counted above,
    # in a district's the city's lowest admitted total (city_cutoff_stmt).
    lowest = counts.lowest_admitted if scope.district_id is None else city_lowest
    cutoff = Decimal(lowest).quantize(Decimal("0.01")) if lowest is not None else None
    rows = [[f"{low}–{low + SCORE_BIN}", n, a] for low, (n, a) in sorted(counts.per_bin.items())]
    scores = Table(
        key="scores",
        title=_("积分分布"),
        columns=[Column("range", _("积分区间（含下限）"), "text"),
                 Column("applications", _("申报人数")),
                 Column("admitted", _("取得资格人数"))],
        rows=rows,
        chart={"type": "bar", "labels": [r[0] for r in rows], "datasets": [
            {"label": _("申报人数"), "data": [r[1] for r in rows], "color": "#6c757d"},
            {"label": _("取得资格人数"), "data": [r[2] for r in rows], "color": "#28a745"}]},
        note=(_("%(year)s年度落户分值：%(cutoff)s分（全市）。", year=scope.year, cutoff=cutoff)
              if cutoff is not None else _("本年度尚未排名。")),
    )
    years = sorted(set(PUBLISHED_CUTOFFS) | ({scope.year} if cutoff is not None else set()))
    cut_rows = []
    for y in years:
        if y == scope.year and cutoff is not None:
            cut_rows.append([str(y), cutoff, _("本系统排名")])
        elif y in PUBLISHED_CUTOFFS:
            cut_rows.append([str(y), PUBLISHED_CUTOFFS[y], _("已公布")])
    cutoffs = Table(
        key="cutoffs",
        title=_("历年落户分值"),
        columns=[Column("year", _("年度"), "text"),
                 Column("cutoff", _("落户分值"), "score"),
                 Column("source", _("来源"), "text")],
        rows=cut_rows,
        chart={"type": "line", "labels": [r[0] for r in cut_rows], "datasets": [
            {"label": _("落户分值"), "data": [float(r[1]) for r in cut_rows], "color": "#007bff"}]},
    )
    return scores, cutoffs


# Registry results -------------------------------------------------------------------------
def invalid_stmt(scope: Scope):
    # The claim's own year (ix_indicator_claims_invalid starts with it); the applications only
    # for a district's scope.
    stmt = (select(IndicatorClaim.indicator, IndicatorClaim.registry_reason, func.count())
            .where(IndicatorClaim.year == scope.year, IndicatorClaim.registry_status == RegistryStatus.invalid))
    if scope.district_id is not None:
        stmt = (stmt.join(Application, Application.id == IndicatorClaim.application_id)
                .where(scope.applications()))
    return stmt.group_by(IndicatorClaim.indicator, IndicatorClaim.registry_reason)


def invalid_table(scope: Scope, found) -> Table:
    order = {i: n for n, i in enumerate(Indicator)}
    rows = []
    for indicator, reason_code, n in found:
        indicator = Indicator(indicator)
        try:
            found = registry_reason(reason_code)
            # the registry's words as applicants read them; its English label (reference data) in English
            words = found.label_en if is_english() else found.text(year=scope.year, tax_year=scope.year - 1)
        except (UnknownCode, KeyError, ValueError):
            words = reason_code or _("（未注明原因）")
        rows.append([order[indicator], _indicator_label(indicator), words, n])
    rows.sort(key=lambda r: (r[0], -r[3], r[2]))
    rows = [r[1:] for r in rows]
    per_indicator: dict[str, int] = {}
    for label, _words, n in rows:
        per_indicator[label] = per_indicator.get(label, 0) + n
    return Table(
        key="invalid",
        title=_("相关部门核查无效结果（按原因和指标）"),
        columns=[Column("indicator", _("指标"), "text"),
                 Column("reason", _("无效原因"), "text"),
                 Column("count", _("条数"))],
        rows=rows + [[_("合计"), "", sum(per_indicator.values())]],
        chart={"type": "bar", "labels": list(per_indicator), "datasets": [
            {"label": _("无效结果"), "data": list(per_indicator.values()), "color": "#dc3545"}]},
    )


# 复查 and 异议申诉 ----------------------------------------------------------------------------
CONTEST_KINDS = (CaseKind.review, CaseKind.appeal)
SUPPORTED = (Outcome.upheld.value, Outcome.corrected.value)


def _latest_decisions():
    """Each case's latest decision id (a later decision supersedes)."""
    return (select(Decision.case_id, func.max(Decision.id).label("decision_id"))
            .group_by(Decision.case_id).subquery())


def case_indicator(kind: str, reason_code: str | None) -> str | None:
    """The indicator a contest is about, from the case itself: an appeal's reason code is its
    indicator; a 复查's is the registry reason contested, whose indicator the rules name."""
    if not reason_code:
        return None
    if kind == CaseKind.appeal.value:
        return reason_code
    try:
        return registry_reason(reason_code).indicator
    except (UnknownCode, KeyError):
        return None


def contest_stmt(scope: Scope):
    """One GROUP BY: (kind, reason code, district, status, outcome of a closed case's latest
    decision, n), without reading the claims (the indicator follows from the reason code). Only
    closed cases are joined to their decisions (the latest: none of the case's is newer)."""
    newer = aliased(Decision)
    latest = and_(Decision.case_id == ReviewCase.id, ReviewCase.status == CaseStatus.closed,
                  ~select(newer.id).where(newer.case_id == Decision.case_id, newer.id > Decision.id).exists())
    return (select(ReviewCase.kind, ReviewCase.reason_code, ReviewCase.district_id, ReviewCase.status,
                   Decision.outcome, func.count())
            .select_from(ReviewCase)
            .outerjoin(Decision, latest)
            .where(scope.cases(ReviewCase.kind.in_(CONTEST_KINDS)))
            .group_by(ReviewCase.kind, ReviewCase.reason_code, ReviewCase.district_id, ReviewCase.status,
                      Decision.outcome))


def contest_counts(rows):
    return [(kind, case_indicator(kind, code), district_id, status, outcome, n)
            for kind, code, district_id, status, outcome, n in rows]


def _contest_table(key: str, title: str, first: Column, grouped: dict, labels: dict) -> Table:
    rows = []
    for (kind, group), c in sorted(grouped.items(), key=lambda kv: (kv[0][0], labels.get(kv[0], ""))):
        closed = c["upheld"] + c["corrected"] + c["rejected"]
        rows.append([_(CASE_KIND_LABELS[CaseKind(kind)]), labels[(kind, group)], c["received"], c["open"],
                     c["returned"], c["upheld"], c["corrected"], c["rejected"],
                     _share(c["upheld"] + c["corrected"], closed)])
    chart_rows = [r for r in rows]
    return Table(
        key=key, title=title,
        columns=[Column("kind", _("类型"), "text"), first,
                 Column("received", _("受理")),
                 Column("open", _("在办")),
                 Column("awaiting", _("其中待补正")),
                 Column("upheld", _outcome(Outcome.upheld)),
                 Column("corrected", _outcome(Outcome.corrected)),
                 Column("rejected", _outcome(Outcome.rejected)),
                 Column("supported", _("支持率（办结中）"), "pct")],
        rows=rows,
        chart={"type": "bar", "percent": True, "labels": [f"{r[0]}·{r[1]}" for r in chart_rows], "datasets": [
            {"label": _("支持率"), "data": [round(r[8] * 100, 1) if r[8] is not None else None
                                                            for r in chart_rows], "color": "#17a2b8"}]},
        note=_("支持率：办结案件中予以支持或核实后更正的比例；在办含待补正材料的案件。"),
    )


def contest_tables(names: dict[int, str], rows) -> tuple[Table, Table]:
    by_indicator: dict = {}
    by_district: dict = {}
    for kind, indicator, district_id, status, outcome, n in contest_counts(rows):
        closed = CaseStatus(status) == CaseStatus.closed
        for grouped, key in ((by_indicator, (kind, indicator)), (by_district, (kind, district_id))):
            c = grouped.setdefault(key, {"received": 0, "open": 0, "returned": 0, "upheld": 0, "corrected": 0,
                                         "rejected": 0})
            c["received"] += n
            if closed and outcome in ("upheld", "corrected", "rejected"):
                c[outcome] += n
            else:
                c["open"] += n
                # Waiting for the applicant's materials now (a returned case resubmitted is in review again).
                if CaseStatus(status) == CaseStatus.awaiting_materials:
                    c["returned"] += n
    indicator_labels = {k: _indicator_label(k[1]) for k in by_indicator}
    district_labels = {k: names.get(k[1], str(k[1])) for k in by_district}
    return (
        _contest_table("contests_indicator", _("复查与异议申诉（按指标）"),
                       Column("indicator", _("指标"), "text"), by_indicator, indicator_labels),
        _contest_table("contests_district", _("复查与异议申诉（按区）"),
                       Column("district", _("区"), "text"), by_district, district_labels),
    )


# Tips ---------------------------------------------------------------------------------------
def tip_stmt(scope: Scope):
    latest = _latest_decisions()
    return (select(ReviewCase.status, Decision.outcome, func.count())
            .select_from(ReviewCase)
            .outerjoin(latest, latest.c.case_id == ReviewCase.id)
            .outerjoin(Decision, Decision.id == latest.c.decision_id)
            .where(scope.cases(ReviewCase.kind == CaseKind.tip))
            .group_by(ReviewCase.status, Decision.outcome))


def tip_table(found) -> Table:
    counts: dict[str, int] = {}
    for status, outcome, n in found:
        if CaseStatus(status) == CaseStatus.closed and outcome:
            label = _("已办结：") + _outcome(Outcome(outcome))
        else:
            label = _("在办：") + _(CASE_STATUS_LABELS[CaseStatus(status)])
        counts[label] = counts.get(label, 0) + n
    rows = sorted(([k, v] for k, v in counts.items()), key=lambda r: r[0])
    return Table(
        key="tips",
        title=_("举报及核查结果"),
        columns=[Column("state", _("状态或结果"), "text"),
                 Column("tips", _("举报件数"))],
        rows=rows + [[_("合计"), sum(counts.values())]],
        chart={"type": "bar", "labels": [r[0] for r in rows], "datasets": [
            {"label": _("举报件数"), "data": [r[1] for r in rows], "color": "#fd7e14"}]},
    )


# Settlement -----------------------------------------------------------------------------------
def settlement_stmt(scope: Scope):
    return (select(ReviewCase.status, func.count())
            .where(scope.cases(ReviewCase.queue == "settlement")).group_by(ReviewCase.status))


def settlement_rows(counts: ApplicationCounts, by_status) -> list[list]:
    """Settlement progress and lapses: [label, count] rows. The settlement module (落户办理) is
    built separately; this counts what exists today — applications that obtained the
    qualification, and settlement-queue cases by status (settlement_stmt). Lapses (2 years after
    the list) and settlements completed belong here once that module records them: adjust this
    function and its statement."""
    qualified = sum(d[3] for d in counts.per_district.values())
    rows = [[_("取得积分落户资格"), qualified]]
    found = {CaseStatus(s): n for s, n in by_status}
    for status in CaseStatus:
        rows.append([_("落户材料审核：") + _(CASE_STATUS_LABELS[status]), found.get(status, 0)])
    return rows


def settlement_table(counts: ApplicationCounts, by_status) -> Table:
    rows = settlement_rows(counts, by_status)
    return Table(
        key="settlement",
        title=_("落户办理进度"),
        columns=[Column("state", _("事项"), "text"), Column("count", _("人数/件数"))],
        rows=rows,
        chart={"type": "bar", "labels": [r[0] for r in rows], "datasets": [
            {"label": _("人数/件数"), "data": [r[1] for r in rows], "color": "#20c997"}]},
    )


# All -----------------------------------------------------------------------------------------
def build(scope: Scope, only: str | None = None, *, full: bool = False) -> dict[str, Table]:
    """The tables of the page (or just `only`, for an export); `full`: the employers' table whole.
    The statements first (the longest first: they start first when run side by side), then the rows."""
    want = (lambda *keys: only is None or only in keys)
    employers_limit = None if full else EMPLOYERS_SHOWN
    statements = {}
    if want("districts", "revocations", "scores", "cutoffs", "settlement"):
        statements["counts"] = application_counts_stmt(scope)
    if want("contests_indicator", "contests_district"):
        statements["contests"] = contest_stmt(scope)
    if want("invalid"):
        statements["invalid"] = invalid_stmt(scope)
    if want("employers"):
        statements["employers"] = employer_stmt(scope, limit=employers_limit)
    if want("tips"):
        statements["tips"] = tip_stmt(scope)
    if want("settlement"):
        statements["settlement"] = settlement_stmt(scope)
    if want("scores", "cutoffs") and scope.district_id is not None:
        statements["cutoff"] = city_cutoff_stmt(scope.year)
    if want("districts", "revocations", "employers", "contests_indicator", "contests_district"):
        statements["names"] = _district_names_stmt()
    rows = fetch(statements)

    names = dict(rows.get("names", ()))
    counts = application_counts(rows["counts"]) if "counts" in rows else None
    tables: dict[str, Table] = {}
    if want("districts", "revocations"):
        tables["districts"], tables["revocations"] = district_table(scope, names, counts)
    if want("employers"):
        tables["employers"] = employer_table(rows["employers"], names, limit=employers_limit)
    if want("scores", "cutoffs"):
        city_lowest = rows["cutoff"][0][0] if "cutoff" in rows else None
        tables["scores"], tables["cutoffs"] = score_tables(scope, counts, city_lowest)
    if want("invalid"):
        tables["invalid"] = invalid_table(scope, rows["invalid"])
    if want("contests_indicator", "contests_district"):
        tables["contests_indicator"], tables["contests_district"] = contest_tables(names, rows["contests"])
    if want("tips"):
        tables["tips"] = tip_table(rows["tips"])
    if want("settlement"):
        tables["settlement"] = settlement_table(counts, rows["settlement"])
    return tables
