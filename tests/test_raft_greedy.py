"""raft.greedy_write_load (the leader appends every waiting proposal) against an independent
event-loop simulation, a closed form at p = 0, the rate balance, and its input checks."""

from __future__ import annotations

import numpy as np
import pytest

from followerlab import raft
from followerlab.raft import greedy
from followerlab.sim.raft import simulate_greedy_write_load


@pytest.mark.parametrize("rate, a, p", [
    (50.0, 2.0, 0.3),      # light: almost every write finds the leader idle
    (1500.0, 1.0, 0.2),    # lambda p = 0.3
    (2400.0, 1.0, 0.25),   # lambda p = 0.6
    (800.0, 3.0, 1.0),     # lambda p = 0.8, long appends
    (3000.0, 0.5, 0.3),    # lambda p = 0.9, near saturation
    (700.0, 2.0, 0.0),     # constant append time
])
def test_quantiles_and_means_match_the_simulation(rate, a, p):
    w = raft.greedy_write_load(rate, 3, 7.0, per_append_ms=a, per_follower_ms=0.2, per_proposal_ms=p)
    lat, wait = [], []
    size = 60_000 if rate < 1000 else 200_000   # the loop runs per append: light load has one proposal each
    for seed in range(3):      # independent runs: near saturation the batch sizes are strongly correlated
        s = simulate_greedy_write_load(rate, 3, 7.0, per_append_ms=a, per_follower_ms=0.2, per_proposal_ms=p,
                                       proposals=size, seed=seed)
        lat.append(s.latency_ms[size // 10:])
        wait.append(s.queue_wait_ms[size // 10:])
    lat, wait = np.concatenate(lat), np.concatenate(wait)
    leader = lambda x: x - 7.0  # noqa: E731  (compare the leader part: the commit is a constant shift)
    for q, model in ((0.5, w.p50_ms), (0.99, w.p99_ms)):
        sim = np.quantile(lat, q)
        assert abs(leader(model) / leader(sim) - 1) < 0.03, (q, float(model), sim)
    assert abs(leader(w.mean_ms) / leader(lat.mean()) - 1) < 0.02
    assert float(w.queue_wait_ms) == pytest.approx(wait.mean(), rel=0.04, abs=2e-3)


@pytest.mark.parametrize("rate, p, stall, prob", [(100.0, 0.3, 8.0, 0.05), (2500.0, 0.2, 6.0, 0.3),
                                                  (600.0, 0.0, 5.0, 0.2)])
def test_stalls_match_the_simulation(rate, p, stall, prob):
    kw = dict(per_append_ms=1.0, per_follower_ms=0.0, per_proposal_ms=p, stall_ms=stall, stall_probability=prob)
    w = raft.greedy_write_load(rate, 3, 5.0, **kw)
    size = 60_000 if rate < 1000 else 200_000
    lat = np.concatenate([simulate_greedy_write_load(rate, 3, 5.0, proposals=size, seed=s, **kw).latency_ms[size // 10:]
                          for s in range(3)])
    for q, model in ((0.5, w.p50_ms), (0.99, w.p99_ms)):
        assert float(model) == pytest.approx(np.quantile(lat, q), rel=0.03), q
    assert float(w.mean_ms) == pytest.approx(lat.mean(), rel=0.02)
    assert float(w.cdf(w.p99_ms)) == pytest.approx(0.99, abs=1e-9)       # ppf inverts cdf, jumps included
    x = 5.0 + 1.0 + p + stall
    jump = float(w.cdf(x + 1e-9)) - float(w.cdf(x - 1e-9))
    assert jump == pytest.approx((1 - float(w.admin_utilization)) * prob, rel=1e-6, abs=1e-8)  # idle, then a stall


def test_p0_closed_form():
    lam, c = 0.8, 1.5          # per ms, ms
    w = raft.greedy_write_load(lam * 1000, 1, 0.0, per_append_ms=c, per_follower_ms=0.0, per_proposal_ms=0.0)
    idle = 1.0 / (1.0 + lam * c * np.exp(lam * c))
    assert float(w.admin_utilization) == pytest.approx(1 - idle, rel=1e-12)
    # L = c with prob idle, else c + U(0, c): P(L <= x) = idle + (1 - idle)(x - c)/c on [c, 2c]
    q = 0.9
    assert float(w.ppf(q)) == pytest.approx(c + c * (q - idle) / (1 - idle), rel=1e-12)
    assert float(w.cdf(c + 0.5 * c)) == pytest.approx(idle + (1 - idle) * 0.5, rel=1e-12)
    assert float(w.mean_ms) == pytest.approx(c + (1 - idle) * c / 2, rel=1e-12)
    assert float(w.mean_batch) == pytest.approx(lam * c + np.exp(-lam * c), rel=1e-12)
    assert float(w.saturation_rate_per_s) == np.inf


@pytest.mark.parametrize("lam_p", [0.05, 0.5, 0.9, 0.97])
def test_rate_balance_and_a_proper_law(lam_p):
    p = 0.4
    law = greedy._Law(lam_p / p, 1.3, p)
    assert law.rate_check == pytest.approx(1.0, abs=1e-9)     # appends carry exactly lambda per ms
    assert law.w_idle + law.utilization == pytest.approx(1.0, abs=1e-12)
    assert law.cdf(1e9) == pytest.approx(1.0, abs=1e-10)
    assert law.cdf(law.s1 - 1e-9) == 0.0
    xs = np.linspace(law.s1, law.ppf(0.999), 50)
    assert np.all(np.diff([law.cdf(x) for x in xs]) >= -1e-15)


def test_light_load_is_the_bare_append_and_unstable_is_inf():
    w = raft.greedy_write_load([1e-3, 2500.0, 4000.0], 5, 20.0, per_append_ms=1.0, per_follower_ms=0.1,
                               per_proposal_ms=0.4)
    assert w.p99_ms[0] == pytest.approx(20.0 + 1.0 + 4 * 0.1 + 0.4, rel=1e-6)
    assert w.stable.tolist() == [True, False, False]
    assert np.isinf(w.p50_ms[1:]).all() and np.isinf(w.ppf(0.5)[1:]).all() and (w.cdf(1e6)[1:] == 0).all()
    frame = w.to_frame()
    assert len(frame) == 3 and {"p50_ms", "p99_ms", "mean_batch", "admin_utilization"} <= set(frame)


def test_latency_grows_with_the_rate():
    rates = np.array([100.0, 500.0, 1000.0, 1500.0, 2000.0])
    w = raft.greedy_write_load(rates, 3, 10.0, per_append_ms=1.0, per_follower_ms=0.0, per_proposal_ms=0.4)
    assert np.all(np.diff(w.p50_ms) > 0) and np.all(np.diff(w.p99_ms) > 0) and np.all(np.diff(w.mean_batch) > 0)


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="rate_per_s"):
        raft.greedy_write_load(0.0)
    with pytest.raises(ValueError, match="per_append_ms"):
        raft.greedy_write_load(10.0, 3, per_append_ms=0.0, per_follower_ms=0.0)
    with pytest.raises(ValueError, match="per_proposal_ms"):
        raft.greedy_write_load(10.0, per_proposal_ms=-1.0)
    with pytest.raises(ValueError, match="rate_per_s and n_voters|n_voters .* do not broadcast|do not broadcast"):
        raft.greedy_write_load([1.0, 2.0], [3, 5, 7])
    with pytest.raises(ValueError, match="stall_probability"):
        raft.greedy_write_load(10.0, stall_ms=1.0, stall_probability=1.5)
    with pytest.raises(ValueError, match="rate_per_s=2499.9 .*too close to the saturation rate"):
        raft.greedy_write_load(2499.9, 3, per_append_ms=1.0, per_proposal_ms=0.4)


def test_light_pieces_left_out_of_a_stalled_law_weigh_less_than_its_tolerance():
    """_Law drops uniform pieces lighter than GREEDY_TAIL_TOL / (10 * pieces): a law with long
    rare stalls (half its pieces negligible) keeps its total mass to GREEDY_TAIL_TOL, and its
    quantiles stay the generalized inverse of its CDF (a jump at an idle arrival included)."""
    from followerlab.raft.greedy import GREEDY_TAIL_TOL, _Law

    for lam_ms in (0.3, 1.0, 3.0):
        law = _Law(lam_ms, 0.51, 0.267, 29.4, 2.7e-4)
        assert abs(law.F[-1] - 1.0) < 10 * GREEDY_TAIL_TOL
        q = np.array([0.5, 0.99, 0.999999])
        x = np.array([law.ppf(v) for v in q])
        assert np.all(np.diff(x) > 0)
        assert all(law.cdf(v) >= p - 1e-12 and law.cdf(v - 1e-9) < p for v, p in zip(x, q))


def test_law_cache_is_bounded_by_its_stored_points(monkeypatch):
    """The per-configuration law cache clears itself before its stored breakpoints pass the
    bound (a fit's trial laws near saturation once filled 19 GB); cached and fresh laws agree."""
    from followerlab.raft import greedy

    monkeypatch.setattr(greedy, "_CACHE_MAX_POINTS", 60000)
    greedy._CACHE.clear()
    monkeypatch.setattr(greedy, "_cache_points", 0)
    sizes = []
    for rate in np.linspace(200.0, 1100.0, 12):       # laws of about 5k to 40k breakpoints
        greedy._law(float(rate), 1.0, 0.2, 30.0, 0.01)
        sizes.append(greedy._cache_points)
        assert greedy._cache_points == sum(law.xs.size for law in greedy._CACHE.values()) <= 60000
    assert any(b < a for a, b in zip(sizes, sizes[1:]))          # it did clear at least once
    again = raft.greedy_write_load(4000.0, 3, 10.0, per_append_ms=1.0, per_follower_ms=0.0, per_proposal_ms=0.2,
                                   stall_ms=30.0, stall_probability=0.01)
    greedy._CACHE.clear()
    fresh = raft.greedy_write_load(4000.0, 3, 10.0, per_append_ms=1.0, per_follower_ms=0.0, per_proposal_ms=0.2,
                                   stall_ms=30.0, stall_probability=0.01)
    assert float(again.p99_ms) == float(fresh.p99_ms)
