"""Rebuild the shipped interpolation tables of followerlab._tabulate (data/tables/*.npz).

    nice -n 10 python tools/build_tables.py [mg1] [write]   # both by default; minutes

Each table stores the exact law at three sets of points, all computed here with the library's
exact method and nothing else:

* ``nodes``: the interpolation nodes;
* ``centre`` (``mids`` in the write table): every cell centre / interval midpoint — at load
  time :mod:`followerlab._tabulate` trusts a cell only if the spline's error there is below a
  third of the promised tolerance, and drops the neighbours of a cell that misses it (a kink of
  the law spoils the spline next to it too);
* ``random``: seeded random points over the whole domain — the worst error over trusted cells
  there is the error the library reports (``max_rel_error``).

M/G/1 gamma response quantiles: ln f_q(rho, cv), f_q = T_q (1 - rho) / E[S], q = 0.5, 0.99, on a
grid in sigma = -ln(1 - rho) (0..ln 200, i.e. rho <= 0.995) graded toward sigma = 0 (where the
low-load quantiles of a skewed service move fast) and in cv from 0 to 5: from TALBOT_MIN_CV (0.4)
up, step 0.025, the Talbot inversion of the Pollaczek-Khinchine transform (followerlab._talbot;
error about 1e-9, where the Beneš lattice of followerlab._mg1 converges slowly at high cv); below
it, step 0.0125, the Beneš lattice (the inversion fails on the nearly deterministic laws there)
at LATTICE_POINTS (2**15; LATTICE_POINTS_HIGH = 2**17 above rho 0.98), with its error estimate
(change from half the points) stored beside every value: a cell whose nodes or centre are not
accurate to a tenth of the table's tolerance is not trusted, and the count of such nodes is
printed.  Cells at the M/D/1-like kinks of small cv miss the tolerance and are not trusted
either (the library then solves those configurations exactly).  The law is checked against
M/M/1 (cv = 1: f_q = -ln(1 - q)) and the result printed.

Raft write load (M/D^(b,b)/1 leader of raft.write_load, S = 1): ln((S + U_q)/S), q = 0.5, 0.99,
and ln(1 + W_q/S) from raft._write_numerics, for b = 1..64 on a grid uniform in logit(rho),
rho in [1e-4, 0.995], 385 nodes (step 0.038 in logit; 97 nodes left 8 % of random points in
cells whose centre missed 1e-4/3).  The quantiles have a kink wherever U_q crosses a multiple
of S; near the cells whose centre misses 1e-4/3 those crossings are located (write_kinks) and
made knots where the spline breaks (write_knots; 72 for p50, 3 for p99), which leaves no
untrusted interval (1.6 % of random points fell in untrusted cells before).  96 s, 1.4 MB.
Deterministic: same code, same file.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from followerlab import _tabulate  # noqa: E402
from followerlab._talbot import TALBOT_MAX_REL_ERROR, TALBOT_MIN_CV, mg1_gamma_mixture_response_ppf  # noqa: E402

QS = np.array([0.5, 0.99])
RHO_MAX = 0.995
N_SIGMA, N_CV, CV_MAX = 160, 185, 5.0          # cv step 0.025 from TALBOT_MIN_CV (cv = 1 is a node)
N_CV_LOW = 33                                   # cv step 0.0125 on [0, TALBOT_MIN_CV] (the lattice)
#: sigma nodes sigma_max (e^(G u) - 1) / (e^G - 1), u uniform: the first step is about G / (e^G - 1) times the mean step
SIGMA_GRADING = 4.0
RANDOM_POINTS = 8000
#: random points with cv below TALBOT_MIN_CV (the same density per unit cv as above it: 8000 / 4.6)
RANDOM_POINTS_LOW = 700
#: random points on the edges users hit exactly: cv = 0 (a constant service: M/D/1, where the
#: spline along the domain's edge is at its worst) and cv = 5
RANDOM_POINTS_EDGE = 300
LATTICE_POINTS, LATTICE_POINTS_HIGH = 2**15, 2**17


def sigma_nodes():
    u = np.linspace(0.0, 1.0, N_SIGMA)
    return -np.log1p(-RHO_MAX) * np.expm1(SIGMA_GRADING * u) / np.expm1(SIGMA_GRADING)


def cv_nodes():
    return np.concatenate([np.linspace(0.0, TALBOT_MIN_CV, N_CV_LOW)[:-1], np.linspace(TALBOT_MIN_CV, CV_MAX, N_CV)])


def exact_f(rho, cv):
    """ln f_q(rho, cv) for flat arrays, shape (len(QS), n), and the error bound or estimate per
    point (n,): the inversion from TALBOT_MIN_CV up (TALBOT_MAX_REL_ERROR), the lattice below (its
    estimate: the change from half the points; LATTICE_POINTS, LATTICE_POINTS_HIGH above rho
    0.98, where it converges slowly)."""
    rho, cv = np.asarray(rho, float), np.asarray(cv, float)
    out = np.empty((QS.size, rho.size))
    err = np.full(rho.size, TALBOT_MAX_REL_ERROR)
    inv = np.flatnonzero(cv >= TALBOT_MIN_CV)
    for lo in range(0, inv.size, 4096):
        k = inv[lo:lo + 4096]
        t = np.array(mg1_gamma_mixture_response_ppf(rho[k], 1.0, 1.0, cv[k], 1.0, cv[k], qs=QS))
        out[:, k] = np.log(t * (1.0 - rho[k]))
    for lat, points in ((np.flatnonzero((cv < TALBOT_MIN_CV) & (rho <= 0.98)), LATTICE_POINTS),
                        (np.flatnonzero((cv < TALBOT_MIN_CV) & (rho > 0.98)), LATTICE_POINTS_HIGH)):
        for lo in range(0, lat.size, 256):
            k = lat[lo:lo + 256]
            one = np.ones(k.size)
            t, err[k] = _tabulate._lattice_quantiles(rho[k], one, one, cv[k], one, cv[k], QS, points)
            out[:, k] = np.log(t * (1.0 - rho[k]))
    return out, err


def main():
    t0 = time.perf_counter()
    sigma = sigma_nodes()
    cv = cv_nodes()
    S, C = np.meshgrid(sigma, cv, indexing="ij")
    f, f_err = exact_f(-np.expm1(-S.ravel()), C.ravel())
    f, f_err = f.reshape(QS.size, N_SIGMA, cv.size), f_err.reshape(N_SIGMA, cv.size)
    mm1 = np.expm1(f[:, :, np.flatnonzero(cv == 1.0)[0]] - np.log(-np.log1p(-QS))[:, None])
    print(f"nodes: {f[0].size} x {QS.size} q in {time.perf_counter() - t0:.0f} s; exact law vs M/M/1 "
          f"(cv 1): worst relative error {np.abs(mm1).max():.2e}", flush=True)
    sc, cc = 0.5 * (sigma[1:] + sigma[:-1]), 0.5 * (cv[1:] + cv[:-1])
    SC, CC = np.meshgrid(sc, cc, indexing="ij")
    centre, centre_err = exact_f(-np.expm1(-SC.ravel()), CC.ravel())
    centre, centre_err = centre.reshape(QS.size, *SC.shape), centre_err.reshape(SC.shape)
    print(f"centres in {time.perf_counter() - t0:.0f} s", flush=True)
    rng = np.random.default_rng(2026)
    rs, rc = rng.uniform(0, sigma[-1], RANDOM_POINTS), rng.uniform(TALBOT_MIN_CV, CV_MAX, RANDOM_POINTS)
    rs = np.concatenate([rs, rng.uniform(0, sigma[-1], RANDOM_POINTS_LOW)])
    rc = np.concatenate([rc, rng.uniform(0.0, TALBOT_MIN_CV, RANDOM_POINTS_LOW)])
    rs = np.concatenate([rs, rng.uniform(0, sigma[-1], 2 * RANDOM_POINTS_EDGE)])
    rc = np.concatenate([rc, np.repeat([0.0, CV_MAX], RANDOM_POINTS_EDGE)])
    rf, rf_err = exact_f(-np.expm1(-rs), rc)
    out = ROOT / "data" / "tables" / "mg1_gamma_response.npz"
    np.savez_compressed(out, sigma=sigma, cv=cv, q=QS, f=f, f_err=f_err, centre_f=centre, centre_err=centre_err,
                        random_sigma=rs, random_cv=rc, random_f=rf, random_err=rf_err, rho_max=np.float64(RHO_MAX))
    _tabulate._mg1_table.cache_clear()
    t = _tabulate._mg1_table()
    low = rc < TALBOT_MIN_CV
    i, j = t["splines"][0].cell(rs, rc)
    print(f"lattice error estimates (cv < {TALBOT_MIN_CV}): nodes above {_tabulate.MG1_TABLE_TOL / 10:g} "
          f"{int((f_err > _tabulate.MG1_TABLE_TOL / 10).sum())} of {int((cv < TALBOT_MIN_CV).sum()) * N_SIGMA}, "
          f"worst {f_err.max():.1e}; random points with cv < {TALBOT_MIN_CV} in trusted cells: "
          f"{t['ok'][i, j][low].mean():.3f}")
    print(f"wrote {out.relative_to(ROOT)} ({out.stat().st_size} bytes) in {time.perf_counter() - t0:.0f} s; "
          f"untrusted cells {int((~t['ok']).sum())} of {t['ok'].size}; "
          f"max_rel_error (random points, trusted cells) {t['max_rel_error']}, trusted share {t['trusted_share']}")


# ----------------------------------------------------------------------------------------------
# write_load: ln((S + U_q)/S) and ln(1 + W_q/S) per batch b on a logit(rho) grid
# ----------------------------------------------------------------------------------------------
B_MAX, N_LOGIT, RHO_MIN_W = 64, 385, 1e-4


def exact_write(rho, b):
    """Rows ln((S + U_q)/S) for QS, then ln(1 + W_q/S); flat arrays, S = 1 ms."""
    from followerlab.raft import _write_numerics

    rho, b = np.asarray(rho, float), np.asarray(b, np.int64)
    w, q = _write_numerics(rho * b * 1000.0, b, np.ones(rho.size), QS)
    return np.concatenate([np.log(q.T), np.log1p(w)[None, :]])


def write_cdf(u, rho, b):
    """P(U <= u) of the leader's proposal delay U (S = 1 ms), flat arrays."""
    from followerlab.raft.load import _BulkQueue, _bulk_blocks

    rho, b, u = np.asarray(rho, float), np.asarray(b, np.int64), np.asarray(u, float)
    out = np.empty(rho.size)
    for sel, n_grid in _bulk_blocks(rho * b, b, np.arange(rho.size)):
        out[sel] = _BulkQueue(rho[sel] * b[sel], np.ones(sel.size), b[sel], n_grid).cdf_u(u[sel])
    return out


def write_kinks(x, nodes, centre):
    """Kinks of the quantiles U_q(rho) near the cells a smooth spline misses.

    U's distribution function has a kink at every multiple of S (and an atom at 0), so U_q has
    one wherever it crosses an integer k (S = 1).  For every quantile row and batch, the
    integers crossed between neighbouring samples (nodes and centres) of a cell whose centre
    misses WRITE_TABLE_TOL / 3, or of its neighbours, are located by bisection in logit(rho) on
    P(U <= k; rho) = q (44 halvings of a half-cell bracket of 0.019: about 1e-15 in logit, the
    double-precision spacing there).  Returns a list per row q of (batches, logits, k)."""
    from scipy.interpolate import CubicSpline

    xc = 0.5 * (x[1:] + x[:-1])
    xs = np.empty(2 * x.size - 1)
    xs[0::2], xs[1::2] = x, xc
    found = []
    for qi, q in enumerate(QS):
        y, yc = nodes[qi], centre[qi]
        err = np.abs(np.expm1(CubicSpline(x, y, axis=1)(xc) - yc))
        near = err > _tabulate.WRITE_TABLE_TOL / 3
        near[:, 1:] |= near[:, :-1].copy()
        near[:, :-1] |= near[:, 1:].copy()
        ys = np.empty((B_MAX, xs.size))
        ys[:, 0::2], ys[:, 1::2] = y, yc
        u = np.expm1(ys)
        level = np.where(u > 1e-9, np.ceil(u - 1e-9), 0.0)    # integers k >= 0 below U_q
        bs, ks, lo, hi = [], [], [], []
        for r, j in zip(*np.nonzero(near[:, np.arange(xs.size - 1) // 2])):
            a, c = level[r, j], level[r, j + 1]
            for k in range(int(min(a, c)), int(max(a, c))):
                bs.append(r + 1), ks.append(k), lo.append(xs[j]), hi.append(xs[j + 1])
        bs, ks, lo, hi = np.array(bs, np.int64), np.array(ks, float), np.array(lo), np.array(hi)
        below = write_cdf(ks, 1 / (1 + np.exp(-lo)), bs) >= q            # U_q <= k at lo
        for _ in range(44):
            mid = 0.5 * (lo + hi)
            same = (write_cdf(ks, 1 / (1 + np.exp(-mid)), bs) >= q) == below
            lo, hi = np.where(same, mid, lo), np.where(same, hi, mid)
        found.append((bs, 0.5 * (lo + hi), ks))
    return found


def write_knots(x, nodes, centre, kinks):
    """Per quantity and batch: knots (the logit grid, minus nodes within 0.3 of a step of a
    kink, the ends always kept, plus the kinks), their values (a kink's is ln(1 + k) exactly),
    kink flags, and the exact value at every interval's midpoint (the grid's centres where an
    interval is a grid cell, else computed).  Padded with NaN / False to one width."""
    h = x[1] - x[0]
    rows = []                     # (quantity, batch, X, Y, K, mids or None where to compute)
    todo_rho, todo_b, todo_at = [], [], []
    for qi in range(nodes.shape[0]):
        for r in range(B_MAX):
            X, Y, K = x, nodes[qi, r], np.zeros(x.size, bool)
            cell = np.arange(x.size - 1)
            if qi < len(kinks):
                bs, kx, kk = kinks[qi]
                m = bs == r + 1
                if m.any():
                    keep = np.ones(x.size, bool)
                    for v in kx[m]:
                        keep &= np.abs(x - v) > 0.3 * h
                    keep[[0, -1]] = True
                    gi = np.concatenate([np.flatnonzero(keep), np.full(m.sum(), -1)])
                    X = np.concatenate([x[keep], kx[m]])
                    Y = np.concatenate([nodes[qi, r][keep], np.log1p(kk[m])])
                    K = np.concatenate([np.zeros(keep.sum(), bool), np.ones(m.sum(), bool)])
                    o = np.argsort(X, kind="stable")
                    X, Y, K, gi = X[o], Y[o], K[o], gi[o]
                    cell = np.where((gi[:-1] >= 0) & (gi[1:] == gi[:-1] + 1), gi[:-1], -1)
            mids = np.where(cell >= 0, centre[qi, r][np.maximum(cell, 0)], np.nan)
            for i in np.flatnonzero(cell < 0):
                todo_rho.append(1 / (1 + np.exp(-0.5 * (X[i] + X[i + 1]))))
                todo_b.append(r + 1)
                todo_at.append((len(rows), i, qi))
            rows.append([qi, r, X, Y, K, mids])
    if todo_rho:
        v = exact_write(np.array(todo_rho), np.array(todo_b))
        for j, (row, i, qi) in enumerate(todo_at):
            rows[row][5][i] = v[qi, j]
    width = max(row[2].size for row in rows)
    shape = (nodes.shape[0], B_MAX, width)
    knots, values, mids = np.full(shape, np.nan), np.full(shape, np.nan), np.full(shape, np.nan)
    kink = np.zeros(shape, bool)
    for qi, r, X, Y, K, M in rows:
        knots[qi, r, :X.size], values[qi, r, :X.size], kink[qi, r, :X.size] = X, Y, K
        mids[qi, r, :M.size] = M
    return knots, values, kink, mids, len(todo_rho)


def main_write():
    t0 = time.perf_counter()
    x = np.linspace(np.log(RHO_MIN_W / (1 - RHO_MIN_W)), np.log(RHO_MAX / (1 - RHO_MAX)), N_LOGIT)
    bs = np.arange(1, B_MAX + 1)
    B, X = np.meshgrid(bs, x, indexing="ij")
    nodes = exact_write(1 / (1 + np.exp(-X.ravel())), B.ravel()).reshape(-1, B_MAX, N_LOGIT)
    xc = 0.5 * (x[1:] + x[:-1])
    Bc, Xc = np.meshgrid(bs, xc, indexing="ij")
    centre = exact_write(1 / (1 + np.exp(-Xc.ravel())), Bc.ravel()).reshape(-1, B_MAX, N_LOGIT - 1)
    print(f"nodes and centres in {time.perf_counter() - t0:.0f} s", flush=True)
    kinks = write_kinks(x, nodes, centre)
    knots, values, kink, mids, n_new = write_knots(x, nodes, centre, kinks)
    print(f"kinks {[k[0].size for k in kinks]} (p50, p99), {n_new} new midpoints, "
          f"in {time.perf_counter() - t0:.0f} s", flush=True)
    rng = np.random.default_rng(2027)
    rb, rx = rng.integers(1, B_MAX + 1, RANDOM_POINTS), rng.uniform(x[0], x[-1], RANDOM_POINTS)
    rv = exact_write(1 / (1 + np.exp(-rx)), rb)
    out = ROOT / "data" / "tables" / "write_load.npz"
    np.savez_compressed(out, logit=x, q=QS, knots=knots, values=values, kink=kink, mids=mids,
                        random_b=rb, random_logit=rx, random=rv)
    _tabulate._write_table.cache_clear()
    t = _tabulate._write_table()
    untrusted = sum(int((~o).sum()) - B_MAX for o in t["ok"])
    print(f"wrote {out.relative_to(ROOT)} ({out.stat().st_size} bytes) in {time.perf_counter() - t0:.0f} s; "
          f"untrusted intervals {untrusted} of {sum(o.size - B_MAX for o in t['ok'])}; max_rel_error (p50, p99, wait) "
          f"{t['max_rel_error']}, trusted share {t['trusted_share']:.4f}")


if __name__ == "__main__":
    which = sys.argv[1:] or ["mg1", "write"]
    if "mg1" in which:
        main()
    if "write" in which:
        main_write()
