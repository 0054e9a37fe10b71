"""Mode resolution: the effective query consistency from request properties and policies.

A client request property ``queryconsistency`` and the workload group's
``QueryConsistencyPolicy`` (with ``IsRelaxable``) decide a query's consistency mode, and a
cross-cluster sub-query's.  :func:`resolve_consistency` applies those rules and explains them
(warnings for settings that have no effect).

Sources: Leibowitz2023, ADX-QueryConsistency and ADX-QueryConsistencyPolicy in
docs/references.rst.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .._results import Result
from .._validate import check_choice, did_you_mean

__all__ = ["POLICY_VALUES", "REQUEST_VALUES", "ConsistencyResolution", "resolve_consistency"]

#: Workload-group ``QueryConsistencyPolicy.QueryConsistency.Value`` -> routing mode.
POLICY_VALUES = {
    "Strong": "strong",
    "Weak": "random",
    "WeakAffinitizedByDatabase": "by_database",
    "WeakAffinitizedByQuery": "by_query",
    "WeakAffinitizedBySessionId": "by_session",
}
#: Client request property ``queryconsistency`` value -> policy value.  The two old names are
#: mapped by their wording (*assumed*: ``affinitizedweakconsistency`` is affinity by query text,
#: the first affinitized mode; ``databaseaffinitizedweakconsistency`` is affinity by database).
REQUEST_VALUES = {
    "strongconsistency": "Strong",
    "weakconsistency": "Weak",
    "weakconsistency_by_database": "WeakAffinitizedByDatabase",
    "weakconsistency_by_query": "WeakAffinitizedByQuery",
    "weakconsistency_by_session_id": "WeakAffinitizedBySessionId",
    "affinitizedweakconsistency": "WeakAffinitizedByQuery",
    "databaseaffinitizedweakconsistency": "WeakAffinitizedByDatabase",
}


@dataclass(frozen=True)
class ConsistencyResolution(Result):
    """The effective query consistency of a query (and of its cross-cluster sub-query).

    Attributes
    ----------
    mode : str
        Policy-style value on the local cluster (``Strong``, ``Weak``, ...).
    routing : str
        The same as a routing mode of this module (``strong``, ``random``, ...).
    source : str
        ``request``, ``policy``, ``policy (not relaxable)`` or ``default``.
    remote_mode, remote_routing, remote_source : str or None
        For the sub-query on a remote cluster when ``remote_policy`` is given.
    session_id : str or None
    warnings : tuple of str

    References
    ----------
    Leibowitz2023, ADX-QueryConsistency and ADX-QueryConsistencyPolicy in docs/references.rst.
    """

    mode: str
    routing: str
    source: str
    remote_mode: str | None = None
    remote_routing: str | None = None
    remote_source: str | None = None
    session_id: str | None = None
    warnings: tuple = ()

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{k: getattr(self, k) for k in (
            "mode", "routing", "source", "remote_mode", "remote_routing", "remote_source", "session_id")}
            | {"warnings": " | ".join(self.warnings)}])


def _parse_policy(name: str, policy):
    """(value, is_relaxable) from a workload-group policy in any of its documented shapes."""
    if policy is None:
        return None, True
    if not isinstance(policy, dict):
        raise ValueError(f"{name} must be a dict (a QueryConsistencyPolicy); got {policy!r}")
    p = policy
    if "QueryConsistencyPolicy" in p:
        p = p["QueryConsistencyPolicy"]
        if not isinstance(p, dict):
            raise ValueError(f"{name}['QueryConsistencyPolicy'] must be a dict; got {p!r}")
    if "QueryConsistency" in p:
        p = p["QueryConsistency"]
        if not isinstance(p, dict):
            raise ValueError(f"{name}['QueryConsistency'] must be a dict; got {p!r}")
    unknown = set(p) - {"Value", "IsRelaxable"}
    if unknown:
        raise ValueError(f"{name} has unknown field(s) {sorted(unknown)}; expected 'Value' and 'IsRelaxable'"
                         + did_you_mean(sorted(unknown)[0], ["Value", "IsRelaxable"]))
    value = p.get("Value")
    if value is not None:
        value = check_choice(f"{name}.Value", value, POLICY_VALUES)
    relax = p.get("IsRelaxable", True)
    if not isinstance(relax, bool):
        raise ValueError(f"{name}.IsRelaxable must be true or false; got {relax!r}")
    return value, relax


_BOOLEAN_MISTAKES = set(REQUEST_VALUES) | {"weakconsistency", "strongconsistency"}


def resolve_consistency(request_properties=None, policy=None, remote_policy=None) -> ConsistencyResolution:
    """The effective query consistency from client request properties and workload-group policies.

    Rules (Leibowitz2023, ADX-QueryConsistency, ADX-QueryConsistencyPolicy in docs/references.rst):

    1. Neither the request nor the policy says anything: ``Strong`` (the default).
    2. The client request property ``queryconsistency`` (values ``strongconsistency``,
       ``weakconsistency``, ``weakconsistency_by_database``, ``weakconsistency_by_query``,
       ``weakconsistency_by_session_id``; old names ``affinitizedweakconsistency``,
       ``databaseaffinitizedweakconsistency``) overrides the workload group's
       ``QueryConsistencyPolicy`` when the policy's ``IsRelaxable`` is true (the default).
    3. ``IsRelaxable: false`` pins the policy value; the request property is ignored (warning).
    4. A cross-cluster sub-query to cluster B carries A's effective mode, unless B's workload
       group pins its own (``IsRelaxable: false``).
    5. Setting a mode name as if it were a boolean (``weakconsistency=true``) has no effect:
       strong stays — the common mistake — and a warning explains it.
       ``query_weakconsistency_session_id`` only matters with the session mode (warnings).

    Parameters
    ----------
    request_properties : dict, optional
        Client request properties (names case-insensitive; values case-insensitive).
    policy : dict, optional
        The local workload group's policy: ``{"Value": ..., "IsRelaxable": ...}``, or wrapped
        in ``{"QueryConsistency": ...}`` / ``{"QueryConsistencyPolicy": {...}}``.
    remote_policy : dict, optional
        The remote cluster's workload-group policy, for a cross-cluster sub-query.

    Returns
    -------
    ConsistencyResolution

    Raises
    ------
    ValueError
        An unknown ``queryconsistency`` value or policy ``Value`` (naming the closest valid one).

    References
    ----------
    Leibowitz2023 (the rules above, the boolean mistake, cross-cluster propagation),
    ADX-QueryConsistency (the request property and its values) and ADX-QueryConsistencyPolicy
    (the workload-group policy and IsRelaxable) in docs/references.rst.

    Examples
    --------
    >>> r = resolve_consistency({"weakconsistency": True})
    >>> r.mode, r.source
    ('Strong', 'default')
    >>> print(r.warnings[0][:60])
    request property 'weakconsistency' = True has no effect: que
    >>> r = resolve_consistency({"queryconsistency": "weakconsistency"},
    ...                         {"IsRelaxable": False, "Value": "Strong"})
    >>> r.mode, r.source
    ('Strong', 'policy (not relaxable)')
    >>> resolve_consistency({}, {"Value": "Weak"},
    ...                     {"IsRelaxable": False, "Value": "WeakAffinitizedByQuery"}).remote_mode
    'WeakAffinitizedByQuery'
    """
    props = {} if request_properties is None else request_properties
    if not isinstance(props, dict):
        raise ValueError(f"request_properties must be a dict; got {props!r}")
    lowered = {}
    for k, v in props.items():
        if not isinstance(k, str):
            raise ValueError(f"request_properties keys must be strings; got {k!r}")
        lowered[k.lower()] = v
    warnings: list[str] = []

    for key in sorted(set(lowered) & _BOOLEAN_MISTAKES):
        warnings.append(
            f"request property {key!r} = {lowered[key]!r} has no effect: query consistency is set with "
            f"queryconsistency = {key!r}, not as a boolean property (the default, strong, applies unless "
            "something else sets it)"
        )

    request_value = None
    raw = lowered.get("queryconsistency")
    if raw is not None:
        if not isinstance(raw, str):
            raise ValueError(f"queryconsistency must be a string such as 'weakconsistency'; got {raw!r}")
        request_value = REQUEST_VALUES[check_choice("queryconsistency", raw.lower(), REQUEST_VALUES)]

    local_value, relaxable = _parse_policy("policy", policy)
    if local_value is not None and not relaxable:
        mode, source = local_value, "policy (not relaxable)"
        if request_value is not None and request_value != local_value:
            warnings.append(
                f"queryconsistency = {raw!r} is ignored: the workload group pins {local_value!r} (IsRelaxable false)"
            )
    elif request_value is not None:
        mode, source = request_value, "request"
    elif local_value is not None:
        mode, source = local_value, "policy"
    else:
        mode, source = "Strong", "default"

    session = lowered.get("query_weakconsistency_session_id")
    if session is not None and not isinstance(session, str):
        raise ValueError(f"query_weakconsistency_session_id must be a string; got {session!r}")
    if mode == "WeakAffinitizedBySessionId" and not session:
        warnings.append("mode is weak by session id but query_weakconsistency_session_id is not set")
    if session and mode != "WeakAffinitizedBySessionId":
        warnings.append(f"query_weakconsistency_session_id is set but has no effect under {mode!r}")

    remote_mode = remote_routing = remote_source = None
    if remote_policy is not None:
        r_value, r_relax = _parse_policy("remote_policy", remote_policy)
        if r_value is not None and not r_relax:
            remote_mode, remote_source = r_value, "remote policy (not relaxable)"
        else:
            remote_mode, remote_source = mode, "propagated"
        remote_routing = POLICY_VALUES[remote_mode]

    return ConsistencyResolution(
        mode=mode,
        routing=POLICY_VALUES[mode],
        source=source,
        remote_mode=remote_mode,
        remote_routing=remote_routing,
        remote_source=remote_source,
        session_id=session,
        warnings=tuple(warnings),
    )
