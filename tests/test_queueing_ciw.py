"""The queueing formulas against Ciw, a peer discrete-event simulation library.

Ciw (Palmer, Knight, Harper & Geraint, "Ciw: An open-source discrete event simulation library",
J. Simulation 13(1), 2019) is an independent implementation: event scheduling in pure Python,
its own random streams.  Runs are small (Ciw simulates ~10^4 customers/s on this machine), so
each test uses R = 10 seeded replications and compares the formula with the mean of the R
replication means within 4 standard errors.  With 9 degrees of freedom the chance that a
correct formula falls outside is ~0.3 % (Student t); the seeds are fixed, so the test is
deterministic.  The SE is asserted to be below 5 % of the value, so a formula wrong by more
than ~20 % fails (dropping Erlang C's (1 - ρ) term, using P–K without the (1 + cs²)/2 factor
or M/M/1 for M/M/2 would all be off by more).
"""

from __future__ import annotations

import numpy as np
import pytest

ciw = pytest.importorskip("ciw")

from followerlab.queueing import mg1, mmc  # noqa: E402

REPS = 10
Z = 4.0


def ciw_mean_waits(arrival, service, servers, horizon_s, warmup_s, seeds):
    """Mean wait of customers arriving after warmup_s, one Ciw run per seed."""
    out = []
    for seed in seeds:
        network = ciw.create_network(arrival_distributions=[arrival], service_distributions=[service],
                                     number_of_servers=[servers])
        ciw.seed(seed)
        sim = ciw.Simulation(network)
        sim.simulate_until_max_time(horizon_s)
        waits = [r.waiting_time for r in sim.get_all_records() if r.arrival_date > warmup_s]
        out.append(np.mean(waits))
    return np.array(out)


def check(rep_means, exact):
    mean, se = rep_means.mean(), rep_means.std(ddof=1) / np.sqrt(len(rep_means))
    assert se < 0.05 * exact, f"Ciw runs too short: SE {se:.4g} vs {exact:.4g}"
    assert abs(mean - exact) < Z * se, f"Ciw {mean:.4g} ± {se:.2g} vs formula {exact:.4g}"


def test_mmc_mean_wait_matches_ciw():
    # M/M/2, lambda = 1, mu = 1 (rho = 0.5): Wq = C(2, 1) / (2 - 1) = 1/3 s.
    lam, mu, c = 1.0, 1.0, 2
    exact = float(mmc(lam, mu, c).mean_wait_s)
    assert exact == pytest.approx(1 / 3)
    means = ciw_mean_waits(ciw.dists.Exponential(rate=lam), ciw.dists.Exponential(rate=mu), c,
                           horizon_s=2600.0, warmup_s=100.0, seeds=range(1, REPS + 1))
    check(means, exact)


def test_mg1_mean_wait_matches_ciw():
    # M/G/1 with gamma service, mean 1 s, cv 0.5 (shape 4, scale 0.25), lambda = 0.5:
    # P-K: Wq = 0.5 * 1 * (1 + 0.25) / (2 * 0.5) = 0.625 s.
    lam = 0.5
    exact = float(mg1(lam, 1.0, 0.5).mean_wait_s)
    assert exact == pytest.approx(0.625)
    means = ciw_mean_waits(ciw.dists.Exponential(rate=lam), ciw.dists.Gamma(shape=4.0, scale=0.25), 1,
                           horizon_s=3000.0, warmup_s=100.0, seeds=range(101, 101 + REPS))
    check(means, exact)
