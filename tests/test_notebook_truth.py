"""Notebooks 01-03 tell the truth about each run (issue 16, "Done when").

Each notebook runs through papermill with every shipped scenario point of
``data/scenarios/*.yaml`` and with values no scenario uses (including a saturated or
unbounded case).  In each executed notebook:

* every number in a generated Markdown output matches, at the precision it is printed, a
  parameter or a result of that run (as is, or as a percentage of a fraction); names that
  contain digits (configurations, regions, reference labels, ``p99``) and a short documented
  list of formulas are taken out first, and each run must have numbers to check;
* the fixed Markdown cells contain only the numbers listed below, each true for every valid
  parameter set (a formula, a constant of the model, or an example quoted from a source);
* no output holds a file path or a bare ``None``/``nan`` (nor a bare ``inf`` in generated prose);
* notebook 03's first two figures (network, write latency) differ between deployments.

The runs are small (the notebooks' own sizes); about a minute on two cores.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from _nbruns import ROOT, defaults, execute_many

from followerlab.scenarios import load_scenarios

SCENARIOS = load_scenarios(ROOT / "data" / "scenarios")


def _scenario_params(notebook):
    """The shipped scenario points of ``notebook``: enough of them to use every value of every grid axis.

    A scenario without a grid is one point; of a grid, points are taken greedily (the notebook's
    defaults first, then the point that adds most unused axis values) until every value of every
    axis has run -- for follower-clusters.yaml two of its four points.
    """
    runs = [r for r in SCENARIOS if r.notebook_name == notebook and "sweep" not in r.parameters]  # sweeps: test_sweep.py
    base = defaults(notebook)
    chosen, by_scenario = [], {}
    for r in runs:
        by_scenario.setdefault(r.base_scenario, []).append(r)
    for group in by_scenario.values():
        todo = {(k, json.dumps(v)) for r in group for k, v in r.grid_point.items()}
        group = sorted(group, key=lambda r: any(base.get(k) != v for k, v in r.effective.items() if k in base))
        picked = [group[0]]
        todo -= {(k, json.dumps(v)) for k, v in group[0].grid_point.items()}
        while todo:
            best = max(group, key=lambda r: len(todo & {(k, json.dumps(v)) for k, v in r.grid_point.items()}))
            picked.append(best)
            todo -= {(k, json.dumps(v)) for k, v in best.grid_point.items()}
        chosen += picked
    return [(r.scenario, dict(r.parameters)) for r in chosen]


#: values no shipped scenario uses (and cases where a station saturates or a follower cannot keep up)
UNSEEN = {
    "01-follower-lag": [
        ("unseen", {"period_s": 45.0, "follower_hot_days": 30.0, "leader_hot_days": 2.0, "change_rate_per_s": 3.0,
                    "override_kind": "replace", "union_window_min": 2.0, "dashboard_share": 0.55,
                    "periods_s": [20.0, 90.0]}),
        ("unbounded", {"period_s": 10.0, "change_rate_per_s": 150.0, "follower_hot_days": 7.0, "periods_s": [10.0]}),
    ],
    "02-admin-node-load": [
        ("unseen-saturated", {"nodes": 6, "hot_database_share": 0.45, "query_rate_per_s": 70.0, "weak_fraction": 0.9,
                              "refresh_period_s": 300.0, "databases": 6, "query_rates_per_s": [12.0, 200.0]}),
        # a constant planning time (CV 0: the M/G/1 table's lattice part and M/D/1), odd head
        # rounding (37 nodes at 13.5 %), a refresh base other than the default 2 s, and strong
        # queries past saturation while no weak mode meets the admin ceiling
        ("unseen-constant-planning", {"nodes": 37, "percentage_of_nodes": 13.5, "minimum_heads": 3, "maximum_heads": 11,
                                      "refresh_period_s": 47.0, "refresh_base_s": 3.3, "query_rate_per_s": 41.7,
                                      "weak_fraction": 0.63, "planning_ms": 37.0, "planning_cv": 0.0,
                                      "control_rate_per_s": 0.9, "control_ms": 130.0, "databases": 7,
                                      "hot_database_share": 0.55, "sessions": 23, "staleness_tolerance_s": 90.0,
                                      "admin_ceiling": 0.6, "query_rates_per_s": [7.0, 93.0]}),
    ],
    "03-raft-write-latency": [
        ("unseen", {"rtt_file": "crdb-demo-rtt-2019.csv", "home_region": "us-west1",
                    "deployment_regions": ["us-west1", "us-east1", "europe-west1"], "jitter_mean_ms": 0.0,
                    "crdb_version": "v20.1", "max_staleness_s": 3.1, "write_rate_per_s": 650.0, "wars_trials": 4000}),
        # four regions, lease in japaneast: 3 voters and REGION survival both commit at the RTT to
        # southeastasia, so the fastest options that survive a region failure tie exactly
        ("unseen-four-regions", {"home_region": "japaneast",
                                 "deployment_regions": ["japaneast", "southeastasia", "australiaeast", "westus2"],
                                 "fsync_ms": 3.3, "intra_region_rtt_ms": 0.7, "jitter_mean_ms": 0.9,
                                 "max_staleness_s": 2.5, "read_fraction": 0.63, "write_rate_per_s": 3170.0, "batch": 7,
                                 "per_append_ms": 2.3, "per_follower_ms": 0.37, "lease_expiry_ms": 4100.0, "seed": 7,
                                 "wars_trials": 4000}),
    ],
}

#: formulas and fixed terms in generated prose, true for every parameter set
FORMULAS = {
    "01-follower-lag": ["d1·m ≥ 1"],
    "02-admin-node-load": ["(1 − *w*)", "7-day", "5-minute"],
    "03-raft-write-latency": [],
}

#: numbers the fixed Markdown cells may contain, and why each holds for every parameter set
STATIC_NUMBERS = {
    "01-follower-lag": {
        "0", "1", "2", "99",  # formulas: U uniform on (0, P], P/2, d1·m ≥ 1; "99th percentile"
        "90",                # Leibowitz2021's example: a follower keeps 90 days hot (quoted as its example)
        "100",               # table selection: at most 100 include/exclude entries (ADX-FollowerCommands)
        "60", "3", "0.02", "5",   # how the shipped example data file was generated (same file every run)
        "00",                # "notebook 00" (the explorer)
    },
    "02-admin-node-load": {
        "1", "0", "2", "70", "1000",   # (1 − w), 2R², Leibowitz2023's examples: 70% on one database, 1000 records/min
        "1e-4", "100",                 # refresh_cost's assumed constants (2 KiB, 100 MB/s, 1e-4 failures/MB)
        "7", "5",                      # Leibowitz2023's two example queries: 7-day aggregation, 5-minute alert
        "00",                          # "notebook 00" (the explorer)
    },
    "03-raft-write-latency": {
        "2", "1", "3", "5", "0.2",     # q = ⌊n/2⌋+1; 3 voters / 5 voters 2-2-1; closed ts 3 s target + 0.2 s
        "800",                         # CRDB-GlobalTables: the global-reads lead, a constant of the model
        "0",                           # "t = 0": a read sent at the commit
        "2025",                        # Azure-RTT: the shipped matrix is June 2025's
        "00",                          # "notebook 00" (the explorer)
    },
}

NUMBER = re.compile(r"(?<![\w.])[-−]?\d+(?:\.\d+)?(?:e[-+]?\d+)?")
ALNUM = re.compile(r"\b[A-Za-z][\w.-]*\d[\w.-]*")          # p99, westus2, v23.1, Leibowitz2021, file names
PATH = re.compile(r"PosixPath|/tmp/|/work/|\.partial|results\.csv|results\.json|\w:\\\\")
BARE = re.compile(r"\bNone\b|\bnan\b|\bNaN\b")


def _runs():
    jobs = []
    for nb in ("01-follower-lag", "02-admin-node-load", "03-raft-write-latency"):
        for name, params in _scenario_params(nb) + UNSEEN[nb]:
            jobs.append((nb, name, params))
    return jobs


JOBS = _runs()


@pytest.fixture(scope="module")
def executed():
    runs = execute_many([(nb, params) for nb, _, params in JOBS])
    return {(nb, name): run for (nb, name, _), run in zip(JOBS, runs)}


def _outputs(nb):
    """(cell index, mime type, text) of every text output."""
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                yield i, "stream", out.get("text", "")
            elif out.get("output_type") == "error":
                yield i, "error", out.get("evalue", "")
            for mime, data in out.get("data", {}).items():
                if mime.startswith("text/"):
                    yield i, mime, data if isinstance(data, str) else "".join(data)


def _allowed_values(run) -> np.ndarray:
    values = []
    for v in list(run.parameters.values()) + list(run.results["value"]):
        for x in (v if isinstance(v, list) else [v]):
            if isinstance(x, (int, float)) and not isinstance(x, bool):
                values.append(float(x))
            elif isinstance(x, str):
                try:
                    values.append(float(x))
                except ValueError:
                    pass
    values += _sensitivity_values(run.notebook, run.parameters)
    v = np.array([x for x in values if np.isfinite(x)])
    return np.concatenate([v, 100.0 * v])            # as is, or a fraction as a percentage


def _sensitivity_values(notebook: str, p: dict) -> list:
    """The numbers the "Which assumption matters?" section may quote, recomputed here from the run's parameters.

    The section's Sobol' analysis (notebooks 01, 02 and 03) is not written to results; the test
    repeats it -- the documented ranges, the nominal point at the run's values that lie inside
    them, the run's ``sensitivity_samples`` (for 03 also the placement, the far read region and
    the workload, rebuilt from the run's parameters) -- and accepts the indices, their bounds,
    the one-at-a-time outputs, the ranges' bounds and the confidence level.
    """
    from followerlab import sensitivity as sa

    if notebook not in ("01-follower-lag", "02-admin-node-load", "03-raft-write-latency"):
        return []
    if notebook == "03-raft-write-latency":
        from followerlab import raft

        rtt = raft.load_rtt(p["rtt_file"])
        home = p["home_region"]
        deploy = list(dict.fromkeys([home, *p["deployment_regions"]]))
        voters = raft.spread_placement(rtt, home, deploy, non_voters_elsewhere=False).voters
        plc = raft.placement(voters, home, [r for r in rtt.index if r not in voters])
        far = max(deploy[1:3], key=lambda r: float(rtt.loc[home, r]))
        run = {k: float(p[k]) for k in ("fsync_ms", "intra_region_rtt_ms", "jitter_mean_ms", "per_append_ms",
                                        "per_follower_ms")}
        run.update(target_duration_s=3.0, side_transport_interval_s=0.2)
        inside = {k: v for k, v in run.items() if sa.RAFT_LATENCY_RANGES[k][0] <= v <= sa.RAFT_LATENCY_RANGES[k][1]}
        res = sa.raft_latency_sensitivity(rtt, plc, far, write_rate_per_s=float(p["write_rate_per_s"]),
                                          batch=int(p["batch"]), max_staleness_s=float(p["max_staleness_s"]),
                                          n=int(p["sensitivity_samples"]), nominal=inside)
        model = ranges = None
    elif notebook == "01-follower-lag":
        ranges = sa.FOLLOWER_LAG_RANGES
        run = {k: float(p[k]) for k in ranges}
        model = None
    elif notebook == "02-admin-node-load":
        ranges = sa.ADMIN_LOAD_RANGES
        run = {"planning_s": p["planning_ms"] / 1e3, "planning_cv": p["planning_cv"],
               "control_rate_per_s": p["control_rate_per_s"], "control_s": p["control_ms"] / 1e3,
               "weak_fraction": p["weak_fraction"]}
        rate, cores = float(p["query_rate_per_s"]), int(p["cores"])

        def model(q):   # admin_node_load's utilization, ((1 - w) λ s_q + λ_c s_c) / k_A
            return {"admin_utilization": ((1 - q["weak_fraction"]) * rate * q["planning_s"]
                                          + q["control_rate_per_s"] * q["control_s"]) / cores}
    if ranges is not None:
        inside = {k: v for k, v in run.items() if ranges[k][0] <= v <= ranges[k][1]}
        n = int(p["sensitivity_samples"])
        res = (sa.follower_lag_sensitivity(n=n, nominal=inside) if model is None
               else sa.sobol_indices(model, ranges, n=n, nominal=inside))
    arrays = [res.S1, res.ST, res.S1_low, res.S1_high, res.ST_low, res.ST_high, res.oat_min, res.oat_max,
              res.oat_at_low, res.oat_at_high, res.nominal_output]
    bounds = [x for r in res.ranges for x in (r.low, r.high)]
    return [float(x) for a in arrays for x in np.ravel(a)] + bounds + [res.confidence]


def _strip(text: str, run, notebook: str) -> str:
    names = set(run.results["configuration"])
    for v in run.parameters.values():
        for x in (v if isinstance(v, list) else [v]):
            if isinstance(x, str):
                names.add(x)
    for name in sorted(names, key=len, reverse=True):
        if name:
            text = text.replace(name, " ")
    for formula in FORMULAS[notebook]:
        text = text.replace(formula, " ")
    text = re.sub(r"\b(?:Leibowitz20\d\d|CRDB-\w+)'s example[^;.)]*", " ", text)   # quoted source examples
    text = re.sub(r"`[^`]*`", " ", text)
    return ALNUM.sub(" ", text)


def _matches(token: str, allowed: np.ndarray) -> bool:
    token = token.replace("−", "-")
    x = float(token)
    decimals = len(token.split(".")[1]) if "." in token and "e" not in token else 0
    tol = 0.5 * 10.0 ** (-decimals) + 1e-9 * abs(x)
    return bool(np.any(np.abs(allowed - x) <= tol))


def _generated_markdown(nb):
    return [(i, text) for i, mime, text in _outputs(nb) if mime == "text/markdown"]


@pytest.mark.parametrize("notebook, name", [(nb, name) for nb, name, _ in JOBS])
def test_every_number_in_generated_prose_is_the_runs_own(executed, notebook, name):
    run = executed[(notebook, name)]
    allowed = _allowed_values(run)
    checked, wrong = 0, []
    for i, text in _generated_markdown(run.nb):
        if text.lstrip().startswith("|"):
            continue                                      # a results table: the values themselves
        for token in NUMBER.findall(_strip(text, run, notebook)):
            checked += 1
            if not _matches(token, allowed):
                wrong.append(f"cell {i}: {token!r} in: {text[:300]}")
        assert "inf" not in re.findall(r"\binf\b", text), f"cell {i}: bare inf in {text[:200]}"
    assert checked >= 15, f"only {checked} numbers in the generated prose of {notebook} [{name}]"
    assert not wrong, "numbers that are neither parameters nor results of this run:\n" + "\n".join(wrong)


@pytest.mark.parametrize("notebook, name", [(nb, name) for nb, name, _ in JOBS])
def test_no_output_holds_a_path_or_a_bare_none_or_nan(executed, notebook, name):
    run = executed[(notebook, name)]
    for i, mime, text in _outputs(run.nb):
        assert mime != "error", f"cell {i} failed: {text}"
        assert not PATH.search(text), f"cell {i} ({mime}) shows a path: {text[:300]}"
        assert not BARE.search(text), f"cell {i} ({mime}) shows a bare None/nan: {text[:300]}"


@pytest.mark.parametrize("notebook", ["01-follower-lag", "02-admin-node-load", "03-raft-write-latency"])
def test_fixed_prose_names_only_numbers_true_for_every_run(executed, notebook):
    run = next(r for (nb, _), r in executed.items() if nb == notebook)
    found = set()
    for cell in run.nb.cells:
        if cell.cell_type != "markdown":
            continue
        text = re.sub(r"```.*?```", " ", cell.source, flags=re.S)       # quoted source queries
        text = re.sub(r"`[^`]*`", " ", text)
        text = re.sub(r"^#+ \d+ ?[·.]", " ", text, flags=re.M)           # section numbers
        found |= set(NUMBER.findall(ALNUM.sub(" ", text)))
    extra = found - STATIC_NUMBERS[notebook]
    assert not extra, f"fixed Markdown in {notebook} names {sorted(extra)}: generate it from the run, or list it here"


def test_tied_fastest_survivors_are_all_named(executed):
    """The answer names every option tied for fastest among those that survive a region
    failure: it said 'the fastest option that does is leaseholder reads' while REGION survival
    had the same mean."""
    nb = executed[("03-raft-write-latency", "unseen-four-regions")].nb
    text = [t for _, t in _generated_markdown(nb) if "the fastest option that does is" in t]
    assert len(text) == 1
    assert "**leaseholder reads** (tied with **REGION survival**)." in text[0]


def test_a_saturated_leaseholder_is_called_saturated(executed):
    """At 3170 writes/s with batches of 7 the leaseholder's offered load is 154 % of capacity:
    the answer said it was '154 % busy'; it is saturated, and says where."""
    nb = executed[("03-raft-write-latency", "unseen-four-regions")].nb
    text = [t for _, t in _generated_markdown(nb) if "At this run's parameters" in t]
    assert len(text) == 1 and "% busy" not in text[0]
    assert "the leaseholder is saturated (it saturates at 2065 writes/s) with 3 voters 1-1-1" in text[0]
    assert "is saturated (it saturates at 1695 writes/s) with REGION 5 voters 2-2-1" in text[0]


def test_raft_figures_follow_the_deployment(executed):
    """Network and write-latency figures of the three shipped deployments are all different."""
    deployments = [name for nb, name, _ in JOBS if nb == "03-raft-write-latency"]
    figures = {}
    for name in deployments:
        nb = executed[("03-raft-write-latency", name)].nb
        pngs = []
        for cell in nb.cells:
            if cell.cell_type == "code" and ("raft_rtt_heatmap" in cell.source or "raft_write_latency_bars" in cell.source):
                pngs += [o["data"]["image/png"] for o in cell.outputs if "image/png" in o.get("data", {})]
        assert len(pngs) == 2, f"{name}: expected the network and write-latency figures, got {len(pngs)}"
        figures[name] = pngs
    for k in range(2):
        seen = [figures[name][k] for name in deployments]
        assert len(set(seen)) == len(seen), f"figure {k + 1} of notebook 03 is the same for two deployments"


def test_every_notebook_runs_at_least_three_parameter_sets_including_every_scenario():
    for nb in ("01-follower-lag", "02-admin-node-load", "03-raft-write-latency"):
        sets = _scenario_params(nb) + UNSEEN[nb]
        assert len({json.dumps(p, sort_keys=True) for _, p in sets}) >= 3
        scenarios = {r.base_scenario for r in SCENARIOS if r.notebook_name == nb and "sweep" not in r.parameters}
        assert scenarios <= {name.split("@")[0] for name, _ in sets}


def test_refresh_cost_uses_the_runs_refresh_base(executed):
    """The full-metadata load takes the run's fixed refresh time plus bytes / bandwidth: the
    notebook printed refresh_cost's default 2 s (4.048 s for 100,000 extents) while the run's
    refresh_base_s was 3.3 s (metadata age 26.8 s = 47/2 + 3.3 in the same run)."""
    run = executed[("02-admin-node-load", "unseen-constant-planning")]
    text = [t for _, mime, t in _outputs(run.nb) if mime == "stream" and "full_load_duration_s" in t]
    assert len(text) == 1
    lines = text[0].splitlines()
    head = next(i for i, line in enumerate(lines) if "full_load_duration_s" in line)
    rows = [line.split() for line in lines[head + 1:] if line.strip()]
    assert len(rows) == 3
    for full_bytes, _, duration, _, _ in rows:
        assert float(duration) == pytest.approx(3.3 + float(full_bytes) / 100e6, abs=5e-4)
    assert "mean 26.8 s, p99 49.8 s" in "".join(t for _, _, t in _outputs(run.nb))
