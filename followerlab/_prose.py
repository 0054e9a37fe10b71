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

import pandas as pd

from followerlab.metrics import REGISTRY, format_value

__all__ = ["num", "qty", "pct", "markdown", "show", "results_table", "results_text", "frame_text", "metric_label",
           "words"]

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
