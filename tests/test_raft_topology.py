"""followerlab.raft.Topology: an RTT matrix validated once and passed on (issue 12, part 1)."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd
import pytest

from followerlab import latency, raft
from followerlab.raft import topology as topology_module


@pytest.fixture(scope="module")
def azure():
    return raft.load_rtt("azure-rtt-p50-2025-06.csv")


@pytest.fixture(scope="module")
def demo():
    return raft.load_rtt("crdb-demo-rtt-2019.csv")


@pytest.fixture
def checks(monkeypatch):
    """Count the full matrix checks (rtt_matrix) and the Topology builds made during a call."""
    counts = {"rtt_matrix": 0, "builds": 0}
    real_check, real_post = topology_module.rtt_matrix, raft.Topology.__post_init__

    def counting_check(*args, **kwargs):
        counts["rtt_matrix"] += 1
        return real_check(*args, **kwargs)

    def counting_post(self):
        counts["builds"] += 1
        real_post(self)

    monkeypatch.setattr(topology_module, "rtt_matrix", counting_check)
    monkeypatch.setattr(raft.Topology, "__post_init__", counting_post)
    return counts


def test_topology_holds_the_validated_matrix(demo):
    topo = raft.as_topology(demo.to_numpy(), regions=list(demo.index), intra_region_rtt_ms=1.5)
    assert topo.regions == tuple(demo.index) and topo.intra_region_rtt_ms == 1.5
    pd.testing.assert_frame_equal(topo.rtt_ms, demo)
    pd.testing.assert_frame_equal(topo.to_frame(), demo)
    assert raft.as_topology(topo) is topo
    assert raft.as_topology(topo, intra_region_rtt_ms=2.0).intra_region_rtt_ms == 2.0
    pd.testing.assert_frame_equal(raft.rtt_matrix(topo), demo)


def test_topology_refuses_bad_input(demo):
    with pytest.raises(ValueError, match="rtt_ms must be >= 0"):
        raft.as_topology([[0, -1], [1, 0]])
    with pytest.raises(ValueError, match="build it with as_topology"):
        raft.Topology(pd.DataFrame([[0, 5], [5, 0]]))  # int matrix: not rtt_matrix's form
    with pytest.raises(ValueError, match="build it with as_topology"):
        raft.Topology(demo.to_numpy())
    bad = demo.copy()
    bad.iloc[0, 0] = 3.0
    with pytest.raises(ValueError, match="zero diagonal"):
        raft.Topology(bad)
    with pytest.raises(ValueError, match="intra_region_rtt_ms must be >= 0"):
        raft.as_topology(demo, intra_region_rtt_ms=-1.0)
    with pytest.raises(ValueError, match="intra_region_rtt_ms of a Topology must be one number"):
        raft.as_topology(demo, intra_region_rtt_ms=[1.0, 2.0])
    with pytest.raises(ValueError, match="regions .* disagree"):
        raft.as_topology(raft.as_topology(demo), regions=["x", "y", "z"])


@pytest.mark.parametrize("call", ["rank_topologies", "placement_table", "failure_table", "failover"])
def test_a_topology_is_built_once_per_call_and_never_rechecked(azure, checks, call):
    p = raft.survival_placement(azure, "eastus", "region")
    shares = {r: 1.0 for r in azure.index}
    calls = {
        "rank_topologies": lambda m: raft.rank_topologies(m, shares, "eastus"),
        "placement_table": lambda m: raft.placement_table(m, ["eastus", "westus2", "uksouth"], fsync=1.0),
        "failure_table": lambda m: raft.failure_table(m, p, fsync_ms=1.0),
        "failover": lambda m: raft.failover(m, p, "eastus", fsync_ms=1.0),
    }
    checks.update(rtt_matrix=0, builds=0)
    calls[call](azure)  # a DataFrame: one Topology for the whole call (the former code re-checked per inner call)
    assert checks["builds"] == 1
    assert checks["rtt_matrix"] <= 2  # rtt_matrix in as_topology and the constructor's check
    topo = raft.as_topology(azure)
    checks.update(rtt_matrix=0, builds=0)
    calls[call](topo)  # a Topology passes through unchecked
    assert checks == {"rtt_matrix": 0, "builds": 0}


def test_functions_give_the_same_results_with_a_topology(azure):
    topo = raft.as_topology(azure)
    p = raft.survival_placement(azure, "eastus", "region")
    assert raft.survival_placement(topo, "eastus", "region") == p
    assert raft.spread_placement(topo, "uksouth") == raft.spread_placement(azure, "uksouth")
    for c in ("eastus", "japaneast"):
        assert float(raft.write_latency(topo, p, c, 1.0)) == float(raft.write_latency(azure, p, c, 1.0))
        for path in raft.READ_PATHS:
            pd.testing.assert_frame_equal(raft.read_latency(topo, p, c, path).to_frame(),
                                          raft.read_latency(azure, p, c, path).to_frame())
    jitter = latency.exponential(2.0)
    assert float(raft.write_latency_distribution(topo, p, "uksouth", 1.0, link_jitter=jitter).ppf(0.99)) == \
        float(raft.write_latency_distribution(azure, p, "uksouth", 1.0, link_jitter=jitter).ppf(0.99))


def test_intra_region_rtt_of_the_topology_is_the_default(demo):
    # a client in the leaseholder's region, voters 2-2-1: write = r0 + r0 (to the leaseholder)
    # + the second voter in the region, intra_region_rtt_ms away, acks first
    p = raft.survival_placement(demo, "us-east1", "region", ["us-east1", "us-west1", "europe-west1"])
    topo = raft.as_topology(demo, intra_region_rtt_ms=2.0)
    # quorum 3 of 5: acks from us-east1 (2 ms) and the nearer of us-west1 (66) / europe-west1 (64)
    assert float(raft.commit_latency(topo, "us-east1", p.voters)) == 64.0
    assert float(raft.write_latency(topo, p, "us-east1")) == 2.0 + 2.0 + 64.0
    assert float(raft.write_latency(topo, p, "us-east1", intra_region_rtt_ms=0.0)) == 64.0  # explicit wins
    assert float(raft.write_latency(demo, p, "us-east1")) == 64.0  # no Topology: 0 as before
    zone = raft.survival_placement(demo, "us-east1", "zone")
    assert float(raft.commit_latency(topo, "us-east1", zone.voters, fsync_ms=1.0)) == 3.0  # 2 ms away + fsync
    r = raft.read_latency(topo, p, "us-west1", "leaseholder")
    assert float(r.mean_ms) == 2.0 + 66.0
    # rank_topologies keeps its own default (1 ms) for a matrix or a Topology without one
    t0 = raft.rank_topologies(demo, {"us-east1": 1.0}, "us-east1")
    t1 = raft.rank_topologies(raft.as_topology(demo), {"us-east1": 1.0}, "us-east1")
    t2 = raft.rank_topologies(raft.as_topology(demo, intra_region_rtt_ms=1.0), {"us-east1": 1.0}, "us-east1")
    pd.testing.assert_frame_equal(t0, t1)
    pd.testing.assert_frame_equal(t0, t2)


def _brute_force_failover(m: pd.DataFrame, voters, failed, clients, fsync_ms, intra_ms, leader=None):
    """Independent check: every surviving voter (or ``leader``) as leader, the original quorum, clients averaged."""
    labels = list(m.index)
    arr = m.to_numpy()
    q = len(voters) // 2 + 1
    alive = [v for v in voters if v not in failed]

    def rtt(a, b):
        return intra_ms if a == b else arr[labels.index(a), labels.index(b)]

    best = None
    for lead in dict.fromkeys(alive) if leader is None else [leader]:
        others = list(alive)
        others.remove(lead)
        commit = min(max([fsync_ms, *(rtt(lead, f) + fsync_ms for f in c)]) for c in combinations(others, q - 1))
        write = np.mean([intra_ms + rtt(c, lead) + commit for c in clients if c not in failed])
        if best is None or write < best[0]:
            best = (write, lead, commit)
    return best


@pytest.mark.parametrize("failed", ["eastus", "westus2", "northeurope"])
def test_failover_write_latency_matches_brute_force(azure, failed):
    p = raft.survival_placement(azure, "eastus", "region")
    clients = ["eastus", "westus2", "uksouth", "japaneast"]
    f = raft.failover(raft.as_topology(azure, intra_region_rtt_ms=1.5), p, failed, client_regions=clients,
                      fsync_ms=2.0)
    # the leaseholder's region failed: the best surviving voter takes the lease; else the lease stays
    write, lead, commit = _brute_force_failover(azure, p.voters, {failed}, clients, 2.0, 1.5,
                                                leader=None if failed == "eastus" else "eastus")
    assert f.new_leaseholder == lead and f.leaseholder_lost == (failed == "eastus")
    assert f.commit_after_ms == pytest.approx(commit, abs=1e-9)
    assert f.write_after_ms == pytest.approx(write, abs=1e-9)


def test_failover_uses_write_latency(azure, monkeypatch):
    from followerlab.raft import failure

    seen = []
    real = failure.write_latency

    def spy(*args, **kwargs):
        seen.append(kwargs.get("quorum"))
        return real(*args, **kwargs)

    monkeypatch.setattr(failure, "write_latency", spy)
    p = raft.survival_placement(azure, "eastus", "region")
    raft.failover(azure, p, "eastus", client_regions=["westus2"])
    # before the failure (the group's own quorum), then each candidate with the original quorum 3
    assert seen[0] is None and len(seen) > 1 and set(seen[1:]) == {3}
