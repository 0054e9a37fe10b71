"""Sensitivity-analysis benchmarks: Sobol' indices and Morris screening.

    python benchmarks/run.py sensitivity          # full size (~1 minute)
    python benchmarks/run.py --smoke sensitivity  # a few seconds

Rows (see benchmarks/run.py):
* Sobol' indices of the Ishigami function (a = 7, b = 0.1) at N = 2^10 .. 2^14 base points
  (N (k + 2) evaluations): time and the largest error against the analytic S1 / S_T;
* the same through SALib (``saltelli.sample`` + ``sobol.analyze``, second order off) at
  N = 2^13, time ratio;
* Morris screening of Ishigami, 100 trajectories;
* the follower-lag and admin-load analyses (``follower_lag_sensitivity``,
  ``admin_load_sensitivity``) at their default N = 1024 (smoke: 256).
"""

from __future__ import annotations

import time

import numpy as np

from followerlab.sensitivity import admin_load_sensitivity, follower_lag_sensitivity, morris_screening, sobol_indices

A, B = 7.0, 0.1
RANGES = {f"x{i}": (-np.pi, np.pi) for i in (1, 2, 3)}


def ishigami(p):
    return {"y": np.sin(p["x1"]) + A * np.sin(p["x2"]) ** 2 + B * p["x3"] ** 4 * np.sin(p["x1"])}


def analytic():
    v1 = 0.5 * (1 + B * np.pi ** 4 / 5) ** 2
    v2 = A ** 2 / 8
    v13 = B ** 2 * np.pi ** 8 * (1 / 18 - 1 / 50)
    v = v1 + v2 + v13
    return np.array([v1, v2, 0.0]) / v, np.array([v1 + v13, v2, v13]) / v


def run(smoke: bool) -> list[dict]:
    rows: list[dict] = []
    s1, st = analytic()
    sizes = (2 ** 8, 2 ** 10) if smoke else (2 ** 10, 2 ** 12, 2 ** 13, 2 ** 14)
    t_ours = None
    for n in sizes:
        t0 = time.perf_counter()
        res = sobol_indices(ishigami, RANGES, n=n, seed=0)
        t = time.perf_counter() - t0
        err = max(np.abs(res.S1[0] - s1).max(), np.abs(res.ST[0] - st).max())
        rows.append({"name": f"sobol_indices Ishigami N={n} ({res.n_evaluations:,} evals)", "value": t, "unit": "s"})
        row = {"name": f"  max |index error| at N={n}", "value": err, "unit": ""}
        if n >= 4096:
            row.update(target="< 0.01", ok=bool(err < 0.01))
        rows.append(row)
        t_ours = (n, t)
    try:
        from SALib.analyze import sobol as salib_sobol
        from SALib.sample import sobol as salib_sample
    except ImportError:  # SALib is a test extra
        salib_sobol = None
    if salib_sobol is not None:
        n = t_ours[0]
        problem = {"num_vars": 3, "names": list(RANGES), "bounds": [[-np.pi, np.pi]] * 3}
        t0 = time.perf_counter()
        x = salib_sample.sample(problem, n, calc_second_order=False, seed=0)
        y = ishigami({f"x{i}": x[:, i - 1] for i in (1, 2, 3)})["y"]
        si = salib_sobol.analyze(problem, y, calc_second_order=False, seed=0)
        t = time.perf_counter() - t0
        err = max(np.abs(si["S1"] - s1).max(), np.abs(si["ST"] - st).max())
        rows.append({"name": f"SALib sample + analyze Ishigami N={n}", "value": t, "unit": "s"})
        rows.append({"name": f"  SALib max |index error| at N={n}", "value": err, "unit": ""})
        rows.append({"name": "  time ratio SALib / followerlab", "value": t / t_ours[1], "unit": "x"})
    r = 20 if smoke else 100
    t0 = time.perf_counter()
    m = morris_screening(ishigami, RANGES, trajectories=r, seed=0)
    rows.append({"name": f"morris_screening Ishigami, {r} trajectories ({m.n_evaluations} evals)",
                 "value": time.perf_counter() - t0, "unit": "s"})
    n = 256 if smoke else 1024
    for name, fn in (("follower_lag_sensitivity", follower_lag_sensitivity), ("admin_load_sensitivity", admin_load_sensitivity)):
        t0 = time.perf_counter()
        res = fn(n=n)
        rows.append({"name": f"{name} N={n} ({res.n_evaluations:,} evals), top: {res.ranking(res.metrics[0])[0]}",
                     "value": time.perf_counter() - t0, "unit": "s"})
    return rows
