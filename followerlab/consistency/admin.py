"""Admin-node load: strong vs weak consistency on the database admin node and the query heads.

Under strong consistency every query's planning and finalization, and every control command,
runs on the single database admin node; weak queries are planned on the query heads.
:func:`admin_node_load` gives each station's utilization and response-time mean, p50 and p99
(exact M/G/1 of the two-class mixture service on one core, the G/G/c approximation of
:func:`followerlab.queueing.ggc` on several).

Sources: Leibowitz2023 in docs/references.rst (what runs where); the queue formulas are those
of :mod:`followerlab.queueing` and :mod:`followerlab._mg1`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import queueing
from .. import _tabulate
from .._results import Result
from .._validate import as_float_array, as_int_array, broadcast_all, check_finite_result, check_probability, check_shapes
from ..queueing import MAX_CV

__all__ = ["AdminLoad", "admin_node_load"]

#: Lattice points of the exact M/G/1 quantiles in :func:`admin_node_load` (quantile error
#: below 3e-6 relative against the exact M/M/1 and M/D/1 laws at this size; 4x cheaper than
#: the default 2**14).
_MG1_POINTS = 2**12


def _mixture_service(rate_a, mean_a, cv_a, rate_b, mean_b, cv_b):
    """Mean and CV of the service time of a merged stream (class a w.p. ∝ rate_a)."""
    total = rate_a + rate_b
    with np.errstate(invalid="ignore", divide="ignore"):
        pa = np.where(total > 0, rate_a / np.where(total > 0, total, 1.0), 1.0)
    pb = 1.0 - pa
    mean = pa * mean_a + pb * mean_b
    second = pa * mean_a**2 * (1 + cv_a**2) + pb * mean_b**2 * (1 + cv_b**2)
    with np.errstate(invalid="ignore", divide="ignore"):
        cv2 = np.where(mean > 0, second / np.where(mean > 0, mean, 1.0) ** 2 - 1.0, 0.0)
    return mean, np.sqrt(np.maximum(cv2, 0.0))


@dataclass(frozen=True)
class AdminLoad(Result):
    """Load on the database admin node and on the query heads (even split) for one workload.

    All fields broadcast to the shape of the inputs.  Times are seconds at the station
    (queueing + service); ``inf`` when the station is saturated.

    ``admin_quantiles_exact`` / ``head_quantiles_exact`` say, per configuration, how the
    p50/p99 fields were obtained: True — the exact M/G/1 law of the actual (mixture) service
    (one core; see :func:`admin_node_load` for the methods and their errors); False — the G/G/c
    approximation of :func:`followerlab.queueing.ggc` (more than one core), see
    :func:`admin_node_load` for its measured error.

    ``admin_method`` / ``head_method`` and ``admin_max_rel_error`` / ``head_max_rel_error``
    say it in the vocabulary of :class:`followerlab.queueing.QueueMetrics`:
    ``"exact: tabulated"`` (the exact one-core law interpolated from a table,
    :mod:`followerlab._tabulate`; ``max_rel_error`` is the interpolation error measured over
    the table's domain, below 3e-6), ``"exact: transform inversion"`` (the Talbot inversion of
    :mod:`followerlab._talbot`, error at most 1e-8, where every class has CV of at least 0.4;
    the Euler inversion of :mod:`followerlab._euler`, error at most 3e-7, where every class has
    CV of at least 0.05), ``"exact"`` (the Beneš lattice of :mod:`followerlab._mg1` where a
    service class has CV below 0.05 and the table does not serve it, Erlang's M/D/1 law for one
    constant service there; ``max_rel_error`` is its
    error estimate, the change from half the lattice points; or a closed form, error 0) or
    ggc's method with its measured bound.

    References
    ----------
    Leibowitz2023 (what runs on the admin node and on the heads), Kleinrock1975 (M/M/c, Erlang
    C, Pollaczek–Khinchine), Benes1957 and AbateWhitt1992 (the exact M/G/1 waiting-time law on a
    lattice), AbateValko2004 and AbateWhitt1995 (the Talbot and Euler inversions), Allen1990
    (the Allen–Cunneen G/G/c approximation) in docs/references.rst.
    """

    query_rate_per_s: np.ndarray
    weak_fraction: np.ndarray
    heads: np.ndarray
    admin_arrival_rate_per_s: np.ndarray
    admin_utilization: np.ndarray
    admin_stable: np.ndarray
    admin_mean_response_s: np.ndarray
    admin_p50_response_s: np.ndarray
    admin_p99_response_s: np.ndarray
    saturation_query_rate_per_s: np.ndarray
    head_arrival_rate_per_s: np.ndarray
    head_utilization: np.ndarray
    head_stable: np.ndarray
    head_mean_response_s: np.ndarray
    head_p50_response_s: np.ndarray
    head_p99_response_s: np.ndarray
    admin_quantiles_exact: np.ndarray
    head_quantiles_exact: np.ndarray
    admin_method: np.ndarray = None  # type: ignore[assignment]
    admin_max_rel_error: np.ndarray = None  # type: ignore[assignment]
    head_method: np.ndarray = None  # type: ignore[assignment]
    head_max_rel_error: np.ndarray = None  # type: ignore[assignment]


def admin_node_load(
    query_rate_per_s,
    weak_fraction=0.0,
    planning_s=0.05,
    planning_cv=1.0,
    control_rate_per_s=0.0,
    control_s=0.2,
    control_cv=1.0,
    admin_cores=1,
    heads=3,
    head_cores=None,
) -> AdminLoad:
    r"""Strong vs weak: utilization, mean and p99 time at the admin node, and on the heads.

    The admin node receives the strong queries (planning + finalization, mean
    :math:`s_q`, CV :math:`c_q`) and *all* control commands (mean :math:`s_c`, CV :math:`c_c`):

    .. math::

        \lambda_A = (1-w)\lambda + \lambda_c,\qquad
        \rho_A = \frac{(1-w)\lambda s_q + \lambda_c s_c}{k_A},\qquad
        \lambda^{*} = \frac{k_A - \lambda_c s_c}{(1-w) s_q}

    (:math:`\lambda^*` the query rate at which it saturates; ``inf`` for ``w = 1``, 0 when the
    control commands alone saturate it).  Its service time is the two-class mixture: planning
    (gamma, mean :math:`s_q`, CV :math:`c_q`) with probability :math:`p = (1-w)\lambda/\lambda_A`,
    a control command (gamma, :math:`s_c`, :math:`c_c`) otherwise; CV 0 is a constant.  Mean
    :math:`\bar s = \sum p_i s_i`, :math:`E[S^2] = \sum p_i s_i^2 (1 + c_i^2)`.

    How the numbers are obtained, per configuration:

    * **one admin core** (``admin_cores == 1``): an M/G/1 queue.  The mean is
      Pollaczek–Khinchine (exact); p50 and p99 of the response time come from the *exact*
      waiting-time law of that mixture service (Pollaczek–Khinchine transform).  Where the
      service is one gamma law (no control commands, or only they) the law is read from a table
      (:func:`followerlab._tabulate.mg1_gamma_response_quantiles`: CV 0–5, ρ ≤ 0.995,
      interpolation error below 3e-6, reported in ``admin_max_rel_error``; below CV 0.4 the
      cells on the M/D/1-like kinks of a nearly constant service are left to the lattice);
      elsewhere, when every class present has CV ≥ 0.4, the transform is inverted numerically
      (:mod:`followerlab._talbot`, fixed Talbot rule, error ≤ 1e-8 measured against M/M/1 and
      the rule's own convergence; about 0.1 ms per distinct configuration); when every class
      has CV ≥ 0.05 but one is below 0.4, by the Euler algorithm on the Bromwich line
      (:mod:`followerlab._euler`, error ≤ 3e-7 measured against the lattice, the Talbot rule
      and M/M/1; about 0.4 ms; it was the lattice, a few ms); with a nearly constant class
      (CV < 0.05, a constant one included, not served by the table) the Beneš lattice of
      :func:`followerlab._mg1.mg1_gamma_mixture` is used, with more points near saturation,
      and ``admin_max_rel_error`` carries its error estimate (the change from half the points:
      about 1e-6 to 1e-4 typically, up to 2e-2 for a nearly constant class mixed with a CV-3
      class).  ``admin_method`` says which, per configuration; each distinct configuration is
      solved once.  When the service is
      exponential (every class present has CV 1 and the same mean) the queue is M/M/1 and the
      closed form of :func:`followerlab.queueing.ggc` is used.  ``admin_quantiles_exact`` is True.
      (Before issue 13 the one-core law came from the lattice at a fixed 2**12 points for every
      mixture: off by up to 2.7 % on p50 with a high-CV class and 18 % on p99 near saturation,
      while ``admin_max_rel_error`` said 0.  Before that, the mixture was replaced by one gamma
      with the mixture's CV and an exponential conditional wait: with rare long control
      commands p50 came out up to ~4x too high and p99 ~30 % too low.)
    * **several admin cores**: a G/G/c station with Poisson arrivals and the mixture's mean and
      CV (:func:`followerlab.queueing.ggc`: Allen–Cunneen mean wait, Erlang C probability of
      waiting, exponential conditional wait; exact Erlang C when the service CV is 1).  This is
      an *approximation*: it keeps only two moments of the mixture, so with rare long control
      commands it errs the way the one-core path used to.  Measured against
      :mod:`followerlab.sim.queue` (``benchmarks/accuracy_mg1.py``) for 2 cores, 98 % planning
      50 ms (CV 1) + 2 % control commands 1 s (CV 0.5), ρ 0.3–0.9: mean response off by up to
      10 %, p50 by up to 69 %, p99 by up to 19 % (simulation standard error ≤ 3 %).  With
      exponential service (CV 1, no control commands) it is exact (M/M/c, Erlang C).
      ``admin_quantiles_exact`` is False.

    The weak share :math:`w\lambda` is split evenly over the ``heads`` (random routing; see
    :func:`routing_load` for the affinitized modes); a head with one core is an exact M/G/1
    with gamma(planning_s, planning_cv) service (``head_quantiles_exact``), with several the
    G/G/c approximation above.

    Parameters
    ----------
    query_rate_per_s : array_like
        Query rate λ, >= 0.
    weak_fraction : array_like, default 0
        Fraction w of queries sent with weak consistency, 0..1.
    planning_s, planning_cv : array_like
        Planning + finalization time per query (mean, > 0; CV, >= 0).  *Assumed* defaults
        (50 ms, CV 1): no published figure.
    control_rate_per_s, control_s, control_cv : array_like
        Control commands (ingestion commits, schema changes): always on the admin node.
        *Assumed* defaults (0 /s, 200 ms, CV 1).
    admin_cores : array_like of int, default 1
        Parallel planning slots on the admin node (servers c of the queue; *assumed*).
    heads : array_like of int, default 3
        Query heads (:func:`query_head_count`).
    head_cores : array_like of int, optional
        Planning slots per head; defaults to ``admin_cores``.

    Returns
    -------
    AdminLoad

    Notes
    -----
    Assumptions: Poisson arrivals; a weak query puts no work on the admin node; planning costs
    the same on a head as on the admin node; query execution on data nodes is not modelled.
    Source: Leibowitz2023 (what runs where); service times and cores are *assumed*.

    References
    ----------
    Leibowitz2023 (strong queries and control commands on the admin node, weak queries on the
    heads), Kleinrock1975 (ch. 3 M/M/c and Erlang C, ch. 5 Pollaczek–Khinchine), Benes1957 and
    AbateWhitt1992 (the exact M/G/1 waiting-time law of :mod:`followerlab._mg1`), Allen1990 (the
    Allen–Cunneen G/G/c approximation of :func:`followerlab.queueing.ggc`) in
    docs/references.rst.

    Examples
    --------
    >>> r = admin_node_load([10.0, 10.0], weak_fraction=[0.0, 0.8], planning_s=0.05)
    >>> r.admin_utilization                      # 10/s x 50 ms on one core; 80% moved off
    array([0.5, 0.1])
    >>> r.head_utilization.round(4)              # 8/s over 3 heads x 50 ms
    array([0.    , 0.1333])
    """
    lam = as_float_array("query_rate_per_s", query_rate_per_s, minimum=0.0)
    w = check_probability("weak_fraction", weak_fraction)
    sq = as_float_array("planning_s", planning_s, minimum=0.0, strict_minimum=True)
    cq = as_float_array("planning_cv", planning_cv, minimum=0.0, maximum=MAX_CV)
    lc = as_float_array("control_rate_per_s", control_rate_per_s, minimum=0.0)
    sc = as_float_array("control_s", control_s, minimum=0.0, strict_minimum=True)
    cc = as_float_array("control_cv", control_cv, minimum=0.0, maximum=MAX_CV)
    ka = as_int_array("admin_cores", admin_cores, minimum=1)
    h = as_int_array("heads", heads, minimum=1)
    kh = ka if head_cores is None else as_int_array("head_cores", head_cores, minimum=1)
    check_shapes(query_rate_per_s=lam, weak_fraction=w, planning_s=sq, planning_cv=cq, control_rate_per_s=lc,
                 control_s=sc, control_cv=cc, admin_cores=ka, heads=h, head_cores=kh)

    strong_rate = (1.0 - w) * lam
    admin_rate = strong_rate + lc
    mean_s, cv = _mixture_service(strong_rate, sq, cq, lc, sc, cc)
    check_finite_result(cv, "the admin node's service-time cv", planning_s=sq, planning_cv=cq, control_s=sc,
                        control_cv=cc)
    admin = queueing.ggc(admin_rate, 1.0 / mean_s, ka, 1.0, cv)
    with np.errstate(divide="ignore", invalid="ignore"):
        sat = np.where((1.0 - w) > 0, np.maximum(ka - lc * sc, 0.0) / ((1.0 - w) * sq), np.inf)
    head_rate = w * lam / h
    head = queueing.ggc(head_rate, 1.0 / sq, kh, 1.0, cq)
    # the queues are solved on their own (smaller) shapes; from here on every array has the
    # result's shape (the common shape of the inputs)
    (lam, w, h, sq, cq, lc, sc, cc, ka, kh, strong_rate, admin_rate, head_rate, sat,
     admin_util, admin_stable, admin_mean, head_util, head_stable, head_mean) = broadcast_all(
        lam, w, h, sq, cq, lc, sc, cc, ka, kh, strong_rate, admin_rate, head_rate, sat,
        admin.utilization, admin.stable, admin.mean_response_s, head.utilization, head.stable,
        head.mean_response_s)
    shape = lam.shape

    # one core: the exact M/G/1 law of the actual service (mixture for the admin node)
    admin_exact = np.asarray(ka == 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        pa = np.where(admin_rate > 0, strong_rate / np.where(admin_rate > 0, admin_rate, 1.0), 1.0)
    # an exponential service (every class present has CV 1 and the same mean) is M/M/1, which
    # queueing.ggc already solves exactly (response ~ Exp(mu - lambda)): no lattice needed
    expo = (((pa <= 0) | (cq == 1)) & ((pa >= 1) | (cc == 1))
            & ((pa <= 0) | (pa >= 1) | (sq == sc)))
    one = admin_exact & admin_stable & ~expo
    # the generic quantiles only where the mixture's own law does not replace them (they cost a
    # lattice per configuration too when ggc's law for one core is itself M/G/1)
    if one.all():
        admin_p50, admin_p99 = np.empty(shape), np.empty(shape)
    elif (ka == 1).all():  # issue 13: only the M/M/1 and saturated elements need ggc's law
        admin_p50, admin_p99 = np.empty(shape), np.empty(shape)
        sub = queueing.ggc(admin_rate[~one], 1.0 / np.broadcast_to(mean_s, shape)[~one], 1, 1.0,
                           np.broadcast_to(cv, shape)[~one])
        admin_p50[~one], admin_p99[~one] = sub.response_quantile(0.5), sub.response_quantile(0.99)
    else:
        admin_p50, admin_p99 = (np.broadcast_to(admin.response_quantile(q), shape).copy() for q in (0.5, 0.99))
    admin_method, admin_err = np.broadcast_to(admin.method, shape).astype(object), np.broadcast_to(admin.max_rel_error, shape).copy()
    if one.any():  # fast path (issue 13): gamma table where the service is one gamma law, dedup otherwise
        admin_p50[one], admin_p99[one], admin_method[one], admin_err[one] = _tabulate.admin_response_quantiles(
            admin_rate[one], pa[one], sq[one], cq[one], sc[one], cc[one], points=_MG1_POINTS)
    head_exact = np.asarray(kh == 1)
    one = head_exact & head_stable & (cq != 1)
    if one.all():
        head_p50, head_p99 = np.empty(shape), np.empty(shape)
    elif (kh == 1).all():  # issue 13: only the M/M/1 and saturated elements need ggc's law
        head_p50, head_p99 = np.empty(shape), np.empty(shape)
        sub = queueing.ggc(head_rate[~one], 1.0 / sq[~one], 1, 1.0, cq[~one])
        head_p50[~one], head_p99[~one] = sub.response_quantile(0.5), sub.response_quantile(0.99)
    else:
        head_p50, head_p99 = (np.broadcast_to(head.response_quantile(q), shape).copy() for q in (0.5, 0.99))
    head_method, head_err = np.broadcast_to(head.method, shape).astype(object), np.broadcast_to(head.max_rel_error, shape).copy()
    if one.any():  # fast path (issue 13): the tabulated exact M/G/1 gamma law
        (head_p50[one], head_p99[one]), head_method[one], head_err[one] = _tabulate.mg1_gamma_response_quantiles(
            head_rate[one], sq[one], cq[one], points=_MG1_POINTS)

    return AdminLoad(
        query_rate_per_s=lam,
        weak_fraction=w,
        heads=h,
        admin_arrival_rate_per_s=admin_rate,
        admin_utilization=admin_util,
        admin_stable=admin_stable,
        admin_mean_response_s=admin_mean,
        admin_p50_response_s=admin_p50,
        admin_p99_response_s=admin_p99,
        saturation_query_rate_per_s=sat,
        head_arrival_rate_per_s=head_rate,
        head_utilization=head_util,
        head_stable=head_stable,
        head_mean_response_s=head_mean,
        head_p50_response_s=head_p50,
        head_p99_response_s=head_p99,
        admin_quantiles_exact=admin_exact,
        head_quantiles_exact=head_exact,
        admin_method=admin_method.astype(str), admin_max_rel_error=admin_err,
        head_method=head_method.astype(str), head_max_rel_error=head_err,
    )
