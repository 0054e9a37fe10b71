"""Checks of followerlab.staleness.refresh_lag: closed forms, brute-force sums, simulation.

Statistical tolerances: Kolmogorov-Smirnov tests on *independent* samples (one probe per sync
cycle) at alpha = 1e-3, and means within 4 standard errors.  Each test also shows that a wrong
model (a plausible formula mistake) is rejected by the same test on the same sample, so the
test can fail for a wrong formula and, with fixed seeds, never by chance.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from followerlab.sim.follower import simulate_follower
from followerlab.staleness import refresh_lag

ALPHA = 1e-3


def _brute_cdf(t, P, d0, d1, m):
    """P(U + d0 + d1 N <= t) by summing the Poisson pmf term by term (independent of the
    G(a) trick used in the library)."""
    lam = m * P
    n = np.arange(0, int(lam + 40 * np.sqrt(lam + 1) + 50))
    pmf = stats.poisson.pmf(n, lam)
    return float(np.sum(pmf * np.clip((t - d0 - d1 * n) / P, 0.0, 1.0)))


def test_deterministic_duration_is_uniform():
    r = refresh_lag(120.0, base_duration_s=3.0)
    assert float(r.mean_s) == pytest.approx(63.0)
    assert float(r.std_s) == pytest.approx(120.0 / np.sqrt(12))
    t = np.array([0.0, 3.0, 33.0, 63.0, 123.0, 500.0])
    np.testing.assert_allclose(r.cdf(t), np.clip((t - 3.0) / 120.0, 0, 1), atol=1e-12)
    np.testing.assert_allclose(r.quantile([0.0, 0.25, 0.99, 1.0]), [3.0, 33.0, 121.8, 123.0], atol=1e-6)
    assert not bool(r.back_to_back) and float(r.p_overrun) == 0.0


@pytest.mark.parametrize("P,d0,d1,m", [(60.0, 2.0, 0.01, 5.0), (30.0, 0.5, 1.5, 0.2), (10.0, 0.0, 0.3, 1.0)])
def test_cdf_matches_brute_force_poisson_sum(P, d0, d1, m):
    r = refresh_lag(P, d0, d1, m, method="closed form")   # the no-overrun algebra
    ts = np.linspace(0.0, P + d0 + d1 * (m * P + 10 * np.sqrt(m * P) + 10), 37)
    np.testing.assert_allclose(r.cdf(ts), [_brute_cdf(t, P, d0, d1, m) for t in ts], atol=1e-12)
    # quantile inverts cdf (smallest t with cdf >= q)
    q = np.array([0.01, 0.3, 0.5, 0.9, 0.99])
    x = r.quantile(q)
    assert np.all(r.cdf(x) >= q - 1e-9)
    assert np.all(r.cdf(x - 1e-6) < q + 1e-9)
    # mean and variance against numerical integration of the brute-force law
    grid = np.linspace(0, ts[-1], 20001)
    sf = 1 - r.cdf(grid)
    mean_num = np.trapezoid(sf, grid)
    assert float(r.mean_s) == pytest.approx(mean_num, rel=1e-4)
    m2_num = np.trapezoid(2 * grid * sf, grid)
    assert float(r.std_s) ** 2 == pytest.approx(m2_num - mean_num**2, rel=1e-3)


def test_broadcasting_and_shapes():
    r = refresh_lag(np.array([30.0, 60.0, 120.0]), 2.0, 0.01, np.array([[1.0], [5.0]]))
    assert r.shape == (2, 3)
    assert r.cdf(np.linspace(0, 100, 4)[:, None, None]).shape == (4, 2, 3)
    assert r.quantile(0.99).shape == (2, 3)
    assert r.sample(7, seed=1).shape == (7, 2, 3)
    assert len(r.to_frame()) == 6
    np.testing.assert_array_equal(r.sample(5, seed=3), r.sample(5, seed=3))


def _one_probe_per_cycle(sim, P, cycles, rng):
    t = (np.arange(10, cycles - 10) + rng.random(cycles - 20)) * P
    return sim.probe_lag_s(t)


def test_probe_lag_matches_simulation_ks():
    P, d0, d1, m = 60.0, 2.0, 0.05, 2.0
    cycles = 2000
    sim = simulate_follower(P, d0, d1, m, horizon_s=P * cycles, seed=11)
    lag = _one_probe_per_cycle(sim, P, cycles, np.random.default_rng(12))
    r = refresh_lag(P, d0, d1, m)
    assert float(r.p_overrun) < 1e-12
    assert stats.kstest(lag, r.cdf).pvalue > ALPHA
    # the model that forgets the change-dependent part of the duration (6 s here) is rejected
    assert stats.kstest(lag, refresh_lag(P, d0).cdf).pvalue < ALPHA


def test_poisson_law_is_needed_when_changes_are_few():
    """Few changes per sync (m P = 2) with a long per-change cost: the duration is very random."""
    P, d0, d1, m = 20.0, 1.0, 4.0, 0.1
    cycles = 3000
    sim = simulate_follower(P, d0, d1, m, horizon_s=P * cycles, seed=5)
    lag = _one_probe_per_cycle(sim, P, cycles, np.random.default_rng(6))
    r = refresh_lag(P, d0, d1, m)
    assert stats.kstest(lag[np.isfinite(lag)], r.cdf).pvalue > ALPHA
    assert stats.kstest(lag, refresh_lag(P, d0 + d1 * m * P).cdf).pvalue < ALPHA


def test_leader_writes_are_size_biased_slivnyak():
    """Lag of the Poisson writes themselves: their cycle holds 1 + Poisson(mP) changes, i.e.
    refresh_lag(P, d0 + d1, d1, m).  One write per cycle, cycle accepted with prob N_k/N_max,
    gives independent typical writes."""
    P, d0, d1, m = 20.0, 1.0, 4.0, 0.1
    cycles = 4000
    sim = simulate_follower(P, d0, d1, m, horizon_s=P * cycles, seed=21)
    rng = np.random.default_rng(22)
    starts, counts = sim.sync_starts_s, sim.sync_changes
    nmax = counts.max()
    picks = []
    for k in range(10, len(starts) - 10):
        if counts[k] and rng.random() < counts[k] / nmax:
            lo = np.searchsorted(sim.write_times_s, starts[k - 1], side="right")
            picks.append(lo + rng.integers(counts[k]))
    picks = np.asarray(picks)
    lag = sim.write_visible_s[picks] - sim.write_times_s[picks]
    assert stats.kstest(lag, refresh_lag(P, d0 + d1, d1, m).cdf).pvalue > ALPHA
    assert stats.kstest(lag, refresh_lag(P, d0, d1, m).cdf).pvalue < ALPHA


def test_snapshot_age_has_same_mean_and_lower_cdf():
    P, d0, d1, m = 30.0, 1.0, 0.5, 0.5
    cycles = 3000
    sim = simulate_follower(P, d0, d1, m, horizon_s=P * cycles, seed=8)
    rng = np.random.default_rng(9)
    t = (np.arange(10, cycles - 10) + rng.random(cycles - 20)) * P
    age = sim.snapshot_age_s(t)
    r = refresh_lag(P, d0, d1, m)
    se = age.std() / np.sqrt(age.size)
    assert abs(age.mean() - float(r.mean_s)) < 4 * se
    # identical CDF up to P + d0: check one point with a binomial standard error
    x = P + d0 - 0.5
    p = float(r.cdf(x))
    assert abs(np.mean(age <= x) - p) < 4 * np.sqrt(p * (1 - p) / age.size)


def test_back_to_back_fluid_period_and_mean():
    # d0 + d1 m P = 10 + 0.5*30 = 25 >= 20: back to back, P_eff = 10 / (1 - 0.01*50) = 20... use P=15
    P, d0, d1, m = 15.0, 10.0, 0.01, 50.0
    r = refresh_lag(P, d0, d1, m)
    assert bool(r.back_to_back) and not bool(r.unbounded)
    assert float(r.effective_period_s) == pytest.approx(20.0)
    sim = simulate_follower(P, d0, d1, m, horizon_s=40000.0, seed=3)
    gaps = np.diff(sim.sync_starts_s[50:])
    # sync-to-sync gap: stationary sd ~0.37 s (branching-with-immigration variance); 0.1 s on the mean
    assert gaps.mean() == pytest.approx(20.0, abs=0.1)
    t = np.random.default_rng(4).uniform(1000.0, 39000.0, 1500)
    lag = sim.probe_lag_s(t)
    # fluid law U(P_eff, 2 P_eff): mean 30 s, sd 5.8 s -> se 0.15 s; fluid bias < 0.05 s here
    assert abs(lag.mean() - float(r.mean_s)) < 4 * lag.std() / np.sqrt(lag.size) + 0.05
    assert float(r.quantile(0.5)) == pytest.approx(30.0, abs=1e-6)


def test_unbounded_is_flagged_and_grows_in_simulation():
    r = refresh_lag(10.0, 1.0, 0.5, 2.0)  # d1 m = 1
    assert bool(r.unbounded) and bool(r.back_to_back)
    assert np.isinf(r.mean_s) and np.isinf(r.quantile(0.5)) and float(r.cdf(1e9)) == 0.0
    assert np.all(np.isinf(r.sample(3, seed=0)))
    sim = simulate_follower(10.0, 1.0, 0.6, 2.0, horizon_s=3000.0, seed=1)  # d1 m = 1.2
    d = sim.sync_ends_s - sim.sync_starts_s
    assert d[-1] > 20 * d[5]


def test_vectorized_mixed_regimes():
    r = refresh_lag([60.0, 10.0, 10.0], [2.0, 8.0, 1.0], [0.01, 0.1, 0.5], [5.0, 5.0, 2.0])
    np.testing.assert_array_equal(r.back_to_back, [False, True, True])
    np.testing.assert_array_equal(r.unbounded, [False, False, True])
    assert r.method.tolist() == ["closed form", "markov chain", "unbounded"]
    # back to back: the exact chain, not the fluid U(P_eff, 2 P_eff) (mean 24 s, expected until
    # issue 11): mean window d0 / (1 - d1 m) = 16 s, mean lag d0 + (1/2 + d1 m) E[A^2]/E[A]
    # with Var[A] = d1^2 m E[A] / (1 - (d1 m)^2) = 16/15 s^2 (back-to-back branching chain)
    np.testing.assert_allclose(r.effective_period_s, [60.0, 16.0, np.inf], rtol=1e-6)
    np.testing.assert_allclose(r.mean_s, [35.0, 8.0 + (16.0 + 1.0 / 15.0), np.inf], rtol=1e-4)


@pytest.mark.parametrize("kwargs,name", [
    (dict(period_s=0.0), "period_s"),
    (dict(period_s=-1.0), "period_s"),
    (dict(period_s=np.nan), "period_s"),
    (dict(period_s=10.0, base_duration_s=-1.0), "base_duration_s"),
    (dict(period_s=10.0, duration_per_change_s=np.nan), "duration_per_change_s"),
    (dict(period_s=10.0, change_rate_per_s=-0.1), "change_rate_per_s"),
    (dict(period_s="soon"), "period_s"),
])
def test_bad_input_names_the_parameter(kwargs, name):
    with pytest.raises(ValueError, match=name):
        refresh_lag(**kwargs)


def test_infinite_arguments():
    for r in (refresh_lag(60.0, 2.0, 0.01, 5.0), refresh_lag(60.0), refresh_lag(10.0, 8.0, 0.1, 5.0)):
        assert float(r.cdf(np.inf)) == 1.0 and float(r.cdf(-np.inf)) == 0.0
    assert float(refresh_lag(10.0, 1.0, 0.5, 2.0).cdf(np.inf)) == 1.0


def test_p_overrun_matches_simulation():
    """P(D >= P) under the Poisson law, against the share of simulated syncs that overran."""
    P, d0, d1, m = 20.0, 2.0, 1.0, 0.5   # D = 2 + Poisson(10): P(D >= 20) = P(N >= 18) ~ 0.014
    r = refresh_lag(P, d0, d1, m)
    p = float(r.p_overrun)
    assert p == pytest.approx(stats.poisson.sf(17, 10.0))
    sim = simulate_follower(P, d0, d1, m, horizon_s=P * 20000, seed=91)
    over = np.mean((sim.sync_ends_s - sim.sync_starts_s)[10:] >= P)
    n = sim.sync_starts_s.size - 10
    # overruns perturb the next cycle slightly; the binomial se is the right scale (4 se)
    assert abs(over - p) < 4 * np.sqrt(p * (1 - p) / n)


def test_bad_quantile_and_cdf_input():
    r = refresh_lag(10.0)
    with pytest.raises(ValueError, match="q"):
        r.quantile(1.5)
    with pytest.raises(ValueError, match="t_s"):
        r.cdf(np.nan)


pos = st.floats(0.5, 500.0)
nonneg = st.floats(0.0, 20.0)


@settings(max_examples=60, deadline=None)
@given(P=pos, dP=st.floats(0.0, 100.0), d0=nonneg, d1=st.floats(0.0, 0.5), m=st.floats(0.0, 5.0))
def test_mean_non_decreasing_in_period(P, dP, d0, d1, m):
    a, b = refresh_lag([P, P + dP], d0, d1, m, method="closed form").mean_s
    assert np.isinf(b) or b >= a - 1e-9 * max(1.0, a)


@settings(max_examples=60, deadline=None)
@given(P=pos, d0=nonneg, d1=st.floats(0.0, 0.5), m=st.floats(0.0, 5.0), dm=st.floats(0.0, 5.0),
       t=st.floats(0.0, 2000.0))
def test_lag_stochastically_non_decreasing_in_change_rate(P, d0, d1, m, dm, t):
    r = refresh_lag(P, d0, d1, [m, m + dm], method="closed form")
    a, b = r.mean_s
    assert np.isinf(b) or b >= a - 1e-9 * max(1.0, a)
    if not r.back_to_back.any():
        ca, cb = r.cdf(t)
        assert cb <= ca + 1e-9


@pytest.mark.parametrize("P,d0,d1,m", [(60.0, 2.0, 0.01, 5.0), (30.0, 0.5, 1.5, 0.2), (15.0, 10.0, 0.01, 50.0)])
def test_expected_excess_matches_integral_of_survival(P, d0, d1, m):
    r = refresh_lag(P, d0, d1, m)
    hi = float(r.quantile(1 - 1e-13)) + 1.0
    grid = np.linspace(0.0, hi, 40001)
    sf = 1 - r.cdf(grid)
    for w in [0.0, d0, 0.5 * float(r.mean_s), float(r.mean_s), float(r.quantile(0.99)), hi]:
        sel = grid >= w
        num = np.trapezoid(sf[sel], grid[sel]) + (grid[sel][0] - w) * sf[sel][0]
        assert float(r.expected_excess_s(w)) == pytest.approx(num, abs=2e-3 * float(r.mean_s) / 100 + 1e-6)
    assert float(r.expected_excess_s(0.0)) == pytest.approx(float(r.mean_s))


def test_expected_excess_beyond_the_support_is_zero_not_rounding_noise():
    """Notebook 01's union row showed a mean hole of 5.684e-14 s for a 7-minute window over a lag
    that never exceeds a minute: the formula's cancellation.  Beyond the support it is 0; inside,
    it is the integral of the survival function."""
    lag = refresh_lag(37.0, 4.4, 0.03, 2.7)
    assert lag.expected_excess_s(420.0) == 0.0 and lag.expected_excess_s(1e6) == 0.0
    for w in (0.0, 20.0, 40.0, 45.0):
        t = np.linspace(w, 80.0, 200_001)        # sf is piecewise linear (kinks every 0.03 s)
        want = np.trapezoid(lag.sf(t), t)
        assert abs(float(lag.expected_excess_s(w)) - want) < 1e-6, w
