"""Topology of a Raft group: RTT matrices between regions, validated once.

An RTT matrix (ms, rows = sources) is validated by :func:`rtt_matrix` (or read by
:func:`load_rtt`); :func:`as_topology` wraps it, with the RTT inside a region, in a
:class:`Topology` that the other modules accept wherever they take ``rtt_ms`` and do not check
again.  Sources: Azure-RTT, CRDB-Demo, CRDB-FollowerReadsTopology (docs/references.rst).

>>> m = load_rtt("crdb-demo-rtt-2019.csv")
>>> as_topology(m).regions
('us-east1', 'us-west1', 'europe-west1')
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .._data import data_path
from .._results import Result
from .._validate import as_float_array, check_names

# --------------------------------------------------------------------------------------------
# Topology: RTT matrices
# --------------------------------------------------------------------------------------------


def rtt_matrix(rtt_ms, regions: Sequence | None = None) -> pd.DataFrame:
    """Validate an RTT matrix (ms) and return it as a labelled DataFrame.

    Rows are sources and columns destinations; ``rtt_ms[a, b]`` is the round-trip time
    measured from region ``a`` to ``b``.  Asymmetric matrices are allowed (published data is
    slightly asymmetric); the diagonal must be zero (the RTT *within* a region is a separate
    parameter, ``intra_region_rtt_ms``, of the latency functions).

    Parameters
    ----------
    rtt_ms : array_like, pandas.DataFrame or Topology
        Square matrix of non-negative finite round-trip times in ms.  A DataFrame must have the
        same labels on rows and columns (in the same order); a :class:`Topology` gives its matrix.
    regions : sequence, optional
        Labels for an array input; default ``0 .. n-1`` (member indices, e.g. etcd members).

    Returns
    -------
    pandas.DataFrame
        Float matrix with the region labels as index and columns.

    Raises
    ------
    ValueError
        Not square, negative, NaN/inf, non-zero diagonal, duplicate or mismatched labels.

    References
    ----------
    Azure-RTT, CRDB-Demo (the shipped matrices) (docs/references.rst).

    Examples
    --------
    >>> float(rtt_matrix([[0, 10], [12, 0]], regions=["a", "b"]).loc["b", "a"])
    12.0
    >>> rtt_matrix([[0, -1], [1, 0]])
    Traceback (most recent call last):
    ...
    ValueError: rtt_ms must be >= 0; got -1.0
    """
    if isinstance(rtt_ms, Topology):
        rtt_ms = rtt_ms.rtt_ms
    if isinstance(rtt_ms, pd.DataFrame):
        if list(rtt_ms.index) != list(rtt_ms.columns):
            raise ValueError(
                f"rtt_ms must have the same region labels on rows and columns; got rows "
                f"{list(rtt_ms.index)} and columns {list(rtt_ms.columns)}"
            )
        labels = list(rtt_ms.index)
        values = rtt_ms.to_numpy()
    else:
        values = rtt_ms
        labels = None
    arr = as_float_array("rtt_ms", values, minimum=0.0)
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1] or arr.shape[0] == 0:
        raise ValueError(f"rtt_ms must be a non-empty square matrix; got shape {arr.shape}")
    n = arr.shape[0]
    if labels is None:
        labels = list(range(n)) if regions is None else check_names("regions", regions)
    elif regions is not None and check_names("regions", regions) != labels:
        raise ValueError(f"regions {list(regions)} disagree with the DataFrame labels {labels}")
    if len(labels) != n:
        raise ValueError(f"regions must have {n} labels for a {n}x{n} rtt_ms; got {len(labels)}")
    if len(set(labels)) != n:
        dup = sorted({str(x) for x in labels if labels.count(x) > 1})
        raise ValueError(f"regions must be unique; duplicated {dup}")
    diag = np.diag(arr)
    if np.any(diag != 0):
        bad = [labels[i] for i in np.flatnonzero(diag != 0)]
        raise ValueError(
            f"rtt_ms must have a zero diagonal (use intra_region_rtt_ms for in-region RTT); "
            f"non-zero for {bad}"
        )
    return pd.DataFrame(arr.copy(), index=labels, columns=labels)


def load_rtt(name_or_path) -> pd.DataFrame:
    """Load a shipped (or any) RTT CSV into a validated matrix (ms).

    The CSV has comment lines starting with ``#``, a header ``source,<region>...`` and one row
    per source region.  Shipped files (``data/regions/``): ``azure-rtt-p50-2025-06.csv`` (Azure's
    published P50 RTT between 8 regions, June 2025) and ``crdb-demo-rtt-2019.csv`` (the RTTs
    ``cockroach demo --global`` simulates).

    Parameters
    ----------
    name_or_path : str or path
        A file name under ``data/regions`` or a path to a CSV.

    References
    ----------
    Azure-RTT, CRDB-Demo (docs/references.rst).

    Examples
    --------
    >>> m = load_rtt("azure-rtt-p50-2025-06.csv")
    >>> m.shape, float(m.loc["eastus", "westus2"]), float(m.loc["westus2", "eastus"])
    ((8, 8), 66.0, 70.0)
    """
    if not isinstance(name_or_path, (str, os.PathLike)) or not str(name_or_path).strip():
        raise ValueError(f"name_or_path must be a file name under data/regions or a path to a CSV; got {name_or_path!r}")
    path = Path(name_or_path)
    if not path.exists():
        try:
            path = data_path("regions", str(name_or_path))
        except FileNotFoundError as exc:
            raise ValueError(f"name_or_path: no RTT file {str(name_or_path)!r} ({exc})") from None
    if not path.is_file():
        raise ValueError(f"name_or_path must be an RTT CSV file; {str(path)!r} is a directory")
    try:
        frame = pd.read_csv(path, comment="#", index_col=0)
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ValueError(f"name_or_path: {str(path)!r} is not an RTT CSV ({type(exc).__name__}: {exc})") from None
    frame.index = [str(x).strip() for x in frame.index]
    frame.columns = [str(x).strip() for x in frame.columns]
    return rtt_matrix(frame)


@dataclass(frozen=True, eq=False)
class Topology(Result):
    """A validated RTT matrix with its regions and the RTT inside a region: checked once, passed on.

    Every function of :mod:`followerlab.raft` that takes ``rtt_ms`` accepts a Topology as well
    as a matrix (array or DataFrame).  A matrix is validated by :func:`rtt_matrix` on every call;
    a Topology was validated when it was built and passes through unchecked, so build one
    (:func:`as_topology`) when many calls share a matrix.

    Attributes
    ----------
    rtt_ms : pandas.DataFrame
        The matrix exactly as :func:`rtt_matrix` returns it (float, zero diagonal, the region
        labels on rows and columns).  Do not modify it in place.
    intra_region_rtt_ms : float or None
        RTT between two nodes of one region (ms, *assumed*: not in the data), used by the
        latency functions whose ``intra_region_rtt_ms`` argument is left at ``None``; ``None``
        here leaves their own default.

    Raises
    ------
    ValueError
        From the constructor, if ``rtt_ms`` is not a valid matrix in :func:`rtt_matrix`'s form
        or ``intra_region_rtt_ms`` is negative or not finite.

    References
    ----------
    CRDB-FollowerReadsTopology, Azure-RTT, CRDB-Demo (docs/references.rst).

    Examples
    --------
    >>> topo = as_topology(load_rtt("crdb-demo-rtt-2019.csv"), intra_region_rtt_ms=1.0)
    >>> topo.regions, topo.intra_region_rtt_ms
    (('us-east1', 'us-west1', 'europe-west1'), 1.0)
    >>> Topology(pd.DataFrame([[0, 5], [5, 0]]))
    Traceback (most recent call last):
    ...
    ValueError: rtt_ms of a Topology must be the float matrix rtt_matrix returns; build it with as_topology(rtt_ms)
    """

    rtt_ms: pd.DataFrame
    intra_region_rtt_ms: float | None = None

    def __post_init__(self):
        if not isinstance(self.rtt_ms, pd.DataFrame) or not rtt_matrix(self.rtt_ms).equals(self.rtt_ms):
            raise ValueError("rtt_ms of a Topology must be the float matrix rtt_matrix returns; "
                             "build it with as_topology(rtt_ms)")
        if self.intra_region_rtt_ms is not None:
            intra = as_float_array("intra_region_rtt_ms", self.intra_region_rtt_ms, minimum=0.0)
            if intra.ndim:
                raise ValueError(f"intra_region_rtt_ms of a Topology must be one number; got {self.intra_region_rtt_ms!r}")

    @property
    def regions(self) -> tuple:
        """The region labels, in matrix order."""
        return tuple(self.rtt_ms.index)

    @property
    def values(self) -> np.ndarray:
        """The matrix as a float array (ms)."""
        return self.rtt_ms.to_numpy()

    def to_frame(self) -> pd.DataFrame:
        """A copy of the RTT matrix."""
        return self.rtt_ms.copy()

    def _repr_html_(self) -> str:
        intra = "" if self.intra_region_rtt_ms is None else f"; within a region {float(self.intra_region_rtt_ms):g} ms"
        return f"<div><p><b>Topology</b>: round-trip times (ms){intra}</p>{self.rtt_ms.to_html()}</div>"

    def intra(self, value, default: float = 0.0):
        """The in-region RTT a function uses: ``value`` if given, else this topology's, else ``default``."""
        if value is not None:
            return value
        return default if self.intra_region_rtt_ms is None else self.intra_region_rtt_ms


def as_topology(rtt_ms, regions: Sequence | None = None, *, intra_region_rtt_ms=None) -> Topology:
    """Validate an RTT matrix once and return it as a :class:`Topology` to pass on.

    Parameters
    ----------
    rtt_ms : array_like, DataFrame or Topology
        As in :func:`rtt_matrix`.  A Topology is returned as is (with ``intra_region_rtt_ms``
        replaced when given).
    regions : sequence, optional
        Labels for an array input (see :func:`rtt_matrix`).
    intra_region_rtt_ms : float, optional
        RTT inside one region (ms, >= 0), the default of the latency functions given this
        Topology.

    References
    ----------
    CRDB-FollowerReadsTopology (docs/references.rst).

    Examples
    --------
    >>> from followerlab.raft import commit_latency
    >>> topo = as_topology([[0, 10], [12, 0]], regions=["a", "b"], intra_region_rtt_ms=0.5)
    >>> float(commit_latency(topo, "a", ["a", "a", "b"]))   # the other voter in "a": 0.5 ms away
    0.5
    >>> as_topology(topo) is topo
    True
    """
    if isinstance(rtt_ms, Topology):
        if regions is not None and tuple(regions) != rtt_ms.regions:
            raise ValueError(f"regions {list(regions)} disagree with the Topology's {list(rtt_ms.regions)}")
        if intra_region_rtt_ms is None:
            return rtt_ms
        return Topology(rtt_ms.rtt_ms, intra_region_rtt_ms)
    return Topology(rtt_matrix(rtt_ms, regions), intra_region_rtt_ms)


def _as_topology(rtt_ms) -> Topology:
    """``rtt_ms`` as a Topology: a Topology passes through, anything else is validated."""
    return rtt_ms if isinstance(rtt_ms, Topology) else Topology(rtt_matrix(rtt_ms))


def _intra(rtt_ms, value, default: float):
    """``intra_region_rtt_ms`` as a function uses it: ``value`` if given, else the Topology's, else ``default``."""
    if value is not None:
        return value
    return rtt_ms.intra(None, default) if isinstance(rtt_ms, Topology) else default


def _as_matrix(rtt_ms) -> pd.DataFrame:
    """The validated matrix of ``rtt_ms`` (no check for a Topology)."""
    return _as_topology(rtt_ms).rtt_ms


def _index_of(matrix: pd.DataFrame, label, name: str) -> int:
    """Position of ``label`` in the matrix; integers are positions when labels are not ints."""
    labels = list(matrix.index)
    if label in labels:
        return labels.index(label)
    if isinstance(label, (int, np.integer)) and not isinstance(label, bool):
        if not any(isinstance(x, (int, np.integer)) for x in labels) and 0 <= int(label) < len(labels):
            return int(label)
    raise ValueError(f"{name} names unknown region {label!r}; known regions are {labels}")


def _link_ms(m: np.ndarray, a, b, intra_region_rtt_ms):
    """RTT between positions a and b (arrays ok); ``intra_region_rtt_ms`` when a == b."""
    a = np.asarray(a)
    b = np.asarray(b)
    return np.where(a == b, intra_region_rtt_ms, m[a, b])
