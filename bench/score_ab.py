"""Two versions of the scoring engine, alternately, in one process (run by hand, not a test).

    .venv/bin/python bench/score_ab.py OLD_SCORING_DIR [--n 30000] [--rounds 7]

OLD_SCORING_DIR is a copy of another version's ``backoffice/scoring`` package (e.g.
``git archive <commit> backoffice/scoring | tar -x -C /tmp/old``, then
``/tmp/old/backoffice/scoring``); it is imported under the name ``scoring_before``. Both
score the same generated applications (bench/score.py's generator, validation included),
round after round in alternation, on one pinned core; CPU time per round (process time),
so other processes on a busy box weigh on both alike. Checks both give the same results.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from score import generate  # noqa: E402  (bench/score.py)

from backoffice.scoring import score as score_now  # noqa: E402


def load_package(directory: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, directory / "__init__.py",
                                                  submodule_search_locations=[str(directory)])
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("before", type=Path)
    ap.add_argument("--n", type=int, default=30_000)
    ap.add_argument("--seed", type=int, default=2021)
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    try:
        os.sched_setaffinity(0, {max(os.sched_getaffinity(0))})
    except (AttributeError, OSError):
        pass
    score_before = load_package(args.before, "scoring_before").score
    apps = generate(args.n, args.seed)
    gc.collect()
    gc.freeze()
    assert [score_before(a) for a in apps[:2000]] == [score_now(a) for a in apps[:2000]]
    best = {"before": float("inf"), "now": float("inf")}
    for round_ in range(args.rounds):
        for label, fn in (("before", score_before), ("now", score_now)) if round_ % 2 == 0 else \
                (("now", score_now), ("before", score_before)):
            start = time.process_time()
            for a in apps:
                fn(a)
            best[label] = min(best[label], time.process_time() - start)
    for label in ("before", "now"):
        print(f"{label:6}: best of {args.rounds}: {best[label]:.2f} s CPU for {args.n} = "
              f"{args.n / best[label]:,.0f} applications/s per CPU-second")
    print(f"now / before: {best['before'] / best['now']:.3f}× the throughput; "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
