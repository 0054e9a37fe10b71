"""Every model's headline metrics at 10^4 and 10^6 configurations (issue 13, part 2).

    nice -n 10 python benchmarks/run.py scale          # full size (a few minutes)
    python benchmarks/run.py --smoke scale             # tiny sizes (seconds)
    python benchmarks/bench_scale.py [--smoke]         # the same rows, printed as dicts

One row per (model, metric set, configuration mix): the wall time of one vectorized call that
returns them, at 10^4 and at 10^6 configurations, and the ratio of the 10^6 time to the 1 s
target.  Sizes grow 10x from 10; when the time extrapolated from the last two measured sizes
(affine: fixed cost + cost per configuration) exceeds ``MAX_FULL_S``, the larger runs are
skipped and the row shows the extrapolation, marked ``extrapolated``.  Sweep mixes are always
measured at full size: their distinct laws are bounded, so the affine extrapolation overstates
them (admin_node_load's sweep: 484 s extrapolated from 10^4, 20 s measured).

Configuration mixes (seeded, reproducible):

* ``random``: every parameter drawn independently (uniform or log-uniform over its documented
  range), so no two configurations share a service law — the hardest case for deduplication;
* ``sweep``: a grid in which the model's own parameters take few distinct values and the rest
  of the 10^6 configurations repeat them across other axes (a load axis, a placement axis), as
  a scenario sweep does.

Metrics: ``staleness.refresh_lag`` / ``follower.sync_lag`` mean, p50, p99 (no overrun: closed
form; overrun: the exact Markov chain); ``consistency.admin_node_load`` (admin and head
utilization, mean, p50, p99 of the response; one core, exact M/G/1 laws); ``raft.commit_latency``
and ``raft.read_latency`` per placement of ``raft.placement_layouts``; ``raft.write_load``
(mean, p50, p99 of the bulk-service queue).
"""

from __future__ import annotations

import time

import numpy as np

from followerlab import consistency, follower, raft

#: Longest run attempted (s); beyond, the time is extrapolated from the last two sizes.
MAX_FULL_S = 30.0
TARGET_S = 1.0
_SMOKE = False  # set by run(): smoke mode solves at most 2 overrun chains


def _timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _logu(rng, lo, hi, n):
    return np.exp(rng.uniform(np.log(lo), np.log(hi), n))


# --------------------------------------------------------------------------------------------
# cases: name -> make(n, rng) returning a zero-argument callable that computes the metrics
# --------------------------------------------------------------------------------------------
def _lag_closed(n, rng):
    P = rng.uniform(10.0, 300.0, n)
    m = _logu(rng, 0.01, 20.0, n)
    d0 = rng.uniform(0.0, 0.3, n) * P
    d1 = rng.uniform(0.0, 0.3, n) * P / np.maximum(m * P, 1.0) / 3.0   # mean duration <= 0.4 P
    return lambda: _lag_metrics(follower.sync_lag(P, d0, d1, m))


def _lag_overrun(unique):
    def make(n, rng):
        k = min(unique, n, 2 if _SMOKE else n)
        P = np.full(k, 10.0)
        m = rng.choice([0.1, 5.0], k)                       # ~1 and 50 changes per period
        load = rng.uniform(0.8, 1.5, k)                     # nominal mean duration / P
        share = rng.uniform(0.2, 0.8, k)                    # share of it per change
        d1 = share * load * P / (m * P)
        d0 = (1 - share) * load * P
        idx = rng.integers(0, k, n)
        return lambda: _lag_metrics(follower.sync_lag(P[idx], d0[idx], d1[idx], m[idx]))
    return make


def _lag_metrics(lag):
    return lag.mean_s, lag.ppf(0.5), lag.ppf(0.99)


def _admin(mix):
    def make(n, rng):
        if mix == "sweep":
            # 10 planning laws x 4 control laws, repeated along a query-rate x weak-fraction grid
            k = 40
            sq = np.repeat(np.geomspace(0.01, 0.2, 10), 4)
            cq = np.repeat(np.linspace(0.0, 3.0, 10), 4)
            lc = np.tile([0.0, 0.05, 0.2, 1.0], 10)
            j = rng.integers(0, k, n)
            w = rng.choice(np.linspace(0.0, 0.9, 10), n)
            rho = rng.choice(np.linspace(0.05, 0.9, 25), n)
            lam = rho / sq[j]
            return lambda: _admin_metrics(consistency.admin_node_load(
                lam, w, sq[j], cq[j], lc[j], 0.5, 0.5, 1, rng.integers(2, 31, n)))
        sq = _logu(rng, 0.005, 0.5, n)
        cq = rng.uniform(0.0, 4.0, n)
        rho = rng.uniform(0.05, 0.97, n)
        w = rng.uniform(0.0, 0.9, n)
        heads = rng.integers(2, 31, n)
        if mix == "no control":
            return lambda: _admin_metrics(consistency.admin_node_load(rho / sq, w, sq, cq, 0.0, 0.2, 1.0, 1, heads))
        sc = _logu(rng, 0.05, 5.0, n)
        cc = rng.uniform(0.0, 2.0, n)
        rho_c = rng.uniform(0.0, 0.3, n) * rho
        lam = (rho - rho_c) / ((1 - w) * sq)
        return lambda: _admin_metrics(consistency.admin_node_load(lam, w, sq, cq, rho_c / sc, sc, cc, 1, heads))
    return make


def _admin_metrics(r):
    return (r.admin_utilization, r.admin_mean_response_s, r.admin_p50_response_s, r.admin_p99_response_s,
            r.head_utilization, r.head_mean_response_s, r.head_p50_response_s, r.head_p99_response_s)


def _raft_setup():
    m = raft.load_rtt("crdb-demo-rtt-2019.csv")
    return m, raft.placement_layouts(m, "us-east1")


def _commit(n, rng):
    m, layouts = _raft_setup()
    fsync = _logu(rng, 0.1, 20.0, n)
    intra = rng.uniform(0.0, 2.0, n)

    def go():
        for p in layouts.values():
            raft.commit_latency(m, p.leaseholder, p.voters, fsync, intra_region_rtt_ms=intra)
    return go


def _read(n, rng):
    m, layouts = _raft_setup()
    intra = rng.uniform(0.0, 2.0, n)
    bound = rng.uniform(3.0, 10.0, n)

    def go():
        for p in layouts.values():
            for path in ("leaseholder", "follower", "bounded"):
                r = raft.read_latency(m, p, "us-west1", path, intra_region_rtt_ms=intra, max_staleness_s=bound)
                r.mean_ms, r.p50_ms, r.p99_ms
    return go


def _write(mix, method="exact"):
    def make(n, rng):
        if mix == "sweep":
            b = rng.choice([1, 4, 16, 64], n)
            rho = rng.choice(np.linspace(0.05, 0.95, 19), n)
            nv = rng.choice([3, 5], n)
        else:
            b = rng.integers(1, 65, n)
            rho = rng.uniform(0.05, 0.97, n)
            nv = rng.choice([3, 5, 7], n)
        service = 1.0 + (nv - 1) * 0.1 + b * 0.05
        lam = rho * b / service * 1000.0
        commit = rng.uniform(1.0, 150.0, n)

        def go():
            w = raft.write_load(lam, nv, commit, batch=b, method=method)
            return w.mean_ms, w.p50_ms, w.p99_ms
        return go
    return make


CASES = [
    ("refresh_lag/sync_lag mean,p50,p99 (random, 0.05 % overrun)", _lag_closed),
    ("refresh_lag/sync_lag mean,p50,p99 (overrun, 20 unique laws)", _lag_overrun(20)),
    ("refresh_lag/sync_lag mean,p50,p99 (overrun, random)", _lag_overrun(10**9)),
    ("admin_node_load admin+heads (no control, random)", _admin("no control")),
    ("admin_node_load admin+heads (control mix, random)", _admin("mixture")),
    ("admin_node_load admin+heads (sweep: 40 service laws)", _admin("sweep")),
    ("commit_latency, 3 placements", _commit),
    ("read_latency mean,p50,p99, 3 placements x 3 paths", _read),
    ("write_load mean,p50,p99 (random)", _write("random")),
    ("write_load mean,p50,p99 (sweep: 4 batch x 19 loads)", _write("sweep")),
    ("write_load method=tabulated (random)", _write("random", "tabulated")),
    ("write_load method=tabulated (sweep)", _write("sweep", "tabulated")),
]


def _predict(points, n):
    """Time at size ``n`` extrapolated from the measured ``points`` [(n, t), ...]: affine
    through the last two (fixed cost + marginal cost per configuration, so a sweep whose
    distinct laws are all solved at the small size is not charged for them again), linear
    through the origin with one point; never below the last measured time."""
    (n1, t1) = points[-1]
    if len(points) == 1:
        return t1 * n / n1
    (n0, t0) = points[-2]
    slope = max((t1 - t0) / (n1 - n0), 0.0)
    return max(t1 + slope * (n - n1), t1)


def _measure(make, sizes, budget, always=False):
    """Times at growing sizes (10x steps: 10 and 100 always, then while the extrapolated next
    time (:func:`_predict`) stays within budget, or every size when ``always``); returns
    ({n: (seconds, measured?)} for every n of ``sizes``, the largest measured size)."""
    out, points = {}, []
    n = 10
    while n <= max(sizes):
        if len(points) >= 2 and not always and _predict(points, n) > budget:
            break
        t = _timed(make(n, np.random.default_rng(13)))
        points.append((n, t))
        if n in sizes:
            out[n] = (t, True)
        n *= 10
    for s in sizes:
        if s not in out:
            out[s] = (_predict(points, s), False)
    return out, points[-1][0]


def run(smoke: bool) -> list[dict]:
    global _SMOKE
    _SMOKE = smoke
    small, full = (100, 1_000) if smoke else (10_000, 1_000_000)
    budget = 0.2 if smoke else MAX_FULL_S
    rows: list[dict] = []
    for name, make in CASES:
        if not smoke:
            make(10, np.random.default_rng(13))()  # warm (imports, tables)
        times, measured_at = _measure(make, (small, full), budget, always="(sweep" in name)
        target = TARGET_S * full / 1e6
        for n in (small, full):
            t, real = times[n]
            label = f"{name} @ {n:,}" + ("" if real else f" (extrapolated from {measured_at:,})")
            row = dict(name=label, value=t, unit="s")
            if n == full:
                row.update(target=f"< {target:g} s", ok=bool(t < target))
            rows.append(row)
        rows.append(dict(name="  ratio to the 1 s target", value=times[full][0] / target, unit="x"))
    return rows


if __name__ == "__main__":
    import sys

    for row in run(smoke="--smoke" in sys.argv):
        print(row, flush=True)
