"""Figures for the multi-region Raft model (notebook 03)."""

from __future__ import annotations

import numpy as np

from ._style import PALETTE, finish, new_axes

__all__ = [
    "raft_rtt_heatmap", "raft_write_latency_bars", "raft_read_latency_bars", "raft_staleness_bars",
    "raft_write_load_curves", "raft_t_visibility_curves",
]


def raft_rtt_heatmap(rtt, *, title="Round-trip time between regions", ax=None):
    """Heatmap of an RTT matrix (DataFrame, ms), each cell annotated."""
    n = rtt.shape[0]
    fig, ax = new_axes(title, "destination region", "source region", ax=ax,
                       figsize=(max(6.5, 1.0 + 0.75 * n), max(3.8, 0.6 + 0.6 * n)))
    values = rtt.to_numpy(dtype=float)
    im = ax.imshow(values, cmap="viridis")
    ax.grid(False)
    labels = [str(x) for x in rtt.index]
    ax.set_xticks(range(n), labels, rotation=40, ha="right")
    ax.set_yticks(range(n), labels)
    hi = values.max() if values.size else 1.0
    for i in range(n):
        for j in range(n):
            ax.text(j, i, f"{values[i, j]:.0f}", ha="center", va="center", fontsize=8,
                    color="white" if values[i, j] < 0.6 * hi else "black")
    fig.colorbar(im, ax=ax, label="RTT (ms)", shrink=0.8)
    return finish(ax, legend=False)


def raft_write_latency_bars(table, *, title="Write latency by placement and leaseholder region", ax=None):
    """Grouped bars of write p50 (bar) and p99 (black tick) per leaseholder region and placement.

    ``table`` has columns ``leaseholder``, ``placement``, ``write_p50_ms``, ``write_p99_ms``.
    """
    leaders = list(dict.fromkeys(table["leaseholder"]))
    kinds = list(dict.fromkeys(table["placement"]))
    fig, ax = new_axes(title, "leaseholder region", "write latency (ms)", ax=ax,
                       figsize=(max(7.0, 1.0 * len(leaders) + 2), 4.4))
    width = 0.8 / len(kinds)
    x = np.arange(len(leaders))
    for k, kind in enumerate(kinds):
        sub = table[table["placement"] == kind].set_index("leaseholder").reindex(leaders)
        pos = x - 0.4 + width * (k + 0.5)
        ax.bar(pos, sub["write_p50_ms"], width * 0.95, color=PALETTE[k % len(PALETTE)], label=f"{kind}: p50")
        ax.scatter(pos, sub["write_p99_ms"], marker="_", s=180, color="black", zorder=3,
                   label="p99" if k == 0 else None)
    ax.set_xticks(x, leaders, rotation=30, ha="right")
    return finish(ax, legend_title="placement")


def raft_read_latency_bars(frame, *, title="Read latency by path and client region", ax=None):
    """Bars of mean read latency per client region and read path (``client_region``, ``path``, ``mean_ms``)."""
    clients = list(dict.fromkeys(frame["client_region"]))
    paths = list(dict.fromkeys(frame["path"]))
    fig, ax = new_axes(title, "client region", "mean read latency (ms)", ax=ax,
                       figsize=(max(7.0, 1.0 * len(clients) + 2), 4.4))
    width = 0.8 / len(paths)
    x = np.arange(len(clients))
    for k, path in enumerate(paths):
        sub = frame[frame["path"] == path].set_index("client_region").reindex(clients)
        ax.bar(x - 0.4 + width * (k + 0.5), sub["mean_ms"], width * 0.95, color=PALETTE[k % len(PALETTE)], label=path)
    ax.set_xticks(x, clients, rotation=30, ha="right")
    return finish(ax, legend_title="read path")


def raft_staleness_bars(staleness, *, title="Staleness of each read type", ax=None):
    """Horizontal bars of mean (bar) and max (tick) staleness, s; ``staleness`` has
    ``read_type``, ``staleness_mean_s``, ``staleness_max_s``."""
    fig, ax = new_axes(title, "staleness (s)", "read type", ax=ax, figsize=(7.0, 0.5 + 0.5 * len(staleness)))
    y = np.arange(len(staleness))
    ax.barh(y, staleness["staleness_mean_s"], 0.6, color=PALETTE[0], label="mean")
    ax.scatter(staleness["staleness_max_s"], y, marker="|", s=250, color="black", zorder=3, label="max")
    ax.set_yticks(y, staleness["read_type"])
    ax.invert_yaxis()
    return finish(ax)


def raft_write_load_curves(loads: dict, *, title="Write latency vs write rate (leader as a queue)", ax=None,
                           ylim=None, logx=True, rate_per_s=None):
    """Mean write latency against the write rate, one line per configuration.

    ``loads`` maps a label to a :class:`~followerlab.raft.WriteLoad` over a rate sweep; the
    saturation rate of each is marked with a dotted vertical line, and ``rate_per_s`` (the
    run's write rate, optional) with a grey dashed one.
    """
    fig, ax = new_axes(title, "write rate (writes/s)", "mean write latency (ms)", ax=ax)
    if rate_per_s is not None:
        ax.axvline(float(rate_per_s), color="0.4", linestyle="--", linewidth=1,
                   label=f"this run: {float(rate_per_s):g} writes/s")
    finite = []
    for i, (label, w) in enumerate(loads.items()):
        c = PALETTE[i % len(PALETTE)]
        rate = np.ravel(w.rate_per_s)
        mean = np.ravel(w.mean_ms)
        ok = np.isfinite(mean)
        ax.plot(rate[ok], mean[ok], color=c, label=label)
        ax.axvline(float(np.ravel(w.saturation_rate_per_s)[0]), color=c, linestyle=":", linewidth=1)
        finite.extend(mean[ok])
    if logx:
        ax.set_xscale("log")
    if ylim is not None:
        ax.set_ylim(*ylim)
    elif finite:
        lo = min(finite)
        ax.set_ylim(lo * 0.98, lo + 4 * (np.median(finite) - lo) + 1)
    return finish(ax, legend_title="voters, batch (dotted: saturation)")


def raft_t_visibility_curves(curves: dict, *, title="Consistent-read probability after commit (WARS)", ax=None):
    """P(read sees the write) against the time since commit, one line per configuration."""
    fig, ax = new_axes(title, "time from commit to read start, t (ms)", "P(read returns the write)", ax=ax)
    for i, (label, res) in enumerate(curves.items()):
        ax.plot(np.ravel(res.t_ms), np.ravel(res.probability), color=PALETTE[i % len(PALETTE)], label=label,
                linestyle=["-", "--", "-.", ":"][i % 4], linewidth=2.0 if i == 0 else 1.6)
    ax.set_ylim(0, 1.02)
    return finish(ax, legend_title="n, r, w")
