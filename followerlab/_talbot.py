r"""M/G/1 response-time quantiles by Laplace-transform inversion (fixed Talbot), gamma services.

For Poisson arrivals (rate :math:`\lambda`) and a service :math:`S` whose Laplace–Stieltjes
transform :math:`\tilde B(s)` is known, the response time :math:`T = W + S` of the FIFO M/G/1
queue has the Pollaczek–Khinchine transform (Kleinrock1975, eq. 5.86)

.. math:: \tilde T(s) = \tilde B(s)\,\frac{(1-\rho)\,s}{s - \lambda\,(1 - \tilde B(s))},
          \qquad \rho = \lambda\,E[S] < 1,

and here :math:`S` is a gamma law (mean :math:`\bar s`, CV :math:`c`, shape :math:`k = 1/c^2`,
:math:`\tilde B(s) = (1 + \bar s c^2 s)^{-k}`) or a two-class mixture of them.  The CDF
:math:`F_T(t) = \mathcal L^{-1}[\tilde T(s)/s](t)` and the density
:math:`f_T(t) = \mathcal L^{-1}[\tilde T(s)](t)` come from the *fixed Talbot* rule
(AbateValko2004; AbateWhitt2006, section 4): with :math:`r = 2M/(5t)`,
:math:`\theta_j = j\pi/M`, :math:`s_j = r\theta_j(\cot\theta_j + i)`,
:math:`\sigma_j = \theta_j + (\theta_j\cot\theta_j - 1)\cot\theta_j`,

.. math:: f(t) \approx \frac{r}{M}\Big[\tfrac12 \hat f(r) e^{rt}
          + \sum_{j=1}^{M-1} \mathrm{Re}\big(e^{t s_j} \hat f(s_j)(1 + i\sigma_j)\big)\Big],

:math:`M` = :data:`TALBOT_NODES` transform evaluations per point, all configurations at once
(numpy).  The quantile is found by safeguarded Newton steps in :math:`\ln t` (the density is
the inversion of the same transform values), inside the bracket
:math:`[\min_i S_{i,q},\ E[T]/(1-q)]` (:math:`T \ge S`, and Markov's inequality).

Why: the lattice of :mod:`followerlab._mg1` puts the service law on a grid, and a gamma density
with a small shape :math:`k < 1` is singular at 0, so the lattice converges slowly at high CV
(1e-4 at CV 2, 5e-3 at CV 4 with ``2**12`` points); the transform has no grid.  Its own limits:
the rule needs :math:`\tilde T` to be tame on the contour, which fails for nearly deterministic
service (a large shape :math:`k` makes :math:`|\tilde B|` huge where the contour passes near the
branch point :math:`-1/(\bar s c^2)`), so classes with :math:`c <` :data:`TALBOT_MIN_CV` are
not served here; and the rounding of :math:`e^{rt} = e^{2M/5}` bounds the absolute CDF error
near 1e-10.

Accuracy, measured (``benchmarks/accuracy_talbot.py``, ``tests/test_talbot.py``): over 20,000
seeded configurations (one class or two, CVs 0.4–5, class means 1–200 apart, ρ up to 0.995) the
p50 and p99 move by at most 2.8e-9 when the nodes change from 24 to 20 and 3.2e-9 from 24 to
32; against the exact M/M/1 law, 4e-11 (ρ to 0.995) and 1.3e-8 at ρ = 0.999999; the CDF
integrates back to the Pollaczek–Khinchine mean within 1e-7 (the integration's limit); where
the Beneš lattice is accurate (CV ≤ 1) the two agree within 5e-6, and at CV 4 the lattice's
error falls toward this value as its points grow.  Quantiles far in a tail lose relative
accuracy as the absolute CDF error (~1e-11) divides by :math:`t f(t)`: 5e-9 at
q = 0.999 and ρ = 0.995.  :data:`TALBOT_MAX_REL_ERROR` (1e-8) is what callers report for p50
and p99.  Below CV 0.4 the rule stops converging: 24 and 32 nodes differ by 5e-8 at CV 0.3,
2e-5 at CV 0.2 and 5e-2 at CV 0.1.  Cost: about 90 µs per configuration for p50 and p99
together (10^4 configurations, vectorized; 10 CDF-and-density evaluations each on average).

References
----------
Kleinrock1975 (the P–K transform), AbateValko2004 and AbateWhitt2006 (the fixed Talbot rule)
in docs/references.rst.

Examples
--------
M/M/1 (CV 1): the response is exponential with rate :math:`\mu - \lambda`, so
p99 = ln 100 / 0.5 at λ = 0.5, :math:`\bar s = 1`:

>>> p50, p99 = mg1_gamma_mixture_response_ppf([0.5, 0.5], 1.0, 1.0, 1.0, 1.0, 1.0, qs=(0.5, 0.99))
>>> p50.round(9).tolist(), p99.round(9).tolist()
([1.386294361, 1.386294361], [9.210340372, 9.210340372])
"""

from __future__ import annotations

import numpy as np
from scipy import special

__all__ = ["TALBOT_MIN_CV", "TALBOT_NODES", "TALBOT_MAX_REL_ERROR", "mg1_gamma_mixture_response_ppf"]

#: Transform evaluations per inverted point (the rule's ``M``).
TALBOT_NODES = 24
#: Smallest class CV served (below it the rule stops converging; the lattice serves it).
TALBOT_MIN_CV = 0.4
#: Relative error of p50 and p99 the callers report: about 3x the worst change measured when the
#: nodes change (``benchmarks/accuracy_talbot.py``: 3.2e-9).
TALBOT_MAX_REL_ERROR = 1e-8


def _log1p(z):
    """Complex log(1 + z) without cancellation for small |z| (Kahan's device: numpy's complex
    ``log1p`` is ``log(1 + z)``)."""
    u = 1.0 + z
    small = u == 1.0
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.log(u) * z / np.where(small, 1.0, u - 1.0)
    return np.where(small, z, out)


def _one_minus_lst(s, mean, cv):
    r""":math:`1 - (1 + \bar s c^2 s)^{-1/c^2}`, accurate for small |s| (``expm1``)."""
    k = 1.0 / (cv * cv)
    return -np.expm1(-k * _log1p(mean * cv * cv * s))


def _pk_transform(s, lam, p, ma, ca, mb, cb):
    """The Pollaczek–Khinchine transform of T at the points ``s`` (rows: configurations); class
    b is evaluated only where it has weight and differs from class a."""
    one_b = _one_minus_lst(s, ma[:, None], ca[:, None])
    mix = np.flatnonzero((p < 1) & ((mb != ma) | (cb != ca)))
    if mix.size:
        pm = p[mix, None]
        one_b[mix] = pm * one_b[mix] + (1.0 - pm) * _one_minus_lst(s[mix], mb[mix, None], cb[mix, None])
    rho = lam * (p * ma + (1.0 - p) * mb)
    return (1.0 - one_b) * (1.0 - rho[:, None]) * s / (s - lam[:, None] * one_b)


def _nodes(M):
    theta = np.arange(1, M) * np.pi / M
    cot = 1.0 / np.tan(theta)
    s_unit = theta * (cot + 1j)                       # s_j / r
    sigma = theta + (theta * cot - 1.0) * cot
    return s_unit, 1.0 + 1j * sigma


def _cdf_pdf(t, lam, p, ma, ca, mb, cb, M=TALBOT_NODES):
    """F_T(t) and f_T(t) (1-D arrays, t > 0) by the fixed Talbot rule."""
    s_unit, w = _nodes(M)
    r = 2.0 * M / (5.0 * t)
    s = np.concatenate([r[:, None] + 0j, r[:, None] * s_unit[None, :]], axis=1)
    with np.errstate(over="ignore", invalid="ignore"):
        T = _pk_transform(s, lam, p, ma, ca, mb, cb)
        eT = np.exp(t[:, None] * s) * T
        eT[:, 0] *= 0.5
        eT[:, 1:] *= w[None, :]
        pdf = eT.real.sum(axis=1)
        cdf = (eT / s).real.sum(axis=1)
    scale = r / M
    return scale * cdf, scale * pdf


def _gamma_ppf(q, mean, cv):
    k = 1.0 / (cv * cv)
    return special.gammaincinv(k, q) * mean / k


def mg1_gamma_mixture_response_ppf(arrival_rate, p, mean_a_s, cv_a, mean_b_s, cv_b, qs=(0.5, 0.99), *,
                                   nodes: int = TALBOT_NODES, iterations: int = 60):
    r"""Response-time quantiles of stable M/G/1 queues with a two-class gamma-mixture service.

    Class a (``mean_a_s``, ``cv_a``) with probability ``p``, else class b; every CV must be at
    least :data:`TALBOT_MIN_CV` (the caller routes the others to the lattice), ``rho < 1``.
    Returns one array per ``q`` (s).  Inputs broadcast; 1-D results.
    """
    lam, p, ma, ca, mb, cb, rho = _classes(arrival_rate, p, mean_a_s, cv_a, mean_b_s, cv_b, TALBOT_MIN_CV, "Talbot")
    return _newton_ppf(lambda t, *a: _cdf_pdf(t, *a, M=nodes), lam, p, ma, ca, mb, cb, rho, qs, iterations)


def _classes(arrival_rate, p, mean_a_s, cv_a, mean_b_s, cv_b, min_cv, rule):
    """The two classes as flat arrays (a class with no weight takes the other's law, which keeps
    the arithmetic finite) and rho; a ``ValueError`` names a present class with CV below
    ``min_cv`` or an unstable configuration."""
    lam, p, ma, ca, mb, cb = (np.asarray(a, float).ravel() for a in np.broadcast_arrays(
        arrival_rate, p, mean_a_s, cv_a, mean_b_s, cv_b))
    for name, cv, present in (("cv_a", ca, p > 0), ("cv_b", cb, p < 1)):
        low = present & (cv < min_cv)
        if low.any():
            raise ValueError(f"{name}={float(cv[low][0])!r}: the {rule} inversion serves service CVs of at least "
                             f"{min_cv} (a nearly deterministic class needs the lattice of followerlab._mg1)")
    ma, ca = np.where(p > 0, ma, mb), np.where(p > 0, ca, cb)
    mb, cb = np.where(p < 1, mb, ma), np.where(p < 1, cb, ca)
    mean_s = p * ma + (1 - p) * mb
    rho = lam * mean_s
    if np.any(rho >= 1):
        i = int(np.flatnonzero(rho >= 1)[0])
        raise ValueError(f"arrival_rate={float(lam[i])!r} with mean service {float(mean_s[i])!r} s: "
                         f"rho={float(rho[i])!r} >= 1, no stationary response law")
    return lam, p, ma, ca, mb, cb, rho


def _newton_ppf(cdf_pdf, lam, p, ma, ca, mb, cb, rho, qs, iterations):
    r"""Quantiles of T by safeguarded Newton steps in ln t, ``cdf_pdf(t, lam, p, ma, ca, mb, cb)
    -> (F, f)`` the inversion (shared by the Talbot rule here and the Euler rule of
    :mod:`followerlab._euler`); bracket :math:`[\min_i S_{i,q},\ E[T]/(1-q)]`."""
    mean_s = p * ma + (1 - p) * mb
    m2 = p * ma**2 * (1 + ca**2) + (1 - p) * mb**2 * (1 + cb**2)
    mean_t = mean_s + lam * m2 / (2.0 * (1.0 - rho))
    out = []
    for q in qs:
        lo = np.log(np.minimum(_gamma_ppf(q, ma, ca), _gamma_ppf(q, mb, cb)))
        hi = np.log(mean_t / (1.0 - q))
        # start: the quantile of an exponential law with the response's mean
        u = np.clip(np.log(mean_t * -np.log1p(-q)), lo, hi)
        done = np.zeros(lam.size, dtype=bool)
        for _ in range(iterations):
            act = np.flatnonzero(~done)
            if act.size == 0:
                break
            t = np.exp(u[act])
            F, f = cdf_pdf(t, lam[act], p[act], ma[act], ca[act], mb[act], cb[act])
            below = F < q
            lo[act] = np.where(below, u[act], lo[act])
            hi[act] = np.where(below, hi[act], u[act])
            with np.errstate(divide="ignore", invalid="ignore"):
                step = u[act] + (q - F) / (t * f)
            bad = ~np.isfinite(step) | (step <= lo[act]) | (step >= hi[act])
            nxt = np.where(bad, 0.5 * (lo[act] + hi[act]), step)
            fin = (np.abs(nxt - u[act]) <= 1e-11) | (hi[act] - lo[act] <= 1e-11)
            u[act] = nxt
            done[act[fin]] = True
        out.append(np.exp(u))
    return tuple(out)
