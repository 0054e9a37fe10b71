r"""The interactive explorer behind ``notebooks/00-explore.ipynb``: one dashboard, three models.

The notebook stays thin: it calls :class:`Explorer` (ipywidgets controls that redraw the
dashboard live) and, for readers without a kernel, :func:`dashboard`, :func:`draw_dashboard`
and :meth:`Dashboard.key_numbers` at the defaults.  Everything the dashboard shows comes from
the models; this module only chooses what to compute for one setting of the controls:

* **Follower cluster** (Leibowitz2021 in docs/references.rst, :mod:`followerlab.follower`): lag of a follower database
  that syncs every ``sync_period_s`` with a sync duration growing with the metadata change rate;
  with ``prefetch`` the sync also warms the new extents (fresher cache, staler data).
* **Weak query consistency** (Leibowitz2023, :mod:`followerlab.consistency`): the database admin
  node's utilization under strong consistency vs with weak queries moved to ``heads`` query
  heads, the hottest head under ``routing_mode`` (by default with the source's "70% of
  queries on one database" mix), metadata staleness and the chance a session reads older metadata than before.
* **Raft follower reads** (CRDB-FollowerReadsTopology, :mod:`followerlab.raft`): write latency and read latency
  by ``read_path`` from every client region for a ``placement`` with its leaseholder in
  ``leaseholder_region``, on a shipped RTT matrix.

Key numbers use the metric names every notebook shares (``staleness_mean_s``,
``read_latency_p50_ms``, ``admin_utilization``, ...), one row per mechanism.

>>> d = dashboard(sync_period_s=120.0)
>>> d.key_numbers().query("metric == 'staleness_mean_s'")[["mechanism", "value"]]
              mechanism  value
0      follower cluster   63.2
4      weak query heads   62.0
15  raft follower reads    4.2
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import configuration, follower, raft
from . import parameters as _registry
from ._results import Result
from ._validate import check_choice

__all__ = [
    "DEFAULTS",
    "CONTROLS",
    "PLACEMENTS",
    "RTT_DATASETS",
    "Dashboard",
    "dashboard",
    "draw_dashboard",
    "dashboard_png",
    "assumptions",
    "Explorer",
    "slider_bounds",
]

#: RTT matrices the Raft panel can use: key -> (label, file under ``data/regions``).
RTT_DATASETS = {
    "crdb-demo": ("crdb demo (3 regions)", "crdb-demo-rtt-2019.csv"),
    "azure": ("Azure P50 (8 regions)", "azure-rtt-p50-2025-06.csv"),
}

#: Raft placements offered: key -> (label, kind, argument) understood by :func:`_placement`.
PLACEMENTS = {
    "spread3": ("3 voters, 3 regions", "spread", 3),
    "spread5": ("5 voters, 5 regions", "spread", 5),
    "zone": ("ZONE survival (3 voters, home)", "survival", "zone"),
    "region": ("REGION survival (5 voters)", "survival", "region"),
}

#: The explorer's controls: notebook 00's parameters in the registry (:mod:`followerlab.parameters`),
#: which gives each one's type, unit, domain (slider bounds, dropdown choices), default and meaning.
CONTROLS = {p.name: p for p in _registry.parameters_of("00-explore") if p.name not in _registry.RESERVED}

#: The explorer's parameters and their defaults (from the registry, as the notebook's parameters cell).
DEFAULTS = {name: p.default for name, p in CONTROLS.items()}

#: Model inputs the controls do not expose, with the notebooks' defaults (01, 02, 03: the same
#: names and units as their parameters).  ``dashboard(**{name: value})`` overrides any of them,
#: so the explorer can be put at a notebook's parameters and shows that notebook's numbers.
MODEL_INPUTS = {**configuration.FOLLOWER_DEFAULTS, **configuration.WEAK_DEFAULTS, **configuration.RAFT_DEFAULTS}

#: The notebook whose registry entry declares each model input (unit, meaning, source).
_INPUT_NOTEBOOK = {**{n: "01-follower-lag" for n in configuration.FOLLOWER_DEFAULTS},
                   **{n: "02-admin-node-load" for n in configuration.WEAK_DEFAULTS},
                   **{n: "03-raft-write-latency" for n in configuration.RAFT_DEFAULTS}}

#: What the widgets show that the registry does not hold: a label and, for sliders, a step.
_WIDGETS = {
    "sync_period_s": ("sync period (s)", 10),
    "change_rate_per_s": ("metadata changes/s", 0.5),
    "prefetch": ("auto-prefetch", None),
    "heads": ("query heads", 1),
    "routing_mode": ("routing mode", None),
    "query_rate_per_s": ("queries/s", 1),
    "weak_fraction": ("weak share", 0.05),
    "rtt_data": ("RTT data", None),
    "placement": ("placement", None),
    "leaseholder_region": ("leaseholder region", None),
    "read_path": ("read path", None),
}

# Kept for callers of earlier versions: the same inputs under their old constant names.
SYNC_BASE_S = MODEL_INPUTS["base_duration_s"]
SYNC_PER_CHANGE_S = MODEL_INPUTS["duration_per_change_s"]
BYTES_PER_CHANGE = MODEL_INPUTS["extent_mb"] * 1e6
WARM_BANDWIDTH_BYTES_PER_S = MODEL_INPUTS["warm_bandwidth_mb_per_s"] * 1e6
PLANNING_S = MODEL_INPUTS["planning_ms"] / 1e3
HEAD_REFRESH_S = MODEL_INPUTS["refresh_period_s"]
HOT_SHARE = MODEL_INPUTS["hot_database_share"]
DATABASES = MODEL_INPUTS["databases"]
SESSION_GAP_S = MODEL_INPUTS["session_gap_s"]
FSYNC_MS = MODEL_INPUTS["fsync_ms"]
INTRA_REGION_RTT_MS = MODEL_INPUTS["intra_region_rtt_ms"]


def assumptions() -> pd.DataFrame:
    """The model inputs the dashboard uses and the controls do not expose, with their sources.

    Defaults, units and meanings are the notebooks' own (their entries in
    :mod:`followerlab.parameters`); "assumed" means no source publishes the value, otherwise
    the source is the notebook's default and the reference it cites.

    >>> a = assumptions().set_index("name")
    >>> a.loc["refresh_period_s", "value"], a.loc["extent_mb", "source"]
    ('120', 'assumed')
    >>> a.loc["refresh_period_s", "source"]
    'notebook 02 default (Leibowitz2023)'
    """
    rows = []
    for name, value in MODEL_INPUTS.items():
        nb = _INPUT_NOTEBOOK[name]
        p = _registry.get(nb, name)
        source = "assumed" if p.assumed else f"notebook {nb[:2]} default" + (f" ({p.source})" if p.source else "")
        rows.append((name, value if isinstance(value, str) else f"{value:g}", p.unit, p.meaning, source))
    return pd.DataFrame(rows, columns=["name", "value", "unit", "meaning", "source"])


@dataclass(frozen=True)
class Dashboard(Result):
    """Key numbers of the three mechanisms for one setting of the explorer's controls.

    Numeric fields are scalars (0-d arrays); ``parameters`` holds the controls;
    ``curves`` the arrays the figure draws (lag CDFs, utilization sweep, per-region latencies).
    """

    follower_lag_mean_s: np.ndarray
    follower_lag_p99_s: np.ndarray
    follower_back_to_back: np.ndarray
    follower_lag_unbounded: np.ndarray
    follower_first_query_s: np.ndarray
    follower_time_to_answer_s: np.ndarray
    admin_utilization_strong: np.ndarray
    admin_utilization: np.ndarray
    hottest_head_utilization: np.ndarray
    admin_saturation_rate_per_s: np.ndarray
    weak_staleness_mean_s: np.ndarray
    weak_staleness_p99_s: np.ndarray
    p_monotonic_violation: np.ndarray
    write_latency_p50_ms: np.ndarray
    write_latency_p99_ms: np.ndarray
    read_latency_mean_ms: np.ndarray
    read_latency_p50_ms: np.ndarray
    read_latency_p99_ms: np.ndarray
    read_staleness_mean_s: np.ndarray
    parameters: dict = field(repr=False)
    curves: dict = field(repr=False, compare=False)

    def key_numbers(self) -> pd.DataFrame:
        """The numbers under the figure: ``mechanism, metric, value, unit`` (shared names)."""
        f = float
        rows = [
            ("follower cluster", "staleness_mean_s", f(self.follower_lag_mean_s), "s"),
            ("follower cluster", "staleness_p99_s", f(self.follower_lag_p99_s), "s"),
            ("follower cluster", "first_query_latency_s", f(self.follower_first_query_s), "s"),
            ("follower cluster", "time_to_answer_mean_s", f(self.follower_time_to_answer_s), "s"),
            ("weak query heads", "staleness_mean_s", f(self.weak_staleness_mean_s), "s"),
            ("weak query heads", "staleness_p99_s", f(self.weak_staleness_p99_s), "s"),
            ("weak query heads", "admin_utilization", f(self.admin_utilization), "1"),
            ("weak query heads", "admin_utilization_strong_only", f(self.admin_utilization_strong), "1"),
            ("weak query heads", "head_utilization_hottest", f(self.hottest_head_utilization), "1"),
            ("weak query heads", "monotonic_read_violation_probability", f(self.p_monotonic_violation), "1"),
            ("raft follower reads", "write_latency_p50_ms", f(self.write_latency_p50_ms), "ms"),
            ("raft follower reads", "write_latency_p99_ms", f(self.write_latency_p99_ms), "ms"),
            ("raft follower reads", "read_latency_mean_ms", f(self.read_latency_mean_ms), "ms"),
            ("raft follower reads", "read_latency_p50_ms", f(self.read_latency_p50_ms), "ms"),
            ("raft follower reads", "read_latency_p99_ms", f(self.read_latency_p99_ms), "ms"),
            ("raft follower reads", "staleness_mean_s", f(self.read_staleness_mean_s), "s"),
        ]
        return pd.DataFrame(rows, columns=["mechanism", "metric", "value", "unit"])


def _params(**overrides) -> dict:
    known = {*DEFAULTS, *MODEL_INPUTS, "deployment_regions"}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ValueError(f"unknown explorer parameter(s) {unknown}; known: {sorted(known)}")
    p = {**DEFAULTS, **MODEL_INPUTS, "deployment_regions": None, **overrides}
    if isinstance(p["prefetch"], np.bool_):
        p["prefetch"] = bool(p["prefetch"])
    for name, control in CONTROLS.items():  # type and domain from the registry
        p[name] = control.check(p[name])
    regions = list(raft.load_rtt(RTT_DATASETS[p["rtt_data"]][1]).index)
    p["leaseholder_region"] = check_choice("leaseholder_region", p["leaseholder_region"], regions)
    deploy = p["deployment_regions"]
    if deploy is None or len(deploy) == 0:
        deploy = regions
    elif isinstance(deploy, str):
        raise ValueError(f"deployment_regions must be a list of regions of rtt_data; got {deploy!r}")
    deploy = [check_choice("deployment_regions", r, regions) for r in deploy]
    p["deployment_regions"] = list(dict.fromkeys([p["leaseholder_region"], *deploy]))
    return p


def _placement(matrix: pd.DataFrame, key: str, leaseholder, regions) -> raft.Placement:
    label, kind, arg = PLACEMENTS[key]
    if kind == "spread":
        if arg > len(regions):
            raise ValueError(f"placement {key!r} ({label}) needs {arg} regions; the deployment has {len(regions)} "
                             f"({', '.join(regions)})")
        return raft.spread_placement(matrix, leaseholder, regions, n_voters=arg, name=label)
    if kind == "survival" and arg == "region" and len(regions) < 3:
        raise ValueError(f"placement {key!r} ({label}) needs 3 regions; the deployment has {len(regions)}")
    return raft.survival_placement(matrix, leaseholder, arg, regions, name=label)


def dashboard(**parameters) -> Dashboard:
    r"""Compute every number and curve the dashboard shows, for one setting of the controls.

    Parameters
    ----------
    **parameters
        Any of :data:`DEFAULTS` (others keep their default), each checked against its type and
        domain in the registry (:data:`CONTROLS`: notebook 00's entries in
        :mod:`followerlab.parameters`; ``followerlab schema 00-explore`` lists them):
        ``sync_period_s``, ``change_rate_per_s``, ``prefetch``, ``heads``, ``routing_mode``,
        ``query_rate_per_s``, ``weak_fraction``, ``placement`` (a key of :data:`PLACEMENTS`),
        ``leaseholder_region`` (also a region of ``rtt_data``), ``read_path``, ``rtt_data`` (a
        key of :data:`RTT_DATASETS`); any of :data:`MODEL_INPUTS` (the notebooks'
        model inputs, under their parameter names); ``deployment_regions`` (regions of ``rtt_data`` where the
        replicas and the clients are; default: all of them).

    Returns
    -------
    Dashboard

    Notes
    -----
    Every number comes from :mod:`followerlab.configuration`, the functions notebooks 01-03
    compute their results with: :func:`~followerlab.configuration.follower_metrics` (lag
    :math:`E[L] = P/2 + d_0 + (d_1 + \mathbb{1}_{prefetch} s/B) m P`, first query on the newest
    data cold from blob storage or hot from SSD),
    :func:`~followerlab.configuration.weak_metrics` (admin utilization
    :math:`\rho_A = ((1-w)\lambda s_q + \lambda_c s_c)/c`, hottest head after the results
    cache, metadata age, monotonic-read violations) and
    :func:`~followerlab.configuration.raft_metrics` (write p50/p99 for a client in the
    leaseholder's region with link jitter; reads pooled over the deployment regions with equal
    client shares, *assumed*).  The per-region bars are the deterministic
    :func:`followerlab.raft.write_latency` and :func:`followerlab.raft.read_latency`.

    Examples
    --------
    >>> d = dashboard(sync_period_s=60.0, change_rate_per_s=1.0)
    >>> float(d.follower_lag_mean_s)           # 60/2 + 2 + 0.01 * 1 * 60
    32.6
    >>> round(float(d.admin_utilization_strong), 3)   # (30/s x 50 ms + 0.5/s x 200 ms) on one slot
    1.6
    >>> dashboard(routing_mode="sticky")
    Traceback (most recent call last):
    ...
    ValueError: routing_mode must be one of 'random', 'by_database', 'by_query', 'by_session'; got 'sticky'...
    """
    p = _params(**parameters)
    inputs = {k: p[k] for k in MODEL_INPUTS}
    f_in = {k: inputs[k] for k in configuration.FOLLOWER_DEFAULTS}
    w_in = {k: inputs[k] for k in configuration.WEAK_DEFAULTS}
    r_in = {k: inputs[k] for k in configuration.RAFT_DEFAULTS}

    # -- follower cluster: the same computation as notebook 01
    fm = configuration.follower_metrics(p["sync_period_s"], p["change_rate_per_s"], p["prefetch"], **f_in)
    fm_other = configuration.follower_metrics(p["sync_period_s"], p["change_rate_per_s"], not p["prefetch"], **f_in)
    sync = dict(base_duration_s=inputs["base_duration_s"], duration_per_change_s=inputs["duration_per_change_s"],
                bytes_per_change=inputs["extent_mb"] * 1e6,
                warm_bandwidth_bytes_per_s=inputs["warm_bandwidth_mb_per_s"] * 1e6)
    lag = follower.sync_lag(p["sync_period_s"], change_rate_per_s=p["change_rate_per_s"], prefetch=p["prefetch"], **sync)
    other = follower.sync_lag(p["sync_period_s"], change_rate_per_s=p["change_rate_per_s"],
                              prefetch=not p["prefetch"], **sync)
    # plot range: the largest lag either setting reaches, up to a Poisson tail of 5 sd of changes
    t_max = 0.0
    for r in (lag, other):
        lam = float(r.change_rate_per_s * r.period_s)
        reach = (2 * float(r.effective_period_s) if bool(r.back_to_back)
                 else float(r.period_s + r.base_duration_s + r.duration_per_change_s * (lam + 5 * np.sqrt(lam))))
        t_max = max(t_max, reach)
    t_max = t_max if np.isfinite(t_max) and t_max > 0 else 4 * p["sync_period_s"]
    t = np.linspace(0.0, 1.05 * t_max, 400)

    # -- weak query consistency: the same computation as notebook 02
    rate, w, h, mode = p["query_rate_per_s"], p["weak_fraction"], p["heads"], p["routing_mode"]
    planning_s = inputs["planning_ms"] / 1e3
    rates = np.linspace(0.0, max(2.0 * rate, 1.0 / planning_s * 1.5), 121)
    sweep = configuration.weak_metrics(rates, w, h, mode, **w_in)
    at = configuration.weak_metrics(rate, w, h, mode, **w_in)

    # -- Raft: the same computation as notebook 03, clients in the deployment regions
    matrix = raft.load_rtt(RTT_DATASETS[p["rtt_data"]][1])
    regions = p["deployment_regions"]
    place = _placement(matrix, p["placement"], p["leaseholder_region"], regions)
    rm = configuration.raft_metrics(matrix, place, regions, p["read_path"], **r_in)
    intra = dict(intra_region_rtt_ms=inputs["intra_region_rtt_ms"])
    writes = np.array([float(raft.write_latency(matrix, place, c, inputs["fsync_ms"], global_table=p["read_path"] == "global",
                                                **intra)) for c in regions])
    read_kw = dict(max_staleness_s=inputs["max_staleness_s"], version=inputs["crdb_version"], **intra)
    reads = [raft.read_latency(matrix, place, c, p["read_path"], **read_kw) for c in regions]
    lh_reads = [raft.read_latency(matrix, place, c, "leaseholder", **read_kw) for c in regions]

    curves = {
        "lag_t_s": t,
        "lag_cdf": lag.cdf(t),
        "lag_cdf_other": other.cdf(t),
        "lag_mean_other_s": float(other.mean_s),
        "first_query_s": float(fm.first_query_latency_s),
        "first_query_other_s": float(fm_other.first_query_latency_s),
        "rates_per_s": rates,
        "admin_strong": sweep.admin_utilization_strong_only,
        "admin_weak": sweep.admin_utilization,
        "hottest_head": sweep.hottest_head_utilization,
        "regions": regions,
        "write_ms": writes,
        "read_mean_ms": np.array([float(r.mean_ms) for r in reads]),
        "read_leaseholder_ms": np.array([float(r.mean_ms) for r in lh_reads]),
        "placement_label": place.label(),
        "voters": place.voters,
    }
    return Dashboard(
        follower_lag_mean_s=fm.staleness_mean_s,
        follower_lag_p99_s=fm.staleness_p99_s,
        follower_back_to_back=fm.back_to_back,
        follower_lag_unbounded=fm.unbounded,
        follower_first_query_s=fm.first_query_latency_s,
        follower_time_to_answer_s=fm.time_to_answer_mean_s,
        admin_utilization_strong=at.admin_utilization_strong_only,
        admin_utilization=at.admin_utilization,
        hottest_head_utilization=at.hottest_head_utilization,
        admin_saturation_rate_per_s=at.admin_saturation_rate_per_s,
        weak_staleness_mean_s=at.staleness_mean_s,
        weak_staleness_p99_s=at.staleness_p99_s,
        p_monotonic_violation=at.monotonic_read_violation_probability,
        write_latency_p50_ms=rm.write_latency_p50_ms,
        write_latency_p99_ms=rm.write_latency_p99_ms,
        read_latency_mean_ms=rm.read_latency_mean_ms,
        read_latency_p50_ms=rm.read_latency_p50_ms,
        read_latency_p99_ms=rm.read_latency_p99_ms,
        read_staleness_mean_s=rm.staleness_mean_s,
        parameters=p,
        curves=curves,
    )


def draw_dashboard(d: Dashboard):
    """The dashboard figure: follower lag CDF | admin and head utilization | Raft latency.

    Returns the matplotlib figure (styled with :mod:`followerlab.plots._style`).
    """
    from .plots._style import PALETTE, finish, new_axes, new_grid

    p, c = d.parameters, d.curves
    fig, axes = new_grid(1, 3, figsize=(14.0, 4.0))
    axes = axes[0]
    # 1. follower lag
    ax = axes[0]
    new_axes(f"Follower sync lag (period {p['sync_period_s']:g} s)", "lag until a write is queryable (s)",
             "P(lag ≤ t)", ax=ax)
    on = "with" if p["prefetch"] else "without"
    off = "without" if p["prefetch"] else "with"
    ax.plot(c["lag_t_s"], c["lag_cdf"], color=PALETTE[0], lw=2,
            label=f"{on} prefetch (selected); 1st query {_fmt(c['first_query_s'])} s")
    ax.plot(c["lag_t_s"], c["lag_cdf_other"], color=PALETTE[1], lw=1.2, ls="--",
            label=f"{off} prefetch; 1st query {_fmt(c['first_query_other_s'])} s")
    ax.axvline(float(d.follower_lag_mean_s), color=PALETTE[0], lw=0.8, ls=":")
    ax.set_ylim(0, 1.02)
    ax.set_xlim(left=0)
    if bool(d.follower_lag_unbounded):
        note = "syncs cannot keep up:\neach brings more changes than it clears,\nthe lag grows without bound"
    elif bool(d.follower_back_to_back):
        note = "syncs run back to back\n(a sync lasts longer than the period)"
    else:
        note = ""
    if note:
        ax.text(0.97, 0.05, note, transform=ax.transAxes, ha="right", va="bottom", fontsize=8, color=PALETTE[1])
    finish(ax)
    # 2. admin node and heads
    ax = axes[1]
    new_axes(f"Admin node vs {p['heads']} query heads", "query rate (queries/s)", "utilization", ax=ax)
    ax.plot(c["rates_per_s"], c["admin_strong"], color=PALETTE[1], lw=1.5, label="admin, all strong")
    ax.plot(c["rates_per_s"], c["admin_weak"], color=PALETTE[0], lw=2,
            label=f"admin, {p['weak_fraction']:.0%} weak")
    ax.plot(c["rates_per_s"], c["hottest_head"], color=PALETTE[2], lw=1.5,
            label=f"hottest head ({p['routing_mode']})")
    ax.axhline(1.0, color="0.3", lw=0.8, ls="--")
    ax.axvline(p["query_rate_per_s"], color="0.3", lw=0.8, ls=":")
    ax.set_ylim(0, max(1.6, min(3.0, float(np.nanmax(c["hottest_head"][np.isfinite(c["hottest_head"])], initial=0)))))
    ax.set_xlim(0, c["rates_per_s"][-1])
    ax.text(p["query_rate_per_s"], 0.02 * ax.get_ylim()[1], " selected rate", fontsize=8, va="bottom", color="0.3")
    ax.text(0.0, 1.0, " saturation", fontsize=8, va="bottom", color="0.3")
    finish(ax)
    ax.legend(loc="upper left", frameon=False, fontsize=8)
    # 3. Raft
    ax = axes[2]
    new_axes(f"Raft: {PLACEMENTS[p['placement']][0]}", "client region", "latency (ms)", ax=ax)
    x = np.arange(len(c["regions"]))
    width = 0.27
    ax.bar(x - width, c["write_ms"], width, color=PALETTE[1], label="write" + (" (global table)" if p["read_path"] == "global" else ""))
    ax.bar(x, c["read_mean_ms"], width, color=PALETTE[0], label=f"read: {p['read_path']} (mean)")
    ax.bar(x + width, c["read_leaseholder_ms"], width, color=PALETTE[5], label="read: leaseholder")
    ax.set_xticks(x, [f"{r}*" if r == p["leaseholder_region"] else str(r) for r in c["regions"]],
                  rotation=30 if len(x) > 3 else 0, ha="right" if len(x) > 3 else "center", fontsize=8)
    ax.grid(True, axis="y", alpha=0.3)
    ax.grid(False, axis="x")
    tallest = float(np.nanmax(np.r_[c["write_ms"], c["read_mean_ms"], c["read_leaseholder_ms"]]))
    ax.set_ylim(0, 1.4 * tallest if np.isfinite(tallest) and tallest > 0 else 1.0)  # headroom for the legend
    finish(ax)
    ax.legend(title="* = leaseholder region", title_fontsize=8, fontsize=8, frameon=False, loc="upper left",
              ncol=2)
    return fig


def dashboard_png(d: Dashboard, *, dpi: int = 90) -> bytes:
    """The dashboard figure as PNG bytes (what the explorer's image widget shows)."""
    import matplotlib.pyplot as plt

    fig = draw_dashboard(d)
    try:
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi)
        return buf.getvalue()
    finally:
        plt.close(fig)


def _numbers_html(d: Dashboard) -> str:
    """Key numbers as a compact table: one row per metric, one column per mechanism."""
    frame = d.key_numbers()
    mechanisms = list(dict.fromkeys(frame.mechanism))
    metrics = list(dict.fromkeys(frame.metric))
    value = {(m, k): (v, u) for m, k, v, u in frame.itertuples(index=False)}
    cell = "padding:1px 12px;text-align:right;font-variant-numeric:tabular-nums"
    head = "".join(f"<th style='{cell}'>{m}</th>" for m in mechanisms)
    rows = []
    for k in metrics:
        tds = []
        for m in mechanisms:
            v, u = value.get((m, k), (None, ""))
            text = "" if v is None else _fmt(v) + ("" if u == "1" else f" {u}")
            tds.append(f"<td style='{cell}'>{text}</td>")
        rows.append(f"<tr><td style='padding:1px 12px'><code>{k}</code></td>{''.join(tds)}</tr>")
    return ("<table style='border-collapse:collapse;line-height:1.3;font-size:12px'>"
            f"<thead><tr><th style='padding:1px 12px;text-align:left'>metric</th>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")


def _fmt(v: float) -> str:
    if np.isposinf(v):
        return "∞"
    return f"{v:.3g}"


def slider_bounds(param) -> tuple[float, float]:
    """``(min, max)`` of the slider of a numeric control: its registry domain, which must be closed.

    >>> slider_bounds(CONTROLS["sync_period_s"])
    (10.0, 900.0)
    """
    d = param.domain
    if not isinstance(d, _registry.Interval) or d.lower is None or d.upper is None or d.lower_open or d.upper_open:
        raise ValueError(f"control {param.name}: a slider needs a closed, bounded domain; got {param.describe()}")
    return float(d.lower), float(d.upper)


class Explorer:
    """ipywidgets dashboard: controls for the three models, a live figure and key numbers.

    ``Explorer(**parameters)`` starts from :data:`DEFAULTS` overridden by ``parameters``;
    display it in a notebook (it has ``_ipython_display_``).  Each control change recomputes
    :func:`dashboard` and replaces the figure (an ``ipywidgets.Image``) and the numbers table.
    A setting the models refuse (e.g. a 5-voter placement on a 3-region matrix) shows the
    model's error message instead of the numbers; the controls stay usable.

    Attributes
    ----------
    controls : dict of str -> ipywidgets widget
        One widget per parameter, keyed by the names of :data:`DEFAULTS`.
    fixed : dict
        The settings that are not controls -- the model inputs (:data:`MODEL_INPUTS`) and
        ``deployment_regions`` -- as given to the constructor; every update uses them.
    result : Dashboard or None
        The last successful computation.
    error : str
        The last error message ("" when the current setting is valid).
    widget : ipywidgets.VBox
        The whole dashboard.

    Examples
    --------
    >>> e = Explorer()
    >>> e.controls["sync_period_s"].value = 300.0       # what moving the slider does
    >>> float(e.result.follower_lag_mean_s)             # 150 + 2 + 0.01 * 1 * 300
    155.0
    """

    def __init__(self, **parameters):
        import ipywidgets as w

        p = _params(**parameters)
        # model inputs and the deployment are not controls: they stay as given
        self.fixed = {k: p[k] for k in (*MODEL_INPUTS, "deployment_regions")}
        if "deployment_regions" not in parameters:
            self.fixed["deployment_regions"] = None
        self._w = w
        style = {"description_width": "150px"}
        layout = w.Layout(width="380px")

        regions = list(raft.load_rtt(RTT_DATASETS[p["rtt_data"]][1]).index)
        self.controls = {name: self._control(name, p[name], regions, style, layout) for name in CONTROLS}
        self.result: Dashboard | None = None
        self.error = ""
        self.image = w.Image(format="png", layout=w.Layout(width="100%", max_width="1260px"))
        self.numbers = w.HTML()
        self.message = w.HTML()
        for name, control in self.controls.items():
            control.observe(self._on_rtt_data if name == "rtt_data" else self.update, names="value")

        def box(title, names):
            return w.VBox([w.HTML(f"<b>{title}</b>")] + [self.controls[n] for n in names])

        panels = w.HBox([
            box("Follower cluster (Leibowitz2021)", ["sync_period_s", "change_rate_per_s", "prefetch"]),
            box("Weak query consistency (Leibowitz2023)", ["heads", "routing_mode", "query_rate_per_s", "weak_fraction"]),
            box("Raft follower reads (CRDB-FollowerReadsTopology)", ["rtt_data", "placement", "leaseholder_region", "read_path"]),
        ], layout=w.Layout(flex_flow="row wrap"))
        self.widget = w.VBox([panels, self.message, self.image, self.numbers], layout=w.Layout(overflow="hidden"))
        self.update()

    def _control(self, name, value, regions, style, layout):
        """The widget of one control, built from its registry entry (bounds, choices, type)."""
        w, param = self._w, CONTROLS[name]
        label, step = _WIDGETS[name]
        if param.type == "bool":
            return w.Checkbox(value=value, description=label, style=style)
        if param.type in ("float", "int"):
            lo, hi = slider_bounds(param)
            kind = w.FloatSlider if param.type == "float" else w.IntSlider
            return kind(value=value, min=lo, max=hi, step=step, description=label, style=style, layout=layout,
                        continuous_update=False)
        options = list(param.domain.values)
        if name == "leaseholder_region":  # the regions of the chosen RTT data, not every known region
            options = [r for r in regions if r in param.domain.values]
        labels = {"placement": PLACEMENTS, "rtt_data": RTT_DATASETS}.get(name)
        if labels is not None:
            options = [(labels[k][0], k) for k in options]
        return w.Dropdown(options=options, value=value, description=label, style=style, layout=layout)

    def values(self) -> dict:
        """The controls' current values, as :func:`dashboard` keyword arguments."""
        return {name: control.value for name, control in self.controls.items()}

    def _on_rtt_data(self, change=None) -> None:
        regions = list(raft.load_rtt(RTT_DATASETS[self.controls["rtt_data"].value][1]).index)
        lh = self.controls["leaseholder_region"]
        keep = lh.value if lh.value in regions else regions[0]
        if not set(self.fixed["deployment_regions"] or ()) <= set(regions):
            self.fixed["deployment_regions"] = None          # another data set: all its regions
        lh.unobserve(self.update, names="value")
        try:
            lh.options = regions
            lh.value = keep
        finally:
            lh.observe(self.update, names="value")
        self.update()

    def update(self, change=None) -> None:
        """Recompute the dashboard for the current controls and redraw (called on each change)."""
        try:
            result = dashboard(**self.fixed, **self.values())
        except ValueError as exc:
            self.error = str(exc)
            self.message.value = f"<span style='color:#D55E00'><b>Not a valid setting:</b> {exc}</span>"
            return
        self.result, self.error = result, ""
        self.message.value = ""
        self.image.value = dashboard_png(result)
        self.numbers.value = _numbers_html(result)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)
