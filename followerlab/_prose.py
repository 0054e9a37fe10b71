"""Numbers as a reader sees them: prose and result tables generated from a run's values.

The notebooks say nothing about a run in fixed text: every heading, answer or caption that
names a number, a share, a region or a winner is a :func:`markdown` string formatted from the
run's parameters and results with the helpers here.  Infinite values are written ``∞``, missing
ones ``unavailable`` or ``not applicable``; a table shows, for each group of configurations,
only the metrics those configurations have.

>>> num(32.6), num(20829.64), num(0.00048), num(float("inf")), num(float("nan"))
('32.6', '20830', '0.00048', '∞', 'unavailable')
>>> qty(0.17, "s"), pct(0.7), pct(0.0103)
('0.17 s', '70 %', '1.03 %')
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from followerlab.metrics import REGISTRY, format_value

__all__ = ["num", "qty", "pct", "markdown", "show", "results_table", "results_text", "frame_text", "metric_label",
           "words", "sensitivity_table", "sensitivity_sentence"]

#: unit suffixes of the shared metric names and the unit a reader sees
_SUFFIXES = (("_per_s", "1/s"), ("_ms", "ms"), ("_tb", "TB"), ("_s", "s"))
#: metrics that are yes/no flags stored as 0/1
_FLAGS = ("back_to_back", "survives", "feasible", "stable")


def num(value, digits: int = 3) -> str:
    """A number with ``digits`` significant digits (never scientific notation); ∞ and NaN as words.

    Integers are written in full (``20830``), small numbers keep their significant digits.
    """
    v = float(value)
    if math.isnan(v):
        return "unavailable"
    if math.isinf(v):
        return "∞" if v > 0 else "−∞"
    if v == 0:
        return "0"
    mag = math.floor(math.log10(abs(v)))
    decimals = max(0, digits - 1 - mag)
    text = f"{round(v, decimals):.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def qty(value, unit: str = "", digits: int = 3) -> str:
    """``num`` with a unit (``"32.6 s"``); no unit after ∞ or a word."""
    text = num(value, digits)
    if not unit or not (text[0].isdigit() or text[0] in "-."):
        return text
    return f"{text} {unit}"


def pct(fraction, digits: int = 3) -> str:
    """A fraction as a percentage, ``0.7`` -> ``"70 %"``."""
    text = num(100.0 * float(fraction), digits)
    return text if not text[0].isdigit() else f"{text} %"


def words(flag) -> str:
    """``True``/``False`` (or 1/0) as ``yes``/``no``; NaN as ``unavailable``."""
    if isinstance(flag, float) and math.isnan(flag):
        return "unavailable"
    return "yes" if bool(flag) else "no"


def markdown(text: str):
    """Display ``text`` as Markdown in Jupyter (an :class:`IPython.display.Markdown` object)."""
    from IPython.display import Markdown

    return Markdown(text)


def show(text) -> None:
    """Display Markdown (a string or :func:`markdown`'s object) as a cell output without an ``Out[n]`` prompt."""
    from IPython.display import Markdown, display

    display(text if isinstance(text, Markdown) else Markdown(text))


def metric_label(metric: str, unit: str = "") -> str:
    """A compact column header spelled from the metric's name and unit suffix:
    ``"staleness_mean_s"`` -> ``"staleness mean (s)"`` (the registry's labels, e.g. for
    ``admin_utilization``, are sentences, too long for a column)."""
    name, shown = metric, unit
    m = REGISTRY.get(metric)
    if m is not None:
        shown = m.unit
    for suffix, u in _SUFFIXES:
        if metric.endswith(suffix):
            name, shown = metric[: -len(suffix)], u
            break
    name = name.replace("_", " ")
    shown = "" if shown in ("1", "fraction", "count", "") else shown
    return f"{name} ({shown})" if shown else name


def _cell(metric: str, value) -> str:
    """One table cell, formatted as everywhere else (:func:`followerlab.metrics.format_value`)."""
    v = float(value)
    if any(f in metric for f in _FLAGS):
        return words(v) if not math.isnan(v) else "not applicable"
    return format_value(metric, v)


def _groups(results: pd.DataFrame, overlap: float = 0.6):
    """Configurations grouped by the metrics they have, in order of first appearance.

    Configurations with the same metric set share a group; two groups merge when the metrics
    they share are at least ``overlap`` of all their metrics (a cell of a metric a configuration
    does not have then reads ``not applicable``).
    """
    metrics_of = {}
    for cfg, metric in zip(results["configuration"], results["metric"]):
        metrics_of.setdefault(cfg, []).append(metric)
    groups: list[tuple[list, list]] = []       # (metrics in order, configurations)
    for cfg, metrics in metrics_of.items():
        mine = list(dict.fromkeys(metrics))
        for g_metrics, g_configs in groups:
            shared = set(g_metrics) & set(mine)
            if len(shared) >= overlap * len(set(g_metrics) | set(mine)):
                g_metrics.extend(m for m in mine if m not in g_metrics)
                g_configs.append(cfg)
                break
        else:
            groups.append((mine, [cfg]))
    return groups


def _frames(results: pd.DataFrame, max_columns: int):
    units = dict(zip(results["metric"], results.get("unit", pd.Series([""] * len(results)))))
    value = {(c, m): v for c, m, v in zip(results["configuration"], results["metric"], results["value"])}
    for metrics, configs in _groups(results):
        cols = {metric_label(m, str(units.get(m, ""))): [_cell(m, value[(c, m)]) if (c, m) in value else "not applicable"
                                                          for c in configs] for m in metrics}
        frame = pd.DataFrame(cols, index=pd.Index(configs, name="configuration"))
        if len(metrics) > max_columns:               # wide: metrics down, configurations across
            t = frame.T
            t.index.name = "metric"
            for start in range(0, len(configs), max_columns):
                yield t.iloc[:, start:start + max_columns]
        else:
            yield frame


def results_table(results: pd.DataFrame, max_columns: int = 6):
    """The results as Markdown tables that fit a page, without NaN filler.

    Configurations that report the same (or nearly the same) metrics share a table; each table
    shows only their metrics, and a metric one of them does not have reads ``not applicable``.  A table with more than ``max_columns`` metrics is turned (metrics down,
    at most ``max_columns`` configurations across).  Values have 4 significant digits; ``∞``
    for a saturated station, ``unavailable`` for a value that does not exist, ``yes``/``no``
    for flags.  Returns an :class:`IPython.display.Markdown` object.
    """
    parts = [_markdown_table(frame) for frame in _frames(results, max_columns)]
    return markdown("\n\n".join(parts))


def results_text(results: pd.DataFrame, max_columns: int = 6) -> str:
    """The same tables as :func:`results_table`, as plain text (for a printed, checked cell)."""
    return "\n\n".join(frame.to_string() for frame in _frames(results, max_columns))


def frame_text(frame: pd.DataFrame, digits: int = 4) -> str:
    """A printed table with numbers as a reader sees them: ``digits`` significant digits, ``∞`` and
    ``unavailable`` instead of ``inf`` and ``nan``, ``yes``/``no`` for booleans.

    >>> print(frame_text(pd.DataFrame({"mode": ["a"], "p99_s": [float("inf")], "ok": [True]})))
    mode p99_s  ok
       a     ∞ yes
    """
    def cell(v):
        if isinstance(v, (bool,)) or type(v).__name__ == "bool_":
            return words(v)
        if isinstance(v, (int, float)) or hasattr(v, "dtype"):
            return num(v, digits)
        return str(v)

    return frame.map(cell).to_string(index=False)


def _markdown_table(frame: pd.DataFrame) -> str:
    """A pipe table: the index as the first column, numbers right-aligned."""
    def esc(x) -> str:
        return str(x).replace("|", "\\|")

    head = [esc(frame.index.name or "")] + [esc(c) for c in frame.columns]
    lines = ["| " + " | ".join(head) + " |", "|:--" + "|--:" * len(frame.columns) + "|"]
    for idx, row in frame.iterrows():
        lines.append("| " + " | ".join([esc(idx)] + [esc(v) for v in row]) + " |")
    return "\n".join(lines)


def _suffix_unit(name: str) -> str:
    for suffix, unit in _SUFFIXES:
        if name.endswith(suffix):
            return unit
    return ""


def sensitivity_table(sens, metric: str) -> str:
    """S1 and S_T of ``metric`` with their intervals and the one-at-a-time spread, largest S_T first.

    ``sens`` is a :class:`followerlab.sensitivity.SobolResult`; a printed table (:func:`frame_text`).
    """
    t = sens.to_frame()
    t = t[t.metric == metric].set_index("parameter").loc[sens.ranking(metric)].reset_index()
    ranges = {r.name: f"{num(r.low)} to {num(r.high)}{' (log)' if r.scale == 'log' else ''}" for r in sens.ranges}
    return frame_text(pd.DataFrame({
        "parameter": t.parameter, "range": t.parameter.map(ranges),
        "S1": t.S1, "S1 low": t.S1_low, "S1 high": t.S1_high,
        "S_T": t.ST, "S_T low": t.ST_low, "S_T high": t.ST_high,
        "spread": t.spread}), digits=3)


def sensitivity_sentence(sens, metric: str, what: str, unit: str = "", *, inside=None, as_pct: bool = False) -> str:
    """The parameter with the largest total Sobol' index for ``metric`` and the spread it causes, in words.

    Every number comes from ``sens``: S_T with its interval, S1, the parameter's range and the
    metric's one-at-a-time range (the tornado bar).  ``inside`` names the parameters whose
    nominal value is this run's (the others sat outside their range: their middle was used).
    A second sentence names the widest tornado bar when it is not the leading parameter's.

    >>> from followerlab.sensitivity import sobol_indices
    >>> res = sobol_indices(lambda p: {"y_s": p["a_ms"] / 1e3 + p["b_s"]}, {"a_ms": (0, 100), "b_s": (0, 1)}, n=256)
    >>> text = sensitivity_sentence(res, "y_s", "the answer", "s", inside=["a_ms", "b_s"])
    >>> text.split("**")[3], text[text.index("Swept"):]
    ('b_s', "Swept alone from 0 s to 1 s with the other parameters at this run's values, it moves the answer from 0.05 s to 1.05 s.")
    """
    a = sens.metrics.index(metric)
    top = sens.ranking(metric)[0]
    i = sens.parameters.index(top)
    r = sens.ranges[i]
    fmt = (lambda v: pct(v)) if as_pct else (lambda v: qty(v, unit))
    u = _suffix_unit(top)
    inside = set(sens.parameters if inside is None else inside)
    outside = [name for name in sens.parameters if name not in inside]
    centre = ("this run's values" if not outside else
              f"this run's values ({', '.join(outside)} outside {'its range' if len(outside) == 1 else 'their ranges'}: "
              "the middle of the range instead)")
    text = (f"**Which assumption matters?** Over the library's documented plausible ranges (assumed, not this run's "
            f"values), **{top}** has the largest total Sobol' index for {what}: S_T = {num(sens.ST[a, i], 2)} "
            f"({pct(sens.confidence)} interval {num(sens.ST_low[a, i], 2)} to {num(sens.ST_high[a, i], 2)}; "
            f"alone, S1 = {num(sens.S1[a, i], 2)}). Swept alone from {qty(r.low, u)} to {qty(r.high, u)} with the other "
            f"parameters at {centre}, it moves {what} from {fmt(sens.oat_min[a, i])} to {fmt(sens.oat_max[a, i])}.")
    spread = sens.oat_max[a] - sens.oat_min[a]
    j = int(np.argmax(spread))
    if j != i and spread[j] > spread[i]:
        text += (f" The widest bar of the chart is **{sens.parameters[j]}** (from {fmt(sens.oat_min[a, j])} to "
                 f"{fmt(sens.oat_max[a, j])} with the others at the nominal point) but its total index is smaller: "
                 "over the whole ranges it moves the answer less than at this point.")
    return text
