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
from collections.abc import Iterable, Mapping

import numpy as np

__all__ = ["as_float_array", "as_int_array", "as_float", "as_int", "check_choice", "check_probability",
           "did_you_mean", "broadcast_all", "check_shapes", "check_seed", "as_rng", "check_finite_result",
           "check_bool", "check_str", "check_names", "check_mapping", "check_instance", "check_callable",
           "INT_LIMIT", "InputTypeError"]

class InputTypeError(TypeError, ValueError):
    """An argument of the wrong type (None, a string for a list, a number for a mapping, ...).

    A TypeError, and also a ValueError, so that code catching the library's ValueError for bad
    input (DESIGN.md: "ValueError (or a subclass) naming the parameter") catches it too.
    """


#: the largest magnitude an integer parameter may have: every integer up to 2**53 is exact as a
#: float, and nothing beyond it fits a model (it would wrap around int64 or allocate forever).
INT_LIMIT = 2**53


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
    if value is None:
        raise ValueError(f"{name} must be a number or an array of numbers; got None")
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

    Magnitudes above :data:`INT_LIMIT` (2**53) are refused too, so that ``1e300`` is an error
    naming the parameter, never a value wrapped around int64.

    >>> as_int_array("servers", [1, 2.0])
    array([1, 2])
    >>> as_int_array("servers", 1.5)
    Traceback (most recent call last):
    ...
    ValueError: servers must be a whole number; got 1.5
    >>> as_int_array("servers", 1e300)
    Traceback (most recent call last):
    ...
    ValueError: servers must be a whole number of magnitude <= 2**53; got 1e+300
    """
    arr = as_float_array(name, value, minimum=minimum, maximum=maximum)
    bad = np.abs(arr) > INT_LIMIT
    if bad.any():
        raise ValueError(f"{name} must be a whole number of magnitude <= 2**53; got {_show(arr[bad] if arr.ndim else arr)}")
    bad = arr != np.round(arr)
    if bad.any():
        raise ValueError(f"{name} must be a whole number; got {_show(arr[bad] if arr.ndim else arr)}")
    return arr.astype(np.int64)


def _scalar(name: str, arr: np.ndarray, value) -> None:
    if arr.ndim != 0:
        raise ValueError(f"{name} must be a single number, not an array; got {_short(value)} (shape {arr.shape})")


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def as_float(name: str, value, **bounds) -> float:
    """A single float (not an array), checked like :func:`as_float_array` (same keywords).

    >>> as_float("horizon_s", 10)
    10.0
    >>> as_float("horizon_s", [1.0, 2.0])
    Traceback (most recent call last):
    ...
    ValueError: horizon_s must be a single number, not an array; got [1.0, 2.0] (shape (2,))
    """
    arr = as_float_array(name, value, **bounds)
    _scalar(name, arr, value)
    return float(arr)


def as_int(name: str, value, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """A single integer (not an array), checked like :func:`as_int_array`.

    >>> as_int("trials", 1000.0)
    1000
    >>> as_int("trials", [])
    Traceback (most recent call last):
    ...
    ValueError: trials must be a single number, not an array; got [] (shape (0,))
    """
    arr = as_int_array(name, value, minimum=minimum, maximum=maximum)
    _scalar(name, arr, value)
    return int(arr)


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


def check_shapes(**arrays) -> tuple[int, ...]:
    """The common broadcast shape of the named arrays; a ValueError naming the two that clash.

    >>> check_shapes(mean_ms=[1.0, 2.0], shift_ms=0.0)
    (2,)
    >>> check_shapes(mean_ms=[1.0, 2.0], shift_ms=[0.0, 1.0, 2.0])
    Traceback (most recent call last):
    ...
    ValueError: mean_ms (shape (2,)) and shift_ms (shape (3,)) do not broadcast together
    """
    shapes = {k: np.shape(v) for k, v in arrays.items()}
    try:
        return np.broadcast_shapes(*shapes.values())
    except ValueError:
        pass
    names = list(shapes)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            try:
                np.broadcast_shapes(shapes[a], shapes[b])
            except ValueError:
                raise ValueError(f"{a} (shape {shapes[a]}) and {b} (shape {shapes[b]}) do not broadcast together") from None
    listed = ", ".join(f"{k} {v}" for k, v in shapes.items())   # every pair broadcasts, all together do not
    raise ValueError(f"the shapes of {listed} do not broadcast together")


def broadcast_all(*arrays, names=None) -> tuple[np.ndarray, ...]:
    """The arrays broadcast to their common shape, each a writable copy (dtypes kept).

    A model broadcasts its validated inputs once with it, so that everything computed from
    them already has the shape of the result (no hand-kept shape list).  With ``names`` (one
    per array) a shape mismatch is a ValueError naming the two parameters that clash (see
    :func:`check_shapes`) instead of numpy's "arg 0 ... arg 1".

    >>> a, b = broadcast_all(np.array([1.0, 2.0]), np.array(3))
    >>> a, b
    (array([1., 2.]), array([3, 3]))
    >>> b[0] = 7; b          # a copy, not a read-only view
    array([7, 3])
    >>> broadcast_all(np.ones(2), np.ones(3), names=("rate_per_s", "servers"))
    Traceback (most recent call last):
    ...
    ValueError: rate_per_s (shape (2,)) and servers (shape (3,)) do not broadcast together
    """
    if names is not None:
        if len(names) != len(arrays):
            raise TypeError(f"broadcast_all: {len(names)} names for {len(arrays)} arrays")
        shape = check_shapes(**dict(zip(names, arrays)))
    else:
        shape = np.broadcast_shapes(*(np.shape(a) for a in arrays))
    return tuple(np.broadcast_to(np.asarray(a), shape).copy() for a in arrays)


def check_seed(name: str, seed, *, allow_none: bool = True):
    """``seed`` if it is an integer >= 0, a numpy Generator / RandomState (or None when allowed).

    Floats (even whole ones), negative integers, strings and arrays are refused by name, never
    passed on to numpy's SeedSequence.

    >>> check_seed("seed", 7)
    7
    >>> check_seed("seed", 1.5)
    Traceback (most recent call last):
    ...
    followerlab._validate.InputTypeError: seed must be an integer >= 0, a numpy Generator or None; got 1.5
    """
    if isinstance(seed, (np.random.Generator, np.random.RandomState)):
        return seed
    if seed is None and allow_none:
        return None
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, (bool, np.bool_)):
        if seed < 0:
            raise ValueError(f"{name} must be an integer >= 0 or a numpy Generator; got {seed!r}")
        return int(seed)
    none = " or None" if allow_none else ""
    raise InputTypeError(f"{name} must be an integer >= 0, a numpy Generator{none}; got {_short(seed)}")


def as_rng(name: str, seed) -> np.random.Generator | np.random.RandomState:
    """A random generator from a checked seed (see :func:`check_seed`); a Generator is used as is."""
    seed = check_seed(name, seed)
    if isinstance(seed, (np.random.Generator, np.random.RandomState)):
        return seed
    return np.random.default_rng(seed)


def check_finite_result(result, what: str, **inputs) -> np.ndarray:
    """``result`` unchanged if it holds no NaN; else a ValueError naming the inputs that gave it.

    A NaN from inputs that each passed their own checks means the computation overflowed
    (``inf - inf``, ``0 * inf``, ...).  The message names every input with its value at the
    first NaN, so that the caller sees which configuration is outside the model's range.

    >>> check_finite_result(np.array([0.5, np.nan]), "p", heads=3, period_s=np.array([1.0, 1e300]))
    Traceback (most recent call last):
    ...
    ValueError: p is not finite (NaN: the computation overflows) for heads=3, period_s=1e+300; such extreme values are outside the model's range
    """
    arr = np.asarray(result, dtype=float)
    nan = np.isnan(arr)
    if not nan.any():
        return result
    idx = np.unravel_index(int(np.argmax(nan)), arr.shape) if arr.ndim else ()
    shown = []
    for k, v in inputs.items():
        a = np.asarray(v)
        if a.ndim and a.dtype.kind in "fiub":
            try:
                a = np.broadcast_to(a, arr.shape)[idx]
            except ValueError:
                a = a.ravel()[0]
        shown.append(f"{k}={_show(np.asarray(a)) if np.asarray(a).dtype.kind in 'fiub' else _short(v)}")
    raise ValueError(f"{what} is not finite (NaN: the computation overflows) for {', '.join(shown)}; "
                     "such extreme values are outside the model's range")


def check_bool(name: str, value) -> bool:
    """``value`` as a bool; only True / False (or numpy bools) are accepted, not 'yes' or 2.

    >>> check_bool("global_table", "yes")
    Traceback (most recent call last):
    ...
    followerlab._validate.InputTypeError: global_table must be True or False; got 'yes'
    """
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise InputTypeError(f"{name} must be True or False; got {_short(value)}")


def check_str(name: str, value, *, allow_empty: bool = False) -> str:
    """``value`` if it is a string (non-empty unless allowed)."""
    if not isinstance(value, str):
        raise InputTypeError(f"{name} must be a string; got {_short(value)}")
    if not value and not allow_empty:
        raise ValueError(f"{name} must not be empty")
    return value


def check_names(name: str, value, *, allow_empty: bool = True) -> list[str]:
    """A list of non-empty strings from any iterable of them; a single string is refused.

    >>> check_names("regions", ("a", "b"))
    ['a', 'b']
    >>> check_names("regions", "ab")
    Traceback (most recent call last):
    ...
    followerlab._validate.InputTypeError: regions must be a list of names, not the single string 'ab'
    """
    if isinstance(value, (str, bytes)):
        raise InputTypeError(f"{name} must be a list of names, not the single string {value!r}")
    if isinstance(value, Mapping) or not isinstance(value, Iterable):
        raise InputTypeError(f"{name} must be a list of names; got {_short(value)}")
    out = list(value)
    bad = [v for v in out if not isinstance(v, str) or not v]
    if bad:
        raise InputTypeError(f"{name} must hold non-empty strings; got {_short(bad[0])} in {_short(out)}")
    if not out and not allow_empty:
        raise ValueError(f"{name} must not be empty")
    return out


def check_mapping(name: str, value, *, allow_none: bool = False) -> dict | None:
    """``dict(value)`` if it is a mapping (None passes through when allowed)."""
    if value is None and allow_none:
        return None
    if not isinstance(value, Mapping):
        raise InputTypeError(f"{name} must be a mapping (a dict); got {_short(value)}")
    return dict(value)


def check_instance(name: str, value, cls, what: str):
    """``value`` if it is an instance of ``cls``; else a TypeError saying ``what`` is expected."""
    if not isinstance(value, cls):
        raise InputTypeError(f"{name} must be {what}; got {_short(value)}")
    return value


def check_callable(name: str, value):
    """``value`` if it is callable."""
    if not callable(value):
        raise InputTypeError(f"{name} must be callable; got {_short(value)}")
    return value
