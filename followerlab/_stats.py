r"""Quantiles of discrete (weighted) distributions, shared by every model that pools latencies.

One helper replaces the copies that lived in ``raft``, ``follower``, ``explore`` and notebook 03:
a workload's latency is often a finite mixture -- per client region a local or a redirected
read, per query a hot or a cold scan -- and its median or 99th percentile is the quantile of
that discrete law.

References
----------
The definition is the "inverted CDF" quantile, definition 1 of HyndmanFan1996 (docs/references.rst),
the one numpy uses for ``np.quantile(..., method="inverted_cdf")`` on equally weighted samples.
"""

from __future__ import annotations

import numpy as np

__all__ = ["weighted_quantile"]

#: Relative slack on the cumulative weight, so that 0.99 is reached by weights summing to
#: 0.99 up to rounding (e.g. 99 equal weights of 1/100).
_SLACK = 1e-12


def weighted_quantile(values, weights, q, axis: int = 0):
    r"""Quantile ``q`` of the discrete law that puts ``weights`` on ``values``.

    .. math:: Q(q) = \min\{v_i : \textstyle\sum_{j: v_j \le v_i} w_j \ge q \sum_j w_j\}

    the smallest value whose cumulative weight reaches the share ``q`` of the total (weights
    need not sum to 1; a point of weight 0 is never the answer).  Exact for the
    discrete law (no interpolation).

    Parameters
    ----------
    values : array_like
        Support points; ``inf`` is allowed (a saturated or unavailable path).  NaN is refused.
    weights : array_like
        Non-negative weights, broadcast against ``values``; their sum along ``axis`` must be > 0.
    q : float or array_like
        Probability level(s) in [0, 1].  An array of levels gives a leading axis of that shape.
    axis : int
        The axis of ``values`` that holds the support points (default 0).  The other axes are
        independent distributions (vectorized).

    Returns
    -------
    numpy.ndarray
        Shape ``q.shape + values.shape`` without ``axis`` (a 0-d array for scalar ``q`` and 1-d
        ``values``).

    Raises
    ------
    ValueError
        A NaN value, a negative or NaN weight, a zero total weight, or ``q`` outside [0, 1].

    References
    ----------
    HyndmanFan1996, definition 1 (inverted CDF), in docs/references.rst.

    Examples
    --------
    >>> float(weighted_quantile([68.0, 133.0, 131.0], [1/3, 1/3, 1/3], 0.5))
    131.0
    >>> weighted_quantile([2.0, 80.0], [0.9, 0.1], [0.5, 0.9, 0.99]).tolist()
    [2.0, 2.0, 80.0]
    >>> weighted_quantile([[1.0, 1.0], [5.0, 9.0]], [[0.5, 0.995], [0.5, 0.005]], 0.99).tolist()
    [5.0, 1.0]
    """
    v = np.asarray(values, dtype=float)
    w = np.asarray(weights, dtype=float)
    if np.any(np.isnan(v)):
        raise ValueError(f"values must not be NaN; got {v.tolist()!r}")
    if np.any(np.isnan(w)) or np.any(w < 0) or np.any(np.isinf(w)):
        raise ValueError(f"weights must be finite and >= 0; got {w.tolist()!r}")
    qa = np.asarray(q, dtype=float)
    if np.any(np.isnan(qa)) or np.any(qa < 0) or np.any(qa > 1):
        raise ValueError(f"q must be in [0, 1]; got {q!r}")
    v, w = np.broadcast_arrays(v, w)
    if v.ndim == 0:
        v, w = v[None], w[None]
    v = np.moveaxis(v, axis, 0)
    w = np.moveaxis(w, axis, 0)
    total = w.sum(axis=0)
    if np.any(total <= 0):
        raise ValueError(f"weights must have a positive sum along axis {axis}; got {w.tolist()!r}")
    order = np.argsort(v, axis=0, kind="stable")
    vs = np.take_along_axis(v, order, axis=0)
    ws = np.take_along_axis(w, order, axis=0)
    cum = np.cumsum(ws, axis=0) / total
    # first index whose cumulative share reaches q (q broadcast over a new leading axis)
    qq = qa.reshape(qa.shape + (1,) * cum.ndim)
    reached = (cum[(None,) * qa.ndim] >= qq - _SLACK) & (ws > 0)
    idx = np.argmax(reached, axis=qa.ndim)
    out = np.take_along_axis(np.broadcast_to(vs, qa.shape + vs.shape), np.expand_dims(idx, qa.ndim), axis=qa.ndim)
    return np.squeeze(out, axis=qa.ndim)
