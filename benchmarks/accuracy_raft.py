"""Accuracy of :func:`followerlab.raft.write_load` (batched Raft writes) against simulation.

    python benchmarks/accuracy_raft.py            # full grid (~1 minute)
    python benchmarks/accuracy_raft.py --smoke    # coarse grid, a few seconds

``rows(smoke)`` returns one dict per (formula, regime, metric) with ``worst_rel_error``,
``median_rel_error``, ``n_points`` and ``reference`` (collected by benchmarks/accuracy.py).

Grid: batch b in {1, 2, 8, 16, 64}, utilization ρ in {0.1, 0.3, 0.5, 0.7, 0.9}, commit in
{1, 10, 150} ms, 3 voters, the default per-step costs (smoke: b in {1, 8, 64}, ρ in
{0.1, 0.5, 0.9}, commit in {1, 150}).  The reference is
:func:`followerlab.sim.raft.simulate_write_load` (seeded; the first 5 % of proposals dropped as
warm-up), so the errors include the simulation's sampling error, which dominates at ρ = 0.9.
Relative error = |model − sim| / sim; for the queue wait, whose simulated value is ~0 at light
load or large batches, the denominator is max(sim, 0.05 · append time).  A second formula row
checks b = 1 against Erlang's closed-form M/D/1 waiting-time law (exact arithmetic) at p50,
p90 and p99; a third checks a gamma-distributed commit (the convolution path) against the
simulation with the same commit law.

:func:`followerlab.raft.greedy_write_load` (every waiting proposal in the next append) is held
against :func:`followerlab.sim.raft.simulate_greedy_write_load` over λp in {0.1, 0.3, 0.5,
0.7, 0.9} (p the per-proposal cost, saturation at 1/p; smoke: {0.1, 0.5, 0.9}), with and
without stalls (5 ms with probability 0.02 per append), mean, p50 and p99 of the latency and
the mean queue wait (denominator max(sim, 0.05 · append time)), 2·10^6 proposals per point
(smoke 2·10^5).

:func:`followerlab.raft.readindex_read_load` (linearizable reads in ReadIndex rounds of R =
10 ms, overhead 2 ms) is held against the same simulator with a constant append time R and no
per-proposal time (the read loop) over λR in {0.1, 0.5, 1, 3, 10} (smoke: {0.5, 3}): mean, p50
and p99, 2·10^6 reads per point (smoke 2·10^5).
"""

from __future__ import annotations

import sys

import numpy as np
from scipy import stats

from followerlab import raft
from followerlab.sim.raft import simulate_greedy_write_load, simulate_write_load
from followerlab.sim.references import md1_wait_cdf

PER_APPEND_MS, PER_FOLLOWER_MS, PER_PROPOSAL_MS, N_VOTERS = 1.0, 0.1, 0.05, 3


def _service_ms(b):
    return PER_APPEND_MS + (N_VOTERS - 1) * PER_FOLLOWER_MS + b * PER_PROPOSAL_MS


def _rel(model, ref, floor=0.0):
    return abs(model - ref) / max(abs(ref), floor)


def _block_stat(x, fn, blocks=20):
    parts = np.array([fn(p) for p in np.array_split(x, blocks)])
    return fn(x), parts.std(ddof=1) / np.sqrt(blocks)


def _summary(formula, regime, metric, errors, reference):
    e = np.asarray(errors, float)
    return {"formula": formula, "regime": regime, "metric": metric, "worst_rel_error": float(e.max()),
            "median_rel_error": float(np.median(e)), "n_points": int(e.size), "reference": reference}




def rows(smoke: bool) -> list[dict]:
    batches = (1, 8, 64) if smoke else (1, 2, 8, 16, 64)
    rhos = (0.1, 0.5, 0.9) if smoke else (0.1, 0.3, 0.5, 0.7, 0.9)
    commits = (1.0, 150.0) if smoke else (1.0, 10.0, 150.0)
    proposals = 200_000 if smoke else 4_000_000
    errors = {}  # (regime, metric) -> list of (relative error, |error| / simulation SE)
    for b in batches:
        service = _service_ms(b)
        for rho in rhos:
            rate = rho * b / service * 1000.0
            regime = "rho 0.1-0.5" if rho <= 0.5 else ("rho 0.9" if smoke else "rho 0.7-0.9")
            w = raft.write_load(rate, N_VOTERS, np.array(commits), batch=b, per_append_ms=PER_APPEND_MS,
                                per_follower_ms=PER_FOLLOWER_MS, per_proposal_ms=PER_PROPOSAL_MS)
            sim = simulate_write_load(rate, N_VOTERS, 0.0, batch=b, per_append_ms=PER_APPEND_MS,
                                      per_follower_ms=PER_FOLLOWER_MS, per_proposal_ms=PER_PROPOSAL_MS,
                                      proposals=proposals, seed=1000 * b + int(100 * rho))
            lat = sim.latency_ms[proposals // 20:]
            wq = sim.queue_wait_ms[sim.queue_wait_ms.size // 20:]
            for metric, fn, field in (("mean", np.mean, "mean_ms"), ("p50", np.median, "p50_ms"),
                                      ("p99", lambda x: np.quantile(x, 0.99), "p99_ms")):
                value, se = _block_stat(lat, fn)
                for j, c in enumerate(commits):
                    model = getattr(w, field)[j]
                    errors.setdefault((regime, metric), []).append(
                        (_rel(model, value + c), abs(model - value - c) / max(se, 1e-12)))
            value, se = _block_stat(wq, np.mean)
            model = float(w.queue_wait_ms[0])
            errors.setdefault((regime, "queue wait (mean)"), []).append(
                (_rel(model, value, 0.05 * service), abs(model - value) / max(se, 1e-6 * service)))
    ref = (f"followerlab.sim.raft.simulate_write_load, {proposals:.0e} proposals per point, seeded, 5 % warm-up "
           "dropped; the error is the simulation's sampling error: worst |model - sim| = {z:.1f} SE (20 batch means)")
    out = [_summary("raft.write_load", f"batch {batches[0]}-{batches[-1]}, {regime}, commit "
                    f"{commits[0]:g}-{commits[-1]:g} ms", metric, [e for e, _ in ez],
                    ref.format(z=max(z for _, z in ez))) for (regime, metric), ez in errors.items()]
    # a jittered commit (gamma, mean 2 ms, cv 0.5): the convolution path against the simulation
    jitter = stats.gamma(4, scale=0.5)
    conv = []
    zs = []
    points = ((1, 0.9), (8, 0.7)) if smoke else ((1, 0.5), (1, 0.9), (8, 0.7), (16, 0.9), (64, 0.5))
    for b, rho in points:
        service = _service_ms(b)
        rate = rho * b / service * 1000.0
        w = raft.write_load(rate, N_VOTERS, jitter, batch=b, per_append_ms=PER_APPEND_MS,
                            per_follower_ms=PER_FOLLOWER_MS, per_proposal_ms=PER_PROPOSAL_MS)
        lat = simulate_write_load(rate, N_VOTERS, jitter, batch=b, per_append_ms=PER_APPEND_MS,
                                  per_follower_ms=PER_FOLLOWER_MS, per_proposal_ms=PER_PROPOSAL_MS,
                                  proposals=proposals, seed=7 * b).latency_ms[proposals // 20:]
        qs = np.array([0.5, 0.9, 0.99])
        for q, model in zip(qs, w.quantile(qs)):
            value, se = _block_stat(lat, lambda x, q=q: np.quantile(x, q))
            conv.append(_rel(model, value))
            zs.append(abs(model - value) / se)
    out.append(_summary("raft.write_load (commit distribution)", "gamma commit mean 2 ms, (batch, rho) in " + ", ".join(f"({b}, {r:g})" for b, r in points),
                        "p50/p90/p99", conv,
                        f"followerlab.sim.raft.simulate_write_load with the same commit law, {proposals:.0e} "
                        f"proposals per point; worst |model - sim| = {max(zs):.1f} SE"))
    # b = 1 against Erlang's exact M/D/1 law: F_W(model quantile - S) should equal q
    md1 = []
    md1_rhos = (0.3, 0.7) if smoke else (0.1, 0.3, 0.5, 0.7, 0.8)
    for rho in md1_rhos:
        service = _service_ms(1)
        w = raft.write_load(rho / service * 1000.0, N_VOTERS, 0.0, batch=1, per_append_ms=PER_APPEND_MS,
                            per_follower_ms=PER_FOLLOWER_MS, per_proposal_ms=PER_PROPOSAL_MS)
        for q in (0.5, 0.9, 0.99):
            t = float(w.quantile(q)) - service
            if t <= 1e-12:  # the atom at 0 (P(W = 0) = 1 - rho >= q)
                md1.append(0.0 if 1 - rho >= q else 1.0)
                continue
            md1.append(abs(md1_wait_cdf(t, rho, service, digits=60) - q) / q)
    out.append(_summary("raft.write_load (batch 1)", f"M/D/1, rho {md1_rhos[0]:g}-{md1_rhos[-1]:g}", "CDF at p50/p90/p99 quantile", md1,
                        "Erlang's closed-form M/D/1 waiting-time distribution (60-digit arithmetic)"))
    out += _greedy_rows(smoke)
    out += _readindex_rows(smoke)
    return out


def _readindex_rows(smoke: bool) -> list[dict]:
    xs = (0.5, 3.0) if smoke else (0.1, 0.5, 1.0, 3.0, 10.0)
    reads = 200_000 if smoke else 2_000_000
    round_ms, overhead_ms = 10.0, 2.0
    errors = {}
    for k, x in enumerate(xs):
        rate = x / round_ms * 1000.0
        r = raft.readindex_read_load(rate, round_ms, overhead_ms)
        lat = simulate_greedy_write_load(rate, N_VOTERS, overhead_ms, per_append_ms=round_ms, per_follower_ms=0.0,
                                         per_proposal_ms=0.0, proposals=reads, seed=777 + k).latency_ms[reads // 20:]
        for metric, fn, field in (("mean", np.mean, "mean_ms"), ("p50", np.median, "p50_ms"),
                                  ("p99", lambda v: np.quantile(v, 0.99), "p99_ms")):
            value, se = _block_stat(lat, fn)
            model = float(getattr(r, field))
            errors.setdefault(metric, []).append((_rel(model, value), abs(model - value) / max(se, 1e-12)))
    regime = f"R {round_ms:g} ms, overhead {overhead_ms:g} ms, λR {xs[0]:g}-{xs[-1]:g}"
    ref = (f"followerlab.sim.raft.simulate_greedy_write_load with a constant append time R (the read loop), "
           f"{reads:.0e} reads per point, seeded, 5 % warm-up dropped; worst |model - sim| = {{z:.1f}} SE "
           "(20 batch means)")
    return [_summary("raft.readindex_read_load", regime, metric, [e for e, _ in ez],
                     ref.format(z=max(z for _, z in ez if np.isfinite(z)))) for metric, ez in errors.items()]


def _greedy_rows(smoke: bool) -> list[dict]:
    loads = (0.1, 0.5, 0.9) if smoke else (0.1, 0.3, 0.5, 0.7, 0.9)
    proposals = 200_000 if smoke else 2_000_000
    base = PER_APPEND_MS + (N_VOTERS - 1) * PER_FOLLOWER_MS
    errors = {}
    for stall_ms, stall_p in ((0.0, 0.0), (5.0, 0.02)):
        for k, lp in enumerate(loads):
            rate = lp / PER_PROPOSAL_MS * 1000.0
            kw = dict(per_append_ms=PER_APPEND_MS, per_follower_ms=PER_FOLLOWER_MS,
                      per_proposal_ms=PER_PROPOSAL_MS, stall_ms=stall_ms, stall_probability=stall_p)
            w = raft.greedy_write_load(rate, N_VOTERS, 0.0, **kw)
            sim = simulate_greedy_write_load(rate, N_VOTERS, 0.0, proposals=proposals, seed=4242 + 10 * k + int(stall_ms), **kw)
            lat = sim.latency_ms[proposals // 20:]
            wq = sim.queue_wait_ms[proposals // 20:]
            regime = ("no stalls" if stall_ms == 0 else f"stall {stall_ms:g} ms w.p. {stall_p:g} per append") + (
                ", λp 0.1-0.5" if lp <= 0.5 else f", λp {loads[-2] if not smoke else 0.9:g}-0.9")
            for metric, fn, field in (("mean", np.mean, "mean_ms"), ("p50", np.median, "p50_ms"),
                                      ("p99", lambda x: np.quantile(x, 0.99), "p99_ms")):
                value, se = _block_stat(lat, fn)
                model = float(getattr(w, field))
                errors.setdefault((regime, metric), []).append((_rel(model, value), abs(model - value) / max(se, 1e-12)))
            value, se = _block_stat(wq, np.mean)
            model = float(w.queue_wait_ms)
            errors.setdefault((regime, "queue wait (mean)"), []).append(
                (_rel(model, value, 0.05 * base), abs(model - value) / max(se, 1e-6 * base)))
    ref = (f"followerlab.sim.raft.simulate_greedy_write_load, {proposals:.0e} proposals per point, seeded, 5 % "
           "warm-up dropped; worst |model - sim| = {z:.1f} SE (20 batch means)")
    return [_summary("raft.greedy_write_load", f"3 voters, a {PER_APPEND_MS:g} ms, f {PER_FOLLOWER_MS:g} ms, "
                     f"p {PER_PROPOSAL_MS:g} ms, {regime}", metric, [e for e, _ in ez],
                     ref.format(z=max(z for _, z in ez))) for (regime, metric), ez in errors.items()]


if __name__ == "__main__":
    import pandas as pd

    pd.set_option("display.width", 250, "display.max_colwidth", 200)
    print(pd.DataFrame(rows("--smoke" in sys.argv)).to_string(index=False))
