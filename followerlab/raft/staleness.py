"""Staleness of CockroachDB follower reads: follower-read timestamps, closed timestamps, global reads.

Seconds for staleness, milliseconds for the GLOBAL tables' lead (as the names say).  Sources:
CRDB-FollowerReads and CRDB-GlobalTables (docs/references.rst).

>>> follower_read_timestamp_lag_s("v23.1")
4.2
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .._results import Result
from .._validate import as_float_array, check_probability


#: CockroachDB feature releases understood by :func:`follower_read_timestamp_lag_s`.
_KNOWN_VERSIONS = ("19.1", "19.2", "20.1", "20.2", "21.1", "21.2", "22.1", "22.2", "23.1",
                   "23.2", "24.1", "24.2", "24.3", "25.1", "25.2")


def follower_read_lag_s(target_duration_s=3.0, side_transport_interval_s=0.2, propagation_slack_s=1.0):
    """How far behind ``now`` ``follower_read_timestamp()`` reads, v21.2 and later (s).

    .. math:: \\text{lag} = \\text{target\\_duration} + \\text{side\\_transport\\_interval}
              + \\text{propagation\\_slack}

    Defaults are ``kv.closed_timestamp.target_duration`` 3 s,
    ``kv.closed_timestamp.side_transport_interval`` 200 ms and the 1 s propagation slack
    (CRDB-FollowerReads in docs/references.rst).  ``target_duration = 0`` disables follower reads:
    refused here, as no follower-read timestamp exists then.

    >>> float(follower_read_lag_s())
    4.2
    """
    target = as_float_array("target_duration_s", target_duration_s, minimum=0.0, strict_minimum=True)
    side = as_float_array("side_transport_interval_s", side_transport_interval_s, minimum=0.0)
    slack = as_float_array("propagation_slack_s", propagation_slack_s, minimum=0.0)
    return target + side + slack


def follower_read_timestamp_lag_s(version: str = "v23.1") -> float:
    """Staleness of an exact-staleness follower read, ``now - follower_read_timestamp()`` (s).

    ======================  =======================================================  ======
    versions                formula (defaults)                                        lag
    ======================  =======================================================  ======
    v19.1, v19.2            target 30 s x (1 + close_fraction 0.2 x multiple 3)       48 s
    v20.1 - v21.1           target 3 s x (1 + 0.2 x 3)                                4.8 s
    v21.2 and later         target 3 s + side transport 0.2 s + slack 1 s             4.2 s
    ======================  =======================================================  ======

    Source: CRDB-FollowerReads (docs/references.rst; the docs per version).  Releases after v23.1 are
    *assumed* to keep the v21.2 formula (the topology document is for v23.1).  Unknown versions are
    refused.

    Parameters
    ----------
    version : str
        ``"v23.1"``, ``"23.1"`` or a patch release like ``"v23.1.11"``.

    Examples
    --------
    >>> follower_read_timestamp_lag_s("v23.1"), follower_read_timestamp_lag_s("v20.2")
    (4.2, 4.8)
    >>> follower_read_timestamp_lag_s("v19.2")
    48.0
    >>> follower_read_timestamp_lag_s("v2.1")
    Traceback (most recent call last):
    ...
    ValueError: version must be a CockroachDB release from v19.1 to v25.2 (e.g. 'v23.1'); got 'v2.1'
    """
    match = re.fullmatch(r"v?(\d+)\.(\d+)(?:\.\d+)?", str(version).strip())
    key = f"{int(match.group(1))}.{int(match.group(2))}" if match else None
    if key not in _KNOWN_VERSIONS:
        raise ValueError(
            f"version must be a CockroachDB release from v{_KNOWN_VERSIONS[0]} to v{_KNOWN_VERSIONS[-1]} "
            f"(e.g. 'v23.1'); got {version!r}"
        )
    major, minor = (int(x) for x in key.split("."))
    if major == 19:
        return round(30.0 * (1 + 0.2 * 3), 10)
    if (major, minor) <= (21, 1):
        return round(3.0 * (1 + 0.2 * 3), 10)
    return round(float(follower_read_lag_s()), 10)


def global_reads_lead_ms(max_offset_ms=500.0, max_network_rtt_ms=150.0, side_transport_interval_ms=200.0,
                         raft_overhead_ms=20.0, buffer_ms=25.0, override_ms=0.0):
    """How far ahead of ``now`` a GLOBAL table's closed timestamp leads (ms).

    .. math::

        \\text{lead} = \\text{max\\_offset} + \\max\\bigl(1.5\\,\\mathrm{RTT}_{\\max} + 20,\\;
        0.5\\,\\mathrm{RTT}_{\\max} + \\text{side\\_transport\\_interval}\\bigr) + 25

    = 500 + max(245, 275) + 25 = **800 ms** with the defaults (CRDB-GlobalTables in docs/references.rst).  A non-zero
    ``override_ms`` (``kv.closed_timestamp.lead_for_global_reads_override``) replaces the lot.
    Source: CockroachDB ``closedts.TargetForPolicy`` (``LEAD_FOR_GLOBAL_READS``).

    Examples
    --------
    >>> global_reads_lead_ms()
    array(800.)
    >>> global_reads_lead_ms(side_transport_interval_ms=[50, 200], override_ms=[0, 1234])
    array([ 770., 1234.])
    """
    off = as_float_array("max_offset_ms", max_offset_ms, minimum=0.0)
    rtt = as_float_array("max_network_rtt_ms", max_network_rtt_ms, minimum=0.0)
    side = as_float_array("side_transport_interval_ms", side_transport_interval_ms, minimum=0.0)
    raft = as_float_array("raft_overhead_ms", raft_overhead_ms, minimum=0.0)
    buf = as_float_array("buffer_ms", buffer_ms, minimum=0.0)
    ov = as_float_array("override_ms", override_ms, minimum=0.0)
    lead = off + np.maximum(1.5 * rtt + raft, 0.5 * rtt + side) + buf
    return np.where(ov > 0, ov, lead)


@dataclass(frozen=True)
class ClosedTimestampLag(Result):
    """Age of the closed timestamp a follower holds, ``A = target + U*interval + d`` (s).

    ``U ~ Uniform(0, 1)`` is the phase since the last side-transport publication and ``d`` the
    one-way delay from the leaseholder.  Fields are arrays (broadcast).
    """

    min_s: np.ndarray
    mean_s: np.ndarray
    max_s: np.ndarray
    interval_s: np.ndarray

    def cdf(self, x_s):
        """P(A <= x): linear from ``min_s`` to ``max_s`` (a point mass when interval is 0)."""
        x = np.asarray(x_s, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            frac = np.where(self.interval_s > 0, (x - self.min_s) / self.interval_s, np.where(x >= self.min_s, 1.0, 0.0))
        return np.clip(frac, 0.0, 1.0)

    def sf(self, x_s):
        """P(A > x) = 1 - cdf(x)."""
        return 1.0 - self.cdf(x_s)

    def ppf(self, q):
        """The ``q``-quantile of A (s): ``min_s + q * interval_s``."""
        q = check_probability("q", q)
        return self.min_s + q * self.interval_s

    def mean(self):
        """E[A] (s): the ``mean_s`` field."""
        return self.mean_s

    def mean_given_at_most(self, x_s):
        """E[A | A <= x] (nan where P(A <= x) = 0)."""
        x = np.asarray(x_s, dtype=float)
        upper = np.minimum(x, self.max_s)
        return np.where(self.cdf(x) > 0, (self.min_s + upper) / 2, np.nan)


def closed_timestamp_lag(one_way_delay_ms=0.0, target_duration_s=3.0, side_transport_interval_s=0.2) -> ClosedTimestampLag:
    """Distribution of the closed timestamp's age at a follower.

    The leaseholder closes timestamps ``target_duration`` behind its clock and publishes them
    every ``side_transport_interval``; the follower receives them a one-way delay later.  At a
    random instant the follower's closed timestamp is

    .. math:: A = T + U\\,I + d,\\qquad U\\sim\\mathcal U(0,1)

    behind now: mean :math:`T + I/2 + d`, maximum :math:`T + I + d`.  Assumptions: no clock
    skew, publications exactly periodic, Raft traffic does not close timestamps sooner (it can
    only make A smaller, so this is the conservative side).  Source: CRDB-FollowerReads (closed timestamp
    settings, docs/references.rst).

    Examples
    --------
    >>> lag = closed_timestamp_lag(one_way_delay_ms=[0.0, 33.0])
    >>> lag.mean_s, lag.max_s
    (array([3.1  , 3.133]), array([3.2  , 3.233]))
    """
    d = as_float_array("one_way_delay_ms", one_way_delay_ms, minimum=0.0) / 1000.0
    t = as_float_array("target_duration_s", target_duration_s, minimum=0.0)
    i = as_float_array("side_transport_interval_s", side_transport_interval_s, minimum=0.0)
    lo = t + d
    lo, i = np.broadcast_arrays(lo, i)
    return ClosedTimestampLag(min_s=lo.copy(), mean_s=lo + i / 2, max_s=lo + i, interval_s=i.copy())
