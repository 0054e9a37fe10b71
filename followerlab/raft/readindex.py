"""Linearizable reads under load: etcd's ReadIndex loop serves the waiting reads in rounds.

etcd answers a linearizable read only after its leader has confirmed, with one heartbeat
round to a quorum, that it still leads (Raft ReadIndex, Ongaro2014 section 6.4).  It does not
run one round per read: a single loop (``linearizableReadLoop``, etcd-ReadLoop) runs one round
at a time, and every read that arrives while a round is in flight waits for the *next* round,
which starts as soon as the current one ends.  One read alone costs one round; under load a
read also waits for the rest of the round in flight, so its latency lies between one and two
rounds.  :func:`readindex_read_load` gives that law in closed form.

Sources: Ongaro2014, etcd-ReadLoop (docs/references.rst).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._results import Result
from .._validate import as_float_array, broadcast_all, check_probability

__all__ = ["ReadIndexLoad", "readindex_read_load"]


@dataclass(frozen=True)
class ReadIndexLoad(Result):
    """Linearizable read latency (ms) under load (see :func:`readindex_read_load`).

    ``busy_share`` is the share of time a round is in flight, which is also the share of reads
    that wait for one (PASTA); ``rounds_per_s`` the rounds the leader runs per second;
    ``mean_batch`` the mean number of reads per round.  Exact for the model.

    References
    ----------
    Ongaro2014, etcd-ReadLoop (docs/references.rst).
    """

    rate_per_s: np.ndarray
    round_ms: np.ndarray
    overhead_ms: np.ndarray
    busy_share: np.ndarray
    rounds_per_s: np.ndarray
    mean_batch: np.ndarray
    mean_ms: np.ndarray
    p50_ms: np.ndarray
    p99_ms: np.ndarray

    def mean(self) -> np.ndarray:
        """Mean read latency (ms): the ``mean_ms`` field."""
        return self.mean_ms

    def cdf(self, t_ms) -> np.ndarray:
        """P(latency <= t_ms), broadcast with the configurations: an atom of ``1 - busy_share``
        at ``overhead_ms + round_ms``, then uniform up to ``overhead_ms + 2 round_ms``.

        >>> float(readindex_read_load(100.0, 10.0).cdf(15.0))      # 1 - b + b / 2, b = 1 / (1 + 1/e)
        0.6344...
        """
        t = as_float_array("t_ms", t_ms, allow_inf=True)
        x = (t - self.overhead_ms - self.round_ms) / self.round_ms
        b = self.busy_share
        return np.where(x < 0.0, 0.0, np.minimum(1.0, (1.0 - b) + b * np.clip(x, 0.0, 1.0)))

    def ppf(self, q) -> np.ndarray:
        """The latency quantile (ms) at probability ``q`` (the generalized inverse of :meth:`cdf`).

        >>> readindex_read_load([1.0, 1000.0], 10.0).ppf(0.99).round(3).tolist()
        [10.0, 19.9]
        """
        q = check_probability("q", q)
        return _quantile(q, self.busy_share, self.round_ms, self.overhead_ms)


def _quantile(q, busy, round_ms, overhead_ms):
    """inf{t : F(t) >= q} of the mixture: the atom below ``1 - busy``, the uniform part above."""
    above = q > 1.0 - busy
    frac = np.where(above, (q - (1.0 - busy)) / np.where(busy > 0, busy, 1.0), 0.0)
    return overhead_ms + round_ms * (1.0 + frac)


def readindex_read_load(rate_per_s, round_ms, overhead_ms=0.0) -> ReadIndexLoad:
    """Latency of linearizable reads at the leader vs the read rate, with etcd's read loop.

    **Model.**  Reads arrive at the leader as a Poisson stream of rate λ.  One loop serves them
    in *rounds* of ``round_ms`` R (a heartbeat to the followers and a quorum of answers, plus
    the leader's own processing of the round): when a read arrives and no round is in flight,
    a round starts at once and answers it; a read that arrives during a round waits for the
    next round, which starts when the current one ends and answers every read that waited
    (etcd-ReadLoop: a read takes the current notifier and signals the loop; the loop swaps the
    notifier when it starts a round and fires the old one when the round ends).  Every read
    also pays ``overhead_ms`` c outside the loop (the client API, the range itself).  Writes
    are not modelled: a read that must wait for the leader to apply a committed entry waits
    longer.

    **Exact solution.**  The loop alternates idle periods, Exp(λ), with busy periods of
    back-to-back rounds; after each round another follows if a read arrived during it,
    probability :math:`1 - e^{-x}`, :math:`x = \\lambda R`, so a busy period has
    :math:`e^{x}` rounds on average.  The share of time a round is in flight is

    .. math:: \\beta = \\frac{R e^{x}}{1/\\lambda + R e^{x}} = \\frac{x}{x + e^{-x}},

    the rounds per second are :math:`\\beta / R = \\lambda / (x + e^{-x})` and a round serves
    :math:`x + e^{-x}` reads on average.  A Poisson arrival finds a round in flight with
    probability β (PASTA), at an age uniform on [0, R], so its latency is

    .. math:: L = c + R + B\\,U R, \\qquad B \\sim \\text{Bernoulli}(\\beta),\\ U \\sim U(0, 1),

    with mean :math:`c + R (1 + \\beta/2)`, p50 = c + R while β ≤ 1/2 (x ≤ 0.567) and the
    quantile :math:`c + R\\,(1 + (q - 1 + \\beta)/\\beta)` for q > 1 − β.  So the latency grows
    from one round at light load to between one and two rounds (mean 1.5) under heavy load;
    the loop never saturates (a round serves any number of reads).  This is the greedy bulk
    queue of :func:`followerlab.raft.greedy_write_load` with a constant service time, no
    per-entry time and no stalls (tests check the two against each other and against
    :func:`followerlab.sim.simulate_greedy_write_load`).

    Parameters
    ----------
    rate_per_s : array_like
        Read rate λ at the leader (> 0, reads/s).
    round_ms : array_like
        Duration R of one ReadIndex round (> 0, ms), assumed the same for every round.
    overhead_ms : array_like
        Per-read time outside the loop (>= 0, ms).

    Returns
    -------
    ReadIndexLoad
        Broadcast over the three inputs.

    Assumptions
    -----------
    Poisson reads; a constant round time (a jittered round makes the atom at c + R a ramp;
    the simulation measures how much); reads do not wait for writes to apply; the leader's CPU
    is not a bottleneck for the reads themselves.

    References
    ----------
    Ongaro2014 (ReadIndex, section 6.4 of the thesis; docs/references.rst), etcd-ReadLoop
    (``linearizableReadLoop`` and ``linearizableReadNotify`` in etcd 3.4's
    ``etcdserver/v3_server.go``).

    Examples
    --------
    One read per 10-ms round on average (x = 1): 73 % of reads wait for a round in flight.

    >>> r = readindex_read_load(100.0, 10.0, overhead_ms=2.0)
    >>> round(float(r.busy_share), 4), round(float(r.mean_ms), 3), round(float(r.p50_ms), 3), round(float(r.p99_ms), 3)
    (0.7311, 15.655, 15.161, 21.863)
    """
    lam = as_float_array("rate_per_s", rate_per_s, minimum=0.0, strict_minimum=True)
    R = as_float_array("round_ms", round_ms, minimum=0.0, strict_minimum=True)
    c = as_float_array("overhead_ms", overhead_ms, minimum=0.0)
    lam, R, c = broadcast_all(lam, R, c, names=("rate_per_s", "round_ms", "overhead_ms"))
    x = lam * R / 1000.0
    batch = x + np.exp(-x)
    busy = x / batch
    return ReadIndexLoad(
        rate_per_s=lam, round_ms=R, overhead_ms=c, busy_share=busy, rounds_per_s=lam / batch,
        mean_batch=batch, mean_ms=c + R * (1.0 + busy / 2.0),
        p50_ms=_quantile(0.5, busy, R, c), p99_ms=_quantile(0.99, busy, R, c))
