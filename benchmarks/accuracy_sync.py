"""Accuracy rows for the refresh / sync lag with overruns (issue 11, part 4).

``rows(smoke)`` compares :func:`followerlab.staleness.refresh_lag` (method "auto": closed form
without overruns, Markov chain with them) and, as a baseline, the closed form forced everywhere,
with long seeded runs of :func:`followerlab.sim.follower.simulate_follower`: mean, p50, p99 of
the lag of probe writes at uniform times.  Grid: P = 10 s, nominal mean sync duration
d0 + d1 m P in {0, 0.25, 0.5, 0.8, 1.0, 1.2, 1.5} x P, few changes per sync (m P = 1) and many
(m P = 50).  The relative errors include the simulation's own noise (few changes: heavy,
correlated tails; the full run uses 4 x 400 000 periods for them), reported as
``reference_rel_se``.

    PYTHONPATH=. python benchmarks/accuracy_sync.py            # full grid, ~5-10 minutes
    PYTHONPATH=. python benchmarks/accuracy_sync.py --smoke    # a few seconds
"""

from __future__ import annotations

import sys

import numpy as np

from followerlab.sim.follower import simulate_follower
from followerlab.staleness import refresh_lag

P = 10.0
#: (regime, nominal duration / P, d0, d1, m)
GRID = [
    ("few", 0.0, 0.0, 0.0, 0.1), ("few", 0.25, 0.4, 2.1, 0.1), ("few", 0.5, 0.37, 4.63, 0.1),
    ("few", 0.8, 0.7, 7.3, 0.1), ("few", 1.0, 2.7, 7.3, 0.1), ("few", 1.2, 4.7, 7.3, 0.1),
    ("few", 1.5, 7.7, 7.3, 0.1),
    ("many", 0.0, 0.0, 0.0, 5.0), ("many", 0.25, 0.5, 0.04, 5.0), ("many", 0.5, 1.3, 0.074, 5.0),
    ("many", 0.8, 2.3, 0.114, 5.0), ("many", 1.0, 3.1, 0.138, 5.0), ("many", 1.2, 4.3, 0.154, 5.0),
    ("many", 1.5, 6.9, 0.162, 5.0),
]
SMOKE = [g for g in GRID if g[1] in (0.5, 1.2)]


def _sim(d0, d1, m, cycles, seed):
    sim = simulate_follower(P, d0, d1, m, horizon_s=P * cycles, seed=seed)
    t = np.random.default_rng(seed + 1).uniform(50 * P, P * (cycles - 50), min(20 * cycles, 2_000_000))
    lag = sim.probe_lag_s(t)
    return {"mean": lag.mean(), "p50": np.quantile(lag, 0.5), "p99": np.quantile(lag, 0.99)}


def _model(d0, d1, m, method):
    r = refresh_lag(P, d0, d1, m, method=method)
    q = r.quantile([0.5, 0.99])
    return {"mean": float(r.mean_s), "p50": float(q[0]), "p99": float(q[1])}


def rows(smoke: bool) -> list[dict]:
    """One row per (formula, regime, metric): worst and median relative error over the grid.

    The reference is the mean of the statistics of several independent seeded runs; its own
    relative standard error (spread of the seeds / sqrt(seeds)), worst over the grid, is
    reported as ``reference_rel_se``: errors of that size are simulation noise.
    """
    grid = SMOKE if smoke else GRID
    seeds = (2026, 2027) if smoke else (2026, 2027, 2028, 2029)
    errors: dict[tuple[str, str, str], list[float]] = {}
    noise: dict[tuple[str, str, str], list[float]] = {}
    for regime, _, d0, d1, m in grid:
        few = regime == "few"
        cycles = (10000 if few else 2000) if smoke else (400000 if few else 60000)
        runs = [_sim(d0, d1, m, cycles, seed=s) for s in seeds]
        ref = {k: float(np.mean([r[k] for r in runs])) for k in runs[0]}
        se = {k: float(np.std([r[k] for r in runs], ddof=1) / np.sqrt(len(runs)) / ref[k]) for k in runs[0]}
        for formula, method in (("staleness.refresh_lag (auto: closed form / Markov chain)", "auto"),
                                ("staleness.refresh_lag, closed form forced (no overrun)", "closed form")):
            got = _model(d0, d1, m, method)
            for metric in ("mean", "p50", "p99"):
                key = (formula, f"{regime} changes per sync (m P = {m * P:g}), duration 0-1.5 P", metric)
                errors.setdefault(key, []).append(abs(got[metric] / ref[metric] - 1.0))
                noise.setdefault(key, []).append(se[metric])
    out = []
    for (formula, regime, metric), e in errors.items():
        out.append({
            "formula": formula, "regime": regime, "metric": metric,
            "worst_rel_error": float(np.max(e)), "median_rel_error": float(np.median(e)),
            "n_points": len(e),
            "reference": f"followerlab.sim.follower.simulate_follower, {len(seeds)} seeded runs of "
                         + ("short length" if smoke else "400k (few) / 60k (many) periods"),
            "reference_rel_se": float(np.max(noise[(formula, regime, metric)])),
        })
    return out


if __name__ == "__main__":
    import pandas as pd

    frame = pd.DataFrame(rows("--smoke" in sys.argv))
    with pd.option_context("display.width", 200, "display.max_colwidth", 60):
        print(frame.drop(columns="reference").to_string(index=False))
