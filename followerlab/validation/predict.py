"""Predictions for an etcd layout from :mod:`followerlab.raft` (a thin adapter, no second model).

A *layout* is what the harness injects: a proxy delay ``x_i`` (ms) in front of each member's
peer port, the leader, the follower the client uses for forwarded requests, and the members
that are stopped.  Because etcd 3.4 peers receive on streams the receiver dials, a message
from ``i`` to ``j`` crosses only ``i``'s proxy, so ([etcd-rafthttp] in docs/references.rst)

.. math::

    \\mathrm{RTT}(i, j) = x_i + x_j \\quad (i \\ne j), \\qquad \\mathrm{RTT}(i, i) = 0 .

The network part of each operation, with :math:`C` = :func:`followerlab.raft.commit_latency`
for the leader ``L`` and the live voters (the quorum stays the majority of *all* members: a
stopped member still counts towards ``n`` but never acknowledges):

``put_leader``
    :math:`C` (fsync 0 here; the local costs are in the calibrated overhead).
``put_follower``
    :math:`\\mathrm{RTT}(f, L) + C`: the follower forwards the proposal (MsgProp, one way
    :math:`x_f`) and answers once it has applied the entry, which it learns from the leader's
    next append after the commit (one way :math:`x_L`).  This is
    :func:`followerlab.raft.write_latency` with the gateway at ``f``.
``read_linearizable_leader``
    ReadIndex: the leader confirms its leadership with a heartbeat round to a quorum, the same
    order statistic as a commit without the fsync, :math:`C|_{F=0}`.
``read_linearizable_follower``
    :math:`\\mathrm{RTT}(f, L) + C|_{F=0}` (MsgReadIndex to the leader and the answer back).
``read_serializable_follower``
    0: answered from the follower's own state.

A prediction adds a *calibrated overhead* to the network part: the latency of the same
operation measured on a zero-delay layout (gateway HTTP -> gRPC, proposal, fsync, apply, the
proxies' forwarding).  p50 and p90 of the prediction are the network part plus the p50 and p90
of that overhead, i.e. the injected delays shift the zero-delay distribution (assumption: the
local costs do not depend on the delays).  The calibration is done once and applied
unchanged to every layout.

>>> lay = Layout("asym3", (5.0, 10.0, 20.0), leader=0, follower=2)
>>> network_ms(lay)
{'put_leader': 15.0, 'put_follower': 40.0, 'read_linearizable_leader': 15.0, 'read_linearizable_follower': 40.0, 'read_serializable_follower': 0.0}
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import raft
from .._validate import as_float_array, as_int_array, check_choice

__all__ = ["Layout", "OPS", "HOPS", "rtt_from_delays", "network_ms", "Calibration", "calibrate", "predict",
           "MessageCosts", "fit_message_costs"]

#: The operations predicted and measured, in display order.
OPS = ("put_leader", "put_follower", "read_linearizable_leader", "read_linearizable_follower",
       "read_serializable_follower")

#: Number of peer messages on each operation's critical path (every one crosses a proxy):
#: MsgApp + MsgAppResp (or heartbeat + response) for the quorum round, plus MsgProp / MsgReadIndex
#: to the leader and the leader's answer when a follower forwards.
HOPS = {"put_leader": 2, "put_follower": 4, "read_linearizable_leader": 2, "read_linearizable_follower": 4,
        "read_serializable_follower": 0}


@dataclass(frozen=True)
class Layout:
    """An injected-latency layout of an etcd cluster.

    Attributes
    ----------
    name : str
    delays_ms : tuple of float
        Proxy delay ``x_i`` of each member (ms); ``len`` is the cluster size.
    leader : int
        The member pinned as leader (``move-leader``).
    follower : int
        The member that forwards in the ``*_follower`` operations.
    stopped : tuple of int
        Members stopped for this layout (never the leader or ``follower``).
    """

    name: str
    delays_ms: tuple
    leader: int = 0
    follower: int = 1
    stopped: tuple = field(default=())

    def __post_init__(self):
        d = as_float_array("delays_ms", list(self.delays_ms), minimum=0.0)
        if d.ndim != 1 or not 1 <= d.size <= 9:
            raise ValueError(f"delays_ms must list 1..9 member delays; got {self.delays_ms!r}")
        n = d.size
        object.__setattr__(self, "delays_ms", tuple(float(v) for v in d))
        object.__setattr__(self, "leader", int(as_int_array("leader", self.leader, minimum=0, maximum=n - 1)))
        object.__setattr__(self, "follower", int(as_int_array("follower", self.follower, minimum=0, maximum=n - 1)))
        stopped = tuple(int(v) for v in as_int_array("stopped", list(self.stopped) or [0], minimum=0,
                                                     maximum=n - 1)) if self.stopped else ()
        object.__setattr__(self, "stopped", stopped)
        if n > 1 and self.follower == self.leader:
            raise ValueError(f"follower must differ from the leader ({self.leader}); got {self.follower}")
        if self.leader in stopped or self.follower in stopped:
            raise ValueError(f"stopped {stopped} must not include the leader {self.leader} or follower {self.follower}")
        if n - len(stopped) < n // 2 + 1:
            raise ValueError(f"stopped {stopped} leaves no quorum of the {n} members")

    @property
    def n(self) -> int:
        return len(self.delays_ms)


def rtt_from_delays(delays_ms) -> np.ndarray:
    """RTT matrix (ms) ``x_i + x_j`` off the diagonal, 0 on it, for proxy delays ``x``.

    >>> rtt_from_delays([1.0, 2.0, 4.0])
    array([[0., 3., 5.],
           [3., 0., 6.],
           [5., 6., 0.]])
    """
    x = as_float_array("delays_ms", delays_ms, minimum=0.0)
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"delays_ms must be a non-empty 1-d list of member delays; got {delays_ms!r}")
    rtt = x[:, None] + x[None, :]
    np.fill_diagonal(rtt, 0.0)
    return rtt


def network_ms(layout: Layout, per_hop_ms: float = 0.0) -> dict:
    """The network part (ms) of every operation in :data:`OPS`, from :mod:`followerlab.raft`.

    ``per_hop_ms`` (default 0) is the processing cost of one delivered peer message
    (:func:`followerlab.raft.commit_latency`'s ``per_hop_ms``); the forwarded operations pay it
    twice more (request to the leader, answer back), so the result grows by ``HOPS[op] * h``.

    >>> network_ms(Layout("z", (0.0, 0.0, 0.0)), per_hop_ms=0.5)["put_follower"]
    2.0
    """
    h = float(as_float_array("per_hop_ms", per_hop_ms, minimum=0.0))
    rtt = rtt_from_delays(layout.delays_ms)
    live = [i for i in range(layout.n) if i not in layout.stopped]
    q = raft.quorum_size(layout.n)
    q = int(np.asarray(q))
    commit = float(raft.commit_latency(rtt, layout.leader, live, fsync_ms=0.0, quorum=q, per_hop_ms=h))
    hop = float(rtt[layout.follower, layout.leader]) + 2.0 * h
    return {
        "put_leader": commit,
        "put_follower": hop + commit,
        "read_linearizable_leader": commit,
        "read_linearizable_follower": hop + commit,
        "read_serializable_follower": 0.0,
    }


@dataclass(frozen=True)
class Calibration:
    """Local overhead per operation (ms) at p50 and p90, from one zero-delay layout."""

    p50_ms: dict
    p90_ms: dict
    source: str = "zero-delay run"

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"op": list(self.p50_ms), "overhead_p50_ms": list(self.p50_ms.values()),
                             "overhead_p90_ms": [self.p90_ms[k] for k in self.p50_ms]})


def calibrate(samples: dict, layout: Layout | None = None, source: str = "zero-delay run") -> Calibration:
    """The overhead of each operation: measured quantiles minus the (zero) network part.

    Parameters
    ----------
    samples : dict {op: array of latencies (ms)}
        Measured on the calibration layout.
    layout : Layout, optional
        The calibration layout (default: zero delays, 3 members).  Its network part is
        subtracted (0 for zero delays).

    Examples
    --------
    >>> c = calibrate({op: [1.0, 2.0, 3.0] for op in OPS})
    >>> c.p50_ms["put_leader"], c.p90_ms["put_leader"]
    (2.0, 2.8)
    """
    layout = layout or Layout("zero", (0.0, 0.0, 0.0))
    net = network_ms(layout)
    p50, p90 = {}, {}
    for op in OPS:
        if op not in samples:
            raise ValueError(f"samples must hold every operation {OPS}; missing {op!r}")
        x = as_float_array(f"samples[{op!r}]", samples[op], minimum=0.0)
        if x.size == 0:
            raise ValueError(f"samples[{op!r}] is empty")
        p50[op] = float(np.percentile(x, 50)) - net[op]
        p90[op] = float(np.percentile(x, 90)) - net[op]
    return Calibration(p50, p90, source)


def predict(layout: Layout, calibration: Calibration | None, op: str | None = None, *,
            costs: "MessageCosts | None" = None) -> pd.DataFrame:
    """Predicted p50 and p90 (ms) of each operation on ``layout``: network part + overhead.

    Without ``costs`` the overhead is the calibration's (per operation, measured at zero delay).
    With ``costs`` (:func:`fit_message_costs`) the p50 is

    .. math:: \\text{net}_0 + c + (h + d\\,[\\text{net}_0 > 0])\\,\\text{hops} + w\\,[\\text{put}]
              + f\\,(n - 1)\\,[\\text{hops} > 0]

    and the p90 adds the calibration's p90 - p50 spread of the operation (NaN without a
    calibration).

    >>> cal = Calibration({op: 3.0 for op in OPS}, {op: 5.0 for op in OPS})
    >>> predict(Layout("sym3", (10.0, 10.0, 10.0)), cal, "put_leader")
      layout          op  network_ms  predicted_p50_ms  predicted_p90_ms
    0   sym3  put_leader        20.0              23.0              25.0
    >>> k = MessageCosts(client_overhead_ms=1.0, per_hop_ms=0.25, write_ms=0.5, per_delayed_hop_ms=0.5)
    >>> float(predict(Layout("sym3", (10.0, 10.0, 10.0)), cal, "put_leader", costs=k).predicted_p50_ms[0])
    23.0
    """
    ops = OPS if op is None else (check_choice("op", op, OPS),)
    if calibration is None and costs is None:
        raise ValueError("predict needs a calibration or costs; got neither")
    net = network_ms(layout)
    rows = []
    for o in ops:
        if costs is None:
            p50, p90 = net[o] + calibration.p50_ms[o], net[o] + calibration.p90_ms[o]
        else:
            p50 = float(costs.overhead_ms(o, delayed=net[o] > 0, n=layout.n)) + net[o]
            spread = np.nan if calibration is None else calibration.p90_ms[o] - calibration.p50_ms[o]
            p90 = p50 + spread
        rows.append({"layout": layout.name, "op": o, "network_ms": net[o], "predicted_p50_ms": p50,
                     "predicted_p90_ms": p90})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class MessageCosts:
    """Local costs of an etcd request, per message and per request (ms), from a linear fit.

    The measured median of operation ``o`` on a layout is modelled as

    .. math::

        \\tilde T = \\text{net}_0 + c + h\\,H_o + w\\,[o \\text{ is a put}] + d\\,H_o\\,[\\text{net}_0 > 0]
                   + f\\,(n - 1)\\,[H_o > 0]

    with ``net_0`` the model's network part (:func:`network_ms` at ``per_hop_ms = 0``) and
    ``H_o`` = :data:`HOPS` the peer messages on the critical path.

    Attributes
    ----------
    client_overhead_ms : float
        ``c``: the request's fixed cost (client, HTTP gateway, gRPC, the answer), paid once.
    per_hop_ms : float
        ``h``: processing cost of one delivered peer message (marshal, proxy forwarding, the
        receiver's raft step), also at zero delay.
    write_ms : float
        ``w``: what a put costs beyond a read with the same messages (WAL fsync, apply).
    per_delayed_hop_ms : float
        ``d``: extra cost of a message that waited in a delaying proxy (a sleeping process
        wakes late on a busy machine); 0 when the fit saw no delayed layout.
    per_follower_ms : float
        ``f``: the leader's cost per follower of one quorum round (it sends and receives
        ``n - 1`` messages, not only the ``2`` on the critical path); 0 when the fit saw one
        cluster size only (then ``f`` cannot be told from ``c``).
    rows : int
        Rows of the fit; ``residual_rms_ms`` their root-mean-square residual.

    References
    ----------
    Ongaro2014 (Raft's messages), etcd-rafthttp (how etcd peers carry them), in docs/references.rst.
    """

    client_overhead_ms: float
    per_hop_ms: float
    write_ms: float
    per_delayed_hop_ms: float = 0.0
    per_follower_ms: float = 0.0
    rows: int = 0
    residual_rms_ms: float = float("nan")

    def overhead_ms(self, op: str, delayed: bool = False, n: int = 3) -> float:
        """Everything but the network part for operation ``op`` (ms).

        >>> MessageCosts(1.0, 0.5, 2.0).overhead_ms("put_follower")
        5.0
        """
        op = check_choice("op", op, OPS)
        hop = self.per_hop_ms + (self.per_delayed_hop_ms if delayed else 0.0)
        fan = self.per_follower_ms * (n - 1) if HOPS[op] else 0.0
        return self.client_overhead_ms + hop * HOPS[op] + (self.write_ms if op.startswith("put") else 0.0) + fan

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"client_overhead_ms": self.client_overhead_ms, "per_hop_ms": self.per_hop_ms,
                              "write_ms": self.write_ms, "per_delayed_hop_ms": self.per_delayed_hop_ms,
                              "per_follower_ms": self.per_follower_ms,
                              "rows": self.rows, "residual_rms_ms": self.residual_rms_ms}])


def fit_message_costs(table: pd.DataFrame, *, delayed: bool | None = None,
                      per_follower: bool | None = None) -> MessageCosts:
    """Least-squares fit of :class:`MessageCosts` to measured medians.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per (layout, operation) with columns ``op``, ``network_ms`` (the zero-cost
        network part, as :func:`network_ms` gives it) and ``measured_p50_ms``; e.g. the output
        of :func:`followerlab.validation.experiments.compare` or
        :func:`followerlab.validation.experiments.summarize`.  Zero-delay rows alone determine
        ``c``, ``h`` and ``w`` (five operations with 0, 2 and 4 hops, puts and reads).
    delayed : bool, optional
        Whether to fit ``d`` (default: when the table has delayed rows with hops).
    per_follower : bool, optional
        Whether to fit ``f`` (default: when column ``n`` holds two or more cluster sizes).

    Returns
    -------
    MessageCosts

    Notes
    -----
    Ordinary least squares on the design ``[1, H_o, put, H_o [net_0 > 0], (n - 1) [H_o > 0]]``
    (the last two columns only when fitted) for the residual
    ``measured_p50 - net_0``; a fitted cost may come out negative (it is reported as fitted,
    not clamped).  Refuses (ValueError) a table whose rows cannot separate the parameters.
    Accuracy: exact on data that follow the model (tests/test_validation_costs.py recovers five
    known costs from a hand-simulated message timeline to 0.05 ms); on etcd it is a description
    with the residual it reports, not a law.

    References
    ----------
    Ongaro2014, etcd-rafthttp in docs/references.rst.

    Examples
    --------
    >>> rows = [{"op": o, "network_ms": 0.0, "measured_p50_ms": 1.0 + 0.5 * HOPS[o] + 2.0 * o.startswith("put")}
    ...         for o in OPS]
    >>> k = fit_message_costs(pd.DataFrame(rows))
    >>> round(k.client_overhead_ms, 6), round(k.per_hop_ms, 6), round(k.write_ms, 6), k.per_delayed_hop_ms
    (1.0, 0.5, 2.0, 0.0)
    """
    need = {"op", "network_ms", "measured_p50_ms"}
    if not isinstance(table, pd.DataFrame) or not need <= set(table.columns):
        raise ValueError(f"table must be a DataFrame with columns {sorted(need)}; got "
                         f"{list(getattr(table, 'columns', []))!r}")
    t = table[table.op.isin(OPS)]
    if t.empty:
        raise ValueError(f"table has no rows of the operations {OPS}")
    hops = t.op.map(HOPS).to_numpy(float)
    net0 = as_float_array("network_ms", t.network_ms.to_numpy(), minimum=0.0)
    y = as_float_array("measured_p50_ms", t.measured_p50_ms.to_numpy()) - net0
    put = t.op.str.startswith("put").to_numpy(float)
    dh = hops * (net0 > 0)
    if delayed is None:
        delayed = bool(np.any(dh > 0))
    n = t["n"].to_numpy(float) if "n" in t.columns else np.full(hops.shape, 3.0)
    if per_follower is None:
        per_follower = bool(np.unique(n).size > 1)
    fan = (n - 1) * (hops > 0)
    cols = [np.ones_like(hops), hops, put] + ([dh] if delayed else []) + ([fan] if per_follower else [])
    X = np.column_stack(cols)
    if np.linalg.matrix_rank(X) < X.shape[1]:
        raise ValueError("table cannot separate the costs: it needs rows with 0, 2 and 4 hops, puts and reads"
                         + (", and delayed as well as zero-delay rows" if delayed else "")
                         + (", and two cluster sizes" if per_follower else "")
                         + f"; got ops {sorted(set(t.op))!r}")
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    res = y - X @ beta
    d = float(beta[3]) if delayed else 0.0
    f = float(beta[-1]) if per_follower else 0.0
    return MessageCosts(float(beta[0]), float(beta[1]), float(beta[2]), d, f, int(y.size),
                        float(np.sqrt(np.mean(res ** 2))))
