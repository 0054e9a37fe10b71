"""What a scenario wants: its objectives, its constraints and which grid axes are choices.

A scenario file (``data/scenarios/README.md``) may say how its configurations are to be judged::

    objectives: [read_latency_p50_ms, write_latency_p50_ms, staleness_mean_s]
    constraints:
      survive: region                # {zone, region}: keep a quorum after losing one zone / one region
      max_staleness_p99_s: 10        # max_<metric>: a ceiling on a registered metric
      max_read_latency_p99_ms: 50
      min_cache_hit_ratio: 0.5       # min_<metric>: a floor
    configuration_axes: [follower_hot_days]   # grid axes that are choices; the others are the workload

* ``objectives`` — registered metrics (:mod:`followerlab.metrics`) with a direction, or a list of
  such lists (objective *sets*: a row is compared on the first set it reports in full, e.g. a
  Raft placement on write latency and leaseholder load, a read path on read latency, write
  cost and staleness).  Default: :data:`DEFAULT_OBJECTIVE_SETS`.
* ``constraints`` — ``max_<metric>`` / ``min_<metric>`` (finite numbers, in the metric's
  registered unit) and ``survive``.  A configuration that breaks one is *infeasible* and never
  marked best, whatever its objectives.
* ``configuration_axes`` — names of ``grid:`` axes that vary the configuration (the operator's
  choice).  Every other grid axis varies the *workload*; rows of different workloads are
  never compared.  Default: none (each grid point is its own workload).

:func:`parse_policy` validates such a mapping and returns a :class:`Policy` and the problems
found, each as ``FILE: scenario 'NAME': FIELD: what is wrong`` (the scenario loader reports
them with every other problem in the file).  :func:`policies_from_records` reads the policies
of a batch's runs back from their scenario files, for the report and notebook 04.

Survival and a read path's write cost are not written by notebook 03 today;
:func:`derive_metrics` adds them to the gathered table for notebook 03's rows from the run's
own parameters with the same library functions the notebook uses (``raft.placement_layouts``,
``raft.survives``, ``raft.write_latency``), and marks them derived.

>>> p, problems = parse_policy({"objectives": ["read_latency_p50_ms"], "constraints": {"max_staleness_avg_s": 1}},
...                            "s.yaml: scenario 'x'")
>>> problems
["s.yaml: scenario 'x': constraints.max_staleness_avg_s: 'staleness_avg_s' is not a registered metric (did you mean 'max_staleness_mean_s'?)"]
>>> p, _ = parse_policy({"constraints": {"max_staleness_p99_s": 10, "survive": "region"}}, "w")
>>> [c.describe() for c in p.constraints]
['p99 staleness ≤ 10 s', 'survives the loss of one region']
"""

from __future__ import annotations

import difflib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import metrics as M

__all__ = ["Constraint", "Policy", "SURVIVE", "DEFAULT_OBJECTIVE_SETS", "parse_policy", "default_policy", "policies_from_records",
           "policies_from_files", "derive_metrics", "policies_for_results"]

#: Values of the ``survive`` constraint and the metric that says whether a row meets it.
SURVIVE = {"zone": "survives_zone_failure", "region": "survives_region_failure"}


_RAFT_NOTEBOOK = "03-raft-write-latency"


@dataclass(frozen=True)
class Constraint:
    """One stated constraint: ``kind`` is ``max``, ``min`` or ``survive``."""

    key: str
    kind: str
    metric: str
    bound: object

    def describe(self) -> str:
        """In words: ``'p99 staleness ≤ 10 s'``."""
        if self.kind == "survive":
            return f"survives the loss of one {self.bound}"
        op = "≤" if self.kind == "max" else "≥"
        return f"{M.label(self.metric)} {op} {M.format_with_unit(self.metric, float(self.bound))}"

    def check(self, value) -> tuple[bool | None, str]:
        """(met?, reason when not met); ``None`` when the value is missing (cannot be checked)."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return None, f"cannot check '{self.describe()}': the run reports no {M.label(self.metric)}"
        v = float(value)
        if self.kind == "survive":
            return (v >= 1.0), f"does not survive the loss of one {self.bound}"
        ok = v <= float(self.bound) if self.kind == "max" else v >= float(self.bound)
        op = ">" if self.kind == "max" else "<"
        return ok, (f"{M.label(self.metric)} {M.format_with_unit(self.metric, v)} {op} "
                    f"{M.format_with_unit(self.metric, float(self.bound))}")


@dataclass(frozen=True)
class Policy:
    """How one scenario's configurations are judged (see the module docstring)."""

    scenario: str = ""
    objective_sets: tuple = field(default_factory=lambda: DEFAULT_OBJECTIVE_SETS)
    constraints: tuple = ()
    configuration_axes: tuple = ()
    grid_axes: tuple = ()
    stated_objectives: bool = False
    source: str = ""

    @property
    def objectives(self) -> list[str]:
        """Every objective of every set, in order, once."""
        return list(dict.fromkeys(m for s in self.objective_sets for m in s))

    def describe_objectives(self) -> str:
        text = " | ".join(", ".join(M.label(m) for m in s) for s in self.objective_sets)
        return text + ("" if self.stated_objectives else " (default: the scenario names none)")

    def describe_constraints(self) -> str:
        return "; ".join(c.describe() for c in self.constraints) or "none"

    def workload_axes(self) -> list[str]:
        return [a for a in self.grid_axes if a not in self.configuration_axes]


#: Objective sets of a scenario that names none: the shared objectives, then the subsets the
#: notebooks report (01/02 have no write latency; 03's read paths no utilization, its
#: placements no read latency or staleness).
DEFAULT_OBJECTIVE_SETS = (
    tuple(M.DEFAULT_OBJECTIVES),
    ("staleness_mean_s", "read_latency_p50_ms", "admin_utilization"),
    ("staleness_mean_s", "read_latency_p50_ms", "write_latency_p50_ms"),
    ("write_latency_p50_ms", "admin_utilization"),
)


def default_policy(scenario: str = "") -> Policy:
    """The policy of a scenario that states nothing: the :data:`DEFAULT_OBJECTIVE_SETS`, no
    constraints, every grid point its own workload."""
    return Policy(scenario=scenario, objective_sets=DEFAULT_OBJECTIVE_SETS)


def _suggest(word: str, known) -> str:
    close = difflib.get_close_matches(word, list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _objective_problems(name, where_field) -> list[str]:
    if not isinstance(name, str):
        return [f"{where_field}: expected a metric name; got {name!r}"]
    if not M.is_registered(name):
        return [f"{where_field}: {name!r} is not a registered metric{_suggest(name, M.REGISTRY)}"]
    if M.direction(name) == "none":
        return [f"{where_field}: {name!r} has no direction (it describes a configuration or workload)"]
    return []


def parse_policy(raw: dict, where: str, grid_axes=(), *, scenario: str = "", source: str = "") -> tuple[Policy | None, list[str]]:
    """Validate a scenario's ``objectives`` / ``constraints`` / ``configuration_axes``.

    Parameters
    ----------
    raw : dict
        The scenario mapping (other keys are ignored).
    where : str
        Prefix of every problem, ``"FILE: scenario 'NAME'"``.
    grid_axes : sequence of str
        The scenario's ``grid:`` keys (``configuration_axes`` must name some of them).

    Returns
    -------
    (Policy or None, list of str)
        The policy (``None`` when there are problems) and every problem found.
    """
    problems: list[str] = []
    objectives = raw.get("objectives")
    sets: list[tuple[str, ...]] = []
    if objectives is not None:
        if not isinstance(objectives, list) or not objectives:
            problems.append(f"{where}: objectives: expected a non-empty list of metric names (or of lists of them); "
                            f"got {objectives!r}")
        else:
            nested = all(isinstance(o, list) for o in objectives)
            groups = objectives if nested else [objectives]
            for i, group in enumerate(groups):
                if not group:
                    problems.append(f"{where}: objectives[{i}]: an objective set needs at least one metric")
                    continue
                for j, name in enumerate(group):
                    problems += _objective_problems(name, f"{where}: objectives[{i}][{j}]" if nested
                                                    else f"{where}: objectives[{j}]")
                sets.append(tuple(dict.fromkeys(g for g in group if isinstance(g, str))))
    cons: list[Constraint] = []
    raw_cons = raw.get("constraints") or {}
    if not isinstance(raw_cons, dict):
        problems.append(f"{where}: constraints: expected a mapping (e.g. {{survive: region, max_staleness_p99_s: 10}}); "
                        f"got {raw_cons!r}")
        raw_cons = {}
    for key, value in raw_cons.items():
        f = f"{where}: constraints.{key}"
        if key == "survive":
            if value not in SURVIVE:
                problems.append(f"{f}: must be one of {', '.join(SURVIVE)}; got {value!r}")
            else:
                cons.append(Constraint(key, "survive", SURVIVE[value], value))
            continue
        kind, _, name = str(key).partition("_")
        if kind not in ("max", "min") or not name:
            known = ["survive"] + [f"max_{m}" for m in M.REGISTRY] + [f"min_{m}" for m in M.REGISTRY]
            problems.append(f"{f}: unknown constraint; use survive, max_<metric> or min_<metric>{_suggest(str(key), known)}")
            continue
        if not M.is_registered(name):
            known = [f"{kind}_{m}" for m in M.REGISTRY]
            problems.append(f"{f}: {name!r} is not a registered metric{_suggest(str(key), known)}")
            continue
        if M.direction(name) == "none":
            problems.append(f"{f}: {name!r} describes a configuration; it cannot be bounded")
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            problems.append(f"{f}: must be a finite number in {M.unit(name)}; got {value!r}")
            continue
        cons.append(Constraint(key, kind, name, float(value)))
    axes = raw.get("configuration_axes") or []
    if not isinstance(axes, list) or not all(isinstance(a, str) for a in axes):
        problems.append(f"{where}: configuration_axes: expected a list of grid axis names; got {axes!r}")
        axes = []
    for a in axes:
        if a not in grid_axes:
            problems.append(f"{where}: configuration_axes: {a!r} is not a grid axis of this scenario "
                            f"(grid: {', '.join(grid_axes) or 'none'})")
    if problems:
        return None, problems
    return Policy(scenario=scenario, objective_sets=tuple(sets) if sets else DEFAULT_OBJECTIVE_SETS,
                  constraints=tuple(cons), configuration_axes=tuple(axes), grid_axes=tuple(grid_axes),
                  stated_objectives=bool(sets), source=source), []


def _scenarios_in(path: Path) -> list[dict]:
    """The merged scenario mappings of a file (defaults under each), without validation."""
    import yaml

    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    if isinstance(doc, dict) and "scenarios" not in doc and "name" in doc:
        doc = {"scenarios": [doc]}
    if not isinstance(doc, dict) or not isinstance(doc.get("scenarios"), list):
        return []
    defaults = doc.get("defaults") or {}
    out = []
    for raw in doc["scenarios"]:
        if isinstance(raw, dict):
            out.append({**{k: v for k, v in defaults.items() if k != "parameters"}, **raw})
    return out


def policies_from_files(paths) -> dict[str, Policy]:
    """``{scenario name: Policy}`` for every scenario in the given files or folders.

    Files that cannot be read, and scenarios whose policy is invalid, are left out (the
    scenario loader refuses them before a batch runs).
    """
    from .scenarios import scenario_files

    out: dict[str, Policy] = {}
    for path in scenario_files(paths):
        try:
            scenarios = _scenarios_in(path)
        except Exception:  # noqa: BLE001 - an unreadable file states no policy
            continue
        for raw in scenarios:
            name = raw.get("name")
            grid = raw.get("grid") or {}
            policy, problems = parse_policy(raw, f"{path}: scenario {name!r}", list(grid) if isinstance(grid, dict) else [],
                                            scenario=str(name), source=str(path))
            if policy is not None and name is not None:
                out.setdefault(str(name), policy)
    return out


def _find_source(source: str, bases) -> Path | None:
    """A record's scenario file: as written, else relative to one of ``bases`` (a batch started
    in the repository records ``data/scenarios/x.yaml``; notebook 04's kernel runs elsewhere)."""
    path = Path(source)
    if path.is_file():
        return path
    if not path.is_absolute():
        for base in bases:
            candidate = Path(base) / path
            if candidate.is_file():
                return candidate
    return None


def policies_from_records(records, *, bases=()) -> dict[str, Policy]:
    """``{base scenario: Policy}`` for a batch's run records (their ``source`` scenario files).

    A relative ``source`` is looked up as given, then under each of ``bases`` and the
    repository root.
    """
    from ._data import repo_root

    sources = sorted({str(r.get("source")) for r in records if r.get("source")})
    found = [_find_source(s, [*bases, repo_root()]) for s in sources]
    files = [f for f in found if f is not None]
    return policies_from_files(files) if files else {}


def policies_for_results(results_path) -> dict[str, Policy]:
    """The policies behind a gathered table: from ``<batch>/runs/*/run.json`` beside it, else
    from the shipped ``data/scenarios`` (for the example table in ``data/examples``)."""
    folder = Path(results_path).resolve().parent
    records = []
    for rj in sorted((folder / "runs").glob("*/run.json")):
        try:
            records.append(json.loads(rj.read_text()))
        except (OSError, ValueError):
            continue
    if records:
        return policies_from_records(records, bases=[folder, folder.parent])
    from ._data import repo_root

    shipped = repo_root() / "data" / "scenarios"
    return policies_from_files(shipped) if shipped.is_dir() else {}


# ----------------------------------------------------------------------------- derived metrics


def _param(run: pd.DataFrame, name: str):
    col = f"param_{name}"
    if col not in run.columns:
        return None
    v = run[col].dropna()
    return None if v.empty else v.iloc[0]


def _raft_extras(run: pd.DataFrame) -> list[tuple[str, str, float]]:
    """(configuration, metric, value) rows derived for one run of notebook 03."""
    from . import raft

    rtt_file, home = _param(run, "rtt_file"), _param(run, "home_region")
    regions = _param(run, "deployment_regions")
    if rtt_file is None or home is None or regions is None:
        return []
    if isinstance(regions, str):
        regions = json.loads(regions)
    fsync = float(_param(run, "fsync_ms") or 0.0)
    intra = float(_param(run, "intra_region_rtt_ms") or 0.0)
    rtt = raft.load_rtt(rtt_file)
    deploy = list(dict.fromkeys([home, *regions]))
    layouts = raft.placement_layouts(rtt, home, deploy)
    base = raft.spread_placement(rtt, home, deploy, non_voters_elsewhere=False)  # the read paths' voters
    reported = set(zip(run["configuration"], run["metric"]))
    out = []
    for cfg in dict.fromkeys(run["configuration"]):
        p = layouts.get(cfg, base if str(cfg).startswith("read ") else None)
        if p is None:
            continue
        region_ok = all(raft.survives(p, [r]) for r in set(p.voters))
        out.append((cfg, "survives_region_failure", float(region_ok)))
        out.append((cfg, "survives_zone_failure", float(p.n_voters >= 3)))  # voters in distinct zones (assumed)
        if str(cfg).startswith("read ") and (cfg, "write_latency_p50_ms") not in reported:
            glob = str(cfg) == "read global"
            w = [float(raft.write_latency(rtt, p, c, fsync, intra_region_rtt_ms=intra, global_table=glob))
                 for c in deploy]
            out.append((cfg, "write_latency_p50_ms", float(np.median(w))))
    return [r for r in out if (r[0], r[1]) not in reported]


def derive_metrics(table: pd.DataFrame) -> pd.DataFrame:
    """The gathered long table plus derived rows (column ``derived`` True) for notebook 03.

    For each run of ``03-raft-write-latency`` (from its ``param_*`` columns):

    * ``survives_region_failure`` — :func:`followerlab.raft.survives` for the loss of each
      region holding a voter, for the placements (``raft.placement_layouts``) and for the read
      paths (their voters: ``raft.spread_placement``, as in the notebook);
    * ``survives_zone_failure`` — 1 for 3 or more voters (assumed: in distinct zones);
    * ``write_latency_p50_ms`` for a read path that does not report one — the write cost that
      comes with it: ``raft.write_latency`` (deterministic, no jitter), median over clients in
      the deployment's regions; for ``read global`` with ``global_table=True`` (the ~800 ms
      commit wait).

    Values a run reports are never replaced.  Runs of other notebooks are unchanged.
    """
    table = table.copy()
    if "derived" not in table.columns:
        table["derived"] = False
    if "run_id" not in table.columns or "notebook" not in table.columns:
        return table
    extra = []
    for run_id, run in table[table["notebook"] == _RAFT_NOTEBOOK].groupby("run_id", sort=False):
        try:
            rows = _raft_extras(run)
        except (ValueError, KeyError, OSError):
            continue  # parameters the library refuses: nothing derived (the run itself failed or says why)
        first = run.iloc[0]
        for cfg, metric, value in rows:
            row = first.copy()
            row["configuration"], row["metric"], row["value"] = cfg, metric, value
            row["unit"], row["derived"] = M.unit(metric), True
            extra.append(row)
    if extra:
        table = pd.concat([table, pd.DataFrame(extra)], ignore_index=True)
    return table
