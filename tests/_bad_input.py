"""The bad-input sweep shared by ``tests/test_bad_input.py`` and ``tools/bad_input_sweep.py``.

Every public function of the swept modules (``SWEPT_MODULES``; their ``__all__``) has a *case*: a
valid baseline call.  The sweep replaces one argument at a time by a bad value chosen by the
argument's kind (NaN, +-inf, 1e300, -1, 0, non-integers, wrong types, None, empty arrays,
arrays with one bad element, bad seeds, ...), and also calls each case with two of its array
arguments of mismatched shapes.  Each call is classified:

``refused``
    ValueError or TypeError whose message names the argument (for a shape mismatch: both).
``unnamed``
    ValueError or TypeError whose message does not name the argument.
``traceback``
    any other exception (AttributeError, IndexError, ZeroDivisionError, KeyError, ...), or an
    exception from probing the result (``mean()``, ``ppf``, ``to_frame()``, ...).
``garbage``
    a result that holds NaN (where the baseline result holds none), an integer that wrapped
    around int64, or an empty array from non-empty input.
``accepted``
    a clean result (a value the function legitimately accepts, e.g. 0 or inf where allowed).
``timeout``
    the call did not return within ``TIMEOUT_S``.

Only ``refused`` and ``accepted`` are clean.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import inspect
import math
import signal
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent

#: the public modules swept (the models, their simulations, and the helpers built on them);
#: batch, cli, report, plots, explore, scenarios and validation take files, figures or processes
#: and have their own tests.
SWEPT_MODULES = [
    "queueing", "latency", "staleness", "follower", "consistency", "raft", "configuration",
    "sensitivity", "compare", "sim.queue", "sim.follower", "sim.consistency", "sim.raft",
]

#: public names of the swept modules that are not functions to sweep, with the reason.
NOT_SWEPT = {
    "compare.load_results": "reads a batch results file (tests/test_batch_compare.py)",
    "compare.wide_table": "takes a batch results table (tests/test_batch_compare.py)",
    "compare.pareto_by_group": "takes a wide batch table (tests/test_batch_compare.py)",
    "compare.assess": "takes a batch results table (tests/test_honest_best.py)",
    "compare.merge_identical": "takes a batch results table (tests/test_honest_best.py)",
    # added on main by the raft restructuring merged at 16:00 (issue 14 part 7 follow-up: write their cases)
    "raft.as_topology": "new on main, case not yet written",
    "raft.read_path": "new on main, case not yet written",
    "raft.read_site": "new on main, case not yet written",
    "raft.register_read_path": "new on main, case not yet written",
    "sensitivity.leading_assumptions": "new on main, case not yet written",
    "sensitivity.raft_latency_sensitivity": "new on main, case not yet written",
}

#: public functions re-exported by a swept module without being in its ``__all__`` (DESIGN.md promises
#: ``followerlab.staleness.t_visibility``; the WARS functions live in ``followerlab._wars``).
REEXPORTED = {"staleness": ["t_visibility", "quorum_miss_probability", "k_staleness_probability"]}

TIMEOUT_S = 60.0   # a hang, not a slow valid call on a loaded machine


class _Timeout(Exception):
    pass


@dataclasses.dataclass
class Case:
    """A valid baseline call of one public function and how to sweep its arguments."""

    name: str                      # "module.function"
    func: Callable
    args: dict                     # baseline keyword arguments (every swept argument by name)
    arrays: tuple = ()             # arguments that broadcast (take arrays)
    kinds: dict = dataclasses.field(default_factory=dict)    # argument -> kind, overriding the guess
    skip: tuple = ()               # arguments not swept
    aliases: dict = dataclasses.field(default_factory=dict)  # argument -> other names its message may use
    allowed_nan: tuple = ()        # result fields documented to hold NaN ("not applicable") for some inputs
    quick: int | None = None       # calls sampled by the quick test (None: all); for the slow functions

    def call(self, **override):
        kwargs = dict(self.args)
        kwargs.update(override)
        return self.func(**kwargs)


def _fn(path: str):
    mod, _, name = path.rpartition(".")
    return getattr(importlib.import_module("followerlab." + mod), name)


# --------------------------------------------------------------------------------------------
# the cases
# --------------------------------------------------------------------------------------------
def _rtt():
    from followerlab import raft
    return raft.load_rtt("crdb-demo-rtt-2019.csv")


def cases() -> list[Case]:
    """Every swept public function's baseline call."""
    from followerlab import latency, raft, staleness  # noqa: F401

    m = _rtt()
    p = raft.spread_placement(m, "us-east1")
    e1 = latency.exponential(1.0)
    c = []

    def add(name, args, arrays=(), **kw):
        c.append(Case(name, _fn(name), args, tuple(arrays), **kw))

    # queueing
    add("queueing.erlang_b", dict(servers=3, offered_load=2.0), ["servers", "offered_load"])
    add("queueing.erlang_c", dict(servers=3, offered_load=2.0), ["servers", "offered_load"])
    add("queueing.mm1", dict(arrival_rate=0.5, service_rate=1.0), ["arrival_rate", "service_rate"])
    add("queueing.mmc", dict(arrival_rate=1.0, service_rate=1.0, servers=2),
        ["arrival_rate", "service_rate", "servers"])
    add("queueing.mg1", dict(arrival_rate=0.5, mean_service_s=1.0, service_cv=0.5),
        ["arrival_rate", "mean_service_s", "service_cv"], skip=("service",))
    add("queueing.md1", dict(arrival_rate=0.5, service_rate=1.0), ["arrival_rate", "service_rate"])
    add("queueing.mdc", dict(arrival_rate=1.0, service_rate=1.0, servers=2),
        ["arrival_rate", "service_rate", "servers"])
    add("queueing.gg1", dict(arrival_rate=0.5, service_rate=1.0, arrival_cv=0.8, service_cv=0.5, method="auto",
                             seed=0, sim_customers=2000),
        ["arrival_rate", "service_rate", "arrival_cv", "service_cv"])
    add("queueing.ggc", dict(arrival_rate=1.0, service_rate=1.0, servers=2, arrival_cv=0.8, service_cv=0.5,
                             method="auto", seed=0, sim_customers=2000),
        ["arrival_rate", "service_rate", "servers", "arrival_cv", "service_cv"])

    # latency
    add("latency.constant", dict(ms=2.0), ["ms"])
    add("latency.shifted_lognormal", dict(min_ms=1.0, median_ms=2.0, p99_ms=5.0), ["min_ms", "median_ms", "p99_ms"])
    add("latency.exponential", dict(mean_ms=1.0, shift_ms=0.5), ["mean_ms", "shift_ms"])
    add("latency.gamma", dict(mean_ms=1.0, cv=0.5, shift_ms=0.5), ["mean_ms", "cv", "shift_ms"])
    add("latency.pareto", dict(min_ms=1.0, alpha=2.5), ["min_ms", "alpha"])
    add("latency.mixture", dict(components=[latency.constant(1.0), e1], weights=[0.5, 0.5]),
        kinds={"components": "dists", "weights": "floats"})
    add("latency.empirical", dict(samples=[1.0, 2.0, 3.0]), kinds={"samples": "floats"})
    add("latency.shifted", dict(dist=e1, offset_ms=1.0), ["offset_ms"], kinds={"dist": "dist"})
    add("latency.convolve", dict(a=e1, b=latency.constant(1.0), points=1024, tail=1e-10),
        kinds={"a": "dist", "b": "dist"})
    add("latency.order_statistic", dict(dists=[e1, latency.constant(1.0), latency.exponential(2.0)], k=2),
        kinds={"dists": "dists"})
    add("latency.maximum", dict(dists=[e1, latency.constant(1.0)]), kinds={"dists": "dists"})
    add("latency.minimum", dict(dists=[e1, latency.constant(1.0)]), kinds={"dists": "dists"})
    add("latency.latency_summary", dict(dist=e1), kinds={"dist": "dist"})

    # staleness (and the WARS functions it re-exports)
    add("staleness.refresh_lag", dict(period_s=60.0, base_duration_s=2.0, duration_per_change_s=0.01,
                                      change_rate_per_s=1.0, method="auto", grid_points=64),
        ["period_s", "base_duration_s", "duration_per_change_s", "change_rate_per_s"])
    add("staleness.t_visibility", dict(t_ms=[0.0, 5.0], n=3, r=1, w=1, write=e1, ack=e1, read=e1, response=e1,
                                       trials=500, seed=0),
        ["t_ms"], kinds={"write": "dist", "ack": "dist", "read": "dist", "response": "dist"})
    add("staleness.quorum_miss_probability", dict(n=3, r=1, w=2), ["n", "r", "w"])
    add("staleness.k_staleness_probability", dict(n=3, r=1, w=1, k=2), ["n", "r", "w", "k"])

    # follower
    add("follower.parse_timespan_s", dict(value="1.02:03:04", name="timespan"), kinds={"value": "timespan"},
        aliases={"value": ["timespan"]})   # the message uses the caller's name for the value
    add("follower.sync_lag", dict(period_s=60.0, base_duration_s=2.0, duration_per_change_s=0.01,
                                  change_rate_per_s=1.0, prefetch=True, bytes_per_change=1e6,
                                  warm_bandwidth_bytes_per_s=1e8, method="auto"),
        ["period_s", "base_duration_s", "duration_per_change_s", "change_rate_per_s", "bytes_per_change",
         "warm_bandwidth_bytes_per_s"])
    add("follower.prefetch_tradeoff", dict(period_s=60.0, base_duration_s=2.0, duration_per_change_s=0.01,
                                           change_rate_per_s=1.0, bytes_per_change=1e6,
                                           warm_bandwidth_bytes_per_s=1e8),
        ["period_s", "base_duration_s", "duration_per_change_s", "change_rate_per_s", "bytes_per_change",
         "warm_bandwidth_bytes_per_s", "query_new_fraction"])
    add("follower.effective_caching", dict(tables=["T1", "T2"], leader_database_hot="1d", leader_table_hot={"T1": "2d"},
                                           override_database_hot="7d", override_table_hot={"T2": "3d"}, kind="union"),
        kinds={"tables": "names", "leader_table_hot": "mapping", "override_table_hot": "mapping",
               "leader_database_hot": "timespan", "override_database_hot": "timespan"})
    add("follower.cache_cost", dict(hot_span_s=86400.0, ingest_bytes_per_s=1e6, lookback_s=[3600.0, 600.0],
                                    compression_ratio=2.0, retention_s=1e7),
        ["hot_span_s", "ingest_bytes_per_s", "compression_ratio", "retention_s"], kinds={"lookback_s": "floats"})
    add("follower.workload_read_latency", dict(lookback_s=[3600.0, 600.0], hot_span_s=86400.0, scan_bytes_per_s_of_range=1e3,
                                               newest_cold_probability=0.1, newest_cold_bytes=1e6),
        ["hot_span_s", "scan_bytes_per_s_of_range", "base_latency_s"], kinds={"lookback_s": "floats"})
    add("follower.effective_principals", dict(leader={("admins", "aaduser=alice"), ("viewers", "aadgroup=a")},
                                              override={("viewers", "aadapp=d")}, kind="union"),
        kinds={"leader": "object", "override": "object"})
    add("follower.select_tables", dict(tables=["T1", "T2", "Logs"], include=["T*"], exclude=["T2"]),
        kinds={"tables": "names", "include": "names", "exclude": "names"})
    add("follower.select_entities", dict(tables=["T1", "T2"], tables_to_include=["T*"], tables_to_exclude=["T2"],
                                         functions=["f"], functions_to_include=["*"]),
        kinds={k: "names" for k in ("tables", "tables_to_include", "tables_to_exclude", "functions",
                                    "functions_to_include")})
    add("follower.union_window", dict(lag=staleness.refresh_lag(60.0, 2.0), window_s=120.0, query_range_s=3600.0),
        ["window_s", "query_range_s"], kinds={"lag": "object"})
    add("follower.estimate_lag", dict(leader_times=[10.0, 20.0, 30.0], follower_times=[5.0, 18.0, 30.0]),
        ["leader_times", "follower_times"])
    add("follower.fit_sync_model", dict(lag_s=[31.9, 5.5, 53.9, 5.6, 44.0, 37.2, 12.9, 38.1, 29.7, 60.9, 17.4, 30.3, 34.2, 7.9, 56.1, 7.9,
                                  46.4, 39.6, 15.4, 40.5, 32.1, 63.4, 19.8, 32.8],
                                  change_rate_per_s=[1.0] * 12 + [5.0] * 12),
        kinds={"lag_s": "floats", "change_rate_per_s": "floats"})
    add("follower.split_faq_output",
        dict(frame=pd.DataFrame({"cluster_url": ["https://l", "https://f"], "max_ingestion_time": [10.0, 4.0]}),
             leader_url="https://l", follower_url="https://f"),
        kinds={"frame": "frame", "leader_url": "str", "follower_url": "str"})

    # consistency
    add("consistency.query_head_count", dict(nodes=15, percentage=20, minimum=2, maximum=30),
        ["nodes", "percentage", "minimum", "maximum"])
    add("consistency.admin_node_load", dict(query_rate_per_s=5.0, weak_fraction=0.5, control_rate_per_s=0.1,
                                            admin_cores=1, heads=3, head_cores=2),
        ["query_rate_per_s", "weak_fraction", "planning_s", "planning_cv", "control_rate_per_s", "control_s",
         "control_cv", "admin_cores", "heads", "head_cores"])
    add("consistency.hot_key_shares", dict(keys=10, hot_share=0.7))
    add("consistency.zipf_shares", dict(keys=10, exponent=1.0))
    add("consistency.head_load_distribution", dict(shares=[0.7, 0.2, 0.1], heads=3, method="auto", samples=2000,
                                                   seed=0, max_states=5000), kinds={"shares": "floats"})
    add("consistency.routing_load", dict(query_rate_per_s=5.0, heads=3, mode="by_database", shares=[0.7, 0.2, 0.1],
                                         repeat_rate_per_s=0.1, cache_max_age_s=60.0, samples=2000, seed=0),
        ["query_rate_per_s", "planning_s"], kinds={"shares": "floats"})
    add("consistency.results_cache_hit_ratio", dict(rate_per_s=0.1, max_age_s=60.0), ["rate_per_s", "max_age_s"])
    add("consistency.weak_staleness", dict(refresh_period_s=120.0, base_duration_s=2.0, duration_per_change_s=0.001,
                                           change_rate_per_s=1.0),
        ["refresh_period_s", "base_duration_s", "duration_per_change_s", "change_rate_per_s"])
    add("consistency.records_missed", dict(window_s=300.0, ingest_rate_per_s=10.0, match_rate_per_s=1.0, grid=401),
        ["window_s", "ingest_rate_per_s"], skip=("staleness",))
    add("consistency.monotonic_read_violation_probability", dict(heads=3, refresh_period_s=120.0, gap_s=10.0,
                                                                 mode="random"),
        ["heads", "refresh_period_s", "gap_s"])
    add("consistency.refresh_cost", dict(heads=3), ["heads", "refresh_period_s", "extents", "extent_change_rate_per_s",
                                                    "bytes_per_extent", "base_duration_s", "bandwidth_bytes_per_s",
                                                    "failure_rate_per_mb"])
    add("consistency.resolve_consistency", dict(request_properties={"queryconsistency": "weakconsistency"},
                                                policy={"Value": "Strong", "IsRelaxable": True}, remote_policy={"Value": "Weak", "IsRelaxable": True}),
        kinds={"request_properties": "mapping", "policy": "mapping", "remote_policy": "mapping"})
    add("consistency.advise", dict(query_rate_per_s=5.0, staleness_tolerance_s=300.0, head_counts=[2, 3], seed=0),
        kinds={"head_counts": "ints"})

    # raft
    add("raft.load_rtt", dict(name_or_path="crdb-demo-rtt-2019.csv"), kinds={"name_or_path": "path"})
    add("raft.rtt_matrix", dict(rtt_ms=[[0.0, 10.0], [12.0, 0.0]], regions=["a", "b"]),
        kinds={"rtt_ms": "matrix", "regions": "names"})
    add("raft.placement", dict(voters={"us-east1": 2, "us-west1": 2, "europe-west1": 1}, leaseholder="us-east1",
                               non_voters=["us-west1"], rtt_ms=m),
        kinds={"voters": "mapping", "leaseholder": "str", "non_voters": "names", "rtt_ms": "rtt"}, skip=("name",))
    add("raft.spread_placement", dict(rtt_ms=m, leaseholder="us-east1", n_voters=3), kinds={"rtt_ms": "rtt"},
        skip=("name",))
    add("raft.survival_placement", dict(rtt_ms=m, home_region="us-east1", goal="zone"), kinds={"rtt_ms": "rtt"},
        skip=("name",))
    add("raft.replica_counts", dict(goal="zone", n_regions=3), ["n_regions"])
    add("raft.quorum_size", dict(n_voters=3), ["n_voters"])
    add("raft.commit_latency", dict(rtt_ms=m, leader="us-east1", voters=["us-east1", "us-west1", "europe-west1"],
                                    fsync_ms=1.0, intra_region_rtt_ms=0.5),
        ["fsync_ms", "intra_region_rtt_ms"], kinds={"rtt_ms": "rtt", "voters": "names"})
    add("raft.write_latency", dict(rtt_ms=m, placement_=p, client_region="us-west1", fsync_ms=1.0, global_table=False),
        ["fsync_ms", "intra_region_rtt_ms", "max_offset_ms"], kinds={"rtt_ms": "rtt", "placement_": "object"},
        aliases={"placement_": ["placement"]})
    add("raft.commit_latency_distribution", dict(rtt_ms=m, leader="us-east1", voters=["us-east1", "us-west1",
                                                                                       "europe-west1"],
                                                 fsync=1.0, link_jitter=e1),
        kinds={"rtt_ms": "rtt", "voters": "names", "fsync": "dist", "link_jitter": "dist"})
    add("raft.write_latency_distribution", dict(rtt_ms=m, placement_=p, client_region="us-west1", fsync=1.0,
                                                link_jitter=e1),
        kinds={"rtt_ms": "rtt", "placement_": "object", "fsync": "dist", "link_jitter": "dist"},
        aliases={"placement_": ["placement"]})
    add("raft.read_latency", dict(rtt_ms=m, placement_=p, client_region="us-west1", path="bounded"),
        ["intra_region_rtt_ms", "max_staleness_s", "target_duration_s", "side_transport_interval_s"],
        kinds={"rtt_ms": "rtt", "placement_": "object"}, aliases={"placement_": ["placement"]})
    add("raft.follower_read_timestamp_lag_s", dict(version="v23.1"))
    add("raft.follower_read_lag_s", dict(), ["target_duration_s", "side_transport_interval_s", "propagation_slack_s"])
    add("raft.closed_timestamp_lag", dict(one_way_delay_ms=10.0),
        ["one_way_delay_ms", "target_duration_s", "side_transport_interval_s"])
    add("raft.global_reads_lead_ms", dict(), ["max_offset_ms", "max_network_rtt_ms", "side_transport_interval_ms",
                                              "raft_overhead_ms", "buffer_ms", "override_ms"])
    add("raft.survives", dict(placement_=p, failed_regions=["us-east1"], rtt_ms=m),
        kinds={"placement_": "object", "failed_regions": "names", "rtt_ms": "rtt"}, aliases={"placement_": ["placement"]})
    add("raft.failover", dict(rtt_ms=m, placement_=p, failed_regions=["us-east1"], fsync_ms=1.0),
        kinds={"rtt_ms": "rtt", "placement_": "object", "failed_regions": "names", "client_regions": "names"},
        aliases={"placement_": ["placement"]})
    add("raft.failure_table", dict(rtt_ms=m, placement_=p), kinds={"rtt_ms": "rtt", "placement_": "object"},
        aliases={"placement_": ["placement"]})
    add("raft.placement_layouts", dict(rtt_ms=m, leaseholder="us-east1"), kinds={"rtt_ms": "rtt", "regions": "names"})
    add("raft.placement_table", dict(rtt_ms=m, leaseholders=["us-east1"], fsync=1.0),
        kinds={"rtt_ms": "rtt", "leaseholders": "names", "fsync": "dist", "regions": "names"})
    add("raft.rank_topologies", dict(rtt_ms=m, client_shares={"us-east1": 0.5, "us-west1": 0.5}, home_region="us-east1"),
        kinds={"rtt_ms": "rtt", "client_shares": "mapping"})
    add("raft.write_load", dict(rate_per_s=100.0, n_voters=3, commit_ms=10.0, batch=1),
        ["rate_per_s", "n_voters", "commit_ms", "batch", "per_append_ms", "per_follower_ms", "per_proposal_ms",
         "service_cv"])
    add("raft.greedy_write_load", dict(rate_per_s=100.0, n_voters=3, commit_ms=10.0),
        ["rate_per_s", "n_voters", "commit_ms", "per_append_ms", "per_follower_ms", "per_proposal_ms", "stall_ms",
         "stall_probability"])
    add("raft.readindex_read_load", dict(rate_per_s=100.0, round_ms=10.0, overhead_ms=2.0),
        ["rate_per_s", "round_ms", "overhead_ms"])

    # configuration
    add("configuration.follower_metrics", dict(period_s=60.0, change_rate_per_s=1.0, prefetch=False),
        ["period_s", "change_rate_per_s"])
    add("configuration.weak_metrics", dict(query_rate_per_s=5.0, weak_fraction=0.5, heads=3, routing_mode="random"),
        ["query_rate_per_s"])   # weak_fraction and heads are scalars
    add("configuration.raft_metrics", dict(rtt_ms=m, placement=p, client_regions=["us-east1", "us-west1"],
                                           read_path="follower"),
        kinds={"rtt_ms": "rtt", "placement": "object", "client_regions": "names"})
    add("configuration.round_trip_jitter", dict(jitter_mean_ms=2.0), ["jitter_mean_ms"])

    # sensitivity
    def lin(q):
        return {"y": q["a"] + 2 * q["b"]}
    add("sensitivity.sobol_indices", dict(func=lin, ranges={"a": (0, 1), "b": (0, 1)}, n=64, seed=0, bootstrap=10,
                                          oat_points=3),
        kinds={"func": "callable", "ranges": "mapping"}, skip=("metrics", "nominal"),
        aliases={"func": ["metric"]})   # a NaN output is refused naming the metric func returned
    add("sensitivity.morris_screening", dict(func=lin, ranges={"a": (0, 1), "b": (0, 1)}, trajectories=4, seed=0,
                                             bootstrap=10),
        kinds={"func": "callable", "ranges": "mapping"}, skip=("metrics",), aliases={"func": ["metric"]})
    add("sensitivity.follower_lag_sensitivity", dict(n=64, seed=0), kinds={"ranges": "mapping"})
    add("sensitivity.admin_load_sensitivity", dict(n=64, seed=0), kinds={"ranges": "mapping"},
        # documented: a metric saturated at some sample points keeps NaN indices (nonfinite="indicator")
        allowed_nan=(".S1", ".ST", ".S1_low", ".S1_high", ".ST_low", ".ST_high", ".variance"))

    # compare
    add("compare.pareto_front", dict(values=[[1.0, 5.0], [2.0, 2.0], [5.0, 1.0]]), kinds={"values": "matrix"},
        skip=("maximize",))

    # simulations
    from scipy import stats
    add("sim.queue.simulate_queue", dict(interarrival=stats.expon(scale=2.0), service=stats.expon(), servers=1,
                                         customers=500, replications=2, warmup=50, seed=0),
        kinds={"interarrival": "dist", "service": "dist"})
    add("sim.queue.simulate_ggc", dict(arrival_rate=0.5, service_rate=1.0, servers=1, arrival_cv=1.0, service_cv=0.5))
    add("sim.queue.gamma_sampler", dict(mean_s=1.0, cv=0.5))
    add("sim.follower.simulate_follower", dict(period_s=60.0, base_duration_s=2.0, duration_per_change_s=0.01,
                                               change_rate_per_s=1.0, horizon_s=600.0, seed=0))
    add("sim.consistency.fcfs_multi_server", dict(arrivals=np.array([0.0, 0.1, 0.2]), services=np.array([1.0, 1.0, 1.0]),
                                                  servers=2), ["arrivals", "services"])
    add("sim.consistency.simulate_query_routing", dict(query_rate_per_s=5.0, duration_s=50.0, heads=3, seed=0))
    add("sim.consistency.simulate_monotonic_reads", dict(heads=2, refresh_period_s=120.0, gap_s=10.0, sessions=1000,
                                                         seed=0))
    add("sim.consistency.simulate_records_missed", dict(window_s=300.0, ingest_rate_per_s=1.0, queries=200, seed=0))
    add("sim.consistency.snapshot_time", dict(t=130.0, phase_s=5.0, refresh_period_s=120.0, refresh_duration_s=2.0),
        ["t", "phase_s", "refresh_period_s", "refresh_duration_s"])
    add("sim.raft.simulate_commits", dict(rtt_ms=m, leader="us-east1", voters=["us-east1", "us-west1", "europe-west1"],
                                          fsync=1.0, one_way_jitter=e1, trials=200, seed=0),
        kinds={"rtt_ms": "rtt", "voters": "names", "fsync": "dist", "one_way_jitter": "dist"})
    add("sim.raft.simulate_write_load", dict(rate_per_s=100.0, n_voters=3, commit_ms=5.0, batch=2, proposals=200,
                                             seed=0))
    add("sim.raft.simulate_greedy_write_load", dict(rate_per_s=100.0, n_voters=3, commit_ms=5.0, proposals=200,
                                                    seed=0))
    for case in c:
        case.quick = QUICK_LIMITS.get(case.name)
    return c


#: calls the quick test samples for the slow functions (each accepted call runs a simulation or a
#: Sobol' design); every other function gets all its calls.
QUICK_LIMITS = {"queueing.gg1": 25, "queueing.ggc": 25, "sensitivity.sobol_indices": 30,
                "sensitivity.morris_screening": 30, "sensitivity.follower_lag_sensitivity": 10,
                "sensitivity.admin_load_sensitivity": 8}


# --------------------------------------------------------------------------------------------
# bad values by kind
# --------------------------------------------------------------------------------------------
class _Obj:
    def __repr__(self):
        return "<object>"


def _kind(case: Case, param: str, value) -> str | None:
    if param in case.kinds:
        return case.kinds[param]
    if param in ("seed", "random_state"):
        return "seed"
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, (int, np.integer)):
        return "int"
    if isinstance(value, (float, np.floating)):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, pd.DataFrame):
        return "frame"
    if isinstance(value, Mapping):
        return "mapping"
    if isinstance(value, (list, tuple, np.ndarray)):
        arr = np.asarray(value)
        if arr.dtype.kind in "iu":
            return "ints"
        if arr.dtype.kind == "f":
            return "floats"
        return "names"
    if callable(value):
        return "callable"
    return "object"


_NUMBERS = [math.nan, math.inf, -math.inf, 1e300, -1e300, -1, 0]
_WRONG_TYPES = [None, "x", _Obj(), {"a": 1}]


def bad_values(kind: str, base) -> list:
    """The bad (or edge) values tried for an argument of ``kind`` whose valid value is ``base``."""
    if kind == "int":
        return _NUMBERS + [1.5, 2**63, -(2**63) - 1] + _WRONG_TYPES + [np.array([]), [base, math.nan], [base, 1e300]]
    if kind == "float":
        return _NUMBERS + [1e-300] + _WRONG_TYPES + [np.array([]), [base, math.nan], [base, 1e300]]
    if kind in ("floats", "ints"):
        arr = np.asarray(base, dtype=float)
        return [math.nan, 1e300, -1, 0, [], None, "x", _Obj(),
                np.where(np.arange(arr.size) == 0, math.nan, arr).reshape(arr.shape),
                np.where(np.arange(arr.size) == 0, 1e300, arr).reshape(arr.shape),
                np.where(np.arange(arr.size) == 0, -1.0, arr).reshape(arr.shape)]
    if kind == "seed":
        return [-1, 1.5, math.nan, 1e300, 2**64, "x", _Obj(), np.array([1, 2]), [], -1e300]
    if kind == "bool":
        return [None, "yes", "no", 2, math.nan, _Obj()]
    if kind == "str":
        return [None, 1, 1e300, math.nan, "", "zzz-unknown", _Obj(), ["a"]]
    if kind == "timespan":
        return [None, "", "x", "25:61:61", "-1d", "1e300d", math.nan, -1, _Obj(), "1.2.3:4:5"]
    if kind == "names":
        return [None, 1, math.nan, "ab", [], [1, 2], _Obj(), [None]]
    if kind == "mapping":
        return [None, 1, "x", [], _Obj(), {"zzz-unknown": 1}, {1: math.nan}]
    if kind == "frame":
        return [None, 1, "x", pd.DataFrame(), _Obj()]
    if kind == "dist":
        return [None, "x", _Obj(), math.nan, -1.0, math.inf, [1.0, 2.0]]
    if kind == "dists":
        return [None, 1.0, "x", [], [None], [_Obj()], _Obj()]
    if kind == "object":
        return [None, 1.0, "x", _Obj()]
    if kind == "callable":
        # (a function that raises is the caller's error and propagates as such: not swept)
        return [None, 1.0, "x", (lambda q: None), (lambda q: {"y": math.nan})]
    if kind == "path":
        return [None, 1, "", "no-such-file.csv", str(ROOT / "data"), str(ROOT / "pyproject.toml"), _Obj(),
                "__EMPTY_FILE__"]
    if kind == "matrix":
        return [None, 1.0, "x", [], [[]], [[0.0, math.nan], [1.0, 0.0]], [[0.0, 1e300], [1.0, 0.0]],
                [[0.0, -1.0], [1.0, 0.0]], [[0.0, 1.0, 2.0]], _Obj()]
    if kind == "rtt":
        return [None, 1.0, "x", [], [[0.0, math.nan], [1.0, 0.0]], _Obj()]
    raise KeyError(kind)


# --------------------------------------------------------------------------------------------
# running and classifying calls
# --------------------------------------------------------------------------------------------
INT_WRAP = 2.0**62


def _scan(value, path="", depth=0, seen=None):
    """(path, problem) pairs for NaN, wrapped integers or deferred failures found in a result."""
    seen = set() if seen is None else seen
    if depth > 4 or id(value) in seen:
        return []
    seen.add(id(value))
    out = []
    if value is None or isinstance(value, (str, bytes, bool, np.bool_)):
        return out
    if isinstance(value, (int, np.integer)):
        return [(path, "wrapped integer")] if abs(int(value)) >= INT_WRAP else []
    if isinstance(value, (float, np.floating, complex)):
        return [(path, "NaN")] if isinstance(value, complex) or math.isnan(value) else []
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "f":
            return [(path, "NaN")] if np.isnan(value).any() else []
        if value.dtype.kind in "iu":
            return [(path, "wrapped integer")] if value.size and np.abs(value.astype(float)).max() >= INT_WRAP else []
        if value.dtype.kind == "O":
            for i, v in enumerate(value.ravel()[:50]):
                out += _scan(v, f"{path}[{i}]", depth + 1, seen)
        return out
    if isinstance(value, pd.DataFrame):
        for col in value.columns:
            out += _scan(value[col], f"{path}[{col!r}]", depth + 1, seen)
        return out
    if isinstance(value, pd.Series):
        if value.dtype.kind in "fiu":
            return _scan(value.to_numpy(), path, depth + 1, seen)
        if value.dtype.kind == "O":
            return _scan(value.to_numpy(), path, depth + 1, seen)
        return out
    if isinstance(value, Mapping):
        for k, v in list(value.items())[:200]:
            out += _scan(v, f"{path}[{k!r}]", depth + 1, seen)
        return out
    if isinstance(value, (list, tuple)):
        for i, v in enumerate(value[:200]):
            out += _scan(v, f"{path}[{i}]", depth + 1, seen)
        return out
    if dataclasses.is_dataclass(value):
        for f in dataclasses.fields(value):
            out += _scan(getattr(value, f.name, None), f"{path}.{f.name}", depth + 1, seen)
        if hasattr(value, "to_frame"):
            out += _probe(value, path, "to_frame", ())
        for meth, args in (("wait_quantile", (0.99,)), ("quantile", (0.99,)), ("cdf", (1.0,))):
            if callable(getattr(value, meth, None)):
                out += _probe(value, path, meth, args)
        return out
    if callable(getattr(value, "ppf", None)) and callable(getattr(value, "mean", None)):   # a distribution
        for meth, args in (("mean", ()), ("ppf", (0.99,)), ("cdf", (1.0,))):
            out += _probe(value, path, meth, args)
        return out
    if callable(value):
        return out
    return out


def _probe(value, path, meth, args):
    try:
        r = getattr(value, meth)(*args)
    except Exception as exc:   # a deferred failure of a result the function accepted
        return [(f"{path}.{meth}()", f"raises {type(exc).__name__}: {exc}"[:200])]
    return _scan(r, f"{path}.{meth}()", 3)


@contextlib.contextmanager
def _time_limit(seconds):
    def handler(signum, frame):
        raise _Timeout()
    old = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


@dataclasses.dataclass
class Outcome:
    case: str
    param: str
    value: str
    status: str          # refused / unnamed / traceback / garbage / accepted / timeout
    detail: str = ""


def _names_in(message: str, names) -> bool:
    return any(n in message for n in names)


def run_call(case: Case, override: dict, must_name: list[list[str]], baseline_nan: set) -> Outcome:
    label = ", ".join(override)
    shown = ", ".join(_short(v) for v in override.values())
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with _time_limit(TIMEOUT_S):
                result = case.call(**override)
                problems = [p for p in _scan(result) if p[0] not in baseline_nan or p[1] != "NaN"]
    except _Timeout:
        return Outcome(case.name, label, shown, "timeout", f"> {TIMEOUT_S:g} s")
    except (ValueError, TypeError) as exc:
        msg = str(exc)
        if all(_names_in(msg, names) for names in must_name):
            return Outcome(case.name, label, shown, "refused", msg[:300])
        return Outcome(case.name, label, shown, "unnamed", f"{type(exc).__name__}: {msg}"[:300])
    except Exception as exc:
        tb = exc.__traceback__
        while tb.tb_next is not None:
            tb = tb.tb_next
        where = f"{Path(tb.tb_frame.f_code.co_filename).name}:{tb.tb_lineno}"
        return Outcome(case.name, label, shown, "traceback", f"{type(exc).__name__} at {where}: {exc}"[:300])
    if problems:
        return Outcome(case.name, label, shown, "garbage", "; ".join(f"{a}: {b}" for a, b in problems[:3])[:300])
    return Outcome(case.name, label, shown, "accepted")


def _short(v) -> str:
    r = repr(v) if not isinstance(v, (pd.DataFrame,)) else f"DataFrame{v.shape}"
    return r if len(r) <= 40 else r[:37] + "..."


def _params(case: Case):
    sig = inspect.signature(case.func)
    for name, par in sig.parameters.items():
        if par.kind in (par.VAR_KEYWORD, par.VAR_POSITIONAL) or name in case.skip:
            continue
        base = case.args.get(name, par.default)
        if base is inspect.Parameter.empty:
            continue
        kind = _kind(case, name, base)
        if kind is None:
            continue
        yield name, base, kind, par.default


def sweep_case(case: Case, *, limit: int | None = None, rng: np.random.Generator | None = None):
    """Every bad call of one case (or a sample of ``limit`` of them), classified."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        baseline = case.call()
    baseline_nan = {p for p, what in _scan(baseline) if what == "NaN"} | set(case.allowed_nan)
    calls = []
    for name, base, kind, default in _params(case):
        names = [name.rstrip("_"), *case.aliases.get(name, [])]
        for v in bad_values(kind, base):
            if v is None and default is None:   # None is the documented default there, not bad input
                continue
            if isinstance(v, str) and v == "__EMPTY_FILE__":
                v = str(_empty_file())
            calls.append(({name: v}, [names]))
    arrays = [a for a in case.arrays]
    arrays = [a for a in arrays if case.args.get(a, inspect.signature(case.func).parameters[a].default) is not None]
    for i, a in enumerate(arrays):         # mismatched shapes: every pair of broadcasting arguments
        for b in arrays[i + 1:]:
            va = np.full(2, _base_scalar(case, a))
            vb = np.full(3, _base_scalar(case, b))
            calls.append(({a: va, b: vb}, [[a], [b]]))
    if limit is not None and len(calls) > limit:
        rng = rng or np.random.default_rng(0)
        calls = [calls[i] for i in sorted(rng.choice(len(calls), limit, replace=False))]
    return [run_call(case, override, must, baseline_nan) for override, must in calls]


def _base_scalar(case: Case, name: str):
    v = case.args.get(name, inspect.signature(case.func).parameters[name].default)
    return float(np.asarray(v, dtype=float).ravel()[0])


_EMPTY = None


def _empty_file() -> Path:
    global _EMPTY
    if _EMPTY is None:
        import tempfile
        fd, path = tempfile.mkstemp(suffix=".csv", prefix="followerlab-empty-")
        import os
        os.close(fd)
        _EMPTY = Path(path)
    return _EMPTY


def public_functions() -> list[str]:
    """``module.function`` for every public function of the swept modules."""
    out = []
    for mod in SWEPT_MODULES:
        module = importlib.import_module("followerlab." + mod)
        for name in [*getattr(module, "__all__", []), *REEXPORTED.get(mod, [])]:
            obj = getattr(module, name)
            if inspect.isfunction(obj):
                out.append(f"{mod}.{name}")
    return out


def summarize(outcomes) -> dict:
    counts = {"tried": len(outcomes)}
    for s in ("refused", "accepted", "unnamed", "traceback", "garbage", "timeout"):
        counts[s] = sum(o.status == s for o in outcomes)
    return counts
