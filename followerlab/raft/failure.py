"""Region failure: does a quorum survive, who takes the lease, what writes cost afterwards.

Sources: Ongaro2014, etcd-Tuning, CRDB-SurvivalGoals (docs/references.rst).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._results import Result
from .._validate import as_float, as_float_array, check_names
from .placements import Placement, _check_placement, _expand
from .topology import _as_matrix, _as_topology, _index_of
from .write import commit_latency, write_latency

# --------------------------------------------------------------------------------------------
# Region failure
# --------------------------------------------------------------------------------------------


def _failed_set(failed_regions, rtt_ms=None) -> set:
    if failed_regions is None:
        return set()
    if isinstance(failed_regions, (str, int, np.integer)):
        failed_regions = [failed_regions]
    failed = list(_expand(failed_regions, "failed_regions"))
    if rtt_ms is not None:
        m = _as_matrix(rtt_ms)
        failed = [m.index[_index_of(m, r, "failed_regions")] for r in failed]
    return set(failed)


def survives(placement_: Placement, failed_regions, *, rtt_ms=None) -> bool:
    """Whether the group keeps a quorum when whole regions fail.

    .. math:: \\#\\{\\text{voters outside the failed regions}\\} \\ge q = \\lfloor n/2 \\rfloor + 1

    Non-voters do not count.  With ``rtt_ms`` the failed region names are validated.

    References
    ----------
    Ongaro2014 (majority quorum), CRDB-SurvivalGoals (docs/references.rst).

    Examples
    --------
    >>> from followerlab.raft import load_rtt, spread_placement, survival_placement
    >>> m = load_rtt("crdb-demo-rtt-2019.csv")
    >>> survives(spread_placement(m, "us-east1"), "us-east1")
    True
    >>> survives(survival_placement(m, "us-east1", "zone"), ["us-east1"])
    False
    >>> survives(spread_placement(m, "us-east1"), ["us-east1", "us-west1"])
    False
    """
    failed = _failed_set(failed_regions, rtt_ms)
    placement_ = _check_placement(placement_)
    alive = sum(1 for v in placement_.voters if v not in failed)
    return alive >= placement_.quorum


@dataclass(frozen=True)
class Failover(Result):
    """What a region failure does to a Raft group (ms).

    ``new_leaseholder`` is ``None`` when no quorum survives (the range is unavailable until the
    region returns: ``unavailable_ms = inf``).

    References
    ----------
    Ongaro2014, etcd-Tuning, CRDB-SurvivalGoals (docs/references.rst).
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
             intra_region_rtt_ms=None, election_timeout_ms=1000.0, lease_expiry_ms=6000.0) -> Failover:
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

    Write latencies are :func:`write_latency` (after the failure with the live voters and the
    original quorum ``q``), averaged over the live clients.  Defaults: ``election_timeout_ms``
    1000 (etcd's default, etcd-Tuning in docs/references.rst) and ``lease_expiry_ms`` 6000
    (*assumed*; CockroachDB's lease duration is not in the sources); ``intra_region_rtt_ms``
    the :class:`Topology`'s, else 0.

    References
    ----------
    Ongaro2014 (leader election), etcd-Tuning (election timeout), CRDB-SurvivalGoals (docs/references.rst).

    Examples
    --------
    >>> from followerlab.raft import load_rtt, spread_placement
    >>> m = load_rtt("crdb-demo-rtt-2019.csv")
    >>> f = failover(m, spread_placement(m, "us-east1"), "us-east1")
    >>> f.survives, f.new_leaseholder, f.commit_after_ms, f.unavailable_ms
    (True, 'europe-west1', 146.0, 7000.0)
    """
    topo = _as_topology(rtt_ms)
    m = topo.rtt_ms
    failed = _failed_set(failed_regions, topo)
    intra = float(as_float_array("intra_region_rtt_ms", topo.intra(intra_region_rtt_ms), minimum=0.0))
    election = as_float("election_timeout_ms", election_timeout_ms, minimum=0.0)
    lease = as_float("lease_expiry_ms", lease_expiry_ms, minimum=0.0)
    fsync = as_float("fsync_ms", fsync_ms, minimum=0.0)
    placement_ = _check_placement(placement_)
    clients = list(placement_.replica_regions) if client_regions is None else [
        m.index[_index_of(m, r, "client_regions")] for r in check_names("client_regions", client_regions)]
    alive_clients = [c for c in clients if c not in failed] or [r for r in m.index if r not in failed]
    # every region failed: no client is left to measure; "before" is then the clients' mean before
    # the failure, "after" is unavailable (inf), never the NaN of a mean over no client
    before_clients = alive_clients or clients

    def mean_write(p, quorum=None):
        return float(np.mean([write_latency(topo, p, c, fsync, intra_region_rtt_ms=intra, quorum=quorum)
                              for c in alive_clients]))

    commit_before = float(commit_latency(topo, placement_.leaseholder, placement_.voters, fsync, intra_region_rtt_ms=intra))
    write_before = float(np.mean([write_latency(topo, placement_, c, fsync, intra_region_rtt_ms=intra)
                                  for c in before_clients]))
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
        commit = float(commit_latency(topo, cand, alive_voters, fsync, intra_region_rtt_ms=intra, quorum=q))
        # the live voters with the lease in cand, committing with the quorum of the original group
        score = mean_write(Placement(alive_voters, cand), quorum=q)
        if best is None or score < best[0]:
            best = (score, cand, commit)
    unavailable = election + lease if lost else 0.0
    return Failover(tuple(sorted(map(str, failed))), True, lost, best[1], commit_before, best[2], write_before,
                    best[0], unavailable)


def failure_table(rtt_ms, placement_: Placement, **kwargs) -> pd.DataFrame:
    """:func:`failover` for the failure of each region holding a replica, one row each.

    ``rtt_ms`` (matrix or :class:`Topology`) is validated once for all rows; ``kwargs`` go to
    :func:`failover`.

    References
    ----------
    CRDB-SurvivalGoals, Ongaro2014, etcd-Tuning (docs/references.rst).

    Examples
    --------
    >>> from followerlab.raft import load_rtt, survival_placement
    >>> m = load_rtt("crdb-demo-rtt-2019.csv")
    >>> t = failure_table(m, survival_placement(m, "us-east1", "region"), fsync_ms=1.0)
    >>> print(t[["failed_region", "survives", "new_leaseholder", "write_after_ms"]].to_string(index=False))
    failed_region  survives new_leaseholder  write_after_ms
         us-east1      True    europe-west1           220.0
     europe-west1      True        us-east1           100.0
         us-west1      True        us-east1            97.0

    Losing us-east1 (2 of the 5 voters) leaves 3, still the quorum; the commit from
    europe-west1 waits for us-west1 (146 + 1 ms) and the clients in europe-west1 and us-west1
    see 147 and 146 + 147 ms: 220 ms on average.
    """
    topo = _as_topology(rtt_ms)
    rows = []
    placement_ = _check_placement(placement_)
    for region in placement_.replica_regions:
        f = failover(topo, placement_, region, **kwargs)
        rows.append({"placement": placement_.label(), "failed_region": region, "survives": f.survives,
                     "leaseholder_lost": f.leaseholder_lost, "new_leaseholder": f.new_leaseholder,
                     "commit_after_ms": f.commit_after_ms, "write_before_ms": f.write_before_ms,
                     "write_after_ms": f.write_after_ms, "unavailable_ms": f.unavailable_ms})
    return pd.DataFrame(rows)
