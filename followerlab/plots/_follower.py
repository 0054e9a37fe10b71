"""Figures for the follower-database model (notebook 01)."""

from __future__ import annotations

import numpy as np

from ._style import PALETTE, finish, new_axes

__all__ = [
    "follower_lag_cdfs", "follower_lag_vs_period", "follower_prefetch_tradeoff",
    "follower_cache_comparison", "follower_union_window",
]


def follower_lag_cdfs(lags: dict, *, title="Follower sync lag: CDF", ax=None, max_q=0.999, simulated=None):
    """CDF of each :class:`~followerlab.staleness.RefreshLag` in ``lags`` (label -> scalar lag).

    ``simulated`` (optional) maps a label of ``lags`` to simulated lags drawn as an empirical
    CDF (dots) over the closed form, in the same colour.
    """
    fig, ax = new_axes(title, "lag from leader commit to queryable on follower (s)", "P(lag <= x)", ax=ax)
    finite = [float(r.quantile(max_q)) for r in lags.values() if not bool(np.any(r.unbounded))]
    hi = max(finite) * 1.05 if finite else 1.0
    x = np.linspace(0.0, hi, 600)
    for i, (label, r) in enumerate(lags.items()):
        style = "--" if bool(np.any(r.back_to_back)) else "-"
        suffix = " (back to back)" if bool(np.any(r.back_to_back)) else ""
        ax.plot(x, r.cdf(x), style, color=PALETTE[i % len(PALETTE)], label=f"{label}{suffix}")
        if simulated and label in simulated:
            sim = np.sort(np.asarray(simulated[label], dtype=float))
            sim = sim[np.isfinite(sim)]
            step = max(1, sim.size // 40)
            ax.plot(sim[::step], ((np.arange(sim.size) + 1) / sim.size)[::step], "o", ms=3.5,
                    color=PALETTE[i % len(PALETTE)], label=f"{label}: simulated ({sim.size} syncs)")
    ax.set_xlim(0, hi)
    ax.set_ylim(0, 1.01)
    return finish(ax, legend_title="configuration")


def follower_lag_vs_period(period_s, lags_by_rate: dict, *, title="Follower lag vs sync period", ax=None,
                           log=True, run_period_s=None):
    """Mean (solid) and p99 (dotted) lag against the period, one colour per change rate.

    ``lags_by_rate`` maps a label (e.g. ``"2 changes/s"``) to a RefreshLag over ``period_s``.
    Back-to-back points are marked with crosses; ``run_period_s`` (optional) marks the run's
    own period with a grey dashed line.
    """
    fig, ax = new_axes(title, "sync period P (s)", "lag (s)", ax=ax)
    p = np.asarray(period_s, dtype=float)
    for i, (label, r) in enumerate(lags_by_rate.items()):
        c = PALETTE[i % len(PALETTE)]
        mean = np.where(r.unbounded, np.nan, r.mean_s)
        ax.plot(p, mean, "-", color=c, label=f"{label}: mean")
        ax.plot(p, np.where(r.unbounded, np.nan, r.quantile(0.99)), ":", color=c, label=f"{label}: p99")
        b2b = np.asarray(r.back_to_back) & ~np.asarray(r.unbounded)
        if b2b.any():
            idx = np.flatnonzero(b2b)
            idx = idx[:: max(1, idx.size // 6)]
            ax.plot(p[idx], mean[idx], "x", color=c, markersize=7, markeredgewidth=1.5)
    ax.plot([], [], "x", color="0.3", label="syncs back to back")
    if run_period_s is not None:
        ax.axvline(float(run_period_s), color="0.4", lw=1, ls="--", label=f"this run: P = {float(run_period_s):g} s")
    ax.set_xlim(p.min(), p.max())
    if log:
        ax.set_xscale("log")
        ax.set_yscale("log")
    else:
        ax.set_ylim(bottom=0)
    return finish(ax, legend_title="metadata change rate")


def follower_prefetch_tradeoff(ingest_bytes_per_s, tradeoff, *, title="Auto-prefetch: staler but hot", ax=None,
                               run_ingest_bytes_per_s=None):
    """Both sides of the prefetch trade against the ingest rate (log-log).

    The extra mean lag prefetch causes (warming each sync's new extents) against the cold
    first-query penalty it avoids; prefetch pays where the second is above the first, left of
    the crossover.  ``run_ingest_bytes_per_s`` (optional) marks the run's own ingest rate.
    """
    fig, ax = new_axes(title, "compressed ingest rate (MB/s)", "seconds", ax=ax)
    x = np.asarray(ingest_bytes_per_s, dtype=float) / 1e6
    with np.errstate(invalid="ignore"):  # inf - inf where both sides cannot keep up
        extra = np.asarray(tradeoff.lag_mean_s_on - tradeoff.lag_mean_s_off, dtype=float)
        saved = np.asarray(tradeoff.first_query_s_off - tradeoff.first_query_s_on, dtype=float)
    ax.plot(x, np.where(extra > 0, extra, np.nan), "-", color=PALETTE[1],
            label="cost: extra mean lag with prefetch (warm-up in each sync)")
    ax.plot(x, np.where(saved > 0, saved, np.nan), "-", color=PALETTE[0],
            label="gain: cold first-query penalty avoided")
    ax.set_xscale("log")
    ax.set_yscale("log")
    cross = np.unique(np.asarray(tradeoff.crossover_ingest_bytes_per_s))
    if cross.size == 1 and np.isfinite(cross[0]) and x.min() <= cross[0] / 1e6 <= x.max():
        ax.axvline(cross[0] / 1e6, color="0.4", lw=1, ls="--",
                   label=f"crossover {cross[0] / 1e6:.3g} MB/s (prefetch pays to the left)")
    unb = ~np.isfinite(np.asarray(tradeoff.lag_mean_s_on, dtype=float))
    if unb.any() and x[unb].min() < x.max():
        ax.axvspan(x[unb].min(), x.max(), color="0.85", label="prefetch syncs cannot keep up")
    if run_ingest_bytes_per_s is not None and x.min() <= run_ingest_bytes_per_s / 1e6 <= x.max():
        ax.axvline(run_ingest_bytes_per_s / 1e6, color=PALETTE[2], lw=1.5, ls="-.",
                   label=f"this run: {run_ingest_bytes_per_s / 1e6:.3g} MB/s")
    ax.set_xlim(x.min(), x.max())
    return finish(ax)


def follower_cache_comparison(labels, hot_bytes, cold_query_fraction, *, title="Hot cache: size vs cold queries"):
    """Two panels per configuration: hot data (TB) and the share of queries reading cold data."""
    import matplotlib.pyplot as plt

    from ._style import STYLE

    with plt.rc_context(STYLE):
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(8.5, 3.8), layout="constrained")
    x = np.arange(len(labels))
    new_axes("Hot data kept on SSD", "", "hot data, compressed (TB)", ax=a1)
    a1.bar(x, np.asarray(hot_bytes) / 1e12, color=PALETTE[: len(labels)])
    new_axes("Queries touching cold data", "", "share of queries (%)", ax=a2)
    a2.bar(x, 100 * np.asarray(cold_query_fraction), color=PALETTE[: len(labels)])
    for a in (a1, a2):
        a.set_xticks(x, labels, rotation=0)
        a.grid(axis="x", visible=False)
    fig.suptitle(title, fontweight="bold")
    return fig


def follower_union_window(window_s, union, *, title="Leader+follower union: window W", ax=None, run_window_s=None):
    """Expected hole in the union's result (s) and the leader's share of the scan vs W.

    ``run_window_s`` (optional) marks the run's own window with a grey dashed line.
    """
    fig, ax = new_axes(title, "window read from the leader, W (min)", "expected missing span (s)", ax=ax)
    w = np.asarray(window_s, dtype=float) / 60.0
    ax.plot(w, union.expected_gap_s, "-", color=PALETTE[0], label="expected missing span E[(A - W)+] (s)")
    ax.plot(w, 100 * np.asarray(union.gap_probability) * np.nan, color=PALETTE[1],
            label="leader share of the scan (%, right axis)")
    ax.set_ylim(bottom=0)
    ax2 = ax.twinx()
    ax2.plot(w, 100 * np.asarray(union.leader_work_share), "-", color=PALETTE[1])
    ax2.set_ylabel("leader share of the query's scan (%)")
    ax2.set_ylim(bottom=0)
    ax2.spines["top"].set_visible(False)
    if run_window_s is not None:
        ax.axvline(float(run_window_s) / 60.0, color="0.4", lw=1, ls="--",
                   label=f"this run: W = {float(run_window_s) / 60.0:g} min")
    ax.set_xlim(w.min(), w.max())
    return finish(ax)
