"""Write load with greedy batching: the leader appends *every* waiting proposal at once.

etcd's leader does not wait for a batch to fill: each turn of its Ready loop sends, and writes
to its WAL with one fsync, all the entries proposed since the previous turn (etcd-raftNode).
That is a bulk queue with a general service rule of threshold 1 and no capacity limit
(Neuts1967), with an append time that grows with the number of entries it carries.

Sources: Neuts1967, etcd-raftNode (docs/references.rst).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg, stats

from .._results import Result
from .._validate import as_float_array, as_int_array, broadcast_all, check_probability

__all__ = ["GreedyWriteLoad", "greedy_write_load"]

#: Largest number of batch-size states of the embedded chain (one dense linear solve each).
GREEDY_MAX_STATES = 3000
#: Probability mass the truncations (batch sizes, Poisson counts) may leave out.
GREEDY_TAIL_TOL = 1e-12


@dataclass(frozen=True)
class GreedyWriteLoad(Result):
    """Write latency (ms) under load with greedy batching (see :func:`greedy_write_load`).

    ``admin_utilization`` is the leader's busy fraction; ``mean_batch`` the mean number of
    proposals per append (over appends); ``saturation_rate_per_s`` is ``1000 /
    per_proposal_ms`` (``inf`` if that is 0: a constant append time never saturates);
    ``stable`` is False at or beyond it, where waits and quantiles are ``inf``.  ``service_ms``
    is the time of an append of one proposal (without a stall), ``commit_ms`` the network commit
    added to every proposal, ``stall_ms`` / ``stall_probability`` the stall of an append.  Exact for the model (numerical tolerance ``GREEDY_TAIL_TOL``).

    References
    ----------
    Neuts1967, etcd-raftNode (docs/references.rst).
    """

    rate_per_s: np.ndarray
    n_voters: np.ndarray
    service_ms: np.ndarray
    per_proposal_ms: np.ndarray
    admin_utilization: np.ndarray
    saturation_rate_per_s: np.ndarray
    mean_batch: np.ndarray
    queue_wait_ms: np.ndarray
    mean_ms: np.ndarray
    p50_ms: np.ndarray
    p99_ms: np.ndarray
    commit_ms: np.ndarray
    stable: np.ndarray
    stall_ms: np.ndarray = 0.0          # type: ignore[assignment]
    stall_probability: np.ndarray = 0.0  # type: ignore[assignment]

    def mean(self) -> np.ndarray:
        """Mean write latency (ms): the ``mean_ms`` field."""
        return self.mean_ms

    def _per_law(self, x, unstable: float, fn) -> np.ndarray:
        """``fn(law, x, commit)`` per configuration, broadcast with ``x``; ``unstable`` where unstable."""
        lam, c, p, d, q, com, x = np.broadcast_arrays(self.rate_per_s, self.service_ms - self.per_proposal_ms,
                                                      self.per_proposal_ms, self.stall_ms, self.stall_probability,
                                                      self.commit_ms, x)
        out = np.full(lam.shape, unstable)
        for idx in np.ndindex(lam.shape):
            law = _law(float(lam[idx]), float(c[idx]), float(p[idx]), float(d[idx]), float(q[idx]))
            if law is not None:
                out[idx] = fn(law, float(x[idx]), float(com[idx]))
        return out

    def cdf(self, t_ms) -> np.ndarray:
        """P(write latency <= t_ms), broadcast with the result (0 wherever unstable)."""
        t = as_float_array("t_ms", t_ms, allow_inf=True)
        return self._per_law(t, 0.0, lambda law, t, commit: law.cdf(t - commit))

    def sf(self, t_ms) -> np.ndarray:
        """P(write latency > t_ms) = 1 - cdf(t_ms)."""
        return 1.0 - self.cdf(t_ms)

    def ppf(self, q) -> np.ndarray:
        """Write-latency quantile(s) in ms, ``q`` in (0, 1) broadcast with the result; ``inf`` if unstable."""
        qq = check_probability("q", q, open_left=True, open_right=True)
        return self._per_law(qq, np.inf, lambda law, q, commit: law.ppf(q) + commit)

    def quantile(self, q) -> np.ndarray:
        """Alias of :meth:`ppf`."""
        return self.ppf(q)


class _Law:
    """The leader part L of one configuration's latency (ms): point masses and uniforms.

    ``d`` / ``q``: every append independently takes ``d`` ms longer with probability ``q``.
    """

    def __init__(self, lam_ms: float, c: float, p: float, d: float = 0.0, q: float = 0.0):
        self.c, self.p = c, p
        vs = np.array([0.0, d]) if q > 0 else np.array([0.0])      # extra time of an append
        qv = np.array([1.0 - q, q]) if q > 0 else np.array([1.0])
        if p == 0.0:  # the append time does not depend on the batch: its size does not matter
            sizes, pi = np.array([1.0]), np.array([1.0])
        else:
            pi, sizes = _stationary_batches(lam_ms, c, p, vs, qv)
        svc = c + sizes[:, None] * p + vs[None, :]                # append of k with extra v
        pkv = pi[:, None] * qv[None, :]
        idle = pkv * np.exp(-lam_ms * svc) / lam_ms               # idle time after such an append
        busy = pkv * svc
        total = busy.sum() + idle.sum()
        self.w_idle = float(idle.sum() / total)
        self.utilization = float(busy.sum() / total)
        # p = 0: K' = N if N >= 1 else 1 with N ~ Poisson(lam S_v), whatever K was
        self.mean_batch = (float(np.sum(pi * sizes)) if p > 0
                           else float(np.sum(qv * (lam_ms * svc[0] + np.exp(-lam_ms * svc[0])))))
        self.rate_check = float(np.sum(pi * sizes)) / total / lam_ms if p > 0 else 1.0  # = 1 (rate balance)
        # an arrival during an append (k, v) (weight busy_kv): the rest of it, U(0, S_kv), then
        # its own append of 1 + N proposals, N ~ Poisson(lam S_kv) (the others arriving
        # meanwhile), which takes c + (1 + N) p + V', V' a fresh extra time
        w, S = (busy / total).ravel(), svc.ravel()
        keep = w > GREEDY_TAIL_TOL * 1e-3
        w, S = w[keep], S[keep]                  # empty when the leader is (almost) never busy
        mu = lam_ms * S
        top = int(np.max(stats.poisson.isf(GREEDY_TAIL_TOL, mu))) + 2 if p > 0 and mu.size else 0
        n = np.arange(top + 1, dtype=float)
        pn = stats.poisson.pmf(n[None, :], mu[:, None]) if p > 0 else np.ones((mu.size, 1))
        self.s1 = c + p
        ev = float(np.sum(qv * vs))
        self.mean_l = self.w_idle * self.s1 + float(np.sum(w * (S / 2 + c + p + p * mu))) + ev
        self.mean_wait = float(np.sum(w * S / 2))   # the rest of the append in progress

        # L's CDF is piecewise linear with jumps: each uniform adds slope W/S on
        # [start, start + S], an idle arrival a jump at c + p + v'.  Integrate over the sorted
        # breakpoints once; then cdf and ppf are exact interpolations (no bisection).
        xs, jump, ds = [], [], []
        for v, qq in zip(vs, qv):
            W = (w[:, None] * pn) * qq
            begin = np.broadcast_to(c + p + p * n[None, :] + v, W.shape)
            ok = W > 0.1 * GREEDY_TAIL_TOL / max(W.size, 1)   # the pieces dropped weigh < GREEDY_TAIL_TOL / 10 in all
            Wk, b0, Sk = W[ok], begin[ok], np.broadcast_to(S[:, None], ok.shape)[ok]
            xs += [b0, b0 + Sk, [c + p + v]]
            ds += [Wk / Sk, -Wk / Sk, [0.0]]
            jump += [np.zeros(Wk.size), np.zeros(Wk.size), [self.w_idle * qq]]
        xs, jump, ds = np.concatenate(xs), np.concatenate(jump), np.concatenate(ds)
        order = np.argsort(xs, kind="stable")
        self.xs, jump, slope = xs[order], jump[order], np.cumsum(ds[order])
        integral = np.concatenate([[0.0], np.cumsum(slope[:-1] * np.diff(self.xs))])
        self.F = np.cumsum(jump) + integral        # F just after each breakpoint (jumps included)
        self.slope = slope

    def cdf(self, x: float) -> float:
        i = int(np.searchsorted(self.xs, x, side="right")) - 1
        if i < 0:
            return 0.0
        if i >= self.xs.size - 1:
            return float(min(1.0, self.F[-1]))
        return float(min(1.0, self.F[i] + self.slope[i] * (x - self.xs[i])))

    def ppf(self, q: float) -> float:
        i = int(np.searchsorted(self.F, q, side="left"))          # first breakpoint with F >= q
        if i >= self.F.size:
            return float(self.xs[-1])
        if i > 0 and self.slope[i - 1] > 0:
            before = self.F[i - 1] + self.slope[i - 1] * (self.xs[i] - self.xs[i - 1])   # F just before xs[i]
            if q <= before:                                        # on the segment before it
                return float(self.xs[i - 1] + (q - self.F[i - 1]) / self.slope[i - 1])
        return float(self.xs[i])                                   # in the jump at xs[i]


class _TooManyStates(Exception):
    """The batch-size chain would need more than ``GREEDY_MAX_STATES`` states."""


def _states_needed(lam_ms, c, p, ev=0.0, varv=0.0):
    """Batch sizes the chain keeps: its drift point :math:`k^*` plus 14 standard deviations and
    30 (vectorized; inf or NaN for inputs that overflow).  ``ev``/``varv``: mean and variance of
    an append's extra time."""
    a = np.asarray(lam_ms, float) * p
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        kstar = lam_ms * (c + ev) / (1.0 - a)
        sd = np.sqrt((kstar + 1.0 + np.square(lam_ms) * varv) / np.maximum(1.0 - a * a, 1e-12))
        return np.ceil(kstar + 14.0 * sd + 30.0)


def _max_solvable_rate_per_s(per_append_ms, per_proposal_ms, stall_ms=0.0, stall_probability=0.0):
    """The highest rate :func:`greedy_write_load` solves for an append of fixed part
    ``per_append_ms`` (a + (n - 1) f), ``per_proposal_ms`` p and optional stalls (``stall_ms``
    with ``stall_probability`` per append): below the saturation rate 1/p, where the batch chain
    needs at most ``GREEDY_MAX_STATES`` states (vectorized; 60 bisection steps on the monotone
    state count).  ``inf`` when p = 0: the append time does not depend on the batch and no
    chain is solved.

    >>> r = float(_max_solvable_rate_per_s(3.0, 0.2))
    >>> r < 5000.0, bool(_states_needed(r / 1000.0, 3.0, 0.2) <= GREEDY_MAX_STATES)
    (True, True)
    >>> bool(_max_solvable_rate_per_s(0.5, 0.27, 30.0, 3e-4) < _max_solvable_rate_per_s(0.5, 0.27))
    True
    >>> float(_max_solvable_rate_per_s(3.0, 0.0))
    inf
    """
    c, p, d, q = np.broadcast_arrays(*(np.asarray(v, float) for v in (per_append_ms, per_proposal_ms,
                                                                       stall_ms, stall_probability)))
    ev, varv = q * d, q * (1.0 - q) * d * d          # mean and variance of an append's extra time
    chain = p > 0
    lo, hi = np.zeros(c.shape), 1.0 / np.where(chain, p, 1.0)          # per ms
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        ok = _states_needed(mid, c, p, ev, varv) <= GREEDY_MAX_STATES
        lo, hi = np.where(ok, mid, lo), np.where(ok, hi, mid)
    return np.where(chain, 1000.0 * lo, np.inf)


def _stationary_batches(lam_ms: float, c: float, p: float, vs=(0.0,), qv=(1.0,)):
    """Stationary law of the batch size K of successive appends (embedded at append starts).

    From an append of ``k`` (time :math:`S_k = c + kp + V`, ``V`` = ``vs[j]`` with probability
    ``qv[j]``) the next carries the :math:`N \\sim \\text{Poisson}(\\lambda S_k)` proposals that
    arrived meanwhile, or, if none did, 1 (the leader idles until the next one).  The chain is
    truncated where its mean-reverting drift (:math:`k^* = \\lambda (c + EV)/(1 - \\lambda p)`)
    leaves mass below ``GREEDY_TAIL_TOL`` beyond; the mass that would leave is kept on the
    last state.
    """
    vs, qv = np.asarray(vs, float), np.asarray(qv, float)
    k_needed = float(_states_needed(lam_ms, c, p, float(np.sum(qv * vs)),
                                    float(np.sum(qv * vs ** 2) - np.sum(qv * vs) ** 2)))
    if not k_needed <= GREEDY_MAX_STATES:
        raise _TooManyStates(k_needed)
    K = int(k_needed)
    sizes = np.arange(1, K + 1, dtype=float)
    P = np.zeros((K, K))
    for v, qq in zip(vs, qv):
        mu = lam_ms * (c + sizes * p + v)
        T = stats.poisson.pmf(sizes[None, :], mu[:, None])
        T[:, 0] += np.exp(-mu)                             # none arrived: idle, then an append of 1
        P += qq * T
    P[:, -1] += np.maximum(0.0, 1.0 - P.sum(axis=1))       # truncated tail kept on the last state
    A = P.T - np.eye(K)
    A[-1, :] = 1.0
    rhs = np.zeros(K)
    rhs[-1] = 1.0
    pi = linalg.solve(A, rhs, check_finite=False)
    pi = np.clip(pi, 0.0, None)
    return pi / pi.sum(), sizes


_CACHE: dict = {}
#: Bounds of the law cache: at most this many laws, and at most this many stored breakpoints in
#: all (three float arrays each; 4e6 is about 100 MB).  A law near saturation with stalls keeps
#: up to ~10^6 breakpoints, so a count bound alone let a fit's thousands of trial laws fill 19 GB
#: (issue 15, a joint stall fit over 3 and 5 members, killed by the kernel's OOM killer).
_CACHE_MAX_LAWS = 4096
_CACHE_MAX_POINTS = 4_000_000
_cache_points = 0


def _law(rate_per_s: float, c: float, p: float, d: float = 0.0, q: float = 0.0):
    global _cache_points
    if rate_per_s * p / 1000.0 >= 1.0:
        return None
    key = (rate_per_s, c, p, d, q)
    law = _CACHE.get(key)
    if law is None:
        law = _Law(rate_per_s / 1000.0, c, p, d, q)
        if law.xs.size > _CACHE_MAX_POINTS:          # larger than the whole cache: not kept
            return law
        if len(_CACHE) >= _CACHE_MAX_LAWS or _cache_points + law.xs.size > _CACHE_MAX_POINTS:
            _CACHE.clear()
            _cache_points = 0
        _CACHE[key] = law
        _cache_points += law.xs.size
    return law


def greedy_write_load(rate_per_s, n_voters=3, commit_ms=0.0, *, per_append_ms=1.0, per_follower_ms=0.1,
                      per_proposal_ms=0.05, stall_ms=0.0, stall_probability=0.0) -> GreedyWriteLoad:
    """Latency vs write throughput when the leader appends every waiting proposal at once.

    **Model.**  Proposals arrive at the leader as a Poisson stream of rate λ.  When the leader
    is free and proposals wait, it starts one append carrying *all* of them (etcd's Ready loop:
    one WAL write and fsync, one MsgApp per follower for everything proposed since the last
    turn; etcd-raftNode); when none waits it idles until the next proposal, which starts an
    append of one.  An append of ``k`` proposals keeps the leader busy for

    .. math:: S_k = c + k\\,p, \\qquad c = a + (n - 1)\\,f

    (``per_append_ms`` a, ``per_follower_ms`` f, ``per_proposal_ms`` p, as in
    :func:`write_load`), plus, independently for each append with probability ``q``
    (``stall_probability``), a *stall* of ``d`` ms (``stall_ms``: the leader descheduled on a
    shared CPU, a garbage-collection pause, a slow fsync; *assumed*, 0 by default).  Each
    proposal completes ``commit_ms`` after its append ends (the network round, not blocking
    the leader).  This is Neuts' general bulk-service queue with
    threshold 1 and unlimited capacity, with batch-size dependent service (Neuts1967).  Unlike
    :func:`write_load` no proposal ever waits for a batch to fill, so at light load the
    latency is ``c + p + commit_ms`` and batching only grows with the load.

    **Exact solution.**  The batch sizes :math:`K_j` of successive appends form a Markov chain:
    :math:`K_{j+1} = N_j` if :math:`N_j \\ge 1`, else 1, with
    :math:`N_j \\sim \\text{Poisson}(\\lambda S_{K_j})` the arrivals during append ``j``
    (with stalls, :math:`S` is :math:`S_k` or :math:`S_k + d`; the formulas below then also
    mix over the stall of the append in progress and of the proposal's own append).
    With its stationary law :math:`\\pi` (a linear solve on the truncated chain), a Poisson
    arrival (PASTA) finds the leader idle with probability
    :math:`w_0 \\propto \\sum_k \\pi_k e^{-\\lambda S_k}/\\lambda`, or in an append of ``k`` with
    probability :math:`w_k \\propto \\pi_k S_k`, at an age uniform on :math:`[0, S_k]`.  In the
    first case its latency is :math:`L = S_1`; in the second it waits out the rest of that
    append, :math:`U \\sim U(0, S_k)`, then rides the next, which carries it and the
    :math:`N \\sim \\text{Poisson}(\\lambda S_k)` others that arrived during append ``k``:

    .. math::

        P(L \\le x) = w_0\\,[x \\ge S_1] + \\sum_k w_k \\sum_{m \\ge 0}
        \\text{Pois}(m;\\lambda S_k)\\;
        \\min\\!\\Big(1, \\max\\!\\Big(0, \\frac{x - c - (1 + m)p}{S_k}\\Big)\\Big),

    a mixture of a point mass and uniforms (no approximation); latency is ``L + commit_ms``.
    The CDF is piecewise linear, so it is integrated once over its sorted breakpoints and
    quantiles are exact linear interpolations (no bisection).  Stable iff :math:`\\lambda p < 1`, so the
    saturation rate is :math:`1/p`.  With :math:`p = 0` every append takes ``c``,
    :math:`w_0 = 1/(1 + \\lambda c\\, e^{\\lambda c})` and the law is closed-form.

    **Accuracy.**  Exact for the model up to ``GREEDY_TAIL_TOL`` (1e-12) of truncated mass.
    Checked against :func:`followerlab.sim.raft.simulate_greedy_write_load` (an event loop
    that uses none of the above) over λp from 0.05 to 0.95 and p = 0
    (``tests/test_raft_greedy.py``); the rate balance
    :math:`E K / (E S_K + E\\,\\text{idle}) = \\lambda` holds to 1e-9.

    **Speed.**  One dense linear solve per distinct (rate, c, p), on up to
    ``GREEDY_MAX_STATES`` batch sizes (about ``λc/(1 - λp)`` plus 14 standard deviations);
    meant for fitting and validation (tens to thousands of configurations), not 10^6 sweeps.
    Closer to saturation than that chain allows (or with appends so long that thousands of
    proposals wait for each), a ValueError names the rate and the service parameters.

    Parameters
    ----------
    rate_per_s : float or array
        Proposal (write) rate at the leader, > 0.
    n_voters : int or array
        Voters in the group (>= 1).
    commit_ms : float or array
        Network commit time added to every proposal (>= 0, ms).
    per_append_ms, per_follower_ms, per_proposal_ms : float or array
        Service-time components (>= 0 ms; ``per_append_ms + (n - 1) * per_follower_ms`` > 0).
    stall_ms, stall_probability : float or array
        The extra time ``d`` (>= 0 ms) an append takes with probability ``q`` (in [0, 1]).

    Returns
    -------
    GreedyWriteLoad

    References
    ----------
    Neuts1967 (the general bulk-service rule), etcd-raftNode (one append per Ready turn) in
    docs/references.rst.

    See Also
    --------
    write_load : batches of a fixed size that wait to fill.

    Examples
    --------
    At light load a write takes its own append and the commit; near ``1/p`` the batches grow:

    >>> w = greedy_write_load([10.0, 2000.0], 3, 10.0, per_append_ms=1.0, per_follower_ms=0.0,
    ...                       per_proposal_ms=0.4)
    >>> w.p50_ms.round(2).tolist(), w.mean_batch.round(1).tolist(), float(w.saturation_rate_per_s[0])
    ([11.4, 18.44], [1.0, 10.0], 2500.0)
    """
    lam = as_float_array("rate_per_s", rate_per_s, minimum=0.0, strict_minimum=True)
    n = as_int_array("n_voters", n_voters, minimum=1)
    com = as_float_array("commit_ms", commit_ms, minimum=0.0)
    a = as_float_array("per_append_ms", per_append_ms, minimum=0.0)
    f = as_float_array("per_follower_ms", per_follower_ms, minimum=0.0)
    p = as_float_array("per_proposal_ms", per_proposal_ms, minimum=0.0)
    d = as_float_array("stall_ms", stall_ms, minimum=0.0)
    q = as_float_array("stall_probability", stall_probability, minimum=0.0, maximum=1.0)
    lam, n, com, a, f, p, d, q = broadcast_all(
        lam, n, com, a, f, p, d, q,
        names=("rate_per_s", "n_voters", "commit_ms", "per_append_ms", "per_follower_ms", "per_proposal_ms",
               "stall_ms", "stall_probability"))
    c = a + (n - 1) * f
    if np.any(c <= 0):
        i = np.flatnonzero((c <= 0).ravel())[0]
        raise ValueError(f"per_append_ms + (n_voters - 1) * per_follower_ms must be > 0; got "
                         f"per_append_ms={a.ravel()[i]!r}, per_follower_ms={f.ravel()[i]!r}, n_voters={n.ravel()[i]!r}")
    if not np.all(np.isfinite(c + p)):
        raise ValueError("per_append_ms + (n_voters - 1) * per_follower_ms + per_proposal_ms must be finite")
    stable = lam * p / 1000.0 < 1.0
    sat = np.where(p > 0, 1000.0 / np.where(p > 0, p, 1.0), np.inf)
    shape = lam.shape
    util, batch, wait, mean, p50, p99 = (np.full(shape, np.inf) for _ in range(6))
    util[~stable] = 1.0
    for idx in np.ndindex(shape):
        if not stable[idx]:
            continue
        try:
            law = _law(float(lam[idx]), float(c[idx]), float(p[idx]), float(d[idx]), float(q[idx]))
        except _TooManyStates as exc:
            raise ValueError(
                f"greedy_write_load cannot solve rate_per_s={float(lam[idx])!r} with per_append_ms="
                f"{float(a[idx])!r}, per_follower_ms={float(f[idx])!r}, per_proposal_ms={float(p[idx])!r}, "
                f"stall_ms={float(d[idx])!r}, stall_probability={float(q[idx])!r}: its batches would need {exc.args[0]:.3g} states, more than "
                f"{GREEDY_MAX_STATES} (rate too close to the saturation rate {float(sat[idx]):.6g}/s, or appends "
                f"so long that thousands of proposals wait for each)") from None
        util[idx], batch[idx] = law.utilization, law.mean_batch
        wait[idx], mean[idx] = law.mean_wait, law.mean_l + com[idx]
        p50[idx], p99[idx] = law.ppf(0.5) + com[idx], law.ppf(0.99) + com[idx]
    return GreedyWriteLoad(rate_per_s=lam, n_voters=n, service_ms=c + p, per_proposal_ms=p, admin_utilization=util,
                           saturation_rate_per_s=sat, mean_batch=batch, queue_wait_ms=wait, mean_ms=mean,
                           p50_ms=p50, p99_ms=p99, commit_ms=com, stable=stable, stall_ms=d, stall_probability=q)
