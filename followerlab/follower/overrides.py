"""Follower overrides: Kusto timespans, the caching-policy and the principals overrides.

A follower may override the leader's caching policy (hot spans per database and table) and its
authorized principals, each with a modification kind ``none``, ``union`` or ``replace``
(:data:`MODIFICATION_KINDS`).  :func:`effective_caching` and :func:`effective_principals` give
what the follower ends up with; :func:`parse_timespan_s` reads the policies' timespans.

Sources: Leibowitz2021, ADX-FollowerCommands and ADX-CachePolicy in docs/references.rst.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._results import Result
from .._validate import as_float_array, check_choice

__all__ = ["MODIFICATION_KINDS", "parse_timespan_s", "effective_caching", "EffectiveCaching",
           "effective_principals", "Principals"]

#: Override modification kinds (Leibowitz2021; the attach API defaults to ``union``).
MODIFICATION_KINDS = ("none", "union", "replace")

_DAY = 86400.0


_UNIT_S = {"d": _DAY, "h": 3600.0, "m": 60.0, "min": 60.0, "s": 1.0, "ms": 1e-3}
_SPAN_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(d|h|min|m|s|ms)\s*$")
_CLOCK_RE = re.compile(r"^\s*(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2}(?:\.\d+)?)\s*$")


def parse_timespan_s(value, name: str = "timespan"):
    """Seconds in a Kusto timespan: a number (s), ``"90d"``, ``"12h"``, ``"30m"``, ``"0d"``,
    ``"1.12:00:00"`` or ``"00:05:00"``; ``None`` stays ``None`` (no policy).

    References
    ----------
    ADX-Timespan (the literals) and ADX-CachePolicy (hot spans written as timespans) in
    docs/references.rst.

    Examples
    --------
    >>> parse_timespan_s("90d"), parse_timespan_s("1.12:00:00"), parse_timespan_s(30)
    (7776000.0, 129600.0, 30.0)
    >>> parse_timespan_s("ninety days", "hot")
    Traceback (most recent call last):
    ...
    ValueError: hot must be a timespan like '90d', '12h', '1.12:00:00' or seconds; got 'ninety days'
    """
    if value is None:
        return None
    if isinstance(value, str):
        m = _SPAN_RE.match(value)
        if m:
            return float(m.group(1)) * _UNIT_S[m.group(2)]
        m = _CLOCK_RE.match(value)
        if m:
            days = float(m.group(1) or 0)
            return days * _DAY + float(m.group(2)) * 3600 + float(m.group(3)) * 60 + float(m.group(4))
        raise ValueError(f"{name} must be a timespan like '90d', '12h', '1.12:00:00' or seconds; got {value!r}")
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a timespan like '90d', '12h', '1.12:00:00' or seconds; got {value!r}")
    return float(as_float_array(name, value, minimum=0.0, allow_inf=True))


def _span_map(name: str, mapping) -> dict[str, float | None]:
    if mapping is None:
        return {}
    if not isinstance(mapping, Mapping):
        raise ValueError(f"{name} must be a mapping of table name to hot span; got {mapping!r}")
    out = {}
    for k, v in mapping.items():
        if not isinstance(k, str) or not k:
            raise ValueError(f"{name} keys must be non-empty table names; got {k!r}")
        out[k] = parse_timespan_s(v, f"{name}[{k!r}]")
    return out


@dataclass(frozen=True)
class EffectiveCaching(Result):
    """The hot span each table ends up with on the follower.

    Attributes
    ----------
    tables : tuple of str
    hot_span_s : ndarray
        Effective hot span per table (s); ``inf`` = everything hot (null policy).
    source : tuple of str
        Which policy decided it: ``override table``, ``override database``, ``leader table``,
        ``leader database`` or ``none (all hot)``.
    kind : str

    References
    ----------
    Leibowitz2021, ADX-FollowerCommands and ADX-CachePolicy in docs/references.rst.
    """

    tables: tuple
    hot_span_s: np.ndarray
    source: tuple
    kind: str

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"table": list(self.tables), "hot_span_s": self.hot_span_s,
                             "hot_span_d": self.hot_span_s / _DAY, "source": list(self.source)})


def effective_caching(
    tables: Iterable[str],
    *,
    leader_database_hot=None,
    leader_table_hot=None,
    override_database_hot=None,
    override_table_hot=None,
    kind: str = "union",
) -> EffectiveCaching:
    """Effective hot span per table on a follower after a caching-policy override.

    Semantics (Leibowitz2021, ADX-FollowerCommands): a table-level policy beats the database-level one; no policy
    at all (null) means everything is hot.  The override's modification kind:

    * ``none``: the leader's policies only; the override is ignored.
    * ``union`` (attach API default): the leader's policies plus the override's; where both
      define a policy for the same entity and level the override's wins (*assumed*: the docs
      say "add additional policies on top", and following a 90-day leader with a 7-day
      follower override is the documented cost-control use).
    * ``replace``: the leader's policies are dropped; the override stands alone.  An empty
      override set therefore means no policy: everything is cached.  A database override of
      ``0d`` caches nothing (unless a table override says otherwise).

    Parameters
    ----------
    tables : iterable of str
        The followed tables.
    leader_database_hot, override_database_hot : timespan or None
        Database-level hot span (``"1d"``, seconds, ...); ``None`` = no policy.
    leader_table_hot, override_table_hot : mapping of table -> timespan, optional
    kind : {'none', 'union', 'replace'}

    References
    ----------
    Leibowitz2021 and ADX-FollowerCommands (override kinds none / union / replace; an empty
    override set caches everything, a database override of 0d nothing) and ADX-CachePolicy
    (database and table hot spans) in docs/references.rst.

    Examples
    --------
    >>> e = effective_caching(["T1", "T2"], leader_database_hot="1d", override_database_hot="90d",
    ...                       leader_table_hot={"T2": "7d"})
    >>> (e.hot_span_s / 86400).tolist(), e.source
    ([90.0, 7.0], ('override database', 'leader table'))
    >>> effective_caching(["T1"], leader_database_hot="1d", kind="replace").hot_span_s.tolist()
    [inf]
    """
    kind = check_choice("kind", kind, MODIFICATION_KINDS)
    if isinstance(tables, str):
        raise ValueError(f"tables must be a list of table names, not a single string; got {tables!r}")
    tables = tuple(tables)
    for t in tables:
        if not isinstance(t, str) or not t:
            raise ValueError(f"tables must hold non-empty table names; got {t!r}")
    ldb = parse_timespan_s(leader_database_hot, "leader_database_hot")
    odb = parse_timespan_s(override_database_hot, "override_database_hot")
    ltab = _span_map("leader_table_hot", leader_table_hot)
    otab = _span_map("override_table_hot", override_table_hot)
    for name, mp in (("leader_table_hot", ltab), ("override_table_hot", otab)):
        unknown = sorted(set(mp) - set(tables))
        if unknown:
            raise ValueError(f"{name} names tables that are not followed: {unknown}")
    if kind == "none":
        levels = [("leader table", ltab), ("leader database", ldb)]
    elif kind == "replace":
        levels = [("override table", otab), ("override database", odb)]
    else:
        levels = [("override table", otab), ("leader table", ltab),
                  ("override database", odb), ("leader database", ldb)]
    spans, sources = [], []
    for t in tables:
        for label, policy in levels:
            value = policy.get(t) if isinstance(policy, dict) else policy
            if value is not None:
                spans.append(value)
                sources.append(label)
                break
        else:
            spans.append(np.inf)
            sources.append("none (all hot)")
    return EffectiveCaching(tables, np.asarray(spans, dtype=float), tuple(sources), kind)


def _principal_set(name: str, value) -> frozenset:
    if value is None:
        return frozenset()
    if isinstance(value, (str, bytes)):
        raise ValueError(f"{name} must be a collection of (role, principal) pairs; got {value!r}")
    out = set()
    for item in value:
        if (not isinstance(item, tuple) or len(item) != 2
                or not all(isinstance(x, str) and x.strip() for x in item)):
            raise ValueError(f"{name} must hold (role, principal) pairs of non-empty strings; got {item!r}")
        out.add((item[0].strip().lower(), item[1].strip()))
    return frozenset(out)


@dataclass(frozen=True)
class Principals(Result):
    """Effective authorized principals of a followed database.

    Attributes
    ----------
    principals : frozenset of (role, principal)
    added, removed : frozenset
        Relative to the leader's set.
    kind : str

    References
    ----------
    Leibowitz2021 and ADX-FollowerCommands in docs/references.rst.
    """

    principals: frozenset
    added: frozenset
    removed: frozenset
    kind: str

    def to_frame(self) -> pd.DataFrame:
        rows = sorted(self.principals)
        return pd.DataFrame({"role": [r for r, _ in rows], "principal": [p for _, p in rows],
                             "added": [x in self.added for x in rows]})


def effective_principals(leader, override, kind: str = "union") -> Principals:
    """Authorized principals on the follower: set algebra over (role, principal) pairs.

    ``none``: the leader's set; ``union``: leader's | override's; ``replace``: the override's
    alone (Leibowitz2021: "completely replace the set of principals defined on the leader").  Only
    possible at database level.  Roles compare case-insensitively (``Viewers`` == ``viewers``).

    References
    ----------
    Leibowitz2021 and ADX-FollowerCommands in docs/references.rst (principals override with
    kinds none / union / replace; union is the attach API's default).

    Examples
    --------
    >>> lead = {("admins", "aaduser=alice@contoso.com"), ("viewers", "aadgroup=analysts")}
    >>> over = {("viewers", "aadapp=dashboard")}
    >>> len(effective_principals(lead, over, "union").principals)
    3
    >>> sorted(effective_principals(lead, over, "replace").principals)
    [('viewers', 'aadapp=dashboard')]
    """
    kind = check_choice("kind", kind, MODIFICATION_KINDS)
    lead = _principal_set("leader", leader)
    over = _principal_set("override", override)
    result = {"none": lead, "union": lead | over, "replace": over}[kind]
    return Principals(frozenset(result), frozenset(result - lead), frozenset(lead - result), kind)
