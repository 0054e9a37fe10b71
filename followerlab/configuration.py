r"""The metrics of one configuration of each mechanism: one computation behind every view.

Notebook 01 (follower clusters), notebook 02 (query consistency), notebook 03 (Raft follower
reads) and the explorer (notebook 00, :mod:`followerlab.explore`) all report the same key
numbers for a configuration -- staleness, the first query on new data, admin-node and head
utilization, write and read latency.  They compute them here, with the same inputs under the
same names as the notebooks' parameters (``extent_mb``, ``planning_ms``, ``jitter_mean_ms``,
...), so the explorer put at a notebook's parameters shows that notebook's numbers
(``tests/test_explore_parity.py``).  No new formula lives here: each function combines the
models' own functions and documents which.

Defaults are the notebooks' defaults; most are *assumed* (not published), as the notebooks'
parameters cells say.

References
----------
Leibowitz2021 (follower clusters), Leibowitz2023 (query consistency) and
CRDB-FollowerReadsTopology (Raft follower reads), in docs/references.rst.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import consistency, follower, latency, raft
from . import parameters as _registry
from ._results import Result
from ._stats import weighted_quantile
from ._validate import as_float_array, check_choice

__all__ = [
    "FOLLOWER_DEFAULTS",
    "WEAK_DEFAULTS",
    "RAFT_DEFAULTS",
    "FollowerMetrics",
    "follower_metrics",
    "WeakMetrics",
    "weak_metrics",
    "RaftMetrics",
    "raft_metrics",
    "round_trip_jitter",
]

MB = 1e6


def _notebook_defaults(notebook: str, names: tuple[str, ...]) -> dict:
    """``{name: default}`` of these parameters of ``notebook``, from the registry."""
    return {name: _registry.get(notebook, name).default for name in names}


#: Model inputs of :func:`follower_metrics` (notebook 01's defaults, from
#: :mod:`followerlab.parameters`; all *assumed*).
FOLLOWER_DEFAULTS = _notebook_defaults("01-follower-lag", (
    "base_duration_s", "duration_per_change_s", "extent_mb", "warm_bandwidth_mb_per_s", "blob_latency_ms",
    "blob_throughput_mb_per_s", "ssd_latency_ms", "ssd_throughput_mb_per_s", "query_new_fraction"))

#: Model inputs of :func:`weak_metrics` (notebook 02's defaults, from :mod:`followerlab.parameters`;
#: policy values from Leibowitz2023 / ADX-WeakConsistencyPolicy, the rest *assumed*).
WEAK_DEFAULTS = _notebook_defaults("02-admin-node-load", (
    "planning_ms", "planning_cv", "control_rate_per_s", "control_ms", "cores", "databases", "hot_database_share",
    "sessions", "session_zipf_exponent", "repeat_fraction", "repeat_rate_per_s", "cache_max_age_s",
    "refresh_period_s", "refresh_base_s", "session_gap_s"))

#: Model inputs of :func:`raft_metrics` (notebook 03's defaults, from :mod:`followerlab.parameters`;
#: fsync, in-region RTT and jitter are *assumed*, the staleness constants come from CRDB-FollowerReads).
RAFT_DEFAULTS = _notebook_defaults("03-raft-write-latency", (
    "fsync_ms", "intra_region_rtt_ms", "jitter_mean_ms", "max_staleness_s", "crdb_version"))


# --------------------------------------------------------------------------------------------
# follower clusters
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FollowerMetrics(Result):
    """A follower cluster's key numbers (seconds): staleness and the first query on new data.

    ``staleness_*`` is the sync lag (commit on the leader until queryable on the follower);
    ``first_query_latency_s`` the latency of the first query that reads the newest extents
    (cold from blob storage without prefetch, hot with it); ``time_to_answer_mean_s`` their sum
    (commit until a query issued the moment the data is visible has answered).
    """

    prefetch: np.ndarray
    staleness_mean_s: np.ndarray
    staleness_p99_s: np.ndarray
    first_query_latency_s: np.ndarray
    time_to_answer_mean_s: np.ndarray
    back_to_back: np.ndarray
    unbounded: np.ndarray


def follower_metrics(period_s, change_rate_per_s, prefetch: bool = False, **inputs) -> FollowerMetrics:
    r"""Key numbers of a follower that syncs every ``period_s`` with ``change_rate_per_s`` changes/s.

    Lag :math:`L = U + D`, :math:`D = d_0 + (d_1 + [\text{prefetch}]\, s/B) N`,
    :math:`N \sim \text{Poisson}(mP)` (:func:`followerlab.follower.sync_lag`); first query and
    time to answer from :func:`followerlab.follower.prefetch_tradeoff`.  Vectorized over
    ``period_s`` and ``change_rate_per_s``.

    Parameters
    ----------
    period_s, change_rate_per_s : float or array
        Sync period (s) and metadata changes (new extents) per second on the leader.
    prefetch : bool
        Auto-prefetch on the follower.
    **inputs
        Any of :data:`FOLLOWER_DEFAULTS` (notebook 01's parameter names and units).

    Returns
    -------
    FollowerMetrics

    References
    ----------
    Leibowitz2021 (docs/references.rst).

    Examples
    --------
    >>> m = follower_metrics(60.0, 1.0)
    >>> float(m.staleness_mean_s)          # 60/2 + 2 + 0.01 * 1 * 60
    32.6
    >>> round(float(m.first_query_latency_s), 3)
    0.17
    """
    kw = _inputs("follower_metrics", FOLLOWER_DEFAULTS, inputs)
    if not isinstance(prefetch, (bool, np.bool_)):
        raise ValueError(f"prefetch must be True or False; got {prefetch!r}")
    sync = dict(base_duration_s=kw["base_duration_s"], duration_per_change_s=kw["duration_per_change_s"])
    warm = dict(bytes_per_change=kw["extent_mb"] * MB, warm_bandwidth_bytes_per_s=kw["warm_bandwidth_mb_per_s"] * MB)
    media = dict(ssd_latency_s=kw["ssd_latency_ms"] / 1e3, ssd_throughput_bytes_per_s=kw["ssd_throughput_mb_per_s"] * MB,
                 blob_latency_s=kw["blob_latency_ms"] / 1e3, blob_throughput_bytes_per_s=kw["blob_throughput_mb_per_s"] * MB)
    lag = follower.sync_lag(period_s, change_rate_per_s=change_rate_per_s, prefetch=bool(prefetch), **sync, **warm)
    trade = follower.prefetch_tradeoff(period_s, change_rate_per_s=change_rate_per_s,
                                       query_new_fraction=kw["query_new_fraction"], **sync, **warm, **media)
    side = "on" if prefetch else "off"
    return FollowerMetrics(
        prefetch=np.asarray(bool(prefetch)),
        staleness_mean_s=np.asarray(lag.mean_s),
        staleness_p99_s=np.asarray(lag.quantile(0.99)),
        first_query_latency_s=np.asarray(getattr(trade, f"first_query_s_{side}")),
        time_to_answer_mean_s=np.asarray(getattr(trade, f"time_to_answer_mean_s_{side}")),
        back_to_back=np.asarray(lag.back_to_back),
        unbounded=np.asarray(lag.unbounded),
    )


# --------------------------------------------------------------------------------------------
# weak query consistency
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class WeakMetrics(Result):
    """Strong vs weak consistency for one routing mode: the admin node, the hottest head, staleness.

    Utilizations are fractions of the station's capacity (``>= 1``: saturated, its times
    ``inf``); latencies are the time at the station (queueing + planning), in ms.
    """

    mode: str
    heads: np.ndarray
    query_rate_per_s: np.ndarray
    admin_utilization: np.ndarray
    admin_utilization_strong_only: np.ndarray
    admin_saturation_rate_per_s: np.ndarray
    strong_read_latency_p50_ms: np.ndarray
    strong_read_latency_p99_ms: np.ndarray
    head_utilization_mean: np.ndarray
    hottest_head_utilization: np.ndarray
    hottest_head_share: np.ndarray
    p_hottest_head_saturates: np.ndarray
    read_latency_p50_ms: np.ndarray
    read_latency_p99_ms: np.ndarray
    cache_hit_ratio: np.ndarray
    executed_queries_per_s: np.ndarray
    staleness_mean_s: np.ndarray
    staleness_p99_s: np.ndarray
    monotonic_read_violation_probability: np.ndarray


def weak_metrics(query_rate_per_s, weak_fraction, heads, routing_mode="random", **inputs) -> WeakMetrics:
    r"""Admin-node load with a share ``weak_fraction`` of the queries moved to ``heads`` query heads.

    Admin node: G/G/c with the strong queries and every control command
    (:func:`followerlab.consistency.admin_node_load`); heads: the weak queries routed by
    ``routing_mode`` (:func:`followerlab.consistency.routing_load`; by database over
    ``databases`` with ``hot_database_share`` on the hottest, by session over a Zipf mix of
    ``sessions`` ids), after the results cache; staleness: the metadata age
    (:func:`followerlab.consistency.weak_staleness`); monotonic reads:
    :func:`followerlab.consistency.monotonic_read_violation_probability`.  Vectorized over
    ``query_rate_per_s``.

    Parameters
    ----------
    query_rate_per_s : float or array
        Queries per second on the database.
    weak_fraction : float
        Share of queries sent with weak consistency.
    heads : int
        Query heads.
    routing_mode : {'random', 'by_database', 'by_query', 'by_session'}
    **inputs
        Any of :data:`WEAK_DEFAULTS` (notebook 02's parameter names and units).

    Returns
    -------
    WeakMetrics

    References
    ----------
    Leibowitz2023, ADX-WeakConsistencyPolicy (docs/references.rst).

    Examples
    --------
    >>> m = weak_metrics(30.0, 0.8, 3)
    >>> round(float(m.admin_utilization), 3), round(float(m.admin_utilization_strong_only), 3)
    (0.4, 1.6)
    """
    kw = _inputs("weak_metrics", WEAK_DEFAULTS, inputs)
    mode = check_choice("routing_mode", routing_mode, consistency.ROUTING_MODES)
    w = float(as_float_array("weak_fraction", weak_fraction, minimum=0.0, maximum=1.0))
    rate = as_float_array("query_rate_per_s", query_rate_per_s, minimum=0.0)
    planning_s, control_s = kw["planning_ms"] / 1e3, kw["control_ms"] / 1e3
    load_kw = dict(planning_s=planning_s, planning_cv=kw["planning_cv"], control_rate_per_s=kw["control_rate_per_s"],
                   control_s=control_s, admin_cores=int(kw["cores"]), heads=heads)
    strong = consistency.admin_node_load(rate, 0.0, **load_kw)
    weak = consistency.admin_node_load(rate, w, **load_kw)
    shares = {"by_database": lambda: consistency.hot_key_shares(int(kw["databases"]), kw["hot_database_share"]),
              "by_session": lambda: consistency.zipf_shares(int(kw["sessions"]), kw["session_zipf_exponent"])}
    routed = consistency.routing_load(
        w * rate, heads, mode, shares[mode]() if mode in shares else None, planning_s=planning_s,
        planning_cv=kw["planning_cv"], head_cores=int(kw["cores"]), repeat_rate_per_s=kw["repeat_rate_per_s"],
        cache_max_age_s=kw["cache_max_age_s"], repeat_fraction=kw["repeat_fraction"])
    stale = consistency.weak_staleness(kw["refresh_period_s"], kw["refresh_base_s"])
    mono = consistency.monotonic_read_violation_probability(heads, float(stale.effective_period_s),
                                                            kw["session_gap_s"], mode=mode)
    return WeakMetrics(
        mode=mode,
        heads=np.asarray(heads),
        query_rate_per_s=np.asarray(rate),
        admin_utilization=np.asarray(weak.admin_utilization),
        admin_utilization_strong_only=np.asarray(strong.admin_utilization),
        admin_saturation_rate_per_s=np.asarray(weak.saturation_query_rate_per_s),
        strong_read_latency_p50_ms=1e3 * np.asarray(strong.admin_p50_response_s),
        strong_read_latency_p99_ms=1e3 * np.asarray(strong.admin_p99_response_s),
        head_utilization_mean=np.asarray(routed.mean_head_utilization),
        hottest_head_utilization=np.asarray(routed.hottest_head_utilization),
        hottest_head_share=np.asarray(routed.hottest_head_share),
        p_hottest_head_saturates=np.asarray(routed.p_hottest_saturates),
        read_latency_p50_ms=1e3 * np.asarray(routed.hottest_head_p50_response_s),
        read_latency_p99_ms=1e3 * np.asarray(routed.hottest_head_p99_response_s),
        cache_hit_ratio=np.asarray(routed.cache_hit_ratio),
        executed_queries_per_s=np.asarray(routed.executed_rate_per_s),
        staleness_mean_s=np.asarray(stale.mean_s),
        staleness_p99_s=np.asarray(stale.p99_s),
        monotonic_read_violation_probability=np.asarray(mono),
    )


# --------------------------------------------------------------------------------------------
# Raft follower reads
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RaftMetrics(Result):
    """A Raft placement and read path for clients spread evenly over ``client_regions`` (ms, s).

    ``write_latency_*``: a write from a client in the leaseholder's region (the commit round:
    order statistic of jittered follower acks, plus the client's in-region hop), exact
    distribution; on the ``global`` path the write also waits out the global-reads lead
    (~800 ms, CRDB-GlobalTables).  ``read_latency_*``: the pooled read latency over the client regions with
    equal shares (per region a two-point local / redirected law, no jitter); ``staleness_mean_s``
    the mean over the client regions.
    """

    placement: str
    read_path: str
    write_latency_p50_ms: np.ndarray
    write_latency_p99_ms: np.ndarray
    read_latency_mean_ms: np.ndarray
    read_latency_p50_ms: np.ndarray
    read_latency_p99_ms: np.ndarray
    staleness_mean_s: np.ndarray


def round_trip_jitter(jitter_mean_ms):
    """The jitter of one round trip: two independent exponential one-way delays (``None`` for 0).

    >>> round(float(round_trip_jitter(2.0).mean()), 6)
    4.0
    >>> round_trip_jitter(0.0) is None
    True
    """
    j = float(as_float_array("jitter_mean_ms", jitter_mean_ms, minimum=0.0))
    if j == 0:
        return None
    one_way = latency.exponential(j)
    return latency.convolve(one_way, one_way)


def raft_metrics(rtt_ms, placement: raft.Placement, client_regions, read_path="follower", **inputs) -> RaftMetrics:
    r"""Write and read latency of one placement and read path, as notebook 03 and the explorer report them.

    Writes: :func:`followerlab.raft.write_latency_distribution` for a client in the
    leaseholder's region with round-trip jitter :func:`round_trip_jitter` (p50, p99).  Reads:
    :func:`followerlab.raft.read_latency` from each of ``client_regions``; the pooled law puts
    weight :math:`p_\text{local}/K` on the local and :math:`(1-p_\text{local})/K` on the
    redirected latency of each of the K regions, and its quantiles come from
    :func:`followerlab._stats.weighted_quantile`.

    Parameters
    ----------
    rtt_ms : DataFrame
        RTT matrix (:func:`followerlab.raft.load_rtt`).
    placement : Placement
    client_regions : sequence of str
        Regions the clients sit in (equal shares, *assumed*).
    read_path : {'leaseholder', 'follower', 'bounded', 'global'}
    **inputs
        Any of :data:`RAFT_DEFAULTS` (notebook 03's parameter names and units).

    Returns
    -------
    RaftMetrics

    References
    ----------
    CRDB-FollowerReadsTopology, CRDB-FollowerReads (docs/references.rst).

    Examples
    --------
    >>> m = raft.load_rtt("crdb-demo-rtt-2019.csv")
    >>> p = raft.spread_placement(m, "us-east1")
    >>> r = raft_metrics(m, p, list(m.index), "leaseholder", jitter_mean_ms=0.0, fsync_ms=1.0)
    >>> float(r.read_latency_p50_ms), float(r.staleness_mean_s)   # reads take 1 + 1, 1 + 64, 1 + 66 ms
    (65.0, 0.0)
    """
    kw = _inputs("raft_metrics", RAFT_DEFAULTS, inputs)
    path = check_choice("read_path", read_path, raft.READ_PATHS)
    clients = list(client_regions)
    if not clients:
        raise ValueError("client_regions must name at least one region; got []")
    intra = dict(intra_region_rtt_ms=kw["intra_region_rtt_ms"])
    d = raft.write_latency_distribution(rtt_ms, placement, placement.leaseholder, kw["fsync_ms"],
                                        link_jitter=round_trip_jitter(kw["jitter_mean_ms"]), **intra)
    # a GLOBAL table's write commit-waits until its future timestamp (the lead) has passed:
    # T = r0 + max(C', r0/2 + lead) for a client in the leaseholder's region, and a quantile of
    # max(X, c) is max(quantile of X, c) (raft.write_latency gives the deterministic form)
    floor = 1.5 * kw["intra_region_rtt_ms"] + float(raft.global_reads_lead_ms()) if path == "global" else -np.inf
    reads = [raft.read_latency(rtt_ms, placement, c, path, max_staleness_s=kw["max_staleness_s"],
                               version=kw["crdb_version"], **intra) for c in clients]
    share = 1.0 / len(clients)
    values = np.array([[float(r.local_ms), float(r.remote_ms)] for r in reads]).ravel()
    weights = np.array([[share * float(r.p_local), share * (1 - float(r.p_local))] for r in reads]).ravel()
    p50, p99 = weighted_quantile(values, weights, [0.5, 0.99])
    return RaftMetrics(
        placement=placement.label(),
        read_path=path,
        write_latency_p50_ms=np.asarray(max(float(d.ppf(0.5)), floor)),
        write_latency_p99_ms=np.asarray(max(float(d.ppf(0.99)), floor)),
        read_latency_mean_ms=np.asarray(np.mean([float(r.mean_ms) for r in reads])),
        read_latency_p50_ms=np.asarray(float(p50)),
        read_latency_p99_ms=np.asarray(float(p99)),
        staleness_mean_s=np.asarray(np.mean([float(r.staleness_mean_s) for r in reads])),
    )


def _inputs(func: str, defaults: dict, given: dict) -> dict:
    unknown = sorted(set(given) - set(defaults))
    if unknown:
        raise ValueError(f"{func}: unknown model input(s) {unknown}; known: {sorted(defaults)}")
    return {**defaults, **given}
