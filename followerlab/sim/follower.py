r"""Event-driven simulation of a follower database syncing from its leader.

Independent of the closed forms in :mod:`followerlab.staleness` and
:mod:`followerlab.follower`: it plays the events one by one.

* Writes (metadata changes, e.g. new extents) arrive on the leader as a Poisson process of rate
  ``change_rate_per_s``; each carries ``bytes_per_change`` compressed bytes (constant).
* A timer fires every ``period_s``.  If the follower is idle, a sync starts; if a sync is still
  running, one sync starts as soon as it ends (missed ticks coalesce), so overloaded syncs run
  back to back.  The tick grid is not shifted by an overrun: after a late sync ends before the
  next tick, the following sync waits for that tick.  This is the rule the Markov chain of
  :func:`followerlab.staleness.refresh_lag` solves (a timer-driven refresh such as Kusto's
  periodic metadata sync is *assumed* to behave so; the vendor documents do not say).
* A sync that starts at :math:`S_k` takes every change committed in
  :math:`(S_{k-1}, S_k]` (:math:`N_k` of them) and lasts
  :math:`d_0 + d_1 N_k`, plus :math:`N_k \cdot` ``bytes_per_change`` / ``warm_bandwidth`` with
  prefetch (the sync finishes only once the new extents are warm).
* A change is queryable on the follower at the end of the first sync that starts after it.

>>> sim = simulate_follower(60.0, 2.0, 0.01, 5.0, horizon_s=6000.0, seed=1)
>>> bool(np.all(sim.sync_ends > sim.sync_starts)), len(sim.sync_starts) > 90
(True, True)
>>> lag = sim.probe_lag_s(np.array([1000.0]))
>>> bool(2.0 <= lag[0] <= 60.0 + 2.0 + 0.01 * 600)
True
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._results import Result
from .._validate import as_float, as_rng, check_bool

__all__ = ["FollowerSimulation", "simulate_follower"]


@dataclass(frozen=True)
class FollowerSimulation(Result):
    """One simulated run: write times, sync starts/ends, and visibility of every write.

    Attributes
    ----------
    write_times_s, write_visible_s : ndarray
        Commit time of each leader write and the time it became queryable on the follower
        (``inf`` if no sync started after it within the horizon).
    sync_starts_s, sync_ends_s, sync_changes : ndarray
        Each sync's start, end and number of changes it carried.
    horizon_s : float
        Simulated time.
    """

    write_times_s: np.ndarray
    write_visible_s: np.ndarray
    sync_starts_s: np.ndarray
    sync_ends_s: np.ndarray
    sync_changes: np.ndarray
    horizon_s: float

    # short aliases used throughout the tests
    @property
    def sync_starts(self) -> np.ndarray:
        return self.sync_starts_s

    @property
    def sync_ends(self) -> np.ndarray:
        return self.sync_ends_s

    def write_lag_s(self) -> np.ndarray:
        """Lag of every write that became visible within the horizon (s)."""
        lag = self.write_visible_s - self.write_times_s
        return lag[np.isfinite(lag)]

    def probe_lag_s(self, times_s) -> np.ndarray:
        """Lag of hypothetical probe writes at ``times_s`` (not counted as changes)."""
        t = np.asarray(times_s, dtype=float)
        k = np.searchsorted(self.sync_starts_s, t, side="right")
        ok = k < len(self.sync_starts_s)
        out = np.full(t.shape, np.inf)
        out[ok] = self.sync_ends_s[k[ok]] - t[ok]
        return out

    def snapshot_age_s(self, times_s) -> np.ndarray:
        """Age of the metadata a query on the follower sees at ``times_s``: t minus the start
        of the last sync that has finished (``inf`` before the first sync ends)."""
        t = np.asarray(times_s, dtype=float)
        # sync ends are increasing (syncs are sequential)
        j = np.searchsorted(self.sync_ends_s, t, side="right") - 1
        out = np.full(t.shape, np.inf)
        ok = j >= 0
        out[ok] = t[ok] - self.sync_starts_s[j[ok]]
        return out

    def max_ingestion_time_s(self, times_s, cluster: str) -> np.ndarray:
        """What the FAQ query of Leibowitz2021 returns at ``times_s``: the newest write time visible on
        the ``"leader"`` (every write up to t) or the ``"follower"`` (writes up to the start of
        the last finished sync); NaN if none."""
        t = np.asarray(times_s, dtype=float)
        if cluster == "leader":
            cut = t
        elif cluster == "follower":
            cut = t - self.snapshot_age_s(t)
        else:
            raise ValueError(f"cluster must be 'leader' or 'follower'; got {cluster!r}")
        i = np.searchsorted(self.write_times_s, cut, side="right") - 1
        out = np.full(t.shape, np.nan)
        ok = (i >= 0) & np.isfinite(cut)
        out[ok] = self.write_times_s[i[ok]]
        return out

    def to_frame(self) -> pd.DataFrame:
        """One row per sync: start, end, duration and changes carried."""
        return pd.DataFrame({
            "sync_start_s": self.sync_starts_s,
            "sync_end_s": self.sync_ends_s,
            "duration_s": self.sync_ends_s - self.sync_starts_s,
            "changes": self.sync_changes,
        })


#: The most sync ticks or writes one simulation handles (an event loop in Python).
MAX_EVENTS = 1e7


def simulate_follower(
    period_s: float,
    base_duration_s: float = 0.0,
    duration_per_change_s: float = 0.0,
    change_rate_per_s: float = 0.0,
    *,
    horizon_s: float,
    prefetch: bool = False,
    bytes_per_change: float = 0.0,
    warm_bandwidth_bytes_per_s: float = np.inf,
    seed=None,
) -> FollowerSimulation:
    """Simulate a follower's periodic syncs event by event (one configuration, scalars).

    Parameters
    ----------
    period_s, base_duration_s, duration_per_change_s, change_rate_per_s : float
        As in :func:`followerlab.staleness.refresh_lag`.
    horizon_s : float
        Simulated time (s); the first sync starts at 0.  At most ``MAX_EVENTS`` (1e7) sync ticks
        (``horizon_s / period_s``) and expected writes (``change_rate_per_s * horizon_s``).
    prefetch : bool
        Whether each sync also warms its new extents before finishing.
    bytes_per_change : float
        Compressed bytes per change (extent); used only with ``prefetch``.
    warm_bandwidth_bytes_per_s : float
        Rate at which the follower warms extents from the leader's storage.
    seed : int or numpy.random.Generator, optional

    Returns
    -------
    FollowerSimulation
    """
    P = as_float("period_s", period_s, minimum=0.0, strict_minimum=True)
    d0 = as_float("base_duration_s", base_duration_s, minimum=0.0)
    d1 = as_float("duration_per_change_s", duration_per_change_s, minimum=0.0)
    m = as_float("change_rate_per_s", change_rate_per_s, minimum=0.0)
    T = as_float("horizon_s", horizon_s, minimum=0.0, strict_minimum=True)
    prefetch = check_bool("prefetch", prefetch)
    size = as_float("bytes_per_change", bytes_per_change, minimum=0.0)
    bw = as_float("warm_bandwidth_bytes_per_s", warm_bandwidth_bytes_per_s, minimum=0.0, strict_minimum=True,
                  allow_inf=True)
    if T / P > MAX_EVENTS:
        raise ValueError(f"horizon_s / period_s = {T / P:.3g} sync ticks; at most {MAX_EVENTS:g} are simulated "
                         f"(horizon_s={T!r}, period_s={P!r})")
    if m * T > MAX_EVENTS:
        raise ValueError(f"change_rate_per_s * horizon_s = {m * T:.3g} writes; at most {MAX_EVENTS:g} are simulated "
                         f"(change_rate_per_s={m!r}, horizon_s={T!r})")
    per_change = d1 + (size / bw if prefetch else 0.0)
    rng = as_rng("seed", seed)

    n = rng.poisson(m * T)
    writes = np.sort(rng.uniform(0.0, T, n))

    # Discrete-event loop: timer ticks and sync ends, in time order.
    events: list[tuple[float, int, str]] = [(0.0, 0, "tick")]
    seq = 1
    busy = False
    pending = False
    last_start = -np.inf
    starts: list[float] = []
    ends: list[float] = []
    counts: list[int] = []

    def start_sync(now: float) -> None:
        nonlocal busy, last_start, seq
        lo = np.searchsorted(writes, last_start, side="right")
        hi = np.searchsorted(writes, now, side="right")
        k = int(hi - lo)
        starts.append(now)
        counts.append(k)
        end = now + d0 + per_change * k
        ends.append(end)
        last_start = now
        busy = True
        heapq.heappush(events, (end, seq, "end"))
        seq += 1

    tick = 0
    while events:
        now, _, kind = heapq.heappop(events)
        if now > T:
            break
        if kind == "tick":
            if busy:
                pending = True
            else:
                start_sync(now)
            tick += 1
            heapq.heappush(events, (tick * P, seq, "tick"))
            seq += 1
        else:  # a sync ended
            busy = False
            if pending:
                pending = False
                start_sync(now)

    s = np.asarray(starts)
    e = np.asarray(ends)
    k = np.searchsorted(s, writes, side="left")  # first sync starting at or after the write
    # a write at exactly a sync start is taken by that sync ((S_{k-1}, S_k] convention)
    visible = np.full(writes.shape, np.inf)
    ok = k < len(s)
    visible[ok] = e[k[ok]]
    return FollowerSimulation(writes, visible, s, e, np.asarray(counts, dtype=np.int64), T)
