"""Sweep benchmarks: a sweep as one run, from 10^4 configurations through the batch to 10^6 in the library.

    python benchmarks/run.py sweep           # full size (a few minutes; run it under nice)
    python benchmarks/run.py --smoke sweep   # a few seconds

Rows (see benchmarks/run.py):
* ``followerlab.sweep.run_sweep`` for notebook 02 (weak fraction × query rate × cluster size ×
  planning time × routing mode, a Latin hypercube) and notebook 03 (placement × fsync × write
  rate × batch × jitter) at 10^4, 10^5 and 10^6 configurations (smoke: 10^3): expand +
  evaluate + Pareto front + parquet, the time per configuration and the share of evaluate
  (target at 10^6: < 60 s with the front, issue 13);
* the batch end to end (full size only): ``followerlab batch data/scenarios/sweeps.yaml`` once
  per notebook (one sweep run each, 14,112 and 10,800 configurations), time from the batch's
  start to the run's written results *excluding the kernel start* (papermill's start to the
  first cell), per configuration (target <= 1 ms);
* the ratio to a grid of one papermill run per point (``benchmarks/bench_batch.py`` measures
  ~1.8 s per point; here the kernel start of one run stands in for that per-point cost).
"""

from __future__ import annotations

import json
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SPEC_02 = {"method": "lhs", "seed": 1, "axes": {
    "weak_fraction": {"range": [0, 1]}, "query_rate_per_s": {"range": [1, 500], "log": True},
    "nodes": {"range": [3, 200]}, "planning_ms": {"range": [5, 200], "log": True},
    "routing_mode": ["random", "by_database", "by_query", "by_session"]}, "workload_axes": []}
SPEC_03 = {"method": "lhs", "seed": 1, "axes": {
    "placement": ["3 voters 1-1-1", "REGION 5 voters 2-2-1", "ZONE 3 voters"],
    "fsync_ms": {"range": [0.05, 20], "log": True}, "write_rate_per_s": {"range": [10, 10000], "log": True},
    "batch": {"range": [1, 64]}, "jitter_mean_ms": [0.5, 2.0, 5.0]}, "workload_axes": []}


def _defaults(stem: str) -> dict:
    from followerlab.scenarios import notebook_parameters

    return {s.name: s.default for s in notebook_parameters(ROOT / "notebooks" / f"{stem}.ipynb")}


def _library_rows(n: int) -> list[dict]:
    from followerlab.sweep import run_sweep

    rows = []
    for stem, spec in (("02-admin-node-load", SPEC_02), ("03-raft-write-latency", SPEC_03)):
        base = _defaults(stem)
        with tempfile.TemporaryDirectory() as out:
            t0 = time.perf_counter()
            r = run_sweep({**spec, "samples": n}, stem, base, out)
            total = time.perf_counter() - t0
        t = r.timings_s
        rows.append({"name": f"run_sweep {stem}, {n:,} configurations (front {r.summary['front_size']:,}; "
                             f"expand {t['expand']:.2f} s, evaluate {t['evaluate']:.2f} s, front {t['front']:.2f} s, "
                             f"write {t['write']:.2f} s)",
                     "value": total, "unit": "s",
                     **({"target": "< 60 s", "ok": total < 60.0} if n >= 1_000_000 else {})})
        rows.append({"name": f"  per configuration ({stem}, {n:,})", "value": 1e6 * total / n, "unit": "µs"})
    return rows


def _stamp(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _batch_rows() -> list[dict]:
    from followerlab.batch import run_batch

    rows = []
    for stem in ("02-admin-node-load", "03-raft-write-latency"):   # one batch per sweep: its own start
        with tempfile.TemporaryDirectory() as tmp:
            start = time.time()
            result = run_batch(ROOT / "data" / "scenarios" / "sweeps.yaml", Path(tmp) / "out", progress=False,
                               compare=False, force=True, notebooks=[stem])
            elapsed = time.time() - start
            for run_id in result.runs["run_id"]:
                run = Path(tmp) / "out" / "runs" / run_id
                nb = json.loads((run / "notebook.ipynb").read_text())
                pm = nb["metadata"]["papermill"]
                cells = [c["metadata"]["papermill"] for c in nb["cells"] if c["metadata"].get("papermill", {}).get("start_time")]
                kernel_start = _stamp(cells[0]["start_time"]) - _stamp(pm["start_time"])
                written = _stamp(cells[-1]["end_time"]) - start       # batch start -> results written
                n = json.loads((run / "sweep.json").read_text())["configurations"]
                rows.append({"name": f"batch {run_id}: start -> results written {written:.1f} s, kernel start "
                                     f"{kernel_start:.1f} s, {n:,} configurations",
                             "value": (written - kernel_start), "unit": "s"})
                per = 1e3 * (written - kernel_start) / n
                rows.append({"name": f"  per configuration, excluding the kernel start ({n:,})", "value": per,
                             "unit": "ms", "target": "<= 1 ms", "ok": per <= 1.0})
                rows.append({"name": "  a grid of one kernel per point would pay >= the kernel start per point: ratio",
                             "value": kernel_start / (per / 1e3), "unit": "x"})
            rows.append({"name": f"  batch total for {stem} (incl. kernel, HTML page, index)", "value": elapsed,
                         "unit": "s"})
    return rows


def run(smoke: bool) -> list[dict]:
    if smoke:
        return _library_rows(1_000)
    rows = []
    for n in (10_000, 100_000, 1_000_000):
        rows += _library_rows(n)
    return rows + _batch_rows()
