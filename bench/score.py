"""Scoring engine throughput (run by hand, not a test).

    .venv/bin/python bench/score.py [--n 120000] [--seed 2021] [--keep FILE.jsonl]

1. generates N realistic score inputs (v1) deterministically from the seed;
2. scores them in-process on one core with ``backoffice.scoring.score``;
3. scores the same applications through ``backoffice score --jsonl`` (a subprocess,
   including JSON parsing and writing) and checks both agree.

Prints applications/second for each.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from backoffice.scoring import ENGINE_VERSION, score
from backoffice.scoring.tables import DISTRICTS, EQUITY_FINANCING_CODE, HONOURS, INNOVATION

INNER = [d for d, inner in DISTRICTS.items() if inner and d != "市本级"]
OUTER = [d for d, inner in DISTRICTS.items() if not inner]
TYPES = ("pension", "medical", "unemployment", "injury", "maternity")


def ms(o: int) -> str:
    return f"{o // 12:04d}-{o % 12 + 1:02d}"


def application(rnd: random.Random) -> dict:
    year = rnd.choice((2021, 2021, 2022, 2023, 2024))
    cut = year * 12 - 1
    by = rnd.randint(1972, 1996)
    start = max((by + rnd.randint(21, 28)) * 12 + rnd.randint(0, 11), 1998 * 12)
    start = min(start, cut - 84)  # they qualify: 7 years of insurance

    # employment history: 1-4 jobs with short gaps; work district per job
    jobs, m = [], start
    while m <= cut:
        length = rnd.randint(12, 120)
        district = rnd.choice(INNER + OUTER + ["市本级"])
        jobs.append((m, min(m + length - 1, cut + 3), district))
        m += length + rnd.choice((0, 0, 0, 1, 2, 6))
    paid = [[ms(a), ms(b)] for a, b, _ in jobs]
    insurance = {}
    for t in TYPES:
        ranges = [list(r) for r in paid]
        if t != "pension" and rnd.random() < 0.4:  # other types start a little later
            first = (int(ranges[0][0][:4]) * 12 + int(ranges[0][0][5:]) - 1) + rnd.randint(0, 6)
            ranges[0][0] = ms(min(first, int(ranges[0][1][:4]) * 12 + int(ranges[0][1][5:]) - 1))
        back = []
        if rnd.random() < 0.1:
            a, b = jobs[rnd.randrange(len(jobs))][:2]
            back = [ms(rnd.randint(a, b)) for _ in range(rnd.randint(1, 3))]
        insurance[t] = {"paid": ranges, "back_paid": back}
    work_districts = [{"from": ms(a), "to": ms(b), "district": d} for a, b, d in jobs]

    # housing: renting, maybe a dorm, maybe a flat bought at some point
    residences = []
    buy = rnd.randint(start, cut + 6) if rnd.random() < 0.45 else None
    own_district = rnd.choice(INNER + OUTER)
    if buy is not None:
        residences.append({"type": "own", "from": ms(buy), "to": ms(cut + 12),
                           "district": own_district})
    m = max(start, 2020 * 12 + 7 - rnd.randint(0, 24))
    while m <= cut and (buy is None or m < buy):
        length = rnd.randint(6, 24)
        end = min(m + length - 1, cut + 6, (buy - 1) if buy is not None else 10**9)
        residences.append({"type": rnd.choice(("rental", "rental", "dorm")), "from": ms(m),
                           "to": ms(end), "district": rnd.choice(INNER + OUTER)})
        m = end + 1 + rnd.choice((0, 0, 1, 3))
    rnd.shuffle(residences)

    r = rnd.random()
    if r < 0.1:
        education = None
    else:
        level, degree = rnd.choice([("junior_college", None), ("bachelor", "bachelor"),
                                    ("bachelor", "bachelor"), ("master", "master"),
                                    ("master", "master"), ("doctor", "doctor"),
                                    (None, "bachelor"), ("master", None), ("bachelor", None)])
        grad = start + rnd.randint(-12, 36)
        education = {"level": level, "degree": degree, "graduated": ms(grad - grad % 12 + 6)}

    innovation = []
    if rnd.random() < 0.05:
        code = rnd.choice(sorted(INNOVATION) + [EQUITY_FINANCING_CODE])
        if code == EQUITY_FINANCING_CODE:
            innovation.append({"code": code, "amount": rnd.choice((3e6, 8e6, 25e6, 6e7))})
        else:
            grade = rnd.choice(sorted(INNOVATION[code][1], key=str))
            item = {"code": code, "rank": rnd.randint(1, 20)}
            if grade is not None:
                item["grade"] = grade
            innovation.append(item)

    base = rnd.lognormvariate(10.5, 1.0)
    annual = {str(y): round(base * rnd.uniform(0.7, 1.4), 2)
              for y in range(year - 5, year) if rnd.random() < 0.93}
    return {
        "year": year,
        "birth_date": f"{by}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}",
        "insurance": insurance,
        "work_districts": work_districts,
        "residences": residences,
        "education": education,
        "work_residence": rnd.random() < 0.15,
        "innovation": innovation,
        "tax": {"annual": annual, "violations": 1 if rnd.random() < 0.005 else 0},
        "honors": [rnd.choice(sorted(HONOURS))] if rnd.random() < 0.005 else [],
        "detentions": 1 if rnd.random() < 0.003 else 0,
    }


def generate(n: int, seed: int) -> list[dict]:
    rnd = random.Random(seed)
    return [application(rnd) for _ in range(n)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=120_000)
    ap.add_argument("--seed", type=int, default=2021)
    ap.add_argument("--keep", help="also keep the generated JSONL at this path")
    ap.add_argument("--cpu", type=int, help="pin to this CPU (default: the last allowed one)")
    args = ap.parse_args()

    try:
        os.sched_setaffinity(0, {args.cpu if args.cpu is not None else max(os.sched_getaffinity(0))})
    except (AttributeError, OSError):
        pass

    t0 = time.perf_counter()
    apps = generate(args.n, args.seed)
    print(f"generated {len(apps)} applications (seed {args.seed}) "
          f"in {time.perf_counter() - t0:.1f} s")

    # The corpus is long-lived: move it out of the collector's way, as a worker
    # streaming applications would never hold 120 000 of them at once.
    gc.collect()
    gc.freeze()

    # in-process, best of 3 runs (results kept, as a caller would). Wall clock and
    # this process's CPU time: on a shared machine the CPU figure is the engine's own.
    best = best_cpu = None
    for _ in range(3):
        t0, c0 = time.perf_counter(), time.process_time()
        results = [score(a) for a in apps]
        dt, dc = time.perf_counter() - t0, time.process_time() - c0
        best = dt if best is None or dt < best else best
        best_cpu = dc if best_cpu is None or dc < best_cpu else best_cpu
    n = len(apps)
    print(f"in-process: {n} in {best:.2f} s wall = {n / best:,.0f} applications/s; "
          f"{best_cpu:.2f} s CPU = {n / best_cpu:,.0f} applications/s per CPU-second "
          f"(engine {ENGINE_VERSION}, one core)")

    # through the command
    exe = Path(sys.executable).parent / "backoffice"
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(args.keep) if args.keep else Path(tmp) / "apps.jsonl"
        with open(src, "w", encoding="utf-8") as fh:
            for a in apps:
                fh.write(json.dumps(a, ensure_ascii=False) + "\n")
        out = Path(tmp) / "results.jsonl"
        cmd = [str(exe), "score", "--jsonl", str(src)]
        with open(out, "wb") as fh:
            r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            # inherits this process's single-core affinity
            proc = subprocess.run(cmd, stdout=fh, stderr=subprocess.PIPE)
            dt = time.perf_counter() - t0
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            dc = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
        if proc.returncode != 0:
            print(proc.stderr.decode()[:2000], file=sys.stderr)
            return 1
        with open(out, encoding="utf-8") as fh:
            totals = [json.loads(line)["total"] for line in fh]
    assert totals == [r["total"] for r in results], "command and in-process results differ"
    print(f"command:    {n} in {dt:.2f} s wall = {n / dt:,.0f} applications/s; "
          f"{dc:.2f} s CPU = {n / dc:,.0f} applications/s per CPU-second "
          f"({' '.join(cmd[1:3])}, JSON in and out, process start included, one core)")
    load = ", load average %.2f %.2f %.2f" % os.getloadavg() if hasattr(os, "getloadavg") else ""
    print(f"machine:    {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}{load}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
