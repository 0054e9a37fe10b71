"""etcd learners as non-voting replicas: serializable reads at a learner vs at a voter.

An etcd *learner* (``etcdctl member add --learner``, [etcd-Learner] in docs/references.rst)
receives the leader's log like a follower but never votes and never counts towards the commit
quorum: the stand-in here for a CockroachDB non-voting replica.  etcd 3.4 lets a learner
serve only serializable reads (a linearizable read there fails with "rpc not supported for
learner").

What the model says, and what :func:`run_learner_experiment` measures:

* **Commit is unaffected by the learner.**  :func:`followerlab.raft.commit_latency` takes the
  voters only, so the put latency at the leader must not change when the learner's own proxy
  delay grows (its acks do not count).
* **Staleness at a learner equals staleness at a voter follower.**  Both apply an entry once
  the leader tells them it is committed, one way :math:`x_L` after the commit (the leader's
  proxy; the harness delays a message by its *sender's* proxy).  In WARS terms
  (:func:`followerlab.staleness.t_visibility`, the mapping of
  :func:`~followerlab.validation.experiments.staleness_table`) the read at ``t`` after the put
  returned sees it iff :math:`t \\ge x_L`, for the learner as for the voter.
* **Contrast with CockroachDB.**  A non-voter there serves follower reads at a *closed
  timestamp*, :func:`followerlab.raft.follower_read_timestamp_lag_s` = 4.2 s behind by design
  (CRDB-FollowerReads); an etcd serializable read carries no such bound and is as stale as
  replication makes it (milliseconds here), without any guarantee.

>>> LEARNER_STALENESS_LAYOUTS[1].name, LEARNER_STALENESS_LAYOUTS[1].follower
('learner', 3)
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from .._validate import as_float_array, as_int_array
from .client import measure_latency, measure_staleness
from .cluster import EtcdCluster
from .experiments import staleness_table, visibility_t50
from .predict import Layout

__all__ = ["LEARNER_STALENESS_LAYOUTS", "learner_layouts", "run_learner_experiment", "learner_tables"]


def learner_layouts(voter_delays_ms=(10.0, 10.0, 10.0), learner_delay_ms: float = 40.0) -> tuple:
    """The analysis layouts: reads at voter follower 1, and at the learner (index ``n``).

    Each is a :class:`~followerlab.validation.predict.Layout` over all ``n + 1`` members (the
    learner last); only ``delays_ms[leader]`` enters the staleness prediction.
    """
    v = [float(x) for x in as_float_array("voter_delays_ms", list(voter_delays_ms), minimum=0.0).ravel()]
    lr = float(as_float_array("learner_delay_ms", learner_delay_ms, minimum=0.0))
    d = tuple(v) + (lr,)
    return (Layout("voter", d, leader=0, follower=1), Layout("learner", d, leader=0, follower=len(v)))


#: Default analysis layouts: 3 voters at 10 ms, a learner at 40 ms.
LEARNER_STALENESS_LAYOUTS = learner_layouts()


def run_learner_experiment(voter_delays_ms=(10.0, 10.0, 10.0), learner_delay_ms: float = 40.0, *,
                           writes: int = 150, reads: int = 100, far_learner_ms: float = 150.0,
                           max_time_s: float = 180.0, cluster_kwargs=None) -> dict:
    """Measure a learner against a voter follower on one cluster of ``n`` voters + 1 learner.

    Steps (one cluster, leader pinned to member 0): (1) staleness at voter 1 and (2) at the
    learner, each a :func:`~followerlab.validation.client.measure_staleness` run of ``writes``
    puts; (3) serializable read latency at voter 1 and at the learner (``reads`` each); (4) put
    latency at the leader with the learner at ``learner_delay_ms`` and at ``far_learner_ms``.

    Returns
    -------
    dict
        ``staleness``: raw rows ``layout, kind, k, t_s, value`` (as
        :func:`~followerlab.validation.experiments.run_staleness_experiment`), layouts
        ``voter``/``learner``; ``latency``: rows ``what, learner_delay_ms, latency_ms``.

    References
    ----------
    etcd-Learner, etcd-APIGuarantees in docs/references.rst.
    """
    writes = int(as_int_array("writes", writes, minimum=2, maximum=10**5))
    reads = int(as_int_array("reads", reads, minimum=1, maximum=10**5))
    far = float(as_float_array("far_learner_ms", far_learner_ms, minimum=0.0))
    lays = learner_layouts(voter_delays_ms, learner_delay_ms)
    n = len(voter_delays_ms)
    deadline = time.monotonic() + float(as_float_array("max_time_s", max_time_s, minimum=1.0))
    stale_rows, lat_rows = [], []
    with EtcdCluster(n, learners=1, **(cluster_kwargs or {})) as cluster:
        cluster.set_delays(lays[0].delays_ms)
        cluster.move_leader(0)
        for lay in lays:
            left = max(1.0, min(60.0, deadline - time.monotonic()))
            s = measure_staleness(cluster, 0, lay.follower, writes=writes, read_pause_ms=1.0, max_time_s=left,
                                  key=f"followerlab/stale-{lay.name}")
            t0 = min(s.write_done_s.min(initial=np.inf), s.read_sent_s.min(initial=np.inf))
            stale_rows += [(lay.name, "write", k, t - t0, k) for k, t in enumerate(s.write_done_s)]
            stale_rows += [(lay.name, "read", j, t - t0, int(v)) for j, (t, v) in
                           enumerate(zip(s.read_sent_s, s.read_value))]
        for lay in lays:
            r = measure_latency(cluster, "range_serializable", lay.follower, reads,
                                max_time_s=max(1.0, deadline - time.monotonic()))
            lat_rows += [(f"serializable_read_{lay.name}", lay.delays_ms[-1], v) for v in r.latencies_ms]
        for lr in (lays[0].delays_ms[-1], far):
            cluster.set_delays(list(lays[0].delays_ms[:-1]) + [lr])
            p = measure_latency(cluster, "put", 0, reads, max_time_s=max(1.0, deadline - time.monotonic()))
            lat_rows += [("put_leader", lr, v) for v in p.latencies_ms]
    return {"staleness": pd.DataFrame(stale_rows, columns=["layout", "kind", "k", "t_s", "value"]),
            "latency": pd.DataFrame(lat_rows, columns=["what", "learner_delay_ms", "latency_ms"])}


def learner_tables(staleness: pd.DataFrame, latency: pd.DataFrame | None = None, layouts=LEARNER_STALENESS_LAYOUTS,
                   *, edges_ms=None, trials: int = 20_000, seed: int = 7) -> dict:
    """Visibility t50 at the learner and the voter (measured vs ``t_visibility``), the CockroachDB
    follower-read staleness for contrast, and the latency summary.

    Returns
    -------
    dict
        ``curves`` (per bin, :func:`~followerlab.validation.experiments.staleness_table`),
        ``t50`` (one row per replica kind, with ``crdb_follower_read_staleness_ms`` = 4200),
        ``latency`` (p50/p90 per ``what`` and learner delay; None without ``latency``).

    References
    ----------
    Bailis2012 (t-visibility), CRDB-FollowerReads (closed-timestamp follower reads) and
    etcd-Learner in docs/references.rst.

    Examples
    --------
    >>> rng = np.random.default_rng(0); rows = []
    >>> for name in ("voter", "learner"):
    ...     done = np.cumsum(rng.uniform(0.02, 0.05, 100)); reads = np.sort(rng.uniform(0, done[-1], 2000))
    ...     val = np.searchsorted(done + 0.010, reads, side="right") - 1
    ...     rows += [(name, "write", k, t, k) for k, t in enumerate(done)]
    ...     rows += [(name, "read", j, t, v) for j, (t, v) in enumerate(zip(reads, val))]
    >>> raw = pd.DataFrame(rows, columns=["layout", "kind", "k", "t_s", "value"])
    >>> t = learner_tables(raw, edges_ms=np.arange(0.0, 40.0, 1.0), trials=2000)["t50"]
    >>> t[["layout", "predicted_t50_ms"]].values.tolist()
    [['voter', 10.0], ['learner', 10.0]]
    """
    from .. import raft

    curves = staleness_table(staleness, layouts, edges_ms=edges_ms, trials=trials, seed=seed)
    t50 = visibility_t50(curves, layouts, trials=trials, seed=seed)
    t50["crdb_follower_read_staleness_ms"] = 1000.0 * raft.follower_read_timestamp_lag_s("v23.1")
    lat = None
    if latency is not None and len(latency):
        lat = (latency.groupby(["what", "learner_delay_ms"]).latency_ms
               .agg(samples="size", p50_ms="median", p90_ms=lambda x: float(np.percentile(x, 90))).reset_index())
    return {"curves": curves, "t50": t50, "latency": lat}
