"""Multi-region Raft groups (CockroachDB follower reads): placement, latency, staleness, failure.

A Raft group has *voters* placed in regions of an RTT matrix (ms), optionally *non-voters*
(they receive the log but do not count towards the quorum) and a *leaseholder* (here also the
Raft leader) that serves strong reads and proposes every write.  This module computes, in
milliseconds (seconds for staleness, as the names say):

* the topology: RTT matrices (:func:`load_rtt`, :func:`rtt_matrix`; :func:`as_topology` validates
  one once as a :class:`Topology` that every function accepts in place of ``rtt_ms``), placements
  (:class:`Placement`, :func:`placement`, :func:`survival_placement`) and the replica counts
  CockroachDB derives for the ZONE and REGION survival goals (:func:`replica_counts`);
* write latency: :func:`commit_latency` (deterministic, from the matrix), :func:`write_latency`
  (client -> gateway -> leaseholder -> commit -> client) and their distribution forms with
  per-link jitter (:func:`commit_latency_distribution`, :func:`write_latency_distribution`);
  the placements compared on one table (:func:`placement_layouts`, :func:`placement_table`);
* read latency by path (:func:`read_latency`): leaseholder, exact-staleness follower read,
  bounded staleness (a mixture of local and redirected reads), global tables -- each a
  :class:`ReadPath` object (:data:`READ_PATHS` lists them; :func:`read_path` looks one up);
* staleness: :func:`follower_read_timestamp_lag_s`, :func:`closed_timestamp_lag`,
  :func:`global_reads_lead_ms`;
* region failure: :func:`survives`, :func:`failover`, :func:`failure_table`;
* choosing a topology for a workload: :func:`rank_topologies`;
* write load: :func:`write_load` (the leader as a queue, with batches of a fixed size) and
  :func:`greedy_write_load` (every waiting proposal in the next append, as etcd does);
* linearizable reads under load: :func:`readindex_read_load` (etcd's ReadIndex loop, one
  round at a time for every read that waits).

The code lives in one module per concept of the subpackage ``followerlab/raft/``, all
re-exported here (import from ``followerlab.raft``): ``topology`` (RTT matrices, the validated
:class:`Topology`), ``placements`` (placements, quorums, survival goals), ``staleness``
(closed timestamps, follower-read timestamps, global-reads lead), ``write`` (commit and write
latency), ``paths`` (the read-path objects), ``reads`` (read latency by path), ``failure``
(region failure), ``ranking`` (placement tables, topology ranking), ``load`` (write load),
``greedy`` (write load with greedy batching) and ``readindex`` (reads in ReadIndex rounds);
each imports only those listed before it.

Sources (entries of docs/references.rst): CRDB-FollowerReadsTopology, CRDB-FollowerReads,
CRDB-GlobalTables (with the closed-timestamp lead of CockroachDB's ``closedts`` package),
CRDB-SurvivalGoals, CRDB-RegionUtil (``getNumVotersAndNumReplicas``), Ongaro2014, etcd-Tuning,
etcd-APIGuarantees, and for the write load Bailey1954 and JanssenVanLeeuwaarden2005.  Values
not published anywhere are marked *assumed* where they are used.

>>> m = load_rtt("crdb-demo-rtt-2019.csv")
>>> float(commit_latency(m, "us-east1", ["us-east1", "us-west1", "europe-west1"]))
64.0
"""

from __future__ import annotations

from .failure import Failover, failover, failure_table, survives
from .load import WriteLoad, write_load
from .greedy import GreedyWriteLoad, greedy_write_load
from .readindex import ReadIndexLoad, readindex_read_load
from .ranking import placement_layouts, placement_table, rank_topologies
from .paths import (
    READ_PATHS,
    BoundedStalenessRead,
    FollowerRead,
    FreshRead,
    GlobalRead,
    LeaseholderRead,
    PathLatency,
    PathStaleness,
    ReadIndexRead,
    ReadPath,
    ReadSite,
    read_path,
    read_site,
    register_read_path,
)
from .reads import ReadLatency, read_latency
from .staleness import (
    ClosedTimestampLag,
    closed_timestamp_lag,
    follower_read_lag_s,
    follower_read_timestamp_lag_s,
    global_reads_lead_ms,
)
from .placements import (
    Placement,
    placement,
    quorum_size,
    replica_counts,
    spread_placement,
    survival_placement,
)
from .topology import Topology, as_topology, load_rtt, rtt_matrix
from .write import (
    commit_latency,
    commit_latency_distribution,
    write_latency,
    write_latency_distribution,
)

__all__ = [
    "load_rtt",
    "rtt_matrix",
    "Topology",
    "as_topology",
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
    "ReadPath",
    "ReadSite",
    "PathLatency",
    "PathStaleness",
    "read_site",
    "read_path",
    "register_read_path",
    "LeaseholderRead",
    "FollowerRead",
    "FreshRead",
    "BoundedStalenessRead",
    "GlobalRead",
    "ReadIndexRead",
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
    "GreedyWriteLoad",
    "greedy_write_load",
    "ReadIndexLoad",
    "readindex_read_load",
]

# Not in __all__ but importable from here as from the former single module raft.py: the
# write-load tolerance and the private helpers (so that code written against it keeps working).
from .load import (  # noqa: E402,F401
    WRITE_LOAD_TAIL_TOL,
    _BISECTION_STEPS,
    _BulkQueue,
    _bulk_blocks,
    _bulk_inner_roots,
    _bulk_tail_exponent,
    _quantile_with_commit,
    _write_cdf_ms,
    _write_numerics,
    _write_quantile_ms,
)
from .topology import _as_matrix, _index_of, _link_ms  # noqa: E402,F401
from .write import _as_dist  # noqa: E402,F401
