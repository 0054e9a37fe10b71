r"""Kusto follower databases: sync lag, auto-prefetch, overrides, table selection, union window.

A *follower* cluster attaches a leader's database read-only; both read the leader's storage
account.  The follower syncs the leader's metadata periodically ("a lag of a few seconds to a
few minutes", growing with "the amount of metadata changes ... between sequential
synchronizations"), may override the caching policy and the authorized principals
(modification kinds ``none | union | replace``), may follow only some tables, and may warm new
extents as part of each sync (auto-prefetch).  Sources (entries of docs/references.rst):
Leibowitz2021 (blog "Follower clusters in Kusto", 2021), ADX-Follower, ADX-FollowerCommands and
ADX-CachePolicy; every number not published there is marked *assumed*.

Contents

* :func:`sync_lag` - lag until a leader write is queryable on the follower (periodic-refresh
  algebra of :mod:`followerlab.staleness`, prefetch adds warm time per change).
* :func:`prefetch_tradeoff` - staler data with prefetch vs a cold first query without it, and
  the crossover ingest rate.
* :func:`effective_caching`, :func:`cache_cost`, :func:`workload_read_latency` - caching policy
  overrides, hot data size, cold share and latency of a workload's queries.
* :func:`effective_principals` - principals override as set algebra.
* :func:`select_tables`, :func:`select_entities` - ``TableLevelSharingProperties``.
* :func:`union_window` - Leibowitz2021's leader+follower stored function.
* :func:`estimate_lag`, :func:`fit_sync_model`, :func:`split_faq_output` - lag from the FAQ's
  max-ingestion-time observations, and a fit of (P, d0, d1).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import optimize

from ._results import Result
from ._stats import weighted_quantile
from ._validate import as_float_array, check_choice, check_probability
from .staleness import RefreshLag, refresh_lag

__all__ = [
    "MODIFICATION_KINDS", "MAX_SHARING_ENTRIES",
    "parse_timespan_s", "sync_lag", "prefetch_tradeoff", "PrefetchTradeoff",
    "effective_caching", "EffectiveCaching", "cache_cost", "CacheCost",
    "workload_read_latency", "ReadLatency",
    "effective_principals", "Principals",
    "select_tables", "select_entities", "TableSelection", "EntitySelection",
    "union_window", "UnionWindow",
    "estimate_lag", "LagEstimate", "fit_sync_model", "SyncFit", "split_faq_output",
]

#: Override modification kinds (Leibowitz2021; the attach API defaults to ``union``).
MODIFICATION_KINDS = ("none", "union", "replace")
#: At most this many entries over all include/exclude lists (TableLevelSharingProperties).
MAX_SHARING_ENTRIES = 100

_DAY = 86400.0


def _as_bool_array(name: str, value) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype != bool:
        raise ValueError(f"{name} must be a boolean or an array of booleans; got {value!r}")
    return arr


# --------------------------------------------------------------------------------------------
# timespans
# --------------------------------------------------------------------------------------------
_UNIT_S = {"d": _DAY, "h": 3600.0, "m": 60.0, "min": 60.0, "s": 1.0, "ms": 1e-3}
_SPAN_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(d|h|min|m|s|ms)\s*$")
_CLOCK_RE = re.compile(r"^\s*(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2}(?:\.\d+)?)\s*$")


def parse_timespan_s(value, name: str = "timespan"):
    """Seconds in a Kusto timespan: a number (s), ``"90d"``, ``"12h"``, ``"30m"``, ``"0d"``,
    ``"1.12:00:00"`` or ``"00:05:00"``; ``None`` stays ``None`` (no policy).

    >>> parse_timespan_s("90d"), parse_timespan_s("1.12:00:00"), parse_timespan_s(30)
    (7776000.0, 129600.0, 30.0)
    >>> parse_timespan_s("ninety days", "hot")
    Traceback (most recent call last):
    ...
    ValueError: hot must be a timespan like '90d', '12h', '1.12:00:00' or seconds; got 'ninety days'
    """
    if value is None:
        return None
    if isinstance(value, str):
        m = _SPAN_RE.match(value)
        if m:
            return float(m.group(1)) * _UNIT_S[m.group(2)]
        m = _CLOCK_RE.match(value)
        if m:
            days = float(m.group(1) or 0)
            return days * _DAY + float(m.group(2)) * 3600 + float(m.group(3)) * 60 + float(m.group(4))
        raise ValueError(f"{name} must be a timespan like '90d', '12h', '1.12:00:00' or seconds; got {value!r}")
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a timespan like '90d', '12h', '1.12:00:00' or seconds; got {value!r}")
    return float(as_float_array(name, value, minimum=0.0, allow_inf=True))


# --------------------------------------------------------------------------------------------
# 1-2. sync lag and auto-prefetch
# --------------------------------------------------------------------------------------------
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


# --------------------------------------------------------------------------------------------
# 3. caching policy overrides
# --------------------------------------------------------------------------------------------
def _span_map(name: str, mapping) -> dict[str, float | None]:
    if mapping is None:
        return {}
    if not isinstance(mapping, Mapping):
        raise ValueError(f"{name} must be a mapping of table name to hot span; got {mapping!r}")
    out = {}
    for k, v in mapping.items():
        if not isinstance(k, str) or not k:
            raise ValueError(f"{name} keys must be non-empty table names; got {k!r}")
        out[k] = parse_timespan_s(v, f"{name}[{k!r}]")
    return out


@dataclass(frozen=True)
class EffectiveCaching(Result):
    """The hot span each table ends up with on the follower.

    Attributes
    ----------
    tables : tuple of str
    hot_span_s : ndarray
        Effective hot span per table (s); ``inf`` = everything hot (null policy).
    source : tuple of str
        Which policy decided it: ``override table``, ``override database``, ``leader table``,
        ``leader database`` or ``none (all hot)``.
    kind : str
    """

    tables: tuple
    hot_span_s: np.ndarray
    source: tuple
    kind: str

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"table": list(self.tables), "hot_span_s": self.hot_span_s,
                             "hot_span_d": self.hot_span_s / _DAY, "source": list(self.source)})


def effective_caching(
    tables: Iterable[str],
    *,
    leader_database_hot=None,
    leader_table_hot=None,
    override_database_hot=None,
    override_table_hot=None,
    kind: str = "union",
) -> EffectiveCaching:
    """Effective hot span per table on a follower after a caching-policy override.

    Semantics (Leibowitz2021, ADX-FollowerCommands): a table-level policy beats the database-level one; no policy
    at all (null) means everything is hot.  The override's modification kind:

    * ``none``: the leader's policies only; the override is ignored.
    * ``union`` (attach API default): the leader's policies plus the override's; where both
      define a policy for the same entity and level the override's wins (*assumed*: the docs
      say "add additional policies on top", and following a 90-day leader with a 7-day
      follower override is the documented cost-control use).
    * ``replace``: the leader's policies are dropped; the override stands alone.  An empty
      override set therefore means no policy: everything is cached.  A database override of
      ``0d`` caches nothing (unless a table override says otherwise).

    Parameters
    ----------
    tables : iterable of str
        The followed tables.
    leader_database_hot, override_database_hot : timespan or None
        Database-level hot span (``"1d"``, seconds, ...); ``None`` = no policy.
    leader_table_hot, override_table_hot : mapping of table -> timespan, optional
    kind : {'none', 'union', 'replace'}

    Examples
    --------
    >>> e = effective_caching(["T1", "T2"], leader_database_hot="1d", override_database_hot="90d",
    ...                       leader_table_hot={"T2": "7d"})
    >>> (e.hot_span_s / 86400).tolist(), e.source
    ([90.0, 7.0], ('override database', 'leader table'))
    >>> effective_caching(["T1"], leader_database_hot="1d", kind="replace").hot_span_s.tolist()
    [inf]
    """
    kind = check_choice("kind", kind, MODIFICATION_KINDS)
    if isinstance(tables, str):
        raise ValueError(f"tables must be a list of table names, not a single string; got {tables!r}")
    tables = tuple(tables)
    for t in tables:
        if not isinstance(t, str) or not t:
            raise ValueError(f"tables must hold non-empty table names; got {t!r}")
    ldb = parse_timespan_s(leader_database_hot, "leader_database_hot")
    odb = parse_timespan_s(override_database_hot, "override_database_hot")
    ltab = _span_map("leader_table_hot", leader_table_hot)
    otab = _span_map("override_table_hot", override_table_hot)
    for name, mp in (("leader_table_hot", ltab), ("override_table_hot", otab)):
        unknown = sorted(set(mp) - set(tables))
        if unknown:
            raise ValueError(f"{name} names tables that are not followed: {unknown}")
    if kind == "none":
        levels = [("leader table", ltab), ("leader database", ldb)]
    elif kind == "replace":
        levels = [("override table", otab), ("override database", odb)]
    else:
        levels = [("override table", otab), ("leader table", ltab),
                  ("override database", odb), ("leader database", ldb)]
    spans, sources = [], []
    for t in tables:
        for label, policy in levels:
            value = policy.get(t) if isinstance(policy, dict) else policy
            if value is not None:
                spans.append(value)
                sources.append(label)
                break
        else:
            spans.append(np.inf)
            sources.append("none (all hot)")
    return EffectiveCaching(tables, np.asarray(spans, dtype=float), tuple(sources), kind)


@dataclass(frozen=True)
class CacheCost(Result):
    """Hot data size and the cold share of a workload for a hot span.

    Attributes
    ----------
    hot_span_s : ndarray
    hot_bytes : ndarray
        Compressed bytes kept hot: ingest rate x min(span, retention) / compression ratio.
    ssd_bytes_needed : ndarray
        ``hot_bytes / 0.95`` (Kusto keeps 95 % of the SSD for hot data, ADX-CachePolicy).
    cold_query_fraction : ndarray
        Share of queries whose time range reaches past the hot span (they read blob storage).
    cold_scan_fraction : ndarray
        Share of scanned data that is cold, :math:`E[(R-h)^+]/E[R]`, data spread evenly in time.
    """

    hot_span_s: np.ndarray
    hot_bytes: np.ndarray
    ssd_bytes_needed: np.ndarray
    cold_query_fraction: np.ndarray
    cold_scan_fraction: np.ndarray


def _lookback_samples(lookback_s) -> np.ndarray:
    r = as_float_array("lookback_s", lookback_s, minimum=0.0)
    if r.ndim != 1 or r.size == 0:
        raise ValueError(f"lookback_s must be a non-empty 1-D array of query time ranges (s); got shape {r.shape}")
    return r


def cache_cost(hot_span_s, ingest_bytes_per_s, lookback_s, *, compression_ratio=1.0,
               retention_s=np.inf) -> CacheCost:
    r"""Hot bytes, SSD needed and cold share of a workload, vectorized over the span.

    Caching is by *ingestion time* (ADX-CachePolicy): an extent is hot while younger than the span.  A
    query looking back :math:`R` seconds reaches data :math:`R' = \min(R, \text{retention})`
    old, so it reads cold data iff :math:`R' > h`; with data spread evenly in time its cold share
    of bytes is :math:`(R' - h)^+ / R'`.

    Parameters
    ----------
    hot_span_s : array_like
        Effective hot span(s) (s); ``inf`` = all hot.
    ingest_bytes_per_s : array_like
        Uncompressed ingest rate (bytes/s).
    lookback_s : 1-D array
        The workload: time range of each query (samples, or quantiles of a distribution:
        ``dist.ppf((np.arange(n) + 0.5) / n)``).
    compression_ratio : array_like
        Uncompressed / compressed size (*assumed*; depends on the data).
    retention_s : array_like
        Retention (s): nothing older is stored.

    Examples
    --------
    >>> c = cache_cost([86400.0, 90 * 86400.0], 1e6, [3600.0, 7 * 86400.0], compression_ratio=10)
    >>> c.hot_bytes.tolist(), c.cold_query_fraction.tolist()
    ([8640000000.0, 777600000000.0], [0.5, 0.0])
    """
    h = as_float_array("hot_span_s", hot_span_s, minimum=0.0, allow_inf=True)
    rate = as_float_array("ingest_bytes_per_s", ingest_bytes_per_s, minimum=0.0)
    cr = as_float_array("compression_ratio", compression_ratio, minimum=0.0, strict_minimum=True)
    ret = as_float_array("retention_s", retention_s, minimum=0.0, strict_minimum=True, allow_inf=True)
    r = _lookback_samples(lookback_s)
    h, rate, cr, ret = np.broadcast_arrays(h, rate, cr, ret)
    kept = np.minimum(h, ret)
    with np.errstate(invalid="ignore"):
        hot = np.where(kept > 0, rate * kept / cr, 0.0)
    rr = np.minimum(r.reshape((-1,) + (1,) * h.ndim), ret)  # nothing older than retention is stored
    cold_q = np.mean(rr > h, axis=0)
    total = rr.sum(axis=0)
    with np.errstate(invalid="ignore"):
        cold_s = np.where(total > 0, np.sum(np.maximum(rr - h, 0.0), axis=0) / np.where(total > 0, total, 1), 0.0)
    return CacheCost(h[()], hot[()], (hot / 0.95)[()], np.asarray(cold_q)[()], np.asarray(cold_s)[()])


@dataclass(frozen=True)
class ReadLatency(Result):
    """Latency of a workload's queries (s): mean, median, 99th percentile, cold share."""

    mean_s: np.ndarray
    p50_s: np.ndarray
    p99_s: np.ndarray
    cold_query_fraction: np.ndarray


def workload_read_latency(
    lookback_s,
    hot_span_s,
    *,
    scan_bytes_per_s_of_range,
    base_latency_s=0.2,
    ssd_throughput_bytes_per_s=2e9,
    blob_latency_s=0.05,
    blob_throughput_bytes_per_s=2e8,
    newest_cold_probability=0.0,
    newest_cold_bytes=0.0,
) -> ReadLatency:
    r"""Latency distribution of a workload's queries given the hot span (vectorized over configs).

    A query looking back :math:`R` s scans :math:`b R` compressed bytes
    (``scan_bytes_per_s_of_range``); the part younger than the hot span :math:`h` is read from
    SSD, the rest from blob storage:

    .. math:: T(R) = t_0 + \frac{b \min(R, h)}{R_{ssd}} + \frac{b (R - h)^+}{R_{blob}}
              + \ell_{blob}\,\mathbb{1}[R > h].

    Without prefetch, with probability :math:`p` (``newest_cold_probability``, see
    :func:`prefetch_tradeoff`) the newest extents are not warm yet: add
    :math:`\ell_{blob} + c\,(1/R_{blob} - 1/R_{ssd})` for their :math:`c` bytes.
    Quantiles are those of this mixture over the workload's samples (exact for the discrete
    workload given).  Every latency parameter is *assumed* (nothing is published).

    Examples
    --------
    >>> r = workload_read_latency([3600.0] * 9 + [30 * 86400.0], [86400.0, 90 * 86400.0],
    ...                           scan_bytes_per_s_of_range=1e4, base_latency_s=0.2)
    >>> r.cold_query_fraction.tolist(), [round(x, 2) for x in r.p99_s.tolist()]
    ([0.1, 0.0], [125.96, 13.16])
    """
    r = _lookback_samples(lookback_s)
    h = as_float_array("hot_span_s", hot_span_s, minimum=0.0, allow_inf=True)
    b = as_float_array("scan_bytes_per_s_of_range", scan_bytes_per_s_of_range, minimum=0.0)
    t0 = as_float_array("base_latency_s", base_latency_s, minimum=0.0)
    rs = as_float_array("ssd_throughput_bytes_per_s", ssd_throughput_bytes_per_s, minimum=0.0,
                        strict_minimum=True, allow_inf=True)
    lb = as_float_array("blob_latency_s", blob_latency_s, minimum=0.0)
    rb = as_float_array("blob_throughput_bytes_per_s", blob_throughput_bytes_per_s, minimum=0.0,
                        strict_minimum=True, allow_inf=True)
    p = check_probability("newest_cold_probability", newest_cold_probability)
    c = as_float_array("newest_cold_bytes", newest_cold_bytes, minimum=0.0, allow_inf=True)
    h, b, t0, rs, lb, rb, p, c = np.broadcast_arrays(h, b, t0, rs, lb, rb, p, c)
    R = r.reshape((-1,) + (1,) * h.ndim)
    cold = R > h
    base = t0 + b * np.minimum(R, h) / rs + b * np.maximum(R - h, 0.0) / rb + lb * cold
    extra = lb + c * (1.0 / rb - 1.0 / rs)
    n = r.size
    values = np.concatenate([np.broadcast_to(base, (n,) + h.shape), base + extra])
    weights = np.concatenate([np.broadcast_to((1 - p) / n, (n,) + h.shape),
                              np.broadcast_to(p / n, (n,) + h.shape)])
    with np.errstate(invalid="ignore"):
        mean = np.sum(np.where(weights > 0, values * weights, 0.0), axis=0)
    p50 = weighted_quantile(values, weights, 0.5)
    p99 = weighted_quantile(values, weights, 0.99)
    cold_q = np.mean(cold, axis=0)
    return ReadLatency(mean[()], p50[()], p99[()], np.asarray(cold_q)[()])


# --------------------------------------------------------------------------------------------
# 4. principals
# --------------------------------------------------------------------------------------------
def _principal_set(name: str, value) -> frozenset:
    if value is None:
        return frozenset()
    if isinstance(value, (str, bytes)):
        raise ValueError(f"{name} must be a collection of (role, principal) pairs; got {value!r}")
    out = set()
    for item in value:
        if (not isinstance(item, tuple) or len(item) != 2
                or not all(isinstance(x, str) and x.strip() for x in item)):
            raise ValueError(f"{name} must hold (role, principal) pairs of non-empty strings; got {item!r}")
        out.add((item[0].strip().lower(), item[1].strip()))
    return frozenset(out)


@dataclass(frozen=True)
class Principals(Result):
    """Effective authorized principals of a followed database.

    Attributes
    ----------
    principals : frozenset of (role, principal)
    added, removed : frozenset
        Relative to the leader's set.
    kind : str
    """

    principals: frozenset
    added: frozenset
    removed: frozenset
    kind: str

    def to_frame(self) -> pd.DataFrame:
        rows = sorted(self.principals)
        return pd.DataFrame({"role": [r for r, _ in rows], "principal": [p for _, p in rows],
                             "added": [x in self.added for x in rows]})


def effective_principals(leader, override, kind: str = "union") -> Principals:
    """Authorized principals on the follower: set algebra over (role, principal) pairs.

    ``none``: the leader's set; ``union``: leader's | override's; ``replace``: the override's
    alone (Leibowitz2021: "completely replace the set of principals defined on the leader").  Only
    possible at database level.  Roles compare case-insensitively (``Viewers`` == ``viewers``).

    Examples
    --------
    >>> lead = {("admins", "aaduser=alice@contoso.com"), ("viewers", "aadgroup=analysts")}
    >>> over = {("viewers", "aadapp=dashboard")}
    >>> len(effective_principals(lead, over, "union").principals)
    3
    >>> sorted(effective_principals(lead, over, "replace").principals)
    [('viewers', 'aadapp=dashboard')]
    """
    kind = check_choice("kind", kind, MODIFICATION_KINDS)
    lead = _principal_set("leader", leader)
    over = _principal_set("override", override)
    result = {"none": lead, "union": lead | over, "replace": over}[kind]
    return Principals(frozenset(result), frozenset(result - lead), frozenset(lead - result), kind)


# --------------------------------------------------------------------------------------------
# 5. table selection
# --------------------------------------------------------------------------------------------
_PATTERN_RE = re.compile(r"^[A-Za-z0-9_ .\-*]+$")


def _patterns(name: str, value) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        raise ValueError(f"{name} must be a list of names or wildcards, not a single string; got {value!r}")
    try:
        items = tuple(value)
    except TypeError:
        raise ValueError(f"{name} must be a list of names or wildcards; got {value!r}") from None
    for p in items:
        if not isinstance(p, str) or not p.strip() or not _PATTERN_RE.match(p) or "**" in p:
            raise ValueError(
                f"{name} entries must be entity names or '*' wildcards (letters, digits, _ . - space, *); got {p!r}")
    return items


def _matches(name: str, pattern: str) -> bool:
    regex = "^" + ".*".join(re.escape(part) for part in pattern.split("*")) + "$"
    return re.match(regex, name) is not None


def _select(names: tuple, include: tuple, exclude: tuple) -> tuple[tuple, tuple, tuple]:
    chosen = [n for n in names if (not include or any(_matches(n, p) for p in include))
              and not any(_matches(n, p) for p in exclude)]
    unmatched_inc = tuple(p for p in include if not any(_matches(n, p) for n in names))
    unmatched_exc = tuple(p for p in exclude if not any(_matches(n, p) for n in names))
    return tuple(chosen), unmatched_inc, unmatched_exc


def _names(name: str, value) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        raise ValueError(f"{name} must be a list of names, not a single string; got {value!r}")
    items = tuple(value)
    for n in items:
        if not isinstance(n, str) or not n:
            raise ValueError(f"{name} must hold non-empty names; got {n!r}")
    if len(set(items)) != len(items):
        raise ValueError(f"{name} has duplicate names: {sorted({n for n in items if items.count(n) > 1})}")
    return items


@dataclass(frozen=True)
class TableSelection(Result):
    """Which entities a follower sees, and which patterns matched nothing (typos?).

    Attributes
    ----------
    tables : tuple of str
        The available entities, in the leader's order.
    unmatched_include, unmatched_exclude : tuple of str
        Patterns that matched no entity (e.g. Leibowitz2021's ``tableAPrivate``).
    """

    tables: tuple
    unmatched_include: tuple
    unmatched_exclude: tuple

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"table": list(self.tables)})


def select_tables(tables, include=(), exclude=()) -> TableSelection:
    """Tables available on the follower: include/exclude lists with ``*`` wildcards.

    An empty include list means all; exclude wins over include; at most 100 entries in all
    (ADX-FollowerCommands, ``TableLevelSharingProperties``).  Names match case-sensitively.

    Examples
    --------
    Leibowitz2021's three examples (its third excludes ``tableAPrivate``; the table is
    ``tableA_private``: the stated result needs the exclusion to name it, a typo):

    >>> db = ["tableA", "tableA2", "tableA_private", "tableB", "tableC", "tableD"]
    >>> select_tables(db, include=["tableA", "tableB", "tableC"]).tables
    ('tableA', 'tableB', 'tableC')
    >>> select_tables(db, exclude=["tableD", "tableE"]).tables
    ('tableA', 'tableA2', 'tableA_private', 'tableB', 'tableC')
    >>> select_tables(db, include=["tableA*", "tableB*"], exclude=["tableA_private"]).tables
    ('tableA', 'tableA2', 'tableB')
    >>> select_tables(db, include=["tableA*", "tableB*"], exclude=["tableAPrivate"]).unmatched_exclude
    ('tableAPrivate',)
    """
    names = _names("tables", tables)
    inc = _patterns("include", include)
    exc = _patterns("exclude", exclude)
    if len(inc) + len(exc) > MAX_SHARING_ENTRIES:
        raise ValueError(f"include + exclude may hold at most {MAX_SHARING_ENTRIES} entries; got {len(inc) + len(exc)}")
    return TableSelection(*_select(names, inc, exc))


_ENTITY_KINDS = ("tables", "external_tables", "materialized_views", "functions")


@dataclass(frozen=True)
class EntitySelection(Result):
    """Entities available on the follower per kind (``TableLevelSharingProperties``).

    Attributes
    ----------
    tables, external_tables, materialized_views, functions : tuple of str
    added_source_tables : tuple of str
        Tables included only because an included materialized view reads them.
    unmatched : tuple of str
        ``"<list>: <pattern>"`` for every pattern that matched nothing.
    """

    tables: tuple
    external_tables: tuple
    materialized_views: tuple
    functions: tuple
    added_source_tables: tuple
    unmatched: tuple

    def to_frame(self) -> pd.DataFrame:
        rows = [(k, n) for k in _ENTITY_KINDS for n in getattr(self, k)]
        return pd.DataFrame(rows, columns=["kind", "name"])


def select_entities(
    *,
    tables=(),
    external_tables=(),
    materialized_views=None,
    functions=(),
    tables_to_include=(), tables_to_exclude=(),
    external_tables_to_include=(), external_tables_to_exclude=(),
    materialized_views_to_include=(), materialized_views_to_exclude=(),
    functions_to_include=(), functions_to_exclude=(),
) -> EntitySelection:
    """The full ``TableLevelSharingProperties`` selection over the four entity kinds.

    Each kind: empty include = all, exclude wins, ``*`` wildcards; at most 100 entries over all
    eight lists.  ``materialized_views`` maps each view to its source table; including a view
    also includes its source table (ADX-FollowerCommands), even when the table lists would leave it out
    (*assumed* precedence: the view cannot work without it; reported in
    ``added_source_tables``).

    Examples
    --------
    >>> s = select_entities(tables=["Logs", "LogsRaw", "Users"], materialized_views={"LogsByHour": "LogsRaw"},
    ...                     tables_to_include=["Logs"], materialized_views_to_include=["*"])
    >>> s.tables, s.added_source_tables
    (('Logs', 'LogsRaw'), ('LogsRaw',))
    """
    mv = {} if materialized_views is None else materialized_views
    if not isinstance(mv, Mapping):
        raise ValueError(f"materialized_views must map view name to its source table; got {mv!r}")
    entities = {
        "tables": _names("tables", tables),
        "external_tables": _names("external_tables", external_tables),
        "materialized_views": _names("materialized_views", tuple(mv)),
        "functions": _names("functions", functions),
    }
    lists = {
        "tables": (tables_to_include, tables_to_exclude),
        "external_tables": (external_tables_to_include, external_tables_to_exclude),
        "materialized_views": (materialized_views_to_include, materialized_views_to_exclude),
        "functions": (functions_to_include, functions_to_exclude),
    }
    parsed = {k: (_patterns(f"{k}_to_include", i), _patterns(f"{k}_to_exclude", e)) for k, (i, e) in lists.items()}
    total = sum(len(i) + len(e) for i, e in parsed.values())
    if total > MAX_SHARING_ENTRIES:
        raise ValueError(f"the include/exclude lists may hold at most {MAX_SHARING_ENTRIES} entries in all; got {total}")
    for view, source in mv.items():
        if source not in entities["tables"]:
            raise ValueError(f"materialized_views[{view!r}] reads {source!r}, which is not in tables")
    chosen, unmatched = {}, []
    for kind in _ENTITY_KINDS:
        inc, exc = parsed[kind]
        chosen[kind], ui, ue = _select(entities[kind], inc, exc)
        unmatched += [f"{kind}_to_include: {p}" for p in ui] + [f"{kind}_to_exclude: {p}" for p in ue]
    needed = {mv[v] for v in chosen["materialized_views"]}
    added = tuple(t for t in entities["tables"] if t in needed and t not in chosen["tables"])
    tabs = tuple(t for t in entities["tables"] if t in chosen["tables"] or t in added)
    return EntitySelection(tabs, chosen["external_tables"], chosen["materialized_views"], chosen["functions"],
                           added, tuple(unmatched))


# --------------------------------------------------------------------------------------------
# 6. leader + follower union
# --------------------------------------------------------------------------------------------
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


# --------------------------------------------------------------------------------------------
# 7. lag from observations (Leibowitz2021's FAQ query)
# --------------------------------------------------------------------------------------------
_TIME_COLUMNS = ("max_ingestion_time", "max_ingestion_time_", "max_ingestion_time_s")


def _time_series(name: str, value) -> tuple[np.ndarray, np.ndarray | None]:
    """Seconds (float) and the probe times (or None) from a path, frame, series or array."""
    if isinstance(value, (str, Path)):
        path = Path(value)
        if not path.exists():
            raise ValueError(f"{name}: no such file {str(path)!r}")
        value = pd.read_csv(path)
    probe = None
    if isinstance(value, pd.DataFrame):
        cols = [c for c in _TIME_COLUMNS if c in value.columns]
        if not cols:
            raise ValueError(f"{name} needs a column {_TIME_COLUMNS[0]!r}; has {list(value.columns)}")
        if "probe_time" in value.columns:
            probe = _to_seconds(f"{name}.probe_time", value["probe_time"])
        value = value[cols[0]]
    return _to_seconds(name, value), probe


def _to_seconds(name: str, value) -> np.ndarray:
    s = pd.Series(value) if not isinstance(value, pd.Series) else value
    if s.size == 0:
        raise ValueError(f"{name} is empty: need at least one max-ingestion-time observation")
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        arr = s.to_numpy(dtype=float)
    else:
        try:
            t = pd.to_datetime(s, utc=True, format="ISO8601")
        except (ValueError, TypeError):
            raise ValueError(f"{name} must hold datetimes or seconds; got {s.iloc[0]!r}") from None
        arr = np.where(t.isna(), np.nan, (t - pd.Timestamp("1970-01-01", tz="UTC")).dt.total_seconds())
    if np.isnan(arr).any():
        raise ValueError(f"{name} has missing values at rows {np.flatnonzero(np.isnan(arr))[:5].tolist()}")
    return arr


@dataclass(frozen=True)
class LagEstimate(Result):
    """Observed follower lag (leader max ingestion time minus the follower's), in seconds.

    Attributes
    ----------
    lag_s : ndarray
        One sample per probe, in probe order.
    n, mean_s, std_s, p50_s, p99_s : scalars
    negative : int
        Probes where the follower looked ahead of the leader (clock/timing noise; kept).
    probe_time_s : ndarray
        Probe times (s since the epoch) when matched on ``probe_time``, else NaN.
    """

    lag_s: np.ndarray
    n: int
    mean_s: float
    std_s: float
    p50_s: float
    p99_s: float
    negative: int
    probe_time_s: np.ndarray

    def cdf(self, t_s) -> np.ndarray:
        """Empirical CDF at ``t_s``."""
        t = as_float_array("t_s", t_s, allow_inf=True)
        return np.searchsorted(np.sort(self.lag_s), t, side="right") / self.n

    def sf(self, t_s) -> np.ndarray:
        """1 - cdf(t_s)."""
        return 1.0 - self.cdf(t_s)

    def ppf(self, q) -> np.ndarray:
        """Inverse of the empirical CDF: the smallest sample with ``cdf >= q``.

        (``p50_s`` / ``p99_s`` interpolate between samples, numpy's default, so they can differ
        from ``ppf(0.5)`` / ``ppf(0.99)`` by less than one gap between neighbouring samples.)
        """
        q = check_probability("q", q)
        return np.quantile(self.lag_s, q, method="inverted_cdf")

    def mean(self) -> float:
        """Sample mean (s): the ``mean_s`` field."""
        return self.mean_s

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"n": [self.n], "mean_s": [self.mean_s], "std_s": [self.std_s],
                             "p50_s": [self.p50_s], "p99_s": [self.p99_s], "negative": [self.negative]})


def estimate_lag(leader_times, follower_times) -> LagEstimate:
    r"""Lag distribution from the seed FAQ's ``max(ingestion_time())`` probes of both clusters.

    At each probe time :math:`t` the leader reports its newest ingestion time
    :math:`t - \epsilon_1` and the follower the newest one in its snapshot,
    :math:`t - A - \epsilon_2`, with :math:`\epsilon_i` the gap since the last ingestion
    before each cut (about :math:`\mathrm{Exp}(m)` for ingestion at rate :math:`m`).  The
    difference :math:`A + \epsilon_2 - \epsilon_1` is the snapshot age :math:`A` plus noise of
    mean 0 and variance :math:`\approx 2/m^2`: unbiased, and precise when ingestion is frequent.

    Parameters
    ----------
    leader_times, follower_times : path, DataFrame, Series or array
        Max ingestion times (datetimes or seconds).  A CSV path or DataFrame needs a column
        ``max_ingestion_time``; if both have ``probe_time`` the probes are matched on it (the
        same probe times on both sides), otherwise by position (same length required).

    Examples
    --------
    >>> e = estimate_lag(["2026-01-01T00:10:00Z", "2026-01-01T00:20:00Z"],
    ...                  ["2026-01-01T00:09:30Z", "2026-01-01T00:19:00Z"])
    >>> e.lag_s.tolist(), e.mean_s
    ([30.0, 60.0], 45.0)
    """
    lead, lead_probe = _time_series("leader_times", leader_times)
    foll, foll_probe = _time_series("follower_times", follower_times)
    if lead_probe is not None and foll_probe is not None:
        a = pd.Series(lead, index=lead_probe)
        b = pd.Series(foll, index=foll_probe)
        if a.index.has_duplicates or b.index.has_duplicates:
            raise ValueError("probe_time must be unique within each of leader_times and follower_times")
        only = a.index.symmetric_difference(b.index)
        if len(only):
            raise ValueError(f"probe_time values must match between leader_times and follower_times; "
                             f"{len(only)} occur in only one (first: {only[0]!r})")
        joined = pd.concat([a.rename("l"), b.rename("f")], axis=1, join="inner").sort_index()
        lead, foll = joined["l"].to_numpy(), joined["f"].to_numpy()
        probes = joined.index.to_numpy(dtype=float)
    elif lead.size != foll.size:
        raise ValueError(f"leader_times and follower_times must have the same length; got {lead.size} and {foll.size}")
    else:
        probes = np.full(lead.size, np.nan)
    lag = lead - foll
    return LagEstimate(lag, int(lag.size), float(lag.mean()), float(lag.std(ddof=1)) if lag.size > 1 else 0.0,
                       float(np.quantile(lag, 0.5)), float(np.quantile(lag, 0.99)), int(np.sum(lag < 0)), probes)


def split_faq_output(frame, leader_url: str, follower_url: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split the FAQ query's stacked output (``cluster_url, max_ingestion_time`` [, ``probe_time``])
    into the leader's and the follower's rows.

    >>> f = pd.DataFrame({"cluster_url": ["L", "F"], "max_ingestion_time": [10.0, 4.0]})
    >>> [len(x) for x in split_faq_output(f, "L", "F")]
    [1, 1]
    """
    if isinstance(frame, (str, Path)):
        if not Path(frame).exists():
            raise ValueError(f"frame: no such file {str(frame)!r}")
        frame = pd.read_csv(frame)
    if "cluster_url" not in frame.columns:
        raise ValueError(f"frame needs a 'cluster_url' column; has {list(frame.columns)}")
    out = []
    for name, url in (("leader_url", leader_url), ("follower_url", follower_url)):
        part = frame[frame["cluster_url"] == url]
        if part.empty:
            raise ValueError(f"{name} {url!r} does not occur in cluster_url ({sorted(frame['cluster_url'].unique())})")
        out.append(part.reset_index(drop=True))
    return out[0], out[1]


@dataclass(frozen=True)
class SyncFit(Result):
    """Fitted sync model (P, d0, d1) and the Cramér-von Mises distance of the fit."""

    period_s: float
    base_duration_s: float
    duration_per_change_s: float
    cvm_distance: float
    n: int


def fit_sync_model(lag_s, change_rate_per_s) -> SyncFit:
    r"""Fit (P, d0, d1) of :func:`sync_lag` to observed lags by a Cramér-von Mises criterion.

    Minimizes :math:`\sum_g \sum_i (F_g(x_{(i)}) - (i - \tfrac12)/n_g)^2` over the groups
    :math:`g` of equal change rate :math:`m_g`.  With a single change rate :math:`d_0` and
    :math:`d_1` are separated only through the spread of :math:`D` (:math:`d_1^2 m P`): observe
    at two or more ingest rates to pin them.  The FAQ measures snapshot ages, whose law equals
    the lag law below :math:`P + d_0` and shares its mean (see :mod:`followerlab.staleness`).

    Parameters
    ----------
    lag_s : 1-D array
        Observed lags (s), e.g. ``estimate_lag(...).lag_s``; at least 10.
    change_rate_per_s : scalar or 1-D array
        Leader metadata changes per second during each observation.

    Examples
    --------
    >>> from followerlab.sim.follower import simulate_follower
    >>> sims = [simulate_follower(60.0, 3.0, 0.02, m, horizon_s=60.0 * 400, seed=s) for m, s in ((1.0, 1), (5.0, 2))]
    >>> t = np.random.default_rng(3).uniform(1200.0, 60.0 * 380, 300)    # probes at random times
    >>> lags = np.concatenate([s.probe_lag_s(t) for s in sims])
    >>> fit = fit_sync_model(lags, np.repeat([1.0, 5.0], t.size))
    >>> round(fit.period_s, -1), round(fit.duration_per_change_s, 2)   # true: 60 s, 0.02 s
    (60.0, 0.02)
    """
    x = as_float_array("lag_s", lag_s, minimum=0.0)
    if x.ndim != 1 or x.size < 10:
        raise ValueError(f"lag_s must be a 1-D array of at least 10 observed lags; got shape {x.shape}")
    m = np.broadcast_to(as_float_array("change_rate_per_s", change_rate_per_s, minimum=0.0), x.shape)
    groups = [np.flatnonzero(m == g) for g in np.unique(m)]
    xs = np.concatenate([np.sort(x[i]) for i in groups])
    ms = np.concatenate([m[i] for i in groups])
    pos = np.concatenate([(np.arange(len(i)) + 0.5) / len(i) for i in groups])
    # moments: mean = P/2 + d0 + d1 m P, var = P^2/12 + d1^2 m P
    means = np.array([x[i].mean() for i in groups])
    mvals = np.array([m[i][0] for i in groups])
    p0 = max(np.sqrt(12.0 * min(x[i].var() for i in groups)), 1e-3)
    slope = np.polyfit(mvals, means, 1)[0] if len(groups) > 1 else 0.0
    d1_0 = max(slope / p0, 0.0)
    d0_0 = max(float(means[0] - p0 / 2 - d1_0 * mvals[0] * p0), 0.0)

    def loss(theta):
        P, d0, d1 = np.exp(theta[0]), abs(theta[1]), abs(theta[2])
        return float(np.sum((refresh_lag(P, d0, d1, ms).cdf(xs) - pos) ** 2))

    best = None
    for start in ([np.log(p0), d0_0, d1_0], [np.log(p0), 0.5 * (d0_0 + 1e-3), 2 * d1_0 + 1e-4]):
        res = optimize.minimize(loss, start, method="Nelder-Mead",
                                options={"xatol": 1e-7, "fatol": 1e-10, "maxiter": 4000})
        if best is None or res.fun < best.fun:
            best = res
    P, d0, d1 = float(np.exp(best.x[0])), abs(float(best.x[1])), abs(float(best.x[2]))
    return SyncFit(P, d0, d1, float(best.fun) / x.size, int(x.size))
