"""Input checks shared by every model.

Every public function validates its arguments with these helpers so that bad input is
refused loudly and the same way everywhere: a :class:`ValueError` whose message names the
parameter and the offending value.  Nothing is clamped silently.

>>> as_float_array("rate_per_s", [1.0, 2.0], minimum=0.0)
array([1., 2.])
>>> as_float_array("rate_per_s", -1.0, minimum=0.0)
Traceback (most recent call last):
...
ValueError: rate_per_s must be >= 0; got -1.0
>>> check_choice("mode", "radnom", ["random", "by_database"])
Traceback (most recent call last):
...
ValueError: mode must be one of 'random', 'by_database'; got 'radnom' (did you mean 'random'?)
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

import numpy as np

__all__ = ["as_float_array", "as_int_array", "check_choice", "check_probability", "did_you_mean",
           "broadcast_all"]


def _show(values: np.ndarray) -> str:
    """A short rendering of the offending values for an error message."""
    flat = np.asarray(values).ravel()
    if flat.size == 1:
        return repr(flat[0].item())
    head = ", ".join(repr(v.item()) for v in flat[:5])
    return f"[{head}{', ...' if flat.size > 5 else ''}]"


def as_float_array(
    name: str,
    value,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    strict_minimum: bool = False,
    strict_maximum: bool = False,
    allow_inf: bool = False,
) -> np.ndarray:
    """Convert ``value`` to a float array, refusing NaN, inf (unless allowed) and out-of-range.

    Parameters
    ----------
    name : str
        Parameter name used in the error message.
    value : array_like
        Scalar or array.
    minimum, maximum : float, optional
        Inclusive bounds (exclusive with ``strict_minimum`` / ``strict_maximum``).
    allow_inf : bool
        Whether ``+inf`` is an acceptable value.

    Returns
    -------
    numpy.ndarray
        ``np.asarray(value, dtype=float)`` (0-d for scalars).
    """
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number or an array of numbers; got {value!r}") from None
    bad = np.isnan(arr)
    if bad.any():
        raise ValueError(f"{name} must not be NaN; got {_show(arr[bad] if arr.ndim else arr)}")
    if not allow_inf:
        bad = np.isinf(arr)
        if bad.any():
            raise ValueError(f"{name} must be finite; got {_show(arr[bad] if arr.ndim else arr)}")
    if minimum is not None:
        bad = arr <= minimum if strict_minimum else arr < minimum
        if bad.any():
            op = ">" if strict_minimum else ">="
            raise ValueError(f"{name} must be {op} {minimum:g}; got {_show(arr[bad] if arr.ndim else arr)}")
    if maximum is not None:
        bad = arr >= maximum if strict_maximum else arr > maximum
        if bad.any():
            op = "<" if strict_maximum else "<="
            raise ValueError(f"{name} must be {op} {maximum:g}; got {_show(arr[bad] if arr.ndim else arr)}")
    return arr


def as_int_array(name: str, value, *, minimum: int | None = None, maximum: int | None = None) -> np.ndarray:
    """Convert ``value`` to an integer array; refuse non-integral values and out-of-range ones.

    >>> as_int_array("servers", [1, 2.0])
    array([1, 2])
    >>> as_int_array("servers", 1.5)
    Traceback (most recent call last):
    ...
    ValueError: servers must be a whole number; got 1.5
    """
    arr = as_float_array(name, value, minimum=minimum, maximum=maximum)
    bad = arr != np.round(arr)
    if bad.any():
        raise ValueError(f"{name} must be a whole number; got {_show(arr[bad] if arr.ndim else arr)}")
    return arr.astype(np.int64)


def check_probability(name: str, value, *, open_left: bool = False, open_right: bool = False) -> np.ndarray:
    """A float array in [0, 1] (or the open variants)."""
    return as_float_array(
        name, value, minimum=0.0, maximum=1.0, strict_minimum=open_left, strict_maximum=open_right
    )


def check_choice(name: str, value, choices: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``choices``; otherwise a ValueError suggesting the closest.

    Matching is exact (case-sensitive); use ``value.lower()`` before calling for
    case-insensitive options.
    """
    choices = list(choices)
    if isinstance(value, str) and value in choices:
        return value
    listed = ", ".join(repr(c) for c in choices)
    raise ValueError(f"{name} must be one of {listed}; got {value!r}" + did_you_mean(value, choices))


def did_you_mean(value, choices: Iterable[str]) -> str:
    """The ``" (did you mean 'x'?)"`` hint for the choice closest to ``value``, or ``""``.

    Closest by :func:`difflib.get_close_matches` (cutoff 0.5), then case-insensitively.

    >>> did_you_mean("Valeu", ["Value", "IsRelaxable"])
    " (did you mean 'Value'?)"
    >>> did_you_mean("zzz", ["Value"])
    ''
    """
    if not isinstance(value, str):
        return ""
    choices = list(choices)
    close = difflib.get_close_matches(value, choices, n=1, cutoff=0.5)
    if not close:
        close = difflib.get_close_matches(value.lower(), [c.lower() for c in choices], n=1, cutoff=0.5)
        close = [c for c in choices if c.lower() in close][:1]
    return f" (did you mean {close[0]!r}?)" if close else ""


def broadcast_all(*arrays) -> tuple[np.ndarray, ...]:
    """The arrays broadcast to their common shape, each a writable copy (dtypes kept).

    A model broadcasts its validated inputs once with it, so that everything computed from
    them already has the shape of the result (no hand-kept shape list).

    >>> a, b = broadcast_all(np.array([1.0, 2.0]), np.array(3))
    >>> a, b
    (array([1., 2.]), array([3, 3]))
    >>> b[0] = 7; b          # a copy, not a read-only view
    array([7, 3])
    """
    shape = np.broadcast_shapes(*(np.shape(a) for a in arrays))
    return tuple(np.broadcast_to(np.asarray(a), shape).copy() for a in arrays)
