"""Follower table selection: which tables and other entities a follower follows.

``TableLevelSharingProperties`` lists tables (and external tables, materialized views,
functions) to include or exclude, with ``*`` wildcards and at most
:data:`MAX_SHARING_ENTRIES` entries in all.  :func:`select_tables` and
:func:`select_entities` apply them.

Sources: Leibowitz2021 and ADX-FollowerCommands in docs/references.rst.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from .._results import Result

__all__ = ["MAX_SHARING_ENTRIES", "select_tables", "select_entities", "TableSelection", "EntitySelection"]

#: At most this many entries over all include/exclude lists (TableLevelSharingProperties).
MAX_SHARING_ENTRIES = 100


_PATTERN_RE = re.compile(r"^[A-Za-z0-9_ .\-*]+$")


def _patterns(name: str, value) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        raise ValueError(f"{name} must be a list of names or wildcards, not a single string; got {value!r}")
    try:
        items = tuple(value)
    except TypeError:
        raise ValueError(f"{name} must be a list of names or wildcards; got {value!r}") from None
    for p in items:
        if not isinstance(p, str) or not p.strip() or not _PATTERN_RE.match(p) or "**" in p:
            raise ValueError(
                f"{name} entries must be entity names or '*' wildcards (letters, digits, _ . - space, *); got {p!r}")
    return items


def _matches(name: str, pattern: str) -> bool:
    regex = "^" + ".*".join(re.escape(part) for part in pattern.split("*")) + "$"
    return re.match(regex, name) is not None


def _select(names: tuple, include: tuple, exclude: tuple) -> tuple[tuple, tuple, tuple]:
    chosen = [n for n in names if (not include or any(_matches(n, p) for p in include))
              and not any(_matches(n, p) for p in exclude)]
    unmatched_inc = tuple(p for p in include if not any(_matches(n, p) for n in names))
    unmatched_exc = tuple(p for p in exclude if not any(_matches(n, p) for n in names))
    return tuple(chosen), unmatched_inc, unmatched_exc


def _names(name: str, value) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        raise ValueError(f"{name} must be a list of names, not a single string; got {value!r}")
    items = tuple(value)
    for n in items:
        if not isinstance(n, str) or not n:
            raise ValueError(f"{name} must hold non-empty names; got {n!r}")
    if len(set(items)) != len(items):
        raise ValueError(f"{name} has duplicate names: {sorted({n for n in items if items.count(n) > 1})}")
    return items


@dataclass(frozen=True)
class TableSelection(Result):
    """Which entities a follower sees, and which patterns matched nothing (typos?).

    Attributes
    ----------
    tables : tuple of str
        The available entities, in the leader's order.
    unmatched_include, unmatched_exclude : tuple of str
        Patterns that matched no entity (e.g. Leibowitz2021's ``tableAPrivate``).

    References
    ----------
    Leibowitz2021 and ADX-FollowerCommands in docs/references.rst.
    """

    tables: tuple
    unmatched_include: tuple
    unmatched_exclude: tuple

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"table": list(self.tables)})


def select_tables(tables, include=(), exclude=()) -> TableSelection:
    """Tables available on the follower: include/exclude lists with ``*`` wildcards.

    An empty include list means all; exclude wins over include; at most 100 entries in all
    (ADX-FollowerCommands, ``TableLevelSharingProperties``).  Names match case-sensitively.

    References
    ----------
    Leibowitz2021 (table selection with include/exclude lists and wildcards; its three examples)
    and ADX-FollowerCommands (TableLevelSharingProperties) in docs/references.rst.

    Examples
    --------
    Leibowitz2021's three examples (its third excludes ``tableAPrivate``; the table is
    ``tableA_private``: the stated result needs the exclusion to name it, a typo):

    >>> db = ["tableA", "tableA2", "tableA_private", "tableB", "tableC", "tableD"]
    >>> select_tables(db, include=["tableA", "tableB", "tableC"]).tables
    ('tableA', 'tableB', 'tableC')
    >>> select_tables(db, exclude=["tableD", "tableE"]).tables
    ('tableA', 'tableA2', 'tableA_private', 'tableB', 'tableC')
    >>> select_tables(db, include=["tableA*", "tableB*"], exclude=["tableA_private"]).tables
    ('tableA', 'tableA2', 'tableB')
    >>> select_tables(db, include=["tableA*", "tableB*"], exclude=["tableAPrivate"]).unmatched_exclude
    ('tableAPrivate',)
    """
    names = _names("tables", tables)
    inc = _patterns("include", include)
    exc = _patterns("exclude", exclude)
    if len(inc) + len(exc) > MAX_SHARING_ENTRIES:
        raise ValueError(f"include + exclude may hold at most {MAX_SHARING_ENTRIES} entries; got {len(inc) + len(exc)}")
    return TableSelection(*_select(names, inc, exc))


_ENTITY_KINDS = ("tables", "external_tables", "materialized_views", "functions")


@dataclass(frozen=True)
class EntitySelection(Result):
    """Entities available on the follower per kind (``TableLevelSharingProperties``).

    Attributes
    ----------
    tables, external_tables, materialized_views, functions : tuple of str
    added_source_tables : tuple of str
        Tables included only because an included materialized view reads them.
    unmatched : tuple of str
        ``"<list>: <pattern>"`` for every pattern that matched nothing.

    References
    ----------
    ADX-FollowerCommands in docs/references.rst.
    """

    tables: tuple
    external_tables: tuple
    materialized_views: tuple
    functions: tuple
    added_source_tables: tuple
    unmatched: tuple

    def to_frame(self) -> pd.DataFrame:
        rows = [(k, n) for k in _ENTITY_KINDS for n in getattr(self, k)]
        return pd.DataFrame(rows, columns=["kind", "name"])


def select_entities(
    *,
    tables=(),
    external_tables=(),
    materialized_views=None,
    functions=(),
    tables_to_include=(), tables_to_exclude=(),
    external_tables_to_include=(), external_tables_to_exclude=(),
    materialized_views_to_include=(), materialized_views_to_exclude=(),
    functions_to_include=(), functions_to_exclude=(),
) -> EntitySelection:
    """The full ``TableLevelSharingProperties`` selection over the four entity kinds.

    Each kind: empty include = all, exclude wins, ``*`` wildcards; at most 100 entries over all
    eight lists.  ``materialized_views`` maps each view to its source table; including a view
    also includes its source table (ADX-FollowerCommands), even when the table lists would leave it out
    (*assumed* precedence: the view cannot work without it; reported in
    ``added_source_tables``).

    References
    ----------
    ADX-FollowerCommands (TableLevelSharingProperties over tables, external tables, materialized
    views and functions) and Leibowitz2021 in docs/references.rst.

    Examples
    --------
    >>> s = select_entities(tables=["Logs", "LogsRaw", "Users"], materialized_views={"LogsByHour": "LogsRaw"},
    ...                     tables_to_include=["Logs"], materialized_views_to_include=["*"])
    >>> s.tables, s.added_source_tables
    (('Logs', 'LogsRaw'), ('LogsRaw',))
    """
    mv = {} if materialized_views is None else materialized_views
    if not isinstance(mv, Mapping):
        raise ValueError(f"materialized_views must map view name to its source table; got {mv!r}")
    entities = {
        "tables": _names("tables", tables),
        "external_tables": _names("external_tables", external_tables),
        "materialized_views": _names("materialized_views", tuple(mv)),
        "functions": _names("functions", functions),
    }
    lists = {
        "tables": (tables_to_include, tables_to_exclude),
        "external_tables": (external_tables_to_include, external_tables_to_exclude),
        "materialized_views": (materialized_views_to_include, materialized_views_to_exclude),
        "functions": (functions_to_include, functions_to_exclude),
    }
    parsed = {k: (_patterns(f"{k}_to_include", i), _patterns(f"{k}_to_exclude", e)) for k, (i, e) in lists.items()}
    total = sum(len(i) + len(e) for i, e in parsed.values())
    if total > MAX_SHARING_ENTRIES:
        raise ValueError(f"the include/exclude lists may hold at most {MAX_SHARING_ENTRIES} entries in all; got {total}")
    for view, source in mv.items():
        if source not in entities["tables"]:
            raise ValueError(f"materialized_views[{view!r}] reads {source!r}, which is not in tables")
    chosen, unmatched = {}, []
    for kind in _ENTITY_KINDS:
        inc, exc = parsed[kind]
        chosen[kind], ui, ue = _select(entities[kind], inc, exc)
        unmatched += [f"{kind}_to_include: {p}" for p in ui] + [f"{kind}_to_exclude: {p}" for p in ue]
    needed = {mv[v] for v in chosen["materialized_views"]}
    added = tuple(t for t in entities["tables"] if t in needed and t not in chosen["tables"])
    tabs = tuple(t for t in entities["tables"] if t in chosen["tables"] or t in added)
    return EntitySelection(tabs, chosen["external_tables"], chosen["materialized_views"], chosen["functions"],
                           added, tuple(unmatched))
