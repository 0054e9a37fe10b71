"""Calibrate :func:`followerlab.raft.write_load` on a measured latency-throughput curve.

The model of a put to the leader at offered rate λ (open loop, Poisson arrivals):

.. math::

    T(\\lambda) = c_0 + \\text{net} + S + U(\\lambda;\\, b, S), \\qquad
    S = a + (n - 1)\\,f + b\\,p

with ``net`` the network part of the layout (:func:`followerlab.validation.predict.network_ms`,
``put_leader``), :math:`c_0` a constant local offset (client, gateway, apply), and the leader's
queue: ``model="greedy"`` (default) is :func:`~followerlab.raft.greedy_write_load`, every
waiting proposal in the next append, of time :math:`a + (n-1)f + kp` for ``k`` proposals
(what etcd does; fitted: :math:`c_0, a, p`); ``model="fixed"`` is the bulk queue of
:func:`~followerlab.raft.write_load` (batches of ``b`` that wait to fill, service ``S``).
:func:`fit_write_load` finds :math:`(c_0, a, f)` by least squares on the log ratio of predicted
to measured p50 and p99 at the rates the system kept up with, plus the log ratio of the
predicted saturation throughput :math:`b/S` to the measured one, for each candidate batch size
``b`` (an integer grid), and keeps the best ``b``.  With curves of one cluster size only, ``f``
cannot be told from ``a`` (both enter through ``S``): it is then held at the value given
(default 0) and ``a`` absorbs it; ``p`` is always held at the value given.

References
----------
Bailey1954 (bulk-service queue) in docs/references.rst, through :func:`followerlab.raft.write_load`.

>>> from followerlab import raft
>>> rates = np.array([100.0, 300.0, 500.0, 700.0])
>>> w = raft.write_load(rates, 3, 10.0 + 1.0, per_append_ms=1.0, per_follower_ms=0.1, per_proposal_ms=0.0)
>>> curve = pd.DataFrame({"n": 3, "offered": rates, "network_ms": 10.0, "p50_ms": w.p50_ms,
...                       "p99_ms": w.p99_ms, "saturated": False})
>>> fit = fit_write_load(curve, model="fixed", batches=(1, 2), per_follower_ms=0.1)
>>> fit.batch, round(fit.per_append_ms, 3), round(fit.offset_ms, 3)
(1, 1.0, 1.0)
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import pandas as pd

from .. import raft
from ..raft.greedy import _max_solvable_rate_per_s
from .._tabulate import solve_unique
from .._validate import as_float_array, as_int_array, check_choice
from .predict import network_ms

#: :meth:`WriteLoadFit.closed_loop_throughput` solves the queue up to this share of saturation
#: (greedy_write_load's batch chain grows like 1/(1 - λp); beyond, it refuses rather than clamps).
_CLOSED_LOOP_MAX_RHO = 0.98

__all__ = ["WriteLoadFit", "fit_write_load", "median_of_repeats", "curve_table", "predict_curve", "closed_curve_table", "predict_closed_curve",
           "measured_p99_doubling_rate"]


@dataclass(frozen=True)
class WriteLoadFit:
    """Fitted service-time parameters of :func:`followerlab.raft.write_load` and the offset.

    Attributes
    ----------
    batch : int
        ``b`` of a ``fixed`` fit; 0 for ``greedy`` (every waiting proposal).
    per_append_ms, per_follower_ms, per_proposal_ms : float
        ``a``, ``f``, ``p`` (``f`` and ``p`` as given when not fitted, see ``fitted``).
    offset_ms : float
        :math:`c_0`, the constant local part added to the layout's network commit.
    cost : float
        Sum of squared log ratios at the optimum; ``rows`` the latency rows used.
    fitted : tuple of str
        Which parameters were fitted.
    model : str
        ``"fixed"`` (:func:`followerlab.raft.write_load`) or ``"greedy"``
        (:func:`followerlab.raft.greedy_write_load`).
    per_follower_proposal_ms : float
        ``g``, the part of the per-proposal time that grows with the followers: a proposal
        costs :math:`p(n) = p + (n - 1) g` (every member handles every entry; on one shared
        machine that is CPU the leader competes for), so the greedy queue saturates at
        :math:`1/p(n)`.  Fitted with ``fit_write_load(..., per_follower_proposal_ms=None)``
        from two or more cluster sizes, else 0.
    stall_ms, stall_probability, stall_probability_per_kps : float
        ``greedy`` only: every append independently takes ``stall_ms`` longer with probability
        :math:`q(\\lambda) = q_0 + q_1 \\lambda / 1000` at write rate λ (/s), ``stall_probability``
        :math:`q_0` and ``stall_probability_per_kps`` :math:`q_1` (fitted with
        ``fit_write_load(..., stalls="constant")`` (:math:`q_1 = 0`) or ``stalls="rate"``, else 0).
    """

    batch: int
    per_append_ms: float
    per_follower_ms: float
    per_proposal_ms: float
    offset_ms: float
    cost: float
    rows: int
    fitted: tuple = ()
    model: str = "fixed"
    stall_ms: float = 0.0
    stall_probability: float = 0.0
    stall_probability_per_kps: float = 0.0
    per_follower_proposal_ms: float = 0.0

    def proposal_ms(self, n) -> np.ndarray:
        """The per-proposal time :math:`p(n) = p + (n - 1) g` (ms) for ``n`` voters."""
        n = as_int_array("n", n, minimum=1)
        return self.per_proposal_ms + (n - 1) * self.per_follower_proposal_ms

    def stall_probability_at(self, rate_per_s) -> np.ndarray:
        """The probability that an append stalls at these write rates (/s):
        ``stall_probability + stall_probability_per_kps * rate / 1000``."""
        lam = as_float_array("rate_per_s", rate_per_s, minimum=0.0)
        return self.stall_probability + self.stall_probability_per_kps * lam / 1000.0

    def _solvable_rate_per_s(self, n) -> np.ndarray:
        """Where the greedy batch chain fits in ``GREEDY_MAX_STATES`` (with the stall
        probability at the saturation rate, the largest it reaches below it)."""
        q = np.minimum(1.0, self.stall_probability_at(np.minimum(self.saturation_per_s(n), 1e12)))
        return _max_solvable_rate_per_s(self.per_append_ms + (n - 1) * self.per_follower_ms, self.proposal_ms(n),
                                        self.stall_ms, q)

    def service_ms(self, n) -> np.ndarray:
        """The append time :math:`S` for ``n`` voters (ms): of a full batch (``fixed``), of a
        batch of one (``greedy``)."""
        n = as_int_array("n", n, minimum=1)
        k = 1 if self.model == "greedy" else self.batch
        return self.per_append_ms + (n - 1) * self.per_follower_ms + k * self.proposal_ms(n)

    def saturation_per_s(self, n) -> np.ndarray:
        """Predicted saturation throughput (writes/s): :math:`b/S` (``fixed``), :math:`1/p(n)`
        (``greedy``; ``inf`` if p(n) = 0)."""
        if self.model == "greedy":
            pn = np.asarray(self.proposal_ms(n), float)
            with np.errstate(divide="ignore"):
                return np.where(pn > 0, 1000.0 / np.where(pn > 0, pn, 1.0), np.inf)
        return 1000.0 * self.batch / self.service_ms(n)

    def write_load(self, rate_per_s, n, network_ms):
        """The fitted queue at these parameters (commit = network + offset):
        :func:`followerlab.raft.greedy_write_load` or :func:`followerlab.raft.write_load`."""
        commit = np.asarray(network_ms, float) + self.offset_ms
        pn = self.proposal_ms(n) if self.per_follower_proposal_ms else self.per_proposal_ms
        if self.model == "greedy":
            return raft.greedy_write_load(rate_per_s, n, commit, per_append_ms=self.per_append_ms,
                                          per_follower_ms=self.per_follower_ms, per_proposal_ms=pn,
                                          stall_ms=self.stall_ms, stall_probability=self.stall_probability_at(rate_per_s))
        return raft.write_load(rate_per_s, n, commit, batch=self.batch, per_append_ms=self.per_append_ms,
                               per_follower_ms=self.per_follower_ms, per_proposal_ms=pn)

    def closed_loop_throughput(self, clients, n, network_ms, *, iterations: int = 100,
                               unsolvable: str = "raise") -> np.ndarray:
        r"""Throughput (/s) of ``clients`` back-to-back clients (no think time) through the fitted
        queue: the :math:`X` with :math:`X\,\bar T(X) = N` (Little's law; :math:`\bar T` the
        model's mean latency at rate :math:`X`, ``mean_ms``), bracketed on
        :math:`(0, \min(N/\bar T(0^+), 0.98\,\lambda^*))` solved by regula falsi (Illinois) to
        :math:`10^{-12}` relative
        (a ``ValueError`` names the clients whose root lies above 98 % of saturation, or above
        the rate where the greedy batch chain would need more than ``GREEDY_MAX_STATES`` states
        — 97.9–99.5 % of saturation for append parts of 0.5–3.4 ms with per-proposal times of
        0.05–0.3 ms (``raft.greedy._max_solvable_rate_per_s``) —;
        ``unsolvable="nan"`` gives NaN for them instead: their throughput lies between that cap
        and the saturation rate — and, for the ``fixed`` queue, those too few to fill its batches).

        *Approximate*: the queue assumes Poisson arrivals, a closed loop sends a new request
        when one returns (smoother arrivals, and at most N in the system), so the model's
        waits are an upper bound there and the throughput a lower bound.  Measured: one client
        (which never queues; exactly :math:`1/\bar T(0^+)`) comes out 18 % low when the append
        is 2.9 ms of a 3.9 ms cycle (``tests/test_validation_loadfit.py``), within 6 % on the
        saved etcd layouts (cycles of 12–52 ms); against etcd at 1–64 clients the throughput is
        within 15 % on all 20 points of the 4-s run 2026-12-02T1615Z and on 19 of 20 of the 12-s
        run 2026-12-02T2309Z (load-sym-3 at 64 clients: 30 % above the prediction).  The
        arrival-theorem variant (rate :math:`X(N-1)/N`, exact at one client; ReiserLavenberg1980)
        was tried on that run and matched fewer points' p99 (12 of 20 against 16): etcd's p99 at
        one client carries jitter that a queue without load has not.  The same fixed point is the most an open-loop driver
        with N workers can complete: beyond it every worker is busy (its limit in
        :func:`predict_curve`).  Vectorized over ``clients``, ``n`` and ``network_ms``.

        >>> f = WriteLoadFit(0, 1.0, 0.0, 0.0, 0.0, 0.0, 0, model="greedy")
        >>> x = f.closed_loop_throughput(1, 3, 9.0)     # one client; exactly 1 / (9 + 1 ms) = 100/s
        >>> round(float(x), 1)                            # the Poisson queue still charges a wait
        99.5
        """
        N = as_float_array("clients", clients, minimum=0.0, strict_minimum=True)
        n = as_int_array("n", n, minimum=1)
        net = as_float_array("network_ms", network_ms, minimum=0.0)
        unsolvable = check_choice("unsolvable", unsolvable, ("raise", "nan"))
        N, n, net = np.broadcast_arrays(N, n, net)
        shape = N.shape
        N, n, net = N.ravel().astype(float), n.ravel(), net.ravel().astype(float)
        sat = np.broadcast_to(self.saturation_per_s(n), N.shape).astype(float)
        cap = _CLOSED_LOOP_MAX_RHO * sat            # the queue is solved up to here (inf when p = 0)
        if self.model == "greedy":
            # ... and where its batch chain fits in GREEDY_MAX_STATES (long appends, small p)
            cap = np.minimum(cap, 0.999 * self._solvable_rate_per_s(n))
            # X T(X) >= X T(0+): the root is below N / T(0+)
            hi = np.minimum(1000.0 * N / self.write_load(np.full(N.shape, 1e-9), n, net).mean_ms, cap)
        else:
            hi = cap.copy()

        def excess(x, i=slice(None)):
            """x T(x) - N for the configurations ``i``."""
            return x * self.write_load(x, n[i], net[i]).mean_ms / 1000.0 - N[i]

        f_hi = excess(hi)
        short = f_hi < 0
        if short.any() and unsolvable == "raise":
            i = int(np.flatnonzero(short)[0])
            raise ValueError(f"clients={N[i]:g} (n={int(n[i])}, network_ms={net[i]:g}): their throughput is above "
                             f"{cap[i]:.6g}/s ({cap[i] / sat[i]:.1%} of the queue's saturation rate {sat[i]:.6g}/s), "
                             "where its latency is not solved; it lies between the two")
        lo = np.zeros_like(hi)
        if self.model == "fixed":      # a batch of b that waits to fill: X T(X) > (b - 1) / 2 for every X
            stuck = N <= (self.batch - 1) / 2.0
            short |= stuck
            if stuck.any() and unsolvable == "raise":
                raise ValueError(f"clients={N[np.flatnonzero(stuck)[0]]:g}: with batches of {self.batch} that wait to "
                                 "fill, so few clients leave batches unfilled (the fixed queue has no closed-loop "
                                 "steady state); use more clients or the greedy model")
        # Illinois regula falsi on the increasing excess(x) = x T(x) - N, vectorized: a few
        # evaluations (each solves the queue) instead of bisection's ~50
        f_lo = -N.copy()
        x = hi.copy()
        side = np.zeros(N.shape, dtype=int)         # which end was kept last (Illinois halving)
        active = ~short
        x[short] = np.nan
        for _ in range(int(as_int_array("iterations", iterations, minimum=1, maximum=200))):
            if not active.any():
                break
            a = np.flatnonzero(active)
            with np.errstate(divide="ignore", invalid="ignore"):
                xs = hi[a] - f_hi[a] * (hi[a] - lo[a]) / (f_hi[a] - f_lo[a])
            bad = ~np.isfinite(xs) | (xs <= lo[a]) | (xs >= hi[a])
            xs = np.where(bad, 0.5 * (lo[a] + hi[a]), xs)
            fx = excess(xs, a)
            over = fx > 0                           # xs becomes hi (lo kept), else lo (hi kept)
            # halve the stale end's value when the same end is kept twice (Illinois)
            f_lo[a] = np.where(over & (side[a] == -1), 0.5 * f_lo[a], f_lo[a])
            f_hi[a] = np.where(~over & (side[a] == 1), 0.5 * f_hi[a], f_hi[a])
            hi[a] = np.where(over, xs, hi[a])
            f_hi[a] = np.where(over, fx, f_hi[a])
            lo[a] = np.where(over, lo[a], xs)
            f_lo[a] = np.where(over, f_lo[a], fx)
            side[a] = np.where(over, -1, 1)
            x[a] = xs
            done = (np.abs(fx) <= 1e-12 * N[a]) | (hi[a] - lo[a] <= 1e-12 * hi[a])
            active[a[done]] = False
        return x.reshape(shape)

    def p99_doubling_rate(self, n: int, network_ms: float, *, points: int = 200) -> float:
        """The write rate (/s) at which the predicted p99 reaches twice its light-load value.

        Light load is 1 % of the saturation rate; the rate is interpolated on a grid of
        ``points`` rates up to 99.9 % of it (``fixed``) or of at most 60 rates up to 97 %
        (``greedy``), NaN if p99 never
        doubles there (possible for large fixed batches, whose fill wait makes light-load p99
        high, and for a greedy fit with p = 0, which never saturates).  Answers the capacity planner's question
        "at what rate does p99 double?" for a layout.

        >>> f = WriteLoadFit(1, 1.0, 0.0, 0.0, 0.0, 0.0, 0)
        >>> r = f.p99_doubling_rate(3, 10.0)
        >>> bool(abs(f.write_load(r, 3, 10.0).p99_ms / f.write_load(10.0, 3, 10.0).p99_ms - 2) < 0.02)
        True
        """
        sat = float(self.saturation_per_s(n))
        points = int(as_int_array("points", points, minimum=10, maximum=10**4))
        if not np.isfinite(sat):        # greedy with p = 0: latency stays below 2 S + commit
            return float("nan")
        if self.model == "greedy":   # one linear solve per rate (its chain grows like 1/(1 - lambda p))
            top = min(0.97 * sat, 0.999 * float(self._solvable_rate_per_s(n)))
            rates = np.linspace(0.01 * sat, top, min(points, 60))
        else:
            rates = sat * np.linspace(0.01, 0.999, points)
        p99 = self.write_load(rates, n, network_ms).p99_ms
        above = np.flatnonzero(p99 >= 2.0 * p99[0])
        if above.size == 0:
            return float("nan")
        i = int(above[0])
        return float(np.interp(2.0 * p99[0], p99[i - 1:i + 1], rates[i - 1:i + 1]))

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"model": self.model, "batch": self.batch, "per_append_ms": self.per_append_ms,
                              "per_follower_ms": self.per_follower_ms, "per_proposal_ms": self.per_proposal_ms,
                              "per_follower_proposal_ms": self.per_follower_proposal_ms, "offset_ms": self.offset_ms, "stall_ms": self.stall_ms,
                              "stall_probability": self.stall_probability,
                              "stall_probability_per_kps": self.stall_probability_per_kps,
                              "service_ms_n3": float(self.service_ms(3)),
                              "saturation_per_s_n3": float(self.saturation_per_s(3)), "cost": self.cost,
                              "rows": self.rows, "fitted": ",".join(self.fitted)}])


def median_of_repeats(summary: pd.DataFrame) -> pd.DataFrame:
    """One row per load point of a repeated run: the medians of its repeats (column ``rep``).

    Points are keyed by whichever of ``layout``, ``mode``, ``op``, ``n``, ``workers`` and
    ``offered`` the summary has; the medians are taken of ``throughput_per_s``,
    ``arrival_rate_per_s``, ``p50_ms`` and ``p99_ms`` (those present), and ``repeats`` counts
    the rows behind each point.  Rows keep their first appearance's order.  (With two repeats
    the median is their mean, so one disturbed repeat moves it: the saved repeated runs have
    three.)

    >>> s = pd.DataFrame({"rep": [0, 1, 2, 0, 1, 2], "layout": "a", "offered": [1.0] * 3 + [2.0] * 3,
    ...                   "p50_ms": [5.0, 9.0, 6.0, 7.0, 7.5, 30.0]})
    >>> median_of_repeats(s)[["offered", "p50_ms", "repeats"]].values.tolist()
    [[1.0, 6.0, 3.0], [2.0, 7.5, 3.0]]
    """
    keys = [k for k in ("layout", "mode", "op", "n", "workers", "offered") if k in summary.columns]
    num = [k for k in ("throughput_per_s", "arrival_rate_per_s", "p50_ms", "p99_ms") if k in summary.columns]
    if "offered" not in keys or not num:
        raise ValueError(f"summary must have an 'offered' column and one of throughput_per_s, arrival_rate_per_s, "
                         f"p50_ms, p99_ms; got {list(summary.columns)!r}")
    g = summary.groupby(keys, as_index=False, sort=False)
    return g[num].median().merge(g.size().rename(columns={"size": "repeats"}), on=keys)


def curve_table(summary: pd.DataFrame, layouts, *, keep_up: float = 0.95) -> pd.DataFrame:
    """From :func:`~followerlab.validation.load.run_load_curve` rows (open loop) to fit input.

    Adds ``network_ms`` (the layout's ``put_leader`` network part) and ``saturated``: the
    point's achieved throughput fell below ``keep_up`` times the rate the requests arrived at
    (``arrival_rate_per_s`` when present, else the offered rate): the system did not keep up,
    its latencies then grow with the run length and are no steady state.

    >>> from followerlab.validation.predict import Layout
    >>> s = pd.DataFrame({"mode": "open", "layout": "a", "n": 3, "offered": [100.0, 900.0],
    ...                   "throughput_per_s": [99.0, 700.0], "p50_ms": 1.0, "p99_ms": 2.0})
    >>> curve_table(s, [Layout("a", (5.0, 5.0, 5.0))])[["network_ms", "saturated"]].values.tolist()
    [[10.0, False], [10.0, True]]
    """
    keep_up = float(as_float_array("keep_up", keep_up, minimum=0.0, maximum=1.0, strict_minimum=True))
    out = _rows_of_mode(summary, layouts, "open")
    arrived = out["arrival_rate_per_s"] if "arrival_rate_per_s" in out else out.offered
    out["saturated"] = out.throughput_per_s < keep_up * arrived
    return out


def _rows_of_mode(summary: pd.DataFrame, layouts, mode: str, op: str = "put_leader") -> pd.DataFrame:
    """The ``mode`` rows of a load summary with ``network_ms``, the layout's network part of
    ``op`` (:data:`~followerlab.validation.predict.OPS`; every layout of the summary must be
    described)."""
    by = {lay.name: lay for lay in layouts}
    missing = sorted(set(summary.layout) - set(by))
    if missing:
        raise ValueError(f"layouts must describe every layout of the summary; missing {missing!r}")
    out = summary[summary["mode"] == mode].copy()
    out["network_ms"] = out.layout.map(lambda name: network_ms(by[name])[op])
    return out


def _add_predictions(out: pd.DataFrame, w) -> None:
    """The queue's p50/p99 and utilization beside the measured ones, the relative errors
    (measured / predicted - 1; NaN where the model saturates and its quantile is inf) and the
    15 % band on both."""
    out["predicted_p50_ms"] = w.p50_ms
    out["predicted_p99_ms"] = w.p99_ms
    out["utilization"] = w.admin_utilization
    for q in ("p50", "p99"):
        pred = np.asarray(getattr(w, f"{q}_ms"), float)
        fin = np.isfinite(pred)
        out[f"error_{q}"] = np.where(fin, out[f"{q}_ms"] / np.where(fin, pred, 1.0) - 1.0, np.nan)
    out["within_15pct"] = (out.error_p50.abs() <= 0.15) & (out.error_p99.abs() <= 0.15)


def _measured_saturation(g: pd.DataFrame) -> float:
    """Highest achieved throughput of a curve that reached saturation, NaN otherwise."""
    return float(g.throughput_per_s.max()) if bool(g.saturated.any()) and "throughput_per_s" in g else np.nan


def fit_write_load(curves: pd.DataFrame, *, model: str = "greedy", batches=(1, 2, 4, 8),
                   per_follower_ms: float | None = None, per_proposal_ms: float = 0.0,
                   max_rows_utilization: float = 0.95, max_nfev: int = 40, stalls: str = "none",
                   per_follower_proposal_ms: float | None = 0.0) -> WriteLoadFit:
    """Fit the leader queue's service time (and batch) and a constant offset to measured curves.

    Parameters
    ----------
    curves : pandas.DataFrame
        One row per load point: ``n``, ``offered`` (rate, /s), ``network_ms`` (the layout's
        network part of a put at the leader), ``p50_ms``, ``p99_ms``, ``saturated`` (bool), and
        optionally ``throughput_per_s`` (achieved; with a saturated point, its maximum per
        cluster size enters the fit as the measured saturation).  Points marked saturated are
        not used for the latencies.
    model : {"greedy", "fixed"}
        ``"greedy"``: :func:`followerlab.raft.greedy_write_load`, fitting the offset, ``a`` and
        the per-proposal time ``p`` (``per_proposal_ms`` is then only the starting value);
        ``"fixed"``: :func:`followerlab.raft.write_load` with the best of ``batches``.
    batches : sequence of int
        Candidate batch sizes ``b`` (``fixed`` only).
    per_follower_ms : float, optional
        Hold ``f`` at this value; default: fit it when ``curves`` holds two or more cluster
        sizes, else hold it at 0.
    per_proposal_ms : float
        ``p``, held fixed (``fixed``), or the starting value of its fit (``greedy``).
    per_follower_proposal_ms : float or None
        ``g`` of :attr:`WriteLoadFit.per_follower_proposal_ms`, the per-proposal time's growth
        per follower: held at this value (default 0, the per-proposal time of every cluster
        size the same), or fitted when None (``greedy`` only; needs two or more cluster sizes,
        and with a measured saturation per size it is what sets their different saturations).
    max_rows_utilization : float
        Every point the system kept up with must have utilization below this in the model:
        it bounds the service time from above (``S < u b / λ``); a candidate beyond it (only
        possible for ``f`` fitted) gets a penalty growing with the overload.
    max_nfev : int
        Bound on residual evaluations per start (two starts per batch size; each evaluation
        is one ``write_load`` call); the stall fit's start may take three times as many.
    stalls : {"none", "constant", "rate"}
        ``greedy`` only: also fit the append stalls of
        :func:`~followerlab.raft.greedy_write_load` (``stall_ms`` d, ``stall_probability`` q:
        every append independently takes d ms longer with probability q -- the leader
        descheduled on a shared CPU, a garbage-collection pause).  A constant append time
        lifts p99 only as much as the queue's waits allow; a rare long stall delays every
        proposal that arrives during it, a share that grows with the rate, so p99 climbs
        while p50 stays nearly flat, as etcd's does on a shared machine.  ``"constant"``: one
        q at every rate (five parameters, started from the stall-free fit); ``"rate"``:
        :math:`q = q_0 + q_1 \\lambda/1000`, the stalls growing with the work on the shared
        cores (six parameters, started from the ``"constant"`` fit).

    Returns
    -------
    WriteLoadFit

    Notes
    -----
    Accuracy: on curves generated by the model itself the fit recovers the parameters (1e-4 ms
    for ``fixed``, tests/test_validation_loadfit.py; 1e-3 relative for ``greedy``; 2e-3 with
    ``g`` fitted from 3- and 5-member curves that each reach their saturation); on etcd its
    quality is what :func:`predict_curve` measures (run 2026-12-04T0121Z with ``g``: the
    leader saturations of three layouts within 5 %, about half of the 5-member points in the
    15 % band; docs/guide/validation.rst).  ``fixed`` sends a batch only when
    ``b`` proposals wait, which etcd never does (its light-load p99 then includes a fill wait
    that etcd does not have); ``greedy`` is etcd's rule (etcd-raftNode).

    References
    ----------
    Bailey1954 (the bulk-service queue of :func:`followerlab.raft.write_load`), Neuts1967 and
    etcd-raftNode (:func:`followerlab.raft.greedy_write_load`) in docs/references.rst.
    """
    model = check_choice("model", model, ("greedy", "fixed"))
    stalls = check_choice("stalls", stalls, ("none", "constant", "rate"))
    if stalls != "none" and model != "greedy":
        raise ValueError(f"stalls={stalls!r} needs model='greedy' (write_load has no stalls); got model={model!r}")
    need = {"n", "offered", "network_ms", "p50_ms", "p99_ms", "saturated"}
    if not isinstance(curves, pd.DataFrame) or not need <= set(curves.columns):
        raise ValueError(f"curves must be a DataFrame with columns {sorted(need)}; got "
                         f"{list(getattr(curves, 'columns', []))!r}")
    from scipy.optimize import least_squares

    bs = [int(b) for b in as_int_array("batches", list(batches), minimum=1).ravel()]
    p = float(as_float_array("per_proposal_ms", per_proposal_ms, minimum=0.0))
    umax = float(as_float_array("max_rows_utilization", max_rows_utilization, minimum=0.0, maximum=1.0,
                                strict_minimum=True, strict_maximum=True))
    max_nfev = int(as_int_array("max_nfev", max_nfev, minimum=5, maximum=10**4))
    ok = curves[~curves.saturated.astype(bool)]
    if len(ok) < 2:
        raise ValueError(f"curves need at least 2 unsaturated points; got {len(ok)}")
    lam = as_float_array("offered", ok.offered.to_numpy(), minimum=0.0, strict_minimum=True)
    n = as_int_array("n", ok.n.to_numpy(), minimum=1)
    net = as_float_array("network_ms", ok.network_ms.to_numpy(), minimum=0.0)
    y50 = np.log(as_float_array("p50_ms", ok.p50_ms.to_numpy(), minimum=0.0, strict_minimum=True))
    y99 = np.log(as_float_array("p99_ms", ok.p99_ms.to_numpy(), minimum=0.0, strict_minimum=True))
    sat = {}
    if "throughput_per_s" in curves.columns:
        for size, g in curves.groupby("n"):
            s = _measured_saturation(g)
            if np.isfinite(s):
                sat[int(size)] = s
    fit_f = per_follower_ms is None and np.unique(curves.n).size > 1
    fit_g = per_follower_proposal_ms is None
    if fit_g and (model != "greedy" or np.unique(ok.n).size < 2):
        raise ValueError("per_follower_proposal_ms=None (fit it) needs model='greedy' and unsaturated points of two "
                         f"or more cluster sizes; got model={model!r}, sizes {sorted(set(ok.n.astype(int)))}")
    g_fixed = 0.0 if fit_g else float(as_float_array("per_follower_proposal_ms", per_follower_proposal_ms,
                                                     minimum=0.0))
    if g_fixed and model != "greedy":
        raise ValueError(f"per_follower_proposal_ms={g_fixed:g} needs model='greedy'")
    f_fixed = 0.0 if per_follower_ms is None else float(as_float_array("per_follower_ms", per_follower_ms,
                                                                       minimum=0.0))
    if model == "greedy":
        fit = _fit_greedy(lam, n, net, y50, y99, sat, fit_f, f_fixed, p, umax, max_nfev, len(ok), fit_g, g_fixed)
        if stalls != "none":
            fit = _fit_stalls(fit, lam, n, net, y50, y99, sat, fit_f, umax, max_nfev, growing=False, fit_g=fit_g)
        if stalls == "rate":
            fit = _fit_stalls(fit, lam, n, net, y50, y99, sat, fit_f, umax, max_nfev, growing=True, fit_g=fit_g)
        return fit
    best = None
    for b in bs:
        def resid(theta, b=b):
            c0, a = theta[0], theta[1]
            f = theta[2] if fit_f else f_fixed
            S = a + (n - 1) * f + b * p
            rho = lam * S / 1000.0 / b
            w = raft.write_load(lam, n, net + c0, batch=b, per_append_ms=a, per_follower_ms=f, per_proposal_ms=p)
            bad = rho >= umax
            pen = 5.0 + 20.0 * (rho - umax)     # rises with the overload, so the search is led back
            r50 = np.where(bad, pen, np.log(np.where(bad, 1.0, w.p50_ms)) - y50)
            r99 = np.where(bad, pen, np.log(np.where(bad, 1.0, w.p99_ms)) - y99)
            rs = [np.log(1000.0 * b / (a + (k - 1) * f + b * p)) - np.log(v) for k, v in sat.items()]
            return np.concatenate([r50, r99, np.asarray(rs, float)])

        # every point the system kept up with must be stable in the model: S < umax b / lambda
        s_max = float(np.min(umax * 1000.0 * b / lam))
        a_hi = s_max - b * p - (0.0 if fit_f else float(np.max((n - 1) * f_fixed)))
        if a_hi <= 1e-4:
            continue
        lo, hi = [0.0, 1e-4], [np.inf, a_hi]
        f_hi = max(2e-4, s_max / max(1, int(n.max()) - 1))
        if fit_f:
            lo, hi = lo + [0.0], hi + [f_hi]
        for frac in (0.3, 0.85):   # two starts: a tiny S with a long batch fill is a local minimum
            s0 = max(2e-4, frac * a_hi)
            x0 = [max(0.0, float(np.exp(y50).min() - net.min() - s0)) * 0.5 + 0.01, s0]
            if fit_f:
                x0 = x0 + [min(0.01, f_hi / 2)]
            sol = least_squares(resid, x0, bounds=(lo, hi), x_scale="jac", max_nfev=max_nfev)
            cost = float(np.sum(sol.fun ** 2))
            if best is None or cost < best[0] - 1e-12:
                best = (cost, b, sol.x)
    if best is None:
        raise ValueError(f"no batch size in {bs} keeps every measured point stable (offered up to {lam.max():g}/s)")
    cost, b, x = best
    f = float(x[2]) if fit_f else f_fixed
    fitted = ("offset_ms", "per_append_ms", "batch") + (("per_follower_ms",) if fit_f else ())
    return WriteLoadFit(b, float(x[1]), f, p, float(x[0]), cost, int(len(ok)), fitted)


def _greedy_residuals(lam, n, net, y50, y99, sat, umax=1.0):
    r"""The greedy fits' residual at one parameter point (c0, a, f, p[, d, q][, g]): the log
    ratios of :func:`followerlab.raft.greedy_write_load`'s p50 and p99 to the measured ones,
    then for each cluster size k with a measured saturation the log ratio of 1/p(k) to it (10
    when p(k) = 0, which never saturates), :math:`p(k) = p + (k - 1) g`.  ``q`` may be an
    array over the rows.  With g > 0 a row can be overloaded (:math:`\lambda p(n) >`
    ``umax``): it gets the residual 5 + 20 (overload) on both quantiles, rising with the
    overload so the search is led back (the box bound on p alone keeps every row at or below
    ``umax`` when g = 0, to rounding: those rows are all solved, as before g existed)."""
    def resid(c0, a, f, p, d=0.0, q=0.0, g=0.0):
        pn = p + (n - 1) * g
        rho = lam * pn / 1000.0
        bad = rho > umax * (1.0 + 1e-9)
        r50 = np.where(bad, 5.0 + 20.0 * (rho - umax), 0.0)
        r99 = r50.copy()
        good = ~bad
        if good.any():
            w = raft.greedy_write_load(lam[good], n[good], net[good] + c0, per_append_ms=a, per_follower_ms=f,
                                       per_proposal_ms=pn[good], stall_ms=d,
                                       stall_probability=np.broadcast_to(q, lam.shape)[good])
            r50[good], r99[good] = np.log(w.p50_ms) - y50[good], np.log(w.p99_ms) - y99[good]
        rs = []
        for k, v in sat.items():
            pk = p + (k - 1) * g
            rs.append(np.log(1000.0 / pk) - np.log(v) if pk > 0 else 10.0)
        return np.concatenate([r50, r99, np.asarray(rs, float)])

    return resid


def _fit_greedy(lam, n, net, y50, y99, sat, fit_f, f_fixed, p0, umax, max_nfev, rows, fit_g=False,
                g_fixed=0.0) -> WriteLoadFit:
    """:func:`fit_write_load` for ``model="greedy"``: least squares over (c0, a, p[, f][, g])."""
    from scipy.optimize import least_squares

    p_hi = umax * 1000.0 / float(lam.max())          # every kept-up point below umax of 1/p
    residual = _greedy_residuals(lam, n, net, y50, y99, sat, umax)
    ig = 3 + fit_f                                   # index of g in theta when fitted

    def resid(theta):
        return residual(theta[0], theta[1], theta[3] if fit_f else f_fixed, theta[2],
                        g=theta[ig] if fit_g else g_fixed)

    lo, hi = [0.0, 1e-4, 0.0], [np.inf, np.inf, p_hi]
    if fit_f:
        lo, hi = lo + [0.0], hi + [np.inf]
    if fit_g:
        lo, hi = lo + [0.0], hi + [p_hi / max(1, int(n.max()) - 1)]
    best = None
    for a0, pfrac in ((0.5, 0.2), (2.0, 0.6)):      # two starts: short appends or a large per-entry time
        x0 = [max(0.0, float(np.exp(y50).min() - net.min()) - a0) + 0.01, a0,
              min(max(p0, pfrac * p_hi), 0.99 * p_hi)]
        if fit_f:
            x0 = x0 + [0.01]
        if fit_g:       # start with half of p per follower, inside the box
            x0[2] = 0.5 * x0[2]
            x0 = x0 + [min(0.25 * x0[2], 0.99 * hi[-1])]
        sol = least_squares(resid, x0, bounds=(lo, hi), x_scale="jac", max_nfev=max_nfev)
        cost = float(np.sum(sol.fun ** 2))
        if best is None or cost < best[0] - 1e-12:
            best = (cost, sol.x)
    cost, x = best
    f = float(x[3]) if fit_f else f_fixed
    g = float(x[ig]) if fit_g else g_fixed
    fitted = (("offset_ms", "per_append_ms", "per_proposal_ms") + (("per_follower_ms",) if fit_f else ())
              + (("per_follower_proposal_ms",) if fit_g else ()))
    return WriteLoadFit(0, float(x[1]), f, float(x[2]), float(x[0]), cost, int(rows), fitted, "greedy",
                        per_follower_proposal_ms=g)


#: Starting stall length(s) (ms) of the constant stall fit, with probability 1e-3 per append (a
#: start at 40 ms found a worse local minimum on run 2026-12-03T0258Z: cost 0.159 against 0.137).
_STALL_STARTS_MS = (10.0,)
#: Residual of every row when a trial point cannot be solved (a stall probability above 1, or a
#: batch chain too large): the search steps back from it.
_UNSOLVABLE_RESIDUAL = 5.0


def _fit_stalls(base: WriteLoadFit, lam, n, net, y50, y99, sat, fit_f, umax, max_nfev, *,
                growing: bool, fit_g: bool = False) -> WriteLoadFit:
    """:func:`fit_write_load` with stalls: least squares over (c0, a, p, d, q0[, q1][, f][, g]).

    ``growing=False`` starts from the stall-free fit ``base`` with d from ``_STALL_STARTS_MS``;
    ``growing=True`` starts from the constant-stall fit ``base`` with :math:`q_1 = 0`.  ``base``
    itself is kept when no start improves on it."""
    from scipy.optimize import least_squares

    p_hi = umax * 1000.0 / float(lam.max())
    k = 6 if growing else 5           # parameters before f
    ig = k + fit_f                    # index of g when fitted
    residual = _greedy_residuals(lam, n, net, y50, y99, sat, umax)

    def resid(theta):
        c0, a, p, d, q0 = theta[:5]
        q1 = theta[5] if growing else 0.0
        try:
            return residual(c0, a, theta[k] if fit_f else base.per_follower_ms, p, d, q0 + q1 * lam / 1000.0,
                            g=theta[ig] if fit_g else base.per_follower_proposal_ms)
        except ValueError:
            return np.full(2 * lam.size + len(sat), _UNSOLVABLE_RESIDUAL)

    lo, hi = [0.0, 1e-4, 0.0, 0.0, 0.0] + [0.0] * growing, [np.inf, np.inf, p_hi, 1e3, 0.5] + [0.5] * growing
    if fit_f:
        lo, hi = lo + [0.0], hi + [np.inf]
    if fit_g:
        lo, hi = lo + [0.0], hi + [p_hi / max(1, int(n.max()) - 1)]
    p0 = min(base.per_proposal_ms, 0.99 * p_hi)
    if growing:
        starts = [[base.offset_ms, base.per_append_ms, p0, base.stall_ms, base.stall_probability, 0.0]]
    else:
        starts = [[base.offset_ms, base.per_append_ms, p0, d0, 1e-3] for d0 in _STALL_STARTS_MS]
    best = (base.cost, None)
    for x0 in starts:
        if fit_f:
            x0 = x0 + [base.per_follower_ms]
        if fit_g:
            x0 = x0 + [min(base.per_follower_proposal_ms, 0.99 * hi[-1])]
        sol = least_squares(resid, x0, bounds=(lo, hi), x_scale="jac", max_nfev=3 * max_nfev)
        cost = float(np.sum(sol.fun ** 2))
        if cost < best[0] - 1e-12:
            best = (cost, sol.x)
    cost, x = best
    if x is None:
        return base
    f = float(x[k]) if fit_f else base.per_follower_ms
    g = float(x[ig]) if fit_g else base.per_follower_proposal_ms
    names = ("stall_ms", "stall_probability") + (("stall_probability_per_kps",) if growing else ())
    return WriteLoadFit(0, float(x[1]), f, float(x[2]), float(x[0]), cost, base.rows,
                        tuple(dict.fromkeys(base.fitted + names)), "greedy", float(x[3]), float(x[4]),
                        float(x[5]) if growing else 0.0, g)


def predict_curve(fit: WriteLoadFit, curves: pd.DataFrame, *, driver_workers=None) -> pd.DataFrame:
    """Predicted p50/p99 next to the measured ones for every row of ``curves`` (same columns as
    :func:`fit_write_load`), with relative errors and the predicted utilization.

    ``within_15pct`` applies issue 15's band (p50 and p99 within 15 %) to the rows whose
    *measured* throughput is at most 80 % of the measured saturation (column
    ``below_80pct_sat``; all unsaturated rows when the curve never saturated).  Where the model
    saturates (ρ >= 1) its quantiles are inf and the errors NaN.

    ``predicted_saturation_per_s`` is the leader's (the queue's λ*).  An open-loop driver with
    W workers completes at most the closed-loop throughput of W clients
    (:meth:`WriteLoadFit.closed_loop_throughput`): with ``driver_workers`` (a number, or taken
    from a ``workers`` column when None and the column exists) ``predicted_driver_limit_per_s``
    is that limit and ``predicted_system_saturation_per_s`` the smaller of the two — what the
    measured saturation of such a run can be compared with.  Where W clients would drive the
    queue above the rate where it is solved (98 % of its saturation, or a little less for the
    greedy queue: see :meth:`WriteLoadFit.closed_loop_throughput`) the limit is NaN (it does not
    bind) and the system saturation is the leader's, within about 2 %.
    """
    lam, n = curves.offered.to_numpy(float), curves.n.to_numpy(int)
    net = curves.network_ms.to_numpy(float)
    # rates the model cannot solve (saturated, or past the greedy chain's size bound near
    # saturation) are predicted as saturated: inf quantiles, NaN errors, outside the band
    sat_n = np.broadcast_to(fit.saturation_per_s(n), lam.shape).astype(float)
    ok = lam < sat_n
    if fit.model == "greedy":
        ok &= lam < np.broadcast_to(fit._solvable_rate_per_s(n), lam.shape)
    w = SimpleNamespace(p50_ms=np.full(lam.shape, np.inf), p99_ms=np.full(lam.shape, np.inf),
                        admin_utilization=np.minimum(lam / sat_n, 1.0))
    if ok.any():
        wk = fit.write_load(lam[ok], n[ok], net[ok])
        w.p50_ms[ok], w.p99_ms[ok], w.admin_utilization[ok] = wk.p50_ms, wk.p99_ms, wk.admin_utilization
    out = curves.copy()
    _add_predictions(out, w)
    out["predicted_saturation_per_s"] = sat_n
    sat = out.groupby(["layout"] if "layout" in out else ["n"]).apply(
        lambda g: _measured_saturation(g) if "throughput_per_s" in g else np.nan, include_groups=False)
    key = out["layout"] if "layout" in out else out["n"]
    out["measured_saturation_per_s"] = key.map(sat).to_numpy()
    thr = out["throughput_per_s"] if "throughput_per_s" in out else out.offered
    limit = np.where(np.isfinite(out.measured_saturation_per_s), 0.8 * out.measured_saturation_per_s, np.inf)
    out["below_80pct_sat"] = (thr <= limit) & ~out.saturated.astype(bool)
    workers = driver_workers if driver_workers is not None else (out["workers"] if "workers" in out else None)
    if workers is not None:
        W = np.broadcast_to(as_float_array("driver_workers", workers, minimum=0.0, strict_minimum=True),
                            (len(out),))
        (limit,) = solve_unique(lambda w_, n_, net_: (fit.closed_loop_throughput(w_, n_, net_, unsolvable="nan"),),  # per layout
                                W, out.n.to_numpy(int), out.network_ms.to_numpy(float))
        out["predicted_driver_limit_per_s"] = limit
        # NaN limit: the driver's threads reach 98 % of the leader's saturation before they bind
        out["predicted_system_saturation_per_s"] = np.fmin(limit, out.predicted_saturation_per_s.to_numpy(float))
    return out


def measured_p99_doubling_rate(curve: pd.DataFrame) -> float:
    """The achieved write rate (/s) at which one layout's measured p99 reaches twice its value
    at the lowest offered rate: the measured counterpart of
    :meth:`WriteLoadFit.p99_doubling_rate`.

    Parameters
    ----------
    curve : pandas.DataFrame
        One layout's open-loop points (:func:`curve_table` rows): ``offered``,
        ``throughput_per_s``, ``p99_ms`` and ``saturated``.  Repeated points (same ``offered``)
        enter by their median; saturated points are left out.

    Returns
    -------
    float
        Linear interpolation in achieved throughput between the last point below twice the
        reference p99 and the first at or above it; NaN when p99 never doubles at the points
        the system kept up with (or fewer than two remain).

    Notes
    -----
    The reference is the lowest measured rate (100/s in the saved runs), the model's is 1 % of
    its saturation rate: for the stall fit on run 2026-12-03T0258Z (saturation 3741/s) the
    model's p99 at 100/s is 1.4 % above its p99 at 37/s.  The interpolation is as coarse as
    the points: on that run they are 300--400/s apart where p99 doubles.

    >>> c = pd.DataFrame({"offered": [100.0, 1000.0, 2000.0, 3000.0], "throughput_per_s": [100.0, 1000.0, 2000.0, 2500.0],
    ...                   "p99_ms": [10.0, 14.0, 24.0, 900.0], "saturated": [False, False, False, True]})
    >>> measured_p99_doubling_rate(c)     # 20 ms is 60 % of the way from 14 to 24 ms
    1600.0
    """
    need = {"offered", "throughput_per_s", "p99_ms", "saturated"}
    if not isinstance(curve, pd.DataFrame) or not need <= set(curve.columns):
        raise ValueError(f"curve must be a DataFrame with columns {sorted(need)}; got "
                         f"{list(getattr(curve, 'columns', []))!r}")
    ok = curve[~curve.saturated.astype(bool)]
    pts = ok.groupby("offered", sort=True)[["throughput_per_s", "p99_ms"]].median()
    if len(pts) < 2:
        return float("nan")
    x = as_float_array("throughput_per_s", pts.throughput_per_s.to_numpy(), minimum=0.0)
    y = as_float_array("p99_ms", pts.p99_ms.to_numpy(), minimum=0.0, strict_minimum=True)
    above = np.flatnonzero(y[1:] >= 2.0 * y[0]) + 1
    if above.size == 0:
        return float("nan")
    i = int(above[0])
    return float(x[i - 1] + (2.0 * y[0] - y[i - 1]) / (y[i] - y[i - 1]) * (x[i] - x[i - 1]))


def closed_curve_table(summary: pd.DataFrame, layouts) -> pd.DataFrame:
    """The closed-loop rows of :func:`~followerlab.validation.load.run_load_curve` (``offered``
    is the number of clients) with ``network_ms`` as in :func:`curve_table`."""
    return _rows_of_mode(summary, layouts, "closed")


def predict_closed_curve(fit: WriteLoadFit, closed: pd.DataFrame, measured_saturation=None) -> pd.DataFrame:
    """Closed-loop points predicted: the throughput of N clients
    (:meth:`WriteLoadFit.closed_loop_throughput`, an approximation) and the queue's p50/p99 at
    that rate, next to the measured ones.

    ``closed`` is :func:`closed_curve_table`.  ``measured_saturation`` maps a layout to its
    measured (open-loop) saturation throughput; ``below_80pct_sat`` is then the band's range
    (measured throughput at most 80 % of it; all rows where it is unknown or NaN).
    ``within_15pct``: p50 and p99 within 15 %; ``throughput_within_15pct`` likewise for the
    throughput.  Where the model cannot say (N clients above 98 % of its saturation, or fewer
    than a ``fixed`` batch needs to fill) the predictions are NaN and the row is outside the band.
    """
    out = closed.copy()
    n, net = out.n.to_numpy(int), out.network_ms.to_numpy(float)
    x = fit.closed_loop_throughput(out.offered.to_numpy(float), n, net, unsolvable="nan")
    out["predicted_throughput_per_s"] = x
    # NaN where closed_loop_throughput cannot solve the point: no prediction there
    ok = np.isfinite(x)
    pred = {k: np.full(len(out), np.nan) for k in ("p50_ms", "p99_ms", "admin_utilization")}
    if ok.any():
        w = fit.write_load(x[ok], n[ok], net[ok])
        for k, v in pred.items():
            v[ok] = getattr(w, k)
    _add_predictions(out, SimpleNamespace(**pred))
    out["error_throughput"] = out.throughput_per_s / x - 1.0
    sat = out.layout.map(dict(measured_saturation or {})).astype(float).to_numpy()
    out["measured_saturation_per_s"] = sat
    out["below_80pct_sat"] = ~np.isfinite(sat) | (out.throughput_per_s.to_numpy(float) <= 0.8 * np.nan_to_num(sat, nan=np.inf))
    out["throughput_within_15pct"] = out.error_throughput.abs() <= 0.15
    return out
