"""Input validation: a score input v1 dict (shared/contracts/SCORING.md) → ``ScoreInput``.

Every breach of the contract raises ``ScoreInputError`` whose text is one line naming the
field, e.g. ``residences[2].to: "2020-13" is not a month (YYYY-MM)``. The common shapes
take a fast path of dictionary look-ups; anything else falls back to careful parsers that
either accept it or say exactly what is wrong. Months become interval lists (``history``).

Pure Python: imports nothing from Flask, SQLAlchemy or RQ.
"""

from __future__ import annotations

import functools
import json

from .history import MONTH_ORDINALS, count, merge, month_str
from .tables import (
    DISTRICTS,
    EDUCATION_DEGREES,
    EDUCATION_LEVELS,
    EQUITY_FINANCING_CODE,
    HONOURS,
    INNOVATION,
    INSURANCE_TYPES,
    RESIDENCE_TYPES,
)

# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------


class ScoreInputError(ValueError):
    """Input that does not follow score input v1.

    ``str(err)`` is one line: ``<field path>: <message>``, e.g.
    ``residences[2].to: "2020-13" is not a month (YYYY-MM)``.
    """

    def __init__(self, path: str, message: str):
        self.path = path
        self.message = message
        super().__init__(f"{path}: {message}")


class _Bad(Exception):
    """Internal: raised at the leaf, the path is collected while unwinding."""

    def __init__(self, message, *parts):
        self.message = message
        self.parts = list(parts)  # innermost first


def _path(parts):
    out = ""
    for p in reversed(parts):
        if type(p) is int:
            out += f"[{p}]"
        elif out:
            out += "." + p
        else:
            out = p
    return out or "input"


_JSON_TYPES = {dict: "an object", list: "an array", str: "a string", int: "a number",
               float: "a number", bool: "a boolean", type(None): "null"}


def _jt(v):
    return _JSON_TYPES.get(type(v), type(v).__name__)


def _q(v):
    """Quote a value the way it was written in the JSON input (shortened if long)."""
    try:
        text = json.dumps(v, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(v)
    return text if len(text) <= 60 else text[:57] + "…"


def _want(v, what):
    return _Bad(f"expected {what}, got {_jt(v)}" if type(v) is not str
                else f"expected {what}, got {_q(v)}")


def _check_keys(d, keys, required=None):
    """Raise for the first unknown or missing key (d must be a dict)."""
    for k in d:
        if k not in keys:
            raise _Bad("unknown field", k if type(k) is str else repr(k))
    for k in required if required is not None else keys:
        if k not in d:
            raise _Bad("required field is missing", k)



# ---------------------------------------------------------------------------
# Months and ranges
# ---------------------------------------------------------------------------

def _month(s):
    """"YYYY-MM" → month ordinal (the table first; any other year parsed carefully)."""
    try:
        return MONTH_ORDINALS[s]
    except (KeyError, TypeError):
        pass
    if type(s) is not str:
        raise _Bad(f"expected a month (YYYY-MM), got {_jt(s)}")
    if (len(s) == 7 and s[4] == "-" and s.isascii()
            and s[:4].isdigit() and s[5:].isdigit()):
        m = int(s[5:])
        if 1 <= m <= 12:
            return int(s[:4]) * 12 + m - 1
    raise _Bad(f"{_q(s)} is not a month (YYYY-MM)")


def _range(r):
    """A range ``["YYYY-MM", "YYYY-MM"]`` or ``{"from": .., "to": ..}`` → (first, last)."""
    if type(r) is list:
        if len(r) != 2:
            raise _Bad(f"expected a range [from, to], got an array of {len(r)}")
        try:
            a = _month(r[0])
        except _Bad as e:
            e.parts.append(0)
            raise
        try:
            b = _month(r[1])
        except _Bad as e:
            e.parts.append(1)
            raise
        if b < a:
            raise _Bad(f"range ends {_q(r[1])} before it starts {_q(r[0])}")
        return (a, b)
    if type(r) is dict:
        _check_keys(r, _RANGE_KEYS)
        return _from_to(r)
    raise _want(r, 'a range ["YYYY-MM", "YYYY-MM"] or {"from": .., "to": ..}')


_RANGE_KEYS = ("from", "to")


def _from_to(d):
    try:
        a = _month(d["from"])
    except _Bad as e:
        e.parts.append("from")
        raise
    try:
        b = _month(d["to"])
    except _Bad as e:
        e.parts.append("to")
        raise
    if b < a:
        raise _Bad(f"{_q(d['to'])} is before from {_q(d['from'])}", "to")
    return a, b


def month_count(ranges) -> int:
    """Number of distinct months covered by contract-style ranges.

    ``month_count([["2014-08", "2017-12"], ["2016-01", "2018-01"]]) == 42``.
    Raises ScoreInputError on a malformed range.
    """
    if type(ranges) is not list:
        raise ScoreInputError("ranges", f"expected an array, got {_jt(ranges)}")
    ivs = []
    for i, r in enumerate(ranges):
        try:
            ivs.append(_range(r))
        except _Bad as e:
            e.parts.append(i)
            raise ScoreInputError("ranges" + _path(e.parts), e.message) from None
    return count(merge(ivs))


# ---------------------------------------------------------------------------
# Parsing / validation
# ---------------------------------------------------------------------------

_TOP_KEYS = ("year", "birth_date", "insurance", "work_districts", "residences",
             "education", "work_residence", "innovation", "tax", "honors", "detentions")
_INS_KEYS = tuple(t for t, _ in INSURANCE_TYPES)
_PAID_KEYS = ("paid", "back_paid")
_WD_KEYS = ("from", "to", "district")
_RES_KEYS = ("type", "from", "to", "district")
_EDU_KEYS = ("level", "degree", "graduated")
_INNO_KEYS = ("code", "grade", "rank", "amount")
_INNO_REQUIRED = ("code",)
_TAX_KEYS = ("annual", "violations")
_INF = float("inf")
_NUMBER = (int, float)
#: "YYYY" → year for the tax years any application can mention (a constant table)
_YEAR_NUMBERS = {f"{y:04d}": y for y in range(1900, 2200)}
_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


_TOP_SET = frozenset(_TOP_KEYS)


class ScoreInput:
    """A validated score input v1, months already turned into interval lists."""

    __slots__ = ("year", "birth", "insurance", "work_outside", "own", "own_outside", "rent",
                 "education", "work_residence", "innovation", "tax",
                 "violations", "honors", "detentions")

    def __repr__(self):
        return f"<ScoreInput year={self.year} birth={self.birth}>"


def _int(v, lo=0, hi=None):
    if type(v) is not int:
        raise _want(v, "an integer")
    if v < lo or (hi is not None and v > hi):
        raise _Bad(f"{v} is out of range (must be ≥ {lo})" if hi is None
                   else f"{v} is out of range ({lo}…{hi})")
    return v


def _date(s):
    """"YYYY-MM-DD" → (year, month, day)."""
    if type(s) is not str:
        raise _want(s, "a date (YYYY-MM-DD)")
    return _parse_date(s)


@functools.lru_cache(maxsize=65536)  # birth dates repeat; a bad date raises and is not kept
def _parse_date(s):
    if (len(s) == 10 and s[4] == "-" and s[7] == "-" and s.isascii()
            and s[:4].isdigit() and s[5:7].isdigit() and s[8:].isdigit()):
        y, m, d = int(s[:4]), int(s[5:7]), int(s[8:])
        if 1 <= m <= 12 and 1 <= d <= _DAYS[m - 1] and not (
                m == 2 and d == 29 and (y % 4 or (y % 100 == 0 and y % 400))):
            return (y, m, d)
    raise _Bad(f"{_q(s)} is not a date (YYYY-MM-DD)")


def _district(v):
    try:
        return DISTRICTS[v]
    except (KeyError, TypeError):
        pass
    if type(v) is not str:
        raise _want(v, "a district name")
    raise _Bad(f"unknown district {_q(v)}")


def _range_list(lst, field, months_ok=False):
    """An array of ranges (with ``months_ok`` also single months) → merged intervals.

    The loop is the engine's hottest path: the common case (a 2-item list of
    already-seen month strings) is two dict look-ups; anything else falls back
    to the careful parsers, which either accept it or raise with the field path.
    """
    if type(lst) is not list:
        raise _Bad(f"expected an array of {'months' if months_ok else 'ranges'}, "
                   f"got {_jt(lst)}", field)
    M = MONTH_ORDINALS
    ivs = []
    last = -2
    ordered = True  # sorted, disjoint and non-adjacent as given: no merge needed
    for i, r in enumerate(lst):
        tr = type(r)
        if tr is list and len(r) == 2:
            try:
                a = M[r[0]]
                b = M[r[1]]
            except (KeyError, TypeError):
                pass
            else:
                if a <= b:
                    if a <= last + 1:
                        ordered = False
                    last = b
                    ivs.append((a, b))
                    continue
        elif months_ok and tr is str:
            a = M.get(r)
            if a is not None:
                if a <= last + 1:
                    ordered = False
                last = a
                ivs.append((a, a))
                continue
        try:
            if months_ok and tr is str:
                a = b = _month(r)
            else:
                a, b = _range(r)
        except _Bad as e:
            e.parts += (i, field)
            raise
        if a <= last + 1:
            ordered = False
        last = b
        ivs.append((a, b))
    if ordered:
        return ivs
    return merge(ivs)


_INS_SET = frozenset(_INS_KEYS)
_PAID_SET = frozenset(_PAID_KEYS)


def _parse_insurance(ins):
    if type(ins) is not dict:
        raise _want(ins, "an object")
    if ins.keys() != _INS_SET:
        _check_keys(ins, _INS_KEYS)
    out = {}
    M = MONTH_ORDINALS
    prev_raw = prev_pair = None
    for t in _INS_KEYS:
        v = ins[t]
        # Fast path: {"paid": [[from, to], ...], "back_paid": []} with months seen before.
        if type(v) is dict and len(v) == 2:
            try:
                paid = v["paid"]
                back = v["back_paid"]
                if type(paid) is list and type(back) is list and not back:
                    if paid == prev_raw:  # types are usually paid together: same history
                        out[t] = prev_pair  # the very same object: scoring counts it once
                        continue
                    ivs = []
                    last = -2
                    ordered = True
                    for r in paid:
                        if type(r) is not list or len(r) != 2:
                            break
                        a = M[r[0]]
                        b = M[r[1]]
                        if b < a:
                            break
                        if a <= last + 1:
                            ordered = False
                        last = b
                        ivs.append((a, b))
                    else:
                        prev_raw = paid
                        prev_pair = out[t] = (ivs if ordered else merge(ivs), [])
                        continue
            except (KeyError, TypeError):
                pass
        # General path: also reports exactly what is wrong.
        try:
            if type(v) is not dict:
                raise _want(v, "an object with paid and back_paid")
            if v.keys() != _PAID_SET:
                _check_keys(v, _PAID_KEYS)
            out[t] = (_range_list(v["paid"], "paid"),
                      _range_list(v["back_paid"], "back_paid", True))
        except _Bad as e:
            e.parts.append(t)
            raise
    return out


def _segment(r, keys, what):
    """Careful parse of a work district / residence item: (type, first, last, in 城六区)."""
    if type(r) is not dict:
        raise _want(r, f"an object with {what}")
    _check_keys(r, keys)
    t = None
    if "type" in keys:
        t = r["type"]
        if type(t) is not str or t not in RESIDENCE_TYPES:
            raise _Bad(f"unknown residence type {_q(t)} (own, rental, dorm)", "type")
    a, b = _from_to(r)
    try:
        inner = _district(r["district"])
    except _Bad as e:
        e.parts.append("district")
        raise
    return t, a, b, inner


def _parse_work(wds):
    if type(wds) is not list:
        raise _want(wds, "an array")
    out = []
    M = MONTH_ORDINALS
    last = -1
    ordered = True  # as given: sorted and not overlapping
    for i, w in enumerate(wds):
        if type(w) is dict and len(w) == 3:  # + 3 successful look-ups = exactly the keys
            try:
                a = M[w["from"]]
                b = M[w["to"]]
                inner = DISTRICTS[w["district"]]
            except (KeyError, TypeError):
                pass
            else:
                if a <= b:
                    if a <= last:
                        ordered = False
                    last = b
                    out.append((a, b, not inner, i))
                    continue
        try:
            _, a, b, inner = _segment(w, _WD_KEYS, "from, to, district")
        except _Bad as e:
            e.parts.append(i)
            raise
        if a <= last:
            ordered = False
        last = b
        out.append((a, b, not inner, i))
    if not ordered:
        out.sort()  # by first month; an overlap is bad input
        pa, pb, _, pi = out[0]
        for a, b, _, i in out[1:]:
            if a <= pb:
                raise _Bad(f"overlaps work_districts[{pi}] "
                           f"({month_str(a)} … {month_str(min(b, pb))}); "
                           "work districts must not overlap", i)
            if b > pb:
                pb, pi = b, i
    return [(a, b) for a, b, outside, _ in out if outside]


def _parse_residences(rs):
    if type(rs) is not list:
        raise _want(rs, "an array")
    own = []
    own_out = []  # own segments outside 城六区
    rent = []  # rental and dorm
    M = MONTH_ORDINALS
    for i, r in enumerate(rs):
        if type(r) is dict and len(r) == 4:  # + 4 successful look-ups = exactly the keys
            try:
                a = M[r["from"]]
                b = M[r["to"]]
                inner = DISTRICTS[r["district"]]
                t = r["type"]
                known = t in RESIDENCE_TYPES
            except (KeyError, TypeError):
                pass
            else:
                if a <= b and known:
                    if t == "own":
                        own.append((a, b))
                        if not inner:
                            own_out.append((a, b))
                    else:
                        rent.append((a, b))
                    continue
        try:
            t, a, b, inner = _segment(r, _RES_KEYS, "type, from, to, district")
        except _Bad as e:
            e.parts.append(i)
            raise
        if t == "own":
            own.append((a, b))
            if not inner:
                own_out.append((a, b))
        else:
            rent.append((a, b))
    return own, own_out, rent


def _parse_education(ed):
    if ed is None:
        return None
    if type(ed) is not dict:
        raise _want(ed, "an object or null")
    _check_keys(ed, _EDU_KEYS)
    level = ed["level"]
    if level is not None and (type(level) is not str or level not in EDUCATION_LEVELS):
        raise _Bad(f"unknown education level {_q(level)} "
                   f"({', '.join(EDUCATION_LEVELS)} or null)", "level")
    degree = ed["degree"]
    if degree is not None and (type(degree) is not str or degree not in EDUCATION_DEGREES):
        raise _Bad(f"unknown degree {_q(degree)} "
                   f"({', '.join(EDUCATION_DEGREES)} or null)", "degree")
    if level is None and degree is None:
        raise _Bad("level and degree cannot both be null (use education: null)", "level")
    try:
        g = _month(ed["graduated"])
    except _Bad as e:
        e.parts.append("graduated")
        raise
    return (level, degree, g)


def _parse_innovation(items):
    if type(items) is not list:
        raise _want(items, "an array")
    out = []
    for i, it in enumerate(items):
        try:
            if type(it) is not dict:
                raise _want(it, "an object with code")
            _check_keys(it, _INNO_KEYS, _INNO_REQUIRED)
            code = it["code"]
            grade = it.get("grade")
            rank = it.get("rank")
            amount = it.get("amount")
            if grade is not None and type(grade) is not str:
                raise _Bad(f"expected a grade code or null, got {_jt(grade)}", "grade")
            if rank is not None and (type(rank) is not int or rank < 1):
                raise _Bad(f"expected a rank (integer ≥ 1) or null, got {_q(rank)}", "rank")
            if amount is not None and (type(amount) not in (int, float)
                                       or not 0 <= amount < _INF):
                raise _Bad(f"expected an amount in yuan (≥ 0) or null, got {_q(amount)}",
                           "amount")
            if code == EQUITY_FINANCING_CODE:
                if amount is None:
                    raise _Bad(f"required for {code}", "amount")
                out.append((code, None, None, amount))
                continue
            entry = INNOVATION.get(code) if type(code) is str else None
            if entry is None:
                raise _Bad(f"unknown innovation code {_q(code)}", "code")
            grades = entry[1]
            if None in grades:
                grade = None  # the table has no grades: a given grade is ignored
            elif grade is None:
                raise _Bad(f"required for {code} ({', '.join(grades)})", "grade")
            elif grade not in grades:
                raise _Bad(f"unknown grade {_q(grade)} for {code} "
                           f"({', '.join(grades)})", "grade")
            if grades[grade][0][0] is not None and rank is None:
                raise _Bad(f"required for {code}"
                           + (f" {grade}" if grade else "") + " (完成人排名/名次)", "rank")
            out.append((code, grade, rank, amount))
        except _Bad as e:
            e.parts.append(i)
            raise
    return out


def _parse_tax(tax):
    if type(tax) is not dict:
        raise _want(tax, "an object with annual and violations")
    _check_keys(tax, _TAX_KEYS)
    annual = tax["annual"]
    if type(annual) is not dict:
        raise _Bad(f"expected an object (year → yuan), got {_jt(annual)}", "annual")
    out = {}
    for k, v in annual.items():
        y = _YEAR_NUMBERS.get(k) if type(k) is str else None
        if y is None:
            if type(k) is not str or not (len(k) == 4 and k.isascii() and k.isdigit()):
                raise _Bad(f"{_q(k)} is not a year (YYYY)", str(k), "annual")
            y = int(k)
        if type(v) not in _NUMBER or not 0 <= v < _INF:
            raise _Bad(f"expected an amount in yuan (≥ 0), got {_q(v)}", k, "annual")
        out[y] = v
    try:
        violations = _int(tax["violations"])
    except _Bad as e:
        e.parts.append("violations")
        raise
    return out, violations


def _parse_honors(hs):
    if type(hs) is not list:
        raise _want(hs, "an array")
    for i, h in enumerate(hs):
        if type(h) is not str or h not in HONOURS:
            raise _Bad(f"unknown honour code {_q(h)}", i)
    return hs


def validate(data) -> ScoreInput:
    """Check a score input v1 dict and turn it into a ScoreInput.

    Raises ScoreInputError (one line naming the field) on any breach of the contract.
    """
    if type(data) is not dict:
        raise ScoreInputError("input", f"expected an object, got {_jt(data)}")
    si = ScoreInput()
    key = None
    try:
        if data.keys() != _TOP_SET:
            _check_keys(data, _TOP_KEYS)
        key = "year"
        si.year = _int(data["year"], 1000, 9999)
        key = "birth_date"
        si.birth = _date(data["birth_date"])
        key = "insurance"
        si.insurance = _parse_insurance(data["insurance"])
        key = "work_districts"
        si.work_outside = _parse_work(data["work_districts"])
        key = "residences"
        si.own, si.own_outside, si.rent = _parse_residences(data["residences"])
        key = "education"
        si.education = _parse_education(data["education"])
        key = "work_residence"
        wr = data["work_residence"]
        if type(wr) is not bool:
            raise _want(wr, "true or false")
        si.work_residence = wr
        key = "innovation"
        si.innovation = _parse_innovation(data["innovation"])
        key = "tax"
        si.tax, si.violations = _parse_tax(data["tax"])
        key = "honors"
        si.honors = _parse_honors(data["honors"])
        key = "detentions"
        si.detentions = _int(data["detentions"])
    except _Bad as e:
        if key is not None:
            e.parts.append(key)
        raise ScoreInputError(_path(e.parts), e.message) from None
    return si

