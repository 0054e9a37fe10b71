"""Overrun Markov chains of ``refresh_lag``: the production solver against plain power iteration.

When a sync can overrun its period, :func:`followerlab.staleness.refresh_lag` solves a Markov
chain (phase x duration) per distinct configuration.  ``staleness._solve_chains`` takes at most
10 power steps for all chains together, then ARPACK's Arnoldi iteration for the chains not yet
settled; ``staleness._overrun_law`` is the plain power iteration with the 5-step rule (the
tests' oracle).  Cases, P = 0.5 s, m = 5 changes/s, d0 = 0.3 s (the slow-mixing end of the
Notes of ``refresh_lag``): d1 m = 0.9, 0.95 and 0.995 (full) or 0.9 (smoke).  Each row is
the best of ``repeat`` runs in wall-clock seconds, with the window laws' total variation
distance between the two methods (the power iteration's 5-step rule stops further from the
limit: tests/test_sync_overrun.py).

    python benchmarks/run.py overrun
"""

from __future__ import annotations

import time

import numpy as np

from followerlab import staleness as S


def _best(fn, repeat):
    """Best of ``repeat`` runs in wall-clock seconds (not CPU seconds: ARPACK's dense steps run
    on BLAS threads, whose CPU time adds up across the cores)."""
    best, out = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def _tv(a, b):
    """Total variation distance between two window laws ``(support, weights, ...)``."""
    u = np.union1d(a[0], b[0])
    x, y = np.zeros(u.size), np.zeros(u.size)
    x[np.searchsorted(u, a[0])] = a[1]
    y[np.searchsorted(u, b[0])] = b[1]
    return float(np.abs(x - y).sum())


def run(smoke: bool) -> list[dict]:
    P, d0, m = 0.5, 0.3, 5.0
    rhos = (0.9,) if smoke else (0.9, 0.95, 0.995)
    repeat = 1 if smoke else 2
    rows = []
    for rho in rhos:
        d1 = rho / m
        args = [np.array([v]) for v in (P, d0, d1, m)]
        t_new, new = _best(lambda: S._solve_chains(*args, S.OVERRUN_GRID_POINTS)[0], repeat)
        t_old, old = _best(lambda: S._overrun_law(P, d0, d1, m), repeat)
        label = f"d1 m = {rho:g}, P = {P:g} s"
        rows += [
            dict(name=f"{label}: power steps + Arnoldi ({new[3]} products)", value=t_new, unit="s"),
            dict(name=f"{label}: power iteration ({old[3]} steps)", value=t_old, unit="s"),
            dict(name="  ratio power iteration / production", value=t_old / t_new, unit="x"),
            dict(name="  window laws' TV distance between the two", value=_tv(new, old), unit=""),
        ]
    return rows


if __name__ == "__main__":
    for row in run(smoke=False):
        print(row, flush=True)
