"""One direction of imports: a module may import from its own layer or a lower one, never
from a higher one — including imports inside functions, which once held three cycles apart.

The layers, bottom to top:

0. rules and engine — ``verifiers/`` (the handbook as data: reasons, materials, routing,
   working days per queue) and ``backoffice/scoring/`` (the points engine). Pure Python:
   no Flask, no SQLAlchemy, no models (checked in a fresh interpreter below).
1. core and models — ``backoffice/core/``, ``extensions``, ``settings``, ``i18n``,
   ``migrate``, ``reference/data.py`` and every ``*/models.py``.
2. services — everything else in a feature package: ``*/services.py``, ``cases/intake.py``,
   ``cases/clock.py``, ``cases/due.py``, ``applications/scoring_service.py``,
   ``staff/permissions.py``, ``turnaround/figures.py``, ``turnaround/sweep.py``, ...
   They change and flush; they know nothing of requests' views, jobs or commands.
3. jobs — ``queues/`` (RQ jobs, the outbox relay, the periodic schedule) and
   ``backoffice/jobs/services.py`` (what the jobs page reads from RQ).
4. web and command line — ``backoffice/admin/``, ``*/views.py``, ``*/admin.py``,
   ``*/workspace.py``, ``*/api.py``, ``applications/score_views.py``, ``staff/auth.py``,
   ``app.py``, ``cli.py``, ``cliapp.py``, ``*/cli.py``, ``server.py``, ``demo.py``, ``*/demo.py``,
   ``synth/`` (the demo and synthetic-year generators), ``queues/worker.py``, ``queues/cli.py``.

A function-local import is allowed only for a deliberate reason, marked on its line with
``# local import: <why>`` (e.g. a heavy optional library); none may point upwards either.
"""
from __future__ import annotations

import ast
import json
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGES = ("backoffice", "verifiers", "queues")
LAYER_NAMES = ("rules/engine", "core/models", "services", "jobs", "web/CLI")

CORE = {"backoffice", "backoffice.extensions", "backoffice.settings", "backoffice.models", "backoffice.i18n",
        "backoffice.migrate", "backoffice.reference.data"}
WEB = {"backoffice.app", "backoffice.cli", "backoffice.cliapp", "backoffice.server", "backoffice.demo",
       "backoffice.__main__", "backoffice.intake.api", "backoffice.staff.auth",
       "backoffice.applications.score_views", "queues.worker", "queues.cli", "backoffice.scoring.cli",
       "backoffice.scoring.__main__"}
WEB_NAMES = {"views", "admin", "workspace", "cli", "api", "demo", "__main__"}  # by file name, in any package


def _rel(path: pathlib.Path) -> str:
    return str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else pathlib.Path(*path.parts[-2:]))


def layer(module: str) -> int:
    parts = module.split(".")
    if module in WEB or parts[-1] in WEB_NAMES or module.startswith(("backoffice.admin", "backoffice.synth")):
        return 4
    if parts[0] == "verifiers" or module.startswith("backoffice.scoring"):
        return 0
    if module in CORE or parts[-1] == "models" or module.startswith("backoffice.core"):
        return 1
    if parts[0] == "queues" or module == "backoffice.jobs.services":
        return 3
    return 2


def _modules() -> dict[str, pathlib.Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _resolve(target: str, names) -> list[str]:
    """`from a.b import c` names module a.b.c when there is one, else a.b."""
    out = []
    for name in names:
        candidate = f"{target}.{name}"
        out.append(candidate if candidate in MODULES else target)
    return out or [target]


def imports(module: str):
    """(imported module, line, inside a function, the source line) for each import of ours."""
    path = MODULES[module]
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []

    def visit(node, in_function):
        for child in ast.iter_child_nodes(node):
            local = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.Import):
                targets = [a.name for a in child.names]
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")[: len(package.split(".")) - (child.level - 1)]
                    target = ".".join(base + ([child.module] if child.module else []))
                else:
                    target = child.module or ""
                targets = _resolve(target, [a.name for a in child.names])
            else:
                visit(child, local)
                continue
            for target in dict.fromkeys(targets):
                if target.split(".")[0] in PACKAGES:
                    found.append((target, child.lineno, in_function, lines[child.lineno - 1]))

    visit(ast.parse(source), False)
    return found


def _target_layer(target: str) -> int:
    # An imported name that is not a module of ours (e.g. a package attribute) counts as its package.
    while target not in MODULES and "." in target:
        target = target.rpartition(".")[0]
    return layer(target)


def test_the_layer_map_covers_every_module_and_each_layer_has_members():
    layers = {layer(m) for m in MODULES}
    assert layers == {0, 1, 2, 3, 4}
    # Spot checks the rest of the map relies on.
    assert layer("verifiers.routing") == 0 and layer("backoffice.scoring.engine") == 0
    assert layer("backoffice.cases.models") == 1 and layer("backoffice.extensions") == 1
    assert layer("backoffice.cases.services") == 2 and layer("backoffice.cases.intake") == 2
    assert layer("queues.jobs") == 3 and layer("queues.worker") == 4
    assert layer("backoffice.cases.admin") == 4 and layer("backoffice.intake.api") == 4


def test_no_module_imports_from_a_higher_layer():
    upward = []
    for module in MODULES:
        for target, line, local, _text in imports(module):
            if _target_layer(target) > layer(module):
                where = "inside a function" if local else "at module level"
                upward.append(f"{_rel(MODULES[module])}:{line} ({LAYER_NAMES[layer(module)]}) imports "
                              f"{target} ({LAYER_NAMES[_target_layer(target)]}) {where}")
    assert upward == [], "imports from a higher layer:\n" + "\n".join(upward)


def test_function_local_imports_of_our_modules_say_why():
    """Imports inside functions were how cycles hid; the ones left are deliberate and say so."""
    unexplained = [f"{_rel(MODULES[m])}:{line}: {text.strip()}"
                   for m in MODULES for _t, line, local, text in imports(m)
                   if local and "# local import:" not in text]
    assert unexplained == [], "function-local imports without a reason:\n" + "\n".join(unexplained)


def test_no_import_cycles_between_modules():
    graph = {m: {t for t, *_ in imports(m) if t in MODULES and t != m} for m in MODULES}
    # A package's __init__ may re-export its own submodules (verifiers.registry): not a cycle.
    for m in graph:
        graph[m] = {t for t in graph[m] if not (t.startswith(m + ".") and MODULES[m].name == "__init__.py")}
    cycles, state = [], {}

    def walk(node, stack):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join(stack[stack.index(nxt):] + [nxt]))
            elif nxt not in state:
                walk(nxt, stack)
        stack.pop()
        state[node] = 2

    for m in sorted(graph):
        if m not in state:
            walk(m, [])
    assert cycles == [], "import cycles:\n" + "\n".join(cycles)


def test_a_planted_upward_import_is_caught(tmp_path, monkeypatch):
    """The check itself: a rules module importing a model would be reported."""
    fake = tmp_path / "verifiers" / "planted.py"
    fake.parent.mkdir()
    fake.write_text("def f():\n    from backoffice.cases.models import ReviewCase\n    return ReviewCase\n")
    monkeypatch.setitem(MODULES, "verifiers.planted", fake)
    found = imports("verifiers.planted")
    assert found and found[0][0] == "backoffice.cases.models" and found[0][2] is True
    with pytest.raises(AssertionError, match="verifiers/planted.py:2 .rules/engine. imports backoffice.cases.models"):
        test_no_module_imports_from_a_higher_layer()


def test_rules_and_engine_load_without_flask_or_sqlalchemy():
    rules = sorted(m for m in MODULES if layer(m) == 0)
    assert "verifiers.routing" in rules and "backoffice.scoring" in rules
    code = (
        "import importlib, json, sys\n"
        f"for name in {rules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('flask', 'sqlalchemy', 'flask_sqlalchemy', 'flask_admin', 'rq', 'redis'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []
