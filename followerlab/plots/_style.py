"""One look for every followerlab figure: size, fonts, grid, colours, titles with units.

Model modules never import matplotlib; only ``followerlab.plots`` does.
"""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt

__all__ = ["STYLE", "PALETTE", "new_axes", "new_grid", "finish"]

#: Colour-blind-safe palette (Okabe & Ito, 2008), used in this order by every figure.
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]

STYLE = {
    "figure.figsize": (7.0, 4.2),
    "figure.dpi": 100,
    "savefig.dpi": 120,
    "savefig.bbox": "tight",
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 12,
    "axes.titleweight": "bold",
    "axes.labelsize": 10,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "axes.prop_cycle": matplotlib.cycler(color=PALETTE),
}


def new_axes(title: str, xlabel: str, ylabel: str, *, ax=None, figsize=None):
    """A styled (fig, ax) pair with title and axis labels (put units in the labels: "lag (s)")."""
    with plt.rc_context(STYLE):
        if ax is None:
            fig, ax = plt.subplots(figsize=figsize or STYLE["figure.figsize"], layout="constrained")
        else:
            fig = ax.figure
        ax.set_title(title)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.grid(True, alpha=STYLE["grid.alpha"])
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    return fig, ax


def new_grid(nrows: int, ncols: int, *, figsize=None, suptitle: str | None = None):
    """A styled figure with a grid of axes (a dashboard): ``(fig, axes)``, axes a 2-D array.

    Give each panel its title and labels with ``new_axes(title, xlabel, ylabel, ax=axes[i, j])``.
    The default size keeps each panel about 4.2 x 3.2 inches, readable in a notebook.

    >>> fig, axes = new_grid(1, 3, suptitle="dashboard")
    >>> axes.shape, fig.get_suptitle()
    ((1, 3), 'dashboard')
    >>> plt.close(fig)
    """
    if int(nrows) < 1 or int(ncols) < 1:
        raise ValueError(f"nrows and ncols must be >= 1; got {nrows!r}, {ncols!r}")
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(
            int(nrows), int(ncols), squeeze=False, layout="constrained",
            figsize=figsize or (min(4.2 * ncols, 14.0), 3.2 * nrows + (0.4 if suptitle else 0.0)),
        )
        if suptitle:
            fig.suptitle(suptitle, fontsize=STYLE["axes.titlesize"] + 1, fontweight="bold")
    return fig, axes


def finish(ax, *, legend: bool = True, legend_title: str | None = None):
    """Add the legend (when there are labelled artists) and return the figure."""
    handles, labels = ax.get_legend_handles_labels()
    if legend and handles:
        ax.legend(title=legend_title, frameon=False, fontsize=STYLE["legend.fontsize"])
    return ax.figure
