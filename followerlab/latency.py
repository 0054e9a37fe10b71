r"""Latency distributions (scipy.stats compatible) and k-of-n order statistics, in milliseconds.

A *latency distribution* here is either a frozen :mod:`scipy.stats` distribution or any
object with the same duck-typed methods, all vectorized with numpy broadcasting:

``rvs(size=None, random_state=None)``, ``cdf(x)``, ``sf(x)``, ``ppf(q)``, ``mean()``,
``median()``.

The constructors return such objects: :func:`constant` (a point mass), :func:`shifted_lognormal`
(from min, median and p99), :func:`exponential`, :func:`gamma`, :func:`pareto`,
:func:`mixture`, :func:`empirical`, :func:`shifted`, :func:`convolve` (sum of two independent
latencies) and, the core of quorum latency, :func:`order_statistic` (the k-th smallest of
independent, *not identically distributed* latencies) with :func:`maximum` and
:func:`minimum`.  :func:`latency_summary` returns mean / p50 / p99 / p99.9 as a
:class:`LatencySummary` result.

Everything is *computed*, not sampled: the order statistic's CDF is the Poisson-binomial tail
(exact to floating point given the components' CDFs), its quantiles come from bisection on
that CDF (to ~1e-12 relative), its mean from adaptive quadrature of the survival function.

>>> import numpy as np
>>> rtt = [constant(10.0), constant(30.0), constant(60.0), constant(80.0)]
>>> order_statistic(rtt, 2).ppf(0.5)          # 2nd fastest of four fixed latencies
array(30.)
>>> d = order_statistic([exponential(1.0)] * 3, 3)   # max of 3 iid Exp(1): 1 + 1/2 + 1/3
>>> round(float(d.mean()), 10)
1.8333333333
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from followerlab._results import Result
from followerlab._validate import as_float_array, as_int_array, check_probability

__all__ = [
    "LatencyDistribution",
    "Constant",
    "Shifted",
    "Mixture",
    "Empirical",
    "Tabulated",
    "OrderStatistic",
    "LatencySummary",
    "constant",
    "shifted_lognormal",
    "exponential",
    "gamma",
    "pareto",
    "mixture",
    "empirical",
    "shifted",
    "convolve",
    "order_statistic",
    "maximum",
    "minimum",
    "latency_summary",
]

#: z-score of the 99th percentile of the standard normal, used by :func:`shifted_lognormal`.
_Z99 = float(special.ndtri(0.99))


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------
def _rng(random_state):
    """A numpy Generator (or RandomState) from a seed, a Generator, or None."""
    if isinstance(random_state, (np.random.Generator, np.random.RandomState)):
        return random_state
    if random_state is not None and not isinstance(random_state, (int, np.integer)):
        raise ValueError(f"random_state must be None, an int seed or a numpy Generator; got {random_state!r}")
    return np.random.default_rng(random_state)


def _x(x) -> np.ndarray:
    return as_float_array("x", x, allow_inf=True)


def _q(q) -> np.ndarray:
    return check_probability("q", q)


def _check_dist(name: str, dist):
    """Refuse anything that does not behave like a latency distribution."""
    missing = [m for m in ("cdf", "ppf", "rvs") if not callable(getattr(dist, m, None))]
    if missing:
        raise ValueError(
            f"{name} must be a latency distribution (scipy.stats frozen or with rvs/cdf/ppf); "
            f"got {dist!r} (missing {', '.join(missing)})"
        )
    return dist


def _sf(dist, x):
    sf = getattr(dist, "sf", None)
    return np.asarray(sf(x), dtype=float) if callable(sf) else 1.0 - np.asarray(dist.cdf(x), dtype=float)


def _cdf_sf(dist, x):
    """(cdf, sf) at ``x``, in one pass when the distribution offers it (nested order statistics)."""
    both = getattr(dist, "_cdf_and_sf", None)
    if callable(both):
        return both(x)
    return np.asarray(dist.cdf(x), dtype=float), _sf(dist, x)


def _support(dist) -> tuple[np.ndarray, np.ndarray]:
    """(lower, upper) bounds of the support: ``ppf(0)`` and ``ppf(1)`` (scipy's convention)."""
    return np.asarray(dist.ppf(0.0), dtype=float), np.asarray(dist.ppf(1.0), dtype=float)


def _breakpoints(dist) -> np.ndarray:
    """Where the CDF jumps or has a kink (point masses, table knots): quadrature breakpoints.

    Empty for smooth distributions (scipy.stats continuous ones)."""
    bp = getattr(dist, "breakpoints", None)
    if callable(bp):
        return np.unique(np.asarray(bp(), dtype=float).ravel())
    return np.empty(0)


#: Probabilities whose quantiles seed the quadrature panels of :meth:`OrderStatistic.mean`.
_PANEL_LADDER = np.concatenate([
    [1e-15, 1e-12, 1e-9, 1e-6, 1e-4, 1e-3], np.linspace(0.01, 0.99, 50),
    [1 - 1e-3, 1 - 1e-4, 1 - 1e-6, 1 - 1e-9, 1 - 1e-12],
])

#: A quadrature panel narrower than this many ulps of its ends is accepted as it is.
_MIN_PANEL_ULPS = 4096.0

# 8-point Gauss-Legendre on [0, 1]: exact for polynomials of degree <= 15.
_GL_X, _GL_W = np.polynomial.legendre.leggauss(8)
_GL_X, _GL_W = (_GL_X + 1) / 2, _GL_W / 2


def _panel_integral(f, edges, batch_shape, *, epsabs, epsrel, max_levels=50):
    r"""Vectorized adaptive composite Gauss-Legendre: :math:`\int_{e_0}^{e_m} f(t)\,dt`.

    ``f`` maps a 1-d array of ``t`` (shape ``(N,)``) to values of shape ``(N, *batch_shape)``.
    Each panel is integrated with 8-point Gauss-Legendre and with the same rule on its two
    halves; a panel is accepted when the two differ by at most its share (by width) of
    ``max(epsabs, epsrel*|integral|)`` (worst case over the batch), otherwise it is split.
    All panels of a level are evaluated in one call of ``f``.  Returns (integral, error
    estimate).
    """
    a, b = np.asarray(edges[:-1], float), np.asarray(edges[1:], float)
    span = float(edges[-1] - edges[0])
    nb = len(batch_shape)

    def gl(lo, hi):
        t = lo[:, None] + (hi - lo)[:, None] * _GL_X[None, :]
        vals = np.asarray(f(t.ravel()), dtype=float).reshape((lo.size, _GL_X.size) + batch_shape)
        w = ((hi - lo)[:, None] * _GL_W[None, :]).reshape((lo.size, _GL_X.size) + (1,) * nb)
        return (vals * w).sum(axis=1)

    whole = gl(a, b)
    total = np.zeros(batch_shape)
    err_total = np.zeros(batch_shape)
    for _ in range(max_levels):
        if a.size == 0:
            break
        m = 0.5 * (a + b)
        halves = gl(np.concatenate([a, m]), np.concatenate([m, b]))
        left, right = halves[: a.size], halves[a.size:]
        refined = left + right
        err = np.abs(refined - whole).reshape(a.size, -1).max(axis=1)
        estimate = np.abs(total + refined.sum(axis=0)).max() if refined.size else 0.0
        ok = err <= max(epsabs, epsrel * estimate) * (b - a) / span
        # cannot split further, or nothing left to gain: the panel is too narrow to resolve
        # (nodes a few ulps apart) or the rule and its halves agree to rounding; either way
        # the difference is noise and splitting would multiply panels (up to 2**levels)
        ok |= (m <= a) | (b - a <= _MIN_PANEL_ULPS * np.spacing(np.maximum(np.abs(a), np.abs(b))))
        ok |= err <= 64 * np.finfo(float).eps * np.abs(refined).reshape(a.size, -1).max(axis=1)
        total = total + refined[ok].sum(axis=0)
        err_total = err_total + err[ok].sum()
        keep = ~ok
        a, b, m = a[keep], b[keep], m[keep]
        a, b = np.concatenate([a, m]), np.concatenate([m, b])
        whole = np.concatenate([left[keep], right[keep]])
    if a.size:  # level limit reached: take the finest estimate and report its error
        total = total + whole.sum(axis=0)
        err_total = err_total + np.inf
    return total, err_total


def _bisect_ppf(cdf, q, lo, hi, *, elementwise=False, grid=None, max_iter=400):
    r"""Generalized inverse :math:`Q(q) = \inf\{t : F(t) \ge q\}` by a safeguarded bracketing search.

    ``lo`` and ``hi`` must bracket: the answer lies in ``[lo, hi]``, i.e. ``F(t) < q`` for
    every ``t < lo`` (and ``F(hi) >= q``, which is checked and repaired).  Every step keeps
    ``F(lo) < q <= F(hi)``: it tries the Illinois (modified regula falsi) point, which
    converges superlinearly where ``F`` is smooth, and bisects every fourth step and whenever
    that point is not strictly inside, so the bracket at least halves every four steps.  It
    stops when no float lies strictly between ``lo`` and ``hi`` and returns ``hi``: full
    double precision, a point mass (jump) located exactly, a flat part answered by its left end.

    ``elementwise=True`` says ``cdf`` may be called on any subset of points (no batch
    parameters), so only unconverged points are evaluated; then an optional sorted ``grid``
    of points (e.g. component quantiles) narrows every bracket first with one ``cdf`` call.
    """
    q, lo, hi = np.broadcast_arrays(np.asarray(q, float), np.asarray(lo, float), np.asarray(hi, float))
    shape = q.shape
    if elementwise:
        q, lo, hi = q.ravel(), lo.ravel().copy(), hi.ravel().copy()
        if grid is not None and np.size(grid):
            grid = np.unique(np.asarray(grid, dtype=float))
            grid = grid[np.isfinite(grid)]
            f_grid = np.maximum.accumulate(np.asarray(cdf(grid), dtype=float))
            j = np.searchsorted(f_grid, q, side="left")  # first grid point with F >= q
            below = grid[np.clip(j - 1, 0, grid.size - 1)]
            above = grid[np.clip(j, 0, grid.size - 1)]
            use_lo = (j >= 1) & (below > lo)
            use_hi = (j < grid.size) & (above < hi)
            lo = np.where(use_lo, below, lo)
            hi = np.where(use_hi, above, hi)
            f_lo_grid = np.where(use_lo, f_grid[np.clip(j - 1, 0, grid.size - 1)], np.nan)
            f_hi_grid = np.where(use_hi, f_grid[np.clip(j, 0, grid.size - 1)], np.nan)

        def F(x, idx):
            return np.asarray(cdf(x[idx]), dtype=float)
    else:
        lo, hi = lo.copy(), hi.copy()

        def F(x, idx):
            return np.asarray(cdf(x), dtype=float)[idx]

    everything = np.ones(q.shape, dtype=bool)
    if elementwise and grid is not None and np.size(grid):
        # cdf values already known from the grid; evaluate only the others
        f_lo, f_hi = f_lo_grid, f_hi_grid
        need = np.isnan(f_lo)
        f_lo[need] = F(lo, need)
    else:
        f_lo = np.asarray(cdf(lo), dtype=float) if not elementwise else F(lo, everything)
    done = f_lo >= q  # then lo itself is the answer
    hi = np.where(done, lo, hi)
    if elementwise and grid is not None and np.size(grid):
        need = np.isnan(f_hi) | done
        f_hi[need] = F(hi, need)
    else:
        f_hi = F(hi, everything) if elementwise else np.asarray(cdf(hi), dtype=float)
    # repair an upper end that is short of q (round-off in the components' ppf)
    for _ in range(200):
        short = ~done & (f_hi < q)
        if not short.any():
            break
        width = np.maximum(hi - lo, np.maximum(np.abs(hi), 1.0))
        lo = np.where(short, hi, lo)
        f_lo = np.where(short, f_hi, f_lo)
        hi = np.where(short, hi + width, hi)
        f_hi = F(hi, everything) if elementwise else np.asarray(cdf(hi), dtype=float)
    # signed distances to the target, and which end moved last (for the Illinois halving)
    g_lo, g_hi = f_lo - q, f_hi - q
    side = np.zeros(q.shape, dtype=np.int8)
    for it in range(max_iter):
        mid = lo + 0.5 * (hi - lo)
        active = ~done & (mid > lo) & (mid < hi)
        if not active.any():
            break
        idx = np.flatnonzero(active) if elementwise else active
        a, b, ga, gb = lo[idx], hi[idx], g_lo[idx], g_hi[idx]
        m = mid[idx]
        if it % 4 != 3:
            denom = gb - ga
            rf = np.where(denom > 0, (a * gb - b * ga) / np.where(denom > 0, denom, 1.0), m)
            x = np.where((rf > a) & (rf < b), rf, m)
        else:
            x = m
        x_full = lo.copy()
        x_full[idx] = x
        gx = F(x_full, idx) - q[idx]
        up = gx >= 0
        last = side[idx]
        # Illinois: if the same end is kept twice, halve its distance to pull the next point in
        ga = np.where(up & (last == 1), ga * 0.5, ga)
        gb = np.where(~up & (last == -1), gb * 0.5, gb)
        hi[idx] = np.where(up, x, b)
        g_hi[idx] = np.where(up, gx, gb)
        lo[idx] = np.where(up, a, x)
        g_lo[idx] = np.where(up, ga, gx)
        side[idx] = np.where(up, 1, -1)
    return hi.reshape(shape)


def _tail_integral(f, start, end, scale, batch_shape):
    r"""``\int_{start}^{end} f`` (or ``\int_{end}^{start} f`` if ``end < start``) for a smooth, monotone tail.

    Panels ``start +- scale (2^j - 1)`` grow geometrically up to ``end`` or the largest float,
    each integrated by 16-point Gauss-Legendre (two 8-point halves), which is accurate to
    ~1e-12 relative for power laws and faster-decaying tails on such panels.  The remainder
    beyond the last panel is extrapolated geometrically from the last two panel contributions
    (exact for a power-law tail, whose contributions form a geometric series); if they do not
    shrink the integral diverges and the result is ``inf``.
    """
    sign = 1.0 if end > start else -1.0
    j = np.arange(0, int(np.log2(1e300 / (scale + abs(start)))), dtype=float)
    edges = start + sign * scale * np.expm1(j * np.log(2.0))
    if np.isfinite(end):
        edges = np.concatenate([edges[sign * (end - edges) > 0], [end]])
    a, b = edges[:-1], edges[1:]
    m = 0.5 * (a + b)
    lo, hi = np.concatenate([a, m]), np.concatenate([m, b])
    t = lo[:, None] + (hi - lo)[:, None] * _GL_X[None, :]
    vals = np.asarray(f(t.ravel()), dtype=float).reshape(t.shape + tuple(batch_shape))
    w = (np.abs(hi - lo)[:, None] * _GL_W[None, :]).reshape(t.shape + (1,) * len(batch_shape))
    halves = (vals * w).sum(axis=1)
    contrib = halves[: a.size] + halves[a.size:]
    total = contrib.sum(axis=0)
    if np.isfinite(end) or a.size < 2:
        return total
    last, prev = contrib[-1], contrib[-2]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(prev > 0, last / np.where(prev > 0, prev, 1.0), 0.0)
        rest = np.where(last <= 0, 0.0, np.where(ratio < 1, last * ratio / (1 - ratio), np.inf))
    return total + rest


class LatencyDistribution:
    """Base of the latency distributions defined here (duck-type compatible with scipy.stats).

    Subclasses implement ``cdf``, ``ppf``, ``rvs``, ``mean`` and optionally ``sf`` (default
    ``1 - cdf``), ``atoms`` (point-mass locations) and ``batch_shape``.

    References
    ----------
    [SciPy-Stats] in docs/references.rst (the frozen-distribution interface these classes
    follow: ``cdf``, ``sf``, ``ppf``, ``rvs``, ``mean``).
    """

    def sf(self, x):
        """Survival function ``P(X > x)``."""
        return 1.0 - self.cdf(x)

    def median(self):
        """``ppf(0.5)``."""
        return self.ppf(0.5)

    def support(self):
        """``(ppf(0), ppf(1))``: the bounds of the support."""
        return _support(self)

    def breakpoints(self) -> np.ndarray:
        """Locations of point masses (empty for continuous distributions)."""
        return np.empty(0)

    def _ppf_grid(self) -> np.ndarray:
        """Points that narrow the ppf search: the components' quantiles on a ladder (no batch)."""
        comps = getattr(self, "components", None) or getattr(self, "dists", None) or []
        if np.ndim(self.support()[0]) != 0 or not comps:
            return np.empty(0)
        if getattr(self, "_grid_cache", None) is None:
            pts = [np.asarray(c.ppf(_PANEL_LADDER), dtype=float) for c in comps]
            self._grid_cache = np.unique(np.concatenate(pts + [_breakpoints(self)]))
        return self._grid_cache

    def __repr__(self) -> str:  # pragma: no cover - cosmetic
        return f"<{type(self).__name__}>"


# --------------------------------------------------------------------------------------------
# point mass, shift
# --------------------------------------------------------------------------------------------
class Constant(LatencyDistribution):
    """A point mass at ``ms`` (see :func:`constant`).

    References
    ----------
    [SciPy-Stats] in docs/references.rst (the interface; a point mass needs no other source).
    """

    def __init__(self, ms):
        self.ms = as_float_array("ms", ms)

    def cdf(self, x):
        return np.where(_x(x) >= self.ms, 1.0, 0.0)

    def sf(self, x):
        return np.where(_x(x) >= self.ms, 0.0, 1.0)

    def ppf(self, q):
        q = _q(q)
        return np.broadcast_arrays(self.ms, q)[0].astype(float) + 0.0 * q

    def rvs(self, size=None, random_state=None):
        if size is None:
            return self.ms.copy() if self.ms.ndim else float(self.ms)
        return np.broadcast_to(self.ms, size).astype(float).copy()

    def mean(self):
        return self.ms.copy()

    def median(self):
        return self.ms.copy()

    def breakpoints(self):
        return self.ms.ravel()

    def __repr__(self):
        return f"constant({self.ms.tolist()})"


def constant(ms) -> Constant:
    """A fixed latency: the point mass at ``ms`` milliseconds.

    .. math:: F(x) = \\mathbf{1}[x \\ge c], \\qquad Q(q) = c \\text{ for all } q \\in [0, 1].

    The CDF is the right-continuous step, so ``cdf(c) == 1``; ``ppf`` returns ``c`` for every
    ``q`` (including 0 and 1).  ``ms`` may be an array (a batch of constants).

    Parameters
    ----------
    ms : array_like
        The latency in ms (finite; may be negative only if you mean an offset).

    References
    ----------
    [SciPy-Stats] in docs/references.rst (the interface; a point mass needs no other source).

    Examples
    --------
    >>> c = constant(5.0)
    >>> c.cdf([4.9, 5.0]), c.ppf([0.0, 0.99]), float(c.mean())
    (array([0., 1.]), array([5., 5.]), 5.0)
    """
    return Constant(ms)


class Shifted(LatencyDistribution):
    """``dist + offset_ms`` (see :func:`shifted`).

    References
    ----------
    [SciPy-Stats] in docs/references.rst (a shift is scipy's ``loc``: :math:`F(x - c)`).
    """

    def __init__(self, dist, offset_ms):
        self.dist = _check_dist("dist", dist)
        self.offset_ms = as_float_array("offset_ms", offset_ms)

    def cdf(self, x):
        return np.asarray(self.dist.cdf(_x(x) - self.offset_ms), dtype=float)

    def sf(self, x):
        return _sf(self.dist, _x(x) - self.offset_ms)

    def ppf(self, q):
        return np.asarray(self.dist.ppf(_q(q)), dtype=float) + self.offset_ms

    def rvs(self, size=None, random_state=None):
        return np.asarray(self.dist.rvs(size=size, random_state=_rng(random_state))) + self.offset_ms

    def mean(self):
        return np.asarray(self.dist.mean(), dtype=float) + self.offset_ms


    def breakpoints(self):
        a = _breakpoints(self.dist)
        return (a[:, None] + self.offset_ms.ravel()[None, :]).ravel() if a.size else a


def shifted(dist, offset_ms) -> Shifted:
    """The latency ``dist`` plus a fixed ``offset_ms`` (e.g. a fixed network hop).

    .. math:: F_{X+c}(x) = F_X(x - c), \\qquad Q_{X+c}(q) = Q_X(q) + c.

    References
    ----------
    [SciPy-Stats] in docs/references.rst (a shift is scipy's ``loc``: :math:`F(x - c)`).

    Examples
    --------
    >>> d = shifted(exponential(2.0), 10.0)
    >>> float(d.mean()), float(d.cdf(10.0))
    (12.0, 0.0)
    """
    return Shifted(dist, offset_ms)


# --------------------------------------------------------------------------------------------
# parametric families (scipy.stats frozen distributions)
# --------------------------------------------------------------------------------------------
def shifted_lognormal(min_ms, median_ms, p99_ms):
    """A shifted lognormal latency built from its minimum, median and 99th percentile.

    .. math::
        X = m + e^{\\mu + \\sigma Z},\\ Z \\sim N(0, 1), \\qquad
        \\mu = \\ln(\\tilde x - m), \\qquad
        \\sigma = \\frac{\\ln\\big((x_{99} - m)/(\\tilde x - m)\\big)}{z_{0.99}},

    with :math:`z_{0.99} = \\Phi^{-1}(0.99) \\approx 2.3263`.  The shift ``m`` is the floor
    (e.g. the propagation delay of an RTT), ``median_ms`` and ``p99_ms`` are matched exactly.
    The mean is :math:`m + e^{\\mu + \\sigma^2/2}`.  Arrays broadcast (a batch of links).

    Assumptions: the part above the floor is lognormal — a common, *assumed* shape for network
    and disk latency jitter (no source in this project publishes the shape).

    Parameters
    ----------
    min_ms, median_ms, p99_ms : array_like
        ``0 <= min_ms < median_ms < p99_ms``, finite, in ms.

    Returns
    -------
    scipy.stats frozen ``lognorm(s=sigma, loc=min_ms, scale=median_ms - min_ms)``.

    References
    ----------
    [SciPy-Stats] (``scipy.stats.lognorm`` with ``loc`` = min) in docs/references.rst.

    Examples
    --------
    >>> d = shifted_lognormal(60.0, 66.0, 90.0)
    >>> [round(float(v), 6) for v in d.ppf([0.0, 0.5, 0.99])]
    [60.0, 66.0, 90.0]
    """
    m = as_float_array("min_ms", min_ms, minimum=0.0)
    med = as_float_array("median_ms", median_ms)
    p99 = as_float_array("p99_ms", p99_ms)
    m, med, p99 = np.broadcast_arrays(m, med, p99)
    bad = ~(med > m)
    if bad.any():
        raise ValueError(
            f"median_ms must be > min_ms; got median_ms={med[bad].ravel()[0].item()!r}, "
            f"min_ms={m[bad].ravel()[0].item()!r}"
        )
    bad = ~(p99 > med)
    if bad.any():
        raise ValueError(
            f"p99_ms must be > median_ms; got p99_ms={p99[bad].ravel()[0].item()!r}, "
            f"median_ms={med[bad].ravel()[0].item()!r}"
        )
    sigma = np.log((p99 - m) / (med - m)) / _Z99
    return stats.lognorm(s=sigma, loc=m, scale=med - m)


def exponential(mean_ms, shift_ms=0.0):
    """``shift_ms`` plus an exponential latency with mean ``mean_ms``.

    .. math:: F(x) = 1 - e^{-(x - s)/\\beta} \\ (x \\ge s), \\qquad E[X] = s + \\beta.

    ``mean_ms`` is the mean of the exponential part (the total mean is ``shift_ms + mean_ms``).

    Returns
    -------
    scipy.stats frozen ``expon(loc=shift_ms, scale=mean_ms)``.

    References
    ----------
    [SciPy-Stats] (``scipy.stats.expon``) in docs/references.rst.

    Examples
    --------
    >>> d = exponential(2.0, shift_ms=1.0)
    >>> float(d.mean()), round(float(d.ppf(0.5)), 6)
    (3.0, 2.386294)
    """
    mean = as_float_array("mean_ms", mean_ms, minimum=0.0, strict_minimum=True)
    shift = as_float_array("shift_ms", shift_ms)
    return stats.expon(loc=shift, scale=mean)


def gamma(mean_ms, cv, shift_ms=0.0):
    """``shift_ms`` plus a gamma latency with mean ``mean_ms`` and coefficient of variation ``cv``.

    .. math:: k = 1/c_v^2, \\quad \\theta = \\bar x\\, c_v^2, \\qquad
              X = s + Y,\\ Y \\sim \\Gamma(k, \\theta),\\ E[Y] = k\\theta = \\bar x.

    ``cv = 1`` is the exponential; ``cv < 1`` is less variable (e.g. disk fsync), ``cv > 1``
    more.  ``mean_ms`` and ``cv`` describe the gamma part (the total mean is
    ``shift_ms + mean_ms``).

    Returns
    -------
    scipy.stats frozen ``gamma(a=1/cv**2, loc=shift_ms, scale=mean_ms*cv**2)``.

    References
    ----------
    [SciPy-Stats] (``scipy.stats.gamma``) in docs/references.rst.

    Examples
    --------
    >>> d = gamma(4.0, 0.5, shift_ms=1.0)
    >>> float(d.mean()), float(d.std())
    (5.0, 2.0)
    """
    mean = as_float_array("mean_ms", mean_ms, minimum=0.0, strict_minimum=True)
    cv = as_float_array("cv", cv, minimum=0.0, strict_minimum=True)
    shift = as_float_array("shift_ms", shift_ms)
    return stats.gamma(a=1.0 / cv**2, loc=shift, scale=mean * cv**2)


def pareto(min_ms, alpha):
    """A Pareto (type I) latency: heavy power-law tail above ``min_ms``.

    .. math:: \\bar F(x) = (x_m / x)^{\\alpha} \\ (x \\ge x_m), \\qquad
              E[X] = \\frac{\\alpha x_m}{\\alpha - 1} \\ (\\alpha > 1,\\ \\text{else } \\infty).

    Returns
    -------
    scipy.stats frozen ``pareto(b=alpha, scale=min_ms)``.

    References
    ----------
    [SciPy-Stats] (``scipy.stats.pareto``) in docs/references.rst.

    Examples
    --------
    >>> d = pareto(10.0, 3.0)
    >>> float(d.mean()), round(float(d.ppf(0.99)), 4)
    (15.0, 46.4159)
    """
    xm = as_float_array("min_ms", min_ms, minimum=0.0, strict_minimum=True)
    a = as_float_array("alpha", alpha, minimum=0.0, strict_minimum=True)
    return stats.pareto(b=a, scale=xm)


# --------------------------------------------------------------------------------------------
# mixture, empirical
# --------------------------------------------------------------------------------------------
class Mixture(LatencyDistribution):
    """A finite mixture (see :func:`mixture`).

    References
    ----------
    [Kleinrock1975] (mixtures of distributions such as the hyperexponential) in
    docs/references.rst.
    """

    def __init__(self, components, weights):
        comps = list(components)
        if not comps:
            raise ValueError("components must not be empty; got []")
        self.components = [_check_dist(f"components[{i}]", c) for i, c in enumerate(comps)]
        w = as_float_array("weights", weights, minimum=0.0)
        if w.ndim != 1 or w.size != len(comps):
            raise ValueError(f"weights must be a 1-d list with one weight per component ({len(comps)}); "
                             f"got {weights!r}")
        if not math.isclose(float(w.sum()), 1.0, rel_tol=0.0, abs_tol=1e-9):
            raise ValueError(f"weights must sum to 1; got {weights!r} (sum {float(w.sum())!r})")
        self.weights = w / w.sum()

    def cdf(self, x):
        x = _x(x)
        return sum(w * np.asarray(c.cdf(x), dtype=float) for w, c in zip(self.weights, self.components))

    def sf(self, x):
        x = _x(x)
        return sum(w * _sf(c, x) for w, c in zip(self.weights, self.components))

    def ppf(self, q):
        r"""Generalized inverse by bracketing search in :math:`[\min_i Q_i(q), \max_i Q_i(q)]`.

        ``q`` = 0 and 1 give the support bounds (a placeholder keeps their search finite)."""
        q = _q(q)
        qq = np.where((q > 0) & (q < 1), q, 0.5)
        qs = [np.asarray(c.ppf(qq), dtype=float) for w, c in zip(self.weights, self.components) if w > 0]
        lo, hi = np.minimum.reduce(np.broadcast_arrays(*qs)), np.maximum.reduce(np.broadcast_arrays(*qs))
        lower, upper = self.support()
        out = _bisect_ppf(self.cdf, qq, lo, hi, elementwise=np.ndim(lower) == 0, grid=self._ppf_grid())
        return np.where(q == 0, lower, np.where(q == 1, upper, out))

    def support(self):
        live = [c for w, c in zip(self.weights, self.components) if w > 0]
        bounds = [_support(c) for c in live]
        return (np.minimum.reduce(np.broadcast_arrays(*[b[0] for b in bounds])),
                np.maximum.reduce(np.broadcast_arrays(*[b[1] for b in bounds])))

    def rvs(self, size=None, random_state=None):
        rng = _rng(random_state)
        draws = np.stack(np.broadcast_arrays(*[np.asarray(c.rvs(size=size, random_state=rng), dtype=float)
                                               for c in self.components]))
        pick = rng.choice(len(self.components), size=draws.shape[1:], p=self.weights)
        out = np.take_along_axis(draws, pick[None, ...], axis=0)[0]
        return out if out.ndim else float(out)

    def mean(self):
        return sum(w * np.asarray(c.mean(), dtype=float) for w, c in zip(self.weights, self.components) if w > 0)

    def breakpoints(self):
        parts = [_breakpoints(c) for w, c in zip(self.weights, self.components) if w > 0]
        return np.unique(np.concatenate(parts)) if parts else np.empty(0)


def mixture(components: Sequence, weights) -> Mixture:
    """A finite mixture: with probability ``weights[i]`` the latency is drawn from ``components[i]``.

    .. math:: F(x) = \\sum_i w_i F_i(x), \\qquad E[X] = \\sum_i w_i E[X_i],

    and ``ppf`` is the generalized inverse :math:`\\inf\\{t : F(t) \\ge q\\}` found by bisection
    (the root lies between the smallest and largest component quantile at ``q``).  Typical use:
    a fast path and a slow path (cache hit/miss, local/remote).

    Parameters
    ----------
    components : sequence of latency distributions
    weights : sequence of float
        Non-negative, one per component, summing to 1 (within 1e-9).

    References
    ----------
    [Kleinrock1975] (mixtures of distributions such as the hyperexponential) in docs/references.rst.

    Examples
    --------
    >>> m = mixture([constant(1.0), constant(100.0)], [0.9, 0.1])
    >>> float(m.mean()), float(m.ppf(0.9)), float(m.ppf(0.95))
    (10.9, 1.0, 100.0)
    """
    return Mixture(components, weights)


class Empirical(LatencyDistribution):
    """The empirical distribution of observed samples (see :func:`empirical`).

    References
    ----------
    [HyndmanFan1996] (definition 1, the inverted empirical CDF) in docs/references.rst.
    """

    def __init__(self, samples):
        s = as_float_array("samples", samples)
        if s.ndim != 1 or s.size == 0:
            raise ValueError(f"samples must be a non-empty 1-d array; got shape {s.shape}")
        self.samples = np.sort(s)

    def cdf(self, x):
        x = _x(x)
        return np.searchsorted(self.samples, x, side="right") / self.samples.size

    def sf(self, x):
        x = _x(x)
        return (self.samples.size - np.searchsorted(self.samples, x, side="right")) / self.samples.size

    def ppf(self, q):
        q = _q(q)
        n = self.samples.size
        idx = np.clip(np.ceil(q * n).astype(np.int64) - 1, 0, n - 1)
        return self.samples[idx]

    def rvs(self, size=None, random_state=None):
        return _rng(random_state).choice(self.samples, size=size)

    def mean(self):
        return np.asarray(self.samples.mean())

    def breakpoints(self):
        return np.unique(self.samples)


def empirical(samples) -> Empirical:
    """The empirical distribution of measured latencies (e.g. etcd put times).

    .. math:: \\hat F(x) = \\frac{1}{n}\\#\\{i : x_i \\le x\\}, \\qquad
              \\hat Q(q) = x_{(\\lceil qn \\rceil)} \\ (q > 0), \\ \\hat Q(0) = x_{(1)},

    the step ECDF and its generalized inverse (``numpy.quantile(method="inverted_cdf")``), so
    ``ppf(cdf(x_i)) == x_i``.  ``rvs`` resamples with replacement (bootstrap).

    References
    ----------
    [HyndmanFan1996] (definition 1) in docs/references.rst.

    Examples
    --------
    >>> e = empirical([3.0, 1.0, 2.0, 2.0])
    >>> e.cdf([1.0, 2.0, 2.5]), e.ppf([0.25, 0.5, 0.75, 1.0])
    (array([0.25, 0.75, 0.75]), array([1., 2., 2., 3.]))
    """
    return Empirical(samples)


# --------------------------------------------------------------------------------------------
# convolution (sum of two independent latencies)
# --------------------------------------------------------------------------------------------
class Tabulated(LatencyDistribution):
    """A distribution given by its CDF on a grid, linear in between (see :func:`convolve`).

    Within a cell the density is uniform, so ``cdf`` is piecewise linear and continuous and
    ``ppf`` its exact inverse.  ``mean`` is the value given at construction when known
    exactly (e.g. the sum of the means), else that of the piecewise-uniform density.

    References
    ----------
    [Kleinrock1975] (the distribution of a sum of independent variables, which :func:`convolve`
    tabulates) in docs/references.rst.
    """

    def __init__(self, grid, cdf_values, sf_values=None, mean=None):
        self.grid = np.asarray(grid, dtype=float)
        self.cdf_values = np.asarray(cdf_values, dtype=float)
        self.sf_values = 1.0 - self.cdf_values if sf_values is None else np.asarray(sf_values, dtype=float)
        if mean is None:
            mass = np.diff(self.cdf_values)
            mean = float(np.sum(mass * (self.grid[:-1] + self.grid[1:]) / 2))
        self._mean = float(mean)

    def cdf(self, x):
        return np.interp(_x(x), self.grid, self.cdf_values, left=0.0, right=1.0)

    def sf(self, x):
        return np.interp(_x(x), self.grid, self.sf_values, left=1.0, right=0.0)

    def ppf(self, q):
        q = _q(q)
        c = self.cdf_values
        j = np.clip(np.searchsorted(c, q, side="left"), 1, c.size - 1)
        c0, c1 = c[j - 1], c[j]
        frac = np.where(c1 > c0, (q - c0) / np.where(c1 > c0, c1 - c0, 1.0), 1.0)
        out = self.grid[j - 1] + np.clip(frac, 0.0, 1.0) * (self.grid[j] - self.grid[j - 1])
        return np.where(q <= c[0], self.grid[0], out)

    def rvs(self, size=None, random_state=None):
        u = _rng(random_state).random(size)
        return self.ppf(u)

    def mean(self):
        return np.asarray(self._mean)


def convolve(a, b, *, points: int = 2**16, tail: float = 1e-10):
    """The latency ``A + B`` of two independent latencies (e.g. RTT + fsync).

    .. math:: F_{A+B}(t) = \\int F_A(t - y)\\, dF_B(y).

    Exact cases: if either term is a :func:`constant` (scalar), the result is the other one
    :func:`shifted` by it; otherwise the sum is computed numerically:

    1. both terms are discretized on a common uniform grid of ``points`` cells of width ``h``
       covering ``[Q_A(tail) + Q_B(tail), Q_A(1-tail) + Q_B(1-tail)]``: the mass
       :math:`F(x_j + h) - F(x_j)` of each cell sits at its centre (midpoint rule; the mass
       beyond the range is put in the end cells so the total stays 1);
    2. the two mass vectors are convolved with an FFT (``scipy.signal.fftconvolve``, pairs of
       centres fall on the grid shifted by ``h``);
    3. the result is a :class:`Tabulated` distribution, piecewise-uniform in each cell.

    Accuracy (tested against closed forms): for densities that are smooth on the scale of
    ``h`` the CDF error is :math:`O(h^2 \\max|f'|)` plus the truncated tail mass ``2*tail``;
    on the default grid (2^16 cells) it is about 1e-7 for exponential+exponential and
    gamma+gamma of similar means and about 1e-6 when the means differ 100-fold (the tests
    check 5e-7 and 3e-6).  Point masses inside a
    non-constant term are smeared over one cell (location error <= h).  The far tail beyond
    ``1 - tail`` is not represented (heavy tails are truncated there); the mean returned is
    nevertheless exact, :math:`E[A] + E[B]`.

    Parameters
    ----------
    a, b : latency distributions with scalar parameters
    points : int
        Number of grid cells (>= 256).
    tail : float
        Probability cut from each end of each term's support, in (0, 1e-3].

    References
    ----------
    [Kleinrock1975] (the distribution of a sum of independent variables) in docs/references.rst.

    Examples
    --------
    >>> s = convolve(exponential(1.0), exponential(1.0))   # Erlang(2): F(t) = 1 - e^-t (1 + t)
    >>> bool(abs(s.cdf(2.0) - (1 - np.exp(-2.0) * 3)) < 1e-6)
    True
    >>> float(convolve(constant(3.0), exponential(2.0)).mean())
    5.0
    """
    a = _check_dist("a", a)
    b = _check_dist("b", b)
    points = int(as_int_array("points", points, minimum=256))
    tail = float(as_float_array("tail", tail, minimum=0.0, maximum=1e-3, strict_minimum=True))
    for name, d in (("a", a), ("b", b)):
        if np.shape(d.ppf(0.5)) != ():
            raise ValueError(f"{name} must have scalar parameters for convolve; got batch shape {np.shape(d.ppf(0.5))}")
    if isinstance(a, Constant) and a.ms.ndim == 0:
        return Shifted(b, a.ms)
    if isinstance(b, Constant) and b.ms.ndim == 0:
        return Shifted(a, b.ms)
    from scipy.signal import fftconvolve

    lo_a, hi_a = float(a.ppf(tail)), float(a.ppf(1 - tail))
    lo_b, hi_b = float(b.ppf(tail)), float(b.ppf(1 - tail))
    # each term gets the same cell width h; its own grid starts at its own lower quantile.
    width = (hi_a - lo_a) + (hi_b - lo_b)
    h = width / points if width > 0 else 1e-9
    masses = []
    for d, lo, hi in ((a, lo_a, hi_a), (b, lo_b, hi_b)):
        m = max(int(np.ceil((hi - lo) / h)), 1)
        edges = lo + h * np.arange(m + 1)
        f = np.asarray(d.cdf(edges), dtype=float)
        mass = np.diff(f)
        mass[0] += f[0]  # mass below the range goes into the first cell
        mass[-1] += _sf(d, edges[-1])  # and mass above into the last
        masses.append((lo, np.clip(mass, 0.0, None)))
    (lo_a, ma), (lo_b, mb) = masses
    pmf = np.clip(fftconvolve(ma, mb), 0.0, None)
    pmf /= pmf.sum()
    # a cell centre of A is lo_a + (i + 1/2) h, of B lo_b + (j + 1/2) h: their sum is
    # lo_a + lo_b + (i + j + 1) h.  Spread that mass uniformly over a cell of width h centred
    # there: edges lo_a + lo_b + (i + j + 1/2) h.
    start = lo_a + lo_b + 0.5 * h
    grid = start + h * np.arange(pmf.size + 1)
    cdf_values = np.concatenate([[0.0], np.cumsum(pmf)])
    sf_values = np.concatenate([np.cumsum(pmf[::-1])[::-1], [0.0]])
    cdf_values[-1] = 1.0
    mean = float(np.asarray(a.mean(), dtype=float) + np.asarray(b.mean(), dtype=float))
    return Tabulated(grid, cdf_values, sf_values, mean=mean)


# --------------------------------------------------------------------------------------------
# order statistics
# --------------------------------------------------------------------------------------------
class OrderStatistic(LatencyDistribution):
    """The k-th smallest of independent latencies (see :func:`order_statistic`).

    References
    ----------
    [DavidNagaraja2003] (order statistics of independent, non-identically distributed variables)
    and, for the quorum commit it models, [Ongaro2014]; in docs/references.rst.
    """

    def __init__(self, dists, k):
        dists = list(dists)
        if not dists:
            raise ValueError("dists must contain at least one distribution; got []")
        self.dists = [_check_dist(f"dists[{i}]", d) for i, d in enumerate(dists)]
        n = len(self.dists)
        try:
            k_f = float(k)
        except (TypeError, ValueError):
            k_f = math.nan
        if not (k_f == round(k_f) if math.isfinite(k_f) else False) or not 1 <= k_f <= n:
            raise ValueError(f"k must be a whole number in 1..{n} (the number of dists); got {k!r}")
        self.k = int(k_f)
        self.n = n

    # -- exact CDF: Poisson-binomial tail ------------------------------------------------------
    def _tail_probs(self, x):
        r"""(P(at least k of n are <= x), P(fewer than k are <= x)) by dynamic programming.

        States 0..k-1 count the components <= x so far; state k means "k or more" (absorbing).
        Each component updates :math:`p_j \leftarrow p_j \bar F_i + p_{j-1} F_i`, using the
        components' own ``sf`` for :math:`\bar F_i` so both tails keep full relative precision.
        """
        F, S = zip(*(_cdf_sf(d, x) for d in self.dists))
        shape = np.broadcast_shapes(*(f.shape for f in F), *(s.shape for s in S))
        k = self.k
        dp = np.zeros((k + 1,) + shape)
        dp[0] = 1.0
        for f, s in zip(F, S):
            new = dp * s
            new[1:] += dp[:-1] * f
            new[k] = dp[k] + dp[k - 1] * f  # state k absorbs: no "* s" for it
            dp = new
        return np.clip(dp[k], 0.0, 1.0), np.clip(dp[:k].sum(axis=0), 0.0, 1.0)

    def _cdf_and_sf(self, x):
        return self._tail_probs(_x(x))

    def cdf(self, x):
        r"""``P(X_(k) <= x)`` = P(at least k of the n latencies are <= x)."""
        return self._tail_probs(_x(x))[0]

    def sf(self, x):
        return self._tail_probs(_x(x))[1]

    def support(self):
        lows, highs = zip(*(_support(d) for d in self.dists))
        lows = np.sort(np.stack(np.broadcast_arrays(*lows)), axis=0)
        highs = np.sort(np.stack(np.broadcast_arrays(*highs)), axis=0)
        return lows[self.k - 1], highs[self.k - 1]

    def ppf(self, q):
        r"""Generalized inverse :math:`\inf\{t : F_{(k)}(t) \ge q\}` by vectorized bisection.

        Bracket, for :math:`0 < q < 1`: below :math:`\min_i Q_i(q/n)` every :math:`F_i < q/n`
        so :math:`F_{(k)} \le \sum_i F_i < q`; at :math:`\max_i Q_i(q^{1/n})` every
        :math:`F_i \ge q^{1/n}` so :math:`F_{(k)} \ge \prod_i F_i \ge q`.
        """
        q = _q(q)
        n = self.n
        # q = 0 and q = 1 are the support bounds (scipy's convention); bisect the others
        # (a placeholder 0.5 keeps their brackets finite, the result is replaced below).
        qq = np.where((q > 0) & (q < 1), q, 0.5)
        lo_q = [np.asarray(d.ppf(qq / n), dtype=float) for d in self.dists]
        # q**(1/n) can round to 1 (an infinite quantile) when q is within n ulps of 1: stay
        # below 1; the bracket repair in _bisect_ppf then widens hi if needed.
        p_hi = np.minimum(qq ** (1.0 / n), np.nextafter(1.0, 0.0))
        hi_q = [np.asarray(d.ppf(p_hi), dtype=float) for d in self.dists]
        lo = np.minimum.reduce(np.broadcast_arrays(*lo_q))
        hi = np.maximum.reduce(np.broadcast_arrays(*hi_q))
        lo_s, hi_s = self.support()
        out = _bisect_ppf(self.cdf, qq, lo, hi, elementwise=np.ndim(lo_s) == 0, grid=self._ppf_grid())
        return np.where(q == 0, lo_s, np.where(q == 1, hi_s, out))

    def rvs(self, size=None, random_state=None):
        rng = _rng(random_state)
        draws = np.stack(np.broadcast_arrays(*[np.asarray(d.rvs(size=size, random_state=rng), dtype=float)
                                               for d in self.dists]))
        out = np.partition(draws, self.k - 1, axis=0)[self.k - 1]
        return out if out.ndim else float(out)

    def mean(self, *, epsabs: float = 1e-9, epsrel: float = 1e-11):
        r"""Mean by quadrature of the survival function, exact to the quadrature tolerance.

        .. math:: E[X_{(k)}] = c + \int_c^{\infty} \bar F_{(k)}(t)\,dt - \int_{-\infty}^{c} F_{(k)}(t)\,dt

        with :math:`c` the smallest lower bound of the support (the last term vanishes for
        latencies bounded below).  The finite part is integrated by a vectorized adaptive
        Gauss-Legendre rule on panels whose edges are the components' point masses and
        quantiles, refined where the rule and its halves disagree (this also resolves the
        small kinks of :func:`convolve` tables); the tail beyond the last edge (where all
        components are smooth) on geometrically growing panels, see ``_tail_integral``.
        Accurate to about ``epsabs + epsrel*|mean|`` ms.  ``inf`` when the tail is too heavy:
        :math:`\bar F_{(k)}` decays like the product of the ``n-k+1`` heaviest component
        tails, so with Pareto components the mean is finite iff the sum of the ``n-k+1``
        smallest exponents exceeds 1.
        """
        lo, hi = self.support()
        shape = np.shape(lo)
        lo_min, hi_max = float(np.min(lo)), float(np.max(hi))
        nb = len(shape)

        def along(fun):
            return lambda t: np.broadcast_to(fun(np.reshape(t, np.shape(t) + (1,) * nb)),
                                             np.shape(t) + shape)

        # panel edges: jumps/kinks and a ladder of quantiles of every component
        edges = [_breakpoints(d) for d in self.dists]
        edges += [np.asarray(d.ppf(_PANEL_LADDER.reshape((-1,) + (1,) * np.ndim(d.ppf(0.5)))),
                             dtype=float).ravel() for d in self.dists]
        edges = np.unique(np.concatenate(edges))
        edges = edges[np.isfinite(edges)]
        c = lo_min if np.isfinite(lo_min) else (float(edges.min()) if edges.size else 0.0)
        edges = edges[(edges > c) & (edges < hi_max)]
        top = float(edges.max()) if edges.size else c
        total = np.full(shape, c, dtype=float)
        if top > c:
            val, _ = _panel_integral(along(self.sf), np.concatenate([[c], edges]), shape,
                                     epsabs=epsabs, epsrel=epsrel)
            total = total + val
        scale = max(top - c, 1e-3)
        if hi_max > top:
            total = total + _tail_integral(along(self.sf), top, hi_max, scale, shape)
        if not np.isfinite(lo_min):
            total = total - _tail_integral(along(self.cdf), c, -np.inf, scale, shape)
        return total

    def breakpoints(self):
        parts = [_breakpoints(d) for d in self.dists]
        return np.unique(np.concatenate(parts))


def order_statistic(dists: Sequence, k: int) -> OrderStatistic:
    """The k-th smallest of independent, not identically distributed latencies.

    The core of quorum latency: a Raft leader with followers :math:`1..n` commits when the
    :math:`(q-1)`-th fastest follower ack (RTT + fsync) arrives, i.e. at the
    :math:`(q-1)`-th order statistic of the acks.

    .. math::
        F_{(k)}(t) = P\\big(\\#\\{i : X_i \\le t\\} \\ge k\\big)
                   = \\sum_{j=k}^{n} \\sum_{|S| = j} \\prod_{i \\in S} F_i(t) \\prod_{i \\notin S} \\bar F_i(t),

    the tail of a Poisson-binomial count, computed by an :math:`O(nk)` dynamic program
    vectorized over ``t`` (exact to floating point given the components' CDFs).  ``ppf``
    inverts it by bisection (handles point masses and flat parts), ``mean`` integrates the
    survival function (quadrature tolerance 1e-10), ``rvs`` sorts samples and takes the k-th.

    Assumptions: the latencies are independent (no shared jitter between links).

    Parameters
    ----------
    dists : sequence of latency distributions
        scipy.stats frozen or duck-typed; parameters may be arrays (a batch of groups), they
        broadcast with ``x``.
    k : int
        1 (the fastest) .. ``len(dists)`` (the slowest).

    Returns
    -------
    OrderStatistic
        A latency distribution (``cdf``, ``sf``, ``ppf``, ``rvs``, ``mean``, ``median``).

    References
    ----------
    [DavidNagaraja2003] (order statistics of independent, non-identically distributed
    variables) and, for the quorum commit it models, [Ongaro2014]; in docs/references.rst.

    Examples
    --------
    A 3-voter group commits on the fastest of its two followers' acks; RTTs 66 ms and 64 ms
    (``cockroach demo`` RTTs, [CRDB-Demo] in docs/references.rst) plus an exponential fsync of
    mean 2 ms (*assumed*).
    Closed form: median :math:`64 + 2\\ln 2`, mean :math:`66 - e^{-1}`:

    >>> acks = [shifted(exponential(2.0), 66.0), shifted(exponential(2.0), 64.0)]
    >>> fastest = order_statistic(acks, 1)
    >>> round(float(fastest.ppf(0.5)), 3), round(float(fastest.mean()), 3)
    (65.386, 65.632)
    >>> order_statistic(acks, 3)
    Traceback (most recent call last):
    ...
    ValueError: k must be a whole number in 1..2 (the number of dists); got 3
    """
    return OrderStatistic(dists, k)


def maximum(dists: Sequence) -> OrderStatistic:
    """The largest of independent latencies: :math:`F(t) = \\prod_i F_i(t)` (``order_statistic(dists, n)``).

    References
    ----------
    [DavidNagaraja2003] in docs/references.rst.

    Examples
    --------
    >>> float(maximum([constant(1.0), constant(7.0), constant(3.0)]).mean())
    7.0
    """
    dists = list(dists)
    return OrderStatistic(dists, max(len(dists), 1))


def minimum(dists: Sequence) -> OrderStatistic:
    """The smallest of independent latencies, ``order_statistic(dists, 1)``: :math:`\\bar F(t) = \\prod_i \\bar F_i(t)`.

    References
    ----------
    [DavidNagaraja2003] in docs/references.rst.

    Examples
    --------
    >>> round(float(minimum([exponential(1.0), exponential(1.0)]).mean()), 10)   # Exp(2)
    0.5
    """
    return OrderStatistic(dists, 1)


# --------------------------------------------------------------------------------------------
# summary
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LatencySummary(Result):
    """Mean and percentiles of a latency distribution, in ms (arrays broadcast over a batch).

    References
    ----------
    [SciPy-Stats] in docs/references.rst (the ``mean`` and ``ppf`` of the distribution
    interface).
    """

    mean_ms: np.ndarray
    p50_ms: np.ndarray
    p99_ms: np.ndarray
    p999_ms: np.ndarray


def latency_summary(dist) -> LatencySummary:
    """Mean, p50, p99 and p99.9 of a latency distribution (computed with its ``mean``/``ppf``).

    References
    ----------
    [SciPy-Stats] in docs/references.rst (the ``mean`` and ``ppf`` of the distribution
    interface).

    Examples
    --------
    >>> latency_summary(constant(4.0)).to_frame()
       mean_ms  p50_ms  p99_ms  p999_ms
    0      4.0     4.0     4.0      4.0
    """
    dist = _check_dist("dist", dist)
    return LatencySummary(
        mean_ms=np.asarray(dist.mean(), dtype=float),
        p50_ms=np.asarray(dist.ppf(0.5), dtype=float),
        p99_ms=np.asarray(dist.ppf(0.99), dtype=float),
        p999_ms=np.asarray(dist.ppf(0.999), dtype=float),
    )
