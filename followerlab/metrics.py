"""The metric registry: every metric a notebook may write, with its unit, direction and meaning.

Each notebook writes its results in long form (``configuration, metric, value, unit``; see
:mod:`followerlab.results_io`).  This module is the one place that says what a metric name
means.  The result writer refuses a name that is not registered here; the comparison
(:mod:`followerlab.compare`), the report (:mod:`followerlab.report`), the scenario constraints
(:mod:`followerlab.constraints`) and notebook 04 take labels, units and directions from it.

A :class:`Metric` holds

* ``name`` — the column name the notebooks write (units in the name: ``_s``, ``_ms``, ``_per_s``);
* ``unit`` — the unit of its values (``"1"`` for a dimensionless ratio or probability);
* ``direction`` — ``"lower"`` or ``"higher"`` is better, or ``"none"`` (a description of the
  configuration or workload, not a cost: it can be neither an objective nor a budget);
* ``meaning`` — one line;
* ``mechanisms`` — which of ``follower`` (notebook 01, Kusto follower clusters),
  ``consistency`` (02, query heads), ``raft`` (03, Raft follower reads) report it, and
  ``compare`` for the comparison notebook's own verdicts;
* ``label`` / ``short`` — axis label and compact column header (without the unit);
* ``role`` — ``"outcome"`` (what a configuration costs or gives), ``"workload"`` (an input the
  configuration does not choose, e.g. the query rate a row was computed at: rows with
  different values are different workloads and are never compared) or ``"verdict"``;
* ``saturates_at`` — for a utilization: the value at and above which the station is saturated
  (waits are infinite), so the configuration is infeasible;
* ``unit_aliases`` — other spellings of the unit a writer may use (``"fraction"`` for ``"1"``).

>>> m = get("read_latency_p50_ms")
>>> m.unit, m.direction, m.mechanisms
('ms', 'lower', ('follower', 'consistency', 'raft'))
>>> axis_label("staleness_mean_s")
'mean staleness (s)'
>>> format_value("read_latency_p99_ms", float("inf"))
'∞ (saturated)'
>>> check_metric("staleness_avg_s")
Traceback (most recent call last):
...
ValueError: metric 'staleness_avg_s' is not registered in followerlab.metrics (did you mean 'staleness_mean_s'?); register it there with its unit, direction and meaning
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["Metric", "REGISTRY", "MECHANISMS", "KEY_METRICS", "DEFAULT_OBJECTIVES", "get", "is_registered",
           "check_metric", "check_unit", "label", "axis_label", "short_label", "unit", "direction",
           "maximize", "saturation_reasons", "format_value", "format_with_unit", "registry_frame"]

MECHANISMS = ("follower", "consistency", "raft", "compare")
_DIRECTIONS = ("lower", "higher", "none")
_ROLES = ("outcome", "workload", "verdict")
_ALL3 = ("follower", "consistency", "raft")


@dataclass(frozen=True)
class Metric:
    """One registered metric (see the module docstring for the fields)."""

    name: str
    unit: str
    direction: str
    meaning: str
    mechanisms: tuple[str, ...]
    label: str
    short: str = ""
    role: str = "outcome"
    saturates_at: float | None = None
    unit_aliases: tuple[str, ...] = ()

    def __post_init__(self):
        if self.direction not in _DIRECTIONS:
            raise ValueError(f"Metric {self.name}: direction must be one of {_DIRECTIONS}; got {self.direction!r}")
        if self.role not in _ROLES:
            raise ValueError(f"Metric {self.name}: role must be one of {_ROLES}; got {self.role!r}")
        bad = [m for m in self.mechanisms if m not in MECHANISMS]
        if bad or not self.mechanisms:
            raise ValueError(f"Metric {self.name}: mechanisms must be a non-empty subset of {MECHANISMS}; got {self.mechanisms!r}")


def _m(name, unit, direction, meaning, mechanisms, label, short="", **kw) -> Metric:
    return Metric(name, unit, direction, meaning, tuple(mechanisms), label, short or label, **kw)


def _validation_metrics() -> list[Metric]:
    """Notebook 05 (a real etcd cluster): measured, predicted and error p50/p90 per operation."""
    ops = {"write_latency": "a put at the leader", "read_latency": "a linearizable read at the leader",
           "write_via_follower_latency": "a put sent to a follower",
           "read_via_follower_latency": "a linearizable read sent to a follower",
           "serializable_read_latency": "a serializable read at a follower"}
    out = []
    for base, op in ops.items():
        words = base.replace("_", " ")
        for q in ("p50", "p90"):
            if f"{base}_{q}_ms" not in ("write_latency_p50_ms", "read_latency_p50_ms"):  # shared: registered above
                out.append(_m(f"{base}_{q}_ms", "ms", "lower", f"measured {q} latency of {op} (etcd)", ("raft",),
                              f"{words} {q}", f"{words} {q}"))
            out.append(_m(f"predicted_{base}_{q}_ms", "ms", "lower", f"model prediction of the {q} latency of {op}",
                          ("raft",), f"predicted {words} {q}", f"pred. {words} {q}"))
        out.append(_m(f"error_{base}_p50_ms", "ms", "none",
                      f"measured minus predicted p50 latency of {op} (signed: a check, not a cost)", ("raft",),
                      f"model error, {words} p50", f"error {words} p50"))
    out.append(_m("visibility_t50_ms", "ms", "lower", "measured time after a put until half the follower reads see it",
                  ("raft",), "visibility t50", "visibility t50"))
    out.append(_m("predicted_visibility_t50_ms", "ms", "lower", "model prediction of visibility_t50_ms",
                  ("raft",), "predicted visibility t50", "pred. visibility t50"))
    # notebook 06 (etcd under load)
    out.append(_m("predicted_write_latency_p99_ms", "ms", "lower",
                  "write_load prediction of the p99 latency of a put at the leader at this rate", ("raft",),
                  "predicted write latency p99", "pred. write p99"))
    out.append(_m("write_throughput_per_s", "1/s", "higher", "achieved put throughput at the leader (etcd)",
                  ("raft",), "achieved write throughput", "write throughput"))
    out.append(_m("predicted_read_latency_p99_ms", "ms", "lower",
                  "readindex_read_load prediction of the p99 latency of a linearizable read at the leader at this rate",
                  ("raft",), "predicted read latency p99", "pred. read p99"))
    out.append(_m("read_throughput_per_s", "1/s", "higher", "achieved linearizable-read throughput at the leader (etcd)",
                  ("raft",), "achieved read throughput", "read throughput"))
    return out


_VALIDATION = _validation_metrics()

_METRICS = [
    # shared by the three mechanisms (CONTRIBUTING.md: the shared metric names)
    _m("staleness_mean_s", "s", "lower", "mean time from a write's commit until a read here sees it",
       _ALL3, "mean staleness", "staleness mean"),
    _m("staleness_p99_s", "s", "lower", "99th percentile of the time from commit until a read here sees the write",
       _ALL3, "p99 staleness", "staleness p99"),
    _m("read_latency_p50_ms", "ms", "lower",
       "median read latency as the client sees it (01: incl. scanning hot/cold data; 02: the planning "
       "node's response; 03: the network path)", _ALL3, "read latency p50", "read p50"),
    _m("read_latency_p99_ms", "ms", "lower", "99th percentile read latency as the client sees it",
       _ALL3, "read latency p99", "read p99"),
    _m("write_latency_p50_ms", "ms", "lower",
       "median write latency as the client sees it (quorum commit; commit wait for a global table)",
       ("raft",), "write latency p50", "write p50"),
    _m("write_latency_p99_ms", "ms", "lower", "99th percentile write latency as the client sees it",
       ("raft",), "write latency p99", "write p99"),
    _m("admin_utilization", "1", "lower",
       "utilization of the node that sees everything (leader cluster, database admin node, leaseholder); "
       ">= 1 is saturated", _ALL3, "utilization of the node that sees everything", "admin / leader util.",
       saturates_at=1.0, unit_aliases=("fraction",)),
    # follower clusters (01)
    _m("cold_query_fraction", "1", "lower", "share of queries that read data not in the hot (SSD) cache",
       ("follower",), "cold-query share", "cold share"),
    _m("hot_data_tb", "TB", "lower", "data kept hot (SSD cache) by this configuration",
       ("follower",), "hot data", "hot data"),
    _m("sync_back_to_back", "1", "lower",
       "1 when a metadata sync takes longer than the period, so syncs run back to back (lag grows), else 0",
       ("follower",), "syncs back to back (1 = yes)", "back to back"),
    # query consistency (02)
    _m("query_rate_per_s", "1/s", "none", "query rate this row was computed at (a workload, not a choice)",
       ("consistency",), "query rate", "query rate", role="workload"),
    _m("heads", "count", "none", "query heads planning weak queries", ("consistency",), "query heads", "heads"),
    _m("head_utilization_mean", "1", "lower", "mean utilization of the query heads",
       ("consistency",), "mean head utilization", "head util. mean", saturates_at=1.0),
    _m("head_utilization_hottest", "1", "lower", "utilization of the busiest query head (>= 1 is saturated)",
       ("consistency",), "hottest head utilization", "head util. hottest", saturates_at=1.0),
    _m("p_hottest_head_saturates", "1", "lower",
       "probability that the hash of skewed keys onto heads saturates the hottest head",
       ("consistency",), "P(hottest head saturates)", "P(head saturates)"),
    _m("cache_hit_ratio", "1", "higher", "share of queries answered from the results cache",
       ("consistency",), "results-cache hit ratio", "cache hits"),
    _m("executed_queries_per_s", "1/s", "lower", "queries executed per second after results-cache hits",
       ("consistency",), "executed queries", "executed"),
    _m("monotonic_read_violation_probability", "1", "lower",
       "probability that a session's next query sees older data than its previous one",
       ("consistency",), "P(monotonic-read violation)", "P(non-monotonic)"),
    _m("alert_p_miss_error", "1", "lower", "probability that a 5-minute alert query misses a matching error record",
       ("consistency",), "P(alert misses an error)", "P(alert miss)"),
    _m("records_missed_7d_query", "records", "lower", "expected records a 7-day aggregation misses",
       ("consistency",), "records missed by a 7-day query", "missed (7 d)"),
    # raft (03)
    _m("write_saturation_rate_per_s", "1/s", "higher", "write rate at which the leaseholder saturates",
       ("raft",), "write rate that saturates the leaseholder", "write sat. rate"),
    _m("write_rate_per_s", "1/s", "none", "write rate this row was computed at (a workload, not a choice)",
       ("raft",), "write rate", "write rate", role="workload"),
    # the explorer (notebook 00, followerlab.explore.key_numbers)
    _m("first_query_latency_s", "s", "lower", "latency of the first query after a sync (cold unless prefetched)",
       ("follower",), "first-query latency", "first query"),
    _m("time_to_answer_mean_s", "s", "lower", "mean time from a write until a query answers with it (lag + query)",
       ("follower",), "mean time to answer", "time to answer"),
    _m("admin_utilization_strong_only", "1", "lower", "admin-node utilization if every query were strong",
       ("consistency",), "admin utilization, all strong", "admin util. (strong)", saturates_at=1.0),
    _m("read_latency_mean_ms", "ms", "lower", "mean read latency as the client sees it",
       ("raft",), "read latency mean", "read mean"),
    # derived by followerlab.constraints.derive_metrics for notebook 03's rows (no notebook writes them)
    _m("survives_region_failure", "1", "higher",
       "1 when a quorum of voters survives the loss of any one region (derived from the placement)",
       ("raft",), "survives a region failure (1 = yes)", "survives region"),
    _m("survives_zone_failure", "1", "higher",
       "1 when a quorum survives the loss of one zone (derived; voters in distinct zones: assumed)",
       ("raft",), "survives a zone failure (1 = yes)", "survives zone"),
    *_VALIDATION,
    # the comparison notebook's verdicts (04)
    _m("pareto_optimal", "1", "none", "1 when no feasible configuration of the same workload dominates this one",
       ("compare",), "best in its workload (1 = yes)", "best", role="verdict"),
    _m("feasible", "1", "none", "1 when the configuration is not saturated and meets its scenario's constraints",
       ("compare",), "feasible (1 = yes)", "feasible", role="verdict"),
]

#: Every registered metric by name.
REGISTRY: dict[str, Metric] = {m.name: m for m in _METRICS}
if len(REGISTRY) != len(_METRICS):  # a name registered twice would silently replace the first
    raise RuntimeError(f"followerlab.metrics registers {len(_METRICS) - len(REGISTRY)} metric name(s) twice")

#: The metrics shared across notebooks, in display order.
KEY_METRICS = ["staleness_mean_s", "staleness_p99_s", "read_latency_p50_ms", "read_latency_p99_ms",
               "write_latency_p50_ms", "write_latency_p99_ms", "admin_utilization"]

#: Objectives of a scenario that names none.
DEFAULT_OBJECTIVES = ["staleness_mean_s", "read_latency_p50_ms", "write_latency_p50_ms", "admin_utilization"]


def _suggest(name: str) -> str:
    close = difflib.get_close_matches(str(name), list(REGISTRY), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def is_registered(name) -> bool:
    """Whether ``name`` is a registered metric."""
    return isinstance(name, str) and name in REGISTRY


def check_metric(name) -> Metric:
    """The registered :class:`Metric` called ``name``; ``ValueError`` (with a suggestion) if none is."""
    if not is_registered(name):
        raise ValueError(f"metric {name!r} is not registered in followerlab.metrics{_suggest(name)}; "
                         "register it there with its unit, direction and meaning")
    return REGISTRY[name]


get = check_metric


def check_unit(name: str, unit_) -> str:
    """The registered unit of ``name``; ``ValueError`` if ``unit_`` is neither it nor an alias.

    >>> check_unit("admin_utilization", "fraction")
    '1'
    """
    m = check_metric(name)
    if str(unit_) != m.unit and str(unit_) not in m.unit_aliases:
        raise ValueError(f"metric {name!r} is in {m.unit!r}" + (f" (or {', '.join(map(repr, m.unit_aliases))})"
                         if m.unit_aliases else "") + f"; got unit {unit_!r}")
    return m.unit


def unit(name: str) -> str:
    """The registered unit of ``name``."""
    return check_metric(name).unit


def direction(name: str) -> str:
    """``"lower"``, ``"higher"`` or ``"none"``."""
    return check_metric(name).direction


def maximize(names) -> list[bool]:
    """Per metric, whether larger is better (``ValueError`` for a metric with no direction)."""
    out = []
    for n in names:
        d = direction(n)
        if d == "none":
            raise ValueError(f"metric {n!r} has no direction (it describes a configuration); it cannot be an objective")
        out.append(d == "higher")
    return out


def saturation_reasons(frame: pd.DataFrame, objectives=()) -> list[tuple[str, str, np.ndarray]]:
    """Why rows of a wide results table are saturated: the one rule that the comparison's
    verdicts (:func:`followerlab.compare.assess`) and the sweeps' fronts
    (:func:`followerlab.sweep.saturated`) share.

    A row is saturated when a registered metric with a ``saturates_at`` (a utilization) is at or
    beyond it, or when one of ``objectives`` is infinite in its bad direction (an infinite
    latency, a throughput of -inf).  Columns the frame lacks and NaN values give no reason.

    Returns
    -------
    list of (metric, kind, rows)
        ``kind`` is ``"saturates_at"`` or ``"infinite"``; ``rows`` a boolean array over the frame.

    >>> t = pd.DataFrame({"admin_utilization": [0.5, 1.2, np.nan], "read_latency_p99_ms": [3.0, np.inf, 4.0]})
    >>> [(m, k, r.tolist()) for m, k, r in saturation_reasons(t, ["read_latency_p99_ms"])]
    [('admin_utilization', 'saturates_at', [False, True, False]), ('read_latency_p99_ms', 'infinite', [False, True, False])]
    """
    out = []
    for name, metric in REGISTRY.items():
        if metric.saturates_at is not None and name in frame.columns:
            v = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float)
            out.append((name, "saturates_at", v >= metric.saturates_at))   # NaN compares False
    for name in dict.fromkeys(objectives):
        if name in frame.columns:
            v = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float)
            out.append((name, "infinite", np.isinf(v) & ((v > 0) == (direction(name) == "lower"))))
    return out


def _unit_suffix(u: str) -> str:
    return "" if u in ("1", "") else f" ({u})"


def label(name: str) -> str:
    """The metric's label without unit, or the name itself for an unregistered one."""
    return REGISTRY[name].label if name in REGISTRY else str(name)


def axis_label(name: str) -> str:
    """Label with unit, for an axis: ``'mean staleness (s)'``."""
    if name not in REGISTRY:
        return str(name)
    m = REGISTRY[name]
    return m.label + _unit_suffix(m.unit)


def short_label(name: str) -> str:
    """Compact column header with unit: ``'read p50 (ms)'``."""
    if name not in REGISTRY:
        return str(name)
    m = REGISTRY[name]
    return m.short + _unit_suffix(m.unit)


def format_value(name: str, value, *, missing: str = "not applicable") -> str:
    """A value as a reader should see it: numbers to 4 significant digits, ``inf`` as
    ``'∞ (saturated)'``, a missing value as ``missing``, a 0/1 flag as yes/no.

    >>> format_value("sync_back_to_back", 1.0), format_value("hot_data_tb", None)
    ('yes', 'not applicable')
    >>> format_value("admin_utilization", 1.6)
    '1.6 (saturated)'
    >>> format_with_unit("query_rate_per_s", 30.0), format_with_unit("staleness_mean_s", 61.5)
    ('30/s', '61.5 s')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return missing
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(v):
        return missing
    if math.isinf(v):
        return "∞ (saturated)" if v > 0 else "−∞"
    m = REGISTRY.get(name)
    if m is not None and m.label.endswith("(1 = yes)") and v in (0.0, 1.0):
        return "yes" if v else "no"
    text = f"{v:,.0f}" if abs(v) >= 1e4 else f"{v:.4g}"
    if m is not None and m.saturates_at is not None and v >= m.saturates_at:
        text += " (saturated)"
    return text


def format_with_unit(name: str, value, *, missing: str = "not applicable") -> str:
    """:func:`format_value` followed by the unit (none for ratios, none for words)."""
    text = format_value(name, value, missing=missing)
    u = REGISTRY[name].unit if name in REGISTRY else ""
    if u in ("1", "") or not text[:1].isdigit() and not text.startswith("-"):
        return text
    if u.startswith("1/"):
        return text + u[1:] if " (" not in text else text.replace(" (", f"{u[1:]} (", 1)
    return f"{text} {u}" if " (" not in text else text.replace(" (", f" {u} (", 1)


def registry_frame() -> pd.DataFrame:
    """The registry as a table (one row per metric)."""
    return pd.DataFrame([{"metric": m.name, "unit": m.unit, "direction": m.direction, "role": m.role,
                          "mechanisms": ", ".join(m.mechanisms), "meaning": m.meaning} for m in _METRICS])
