"""Scoring applications from their verified facts; each new result kept as a snapshot.

``rescore_application`` is what the rescoring job of one application calls;
``rescore_many`` is the bulk form (a year after a rule correction, the demo seed).
Both build the input with ``facts.load_score_inputs``, so a snapshot's sources carry
the same fingerprints whichever path wrote it. A snapshot is stored only when the
breakdown (the engine's per-indicator figures) differs from the latest one; an
engine version or explanation wording that changes no figure stores nothing.

Services flush; the request or job commits.

Snapshot JSON
-------------
``breakdown`` = the engine's score result v1 (total, indicators, explanation,
engine_version) plus ``sources``: per indicator, the counted claims as
``[claim_id, decision_id, fingerprint of the verified facts]``.

``changes`` = the difference against the previous snapshot::

    {"previous_snapshot_id": 12 | null,
     "total": {"before": 80.0 | null, "after": 85.25},
     "indicators": {"housing": {"before": 7.21 | null, "after": 12.0,
                                "claims": [13], "decisions": [57]}}}

``claims`` are the claims of that indicator that came in, went out, or whose verified
facts or superseding decision changed; ``decisions`` the decisions among them. Only
indicators whose figures changed are listed.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import func, insert, select, update

from backoffice.applications.facts import CHUNK, INDICATORS, LoadedInput, explain_input_error, load_score_inputs
from backoffice.applications.models import Application, ScoreSnapshot
from backoffice.audit.models import AuditEvent
from backoffice.audit.services import record
from backoffice.core.db import utcnow
from backoffice.extensions import db
from backoffice.scoring import ENGINE_VERSION, ScoreInputError, score

AUDIT_ACTION = "score.changed"
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
    loaded: LoadedInput
    total: Decimal
    breakdown: dict
    changes: dict


def _decimal(points: float) -> Decimal:
    return Decimal(repr(points)).quantize(_CENT)


def _previous(application_ids: list[int]) -> dict[int, _Previous]:
    """The latest snapshot of each application: its figures and sources only, not the
    explanation lines (a few hundred bytes instead of a few kilobytes per row)."""
    if not application_ids:
        return {}
    latest = (
        select(func.max(ScoreSnapshot.id))
        .where(ScoreSnapshot.application_id.in_(application_ids))
        .group_by(ScoreSnapshot.application_id)
    )
    rows = db.session.execute(
        select(ScoreSnapshot.application_id, ScoreSnapshot.id, ScoreSnapshot.total,
               ScoreSnapshot.breakdown["indicators"], ScoreSnapshot.breakdown["sources"])
        .where(ScoreSnapshot.id.in_(latest))
    )
    return {app_id: _Previous(snap_id, total, indicators or {}, sources or {})
            for app_id, snap_id, total, indicators, sources in rows}


def changes_between(previous: _Previous | None, result: dict, sources: dict) -> dict:
    """Per-indicator difference of a new result against the previous snapshot."""
    before_ind = previous.indicators if previous else {}
    before_src = previous.sources if previous else {}
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
        "previous_snapshot_id": previous.snapshot_id if previous else None,
        "total": {"before": float(previous.total) if previous else None, "after": result["total"]},
        "indicators": indicators,
    }


def _evaluate(loaded: LoadedInput, previous: _Previous | None) -> _Outcome | None:
    """Score one loaded input; None when its figures equal the previous snapshot's."""
    if loaded.error is not None:
        raise loaded.error
    try:
        result = score(loaded.data)
    except ScoreInputError as exc:
        raise explain_input_error(exc, loaded.sources) from None
    if previous is not None and previous.indicators == result["indicators"]:
        return None
    breakdown = dict(result)
    breakdown["sources"] = loaded.sources
    return _Outcome(loaded, _decimal(result["total"]), breakdown, changes_between(previous, result, loaded.sources))


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
    changes nothing). The application's row is locked first, so two rescorings of one
    application serialise and the later one sees the earlier one's snapshot.
    Raises LookupError for an unknown id and FactsError for facts the engine refuses.
    """
    db.session.flush()
    loaded = [item for chunk in load_score_inputs(db.session, [application_id], lock=True) for item in chunk]
    if not loaded:
        raise LookupError(f"application {application_id} does not exist")
    item = loaded[0]
    outcome = _evaluate(item, _previous([application_id]).get(application_id))
    if outcome is None:
        return None
    application = db.session.get(Application, application_id)
    before_total = item.total
    snapshot = ScoreSnapshot(
        application_id=application_id,
        engine_version=ENGINE_VERSION,
        total=outcome.total,
        breakdown=outcome.breakdown,
        changes=outcome.changes,
        trigger=trigger[:64],
        decision_id=decision_id,
    )
    db.session.add(snapshot)
    application.total = outcome.total
    db.session.flush()
    record(AUDIT_ACTION, "application", application_id, district_id=item.district_id,
           before={"total": None if before_total is None else str(before_total)},
           after=_audit_after(outcome, snapshot.id, trigger, decision_id))
    return snapshot


def rescore_many(application_ids: Iterable[int], *, trigger: str) -> int:
    """Rescore many applications in bulk; returns how many changed.

    Applications whose facts the engine refuses are skipped (see ``rescore_batch``).
    """
    return rescore_batch(application_ids, trigger=trigger).changed


def rescore_batch(application_ids: Iterable[int], *, trigger: str, decision_id: int | None = None,
                  chunk: int = CHUNK, progress: Callable[[int], None] | None = None,
                  actor_label: str | None = None) -> BatchResult:
    """Bulk rescoring: per chunk of ids, three selects (applications, counting claims,
    latest snapshots) and three bulk writes (snapshots, totals, audit events).

    One application's bad facts do not stop the batch: it is skipped, reported in
    ``failed`` and left to its own job. ``progress(n)`` is called after each chunk.
    """
    db.session.flush()
    ids = sorted(set(application_ids))
    actor_id, label, ip = _actor()
    result = BatchResult()
    for loaded in load_score_inputs(db.session, ids, chunk=chunk, lock=True):
        previous = _previous([item.application_id for item in loaded])
        outcomes: list[_Outcome] = []
        for item in loaded:
            try:
                outcome = _evaluate(item, previous.get(item.application_id))
            except ValueError as exc:
                result.failed[item.application_id] = str(exc)
                continue
            if outcome is None:
                result.unchanged += 1
            else:
                outcomes.append(outcome)
        if outcomes:
            _write(outcomes, trigger=trigger[:64], decision_id=decision_id,
                   actor=(actor_id, actor_label or label, ip))
        result.changed += len(outcomes)
        if progress is not None:
            progress(len(loaded))
    return result


def _actor():
    """Who a bulk rescoring is recorded as (audit.services.record's rule, computed once)."""
    if has_request_context() and current_user and current_user.is_authenticated:
        return current_user.id, current_user.username, request.remote_addr
    return None, "system", None


def _write(outcomes: list[_Outcome], *, trigger: str, decision_id, actor) -> None:
    now = utcnow()
    session = db.session
    # Each application once per batch: map the returned ids by application, so the
    # driver may batch the rows in any order (asking for parameter order costs one
    # statement per row on SQLite).
    snapshot_ids = dict(session.execute(
        insert(ScoreSnapshot).returning(ScoreSnapshot.application_id, ScoreSnapshot.id),
        [
            {
                "application_id": o.loaded.application_id,
                "created_at": now,
                "engine_version": ENGINE_VERSION,
                "total": o.total,
                "breakdown": o.breakdown,
                "changes": o.changes,
                "trigger": trigger,
                "decision_id": decision_id,
            }
            for o in outcomes
        ],
    ).all())
    session.execute(
        update(Application),
        [{"id": o.loaded.application_id, "total": o.total} for o in outcomes],
        execution_options={"synchronize_session": False},
    )
    # Application rows already in this session would still show the old totals.
    changed = {o.loaded.application_id for o in outcomes}
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Application) and obj.id in changed:
            session.expire(obj, ["total"])
    actor_id, actor_label, ip = actor
    session.execute(
        insert(AuditEvent),
        [
            {
                "at": now,
                "actor_id": actor_id,
                "actor_label": actor_label,
                "action": AUDIT_ACTION,
                "object_type": "application",
                "object_id": str(o.loaded.application_id),
                "district_id": o.loaded.district_id,
                "before": {"total": None if o.loaded.total is None else str(o.loaded.total)},
                "after": _audit_after(o, snapshot_ids[o.loaded.application_id], trigger, decision_id),
                "ip": ip,
            }
            for o in outcomes
        ],
    )
