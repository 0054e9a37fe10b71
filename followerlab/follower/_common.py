"""Helpers shared by the modules of :mod:`followerlab.follower`."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


def _iterate(name: str, value) -> tuple:
    """``tuple(value)``, or a ValueError naming the parameter when it is not a collection."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ValueError(f"{name} must be a list (or set) of names; got {value!r}")
    return tuple(value)


def _as_bool_array(name: str, value) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype != bool:
        raise ValueError(f"{name} must be a boolean or an array of booleans; got {value!r}")
    return arr
