"""The Talbot inversion of the M/G/1 response law (followerlab._talbot) against independent values.

References: the M/M/1 response law (exponential, rate mu - lambda), the gamma service quantile
at vanishing load, the Pollaczek-Khinchine mean (the CDF integrated back), the Beneš lattice
of followerlab._mg1 where it is accurate (CV <= 1) and its convergence toward the inversion
where it is slow (high CV), and the rule's own convergence in its number of nodes.
"""

import numpy as np
import pytest
from scipy import integrate, stats

from followerlab import _talbot
from followerlab._mg1 import mg1_gamma, mg1_gamma_mixture
from followerlab._talbot import TALBOT_MAX_REL_ERROR, mg1_gamma_mixture_response_ppf as ppf

QS = (0.001, 0.5, 0.99, 0.999)


@pytest.mark.parametrize("rho", [1e-6, 0.3, 0.9, 0.995])
def test_mm1_is_exponential(rho):
    # cv 1, one class: T ~ Exp(mu - lambda), mean service 0.2 s
    got = np.array(ppf(rho / 0.2, 1.0, 0.2, 1.0, 0.2, 1.0, qs=QS)).ravel()
    want = -np.log1p(-np.array(QS)) / (1 / 0.2 - rho / 0.2)
    np.testing.assert_allclose(got, want, rtol=1e-8)


@pytest.mark.parametrize("cv", [0.4, 0.7, 1.5, 3.0, 5.0])
def test_vanishing_load_gives_the_service_quantile(cv):
    k = 1 / cv**2
    got = np.array(ppf(1e-12, 1.0, 2.0, cv, 2.0, cv, qs=QS)).ravel()
    np.testing.assert_allclose(got, stats.gamma.ppf(QS, k, scale=2.0 * cv**2), rtol=1e-8)


@pytest.mark.parametrize("p, cv_a, cv_b", [(1.0, 4.0, 4.0), (0.9, 0.5, 3.0), (0.99, 2.5, 0.4)])
def test_the_cdf_integrates_back_to_the_pk_mean(p, cv_a, cv_b):
    lam, ma, mb = 0.6, 0.5, 5.0
    mean_s = p * ma + (1 - p) * mb
    m2 = p * ma**2 * (1 + cv_a**2) + (1 - p) * mb**2 * (1 + cv_b**2)
    rho = lam * mean_s
    pk = mean_s + lam * m2 / (2 * (1 - rho))
    # E[T] = integral of the survival function, in u = ln t (Simpson), from 1e-14 s (where
    # the law of a CV-4 service still has mass ~ 0.1: the piece below adds < 1e-14 s) to where
    # the survival function falls below 1e-10 (the rule's absolute CDF error is ~1e-11, so
    # integrating noise over a long tail would dominate; the tail beyond adds ~1e-10 x its
    # decay length)
    u = np.linspace(np.log(1e-14), np.log(1e4), 40001)
    t = np.exp(u)
    F, _ = _talbot._cdf_pdf(t, *(np.full(t.size, v) for v in (lam, p, ma, cv_a, mb, cv_b)))
    end = int(np.argmax(1.0 - F < 1e-10)) + 1
    total = integrate.simpson((1.0 - F[:end]) * t[:end], x=u[:end])
    assert abs(total / pk - 1) < 1e-7, (total, pk)


def test_agrees_with_the_lattice_where_the_lattice_is_accurate():
    rng = np.random.default_rng(7)
    n = 12
    rho = rng.uniform(0.02, 0.95, n)
    cv = rng.uniform(0.4, 1.0, n)
    got = np.array(ppf(rho, 1.0, 1.0, cv, 1.0, cv))
    ref = mg1_gamma(rho, 1.0, cv, points=2**15).response_ppf(np.array([[0.5], [0.99]]))
    assert np.abs(got / ref - 1).max() < 5e-6
    # a two-class mixture with a rare long class (the admin node's control commands)
    p, ma, mb = 0.95, 0.05, 1.0
    lam = rho / (p * ma + (1 - p) * mb)
    got = np.array(ppf(lam, p, ma, 0.8, mb, 0.6))
    ref = mg1_gamma_mixture(lam, p, ma, 0.8, mb, 0.6, points=2**15).response_ppf(np.array([[0.5], [0.99]]))
    assert np.abs(got / ref - 1).max() < 5e-6


def test_the_lattice_converges_toward_it_at_high_cv():
    # the lattice's slow convergence (gamma shape 1/16): its error falls as the points grow,
    # and toward the inversion's value
    rho, cv = np.array([0.3, 0.8]), 4.0
    ref = np.array(ppf(rho, 1.0, 1.0, cv, 1.0, cv))
    errs = [np.abs(mg1_gamma(rho, 1.0, cv, points=n, auto_points=False).response_ppf(np.array([[0.5], [0.99]])) / ref - 1).max()
            for n in (2**10, 2**12, 2**14)]
    assert errs[0] > errs[1] > errs[2] > 0, errs
    assert errs[2] < 2e-3


def test_converged_in_its_nodes_across_the_domain():
    rng = np.random.default_rng(11)
    n = 400
    p = np.where(rng.random(n) < 0.3, 1.0, rng.uniform(0.5, 1.0, n))
    ma = np.exp(rng.uniform(np.log(0.005), np.log(0.5), n))
    mb = ma * np.exp(rng.uniform(0.0, np.log(200.0), n))
    ca, cb = rng.uniform(_talbot.TALBOT_MIN_CV, 5.0, (2, n))
    rho = -np.expm1(-rng.uniform(0.0, np.log(200.0), n))          # up to 0.995
    lam = rho / (p * ma + (1 - p) * mb)
    a = np.array(ppf(lam, p, ma, ca, mb, cb, qs=(0.5, 0.99)))
    b = np.array(ppf(lam, p, ma, ca, mb, cb, qs=(0.5, 0.99), nodes=_talbot.TALBOT_NODES + 8))
    assert np.abs(a / b - 1).max() < TALBOT_MAX_REL_ERROR


def test_refuses_what_it_does_not_serve():
    with pytest.raises(ValueError, match="cv_a"):
        ppf(1.0, 1.0, 0.1, 0.1, 0.1, 1.0)
    with pytest.raises(ValueError, match="rho"):
        ppf(20.0, 1.0, 0.1, 1.0, 0.1, 1.0)
