"""followerlab._mg1: exact (numerical) M/G/1 wait and response laws.

Checked against closed forms (M/M/1; M/D/1 by Erlang's formula in 80-digit decimal
arithmetic), the Pollaczek–Khinchine moments, and seeded long simulations with the project's
Lindley-recursion simulator (followerlab.sim.queue).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from followerlab import latency
from followerlab._mg1 import MG1Distribution, mg1_distribution, mg1_gamma, mg1_gamma_mixture
from followerlab.sim.references import md1_wait_cdf, md1_wait_ppf


# --------------------------------------------------------------------------------------------
# closed forms
# --------------------------------------------------------------------------------------------




@pytest.mark.parametrize("rho", [0.1, 0.5, 0.8, 0.95])
def test_mm1_wait_and_response_laws_exact(rho):
    d = mg1_distribution(rho, latency.exponential(1.0))
    t = np.array([0.0, 0.01, 0.3, 1.0, 3.0, 10.0, 40.0])
    assert np.max(np.abs(d.wait_cdf(t) - (1 - rho * np.exp(-(1 - rho) * t)))) < 1e-6
    assert np.max(np.abs(d.response_cdf(t) - (1 - np.exp(-(1 - rho) * t)))) < 1e-6
    q = np.array([0.5, 0.9, 0.99, 0.999])
    exact_w = np.where(q <= 1 - rho, 0.0, np.log(rho / np.maximum(1 - q, 1e-300)) / (1 - rho))
    got = d.wait_ppf(q)
    pos = exact_w > 0
    np.testing.assert_allclose(got[pos], exact_w[pos], rtol=1e-5)
    assert np.all(got[~pos] == 0.0)
    np.testing.assert_allclose(d.response_ppf(q), -np.log(1 - q) / (1 - rho), rtol=1e-5)
    assert float(d.mean_wait_s) == pytest.approx(rho / (1 - rho), rel=1e-14)


@pytest.mark.parametrize("rho", [0.1, 0.3, 0.5, 0.9])
def test_md1_wait_cdf_matches_erlang_formula(rho):
    lam, dd = rho / 0.2, 0.2       # D = 0.2 s, odd rate
    d = mg1_gamma(lam, dd, 0.0)
    t = np.concatenate([np.linspace(0, 12 * dd if rho < 0.9 else 40 * dd, 97), [dd, 2 * dd, 3 * dd]])
    exact = np.array([md1_wait_cdf(x, lam * dd, dd) for x in t])
    assert np.max(np.abs(d.wait_cdf(t) - exact)) < 1e-6
    # response: T = W + D, so F_T(t) = F_W(t - D), a jump of 1 - rho at D
    np.testing.assert_allclose(d.response_cdf(t + dd), exact, atol=1e-6)
    assert float(d.response_cdf(dd * (1 - 1e-9))) == 0.0
    q = np.array([0.5, 0.9, 0.99, 0.999])
    q = q[q > 1 - rho + 1e-3]
    exact_q = np.array([md1_wait_ppf(x, lam * dd, dd) for x in q])
    np.testing.assert_allclose(d.wait_ppf(q), exact_q, rtol=1e-5)
    np.testing.assert_allclose(d.response_ppf(q), exact_q + dd, rtol=1e-5)


def test_mixture_of_constants_wait_cdf_matches_pk_moments():
    """Two-point service (99 % 50 ms, 1 % 5 s): E[W] and E[W^2] from the lattice match P–K.

    E[W^2] = 2 E[W]^2 + lam E[S^3] / (3 (1 - rho)) (Takács)."""
    s = latency.mixture([latency.constant(0.05), latency.constant(5.0)], [0.99, 0.01])
    lam = 0.8 / 0.0995
    d = mg1_distribution(lam, s)
    es2 = 0.99 * 0.05**2 + 0.01 * 25.0
    es3 = 0.99 * 0.05**3 + 0.01 * 125.0
    ew = lam * es2 / (2 * (1 - 0.8))
    ew2 = 2 * ew**2 + lam * es3 / (3 * (1 - 0.8))
    assert float(d.mean_wait_s) == pytest.approx(ew, rel=1e-12)
    t = np.linspace(0, 150.0, 150_001)   # sf(150 s) < 1e-9; the lattice step 150/2**14 s resolves 50 ms
    sf = d.wait_sf(t)
    m1 = np.trapezoid(sf, t)
    m2 = np.trapezoid(2 * t * sf, t)
    assert m1 == pytest.approx(ew, rel=2e-5)
    assert m2 == pytest.approx(ew2, rel=2e-5)


def test_saturated_and_degenerate_configurations():
    d = mg1_gamma([0.0, 0.5, 1.0, 2.0], 1.0, 1.0)
    assert d.stable.tolist() == [True, True, False, False]
    assert np.all(np.isinf(d.mean_wait_s[2:]))
    w = d.wait_ppf(0.99)
    assert w[0] == 0.0 and np.isfinite(w[1]) and np.all(np.isinf(w[2:]))
    assert np.all(np.isinf(d.response_ppf(0.5)[2:]))
    np.testing.assert_array_equal(d.wait_cdf(3.0)[2:], [0.0, 0.0])
    assert d.wait_cdf(0.0)[0] == 1.0 and d.wait_cdf(0.0)[1] == 0.5
    assert float(d.response_ppf(0.5)[0]) == pytest.approx(math.log(2), rel=1e-6)   # lam = 0: T = S
    assert d.wait_ppf(1.0)[1] == np.inf and d.wait_ppf(0.0)[1] == 0.0


def test_broadcasting_and_to_frame():
    d = mg1_gamma(np.array([[0.2], [0.5]]), 1.0, np.array([0.0, 1.0, 2.0]))
    assert d.utilization.shape == (2, 3)
    assert d.wait_ppf(0.9).shape == (2, 3)
    qs = d.response_ppf(np.array([0.5, 0.9, 0.99])[:, None, None])
    assert qs.shape == (3, 2, 3)
    assert np.all(np.diff(qs, axis=0) > 0)
    single = mg1_gamma(0.5, 1.0, 2.0).response_ppf([0.5, 0.9, 0.99])
    np.testing.assert_allclose(qs[:, 1, 2], single, rtol=1e-9)
    assert len(d.to_frame()) == 6


def test_gamma_mixture_family_equals_latency_mixture():
    lam = np.array([2.0, 5.0])
    fam = mg1_gamma_mixture(lam, 0.9, 0.05, 0.5, 1.0, 2.0)
    obj = mg1_distribution(lam, latency.mixture([latency.gamma(0.05, 0.5), latency.gamma(1.0, 2.0)], [0.9, 0.1]))
    np.testing.assert_allclose(fam.mean_wait_s, obj.mean_wait_s, rtol=1e-12)
    np.testing.assert_allclose(fam.wait_ppf([[0.5], [0.99]]), obj.wait_ppf([[0.5], [0.99]]), rtol=1e-9)
    np.testing.assert_allclose(fam.response_ppf(0.99), obj.response_ppf(0.99), rtol=1e-9)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="arrival_rate"):
        mg1_gamma(-1.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="cv"):
        mg1_gamma(1.0, 1.0, -0.5)
    with pytest.raises(ValueError, match="q must"):
        mg1_gamma(0.5, 1.0, 1.0).wait_ppf(1.5)
    with pytest.raises(ValueError, match="service"):
        mg1_distribution(0.5, 3.0)
    with pytest.raises(ValueError, match="p must"):
        mg1_gamma_mixture(1.0, 1.2, 0.1, 1.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="q of shape"):
        mg1_gamma([0.5, 0.6, 0.7], 1.0, 1.0).wait_ppf([0.5, 0.9])
    assert isinstance(mg1_gamma(0.5, 1.0, 1.0), MG1Distribution)


# --------------------------------------------------------------------------------------------
# against long seeded simulations (followerlab.sim.queue: Lindley recursion)
# --------------------------------------------------------------------------------------------
def simulate_mg1(lam, service, customers, replications=32, seed=1):
    """Waits and responses of a simulated M/G/1 queue, shape (replications, measured customers).

    The service sampler records its draws so the response of each customer is its wait plus
    its own service time."""
    from scipy import stats

    from followerlab.sim.queue import simulate_queue

    drawn = []

    def sampler(rng, size):
        x = np.asarray(service.rvs(size=size, random_state=rng), dtype=float)
        drawn.append(x)
        return x

    warmup = customers // 10
    r = simulate_queue(stats.expon(scale=1 / lam), sampler, 1, customers=customers,
                       replications=replications, warmup=warmup, seed=seed)
    services = np.concatenate(drawn, axis=0)[warmup:].T
    return r.wait_samples_s, r.wait_samples_s + services


def summary(x):
    """Pooled (mean, p50, p99) and their standard errors from the independent replications."""
    pooled = np.array([x.mean(), np.quantile(x, 0.5), np.quantile(x, 0.99)])
    per = np.stack([x.mean(axis=1), np.quantile(x, 0.5, axis=1), np.quantile(x, 0.99, axis=1)])
    return pooled, per.std(axis=1, ddof=1) / np.sqrt(x.shape[0])


SIM_CASES = [
    # (label, service (s), rho, customers per replication)
    ("deterministic", latency.constant(1.0), 0.8, 160_000),
    ("gamma cv 0.5", latency.gamma(1.0, 0.5), 0.5, 120_000),
    ("gamma cv 2", latency.gamma(1.0, 2.0), 0.5, 160_000),
    ("gamma cv 4", latency.gamma(1.0, 4.0), 0.1, 300_000),
    ("lognormal", latency.shifted_lognormal(0.0, 0.05, 0.5), 0.5, 260_000),
    ("pareto a=3", latency.pareto(1.0, 3.0), 0.5, 160_000),
    ("empirical", latency.empirical(np.random.default_rng(1).gamma(0.5, 0.1, 200)), 0.5, 160_000),
    ("99% 50 ms + 1% 5 s", latency.mixture([latency.constant(0.05), latency.constant(5.0)], [0.99, 0.01]),
     0.3, 200_000),
]


@pytest.mark.parametrize("label, service, rho, customers", SIM_CASES, ids=[c[0] for c in SIM_CASES])
def test_mean_p50_p99_of_wait_and_response_match_long_simulation(label, service, rho, customers):
    lam = rho / float(np.asarray(service.mean()))
    d = mg1_distribution(lam, service)
    waits, responses = simulate_mg1(lam, service, customers, seed=11)
    model = {
        "wait": np.array([float(d.mean_wait_s), *d.wait_ppf([0.5, 0.99])]),
        "response": np.array([float(d.mean_response_s), *d.response_ppf([0.5, 0.99])]),
    }
    for kind, x in (("wait", waits), ("response", responses)):
        sim, se = summary(x)
        for name, m, s, e in zip(("mean", "p50", "p99"), model[kind], sim, se):
            if kind == "wait" and name == "p50" and rho <= 0.5:
                # the median wait is the atom at 0 (P(W = 0) = 1 - rho >= 1/2); at rho = 1/2
                # exactly the sample median falls on either side of the atom's edge
                assert m == 0.0 and (rho == 0.5 or s == 0.0), (label, s)
                continue
            assert e < 0.008 * s, f"{label} {kind} {name}: simulation too noisy to check 2 % ({e / s:.2%})"
            assert abs(m - s) < 0.02 * s, f"{label} {kind} {name}: model {m:.6g}, simulation {s:.6g} ± {e:.2g}"


def test_admin_node_one_core_uses_exact_mixture_law():
    """Planning (50 ms, cv 1) at 10/s plus rare 0.5 s control commands (cv 0.5) at 0.2/s, one core.

    The p50/p99 are the exact M/G/1 law of the mixture (checked by simulation); with two cores
    the G/G/c approximation is used and flagged."""
    from followerlab import consistency

    r = consistency.admin_node_load(10.0, 0.0, planning_s=0.05, planning_cv=1.0,
                                    control_rate_per_s=0.2, control_s=0.5, control_cv=0.5)
    assert bool(r.admin_quantiles_exact) and bool(r.head_quantiles_exact)
    assert float(r.admin_utilization) == pytest.approx(0.6)
    service = latency.mixture([latency.gamma(0.05, 1.0), latency.gamma(0.5, 0.5)], [10 / 10.2, 0.2 / 10.2])
    d = mg1_distribution(10.2, service)
    assert float(r.admin_p50_response_s) == pytest.approx(float(d.response_ppf(0.5)), rel=1e-5)
    assert float(r.admin_p99_response_s) == pytest.approx(float(d.response_ppf(0.99)), rel=1e-5)
    assert float(r.admin_mean_response_s) == pytest.approx(float(d.mean_response_s), rel=1e-12)
    _, responses = simulate_mg1(10.2, service, 300_000, seed=5)
    sim, se = summary(responses)
    model = [float(r.admin_mean_response_s), float(r.admin_p50_response_s), float(r.admin_p99_response_s)]
    for m, s, e in zip(model, sim, se):
        assert e < 0.008 * s and abs(m - s) < 0.02 * s, (m, s, e)
    two = consistency.admin_node_load(10.0, 0.0, planning_s=0.05, control_rate_per_s=0.2, control_s=0.5,
                                      control_cv=0.5, admin_cores=[1, 2])
    assert two.admin_quantiles_exact.tolist() == [True, False]
    assert two.admin_p99_response_s[0] == pytest.approx(float(r.admin_p99_response_s), rel=1e-12)


def test_admin_node_exponential_fast_path_equals_the_lattice():
    """Exponential service takes the M/M/1 closed form; the lattice gives the same quantiles."""
    from followerlab import consistency

    lam = np.array([2.0, 10.0, 18.0])
    r = consistency.admin_node_load(lam, 0.0, planning_s=0.05, planning_cv=1.0,
                                    control_rate_per_s=[0.0, 1.0, 0.5], control_s=0.05, control_cv=1.0)
    assert r.admin_quantiles_exact.all()
    d = mg1_gamma(lam + np.array([0.0, 1.0, 0.5]), 0.05, 1.0)
    np.testing.assert_allclose(r.admin_p50_response_s, d.response_ppf(0.5), rtol=1e-5)
    np.testing.assert_allclose(r.admin_p99_response_s, d.response_ppf(0.99), rtol=1e-5)


@pytest.mark.parametrize("name", ["weibull (scipy, generic)", "convolve (tabulated)", "lognormal+constant", "shifted gamma"])
def test_other_services_integrate_to_the_pk_means(name):
    """The whole wait and response laws integrate to the P–K means (independent closed form)."""
    from scipy import stats

    svc = {
        "weibull (scipy, generic)": stats.weibull_min(0.7, scale=1.0),
        "convolve (tabulated)": latency.convolve(latency.exponential(1.0), latency.exponential(1.0)),
        "lognormal+constant": latency.mixture([latency.shifted_lognormal(0.0, 0.5, 3.0), latency.constant(1.0)],
                                              [0.5, 0.5]),
        "shifted gamma": latency.shifted(latency.gamma(1.0, 2.0), 0.5),
    }[name]
    d = mg1_distribution(0.7 / float(np.asarray(svc.mean())), svc)
    t = np.linspace(0.0, 2 * float(d.wait_ppf(0.9999)), 100_001)
    assert np.trapezoid(d.wait_sf(t), t) == pytest.approx(float(d.mean_wait_s), rel=2e-5)
    assert np.trapezoid(d.response_sf(t), t) == pytest.approx(float(d.mean_response_s), rel=2e-5)


def test_service_with_hidden_point_masses_is_refused():
    with pytest.raises(ValueError, match="point masses"):
        mg1_distribution(0.1, latency.order_statistic([latency.constant(1.0), latency.constant(2.0)], 1))


def test_accuracy_table_hook_smoke():
    """benchmarks/accuracy_mg1.py: rows(smoke=True) has the accuracy-table keys; exact-law rows are tight."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "benchmarks" / "accuracy_mg1.py"
    spec = importlib.util.spec_from_file_location("accuracy_mg1", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rows = module.rows(True)
    keys = {"formula", "regime", "metric", "worst_rel_error", "median_rel_error", "n_points", "reference"}
    assert rows and all(set(r) == keys for r in rows)
    exact = [r for r in rows if r["regime"].startswith(("M/M/1", "M/D/1"))]
    assert len(exact) == 6 and all(r["worst_rel_error"] < 2e-6 for r in exact)


@pytest.mark.parametrize("rho", [0.985, 0.993, 0.999])
def test_cdfs_near_saturation_take_more_points(rho):
    # regression: the CDFs kept a fixed 2**14 lattice; at rho = 0.999 the M/M/1 wait CDF at its
    # own p50/p90/p99 was 7.4e-4 off.  Exact: P(W <= t) = 1 - rho exp(-(1 - rho) t) (mean 1)
    t = np.log(rho / (1 - np.array([0.5, 0.9, 0.99]))) / (1 - rho)
    exact = 1 - rho * np.exp(-(1 - rho) * t)
    d = mg1_gamma(rho, 1.0, 1.0)
    assert np.abs(d.wait_cdf(t) - exact).max() < 1e-7
    assert np.abs(d.wait_sf(t) - (1 - exact)).max() < 1e-7
    if rho == 0.999:   # the fixed default would be off
        assert np.abs(mg1_gamma(rho, 1.0, 1.0, auto_points=False).wait_cdf(t) - exact).max() > 1e-4


@pytest.mark.parametrize("rho", [0.985, 0.993, 0.999])
def test_quantiles_near_saturation_take_more_points(rho):
    # regression: a fixed 2**14 lattice had its p99 2.1 % low at rho = 0.999 (CV 0.37) while the
    # queue said "exact"; quantiles now use at least min_points(rho).  Reference: the Talbot
    # inversion (no lattice) at CV 0.4
    from followerlab._mg1 import min_points
    from followerlab._talbot import mg1_gamma_mixture_response_ppf

    d = mg1_gamma(rho, 1.0, 0.4)
    got = d.response_ppf(np.array([0.5, 0.99]))
    ref = np.array(mg1_gamma_mixture_response_ppf(rho, 1.0, 1.0, 0.4, 1.0, 0.4)).ravel()
    assert np.abs(got / ref - 1).max() < 5e-6
    assert int(min_points(rho)) >= d.points
    if rho == 0.999:   # the fixed default would be off
        fixed = mg1_gamma(rho, 1.0, 0.4, auto_points=False).response_ppf(np.array([0.5, 0.99]))
        assert np.abs(fixed / ref - 1).max() > 1e-4
