"""Query heads: how many weakly consistent query heads a cluster policy yields.

Under weak consistency, query planning moves from the database admin node to query heads:
20% of the nodes by default, at least 2 and at most 30 (cluster policy
``query_weak_consistency``).  :func:`query_head_count` gives the count, vectorized.

Sources: ADX-WeakConsistencyPolicy in docs/references.rst.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._results import Result
from .._validate import as_float_array, as_int_array

__all__ = ["QueryHeads", "query_head_count"]


@dataclass(frozen=True)
class QueryHeads(Result):
    """Number of weakly consistent query heads a policy yields.

    Attributes
    ----------
    nodes : ndarray of int
        Cluster size.
    heads : ndarray of int
        Query heads, ``min(clamp(ceil(pct/100 * nodes), minimum, maximum), nodes)``.
    data_nodes : ndarray of int
        Nodes that hold data: all of them, or ``nodes - heads`` above the super-slacker threshold.
    heads_hold_data : ndarray of bool
        False when the cluster is above ``super_slacker_threshold`` (heads only plan queries).

    References
    ----------
    ADX-WeakConsistencyPolicy (the cluster policy's node counts and super-slacker threshold) and
    Leibowitz2023 (query heads plan weak queries) in docs/references.rst.
    """

    nodes: np.ndarray
    heads: np.ndarray
    data_nodes: np.ndarray
    heads_hold_data: np.ndarray


def query_head_count(nodes, percentage=20, minimum=2, maximum=30, super_slacker_threshold=None) -> QueryHeads:
    r"""Query heads under the cluster policy ``query_weak_consistency``.

    .. math::

        H = \min\bigl(\max(\min(\lceil p N / 100 \rceil, H_{max}), H_{min}),\ N\bigr)

    Parameters
    ----------
    nodes : array_like of int
        Nodes in the cluster, >= 1.
    percentage : array_like, default 20
        ``PercentageOfNodes``, 1..100.
    minimum, maximum : array_like of int, default 2, 30
        ``MinimumNumberOfNodes`` and ``MaximumNumberOfNodes``; ``1 <= minimum <= maximum``.
    super_slacker_threshold : array_like of int or None
        ``SuperSlackerNumberOfNodesThreshold``: above this cluster size heads hold no data.
        None (the default) means never.

    Returns
    -------
    QueryHeads

    Notes
    -----
    Source: ADX-WeakConsistencyPolicy in docs/references.rst (defaults 20%, 2, 30; 15 nodes give 3 heads).
    How a fractional count rounds is not published: **assumed** round up, then clamp to
    ``[minimum, maximum]``; a cluster cannot have more heads than nodes (*assumed* cap).  The
    product's example (15 nodes -> 3 heads) is consistent with this rule (20% of 15 is exactly 3).

    References
    ----------
    ADX-WeakConsistencyPolicy (PercentageOfNodes, MinimumNumberOfNodes, MaximumNumberOfNodes,
    SuperSlackerNumberOfNodesThreshold; defaults 20 %, 2, 30) and Leibowitz2023 (20 % of the
    nodes, at least 2, at most 30) in docs/references.rst.

    Examples
    --------
    >>> query_head_count([1, 5, 15, 16, 200]).heads
    array([ 1,  2,  3,  4, 30])
    >>> query_head_count(100, super_slacker_threshold=50).data_nodes
    array(80)
    """
    n = as_int_array("nodes", nodes, minimum=1)
    pct = as_float_array("percentage", percentage, minimum=1.0, maximum=100.0)
    lo = as_int_array("minimum", minimum, minimum=1)
    hi = as_int_array("maximum", maximum, minimum=1)
    bad = lo > hi
    if np.any(bad):
        lo_b, hi_b = np.broadcast_arrays(lo, hi)
        raise ValueError(f"minimum must be <= maximum; got minimum={lo_b[bad].tolist()} > maximum={hi_b[bad].tolist()}")
    # ceil with a guard against binary round-off (e.g. 7 * 100 / 100 computed as 7.000000001)
    raw = np.ceil(pct * n / 100.0 - 1e-9).astype(np.int64)
    heads = np.minimum(np.clip(raw, lo, hi), n)
    if super_slacker_threshold is None:
        hold = np.ones_like(heads, dtype=bool)
    else:
        thr = as_int_array("super_slacker_threshold", super_slacker_threshold, minimum=1)
        hold = np.broadcast_to(n <= thr, heads.shape).copy()
    n_b = np.broadcast_to(n, heads.shape)
    data_nodes = np.where(hold, n_b, n_b - heads)
    return QueryHeads(nodes=np.asarray(n_b), heads=heads, data_nodes=np.asarray(data_nodes), heads_hold_data=hold)
