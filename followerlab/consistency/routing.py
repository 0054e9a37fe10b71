"""Routing modes: how weak queries spread over the query heads, and the results cache.

Four weak routing modes decide which head plans a query: random, affinitized by database, by
query text (hash) and by session id (hash).  :func:`head_load_distribution` gives the law of
the hottest head's share when keys hash onto heads (:func:`hot_key_shares`,
:func:`zipf_shares` build key shares); :func:`routing_load` the per-mode head load, hottest
head, latency and results-cache effect; :func:`results_cache_hit_ratio` the TTL-cache hit
fraction.

Sources: Leibowitz2023, ADX-QueryConsistency and ADX-ResultsCache in docs/references.rst.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import queueing
from .._results import Result
from .._validate import as_float_array, as_int_array, broadcast_all, check_choice, check_probability
from ._common import _scalar

__all__ = [
    "MODES",
    "ROUTING_MODES",
    "HeadLoadDistribution",
    "RoutingLoad",
    "hot_key_shares",
    "zipf_shares",
    "head_load_distribution",
    "routing_load",
    "results_cache_hit_ratio",
]

#: Routing modes used by the load functions: ``strong`` (the admin node) and the four weak ones.
MODES = ("strong", "random", "by_database", "by_query", "by_session")
#: The weak routing modes.
ROUTING_MODES = MODES[1:]


def _check_shares(shares) -> np.ndarray:
    p = as_float_array("shares", shares, minimum=0.0)
    if p.ndim != 1 or p.size == 0:
        raise ValueError(f"shares must be a non-empty 1-D sequence of key shares; got shape {p.shape}")
    if abs(p.sum() - 1.0) > 1e-9:
        raise ValueError(f"shares must sum to 1; got sum {p.sum()!r}")
    return p


def hot_key_shares(keys=10, hot_share=0.7) -> np.ndarray:
    """Query shares of ``keys`` databases, one taking ``hot_share`` and the rest splitting evenly.

    Leibowitz2023's example of imbalance: "70% of queries are run in the context of a specific
    database".  The number of other databases is *assumed* (default 9).

    References
    ----------
    Leibowitz2023 in docs/references.rst (its example of imbalance: 70 % of the queries in the
    context of one database).

    Examples
    --------
    >>> hot_key_shares(4, 0.7).round(3)
    array([0.7, 0.1, 0.1, 0.1])
    """
    k = int(_scalar("keys", as_int_array("keys", keys, minimum=1)))
    hot = float(_scalar("hot_share", check_probability("hot_share", hot_share)))
    if k == 1:
        if hot != 1.0:
            raise ValueError(f"hot_share must be 1 when keys is 1; got {hot!r}")
        return np.array([1.0])
    return np.concatenate([[hot], np.full(k - 1, (1.0 - hot) / (k - 1))])


def zipf_shares(keys=10, exponent=1.0) -> np.ndarray:
    r"""Zipf shares :math:`p_k \propto k^{-s}`, k = 1..K (``exponent`` s >= 0; 0 is uniform).

    References
    ----------
    Breslau1999 in docs/references.rst (Zipf-like popularity of requested items, exponent
    varying between workloads).

    Examples
    --------
    >>> zipf_shares(3, 1.0).round(4)
    array([0.5455, 0.2727, 0.1818])
    """
    k = int(_scalar("keys", as_int_array("keys", keys, minimum=1)))
    s = float(_scalar("exponent", as_float_array("exponent", exponent, minimum=0.0)))
    w = np.arange(1, k + 1, dtype=float) ** (-s)
    return w / w.sum()


@dataclass(frozen=True)
class HeadLoadDistribution(Result):
    """Distribution of the hottest head's share of the queries when keys are hashed onto heads.

    Attributes
    ----------
    values : ndarray
        Possible values of the maximum per-head share (sorted).
    probabilities : ndarray
        Their probabilities (sum to 1).
    heads : int
    method : str
        ``"exact"`` (dynamic programme) or ``"monte_carlo"``.
    samples : int
        Hash draws (Monte Carlo) or final load states (exact).
    mean : float
        E[max share].
    mean_standard_error : float
        0 for exact; the Monte Carlo standard error of ``mean`` otherwise.

    References
    ----------
    Leibowitz2023 and ADX-QueryConsistency in docs/references.rst (affinitized routing by
    database or by session id hashes each key onto one head).
    """

    values: np.ndarray
    probabilities: np.ndarray
    heads: int
    method: str
    samples: int
    mean: float
    mean_standard_error: float

    def sf(self, x):
        """P(max share >= x), vectorized over ``x`` (x compared with a 1e-9 relative tolerance)."""
        x = np.asarray(x, dtype=float)
        cum_ge = np.concatenate([np.cumsum(self.probabilities[::-1])[::-1], [0.0]])
        # the tolerance only for finite x: x = inf (an idle head's saturation threshold) stays inf
        shifted = np.subtract(x, 1e-9 * np.maximum(1.0, np.abs(x)), out=x.copy(), where=np.isfinite(x))
        idx = np.searchsorted(self.values, shifted, side="left")
        return cum_ge[idx]

    def cdf(self, x):
        """P(max share <= x), vectorized over ``x`` (x compared with a 1e-9 relative tolerance).

        ``sf`` keeps its historical meaning P(max share >= x) (a head saturates when its share
        reaches the threshold), so ``sf(x) == 1 - cdf(x)`` holds between the atoms ``values``
        and differs from it by P(max share = x) at an atom.
        """
        x = np.asarray(x, dtype=float)
        cum_le = np.concatenate([[0.0], np.cumsum(self.probabilities)])
        shifted = np.add(x, 1e-9 * np.maximum(1.0, np.abs(x)), out=x.copy(), where=np.isfinite(x))
        idx = np.searchsorted(self.values, shifted, side="right")
        return np.minimum(cum_le[idx], 1.0)

    def quantile(self, q):
        """Alias of :meth:`ppf` (same values)."""
        return self.ppf(q)

    def ppf(self, q):
        """Smallest value v with P(max share <= v) >= q."""
        q = check_probability("q", q)
        cdf = np.cumsum(self.probabilities)
        idx = np.minimum(np.searchsorted(cdf, q - 1e-12, side="left"), len(self.values) - 1)
        return self.values[idx]

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"max_share": self.values, "probability": self.probabilities})


def _max_share_dp(p, h, limit):
    """Exact law of the max head load (DP over sorted load vectors); None if > ``limit`` states."""
    states = {(0.0,) * h: 1.0}
    for share in p:
        nxt: dict = {}
        for loads, prob in states.items():
            seen = {}
            for v in loads:
                seen[v] = seen.get(v, 0) + 1
            for v, mult in seen.items():
                lst = list(loads)
                lst[lst.index(v)] = round(v + share, 12)
                key = tuple(sorted(lst, reverse=True))
                nxt[key] = nxt.get(key, 0.0) + prob * mult / h
        states = nxt
        if len(states) > limit:
            return None
    maxima: dict = {}
    for loads, prob in states.items():
        maxima[loads[0]] = maxima.get(loads[0], 0.0) + prob
    vals = np.array(sorted(maxima))
    probs = np.array([maxima[v] for v in vals])
    return vals, probs / probs.sum(), len(states)


def head_load_distribution(shares, heads, *, method="auto", samples=20000, seed=0,
                           max_states=5000) -> HeadLoadDistribution:
    r"""Distribution of the hottest head's query share when keys hash onto ``heads`` heads.

    Each key k (a database, or a session id) carries a share :math:`p_k` of the queries and is
    hashed independently and uniformly onto one of H heads (*assumed*: an ideal hash).  Head j
    gets :math:`L_j = \sum_k p_k 1[h(k)=j]`; this returns the law of :math:`M = \max_j L_j`.

    Two facts serve as checks: :math:`E[L_j] = 1/H`, and the head that holds key k carries in
    expectation :math:`p_k + (1-p_k)/H` (the key itself plus each other key w.p. 1/H), so
    :math:`E[M] \ge \max_k p_k + (1-\max_k p_k)/H`, with equality when
    :math:`\max_k p_k \ge 1/2` (no other head can then outweigh the one holding that key: the
    Leibowitz2023's "70% on one database" case, where :math:`E[M] = 0.7 + 0.3/H` exactly).

    Notes
    -----
    ``exact``: a dynamic programme over keys whose state is the *sorted* vector of head loads
    (M and the law of the remaining assignments are invariant under relabelling heads).  Adding
    a key of share p to a state whose loads take distinct values :math:`v` with multiplicities
    :math:`m_v` leads to "one head at v becomes v + p" with probability :math:`m_v/H`; equal
    states (loads rounded to 1e-12) merge.  Keys with equal shares (the hot-key mix, uniform
    tails) keep the state count small; in the worst case it is the number of set partitions of
    the keys into at most H blocks.  ``auto`` uses it when :math:`H^{K-1}` is at most
    ``max_states`` (default 5000) or the shares take at most 3 distinct values, as long as the
    state count stays within ``max_states``; otherwise
    ``monte_carlo``: ``samples`` independent hash draws (``seed``); the standard error of the
    mean is reported.  The tests check the DP against brute-force enumeration of all
    :math:`H^K` assignments, against the closed form above, the Monte Carlo against the DP, and
    both against a routed simulation.

    Parameters
    ----------
    shares : sequence of float
        Key shares, >= 0, summing to 1 (:func:`hot_key_shares`, :func:`zipf_shares`).
    heads : int
        Number of heads H >= 1.
    method : {"auto", "exact", "monte_carlo"}
    samples : int
        Monte Carlo draws.
    seed : int or numpy.random.Generator
    max_states : int
        State budget of the exact method.

    References
    ----------
    Leibowitz2023 and ADX-QueryConsistency in docs/references.rst (affinitized routing by
    database or by session id hashes each key onto one head; the 70 %-on-one-database example).
    The law of the maximum is derived above; the tests check it by brute-force enumeration.

    Examples
    --------
    >>> d = head_load_distribution([0.5, 0.5], 2)      # both keys on one head w.p. 1/2
    >>> d.values, d.probabilities
    (array([0.5, 1. ]), array([0.5, 0.5]))
    >>> round(head_load_distribution(hot_key_shares(10, 0.7), 3).mean, 6)   # = 0.7 + 0.3/3
    0.8
    """
    p = _check_shares(shares)
    h = int(_scalar("heads", as_int_array("heads", heads, minimum=1)))
    method = check_choice("method", method, ["auto", "exact", "monte_carlo"])
    p = np.sort(p)[::-1]
    limit = int(_scalar("max_states", as_int_array("max_states", max_states, minimum=1)))
    # auto: the programme surely fits when H^(K-1) <= max_states; with few distinct shares (a
    # hot key and an even tail) it stays small; with many distinct shares (Zipf over many keys)
    # it grows like the set partitions, so go straight to Monte Carlo
    few_distinct = np.unique(np.round(p, 12)).size <= 3
    try_dp = method == "exact" or (method == "auto" and (p.size <= 1 or h ** (p.size - 1) <= limit or few_distinct))
    if try_dp:
        dist = _max_share_dp(p, h, limit)
        if dist is not None:
            vals, probs, n_states = dist
            return HeadLoadDistribution(vals, probs, h, "exact", n_states, float(np.sum(vals * probs)), 0.0)
        if method == "exact":
            raise ValueError(f"method='exact' needs more than max_states={limit} load states for "
                             f"{p.size} keys on {h} heads; use method='monte_carlo' or raise max_states")
    n = int(_scalar("samples", as_int_array("samples", samples, minimum=1)))
    k = p.size
    rng = np.random.default_rng(seed)
    mx = np.empty(n)
    chunk = max(1, (1 << 22) // max(k, 1))
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        assign = rng.integers(0, h, size=(m, k))
        flat = (np.arange(m)[:, None] * h + assign).ravel()
        loads = np.bincount(flat, weights=np.tile(p, m), minlength=m * h).reshape(m, h)
        mx[start:start + m] = loads.max(axis=1)
    mx = np.round(mx, 12)
    vals, counts = np.unique(mx, return_counts=True)
    probs = counts / n
    se = float(mx.std(ddof=1) / math.sqrt(n)) if n > 1 else float("inf")
    return HeadLoadDistribution(vals, probs, h, "monte_carlo", n, float(mx.mean()), se)


def results_cache_hit_ratio(rate_per_s, max_age_s):
    r"""Hit fraction of a TTL results cache fed by one query repeating as a Poisson stream.

    .. math::

        h(\lambda, T) = \frac{\lambda T}{1 + \lambda T}

    Derivation (renewal argument): a miss at time 0 executes the query and stores its result,
    valid until T.  Every request in (0, T] is a hit — Poisson, so :math:`\lambda T` of them on
    average.  The first request after T is a miss and, by memorylessness, starts an identical,
    independent cycle.  Each cycle holds one miss and on average :math:`\lambda T` hits, so by
    the renewal-reward theorem the long-run hit fraction is :math:`\lambda T/(1+\lambda T)`.

    Parameters
    ----------
    rate_per_s : array_like
        Rate λ at which the *same* query (text, database, request properties) reaches the
        node holding the cache, >= 0.  With random routing over H heads each head sees λ/H.
    max_age_s : array_like
        ``query_results_cache_max_age`` T, >= 0.

    Returns
    -------
    ndarray
        Hit fraction in [0, 1).

    Notes
    -----
    Assumes the 1 GB per-node LRU never evicts the entry within T and the underlying data is
    unchanged.  Source: ADX-ResultsCache and Jung2003 in docs/references.rst (query results cache: per node, needs identical text,
    database and request properties).  Checked against a simulated cache in the tests.

    References
    ----------
    ADX-ResultsCache (the per-node query results cache and its max age) and Jung2003 (hit ratio
    of a TTL cache under Poisson requests) in docs/references.rst.

    Examples
    --------
    >>> results_cache_hit_ratio([0.1, 0.1 / 3], 60.0).round(4)   # by query vs random over 3 heads
    array([0.8571, 0.6667])
    """
    lam = as_float_array("rate_per_s", rate_per_s, minimum=0.0)
    t = as_float_array("max_age_s", max_age_s, minimum=0.0)
    x = lam * t
    return x / (1.0 + x)


@dataclass(frozen=True)
class RoutingLoad(Result):
    """Per-mode head load, hottest head, latency and results-cache effect.

    Fields broadcast over the rate arrays; ``mode`` is a string.

    References
    ----------
    Leibowitz2023 and ADX-QueryConsistency (the four weak routing modes), ADX-ResultsCache and
    Jung2003 (results-cache hits), Allen1990 and Kleinrock1975 (the G/G/c head queue) in
    docs/references.rst.
    """

    mode: str
    heads: np.ndarray
    query_rate_per_s: np.ndarray
    cache_hit_ratio: np.ndarray
    executed_rate_per_s: np.ndarray
    executed_savings: np.ndarray
    mean_head_utilization: np.ndarray
    hottest_head_share: np.ndarray
    hottest_head_share_p99: np.ndarray
    hottest_head_utilization: np.ndarray
    p_hottest_saturates: np.ndarray
    head_p50_response_s: np.ndarray
    head_p99_response_s: np.ndarray
    hottest_head_p50_response_s: np.ndarray
    hottest_head_p99_response_s: np.ndarray

    def to_frame(self) -> pd.DataFrame:
        frame = super().to_frame()
        frame.insert(0, "mode", self.mode)
        return frame


def routing_load(
    query_rate_per_s,
    heads,
    mode="random",
    shares=None,
    *,
    planning_s=0.05,
    planning_cv=1.0,
    head_cores=1,
    repeat_rate_per_s=0.0,
    cache_max_age_s=0.0,
    repeat_fraction=1.0,
    samples=20000,
    seed=0,
) -> RoutingLoad:
    r"""Head load, hottest head, p99 latency and results-cache hits for one weak routing mode.

    Queries arrive as a Poisson stream of rate λ (the weak share only).  Each is planned on one
    head, a G/G/c station (:func:`followerlab.queueing.ggc`; Poisson arrivals stay Poisson under
    hashing/random splitting).

    * ``random`` and ``by_query``: many distinct query texts spread the load evenly, each head
      gets :math:`\lambda/H`.
    * ``by_database`` / ``by_session``: the keys with ``shares`` :math:`p_k` are hashed onto
      heads; the hottest head gets :math:`M\lambda` with M from :func:`head_load_distribution`;
      ``hottest_head_share`` is :math:`E[M]`, ``hottest_head_share_p99`` its 99th percentile
      over hash draws (an unlucky hash), ``p_hottest_saturates`` is
      :math:`P(M \lambda s / c \ge 1)`.  The worst case is always 1 (every key on one head,
      probability :math:`H^{-(K-1)}`).
    * Results cache (``cache_max_age_s`` T > 0): a fraction f (``repeat_fraction``) of the
      queries belong to texts that each repeat at ``repeat_rate_per_s`` r from one identity (the
      rest are unique and always miss); the hit ratio is f times the per-text value below.  Under affinity (by query; by
      database and by session, which also pin a given text from one session to one head) each
      text's repeats reach one head: hit :math:`h(r, T)`; with random routing each head sees
      :math:`r/H`: hit :math:`h(r/H, T)` (:func:`results_cache_hit_ratio`).  Hits are *assumed*
      free; heads plan only the executed queries :math:`\lambda(1-h)`.

    Parameters
    ----------
    query_rate_per_s : array_like
        Weak query rate λ, >= 0.
    heads : int
        Number of heads H (scalar: the hash distribution depends on it).
    mode : {"random", "by_database", "by_query", "by_session"}
    shares : sequence of float, optional
        Key shares for ``by_database`` / ``by_session`` (required there).
    planning_s, planning_cv, head_cores : array_like
        Per-query planning time (mean, CV) and planning slots per head (*assumed* defaults).
    repeat_rate_per_s, cache_max_age_s, repeat_fraction : array_like
        Results-cache inputs (a max age of 0 disables the cache; ``repeat_fraction`` in 0..1).
    samples, seed :
        Passed to :func:`head_load_distribution` when it needs Monte Carlo.

    Returns
    -------
    RoutingLoad
        ``hottest_head_p50/p99_response_s`` are quantiles at a head carrying the expected
        hottest share; ``head_p50/p99_response_s`` at a head with the even share.

    References
    ----------
    Leibowitz2023 and ADX-QueryConsistency (the four weak routing modes and what each pins to
    one head), ADX-ResultsCache and Jung2003 (results-cache hits), Allen1990 and Kleinrock1975
    (the G/G/c head queue of :func:`followerlab.queueing.ggc`) in docs/references.rst.

    Examples
    --------
    >>> r = routing_load(30.0, 3, "by_database", shares=hot_key_shares(10, 0.7), planning_s=0.05)
    >>> float(r.mean_head_utilization), round(float(r.hottest_head_utilization), 3)
    (0.5, 1.2)
    >>> float(r.p_hottest_saturates)
    1.0
    """
    mode = check_choice("mode", mode, ROUTING_MODES)
    lam = as_float_array("query_rate_per_s", query_rate_per_s, minimum=0.0)
    h = int(_scalar("heads", as_int_array("heads", heads, minimum=1)))
    sq = as_float_array("planning_s", planning_s, minimum=0.0, strict_minimum=True)
    cq = as_float_array("planning_cv", planning_cv, minimum=0.0)
    kc = as_int_array("head_cores", head_cores, minimum=1)
    r = as_float_array("repeat_rate_per_s", repeat_rate_per_s, minimum=0.0)
    t = as_float_array("cache_max_age_s", cache_max_age_s, minimum=0.0)
    f = check_probability("repeat_fraction", repeat_fraction)

    if mode in ("by_database", "by_session"):
        if shares is None:
            raise ValueError(f"shares is required for mode {mode!r} (the query share of each key)")
        dist = head_load_distribution(shares, h, samples=samples, seed=seed)
    else:
        if shares is not None:
            _check_shares(shares)
        dist = HeadLoadDistribution(np.array([1.0 / h]), np.array([1.0]), h, "exact", 1, 1.0 / h, 0.0)

    hit = f * results_cache_hit_ratio(r / h if mode == "random" else r, t)
    executed = lam * (1.0 - hit)
    mean_util = executed * sq / (h * kc)
    hottest_util = executed * dist.mean * sq / kc
    with np.errstate(divide="ignore"):
        threshold = np.where(executed > 0, kc / np.where(executed > 0, executed * sq, 1.0), np.inf)
    p_sat = dist.sf(threshold)
    even = queueing.ggc(executed / h, 1.0 / sq, kc, 1.0, cq)
    hot = queueing.ggc(executed * dist.mean, 1.0 / sq, kc, 1.0, cq)
    with np.errstate(invalid="ignore", divide="ignore"):
        savings = np.where(lam > 0, 1.0 - executed / np.where(lam > 0, lam, 1.0), hit)
    # every input reaches at least one field (lam, f, r, t through hit; sq, cq, kc through the
    # queues), so the fields' common shape is the inputs'
    fields = dict(
        heads=h,
        query_rate_per_s=lam,
        cache_hit_ratio=hit,
        executed_rate_per_s=executed,
        executed_savings=savings,
        mean_head_utilization=mean_util,
        hottest_head_share=float(dist.mean),
        hottest_head_share_p99=float(dist.ppf(0.99)),
        hottest_head_utilization=hottest_util,
        p_hottest_saturates=p_sat,
        head_p50_response_s=even.response_quantile(0.5),
        head_p99_response_s=even.response_quantile(0.99),
        hottest_head_p50_response_s=hot.response_quantile(0.5),
        hottest_head_p99_response_s=hot.response_quantile(0.99),
    )
    return RoutingLoad(mode=mode, **dict(zip(fields, broadcast_all(*fields.values()))))
