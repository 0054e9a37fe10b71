"""Placements and topologies compared on one table: write latency by layout, ranking for a workload.

Sources: CRDB-FollowerReadsTopology, CRDB-SurvivalGoals (docs/references.rst).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from .._stats import weighted_quantile
from .._validate import as_float_array, check_probability
from .failure import survives
from .reads import read_latency
from .staleness import follower_read_timestamp_lag_s
from .topology import _as_matrix, _index_of, spread_placement, survival_placement
from .write import _as_dist, commit_latency, write_latency, write_latency_distribution

# --------------------------------------------------------------------------------------------
# Placements compared on one table
# --------------------------------------------------------------------------------------------


def placement_layouts(rtt_ms, leaseholder, regions=None) -> dict:
    """The three placements notebook 03 compares, with the lease in ``leaseholder``.

    ``"3 voters 1-1-1"``: the leaseholder's region and the 2 regions of ``regions`` nearest to
    it (:func:`spread_placement`); ``"REGION 5 voters 2-2-1"``: REGION survival over those same
    3 regions; ``"ZONE 3 voters"``: ZONE survival, all voters in the leaseholder's region.

    >>> from followerlab.raft import load_rtt
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
    >>> from followerlab.raft import load_rtt
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
    >>> from followerlab.raft import load_rtt
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
