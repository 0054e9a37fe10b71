"""Kusto query consistency: the database admin node, weakly consistent query heads, routing.

Under *strong* consistency (the default) every query's planning and finalization runs on the
single **database admin node**, which also executes every control command and commits metadata
changes.  Under *weak* consistency the planning moves to **query heads** — 20% of the nodes by
default, at least 2 and at most 30 — whose copy of the database metadata is refreshed every
``RefreshPeriodInSeconds`` (120 s by default), so their queries may miss the last minutes of
data.  Four weak routing modes decide which head a query goes to: random, affinitized by
database, by query text (hash) and by session id (hash).

This module gives, vectorized over numpy arrays:

* :func:`query_head_count` — how many heads a policy yields (and whether they hold data);
* :func:`admin_node_load` — strong vs weak load on the admin node and on the heads;
* :func:`head_load_distribution` / :func:`routing_load` — per-mode head load, hottest head,
  p99 latency, results-cache hits and executed-query savings;
* :func:`results_cache_hit_ratio` — the TTL-cache hit fraction λT/(1+λT);
* :func:`weak_staleness`, :func:`records_missed` — how stale a head is and what a query over
  the last X minutes misses;
* :func:`monotonic_read_violation_probability` — a session's next query seeing *older* metadata;
* :func:`refresh_cost` — the storage load and failure odds of metadata refreshes;
* :func:`resolve_consistency` — the effective mode from request properties and policies;
* :func:`advise` — a small table: which mode and how many heads meet a staleness tolerance and
  an admin-utilization ceiling.

Sources (entries of docs/references.rst): Leibowitz2023 ("Query consistency", 2023),
ADX-QueryConsistency, ADX-WeakConsistencyPolicy, ADX-QueryConsistencyPolicy and ADX-ResultsCache.  Queue formulas come from
:mod:`followerlab.queueing`; the periodic-refresh age from :mod:`followerlab.staleness`.  The
independent simulation is :mod:`followerlab.sim.consistency`.

>>> int(query_head_count(15).heads)      # the product team's example: 15 nodes -> 3 heads
3
>>> float(results_cache_hit_ratio(1.0, 60.0))   # a query repeating every second, 60 s max age
0.9836065573770492
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import _tabulate
from ._results import Result
from ._validate import as_float_array, as_int_array, check_choice, check_probability, did_you_mean, broadcast_all

__all__ = [
    "MODES",
    "ROUTING_MODES",
    "POLICY_VALUES",
    "REQUEST_VALUES",
    "QueryHeads",
    "AdminLoad",
    "HeadLoadDistribution",
    "RoutingLoad",
    "WeakStaleness",
    "MissedRecords",
    "RefreshCost",
    "ConsistencyResolution",
    "Advice",
    "query_head_count",
    "admin_node_load",
    "hot_key_shares",
    "zipf_shares",
    "head_load_distribution",
    "routing_load",
    "results_cache_hit_ratio",
    "weak_staleness",
    "records_missed",
    "monotonic_read_violation_probability",
    "refresh_cost",
    "resolve_consistency",
    "advise",
]

#: Routing modes used by the load functions: ``strong`` (the admin node) and the four weak ones.
MODES = ("strong", "random", "by_database", "by_query", "by_session")
#: The weak routing modes.
ROUTING_MODES = MODES[1:]
#: Workload-group ``QueryConsistencyPolicy.QueryConsistency.Value`` -> routing mode.
POLICY_VALUES = {
    "Strong": "strong",
    "Weak": "random",
    "WeakAffinitizedByDatabase": "by_database",
    "WeakAffinitizedByQuery": "by_query",
    "WeakAffinitizedBySessionId": "by_session",
}
#: Client request property ``queryconsistency`` value -> policy value.  The two old names are
#: mapped by their wording (*assumed*: ``affinitizedweakconsistency`` is affinity by query text,
#: the first affinitized mode; ``databaseaffinitizedweakconsistency`` is affinity by database).
REQUEST_VALUES = {
    "strongconsistency": "Strong",
    "weakconsistency": "Weak",
    "weakconsistency_by_database": "WeakAffinitizedByDatabase",
    "weakconsistency_by_query": "WeakAffinitizedByQuery",
    "weakconsistency_by_session_id": "WeakAffinitizedBySessionId",
    "affinitizedweakconsistency": "WeakAffinitizedByQuery",
    "databaseaffinitizedweakconsistency": "WeakAffinitizedByDatabase",
}
_MODE_TO_POLICY = {v: k for k, v in POLICY_VALUES.items()}
#: Lattice points of the exact M/G/1 quantiles in :func:`admin_node_load` (quantile error
#: below 3e-6 relative against the exact M/M/1 and M/D/1 laws at this size; 4x cheaper than
#: the default 2**14).
_MG1_POINTS = 2**12


def _scalar(name: str, arr: np.ndarray) -> np.ndarray:
    """``arr`` if it holds a single value; else a ValueError naming the parameter (scalars only)."""
    if np.ndim(arr) != 0:
        raise ValueError(f"{name} must be a single value, not an array; got shape {np.shape(arr)}")
    return arr


# --------------------------------------------------------------------------------------------
# 1. Query heads
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class QueryHeads(Result):
    """Number of weakly consistent query heads a policy yields.

    Attributes
    ----------
    nodes : ndarray of int
        Cluster size.
    heads : ndarray of int
        Query heads, ``min(clamp(ceil(pct/100 * nodes), minimum, maximum), nodes)``.
    data_nodes : ndarray of int
        Nodes that hold data: all of them, or ``nodes - heads`` above the super-slacker threshold.
    heads_hold_data : ndarray of bool
        False when the cluster is above ``super_slacker_threshold`` (heads only plan queries).
    """

    nodes: np.ndarray
    heads: np.ndarray
    data_nodes: np.ndarray
    heads_hold_data: np.ndarray


def query_head_count(nodes, percentage=20, minimum=2, maximum=30, super_slacker_threshold=None) -> QueryHeads:
    r"""Query heads under the cluster policy ``query_weak_consistency``.

    .. math::

        H = \min\bigl(\max(\min(\lceil p N / 100 \rceil, H_{max}), H_{min}),\ N\bigr)

    Parameters
    ----------
    nodes : array_like of int
        Nodes in the cluster, >= 1.
    percentage : array_like, default 20
        ``PercentageOfNodes``, 1..100.
    minimum, maximum : array_like of int, default 2, 30
        ``MinimumNumberOfNodes`` and ``MaximumNumberOfNodes``; ``1 <= minimum <= maximum``.
    super_slacker_threshold : array_like of int or None
        ``SuperSlackerNumberOfNodesThreshold``: above this cluster size heads hold no data.
        None (the default) means never.

    Returns
    -------
    QueryHeads

    Notes
    -----
    Source: ADX-WeakConsistencyPolicy in docs/references.rst (defaults 20%, 2, 30; 15 nodes give 3 heads).
    How a fractional count rounds is not published: **assumed** round up, then clamp to
    ``[minimum, maximum]``; a cluster cannot have more heads than nodes (*assumed* cap).  The
    product's example (15 nodes -> 3 heads) is consistent with this rule (20% of 15 is exactly 3).

    Examples
    --------
    >>> query_head_count([1, 5, 15, 16, 200]).heads
    array([ 1,  2,  3,  4, 30])
    >>> query_head_count(100, super_slacker_threshold=50).data_nodes
    array(80)
    """
    n = as_int_array("nodes", nodes, minimum=1)
    pct = as_float_array("percentage", percentage, minimum=1.0, maximum=100.0)
    lo = as_int_array("minimum", minimum, minimum=1)
    hi = as_int_array("maximum", maximum, minimum=1)
    bad = lo > hi
    if np.any(bad):
        lo_b, hi_b = np.broadcast_arrays(lo, hi)
        raise ValueError(f"minimum must be <= maximum; got minimum={lo_b[bad].tolist()} > maximum={hi_b[bad].tolist()}")
    # ceil with a guard against binary round-off (e.g. 7 * 100 / 100 computed as 7.000000001)
    raw = np.ceil(pct * n / 100.0 - 1e-9).astype(np.int64)
    heads = np.minimum(np.clip(raw, lo, hi), n)
    if super_slacker_threshold is None:
        hold = np.ones_like(heads, dtype=bool)
    else:
        thr = as_int_array("super_slacker_threshold", super_slacker_threshold, minimum=1)
        hold = np.broadcast_to(n <= thr, heads.shape).copy()
    n_b = np.broadcast_to(n, heads.shape)
    data_nodes = np.where(hold, n_b, n_b - heads)
    return QueryHeads(nodes=np.asarray(n_b), heads=heads, data_nodes=np.asarray(data_nodes), heads_hold_data=hold)


# --------------------------------------------------------------------------------------------
# 2. Admin node load
# --------------------------------------------------------------------------------------------
def _mixture_service(rate_a, mean_a, cv_a, rate_b, mean_b, cv_b):
    """Mean and CV of the service time of a merged stream (class a w.p. ∝ rate_a)."""
    total = rate_a + rate_b
    with np.errstate(invalid="ignore", divide="ignore"):
        pa = np.where(total > 0, rate_a / np.where(total > 0, total, 1.0), 1.0)
    pb = 1.0 - pa
    mean = pa * mean_a + pb * mean_b
    second = pa * mean_a**2 * (1 + cv_a**2) + pb * mean_b**2 * (1 + cv_b**2)
    with np.errstate(invalid="ignore", divide="ignore"):
        cv2 = np.where(mean > 0, second / np.where(mean > 0, mean, 1.0) ** 2 - 1.0, 0.0)
    return mean, np.sqrt(np.maximum(cv2, 0.0))


@dataclass(frozen=True)
class AdminLoad(Result):
    """Load on the database admin node and on the query heads (even split) for one workload.

    All fields broadcast to the shape of the inputs.  Times are seconds at the station
    (queueing + service); ``inf`` when the station is saturated.

    ``admin_quantiles_exact`` / ``head_quantiles_exact`` say, per configuration, how the
    p50/p99 fields were obtained: True — the exact M/G/1 law of the actual (mixture) service
    (:mod:`followerlab._mg1`, one core; numerical error below 1e-5 relative); False — the G/G/c
    approximation of :func:`followerlab.queueing.ggc` (more than one core), see
    :func:`admin_node_load` for its measured error.

    ``admin_method`` / ``head_method`` and ``admin_max_rel_error`` / ``head_max_rel_error``
    say it in the vocabulary of :class:`followerlab.queueing.QueueMetrics`: ``"exact"``,
    ``"exact: tabulated"`` (the exact one-core law interpolated from a table,
    :mod:`followerlab._tabulate`; ``max_rel_error`` is the interpolation error measured over
    the table's domain) or ggc's method with its measured bound.
    """

    query_rate_per_s: np.ndarray
    weak_fraction: np.ndarray
    heads: np.ndarray
    admin_arrival_rate_per_s: np.ndarray
    admin_utilization: np.ndarray
    admin_stable: np.ndarray
    admin_mean_response_s: np.ndarray
    admin_p50_response_s: np.ndarray
    admin_p99_response_s: np.ndarray
    saturation_query_rate_per_s: np.ndarray
    head_arrival_rate_per_s: np.ndarray
    head_utilization: np.ndarray
    head_stable: np.ndarray
    head_mean_response_s: np.ndarray
    head_p50_response_s: np.ndarray
    head_p99_response_s: np.ndarray
    admin_quantiles_exact: np.ndarray
    head_quantiles_exact: np.ndarray
    admin_method: np.ndarray = None  # type: ignore[assignment]
    admin_max_rel_error: np.ndarray = None  # type: ignore[assignment]
    head_method: np.ndarray = None  # type: ignore[assignment]
    head_max_rel_error: np.ndarray = None  # type: ignore[assignment]


def admin_node_load(
    query_rate_per_s,
    weak_fraction=0.0,
    planning_s=0.05,
    planning_cv=1.0,
    control_rate_per_s=0.0,
    control_s=0.2,
    control_cv=1.0,
    admin_cores=1,
    heads=3,
    head_cores=None,
) -> AdminLoad:
    r"""Strong vs weak: utilization, mean and p99 time at the admin node, and on the heads.

    The admin node receives the strong queries (planning + finalization, mean
    :math:`s_q`, CV :math:`c_q`) and *all* control commands (mean :math:`s_c`, CV :math:`c_c`):

    .. math::

        \lambda_A = (1-w)\lambda + \lambda_c,\qquad
        \rho_A = \frac{(1-w)\lambda s_q + \lambda_c s_c}{k_A},\qquad
        \lambda^{*} = \frac{k_A - \lambda_c s_c}{(1-w) s_q}

    (:math:`\lambda^*` the query rate at which it saturates; ``inf`` for ``w = 1``, 0 when the
    control commands alone saturate it).  Its service time is the two-class mixture: planning
    (gamma, mean :math:`s_q`, CV :math:`c_q`) with probability :math:`p = (1-w)\lambda/\lambda_A`,
    a control command (gamma, :math:`s_c`, :math:`c_c`) otherwise; CV 0 is a constant.  Mean
    :math:`\bar s = \sum p_i s_i`, :math:`E[S^2] = \sum p_i s_i^2 (1 + c_i^2)`.

    How the numbers are obtained, per configuration:

    * **one admin core** (``admin_cores == 1``): an M/G/1 queue.  The mean is
      Pollaczek–Khinchine (exact); p50 and p99 of the response time come from the *exact*
      waiting-time law of that mixture service (:func:`followerlab._mg1.mg1_gamma_mixture`:
      Beneš series on a lattice, numerical error below 1e-5 relative, checked against Erlang's
      M/D/1 law and long simulations).  ``admin_quantiles_exact`` is True.  (Before, the
      mixture was replaced by one gamma with the mixture's CV and the conditional wait by an
      exponential: with rare long control commands p50 came out up to ~4x too high and p99
      ~30 % too low; in the benchmark case below p50 47 % and p99 27 % off, against ≤ 1 % now.)  When the service is exponential (every class present has CV 1 and the
      same mean) the queue is M/M/1 and the closed form of :func:`followerlab.queueing.ggc`
      is used instead (the same law, without the lattice's cost).  Speed (issue 13): where the
      service is one gamma law (no control commands, or only they) the exact law is read from
      a table (:func:`followerlab._tabulate.mg1_gamma_response_quantiles`, interpolation error
      measured over ρ ≤ 0.995, CV ≤ 5 and reported in ``admin_max_rel_error``; untrusted
      cells and the rest of the domain fall back to the exact method); a true mixture is solved
      exactly once per distinct configuration (``admin_method`` says which).
    * **several admin cores**: a G/G/c station with Poisson arrivals and the mixture's mean and
      CV (:func:`followerlab.queueing.ggc`: Allen–Cunneen mean wait, Erlang C probability of
      waiting, exponential conditional wait; exact Erlang C when the service CV is 1).  This is
      an *approximation*: it keeps only two moments of the mixture, so with rare long control
      commands it errs the way the one-core path used to.  Measured against
      :mod:`followerlab.sim.queue` (``benchmarks/accuracy_mg1.py``) for 2 cores, 98 % planning
      50 ms (CV 1) + 2 % control commands 1 s (CV 0.5), ρ 0.3–0.9: mean response off by up to
      10 %, p50 by up to 69 %, p99 by up to 19 % (simulation standard error ≤ 3 %).  With
      exponential service (CV 1, no control commands) it is exact (M/M/c, Erlang C).
      ``admin_quantiles_exact`` is False.

    The weak share :math:`w\lambda` is split evenly over the ``heads`` (random routing; see
    :func:`routing_load` for the affinitized modes); a head with one core is an exact M/G/1
    with gamma(planning_s, planning_cv) service (``head_quantiles_exact``), with several the
    G/G/c approximation above.

    Parameters
    ----------
    query_rate_per_s : array_like
        Query rate λ, >= 0.
    weak_fraction : array_like, default 0
        Fraction w of queries sent with weak consistency, 0..1.
    planning_s, planning_cv : array_like
        Planning + finalization time per query (mean, > 0; CV, >= 0).  *Assumed* defaults
        (50 ms, CV 1): no published figure.
    control_rate_per_s, control_s, control_cv : array_like
        Control commands (ingestion commits, schema changes): always on the admin node.
        *Assumed* defaults (0 /s, 200 ms, CV 1).
    admin_cores : array_like of int, default 1
        Parallel planning slots on the admin node (servers c of the queue; *assumed*).
    heads : array_like of int, default 3
        Query heads (:func:`query_head_count`).
    head_cores : array_like of int, optional
        Planning slots per head; defaults to ``admin_cores``.

    Returns
    -------
    AdminLoad

    Notes
    -----
    Assumptions: Poisson arrivals; a weak query puts no work on the admin node; planning costs
    the same on a head as on the admin node; query execution on data nodes is not modelled.
    Source: Leibowitz2023 (what runs where); service times and cores are *assumed*.

    Examples
    --------
    >>> r = admin_node_load([10.0, 10.0], weak_fraction=[0.0, 0.8], planning_s=0.05)
    >>> r.admin_utilization                      # 10/s x 50 ms on one core; 80% moved off
    array([0.5, 0.1])
    >>> r.head_utilization.round(4)              # 8/s over 3 heads x 50 ms
    array([0.    , 0.1333])
    """
    from . import queueing

    lam = as_float_array("query_rate_per_s", query_rate_per_s, minimum=0.0)
    w = check_probability("weak_fraction", weak_fraction)
    sq = as_float_array("planning_s", planning_s, minimum=0.0, strict_minimum=True)
    cq = as_float_array("planning_cv", planning_cv, minimum=0.0)
    lc = as_float_array("control_rate_per_s", control_rate_per_s, minimum=0.0)
    sc = as_float_array("control_s", control_s, minimum=0.0, strict_minimum=True)
    cc = as_float_array("control_cv", control_cv, minimum=0.0)
    ka = as_int_array("admin_cores", admin_cores, minimum=1)
    h = as_int_array("heads", heads, minimum=1)
    kh = ka if head_cores is None else as_int_array("head_cores", head_cores, minimum=1)

    strong_rate = (1.0 - w) * lam
    admin_rate = strong_rate + lc
    mean_s, cv = _mixture_service(strong_rate, sq, cq, lc, sc, cc)
    admin = queueing.ggc(admin_rate, 1.0 / mean_s, ka, 1.0, cv)
    with np.errstate(divide="ignore", invalid="ignore"):
        sat = np.where((1.0 - w) > 0, np.maximum(ka - lc * sc, 0.0) / ((1.0 - w) * sq), np.inf)
    head_rate = w * lam / h
    head = queueing.ggc(head_rate, 1.0 / sq, kh, 1.0, cq)
    # the queues are solved on their own (smaller) shapes; from here on every array has the
    # result's shape (the common shape of the inputs)
    (lam, w, h, sq, cq, lc, sc, cc, ka, kh, strong_rate, admin_rate, head_rate, sat,
     admin_util, admin_stable, admin_mean, head_util, head_stable, head_mean) = broadcast_all(
        lam, w, h, sq, cq, lc, sc, cc, ka, kh, strong_rate, admin_rate, head_rate, sat,
        admin.utilization, admin.stable, admin.mean_response_s, head.utilization, head.stable,
        head.mean_response_s)
    shape = lam.shape

    # one core: the exact M/G/1 law of the actual service (mixture for the admin node)
    admin_exact = np.asarray(ka == 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        pa = np.where(admin_rate > 0, strong_rate / np.where(admin_rate > 0, admin_rate, 1.0), 1.0)
    # an exponential service (every class present has CV 1 and the same mean) is M/M/1, which
    # queueing.ggc already solves exactly (response ~ Exp(mu - lambda)): no lattice needed
    expo = (((pa <= 0) | (cq == 1)) & ((pa >= 1) | (cc == 1))
            & ((pa <= 0) | (pa >= 1) | (sq == sc)))
    one = admin_exact & admin_stable & ~expo
    # the generic quantiles only where the mixture's own law does not replace them (they cost a
    # lattice per configuration too when ggc's law for one core is itself M/G/1)
    if one.all():
        admin_p50, admin_p99 = np.empty(shape), np.empty(shape)
    else:
        admin_p50, admin_p99 = (np.broadcast_to(admin.response_quantile(q), shape).copy() for q in (0.5, 0.99))
    admin_method, admin_err = np.broadcast_to(admin.method, shape).astype(object), np.broadcast_to(admin.max_rel_error, shape).copy()
    if one.any():  # fast path (issue 13): gamma table where the service is one gamma law, dedup otherwise
        admin_p50[one], admin_p99[one], admin_method[one], admin_err[one] = _tabulate.admin_response_quantiles(
            admin_rate[one], pa[one], sq[one], cq[one], sc[one], cc[one], points=_MG1_POINTS)
    head_exact = np.asarray(kh == 1)
    one = head_exact & head_stable & (cq != 1)
    if one.all():
        head_p50, head_p99 = np.empty(shape), np.empty(shape)
    else:
        head_p50, head_p99 = (np.broadcast_to(head.response_quantile(q), shape).copy() for q in (0.5, 0.99))
    head_method, head_err = np.broadcast_to(head.method, shape).astype(object), np.broadcast_to(head.max_rel_error, shape).copy()
    if one.any():  # fast path (issue 13): the tabulated exact M/G/1 gamma law
        (head_p50[one], head_p99[one]), head_method[one], head_err[one] = _tabulate.mg1_gamma_response_quantiles(
            head_rate[one], sq[one], cq[one], points=_MG1_POINTS)

    return AdminLoad(
        query_rate_per_s=lam,
        weak_fraction=w,
        heads=h,
        admin_arrival_rate_per_s=admin_rate,
        admin_utilization=admin_util,
        admin_stable=admin_stable,
        admin_mean_response_s=admin_mean,
        admin_p50_response_s=admin_p50,
        admin_p99_response_s=admin_p99,
        saturation_query_rate_per_s=sat,
        head_arrival_rate_per_s=head_rate,
        head_utilization=head_util,
        head_stable=head_stable,
        head_mean_response_s=head_mean,
        head_p50_response_s=head_p50,
        head_p99_response_s=head_p99,
        admin_quantiles_exact=admin_exact,
        head_quantiles_exact=head_exact,
        admin_method=admin_method.astype(str), admin_max_rel_error=admin_err,
        head_method=head_method.astype(str), head_max_rel_error=head_err,
    )


# --------------------------------------------------------------------------------------------
# 3. Routing modes
# --------------------------------------------------------------------------------------------
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

    Examples
    --------
    >>> r = routing_load(30.0, 3, "by_database", shares=hot_key_shares(10, 0.7), planning_s=0.05)
    >>> float(r.mean_head_utilization), round(float(r.hottest_head_utilization), 3)
    (0.5, 1.2)
    >>> float(r.p_hottest_saturates)
    1.0
    """
    from . import queueing

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


# --------------------------------------------------------------------------------------------
# 4. Weak staleness, records missed, monotonic reads
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class WeakStaleness(Result):
    """Age of a query head's metadata at a random query time.

    ``lag`` is the :class:`followerlab.staleness.RefreshLag` (``cdf``, ``quantile``,
    ``sample``) the summary fields come from.
    """

    refresh_period_s: np.ndarray
    effective_period_s: np.ndarray
    mean_s: np.ndarray
    p50_s: np.ndarray
    p99_s: np.ndarray
    back_to_back: np.ndarray
    lag: object = field(repr=False, compare=False)

    def cdf(self, t_s):
        """P(age <= t_s)."""
        return self.lag.cdf(t_s)

    def sf(self, t_s):
        """P(age > t_s) = 1 - cdf(t_s)."""
        return self.lag.sf(t_s)

    def ppf(self, q):
        """Age quantile (s): the smallest t with ``cdf(t) >= q``."""
        return self.lag.ppf(q)

    def mean(self):
        """E[age] (s): the ``mean_s`` field."""
        return self.mean_s

    def quantile(self, q):
        """Alias of :meth:`ppf` (same values)."""
        return self.ppf(q)


def weak_staleness(refresh_period_s=120.0, base_duration_s=2.0, duration_per_change_s=0.0,
                   change_rate_per_s=0.0) -> WeakStaleness:
    r"""Staleness of a weakly consistent query: the age of its head's metadata.

    A head starts a refresh every R seconds; the refresh downloads the metadata delta and takes
    :math:`F = f_0 + f_1 \cdot \text{changes}` seconds; a query at a uniformly random time sees
    the version the last *finished* refresh fetched, so its age is the residual phase plus F:

    .. math::

        A = U + F,\quad U \sim \mathcal U[0, R_{eff}),\qquad E[A] = R_{eff}/2 + F

    (:func:`followerlab.staleness.refresh_lag`, which also handles back-to-back refreshes
    when F >= R).

    Parameters
    ----------
    refresh_period_s : array_like, default 120
        ``RefreshPeriodInSeconds`` (policy range 30..1800).
    base_duration_s : array_like, default 2
        f0: fixed refresh time; "usually up to a few seconds" (Leibowitz2023) — 2 s is *assumed*.
    duration_per_change_s, change_rate_per_s : array_like
        f1 and the metadata change rate (*assumed*, default 0).

    Examples
    --------
    >>> s = weak_staleness(120.0, 2.0)
    >>> float(s.mean_s), float(s.p99_s)
    (62.0, 120.8)
    """
    from . import staleness

    period = as_float_array("refresh_period_s", refresh_period_s, minimum=30.0, maximum=1800.0)
    lag = staleness.refresh_lag(period, base_duration_s, duration_per_change_s, change_rate_per_s)
    return WeakStaleness(
        refresh_period_s=period,
        effective_period_s=np.asarray(lag.effective_period_s),
        mean_s=np.asarray(lag.mean_s),
        p50_s=np.asarray(lag.quantile(0.5)),
        p99_s=np.asarray(lag.quantile(0.99)),
        back_to_back=np.asarray(lag.back_to_back),
        lag=lag,
    )


@dataclass(frozen=True)
class MissedRecords(Result):
    """What a query over the last ``window_s`` misses because its head's metadata is old."""

    window_s: np.ndarray
    ingest_rate_per_s: np.ndarray
    expected_missed: np.ndarray
    expected_missed_fraction: np.ndarray
    p_window_blind: np.ndarray
    match_rate_per_s: np.ndarray
    p_miss_match: np.ndarray


def records_missed(window_s, ingest_rate_per_s, staleness=None, match_rate_per_s=None, *, grid=4001) -> MissedRecords:
    r"""Records a weakly consistent query over the last X seconds does not see.

    With metadata age A at query time, a query over :math:`[t-X, t]` misses the records ingested
    in :math:`(t-A, t]`, i.e. :math:`\min(A, X)` seconds of ingest:

    .. math::

        E[\text{missed}] = r\,E[\min(A, X)] = r\int_0^X P(A > u)\,du

    An alert query that fires on any matching record (matches arriving as Poisson at rate m)
    misses one of them with probability

    .. math::

        P = 1 - E\!\left[e^{-m\min(A,X)}\right] = m\int_0^X e^{-m u}\,P(A>u)\,du

    and :math:`P(A \ge X)` is the chance the whole window is invisible.  The integrals use the
    trapezoid rule on ``grid`` points over :math:`[0, \min(X, a_{1-10^{-12}})]` (beyond the age's
    :math:`1-10^{-12}` quantile the integrand is below :math:`10^{-12}`) with the exact CDF; in
    the second the exponential is integrated exactly against the survival taken linear between
    points (the plain rule overshoots 1 once m times the step is not small).

    Parameters
    ----------
    window_s : array_like
        Query window X (Leibowitz2023's examples: 7 days and 5 minutes), > 0.
    ingest_rate_per_s : array_like
        Records ingested per second (Leibowitz2023's example: 1000 per minute), >= 0.
    staleness : WeakStaleness, optional
        From :func:`weak_staleness`; default the policy defaults (R = 120 s).
    match_rate_per_s : array_like, optional
        Rate of records the query is looking for (e.g. errors); default ``ingest_rate_per_s``.

    Notes
    -----
    Assumes ingestion itself is instantaneous (strong queries miss nothing) and that the
    query's window ends at the query time.  Source: Leibowitz2023 (the 1000 records per minute
    example; the 7-day aggregation and the 5-minute alert).

    Examples
    --------
    >>> s = weak_staleness(120.0, 2.0)
    >>> m = records_missed([7 * 86400.0, 300.0], 1000 / 60, s)
    >>> m.expected_missed.round(0)
    array([1033., 1033.])
    """
    x = as_float_array("window_s", window_s, minimum=0.0, strict_minimum=True)
    r = as_float_array("ingest_rate_per_s", ingest_rate_per_s, minimum=0.0)
    m = r if match_rate_per_s is None else as_float_array("match_rate_per_s", match_rate_per_s, minimum=0.0)
    n = int(_scalar("grid", as_int_array("grid", grid, minimum=3)))
    if staleness is None:
        staleness = weak_staleness()
    shape = np.broadcast_shapes(x.shape, r.shape, m.shape, np.shape(staleness.mean_s))
    xb = np.broadcast_to(x, shape)
    # integrate only where P(A > u) is not ~0: up to min(X, the age's 1 - 1e-12 quantile)
    top = np.broadcast_to(np.asarray(staleness.quantile(1.0 - 1e-12), dtype=float), shape)
    upper = np.minimum(xb, top)
    frac = np.linspace(0.0, 1.0, n).reshape((n,) + (1,) * len(shape))
    u = frac * upper  # (n, *shape)
    surv = 1.0 - np.asarray(staleness.cdf(u), dtype=float)
    e_min = np.trapezoid(surv, u, axis=0) if hasattr(np, "trapezoid") else np.trapz(surv, u, axis=0)
    mb = np.broadcast_to(m, shape)
    # m e^{-mu} integrated exactly against the survival taken linear between grid points (the
    # plain trapezoid overshoots once m * step is not small: 1.66 for a step of 3/m)
    e = np.exp(-mb * u)
    d_surv, mh = np.diff(surv, axis=0), mb * np.diff(u, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        g = np.where(mh > 1e-12, -np.expm1(-mh) / np.where(mh > 1e-12, mh, 1.0), 1.0)  # (1 - e^{-mh})/(mh)
    p_miss = np.sum(surv[:-1] * (e[:-1] - e[1:]) - d_surv * e[1:] + d_surv * e[:-1] * g, axis=0)
    blind = 1.0 - np.asarray(staleness.cdf(np.nextafter(xb, 0)), dtype=float)
    blind = np.broadcast_to(blind, shape)
    missed = np.broadcast_to(r, shape) * e_min
    with np.errstate(invalid="ignore", divide="ignore"):
        frac_missed = np.where(np.broadcast_to(r, shape) > 0, e_min / xb, 0.0)
    return MissedRecords(
        window_s=np.asarray(xb).copy(),
        ingest_rate_per_s=np.broadcast_to(r, shape).copy(),
        expected_missed=np.asarray(missed),
        expected_missed_fraction=np.asarray(frac_missed),
        p_window_blind=np.asarray(blind).copy(),
        match_rate_per_s=np.asarray(mb).copy(),
        p_miss_match=np.clip(np.asarray(p_miss), 0.0, 1.0),
    )


def monotonic_read_violation_probability(heads, refresh_period_s=120.0, gap_s=0.0, mode="random"):
    r"""Probability that a session's next query sees *older* metadata than its previous one.

    Head i starts refreshes at :math:`\phi_i + kR` (phases independent, uniform) and a query at
    time t sees the version fetched at its last finished refresh's start,
    :math:`S_i(t) = t - F - U_i(t)` with :math:`U_i \sim \mathcal U[0,R)` and F the (common)
    refresh duration.  Two queries g seconds apart routed to heads i, j: if i = j the version
    cannot go back; if i ≠ j, :math:`S_j(t+g) < S_i(t) \iff U_j - U_i > g`, and for iid uniforms
    :math:`P(U_j - U_i > g) = (R-g)^2 / (2R^2)` for :math:`0 \le g \le R` (0 beyond).  Random
    routing picks a different head w.p. :math:`1 - 1/H`:

    .. math::

        P_{\text{violation}} = \Bigl(1 - \frac1H\Bigr)\frac{(R - \min(g, R))^2}{2R^2}

    Under ``by_database`` and ``by_session`` a session's queries go to one head: 0.
    ``by_query`` pins identical texts, but a session's *different* query texts hash
    independently, so it is as random for them (*assumed*: consecutive texts differ).

    Parameters
    ----------
    heads : array_like of int
        Number of heads H >= 1.
    refresh_period_s : array_like
        Effective refresh period R (use ``WeakStaleness.effective_period_s`` when refreshes run
        back to back), > 0.
    gap_s : array_like
        Time between the two queries, >= 0.
    mode : {"random", "by_database", "by_query", "by_session"}

    Notes
    -----
    Assumes deterministic period and equal refresh duration on all heads (equal deltas), no
    head restarts.  The value is the average over the unknown, independent uniform phases; on
    one cluster with fixed phases the conditional probability differs (except for H = 2 and
    g = 0, where it is 1/4 whatever the phases).  Checked against an event simulation of
    refresh phases in the tests.

    Examples
    --------
    >>> monotonic_read_violation_probability([1, 2, 3], 120.0, 0.0).round(4)
    array([0.    , 0.25  , 0.3333])
    >>> float(monotonic_read_violation_probability(3, 120.0, 0.0, mode="by_database"))
    0.0
    """
    mode = check_choice("mode", mode, ROUTING_MODES)
    h = as_int_array("heads", heads, minimum=1)
    per = as_float_array("refresh_period_s", refresh_period_s, minimum=0.0, strict_minimum=True)
    g = as_float_array("gap_s", gap_s, minimum=0.0)
    base = (1.0 - 1.0 / h) * (per - np.minimum(g, per)) ** 2 / (2.0 * per**2)
    if mode in ("by_database", "by_session"):
        return np.zeros_like(base)
    return base


# --------------------------------------------------------------------------------------------
# 5. Metadata refresh cost
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RefreshCost(Result):
    """Storage load of metadata refreshes and the odds a download fails."""

    heads: np.ndarray
    refresh_period_s: np.ndarray
    delta_bytes: np.ndarray
    storage_read_bytes_per_s: np.ndarray
    storage_reads_per_s: np.ndarray
    refresh_duration_s: np.ndarray
    p_refresh_fails: np.ndarray
    full_metadata_bytes: np.ndarray
    full_load_duration_s: np.ndarray
    p_full_load_fails: np.ndarray


def refresh_cost(
    heads,
    refresh_period_s=120.0,
    extents=1e5,
    extent_change_rate_per_s=1.0,
    bytes_per_extent=2048.0,
    base_duration_s=2.0,
    bandwidth_bytes_per_s=100e6,
    failure_rate_per_mb=1e-4,
) -> RefreshCost:
    r"""What H heads refreshing every R seconds cost persistent storage, and their failure odds.

    Each refresh downloads the delta since the head's previous version: the extents added or
    changed in one period, :math:`\Delta = c\,R\,b` bytes (c extent changes per second, b bytes
    of metadata per extent).  Then

    .. math::

        \text{read rate} = \frac{H\,\Delta}{R} = H c b,\qquad
        \text{refreshes/s} = \frac{H}{R},\qquad
        F = f_0 + \frac{\Delta}{B},\qquad
        P(\text{fail}) = 1 - e^{-\phi\,\Delta/10^6}

    with bandwidth B and transient failures arriving as a Poisson process with ``φ`` per MB
    downloaded.  A head that starts (or must reload after a failure) downloads the full
    metadata :math:`E\,b`: Leibowitz2023's "millions of extents" warning appears in
    ``full_load_duration_s`` and ``p_full_load_fails``.

    Parameters
    ----------
    heads : array_like of int
        H >= 1.
    refresh_period_s : array_like
        R, 30..1800 s.
    extents : array_like
        Extents in the database E, >= 0.
    extent_change_rate_per_s : array_like
        Extents created/dropped per second c (ingestion and merges), >= 0.
    bytes_per_extent : array_like
        Metadata bytes per extent b, > 0; *assumed* 2 KiB (not published).
    base_duration_s, bandwidth_bytes_per_s, failure_rate_per_mb : array_like
        f0 (*assumed* 2 s, seed: "usually up to a few seconds"), B (*assumed* 100 MB/s) and φ
        (*assumed* 1e-4 per MB).

    Examples
    --------
    >>> c = refresh_cost(3, 120.0, extents=5e6, extent_change_rate_per_s=10.0, bytes_per_extent=2048.0)
    >>> float(c.storage_read_bytes_per_s), float(c.storage_reads_per_s)
    (61440.0, 0.025)
    >>> round(float(c.full_load_duration_s), 1), round(float(c.p_full_load_fails), 3)
    (104.4, 0.64)
    """
    h = as_int_array("heads", heads, minimum=1)
    per = as_float_array("refresh_period_s", refresh_period_s, minimum=30.0, maximum=1800.0)
    e = as_float_array("extents", extents, minimum=0.0)
    c = as_float_array("extent_change_rate_per_s", extent_change_rate_per_s, minimum=0.0)
    b = as_float_array("bytes_per_extent", bytes_per_extent, minimum=0.0, strict_minimum=True)
    f0 = as_float_array("base_duration_s", base_duration_s, minimum=0.0)
    bw = as_float_array("bandwidth_bytes_per_s", bandwidth_bytes_per_s, minimum=0.0, strict_minimum=True)
    phi = as_float_array("failure_rate_per_mb", failure_rate_per_mb, minimum=0.0)
    delta = c * per * b
    full = e * b
    # every input reaches at least one field, so the fields' common shape is the inputs'
    fields = dict(
        heads=h,
        refresh_period_s=per,
        delta_bytes=delta,
        storage_read_bytes_per_s=h * delta / per,
        storage_reads_per_s=h / per,
        refresh_duration_s=f0 + delta / bw,
        p_refresh_fails=-np.expm1(-phi * delta / 1e6),
        full_metadata_bytes=full,
        full_load_duration_s=f0 + full / bw,
        p_full_load_fails=-np.expm1(-phi * full / 1e6),
    )
    return RefreshCost(**dict(zip(fields, broadcast_all(*fields.values()))))


# --------------------------------------------------------------------------------------------
# 6. Mode resolution
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ConsistencyResolution(Result):
    """The effective query consistency of a query (and of its cross-cluster sub-query).

    Attributes
    ----------
    mode : str
        Policy-style value on the local cluster (``Strong``, ``Weak``, ...).
    routing : str
        The same as a routing mode of this module (``strong``, ``random``, ...).
    source : str
        ``request``, ``policy``, ``policy (not relaxable)`` or ``default``.
    remote_mode, remote_routing, remote_source : str or None
        For the sub-query on a remote cluster when ``remote_policy`` is given.
    session_id : str or None
    warnings : tuple of str
    """

    mode: str
    routing: str
    source: str
    remote_mode: str | None = None
    remote_routing: str | None = None
    remote_source: str | None = None
    session_id: str | None = None
    warnings: tuple = ()

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{k: getattr(self, k) for k in (
            "mode", "routing", "source", "remote_mode", "remote_routing", "remote_source", "session_id")}
            | {"warnings": " | ".join(self.warnings)}])


def _parse_policy(name: str, policy):
    """(value, is_relaxable) from a workload-group policy in any of its documented shapes."""
    if policy is None:
        return None, True
    if not isinstance(policy, dict):
        raise ValueError(f"{name} must be a dict (a QueryConsistencyPolicy); got {policy!r}")
    p = policy
    if "QueryConsistencyPolicy" in p:
        p = p["QueryConsistencyPolicy"]
        if not isinstance(p, dict):
            raise ValueError(f"{name}['QueryConsistencyPolicy'] must be a dict; got {p!r}")
    if "QueryConsistency" in p:
        p = p["QueryConsistency"]
        if not isinstance(p, dict):
            raise ValueError(f"{name}['QueryConsistency'] must be a dict; got {p!r}")
    unknown = set(p) - {"Value", "IsRelaxable"}
    if unknown:
        raise ValueError(f"{name} has unknown field(s) {sorted(unknown)}; expected 'Value' and 'IsRelaxable'"
                         + did_you_mean(sorted(unknown)[0], ["Value", "IsRelaxable"]))
    value = p.get("Value")
    if value is not None:
        value = check_choice(f"{name}.Value", value, POLICY_VALUES)
    relax = p.get("IsRelaxable", True)
    if not isinstance(relax, bool):
        raise ValueError(f"{name}.IsRelaxable must be true or false; got {relax!r}")
    return value, relax


_BOOLEAN_MISTAKES = set(REQUEST_VALUES) | {"weakconsistency", "strongconsistency"}


def resolve_consistency(request_properties=None, policy=None, remote_policy=None) -> ConsistencyResolution:
    """The effective query consistency from client request properties and workload-group policies.

    Rules (Leibowitz2023, ADX-QueryConsistency, ADX-QueryConsistencyPolicy in docs/references.rst):

    1. Neither the request nor the policy says anything: ``Strong`` (the default).
    2. The client request property ``queryconsistency`` (values ``strongconsistency``,
       ``weakconsistency``, ``weakconsistency_by_database``, ``weakconsistency_by_query``,
       ``weakconsistency_by_session_id``; old names ``affinitizedweakconsistency``,
       ``databaseaffinitizedweakconsistency``) overrides the workload group's
       ``QueryConsistencyPolicy`` when the policy's ``IsRelaxable`` is true (the default).
    3. ``IsRelaxable: false`` pins the policy value; the request property is ignored (warning).
    4. A cross-cluster sub-query to cluster B carries A's effective mode, unless B's workload
       group pins its own (``IsRelaxable: false``).
    5. Setting a mode name as if it were a boolean (``weakconsistency=true``) has no effect:
       strong stays — the common mistake — and a warning explains it.
       ``query_weakconsistency_session_id`` only matters with the session mode (warnings).

    Parameters
    ----------
    request_properties : dict, optional
        Client request properties (names case-insensitive; values case-insensitive).
    policy : dict, optional
        The local workload group's policy: ``{"Value": ..., "IsRelaxable": ...}``, or wrapped
        in ``{"QueryConsistency": ...}`` / ``{"QueryConsistencyPolicy": {...}}``.
    remote_policy : dict, optional
        The remote cluster's workload-group policy, for a cross-cluster sub-query.

    Returns
    -------
    ConsistencyResolution

    Raises
    ------
    ValueError
        An unknown ``queryconsistency`` value or policy ``Value`` (naming the closest valid one).

    Examples
    --------
    >>> r = resolve_consistency({"weakconsistency": True})
    >>> r.mode, r.source
    ('Strong', 'default')
    >>> print(r.warnings[0][:60])
    request property 'weakconsistency' = True has no effect: que
    >>> r = resolve_consistency({"queryconsistency": "weakconsistency"},
    ...                         {"IsRelaxable": False, "Value": "Strong"})
    >>> r.mode, r.source
    ('Strong', 'policy (not relaxable)')
    >>> resolve_consistency({}, {"Value": "Weak"},
    ...                     {"IsRelaxable": False, "Value": "WeakAffinitizedByQuery"}).remote_mode
    'WeakAffinitizedByQuery'
    """
    props = {} if request_properties is None else request_properties
    if not isinstance(props, dict):
        raise ValueError(f"request_properties must be a dict; got {props!r}")
    lowered = {}
    for k, v in props.items():
        if not isinstance(k, str):
            raise ValueError(f"request_properties keys must be strings; got {k!r}")
        lowered[k.lower()] = v
    warnings: list[str] = []

    for key in sorted(set(lowered) & _BOOLEAN_MISTAKES):
        warnings.append(
            f"request property {key!r} = {lowered[key]!r} has no effect: query consistency is set with "
            f"queryconsistency = {key!r}, not as a boolean property (the default, strong, applies unless "
            "something else sets it)"
        )

    request_value = None
    raw = lowered.get("queryconsistency")
    if raw is not None:
        if not isinstance(raw, str):
            raise ValueError(f"queryconsistency must be a string such as 'weakconsistency'; got {raw!r}")
        request_value = REQUEST_VALUES[check_choice("queryconsistency", raw.lower(), REQUEST_VALUES)]

    local_value, relaxable = _parse_policy("policy", policy)
    if local_value is not None and not relaxable:
        mode, source = local_value, "policy (not relaxable)"
        if request_value is not None and request_value != local_value:
            warnings.append(
                f"queryconsistency = {raw!r} is ignored: the workload group pins {local_value!r} (IsRelaxable false)"
            )
    elif request_value is not None:
        mode, source = request_value, "request"
    elif local_value is not None:
        mode, source = local_value, "policy"
    else:
        mode, source = "Strong", "default"

    session = lowered.get("query_weakconsistency_session_id")
    if session is not None and not isinstance(session, str):
        raise ValueError(f"query_weakconsistency_session_id must be a string; got {session!r}")
    if mode == "WeakAffinitizedBySessionId" and not session:
        warnings.append("mode is weak by session id but query_weakconsistency_session_id is not set")
    if session and mode != "WeakAffinitizedBySessionId":
        warnings.append(f"query_weakconsistency_session_id is set but has no effect under {mode!r}")

    remote_mode = remote_routing = remote_source = None
    if remote_policy is not None:
        r_value, r_relax = _parse_policy("remote_policy", remote_policy)
        if r_value is not None and not r_relax:
            remote_mode, remote_source = r_value, "remote policy (not relaxable)"
        else:
            remote_mode, remote_source = mode, "propagated"
        remote_routing = POLICY_VALUES[remote_mode]

    return ConsistencyResolution(
        mode=mode,
        routing=POLICY_VALUES[mode],
        source=source,
        remote_mode=remote_mode,
        remote_routing=remote_routing,
        remote_source=remote_source,
        session_id=session,
        warnings=tuple(warnings),
    )


# --------------------------------------------------------------------------------------------
# 7. Advisor
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Advice(Result):
    """The advisor's table (one row per mode x head count) and its pick."""

    table: pd.DataFrame = field(repr=False)
    mode: str
    heads: int
    reason: str

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def _repr_html_(self) -> str:
        return f"<p><b>Advice</b>: {self.mode}, {self.heads} heads — {self.reason}</p>" + self.table.to_html(
            max_rows=40, float_format=lambda v: f"{v:.4g}")


def advise(
    query_rate_per_s,
    staleness_tolerance_s,
    admin_utilization_ceiling=0.7,
    *,
    nodes=15,
    weak_fraction=1.0,
    planning_s=0.05,
    planning_cv=1.0,
    control_rate_per_s=0.0,
    control_s=0.2,
    admin_cores=1,
    head_cores=None,
    shares=None,
    session_shares=None,
    refresh_period_s=120.0,
    base_duration_s=2.0,
    repeat_rate_per_s=0.0,
    cache_max_age_s=0.0,
    repeat_fraction=1.0,
    head_counts=None,
    seed=0,
) -> Advice:
    """Which consistency mode and how many heads: a table of every candidate and the pick.

    Candidates: ``strong``, and each weak routing mode with each head count in
    ``head_counts`` (default: every count :func:`query_head_count` reaches for percentages
    1..100 on ``nodes``, with min 1 and max 30).  A row is *feasible* when the admin
    utilization is at most the ceiling, the staleness p99 (weak: :func:`weak_staleness`;
    strong: 0) is at most the tolerance, and the hottest head's utilization is at most the
    ceiling too (*assumed*: one ceiling for every planning node).  The pick: ``strong`` if
    feasible (freshest); otherwise the feasible weak row with the fewest heads (least metadata
    refresh load on storage), then the lowest hottest-head utilization, then the highest cache
    hit ratio.  ``by_database`` rows need ``shares`` (query share per database) and
    ``by_session`` rows ``session_shares`` (per session id; defaults to ``shares``); without them
    those rows are left out.

    Examples
    --------
    >>> a = advise(30.0, staleness_tolerance_s=300.0, admin_utilization_ceiling=0.7, planning_s=0.05)
    >>> a.mode, a.heads
    ('random', 3)
    >>> a.to_frame().query("mode == 'strong'")["admin_utilization"].round(2).tolist()
    [1.5]
    """
    lam = float(_scalar("query_rate_per_s", as_float_array("query_rate_per_s", query_rate_per_s, minimum=0.0)))
    tol = float(_scalar("staleness_tolerance_s",
                        as_float_array("staleness_tolerance_s", staleness_tolerance_s, minimum=0.0)))
    ceiling = float(_scalar("admin_utilization_ceiling",
                            as_float_array("admin_utilization_ceiling", admin_utilization_ceiling, minimum=0.0,
                                           strict_minimum=True)))
    n = int(_scalar("nodes", as_int_array("nodes", nodes, minimum=1)))
    w = float(_scalar("weak_fraction", check_probability("weak_fraction", weak_fraction)))
    if head_counts is None:
        head_counts = np.unique(query_head_count(n, np.arange(1, 101), minimum=1, maximum=30).heads)
    hc = as_int_array("head_counts", head_counts, minimum=1)
    if np.any(hc > n):
        raise ValueError(f"head_counts must be <= nodes ({n}); got {hc[hc > n].tolist()}")
    stale = weak_staleness(refresh_period_s, base_duration_s)
    p99 = float(stale.p99_s)
    rows = []
    strong = admin_node_load(lam, 0.0, planning_s, planning_cv, control_rate_per_s, control_s,
                             admin_cores=admin_cores, heads=1, head_cores=head_cores)
    rows.append(dict(mode="strong", heads=0, admin_utilization=float(strong.admin_utilization),
                     hottest_head_utilization=0.0, staleness_p99_s=0.0, cache_hit_ratio=float(
                         check_probability("repeat_fraction", repeat_fraction)
                         * results_cache_hit_ratio(repeat_rate_per_s, cache_max_age_s)),
                     admin_p99_response_s=float(strong.admin_p99_response_s), hottest_head_p99_response_s=0.0))
    weak_admin = admin_node_load(lam, w, planning_s, planning_cv, control_rate_per_s, control_s,
                                 admin_cores=admin_cores, heads=1, head_cores=head_cores)
    kc = admin_cores if head_cores is None else head_cores
    if session_shares is None:
        session_shares = shares
    key_shares = {"by_database": shares, "by_session": session_shares}
    modes = [m for m in ROUTING_MODES if m not in key_shares or key_shares[m] is not None]
    for mode in modes:
        for h in hc.tolist():
            rl = routing_load(w * lam, h, mode, key_shares.get(mode),
                              planning_s=planning_s, planning_cv=planning_cv, head_cores=kc,
                              repeat_rate_per_s=repeat_rate_per_s, cache_max_age_s=cache_max_age_s,
                              repeat_fraction=repeat_fraction, seed=seed)
            rows.append(dict(mode=mode, heads=h, admin_utilization=float(weak_admin.admin_utilization),
                             hottest_head_utilization=float(rl.hottest_head_utilization), staleness_p99_s=p99,
                             cache_hit_ratio=float(rl.cache_hit_ratio),
                             admin_p99_response_s=float(weak_admin.admin_p99_response_s),
                             hottest_head_p99_response_s=float(rl.hottest_head_p99_response_s)))
    table = pd.DataFrame(rows)
    table["feasible"] = ((table.admin_utilization <= ceiling) & (table.staleness_p99_s <= tol)
                         & (table.hottest_head_utilization <= ceiling))
    feas = table[table.feasible]
    if feas.empty:
        pick_mode, pick_heads = "none", 0
        reason = "no candidate meets both the staleness tolerance and the utilization ceiling"
    elif bool(feas.iloc[0]["mode"] == "strong"):
        pick_mode, pick_heads, reason = "strong", 0, "the admin node stays under the ceiling: no staleness needed"
    else:
        best = feas.sort_values(["heads", "hottest_head_utilization", "cache_hit_ratio"],
                                ascending=[True, True, False], kind="stable").iloc[0]
        pick_mode, pick_heads = str(best["mode"]), int(best["heads"])
        reason = (f"strong overloads the admin node ({table.admin_utilization.iloc[0]:.2f} > {ceiling:g}); "
                  f"fewest heads keeping every planning node <= {ceiling:g} with p99 staleness {p99:.0f} s")
    table["recommended"] = (table["mode"] == pick_mode) & (table["heads"] == pick_heads)
    return Advice(table=table, mode=pick_mode, heads=pick_heads, reason=reason)
