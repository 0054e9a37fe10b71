"""Helpers shared by the modules of :mod:`followerlab.consistency`."""

from __future__ import annotations

import numpy as np


def _scalar(name: str, arr: np.ndarray) -> np.ndarray:
    """``arr`` if it holds a single value; else a ValueError naming the parameter (scalars only)."""
    if np.ndim(arr) != 0:
        raise ValueError(f"{name} must be a single value, not an array; got shape {np.shape(arr)}")
    return arr
