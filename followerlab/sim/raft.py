"""Message-by-message simulation of Raft commits and of the leader under write load.

Independent of the analytic code in :mod:`followerlab.raft`: no order statistics, no queueing
formulas.  :func:`simulate_commits` replays one log entry per trial as discrete events (leader
append + fsync, a MsgApp to each follower, the follower's append + fsync, a MsgAppResp back,
the leader advancing its commit index when a quorum's match index reaches the entry).
:func:`simulate_write_load` runs a stream of proposals through a leader that batches them into
appends and serves appends one at a time (Lindley's recursion).

>>> import numpy as np
>>> rtt = np.array([[0, 10, 30], [10, 0, 30], [30, 30, 0.0]])
>>> sim = simulate_commits(rtt, 0, [0, 1, 2], fsync=1.0, trials=3, seed=1)
>>> sim.commit_ms.tolist()       # nearest follower: 10 ms round trip + its 1 ms fsync
[11.0, 11.0, 11.0]
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np

from .._results import Result
from .._validate import as_float, as_float_array, as_int, as_rng

__all__ = ["SimulatedCommits", "simulate_commits", "SimulatedWriteLoad", "simulate_write_load",
           "simulate_greedy_write_load"]


def _check_dist(name: str, dist):
    """None, a number of ms >= 0 or anything with ``rvs``; else a named error."""
    if dist is None or hasattr(dist, "rvs"):
        return dist
    return as_float(name, dist, minimum=0.0)


def _positions(rtt_ms, leader, voters):
    """The RTT matrix (ms) and the leader's and voters' positions in it, checked by name."""
    import pandas as pd

    if isinstance(rtt_ms, pd.DataFrame):
        labels = list(rtt_ms.index)
        arr = as_float_array("rtt_ms", rtt_ms.to_numpy(dtype=float), minimum=0.0)
    else:
        labels = None
        arr = as_float_array("rtt_ms", rtt_ms, minimum=0.0)
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1] or arr.shape[0] == 0:
        raise ValueError(f"rtt_ms must be a non-empty square matrix; got shape {arr.shape}")

    def pos(name, x):
        if labels is not None and isinstance(x, str) and x in labels:
            return labels.index(x)
        if isinstance(x, (int, np.integer)) and not isinstance(x, bool) and 0 <= x < arr.shape[0]:
            return int(x)
        known = labels if labels is not None else f"positions 0..{arr.shape[0] - 1}"
        raise ValueError(f"{name} names unknown region {x!r}; known: {known}")

    if isinstance(voters, (str, bytes)) or not hasattr(voters, "__iter__"):
        raise ValueError(f"voters must be a list of regions; got {voters!r}")
    vpos = [pos("voters", v) for v in voters]
    lpos = pos("leader", leader)
    if lpos not in vpos:
        raise ValueError(f"leader {leader!r} is not among the voters {list(voters)}")
    return arr, lpos, vpos


def _draw(dist, size, rng) -> np.ndarray:
    """Samples in ms from a distribution (``rvs``), a constant, or None (zeros)."""
    if dist is None:
        return np.zeros(size)
    if np.isscalar(dist):
        return np.full(size, float(dist))
    x = np.asarray(dist.rvs(size=size, random_state=rng), dtype=float).reshape(size)
    if np.any(x < 0) or not np.all(np.isfinite(x)):
        raise ValueError(f"latency samples must be finite and >= 0; got min {x.min()!r}")
    return x


@dataclass(frozen=True)
class SimulatedCommits(Result):
    """Per-trial commit times (ms after the leader received the proposal) and message counts."""

    commit_ms: np.ndarray
    messages: np.ndarray


def simulate_commits(rtt_ms, leader, voters, *, fsync=0.0, one_way_jitter=None, intra_region_rtt_ms=0.0,
                     trials: int = 10_000, seed=None) -> SimulatedCommits:
    """Replay a Raft append message by message, ``trials`` times.

    Events per trial (time 0 = the leader receives the proposal):

    * the leader appends to its log and starts its fsync (done after ``F_L``), and at the same
      time sends ``MsgApp`` to every follower;
    * ``MsgApp`` reaches follower ``f`` after ``RTT/2 + J`` (one-way half of the RTT plus an
      independent ``one_way_jitter`` draw); the follower appends and fsyncs (``F_f``) and sends
      ``MsgAppResp``;
    * ``MsgAppResp`` reaches the leader after another ``RTT/2 + J'``;
    * the leader sets ``match[f]`` and commits as soon as the entry is durable on a majority,
      counting itself only once its own fsync is done.

    Parameters
    ----------
    rtt_ms : array (R, R) or DataFrame
        Round-trip times in ms (a DataFrame's labels name the voters).
    leader, voters
        Labels (DataFrame) or integer positions; the leader is one of the voters.
    fsync, one_way_jitter : distribution with ``rvs``, float, or None
    intra_region_rtt_ms : float
        RTT between voters with the same label.
    trials : int
    seed : int or Generator

    Returns
    -------
    SimulatedCommits
    """
    arr, lpos, vpos = _positions(rtt_ms, leader, voters)
    trials = as_int("trials", trials, minimum=1, maximum=10**7)
    intra = as_float("intra_region_rtt_ms", intra_region_rtt_ms, minimum=0.0)
    fsync = _check_dist("fsync", fsync)
    one_way_jitter = _check_dist("one_way_jitter", one_way_jitter)
    followers = list(vpos)
    followers.remove(lpos)
    n = len(vpos)
    quorum = n // 2 + 1
    k = len(followers)
    rng = as_rng("seed", seed)
    leader_fsync = _draw(fsync, trials, rng)
    follower_fsync = _draw(fsync, (trials, k), rng)
    out_jitter = _draw(one_way_jitter, (trials, k), rng)
    back_jitter = _draw(one_way_jitter, (trials, k), rng)
    half = np.array([(intra if f == lpos else arr[lpos, f]) / 2.0 for f in followers])
    commit = np.empty(trials)
    messages = np.zeros(trials, dtype=np.int64)
    for t in range(trials):
        events = [(leader_fsync[t], 0, "leader_durable", -1)]
        for i in range(k):
            events.append((half[i] + out_jitter[t, i], 1, "msgapp_arrives", i))
        heapq.heapify(events)
        durable = 0
        sent = k
        while events:
            now, _, kind, i = heapq.heappop(events)
            if kind == "msgapp_arrives":
                heapq.heappush(events, (now + follower_fsync[t, i], 2, "follower_durable", i))
            elif kind == "follower_durable":
                sent += 1
                heapq.heappush(events, (now + half[i] + back_jitter[t, i], 3, "msgappresp_arrives", i))
            else:  # leader_durable or an ack arrived: the entry is durable on one more voter
                durable += 1
                if durable >= quorum:
                    commit[t] = now
                    break
        messages[t] = sent
    return SimulatedCommits(commit_ms=commit, messages=messages)


@dataclass(frozen=True)
class SimulatedWriteLoad(Result):
    """Per-proposal latency (ms), per-append queue wait (ms) and the leader's measured utilization.

    ``latency_ms[m]`` belongs to the m-th proposal (arrival order); ``queue_wait_ms[j]`` is the
    time the j-th append waited for the leader after its last proposal arrived.
    """

    latency_ms: np.ndarray
    utilization: float
    queue_wait_ms: np.ndarray

    def to_frame(self):
        """One row per proposal: its latency and the queue wait of the append that carried it."""
        import pandas as pd

        per_append = self.latency_ms.size // max(self.queue_wait_ms.size, 1)
        wait = np.repeat(self.queue_wait_ms, per_append)
        return pd.DataFrame({"latency_ms": self.latency_ms[:wait.size], "append_queue_wait_ms": wait,
                             "utilization": self.utilization})


def simulate_write_load(rate_per_s: float, n_voters: int = 3, commit_ms: float = 0.0, *, batch: int = 1,
                        per_append_ms: float = 1.0, per_follower_ms: float = 0.1, per_proposal_ms: float = 0.05,
                        proposals: int = 50_000, seed=None) -> SimulatedWriteLoad:
    """Poisson proposals, batched ``batch`` at a time, through a leader serving appends FIFO.

    Proposal ``m`` arrives at the sum of ``m`` independent exponential gaps (mean 1/λ); the
    proposals ``jb+1 .. (j+1)b`` form append ``j``, which is *ready* when its ``b``-th proposal
    arrives (no timeout).  The leader starts an append when it is ready and the previous one
    has finished, ``start_j = max(ready_j, finish_{j-1})``, and is busy for
    ``per_append_ms + (n_voters - 1) * per_follower_ms + batch * per_proposal_ms``; each of the
    append's proposals completes ``commit_ms`` after the append finishes (a number, or a
    distribution with ``rvs``: one draw per append, shared by its proposals).  Lindley's recursion
    over appends, evaluated in closed form for the constant append time
    (``finish_j = (j + 1) S + max_{k <= j}(ready_k - k S)``, the same numbers as the loop);
    no formula from :mod:`followerlab.queueing` or :func:`followerlab.raft.write_load` is used.
    The run starts with an idle leader: drop a warm-up prefix before estimating stationary
    quantities.  A trailing partial batch (``proposals % batch``) is not simulated.

    >>> s = simulate_write_load(100.0, 3, 5.0, batch=4, proposals=8, seed=1)
    >>> s.latency_ms.size, s.queue_wait_ms.size
    (8, 2)
    """
    lam = as_float("rate_per_s", rate_per_s, minimum=0.0, strict_minimum=True)
    b = as_int("batch", batch, minimum=1)
    n = as_int("n_voters", n_voters, minimum=1)
    m = as_int("proposals", proposals, minimum=b, maximum=10**8)
    random_commit = hasattr(commit_ms, "rvs")
    commit = 0.0 if random_commit else as_float("commit_ms", commit_ms, minimum=0.0)
    parts = [as_float(k, v, minimum=0.0) for k, v in
             (("per_append_ms", per_append_ms), ("per_follower_ms", per_follower_ms),
              ("per_proposal_ms", per_proposal_ms))]
    service = parts[0] + (n - 1) * parts[1] + b * parts[2]
    if service <= 0:
        raise ValueError("per_append_ms, per_follower_ms and per_proposal_ms must not all be 0 (no service time)")
    if not np.isfinite(service) or not np.isfinite(1000.0 / lam):
        raise ValueError(f"no finite simulation for rate_per_s={lam!r}, per_append_ms={parts[0]!r}, "
                         f"per_follower_ms={parts[1]!r}, per_proposal_ms={parts[2]!r}, n_voters={n}, batch={b}")
    rng = as_rng("seed", seed)
    arrivals = np.cumsum(rng.exponential(1000.0 / lam, size=m - m % b))
    ready = arrivals[b - 1::b]  # an append is ready when its last proposal arrives
    j = np.arange(ready.size)
    finish = (j + 1) * service + np.maximum.accumulate(ready - j * service)
    # start_j = max(ready_j, finish_{j-1}) taken literally, so a batch that did not wait shows 0
    start = np.maximum(ready, np.concatenate(([-np.inf], finish[:-1])))
    finish = start + service
    if random_commit:  # one commit round per append, shared by its proposals
        finish_commit = finish + _draw(commit_ms, finish.size, rng)
    else:
        finish_commit = finish + commit
    latency = np.repeat(finish_commit, b) - arrivals
    busy = ready.size * service / (finish[-1] - arrivals[0])
    return SimulatedWriteLoad(latency_ms=latency, utilization=float(busy), queue_wait_ms=start - ready)


def simulate_greedy_write_load(rate_per_s: float, n_voters: int = 3, commit_ms: float = 0.0, *,
                               per_append_ms: float = 1.0, per_follower_ms: float = 0.1,
                               per_proposal_ms: float = 0.05, stall_ms: float = 0.0,
                               stall_probability: float = 0.0, proposals: int = 50_000,
                               seed=None) -> SimulatedWriteLoad:
    """Poisson proposals through a leader that appends every waiting proposal at once.

    An event loop over appends: when the leader is free at time ``t`` it takes all proposals
    that arrived by ``t`` (or, if none, waits for the next one and takes it and any arriving
    at the same instant), and is busy for ``per_append_ms + (n_voters - 1) * per_follower_ms
    + k * per_proposal_ms`` for ``k`` proposals, plus ``stall_ms`` with probability
    ``stall_probability`` (one draw per append); each completes ``commit_ms`` after its append
    ends.  No formula of :func:`followerlab.raft.greedy_write_load` is used.  The run starts
    idle: drop a warm-up prefix for stationary estimates.  ``queue_wait_ms`` holds, per
    proposal, the time from its arrival to the start of its append.

    >>> s = simulate_greedy_write_load(100.0, 3, 5.0, proposals=4, seed=1)
    >>> s.latency_ms.size
    4
    """
    lam = as_float("rate_per_s", rate_per_s, minimum=0.0, strict_minimum=True)
    n = as_int("n_voters", n_voters, minimum=1)
    m = as_int("proposals", proposals, minimum=1, maximum=10**8)
    commit = as_float("commit_ms", commit_ms, minimum=0.0)
    a, f, p = (as_float(k, v, minimum=0.0) for k, v in
               (("per_append_ms", per_append_ms), ("per_follower_ms", per_follower_ms),
                ("per_proposal_ms", per_proposal_ms)))
    d = as_float("stall_ms", stall_ms, minimum=0.0)
    q = as_float("stall_probability", stall_probability, minimum=0.0, maximum=1.0)
    c = a + (n - 1) * f
    if c <= 0:
        raise ValueError("per_append_ms + (n_voters - 1) * per_follower_ms must be > 0")
    rng = as_rng("seed", seed)
    arrivals = np.cumsum(rng.exponential(1000.0 / lam, size=m))
    stalls = np.where(rng.random(m) < q, d, 0.0)       # at most one append per proposal
    latency = np.empty(m)
    wait = np.empty(m)
    i, free, busy, appends = 0, -np.inf, 0.0, 0
    while i < m:
        start = max(arrivals[i], free)
        j = int(np.searchsorted(arrivals, start, side="right"))
        service = c + (j - i) * p + stalls[appends]
        appends += 1
        free = start + service
        busy += service
        latency[i:j] = free + commit - arrivals[i:j]
        wait[i:j] = start - arrivals[i:j]
        i = j
    return SimulatedWriteLoad(latency_ms=latency, utilization=float(busy / (free - arrivals[0])),
                              queue_wait_ms=wait)
