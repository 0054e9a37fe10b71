"""Kusto query consistency: the database admin node, weakly consistent query heads, routing.

Under *strong* consistency (the default) every query's planning and finalization runs on the
single **database admin node**, which also executes every control command and commits metadata
changes.  Under *weak* consistency the planning moves to **query heads** — 20% of the nodes by
default, at least 2 and at most 30 — whose copy of the database metadata is refreshed every
``RefreshPeriodInSeconds`` (120 s by default), so their queries may miss the last minutes of
data.  Four weak routing modes decide which head a query goes to: random, affinitized by
database, by query text (hash) and by session id (hash).

This package gives, vectorized over numpy arrays (every name is importable from
``followerlab.consistency``; the module that defines it in brackets):

* :func:`query_head_count` — how many heads a policy yields (and whether they hold data)
  (``heads``);
* :func:`admin_node_load` — strong vs weak load on the admin node and on the heads (``admin``);
* :func:`head_load_distribution` / :func:`routing_load` — per-mode head load, hottest head,
  p99 latency, results-cache hits and executed-query savings (``routing``);
* :func:`results_cache_hit_ratio` — the TTL-cache hit fraction λT/(1+λT) (``routing``);
* :func:`weak_staleness`, :func:`records_missed` — how stale a head is and what a query over
  the last X minutes misses (``staleness``);
* :func:`monotonic_read_violation_probability` — a session's next query seeing *older* metadata
  (``staleness``);
* :func:`refresh_cost` — the storage load and failure odds of metadata refreshes
  (``staleness``);
* :func:`resolve_consistency` — the effective mode from request properties and policies
  (``policy``: the policy-rules engine, apart from the queueing models);
* :func:`advise` — a small table: which mode and how many heads meet a staleness tolerance and
  an admin-utilization ceiling (``advice``, built on the others).

The modules import one way: ``advice`` → ``heads``, ``admin``, ``routing``, ``staleness``;
``staleness`` → ``routing`` (the mode names); ``policy`` stands alone.

Sources (entries of docs/references.rst): Leibowitz2023 ("Query consistency", 2023),
ADX-QueryConsistency, ADX-WeakConsistencyPolicy, ADX-QueryConsistencyPolicy and ADX-ResultsCache.  Queue formulas come from
:mod:`followerlab.queueing`; the periodic-refresh age from :mod:`followerlab.staleness`.  The
independent simulation is :mod:`followerlab.sim.consistency`.

>>> int(query_head_count(15).heads)      # the policy's example: 15 nodes -> 3 heads
3
>>> float(results_cache_hit_ratio(1.0, 60.0))   # a query repeating every second, 60 s max age
0.9836065573770492
"""

from __future__ import annotations

from ._common import _scalar  # noqa: F401  (private; kept importable from here)
from .admin import _MG1_POINTS, AdminLoad, _mixture_service, admin_node_load  # noqa: F401
from .advice import Advice, advise
from .heads import QueryHeads, query_head_count
from .policy import (  # noqa: F401
    POLICY_VALUES,
    REQUEST_VALUES,
    ConsistencyResolution,
    _parse_policy,
    resolve_consistency,
)
from .routing import (
    MODES,
    ROUTING_MODES,
    HeadLoadDistribution,
    RoutingLoad,
    head_load_distribution,
    hot_key_shares,
    results_cache_hit_ratio,
    routing_load,
    zipf_shares,
)
from .staleness import (
    MissedRecords,
    RefreshCost,
    WeakStaleness,
    monotonic_read_violation_probability,
    records_missed,
    refresh_cost,
    weak_staleness,
)

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

