"""followerlab.queueing against closed forms, published tables, exact arithmetic and properties.

Simulation cross-checks live in tests/test_sim_queue.py (own simulator) and
tests/test_queueing_ciw.py (Ciw, a peer discrete-event library).
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, special, stats

from followerlab import queueing as qu
from followerlab.queueing import erlang_b, erlang_c, gg1, ggc, md1, mg1, mm1, mmc


# ----------------------------------------------------------------- independent references
def erlang_b_recursion(c: int, a: float) -> float:
    """Textbook recursion B(k) = a B(k-1) / (k + a B(k-1)), B(0) = 1 (no factorials either)."""
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b


def erlang_c_exact(c: int, a: Fraction) -> Fraction:
    """Erlang C from its factorial definition in exact rational arithmetic (FACTS.md)."""
    rho = a / c
    top = a**c / math.factorial(c) / (1 - rho)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


def mmc_mean_in_system_birth_death(lam: float, mu: float, c: int, kmax: int = 4000) -> float:
    """L = sum k pi_k from the M/M/c birth-death chain, solved numerically (truncated)."""
    k = np.arange(kmax + 1)
    a = lam / mu
    log_pi = np.where(
        k <= c,
        k * np.log(a) - np.array([math.lgamma(x + 1) for x in np.minimum(k, c)]),
        c * np.log(a) - math.lgamma(c + 1) + (k - c) * np.log(a / c),
    )
    pi = np.exp(log_pi - log_pi.max())
    pi /= pi.sum()
    return float((k * pi).sum())


# ----------------------------------------------------------------- published values
def test_erlang_b_published_trunk_group_15_lines_1_percent():
    # erlang.com Erlang B calculator manual ("How much traffic can a trunk group handle?"):
    # 15 lines at 1 % blocking carry 8.108 Erlangs.  8.108 is rounded to 1e-3 Erlang; near this
    # point dB/da ~ 0.007 per Erlang, so the rounding moves B by < 4e-6: tolerance 1e-5.
    assert erlang_b(15, 8.108) == pytest.approx(0.01, abs=1e-5)


def test_erlang_b_published_lines_for_33_erlangs():
    # erlang.com forum (Webmaster, 2001-12-05): 1200 calls/h of 100 s = 33.33 Erlangs need
    # 45 lines for 1 % blocking, i.e. 45 lines block <= 1 % and 44 lines do not.
    lines = np.arange(30, 60)
    b = erlang_b(lines, 33.333)
    assert int(lines[np.argmax(b <= 0.01)]) == 45


def test_erlang_b_matches_recursion_up_to_thousands_of_servers():
    for c, a in [(1, 0.3), (7, 5.0), (50, 45.0), (300, 290.0), (1000, 950.0), (5000, 4900.0)]:
        assert erlang_b(c, a) == pytest.approx(erlang_b_recursion(c, a), rel=1e-9)


def test_erlang_c_matches_exact_rational_arithmetic():
    for c in [1, 2, 3, 5, 10, 20, 40]:
        for rho in [Fraction(1, 10), Fraction(1, 2), Fraction(9, 10), Fraction(99, 100)]:
            a = rho * c
            assert erlang_c(c, float(a)) == pytest.approx(float(erlang_c_exact(c, a)), rel=1e-11)


def test_erlang_c_stable_for_thousands_of_servers():
    c = np.array([100, 1000, 3000])
    a = 0.98 * c
    got = erlang_c(c, a)
    rho = a / c
    b = np.array([erlang_b_recursion(int(ci), ai) for ci, ai in zip(c, a)])
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, b / (1 - rho * (1 - b)), rtol=1e-9)


# ----------------------------------------------------------------- closed forms
def test_mm1_closed_forms():
    lam, mu = np.array([0.1, 0.5, 0.9, 0.99]), 1.0
    m = mm1(lam, mu)
    rho = lam / mu
    np.testing.assert_allclose(m.utilization, rho)
    np.testing.assert_allclose(m.p_wait, rho)
    np.testing.assert_allclose(m.mean_wait_s, rho / (mu - lam))
    np.testing.assert_allclose(m.mean_response_s, 1 / (mu - lam))
    np.testing.assert_allclose(m.mean_in_system, rho / (1 - rho))  # geometric queue length
    q = np.array([0.5, 0.9, 0.99, 0.999])[:, None]
    # response ~ Exp(mu - lam): exact quantiles
    np.testing.assert_allclose(m.response_quantile(q), -np.log(1 - q) / (mu - lam), rtol=1e-9)
    # P(Wq > t) = rho e^{-(mu - lam) t}
    expected = np.maximum(np.log(rho / (1 - q)) / (mu - lam), 0.0)
    np.testing.assert_allclose(m.wait_quantile(q), expected, rtol=1e-12, atol=1e-15)


def test_kingman_and_allen_cunneen_exact_for_markovian_cases():
    lam, mu = np.linspace(0.05, 0.95, 7), 1.0
    ref = lam / (mu * (mu - lam))  # M/M/1 mean wait, rho / (mu - lam)
    np.testing.assert_allclose(gg1(lam, mu, 1.0, 1.0).mean_wait_s, ref, rtol=1e-12)
    np.testing.assert_allclose(ggc(lam, mu, 1, 1.0, 1.0).mean_wait_s, ref, rtol=1e-12)
    np.testing.assert_allclose(mmc(lam, mu, 1).mean_wait_s, ref, rtol=1e-12)
    np.testing.assert_allclose(mm1(lam, mu).response_quantile(0.9), mmc(lam, mu, 1).response_quantile(0.9))
    c = np.array([1, 2, 5, 20])[:, None]
    lam_c = 0.8 * c * mu
    np.testing.assert_allclose(ggc(lam_c, mu, c, 1.0, 1.0).mean_wait_s, mmc(lam_c, mu, c).mean_wait_s)


def test_pollaczek_khinchine_special_cases():
    lam, es = np.linspace(0.05, 0.95, 7), 1.0
    rho = lam * es
    # M/D/1: Wq = rho E[S] / (2 (1 - rho)); M/M/1: twice that.
    np.testing.assert_allclose(md1(lam, 1 / es).mean_wait_s, rho * es / (2 * (1 - rho)), rtol=1e-12)
    np.testing.assert_allclose(md1(lam, 1 / es).mean_wait_s, mg1(lam, es, 0.0).mean_wait_s)
    np.testing.assert_allclose(mg1(lam, es, 1.0).mean_wait_s, mm1(lam, 1 / es).mean_wait_s, rtol=1e-12)
    np.testing.assert_allclose(gg1(lam, 1 / es, 1.0, 1.7).mean_wait_s, mg1(lam, es, 1.7).mean_wait_s)
    np.testing.assert_allclose(mg1(lam, es, 0.5).p_wait, rho)


def test_mmc_mean_matches_birth_death_chain_littles_law():
    # Little's law, W = L / lambda, with L from the numerically solved birth-death chain.
    for lam, mu, c in [(1.5, 1.0, 2), (8.0, 1.0, 10), (0.5, 2.0, 1), (45.0, 1.0, 50)]:
        L = mmc_mean_in_system_birth_death(lam, mu, c)
        m = mmc(lam, mu, c)
        assert float(m.mean_response_s) == pytest.approx(L / lam, rel=1e-9)
        assert float(m.mean_in_system) == pytest.approx(L, rel=1e-9)


def _mmc_response_cdf_by_quadrature(t, lam, mu, c):
    C = float(erlang_c(c, lam / mu))
    theta = c * mu - lam
    conv, _ = integrate.quad(lambda s: theta * np.exp(-theta * s) * (1 - np.exp(-mu * (t - s))), 0, t,
                             epsabs=1e-13, epsrel=1e-12)
    return (1 - C) * (1 - np.exp(-mu * t)) + C * conv


@pytest.mark.parametrize("lam, mu, c", [(1.5, 1.0, 2), (8.0, 1.0, 10), (0.99, 1.0, 1), (2.0, 1.0, 3)])
def test_mmc_response_quantile_inverts_exact_cdf(lam, mu, c):
    # theta = c mu - lam equals mu for (2, 1, 3): the hypoexponential's degenerate case.
    q = np.array([0.1, 0.5, 0.9, 0.99, 0.9999])
    t = mmc(lam, mu, c).response_quantile(q)
    got = np.array([_mmc_response_cdf_by_quadrature(ti, lam, mu, c) for ti in t])
    np.testing.assert_allclose(got, q, atol=1e-9)


@pytest.mark.parametrize("lam, cv", [(0.7, 0.3), (0.7, 0.7), (0.7, 1.5), (0.7, 3.0), (0.2, 3.0),
                                     (0.05, 1.3), (0.95, 0.1)])
def test_mg1_response_quantile_inverts_its_model_cdf(lam, cv):
    # The model: Wq = 0 w.p. 1 - rho, else Exp(theta); S ~ Gamma(mean E[S], cv); independent.
    # (0.2, 3.0) and (0.05, 1.3) have theta >= gamma rate b: the Poisson-series branch.
    # mg1 itself is exact now (followerlab._mg1); this model is the approximation's
    # (exponential conditional wait, P-K mean), reached through the internal "_formula" path.
    es = 1.0
    m = qu._queue("M/G/1", np.float64(lam), np.float64(1 / es), np.int64(1), np.float64(1.0), np.float64(cv),
                  method="_formula")
    assert str(m.method).startswith("approximation")
    theta = float(m.p_wait / m.mean_wait_s)
    k = 1 / cv**2
    s = stats.gamma(k, scale=es / k)
    q = np.array([0.5, 0.9, 0.99])
    for qi, t in zip(q, m.response_quantile(q)):
        conv, _ = integrate.quad(lambda x: theta * np.exp(-theta * x) * s.cdf(t - x), 0, t, limit=200,
                                 epsabs=1e-12)
        cdf = (1 - lam * es) * s.cdf(t) + lam * es * conv
        assert cdf == pytest.approx(qi, abs=2e-6)


def test_gamma_branch_reduces_to_hypoexponential_when_cv_is_one():
    # Both branches (theta < b and theta >= b, b = mu here), including the Gauss-Laguerre one
    # ((theta - b) t > 200) and theta == b.
    t = np.array([0.01, 0.5, 1.0, 3.0, 10.0, 40.0, 300.0, 2.0, 700.0])
    theta = np.array([0.2, 0.5, 1.0, 2.0, 5.0, 0.1, 1.9, 1.0, 1.5])
    mu = np.ones_like(t)
    exact = qu._hypoexp_sf(t, theta, mu)
    got = qu._exp_gamma_sf(t, theta, mu, np.ones_like(t))
    np.testing.assert_allclose(got, exact, rtol=1e-10, atol=1e-300)


def test_poisson_mean_inverse_against_long_series():
    # E[1/(N+k)], N ~ Poisson(x): the 6000-term series is exact to double precision for
    # x <= 3000; both branches (series, rescaled Gauss-Laguerre) and extreme shapes k.
    x = np.array([0.0, 1e-3, 0.5, 5.0, 15.0, 29.9, 30.1, 40.0, 100.0, 250.0, 1000.0, 3000.0])
    k = np.array([0.01, 0.11, 1.0, 3.0, 20.0, 1e3, 1e4, 1e6])
    xx, kk = (a.ravel() for a in np.meshgrid(x, k))
    n = np.arange(6000.0)[None, :]
    ref = (np.exp(special.xlogy(n, xx[:, None]) - xx[:, None] - special.gammaln(n + 1)) / (n + kk[:, None])).sum(1)
    np.testing.assert_allclose(qu._poisson_mean_inverse(xx, kk), ref, rtol=1e-9)


def test_gamma_branch_against_quadrature_high_theta():
    # theta >= b with shape k != 1, checked by adaptive quadrature of the convolution.
    for theta, mu, cv, t in [(3.0, 1.0, 2.0, 1.5), (0.5, 1.0, 3.0, 4.0), (50.0, 1.0, 0.5, 2.0),
                             (2.0, 1.0, 1.2, 0.3), (500.0, 1.0, 0.1, 1.05), (40.0, 1.0, 3.0, 2.0)]:
        k = 1 / cv**2
        s = stats.gamma(k, scale=1 / (k * mu))
        conv, _ = integrate.quad(lambda x: theta * np.exp(-theta * x) * s.sf(t - x), 0, t, limit=400,
                                 epsabs=1e-13, epsrel=1e-11)
        ref = np.exp(-theta * t) + conv
        got = qu._exp_gamma_sf(np.array([t]), np.array([theta]), np.array([mu]), np.array([cv]))
        assert got[0] == pytest.approx(ref, rel=1e-7)


def test_md1_response_quantile_is_service_plus_wait_quantile():
    m = md1(0.6, 2.0)
    q = np.array([0.1, 0.5, 0.99])
    np.testing.assert_allclose(m.response_quantile(q), 0.5 + m.wait_quantile(q))


# ----------------------------------------------------------------- saturation, broadcasting
def test_unstable_is_inf_not_error():
    m = mmc([0.5, 2.0, 3.0], 1.0, 2)
    assert m.stable.tolist() == [True, False, False]
    assert np.isinf(m.mean_wait_s[1:]).all() and np.isinf(m.mean_response_s[1:]).all()
    assert m.p_wait[1:].tolist() == [1.0, 1.0]
    assert np.isinf(m.wait_quantile(0.5)[1:]).all() and np.isinf(m.response_quantile(0.5)[1:]).all()
    assert np.isfinite(m.response_quantile(0.5)[0])
    assert not ggc(2.0, 1.0, 2, 0.5, 0.5).stable


def test_broadcasting_servers_and_quantiles():
    lam = np.array([0.5, 1.0, 1.5, 2.5])
    c = np.array([[1], [2], [3]])
    m = mmc(lam, 1.0, c)
    assert m.mean_wait_s.shape == (3, 4)
    assert m.stable.tolist() == [[True, False, False, False], [True, True, True, False],
                                 [True, True, True, True]]
    q = np.array([0.5, 0.9])[:, None, None]
    assert m.response_quantile(q).shape == (2, 3, 4)
    assert m.wait_quantile(q).shape == (2, 3, 4)
    frame = m.to_frame()
    assert len(frame) == 12 and {"utilization", "p_wait", "mean_wait_s", "stable"} <= set(frame)


def test_zero_arrival_rate():
    m = mmc(0.0, 2.0, 3)
    assert float(m.p_wait) == 0.0 and float(m.mean_wait_s) == 0.0
    assert float(m.mean_response_s) == 0.5
    assert float(m.response_quantile(0.5)) == pytest.approx(np.log(2) / 2.0, rel=1e-9)


def test_vectorized_million_configurations_finite():
    rng = np.random.default_rng(1)
    n = 200_000
    c = rng.integers(1, 500, n)
    lam = rng.uniform(0.0, 1.2, n) * c
    m = mmc(lam, 1.0, c)
    ok = m.stable
    assert np.all((m.p_wait >= 0) & (m.p_wait <= 1))
    assert np.all(np.isfinite(m.mean_wait_s[ok])) and np.all(np.isinf(m.mean_wait_s[~ok]))


# ----------------------------------------------------------------- properties (hypothesis)
rates = st.floats(0.01, 50.0)
loads = st.floats(0.0, 0.999)
servers = st.integers(1, 300)


@settings(max_examples=60, deadline=None)
@given(mu=rates, c=servers, rho1=loads, rho2=loads)
def test_monotone_in_arrival_rate(mu, c, rho1, rho2):
    lo, hi = sorted([rho1, rho2])
    a, b = mmc(lo * c * mu, mu, c), mmc(hi * c * mu, mu, c)
    assert b.p_wait >= a.p_wait - 1e-12
    assert b.mean_wait_s >= a.mean_wait_s * (1 - 1e-9)
    assert b.response_quantile(0.95) >= a.response_quantile(0.95) * (1 - 1e-7)


@settings(max_examples=60, deadline=None)
@given(lam=rates, c=servers, f1=st.floats(1.0, 10.0), f2=st.floats(1.0, 10.0))
def test_monotone_in_service_rate(lam, c, f1, f2):
    # mu > lam / c keeps both stable; larger mu -> less waiting
    lo, hi = sorted([f1, f2])
    base = lam / c * 1.001
    a, b = mmc(lam, base * lo, c), mmc(lam, base * hi, c)
    assert b.mean_wait_s <= a.mean_wait_s * (1 + 1e-9)
    assert b.p_wait <= a.p_wait + 1e-12


@settings(max_examples=60, deadline=None)
@given(mu=rates, c=servers, rho=loads, extra=st.integers(1, 50))
def test_monotone_in_servers(mu, c, rho, extra):
    lam = rho * c * mu
    a, b = mmc(lam, mu, c), mmc(lam, mu, c + extra)
    assert b.p_wait <= a.p_wait + 1e-12
    assert b.mean_wait_s <= a.mean_wait_s * (1 + 1e-9)
    assert b.mean_response_s <= a.mean_response_s * (1 + 1e-9)


@settings(max_examples=60, deadline=None)
@given(mu=rates, c=servers, rho=loads, ca=st.floats(0, 3), cs=st.floats(0, 3),
       q=st.floats(0.0, 0.9999))
def test_bounds(mu, c, rho, ca, cs, q):
    # the analytic paths (exact or approximation; the simulation fallback is tested elsewhere)
    for m in (mmc(rho * c * mu, mu, c), ggc(rho * c * mu, mu, c, ca, cs, method="approximation")):
        assert 0.0 <= float(m.p_wait) <= 1.0
        assert float(m.mean_wait_s) >= 0.0
        assert float(m.mean_response_s) >= 1 / mu * (1 - 1e-12)
        wq, rq = float(m.wait_quantile(q)), float(m.response_quantile(q))
        assert wq >= 0.0
        # T = Wq + S >= Wq and >= S, so its quantile dominates both.
        assert rq >= wq * (1 - 1e-7)
        if float(m.service_cv) == 1.0:  # exponential service (M/M/c or cs = 1)
            # the survival function is solved for 1 - q: resolution ~1e-16 absolute in q
            assert rq >= -np.log1p(-q) / mu * (1 - 1e-7) - 1e-14 / mu


@settings(max_examples=40, deadline=None)
@given(mu=rates, rho=st.floats(0.0, 0.99), cs=st.floats(0, 3))
def test_md1_equals_mg1_cv0_and_mm1_equals_mmc1(mu, rho, cs):
    lam = rho * mu
    np.testing.assert_allclose(md1(lam, mu).mean_wait_s, mg1(lam, 1 / mu, 0.0).mean_wait_s, rtol=1e-12)
    a, b = mm1(lam, mu), mmc(lam, mu, 1)
    for f in ("utilization", "p_wait", "mean_wait_s", "mean_response_s"):
        np.testing.assert_allclose(getattr(a, f), getattr(b, f), rtol=1e-12)
    np.testing.assert_allclose(gg1(lam, mu, 1.0, cs).mean_wait_s, mg1(lam, 1 / mu, cs).mean_wait_s,
                               rtol=1e-12)


@settings(max_examples=30, deadline=None)
@given(mu=rates, c=st.integers(1, 30), rho=st.floats(0.01, 0.95))
def test_littles_law_against_birth_death_chain(mu, c, rho):
    # L from the stationary distribution (independent of Erlang C) equals lambda * W.
    lam = rho * c * mu
    L = mmc_mean_in_system_birth_death(lam, mu, c, kmax=c + 1000)  # rho^1000 < 1e-22
    m = mmc(lam, mu, c)
    assert float(m.mean_response_s) * lam == pytest.approx(L, rel=1e-8)


@settings(max_examples=40, deadline=None)
@given(mu=rates, c=servers, rho=loads, ca=st.floats(0, 3), cs=st.floats(0, 3))
def test_quantiles_nondecreasing_in_q(mu, c, rho, ca, cs):
    m = ggc(rho * c * mu, mu, c, ca, cs, method="approximation")  # analytic paths (exact or approx.)
    q = np.array([0.0, 0.1, 0.5, 0.9, 0.99, 0.999])
    for t in (m.wait_quantile(q), m.response_quantile(q)):
        assert np.all(np.diff(t) >= -1e-9 * np.abs(t[1:]))


# ----------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "call, name, shown",
    [
        (lambda: mmc(-1.0, 1.0, 2), "arrival_rate", "-1.0"),
        (lambda: mmc(float("nan"), 1.0, 2), "arrival_rate", "nan"),
        (lambda: mmc(1.0, 0.0, 2), "service_rate", "0.0"),
        (lambda: mmc(1.0, [1.0, -2.0], 2), "service_rate", "-2.0"),
        (lambda: mmc(1.0, 1.0, 0), "servers", "0"),
        (lambda: mmc(1.0, 1.0, 2.5), "servers", "2.5"),
        (lambda: mm1(1.0, float("inf")), "service_rate", "inf"),
        (lambda: mg1(0.5, 0.0, 1.0), "mean_service_s", "0.0"),
        (lambda: mg1(0.5, 1.0, -0.1), "service_cv", "-0.1"),
        (lambda: ggc(0.5, 1.0, 1, -1.0, 1.0), "arrival_cv", "-1.0"),
        (lambda: gg1(0.5, 1.0, 1.0, float("nan")), "service_cv", "nan"),
        (lambda: mmc(1.0, 2.0, 1).wait_quantile(1.0), "q", "1.0"),
        (lambda: mmc(1.0, 2.0, 1).response_quantile([0.5, -0.1]), "q", "-0.1"),
        (lambda: erlang_b(3, -1.0), "offered_load", "-1.0"),
        (lambda: mmc("fast", 1.0, 1), "arrival_rate", "fast"),
    ],
)
def test_bad_input_names_parameter_and_value(call, name, shown):
    with pytest.raises(ValueError) as err:
        call()
    assert name in str(err.value) and shown in str(err.value)


def test_exact_saturation_is_unstable_despite_rounding():
    # lambda = c * mu in decimal, but (0.7 / 0.1) / 7 rounds to 1 - 1.1e-16: without a
    # tolerance the queue was reported stable with a 9e15 s mean wait.  The admin node's own
    # saturation rate (consistency.admin_node_load) must also read back as saturated; there the
    # round-off reached ~10 ulps (2e-15) over 3000 random workloads, hence the 1e-12 tolerance.
    for lam, mu, c in [(0.7, 0.1, 7), (0.3, 0.1, 3), (3.0, 1.0, 3)]:
        m = ggc(lam, mu, c, 1.0, 1.0)
        assert not m.stable and np.isinf(m.mean_wait_s) and float(m.p_wait) == 1.0
        assert np.isinf(m.wait_quantile(0.99)) and np.isinf(m.response_quantile(0.99))
    # just below the tolerance the queue is stable with a finite (huge) wait
    m = mmc(7 * (1 - 1e-9), 1.0, 7)
    assert m.stable and np.isfinite(m.mean_wait_s)
    from followerlab.consistency import admin_node_load

    sat = admin_node_load(0.0, 0.2, 0.05, 1.0, 0.0, 0.1, 1.0, 3).saturation_query_rate_per_s
    r = admin_node_load(sat, 0.2, 0.05, 1.0, 0.0, 0.1, 1.0, 3)  # 75/s
    assert not r.admin_stable and np.isinf(r.admin_mean_response_s)


def test_erlang_b_overloaded_loss_system_where_the_poisson_cdf_underflows():
    # a >> c: the Poisson pmf and cdf both underflow; B used to fall back to 1 - c/a, off by
    # ~c/a^2 (0.75 instead of 0.75017 for c = 500, a = 2000).  Reference: the recursion.
    for c, a in [(500, 2000.0), (2400, 4800.0), (10, 5000.0), (1, 1e6), (8, 800.0)]:
        assert erlang_b(c, a) == pytest.approx(erlang_b_recursion(c, a), rel=1e-12)
