"""Figures for Kusto query consistency (notebook 02-admin-node-load).

Each function takes results from :mod:`followerlab.consistency` and returns a matplotlib
figure styled by :mod:`followerlab.plots._style`.

>>> import numpy as np
>>> from followerlab import consistency as c
>>> rates = np.linspace(1, 40, 5)
>>> fig = admin_load_figure(rates, {"strong": c.admin_node_load(rates, 0.0)})
>>> [ax.get_title() for ax in fig.axes]
['Admin-node utilization', 'Time at the admin node (p99)']
>>> import matplotlib.pyplot as plt; plt.close("all")
"""

from __future__ import annotations

import numpy as np

from ._style import PALETTE, finish, new_axes, new_grid

__all__ = ["admin_load_figure", "head_load_figure", "cache_hit_figure", "staleness_cdf_figure"]


def admin_load_figure(query_rates_per_s, loads: dict, *, ceiling: float | None = None, rate_per_s=None):
    """Admin utilization and p99 time at the admin node vs query rate, one line per scenario.

    Parameters
    ----------
    query_rates_per_s : array
        The x axis (queries per second).
    loads : dict
        Label -> :class:`followerlab.consistency.AdminLoad` computed over ``query_rates_per_s``.
    ceiling : float, optional
        A utilization ceiling to draw (e.g. the advisor's).
    rate_per_s : float, optional
        The run's own query rate, marked on both panels.
    """
    x = np.asarray(query_rates_per_s, dtype=float)
    fig, axes = new_grid(1, 2, figsize=(10.5, 4.0))
    ax_u, ax_t = axes[0]
    new_axes("Admin-node utilization", "query rate (queries/s)", "utilization (0..1, >1 saturated)", ax=ax_u)
    new_axes("Time at the admin node (p99)", "query rate (queries/s)", "p99 queueing + service (ms; ρ ≤ 0.95)",
             ax=ax_t)
    for i, (label, r) in enumerate(loads.items()):
        colour = PALETTE[i % len(PALETTE)]
        ax_u.plot(x, np.broadcast_to(r.admin_utilization, x.shape), color=colour, label=label)
        p99 = np.broadcast_to(r.admin_p99_response_s, x.shape) * 1e3
        # near and above saturation the p99 runs off to infinity: draw it up to rho = 0.95
        shown = np.isfinite(p99) & (np.broadcast_to(r.admin_utilization, x.shape) <= 0.95)
        ax_t.plot(x, np.where(shown, p99, np.nan), color=colour, label=label)
    ax_u.axhline(1.0, color="black", lw=1, ls="--", label="saturation (ρ = 1)")
    if rate_per_s is not None:
        for a in (ax_u, ax_t):
            a.axvline(float(rate_per_s), color="0.4", lw=1, ls="-.",
                      label=f"this run: {float(rate_per_s):g} queries/s" if a is ax_u else None)
    if ceiling is not None:
        ax_u.axhline(ceiling, color="grey", lw=1, ls=":", label=f"ceiling {ceiling:g}")
    ax_u.set_ylim(0, max(1.5, min(3.0, float(np.nanmax([np.max(r.admin_utilization) for r in loads.values()])))))
    ax_t.set_yscale("log")
    finish(ax_u, legend_title="weak fraction")
    finish(ax_t, legend=False)
    return fig


def head_load_figure(routing: dict, *, title: str = "Head utilization by routing mode"):
    """Mean vs hottest head utilization per mode, annotated with P(hottest head saturates).

    Parameters
    ----------
    routing : dict
        Mode label -> scalar :class:`followerlab.consistency.RoutingLoad`.
    """
    labels = list(routing)
    mean = np.array([float(np.ravel(r.mean_head_utilization)[0]) for r in routing.values()])
    hot = np.array([float(np.ravel(r.hottest_head_utilization)[0]) for r in routing.values()])
    psat = np.array([float(np.ravel(r.p_hottest_saturates)[0]) for r in routing.values()])
    fig, ax = new_axes(title, "routing mode", "utilization (0..1, >1 saturated)", figsize=(7.5, 4.2))
    pos = np.arange(len(labels))
    ax.bar(pos - 0.2, mean, 0.4, color=PALETTE[0], label="average head")
    ax.bar(pos + 0.2, hot, 0.4, color=PALETTE[1], label="hottest head (expected)")
    ax.axhline(1.0, color="black", lw=1, ls="--", label="saturation")
    for p, h, s in zip(pos, hot, psat):
        ax.annotate(f"P(sat)={s:.2f}", (p + 0.2, h), textcoords="offset points", xytext=(0, 3),
                    ha="center", fontsize=8)
    ax.set_xticks(pos, labels)
    ax.set_ylim(0, max(1.4, float(hot.max()) * 1.3))
    ax.legend(loc="upper left", ncol=3, frameon=False, fontsize=9)
    return fig


def cache_hit_figure(max_age_s, hits: dict, *, title: str = "Results-cache hit ratio by routing mode"):
    """Hit ratio vs ``query_results_cache_max_age`` for each mode (label -> array over max_age_s)."""
    x = np.asarray(max_age_s, dtype=float)
    fig, ax = new_axes(title, "query_results_cache_max_age (s)", "hit ratio (fraction of queries)")
    styles = ["-", "--", "-.", ":"]
    for i, (label, h) in enumerate(hits.items()):
        ax.plot(x, np.broadcast_to(h, x.shape), color=PALETTE[i % len(PALETTE)], ls=styles[i % 4], label=label)
    ax.set_ylim(0, 1)
    return finish(ax, legend_title="routing")


def staleness_cdf_figure(stalenesses: dict, *, windows_s: dict | None = None, t_max_s: float | None = None,
                         title: str = "Age of a query head's metadata"):
    """CDF of metadata age for each configuration (label -> WeakStaleness), with query windows.

    ``windows_s`` maps a label (e.g. "5-minute alert") to a window length drawn as a vertical line.
    """
    top = t_max_s or 1.15 * max(float(np.max(s.quantile(1.0 - 1e-9))) for s in stalenesses.values())
    t = np.linspace(0.0, top, 600)
    fig, ax = new_axes(title, "age at query time (s)", "P(age ≤ t)")
    for i, (label, s) in enumerate(stalenesses.items()):
        ax.plot(t, s.cdf(t), color=PALETTE[i % len(PALETTE)], label=label)
    for j, (label, w) in enumerate((windows_s or {}).items()):
        if w <= top:
            ax.axvline(w, color="grey", ls=":", lw=1)
            ax.annotate(label, (w, 0.05 + 0.1 * j), rotation=90, ha="right", va="bottom", fontsize=8)
    ax.set_ylim(0, 1.02)
    return finish(ax, legend_title="refresh period")
