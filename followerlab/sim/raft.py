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
from .._validate import as_float_array, as_int_array

__all__ = ["SimulatedCommits", "simulate_commits", "SimulatedWriteLoad", "simulate_write_load"]


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
    import pandas as pd

    if isinstance(rtt_ms, pd.DataFrame):
        labels = list(rtt_ms.index)
        arr = rtt_ms.to_numpy(dtype=float)
        pos = lambda x: labels.index(x) if x in labels else int(x)  # noqa: E731
    else:
        arr = np.asarray(rtt_ms, dtype=float)
        pos = int
    trials = int(as_int_array("trials", trials, minimum=1))
    intra = float(as_float_array("intra_region_rtt_ms", intra_region_rtt_ms, minimum=0.0))
    lpos = pos(leader)
    vpos = [pos(v) for v in voters]
    followers = list(vpos)
    followers.remove(lpos)
    n = len(vpos)
    quorum = n // 2 + 1
    k = len(followers)
    rng = np.random.default_rng(seed)
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
    lam = float(as_float_array("rate_per_s", rate_per_s, minimum=0.0, strict_minimum=True))
    b = int(as_int_array("batch", batch, minimum=1))
    n = int(as_int_array("n_voters", n_voters, minimum=1))
    m = int(as_int_array("proposals", proposals, minimum=b))
    random_commit = hasattr(commit_ms, "rvs")
    commit = 0.0 if random_commit else float(as_float_array("commit_ms", commit_ms, minimum=0.0))
    parts = [float(as_float_array(k, v, minimum=0.0)) for k, v in
             (("per_append_ms", per_append_ms), ("per_follower_ms", per_follower_ms),
              ("per_proposal_ms", per_proposal_ms))]
    service = parts[0] + (n - 1) * parts[1] + b * parts[2]
    if service <= 0:
        raise ValueError("per_append_ms, per_follower_ms and per_proposal_ms must not all be 0 (no service time)")
    rng = np.random.default_rng(seed)
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
