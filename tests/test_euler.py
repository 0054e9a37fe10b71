"""The Euler inversion of the M/G/1 response law (followerlab._euler) against independent methods:
the exact M/M/1 law, the fixed Talbot rule where both serve (CV >= 0.4), and the Beneš lattice of
followerlab._mg1 below it (where the lattice's own estimate is small); its error bound against
the same rule with other parameters, near saturation and near-constant classes included."""

import numpy as np
import pytest

from followerlab import _tabulate
from followerlab._euler import EULER_MAX_REL_ERROR, EULER_MIN_CV, mg1_gamma_mixture_response_ppf_euler as ppf
from followerlab._talbot import TALBOT_MIN_CV, mg1_gamma_mixture_response_ppf as talbot

QS = np.array([0.5, 0.99])


def _configs(n, seed, cv_lo=EULER_MIN_CV, cv_hi=TALBOT_MIN_CV):
    rng = np.random.default_rng(seed)
    ca = rng.uniform(cv_lo, cv_hi, n)
    cb = np.where(rng.random(n) < 0.5, rng.uniform(cv_lo, cv_hi, n), rng.uniform(TALBOT_MIN_CV, 5.0, n))
    ma, mb = np.exp(rng.uniform(np.log(1e-3), np.log(10), n)), np.exp(rng.uniform(np.log(1e-3), np.log(10), n))
    p = np.where(rng.random(n) < 0.3, 1.0, rng.uniform(0.01, 0.99, n))
    rho = np.where(rng.random(n) < 0.6, rng.uniform(0.01, 0.95, n), 1 - np.exp(rng.uniform(np.log(1e-3), np.log(0.05), n)))
    ca[:4], p[:4], rho[:4] = cv_lo, 1.0, [0.05, 0.3, 0.9, 0.999]       # the edge of the domain
    return rho / (p * ma + (1 - p) * mb), p, ma, ca, mb, cb


def test_mm1_closed_form():
    rho = np.concatenate([np.linspace(0.01, 0.99, 50), [0.995, 0.999]])
    got = np.array(ppf(rho / 0.2, 1.0, 0.2, 1.0, 0.2, 1.0))
    want = -np.log1p(-QS)[:, None] / (5.0 - rho / 0.2)
    np.testing.assert_allclose(got, want, rtol=1e-8)


def test_agrees_with_the_talbot_rule_where_both_serve():
    cfg = _configs(300, seed=3, cv_lo=TALBOT_MIN_CV, cv_hi=1.0)
    np.testing.assert_allclose(np.array(ppf(*cfg)), np.array(talbot(*cfg)), rtol=3e-8)


def test_moves_less_than_its_bound_when_its_parameters_change():
    cfg = _configs(400, seed=4)
    got = np.array(ppf(*cfg))
    for terms, averaged, damping in ((120, 30, 22.0), (300, 40, 30.0)):
        other = np.array(ppf(*cfg, terms=terms, averaged=averaged, damping=damping))
        assert np.abs(got / other - 1).max() <= EULER_MAX_REL_ERROR / 3


def test_agrees_with_the_independent_lattice():
    # where the lattice's own estimate (change from half the points) is below 1e-8; it converges
    # slowly near saturation and for a skewed second class, and its estimate is no bound there
    cfg = _configs(60, seed=5)
    got = np.array(ppf(*cfg))
    lat, est = _tabulate._lattice_quantiles(*cfg, QS, 2**15)
    sharp = est < 1e-8
    assert sharp.sum() >= 20
    assert np.abs(got[:, sharp] / lat[:, sharp] - 1).max() <= EULER_MAX_REL_ERROR


@pytest.mark.parametrize("kw, match", [
    (dict(cv_a=0.049), "cv_a=0.049"),
    (dict(p=0.5, cv_b=0.0), "cv_b=0.0"),
    (dict(arrival_rate=10.0), "rho=1.0"),
])
def test_bad_input_names_the_parameter(kw, match):
    args = dict(arrival_rate=0.5, p=1.0, mean_a_s=0.1, cv_a=0.2, mean_b_s=0.1, cv_b=0.2) | kw
    with pytest.raises(ValueError, match=match):
        ppf(**args)


def test_the_library_routes_low_cv_classes_here():
    # a CV-0.2 planning class with CV-1.5 control commands (was the lattice, a few ms each)
    p50, p99, method, err = _tabulate.admin_response_quantiles(np.array([8.0, 8.0]), [0.9, 0.9], 0.05, [0.2, 0.03],
                                                               0.5, 1.5)
    assert method.tolist() == [_tabulate.INVERTED, _tabulate.EXACT] and err[0] == EULER_MAX_REL_ERROR
    want = np.array(ppf(8.0, 0.9, 0.05, 0.2, 0.5, 1.5)).ravel()
    np.testing.assert_allclose([p50[0], p99[0]], want, rtol=1e-12)
