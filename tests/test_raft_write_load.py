"""raft.write_load (batched Raft writes, the leader as an M/D^(b,b)/1 bulk queue).

Checked against independent references: the event simulation
(followerlab.sim.raft.simulate_write_load), Erlang's closed-form M/D/1 waiting-time law and
Pollaczek-Khinchine for b = 1, and the pure batch-fill (Erlang mixture) law at very light load.
"""

from __future__ import annotations


import numpy as np
import pytest
from scipy import optimize, stats

from followerlab import latency, raft
from followerlab.sim.raft import simulate_write_load
from followerlab.sim.references import md1_wait_cdf

A, F, P = 1.0, 0.1, 0.05  # the default per-step costs (ms)


def service_ms(b, n=3):
    return A + (n - 1) * F + b * P


def rate_for(rho, b, n=3):
    return rho * b / service_ms(b, n) * 1000.0




# --- against the simulation over the grid (coarse) -----------------------------------

def block_stat(x, fn, blocks=20):
    """The statistic on the whole run and its standard error from ``blocks`` consecutive blocks."""
    parts = np.array([fn(p) for p in np.array_split(x, blocks)])
    return fn(x), parts.std(ddof=1) / np.sqrt(blocks)


@pytest.mark.parametrize("b", [1, 8, 64])
@pytest.mark.parametrize("rho", [0.1, 0.5, 0.9])
def test_matches_simulation(b, rho):
    rate = rate_for(rho, b)
    commits = np.array([1.0, 150.0])
    w = raft.write_load(rate, 3, commits, batch=b)
    n = 2_000_000 if rho == 0.9 else 200_000
    sim = simulate_write_load(rate, 3, 0.0, batch=b, proposals=n, seed=b * 10 + int(rho * 10))
    lat = sim.latency_ms[n // 20:]
    wq = sim.queue_wait_ms[sim.queue_wait_ms.size // 20:]
    assert w.admin_utilization == pytest.approx(rho) and sim.utilization == pytest.approx(rho, rel=0.02)
    for name, fn in (("p99_ms", lambda x: np.quantile(x, 0.99)), ("p50_ms", np.median), ("mean_ms", np.mean)):
        value, se = block_stat(lat, fn)
        for j, c in enumerate(commits):
            model = getattr(w, name)[j]
            # exact model: the difference is sampling error (4 SE), and within the 5 %
            assert abs(model - (value + c)) <= 4 * se + 1e-9 * value, (name, c, model, value + c, se)
            assert abs(model - (value + c)) <= 0.05 * (value + c)
    # queue wait of a full batch; ~0 at light load / large batches, so an absolute floor
    value, se = block_stat(wq, np.mean)
    # (+ 1e-6 S: waits of ~1e-7 ms, e.g. b = 64 at rho = 0.5 where a batch fills in under S with
    # probability ~1e-7, are real but too rare for the simulation to see)
    assert abs(w.queue_wait_ms[0] - value) <= 4 * se + 1e-6 * service_ms(b), (w.queue_wait_ms[0], value, se)
    assert abs(w.queue_wait_ms[0] - value) <= 0.05 * max(value, 0.05 * service_ms(b))
    # the mean decomposes: fill + queue wait + append + commit
    assert w.mean_ms[0] == pytest.approx((w.batching_wait_ms + w.queue_wait_ms + w.service_ms)[0] + 1.0)


def test_deep_tail_and_whole_cdf_match_simulation():
    # b = 4 at rho = 0.7: p999 and p90 too, short commit (where the old mean-plus-quantile was 30 % low)
    b, rho = 4, 0.7
    rate = rate_for(rho, b)
    w = raft.write_load(rate, 3, 2.0, batch=b)
    sim = simulate_write_load(rate, 3, 2.0, batch=b, proposals=1_000_000, seed=7).latency_ms[50_000:]
    q = np.array([0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999])
    assert w.quantile(q) == pytest.approx(np.quantile(sim, q), rel=0.02)


# --- closed forms ---------------------------------------------------------------------------

@pytest.mark.parametrize("rho", [0.05, 0.3, 0.5, 0.8, 0.95, 0.99])
def test_batch_one_is_md1_pollaczek_khinchine(rho):
    s = service_ms(1)
    w = raft.write_load(rate_for(rho, 1), 3, 5.0)
    assert float(w.queue_wait_ms) == pytest.approx(rho * s / (2 * (1 - rho)), rel=1e-9)
    assert float(w.batching_wait_ms) == 0.0
    assert float(w.mean_ms) == pytest.approx(5.0 + s + rho * s / (2 * (1 - rho)), rel=1e-9)


@pytest.mark.parametrize("rho", [0.1, 0.45, 0.7, 0.85])
@pytest.mark.parametrize("q", [0.6, 0.9, 0.99, 0.999])
def test_batch_one_quantiles_follow_erlangs_md1_law(rho, q):
    s = service_ms(1)
    w = raft.write_load(rate_for(rho, 1), 3, 0.0)
    t = float(w.quantile(q)) - s
    if 1 - rho >= q:  # atom at 0: the quantile is the bare service time
        assert t == pytest.approx(0.0, abs=1e-9)
    else:
        assert md1_wait_cdf(t, rho, s, digits=60) == pytest.approx(q, abs=1e-9)


@pytest.mark.parametrize("b", [2, 8, 64])
def test_very_light_load_is_fill_time_plus_service_plus_commit(b):
    # rho = 1e-3: the leader is idle when a batch fills, so T = S + commit + fill time, the fill
    # time of a uniform position i being Erlang(b - i, lam): a closed-form mixture
    rate = rate_for(1e-3, b)
    commit = 3.0
    w = raft.write_load(rate, 3, commit, batch=b)
    lam = rate / 1000.0

    def fill_cdf(u):
        return np.mean([1.0] + [stats.gamma.cdf(u, k, scale=1 / lam) for k in range(1, b)])

    for q, got in ((0.6, w.quantile(0.6)), (0.99, w.p99_ms)):
        u = optimize.brentq(lambda x: fill_cdf(x) - q, 0.0, 1e3 * b / lam)
        assert float(got) == pytest.approx(u + service_ms(b) + commit, rel=1e-6)
    assert float(w.queue_wait_ms) < 1e-6 * float(w.service_ms)
    assert float(w.mean_ms) == pytest.approx((b - 1) / (2 * lam) + service_ms(b) + commit, rel=1e-6)


def test_p99_is_not_mean_fill_plus_a_quantile():
    # short (ZONE) commit, batch 16, rho 0.5: the fill-time spread dominates the p99
    b = 16
    rate = rate_for(0.5, b)
    w = raft.write_load(rate, 3, 2.0, batch=b)
    sim = simulate_write_load(rate, 3, 2.0, batch=b, proposals=400_000, seed=3).latency_ms[20_000:]
    p99 = np.quantile(sim, 0.99)
    assert float(w.p99_ms) == pytest.approx(p99, rel=0.02)
    assert float(w.batching_wait_ms + w.service_ms + 2.0) < 0.8 * p99  # what adding the mean gets


# --- a commit latency distribution (jittered links) ------------------------------------------

@pytest.mark.parametrize("b, rho", [(1, 0.9), (8, 0.7), (64, 0.5)])
def test_commit_distribution_matches_simulation(b, rho):
    commit = stats.gamma(4, scale=0.5)  # 2 ms mean, jittered: comparable to the queue and fill
    rate = rate_for(rho, b)
    w = raft.write_load(rate, 3, commit, batch=b)
    n = 1_000_000
    lat = simulate_write_load(rate, 3, commit, batch=b, proposals=n, seed=b + 100).latency_ms[n // 20:]
    assert float(w.commit_ms) == pytest.approx(2.0)
    qs = np.array([0.5, 0.9, 0.99])
    models = w.quantile(qs)
    for q, model in zip(qs, models):
        value, se = block_stat(lat, lambda x: np.quantile(x, q))
        assert abs(model - value) <= 4 * se + 1e-6 * value and abs(model - value) <= 0.05 * value, (q, model, value, se)
    assert float(w.p99_ms) == pytest.approx(models[2])
    value, se = block_stat(lat, np.mean)
    assert abs(float(w.mean_ms) - value) <= 4 * se


def test_commit_point_mass_equals_constant_commit():
    # the convolution path with a point mass against the exact shift; its grid error is <= h/2
    for b, rho in ((1, 0.6), (4, 0.8), (32, 0.3)):
        rate = rate_for(rho, b)
        d = raft.write_load(rate, 3, latency.constant(2.0), batch=b)
        c = raft.write_load(rate, 3, 2.0, batch=b)
        assert float(d.p99_ms) == pytest.approx(float(c.p99_ms), rel=1e-3)
        assert float(d.p50_ms) == pytest.approx(float(c.p50_ms), rel=1e-3)
        assert float(d.mean_ms) == pytest.approx(float(c.mean_ms), rel=1e-12)


def test_commit_distribution_at_light_load_is_service_plus_commit():
    # b = 1, rho = 1e-4: almost never a queue, so T = S + C (a shifted gamma)
    commit = stats.gamma(2, scale=5.0)
    w = raft.write_load(rate_for(1e-4, 1), 3, commit)
    assert w.quantile([0.5, 0.99]) == pytest.approx(service_ms(1) + commit.ppf([0.5, 0.99]), rel=2e-4)


def test_commit_distribution_bad_input():
    w = raft.write_load(100.0, 3, stats.gamma(2))
    with pytest.raises(ValueError, match="q must be <= 1 - 1e-5"):
        w.quantile(0.999999)
    with pytest.raises(ValueError, match="commit_ms must be one distribution"):
        raft.write_load(100.0, 3, latency.constant([1.0, 2.0]))


# --- structure, vectorization, bad input ----------------------------------------------------

def test_vectorized_and_consistent():
    rates = np.geomspace(10.0, 5000.0, 40)
    w = raft.write_load(rates, [[3], [5]], 1.0, batch=[[1], [16]])
    assert w.p99_ms.shape == (2, 40)
    one = raft.write_load(rates[17], 5, 1.0, batch=16)
    assert float(one.p99_ms) == pytest.approx(w.p99_ms[1, 17], rel=1e-9)
    assert float(one.queue_wait_ms) == pytest.approx(w.queue_wait_ms[1, 17], rel=1e-9, abs=1e-12)
    ok = w.stable
    assert np.all(w.p50_ms[ok] <= w.p99_ms[ok]) and np.all(w.p99_ms[ok] <= w.quantile(0.999)[ok])
    assert np.array_equal(w.quantile(0.99)[ok], w.p99_ms[ok])
    assert np.all(np.isinf(w.p99_ms[~ok])) and np.all(np.isinf(w.queue_wait_ms[~ok])) and (~ok).any()
    frame = w.to_frame()
    assert {"p50_ms", "p99_ms", "queue_wait_ms", "commit_ms"} <= set(frame.columns) and len(frame) == 80


def test_saturation_is_not_an_error():
    s = service_ms(8)
    w = raft.write_load(np.array([0.5, 1.0, 1.5]) * 8 / s * 1000.0, 3, 1.0, batch=8)
    assert w.stable.tolist() == [True, False, False]
    assert np.isinf(w.mean_ms[1:]).all() and np.isinf(w.p50_ms[1:]).all()


def test_bad_input():
    with pytest.raises(ValueError, match="service_cv must be 0"):
        raft.write_load(10.0, service_cv=0.5)
    with pytest.raises(ValueError, match="commit_ms must be >= 0"):
        raft.write_load(10.0, commit_ms=-1.0)
    w = raft.write_load(10.0)
    with pytest.raises(ValueError, match="q"):
        w.quantile(1.0)
    with pytest.raises(ValueError, match="no service time"):
        raft.write_load(10.0, per_append_ms=0.0, per_follower_ms=0.0, per_proposal_ms=0.0)


def test_simulator_closed_form_lindley_equals_the_loop():
    # the simulator's vectorized recursion against the plain event loop, same draws
    b, rate, s = 4, 2500.0, service_ms(4)
    sim = simulate_write_load(rate, 3, 7.0, batch=b, proposals=4003, seed=11)
    arrivals = np.cumsum(np.random.default_rng(11).exponential(1000.0 / rate, size=4000))
    free, finish = 0.0, []
    for r in arrivals[b - 1::b]:
        free = max(r, free) + s
        finish.append(free)
    assert sim.latency_ms == pytest.approx(np.repeat(finish, b) - arrivals + 7.0, abs=1e-9)
    assert sim.queue_wait_ms == pytest.approx(np.array(finish) - s - arrivals[b - 1::b], abs=1e-9)
