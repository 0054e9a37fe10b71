"""staleness.t_visibility (WARS, Bailis et al. PVLDB 2012) against closed forms.

Tolerances: every Monte Carlo comparison allows 5 binomial standard errors
(sqrt(p(1-p)/trials)), so a wrong formula fails and chance essentially never does
(two-sided 5-sigma: 6e-7 per comparison).
"""

from itertools import combinations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from followerlab import staleness
from followerlab._wars import k_staleness_probability, quorum_miss_probability, t_visibility


def test_reexported_from_staleness():
    assert staleness.t_visibility is t_visibility


@pytest.mark.parametrize("n", [1, 2, 3, 5, 7])
def test_quorum_miss_probability_equals_enumeration(n):
    for r in range(1, n + 1):
        for w in range(1, n + 1):
            write_set = set(range(w))
            subsets = list(combinations(range(n), r))
            miss = sum(not write_set & set(s) for s in subsets) / len(subsets)
            assert float(quorum_miss_probability(n, r, w)) == pytest.approx(miss, abs=1e-12)


def test_k_staleness_closed_form():
    # Bailis et al.: N=3, R=W=1 -> p_s = 2/3; within k versions 1 - (2/3)^k
    k = np.array([1, 2, 3, 10])
    assert np.allclose(k_staleness_probability(3, 1, 1, k), 1 - (2 / 3) ** k)
    assert np.all(k_staleness_probability(3, 2, 2, k) == 1.0)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 6), data=st.data(), seed=st.integers(0, 2**31))
def test_strict_quorums_always_consistent(n, data, seed):
    r = data.draw(st.integers(1, n))
    w = data.draw(st.integers(max(1, n - r + 1), n))  # r + w > n
    dists = [stats.expon(scale=s) for s in (1.0, 5.0, 50.0)]
    pick = lambda: data.draw(st.sampled_from(dists))  # noqa: E731
    res = t_visibility([0.0, 1.0, 100.0], n, r, w, pick(), pick(), pick(), pick(), trials=500, seed=seed)
    assert np.all(res.probability == 1.0)


@pytest.mark.parametrize("n, r, w", [(3, 1, 1), (3, 1, 2), (5, 2, 2), (5, 1, 3), (7, 2, 3)])
def test_partial_quorum_at_commit_matches_closed_form(n, r, w):
    # Writes reach only the w fastest replicas before the commit (acks instant, reads instant),
    # the read quorum is uniform (iid response times): P(consistent at t=0) = 1 - p_s.
    e = stats.expon(scale=10.0)
    trials = 40_000
    res = t_visibility(0.0, n, r, w, write=e, ack=0.0, read=0.0, response=e, trials=trials, seed=3)
    expected = 1 - float(quorum_miss_probability(n, r, w))
    se = np.sqrt(expected * (1 - expected) / trials)
    assert float(res.probability) == pytest.approx(expected, abs=5 * se + 1e-12)


def test_time_dependence_matches_closed_form():
    # n=2, w=1, r=1, reads always answered by replica 2 (replica 1 responds 1e6 ms late),
    # W_1, W_2 iid Exp(mu), A = R = 0:  P(t) = 1 - exp(-mu t) / 2  (memorylessness).
    mu = 1 / 20.0
    e = stats.expon(scale=1 / mu)
    t = np.array([0.0, 5.0, 20.0, 60.0, 200.0])
    trials = 40_000
    res = t_visibility(t, 2, 1, 1, write=e, ack=0.0, read=0.0, response=[1e6, 0.0], trials=trials, seed=9)
    expected = 1 - np.exp(-mu * t) / 2
    se = np.sqrt(expected * (1 - expected) / trials)
    assert np.all(np.abs(res.probability - expected) <= 5 * se + 1e-12)
    # inverse: t_for(p) = -ln(2 (1 - p)) / mu; the empirical quantile's SE is
    # sqrt(p(1-p)/trials) / density, density = mu (1 - p) at that point
    p = 0.9
    t_exact = -np.log(2 * (1 - p)) / mu
    se_t = np.sqrt(p * (1 - p) / trials) / (mu * (1 - p))
    assert float(res.t_for(p)) == pytest.approx(t_exact, abs=5 * se_t)


def test_probability_is_a_cdf_in_t_and_reproducible():
    e = stats.lognorm(s=1.0, scale=5.0)
    t = np.linspace(-50, 200, 60)
    a = t_visibility(t, 3, 1, 1, e, e, e, e, trials=3000, seed=42)
    b = t_visibility(t, 3, 1, 1, e, e, e, e, trials=3000, seed=42)
    assert np.array_equal(a.probability, b.probability)
    assert np.all(np.diff(a.probability) >= 0)
    assert a.probability[0] < a.probability[-1] == 1.0
    assert a.to_frame().shape == (60, 7)


def test_per_replica_distributions_shape_and_constants():
    res = t_visibility(np.zeros((2, 3)), 3, 1, 1, write=[1.0, 2.0, 3.0], ack=0.0, read=0.0, response=[0.0, 5.0, 5.0],
                       trials=10, seed=0)
    # replica 0 answers first and is the commit replica: always consistent
    assert res.probability.shape == (2, 3) and np.all(res.probability == 1.0)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(n=3, r=4, w=1), "r must be <= n"),
        (dict(n=3, r=1, w=0), "w must be >= 1"),
        (dict(n=0, r=1, w=1), "n must be >= 1"),
        (dict(n=3, r=1, w=1, write=[1.0, 2.0]), "write must be one distribution or n=3"),
        (dict(n=3, r=1, w=1, ack=stats.norm(0, 1)), "ack must produce finite latencies >= 0"),
        (dict(n=3, r=1, w=1, read="fast"), "read must be a latency distribution"),
        (dict(n=3, r=1, w=1, trials=0), "trials must be >= 1"),
    ],
)
def test_bad_input(kwargs, match):
    args = dict(t_ms=0.0, n=3, r=1, w=1, write=1.0, ack=1.0, read=1.0, response=1.0, trials=100, seed=0)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        t_visibility(**args)


def test_t_for_is_never_negative_and_zero_when_consistent_from_the_start():
    """A read is sent after the commit: t_for is >= 0, and 0 exactly when P(consistent at t=0) >= p.

    Same closed-form case as above: P(t) = 1 - exp(-mu t) / 2 for t >= 0, so P(0) = 1/2 and
    t_for(p) = 0 for p <= 1/2, -ln(2 (1 - p)) / mu above.
    """
    mu = 1 / 20.0
    e = stats.expon(scale=1 / mu)
    trials = 40_000
    res = t_visibility(0.0, 2, 1, 1, write=e, ack=0.0, read=0.0, response=[1e6, 0.0], trials=trials, seed=9)
    levels = np.array([0.01, 0.3, 0.45, 0.55, 0.9, 0.99])
    t = res.t_for(levels)
    assert t.shape == levels.shape and np.all(t >= 0)
    start = res.consistent_from_start(levels)
    assert start.tolist() == [True, True, True, False, False, False]
    assert np.all(t[start] == 0.0) and np.all(t[~start] > 0)
    se_t = np.sqrt(0.99 * 0.01 / trials) / (mu * 0.01)
    assert float(t[-1]) == pytest.approx(-np.log(2 * 0.01) / mu, abs=5 * se_t)


@pytest.mark.parametrize("r, w", [(1, 2), (2, 1), (2, 2), (3, 1)])
def test_t_for_strict_or_fast_quorums_reports_zero_not_a_negative_time(r, w):
    """Notebook 03 used to print "99 % consistent after -35.8 ms" for these: now 0, from the start."""
    e = stats.expon(scale=2.0)
    W = [stats.uniform(loc=0.5, scale=0.1), stats.uniform(loc=35.0, scale=1.0), stats.uniform(loc=40.0, scale=1.0)]
    res = t_visibility(0.0, 3, r, w, W, W, e, e, trials=5000, seed=3)
    if r + w > 3:
        assert float(np.quantile(res._thresholds_ms, 0.99)) < 0   # the raw inverse is negative here
        assert float(res.probability) == 1.0
        assert float(res.t_for(0.99)) == 0.0 and bool(res.consistent_from_start(0.99))
    assert float(res.t_for(0.99)) >= 0.0 and float(res.t_for(0.5)) >= 0.0
