"""Figures comparing configurations from a batch (the report and notebook 04).

Both take the wide table of :func:`followerlab.compare.wide_table` (one row per scenario,
notebook and configuration; one column per metric).
"""

from __future__ import annotations

import numpy as np

from .. import metrics as M
from ..compare import pareto_front
from ._style import PALETTE, finish, new_axes

__all__ = ["tradeoff_scatter", "metric_bars"]

_MARKERS = ["o", "s", "^", "D", "v", "P", "*", "h"]  # no "x"/"X": a cross marks a saturated point


def _label(row) -> str:
    conf = str(row["configuration"])
    scen = str(row["label"]) if "label" in row and isinstance(row["label"], str) and row["label"] else str(row["scenario"])
    return scen if conf in ("", "nan", scen) else f"{scen}: {conf}"


def _text_box(ann, renderer):
    """Display box of an annotation's text alone (``Annotation.get_window_extent`` includes the
    leader line); the annotation's text position is updated first."""
    from matplotlib.text import Text

    ann.update_positions(renderer)
    return Text.get_window_extent(ann, renderer)


def _annotate(ax, items, *, fontsize: float = 7.5, obstacles=(), marker_pt: float = 14.0):
    """Label points; points at the same spot share one label ("+n more").

    Each label's drawn extent is measured (not estimated from its length) and it is moved —
    up and down alternately, in steps of one line (up to 20), on its preferred side first (left
    of points in the right third of the axes), then on the other — until it overlaps neither a
    label already placed nor a plotted point (``obstacles``: data coordinates of every point, a
    square of ``marker_pt`` points around each, the size of the "best" ring) and stays inside
    the axes; where no spot is clear, the least crowded one tried.
    Call it after the axis scales are set: the positions are measured in pixels.
    """
    groups: dict[tuple, list] = {}
    for text, x, y in items:
        groups.setdefault((round(float(x), 9), round(float(y), 9)), []).append(text)
    fig = ax.figure
    fig.canvas.draw()  # fix the transforms (limits, scales, layout) before measuring
    renderer = fig.canvas.get_renderer()
    to_px = ax.transData.transform
    (x0, y0), (x1, y1) = ax.transAxes.transform((0, 0)), ax.transAxes.transform((1, 1))
    pts = np.asarray(obstacles, float).reshape(-1, 2) if len(obstacles) else np.empty((0, 2))
    pts = to_px(pts[np.isfinite(pts).all(axis=1)]) if len(pts) else pts
    r = marker_pt / 2.0 * fig.dpi / 72.0
    placed: list = []  # bboxes (display pixels) of labels already placed
    k = 72.0 / fig.dpi
    line = fontsize / k * 1.25  # one text line, pixels
    dx = r + 2.0                # clear of the ring around the point, pixels

    def conflicts(bb, own):
        """How bad a spot is: 0 when clear; leaving the axes counts most, then labels, then points."""
        out = bb.x0 < x0 or bb.x1 > x1 or bb.y0 < y0 or bb.y1 > y1
        labels = sum(bb.overlaps(p) for p in placed)
        points = 0
        if len(pts):
            hit = ((pts[:, 0] + r > bb.x0) & (pts[:, 0] - r < bb.x1) & (pts[:, 1] + r > bb.y0)
                   & (pts[:, 1] - r < bb.y1))
            hit &= ~((np.abs(pts[:, 0] - own[0]) < 0.5) & (np.abs(pts[:, 1] - own[1]) < 0.5))
            points = int(hit.sum())
        return 1000 * out + 10 * labels + points

    for (x, y), texts in sorted(groups.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        text = texts[0] + (f" (+{len(texts) - 1} more)" if len(texts) > 1 else "")
        own = to_px((x, y))
        right_third = own[0] > x0 + 0.62 * (x1 - x0)
        ann = ax.annotate(text, (x, y), textcoords="offset points", xytext=(0, 0), fontsize=fontsize,
                          color="0.25", va="center", zorder=4)
        ann.set_in_layout(False)
        best, best_score = (right_third, 0.0), None
        for left in (right_third, not right_third):
            ann.set_ha("right" if left else "left")
            for step in range(0, 41):
                dy = (step + 1) // 2 * line * (1 if step % 2 else -1) if step else 0.0
                ann.xyann = ((-dx if left else dx) * k, dy * k)
                score = conflicts(_text_box(ann, renderer), own)
                if best_score is None or score < best_score:
                    best, best_score = (left, dy), score
                if score == 0:
                    break
            if best_score == 0:
                break
        ann.remove()
        left, dy = best
        # moved off its point's line: a thin leader line says whose label it is
        arrow = dict(arrowstyle="-", color="0.6", linewidth=0.6, shrinkA=1.0, shrinkB=r * k,
                     relpos=(1.0 if left else 0.0, 0.5)) if dy else None
        ann = ax.annotate(text, (x, y), textcoords="offset points", xytext=((-dx if left else dx) * k, dy * k),
                          ha="right" if left else "left", va="center", fontsize=fontsize, color="0.25", zorder=4,
                          arrowprops=arrow)
        ann.set_in_layout(False)   # the axes keep the size the labels were placed for
        placed.append(_text_box(ann, renderer))


def tradeoff_scatter(wide, x: str, y: str, *, title: str | None = None, annotate: int = 12, ax=None,
                     logx: bool | None = None, logy: bool | None = None, figsize=(8.0, 5.0), front: bool = False):
    """Scatter of two metrics, one marker shape and colour per notebook.

    ``wide`` is :func:`followerlab.compare.wide_table` or, better, :func:`followerlab.compare.assess`
    (with ``status``): then a configuration marked best in its workload is ringed, a saturated one
    (a utilization at or above 1, an infinite value) is drawn as ``×`` — at the top/right edge
    when a plotted value is infinite — and one that breaks a stated constraint is drawn hollow.
    Rows missing either metric are left out.  Points are labelled with their scenario label and
    configuration when there are at most ``annotate`` distinct spots; otherwise only the best
    ones (points at the same spot share a label).

    ``front=True`` also draws the Pareto front of the two plotted metrics over the feasible,
    finite points (dashed) — only meaningful when every point belongs to one workload.
    The legend lists only what is drawn; ``fig._fl_legend_text`` says the same in words (for a
    caption).
    """
    data = wide.dropna(subset=[x, y]).reset_index(drop=True)
    fig, ax = new_axes(title or f"{M.axis_label(y)} vs {M.axis_label(x)}",
                       M.axis_label(x), M.axis_label(y), ax=ax, figsize=figsize if ax is None else None)
    fig._fl_legend_text = ""
    if data.empty:
        ax.text(0.5, 0.5, "no configuration reports both metrics", ha="center", va="center",
                transform=ax.transAxes)
        return finish(ax, legend=False)
    xv, yv = data[x].to_numpy(float), data[y].to_numpy(float)
    finite = np.isfinite(xv) & np.isfinite(yv)
    status = data["status"].astype(str).to_numpy() if "status" in data else np.full(len(data), "")
    reason = data["reason"].astype(str).to_numpy() if "reason" in data else np.full(len(data), "")
    saturated = ~finite | ((status == "infeasible") & np.char.startswith(reason.astype(str), "saturated"))
    broken = (status == "infeasible") & ~saturated
    best = status == "best"
    xmax = np.nanmax(xv[np.isfinite(xv)]) if np.isfinite(xv).any() else 1.0
    ymax = np.nanmax(yv[np.isfinite(yv)]) if np.isfinite(yv).any() else 1.0
    xs, ys = np.where(np.isfinite(xv), xv, xmax * 1.15), np.where(np.isfinite(yv), yv, ymax * 1.15)
    words = []
    for i, (nb, group) in enumerate(data.groupby("notebook", sort=True)):
        idx = group.index.to_numpy()
        colour, marker = PALETTE[i % len(PALETTE)], _MARKERS[i % len(_MARKERS)]
        plain = idx[~saturated[idx] & ~broken[idx]]
        ax.scatter(xs[plain], ys[plain], marker=marker, color=colour, s=45, zorder=3, edgecolor="white",
                   linewidth=0.5)
        hollow = idx[broken[idx]]
        if len(hollow):
            ax.scatter(xs[hollow], ys[hollow], marker=marker, facecolor="none", edgecolor=colour, s=45, zorder=3,
                       linewidth=1.2)
        sat = idx[saturated[idx]]
        if len(sat):
            ax.scatter(xs[sat], ys[sat], marker="x", color=colour, s=55, zorder=3, linewidth=1.6)
        ax.scatter([], [], marker=marker, color=colour, s=45, label=nb)  # legend entry: the notebook
    grey = "0.35"
    if best.any():
        ax.scatter(xs[best], ys[best], marker="o", facecolor="none", edgecolor="#009E73", s=190, linewidth=1.6,
                   zorder=2, label="best in its workload")
        words.append("green ring: best in its workload")
    if saturated.any():
        ax.scatter([], [], marker="x", color=grey, s=55, linewidth=1.6, label="saturated (∞ at the edge)")
        words.append("× saturated (an infinite value is drawn at the top/right edge)")
    if broken.any():
        ax.scatter([], [], marker="o", facecolor="none", edgecolor=grey, s=45, label="breaks a constraint")
        words.append("hollow: breaks a constraint of its scenario")
    if front:
        ok = finite & ~saturated & ~broken
        on = np.zeros(len(data), dtype=bool)
        if ok.any():
            on[np.flatnonzero(ok)] = pareto_front(np.column_stack([xv[ok], yv[ok]]))
        order = np.flatnonzero(on)
        order = order[np.argsort(xv[order])]
        if len(order):
            ax.step(xv[order], yv[order], where="post", color="0.3", linestyle="--", linewidth=1,
                    label="Pareto front of these two metrics", zorder=2)
            words.append("dashed: Pareto front of the two plotted metrics")
    fig._fl_legend_text = ("; " + "; ".join(words)) if words else ""
    distinct = len({(a, b) for a, b in zip(xs.round(9), ys.round(9))})
    show = np.arange(len(data)) if distinct <= annotate else np.flatnonzero(best)
    positive = lambda v: np.isfinite(v) & (v > 0)  # noqa: E731
    if logx or (logx is None and positive(xv).sum() > 1 and np.nanmax(xv[positive(xv)]) / np.nanmin(xv[positive(xv)]) > 100
                and (xv[np.isfinite(xv)] > 0).all()):
        ax.set_xscale("log")
    if logy or (logy is None and positive(yv).sum() > 1 and np.nanmax(yv[positive(yv)]) / np.nanmin(yv[positive(yv)]) > 100
                and (yv[np.isfinite(yv)] > 0).all()):
        ax.set_yscale("log")
    # labels last: they are placed in pixels, which the scales above change
    _annotate(ax, [(_label(data.loc[k]), xs[k], ys[k]) for k in show], obstacles=np.column_stack([xs, ys]))
    return finish(ax, legend_title="notebook")


def metric_bars(wide, metric: str, *, title: str | None = None, ax=None, reference: float | None = None):
    """Horizontal bars of one metric per configuration (sorted), coloured by notebook.

    ``reference`` draws a vertical line (e.g. 1.0 for utilization: saturation).
    """
    data = wide.dropna(subset=[metric]).sort_values(metric).reset_index(drop=True)
    height = max(2.5, 0.28 * len(data) + 1.2)
    fig, ax = new_axes(title or M.axis_label(metric), M.axis_label(metric), "",
                       ax=ax, figsize=(7.0, height) if ax is None else None)
    if data.empty:
        ax.text(0.5, 0.5, f"no configuration reports {metric}", ha="center", va="center", transform=ax.transAxes)
        return finish(ax, legend=False)
    notebooks = sorted(data["notebook"].unique())
    colour = {nb: PALETTE[i % len(PALETTE)] for i, nb in enumerate(notebooks)}
    vals = data[metric].to_numpy(float)
    finite_max = np.nanmax(vals[np.isfinite(vals)]) if np.isfinite(vals).any() else 1.0
    shown = np.where(np.isfinite(vals), vals, finite_max * 1.2)
    ax.barh(np.arange(len(data)), shown, color=[colour[nb] for nb in data["notebook"]])
    for i, v in enumerate(vals):
        if not np.isfinite(v):
            ax.text(shown[i], i, " ∞ (saturated)", va="center", fontsize=8)
    ax.set_yticks(np.arange(len(data)), [_label(r) for _, r in data.iterrows()], fontsize=8)
    ax.grid(axis="y", visible=False)
    if reference is not None:
        ax.axvline(reference, color="0.3", linestyle="--", linewidth=1, label=f"saturation ({reference:g})")
    for nb in notebooks:
        ax.barh([np.nan], [np.nan], color=colour[nb], label=nb)
    return finish(ax, legend_title="notebook")
