"""Scoring applications from their verified facts; each new result kept as a snapshot.

``rescore_application`` is what the rescoring job of one application calls;
``rescore_many`` is the bulk form (a year after a rule correction, the demo seed).
Both read the claims with ``facts.load_facts``, so a snapshot's digests and sources
are the same whichever path wrote it (the single path always runs the engine). A snapshot is stored only when the
breakdown (the engine's per-indicator figures) differs from the latest one; an
engine version or explanation wording that changes no figure stores nothing.

Each snapshot keeps ``input_digest``, a hash of what its input was built from (engine
version, year, birth date, each counted claim's id, decision and verified facts as
stored), and ``result_digest``, a hash of its figures. Bulk rescoring skips the engine
for an application whose input digest equals its latest snapshot's (same input, same
result), and skips reading the previous breakdown when the new figures hash the same.
A rule correction therefore needs a new ``ENGINE_VERSION`` (or ``force=True``) to be
rescored. Equal figures write nothing, so after a version bump an application whose
figures did not change is scored again on the next bulk run (correct, only slower).

Services flush; the request or job commits.

Snapshot JSON
-------------
``breakdown`` = the engine's score result v1 (total, indicators, explanation,
engine_version) plus ``sources``: per indicator, the counted claims as
``[claim_id, decision_id, fingerprint of the verified facts]``, and ``basis``: the
year and the applicant's birth date the input was built with.

``changes`` = the difference against the previous snapshot::

    {"previous_snapshot_id": 12 | null,
     "total": {"before": 80.0 | null, "after": 85.25},
     "indicators": {"housing": {"before": 7.21 | null, "after": 12.0,
                                "claims": [13], "decisions": [57]}}}

``claims`` are the claims of that indicator that came in, went out, or whose verified
facts or superseding decision changed; ``decisions`` the decisions among them. Only
indicators whose figures changed are listed; the first snapshot lists none (it has
nothing to differ from; its ``sources`` say what it counted).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from hashlib import blake2b

import orjson
from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import and_, bindparam, insert, select, text, update

from backoffice.applications.facts import (
    CHUNK,
    INDICATORS,
    ApplicationFacts,
    FactsError,
    explain_input_error,
    gc_paused,
    id_in,
    load_facts,
)
from backoffice.applications.models import Application, ScoreSnapshot
from backoffice.audit.models import AuditEvent
from backoffice.audit.services import record
from backoffice.core.db import utcnow
from backoffice.extensions import db
from backoffice.scoring import ENGINE_VERSION, ScoreInputError, score
from backoffice.feed.services import emit

AUDIT_ACTION = "score.changed"


def _json_text(value) -> str:
    """Plain JSON text for COPY (our own dicts: str keys, numbers, strings, lists); orjson writes
    UTF-8 without escapes, as the stdlib encoder with ensure_ascii=False did, several times faster."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()

_CENT = Decimal("0.01")


@dataclass
class BatchResult:
    changed: int = 0
    unchanged: int = 0
    # application id → the error line (facts that do not follow their shape)
    failed: dict[int, str] = field(default_factory=dict)


@dataclass(slots=True)
class _Previous:
    snapshot_id: int
    total: Decimal
    indicators: dict
    sources: dict


@dataclass(slots=True)
class _Outcome:
    item: ApplicationFacts
    total: Decimal
    breakdown: dict
    changes: dict
    digest: str
    result_digest: str


def _decimal(points: float) -> Decimal:
    return Decimal(repr(points)).quantize(_CENT)


def _current(application_ids: list[int]):
    """Each application's current snapshot id, from its pointer (``Application.current_snapshot_id``,
    written in the transaction that writes the snapshot): a primary-key read of the applications
    of the chunk. The snapshots are then read by their own primary key, so neither statement
    has a plan that depends on what the planner believes about score_snapshots; the former
    ``id IN (max(id) … GROUP BY application_id)`` went from 0.5 s to 43 s a chunk when the
    table's statistics said it was empty (issue 18 §1, bench/rescore_stale.py)."""
    return (
        select(Application.current_snapshot_id)
        .where(id_in(Application.id, application_ids, db.session), Application.current_snapshot_id.is_not(None))
    )


def _snapshot_ids(application_ids: list[int]) -> list[int]:
    return list(db.session.scalars(_current(application_ids)))


def _snapshots_of(application_ids: list[int], snapshot_ids: list[int]):
    """SQL: these snapshots, by id and by their applications' ids. The application ids are
    redundant for the result but not for the plan: with statistics that believe score_snapshots
    empty, PostgreSQL answered `id = ANY(…)` alone with the (application_id, id) index, scanning
    all of it once per id (5.5 s for a chunk of 2 000 at 120 000 snapshots, instead of 30 ms);
    with the leading column given too, every index it may choose is probed, never scanned."""
    return and_(id_in(ScoreSnapshot.id, snapshot_ids, db.session),
                id_in(ScoreSnapshot.application_id, application_ids, db.session))


def _latest_digests(application_ids: list[int]) -> dict[int, tuple[str | None, str | None]]:
    """(input digest, result digest) of each application's latest snapshot: two small
    columns, never the breakdown."""
    if not application_ids:
        return {}
    snapshot_ids = _snapshot_ids(application_ids)
    if not snapshot_ids:
        return {}
    rows = db.session.execute(
        select(ScoreSnapshot.application_id, ScoreSnapshot.input_digest, ScoreSnapshot.result_digest)
        .where(_snapshots_of(application_ids, snapshot_ids))
    )
    return {app_id: (input_digest, result_digest) for app_id, input_digest, result_digest in rows}


def _previous(application_ids: list[int]) -> dict[int, _Previous]:
    """The latest snapshot of each application: its figures and sources only, not the
    explanation lines (a few hundred bytes instead of a few kilobytes per row)."""
    if not application_ids:
        return {}
    snapshot_ids = _snapshot_ids(application_ids)
    if not snapshot_ids:
        return {}
    b = ScoreSnapshot.breakdown
    rows = db.session.execute(
        select(ScoreSnapshot.application_id, ScoreSnapshot.id, ScoreSnapshot.total, b["indicators"], b["sources"])
        .where(_snapshots_of(application_ids, snapshot_ids))
    )
    return {app_id: _Previous(snap_id, total, indicators or {}, sources or {})
            for app_id, snap_id, total, indicators, sources in rows}


def changes_between(previous: _Previous | None, result: dict, sources: dict) -> dict:
    """Per-indicator difference of a new result against the previous snapshot.
    The first snapshot has nothing to differ from (its sources say what it counted)."""
    if previous is None:
        return {"previous_snapshot_id": None, "total": {"before": None, "after": result["total"]}, "indicators": {}}
    before_ind = previous.indicators
    before_src = previous.sources
    indicators = {}
    for name in INDICATORS:
        after = result["indicators"][name]
        before = before_ind.get(name)
        if before == after:
            continue
        old = {s[0]: list(s) for s in before_src.get(name, [])}
        new = {s[0]: list(s) for s in sources.get(name, [])}
        claims = sorted(cid for cid in old.keys() | new.keys() if old.get(cid) != new.get(cid))
        decisions = sorted({new[c][1] for c in claims if c in new and new[c][1] is not None}
                           | {old[c][1] for c in claims if c in old and c not in new and old[c][1] is not None})
        indicators[name] = {
            "before": before.get("points") if before else None,
            "after": after["points"],
            "claims": claims,
            "decisions": decisions,
        }
    return {
        "previous_snapshot_id": previous.snapshot_id,
        "total": {"before": float(previous.total), "after": result["total"]},
        "indicators": indicators,
    }


def result_digest(result: dict) -> str:
    """A digest of a result's figures: equal digests, equal figures (the engine builds its
    indicators in one fixed order; a digest that differs is checked field by field)."""
    return blake2b(repr(result["indicators"]).encode(), digest_size=16).hexdigest()


def _score(item: ApplicationFacts) -> tuple[dict, dict]:
    """(score result, sources) of one application; raises FactsError for facts the engine refuses."""
    data, sources = item.assemble()
    try:
        return score(data), sources
    except ScoreInputError as exc:
        raise explain_input_error(exc, sources) from None


def _outcome(item: ApplicationFacts, result: dict, sources: dict, previous: _Previous | None,
             digest: str, figures_digest: str) -> _Outcome | None:
    """The snapshot to write, or None when the figures equal the previous snapshot's."""
    if previous is not None and previous.indicators == result["indicators"]:
        return None
    breakdown = dict(result)
    breakdown["sources"] = sources
    breakdown["basis"] = item.basis()
    return _Outcome(item, _decimal(result["total"]), breakdown, changes_between(previous, result, sources),
                    digest, figures_digest)


def _audit_after(outcome: _Outcome, snapshot_id, trigger: str, decision_id) -> dict:
    return {
        "total": str(outcome.total),
        "snapshot_id": snapshot_id,
        "trigger": trigger,
        "decision_id": decision_id,
        "indicators": sorted(outcome.changes["indicators"]),
    }


def rescore_application(application_id: int, *, trigger: str, decision_id: int | None = None) -> ScoreSnapshot | None:
    """Rescore one application from its verified facts.

    Stores a new snapshot (with what changed against the previous one), updates
    ``Application.total`` and writes an audit event, all in the caller's transaction;
    returns None when the figures are those of the latest snapshot (so a repeated job
    changes nothing). The engine always runs here. The application's row is locked
    first, so two rescorings of one application serialise and the later one sees the
    earlier one's snapshot. Raises LookupError for an unknown id and FactsError for facts
    the engine refuses.
    """
    db.session.flush()
    loaded = [item for chunk in load_facts(db.session, [application_id], lock=True) for item in chunk]
    if not loaded:
        raise LookupError(f"application {application_id} does not exist")
    item = loaded[0]
    result, sources = _score(item)
    outcome = _outcome(item, result, sources, _previous([application_id]).get(application_id),
                       item.digest(ENGINE_VERSION), result_digest(result))
    if outcome is None:
        return None
    snapshot = ScoreSnapshot(
        application_id=application_id,
        engine_version=ENGINE_VERSION,
        input_digest=outcome.digest,
        result_digest=outcome.result_digest,
        total=outcome.total,
        breakdown=outcome.breakdown,
        changes=outcome.changes,
        trigger=trigger[:64],
        decision_id=decision_id,
    )
    db.session.add(snapshot)
    application = db.session.get(Application, application_id)
    # 第三篇 十、2: "如果申报阶段结束时，您未完成提交，将无法获得积分，也将不能计算年度总积分。"
    # The snapshot keeps the indicators' points; only a submitted application has a total.
    application.total = outcome.total if application.submitted_at is not None else None
    db.session.flush()  # the snapshot's id, for the pointer
    application.current_snapshot_id = snapshot.id  # moves with the snapshot, in the same transaction
    db.session.flush()
    record(AUDIT_ACTION, "application", application_id, district_id=item.district_id,
           before={"total": None if item.total is None else str(item.total)},
           after=_audit_after(outcome, snapshot.id, trigger, decision_id))
    # The applicants' events feed (GET /api/v1/events): the new total, in words.

    emit(db.session.get(Application, application_id), "score.changed",
         (f"您的积分已重新计算：{outcome.total}分（原{item.total}分）。" if item.total is not None
          else f"您的积分已计算：{outcome.total}分。"),
         {"total": str(outcome.total), "before": None if item.total is None else str(item.total),
          "snapshot_id": snapshot.id})
    return snapshot


def sync_total(application: Application) -> None:
    """Keep the total with the submission: the latest snapshot's total once submitted (已提交),
    none while not ("未完成提交，将无法获得积分，也将不能计算年度总积分"). Called when an
    application is submitted or withdrawn for changes (撤回修改); flushes."""
    latest = db.session.scalar(
        select(ScoreSnapshot.total).where(ScoreSnapshot.application_id == application.id)
        .order_by(ScoreSnapshot.id.desc()).limit(1)
    )
    application.total = latest if application.submitted_at is not None else None
    db.session.flush()


def rescore_many(application_ids: Iterable[int], *, trigger: str, force: bool = False) -> int:
    """Rescore many applications in bulk; returns how many changed.

    Applications whose facts the engine refuses are skipped (see ``rescore_batch``).
    """
    return rescore_batch(application_ids, trigger=trigger, force=force).changed


def rescore_batch(application_ids: Iterable[int], *, trigger: str, decision_id: int | None = None,
                  chunk: int = CHUNK, progress: Callable[[int], None] | None = None,
                  actor_label: str | None = None, force: bool = False) -> BatchResult:
    """Bulk rescoring: per chunk of ids, three selects (applications, counting claims,
    latest snapshots) and three bulk writes (snapshots, totals, audit events).

    One application's bad facts do not stop the batch: it is skipped, reported in
    ``failed`` and left to its own job. ``progress(n)`` is called after each chunk.
    """
    db.session.flush()
    ids = sorted(set(application_ids))
    actor_id, label, ip = _actor()
    actor = (actor_id, actor_label or label, ip)
    result = BatchResult()
    with gc_paused():
        for part in load_facts(db.session, ids, chunk=chunk, lock=True):
            latest = _latest_digests([item.application_id for item in part])
            scored = []
            for item in part:
                last_input, last_result = latest.get(item.application_id, (None, None))
                digest = item.digest(ENGINE_VERSION)
                # Same input as the latest snapshot: same result, the engine need not run.
                if not force and digest == last_input:
                    result.unchanged += 1
                    continue
                try:
                    score_result, sources = _score(item)
                except FactsError as exc:
                    result.failed[item.application_id] = str(exc)
                    continue
                figures = result_digest(score_result)
                # Same figures (a rule correction that does not touch this application).
                if figures == last_result:
                    result.unchanged += 1
                    continue
                scored.append((item, score_result, sources, digest, figures))
            # Only those that may have changed read their previous figures, to compare and diff.
            previous = _previous([entry[0].application_id for entry in scored
                                  if entry[0].application_id in latest])
            outcomes: list[_Outcome] = []
            for item, score_result, sources, digest, figures in scored:
                outcome = _outcome(item, score_result, sources, previous.get(item.application_id), digest, figures)
                if outcome is None:
                    result.unchanged += 1
                else:
                    outcomes.append(outcome)
            if outcomes:
                _write(outcomes, trigger=trigger[:64], decision_id=decision_id, actor=actor)
            result.changed += len(outcomes)
            if progress is not None:
                progress(len(part))
    return result


def _actor():
    """Who a bulk rescoring is recorded as (audit.services.record's rule, computed once)."""
    if has_request_context() and current_user and current_user.is_authenticated:
        return current_user.id, current_user.username, request.remote_addr
    return None, "system", None


def _write(outcomes: list[_Outcome], *, trigger: str, decision_id, actor) -> None:
    session = db.session
    now = utcnow()
    if session.get_bind().dialect.name == "postgresql":
        snapshot_ids = _write_postgresql(outcomes, now=now, trigger=trigger, decision_id=decision_id, actor=actor)
    else:
        snapshot_ids = _write_generic(outcomes, now=now, trigger=trigger, decision_id=decision_id, actor=actor)
    # Application rows already in this session would still show the old totals.
    changed = {o.item.application_id for o in outcomes}
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Application) and obj.id in changed:
            session.expire(obj, ["total"])
    return snapshot_ids


def _audit_rows(outcomes, snapshot_ids, *, now, trigger, decision_id, actor):
    actor_id, actor_label, ip = actor
    for o in outcomes:
        yield {
            "at": now,
            "actor_id": actor_id,
            "actor_label": actor_label,
            "action": AUDIT_ACTION,
            "object_type": "application",
            "object_id": str(o.item.application_id),
            "district_id": o.item.district_id,
            "before": {"total": None if o.item.total is None else str(o.item.total)},
            "after": _audit_after(o, snapshot_ids[o.item.application_id], trigger, decision_id),
            "ip": ip,
        }


def _write_generic(outcomes, *, now, trigger, decision_id, actor) -> dict[int, int]:
    """Bulk INSERT … VALUES (SQLAlchemy's insertmanyvalues) and executemany UPDATE."""
    session = db.session
    # Each application once per batch: map the returned ids by application, so the
    # driver may batch the rows in any order (asking for parameter order costs one
    # statement per row on SQLite).
    snapshot_ids = dict(session.execute(
        insert(ScoreSnapshot).returning(ScoreSnapshot.application_id, ScoreSnapshot.id),
        [
            {
                "application_id": o.item.application_id,
                "created_at": now,
                "engine_version": ENGINE_VERSION,
                "input_digest": o.digest,
                "result_digest": o.result_digest,
                "total": o.total,
                "breakdown": o.breakdown,
                "changes": o.changes,
                "trigger": trigger,
                "decision_id": decision_id,
            }
            for o in outcomes
        ],
    ).all())
    # Only a submitted application has a total (see sync_total).
    session.execute(
        update(Application.__table__)
        .where(Application.__table__.c.id == bindparam("app_id"), Application.__table__.c.submitted_at.is_not(None))
        .values(total=bindparam("new_total")),
        [{"app_id": o.item.application_id, "new_total": o.total} for o in outcomes],
        execution_options={"synchronize_session": False},
    )
    # The pointer to the latest snapshot, submitted or not (see Application.current_snapshot_id).
    session.execute(
        update(Application.__table__)
        .where(Application.__table__.c.id == bindparam("app_id"))
        .values(current_snapshot_id=bindparam("snapshot_id")),
        [{"app_id": app_id, "snapshot_id": sid} for app_id, sid in snapshot_ids.items()],
        execution_options={"synchronize_session": False},
    )
    session.execute(insert(AuditEvent), list(_audit_rows(outcomes, snapshot_ids, now=now, trigger=trigger,
                                                          decision_id=decision_id, actor=actor)))
    return snapshot_ids


def _write_postgresql(outcomes, *, now, trigger, decision_id, actor) -> dict[int, int]:
    """COPY for the snapshots and audit events, one UPDATE … FROM unnest(arrays) for the
    totals: a full year's first snapshots in a fraction of the time multi-row INSERTs
    take (the statements alone are megabytes of parameters to build and parse)."""
    connection = db.session.connection()
    snapshot_table = ScoreSnapshot.__table__.name
    ids = connection.execute(
        text(f"SELECT nextval(pg_get_serial_sequence('{snapshot_table}', 'id')) FROM generate_series(1, :n)"),
        {"n": len(outcomes)},
    ).scalars().all()
    snapshot_ids = {o.item.application_id: sid for o, sid in zip(outcomes, ids)}
    dumps = _json_text
    with connection.connection.driver_connection.cursor() as cursor:
        with cursor.copy(
            f"COPY {snapshot_table} (id, application_id, created_at, engine_version, input_digest, result_digest, "
            "total, breakdown, changes, trigger, decision_id) FROM STDIN"
        ) as copy:
            for sid, o in zip(ids, outcomes):
                copy.write_row((sid, o.item.application_id, now, ENGINE_VERSION, o.digest, o.result_digest, o.total,
                                dumps(o.breakdown), dumps(o.changes), trigger, decision_id))
        # The total (only a submitted application has one, see sync_total) and the pointer to the
        # latest snapshot (always), in one statement.
        cursor.execute(
            f"UPDATE {Application.__table__.name} AS a "
            "SET total = CASE WHEN a.submitted_at IS NOT NULL THEN data.total ELSE a.total END, "
            "current_snapshot_id = data.snapshot_id "
            "FROM unnest(%s::integer[], %s::numeric[], %s::integer[]) AS data(id, total, snapshot_id) "
            "WHERE a.id = data.id",
            ([o.item.application_id for o in outcomes], [o.total for o in outcomes], ids),
        )
        columns = ("at", "actor_id", "actor_label", "action", "object_type", "object_id", "district_id",
                   "before", "after", "ip")
        with cursor.copy(f"COPY {AuditEvent.__table__.name} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in _audit_rows(outcomes, snapshot_ids, now=now, trigger=trigger, decision_id=decision_id,
                                   actor=actor):
                row["before"] = dumps(row["before"])
                row["after"] = dumps(row["after"])
                copy.write_row(tuple(row[c] for c in columns))
    return snapshot_ids
