"""Placements of a Raft group: which region holds each voter, non-voter and the lease.

A :class:`Placement` names the region of every replica; :func:`placement` validates one,
:func:`spread_placement` and :func:`survival_placement` build the layouts of
CRDB-FollowerReadsTopology and CRDB-SurvivalGoals, and :func:`replica_counts` /
:func:`quorum_size` give the counts behind them (docs/references.rst).

>>> from followerlab.raft import load_rtt
>>> m = load_rtt("crdb-demo-rtt-2019.csv")
>>> spread_placement(m, "us-east1").label()
'3 voters 1-1-1, lease us-east1'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._results import Result
from .._validate import as_int, as_int_array, check_choice, check_instance, check_names
from .topology import _as_matrix, _index_of


# --------------------------------------------------------------------------------------------
# Placements and survival goals
# --------------------------------------------------------------------------------------------


def quorum_size(n_voters):
    """Raft majority quorum ``q = floor(n/2) + 1`` (vectorized).

    References
    ----------
    Ongaro2014 (docs/references.rst).

    Examples
    --------
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

    Source: CRDB-RegionUtil (CockroachDB ``pkg/sql/region_util.go``, ``getNumVotersAndNumReplicas`` and
    ``maxFailuresBeforeUnavailability``) and CRDB-SurvivalGoals (docs/references.rst).

    Parameters
    ----------
    goal : {"zone", "region"}
    n_regions : int or array of int
        Number of regions in the database (>= 1; >= 3 for ``"region"``).

    Returns
    -------
    (num_voters, num_replicas) : tuple of int arrays

    References
    ----------
    CRDB-SurvivalGoals, CRDB-RegionUtil (docs/references.rst).

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

    References
    ----------
    CRDB-FollowerReadsTopology, CRDB-SurvivalGoals (docs/references.rst).
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
    if isinstance(spec, (str, bytes)) or not hasattr(spec, "__iter__"):
        raise ValueError(f"{name} must be a mapping region -> count or a sequence of regions; got {spec!r}")
    return tuple(spec)


def _check_placement(placement_) -> "Placement":
    """``placement_`` if it is a :class:`Placement`; else an InputTypeError naming the parameter."""
    return check_instance("placement", placement_, Placement,
                          "a Placement (from placement, spread_placement or survival_placement)")


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

    References
    ----------
    CRDB-FollowerReadsTopology, CRDB-SurvivalGoals (docs/references.rst).

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

    References
    ----------
    CRDB-FollowerReadsTopology (docs/references.rst).

    Examples
    --------
    >>> from followerlab.raft import load_rtt
    >>> m = load_rtt("crdb-demo-rtt-2019.csv")
    >>> spread_placement(m, "us-west1").voters
    ('us-west1', 'us-east1', 'europe-west1')
    """
    m = _as_matrix(rtt_ms)
    regions = list(m.index) if regions is None else [m.index[_index_of(m, r, "regions")]
                                                     for r in check_names("regions", regions)]
    k = as_int("n_voters", n_voters, minimum=1)
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

    References
    ----------
    CRDB-SurvivalGoals, CRDB-RegionUtil (docs/references.rst).

    Examples
    --------
    >>> from followerlab.raft import load_rtt
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
    regions = list(m.index) if regions is None else [m.index[_index_of(m, r, "regions")]
                                                     for r in check_names("regions", regions)]
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
