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
import html

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

    def _other_fields(self) -> dict[str, object]:
        """Public fields that are not numeric columns (modes, names, tuples), for display.

        Fields declared with ``field(repr=False)`` (helper objects, curves) are left out.
        """
        columns = self._array_fields()
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)  # type: ignore[arg-type]
            if not f.name.startswith("_") and f.name not in columns and f.repr
        }

    def _repr_html_(self) -> str:
        """The result as an HTML table in Jupyter: what :meth:`to_frame` returns, made readable.

        One configuration is shown as a two-column *field | value* table (easier to read than
        one very wide row); several as the frame itself, at most 30 rows shown.  Numbers keep
        4 significant digits, infinities show as ``inf`` (a saturated queue), and fields that
        are not columns (modes, names) are listed under the title.

        >>> from dataclasses import dataclass
        >>> @dataclass(frozen=True)
        ... class Demo(Result):
        ...     mode: str
        ...     wait_s: np.ndarray
        >>> html = Demo("random", np.array(0.123456))._repr_html_()
        >>> "<b>Demo</b>" in html and "mode = &#x27;random&#x27;" in html and ">0.1235<" in html
        True
        """
        frame = self.to_frame()
        rows = len(frame)
        title = f"<b>{type(self).__name__}</b> ({rows} configuration{'s' if rows != 1 else ''})"
        others = self._other_fields()
        if others:
            shown = ", ".join(f"{k} = {html.escape(_short(v))}" for k, v in others.items())
            title += f"<br><span style='font-size:smaller'>{shown}</span>"

        def fmt(v):
            return f"{v:.4g}"

        if rows == 1:
            table = pd.DataFrame({"value": [_cell(frame[c].iloc[0]) for c in frame.columns]},
                                 index=pd.Index(frame.columns, name="field"))
            body = table.to_html(escape=True, border=0, classes="followerlab-result")
        else:
            body = frame.to_html(max_rows=30, float_format=fmt, border=0, classes="followerlab-result")
        return f"<div><p style='margin-bottom:0.3em'>{title}</p>{body}</div>"


def _cell(value) -> str:
    """One value of a single-configuration table, as text."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.4g}"
    return str(value)


def _short(value, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
