"""Probabilistically bounded staleness: the WARS model of t-visibility (re-exported by ``staleness``).

For replicas read *without* a freshness guarantee -- etcd serializable reads at a follower,
Dynamo-style partial quorums -- how likely is a read issued ``t`` ms after a write committed to
see that write?  Bailis, Venkataraman, Franklin, Hellerstein and Stoica, "Probabilistically
Bounded Staleness for Practical Partial Quorums", PVLDB 5(8), 2012, model it with four
latencies per replica ``i`` (the WARS model):

* ``W_i``: the write's one-way trip from the coordinator to replica ``i``;
* ``A_i``: replica ``i``'s acknowledgement back;
* ``R_i``: a read request's trip to replica ``i``;
* ``S_i``: the read response's trip back.

The write commits when ``w`` acks have arrived, at :math:`c = (W_i + A_i)_{(w)}` (the w-th
smallest).  A read sent at :math:`c + t` reaches replica ``i`` at :math:`c + t + R_i`; the
coordinator returns after the first ``r`` responses (smallest :math:`R_i + S_i`).  The read is
consistent when one of those ``r`` replicas already had the write when the read arrived:

.. math::

    \\text{consistent}(t) \\iff \\min_{i \\in \\text{first } r} \\bigl(W_i - c - R_i\\bigr) \\le t .

So each Monte Carlo trial yields one threshold :math:`\\tau = \\min_i (W_i - c - R_i)` and
:math:`P(\\text{consistent at } t) = P(\\tau \\le t)`: the whole curve over ``t`` comes from
one sort.  Two closed forms check it: if ``r + w > n`` every read quorum meets the write
quorum, whose members had the write before the commit, so the probability is 1 for every
``t >= 0``; and when writes reach only the ``w`` quorum replicas before the read and the read
quorum is uniformly random, a read misses with probability
:math:`\\binom{n-w}{r} / \\binom{n}{r}` (Bailis et al., Eq. 1), and misses the last ``k``
versions with that probability to the power ``k`` (k-staleness).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.special import comb

from ._results import Result
from ._validate import as_float_array, as_int, as_int_array, as_rng, check_probability, check_shapes

__all__ = ["TVisibility", "t_visibility", "quorum_miss_probability", "k_staleness_probability"]


def _check_nrw(n, r, w):
    n = as_int_array("n", n, minimum=1)
    r = as_int_array("r", r, minimum=1)
    w = as_int_array("w", w, minimum=1)
    check_shapes(n=n, r=r, w=w)
    n_b, r_b, w_b = np.broadcast_arrays(n, r, w)
    if np.any(r_b > n_b):
        raise ValueError(f"r must be <= n; got r={r_b[r_b > n_b].tolist()} for n={n_b[r_b > n_b].tolist()}")
    if np.any(w_b > n_b):
        raise ValueError(f"w must be <= n; got w={w_b[w_b > n_b].tolist()} for n={n_b[w_b > n_b].tolist()}")
    return n, r, w


def quorum_miss_probability(n, r, w):
    """Probability that a uniformly random read quorum misses a write quorum.

    .. math:: p_s = \\binom{n-w}{r} \\Big/ \\binom{n}{r}

    (0 when ``r + w > n``).  Source: Bailis et al., PVLDB 2012, Eq. (1).

    Examples
    --------
    >>> quorum_miss_probability(3, 1, 1)       # 2 of 3 replicas lack the write
    array(0.66666667)
    >>> quorum_miss_probability([3, 3], [2, 1], [2, 1]).tolist()
    [0.0, 0.6666666666666666]
    """
    n, r, w = _check_nrw(n, r, w)
    return np.asarray(comb(n - w, r, exact=False) / comb(n, r, exact=False), dtype=float)


def k_staleness_probability(n, r, w, k):
    """Probability a read returns one of the last ``k`` committed versions.

    .. math:: P = 1 - p_s^{\\,k}, \\qquad p_s = \\binom{n-w}{r} \\Big/ \\binom{n}{r}

    Assumption (Bailis et al., Section 3.2): quorums are chosen independently and uniformly and
    writes reach only their write quorum before the read.

    >>> float(k_staleness_probability(3, 1, 1, 2))   # 1 - (2/3)^2
    0.5555555555555556
    """
    k = as_int_array("k", k, minimum=1)
    check_shapes(n=n, r=r, w=w, k=k)
    return np.asarray(1.0 - quorum_miss_probability(n, r, w) ** k, dtype=float)


@dataclass(frozen=True)
class TVisibility(Result):
    """P(a read ``t_ms`` after commit returns the write), by Monte Carlo over the WARS model.

    ``probability`` has the shape of ``t_ms``; ``standard_error`` is its binomial standard
    error.  :meth:`ppf` (alias ``t_for``) inverts the curve.
    """

    t_ms: np.ndarray
    probability: np.ndarray
    standard_error: np.ndarray
    n: int
    r: int
    w: int
    trials: int
    _thresholds_ms: np.ndarray = field(repr=False, default=None)

    def cdf(self, t_ms):
        r"""P(a read sent ``t_ms`` after the commit is consistent), for the wait :math:`T = \max(\tau, 0)`.

        The empirical CDF of the draws' thresholds: equal to ``probability`` at every
        ``t_ms >= 0`` (a read is never sent before its commit, so it is 0 for ``t_ms < 0``).
        """
        t = as_float_array("t_ms", t_ms, allow_inf=True)
        p = np.searchsorted(self._thresholds_ms, t, side="right") / self.trials
        return np.where(t < 0, 0.0, p)

    def sf(self, t_ms):
        """1 - cdf(t_ms)."""
        return 1.0 - self.cdf(t_ms)

    def mean(self):
        r"""Monte Carlo mean of the wait :math:`T = \max(\tau, 0)` (ms)."""
        return float(np.mean(np.maximum(self._thresholds_ms, 0.0)))

    def t_for(self, probability):
        """Alias of :meth:`ppf` (same values)."""
        return self.ppf(probability)

    def ppf(self, probability):
        r"""Smallest time ``t >= 0`` (ms after the commit) at which P(consistent) reaches ``probability``.

        .. math:: t(p) = \max\bigl(0, \min\{t : \hat P(\tau \le t) \ge p\}\bigr)

        A read is sent after its write commits, so a time is never negative: when the curve
        already starts at or above ``probability`` at ``t = 0`` the answer is ``0.0``
        ("consistent from the start"; :meth:`consistent_from_start` says which).  Vectorized
        over ``probability``.

        Examples
        --------
        >>> from scipy import stats
        >>> e = stats.expon(scale=10.0)
        >>> strict = t_visibility(0.0, 3, 2, 2, e, e, e, e, trials=2000, seed=1)
        >>> float(strict.t_for(0.99)), bool(strict.consistent_from_start(0.99))
        (0.0, True)
        """
        p = check_probability("probability", probability)
        return np.maximum(np.quantile(self._thresholds_ms, p, method="inverted_cdf"), 0.0)

    def consistent_from_start(self, probability):
        """Whether a read sent right at the commit (``t = 0``) is already consistent with ``probability``.

        True exactly when :meth:`ppf` returns 0; e.g. always for strict quorums (``r + w > n``).
        """
        p = check_probability("probability", probability)
        return np.asarray(np.searchsorted(self._thresholds_ms, 0.0, side="right") / self.trials >= p - 1e-12)


def _sample(name: str, dist, n: int, trials: int, rng) -> np.ndarray:
    """(trials, n) latencies from one distribution, n distributions, or a constant."""
    if isinstance(dist, (str, bytes)):
        raise ValueError(f"{name} must be a latency distribution, a list of n of them or a number of ms; got {dist!r}")
    if np.isscalar(dist) or isinstance(dist, np.ndarray) and dist.ndim == 0:
        value = as_float_array(name, dist, minimum=0.0)
        return np.full((trials, n), float(value))
    if isinstance(dist, Sequence) and not isinstance(dist, str):
        if len(dist) != n:
            raise ValueError(f"{name} must be one distribution or n={n} of them; got {len(dist)}")
        cols = [_sample(f"{name}[{i}]", d, 1, trials, rng)[:, 0] for i, d in enumerate(dist)]
        return np.stack(cols, axis=1)
    if not hasattr(dist, "rvs"):
        raise ValueError(f"{name} must be a latency distribution with rvs(size, random_state); got {dist!r}")
    x = np.asarray(dist.rvs(size=(trials, n), random_state=rng), dtype=float).reshape(trials, n)
    if not np.all(np.isfinite(x)) or np.any(x < 0):
        raise ValueError(f"{name} must produce finite latencies >= 0 ms; got min {np.nanmin(x)!r}")
    return x


def t_visibility(t_ms, n, r, w, write, ack, read, response, trials: int = 20_000, seed=None) -> TVisibility:
    """Probability that a read issued ``t_ms`` after a write commits returns it (WARS model).

    .. math::

        P(t) = P\\Bigl(\\min_{i \\in \\mathcal R} (W_i - c - R_i) \\le t\\Bigr),\\quad
        c = (W_i + A_i)_{(w)},\\quad \\mathcal R = \\text{the } r \\text{ smallest } R_i + S_i

    Vectorized Monte Carlo: ``trials`` draws of the four latency vectors, one threshold per
    draw, then the empirical CDF at every ``t_ms`` (any shape).  Assumptions: all latencies are
    independent; one write and one read (no concurrent writes); replicas apply a write as soon
    as it arrives.  Source: Bailis et al., PVLDB 2012 (see the module docstring).

    Parameters
    ----------
    t_ms : float or array
        Time between the commit and the read's start (ms); negative values are allowed.
    n, r, w : int
        Replicas, read quorum and write quorum (``1 <= r, w <= n``).
    write, ack, read, response : distribution, sequence of n distributions, or float
        Latencies in ms: anything with ``rvs(size, random_state)`` (a scipy frozen
        distribution or a ``followerlab.latency`` object), a list of ``n`` of them (replica
        ``i`` uses the i-th), or a constant.
    trials : int
        Monte Carlo draws (at most 1e8); the standard error is at most ``0.5 / sqrt(trials)``.
    seed : int or numpy.random.Generator, optional

    Returns
    -------
    TVisibility

    Examples
    --------
    With ``r + w > n`` reads are always consistent; with ``r = w = 1`` of 3 and instant writes
    the read is consistent iff it picks the one replica holding the write (a third of the time)
    -- unless it waits for the write to spread.

    >>> from scipy import stats
    >>> e = stats.expon(scale=10.0)
    >>> float(t_visibility(0.0, 3, 2, 2, e, e, e, e, trials=2000, seed=1).probability)
    1.0
    >>> p = t_visibility([0.0, 1000.0], 3, 1, 1, e, 0.0, 0.0, e, trials=20000, seed=1).probability
    >>> bool(abs(p[0] - 1 / 3) < 0.02), float(p[1])
    (True, 1.0)
    """
    t = as_float_array("t_ms", t_ms)
    n_, r_, w_ = (as_int(name, x) for name, x in zip("nrw", _check_nrw(n, r, w)))
    trials = as_int("trials", trials, minimum=1, maximum=10**8)
    rng = as_rng("seed", seed)
    W = _sample("write", write, n_, trials, rng)
    A = _sample("ack", ack, n_, trials, rng)
    R = _sample("read", read, n_, trials, rng)
    S = _sample("response", response, n_, trials, rng)
    commit = np.partition(W + A, w_ - 1, axis=1)[:, w_ - 1]
    first_r = np.argsort(R + S, axis=1, kind="stable")[:, :r_]
    slack = np.take_along_axis(W - R, first_r, axis=1) - commit[:, None]
    tau = np.sort(slack.min(axis=1))
    prob = np.searchsorted(tau, t, side="right") / trials
    se = np.sqrt(prob * (1 - prob) / trials)
    return TVisibility(t_ms=t, probability=prob, standard_error=se, n=n_, r=r_, w=w_, trials=trials,
                       _thresholds_ms=tau)
