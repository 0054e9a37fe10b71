"""Figures of notebook 05: the Raft model against a real etcd cluster (issue 7)."""

from __future__ import annotations

import numpy as np

from ._style import PALETTE, finish, new_axes

__all__ = ["plot_predicted_vs_measured", "plot_error_by_hops", "plot_visibility"]

_OP_LABEL = {
    "put_leader": "put to leader",
    "put_follower": "put via follower",
    "read_linearizable_leader": "linearizable read (leader)",
    "read_linearizable_follower": "linearizable read (follower)",
    "read_serializable_follower": "serializable read (follower)",
}


def plot_predicted_vs_measured(table, quantile: str = "p50", ax=None):
    """Measured vs predicted latency (ms), one point per layout and operation.

    ``table`` is :func:`followerlab.validation.experiments.compare`'s output.  The shaded band
    is the acceptance tolerance max(3 ms, 10 %) around the diagonal.
    """
    fig, ax = new_axes(f"etcd: measured vs predicted {quantile} latency", f"predicted {quantile} (ms)",
                       f"measured {quantile} (ms)", ax=ax, figsize=(9.0, 5.0))
    pred = table[f"predicted_{quantile}_ms"].to_numpy()
    meas = table[f"measured_{quantile}_ms"].to_numpy()
    hi = float(np.nanmax(np.r_[pred, meas])) * 1.08 + 1
    x = np.linspace(0, hi, 200)
    ax.fill_between(x, x - np.maximum(3, 0.1 * x), x + np.maximum(3, 0.1 * x), color="0.85",
                    label="max(3 ms, 10 %) band")
    ax.plot(x, x, color="0.4", lw=1, label="measured = predicted")
    markers = {3: "o", 5: "s"}
    for k, (op, g) in enumerate(table.groupby("op", sort=False)):
        for n, gn in g.groupby("n"):
            ax.scatter(gn[f"predicted_{quantile}_ms"], gn[f"measured_{quantile}_ms"], s=28,
                       color=PALETTE[k % len(PALETTE)], marker=markers.get(int(n), "^"),
                       label=f"{_OP_LABEL.get(op, op)}, {n} members", zorder=3)
    ax.set_xlim(0, hi)
    ax.set_ylim(0, hi)
    finish(ax)
    ax.set_aspect("equal")
    ax.legend(fontsize=7.5, frameon=False, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    return fig


def plot_error_by_hops(table, ax=None):
    """Measured minus predicted p50 (ms) against the proxy crossings on the critical path."""
    rows = table[table.network_ms > 0]
    fig, ax = new_axes("Model error grows with delayed message hops", "proxy crossings on the critical path",
                       "measured − predicted p50 (ms)", ax=ax, figsize=(9.0, 4.2))
    rng = np.random.default_rng(0)
    markers = {3: "o", 5: "s"}
    for k, (op, g) in enumerate(rows.groupby("op", sort=False)):
        for n, gn in g.groupby("n"):
            jitter = rng.uniform(-0.12, 0.12, len(gn)) + (k - 1.5) * 0.08 + (0.35 if n == 5 else 0.0)
            ax.scatter(gn.hops + jitter, gn.error_p50_ms, s=26, color=PALETTE[k % len(PALETTE)],
                       marker=markers.get(int(n), "^"), label=f"{_OP_LABEL.get(op, op)}, {n} members", zorder=3)
    ax.axhline(0, color="0.4", lw=1)
    ax.set_xticks(sorted(rows.hops.unique()))
    ax.set_xlim(rows.hops.min() - 0.6, rows.hops.max() + 1.2)
    finish(ax)
    ax.legend(fontsize=7.5, frameon=False, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    return fig


def plot_visibility(curves, ax=None):
    """P(serializable follower read sees a put) vs time since the put returned (ms).

    ``curves`` is :func:`followerlab.validation.experiments.staleness_table`'s output: measured
    points and the WARS prediction (``staleness.t_visibility``) for each layout.
    """
    fig, ax = new_axes("Follower staleness: serializable reads under a write stream",
                       "time since the put returned (ms)", "P(read sees the put)", ax=ax)
    for k, (name, g) in enumerate(curves.groupby("layout", sort=False)):
        c = PALETTE[k % len(PALETTE)]
        ok = g.pairs > 0
        ax.plot(g.t_mid_ms[ok], g.measured[ok], "o", ms=4, color=c, label=f"{name}: measured")
        ax.step(g.t_mid_ms, g.predicted, where="mid", color=c, lw=1.2, alpha=0.8,
                label=f"{name}: t_visibility (x_L = {g.x_leader_ms.iloc[0]:g} ms)")
    ax.set_ylim(-0.03, 1.03)
    finish(ax)
    ax.legend(fontsize=7, frameon=False, loc="lower right")
    return fig
