"""Write load: the Raft leader as a bulk-service queue (M/D^(b,b)/1), latency up to saturation.

Sources: Bailey1954, JanssenVanLeeuwaarden2005, Kleinrock1975 (docs/references.rst).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import special

from .. import _tabulate
from .._results import Result
from .._validate import as_float_array, as_int_array, check_choice, check_probability, check_shapes
from .write import _as_dist

# --------------------------------------------------------------------------------------------
# Write load: the leader as a queue
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WriteLoad(Result):
    """Write latency under load (ms) with the leader as a single-server bulk queue.

    ``admin_utilization`` is the leader's (= leaseholder's) utilization, the load on the node
    that must see every write; ``stable`` is False at or beyond ``saturation_rate_per_s``.
    ``batching_wait_ms`` is the mean wait for a proposal's batch to fill, ``queue_wait_ms`` the
    mean wait of a full batch for the leader, ``service_ms`` the append time and ``commit_ms``
    the network commit (its mean if a distribution was given); ``mean_ms`` is their sum.
    ``p50_ms`` / ``p99_ms`` (and :meth:`quantile`) come from the exact latency distribution (with
    a commit distribution, from its convolution with it; see :func:`write_load`).
    ``method`` / ``max_rel_error`` per configuration: ``"exact"`` (0), or ``"exact: tabulated"``
    with the interpolation error measured over the table (:func:`followerlab._tabulate.write_numerics`).

    References
    ----------
    Bailey1954, JanssenVanLeeuwaarden2005, Kleinrock1975 (docs/references.rst).
    """

    rate_per_s: np.ndarray
    n_voters: np.ndarray
    batch: np.ndarray
    service_ms: np.ndarray
    admin_utilization: np.ndarray
    saturation_rate_per_s: np.ndarray
    batching_wait_ms: np.ndarray
    queue_wait_ms: np.ndarray
    mean_ms: np.ndarray
    p99_ms: np.ndarray
    stable: np.ndarray
    p50_ms: np.ndarray
    commit_ms: np.ndarray
    _commit_dist: object = field(default=None, repr=False, compare=False)
    method: np.ndarray = None  # type: ignore[assignment]
    max_rel_error: np.ndarray = None  # type: ignore[assignment]

    def mean(self) -> np.ndarray:
        """Mean write latency (ms): the ``mean_ms`` field."""
        return self.mean_ms

    def cdf(self, t_ms) -> np.ndarray:
        """P(write latency <= t_ms), the law :meth:`ppf` inverts (0 below ``service_ms + commit_ms``
        and wherever unstable).  Not available with a commit distribution (ValueError)."""
        t = as_float_array("t_ms", t_ms, allow_inf=True)
        if self._commit_dist is not None:
            raise ValueError("cdf is not available for a write_load with a commit distribution; "
                             "got commit_ms as a distribution")
        return _write_cdf_ms(self.rate_per_s, self.batch, self.service_ms, self.commit_ms, t)

    def sf(self, t_ms) -> np.ndarray:
        """P(write latency > t_ms) = 1 - cdf(t_ms)."""
        return 1.0 - self.cdf(t_ms)

    def quantile(self, q) -> np.ndarray:
        """Alias of :meth:`ppf` (same values)."""
        return self.ppf(q)

    def ppf(self, q) -> np.ndarray:
        """Write-latency quantile(s) in ms (see :func:`write_load`); ``inf`` if unstable.

        ``q`` is a probability in (0, 1), a scalar or an array broadcasting with the result
        (at most ``1 - 1e-5`` when the commit is a distribution).
        """
        qq = check_probability("q", q, open_left=True, open_right=True)
        if self._commit_dist is not None:
            if np.any(qq > 1 - 1e-5):
                raise ValueError(f"q must be <= 1 - 1e-5 with a commit distribution; got {qq.max()!r}")
            lam, b, S, qq = np.broadcast_arrays(self.rate_per_s, self.batch, self.service_ms, qq)
            _, quant = _write_numerics(lam.ravel(), b.ravel(), S.ravel(), qq.ravel().astype(float), per_row=True,
                                       commit_dist=self._commit_dist)
            return quant.reshape(lam.shape)
        return _write_quantile_ms(self.rate_per_s, self.batch, self.service_ms, self.commit_ms, qq)


#: Numerical tolerance of the write-load numerics: the probability mass the truncated
#: generating-function inversion may leave out (its FFT grid is sized from the tail decay rate).
WRITE_LOAD_TAIL_TOL = 1e-14
_BISECTION_STEPS = 48
_CHUNK_CELLS = 1 << 21  # configurations x grid points per block (memory bound, not a tolerance)


def _bulk_inner_roots(rho, b):
    """The ``b - 1`` roots :math:`z_k \\ne 1` of :math:`z^b = e^{b\\rho(z-1)}` in the unit disk.

    Root ``k`` is the unique fixed point in the disk of :math:`z = \\omega^k e^{\\rho(z-1)}`,
    :math:`\\omega = e^{2\\pi i/b}` (a contraction there with factor :math:`\\rho|z| < 1`;
    JanssenVanLeeuwaarden2005): successive substitution, then Newton's method to machine
    precision.  Returns ``(roots, active)`` of shape ``(m, max(b) - 1)`` (``active`` masks
    the padding for rows with a smaller ``b``).
    """
    k = np.arange(1, max(int(b.max()), 2))
    active = k[None, :] < b[:, None]
    omega = np.where(active, np.exp(2j * np.pi * k[None, :] / b[:, None]), 0.0)
    r = rho[:, None]
    z = np.zeros(omega.shape, complex)
    for _ in range(20_000):
        new = omega * np.exp(r * (z - 1.0))
        moved = np.max(np.abs(new - z), initial=0.0)
        z = new
        if moved < 1e-6:
            break
    for _ in range(60):
        e = omega * np.exp(r * (z - 1.0))
        step = (z - e) / (1.0 - r * e)
        z = z - step
        if np.max(np.abs(step), initial=0.0) < 1e-15:
            break
    bad = active & ~((np.abs(z) < 1.0) & (np.abs(z - omega * np.exp(r * (z - 1.0))) < 1e-10))
    if bad.any():  # not expected for rho < 1 (the map is a contraction in the disk); refuse, don't guess
        raise RuntimeError(f"bulk-service roots did not converge for rho={rho[bad.any(axis=1)][:3]!r}")
    return z, active


def _bulk_tail_exponent(a, b):
    """:math:`\\ln R`, R > 1 the real root of :math:`z^b = e^{a(z-1)}`: P(M > k) decays like R^-k."""
    lo = np.zeros_like(a)
    hi = 2.0 * (b / a - 1.0)  # a (e^y - 1) - b y > 0 beyond this point (e^y - 1 >= y + y^2/2)
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(100):
            mid = 0.5 * (lo + hi)
            below = a * np.expm1(mid) - b * mid < 0
            lo = np.where(below, mid, lo)
            hi = np.where(below, hi, mid)
    return 0.5 * (lo + hi)


class _BulkQueue:
    """Exact numerics of the M/D^(b,b)/1 leader for a block of stable configurations (1-D arrays).

    Holds the generating function of M (the supremum of the random walk with steps A - b,
    A ~ Poisson(a), a = λS) on the N-th roots of unity, N a power of two with
    P(M + A > N) < :data:`WRITE_LOAD_TAIL_TOL`.
    """

    def __init__(self, lam_ms, service_ms, b, n_grid):
        self.lam, self.S, self.b, self.N = lam_ms, service_ms, b, n_grid
        a = lam_ms * service_ms
        bf = b.astype(float)
        self.a = a
        roots, active = _bulk_inner_roots(a / bf, b)
        j = np.arange(n_grid // 2 + 1)
        z = np.exp(2j * np.pi * j / n_grid)[None, :]
        zb = np.exp(2j * np.pi * ((j[None, :] * b[:, None]) % n_grid) / n_grid)
        den = zb - np.exp(a[:, None] * (z - 1.0))
        gen = (bf - a)[:, None] * (z - 1.0) / np.where(j[None, :] == 0, 1.0, den)
        for k in range(roots.shape[1]):
            zk = roots[:, k:k + 1]
            gen = gen * np.where(active[:, k:k + 1], (z - zk) / (1.0 - zk), 1.0)
        gen[:, 0] = 1.0
        self.z, self.gen = z, gen
        self._log_fact = special.gammaln(np.arange(1, int(b.max()) + 1))[None, :]  # log k!, k = 0..

    def pmf(self, other=1.0):
        """Probabilities of M + Y (0 .. N-1), Y independent with generating function ``other``."""
        return np.fft.irfft(np.conj(self.gen * other), self.N, axis=1)

    def mean_queue_wait(self):
        """E[W_q] = S E[floor((M + V) / b)], P(V = n) = P(A > n) / a."""
        a, z = self.a[:, None], self.z
        with np.errstate(invalid="ignore", divide="ignore"):
            v = np.where(z == 1.0, 1.0, -np.expm1(a * (z - 1.0)) / (a * (1.0 - z)))
        p = self.pmf(v)
        return self.S * (p * (np.arange(self.N)[None, :] // self.b[:, None])).sum(axis=1)

    def cdf_u(self, u):
        """P(T - S - commit <= u) for a proposal at a uniform position of its batch.

        ``u`` has shape (rows,) or (rows, k) (k points per configuration).
        """
        u = np.asarray(u, dtype=float)
        flat = u.ndim == 1
        u = u[:, None] if flat else u
        S, b, lam = self.S[:, None], self.b[:, None], self.lam[:, None]
        m0 = np.floor(u / S) + 1.0
        tau = m0 * S - u  # (rows, k)
        gen = self.gen[:, None, :] * np.exp((lam * tau)[:, :, None] * (self.z[:, None, :] - 1.0))
        cdf = np.cumsum(np.fft.irfft(np.conj(gen), self.N, axis=2), axis=2)  # (rows, k, N)
        i = np.arange(1, int(self.b.max()) + 1)[None, None, :]
        bb = b[:, :, None]
        c = ((m0 - 1.0)[:, :, None] * bb + i - 1).astype(np.int64)
        g = np.take_along_axis(cdf, np.minimum(c, self.N - 1), axis=2)
        g = np.where(c >= self.N, 1.0, np.clip(g, 0.0, 1.0))
        # batch fill: P(Erlang(b - i, lam) <= u) = P(Poisson(lam u) >= b - i)
        x = (lam * u)[:, :, None]
        k = i - 1  # 0 .. max(b) - 1
        with np.errstate(divide="ignore", invalid="ignore"):
            log_pois = np.where(k > 0, k * np.log(x), 0.0) - x - self._log_fact[:, None, :]
        cum = np.cumsum(np.exp(log_pois), axis=2)  # column k: P(Poisson(lam u) <= k)
        left = bb - i
        erl = 1.0 - np.take_along_axis(cum, np.clip(left - 1, 0, None), axis=2)
        fill = np.where(left <= 0, 1.0, np.clip(erl, 0.0, 1.0))
        out = np.where(left >= 0, fill * g, 0.0).sum(axis=2) / bb[:, :, 0]
        return out[:, 0] if flat else out

    def quantile_u(self, q, mean_u):
        lo = np.zeros_like(mean_u)
        hi = mean_u / (1.0 - q) * (1.0 + 1e-9) + 1e-12  # Markov: P(U >= hi) <= 1 - q
        for _ in range(_BISECTION_STEPS):
            mid = 0.5 * (lo + hi)
            ok = self.cdf_u(mid) >= q
            hi = np.where(ok, mid, hi)
            lo = np.where(ok, lo, mid)
        return hi


_COMMIT_GRID = 2048  # cells of the U grid for the convolution with a commit distribution
_U_GRID_TOP = 1e-7  # P(U > top of the grid)


def _quantile_with_commit(bq, mean_u, dist, qs):
    """Quantiles of S + U + C (C ~ ``dist`` independent of U) by a Stieltjes sum over a U grid.

    F_T(t) = F_U(0) F_C(t - S) + sum_k [F_U(u_k) - F_U(u_{k-1})] F_C(t - S - (u_{k-1} + u_k)/2),
    u_k = k h on [0, u_top], P(U > u_top) = 1e-7; bisection on t between S + Q_C(q) and
    S + u_top + Q_C(1 - (1 - q)/2).  ``qs``: (rows, k) probabilities; returns (rows, k).
    """
    top = bq.quantile_u(1 - _U_GRID_TOP, mean_u)
    grid = np.linspace(0.0, 1.0, _COMMIT_GRID + 1)
    cdf = np.empty((top.size, grid.size))
    step = max(1, _CHUNK_CELLS // (bq.N * top.size))
    for k in range(0, grid.size, step):  # blocks of grid points (memory), vectorized within
        cdf[:, k:k + step] = bq.cdf_u(top[:, None] * grid[None, k:k + step])
    mass = np.diff(cdf, axis=1)
    mid = top[:, None] * 0.5 * (grid[1:] + grid[:-1])[None, :]

    def f_c(x):
        return np.asarray(dist.cdf(x), dtype=float)

    qs = np.asarray(qs, dtype=float).reshape(top.size, -1)  # (rows, number of probabilities)
    S = bq.S[:, None]
    lo = S + np.asarray(dist.ppf(qs), dtype=float)
    hi = S + top[:, None] + np.asarray(dist.ppf(1 - (1 - qs) / 2), dtype=float)
    for _ in range(_BISECTION_STEPS):
        t = 0.5 * (lo + hi)
        x = (t - S)[:, :, None]
        ft = cdf[:, :1] * f_c(x[:, :, 0]) + (mass[:, None, :] * f_c(x - mid[:, None, :])).sum(axis=2)
        ok = ft >= qs
        hi = np.where(ok, t, hi)
        lo = np.where(ok, lo, t)
    return hi


def _write_numerics(rate_per_s, batch, service_ms, qs, per_row=False, commit_dist=None):
    """Mean queue wait and quantiles of T - commit (ms), flat arrays; unstable rows inf.

    ``qs`` is a 1-D array of probabilities (result ``(rows, len(qs))``), or with ``per_row`` one
    probability per row (result ``(rows,)``).  With ``commit_dist`` the quantiles are of
    S + U + C (the commit included), otherwise of S + U.
    """
    lam = np.asarray(rate_per_s, float) / 1000.0
    b = np.asarray(batch).astype(np.int64)
    S = np.asarray(service_ms, float)
    qs = np.asarray(qs, float)
    m = lam.size
    wait = np.full(m, np.inf)
    quant = np.full((m,) if per_row else (m, qs.size), np.inf)
    a = lam * S
    stable = a < b
    idx = np.flatnonzero(stable)
    if idx.size == 0:
        return wait, quant
    for sel, n_grid in _bulk_blocks(a, b, idx):
        bq = _BulkQueue(lam[sel], S[sel], b[sel], n_grid)
        wait[sel] = bq.mean_queue_wait()
        mean_u = (b[sel] - 1) / (2.0 * lam[sel]) + wait[sel]
        if commit_dist is not None:
            if per_row:
                quant[sel] = _quantile_with_commit(bq, mean_u, commit_dist, qs[sel])[:, 0]
            else:
                quant[sel] = _quantile_with_commit(bq, mean_u, commit_dist, np.tile(qs, (sel.size, 1)))
        elif per_row:
            quant[sel] = S[sel] + bq.quantile_u(qs[sel], mean_u)
        else:
            for j, q in enumerate(qs):
                quant[sel, j] = S[sel] + bq.quantile_u(q, mean_u)
    return wait, quant


def _bulk_blocks(a, b, idx):
    """Blocks ``(rows, grid size)`` of the configurations ``idx``: one lattice size per block
    (long enough for the tail, :data:`WRITE_LOAD_TAIL_TOL`), at most ``_CHUNK_CELLS`` cells each
    to bound memory (a loop over blocks, not over configurations)."""
    af, bf = a[idx], b[idx].astype(float)
    need = -np.log(WRITE_LOAD_TAIL_TOL) * 1.05 / _bulk_tail_exponent(af, bf) + af + 12 * np.sqrt(af) + 40 + bf
    grid = 2 ** np.ceil(np.log2(np.maximum(need, 64.0))).astype(np.int64)
    for n_grid in np.unique(grid):
        rows = idx[grid == n_grid]
        step = max(1, _CHUNK_CELLS // int(n_grid))
        for start in range(0, rows.size, step):
            yield rows[start:start + step], int(n_grid)


def _write_cdf_ms(rate_per_s, batch, service_ms, commit_ms, t_ms):
    """P(T <= t) (ms) for a constant commit, broadcast; the same grids as :func:`_write_numerics`."""
    lam_s, b, S, commit, t = np.broadcast_arrays(rate_per_s, batch, service_ms, commit_ms, t_ms)
    shape = t.shape
    lam, b, S, u = lam_s.ravel() / 1000.0, b.ravel().astype(np.int64), S.ravel(), (t - S - commit).ravel()
    out = np.where(np.isposinf(u), 1.0, 0.0)
    a = lam * S
    idx = np.flatnonzero((a < b) & np.isfinite(u) & (u >= 0))
    for sel, n_grid in _bulk_blocks(a, b, idx):
        out[sel] = _BulkQueue(lam[sel], S[sel], b[sel], n_grid).cdf_u(u[sel])
    return np.clip(out, 0.0, 1.0).reshape(shape)


def _write_quantile_ms(rate_per_s, batch, service_ms, commit_ms, q):
    lam, b, S, commit, q = np.broadcast_arrays(rate_per_s, batch, service_ms, commit_ms, q)
    _, quant = _write_numerics(lam.ravel(), b.ravel(), S.ravel(), q.ravel().astype(float), per_row=True)
    return quant.reshape(lam.shape) + commit


def write_load(rate_per_s, n_voters=3, commit_ms=0.0, *, batch=1, per_append_ms=1.0, per_follower_ms=0.1,
               per_proposal_ms=0.05, service_cv=0.0, method="exact") -> WriteLoad:
    """Latency vs write throughput up to saturation, with proposals batched into appends.

    **Model.**  Proposals arrive at the leader as a Poisson stream of rate λ.  Every ``b``
    consecutive proposals form one append (a batch is sent when its ``b``-th proposal arrives;
    no timeout), and the leader handles appends one at a time, first come first served.  An
    append keeps it busy for the constant time

    .. math:: S = a + (n - 1)\\,f + b\\,p

    (``per_append_ms`` a: WAL write + fsync; ``per_follower_ms`` f: one MsgApp out and one ack
    in per follower; ``per_proposal_ms`` p: per-entry work; all three *assumed* illustration
    values, not measurements).  Each proposal of the append then completes ``commit_ms`` later
    (the network round of :func:`commit_latency`, a constant, taken as sequential and not
    blocking the leader).  This is a bulk-service queue, M/D^(b,b)/1: service starts when
    ``b`` proposals wait and takes exactly ``b``; the number left behind at departures follows
    Bailey's bulk-service chain :math:`N' = \\max(N - b, 0) + A` (Bailey1954).  Utilization and
    saturation:

    .. math:: \\rho = \\frac{\\lambda S}{b}, \\qquad \\lambda^* = \\frac{b}{S}.

    **Latency.**  Batches complete at :math:`C_j = \\max(R_j, C_{j-1}) + S` (:math:`R_j` the
    arrival of the ``b``-th proposal of batch ``j``), so :math:`C_j = \\max_{k \\le j}(R_k +
    (j - k + 1) S)`.  A proposal at position ``i`` of its batch has latency
    :math:`T = S + U + \\text{commit}` with :math:`U \\le u` iff (i) the ``b - i`` later
    proposals of its batch arrive within ``u`` (Erlang(b - i, λ), the batch-fill time) and
    (ii) looking back from its arrival, the Poisson count :math:`N(t)` satisfies
    :math:`N(mS - u) \\le (m-1)b + i - 1` for every ``m`` with :math:`mS > u`.  The two are
    independent; with :math:`m_0 = \\lfloor u/S \\rfloor + 1`, :math:`\\tau = m_0 S - u` and
    :math:`A \\sim \\text{Poisson}(\\lambda S)`, (ii) is a random walk with steps
    :math:`A - b` staying below a level, so

    .. math::

        P(U \\le u) = \\frac1b \\sum_{i=1}^{b} P(\\text{Erl}_{b-i,\\lambda} \\le u)\\;
        P\\big(\\text{Poisson}(\\lambda\\tau) + M \\le (m_0 - 1)b + i - 1\\big),
        \\qquad M = \\sup_{r \\ge 0} \\sum_{l=1}^{r} (A_l - b),

    an exact mixture over the position in the batch (no mean added to a quantile).  ``M`` is
    the stationary law of Bailey's chain :math:`X' = \\max(X + A - b, 0)`, with generating
    function

    .. math::

        E z^M = \\frac{(b - \\lambda S)(z - 1)}{z^b - e^{\\lambda S (z - 1)}}
        \\prod_{k=1}^{b-1} \\frac{z - z_k}{1 - z_k},

    :math:`z_k` the roots of :math:`z^b = e^{\\lambda S(z-1)}` inside the unit disk
    (JanssenVanLeeuwaarden2005 for computing them).  It is inverted by an FFT on the unit circle
    with the grid sized so that the neglected tail mass is below ``WRITE_LOAD_TAIL_TOL`` (1e-14);
    quantiles are found by bisection to a relative width 2^-48 of the bracket.  The mean wait of a
    full batch for the leader (``queue_wait_ms``) is exact too:
    :math:`E W_q = S\\,E\\lfloor (M + V)/b \\rfloor` with :math:`P(V = n) = P(A > n)/(\\lambda S)`;
    ``mean_ms`` = ``batching_wait_ms`` :math:`(b - 1)/(2\\lambda)` + ``queue_wait_ms`` + ``S``
    + ``commit_ms``.  For ``b = 1`` this is the M/D/1 queue (Erlang's waiting-time law).

    A constant commit shifts the quantiles.  A commit *distribution* C is convolved with U:
    :math:`F_T(t) = \\int F_C(t - S - u)\\,dF_U(u)`, a Stieltjes sum over 2048 cells of
    :math:`[0, u_{top}]` (:math:`P(U > u_{top}) = 10^{-7}`, midpoints), then bisection on t.
    Its discretization error is at most half a cell in t; measured against the exact shift
    with a point-mass commit it is < 0.1 % of p50/p99 (tests require 1e-3).

    **Accuracy.**  Exact for this model up to the numerical tolerance above (no approximation
    step).  Measured: against Erlang's closed-form M/D/1 law (``b = 1``, 60-digit arithmetic)
    the CDF at the computed p50/p90/p99 is off by < 1e-14 (tests require 1e-9); against
    :func:`followerlab.sim.raft.simulate_write_load` over batch 1-64, ρ 0.1-0.9, commit
    1-150 ms (``benchmarks/accuracy_raft.py``, 4e6 proposals per point) the worst relative
    differences are 0.1 % (ρ <= 0.5) and 2.2 % (p99, ρ = 0.9, batch 1) for p50/p99/mean and
    0.4 % / 2.2 % for the queue wait, all within 3 standard errors of the simulation (the
    sampling error of a simulated p99 at ρ = 0.9 is ~1.4 %); ``tests/test_raft_write_load.py``
    checks a coarse version of that grid (4 SE and 5 %), and the commit-distribution path
    against the simulation with a gamma-jittered commit (p50/p90/p99 within 4 SE).

    Parameters
    ----------
    rate_per_s : float or array
        Proposal (write) rate at the leader, > 0.
    n_voters : int or array
        Voters in the group (>= 1).
    commit_ms : float, array or distribution
        Network commit time added to every proposal (>= 0): a number (array) of ms, or one
        latency distribution with ``cdf``, ``ppf`` and ``mean`` (e.g.
        :func:`commit_latency_distribution` with jitter) shared by all configurations, drawn
        independently of the leader's queue.  ``WriteLoad.commit_ms`` is then its mean.
    batch : int or array
        Proposals per append, ``b`` >= 1.
    per_append_ms, per_follower_ms, per_proposal_ms : float or array
        Service-time components (>= 0, not all 0).
    service_cv : float
        Must be 0 (constant append time), the only case the exact method covers; a non-zero
        value raises ``ValueError`` (it used to select a Kingman approximation, off by up to 2x).
    method : {"exact", "tabulated"}
        ``"exact"`` (default): the numerics above, once per distinct (rate, batch, service).
        ``"tabulated"`` (for large sweeps, constant commit): p50, p99 and ``queue_wait_ms``
        interpolated from a table of the same exact law where it is trusted (b <= 64,
        1e-4 <= ρ <= 0.995, cells within 1e-4; measured worst error in ``max_rel_error``),
        exact elsewhere; see :func:`followerlab._tabulate.write_numerics`.

    Returns
    -------
    WriteLoad
        Arrays broadcast over all inputs; unstable rows (ρ >= 1) have ``inf`` waits and
        quantiles and ``stable`` False.

    Notes
    -----
    Vectorized: every argument broadcasts; the work runs in blocks of configurations with
    similar FFT grids (a Python loop over blocks and over the ``b - 1`` roots, not over
    configurations).  The grid grows like 1/(1 - ρ) near saturation.  Speed (issue 13):
    the exact numerics run once per distinct (rate, batch, service); with ``method="tabulated"``
    and a constant commit, p50, p99 and ``queue_wait_ms`` come from a table of this exact law
    where it is trusted (``method`` / ``max_rel_error`` of the result say where, and the
    interpolation error measured there).  :meth:`WriteLoad.ppf` and :meth:`WriteLoad.cdf`
    always use the exact numerics.

    References
    ----------
    Bailey1954, JanssenVanLeeuwaarden2005 and Kleinrock1975 (M/D/1) in docs/references.rst.

    Examples
    --------
    >>> w = write_load([100.0, 400.0], n_voters=[[3], [5]], commit_ms=64.0)
    >>> w.saturation_rate_per_s.round(1)
    array([[800. , 800. ],
           [689.7, 689.7]])
    >>> w.admin_utilization.round(3)
    array([[0.125, 0.5  ],
           [0.145, 0.58 ]])
    >>> w.queue_wait_ms.round(4)     # M/D/1: rho S / (2 (1 - rho))
    array([[0.0893, 0.625 ],
           [0.123 , 1.0012]])

    Batching at 2000 writes/s with a 2 ms (ZONE) commit: bigger batches unload the leader but
    wait longer to fill, and the p99 is far from "mean fill + a quantile":

    >>> b = write_load(2000.0, 3, 2.0, batch=[4, 16, 64])
    >>> b.admin_utilization.round(3), b.batching_wait_ms.round(2), b.queue_wait_ms.round(3)
    (array([0.7  , 0.25 , 0.138]), array([ 0.75,  3.75, 15.75]), array([0.266, 0.   , 0.   ]))
    >>> b.p50_ms.round(2), b.p99_ms.round(2)
    (array([ 4.32,  7.5 , 21.9 ]), array([ 7.  , 14.52, 42.2 ]))
    """
    lam = as_float_array("rate_per_s", rate_per_s, minimum=0.0, strict_minimum=True)
    n = as_int_array("n_voters", n_voters, minimum=1)
    b = as_int_array("batch", batch, minimum=1)
    commit_dist = None
    if hasattr(commit_ms, "cdf"):
        commit_dist = _as_dist("commit_ms", commit_ms)
        if not hasattr(commit_dist, "ppf"):
            raise ValueError(f"commit_ms must be a number or a distribution with cdf, ppf and mean; got {commit_ms!r}")
        commit_mean = np.asarray(commit_dist.mean(), dtype=float)
        if commit_mean.ndim or not np.isfinite(commit_mean) or commit_mean < 0:
            raise ValueError(f"commit_ms must be one distribution with a finite mean >= 0; got mean {commit_mean!r}")
        commit_ms = float(commit_mean)
    commit = as_float_array("commit_ms", commit_ms, minimum=0.0)
    a = as_float_array("per_append_ms", per_append_ms, minimum=0.0)
    f = as_float_array("per_follower_ms", per_follower_ms, minimum=0.0)
    p = as_float_array("per_proposal_ms", per_proposal_ms, minimum=0.0)
    cs = as_float_array("service_cv", service_cv, minimum=0.0)
    check_shapes(rate_per_s=lam, n_voters=n, commit_ms=commit, batch=b, per_append_ms=a, per_follower_ms=f,
                 per_proposal_ms=p, service_cv=cs)
    if np.any(cs != 0):
        raise ValueError(f"service_cv must be 0 (constant append time, the case computed exactly); got {cs.max()!r}")
    service = a + (n - 1) * f + b * p
    if np.any(service <= 0):
        raise ValueError("per_append_ms, per_follower_ms and per_proposal_ms must not all be 0 (no service time)")
    lam, n, b, commit, service = np.broadcast_arrays(lam, n, b, commit, service)
    service = service.astype(float)
    rho = lam * service / 1000.0 / b
    stable = rho < 1.0
    fill = (b - 1) / (2 * lam) * 1000.0
    method = check_choice("method", method, ["exact", "tabulated"])
    if commit_dist is None and method == "tabulated":  # issue 13: the tabulated exact law (b <= 64)
        wait, quant, method, max_err = _tabulate.write_numerics(_write_numerics, lam.ravel(), b.ravel(), service.ravel())
    else:  # exact, once per distinct (rate, batch, service)
        wait, quant = _tabulate.solve_unique(_write_numerics, lam.ravel(), b.ravel(), service.ravel(),
                                             qs=np.array([0.5, 0.99]), commit_dist=commit_dist)
        method, max_err = np.full(lam.size, _tabulate.EXACT), np.zeros(lam.size)
    wait = np.maximum(wait.reshape(lam.shape), 0.0)  # FFT round-off can leave -1e-13 for "no wait"
    shift = 0.0 if commit_dist is not None else commit
    p50 = quant[:, 0].reshape(lam.shape) + shift
    p99 = quant[:, 1].reshape(lam.shape) + shift
    mean = np.where(stable, fill + wait + service + commit, np.inf)
    return WriteLoad(lam.copy(), n.copy(), b.copy(), service, rho, 1000.0 * b / service, fill,
                     wait, mean, p99, stable, p50, commit.astype(float).copy(), commit_dist,
                     method=method.reshape(lam.shape), max_rel_error=max_err.reshape(lam.shape))
