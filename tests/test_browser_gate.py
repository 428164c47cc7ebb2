"""Without chromium the browser tests skip with the reason — but in CI (CI=true) they fail,
so a browser that could not be installed never passes for a green run."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run_without_chromium(tmp_path, **env):
    environment = {k: v for k, v in os.environ.items() if k != "CI"}  # CI runs this test too
    environment.update(CHROMIUM=str(tmp_path / "no-chromium"), **env)
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
                           "tests/browser/test_shell.py"],
                          cwd=ROOT, env=environment, capture_output=True, text=True, timeout=600)


@pytest.mark.no_db
def test_without_chromium_browser_tests_skip_with_the_reason_outside_ci(tmp_path):
    done = _run_without_chromium(tmp_path)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "2 skipped" in done.stdout.splitlines()[-1]
    assert f"{tmp_path / 'no-chromium'} not installed" in done.stdout


@pytest.mark.no_db
def test_without_chromium_browser_tests_fail_in_ci(tmp_path):
    done = _run_without_chromium(tmp_path, CI="true")
    assert done.returncode != 0
    assert "2 error" in done.stdout.splitlines()[-1] and "skipped" not in done.stdout.splitlines()[-1]
    assert "CI=true but" in done.stdout
