"""Follower cache: hot data size and cold share of a caching policy, and a workload's read latency.

:func:`cache_cost` gives the hot data a hot span keeps on the follower's SSD and the share of
a lookback that reads cold data; :func:`workload_read_latency` the mean, median and 99th
percentile latency of a workload's queries with hot and cold reads.

Sources: Leibowitz2021 and ADX-CachePolicy in docs/references.rst.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._results import Result
from .._stats import weighted_quantile
from .._validate import as_float_array, check_probability

__all__ = ["cache_cost", "CacheCost", "workload_read_latency", "ReadLatency"]


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

    References
    ----------
    ADX-CachePolicy in docs/references.rst (hot span by ingestion time; 95 % of the SSD for hot
    data).
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

    References
    ----------
    ADX-CachePolicy (hot span by ingestion time; 95 % of the SSD for hot data) and Leibowitz2021
    (a follower may keep a different hot span than its leader) in docs/references.rst.

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
    """Latency of a workload's queries (s): mean, median, 99th percentile, cold share.

    References
    ----------
    ADX-CachePolicy and HyndmanFan1996 in docs/references.rst.
    """

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

    References
    ----------
    ADX-CachePolicy (hot data read from SSD, cold data from storage), Leibowitz2021 (without
    auto-prefetch the newest extents may still be cold) and HyndmanFan1996 (quantiles of the
    workload's discrete mixture: the inverted weighted empirical CDF) in docs/references.rst.

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
