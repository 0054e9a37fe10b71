"""Accuracy and cost of the Talbot inversion of the M/G/1 response law (followerlab._talbot).

    python benchmarks/accuracy_talbot.py [--smoke]

Over seeded random configurations of the domain the admin node uses: one gamma class or a
two-class mixture (weight 0.5-1, class-b mean 1-200 times class a's), CVs from TALBOT_MIN_CV to
5, rho = 1 - e^-sigma with sigma uniform on [0, ln 200] (rho <= 0.995), q = 0.5 and 0.99.

* the rule's error, estimated by how far the quantiles move when the nodes change (the
  default TALBOT_NODES = 24 against 20 and 32: with fewer nodes the truncation grows, with more
  the rounding of e^(2M/5));
* against the exact M/M/1 law (cv 1): p50 and p99 = ln 2 and ln 100 over (mu - lambda);
* the cost per configuration of both quantiles, vectorized over 10^4 configurations.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from followerlab._talbot import TALBOT_MAX_REL_ERROR, TALBOT_MIN_CV, TALBOT_NODES, mg1_gamma_mixture_response_ppf as ppf


def configurations(n, seed=5):
    rng = np.random.default_rng(seed)
    p = np.where(rng.random(n) < 0.3, 1.0, rng.uniform(0.5, 1.0, n))
    ma = np.exp(rng.uniform(np.log(0.005), np.log(0.5), n))
    mb = ma * np.exp(rng.uniform(0.0, np.log(200.0), n))
    ca, cb = rng.uniform(TALBOT_MIN_CV, 5.0, (2, n))
    rho = -np.expm1(-rng.uniform(0.0, np.log(200.0), n))
    lam = rho / (p * ma + (1 - p) * mb)
    return lam, p, ma, ca, mb, cb


def _row(regime, metric, err, reference):
    err = np.asarray(err, float)
    return dict(formula="_talbot.mg1_gamma_mixture_response_ppf (one-core admin/head p50, p99)", regime=regime,
                metric=metric, worst_rel_error=float(err.max()), median_rel_error=float(np.median(err)),
                n_points=int(err.size),
                reference=f"{reference}; worst {err.max():.1e}, median {np.median(err):.1e}, bound {TALBOT_MAX_REL_ERROR:.0e}",
                bound=TALBOT_MAX_REL_ERROR, noise=0.0)


def rows(smoke: bool) -> list[dict]:
    """Accuracy-table rows (benchmarks/accuracy.py): node changes and the M/M/1 closed form."""
    n = 200 if smoke else 20000
    cfg = configurations(n)
    ref = np.array(ppf(*cfg))
    regime = f"gamma and two-class gamma mixtures, cv {TALBOT_MIN_CV:g}-5, rho 0-0.995"
    out = []
    for nodes in (TALBOT_NODES - 4, TALBOT_NODES + 8):
        other = np.array(ppf(*cfg, nodes=nodes))
        for j, name in enumerate(("p50", "p99")):
            out.append(_row(regime, f"response {name}", np.abs(ref[j] / other[j] - 1),
                            f"the same rule with {nodes} nodes instead of {TALBOT_NODES}"))
    rho = -np.expm1(-np.linspace(0.0, np.log(200.0), 200))
    got = np.array(ppf(rho / 0.1, 1.0, 0.1, 1.0, 0.1, 1.0))
    want = -np.log1p(-np.array([[0.5], [0.99]])) / (10.0 - rho / 0.1)
    for j, name in enumerate(("p50", "p99")):
        out.append(_row("cv 1 (M/M/1), rho 0-0.995", f"response {name}", np.abs(got[j] / want[j] - 1),
                        "closed form T ~ Exp(mu - lambda)"))
    return out


def cost_per_configuration(m=10000):
    """Seconds per configuration for p50 and p99 together, vectorized over ``m`` configurations."""
    sub = configurations(m, seed=6)
    t0 = time.perf_counter()
    ppf(*sub)
    return (time.perf_counter() - t0) / m


if __name__ == "__main__":
    smoke = "--smoke" in sys.argv
    table = rows(smoke)
    for r in table:
        print({k: r[k] for k in ("regime", "metric", "worst_rel_error", "median_rel_error", "n_points")})
    m = 1000 if smoke else 10000
    print(f"worst {max(r['worst_rel_error'] for r in table):.2e} (TALBOT_MAX_REL_ERROR {TALBOT_MAX_REL_ERROR:.0e}); "
          f"cost {cost_per_configuration(m) * 1e6:.0f} us per configuration (p50 and p99, {m} configurations)")
