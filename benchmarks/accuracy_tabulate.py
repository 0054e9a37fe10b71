"""Accuracy of the tabulated fast paths (followerlab._tabulate) against the exact methods.

Grid: seeded random configurations drawn afresh (not the build's points), uniform over the
table's domain in its own coordinates — M/G/1: sigma = -ln(1 - rho) uniform on [0, ln 200]
(rho <= 0.995, so half the points have rho > 0.93) and cv uniform on [TALBOT_MIN_CV, 5], then
uniform on [0, TALBOT_MIN_CV] (the lattice-built part) and cv = 0 (M/D/1); write
load: batch 1..64 and logit(rho) uniform on [logit 1e-4, logit 0.995].  Only the configurations
the fast path serves from the table are compared (the others are computed exactly; their share
is in the regime text).  Error measure: relative error of the quantity; for the write load's
queue wait relative to service + wait (a wait far below the service time is known to that
precision).  References: the Talbot inversion of the Pollaczek-Khinchine transform
(followerlab._talbot, with 8 more nodes than the library's: error ~1e-9, the table's source),
the Beneš/FFT lattice of followerlab._mg1 at 2**16 points where it is accurate (cv <= 1.5; it
converges slowly beyond: 4e-5 at cv 3, 7e-4 at cv 5) and at 2**18 points below TALBOT_MIN_CV
(4-8x the build's; points where its own error estimate exceeds 1e-6 are not judged), Erlang's
M/D/1 law (followerlab.queueing.md1, cv = 0), the M/M/1 closed form (cv = 1), and the
exact bulk-queue numerics of raft.write_load (method="exact").  ``bound`` is the table's
promised tolerance.
"""

from __future__ import annotations

import numpy as np

from followerlab import _tabulate, queueing, raft
from followerlab._mg1 import mg1_gamma
from followerlab._talbot import TALBOT_MIN_CV, TALBOT_NODES, mg1_gamma_mixture_response_ppf


def _rel(a, b):
    return np.abs(np.asarray(a, float) / np.asarray(b, float) - 1.0)


def _row(formula, regime, metric, err, reference, bound):
    err = np.asarray(err, float)
    # the table's percentages show one decimal: the exact figures go into the reference text
    return dict(formula=formula, regime=regime, metric=metric, worst_rel_error=float(err.max()),
                median_rel_error=float(np.median(err)), n_points=int(err.size),
                reference=f"{reference}; worst {err.max():.1e}, median {np.median(err):.1e}, bound {bound:.0e}",
                bound=bound, noise=0.0)


def _mg1_rows(smoke):
    n = 40 if smoke else 600
    rng = np.random.default_rng(99)
    rho = -np.expm1(-rng.uniform(0.0, np.log(200.0), n))
    cv = rng.uniform(TALBOT_MIN_CV, 5.0, n)
    (p50, p99), method, _ = _tabulate.mg1_gamma_response_quantiles(rho, 1.0, cv)
    tab = method == _tabulate.TABULATED
    k = np.flatnonzero(tab)
    ex = np.array(mg1_gamma_mixture_response_ppf(rho[k], 1.0, 1.0, cv[k], 1.0, cv[k], nodes=TALBOT_NODES + 8))
    formula = "_tabulate.mg1_gamma_response_quantiles (admin/head one-core p50, p99)"
    regime = f"rho 0-0.995, cv {TALBOT_MIN_CV:g}-5, table cells ({100 * tab.mean():.0f} % of points)"
    ref = f"Talbot inversion of the P-K transform (_talbot, {TALBOT_NODES + 8} nodes)"
    rows = [_row(formula, regime, f"response {name}", _rel(v[tab], ex[j]), ref, _tabulate.MG1_TABLE_TOL)
            for j, (name, v) in enumerate((("p50", p50), ("p99", p99)))]
    low = tab & (cv <= 1.5)
    lat = mg1_gamma(rho[low], 1.0, cv[low], points=2**16).response_ppf(np.array([[0.5], [0.99]]))
    for j, (name, v) in enumerate((("p50", p50), ("p99", p99))):
        rows.append(_row(formula, f"rho 0-0.995, cv {TALBOT_MIN_CV:g}-1.5 ({low.sum()} points)", f"response {name}",
                         _rel(v[low], lat[j]), "Beneš/FFT lattice (_mg1, 2**16 points; its own error <= 3e-6 here)",
                         _tabulate.MG1_TABLE_TOL + 3e-6))
    # below TALBOT_MIN_CV: the lattice-built part, against a finer lattice
    m = 20 if smoke else 200
    rl = -np.expm1(-rng.uniform(0.0, np.log(200.0), m))
    cl = rng.uniform(0.0, TALBOT_MIN_CV, m)
    (l50, l99), method, _ = _tabulate.mg1_gamma_response_quantiles(rl, 1.0, cl)
    tl = np.flatnonzero(method == _tabulate.TABULATED)
    one = np.ones(tl.size)
    ref, est = _tabulate._lattice_quantiles(rl[tl], one, one, cl[tl], one, cl[tl], np.array([0.5, 0.99]), 2**18)
    judged = est <= 1e-6
    for j, (name, v) in enumerate((("p50", l50), ("p99", l99))):
        rows.append(_row(formula, f"rho 0-0.995, cv 0-{TALBOT_MIN_CV:g}, table cells ({100 * tl.size / m:.0f} % of "
                         f"points; {judged.sum()} judged)", f"response {name}", _rel(v[tl][judged], ref[j][judged]),
                         "Beneš/FFT lattice (_mg1, 2**18 points; points where its estimate > 1e-6 not judged)",
                         _tabulate.MG1_TABLE_TOL + 1e-6))
    r0 = rng.uniform(0.0, 0.995, n)
    (d50, d99), method, _ = _tabulate.mg1_gamma_response_quantiles(r0, 1.0, 0.0)
    t0 = (method == _tabulate.TABULATED) & (r0 > 0)
    md1 = queueing.md1(r0[t0], 1.0)
    for name, v, q in (("p50", d50, 0.5), ("p99", d99, 0.99)):
        rows.append(_row(formula, f"cv 0 (M/D/1), rho 0-0.995 ({100 * t0.mean():.0f} % tabulated)", f"response {name}",
                         _rel(v[t0], md1.response_quantile(q)), "Erlang's M/D/1 law (queueing.md1)",
                         _tabulate.MG1_TABLE_TOL))
    r1 = rng.uniform(0.0, 0.995, n)
    (m50, m99), method, _ = _tabulate.mg1_gamma_response_quantiles(r1, 1.0, 1.0)
    t1 = method == _tabulate.TABULATED
    for name, v, q in (("p50", m50, 0.5), ("p99", m99, 0.99)):
        rows.append(_row(formula, f"cv 1 (M/M/1), rho 0-0.995 ({100 * t1.mean():.0f} % tabulated)", f"response {name}",
                         _rel(v[t1], -np.log1p(-q) / (1 - r1[t1])), "closed form T ~ Exp((1 - rho)/E[S])",
                         _tabulate.MG1_TABLE_TOL))
    return rows


def _write_rows(smoke):
    n = 60 if smoke else 1000
    rng = np.random.default_rng(98)
    b = rng.integers(1, 65, n)
    x = rng.uniform(np.log(1e-4 / (1 - 1e-4)), np.log(0.995 / 0.005), n)
    rho = 1 / (1 + np.exp(-x))
    service = 1.0 + 2 * 0.1 + b * 0.05
    lam = rho * b / service * 1000.0
    fast = raft.write_load(lam, 3, 0.0, batch=b, method="tabulated")
    tab = fast.method == _tabulate.TABULATED
    exact = raft.write_load(lam[tab], 3, 0.0, batch=b[tab])
    formula = 'raft.write_load(method="tabulated")'
    regime = f"batch 1-64, rho 1e-4-0.995, table cells ({100 * tab.mean():.0f} % of points)"
    ref = 'raft.write_load(method="exact") (generating-function numerics, ~1e-9)'
    rows = [_row(formula, regime, name, _rel(getattr(fast, name)[tab], getattr(exact, name)), ref,
                 _tabulate.WRITE_TABLE_TOL) for name in ("p50_ms", "p99_ms")]
    s = fast.service_ms[tab]
    rows.append(_row(formula, regime, "queue_wait_ms (relative to service + wait)",
                     np.abs(fast.queue_wait_ms[tab] - exact.queue_wait_ms) / (s + exact.queue_wait_ms), ref,
                     _tabulate.WRITE_TABLE_TOL))
    return rows


def rows(smoke: bool) -> list[dict]:
    return _mg1_rows(smoke) + _write_rows(smoke)


if __name__ == "__main__":
    import sys

    for r in rows("--smoke" in sys.argv):
        print(r)
