"""Accuracy of the exact M/G/1 laws (followerlab._mg1) and of admin_node_load's quantiles.

Collected by ``benchmarks/accuracy.py``: :func:`rows` returns one dict per (formula, regime,
metric) with the worst and median relative error over the regime's grid points, how many
points, and what the reference was.

* against exact laws: M/M/1 (closed form) and M/D/1 (Erlang's formula, 80-digit decimals);
* against long seeded simulations with ``followerlab.sim.queue`` (Lindley recursion): the
  relative difference includes the simulation's own noise, whose standard error (batch means
  over independent runs) is given in the ``reference`` text;
* ``consistency.admin_node_load``: one core (exact M/G/1 of the mixture) and two cores (G/G/c
  approximation), and, for comparison, the old one-core path (one gamma with the mixture's
  CV, ``queueing.ggc``).

Run alone: ``python benchmarks/accuracy_mg1.py [--smoke]`` prints the table (at full size
followed by two timing rows: ``wait_ppf(0.99)`` for 10^4 gamma configurations).
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import numpy as np
from scipy import stats

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from followerlab import consistency, latency, queueing  # noqa: E402
from followerlab._mg1 import mg1_distribution, mg1_gamma  # noqa: E402
from followerlab.sim.queue import simulate_queue  # noqa: E402
from followerlab.sim.references import md1_wait_cdf, md1_wait_ppf  # noqa: E402

Q = np.array([0.5, 0.9, 0.99, 0.999])


def _row(formula, regime, metric, errors, reference):
    e = np.abs(np.asarray(errors, dtype=float).ravel())
    e = e[np.isfinite(e)]
    return {"formula": formula, "regime": regime, "metric": metric,
            "worst_rel_error": float(e.max()) if e.size else math.nan,
            "median_rel_error": float(np.median(e)) if e.size else math.nan,
            "n_points": int(e.size), "reference": reference}






def _exact_rows(smoke):
    rhos = [0.5, 0.9] if smoke else [0.1, 0.3, 0.5, 0.8, 0.9, 0.95]
    out = []
    # M/M/1
    wq, rq, cdf = [], [], []
    for rho in rhos:
        d = mg1_distribution(rho, latency.exponential(1.0))
        q = Q[Q > 1 - rho]
        wq.append(d.wait_ppf(q) / (np.log(rho / (1 - q)) / (1 - rho)) - 1)
        rq.append(d.response_ppf(Q) / (-np.log(1 - Q) / (1 - rho)) - 1)
        t = np.linspace(0, 10 / (1 - rho), 201)
        cdf.append(d.wait_cdf(t) - (1 - rho * np.exp(-(1 - rho) * t)))
    reg = f"M/M/1, rho {min(rhos)}-{max(rhos)}, q 0.5-0.999"
    ref = "closed form P(W > t) = rho exp(-(1-rho) t / E[S])"
    out += [_row("_mg1 (exact M/G/1)", reg, "wait quantiles", np.concatenate(wq), ref),
            _row("_mg1 (exact M/G/1)", reg, "response quantiles", np.concatenate(rq), ref),
            _row("_mg1 (exact M/G/1)", reg, "wait CDF (absolute error)", np.concatenate(cdf), ref)]
    # M/D/1
    wq, rq, cdf = [], [], []
    for rho in rhos:
        d = mg1_gamma(rho, 1.0, 0.0)
        q = Q[Q > 1 - rho + 1e-3]
        ex = np.array([md1_wait_ppf(x, rho) for x in q])
        wq.append(d.wait_ppf(q) / ex - 1)
        rq.append(d.response_ppf(q) / (ex + 1) - 1)
        t = np.linspace(0, 6 / (1 - rho), 41 if smoke else 121)
        cdf.append(d.wait_cdf(t) - np.array([md1_wait_cdf(x, rho) for x in t]))
    reg = f"M/D/1, rho {min(rhos)}-{max(rhos)}, q 0.5-0.999"
    ref = "Erlang's M/D/1 wait CDF (80-digit decimal arithmetic)"
    out += [_row("_mg1 (exact M/G/1)", reg, "wait quantiles", np.concatenate(wq), ref),
            _row("_mg1 (exact M/G/1)", reg, "response quantiles", np.concatenate(rq), ref),
            _row("_mg1 (exact M/G/1)", reg, "wait CDF (absolute error)", np.concatenate(cdf), ref)]
    return out


def _simulate(lam, service_sampler, servers, customers, runs, seed):
    """(mean, p50, p99) of wait and response per independent run: arrays (runs, 2, 3)."""
    res = np.empty((runs, 2, 3))
    for k in range(runs):
        drawn = []

        def sampler(rng, size):
            x = service_sampler(rng, size)
            drawn.append(x)
            return x

        warm = customers // 10
        r = simulate_queue(stats.expon(scale=1 / lam), sampler, servers, customers=customers,
                           replications=2, warmup=warm, seed=seed + k)
        w = r.wait_samples_s
        t = w + np.concatenate(drawn, axis=0)[warm:].T
        for i, x in enumerate((w, t)):
            res[k, i] = [x.mean(), np.quantile(x, 0.5), np.quantile(x, 0.99)]
    return res


def _rvs(dist):
    return lambda rng, size: np.asarray(dist.rvs(size=size, random_state=rng), dtype=float)


def _sim_budget(rho, cv2, smoke):
    """Customers per run and runs: longer runs where the queue relaxes slowly."""
    if smoke:
        return 40_000, 4
    relax = (1 + cv2) / (1 - rho) ** 2
    customers = int(min(2_000_000, max(200_000, 2000 * relax)))  # runs start empty: long runs
    return customers, 12


def _sim_rows(smoke):
    out = []
    cases = []
    cvs = [0.0, 2.0] if smoke else [0.0, 0.5, 2.0, 4.0]
    rhos = [0.5] if smoke else [0.1, 0.5, 0.8, 0.95]
    for cv in cvs:
        for rho in rhos:
            svc = latency.constant(1.0) if cv == 0 else latency.gamma(1.0, cv)
            cases.append(("gamma service, cv 0-4" if not smoke else "gamma service", svc, rho, cv**2))
    if not smoke:
        mix = latency.mixture([latency.constant(0.05), latency.constant(5.0)], [0.99, 0.01])
        mix_cv2 = (0.99 * 0.05**2 + 0.01 * 25) / 0.0995**2 - 1
        others = [("lognormal (0, 50 ms, 500 ms)", latency.shifted_lognormal(0.0, 0.05, 0.5), 2.5),
                  ("Pareto alpha 2.5", latency.pareto(1.0, 2.5), 5.0),
                  ("empirical (200 gamma(0.5) samples)", latency.empirical(np.random.default_rng(1).gamma(0.5, 0.1, 200)), 2.0),
                  ("99% 50 ms + 1% 5 s", mix, mix_cv2)]
        for label, svc, cv2 in others:
            for rho in (0.5, 0.8, 0.95):
                cases.append((label, svc, rho, min(cv2, 25.0)))
    by_regime = {}
    for label, svc, rho, cv2 in cases:
        lam = rho / float(np.asarray(svc.mean()))
        d = mg1_distribution(lam, svc)
        model = np.array([[float(d.mean_wait_s), *d.wait_ppf([0.5, 0.99])],
                          [float(d.mean_response_s), *d.response_ppf([0.5, 0.99])]])
        customers, runs = _sim_budget(rho, cv2, smoke)
        res = _simulate(lam, _rvs(svc), 1, customers, runs, seed=1000)
        sim = res.mean(axis=0)
        se = res.std(axis=0, ddof=1) / np.sqrt(runs)
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.where(sim > 0, model / sim - 1, np.where(model == 0, 0.0, np.nan))
            rse = np.where(sim > 0, se / sim, np.nan)
        # the median wait at rho = 1/2 sits on the edge of the atom at 0: not comparable
        if rho == 0.5:
            rel[0, 1] = np.nan
        # near saturation the simulation's own noise is large: report that regime apart
        by_regime.setdefault((label, rho >= 0.95), []).append((rho, rel, rse, customers * runs * 2))
    for (label, _), items in by_regime.items():
        rhos_ = [r for r, *_ in items]
        reg = f"{label}, rho " + (f"{min(rhos_)}-{max(rhos_)}" if min(rhos_) < max(rhos_) else f"{rhos_[0]}")
        for i, kind in enumerate(("wait", "response")):
            for j, metric in enumerate(("mean", "p50", "p99")):
                errs = np.array([rel[i, j] for _, rel, _, _ in items])
                if not np.isfinite(errs).any():
                    continue  # no comparable point in this regime (e.g. smoke: only the excluded rho = 1/2)
                ses = np.array([rse[i, j] for _, _, rse, _ in items])
                n = sum(c for *_, c in items)
                with np.errstate(divide="ignore", invalid="ignore"):
                    z = np.abs(errs) / ses
                z = z[np.isfinite(z)]
                ref = (f"followerlab.sim.queue, {n / 1e6:.1f}M customers; simulation standard error up to "
                       f"{np.nanmax(ses):.2%} (batch means over runs); largest |model - sim| / SE "
                       f"{(z.max() if z.size else math.nan):.1f}")
                out.append(_row("_mg1 (exact M/G/1)", reg, f"{kind} {metric}", errs, ref))
    return out


def _admin_rows(smoke):
    """admin_node_load: one core exact (and the old two-moment path), two cores approximate."""
    out = []
    # planning 50 ms (cv 1) + control commands 1 s (cv 0.5) at 2 % of arrivals; rare long service
    configs = [(0.5,), (0.8,)] if smoke else [(0.3,), (0.5,), (0.8,), (0.9,)]
    p_ctrl, s_q, s_c, c_q, c_c = 0.02, 0.05, 1.0, 1.0, 0.5
    mean_s = (1 - p_ctrl) * s_q + p_ctrl * s_c
    for cores in (1, 2):
        exact_err, old_err = [], []
        n_total, worst_se = 0, 0.0
        for (rho,) in configs:
            total = rho * cores / mean_s
            lam_q, lam_c = (1 - p_ctrl) * total, p_ctrl * total
            r = consistency.admin_node_load(lam_q, 0.0, s_q, c_q, lam_c, s_c, c_c, admin_cores=cores)
            model = np.array([float(r.admin_mean_response_s), float(r.admin_p50_response_s),
                              float(r.admin_p99_response_s)])
            mixture = latency.mixture([latency.gamma(s_q, c_q), latency.gamma(s_c, c_c)], [1 - p_ctrl, p_ctrl])
            customers = (20_000 if smoke else 150_000) if cores > 1 else (60_000 if smoke else 400_000)
            runs = 4 if smoke else 8
            res = _simulate(total, _rvs(mixture), cores, customers, runs, seed=2000)
            sim = res.mean(axis=0)[1]
            se = (res.std(axis=0, ddof=1) / np.sqrt(runs))[1]
            exact_err.append(model / sim - 1)
            worst_se = max(worst_se, float(np.max(se / sim)))
            n_total += customers * runs * 2
            if cores == 1:
                m, cv = consistency._mixture_service(np.asarray(lam_q), s_q, c_q, np.asarray(lam_c), s_c, c_c)
                old = queueing.ggc(total, 1.0 / m, 1, 1.0, cv)
                old_err.append(np.array([float(old.mean_response_s), float(old.response_quantile(0.5)),
                                         float(old.response_quantile(0.99))]) / sim - 1)
        exact_err = np.array(exact_err)
        name = ("consistency.admin_node_load, 1 core (exact M/G/1 of the mixture)" if cores == 1
                else "consistency.admin_node_load, 2 cores (G/G/c two-moment approximation)")
        reg = (f"98% planning 50 ms cv 1 + 2% control 1 s cv 0.5, rho {configs[0][0]}-{configs[-1][0]}")
        ref = (f"followerlab.sim.queue (c = {cores}), {n_total / 1e6:.1f}M customers; simulation standard "
               f"error up to {worst_se:.2%}")
        for j, metric in enumerate(("response mean", "response p50", "response p99")):
            out.append(_row(name, reg, metric, exact_err[:, j], ref))
        if cores == 1:
            old_err = np.array(old_err)
            for j, metric in enumerate(("response mean", "response p50", "response p99")):
                out.append(_row("queueing.ggc, 1 core, one gamma with the mixture's cv (previous path)",
                                reg, metric, old_err[:, j], ref))
    return out


def _speed_rows(smoke):
    n = 200 if smoke else 10_000
    rng = np.random.default_rng(0)
    rows = []
    for points in (2**12, 2**14):
        d = mg1_gamma(rng.uniform(0.1, 0.95, n), 1.0, rng.uniform(0.0, 4.0, n), points=points)
        t0 = time.perf_counter()
        d.wait_ppf(0.99)
        rows.append({"formula": "_mg1 speed", "regime": f"{n} gamma configs, points={points}",
                     "metric": "seconds for wait p99 (all configs)",
                     "worst_rel_error": math.nan, "median_rel_error": math.nan, "n_points": n,
                     "reference": f"{time.perf_counter() - t0:.2f} s on this machine"})
    return rows


def rows(smoke: bool) -> list[dict]:
    """The accuracy rows (``smoke=True``: a few seconds, tiny grids)."""
    return _exact_rows(smoke) + _sim_rows(smoke) + _admin_rows(smoke)


if __name__ == "__main__":
    import pandas as pd

    smoke = "--smoke" in sys.argv
    t0 = time.perf_counter()
    frame = pd.DataFrame(rows(smoke) + ([] if smoke else _speed_rows(smoke)))
    with pd.option_context("display.max_rows", None, "display.max_colwidth", 70, "display.width", 250):
        print(frame.to_string(index=False))
    print(f"\n{time.perf_counter() - t0:.1f} s")
