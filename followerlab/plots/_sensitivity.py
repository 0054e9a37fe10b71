"""Tornado chart of a sensitivity analysis (:func:`followerlab.sensitivity.sobol_indices`)."""

from __future__ import annotations

import numpy as np

from ._style import PALETTE, finish, new_axes

__all__ = ["tornado"]

_UNITS = (("_per_s", "1/s"), ("_bytes", "bytes"), ("_ms", "ms"), ("_s", "s"))


def _unit(name: str) -> str:
    for suffix, unit in _UNITS:
        if name.endswith(suffix):
            return unit
    return ""


def _fmt(x: float) -> str:
    return f"{x:.3g}"


def tornado(result, metric: str, ax=None, *, top: int | None = None, unit: str | None = None):
    """Tornado chart: how far ``metric`` moves when each parameter sweeps its range alone.

    One horizontal bar per parameter, largest spread on top: from the output at the nominal
    point (vertical line) to the output with the parameter at the low end of its range (blue)
    and at the high end (orange); a grey band shows the full one-at-a-time range when the
    response is not monotone.  The right-hand label gives the total Sobol' index S_T with its
    confidence interval (the share of the output variance the parameter drives over the whole
    space, interactions included) - a parameter with a short bar but a large S_T acts through
    interactions.  Tick labels show each parameter's range.

    Parameters
    ----------
    result : followerlab.sensitivity.SobolResult
    metric : str
        One of ``result.metrics``.
    ax : matplotlib Axes, optional
    top : int, optional
        Show only the ``top`` parameters with the largest spread.
    unit : str, optional
        Unit of the metric for the axis label (default: from its suffix, ``_s`` -> s, ``_ms`` -> ms).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> from followerlab.sensitivity import sobol_indices
    >>> res = sobol_indices(lambda p: {"lag_s": p["period_s"] / 2 + p["d_s"]},
    ...                     {"period_s": (10, 600, "log"), "d_s": (0, 5)}, n=256)
    >>> fig = tornado(res, "lag_s")
    >>> [t.get_text().splitlines()[0] for t in fig.axes[0].get_yticklabels()]  # bottom to top
    ['d_s', 'period_s']
    >>> import matplotlib.pyplot as plt; plt.close(fig)
    """
    a = result._metric_index(metric)
    unit = _unit(metric) if unit is None else unit
    lo, hi = result.oat_min[a], result.oat_max[a]
    at_low, at_high = result.oat_at_low[a], result.oat_at_high[a]
    nominal = float(result.nominal_output[a])
    finite = np.concatenate([lo, hi, [nominal]])
    finite = finite[np.isfinite(finite)]
    cap = (finite.max() + 0.1 * (np.ptp(finite) or 1.0)) if finite.size else 1.0
    spread = np.where(np.isfinite(hi - lo), hi - lo, np.inf)
    order = np.argsort(-spread, kind="stable")
    if top is not None:
        order = order[: int(top)]
    order = order[::-1]                                     # barh draws bottom-up: largest on top
    ranges = {r.name: r for r in result.ranges}
    xlabel = f"{metric} ({unit})" if unit else metric
    fig, ax = new_axes(f"What moves {metric}: one parameter at a time", xlabel, "", ax=ax,
                       figsize=(7.5, 1.2 + 0.45 * len(order)))
    y = np.arange(len(order))
    clip = lambda v: np.minimum(v, cap)  # noqa: E731  (inf: a saturated configuration)
    ax.barh(y, clip(hi[order]) - clip(lo[order]), left=clip(lo[order]), height=0.7, color="0.88",
            label="range over the sweep")
    ax.barh(y, clip(at_low[order]) - nominal, left=nominal, height=0.5, color=PALETTE[0],
            label="parameter at low end")
    ax.barh(y, clip(at_high[order]) - nominal, left=nominal, height=0.5, color=PALETTE[1], alpha=0.85,
            label="parameter at high end")
    ax.axvline(nominal, color="0.2", lw=1)
    labels = []
    for i in order:
        r = ranges[result.parameters[i]]
        labels.append(f"{r.name}\n{_fmt(r.low)} – {_fmt(r.high)}{' (log)' if r.scale == 'log' else ''}")
    ax.set_yticks(y, labels, fontsize=8.5)
    ax.set_ylim(-0.6, len(order) - 0.4)
    ax.grid(axis="y", visible=False)
    for yy, i in zip(y, order):
        st = result.ST[a, i]
        text = "S_T n/a" if np.isnan(st) else f"S_T {st:.2f} [{result.ST_low[a, i]:.2f}, {result.ST_high[a, i]:.2f}]"
        if not np.isfinite(hi[i]):
            text += "  (→ ∞: saturates)"
        ax.annotate(text, (1.01, yy), xycoords=("axes fraction", "data"), va="center", fontsize=8, color="0.25",
                    annotation_clip=False)
    ax.annotate(f"nominal {_fmt(nominal)}{' ' + unit if unit else ''}", (nominal, -0.58),
                fontsize=8, color="0.2", ha="left", va="bottom", xytext=(3, 0), textcoords="offset points")
    finish(ax)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12 - 0.3 / max(len(order), 1)), ncol=3, frameon=False,
              fontsize=8)
    return fig
