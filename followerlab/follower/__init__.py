r"""Kusto follower databases: sync lag, auto-prefetch, overrides, table selection, union window.

A *follower* cluster attaches a leader's database read-only; both read the leader's storage
account.  The follower syncs the leader's metadata periodically ("a lag of a few seconds to a
few minutes", growing with "the amount of metadata changes ... between sequential
synchronizations"), may override the caching policy and the authorized principals
(modification kinds ``none | union | replace``), may follow only some tables, and may warm new
extents as part of each sync (auto-prefetch).  Sources (entries of docs/references.rst):
Leibowitz2021 (blog "Follower clusters in Kusto", 2021), ADX-Follower, ADX-FollowerCommands and
ADX-CachePolicy; every number not published there is marked *assumed*.

Contents (every name is importable from ``followerlab.follower``; the module that defines it in
brackets)

* :func:`sync_lag` - lag until a leader write is queryable on the follower (periodic-refresh
  algebra of :mod:`followerlab.staleness`, prefetch adds warm time per change) (``sync``).
* :func:`prefetch_tradeoff` - staler data with prefetch vs a cold first query without it, and
  the crossover ingest rate (``sync``).
* :func:`effective_caching`, :func:`effective_principals`, :func:`parse_timespan_s` - caching
  policy and principals overrides (set algebra), Kusto timespans (``overrides``).
* :func:`cache_cost`, :func:`workload_read_latency` - hot data size, cold share and latency of
  a workload's queries (``cache``).
* :func:`select_tables`, :func:`select_entities` - ``TableLevelSharingProperties``
  (``selection``).
* :func:`union_window` - Leibowitz2021's leader+follower stored function (``sync``).
* :func:`estimate_lag`, :func:`fit_sync_model`, :func:`split_faq_output` - lag from the FAQ's
  max-ingestion-time observations, and a fit of (P, d0, d1) (``observed``).

The modules share only the toolkits and the private ``_common``; none imports another.
"""

from __future__ import annotations

from ._common import _as_bool_array  # noqa: F401  (private; kept importable from here)
from .cache import CacheCost, ReadLatency, cache_cost, workload_read_latency
from .observed import LagEstimate, SyncFit, estimate_lag, fit_sync_model, split_faq_output
from .overrides import (
    MODIFICATION_KINDS,
    EffectiveCaching,
    Principals,
    effective_caching,
    effective_principals,
    parse_timespan_s,
)
from .selection import MAX_SHARING_ENTRIES, EntitySelection, TableSelection, select_entities, select_tables
from .sync import PrefetchTradeoff, UnionWindow, prefetch_tradeoff, sync_lag, union_window

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

