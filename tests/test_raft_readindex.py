"""raft.readindex_read_load: linearizable reads served in ReadIndex rounds (issue 15, part 3).

Checked against two things that do not use its formulas: the greedy bulk queue solved as a
Markov chain (raft.greedy_write_load with a constant append time), and the event simulation of
a loop that serves everything waiting in one round (sim.raft.simulate_greedy_write_load).
"""

from __future__ import annotations

import numpy as np
import pytest

from followerlab import raft
from followerlab.sim.raft import simulate_greedy_write_load

#: lambda R from nearly idle to rounds back to back, at odd values
X = np.array([1e-4, 0.013, 0.2, 0.5671432904, 0.9, 1.0, 2.7, 7.3, 31.0, 250.0])


@pytest.mark.parametrize("overhead_ms", [0.0, 3.7])
def test_closed_form_is_the_greedy_queue_with_a_constant_round(overhead_ms):
    R = 12.5
    lam = X * 1000.0 / R
    r = raft.readindex_read_load(lam, R, overhead_ms)
    w = raft.greedy_write_load(lam, 3, overhead_ms, per_append_ms=R, per_follower_ms=0.0, per_proposal_ms=0.0)
    np.testing.assert_allclose(r.mean_ms, w.mean_ms, rtol=1e-9)
    np.testing.assert_allclose(r.p50_ms, w.p50_ms, rtol=1e-9)
    np.testing.assert_allclose(r.p99_ms, w.p99_ms, rtol=1e-9)
    np.testing.assert_allclose(r.busy_share, w.admin_utilization, rtol=1e-9)
    np.testing.assert_allclose(r.mean_batch, w.mean_batch, rtol=1e-9)
    for q in (0.05, 0.3, 0.9, 0.999):
        np.testing.assert_allclose(r.ppf(q), w.ppf(q), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("x", [0.3, 1.0, 4.0])
def test_law_matches_the_simulated_loop(x):
    """The whole law (Kolmogorov distance of the empirical CDF, 2e5 reads after warm-up) and the
    mean, p50 and p99 against an event simulation of the loop."""
    R, c = 10.0, 2.0
    lam = x * 1000.0 / R
    s = simulate_greedy_write_load(lam, 3, c, per_append_ms=R, per_follower_ms=0.0, per_proposal_ms=0.0,
                                   proposals=210_000, seed=7)
    lat = np.sort(s.latency_ms[10_000:])
    r = raft.readindex_read_load(lam, R, c)
    t = np.linspace(c + R - 1.0, c + 2 * R + 1.0, 4001)      # across the atom at c + R and the ramp
    dist = np.max(np.abs(np.searchsorted(lat, t, side="right") / lat.size - r.cdf(t)))
    assert dist < 0.01                      # DKW at 2e5 independent draws: 0.0037; reads are correlated
    assert float(r.mean_ms) == pytest.approx(lat.mean(), rel=5e-3)
    assert float(r.p99_ms) == pytest.approx(np.quantile(lat, 0.99), rel=5e-3)
    assert float(r.p50_ms) == pytest.approx(np.quantile(lat, 0.5), rel=1e-2)


def test_limits_light_and_heavy():
    r = raft.readindex_read_load([1e-9, 1e-3, 1e5, 1e9], 10.0, 1.0)
    assert r.p99_ms[0] == 11.0 and r.p50_ms[1] == 11.0          # one round
    np.testing.assert_allclose(r.mean_ms[2:], 1.0 + 15.0, rtol=1e-9)   # rounds back to back: 1.5 rounds
    np.testing.assert_allclose(r.p99_ms[2:], 1.0 + 10.0 * 1.99, rtol=1e-9)
    assert np.all(np.isfinite(r.mean_batch)) and r.mean_batch[3] == pytest.approx(1e7)
    np.testing.assert_allclose(r.rounds_per_s[3], 100.0, rtol=1e-9)   # 1000 / R
    assert float(r.ppf(0.0)[0]) == 11.0 and float(r.ppf(1.0)[3]) == pytest.approx(21.0)
    # p50 leaves one round exactly where half the reads wait: x = W(1) = 0.567143...
    below, above = raft.readindex_read_load([56.71, 56.72], 10.0).p50_ms
    assert below == 10.0 and above > 10.0


def test_cdf_and_ppf_are_inverse_and_broadcast():
    r = raft.readindex_read_load(np.array([[30.0], [300.0]]), np.array([5.0, 20.0, 50.0]), 1.5)
    assert r.mean_ms.shape == (2, 3)
    q = np.linspace(0.0, 1.0, 41)[:, None, None]
    t = r.ppf(q)
    assert np.all(r.cdf(t) >= q - 1e-12)                         # generalized inverse
    assert np.all(r.cdf(t - 1e-9) <= q + 1e-12)
    assert r.to_frame().shape[0] == 6


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="rate_per_s"):
        raft.readindex_read_load(0.0, 10.0)
    with pytest.raises(ValueError, match="round_ms"):
        raft.readindex_read_load(10.0, 0.0)
    with pytest.raises(ValueError, match="overhead_ms"):
        raft.readindex_read_load(10.0, 5.0, np.nan)
    with pytest.raises(ValueError, match="q"):
        raft.readindex_read_load(10.0, 5.0).ppf(1.5)
