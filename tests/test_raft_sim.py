"""The analytic Raft distributions against the message-by-message simulation (followerlab.sim.raft).

CDF comparisons use the Dvoretzky-Kiefer-Wolfowitz bound: with n samples,
P(sup |F_n - F| > eps) <= 2 exp(-2 n eps^2); eps = sqrt(ln(2/alpha) / (2n)) with alpha = 1e-6
is the tolerance (the analytic CDF itself is accurate to ~1e-6, latency.convolve docs).
Queue means use batch means: 20 contiguous blocks, tolerance 6 standard errors.
"""

import numpy as np
import pytest

from followerlab import latency, raft
from followerlab.sim.raft import simulate_commits, simulate_write_load

ALPHA = 1e-6


def dkw(n):
    return np.sqrt(np.log(2 / ALPHA) / (2 * n))


@pytest.fixture(scope="module")
def azure():
    return raft.load_rtt("azure-rtt-p50-2025-06.csv")


def placements(m):
    three = ["eastus", "westus2", "uksouth"]
    return [
        raft.spread_placement(m, "eastus", three, non_voters_elsewhere=False),
        raft.survival_placement(m, "eastus", "region", three),
        raft.survival_placement(m, "japaneast", "region"),
        raft.survival_placement(m, "uksouth", "zone"),
        raft.placement(["westus2"] * 2 + ["eastus"] * 2, "westus2"),  # even: q = 3
    ]


def test_simulation_equals_deterministic_commit(azure):
    for p in placements(azure):
        sim = simulate_commits(azure, p.leaseholder, p.voters, fsync=1.5, intra_region_rtt_ms=1.0, trials=5, seed=0)
        exact = float(raft.commit_latency(azure, p.leaseholder, p.voters, 1.5, intra_region_rtt_ms=1.0))
        assert np.allclose(sim.commit_ms, exact), p.label()


@pytest.mark.parametrize("which", [0, 1, 2, 4])
def test_simulation_matches_order_statistic_distribution(azure, which):
    p = placements(azure)[which]
    jitter = latency.exponential(3.0)  # one-way jitter (ms), *assumed* shape
    fsync = latency.shifted_lognormal(0.5, 1.0, 5.0)
    n = 6000
    sim = simulate_commits(azure, p.leaseholder, p.voters, fsync=fsync, one_way_jitter=jitter,
                           intra_region_rtt_ms=1.0, trials=n, seed=7 + which)
    # the round trip carries two independent one-way jitters
    dist = raft.commit_latency_distribution(azure, p.leaseholder, p.voters, fsync=fsync,
                                            link_jitter=latency.convolve(jitter, jitter), intra_region_rtt_ms=1.0)
    x = np.sort(sim.commit_ms)
    emp_hi = np.arange(1, n + 1) / n
    emp_lo = np.arange(0, n) / n
    f = dist.cdf(x)
    sup = max(np.max(np.abs(emp_hi - f)), np.max(np.abs(emp_lo - f)))
    assert sup < dkw(n), (p.label(), sup)


def test_write_latency_distribution_reduces_to_deterministic(azure):
    for p in placements(azure):
        for client in ["eastus", "australiaeast"]:
            d = raft.write_latency_distribution(azure, p, client, fsync=2.0, intra_region_rtt_ms=1.0)
            w = float(raft.write_latency(azure, p, client, 2.0, intra_region_rtt_ms=1.0))
            assert float(d.ppf(0.5)) == pytest.approx(w) and float(d.ppf(0.99)) == pytest.approx(w)


def test_write_latency_distribution_against_simulation(azure):
    # client in westus2, leaseholder eastus: + 70 ms + one more round-trip jitter
    p = placements(azure)[0]
    j = latency.exponential(2.0)
    jj = latency.convolve(j, j)
    d = raft.write_latency_distribution(azure, p, "westus2", fsync=1.0, link_jitter=jj, intra_region_rtt_ms=1.0)
    n = 6000
    rng = np.random.default_rng(3)
    sim = simulate_commits(azure, "eastus", p.voters, fsync=1.0, one_way_jitter=j, trials=n, seed=4).commit_ms
    sim = sim + 1.0 + 70.0 + j.rvs(n, random_state=rng) + j.rvs(n, random_state=rng)
    for q in (0.5, 0.9, 0.99):
        # quantile check through the CDF: F(empirical q-quantile) within the DKW band of q
        assert abs(float(d.cdf(np.quantile(sim, q))) - q) < dkw(n)


def test_five_voters_saturate_before_three():
    w = raft.write_load(100.0, n_voters=np.array([3, 5]), batch=1)
    assert w.saturation_rate_per_s[1] < w.saturation_rate_per_s[0]
    # closed form: 1000 / (a + (n-1) f + p) with the defaults a=1, f=0.1, p=0.05
    assert w.saturation_rate_per_s.tolist() == pytest.approx([1000 / 1.25, 1000 / 1.45])
    # at a rate between the two saturation points the 5-voter leader is unstable, 3 is not
    mid = raft.write_load(750.0, n_voters=np.array([3, 5]))
    assert mid.stable.tolist() == [True, False] and np.isinf(mid.mean_ms[1])
    # batching moves saturation up: b / (a + (n-1) f + b p)
    b = raft.write_load(100.0, 5, batch=np.array([1, 4, 16]))
    assert b.saturation_rate_per_s.tolist() == pytest.approx([1000 * k / (1.4 + 0.05 * k) for k in (1, 4, 16)])


def _batch_means_se(x, blocks=20):
    means = np.array([blk.mean() for blk in np.array_split(x, blocks)])
    return means.mean(), means.std(ddof=1) / np.sqrt(blocks)


@pytest.mark.parametrize("n_voters, rate", [(3, 400.0), (5, 550.0)])
def test_write_load_mean_matches_simulation_without_batching(n_voters, rate):
    # b = 1: an M/D/1 queue, Pollaczek-Khinchine is exact
    w = raft.write_load(rate, n_voters, commit_ms=64.0, batch=1)
    sim = simulate_write_load(rate, n_voters, 64.0, batch=1, proposals=60_000, seed=n_voters)
    mean, se = _batch_means_se(sim.latency_ms[2000:])
    assert float(w.mean_ms) == pytest.approx(mean, abs=6 * se)
    assert float(w.admin_utilization) == pytest.approx(sim.utilization, rel=0.02)


def test_write_load_batching_mean_matches_simulation():
    # b > 1: the bulk-service model is exact (it was Kingman's approximation, which overestimated
    # the wait; that check, exact_part <= sim <= model, is now an equality within sampling error)
    w = raft.write_load(1500.0, 3, commit_ms=0.0, batch=4)
    sim = simulate_write_load(1500.0, 3, 0.0, batch=4, proposals=80_000, seed=5)
    mean, se = _batch_means_se(sim.latency_ms[4000:])
    exact_part = float(w.batching_wait_ms + w.service_ms)
    assert float(w.admin_utilization) == pytest.approx(sim.utilization, rel=0.02)
    assert exact_part - 6 * se <= mean
    assert float(w.mean_ms) == pytest.approx(mean, abs=6 * se)
