"""Read latency (ms) and staleness (s) of a single-row read by path, for a client region.

:func:`read_latency` builds the :class:`~followerlab.raft.ReadSite` once and asks the read
path object (module ``paths``) for its latency law and staleness; :class:`ReadLatency` holds
the result.  Sources: CRDB-FollowerReadsTopology, CRDB-FollowerReads, CRDB-GlobalTables,
etcd-APIGuarantees (docs/references.rst).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._results import Result
from .._validate import as_float_array, check_probability, check_shapes
from .paths import read_path, read_site
from .placements import Placement, _check_placement

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

    References
    ----------
    CRDB-FollowerReadsTopology, CRDB-FollowerReads (docs/references.rst).
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


def read_latency(rtt_ms, placement_: Placement, client_region, path="leaseholder", *,
                 intra_region_rtt_ms=None, max_staleness_s=10.0, version: str = "v23.1",
                 target_duration_s=3.0, side_transport_interval_s=0.2, per_hop_ms=0.0,
                 client_overhead_ms=0.0) -> ReadLatency:
    """Latency (ms) and staleness (s) of a single-row read by path, for a client region.

    The path is a registered :class:`ReadPath` (or its name): ``"leaseholder"``
    (:class:`LeaseholderRead`), ``"follower"`` (:class:`FollowerRead`), ``"bounded"``
    (:class:`BoundedStalenessRead`), ``"global"`` (:class:`GlobalRead`) -- the
    :data:`READ_PATHS` -- and ``"readindex"`` (:class:`ReadIndexRead`, etcd); each class
    gives its formulas.  :func:`read_site` computes what they share once; the path's
    ``latency`` gives the two-point law (``local_ms`` with probability ``p_local``, else
    ``remote_ms``) and ``staleness`` its mean and maximum:

    .. math:: \\bar T = p\\,T_{\\text{local}} + (1 - p)\\,T_{\\text{remote}}

    with the p50 / p99 the quantiles of that mixture.  :math:`r_0`, the client -> gateway round
    trip in the client's region, and an RTT between two positions in one region are
    ``intra_region_rtt_ms`` (default the :class:`Topology`'s, else 0).  Service time at the
    replica is not modelled, except two optional constants (default 0): ``client_overhead_ms``
    added to every path's latency and ``per_hop_ms`` per message of the ReadIndex heartbeat
    round (two per ack).

    Parameters
    ----------
    rtt_ms : array_like, DataFrame or Topology
        RTT matrix in ms.
    placement_ : Placement
    client_region : label
    path : str or ReadPath
        A registered path; an unknown name raises ValueError (with the closest name).
    intra_region_rtt_ms : float or array, optional
    max_staleness_s : float or array
        Bound ``b`` of bounded-staleness reads (s, >= 0).
    version : str
        CockroachDB release (:func:`follower_read_timestamp_lag_s`).
    target_duration_s, side_transport_interval_s : float or array
        Closed-timestamp settings (:func:`closed_timestamp_lag`).
    per_hop_ms : float or array
        Processing cost of one delivered message of the ReadIndex heartbeat round (>= 0).
    client_overhead_ms : float or array
        Constant added to every path's latency (>= 0).

    Returns
    -------
    ReadLatency

    References
    ----------
    CRDB-FollowerReadsTopology, CRDB-FollowerReads, CRDB-GlobalTables, etcd-APIGuarantees
    (docs/references.rst).

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
    obj = read_path(path)
    placement_ = _check_placement(placement_)
    check_shapes(max_staleness_s=max_staleness_s, target_duration_s=target_duration_s,
                 side_transport_interval_s=side_transport_interval_s)
    site = read_site(rtt_ms, placement_, client_region, intra_region_rtt_ms=intra_region_rtt_ms,
                     max_staleness_s=max_staleness_s, version=version, target_duration_s=target_duration_s,
                     side_transport_interval_s=side_transport_interval_s, per_hop_ms=per_hop_ms)
    local, remote, p = obj.latency(site)
    st_mean, st_max = obj.staleness(site)
    ov = as_float_array("client_overhead_ms", client_overhead_ms, minimum=0.0)
    local, remote = site.zero + local + ov, site.zero + remote + ov
    mean = p * local + (1 - p) * remote
    p50 = _two_point_ppf(local, remote, p, 0.5)
    p99 = _two_point_ppf(local, remote, p, 0.99)
    return ReadLatency(obj.name, site.topology.regions[site.client], local, remote, p, mean, p50, p99,
                       st_mean, st_max)
