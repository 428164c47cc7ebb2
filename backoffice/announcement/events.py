"""Reading the applicants' events feed in order (GET /api/v1/events).

The problem: `applicant_events.id` comes from a sequence, handed out when a row is
inserted, not when its transaction commits. On PostgreSQL a transaction that inserted id 41
may commit after one that inserted id 42; a reader that served 42 and moved its cursor past
it would never see 41.

The choice: feed positions assigned by a single writer, after commit. Events are written
with `position` NULL. A reader first gives positions — max(position)+1, +2, … in id order —
to every *committed* event still without one, holding a transaction-level advisory lock
(PostgreSQL; SQLite serialises writers anyway), then serves `position > cursor`. Only
committed rows are visible to that UPDATE, so an event whose transaction is still open gets
its position later, after every position already served: nothing is ever skipped, the order
is the order of positions, and the cursor is a number in the database, so it survives
restarts of everything. A reader that cannot take the lock (another reader is assigning)
serves what is positioned already; the rest comes with its next poll. Emitting stays cheap
and lock-free, so a long rescoring job never blocks the decisions of the day.

(The alternative considered — serve only ids below the oldest in-flight transaction's first
id — needs every writer to record its transaction id and a scan of pg_stat_activity per poll,
and stalls the whole feed behind one long job.)
"""
from __future__ import annotations

from sqlalchemy import func, select, text, update

from backoffice.extensions import db
from backoffice.feed.models import ApplicantEvent

# pg_advisory_xact_lock key: "feed" in ASCII.
FEED_LOCK_KEY = 0x66656564


def assign_positions(session=None) -> int:
    """Position the committed events that have none; the request (or caller) commits."""
    session = session or db.session
    if session.get_bind().dialect.name == "postgresql":
        if not session.execute(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": FEED_LOCK_KEY}).scalar():
            return 0
    base = select(func.coalesce(func.max(ApplicantEvent.position), 0)).scalar_subquery()
    numbered = (select(ApplicantEvent.id.label("id"),
                       (base + func.row_number().over(order_by=ApplicantEvent.id)).label("position"))
                .where(ApplicantEvent.position.is_(None)).subquery())
    result = session.execute(
        update(ApplicantEvent.__table__).where(ApplicantEvent.__table__.c.id == numbered.c.id)
        .values(position=numbered.c.position)
    )
    return result.rowcount or 0


def read(after: int, limit: int, session=None) -> list[ApplicantEvent]:
    session = session or db.session
    assign_positions(session)
    return session.scalars(select(ApplicantEvent).where(ApplicantEvent.position > after)
                              .order_by(ApplicantEvent.position).limit(limit)
                              .execution_options(populate_existing=True)).all()
