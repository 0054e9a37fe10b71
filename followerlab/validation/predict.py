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

__all__ = ["Layout", "OPS", "rtt_from_delays", "network_ms", "Calibration", "calibrate", "predict"]

#: The operations predicted and measured, in display order.
OPS = ("put_leader", "put_follower", "read_linearizable_leader", "read_linearizable_follower",
       "read_serializable_follower")


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


def network_ms(layout: Layout) -> dict:
    """The network part (ms) of every operation in :data:`OPS`, from :mod:`followerlab.raft`."""
    rtt = rtt_from_delays(layout.delays_ms)
    live = [i for i in range(layout.n) if i not in layout.stopped]
    q = raft.quorum_size(layout.n)
    q = int(np.asarray(q))
    commit = float(raft.commit_latency(rtt, layout.leader, live, fsync_ms=0.0, quorum=q))
    hop = float(rtt[layout.follower, layout.leader])
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


def predict(layout: Layout, calibration: Calibration, op: str | None = None) -> pd.DataFrame:
    """Predicted p50 and p90 (ms) of each operation on ``layout``: network part + overhead.

    >>> cal = Calibration({op: 3.0 for op in OPS}, {op: 5.0 for op in OPS})
    >>> predict(Layout("sym3", (10.0, 10.0, 10.0)), cal, "put_leader")
      layout          op  network_ms  predicted_p50_ms  predicted_p90_ms
    0   sym3  put_leader        20.0              23.0              25.0
    """
    ops = OPS if op is None else (check_choice("op", op, OPS),)
    net = network_ms(layout)
    rows = [{"layout": layout.name, "op": o, "network_ms": net[o],
             "predicted_p50_ms": net[o] + calibration.p50_ms[o],
             "predicted_p90_ms": net[o] + calibration.p90_ms[o]} for o in ops]
    return pd.DataFrame(rows)
