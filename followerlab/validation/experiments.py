"""Experiments: predicted vs measured etcd latency over injected-latency layouts; saved runs.

:func:`run_latency_experiment` measures every operation of :data:`~.predict.OPS` on every
layout and returns the raw samples; :func:`compare` calibrates once on the zero-delay layout
and puts predicted and measured p50/p90 side by side.  :func:`save_run` / :func:`load_run`
keep a run under ``data/measurements/`` with the machine and the date, so the notebook can
render without etcd.

Noise: the machine is shared (2 cores, other busy sessions), so the load drifts over minutes.
Layouts of one cluster are therefore measured in *interleaved rounds* (round 1: every layout,
round 2: every layout, ...), the zero-delay calibration layout included, so a slow minute hits
every layout alike instead of biasing one.  The calibration is still one set of numbers (the
pooled zero-delay samples) applied unchanged to every layout.

>>> [lay.name for lay in LAYOUTS][:3]
['zero-3', 'sym-3', 'asym-3']
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from .._data import repo_root
from .._validate import as_int_array
from ..results_io import atomic_write_text
from .client import measure_latency, measure_staleness, visibility_curve
from .cluster import EtcdCluster, etcd_binary
from .predict import HOPS, OPS, Calibration, Layout, MessageCosts, calibrate, network_ms, predict

__all__ = ["LAYOUTS", "CI_LAYOUTS", "HOPS", "STALENESS_LAYOUTS", "CALIBRATION_LAYOUT", "run_latency_experiment", "compare", "machine_info",
           "save_run", "load_run", "latest_run", "run_staleness_experiment", "staleness_table", "visibility_t50",
           "per_hop_diagnostic", "summarize"]

#: The calibration layout: three members, no injected delay.
CALIBRATION_LAYOUT = Layout("zero-3", (0.0, 0.0, 0.0), leader=0, follower=1)

#: Every layout of the full experiment (the values of x are *chosen* to span the cases, ms).
LAYOUTS = (
    CALIBRATION_LAYOUT,
    Layout("sym-3", (10.0, 10.0, 10.0), leader=0, follower=1),
    Layout("asym-3", (5.0, 10.0, 20.0), leader=0, follower=2),
    Layout("asym-3-far-leader", (5.0, 10.0, 20.0), leader=2, follower=0),
    Layout("slow-member-3", (5.0, 5.0, 40.0), leader=0, follower=2),
    Layout("stopped-3", (5.0, 10.0, 20.0), leader=0, follower=2, stopped=(1,)),
    Layout("zero-5", (0.0,) * 5, leader=0, follower=1),
    Layout("sym-5", (10.0,) * 5, leader=0, follower=1),
    Layout("asym-5", (2.0, 5.0, 10.0, 20.0, 30.0), leader=0, follower=3),
    Layout("slow-member-5", (5.0, 5.0, 5.0, 5.0, 40.0), leader=0, follower=4),
    Layout("stopped-5", (2.0, 5.0, 10.0, 20.0, 30.0), leader=0, follower=3, stopped=(1,)),
)

#: The short CI check: the calibration layout and three WAN-like layouts (RTT 70-155 ms, in the
#: range of the inter-region RTTs in data/regions).  On a loaded 2-core machine each delayed
#: hop costs a few ms the model does not have (see the notebook), so the 10 % tolerance of the
#: acceptance rule only covers that at RTTs of this size.
CI_LAYOUTS = (
    CALIBRATION_LAYOUT,
    Layout("wan-sym-3", (40.0, 40.0, 40.0), leader=0, follower=1),
    Layout("wan-asym-3", (30.0, 50.0, 80.0), leader=0, follower=2),
    Layout("wan-slow-member-3", (35.0, 35.0, 120.0), leader=0, follower=2),
)


_OP_CALL = {
    "put_leader": ("put", "leader"),
    "put_follower": ("put", "follower"),
    "read_linearizable_leader": ("range_linearizable", "leader"),
    "read_linearizable_follower": ("range_linearizable", "follower"),
    "read_serializable_follower": ("range_serializable", "follower"),
}


def _groups(layouts):
    """Layouts by cluster size, each split into (running, stopped-member) phases."""
    out: dict[int, dict[tuple, list]] = {}
    for lay in layouts:
        out.setdefault(lay.n, {}).setdefault(tuple(lay.stopped), []).append(lay)
    return out


def run_latency_experiment(layouts=LAYOUTS, *, count: int = 100, rounds: int = 5, ops=OPS, concurrency: int = 1,
                           max_time_s: float = 600.0, progress=None, cluster_kwargs=None) -> pd.DataFrame:
    """Measure every operation on every layout; raw samples in long form.

    One cluster per cluster size.  Within a cluster, layouts without stopped members run
    first, interleaved over ``rounds`` rounds of ``count // rounds`` requests per operation;
    then the stopped-member layouts (members stopped once, for good) likewise.

    Parameters
    ----------
    layouts : sequence of Layout
    count : int
        Timed requests per layout and operation (split over the rounds).
    rounds : int
        Interleaving rounds (1..count).
    ops : sequence of str
        Subset of :data:`~.predict.OPS`.
    concurrency : int
        Closed-loop client threads per measurement.
    max_time_s : float
        Bound on the whole experiment; stops early (with what it has) when exceeded.
    progress : callable, optional
        Called with a short text after each layout round.

    Returns
    -------
    pandas.DataFrame
        Columns ``layout, n, op, round, concurrency, latency_ms`` (one row per request), plus
        one row per layout round with ``op = "proxy_lateness_p50"``: the median of how late the
        proxies sent delayed chunks (ms), i.e. how much more delay was injected than asked.
    """
    count = int(as_int_array("count", count, minimum=1, maximum=10**5))
    rounds = int(as_int_array("rounds", rounds, minimum=1, maximum=count))
    for op in ops:
        if op not in OPS:
            raise ValueError(f"ops must be among {OPS}; got {op!r}")
    per_round = max(1, count // rounds)
    deadline = time.monotonic() + max_time_s
    rows = []
    for n, phases in _groups(layouts).items():
        with EtcdCluster(n, **(cluster_kwargs or {})) as cluster:
            for stopped, group in sorted(phases.items(), key=lambda kv: len(kv[0])):
                for i in stopped:
                    cluster.stop_member(i)
                for r in range(rounds):
                    for lay in group:
                        if time.monotonic() > deadline:
                            break
                        cluster.set_delays(lay.delays_ms)
                        cluster.move_leader(lay.leader)
                        cluster.proxy.lateness()  # forget the lateness of the previous layout
                        for op in ops:
                            kind, who = _OP_CALL[op]
                            member = lay.leader if who == "leader" else lay.follower
                            s = measure_latency(cluster, kind, member, per_round, concurrency=concurrency,
                                                warmup=3, max_time_s=max(1.0, deadline - time.monotonic()))
                            rows += [(lay.name, n, op, r, concurrency, v) for v in s.latencies_ms]
                        late = cluster.proxy.lateness()
                        if late["count"] and max(lay.delays_ms) > 0:  # zero delay: only leftovers
                            rows.append((lay.name, n, "proxy_lateness_p50", r, concurrency, late["p50_ms"]))
                        if progress is not None:
                            progress(f"{lay.name} round {r + 1}/{rounds}")
    return pd.DataFrame(rows, columns=["layout", "n", "op", "round", "concurrency", "latency_ms"])


def summarize(samples: pd.DataFrame, layouts=LAYOUTS) -> pd.DataFrame:
    """Measured p50/p90 per layout and operation next to the model's network part (no prediction).

    The input of :func:`~followerlab.validation.predict.fit_message_costs`.  Columns
    ``layout, n, op, samples, network_ms, hops, measured_p50_ms, measured_p90_ms``.

    >>> s = pd.DataFrame({"layout": "sym-3", "n": 3, "op": "put_leader", "round": 0, "concurrency": 1,
    ...                   "latency_ms": [21.0, 22.0, 23.0]})
    >>> summarize(s)[["network_ms", "hops", "measured_p50_ms"]].values.tolist()
    [[20.0, 2.0, 22.0]]
    """
    by = {lay.name: lay for lay in layouts}
    out = []
    for (name, op), g in samples.groupby(["layout", "op"], sort=False):
        if name not in by or op not in OPS:
            continue
        x = g.latency_ms.to_numpy()
        out.append({"layout": name, "n": by[name].n, "op": op, "samples": x.size,
                    "network_ms": network_ms(by[name])[op], "hops": float(HOPS[op]),
                    "measured_p50_ms": float(np.percentile(x, 50)), "measured_p90_ms": float(np.percentile(x, 90))})
    return pd.DataFrame(out)


def compare(samples: pd.DataFrame, layouts=LAYOUTS, calibration_layout: Layout = CALIBRATION_LAYOUT,
            calibration: Calibration | None = None, *, costs: MessageCosts | None = None,
            tolerance_ms: float = 3.0, tolerance_rel: float = 0.10) -> pd.DataFrame:
    """Predicted vs measured p50/p90 per layout and operation, one calibration for all.

    The calibration comes from ``calibration_layout``'s samples (unless given) and is applied
    unchanged to every layout, the calibration layout included (where the error is 0 by
    construction at p50 and p90).  ``error_p50_ms = measured - predicted``; ``within_tol`` is
    ``|error_p50| <= max(tolerance_ms, tolerance_rel * predicted)``: by default max(3 ms, 10 %),
    the acceptance rule of issue 7; issue 15 asks max(1 ms, 5 %) with ``costs`` (a
    :class:`~followerlab.validation.predict.MessageCosts` fit: per-hop and client costs instead
    of the per-operation zero-delay overhead; the p90 still adds the calibration's spread).  The
    ``p50_se_ms`` column is a bootstrap-free standard error of the measured median,
    ``1.2533 * sd_mid / sqrt(k)`` with ``sd_mid`` the interquartile range / 1.349 (normal
    approximation of the median's sampling error), to read the errors against.  ``hops`` is the
    number of proxy crossings on the operation's critical path and ``proxy_lateness_p50_ms``
    how late the proxies delivered (measured by the proxy) during that layout.
    """
    by = {lay.name: lay for lay in layouts}
    if calibration is None:
        cal_s = samples[(samples.layout == calibration_layout.name) & samples.op.isin(OPS)]
        if cal_s.empty:
            raise ValueError(f"samples hold no calibration layout {calibration_layout.name!r}")
        calibration = calibrate({op: g.latency_ms.to_numpy() for op, g in cal_s.groupby("op")}
                                | {op: [0.0] for op in OPS if op not in set(cal_s.op)}, calibration_layout)
    out = []
    for (name, op), g in samples.groupby(["layout", "op"], sort=False):
        if name not in by or op not in OPS:
            continue
        pred = predict(by[name], calibration, op, costs=costs).iloc[0]
        x = g.latency_ms.to_numpy()
        q25, p50, q75, p90 = np.percentile(x, [25, 50, 75, 90])
        se = 1.2533 * (q75 - q25) / 1.349 / np.sqrt(x.size)
        tol = max(tolerance_ms, tolerance_rel * pred.predicted_p50_ms)
        out.append({"layout": name, "n": by[name].n, "op": op, "samples": x.size,
                    "network_ms": pred.network_ms,
                    "predicted_p50_ms": pred.predicted_p50_ms, "measured_p50_ms": p50,
                    "error_p50_ms": p50 - pred.predicted_p50_ms, "p50_se_ms": se,
                    "predicted_p90_ms": pred.predicted_p90_ms, "measured_p90_ms": p90,
                    "error_p90_ms": p90 - pred.predicted_p90_ms,
                    "tolerance_ms": tol, "within_tol": bool(abs(p50 - pred.predicted_p50_ms) <= tol)})
    frame = pd.DataFrame(out)
    late = samples[samples.op == "proxy_lateness_p50"].groupby("layout").latency_ms.median()
    frame["hops"] = frame.op.map(HOPS)
    frame["proxy_lateness_p50_ms"] = frame.layout.map(late)
    order = {lay.name: i for i, lay in enumerate(layouts)}
    frame["_o"] = frame.layout.map(order) * 10 + frame.op.map({o: i for i, o in enumerate(OPS)})
    return frame.sort_values("_o").drop(columns="_o").reset_index(drop=True)


def per_hop_diagnostic(table: pd.DataFrame, reference_layout: str = "sym-3",
                       reference_op: str = "put_leader") -> tuple[float, pd.DataFrame]:
    """How much of the error one constant cost per delayed hop explains (a diagnostic only).

    ``h`` is read off ONE reference row, ``error_p50 / hops``; every delayed row then gets the
    residual ``error_p50 - hops * h``.  Small residuals across operations with 2 and 4 hops
    support the explanation that the model misses a per-message cost; this is not used for the
    predictions (those keep the single zero-delay calibration).

    Returns
    -------
    (h_ms, frame)
        ``frame`` summarises the residual (ms) by cluster size and hop count.

    Examples
    --------
    >>> t = pd.DataFrame({"layout": ["a", "b"], "op": ["put_leader", "put_follower"], "n": [3, 3],
    ...                   "hops": [2, 4], "network_ms": [20.0, 40.0], "error_p50_ms": [4.0, 8.5]})
    >>> h, f = per_hop_diagnostic(t, "a")
    >>> h, f.median_residual_ms.tolist()
    (2.0, [0.0, 0.5])
    """
    ref = table[(table.layout == reference_layout) & (table.op == reference_op)]
    if ref.empty:
        raise ValueError(f"reference_layout/op {reference_layout!r}/{reference_op!r} not in the table")
    h = float(ref.error_p50_ms.iloc[0] / ref.hops.iloc[0])
    rows = table[table.network_ms > 0].assign(residual_ms=lambda d: d.error_p50_ms - d.hops * h)
    frame = rows.groupby(["n", "hops"]).agg(rows=("residual_ms", "size"),
                                            median_error_ms=("error_p50_ms", "median"),
                                            median_residual_ms=("residual_ms", "median"),
                                            max_abs_residual_ms=("residual_ms", lambda r: float(np.abs(r).max())))
    return h, frame.reset_index()


# ---------------------------------------------------------------------------- staleness

#: Staleness layouts: the follower's visibility threshold should follow the leader's x_L.
STALENESS_LAYOUTS = (
    Layout("stale-x5", (5.0, 5.0, 5.0), leader=0, follower=1),
    Layout("stale-x15", (15.0, 5.0, 5.0), leader=0, follower=1),
    Layout("stale-x30", (30.0, 5.0, 5.0), leader=0, follower=1),
)


def run_staleness_experiment(layouts=STALENESS_LAYOUTS, *, writes: int = 150, read_pause_ms: float = 1.0,
                             max_time_s: float = 120.0, cluster_kwargs=None) -> pd.DataFrame:
    """Serializable reads at a follower under a write stream to the leader, per layout.

    Returns the raw pairs in long form: ``layout, kind, k, t_s, value`` with ``kind`` either
    ``write`` (``t_s`` = when put ``k`` returned) or ``read`` (``t_s`` = when it was sent,
    ``value`` = what it returned); times are seconds from the layout's first event.
    """
    rows = []
    deadline = time.monotonic() + max_time_s
    for n, phases in _groups(layouts).items():
        with EtcdCluster(n, **(cluster_kwargs or {})) as cluster:
            for _stopped, group in phases.items():
                for lay in group:
                    cluster.set_delays(lay.delays_ms)
                    cluster.move_leader(lay.leader)
                    s = measure_staleness(cluster, lay.leader, lay.follower, writes=writes,
                                          read_pause_ms=read_pause_ms,
                                          max_time_s=max(1.0, min(60.0, deadline - time.monotonic())))
                    t0 = min(s.write_done_s.min(initial=np.inf), s.read_sent_s.min(initial=np.inf))
                    rows += [(lay.name, "write", k, t - t0, k) for k, t in enumerate(s.write_done_s)]
                    rows += [(lay.name, "read", j, t - t0, int(v)) for j, (t, v) in
                             enumerate(zip(s.read_sent_s, s.read_value))]
    return pd.DataFrame(rows, columns=["layout", "kind", "k", "t_s", "value"])


def staleness_table(raw: pd.DataFrame, layouts=STALENESS_LAYOUTS, edges_ms=None, trials: int = 20_000,
                    seed: int = 7) -> pd.DataFrame:
    """Measured visibility curve of each layout next to :func:`followerlab.staleness.t_visibility`.

    Mapping of etcd onto the WARS model (documented assumption): a follower applies an entry
    only once it learns the commit, from the leader's next append, one way ``x_L`` after the
    commit; so in WARS terms the follower's "write arrival" is ``W = x_L`` after the commit.  We
    use ``n = 2`` replicas, ``w = r = 1``: the leader (``W = A = 0``, so the commit is at 0; its
    read latency is set huge so that the read is answered by the follower, as in the
    experiment) and the follower (``W = x_L``, read trip ``R = 0``: the client is local).  Local
    costs (apply, gateway) are not modelled, so the predicted curve is a step at ``x_L``.

    Returns
    -------
    pandas.DataFrame
        ``layout, t_lo_ms, t_hi_ms, t_mid_ms, measured, pairs, predicted`` per bin.
    """
    by = {lay.name: lay for lay in layouts}
    out = []
    for name, g in raw.groupby("layout", sort=False):
        lay = by[name]
        x_l = lay.delays_ms[lay.leader]
        edges = np.asarray(edges_ms if edges_ms is not None else np.arange(0.0, 3 * max(x_l, 5.0) + 2.5, 2.5))
        w = g[g.kind == "write"].sort_values("k")
        r = g[g.kind == "read"].sort_values("k")
        from .client import StalenessSample

        s = StalenessSample(lay.leader, lay.follower, w.t_s.to_numpy(), r.t_s.to_numpy(), r.value.to_numpy())
        meas = visibility_curve(s, edges)
        dt = (s.read_sent_s[:, None] - s.write_done_s[None, :]) * 1e3
        pairs = np.histogram(dt[dt >= 0], edges)[0]
        mid = (edges[:-1] + edges[1:]) / 2
        tv = _wars_for(lay, mid, trials, seed)
        out += [{"layout": name, "x_leader_ms": x_l, "t_lo_ms": lo, "t_hi_ms": hi, "t_mid_ms": m,
                 "measured": p, "pairs": int(c), "predicted": float(q)}
                for lo, hi, m, p, c, q in zip(edges[:-1], edges[1:], mid, meas, pairs, tv.probability)]
    return pd.DataFrame(out)


def _wars_for(lay: Layout, t_ms, trials: int, seed: int):
    from ..staleness import t_visibility

    x_l = lay.delays_ms[lay.leader]
    return t_visibility(t_ms, 2, 1, 1, write=[0.0, x_l], ack=[0.0, 0.0], read=[1e9, 0.0],
                        response=[0.0, 0.0], trials=trials, seed=seed)


def visibility_t50(curves: pd.DataFrame, layouts=STALENESS_LAYOUTS, trials: int = 20_000,
                   seed: int = 7) -> pd.DataFrame:
    """Time (ms after the put returned) at which a follower read sees the put half the time.

    Measured: linear interpolation of the binned curve where it first reaches 0.5 (NaN if it
    never does).  Predicted: ``t_visibility(...).t_for(0.5)`` with the mapping of
    :func:`staleness_table`.

    >>> c = pd.DataFrame({"layout": "stale-x5", "t_mid_ms": [1.0, 3.0, 5.0, 7.0],
    ...                   "measured": [0.0, 0.2, 0.6, 1.0], "pairs": 10, "x_leader_ms": 5.0})
    >>> visibility_t50(c)[["measured_t50_ms", "predicted_t50_ms"]].round(2).values.tolist()
    [[4.5, 5.0]]
    """
    by = {lay.name: lay for lay in layouts}
    out = []
    for name, g in curves.groupby("layout", sort=False):
        g = g[g.pairs > 0]
        t = g.t_mid_ms.to_numpy()
        p = g.measured.to_numpy()
        above = np.flatnonzero(p >= 0.5)
        if above.size == 0:
            m = float("nan")
        elif above[0] == 0:
            m = float(t[0])
        else:
            i = above[0]
            m = float(t[i - 1] + (0.5 - p[i - 1]) * (t[i] - t[i - 1]) / (p[i] - p[i - 1]))
        pred = float(_wars_for(by[name], 0.0, trials, seed).t_for(0.5))
        out.append({"layout": name, "x_leader_ms": by[name].delays_ms[by[name].leader],
                    "predicted_t50_ms": pred, "measured_t50_ms": m, "error_ms": m - pred})
    return pd.DataFrame(out)


# ---------------------------------------------------------------------------- saving

def machine_info() -> dict:
    """What the numbers were measured on: host, CPUs, kernel, Python, etcd version, load."""
    try:
        etcd_version = subprocess.run([etcd_binary() or "etcd", "--version"], capture_output=True, text=True,
                                      timeout=10).stdout.splitlines()[0]
    except (OSError, IndexError, subprocess.SubprocessError):
        etcd_version = "not installed"
    try:
        load = os.getloadavg()
    except OSError:
        load = (float("nan"),) * 3
    return {"hostname": platform.node(), "cpus": os.cpu_count(), "kernel": platform.release(),
            "machine": platform.machine(), "python": platform.python_version(), "etcd": etcd_version,
            "loadavg_1_5_15": [round(v, 2) for v in load]}


def _measurements_dir() -> Path:
    return Path(os.environ.get("FOLLOWERLAB_DATA", repo_root() / "data")) / "measurements"


def save_run(name: str, samples: pd.DataFrame, meta: dict, directory=None) -> tuple[Path, Path]:
    """Write ``<name>-<UTC date>.csv`` (raw samples) and ``.json`` (machine, date, parameters).

    Returns the two paths.  ``directory`` defaults to ``data/measurements``.
    """
    directory = Path(directory) if directory else _measurements_dir()
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H%MZ")
    base = directory / f"{name}-{stamp}"
    csv = atomic_write_text(base.with_suffix(".csv"), samples.to_csv(index=False, float_format="%.4f"))
    doc = {"name": name, "date_utc": stamp, "machine": machine_info(), **meta, "csv": csv.name}
    js = atomic_write_text(base.with_suffix(".json"), json.dumps(doc, indent=2, default=str))
    return csv, js


def latest_run(name: str, directory=None) -> Path | None:
    """The newest saved ``<name>-*.json`` in ``data/measurements`` (or None)."""
    directory = Path(directory) if directory else _measurements_dir()
    found = sorted(directory.glob(f"{name}-[0-9][0-9][0-9][0-9]-*.json"))  # not "<name>-wan-..."
    return found[-1] if found else None


def load_run(path) -> tuple[pd.DataFrame, dict]:
    """Read a saved run: (samples, metadata)."""
    path = Path(path)
    meta = json.loads(path.read_text())
    samples = pd.read_csv(path.with_name(meta["csv"]))
    return samples, meta
