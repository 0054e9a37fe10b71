"""Cross-checks of followerlab.consistency against the event simulation in followerlab.sim.consistency.

Every comparison uses independent replications (different seeds) so the tolerance is a
multiple of the standard error of the replication mean: a wrong formula fails, chance does not
(4 standard errors: two-sided false-alarm probability about 6e-5 per comparison under a normal
approximation of the replication mean).
"""

import math

import numpy as np
import pytest

from followerlab import consistency as c
from followerlab.sim import consistency as sim

Z = 4.0


def _mean_se(values):
    v = np.asarray(values, dtype=float)
    return float(v.mean()), float(v.std(ddof=1) / math.sqrt(len(v)))


def test_fcfs_single_server_lindley():
    # hand-checked: arrivals 0, 1, 1.5; services 2, 1, 1 -> waits 0, 1, 1.5
    w, r = sim.fcfs_multi_server(np.array([0.0, 1.0, 1.5]), np.array([2.0, 1.0, 1.0]), 1)
    np.testing.assert_allclose(w, [0.0, 1.0, 1.5])
    np.testing.assert_allclose(r, [2.0, 2.0, 2.5])


def test_admin_node_utilization_and_p99_match_mm1_and_mg1():
    lam, s, w = 16.0, 0.05, 0.25  # strong rate 12/s, mu 20/s, rho 0.6
    model = c.admin_node_load(lam, w, planning_s=s, planning_cv=1.0)
    utils, p99s, means = [], [], []
    for seed in range(8):
        r = sim.simulate_query_routing(lam, 1500.0, heads=2, weak_fraction=w, planning_s=s, seed=seed)
        utils.append(r.admin_utilization)
        p99s.append(np.quantile(r.admin_responses_s, 0.99))
        means.append(r.admin_responses_s.mean())
    for got, want in ((utils, model.admin_utilization), (means, model.admin_mean_response_s),
                      (p99s, model.admin_p99_response_s)):
        m, se = _mean_se(got)
        assert abs(m - float(want)) < Z * se + 0.01 * float(want), (m, se, float(want))


def test_admin_node_with_control_commands_utilization():
    # mixture of planning (50 ms) and control commands (300 ms): utilization = sum of lam*s / cores
    model = c.admin_node_load(10.0, 0.0, planning_s=0.05, control_rate_per_s=1.0, control_s=0.3,
                              control_cv=0.5, admin_cores=2)
    utils = [sim.simulate_query_routing(10.0, 1500.0, weak_fraction=0.0, planning_s=0.05, control_rate_per_s=1.0,
                                        control_s=0.3, control_cv=0.5, admin_cores=2, seed=s).admin_utilization
             for s in range(6)]
    m, se = _mean_se(utils)
    assert abs(m - float(model.admin_utilization)) < Z * se


def test_heads_mmc_p99_under_random_routing():
    # 2 planning slots per head, exponential service: per head M/M/2 (Erlang C exact)
    lam, h, s = 60.0, 3, 0.05
    model = c.routing_load(lam, h, "random", planning_s=s, head_cores=2)
    utils, p99s = [], []
    for seed in range(6):
        r = sim.simulate_query_routing(lam, 400.0, heads=h, mode="random", planning_s=s, head_cores=2, seed=seed)
        utils.append(r.head_utilization.mean())
        p99s.append(np.mean([np.quantile(x, 0.99) for x in r.head_responses_s]))
    m, se = _mean_se(utils)
    assert abs(m - float(model.mean_head_utilization)) < Z * se
    m, se = _mean_se(p99s)
    assert abs(m - float(model.head_p99_response_s)) < Z * se + 0.01 * float(model.head_p99_response_s)


def test_by_database_head_loads_follow_the_hash_of_the_70_percent_mix():
    shares = c.hot_key_shares(10, 0.7)
    lam, h, s = 12.0, 3, 0.05
    # one realisation of the hash: loads are sums of the shares hashed to each head
    head_of_db = np.array([0, 1, 2, 0, 1, 2, 0, 1, 2, 0])
    want = np.array([shares[head_of_db == j].sum() for j in range(h)]) * lam * s
    runs = [sim.simulate_query_routing(lam, 600.0, heads=h, mode="by_database", shares=shares,
                                       head_of_key=head_of_db, planning_s=s, seed=seed).head_utilization
            for seed in range(6)]
    runs = np.array(runs)
    se = runs.std(axis=0, ddof=1) / math.sqrt(len(runs))
    assert np.all(np.abs(runs.mean(axis=0) - want) < Z * se)
    # the hottest head carries, over hash draws, 0.7 + 0.3/3 of the load on average
    hottest = []
    for seed in range(40):
        r = sim.simulate_query_routing(lam, 60.0, heads=h, mode="by_database", shares=shares, planning_s=s,
                                       seed=100 + seed)
        hottest.append(r.head_arrivals.max() / r.head_arrivals.sum())
    m, se = _mean_se(hottest)
    assert abs(m - float(c.routing_load(lam, h, "by_database", shares).hottest_head_share)) < Z * se


def test_hot_database_head_saturates_when_model_says_so():
    # 0.7 x 30/s x 50 ms = 1.05 >= 1: the hot head's queue grows without bound
    shares = c.hot_key_shares(10, 0.7)
    model = c.routing_load(30.0, 3, "by_database", shares, planning_s=0.05)
    assert float(model.p_hottest_saturates) == 1.0
    r = sim.simulate_query_routing(30.0, 600.0, heads=3, mode="by_database", shares=shares, planning_s=0.05,
                                   head_of_key=np.array([0] + [1, 2] * 4 + [1]), seed=1)
    hot = r.head_responses_s[0]
    q = len(hot) // 4
    # an unstable queue's wait grows like (rho - 1) t: about 0.05 x 600 s = 30 s at the end,
    # random-walk spread ~ sqrt(lam t E[S^2]) ~ 8 s; the stable heads stay under a second
    assert hot[-q:].mean() > 2 * hot[:q].mean() and hot[-q:].mean() > 10.0
    assert max(np.quantile(x, 0.99) for x in r.head_responses_s[1:]) < 1.0


@pytest.mark.parametrize("mode", ["random", "by_query"])
def test_results_cache_hit_ratio_by_mode(mode):
    lam, h, texts, age = 6.0, 3, 60, 20.0  # each text repeats at 0.1/s
    model = c.routing_load(lam, h, mode, repeat_rate_per_s=lam / texts, cache_max_age_s=age)
    hits = [sim.simulate_query_routing(lam, 1500.0, heads=h, mode=mode, query_texts=texts,
                                       cache_max_age_s=age, seed=seed).cache_hit_ratio for seed in range(6)]
    m, se = _mean_se(hits)
    assert abs(m - float(model.cache_hit_ratio)) < Z * se + 0.005  # + warm-up: first miss per text


@pytest.mark.parametrize("heads, gap", [(2, 0.0), (3, 30.0), (5, 90.0), (3, 150.0)])
def test_monotonic_read_probability(heads, gap):
    want = float(c.monotonic_read_violation_probability(heads, 120.0, gap))
    got, se = sim.simulate_monotonic_reads(heads, 120.0, gap, sessions=100000, seed=heads)
    assert abs(got - want) < Z * se + 1e-12


@pytest.mark.parametrize("mode", ["by_database", "by_session"])
def test_monotonic_reads_never_go_back_under_affinity(mode):
    got, _ = sim.simulate_monotonic_reads(5, 120.0, 10.0, mode=mode, sessions=50000, seed=2)
    assert got == 0.0 == float(c.monotonic_read_violation_probability(5, 120.0, 10.0, mode=mode))


def test_staleness_cdf_matches_simulated_ages():
    # DKW: P(sup |F_n - F| > eps) <= 2 exp(-2 n eps^2); eps for 1e-6
    s = c.weak_staleness(120.0, 2.0)
    out = sim.simulate_records_missed(300.0, 1.0, refresh_period_s=120.0, refresh_duration_s=2.0,
                                      queries=20000, seed=5)
    ages = np.sort(out["ages_s"])
    n = len(ages)
    eps = math.sqrt(math.log(2e6) / (2 * n))
    ecdf = np.arange(1, n + 1) / n
    assert np.max(np.abs(ecdf - s.cdf(ages))) < eps + 1.0 / n


@pytest.mark.parametrize("window", [300.0, 7 * 86400.0, 60.0])
def test_records_missed_seed_examples_match_simulation(window):
    rate, match = 1000 / 60, 0.01  # the seed's 1000 records a minute; errors at 0.01/s
    model = c.records_missed(window, rate, c.weak_staleness(120.0, 2.0), match_rate_per_s=match)
    missed, p_miss = [], []
    for seed in range(8):
        out = sim.simulate_records_missed(window, rate, refresh_period_s=120.0, refresh_duration_s=2.0,
                                          match_rate_per_s=match, queries=3000, horizon_s=30000.0, seed=seed)
        missed.append(out["missed"].mean())
        p_miss.append(out["missed_match"].mean())
    m, se = _mean_se(missed)
    assert abs(m - float(model.expected_missed)) < Z * se
    m, se = _mean_se(p_miss)
    assert abs(m - float(model.p_miss_match)) < Z * se


def test_admin_node_mixture_mean_response_is_pollaczek_khinchine():
    # one planning slot, Poisson queries (exp. 50 ms) + control commands (deterministic 300 ms):
    # M/G/1, where the mixture's mean and second moment make the P-K mean wait exact:
    # E[S] = 0.7/9, E[S^2] = (8 * 2 * 0.05^2 + 0.3^2)/9, W = lam E[S^2] / (2 (1 - rho)) -> 0.2944 s
    model = c.admin_node_load(8.0, 0.0, planning_s=0.05, control_rate_per_s=1.0, control_s=0.3, control_cv=0.0)
    es, es2 = 0.7 / 9, (8 * 2 * 0.05**2 + 0.3**2) / 9
    assert float(model.admin_mean_response_s) == pytest.approx(9 * es2 / (2 * (1 - 0.7)) + es, rel=1e-9)
    means = [sim.simulate_query_routing(8.0, 2000.0, weak_fraction=0.0, planning_s=0.05, control_rate_per_s=1.0,
                                        control_s=0.3, control_cv=0.0, seed=s).admin_responses_s.mean()
             for s in range(8)]
    m, se = _mean_se(means)
    assert abs(m - float(model.admin_mean_response_s)) < Z * se
