"""The notebooks' parameters, declared once: name, type, unit, domain, default, meaning.

Every parameter a notebook takes (the cell tagged ``parameters`` that papermill overrides)
is one :class:`Parameter` here.  Everything else reads this registry instead of repeating it:

* the notebooks' ``parameters`` cells are generated from it (:func:`render_cell`;
  ``python -m followerlab params --write`` rewrites them, ``--check`` verifies them);
* a notebook gathers the values it ran with by :func:`collect` (``parameters =
  registry.collect("02-admin-node-load", globals())``), not by a hand-kept list of names;
* the scenario schema and its validation (:func:`followerlab.scenarios.notebook_parameters`,
  :func:`~followerlab.scenarios.parameter_model`) and ``followerlab schema NOTEBOOK``;
* the explorer's controls (slider bounds, dropdown choices, starting values) and the checks
  of :func:`followerlab.explore.dashboard`.

``tests/test_parameters_registry.py`` checks that the cells, the scenario validation and the
explorer agree with the registry.  A parameter several notebooks share is declared once
(e.g. :data:`WEAK_FRACTION`) and listed by each; where a notebook allows a narrower range
than another (the explorer's sliders), the entry is reused with :meth:`Parameter.but`.

Adding a parameter to a notebook is one entry in :data:`NOTEBOOKS` plus its use in the
notebook (``docs/architecture.rst`` has a worked example).

This module is plain data and imports no model, notebook or UI code, so the batch runner
and the models alike may read it.

>>> p = get("01-follower-lag", "period_s")
>>> p.type, p.unit, str(p.domain), p.default, p.assumed
('float', 's', '(0, 3600]', 60.0, True)
>>> p.line()
'period_s: float = 60.0  # (0, 3600] s; follower sync period P, not published (assumed)'
>>> domain("00-explore", "routing_mode").values
('random', 'by_database', 'by_query', 'by_session')
>>> p.check(7200)
Traceback (most recent call last):
...
ValueError: period_s must be in (0, 3600] s; got 7200
>>> collect("05-validation", {"mode": "saved", "layouts": "ci", "count": 40, "rounds": 4,
...                           "staleness_writes": 120, "save": False, "output_dir": "", "x": 1})
{'mode': 'saved', 'layouts': 'ci', 'count': 40, 'rounds': 4, 'staleness_writes': 120, 'save': False}
"""

from __future__ import annotations

import json
import math
import numbers
from dataclasses import dataclass, replace
from typing import Any, Union

__all__ = [
    "Interval",
    "Choices",
    "Parameter",
    "NOTEBOOKS",
    "RESERVED",
    "notebook_names",
    "parameters_of",
    "get",
    "domain",
    "defaults",
    "collect",
    "render_cell",
    "check_cell_source",
]

#: Parameters the batch runner sets itself (not configuration: left out of :func:`collect`):
#: the run's folder, and a sweep's spec (:mod:`followerlab.sweep`).
RESERVED = ("output_dir", "sweep")

TYPES = ("float", "int", "bool", "str", "list")


def _num(x: float | None, *, upper: bool = False) -> str:
    """A bound as the cells write it: ``10``, ``0.5``, ``inf``, ``-inf``."""
    if x is None:
        return "inf" if upper else "-inf"
    x = float(x)
    return str(int(x)) if x.is_integer() and abs(x) < 1e15 else repr(x)


@dataclass(frozen=True)
class Interval:
    """A numeric domain ``[lower, upper]``; ``None`` = unbounded, ``*_open`` = bound excluded.

    >>> str(Interval(0, 3600, lower_open=True)), str(Interval(0, None))
    ('(0, 3600]', '[0, inf)')
    >>> Interval(0, 1).contains(1.0), Interval(0, 1, upper_open=True).contains(1.0)
    (True, False)
    """

    lower: float | None = None
    upper: float | None = None
    lower_open: bool = False
    upper_open: bool = False

    def __post_init__(self):
        for name in ("lower", "upper"):
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or not math.isfinite(float(v))):
                raise ValueError(f"Interval {name} must be a finite number or None; got {v!r}")
        if self.lower is not None and self.upper is not None and float(self.lower) > float(self.upper):
            raise ValueError(f"Interval lower {self.lower!r} > upper {self.upper!r}")

    def __str__(self) -> str:
        left = "(" if self.lower_open or self.lower is None else "["
        right = ")" if self.upper_open or self.upper is None else "]"
        return f"{left}{_num(self.lower)}, {_num(self.upper, upper=True)}{right}"

    def contains(self, value) -> bool:
        """Whether the number ``value`` lies in the interval (NaN never does)."""
        v = float(value)
        if math.isnan(v):
            return False
        if self.lower is not None and (v < self.lower or (self.lower_open and v == self.lower)):
            return False
        if self.upper is not None and (v > self.upper or (self.upper_open and v == self.upper)):
            return False
        return True

    @property
    def bounds(self) -> dict:
        """The bounds as pydantic/annotated-types keywords: ``ge``/``gt``, ``le``/``lt``."""
        out = {}
        if self.lower is not None:
            out["gt" if self.lower_open else "ge"] = float(self.lower)
        if self.upper is not None:
            out["lt" if self.upper_open else "le"] = float(self.upper)
        return out


@dataclass(frozen=True)
class Choices:
    """A domain of named values, ``{a, b, c}``.

    >>> str(Choices(("ci", "full"))), Choices(("ci", "full")).contains("full")
    ('{ci, full}', True)
    """

    values: tuple[str, ...]

    def __post_init__(self):
        if not self.values or len(set(self.values)) != len(self.values):
            raise ValueError(f"Choices must be distinct and at least one; got {self.values!r}")

    def __str__(self) -> str:
        return "{" + ", ".join(self.values) + "}"

    def contains(self, value) -> bool:
        """Whether ``value`` is one of the choices."""
        return isinstance(value, str) and value in self.values


Domain = Union[Interval, Choices, None]


def closed(lower, upper=None) -> Interval:
    """``[lower, upper]`` (``upper=None``: ``[lower, inf)``)."""
    return Interval(lower, upper)


def left_open(lower, upper=None) -> Interval:
    """``(lower, upper]`` (``upper=None``: ``(lower, inf)``)."""
    return Interval(lower, upper, lower_open=True)


def choices(*values: str) -> Choices:
    """``{values...}``."""
    return Choices(tuple(values))


@dataclass(frozen=True)
class Parameter:
    """One notebook parameter.

    Attributes
    ----------
    name : str
        The variable in the notebook (units in the name: ``_s``, ``_ms``, ``_per_s``).
    type : str
        ``float``, ``int``, ``bool``, ``str`` or ``list`` (a vectorized sweep).
    default : object
        The value the notebook runs with when nothing overrides it (small: nbval runs it).
    unit : str
        ``s``, ``ms``, ``1/s``, ``fraction``, ``count``, ... ("" for choices, flags and text).
    domain : Interval, Choices or None
        The allowed values (for a ``list``: of each element); ``None`` = any value of the type.
    meaning : str
        One line: what the parameter is (and its source where it has one).
    assumed : bool
        No source publishes the default; the model's answer rests on an assumption.
    element_type : str or None
        For a ``list``: the type of its elements.
    domain_note : str
        For a domain the registry cannot state (``"a region of rtt_file"``): the rule in words;
        the notebook checks it.
    source : str
        Where a published default comes from (a label of docs/references.rst), if any.
    """

    name: str
    type: str
    default: Any
    unit: str = ""
    domain: Domain = None
    meaning: str = ""
    assumed: bool = False
    element_type: str | None = None
    domain_note: str = ""
    source: str = ""

    def __post_init__(self):
        if self.type not in TYPES:
            raise ValueError(f"parameter {self.name}: type must be one of {TYPES}; got {self.type!r}")
        kinds = {"float": float, "int": int, "bool": bool, "str": str, "list": list}
        if type(self.default) is not kinds[self.type]:
            raise ValueError(f"parameter {self.name}: default {self.default!r} is not of type {self.type}")
        if self.unit and not isinstance(self.domain, Interval):
            raise ValueError(f"parameter {self.name}: a unit needs an interval domain (the cell states it after the range)")
        for value in (self.default if self.type == "list" else [self.default]):
            if self.domain is not None and not self.domain.contains(value):
                raise ValueError(f"parameter {self.name}: default {self.default!r} is outside its domain {self.domain}")

    def but(self, **changes) -> Parameter:
        """The same parameter with some fields changed (a notebook's narrower domain, say)."""
        return replace(self, **changes)

    @property
    def help(self) -> str:
        """The meaning as the cell's comment states it (with the domain note and "(assumed)")."""
        text = self.meaning + (" (assumed)" if self.assumed else "")
        return f"{self.domain_note}; {text}" if self.domain_note else text

    def describe(self) -> str:
        """The domain and unit in the cells' notation: ``'[30, 1800] s'``, ``'{ci, full}'``."""
        if self.domain is None:
            return self.domain_note or self.type
        return f"{self.domain}" + (f" {self.unit}" if self.unit and isinstance(self.domain, Interval) else "")

    def comment(self) -> str:
        """The comment of the parameter's line in the cell (the schema mini-language)."""
        if isinstance(self.domain, Interval):
            return f"{self.domain}{' ' + self.unit if self.unit else ''}; {self.help}"
        if isinstance(self.domain, Choices):
            return f"{self.domain}; {self.help}"
        return self.help

    def default_source(self) -> str:
        """The default as Python source (strings and lists in JSON quoting, like the cells)."""
        if isinstance(self.default, (str, list)):
            return json.dumps(self.default)
        return repr(self.default)

    def line(self, width: int = 0) -> str:
        """The parameter's line of the ``parameters`` cell, its comment starting at ``width``."""
        code = f"{self.name}: {self.type} = {self.default_source()}"
        return f"{code:<{width}}  # {self.comment()}"

    def check(self, value):
        """``value`` if the parameter may take it, else a ValueError naming the parameter and value.

        Types as the scenario files have them: a bool is not a number, a float with a
        fraction is not an int; a list's elements are checked against the domain.
        """
        def one(v, typ):
            given = v
            if typ in ("float", "int"):
                if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
                    raise ValueError(f"{self.name} must be a finite number; got {v!r}")
                if typ == "int" and not float(v).is_integer():
                    raise ValueError(f"{self.name} must be a whole number; got {v!r}")
                v = int(v) if typ == "int" else float(v)
            elif typ == "bool" and not isinstance(v, bool):
                raise ValueError(f"{self.name} must be True or False; got {v!r}")
            elif typ == "str" and not isinstance(v, str):
                raise ValueError(f"{self.name} must be a string; got {v!r}")
            if self.domain is not None and not self.domain.contains(v):
                if isinstance(self.domain, Choices):
                    from ._validate import did_you_mean

                    raise ValueError(f"{self.name} must be one of {', '.join(map(repr, self.domain.values))}; "
                                     f"got {v!r}{did_you_mean(v, self.domain.values)}")
                raise ValueError(f"{self.name} must be in {self.describe()}; got {given!r}")
            return v

        if self.type == "list":
            if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
                raise ValueError(f"{self.name} must be a list; got {value!r}")
            return [one(v, self.element_type) if self.element_type else v for v in value]
        return one(value, self.type)


# ============================================================================ shared entries
# Declared once, listed by every notebook that takes them.

OUTPUT_DIR = Parameter("output_dir", "str", "", meaning='where results.csv/results.json go; "" = don\'t write')
SWEEP = Parameter("sweep", "str", "", meaning="sweep spec (JSON) the batch sets from a scenario's sweep:; \"\" = no sweep")
CHANGE_RATE = Parameter("change_rate_per_s", "float", 1.0, "1/s", closed(0, 1000),
                        "metadata changes (new extents) per second on the leader database")
QUERY_RATE = Parameter("query_rate_per_s", "float", 30.0, "1/s", closed(0, 1000), "queries per second on the database")
WEAK_FRACTION = Parameter("weak_fraction", "float", 0.8, "fraction", closed(0, 1),
                          "share of queries sent with weak consistency")
ROUTING_MODE = Parameter("routing_mode", "str", "random", domain=choices("random", "by_database", "by_query", "by_session"),
                         meaning="weak query routing")
SENSITIVITY_SAMPLES = Parameter("sensitivity_samples", "int", 256, "count", closed(64, 65536),
                                "Sobol' base sample size N of the sensitivity section (a power of two)")
METRIC_CHOICES = choices("staleness_mean_s", "staleness_p99_s", "read_latency_p50_ms", "read_latency_p99_ms",
                         "write_latency_p50_ms", "admin_utilization")
CRDB_VERSIONS = choices("v19.1", "v19.2", "v20.1", "v20.2", "v21.1", "v21.2", "v22.1", "v22.2", "v23.1", "v23.2",
                        "v24.1", "v24.2", "v24.3", "v25.1", "v25.2")


def _p(*args, **kw) -> Parameter:
    return Parameter(*args, **kw)


# ============================================================================ the notebooks

NOTEBOOKS: dict[str, tuple[Parameter, ...]] = {
    "00-explore": (
        _p("sync_period_s", "float", 60.0, "s", closed(10, 900), "follower metadata sync period, not published",
           assumed=True),
        CHANGE_RATE.but(domain=closed(0, 20)),
        _p("prefetch", "bool", False, meaning="auto-prefetch: a sync waits until new extents are warm on the follower"),
        _p("heads", "int", 3, "count", closed(1, 30), "weakly consistent query heads (15 nodes x 20% = 3)"),
        ROUTING_MODE,
        QUERY_RATE.but(domain=closed(0, 100)),
        WEAK_FRACTION,
        _p("placement", "str", "spread3", domain=choices("spread3", "spread5", "zone", "region"),
           meaning="Raft replica placement"),
        _p("leaseholder_region", "str", "us-east1",
           domain=choices("us-east1", "us-west1", "europe-west1", "eastus", "westus2", "northeurope", "westeurope",
                          "uksouth", "japaneast", "southeastasia", "australiaeast"),
           meaning="region of the leaseholder (in rtt_data)"),
        _p("read_path", "str", "follower", domain=choices("leaseholder", "follower", "bounded", "global"),
           meaning="how a Raft read is served"),
        _p("rtt_data", "str", "crdb-demo", domain=choices("crdb-demo", "azure"), meaning="inter-region round-trip times"),
        OUTPUT_DIR,
    ),
    "01-follower-lag": (
        _p("period_s", "float", 60.0, "s", left_open(0, 3600), "follower sync period P, not published", assumed=True),
        _p("base_duration_s", "float", 2.0, "s", closed(0, 600), "fixed part d0 of a sync's duration", assumed=True),
        _p("duration_per_change_s", "float", 0.01, "s", closed(0, 10), "sync time per metadata change d1", assumed=True),
        CHANGE_RATE,
        _p("periods_s", "list", [15.0, 60.0, 300.0], "s", left_open(0, 3600),
           "sync periods swept (vectorized) for the CDFs and results", element_type="float"),
        _p("change_rates_per_s", "list", [0.2, 20.0, 80.0], "1/s", closed(0, 1000),
           "change rates for the lag-vs-period figure", element_type="float"),
        _p("extent_mb", "float", 2.0, "MB", left_open(0, 10000), "compressed size of one new extent", assumed=True),
        _p("warm_bandwidth_mb_per_s", "float", 200.0, "MB/s", left_open(0, 100000),
           "rate the follower warms extents from the leader's storage", assumed=True),
        _p("blob_latency_ms", "float", 50.0, "ms", closed(0, 10000), "first-byte latency of a cold (blob) read",
           assumed=True),
        _p("blob_throughput_mb_per_s", "float", 200.0, "MB/s", left_open(0, 100000), "cold read throughput per query",
           assumed=True),
        _p("ssd_latency_ms", "float", 1.0, "ms", closed(0, 1000), "hot (local SSD) read latency", assumed=True),
        _p("ssd_throughput_mb_per_s", "float", 2000.0, "MB/s", left_open(0, 100000), "hot read throughput per query",
           assumed=True),
        _p("query_new_fraction", "float", 0.2, "fraction", closed(0, 1),
           "share of a sync's new extents a typical query reads", assumed=True),
        _p("leader_hot_days", "float", 1.0, "d", closed(0, 3650),
           "leader's database caching policy (Leibowitz2021's example: 1 day)", source="Leibowitz2021"),
        _p("follower_hot_days", "float", 90.0, "d", closed(0, 3650),
           "follower's database caching override (Leibowitz2021's example: 90 days)", source="Leibowitz2021"),
        _p("override_kind", "str", "union", domain=choices("none", "union", "replace"),
           meaning="caching-policy modification kind on the follower"),
        _p("dashboard_share", "float", 0.7, "fraction", closed(0, 1),
           "share of queries that are dashboards/alerts (recent data)"),
        _p("dashboard_lookback_h", "float", 6.0, "h", left_open(0, 8760), "median time range of a dashboard query",
           assumed=True),
        _p("analytics_lookback_d", "float", 14.0, "d", left_open(0, 3650), "median time range of an analytics query",
           assumed=True),
        _p("scan_mb_per_hour", "float", 2.0, "MB", closed(0, 1e6),
           "compressed MB a query scans per hour of its time range", assumed=True),
        _p("base_latency_ms", "float", 200.0, "ms", closed(0, 60000), "planning + compute time of a query on hot data",
           assumed=True),
        _p("union_window_min", "float", 5.0, "min", closed(0, 1440),
           "the union function's leader window W (Leibowitz2021's example: 5 min)", source="Leibowitz2021"),
        SENSITIVITY_SAMPLES,
        _p("leader_base_utilization", "float", 0.3, "fraction", closed(0, 1),
           "leader load from ingestion + dashboards", assumed=True),
        _p("analytics_utilization", "float", 0.5, "fraction", closed(0, 10),
           "the analytics workload's load if it ran on the leader", assumed=True),
        OUTPUT_DIR,
    ),
    "02-admin-node-load": (
        _p("nodes", "int", 15, "count", closed(1, 1000), "cluster nodes (15 nodes -> 3 heads, the product team's example)",
           source="Leibowitz2023"),
        _p("percentage_of_nodes", "float", 20.0, "%", closed(1, 100),
           "PercentageOfNodes of the query_weak_consistency policy", source="ADX-WeakConsistencyPolicy"),
        _p("minimum_heads", "int", 2, "count", closed(1, 30), "MinimumNumberOfNodes of the policy",
           source="ADX-WeakConsistencyPolicy"),
        _p("maximum_heads", "int", 30, "count", closed(1, 1000), "MaximumNumberOfNodes of the policy",
           source="ADX-WeakConsistencyPolicy"),
        _p("refresh_period_s", "float", 120.0, "s", closed(30, 1800),
           "RefreshPeriodInSeconds: metadata refresh period of each query head",
           source="Leibowitz2023"),
        _p("refresh_base_s", "float", 2.0, "s", closed(0, 60),
           'duration of a refresh ("usually up to a few seconds")', assumed=True),
        QUERY_RATE,
        WEAK_FRACTION,
        _p("planning_ms", "float", 50.0, "ms", left_open(0, 10000), "planning + finalization time per query",
           assumed=True),
        _p("planning_cv", "float", 1.0, "ratio", closed(0, 5), "coefficient of variation of the planning time",
           assumed=True),
        _p("control_rate_per_s", "float", 0.5, "1/s", closed(0, 100), "control commands, always on the admin node",
           assumed=True),
        _p("control_ms", "float", 200.0, "ms", left_open(0, 60000), "time per control command on the admin node",
           assumed=True),
        _p("cores", "int", 1, "count", closed(1, 64), "parallel planning slots per node, admin and heads", assumed=True),
        _p("databases", "int", 10, "count", closed(1, 100), "databases queried", assumed=True),
        _p("hot_database_share", "float", 0.7, "fraction", closed(0, 1),
           "share of queries on the busiest database (Leibowitz2023's example: 70%)",
           source="Leibowitz2023"),
        _p("sessions", "int", 50, "count", closed(1, 10000), "active session ids (by_session routing)", assumed=True),
        _p("session_zipf_exponent", "float", 1.0, "exponent", closed(0, 3), "Zipf skew of queries over session ids",
           assumed=True),
        _p("repeat_fraction", "float", 0.3, "fraction", closed(0, 1),
           "share of queries that repeat a dashboard-like text", assumed=True),
        _p("repeat_rate_per_s", "float", 0.05, "1/s", closed(0, 100),
           "rate at which each such text repeats from one identity", assumed=True),
        _p("cache_max_age_s", "float", 60.0, "s", closed(0, 86400), "query_results_cache_max_age (0 = no results cache)"),
        _p("ingest_rate_per_min", "float", 1000.0, "records/min", closed(0, 10000000),
           "ingestion into the queried table (Leibowitz2023's example: 1000/min)", source="Leibowitz2023"),
        _p("error_rate_per_min", "float", 1.0, "records/min", closed(0, 1000000),
           "error records the 5-minute alert looks for", assumed=True),
        _p("session_gap_s", "float", 10.0, "s", closed(0, 3600), "time between two queries of one session",
           assumed=True),
        _p("staleness_tolerance_s", "float", 300.0, "s", closed(0, 3600), "advisor: acceptable p99 staleness of a read"),
        _p("admin_ceiling", "float", 0.7, "fraction", left_open(0, 1),
           "advisor: utilization ceiling for every planning node"),
        _p("query_rates_per_s", "list", [10.0, 60.0], "1/s", closed(0, 1000),
           "more query rates, evaluated vectorized in the same run (sweep)", element_type="float"),
        SENSITIVITY_SAMPLES,
        SWEEP,
        OUTPUT_DIR,
    ),
    "03-raft-write-latency": (
        _p("rtt_file", "str", "azure-rtt-p50-2025-06.csv",
           domain=choices("azure-rtt-p50-2025-06.csv", "crdb-demo-rtt-2019.csv"), meaning="RTT matrix under data/regions"),
        _p("home_region", "str", "eastus", domain_note="a region of rtt_file", meaning="home region: holds the leaseholder"),
        _p("deployment_regions", "list", ["eastus", "westus2", "uksouth"], element_type="str",
           domain_note="regions of rtt_file",
           meaning="the database regions (CRDB-FollowerReadsTopology uses 3)"),
        _p("fsync_ms", "float", 1.0, "ms", closed(0, 100), "fdatasync of one Raft append", assumed=True),
        _p("intra_region_rtt_ms", "float", 1.0, "ms", closed(0, 20),
           "RTT inside a region, client-gateway and cross-zone", assumed=True),
        _p("jitter_mean_ms", "float", 2.0, "ms", closed(0, 100),
           "mean one-way jitter per message, exponentially distributed", assumed=True),
        _p("max_staleness_s", "float", 5.0, "s", closed(0, 60), "bound of bounded-staleness reads, with_max_staleness"),
        _p("crdb_version", "str", "v23.1", domain=CRDB_VERSIONS,
           meaning="CockroachDB release", source="CRDB-FollowerReads"),
        _p("read_fraction", "float", 0.9, "fraction", closed(0, 1), "share of operations that are reads"),
        _p("write_rate_per_s", "float", 200.0, "1/s", left_open(0, 10000), "writes per second on the range"),
        _p("batch", "int", 1, "count", closed(1, 64), "proposals per Raft append on the leader"),
        _p("per_append_ms", "float", 1.0, "ms", closed(0, 100), "leader busy time per append: WAL write + fsync",
           assumed=True),
        _p("per_follower_ms", "float", 0.1, "ms", closed(0, 10), "leader busy time per follower per append",
           assumed=True),
        _p("election_timeout_ms", "float", 1000.0, "ms", closed(100, 30000), "Raft election timeout (etcd default 1000)"),
        _p("lease_expiry_ms", "float", 6000.0, "ms", closed(0, 60000),
           "time until the dead leaseholder's lease expires", assumed=True),
        _p("wars_trials", "int", 20000, "count", closed(1000, 1000000), "Monte Carlo trials of the t-visibility model"),
        _p("seed", "int", 1, "", closed(0), "random seed"),
        SENSITIVITY_SAMPLES,
        SWEEP,
        OUTPUT_DIR,
    ),
    "04-compare-configurations": (
        _p("results_path", "str", "",
           meaning='a batch\'s results.parquet or results.csv; "" = the example shipped in data/examples'),
        _p("x_metric", "str", "staleness_mean_s", domain=METRIC_CHOICES, meaning="x axis of the main trade-off"),
        _p("y_metric", "str", "read_latency_p50_ms", domain=METRIC_CHOICES, meaning="y axis of the main trade-off"),
        _p("notebooks", "list", [], element_type="str",
           meaning="notebooks (stems) to compare; [] = every notebook in the table"),
        _p("admin_ceiling", "float", 0.7, "1", closed(0, 10), "utilization drawn as a dotted line in the load figure"),
        OUTPUT_DIR,
    ),
    "05-validation": (
        _p("mode", "str", "saved", domain=choices("saved", "live"),
           meaning="render the newest saved run, or measure now (needs etcd)"),
        _p("layouts", "str", "ci", domain=choices("ci", "full"),
           meaning="which layouts a live run measures (ci: ~30 s, full: ~5 min)"),
        _p("count", "int", 40, "requests", closed(10, 2000), "per layout and operation in a live run"),
        _p("rounds", "int", 4, "", closed(1, 20), "interleaving rounds in a live run (spreads load drift)"),
        _p("staleness_writes", "int", 120, "puts", closed(20, 5000), "write stream per layout in a live staleness run"),
        _p("save", "bool", False, meaning="live runs only: also save the run under data/measurements/"),
        OUTPUT_DIR,
    ),
    "06-load": (
        _p("mode", "str", "saved", domain=choices("saved", "ci", "live"),
           meaning="saved: render the newest saved runs; ci: short live load check (< 90 s); "
                   "live: the full measurement (~20 min, needs etcd)"),
        _p("max_load_per_core", "float", 0.75, "", closed(0.05, 20),
           "above this 1-minute load average per core a load- or read-curve comparison is no verdict (ci: skipped; else flagged)"),
        _p("queue_model", "str", "greedy", domain=choices("greedy", "fixed"),
           meaning="the leader queue fitted to the load curves: greedy (raft.greedy_write_load, every waiting "
                   "proposal in the next append, as etcd does) or fixed (raft.write_load, batches that wait to fill)"),
        _p("batches", "str", "1,2,4", meaning="candidate batch sizes for the fixed write_load fit (comma-separated integers)"),
        _p("stalls", "str", "constant", domain=choices("none", "constant", "rate"),
           meaning="greedy only: also fit append stalls (every append d ms longer with probability q: preemption on "
                   "shared cores, GC), which lift p99 under load; constant q, or q growing with the write rate"),
        _p("save", "bool", False, meaning="live runs only: also save the runs under data/measurements/"),
        OUTPUT_DIR,
    ),
}


def _check_registry() -> None:
    for nb, params in NOTEBOOKS.items():
        names = [p.name for p in params]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"notebook {nb}: parameters {dup} declared twice")


_check_registry()


# ============================================================================ queries


def notebook_names() -> list[str]:
    """The notebooks (stems under ``notebooks/``) the registry declares parameters for."""
    return list(NOTEBOOKS)


def _stem(notebook) -> str:
    """``"02-admin-node-load"`` from a stem, a file name or a path."""
    text = str(notebook).replace("\\", "/").rsplit("/", 1)[-1]
    return text[:-6] if text.endswith(".ipynb") else text


def parameters_of(notebook) -> tuple[Parameter, ...]:
    """Every parameter of ``notebook`` (a stem, file name or path), in cell order.

    Raises
    ------
    ValueError
        If the registry declares no parameters for that notebook (names the known ones).
    """
    stem = _stem(notebook)
    try:
        return NOTEBOOKS[stem]
    except KeyError:
        from ._validate import did_you_mean

        raise ValueError(f"notebook {notebook!r} has no parameters in the registry; known: "
                         f"{', '.join(NOTEBOOKS)}{did_you_mean(stem, NOTEBOOKS)}") from None


def get(notebook, name: str) -> Parameter:
    """The parameter ``name`` of ``notebook`` (ValueError naming both if it has none)."""
    for p in parameters_of(notebook):
        if p.name == name:
            return p
    from ._validate import did_you_mean

    names = [p.name for p in parameters_of(notebook)]
    raise ValueError(f"notebook {_stem(notebook)} has no parameter {name!r}{did_you_mean(name, names)}")


def domain(notebook, name: str) -> Domain:
    """The allowed values of one parameter: an :class:`Interval`, :class:`Choices` or ``None``.

    For a ``list`` parameter, the domain of each element.  This is what a sweep checks its
    range endpoints against.

    >>> d = domain("02-admin-node-load", "refresh_period_s")
    >>> (d.lower, d.upper, d.lower_open, d.upper_open), d.contains(29.9)
    ((30, 1800, False, False), False)
    """
    return get(notebook, name).domain


def defaults(notebook, *, reserved: bool = True) -> dict:
    """``{name: default}`` of a notebook (without ``output_dir`` when ``reserved=False``)."""
    return {p.name: (list(p.default) if p.type == "list" else p.default)
            for p in parameters_of(notebook) if reserved or p.name not in RESERVED}


def collect(notebook, namespace, **overrides) -> dict:
    """The values a notebook ran with: its registered parameters (but ``output_dir``) from ``namespace``.

    Each value is checked against its parameter's type and domain (:meth:`Parameter.check`),
    so a notebook run by hand or by papermill with a bad value stops at once, naming it.
    A notebook calls ``parameters = registry.collect("NN-name", globals())`` right after its
    parameters cell (and papermill's injected one), for ``results.json``; ``overrides``
    replaces values the notebook resolved itself (e.g. a default path made explicit).

    Raises
    ------
    ValueError
        If a registered parameter is missing from ``namespace`` (the cell and the registry
        disagree: regenerate the cell with ``python -m followerlab params --write``), or a
        value is outside its parameter's type or domain.
    """
    missing = [p.name for p in parameters_of(notebook) if p.name not in RESERVED and p.name not in namespace]
    if missing:
        raise ValueError(f"notebook {_stem(notebook)}: parameters {missing} are registered but not defined; "
                         "regenerate its parameters cell (python -m followerlab params --write)")
    out = {}
    for p in parameters_of(notebook):
        if p.name not in RESERVED:
            p.check(namespace[p.name])  # a value papermill injected is checked like a scenario's
            out[p.name] = namespace[p.name]
    unknown = sorted(set(overrides) - set(out))
    if unknown:
        raise ValueError(f"notebook {_stem(notebook)}: overrides {unknown} are not its parameters")
    out.update(overrides)
    return out


# ============================================================================ the cells


def render_cell(notebook) -> str:
    """The ``parameters`` cell source of ``notebook``, generated from the registry.

    One annotated line per parameter, comments aligned; the comment starts with the domain
    (``[lo, hi]``, ``(lo, hi]``, ``[lo, inf)`` or ``{a, b}``), then the unit, ``;`` and the meaning
    — the notation :func:`followerlab.scenarios.parse_parameters` reads back.

    >>> print(render_cell("05-validation").splitlines()[2])
    count: int = 40                # [10, 2000] requests; per layout and operation in a live run
    """
    params = parameters_of(notebook)
    width = max(len(f"{p.name}: {p.type} = {p.default_source()}") for p in params)
    return "\n".join(p.line(width) for p in params)


def check_cell_source(notebook, source: str) -> list[str]:
    """Differences between a ``parameters`` cell's source and the registry ([] = they agree).

    Compares each line's name, type, default, unit, domain and meaning as the scenario parser
    reads them, then the text itself (so the cell is exactly what :func:`render_cell` makes).
    """
    from .scenarios import parse_parameters, spec_of  # scenarios imports this module

    try:
        cell = {s.name: s for s in parse_parameters(source)}
    except ValueError as exc:
        return [f"{_stem(notebook)}: {exc}"]
    problems = []
    reg = {p.name: spec_of(p) for p in parameters_of(notebook)}
    stem = _stem(notebook)
    for name in reg.keys() - cell.keys():
        problems.append(f"{stem}: {name}: in the registry, not in the parameters cell")
    for name in cell.keys() - reg.keys():
        problems.append(f"{stem}: {name}: in the parameters cell, not in the registry")
    for name in [n for n in reg if n in cell]:
        r, c = reg[name], cell[name]
        for attr, what in (("type", "type"), ("default", "default"), ("unit", "unit"), ("help", "meaning")):
            if getattr(r, attr) != getattr(c, attr) or (attr == "default" and type(r.default) is not type(c.default)):
                problems.append(f"{stem}: {name}: {what} {getattr(r, attr)!r} in the registry, "
                                f"{getattr(c, attr)!r} in the parameters cell")
        if (r.lower, r.upper, r.lower_open, r.upper_open, r.choices) != (c.lower, c.upper, c.lower_open, c.upper_open,
                                                                          c.choices):
            problems.append(f"{stem}: {name}: range {r.describe()} in the registry, {c.describe()} in the parameters cell")
        if c.element_type is not None and r.element_type != c.element_type:
            problems.append(f"{stem}: {name}: element type {r.element_type!r} in the registry, "
                            f"{c.element_type!r} in the parameters cell")
    if not problems and source.strip() != render_cell(notebook).strip():
        problems.append(f"{stem}: the parameters cell is not the registry's text (layout or order); "
                        "regenerate it: python -m followerlab params --write")
    return problems
