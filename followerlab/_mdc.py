r"""The exact M/D/c waiting-time distribution (Crommelin 1932), vectorized.

Time is measured in units of the constant service time D; the law depends only on the number
of servers c and the utilization ρ (offered load a = cρ = λD).

The number in system at times t, t + D, t + 2D, ... is a Markov chain: every customer in
service at t has left by t + D, and at most c waiting customers start in (t, t + D], so
(Crommelin1932; Tijms2003)

.. math:: N(t + D) = (N(t) - c)^+ + A, \qquad A \sim \mathrm{Poisson}(a),

and the stationary law of N is the time-stationary law (t is arbitrary).  Let
X = (N − c)^+, the number waiting.  Its generating function is, with z_1, …, z_{c−1} the
roots of z^c = e^{a(z−1)} inside the unit disk (z_k = ω^k e^{ρ(z_k − 1)}, ω = e^{2πi/c}),

.. math:: P_X(z) = \frac{(c - a)(z - 1)}{z^c - e^{a(z-1)}}
          \prod_{k=1}^{c-1} \frac{z - z_k}{1 - z_k}.

Waiting time (FCFS, PASTA): a customer arriving at t waits at most kD + u (k ≥ 0,
0 ≤ u < D) iff at most (k+1)c − 1 of the customers present at t − (D − u) or arriving in
(t − (D − u), t) are still there at t + u, i.e.

.. math:: P(W \le kD + u) = P\bigl(X + A' \le (k+1)c - 1\bigr), \qquad
          A' \sim \mathrm{Poisson}(\lambda (D - u)) \text{ independent of } X,

(Franx 2001 derives the same law).  The mean wait is E[W] = E[X] / λ (Little's law for the
waiting room).  M/D/1 is c = 1, where this reduces to Erlang's formula.

Numerics (references: Crommelin1932, Franx2001, Tijms2003, GTH1985 in docs/references.rst).
Light traffic (z_0 ≥ e^0.6, ρ below about 0.7, z_0 > 1 the real root of z = e^{ρ(z−1)}):
the chain X' = (X + A − c)^+ truncated where P(X ≥ J) < 1e-37, solved by the
Grassmann–Taksar–Heyman reduction, which has no subtractions, so tiny probabilities (a
P(wait) of 1e-40) keep full relative accuracy.  Heavier traffic: the roots by Newton's
method from the fixed-point iteration (a contraction in the unit disk since ρ < 1); the pmf
of X by an FFT of P_X on the unit circle after removing the dominant pole z_0, whose
geometric part B z_0^{−j−1} is kept in closed form, so the remainder's coefficients decay
fast and the FFT length stays in the hundreds even as ρ → 1.  The length is doubled until
the last half of the coefficients is below 1e-13 (no aliasing beyond round-off).  The
distribution function then is a finite sum plus the closed-form convolution of the
geometric part with a Poisson law; quantiles by bisection to 1e-13 relative.

>>> law, rows = mdc_law([1, 4], [0.5, 0.8])
>>> law.mean_x.round(4).tolist()          # E[X]; M/D/1: ρ²/(2(1 − ρ)) = 0.25
[0.25, 1.2355]
>>> law.wait_quantile(np.array([0.99, 0.99]), rows).round(4).tolist()   # in units of D
[3.3363, 2.4546]
"""

from __future__ import annotations

import numpy as np
from scipy import special

from ._tabulate import unique_rows

__all__ = ["MDCLaw", "mdc_law"]

_L_MIN = 128
#: Light traffic (z_0 >= e^0.6, i.e. ρ below ~0.7) is solved by GTH on a truncated chain.
_GTH_MIN_LOG_Z0 = 0.6
#: Work-array sizes (values) per chunk of configurations: GTH (n, k, k), FFT (n, length).
_GTH_VALUES = 1 << 22
_FFT_VALUES = 1 << 20
_L_MAX = 1 << 17
_ALIAS_TOL = 1e-13  # round-off floor of the FFT is ~3e-15 for c = 64


def _cexpm1(w):
    """exp(w) − 1 for complex w without cancellation near 0."""
    x, y = w.real, w.imag
    em1 = np.expm1(x)
    cm1 = -2.0 * np.sin(y / 2.0) ** 2
    return (em1 * np.cos(y) + cm1) + 1j * (np.exp(x) * np.sin(y))


def _inner_roots(c: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """Roots z_k, k = 1..c−1, of z = ω^k e^{ρ(z−1)} in the unit disk; padded with nan."""
    kmax = int(c.max()) - 1
    if kmax <= 0:
        return np.zeros((c.size, 0), dtype=complex)
    k = np.arange(1, kmax + 1)[None, :]
    valid = k < c[:, None]
    omega = np.exp(2j * np.pi * k / c[:, None])
    r = rho[:, None]
    z = np.zeros(omega.shape, dtype=complex)
    for _ in range(30):  # fixed point: contraction with factor <= ρ in the disk
        z = omega * np.exp(r * (z - 1.0))
    for _ in range(60):  # Newton on f(z) = z − ω e^{ρ(z−1)}, f'(z) = 1 − ρ ω e^{ρ(z−1)}
        e = omega * np.exp(r * (z - 1.0))
        step = (z - e) / (1.0 - r * e)
        z = z - step
        if np.all(np.abs(step[valid]) <= 1e-15):
            break
    return np.where(valid, z, np.nan)


def _outer_root(rho: np.ndarray) -> np.ndarray:
    """z_0 > 1 with z_0 = e^{ρ(z_0 − 1)}: Newton on f(ε) = ρε − ln(1 + ε), z_0 = 1 + ε.

    f is convex with f(0) = 0 and its minimum at ε = 1/ρ − 1, so Newton from the right of
    the root decreases monotonically to it.
    """
    # ρ below 1e-150 only sizes a truncation (a smaller z_0 is safe there): keep it finite
    rho = np.maximum(rho, 1e-150)
    eps = 2.0 * np.maximum(1.0 / rho, 2.0 * (1.0 - rho) / rho**2) + 1.0  # right of the root
    for _ in range(300):  # Newton, written without the cancellation of ε − f/f'
        new = (np.log1p(eps) - eps / (1.0 + eps)) / (rho - 1.0 / (1.0 + eps))
        done = np.all(np.abs(new - eps) <= 1e-15 * eps)
        eps = new
        if done:
            break
    return 1.0 + eps


class MDCLaw:
    """Waiting-time law of M/D/c queues in units of D, one entry per (c, ρ) configuration.

    Attributes: ``c``, ``rho`` (flat arrays), ``h`` (pmf of X minus its geometric part, one
    row per configuration, zero padded), ``log_b`` and ``z0`` (the geometric part
    B z_0^{−j−1}), ``mean_x`` (E[X]) and ``p_zero`` (P(W = 0)).
    """

    def __init__(self, c, rho):
        self.c = np.asarray(c, dtype=np.int64).ravel()
        self.rho = np.asarray(rho, dtype=float).ravel()
        n = self.c.size
        self.a = self.c * self.rho
        self.z0 = np.full(n, np.inf)
        self.log_b = np.full(n, -np.inf)
        self.h = np.zeros((n, 1))
        self.h[:, 0] = 1.0  # ρ = 0: nobody waits
        busy = self.rho > 0.0
        z0 = np.full(n, np.inf)
        z0[busy] = _outer_root(self.rho[busy])
        light = busy & (np.log(z0) >= _GTH_MIN_LOG_Z0)
        heavy = busy & ~light
        if light.any():
            self._solve_gth(np.flatnonzero(light), z0[light])
        if heavy.any():
            self._solve(np.flatnonzero(heavy))
        self.mean_x = self._mean_x()
        self.p_zero = self.wait_cdf(np.zeros(n), np.arange(n))
        self.p_wait = self._p_wait()

    # ------------------------------------------------------------------ construction
    def _solve_gth(self, idx, z0):
        """Light traffic: the chain X' = (X + A − c)^+ truncated at J states, by GTH.

        P(X ≥ J) ≈ z_0^{−J} < 1e-37 with J = 85 / ln z_0; the Grassmann–Taksar–Heyman state
        reduction uses no subtraction, so even probabilities of 1e-300 keep full relative
        accuracy (needed for the mean wait at light load, which is tiny).
        """
        need = np.ceil(85.0 / np.log(z0)).astype(int) + 2
        sizes = np.array([16, 24, 32, 48, 64, 96, 128, 192, 256])  # configurations grouped by size
        size = sizes[np.minimum(np.searchsorted(sizes, need), sizes.size - 1)]
        size = np.maximum(size, need)
        width = max(self.h.shape[1], int(size.max()))
        h_all = np.zeros((self.c.size, width))
        h_all[:, : self.h.shape[1]] = self.h
        h_all[idx] = 0.0
        for k in np.unique(size):
            grp = idx[size == k]
            batch = max(1, _GTH_VALUES // (int(k) * int(k)))  # bound the (n, k, k) work array
            for i in range(0, grp.size, batch):
                h_all[grp[i:i + batch], :k] = self._gth(grp[i:i + batch], int(k))
        self.h = h_all

    def _gth(self, idx, k):
        """Stationary law of the truncated X chain (k states) for configurations ``idx``."""
        c, a = self.c[idx], self.a[idx]
        x = np.arange(k)
        y = np.arange(k)
        jump = y[None, None, :] - x[None, :, None] + c[:, None, None]  # A needed to go x -> y
        aa = a[:, None, None]
        with np.errstate(divide="ignore", under="ignore"):
            pmf = np.where(jump >= 0, np.exp(special.xlogy(np.maximum(jump, 0), aa) - aa - special.gammaln(np.maximum(jump, 0) + 1.0)), 0.0)
            p = pmf.copy()
            down = c[:, None] - x[None, :]
            p[:, :, 0] = np.where(down >= 0, special.pdtr(np.maximum(down, 0), a[:, None]), 0.0)  # A <= c - x
            p[:, :, -1] = special.pdtrc(jump[:, :, -1] - 1, a[:, None])  # A >= needed (lumped tail)
        for m in range(k - 1, 0, -1):
            s = p[:, m, :m].sum(axis=1)
            col = p[:, :m, m] / s[:, None]
            p[:, :m, m] = col
            p[:, :m, :m] += col[:, :, None] * p[:, m, None, :m]
        pi = np.zeros((idx.size, k))
        pi[:, 0] = 1.0
        for j in range(1, k):
            pi[:, j] = np.einsum("bi,bi->b", pi[:, :j], p[:, :j, j])
        return pi / pi.sum(axis=1, keepdims=True)

    def _solve(self, idx):
        c, rho = self.c[idx], self.rho[idx]
        a = c * rho
        roots = _inner_roots(c, rho)
        z0 = _outer_root(rho)
        # B = −N(z0)/D'(z0), N(z) = (c−a)(z−1) Π (z−z_k)/(1−z_k), D'(z0) = z0^{c−1}(c − a z0)
        with np.errstate(invalid="ignore"):
            log_prod = np.nansum(np.log(np.abs((z0[:, None] - roots) / (1.0 - roots))), axis=1)
        log_b = (np.log(c - a) + np.log(z0 - 1.0) + log_prod
                 - (c - 1) * np.log(z0) - np.log(a * z0 - c))
        self.z0[idx], self.log_b[idx] = z0, log_b
        todo = np.arange(idx.size)
        length = _L_MIN
        results = {}
        while todo.size:
            batch = max(1, _FFT_VALUES // length)  # bound the (configurations, length) arrays
            h = np.concatenate([
                self._coefficients(c[t], a[t], roots[t], z0[t], log_b[t], length)
                for t in (todo[i:i + batch] for i in range(0, todo.size, batch))])
            tail = np.max(np.abs(h[:, length // 2:]), axis=1)
            ok = (tail <= _ALIAS_TOL) | (length >= _L_MAX)
            for i in np.flatnonzero(ok):
                results[todo[i]] = h[i]
            todo = todo[~ok]
            length *= 2
        width = max(len(v) for v in results.values())
        h_all = np.zeros((self.c.size, max(width, self.h.shape[1])))
        h_all[:, : self.h.shape[1]] = self.h
        for i, row in results.items():
            h_all[idx[i]] = 0.0
            h_all[idx[i], : row.size] = row
        self.h = h_all

    @staticmethod
    def _coefficients(c, a, roots, z0, log_b, length):
        theta = 2.0 * np.pi * np.arange(length) / length
        z = np.exp(1j * theta)[None, :]
        zm1 = _cexpm1(1j * theta)[None, :]
        # z^c − e^{a(z−1)} = (e^{icθ} − 1) − (e^{a(z−1)} − 1), both without cancellation
        ang = 2.0 * np.pi * ((np.arange(length)[None, :] * c[:, None]) % length) / length
        den = _cexpm1(1j * ang) - _cexpm1(a[:, None] * zm1)
        with np.errstate(invalid="ignore", divide="ignore"):
            pgf = (c - a)[:, None] * zm1 / den
        for k in range(roots.shape[1]):
            rk = roots[:, k][:, None]
            with np.errstate(invalid="ignore"):
                factor = np.where(np.isnan(rk), 1.0, (z - rk) / (1.0 - rk))
            pgf = pgf * factor
        pgf[:, 0] = 1.0  # P_X(1) = 1
        geo = np.exp(log_b)[:, None] / (z0[:, None] - z)
        coef = np.fft.fft(pgf - geo, axis=1).real / length
        return coef

    def _mean_x(self):
        j = np.arange(self.h.shape[1])
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            geo = np.where(np.isfinite(self.z0), np.exp(self.log_b - 2.0 * np.log(self.z0 - 1.0)), 0.0)
        return np.maximum(self.h @ j + geo, 0.0)

    def _p_wait(self):
        """P(W > 0) = P(X + A ≥ c), summed directly (full relative accuracy when tiny)."""
        j = np.arange(self.h.shape[1])[None, :]
        k = self.c[:, None] - 1 - j
        with np.errstate(invalid="ignore"):
            tail = np.where(k >= 0, special.pdtrc(np.maximum(k, 0), self.a[:, None]), 1.0)
        out = np.sum(self.h * tail, axis=1)
        geo = np.isfinite(self.z0)
        if geo.any():
            rows = np.flatnonzero(geo)
            z0, m, b = self.z0[rows], self.c[rows] - 1, self.a[rows]
            out[rows] += np.exp(self.log_b[rows]) * (1.0 / (z0 - 1.0) - self._geo_cdf(m, b, z0))
        return np.clip(out, 0.0, 1.0)

    @staticmethod
    def _geo_cdf(m, b, z0):
        """Σ_{j ≤ m} z_0^{−j−1} P(A ≤ m − j), A ~ Poisson(b), in closed form."""
        with np.errstate(divide="ignore", under="ignore", over="ignore", invalid="ignore"):
            second = np.exp(-(m + 1.0) * np.log(z0) + b * (z0 - 1.0) + np.log(special.pdtr(m, b * z0)))
            return (special.pdtr(m, b) - np.nan_to_num(second)) / (z0 - 1.0)

    # ------------------------------------------------------------------ distribution
    def _phi(self, m, b, rows):
        """P(X + A ≤ m), A ~ Poisson(b), for configurations ``rows`` (flat arrays)."""
        h = self.h[rows]
        j = np.arange(h.shape[1])[None, :]
        idx = m[:, None] - j
        with np.errstate(invalid="ignore"):
            f = np.where(idx >= 0, special.pdtr(np.maximum(idx, 0), b[:, None]), 0.0)
        out = np.sum(h * f, axis=1)
        z0, log_b = self.z0[rows], self.log_b[rows]
        geo = np.isfinite(z0)
        if geo.any():
            out[geo] += np.exp(log_b[geo]) * self._geo_cdf(m[geo], b[geo], z0[geo])
        return np.clip(out, 0.0, 1.0)

    def wait_cdf(self, x, rows):
        """P(W ≤ x D) for flat arrays ``x`` (in units of D) and configuration ``rows``."""
        x = np.asarray(x, dtype=float)
        k = np.floor(x)
        u = x - k
        m = ((k + 1.0) * self.c[rows] - 1.0).astype(np.int64)
        b = self.a[rows] * (1.0 - u)
        return self._phi(m, b, rows)

    def wait_quantile(self, q, rows):
        """q-quantile of W / D (0 where q ≤ P(W = 0)), by bisection to ~1e-13 relative."""
        q = np.asarray(q, dtype=float)
        out = np.zeros(q.shape)
        need = q > self.p_zero[rows]
        if not need.any():
            return out
        r, qq = rows[need], q[need]
        ln_z = np.log(self.z0[r])
        lo = np.zeros(qq.shape)
        hi = np.maximum(1.0, (np.log1p(-qq) * -1.0 + 5.0) / (self.c[r] * ln_z))
        for _ in range(200):
            below = self.wait_cdf(hi, r) < qq
            if not below.any():
                break
            lo = np.where(below, hi, lo)
            hi = np.where(below, hi * 2.0, hi)
        for _ in range(100):
            mid = 0.5 * (lo + hi)
            up = self.wait_cdf(mid, r) >= qq
            hi = np.where(up, mid, hi)
            lo = np.where(up, lo, mid)
            if np.all(hi - lo <= 1e-13 * hi):
                break
        out[need] = hi
        return out


def mdc_law(c, rho):
    """An :class:`MDCLaw` for the unique (c, ρ) pairs, and the index of each input in it.

    ``c`` and ``rho`` are flat arrays of equal length with 0 ≤ ρ < 1.
    """
    c = np.asarray(c, dtype=np.int64).ravel()
    rho = np.asarray(rho, dtype=float).ravel()
    (uc, urho), inverse = unique_rows(c.astype(float), rho)
    law = MDCLaw(uc.astype(np.int64), urho)
    return law, inverse
