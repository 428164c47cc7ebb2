"""Without shared/ (the handbook and the contracts beside the repository) the tests that read
it skip, each with the reason printed, and none fails."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
READERS = ["tests/verifiers/test_rules.py", "tests/verifiers/test_routing.py",
           "tests/scoring/test_examples.py",
           "tests/test_facts.py::test_the_contract_example_filed_as_claims_scores_as_the_contract_says"]


@pytest.mark.no_db
def test_without_shared_the_readers_skip_with_the_reason_and_none_fails(tmp_path):
    env = {**os.environ, "SHARED_DIR": str(tmp_path / "no-shared")}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", *READERS],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    skipped = [line for line in done.stdout.splitlines() if line.startswith("SKIPPED")]
    assert {line.split(":")[0].split()[-1] for line in skipped} >= {
        "tests/verifiers/test_rules.py", "tests/verifiers/test_routing.py", "tests/scoring/test_examples.py"}
    assert all("not found" in line and "no-shared" in line for line in skipped), skipped
    assert " failed" not in done.stdout.splitlines()[-1]
