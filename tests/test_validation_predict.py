"""The etcd adapter to followerlab.raft and the analysis of measured runs (no etcd needed)."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from followerlab import raft
from followerlab.validation.experiments import (CI_LAYOUTS, LAYOUTS, STALENESS_LAYOUTS, compare, latest_run,
                                                load_run, save_run, staleness_table, visibility_t50)
from followerlab.validation.predict import OPS, Calibration, Layout, calibrate, network_ms, predict, rtt_from_delays


def _brute_commit(x, leader, n, stopped=()):
    """Independent: simulate the message timeline with the proxy rule (i -> j costs x_i)."""
    q = n // 2 + 1
    acks = sorted(x[leader] + x[f] for f in range(n) if f != leader and f not in stopped)
    return 0.0 if q == 1 else acks[q - 2]


@pytest.mark.parametrize("lay", [lay for lay in LAYOUTS + CI_LAYOUTS], ids=lambda lay: lay.name)
def test_network_part_matches_a_hand_simulation_of_the_messages(lay):
    x = lay.delays_ms
    c = _brute_commit(x, lay.leader, lay.n, lay.stopped)
    hop = x[lay.follower] + x[lay.leader]   # MsgProp f->L (x_f) then the commit notice L->f (x_L)
    net = network_ms(lay)
    assert net["put_leader"] == pytest.approx(c)
    assert net["put_follower"] == pytest.approx(hop + c)
    assert net["read_linearizable_leader"] == pytest.approx(c)
    assert net["read_linearizable_follower"] == pytest.approx(hop + c)
    assert net["read_serializable_follower"] == 0.0


@pytest.mark.parametrize("lay", [lay for lay in LAYOUTS if not lay.stopped], ids=lambda lay: lay.name)
def test_forwarded_put_is_raft_write_latency_with_the_gateway_at_the_follower(lay):
    rtt = rtt_from_delays(lay.delays_ms)
    p = raft.placement(list(range(lay.n)), lay.leader)
    assert network_ms(lay)["put_follower"] == pytest.approx(float(raft.write_latency(rtt, p, lay.follower)))


def test_published_measurement_shape_put_is_min_rtt_for_three_members():
    # FACTS.md: a put to the leader measured min_f RTT(L, f) + a constant on these machines
    for x in itertools.product([0.0, 3.0, 17.0], repeat=3):
        lay = Layout("t", x, leader=0, follower=1)
        assert network_ms(lay)["put_leader"] == pytest.approx(min(x[0] + x[1], x[0] + x[2]))


def test_stopped_member_changes_the_order_statistic():
    up = Layout("a", (5.0, 10.0, 20.0), leader=0, follower=2)
    down = Layout("b", (5.0, 10.0, 20.0), leader=0, follower=2, stopped=(1,))
    assert network_ms(up)["put_leader"] == 15.0 and network_ms(down)["put_leader"] == 25.0
    five = Layout("c", (2.0, 5.0, 10.0, 20.0, 30.0), leader=0, follower=3, stopped=(1,))
    assert network_ms(five)["put_leader"] == 22.0   # 2nd fastest of 12, 22, 32


def test_calibration_is_applied_unchanged():
    cal = Calibration({op: 3.0 for op in OPS}, {op: 7.0 for op in OPS})
    for lay in LAYOUTS:
        pr = predict(lay, cal).set_index("op")
        net = network_ms(lay)
        for op in OPS:
            assert pr.loc[op, "predicted_p50_ms"] == pytest.approx(net[op] + 3.0)
            assert pr.loc[op, "predicted_p90_ms"] == pytest.approx(net[op] + 7.0)


def test_layout_refuses_bad_input():
    with pytest.raises(ValueError, match="delays_ms must be >= 0"):
        Layout("x", (1.0, -1.0, 0.0))
    with pytest.raises(ValueError, match="follower must differ"):
        Layout("x", (1.0, 1.0, 1.0), leader=1, follower=1)
    with pytest.raises(ValueError, match="leaves no quorum"):
        Layout("x", (1.0,) * 3, leader=0, follower=1, stopped=(2, 2, 2) if False else (2,)) and \
            Layout("x", (1.0,) * 5, leader=0, follower=1, stopped=(2, 3, 4))
    with pytest.raises(ValueError, match="must not include the leader"):
        Layout("x", (1.0,) * 3, leader=0, follower=1, stopped=(0,))
    with pytest.raises(ValueError, match="leader must be <= 2"):
        Layout("x", (1.0,) * 3, leader=3)
    with pytest.raises(ValueError, match="missing 'put_follower'"):
        calibrate({"put_leader": [1.0]})


def _synthetic_samples(extra_per_hop=0.0, seed=0):
    """Samples drawn as network + overhead (+ an optional per-hop cost), to test compare()."""
    rng = np.random.default_rng(seed)
    hops = {"put_leader": 2, "put_follower": 4, "read_linearizable_leader": 2,
            "read_linearizable_follower": 4, "read_serializable_follower": 0}
    rows = []
    for lay in LAYOUTS:
        net = network_ms(lay)
        for op in OPS:
            delayed = net[op] > 0
            lat = net[op] + 2.0 + rng.exponential(1.0, 400) + (extra_per_hop * hops[op] if delayed else 0.0)
            rows += [(lay.name, lay.n, op, 0, 1, v) for v in lat]
    return pd.DataFrame(rows, columns=["layout", "n", "op", "round", "concurrency", "latency_ms"])


def test_compare_recovers_an_exact_model_and_flags_a_per_hop_cost():
    exact = compare(_synthetic_samples())
    # same distribution everywhere -> the error is a difference of two sample medians (the
    # layout's and the calibration's).  The median of 400 draws of 2 + Exp(1) has standard
    # error 1 / (2 f(m) sqrt(400)) = 0.05 ms (f(m) = 1/2); the difference sqrt(2) * 0.05.
    # 50 comparisons at 4.5 sigma: chance failure < 50 * 7e-6.
    assert np.allclose(exact.p50_se_ms, 0.05, rtol=0.35)       # compare()'s SE estimate
    assert (exact.error_p50_ms.abs() <= 4.5 * np.sqrt(2) * 0.05).all()
    assert exact.within_tol.all()
    biased = compare(_synthetic_samples(extra_per_hop=2.0))
    four = biased[(biased.hops == 4) & (biased.network_ms > 0)]
    assert (four.error_p50_ms > 6.0).all()        # 8 ms injected, SE ~0.06 ms
    zero = biased[biased.layout == "zero-3"]
    assert (zero.error_p50_ms == 0).all()         # the calibration layout is exact by construction


def test_saved_runs_round_trip(tmp_path):
    s = _synthetic_samples().head(50)
    csv, js = save_run("unit", s, {"note": "x"}, directory=tmp_path)
    back, meta = load_run(js)
    assert meta["note"] == "x" and "machine" in meta and meta["machine"]["cpus"] >= 1
    save_run("unit-wan", s, {"note": "y"}, directory=tmp_path)   # a longer name is another run
    assert latest_run("unit", directory=tmp_path) == js
    pd.testing.assert_frame_equal(back, s, check_exact=False, atol=1e-4)


def test_staleness_analysis_recovers_a_known_visibility_delay():
    """A simulated follower sees put k exactly x_L ms after it returned: t50 must be x_L."""
    rng = np.random.default_rng(3)
    rows = []
    for lay in STALENESS_LAYOUTS:
        x_l = lay.delays_ms[lay.leader] / 1e3
        done = np.cumsum(rng.uniform(0.02, 0.05, 120))
        reads = np.sort(rng.uniform(0, done[-1], 3000))
        value = np.searchsorted(done + x_l, reads, side="right") - 1
        rows += [(lay.name, "write", k, t, k) for k, t in enumerate(done)]
        rows += [(lay.name, "read", j, t, v) for j, (t, v) in enumerate(zip(reads, value))]
    raw = pd.DataFrame(rows, columns=["layout", "kind", "k", "t_s", "value"])
    curves = staleness_table(raw, edges_ms=np.arange(0.0, 70.0, 1.0), trials=2000)
    t50 = visibility_t50(curves, trials=2000)
    assert np.allclose(t50.predicted_t50_ms, [5.0, 15.0, 30.0])
    assert np.all(np.abs(t50.error_ms) <= 1.0)     # bin width 1 ms
    # the curve is a step at x_L: 0 below, 1 above (bins not straddling it)
    for name, g in curves.groupby("layout"):
        x = g.x_leader_ms.iloc[0]
        assert (g[g.t_hi_ms <= x].measured.fillna(0) == 0).all()
        assert (g[g.t_lo_ms >= x].measured.dropna() == 1).all()
