"""Write latency of a Raft group (ms): the commit round and the client's view, with and without jitter.

:func:`commit_latency` (deterministic, from the RTT matrix), :func:`write_latency` (client ->
gateway -> leaseholder -> commit -> client, GLOBAL tables included) and their distribution forms
with per-link jitter (:func:`commit_latency_distribution`, :func:`write_latency_distribution`).
Sources: Ongaro2014, etcd-Tuning, CRDB-FollowerReadsTopology (docs/references.rst).

>>> from followerlab.raft import load_rtt
>>> m = load_rtt("crdb-demo-rtt-2019.csv")
>>> float(commit_latency(m, "us-east1", ["us-east1", "us-west1", "europe-west1"]))
64.0
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import latency
from .._validate import as_float_array, as_int_array
from .staleness import global_reads_lead_ms
from .topology import Placement, _as_matrix, _expand, _index_of, _link_ms, rtt_matrix

def _voter_positions(m: pd.DataFrame, leader, voters):
    voters = _expand(voters, "voters")
    if len(voters) == 0:
        raise ValueError("voters must hold at least one voter; got none (no quorum can exist)")
    lpos = _index_of(m, leader, "leader")
    vpos = [_index_of(m, v, "voters") for v in voters]
    if lpos not in vpos:
        raise ValueError(f"leader {leader!r} is not among the voters {list(voters)}")
    followers = list(vpos)
    followers.remove(lpos)
    return lpos, np.asarray(followers, dtype=int), len(vpos)


def _check_quorum(quorum, n: int) -> int:
    if quorum is None:
        return n // 2 + 1
    q = int(as_int_array("quorum", quorum, minimum=1))
    if q > n:
        raise ValueError(f"quorum must be <= the {n} voters; got {q} (such a quorum cannot exist)")
    if 2 * q <= n:
        raise ValueError(f"quorum must be a majority (> {n / 2:g}) of the {n} voters; got {q}")
    return q


def commit_latency(rtt_ms, leader, voters, fsync_ms=0.0, *, intra_region_rtt_ms=0.0, quorum=None, per_hop_ms=0.0):
    """Time from the leader receiving a proposal to its commit, deterministic (ms).

    The leader appends (fsync) in parallel with sending the entry to every follower; follower
    ``f`` acknowledges after one round trip plus its own fsync.  With ``q`` the quorum, the
    entry commits once the leader's fsync and the ``(q-1)``-th fastest follower ack are done:

    .. math::

        C = \\max\\bigl(F,\\; (\\mathrm{RTT}_{L,f} + F)_{(q-1)}\\bigr),
        \\qquad q = \\lfloor n/2 \\rfloor + 1

    where :math:`x_{(k)}` is the k-th smallest over the followers and ``C = F`` for a single
    voter.  Followers in the leader's own region (same label) use ``intra_region_rtt_ms``.

    Assumptions: message processing and marshalling cost nothing; all voters fsync in
    ``fsync_ms`` (Ongaro2014, etcd-Tuning in docs/references.rst: a put costs at least one member-to-member RTT plus one fdatasync,
    the leader fsyncs in parallel with sending MsgApp).

    Parameters
    ----------
    rtt_ms : array_like (..., R, R) or DataFrame
        RTT matrix in ms; a stack of matrices (leading axes) broadcasts against ``fsync_ms``.
    leader : label or int
        Region name (DataFrame) or member index (array / integer position).
    voters : sequence of labels or mapping {label: count}
        Every voter, the leader included (a label repeats for several voters in one region).
    fsync_ms : float or array
        fdatasync time of one append (>= 0).
    intra_region_rtt_ms : float or array
        RTT between two voters in the same region (*assumed*, not in the data; default 0).
    quorum : int, optional
        Votes needed (default the majority); must be a majority and at most ``n``.
    per_hop_ms : float or array
        Processing cost of one delivered message (>= 0, default 0): each ack adds two (MsgApp
        out, MsgAppResp back), ``RTT + 2 h + F``; fit it with
        :func:`followerlab.validation.predict.fit_message_costs`.

    Returns
    -------
    numpy.ndarray
        Commit latency in ms, broadcast over ``fsync_ms``, ``per_hop_ms``, ``intra_region_rtt_ms`` and stacked
        matrices.

    Examples
    --------
    Three etcd members, RTT(i, j) = x_i + x_j with x = (5, 10, 20) ms, 2 ms fsync: the leader 0
    waits for its nearest follower (15 ms) plus that follower's fsync.

    >>> x = np.array([5.0, 10.0, 20.0]); rtt = x[:, None] + x[None, :]; np.fill_diagonal(rtt, 0)
    >>> commit_latency(rtt, 0, [0, 1, 2], fsync_ms=[0.0, 2.0])
    array([15., 17.])
    """
    fsync = as_float_array("fsync_ms", fsync_ms, minimum=0.0)
    intra = as_float_array("intra_region_rtt_ms", intra_region_rtt_ms, minimum=0.0)
    stacked = not isinstance(rtt_ms, pd.DataFrame) and np.ndim(rtt_ms) > 2
    if stacked:
        arr = as_float_array("rtt_ms", rtt_ms, minimum=0.0)
        if arr.shape[-1] != arr.shape[-2]:
            raise ValueError(f"rtt_ms must be square in its last two axes; got shape {arr.shape}")
        m = rtt_matrix(arr.reshape(-1, *arr.shape[-2:])[0])  # labels and checks of the first
        diag = np.diagonal(arr, axis1=-2, axis2=-1)
        if np.any(diag != 0):
            raise ValueError("rtt_ms must have a zero diagonal in every stacked matrix")
    else:
        m = _as_matrix(rtt_ms)
        arr = m.to_numpy()
    lpos, fpos, n = _voter_positions(m, leader, voters)
    q = _check_quorum(quorum, n)
    if q == 1:
        shape = np.broadcast_shapes(fsync.shape, intra.shape, arr.shape[:-2])
        return np.broadcast_to(fsync, shape).astype(float).copy()
    link = np.where(fpos == lpos, intra[..., None], arr[..., lpos, fpos]) if fpos.size else arr[..., lpos, fpos]
    acks = link + fsync[..., None] + 2.0 * as_float_array("per_hop_ms", per_hop_ms, minimum=0.0)[..., None]
    kth = np.sort(acks, axis=-1)[..., q - 2]
    return np.maximum(fsync, kth)


def _client_leg_ms(arr, client_pos, lh_pos, intra):
    """Client -> gateway (in the client's region) -> leaseholder -> gateway -> client, in ms."""
    return intra + _link_ms(arr, client_pos, lh_pos, intra)


def write_latency(rtt_ms, placement_: Placement, client_region, fsync_ms=0.0, *, intra_region_rtt_ms=0.0,
                  global_table: bool = False, max_offset_ms=500.0, **lead_kwargs):
    """Latency of a single-row write as the client sees it (ms), deterministic.

    .. math::

        T_w = \\mathrm{RTT}_{\\text{client,gw}} + \\mathrm{RTT}_{\\text{gw},L} + C

    with ``C`` from :func:`commit_latency` and the client -> gateway round trip inside the
    client's region equal to ``intra_region_rtt_ms``.  Pipelined writes and parallel commits
    make a transaction cost one consensus round at commit (CRDB-FollowerReadsTopology), so this is also a
    single-statement transaction.  For a GLOBAL table the write gets a future timestamp
    ``lead`` ahead (:func:`global_reads_lead_ms`) and commit-waits until it has passed:

    .. math::

        T_w^{\\text{global}} = \\mathrm{RTT}_{\\text{client,gw}}
          + \\max\\bigl(\\mathrm{RTT}_{\\text{gw},L} + C,\\; \\mathrm{RTT}_{\\text{gw},L}/2 + \\text{lead}\\bigr)

    (*assumption*: the timestamp is assigned at the leaseholder, half a round trip after the
    gateway sent the request, and the gateway waits until its clock passes it).

    Examples
    --------
    >>> from followerlab.raft import load_rtt, spread_placement
    >>> m = load_rtt("crdb-demo-rtt-2019.csv")
    >>> p = spread_placement(m, "us-east1")
    >>> float(write_latency(m, p, "us-west1"))     # 66 to the leaseholder + 64 to commit
    130.0
    >>> float(write_latency(m, p, "us-west1", global_table=True))   # 33 + 800 ms lead
    833.0
    """
    m = _as_matrix(rtt_ms)
    arr = m.to_numpy()
    intra = as_float_array("intra_region_rtt_ms", intra_region_rtt_ms, minimum=0.0)
    c = _index_of(m, client_region, "client_region")
    lh = _index_of(m, placement_.leaseholder, "leaseholder")
    commit = commit_latency(m, placement_.leaseholder, placement_.voters, fsync_ms, intra_region_rtt_ms=intra)
    to_lh = _link_ms(arr, c, lh, intra)
    if not global_table:
        return intra + to_lh + commit
    lead = global_reads_lead_ms(max_offset_ms=max_offset_ms, **lead_kwargs)
    return intra + np.maximum(to_lh + commit, to_lh / 2 + lead)


# --------------------------------------------------------------------------------------------
# Write latency with jitter: distributions (followerlab.latency)
# --------------------------------------------------------------------------------------------


def _as_dist(name: str, value):
    if value is None:
        return None
    if np.isscalar(value) and not isinstance(value, str):
        return latency.constant(float(as_float_array(name, value, minimum=0.0)))
    if not (hasattr(value, "cdf") and hasattr(value, "ppf")):
        raise ValueError(f"{name} must be a latency distribution (cdf, ppf) or a number of ms; got {value!r}")
    return value


def commit_latency_distribution(rtt_ms, leader, voters, fsync=0.0, *, link_jitter=None, intra_region_rtt_ms=0.0,
                                quorum=None):
    """Distribution of the commit latency when links and disks jitter (ms).

    Follower ``f``'s ack takes :math:`X_f = \\mathrm{RTT}_{L,f} + J_f + F_f` with independent
    round-trip jitter ``J_f ~ link_jitter`` and fsync ``F_f ~ fsync``; the leader's own fsync is
    ``F_L``.  The entry commits at

    .. math:: C = \\max\\bigl(F_L,\\; X_{(q-1)}\\bigr),

    the ``(q-1)``-th smallest ack (:func:`followerlab.latency.order_statistic`, exact CDF of
    independent non-identical latencies) and the leader's fsync
    (:func:`followerlab.latency.maximum`).  With constant fsync and no jitter this is the point
    mass :func:`commit_latency`.  Assumption: all jitters and fsyncs are independent (no shared
    congestion).

    Parameters
    ----------
    rtt_ms, leader, voters, intra_region_rtt_ms, quorum
        As in :func:`commit_latency` (a single 2-D matrix; scalar intra RTT).
    fsync : latency distribution or float
        fdatasync time of every voter (ms).
    link_jitter : latency distribution, optional
        Extra round-trip delay above the RTT on each leader-follower link (ms, >= 0).

    Returns
    -------
    latency distribution
        ``cdf``, ``ppf``, ``mean()``, ``rvs``.

    Examples
    --------
    >>> from followerlab.raft import load_rtt
    >>> from followerlab import latency
    >>> m = load_rtt("crdb-demo-rtt-2019.csv")
    >>> d = commit_latency_distribution(m, "us-east1", list(m.index), fsync=2.0,
    ...                                 link_jitter=latency.exponential(2.0))
    >>> round(float(d.ppf(0.5)), 3)        # fastest of 64+2+E, 66+2+E (E ~ Exp(mean 2))
    67.386
    """
    m = _as_matrix(rtt_ms)
    arr = m.to_numpy()
    intra = float(as_float_array("intra_region_rtt_ms", intra_region_rtt_ms, minimum=0.0))
    lpos, fpos, n = _voter_positions(m, leader, voters)
    q = _check_quorum(quorum, n)
    f = _as_dist("fsync", fsync)
    j = _as_dist("link_jitter", link_jitter)
    if q == 1:
        return f
    per_link = f if j is None else latency.convolve(j, f)
    acks = [latency.shifted(per_link, float(_link_ms(arr, lpos, p, intra))) for p in fpos]
    kth = latency.order_statistic(acks, q - 1)
    if isinstance(f, latency.Constant) and float(np.asarray(f.ppf(0.5))) <= float(np.asarray(kth.ppf(0.0))):
        return kth  # the leader's fsync is never the last to finish
    return latency.maximum([f, kth])


def write_latency_distribution(rtt_ms, placement_: Placement, client_region, fsync=0.0, *, link_jitter=None,
                               intra_region_rtt_ms=0.0):
    """Distribution of a write's latency as the client sees it (ms), with jitter.

    .. math:: T_w = r_0 + \\mathrm{RTT}_{c,L} + J_{c,L} + C

    with ``C`` from :func:`commit_latency_distribution`, ``r_0`` the in-region client ->
    gateway round trip (``intra_region_rtt_ms``) and ``J_{c,L}`` one more independent link
    jitter when the client is outside the leaseholder's region.

    Examples
    --------
    >>> from followerlab.raft import load_rtt, spread_placement
    >>> m = load_rtt("crdb-demo-rtt-2019.csv")
    >>> d = write_latency_distribution(m, spread_placement(m, "us-east1"), "us-west1", fsync=1.0)
    >>> float(d.ppf(0.99))      # 66 + (64 + 1): no jitter, a point mass
    131.0
    """
    m = _as_matrix(rtt_ms)
    arr = m.to_numpy()
    intra = float(as_float_array("intra_region_rtt_ms", intra_region_rtt_ms, minimum=0.0))
    c = _index_of(m, client_region, "client_region")
    lh = _index_of(m, placement_.leaseholder, "leaseholder")
    commit = commit_latency_distribution(m, placement_.leaseholder, placement_.voters, fsync,
                                         link_jitter=link_jitter, intra_region_rtt_ms=intra)
    leg = intra + float(_link_ms(arr, c, lh, intra))
    j = _as_dist("link_jitter", link_jitter)
    if j is not None and c != lh:
        commit = latency.convolve(j, commit)
    return latency.shifted(commit, leg)
