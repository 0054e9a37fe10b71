"""Unit tests of followerlab.consistency against closed forms, published values and brute force."""

import itertools
import math

import numpy as np
import pytest

from followerlab import consistency as c


# ---------------------------------------------------------------- query heads
def test_published_example_15_nodes_give_3_heads():
    assert int(c.query_head_count(15).heads) == 3


def test_head_count_defaults_rounding_and_clamps():
    nodes = np.array([1, 2, 5, 10, 11, 16, 150, 151, 1000])
    # ceil(0.2 N) clamped to [2, 30], never above N (assumed rounding, see docstring)
    expected = np.array([1, 2, 2, 2, 3, 4, 30, 30, 30])
    np.testing.assert_array_equal(c.query_head_count(nodes).heads, expected)
    # percentage 7 of 100 nodes is exactly 7 despite binary round-off in 0.07 * 100
    assert int(c.query_head_count(100, percentage=7).heads) == 7
    assert int(c.query_head_count(100, percentage=100, maximum=200).heads) == 100


def test_head_count_broadcasts_over_policy():
    r = c.query_head_count(np.array([[10], [50]]), percentage=np.array([10, 50, 100]))
    np.testing.assert_array_equal(r.heads, [[2, 5, 10], [5, 25, 30]])


def test_super_slacker_threshold():
    r = c.query_head_count([40, 60], super_slacker_threshold=50)
    np.testing.assert_array_equal(r.heads_hold_data, [True, False])
    np.testing.assert_array_equal(r.data_nodes, [40, 60 - 12])


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(nodes=0), "nodes"),
        (dict(nodes=10, percentage=0), "percentage"),
        (dict(nodes=10, percentage=101), "percentage"),
        (dict(nodes=10, minimum=5, maximum=4), "minimum must be <= maximum"),
        (dict(nodes=2.5), "nodes"),
        (dict(nodes=10, super_slacker_threshold=0), "super_slacker_threshold"),
    ],
)
def test_head_count_bad_input(kwargs, name):
    with pytest.raises(ValueError, match=name):
        c.query_head_count(**kwargs)


# ---------------------------------------------------------------- admin node
def test_admin_node_strong_mm1_closed_form():
    lam, s = 12.0, 0.05  # mu = 20
    r = c.admin_node_load(lam, 0.0, planning_s=s, planning_cv=1.0)
    mu = 1 / s
    assert float(r.admin_utilization) == pytest.approx(lam * s)
    assert float(r.admin_mean_response_s) == pytest.approx(1 / (mu - lam))
    # M/M/1 response ~ Exp(mu - lam): p99 = ln(100) / (mu - lam)
    assert float(r.admin_p99_response_s) == pytest.approx(math.log(100) / (mu - lam), rel=1e-6)
    assert float(r.saturation_query_rate_per_s) == pytest.approx(mu)


def test_admin_node_control_commands_and_weak_split():
    r = c.admin_node_load(
        np.array([0.0, 10.0, 10.0]), weak_fraction=np.array([0.0, 0.5, 1.0]), planning_s=0.04,
        control_rate_per_s=1.0, control_s=0.3, admin_cores=2, heads=4, head_cores=1,
    )
    # utilization = ((1-w) lam s_q + lam_c s_c) / cores
    np.testing.assert_allclose(r.admin_utilization, [(0 + 0.3) / 2, (5 * 0.04 + 0.3) / 2, 0.3 / 2])
    np.testing.assert_allclose(r.saturation_query_rate_per_s, [(2 - 0.3) / 0.04, (2 - 0.3) / (0.5 * 0.04), np.inf])
    np.testing.assert_allclose(r.head_utilization, [0.0, 5 * 0.04 / 4, 10 * 0.04 / 4])
    # at the saturation rate the utilization is exactly 1
    sat = float(r.saturation_query_rate_per_s[1])
    at = c.admin_node_load(sat * 1.01, 0.5, planning_s=0.04, control_rate_per_s=1.0, control_s=0.3, admin_cores=2)
    assert float(at.admin_utilization) == pytest.approx((1.7 * 1.01 + 0.3) / 2)
    assert float(c.admin_node_load(sat, 0.5, planning_s=0.04, control_rate_per_s=1.0, control_s=0.3,
                                   admin_cores=2).admin_utilization) == pytest.approx(1.0, abs=1e-12)
    assert not bool(at.admin_stable)
    assert np.isinf(at.admin_p99_response_s)


def test_admin_node_mixture_service_cv():
    # two classes with the same exponential service: the mixture is that exponential (cv 1)
    m, cv = c._mixture_service(np.array(3.0), 0.1, 1.0, np.array(1.0), 0.1, 1.0)
    assert float(m) == pytest.approx(0.1) and float(cv) == pytest.approx(1.0)
    # deterministic 0.1 and 0.3 with probabilities 1/2: E[S]=0.2, Var=0.01 -> cv 0.5
    m, cv = c._mixture_service(np.array(1.0), 0.1, 0.0, np.array(1.0), 0.3, 0.0)
    assert float(m) == pytest.approx(0.2) and float(cv) == pytest.approx(0.5)


def test_admin_node_bad_input():
    with pytest.raises(ValueError, match="weak_fraction"):
        c.admin_node_load(1.0, 1.5)
    with pytest.raises(ValueError, match="query_rate_per_s"):
        c.admin_node_load(-1.0)
    with pytest.raises(ValueError, match="admin_cores"):
        c.admin_node_load(1.0, admin_cores=0)


# ---------------------------------------------------------------- hashing keys onto heads
def _brute_force_max_share(shares, heads):
    """Enumerate all heads**K assignments with itertools (independent of the vectorized code)."""
    out = {}
    for assign in itertools.product(range(heads), repeat=len(shares)):
        loads = [0.0] * heads
        for key, head in enumerate(assign):
            loads[head] += shares[key]
        m = round(max(loads), 9)
        out[m] = out.get(m, 0) + 1
    total = heads ** len(shares)
    return {k: v / total for k, v in out.items()}


@pytest.mark.parametrize("shares, heads", [([0.5, 0.3, 0.2], 2), (list(c.zipf_shares(5, 1.0)), 3),
                                           ([0.25] * 4, 4), (list(c.hot_key_shares(6, 0.7)), 3)])
def test_head_load_exact_matches_brute_force(shares, heads):
    d = c.head_load_distribution(shares, heads, method="exact")
    brute = _brute_force_max_share(shares, heads)
    assert sorted(brute) == pytest.approx(list(d.values))
    assert [brute[k] for k in sorted(brute)] == pytest.approx(list(d.probabilities))
    assert d.probabilities.sum() == pytest.approx(1.0)


@pytest.mark.parametrize("hot, heads", [(0.7, 3), (0.5, 2), (0.9, 5)])
def test_hot_key_expected_max_closed_form(hot, heads):
    # p >= 1/2: the head holding the hot key is the hottest; E = p + (1 - p)/H
    d = c.head_load_distribution(c.hot_key_shares(10, hot), heads)
    assert d.mean == pytest.approx(hot + (1 - hot) / heads, abs=1e-9)


def test_hot_key_max_share_law_is_binomial():
    # 70% on one of 10 databases, 3 heads: M = 0.7 + (0.3/9) * Bin(9, 1/3), exactly
    from scipy.stats import binom

    d = c.head_load_distribution(c.hot_key_shares(10, 0.7), 3)
    j = np.arange(10)
    np.testing.assert_allclose(d.values, 0.7 + j * 0.3 / 9, atol=1e-11)
    np.testing.assert_allclose(d.probabilities, binom.pmf(j, 9, 1 / 3), rtol=1e-9)


def test_monte_carlo_agrees_with_exact_within_standard_error():
    shares = c.zipf_shares(8, 1.1)
    exact = c.head_load_distribution(shares, 4, method="exact")
    mc = c.head_load_distribution(shares, 4, method="monte_carlo", samples=40000, seed=3)
    assert mc.mean_standard_error > 0
    assert abs(mc.mean - exact.mean) < 4 * mc.mean_standard_error
    # a probability: P(M >= 0.6) with binomial standard error
    p = float(exact.sf(0.6))
    se = math.sqrt(p * (1 - p) / mc.samples)
    assert abs(float(mc.sf(0.6)) - p) < 4 * se + 1e-12


def test_two_equal_keys_distribution_and_quantile():
    d = c.head_load_distribution([0.5, 0.5], 4)
    np.testing.assert_allclose(d.values, [0.5, 1.0])
    np.testing.assert_allclose(d.probabilities, [0.75, 0.25])  # same head w.p. 1/H
    assert float(d.quantile(0.7)) == 0.5 and float(d.quantile(0.8)) == 1.0
    np.testing.assert_allclose(d.sf([0.4, 0.5, 0.7, 1.0, 1.1]), [1, 1, 0.25, 0.25, 0])


@pytest.mark.parametrize("shares, msg", [([0.5, 0.4], "sum to 1"), ([1.2, -0.2], "shares"), ([], "non-empty")])
def test_shares_bad_input(shares, msg):
    with pytest.raises(ValueError, match=msg):
        c.head_load_distribution(shares, 3)


# ---------------------------------------------------------------- results cache and routing
def test_cache_hit_ratio_values_and_limits():
    np.testing.assert_allclose(c.results_cache_hit_ratio([0.0, 1.0, 1.0, 1e9], [60.0, 0.0, 1.0, 1.0]),
                               [0.0, 0.0, 0.5, 1e9 / (1e9 + 1)])
    with pytest.raises(ValueError, match="max_age_s"):
        c.results_cache_hit_ratio(1.0, -1.0)


def test_routing_random_and_by_query_even_split_and_cache():
    lam, h, s = 30.0, 3, 0.05
    rnd = c.routing_load(lam, h, "random", planning_s=s, repeat_rate_per_s=0.1, cache_max_age_s=60.0)
    byq = c.routing_load(lam, h, "by_query", planning_s=s, repeat_rate_per_s=0.1, cache_max_age_s=60.0)
    hit_r = (0.1 / 3 * 60) / (1 + 0.1 / 3 * 60)
    hit_q = 6 / 7
    assert float(rnd.cache_hit_ratio) == pytest.approx(hit_r)
    assert float(byq.cache_hit_ratio) == pytest.approx(hit_q)
    assert float(byq.executed_rate_per_s) == pytest.approx(lam * (1 - hit_q))
    assert float(byq.executed_savings) == pytest.approx(hit_q)
    assert float(rnd.mean_head_utilization) == pytest.approx(lam * (1 - hit_r) * s / h)
    assert float(rnd.hottest_head_utilization) == pytest.approx(float(rnd.mean_head_utilization))
    # per-head M/M/1 p99 = ln(100) / (mu - lam/H)
    mu, per = 1 / s, lam * (1 - hit_r) / h
    assert float(rnd.head_p99_response_s) == pytest.approx(math.log(100) / (mu - per), rel=1e-6)


def test_routing_by_database_seed_70_percent_example():
    shares = c.hot_key_shares(10, 0.7)
    s = 0.05
    # hot head carries 0.7 + 0.3/3 = 0.8 of the load in expectation
    r = c.routing_load(np.array([10.0, 20.0, 30.0]), 3, "by_database", shares, planning_s=s)
    np.testing.assert_allclose(r.hottest_head_utilization, np.array([10, 20, 30]) * 0.8 * s)
    np.testing.assert_allclose(r.mean_head_utilization, np.array([10, 20, 30]) * s / 3)
    # saturation: the head with the hot key gets >= 0.7 lam s, at most 1.0 lam s
    #  lam=10: max load <= 0.5 -> 0; lam=30: >= 1.05 -> 1; lam=20: saturates iff some other key
    #  joins it enough: 20*0.05*M >= 1 <=> M >= 1 <=> all 10 keys on one head: (1/3)^9
    np.testing.assert_allclose(r.p_hottest_saturates, [0.0, (1 / 3) ** 9, 1.0], rtol=1e-9, atol=1e-15)
    # M = 0.7 + (0.3/9) * Bin(9, 1/3) exactly (the hot key outweighs the rest), so its p99 is
    # 0.7 + (0.3/9) * (the binomial's 0.99 quantile, which is 6)
    from scipy.stats import binom
    k99 = binom.ppf(0.99, 9, 1 / 3)
    assert k99 == 6
    assert float(r.hottest_head_share_p99[0]) == pytest.approx(0.7 + k99 * 0.3 / 9)
    assert np.isinf(r.hottest_head_p99_response_s[2])


def test_routing_bad_input():
    with pytest.raises(ValueError, match="did you mean 'by_database'"):
        c.routing_load(1.0, 3, "by_databse")
    with pytest.raises(ValueError, match="shares is required"):
        c.routing_load(1.0, 3, "by_session")
    with pytest.raises(ValueError, match="sum to 1"):
        c.routing_load(1.0, 3, "by_database", [0.6, 0.6])


# ---------------------------------------------------------------- staleness and records missed
def test_weak_staleness_uniform_age():
    s = c.weak_staleness(120.0, 2.0)
    assert float(s.mean_s) == pytest.approx(62.0)
    assert float(s.p99_s) == pytest.approx(2 + 0.99 * 120, abs=1e-6)
    assert float(s.cdf(62.0)) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="refresh_period_s"):
        c.weak_staleness(10.0)


@pytest.mark.parametrize("x", [30.0, 60.0, 119.0, 120.0, 500.0])
def test_records_missed_uniform_closed_form(x):
    # age ~ U(0, P]: E[min(A, X)] = X - X^2/(2P) for X <= P, P/2 beyond
    P, r, m = 120.0, 2.0, 0.05
    s = c.weak_staleness(P, 0.0)
    out = c.records_missed(x, r, s, match_rate_per_s=m)
    e_min = x - x * x / (2 * P) if x <= P else P / 2
    assert float(out.expected_missed) == pytest.approx(r * e_min, rel=1e-6)
    # P(miss a match) = m * int_0^X e^{-mu}(1 - u/P) du
    y = min(x, P)
    p = (1 - math.exp(-m * y)) - (1 - math.exp(-m * y) * (1 + m * y)) / (m * P)
    assert float(out.p_miss_match) == pytest.approx(p, rel=1e-5)
    assert float(out.p_window_blind) == pytest.approx(max(0.0, 1 - x / P), abs=1e-9)


def test_records_missed_seed_examples():
    # 1000 records per minute; 7-day aggregation and 5-minute alert (seed 003)
    s = c.weak_staleness(120.0, 2.0)
    out = c.records_missed([7 * 86400.0, 300.0], 1000 / 60, s)
    np.testing.assert_allclose(out.expected_missed, 1000 / 60 * 62.0, rtol=1e-6)
    assert out.expected_missed_fraction[0] < 2e-3 < out.expected_missed_fraction[1]
    assert float(out.p_miss_match[1]) == pytest.approx(1.0, abs=1e-9)  # with 16.7 records/s
    assert float(out.p_window_blind[1]) == 0.0  # age <= 122 s < 300 s


def test_monotonic_reads_closed_form_and_affinity():
    p = c.monotonic_read_violation_probability([1, 2, 3, 30], 120.0, 0.0)
    np.testing.assert_allclose(p, [0.0, 0.25, 1 / 3, 29 / 60])
    assert float(c.monotonic_read_violation_probability(3, 120.0, 60.0)) == pytest.approx((2 / 3) * 0.125)
    assert float(c.monotonic_read_violation_probability(3, 120.0, 200.0)) == 0.0
    for mode in ("by_database", "by_session"):
        assert float(c.monotonic_read_violation_probability(3, 120.0, 0.0, mode=mode)) == 0.0
    with pytest.raises(ValueError, match="gap_s"):
        c.monotonic_read_violation_probability(3, 120.0, -1.0)


# ---------------------------------------------------------------- refresh cost
def test_refresh_cost_arithmetic():
    r = c.refresh_cost([3, 30], 120.0, extents=5e6, extent_change_rate_per_s=10.0, bytes_per_extent=1000.0,
                       base_duration_s=1.0, bandwidth_bytes_per_s=1e6, failure_rate_per_mb=0.01)
    np.testing.assert_allclose(r.delta_bytes, 1.2e6)
    np.testing.assert_allclose(r.storage_read_bytes_per_s, [3 * 1e4, 30 * 1e4])
    np.testing.assert_allclose(r.storage_reads_per_s, [3 / 120, 30 / 120])
    np.testing.assert_allclose(r.refresh_duration_s, 1 + 1.2)
    np.testing.assert_allclose(r.p_refresh_fails, 1 - math.exp(-0.012))
    np.testing.assert_allclose(r.full_load_duration_s, 1 + 5000.0)
    np.testing.assert_allclose(r.p_full_load_fails, 1 - math.exp(-50.0))
    with pytest.raises(ValueError, match="refresh_period_s"):
        c.refresh_cost(3, 10.0)


# ---------------------------------------------------------------- mode resolution
@pytest.mark.parametrize(
    "props, policy, mode, source",
    [
        ({}, None, "Strong", "default"),
        (None, {"Value": "Weak"}, "Weak", "policy"),
        ({"queryconsistency": "weakconsistency_by_database"}, None, "WeakAffinitizedByDatabase", "request"),
        ({"QueryConsistency": "WeakConsistency_By_Query"}, None, "WeakAffinitizedByQuery", "request"),
        ({"queryconsistency": "databaseaffinitizedweakconsistency"}, None, "WeakAffinitizedByDatabase", "request"),
        ({"queryconsistency": "affinitizedweakconsistency"}, None, "WeakAffinitizedByQuery", "request"),
        ({"queryconsistency": "strongconsistency"}, {"Value": "Weak"}, "Strong", "request"),
        ({"queryconsistency": "strongconsistency"}, {"IsRelaxable": False, "Value": "Weak"}, "Weak",
         "policy (not relaxable)"),
        ({}, {"QueryConsistencyPolicy": {"QueryConsistency": {"IsRelaxable": False, "Value": "Weak"}}}, "Weak",
         "policy (not relaxable)"),
        ({"queryconsistency": "weakconsistency_by_session_id", "query_weakconsistency_session_id": "s1"}, None,
         "WeakAffinitizedBySessionId", "request"),
    ],
)
def test_resolution_table(props, policy, mode, source):
    r = c.resolve_consistency(props, policy)
    assert (r.mode, r.source) == (mode, source)
    assert r.routing == c.POLICY_VALUES[mode]


def test_boolean_mistake_stays_strong_with_warning():
    r = c.resolve_consistency({"weakconsistency": "true"})
    assert r.mode == "Strong"
    assert len(r.warnings) == 1 and "has no effect" in r.warnings[0] and "queryconsistency" in r.warnings[0]
    # the mistake does not hide a policy that does apply
    assert c.resolve_consistency({"weakconsistency": True}, {"Value": "Weak"}).mode == "Weak"


def test_pinned_policy_warns_about_ignored_request():
    r = c.resolve_consistency({"queryconsistency": "weakconsistency"}, {"IsRelaxable": False, "Value": "Strong"})
    assert r.mode == "Strong" and any("ignored" in w for w in r.warnings)


def test_session_id_warnings():
    r = c.resolve_consistency({"queryconsistency": "weakconsistency_by_session_id"})
    assert any("session_id is not set" in w for w in r.warnings)
    r = c.resolve_consistency({"queryconsistency": "weakconsistency", "query_weakconsistency_session_id": "x"})
    assert any("no effect" in w for w in r.warnings)


def test_cross_cluster_propagation():
    # A's effective mode travels with the sub-query unless B pins its own
    r = c.resolve_consistency({}, {"Value": "Weak"}, remote_policy={"Value": "Strong"})
    assert (r.remote_mode, r.remote_source) == ("Weak", "propagated")
    r = c.resolve_consistency({}, {"Value": "Weak"}, remote_policy={"IsRelaxable": False, "Value": "Strong"})
    assert (r.remote_mode, r.remote_routing) == ("Strong", "strong")
    r = c.resolve_consistency({"queryconsistency": "weakconsistency_by_query"}, None, remote_policy={})
    assert r.remote_mode == "WeakAffinitizedByQuery"


@pytest.mark.parametrize(
    "props, policy, match",
    [
        ({"queryconsistency": "weakconsistency_by_databse"}, None, "did you mean 'weakconsistency_by_database'"),
        ({"queryconsistency": True}, None, "queryconsistency must be a string"),
        ({}, {"Value": "weak"}, "did you mean 'Weak'"),
        ({}, {"Value": "Weak", "IsRelaxable": "no"}, "IsRelaxable"),
        ({}, {"Valeu": "Weak"}, "did you mean 'Value'"),
        ("weakconsistency", None, "request_properties must be a dict"),
    ],
)
def test_resolution_bad_input(props, policy, match):
    with pytest.raises(ValueError, match=match):
        c.resolve_consistency(props, policy)


# ---------------------------------------------------------------- advisor
def test_advisor_prefers_strong_when_admin_has_room():
    a = c.advise(5.0, staleness_tolerance_s=300.0, admin_utilization_ceiling=0.7, planning_s=0.05)
    assert (a.mode, a.heads) == ("strong", 0)
    assert a.to_frame()["recommended"].sum() == 1


def test_advisor_moves_to_fewest_heads_that_fit():
    # strong at 40/s x 50 ms = 2.0; heads need 40*0.05/H <= 0.7 -> H >= 3
    a = c.advise(40.0, staleness_tolerance_s=300.0, admin_utilization_ceiling=0.7, planning_s=0.05, nodes=20)
    assert (a.mode, a.heads) == ("random", 3)
    # with the 70% database the hot head needs (0.7 + 0.3/H) * 2.0 <= 0.7: never; by_database infeasible
    b = c.advise(40.0, 300.0, 0.7, planning_s=0.05, nodes=20, shares=c.hot_key_shares(10, 0.7))
    t = b.to_frame()
    assert not t[t["mode"] == "by_database"]["feasible"].any()


def test_advisor_reports_none_when_tolerance_too_tight():
    a = c.advise(40.0, staleness_tolerance_s=30.0, admin_utilization_ceiling=0.7, planning_s=0.05)
    assert a.mode == "none" and not a.to_frame()["feasible"].any()
    # the reason names the limit every candidate misses, with the run's numbers: p99 staleness of
    # a 120 s refresh (+ 2 s base) is 0.99 * 120 + 2 = 121 s
    assert a.reason.endswith("strong leaves the admin node 2.00 busy (ceiling 0.7); "
                             "weak queries' p99 staleness is 121 s (tolerance 30 s)"), a.reason


def _unseen_notebook_02_advice():
    """The advisor on notebook 02's unseen run: 41.7 queries/s, 63 % weak, 37 ms planning (CV 0)
    and 0.9 control commands/s of 130 ms on a 0.6 ceiling, 37 nodes, 47 s refresh."""
    return c.advise(41.7, 90.0, 0.6, nodes=37, weak_fraction=0.63, planning_s=0.037, planning_cv=0.0,
                    control_rate_per_s=0.9, control_s=0.13, refresh_period_s=47.0, base_duration_s=3.3,
                    head_counts=[2, 3, 4, 6])


def test_advisor_says_when_the_weak_share_cannot_relieve_the_admin_node():
    # 63 % weak at 41.7 queries/s of 37 ms plus 0.9 control commands/s of 130 ms: the admin node
    # keeps 0.37 * 41.7 * 0.037 + 0.9 * 0.13 = 0.688 > 0.6 in every weak mode
    a = _unseen_notebook_02_advice()
    assert a.mode == "none"
    assert a.reason.endswith("strong leaves the admin node 1.66 busy (ceiling 0.6); "
                             "with 63 % of the queries weak it is still 0.69"), a.reason


def test_advisor_per_mode_shows_the_nearest_miss_of_every_mode():
    # nothing feasible (the unseen notebook-02 run): every weak mode leaves the admin node at
    # 0.688 against a 0.6 ceiling, so each shows its fewest heads that miss only that limit
    a = _unseen_notebook_02_advice()
    m = a.per_mode().set_index("mode")
    assert list(m.index) == list(dict.fromkeys(a.to_frame()["mode"]))
    assert not m["feasible"].any() and (m["limits_missed"] == 1).all()
    assert m.loc["random", "heads"] == 2
    assert m.loc["random", "limit_ratio"] == pytest.approx((0.37 * 41.7 * 0.037 + 0.9 * 0.13) / 0.6, rel=1e-9)
    assert m.loc["strong", "limit_ratio"] == pytest.approx((41.7 * 0.037 + 0.9 * 0.13) / 0.6, rel=1e-9)
    # a tolerance every weak row misses, where one or two heads would also overload the hottest
    # head (40 * 0.05 / h > 0.7): the nearest miss is three heads, missing only the tolerance
    b = c.advise(40.0, staleness_tolerance_s=30.0, admin_utilization_ceiling=0.7, planning_s=0.05,
                 head_counts=[1, 2, 3, 4])
    r = b.per_mode().set_index("mode").loc["random"]
    assert (r["heads"], r["limits_missed"]) == (3, 1)
    assert r["limit_ratio"] == pytest.approx((0.99 * 120 + 2) / 30, rel=1e-9)
    # feasible rows: per mode the advisor's own order (fewest heads first), and the pick is there
    f = c.advise(30.0, staleness_tolerance_s=300.0, admin_utilization_ceiling=0.7, planning_s=0.05)
    pm = f.per_mode().set_index("mode")
    assert pm.loc["random", "feasible"] and pm.loc["random", "heads"] == 3 and pm.loc["random", "recommended"]
    assert (pm["limit_ratio"] <= 1).eq(pm["feasible"]).all()


# ---------------------------------------------------------------- properties (hypothesis)
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=60, deadline=None)
@given(nodes=st.integers(1, 2000), pct=st.integers(1, 100), lo=st.integers(1, 40), span=st.integers(0, 40))
def test_head_count_properties(nodes, pct, lo, span):
    hi = lo + span
    h = int(c.query_head_count(nodes, pct, lo, hi).heads)
    assert 1 <= h <= nodes
    assert h == min(nodes, max(lo, min(hi, h)))           # clamped
    exact = pct * nodes / 100
    if lo <= exact <= hi and exact <= nodes:
        assert exact <= h < exact + 1                      # rounded up, never down
    # monotone in the cluster size
    assert int(c.query_head_count(nodes + 1, pct, lo, hi).heads) >= h


@settings(max_examples=30, deadline=None)
@given(weights=st.lists(st.floats(0.01, 1.0), min_size=1, max_size=6), heads=st.integers(1, 5))
def test_head_load_distribution_properties(weights, heads):
    p = np.array(weights) / np.sum(weights)
    d = c.head_load_distribution(p, heads)
    assert d.probabilities.sum() == pytest.approx(1.0)
    assert d.values.min() >= p.max() - 1e-9 and d.values.max() <= 1.0 + 1e-9
    # E[M] >= p_max + (1 - p_max)/H (the head holding the largest key) and >= 1/H
    assert d.mean >= p.max() + (1 - p.max()) / heads - 1e-9
    # all keys on one head has probability H^-(K-1)
    assert float(d.sf(1.0)) == pytest.approx(heads ** -(len(p) - 1) if heads > 1 or len(p) == 1 else 1.0)


@pytest.mark.parametrize("m", [1.0, 16.7, 200.0])
def test_records_missed_match_probability_with_frequent_matches(m):
    # age ~ U(0, P]: P(miss) = 1 - E[e^{-mA}] = 1 - (1 - e^{-mP}) / (mP).  With m * step of the
    # grid not small, the plain trapezoid rule overshot (up to 1.66 for m = 200) and the clip to
    # 1 hid it (16.7/s: 1.0 instead of 0.999501); the exponential kernel is now integrated exactly
    # against the piecewise-linear survival, exact here since its kinks (0 and P) are grid ends.
    P = 120.0
    out = c.records_missed(300.0, 1.0, c.weak_staleness(P, 0.0), match_rate_per_s=m)
    p = 1 - (-math.expm1(-m * P)) / (m * P)
    assert 1 - float(out.p_miss_match) == pytest.approx(1 - p, rel=1e-6)


def test_head_load_monte_carlo_is_used_when_asked():
    # method="monte_carlo" used to be replaced by the exact programme whenever that fits (so a
    # Monte Carlo vs exact check on a small case compared the exact law with itself, and
    # samples=0 went unchecked)
    mc = c.head_load_distribution([0.5, 0.5], 2, method="monte_carlo", samples=4000, seed=5)
    assert mc.method == "monte_carlo" and mc.samples == 4000 and mc.mean_standard_error > 0
    assert abs(float(mc.sf(1.0)) - 0.5) < 4 * math.sqrt(0.25 / 4000)  # both keys on one head w.p. 1/2
    with pytest.raises(ValueError, match="samples"):
        c.head_load_distribution([0.5, 0.5], 2, method="monte_carlo", samples=0)


@pytest.mark.parametrize("call, name", [
    (lambda: c.routing_load(10.0, [2, 3]), "heads"),
    (lambda: c.head_load_distribution([0.5, 0.5], [2, 3]), "heads"),
    (lambda: c.hot_key_shares([3, 4]), "keys"),
    (lambda: c.zipf_shares(5, [1.0, 2.0]), "exponent"),
    (lambda: c.advise([1.0, 2.0], 10.0), "query_rate_per_s"),
])
def test_scalar_only_parameters_refuse_arrays_with_a_value_error(call, name):
    # these parameters are scalars (they size a table or a hash law); an array used to raise a
    # bare TypeError ("only 0-dimensional arrays ...") that named nothing
    with pytest.raises(ValueError, match=name):
        call()


def test_head_load_sf_at_infinity_is_zero_without_warnings():
    # an idle head (rate 0) has an infinite saturation threshold: sf(inf) must be 0, computed
    # without inf - inf (a RuntimeWarning callers had to silence)
    import warnings

    from followerlab.consistency import head_load_distribution, hot_key_shares

    dist = head_load_distribution(hot_key_shares(10, 0.7), 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert float(dist.sf(np.inf)) == 0.0
        np.testing.assert_array_equal(dist.sf(np.array([0.0, np.inf])), [1.0, 0.0])
        c.routing_load(0.0, 3, "by_database", hot_key_shares(10, 0.7), planning_s=0.05)
