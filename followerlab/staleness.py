r"""Shared staleness algebra: the age of data behind a periodic refresh.

A *refresh* (a follower database's metadata sync, a query head's metadata refresh) starts
every :math:`P` seconds and takes

.. math:: D = d_0 + d_1 N,

where :math:`N` is the number of changes since the previous refresh started.  Changes arrive
as a Poisson process of rate :math:`m` per second, so :math:`N \sim \mathrm{Poisson}(mP)` and
:math:`D` is **random** (this module uses the Poisson law of the changes, not their mean, in
the periodic regime).  A write committed at a uniformly random time becomes visible at the end
of the first refresh that starts after it, so its lag is

.. math:: L = U + D, \qquad U \sim \mathrm{Uniform}(0, P],\ D \text{ independent of } U.

The same law is the age of the snapshot a query sees at a random time when :math:`D` is
deterministic (:math:`d_1 m = 0`); with random :math:`D` the age has the same mean and the same
CDF below :math:`P + d_0`, and differs only in the far tail (see :func:`refresh_lag`).

Source: seed 000 (Kusto follower clusters: "periodically synchronizes ... lag of a few seconds
to a few minutes ... depends on the amount of metadata changes"), seed 003 (weak-consistency
query heads, ``RefreshPeriodInSeconds`` 120).  The linear duration law is *assumed*.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from ._results import Result
from ._validate import as_float_array, check_probability
from ._wars import TVisibility, k_staleness_probability, quorum_miss_probability, t_visibility  # noqa: F401

__all__ = ["RefreshLag", "refresh_lag"]


def _partial_positive_mean(a: np.ndarray, d1: np.ndarray, lam: np.ndarray) -> np.ndarray:
    r""":math:`E[(a - d_1 N)^+]` for :math:`N \sim \mathrm{Poisson}(\lambda)`, exactly.

    With :math:`k = \lfloor a / d_1 \rfloor`,
    :math:`E[(a - d_1 N)^+] = a\,F(k) - d_1 \lambda\, F(k-1)` because
    :math:`E[N; N \le k] = \lambda P(N \le k-1)`.  For :math:`d_1 = 0` it is :math:`a^+`.
    """
    a, d1, lam = np.broadcast_arrays(a, d1, lam)
    out = np.array(np.maximum(a, 0.0), dtype=float)
    random = (d1 > 0) & (lam > 0) & (a > 0)
    if random.any():
        aa, dd, ll = a[random], d1[random], lam[random]
        with np.errstate(over="ignore"):
            k = np.floor(aa / dd)
        out[random] = aa * stats.poisson.cdf(k, ll) - dd * ll * stats.poisson.cdf(k - 1, ll)
    # d1 > 0 with lam == 0 means N == 0: a^+ (already); d1 == 0: a^+ (already).
    return out


def _partial_positive_square(a: np.ndarray, d1: np.ndarray, lam: np.ndarray) -> np.ndarray:
    r""":math:`H(a) = E[((a - d_1 N)^+)^2] / 2`, the antiderivative of :math:`G` in :math:`a`.

    With :math:`k = \lfloor a/d_1 \rfloor`, :math:`E[N; N\le k] = \lambda F(k-1)` and
    :math:`E[N(N-1); N \le k] = \lambda^2 F(k-2)`:
    :math:`2H = a^2 F(k) - 2 a d_1 \lambda F(k-1) + d_1^2 (\lambda^2 F(k-2) + \lambda F(k-1))`.
    """
    a, d1, lam = np.broadcast_arrays(a, d1, lam)
    out = np.array(0.5 * np.maximum(a, 0.0) ** 2, dtype=float)
    random = (d1 > 0) & (lam > 0) & (a > 0)
    if random.any():
        aa, dd, ll = a[random], d1[random], lam[random]
        with np.errstate(over="ignore"):
            k = np.floor(aa / dd)
        f0, f1, f2 = (stats.poisson.cdf(k - j, ll) for j in (0, 1, 2))
        out[random] = 0.5 * (aa**2 * f0 - 2 * aa * dd * ll * f1 + dd**2 * (ll**2 * f2 + ll * f1))
    return out


@dataclass(frozen=True)
class RefreshLag(Result):
    r"""Lag of a periodically refreshed copy: visibility lag of a write / age of a snapshot.

    Attributes
    ----------
    period_s : ndarray
        The configured refresh period :math:`P` (s).
    base_duration_s, duration_per_change_s, change_rate_per_s : ndarray
        :math:`d_0` (s), :math:`d_1` (s per change), :math:`m` (changes per s).
    duration_s : ndarray
        Mean refresh duration (s): :math:`d_0 + d_1 m P` when periodic, :math:`P_{eff}` when
        back to back, ``inf`` when unbounded.
    effective_period_s : ndarray
        Time between refresh starts: :math:`P`, or :math:`P_{eff} = d_0 / (1 - d_1 m)` back to
        back, ``inf`` when unbounded.
    back_to_back : ndarray of bool
        Mean duration :math:`\ge P`: each refresh starts as soon as the previous one ends.
    unbounded : ndarray of bool
        :math:`d_1 m \ge 1`: each refresh brings at least as many changes as it clears; the lag
        grows without bound (all lags ``inf``).
    p_overrun : ndarray
        In the periodic regime, :math:`P(D \ge P)` under the Poisson law: the probability that a
        single refresh overruns its period.  The periodic formulas are exact when it is 0 and
        accurate when it is tiny; 1 when back to back.
    mean_s, std_s : ndarray
        Mean and standard deviation of the lag (s).
    """

    period_s: np.ndarray
    base_duration_s: np.ndarray
    duration_per_change_s: np.ndarray
    change_rate_per_s: np.ndarray
    duration_s: np.ndarray
    effective_period_s: np.ndarray
    back_to_back: np.ndarray
    unbounded: np.ndarray
    p_overrun: np.ndarray
    mean_s: np.ndarray
    std_s: np.ndarray

    @property
    def shape(self) -> tuple[int, ...]:
        """Broadcast shape of the configurations."""
        return np.shape(self.mean_s)

    def cdf(self, t_s) -> np.ndarray:
        r""":math:`P(L \le t)`; ``t_s`` broadcasts against the configurations (scipy style).

        Periodic regime (exact for the stated model):

        .. math:: F(t) = \frac{G(t - d_0) - G(t - d_0 - P)}{P},\quad
                  G(a) = E[(a - d_1 N)^+] = a\,F_N(k) - d_1 m P\,F_N(k - 1),\ k = \lfloor a/d_1 \rfloor.

        Back to back: :math:`L \sim \mathrm{Uniform}(P_{eff}, 2P_{eff})` (fluid, mean changes).
        Unbounded: 0 for every finite t.
        """
        t = as_float_array("t_s", t_s, allow_inf=True)
        P, d0, d1, m, Pe, b2b, unb = np.broadcast_arrays(
            self.period_s, self.base_duration_s, self.duration_per_change_s,
            self.change_rate_per_s, self.effective_period_s, self.back_to_back, self.unbounded,
        )
        t, P, d0, d1, m, Pe, b2b, unb = np.broadcast_arrays(t, P, d0, d1, m, Pe, b2b, unb)
        lam = m * P
        tf = np.where(np.isfinite(t), t, 0.0)
        periodic = (_partial_positive_mean(tf - d0, d1, lam) - _partial_positive_mean(tf - d0 - P, d1, lam)) / P
        periodic = np.where(np.isposinf(t), 1.0, np.where(np.isneginf(t), 0.0, periodic))
        with np.errstate(invalid="ignore", divide="ignore"):
            fluid = np.clip((t - Pe) / Pe, 0.0, 1.0)
        out = np.where(b2b, fluid, periodic)
        out = np.where(unb, np.where(np.isposinf(t), 1.0, 0.0), out)
        return np.clip(out, 0.0, 1.0)

    def quantile(self, q) -> np.ndarray:
        """The lag's ``q``-quantile (s): the smallest t with ``cdf(t) >= q`` (bisection, 1e-9 s).

        The Poisson law has unbounded support, so ``q = 1`` gives the point where the CDF
        reaches 1 in floating point (exactly ``d0 + P`` when ``d1 m = 0``).
        """
        q = check_probability("q", q)
        shape = np.broadcast_shapes(np.shape(q), self.shape)
        q = np.broadcast_to(q, shape)
        P, d0, d1, m, Pe, b2b, unb = (np.broadcast_to(x, shape) for x in (
            self.period_s, self.base_duration_s, self.duration_per_change_s,
            self.change_rate_per_s, self.effective_period_s, self.back_to_back, self.unbounded))
        lam = m * P
        q_n = np.minimum(q, 1.0 - 1e-15)
        n_hi = np.where(lam > 0, stats.poisson.ppf(q_n, lam), 0.0)
        lo = np.where(b2b, Pe, d0).astype(float)
        hi = np.where(b2b, 2 * Pe, d0 + P + d1 * np.maximum(n_hi, 0.0)).astype(float)
        hi = np.where(unb, 0.0, hi)
        lo = np.where(unb, 0.0, lo)
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            below = self.cdf(mid) < q
            lo = np.where(below, mid, lo)
            hi = np.where(below, hi, mid)
            if np.all(hi - lo <= 1e-9 * np.maximum(1.0, hi)):
                break
        out = np.where(q <= 0, np.where(b2b, Pe, d0), hi)
        return np.where(unb, np.inf, out)

    def expected_excess_s(self, w_s) -> np.ndarray:
        r""":math:`E[(L - w)^+]` (s): how far past ``w_s`` the lag runs, on average.

        Used for the leader+follower union window: a query that reads the last ``w`` seconds
        from the leader misses, on average, this much of the follower's part.  Exact:

        .. math:: E[(L - w)^+] = E[L] - w + \frac{H(w - d_0) - H(w - d_0 - P)}{P},

        with :math:`H(a) = E[((a - d_1 N)^+)^2]/2` in closed form (Poisson CDFs); back to back
        the same with :math:`d_1 = 0`, :math:`d_0 = P = P_{eff}`.

        >>> round(float(refresh_lag(60.0, 2.0).expected_excess_s(32.0)), 6)   # U(2, 62): 30^2/120
        7.5
        """
        w = as_float_array("w_s", w_s, minimum=0.0)
        P, d0, d1, m, Pe, b2b, unb, mean = np.broadcast_arrays(
            self.period_s, self.base_duration_s, self.duration_per_change_s, self.change_rate_per_s,
            self.effective_period_s, self.back_to_back, self.unbounded, self.mean_s)
        w, P, d0, d1, m, Pe, b2b, unb, mean = np.broadcast_arrays(w, P, d0, d1, m, Pe, b2b, unb, mean)
        PP = np.where(b2b, np.where(unb, 1.0, Pe), P)
        dd0 = np.where(b2b, np.where(unb, 0.0, Pe), d0)
        dd1 = np.where(b2b, 0.0, d1)
        lam = m * P
        with np.errstate(invalid="ignore"):
            out = mean - w + (_partial_positive_square(w - dd0, dd1, lam)
                              - _partial_positive_square(w - dd0 - PP, dd1, lam)) / PP
        out = np.where(unb, np.inf, np.maximum(out, 0.0))
        return out[()]

    def sample(self, size, seed=None) -> np.ndarray:
        """Random lags (s), shape ``(*size, *self.shape)``, drawn from the stated law.

        Periodic: ``U + d0 + d1 * Poisson(m P)``; back to back: ``Uniform(P_eff, 2 P_eff)``;
        unbounded: ``inf``.
        """
        size = (int(size),) if np.ndim(size) == 0 else tuple(int(s) for s in size)
        rng = np.random.default_rng(seed)
        shape = size + self.shape
        P, d0, d1, m, Pe, b2b, unb = (np.broadcast_to(x, shape) for x in (
            self.period_s, self.base_duration_s, self.duration_per_change_s,
            self.change_rate_per_s, self.effective_period_s, self.back_to_back, self.unbounded))
        u = rng.random(shape)
        n = rng.poisson(m * P)
        periodic = (1.0 - u) * P + d0 + d1 * n
        with np.errstate(invalid="ignore"):
            fluid = Pe * (2.0 - u)
        out = np.where(b2b, fluid, periodic)
        return np.where(unb, np.inf, out)


def refresh_lag(period_s, base_duration_s=0.0, duration_per_change_s=0.0, change_rate_per_s=0.0) -> RefreshLag:
    r"""Lag until a write is visible behind a periodic refresh (also: age of a snapshot).

    Parameters
    ----------
    period_s : array_like
        Refresh period :math:`P` (s), > 0.  Follower-database sync period (*assumed*, not
        published) or a query head's ``RefreshPeriodInSeconds`` (default 120, seed 003).
    base_duration_s : array_like
        Fixed part :math:`d_0` of a refresh's duration (s), >= 0 (*assumed*).
    duration_per_change_s : array_like
        :math:`d_1`, seconds of refresh work per metadata change, >= 0 (*assumed*).
    change_rate_per_s : array_like
        :math:`m`, metadata changes per second on the source, >= 0.

    Returns
    -------
    RefreshLag
        Arrays broadcast over the inputs, with ``cdf``, ``quantile`` and ``sample``.

    Notes
    -----
    **Periodic regime** (:math:`d_0 + d_1 m P < P`).  Refreshes start at :math:`kP`; refresh
    :math:`k` covers the :math:`N_k \sim \mathrm{Poisson}(mP)` changes of the previous period and
    takes :math:`D_k = d_0 + d_1 N_k`.  A write at a uniform time waits the residual
    :math:`U \sim \mathrm{U}(0, P]` for the next start, then that refresh's :math:`D`
    (independent of :math:`U`: Poisson increments), so

    .. math::
        E[L] = \tfrac{P}{2} + d_0 + d_1 m P, \qquad
        \mathrm{Var}[L] = \tfrac{P^2}{12} + d_1^2 m P,

    and the CDF is exact in closed form (:meth:`RefreshLag.cdf`).  The write itself is *not*
    one of the counted changes (a probe at a uniform time).  If the write is itself one of the
    Poisson changes, Slivnyak's theorem says its period holds :math:`1 + \mathrm{Poisson}(mP)`
    changes: use ``base_duration_s = d0 + d1``.  The formula assumes a refresh never overruns
    its period; ``p_overrun`` = :math:`P(D \ge P)` says how far that holds.

    *Metadata age at a random time* (weak consistency): a query at time t sees the snapshot of
    the last finished refresh.  Its age has the same mean :math:`P/2 + E[D]` and the same CDF
    for :math:`t \le P + d_0`; for deterministic :math:`D` the laws coincide.

    **Back to back** (:math:`d_0 + d_1 m P \ge P`, flagged ``back_to_back``).  Each refresh
    starts when the previous ends; with the *mean* number of changes (fluid approximation) the
    period solves :math:`P_{eff} = d_0 + d_1 m P_{eff}`, i.e.
    :math:`P_{eff} = d_0 / (1 - d_1 m)`, and :math:`L \sim \mathrm{U}(P_{eff}, 2 P_{eff})`.
    This regime is an approximation (the simulation in :mod:`followerlab.sim.follower` checks
    it); if :math:`d_1 m \ge 1` the lag is unbounded: ``inf`` and flagged, no exception.

    Examples
    --------
    >>> r = refresh_lag(60.0, base_duration_s=2.0, duration_per_change_s=0.01, change_rate_per_s=5.0)
    >>> float(r.mean_s), float(r.duration_s), bool(r.back_to_back)
    (35.0, 5.0, False)
    >>> round(float(r.cdf(35.0)), 3), round(float(r.quantile(0.5)), 2)
    (0.5, 35.0)
    >>> b = refresh_lag(10.0, 8.0, 0.1, 5.0)      # d0 + d1 m P = 13 >= 10: back to back
    >>> bool(b.back_to_back), float(b.effective_period_s), float(b.mean_s)
    (True, 16.0, 24.0)
    >>> bool(refresh_lag(10.0, 1.0, 0.5, 2.0).unbounded)
    True
    """
    P = as_float_array("period_s", period_s, minimum=0.0, strict_minimum=True)
    d0 = as_float_array("base_duration_s", base_duration_s, minimum=0.0)
    d1 = as_float_array("duration_per_change_s", duration_per_change_s, minimum=0.0)
    m = as_float_array("change_rate_per_s", change_rate_per_s, minimum=0.0)
    P, d0, d1, m = np.broadcast_arrays(P, d0, d1, m)
    rho = d1 * m
    mean_d = d0 + rho * P
    unbounded = rho >= 1.0
    back_to_back = unbounded | (mean_d >= P)
    with np.errstate(divide="ignore", invalid="ignore"):
        p_eff = np.where(unbounded, np.inf, np.where(back_to_back, d0 / np.where(unbounded, 1.0, 1.0 - rho), P))
    duration = np.where(back_to_back, p_eff, mean_d)
    mean = np.where(back_to_back, 1.5 * p_eff, P / 2 + mean_d)
    std = np.where(back_to_back, p_eff / np.sqrt(12.0), np.sqrt(P**2 / 12.0 + d1**2 * m * P))
    # P(D >= P) = P(N >= ceil((P - d0) / d1)) in the periodic regime.
    lam = m * P
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        n_need = np.ceil((P - d0) / np.where(d1 > 0, d1, 1.0))
    p_over = np.where(d1 > 0, stats.poisson.sf(n_need - 1, lam), (d0 >= P).astype(float))
    p_over = np.where(back_to_back, 1.0, p_over)
    return RefreshLag(
        period_s=P[()], base_duration_s=d0[()], duration_per_change_s=d1[()], change_rate_per_s=m[()],
        duration_s=duration[()], effective_period_s=p_eff[()], back_to_back=back_to_back[()],
        unbounded=unbounded[()], p_overrun=p_over[()], mean_s=mean[()], std_s=std[()],
    )
