#!/usr/bin/env python3
"""Convert our bilingual call sites to Flask-Babel catalogs, and keep the English catalog.

    .venv/bin/python tools/i18n_codemod.py            # rewrite, merge the .po, report
    .venv/bin/python tools/i18n_codemod.py --dry-run  # report only, write nothing
    .venv/bin/python tools/i18n_codemod.py --po-only  # re-extract and rewrite the .po only

Deterministic and idempotent: a second run on its own output changes nothing.

(a) Rewrites, with the Chinese as the msgid:
    Python   bi("中文", "English")                  -> _l("中文")
             text("中文", "English")                -> _("中文")
             "English" if is_english() else "中文"  -> _("中文")   (also `if english`, `if en`
                                                       where en = is_english(), `if not …`)
             f-strings and "%s" % x                 -> _("共%(count)s件", count=...)
             text(a, b) with non-literal data       -> (b if is_english() else a)
             render_template(..., t=text)           -> the keyword is dropped
    Jinja    t('中文', 'English')                   -> _('中文')
             'English' if en else '中文'            -> _('中文')   (is_english(), english, en)
             ('… %s' % x) if en else ('…%s' % x)    -> _('…%(x)s', x=x)
             {% if en %}English{% else %}中文{% endif %}
                                                    -> {% trans trimmed %}中文{% endtrans %}
             {% set en = is_english() %}            -> removed once nothing reads `en`
    The same Chinese with two different English texts keeps the first English (in sorted
    file order) under the bare msgid and gives the others a context: pgettext("English", "中文").
(b) Writes backoffice/translations/en/LC_MESSAGES/messages.po: every msgid extracted from the tree
    (babel.cfg), English from this run's pairs, else from the existing catalog. Entries no longer
    in the code are dropped. Sorted, no line numbers, fixed header: merges stay small.
(c) Reports every bilingual pattern it left alone (file:line), for a hand fix.
"""
from __future__ import annotations

import argparse
import ast
import io
import re
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PO_PATH = ROOT / "backoffice" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
PY_DIRS = ("backoffice", "queues")
TEMPLATE_DIR = "templates"
I18N_MODULE = "backoffice.i18n"
# Rules and engine may not import backoffice.i18n (tests/test_layers.py): left to data labels.
PY_EXCLUDE = ("backoffice/i18n.py", "backoffice/scoring/")
KEYWORDS = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2),
            "_l": None, "lazy_gettext": None, "lazy_pgettext": ((1, "c"), 2)}
FIXED_DATE = datetime(2026, 1, 1, tzinfo=timezone.utc)
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


@dataclass
class Pair:
    zh: str
    en: str
    where: str
    context: str | None = None


@dataclass
class Result:
    pairs: list[Pair] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)


# ----------------------------------------------------------------------------- helpers

def placeholder_name(src: str, taken: dict[str, str]) -> str:
    """A stable %(name)s for an expression: its last dotted part, else its words."""
    src = src.strip()
    m = re.fullmatch(r"[A-Za-z_][\w.]*", src)
    if m:
        name = src.rsplit(".", 1)[-1]
    else:
        m = re.match(r"\s*([A-Za-z_][\w.]*)\s*\|\s*(\w+)", src)  # jinja: x.rows|length
        if m:
            name = m.group(1).rsplit(".", 1)[-1] + "_" + m.group(2)
        else:
            name = re.sub(r"\W+", "_", src).strip("_").lower()[:30].strip("_") or "value"
    if not name.isidentifier() or name[0].isdigit():
        name = "v_" + name
    base, n = name, 2
    while name in taken and taken[name] != src:
        name, n = f"{base}{n}", n + 1
    taken[name] = src
    return name


def py_literal(s: str, quote: str = '"') -> str:
    out = [quote]
    for ch in s:
        if ch == "\\":
            out.append("\\\\")
        elif ch == quote:
            out.append("\\" + quote)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 32:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    out.append(quote)
    return "".join(out)


def jinja_literal(s: str) -> str:
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n") + "'"


_PCT = re.compile(r"%(?:\((\w+)\))?([-#0 +]*\d*(?:\.\d+)?)([sdifr%])")


# ----------------------------------------------------------------------------- Python

class PyString:
    """A string expression made of literals, f-strings or '...' % args; None if not one."""

    def __init__(self, parts: list, src_of=None):
        self.parts = parts  # list of str | (expr_src, conversion, spec)

    @classmethod
    def parse(cls, node, src_of):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return cls([node.value], src_of)
        if isinstance(node, ast.JoinedStr):
            parts = []
            for v in node.values:
                if isinstance(v, ast.Constant):
                    parts.append(v.value)
                elif isinstance(v, ast.FormattedValue):
                    spec = None
                    if v.format_spec is not None:
                        if not all(isinstance(x, ast.Constant) for x in v.format_spec.values):
                            return None
                        spec = "".join(x.value for x in v.format_spec.values)
                    conv = chr(v.conversion) if v.conversion and v.conversion > 0 else None
                    parts.append((src_of(v.value), conv, spec))
                else:
                    return None
            return cls(parts, src_of)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) \
                and isinstance(node.left, ast.Constant) and isinstance(node.left.value, str):
            args = node.right.elts if isinstance(node.right, ast.Tuple) else [node.right]
            if isinstance(node.right, ast.Dict):
                return None
            fmt, parts, i, pos = node.left.value, [], 0, 0
            for m in _PCT.finditer(fmt):
                parts.append(fmt[pos:m.start()])
                pos = m.end()
                if m.group(3) == "%":
                    parts.append("%")
                    continue
                if m.group(1) or i >= len(args):
                    return None
                spec = m.group(2) + (m.group(3) if m.group(3) not in "sr" else "")
                parts.append((src_of(args[i]), "r" if m.group(3) == "r" else None, spec or None))
                i += 1
            parts.append(fmt[pos:])
            if i != len(args):
                return None
            return cls(parts, src_of)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = cls.parse(node.left, src_of), cls.parse(node.right, src_of)
            if left and right:
                return cls(left.parts + right.parts, src_of)
        return None

    def exprs(self) -> list[tuple]:
        return [p for p in self.parts if not isinstance(p, str)]

    def render(self, names: dict[tuple, str], escape_pct: bool) -> str:
        out = []
        for p in self.parts:
            if isinstance(p, str):
                out.append(p.replace("%", "%%") if escape_pct else p)
            else:
                out.append(f"%({names[p]})s")
        return "".join(out)


_PAIR = re.compile(r"^(?P<zh>.*[\u3400-\u9fff].*?)\s+/\s+(?P<en>[^\u3400-\u9fff]*[A-Za-z][^\u3400-\u9fff]*)$", re.S)


def split_pair(node, src_of):
    """"中文 / English" (a literal or an f-string) -> (PyString zh, PyString en), else None."""
    whole = PyString.parse(node, src_of)
    if whole is None:
        return None
    # the " / " must be in one literal part, once
    hits = [i for i, p in enumerate(whole.parts) if isinstance(p, str) and " / " in p]
    if len(hits) != 1 or whole.parts[hits[0]].count(" / ") != 1:
        return None
    i = hits[0]
    left_text, right_text = whole.parts[i].split(" / ")
    zh = PyString(whole.parts[:i] + [left_text])
    en = PyString([right_text] + whole.parts[i + 1:])
    zh_plain = "".join(p for p in zh.parts if isinstance(p, str))
    en_plain = "".join(p for p in en.parts if isinstance(p, str))
    if not CJK.search(zh_plain) or CJK.search(en_plain) or not re.search(r"[A-Za-z]{2}", en_plain):
        return None
    zh.parts = _strip(zh.parts, right=True)
    en.parts = _strip(en.parts, right=False)
    return zh, en


def _strip(parts, right):
    parts = list(parts)
    if right and parts and isinstance(parts[-1], str):
        parts[-1] = parts[-1].rstrip()
    if not right and parts and isinstance(parts[0], str):
        parts[0] = parts[0].lstrip()
    return [p for p in parts if p != ""]


def kwarg_source(expr: tuple) -> str:
    src, conv, spec = expr
    if conv == "r":
        src = f"repr({src})"
    elif conv == "s":
        src = f"str({src})"
    elif conv == "a":
        src = f"ascii({src})"
    if spec:
        src = f"format({src}, {py_literal(spec)})"
    return src


class PyFile:
    def __init__(self, path: Path, rel: str):
        self.path, self.rel = path, rel
        self.source = path.read_text(encoding="utf-8")
        self.tree = ast.parse(self.source)
        self.lines = self.source.splitlines(keepends=True)
        self.line_starts = [0]
        for line in self.lines:
            self.line_starts.append(self.line_starts[-1] + len(line))

    def offset(self, lineno: int, col_bytes: int) -> int:
        line = self.lines[lineno - 1]
        return self.line_starts[lineno - 1] + len(line.encode("utf-8")[:col_bytes].decode("utf-8"))

    def span(self, node) -> tuple[int, int]:
        return self.offset(node.lineno, node.col_offset), self.offset(node.end_lineno, node.end_col_offset)

    def src(self, node) -> str:
        a, b = self.span(node)
        return self.source[a:b]

    def strings(self) -> list[tuple[int, int, str]]:
        """(start, end, quote) of every string token (an f-string is one token before 3.12)."""
        if not hasattr(self, "_strings"):
            import tokenize
            out = []
            for tok in tokenize.generate_tokens(io.StringIO(self.source).readline):
                if tok.type == tokenize.STRING:
                    a = self.line_starts[tok.start[0] - 1] + tok.start[1]
                    b = self.line_starts[tok.end[0] - 1] + tok.end[1]
                    out.append((a, b, tok.string.lstrip("fFrRbBuU")[:1]))
            self._strings = out
        return self._strings

    def indent_of(self, lineno: int) -> str:
        line = self.lines[lineno - 1]
        return line[: len(line) - len(line.lstrip())]


def i18n_aliases(tree) -> tuple[dict[str, str], list[ast.ImportFrom]]:
    aliases, nodes = {}, []
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == I18N_MODULE and node.level == 0:
            nodes.append(node)
            for a in node.names:
                aliases[a.asname or a.name] = a.name
    # A merge can drop the import line and keep the calls: a shim name bound by nothing else in
    # the module (sqlalchemy's text is bound by its import) is ours.
    bound = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)) and getattr(node, "module", None) != I18N_MODULE:
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bound.add(node.id)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    for name in ("bi", "text", "is_english", "N_"):
        if name in used and name not in bound and name not in aliases:
            aliases[name] = name
    return aliases, nodes


def english_flag_names(tree, aliases) -> set[str]:
    """Names that hold is_english(): `en = is_english()`, and parameters called `english`."""
    names = {"english"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) \
                and isinstance(node.value.func, ast.Name) and aliases.get(node.value.func.id) == "is_english":
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


def underscore_scopes(pf: "PyFile", names=("_", "_l")) -> list[tuple[int, int]]:
    """Spans where `_`/`_l` is some other value: a function binding it (a comprehension's
    `for k, _ in` is a scope of its own and does not count), the whole module when the module
    binds or imports it from elsewhere."""
    comp_targets = set()
    for n in ast.walk(pf.tree):
        if isinstance(n, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            for gen in n.generators:
                comp_targets.update(id(x) for x in ast.walk(gen.target))
    spans = []

    def binds(scope) -> bool:
        stack = list(ast.iter_child_nodes(scope))
        while stack:
            n = stack.pop()
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
                if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and n.name in names:
                    return True
                continue
            if isinstance(n, ast.Name) and n.id in names and isinstance(n.ctx, ast.Store) and id(n) not in comp_targets:
                return True
            if isinstance(n, ast.arg) and n.arg in names:
                return True
            if isinstance(n, (ast.Import, ast.ImportFrom)) and getattr(n, "module", None) != I18N_MODULE \
                    and any((a.asname or a.name) in names for a in n.names):
                return True
            stack.extend(ast.iter_child_nodes(n))
        return False

    if binds(pf.tree):
        return [(0, len(pf.source))]
    for n in ast.walk(pf.tree):
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            if any(a.arg in names for a in n.args.args + n.args.kwonlyargs + n.args.posonlyargs) or binds(n):
                spans.append(pf.span(n))
    return spans


def imported_elsewhere(tree, names) -> bool:
    return any(isinstance(n, (ast.Import, ast.ImportFrom)) and getattr(n, "module", None) != I18N_MODULE
               and any((a.asname or a.name) in names for a in n.names) for n in ast.walk(tree))


def english_test(node, aliases, flags) -> bool | None:
    """True if `node` tests for English, False if for Chinese (`not …`), None otherwise."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        inner = english_test(node.operand, aliases, flags)
        return None if inner is None else not inner
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.args \
            and aliases.get(node.func.id) == "is_english":
        return True
    if isinstance(node, ast.Name) and node.id in flags:
        return True
    return None


def is_data_label_pair(en_node, zh_node) -> bool:
    """`x.label_en if english else x.label_zh` and the like: reference data, stays."""
    def attr(n):
        if isinstance(n, ast.Attribute):
            return n.attr
        if isinstance(n, ast.Subscript) and isinstance(n.slice, ast.Constant):
            return str(n.slice.value)
        return None
    a, b = attr(en_node), attr(zh_node)
    return bool(a and b and re.search(r"(^|_)en$", a) and re.search(r"(^|_)zh$", b)) or \
        bool(a and b and a.upper().endswith("_EN") and a[:-3] == b)


def convert_py(pf: PyFile, result: Result, names_gettext: tuple[str, str]) -> str:
    aliases, import_nodes = i18n_aliases(pf.tree)
    flags = english_flag_names(pf.tree, aliases)
    g, lazy = names_gettext
    edits: list[tuple[int, int, str]] = []
    lazy_used = eager_used = False

    def where(node):
        return f"{pf.rel}:{node.lineno}"

    def build(func: str, zh: PyString, en: PyString, node, col: int) -> str | None:
        zh_exprs, en_exprs = zh.exprs(), en.exprs()
        key = lambda e: e  # noqa: E731
        # the English may leave a value out, never bring one the Chinese has not
        if not {e[0] for e in en_exprs} <= {e[0] for e in zh_exprs}:
            result.problems.append(f"{where(node)}: the Chinese and English use different values: {pf.src(node)[:120]!r}")
            return None
        taken: dict[str, str] = {}
        names = {}
        for e in zh_exprs + [e for e in en_exprs if e not in zh_exprs]:
            # the same value written twice (with another format) shares its name
            same = next((names[x] for x in names if x[0] == e[0]), None)
            names[e] = same or placeholder_name(e[0], taken)
        has_vars = bool(zh_exprs or en_exprs)
        msgid = zh.render(names, has_vars)
        msgstr = en.render(names, has_vars)
        if not msgstr.strip() and msgid.strip():
            result.problems.append(f"{where(node)}: no English: {pf.src(node)[:120]!r}")
            return None
        if not msgid.strip():
            result.problems.append(f"{where(node)}: no Chinese: {pf.src(node)[:120]!r}")
            return None
        result.pairs.append(Pair(msgid, msgstr, where(node)))
        kwargs = []
        seen = set()
        for e in zh_exprs + en_exprs:
            if names[e] in seen:
                continue
            seen.add(names[e])
            kwargs.append(f"{names[e]}={kwarg_source(e)}")
        return call_text(func, msgid, kwargs, col, quote_for(node))

    def quote_for(node) -> str:
        a, b = pf.span(node)
        for x, y, q in pf.strings():
            if x < a and b <= y:
                return "'" if q == '"' else '"'
        return '"'

    handled: list[tuple[int, int]] = []

    for node in ast.walk(pf.tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and aliases.get(node.func.id) == "N_" and len(node.args) == 2:
            # N_("待领取", "Open"): a data label marked for extraction; its English goes to the catalog
            zh, en = PyString.parse(node.args[0], pf.src), PyString.parse(node.args[1], pf.src)
            if zh is None or en is None or zh.exprs() or en.exprs():
                result.problems.append(f"{where(node)}: N_() takes two plain literals")
                continue
            a, b = pf.span(node)
            result.pairs.append(Pair(zh.render({}, False), en.render({}, False), where(node)))
            edits.append((a, b, f"{node.func.id}({py_literal(zh.render({}, False), quote_for(node))})"))
            handled.append((a, b))
            continue
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and aliases.get(node.func.id) in ("bi", "text"):
            kind = aliases[node.func.id]
            if len(node.args) != 2 or node.keywords:
                result.problems.append(f"{where(node)}: {kind}() with unexpected arguments")
                continue
            zh = PyString.parse(node.args[0], pf.src)
            en = PyString.parse(node.args[1], pf.src)
            a, b = pf.span(node)
            col = a - pf.line_starts[node.lineno - 1]
            z, e = node.args
            if isinstance(z, ast.IfExp) and isinstance(e, ast.IfExp) and pf.src(z.test) == pf.src(e.test):
                # text("甲" if c else "乙", "A" if c else "B") -> (_("甲") if c else _("乙"))
                func = lazy if kind == "bi" else g
                parts = [(PyString.parse(z.body, pf.src), PyString.parse(e.body, pf.src)),
                         (PyString.parse(z.orelse, pf.src), PyString.parse(e.orelse, pf.src))]
                if all(x and y for x, y in parts):
                    built = [build(func, x, y, node, col) for x, y in parts]
                    if all(built):
                        edits.append((a, b, f"({built[0]} if {pf.src(z.test)} else {built[1]})"))
                        handled.append((a, b))
                        lazy_used |= kind == "bi"
                        eager_used |= kind == "text"
                        continue
            if zh is None or en is None:
                if kind == "text" and not zh and not en and not _has_str(node.args[0]) and not _has_str(node.args[1]):
                    # two data values: the data-label choice
                    edits.append((a, b, f"({pf.src(node.args[1])} if is_english() else {pf.src(node.args[0])})"))
                    handled.append((a, b))
                    continue
                result.problems.append(f"{where(node)}: {kind}() of a value that is not a string literal: "
                                       f"{pf.src(node)[:120]!r}")
                continue
            new = build(lazy if kind == "bi" else g, zh, en, node, col)
            if new is not None:
                edits.append((a, b, new))
                handled.append((a, b))
                if kind == "bi":
                    lazy_used = True
                else:
                    eager_used = True
        elif isinstance(node, ast.IfExp):
            test = english_test(node.test, aliases, flags)
            if test is None:
                continue
            en_node, zh_node = (node.body, node.orelse) if test else (node.orelse, node.body)
            if is_data_label_pair(en_node, zh_node):
                continue
            if not _has_str(en_node) and not _has_str(zh_node):
                continue  # a choice between data (label_en/label_zh tables): reference data may stay
            zh = PyString.parse(zh_node, pf.src)
            en = PyString.parse(en_node, pf.src)
            if zh is None or en is None:
                result.problems.append(f"{where(node)}: a language test the codemod cannot convert: "
                                       f"{pf.src(node)[:120]!r}")
                continue
            a, b = pf.span(node)
            col = a - pf.line_starts[node.lineno - 1]
            new = build(g, zh, en, node, col)
            if new is not None:
                edits.append((a, b, new))
                handled.append((a, b))
                eager_used = True

    # "中文 / English" in one literal (messages): _("中文") inside functions; module-level
    # constants are reported (an eager _() there would be evaluated once, in Chinese).
    if not pf.rel.endswith("/cli.py") and not pf.rel.endswith("cli.py"):
        docstrings = {id(n.body[0].value) for n in ast.walk(pf.tree)
                      if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                      and n.body and isinstance(n.body[0], ast.Expr)}
        in_function = set()
        for fn in ast.walk(pf.tree):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                in_function.update(id(x) for x in ast.walk(fn))
        inner = set()
        for n in ast.walk(pf.tree):
            if isinstance(n, ast.JoinedStr):
                inner.update(id(x) for x in n.values)
            if isinstance(n, ast.FormattedValue):
                inner.update(id(x) for x in ast.walk(n.value) if isinstance(x, ast.JoinedStr))
        for node in ast.walk(pf.tree):
            if id(node) in docstrings or id(node) in inner or not isinstance(node, (ast.Constant, ast.JoinedStr)):
                continue
            split = split_pair(node, pf.src)
            if split is None:
                continue
            zh, en = split
            a, b = pf.span(node)
            if any(x <= a and b <= y for x, y in handled):
                continue
            if id(node) not in in_function:
                result.problems.append(f"{where(node)}: a module-level \"中文 / English\" constant: "
                                       f"{pf.src(node)[:100]!r}")
                continue
            col = a - pf.line_starts[node.lineno - 1]
            built = build(g, zh, en, node, col)
            if built is not None:
                edits.append((a, b, built))
                handled.append((a, b))
                eager_used = True

    # render_template(..., t=text): templates no longer call t()
    for node in ast.walk(pf.tree):
        if isinstance(node, ast.Call):
            for kw in node.keywords:
                if kw.arg == "t" and isinstance(kw.value, ast.Name) and aliases.get(kw.value.id) == "text":
                    a, b = pf.span(kw)
                    m = re.compile(r"\s*,[ \t]*").match(pf.source, b)
                    if m:
                        b = m.end()
                    else:
                        m2 = re.search(r",\s*$", pf.source[:a])
                        if m2:
                            a = m2.start()
                    edits.append((a, b, ""))
                    handled.append((a, b))
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Name) \
                and aliases.get(node.value.id) == "text" and len(node.targets) == 1 \
                and isinstance(node.targets[0], ast.Subscript):
            a, b = pf.span(node)
            line_a = pf.line_starts[node.lineno - 1]
            line_b = pf.line_starts[node.end_lineno]
            if pf.source[line_a:a].strip() == "" and pf.source[b:line_b].strip() == "":
                edits.append((line_a, line_b, ""))
                handled.append((line_a, line_b))

    # outermost edits only (a converted call cannot contain another: its arguments are literals)
    edits.sort(key=lambda e: (e[0], -e[1]))
    kept, last_end = [], -1
    for e in edits:
        if e[0] >= last_end:
            kept.append(e)
            last_end = e[1]
    pf.edit_spans = [(a, b) for a, b, text_ in kept if text_]
    new_source = pf.source
    for a, b, text_ in reversed(kept):
        new_source = new_source[:a] + text_ + new_source[b:]
    if new_source == pf.source:
        # nothing converted: still drop shim imports nothing uses any more
        used = {n.id for n in ast.walk(pf.tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        stale = [a for node in import_nodes for a in node.names
                 if a.name in ("bi", "text") and (a.asname or a.name) not in used]
        if not stale:
            return pf.source
    return fix_imports(new_source, pf.rel, g, lazy, eager_used, lazy_used)


def _has_str(node) -> bool:
    return any(isinstance(n, (ast.Constant, ast.JoinedStr)) and isinstance(getattr(n, "value", ""), str)
               for n in ast.walk(node))


def call_text(func: str, msgid: str, kwargs: list[str], col: int, quote: str = '"') -> str:
    one = f"{func}({py_literal(msgid, quote)}{''.join(', ' + k for k in kwargs)})"
    if col + len(one) <= 110 or len(msgid) <= 30 or quote != '"':
        return one
    # long: split the msgid into implicitly concatenated pieces, one per line
    pad = " " * (col + len(func) + 1)
    pieces, width = [], max(30, 100 - col - len(func))
    rest = msgid
    while rest:
        cut = len(rest) if len(rest) <= width else _cut(rest, width)
        pieces.append(rest[:cut])
        rest = rest[cut:]
    body = ("\n" + pad).join(py_literal(p) for p in pieces)
    tail = "".join(",\n" + pad + k for k in kwargs)
    return f"{func}({body}{tail})"


def _cut(s: str, width: int) -> int:
    """Cut after punctuation or a space near `width`, never inside a %(name)s."""
    best = None
    for i in range(width, max(width // 2, 1), -1):
        if s[i - 1] in " ，。；：、,.;:）)" and not re.search(r"%\([^)]*$", s[:i]):
            best = i
            break
    if best is None:
        best = width
        while re.search(r"%\([^)]*$", s[:best]) or re.search(r"%\(\w+\)$", s[:best]):
            best += 1
    return best


def fix_imports(source: str, rel: str, g: str, lazy: str, eager_used: bool, lazy_used: bool) -> str:
    tree = ast.parse(source)
    aliases, nodes = i18n_aliases(tree)
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    wanted: dict[str, str | None] = {}
    for node in nodes:
        for a in node.names:
            local = a.asname or a.name
            if a.name in ("bi", "text", "is_english") and local not in used:
                continue
            wanted[a.name if not a.asname else f"{a.name} as {a.asname}"] = None
    bound_elsewhere = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)) and getattr(node, "module", None) != I18N_MODULE:
            bound_elsewhere.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound_elsewhere.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bound_elsewhere.add(node.id)
    # every name of backoffice.i18n the module reads and nothing else binds (a merge may have
    # dropped its import line)
    for local in (g, lazy):  # the names this run wrote (checked free where they are used)
        if local in used:
            wanted.setdefault(local, None)
    for local in ("_", "_l", "N_", "is_english", "data_label", "pgettext", "lazy_pgettext", "quote"):
        if local in used and local not in bound_elsewhere and local not in wanted:
            if local in ("_", "_l") and local not in (g, lazy):
                continue  # `_` is some other value in this module
            wanted.setdefault(local, None)
    names = sorted(wanted, key=lambda s: (not s.startswith("_"), s))
    line = f"from {I18N_MODULE} import {', '.join(names)}\n" if wanted else ""
    lines = source.splitlines(keepends=True)
    if nodes:
        first, *others = nodes
        for node in reversed(others):
            del lines[node.lineno - 1:node.end_lineno]
        lines[first.lineno - 1:first.end_lineno] = [line] if line else []
    elif line:
        # after the last top-level import of the module's header
        last = 0
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                last = node.end_lineno
            elif last and not isinstance(node, ast.Expr):
                break
        if last == 0:
            doc = tree.body[0].end_lineno if tree.body and isinstance(tree.body[0], ast.Expr) else 0
            last = doc
        lines.insert(last, line)
    return "".join(lines)


# ----------------------------------------------------------------------------- Jinja

JSTR = r"""(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")"""
FLAG = r"(?:is_english\(\)|english|en)"


def jinja_value(lit: str) -> str:
    return ast.literal_eval(lit)


def balanced(s: str, i: int) -> int:
    """Index just past the bracket group opening at s[i]."""
    depth, q = 0, None
    j = i
    while j < len(s):
        c = s[j]
        if q:
            if c == "\\":
                j += 2
                continue
            if c == q:
                q = None
        elif c in "'\"":
            q = c
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    return -1


class JString:
    """A Jinja string operand: 'lit' or ('fmt' % args); parts like PyString."""

    def __init__(self, parts):
        self.parts = parts

    @classmethod
    def parse(cls, src: str):
        src = src.strip()
        if re.fullmatch(JSTR, src):
            return cls([jinja_value(src)])
        m = re.fullmatch(r"\(\s*(" + JSTR + r")\s*%\s*(.+)\)", src, re.S)
        if not m:
            return None
        fmt, arg = jinja_value(m.group(1)), m.group(2).strip()
        if arg.startswith("(") and balanced(arg, 0) == len(arg):
            args = split_args(arg[1:-1])
        else:
            args = [arg]
        parts, i, pos = [], 0, 0
        for pm in _PCT.finditer(fmt):
            parts.append(fmt[pos:pm.start()])
            pos = pm.end()
            if pm.group(3) == "%":
                parts.append("%")
                continue
            if pm.group(1) or i >= len(args):
                return None
            spec = pm.group(2) + (pm.group(3) if pm.group(3) != "s" else "")
            parts.append((args[i].strip(), None, spec or None))
            i += 1
        parts.append(fmt[pos:])
        return cls(parts) if i == len(args) else None

    def exprs(self):
        return [p for p in self.parts if not isinstance(p, str)]

    def render(self, names):
        out = []
        for p in self.parts:
            if isinstance(p, str):
                out.append(p.replace("%", "%%"))  # Jinja's newstyle gettext always formats
            else:
                spec = p[2] or "s"
                out.append(f"%({names[p]}){spec if spec[-1] in 'sdif' else spec + 's'}")
        return "".join(out)


def split_args(s: str) -> list[str]:
    out, depth, q, cur = [], 0, None, []
    for c in s:
        if q:
            cur.append(c)
            if c == q:
                q = None
            continue
        if c in "'\"":
            q = c
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == "," and depth == 0:
            out.append("".join(cur))
            cur = []
            continue
        cur.append(c)
    if "".join(cur).strip():
        out.append("".join(cur))
    return out


OPERAND = r"(?:" + JSTR + r"|\(\s*" + JSTR + r"\s*%\s*(?:\((?:[^()'\"]|" + JSTR + r"|\([^()]*\))*\)|[\w.|]+)\s*\))"
T_CALL = re.compile(r"(?<![\w.])t\(\s*(" + JSTR + r")\s*,\s*(" + JSTR + r")\s*\)", re.S)
IF_EN = re.compile(r"(" + OPERAND + r")\s+if\s+(not\s+)?" + FLAG + r"\s+else\s+(" + OPERAND + r")", re.S)
IF_BLOCK = re.compile(r"\{%(-?)\s*if\s+(not\s+)?" + FLAG + r"\s*(-?)%\}((?:(?!\{%).)*?)\{%(-?)\s*else\s*(-?)%\}"
                      r"((?:(?!\{%).)*?)\{%(-?)\s*endif\s*(-?)%\}", re.S)
SET_EN = re.compile(r"[ \t]*\{%-?\s*set\s+en\s*=\s*is_english\(\)\s*-?%\}[ \t]*\n?")
_WS = re.compile(r"\s*\n\s*")


def convert_template(path: Path, rel: str, result: Result) -> str:
    source = path.read_text(encoding="utf-8")
    new = source

    def line_of(s: str, pos: int) -> int:
        return s.count("\n", 0, pos) + 1

    def gettext_call(zh: JString, en: JString, where: str, raw: str) -> str | None:
        if not {e[0] for e in en.exprs()} <= {e[0] for e in zh.exprs()}:
            result.problems.append(f"{where}: the Chinese and English use different values: {raw[:120]!r}")
            return None
        taken: dict[str, str] = {}
        names = {}
        for e in zh.exprs() + en.exprs():
            names.setdefault(e, placeholder_name(e[0], taken))
        msgid, msgstr = zh.render(names), en.render(names)
        if not msgstr.strip():
            result.problems.append(f"{where}: no English: {raw[:120]!r}")
            return None
        result.pairs.append(Pair(msgid, msgstr, where))
        kwargs, seen = [], set()
        for e in zh.exprs() + en.exprs():
            if names[e] not in seen:
                seen.add(names[e])
                kwargs.append(f"{names[e]}={e[0]}")
        return f"_({jinja_literal(msgid)}{''.join(', ' + k for k in kwargs)})"

    def sub_t(m):
        zh, en = JString([jinja_value(m.group(1))]), JString([jinja_value(m.group(2))])
        out = gettext_call(zh, en, f"{rel}:{line_of(new, m.start())}", m.group(0))
        return out if out is not None else m.group(0)

    new = T_CALL.sub(sub_t, new)

    def sub_if(m):
        a, negated, b = m.group(1), m.group(2), m.group(3)
        en_src, zh_src = (b, a) if negated else (a, b)
        zh, en = JString.parse(zh_src), JString.parse(en_src)
        where = f"{rel}:{line_of(new, m.start())}"
        if zh is None or en is None:
            result.problems.append(f"{where}: a language test the codemod cannot convert: {m.group(0)[:120]!r}")
            return m.group(0)
        out = gettext_call(zh, en, where, m.group(0))
        return out if out is not None else m.group(0)

    new = IF_EN.sub(sub_if, new)

    def sub_block(m):
        negated = bool(m.group(2))
        en_raw, zh_raw = (m.group(7), m.group(4)) if negated else (m.group(4), m.group(7))
        where = f"{rel}:{line_of(new, m.start())}"
        conv = trans_block(zh_raw, en_raw, where, result, m.group(1), m.group(9))
        return conv if conv is not None else m.group(0)

    new = IF_BLOCK.sub(sub_block, new)

    # `{% set en = is_english() %}` goes once nothing reads `en`
    if SET_EN.search(new):
        rest = SET_EN.sub("", new)
        if not re.search(r"(\{\{|\{%)[^}]*(?<![\w.'\"])en(?![\w'\"])[^}]*(\}\}|%\})", rest):
            new = rest
    return new


def _join(m) -> str:
    """A line break between two Chinese characters is no space; elsewhere one space."""
    s, a, b = m.string, m.start(), m.end()
    before = s[a - 1] if a else ""
    after = s[b] if b < len(s) else ""
    wide = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef“”‘’]")
    return "" if wide.match(before or " ") and wide.match(after or " ") else " "


def trans_block(zh_raw: str, en_raw: str, where: str, result: Result, lead: str, trail: str) -> str | None:
    exprs: dict[str, str] = {}
    taken: dict[str, str] = {}

    def prepare(raw: str) -> str | None:
        out, pos = [], 0
        for m in re.finditer(r"\{\{-?\s*(.*?)\s*-?\}\}", raw, re.S):
            text_ = raw[pos:m.start()]
            out.append(text_.replace("%", "%%"))
            expr = m.group(1)
            if "|" in expr and not re.fullmatch(r"[\w.]+(\s*\|\s*\w+)*", expr):
                return None
            name = placeholder_name(expr, taken)
            exprs[name] = expr
            out.append("%(" + name + ")s")
            pos = m.end()
        out.append(raw[pos:].replace("%", "%%"))
        return _WS.sub(_join, "".join(out)).strip()

    zh, en = prepare(zh_raw), prepare(en_raw)
    if zh is None or en is None:
        result.problems.append(f"{where}: a language block the codemod cannot convert")
        return None
    if set(re.findall(r"%\((\w+)\)s", zh)) != set(re.findall(r"%\((\w+)\)s", en)):
        result.problems.append(f"{where}: the Chinese and English blocks use different values")
        return None
    if not en:
        result.problems.append(f"{where}: no English in a language block")
        return None
    result.pairs.append(Pair(zh, en, where))
    binds = ", ".join(f"{n}={e}" for n, e in exprs.items() if n != e)
    body = zh.replace("%%", "%")
    for n in exprs:
        body = body.replace(f"%({n})s", "{{ " + n + " }}")
    head = "{%" + lead + " trans trimmed" + (" " + binds if binds else "") + " %}"
    return head + body + "{% endtrans " + trail + "%}"


# ----------------------------------------------------------------------------- residue report

RESIDUE_PY = re.compile(r"(?<![\w.])(bi|text)\(")  # language tests are reported by the conversion itself
RESIDUE_HTML = re.compile(r"(?<![\w.])t\(|is_english\(\)|\bif\s+(not\s+)?(english|en)\b")
DATA_OK = re.compile(r"label_en\s+if\s+(not\s+)?\w+\s+else\s+[\w.]+label_zh|_EN\b|\blabel\(english\)|"
                     r"label_en|label_zh|\bdef\s+is_english|english=is_english\(\)|"
                     r"import .*is_english")


def residue(rel: str, text_: str, pattern) -> list[str]:
    out = []
    imported = set(re.findall(r"\b(bi|text)\b", " ".join(re.findall(r"from backoffice\.i18n import ([^\n]+)", text_))))
    for i, line in enumerate(text_.splitlines(), 1):
        m = pattern.search(line)
        if m and m.group(1) in ("bi", "text") and m.group(1) not in imported and rel.endswith(".py"):
            continue
        if m and not DATA_OK.search(line):
            s = line.strip()
            if s.startswith("#") or "sqlalchemy" in s or re.search(r"\b(sa|sql|sqlalchemy)\.text\(", s):
                continue
            out.append(f"{rel}:{i}: {s[:140]}")
    return out


# ----------------------------------------------------------------------------- catalogue

def method_map():
    return [("backoffice/**.py", "python"), ("queues/**.py", "python"), ("templates/**.html", "jinja2")]


def extract(root: Path = ROOT) -> dict[tuple[str | None, str], list[str]]:
    """msgid (with context) -> locations, as pybabel extract -F babel.cfg finds them."""
    from babel.messages.extract import extract_from_dir

    found: dict[tuple[str | None, str], list[str]] = defaultdict(list)
    options = {"templates/**.html": {"extensions": "jinja2.ext.i18n", "trimmed": "false"}}
    for filename, lineno, message, comments, context in extract_from_dir(
            str(root), method_map=method_map(), options_map=options, keywords=KEYWORDS,
            comment_tags=("TRANSLATORS:",), strip_comment_tags=True):
        if isinstance(message, tuple):
            message = message[0]
        if not message:
            continue
        found[(context, message)].append(f"{filename}:{lineno}")
    return found


def read_catalog(path: Path = PO_PATH):
    from babel.messages.pofile import read_po
    if not path.exists():
        from babel.messages.catalog import Catalog
        return Catalog(locale="en")
    with path.open("rb") as handle:
        return read_po(handle, locale="en")


def write_catalog(found, translations: dict[tuple[str | None, str], str], path: Path = PO_PATH) -> None:
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import write_po

    catalog = Catalog(locale="en", domain="messages", project="hukou-backoffice", version="1",
                      creation_date=FIXED_DATE, revision_date=FIXED_DATE,
                      language_team="hukou back office", last_translator="tools/i18n_codemod.py",
                      msgid_bugs_address="", copyright_holder="", fuzzy=False)
    for (context, msgid) in sorted(found, key=lambda k: (k[1], k[0] or "")):
        catalog.add(msgid, translations.get((context, msgid), ""), context=context)
    buf = io.BytesIO()
    write_po(buf, catalog, width=100, no_location=True, omit_header=False, sort_output=True,
             include_previous=False)
    text_ = buf.getvalue().decode("utf-8")
    # the header's generator line names the Babel version: drop it so a Babel upgrade is no diff
    text_ = re.sub(r'"Generated-By: .*\\n"\n', "", text_)
    text_ = re.sub(r"^# Translations template for .*\n|^# Copyright .*\n|^# FIRST AUTHOR.*\n", "", text_,
                   flags=re.M)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text_, encoding="utf-8")


# ----------------------------------------------------------------------------- main

def py_files(root: Path):
    for d in PY_DIRS:
        for p in sorted((root / d).rglob("*.py")):
            rel = p.relative_to(root).as_posix()
            if any(rel == e or rel.startswith(e) for e in PY_EXCLUDE):
                continue
            yield p, rel


def run(root: Path = ROOT, write: bool = True, po_only: bool = False) -> Result:
    result = Result()
    contents: dict[str, str] = {}
    if not po_only:
        for path, rel in py_files(root):
            source = path.read_text(encoding="utf-8")
            if "backoffice.i18n" not in source and not re.search(r"\bif\s+(not\s+)?english\b", source) \
                    and not re.search(r"[\u3400-\u9fff][^\"'\n]* / [A-Za-z]", source):
                continue
            pf = PyFile(path, rel)
            attempt = Result()
            new = convert_py(pf, attempt, ("_", "_l"))
            blocked = underscore_scopes(pf)
            if any(x <= a and b <= y for a, b in getattr(pf, "edit_spans", []) for x, y in blocked):
                # `_` means something else where a string is: gettext / lazy_gettext by name
                if imported_elsewhere(pf.tree, ("gettext", "lazy_gettext")):
                    result.problems.append(f"{rel}: `_` and `gettext` are both taken; convert this file by hand")
                    contents[rel] = source
                    continue
                pf = PyFile(path, rel)
                attempt = Result()
                new = convert_py(pf, attempt, ("gettext", "lazy_gettext"))
            result.pairs += attempt.pairs
            result.problems += attempt.problems
            contents[rel] = new
            if new != source:
                ast.parse(new)  # never write a file that no longer parses
                result.changed.append(rel)
                if write:
                    path.write_text(new, encoding="utf-8")
        for path in sorted((root / TEMPLATE_DIR).rglob("*.html")):
            rel = path.relative_to(root).as_posix()
            source = path.read_text(encoding="utf-8")
            new = convert_template(path, rel, result)
            contents[rel] = new
            if new != source:
                result.changed.append(rel)
                if write:
                    path.write_text(new, encoding="utf-8")

    # the same Chinese with different English: the first (sorted by place) keeps the bare msgid
    existing = read_catalog(root / PO_PATH.relative_to(ROOT))
    translations: dict[tuple[str | None, str], str] = {}
    for m in existing:
        if m.id and m.string and not m.fuzzy:
            translations[(m.context, m.id)] = m.string
    by_zh: dict[str, list[Pair]] = defaultdict(list)
    for p in sorted(result.pairs, key=lambda p: p.where):
        by_zh[p.zh].append(p)
    conflicts = []
    for zh, pairs in by_zh.items():
        # the English used most often keeps the bare msgid (ties: the first place in file order)
        counts: dict[str, int] = defaultdict(int)
        for p in pairs:
            counts[p.en] += 1
        first = translations.get((None, zh)) or max(counts, key=lambda en: (counts[en], -[q.en for q in pairs].index(en)))
        translations.setdefault((None, zh), first)
        for p in pairs:
            if p.en != translations[(None, zh)]:
                conflicts.append(p)
    if conflicts and write and not po_only:
        apply_contexts(root, conflicts)
    for p in conflicts:
        translations[(p.en, p.zh)] = p.en
    if write or po_only:
        found = extract(root) if write else {}
        write_catalog(found, translations, root / PO_PATH.relative_to(ROOT))

    for path, rel in py_files(root):
        result.problems += residue(rel, contents.get(rel) or path.read_text(encoding="utf-8"), RESIDUE_PY)
    for path in sorted((root / TEMPLATE_DIR).rglob("*.html")):
        rel = path.relative_to(root).as_posix()
        result.problems += residue(rel, contents.get(rel) or path.read_text(encoding="utf-8"), RESIDUE_HTML)
    return result


def apply_contexts(root: Path, conflicts: list[Pair]) -> None:
    """Give the conflicting call sites pgettext("English", "中文") (files were just rewritten)."""
    by_file: dict[str, list[Pair]] = defaultdict(list)
    for p in conflicts:
        by_file[p.where.rsplit(":", 1)[0]].append(p)
    for rel, pairs in by_file.items():
        path = root / rel
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        is_py = rel.endswith(".py")
        for p in pairs:
            lineno = int(p.where.rsplit(":", 1)[1])
            for i in range(lineno - 1, min(lineno + 3, len(lines))):
                lit = py_literal(p.zh) if is_py else jinja_literal(p.zh)
                ctx = py_literal(p.en) if is_py else jinja_literal(p.en)
                pat = re.compile(r"(?<![\w.])(_l|_|gettext|lazy_gettext)\(" + re.escape(lit))
                m = pat.search(lines[i])
                if m:
                    func = {"_": "pgettext", "gettext": "pgettext", "_l": "lazy_pgettext",
                            "lazy_gettext": "lazy_pgettext"}[m.group(1)]
                    lines[i] = lines[i][:m.start()] + f"{func}({ctx}, {lit}" + lines[i][m.end():]
                    break
        text_ = "".join(lines)
        if is_py:
            text_ = ensure_import(text_, {"pgettext", "lazy_pgettext"} & set(re.findall(r"\b(lazy_pgettext|pgettext)\(", text_)))
        path.write_text(text_, encoding="utf-8")


def ensure_import(source: str, names: set[str]) -> str:
    tree = ast.parse(source)
    _, nodes = i18n_aliases(tree)
    have = {a.asname or a.name for n in nodes for a in n.names}
    missing = names - have
    if not missing or not nodes:
        return source
    node = nodes[0]
    all_names = sorted({(a.name if not a.asname else f"{a.name} as {a.asname}") for a in node.names} | missing,
                       key=lambda s: (s.lstrip("_") == s, s))
    lines = source.splitlines(keepends=True)
    lines[node.lineno - 1:node.end_lineno] = [f"from {I18N_MODULE} import {', '.join(all_names)}\n"]
    return "".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dry-run", action="store_true", help="report only, write nothing")
    parser.add_argument("--po-only", action="store_true", help="re-extract and rewrite the .po only")
    args = parser.parse_args(argv)
    result = run(write=not args.dry_run, po_only=args.po_only)
    for rel in result.changed:
        print(f"{'would rewrite' if args.dry_run else 'rewrote'} {rel}")
    print(f"{len(result.pairs)} strings converted")
    if result.problems:
        print(f"\n{len(result.problems)} places left for a hand fix:")
        for p in sorted(set(result.problems)):
            print("  " + p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
