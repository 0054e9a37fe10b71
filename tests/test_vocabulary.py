"""One vocabulary: every distribution-like result answers ``cdf``, ``sf``, ``ppf`` and ``mean``.

The old names (``quantile``, ``quantile_ms``, ``t_for``) stay as aliases and must return exactly
what the new name returns; ``sf`` must be ``1 - cdf`` (for the discrete head-load law, between
its atoms: there ``sf`` keeps its meaning P(X >= x)).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from followerlab import _wars, consistency, follower, raft, staleness

Q = np.array([0.0, 0.01, 0.3, 0.5, 0.77, 0.99, 1.0])
Q_OPEN = Q[1:-1]


def _refresh_lag():
    # one closed-form configuration and one that overruns (Markov chain)
    return staleness.refresh_lag([60.0, 10.0], base_duration_s=[2.0, 9.0], duration_per_change_s=0.01,
                                 change_rate_per_s=[1.0, 5.0])


def _read_latency():
    m = raft.load_rtt("crdb-demo-rtt-2019.csv")
    p = raft.placement({"us-east1": 2, "us-west1": 2, "europe-west1": 1}, "us-east1")
    return raft.read_latency(m, p, "us-west1", "bounded", max_staleness_s=[3.05, 3.1, 3.5])


def _t_visibility():
    e = stats.expon(scale=10.0)
    return _wars.t_visibility([-5.0, 0.0, 3.0, 30.0], 3, 1, 1, e, e, e, e, trials=4000, seed=3)


def _lag_estimate():
    rng = np.random.default_rng(7)
    lead = np.cumsum(rng.exponential(60.0, 101))
    return follower.estimate_lag(lead, lead - rng.exponential(40.0, 101))


# (builder, old alias name or None, points to evaluate cdf/sf at, probabilities for ppf)
CASES = {
    "staleness.RefreshLag": (_refresh_lag, "quantile", np.array([[0.0], [5.0], [30.0], [61.0], [np.inf]]), Q),
    "consistency.WeakStaleness": (lambda: consistency.weak_staleness([60.0, 300.0], 5.0, 0.01, 0.5),
                                  "quantile", np.array([[0.0], [10.0], [100.0], [400.0]]), Q),
    "consistency.HeadLoadDistribution": (
        lambda: consistency.head_load_distribution([0.4, 0.3, 0.2, 0.1], 2),
        "quantile", np.array([0.0, 0.45, 0.55, 0.65, 0.95, 1.5]), Q),
    "raft.ClosedTimestampLag": (lambda: raft.closed_timestamp_lag([0.0, 33.0], side_transport_interval_s=[0.2, 0.0]),
                                None, np.array([[3.0], [3.1], [3.233], [4.0]]), Q),
    "raft.ReadLatency": (_read_latency, "quantile_ms", np.array([[0.0], [66.0], [100.0], [1000.0]]), Q),
    "raft.WriteLoad": (lambda: raft.write_load([100.0, 800.0, 3000.0], batch=[1, 4, 1], commit_ms=[0.0, 20.0, 0.0]),
                       "quantile", np.array([[0.0], [1.3], [22.0], [30.0], [np.inf]]), Q_OPEN),
    "_wars.TVisibility": (_t_visibility, "t_for", np.array([-5.0, 0.0, 3.0, 30.0, np.inf]), Q),
    "follower.LagEstimate": (_lag_estimate, None, np.array([-10.0, 0.0, 20.0, 40.0, 200.0]), Q),
}


def _column(res, q):
    """``q`` as a column when the result holds an array of configurations (so they broadcast)."""
    return q[:, None] if np.ndim(res.ppf(0.5)) else q


@pytest.fixture(scope="module", params=sorted(CASES))
def case(request):
    build, alias, xs, qs = CASES[request.param]
    return request.param, build(), alias, xs, qs


def test_the_four_names(case):
    name, res, _, xs, _ = case
    for attr in ("cdf", "sf", "ppf", "mean"):
        assert callable(getattr(res, attr, None)) or (attr == "mean" and np.ndim(getattr(res, "mean")) == 0), (name, attr)


def test_alias_returns_what_ppf_returns(case):
    name, res, alias, _, qs = case
    if alias is None:
        pytest.skip(f"{name} had no other inverse-CDF name")
    qs = _column(res, qs)
    np.testing.assert_array_equal(getattr(res, alias)(qs), res.ppf(qs))
    np.testing.assert_array_equal(getattr(res, alias)(0.5), res.ppf(0.5))


def test_sf_is_one_minus_cdf(case):
    name, res, _, xs, _ = case
    if xs is None:
        pytest.skip(f"{name} has no cdf")
    np.testing.assert_allclose(res.sf(xs), 1.0 - res.cdf(xs), rtol=0, atol=1e-15)


def test_ppf_inverts_cdf(case):
    """ppf(q) is the smallest x with cdf(x) >= q: cdf(ppf(q)) >= q, and cdf just below ppf(q) < q."""
    name, res, _, xs, qs = case
    if xs is None:
        pytest.skip(f"{name} has no cdf")
    q = qs[(qs > 0) & (qs < 1)]
    x = res.ppf(_column(res, q))
    finite = np.isfinite(x)  # an unstable write load: every quantile is inf (checked below)
    x = np.where(finite, x, 0.0)
    tol = 1e-6 * np.maximum(1.0, np.abs(x))
    qq = np.broadcast_to(q[:, None] if np.ndim(x) > 1 else q, x.shape)
    assert np.all((res.cdf(x + tol) >= qq - 1e-9)[finite])
    below = x - 10 * tol
    floor_at_zero = name == "_wars.TVisibility"  # the wait is clamped at 0 (read sent at the commit)
    check = finite & ~(floor_at_zero & (x <= 0))
    assert np.all((res.cdf(below) < qq + 1e-12)[check])
    if not finite.all():
        assert name == "raft.WriteLoad"
        assert np.all(res.cdf(1e12)[~finite.all(axis=0)] == 0.0)


def test_mean_is_the_mean_field_or_the_mean(case):
    name, res, _, _, _ = case
    if name == "consistency.HeadLoadDistribution":
        # ``mean`` is a field there (E[max share]); left as it is
        assert res.mean == pytest.approx(float(np.sum(res.values * res.probabilities)))
        return
    if name == "_wars.TVisibility":
        assert res.mean() == pytest.approx(float(np.mean(np.maximum(res._thresholds_ms, 0.0))))
        return
    field = next(f for f in ("mean_s", "mean_ms") if hasattr(res, f))
    np.testing.assert_array_equal(res.mean(), getattr(res, field))


def test_head_load_sf_keeps_its_meaning_at_atoms():
    d = consistency.head_load_distribution([0.4, 0.3, 0.2, 0.1], 2)
    v = d.values
    at_atom_gap = d.sf(v) - (1.0 - d.cdf(v))
    np.testing.assert_allclose(at_atom_gap, d.probabilities, atol=1e-15)


def test_tvisibility_cdf_matches_probability_from_zero_on():
    r = _t_visibility()
    np.testing.assert_array_equal(r.cdf(r.t_ms)[r.t_ms >= 0], r.probability[r.t_ms >= 0])
    assert r.cdf(-5.0) == 0.0


def test_read_latency_p50_p99_fields_are_ppf():
    r = _read_latency()
    np.testing.assert_array_equal(r.p50_ms, r.ppf(0.5))
    np.testing.assert_array_equal(r.p99_ms, r.ppf(0.99))
    assert r.cdf(np.inf).tolist() == [1.0, 1.0, 1.0]


def test_write_load_cdf_against_a_simulation():
    """The bulk queue M/D^(b,b)/1 simulated directly: batches of 4 Poisson arrivals, FIFO, S constant."""
    w = raft.write_load(800.0, batch=4, commit_ms=5.0)
    lam_ms, b, s = 0.8, 4, float(w.service_ms)
    rng = np.random.default_rng(1)
    arrivals = np.cumsum(rng.exponential(1 / lam_ms, 200_000))
    ready = arrivals[b - 1::b]
    done = np.empty(ready.size)
    c = 0.0
    for j, r in enumerate(ready):  # the FIFO recursion C_j = max(R_j, C_{j-1}) + S
        c = max(r, c) + s
        done[j] = c
    latency = np.repeat(done, b) - arrivals[:done.size * b] + 5.0
    t = np.array([7.0, 8.0, 10.0, 15.0])
    # 50k batches, correlated: tolerance about 4 standard errors of the batch means
    np.testing.assert_allclose(w.cdf(t), (latency[:, None] <= t).mean(axis=0), atol=0.006)
    assert float(w.cdf(4.99)) == 0.0 and float(w.sf(np.inf)) == 0.0


def test_write_load_cdf_refuses_a_commit_distribution():
    w = raft.write_load(100.0, commit_ms=stats.uniform(10.0, 5.0))
    with pytest.raises(ValueError, match="commit distribution"):
        w.cdf(20.0)
