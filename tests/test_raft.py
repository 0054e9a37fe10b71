"""followerlab.raft: topology, deterministic write/read latency, staleness, bad input.

Independent checks: brute force over quorums (commit latency), published values (FACTS.md,
CockroachDB source and docs), a direct simulation of closed-timestamp publication.
"""

from itertools import combinations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from followerlab import raft


@pytest.fixture(scope="module")
def azure():
    return raft.load_rtt("azure-rtt-p50-2025-06.csv")


@pytest.fixture(scope="module")
def demo():
    return raft.load_rtt("crdb-demo-rtt-2019.csv")


# ---------------------------------------------------------------- topology


def test_shipped_matrices_load_with_published_values(azure, demo):
    assert azure.shape == (8, 8) and demo.shape == (3, 3)
    # FACTS.md: demo RTTs
    assert demo.loc["us-east1", "us-west1"] == 66
    assert demo.loc["us-east1", "europe-west1"] == 64
    assert demo.loc["us-west1", "europe-west1"] == 146
    # Azure data is slightly asymmetric and kept so
    assert azure.loc["eastus", "westus2"] == 66 and azure.loc["westus2", "eastus"] == 70


@pytest.mark.parametrize(
    "matrix, match",
    [
        ([[0, 1, 2], [1, 0, 2]], "square"),
        ([[0, -5], [5, 0]], "rtt_ms must be >= 0"),
        ([[0, np.nan], [5, 0]], "NaN"),
        ([[1, 5], [5, 0]], "zero diagonal"),
    ],
)
def test_bad_matrices_refused(matrix, match):
    with pytest.raises(ValueError, match=match):
        raft.rtt_matrix(matrix)


def test_mismatched_dataframe_labels_refused():
    frame = pd.DataFrame([[0, 1], [1, 0]], index=["a", "b"], columns=["a", "c"])
    with pytest.raises(ValueError, match="same region labels"):
        raft.rtt_matrix(frame)


def test_replica_counts_match_cockroachdb():
    # getNumVotersAndNumReplicas: ZONE 3 + (R-1); REGION max(5, 2 + (R-1))
    v, n = raft.replica_counts("zone", np.arange(1, 9))
    assert v.tolist() == [3] * 8 and n.tolist() == [3, 4, 5, 6, 7, 8, 9, 10]
    v, n = raft.replica_counts("region", np.arange(3, 9))
    assert v.tolist() == [5] * 6 and n.tolist() == [5, 5, 6, 7, 8, 9]
    with pytest.raises(ValueError, match="n_regions must be >= 3"):
        raft.replica_counts("region", 2)
    with pytest.raises(ValueError, match="goal"):
        raft.replica_counts("rack", 3)


@pytest.mark.parametrize("goal", ["zone", "region"])
@pytest.mark.parametrize("n_regions", [3, 4, 8])
def test_survival_placement_counts_agree_with_replica_counts(azure, goal, n_regions):
    regions = list(azure.index[:n_regions])
    p = raft.survival_placement(azure, regions[0], goal, regions)
    voters, replicas = raft.replica_counts(goal, n_regions)
    assert p.n_voters == voters and p.n_voters + len(p.non_voters) == replicas
    assert set(p.replica_regions) == set(regions)  # every region holds a replica
    assert p.voters.count(regions[0]) == (3 if goal == "zone" else 2)


def test_placement_validation(demo):
    with pytest.raises(ValueError, match="leaseholder 'us-west1' is not among"):
        raft.placement(["us-east1"] * 3, "us-west1")
    with pytest.raises(ValueError, match="unknown region 'mars'"):
        raft.placement(["us-east1", "mars"], "us-east1", rtt_ms=demo)
    with pytest.raises(ValueError, match="at least one voter"):
        raft.placement({"us-east1": 0}, "us-east1")
    with pytest.raises(ValueError, match="voters\\['a'\\] must be >= 0"):
        raft.placement({"a": -1}, "a")


# ---------------------------------------------------------------- commit latency


def brute_force_commit(rtt, leader, voters, fsync, intra=0.0):
    """min over quorums containing the leader of the slowest member's completion time."""
    n = len(voters)
    q = n // 2 + 1
    others = list(range(n))
    others.remove(voters.index(leader))
    done = {}
    for i in others:
        link = intra if voters[i] == leader else rtt[leader, voters[i]]
        done[i] = link + fsync
    best = np.inf
    for quorum in combinations(others, q - 1):
        best = min(best, max([fsync] + [done[i] for i in quorum]))
    return best


@settings(max_examples=60, deadline=None)
@given(
    n_members=st.integers(1, 7),
    data=st.data(),
)
def test_commit_latency_equals_brute_force_over_quorums(n_members, data):
    x = np.array(data.draw(st.lists(st.floats(0, 200), min_size=n_members, max_size=n_members)))
    asym = np.array(data.draw(st.lists(st.floats(0, 20), min_size=n_members**2, max_size=n_members**2)))
    rtt = x[:, None] + x[None, :] + asym.reshape(n_members, n_members)
    np.fill_diagonal(rtt, 0.0)
    fsync = data.draw(st.floats(0, 50))
    leader = data.draw(st.integers(0, n_members - 1))
    voters = list(range(n_members))
    got = float(raft.commit_latency(rtt, leader, voters, fsync_ms=fsync))
    assert got == pytest.approx(brute_force_commit(rtt, leader, voters, fsync))


def test_commit_latency_three_members_is_nearest_follower(demo):
    # FACTS.md (etcd): a put costs min_f RTT(L, f) + fsync with 3 members
    for leader in demo.index:
        others = [r for r in demo.index if r != leader]
        expected = demo.loc[leader, others].min() + 2.0
        got = raft.commit_latency(demo, leader, list(demo.index), fsync_ms=2.0)
        assert float(got) == expected


def test_region_survival_commit_waits_for_nearest_other_region(azure):
    # FACTS.md: with REGION survival (2-2-1) writes wait at least the RTT to the nearest other region
    for home in azure.index:
        p = raft.survival_placement(azure, home, "region")
        nearest = azure.loc[home].drop(home).min()
        got = float(raft.commit_latency(azure, home, p.voters, fsync_ms=0.0, intra_region_rtt_ms=1.0))
        assert got == nearest
        # and ZONE survival commits inside the home region
        z = raft.survival_placement(azure, home, "zone")
        assert float(raft.commit_latency(azure, home, z.voters, intra_region_rtt_ms=1.0)) == 1.0


def test_commit_latency_integer_members_and_names_agree(demo):
    by_name = raft.commit_latency(demo, "us-west1", ["us-east1", "us-west1", "europe-west1"], 1.0)
    by_index = raft.commit_latency(demo.to_numpy(), 1, [0, 1, 2], 1.0)
    by_position = raft.commit_latency(demo, 1, [0, 1, 2], 1.0)
    assert float(by_name) == float(by_index) == float(by_position) == 67.0


def test_commit_latency_broadcasts_over_fsync_and_stacked_matrices(demo):
    fsync = np.array([0.0, 1.0, 100.0])
    got = raft.commit_latency(demo, "us-east1", list(demo.index), fsync)
    assert got.tolist() == [64.0, 65.0, 164.0]
    stack = np.stack([demo.to_numpy(), 2 * demo.to_numpy()])
    got = raft.commit_latency(stack, 0, [0, 1, 2], fsync[:, None])
    assert got.shape == (3, 2)
    assert got[0].tolist() == [64.0, 128.0]


def test_commit_latency_bad_input(demo):
    with pytest.raises(ValueError, match="leader 'us-west1' is not among the voters"):
        raft.commit_latency(demo, "us-west1", ["us-east1", "europe-west1"])
    with pytest.raises(ValueError, match="unknown region 'asia'"):
        raft.commit_latency(demo, "us-east1", ["us-east1", "asia"])
    with pytest.raises(ValueError, match="at least one voter"):
        raft.commit_latency(demo, "us-east1", [])
    with pytest.raises(ValueError, match="quorum must be <= the 3 voters"):
        raft.commit_latency(demo, "us-east1", list(demo.index), quorum=4)
    with pytest.raises(ValueError, match="quorum must be a majority"):
        raft.commit_latency(demo, "us-east1", ["us-east1", "us-west1", "europe-west1", "us-east1"], quorum=2)
    with pytest.raises(ValueError, match="fsync_ms must be >= 0"):
        raft.commit_latency(demo, "us-east1", list(demo.index), fsync_ms=-1)


def test_even_voter_count_needs_more_acks(demo):
    # 4 voters: q = 3, two follower acks; asking for a quorum of 3 explicitly is the same
    voters = ["us-east1", "us-west1", "europe-west1", "europe-west1"]
    got = raft.commit_latency(demo, "us-east1", voters)
    assert float(got) == 64.0  # europe-west1 twice: the 2nd fastest ack is 64
    assert float(raft.commit_latency(demo, "us-east1", voters, quorum=3)) == 64.0
    assert float(raft.commit_latency(demo, "us-east1", voters, quorum=4)) == 66.0


def test_write_latency_adds_client_leg(demo):
    p = raft.spread_placement(demo, "us-east1")
    assert float(raft.write_latency(demo, p, "us-east1", intra_region_rtt_ms=1.0)) == 1.0 + 1.0 + 64.0
    assert float(raft.write_latency(demo, p, "europe-west1", intra_region_rtt_ms=1.0)) == 1.0 + 64.0 + 64.0


# ---------------------------------------------------------------- staleness


@pytest.mark.parametrize(
    "version, lag",
    [("v19.1", 48.0), ("v19.2", 48.0), ("v20.1", 4.8), ("v20.2", 4.8), ("v21.1", 4.8), ("v21.2", 4.2),
     ("v22.1", 4.2), ("v22.2", 4.2), ("v23.1", 4.2), ("23.1.11", 4.2), ("v24.1", 4.2)],
)
def test_follower_read_timestamp_lag_by_version(version, lag):
    assert raft.follower_read_timestamp_lag_s(version) == lag


@pytest.mark.parametrize("version", ["v2.1", "v18.2", "latest", "", "v23", "v99.1"])
def test_unknown_versions_refused(version):
    with pytest.raises(ValueError, match="version must be a CockroachDB release"):
        raft.follower_read_timestamp_lag_s(version)


def test_follower_read_lag_disabled_when_target_zero():
    with pytest.raises(ValueError, match="target_duration_s must be > 0"):
        raft.follower_read_lag_s(target_duration_s=0.0)


def test_global_reads_lead_published_values():
    # FACTS.md: 800 ms; CockroachDB closedts policy_test: side transport 50 ms -> 500+245+25,
    # 200 ms -> 500+275+25, override 1234 ms
    assert float(raft.global_reads_lead_ms()) == 800.0
    assert float(raft.global_reads_lead_ms(side_transport_interval_ms=50)) == 770.0
    assert float(raft.global_reads_lead_ms(override_ms=1234)) == 1234.0


def test_closed_timestamp_age_matches_simulated_publication():
    # simulate: publications every I seconds at phase 0, each closes (publish time - T) and
    # arrives d later; observe at uniform random instants
    rng = np.random.default_rng(5)
    target, interval, d = 3.0, 0.2, 0.040
    now = rng.uniform(10.0, 20.0, 200_000)
    last_arrived_pub = np.floor((now - d) / interval) * interval
    age = now - (last_arrived_pub - target)
    lag = raft.closed_timestamp_lag(d * 1000, target, interval)
    # mean: SE of a uniform(0, 0.2) mean over 2e5 draws is 0.2/sqrt(12*2e5) = 1.3e-4
    assert age.mean() == pytest.approx(float(lag.mean_s), abs=6e-4)
    assert age.min() >= float(lag.min_s) - 1e-9 and age.max() <= float(lag.max_s) + 1e-9
    x = 3.1
    p = (age <= x).mean()  # SE <= 0.5/sqrt(2e5) = 1.1e-3
    assert p == pytest.approx(float(lag.cdf(x)), abs=5e-3)


# ---------------------------------------------------------------- read paths


def test_read_paths_on_demo_matrix(demo):
    p = raft.spread_placement(demo, "us-east1")
    for client in demo.index:
        lh = raft.read_latency(demo, p, client, "leaseholder", intra_region_rtt_ms=1.0)
        fr = raft.read_latency(demo, p, client, "follower", intra_region_rtt_ms=1.0)
        gl = raft.read_latency(demo, p, client, "global", intra_region_rtt_ms=1.0)
        expected_lh = 1.0 + (1.0 if client == "us-east1" else demo.loc[client, "us-east1"])
        assert float(lh.mean_ms) == expected_lh and float(lh.staleness_mean_s) == 0
        # every region holds a replica: follower and global reads stay in the region
        assert float(fr.mean_ms) == 2.0 and float(fr.staleness_mean_s) == 4.2
        assert float(gl.mean_ms) == 2.0 and float(gl.staleness_mean_s) == 0


def test_bounded_staleness_mixture_against_simulation(demo):
    p = raft.spread_placement(demo, "us-east1")
    bounds = np.array([3.0, 3.05, 3.1, 3.2, 3.3, 10.0])
    r = raft.read_latency(demo, p, "europe-west1", "bounded", max_staleness_s=bounds)
    # direct simulation of the closed-timestamp age at europe-west1 (one-way delay 32 ms)
    rng = np.random.default_rng(11)
    age = 3.0 + 0.2 * rng.uniform(size=100_000) + 0.032
    local = age[:, None] <= bounds
    p_sim = local.mean(axis=0)
    assert np.allclose(r.p_local, p_sim, atol=6e-3)  # SE <= 1.6e-3
    lat_sim = np.where(local, 0.0, 64.0).mean(axis=0)
    assert np.allclose(r.mean_ms, lat_sim, atol=6e-3 * 64)
    st_sim = np.minimum(age[:, None], bounds).mean(axis=0)  # read at max(now - b, resolved)
    assert np.allclose(r.staleness_mean_s, st_sim, atol=5e-3)
    assert r.p_local[0] == 0 and r.p_local[-1] == 1
    assert r.p99_ms.tolist() == [64.0] * 4 + [0.0, 0.0]  # bound 3.3 > max age 3.232
    # at the leaseholder's own region: always local, staleness min(target + U * interval, b)
    h = raft.read_latency(demo, p, "us-east1", "bounded", max_staleness_s=bounds)
    assert np.all(h.p_local == 1.0)
    age_lh = 3.0 + 0.2 * rng.uniform(size=100_000)
    assert np.allclose(h.staleness_mean_s, np.minimum(age_lh[:, None], bounds).mean(axis=0), atol=5e-3)


def test_read_latency_bad_path(demo):
    p = raft.spread_placement(demo, "us-east1")
    with pytest.raises(ValueError, match="path must be one of"):
        raft.read_latency(demo, p, "us-east1", "stale")
    with pytest.raises(ValueError, match="client_region names unknown region 'moon'"):
        raft.read_latency(demo, p, "moon")


def test_readindex_read_is_client_leg_plus_quorum_heartbeat_round():
    # asymmetric matrix: the heartbeat round trip is measured from the leader (row L), the
    # client leg from the client's region (row c)
    regions = ["a", "b", "c"]
    rtt = np.array([[0.0, 10.0, 40.0], [12.0, 0.0, 30.0], [44.0, 33.0, 0.0]])
    m = raft.rtt_matrix(rtt, regions)
    for layout in (["a"], ["a", "b", "c"], ["a", "a", "b", "b", "c"]):
        for lh in dict.fromkeys(layout):
            p = raft.placement(layout, lh)
            L = regions.index(lh)
            vpos = [regions.index(v) for v in layout]
            # brute force: fastest quorum containing the leader, links with intra RTT 2 ms
            others = list(range(len(layout)))
            others.remove(layout.index(lh))
            q = len(layout) // 2 + 1
            link = {i: 2.0 if vpos[i] == L else rtt[L, vpos[i]] for i in others}
            beat = min((max([0.0] + [link[i] for i in qs]) for qs in combinations(others, q - 1)), default=0.0)
            for c, client in enumerate(regions):
                r = raft.read_latency(m, p, client, "readindex", intra_region_rtt_ms=2.0)
                leg = 2.0 + (2.0 if c == L else rtt[c, L])
                assert float(r.mean_ms) == pytest.approx(leg + beat)
                assert float(r.p99_ms) == float(r.p50_ms) == pytest.approx(leg + beat)
                assert float(r.staleness_mean_s) == 0 and float(r.staleness_max_s) == 0
    assert "readindex" not in raft.READ_PATHS  # notebook tables over READ_PATHS are unchanged


# ---------------------------------------------------------------- region failure


def test_survives_by_placement(azure):
    three = ["eastus", "westus2", "uksouth"]
    spread = raft.spread_placement(azure, "eastus", three)
    zone = raft.survival_placement(azure, "eastus", "zone", three)
    region = raft.survival_placement(azure, "eastus", "region", three)
    for r in three:
        assert raft.survives(spread, r) and raft.survives(region, r)
        assert raft.survives(zone, r) == (r != "eastus")
    assert not raft.survives(spread, ["eastus", "westus2"])
    assert not raft.survives(region, ["eastus", "westus2"])  # 2 + 2 of 5 voters lost
    assert raft.survives(region, [])
    with pytest.raises(ValueError, match="failed_regions names unknown region 'atlantis'"):
        raft.survives(spread, "atlantis", rtt_ms=azure)


def test_failover_commit_matches_brute_force(azure):
    p = raft.survival_placement(azure, "eastus", "region")  # 2-1-1-1 over 8 regions
    for failed in ["eastus", "westus2", "uksouth", "northeurope"]:
        f = raft.failover(azure, p, failed, fsync_ms=1.0, intra_region_rtt_ms=1.0,
                          election_timeout_ms=1000, lease_expiry_ms=6000)
        assert f.survives
        alive = [v for v in p.voters if v != failed]
        # brute force: min over quorums of 3 (original size) among the survivors, leader included
        arr = azure.to_numpy()
        idx = [list(azure.index).index(v) for v in alive]
        lead = list(azure.index).index(f.new_leaseholder)
        acks = []
        seen_self = False
        for v, i in zip(alive, idx):
            if i == lead and not seen_self:
                seen_self = True
                continue
            acks.append((1.0 if i == lead else arr[lead, i]) + 1.0)
        best = min(max([1.0, *c]) for c in combinations(acks, p.quorum - 1))
        assert f.commit_after_ms == pytest.approx(best)
        assert f.unavailable_ms == (7000.0 if failed == "eastus" else 0.0)
        assert f.leaseholder_lost == (failed == "eastus")


def test_failover_without_quorum_is_unavailable(azure):
    z = raft.survival_placement(azure, "eastus", "zone")
    f = raft.failover(azure, z, "eastus")
    assert not f.survives and f.new_leaseholder is None and np.isinf(f.unavailable_ms)
    table = raft.failure_table(azure, z)
    assert table["survives"].tolist() == [False] + [True] * 7


# ---------------------------------------------------------------- ranking


def test_rank_topologies_hand_computed(demo):
    shares = {"us-east1": 0.5, "us-west1": 0.25, "europe-west1": 0.25}
    t = raft.rank_topologies(demo, shares, "us-east1", read_fraction=0.8, staleness_tolerance_s=1.0,
                             fsync_ms=1.0, intra_region_rtt_ms=1.0).set_index("option")
    # spread placement 1-1-1, lease us-east1, commit = 64 + 1 fsync
    lh_read = 0.5 * (1 + 1) + 0.25 * (1 + 66) + 0.25 * (1 + 64)
    write = lh_read + 65
    assert t.loc["leaseholder reads", "read_mean_ms"] == pytest.approx(lh_read)
    assert t.loc["leaseholder reads", "write_mean_ms"] == pytest.approx(write)
    assert t.loc["leaseholder reads", "mean_ms"] == pytest.approx(0.8 * lh_read + 0.2 * write)
    # p99: 20 % of operations are writes; the slowest write (us-west1: 1 + 66 + 65 = 132) holds 5 %
    assert t.loc["leaseholder reads", "p99_ms"] == 132.0
    # a 1 s tolerance rules out exact-staleness follower reads (4.2 s)
    assert not t.loc["follower reads", "eligible"]
    assert t.loc["follower reads", "staleness_mean_s"] == pytest.approx(4.2)
    # global: reads local (2 ms); writes max(to_lh + 65, to_lh / 2 + 800) + 1
    g_write = 0.5 * (1 + 800.5) + 0.25 * (1 + 833) + 0.25 * (1 + 832)
    assert t.loc["global table", "write_mean_ms"] == pytest.approx(g_write)
    assert t.loc["global table", "read_mean_ms"] == pytest.approx(2.0)
    assert not t.loc["ZONE survival", "survives_region_failure"]
    assert t.loc["REGION survival", "survives_region_failure"]
    # ineligible options sort last
    assert not t.reset_index()["eligible"].iloc[-1]


def test_rank_topologies_bad_input(demo):
    with pytest.raises(ValueError, match="client_shares must have a positive total"):
        raft.rank_topologies(demo, {"us-east1": 0.0}, "us-east1")
    with pytest.raises(ValueError, match="read_fraction must be <= 1"):
        raft.rank_topologies(demo, {"us-east1": 1.0}, "us-east1", read_fraction=1.5)
    with pytest.raises(ValueError, match="client_shares names unknown region 'mars'"):
        raft.rank_topologies(demo, {"mars": 1.0}, "us-east1")


def test_write_load_bad_input():
    with pytest.raises(ValueError, match="rate_per_s must be > 0"):
        raft.write_load(0.0)
    with pytest.raises(ValueError, match="batch must be >= 1"):
        raft.write_load(10.0, batch=0)
    with pytest.raises(ValueError, match="n_voters must be >= 1"):
        raft.write_load(10.0, n_voters=0)


def test_placement_table_one_row_per_leaseholder_and_layout(azure):
    t = raft.placement_table(azure, fsync=1.0, intra_region_rtt_ms=1.0)
    assert len(t) == 8 * 3
    for lh in azure.index:
        rows = t[t["leaseholder"] == lh].set_index("placement")
        nearest = float(azure.loc[lh].drop(lh).min())
        # 1-1-1 and 2-2-1 both wait for the nearest other region; ZONE stays in the region
        assert rows.loc["3 voters 1-1-1", "commit_ms"] == nearest + 1.0
        assert rows.loc["REGION 5 voters 2-2-1", "commit_ms"] == nearest + 1.0
        assert rows.loc["ZONE 3 voters", "commit_ms"] == 2.0
        # no jitter: the distribution is the point mass at the deterministic write latency
        assert np.allclose(rows["write_p50_ms"], rows["write_det_ms"]) and np.allclose(rows["write_p99_ms"], rows["write_det_ms"])
