"""Follower sync: lag until a leader write is queryable, auto-prefetch, leader + follower union.

The follower syncs the leader's metadata periodically; a write becomes queryable at the end of
the next sync, whose duration grows with the changes since the previous one (the
periodic-refresh algebra of :mod:`followerlab.staleness`).  :func:`sync_lag` gives that lag
(auto-prefetch adds warm time per change), :func:`prefetch_tradeoff` staler data with prefetch
against a cold first query without it, :func:`union_window` Leibowitz2021's stored function
that reads the last minutes from the leader and the rest from the follower.

Sources: Leibowitz2021, ADX-Follower and ADX-FollowerCommands in docs/references.rst.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._results import Result
from .._validate import as_float_array, check_probability
from ..staleness import RefreshLag, refresh_lag
from ._common import _as_bool_array

__all__ = ["sync_lag", "prefetch_tradeoff", "PrefetchTradeoff", "union_window", "UnionWindow"]


def sync_lag(
    period_s,
    base_duration_s=0.0,
    duration_per_change_s=0.0,
    change_rate_per_s=0.0,
    *,
    prefetch=False,
    bytes_per_change=0.0,
    warm_bandwidth_bytes_per_s=np.inf,
    method="auto",
) -> RefreshLag:
    r"""Lag from a commit on the leader until it is queryable on the follower.

    The follower syncs every :math:`P` s; a sync carrying :math:`N` metadata changes (new
    extents) takes :math:`D = d_0 + d_1 N`; with auto-prefetch it also warms the new extents
    before finishing, :math:`D = d_0 + (d_1 + s/B)\,N` for extents of :math:`s` bytes warmed at
    :math:`B` bytes/s.  Changes arrive as a Poisson process of rate :math:`m`.  The lag law is
    :func:`followerlab.staleness.refresh_lag` with the per-change cost :math:`d_1 + s/B`; when
    no sync overruns its period (``p_overrun`` <= 1e-6) it is the closed form

    .. math:: E[L] = \frac{P}{2} + d_0 + (d_1 + \mathbb{1}_{prefetch}\,s/B)\, m P ,

    otherwise (a late sync delays the next, which carries more changes and runs longer) the
    exact stationary law from the Markov chain of ``refresh_lag`` (``method`` says which).

    Parameters
    ----------
    period_s : array_like
        Sync period (s) (*assumed*: not published; the seed says the lag is "a few seconds to a
        few minutes").
    base_duration_s, duration_per_change_s : array_like
        :math:`d_0` (s) and :math:`d_1` (s per change), *assumed*.
    change_rate_per_s : array_like
        Metadata changes (extents created) per second on the leader.
    prefetch : bool or array of bool
        ``prefetch-extents`` (default false, Leibowitz2021).
    bytes_per_change : array_like
        Compressed bytes of one new extent (*assumed* constant).
    warm_bandwidth_bytes_per_s : array_like
        Rate at which the follower copies extents from the leader's storage to its SSDs.
    method : {"auto", "closed form", "markov chain"}
        Passed to :func:`followerlab.staleness.refresh_lag` (default: closed form unless syncs
        overrun, then the Markov chain).

    Returns
    -------
    RefreshLag
        ``back_to_back`` / ``unbounded`` flag syncs that cannot keep up; ``method`` says how
        each configuration was computed.

    References
    ----------
    Leibowitz2021, ADX-Follower; the overrun model and its numerics: see
    :func:`followerlab.staleness.refresh_lag` (BaccelliBremaud2003).

    Examples
    --------
    >>> no = sync_lag(60.0, 1.0, 0.001, 2.0)
    >>> pf = sync_lag(60.0, 1.0, 0.001, 2.0, prefetch=True, bytes_per_change=50e6,
    ...               warm_bandwidth_bytes_per_s=200e6)
    >>> float(no.mean_s), round(float(pf.mean_s), 3)     # prefetch: +0.25 s x 120 extents
    (31.12, 61.12)
    """
    pf = _as_bool_array("prefetch", prefetch)
    size = as_float_array("bytes_per_change", bytes_per_change, minimum=0.0)
    bw = as_float_array("warm_bandwidth_bytes_per_s", warm_bandwidth_bytes_per_s,
                        minimum=0.0, strict_minimum=True, allow_inf=True)
    d1 = as_float_array("duration_per_change_s", duration_per_change_s, minimum=0.0)
    return refresh_lag(period_s, base_duration_s, d1 + np.where(pf, size / bw, 0.0), change_rate_per_s,
                       method=method)


@dataclass(frozen=True)
class PrefetchTradeoff(Result):
    """Auto-prefetch on vs off: staler data vs a cold first query (all arrays, seconds).

    Attributes
    ----------
    lag_mean_s_off, lag_mean_s_on, lag_p99_s_off, lag_p99_s_on
        Sync lag without / with prefetch.
    new_bytes_per_sync
        Mean compressed bytes of new extents a sync brings (with the off-regime period).
    first_query_s_off, first_query_s_on
        Latency of the first query that reads the newest extents right after they became
        queryable: cold (blob) without prefetch, hot (SSD) with it.
    newest_cold_probability_off
        Without prefetch, the chance that a query at a random time finds the newest extents not
        yet warmed by the background warm-up (*assumed* to start when the sync ends, at the same
        bandwidth): ``min(1, E[warm time] / effective period)``.
    time_to_answer_mean_s_off, time_to_answer_mean_s_on
        Mean time from a leader commit until a query issued the moment it is visible has
        answered: lag + first-query latency.
    prefetch_better
        ``time_to_answer_mean_s_on < time_to_answer_mean_s_off``.
    crossover_ingest_bytes_per_s
        Ingest rate (compressed bytes/s) at which both are equal in the periodic regime:
        prefetch is better below it (``inf``: always better, 0: never).

    References
    ----------
    Leibowitz2021 and ADX-Follower in docs/references.rst (auto-prefetch: data hot on arrival,
    at the cost of freshness).
    """

    lag_mean_s_off: np.ndarray
    lag_mean_s_on: np.ndarray
    lag_p99_s_off: np.ndarray
    lag_p99_s_on: np.ndarray
    new_bytes_per_sync: np.ndarray
    first_query_s_off: np.ndarray
    first_query_s_on: np.ndarray
    newest_cold_probability_off: np.ndarray
    time_to_answer_mean_s_off: np.ndarray
    time_to_answer_mean_s_on: np.ndarray
    prefetch_better: np.ndarray
    crossover_ingest_bytes_per_s: np.ndarray


def prefetch_tradeoff(
    period_s,
    base_duration_s=0.0,
    duration_per_change_s=0.0,
    change_rate_per_s=0.0,
    *,
    bytes_per_change,
    warm_bandwidth_bytes_per_s,
    query_new_fraction=1.0,
    ssd_latency_s=0.001,
    ssd_throughput_bytes_per_s=2e9,
    blob_latency_s=0.05,
    blob_throughput_bytes_per_s=2e8,
) -> PrefetchTradeoff:
    r"""The auto-prefetch trade: fresher-but-cold (off) vs staler-but-hot (on).

    Without prefetch a sync only makes metadata visible; the first query touching the new
    extents reads them from blob storage ("much higher latency than the local disk", Leibowitz2021;
    no number is published: the latency/throughput defaults are *assumed*).  With prefetch the
    sync also warms them, adding :math:`s/B` per change to the sync (see :func:`sync_lag`).

    With :math:`I = m s` the compressed ingest rate and a query reading a fraction :math:`f` of
    the newest sync's bytes :math:`I P`, in the periodic regime

    .. math::
        T_{on} - T_{off} = I P \Big(\frac{1}{B} + \frac{f}{R_{ssd}} - \frac{f}{R_{blob}}\Big)
                           - (\ell_{blob} - \ell_{ssd}),

    so prefetch wins below the crossover
    :math:`I^* = (\ell_{blob} - \ell_{ssd}) / \big(P (1/B + f/R_{ssd} - f/R_{blob})\big)`.

    Returns
    -------
    PrefetchTradeoff

    References
    ----------
    Leibowitz2021 and ADX-Follower (auto-prefetch: data hot on arrival, at the cost of
    freshness), ADX-CachePolicy (hot data on SSD, cold reads from storage) in
    docs/references.rst.

    Examples
    --------
    >>> t = prefetch_tradeoff(60.0, 1.0, 0.001, 2.0, bytes_per_change=1e6,
    ...                       warm_bandwidth_bytes_per_s=2e8, query_new_fraction=0.1)
    >>> round(float(t.lag_mean_s_on - t.lag_mean_s_off), 3), bool(t.prefetch_better)
    (0.6, False)
    """
    size = as_float_array("bytes_per_change", bytes_per_change, minimum=0.0)
    bw = as_float_array("warm_bandwidth_bytes_per_s", warm_bandwidth_bytes_per_s, minimum=0.0,
                        strict_minimum=True, allow_inf=True)
    f = check_probability("query_new_fraction", query_new_fraction)
    l_ssd = as_float_array("ssd_latency_s", ssd_latency_s, minimum=0.0)
    r_ssd = as_float_array("ssd_throughput_bytes_per_s", ssd_throughput_bytes_per_s, minimum=0.0,
                           strict_minimum=True, allow_inf=True)
    l_blob = as_float_array("blob_latency_s", blob_latency_s, minimum=0.0)
    r_blob = as_float_array("blob_throughput_bytes_per_s", blob_throughput_bytes_per_s, minimum=0.0,
                            strict_minimum=True, allow_inf=True)
    off = sync_lag(period_s, base_duration_s, duration_per_change_s, change_rate_per_s)
    on = sync_lag(period_s, base_duration_s, duration_per_change_s, change_rate_per_s,
                  prefetch=True, bytes_per_change=size, warm_bandwidth_bytes_per_s=bw)
    m = np.asarray(off.change_rate_per_s)
    new_off = m * off.effective_period_s * size
    new_on = m * on.effective_period_s * size
    with np.errstate(invalid="ignore"):
        first_off = np.where(new_off > 0, l_blob + f * new_off / r_blob, l_ssd)  # nothing new: nothing cold
        first_on = l_ssd + f * new_on / r_ssd
        warm_bg = new_off / bw
        p_cold = np.where(new_off > 0, np.minimum(1.0, warm_bg / off.effective_period_s), 0.0)
        p_cold = np.where(off.unbounded, 1.0, p_cold)  # syncs never catch up: the newest data is never warm
    t_off = off.mean_s + first_off
    t_on = on.mean_s + first_on
    P = np.asarray(off.period_s)
    slope = P * (1.0 / bw + f / r_ssd - f / r_blob)
    gain = l_blob - l_ssd
    with np.errstate(divide="ignore", invalid="ignore"):
        cross = np.where(gain <= 0, 0.0, np.where(slope <= 0, np.inf, gain / np.where(slope > 0, slope, 1.0)))
    return PrefetchTradeoff(
        lag_mean_s_off=off.mean_s, lag_mean_s_on=on.mean_s,
        lag_p99_s_off=off.quantile(0.99), lag_p99_s_on=on.quantile(0.99),
        new_bytes_per_sync=new_off[()], first_query_s_off=first_off[()], first_query_s_on=first_on[()],
        newest_cold_probability_off=np.asarray(p_cold)[()],
        time_to_answer_mean_s_off=np.asarray(t_off)[()], time_to_answer_mean_s_on=np.asarray(t_on)[()],
        prefetch_better=np.asarray(t_on < t_off)[()], crossover_ingest_bytes_per_s=np.asarray(cross)[()],
    )


@dataclass(frozen=True)
class UnionWindow(Result):
    r"""Leibowitz2021's stored function: last :math:`W` from the leader, the rest from the follower.

    Attributes
    ----------
    window_s, query_range_s : ndarray
    gap_probability : ndarray
        :math:`P(A > W)`: the follower's snapshot is older than the window, so writes between
        the two parts are missing from the result.
    expected_gap_s : ndarray
        :math:`E[(A - W)^+]`: mean length of that hole (s).  ``W = 0`` is the follower alone:
        the mean snapshot age.
    freshness_gained_s : ndarray
        :math:`E[A] - E[(A - W)^+] = E[\min(A, W)]`; ``W`` when the lag is unbounded (syncs
        never catch up, :math:`A = \infty`), whose hole is then infinite.
    leader_work_share : ndarray
        Share of the query's scan that runs on the leader, :math:`\min(W, R)/R` (data spread
        evenly in time).

    References
    ----------
    Leibowitz2021 in docs/references.rst (the stored function that unions recent data from the
    leader with older data from the follower).
    """

    window_s: np.ndarray
    query_range_s: np.ndarray
    gap_probability: np.ndarray
    expected_gap_s: np.ndarray
    freshness_gained_s: np.ndarray
    leader_work_share: np.ndarray


def union_window(lag: RefreshLag, window_s, query_range_s) -> UnionWindow:
    r"""Freshness gained and leader work of the leader+follower union (Leibowitz2021).

    The function reads ``[start, now - W]`` on the follower and ``[now - W, now]`` on the
    leader (filtering on the record timestamp, *assumed* equal to ingestion time).  The
    follower holds everything committed before its snapshot, taken :math:`A` s ago, with
    :math:`A` the snapshot age at a random query time; its law is ``lag`` (exact mean; exact
    CDF up to :math:`P + d_0`, see :mod:`followerlab.staleness`).  The result misses the writes
    committed in :math:`(now - A, now - W)`, a hole of length :math:`(A - W)^+`.

    Parameters
    ----------
    lag : RefreshLag
        From :func:`sync_lag`.
    window_s : array_like
        :math:`W` (s), >= 0 (Leibowitz2021's example: 5 min).
    query_range_s : array_like
        The query's time range :math:`R` (s), > 0.

    References
    ----------
    Leibowitz2021 in docs/references.rst (the stored function that unions the last minutes from
    the leader with the rest from the follower; its 5-minute example).

    Examples
    --------
    >>> u = union_window(sync_lag(60.0, 2.0), [0.0, 300.0], 3600.0)
    >>> u.expected_gap_s.tolist(), u.gap_probability.tolist(), round(float(u.leader_work_share[1]), 4)
    ([32.0, 0.0], [1.0, 0.0], 0.0833)
    """
    if not isinstance(lag, RefreshLag):
        raise ValueError(f"lag must be a RefreshLag (from sync_lag); got {type(lag).__name__}")
    w = as_float_array("window_s", window_s, minimum=0.0)
    r = as_float_array("query_range_s", query_range_s, minimum=0.0, strict_minimum=True, allow_inf=True)
    gap_p = 1.0 - lag.cdf(w)
    gap = lag.expected_excess_s(w)
    # E[A] - E[(A - W)^+] = E[min(A, W)]; an unbounded lag (syncs never catch up) makes A = inf,
    # so the union gains the whole window W (never inf - inf)
    unbounded = np.asarray(lag.unbounded, dtype=bool)
    with np.errstate(invalid="ignore"):
        gained = np.where(unbounded, w, lag.mean_s - gap)
    share = np.minimum(w, r) / r
    w, r, gap_p, gap, gained, share = np.broadcast_arrays(w, r, gap_p, gap, gained, share)
    return UnionWindow(w[()], r[()], gap_p[()], gap[()], gained[()], share[()])
