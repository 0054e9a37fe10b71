"""Multi-region Raft groups (CockroachDB follower reads): placement, latency, staleness, failure.

A Raft group has *voters* placed in regions of an RTT matrix (ms), optionally *non-voters*
(they receive the log but do not count towards the quorum) and a *leaseholder* (here also the
Raft leader) that serves strong reads and proposes every write.  This module computes, in
milliseconds (seconds for staleness, as the names say):

* the topology: RTT matrices (:func:`load_rtt`, :func:`rtt_matrix`), placements
  (:class:`Placement`, :func:`placement`, :func:`survival_placement`) and the replica counts
  CockroachDB derives for the ZONE and REGION survival goals (:func:`replica_counts`);
* write latency: :func:`commit_latency` (deterministic, from the matrix), :func:`write_latency`
  (client -> gateway -> leaseholder -> commit -> client) and their distribution forms with
  per-link jitter (:func:`commit_latency_distribution`, :func:`write_latency_distribution`);
  the placements compared on one table (:func:`placement_layouts`, :func:`placement_table`);
* read latency by path (:func:`read_latency`): leaseholder, exact-staleness follower read,
  bounded staleness (a mixture of local and redirected reads), global tables;
* staleness: :func:`follower_read_timestamp_lag_s`, :func:`closed_timestamp_lag`,
  :func:`global_reads_lead_ms`;
* region failure: :func:`survives`, :func:`failover`, :func:`failure_table`;
* choosing a topology for a workload: :func:`rank_topologies`;
* write load: :func:`write_load` (the leader as a queue, with batching).

Sources (entries of docs/references.rst): CRDB-FollowerReadsTopology, CRDB-FollowerReads,
CRDB-GlobalTables, CRDB-SurvivalGoals, Ongaro2014 and etcd-Tuning, CockroachDB source (``pkg/sql/region_util.go``: ``getNumVotersAndNumReplicas``;
``pkg/kv/kvserver/closedts/policy.go``: ``TargetForPolicy``).  Values not published anywhere
are marked *assumed* where they are used.

>>> m = load_rtt("crdb-demo-rtt-2019.csv")
>>> float(commit_latency(m, "us-east1", ["us-east1", "us-west1", "europe-west1"]))
64.0
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import special

from . import _tabulate
from ._data import data_path
from ._results import Result
from ._stats import weighted_quantile
from ._validate import as_float_array, as_int_array, check_choice, check_probability

__all__ = [
    "load_rtt",
    "rtt_matrix",
    "Placement",
    "placement",
    "spread_placement",
    "survival_placement",
    "replica_counts",
    "quorum_size",
    "commit_latency",
    "write_latency",
    "commit_latency_distribution",
    "write_latency_distribution",
    "ReadLatency",
    "read_latency",
    "READ_PATHS",
    "follower_read_timestamp_lag_s",
    "follower_read_lag_s",
    "ClosedTimestampLag",
    "closed_timestamp_lag",
    "global_reads_lead_ms",
    "survives",
    "Failover",
    "failover",
    "failure_table",
    "placement_layouts",
    "placement_table",
    "rank_topologies",
    "WriteLoad",
    "write_load",
]

#: CockroachDB read paths understood by :func:`read_latency` (which also takes ``"readindex"``,
#: etcd's linearizable read; kept out of this tuple so tables over these paths stay as they are).
READ_PATHS = ("leaseholder", "follower", "bounded", "global")


# --------------------------------------------------------------------------------------------
# Topology: RTT matrices
# --------------------------------------------------------------------------------------------


def rtt_matrix(rtt_ms, regions: Sequence | None = None) -> pd.DataFrame:
    """Validate an RTT matrix (ms) and return it as a labelled DataFrame.

    Rows are sources and columns destinations; ``rtt_ms[a, b]`` is the round-trip time
    measured from region ``a`` to ``b``.  Asymmetric matrices are allowed (published data is
    slightly asymmetric); the diagonal must be zero (the RTT *within* a region is a separate
    parameter, ``intra_region_rtt_ms``, of the latency functions).

    Parameters
    ----------
    rtt_ms : array_like or pandas.DataFrame
        Square matrix of non-negative finite round-trip times in ms.  A DataFrame must have the
        same labels on rows and columns (in the same order).
    regions : sequence, optional
        Labels for an array input; default ``0 .. n-1`` (member indices, e.g. etcd members).

    Returns
    -------
    pandas.DataFrame
        Float matrix with the region labels as index and columns.

    Raises
    ------
    ValueError
        Not square, negative, NaN/inf, non-zero diagonal, duplicate or mismatched labels.

    Examples
    --------
    >>> float(rtt_matrix([[0, 10], [12, 0]], regions=["a", "b"]).loc["b", "a"])
    12.0
    >>> rtt_matrix([[0, -1], [1, 0]])
    Traceback (most recent call last):
    ...
    ValueError: rtt_ms must be >= 0; got -1.0
    """
    if isinstance(rtt_ms, pd.DataFrame):
        if list(rtt_ms.index) != list(rtt_ms.columns):
            raise ValueError(
                f"rtt_ms must have the same region labels on rows and columns; got rows "
                f"{list(rtt_ms.index)} and columns {list(rtt_ms.columns)}"
            )
        labels = list(rtt_ms.index)
        values = rtt_ms.to_numpy()
    else:
        values = rtt_ms
        labels = None
    arr = as_float_array("rtt_ms", values, minimum=0.0)
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1] or arr.shape[0] == 0:
        raise ValueError(f"rtt_ms must be a non-empty square matrix; got shape {arr.shape}")
    n = arr.shape[0]
    if labels is None:
        labels = list(range(n)) if regions is None else list(regions)
    elif regions is not None and list(regions) != labels:
        raise ValueError(f"regions {list(regions)} disagree with the DataFrame labels {labels}")
    if len(labels) != n:
        raise ValueError(f"regions must have {n} labels for a {n}x{n} rtt_ms; got {len(labels)}")
    if len(set(labels)) != n:
        dup = sorted({str(x) for x in labels if labels.count(x) > 1})
        raise ValueError(f"regions must be unique; duplicated {dup}")
    diag = np.diag(arr)
    if np.any(diag != 0):
        bad = [labels[i] for i in np.flatnonzero(diag != 0)]
        raise ValueError(
            f"rtt_ms must have a zero diagonal (use intra_region_rtt_ms for in-region RTT); "
            f"non-zero for {bad}"
        )
    return pd.DataFrame(arr.copy(), index=labels, columns=labels)


def load_rtt(name_or_path) -> pd.DataFrame:
    """Load a shipped (or any) RTT CSV into a validated matrix (ms).

    The CSV has comment lines starting with ``#``, a header ``source,<region>...`` and one row
    per source region.  Shipped files (``data/regions/``): ``azure-rtt-p50-2025-06.csv`` (Azure's
    published P50 RTT between 8 regions, June 2025) and ``crdb-demo-rtt-2019.csv`` (the RTTs
    ``cockroach demo --global`` simulates).

    Parameters
    ----------
    name_or_path : str or path
        A file name under ``data/regions`` or a path to a CSV.

    Examples
    --------
    >>> m = load_rtt("azure-rtt-p50-2025-06.csv")
    >>> m.shape, float(m.loc["eastus", "westus2"]), float(m.loc["westus2", "eastus"])
    ((8, 8), 66.0, 70.0)
    """
    from pathlib import Path

    path = Path(name_or_path)
    if not path.exists():
        path = data_path("regions", str(name_or_path))
    frame = pd.read_csv(path, comment="#", index_col=0)
    frame.index = [str(x).strip() for x in frame.index]
    frame.columns = [str(x).strip() for x in frame.columns]
    return rtt_matrix(frame)


def _as_matrix(rtt_ms) -> pd.DataFrame:
    return rtt_ms if _is_valid_frame(rtt_ms) else rtt_matrix(rtt_ms)


def _is_valid_frame(obj) -> bool:
    # A DataFrame already returned by rtt_matrix is re-validated cheaply (square, labels).
    if not isinstance(obj, pd.DataFrame):
        return False
    rtt_matrix(obj)
    return True


def _index_of(matrix: pd.DataFrame, label, name: str) -> int:
    """Position of ``label`` in the matrix; integers are positions when labels are not ints."""
    labels = list(matrix.index)
    if label in labels:
        return labels.index(label)
    if isinstance(label, (int, np.integer)) and not isinstance(label, bool):
        if not any(isinstance(x, (int, np.integer)) for x in labels) and 0 <= int(label) < len(labels):
            return int(label)
    raise ValueError(f"{name} names unknown region {label!r}; known regions are {labels}")


def _link_ms(m: np.ndarray, a, b, intra_region_rtt_ms):
    """RTT between positions a and b (arrays ok); ``intra_region_rtt_ms`` when a == b."""
    a = np.asarray(a)
    b = np.asarray(b)
    return np.where(a == b, intra_region_rtt_ms, m[a, b])


# --------------------------------------------------------------------------------------------
# Topology: placements and survival goals
# --------------------------------------------------------------------------------------------


def quorum_size(n_voters):
    """Raft majority quorum ``q = floor(n/2) + 1`` (vectorized).

    >>> quorum_size([1, 2, 3, 4, 5])
    array([1, 2, 2, 3, 3])
    """
    n = as_int_array("n_voters", n_voters, minimum=1)
    return n // 2 + 1


def replica_counts(goal: str, n_regions):
    """Voters and total replicas CockroachDB derives for a multi-region database.

    .. math::

        \\text{ZONE: } v = 3,\\quad n = 3 + (R - 1);\\qquad
        \\text{REGION: } v = 5,\\quad n = \\max(5,\\; f + (R - 1)),\\; f = \\lceil v/2 \\rceil - 1 = 2

    where R is the number of database regions and f the failures a quorum tolerates: ZONE puts
    all 3 voters in the home region and one non-voter in every other region; REGION puts
    ``f = 2`` voters in the home region and at least one replica in every other region (the
    2-2-1 layout over 3 regions).  REGION survival needs at least 3 regions.

    Source: CockroachDB ``pkg/sql/region_util.go``, ``getNumVotersAndNumReplicas`` and
    ``maxFailuresBeforeUnavailability``; CRDB-SurvivalGoals (docs/references.rst).

    Parameters
    ----------
    goal : {"zone", "region"}
    n_regions : int or array of int
        Number of regions in the database (>= 1; >= 3 for ``"region"``).

    Returns
    -------
    (num_voters, num_replicas) : tuple of int arrays

    Examples
    --------
    >>> replica_counts("zone", [1, 3, 8])
    (array([3, 3, 3]), array([ 3,  5, 10]))
    >>> replica_counts("region", [3, 4, 8])
    (array([5, 5, 5]), array([5, 5, 9]))
    """
    goal = check_choice("goal", str(goal).lower(), ["zone", "region"])
    r = as_int_array("n_regions", n_regions, minimum=1)
    if goal == "zone":
        voters = np.full_like(r, 3)
        return voters, voters + (r - 1)
    if np.any(r < 3):
        raise ValueError(f"n_regions must be >= 3 for the REGION survival goal; got {r[r < 3].tolist()}")
    voters = np.full_like(r, 5)
    tolerated = (voters + 1) // 2 - 1
    return voters, np.maximum(voters, tolerated + (r - 1))


@dataclass(frozen=True)
class Placement(Result):
    """Where a Raft group's replicas are: one entry per replica, naming its region.

    Attributes
    ----------
    voters : tuple
        Region label of each voter (a region appears once per voter it holds).
    leaseholder : object
        Region of the leaseholder (= Raft leader); must hold a voter.
    non_voters : tuple
        Region label of each non-voting replica.
    name : str
        A short description used in tables (e.g. ``"REGION 2-2-1"``).
    """

    voters: tuple
    leaseholder: object
    non_voters: tuple = ()
    name: str = ""

    @property
    def n_voters(self) -> int:
        return len(self.voters)

    @property
    def quorum(self) -> int:
        return len(self.voters) // 2 + 1

    @property
    def replica_regions(self) -> tuple:
        """Every region holding a replica (voter or non-voter), in first-seen order."""
        return tuple(dict.fromkeys(self.voters + self.non_voters))

    def counts(self) -> pd.DataFrame:
        """Voters and non-voters per region, and which region holds the lease."""
        regions = self.replica_regions
        return pd.DataFrame(
            {
                "region": list(regions),
                "voters": [self.voters.count(r) for r in regions],
                "non_voters": [self.non_voters.count(r) for r in regions],
                "leaseholder": [r == self.leaseholder for r in regions],
            }
        )

    def to_frame(self) -> pd.DataFrame:
        return self.counts()

    def label(self) -> str:
        """``name`` or a compact description like ``"3 voters 1-1-1, lease us-east1"``."""
        if self.name:
            return self.name
        per = [str(self.voters.count(r)) for r in dict.fromkeys(self.voters)]
        return f"{self.n_voters} voters {'-'.join(per)}, lease {self.leaseholder}"


def _expand(spec, name: str) -> tuple:
    """A mapping {region: count} or a sequence of region labels -> tuple of labels."""
    if spec is None:
        return ()
    if isinstance(spec, Mapping):
        out = []
        for region, count in spec.items():
            c = int(as_int_array(f"{name}[{region!r}]", count, minimum=0))
            out.extend([region] * c)
        return tuple(out)
    if isinstance(spec, (str, bytes)):
        raise ValueError(f"{name} must be a mapping region -> count or a sequence of regions; got {spec!r}")
    return tuple(spec)


def placement(voters, leaseholder, non_voters=None, *, rtt_ms=None, name: str = "") -> Placement:
    """Build and validate a :class:`Placement`.

    Parameters
    ----------
    voters : mapping {region: count} or sequence of region labels
        At least one voter.
    leaseholder : region label
        Must hold a voter (the leaseholder is the Raft leader here).
    non_voters : mapping or sequence, optional
    rtt_ms : RTT matrix, optional
        When given, every region must be one of its labels (positions are accepted for integer
        labels) and labels are normalised to the matrix's.
    name : str

    Examples
    --------
    >>> p = placement({"us-east1": 2, "us-west1": 2, "europe-west1": 1}, "us-east1")
    >>> p.n_voters, p.quorum
    (5, 3)
    >>> placement(["a", "b", "c"], "d")
    Traceback (most recent call last):
    ...
    ValueError: leaseholder 'd' is not among the voters' regions ['a', 'b', 'c']
    """
    v = _expand(voters, "voters")
    nv = _expand(non_voters, "non_voters")
    if len(v) == 0:
        raise ValueError("voters must hold at least one voter; got none (no quorum can exist)")
    if rtt_ms is not None:
        m = _as_matrix(rtt_ms)
        labels = list(m.index)
        v = tuple(labels[_index_of(m, r, "voters")] for r in v)
        nv = tuple(labels[_index_of(m, r, "non_voters")] for r in nv)
        leaseholder = labels[_index_of(m, leaseholder, "leaseholder")]
    if leaseholder not in v:
        raise ValueError(f"leaseholder {leaseholder!r} is not among the voters' regions {list(dict.fromkeys(v))}")
    return Placement(voters=v, leaseholder=leaseholder, non_voters=nv, name=name)


def _by_distance(m: pd.DataFrame, home, regions) -> list:
    """``regions`` other than ``home`` sorted by RTT from ``home`` (ties by label order)."""
    arr = m.to_numpy()
    h = _index_of(m, home, "home_region")
    others = [r for r in regions if r != m.index[h]]
    return sorted(others, key=lambda r: (arr[h, _index_of(m, r, "regions")], list(m.index).index(r)))


def spread_placement(rtt_ms, leaseholder, regions=None, *, n_voters: int = 3, non_voters_elsewhere: bool = True,
                     name: str = "") -> Placement:
    """One voter in the leaseholder's region and in each of the ``n_voters - 1`` nearest others.

    This is the follower-reads topology of CRDB-FollowerReadsTopology (3 regions, one replica each, the default
    replication factor 3).  With ``non_voters_elsewhere`` every other region in ``regions``
    gets a non-voter so that follower reads are local everywhere (as a CockroachDB
    multi-region database does).

    Examples
    --------
    >>> m = load_rtt("crdb-demo-rtt-2019.csv")
    >>> spread_placement(m, "us-west1").voters
    ('us-west1', 'us-east1', 'europe-west1')
    """
    m = _as_matrix(rtt_ms)
    regions = list(m.index) if regions is None else [m.index[_index_of(m, r, "regions")] for r in regions]
    k = int(as_int_array("n_voters", n_voters, minimum=1))
    home = m.index[_index_of(m, leaseholder, "leaseholder")]
    others = _by_distance(m, home, regions)
    if k - 1 > len(others):
        raise ValueError(f"n_voters={k} needs {k} regions; only {len(others) + 1} available")
    voters = (home, *others[: k - 1])
    nv = tuple(others[k - 1:]) if non_voters_elsewhere else ()
    return placement(voters, home, nv, name=name)


def survival_placement(rtt_ms, home_region, goal: str = "zone", regions=None, *, name: str = "") -> Placement:
    """The placement CockroachDB derives for a multi-region database with a survival goal.

    ZONE: 3 voters in the home region, one non-voter in every other region.  REGION: 5 voters,
    ``2`` (= the failures a quorum of 5 tolerates) in the home region and a replica in every
    other region, so with 3 regions the layout is 2-2-1 (the nearest other region gets the
    second pair) and with ``R >= 4`` regions the 3 remaining voters sit one each in the 3
    nearest other regions and the rest hold non-voters -- the only layouts that match the counts
    of :func:`replica_counts`.  *Assumption*: which regions get the floating voters is the
    allocator's choice; we take the nearest, as CockroachDB's comments describe the intent.

    Examples
    --------
    >>> m = load_rtt("azure-rtt-p50-2025-06.csv")
    >>> p = survival_placement(m, "eastus", "region")
    >>> p.counts()["voters"].tolist(), len(p.non_voters)
    ([2, 1, 1, 1, 0, 0, 0, 0], 4)
    >>> survival_placement(m, "eastus", "region", ["eastus", "westus2", "uksouth"]).counts()["voters"].tolist()
    [2, 2, 1]
    >>> survival_placement(m, "eastus", "zone").counts()["voters"].tolist()[:2]
    [3, 0]
    """
    m = _as_matrix(rtt_ms)
    regions = list(m.index) if regions is None else [m.index[_index_of(m, r, "regions")] for r in regions]
    home = m.index[_index_of(m, home_region, "home_region")]
    if home not in regions:
        regions = [home, *regions]
    goal = check_choice("goal", str(goal).lower(), ["zone", "region"])
    n_vot, n_rep = (int(x) for x in replica_counts(goal, len(regions)))
    others = _by_distance(m, home, regions)
    if goal == "zone":
        voters = (home,) * n_vot
        nv = tuple(others)
    else:
        in_home = (n_vot + 1) // 2 - 1
        if len(regions) == 3:
            voters = (home,) * in_home + (others[0],) * 2 + (others[1],) * (n_vot - in_home - 2)
            nv = ()
        else:
            k = n_vot - in_home
            voters = (home,) * in_home + tuple(others[:k])
            nv = tuple(others[k:])
    assert len(voters) + len(nv) == n_rep
    return placement(voters, home, nv, name=name or f"{goal.upper()} survival, home {home}")


# --------------------------------------------------------------------------------------------
# Write latency
# --------------------------------------------------------------------------------------------


def _voter_positions(m: pd.DataFrame, leader, voters):
    voters = _expand(voters, "voters")
    if len(voters) == 0:
        raise ValueError("voters must hold at least one voter; got none (no quorum can exist)")
    lpos = _index_of(m, leader, "leader")
    vpos = [_index_of(m, v, "voters") for v in voters]
    if lpos not in vpos:
        raise ValueError(f"leader {leader!r} is not among the voters {list(voters)}")
    followers = list(vpos)
    followers.remove(lpos)
    return lpos, np.asarray(followers, dtype=int), len(vpos)


def _check_quorum(quorum, n: int) -> int:
    if quorum is None:
        return n // 2 + 1
    q = int(as_int_array("quorum", quorum, minimum=1))
    if q > n:
        raise ValueError(f"quorum must be <= the {n} voters; got {q} (such a quorum cannot exist)")
    if 2 * q <= n:
        raise ValueError(f"quorum must be a majority (> {n / 2:g}) of the {n} voters; got {q}")
    return q


def commit_latency(rtt_ms, leader, voters, fsync_ms=0.0, *, intra_region_rtt_ms=0.0, quorum=None):
    """Time from the leader receiving a proposal to its commit, deterministic (ms).

    The leader appends (fsync) in parallel with sending the entry to every follower; follower
    ``f`` acknowledges after one round trip plus its own fsync.  With ``q`` the quorum, the
    entry commits once the leader's fsync and the ``(q-1)``-th fastest follower ack are done:

    .. math::

        C = \\max\\bigl(F,\\; (\\mathrm{RTT}_{L,f} + F)_{(q-1)}\\bigr),
        \\qquad q = \\lfloor n/2 \\rfloor + 1

    where :math:`x_{(k)}` is the k-th smallest over the followers and ``C = F`` for a single
    voter.  Followers in the leader's own region (same label) use ``intra_region_rtt_ms``.

    Assumptions: message processing and marshalling cost nothing; all voters fsync in
    ``fsync_ms`` (Ongaro2014, etcd-Tuning in docs/references.rst: a put costs at least one member-to-member RTT plus one fdatasync,
    the leader fsyncs in parallel with sending MsgApp).

    Parameters
    ----------
    rtt_ms : array_like (..., R, R) or DataFrame
        RTT matrix in ms; a stack of matrices (leading axes) broadcasts against ``fsync_ms``.
    leader : label or int
        Region name (DataFrame) or member index (array / integer position).
    voters : sequence of labels or mapping {label: count}
        Every voter, the leader included (a label repeats for several voters in one region).
    fsync_ms : float or array
        fdatasync time of one append (>= 0).
    intra_region_rtt_ms : float or array
        RTT between two voters in the same region (*assumed*, not in the data; default 0).
    quorum : int, optional
        Votes needed (default the majority); must be a majority and at most ``n``.

    Returns
    -------
    numpy.ndarray
        Commit latency in ms, broadcast over ``fsync_ms``, ``intra_region_rtt_ms`` and stacked
        matrices.

    Examples
    --------
    Three etcd members, RTT(i, j) = x_i + x_j with x = (5, 10, 20) ms, 2 ms fsync: the leader 0
    waits for its nearest follower (15 ms) plus that follower's fsync.

    >>> x = np.array([5.0, 10.0, 20.0]); rtt = x[:, None] + x[None, :]; np.fill_diagonal(rtt, 0)
    >>> commit_latency(rtt, 0, [0, 1, 2], fsync_ms=[0.0, 2.0])
    array([15., 17.])
    """
    fsync = as_float_array("fsync_ms", fsync_ms, minimum=0.0)
    intra = as_float_array("intra_region_rtt_ms", intra_region_rtt_ms, minimum=0.0)
    stacked = not isinstance(rtt_ms, pd.DataFrame) and np.ndim(rtt_ms) > 2
    if stacked:
        arr = as_float_array("rtt_ms", rtt_ms, minimum=0.0)
        if arr.shape[-1] != arr.shape[-2]:
            raise ValueError(f"rtt_ms must be square in its last two axes; got shape {arr.shape}")
        m = rtt_matrix(arr.reshape(-1, *arr.shape[-2:])[0])  # labels and checks of the first
        diag = np.diagonal(arr, axis1=-2, axis2=-1)
        if np.any(diag != 0):
            raise ValueError("rtt_ms must have a zero diagonal in every stacked matrix")
    else:
        m = _as_matrix(rtt_ms)
        arr = m.to_numpy()
    lpos, fpos, n = _voter_positions(m, leader, voters)
    q = _check_quorum(quorum, n)
    if q == 1:
        shape = np.broadcast_shapes(fsync.shape, intra.shape, arr.shape[:-2])
        return np.broadcast_to(fsync, shape).astype(float).copy()
    link = np.where(fpos == lpos, intra[..., None], arr[..., lpos, fpos]) if fpos.size else arr[..., lpos, fpos]
    acks = link + fsync[..., None]
    kth = np.sort(acks, axis=-1)[..., q - 2]
    return np.maximum(fsync, kth)


def _client_leg_ms(arr, client_pos, lh_pos, intra):
    """Client -> gateway (in the client's region) -> leaseholder -> gateway -> client, in ms."""
    return intra + _link_ms(arr, client_pos, lh_pos, intra)


def write_latency(rtt_ms, placement_: Placement, client_region, fsync_ms=0.0, *, intra_region_rtt_ms=0.0,
                  global_table: bool = False, max_offset_ms=500.0, **lead_kwargs):
    """Latency of a single-row write as the client sees it (ms), deterministic.

    .. math::

        T_w = \\mathrm{RTT}_{\\text{client,gw}} + \\mathrm{RTT}_{\\text{gw},L} + C

    with ``C`` from :func:`commit_latency` and the client -> gateway round trip inside the
    client's region equal to ``intra_region_rtt_ms``.  Pipelined writes and parallel commits
    make a transaction cost one consensus round at commit (CRDB-FollowerReadsTopology), so this is also a
    single-statement transaction.  For a GLOBAL table the write gets a future timestamp
    ``lead`` ahead (:func:`global_reads_lead_ms`) and commit-waits until it has passed:

    .. math::

        T_w^{\\text{global}} = \\mathrm{RTT}_{\\text{client,gw}}
          + \\max\\bigl(\\mathrm{RTT}_{\\text{gw},L} + C,\\; \\mathrm{RTT}_{\\text{gw},L}/2 + \\text{lead}\\bigr)

    (*assumption*: the timestamp is assigned at the leaseholder, half a round trip after the
    gateway sent the request, and the gateway waits until its clock passes it).

    Examples
    --------
    >>> m = load_rtt("crdb-demo-rtt-2019.csv")
    >>> p = spread_placement(m, "us-east1")
    >>> float(write_latency(m, p, "us-west1"))     # 66 to the leaseholder + 64 to commit
    130.0
    >>> float(write_latency(m, p, "us-west1", global_table=True))   # 33 + 800 ms lead
    833.0
    """
    m = _as_matrix(rtt_ms)
    arr = m.to_numpy()
    intra = as_float_array("intra_region_rtt_ms", intra_region_rtt_ms, minimum=0.0)
    c = _index_of(m, client_region, "client_region")
    lh = _index_of(m, placement_.leaseholder, "leaseholder")
    commit = commit_latency(m, placement_.leaseholder, placement_.voters, fsync_ms, intra_region_rtt_ms=intra)
    to_lh = _link_ms(arr, c, lh, intra)
    if not global_table:
        return intra + to_lh + commit
    lead = global_reads_lead_ms(max_offset_ms=max_offset_ms, **lead_kwargs)
    return intra + np.maximum(to_lh + commit, to_lh / 2 + lead)


# --------------------------------------------------------------------------------------------
# Staleness: follower_read_timestamp, closed timestamps, global-reads lead
# --------------------------------------------------------------------------------------------

#: CockroachDB feature releases understood by :func:`follower_read_timestamp_lag_s`.
_KNOWN_VERSIONS = ("19.1", "19.2", "20.1", "20.2", "21.1", "21.2", "22.1", "22.2", "23.1",
                   "23.2", "24.1", "24.2", "24.3", "25.1", "25.2")


def follower_read_lag_s(target_duration_s=3.0, side_transport_interval_s=0.2, propagation_slack_s=1.0):
    """How far behind ``now`` ``follower_read_timestamp()`` reads, v21.2 and later (s).

    .. math:: \\text{lag} = \\text{target\\_duration} + \\text{side\\_transport\\_interval}
              + \\text{propagation\\_slack}

    Defaults are ``kv.closed_timestamp.target_duration`` 3 s,
    ``kv.closed_timestamp.side_transport_interval`` 200 ms and the 1 s propagation slack
    (CRDB-FollowerReads in docs/references.rst).  ``target_duration = 0`` disables follower reads:
    refused here, as no follower-read timestamp exists then.

    >>> float(follower_read_lag_s())
    4.2
    """
    target = as_float_array("target_duration_s", target_duration_s, minimum=0.0, strict_minimum=True)
    side = as_float_array("side_transport_interval_s", side_transport_interval_s, minimum=0.0)
    slack = as_float_array("propagation_slack_s", propagation_slack_s, minimum=0.0)
    return target + side + slack


def follower_read_timestamp_lag_s(version: str = "v23.1") -> float:
    """Staleness of an exact-staleness follower read, ``now - follower_read_timestamp()`` (s).

    ======================  =======================================================  ======
    versions                formula (defaults)                                        lag
    ======================  =======================================================  ======
    v19.1, v19.2            target 30 s x (1 + close_fraction 0.2 x multiple 3)       48 s
    v20.1 - v21.1           target 3 s x (1 + 0.2 x 3)                                4.8 s
    v21.2 and later         target 3 s + side transport 0.2 s + slack 1 s             4.2 s
    ======================  =======================================================  ======

    Source: CRDB-FollowerReads (docs/references.rst; the docs per version).  Releases after v23.1 are
    *assumed* to keep the v21.2 formula (the topology document is for v23.1).  Unknown versions are
    refused.

    Parameters
    ----------
    version : str
        ``"v23.1"``, ``"23.1"`` or a patch release like ``"v23.1.11"``.

    Examples
    --------
    >>> follower_read_timestamp_lag_s("v23.1"), follower_read_timestamp_lag_s("v20.2")
    (4.2, 4.8)
    >>> follower_read_timestamp_lag_s("v19.2")
    48.0
    >>> follower_read_timestamp_lag_s("v2.1")
    Traceback (most recent call last):
    ...
    ValueError: version must be a CockroachDB release from v19.1 to v25.2 (e.g. 'v23.1'); got 'v2.1'
    """
    match = re.fullmatch(r"v?(\d+)\.(\d+)(?:\.\d+)?", str(version).strip())
    key = f"{int(match.group(1))}.{int(match.group(2))}" if match else None
    if key not in _KNOWN_VERSIONS:
        raise ValueError(
            f"version must be a CockroachDB release from v{_KNOWN_VERSIONS[0]} to v{_KNOWN_VERSIONS[-1]} "
            f"(e.g. 'v23.1'); got {version!r}"
        )
    major, minor = (int(x) for x in key.split("."))
    if major == 19:
        return round(30.0 * (1 + 0.2 * 3), 10)
    if (major, minor) <= (21, 1):
        return round(3.0 * (1 + 0.2 * 3), 10)
    return round(float(follower_read_lag_s()), 10)


def global_reads_lead_ms(max_offset_ms=500.0, max_network_rtt_ms=150.0, side_transport_interval_ms=200.0,
                         raft_overhead_ms=20.0, buffer_ms=25.0, override_ms=0.0):
    """How far ahead of ``now`` a GLOBAL table's closed timestamp leads (ms).

    .. math::

        \\text{lead} = \\text{max\\_offset} + \\max\\bigl(1.5\\,\\mathrm{RTT}_{\\max} + 20,\\;
        0.5\\,\\mathrm{RTT}_{\\max} + \\text{side\\_transport\\_interval}\\bigr) + 25

    = 500 + max(245, 275) + 25 = **800 ms** with the defaults (CRDB-GlobalTables in docs/references.rst).  A non-zero
    ``override_ms`` (``kv.closed_timestamp.lead_for_global_reads_override``) replaces the lot.
    Source: CockroachDB ``closedts.TargetForPolicy`` (``LEAD_FOR_GLOBAL_READS``).

    Examples
    --------
    >>> global_reads_lead_ms()
    array(800.)
    >>> global_reads_lead_ms(side_transport_interval_ms=[50, 200], override_ms=[0, 1234])
    array([ 770., 1234.])
    """
    off = as_float_array("max_offset_ms", max_offset_ms, minimum=0.0)
    rtt = as_float_array("max_network_rtt_ms", max_network_rtt_ms, minimum=0.0)
    side = as_float_array("side_transport_interval_ms", side_transport_interval_ms, minimum=0.0)
    raft = as_float_array("raft_overhead_ms", raft_overhead_ms, minimum=0.0)
    buf = as_float_array("buffer_ms", buffer_ms, minimum=0.0)
    ov = as_float_array("override_ms", override_ms, minimum=0.0)
    lead = off + np.maximum(1.5 * rtt + raft, 0.5 * rtt + side) + buf
    return np.where(ov > 0, ov, lead)


@dataclass(frozen=True)
class ClosedTimestampLag(Result):
    """Age of the closed timestamp a follower holds, ``A = target + U*interval + d`` (s).

    ``U ~ Uniform(0, 1)`` is the phase since the last side-transport publication and ``d`` the
    one-way delay from the leaseholder.  Fields are arrays (broadcast).
    """

    min_s: np.ndarray
    mean_s: np.ndarray
    max_s: np.ndarray
    interval_s: np.ndarray

    def cdf(self, x_s):
        """P(A <= x): linear from ``min_s`` to ``max_s`` (a point mass when interval is 0)."""
        x = np.asarray(x_s, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            frac = np.where(self.interval_s > 0, (x - self.min_s) / self.interval_s, np.where(x >= self.min_s, 1.0, 0.0))
        return np.clip(frac, 0.0, 1.0)

    def sf(self, x_s):
        """P(A > x) = 1 - cdf(x)."""
        return 1.0 - self.cdf(x_s)

    def ppf(self, q):
        """The ``q``-quantile of A (s): ``min_s + q * interval_s``."""
        q = check_probability("q", q)
        return self.min_s + q * self.interval_s

    def mean(self):
        """E[A] (s): the ``mean_s`` field."""
        return self.mean_s

    def mean_given_at_most(self, x_s):
        """E[A | A <= x] (nan where P(A <= x) = 0)."""
        x = np.asarray(x_s, dtype=float)
        upper = np.minimum(x, self.max_s)
        return np.where(self.cdf(x) > 0, (self.min_s + upper) / 2, np.nan)


def closed_timestamp_lag(one_way_delay_ms=0.0, target_duration_s=3.0, side_transport_interval_s=0.2) -> ClosedTimestampLag:
    """Distribution of the closed timestamp's age at a follower.

    The leaseholder closes timestamps ``target_duration`` behind its clock and publishes them
    every ``side_transport_interval``; the follower receives them a one-way delay later.  At a
    random instant the follower's closed timestamp is

    .. math:: A = T + U\\,I + d,\\qquad U\\sim\\mathcal U(0,1)

    behind now: mean :math:`T + I/2 + d`, maximum :math:`T + I + d`.  Assumptions: no clock
    skew, publications exactly periodic, Raft traffic does not close timestamps sooner (it can
    only make A smaller, so this is the conservative side).  Source: CRDB-FollowerReads (closed timestamp
    settings, docs/references.rst).

    Examples
    --------
    >>> lag = closed_timestamp_lag(one_way_delay_ms=[0.0, 33.0])
    >>> lag.mean_s, lag.max_s
    (array([3.1  , 3.133]), array([3.2  , 3.233]))
    """
    d = as_float_array("one_way_delay_ms", one_way_delay_ms, minimum=0.0) / 1000.0
    t = as_float_array("target_duration_s", target_duration_s, minimum=0.0)
    i = as_float_array("side_transport_interval_s", side_transport_interval_s, minimum=0.0)
    lo = t + d
    lo, i = np.broadcast_arrays(lo, i)
    return ClosedTimestampLag(min_s=lo.copy(), mean_s=lo + i / 2, max_s=lo + i, interval_s=i.copy())


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
                 target_duration_s=3.0, side_transport_interval_s=0.2) -> ReadLatency:
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
    always serve a present-time read).  Service time at the replica is not modelled.

    Examples
    --------
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
        heartbeat = commit_latency(m, placement_.leaseholder, placement_.voters, 0.0, intra_region_rtt_ms=intra)
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
    local = zero + local
    remote = zero + remote
    mean = p * local + (1 - p) * remote
    p50 = _two_point_ppf(local, remote, p, 0.5)
    p99 = _two_point_ppf(local, remote, p, 0.99)
    return ReadLatency(path, m.index[c], local, remote, p, mean, p50, p99, st_mean, st_max)


# --------------------------------------------------------------------------------------------
# Write latency with jitter: distributions (followerlab.latency)
# --------------------------------------------------------------------------------------------


def _as_dist(name: str, value):
    from . import latency

    if value is None:
        return None
    if np.isscalar(value) and not isinstance(value, str):
        return latency.constant(float(as_float_array(name, value, minimum=0.0)))
    if not (hasattr(value, "cdf") and hasattr(value, "ppf")):
        raise ValueError(f"{name} must be a latency distribution (cdf, ppf) or a number of ms; got {value!r}")
    return value


def commit_latency_distribution(rtt_ms, leader, voters, fsync=0.0, *, link_jitter=None, intra_region_rtt_ms=0.0,
                                quorum=None):
    """Distribution of the commit latency when links and disks jitter (ms).

    Follower ``f``'s ack takes :math:`X_f = \\mathrm{RTT}_{L,f} + J_f + F_f` with independent
    round-trip jitter ``J_f ~ link_jitter`` and fsync ``F_f ~ fsync``; the leader's own fsync is
    ``F_L``.  The entry commits at

    .. math:: C = \\max\\bigl(F_L,\\; X_{(q-1)}\\bigr),

    the ``(q-1)``-th smallest ack (:func:`followerlab.latency.order_statistic`, exact CDF of
    independent non-identical latencies) and the leader's fsync
    (:func:`followerlab.latency.maximum`).  With constant fsync and no jitter this is the point
    mass :func:`commit_latency`.  Assumption: all jitters and fsyncs are independent (no shared
    congestion).

    Parameters
    ----------
    rtt_ms, leader, voters, intra_region_rtt_ms, quorum
        As in :func:`commit_latency` (a single 2-D matrix; scalar intra RTT).
    fsync : latency distribution or float
        fdatasync time of every voter (ms).
    link_jitter : latency distribution, optional
        Extra round-trip delay above the RTT on each leader-follower link (ms, >= 0).

    Returns
    -------
    latency distribution
        ``cdf``, ``ppf``, ``mean()``, ``rvs``.

    Examples
    --------
    >>> from followerlab import latency
    >>> m = load_rtt("crdb-demo-rtt-2019.csv")
    >>> d = commit_latency_distribution(m, "us-east1", list(m.index), fsync=2.0,
    ...                                 link_jitter=latency.exponential(2.0))
    >>> round(float(d.ppf(0.5)), 3)        # fastest of 64+2+E, 66+2+E (E ~ Exp(mean 2))
    67.386
    """
    from . import latency

    m = _as_matrix(rtt_ms)
    arr = m.to_numpy()
    intra = float(as_float_array("intra_region_rtt_ms", intra_region_rtt_ms, minimum=0.0))
    lpos, fpos, n = _voter_positions(m, leader, voters)
    q = _check_quorum(quorum, n)
    f = _as_dist("fsync", fsync)
    j = _as_dist("link_jitter", link_jitter)
    if q == 1:
        return f
    per_link = f if j is None else latency.convolve(j, f)
    acks = [latency.shifted(per_link, float(_link_ms(arr, lpos, p, intra))) for p in fpos]
    kth = latency.order_statistic(acks, q - 1)
    if isinstance(f, latency.Constant) and float(np.asarray(f.ppf(0.5))) <= float(np.asarray(kth.ppf(0.0))):
        return kth  # the leader's fsync is never the last to finish
    return latency.maximum([f, kth])


def write_latency_distribution(rtt_ms, placement_: Placement, client_region, fsync=0.0, *, link_jitter=None,
                               intra_region_rtt_ms=0.0):
    """Distribution of a write's latency as the client sees it (ms), with jitter.

    .. math:: T_w = r_0 + \\mathrm{RTT}_{c,L} + J_{c,L} + C

    with ``C`` from :func:`commit_latency_distribution`, ``r_0`` the in-region client ->
    gateway round trip (``intra_region_rtt_ms``) and ``J_{c,L}`` one more independent link
    jitter when the client is outside the leaseholder's region.

    Examples
    --------
    >>> m = load_rtt("crdb-demo-rtt-2019.csv")
    >>> d = write_latency_distribution(m, spread_placement(m, "us-east1"), "us-west1", fsync=1.0)
    >>> float(d.ppf(0.99))      # 66 + (64 + 1): no jitter, a point mass
    131.0
    """
    from . import latency

    m = _as_matrix(rtt_ms)
    arr = m.to_numpy()
    intra = float(as_float_array("intra_region_rtt_ms", intra_region_rtt_ms, minimum=0.0))
    c = _index_of(m, client_region, "client_region")
    lh = _index_of(m, placement_.leaseholder, "leaseholder")
    commit = commit_latency_distribution(m, placement_.leaseholder, placement_.voters, fsync,
                                         link_jitter=link_jitter, intra_region_rtt_ms=intra)
    leg = intra + float(_link_ms(arr, c, lh, intra))
    j = _as_dist("link_jitter", link_jitter)
    if j is not None and c != lh:
        commit = latency.convolve(j, commit)
    return latency.shifted(commit, leg)


def placement_layouts(rtt_ms, leaseholder, regions=None) -> dict:
    """The three placements notebook 03 compares, with the lease in ``leaseholder``.

    ``"3 voters 1-1-1"``: the leaseholder's region and the 2 regions of ``regions`` nearest to
    it (:func:`spread_placement`); ``"REGION 5 voters 2-2-1"``: REGION survival over those same
    3 regions; ``"ZONE 3 voters"``: ZONE survival, all voters in the leaseholder's region.

    >>> m = load_rtt("crdb-demo-rtt-2019.csv")
    >>> [p.voters.count("us-east1") for p in placement_layouts(m, "us-east1").values()]
    [1, 2, 3]
    """
    m = _as_matrix(rtt_ms)
    spread = spread_placement(m, leaseholder, regions, non_voters_elsewhere=False)
    return {
        "3 voters 1-1-1": spread,
        "REGION 5 voters 2-2-1": survival_placement(m, spread.leaseholder, "region", list(spread.voters)),
        "ZONE 3 voters": survival_placement(m, spread.leaseholder, "zone", [spread.leaseholder]),
    }


def placement_table(rtt_ms, leaseholders=None, regions=None, fsync=0.0, *, link_jitter=None,
                    intra_region_rtt_ms=0.0) -> pd.DataFrame:
    """Write latency of the :func:`placement_layouts` with the lease in each region, on one table.

    One row per (leaseholder region, placement): the voters, the deterministic commit and write
    latency (:func:`commit_latency`, :func:`write_latency` with a constant ``fsync``'s median)
    and the write p50 / p99 from :func:`write_latency_distribution`, for a client in the
    leaseholder's region.

    Examples
    --------
    >>> m = load_rtt("crdb-demo-rtt-2019.csv")
    >>> t = placement_table(m, ["us-east1"], fsync=1.0)
    >>> print(t[["placement", "commit_ms", "write_p99_ms"]].to_string(index=False))
                placement  commit_ms  write_p99_ms
           3 voters 1-1-1       65.0          65.0
    REGION 5 voters 2-2-1       65.0          65.0
            ZONE 3 voters        1.0           1.0
    """
    m = _as_matrix(rtt_ms)
    leaders = list(m.index) if leaseholders is None else [m.index[_index_of(m, r, "leaseholders")] for r in leaseholders]
    f = _as_dist("fsync", fsync)
    f_ms = float(np.asarray(f.ppf(0.5)))
    rows = []
    for lh in leaders:
        for name, p in placement_layouts(m, lh, regions).items():
            d = write_latency_distribution(m, p, lh, f, link_jitter=link_jitter, intra_region_rtt_ms=intra_region_rtt_ms)
            rows.append({
                "leaseholder": lh, "placement": name, "voters": p.label(),
                "commit_ms": float(commit_latency(m, lh, p.voters, f_ms, intra_region_rtt_ms=intra_region_rtt_ms)),
                "write_det_ms": float(write_latency(m, p, lh, f_ms, intra_region_rtt_ms=intra_region_rtt_ms)),
                "write_p50_ms": float(d.ppf(0.5)), "write_p99_ms": float(d.ppf(0.99)),
            })
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------
# Region failure
# --------------------------------------------------------------------------------------------


def _failed_set(failed_regions, rtt_ms=None) -> set:
    if failed_regions is None:
        return set()
    if isinstance(failed_regions, (str, int, np.integer)):
        failed_regions = [failed_regions]
    failed = list(failed_regions)
    if rtt_ms is not None:
        m = _as_matrix(rtt_ms)
        failed = [m.index[_index_of(m, r, "failed_regions")] for r in failed]
    return set(failed)


def survives(placement_: Placement, failed_regions, *, rtt_ms=None) -> bool:
    """Whether the group keeps a quorum when whole regions fail.

    .. math:: \\#\\{\\text{voters outside the failed regions}\\} \\ge q = \\lfloor n/2 \\rfloor + 1

    Non-voters do not count.  With ``rtt_ms`` the failed region names are validated.

    Examples
    --------
    >>> m = load_rtt("crdb-demo-rtt-2019.csv")
    >>> survives(spread_placement(m, "us-east1"), "us-east1")
    True
    >>> survives(survival_placement(m, "us-east1", "zone"), ["us-east1"])
    False
    >>> survives(spread_placement(m, "us-east1"), ["us-east1", "us-west1"])
    False
    """
    failed = _failed_set(failed_regions, rtt_ms)
    alive = sum(1 for v in placement_.voters if v not in failed)
    return alive >= placement_.quorum


@dataclass(frozen=True)
class Failover(Result):
    """What a region failure does to a Raft group (ms).

    ``new_leaseholder`` is ``None`` when no quorum survives (the range is unavailable until the
    region returns: ``unavailable_ms = inf``).
    """

    failed_regions: tuple
    survives: bool
    leaseholder_lost: bool
    new_leaseholder: object
    commit_before_ms: float
    commit_after_ms: float
    write_before_ms: float
    write_after_ms: float
    unavailable_ms: float


def failover(rtt_ms, placement_: Placement, failed_regions, *, client_regions=None, fsync_ms=0.0,
             intra_region_rtt_ms=0.0, election_timeout_ms=1000.0, lease_expiry_ms=6000.0) -> Failover:
    """Survival, post-failover write latency and the unavailability window of a region failure.

    If a quorum of voters survives and the leaseholder's region failed, a surviving voter is
    elected (after the election timeout) and takes the lease (after the old lease expires):

    .. math:: \\text{unavailable} = t_{\\text{election}} + t_{\\text{lease}}

    (0 when the leaseholder survives; ``inf`` without a quorum).  The new leaseholder is the
    surviving voter region with the lowest mean write latency over the surviving
    ``client_regions`` (as lease preferences would be set).  After the failure the group still
    has ``n`` voters and the same quorum; the failed voters never ack, so

    .. math:: C' = \\max\\bigl(F, (\\mathrm{RTT}_{L',f} + F)_{(q-1)}\\bigr)
              \\text{ over surviving followers } f.

    Defaults: ``election_timeout_ms`` 1000 (etcd's default, etcd-Tuning in docs/references.rst) and
    ``lease_expiry_ms`` 6000 (*assumed*; CockroachDB's lease duration is not in the sources).

    Examples
    --------
    >>> m = load_rtt("crdb-demo-rtt-2019.csv")
    >>> f = failover(m, spread_placement(m, "us-east1"), "us-east1")
    >>> f.survives, f.new_leaseholder, f.commit_after_ms, f.unavailable_ms
    (True, 'europe-west1', 146.0, 7000.0)
    """
    m = _as_matrix(rtt_ms)
    failed = _failed_set(failed_regions, m)
    intra = float(as_float_array("intra_region_rtt_ms", intra_region_rtt_ms, minimum=0.0))
    election = float(as_float_array("election_timeout_ms", election_timeout_ms, minimum=0.0))
    lease = float(as_float_array("lease_expiry_ms", lease_expiry_ms, minimum=0.0))
    fsync = float(as_float_array("fsync_ms", fsync_ms, minimum=0.0))
    clients = list(placement_.replica_regions) if client_regions is None else [
        m.index[_index_of(m, r, "client_regions")] for r in client_regions]
    alive_clients = [c for c in clients if c not in failed] or [r for r in m.index if r not in failed]

    def mean_write(p):
        return float(np.mean([write_latency(m, p, c, fsync, intra_region_rtt_ms=intra) for c in alive_clients]))

    commit_before = float(commit_latency(m, placement_.leaseholder, placement_.voters, fsync, intra_region_rtt_ms=intra))
    write_before = mean_write(placement_)
    lost = placement_.leaseholder in failed
    ok = survives(placement_, failed)
    if not ok:
        return Failover(tuple(sorted(map(str, failed))), False, lost, None, commit_before, np.inf, write_before,
                        np.inf, np.inf)
    alive_voters = tuple(v for v in placement_.voters if v not in failed)
    q = placement_.quorum
    best = None
    for cand in dict.fromkeys(alive_voters):
        if not lost and cand != placement_.leaseholder:
            continue
        commit = float(commit_latency(m, cand, alive_voters, fsync, intra_region_rtt_ms=intra, quorum=q))
        # write latency with the quorum of the original group
        writes = [float(intra + _link_ms(m.to_numpy(), _index_of(m, c, "client"), _index_of(m, cand, "lh"), intra))
                  + commit for c in alive_clients]
        score = float(np.mean(writes))
        if best is None or score < best[0]:
            best = (score, cand, commit)
    unavailable = election + lease if lost else 0.0
    return Failover(tuple(sorted(map(str, failed))), True, lost, best[1], commit_before, best[2], write_before,
                    best[0], unavailable)


def failure_table(rtt_ms, placement_: Placement, **kwargs) -> pd.DataFrame:
    """:func:`failover` for the failure of each region holding a replica, one row each."""
    rows = []
    for region in placement_.replica_regions:
        f = failover(rtt_ms, placement_, region, **kwargs)
        rows.append({"placement": placement_.label(), "failed_region": region, "survives": f.survives,
                     "leaseholder_lost": f.leaseholder_lost, "new_leaseholder": f.new_leaseholder,
                     "commit_after_ms": f.commit_after_ms, "write_before_ms": f.write_before_ms,
                     "write_after_ms": f.write_after_ms, "unavailable_ms": f.unavailable_ms})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------
# Choosing a topology for a workload
# --------------------------------------------------------------------------------------------


def rank_topologies(rtt_ms, client_shares: Mapping, home_region, *, read_fraction=0.9, staleness_tolerance_s=10.0,
                    fsync_ms=1.0, intra_region_rtt_ms=1.0, version: str = "v23.1") -> pd.DataFrame:
    """Rank ways to serve a table for a workload by mean and p99 operation latency (ms).

    The "when to use" of CRDB-FollowerReadsTopology as numbers.  Options (deployment regions = those with a client
    share, plus ``home_region``):

    * ``leaseholder reads``: 3 voters 1-1-1 (home + 2 nearest), non-voters elsewhere, strong reads
      at the leaseholder;
    * ``follower reads``: same placement, exact-staleness reads at the nearest replica --
      eligible only if ``staleness_tolerance_s >= follower_read_timestamp_lag_s(version)``;
    * ``bounded staleness``: same placement, ``with_max_staleness(staleness_tolerance_s)``;
    * ``global table``: same placement, up-to-date local reads, commit-wait writes;
    * ``REGION survival``: 5 voters (2-2-1 / 2-1-1-1), strong reads (needs 3+ regions);
    * ``ZONE survival``: 3 voters in the home region, strong reads (does not survive the loss
      of the home region).

    Each client region ``c`` issues a share ``s_c`` of the operations, a fraction
    ``read_fraction`` of them reads.  The operation latency is a discrete mixture (bounded
    staleness reads add their local/redirected split), so

    .. math:: \\bar T = \\sum_c s_c\\,[\\rho\\,\\bar T^{r}_c + (1-\\rho)\\,T^{w}_c]

    and the p99 is the 0.99 quantile of the mixture.  Options are sorted eligible first, then
    by mean latency, then p99.  ``survives_region_failure`` says whether a quorum outlives the
    loss of any single region.

    Examples
    --------
    >>> m = load_rtt("crdb-demo-rtt-2019.csv")
    >>> shares = {"us-east1": 0.4, "us-west1": 0.3, "europe-west1": 0.3}
    >>> t = rank_topologies(m, shares, "us-east1", read_fraction=0.95, staleness_tolerance_s=10)
    >>> t["option"].iloc[0], bool(t["eligible"].iloc[0])
    ('follower reads', True)
    >>> t2 = rank_topologies(m, shares, "us-east1", read_fraction=0.99, staleness_tolerance_s=0)
    >>> t2["option"].iloc[0]
    'global table'
    """
    m = _as_matrix(rtt_ms)
    home = m.index[_index_of(m, home_region, "home_region")]
    regions, shares = [], []
    for region, share in client_shares.items():
        regions.append(m.index[_index_of(m, region, "client_shares")])
        shares.append(float(as_float_array(f"client_shares[{region!r}]", share, minimum=0.0)))
    shares = np.asarray(shares)
    if shares.sum() <= 0:
        raise ValueError(f"client_shares must have a positive total; got {dict(client_shares)}")
    shares = shares / shares.sum()
    rf = float(check_probability("read_fraction", read_fraction))
    tol = float(as_float_array("staleness_tolerance_s", staleness_tolerance_s, minimum=0.0))
    deploy = list(dict.fromkeys([home, *[r for r, s in zip(regions, shares) if s > 0]]))
    kw = dict(intra_region_rtt_ms=intra_region_rtt_ms)
    n_spread = min(3, len(deploy))
    spread = spread_placement(m, home, deploy, n_voters=n_spread)
    options = [
        ("leaseholder reads", spread, "leaseholder", False, True),
        ("follower reads", spread, "follower", False, tol >= follower_read_timestamp_lag_s(version)),
        ("bounded staleness", spread, "bounded", False, True),
        ("global table", spread, "global", True, True),
        ("ZONE survival", survival_placement(m, home, "zone", deploy), "leaseholder", False, True),
    ]
    if len(deploy) >= 3:
        options.append(("REGION survival", survival_placement(m, home, "region", deploy), "leaseholder", False, True))
    rows = []
    for name, plc, path, global_table, eligible in options:
        values, weights = [], []
        read_mean = write_mean = stale = 0.0
        for region, share in zip(regions, shares):
            rd = read_latency(m, plc, region, path, max_staleness_s=tol, version=version, **kw)
            wr = float(write_latency(m, plc, region, fsync_ms, global_table=global_table, **kw))
            p = float(rd.p_local)
            values += [float(rd.local_ms), float(rd.remote_ms), wr]
            weights += [share * rf * p, share * rf * (1 - p), share * (1 - rf)]
            read_mean += share * float(rd.mean_ms)
            write_mean += share * wr
            stale += share * float(rd.staleness_mean_s)
        ok_region = all(survives(plc, r) for r in plc.replica_regions)
        rows.append({
            "option": name, "placement": plc.label(), "eligible": bool(eligible),
            "mean_ms": rf * read_mean + (1 - rf) * write_mean,
            "p99_ms": float(weighted_quantile(values, weights, 0.99)),
            "read_mean_ms": read_mean, "write_mean_ms": write_mean, "staleness_mean_s": stale,
            "survives_region_failure": ok_region,
        })
    table = pd.DataFrame(rows)
    table = table.sort_values(["eligible", "mean_ms", "p99_ms"], ascending=[False, True, True], kind="stable")
    return table.reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Write load: the leader as a queue
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WriteLoad(Result):
    """Write latency under load (ms) with the leader as a single-server bulk queue.

    ``admin_utilization`` is the leader's (= leaseholder's) utilization, the load on the node
    that must see every write; ``stable`` is False at or beyond ``saturation_rate_per_s``.
    ``batching_wait_ms`` is the mean wait for a proposal's batch to fill, ``queue_wait_ms`` the
    mean wait of a full batch for the leader, ``service_ms`` the append time and ``commit_ms``
    the network commit (its mean if a distribution was given); ``mean_ms`` is their sum.
    ``p50_ms`` / ``p99_ms`` (and :meth:`quantile`) come from the exact latency distribution (with
    a commit distribution, from its convolution with it; see :func:`write_load`).
    ``method`` / ``max_rel_error`` per configuration: ``"exact"`` (0), or ``"exact: tabulated"``
    with the interpolation error measured over the table (:func:`followerlab._tabulate.write_numerics`).
    """

    rate_per_s: np.ndarray
    n_voters: np.ndarray
    batch: np.ndarray
    service_ms: np.ndarray
    admin_utilization: np.ndarray
    saturation_rate_per_s: np.ndarray
    batching_wait_ms: np.ndarray
    queue_wait_ms: np.ndarray
    mean_ms: np.ndarray
    p99_ms: np.ndarray
    stable: np.ndarray
    p50_ms: np.ndarray
    commit_ms: np.ndarray
    _commit_dist: object = field(default=None, repr=False, compare=False)
    method: np.ndarray = None  # type: ignore[assignment]
    max_rel_error: np.ndarray = None  # type: ignore[assignment]

    def mean(self) -> np.ndarray:
        """Mean write latency (ms): the ``mean_ms`` field."""
        return self.mean_ms

    def cdf(self, t_ms) -> np.ndarray:
        """P(write latency <= t_ms), the law :meth:`ppf` inverts (0 below ``service_ms + commit_ms``
        and wherever unstable).  Not available with a commit distribution (ValueError)."""
        t = as_float_array("t_ms", t_ms, allow_inf=True)
        if self._commit_dist is not None:
            raise ValueError("cdf is not available for a write_load with a commit distribution; "
                             "got commit_ms as a distribution")
        return _write_cdf_ms(self.rate_per_s, self.batch, self.service_ms, self.commit_ms, t)

    def sf(self, t_ms) -> np.ndarray:
        """P(write latency > t_ms) = 1 - cdf(t_ms)."""
        return 1.0 - self.cdf(t_ms)

    def quantile(self, q) -> np.ndarray:
        """Alias of :meth:`ppf` (same values)."""
        return self.ppf(q)

    def ppf(self, q) -> np.ndarray:
        """Write-latency quantile(s) in ms (see :func:`write_load`); ``inf`` if unstable.

        ``q`` is a probability in (0, 1), a scalar or an array broadcasting with the result
        (at most ``1 - 1e-5`` when the commit is a distribution).
        """
        qq = check_probability("q", q, open_left=True, open_right=True)
        if self._commit_dist is not None:
            if np.any(qq > 1 - 1e-5):
                raise ValueError(f"q must be <= 1 - 1e-5 with a commit distribution; got {qq.max()!r}")
            lam, b, S, qq = np.broadcast_arrays(self.rate_per_s, self.batch, self.service_ms, qq)
            _, quant = _write_numerics(lam.ravel(), b.ravel(), S.ravel(), qq.ravel().astype(float), per_row=True,
                                       commit_dist=self._commit_dist)
            return quant.reshape(lam.shape)
        return _write_quantile_ms(self.rate_per_s, self.batch, self.service_ms, self.commit_ms, qq)


#: Numerical tolerance of the write-load numerics: the probability mass the truncated
#: generating-function inversion may leave out (its FFT grid is sized from the tail decay rate).
WRITE_LOAD_TAIL_TOL = 1e-14
_BISECTION_STEPS = 48
_CHUNK_CELLS = 1 << 21  # configurations x grid points per block (memory bound, not a tolerance)


def _bulk_inner_roots(rho, b):
    """The ``b - 1`` roots :math:`z_k \\ne 1` of :math:`z^b = e^{b\\rho(z-1)}` in the unit disk.

    Root ``k`` is the unique fixed point in the disk of :math:`z = \\omega^k e^{\\rho(z-1)}`,
    :math:`\\omega = e^{2\\pi i/b}` (a contraction there with factor :math:`\\rho|z| < 1`;
    JanssenVanLeeuwaarden2005): successive substitution, then Newton's method to machine
    precision.  Returns ``(roots, active)`` of shape ``(m, max(b) - 1)`` (``active`` masks
    the padding for rows with a smaller ``b``).
    """
    k = np.arange(1, max(int(b.max()), 2))
    active = k[None, :] < b[:, None]
    omega = np.where(active, np.exp(2j * np.pi * k[None, :] / b[:, None]), 0.0)
    r = rho[:, None]
    z = np.zeros(omega.shape, complex)
    for _ in range(20_000):
        new = omega * np.exp(r * (z - 1.0))
        moved = np.max(np.abs(new - z), initial=0.0)
        z = new
        if moved < 1e-6:
            break
    for _ in range(60):
        e = omega * np.exp(r * (z - 1.0))
        step = (z - e) / (1.0 - r * e)
        z = z - step
        if np.max(np.abs(step), initial=0.0) < 1e-15:
            break
    bad = active & ~((np.abs(z) < 1.0) & (np.abs(z - omega * np.exp(r * (z - 1.0))) < 1e-10))
    if bad.any():  # not expected for rho < 1 (the map is a contraction in the disk); refuse, don't guess
        raise RuntimeError(f"bulk-service roots did not converge for rho={rho[bad.any(axis=1)][:3]!r}")
    return z, active


def _bulk_tail_exponent(a, b):
    """:math:`\\ln R`, R > 1 the real root of :math:`z^b = e^{a(z-1)}`: P(M > k) decays like R^-k."""
    lo = np.zeros_like(a)
    hi = 2.0 * (b / a - 1.0)  # a (e^y - 1) - b y > 0 beyond this point (e^y - 1 >= y + y^2/2)
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(100):
            mid = 0.5 * (lo + hi)
            below = a * np.expm1(mid) - b * mid < 0
            lo = np.where(below, mid, lo)
            hi = np.where(below, hi, mid)
    return 0.5 * (lo + hi)


class _BulkQueue:
    """Exact numerics of the M/D^(b,b)/1 leader for a block of stable configurations (1-D arrays).

    Holds the generating function of M (the supremum of the random walk with steps A - b,
    A ~ Poisson(a), a = λS) on the N-th roots of unity, N a power of two with
    P(M + A > N) < :data:`WRITE_LOAD_TAIL_TOL`.
    """

    def __init__(self, lam_ms, service_ms, b, n_grid):
        self.lam, self.S, self.b, self.N = lam_ms, service_ms, b, n_grid
        a = lam_ms * service_ms
        bf = b.astype(float)
        self.a = a
        roots, active = _bulk_inner_roots(a / bf, b)
        j = np.arange(n_grid // 2 + 1)
        z = np.exp(2j * np.pi * j / n_grid)[None, :]
        zb = np.exp(2j * np.pi * ((j[None, :] * b[:, None]) % n_grid) / n_grid)
        den = zb - np.exp(a[:, None] * (z - 1.0))
        gen = (bf - a)[:, None] * (z - 1.0) / np.where(j[None, :] == 0, 1.0, den)
        for k in range(roots.shape[1]):
            zk = roots[:, k:k + 1]
            gen = gen * np.where(active[:, k:k + 1], (z - zk) / (1.0 - zk), 1.0)
        gen[:, 0] = 1.0
        self.z, self.gen = z, gen
        self._log_fact = special.gammaln(np.arange(1, int(b.max()) + 1))[None, :]  # log k!, k = 0..

    def pmf(self, other=1.0):
        """Probabilities of M + Y (0 .. N-1), Y independent with generating function ``other``."""
        return np.fft.irfft(np.conj(self.gen * other), self.N, axis=1)

    def mean_queue_wait(self):
        """E[W_q] = S E[floor((M + V) / b)], P(V = n) = P(A > n) / a."""
        a, z = self.a[:, None], self.z
        with np.errstate(invalid="ignore", divide="ignore"):
            v = np.where(z == 1.0, 1.0, -np.expm1(a * (z - 1.0)) / (a * (1.0 - z)))
        p = self.pmf(v)
        return self.S * (p * (np.arange(self.N)[None, :] // self.b[:, None])).sum(axis=1)

    def cdf_u(self, u):
        """P(T - S - commit <= u) for a proposal at a uniform position of its batch.

        ``u`` has shape (rows,) or (rows, k) (k points per configuration).
        """
        u = np.asarray(u, dtype=float)
        flat = u.ndim == 1
        u = u[:, None] if flat else u
        S, b, lam = self.S[:, None], self.b[:, None], self.lam[:, None]
        m0 = np.floor(u / S) + 1.0
        tau = m0 * S - u  # (rows, k)
        gen = self.gen[:, None, :] * np.exp((lam * tau)[:, :, None] * (self.z[:, None, :] - 1.0))
        cdf = np.cumsum(np.fft.irfft(np.conj(gen), self.N, axis=2), axis=2)  # (rows, k, N)
        i = np.arange(1, int(self.b.max()) + 1)[None, None, :]
        bb = b[:, :, None]
        c = ((m0 - 1.0)[:, :, None] * bb + i - 1).astype(np.int64)
        g = np.take_along_axis(cdf, np.minimum(c, self.N - 1), axis=2)
        g = np.where(c >= self.N, 1.0, np.clip(g, 0.0, 1.0))
        # batch fill: P(Erlang(b - i, lam) <= u) = P(Poisson(lam u) >= b - i)
        x = (lam * u)[:, :, None]
        k = i - 1  # 0 .. max(b) - 1
        with np.errstate(divide="ignore", invalid="ignore"):
            log_pois = np.where(k > 0, k * np.log(x), 0.0) - x - self._log_fact[:, None, :]
        cum = np.cumsum(np.exp(log_pois), axis=2)  # column k: P(Poisson(lam u) <= k)
        left = bb - i
        erl = 1.0 - np.take_along_axis(cum, np.clip(left - 1, 0, None), axis=2)
        fill = np.where(left <= 0, 1.0, np.clip(erl, 0.0, 1.0))
        out = np.where(left >= 0, fill * g, 0.0).sum(axis=2) / bb[:, :, 0]
        return out[:, 0] if flat else out

    def quantile_u(self, q, mean_u):
        lo = np.zeros_like(mean_u)
        hi = mean_u / (1.0 - q) * (1.0 + 1e-9) + 1e-12  # Markov: P(U >= hi) <= 1 - q
        for _ in range(_BISECTION_STEPS):
            mid = 0.5 * (lo + hi)
            ok = self.cdf_u(mid) >= q
            hi = np.where(ok, mid, hi)
            lo = np.where(ok, lo, mid)
        return hi


_COMMIT_GRID = 2048  # cells of the U grid for the convolution with a commit distribution
_U_GRID_TOP = 1e-7  # P(U > top of the grid)


def _quantile_with_commit(bq, mean_u, dist, qs):
    """Quantiles of S + U + C (C ~ ``dist`` independent of U) by a Stieltjes sum over a U grid.

    F_T(t) = F_U(0) F_C(t - S) + sum_k [F_U(u_k) - F_U(u_{k-1})] F_C(t - S - (u_{k-1} + u_k)/2),
    u_k = k h on [0, u_top], P(U > u_top) = 1e-7; bisection on t between S + Q_C(q) and
    S + u_top + Q_C(1 - (1 - q)/2).  ``qs``: (rows, k) probabilities; returns (rows, k).
    """
    top = bq.quantile_u(1 - _U_GRID_TOP, mean_u)
    grid = np.linspace(0.0, 1.0, _COMMIT_GRID + 1)
    cdf = np.empty((top.size, grid.size))
    step = max(1, _CHUNK_CELLS // (bq.N * top.size))
    for k in range(0, grid.size, step):  # blocks of grid points (memory), vectorized within
        cdf[:, k:k + step] = bq.cdf_u(top[:, None] * grid[None, k:k + step])
    mass = np.diff(cdf, axis=1)
    mid = top[:, None] * 0.5 * (grid[1:] + grid[:-1])[None, :]

    def f_c(x):
        return np.asarray(dist.cdf(x), dtype=float)

    qs = np.asarray(qs, dtype=float).reshape(top.size, -1)  # (rows, number of probabilities)
    S = bq.S[:, None]
    lo = S + np.asarray(dist.ppf(qs), dtype=float)
    hi = S + top[:, None] + np.asarray(dist.ppf(1 - (1 - qs) / 2), dtype=float)
    for _ in range(_BISECTION_STEPS):
        t = 0.5 * (lo + hi)
        x = (t - S)[:, :, None]
        ft = cdf[:, :1] * f_c(x[:, :, 0]) + (mass[:, None, :] * f_c(x - mid[:, None, :])).sum(axis=2)
        ok = ft >= qs
        hi = np.where(ok, t, hi)
        lo = np.where(ok, lo, t)
    return hi


def _write_numerics(rate_per_s, batch, service_ms, qs, per_row=False, commit_dist=None):
    """Mean queue wait and quantiles of T - commit (ms), flat arrays; unstable rows inf.

    ``qs`` is a 1-D array of probabilities (result ``(rows, len(qs))``), or with ``per_row`` one
    probability per row (result ``(rows,)``).  With ``commit_dist`` the quantiles are of
    S + U + C (the commit included), otherwise of S + U.
    """
    lam = np.asarray(rate_per_s, float) / 1000.0
    b = np.asarray(batch).astype(np.int64)
    S = np.asarray(service_ms, float)
    qs = np.asarray(qs, float)
    m = lam.size
    wait = np.full(m, np.inf)
    quant = np.full((m,) if per_row else (m, qs.size), np.inf)
    a = lam * S
    stable = a < b
    idx = np.flatnonzero(stable)
    if idx.size == 0:
        return wait, quant
    for sel, n_grid in _bulk_blocks(a, b, idx):
        bq = _BulkQueue(lam[sel], S[sel], b[sel], n_grid)
        wait[sel] = bq.mean_queue_wait()
        mean_u = (b[sel] - 1) / (2.0 * lam[sel]) + wait[sel]
        if commit_dist is not None:
            if per_row:
                quant[sel] = _quantile_with_commit(bq, mean_u, commit_dist, qs[sel])[:, 0]
            else:
                quant[sel] = _quantile_with_commit(bq, mean_u, commit_dist, np.tile(qs, (sel.size, 1)))
        elif per_row:
            quant[sel] = S[sel] + bq.quantile_u(qs[sel], mean_u)
        else:
            for j, q in enumerate(qs):
                quant[sel, j] = S[sel] + bq.quantile_u(q, mean_u)
    return wait, quant


def _bulk_blocks(a, b, idx):
    """Blocks ``(rows, grid size)`` of the configurations ``idx``: one lattice size per block
    (long enough for the tail, :data:`WRITE_LOAD_TAIL_TOL`), at most ``_CHUNK_CELLS`` cells each
    to bound memory (a loop over blocks, not over configurations)."""
    af, bf = a[idx], b[idx].astype(float)
    need = -np.log(WRITE_LOAD_TAIL_TOL) * 1.05 / _bulk_tail_exponent(af, bf) + af + 12 * np.sqrt(af) + 40 + bf
    grid = 2 ** np.ceil(np.log2(np.maximum(need, 64.0))).astype(np.int64)
    for n_grid in np.unique(grid):
        rows = idx[grid == n_grid]
        step = max(1, _CHUNK_CELLS // int(n_grid))
        for start in range(0, rows.size, step):
            yield rows[start:start + step], int(n_grid)


def _write_cdf_ms(rate_per_s, batch, service_ms, commit_ms, t_ms):
    """P(T <= t) (ms) for a constant commit, broadcast; the same grids as :func:`_write_numerics`."""
    lam_s, b, S, commit, t = np.broadcast_arrays(rate_per_s, batch, service_ms, commit_ms, t_ms)
    shape = t.shape
    lam, b, S, u = lam_s.ravel() / 1000.0, b.ravel().astype(np.int64), S.ravel(), (t - S - commit).ravel()
    out = np.where(np.isposinf(u), 1.0, 0.0)
    a = lam * S
    idx = np.flatnonzero((a < b) & np.isfinite(u) & (u >= 0))
    for sel, n_grid in _bulk_blocks(a, b, idx):
        out[sel] = _BulkQueue(lam[sel], S[sel], b[sel], n_grid).cdf_u(u[sel])
    return np.clip(out, 0.0, 1.0).reshape(shape)


def _write_quantile_ms(rate_per_s, batch, service_ms, commit_ms, q):
    lam, b, S, commit, q = np.broadcast_arrays(rate_per_s, batch, service_ms, commit_ms, q)
    _, quant = _write_numerics(lam.ravel(), b.ravel(), S.ravel(), q.ravel().astype(float), per_row=True)
    return quant.reshape(lam.shape) + commit


def write_load(rate_per_s, n_voters=3, commit_ms=0.0, *, batch=1, per_append_ms=1.0, per_follower_ms=0.1,
               per_proposal_ms=0.05, service_cv=0.0, method="exact") -> WriteLoad:
    """Latency vs write throughput up to saturation, with proposals batched into appends.

    **Model.**  Proposals arrive at the leader as a Poisson stream of rate λ.  Every ``b``
    consecutive proposals form one append (a batch is sent when its ``b``-th proposal arrives;
    no timeout), and the leader handles appends one at a time, first come first served.  An
    append keeps it busy for the constant time

    .. math:: S = a + (n - 1)\\,f + b\\,p

    (``per_append_ms`` a: WAL write + fsync; ``per_follower_ms`` f: one MsgApp out and one ack
    in per follower; ``per_proposal_ms`` p: per-entry work; all three *assumed* illustration
    values, not measurements).  Each proposal of the append then completes ``commit_ms`` later
    (the network round of :func:`commit_latency`, a constant, taken as sequential and not
    blocking the leader).  This is a bulk-service queue, M/D^(b,b)/1: service starts when
    ``b`` proposals wait and takes exactly ``b``; the number left behind at departures follows
    Bailey's bulk-service chain :math:`N' = \\max(N - b, 0) + A` (Bailey1954).  Utilization and
    saturation:

    .. math:: \\rho = \\frac{\\lambda S}{b}, \\qquad \\lambda^* = \\frac{b}{S}.

    **Latency.**  Batches complete at :math:`C_j = \\max(R_j, C_{j-1}) + S` (:math:`R_j` the
    arrival of the ``b``-th proposal of batch ``j``), so :math:`C_j = \\max_{k \\le j}(R_k +
    (j - k + 1) S)`.  A proposal at position ``i`` of its batch has latency
    :math:`T = S + U + \\text{commit}` with :math:`U \\le u` iff (i) the ``b - i`` later
    proposals of its batch arrive within ``u`` (Erlang(b - i, λ), the batch-fill time) and
    (ii) looking back from its arrival, the Poisson count :math:`N(t)` satisfies
    :math:`N(mS - u) \\le (m-1)b + i - 1` for every ``m`` with :math:`mS > u`.  The two are
    independent; with :math:`m_0 = \\lfloor u/S \\rfloor + 1`, :math:`\\tau = m_0 S - u` and
    :math:`A \\sim \\text{Poisson}(\\lambda S)`, (ii) is a random walk with steps
    :math:`A - b` staying below a level, so

    .. math::

        P(U \\le u) = \\frac1b \\sum_{i=1}^{b} P(\\text{Erl}_{b-i,\\lambda} \\le u)\\;
        P\\big(\\text{Poisson}(\\lambda\\tau) + M \\le (m_0 - 1)b + i - 1\\big),
        \\qquad M = \\sup_{r \\ge 0} \\sum_{l=1}^{r} (A_l - b),

    an exact mixture over the position in the batch (no mean added to a quantile).  ``M`` is
    the stationary law of Bailey's chain :math:`X' = \\max(X + A - b, 0)`, with generating
    function

    .. math::

        E z^M = \\frac{(b - \\lambda S)(z - 1)}{z^b - e^{\\lambda S (z - 1)}}
        \\prod_{k=1}^{b-1} \\frac{z - z_k}{1 - z_k},

    :math:`z_k` the roots of :math:`z^b = e^{\\lambda S(z-1)}` inside the unit disk
    (JanssenVanLeeuwaarden2005 for computing them).  It is inverted by an FFT on the unit circle
    with the grid sized so that the neglected tail mass is below ``WRITE_LOAD_TAIL_TOL`` (1e-14);
    quantiles are found by bisection to a relative width 2^-48 of the bracket.  The mean wait of a
    full batch for the leader (``queue_wait_ms``) is exact too:
    :math:`E W_q = S\\,E\\lfloor (M + V)/b \\rfloor` with :math:`P(V = n) = P(A > n)/(\\lambda S)`;
    ``mean_ms`` = ``batching_wait_ms`` :math:`(b - 1)/(2\\lambda)` + ``queue_wait_ms`` + ``S``
    + ``commit_ms``.  For ``b = 1`` this is the M/D/1 queue (Erlang's waiting-time law).

    A constant commit shifts the quantiles.  A commit *distribution* C is convolved with U:
    :math:`F_T(t) = \\int F_C(t - S - u)\\,dF_U(u)`, a Stieltjes sum over 2048 cells of
    :math:`[0, u_{top}]` (:math:`P(U > u_{top}) = 10^{-7}`, midpoints), then bisection on t.
    Its discretization error is at most half a cell in t; measured against the exact shift
    with a point-mass commit it is < 0.1 % of p50/p99 (tests require 1e-3).

    **Accuracy.**  Exact for this model up to the numerical tolerance above (no approximation
    step).  Measured: against Erlang's closed-form M/D/1 law (``b = 1``, 60-digit arithmetic)
    the CDF at the computed p50/p90/p99 is off by < 1e-14 (tests require 1e-9); against
    :func:`followerlab.sim.raft.simulate_write_load` over batch 1-64, ρ 0.1-0.9, commit
    1-150 ms (``benchmarks/accuracy_raft.py``, 4e6 proposals per point) the worst relative
    differences are 0.1 % (ρ <= 0.5) and 2.2 % (p99, ρ = 0.9, batch 1) for p50/p99/mean and
    0.4 % / 2.2 % for the queue wait, all within 3 standard errors of the simulation (the
    sampling error of a simulated p99 at ρ = 0.9 is ~1.4 %); ``tests/test_raft_write_load.py``
    checks a coarse version of that grid (4 SE and 5 %), and the commit-distribution path
    against the simulation with a gamma-jittered commit (p50/p90/p99 within 4 SE).

    Parameters
    ----------
    rate_per_s : float or array
        Proposal (write) rate at the leader, > 0.
    n_voters : int or array
        Voters in the group (>= 1).
    commit_ms : float, array or distribution
        Network commit time added to every proposal (>= 0): a number (array) of ms, or one
        latency distribution with ``cdf``, ``ppf`` and ``mean`` (e.g.
        :func:`commit_latency_distribution` with jitter) shared by all configurations, drawn
        independently of the leader's queue.  ``WriteLoad.commit_ms`` is then its mean.
    batch : int or array
        Proposals per append, ``b`` >= 1.
    per_append_ms, per_follower_ms, per_proposal_ms : float or array
        Service-time components (>= 0, not all 0).
    service_cv : float
        Must be 0 (constant append time), the only case the exact method covers; a non-zero
        value raises ``ValueError`` (it used to select a Kingman approximation, off by up to 2x).
    method : {"exact", "tabulated"}
        ``"exact"`` (default): the numerics above, once per distinct (rate, batch, service).
        ``"tabulated"`` (for large sweeps, constant commit): p50, p99 and ``queue_wait_ms``
        interpolated from a table of the same exact law where it is trusted (b <= 64,
        1e-4 <= ρ <= 0.995, cells within 1e-4; measured worst error in ``max_rel_error``),
        exact elsewhere; see :func:`followerlab._tabulate.write_numerics`.

    Returns
    -------
    WriteLoad
        Arrays broadcast over all inputs; unstable rows (ρ >= 1) have ``inf`` waits and
        quantiles and ``stable`` False.

    Notes
    -----
    Vectorized: every argument broadcasts; the work runs in blocks of configurations with
    similar FFT grids (a Python loop over blocks and over the ``b - 1`` roots, not over
    configurations).  The grid grows like 1/(1 - ρ) near saturation.  Speed (issue 13):
    the exact numerics run once per distinct (rate, batch, service); with ``method="tabulated"``
    and a constant commit, p50, p99 and ``queue_wait_ms`` come from a table of this exact law
    where it is trusted (``method`` / ``max_rel_error`` of the result say where, and the
    interpolation error measured there).  :meth:`WriteLoad.ppf` and :meth:`WriteLoad.cdf`
    always use the exact numerics.

    References
    ----------
    Bailey1954, JanssenVanLeeuwaarden2005 and Kleinrock1975 (M/D/1) in docs/references.rst.

    Examples
    --------
    >>> w = write_load([100.0, 400.0], n_voters=[[3], [5]], commit_ms=64.0)
    >>> w.saturation_rate_per_s.round(1)
    array([[800. , 800. ],
           [689.7, 689.7]])
    >>> w.admin_utilization.round(3)
    array([[0.125, 0.5  ],
           [0.145, 0.58 ]])
    >>> w.queue_wait_ms.round(4)     # M/D/1: rho S / (2 (1 - rho))
    array([[0.0893, 0.625 ],
           [0.123 , 1.0012]])

    Batching at 2000 writes/s with a 2 ms (ZONE) commit: bigger batches unload the leader but
    wait longer to fill, and the p99 is far from "mean fill + a quantile":

    >>> b = write_load(2000.0, 3, 2.0, batch=[4, 16, 64])
    >>> b.admin_utilization.round(3), b.batching_wait_ms.round(2), b.queue_wait_ms.round(3)
    (array([0.7  , 0.25 , 0.138]), array([ 0.75,  3.75, 15.75]), array([0.266, 0.   , 0.   ]))
    >>> b.p50_ms.round(2), b.p99_ms.round(2)
    (array([ 4.32,  7.5 , 21.9 ]), array([ 7.  , 14.52, 42.2 ]))
    """
    lam = as_float_array("rate_per_s", rate_per_s, minimum=0.0, strict_minimum=True)
    n = as_int_array("n_voters", n_voters, minimum=1)
    b = as_int_array("batch", batch, minimum=1)
    commit_dist = None
    if hasattr(commit_ms, "cdf"):
        commit_dist = _as_dist("commit_ms", commit_ms)
        if not hasattr(commit_dist, "ppf"):
            raise ValueError(f"commit_ms must be a number or a distribution with cdf, ppf and mean; got {commit_ms!r}")
        commit_mean = np.asarray(commit_dist.mean(), dtype=float)
        if commit_mean.ndim or not np.isfinite(commit_mean) or commit_mean < 0:
            raise ValueError(f"commit_ms must be one distribution with a finite mean >= 0; got mean {commit_mean!r}")
        commit_ms = float(commit_mean)
    commit = as_float_array("commit_ms", commit_ms, minimum=0.0)
    a = as_float_array("per_append_ms", per_append_ms, minimum=0.0)
    f = as_float_array("per_follower_ms", per_follower_ms, minimum=0.0)
    p = as_float_array("per_proposal_ms", per_proposal_ms, minimum=0.0)
    cs = as_float_array("service_cv", service_cv, minimum=0.0)
    if np.any(cs != 0):
        raise ValueError(f"service_cv must be 0 (constant append time, the case computed exactly); got {cs.max()!r}")
    service = a + (n - 1) * f + b * p
    if np.any(service <= 0):
        raise ValueError("per_append_ms, per_follower_ms and per_proposal_ms must not all be 0 (no service time)")
    lam, n, b, commit, service = np.broadcast_arrays(lam, n, b, commit, service)
    service = service.astype(float)
    rho = lam * service / 1000.0 / b
    stable = rho < 1.0
    fill = (b - 1) / (2 * lam) * 1000.0
    method = check_choice("method", method, ["exact", "tabulated"])
    if commit_dist is None and method == "tabulated":  # issue 13: the tabulated exact law (b <= 64)
        wait, quant, method, max_err = _tabulate.write_numerics(_write_numerics, lam.ravel(), b.ravel(), service.ravel())
    else:  # exact, once per distinct (rate, batch, service)
        wait, quant = _tabulate.solve_unique(_write_numerics, lam.ravel(), b.ravel(), service.ravel(),
                                             qs=np.array([0.5, 0.99]), commit_dist=commit_dist)
        method, max_err = np.full(lam.size, _tabulate.EXACT), np.zeros(lam.size)
    wait = np.maximum(wait.reshape(lam.shape), 0.0)  # FFT round-off can leave -1e-13 for "no wait"
    shift = 0.0 if commit_dist is not None else commit
    p50 = quant[:, 0].reshape(lam.shape) + shift
    p99 = quant[:, 1].reshape(lam.shape) + shift
    mean = np.where(stable, fill + wait + service + commit, np.inf)
    return WriteLoad(lam.copy(), n.copy(), b.copy(), service, rho, 1000.0 * b / service, fill,
                     wait, mean, p99, stable, p50, commit.astype(float).copy(), commit_dist,
                     method=method.reshape(lam.shape), max_rel_error=max_err.reshape(lam.shape))
