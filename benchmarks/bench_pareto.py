"""Pareto-front benchmarks: the fast mask vs the O(n²) reference, and 10^6 rows.

    python benchmarks/run.py pareto          # full size (~1 minute)
    python benchmarks/run.py --smoke pareto  # a few seconds

Rows (see benchmarks/run.py):
* ``followerlab.compare.pareto_front`` (pairwise, O(n² k)) vs ``followerlab._pareto.pareto_mask``
  on the same 10^4 random rows (2 and 3 objectives): both times, the speed-up, and that the
  flags are equal;
* ``pareto_mask`` on 10^6 independent uniform rows × 2, 3, 4 objectives (best of 2), with the
  front size (target < 5 s each: issue 13 asks for a 10^6-configuration sweep with its front in
  under a minute);
* the hard case: 10^5 rows on a 3-objective simplex-like surface (most rows on the front).
"""

from __future__ import annotations

import time

import numpy as np

from followerlab._pareto import pareto_mask
from followerlab.compare import pareto_front


def _best(fn, repeat):
    best, out = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def run(smoke: bool) -> list[dict]:
    rows: list[dict] = []
    rng = np.random.default_rng(0)
    n_ref = 1_000 if smoke else 10_000
    for k in (2, 3):
        v = rng.random((n_ref, k))
        t_ref, ref = _best(lambda: pareto_front(v), 1)
        t_fast, fast = _best(lambda: pareto_mask(v), 3)
        rows.append({"name": f"pareto_front O(n²), {n_ref:,} rows × {k}", "value": t_ref, "unit": "s"})
        rows.append({"name": f"pareto_mask, {n_ref:,} rows × {k}", "value": t_fast, "unit": "s"})
        rows.append({"name": f"speed-up fast / O(n²) ({k} objectives), flags equal: {bool((ref == fast).all())}",
                     "value": t_ref / t_fast, "unit": "x", "target": "flags equal",
                     "ok": bool((ref == fast).all())})
    n_big = 20_000 if smoke else 1_000_000
    for k in (2, 3, 4):
        v = rng.random((n_big, k))
        t, front = _best(lambda: pareto_mask(v), 1 if smoke else 2)
        rows.append({"name": f"pareto_mask, {n_big:,} rows × {k} (front {int(front.sum())})", "value": t,
                     "unit": "s", "target": "< 5 s", "ok": t < 5.0})
    n_hard = 5_000 if smoke else 100_000
    x = rng.random((n_hard, 3))
    x /= x.sum(axis=1, keepdims=True)
    t, front = _best(lambda: pareto_mask(x), 1)
    rows.append({"name": f"pareto_mask, {n_hard:,} rows on a simplex × 3 (front {int(front.sum())})", "value": t,
                 "unit": "s"})
    return rows
