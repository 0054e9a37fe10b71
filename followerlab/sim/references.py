"""Exact reference laws, written independently of the models they check.

The tests and the accuracy benchmarks hold the exact queueing methods (``followerlab._mg1``,
``followerlab._mdc``, ``raft.write_load``) against these closed forms. They are slow (decimal
arithmetic, one point per call) and only meant for checking.

References
----------
Franx2001 in docs/references.rst: the M/D/c waiting-time law; Erlang's M/D/1 formula used here
is its c = 1 case.
"""
from __future__ import annotations

import math
from decimal import Decimal, localcontext

__all__ = ["md1_wait_cdf", "md1_wait_ppf"]


def md1_wait_cdf(t: float, rho: float, service: float = 1.0, *, digits: int = 80) -> float:
    """P(W <= t) of the M/D/1 queue by Erlang's formula, in ``digits``-digit decimal arithmetic.

    .. math:: P(W \\le t) = (1-\\rho) \\sum_{k=0}^{\\lfloor t/D \\rfloor}
              \\frac{(\\lambda(kD-t))^k}{k!} e^{-\\lambda(kD - t)},\\qquad \\lambda = \\rho / D.

    The alternating sum cancels catastrophically in doubles; 60–80 digits are plenty for the
    ranges the tests use (t/D up to a few hundred).

    Parameters
    ----------
    t : float
        Waiting time, in the unit of ``service``.
    rho : float
        Utilization, 0 <= rho < 1.
    service : float
        The deterministic service time D.
    digits : int
        Decimal precision.

    Examples
    --------
    >>> round(md1_wait_cdf(0.0, 0.5), 12)   # P(W = 0) = 1 - rho
    0.5
    >>> round(md1_wait_cdf(1.0, 0.5), 6)    # (1 - rho) e^{rho}
    0.824361
    """
    if not 0.0 <= rho < 1.0:
        raise ValueError(f"rho must be in [0, 1), got {rho!r}")
    if not service > 0.0:
        raise ValueError(f"service must be > 0, got {service!r}")
    if t < 0.0:
        return 0.0
    with localcontext() as ctx:
        ctx.prec = digits
        rho_d, d_d, t_d = Decimal(repr(float(rho))), Decimal(repr(float(service))), Decimal(repr(float(t)))
        lam = rho_d / d_d
        total, fact = Decimal(0), Decimal(1)
        for k in range(int(math.floor(t / service)) + 1):
            if k:
                fact *= k
            x = lam * (k * d_d - t_d)
            total += (x**k if k else Decimal(1)) / fact * (-x).exp()
        return float((1 - rho_d) * total)


def md1_wait_ppf(q: float, rho: float, service: float = 1.0, *, digits: int = 80) -> float:
    """The q-quantile of the M/D/1 waiting time: bisection on :func:`md1_wait_cdf` (45 halvings).

    Examples
    --------
    >>> md1_wait_ppf(0.3, 0.5)              # below P(W = 0) = 0.5 the quantile is 0
    0.0
    >>> abs(md1_wait_cdf(md1_wait_ppf(0.99, 0.8), 0.8) - 0.99) < 1e-9
    True
    """
    if q <= md1_wait_cdf(0.0, rho, service, digits=digits):
        return 0.0
    lo, hi = 0.0, service
    while md1_wait_cdf(hi, rho, service, digits=digits) < q:
        lo, hi = hi, 2 * hi
    for _ in range(45):
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if md1_wait_cdf(mid, rho, service, digits=digits) >= q else (mid, hi)
    return hi
