"""The handbook's worked cases (shared/contracts/examples) and the contract's own
example, each run THROUGH THE COMMAND ``backoffice score FILE``.

Only the keys an ``*.out.json`` pins are compared; numbers exactly, at 2 decimals.
"""

from __future__ import annotations

import json
import re

import pytest

from ._support import SHARED, run_score

EXAMPLES = SHARED / "contracts" / "examples"
CONTRACT = SHARED / "contracts" / "SCORING.md"
MISSING = f"shared/ not found at {SHARED} (clone the repo beside shared/)"


def _cases():
    if not EXAMPLES.is_dir():
        return [pytest.param(None, marks=pytest.mark.skip(reason=MISSING), id="no-shared")]
    return [pytest.param(p, id=p.name[: -len(".in.json")])
            for p in sorted(EXAMPLES.glob("*.in.json"))]


def assert_pinned(expected, got, path="result"):
    """Every key of ``expected`` is in ``got`` with the same value (recursively)."""
    if isinstance(expected, dict):
        assert isinstance(got, dict), f"{path}: expected an object, got {got!r}"
        for key, value in expected.items():
            assert key in got, f"{path}.{key} is missing"
            assert_pinned(value, got[key], f"{path}.{key}")
    elif isinstance(expected, float) or (isinstance(expected, int) and isinstance(got, float)):
        assert isinstance(got, (int, float)) and not isinstance(got, bool), f"{path}: {got!r}"
        assert f"{got:.2f}" == f"{expected:.2f}", f"{path}: {got} != {expected}"
        assert round(got, 2) == got, f"{path}: {got} is not rounded to 2 decimals"
    else:
        assert got == expected, f"{path}: {got!r} != {expected!r}"


@pytest.mark.parametrize("case", _cases())
def test_handbook_example_through_command(case):
    expected = json.loads(case.with_name(case.name.replace(".in.json", ".out.json"))
                          .read_text(encoding="utf-8"))
    proc = run_score(str(case))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert_pinned(expected, json.loads(proc.stdout))


def _contract_example():
    if not CONTRACT.is_file():
        pytest.skip(MISSING)
    blocks = re.findall(r"```json\n(.*?)```", CONTRACT.read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 2, "SCORING.md no longer has its input and result examples"
    return json.loads(blocks[0]), json.loads(blocks[1])


def test_contract_example_through_command(write_json):
    data, expected = _contract_example()
    proc = run_score(write_json(data))
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)
    explanation = expected.pop("explanation")
    assert_pinned(expected, got)
    assert got["total"] == 88.21
    # the contract shows the employment line; ours may add the months after it
    shown = [line for line in explanation if line != "..."]
    for line in shown:
        assert any(g.startswith(line) for g in got["explanation"]), line


def test_contract_example_from_stdin():
    data, expected = _contract_example()
    proc = run_score("-", stdin=json.dumps(data, ensure_ascii=False))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["total"] == expected["total"]


def test_examples_as_jsonl_in_order(tmp_path):
    """All examples in one --jsonl run: one result per line, same order."""
    if not EXAMPLES.is_dir():
        pytest.skip(MISSING)
    cases = sorted(EXAMPLES.glob("*.in.json"))
    lines = [json.dumps(json.loads(p.read_text(encoding="utf-8"))) for p in cases]
    path = tmp_path / "all.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    proc = run_score("--jsonl", str(path))
    assert proc.returncode == 0, proc.stderr
    results = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(results) == len(cases)
    for case, got in zip(cases, results):
        expected = json.loads(case.with_name(case.name.replace(".in.json", ".out.json"))
                              .read_text(encoding="utf-8"))
        assert_pinned(expected, got, case.name)


def test_python_dash_m_runs_the_same_command(write_json):
    import subprocess
    import sys

    data, expected = _contract_example()
    proc = subprocess.run([sys.executable, "-m", "backoffice.scoring", write_json(data)],
                          capture_output=True, text=True, encoding="utf-8", timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["total"] == expected["total"]
