"""Read paths as objects: leaseholder, follower, bounded, global (and etcd's readindex).

A read path is an object (:class:`ReadPath`) with ``latency(site)`` and ``staleness(site)``:
what a read costs and how stale it is, given the :class:`ReadSite` -- where the client, its
nearest replica and the leaseholder are, and how old the nearest replica's closed timestamp is.
Paths register themselves (:func:`register_read_path`); :data:`READ_PATHS` is derived from the
registry and :func:`followerlab.raft.read_latency` dispatches through it.  Adding a read path
is one class here (docs/architecture.rst, "A new Raft read path").

Sources: CRDB-FollowerReadsTopology, CRDB-FollowerReads, CRDB-GlobalTables, etcd-APIGuarantees
(docs/references.rst).

>>> READ_PATHS
('leaseholder', 'follower', 'bounded', 'global')
>>> read_path("follower").global_table, read_path("global").global_table
(False, True)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, NamedTuple

import numpy as np

from .._validate import as_float_array, check_choice
from .placements import Placement
from .staleness import ClosedTimestampLag, closed_timestamp_lag, follower_read_timestamp_lag_s
from .topology import Topology, _as_topology, _index_of, _link_ms
from .write import commit_latency

# --------------------------------------------------------------------------------------------
# Where a read happens, and what a read path returns
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReadSite:
    """What every read path needs about one client's read, computed once by :func:`read_site`.

    Positions are indices of the topology's regions.  ``nearest`` is the replica (voter or
    non-voter) nearest to the client, ties broken towards the leaseholder.  Latencies are in ms
    and include the client -> gateway round trip :math:`r_0` (``intra_ms``); an RTT between two
    positions in one region is also ``intra_ms``.  ``closed_age`` is the age A of the nearest
    replica's closed timestamp (:func:`closed_timestamp_lag`, with the one-way delay
    :math:`\\mathrm{RTT}_{L,N}/2` from the leaseholder; 0 delay at the leaseholder itself).
    ``per_hop_ms`` is the processing cost of one delivered message (for paths that exchange
    messages inside the group, as ReadIndex's heartbeat round).  ``zero`` is an array of zeros
    of the result's shape (add it to broadcast a scalar).

    References
    ----------
    CRDB-FollowerReadsTopology, CRDB-FollowerReads (docs/references.rst).
    """

    topology: Topology
    placement: Placement
    client: int
    leaseholder: int
    nearest: int
    intra_ms: np.ndarray
    to_nearest_ms: np.ndarray
    to_leaseholder_ms: np.ndarray
    closed_age: ClosedTimestampLag
    max_staleness_s: np.ndarray
    version: str
    per_hop_ms: np.ndarray
    zero: np.ndarray

    @property
    def nearest_is_leaseholder(self) -> bool:
        """Whether the nearest replica holds the lease (it then serves every read locally)."""
        return self.nearest == self.leaseholder


def read_site(rtt_ms, placement_: Placement, client_region, *, intra_region_rtt_ms=None, max_staleness_s=10.0,
              version: str = "v23.1", target_duration_s=3.0, side_transport_interval_s=0.2,
              per_hop_ms=0.0) -> ReadSite:
    """The :class:`ReadSite` of a read from ``client_region`` (arguments as in :func:`read_latency`).

    References
    ----------
    CRDB-FollowerReadsTopology, CRDB-FollowerReads (docs/references.rst).

    Examples
    --------
    >>> from followerlab.raft import load_rtt, spread_placement
    >>> m = load_rtt("crdb-demo-rtt-2019.csv")
    >>> s = read_site(m, spread_placement(m, "us-east1"), "us-west1")
    >>> float(s.to_nearest_ms), float(s.to_leaseholder_ms), float(s.closed_age.mean_s)
    (0.0, 66.0, 3.133)
    """
    topo = _as_topology(rtt_ms)
    m = topo.rtt_ms
    arr = m.to_numpy()
    intra = as_float_array("intra_region_rtt_ms", topo.intra(intra_region_rtt_ms), minimum=0.0)
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
    hop = as_float_array("per_hop_ms", per_hop_ms, minimum=0.0)
    zero = np.zeros(np.broadcast_shapes(intra.shape, bound.shape, age.mean_s.shape))
    return ReadSite(topo, placement_, c, lh, near, intra, to_near, to_lh, age, bound, version, hop, zero)


class PathLatency(NamedTuple):
    """A read path's latency law (ms): ``local_ms`` with probability ``p_local``, else ``remote_ms``.

    References
    ----------
    CRDB-FollowerReadsTopology (docs/references.rst).
    """

    local_ms: np.ndarray
    remote_ms: np.ndarray
    p_local: np.ndarray

    @classmethod
    def always(cls, site: ReadSite, latency_ms) -> PathLatency:
        """A read that always takes ``latency_ms`` (``p_local`` = 1, shaped like ``site.zero``)."""
        return cls(latency_ms, latency_ms, site.zero + 1.0)


class PathStaleness(NamedTuple):
    """A read path's staleness (s): its mean and its maximum.

    References
    ----------
    CRDB-FollowerReads (docs/references.rst).
    """

    mean_s: np.ndarray
    max_s: np.ndarray


# --------------------------------------------------------------------------------------------
# Read paths
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReadPath:
    """A way to serve a read: subclasses give ``latency(site)`` and ``staleness(site)``.

    Class attributes: ``name`` (the ``path`` string of :func:`read_latency`), ``listed`` (part
    of :data:`READ_PATHS`, the CockroachDB paths tables and the explorer cover), ``global_table``
    (the table is GLOBAL, so writes commit-wait: :func:`write_latency` with
    ``global_table=True``), ``option`` (the row name in :func:`rank_topologies`, ``""`` to
    leave it out) and ``title_template`` (a short title, formatted with ``version`` and
    ``max_staleness_s``).

    References
    ----------
    CRDB-FollowerReadsTopology, CRDB-FollowerReads, CRDB-GlobalTables (docs/references.rst).
    """

    name: ClassVar[str] = ""
    listed: ClassVar[bool] = True
    global_table: ClassVar[bool] = False
    option: ClassVar[str] = ""
    title_template: ClassVar[str] = ""

    def latency(self, site: ReadSite) -> PathLatency:
        raise NotImplementedError(f"read path {type(self).__name__} must define latency(site)")

    def staleness(self, site: ReadSite) -> PathStaleness:
        raise NotImplementedError(f"read path {type(self).__name__} must define staleness(site)")

    def eligible(self, staleness_tolerance_s: float, version: str = "v23.1") -> bool:
        """Whether a workload tolerating ``staleness_tolerance_s`` may use this path (default yes)."""
        return True

    def title(self, *, version: str = "v23.1", max_staleness_s: float = 10.0) -> str:
        """A short title for tables and figures, e.g. ``"follower, exact (v23.1)"``."""
        return self.title_template.format(version=version, max_staleness_s=max_staleness_s)


@dataclass(frozen=True)
class FreshRead(ReadPath):
    """A read path that returns the latest committed value: staleness 0 (mean and maximum).

    References
    ----------
    CRDB-FollowerReadsTopology, CRDB-GlobalTables (docs/references.rst).
    """

    def staleness(self, site: ReadSite) -> PathStaleness:
        return PathStaleness(site.zero, site.zero)


_REGISTRY: dict[str, ReadPath] = {}


def register_read_path(cls: type[ReadPath]) -> type[ReadPath]:
    """Class decorator: register one instance of a :class:`ReadPath` subclass under its ``name``.

    Registration order is the order of :data:`READ_PATHS`.  A missing or repeated name is
    refused (ValueError).

    References
    ----------
    CRDB-FollowerReadsTopology (docs/references.rst).

    Examples
    --------
    >>> @register_read_path
    ... @dataclass(frozen=True)
    ... class LeaseholderRead(ReadPath):
    ...     name = "leaseholder"
    Traceback (most recent call last):
    ...
    ValueError: read path name 'leaseholder' is already registered (by LeaseholderRead)
    """
    if not (isinstance(cls, type) and issubclass(cls, ReadPath)) or not cls.name:
        raise ValueError(f"register_read_path needs a ReadPath subclass with a name; got {cls!r}")
    if cls.name in _REGISTRY:
        raise ValueError(f"read path name {cls.name!r} is already registered (by {type(_REGISTRY[cls.name]).__name__})")
    _REGISTRY[cls.name] = cls()
    return cls


def read_path(path) -> ReadPath:
    """The registered :class:`ReadPath` named ``path`` (a ReadPath is returned as is).

    References
    ----------
    CRDB-FollowerReadsTopology (docs/references.rst).

    Examples
    --------
    >>> read_path("bounded").title(max_staleness_s=5)
    'bounded, max 5 s'
    >>> read_path("folower")
    Traceback (most recent call last):
    ...
    ValueError: path must be one of 'leaseholder', 'follower', 'bounded', 'global', 'readindex'; got 'folower' (did you mean 'follower'?)
    """
    if isinstance(path, ReadPath):
        return path
    return _REGISTRY[check_choice("path", path, tuple(_REGISTRY))]


@register_read_path
@dataclass(frozen=True)
class LeaseholderRead(FreshRead):
    """Strong read at the leaseholder: :math:`T = r_0 + \\mathrm{RTT}_{c,L}`, staleness 0.

    Source: CRDB-FollowerReadsTopology.

    References
    ----------
    CRDB-FollowerReadsTopology (docs/references.rst).
    """

    name = "leaseholder"
    option = "leaseholder reads"
    title_template = "leaseholder (strong)"

    def latency(self, site):
        return PathLatency.always(site, site.to_leaseholder_ms)


@register_read_path
@dataclass(frozen=True)
class FollowerRead(ReadPath):
    """Exact staleness, ``AS OF SYSTEM TIME follower_read_timestamp()``, at the nearest replica N.

    :math:`T = r_0 + \\mathrm{RTT}_{c,N}`, staleness :func:`follower_read_timestamp_lag_s`
    (4.2 s from v21.2).  If N's closed timestamp is older than that (probability
    :math:`1 - P(A \\le \\text{lag})`) the read goes to the leaseholder,
    :math:`r_0 + \\mathrm{RTT}_{c,L}`.  Eligible for a workload only if it tolerates the lag.
    Source: CRDB-FollowerReads.

    References
    ----------
    CRDB-FollowerReads (docs/references.rst).
    """

    name = "follower"
    option = "follower reads"
    title_template = "follower, exact ({version})"

    def latency(self, site):
        lag = follower_read_timestamp_lag_s(site.version)
        p = site.zero + (1.0 if site.nearest_is_leaseholder else site.closed_age.cdf(lag))
        return PathLatency(site.to_nearest_ms, site.to_leaseholder_ms, p)

    def staleness(self, site):
        lag = follower_read_timestamp_lag_s(site.version)
        return PathStaleness(site.zero + lag, site.zero + lag)

    def eligible(self, staleness_tolerance_s, version="v23.1"):
        return staleness_tolerance_s >= follower_read_timestamp_lag_s(version)


@register_read_path
@dataclass(frozen=True)
class BoundedStalenessRead(ReadPath):
    """``with_max_staleness(b)``: the nearest replica N serves the read if its closed timestamp is within b.

    The read runs at ``max(now - b, resolved timestamp of N)`` (CRDB-FollowerReads), so its
    staleness is :math:`S = \\min(A, b)`.  N serves it with probability :math:`p = P(A \\le b)`;
    otherwise N refuses and the gateway goes to the leaseholder, which serves ``now - b``:
    :math:`T = r_0 + \\mathrm{RTT}_{c,N} + \\mathrm{RTT}_{c,L}` (*assumed*: the failed attempt
    costs one round trip to N).  :math:`E[S] = p\\,E[A \\mid A \\le b] + (1-p)\\,b`.  When N is
    the leaseholder it always serves locally (its own closed timestamp has :math:`d = 0`).
    Assumption: the resolved timestamp equals the closed timestamp (no unresolved intents).

    References
    ----------
    CRDB-FollowerReads (docs/references.rst).
    """

    name = "bounded"
    option = "bounded staleness"
    title_template = "bounded, max {max_staleness_s:g} s"

    def latency(self, site):
        p_fresh = site.closed_age.cdf(site.max_staleness_s)
        p = site.zero + (1.0 if site.nearest_is_leaseholder else p_fresh)
        return PathLatency(site.to_nearest_ms, site.to_nearest_ms + site.to_leaseholder_ms - site.intra_ms, p)

    def staleness(self, site):
        age, bound = site.closed_age, site.max_staleness_s
        p_fresh = age.cdf(bound)
        mean = site.zero + p_fresh * np.nan_to_num(age.mean_given_at_most(bound)) + (1 - p_fresh) * bound
        return PathStaleness(mean, site.zero + np.minimum(bound, age.max_s))


@register_read_path
@dataclass(frozen=True)
class GlobalRead(FreshRead):
    """GLOBAL table: the closed timestamp leads present time, so the nearest replica serves fresh reads.

    :math:`T = r_0 + \\mathrm{RTT}_{c,N}`, staleness 0; writes pay the lead instead
    (:func:`write_latency` with ``global_table=True``).  Source: CRDB-GlobalTables.

    References
    ----------
    CRDB-GlobalTables (docs/references.rst).
    """

    name = "global"
    global_table = True
    option = "global table"
    title_template = "global table"

    def latency(self, site):
        return PathLatency.always(site, site.to_nearest_ms)


@register_read_path
@dataclass(frozen=True)
class ReadIndexRead(FreshRead):
    """etcd's linearizable read (Raft ReadIndex): the leader confirms its leadership with a quorum.

    The request goes to the leader (= leaseholder), which sends one heartbeat round to a quorum
    before serving: :math:`T = r_0 + \\mathrm{RTT}_{c,L} + (\\mathrm{RTT}_{L,f})_{(q-1)}`, i.e.
    :func:`commit_latency` with ``fsync_ms=0`` (heartbeats are not fsynced) and each ack two
    messages of ``per_hop_ms`` more, staleness 0.  *Assumed*: the heartbeat round starts when the read arrives (no batching with other reads or
    the periodic heartbeat) and the leader has already applied the read index.  Not part of
    :data:`READ_PATHS` (CockroachDB serves strong reads from its lease instead).  Source:
    etcd-APIGuarantees, Ongaro2014.

    References
    ----------
    etcd-APIGuarantees, Ongaro2014 (section 8, read-only operations) (docs/references.rst).
    """

    name = "readindex"
    listed = False
    title_template = "readindex (linearizable, etcd)"

    def latency(self, site):
        plc = site.placement
        heartbeat = commit_latency(site.topology, plc.leaseholder, plc.voters, 0.0, intra_region_rtt_ms=site.intra_ms,
                                   per_hop_ms=site.per_hop_ms)
        return PathLatency.always(site, site.to_leaseholder_ms + heartbeat)


#: CockroachDB read paths understood by :func:`read_latency`, derived from the registered
#: :class:`ReadPath` objects with ``listed`` set (``"readindex"``, etcd's linearizable read, is
#: registered but not listed, so tables over these paths stay as they are).
READ_PATHS = tuple(name for name, obj in _REGISTRY.items() if obj.listed)
