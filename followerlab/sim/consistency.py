"""Discrete-event simulation of Kusto query consistency: admin node, query heads, refreshes.

Independent of the closed forms in :mod:`followerlab.consistency`: queries arrive one by one
over time, are routed per mode to the admin node or to a head, wait FCFS for a planning slot,
may hit a per-head TTL results cache, and heads refresh their metadata on their own phases.
The tests compare its utilization, latency quantiles, cache hits, records missed and the
monotonic-read probability with the formulas.

>>> r = simulate_query_routing(5.0, 2000.0, heads=3, mode="random", weak_fraction=1.0, seed=1)
>>> round(float(r.head_utilization.mean()), 2)
0.08
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._results import Result
from .._validate import as_float, as_float_array, as_int, as_rng, check_choice, check_shapes

__all__ = [
    "fcfs_multi_server",
    "RoutingSimulation",
    "simulate_query_routing",
    "simulate_monotonic_reads",
    "simulate_records_missed",
    "snapshot_time",
]

_MODES = ("random", "by_database", "by_query", "by_session")
#: largest service cv simulated (the queueing models' bound; followerlab.sim does not import them)
_MAX_CV = 100.0


def _service(rng, n, mean, cv):
    """n service times with the given mean and CV (gamma; deterministic for CV 0)."""
    if cv == 0:
        return np.full(n, mean)
    with np.errstate(over="ignore", divide="ignore"):
        shape = float(1.0 / np.square(np.float64(cv)))   # cv <= _MAX_CV (checked): no underflow to 0
    if not np.isfinite(shape):   # cv below 1e-154: a spread below float resolution, the constant exactly
        return np.full(n, mean)
    return rng.gamma(shape, mean / shape, size=n)


def fcfs_multi_server(arrivals, services, servers):
    """First-come first-served with ``servers`` identical servers (Kiefer–Wolfowitz recursion).

    Parameters
    ----------
    arrivals : 1-D array
        Sorted arrival times (s).
    services : 1-D array
        Service times (s).
    servers : int

    Returns
    -------
    (waits, responses) : tuple of ndarray

    Examples
    --------
    >>> w, r = fcfs_multi_server(np.array([0.0, 0.1, 0.2]), np.array([1.0, 1.0, 1.0]), 2)
    >>> w.round(2).tolist()
    [0.0, 0.0, 0.8]
    """
    arrivals = as_float_array("arrivals", arrivals)
    services = as_float_array("services", services, minimum=0.0)
    servers = as_int("servers", servers, minimum=1, maximum=10**6)
    if arrivals.ndim != 1 or services.shape != arrivals.shape:
        raise ValueError(f"arrivals and services must be 1-D arrays of one length; got shapes {arrivals.shape} "
                         f"and {services.shape}")
    free = np.zeros(servers)
    n = len(arrivals)
    waits = np.empty(n)
    for i in range(n):
        j = int(np.argmin(free)) if servers > 1 else 0
        start = arrivals[i] if arrivals[i] > free[j] else free[j]
        waits[i] = start - arrivals[i]
        free[j] = start + services[i]
    return waits, waits + np.asarray(services)


@dataclass(frozen=True)
class RoutingSimulation(Result):
    """What one simulated run measured.

    Arrays of per-job values are kept for quantiles; ``head_*`` arrays have one entry per head.
    """

    duration_s: float
    admin_utilization: float
    admin_responses_s: np.ndarray
    head_utilization: np.ndarray
    head_arrivals: np.ndarray
    head_responses_s: tuple
    head_of_key: np.ndarray
    weak_queries: int
    cache_hits: int

    @property
    def cache_hit_ratio(self) -> float:
        """Hits / weak queries."""
        return self.cache_hits / self.weak_queries if self.weak_queries else 0.0

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame({"head": np.arange(len(self.head_utilization)),
                             "utilization": self.head_utilization, "arrivals": self.head_arrivals})


def simulate_query_routing(
    query_rate_per_s,
    duration_s,
    *,
    heads=3,
    mode="random",
    weak_fraction=1.0,
    shares=None,
    planning_s=0.05,
    planning_cv=1.0,
    control_rate_per_s=0.0,
    control_s=0.2,
    control_cv=1.0,
    admin_cores=1,
    head_cores=1,
    query_texts=None,
    cache_max_age_s=0.0,
    sessions=1000,
    head_of_key=None,
    seed=None,
) -> RoutingSimulation:
    """Simulate ``duration_s`` seconds of Poisson queries routed to the admin node and heads.

    Each query: strong w.p. ``1 - weak_fraction`` (admin node) or weak (a head).  Its database
    is drawn from ``shares`` (one database when None), its text uniformly from ``query_texts``
    distinct texts (every query distinct when None), its session uniformly from ``sessions``.
    Routing: random (uniform head), by_database / by_query / by_session (a fixed random map of
    key -> head, drawn once per run: one realization of the hash; or ``head_of_key`` for the
    database/session keys).  A weak query whose (text, database) result on that head is at most
    ``cache_max_age_s`` old is a hit and costs nothing; a miss is planned and refreshes the
    entry.  Control commands always go to the admin node.  Stations are FCFS with gamma service
    times of the given mean and CV.

    Returns
    -------
    RoutingSimulation
    """
    lam = as_float("query_rate_per_s", query_rate_per_s, minimum=0.0)
    dur = as_float("duration_s", duration_s, minimum=0.0, strict_minimum=True)
    if lam * dur > 1e8:
        raise ValueError(f"query_rate_per_s * duration_s = {lam * dur:.3g} queries; at most 1e8 are simulated")
    h = as_int("heads", heads, minimum=1, maximum=10**6)
    mode = check_choice("mode", mode, _MODES)
    w = as_float("weak_fraction", weak_fraction, minimum=0.0, maximum=1.0)
    planning_s = as_float("planning_s", planning_s, minimum=0.0, strict_minimum=True)
    planning_cv = as_float("planning_cv", planning_cv, minimum=0.0, maximum=_MAX_CV)
    control_rate_per_s = as_float("control_rate_per_s", control_rate_per_s, minimum=0.0)
    if control_rate_per_s * dur > 1e8:
        raise ValueError(f"control_rate_per_s * duration_s = {control_rate_per_s * dur:.3g} commands; at most 1e8")
    control_s = as_float("control_s", control_s, minimum=0.0, strict_minimum=True)
    control_cv = as_float("control_cv", control_cv, minimum=0.0, maximum=_MAX_CV)
    admin_cores = as_int("admin_cores", admin_cores, minimum=1, maximum=10**6)
    head_cores = as_int("head_cores", head_cores, minimum=1, maximum=10**6)
    query_texts = None if query_texts is None else as_int("query_texts", query_texts, minimum=1)
    cache_max_age_s = as_float("cache_max_age_s", cache_max_age_s, minimum=0.0)
    sessions = as_int("sessions", sessions, minimum=1, maximum=10**8)
    p = np.array([1.0]) if shares is None else as_float_array("shares", shares, minimum=0.0)
    if abs(p.sum() - 1.0) > 1e-9:
        raise ValueError(f"shares must sum to 1; got sum {p.sum()!r}")
    rng = as_rng("seed", seed)

    n = rng.poisson(lam * dur)
    t = np.sort(rng.uniform(0.0, dur, n))
    weak = rng.random(n) < w
    db = rng.choice(len(p), size=n, p=p)
    text = rng.integers(0, query_texts, size=n) if query_texts else np.arange(n)
    sess = rng.integers(0, sessions, size=n)

    # admin node: strong queries + control commands
    nc = rng.poisson(float(control_rate_per_s) * dur)
    tc = rng.uniform(0.0, dur, nc)
    ta = np.concatenate([t[~weak], tc])
    sa = np.concatenate([_service(rng, int((~weak).sum()), planning_s, planning_cv),
                         _service(rng, nc, control_s, control_cv)])
    order = np.argsort(ta, kind="stable")
    ta, sa = ta[order], sa[order]
    _, resp_a = fcfs_multi_server(ta, sa, admin_cores)
    admin_util = float(sa.sum() / (dur * admin_cores))

    # routing of weak queries
    tw, dbw, textw, sessw = t[weak], db[weak], text[weak], sess[weak]
    nw = len(tw)
    if mode == "random":
        head = rng.integers(0, h, size=nw)
        key_map = np.arange(0)
    elif mode == "by_database":
        key_map = rng.integers(0, h, size=len(p)) if head_of_key is None else np.asarray(head_of_key)
        head = key_map[dbw]
    elif mode == "by_session":
        key_map = rng.integers(0, h, size=sessions) if head_of_key is None else np.asarray(head_of_key)
        head = key_map[sessw]
    else:  # by_query: hash of the text
        key_map = np.arange(0)
        salt = rng.integers(1, 2**31)
        head = ((textw.astype(np.int64) * 2654435761 + salt) % 4294967291) % h

    # results cache per head (keyed by text and database)
    hit = np.zeros(nw, dtype=bool)
    if cache_max_age_s > 0:
        stored: list[dict] = [dict() for _ in range(h)]
        for i in range(nw):
            key = (int(textw[i]), int(dbw[i]))
            last = stored[head[i]].get(key)
            if last is not None and tw[i] - last <= cache_max_age_s:
                hit[i] = True
            else:
                stored[head[i]][key] = tw[i]

    util = np.zeros(h)
    arrivals = np.zeros(h, dtype=np.int64)
    responses = []
    for j in range(h):
        sel = (head == j) & ~hit
        tj = tw[sel]
        sj = _service(rng, len(tj), planning_s, planning_cv)
        _, rj = fcfs_multi_server(tj, sj, head_cores)
        util[j] = sj.sum() / (dur * head_cores)
        arrivals[j] = len(tj)
        responses.append(rj)
    return RoutingSimulation(
        duration_s=dur,
        admin_utilization=admin_util,
        admin_responses_s=resp_a,
        head_utilization=util,
        head_arrivals=arrivals,
        head_responses_s=tuple(responses),
        head_of_key=key_map,
        weak_queries=nw,
        cache_hits=int(hit.sum()),
    )


def snapshot_time(t, phase_s, refresh_period_s, refresh_duration_s):
    """Start time of the last refresh that has *finished* by ``t`` (the version a head serves).

    Refreshes start at ``phase + k R`` and finish ``D`` later; vectorized.

    >>> float(snapshot_time(130.0, 5.0, 120.0, 2.0))
    125.0
    >>> float(snapshot_time(126.0, 5.0, 120.0, 2.0))
    5.0
    """
    t = as_float_array("t", t)
    phase_s = as_float_array("phase_s", phase_s)
    refresh_period_s = as_float_array("refresh_period_s", refresh_period_s, minimum=0.0, strict_minimum=True)
    refresh_duration_s = as_float_array("refresh_duration_s", refresh_duration_s, minimum=0.0)
    check_shapes(t=t, phase_s=phase_s, refresh_period_s=refresh_period_s, refresh_duration_s=refresh_duration_s)
    k = np.floor((t - refresh_duration_s - phase_s) / refresh_period_s)
    return phase_s + k * refresh_period_s


def simulate_monotonic_reads(heads, refresh_period_s, gap_s, *, mode="random", refresh_duration_s=2.0,
                             sessions=200000, phases_s=None, seed=None):
    """Fraction of sessions whose second query (``gap_s`` later) sees an older snapshot.

    Each session lives on an independent cluster realisation: every head draws a uniform
    refresh phase per session (the formula's "independent phases", averaged over phases), unless
    ``phases_s`` fixes them for all sessions (then the result is conditional on those phases).
    The two queries land at a uniform time t (after warm-up) and t + gap on heads chosen per
    mode: random / by_query (independent uniform heads; two different texts hash
    independently), by_database / by_session (the session's key maps to one head, both queries
    there).  Snapshot times come from :func:`snapshot_time`.  Returns (fraction, standard error).

    >>> f, se = simulate_monotonic_reads(2, 120.0, 0.0, sessions=20000, seed=0)
    >>> abs(f - 0.25) < 4 * se
    True
    """
    h = as_int("heads", heads, minimum=1, maximum=10**6)
    R = as_float("refresh_period_s", refresh_period_s, minimum=0.0, strict_minimum=True, maximum=1e150)
    g = as_float("gap_s", gap_s, minimum=0.0)
    mode = check_choice("mode", mode, _MODES)
    refresh_duration_s = as_float("refresh_duration_s", refresh_duration_s, minimum=0.0)
    n = as_int("sessions", sessions, minimum=1, maximum=10**8)
    if phases_s is None and n * h > 10**8:
        raise ValueError(f"sessions * heads = {n * h} phases; at most 1e8 are drawn")
    rng = as_rng("seed", seed)
    t1 = rng.uniform(10 * R, 1000 * R, n)
    t2 = t1 + g
    h1 = rng.integers(0, h, n)
    h2 = rng.integers(0, h, n) if mode in ("random", "by_query") else h1
    if phases_s is None:
        phases = rng.uniform(0.0, R, (n, h))
        p1, p2 = phases[np.arange(n), h1], phases[np.arange(n), h2]
    else:
        phases = as_float_array("phases_s", phases_s)
        if phases.shape != (h,):
            raise ValueError(f"phases_s must hold one phase per head ({h}); got shape {phases.shape}")
        p1, p2 = phases[h1], phases[h2]
    s1 = snapshot_time(t1, p1, R, refresh_duration_s)
    s2 = snapshot_time(t2, p2, R, refresh_duration_s)
    older = s2 < s1
    f = float(older.mean())
    return f, float(np.sqrt(max(f * (1 - f), 1.0 / n) / n))


def simulate_records_missed(window_s, ingest_rate_per_s, *, refresh_period_s=120.0, refresh_duration_s=2.0,
                            match_rate_per_s=None, queries=20000, horizon_s=None, seed=None):
    """Simulate queries over the last ``window_s`` on a head and count the records they miss.

    Records (and, independently, matching records such as errors) arrive as Poisson processes
    over the horizon; the head refreshes at phase + kR, finishing D later; a query at a random
    time t sees records up to its snapshot time.  Returns a dict with per-query ``missed``
    counts, ``ages_s`` and ``missed_match`` (bool).
    """
    x = as_float("window_s", window_s, minimum=0.0, strict_minimum=True)
    r = as_float("ingest_rate_per_s", ingest_rate_per_s, minimum=0.0)
    m = r if match_rate_per_s is None else as_float("match_rate_per_s", match_rate_per_s, minimum=0.0)
    R = as_float("refresh_period_s", refresh_period_s, minimum=0.0, strict_minimum=True, maximum=1e12)
    D = as_float("refresh_duration_s", refresh_duration_s, minimum=0.0, maximum=1e12)
    queries = as_int("queries", queries, minimum=1, maximum=10**8)
    rng = as_rng("seed", seed)
    horizon = (as_float("horizon_s", horizon_s, minimum=0.0, strict_minimum=True) if horizon_s is not None
               else max(50 * R, 3 * (R + D)))
    if horizon <= 2 * (R + D):
        raise ValueError(f"horizon_s={horizon!r} must exceed the warm-up 2 * (refresh_period_s + refresh_duration_s)")
    if (r + m) * horizon > 1e8:
        raise ValueError(f"(ingest_rate_per_s + match_rate_per_s) * horizon = {(r + m) * horizon:.3g} records; "
                         "at most 1e8 are simulated")
    rec = np.sort(rng.uniform(0.0, horizon, rng.poisson(r * horizon)))
    match = np.sort(rng.uniform(0.0, horizon, rng.poisson(m * horizon)))
    phase = rng.uniform(0.0, R)
    t = rng.uniform(2 * (R + D), horizon, int(queries))
    s = snapshot_time(t, phase, R, D)
    lo = np.maximum(s, t - x)
    missed = np.searchsorted(rec, t, side="right") - np.searchsorted(rec, lo, side="right")
    missed_match = (np.searchsorted(match, t, side="right") - np.searchsorted(match, lo, side="right")) > 0
    return {"missed": missed, "ages_s": t - s, "missed_match": missed_match}
