"""Region failure: does a quorum survive, who takes the lease, what writes cost afterwards.

Sources: Ongaro2014, etcd-Tuning, CRDB-SurvivalGoals (docs/references.rst).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._results import Result
from .._validate import as_float_array
from .topology import Placement, _as_matrix, _index_of, _link_ms
from .write import commit_latency, write_latency

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
    >>> from followerlab.raft import load_rtt, spread_placement
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
