r"""M/G/1 response-time quantiles by the Euler (Fourier-series) inversion, low-CV gamma services.

The response time :math:`T = W + S` of the FIFO M/G/1 queue has the Pollaczek–Khinchine
transform :math:`\tilde T(s) = \tilde B(s)(1-\rho)s/(s - \lambda(1 - \tilde B(s)))`
(Kleinrock1975, eq. 5.86); here the service is a gamma law or a two-class mixture of them
(:math:`\tilde B(s) = (1 + \bar s c^2 s)^{-1/c^2}`), as in :mod:`followerlab._talbot`.  The fixed
Talbot rule there fails for nearly deterministic classes (CV below 0.4: its contour passes
where :math:`|\tilde B|` is huge).  The *Euler* algorithm of AbateWhitt1995 stays on the
Bromwich line :math:`\mathrm{Re}\,s = A/(2t)`, where :math:`|\tilde B| \le 1` for every
service law: the trapezoidal rule with step :math:`\pi/t` gives

.. math:: g(t) \approx \frac{e^{A/2}}{t}\Big[\tfrac12 \hat g\big(\tfrac{A}{2t}\big)
          + \sum_{k \ge 1} (-1)^k\,\mathrm{Re}\,\hat g\big(\tfrac{A + 2k\pi i}{2t}\big)\Big],

with aliasing error at most :math:`e^{-A} \sup|g|/(1 - e^{-A})` (here :math:`A` =
:data:`EULER_A` = 25, so 1.4e-11), and the alternating series is summed by Euler's binomial
averaging of the partial sums :math:`n .. n + m` (:data:`EULER_TERMS`,
:data:`EULER_AVERAGED`).  It inverts the complementary CDF (:math:`\hat g = (1 - \tilde T)/s`,
so the aliasing error is relative to the tail, not to 1) and the density
(:math:`\hat g = \tilde T`); the quantile is found by the safeguarded Newton steps of
:func:`followerlab._talbot._newton_ppf`.

Where it is used: :func:`followerlab._tabulate._exact_mixture` sends configurations whose
classes all have CV of at least :data:`EULER_MIN_CV` but not all of at least the Talbot limit
(0.4) here instead of to the Beneš lattice of :mod:`followerlab._mg1` (a few ms each).  For a
constant class (CV 0) the series converges slowly where the quantile sits near a multiple of
the service time (the law has kinks there): for M/D/1 at ρ = 0.1 the wait's tail probability at
Erlang's p99 was still 1.3e-7 off its 0.01 with 400 terms (1.4e-6 with 120); those stay on the
lattice (or Erlang's M/D/1 law).

Accuracy, measured (``benchmarks/accuracy_euler.py``, ``tests/test_euler.py``), p50 and p99
over 3000 seeded configurations (one class or two, a class of CV 0.05–0.4, the other half as
low and half 0.4–5, class means 1/200–200 apart, ρ up to 0.999): they move by at most 7.9e-8
(median 1e-10) when n, m, A change from 60, 20, 25 to 120, 30, 22 or 300, 40, 30; against the
Beneš lattice (2**16 points), where its own estimate is below 1e-8 (129 of 240), at most
3.5e-8 (median 2e-10); against the fixed Talbot rule where both serve (CV 0.4–5), 1.2e-8; against
M/M/1 up to ρ = 0.999, 1.3e-9.  :data:`EULER_MAX_REL_ERROR` = 3e-7.  With AbateWhitt1995's
n, m, A = 38, 11, 18.4, a gamma of CV 0.05 was up to 2.7e-4 off the 2**20 lattice at p99 (ρ =
0.3; with 60, 20, 25 at most 8.6e-8 for ρ 0.1-0.9), hence the larger n, m here; at CV 0.1 and
ρ up to 0.999 the defaults agree with the 2**20 lattice to 1.5e-9.  Cost: about 0.4 ms per
configuration for both quantiles (3000 configurations, vectorized), against a few ms for the
lattice.

References
----------
Kleinrock1975 (the P–K transform), AbateWhitt1995 (the Euler algorithm) in docs/references.rst.

Examples
--------
M/M/1 (CV 1, where the response is exponential with rate μ − λ) and a gamma of CV 0.2 at the
same load, which the Talbot rule cannot serve:

>>> p50, p99 = mg1_gamma_mixture_response_ppf_euler([0.5, 0.5], 1.0, 1.0, [1.0, 0.2], 1.0, [1.0, 0.2])
>>> p50.round(9).tolist()[0], p99.round(9).tolist()[0]      # ln 2 / 0.5, ln 100 / 0.5
(1.386294361, 9.210340372)
>>> bool(p99[1] < p99[0])
True
"""

from __future__ import annotations

import functools

import numpy as np
from scipy import special

from ._talbot import _classes, _newton_ppf, _pk_transform

__all__ = ["EULER_MIN_CV", "EULER_MAX_REL_ERROR", "mg1_gamma_mixture_response_ppf_euler"]

#: Damping of the Bromwich line: aliasing error at most about e^-A (relative to the tail here).
EULER_A = 25.0
#: Terms summed before the binomial averaging, and terms averaged (AbateWhitt1995's n and m).
EULER_TERMS, EULER_AVERAGED = 60, 20
#: Smallest class CV served (below it the terms decay too slowly for EULER_TERMS).
EULER_MIN_CV = 0.05
#: Relative error of p50 and p99 the callers report: about 4x the worst change measured when
#: n, m and A change (7.8e-8, module docstring).
EULER_MAX_REL_ERROR = 3e-7


@functools.lru_cache(maxsize=8)
def _weights(n, m):
    """Index k = 0 .. n + m and the weight of term k: (-1)^k (1/2 for k = 0) times the share of
    the averaged partial sums s_n .. s_{n+m} (binomial weights C(m, j) / 2^m) that contain it."""
    k = np.arange(n + m + 1)
    sign = np.where(k % 2 == 0, 1.0, -1.0)
    sign[0] = 0.5
    tail = np.cumsum((special.comb(m, np.arange(m + 1)) / 2.0**m)[::-1])[::-1]   # sum_{j >= i}
    w = np.ones(k.size)
    w[n + 1:] = tail[1:]
    return k, sign * w


def _cdf_pdf(t, lam, p, ma, ca, mb, cb, n=EULER_TERMS, m=EULER_AVERAGED, A=EULER_A):
    """F_T(t) and f_T(t) (1-D arrays, t > 0) by the Euler algorithm on the Bromwich line."""
    k, w = _weights(int(n), int(m))
    s = (A + 2j * np.pi * k[None, :]) / (2.0 * t[:, None])
    T = _pk_transform(s, lam, p, ma, ca, mb, cb)
    scale = np.exp(A / 2.0) / t
    ccdf = scale * (((1.0 - T) / s).real * w).sum(axis=1)
    pdf = scale * (T.real * w).sum(axis=1)
    return 1.0 - ccdf, pdf


def mg1_gamma_mixture_response_ppf_euler(arrival_rate, p, mean_a_s, cv_a, mean_b_s, cv_b, qs=(0.5, 0.99), *,
                                         terms: int = EULER_TERMS, averaged: int = EULER_AVERAGED,
                                         damping: float = EULER_A, iterations: int = 60):
    r"""Response-time quantiles of stable M/G/1 queues with a two-class gamma-mixture service.

    Class a (``mean_a_s``, ``cv_a``) with probability ``p``, else class b; every class present
    must have CV of at least :data:`EULER_MIN_CV`, and ``rho < 1``.  Returns one array per
    ``q`` (s).  Inputs broadcast; 1-D results.  ``terms``, ``averaged`` and ``damping`` are
    AbateWhitt1995's n, m and A (the defaults are what the library uses and measures).
    """
    lam, p, ma, ca, mb, cb, rho = _classes(arrival_rate, p, mean_a_s, cv_a, mean_b_s, cv_b, EULER_MIN_CV, "Euler")
    return _newton_ppf(lambda t, *a: _cdf_pdf(t, *a, n=terms, m=averaged, A=damping),
                       lam, p, ma, ca, mb, cb, rho, qs, iterations)
