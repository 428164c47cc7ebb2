"""Indicator facts: the canonical JSON of each claim, and from the database to the engine.

An ``IndicatorClaim`` keeps two dicts of the same shape: ``claimed`` (as filed) and
``verified`` (the registry's verified facts, or a superseding decision's corrected
facts). Each shape is the fragment of the engine's score input v1
(shared/contracts/SCORING.md) that the indicator contributes, so the engine itself
checks it (``check_facts``) and assembling an input is concatenation, not translation.

One claim per filed item; the shapes, per indicator:

employment (合法稳定就业) — the social-insurance registry's record, one claim per application::

    {"insurance": {"pension": {"paid": [["2010-01", "2020-12"]], "back_paid": ["2013-04"]},
                   "medical": {"paid": [...], "back_paid": []}, ...},
     "work_districts": [{"from": "2018-01", "to": "2020-12", "district": "通州区"}]}

    ``insurance`` is keyed by pension, medical, unemployment, injury, maternity; a type left
    out had no payments. Ranges are ``[from, to]`` months, both ends included; ``back_paid``
    lists months (or ranges) inside ``paid`` that were back-paid (补缴) and never count.
    ``work_districts`` (就业地, where the employer paid insurance) must not overlap.

housing (合法稳定住所) — one residence segment, 有效的居住起始/终止年月::

    {"type": "own" | "rental" | "dorm", "from": "2014-08", "to": "2017-12", "district": "朝阳区"}

education (教育背景)::

    {"level": "junior_college" | "bachelor" | "master" | "doctor" | null,
     "degree": "bachelor" | "master" | "doctor" | null, "graduated": "2005-07"}

    Several counting education claims: only the highest scores (第三篇 三 "以上学历(学位)积分
    不累计"), i.e. the one with the most table points, then the later graduation.

work_residence (职住区域)::

    {"chosen": true}

innovation (创新创业) — one award of 附件1::

    {"code": "national_sci_tech_progress", "grade": "second", "rank": 5}
    {"code": "equity_financing", "amount": 45000000}

    ``grade``, ``rank`` and ``amount`` only where the table needs them.

tax (纳税) — the tax registry's per-year result; a year found invalid is left out::

    {"annual": {"2018": 120000, "2019": 80000, "2020": 150000}, "violations": 0}

age (年龄)::

    {"birth_date": "1979-09-11"}

    Without a counting age claim the applicant's birth date (from the ID number) is used:
    age is never a registry finding the applicant can lose.

honors (荣誉表彰) — one title of 附件2::

    {"code": "beijing_model_worker"}

law_abiding (守法记录)::

    {"detentions": 0}

What counts: only verified facts — a claim with a valid registry result, or one whose
result a decision superseded (``IndicatorClaim.counts``), and only when ``verified``
holds facts (a superseding decision that leaves ``verified`` empty counts nothing).
Several tax or law-abiding claims combine by the largest figure per year / the largest
count, never by a sum: they are the same registry record seen twice, not two records.
"""
from __future__ import annotations

import gc
import zlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from hashlib import blake2b

import orjson
from sqlalchemy import Integer, Text, any_, bindparam, cast, or_, select
from sqlalchemy.dialects.postgresql import ARRAY

from backoffice.applications.models import Applicant, Application, IndicatorClaim, RegistryStatus
from backoffice.scoring import ScoreInputError, validate
from backoffice.scoring.tables import EDUCATION

INDICATORS = (
    "employment", "housing", "education", "work_residence", "innovation",
    "tax", "age", "honors", "law_abiding",
)
INSURANCE_TYPES = ("pension", "medical", "unemployment", "injury", "maternity")
_PAID_KEYS = {"paid", "back_paid"}

# The keys each shape may carry, and those it must.
_KEYS = {
    "employment": ({"insurance", "work_districts"}, {"insurance", "work_districts"}),
    "housing": ({"type", "from", "to", "district"}, {"type", "from", "to", "district"}),
    "education": ({"level", "degree", "graduated"}, {"level", "degree", "graduated"}),
    "work_residence": ({"chosen"}, {"chosen"}),
    "innovation": ({"code", "grade", "rank", "amount"}, {"code"}),
    "tax": ({"annual", "violations"}, {"annual", "violations"}),
    "age": ({"birth_date"}, {"birth_date"}),
    "honors": ({"code"}, {"code"}),
    "law_abiding": ({"detentions"}, {"detentions"}),
}
# Where each shape sits in a score input, to map the engine's error path back to the fact.
_PREFIX = {
    "employment": "", "housing": "residences[0]", "education": "education",
    "work_residence": "work_residence", "innovation": "innovation[0]", "tax": "tax",
    "age": "birth_date", "honors": "honors[0]", "law_abiding": "detentions",
}


class FactsError(ValueError):
    """Facts that do not follow their indicator's shape; ``path`` names the field."""

    def __init__(self, path: str, message: str, claim_id: int | None = None):
        self.path = path
        self.message = message
        self.claim_id = claim_id
        where = f"claim {claim_id} " if claim_id is not None else ""
        super().__init__(f"{where}{path}: {message}")


def _empty_input(year: int, birth_date: str) -> dict:
    return {
        "year": year,
        "birth_date": birth_date,
        "insurance": {t: {"paid": [], "back_paid": []} for t in INSURANCE_TYPES},
        "work_districts": [],
        "residences": [],
        "education": None,
        "work_residence": False,
        "innovation": [],
        "tax": {"annual": {}, "violations": 0},
        "honors": [],
        "detentions": 0,
    }


def check_facts(indicator: str, data, *, year: int = 2021) -> dict:
    """Check one claim's facts against its shape (the engine's own validation); returns them.

    Raises FactsError naming the field, e.g. ``to: "2020-13" is not a month (YYYY-MM)``.
    For the services that write ``claimed``/``verified`` (intake, decisions' corrected facts).
    """
    if indicator not in _KEYS:
        raise FactsError("indicator", f"unknown indicator {indicator!r}")
    if not isinstance(data, dict):
        raise FactsError("", "expected an object")
    allowed, required = _KEYS[indicator]
    for key in data:
        if key not in allowed:
            raise FactsError(str(key), "unknown field")
    for key in sorted(required - data.keys()):
        raise FactsError(key, "required field is missing")
    if indicator == "employment":
        if not isinstance(data["insurance"], dict):
            raise FactsError("insurance", "expected an object keyed by insurance type")
        for t in data["insurance"]:
            if t not in INSURANCE_TYPES:
                raise FactsError(f"insurance.{t}", "unknown insurance type")
    if indicator == "work_residence" and not isinstance(data["chosen"], bool):
        raise FactsError("chosen", "expected true or false")
    if indicator == "honors" and not isinstance(data["code"], str):
        raise FactsError("code", "expected an honour code")
    trial = _empty_input(year, "1980-01-01")
    _place(trial, indicator, data)
    try:
        validate(trial)
    except ScoreInputError as exc:
        raise FactsError(_fact_path(indicator, exc.path), exc.message) from None
    return data


def _fact_path(indicator: str, path: str) -> str:
    prefix = _PREFIX[indicator]
    if indicator == "work_residence":
        return "chosen"
    if indicator == "honors":
        return "code"
    if prefix and path.startswith(prefix):
        return path[len(prefix):].lstrip(".") or path
    return path


def _place(into: dict, indicator: str, data: dict) -> None:
    """Add one claim's facts to a score input under construction (no checks)."""
    if indicator == "employment":
        insurance = into["insurance"]
        for t, v in data.get("insurance", {}).items():
            slot = insurance.get(t)
            if slot is None:  # an unknown type: keep it, the engine names it
                slot = insurance[t] = {"paid": [], "back_paid": []}
            if (isinstance(v, dict) and v.keys() <= _PAID_KEYS and isinstance(slot, dict)
                    and isinstance(v.get("paid", []), list) and isinstance(v.get("back_paid", []), list)):
                slot["paid"] += v.get("paid", [])
                slot["back_paid"] += v.get("back_paid", [])
            else:  # not the shape: pass it through for the engine to name the field
                insurance[t] = v
        into["work_districts"] += data.get("work_districts") or []
    elif indicator == "housing":
        into["residences"].append(data)
    elif indicator == "education":
        current = into["education"]
        if current is None or _education_rank(data) > _education_rank(current):
            into["education"] = data
    elif indicator == "work_residence":
        into["work_residence"] = into["work_residence"] or data.get("chosen")
    elif indicator == "innovation":
        into["innovation"].append(data)
    elif indicator == "tax":
        annual = into["tax"]["annual"]
        for y, amount in (data.get("annual") or {}).items():
            if y not in annual or _num(amount) > _num(annual[y]):
                annual[y] = amount
        into["tax"]["violations"] = _larger(into["tax"]["violations"], data.get("violations"))
    elif indicator == "age":
        into["birth_date"] = data.get("birth_date")
    elif indicator == "honors":
        code = data.get("code")
        if code not in into["honors"]:
            into["honors"].append(code)
    elif indicator == "law_abiding":
        into["detentions"] = _larger(into["detentions"], data.get("detentions"))


def _larger(current, value):
    """The larger count; anything that is not a count passes through for the engine to name."""
    if type(value) is not int or type(current) is not int or value < 0:
        return value
    return max(current, value)


def _num(v) -> float:
    return v if isinstance(v, (int, float)) else -1


def _education_rank(ed) -> tuple:
    """(table points, graduation month) — "以上学历(学位)积分不累计": the highest one counts."""
    if not isinstance(ed, dict):
        return (-1, "")
    level, degree = ed.get("level"), ed.get("degree")
    row = EDUCATION.get((level, degree))
    if row is None:
        row = max(EDUCATION.get((level, None), (0, 0)), EDUCATION.get((None, degree), (0, 0)))
    return (row[0], str(ed.get("graduated") or ""))


# Sources: which claims went into an input, so snapshots can say what changed.
# {indicator: [[claim_id, decision_id | None, fingerprint of the verified facts], ...]}
Sources = dict


def fingerprint(raw_json: str) -> int:
    """A cheap fingerprint of a claim's verified facts as stored (CRC-32): it only tells
    which claims changed, for the snapshot's ``changes``; whether to rescore at all is
    decided by ``ApplicationFacts.digest`` (128 bits)."""
    return zlib.crc32(raw_json.encode())


def assemble(year: int, birth_date: date | str, facts: Iterable[tuple]) -> tuple[dict, Sources]:
    """A score input v1 and its sources from counting facts.

    ``facts`` yields (claim_id, indicator, verified: dict, decision_id, fingerprint), already
    filtered to what counts, in claim-id order (so the result is deterministic).
    """
    if isinstance(birth_date, date):
        birth_date = birth_date.isoformat()
    data = _empty_input(year, birth_date)
    sources: Sources = {}
    for claim_id, indicator, verified, decision_id, fp in facts:
        # Keys only (cheap): facts in another shape must fail loudly, not score as nothing.
        allowed, required = _KEYS[indicator]
        keys = verified.keys()
        if not keys <= allowed:
            raise FactsError(sorted(keys - allowed)[0], f"unknown field for {indicator}", claim_id)
        if not required <= keys:
            raise FactsError(sorted(required - keys)[0], f"required field is missing for {indicator}", claim_id)
        _place(data, indicator, verified)
        sources.setdefault(indicator, []).append([claim_id, decision_id, fp])
    return data, sources


def _claim_counts(status, decision_id, verified) -> bool:
    # IndicatorClaim.counts, plus: no facts, nothing to count.
    return (status == "valid" or decision_id is not None) and bool(verified)


def build_score_input(application, claims: Iterable) -> dict:
    """The score input v1 of one application from its claims, counting only verified facts.

    ``application`` needs ``year`` and ``applicant.birth_date``; ``claims`` are
    IndicatorClaim rows (or anything with the same attributes).
    """
    data, _sources = _build_with_sources(application.year, application.applicant.birth_date, claims)
    return data


def _build_with_sources(year, birth_date, claims) -> tuple[dict, Sources]:
    facts = []
    for claim in sorted(claims, key=lambda c: c.id or 0):
        indicator = getattr(claim.indicator, "value", claim.indicator)
        status = getattr(claim.registry_status, "value", claim.registry_status)
        if claim.counts and _claim_counts(status, claim.verified_by_decision_id, claim.verified):
            # No fingerprint: these sources are for display; snapshots go through load_score_inputs.
            facts.append((claim.id, indicator, claim.verified, claim.verified_by_decision_id, None))
    return assemble(year, birth_date, facts)


def explain_input_error(exc: ScoreInputError, sources: Sources) -> FactsError:
    """Point an engine error on an assembled input at the claim it came from."""
    path = exc.path
    # residences[i] / innovation[i] / honors[i] are the i-th counting claim of their indicator.
    for indicator, field in (("housing", "residences"), ("innovation", "innovation"), ("honors", "honors")):
        if path.startswith(field + "["):
            index = int(path[len(field) + 1:path.index("]")])
            claims = sources.get(indicator, [])
            if index < len(claims):
                rest = path[path.index("]") + 1:].lstrip(".")
                return FactsError(rest or "code", exc.message, claims[index][0])
    for indicator, field in (("employment", "insurance"), ("employment", "work_districts"),
                             ("education", "education"), ("tax", "tax"), ("age", "birth_date"),
                             ("law_abiding", "detentions"), ("work_residence", "work_residence")):
        if path.startswith(field) and sources.get(indicator):
            return FactsError(path, exc.message, sources[indicator][-1][0])
    return FactsError(path, exc.message)


# Batch loading ------------------------------------------------------------------------
@dataclass(slots=True)
class ApplicationFacts:
    """One application's counting claims as stored (JSON text, parsed only on demand)."""

    application_id: int
    year: int
    district_id: int
    total: object  # Decimal | None, the application's current total
    birth_date: date  # the applicant's, from the ID number
    claims: list  # (claim_id, indicator, verified JSON text, decision_id), in claim-id order

    def basis(self) -> dict:
        """What the input depends on besides the claims."""
        return {"year": self.year, "birth_date": self.birth_date.isoformat()}

    def digest(self, engine_version: str) -> str:
        """What the input is built from, hashed: equal digests give equal inputs and results."""
        h = blake2b(f"{engine_version}\x1f{self.year}\x1f{self.birth_date.isoformat()}".encode(), digest_size=16)
        for claim_id, _indicator, raw, decision_id in self.claims:
            h.update(f"\x1e{claim_id}\x1f{decision_id}\x1f".encode())
            h.update(raw.encode())
        return h.hexdigest()

    def sources(self) -> Sources:
        """The sources of the input, without parsing a single claim."""
        sources: Sources = {}
        for claim_id, indicator, raw, decision_id in self.claims:
            sources.setdefault(indicator, []).append([claim_id, decision_id, fingerprint(raw)])
        return sources

    def assemble(self) -> tuple[dict, Sources]:
        """The score input and its sources; raises FactsError."""
        claims = self.claims
        # One parse for all of an application's claims (each text is one JSON value).
        parsed = orjson.loads("[" + ",".join([c[2] for c in claims]) + "]") if claims else ()
        return assemble(self.year, self.birth_date,
                        ((c[0], c[1], verified, c[3], zlib.crc32(c[2].encode()))
                         for c, verified in zip(claims, parsed)))


@dataclass(slots=True)
class LoadedInput:
    application_id: int
    year: int
    district_id: int
    total: object  # Decimal | None, the application's current total
    data: dict | None
    sources: Sources
    error: FactsError | None = None  # facts that could not be assembled


CHUNK = 5000  # ids per IN list: under every driver's parameter limit (SQLite 32 766, PG 65 535)


@contextmanager
def gc_paused():
    """Pause the cyclic garbage collector around bulk work.

    Building tens of thousands of small dicts and lists triggers a collection every few
    hundred allocations, each walking every live container: measured here it tripled the
    time of a 5 000-application chunk. What is built is acyclic (JSON), so reference
    counting frees it all the same.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def id_in(column, ids: Sequence[int], session):
    """``column IN ids``; on PostgreSQL ``= ANY(:array)``, one parameter instead of thousands
    (building and parsing a 5 000-placeholder statement cost more than the query)."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(ids), type_=ARRAY(Integer)))
    return column.in_(ids)


def load_facts(session, application_ids: Sequence[int], *, chunk: int = CHUNK,
               lock: bool = False) -> Iterator[list[ApplicationFacts]]:
    """Many applications' counting claims, a chunk of ids at a time, two queries per chunk.

    Plain column selects (no ORM object per claim); what counts is filtered in SQL (a
    valid registry result or a superseding decision, with facts); verified facts come as
    JSON text, so they can be fingerprinted without parsing. With ``lock`` the
    applications' rows are locked (FOR NO KEY UPDATE, in id order) so two rescorings of one
    application run one after the other; a ranking's FOR KEY SHARE on them (application_ranks'
    foreign key) does not hold them up, as FOR UPDATE would (issue 18 §2).
    """
    ids = sorted(set(application_ids))
    c = IndicatorClaim.__table__.c
    for start in range(0, len(ids), chunk):
        part = ids[start:start + chunk]
        app_stmt = (
            select(Application.id, Application.year, Application.district_id, Application.total,
                   Applicant.birth_date)
            .join(Applicant, Applicant.id == Application.applicant_id)
            .where(id_in(Application.id, part, session))
            .order_by(Application.id)
        )
        if lock:
            app_stmt = app_stmt.with_for_update(of=Application, key_share=True)
        apps = session.execute(app_stmt).all()
        claim_stmt = (
            select(c.application_id, c.id, cast(c.indicator, Text), cast(c.verified, Text),
                   c.verified_by_decision_id)
            .where(id_in(c.application_id, part, session))
            .where(or_(c.registry_status == RegistryStatus.valid.value, c.verified_by_decision_id.is_not(None)))
            .where(c.verified.is_not(None))
            .order_by(c.application_id, c.id)
        )
        claims: dict[int, list] = {}
        with gc_paused():
            for app_id, claim_id, indicator, raw, decision_id in session.execute(claim_stmt):
                # JSON null (what the ORM writes for None) and {} hold no facts.
                if raw is None or raw == "null" or raw == "{}":
                    continue
                claims.setdefault(app_id, []).append((claim_id, indicator, raw, decision_id))
            out = [ApplicationFacts(app_id, year, district_id, total, birth, claims.get(app_id, []))
                   for app_id, year, district_id, total, birth in apps]
        yield out


def load_score_inputs(session, application_ids: Sequence[int], *, chunk: int = CHUNK,
                      lock: bool = False) -> Iterator[list[LoadedInput]]:
    """Score inputs of many applications, a chunk at a time, in two queries per chunk
    (``load_facts``, every claim parsed and assembled)."""
    for part in load_facts(session, application_ids, chunk=chunk, lock=lock):
        out = []
        with gc_paused():
            for item in part:
                try:
                    data, sources = item.assemble()
                except FactsError as exc:
                    out.append(LoadedInput(item.application_id, item.year, item.district_id, item.total,
                                           None, {}, exc))
                    continue
                out.append(LoadedInput(item.application_id, item.year, item.district_id, item.total,
                                       data, sources))
        yield out
