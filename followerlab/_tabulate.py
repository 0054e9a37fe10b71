r"""Fast paths for sweeps: exact laws tabulated once, interpolated with a measured error.

M/G/1 with gamma service
------------------------
For Poisson arrivals and gamma service (mean :math:`\bar s`, CV :math:`c`) the response-time
quantile scaled by the mean service depends only on :math:`(\rho, c)`.  The table holds

.. math:: \ln f_q(\rho, c), \qquad f_q = T_q(\rho, c)\,\frac{1 - \rho}{\bar s}

(:math:`T_q` grows like :math:`1/(1-\rho)`, so :math:`f_q` stays bounded; for exponential
service :math:`f_q = -\ln(1-q)` exactly; the logarithm turns relative error into absolute
error and tames the tiny gamma medians at large CV) for :math:`q \in \{0.5, 0.99\}` on a
160 x 217 grid: in :math:`\sigma = -\ln(1-\rho)` (:math:`0 \le \rho \le 0.995`) graded toward
:math:`\sigma = 0` (:math:`\sigma_{max}(e^{4u} - 1)/(e^4 - 1)`, :math:`u` uniform; first step
0.0025, where the low-load quantiles of a skewed service move fast with ρ) and in :math:`c`
from 0 to 5: step 0.025 from :data:`~followerlab._talbot.TALBOT_MIN_CV` (0.4) up, 0.0125 below.
From 0.4 up the nodes are the exact law by the Talbot inversion of the Pollaczek–Khinchine
transform (:func:`followerlab._talbot.mg1_gamma_mixture_response_ppf`, error about 1e-9);
below 0.4, where the inversion fails on the nearly deterministic laws, the Beneš lattice of
:mod:`followerlab._mg1` at 2**15 points (2**17 above ρ = 0.98) with its error estimate.  They are
interpolated by the bicubic spline through the nodes, evaluated per cell from its polynomial
coefficients (vectorized, no per-element solve).  Built by ``tools/build_tables.py mg1``
(472 s, of which the inversion's part is 5 s) into ``data/tables/mg1_gamma_response.npz``
(1.4 MB).

**Error control.**  The file also holds the exact law at every cell centre and at 9300 seeded
random points (700 of them below CV 0.4, 300 at CV 0 and 300 at CV 5), with the error bound
(inversion, 1e-8) or estimate (lattice: the change from half the points) of every stored value.
When the table is loaded, a cell is *trusted* if the spline's error at its centre is at most
:data:`MG1_TABLE_TOL` / 3 (for both q; / 10 below CV 0.4, where the law has kinks between the
nodes that a centre can miss: with / 3 a dense M/D/1 check found 5.8e-6 at ρ = 0.46 while the
random points said 2.75e-6; with / 10, 8.1e-7) and the values it is judged by (its four nodes
and its centre) are accurate to a tenth of the tolerance; the neighbours of a cell whose centre
misses are dropped too (a kink of the law spoils the spline next to it).  The worst error over
the random points that fall in trusted cells (and whose own value is that accurate) is
``max_rel_error``, what :func:`mg1_gamma_response_quantiles` reports.  The shipped table trusts every cell from CV 0.4
up; below it 86.6 % of the cells — 42.8 % for CV below 0.05, 67.3 % for 0.05-0.1, 92.4 % for
0.1-0.2, 99.6 % for 0.2-0.4: the untrusted ones lie on the M/D/1-like kinks of a nearly constant
service (and 28 cells where the lattice itself is not accurate enough, near saturation).
``max_rel_error`` is 1.9e-6 (p50) and 7.2e-7 (p99).  Measured afresh (600 random configurations
with CV below 0.4, half crowded toward saturation, against the lattice at 2**18 points; 2000
loads at CV 0 against Erlang's M/D/1 law): worst 4.2e-7 and 8.1e-7.
``tests/test_tabulate.py`` and ``benchmarks/accuracy_tabulate.py`` re-measure it on fresh random
points across the domain, near saturation included, against the inversion (with more nodes),
against the Beneš lattice (2**18 points below CV 0.4; where it is accurate above), and against
M/M/1 and Erlang's M/D/1 law.
:data:`MG1_TABLE_TOL` is 1e-5.

**Outside the table** (ρ > 0.995, CV > 5, another q, or an untrusted cell) the exact law is
computed once per distinct configuration: by the Talbot inversion when every service class has
CV ≥ 0.4 (about 0.1 ms per configuration, error ≤ ``TALBOT_MAX_REL_ERROR`` = 1e-8, method
``"exact: transform inversion"``), by the Euler inversion (:mod:`followerlab._euler`, about
0.4 ms, error ≤ ``EULER_MAX_REL_ERROR`` = 3e-7, same method label) when every class has CV ≥
0.05, else by the Beneš lattice of :mod:`followerlab._mg1` (method ``"exact"``, a few ms; near
CV 0 the law approaches M/D/1's kinks, where both inversions converge slowly and the table
cannot follow everywhere) — a constant service (CV below ``CV_DETERMINISTIC``)
by Erlang's M/D/1 law itself (:func:`followerlab.queueing.md1`, numerical error below 1e-12,
about 2.5 ms per distinct load), once per distinct load.  The lattice gets more points near
saturation (:func:`lattice_points`) and reports an error *estimate*: the relative change of the quantile
when the points are halved (it covered the error against a 4x finer lattice on every
configuration tested; up to 2e-2 for a nearly constant class mixed with a CV-3 class, where the
lattice converges slowly).  Two-class mixtures are never tabulated (five dimensionless
parameters).

**What changed (issue 13), and why it matters for trust.**  Before, the table came from the
lattice at 2**16 points and the fallback was the lattice at a fixed 2**12 points.  The lattice
converges slowly when the gamma shape :math:`1/c^2` is small (a density singular at 0): the
table's error against the true law was the lattice's beyond CV 2 (up to 7e-4 at CV 5), the
2**12 fallback was off by up to 2.7 % on p50 for mixtures with a class of CV 2-5, and near
saturation a fixed lattice spans hundreds of service times with a few cells each: for CV 0.37
at ρ = 0.995 the p99 came out 18 % low.  None of that was in ``max_rel_error`` (0 was reported
for the fallback).  Cells with CV below 0.375 and a low-load strip at high CV were untrusted
(75 % of cells trusted), so random sweeps paid the lattice for a quarter of their
configurations.  Then the table started at CV 0.4 (the inversion's limit), and every
configuration below it paid a lattice solve of 5-17 ms; since the lattice part was added (CV
0-0.4), only those in untrusted cells do (11 % of random configurations with CV below 0.4, 37 %
of those below 0.1, 61 % at CV 0 exactly).

References
----------
Benes1957, AbateWhitt1992 and Kleinrock1975 (Pollaczek–Khinchine) in docs/references.rst
(the lattice), AbateValko2004 and AbateWhitt2006 (the Talbot inversion the table is built
from), AbateWhitt1995 (the Euler inversion outside the table, CV 0.05-0.4); deBoor1978
(bicubic spline interpolation).

Examples
--------
>>> (p50, p99), method, err = mg1_gamma_response_quantiles([0.5, 0.9], 1.0, [1.0, 2.0])
>>> p50.round(3), p99.round(2)      # the first is M/M/1: ln 2 / 0.5 and ln 100 / 0.5
(array([ 1.386, 15.524]), array([  9.21, 115.4 ]))
>>> method.tolist(), bool(err.max() < MG1_TABLE_TOL)
(['exact: tabulated', 'exact: tabulated'], True)
"""

from __future__ import annotations

import functools

import numpy as np

from ._data import data_path

__all__ = ["MG1_TABLE_TOL", "mg1_gamma_response_quantiles", "repeated_row_index", "unique_rows", "unique_row_index"]

#: Relative interpolation error the M/G/1 table promises (cells that miss it are not used).
MG1_TABLE_TOL = 1e-5
#: Method labels (the ``method`` vocabulary of :class:`followerlab.queueing.QueueMetrics`).
TABULATED = "exact: tabulated"
INVERTED = "exact: transform inversion"
EXACT = "exact"
_MG1_TABLE = ("tables", "mg1_gamma_response.npz")
# Hermite basis as a matrix: p(u) = [1, u, u^2, u^3] @ _H @ [f0, f1, f0', f1']
_H = np.array([[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [-3.0, 3.0, -2.0, -1.0], [2.0, -2.0, 1.0, 1.0]])


def unique_rows(*columns):
    """Distinct rows of equally long 1-D columns: ``(unique_columns, inverse)``.

    The same result as ``np.unique(np.stack(columns, 1), axis=0, return_inverse=True)`` (rows
    in lexicographic order), but each column is factorized on its own (a 1-D sort) and the
    integer codes are combined in mixed radix, refactorizing whenever the next product would
    overflow int64: exact (no hashing), and about 10x faster than ``np.unique(axis=0)``, whose
    row sort dominated sweeps of 10^6 configurations (issue 13).

    >>> cols, inv = unique_rows(np.array([1.0, 2.0, 1.0]), np.array([5.0, 6.0, 5.0]))
    >>> cols[0].tolist(), inv.tolist()
    ([1.0, 2.0], [0, 1, 0])
    """
    cols = [np.asarray(c, float).ravel() for c in columns]
    first, inverse = unique_row_index(*cols)
    return tuple(c[first] for c in cols), inverse


def unique_row_index(*columns):
    """``(first, inverse)`` of the distinct rows of equally long 1-D columns, as
    ``np.unique(..., axis=0, return_index=True, return_inverse=True)`` gives them (see
    :func:`unique_rows`, which this serves).

    Each column gets integer codes that keep its order: by hashing (``pandas.factorize`` with
    sorted codes, 18 ms for 10^6 values) when a sample of 10^4 of its values holds fewer than
    2000 distinct ones, else by sorting (``np.unique``, 70-160 ms; hashing 10^6 distinct
    floats took 0.22 s).  The codes are combined in mixed radix; when the key space is at most
    four times the row count the distinct keys are found by marking them in a table of that
    size, without a sort (sweeps that repeat their laws: 0.08 s instead of 0.37 s for 10^6 rows
    of 20 distinct 4-column rows).

    >>> first, inv = unique_row_index(np.array([2.0, 1.0, 2.0]), np.array([5.0, 6.0, 5.0]))
    >>> first.tolist(), inv.tolist()
    ([1, 0], [1, 0, 1])
    """
    cols = [np.asarray(c, float).ravel() for c in columns]
    n = cols[0].size if cols else 0
    if n == 0:
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
    key = np.zeros(n, dtype=np.int64)
    size = 1
    for c in cols:
        code, k = _order_codes(c)
        if size * k >= 2**62:                     # refactorize the key before it overflows
            _, key = np.unique(key, return_inverse=True)
            key = key.ravel().astype(np.int64)
            size = int(key.max()) + 1
        key = key * k + code
        size *= k
    if size <= 4 * n:
        present = np.zeros(size, dtype=bool)
        present[key] = True
        rank = np.cumsum(present) - 1
        inverse = rank[key]
        first = np.full(int(rank[-1]) + 1, n, dtype=np.intp)
        np.minimum.at(first, inverse, np.arange(n))
        return first, inverse
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    return first, inverse.ravel()


def repeated_row_index(*columns, max_share=0.25):
    """:func:`unique_row_index` of the columns when their rows repeat, else ``None``.

    A sweep that repeats its configurations along other axes is worth evaluating once per
    distinct row; random configurations are not (finding the distinct rows of 10^6 distinct
    4-column rows takes 0.75 s).  A sample of 10^4 rows decides: ``None`` when more than
    ``max_share`` of the sampled rows are distinct, or when more than that share of all rows
    are.  The sample costs about 3 ms.

    >>> first, inv = repeated_row_index(np.tile([1.0, 2.0], 50), np.tile([3.0, 4.0], 50))
    >>> first.tolist(), inv[:4].tolist()
    ([0, 1], [0, 1, 0, 1])
    >>> repeated_row_index(np.arange(100.0)) is None
    True
    """
    cols = [np.asarray(c, float).ravel() for c in columns]
    n = cols[0].size if cols else 0
    if n == 0:
        return None
    pick = slice(None, None, max(1, n // 10_000))
    if unique_row_index(*(c[pick] for c in cols))[0].size > max_share * cols[0][pick].size:
        return None
    first, inverse = unique_row_index(*cols)
    return (first, inverse) if first.size <= max_share * n else None


def _order_codes(c):
    """Codes 0..k-1 of a float column in the order of its distinct values, and k."""
    sample = c[:: max(1, c.size // 10_000)]
    if np.unique(sample).size < 2000 and not np.isnan(c).any():
        import pandas as pd

        code, uniq = pd.factorize(c, sort=True)
        return code.astype(np.int64), uniq.size
    _, code = np.unique(c, return_inverse=True)
    return code.ravel().astype(np.int64), int(code.max()) + 1


class _Bicubic:
    """Piecewise-bicubic interpolant on a regular (x, y) grid, one 4x4 polynomial per cell."""

    def __init__(self, x, y, values):
        from scipy.interpolate import RectBivariateSpline

        self.x, self.y = np.asarray(x, float), np.asarray(y, float)
        spline = RectBivariateSpline(self.x, self.y, values, kx=3, ky=3, s=0)
        hx, hy = np.diff(self.x)[:, None], np.diff(self.y)[None, :]
        f, fx, fy, fxy = (spline(self.x, self.y, dx=dx, dy=dy) for dx, dy in ((0, 0), (1, 0), (0, 1), (1, 1)))
        # corner data of every cell, derivatives in local units u = (x - x_i) / hx
        g = np.empty((len(self.x) - 1, len(self.y) - 1, 4, 4))
        for a, (di, fx_scale) in enumerate(((0, False), (1, False), (0, True), (1, True))):
            for b, (dj, fy_scale) in enumerate(((0, False), (1, False), (0, True), (1, True))):
                src = {(False, False): f, (True, False): fx, (False, True): fy, (True, True): fxy}[(fx_scale, fy_scale)]
                v = src[di:di + hx.shape[0], dj:dj + hy.shape[1]]
                g[:, :, a, b] = v * (hx if fx_scale else 1.0) * (hy if fy_scale else 1.0)
        self.coef = np.einsum("ak,ijkl,bl->ijab", _H, g, _H)   # p = U @ coef @ V

    def cell(self, x, y):
        i = np.clip(np.searchsorted(self.x, x, side="right") - 1, 0, len(self.x) - 2)
        j = np.clip(np.searchsorted(self.y, y, side="right") - 1, 0, len(self.y) - 2)
        return i, j

    def __call__(self, x, y, i=None, j=None):
        if i is None:
            i, j = self.cell(x, y)
        u = (x - self.x[i]) / (self.x[i + 1] - self.x[i])
        v = (y - self.y[j]) / (self.y[j + 1] - self.y[j])
        c = self.coef[i, j]                                       # (n, 4, 4)
        row = ((c[:, 3] * u[:, None] + c[:, 2]) * u[:, None] + c[:, 1]) * u[:, None] + c[:, 0]
        return ((row[:, 3] * v + row[:, 2]) * v + row[:, 1]) * v + row[:, 0]


def _trust(centre_err, tol):
    """Cells whose centre error is at most tol / 3, minus the neighbours of those that miss it
    (along every axis; ``centre_err`` has one axis per grid dimension)."""
    bad = np.asarray(centre_err) > tol / 3.0
    grown = bad.copy()
    for ax in range(bad.ndim):
        lead = [slice(None)] * bad.ndim
        lag = [slice(None)] * bad.ndim
        lead[ax], lag[ax] = slice(1, None), slice(None, -1)
        grown[tuple(lead)] |= bad[tuple(lag)]
        grown[tuple(lag)] |= bad[tuple(lead)]
    return ~grown


@functools.lru_cache(maxsize=1)
def _mg1_table():
    """The M/G/1 table, its trusted cells (all q at once) and the error measured on them.

    A cell is trusted when the spline meets the tolerance at its centre (:func:`_trust`) and the
    exact values it is judged by are accurate: its four nodes and its centre have an error bound
    (inversion) or estimate (lattice, below CV 0.4) of at most a tenth of the tolerance.  The
    random points whose own reference is not that accurate are left out of ``max_rel_error``."""
    from ._talbot import TALBOT_MIN_CV

    with np.load(data_path(*_MG1_TABLE)) as z:
        d = {k: z[k] for k in z.files}
    sigma, cv, qs = d["sigma"], d["cv"], d["q"]
    splines = [_Bicubic(sigma, cv, d["f"][k]) for k in range(qs.size)]
    sc, cc = np.meshgrid(0.5 * (sigma[1:] + sigma[:-1]), 0.5 * (cv[1:] + cv[:-1]), indexing="ij")
    err = [np.abs(np.expm1(sp(sc.ravel(), cc.ravel()).reshape(sc.shape) - d["centre_f"][k]))
           for k, sp in enumerate(splines)]
    exact = d["f_err"] <= MG1_TABLE_TOL / 10
    exact = (exact[1:, 1:] & exact[:-1, 1:] & exact[1:, :-1] & exact[:-1, :-1]
             & (d["centre_err"] <= MG1_TABLE_TOL / 10))
    # below CV 0.4 (the lattice part) the law has kinks between the nodes that a centre can
    # miss: there a cell's centre must meet a tenth of the tolerance, not a third
    kinked = 0.5 * (cv[1:] + cv[:-1]) < TALBOT_MIN_CV
    ok = _trust(np.max(err, axis=0) * np.where(kinked, 10.0 / 3.0, 1.0), MG1_TABLE_TOL) & exact
    rs, rc = d["random_sigma"], d["random_cv"]
    i, j = splines[0].cell(rs, rc)
    trusted = ok[i, j]
    judged = trusted & (d["random_err"] <= MG1_TABLE_TOL / 10)
    max_err = np.array([np.abs(np.expm1(sp(rs, rc) - d["random_f"][k]))[judged].max() for k, sp in enumerate(splines)])
    return dict(q=qs, splines=splines, ok=ok, max_rel_error=max_err, trusted_share=float(trusted.mean()),
                rho_max=float(d["rho_max"]), cv_min=float(cv[0]), cv_max=float(cv[-1]))


def _exact_mixture(rate, p, mean_a, cv_a, mean_b, cv_b, qs, points):
    """Exact response quantiles (rows: ``qs``), method and error bound of M/G/1 queues with a
    two-class gamma-mixture service (1-D stable configurations), each distinct one solved once.

    Where every class present has CV >= ``TALBOT_MIN_CV`` (0.4) the transform is inverted by the
    fixed Talbot rule (:func:`followerlab._talbot.mg1_gamma_mixture_response_ppf`, about 0.1 ms
    per configuration, error below ``TALBOT_MAX_REL_ERROR`` = 1e-8); where every class has CV >=
    ``EULER_MIN_CV`` (0.05) but one is below 0.4, by the Euler algorithm on the Bromwich line
    (:func:`followerlab._euler.mg1_gamma_mixture_response_ppf_euler`, about 0.4 ms, error below
    ``EULER_MAX_REL_ERROR`` = 3e-7); elsewhere (a class with CV below 0.05, a constant one
    included) the Beneš lattice of :mod:`followerlab._mg1` (a few ms; :func:`lattice_points`
    points, more near saturation) with its error estimate (:func:`_lattice_quantiles`)."""
    from ._euler import EULER_MAX_REL_ERROR, EULER_MIN_CV, mg1_gamma_mixture_response_ppf_euler
    from ._talbot import TALBOT_MAX_REL_ERROR, TALBOT_MIN_CV, mg1_gamma_mixture_response_ppf

    (lam, pp, sa, ca, sb, cb), inv = unique_rows(*np.broadcast_arrays(rate, p, mean_a, cv_a, mean_b, cv_b))
    qs = np.asarray(qs, float)
    vals = np.empty((qs.size, lam.size))
    err = np.full(lam.size, TALBOT_MAX_REL_ERROR)

    def all_at_least(cv_min):
        return ((pp <= 0) | (ca >= cv_min)) & ((pp >= 1) | (cb >= cv_min))

    ok = all_at_least(TALBOT_MIN_CV)
    if ok.any():
        vals[:, ok] = mg1_gamma_mixture_response_ppf(lam[ok], pp[ok], sa[ok], ca[ok], sb[ok], cb[ok], qs=qs)
    eu = all_at_least(EULER_MIN_CV) & ~ok
    if eu.any():
        vals[:, eu] = mg1_gamma_mixture_response_ppf_euler(lam[eu], pp[eu], sa[eu], ca[eu], sb[eu], cb[eu], qs=qs)
        err[eu] = EULER_MAX_REL_ERROR
    lat = np.flatnonzero(~ok & ~eu)
    if lat.size:
        vals[:, lat], err[lat] = _lattice_quantiles(lam[lat], pp[lat], sa[lat], ca[lat], sb[lat], cb[lat], qs, points)
    method = np.where(ok | eu, INVERTED, EXACT)
    return vals[:, inv], method[inv], err[inv]


def lattice_points(rho, points=2**12):
    """Lattice points :func:`_lattice_quantiles` uses at utilization ``rho``: ``points``, but at
    least :func:`followerlab._mg1.min_points` (2**14 above rho = 0.98, 2**16 above 0.99, 2**18
    above 0.995), the rule the lattice's quantiles follow by default.

    Near saturation the Beneš lattice spans ~ln(100)/(1 - rho) mean services, so a fixed number of
    points leaves a few cells per service time and the p99 drifts (measured for gamma CV 0.37 at
    rho = 0.995: 18 % low with 2**12 points, 4e-4 with 2**14, 1.6e-6 with 2**16).

    >>> lattice_points(np.array([0.5, 0.985, 0.993, 0.999])).tolist()
    [4096, 16384, 65536, 262144]
    """
    from ._mg1 import min_points

    return np.maximum(int(points), min_points(rho)).astype(np.int64)


def _lattice_quantiles(lam, p, sa, ca, sb, cb, qs, points):
    """The Beneš lattice's response quantiles (rows: ``qs``) at :func:`lattice_points` points,
    and the error estimate per configuration: the relative change from half the points (the
    lattice converges at least linearly in the step where it is used, so the change bounds the
    remaining error; measured in tests/test_tabulate.py)."""
    from ._mg1 import mg1_gamma_mixture

    rho = lam * (p * sa + (1 - p) * sb)
    n_pts = lattice_points(rho, points)
    vals = np.empty((qs.size, lam.size))
    err = np.empty(lam.size)
    for n in np.unique(n_pts):
        k = np.flatnonzero(n_pts == n)
        args = (lam[k], p[k], sa[k], ca[k], sb[k], cb[k])
        fine = mg1_gamma_mixture(*args, points=int(n), auto_points=False).response_ppf(qs[:, None])
        half = mg1_gamma_mixture(*args, points=int(n) // 2, auto_points=False).response_ppf(qs[:, None])
        vals[:, k] = fine
        err[k] = np.abs(half / fine - 1.0).max(axis=0)
    return vals, err


def mg1_gamma_response_quantiles(arrival_rate, mean_s, cv, qs=(0.5, 0.99), *, points=2**12):
    r"""Response-time quantiles of M/G/1 queues with gamma service, tabulated where trusted.

    Parameters
    ----------
    arrival_rate, mean_s, cv : array_like
        Poisson rate (per s), mean service (s, > 0), service CV (>= 0); broadcast together.
        Stable configurations only (:math:`\rho = \lambda\bar s < 1`): the caller handles
        saturation.
    qs : sequence of float
        Probabilities; those not in the table (0.5, 0.99) use the exact method.
    points : int
        Lattice points of the exact method where the lattice is used, at light load
        (:func:`lattice_points` multiplies them near saturation).

    Returns
    -------
    quantiles : tuple of ndarray
        One array per ``q`` (s), the broadcast shape.
    method : ndarray of str
        ``"exact: tabulated"`` (table), ``"exact: transform inversion"`` (outside the table:
        Talbot for CV >= 0.4, Euler for CV 0.05-0.4) or ``"exact"`` (the lattice: CV below
        0.05 in an untrusted cell or outside the table; Erlang's M/D/1 law for a constant
        service there; an idle queue).
    max_rel_error : ndarray
        Per element: the table's measured worst relative error, the inversion's bound
        (``TALBOT_MAX_REL_ERROR`` or ``EULER_MAX_REL_ERROR``), the lattice's estimate (change
        from half the points), or 0 (an idle queue: a gamma quantile in closed form; a constant
        service: M/D/1's exact law).
    """
    from ._mg1 import CV_DETERMINISTIC

    lam, s, c = np.broadcast_arrays(*(np.asarray(a, float) for a in (arrival_rate, mean_s, cv)))
    shape = lam.shape
    lam, s, c = lam.ravel(), s.ravel(), c.ravel()
    rho = lam * s
    table = _mg1_table()
    out = [np.empty(lam.size) for _ in qs]
    err = np.zeros(lam.size)
    cols = [np.flatnonzero(np.isclose(table["q"], q, rtol=0, atol=1e-12)) for q in qs]
    tab = np.zeros(lam.size, dtype=bool)
    if all(k.size for k in cols):           # every q tabulated: the table where it is trusted
        cols = [int(k[0]) for k in cols]
        in_dom = (rho <= table["rho_max"]) & (c >= table["cv_min"]) & (c <= table["cv_max"])
        sig = -np.log1p(-np.where(in_dom, rho, 0.0))
        i, j = table["splines"][0].cell(sig, c)
        tab = in_dom & table["ok"][i, j] & (lam > 0)
        sel = np.flatnonzero(tab)
        scale = s[sel] / (1.0 - rho[sel])
        for o, k in zip(out, cols):
            o[sel] = np.exp(table["splines"][k](sig[sel], c[sel], i[sel], j[sel])) * scale
        err[sel] = max(float(table["max_rel_error"][k]) for k in cols)
    # no arrivals (an idle head): the response is the service time, a gamma quantile in closed form
    idle = np.flatnonzero(lam == 0)
    if idle.size:
        from scipy import stats

        det = c[idle] < CV_DETERMINISTIC
        k = 1.0 / np.where(det, 1.0, c[idle]) ** 2
        for o, q in zip(out, qs):
            o[idle] = np.where(det, s[idle], stats.gamma.ppf(q, k, scale=s[idle] / k))
    method = np.where(tab, TABULATED, EXACT).astype(object)
    # a constant service outside the table: Erlang's M/D/1 law (Crommelin's method of
    # followerlab._mdc, numerical error below 1e-12; 2.5 ms per distinct load against about
    # 7 ms and a ~1e-6 estimate for the lattice), once per distinct load (T_q = s f(rho))
    const = np.flatnonzero(~tab & (lam > 0) & (c < CV_DETERMINISTIC))
    if const.size:
        from .queueing import md1

        rho_u, inv = np.unique(rho[const], return_inverse=True)
        law = md1(rho_u, 1.0)
        for o, q in zip(out, qs):
            o[const] = law.response_quantile(q)[inv.ravel()] * s[const]
    rest = np.flatnonzero(~tab & (lam > 0) & (c >= CV_DETERMINISTIC))
    if rest.size:
        ex, method[rest], err[rest] = _exact_mixture(lam[rest], 1.0, s[rest], c[rest], s[rest], c[rest], qs, points)
        for o, row in zip(out, ex):
            o[rest] = row
    return (tuple(o.reshape(shape) for o in out), method.astype(str).reshape(shape), err.reshape(shape))


def admin_response_quantiles(arrival_rate, p, mean_a_s, cv_a, mean_b_s, cv_b, *, points=2**12):
    r"""p50 and p99 of the response of M/G/1 queues whose service is a two-class gamma mixture.

    Class a (gamma(``mean_a_s``, ``cv_a``)) with probability ``p``, else class b (1-D arrays of
    stable configurations).  Where the service is one gamma law (``p`` 0 or 1, or both classes
    equal) the M/G/1 gamma table is used (:func:`mg1_gamma_response_quantiles`); a true mixture
    has five dimensionless parameters, too many to tabulate, and is computed exactly
    (:func:`_exact_mixture`: a transform inversion, or the lattice for a class with CV below
    0.05) once per *distinct* configuration
    (:func:`numpy.unique`): a sweep that repeats the admin node's configuration across other
    axes (heads, routing, placements) pays for each distinct one once.

    Returns ``(p50, p99, method, max_rel_error)`` like :func:`mg1_gamma_response_quantiles`.

    >>> p50, p99, method, _ = admin_response_quantiles([10.0, 10.0, 10.0], [1.0, 1.0, 0.98],
    ...                                                0.05, 1.5, 1.0, 0.5)
    >>> method.tolist()
    ['exact: tabulated', 'exact: tabulated', 'exact: transform inversion']
    >>> bool(abs(p99[0] / p99[1] - 1) < 1e-12), bool(p99[2] > p99[0])
    (True, True)
    """
    lam, p, sa, ca, sb, cb = (np.asarray(a, float).ravel() for a in np.broadcast_arrays(
        arrival_rate, p, mean_a_s, cv_a, mean_b_s, cv_b))
    p50, p99 = np.empty(lam.size), np.empty(lam.size)
    method = np.full(lam.size, EXACT, dtype=object)
    err = np.zeros(lam.size)
    single = (p >= 1) | (p <= 0) | ((sa == sb) & (ca == cb))
    use_a = (p > 0) | ((sa == sb) & (ca == cb))
    one = np.flatnonzero(single)
    if one.size:
        s = np.where(use_a[one], sa[one], sb[one])
        c = np.where(use_a[one], ca[one], cb[one])
        (p50[one], p99[one]), method[one], err[one] = mg1_gamma_response_quantiles(lam[one], s, c, points=points)
    mix = np.flatnonzero(~single)
    if mix.size:
        (p50[mix], p99[mix]), method[mix], err[mix] = _exact_mixture(
            lam[mix], p[mix], sa[mix], ca[mix], sb[mix], cb[mix], (0.5, 0.99), points)
    return p50, p99, method.astype(str), err


def solve_unique(fn, *columns, **kwargs):
    """``fn(*columns, **kwargs)`` computed on the distinct rows of the 1-D ``columns`` only.

    Every array ``fn`` returns (first axis = rows) is expanded back to all rows, so the result
    is the same as ``fn(*columns)`` for a row-wise ``fn``; sweeps that repeat a configuration
    across other axes solve it once.

    >>> solve_unique(lambda x, y: (x + y, x * y), np.array([1.0, 2.0, 1.0]), np.array([3.0, 4.0, 3.0]))
    (array([4., 6., 4.]), array([3., 8., 3.]))
    """
    uniq, inverse = unique_rows(*columns)
    return tuple(np.asarray(o)[inverse] for o in fn(*uniq, **kwargs))


# --------------------------------------------------------------------------------------------
# Raft leader as a bulk-service queue M/D^(b,b)/1 (raft.write_load)
# --------------------------------------------------------------------------------------------
#: Relative error the write-load table promises (opt-in: ``raft.write_load(method="tabulated")``;
#: the exact numerics promise ~1e-9, which a table of this lattice law cannot reach: its
#: quantiles have small kinks wherever they cross a multiple of the service time).
WRITE_TABLE_TOL = 1e-4
_WRITE_TABLE = ("tables", "write_load.npz")


class _PiecewiseCubic:
    r"""One cubic spline per row on the row's own knots, broken at its kinks.

    ``knots``, ``values`` and ``kink`` have shape (rows, M), padded with NaN (knots) / False
    beyond each row's last knot.  Between two kinks (and the row's ends) the spline is the
    not-a-knot cubic spline through the knots there (a straight line through two, a parabola
    through three); at a kink it is continuous but its slope is not, as the law's is not.  All
    rows' knots are kept in one sorted array (row ``r`` shifted by ``r * shift``).  A point is
    located without a search: the interval holding the uniform ``grid`` point below it (a table
    per row, built once with :func:`numpy.searchsorted`), then at most ``steps`` steps over the
    knots inside that grid cell (the kinks: one in the shipped table).  Interval ``i`` of the
    flat arrays runs from knot ``i`` to knot ``i + 1``; the last knot of a row starts no
    interval (a ``nan`` one).
    """

    def __init__(self, knots, values, kink, grid):
        from scipy.interpolate import CubicSpline

        knots, values, kink = (np.asarray(a) for a in (knots, values, kink))
        self.x0 = float(np.nanmin(knots))
        self.shift = float(np.nanmax(knots)) - self.x0 + 1.0
        xs, cs, self.start, self.end = [], [], [], []
        off = 0
        for r in range(knots.shape[0]):
            m = ~np.isnan(knots[r])
            X, Y, K = knots[r, m], values[r, m], kink[r, m]
            c = np.full((4, X.size), np.nan)
            bounds = [0, *(np.flatnonzero(K[1:-1]) + 1), X.size - 1]
            for a, b in zip(bounds[:-1], bounds[1:]):
                if b - a >= 2:
                    c[:, a:b] = CubicSpline(X[a:b + 1], Y[a:b + 1]).c
                else:
                    c[:, a] = (0.0, 0.0, (Y[b] - Y[a]) / (X[b] - X[a]), Y[a])
            xs.append(X)
            cs.append(c)
            self.start.append(off)
            off += X.size
            self.end.append(off)
        self.x = np.concatenate(xs)
        self.row = np.repeat(np.arange(knots.shape[0]), [x.size for x in xs])
        self.key = self.row * self.shift + (self.x - self.x0)
        self.c = np.concatenate(cs, axis=1)
        self.start, self.end = np.array(self.start), np.array(self.end)
        # locating without a search: the interval holding each grid point (per row), then a few
        # steps forward over the knots that lie inside a grid cell (kinks)
        self.grid = np.asarray(grid, float)
        self.h = (self.grid[-1] - self.grid[0]) / (self.grid.size - 1)
        rows = np.arange(knots.shape[0])[:, None]
        self.lut = self._search(rows, self.grid[None, :])
        inside = [np.searchsorted(self.x[s:e], self.grid[1:], side="left")
                  - np.searchsorted(self.x[s:e], self.grid[:-1], side="right") for s, e in zip(self.start, self.end)]
        self.steps = int(max(c.max() for c in inside))          # knots strictly inside a grid cell

    def _search(self, row, x):
        i = np.searchsorted(self.key, row * self.shift + (x - self.x0), side="right") - 1
        return np.clip(i, self.start[row], self.end[row] - 2)

    def cell(self, row, x):
        """Flat index of the interval of each ``(row, x)`` (clipped to the row's first / last)."""
        j = np.clip(((x - self.grid[0]) / self.h).astype(np.int64), 0, self.grid.size - 2)
        i = self.lut[row, j]
        last = self.end[row] - 2
        for _ in range(self.steps):
            nxt = np.minimum(i + 1, last)
            i = np.where(x >= self.x[nxt], nxt, i)
        return i

    def __call__(self, row, x, i=None):
        i = self.cell(row, x) if i is None else i
        d = x - self.x[i]
        c = self.c[:, i]
        return ((c[0] * d + c[1]) * d + c[2]) * d + c[3]


@functools.lru_cache(maxsize=1)
def _write_table():
    """The write-load table (rows: p50, p99, wait), trusted intervals and measured errors.

    Each quantity has its own knots per batch (:class:`_PiecewiseCubic`); an interval is trusted
    when the spline meets ``WRITE_TABLE_TOL`` / 3 at its midpoint (against the exact value
    stored there), and its neighbours in the same row are dropped with a bad one.  A point is
    tabulated when its interval is trusted for all three quantities."""
    with np.load(data_path(*_WRITE_TABLE)) as z:
        d = {k: z[k] for k in z.files}
    b_max = d["knots"].shape[1]
    splines = [_PiecewiseCubic(d["knots"][k], d["values"][k], d["kink"][k], d["logit"])
               for k in range(d["knots"].shape[0])]
    ok = []
    for k, sp in enumerate(splines):
        mids = d["mids"][k]
        flat = np.concatenate([np.append(mids[r, :sp.end[r] - sp.start[r] - 1], np.nan) for r in range(b_max)])
        xm = np.append(0.5 * (sp.x[1:] + sp.x[:-1]), np.nan)
        last = np.zeros(sp.x.size, dtype=bool)
        last[sp.end - 1] = True
        with np.errstate(invalid="ignore"):
            err = np.where(last, 0.0, np.abs(np.expm1(sp(sp.row, xm, np.arange(sp.x.size)) - flat)))
        bad = err > WRITE_TABLE_TOL / 3.0
        grown = bad.copy()
        grown[1:] |= bad[:-1] & ~last[:-1]        # the next interval of the same row
        grown[:-1] |= bad[1:] & ~last[:-1]        # the previous one
        ok.append(~grown & ~last)
    rb, rx = d["random_b"] - 1, d["random_logit"]
    trusted = np.logical_and.reduce([o[sp.cell(rb, rx)] for o, sp in zip(ok, splines)])
    max_err = np.array([np.abs(np.expm1(sp(rb, rx) - d["random"][k]))[trusted].max()
                        for k, sp in enumerate(splines)])
    return dict(x=d["logit"], b_max=b_max, q=d["q"], quant=splines[:-1], wait=splines[-1], ok=ok,
                max_rel_error=max_err, trusted_share=float(trusted.mean()))


def write_numerics(exact, rate_per_s, batch, service_ms, qs=(0.5, 0.99)):
    r"""Mean queue wait and quantiles of :math:`S + U` of the Raft leader's bulk queue, fast.

    The leader of :func:`followerlab.raft.write_load` is an M/D^(b,b)/1 queue; in units of the
    service time S its law depends only on the batch ``b`` and :math:`\rho = \lambda S / b`
    (the batch-fill time is Erlang in :math:`\lambda S`, the queue a walk with Poisson(λS)
    steps).  The table holds, for b = 1..64 and :math:`\rho \in [10^{-4}, 0.995]`,
    :math:`\ln((S + U_q)/S)` for q = 0.5, 0.99 and :math:`\ln(1 + W_q/S)` (``W_q`` the mean
    wait of a full batch), computed with the exact generating-function method (``exact``, i.e.
    ``raft._write_numerics``) on a grid of 385 nodes uniform in :math:`\operatorname{logit}\rho`
    and interpolated by one cubic spline per b (:class:`_PiecewiseCubic`).

    **Kinks.**  U's distribution function has a kink at every multiple of S (and an atom at 0),
    so :math:`U_q(\rho)` has one wherever it crosses a multiple of S; one smooth spline across it
    missed by up to 2.5e-3 at the centres of the cells around it (140 of 49,152 cells for the two
    quantiles).  Where a cell's centre missed ``WRITE_TABLE_TOL`` / 3, the table builder located
    these crossings (bisection on :math:`P(U \le kS; \rho) = q`; 72 for p50, one to three for
    every batch, and 3 for p99, all at b = 1) and breaks the spline there: the kink is a knot with the exact value
    :math:`\ln(1 + k)`, the spline on each side is its own.  Before, those cells were not trusted
    (1.6 % of random points went to the exact method, about 1 ms each: 11.5 s of a
    10^6-configuration random sweep); now every interval is.

    **Error control.**  An interval is trusted when the spline meets ``WRITE_TABLE_TOL`` / 3 at
    its midpoint against the exact value stored there (its neighbours in the row are dropped with
    it); ``max_rel_error`` is the worst error over 8000 seeded random points in trusted intervals:
    2.1e-5 (p50), 2.3e-7 (p99), 3.8e-9 (wait) for the shipped table, which trusts all 73,764
    intervals.  Other ``b``, ρ or ``q`` use ``exact`` on distinct rows only.  The error bound of
    the quantiles is relative; that of the wait is relative to :math:`S + W_q` (a wait far below
    the service time is known to 1e-4 of S).

    Parameters
    ----------
    exact : callable
        ``exact(rate_per_s, batch, service_ms, qs) -> (wait, quant)`` on 1-D arrays.
    rate_per_s, batch, service_ms : ndarray
        1-D arrays (per s, int, ms).

    Returns
    -------
    wait, quant, method, max_rel_error : ndarray
        ``quant`` has shape (rows, len(qs)); unstable rows are ``inf`` as from ``exact``.
    """
    lam = np.asarray(rate_per_s, float) / 1000.0
    b = np.asarray(batch).astype(np.int64)
    S = np.asarray(service_ms, float)
    qs = np.asarray(qs, float)
    n = lam.size
    wait = np.full(n, np.inf)
    quant = np.full((n, qs.size), np.inf)
    err = np.zeros(n)
    table = _write_table()
    cols = [np.flatnonzero(np.isclose(table["q"], q, rtol=0, atol=1e-12)) for q in qs]
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = lam * S / b
        x = np.log(rho) - np.log1p(-rho)
    stable = rho < 1.0
    tab = np.zeros(n, dtype=bool)
    if all(k.size for k in cols):
        cols = [int(k[0]) for k in cols]
        tab = stable & (b >= 1) & (b <= table["b_max"]) & (x >= table["x"][0]) & (x <= table["x"][-1])
        sel = np.flatnonzero(tab)
        row, xs = b[sel] - 1, x[sel]
        splines = [table["quant"][k] for k in cols] + [table["wait"]]
        oks = [table["ok"][k] for k in cols] + [table["ok"][-1]]
        cells = [sp.cell(row, xs) for sp in splines]
        good = np.logical_and.reduce([o[i] for o, i in zip(oks, cells)])
        tab[sel[~good]] = False
        sel, row, xs = sel[good], row[good], xs[good]
        cells = [i[good] for i in cells]
        wait[sel] = S[sel] * np.expm1(splines[-1](row, xs, cells[-1]))
        for j in range(len(cols)):
            quant[sel, j] = S[sel] * np.exp(splines[j](row, xs, cells[j]))
        err[sel] = float(np.max(table["max_rel_error"]))
    rest = np.flatnonzero(~tab & stable)
    if rest.size:
        w, qv = solve_unique(lambda *c: exact(*c, qs), np.asarray(rate_per_s, float)[rest], b[rest], S[rest])
        wait[rest], quant[rest] = w, qv
    method = np.where(tab, TABULATED, EXACT)
    return np.maximum(wait, 0.0), quant, method, err
