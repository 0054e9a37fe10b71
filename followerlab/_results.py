"""The base of every result object: frozen dataclasses of arrays with ``to_frame()``.

A model returns a ``@dataclass(frozen=True)`` subclass of :class:`Result`.  Its array fields
broadcast against each other (one row per configuration); ``to_frame()`` turns them into a
tidy :class:`pandas.DataFrame` and Jupyter shows the same table as HTML.

>>> from dataclasses import dataclass
>>> import numpy as np
>>> @dataclass(frozen=True)
... class Demo(Result):
...     rate_per_s: np.ndarray
...     wait_s: np.ndarray
>>> Demo(np.array([1.0, 2.0]), np.array(0.5)).to_frame()
   rate_per_s  wait_s
0         1.0     0.5
1         2.0     0.5
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

__all__ = ["Result"]


class Result:
    """Mixin for frozen result dataclasses.

    Fields that are numbers or arrays become columns (broadcast to a common shape and
    flattened); other fields (strings, tuples, nested results) are left out of the frame
    unless a subclass overrides :meth:`to_frame`.
    """

    def _array_fields(self) -> dict[str, np.ndarray]:
        out = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            if f.name.startswith("_"):
                continue
            value = getattr(self, f.name)
            if isinstance(value, (bool, int, float, np.number, np.bool_)) or (
                isinstance(value, np.ndarray) and value.dtype.kind in "biufcM"
            ):
                out[f.name] = np.asarray(value)
        return out

    def to_frame(self) -> pd.DataFrame:
        """A tidy DataFrame: one row per broadcast configuration, one column per field."""
        fields = self._array_fields()
        if not fields:
            return pd.DataFrame()
        arrays = np.broadcast_arrays(*fields.values())
        return pd.DataFrame({k: np.ravel(a) for k, a in zip(fields, arrays)})

    def _repr_html_(self) -> str:
        frame = self.to_frame()
        title = f"<p><b>{type(self).__name__}</b> ({len(frame)} row{'s' if len(frame) != 1 else ''})</p>"
        return title + frame.to_html(max_rows=30, float_format=lambda v: f"{v:.4g}")
