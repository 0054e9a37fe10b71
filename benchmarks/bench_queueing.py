"""Queueing benchmarks: analytic M/M/c vs the Monte Carlo simulator vs Ciw.

    python benchmarks/run.py queueing          # full size (~1-2 minutes)
    python benchmarks/run.py --smoke queueing  # a few seconds

Rows (see benchmarks/run.py):
* ``mmc`` over 10^6 random configurations (best of 3), and one scalar call;
* the simulator's customers per second on M/M/2 at ρ = 0.8 (and M/M/1, the Lindley scan);
* Ciw's customers per second on the same M/M/2;
* the run length Ciw needs for 1 % accuracy on the mean wait, i.e. a 95 % confidence
  half-width of 1 % (1.96 SE = 0.01 W_q), estimated from the spread of replication means:
  n_1% = n · (1.96 · sd(replication means) / (0.01 · W_q))² customers; the same estimate from
  the simulator's (many more) replications is shown as a cross-check;
* ratios: Ciw time to 1 % / one analytic call (target ≥ 10^4), simulator / Ciw customers per
  second (target ≥ 50), and the 10^6-configuration time (target < 1 s).
"""

from __future__ import annotations

import time

import numpy as np

from followerlab.queueing import ggc, mmc
from followerlab.sim.queue import simulate_ggc

LAM, MU, C = 1.6, 1.0, 2  # M/M/2 at rho = 0.8, shared by the simulator and Ciw


def _best(fn, repeat):
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _ciw_run(horizon_s, warmup_s, seed):
    import ciw

    network = ciw.create_network(arrival_distributions=[ciw.dists.Exponential(rate=LAM)],
                                 service_distributions=[ciw.dists.Exponential(rate=MU)],
                                 number_of_servers=[C])
    ciw.seed(seed)
    t0 = time.perf_counter()
    sim = ciw.Simulation(network)
    sim.simulate_until_max_time(horizon_s)
    records = sim.get_all_records()
    elapsed = time.perf_counter() - t0
    waits = [r.waiting_time for r in records if r.arrival_date > warmup_s]
    return len(records), elapsed, float(np.mean(waits)), len(waits)


def run(smoke: bool) -> list[dict]:
    rows: list[dict] = []
    rng = np.random.default_rng(0)
    exact_wq = float(mmc(LAM, MU, C).mean_wait_s)

    # 1. analytic M/M/c over many configurations, and one scalar call
    n = 10_000 if smoke else 1_000_000
    c = rng.integers(1, 200, n)
    lam = rng.uniform(0.0, 1.1, n) * c
    mu = rng.uniform(0.5, 2.0, n)
    mmc(lam[:10], mu[:10], c[:10])  # warm
    t_vec = _best(lambda: mmc(lam, mu, c), 3)
    rows.append(dict(name=f"mmc over {n:,} configurations", value=t_vec, unit="s",
                     target="< 1 s at 10^6", ok=bool(t_vec < 1.0 * n / 1e6)))
    rows.append(dict(name="mmc configurations per second", value=n / t_vec, unit="1/s"))
    calls = 200 if smoke else 2000
    t_one = _best(lambda: [mmc(LAM, MU, C) for _ in range(calls)], 3) / calls
    rows.append(dict(name="mmc one scalar configuration (call overhead)", value=t_one * 1e6, unit="us"))
    nq = 1_000 if smoke else 10_000
    t_rq = _best(lambda: mmc(lam[:nq], mu[:nq], c[:nq]).response_quantile(0.99), 1 if smoke else 3)
    rows.append(dict(name=f"mmc response_quantile(0.99), {nq:,} configurations", value=t_rq, unit="s"))
    g = ggc(lam[:nq], mu[:nq], c[:nq], rng.uniform(0.0, 2.0, nq), rng.uniform(0.0, 3.0, nq),
            method="approximation")  # the analytic path (auto would simulate most of these)
    t_g = _best(lambda: g.response_quantile(0.99), 1 if smoke else 3)
    rows.append(dict(name=f"ggc response_quantile(0.99), gamma service, {nq:,} configs", value=t_g, unit="s"))

    # 2. the simulator on M/M/2 (Kiefer-Wolfowitz loop) and M/M/1 (Lindley scan)
    cust, reps = (2_000, 50) if smoke else (20_000, 1_000)
    t0 = time.perf_counter()
    sim = simulate_ggc(LAM, MU, C, customers=cust, replications=reps, warmup=cust // 10, seed=1,
                       keep_waits=False)
    t_sim = time.perf_counter() - t0
    sim_rate = cust * reps / t_sim
    rows.append(dict(name=f"simulator M/M/2 customers per second ({cust * reps:,})", value=sim_rate,
                     unit="1/s"))
    t0 = time.perf_counter()
    simulate_ggc(0.8, 1.0, 1, customers=cust, replications=reps, warmup=cust // 10, seed=1, keep_waits=False)
    rows.append(dict(name="simulator M/M/1 customers per second (Lindley scan)",
                     value=cust * reps / (time.perf_counter() - t0), unit="1/s"))
    rows.append(dict(name="simulator M/M/2 mean wait (Erlang C: %.4f s)" % exact_wq,
                     value=sim.mean_wait_s, unit=f"s ± {sim.mean_wait_se_s:.4f}"))

    # 3. Ciw on the same M/M/2: speed, and the run length for 1 % accuracy
    horizon, warm_s, ciw_reps = (150.0, 15.0, 3) if smoke else (3_000.0, 300.0, 8)
    runs = [_ciw_run(horizon, warm_s, seed) for seed in range(1, ciw_reps + 1)]
    ciw_rate = sum(r[0] for r in runs) / sum(r[1] for r in runs)
    rows.append(dict(name=f"Ciw M/M/2 customers per second ({sum(r[0] for r in runs):,})",
                     value=ciw_rate, unit="1/s"))
    means = np.array([r[2] for r in runs])
    n_meas = np.mean([r[3] for r in runs])
    rows.append(dict(name=f"Ciw M/M/2 mean wait over {ciw_reps} runs", value=float(means.mean()),
                     unit=f"s ± {means.std(ddof=1) / np.sqrt(ciw_reps):.4f}"))
    n_1pct = n_meas * (1.96 * means.std(ddof=1) / (0.01 * exact_wq)) ** 2
    rows.append(dict(name="Ciw run length for 1% (95% CI) on mean wait", value=n_1pct, unit="customers"))
    sim_n_1pct = (cust - cust // 10) * (1.96 * np.std(sim.replication_mean_wait_s, ddof=1)
                                        / (0.01 * exact_wq)) ** 2
    rows.append(dict(name="  same, from the simulator's replications", value=sim_n_1pct, unit="customers"))
    ciw_time_1pct = n_1pct / ciw_rate
    rows.append(dict(name="Ciw time to 1% accuracy", value=ciw_time_1pct, unit="s"))

    # 4. ratios
    rows.append(dict(name="ratio: Ciw-at-1% time / one analytic mmc call", value=ciw_time_1pct / t_one,
                     unit="x", target=">= 1e4", ok=bool(ciw_time_1pct / t_one >= 1e4)))
    rows.append(dict(name="ratio: Ciw-at-1% time / one configuration of a 10^6 sweep",
                     value=ciw_time_1pct / (t_vec / n), unit="x"))
    rows.append(dict(name="ratio: simulator / Ciw customers per second", value=sim_rate / ciw_rate, unit="x",
                     target=">= 50", ok=bool(sim_rate / ciw_rate >= 50)))
    return rows


if __name__ == "__main__":
    import sys

    for row in run(smoke="--smoke" in sys.argv):
        print(row)
