"""Advisor: which consistency mode and how many query heads meet a staleness tolerance.

:func:`advise` builds a table of every candidate (strong, and each weak routing mode with each
head count) from :func:`~followerlab.consistency.admin.admin_node_load`,
:func:`~followerlab.consistency.routing.routing_load` and
:func:`~followerlab.consistency.staleness.weak_staleness`, and picks one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._results import Result
from .._validate import as_float, as_float_array, as_int, as_int_array, check_probability, check_seed
from ..queueing import MAX_CV
from ._common import _scalar
from .admin import admin_node_load
from .heads import query_head_count
from .routing import ROUTING_MODES, results_cache_hit_ratio, routing_load
from .staleness import weak_staleness

__all__ = ["Advice", "advise"]


@dataclass(frozen=True)
class Advice(Result):
    """The advisor's table (one row per mode x head count) and its pick.

    References
    ----------
    Leibowitz2023 and ADX-WeakConsistencyPolicy in docs/references.rst (the trade the advisor
    weighs: admin-node load against head staleness).
    """

    table: pd.DataFrame = field(repr=False)
    mode: str
    heads: int
    reason: str

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def per_mode(self) -> pd.DataFrame:
        """One row per mode: the row the advisor would pick within that mode if it is feasible
        (fewest heads, then the coolest hottest head, then the best cache hit ratio), otherwise
        the nearest miss: the fewest limits missed, then the smallest ``limit_ratio`` (how far
        the worst limit is exceeded), then the same order; so a reader sees how close every mode
        came.  Here every weak row misses the staleness tolerance by the same 4.03x, and one or
        two heads would overload the hottest head too: three heads is the nearest miss.

        >>> a = advise(40.0, staleness_tolerance_s=30.0, admin_utilization_ceiling=0.7, planning_s=0.05)
        >>> a.mode
        'none'
        >>> a.per_mode()[["mode", "heads", "feasible", "limit_ratio"]].round(2).values.tolist()[:2]
        [['strong', 0, False, 2.86], ['random', 3, False, 4.03]]
        """
        t = self.table
        # feasible rows: the advisor's order (a ratio below 1 does not rank them)
        order = t.assign(_ratio=np.where(t["feasible"], 0.0, t["limit_ratio"])).sort_values(
            ["limits_missed", "_ratio", "heads", "hottest_head_utilization", "cache_hit_ratio"],
            ascending=[True, True, True, True, False], kind="stable")
        first = order.groupby("mode", sort=False).head(1).drop(columns="_ratio")
        modes = list(dict.fromkeys(t["mode"]))
        return first.set_index("mode").loc[modes].reset_index()

    def _repr_html_(self) -> str:
        return f"<p><b>Advice</b>: {self.mode}, {self.heads} heads — {self.reason}</p>" + self.table.to_html(
            max_rows=40, float_format=lambda v: f"{v:.4g}")


def advise(
    query_rate_per_s,
    staleness_tolerance_s,
    admin_utilization_ceiling=0.7,
    *,
    nodes=15,
    weak_fraction=1.0,
    planning_s=0.05,
    planning_cv=1.0,
    control_rate_per_s=0.0,
    control_s=0.2,
    admin_cores=1,
    head_cores=None,
    shares=None,
    session_shares=None,
    refresh_period_s=120.0,
    base_duration_s=2.0,
    repeat_rate_per_s=0.0,
    cache_max_age_s=0.0,
    repeat_fraction=1.0,
    head_counts=None,
    seed=0,
) -> Advice:
    """Which consistency mode and how many heads: a table of every candidate and the pick.

    Candidates: ``strong``, and each weak routing mode with each head count in
    ``head_counts`` (default: every count :func:`query_head_count` reaches for percentages
    1..100 on ``nodes``, with min 1 and max 30).  A row is *feasible* when the admin
    utilization is at most the ceiling, the staleness p99 (weak: :func:`weak_staleness`;
    strong: 0) is at most the tolerance, and the hottest head's utilization is at most the
    ceiling too (*assumed*: one ceiling for every planning node).  The pick: ``strong`` if
    feasible (freshest); otherwise the feasible weak row with the fewest heads (least metadata
    refresh load on storage), then the lowest hottest-head utilization, then the highest cache
    hit ratio.  ``by_database`` rows need ``shares`` (query share per database) and
    ``by_session`` rows ``session_shares`` (per session id; defaults to ``shares``); without them
    those rows are left out.

    References
    ----------
    Leibowitz2023 (strong load on the admin node against weak staleness on the heads) and
    ADX-WeakConsistencyPolicy (head counts and refresh period) in docs/references.rst; the
    models it combines cite their own sources.

    Examples
    --------
    >>> a = advise(30.0, staleness_tolerance_s=300.0, admin_utilization_ceiling=0.7, planning_s=0.05)
    >>> a.mode, a.heads
    ('random', 3)
    >>> a.to_frame().query("mode == 'strong'")["admin_utilization"].round(2).tolist()
    [1.5]
    """
    lam = float(_scalar("query_rate_per_s", as_float_array("query_rate_per_s", query_rate_per_s, minimum=0.0)))
    tol = float(_scalar("staleness_tolerance_s",
                        as_float_array("staleness_tolerance_s", staleness_tolerance_s, minimum=0.0)))
    ceiling = float(_scalar("admin_utilization_ceiling",
                            as_float_array("admin_utilization_ceiling", admin_utilization_ceiling, minimum=0.0,
                                           strict_minimum=True)))
    n = int(_scalar("nodes", as_int_array("nodes", nodes, minimum=1)))
    w = float(_scalar("weak_fraction", check_probability("weak_fraction", weak_fraction)))
    # the scalars passed on to admin_node_load / routing_load / weak_staleness, checked here by name
    planning_s = as_float("planning_s", planning_s, minimum=0.0, strict_minimum=True)
    planning_cv = as_float("planning_cv", planning_cv, minimum=0.0, maximum=MAX_CV)
    control_rate_per_s = as_float("control_rate_per_s", control_rate_per_s, minimum=0.0)
    control_s = as_float("control_s", control_s, minimum=0.0, strict_minimum=True)
    admin_cores = as_int("admin_cores", admin_cores, minimum=1)
    head_cores = None if head_cores is None else as_int("head_cores", head_cores, minimum=1)
    refresh_period_s = as_float("refresh_period_s", refresh_period_s, minimum=30.0, maximum=1800.0)
    base_duration_s = as_float("base_duration_s", base_duration_s, minimum=0.0)
    repeat_rate_per_s = as_float("repeat_rate_per_s", repeat_rate_per_s, minimum=0.0)
    cache_max_age_s = as_float("cache_max_age_s", cache_max_age_s, minimum=0.0)
    repeat_fraction = as_float("repeat_fraction", repeat_fraction, minimum=0.0, maximum=1.0)
    seed = check_seed("seed", seed)
    if head_counts is None:
        head_counts = np.unique(query_head_count(n, np.arange(1, 101), minimum=1, maximum=30).heads)
    hc = as_int_array("head_counts", head_counts, minimum=1)
    if np.any(hc > n):
        raise ValueError(f"head_counts must be <= nodes ({n}); got {hc[hc > n].tolist()}")
    stale = weak_staleness(refresh_period_s, base_duration_s)
    p99 = float(stale.p99_s)
    rows = []
    strong = admin_node_load(lam, 0.0, planning_s, planning_cv, control_rate_per_s, control_s,
                             admin_cores=admin_cores, heads=1, head_cores=head_cores)
    rows.append(dict(mode="strong", heads=0, admin_utilization=float(strong.admin_utilization),
                     hottest_head_utilization=0.0, staleness_p99_s=0.0, cache_hit_ratio=float(
                         check_probability("repeat_fraction", repeat_fraction)
                         * results_cache_hit_ratio(repeat_rate_per_s, cache_max_age_s)),
                     admin_p99_response_s=float(strong.admin_p99_response_s), hottest_head_p99_response_s=0.0))
    weak_admin = admin_node_load(lam, w, planning_s, planning_cv, control_rate_per_s, control_s,
                                 admin_cores=admin_cores, heads=1, head_cores=head_cores)
    kc = admin_cores if head_cores is None else head_cores
    if session_shares is None:
        session_shares = shares
    key_shares = {"by_database": shares, "by_session": session_shares}
    modes = [m for m in ROUTING_MODES if m not in key_shares or key_shares[m] is not None]
    for mode in modes:
        for h in hc.tolist():
            rl = routing_load(w * lam, h, mode, key_shares.get(mode),
                              planning_s=planning_s, planning_cv=planning_cv, head_cores=kc,
                              repeat_rate_per_s=repeat_rate_per_s, cache_max_age_s=cache_max_age_s,
                              repeat_fraction=repeat_fraction, seed=seed)
            rows.append(dict(mode=mode, heads=h, admin_utilization=float(weak_admin.admin_utilization),
                             hottest_head_utilization=float(rl.hottest_head_utilization), staleness_p99_s=p99,
                             cache_hit_ratio=float(rl.cache_hit_ratio),
                             admin_p99_response_s=float(weak_admin.admin_p99_response_s),
                             hottest_head_p99_response_s=float(rl.hottest_head_p99_response_s)))
    table = pd.DataFrame(rows)
    # the three limits, each checked once: a row is feasible when it misses none
    missed = [~(table.admin_utilization <= ceiling), ~(table.staleness_p99_s <= tol),
              ~(table.hottest_head_utilization <= ceiling)]
    n_missed = np.add.reduce([m.astype(int) for m in missed])
    table["feasible"] = n_missed == 0
    # how far the tightest limit is exceeded (<= 1: all met); a zero tolerance is met only by 0
    with np.errstate(divide="ignore", invalid="ignore"):
        stale_ratio = np.where(table.staleness_p99_s <= 0, 0.0, table.staleness_p99_s / tol)
    table["limit_ratio"] = np.maximum.reduce([table.admin_utilization / ceiling,
                                              table.hottest_head_utilization / ceiling, stale_ratio])
    table["limits_missed"] = n_missed
    feas = table[table.feasible]
    if feas.empty:
        pick_mode, pick_heads = "none", 0
        reason = "no candidate meets both the staleness tolerance and the utilization ceiling: " + _why_none(
            table, w, tol, ceiling, p99)
    elif bool(feas.iloc[0]["mode"] == "strong"):
        pick_mode, pick_heads, reason = "strong", 0, "the admin node stays under the ceiling: no staleness needed"
    else:
        best = feas.sort_values(["heads", "hottest_head_utilization", "cache_hit_ratio"],
                                ascending=[True, True, False], kind="stable").iloc[0]
        pick_mode, pick_heads = str(best["mode"]), int(best["heads"])
        reason = (f"strong overloads the admin node ({table.admin_utilization.iloc[0]:.2f} > {ceiling:g}); "
                  f"fewest heads keeping every planning node <= {ceiling:g} with p99 staleness {p99:.0f} s")
    table["recommended"] = (table["mode"] == pick_mode) & (table["heads"] == pick_heads)
    return Advice(table=table, mode=pick_mode, heads=pick_heads, reason=reason)


def _why_none(table, weak_fraction, tol, ceiling, p99) -> str:
    """Which limits every candidate misses (the advisor found none feasible)."""
    weak = table[table["mode"] != "strong"]
    why = [f"strong leaves the admin node {table.admin_utilization.iloc[0]:.2f} busy (ceiling {ceiling:g})"]
    if weak.empty:
        return why[0] + " and no weak mode can be evaluated"
    if (weak.admin_utilization > ceiling).all():
        why.append(f"with {100 * weak_fraction:.3g} % of the queries weak "
                   f"it is still {weak.admin_utilization.min():.2f}")
    if p99 > tol:
        why.append(f"weak queries' p99 staleness is {p99:.0f} s (tolerance {tol:g} s)")
    if (weak.hottest_head_utilization > ceiling).all():
        why.append(f"the hottest head is at least {weak.hottest_head_utilization.min():.2f} busy "
                   f"with up to {int(weak.heads.max())} heads")
    return "; ".join(why)
