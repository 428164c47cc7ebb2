"""The points engine: score input v1 → score result v1 (shared/contracts/SCORING.md).

Design notes
------------
* Months are ordinals ``year * 12 + month - 1``; a set of months is a sorted
  list of disjoint, non-adjacent inclusive ``(first, last)`` tuples. All
  counting is done on those interval lists, never month by month.
* Every point value is an integer number of *twenty-fourths* of a point
  (3/12 per employment month = 6/24, 1/12 per own month = 2/24, 0.5/12 per
  rental month = 1/24, 10.5 = 252/24 ...). That is exact arithmetic; values
  are rounded half-up to two decimals only when written (``_out``), and the
  total is the exact sum rounded once.
* Pure Python: imports nothing from Flask, SQLAlchemy or RQ.
"""

from __future__ import annotations

import json

from .tables import (
    DISTRICTS,
    EDUCATION,
    EDUCATION_DEGREES,
    EDUCATION_LEVELS,
    EQUITY_FINANCING,
    EQUITY_FINANCING_CODE,
    EQUITY_FINANCING_NAME,
    HONOUR_POINTS,
    HONOURS,
    INNOVATION,
    INSURANCE_TYPES,
    RESIDENCE_TYPES,
)

ENGINE_VERSION = "2021.1"

__all__ = [
    "ENGINE_VERSION",
    "ScoreInput",
    "ScoreInputError",
    "month_count",
    "score",
    "validate",
]


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
# Months and month sets
# ---------------------------------------------------------------------------

def _ord(y, m):
    return y * 12 + m - 1


def month_str(o: int) -> str:
    """Month ordinal → ``"YYYY-MM"``."""
    try:
        return _MONTH_NAMES[o]
    except KeyError:
        return f"{o // 12:04d}-{o % 12 + 1:02d}"


# ordinal → "YYYY-MM" for the months explanations usually print (1990 … 2099)
_MONTH_NAMES = {y * 12 + m: f"{y:04d}-{m + 1:02d}" for y in range(1990, 2100) for m in range(12)}


_MONTHS: dict = {}  # "YYYY-MM" → ordinal, filled on first sight (valid months only)


def _month(s):
    try:
        return _MONTHS[s]
    except (KeyError, TypeError):
        pass
    if type(s) is not str:
        raise _Bad(f"expected a month (YYYY-MM), got {_jt(s)}")
    if (len(s) == 7 and s[4] == "-" and s.isascii()
            and s[:4].isdigit() and s[5:].isdigit()):
        m = int(s[5:])
        if 1 <= m <= 12:
            o = int(s[:4]) * 12 + m - 1
            _MONTHS[s] = o
            return o
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


def _merge(ivs):
    """Sort and merge overlapping or adjacent (first, last) tuples."""
    if len(ivs) < 2:
        return ivs
    ivs = sorted(ivs)
    out = []
    ca, cb = ivs[0]
    for a, b in ivs:
        if a <= cb + 1:
            if b > cb:
                cb = b
        else:
            out.append((ca, cb))
            ca, cb = a, b
    out.append((ca, cb))
    return out


def _count(ivs):
    n = 0
    for a, b in ivs:
        n += b - a + 1
    return n


def _clip(ivs, lo, hi):
    """Months of ``ivs`` inside [lo, hi] (empty when hi < lo)."""
    out = []
    for a, b in ivs:
        if a < lo:
            a = lo
        if b > hi:
            b = hi
        if a <= b:
            out.append((a, b))
    return out


def _count_in(ivs, lo, hi):
    """Months of ``ivs`` inside [lo, hi]."""
    n = 0
    for a, b in ivs:
        if a < lo:
            a = lo
        if b > hi:
            b = hi
        if b >= a:
            n += b - a + 1
    return n


def _subtract(x, y):
    """Months of x not in y (both merged)."""
    if not y or not x:
        return x
    out = []
    j = 0
    ny = len(y)
    for a, b in x:
        while j < ny and y[j][1] < a:
            j += 1
        k = j
        while a <= b:
            if k >= ny or y[k][0] > b:
                out.append((a, b))
                break
            ya, yb = y[k]
            if ya > a:
                out.append((a, ya - 1))
            a = yb + 1
            k += 1
    return out


def _intersect(x, y):
    """Months in both x and y (both merged)."""
    out = []
    i = j = 0
    nx, ny = len(x), len(y)
    while i < nx and j < ny:
        a1, b1 = x[i]
        a2, b2 = y[j]
        a = a1 if a1 > a2 else a2
        b = b1 if b1 < b2 else b2
        if a <= b:
            out.append((a, b))
        if b1 < b2:
            i += 1
        else:
            j += 1
    return out


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
    return _count(_merge(ivs))


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
_YEARS: dict = {}  # "YYYY" → int, filled on first sight
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


_DATES: dict = {}  # "YYYY-MM-DD" → (y, m, d), valid dates only


def _date(s):
    try:
        return _DATES[s]
    except (KeyError, TypeError):
        pass
    if type(s) is not str:
        raise _want(s, "a date (YYYY-MM-DD)")
    if (len(s) == 10 and s[4] == "-" and s[7] == "-" and s.isascii()
            and s[:4].isdigit() and s[5:7].isdigit() and s[8:].isdigit()):
        y, m, d = int(s[:4]), int(s[5:7]), int(s[8:])
        if 1 <= m <= 12 and 1 <= d <= _DAYS[m - 1] and not (
                m == 2 and d == 29 and (y % 4 or (y % 100 == 0 and y % 400))):
            if len(_DATES) < 200_000:
                _DATES[s] = (y, m, d)
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
    M = _MONTHS
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
    return _merge(ivs)


_INS_SET = frozenset(_INS_KEYS)
_PAID_SET = frozenset(_PAID_KEYS)


def _parse_insurance(ins):
    if type(ins) is not dict:
        raise _want(ins, "an object")
    if ins.keys() != _INS_SET:
        _check_keys(ins, _INS_KEYS)
    out = {}
    M = _MONTHS
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
                        prev_pair = out[t] = (ivs if ordered else _merge(ivs), [])
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
    M = _MONTHS
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
    M = _MONTHS
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
        y = _YEARS.get(k) if type(k) is str else None
        if y is None:
            if type(k) is not str or not (len(k) == 4 and k.isascii() and k.isdigit()):
                raise _Bad(f"{_q(k)} is not a year (YYYY)", str(k), "annual")
            y = _YEARS[k] = int(k)
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


# ---------------------------------------------------------------------------
# Scoring
# ---------------------------------------------------------------------------

FLOOR = _ord(1998, 7)          # 从1998年7月1日起
PERIOD_A_END = _ord(2020, 7)   # 2020年7月(含)以前
PERIOD_B_START = _ord(2020, 8)  # 2020年8月(含)以后
WORK_RESIDENCE_START = _ord(2018, 1)  # 自2018年1月1日起
U = 24  # internal unit: 1 point = 24 units


def _half_up_hundredths(n):
    """n units (1/24 point) → round-half-up(n/24, 2 dp) × 100, as an int.

    Equal to Decimal(n/24).quantize(Decimal("0.01"), ROUND_HALF_UP) × 100 but
    computed on integers (no binary float or 28-digit context in between).
    """
    if n >= 0:
        return (n * 50 + 6) // 12
    return -((-n * 50 + 6) // 12)


_OUT: dict = {}
_FMT: dict = {}


def _out(n):
    """Units → float rounded half-up to 2 decimals (the only rounding)."""
    try:
        return _OUT[n]
    except KeyError:
        v = _half_up_hundredths(n) / 100
        if len(_OUT) < 100_000:
            _OUT[n] = v
        return v


def _fmt(n):
    """Units → "12.34" (half-up)."""
    try:
        return _FMT[n]
    except KeyError:
        q = _half_up_hundredths(n)
        v = f"-{-q // 100}.{-q % 100:02d}" if q < 0 else f"{q // 100}.{q % 100:02d}"
        if len(_FMT) < 100_000:
            _FMT[n] = v
        return v


def _fmt_ranges(ivs, limit=4):
    if not ivs:
        return "无"
    parts = [month_str(a) if a == b else f"{month_str(a)}~{month_str(b)}"
             for a, b in ivs[:limit]]
    if len(ivs) > limit:
        parts.append(f"等 {len(ivs)} 段")
    return ", ".join(parts)


def _innovation_points(code, grade, rank, amount):
    """(points, readable table row) for one verified award."""
    if code == EQUITY_FINANCING_CODE:
        for minimum, pts, label in EQUITY_FINANCING:
            if amount >= minimum:
                return pts, f"{EQUITY_FINANCING_NAME} 融资 {_yuan(amount)} 元: {label}"
        return 0, f"{EQUITY_FINANCING_NAME} 融资 {_yuan(amount)} 元: 不足 500 万元"
    name, grades = INNOVATION[code]
    for lo, hi, pts, label in grades[grade]:
        if lo is None or lo <= rank <= hi:
            return pts, f"{name} {label}"
    return 0, f"{name} 第 {rank} 名不在附件1 任何档次内"


_INS_LABEL = dict(INSURANCE_TYPES)
_AGE_LINES: dict = {}


def _yuan(a):
    return str(a) if type(a) is int or a != a // 1 else str(int(a))


def _education_row(level, degree):
    """(points, years, (level, degree) of the table row used)."""
    row = EDUCATION.get((level, degree))
    if row is not None:
        return row[0], row[1], (level, degree)
    # "Any other pairing ... is scored as the better of its parts." (SCORING.md 3)
    a = EDUCATION[(level, None)]
    b = EDUCATION[(None, degree)]
    return (a[0], a[1], (level, None)) if a[0] >= b[0] else (b[0], b[1], (None, degree))


def _edu_label(level, degree):
    parts = []
    if level is not None:
        parts.append(EDUCATION_LEVELS[level] + "学历")
    if degree is not None:
        parts.append(EDUCATION_DEGREES[degree] + "学位")
    return " + ".join(parts)


def _education_rows():
    """(level, degree) → (units, years, label) for every accepted pairing."""
    out = {}
    for level in (None, *EDUCATION_LEVELS):
        for degree in (None, *EDUCATION_DEGREES):
            if level is None and degree is None:
                continue
            pts, years, row = _education_row(level, degree)
            units = pts * U
            assert units == int(units), (level, degree, pts)
            label = _edu_label(level, degree)
            if row != (level, degree):
                label += f" (按较高一项 {_edu_label(*row)} 计)"
            out[(level, degree)] = (int(units), years, label)
    return out


_EDUCATION_ROWS = _education_rows()


def score(data) -> dict:
    """Score one application: a score input v1 dict (or a ScoreInput) → score result v1.

    Raises ScoreInputError when the input does not follow the contract.
    """
    si = data if type(data) is ScoreInput else validate(data)
    Y = si.year
    cutoff = Y * 12 - 1  # December of Y-1: "截止到积分落户申报工作启动的上一年度12月31日"
    a_end = PERIOD_A_END if PERIOD_A_END < cutoff else cutoff
    expl = []
    ex = expl.append

    # 1. 合法稳定就业 -------------------------------------------------------
    # "从1998年7月1日起, 截止到...上一年度12月31日, 在养老、医疗、失业、工伤、生育保险中,
    #  选取申请人在京累计缴费时间最长的险种月数除以12 ... 不包括...补缴月数。"
    best_n = -1
    best_t = None
    counts = []
    back_note = ""
    ins = si.insurance
    prev = None
    for t in _INS_KEYS:
        pb = ins[t]
        if pb is prev:
            counts.append(n)  # same history as the previous type (shared by validate)
            continue
        prev = pb
        paid, back = pb
        n = _count_in(paid, FLOOR, cutoff)
        if back and n:
            n0 = n
            n = _count(_subtract(_clip(paid, FLOOR, cutoff), back))
            if n != n0:
                back_note += f" {_INS_LABEL[t][:2]} {n0 - n}"
        counts.append(n)
        if n > best_n:
            best_n, best_t = n, t
    paid, back = ins[best_t]
    emp = _clip(paid, FLOOR, cutoff)  # the employment type's counted months
    if back:
        emp = _subtract(emp, back)
    E = best_n
    emp_units = E * 6  # E × 3/12 point
    ex(f"合法稳定就业: {month_str(FLOOR)}~{month_str(cutoff)} 各险种计分月数 养老 {counts[0]}, "
       f"医疗 {counts[1]}, 失业 {counts[2]}, 工伤 {counts[3]}, 生育 {counts[4]}"
       + (f" (已除去补缴月数:{back_note})" if back_note else ""))
    ex(f"合法稳定就业: {_INS_LABEL[best_t]} {E} 个月 × 3/12 = {_fmt(emp_units)}"
       + (f" ({_fmt_ranges(emp)})" if E else ""))

    # 2. 合法稳定住所 -------------------------------------------------------
    # "2020年7月(含)以前在租赁住所、单位宿舍的连续居住年限, 无需填报, 系统将以申请人同期
    #  在京合法稳定就业年限计算。" / "当连续居住年限多于合法稳定就业年限, 以申请人合法稳定
    #  就业年限作为连续居住年限计算, 优先计算自有住所积分。"
    E_A = _count_in(emp, FLOOR, a_end)
    E_B = E - E_A
    own_set = _clip(_merge(si.own), 0, cutoff)
    O_A = _count_in(own_set, 0, a_end)
    O_B = _count_in(own_set, PERIOD_B_START, cutoff)
    rent_all = _merge(si.rent)
    rent_b = _clip(rent_all, PERIOD_B_START, cutoff)
    rent_b = _subtract(rent_b, own_set)
    R_B = _count(rent_b)
    own_A = O_A if O_A < E_A else E_A
    rent_A = E_A - own_A
    own_B = O_B if O_B < E_B else E_B
    rent_B = E_B - own_B
    if R_B < rent_B:
        rent_B = R_B
    own = own_A + own_B
    rent = rent_A + rent_B
    housing_units = 2 * own + rent if own + rent >= 12 else 0
    ex(f"合法稳定住所 2020-07 及以前: 就业 {E_A} 个月, 自有 {O_A} 个月 → "
       f"自有 {own_A} + 租赁/宿舍(以就业计) {rent_A}")
    if cutoff >= PERIOD_B_START:
        ex(f"合法稳定住所 2020-08 起: 就业 {E_B} 个月, 自有 {O_B} 个月, "
           f"租赁/宿舍(非自有) {R_B} 个月 → 自有 {own_B} + 租赁/宿舍 {rent_B}")
    if own + rent >= 12:
        ex(f"合法稳定住所: 自有 {own} 个月 × 1/12 + 租赁/宿舍 {rent} 个月 × 0.5/12 "
           f"= {_fmt(housing_units)}")
    else:
        ex(f"合法稳定住所: 自有 {own} + 租赁/宿舍 {rent} = {own + rent} 个月, "
           "不满 12 个月 (需连续居住满1年), 积 0.00")

    # 3. 教育背景 -----------------------------------------------------------
    # "取得学历(学位)期间连续缴纳社会保险年限及连续居住年限的积分与学历(学位)积分不累计";
    # 表中 "自毕业时间起前3年/前4年" — the window ends before the graduation month.
    edu_units = 0
    ded_units = 0
    ed = si.education
    if ed is None:
        ex("教育背景: 无")
    else:
        level, degree, g = ed
        units, years, label = _EDUCATION_ROWS[(level, degree)]
        if g > cutoff:
            ex(f"教育背景: {label}, 毕业 {month_str(g)} 晚于 {month_str(cutoff)}, 积 0.00")
        else:
            edu_units = units
            w0, w1 = g - 12 * years, g - 1
            emp_w = _count_in(emp, w0, w1)
            emp_a = _clip(emp, FLOOR, a_end)
            # own, or (A and employment month), or (B and rental/dorm) — SCORING.md rule 3
            res_set = _merge(own_set + emp_a + rent_b)
            res_w = _count_in(res_set, w0, w1)
            if res_w > emp_w:
                res_w = emp_w
            ded_units = -(6 * emp_w + res_w)
            ex(f"教育背景: {label} = {_fmt(edu_units)} (毕业 {month_str(g)})")
            ex(f"教育背景扣除: 毕业前 {years} 年 {month_str(w0)}~{month_str(w1)}, "
               f"就业 {emp_w} 个月 × 3/12 + 居住 {res_w} 个月 × 0.5/12 = {_fmt(ded_units)}")

    # 4. 职住区域 -----------------------------------------------------------
    # "上述情况分别累计12个月按满1年确定积分, 不足12个月不积分, 最高加12分。"
    # "申报本项指标的申请人在...上一年度12月, 应在本市城六区之外其他行政区自有住所居住"
    wr_units = 0
    J = L = 0
    if not si.work_residence:
        ex("职住区域: 未选择以职住区域指标积分")
    else:
        oo = _clip(_merge(si.own_outside), WORK_RESIDENCE_START, cutoff)
        if not oo or oo[-1][1] != cutoff:
            ex(f"职住区域: {month_str(cutoff)} 不在城六区以外自有住所居住, 积 0.00")
        else:
            wo = si.work_outside  # sorted, never overlapping (validated)
            J = _count(_intersect(oo, wo))
            L = _count(oo) - J
            pts = 3 * (J // 12) + 2 * ((L + J % 12) // 12)
            if pts > 12:
                pts = 12
            wr_units = pts * U
            ex(f"职住区域: {month_str(WORK_RESIDENCE_START)}~{month_str(cutoff)} "
               f"职住均在城六区外 {J} 个月, 仅居住在城六区外 {L} 个月; "
               f"3 × ({J} // 12) + 2 × (({L} + {J} % 12) // 12) = {pts}"
               + (" (最高 12)" if pts == 12 else ""))

    # 5. 创新创业 -----------------------------------------------------------
    # "上述创新创业指标各项加分不累计, 同时符合多项积分条件的, 只计最高分。"
    inno = 0
    if not si.innovation:
        ex("创新创业: 无")
    else:
        best_label = None
        for code, grade, rank, amount in si.innovation:
            p, lbl = _innovation_points(code, grade, rank, amount)
            if best_label is None or p > inno:
                inno, best_label = p, lbl
        more = f" (共 {len(si.innovation)} 项, 只计最高)" if len(si.innovation) > 1 else ""
        ex(f"创新创业: 附件1 {best_label} = {inno}{more}")
    inno_units = inno * U

    # 6. 纳税 ---------------------------------------------------------------
    # "申请人须每年...在京缴纳个人所得税, 且纳税额大于“0”。上述个人所得税纳税额每1年在
    #  10万元及以上的, 加2分, 最高加6分" / "近5年有涉税违法行为记录的, 每条记录减12分。"
    tax = si.tax
    amounts = (tax.get(Y - 3, 0), tax.get(Y - 2, 0), tax.get(Y - 1, 0))
    if amounts[0] > 0 and amounts[1] > 0 and amounts[2] > 0:
        qual = (amounts[0] >= 100000) + (amounts[1] >= 100000) + (amounts[2] >= 100000)
        cond = f"三年均 > 0, {qual} 年 ≥ 10 万 × 2"
    else:
        qual = 0
        cond = "并非三年均 > 0, 不加分"
    v = si.violations
    tax_units = (2 * qual - 12 * v) * U
    ex(f"纳税: {Y - 3} 年 {_yuan(amounts[0])} 元, {Y - 2} 年 {_yuan(amounts[1])} 元, "
       f"{Y - 1} 年 {_yuan(amounts[2])} 元; {cond}; 涉税违法 {v} 次 × -12 → {_fmt(tax_units)}")

    # 7. 年龄 ---------------------------------------------------------------
    # "年龄不超过45周岁的, 加20分; 年龄在45周岁以上的, 每增加一岁(含不满一岁)少加4分。"
    # "截至积分落户申报工作启动的上一年度1月1日" — the table equals 20 - 4 × ((Y-2) - 出生年 - 45).
    by, bm, bd = si.birth
    age = (Y - 1) - by - (1 if (bm, bd) > (1, 1) else 0)
    a = (Y - 2) - by
    age_pts = 20 - 4 * (a - 45) if a > 45 else 20
    if age_pts < 0:
        age_pts = 0
    age_units = age_pts * U
    key = (Y, by, age)
    line = _AGE_LINES.get(key)
    if line is None:
        line = (f"年龄: {by} 年出生, {Y - 1}-01-01 满 {age} 周岁; 年龄表 ({Y - 2} - {by} = {a}"
                + (f" > 45, 20 - 4 × {a - 45}" if a > 45 else " ≤ 45") + f") → {age_pts}")
        if len(_AGE_LINES) < 100_000:
            _AGE_LINES[key] = line
    ex(line)

    # 8. 荣誉表彰 -----------------------------------------------------------
    if si.honors:
        hon_units = HONOUR_POINTS * U
        ex(f"荣誉表彰: 附件2 {HONOURS[si.honors[0]]} = {HONOUR_POINTS}"
           + (f" (共 {len(si.honors)} 项, 不累计)" if len(si.honors) > 1 else ""))
    else:
        hon_units = 0
        ex("荣誉表彰: 无")

    # 9. 守法记录 -----------------------------------------------------------
    det = si.detentions
    law_units = -30 * det * U
    ex(f"守法记录: 行政拘留 {det} 次 × -30 = {_fmt(law_units)}")

    total = (emp_units + housing_units + edu_units + ded_units + wr_units
             + inno_units + tax_units + age_units + hon_units + law_units)
    ex(f"总积分: 各项精确值之和 = {_fmt(total)}")

    return {
        "year": Y,
        "total": _out(total),
        "indicators": {
            "employment": {"points": _out(emp_units), "months": E, "type": best_t},
            "housing": {"points": _out(housing_units), "own_months": own,
                        "rent_months": rent},
            "education": {"points": _out(edu_units), "deduction": _out(ded_units)},
            "work_residence": {"points": _out(wr_units), "both_months": J,
                               "live_months": L},
            "innovation": {"points": _out(inno_units)},
            "tax": {"points": _out(tax_units), "qualifying_years": qual,
                    "violations": v},
            "age": {"points": _out(age_units), "age": age},
            "honors": {"points": _out(hon_units)},
            "law_abiding": {"points": _out(law_units), "detentions": det},
        },
        "explanation": expl,
        "engine_version": ENGINE_VERSION,
    }
