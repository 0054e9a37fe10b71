"""Comparing configurations from a gathered batch table: wide tables and Pareto fronts.

The batch runner (:mod:`followerlab.batch`) gathers every run's long-form results into one
table with columns ``scenario, base_scenario, notebook, run_id, configuration, metric, value,
unit, param_*``.  This module turns it into one row per configuration (:func:`wide_table`) and
finds the configurations no other beats on every objective (:func:`pareto_front`).

A configuration *dominates* another when it is no worse on every objective and strictly
better on at least one (all objectives minimized: staleness, latency, admin load):

.. math::

    j \\succ i \\iff \\forall k:\\ v_{jk} \\le v_{ik} \\ \\wedge\\ \\exists k:\\ v_{jk} < v_{ik}

The Pareto front is the set of configurations that no other dominates.

>>> import numpy as np
>>> pareto_front(np.array([[1.0, 5.0], [2.0, 2.0], [3.0, 3.0], [5.0, 1.0]]))
array([ True,  True, False,  True])
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["KEY_METRICS", "OBJECTIVES", "METRIC_LABELS", "load_results", "wide_table", "pareto_front", "pareto_by_group"]

#: The metrics shared across notebooks (CONTRIBUTING.md), in display order.
KEY_METRICS = [
    "staleness_mean_s", "staleness_p99_s", "read_latency_p50_ms", "read_latency_p99_ms",
    "write_latency_p50_ms", "write_latency_p99_ms", "admin_utilization",
]

#: The objectives a Pareto front is taken over (all minimized).
OBJECTIVES = ["staleness_mean_s", "read_latency_p50_ms", "write_latency_p50_ms", "admin_utilization"]

#: Axis labels with units for the key metrics.
METRIC_LABELS = {
    "staleness_mean_s": "mean staleness (s)",
    "staleness_p99_s": "p99 staleness (s)",
    "read_latency_p50_ms": "read latency p50 (ms)",
    "read_latency_p99_ms": "read latency p99 (ms)",
    "write_latency_p50_ms": "write latency p50 (ms)",
    "write_latency_p99_ms": "write latency p99 (ms)",
    "admin_utilization": "utilization of the node that sees everything (1)",
}

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

    The index columns come first: ``scenario``, ``label`` (when the table has it: the
    scenario's display name), ``notebook``, ``configuration``.

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
    index = ["scenario"] + (["label"] if "label" in table.columns else []) + ["notebook", "configuration"]
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
