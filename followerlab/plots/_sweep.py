"""A figure that stays readable with 10^6 configurations: density (hexbin) plus the front."""

from __future__ import annotations

import numpy as np

from ._style import PALETTE, finish, new_axes

__all__ = ["sweep_density"]


def sweep_density(table, x: str, y: str, *, front: str = "on_front", objectives=None, title: str = "", ax=None,
                  gridsize: int = 60):
    """Hexbin density of every configuration's (x, y) with the Pareto front drawn on top.

    Each hexagon's colour is the number of configurations in it (log scale), so 10^6 points
    stay readable; the front (rows where ``table[front]`` is true) is drawn as points on top.
    An axis whose values span more than two decades is logarithmic.  Saturated configurations
    (the rule of :func:`followerlab.sweep.saturated`, which the sweep's summary counts) and
    those without a finite x or y are counted in the legend, not drawn.  Axis labels come from
    :mod:`followerlab.metrics` (with units).

    Parameters
    ----------
    table : DataFrame
        One row per configuration (:func:`followerlab.sweep.run_sweep`'s table).
    x, y : str
        Metric columns.
    front : str
        Boolean column marking the front.
    objectives : sequence of str, optional
        The sweep's objectives, whose infinite values (in their bad direction) make a row
        saturated, as in the sweep's summary; default: ``x`` and ``y`` where registered.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"admin_utilization": [0.1, 0.5, 0.9], "staleness_p99_s": [3.0, 1.0, 2.0],
    ...                   "on_front": [True, True, False]})
    >>> fig = sweep_density(t, "admin_utilization", "staleness_p99_s")
    >>> fig.axes[0].get_title()
    '3 configurations'
    """
    from .. import metrics

    from ..sweep import saturated

    xv, yv = table[x].to_numpy(dtype=float), table[y].to_numpy(dtype=float)
    if objectives is None:
        objectives = [c for c in (x, y) if metrics.is_registered(c)]
    sat = saturated(table, objectives)
    finite = np.isfinite(xv) & np.isfinite(yv)
    ok = finite & ~sat
    fig, ax = new_axes(title or f"{len(table):,} configurations", metrics.axis_label(x) if metrics.is_registered(x) else x,
                       metrics.axis_label(y) if metrics.is_registered(y) else y, ax=ax)
    scales = {}
    for axis, v in (("x", xv[ok]), ("y", yv[ok])):   # values over > 2 decades: a log axis
        scales[axis] = "log" if v.size and v.min() > 0 and v.max() / v.min() > 100 else "linear"
    if ok.any():
        hb = ax.hexbin(xv[ok], yv[ok], gridsize=gridsize, bins="log", cmap="Greys", mincnt=1, linewidths=0,
                       xscale=scales["x"], yscale=scales["y"])
        fig.colorbar(hb, ax=ax, label="configurations per cell")
    on = table[front].to_numpy(dtype=bool) & ok if front in table else np.zeros(len(table), dtype=bool)
    if on.any():
        order = np.argsort(xv[on], kind="stable")
        ax.plot(xv[on][order], yv[on][order], "o", ms=3, color=PALETTE[1],
                label=f"Pareto front ({int(on.sum()):,}; all objectives)")
    if sat.any():
        ax.plot([], [], " ", label=f"{int(sat.sum()):,} saturated (not drawn)")
    if (~finite & ~sat).any():
        ax.plot([], [], " ", label=f"{int((~finite & ~sat).sum()):,} without a finite value (not drawn)")
    return finish(ax)
