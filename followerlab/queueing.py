r"""Single-station queues: M/M/1, M/M/c, M/G/1, M/D/1, M/D/c, G/G/1 and G/G/c.

Every function takes scalars or numpy arrays (broadcast against each other, scipy.stats style)
and returns a :class:`QueueMetrics` with one entry per configuration: utilization, probability
of waiting, mean wait in queue, mean response time (wait + service), and methods for wait and
response-time quantiles.  Rates are per second; times are seconds.  Every result says per
configuration how it was obtained (``method``: ``"exact"``, ``"approximation: <name>"`` or
``"simulated"``), the error bound measured for an approximation (``max_rel_error``) and the
standard errors of a simulation (``mean_wait_se_s``, :meth:`QueueMetrics.wait_quantile_se`).

Which numbers are exact and which approximate
---------------------------------------------
=============  ====================  ====================  ===================================
model          mean wait             P(wait > 0)           wait / response distribution
=============  ====================  ====================  ===================================
M/M/1, M/M/c   exact (Erlang C)      exact (Erlang C)      exact (conditional wait Exp(cμ − λ))
M/D/c, M/D/1   exact (Crommelin)     exact                 exact (Crommelin; Erlang for c = 1)
GI/M/1         exact (root σ)        exact (σ)             exact (conditional wait Exp(μ(1−σ)))
M/G/1          exact (P–K)           exact (ρ, PASTA)      approximation (exponential
                                                           conditional wait, gamma service)
G/G/1, G/G/c   simulated or approx.  simulated or approx.  simulated or approx. (see below)
=============  ====================  ====================  ===================================

G/G/1 and G/G/c (other than the exact cases above): with ``method="auto"`` (the default) they
are **simulated** (seeded, with standard errors) unless the approximation — QNA for c = 1,
Allen–Cunneen for c ≥ 2, with an exponential conditional wait — was measured within 5 % in
that region; ``method="approximation"`` forces the approximation and reports its measured
bound (``max_rel_error``, :data:`APPROXIMATION_BOUNDS`).

"Exact" means to ~1e-9 relative or better (closed forms; M/D/c by roots and an FFT or the
GTH reduction, tested against Erlang's formula in 60-digit arithmetic and a dense solve of the
chain).  The measured errors of every formula against long simulations are tabulated in
``docs/accuracy.md`` (``make accuracy``).  Interarrival and service times given only by a cv
are gamma (constant for cv 0) — an assumed family, stated in ``QueueMetrics.assumptions``.

A saturated queue (ρ = λ/(cμ) ≥ 1) is not an error: ``stable`` is False and every wait,
response time and quantile is ``inf``; ``p_wait`` is 1.  ρ within a relative 1e-12 of 1
counts as saturated: λ = cμ computed in floating point can land a few ulps below 1 (e.g.
(0.7/0.1)/7), and a wait of 10^12 service times or more is not a steady state anyway.

References: Kleinrock1975 (Erlang C, M/M/c, P–K, GI/M/1), Crommelin1932, Franx2001 and
Tijms2003 (M/D/c), Allen1990 (Allen–Cunneen), Whitt1983 and KraemerLangenbachBelz1976 (QNA),
Whitt1993 (exponential conditional wait), Kingman1961, KieferWolfowitz1955 and Lindley1952
(the simulator) in docs/references.rst.

>>> m = mmc(arrival_rate=[8.0, 9.0], service_rate=1.0, servers=10)
>>> m.utilization
array([0.8, 0.9])
>>> m.p_wait.round(4)
array([0.4092, 0.6687])
>>> m.mean_wait_s.round(4)
array([0.2046, 0.6687])
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
from scipy import special

from followerlab._mg1 import CV_DETERMINISTIC
from followerlab._results import Result
from followerlab._tabulate import unique_rows
from followerlab._validate import as_float_array, as_int, as_int_array, check_choice, check_shapes

__all__ = ["QueueMetrics", "erlang_b", "erlang_c", "mm1", "mmc", "mg1", "md1", "mdc", "gg1", "ggc",
           "APPROXIMATION_BOUNDS"]

#: ρ >= 1 - _RHO_TOL is saturated: absorbs the round-off of λ/(cμ) at λ = cμ (seen up to
#: ~10 ulps when the rate itself is computed, e.g. an admin node's saturation rate).
_RHO_TOL = 1e-12


# --------------------------------------------------------------------------- Erlang B and C
def erlang_b(servers, offered_load):
    r"""Erlang B blocking probability of an M/M/c/c loss system (no factorials).

    .. math::

        B(c, a) = \frac{a^c / c!}{\sum_{k=0}^{c} a^k / k!}
                = \frac{\Pr[N = c]}{\Pr[N \le c]}, \qquad N \sim \mathrm{Poisson}(a),

    evaluated as ``exp(c log a − a − lgamma(c+1)) / Q(c+1, a)`` with the regularized upper
    incomplete gamma function Q (the Poisson CDF), so hundreds or thousands of servers neither
    overflow nor lose precision.

    Parameters
    ----------
    servers : array_like of int
        Number of servers c ≥ 1.
    offered_load : array_like of float
        Offered load a = λ/μ in Erlangs, ≥ 0.

    Returns
    -------
    numpy.ndarray
        B(c, a) in [0, 1], broadcast over the inputs.

    References
    ----------
    Kleinrock1975 (ch. 3, the Erlang loss system M/M/c/c) and ErlangB-Manual (the 15-line
    example below) in docs/references.rst.

    Examples
    --------
    A 15-line trunk group offered 8.108 Erlangs blocks 1 % of calls (erlang.com Erlang B
    calculator manual, "How much traffic can a trunk group handle?"):

    >>> float(erlang_b(15, 8.108).round(4))
    0.01
    >>> float(erlang_b(2000, 1900.0)) < 0.01   # thousands of servers: no overflow
    True
    """
    c = as_int_array("servers", servers, minimum=1)
    a = as_float_array("offered_load", offered_load, minimum=0.0)
    check_shapes(servers=c, offered_load=a)
    return _erlang_b(c, a)


def _erlang_b(c: np.ndarray, a: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        log_pmf = c * np.log(a) - a - special.gammaln(c + 1.0)
        cdf = special.gammaincc(c + 1.0, a)
        b = np.exp(log_pmf) / cdf
        # a = 0: log(0) = -inf -> pmf 0 -> B = 0.  cdf underflows only for a >> c (overloaded
        # loss system; not needed by the queues, ρ ≥ 1 there): summed below instead.
        b = np.where(a == 0.0, 0.0, b)
    bad = ~np.isfinite(b)
    if bad.any():  # pmf and cdf underflow (a >> c): 1/B = sum_j c!/(c-j)! / a^j, terms < (c/a)^j
        b = np.array(b, dtype=float)
        cb, ab = np.broadcast_to(c, b.shape)[bad].astype(float), np.broadcast_to(a, b.shape)[bad]
        term, total = np.ones_like(ab), np.ones_like(ab)
        for j in range(1, 100_000):
            term = term * np.maximum(cb - (j - 1), 0.0) / ab
            total += term
            if np.all(term <= 1e-17 * total):
                break
        b[bad] = 1.0 / total
    return np.clip(b, 0.0, 1.0)


def erlang_c(servers, offered_load):
    r"""Erlang C: probability that an arrival to an M/M/c queue waits.

    .. math::

        C(c, a) = \frac{B(c, a)}{1 - \rho\,(1 - B(c, a))}, \qquad \rho = a / c,

    which equals the textbook form :math:`\frac{a^c}{c!(1-\rho)} /
    \left(\sum_{k<c} a^k/k! + \frac{a^c}{c!(1-\rho)}\right)` (Kleinrock1975 in docs/references.rst,
    ch. 3) without its factorials.  For ρ ≥ 1 every arrival waits: C = 1.

    Parameters
    ----------
    servers : array_like of int
        Number of servers c ≥ 1.
    offered_load : array_like of float
        Offered load a = λ/μ in Erlangs, ≥ 0.

    Returns
    -------
    numpy.ndarray
        C(c, a) in [0, 1].

    References
    ----------
    Kleinrock1975 (ch. 3) in docs/references.rst.

    Examples
    --------
    >>> float(erlang_c(1, 0.5))    # M/M/1: C = ρ
    0.5
    >>> erlang_c([1, 2, 4], 0.9).round(4).tolist()
    [0.9, 0.2793, 0.0143]
    """
    c = as_int_array("servers", servers, minimum=1)
    a = as_float_array("offered_load", offered_load, minimum=0.0)
    check_shapes(servers=c, offered_load=a)
    return _erlang_c(c, a)


def _erlang_c(c: np.ndarray, a: np.ndarray) -> np.ndarray:
    c, a = np.broadcast_arrays(c, a)
    rho = a / c
    out = np.ones(rho.shape)
    stable = rho < 1.0  # saturated: every arrival waits; skip the incomplete gamma there
    if stable.all():
        cs, as_, rs = c, a, rho
    else:
        cs, as_, rs = c[stable], a[stable], rho[stable]
    b = _erlang_b(cs, as_)
    with np.errstate(divide="ignore", invalid="ignore"):
        cs_out = np.clip(b / (1.0 - rs * (1.0 - b)), 0.0, 1.0)
    if stable.all():
        return cs_out
    out[stable] = cs_out
    return out


# --------------------------------------------------------------------------- result object
#: How a configuration's numbers were obtained (``QueueMetrics.method``).
EXACT = "exact"
SIMULATED = "simulated"

_EXPO, _MDC, _MG1, _SIM = 0, 1, 2, 3  # law of the wait used by the quantile methods


class _Laws:
    """Which law each configuration's quantiles come from (internal to :class:`QueueMetrics`).

    ``kind`` (flat, one per configuration): ``_EXPO`` exponential conditional wait (exact for
    M/M/c, an approximation otherwise), ``_MDC`` the exact M/D/c law, ``_MG1`` the exact
    M/G/1 law, ``_SIM`` the empirical law of a simulation.  ``mdc = (law, rows)`` maps a
    configuration to its row of an :class:`followerlab._mdc.MDCLaw` (−1: none); ``sim`` holds
    the simulated quantile tables (see ``_simulate``).
    """

    def __init__(self, kind, mdc=None, sim=None, mg1=None):
        self.kind = np.asarray(kind, dtype=np.int8).ravel()
        self.mdc = mdc
        self.sim = sim
        self.mg1 = mg1


class _MG1Adapter:
    """Quantiles of exact M/G/1 laws (:mod:`followerlab._mg1`) for some of the configurations."""

    def __init__(self, dist, local):
        self.dist = dist    # MG1Distribution over the selected configurations (flat)
        self.local = local  # flat configuration index -> index in ``dist`` (−1: not there)

    @classmethod
    def over(cls, dist, sel):
        local = np.full(np.size(sel), -1, dtype=np.int64)
        local[np.flatnonzero(np.ravel(sel))] = np.arange(int(np.count_nonzero(sel)))
        return cls(dist, local)

    def _ppf(self, which, q, cfg):
        loc = self.local[cfg]
        out = np.empty(q.shape)
        for value in np.unique(q):  # typically one to three probabilities per call
            at = q == value
            out[at] = np.ravel(getattr(self.dist, which + "_ppf")(float(value)))[loc[at]]
        return out

    def wait_quantile(self, q, cfg):
        return self._ppf("wait", q, cfg)

    def response_quantile(self, q, cfg):
        return self._ppf("response", q, cfg)


@dataclass(frozen=True)
class QueueMetrics(Result):
    r"""Steady-state metrics of a queue, one entry per (broadcast) configuration.

    Attributes
    ----------
    model : str
        ``"M/M/1"``, ``"M/M/c"``, ``"M/G/1"``, ``"M/D/1"``, ``"M/D/c"``, ``"G/G/1"`` or
        ``"G/G/c"``.
    arrival_rate, service_rate : numpy.ndarray
        λ and μ per second (μ per server).
    servers : numpy.ndarray
        c.
    arrival_cv, service_cv : numpy.ndarray
        Coefficients of variation of interarrival and service times (1 = exponential).
    utilization : numpy.ndarray
        ρ = λ/(cμ); may exceed 1 for a saturated queue.
    p_wait : numpy.ndarray
        P(an arrival waits), in [0, 1].
    mean_wait_s, mean_response_s : numpy.ndarray
        Mean wait in queue W_q and mean response time W_q + 1/μ (s); ``inf`` if unstable.
    mean_queue_length, mean_in_system : numpy.ndarray
        L_q = λ W_q and L = λ W (Little's law).
    stable : numpy.ndarray of bool
        ρ < 1 (ρ ≥ 1 − 1e-12 counts as saturated: floating-point round-off at λ = cμ).
    exact_distribution : bool
        True when every configuration's numbers, quantiles included, are exact (all
        ``method == "exact"``).  Kept for compatibility; ``method`` says it per configuration.
    method : numpy.ndarray of str
        How each configuration was obtained: ``"exact"`` (a closed form or an exact numerical
        law, to ~1e-9 relative), ``"approximation: <name>"`` or ``"simulated"`` (a seeded
        simulation by :mod:`followerlab.sim.queue`).  A saturated queue is ``"exact"``.
    max_rel_error : numpy.ndarray
        The worst relative error of mean, p50 and p99 of wait and response that was *measured*
        for an approximation in its region against long simulations (:data:`APPROXIMATION_BOUNDS`);
        ``nan`` where none was measured (outside the measured grid); 0 for exact and simulated
        configurations (a simulation's error is its standard error, below).
    mean_wait_se_s, mean_response_se_s : numpy.ndarray
        Standard error of a simulated mean wait / response (s) across independent
        replications; 0 for analytic configurations.
    assumptions : str
        Assumptions behind the numbers, e.g. the gamma family for times given only by a cv.

    References
    ----------
    Kleinrock1975 (M/M/1, M/M/c and Erlang C, M/G/1 and Pollaczek–Khinchine, Little's law),
    Crommelin1932 and Franx2001 (M/D/c), Allen1990, Whitt1983 and Whitt1993 (the G/G/c
    approximations) in docs/references.rst.
    """

    model: str
    arrival_rate: np.ndarray
    service_rate: np.ndarray
    servers: np.ndarray
    arrival_cv: np.ndarray
    service_cv: np.ndarray
    utilization: np.ndarray
    p_wait: np.ndarray
    mean_wait_s: np.ndarray
    mean_response_s: np.ndarray
    mean_queue_length: np.ndarray
    mean_in_system: np.ndarray
    stable: np.ndarray
    exact_distribution: bool
    method: np.ndarray = None
    max_rel_error: np.ndarray = None
    mean_wait_se_s: np.ndarray = None
    mean_response_se_s: np.ndarray = None
    assumptions: str = ""
    _laws: _Laws = field(default=None, repr=False, compare=False)

    def __post_init__(self):
        shape = np.shape(self.p_wait)
        if self.method is None:
            method = EXACT if self.exact_distribution else "approximation: exponential conditional wait"
            object.__setattr__(self, "method", np.full(shape, method, dtype=object).astype(str))
        for name in ("max_rel_error", "mean_wait_se_s", "mean_response_se_s"):
            if getattr(self, name) is None:
                object.__setattr__(self, name, np.zeros(shape))

    def _array_fields(self) -> dict[str, np.ndarray]:
        fields = super()._array_fields()
        fields["method"] = np.asarray(self.method)
        return fields

    def _kinds(self) -> np.ndarray:
        if self._laws is None:
            return np.zeros(np.size(self.p_wait), dtype=np.int8)
        return self._laws.kind

    # ---------------------------------------------------------------- quantiles
    def _theta(self) -> np.ndarray:
        """Rate of the (approximately) exponential conditional wait: p_wait / W_q."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.p_wait / self.mean_wait_s

    def _flat(self, q):
        """Broadcast q against the configurations: flat q, flat configuration index, shape."""
        q = _check_q(q)
        cfg_shape = np.shape(self.p_wait)
        shape = np.broadcast_shapes(q.shape, cfg_shape)
        cfg = np.broadcast_to(np.arange(int(np.prod(cfg_shape))).reshape(cfg_shape), shape).ravel()
        return np.broadcast_to(q, shape).ravel().astype(float), cfg, shape

    def wait_quantile(self, q):
        r"""q-quantile of the wait in queue (s), broadcast of ``q`` against the configurations.

        Each configuration uses the law its ``method`` names:

        * M/M/1, M/M/c (exact) and the approximations: an exponential conditional wait,

          .. math::

              P(W_q > t) = p_{wait}\, e^{-\theta t}, \quad \theta = p_{wait} / E[W_q]
              \;\Rightarrow\; t_q = \max\!\left(0, \tfrac{1}{\theta}
              \ln\tfrac{p_{wait}}{1-q}\right),

          exact for M/M/c (θ = cμ − λ; Kleinrock1975 ch. 3), an approximation otherwise
          (cf. Whitt1993; its measured error is ``max_rel_error``);
        * M/D/c and M/D/1: the exact law of Crommelin (see :func:`mdc`);
        * M/G/1 with ``method == "exact"``: the exact law by transform inversion;
        * simulated configurations: the empirical quantile of all simulated waits (standard
          error from the spread of the 32 replications: :meth:`wait_quantile_se`).

        Parameters
        ----------
        q : array_like of float
            Probability in [0, 1).

        Returns
        -------
        numpy.ndarray
            Quantile in seconds; 0 when q ≤ 1 − p_wait; ``inf`` for an unstable queue.

        Examples
        --------
        >>> m = mm1(0.5, 1.0)
        >>> m.wait_quantile([0.25, 0.5, 0.99]).round(4).tolist()
        [0.0, 0.0, 7.824]
        """
        qq, cfg, shape = self._flat(q)
        out = np.zeros(qq.shape)
        kind = self._kinds()[cfg]
        stable = np.ravel(self.stable)[cfg]
        sel = stable & (kind == _EXPO)
        if sel.any():
            pw, theta = np.ravel(self.p_wait)[cfg[sel]], np.ravel(self._theta())[cfg[sel]]
            out[sel] = _wait_quantile_flat(pw, theta, qq[sel])
        sel = stable & (kind == _MDC)
        if sel.any():
            law, rows = self._laws.mdc
            d = 1.0 / np.ravel(self.service_rate)[cfg[sel]]
            out[sel] = law.wait_quantile(qq[sel], rows[cfg[sel]]) * d
        sel = stable & (kind == _MG1)
        if sel.any():
            out[sel] = self._laws.mg1.wait_quantile(qq[sel], cfg[sel])
        sel = stable & (kind == _SIM)
        if sel.any():
            out[sel] = _sim_quantile(self._laws.sim, "wait", qq[sel], cfg[sel])[0]
        out[~stable] = np.inf
        return out.reshape(shape)

    def response_quantile(self, q):
        r"""q-quantile of the response time T = W_q + S (s), broadcast against the configurations.

        The wait W_q and the customer's own service S are independent under FCFS.  For
        the exponential-conditional-wait law (M/M/c exact; the approximations)

        .. math::

            P(T > t) = (1 - p)\,\bar F_S(t) + p\,P(E + S > t), \qquad E \sim
            \mathrm{Exp}(\theta),\ p = p_{wait}:

        * exponential service (cv = 1): :math:`P(E + S > t) = e^{-rt}\bigl(1 + r t\,
          g((R - r)t)\bigr)` with r = min(θ, μ), R = max(θ, μ) and g(d) = (1 − e^{−d})/d
          (the hypoexponential survival, written without cancellation);
        * deterministic service (cv = 0): T = 1/μ + W_q, so t_q = 1/μ + ``wait_quantile(q)``;
        * otherwise S is taken as gamma with the given mean and cv (*assumed* shape), and
          P(E + S > t) has a closed form in incomplete gamma functions and a Poisson mean
          (see ``_exp_gamma_sf``).  cv < 1e-6 counts as deterministic.

        The equation P(T > t) = 1 − q is solved by a vectorized bracketed Illinois
        (regula falsi) iteration to ~1e-12 relative accuracy.  M/D/c: t_q = 1/μ + the exact
        wait quantile; exact M/G/1: the exact response law; simulated configurations: the
        empirical quantile of simulated wait + an independent service draw (exact in
        distribution under FCFS).

        Parameters
        ----------
        q : array_like of float
            Probability in [0, 1).

        Returns
        -------
        numpy.ndarray
            Quantile in seconds; ``inf`` for an unstable queue.

        Examples
        --------
        M/M/1 response time is Exp(μ − λ): its median is ln 2 / (μ − λ).

        >>> m = mm1(0.5, 1.0)
        >>> round(float(m.response_quantile(0.5)), 6), round(float(np.log(2) / 0.5), 6)
        (1.386294, 1.386294)
        """
        qq, cfg, shape = self._flat(q)
        out = np.full(qq.shape, np.inf)
        kind = self._kinds()[cfg]
        stable = np.ravel(self.stable)[cfg]
        mu_all = np.ravel(self.service_rate)
        sel = stable & (kind == _EXPO)
        if sel.any():
            c = cfg[sel]
            pw, theta = np.ravel(self.p_wait)[c], np.ravel(self._theta())[c]
            mu, cv = mu_all[c].astype(float), np.ravel(self.service_cv)[c].astype(float)
            qs = qq[sel]
            res = np.empty(qs.shape)
            det = cv < CV_DETERMINISTIC
            if det.any():
                res[det] = 1.0 / mu[det] + _wait_quantile_flat(pw[det], theta[det], qs[det])
            # exponential service with p = 1 - θ/μ (M/M/1): (1-p) e^{-μt} + p P(E+S>t) = e^{-θt}
            # exactly, so t_q = -ln(1-q)/θ in closed form instead of the iteration
            expo1 = (cv == 1.0) & (np.abs(pw - (1.0 - theta / mu)) <= 1e-12) & (theta > 0.0)
            if expo1.any():
                res[expo1] = -np.log1p(-qs[expo1]) / theta[expo1]
            rest = ~det & ~expo1
            if rest.any():
                res[rest] = _solve_response(pw[rest], theta[rest], mu[rest], cv[rest], qs[rest])
            out[sel] = res
        sel = stable & (kind == _MDC)
        if sel.any():
            law, rows = self._laws.mdc
            d = 1.0 / mu_all[cfg[sel]]
            out[sel] = d * (1.0 + law.wait_quantile(qq[sel], rows[cfg[sel]]))
        sel = stable & (kind == _MG1)
        if sel.any():
            out[sel] = self._laws.mg1.response_quantile(qq[sel], cfg[sel])
        sel = stable & (kind == _SIM)
        if sel.any():
            out[sel] = _sim_quantile(self._laws.sim, "response", qq[sel], cfg[sel])[0]
        return out.reshape(shape)

    def wait_quantile_se(self, q):
        """Standard error of :meth:`wait_quantile` (s): across-replication spread for simulated
        configurations, 0 for analytic ones.

        >>> float(mm1(0.5, 1.0).wait_quantile_se(0.99))
        0.0
        """
        return self._quantile_se("wait", q)

    def response_quantile_se(self, q):
        """Standard error of :meth:`response_quantile` (s); 0 for analytic configurations.

        >>> float(mm1(0.5, 1.0).response_quantile_se(0.5))
        0.0
        """
        return self._quantile_se("response", q)

    def _quantile_se(self, which, q):
        qq, cfg, shape = self._flat(q)
        out = np.zeros(qq.shape)
        sel = (self._kinds()[cfg] == _SIM) & np.ravel(self.stable)[cfg]
        if sel.any():
            out[sel] = _sim_quantile(self._laws.sim, which, qq[sel], cfg[sel])[1]
        return out.reshape(shape)


def _check_q(q) -> np.ndarray:
    return as_float_array("q", q, minimum=0.0, maximum=1.0, strict_maximum=True)


def _wait_quantile_flat(pw, theta, q):
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.log(pw / (1.0 - q)) / theta
    return np.where(np.isfinite(t) & (t > 0.0), t, 0.0)


def _g(d):
    """(1 - e^{-d}) / d for d >= 0, with g(0) = 1."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = -np.expm1(-d) / d
    return np.where(d < 1e-12, 1.0 - d / 2.0, out)


def _hypoexp_sf(t, a, b):
    """P(E_a + E_b > t) for independent exponentials with rates a, b (stable for a ≈ b)."""
    r = np.minimum(a, b)
    big = np.maximum(a, b)
    return np.exp(-r * t) * (1.0 + r * t * _g((big - r) * t))


def _poisson_mean_inverse(x, k):
    r"""E[1/(N + k)] for N ~ Poisson(x), x >= 0, k > 0.

    x <= 30: the series :math:`\sum_n e^{-x} x^n / (n! (n + k))` up to n = x + 10√x + 20
    (> 10 standard deviations above the mean).  x > 30: with
    :math:`E[1/(N+k)] = \int_0^1 (1-v)^{k-1} e^{-xv}\,dv` and z = r v, r = x + k − 1,

    .. math:: E[1/(N+k)] = \frac{1}{r}\int_0^r e^{-z}
              \exp\bigl((k-1)(\ln(1 - z/r) + z/r)\bigr)\,dz,

    whose second factor is smooth on the scale of e^{-z}; 40-point Gauss–Laguerre (nodes
    beyond r carry weight < e^{-30} and are dropped).
    """
    out = np.empty_like(x)
    small = x <= 30.0
    if small.any():
        xs, ks = x[small][:, None], k[small][:, None]
        top = float(np.max(x[small]))
        n = np.arange(np.ceil(top + 10.0 * np.sqrt(top) + 20.0) + 1.0)[None, :]
        with np.errstate(divide="ignore", invalid="ignore", under="ignore"):
            log_pmf = special.xlogy(n, xs) - xs - special.gammaln(n + 1.0)
            out[small] = (np.exp(log_pmf) / (n + ks)).sum(axis=1)
    big = ~small
    if big.any():
        km1 = (k[big] - 1.0)[:, None]
        r = x[big][:, None] + km1
        v = _LAG_X[None, :] / r
        with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
            h = np.exp(km1 * (np.log1p(-np.minimum(v, 1.0)) + v))
        h = np.where(v < 1.0, h, 0.0)
        out[big] = (h @ _LAG_W) / r[:, 0]
    return out


_LAG_X, _LAG_W = np.polynomial.laguerre.laggauss(40)


def _exp_gamma_sf(t, theta, mu, cv):
    r"""P(E + S > t), E ~ Exp(θ), S ~ Gamma(shape k = 1/cv², rate b = kμ), independent.

    P(E + S > t) = F̄_S(t) + J with J = ∫_0^t e^{-θ(t-s)} f_S(s) ds, in closed form:

    * θ < b:  J = e^{-θt} (b/(b-θ))^k P(Gamma(k, rate b-θ) ≤ t)  (regularized lower gamma);
    * θ ≥ b:  expanding e^{(θ-b)s} in its power series,
      J = e^{-bt} (bt)^k / Γ(k) · E[1/(N + k)],  N ~ Poisson((θ-b)t).

    Both are evaluated in logarithms; for k = 1 they reduce to the hypoexponential survival.
    """
    k = 1.0 / cv**2
    b = k * mu
    out = special.gammaincc(k, b * t)
    low = theta < b
    if low.any():
        th, bb, kk, tt = theta[low], b[low], k[low], t[low]
        with np.errstate(divide="ignore"):
            log_j = -th * tt - kk * np.log1p(-th / bb) + np.log(special.gammainc(kk, (bb - th) * tt))
        out[low] += np.exp(log_j)
    high = ~low
    if high.any():
        th, bb, kk, tt = theta[high], b[high], k[high], t[high]
        with np.errstate(divide="ignore", invalid="ignore"):
            log_front = special.xlogy(kk, bb * tt) - bb * tt - special.gammaln(kk)
        out[high] += np.exp(log_front) * _poisson_mean_inverse((th - bb) * tt, kk)
    return out


def _response_sf(t, pw, theta, mu, cv):
    """P(W_q + S > t) for flat arrays."""
    expo = cv == 1.0
    out = np.empty_like(t)
    if expo.any():
        s_bar = np.exp(-mu[expo] * t[expo])
        conv = _hypoexp_sf(t[expo], theta[expo], mu[expo])
        out[expo] = (1.0 - pw[expo]) * s_bar + pw[expo] * conv
    other = ~expo
    if other.any():
        k = 1.0 / cv[other] ** 2
        s_bar = special.gammaincc(k, k * mu[other] * t[other])
        conv = _exp_gamma_sf(t[other], theta[other], mu[other], cv[other])
        out[other] = (1.0 - pw[other]) * s_bar + pw[other] * conv
    return out


def _solve_response(pw, theta, mu, cv, q):
    """Vectorized Illinois iteration for P(W_q + S > t) = 1 - q on a bracket."""
    target = 1.0 - q
    theta = np.where(pw > 0.0, theta, np.inf)  # no wait: E is irrelevant (weight 0)
    theta_safe = np.where(np.isfinite(theta), theta, 1e300)
    # Bracket: T >= W_q and T >= S, so t_q >= max(W_q's and S's q-quantiles); and
    # P(T > a + b) <= P(W_q > a) + P(S > b), so t_q <= the sum of their (1+q)/2-quantiles.
    def s_quantile(level):
        k = 1.0 / cv**2
        return special.gammaincinv(k, level) / (k * mu)

    q2 = 1.0 - target / 2.0
    lo = np.maximum(_wait_quantile_flat(pw, theta_safe, q), s_quantile(q))
    hi = _wait_quantile_flat(pw, theta_safe, q2) + s_quantile(q2)
    hi = np.maximum(hi * (1.0 + 1e-12), lo + 1e-300)
    f_lo = _response_sf(lo, pw, theta_safe, mu, cv) - target
    low_bad = ~(f_lo > 0.0)  # rounding at the bound: fall back to t = 0, where sf = 1
    lo[low_bad] = 0.0
    f_lo[low_bad] = q[low_bad]
    f_hi = _response_sf(hi, pw, theta_safe, mu, cv) - target
    for _ in range(60):  # make sure the bracket holds (only rounding can break it)
        bad = f_hi > 0.0
        if not bad.any():
            break
        hi = np.where(bad, hi * 2.0, hi)
        f_hi[bad] = _response_sf(hi[bad], pw[bad], theta_safe[bad], mu[bad], cv[bad]) - target[bad]
    x = hi.copy()
    active = q > 0.0
    side = np.zeros_like(q)
    for _ in range(200):
        if not active.any():
            break
        idx = np.flatnonzero(active)
        a, b, fa, fb = lo[idx], hi[idx], f_lo[idx], f_hi[idx]
        xn = b - fb * (b - a) / (fb - fa)
        bad = ~np.isfinite(xn) | (xn <= a) | (xn >= b)
        xn = np.where(bad, 0.5 * (a + b), xn)
        fx = _response_sf(xn, pw[idx], theta_safe[idx], mu[idx], cv[idx]) - target[idx]
        x[idx] = xn
        pos = fx > 0.0  # root is above xn
        # Illinois: halve the stale end's function value when the same side is kept twice.
        lo[idx] = np.where(pos, xn, a)
        f_lo[idx] = np.where(pos, fx, np.where(side[idx] == -1, fa / 2.0, fa))
        hi[idx] = np.where(pos, b, xn)
        f_hi[idx] = np.where(pos, np.where(side[idx] == 1, fb / 2.0, fb), fx)
        side[idx] = np.where(pos, 1, -1)
        done = (np.abs(fx) <= 1e-14 * np.minimum(target[idx], q[idx])) | (
            hi[idx] - lo[idx] <= 1e-12 * np.maximum(hi[idx], 1e-300)
        )
        active[idx[done]] = False
    return np.where(q > 0.0, x, 0.0)


# --------------------------------------------------------------------------- measured bounds
#: Worst relative error of the approximation (Allen–Cunneen for c ≥ 2; Allen–Cunneen with the
#: Kraemer–Langenbach-Belz factor for c = 1, i.e. QNA; exponential conditional wait; gamma
#: times) over mean, p50 and p99 of wait and response, MEASURED against long seeded
#: simulations by ``python benchmarks/accuracy_queueing.py --bounds`` (re-measured coarsely by
#: ``tests/test_accuracy_smoke.py``, which fails if a smoke point's error exceeds its bound
#: beyond the simulation's noise).  One row per region, a closed box: (servers lo, hi),
#: (utilization lo, hi), (arrival cv lo, hi), (service cv lo, hi), worst error, grid points.
#: The error is measured at the box's corners (grid c ∈ {1, 2, 4, 16, 64}, ρ ∈ {0.1, 0.5,
#: 0.8, 0.95}, c_a ∈ {0.5, 1, 2}, c_s ∈ {0, 0.5, 1, 2, 4}); inside a box it is interpolated,
#: not measured.  Errors of a wait metric are relative to max(simulated value, 1 % of the mean
#: service time).  ``auto`` uses the approximation only where the bound is ≤ 5 %.
APPROXIMATION_BOUNDS: tuple = (  # generated: python benchmarks/accuracy_queueing.py --bounds
    ((1, 1), (0.1, 0.5), (0.5, 1.0), (0.0, 0.5), 0.694, 8),
    ((1, 1), (0.1, 0.5), (0.5, 1.0), (0.5, 1.0), 10.747, 8),
    ((1, 1), (0.1, 0.5), (0.5, 1.0), (1.0, 2.0), 10.747, 8),
    ((1, 1), (0.1, 0.5), (0.5, 1.0), (2.0, 4.0), 0.933, 8),
    ((1, 1), (0.1, 0.5), (1.0, 2.0), (0.0, 0.5), 1.0, 8),
    ((1, 1), (0.1, 0.5), (1.0, 2.0), (0.5, 1.0), 1.0, 8),
    ((1, 1), (0.1, 0.5), (1.0, 2.0), (1.0, 2.0), 1.0, 8),
    ((1, 1), (0.1, 0.5), (1.0, 2.0), (2.0, 4.0), 1.0, 8),
    ((1, 1), (0.5, 0.8), (0.5, 1.0), (0.0, 0.5), 0.694, 8),
    ((1, 1), (0.5, 0.8), (0.5, 1.0), (0.5, 1.0), 0.456, 8),
    ((1, 1), (0.5, 0.8), (0.5, 1.0), (1.0, 2.0), 0.428, 8),
    ((1, 1), (0.5, 0.8), (0.5, 1.0), (2.0, 4.0), 0.933, 8),
    ((1, 1), (0.5, 0.8), (1.0, 2.0), (0.0, 0.5), 1.0, 8),
    ((1, 1), (0.5, 0.8), (1.0, 2.0), (0.5, 1.0), 1.0, 8),
    ((1, 1), (0.5, 0.8), (1.0, 2.0), (1.0, 2.0), 1.0, 8),
    ((1, 1), (0.5, 0.8), (1.0, 2.0), (2.0, 4.0), 1.0, 8),
    ((1, 1), (0.8, 0.95), (0.5, 1.0), (0.0, 0.5), 0.473, 8),
    ((1, 1), (0.8, 0.95), (0.5, 1.0), (0.5, 1.0), 0.394, 8),
    ((1, 1), (0.8, 0.95), (0.5, 1.0), (1.0, 2.0), 0.281, 8),
    ((1, 1), (0.8, 0.95), (0.5, 1.0), (2.0, 4.0), 0.185, 8),
    ((1, 1), (0.8, 0.95), (1.0, 2.0), (0.0, 0.5), 0.208, 8),
    ((1, 1), (0.8, 0.95), (1.0, 2.0), (0.5, 1.0), 0.206, 8),
    ((1, 1), (0.8, 0.95), (1.0, 2.0), (1.0, 2.0), 0.194, 8),
    ((1, 1), (0.8, 0.95), (1.0, 2.0), (2.0, 4.0), 0.188, 8),
    ((2, 4), (0.1, 0.5), (0.5, 1.0), (0.0, 0.5), 17.85, 16),
    ((2, 4), (0.1, 0.5), (0.5, 1.0), (0.5, 1.0), 20.759, 16),
    ((2, 4), (0.1, 0.5), (0.5, 1.0), (1.0, 2.0), 70.578, 16),
    ((2, 4), (0.1, 0.5), (0.5, 1.0), (2.0, 4.0), 269.857, 16),
    ((2, 4), (0.1, 0.5), (1.0, 2.0), (0.0, 0.5), 1.0, 16),
    ((2, 4), (0.1, 0.5), (1.0, 2.0), (0.5, 1.0), 1.0, 16),
    ((2, 4), (0.1, 0.5), (1.0, 2.0), (1.0, 2.0), 1.0, 16),
    ((2, 4), (0.1, 0.5), (1.0, 2.0), (2.0, 4.0), 1.0, 16),
    ((2, 4), (0.5, 0.8), (0.5, 1.0), (0.0, 0.5), 17.85, 16),
    ((2, 4), (0.5, 0.8), (0.5, 1.0), (0.5, 1.0), 13.778, 16),
    ((2, 4), (0.5, 0.8), (0.5, 1.0), (1.0, 2.0), 13.778, 16),
    ((2, 4), (0.5, 0.8), (0.5, 1.0), (2.0, 4.0), 1.561, 16),
    ((2, 4), (0.5, 0.8), (1.0, 2.0), (0.0, 0.5), 1.0, 16),
    ((2, 4), (0.5, 0.8), (1.0, 2.0), (0.5, 1.0), 1.0, 16),
    ((2, 4), (0.5, 0.8), (1.0, 2.0), (1.0, 2.0), 1.0, 16),
    ((2, 4), (0.5, 0.8), (1.0, 2.0), (2.0, 4.0), 1.0, 16),
    ((2, 4), (0.8, 0.95), (0.5, 1.0), (0.0, 0.5), 11.007, 16),
    ((2, 4), (0.8, 0.95), (0.5, 1.0), (0.5, 1.0), 13.778, 16),
    ((2, 4), (0.8, 0.95), (0.5, 1.0), (1.0, 2.0), 13.778, 16),
    ((2, 4), (0.8, 0.95), (0.5, 1.0), (2.0, 4.0), 1.561, 16),
    ((2, 4), (0.8, 0.95), (1.0, 2.0), (0.0, 0.5), 0.646, 16),
    ((2, 4), (0.8, 0.95), (1.0, 2.0), (0.5, 1.0), 0.643, 16),
    ((2, 4), (0.8, 0.95), (1.0, 2.0), (1.0, 2.0), 0.571, 16),
    ((2, 4), (0.8, 0.95), (1.0, 2.0), (2.0, 4.0), 0.405, 16),
    ((4, 16), (0.1, 0.5), (0.5, 1.0), (0.0, 0.5), 17.85, 16),
    ((4, 16), (0.1, 0.5), (0.5, 1.0), (0.5, 1.0), 1.586, 16),
    ((4, 16), (0.1, 0.5), (0.5, 1.0), (1.0, 2.0), 1.33, 16),
    ((4, 16), (0.1, 0.5), (0.5, 1.0), (2.0, 4.0), 0.528, 16),
    ((4, 16), (0.1, 0.5), (1.0, 2.0), (0.0, 0.5), 1.0, 16),
    ((4, 16), (0.1, 0.5), (1.0, 2.0), (0.5, 1.0), 1.0, 16),
    ((4, 16), (0.1, 0.5), (1.0, 2.0), (1.0, 2.0), 1.0, 16),
    ((4, 16), (0.1, 0.5), (1.0, 2.0), (2.0, 4.0), 1.0, 16),
    ((4, 16), (0.5, 0.8), (0.5, 1.0), (0.0, 0.5), 17.85, 16),
    ((4, 16), (0.5, 0.8), (0.5, 1.0), (0.5, 1.0), 13.778, 16),
    ((4, 16), (0.5, 0.8), (0.5, 1.0), (1.0, 2.0), 13.778, 16),
    ((4, 16), (0.5, 0.8), (0.5, 1.0), (2.0, 4.0), 1.561, 16),
    ((4, 16), (0.5, 0.8), (1.0, 2.0), (0.0, 0.5), 1.0, 16),
    ((4, 16), (0.5, 0.8), (1.0, 2.0), (0.5, 1.0), 1.0, 16),
    ((4, 16), (0.5, 0.8), (1.0, 2.0), (1.0, 2.0), 1.0, 16),
    ((4, 16), (0.5, 0.8), (1.0, 2.0), (2.0, 4.0), 1.0, 16),
    ((4, 16), (0.8, 0.95), (0.5, 1.0), (0.0, 0.5), 5.512, 16),
    ((4, 16), (0.8, 0.95), (0.5, 1.0), (0.5, 1.0), 13.778, 16),
    ((4, 16), (0.8, 0.95), (0.5, 1.0), (1.0, 2.0), 13.778, 16),
    ((4, 16), (0.8, 0.95), (0.5, 1.0), (2.0, 4.0), 1.561, 16),
    ((4, 16), (0.8, 0.95), (1.0, 2.0), (0.0, 0.5), 1.0, 16),
    ((4, 16), (0.8, 0.95), (1.0, 2.0), (0.5, 1.0), 1.0, 16),
    ((4, 16), (0.8, 0.95), (1.0, 2.0), (1.0, 2.0), 1.0, 16),
    ((4, 16), (0.8, 0.95), (1.0, 2.0), (2.0, 4.0), 0.705, 16),
    ((16, 64), (0.1, 0.5), (0.5, 1.0), (0.0, 0.5), 0.028, 16),
    ((16, 64), (0.1, 0.5), (0.5, 1.0), (0.5, 1.0), 0.065, 16),
    ((16, 64), (0.1, 0.5), (0.5, 1.0), (1.0, 2.0), 0.129, 16),
    ((16, 64), (0.1, 0.5), (0.5, 1.0), (2.0, 4.0), 0.528, 16),
    ((16, 64), (0.1, 0.5), (1.0, 2.0), (0.0, 0.5), 1.0, 16),
    ((16, 64), (0.1, 0.5), (1.0, 2.0), (0.5, 1.0), 1.0, 16),
    ((16, 64), (0.1, 0.5), (1.0, 2.0), (1.0, 2.0), 1.0, 16),
    ((16, 64), (0.1, 0.5), (1.0, 2.0), (2.0, 4.0), 1.0, 16),
    ((16, 64), (0.5, 0.8), (0.5, 1.0), (0.0, 0.5), 3.367, 16),
    ((16, 64), (0.5, 0.8), (0.5, 1.0), (0.5, 1.0), 3.367, 16),
    ((16, 64), (0.5, 0.8), (0.5, 1.0), (1.0, 2.0), 1.908, 16),
    ((16, 64), (0.5, 0.8), (0.5, 1.0), (2.0, 4.0), 0.961, 16),
    ((16, 64), (0.5, 0.8), (1.0, 2.0), (0.0, 0.5), 1.0, 16),
    ((16, 64), (0.5, 0.8), (1.0, 2.0), (0.5, 1.0), 1.0, 16),
    ((16, 64), (0.5, 0.8), (1.0, 2.0), (1.0, 2.0), 1.0, 16),
    ((16, 64), (0.5, 0.8), (1.0, 2.0), (2.0, 4.0), 1.0, 16),
    ((16, 64), (0.8, 0.95), (0.5, 1.0), (0.0, 0.5), 3.367, 16),
    ((16, 64), (0.8, 0.95), (0.5, 1.0), (0.5, 1.0), 3.367, 16),
    ((16, 64), (0.8, 0.95), (0.5, 1.0), (1.0, 2.0), 3.167, 16),
    ((16, 64), (0.8, 0.95), (0.5, 1.0), (2.0, 4.0), 0.961, 16),
    ((16, 64), (0.8, 0.95), (1.0, 2.0), (0.0, 0.5), 1.0, 16),
    ((16, 64), (0.8, 0.95), (1.0, 2.0), (0.5, 1.0), 1.0, 16),
    ((16, 64), (0.8, 0.95), (1.0, 2.0), (1.0, 2.0), 1.0, 16),
    ((16, 64), (0.8, 0.95), (1.0, 2.0), (2.0, 4.0), 0.705, 16),
)

#: ``auto`` accepts an approximation whose measured bound is at most this.
_AUTO_TOLERANCE = 0.05


def _approx_bound(c, rho, ca, cs):
    """Measured bound for each configuration: the largest bound of the regions (closed boxes)
    that contain it; nan outside every measured region."""
    out = np.full(np.broadcast_shapes(np.shape(c), np.shape(rho), np.shape(ca), np.shape(cs)), np.nan)
    for (c_lo, c_hi), (r_lo, r_hi), (a_lo, a_hi), (s_lo, s_hi), err, _n in APPROXIMATION_BOUNDS:
        inside = ((c >= c_lo) & (c <= c_hi) & (rho >= r_lo) & (rho <= r_hi)
                  & (ca >= a_lo) & (ca <= a_hi) & (cs >= s_lo) & (cs <= s_hi))
        out = np.where(inside, np.fmax(out, err), out)
    return out


# --------------------------------------------------------------------------- simulation
#: Probability grid of the stored simulated quantile tables (finer in the tail).
_SIM_Q = np.unique(np.concatenate([np.linspace(0.0, 0.999, 1000), 1.0 - np.logspace(-3, -5, 81)]))


def _sim_budget(rho, ca, cs):
    """Warm-up (~10 relaxation times, 2 000 to 50 000) and 200 000 measured customers per
    replication.  Shorter runs were measured to bias the p99 low for bursty arrivals (c_a = 2,
    ρ = 0.8, one server: −10 % at 10 000 customers, −5.5 % at 40 000, +0.7 ± 1.4 % at 200 000
    against the exact GI/M/1 law), beyond what their standard error shows."""
    relax = (ca**2 + cs**2) * (1.0 + rho) / (2.0 * (1.0 - np.sqrt(rho)) ** 2)
    warm = int(np.clip(10.0 * relax, 2_000, 50_000))
    return warm, warm + 200_000


def _simulate(c, rho, ca, cs, seed, customers=None, replications=32):
    """Simulate unique (c, ρ, c_a, c_s) configurations with μ = 1; tables per configuration.

    Gamma interarrival and service times (constant for cv 0).  The response of a customer is
    its simulated wait plus an independent service draw: under FCFS a customer's own service
    does not influence its wait, so W + S' has the law of the response time.
    """
    from followerlab.sim.queue import gamma_sampler, simulate_ggc

    n = len(c)
    g = _SIM_Q.size
    res = {k: np.zeros(n) for k in ("p_wait", "mean_wait", "mean_wait_se")}
    res.update({k: np.zeros((n, g)) for k in ("wait", "wait_se", "response", "response_se")})
    for i in range(n):
        ci, ri, ai, si = int(c[i]), float(rho[i]), float(ca[i]), float(cs[i])
        warm, total = _sim_budget(ri, ai, si)
        if customers is not None:
            total = int(customers)
            warm = min(warm, total // 10)
        key = [int(seed), ci, int(round(ri * 2**40)), int(round(ai * 2**30)), int(round(si * 2**30))]
        rng = np.random.default_rng(key)
        r = simulate_ggc(ri * ci, 1.0, ci, ai, si, customers=total, replications=replications,
                         warmup=warm, seed=rng)
        w = r.wait_samples_s
        s = gamma_sampler(1.0, si)(rng, w.shape)
        res["p_wait"][i], res["mean_wait"][i], res["mean_wait_se"][i] = r.p_wait, r.mean_wait_s, r.mean_wait_se_s
        for name, x in (("wait", w), ("response", w + s)):
            x.sort(axis=1)
            reps = _sorted_quantile(x, _SIM_Q)  # (R, G): each replication's quantiles
            # the estimate is the quantile of all measured customers (the mean of the
            # replications' quantiles is biased where the law has an atom, e.g. at
            # q = P(W = 0)); its standard error from the replications' spread / sqrt(R)
            res[name][i] = _sorted_quantile(np.sort(x.ravel())[None, :], _SIM_Q)[0]
            res[name + "_se"][i] = reps.std(axis=0, ddof=1) / np.sqrt(x.shape[0])
    return res


def _sorted_quantile(x_sorted, q):
    """Linear-interpolation quantiles (numpy's default) of each sorted row."""
    m = x_sorted.shape[1]
    pos = q * (m - 1)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, m - 1)
    frac = pos - lo
    return x_sorted[:, lo] * (1.0 - frac) + x_sorted[:, hi] * frac


def _sim_quantile(sim, which, q, cfg):
    """Interpolated simulated quantile and its standard error for flat q and configurations."""
    rows = sim["rows"][cfg]
    scale = sim["scale"][cfg]
    table, se = sim[which][rows], sim[which + "_se"][rows]
    qc = np.minimum(q, _SIM_Q[-1])  # beyond the grid the simulation does not resolve the tail
    j = np.clip(np.searchsorted(_SIM_Q, qc, side="right") - 1, 0, _SIM_Q.size - 2)
    f = (qc - _SIM_Q[j]) / (_SIM_Q[j + 1] - _SIM_Q[j])
    k = np.arange(q.size)
    val = table[k, j] * (1.0 - f) + table[k, j + 1] * f
    err = se[k, j] * (1.0 - f) + se[k, j + 1] * f
    return val * scale, err * scale


# --------------------------------------------------------------------------- constructors
_GAMMA_ASSUMED = ("interarrival and service times given only by a cv are taken as gamma "
                  "(constant for cv 0, exponential for cv 1): an assumed family")


def _klb_factor(rho, ca, cs):
    """Kraemer–Langenbach-Belz correction for c_a < 1 as used by QNA (Whitt1983); 1 otherwise."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        g = np.exp(-2.0 * (1.0 - rho) * (1.0 - ca**2) ** 2 / (3.0 * rho * (ca**2 + cs**2)))
    return np.where((ca < 1.0) & (rho > 0.0) & np.isfinite(g), g, 1.0)


def _gi_m_1_sigma(rho, ca):
    """σ in (0, 1) with σ = A*(μ(1 − σ)) for gamma interarrivals (μ = 1, mean 1/ρ, cv c_a).

    A*(s) = (1 + s c_a² / ρ)^{−1/c_a²} (constant interarrivals: e^{−s/ρ}).  Fixed-point
    iteration from 0 increases monotonically to the root below 1 (Kleinrock1975 sec. 6.4);
    finished by Newton steps.
    """
    with np.errstate(divide="ignore", over="ignore"):
        k = np.where(ca > 0, 1.0 / np.where(ca > 0, ca, 1.0) ** 2, np.inf)

    def lst(s):
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            val = np.where(np.isinf(k), np.exp(-s / rho), np.exp(-k * np.log1p(s / (k * rho))))
            dval = np.where(np.isinf(k), -np.exp(-s / rho) / rho,
                            -np.exp(-(k + 1.0) * np.log1p(s / (k * rho))) / rho)
        return val, dval

    sigma = np.zeros(np.shape(rho))
    for _ in range(200):
        sigma = lst(1.0 - sigma)[0]
    for _ in range(30):
        v, dv = lst(1.0 - sigma)
        sigma = sigma - (sigma - v) / (1.0 + dv)
    return sigma


def _assemble(model, lam, mu, c, ca, cs, rho, stable, p_wait, wq, method, max_err, wq_se,
              laws, assumptions=""):
    p_wait = np.where(stable, p_wait, 1.0)
    wq = np.where(stable, wq, np.inf)
    resp = wq + 1.0 / mu
    with np.errstate(invalid="ignore"):
        lq = np.where(stable, lam * wq, np.inf)
        ls = np.where(stable, lam * resp, np.inf)
    method = np.where(stable, method, EXACT)
    return QueueMetrics(
        model=model, arrival_rate=lam, service_rate=mu, servers=c, arrival_cv=ca, service_cv=cs,
        utilization=rho, p_wait=p_wait, mean_wait_s=wq, mean_response_s=resp,
        mean_queue_length=lq, mean_in_system=ls, stable=stable,
        exact_distribution=bool(np.all(method == EXACT)), method=method.astype(str),
        max_rel_error=np.where(stable, max_err, 0.0), mean_wait_se_s=np.where(stable, wq_se, 0.0),
        mean_response_se_s=np.where(stable, wq_se, 0.0), assumptions=assumptions, _laws=laws,
    )


def _queue(model, lam, mu, c, ca, cs, method="auto", seed=0, sim_customers=None):
    """Every model: choose per configuration the exact law, the approximation or a simulation."""
    lam, mu, c, ca, cs = np.broadcast_arrays(lam, mu, c, ca, cs)
    shape = lam.shape
    a = lam / mu
    rho = a / c
    stable = rho < 1.0 - _RHO_TOL
    ec = _erlang_c(c, a)
    with np.errstate(divide="ignore", invalid="ignore"):
        wq_mmc = ec / (c * mu - lam)
    det = cs < CV_DETERMINISTIC
    k_mmc = (ca == 1.0) & (cs == 1.0)
    k_mdc = (ca == 1.0) & det
    k_gim1 = (c == 1) & (cs == 1.0) & ~k_mmc
    # M/G/1 (gamma service): the exact law by transform inversion (followerlab._mg1)
    k_mg1 = (c == 1) & (ca == 1.0) & ~k_mmc & ~k_mdc
    idle = lam == 0.0  # no arrivals: nobody waits (exact)
    if method == "_formula":  # internal (accuracy benchmark): the approximation's own numbers
        k_mmc = k_mdc = k_gim1 = k_mg1 = np.zeros(shape, dtype=bool)
        method = "approximation"
    exact = k_mmc | k_mdc | k_gim1 | k_mg1 | idle
    kind = np.full(shape, _EXPO, dtype=np.int8)
    names = np.full(shape, EXACT, dtype=object)
    bound = np.full(shape, np.nan)
    if not exact.all():  # only configurations without an exact law need a measured bound
        ne = ~exact
        bound[ne] = _approx_bound(c[ne], rho[ne], ca[ne], cs[ne])
    if method == "simulate":
        to_sim = stable & ~idle
    elif method == "approximation":
        to_sim = np.zeros(shape, dtype=bool)
    else:  # auto: the approximation only where its measured bound is within 5 %
        to_sim = stable & ~exact & ~(bound <= _AUTO_TOLERANCE)
    approx = ~exact & ~to_sim
    # approximation: Allen–Cunneen (c >= 2), QNA = Allen–Cunneen x KLB (c = 1)
    p_wait = np.array(ec, dtype=float)
    wq = np.array(wq_mmc * (ca**2 + cs**2) / 2.0)
    if np.any(c == 1):
        wq = np.array(wq * np.where(c == 1, _klb_factor(rho, ca, cs), 1.0))
    names[approx & (c == 1)] = "approximation: QNA (Kraemer–Langenbach-Belz), exponential conditional wait"
    names[approx & (c > 1)] = "approximation: Allen–Cunneen, exponential conditional wait"
    max_err = np.where(approx, bound, 0.0)
    wq_se = np.zeros(shape)
    laws_mdc = laws_sim = laws_mg1 = None

    # exact M/M/c: Erlang C as above with the factor 1.  Exact GI/M/1: P(W > 0) = σ,
    # W | W > 0 ~ Exp(μ(1 − σ)).
    sel = k_gim1 & stable & ~to_sim & ~idle
    if sel.any():
        sigma = _gi_m_1_sigma(rho[sel], ca[sel])
        p_wait[sel] = sigma
        wq[sel] = sigma / (mu[sel] * (1.0 - sigma))
    # exact M/D/c (Crommelin)
    sel = k_mdc & stable & ~to_sim
    if sel.any():
        from followerlab._mdc import mdc_law

        law, inverse = mdc_law(c[sel], rho[sel])
        rows = np.full(lam.size, -1, dtype=np.int64)
        rows[np.flatnonzero(sel.ravel())] = inverse
        p_wait[sel] = law.p_wait[inverse]
        with np.errstate(divide="ignore", invalid="ignore"):
            wq[sel] = np.where(rho[sel] > 0, law.mean_x[inverse] / (c[sel] * rho[sel]), 0.0) / mu[sel]
        one = sel & (c == 1)  # M/D/1: P(wait) = ρ and the P–K mean in closed form
        p_wait[one] = rho[one]
        wq[one] = wq_mmc[one] / 2.0
        kind[sel] = _MDC
        laws_mdc = (law, rows)
    # exact M/G/1 with gamma service (P–K mean and P(wait) = ρ as above)
    sel = k_mg1 & stable & ~to_sim & ~idle
    if sel.any():
        from followerlab._mg1 import mg1_gamma

        laws_mg1 = _MG1Adapter.over(mg1_gamma(lam[sel], 1.0 / mu[sel], cs[sel]), sel)
        kind[sel] = _MG1
    # simulation
    if to_sim.any():
        idx = np.flatnonzero(to_sim.ravel())
        uniq, inverse = unique_rows(c.ravel()[idx].astype(float), rho.ravel()[idx], ca.ravel()[idx], cs.ravel()[idx])
        uniq = np.stack(uniq, axis=1)
        sim = _simulate(uniq[:, 0].astype(int), uniq[:, 1], uniq[:, 2], uniq[:, 3], seed, sim_customers)
        rows = np.full(lam.size, -1, dtype=np.int64)
        rows[idx] = inverse
        sim["rows"] = rows
        sim["scale"] = 1.0 / mu.ravel().astype(float)
        flat = np.zeros(lam.size)
        flat[idx] = sim["p_wait"][inverse]
        p_wait = np.where(to_sim, flat.reshape(shape), p_wait)
        flat[idx] = sim["mean_wait"][inverse] / mu.ravel()[idx]
        wq = np.where(to_sim, flat.reshape(shape), wq)
        flat[idx] = sim["mean_wait_se"][inverse] / mu.ravel()[idx]
        wq_se = np.where(to_sim, flat.reshape(shape), 0.0)
        kind[to_sim] = _SIM
        names[to_sim] = SIMULATED
        laws_sim = sim
    laws = _Laws(kind, mdc=laws_mdc, sim=laws_sim, mg1=laws_mg1)
    gamma_used = bool(np.any(stable & ~((ca == 1.0) | det) | (stable & ~((cs == 1.0) | det))))
    assumptions = _GAMMA_ASSUMED if gamma_used or model in ("G/G/1", "G/G/c", "M/G/1") else ""
    return _assemble(model, lam, mu, c, ca, cs, rho, stable, p_wait, wq, names, max_err, wq_se,
                     laws, assumptions)


#: The largest interarrival or service cv :func:`ggc` accepts (gamma shape 1/cv² >= 1e-4).
MAX_CV = 100.0


def _rates(arrival_rate, service_rate):
    lam = as_float_array("arrival_rate", arrival_rate, minimum=0.0)
    mu = as_float_array("service_rate", service_rate, minimum=0.0, strict_minimum=True)
    check_shapes(arrival_rate=lam, service_rate=mu)
    return lam, mu


def _one(dtype=float):
    return np.ones((), dtype=dtype)


def mm1(arrival_rate, service_rate) -> QueueMetrics:
    r"""M/M/1: Poisson arrivals, exponential service, one server (exact).

    .. math::

        \rho = \lambda/\mu,\quad P(\text{wait}) = \rho,\quad W_q = \frac{\rho}{\mu - \lambda},
        \quad T \sim \mathrm{Exp}(\mu - \lambda).

    Parameters
    ----------
    arrival_rate : array_like
        λ, arrivals per second (≥ 0).
    service_rate : array_like
        μ, services per second (> 0).

    Returns
    -------
    QueueMetrics
        Exact metrics and exact quantiles (``method`` "exact"); ``stable`` False and ``inf``
        waits when λ ≥ μ.

    References
    ----------
    Kleinrock1975 (ch. 3) in docs/references.rst.

    Examples
    --------
    >>> m = mm1([0.5, 0.9, 1.2], 1.0)
    >>> m.mean_wait_s.tolist()
    [1.0, 9.0, inf]
    >>> m.stable
    array([ True,  True, False])
    >>> m.method.tolist()
    ['exact', 'exact', 'exact']
    """
    lam, mu = _rates(arrival_rate, service_rate)
    return _queue("M/M/1", lam, mu, _one(np.int64), _one(), _one())


def mmc(arrival_rate, service_rate, servers) -> QueueMetrics:
    r"""M/M/c: Poisson arrivals, exponential service, c servers (Erlang C, exact).

    .. math::

        a = \lambda/\mu,\ \rho = a/c,\quad P(\text{wait}) = C(c, a),\quad
        W_q = \frac{C(c, a)}{c\mu - \lambda},\quad P(W_q > t) = C(c, a)\, e^{-(c\mu-\lambda)t}.

    The response time T = W_q + S with S ~ Exp(μ) independent of W_q (FCFS); its quantiles
    are found by inverting the exact survival function numerically (see
    :meth:`QueueMetrics.response_quantile`).  C(c, a) is computed from the Poisson pmf and
    cdf (:func:`erlang_b`), stable for thousands of servers.

    Parameters
    ----------
    arrival_rate : array_like
        λ, arrivals per second (≥ 0).
    service_rate : array_like
        μ, services per second per server (> 0).
    servers : array_like of int
        c ≥ 1; broadcast with the rates.

    Returns
    -------
    QueueMetrics

    References
    ----------
    Kleinrock1975 (ch. 3) in docs/references.rst.

    Examples
    --------
    >>> m = mmc(arrival_rate=1.5, service_rate=1.0, servers=[1, 2, 3])
    >>> m.stable
    array([False,  True,  True])
    >>> m.p_wait.round(4).tolist()
    [1.0, 0.6429, 0.2368]
    >>> m.mean_wait_s.round(4).tolist()
    [inf, 1.2857, 0.1579]
    >>> m.wait_quantile(0.99).round(3).tolist()
    [inf, 8.327, 2.11]
    """
    lam, mu = _rates(arrival_rate, service_rate)
    c = as_int_array("servers", servers, minimum=1)
    check_shapes(arrival_rate=lam, service_rate=mu, servers=c)
    return _queue("M/M/c", lam, mu, c, _one(), _one())


def mg1(arrival_rate, mean_service_s=None, service_cv=None, *, service=None) -> QueueMetrics:
    r"""M/G/1: Poisson arrivals, general service, one server (exact).

    .. math::

        \rho = \lambda E[S],\quad P(\text{wait}) = \rho,\quad
        W_q = \frac{\lambda E[S^2]}{2(1 - \rho)} = \frac{\rho\, E[S]\,(1 + c_s^2)}{2(1 - \rho)}
        \quad\text{(Pollaczek–Khinchine)},

    and the wait and response distributions exactly, by numerical inversion of the
    Pollaczek–Khinchine transform (the Beneš series on a damped FFT lattice,
    :mod:`followerlab._mg1`; quantiles within 1e-5 relative of the exact M/M/1 and M/D/1 laws,
    means in closed form).  cv 1 uses the M/M/1 closed form and cv 0 Crommelin's M/D/1 law.

    The service is either ``service``, a distribution of :mod:`followerlab.latency`
    (``mixture``, ``constant``, ``gamma``, ``shifted_lognormal``, ``pareto``, ``empirical``, …;
    read in seconds here) or a scipy frozen distribution, or — given only ``mean_service_s``
    and ``service_cv`` — a **gamma** law with that mean and cv (the assumed family; constant
    for cv 0), which ``assumptions`` says.

    Parameters
    ----------
    arrival_rate : array_like
        λ, arrivals per second (≥ 0).
    mean_service_s : array_like, optional
        E[S] in seconds (> 0); with ``service_cv``, instead of ``service``.
    service_cv : array_like, optional
        Coefficient of variation of S, c_s = sd(S)/E[S] (≥ 0; 0 deterministic, 1 exponential).
    service : latency distribution, optional
        The service-time law in seconds (array parameters broadcast with ``arrival_rate``).

    Returns
    -------
    QueueMetrics
        ``method`` "exact" everywhere.

    References
    ----------
    Kleinrock1975 (ch. 5), AbateWhitt1995, Benes1957 in docs/references.rst.

    Examples
    --------
    >>> m = mg1(arrival_rate=0.8, mean_service_s=1.0, service_cv=[0.0, 1.0, 2.0])
    >>> m.mean_wait_s.round(4), m.method.tolist()
    (array([ 2.,  4., 10.]), ['exact', 'exact', 'exact'])

    A node that spends 50 ms planning a query and, for 1 % of the requests, 2 s on a control
    command, at 10 requests/s:

    >>> from followerlab import latency
    >>> s = latency.mixture([latency.constant(0.05), latency.constant(2.0)], [0.99, 0.01])
    >>> a = mg1(10.0, service=s)
    >>> float(a.utilization.round(4)), a.wait_quantile([0.5, 0.99]).round(3).tolist()
    (0.695, [0.049, 5.114])

    (a simulation of 5.8 million customers gives 0.050 and 5.06 ± 0.05).  A gamma service with
    the same mean and cv puts the median wait 5.6 times too high:

    >>> mg1(10.0, 0.0695, a.service_cv).wait_quantile([0.5, 0.99]).round(3).tolist()
    [0.277, 4.535]
    """
    lam = as_float_array("arrival_rate", arrival_rate, minimum=0.0)
    if service is None:
        if mean_service_s is None or service_cv is None:
            raise ValueError("mg1 needs mean_service_s and service_cv, or service=<distribution>")
        es = as_float_array("mean_service_s", mean_service_s, minimum=0.0, strict_minimum=True)
        cs = as_float_array("service_cv", service_cv, minimum=0.0)
        check_shapes(arrival_rate=lam, mean_service_s=es, service_cv=cs)
        return _queue("M/G/1", lam, 1.0 / es, _one(np.int64), _one(), cs)
    if mean_service_s is not None or service_cv is not None:
        raise ValueError("mg1 takes either service=<distribution> or mean_service_s and service_cv, not both")
    from followerlab._mg1 import mg1_distribution

    dist = mg1_distribution(lam, service)
    shape = dist.utilization.shape
    es = np.asarray(dist.mean_service_s, dtype=float)
    m2 = np.broadcast_to(dist._law.m2, es.ravel().shape).reshape(shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        cs = np.sqrt(np.maximum(m2 / es**2 - 1.0, 0.0))
    lam_b = np.broadcast_to(lam, shape).astype(float)
    stable = np.asarray(dist.stable)
    kind = np.where(stable, _MG1, _EXPO).astype(np.int8)
    laws = _Laws(kind, mg1=_MG1Adapter(dist, np.arange(kind.size)))
    zero = np.zeros(shape)
    return _assemble("M/G/1", lam_b, 1.0 / es, np.ones(shape, dtype=np.int64), np.ones(shape), cs,
                     np.asarray(dist.utilization), stable, np.asarray(dist.p_wait),
                     np.asarray(dist.mean_wait_s), np.full(shape, EXACT, dtype=object), zero, zero, laws)


def md1(arrival_rate, service_rate) -> QueueMetrics:
    r"""M/D/1: Poisson arrivals, constant service 1/μ (exact; :func:`mdc` with c = 1).

    .. math::

        W_q = \frac{\rho}{2\mu(1 - \rho)},\qquad
        P(W_q \le t) = (1 - \rho) \sum_{k=0}^{\lfloor \mu t \rfloor}
        \frac{(\lambda (k/\mu - t))^k}{k!} e^{-\lambda (k/\mu - t)}

    (Erlang's formula; computed without its alternating sum, see :func:`mdc`).

    References
    ----------
    Crommelin1932, Franx2001, Kleinrock1975 (ch. 5) in docs/references.rst.

    Examples
    --------
    >>> m = md1(0.5, 1.0)
    >>> m.mean_wait_s, m.method
    (array(0.5), array('exact', dtype='<U5'))
    >>> float(m.wait_quantile(0.99).round(4))   # the exponential-tail guess gave 3.912
    3.3363
    """
    lam, mu = _rates(arrival_rate, service_rate)
    return _queue("M/D/1", lam, mu, _one(np.int64), _one(), np.zeros(()))


def mdc(arrival_rate, service_rate, servers) -> QueueMetrics:
    r"""M/D/c: Poisson arrivals, constant service D = 1/μ, c servers (exact, Crommelin).

    The number in system at times t, t + D, … is the Markov chain
    :math:`N' = (N - c)^+ + A`, A ~ Poisson(a), a = λD = cρ.  With X = (N − c)^+ (the number
    waiting) and :math:`z_1, …, z_{c-1}` the roots of :math:`z^c = e^{a(z-1)}` in the unit disk,

    .. math::

        E[z^X] = \frac{(c - a)(z - 1)}{z^c - e^{a(z-1)}} \prod_{k=1}^{c-1}
        \frac{z - z_k}{1 - z_k},\qquad
        P(W_q \le kD + u) = P\bigl(X + A' \le (k+1)c - 1\bigr),\ A' \sim
        \mathrm{Poisson}(\lambda(D - u)),

    for k ≥ 0, 0 ≤ u < D, and :math:`W_q = E[X]/\lambda`.  Computed by Newton's method for
    the roots and an FFT of the generating function with its dominant pole removed (see
    ``followerlab/_mdc.py``); numerical error below 1e-12 in probability, tested against
    Erlang's M/D/1 formula in exact decimal arithmetic and against simulation for c up to 64.

    Parameters
    ----------
    arrival_rate : array_like
        λ per second (≥ 0).
    service_rate : array_like
        μ = 1/D per second per server (> 0).
    servers : array_like of int
        c ≥ 1.

    Returns
    -------
    QueueMetrics
        ``method`` "exact"; quantiles from the exact law.

    References
    ----------
    Crommelin1932, Franx2001, Tijms2003 in docs/references.rst.

    Examples
    --------
    >>> m = mdc(3.2, 1.0, [4, 8])
    >>> m.mean_wait_s.round(4).tolist(), m.p_wait.round(4).tolist()
    ([0.3861, 0.0026], [0.5783, 0.0172])
    >>> m.wait_quantile(0.99).round(4).tolist()
    [2.4546, 0.0964]
    """
    lam, mu = _rates(arrival_rate, service_rate)
    c = as_int_array("servers", servers, minimum=1)
    check_shapes(arrival_rate=lam, service_rate=mu, servers=c)
    return _queue("M/D/c", lam, mu, c, _one(), np.zeros(()))


def gg1(arrival_rate, service_rate, arrival_cv, service_cv, *, method="auto", seed=0,
        sim_customers=None) -> QueueMetrics:
    r"""G/G/1: :func:`ggc` with one server.

    Exact for M/M/1, M/D/1 and GI/M/1 (exponential service: P(wait) = σ, the root of
    σ = A*(μ(1 − σ)), and W | W > 0 ~ Exp(μ(1 − σ)); Kleinrock1975 sec. 6.4); otherwise the
    QNA approximation (Kingman's heavy-traffic form with the Kraemer–Langenbach-Belz factor
    for c_a < 1, Whitt1983) where its measured error is within 5 %, else a simulation.  See
    :func:`ggc` for the parameters.

    References
    ----------
    Kleinrock1975 (sec. 6.4, GI/M/1), Kingman1961 (the heavy-traffic form),
    KraemerLangenbachBelz1976 and Whitt1983 (the QNA correction for c_a < 1) in
    docs/references.rst.

    Examples
    --------
    >>> m = gg1(0.5, 1.0, arrival_cv=[1.0, 0.0], service_cv=1.0)   # M/M/1 and D/M/1
    >>> m.mean_wait_s.round(4).tolist(), m.method.tolist()
    ([1.0, 0.255], ['exact', 'exact'])
    """
    return dataclasses.replace(ggc(arrival_rate, service_rate, 1, arrival_cv, service_cv, method=method,
                                   seed=seed, sim_customers=sim_customers), model="G/G/1")


def ggc(arrival_rate, service_rate, servers, arrival_cv, service_cv, *, method="auto", seed=0,
        sim_customers=None) -> QueueMetrics:
    r"""G/G/c: the most accurate method known for each configuration, and how it was obtained.

    Per configuration (``method`` of the result says which was used):

    * **exact** for M/M/c (c_a = c_s = 1, Erlang C), M/D/c (c_a = 1, c_s = 0, Crommelin;
      see :func:`mdc`) and GI/M/1 (c = 1, c_s = 1);
    * otherwise the **approximation**

      .. math::

          W_q \approx \frac{C(c, a)}{c\mu - \lambda}\cdot\frac{c_a^2 + c_s^2}{2}\cdot g,
          \qquad P(\text{wait}) \approx C(c, a),

      with g = 1 for c ≥ 2 (Allen–Cunneen, Allen1990) and, for c = 1, the
      Kraemer–Langenbach-Belz factor :math:`g = \exp\bigl(-\tfrac{2(1-\rho)(1-c_a^2)^2}
      {3\rho(c_a^2+c_s^2)}\bigr)` for c_a < 1 (QNA, Whitt1983; KraemerLangenbachBelz1976);
      quantiles take the conditional wait as exponential (Whitt1993).  Its error was
      measured per region against long simulations (:data:`APPROXIMATION_BOUNDS`,
      ``max_rel_error``); where the measured bound exceeds 5 % or was not measured,
      ``method="auto"`` **simulates** the queue instead (:mod:`followerlab.sim.queue`,
      seeded; standard errors in ``mean_wait_se_s``, :meth:`QueueMetrics.wait_quantile_se`).

    Interarrival and service times given only by a cv are taken as **gamma** (the assumed
    family; constant for cv 0) — by the simulation, the exact GI/M/1 root and the response
    quantiles alike.  Mean E[S] = 1/μ.

    Parameters
    ----------
    arrival_rate, service_rate : array_like
        λ and μ (per server) per second.
    servers : array_like of int
        c ≥ 1.
    arrival_cv, service_cv : array_like
        Coefficients of variation of interarrival and service times (0 to :data:`MAX_CV` = 100;
        beyond it the gamma shape 1/c² is below 1e-4 and a cv of 1e300 would overflow).
    method : {"auto", "approximation", "simulate"}
        ``auto``: exact, else the approximation where measured within 5 %, else simulation.
        ``approximation``: exact where exact, the approximation everywhere else (fast; read
        ``max_rel_error``).  ``simulate``: simulate every stable configuration.
    seed : int
        Seed of the simulations (each configuration's stream is derived from it and the
        configuration, so results do not depend on what else is in the call).
    sim_customers : int, optional
        Customers per replication of a simulation (32 replications); by default 200 000 after
        a warm-up of ~10 relaxation times.  Simulation time grows with c (a Python step per
        customer for c ≥ 2: a few seconds per configuration; one server: ~0.2 s).

    Returns
    -------
    QueueMetrics

    References
    ----------
    Allen1990, Whitt1983, Whitt1993, KraemerLangenbachBelz1976, Crommelin1932, Kleinrock1975,
    KieferWolfowitz1955 in docs/references.rst.

    Examples
    --------
    >>> m = ggc(8.0, 1.0, 10, arrival_cv=1.0, service_cv=[1.0, 0.0])
    >>> m.mean_wait_s.round(4), m.method.tolist()
    (array([0.2046, 0.1098]), ['exact', 'exact'])
    >>> a = ggc(3.2, 1.0, 4, arrival_cv=2.0, service_cv=0.5, method="approximation")
    >>> str(a.method)
    'approximation: Allen–Cunneen, exponential conditional wait'
    """
    lam, mu = _rates(arrival_rate, service_rate)
    c = as_int_array("servers", servers, minimum=1)
    ca = as_float_array("arrival_cv", arrival_cv, minimum=0.0, maximum=MAX_CV)
    cs = as_float_array("service_cv", service_cv, minimum=0.0, maximum=MAX_CV)
    check_shapes(arrival_rate=lam, service_rate=mu, servers=c, arrival_cv=ca, service_cv=cs)
    method = check_choice("method", method, ["auto", "approximation", "simulate"])
    seed = as_int("seed", seed, minimum=0)
    if sim_customers is not None:
        sim_customers = as_int("sim_customers", sim_customers, minimum=1_000)
    return _queue("G/G/c", lam, mu, c, ca, cs, method=method, seed=seed, sim_customers=sim_customers)
