r"""M/G/1 FCFS waiting- and response-time distributions, computed exactly (numerically).

API (stable; :mod:`followerlab.queueing` builds on it)
------------------------------------------------------
``mg1_distribution(arrival_rate, service, *, points=2**14) -> MG1Distribution``
    Poisson arrivals at ``arrival_rate`` per second, service time ``service``: any single
    distribution of :mod:`followerlab.latency` (``constant``, ``gamma``, ``exponential``,
    ``shifted_lognormal``, ``pareto``, ``mixture``, ``empirical``, ``shifted``) or any scipy
    frozen distribution with scalar parameters, *read in seconds* (the latency module calls its
    unit ms, but its objects are unit-free: ``constant(0.05)`` is a 50 ms service here).
    Array parameters of the service broadcast with ``arrival_rate``.
``mg1_gamma(arrival_rate, mean_s, cv, *, points=2**14) -> MG1Distribution``
    Gamma service from arrays (mean, cv); ``cv == 0`` elementwise is deterministic (M/D/1).
``mg1_gamma_mixture(arrival_rate, p, mean_a_s, cv_a, mean_b_s, cv_b, *, points=2**14) -> MG1Distribution``
    Service is class a (gamma(mean_a_s, cv_a)) with probability ``p``, else class b; all
    arrays, ``cv == 0`` deterministic.  The admin node of :mod:`followerlab.consistency`.
``MG1Distribution`` (frozen dataclass, :class:`~followerlab._results.Result`)
    Fields (arrays of the configuration shape): ``arrival_rate_per_s``, ``mean_service_s``,
    ``utilization``, ``stable``, ``p_wait``, ``mean_wait_s``, ``mean_response_s``, ``points``.
    Methods (``t_s`` / ``q`` broadcast against the configuration shape):
    ``wait_cdf(t_s)``, ``wait_sf(t_s)``, ``wait_ppf(q)``, ``response_cdf(t_s)``,
    ``response_sf(t_s)``, ``response_ppf(q)``, ``to_frame()``.

Method
------
Pollaczek–Khinchine in the Beneš form: with :math:`\rho = \lambda E[S] < 1`,

.. math::

    W^*(s) = \frac{(1-\rho)\,s}{s - \lambda(1 - S^*(s))}
           = \frac{1-\rho}{1 - \rho\, Y^*(s)}, \qquad
    P(W \le t) = (1-\rho) \sum_{n \ge 0} \rho^n F_Y^{*n}(t),

where :math:`Y` is the equilibrium excess of :math:`S`, :math:`F_Y(x) = E[\min(S, x)]/E[S]`
(Beneš).  :math:`E[\min(S, x)]` is evaluated in closed form for every family (gamma:
regularized incomplete gamma; lognormal: normal CDF; Pareto: power; point masses and empirical:
sums), so the mass of :math:`Y` in each grid cell is exact.  Then:

1. :math:`Y` is discretized on cells of width :math:`h`, each cell's mass at its centre
   (midpoint rule, lattice step :math:`g = h/2`); if :math:`S` has point masses (the kinks
   of :math:`F_Y`), the smallest one is put on a cell edge.
2. The compound-geometric law of :math:`W` on the lattice is the coefficient sequence of
   :math:`(1-\rho)/(1-\rho\,\hat Y(z))`, obtained by one FFT on the damped circle
   :math:`|z| = r`, :math:`r^{2N} = 10^{-13}` (the lattice inversion of AbateWhitt1992: the
   wrap-around of the mass beyond the grid is multiplied by :math:`10^{-13}`, round-off
   amplified by at most :math:`r^{-N} \approx 3\cdot 10^{6}`).
3. :math:`F_W` at a lattice point is the cumulative mass minus half the mass at that point
   (second order in :math:`g`); it is computed at steps :math:`g` and :math:`2g` and
   combined by Richardson extrapolation, :math:`F + (F_g - F_{2g})/3`; linear in between.
   :math:`P(W = 0) = 1 - \rho` is kept exactly.

The response :math:`T = W + S` (independent):
:math:`F_T(t) = \sum_a p_a F_W(t - d_a) + (1-\rho) F_{S,c}(t) + (F_{W^+} * F_{S,c})(t)` — the
point masses :math:`d_a` of :math:`S` (constants, empirical samples, ``cv = 0`` classes) and
the atom of :math:`W` at 0 are summed exactly (so the jumps of :math:`F_T` sit where they
belong); only the continuous part of :math:`W` is convolved with the continuous part
:math:`F_{S,c}` of the service, on the same lattice, by the same FFT, with the same
extrapolation.

The grid adapts to the question: for quantiles a coarse pass (1024 points) finds an upper
bound of the answer (growing the range 4-fold until :math:`F(X) \ge q`), then the fine pass
puts ``points`` lattice points on :math:`[0, 1.25\,\hat Q]`; ``wait_ppf`` inverts the
piecewise-linear :math:`F_W`, ``response_ppf`` bisects :math:`F_T` (64 steps).  For the CDF
the range is the largest finite ``t`` asked for that configuration.  Configurations are
processed in chunks of about 2^21 grid values, vectorized within a chunk.

Accuracy, measured by ``tests/test_mg1_exact.py`` and ``benchmarks/accuracy_mg1.py`` at the
default ``points = 2**14``:

* against the exact M/M/1 law and the exact M/D/1 law (Erlang's formula) at ρ 0.1–0.95:
  quantiles (q 0.5–0.999) within 2.5e-7 relative, the CDF within 1.5e-6 absolute (largest
  seen; 4e-8 for M/D/1); the tests assert 1e-5 and 1e-6;
* slow convergence for small gamma shapes 1/cv² (high service CV): against a 2**18-point
  law, at rho 0.3 / 0.8 the 2**16-point lattice is within 3e-6 for cv <= 2 but off by 4e-5 /
  1.4e-5 at cv 3 and 7e-4 / 3e-5 at cv 5; the default 2**14 points by 1.7e-5 at cv 2, 2.4e-4
  at cv 3 and 3e-3 at cv 5 (measured against the Talbot inversion of :mod:`followerlab._talbot`,
  which has no grid and is what the library now uses for CV >= 0.4).  Near saturation the
  lattice spans ~ln(100)/(1 - rho) mean services, so a fixed number of points leaves few cells
  per service time: at 2**14 points the error is 3e-3 at rho = 0.998; for gamma CV 0.37 at
  rho = 0.995 the p99 is 18 % low with 2**12 points, 4e-4 with 2**14, 1.6e-6 with 2**16, and
  at rho = 0.999 still 6.5e-5 with 2**16 (against 2**18; CV 0.05: 5.7e-4).  So quantiles use
  at least :func:`min_points` lattice points for their utilization (``auto_points``, default:
  2**16 above rho = 0.99, 2**18 above 0.995; then below 1.6e-6, and 3.2e-7 at rho = 0.999
  against 2**20).  CDFs take the same floor: with a fixed 2**14 the CDF at the p50/p90/p99
  was 7.4e-4 off the exact M/M/1 law at rho = 0.999 (1.9e-3 for gamma CV 0.05 against
  2**20), with the floor 1.2e-8 (4.5e-9);
* the means are the P–K closed forms (exact); the whole laws integrate back to them within
  2e-5 (tests: mixtures of constants, lognormal + constant, Weibull, tabulated, shifted gamma;
  the second moment of the wait agrees with Takács' formula within 2e-5);
* against seeded long simulations (Lindley recursion, :mod:`followerlab.sim.queue`) for gamma
  (cv 0, 0.5, 2, 4), two-point mixtures with a rare long service, lognormal, Pareto (α 2.5,
  3) and empirical service: the tests (ρ 0.1–0.8, simulation standard error < 0.8 %) assert
  mean, p50 and p99 of wait and response within 2 %.  The benchmark's sweep (gamma cv 0–4 ×
  ρ 0.1–0.95, the other families at ρ 0.5, 0.8, 0.95; 0.2–2M customers per run, 12 runs)
  found every p50 and p99 within 2.1 % of the simulation (within 1.9 % at ρ ≤ 0.8), every
  difference within 4.2 simulation standard errors — while the simulated means themselves
  stray from the exact P–K means by up to 3.2 standard errors (empty-start bias and
  correlation the batch means do not fully capture); the means differ by up to 3.1 % only for
  Pareto α = 2.5, whose simulated mean converges slowly (infinite third moment) — the model's
  mean there is the exact P–K value.  Runs must be long: with 255k-customer runs the rare-long-
  service mixture at ρ = 0.8 looked 5.9 % off in p99 (empty-start bias), with 2M 0.3 %.

At ``points = 2**12`` the quantile error is below 3e-6 and the CDF error below 2.3e-6.
Limitation: a point mass of :math:`S` far smaller than the grid step
(:math:`4X/\text{points}`, e.g. a 50 ms constant when the CDF is asked at 2000 s) is not
resolved and costs first-order error (0.2 % of the mean in that example); ask for the range
you need.  ``wait_sf``/``response_sf`` are ``1 - cdf``: absolute, not relative, accuracy in
the far tail.  Saturated configurations (ρ ≥ 1, with ρ within 1e-12 of 1 counted as
saturated) are not an error: ``stable`` is False, quantiles (q > 0) and means are ``inf``,
the CDFs are 0 at every finite t.

Cost (measured on the project's shared 2-core machine, ``benchmarks/accuracy_mg1.py``):
``wait_ppf(0.99)`` for 10^4 gamma configurations (cv 0–4, ρ 0.1–0.95) took 87–121 s at the
default points and 24–95 s at ``points=2**12`` (three runs, varying with the machine's other
load; the regularized incomplete gamma on the grid dominates; a response quantile costs
about twice as much) — a lattice per configuration, not a closed form: well short of "10^4
configurations in under a second".

References
----------
Benes1957, AbateWhitt1992, Richardson1927 and Kleinrock1975 (Pollaczek–Khinchine) in
docs/references.rst.

Examples
--------
M/M/1 with λ = 0.8/s and mean service 1 s: :math:`P(W \le t) = 1 - \rho e^{-(1-\rho)t}`.

>>> from followerlab import latency
>>> d = mg1_distribution(0.8, latency.exponential(1.0))
>>> round(float(d.wait_cdf(2.0)), 6), round(float(1 - 0.8 * np.exp(-0.2 * 2.0)), 6)
(0.463744, 0.463744)
>>> round(float(d.mean_wait_s), 12), round(float(d.wait_ppf(0.99)), 4), round(float(5 * np.log(80)), 4)
(4.0, 21.9101, 21.9101)
>>> mg1_gamma([0.5, 1.2], 1.0, 0.0).response_ppf([[0.5], [0.9]])  # M/D/1; 2nd saturated
array([[1. ,  inf],
       [2.5157...,  inf]])
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
from scipy import special

from followerlab._results import Result
from followerlab._validate import as_float_array, as_int_array, check_probability

__all__ = ["MG1Distribution", "mg1_distribution", "mg1_gamma", "mg1_gamma_mixture"]

#: Damping of the lattice inversion: wrap-around weight r**(2N).
_ALIAS = 1e-13
#: Lattice points of the pass that locates a quantile before the fine pass.
_COARSE_POINTS = 1 << 10


def min_points(rho):
    """The fewest fine-pass lattice points for quantiles and CDFs at utilization ``rho`` (``auto_points``):
    2**12 up to rho = 0.98, 2**14 to 0.99, 2**16 to 0.995, 2**18 above.

    Near saturation the lattice spans ~ln(100)/(1 - rho) mean services, so a fixed number of
    points leaves a few cells per service time.  Measured for gamma CV 0.37 and 0.05, p50 and
    p99 against 2**18 (2**20 at rho = 0.999): with these floors the error is below 3e-7 at
    rho = 0.99, 1.6e-6 at 0.995 and 3.2e-7 at 0.999; with a fixed 2**14 it was 3.9e-4 at 0.995
    and 2.1e-2 at 0.999 (2**12: 18 % and 100 %).

    >>> min_points(np.array([0.5, 0.985, 0.993, 0.999])).tolist()
    [4096, 16384, 65536, 262144]
    """
    rho = np.asarray(rho, float)
    return np.select([rho <= 0.98, rho <= 0.99, rho <= 0.995], [1 << 12, 1 << 14, 1 << 16], 1 << 18).astype(np.int64)
#: Grid values per chunk of configurations (memory bound: ~16 bytes each, a few arrays).
_CHUNK_VALUES = 1 << 21


# --------------------------------------------------------------------------------------------
# service-time laws: E[min(S, x)], continuous sub-CDF, point masses, moments
# --------------------------------------------------------------------------------------------
class _Law:
    """A service law over a flat batch of C configurations (parameters shape (C,)).

    ``x`` arguments have shape (n, K) after :meth:`take` selected n configurations (the
    parameters are then (n, 1)).  Methods: ``pmean(x) = E[min(S, x)]``, ``cont_cdf(x)`` (the
    continuous part's sub-CDF), ``atoms() -> (locs, probs)`` of shape (A, n), ``mean``,
    ``m2`` (second moment), ``upper(q)`` (a quantile upper bound), ``lower()``.
    """

    def pmean_cdf(self, x):
        """Both ``pmean(x)`` and ``cont_cdf(x)`` (families that share work override this)."""
        return self.pmean(x), self.cont_cdf(x)


def _sq(a):
    """(A, n, 1) -> (A, n): atoms of a law whose parameters were taken as columns."""
    a = np.asarray(a, float)
    return a[..., 0] if a.ndim == 3 else a


def _col(a, idx):
    return np.asarray(a)[idx][:, None]


#: Service CV below which a gamma law is the point mass at its mean (its shape 1/cv² would
#: exceed 10^12, beyond what the incomplete gamma functions resolve; quantiles move by less than
#: 1e-5 of the mean service).  Shared by followerlab.queueing and followerlab._tabulate.
CV_DETERMINISTIC = 1e-6


class _Gamma(_Law):
    """``loc + Gamma(mean, cv)``; ``cv < CV_DETERMINISTIC`` is the point mass ``loc + mean``."""

    def __init__(self, mean, cv, loc):
        self.mu, self.cv, self.loc = (np.asarray(v, float) for v in np.broadcast_arrays(mean, cv, loc))
        self.det = self.cv < CV_DETERMINISTIC
        cv_safe = np.where(self.det, 1.0, self.cv)
        self.k = 1.0 / cv_safe**2
        self.theta = self.mu * cv_safe**2

    def take(self, idx):
        new = object.__new__(_Gamma)
        for name in ("mu", "cv", "loc", "det", "k", "theta"):
            setattr(new, name, _col(getattr(self, name), idx))
        if getattr(self, "_range", None) is not None:
            new._range = tuple(_col(a, idx) for a in self._range)
        return new

    @property
    def mean(self):
        return self.loc + self.mu

    @property
    def m2(self):
        return self.loc**2 + 2 * self.loc * self.mu + self.mu**2 * (1 + self.cv**2)

    def _z_range(self):
        r"""Per law, :math:`(z_{lo}, z_{hi})` (in units of the scale θ) outside which the incomplete
        gamma functions are 0 or 1 in double precision: :math:`P(k, z_{lo}) \le 10^{-20}` and
        :math:`Q(k+1, z_{hi}) \le 10^{-20}` (so also :math:`Q(k, z_{hi})` and the term
        :math:`z^k e^{-z}/\Gamma(k+1) = P(k, z) - P(k+1, z)`), checked; where the inverses do not
        check out, the whole range (-1, inf).  On a lattice spanning hundreds of service times
        most points lie outside (issue 13: the incomplete gamma was most of the lattice's time)."""
        if getattr(self, "_range", None) is None:
            eps = 1e-20
            with np.errstate(all="ignore"):
                lo = special.gammaincinv(self.k, eps)
                hi = special.gammainccinv(self.k + 1.0, eps)
                good_lo = np.isfinite(lo) & (special.gammainc(self.k, lo) <= 2 * eps)
                good_hi = np.isfinite(hi) & (special.gammaincc(self.k + 1.0, hi) <= 2 * eps)
            self._range = (np.where(good_lo, lo, -1.0), np.where(good_hi, hi, np.inf))
        return self._range

    def _incomplete(self, z, term=True):
        """P(k, z) and (if ``term``) z^k e^{-z} / Gamma(k+1), evaluated only inside the z range
        (``z`` broadcast against the law's parameters)."""
        z = np.broadcast_to(z, np.broadcast_shapes(np.shape(z), np.shape(self.k)))
        lo, hi = self._z_range()
        act = (z > lo) & (z < hi)
        P = np.where(z >= hi, 1.0, 0.0)
        t = np.zeros(z.shape) if term else None
        if act.any():
            za, ka = z[act], np.broadcast_to(self.k, z.shape)[act]
            P[act] = special.gammainc(ka, za)
            if term:
                with np.errstate(divide="ignore"):
                    t[act] = np.exp(special.xlogy(ka, za) - za - special.gammaln(ka + 1))
        return P, t

    def pmean_cdf(self, x):
        r"""(E[min(S, x)], continuous sub-CDF) with one incomplete-gamma evaluation:
        :math:`P(k+1, z) = P(k, z) - z^k e^{-z}/\Gamma(k+1)` (only where it is not 0 or 1 in double
        precision, :meth:`_z_range`)."""
        y = x - self.loc
        yp = np.maximum(y, 0.0)
        P, term = self._incomplete(yp / self.theta)
        g = self.mu * np.maximum(P - term, 0.0) + yp * (1.0 - P)
        g = np.where(self.det, np.minimum(yp, self.mu), g)
        return self.loc + np.where(y > 0, g, y), np.where(self.det, 0.0, P)

    def pmean(self, x):
        return self.pmean_cdf(x)[0]

    def cont_cdf(self, x):
        y = np.maximum(x - self.loc, 0.0)
        return np.where(self.det, 0.0, self._incomplete(y / self.theta, term=False)[0])

    def atoms(self):
        return _sq((self.loc + self.mu)[None]), _sq(np.where(self.det, 1.0, 0.0)[None])

    def upper(self, q):
        return self.loc + np.where(self.det, self.mu, self.theta * special.gammaincinv(self.k, q))

    def lower(self):
        return np.where(self.det, self.loc + self.mu, self.loc)


class _Lognormal(_Law):
    """``loc + scale * exp(sigma Z)`` (scipy ``lognorm(s=sigma, loc, scale)``)."""

    def __init__(self, sigma, loc, scale):
        self.s, self.loc, self.scale = (np.asarray(v, float) for v in np.broadcast_arrays(sigma, loc, scale))

    def take(self, idx):
        new = object.__new__(_Lognormal)
        new.s, new.loc, new.scale = (_col(v, idx) for v in (self.s, self.loc, self.scale))
        return new

    @property
    def mean(self):
        return self.loc + self.scale * np.exp(self.s**2 / 2)

    @property
    def m2(self):
        e1 = self.scale * np.exp(self.s**2 / 2)
        e2 = self.scale**2 * np.exp(2 * self.s**2)
        return self.loc**2 + 2 * self.loc * e1 + e2

    def pmean(self, x):
        y = x - self.loc
        with np.errstate(divide="ignore"):
            ly = np.log(np.maximum(y, 0.0) / self.scale) / self.s
        g = self.scale * np.exp(self.s**2 / 2) * special.ndtr(ly - self.s) + np.maximum(y, 0.0) * special.ndtr(-ly)
        return self.loc + np.where(y > 0, g, y)

    def cont_cdf(self, x):
        y = np.maximum(x - self.loc, 0.0)
        with np.errstate(divide="ignore"):
            return special.ndtr(np.log(y / self.scale) / self.s)

    def atoms(self):
        return _sq(np.zeros((0,) + self.s.shape)), _sq(np.zeros((0,) + self.s.shape))

    def upper(self, q):
        return self.loc + self.scale * np.exp(self.s * special.ndtri(q))

    def lower(self):
        return self.loc


class _Pareto(_Law):
    """``loc + scale * P`` with :math:`P(P > p) = p^{-b}`, p ≥ 1 (scipy ``pareto(b, loc, scale)``)."""

    def __init__(self, b, loc, scale):
        self.b, self.loc, self.scale = (np.asarray(v, float) for v in np.broadcast_arrays(b, loc, scale))

    def take(self, idx):
        new = object.__new__(_Pareto)
        new.b, new.loc, new.scale = (_col(v, idx) for v in (self.b, self.loc, self.scale))
        return new

    @property
    def mean(self):
        with np.errstate(divide="ignore"):
            e1 = np.where(self.b > 1, self.b / np.where(self.b > 1, self.b - 1, 1.0), np.inf)
        return self.loc + self.scale * e1

    @property
    def m2(self):
        with np.errstate(divide="ignore", invalid="ignore"):
            e1 = np.where(self.b > 1, self.b / np.where(self.b > 1, self.b - 1, 1.0), np.inf)
            e2 = np.where(self.b > 2, self.b / np.where(self.b > 2, self.b - 2, 1.0), np.inf)
            return self.loc**2 + 2 * self.loc * self.scale * e1 + self.scale**2 * e2

    def pmean(self, x):
        y = (x - self.loc) / self.scale
        yp = np.maximum(y, 1.0)
        b1 = np.where(self.b == 1, 0.5, 1.0 - self.b)
        with np.errstate(divide="ignore", invalid="ignore"):
            tail = np.where(self.b == 1, np.log(yp), np.expm1(b1 * np.log(yp)) / b1)
        g = np.where(y > 1, 1.0 + tail, y)
        return self.loc + self.scale * g

    def cont_cdf(self, x):
        y = np.maximum((x - self.loc) / self.scale, 1.0)
        return -np.expm1(-self.b * np.log(y))

    def atoms(self):
        return _sq(np.zeros((0,) + self.b.shape)), _sq(np.zeros((0,) + self.b.shape))

    def upper(self, q):
        return self.loc + self.scale * (1.0 - q) ** (-1.0 / self.b)

    def lower(self):
        return self.loc + self.scale


class _Atoms(_Law):
    """Point masses ``locs`` (A, C) with probabilities ``probs`` (A, C) (constants, empirical)."""

    def __init__(self, locs, probs):
        self.locs, self.probs = np.broadcast_arrays(np.asarray(locs, float), np.asarray(probs, float))

    def take(self, idx):
        return _Atoms(self.locs[:, idx][..., None], self.probs[:, idx][..., None])

    @property
    def mean(self):
        return (self.locs * self.probs).sum(axis=0)

    @property
    def m2(self):
        return (self.locs**2 * self.probs).sum(axis=0)

    def pmean(self, x):
        # sum over atoms without materializing (A, n, K) when A is large: loop in blocks of atoms
        out = np.zeros(np.broadcast_shapes(np.shape(x), self.locs.shape[1:]))
        for lo in range(0, self.locs.shape[0], 64):
            out = out + (np.minimum(self.locs[lo:lo + 64], x) * self.probs[lo:lo + 64]).sum(axis=0)
        return out

    def cont_cdf(self, x):
        return np.zeros(np.broadcast_shapes(np.shape(x), self.locs.shape[1:]))

    def atoms(self):
        return _sq(self.locs), _sq(self.probs)

    def upper(self, q):
        return np.where(self.probs > 0, self.locs, -np.inf).max(axis=0)

    def lower(self):
        return np.where(self.probs > 0, self.locs, np.inf).min(axis=0)


class _Shift(_Law):
    def __init__(self, law, offset):
        self.law, self.off = law, np.asarray(offset, float)

    def take(self, idx):
        return _Shift(self.law.take(idx), _col(np.broadcast_to(self.off, self.law.mean.shape), idx))

    @property
    def mean(self):
        return self.off + self.law.mean

    @property
    def m2(self):
        return self.off**2 + 2 * self.off * self.law.mean + self.law.m2

    def pmean(self, x):
        return self.off + self.law.pmean(x - self.off)

    def pmean_cdf(self, x):
        pm, cc = self.law.pmean_cdf(x - self.off)
        return self.off + pm, cc

    def cont_cdf(self, x):
        return self.law.cont_cdf(x - self.off)

    def atoms(self):
        locs, probs = self.law.atoms()
        off = self.off[..., 0] if self.off.ndim == 2 else self.off
        return locs + off, probs

    def upper(self, q):
        return self.off + self.law.upper(q)

    def lower(self):
        return self.off + self.law.lower()


class _Mix(_Law):
    def __init__(self, laws, weights):
        self.laws = list(laws)
        self.w = [np.asarray(w, float) for w in weights]

    def take(self, idx):
        shape = self.mean.shape
        return _Mix([law.take(idx) for law in self.laws],
                    [_col(np.broadcast_to(w, shape), idx) for w in self.w])

    @property
    def mean(self):
        return sum(w * law.mean for w, law in zip(self.w, self.laws))

    @property
    def m2(self):
        return sum(w * law.m2 for w, law in zip(self.w, self.laws))

    def pmean(self, x):
        return sum(w * law.pmean(x) for w, law in zip(self.w, self.laws))

    def pmean_cdf(self, x):
        pm, cc = 0.0, 0.0
        for w, law in zip(self.w, self.laws):
            a, b = law.pmean_cdf(x)
            pm, cc = pm + w * a, cc + w * b
        return pm, cc

    def cont_cdf(self, x):
        return sum(w * law.cont_cdf(x) for w, law in zip(self.w, self.laws))

    def atoms(self):
        locs, probs = [], []
        for w, law in zip(self.w, self.laws):
            lo, pr = law.atoms()
            ww = w[..., 0] if w.ndim == 2 else w
            locs.append(np.broadcast_to(lo, (lo.shape[0],) + np.broadcast_shapes(lo.shape[1:], ww.shape)))
            probs.append(np.broadcast_to(pr * ww, locs[-1].shape))
        shape = np.broadcast_shapes(*(a.shape[1:] for a in locs))
        return (np.concatenate([np.broadcast_to(a, (a.shape[0],) + shape) for a in locs]),
                np.concatenate([np.broadcast_to(a, (a.shape[0],) + shape) for a in probs]))

    def upper(self, q):
        return np.maximum.reduce([np.where(w > 0, law.upper(q), -np.inf) for w, law in zip(self.w, self.laws)])

    def lower(self):
        return np.minimum.reduce([np.where(w > 0, law.lower(), np.inf) for w, law in zip(self.w, self.laws)])


class _Generic(_Law):
    """Any distribution with scalar parameters and ``cdf``/``sf``/``ppf``: continuous assumed.

    ``E[min(S, x)] = \\int_0^x \\bar F`` by 8-point Gauss–Legendre on each grid cell."""

    _x, _w = np.polynomial.legendre.leggauss(8)

    def __init__(self, dist):
        from scipy import integrate

        bp = getattr(dist, "breakpoints", None)
        if callable(bp) and np.size(bp()):
            raise ValueError(f"service {dist!r} has point masses (breakpoints); build it from latency.constant, "
                             f"empirical, mixture or shifted so they are handled exactly")
        self.dist = dist
        self._mean = float(np.asarray(dist.mean()))
        m2 = getattr(dist, "moment", None)
        if callable(m2):
            self._m2 = float(m2(2))
        else:  # E[S^2] = 2 int_0^inf x sf(x) dx
            lo = max(float(np.asarray(dist.ppf(0.0))), 0.0)
            val, _ = integrate.quad(lambda x: 2.0 * x * float(np.asarray(dist.sf(x))), lo, np.inf, limit=200)
            self._m2 = lo**2 + val if lo > 0 else val

    def take(self, idx):
        return self

    @property
    def mean(self):
        return np.asarray(self._mean)

    @property
    def m2(self):
        return np.asarray(self._m2)

    def pmean(self, x):
        # cumulative integral of sf along the last axis of x (x sorted along it, starting >= 0)
        x = np.asarray(x, float)
        lo = np.concatenate([np.zeros(x.shape[:-1] + (1,)), x[..., :-1]], axis=-1)
        mid, half = (x + lo) / 2, (x - lo) / 2
        nodes = mid[..., None] + half[..., None] * self._x
        sf = np.asarray(self.dist.sf(nodes), float)
        return np.cumsum((sf * self._w).sum(axis=-1) * half, axis=-1)

    def cont_cdf(self, x):
        return np.asarray(self.dist.cdf(x), float)

    def atoms(self):
        return np.zeros((0, 1)), np.zeros((0, 1))

    def upper(self, q):
        return np.asarray(self.dist.ppf(q), float)

    def lower(self):
        return np.asarray(self.dist.ppf(0.0), float)


def _law_from(dist, shape):
    """The internal law of a latency distribution, parameters broadcast to ``shape`` and flattened."""
    from followerlab import latency

    def flat(a):
        return np.broadcast_to(np.asarray(a, float), shape).ravel()

    if isinstance(dist, _Law):
        return dist
    if isinstance(dist, latency.Constant):
        return _Atoms(flat(dist.ms)[None], np.ones((1, int(np.prod(shape)))))
    if isinstance(dist, latency.Shifted):
        return _Shift(_law_from(dist.dist, shape), flat(dist.offset_ms))
    if isinstance(dist, latency.Mixture):
        return _Mix([_law_from(c, shape) for c in dist.components], [np.full(int(np.prod(shape)), w) for w in dist.weights])
    if isinstance(dist, latency.Empirical):
        vals, counts = np.unique(dist.samples, return_counts=True)
        return _Atoms(vals[:, None] * np.ones((1, int(np.prod(shape)))), (counts / counts.sum())[:, None])
    frozen_dist = getattr(dist, "dist", None)
    name = getattr(frozen_dist, "name", None)
    if name in ("gamma", "expon", "lognorm", "pareto"):
        shapes, loc, scale = frozen_dist._parse_args(*dist.args, **dist.kwds)
        if name == "expon":
            return _Gamma(flat(scale), flat(1.0), flat(loc))
        if name == "gamma":
            a = np.asarray(shapes[0], float)
            return _Gamma(flat(a * scale), flat(1.0 / np.sqrt(a)), flat(loc))
        if name == "lognorm":
            return _Lognormal(flat(shapes[0]), flat(loc), flat(scale))
        return _Pareto(flat(shapes[0]), flat(loc), flat(scale))
    if np.ndim(dist.ppf(0.5)) != 0:
        raise ValueError(f"service must have scalar parameters unless it is one of followerlab.latency's "
                         f"families; got {dist!r} with batch shape {np.shape(dist.ppf(0.5))}")
    return _Generic(dist)


def _batch_shape(dist) -> tuple:
    """Batch shape of a latency distribution (shape of its median)."""
    if isinstance(dist, _Law):
        return np.shape(dist.mean)
    return np.shape(np.asarray(dist.ppf(0.5)))


# --------------------------------------------------------------------------------------------
# the lattice engine
# --------------------------------------------------------------------------------------------
def _interp_rows(F, g, t):
    """Linear interpolation of rows F (n, N) on lattices j*g (g shape (n, 1)) at t (n, K)."""
    N = F.shape[1]
    u = np.clip(t / g, 0.0, N - 1)
    j = np.minimum(np.floor(u).astype(np.int64), N - 2)
    frac = u - j
    f0 = np.take_along_axis(F, j, axis=1)
    f1 = np.take_along_axis(F, j + 1, axis=1)
    return np.where(t < 0, 0.0, f0 + frac * (f1 - f0))


def _invert_rows(F, g, q):
    """Inverse of piecewise-linear, nondecreasing rows F (n, N) on lattices j*g at q (n, K)."""
    n, N = F.shape
    off = 2.0 * np.arange(n)[:, None]  # rows live in [0, 1]: shift each into its own interval
    j = np.searchsorted((F + off).ravel(), (q + off).ravel(), side="left").reshape(q.shape)
    j = np.clip(j - (np.arange(n) * N)[:, None], 1, N - 1)
    f0 = np.take_along_axis(F, j - 1, axis=1)
    f1 = np.take_along_axis(F, j, axis=1)
    frac = np.where(f1 > f0, (q - f0) / np.where(f1 > f0, f1 - f0, 1.0), 1.0)
    return (j - 1 + np.clip(frac, 0.0, 1.0)) * g


def _lattice_once(law, rho, g, N, response):
    """F_W and the continuous part of F_T on the lattice j*g, j < N (one resolution)."""
    n = g.shape[0]
    M = 2 * N
    r = _ALIAS ** (1.0 / M)
    damp = r ** np.arange(M)
    # equilibrium excess Y: cells [k h, (k+1) h), h = 2 g, mass at (2k+1) g.  For the
    # response, the continuous part of S on cells [j g, (j+1) g), half of each cell's mass
    # at each end (keeps the cell's mean; second order like the midpoint rule).
    if response:
        pm_all, cc = law.pmean_cdf(g * np.arange(N + 1)[None, :])
        pm = pm_all[:, ::2]
    else:
        pm = law.pmean(2 * g * np.arange(N // 2 + 1)[None, :])
    y = np.clip(np.diff(pm, axis=1) / law.mean, 0.0, None)
    yd = np.zeros((n, M))
    yd[:, 1:N:2] = y[:, : N // 2]
    yd *= damp
    Yh = np.fft.rfft(yd, axis=1)
    rho_c = rho[:, None]
    Gh = (1.0 - rho_c) / (1.0 - rho_c * Yh)
    w = np.fft.irfft(Gh, M, axis=1)[:, :N] / damp[:N]
    FW = np.cumsum(w, axis=1) - w / 2
    FW[:, 0] = 1.0 - rho
    FTc = None
    if response:
        cell = np.clip(np.diff(cc, axis=1), 0.0, None)
        sc = np.zeros((n, N + 1))
        sc[:, :N] += cell / 2
        sc[:, 1:] += cell / 2
        sc = sc[:, :N]
        if np.any(sc > 0):
            sd = np.zeros((n, M))
            sd[:, :N] = sc * damp[:N]
            # W's atom at 0 is left out here (its term (1 - rho) F_{S,c}(t) is added exactly in
            # _response_from): only the continuous part of W is convolved on the lattice.
            p = np.fft.irfft((Gh - (1.0 - rho_c)) * np.fft.rfft(sd, axis=1), M, axis=1)[:, :N] / damp[:N]
            FTc = np.cumsum(p, axis=1) - p / 2
            FTc[:, 0] = 0.0  # W+ + S_c has no mass at 0
        else:
            FTc = np.zeros((n, N))
    return FW, FTc


def _richardson(fine, coarse):
    """fine + (fine - coarse)/3 (error O(g^2) -> higher order); coarse lives on even points."""
    corr = np.empty_like(fine)
    c = (fine[:, ::2] - coarse) / 3.0
    corr[:, ::2] = c
    corr[:, 1:-1:2] = 0.5 * (c[:, :-1] + c[:, 1:])
    corr[:, -1] = c[:, -1]
    return fine + corr


def _lattice(law, lam, rho, X, N, response):
    """F_W (and the continuous part of F_T) on lattices j*g, j < N, (N-1) g >= X, for n configs.

    Two resolutions (g and 2 g) combined by Richardson extrapolation (the midpoint rule's
    error is O(g^2)).  Returns (g (n,1), FW (n,N), FTc (n,N) or None)."""
    # coarse cell width hc = 4 g; if S has point masses, F_Y has kinks there: put the smallest
    # one on a coarse cell edge (hc = d / floor(d / hc0) >= hc0, so the range only grows) so
    # the density of Y is smooth inside every cell of both lattices near it and the midpoint
    # rule stays second order.
    hc = 4.0 * X / (N - 1)
    locs, probs = np.broadcast_arrays(*law.atoms())
    if locs.shape[0] and locs.size:
        d = np.where(probs > 0, locs.reshape(locs.shape[0], -1), np.inf).min(axis=0)
        d = np.broadcast_to(d, hc.shape)
        m = np.floor(np.where(np.isfinite(d), d, 0.0) / hc)
        hc = np.where(np.isfinite(d) & (m >= 1), d / np.maximum(m, 1.0), hc)
    g = (hc / 4.0)[:, None]
    FW, FTc = _lattice_once(law, rho, g, N, response)
    FWc, FTcc = _lattice_once(law, rho, 2 * g, N // 2, response)
    FW = np.clip(np.maximum.accumulate(_richardson(FW, FWc), axis=1), 0.0, 1.0)
    FW[:, 0] = 1.0 - rho
    if FTc is not None:
        FTc = np.clip(np.maximum.accumulate(_richardson(FTc, FTcc), axis=1), 0.0, 1.0)
        FTc[:, 0] = 0.0
    return g, FW, FTc


def _response_from(law, rho, g, FW, FTc, t):
    """F_T(t) = sum_a p_a F_W(t - d_a) + (1 - rho) F_{S,c}(t) + (F_{W+} * S_c)(t), t (n, K)."""
    n, K = t.shape
    out = _interp_rows(FTc, g, t) + (1.0 - rho[:, None]) * law.cont_cdf(np.maximum(t, 0.0))
    locs, probs = law.atoms()
    locs, probs = np.broadcast_arrays(locs, probs)
    if locs.shape[0]:
        locs = np.broadcast_to(locs.reshape(locs.shape[0], -1), (locs.shape[0], n))
        probs = np.broadcast_to(probs.reshape(probs.shape[0], -1), (probs.shape[0], n))
        live = np.flatnonzero((probs > 0).any(axis=1))
        for lo in range(0, live.size, 256):  # blocks of atoms bound the (n, A, K) temporary
            sel = live[lo:lo + 256]
            shifted = t[:, None, :] - locs[sel].T[:, :, None]
            vals = _interp_rows(FW, g, shifted.reshape(n, -1)).reshape(n, sel.size, K)
            out = out + (probs[sel].T[:, :, None] * vals).sum(axis=1)
    return np.clip(out, 0.0, 1.0)


def _chunks(n_cfg, N):
    size = max(1, _CHUNK_VALUES // (2 * N))
    for lo in range(0, n_cfg, size):
        yield np.arange(lo, min(lo + size, n_cfg))


def _bisect(F, lo, hi, q, iters=64):
    """Smallest t in [lo, hi] with F(t) >= q (F vectorized over rows; F(hi) >= q assumed)."""
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        ok = F(mid) >= q
        hi = np.where(ok, mid, hi)
        lo = np.where(ok, lo, mid)
    return hi


# --------------------------------------------------------------------------------------------
# the result
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MG1Distribution(Result):
    r"""Waiting- and response-time law of M/G/1 FCFS queues, one per configuration.

    Attributes
    ----------
    arrival_rate_per_s, mean_service_s, utilization : numpy.ndarray
        λ, E[S] and ρ = λE[S].
    stable : numpy.ndarray of bool
        ρ < 1.
    p_wait : numpy.ndarray
        P(W > 0) = ρ (PASTA); 1 when saturated.
    mean_wait_s, mean_response_s : numpy.ndarray
        Pollaczek–Khinchine :math:`E[W] = \lambda E[S^2]/(2(1-\rho))` and :math:`E[W] + E[S]`
        (exact; ``inf`` if saturated or :math:`E[S^2] = \infty`).
    points : int
        Lattice points of the fine pass (at least :func:`min_points` of each configuration's
        utilization when ``auto_points``).
    auto_points : bool
        Raise the lattice points near saturation (:func:`min_points`).

    Methods ``wait_cdf``, ``wait_sf``, ``wait_ppf``, ``response_cdf``, ``response_sf``,
    ``response_ppf`` broadcast their argument against the configuration shape; see the module
    docstring for the method and its measured accuracy.
    """

    arrival_rate_per_s: np.ndarray
    mean_service_s: np.ndarray
    utilization: np.ndarray
    stable: np.ndarray
    p_wait: np.ndarray
    mean_wait_s: np.ndarray
    mean_response_s: np.ndarray
    points: int
    _law: object = dataclasses.field(repr=False, compare=False)
    auto_points: bool = True

    # -- helpers -----------------------------------------------------------------------------
    @property
    def _shape(self):
        return self.utilization.shape

    def _spread(self, v, name):
        """Broadcast an argument against the configuration shape -> (values, config index)."""
        try:
            shape = np.broadcast_shapes(np.shape(v), self._shape)
        except ValueError:
            raise ValueError(f"{name} of shape {np.shape(v)} does not broadcast against the configuration shape "
                             f"{self._shape}; add axes (e.g. q[:, None])") from None
        vals = np.broadcast_to(v, shape)
        cfg = np.broadcast_to(np.arange(self.utilization.size).reshape(self._shape), shape)
        return shape, vals.ravel(), cfg.ravel()

    def _grouped(self, cfg, vals):
        """Per configuration, its values as a padded (n_cfg, K) matrix (pad with the row max)."""
        n_cfg = self.utilization.size
        order = np.argsort(cfg, kind="stable")
        counts = np.bincount(cfg, minlength=n_cfg)
        K = max(int(counts.max()) if counts.size else 1, 1)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        pos = np.empty_like(order)
        pos[order] = np.arange(order.size) - np.repeat(starts, counts)
        mat = np.full((n_cfg, K), np.nan)
        mat[cfg, pos] = vals
        return mat, pos

    def _fine_points(self, rho):
        """Fine-pass lattice points per configuration: ``points``, and at least
        :func:`min_points` of its utilization when ``auto_points`` (near saturation the range
        holds ~ln(1/sf)/(1 - rho) services)."""
        fine_n = np.full(np.shape(rho), self.points, dtype=np.int64)
        return np.maximum(fine_n, min_points(rho)) if self.auto_points else fine_n

    def _cdf(self, t_s, response):
        t = as_float_array("t_s", t_s, allow_inf=True)
        shape, tv, cfg = self._spread(t, "t_s")
        mat, pos = self._grouped(cfg, tv)
        rho = self.utilization.ravel()
        lam = self.arrival_rate_per_s.ravel()
        stable = self.stable.ravel()
        mean_s = self.mean_service_s.ravel()
        finite = np.isfinite(mat)  # NaN pads and +-inf are not on the lattice
        tmax = np.where(finite, mat, -np.inf).max(axis=1)
        out = np.zeros(mat.shape)
        live = np.flatnonzero(stable & (tmax >= 0))
        fine_n = self._fine_points(rho[live])
        for N in np.unique(fine_n):
            group = live[fine_n == N]
            for idx in _chunks(group.size, int(N)):
                rows = group[idx]
                law = self._law.take(rows)
                X = np.maximum(tmax[rows], mean_s[rows])
                g, FW, FTc = _lattice(law, lam[rows], rho[rows], X, int(N), response)
                tt = np.where(finite[rows], mat[rows], 0.0)
                out[rows] = _response_from(law, rho[rows], g, FW, FTc, tt) if response else _interp_rows(FW, g, tt)
        out = np.where(mat < 0, 0.0, out)
        out = np.where(~stable[:, None] & np.isfinite(mat), 0.0, out)
        out = np.where(np.isposinf(mat), 1.0, np.where(np.isneginf(mat), 0.0, out))
        return out[cfg, pos].reshape(shape)

    def _ppf(self, q, response):
        q = check_probability("q", q)
        shape, qv, cfg = self._spread(q, "q")
        mat, pos = self._grouped(cfg, qv)
        n_cfg = mat.shape[0]
        rho = self.utilization.ravel()
        lam = self.arrival_rate_per_s.ravel()
        stable = self.stable.ravel()
        out = np.full(mat.shape, np.nan)
        qm = np.where(np.isnan(mat), 0.0, mat)
        lower = np.broadcast_to(np.asarray(self._law.lower(), float), (n_cfg,)) if response else np.zeros(n_cfg)
        # rows needing the lattice: stable, some q strictly inside (0, 1) and above the atom at 0
        inner = (qm > 0) & (qm < 1)
        need_q = np.where(inner, qm, 0.0).max(axis=1)
        live = stable & (need_q > (0.0 if response else 1.0 - rho))
        live_rows = np.flatnonzero(live)
        if live_rows.size:
            qmax_in = need_q[live_rows]
            mean_s = np.broadcast_to(self.mean_service_s.ravel(), (n_cfg,))[live_rows]
            mw = self.mean_wait_s.ravel()[live_rows]
            base = np.where(np.isfinite(mw), mw + mean_s, mean_s / (1 - rho[live_rows]))
            X = np.maximum(base * (1.0 + np.log1p(1.0 / (1.0 - qmax_in))), 1e-300)
            # coarse pass: grow X until F(X) >= qmax, then locate the answer; fine pass on
            # [0, 1.25 x the coarse answer] (grown again if it falls short)
            est = np.empty(mat[live_rows].shape)
            fine_n = self._fine_points(rho[live_rows])
            passes = [(_COARSE_POINTS, None)] + [(int(n), np.flatnonzero(fine_n == n)) for n in np.unique(fine_n)]
            for N, group in passes:
                final = group is not None
                pending = np.arange(live_rows.size) if group is None else group
                for _attempt in range(200):
                    if not pending.size:
                        break
                    short_all = []
                    for idx in _chunks(pending.size, N):
                        sub = pending[idx]
                        rows = live_rows[sub]
                        law = self._law.take(rows)
                        g, FW, FTc = _lattice(law, lam[rows], rho[rows], X[sub], N, response)
                        Xg = g[:, 0] * (N - 1)  # the range actually covered (>= X)
                        if response:
                            fx = _response_from(law, rho[rows], g, FW, FTc, Xg[:, None])[:, 0]
                        else:
                            fx = FW[:, -1]
                        short = fx < qmax_in[sub]
                        short_all.append(sub[short])
                        ok = ~short
                        if not ok.any():
                            continue
                        qq = qm[rows[ok]]
                        if response:
                            sel = np.flatnonzero(ok)

                            def F(t, law=law, g=g, FW=FW, FTc=FTc, sel=sel, rr=rho[rows]):
                                full = np.zeros((g.shape[0], t.shape[1]))
                                full[sel] = t
                                return _response_from(law, rr, g, FW, FTc, full)[sel]
                            lo = np.zeros(qq.shape)
                            hi = np.broadcast_to(Xg[ok][:, None], qq.shape).copy()
                            est[sub[ok]] = _bisect(F, lo, hi, qq)
                        else:
                            est[sub[ok]] = _invert_rows(FW[ok], g[ok], qq)
                    pending = np.concatenate(short_all) if short_all else pending[:0]
                    X[pending] = 4.0 * X[pending]
                if not final:
                    X = np.maximum(1.25 * np.nanmax(np.where(inner[live_rows], est, 0.0), axis=1), 1e-300)
            out[live_rows] = est
        # exact ends and special rows
        if response:
            out = np.where(qm == 0, lower[:, None], out)
        else:
            out = np.where(qm <= (1 - rho)[:, None], 0.0, out)
        out = np.where(qm == 1, np.inf, out)
        out = np.where(~stable[:, None] & (qm > 0), np.inf, out)
        out = np.where(~stable[:, None] & (qm == 0), lower[:, None] if response else 0.0, out)
        return out[cfg, pos].reshape(shape)

    # -- public ------------------------------------------------------------------------------
    def wait_cdf(self, t_s):
        r""":math:`P(W \le t)` (with the atom :math:`1-\rho` at 0); 0 for every finite t if saturated."""
        return self._cdf(t_s, False)

    def wait_sf(self, t_s):
        r""":math:`P(W > t) = 1 - P(W \le t)` (absolute accuracy, see the module docstring)."""
        return 1.0 - self._cdf(t_s, False)

    def wait_ppf(self, q):
        r"""Generalized inverse :math:`\inf\{t: P(W \le t) \ge q\}`; 0 for :math:`q \le 1-\rho`, inf for q = 1."""
        return self._ppf(q, False)

    def response_cdf(self, t_s):
        r""":math:`P(T \le t)`, :math:`T = W + S`; jumps at the point masses of S are exact."""
        return self._cdf(t_s, True)

    def response_sf(self, t_s):
        r""":math:`P(T > t)`."""
        return 1.0 - self._cdf(t_s, True)

    def response_ppf(self, q):
        r"""Generalized inverse of :math:`F_T`; ``q = 0`` gives the lowest service time, 1 gives inf."""
        return self._ppf(q, True)


def _build(lam, law, shape, points, auto_points=True) -> MG1Distribution:
    points = int(as_int_array("points", points, minimum=64))
    if points % 2:
        raise ValueError(f"points must be even; got {points}")
    lam_f = np.broadcast_to(lam, shape).ravel()
    mean = np.broadcast_to(law.mean, lam_f.shape)
    m2 = np.broadcast_to(law.m2, lam_f.shape)
    if np.any(mean < 0) or np.any(np.asarray(law.lower()) < 0):
        bad = np.asarray(law.lower())
        raise ValueError(f"service must be >= 0 (a time); got a lower bound {bad.min()!r}")
    rho = lam_f * mean
    stable = (rho < 1.0) & ~np.isclose(rho, 1.0, rtol=1e-12, atol=0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        mw = np.where(stable, np.where(lam_f > 0, lam_f * m2 / (2 * (1 - rho)), 0.0), np.inf)
    mw = np.where(stable & (lam_f == 0), 0.0, mw)

    def r(a):
        return np.asarray(a, float).reshape(shape)

    return MG1Distribution(
        arrival_rate_per_s=r(lam_f),
        mean_service_s=r(mean),
        utilization=r(rho),
        stable=np.asarray(stable).reshape(shape),
        p_wait=r(np.where(stable, rho, 1.0)),
        mean_wait_s=r(mw),
        mean_response_s=r(np.where(stable, mw + mean, np.inf)),
        points=points,
        _law=law,
        auto_points=bool(auto_points),
    )


def mg1_distribution(arrival_rate, service, *, points: int = 2**14, auto_points: bool = True) -> MG1Distribution:
    r"""Exact (numerical) M/G/1 FCFS wait and response laws for a latency-module service time.

    Parameters
    ----------
    arrival_rate : array_like
        Poisson arrival rate λ per second (>= 0); broadcasts with the service's parameters.
    service : latency distribution
        Service time in **seconds**: ``latency.constant``, ``gamma``, ``exponential``,
        ``shifted_lognormal``, ``pareto``, ``mixture``, ``empirical``, ``shifted`` (nested
        freely; array parameters allowed), or any scipy frozen distribution of a non-negative
        time with scalar parameters (then treated as continuous, :math:`E[\min(S,x)]` by
        quadrature of its ``sf``).
    points : int, default 2**14
        Lattice points of the fine pass (even, >= 64); the error falls as ``points**-2``.
    auto_points : bool, default True
        Use at least :func:`min_points` of each configuration's utilization, for quantiles and
        CDFs (more points near saturation, where a fixed lattice has few cells per service time).

    Returns
    -------
    MG1Distribution

    Notes
    -----
    Method, assumptions and measured accuracy: see the module docstring.  Assumptions:
    Poisson arrivals, i.i.d. service independent of arrivals, one server, FCFS, steady state.

    References
    ----------
    Benes1957, AbateWhitt1992, Richardson1927, Kleinrock1975 in docs/references.rst.

    Examples
    --------
    M/D/1, λ = 0.5/s, D = 1 s: :math:`P(W \le 1) = (1-\rho) e^{\lambda}` (Erlang).

    >>> from followerlab import latency
    >>> d = mg1_distribution(0.5, latency.constant(1.0))
    >>> round(float(d.wait_cdf(1.0)), 6), round(float(0.5 * np.exp(0.5)), 6)
    (0.824361, 0.824361)
    """
    lam = as_float_array("arrival_rate", arrival_rate, minimum=0.0)
    if not callable(getattr(service, "cdf", None)) and not isinstance(service, _Law):
        raise ValueError(f"service must be a latency distribution (followerlab.latency or scipy.stats frozen); "
                         f"got {service!r}")
    shape = np.broadcast_shapes(lam.shape, _batch_shape(service))
    law = _law_from(service, shape)
    return _build(lam, law, shape, points, auto_points)


def mg1_gamma(arrival_rate, mean_s, cv, *, points: int = 2**14, auto_points: bool = True) -> MG1Distribution:
    r"""M/G/1 with gamma service of mean ``mean_s`` and coefficient of variation ``cv`` (arrays).

    ``cv = 0`` (elementwise) is deterministic service (M/D/1), ``cv = 1`` exponential (M/M/1).

    >>> d = mg1_gamma(0.8, 1.0, [1.0, 0.0])
    >>> d.mean_wait_s        # P-K: rho (1 + cv^2) / (2 mu (1 - rho))
    array([4., 2.])
    """
    lam = as_float_array("arrival_rate", arrival_rate, minimum=0.0)
    m = as_float_array("mean_s", mean_s, minimum=0.0, strict_minimum=True)
    cv = as_float_array("cv", cv, minimum=0.0)
    shape = np.broadcast_shapes(lam.shape, m.shape, cv.shape)
    C = int(np.prod(shape))

    def flat(a):
        return np.broadcast_to(a, shape).ravel().copy() if C else np.zeros(0)

    return _build(lam, _Gamma(flat(m), flat(cv), np.zeros(C)), shape, points, auto_points)


def mg1_gamma_mixture(arrival_rate, p, mean_a_s, cv_a, mean_b_s, cv_b, *, points: int = 2**14,
                      auto_points: bool = True) -> MG1Distribution:
    r"""M/G/1 whose service is gamma(mean_a_s, cv_a) with probability ``p``, else gamma(mean_b_s, cv_b).

    All arrays, broadcast; ``cv = 0`` is a constant.  This is the admin node of
    :func:`followerlab.consistency.admin_node_load`: query planning (class a) and control
    commands (class b) in proportion to their rates.

    Examples
    --------
    99 % of 50 ms plus 1 % of 5 s (constants) at 8 arrivals/s (ρ = 0.796): the P–K mean
    wait, and the wait's p50 and p99 (the rare 5 s commands dominate both).

    >>> d = mg1_gamma_mixture(8.0, 0.99, 0.05, 0.0, 5.0, 0.0)
    >>> round(float(d.utilization), 4), round(float(d.mean_wait_s), 4)
    (0.796, 4.9505)
    >>> d.wait_ppf([0.5, 0.99]).round(3)
    array([ 3.001, 28.256])
    """
    lam = as_float_array("arrival_rate", arrival_rate, minimum=0.0)
    p = check_probability("p", p)
    ma = as_float_array("mean_a_s", mean_a_s, minimum=0.0, strict_minimum=True)
    ca = as_float_array("cv_a", cv_a, minimum=0.0)
    mb = as_float_array("mean_b_s", mean_b_s, minimum=0.0, strict_minimum=True)
    cb = as_float_array("cv_b", cv_b, minimum=0.0)
    shape = np.broadcast_shapes(lam.shape, p.shape, ma.shape, ca.shape, mb.shape, cb.shape)
    C = int(np.prod(shape))

    def flat(a):
        return np.broadcast_to(a, shape).ravel().copy() if C else np.zeros(0)

    zero = np.zeros(C)
    law = _Mix([_Gamma(flat(ma), flat(ca), zero), _Gamma(flat(mb), flat(cb), zero)], [flat(p), 1.0 - flat(p)])
    return _build(lam, law, shape, points, auto_points)
