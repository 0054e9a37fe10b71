"""Comparing configurations from a gathered batch table: wide tables and Pareto fronts.

The batch runner (:mod:`followerlab.batch`) gathers every run's long-form results into one
table with columns ``scenario, base_scenario, notebook, run_id, configuration, metric, value,
unit, param_*``.  This module turns it into one row per configuration (:func:`wide_table`) and
finds the configurations no other beats on every objective (:func:`pareto_front`).

A configuration *dominates* another when it is no worse on every objective and strictly
better on at least one (objectives minimized, or maximized where the metric registry
:mod:`followerlab.metrics` says higher is better):

.. math::

    j \\succ i \\iff \\forall k:\\ v_{jk} \\le v_{ik} \\ \\wedge\\ \\exists k:\\ v_{jk} < v_{ik}

The Pareto front is the set of configurations that no other dominates.

:func:`assess` gives each configuration an honest verdict: configurations that are
saturated or break their scenario's constraints (:mod:`followerlab.constraints`) are
*infeasible* and never best; the others are compared only with the configurations of the
same *workload* (same scenario, notebook, workload grid axes and workload metrics such as the
query rate) on the objectives their scenario names.

>>> import numpy as np
>>> pareto_front(np.array([[1.0, 5.0], [2.0, 2.0], [3.0, 3.0], [5.0, 1.0]]))
array([ True,  True, False,  True])
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from . import metrics as M

__all__ = ["KEY_METRICS", "OBJECTIVES", "METRIC_LABELS", "load_results", "wide_table", "pareto_front",
           "pareto_by_group", "assess", "merge_identical", "STATUSES"]

#: The metrics shared across notebooks, in display order (from :mod:`followerlab.metrics`).
KEY_METRICS = list(M.KEY_METRICS)

#: The default objectives of a Pareto front (a scenario may name its own; see
#: :mod:`followerlab.constraints`).
OBJECTIVES = list(M.DEFAULT_OBJECTIVES)

#: Axis labels with units for every registered metric (from :mod:`followerlab.metrics`).
METRIC_LABELS = {name: M.axis_label(name) for name in M.REGISTRY}

#: The verdicts :func:`assess` gives a configuration.
STATUSES = ("best", "dominated", "infeasible", "not compared")

_REQUIRED = ["scenario", "notebook", "configuration", "metric", "value", "unit"]


def load_results(path: str | Path) -> pd.DataFrame:
    """Read a gathered table (``results.parquet`` or ``results.csv``) and check its columns.

    Raises
    ------
    ValueError
        If the file is missing, has an unknown suffix, or lacks a required column.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"path: results table not found: {path}")
    if path.suffix == ".parquet":
        table = pd.read_parquet(path)
    elif path.suffix == ".csv":
        table = pd.read_csv(path)
    else:
        raise ValueError(f"path must end in .parquet or .csv; got {str(path)!r}")
    missing = [c for c in _REQUIRED if c not in table.columns]
    if missing:
        raise ValueError(f"path: {path} lacks the columns {missing}")
    table["value"] = pd.to_numeric(table["value"], errors="coerce")
    return table


def wide_table(table: pd.DataFrame, metrics=None) -> pd.DataFrame:
    """One row per (scenario, notebook, configuration), one column per metric.

    The index columns come first: ``scenario``, ``base_scenario`` and ``label`` (when the
    table has them), ``notebook``, ``run_id`` (when present), ``configuration``.

    Parameters
    ----------
    table : DataFrame
        The gathered long table.
    metrics : list of str, optional
        Columns to keep, in order (missing metrics become NaN columns); default: the
        :data:`KEY_METRICS` present plus any other metric, sorted.

    Raises
    ------
    ValueError
        If a (scenario, notebook, configuration, metric) appears twice.
    """
    missing = [c for c in _REQUIRED if c not in table.columns]
    if missing:
        raise ValueError(f"table lacks the columns {missing}")
    keys = ["scenario", "notebook", "configuration", "metric"]
    dup = table.duplicated(keys)
    if dup.any():
        raise ValueError(f"table has duplicate rows for {table.loc[dup, keys].head(3).to_dict('records')}")
    index = ["scenario"] + [c for c in ("base_scenario", "label") if c in table.columns] + ["notebook"] \
        + (["run_id"] if "run_id" in table.columns else []) + ["configuration"]
    wide = table.pivot(index=index, columns="metric", values="value")
    wide.columns.name = None
    if metrics is None:
        present = list(wide.columns)
        metrics = [m for m in KEY_METRICS if m in present] + sorted(m for m in present if m not in KEY_METRICS)
    wide = wide.reindex(columns=list(metrics))
    return wide.reset_index()


def pareto_front(values, *, maximize=None) -> np.ndarray:
    """Which rows of ``values`` (n configurations × k objectives) are Pareto-optimal.

    Parameters
    ----------
    values : array_like, shape (n, k)
        Objective values, minimized (``inf`` allowed, e.g. a saturated queue's latency).
    maximize : sequence of bool, optional
        Per objective, whether larger is better (negated internally).

    Returns
    -------
    numpy.ndarray of bool, shape (n,)
        True where no other row dominates.  A row with NaN in any objective is not comparable
        and is never on the front (False).

    Notes
    -----
    Vectorized pairwise comparison, O(n² k) memory and time: fine for the thousands of
    configurations a batch produces.  Equal rows do not dominate each other (both stay).

    >>> pareto_front([[1, 1], [1, 1], [2, 0]])
    array([ True,  True,  True])
    """
    try:
        v = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"values must be numbers; got {values!r}") from None
    if v.ndim != 2:
        raise ValueError(f"values must be a 2-d array (configurations × objectives); got shape {v.shape}")
    if maximize is not None:
        flip = np.asarray(maximize, dtype=bool)
        if flip.shape != (v.shape[1],):
            raise ValueError(f"maximize must have one entry per objective ({v.shape[1]}); got {list(flip)}")
        v = np.where(flip, -v, v)
    ok = ~np.isnan(v).any(axis=1)
    w = v[ok]
    le = (w[:, None, :] <= w[None, :, :]).all(axis=2)  # le[j, i]: j no worse than i everywhere
    lt = (w[:, None, :] < w[None, :, :]).any(axis=2)
    dominated = (le & lt).any(axis=0)
    front = np.zeros(len(v), dtype=bool)
    front[np.flatnonzero(ok)] = ~dominated
    return front


def pareto_by_group(wide: pd.DataFrame, objectives=None, *, by: str = "notebook") -> pd.Series:
    """Pareto-optimal flags among comparable configurations: same ``by`` column (default: the
    notebook) and the same set of reported objectives.

    Notebooks report different metrics (a follower-cluster model has no write latency; a Raft
    notebook reports write latency for its placements and read latency for its read paths), so a
    front across them would compare a missing value with a measured one.  Rows are grouped by
    ``by`` and by which of ``objectives`` (default :data:`OBJECTIVES`) they report; each group's
    front is taken over exactly those.  A row reporting none of the objectives is False.

    >>> w = pd.DataFrame({"notebook": ["a", "a", "b", "b"], "staleness_mean_s": [1.0, 2.0, 9.0, None],
    ...                   "read_latency_p50_ms": [5.0, 6.0, 1.0, None],
    ...                   "write_latency_p50_ms": [None, None, None, 70.0]})
    >>> pareto_by_group(w).tolist()
    [True, False, True, True]
    """
    objectives = [m for m in (objectives or OBJECTIVES) if m in wide.columns]
    flags = pd.Series(False, index=wide.index, name="pareto")
    if not objectives:
        return flags
    pattern = wide[objectives].notna()
    keys = [wide[by]] + [pattern[m] for m in objectives]
    for _, group in wide.groupby(keys, sort=False):
        cols = [m for m in objectives if group[m].notna().all()]
        if cols:
            flags.loc[group.index] = pareto_front(group[cols].to_numpy(float))
    return flags


def _fmt_param(v) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "not recorded"
    if isinstance(v, float) and v.is_integer():
        return f"{v:g}"
    return str(v)


def _saturation(row, reasons, i, objectives) -> str:
    """Why row ``i`` is saturated ('' when it is not): the reasons of
    :func:`followerlab.metrics.saturation_reasons` that hold for it, an infinite objective only
    when it is one of this row's ``objectives`` (in their order)."""
    why = [f"{M.REGISTRY[name].label} {M.format_value(name, float(row[name])).replace(' (saturated)', '')} "
           f"≥ {M.REGISTRY[name].saturates_at:g}" for name, kind, rows in reasons if kind == "saturates_at" and rows[i]]
    infinite = {name: rows[i] for name, kind, rows in reasons if kind == "infinite"}
    why += [f"{M.label(name)} ∞" for name in objectives if infinite.get(name, False)]
    return "saturated: " + ", ".join(dict.fromkeys(why)) if why else ""


def assess(table: pd.DataFrame, policies: dict | None = None) -> pd.DataFrame:
    """One row per configuration with an honest verdict.

    Parameters
    ----------
    table : DataFrame
        The gathered long table (``scenario, notebook, configuration, metric, value, unit``;
        ``base_scenario``, ``run_id``, ``param_*`` and ``derived`` columns are used when present).
        Use :func:`followerlab.constraints.derive_metrics` first to add the metrics derived for
        notebook 03 (region survival, a read path's write cost).
    policies : dict, optional
        ``{base scenario: followerlab.constraints.Policy}``; a scenario without one gets the
        default objectives and no constraints.

    Returns
    -------
    DataFrame
        :func:`wide_table` plus ``workload`` (text naming the workload), ``workload_key``,
        ``shown_configuration`` (the configuration with its configuration-axis values),
        ``choice`` (those values as JSON ``[[axis, value], ...]``),
        ``objectives`` (the objective set the row is compared on, comma-separated),
        ``status`` (one of :data:`STATUSES`), ``reason`` (why, in words), ``feasible``,
        ``best`` and ``derived`` (metrics of the row that were derived, comma-separated).

    Notes
    -----
    In order: a row with a utilization at or above its saturation point (registry
    ``saturates_at``) or an infinite objective is *infeasible* (saturated); a row breaking a
    stated constraint is *infeasible*; a row whose survival is required but unknown is *not
    compared* (a ``max_``/``min_`` budget on a metric the row does not report does not apply:
    e.g. a staleness budget to a Raft placement row, which reports write costs only); a row that does not report every objective of any of its
    scenario's objective sets is *not compared*.  The remaining rows are grouped by workload
    and objective set and each group's Pareto front (directions from the registry) is *best*;
    the others are *dominated* (the reason names one configuration that dominates it).

    Examples
    --------
    >>> t = pd.DataFrame({"scenario": "s", "notebook": "n", "configuration": ["a", "a", "b", "b", "c", "c"],
    ...     "metric": ["staleness_mean_s", "admin_utilization"] * 3, "value": [0.0, 1.6, 60.0, 0.3, 90.0, 0.2],
    ...     "unit": ["s", "1"] * 3})
    >>> from followerlab.constraints import parse_policy
    >>> policy, _ = parse_policy({"objectives": ["staleness_mean_s", "admin_utilization"]}, "s")
    >>> out = assess(t, {"s": policy})
    >>> for _, r in out.iterrows():
    ...     print(r["configuration"], "|", r["status"], "|", r["reason"])
    a | infeasible | saturated: utilization of the node that sees everything 1.6 ≥ 1
    b | best | lowest staleness mean (60 s)
    c | best | lowest admin / leader util. (0.2)
    """
    from .constraints import default_policy

    policies = policies or {}
    wide = wide_table(table).copy()
    base_col = "base_scenario" if "base_scenario" in wide.columns else "scenario"
    params: dict = {}
    if "run_id" in table.columns:
        pcols = [c for c in table.columns if c.startswith("param_")]
        if pcols:
            params = table.drop_duplicates("run_id").set_index("run_id")[pcols].to_dict("index")
    derived: dict = {}
    if "derived" in table.columns:
        d = table[table["derived"].fillna(False).astype(bool)]
        key_cols = [c for c in ("scenario", "notebook", "run_id", "configuration") if c in d.columns]
        for keys, group in d.groupby(key_cols, sort=False):
            derived[keys] = ", ".join(group["metric"])
    workload_metrics = [m for m, spec in M.REGISTRY.items() if spec.role == "workload" and m in wide.columns]

    n = len(wide)
    out = {k: [""] * n for k in ("workload", "workload_key", "shown_configuration", "choice", "objectives",
                                  "status", "reason", "derived")}
    sets_of: list = [None] * n
    # every column that could be an objective; a row counts an infinite one only if it is its objective
    reasons = M.saturation_reasons(wide, [c for c in wide.columns if M.is_registered(c) and M.direction(c) != "none"])
    for i, (_, row) in enumerate(wide.iterrows()):
        base = str(row[base_col])
        policy = policies.get(base) or default_policy(base)
        run_params = params.get(row["run_id"], {}) if "run_id" in wide.columns else {}
        wl = [(a, run_params.get(f"param_{a}")) for a in policy.workload_axes()]
        wm = [(m, row[m]) for m in workload_metrics if pd.notna(row[m])]
        # with the scenario's grid known, its workload axes name the workload; otherwise each grid
        # point (the scenario column) is its own workload
        scenario_key = base if policy.grid_axes else str(row["scenario"])
        out["workload_key"][i] = json.dumps([scenario_key, str(row["notebook"]), [[a, _fmt_param(v)] for a, v in wl],
                                             [[m, float(v)] for m, v in wm]])
        text = [scenario_key] + [f"{a} = {_fmt_param(v)}" for a, v in wl] + \
            [f"{M.label(m)} {M.format_with_unit(m, float(v))}" for m, v in wm]
        out["workload"][i] = " · ".join(text)
        conf = [(a, run_params.get(f"param_{a}")) for a in policy.configuration_axes]
        out["choice"][i] = json.dumps([[a, _fmt_param(v)] for a, v in conf])
        out["shown_configuration"][i] = str(row["configuration"]) + (
            " (" + ", ".join(f"{a} = {_fmt_param(v)}" for a, v in conf) + ")" if conf else "")
        dkey = tuple(str(row[c]) for c in ("scenario", "notebook", "run_id", "configuration") if c in wide.columns)
        out["derived"][i] = derived.get(dkey if len(dkey) > 1 else dkey[0], "")
        # 1. saturated
        sat = _saturation(row, reasons, i, policy.objectives)
        if sat:
            out["status"][i], out["reason"][i] = "infeasible", sat
            continue
        # 2. constraints
        broken, unchecked = [], []
        for c in policy.constraints:
            ok, why = c.check(row[c.metric] if c.metric in wide.columns else None)
            if ok is None and c.kind == "survive":
                unchecked.append(why)  # survival is a property of every configuration
            elif ok is False:
                broken.append(why)  # a budget on a metric the row does not have does not apply
        if broken:
            out["status"][i], out["reason"][i] = "infeasible", "; ".join(broken)
            continue
        if unchecked:
            out["status"][i], out["reason"][i] = "not compared", "; ".join(unchecked)
            continue
        # 3. objectives
        chosen = next((s for s in policy.objective_sets
                       if all(m in wide.columns and pd.notna(row[m]) for m in s)), None)
        if chosen is None:
            first = policy.objective_sets[0]
            missing = [M.label(m) for m in first if m not in wide.columns or pd.isna(row[m])]
            out["status"][i], out["reason"][i] = "not compared", f"reports no {', '.join(missing)} (an objective)"
            continue
        sets_of[i] = chosen
        out["objectives"][i] = ", ".join(chosen)
    for k, v in out.items():
        wide[k] = v
    # 4. Pareto within workload and objective set, among feasible rows
    wide["_set"] = [json.dumps(s) if s else "" for s in sets_of]
    cand = wide[wide["_set"] != ""]
    for (_, set_key), group in cand.groupby(["workload_key", "_set"], sort=False):
        objs = json.loads(set_key)
        vals = group[objs].to_numpy(float)
        flip = np.array(M.maximize(objs))
        front = pareto_front(vals, maximize=flip)
        signed = np.where(flip, -vals, vals)
        # dominates[k, j]: configuration k dominates configuration j (as in pareto_front)
        dominates = (signed[:, None, :] <= signed[None, :, :]).all(axis=2) & \
            (signed[:, None, :] < signed[None, :, :]).any(axis=2)
        lowest, spread = signed.min(axis=0), signed.min(axis=0) < signed.max(axis=0)
        for j, idx in enumerate(group.index):
            if front[j]:
                wide.loc[idx, "status"] = "best"
                if len(group) == 1:
                    wide.loc[idx, "reason"] = "the only feasible configuration of its workload on these objectives"
                    continue
                # objectives it is best on, leaving out those every compared configuration ties on
                tops = [m for k, m in enumerate(objs) if signed[j, k] <= lowest[k] and spread[k]]
                wide.loc[idx, "reason"] = (", ".join(
                    f"{'highest' if M.direction(m) == 'higher' else 'lowest'} {M.REGISTRY[m].short} "
                    f"({M.format_with_unit(m, float(group.loc[idx, m]))})" for m in tops)
                    or "a trade-off: no feasible configuration of its workload is as good on all of "
                       + ", ".join(M.REGISTRY[m].short for m in objs))
            else:
                winner = group.iloc[int(np.argmax(dominates[:, j]))]["shown_configuration"]
                wide.loc[idx, "status"] = "dominated"
                wide.loc[idx, "reason"] = f"dominated by {winner}"
    wide = wide.drop(columns="_set")
    wide["feasible"] = wide["status"].isin(["best", "dominated"])
    wide["best"] = wide["status"] == "best"
    return wide


def merge_identical(wl: pd.DataFrame, present) -> pd.DataFrame:
    """One row for configurations of a workload that differ only in a choice axis that does not
    change them (e.g. the leader at every follower hot span): ``leader (follower_hot_days = 1 or
    90: the same)``.

    ``wl`` is (part of) :func:`assess`'s output; rows merge when their workload, configuration,
    status and values of ``present`` (metric columns) are equal.

    >>> a = pd.DataFrame({"workload_key": "w", "configuration": ["leader", "leader"], "status": "best",
    ...                   "choice": ['[["hot_days", "1"]]', '[["hot_days", "90"]]'], "shown_configuration": "",
    ...                   "staleness_mean_s": [0.0, 0.0]})
    >>> merge_identical(a, ["staleness_mean_s"])["shown_configuration"].tolist()
    ['leader (hot_days = 1 or 90: the same)']
    """
    sig = [json.dumps([str(r.get("workload_key", "")), str(r["configuration"]), str(r["status"]),
                       [None if pd.isna(r[m]) else float(r[m]) for m in present]]) for _, r in wl.iterrows()]
    rows = []
    for _, g in wl.groupby(pd.Series(sig, index=wl.index), sort=False):
        row = g.iloc[0].copy()
        if len(g) > 1 and "choice" in g:
            axes: dict[str, list[str]] = {}
            for text in g["choice"]:
                for axis, value in json.loads(text or "[]"):
                    axes.setdefault(axis, [])
                    if value not in axes[axis]:
                        axes[axis].append(value)
            if axes:
                row["shown_configuration"] = (f"{row['configuration']} ("
                                              + ", ".join(f"{a} = {' or '.join(v)}" for a, v in axes.items())
                                              + ": the same)")
        rows.append(row)
    return pd.DataFrame(rows)
