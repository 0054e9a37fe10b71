"""Weak staleness: how old a query head's metadata is, what that misses, and what refreshes cost.

A query head refreshes its copy of the database metadata every ``RefreshPeriodInSeconds``
(120 s by default), so a weakly consistent query sees data up to a few minutes old:
:func:`weak_staleness` gives the age's law, :func:`records_missed` what a query over the last
X seconds misses, :func:`monotonic_read_violation_probability` the chance a session's next
query sees *older* metadata, and :func:`refresh_cost` the storage load and failure odds of the
refreshes.

Sources: Leibowitz2023 and ADX-WeakConsistencyPolicy in docs/references.rst; the
periodic-refresh age is :func:`followerlab.staleness.refresh_lag`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._results import Result
from .._validate import as_float_array, as_int_array, broadcast_all, check_choice
from ..staleness import refresh_lag
from ._common import _scalar
from .routing import ROUTING_MODES

__all__ = [
    "WeakStaleness",
    "MissedRecords",
    "RefreshCost",
    "weak_staleness",
    "records_missed",
    "monotonic_read_violation_probability",
    "refresh_cost",
]


@dataclass(frozen=True)
class WeakStaleness(Result):
    """Age of a query head's metadata at a random query time.

    ``lag`` is the :class:`followerlab.staleness.RefreshLag` (``cdf``, ``quantile``,
    ``sample``) the summary fields come from.

    References
    ----------
    Leibowitz2023 and ADX-WeakConsistencyPolicy (heads refresh their metadata every
    RefreshPeriodInSeconds), BaccelliBremaud2003 (the age's law when refreshes overrun,
    :func:`followerlab.staleness.refresh_lag`) in docs/references.rst.
    """

    refresh_period_s: np.ndarray
    effective_period_s: np.ndarray
    mean_s: np.ndarray
    p50_s: np.ndarray
    p99_s: np.ndarray
    back_to_back: np.ndarray
    lag: object = field(repr=False, compare=False)

    def cdf(self, t_s):
        """P(age <= t_s)."""
        return self.lag.cdf(t_s)

    def sf(self, t_s):
        """P(age > t_s) = 1 - cdf(t_s)."""
        return self.lag.sf(t_s)

    def ppf(self, q):
        """Age quantile (s): the smallest t with ``cdf(t) >= q``."""
        return self.lag.ppf(q)

    def mean(self):
        """E[age] (s): the ``mean_s`` field."""
        return self.mean_s

    def quantile(self, q):
        """Alias of :meth:`ppf` (same values)."""
        return self.ppf(q)


def weak_staleness(refresh_period_s=120.0, base_duration_s=2.0, duration_per_change_s=0.0,
                   change_rate_per_s=0.0) -> WeakStaleness:
    r"""Staleness of a weakly consistent query: the age of its head's metadata.

    A head starts a refresh every R seconds; the refresh downloads the metadata delta and takes
    :math:`F = f_0 + f_1 \cdot \text{changes}` seconds; a query at a uniformly random time sees
    the version the last *finished* refresh fetched, so its age is the residual phase plus F:

    .. math::

        A = U + F,\quad U \sim \mathcal U[0, R_{eff}),\qquad E[A] = R_{eff}/2 + F

    (:func:`followerlab.staleness.refresh_lag`, which also handles back-to-back refreshes
    when F >= R).

    Parameters
    ----------
    refresh_period_s : array_like, default 120
        ``RefreshPeriodInSeconds`` (policy range 30..1800).
    base_duration_s : array_like, default 2
        f0: fixed refresh time; "usually up to a few seconds" (Leibowitz2023) — 2 s is *assumed*.
    duration_per_change_s, change_rate_per_s : array_like
        f1 and the metadata change rate (*assumed*, default 0).

    References
    ----------
    Leibowitz2023 (heads download the metadata delta every 2 minutes; a refresh usually takes up
    to a few seconds), ADX-WeakConsistencyPolicy (RefreshPeriodInSeconds 120, range 30..1800),
    BaccelliBremaud2003 (the age's law when refreshes overrun,
    :func:`followerlab.staleness.refresh_lag`) in docs/references.rst.

    Examples
    --------
    >>> s = weak_staleness(120.0, 2.0)
    >>> float(s.mean_s), float(s.p99_s)
    (62.0, 120.8)
    """
    period = as_float_array("refresh_period_s", refresh_period_s, minimum=30.0, maximum=1800.0)
    lag = refresh_lag(period, base_duration_s, duration_per_change_s, change_rate_per_s)
    return WeakStaleness(
        refresh_period_s=period,
        effective_period_s=np.asarray(lag.effective_period_s),
        mean_s=np.asarray(lag.mean_s),
        p50_s=np.asarray(lag.quantile(0.5)),
        p99_s=np.asarray(lag.quantile(0.99)),
        back_to_back=np.asarray(lag.back_to_back),
        lag=lag,
    )


@dataclass(frozen=True)
class MissedRecords(Result):
    """What a query over the last ``window_s`` misses because its head's metadata is old.

    References
    ----------
    Leibowitz2023 in docs/references.rst (the 1000 records per minute example, the 7-day
    aggregation and the 5-minute alert).
    """

    window_s: np.ndarray
    ingest_rate_per_s: np.ndarray
    expected_missed: np.ndarray
    expected_missed_fraction: np.ndarray
    p_window_blind: np.ndarray
    match_rate_per_s: np.ndarray
    p_miss_match: np.ndarray


def records_missed(window_s, ingest_rate_per_s, staleness=None, match_rate_per_s=None, *, grid=4001) -> MissedRecords:
    r"""Records a weakly consistent query over the last X seconds does not see.

    With metadata age A at query time, a query over :math:`[t-X, t]` misses the records ingested
    in :math:`(t-A, t]`, i.e. :math:`\min(A, X)` seconds of ingest:

    .. math::

        E[\text{missed}] = r\,E[\min(A, X)] = r\int_0^X P(A > u)\,du

    An alert query that fires on any matching record (matches arriving as Poisson at rate m)
    misses one of them with probability

    .. math::

        P = 1 - E\!\left[e^{-m\min(A,X)}\right] = m\int_0^X e^{-m u}\,P(A>u)\,du

    and :math:`P(A \ge X)` is the chance the whole window is invisible.  The integrals use the
    trapezoid rule on ``grid`` points over :math:`[0, \min(X, a_{1-10^{-12}})]` (beyond the age's
    :math:`1-10^{-12}` quantile the integrand is below :math:`10^{-12}`) with the exact CDF; in
    the second the exponential is integrated exactly against the survival taken linear between
    points (the plain rule overshoots 1 once m times the step is not small).

    Parameters
    ----------
    window_s : array_like
        Query window X (Leibowitz2023's examples: 7 days and 5 minutes), > 0.
    ingest_rate_per_s : array_like
        Records ingested per second (Leibowitz2023's example: 1000 per minute), >= 0.
    staleness : WeakStaleness, optional
        From :func:`weak_staleness`; default the policy defaults (R = 120 s).
    match_rate_per_s : array_like, optional
        Rate of records the query is looking for (e.g. errors); default ``ingest_rate_per_s``.

    Notes
    -----
    Assumes ingestion itself is instantaneous (strong queries miss nothing) and that the
    query's window ends at the query time.  Source: Leibowitz2023 (the 1000 records per minute
    example; the 7-day aggregation and the 5-minute alert).

    References
    ----------
    Leibowitz2023 in docs/references.rst (weak queries miss the data ingested since their head's
    last refresh; the 1000 records per minute example, the 7-day aggregation and the 5-minute
    alert).

    Examples
    --------
    >>> s = weak_staleness(120.0, 2.0)
    >>> m = records_missed([7 * 86400.0, 300.0], 1000 / 60, s)
    >>> m.expected_missed.round(0)
    array([1033., 1033.])
    """
    x = as_float_array("window_s", window_s, minimum=0.0, strict_minimum=True)
    r = as_float_array("ingest_rate_per_s", ingest_rate_per_s, minimum=0.0)
    m = r if match_rate_per_s is None else as_float_array("match_rate_per_s", match_rate_per_s, minimum=0.0)
    n = int(_scalar("grid", as_int_array("grid", grid, minimum=3)))
    if staleness is None:
        staleness = weak_staleness()
    shape = np.broadcast_shapes(x.shape, r.shape, m.shape, np.shape(staleness.mean_s))
    xb = np.broadcast_to(x, shape)
    # integrate only where P(A > u) is not ~0: up to min(X, the age's 1 - 1e-12 quantile)
    top = np.broadcast_to(np.asarray(staleness.quantile(1.0 - 1e-12), dtype=float), shape)
    upper = np.minimum(xb, top)
    frac = np.linspace(0.0, 1.0, n).reshape((n,) + (1,) * len(shape))
    u = frac * upper  # (n, *shape)
    surv = 1.0 - np.asarray(staleness.cdf(u), dtype=float)
    e_min = np.trapezoid(surv, u, axis=0) if hasattr(np, "trapezoid") else np.trapz(surv, u, axis=0)
    mb = np.broadcast_to(m, shape)
    # m e^{-mu} integrated exactly against the survival taken linear between grid points (the
    # plain trapezoid overshoots once m * step is not small: 1.66 for a step of 3/m)
    e = np.exp(-mb * u)
    d_surv, mh = np.diff(surv, axis=0), mb * np.diff(u, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        g = np.where(mh > 1e-12, -np.expm1(-mh) / np.where(mh > 1e-12, mh, 1.0), 1.0)  # (1 - e^{-mh})/(mh)
    p_miss = np.sum(surv[:-1] * (e[:-1] - e[1:]) - d_surv * e[1:] + d_surv * e[:-1] * g, axis=0)
    blind = 1.0 - np.asarray(staleness.cdf(np.nextafter(xb, 0)), dtype=float)
    blind = np.broadcast_to(blind, shape)
    missed = np.broadcast_to(r, shape) * e_min
    with np.errstate(invalid="ignore", divide="ignore"):
        frac_missed = np.where(np.broadcast_to(r, shape) > 0, e_min / xb, 0.0)
    return MissedRecords(
        window_s=np.asarray(xb).copy(),
        ingest_rate_per_s=np.broadcast_to(r, shape).copy(),
        expected_missed=np.asarray(missed),
        expected_missed_fraction=np.asarray(frac_missed),
        p_window_blind=np.asarray(blind).copy(),
        match_rate_per_s=np.asarray(mb).copy(),
        p_miss_match=np.clip(np.asarray(p_miss), 0.0, 1.0),
    )


def monotonic_read_violation_probability(heads, refresh_period_s=120.0, gap_s=0.0, mode="random"):
    r"""Probability that a session's next query sees *older* metadata than its previous one.

    Head i starts refreshes at :math:`\phi_i + kR` (phases independent, uniform) and a query at
    time t sees the version fetched at its last finished refresh's start,
    :math:`S_i(t) = t - F - U_i(t)` with :math:`U_i \sim \mathcal U[0,R)` and F the (common)
    refresh duration.  Two queries g seconds apart routed to heads i, j: if i = j the version
    cannot go back; if i ≠ j, :math:`S_j(t+g) < S_i(t) \iff U_j - U_i > g`, and for iid uniforms
    :math:`P(U_j - U_i > g) = (R-g)^2 / (2R^2)` for :math:`0 \le g \le R` (0 beyond).  Random
    routing picks a different head w.p. :math:`1 - 1/H`:

    .. math::

        P_{\text{violation}} = \Bigl(1 - \frac1H\Bigr)\frac{(R - \min(g, R))^2}{2R^2}

    Under ``by_database`` and ``by_session`` a session's queries go to one head: 0.
    ``by_query`` pins identical texts, but a session's *different* query texts hash
    independently, so it is as random for them (*assumed*: consecutive texts differ).

    Parameters
    ----------
    heads : array_like of int
        Number of heads H >= 1.
    refresh_period_s : array_like
        Effective refresh period R (use ``WeakStaleness.effective_period_s`` when refreshes run
        back to back), > 0.
    gap_s : array_like
        Time between the two queries, >= 0.
    mode : {"random", "by_database", "by_query", "by_session"}

    Notes
    -----
    Assumes deterministic period and equal refresh duration on all heads (equal deltas), no
    head restarts.  The value is the average over the unknown, independent uniform phases; on
    one cluster with fixed phases the conditional probability differs (except for H = 2 and
    g = 0, where it is 1/4 whatever the phases).  Checked against an event simulation of
    refresh phases in the tests.

    References
    ----------
    Terry1994 (the monotonic-reads session guarantee), Leibowitz2023 and ADX-QueryConsistency
    (random routing across heads; affinity by database or session id keeps a session on one
    head) in docs/references.rst.

    Examples
    --------
    >>> monotonic_read_violation_probability([1, 2, 3], 120.0, 0.0).round(4)
    array([0.    , 0.25  , 0.3333])
    >>> float(monotonic_read_violation_probability(3, 120.0, 0.0, mode="by_database"))
    0.0
    """
    mode = check_choice("mode", mode, ROUTING_MODES)
    h = as_int_array("heads", heads, minimum=1)
    per = as_float_array("refresh_period_s", refresh_period_s, minimum=0.0, strict_minimum=True)
    g = as_float_array("gap_s", gap_s, minimum=0.0)
    base = (1.0 - 1.0 / h) * (per - np.minimum(g, per)) ** 2 / (2.0 * per**2)
    if mode in ("by_database", "by_session"):
        return np.zeros_like(base)
    return base


# --------------------------------------------------------------------------------------------
# 5. Metadata refresh cost
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RefreshCost(Result):
    """Storage load of metadata refreshes and the odds a download fails.

    References
    ----------
    Leibowitz2023 in docs/references.rst (heads download the metadata delta from persistent
    storage; the warning about databases with millions of extents).
    """

    heads: np.ndarray
    refresh_period_s: np.ndarray
    delta_bytes: np.ndarray
    storage_read_bytes_per_s: np.ndarray
    storage_reads_per_s: np.ndarray
    refresh_duration_s: np.ndarray
    p_refresh_fails: np.ndarray
    full_metadata_bytes: np.ndarray
    full_load_duration_s: np.ndarray
    p_full_load_fails: np.ndarray


def refresh_cost(
    heads,
    refresh_period_s=120.0,
    extents=1e5,
    extent_change_rate_per_s=1.0,
    bytes_per_extent=2048.0,
    base_duration_s=2.0,
    bandwidth_bytes_per_s=100e6,
    failure_rate_per_mb=1e-4,
) -> RefreshCost:
    r"""What H heads refreshing every R seconds cost persistent storage, and their failure odds.

    Each refresh downloads the delta since the head's previous version: the extents added or
    changed in one period, :math:`\Delta = c\,R\,b` bytes (c extent changes per second, b bytes
    of metadata per extent).  Then

    .. math::

        \text{read rate} = \frac{H\,\Delta}{R} = H c b,\qquad
        \text{refreshes/s} = \frac{H}{R},\qquad
        F = f_0 + \frac{\Delta}{B},\qquad
        P(\text{fail}) = 1 - e^{-\phi\,\Delta/10^6}

    with bandwidth B and transient failures arriving as a Poisson process with ``φ`` per MB
    downloaded.  A head that starts (or must reload after a failure) downloads the full
    metadata :math:`E\,b`: Leibowitz2023's "millions of extents" warning appears in
    ``full_load_duration_s`` and ``p_full_load_fails``.

    Parameters
    ----------
    heads : array_like of int
        H >= 1.
    refresh_period_s : array_like
        R, 30..1800 s.
    extents : array_like
        Extents in the database E, >= 0.
    extent_change_rate_per_s : array_like
        Extents created/dropped per second c (ingestion and merges), >= 0.
    bytes_per_extent : array_like
        Metadata bytes per extent b, > 0; *assumed* 2 KiB (not published).
    base_duration_s, bandwidth_bytes_per_s, failure_rate_per_mb : array_like
        f0 (*assumed* 2 s; Leibowitz2023: "usually up to a few seconds"), B (*assumed* 100 MB/s) and φ
        (*assumed* 1e-4 per MB).

    References
    ----------
    Leibowitz2023 (heads download the metadata delta from persistent storage; a refresh usually
    takes up to a few seconds; the warning about databases with millions of extents) and
    ADX-WeakConsistencyPolicy (RefreshPeriodInSeconds 30..1800) in docs/references.rst.

    Examples
    --------
    >>> c = refresh_cost(3, 120.0, extents=5e6, extent_change_rate_per_s=10.0, bytes_per_extent=2048.0)
    >>> float(c.storage_read_bytes_per_s), float(c.storage_reads_per_s)
    (61440.0, 0.025)
    >>> round(float(c.full_load_duration_s), 1), round(float(c.p_full_load_fails), 3)
    (104.4, 0.64)
    """
    h = as_int_array("heads", heads, minimum=1)
    per = as_float_array("refresh_period_s", refresh_period_s, minimum=30.0, maximum=1800.0)
    e = as_float_array("extents", extents, minimum=0.0)
    c = as_float_array("extent_change_rate_per_s", extent_change_rate_per_s, minimum=0.0)
    b = as_float_array("bytes_per_extent", bytes_per_extent, minimum=0.0, strict_minimum=True)
    f0 = as_float_array("base_duration_s", base_duration_s, minimum=0.0)
    bw = as_float_array("bandwidth_bytes_per_s", bandwidth_bytes_per_s, minimum=0.0, strict_minimum=True)
    phi = as_float_array("failure_rate_per_mb", failure_rate_per_mb, minimum=0.0)
    delta = c * per * b
    full = e * b
    # every input reaches at least one field, so the fields' common shape is the inputs'
    fields = dict(
        heads=h,
        refresh_period_s=per,
        delta_bytes=delta,
        storage_read_bytes_per_s=h * delta / per,
        storage_reads_per_s=h / per,
        refresh_duration_s=f0 + delta / bw,
        p_refresh_fails=-np.expm1(-phi * delta / 1e6),
        full_metadata_bytes=full,
        full_load_duration_s=f0 + full / bw,
        p_full_load_fails=-np.expm1(-phi * full / 1e6),
    )
    return RefreshCost(**dict(zip(fields, broadcast_all(*fields.values()))))
