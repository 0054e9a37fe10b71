r"""Shared staleness algebra: the age of data behind a periodic refresh.

A *refresh* (a follower database's metadata sync, a query head's metadata refresh) starts
every :math:`P` seconds and takes

.. math:: D = d_0 + d_1 N,

where :math:`N` is the number of changes since the previous refresh started.  Changes arrive
as a Poisson process of rate :math:`m` per second, so :math:`N \sim \mathrm{Poisson}(mP)` and
:math:`D` is **random** (this module uses the Poisson law of the changes, not their mean, in
the periodic regime).  A write committed at a uniformly random time becomes visible at the end
of the first refresh that starts after it, so its lag is

.. math:: L = U + D, \qquad U \sim \mathrm{Uniform}(0, P],\ D \text{ independent of } U.

The same law is the age of the snapshot a query sees at a random time when :math:`D` is
deterministic (:math:`d_1 m = 0`); with random :math:`D` the age has the same mean and the same
CDF below :math:`P + d_0`, and differs only in the far tail (see :func:`refresh_lag`).

When a refresh can overrun its period (:math:`D > P`), the next one starts late, covers a
longer window and runs longer (a cascade): :func:`refresh_lag` then computes the exact
stationary law numerically (a Markov chain on the phase of each start and the duration, see
its Notes) and says so in ``method``.

Sources: Leibowitz2021 and ADX-Follower (follower clusters sync periodically, "lag of a
few seconds to a few minutes", growing with the metadata changes), ADX-WeakConsistencyPolicy
(query heads refresh every ``RefreshPeriodInSeconds``, default 120).  The linear duration law
and the overrun rule (missed ticks coalesce into one refresh at the end of the late one) are
*assumed*; :mod:`followerlab.sim.follower` plays the same rule event by event.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, sparse, special

from ._results import Result
from ._tabulate import repeated_row_index, unique_row_index, unique_rows
from ._validate import as_float_array, as_int, broadcast_all, check_choice, check_probability
from ._wars import TVisibility, k_staleness_probability, quorum_miss_probability, t_visibility  # noqa: F401

__all__ = ["OVERRUN_THRESHOLD", "RefreshLag", "refresh_lag"]


def _pois_cdf(k, lam):
    """Poisson CDF at integer-valued ``k`` (0 for k < 0), via ``scipy.special.pdtr`` (the same
    regularized incomplete gamma as ``scipy.stats.poisson.cdf``, without its overhead)."""
    k = np.asarray(k, dtype=float)
    return np.where(k >= 0, special.pdtr(np.maximum(k, 0.0), lam), 0.0)


def _pois_ppf(q, lam):
    """Poisson quantile for 0 < q < 1 and lam >= 0: ``scipy.stats.poisson.ppf``'s own rule
    (``pdtrik``, then one step down where the CDF already reaches q), without the distribution
    machinery's overhead on the small arrays of the overrun chain (0 where lam = 0)."""
    q, lam = np.broadcast_arrays(np.asarray(q, float), np.asarray(lam, float))
    pos = lam > 0
    lam_s = np.where(pos, lam, 1.0)
    vals = np.ceil(special.pdtrik(q, lam_s))
    vals1 = np.maximum(vals - 1, 0)
    out = np.where(special.pdtr(vals1, lam_s) >= q, vals1, vals)
    return np.where(pos, out, 0.0)


def _pois_upper(lam):
    r"""A count the Poisson(``lam``) law exceeds with probability below 1e-15: :math:`\lambda + x`,
    :math:`x = \sqrt{70\lambda} + 25`, since :math:`P(N > \lambda + x) \le
    e^{-x^2 / 2(\lambda + x/3)}` (Bennett's inequality)."""
    return np.array(lam + np.sqrt(70.0 * lam) + 25.0, dtype=float)


def _pois_pmf(k, lam):
    """Poisson pmf at integers k >= 0 (``scipy.stats.poisson.pmf``'s formula, without its
    overhead)."""
    return np.exp(special.xlogy(k, lam) - special.gammaln(k + 1.0) - lam)


def _partial_positive_mean(a: np.ndarray, d1: np.ndarray, lam: np.ndarray) -> np.ndarray:
    r""":math:`E[(a - d_1 N)^+]` for :math:`N \sim \mathrm{Poisson}(\lambda)`, exactly.

    With :math:`k = \lfloor a / d_1 \rfloor`,
    :math:`E[(a - d_1 N)^+] = a\,F(k) - d_1 \lambda\, F(k-1)` because
    :math:`E[N; N \le k] = \lambda P(N \le k-1)`.  For :math:`d_1 = 0` it is :math:`a^+`.
    """
    a, d1, lam = np.broadcast_arrays(a, d1, lam)
    out = np.array(np.maximum(a, 0.0), dtype=float)
    random = (d1 > 0) & (lam > 0) & (a > 0)
    if random.any():
        aa, dd, ll = a[random], d1[random], lam[random]
        with np.errstate(over="ignore"):
            k = np.floor(aa / dd)
        out[random] = aa * _pois_cdf(k, ll) - dd * ll * _pois_cdf(k - 1, ll)
    # d1 > 0 with lam == 0 means N == 0: a^+ (already); d1 == 0: a^+ (already).
    return out


def _partial_positive_square(a: np.ndarray, d1: np.ndarray, lam: np.ndarray) -> np.ndarray:
    r""":math:`H(a) = E[((a - d_1 N)^+)^2] / 2`, the antiderivative of :math:`G` in :math:`a`.

    With :math:`k = \lfloor a/d_1 \rfloor`, :math:`E[N; N\le k] = \lambda F(k-1)` and
    :math:`E[N(N-1); N \le k] = \lambda^2 F(k-2)`:
    :math:`2H = a^2 F(k) - 2 a d_1 \lambda F(k-1) + d_1^2 (\lambda^2 F(k-2) + \lambda F(k-1))`.
    """
    a, d1, lam = np.broadcast_arrays(a, d1, lam)
    out = np.array(0.5 * np.maximum(a, 0.0) ** 2, dtype=float)
    random = (d1 > 0) & (lam > 0) & (a > 0)
    if random.any():
        aa, dd, ll = a[random], d1[random], lam[random]
        with np.errstate(over="ignore"):
            k = np.floor(aa / dd)
        f0, f1, f2 = (_pois_cdf(k - j, ll) for j in (0, 1, 2))
        out[random] = 0.5 * (aa**2 * f0 - 2 * aa * dd * ll * f1 + dd**2 * (ll**2 * f2 + ll * f1))
    return out


# --------------------------------------------------------------------------------------------
# overruns: the stationary law of the sync windows, by a Markov chain on a grid
# --------------------------------------------------------------------------------------------
#: ``refresh_lag`` uses the closed form when P(D >= P) for a sync started on time is at most this
#: (the periodic formulas are then exact to about this size in the CDF, see ``refresh_lag``), and
#: the Markov chain of :func:`_overrun_law` otherwise.
OVERRUN_THRESHOLD = 1e-6
#: Phase grid points per period of the Markov chain (grid step h = P / 64).
OVERRUN_GRID_POINTS = 64
_TAIL_EPS = 1e-10


def _tail_rate(m: float, d1: float) -> float:
    r"""Decay rate :math:`\theta^*` of the back-to-back window's exponential tail.

    The windows of back-to-back syncs follow :math:`A' = d_0 + d_1\,\mathrm{Poisson}(mA)`, whose
    cumulant is :math:`\theta d_0 + mA(e^{\theta d_1} - 1)`; :math:`\theta^* > 0` solves
    :math:`m(e^{\theta d_1} - 1) = \theta` (exists when :math:`d_1 m < 1`), and the stationary
    tail decays like :math:`e^{-\theta^* a}`.  Used only to size the grid.
    """
    rho = m * d1
    if d1 <= 0.0 or m <= 0.0 or rho < 1e-12:
        return np.inf   # changes so rare that the Poisson quantiles alone size the grid
    # with y = theta d1: e^y - 1 = y / rho, i.e. the positive root of log1p(y / rho) - y
    g = lambda y: np.log1p(y / rho) - y  # noqa: E731
    hi = 1.0
    while g(hi) > 0:
        hi *= 2.0
    lo = hi / 2.0 if hi > 1.0 else 1e-300
    while g(lo) <= 0 and lo > 1e-300:
        lo /= 2.0
    return float(optimize.brentq(g, lo, hi, xtol=1e-300, rtol=1e-10)) / d1


def _window_grid(K: int, d0: float, d_max: float, P: float) -> np.ndarray:
    """Duration grid in units of h = P / K (integers): every integer from d0/h up to 2K, then a
    spacing that grows with the duration (relative step 1 / 2K), up to d_max."""
    n0 = int(np.floor(d0 * K / P))
    top = int(np.ceil(d_max * K / P)) + 1
    uk = 2 * K
    dense = np.arange(n0, max(min(top, uk), n0) + 1, dtype=np.int64)
    out = [dense]
    n = int(dense[-1])
    extra = []
    while n < top:
        n += max(1, n // uk)
        extra.append(n)
    if extra:
        out.append(np.asarray(extra, dtype=np.int64))
    g = np.concatenate(out)
    return g if g.size >= 2 else np.array([n0, n0 + 1], dtype=np.int64)


def _poisson_tail_range(lam, eps):
    r"""Integers ``(n_lo, n_hi)`` with :math:`P(N < n_{lo}) \le \epsilon` and
    :math:`P(N > n_{hi}) \le \epsilon` for :math:`N \sim \mathrm{Poisson}(\lambda)`, from the
    Chernoff/Bennett bounds (vectorized, no special functions).

    >>> lo, hi = _poisson_tail_range(np.array([0.0, 1.0, 100.0]), 1e-10)
    >>> lo.tolist(), hi.tolist()
    ([0, 0, 31], [17, 20, 177])
    >>> from scipy import stats
    >>> bool(stats.poisson.cdf(lo[2] - 1, 100.0) <= 1e-10), bool(stats.poisson.sf(hi[1:], [1.0, 100.0]).max() <= 1e-10)
    (True, True)
    """
    L = np.log(1.0 / eps)
    lam = np.asarray(lam, dtype=float)
    n_lo = np.maximum(np.floor(lam - np.sqrt(2.0 * L * lam)) - 1.0, 0.0).astype(np.int64)
    n_hi = np.ceil(lam + L / 3.0 + np.sqrt(L * L / 9.0 + 2.0 * L * lam)).astype(np.int64) + 1
    return n_lo, n_hi


def _duration_kernel(windows_s, grid, d0, d1, m, h):
    """Sparse matrix (grid x rows): column r = law of the next duration d0 + d1 Poisson(m
    windows_s[r]) on the duration grid of one chain (:func:`_duration_kernels` with one chain)."""
    windows_s = np.asarray(windows_s, dtype=float)
    return _duration_kernels(windows_s, np.zeros(windows_s.size, dtype=np.int64), np.asarray(grid),
                             np.array([0, grid.size]), *(np.array([v], dtype=float) for v in (d0, d1, m, h)))


def _chain_grid(P, d0, d1, m, K):
    """Phase step ``h = P / K`` and the duration grid (units of h) of one overrun chain: it
    reaches 8 standard deviations of the back-to-back duration plus the exponential tail's
    1e-10 point."""
    h = P / K
    rho = d1 * m
    mu = max(P, d0 / (1.0 - rho))
    sig = np.sqrt(d1 * d1 * m * mu / (1.0 - rho * rho))
    d_max = max(P, mu + 8.0 * sig + np.log(1.0 / _TAIL_EPS) / _tail_rate(m, d1), d0 + h)
    return h, _window_grid(K, d0, d_max, P)


def _overrun_law(P, d0, d1, m, grid_points=OVERRUN_GRID_POINTS, tol=1e-10, max_iter=20000):
    r"""Stationary law of the sync windows when syncs may overrun (one configuration).

    The state at a sync start is the pair (phase :math:`x` of the start in the tick grid,
    duration :math:`D` of the sync).  The next start is the tick :math:`P - x` later if
    :math:`x + D \le P` (window :math:`A' = P - x`, phase 0), else the end of this sync (window
    :math:`A' = D`, phase :math:`(x + D) \bmod P`); the next duration is
    :math:`d_0 + d_1 \mathrm{Poisson}(mA')`.  Phase and duration live on one grid of step
    :math:`h = P/K` (durations above :math:`2P` on a grid whose step grows by 1/(2K) relative,
    still multiples of h, so the phase shift stays exact); the Poisson law of each duration is
    split between neighbouring grid points, keeping its mean.  Power iteration until the total
    variation change of the window law in 5 steps is below ``tol``: the plain method, the tests'
    oracle for :func:`_overrun_laws` (which ``refresh_lag`` uses) and the solver when
    ``d0 > P``.

    Returns
    -------
    windows_s, weights : ndarray
        Support and probabilities of the Palm law of the window :math:`A` (time between the
        previous start and a sync's start; the sync carries :math:`\mathrm{Poisson}(mA)` changes).
    overrun_share : float
        Stationary share of syncs that end after the next tick (:math:`x + D > P`).
    iterations : int
    """
    P, d0, d1, m = float(P), float(d0), float(d1), float(m)
    K = int(grid_points)
    h, g = _chain_grid(P, d0, d1, m, K)
    i = np.arange(K)
    q_late = _duration_kernel(g * h, g, d0, d1, m, h)            # (grid, grid) transposed
    q_tick = _duration_kernel(P - i * h, g, d0, d1, m, h)        # window P - x
    if d0 > P:
        # every refresh overruns (x + D >= D >= d0 > P): the phase never matters and the
        # windows are the durations, a chain on the duration grid alone
        pi = q_late @ q_tick[:, 0].toarray().ravel()
        prev = pi
        it = 0
        for it in range(1, max_iter + 1):
            pi = q_late @ pi
            pi /= pi.sum()
            if it % 5 == 0:
                if np.abs(pi - prev).sum() < tol:
                    break
                prev = pi
        return g * h, pi, 1.0, it
    over = (i[:, None] + g[None, :]) > K                         # x + D > P
    src = (i[:, None] - g[None, :]) % K                          # phase before the shift
    over_src = np.take_along_axis(over, src, axis=0)
    src_flat = (src * g.size + np.arange(g.size)[None, :]).ravel()   # pi[src, j], flat
    pi = np.zeros((K, g.size))
    pi[0] = q_tick[:, 0].toarray().ravel()
    # windows in units of h: K - i after a tick start, g_j after a late start (one value grid)
    index = np.concatenate([K - i, g])
    size = int(index.max()) + 1

    def window_law(pi):
        w = np.concatenate([np.where(over, 0.0, pi).sum(axis=1), np.where(over, pi, 0.0).sum(axis=0)])
        return np.bincount(index, weights=w, minlength=size)

    prev = None
    it = 0
    for it in range(1, max_iter + 1):
        tick = np.where(over, 0.0, pi).sum(axis=1)
        late = pi.ravel().take(src_flat).reshape(pi.shape) * over_src
        new = (q_late @ late.T).T
        new[0] += q_tick @ tick
        pi = new / new.sum()
        if it % 5 == 0:
            w = window_law(pi)
            if prev is not None and np.abs(w - prev).sum() < tol:
                break
            prev = w
    w = window_law(pi)
    units = np.flatnonzero(w > 0)
    windows = np.where(units == K, P, units * h)
    return windows, w[units] / w[units].sum(), float(np.where(over, pi, 0.0).sum()), it


def _duration_kernels(windows_s, chain, grid, start, d0, d1, m, h):
    r"""Sparse matrix (stacked grids x rows), block-diagonal by chain: column ``r`` is the law of
    the next duration :math:`d_0 + d_1\,\mathrm{Poisson}(m A_r)` after row ``r``'s window
    :math:`A_r` = ``windows_s[r]``, on the grid of its chain ``chain[r]`` (``start`` = offset of
    each chain's grid in ``grid``), mass split between the two neighbouring grid points so each
    column keeps its mean; Poisson tails of at most 1e-10 dropped and the column renormalized.

    The kept range comes from the Chernoff bounds :math:`P(N \le \lambda - x) \le
    e^{-x^2/2\lambda}` and :math:`P(N \ge \lambda + x) \le e^{-x^2/2(\lambda + x/3)}`
    (Bennett's inequality), with no quantile solve: a few more terms than the exact 1e-10
    quantiles, and ``pdtrik`` cost 1.3 µs per row (issue 13)."""
    lam = m[chain] * windows_s
    n_lo, n_hi = _poisson_tail_range(lam, _TAIL_EPS)
    n_hi = np.where(d1[chain] == 0.0, n_lo, n_hi)
    width = n_hi - n_lo + 1
    row = np.repeat(np.arange(lam.size), width)
    n = n_lo[row] + (np.arange(row.size) - np.repeat(np.cumsum(width) - width, width))
    c_of = chain[row]
    pmf = np.where(d1[c_of] == 0.0, 1.0, _pois_pmf(n, lam[row]))
    pos = (d0[c_of] + d1[c_of] * n) / h[c_of]
    # the cell of pos in its own chain's grid: one search in the stacked grid, keys offset by chain
    gf = grid.astype(float)
    big = float(gf.max()) + 2.0
    owner = np.repeat(np.arange(start.size - 1), np.diff(start))
    key = gf + owner * big
    c = np.searchsorted(key, np.clip(pos, -1.0, big - 1.0) + c_of * big, side="right") - 1
    c = np.clip(c, start[c_of], start[c_of + 1] - 2)
    fr = np.clip((pos - gf[c]) / (gf[c + 1] - gf[c]), 0.0, 1.0)
    pmf = pmf / np.bincount(row, weights=pmf, minlength=lam.size)[row]
    vals = np.concatenate([pmf * (1.0 - fr), pmf * fr])
    q = sparse.csr_matrix((vals, (np.concatenate([c, c + 1]), np.concatenate([row, row]))),
                          shape=(grid.size, lam.size))
    q.eliminate_zeros()
    return q


#: Configurations from which :func:`refresh_lag` looks for repeated ones (smaller calls are
#: cheaper evaluated as they come).
_REPEAT_MIN_SIZE = 4096

#: Power iterations the chains of a batch take together (:func:`_overrun_laws`); a chain not
#: finished by then is solved on its own by Arnoldi iteration (:func:`_arnoldi_law`).
_POWER_STEPS = 10


def _overrun_laws(P, d0, d1, m, grid_points=OVERRUN_GRID_POINTS, tol=1e-10, max_iter=20000):
    r""":func:`_overrun_law`'s stationary law for many configurations with ``d0 < P`` at once
    (1-D arrays; :func:`_solve_chains` sends ``d0 = P`` elsewhere), in two stages.

    1. **Power iteration, all chains together** as one block-diagonal system, at most
       ``_POWER_STEPS`` (10) steps.  A chain is finished at step :math:`k \ge 2` when the total
       variation change of its window law in that step plus the change of its overrun share,
       :math:`d_k`, is below ``tol`` and :math:`d_k / d_{k-1} \le 1/2`: if the changes keep
       shrinking at least that fast, the distance left to the limit, :math:`\sum_{j>k} d_j`, is
       at most :math:`d_k`.  Light overruns (the chain leaves phase 0 with probability near
       ``OVERRUN_THRESHOLD``) finish in 2-4 steps (the one-by-one loop's 5-step rule takes 10).
    2. **Arnoldi iteration, one chain at a time**, for the others: the eigenvector of the
       transition operator for its largest eigenvalue, 1 (ARPACK through
       ``scipy.sparse.linalg.eigs``, implicitly restarted Arnoldi, LehoucqSorensenYang1998),
       started from the power iterate.  Heavy overruns, whose power iteration mixes slowly
       (15-460 steps), take 21-190 operator products (the 20 laws of ``benchmarks/bench_scale.py``
       and :math:`d_1 m = 0.995`).  The result is accepted when the eigenvalue is 1 to 1e-9,
       the vector has no entry below -1e-12 (the rest of it is clipped to 0), and one more
       product changes its window law (total variation) and overrun share by less than ``tol``
       together; otherwise the chain goes on by power iteration with the 5-step rule of
       :func:`_overrun_law` up to ``max_iter`` steps in all.

    Returns the list of ``(windows_s, weights, overrun_share, operator_products)``.  The laws
    agree with the power iteration of :func:`_overrun_law` run to convergence
    (tests/test_sync_overrun.py); Arnoldi's are the closer to the limit of the two (window
    laws within 1e-12 of 3000 power steps against 1e-10 for the 5-step rule, on the 20 laws of
    ``benchmarks/bench_scale.py``).
    """
    K = int(grid_points)
    C = P.size
    hs, grids = zip(*(_chain_grid(float(a), float(b), float(c), float(e), K) for a, b, c, e in zip(P, d0, d1, m)))
    h = np.asarray(hs)
    out = [None] * C
    i = np.arange(K)
    sizes = np.array([g.size for g in grids])
    start = np.concatenate([[0], np.cumsum(sizes)])
    grid = np.concatenate(grids)
    owner = np.repeat(np.arange(C), sizes)
    q_late = _duration_kernels(grid * h[owner], owner, grid, start, d0, d1, m, h)            # (G, G)
    tick_chain = np.repeat(np.arange(C), K)
    q_tick = _duration_kernels(P[tick_chain] - np.tile(i, C) * h[tick_chain], tick_chain, grid, start,
                               d0, d1, m, h)                                                  # (G, C K)
    size_w = np.array([max(K, int(g.max())) + 1 for g in grids])
    system = _ChainSystem(grid, start, q_late, q_tick, K, size_w)
    pi = np.zeros((grid.size, K))
    pi[:, 0] = np.asarray(q_tick[:, np.arange(C) * K].sum(axis=1)).ravel()   # a start at phase 0

    done = np.zeros(C, dtype=bool)
    prev, prev_shares, tick = system.laws(pi)
    prev_tv = None
    for it in range(1, _POWER_STEPS + 1):
        pi = system.normalized(system.step(pi, tick))
        w, shares, tick = system.laws(pi)
        tv = np.bincount(system.chain_w, weights=np.abs(w - prev), minlength=C) + np.abs(shares - prev_shares)
        if prev_tv is not None:
            with np.errstate(divide="ignore", invalid="ignore"):
                fast = (tv == 0.0) | (tv <= 0.5 * prev_tv)
            newly = np.flatnonzero(~done & (tv < tol) & fast)
            for k in newly:
                out[k] = _window_result(system.window_law(w, k), K, P[k], h[k], shares[k], it)
            done[newly] = True
            if done.all():
                return out
        prev, prev_tv, prev_shares = w, tv, shares
    for k in np.flatnonzero(~done):
        one = system.chain(k)
        w, share, products = _arnoldi_law(one, pi[start[k]:start[k + 1]], tol, max_iter - _POWER_STEPS)
        out[k] = _window_result(w, K, P[k], h[k], share, _POWER_STEPS + products)
    return out


class _ChainSystem:
    """Overrun chains as one block-diagonal transition operator on the state ``pi`` of shape
    (rows, K): the rows are the chains' duration grid points stacked (chain ``k`` owns rows
    ``start[k]:start[k + 1]``), the columns the phase.  :func:`_overrun_laws` steps all its
    chains with one; :meth:`chain` gives one chain's own system for the Arnoldi stage."""

    def __init__(self, grid, start, q_late, q_tick, K, size_w):
        i = np.arange(K)
        self.grid, self.start, self.K, self.size_w = grid, start, K, size_w
        self.q_late, self.q_tick = q_late.tocsr(), q_tick.tocsr()
        self.shape = (grid.size, K)
        self.owner = np.repeat(np.arange(start.size - 1), np.diff(start))
        self.over = (i[None, :] + grid[:, None]) > K                        # x + D > P
        src = (i[None, :] - grid[:, None]) % K                              # phase before the shift
        self.over_src = np.take_along_axis(self.over, src, axis=1)
        self.src_flat = (np.arange(grid.size)[:, None] * K + src).ravel()
        # window law index: K - i after a tick start, g after a late start, per chain
        self.off_w = np.concatenate([[0], np.cumsum(size_w)])
        self.idx = np.concatenate([(self.off_w[:-1][:, None] + (K - i)[None, :]).ravel(),
                                   self.off_w[self.owner] + grid])
        self.chain_w = np.repeat(np.arange(start.size - 1), size_w)
        self.products = 0

    def tick(self, pi):
        """Mass of the starts that end by the next tick, per chain and phase: (chains, K)."""
        return np.add.reduceat(np.where(self.over, 0.0, pi), self.start[:-1], axis=0)

    def step(self, pi, tick=None):
        """One transition, not normalized (``tick``: :meth:`tick` of ``pi``, if at hand)."""
        self.products += 1
        pi = pi.reshape(self.shape)
        if tick is None:
            tick = self.tick(pi)
        new = self.q_late @ (pi.ravel().take(self.src_flat).reshape(self.shape) * self.over_src)
        new[:, 0] += self.q_tick @ tick.ravel()
        return new

    def normalized(self, pi):
        """``pi`` with each chain's mass scaled to 1."""
        return pi / np.add.reduceat(pi.sum(axis=1), self.start[:-1])[self.owner][:, None]

    def laws(self, pi):
        """Every chain's binned window law (concatenated), overrun share, and :meth:`tick`."""
        late_w = np.where(self.over, pi, 0.0).sum(axis=1)
        tick = self.tick(pi)
        w = np.bincount(self.idx, weights=np.concatenate([tick.ravel(), late_w]), minlength=self.off_w[-1])
        return w, np.bincount(self.owner, weights=late_w, minlength=self.start.size - 1), tick

    def window_law(self, w, k):
        """Chain ``k``'s part of the concatenated window laws ``w``."""
        return w[self.off_w[k]:self.off_w[k + 1]]

    def chain(self, k):
        """Chain ``k`` alone, as a system of its own."""
        s, e, K = self.start[k], self.start[k + 1], self.K
        return _ChainSystem(self.grid[s:e], np.array([0, e - s]), self.q_late[s:e, s:e],
                            self.q_tick[s:e, k * K:(k + 1) * K], K, self.size_w[k:k + 1])


def _arnoldi_law(op, pi0, tol, max_iter):
    """Stationary window law of one chain (``op``: its :class:`_ChainSystem`): ARPACK's leading
    eigenvector from ``pi0``, checked (eigenvalue 1, no negative mass, one more step moves the
    window law and the overrun share by less than ``tol`` together), else power iteration from
    ``pi0`` with the 5-step rule.  Returns ``(window_law, overrun_share, products)``."""
    pi = op.normalized(pi0)
    found = _arnoldi_vector(op, pi, tol)
    if found is not None:
        return (*found, op.products)
    prev = None
    while op.products < max_iter:
        pi = op.normalized(op.step(pi))
        if op.products % 5 == 0:
            w = op.laws(pi)[0]
            if prev is not None and np.abs(w - prev).sum() < tol:
                break
            prev = w
    w, share, _ = op.laws(pi)
    return w, float(share[0]), op.products


def _arnoldi_vector(op, pi, tol):
    """``(window_law, overrun_share)`` of ARPACK's leading eigenvector started at ``pi``, or
    ``None`` when ARPACK fails or the vector misses a check of :func:`_arnoldi_law`."""
    from scipy.sparse import linalg as sla

    n = pi.size
    A = sla.LinearOperator((n, n), matvec=lambda v: op.step(v).ravel(), dtype=float)
    try:
        vals, vecs = sla.eigs(A, k=1, which="LM", v0=pi.ravel(), tol=1e-13, ncv=min(20, n - 1))
    except sla.ArpackError:           # no convergence (a subclass) or a breakdown
        return None
    v = np.real(vecs[:, 0])
    v = v / v.sum()
    if abs(vals[0] - 1.0) >= 1e-9 or v.min() < -1e-12:
        return None
    v = op.normalized(np.maximum(v, 0.0).reshape(op.shape))
    w, share, _ = op.laws(v)
    w_next, share_next, _ = op.laws(op.normalized(op.step(v)))
    if np.abs(w_next - w).sum() + abs(share_next[0] - share[0]) >= tol:
        return None
    return w, float(share[0])


def _window_result(w, K, P, h, share, it):
    """``(windows_s, weights, overrun_share, iterations)`` from a chain's binned window law."""
    units = np.flatnonzero(w > 0)
    windows = np.where(units == K, P, units * h)
    return windows, w[units] / w[units].sum(), float(share), int(it)


#: Duration-grid rows per batch of chains iterated together (memory: a few arrays of rows x K).
_CHAIN_BATCH_ROWS = 40_000


def _solve_chains(P, d0, d1, m, K):
    """The overrun law of every configuration (1-D arrays): chains with ``d0 < P`` in batches
    (:func:`_overrun_laws`), the others one by one by power iteration (:func:`_overrun_law`).

    ``d0 > P``: every refresh overruns.  ``d0 = P`` (to 1e-6 grid steps): no refresh fits in
    less than a period, so a start off phase 0 never comes back to a tick; each residue of the
    phase modulo the durations' common step is a class the chain does not leave, the
    eigenvalue 1 is multiple (Arnoldi may return a mixture of classes the first start never
    reaches), and the phases mix very slowly while the window law settles in a few dozen steps.
    Power iteration from the first start, stopped by the window law, keeps the results these
    configurations had before the Arnoldi stage; their ``overrun_share`` is then the share at
    that step, not the limit (for d0 = P, d1 = P/8, m = 0.01/s: 0.877 after 20 steps, 0.887 in
    the limit, reached after about 1000)."""
    out = [None] * P.size
    alone = d0 * K / P > K - 1e-6
    for k in np.flatnonzero(alone):
        out[k] = _overrun_law(P[k], d0[k], d1[k], m[k], grid_points=K)
    rest = np.flatnonzero(~alone)
    batch, rows = [], 0
    for pos, k in enumerate(rest):
        batch.append(k)
        rows += int(np.ceil(max(P[k], d0[k] / max(1.0 - d1[k] * m[k], 1e-300)) / P[k])) * 2 * K   # ~grid size
        if rows >= _CHAIN_BATCH_ROWS or pos == rest.size - 1:
            sel = np.asarray(batch)
            for k2, law in zip(sel, _overrun_laws(P[sel], d0[sel], d1[sel], m[sel], grid_points=K)):
                out[k2] = law
            batch, rows = [], 0
    return out


def _mixture_G(fn, x, d1, m, a, w):
    """sum_s w_s [fn(x; a_s) - fn(x - a_s; a_s)] for rows of padded (a, w); x, d1, m are 1-D."""
    lam = m[:, None] * a
    return np.sum(w * (fn(x[:, None], d1[:, None], lam) - fn(x[:, None] - a, d1[:, None], lam)), axis=1)


@dataclass(frozen=True)
class RefreshLag(Result):
    r"""Lag of a periodically refreshed copy: visibility lag of a write (and snapshot age).

    Attributes
    ----------
    period_s : ndarray
        The configured refresh period :math:`P` (s).
    base_duration_s, duration_per_change_s, change_rate_per_s : ndarray
        :math:`d_0` (s), :math:`d_1` (s per change), :math:`m` (changes per s).
    duration_s : ndarray
        Mean refresh duration over refreshes (s): :math:`d_0 + d_1 m P` (closed form),
        :math:`d_0 + d_1 m E[A]` (Markov chain), ``inf`` when unbounded.
    effective_period_s : ndarray
        Mean time between refresh starts :math:`E[A]` (s): :math:`P` (closed form), the
        stationary mean window of the Markov chain when refreshes overrun (about
        :math:`d_0 / (1 - d_1 m)` back to back), ``inf`` when unbounded.
    back_to_back : ndarray of bool
        Nominal mean duration :math:`d_0 + d_1 m P \ge P`: most refreshes start as soon as the
        previous one ends (a capacity warning; the numbers still come from the exact chain).
    unbounded : ndarray of bool
        :math:`d_1 m \ge 1`: each refresh brings at least as many changes as it clears; the lag
        grows without bound (all lags ``inf``).
    p_overrun : ndarray
        :math:`P(D \ge P)` for a refresh started on time (window :math:`P`, Poisson law); 1 when
        back to back.  Decides the method: closed form when it is at most
        ``OVERRUN_THRESHOLD`` (1e-6).
    overrun_share : ndarray
        Stationary share of refreshes that end after the next tick, so that the next one starts
        late (Markov chain; equals ``p_overrun`` in the closed-form regime, where it is below
        1e-6 and the difference is of second order).  1 when unbounded (every refresh overruns).
        Not converged when the base duration equals the period exactly (``d0 = P``): there the
        phases of the starts mix far more slowly than the window law (which the lag depends
        on) settles, and the share is the one at the step where the window law settled (d0 = P,
        d1 = P/8, m = 0.01/s: 0.877, against 0.887 after 1000 steps).
    mean_s, std_s : ndarray
        Mean and standard deviation of the lag (s).
    method : ndarray of str
        How the law was obtained, per configuration: ``"closed form"`` (exact for the
        no-overrun model), ``"markov chain"`` (overruns included, numerical, see
        :func:`refresh_lag`) or ``"unbounded"``.

    References
    ----------
    Leibowitz2021 and ADX-Follower (periodic follower sync whose duration grows with the
    metadata changes), ADX-WeakConsistencyPolicy (query-head refresh period),
    BaccelliBremaud2003 (Palm inversion: the time-stationary law when refreshes overrun) in
    docs/references.rst.
    """

    period_s: np.ndarray
    base_duration_s: np.ndarray
    duration_per_change_s: np.ndarray
    change_rate_per_s: np.ndarray
    duration_s: np.ndarray
    effective_period_s: np.ndarray
    back_to_back: np.ndarray
    unbounded: np.ndarray
    p_overrun: np.ndarray
    mean_s: np.ndarray
    std_s: np.ndarray
    overrun_share: np.ndarray = None  # type: ignore[assignment]
    method: np.ndarray = None  # type: ignore[assignment]
    # Palm law of the windows of the chain configurations: row _law_index[cfg] of the padded
    # (rows, support) arrays; -1 for closed-form and unbounded configurations.
    _law_index: np.ndarray = field(default=None, repr=False, compare=False)  # type: ignore[assignment]
    _law_windows_s: np.ndarray = field(default=None, repr=False, compare=False)  # type: ignore[assignment]
    _law_weights: np.ndarray = field(default=None, repr=False, compare=False)  # type: ignore[assignment]

    @property
    def shape(self) -> tuple[int, ...]:
        """Broadcast shape of the configurations."""
        return np.shape(self.mean_s)

    def to_frame(self) -> pd.DataFrame:
        """One row per configuration, with the ``method`` column."""
        frame = super().to_frame()
        if self.method is not None:
            frame["method"] = np.ravel(np.broadcast_to(self.method, self.shape)) if frame.shape[0] else []
        return frame

    def _take(self, index):
        """The configurations ``index`` (an integer array) of a 1-D result, as a result of
        ``index``'s shape (the chain laws are shared, not copied)."""
        values = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            values[f.name] = v if v is None or f.name in ("_law_windows_s", "_law_weights") else np.asarray(v)[index][()]
        return RefreshLag(**values)

    def _law_rows(self, shape):
        """Law row per element of ``shape`` (-1: closed form / unbounded)."""
        if self._law_index is None:
            return np.full(shape, -1, dtype=np.int64)
        return np.broadcast_to(self._law_index, shape)

    def _chain_sum(self, fn, x, d1, m, rows):
        """Mixture over the chain windows of fn(x)-fn(x-a), in chunks (memory < ~64 MB)."""
        a_all, w_all = self._law_windows_s, self._law_weights
        out = np.empty(x.size)
        step = max(1, 2_000_000 // a_all.shape[1])
        for lo in range(0, x.size, step):
            r = rows[lo:lo + step]
            out[lo:lo + step] = _mixture_G(fn, x[lo:lo + step], d1[lo:lo + step], m[lo:lo + step],
                                           a_all[r], w_all[r])
        return out

    def _chain_sum_and_slope(self, x, d1, m, rows):
        """:meth:`_chain_sum` of :math:`G` and of its derivative :math:`G'` together (one Poisson
        CDF per point, :func:`_g_and_slope`)."""
        a_all, w_all = self._law_windows_s, self._law_weights
        g_out, s_out = np.empty(x.size), np.empty(x.size)
        step = max(1, 1_000_000 // a_all.shape[1])
        for lo in range(0, x.size, step):
            r, sl = rows[lo:lo + step], slice(lo, lo + step)
            a, w = a_all[r], w_all[r]
            xx, dd, lam = np.broadcast_arrays(x[sl, None], d1[sl, None], m[sl, None] * a)
            g1, s1 = _g_and_slope(xx.ravel(), dd.ravel(), lam.ravel())
            g2, s2 = _g_and_slope((xx - a).ravel(), dd.ravel(), lam.ravel())
            g_out[sl] = np.sum(w * (g1 - g2).reshape(a.shape), axis=1)
            s_out[sl] = np.sum(w * (s1 - s2).reshape(a.shape), axis=1)
        return g_out, s_out

    def cdf(self, t_s) -> np.ndarray:
        r""":math:`P(L \le t)`; ``t_s`` broadcasts against the configurations (scipy style).

        Closed form (exact when refreshes never overrun):

        .. math:: F(t) = \frac{G_P(t - d_0) - G_P(t - d_0 - P)}{P},\quad
                  G_a(x) = E[(x - d_1 N_a)^+] = x\,F_{N_a}(k) - d_1 m a\,F_{N_a}(k - 1),

        :math:`k = \lfloor x/d_1 \rfloor`, :math:`N_a \sim \mathrm{Poisson}(ma)`.  Markov chain:
        the same with the window :math:`A` drawn from its stationary Palm law and length-biased,
        :math:`F(t) = E[G_A(t - d_0) - G_A(t - d_0 - A)] / E[A]`.  Unbounded: 0 for finite t.
        """
        t = as_float_array("t_s", t_s, allow_inf=True)
        P, d0, d1, m, unb = np.broadcast_arrays(
            self.period_s, self.base_duration_s, self.duration_per_change_s,
            self.change_rate_per_s, self.unbounded,
        )
        t, P, d0, d1, m, unb = np.broadcast_arrays(t, P, d0, d1, m, unb)
        tf = np.where(np.isfinite(t), t, 0.0)
        out = (_partial_positive_mean(tf - d0, d1, m * P) - _partial_positive_mean(tf - d0 - P, d1, m * P)) / P
        rows = self._law_rows(t.shape)
        chain = (rows >= 0) & np.isfinite(t)
        if chain.any():
            r = rows[chain]
            mean_a = np.sum(self._law_windows_s * self._law_weights, axis=1)[r]
            out = np.array(out, dtype=float)
            out[chain] = self._chain_sum(_partial_positive_mean, tf[chain] - d0[chain], d1[chain],
                                         m[chain], r) / mean_a
        out = np.where(np.isposinf(t), 1.0, np.where(np.isneginf(t), 0.0, out))
        out = np.where(unb, np.where(np.isposinf(t), 1.0, 0.0), out)
        return np.clip(out, 0.0, 1.0)

    def sf(self, t_s) -> np.ndarray:
        r""":math:`P(L > t) = 1 - F(t)`."""
        return 1.0 - self.cdf(t_s)

    def mean(self) -> np.ndarray:
        """:math:`E[L]` (s): the ``mean_s`` field (the vocabulary shared by every distribution)."""
        return self.mean_s

    def quantile(self, q) -> np.ndarray:
        """Alias of :meth:`ppf` (same values)."""
        return self.ppf(q)

    def ppf(self, q) -> np.ndarray:
        """The lag's ``q``-quantile (s): the smallest t with ``cdf(t) >= q`` (to 1e-9 relative).

        Closed form: safeguarded Newton steps on the piecewise-linear CDF inside a shrinking
        bracket (vectorized); Markov chain: the same on the mixture CDF (:func:`_bracketed_newton`,
        from the closed-form quantile at the length-biased mean window, about 3 evaluations per
        quantile), once per distinct law and ``q``.  The Poisson law has
        unbounded support, so ``q = 1`` gives the point where the CDF reaches 1 in floating
        point (exactly ``d0 + P`` when ``d1 m = 0``).
        """
        q = check_probability("q", q)
        shape = np.broadcast_shapes(np.shape(q), self.shape)
        q = np.broadcast_to(q, shape)
        P, d0, d1, m, unb = (np.broadcast_to(x, shape) for x in (
            self.period_s, self.base_duration_s, self.duration_per_change_s,
            self.change_rate_per_s, self.unbounded))
        rows = self._law_rows(shape)
        chain = rows >= 0
        q_n = np.minimum(q, 1.0 - 1e-15)
        a_max = np.array(P, dtype=float)
        if chain.any():
            a_max[chain] = np.max(self._law_windows_s, axis=1)[rows[chain]]
        lam = m * a_max
        n_hi = _pois_upper(lam)
        if chain.any():
            # the Poisson quantile depends on the law row and q only: once per distinct pair
            first, inv = unique_row_index(rows[chain], q_n[chain])
            lam_u, q_u = lam[chain][first], q_n[chain][first]
            n_hi[chain] = _pois_ppf(q_u, lam_u)[inv]
        lo = np.array(d0, dtype=float)
        hi = np.array(d0 + a_max + d1 * np.maximum(n_hi, 0.0), dtype=float)
        lo = np.where(unb, 0.0, lo)
        hi = np.where(unb, 0.0, hi)
        out = np.array(hi, dtype=float)
        closed = ~chain & ~unb & (q > 0)
        if closed.any():
            out[closed] = _closed_form_quantile(q[closed], P[closed], d0[closed], d1[closed], m[closed],
                                                lo[closed], hi[closed])
        sel = chain & (q > 0)
        if sel.any():
            # one bisection per distinct (chain law, q): every element with that law row shares
            # P, d0, d1 and m, hence the bracket and the answer (sweeps repeat them)
            idx = np.flatnonzero(sel)
            first, inv = unique_row_index(rows[sel], q[sel])
            rep = idx[first]
            view = _ChainView(self, rows.ravel()[rep], d0.ravel()[rep], d1.ravel()[rep], m.ravel()[rep])
            lo_c, hi_c, qq = lo.ravel()[rep], hi.ravel()[rep], q.ravel()[rep]
            # start from the closed-form quantile with the period replaced by the length-biased
            # mean window E[A^2] / E[A] (exact when the chain never leaves phase 0)
            r_u = rows.ravel()[rep]
            a_u, w_u = self._law_windows_s[r_u], self._law_weights[r_u]
            p_eff = np.sum(a_u * a_u * w_u, axis=1) / np.sum(a_u * w_u, axis=1)
            d0_u, d1_u, m_u = d0.ravel()[rep], d1.ravel()[rep], m.ravel()[rep]
            start = _closed_form_quantile(qq, p_eff, d0_u, d1_u, m_u, np.array(d0_u, dtype=float),
                                          d0_u + p_eff + d1_u * _pois_upper(m_u * p_eff))
            start = np.clip(start, lo_c, hi_c)
            hi_c = _bracketed_newton(view.cdf_and_density, qq, lo_c, hi_c, start)
            out.ravel()[idx] = hi_c[inv.ravel()]
        out = np.where(q <= 0, d0, out)
        return np.where(unb, np.inf, out)

    def expected_excess_s(self, w_s) -> np.ndarray:
        r""":math:`E[(L - w)^+]` (s): how far past ``w_s`` the lag runs, on average.

        Used for the leader+follower union window: a query that reads the last ``w`` seconds
        from the leader misses, on average, this much of the follower's part.  Exact for the
        stated law:

        .. math:: E[(L - w)^+] = E[L] - w + \frac{E[H_A(w - d_0) - H_A(w - d_0 - A)]}{E[A]},

        with :math:`H_a(x) = E[((x - d_1 N_a)^+)^2]/2` in closed form (Poisson CDFs) and
        :math:`A = P` in the closed-form regime.  The difference is taken of terms of size
        :math:`E[L] + w + w^2/P`: a result within 64 units of rounding of them is reported as 0
        (a window far beyond the lag's support gave 5.7e-14 s instead of 0).

        >>> round(float(refresh_lag(60.0, 2.0).expected_excess_s(32.0)), 6)   # U(2, 62): 30^2/120
        7.5
        """
        w = as_float_array("w_s", w_s, minimum=0.0)
        P, d0, d1, m, unb, mean = np.broadcast_arrays(
            self.period_s, self.base_duration_s, self.duration_per_change_s, self.change_rate_per_s,
            self.unbounded, self.mean_s)
        w, P, d0, d1, m, unb, mean = np.broadcast_arrays(w, P, d0, d1, m, unb, mean)
        with np.errstate(invalid="ignore"):
            out = mean - w + (_partial_positive_square(w - d0, d1, m * P)
                              - _partial_positive_square(w - d0 - P, d1, m * P)) / P
        rows = self._law_rows(w.shape)
        chain = rows >= 0
        if chain.any():
            r = rows[chain]
            mean_a = np.sum(self._law_windows_s * self._law_weights, axis=1)[r]
            out = np.array(out, dtype=float)
            out[chain] = mean[chain] - w[chain] + self._chain_sum(
                _partial_positive_square, w[chain] - d0[chain], d1[chain], m[chain], r) / mean_a
        # the formula subtracts terms of size E[L] + w + w^2 / P (H grows like a^2 / 2): a result
        # within its rounding error of 0 (5.7e-14 s for w = 420 s, P = 37 s, far beyond the lag's
        # support) is 0, not a tiny positive excess
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            noise = 64 * np.finfo(float).eps * (np.abs(mean) + w + P + w * w / P)
        out = np.where(unb, np.inf, np.where(out <= noise, 0.0, out))
        return out[()]

    def sample(self, size, seed=None) -> np.ndarray:
        """Random lags (s), shape ``(*size, *self.shape)``, drawn from the stated law.

        Closed form: ``U + d0 + d1 * Poisson(m P)``; Markov chain: a window ``A`` from its
        length-biased stationary law, then ``U(0, A) + d0 + d1 * Poisson(m A)``; unbounded: ``inf``.
        """
        size = (int(size),) if np.ndim(size) == 0 else tuple(int(s) for s in size)
        rng = np.random.default_rng(seed)
        shape = size + self.shape
        P, d0, d1, m, unb = (np.broadcast_to(x, shape) for x in (
            self.period_s, self.base_duration_s, self.duration_per_change_s,
            self.change_rate_per_s, self.unbounded))
        u = rng.random(shape)
        window = np.array(P, dtype=float)
        rows = self._law_rows(shape)
        chain = rows >= 0
        if chain.any():
            a_all, w_all = self._law_windows_s, self._law_weights
            cum = np.cumsum(a_all * w_all, axis=1)
            cum /= cum[:, -1:]
            r = rows[chain]
            v = rng.random(r.size)
            k = np.empty(r.size, dtype=np.int64)
            for ur in np.unique(r):
                s = r == ur
                k[s] = np.minimum(np.searchsorted(cum[ur], v[s], side="right"), cum.shape[1] - 1)
            window[chain] = a_all[r, k]
        n = rng.poisson(np.where(unb, 0.0, m * window))
        out = (1.0 - u) * window + d0 + d1 * n
        return np.where(unb, np.inf, out)


class _ChainView:
    """The mixture CDF of selected chain elements (for bisection)."""

    def __init__(self, lag: RefreshLag, rows, d0, d1, m):
        self.lag, self.rows, self.d0, self.d1, self.m = lag, rows, d0, d1, m
        self.mean_a = np.sum(lag._law_windows_s * lag._law_weights, axis=1)[rows]

    def cdf(self, t):
        return np.clip(self.lag._chain_sum(_partial_positive_mean, t - self.d0, self.d1, self.m, self.rows)
                       / self.mean_a, 0.0, 1.0)

    def cdf_and_density(self, t, sel):
        """CDF and density of the elements ``sel`` at ``t`` (the density is the mixture of
        :math:`G'_A(t - d_0) - G'_A(t - d_0 - A)` over the length-biased windows)."""
        g, slope = self.lag._chain_sum_and_slope(t - self.d0[sel], self.d1[sel], self.m[sel], self.rows[sel])
        return np.clip(g / self.mean_a[sel], 0.0, 1.0), slope / self.mean_a[sel]


def _bracketed_newton(cdf_and_density, q, lo, hi, x, rtol=1e-9, max_rounds=200):
    r"""Smallest ``t`` with ``cdf(t) >= q``, to ``rtol`` relative, for a nondecreasing CDF with
    ``cdf(lo) < q <= cdf(hi)`` (1-D arrays; ``cdf_and_density(t, sel)`` evaluates elements
    ``sel`` at ``t``).

    Newton steps from ``x`` kept inside the bracket, which every evaluation shrinks
    (bisection when a step leaves it, and every fourth round).  When a step moves less than a
    quarter of the tolerance, the next point is that far past it on the other side of the
    root, which closes the bracket.  Returns the bracket's upper end once the bracket is
    ``rtol * max(1, hi)`` wide: a point with ``cdf >= q`` within the tolerance of the answer
    (what bisection returns, in about 6 evaluations instead of 30-40).

    >>> from scipy import stats
    >>> pair = lambda t, sel: (stats.expon.cdf(t), stats.expon.pdf(t))
    >>> t = _bracketed_newton(pair, np.array([0.5, 0.99]), np.zeros(2), np.full(2, 50.0), np.ones(2))
    >>> np.allclose(t, -np.log([0.5, 0.01]), rtol=1e-9)
    True
    """
    lo, hi, x = (np.array(v, dtype=float) for v in (lo, hi, x))
    x = np.clip(x, lo, hi)
    done = hi - lo <= rtol * np.maximum(1.0, hi)
    for r in range(max_rounds):
        act = np.flatnonzero(~done)
        if act.size == 0:
            break
        xa = x[act]
        F, f = cdf_and_density(xa, act)
        below = F < q[act]
        la = lo[act] = np.where(below, xa, lo[act])
        ha = hi[act] = np.where(below, hi[act], xa)
        fin = ha - la <= rtol * np.maximum(1.0, ha)
        done[act[fin]] = True
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            step = xa + (q[act] - F) / f
        tiny = 0.25 * rtol * np.maximum(1.0, np.abs(xa))
        step = np.where(np.abs(step - xa) < tiny, np.where(below, xa + tiny, xa - tiny), step)
        bad = ~np.isfinite(step) | (step <= la) | (step >= ha)
        x[act] = np.where(bad, 0.5 * (la + ha), step)
    return hi


def _closed_form_quantile(q, P, d0, d1, m, lo, hi):
    r"""Smallest t with the closed-form CDF >= q, vectorized (1-D arrays).

    The CDF is piecewise linear (kinks at :math:`d_0 + d_1 n` and :math:`d_0 + P + d_1 n`) with
    density :math:`f(t) = (F_N(\lfloor (t-d_0)/d_1\rfloor) - F_N(\lfloor (t-d_0-P)/d_1\rfloor))/P`.
    Newton steps from an initial guess (uniform-dominated and normal quantiles blended by the
    variance shares), kept inside a bracket that shrinks each round (bisection when a step
    leaves it, and every eighth round; above the median the next point is a Newton step on
    :math:`\log(1 - F)`, which does not creep along the concave tail).  Finished when the
    bracket is 1e-9 wide (relative), a Newton step on F moves less than 1e-10 (relative), or
    stays on the linear piece it started from (it then lands on the root exactly).  Measured on
    10^6 random configurations (``benchmarks/bench_scale.py``'s): 1 round at the median, 1.45
    evaluations per element at q = 0.99, 2.75 at 0.999 and 4.6 at :math:`1 - 10^{-6}` (9.8
    with steps on F alone); p99 in 0.9-1.3 s, about 0.25 µs per Poisson CDF value (the
    per-element bisection took ~15 s).
    """
    lam = m * P
    lo = lo.astype(float).copy()
    hi = hi.astype(float).copy()
    fixed = (d1 == 0) | (lam == 0)          # D = d0: L ~ U(d0, d0 + P), quantile d0 + q P
    done = fixed.copy()
    # start between the quantile of U + E[D] (uniform dominates) and the normal approximation
    # of U + D (Poisson spread dominates), weighted by the variance shares
    var_u, var_d = P * P / 12.0, d1 * d1 * lam
    wd = var_d / (var_u + var_d)
    normal = P / 2 + d0 + d1 * lam + np.sqrt(var_u + var_d) * special.ndtri(np.clip(q, 1e-15, 1 - 1e-15))
    with np.errstate(invalid="ignore"):
        x = np.clip(np.where(fixed, d0 + q * P, wd * normal + (1.0 - wd) * (d0 + d1 * lam + q * P)), lo, hi)
    idx = np.arange(q.size)
    for it in range(240):
        act = idx[~done]
        if act.size == 0:
            break
        xa, Pa, d0a, d1a, lama, qa = x[act], P[act], d0[act], d1[act], lam[act], q[act]
        g1, s1 = _g_and_slope(xa - d0a, d1a, lama)
        g2, s2 = _g_and_slope(xa - d0a - Pa, d1a, lama)
        F = (g1 - g2) / Pa
        f = (s1 - s2) / Pa
        below = F < qa
        lo[act] = np.where(below, xa, lo[act])
        hi[act] = np.where(below, hi[act], xa)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            step = xa + (qa - F) / f
            # above the median the next point is a Newton step on log(1 - F): the CDF's tail is
            # concave, where steps on F land short of the root and creep up (20 rounds at
            # q = 1 - 1e-6); on log(1 - F) they overshoot once and then close in from the right
            tail = xa + np.log((1.0 - F) / (1.0 - qa)) * (1.0 - F) / f
        la, ha = lo[act], hi[act]
        bad = ~np.isfinite(step) | (step <= la) | (step >= ha)
        use_tail = (qa > 0.5) & np.isfinite(tail) & (tail > la) & (tail < ha)
        nxt = np.where((bad & ~use_tail) | (it % 8 == 7), 0.5 * (la + ha), np.where(use_tail, tail, step))
        x[act] = nxt
        # converged: the bracket is narrow, or a Newton step on a rising piece moves less than
        # 1e-10 (relative): the root of that linear piece is the answer
        hit = np.isfinite(step) & (f > 0) & (np.abs(step - xa) <= 1e-10 * np.maximum(1.0, np.abs(xa)))
        # the CDF is linear between kinks: a Newton step that stays on the piece of xa (same
        # lattice cell for both terms) lands on the root exactly
        with np.errstate(invalid="ignore", divide="ignore"):
            same = ((np.floor((step - d0a) / d1a) == np.floor((xa - d0a) / d1a))
                    & (np.floor((step - d0a - Pa) / d1a) == np.floor((xa - d0a - Pa) / d1a))
                    & ((step - d0a >= 0) == (xa - d0a >= 0)) & ((step - d0a - Pa >= 0) == (xa - d0a - Pa >= 0))
                    & ((step - d0a - Pa <= 0) == (xa - d0a - Pa <= 0)))
        exact = np.isfinite(step) & (f > 0) & same & ~bad
        hit |= exact
        fin = (ha - la <= 1e-9 * np.maximum(1.0, ha)) | hit
        done[act[fin]] = True
        x[act[fin]] = np.where(hit[fin], np.where(below | exact, step, xa)[fin], ha[fin])
    return x


def _g_and_slope(a, d1, lam):
    r""":math:`G(a) = E[(a - d_1 N)^+]` and :math:`G'(a) = P(d_1 N \le a)` together, one
    Poisson CDF per point: :math:`F(k-1) = F(k) - p(k)` with the pmf of :func:`_pois_pmf`
    (:func:`_partial_positive_mean` is the same :math:`G` from two CDFs, for the means)."""
    g = np.maximum(a, 0.0)
    slope = (a >= 0).astype(float)
    random = (d1 > 0) & (lam > 0) & (a >= 0)
    if random.any():
        aa, dd, ll = a[random], d1[random], lam[random]
        with np.errstate(over="ignore"):
            k = np.floor(aa / dd)
        fk = special.pdtr(k, ll)
        with np.errstate(over="ignore", invalid="ignore"):
            pk = _pois_pmf(k, ll)
        fk1 = np.maximum(fk - np.nan_to_num(pk), 0.0)
        g[random] = aa * fk - dd * ll * fk1
        slope[random] = fk
    return g, slope


#: The longest refresh period accepted (s; about 31,700 years): longer is no refresh period, and
#: near 1e154 s the variance term P**2 / 12 would overflow.
MAX_PERIOD_S = 1e12

#: The longest mean refresh duration, in periods, that the Markov chain resolves (its grid grows
#: with the duration range in periods; a base duration of 1e300 periods would not fit in memory).
MAX_CHAIN_SPAN = 1e6


def _check_chain_span(chain, P, d0, rho):
    """Refuse overrunning configurations whose mean duration exceeds MAX_CHAIN_SPAN periods."""
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        span = np.where(chain, d0 / np.maximum(1.0 - rho, 1e-300) / P, 0.0)
    bad = span > MAX_CHAIN_SPAN
    if bad.any():
        i = np.flatnonzero(bad.ravel())[0]
        raise ValueError(
            f"base_duration_s={d0.ravel()[i].item()!r} with period_s={P.ravel()[i].item()!r} and "
            f"duration_per_change_s * change_rate_per_s={rho.ravel()[i].item()!r}: the mean refresh duration is "
            f"{span.ravel()[i].item():.3g} periods, beyond the {MAX_CHAIN_SPAN:g} periods the overrun Markov chain "
            "resolves")


def refresh_lag(period_s, base_duration_s=0.0, duration_per_change_s=0.0, change_rate_per_s=0.0, *,
                method="auto", grid_points=OVERRUN_GRID_POINTS) -> RefreshLag:
    r"""Lag until a write is visible behind a periodic refresh, overruns included.

    Parameters
    ----------
    period_s : array_like
        Refresh period :math:`P` (s), > 0 and at most :data:`MAX_PERIOD_S` (1e12).  Follower-database sync period (*assumed*, not
        published) or a query head's ``RefreshPeriodInSeconds`` (default 120).
    base_duration_s : array_like
        Fixed part :math:`d_0` of a refresh's duration (s), >= 0 (*assumed*).
    duration_per_change_s : array_like
        :math:`d_1`, seconds of refresh work per metadata change, >= 0 (*assumed*).
    change_rate_per_s : array_like
        :math:`m`, metadata changes per second on the source, >= 0.
    method : {"auto", "closed form", "markov chain"}
        ``"auto"`` (default): the closed form when ``p_overrun <= OVERRUN_THRESHOLD`` (1e-6)
        and the refreshes are not back to back, the Markov chain otherwise.  The other two
        force one method on every bounded configuration (for checks and speed; the closed form
        ignores overruns).
    grid_points : int
        Phase grid points per period of the Markov chain (default 64; error below, cost
        roughly proportional to its square).

    Returns
    -------
    RefreshLag
        Arrays broadcast over the inputs, with ``cdf``, ``sf``, ``quantile``, ``sample``,
        ``expected_excess_s`` and the ``method`` used per configuration.

    Notes
    -----
    **Model** (the one :func:`followerlab.sim.follower.simulate_follower` plays event by
    event).  A timer ticks every :math:`P`.  At a tick an idle refresher starts a refresh; if a
    refresh is still running, one refresh starts the moment it ends (missed ticks coalesce,
    the tick grid is not shifted).  A refresh covers the :math:`N \sim \mathrm{Poisson}(mA)`
    changes since the previous start, :math:`A` being the time since that start (the window),
    and takes :math:`D = d_0 + d_1 N`.  A write at a uniform time is visible at the end of the
    first refresh that starts after it: :math:`L = V + D` with :math:`V \sim U(0, A]`, the window
    drawn length-biased from the stationary (Palm) law of :math:`A` BaccelliBremaud2003:

    .. math::
        F(t) = \frac{E\left[G_A(t - d_0) - G_A(t - d_0 - A)\right]}{E[A]},\qquad
        E[L] = d_0 + \left(\tfrac12 + d_1 m\right)\frac{E[A^2]}{E[A]}.

    **Closed form** (no overrun, :math:`A \equiv P`): :math:`E[L] = P/2 + d_0 + d_1 m P`,
    :math:`\mathrm{Var}[L] = P^2/12 + d_1^2 m P`, exact CDF (:meth:`RefreshLag.cdf`).  Used
    when :math:`p = P(D \ge P) \le 10^{-6}` for a refresh started on time: the law then differs
    from the exact one only on windows touched by an overrun, a share of the time of order
    :math:`p`, so CDF errors are of order 1e-6 (a test compares both methods there).

    **Markov chain** (overruns, :math:`d_1 m < 1`).  The state at a start is (phase :math:`x`
    of the start in the tick grid, duration :math:`D`).  If :math:`x + D \le P` the next start
    is the next tick (window :math:`P - x`, phase 0); otherwise it is the end of this refresh
    (window :math:`D`, phase :math:`(x + D) \bmod P`), and that refresh carries more changes
    and runs longer (the cascade).  Phase and duration share a grid of step :math:`h = P/K`
    (:math:`K` = ``grid_points``; durations above :math:`2P` on a coarser grid of multiples of
    :math:`h`, relative step :math:`1/2K`), each Poisson duration law is split between
    neighbouring grid points keeping its mean, and the stationary law is found by power
    iteration, all configurations' chains together for up to 10 steps, then for the chains not
    yet settled by implicitly restarted Arnoldi iteration (LehoucqSorensenYang1998), each
    result checked to move its window law by less than 1e-10 in total variation in one more
    step.  Given the window law,
    the Poisson law of :math:`N` is used exactly.  Numerical tolerance: 0.5 % on mean, p50 and
    p99 at the default :math:`K = 64` (measured against :math:`K = 256` in
    ``tests/test_sync_overrun.py``; typical differences 1e-4 to 2e-3); against long runs of
    :mod:`followerlab.sim.follower` over nominal mean durations 0 to 1.5 P with 1 and 50
    changes per period, worst relative error 0.3 % on mean, p50 and p99 (4 pooled seeded runs
    per point, whose own standard error is up to 0.8 %; ``benchmarks/accuracy_sync.py``); the
    tests hold it to 2 % of single runs.  Cost: one chain per distinct overrunning configuration
    (repeated configurations are solved once): about 3 ms per chain for lightly overrunning
    configurations, which settle in 2-4 power steps (545 chains of a random sweep of 10^6:
    1.5-1.7 s); 0.01-0.3 s for a heavily overrunning one at :math:`K = 64`, growing with
    :math:`1/(1 - d_1 m)` (mixing) and with the duration range in periods (0.9 s and 199
    operator products at :math:`d_1 m = 0.995`, :math:`P = 0.5` s, where power iteration took
    3920 steps and 16 s).  When :math:`d_0 > P` every refresh overruns
    and the chain runs on the duration alone, one configuration at a time.

    *Metadata age at a random time* (weak consistency): a query sees the snapshot of the last
    finished refresh.  Without overruns its age has the same mean :math:`P/2 + E[D]` and the
    same CDF for :math:`t \le P + d_0`; for deterministic :math:`D` the laws coincide.  With
    overruns this function gives the write-visibility lag, not the age.

    **Back to back** (:math:`d_0 + d_1 m P \ge P`, flagged ``back_to_back``): most refreshes
    start late; the chain's mean window is then close to :math:`d_0 / (1 - d_1 m)` (the fluid
    period).  If :math:`d_1 m \ge 1` the lag is unbounded: ``inf`` and flagged, no exception.

    References
    ----------
    Leibowitz2021 and ADX-Follower (periodic follower sync whose lag grows with the
    metadata changes), ADX-WeakConsistencyPolicy (query-head refresh period),
    BaccelliBremaud2003 (Palm inversion: time-stationary law from the law at refresh starts).
    The linear duration law and the overrun rule are *assumed*.

    Examples
    --------
    >>> r = refresh_lag(60.0, base_duration_s=2.0, duration_per_change_s=0.01, change_rate_per_s=5.0)
    >>> float(r.mean_s), float(r.duration_s), bool(r.back_to_back), str(r.method)
    (35.0, 5.0, False, 'closed form')
    >>> round(float(r.cdf(35.0)), 3), round(float(r.quantile(0.5)), 2)
    (0.5, 35.0)
    >>> b = refresh_lag(10.0, 8.0, 0.1, 5.0)      # d0 + d1 m P = 13 >= 10: back to back
    >>> bool(b.back_to_back), str(b.method), round(float(b.effective_period_s), 2), round(float(b.mean_s), 2)
    (True, 'markov chain', 16.0, 24.07)
    >>> bool(refresh_lag(10.0, 1.0, 0.5, 2.0).unbounded)
    True
    """
    P = as_float_array("period_s", period_s, minimum=0.0, strict_minimum=True, maximum=MAX_PERIOD_S)
    d0 = as_float_array("base_duration_s", base_duration_s, minimum=0.0)
    d1 = as_float_array("duration_per_change_s", duration_per_change_s, minimum=0.0)
    m = as_float_array("change_rate_per_s", change_rate_per_s, minimum=0.0)
    method = check_choice("method", method, ["auto", "closed form", "markov chain"])
    K = as_int("grid_points", grid_points, minimum=8, maximum=4096)
    P, d0, d1, m = broadcast_all(P, d0, d1, m, names=("period_s", "base_duration_s", "duration_per_change_s",
                                                      "change_rate_per_s"))
    if P.size >= _REPEAT_MIN_SIZE:
        rep = repeated_row_index(P, d0, d1, m)
        if rep is not None:
            # a sweep that repeats its configurations: each distinct one once, then gathered
            first, inverse = rep
            once = refresh_lag(P.ravel()[first], d0.ravel()[first], d1.ravel()[first], m.ravel()[first],
                               method=method, grid_points=K)
            return once._take(inverse.reshape(P.shape))
    rho = d1 * m
    mean_d = d0 + rho * P
    unbounded = rho >= 1.0
    back_to_back = unbounded | (mean_d >= P)
    # P(D >= P) = P(N >= ceil((P - d0) / d1)) for a refresh started on time.
    lam = m * P
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        n_need = np.ceil((P - d0) / np.where(d1 > 0, d1, 1.0))
    # P(N >= n) = pdtrc(n - 1, lam) for n >= 1 (1 for n <= 0): scipy.stats.poisson.sf's value
    with np.errstate(invalid="ignore"):
        p_over = np.where(d1 > 0, np.where(n_need <= 0, 1.0, special.pdtrc(np.maximum(n_need - 1, 0.0), lam)),
                          (d0 >= P).astype(float))
    p_over = np.where(back_to_back, 1.0, p_over)
    if method == "auto":
        chain = ~unbounded & (back_to_back | (p_over > OVERRUN_THRESHOLD))
    elif method == "markov chain":
        chain = ~unbounded
    else:
        chain = np.zeros(P.shape, dtype=bool)
    window = np.array(P, dtype=float)
    window_sq = np.array(P * P, dtype=float)
    window_cu = np.array(P ** 3, dtype=float)
    share = np.where(unbounded, 1.0, p_over)
    law_index = np.full(P.shape, -1, dtype=np.int64)
    law_a = law_w = None
    if chain.any():
        _check_chain_span(chain, P, d0, rho)
        uniq_cols, inverse = unique_rows(P[chain], d0[chain], d1[chain], m[chain])
        laws = _solve_chains(*uniq_cols, K)
        width = max(len(a) for a, _, _, _ in laws)
        law_a = np.zeros((len(laws), width))
        law_w = np.zeros((len(laws), width))
        for j, (a, w, _, _) in enumerate(laws):
            law_a[j, :a.size] = a
            law_w[j, :w.size] = w
        law_index[chain] = inverse.ravel()
        ea = np.sum(law_a * law_w, axis=1)
        window[chain] = ea[inverse.ravel()]
        window_sq[chain] = np.sum(law_a**2 * law_w, axis=1)[inverse.ravel()]
        window_cu[chain] = np.sum(law_a**3 * law_w, axis=1)[inverse.ravel()]
        share[chain] = np.array([s for _, _, s, _ in laws])[inverse.ravel()]
    # E[L] = d0 + (1/2 + d1 m) E[A^2]/E[A];  E[L^2] = E[A * E[(V + d0 + d1 N)^2 | A]] / E[A]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = d0 + (0.5 + rho) * window_sq / window
        second = (window_cu / 3 + (d0 * d0) * window + d1 * d1 * m * window_sq
                  + d1 * d1 * m * m * window_cu + d0 * window_sq + rho * window_cu
                  + 2 * d0 * rho * window_sq) / window
        std = np.sqrt(np.maximum(second - mean * mean, 0.0))
    closed = ~chain & ~unbounded
    # keep the textbook closed forms bit for bit where they apply
    mean = np.where(closed, P / 2 + mean_d, mean)
    std = np.where(closed, np.sqrt(P**2 / 12.0 + d1**2 * m * P), std)
    inf = np.inf
    mean = np.where(unbounded, inf, mean)
    std = np.where(unbounded, inf, std)
    window = np.where(unbounded, inf, window)
    duration = np.where(unbounded, inf, d0 + rho * window)
    method_arr = np.where(unbounded, "unbounded", np.where(chain, "markov chain", "closed form"))
    return RefreshLag(
        period_s=P[()], base_duration_s=d0[()], duration_per_change_s=d1[()], change_rate_per_s=m[()],
        duration_s=duration[()], effective_period_s=window[()], back_to_back=back_to_back[()],
        unbounded=unbounded[()], p_overrun=p_over[()], mean_s=mean[()], std_s=std[()],
        overrun_share=share[()], method=method_arr[()],
        _law_index=law_index[()] if law_a is not None else None, _law_windows_s=law_a, _law_weights=law_w,
    )
