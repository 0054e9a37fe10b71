"""Accuracy and cost of the Euler inversion of the M/G/1 response law (followerlab._euler).

    python benchmarks/accuracy_euler.py [--smoke]

Over seeded random configurations of the domain the library sends to it: one gamma class or a
two-class mixture (weight 0.01-1, class-b mean 1/200-200 times class a's), class a's CV from
EULER_MIN_CV to TALBOT_MIN_CV (0.05-0.4), class b's half in that range and half 0.4-5, rho
uniform on [0.01, 0.95] for 70 % of them and 1 - e^u with u uniform on [ln 1e-3, ln 0.05] (rho
up to 0.999) for the rest; q = 0.5 and 0.99.

* the rule's error, estimated by how far the quantiles move when its parameters change (the
  default n, m, A = EULER_TERMS, EULER_AVERAGED, EULER_A = 60, 20, 25 against 120, 30, 22 and
  300, 40, 30: more terms, less and more damping);
* against the Beneš lattice of followerlab._mg1 (2**16 points, more near saturation), an
  independent method, where the lattice's own error estimate is below 1e-8;
* against the Talbot inversion (followerlab._talbot) where both serve (every CV 0.4-5);
* against the exact M/M/1 law (cv 1);
* the cost per configuration of both quantiles, vectorized over 3000 configurations.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from followerlab import _tabulate
from followerlab._euler import EULER_MAX_REL_ERROR, EULER_MIN_CV
from followerlab._euler import mg1_gamma_mixture_response_ppf_euler as ppf
from followerlab._talbot import TALBOT_MIN_CV
from followerlab._talbot import mg1_gamma_mixture_response_ppf as talbot

QS = np.array([0.5, 0.99])


def configurations(n, seed=7, cv_lo=EULER_MIN_CV, cv_hi=TALBOT_MIN_CV):
    rng = np.random.default_rng(seed)
    ca = rng.uniform(cv_lo, cv_hi, n)
    cb = np.where(rng.random(n) < 0.5, rng.uniform(cv_lo, cv_hi, n), rng.uniform(TALBOT_MIN_CV, 5.0, n))
    ma, mb = np.ones(n), np.exp(rng.uniform(np.log(1 / 200), np.log(200), n))
    p = np.where(rng.random(n) < 0.3, 1.0, rng.uniform(0.01, 0.99, n))
    rho = np.where(rng.random(n) < 0.7, rng.uniform(0.01, 0.95, n),
                   1 - np.exp(rng.uniform(np.log(1e-3), np.log(0.05), n)))
    lam = rho / (p * ma + (1 - p) * mb)
    return lam, p, ma, ca, mb, cb


def _row(regime, metric, err, reference):
    err = np.asarray(err, float)
    return dict(formula="_euler.mg1_gamma_mixture_response_ppf_euler (one-core admin/head p50, p99, CV 0.05-0.4)",
                regime=regime, metric=metric, worst_rel_error=float(err.max()),
                median_rel_error=float(np.median(err)), n_points=int(err.size),
                reference=f"{reference}; worst {err.max():.1e}, median {np.median(err):.1e}, "
                          f"bound {EULER_MAX_REL_ERROR:.0e}",
                bound=EULER_MAX_REL_ERROR, noise=0.0)


def rows(smoke: bool) -> list[dict]:
    """Accuracy-table rows (benchmarks/accuracy.py)."""
    n = 100 if smoke else 3000
    cfg = configurations(n)
    got = np.array(ppf(*cfg))
    regime = (f"gamma and two-class gamma mixtures, a class cv {EULER_MIN_CV:g}-{TALBOT_MIN_CV:g}, "
              "rho 0.01-0.999")
    out = []
    for n_t, m_t, a_t in ((120, 30, 22.0), (300, 40, 30.0)):
        other = np.array(ppf(*cfg, terms=n_t, averaged=m_t, damping=a_t))
        for j, name in enumerate(("p50", "p99")):
            out.append(_row(regime, f"response {name}", np.abs(got[j] / other[j] - 1),
                            f"the same rule with n, m, A = {n_t}, {m_t}, {a_t:g}"))
    k = np.arange(20 if smoke else 240)
    sub = tuple(a[k] for a in cfg)
    lat, est = _tabulate._lattice_quantiles(*sub, QS, 2**16)
    good = est < 1e-8
    for j, name in enumerate(("p50", "p99")):
        out.append(_row(regime + f" (the {int(good.sum())} of {k.size} where the lattice estimates < 1e-8)",
                        f"response {name}", np.abs(got[j, k][good] / lat[j][good] - 1),
                        "Benes lattice of followerlab._mg1, 2**16 points (more near saturation)"))
    cfg_t = configurations(n, seed=8, cv_lo=TALBOT_MIN_CV, cv_hi=1.0)
    a, b = np.array(ppf(*cfg_t)), np.array(talbot(*cfg_t))
    for j, name in enumerate(("p50", "p99")):
        out.append(_row("cv 0.4-5 (both rules serve)", f"response {name}", np.abs(a[j] / b[j] - 1),
                        "the fixed Talbot rule (followerlab._talbot)"))
    rho = np.concatenate([np.linspace(0.01, 0.99, 99), [0.995, 0.999]])
    mm1 = np.array(ppf(rho, 1.0, 1.0, 1.0, 1.0, 1.0))
    want = -np.log1p(-QS)[:, None] / (1 - rho)
    for j, name in enumerate(("p50", "p99")):
        out.append(_row("cv 1 (M/M/1), rho 0.01-0.999", f"response {name}", np.abs(mm1[j] / want[j] - 1),
                        "closed form T ~ Exp(mu - lambda)"))
    return out


def cost_per_configuration(m=3000):
    """Seconds per configuration for p50 and p99 together, vectorized over ``m`` configurations."""
    sub = configurations(m, seed=9)
    t0 = time.perf_counter()
    ppf(*sub)
    return (time.perf_counter() - t0) / m


if __name__ == "__main__":
    smoke = "--smoke" in sys.argv
    table = rows(smoke)
    for r in table:
        print({k: r[k] for k in ("regime", "metric", "worst_rel_error", "median_rel_error", "n_points")})
    m = 300 if smoke else 3000
    print(f"worst {max(r['worst_rel_error'] for r in table):.2e} (EULER_MAX_REL_ERROR {EULER_MAX_REL_ERROR:.0e}); "
          f"cost {cost_per_configuration(m) * 1e6:.0f} us per configuration (p50 and p99, {m} configurations)")
