"""Writing a notebook's tidy results where the batch runner collects them.

Every notebook, given a non-empty ``output_dir``, writes

* ``results.csv``: long form, columns ``configuration, metric, value, unit``;
* ``results.json``: ``{"notebook": ..., "parameters": {...}, "results": [rows]}``.

Every metric name must be registered in :mod:`followerlab.metrics` (its unit, direction and
meaning live there); an unregistered name or a unit other than the registered one is refused
with a :class:`ValueError` before anything is written.

Both are written atomically (temporary file, then rename) so an interrupted run leaves no
half-written result.

>>> import pandas as pd, tempfile, json, pathlib
>>> frame = pd.DataFrame({"configuration": ["a"], "metric": ["staleness_mean_s"],
...                       "value": [61.5], "unit": ["s"]})
>>> with tempfile.TemporaryDirectory() as d:
...     paths = write_results(d, "01-follower-lag", {"period_s": 60.0}, frame)
...     json.loads(pathlib.Path(d, "results.json").read_text())["parameters"]
{'period_s': 60.0}
>>> paths                       # a tuple of the two paths, shown without them
results written: results.csv, results.json (1 row)
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from . import metrics as _metrics

__all__ = ["RESULT_COLUMNS", "write_results", "atomic_write_text", "atomic_write_parquet", "check_frame", "WrittenResults",
           "SENSITIVITY_COLUMNS", "write_sensitivity", "write_figure"]

RESULT_COLUMNS = ["configuration", "metric", "value", "unit"]


def _atomic_write(path: str | os.PathLike, write) -> Path:
    """Call ``write(tmp)`` on a temporary file in ``path``'s folder, then ``os.replace`` it onto
    ``path``; on any failure the temporary file is removed and ``path`` left as it was."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` via a temporary file in the same folder and ``os.replace``."""
    return _atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def atomic_write_parquet(path: str | os.PathLike, frame: pd.DataFrame) -> Path:
    """Write ``frame`` (without its index) as parquet to ``path``, atomically like :func:`atomic_write_text`."""
    return _atomic_write(path, lambda tmp: frame.to_parquet(tmp, index=False))


def _jsonable(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, float) and not np.isfinite(value):
        return str(value)
    return value


class WrittenResults(tuple):
    """``(csv_path, json_path)``, shown in a notebook as one line without the paths.

    A notebook cell that ends with ``write_results(...)`` would otherwise print the absolute
    paths of a batch's staging folder into the report.
    """

    rows: int = 0

    def __new__(cls, csv_path: Path, json_path: Path, rows: int):
        self = super().__new__(cls, (csv_path, json_path))
        self.rows = rows
        return self

    def __repr__(self) -> str:
        return f"results written: {self[0].name}, {self[1].name} ({self.rows} row{'' if self.rows == 1 else 's'})"

    def _repr_pretty_(self, p, cycle) -> None:
        p.text(repr(self))


def check_frame(frame: pd.DataFrame) -> None:
    """Refuse a results frame whose metrics are not registered or whose units disagree.

    >>> check_frame(pd.DataFrame({"configuration": ["a"], "metric": ["staleness_avg_s"],
    ...                           "value": [1.0], "unit": ["s"]}))
    Traceback (most recent call last):
    ...
    ValueError: results: metric 'staleness_avg_s' is not registered in followerlab.metrics (did you mean 'staleness_mean_s'?); register it there with its unit, direction and meaning
    """
    pairs = frame[["metric", "unit"]].drop_duplicates()
    for name, unit in zip(pairs["metric"], pairs["unit"]):
        try:
            _metrics.check_unit(name, unit)
        except ValueError as exc:
            raise ValueError(f"results: {exc}") from None


def write_results(output_dir, notebook: str, parameters: dict, frame: pd.DataFrame) -> tuple[Path, Path] | None:
    """Write ``results.csv`` and ``results.json`` to ``output_dir``; do nothing if it is empty.

    Parameters
    ----------
    output_dir : str or path
        Destination folder (created if missing). ``""`` or ``None`` means: don't write.
    notebook : str
        The notebook's name, e.g. ``"01-follower-lag"``.
    parameters : dict
        The parameters the notebook ran with (JSON-serialisable after numpy conversion).
    frame : pandas.DataFrame
        Long-form results with at least the columns ``configuration, metric, value, unit``.

    Returns
    -------
    (csv_path, json_path) or None
        A tuple (:class:`WrittenResults`) whose notebook display is one line without the paths.

    Raises
    ------
    ValueError
        A missing result column, a metric not registered in :mod:`followerlab.metrics`, or a
        unit that is not the metric's registered unit (or one of its aliases).
    """
    missing = [c for c in RESULT_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"frame is missing the result columns {missing}; has {list(frame.columns)}")
    check_frame(frame)  # also when not writing: a notebook run without output_dir fails the same way
    if not output_dir:
        return None
    out = Path(output_dir)
    csv_path = atomic_write_text(out / "results.csv", frame.to_csv(index=False))
    rows = [{k: _jsonable(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]
    doc = {"notebook": notebook, "parameters": {k: _jsonable(v) for k, v in parameters.items()}, "results": rows}
    json_path = atomic_write_text(out / "results.json", json.dumps(doc, indent=2, default=str))
    return WrittenResults(csv_path, json_path, len(frame))


#: Columns of a run's ``sensitivity.csv`` (:func:`write_sensitivity`).
SENSITIVITY_COLUMNS = ["scope", "metric", "unit", "parameter", "low", "high", "scale", "S1", "S1_low", "S1_high",
                       "ST", "ST_low", "ST_high", "oat_min", "oat_max", "spread", "nominal_output", "n_base",
                       "confidence", "figure"]


def write_sensitivity(output_dir, result, *, metrics=None, scope: str = "", figures: dict | None = None):
    """Write a Sobol' analysis as ``sensitivity.csv`` beside the run's results.

    One row per (metric, parameter) of a :class:`followerlab.sensitivity.SobolResult`, columns
    :data:`SENSITIVITY_COLUMNS`: the indices with their bootstrap bounds, the parameter's range,
    the one-at-a-time bar (``oat_min``, ``oat_max``, ``spread``) and the tornado chart's file.
    The batch gathers these files (:func:`followerlab.batch.gather_sensitivity`) and the report
    shows the leading assumption of each metric.

    Parameters
    ----------
    output_dir : str or path
        The run's folder; ``""`` or ``None``: check, but write nothing.
    result : SobolResult
    metrics : sequence or mapping, optional
        The metrics to write (default all of ``result.metrics``); a mapping renames an
        analysis metric to its registered name (``{"lag_p99_s": "staleness_p99_s"}``).  Every
        written name must be registered in :mod:`followerlab.metrics` (its unit is taken from there).
    scope : str
        What the analysis is of, e.g. ``"3 voters 1-1-1, lease eastus"``.
    figures : dict, optional
        ``{registered metric: file name}`` of its tornado chart in ``output_dir``.

    Returns
    -------
    pathlib.Path or None

    Raises
    ------
    ValueError
        An unregistered metric name, a metric not in the result, a figure for an unwritten metric.

    Examples
    --------
    >>> import tempfile
    >>> from followerlab.sensitivity import sobol_indices
    >>> res = sobol_indices(lambda p: {"lag_s": p["period_s"] / 2}, {"period_s": (10, 600)}, n=64)
    >>> write_sensitivity("", res)
    Traceback (most recent call last):
    ...
    ValueError: sensitivity: metric 'lag_s' is not registered in followerlab.metrics; register it there with its unit, direction and meaning
    >>> with tempfile.TemporaryDirectory() as d:
    ...     path = write_sensitivity(d, res, metrics={"lag_s": "staleness_mean_s"})
    ...     pd.read_csv(path)[["metric", "unit", "parameter", "ST", "spread"]]
                 metric unit parameter   ST  spread
    0  staleness_mean_s    s  period_s  1.0   295.0
    """
    names = list(result.metrics) if metrics is None else metrics
    rename = dict(names) if isinstance(names, dict) else {m: m for m in names}
    for source, target in rename.items():
        if source not in result.metrics:
            raise ValueError(f"sensitivity: metric {source!r} is not among the analysis's metrics {list(result.metrics)}")
        try:
            _metrics.check_metric(target)
        except ValueError as exc:
            raise ValueError(f"sensitivity: {exc}") from None
    figures = dict(figures or {})
    for name in figures:
        if name not in rename.values():
            raise ValueError(f"sensitivity: figure given for {name!r}, which is not written; written: {list(rename.values())}")
    frame = result.to_frame()
    frame = frame[frame["metric"].isin(list(rename))].copy()
    frame["metric"] = frame["metric"].map(rename)
    ranges = {r.name: r for r in result.ranges}
    frame["scope"] = scope
    frame["unit"] = frame["metric"].map(_metrics.unit)
    frame["low"] = frame["parameter"].map(lambda q: ranges[q].low)
    frame["high"] = frame["parameter"].map(lambda q: ranges[q].high)
    frame["scale"] = frame["parameter"].map(lambda q: ranges[q].scale)
    nominal = {rename[m]: float(v) for m, v in zip(result.metrics, result.nominal_output) if m in rename}
    frame["nominal_output"] = frame["metric"].map(nominal)
    frame["n_base"] = result.n_base
    frame["confidence"] = result.confidence
    frame["figure"] = frame["metric"].map(lambda m: figures.get(m, ""))
    frame = frame[SENSITIVITY_COLUMNS].reset_index(drop=True)
    if not output_dir:
        return None
    return atomic_write_text(Path(output_dir) / "sensitivity.csv", frame.to_csv(index=False))


def write_figure(output_dir, name: str, fig, *, dpi: int = 110) -> Path | None:
    """Save a matplotlib figure as ``output_dir/name`` atomically; nothing when ``output_dir`` is empty.

    >>> write_figure("", "tornado.png", None) is None
    True
    """
    if not output_dir:
        return None
    if not isinstance(name, str) or not name or "/" in name or "\\" in name:
        raise ValueError(f"name must be a plain file name; got {name!r}")
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    suffix = Path(name).suffix or ".png"
    fd, tmp = tempfile.mkstemp(dir=out, prefix=f".{name}.", suffix=suffix)
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight")
        os.replace(tmp, out / name)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out / name
