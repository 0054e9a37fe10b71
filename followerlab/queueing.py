r"""Single-station queues: M/M/1, M/M/c, M/G/1, M/D/1, G/G/1 and G/G/c.

Every function takes scalars or numpy arrays (broadcast against each other, scipy.stats style)
and returns a :class:`QueueMetrics` with one entry per configuration: utilization, probability
of waiting, mean wait in queue, mean response time (wait + service), and methods for wait and
response-time quantiles.  Rates are per second; times are seconds.

Which numbers are exact and which approximate
---------------------------------------------
=========  ==================  ====================  ==========================================
model      mean wait           P(wait > 0)           wait / response distribution
=========  ==================  ====================  ==========================================
M/M/1      exact               exact (ρ)             exact (response ~ Exp(μ − λ))
M/M/c      exact (Erlang C)    exact (Erlang C)      exact (conditional wait ~ Exp(cμ − λ))
M/G/1      exact (P–K)         exact (ρ, PASTA)      approximate (exponential conditional wait)
M/D/1      exact (P–K, cv 0)   exact (ρ)             approximate (exponential conditional wait)
G/G/1      Kingman (approx.)   ρ (approx.)           approximate
G/G/c      Allen–Cunneen       Erlang C (approx.)    approximate
=========  ==================  ====================  ==========================================

A saturated queue (ρ = λ/(cμ) ≥ 1) is not an error: ``stable`` is False and every wait,
response time and quantile is ``inf``; ``p_wait`` is 1.  ρ within a relative 1e-12 of 1
counts as saturated: λ = cμ computed in floating point can land a few ulps below 1 (e.g.
(0.7/0.1)/7), and a wait of 10^12 service times or more is not a steady state anyway.

Sources: Erlang C and M/M/c waits, Pollaczek–Khinchine, Kingman and Allen–Cunneen as quoted in
``FACTS.md`` (Queueing); L. Kleinrock, *Queueing Systems* vol. 1 (1975), ch. 3 (M/M/c) and
ch. 5 (P–K); A. O. Allen, *Probability, Statistics and Queueing Theory* (2nd ed., 1990) (the
Allen–Cunneen approximation); J. F. C. Kingman, "The single server queue in heavy traffic",
Proc. Cambridge Phil. Soc. 57 (1961); the quantiles of the non-Markovian models keep the
right P(wait > 0) and mean and take the conditional wait as exponential, in the spirit of
W. Whitt, "Approximations for the GI/G/m queue", Production and Operations Management 2(2)
(1993) — an approximation, checked against simulation in ``tests/test_sim_queue.py``.

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
from dataclasses import dataclass

import numpy as np
from scipy import special

from followerlab._results import Result
from followerlab._validate import as_float_array, as_int_array

__all__ = ["QueueMetrics", "erlang_b", "erlang_c", "mm1", "mmc", "mg1", "md1", "gg1", "ggc"]

#: Service cv below which the service time is treated as deterministic in quantiles (the
#: gamma shape 1/cv² would exceed 10^12; the quantile moves by < 1e-5 of the mean service).
_CV_DETERMINISTIC = 1e-6

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
    \left(\sum_{k<c} a^k/k! + \frac{a^c}{c!(1-\rho)}\right)` (FACTS.md; Kleinrock 1975,
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

    Examples
    --------
    >>> float(erlang_c(1, 0.5))    # M/M/1: C = ρ
    0.5
    >>> erlang_c([1, 2, 4], 0.9).round(4).tolist()
    [0.9, 0.2793, 0.0143]
    """
    c = as_int_array("servers", servers, minimum=1)
    a = as_float_array("offered_load", offered_load, minimum=0.0)
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
@dataclass(frozen=True)
class QueueMetrics(Result):
    r"""Steady-state metrics of a queue, one entry per (broadcast) configuration.

    Attributes
    ----------
    model : str
        ``"M/M/1"``, ``"M/M/c"``, ``"M/G/1"``, ``"M/D/1"``, ``"G/G/1"`` or ``"G/G/c"``.
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
        True when ``wait_quantile`` / ``response_quantile`` are exact (M/M/1, M/M/c).
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

    # ---------------------------------------------------------------- quantiles
    def _theta(self) -> np.ndarray:
        """Rate of the (approximately) exponential conditional wait: p_wait / W_q."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.p_wait / self.mean_wait_s

    def wait_quantile(self, q):
        r"""q-quantile of the wait in queue (s), broadcast of ``q`` against the configurations.

        .. math::

            P(W_q > t) = p_{wait}\, e^{-\theta t}, \quad \theta = p_{wait} / E[W_q]
            \;\Rightarrow\; t_q = \max\!\left(0, \tfrac{1}{\theta}
            \ln\tfrac{p_{wait}}{1-q}\right).

        Exact for M/M/1 and M/M/c (θ = cμ − λ; FACTS.md, Kleinrock 1975 ch. 3); for the other
        models the conditional wait is taken as exponential with the right mean and the right
        P(wait > 0) (*approximation*, cf. Whitt 1993).

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
        q = _check_q(q)
        pw, theta, stable = np.broadcast_arrays(self.p_wait, self._theta(), self.stable)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.log(pw / (1.0 - q)) / theta
        t = np.where(np.isfinite(t) & (t > 0.0), t, 0.0)
        return np.where(stable, t, np.inf)

    def response_quantile(self, q):
        r"""q-quantile of the response time T = W_q + S (s), broadcast against the configurations.

        The wait W_q and the customer's own service S are independent under FCFS, so

        .. math::

            P(T > t) = (1 - p)\,\bar F_S(t) + p\,P(E + S > t), \qquad E \sim
            \mathrm{Exp}(\theta),\ p = p_{wait}.

        * exponential service (cv = 1): :math:`P(E + S > t) = e^{-rt}\bigl(1 + r t\,
          g((R - r)t)\bigr)` with r = min(θ, μ), R = max(θ, μ) and g(d) = (1 − e^{−d})/d
          (the hypoexponential survival, written without cancellation);
        * deterministic service (cv = 0): T = 1/μ + W_q, so t_q = 1/μ + ``wait_quantile(q)``;
        * otherwise S is taken as gamma with the given mean and cv (*assumed* shape), and
          P(E + S > t) has a closed form in incomplete gamma functions and a Poisson mean
          (see ``_exp_gamma_sf``).  cv < 1e-6 counts as deterministic.

        The equation P(T > t) = 1 − q is solved by a vectorized bracketed Illinois
        (regula falsi) iteration to ~1e-12 relative accuracy.  Exact for M/M/1 and M/M/c; for
        the other models as exact as the wait distribution (see :meth:`wait_quantile`).

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
        q = _check_q(q)
        pw, theta, mu, cv, stable, q = np.broadcast_arrays(
            self.p_wait, self._theta(), self.service_rate, self.service_cv, self.stable, q
        )
        shape = q.shape
        pw, theta, mu, cv, stable, q = (np.ravel(x).astype(float) if x.dtype != bool else np.ravel(x)
                                        for x in (pw, theta, mu, cv, stable, q))
        out = np.full(pw.shape, np.inf)
        det = stable & (cv < _CV_DETERMINISTIC)
        if det.any():
            wq = _wait_quantile_flat(pw[det], theta[det], q[det])
            out[det] = 1.0 / mu[det] + wq
        rest = stable & ~det
        if rest.any():
            out[rest] = _solve_response(pw[rest], theta[rest], mu[rest], cv[rest], q[rest])
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


# --------------------------------------------------------------------------- constructors
def _build(model, lam, mu, c, ca, cs, exact):
    lam, mu, c, ca, cs = np.broadcast_arrays(lam, mu, c, ca, cs)
    a = lam / mu
    rho = a / c
    stable = rho < 1.0 - _RHO_TOL
    p_wait = _erlang_c(c, a)
    with np.errstate(divide="ignore", invalid="ignore"):
        wq_mmc = p_wait / (c * mu - lam)
    factor = (ca**2 + cs**2) / 2.0
    wq = np.where(stable, wq_mmc * factor, np.inf)
    p_wait = np.where(stable, p_wait, 1.0)
    resp = wq + 1.0 / mu
    with np.errstate(invalid="ignore"):
        lq = np.where(stable, lam * wq, np.inf)
        ls = np.where(stable, lam * resp, np.inf)
    return QueueMetrics(
        model=model,
        arrival_rate=lam,
        service_rate=mu,
        servers=c,
        arrival_cv=ca,
        service_cv=cs,
        utilization=rho,
        p_wait=p_wait,
        mean_wait_s=wq,
        mean_response_s=resp,
        mean_queue_length=lq,
        mean_in_system=ls,
        stable=stable,
        exact_distribution=exact,
    )


def _rates(arrival_rate, service_rate):
    lam = as_float_array("arrival_rate", arrival_rate, minimum=0.0)
    mu = as_float_array("service_rate", service_rate, minimum=0.0, strict_minimum=True)
    return lam, mu


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
        Exact metrics and exact quantiles; ``stable`` False and ``inf`` waits when λ ≥ μ.

    Examples
    --------
    >>> m = mm1([0.5, 0.9, 1.2], 1.0)
    >>> m.mean_wait_s.tolist()
    [1.0, 9.0, inf]
    >>> m.stable
    array([ True,  True, False])
    """
    lam, mu = _rates(arrival_rate, service_rate)
    one = np.ones((), dtype=float)
    return _build("M/M/1", lam, mu, np.ones((), dtype=np.int64), one, one, True)


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
    one = np.ones((), dtype=float)
    return _build("M/M/c", lam, mu, c, one, one, True)


def mg1(arrival_rate, mean_service_s, service_cv) -> QueueMetrics:
    r"""M/G/1: Poisson arrivals, general service, one server (Pollaczek–Khinchine).

    .. math::

        \rho = \lambda E[S],\quad P(\text{wait}) = \rho,\quad
        W_q = \frac{\rho\, E[S]\,(1 + c_s^2)}{2(1 - \rho)}.

    Mean wait and P(wait) are exact (PASTA); the wait and response quantiles use an
    exponential conditional wait (approximation, see :meth:`QueueMetrics.wait_quantile`).

    Parameters
    ----------
    arrival_rate : array_like
        λ, arrivals per second (≥ 0).
    mean_service_s : array_like
        E[S] in seconds (> 0).
    service_cv : array_like
        Coefficient of variation of S, c_s = sd(S)/E[S] (≥ 0; 0 deterministic, 1 exponential).

    Returns
    -------
    QueueMetrics

    Examples
    --------
    >>> m = mg1(arrival_rate=0.8, mean_service_s=1.0, service_cv=[0.0, 1.0, 2.0])
    >>> m.mean_wait_s.round(4)
    array([ 2.,  4., 10.])
    """
    lam = as_float_array("arrival_rate", arrival_rate, minimum=0.0)
    es = as_float_array("mean_service_s", mean_service_s, minimum=0.0, strict_minimum=True)
    cs = as_float_array("service_cv", service_cv, minimum=0.0)
    return _build("M/G/1", lam, 1.0 / es, np.ones((), dtype=np.int64), np.ones(()), cs, False)


def md1(arrival_rate, service_rate) -> QueueMetrics:
    r"""M/D/1: Poisson arrivals, deterministic service 1/μ (P–K with c_s = 0).

    .. math::

        W_q = \frac{\rho}{2\mu(1 - \rho)}.

    Examples
    --------
    >>> md1(0.5, 1.0).mean_wait_s
    array(0.5)
    """
    lam, mu = _rates(arrival_rate, service_rate)
    return _build("M/D/1", lam, mu, np.ones((), dtype=np.int64), np.ones(()), np.zeros(()), False)


def gg1(arrival_rate, service_rate, arrival_cv, service_cv) -> QueueMetrics:
    r"""G/G/1 by Kingman's approximation.

    .. math::

        W_q \approx \frac{\rho}{1 - \rho}\cdot\frac{c_a^2 + c_s^2}{2}\cdot\frac{1}{\mu},
        \qquad P(\text{wait}) \approx \rho .

    Exact for M/M/1 (c_a = c_s = 1) and M/G/1 (c_a = 1); an approximation otherwise, best in
    heavy traffic (Kingman 1961).  P(wait) = ρ is exact only for Poisson arrivals.

    Parameters
    ----------
    arrival_rate, service_rate : array_like
        λ and μ per second.
    arrival_cv, service_cv : array_like
        Coefficients of variation of interarrival and service times (≥ 0).

    Examples
    --------
    >>> gg1(0.5, 1.0, arrival_cv=[1.0, 0.0], service_cv=1.0).mean_wait_s
    array([1. , 0.5])
    """
    return dataclasses.replace(ggc(arrival_rate, service_rate, 1, arrival_cv, service_cv), model="G/G/1")


def ggc(arrival_rate, service_rate, servers, arrival_cv, service_cv) -> QueueMetrics:
    r"""G/G/c by the Allen–Cunneen approximation.

    .. math::

        W_q \approx \frac{C(c, a)}{c\mu - \lambda}\cdot\frac{c_a^2 + c_s^2}{2},
        \qquad P(\text{wait}) \approx C(c, a).

    Exact for M/M/c (c_a = c_s = 1) and, with c = 1, for M/G/1; an approximation otherwise
    (Allen 1990).  Against this package's simulator (``tests/test_sim_queue.py``) it is within
    10 % at ρ = 0.8–0.9 with c = 4; light load is not checked here.  Quantiles use the
    exponential conditional wait.

    Parameters
    ----------
    arrival_rate, service_rate : array_like
        λ and μ (per server) per second.
    servers : array_like of int
        c ≥ 1.
    arrival_cv, service_cv : array_like
        Coefficients of variation of interarrival and service times (≥ 0).

    Returns
    -------
    QueueMetrics

    Examples
    --------
    >>> m = ggc(8.0, 1.0, 10, arrival_cv=1.0, service_cv=[1.0, 0.5])
    >>> m.mean_wait_s.round(4)
    array([0.2046, 0.1279])
    """
    lam, mu = _rates(arrival_rate, service_rate)
    c = as_int_array("servers", servers, minimum=1)
    ca = as_float_array("arrival_cv", arrival_cv, minimum=0.0)
    cs = as_float_array("service_cv", service_cv, minimum=0.0)
    exact = bool(np.all(ca == 1.0) and np.all(cs == 1.0))
    return _build("G/G/c", lam, mu, c, ca, cs, exact)

