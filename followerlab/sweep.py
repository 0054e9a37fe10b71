r"""Sweeps as one run: 10^4–10^6 configurations of a notebook's model in one vectorized pass.

A scenario's ``sweep:`` (``data/scenarios/README.md``) declares axes over a notebook's
parameters.  The batch passes the validated spec to the notebook as one small JSON string
parameter (``sweep``), never the configurations themselves; the notebook calls
:func:`run_sweep`, which

1. :func:`expand`\ s the spec into a table of configurations (one row each): a Cartesian
   *grid* of lists, ``{linspace: [lo, hi, n]}`` and ``{logspace: [lo, hi, n]}`` axes (logspace
   endpoints are *values*, spaced geometrically, :func:`numpy.geomspace`), or ``samples: N``
   points drawn with ``method: random`` (independent uniform draws) or ``method: lhs`` (Latin
   hypercube: each axis' range cut into N equal strata, one point in each, strata paired by
   independent random permutations; McKayBeckmanConover1979) over ``{range: [lo, hi]}`` axes (``log: true``:
   uniform in the logarithm) and lists (a uniformly drawn element);
2. :func:`evaluate`\ s every configuration with the notebook's vectorized model
   (:data:`MODELS`), in chunks of ``chunk_size`` rows, locally or on a Dask distributed cluster
   (``scheduler``); a chunk is evaluated by the same code wherever it runs, so the results are
   identical;
3. marks the Pareto front (:func:`followerlab._pareto.pareto_mask`, O(n log n) for up to three
   objectives; directions from :mod:`followerlab.metrics`), and
4. writes ``results.parquet`` (one row per configuration: the axes, the metrics and
   ``on_front``), ``results.csv`` (the front's first configurations) and ``sweep.json`` (the
   summary the batch index shows) to ``output_dir``; the notebook adds ``sweep.png``
   (:func:`followerlab.plots.sweep_density`).

The models add no formula: they call the library's own vectorized functions on whole arrays
(grouped by the few discrete values a function takes as a scalar, e.g. the head count of
:func:`followerlab.consistency.routing_load`), and ``tests/test_sweep.py`` checks them
configuration by configuration against :func:`followerlab.configuration.weak_metrics`,
:func:`followerlab.configuration.raft_metrics` and :func:`followerlab.raft.write_load`.

Metrics left out of sweeps (too slow per configuration today; see the models' notes): the
admin node's p50/p99 response time and strong read latency (one M/G/1 lattice per
configuration, ~10 ms each), and the Raft leader's queueing latency under load
(:func:`followerlab.raft.write_load`'s quantiles).  Their utilizations and saturation rates
are in.

>>> spec = parse_spec({"axes": {"weak_fraction": {"linspace": [0, 1, 3]}, "nodes": [10, 20]}})
>>> expand(spec)
   weak_fraction  nodes
0            0.0     10
1            0.0     20
2            0.5     10
3            0.5     20
4            1.0     10
5            1.0     20

References
----------
McKayBeckmanConover1979 (Latin hypercube sampling) and KungLuccioPreparata1975 (the Pareto front
of :func:`followerlab._pareto.pareto_mask`), in docs/references.rst.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from . import consistency, metrics, raft
from ._pareto import pareto_mask
from ._results import Result
from .results_io import atomic_write_parquet, atomic_write_text, write_results

__all__ = [
    "MAX_CONFIGURATIONS",
    "MODELS",
    "PLACEMENTS",
    "SweepSpecError",
    "endpoint_values",
    "validate_axes",
    "summary_html",
    "front_long_form",
    "SweepModel",
    "SweepResult",
    "parse_spec",
    "spec_size",
    "expand",
    "evaluate",
    "front_mask",
    "saturated",
    "run_sweep",
    "summary",
    "sweep_schema",
]

#: A sweep may have at most this many configurations (10^7: ~1 GB of results).
MAX_CONFIGURATIONS = 10_000_000

_AXIS_KINDS = ("values", "linspace", "logspace", "range")
_METHODS = ("grid", "random", "lhs")


class SweepSpecError(ValueError):
    """A sweep spec is invalid; ``problems`` lists every problem (``FIELD: what is wrong``)."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


# --------------------------------------------------------------------------------- spec


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _parse_axis(name: str, raw, method: str) -> tuple[dict | None, list[str]]:
    where = f"sweep.axes.{name}"
    if isinstance(raw, dict) and set(raw) == {"values"} and isinstance(raw["values"], list):
        raw = raw["values"]  # the normalized form of a list axis
    if isinstance(raw, list):
        if not raw:
            return None, [f"{where}: needs at least one value"]
        if len({json.dumps(v, sort_keys=True) for v in raw}) < len(raw):
            return None, [f"{where}: a value is listed twice; got {raw!r}"]
        return {"values": list(raw)}, []
    if not isinstance(raw, dict) or len(raw) not in (1, 2) or not (set(raw) - {"log"}) <= set(_AXIS_KINDS[1:]) \
            or len(set(raw) - {"log"}) != 1:
        return None, [f"{where}: expected a list of values, {{linspace: [lo, hi, n]}}, {{logspace: [lo, hi, n]}} "
                      f"or {{range: [lo, hi]}} (with optional log: true); got {raw!r}"]
    kind = next(k for k in raw if k != "log")
    arg = raw[kind]
    log = raw.get("log", False)
    if "log" in raw and (kind != "range" or not isinstance(log, bool)):
        return None, [f"{where}: log: only with range, true or false; got {raw!r}"]
    if kind in ("linspace", "logspace"):
        if method != "grid":
            return None, [f"{where}: {kind} is a grid axis; with samples use {{range: [lo, hi]}}"]
        if not (isinstance(arg, list) and len(arg) == 3 and _is_number(arg[0]) and _is_number(arg[1])
                and isinstance(arg[2], int) and not isinstance(arg[2], bool)):
            return None, [f"{where}: {kind}: expected [lo, hi, n] (two finite numbers and a whole count); got {arg!r}"]
        lo, hi, n = float(arg[0]), float(arg[1]), arg[2]
        if n < 1:
            return None, [f"{where}: {kind}: n must be at least 1; got {n}"]
        if n > 1 and lo == hi:
            return None, [f"{where}: {kind}: lo == hi with n = {n} repeats one value"]
        if kind == "logspace" and (lo <= 0 or hi <= 0):
            return None, [f"{where}: logspace: endpoints must be > 0 (they are values, spaced geometrically); got {arg!r}"]
        return {kind: [lo, hi, n]}, []
    # range
    if method == "grid":
        return None, [f"{where}: range is sampled; give samples: N (and method: random or lhs), "
                      "or use linspace/logspace for a grid"]
    if not (isinstance(arg, list) and len(arg) == 2 and _is_number(arg[0]) and _is_number(arg[1])):
        return None, [f"{where}: range: expected [lo, hi] (two finite numbers); got {arg!r}"]
    lo, hi = float(arg[0]), float(arg[1])
    if not lo < hi:
        return None, [f"{where}: range: needs lo < hi; got {arg!r}"]
    if log and lo <= 0:
        return None, [f"{where}: range with log: true needs lo > 0; got {arg!r}"]
    return {"range": [lo, hi], "log": bool(log)}, []


def parse_spec(raw, *, where: str = "") -> dict:
    """Check a scenario's ``sweep:`` mapping and return it normalized (JSON-able).

    Structure only: the axis names and endpoints are checked against the notebook's parameter
    domains by :func:`validate_axes`.

    Raises
    ------
    SweepSpecError
        Listing every problem as ``sweep.FIELD: what is wrong`` (prefixed with ``where``).

    >>> parse_spec({"samples": 1000, "method": "lhs", "seed": 2, "axes": {"x": {"range": [1, 10], "log": True}}})
    {'method': 'lhs', 'samples': 1000, 'seed': 2, 'axes': {'x': {'range': [1.0, 10.0], 'log': True}}, 'objectives': None, 'workload_axes': []}
    >>> parse_spec({"axes": {"x": {"range": [0, 1]}}})
    Traceback (most recent call last):
    ...
    followerlab.sweep.SweepSpecError: sweep.axes.x: range is sampled; give samples: N (and method: random or lhs), or use linspace/logspace for a grid
    """
    pre = f"{where}: " if where else ""
    problems: list[str] = []
    if not isinstance(raw, dict):
        raise SweepSpecError([f"{pre}sweep: expected a mapping with axes:; got {raw!r}"])
    unknown = sorted(set(raw) - {"axes", "samples", "method", "seed", "objectives", "workload_axes"})
    if unknown:
        problems.append(f"{pre}sweep: unknown key(s) {unknown}; known: axes, samples, method, seed, objectives, "
                        "workload_axes")
    samples = raw.get("samples")
    method = raw.get("method", "grid" if samples is None else "random")
    if method not in _METHODS:
        problems.append(f"{pre}sweep.method: one of grid, random, lhs; got {method!r}")
        method = "grid" if samples is None else "random"
    if samples is not None:
        if isinstance(samples, bool) or not isinstance(samples, int) or not 1 <= samples <= MAX_CONFIGURATIONS:
            problems.append(f"{pre}sweep.samples: a whole number from 1 to {MAX_CONFIGURATIONS}; got {samples!r}")
            samples = 1
        if method == "grid":
            problems.append(f"{pre}sweep.method: grid takes no samples; use random or lhs with samples: N")
    elif method != "grid":
        problems.append(f"{pre}sweep.samples: method {method} needs samples: N")
    seed = raw.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        problems.append(f"{pre}sweep.seed: a whole number >= 0; got {seed!r}")
        seed = 0
    axes_raw = raw.get("axes")
    axes: dict = {}
    if not isinstance(axes_raw, dict) or not axes_raw:
        problems.append(f"{pre}sweep.axes: expected a mapping of parameter: values (at least one); got {axes_raw!r}")
    else:
        for name, a in axes_raw.items():
            parsed, p = _parse_axis(str(name), a, method)
            problems += [pre + x for x in p]
            if parsed is not None:
                axes[str(name)] = parsed
    objectives = raw.get("objectives")
    if objectives is not None and not (isinstance(objectives, list) and objectives
                                       and all(isinstance(o, str) for o in objectives)):
        problems.append(f"{pre}sweep.objectives: a list of metric names; got {objectives!r}")
    workload = raw.get("workload_axes", [])
    if not (isinstance(workload, list) and all(isinstance(w, str) for w in workload)):
        problems.append(f"{pre}sweep.workload_axes: a list of axis names; got {workload!r}")
        workload = []
    for w in workload:
        if isinstance(axes_raw, dict) and w not in axes_raw:
            problems.append(f"{pre}sweep.workload_axes: {w!r} is not an axis of the sweep ({sorted(axes_raw)})")
    spec = {"method": method, "samples": samples, "seed": seed, "axes": axes, "objectives": objectives,
            "workload_axes": list(workload)}
    if not problems:
        n = spec_size(spec)
        if n > MAX_CONFIGURATIONS:
            problems.append(f"{pre}sweep: {n} configurations, more than the {MAX_CONFIGURATIONS} a sweep may have")
    if problems:
        raise SweepSpecError(problems)
    return spec


def spec_size(spec: dict) -> int:
    """Number of configurations of a parsed spec.

    >>> spec_size(parse_spec({"axes": {"a": [1, 2, 3], "b": {"logspace": [1, 100, 5]}}}))
    15
    """
    if spec["method"] != "grid":
        return int(spec["samples"])
    return math.prod(len(a["values"]) if "values" in a else a[next(iter(a))][2] for a in spec["axes"].values())


def _grid_values(axis: dict) -> np.ndarray | list:
    if "values" in axis:
        return axis["values"]
    if "linspace" in axis:
        lo, hi, n = axis["linspace"]
        return np.linspace(lo, hi, n)
    lo, hi, n = axis["logspace"]
    v = np.geomspace(lo, hi, n)
    v[0], v[-1] = lo, hi  # geomspace's endpoints are lo, hi up to rounding; make them exact
    return v


def endpoint_values(axis: dict) -> list:
    """The values of an axis to check against the parameter's domain: every listed value,
    else the two endpoints (interior values of linspace/logspace/range lie between them)."""
    if "values" in axis:
        return list(axis["values"])
    lo, hi = axis[next(k for k in axis if k != "log")][:2]
    return [lo, hi]


def _as_column(values) -> np.ndarray:
    """A list of YAML values as a numpy column (ints stay ints, strings stay objects)."""
    if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values):
        return np.asarray(values, dtype=np.int64)
    if all(_is_number(v) for v in values):
        return np.asarray(values, dtype=float)
    return np.asarray(values, dtype=object)


def expand(spec: dict, integer_axes=()) -> pd.DataFrame:
    """The configurations of a parsed spec, one row each, one column per axis (in spec order).

    Grid: the Cartesian product, the last axis varying fastest.  ``random``: independent
    uniform draws.  ``lhs``: a Latin hypercube (each axis' [0, 1) cut into N strata, one
    uniform point per stratum, strata permuted independently per axis).  A ``range`` axis maps
    u to ``lo + u (hi - lo)`` (``log``: ``lo (hi/lo)^u``); for an axis named in
    ``integer_axes`` a sampled range gives whole numbers ``floor(lo + u (hi - lo + 1))``
    (each of lo..hi equally likely) and a grid value must be whole.  A list axis picks element
    ``floor(u k)``.  Same spec and seed, same table.

    >>> spec = parse_spec({"samples": 4, "method": "lhs", "seed": 0, "axes": {"x": {"range": [0, 4]}}})
    >>> sorted(np.floor(expand(spec)["x"]).astype(int))     # one point in each quarter
    [0, 1, 2, 3]
    """
    integer_axes = set(integer_axes)
    names = list(spec["axes"])
    if spec["method"] == "grid":
        cols = [_grid_values(spec["axes"][k]) for k in names]
        sizes = [len(c) for c in cols]
        n = math.prod(sizes)
        out = {}
        for i, (k, c) in enumerate(zip(names, cols)):
            col = _as_column(list(c)) if not isinstance(c, np.ndarray) else c
            if k in integer_axes and col.dtype != np.int64:
                if col.dtype == object or not np.all(col == np.round(col)):
                    raise ValueError(f"sweep.axes.{k}: a whole-number parameter; the grid gives {list(col)!r}")
                col = np.round(col).astype(np.int64)
            inner = math.prod(sizes[i + 1:])
            out[k] = np.tile(np.repeat(col, inner), n // (inner * sizes[i]))
        return pd.DataFrame(out)
    n, k = int(spec["samples"]), len(names)
    rng = np.random.default_rng(spec["seed"])
    if spec["method"] == "lhs":
        strata = rng.permuted(np.broadcast_to(np.arange(n), (k, n)), axis=1)   # a random permutation per axis
        u = (strata + rng.random((k, n))) / n
    else:
        u = rng.random((k, n))
    out = {}
    for i, name in enumerate(names):
        axis, ui = spec["axes"][name], u[i]
        if "values" in axis:
            col = _as_column(axis["values"])
            out[name] = col[np.minimum((ui * len(col)).astype(np.int64), len(col) - 1)]
            continue
        lo, hi = axis["range"]
        if name in integer_axes:
            if lo != math.floor(lo) or hi != math.floor(hi):
                raise ValueError(f"sweep.axes.{name}: a whole-number parameter needs whole range ends; got {[lo, hi]}")
            if axis["log"]:
                v = np.floor(np.exp(np.log(lo) + ui * (np.log(hi + 1) - np.log(lo))))
            else:
                v = np.floor(lo + ui * (hi - lo + 1))
            out[name] = np.minimum(v, hi).astype(np.int64)
        elif axis["log"]:
            out[name] = np.exp(np.log(lo) + ui * (np.log(hi) - np.log(lo)))
        else:
            out[name] = lo + ui * (hi - lo)
    return pd.DataFrame(out)


# --------------------------------------------------------------------------------- models


@dataclass(frozen=True)
class SweepModel:
    """A notebook's vectorized model for sweeps.

    ``axes``: notebook parameters a sweep may vary; ``extra_axes``: model choices that are not
    notebook parameters (name -> (choices, default)); ``function(configs, base)`` returns one
    metric column per configuration (``base``: the run's other parameters); ``objectives``:
    default Pareto objectives; ``left_out``: metrics the notebook reports that sweeps do not,
    and why.
    """

    notebook: str
    axes: tuple[str, ...]
    extra_axes: dict
    function: Callable
    objectives: tuple[str, ...]
    left_out: str = ""
    integer_axes: tuple[str, ...] = ()
    inputs: tuple[str, ...] = ()


def _grouped(keys: pd.DataFrame):
    """(key tuple, row index array) per distinct row of ``keys``: a loop over the *distinct*
    values of scalar-only inputs, never over configurations."""
    codes = keys.groupby(list(keys.columns), sort=False, observed=True).ngroup().to_numpy()
    order = np.argsort(codes, kind="stable")
    bounds = np.flatnonzero(np.diff(codes[order])) + 1
    for idx in np.split(order, bounds):
        yield tuple(keys.iloc[idx[0]]), idx


def _col(configs: pd.DataFrame, base: dict, name: str, dtype=float) -> np.ndarray:
    if name in configs:
        return configs[name].to_numpy(dtype=dtype)
    return np.full(len(configs), base[name], dtype=dtype)


def _weak_model(configs: pd.DataFrame, base: dict) -> pd.DataFrame:
    """Notebook 02, one routing mode per configuration (see :func:`followerlab.configuration.weak_metrics`)."""
    n = len(configs)
    c = lambda k, dt=float: _col(configs, base, k, dt)  # noqa: E731
    rate, w = c("query_rate_per_s"), c("weak_fraction")
    heads = np.asarray(consistency.query_head_count(c("nodes", np.int64), c("percentage_of_nodes"),
                                                    c("minimum_heads", np.int64), c("maximum_heads", np.int64)).heads,
                       dtype=np.int64)
    planning_s, control_s = c("planning_ms") / 1e3, c("control_ms") / 1e3
    cores = int(base["cores"])
    # admin node: rho_A = ((1 - w) lambda s_q + lambda_c s_c) / k_A (consistency.admin_node_load)
    admin = ((1 - w) * rate * planning_s + c("control_rate_per_s") * control_s) / cores
    stale = consistency.weak_staleness(c("refresh_period_s"), c("refresh_base_s"))
    eff_period = np.broadcast_to(np.asarray(stale.effective_period_s, dtype=float), (n,))
    mode = configs["routing_mode"].to_numpy(dtype=object) if "routing_mode" in configs else \
        np.full(n, "random", dtype=object)
    out = {k: np.full(n, np.nan) for k in ("head_utilization_mean", "head_utilization_hottest",
                                           "read_latency_p50_ms", "read_latency_p99_ms", "cache_hit_ratio",
                                           "p_hottest_head_saturates", "monotonic_read_violation_probability")}
    shares = {"by_database": consistency.hot_key_shares(int(base["databases"]), base["hot_database_share"]),
              "by_session": consistency.zipf_shares(int(base["sessions"]), base["session_zipf_exponent"])}
    gap = c("session_gap_s")
    for (h, m), idx in _grouped(pd.DataFrame({"h": heads, "m": mode})):
        r = consistency.routing_load(
            w[idx] * rate[idx], int(h), m, shares.get(m), planning_s=planning_s[idx], planning_cv=base["planning_cv"],
            head_cores=cores, repeat_rate_per_s=c("repeat_rate_per_s")[idx], cache_max_age_s=c("cache_max_age_s")[idx],
            repeat_fraction=c("repeat_fraction")[idx])
        size = len(idx)
        out["head_utilization_mean"][idx] = np.broadcast_to(r.mean_head_utilization, size)
        out["head_utilization_hottest"][idx] = np.broadcast_to(r.hottest_head_utilization, size)
        out["read_latency_p50_ms"][idx] = 1e3 * np.broadcast_to(r.hottest_head_p50_response_s, size)
        out["read_latency_p99_ms"][idx] = 1e3 * np.broadcast_to(r.hottest_head_p99_response_s, size)
        out["cache_hit_ratio"][idx] = np.broadcast_to(r.cache_hit_ratio, size)
        out["p_hottest_head_saturates"][idx] = np.broadcast_to(r.p_hottest_saturates, size)
        out["monotonic_read_violation_probability"][idx] = np.broadcast_to(
            consistency.monotonic_read_violation_probability(int(h), eff_period[idx], gap[idx], mode=m), size)
    return pd.DataFrame({"heads": heads, "admin_utilization": admin,
                         "staleness_mean_s": np.broadcast_to(stale.mean_s, n).astype(float),
                         "staleness_p99_s": np.broadcast_to(stale.p99_s, n).astype(float), **out})


#: The placements notebook 03 compares (:func:`followerlab.raft.placement_layouts`).
PLACEMENTS = ("3 voters 1-1-1", "REGION 5 voters 2-2-1", "ZONE 3 voters")
_MAX_LATENCY_LAWS = 2000


def _raft_model(configs: pd.DataFrame, base: dict) -> pd.DataFrame:
    """Notebook 03: write latency of a placement (leaseholder reads' write cost) and leader load."""
    from .configuration import round_trip_jitter

    n = len(configs)
    c = lambda k, dt=float: _col(configs, base, k, dt)  # noqa: E731
    rtt = raft.load_rtt(base["rtt_file"])
    home = configs["home_region"].to_numpy(dtype=object) if "home_region" in configs else \
        np.full(n, base["home_region"], dtype=object)
    plc = configs["placement"].to_numpy(dtype=object) if "placement" in configs else \
        np.full(n, PLACEMENTS[0], dtype=object)
    fsync, jitter, intra = c("fsync_ms"), c("jitter_mean_ms"), c("intra_region_rtt_ms")
    keys = pd.DataFrame({"home": home, "placement": plc, "jitter": jitter, "intra": intra})
    n_laws = len(keys.drop_duplicates())
    if n_laws > _MAX_LATENCY_LAWS:
        raise ValueError(f"sweep: {n_laws} distinct (home_region, placement, jitter_mean_ms, intra_region_rtt_ms) "
                         f"combinations; the write-latency law is computed once per combination (at most "
                         f"{_MAX_LATENCY_LAWS}): give jitter_mean_ms and intra_region_rtt_ms as lists")
    p50, p99, voters, survives = np.empty(n), np.empty(n), np.empty(n, dtype=np.int64), np.empty(n)
    deploy_base = list(base["deployment_regions"])
    for (h, name, j, r0), idx in _grouped(keys):
        deploy = list(dict.fromkeys([h, *deploy_base]))
        layout = raft.placement_layouts(rtt, h, deploy)
        if name not in layout:
            raise ValueError(f"sweep.axes.placement: {name!r} is not one of {list(layout)}")
        p = layout[name]
        # C = max(F_L, X_(q-1)) with X_f = RTT + J + F: a constant fsync F shifts C by F exactly
        # (raft.commit_latency_distribution), so one law at F = 0 serves every fsync value
        d = raft.write_latency_distribution(rtt, p, p.leaseholder, 0.0, link_jitter=round_trip_jitter(j),
                                            intra_region_rtt_ms=r0)
        q50, q99 = np.ravel(d.ppf(np.array([0.5, 0.99])))
        p50[idx], p99[idx] = q50 + fsync[idx], q99 + fsync[idx]
        voters[idx] = p.n_voters
        survives[idx] = float(all(raft.survives(p, [r]) for r in set(p.voters)))   # any one region lost
    # leader as a queue (raft.write_load): S = a + (n - 1) f + b p, rho = lambda S / b, lambda* = b / S
    b = c("batch", np.int64)
    service_ms = c("per_append_ms") + (voters - 1) * c("per_follower_ms") + b * _PER_PROPOSAL_MS
    rate = c("write_rate_per_s")
    return pd.DataFrame({"write_latency_p50_ms": p50, "write_latency_p99_ms": p99, "survives_region_failure": survives,
                         "admin_utilization": rate * service_ms / 1e3 / b,
                         "write_saturation_rate_per_s": 1e3 * b / service_ms})


def _write_load_default(name: str) -> float:
    import inspect

    return float(inspect.signature(raft.write_load).parameters[name].default)


_PER_PROPOSAL_MS = _write_load_default("per_proposal_ms")  # notebook 03 uses write_load's default

#: The notebooks with a sweep model, by notebook stem.
MODELS: dict[str, SweepModel] = {
    "02-admin-node-load": SweepModel(
        notebook="02-admin-node-load",
        axes=("query_rate_per_s", "weak_fraction", "nodes", "percentage_of_nodes", "minimum_heads", "maximum_heads",
              "planning_ms", "control_rate_per_s", "control_ms", "refresh_period_s", "refresh_base_s",
              "cache_max_age_s", "repeat_rate_per_s", "repeat_fraction", "session_gap_s"),
        extra_axes={"routing_mode": (consistency.ROUTING_MODES, "random")},
        function=_weak_model,
        objectives=("admin_utilization", "read_latency_p99_ms", "staleness_p99_s"),
        left_out="the admin node's p50/p99 response time and the strong read latency (an exact M/G/1 law per "
                 "distinct configuration: with control commands a transform inversion of ~0.1 ms, or a lattice of "
                 "5-17 ms with a nearly constant class; 10^6 would take minutes to hours); their utilization is in",
        integer_axes=("nodes", "minimum_heads", "maximum_heads"),
        inputs=("query_rate_per_s", "weak_fraction", "nodes", "percentage_of_nodes", "minimum_heads", "maximum_heads",
                "planning_ms", "planning_cv", "control_rate_per_s", "control_ms", "cores", "databases",
                "hot_database_share", "sessions", "session_zipf_exponent", "repeat_fraction", "repeat_rate_per_s",
                "cache_max_age_s", "refresh_period_s", "refresh_base_s", "session_gap_s"),
    ),
    "03-raft-write-latency": SweepModel(
        notebook="03-raft-write-latency",
        axes=("home_region", "fsync_ms", "intra_region_rtt_ms", "jitter_mean_ms", "write_rate_per_s", "batch",
              "per_append_ms", "per_follower_ms"),
        extra_axes={"placement": (PLACEMENTS, PLACEMENTS[0])},
        function=_raft_model,
        objectives=("write_latency_p99_ms", "admin_utilization", "survives_region_failure"),
        left_out="read latencies per path (one per placement and client region, not per write configuration) and "
                 "the leader's queueing latency under load (raft.write_load's exact quantiles are per configuration); "
                 "the leader's utilization and saturation rate are in",
        integer_axes=("batch",),
        inputs=("rtt_file", "home_region", "deployment_regions", "fsync_ms", "intra_region_rtt_ms", "jitter_mean_ms",
                "write_rate_per_s", "batch", "per_append_ms", "per_follower_ms"),
    ),
}


def sweep_schema(notebook) -> dict:
    """``{name: ParameterSpec}`` of a notebook's parameters: the one place sweeps read the schema.

    Today :func:`followerlab.scenarios.notebook_parameters` (the notebook's ``parameters``
    cell); swap this function to read a parameter registry instead.
    """
    from .scenarios import notebook_parameters

    return {s.name: s for s in notebook_parameters(notebook)}


def validate_axes(spec: dict, notebook_stem: str, schema: dict, check_value: Callable, where: str) -> list[str]:
    """Problems with a parsed spec's axes for one notebook (empty list: fine).

    Every axis must be one the notebook's sweep model varies; each listed value and each
    endpoint of a range is checked with ``check_value(name, value)`` (which raises ``ValueError``
    with the reason; the scenario loader passes its pydantic check against the parameter's
    domain) and an extra axis' values against its choices.
    """
    model = MODELS.get(notebook_stem)
    if model is None:
        return [f"{where}: sweep: notebook {notebook_stem} has no sweep model (sweeps run on {sorted(MODELS)}); "
                "use grid: instead"]
    problems = []
    for name, axis in spec["axes"].items():
        fld = f"{where}: sweep.axes.{name}"
        if name in model.extra_axes:
            choices = model.extra_axes[name][0]
            bad = [v for v in endpoint_values(axis) if v not in choices] if "values" in axis else ["(not a list)"]
            if bad:
                problems.append(f"{fld}: one of {list(choices)}, as a list; got {bad!r}")
            continue
        if name not in model.axes or name not in schema:
            why = "not a parameter of the notebook" if name not in schema else "not varied by the notebook's sweep model"
            problems.append(f"{fld}: {why}; a sweep of {notebook_stem} may vary {sorted(model.axes + tuple(model.extra_axes))}")
            continue
        for j, v in enumerate(endpoint_values(axis)):
            if name in model.integer_axes and isinstance(v, float) and v.is_integer():
                v = int(v)
            try:
                check_value(name, v)
            except ValueError as exc:
                which = f"[{j}]" if "values" in axis else (" (low end)" if j == 0 else " (high end)")
                problems.append(f"{fld}{which}: {exc}")
        if name in model.integer_axes and "values" not in axis:
            lo, hi = endpoint_values(axis)
            kind = next(k for k in axis if k != "log")
            if not (float(lo).is_integer() and float(hi).is_integer()):
                problems.append(f"{fld}: a whole-number parameter needs whole ends; got {[lo, hi]}")
            elif kind in ("linspace", "logspace"):
                try:
                    expand({"method": "grid", "axes": {name: axis}}, integer_axes=(name,))
                except ValueError as exc:
                    problems.append(f"{where}: {exc}")
    for o in spec.get("objectives") or model.objectives:
        if not metrics.is_registered(o) or metrics.direction(o) not in ("lower", "higher"):
            problems.append(f"{where}: sweep.objectives: {o!r} is not a registered metric with a direction")
    return problems


# --------------------------------------------------------------------------------- evaluation


def _evaluate_chunk(notebook: str, configs: pd.DataFrame, base: dict) -> pd.DataFrame:
    """One chunk's metrics (what a Dask worker runs)."""
    return MODELS[notebook].function(configs.reset_index(drop=True), base)


def _chunks(n: int, chunk_size: int):
    return [(i, min(i + chunk_size, n)) for i in range(0, n, chunk_size)]


def evaluate(notebook: str, configs: pd.DataFrame, base: dict | None = None, *, chunk_size: int = 250_000,
             scheduler=None) -> pd.DataFrame:
    """Every configuration's metrics: ``configs`` with one column per metric added.

    Parameters
    ----------
    notebook : str
        The notebook stem (a key of :data:`MODELS`).
    configs : DataFrame
        One row per configuration (:func:`expand`), columns = swept parameters.
    base : dict
        The run's other parameters (the notebook's values); missing model inputs are an error.
    chunk_size : int
        Rows per chunk: bounds the memory of one evaluation and is the unit of work sent to a
        cluster.  Results do not depend on it (every metric is computed row by row).
    scheduler : str or distributed.Client, optional
        A Dask distributed scheduler address (``tcp://host:8786``) or a client: the chunks are
        scattered to its workers and evaluated there; without it, here.

    Examples
    --------
    >>> cfg = pd.DataFrame({"write_rate_per_s": [100.0, 400.0], "fsync_ms": [1.0, 5.0]})
    >>> base = {"rtt_file": "crdb-demo-rtt-2019.csv", "home_region": "us-east1",
    ...         "deployment_regions": ["us-east1", "us-west1", "europe-west1"], "intra_region_rtt_ms": 1.0,
    ...         "jitter_mean_ms": 0.0, "batch": 1, "per_append_ms": 1.0, "per_follower_ms": 0.1}
    >>> # write p50: client hop 1 + in-region hop 1 + RTT 64 to the nearest voter + fsync; rho = 100/s * 1.25 ms
    >>> evaluate("03-raft-write-latency", cfg, base)[["fsync_ms", "write_latency_p50_ms", "admin_utilization"]]
       fsync_ms  write_latency_p50_ms  admin_utilization
    0       1.0                  67.0              0.125
    1       5.0                  71.0              0.500
    """
    if notebook not in MODELS:
        raise ValueError(f"notebook must be one of {sorted(MODELS)}; got {notebook!r}")
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a whole number >= 1; got {chunk_size!r}")
    model = MODELS[notebook]
    base = dict(base or {})
    missing = [k for k in model.inputs if k not in base and k not in configs]
    if missing:
        raise ValueError(f"base: {notebook}'s sweep model needs {missing} (neither swept nor given)")
    base = {k: base[k] for k in model.inputs if k in base}   # only the model's inputs travel to workers
    configs = configs.reset_index(drop=True)
    spans = _chunks(len(configs), int(chunk_size))
    if not spans:
        parts = [MODELS[notebook].function(configs, base)]
    elif scheduler is None:
        parts = [_evaluate_chunk(notebook, configs.iloc[a:b], base) for a, b in spans]
    else:
        parts = _evaluate_dask(notebook, configs, base, spans, scheduler)
    metrics_frame = pd.concat(parts, ignore_index=True)
    return pd.concat([configs, metrics_frame], axis=1)


def _evaluate_dask(notebook, configs, base, spans, scheduler):
    from distributed import Client

    own = not isinstance(scheduler, Client)
    client = Client(scheduler, set_as_default=False) if own else scheduler
    try:
        data = client.scatter([configs.iloc[a:b] for a, b in spans])   # the chunks travel as data, not in the graph
        futures = [client.submit(_evaluate_chunk, notebook, d, base, pure=False) for d in data]
        try:
            return client.gather(futures)
        finally:
            client.cancel(futures + data)
    finally:
        if own:
            client.close()


def saturated(results: pd.DataFrame, objectives=()) -> np.ndarray:
    """Rows that are saturated, as :func:`followerlab.compare.assess` judges a configuration
    (the shared rule: :func:`followerlab.metrics.saturation_reasons`): a registered metric at or
    beyond its ``saturates_at`` (a utilization >= 1), or an objective infinite in its bad
    direction.  Such a configuration is infeasible, never on a front."""
    out = np.zeros(len(results), dtype=bool)
    for _name, _kind, rows in metrics.saturation_reasons(results, objectives):
        out |= rows
    return out


def front_mask(results: pd.DataFrame, objectives, workload_axes=()) -> np.ndarray:
    """Pareto-front flags (:func:`followerlab._pareto.pareto_mask`) among the feasible rows, within each workload.

    Directions come from :mod:`followerlab.metrics`; configurations with equal values of every
    ``workload_axes`` column are compared with each other only.  A :func:`saturated`
    configuration is never on the front and dominates nothing (as in the report); one with
    NaN in an objective is never on the front either.
    """
    objectives = list(objectives)
    values = results[objectives].to_numpy(dtype=float, copy=True)
    values[saturated(results, objectives)] = np.nan      # not comparable: off the front, dominates nothing
    directions = ["max" if m else "min" for m in metrics.maximize(objectives)]
    if not workload_axes:
        return pareto_mask(values, directions=directions)
    out = np.zeros(len(results), dtype=bool)
    for _, idx in _grouped(results[list(workload_axes)]):
        out[idx] = pareto_mask(values[idx], directions=directions)
    return out


# --------------------------------------------------------------------------------- a run


@dataclass(frozen=True)
class SweepResult(Result):
    """A finished sweep: the table (one row per configuration), its summary and timings."""

    notebook: str
    table: pd.DataFrame
    summary: dict
    timings_s: dict = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        return self.table

    def front(self) -> pd.DataFrame:
        """The configurations on the Pareto front."""
        return self.table[self.table["on_front"]]

    def __repr__(self) -> str:
        s = self.summary
        return (f"SweepResult({self.notebook}: {s['configurations']} configurations, front {s['front_size']}, "
                f"{s['seconds']['total']:.2f} s)")

    def _repr_html_(self) -> str:
        return summary_html(self.summary)


def summary(notebook: str, spec: dict, table: pd.DataFrame, objectives, *, max_front_rows: int = 20) -> dict:
    """A JSON-able summary of a sweep: sizes, extremes of each objective, the front (capped).

    Extremes: each objective's best and worst finite value over all configurations and the
    configuration with the best; ``front``: up to ``max_front_rows`` front configurations (their
    axes and every metric), in the order of the objectives.
    """
    axes = list(spec["axes"])
    front = table[table["on_front"]]
    extremes = {}
    for o in objectives:
        v = table[o].to_numpy(dtype=float)
        finite = np.isfinite(v)
        better_high = metrics.maximize([o])[0]
        if finite.any():
            i = int(np.flatnonzero(finite)[np.argmax(v[finite]) if better_high else np.argmin(v[finite])])
            worst = float(v[finite].min() if better_high else v[finite].max())
            extremes[o] = {"best": float(v[i]), "worst_finite": worst, "non_finite": int((~finite).sum()),
                           "best_at": {a: _plain(table[a].iloc[i]) for a in axes}}
        else:
            extremes[o] = {"best": None, "worst_finite": None, "non_finite": int(len(v)), "best_at": {}}
    shown = front.sort_values(list(objectives), ascending=[not m for m in metrics.maximize(objectives)])
    shown = shown.head(max_front_rows)
    measured = [c for c in table.columns if c not in axes and metrics.is_registered(c)]   # every metric
    return {
        "notebook": notebook, "method": spec["method"], "configurations": int(len(table)),
        "saturated": int(saturated(table, objectives).sum()),
        "axes": axes, "objectives": list(objectives), "workload_axes": list(spec.get("workload_axes") or []),
        "front_size": int(len(front)), "extremes": extremes,
        "front": [{k: _plain(v) for k, v in row.items()} for row in shown[axes + measured].to_dict("records")],
        "left_out": MODELS[notebook].left_out,
    }


def _plain(v):
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return str(v)
    return v


def summary_html(s: dict, *, link: str | None = None) -> str:
    """The summary as HTML (the batch index and the notebook show this)."""
    import html

    esc = html.escape
    out = [f"<p><b>{s['configurations']:,}</b> configurations ({esc(s['method'])} over {esc(', '.join(s['axes']))}); "
           f"Pareto front on {esc(', '.join(s['objectives']))}"
           + (f" within each workload ({esc(', '.join(s['workload_axes']))})" if s.get("workload_axes") else "")
           + f" among the {s['configurations'] - s.get('saturated', 0):,} not saturated"
           + f": <b>{s['front_size']:,}</b> configurations"
           + (f" (<a href='{esc(link)}'>all rows: results.parquet</a>)" if link else "") + ".</p>",
           "<table><tr><th>objective</th><th>best</th><th>worst (finite)</th><th>not finite</th><th>best at</th></tr>"]
    for o, e in s["extremes"].items():
        at = ", ".join(f"{k} = {_short_value(v)}" for k, v in e["best_at"].items())
        out.append(f"<tr><td>{esc(metrics.label(o))}</td><td class='num'>{esc(metrics.format_value(o, e['best']))}</td>"
                   f"<td class='num'>{esc(metrics.format_value(o, e['worst_finite']))}</td>"
                   f"<td class='num'>{e['non_finite']}</td><td>{esc(at)}</td></tr>")
    out.append("</table>")
    if s["front"]:
        cols = s["axes"] + [o for o in s["objectives"] if o not in s["axes"]]
        out.append(f"<p>Front configurations (first {len(s['front'])} of {s['front_size']:,}):</p><table><tr>"
                   + "".join(f"<th>{esc(c)}</th>" for c in cols) + "</tr>")
        for row in s["front"]:
            out.append("<tr>" + "".join(
                f"<td class='num'>{esc(metrics.format_value(c, row[c]) if metrics.is_registered(c) and not isinstance(row[c], str) else _short_value(row[c]))}</td>"
                for c in cols) + "</tr>")
        out.append("</table>")
    if s.get("left_out"):
        out.append(f"<p class='sub'>Not in sweeps: {esc(s['left_out'])}.</p>")
    return "\n".join(out)


def run_sweep(spec, notebook: str, base: dict, output_dir=None, *, chunk_size: int = 250_000, scheduler=None,
              max_front_rows: int = 20) -> SweepResult:
    """Expand, evaluate, mark the front and write the results of one sweep (a notebook's sweep cell).

    Parameters
    ----------
    spec : dict or str
        The sweep spec (:func:`parse_spec` output, or its JSON as the batch passes it; a
        ``scheduler`` key in it is taken as the ``scheduler`` argument).
    notebook : str
        The notebook stem (a key of :data:`MODELS`).
    base : mapping
        The run's parameters (the notebook's values of everything not swept); a notebook passes
        ``dict(globals())``: only the model's inputs (:attr:`SweepModel.inputs`) are read.
    output_dir : path, optional
        Where ``results.parquet`` (every configuration), ``results.csv`` / ``results.json`` (the
        front's first ``max_front_rows`` configurations in the long form of
        :func:`followerlab.results_io.write_results`, so the batch gathers and compares them
        like any run's results) and ``sweep.json`` go (nothing written when empty).  The notebook
        draws :func:`followerlab.plots.sweep_density` and saves it there as ``sweep.png`` (the
        batch index shows it).

    Returns
    -------
    SweepResult
    """
    t0 = time.perf_counter()
    if isinstance(spec, str):
        spec = json.loads(spec)
    spec = dict(spec)
    scheduler = spec.pop("scheduler", None) or scheduler
    spec = parse_spec(spec)
    if notebook not in MODELS:
        raise ValueError(f"notebook must be one of {sorted(MODELS)}; got {notebook!r}")
    model = MODELS[notebook]
    base = {k: base[k] for k in model.inputs if k in base}
    configs = expand(spec, integer_axes=model.integer_axes)
    t1 = time.perf_counter()
    table = evaluate(notebook, configs, base, chunk_size=chunk_size, scheduler=scheduler)
    t2 = time.perf_counter()
    objectives = list(spec.get("objectives") or model.objectives)
    table["on_front"] = front_mask(table, objectives, spec.get("workload_axes") or ())
    t3 = time.perf_counter()
    s = summary(notebook, spec, table, objectives, max_front_rows=max_front_rows)
    timings = {"expand": t1 - t0, "evaluate": t2 - t1, "front": t3 - t2}
    if output_dir:
        out = Path(output_dir)
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_parquet(out / "results.parquet", table)
        write_results(out, notebook, {**base, "sweep": spec}, front_long_form(s))
        timings["write"] = time.perf_counter() - t3
    timings["total"] = time.perf_counter() - t0
    s["seconds"] = {k: round(v, 4) for k, v in timings.items()}
    if output_dir:
        atomic_write_text(Path(output_dir) / "sweep.json", json.dumps(s, indent=2))
    return SweepResult(notebook=notebook, table=table, summary=s, timings_s=timings)


def front_long_form(s: dict) -> pd.DataFrame:
    """The summary's front configurations as long-form results (``configuration, metric, value, unit``).

    A configuration is named by its axis values (``weak_fraction=0.5, nodes=20``); every
    metric the sweep computed is one row (so the report can judge the rows on its objective
    sets), plus a workload axis that is a registered workload metric (``query_rate_per_s``).
    """
    rows, seen = [], set()
    for row in s["front"]:
        name = ", ".join(f"{a}={_short_value(row[a])}" for a in s["axes"])
        if name in seen:  # equal when rounded: keep names unique
            name += f" #{len(seen) + 1}"
        seen.add(name)
        for o in (k for k in row if k not in s["axes"]):
            if row[o] is not None and not (isinstance(row[o], float) and math.isnan(row[o])):
                rows.append((name, o, float(row[o]), metrics.unit(o)))
        for w in s.get("workload_axes") or ():   # a registered workload metric keeps workloads apart in the report
            if metrics.is_registered(w) and metrics.check_metric(w).role == "workload":
                rows.append((name, w, float(row[w]), metrics.unit(w)))
    return pd.DataFrame(rows, columns=["configuration", "metric", "value", "unit"])


def _short_value(v) -> str:
    return f"{v:.6g}" if isinstance(v, float) else str(v)
