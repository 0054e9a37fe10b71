"""Exact queueing laws (M/D/c, M/D/1, GI/M/1) and how QueueMetrics says what it is.

Independent checks: Erlang's M/D/1 formula in 60-digit decimal arithmetic; a dense linear
solve of the truncated M/D/c chain (a different numerical route from the roots + FFT and the
GTH reduction used by followerlab._mdc); the light-traffic limit; the project's simulator
(followerlab.sim.queue) with tolerances of 4 standard errors (see tests/test_sim_queue.py).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special, stats

from followerlab import queueing as qu
from followerlab._mdc import mdc_law
from followerlab.queueing import ggc, gg1, md1, mdc, mg1, mm1, mmc
from followerlab.sim.queue import simulate_ggc
from followerlab.sim.references import md1_wait_cdf

Z = 4.0




def dense_chain_wait_cdf(c, rho, xs, k_max=700):
    """The M/D/c law by brute force: stationary N of N' = (N - c)^+ + A on 0..k_max by a dense
    linear solve, then P(W <= x) = P((N - c)^+ + A' <= (floor(x)+1) c - 1)."""
    a = c * rho
    n = np.arange(k_max + 1)
    P = np.zeros((k_max + 1, k_max + 1))
    for i in n:
        base = max(i - c, 0)
        P[i, base:] = stats.poisson.pmf(n[base:] - base, a)
        P[i, -1] += stats.poisson.sf(k_max - base, a)
    A = P.T - np.eye(k_max + 1)
    A[-1] = 1.0
    rhs = np.zeros(k_max + 1)
    rhs[-1] = 1.0
    p = np.linalg.solve(A, rhs)
    x_pmf = np.bincount(np.maximum(n - c, 0), weights=p)
    out = []
    for x in xs:
        k = math.floor(x)
        m = (k + 1) * c - 1
        b = a * (1 - (x - k))
        j = np.arange(x_pmf.size)
        out.append(float(np.sum(x_pmf * np.where(m - j >= 0, special.pdtr(np.maximum(m - j, 0), b), 0.0))))
    return np.array(out), float(np.sum(np.maximum(n - c, 0) * p))


# ----------------------------------------------------------------- M/D/1 and M/D/c exactness
@pytest.mark.parametrize("rho", [0.1, 0.5, 0.8, 0.95, 0.99])
def test_md1_wait_cdf_equals_erlang_formula(rho):
    law, rows = mdc_law(np.array([1]), np.array([rho]))
    xs = np.array([0.0, 0.25, 1.0, 1.5, 3.7, 8.2, 17.9])
    ref = np.array([md1_wait_cdf(x, rho, digits=60) for x in xs])
    got = law.wait_cdf(xs, np.zeros(xs.size, dtype=int))
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-13)


@pytest.mark.parametrize("rho", [0.1, 0.5, 0.8, 0.95])
def test_md1_quantiles_invert_erlang_formula_and_beat_the_old_guess(rho):
    mu = 2.0
    m = md1(rho * mu, mu)
    assert str(m.method) == "exact" and m.exact_distribution
    for q in (0.5, 0.95, 0.99, 0.999):
        t = float(m.wait_quantile(q))
        if q <= 1 - rho:
            assert t == 0.0
            continue
        assert md1_wait_cdf(t * mu, rho, digits=60) == pytest.approx(q, abs=1e-10)
        assert float(m.response_quantile(q)) == pytest.approx(t + 1 / mu, rel=1e-12)
    # P-K mean and P(wait) = rho in closed form
    assert float(m.mean_wait_s) == pytest.approx(rho / (2 * mu * (1 - rho)), rel=1e-13)
    assert float(m.p_wait) == pytest.approx(rho, rel=1e-13)


def test_md1_old_exponential_tail_was_20_to_35_percent_high_at_light_load():
    # the observation, now measured: the exact p99 is well below the old guess
    for rho in (0.3, 0.5):
        m = md1(rho, 1.0)
        old = np.log(m.p_wait / 0.01) / (m.p_wait / m.mean_wait_s)
        assert 1.15 < float(old / m.wait_quantile(0.99)) < 1.40


@pytest.mark.parametrize("c, rho", [(2, 0.5), (2, 0.95), (4, 0.8), (16, 0.9), (64, 0.95), (5, 0.3)])
def test_mdc_law_matches_dense_linear_solve_of_the_chain(c, rho):
    xs = np.array([0.0, 0.3, 0.99, 1.0, 2.5, 6.0])
    ref, mean_x = dense_chain_wait_cdf(c, rho, xs)
    law, _ = mdc_law(np.array([c]), np.array([rho]))
    got = law.wait_cdf(xs, np.zeros(xs.size, dtype=int))
    np.testing.assert_allclose(got, ref, atol=1e-10)
    assert law.mean_x[0] == pytest.approx(mean_x, rel=1e-8, abs=1e-14)
    assert law.p_wait[0] + law.p_zero[0] == pytest.approx(1.0, abs=1e-13)


@pytest.mark.parametrize("c", [1, 3, 16])
def test_mdc_light_traffic_limit_with_full_relative_accuracy(c):
    # at light load nobody waits, so N(t) = arrivals in (t - D, t] ~ Poisson(a):
    # P(wait) = P(Poisson(a) >= c) (1 + O(a)) even when it is 1e-40
    for rho in (1e-9, 1e-6, 1e-3):
        a = c * rho
        m = mdc(a, 1.0, c)
        ref = stats.poisson.sf(c - 1, a)
        assert float(m.p_wait) == pytest.approx(ref, rel=5 * a + 1e-9)
        assert float(m.mean_wait_s) > 0.0


def test_mdc_saturated_and_idle():
    m = mdc([0.0, 3.999, 4.0, 5.0], 1.0, 4)
    assert m.stable.tolist() == [True, True, False, False]
    assert m.p_wait[0] == 0.0 and m.mean_wait_s[0] == 0.0
    assert np.isinf(m.mean_wait_s[2:]).all() and np.isinf(m.wait_quantile(0.5)[2:]).all()
    assert np.isfinite(m.wait_quantile(0.999)[1])
    assert m.method.tolist() == ["exact"] * 4


@pytest.mark.parametrize("c, rho", [(1, 0.8), (2, 0.5), (4, 0.8), (16, 0.95), (64, 0.8), (4, 0.1)])
def test_mdc_against_simulation(c, rho):
    m = mdc(rho * c, 1.0, c)
    r = simulate_ggc(rho * c, 1.0, c, 1.0, 0.0, customers=12_000, replications=32, warmup=2_000, seed=c)
    assert abs(r.mean_wait_s - float(m.mean_wait_s)) < Z * r.mean_wait_se_s + 1e-4
    assert abs(r.p_wait - float(m.p_wait)) < Z * r.p_wait_se + 1e-4
    # distribution function at a few points: per-replication fractions give the SE
    law_x = np.array([0.0, 0.1, 0.5, 1.0, 2.0])
    law, rows = mdc_law(np.array([c]), np.array([rho]))
    cdf = law.wait_cdf(law_x, np.zeros(law_x.size, dtype=int))
    frac = (r.wait_samples_s[:, :, None] <= law_x).mean(axis=1)  # (R, points)
    se = frac.std(axis=0, ddof=1) / np.sqrt(frac.shape[0])
    assert np.all(np.abs(frac.mean(axis=0) - cdf) < Z * se + 2e-3)


# ----------------------------------------------------------------- GI/M/1
def test_d_m_1_sigma_closed_form():
    # D/M/1, lambda = 0.5, mu = 1: sigma = exp(-2 (1 - sigma)); W = sigma / (mu (1 - sigma))
    s = 0.5
    for _ in range(200):
        s = math.exp(-2 * (1 - s))
    m = gg1(0.5, 1.0, 0.0, 1.0)
    assert str(m.method) == "exact"
    assert float(m.p_wait) == pytest.approx(s, rel=1e-12)
    assert float(m.mean_wait_s) == pytest.approx(s / (1 - s), rel=1e-12)
    # W | W > 0 ~ Exp(mu (1 - sigma))
    assert float(m.wait_quantile(0.99)) == pytest.approx(np.log(s / 0.01) / (1 - s), rel=1e-9)


@pytest.mark.parametrize("ca, rho", [(0.5, 0.8), (2.0, 0.5), (2.0, 0.9)])
def test_gi_m_1_against_simulation(ca, rho):
    m = gg1(rho, 1.0, ca, 1.0)
    assert str(m.method) == "exact"
    r = simulate_ggc(rho, 1.0, 1, ca, 1.0, customers=40_000, replications=64, warmup=4_000, seed=3)
    assert abs(r.mean_wait_s - float(m.mean_wait_s)) < Z * r.mean_wait_se_s
    assert abs(r.p_wait - float(m.p_wait)) < Z * r.p_wait_se
    assert r.wait_quantile(0.99) == pytest.approx(float(m.wait_quantile(0.99)), rel=0.04)


# ----------------------------------------------------------------- what QueueMetrics says
def test_method_per_configuration_and_mixed_laws_in_one_call():
    cs = np.array([1.0, 0.0, 0.5, 2.0])
    m = ggc(1.6, 1.0, 2, 1.0, cs, sim_customers=5_000)
    assert m.method.tolist() == ["exact", "exact", "simulated", "simulated"]
    assert not m.exact_distribution
    assert (m.mean_wait_se_s[:2] == 0).all() and (m.mean_wait_se_s[2:] > 0).all()
    assert (m.max_rel_error == 0).all()
    q = np.array([0.5, 0.99])[:, None]
    wq, rq = m.wait_quantile(q), m.response_quantile(q)
    assert wq.shape == rq.shape == (2, 4)
    # each element is the law of its own configuration
    np.testing.assert_allclose(wq[:, 0], mmc(1.6, 1.0, 2).wait_quantile([0.5, 0.99]))
    np.testing.assert_allclose(wq[:, 1], mdc(1.6, 1.0, 2).wait_quantile([0.5, 0.99]))
    np.testing.assert_allclose(rq[:, 1], 1.0 + wq[:, 1])
    single = ggc(1.6, 1.0, 2, 1.0, 0.5, sim_customers=5_000)
    assert float(single.mean_wait_s) == m.mean_wait_s[2]  # per-configuration seeds
    assert (m.wait_quantile_se(0.99)[2:] > 0).all() and m.wait_quantile_se(0.99)[0] == 0
    assert np.all(rq >= wq)
    frame = m.to_frame()
    assert frame["method"].tolist() == m.method.tolist()
    assert {"max_rel_error", "mean_wait_se_s", "mean_response_se_s"} <= set(frame)
    assert "gamma" in m.assumptions


def test_simulated_results_are_seeded_and_honest():
    a = ggc(3.2, 1.0, 4, 1.0, 1.0, method="simulate", seed=1, sim_customers=8_000)
    b = ggc(3.2, 1.0, 4, 1.0, 1.0, method="simulate", seed=1, sim_customers=8_000)
    c = ggc(3.2, 1.0, 4, 1.0, 1.0, method="simulate", seed=2, sim_customers=8_000)
    assert str(a.method) == "simulated"
    assert float(a.mean_wait_s) == float(b.mean_wait_s) != float(c.mean_wait_s)
    exact = mmc(3.2, 1.0, 4)
    assert abs(float(a.mean_wait_s - exact.mean_wait_s)) < Z * float(a.mean_wait_se_s)
    for q in (0.5, 0.9, 0.99):
        err = abs(float(a.response_quantile(q) - exact.response_quantile(q)))
        assert err < Z * float(a.response_quantile_se(q)) + 0.02


def test_approximation_is_labelled_and_auto_never_uses_an_unmeasured_or_bad_one():
    m = ggc(3.2, 1.0, 4, 2.0, 0.5, method="approximation")
    assert str(m.method).startswith("approximation: Allen–Cunneen")
    assert str(gg1(0.5, 1.0, 0.5, 0.5, method="approximation").method).startswith("approximation: QNA")
    rng = np.random.default_rng(0)
    c = rng.choice([1, 2, 4, 16, 64], 400)
    rho = rng.uniform(0.1, 0.95, 400)
    ca, cs = rng.uniform(0.5, 2.0, 400), rng.uniform(0.0, 4.0, 400)
    bound = qu._approx_bound(c, rho, ca, cs)
    a = ggc(rho * c, 1.0, c, ca, cs, method="approximation")
    approx = np.char.startswith(a.method.astype(str), "approximation")
    np.testing.assert_array_equal(a.max_rel_error[approx], bound[approx])
    # auto: an approximation is used only where its measured bound is within 5 %
    use = approx & (bound <= 0.05) & ~((c == 1) & (ca == 1.0))
    assert np.all(np.isfinite(bound[use]))


def test_mg1_is_exact_for_gamma_and_for_a_given_distribution():
    m = mg1(0.8, 1.0, [0.0, 1.0, 2.0])
    assert m.method.tolist() == ["exact"] * 3 and m.exact_distribution
    assert "gamma" in m.assumptions
    np.testing.assert_allclose(m.mean_wait_s, [2.0, 4.0, 10.0])
    # cv 2: the exact law (followerlab._mg1) within 2 % of a long simulation
    r = simulate_ggc(0.8, 1.0, 1, 1.0, 2.0, customers=200_000, replications=32, warmup=20_000, seed=8)
    for q in (0.5, 0.99):
        assert float(m.wait_quantile(q)[2]) == pytest.approx(r.wait_quantile(q), rel=0.03)
    # ggc / gg1 with one server and Poisson arrivals use the same law
    q = np.array([0.5, 0.99])
    np.testing.assert_allclose(gg1(0.8, 1.0, 1.0, 2.0).wait_quantile(q), m.wait_quantile(q[:, None])[:, 2])
    assert str(ggc(0.8, 1.0, 1, 1.0, 2.0).method) == "exact"


def test_mg1_with_a_mixture_service_against_simulation():
    from followerlab import latency
    from followerlab.sim.queue import simulate_queue

    s = latency.mixture([latency.constant(0.05), latency.constant(2.0)], [0.99, 0.01])
    m = mg1([5.0, 10.0], service=s)
    assert m.method.tolist() == ["exact", "exact"] and m.assumptions == ""
    assert m.service_cv[0] == pytest.approx(np.sqrt((0.99 * 0.05**2 + 0.01 * 4.0) / 0.0695**2 - 1))

    def serv(rng, size):
        return np.where(rng.random(size) < 0.99, 0.05, 2.0)

    r = simulate_queue(stats.expon(scale=0.1), serv, 1, customers=100_000, replications=32, warmup=10_000, seed=5)
    assert abs(r.mean_wait_s - float(m.mean_wait_s[1])) < Z * r.mean_wait_se_s
    assert float(m.wait_quantile(0.99)[1]) == pytest.approx(r.wait_quantile(0.99), rel=0.05)
    assert float(m.wait_quantile(0.5)[1]) == pytest.approx(r.wait_quantile(0.5), rel=0.05)
    with pytest.raises(ValueError, match="either"):
        mg1(1.0, 0.05, 1.0, service=s)
    with pytest.raises(ValueError, match="needs"):
        mg1(1.0)


def test_method_option_is_validated():
    with pytest.raises(ValueError, match="method"):
        ggc(1.0, 1.0, 2, 1.0, 0.5, method="fast")
    with pytest.raises(ValueError, match="sim_customers"):
        ggc(1.0, 1.0, 2, 1.0, 0.5, sim_customers=10)


def test_exact_distribution_alias_still_reports_all_exact():
    assert mm1(0.5, 1.0).exact_distribution and mmc(1.0, 1.0, 3).exact_distribution
    assert md1(0.5, 1.0).exact_distribution and mg1(0.5, 1.0, 0.5).exact_distribution
    assert not ggc(1.5, 1.0, 2, 1.0, 0.5, method="approximation").exact_distribution
