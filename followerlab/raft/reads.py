"""Read latency (ms) and staleness (s) by read path: leaseholder, follower, bounded, global.

Sources: CRDB-FollowerReadsTopology, CRDB-FollowerReads, CRDB-GlobalTables, etcd-APIGuarantees
(docs/references.rst).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._results import Result
from .._validate import as_float_array, check_choice, check_probability
from .staleness import closed_timestamp_lag, follower_read_timestamp_lag_s
from .topology import Placement, _as_matrix, _index_of, _link_ms
from .write import commit_latency

#: CockroachDB read paths understood by :func:`read_latency` (which also takes ``"readindex"``,
#: etcd's linearizable read; kept out of this tuple so tables over these paths stay as they are).
READ_PATHS = ("leaseholder", "follower", "bounded", "global")


# --------------------------------------------------------------------------------------------
# Read latency by path
# --------------------------------------------------------------------------------------------


def _two_point_ppf(local_ms, remote_ms, p_local, q):
    """Quantile of the mixture ``local_ms`` w.p. ``p_local``, else ``remote_ms``."""
    q = check_probability("q", q)
    lo = np.minimum(local_ms, remote_ms)
    hi = np.maximum(local_ms, remote_ms)
    p_lo = np.where(local_ms <= remote_ms, p_local, 1 - p_local)
    return np.where(q <= p_lo, lo, hi)


@dataclass(frozen=True)
class ReadLatency(Result):
    """A read path's latency (ms) and staleness (s) for one client region.

    ``p_local`` is the probability the read is served by the nearest replica (1 for follower
    and global reads when the closed timestamp is fresh enough, 0 for leaseholder reads
    unless the nearest replica *is* the leaseholder).  Latency is a two-point mixture of
    ``local_ms`` (weight ``p_local``) and ``remote_ms``.
    """

    path: str
    client_region: object
    local_ms: np.ndarray
    remote_ms: np.ndarray
    p_local: np.ndarray
    mean_ms: np.ndarray
    p50_ms: np.ndarray
    p99_ms: np.ndarray
    staleness_mean_s: np.ndarray
    staleness_max_s: np.ndarray

    def cdf(self, x_ms):
        """P(latency <= x_ms) of the two-point mixture: ``p_local [local <= x] + (1 - p_local) [remote <= x]``."""
        x = as_float_array("x_ms", x_ms, allow_inf=True)
        return self.p_local * (self.local_ms <= x) + (1 - self.p_local) * (self.remote_ms <= x)

    def sf(self, x_ms):
        """P(latency > x_ms) = 1 - cdf(x_ms)."""
        return 1.0 - self.cdf(x_ms)

    def ppf(self, q):
        """Quantile of the two-point mixture: ``local_ms`` if ``q <= p_local`` else ``remote_ms``."""
        return _two_point_ppf(self.local_ms, self.remote_ms, self.p_local, q)

    def mean(self):
        """E[latency] (ms): the ``mean_ms`` field."""
        return self.mean_ms

    def quantile_ms(self, q):
        """Alias of :meth:`ppf` (same values)."""
        return self.ppf(q)

    def to_frame(self) -> pd.DataFrame:
        frame = super().to_frame()
        frame.insert(0, "client_region", self.client_region)
        frame.insert(0, "path", self.path)
        return frame


def read_latency(rtt_ms, placement_: Placement, client_region, path: str = "leaseholder", *,
                 intra_region_rtt_ms=0.0, max_staleness_s=10.0, version: str = "v23.1",
                 target_duration_s=3.0, side_transport_interval_s=0.2, per_hop_ms=0.0,
                 client_overhead_ms=0.0) -> ReadLatency:
    """Latency (ms) and staleness (s) of a single-row read by path, for a client region.

    Paths (CRDB-FollowerReadsTopology, CRDB-FollowerReads, CRDB-GlobalTables, etcd-APIGuarantees):

    ``"leaseholder"``
        Strong read at the leaseholder: :math:`T = r_0 + \\mathrm{RTT}_{c,L}`, staleness 0.
    ``"follower"``
        Exact staleness, ``AS OF SYSTEM TIME follower_read_timestamp()``, at the nearest
        replica ``N`` (voter or non-voter): :math:`T = r_0 + \\mathrm{RTT}_{c,N}`, staleness
        :func:`follower_read_timestamp_lag_s` (4.2 s).  If N's closed timestamp is older than
        that (probability ``1 - P(A <= lag)``, A from :func:`closed_timestamp_lag`) the read goes
        to the leaseholder.
    ``"bounded"``
        ``with_max_staleness(b)``: the read runs at ``max(now - b, resolved timestamp of N)``
        (CRDB-FollowerReads), so its staleness is :math:`S = \\min(A, b)`.  N serves it if its closed
        timestamp is within the bound, :math:`p = P(A \\le b)`; otherwise N refuses and the
        gateway goes to the leaseholder, which serves ``now - b``:
        :math:`T = r_0 + \\mathrm{RTT}_{c,N} + \\mathrm{RTT}_{c,L}` (*assumed*: the failed
        attempt costs one round trip to N).  :math:`E[S] = p\\,E[A \\mid A \\le b] + (1-p)\\,b`.
        When N is the leaseholder it always serves locally (its own closed timestamp has
        :math:`d = 0`).  Assumption: the resolved timestamp equals the closed timestamp (no
        unresolved intents).
    ``"global"``
        GLOBAL table: the closed timestamp leads present time, so N serves up-to-date reads:
        :math:`T = r_0 + \\mathrm{RTT}_{c,N}`, staleness 0 (writes pay the lead instead; see
        :func:`write_latency`).
    ``"readindex"``
        etcd's linearizable read (Raft ReadIndex, etcd-APIGuarantees): the request goes to the leader
        (= leaseholder), which confirms its leadership with one heartbeat round to a quorum
        before serving: :math:`T = r_0 + \\mathrm{RTT}_{c,L} + (\\mathrm{RTT}_{L,f})_{(q-1)}`,
        i.e. :func:`commit_latency` with ``fsync_ms=0`` (heartbeats are not fsynced), staleness
        0.  *Assumed*: the heartbeat round starts when the read arrives (no batching with other
        reads or the periodic heartbeat) and the leader has already applied the read index.
        Not part of :data:`READ_PATHS` (CockroachDB serves strong reads from its lease instead).

    Here :math:`r_0` is the client -> gateway round trip in the client's region
    (``intra_region_rtt_ms``), and an RTT between two positions in the same region is also
    ``intra_region_rtt_ms``.  The nearest replica's closed-timestamp age includes the one-way
    delay ``RTT_{L,N}/2`` from the leaseholder; at the leaseholder itself it is 0 (it can
    always serve a present-time read).  Service time at the replica is not modelled, except two
    optional constants (default 0): ``client_overhead_ms`` added to every path's latency and
    ``per_hop_ms`` per message of the ReadIndex heartbeat round (two per ack).

    Examples
    --------
    >>> from followerlab.raft import load_rtt, spread_placement
    >>> m = load_rtt("crdb-demo-rtt-2019.csv")
    >>> p = spread_placement(m, "us-east1")
    >>> r = read_latency(m, p, "us-west1", "follower")
    >>> float(r.mean_ms), float(r.staleness_mean_s)
    (0.0, 4.2)
    >>> float(read_latency(m, p, "us-west1", "leaseholder").mean_ms)
    66.0
    >>> b = read_latency(m, p, "us-west1", "bounded", max_staleness_s=3.1)
    >>> round(float(b.p_local), 3), float(b.p99_ms)   # (3.1 - 3 - 0.033) / 0.2
    (0.335, 66.0)
    >>> float(read_latency(m, p, "us-west1", "readindex").mean_ms)   # 66 to the leader + 64 heartbeat
    130.0
    """
    path = check_choice("path", path, READ_PATHS + ("readindex",))
    m = _as_matrix(rtt_ms)
    arr = m.to_numpy()
    intra = as_float_array("intra_region_rtt_ms", intra_region_rtt_ms, minimum=0.0)
    bound = as_float_array("max_staleness_s", max_staleness_s, minimum=0.0)
    c = _index_of(m, client_region, "client_region")
    lh = _index_of(m, placement_.leaseholder, "leaseholder")
    replicas = np.asarray([_index_of(m, r, "placement") for r in placement_.replica_regions])
    # nearest replica from the client, ties broken towards the leaseholder
    dist = _link_ms(arr, c, replicas, 0.0) + np.where(replicas == lh, -1e-9, 0.0)
    near = int(replicas[np.argmin(dist)])
    to_near = intra + _link_ms(arr, c, near, intra)
    to_lh = intra + _link_ms(arr, c, lh, intra)
    owd_ms = 0.0 if near == lh else _link_ms(arr, lh, near, intra) / 2.0
    age = closed_timestamp_lag(owd_ms, target_duration_s, side_transport_interval_s)
    zero = np.zeros(np.broadcast_shapes(intra.shape, bound.shape, age.mean_s.shape))
    if path == "leaseholder":
        local, remote, p = to_lh, to_lh, zero + 1.0
        st_mean, st_max = zero, zero
    elif path == "readindex":
        heartbeat = commit_latency(m, placement_.leaseholder, placement_.voters, 0.0, intra_region_rtt_ms=intra,
                                   per_hop_ms=per_hop_ms)
        local = remote = to_lh + heartbeat
        p = zero + 1.0
        st_mean, st_max = zero, zero
    elif path == "global":
        local, remote, p = to_near, to_near, zero + 1.0
        st_mean, st_max = zero, zero
    elif path == "follower":
        lag = follower_read_timestamp_lag_s(version)
        p = zero + (1.0 if near == lh else age.cdf(lag))
        local, remote = to_near, to_lh
        st_mean = zero + lag
        st_max = zero + lag
    else:  # bounded: staleness min(A, b); local when A <= b or N is the leaseholder
        p_fresh = age.cdf(bound)
        p = zero + (1.0 if near == lh else p_fresh)
        st_mean = zero + p_fresh * np.nan_to_num(age.mean_given_at_most(bound)) + (1 - p_fresh) * bound
        st_max = zero + np.minimum(bound, age.max_s)
        local, remote = to_near, to_near + to_lh - intra
    ov = as_float_array("client_overhead_ms", client_overhead_ms, minimum=0.0)
    local, remote = zero + local + ov, zero + remote + ov
    mean = p * local + (1 - p) * remote
    p50 = _two_point_ppf(local, remote, p, 0.5)
    p99 = _two_point_ppf(local, remote, p, 0.99)
    return ReadLatency(path, m.index[c], local, remote, p, mean, p50, p99, st_mean, st_max)
