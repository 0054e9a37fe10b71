"""Helpers shared by the modules of :mod:`followerlab.follower`."""

from __future__ import annotations

import numpy as np


def _as_bool_array(name: str, value) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype != bool:
        raise ValueError(f"{name} must be a boolean or an array of booleans; got {value!r}")
    return arr
