"""Topology of a Raft group: RTT matrices, placements, quorums and survival goals.

An RTT matrix (ms, rows = sources) is validated by :func:`rtt_matrix` (or read by
:func:`load_rtt`); a :class:`Placement` says which region holds each voter, non-voter and the
lease.  :func:`spread_placement` and :func:`survival_placement` build the layouts of
CRDB-FollowerReadsTopology and CRDB-SurvivalGoals (docs/references.rst).

>>> m = load_rtt("crdb-demo-rtt-2019.csv")
>>> spread_placement(m, "us-east1").label()
'3 voters 1-1-1, lease us-east1'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .._data import data_path
from .._results import Result
from .._validate import as_float_array, as_int_array, check_choice

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
