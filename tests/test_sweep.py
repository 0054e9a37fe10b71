"""Sweeps as one run (followerlab.sweep): expansion, validation, vectorized = per-configuration,
the front, parquet + index summary through the batch, and Dask chunks = local."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from followerlab import configuration, consistency, raft, sweep
from followerlab.compare import pareto_front
from followerlab.scenarios import ScenarioError, load_scenarios, notebook_parameters

ROOT = Path(__file__).resolve().parents[1]
NB = ROOT / "notebooks"
NB02, NB03 = "02-admin-node-load", "03-raft-write-latency"


def _defaults(stem):
    return {s.name: s.default for s in notebook_parameters(NB / f"{stem}.ipynb")}


# ----------------------------------------------------------------------------- expansion


def test_grid_is_the_cartesian_product_with_exact_endpoints():
    spec = sweep.parse_spec({"axes": {"a": [1, 2], "b": {"linspace": [0, 1, 3]}, "c": {"logspace": [0.1, 1000, 5]},
                                      "m": ["x", "y"]}})
    t = sweep.expand(spec)
    assert len(t) == sweep.spec_size(spec) == 2 * 3 * 5 * 2
    assert list(t.columns) == ["a", "b", "c", "m"]
    assert len(t.drop_duplicates()) == len(t)                       # every combination once
    assert t["c"].min() == 0.1 and t["c"].max() == 1000.0          # endpoints are values, exact
    np.testing.assert_allclose(np.unique(t["c"]), [0.1, 1, 10, 100, 1000], rtol=1e-12)
    assert list(t["m"][:2]) == ["x", "y"] and t["a"].dtype == np.int64   # last axis fastest; ints stay ints


def test_lhs_puts_one_point_in_each_stratum_and_is_reproducible():
    spec = sweep.parse_spec({"samples": 1000, "method": "lhs", "seed": 7,
                             "axes": {"x": {"range": [2, 12]}, "y": {"range": [1, 1e4], "log": True}}})
    t = sweep.expand(spec)
    assert sorted(np.floor((t["x"] - 2) / 10 * 1000).astype(int)) == list(range(1000))
    ly = (np.log(t["y"]) - np.log(1)) / np.log(1e4)
    assert sorted(np.floor(ly * 1000).astype(int)) == list(range(1000))   # strata in the logarithm
    pd.testing.assert_frame_equal(t, sweep.expand(spec))
    other = sweep.expand({**spec, "seed": 8})
    assert not np.allclose(other["x"], t["x"])


def test_random_samples_cover_integer_and_list_axes_evenly():
    spec = sweep.parse_spec({"samples": 40000, "method": "random", "seed": 1,
                             "axes": {"nodes": {"range": [3, 6]}, "mode": ["a", "b"], "w": {"range": [0, 1]}}})
    t = sweep.expand(spec, integer_axes=("nodes",))
    counts = t["nodes"].value_counts().sort_index()
    assert list(counts.index) == [3, 4, 5, 6]
    assert np.all(np.abs(counts / 40000 - 0.25) < 0.01)              # 5 SE is 0.011
    assert abs((t["mode"] == "a").mean() - 0.5) < 0.0125
    assert 0 <= t["w"].min() and t["w"].max() < 1


@pytest.mark.parametrize("raw, field", [
    ({"axes": {"x": {"range": [0, 1]}}}, "sweep.axes.x: range is sampled"),
    ({"samples": 10, "axes": {"x": {"linspace": [0, 1, 3]}}}, "sweep.axes.x: linspace is a grid axis"),
    ({"axes": {"x": {"logspace": [0, 1, 3]}}}, "sweep.axes.x: logspace: endpoints must be > 0"),
    ({"axes": {"x": [1, 1]}}, "sweep.axes.x: a value is listed twice"),
    ({"samples": 0, "method": "lhs", "axes": {"x": {"range": [0, 1]}}}, "sweep.samples"),
    ({"method": "sobol", "axes": {"x": [1]}}, "sweep.method"),
    ({"axes": {"a": {"linspace": [0, 1, 10000]}, "b": {"linspace": [0, 1, 10000]}}}, "more than the 10000000"),
])
def test_bad_specs_name_the_field(raw, field):
    with pytest.raises(sweep.SweepSpecError, match=None) as info:
        sweep.parse_spec(raw, where="f.yaml: scenario 's'")
    assert any(p.startswith("f.yaml: scenario 's': ") and field in p for p in info.value.problems), info.value.problems


# ----------------------------------------------------------------------------- scenario files


def _scenario(tmp_path, body: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(body)
    return path


def test_scenario_sweep_errors_name_file_scenario_and_field(tmp_path):
    path = _scenario(tmp_path, f"""
scenarios:
  - name: w
    notebooks: [{NB02}]
    sweep:
      axes:
        weak_fraction: {{linspace: [0, 1.5, 4]}}
        query_rate_per_s: [10, -1]
        cores: [1, 2]
        nodes: {{linspace: [5, 10, 4]}}
        routing_mode: [random, by_moon]
  - name: both
    notebooks: [{NB02}]
    grid: {{weak_fraction: [0.1]}}
    sweep: {{axes: {{nodes: [5]}}}}
  - name: r
    notebooks: [{NB03}]
    parameters: {{fsync_ms: 2}}
    sweep: {{samples: 100, axes: {{fsync_ms: {{range: [0, 200]}}, placement: [nowhere]}}}}
""")
    with pytest.raises(ScenarioError) as info:
        load_scenarios(path)
    text = str(info.value)
    for expected in [
        f"{path}: scenario 'w': sweep.axes.weak_fraction (high end): Input should be less than or equal to 1; got 1.5",
        f"{path}: scenario 'w': sweep.axes.query_rate_per_s[1]: Input should be greater than or equal to 0; got -1",
        f"{path}: scenario 'w': sweep.axes.cores: not varied by the notebook's sweep model",
        f"{path}: scenario 'w': sweep.axes.nodes: a whole-number parameter; the grid gives",
        f"{path}: scenario 'w': sweep.axes.routing_mode: one of",
        f"{path}: scenario 'both': sweep: a scenario has grid: (one run per point) or sweep: (one run), not both",
        f"{path}: scenario 'r': sweep.axes.fsync_ms: also set in parameters",
        f"{path}: scenario 'r': sweep.axes.fsync_ms (high end): Input should be less than or equal to 100; got 200",
        f"{path}: scenario 'r': sweep.axes.placement: one of",
    ]:
        assert expected in text, f"missing {expected!r} in\n{text}"


def test_a_sweep_scenario_is_one_run_per_notebook_with_a_small_spec(tmp_path):
    path = _scenario(tmp_path, f"""
name: big
notebooks: [{NB02}]
parameters: {{databases: 20}}
sweep: {{samples: 1000000, method: lhs, axes: {{weak_fraction: {{range: [0, 1]}}, nodes: {{range: [3, 300]}}}}}}
""")
    (run,) = load_scenarios(path)
    assert run.run_id == f"big--{NB02}" and run.parameters["databases"] == 20
    assert len(run.parameters["sweep"]) < 300                          # the spec, not 10^6 values
    assert sweep.spec_size(json.loads(run.parameters["sweep"])) == 10**6
    assert list(json.loads(run.parameters["sweep"])["axes"]) == ["weak_fraction", "nodes"]   # order kept


# ----------------------------------------------------------------------------- models = per configuration


def test_notebook_02_sweep_equals_weak_metrics_per_configuration():
    base = _defaults(NB02)
    spec = sweep.parse_spec({"samples": 12, "method": "lhs", "seed": 3, "axes": {
        "query_rate_per_s": {"range": [1, 200], "log": True}, "weak_fraction": {"range": [0, 1]},
        "nodes": {"range": [2, 120]}, "planning_ms": {"range": [5, 150]}, "refresh_period_s": {"range": [30, 900]},
        "cache_max_age_s": {"range": [0, 300]}, "routing_mode": list(consistency.ROUTING_MODES)}})
    t = sweep.evaluate(NB02, sweep.expand(spec, integer_axes=sweep.MODELS[NB02].integer_axes), base, chunk_size=5)
    inputs = {k: base[k] for k in configuration.WEAK_DEFAULTS}
    pairs = {"admin_utilization": "admin_utilization", "head_utilization_mean": "head_utilization_mean",
             "head_utilization_hottest": "hottest_head_utilization", "read_latency_p50_ms": "read_latency_p50_ms",
             "read_latency_p99_ms": "read_latency_p99_ms", "cache_hit_ratio": "cache_hit_ratio",
             "p_hottest_head_saturates": "p_hottest_head_saturates", "staleness_mean_s": "staleness_mean_s",
             "staleness_p99_s": "staleness_p99_s",
             "monotonic_read_violation_probability": "monotonic_read_violation_probability"}
    assert set(t["routing_mode"]) == set(consistency.ROUTING_MODES)
    for row in t.itertuples(index=False):
        heads = int(consistency.query_head_count(row.nodes, base["percentage_of_nodes"], base["minimum_heads"],
                                                 base["maximum_heads"]).heads)
        one = configuration.weak_metrics(row.query_rate_per_s, row.weak_fraction, heads, row.routing_mode,
                                         **{**inputs, "planning_ms": row.planning_ms,
                                            "refresh_period_s": row.refresh_period_s,
                                            "cache_max_age_s": row.cache_max_age_s})
        assert row.heads == heads
        for col, field in pairs.items():
            np.testing.assert_allclose(getattr(row, col), float(getattr(one, field)), rtol=1e-9, atol=1e-12,
                                       err_msg=f"{col} at {row}")


def test_notebook_03_sweep_equals_raft_metrics_and_write_load_per_configuration():
    base = {**_defaults(NB03), "rtt_file": "crdb-demo-rtt-2019.csv", "home_region": "us-east1",
            "deployment_regions": ["us-east1", "us-west1", "europe-west1"]}
    spec = sweep.parse_spec({"samples": 15, "method": "random", "seed": 5, "axes": {
        "placement": list(sweep.PLACEMENTS), "fsync_ms": {"range": [0.05, 30]}, "jitter_mean_ms": [0.0, 3.0],
        "write_rate_per_s": {"range": [10, 10000], "log": True}, "batch": {"range": [1, 16]},
        "home_region": ["us-east1", "europe-west1"]}})
    t = sweep.evaluate(NB03, sweep.expand(spec, integer_axes=("batch",)), base)
    rtt = raft.load_rtt(base["rtt_file"])
    for row in t.itertuples(index=False):
        deploy = list(dict.fromkeys([row.home_region, *base["deployment_regions"]]))
        plc = raft.placement_layouts(rtt, row.home_region, deploy)[row.placement]
        m = configuration.raft_metrics(rtt, plc, deploy, "leaseholder", fsync_ms=row.fsync_ms,
                                       jitter_mean_ms=row.jitter_mean_ms,
                                       intra_region_rtt_ms=base["intra_region_rtt_ms"])
        np.testing.assert_allclose(row.write_latency_p50_ms, float(m.write_latency_p50_ms), rtol=1e-9)
        np.testing.assert_allclose(row.write_latency_p99_ms, float(m.write_latency_p99_ms), rtol=1e-9)
        w = raft.write_load(row.write_rate_per_s, plc.n_voters, 0.0, batch=int(row.batch),
                            per_append_ms=base["per_append_ms"], per_follower_ms=base["per_follower_ms"])
        np.testing.assert_allclose(row.admin_utilization, float(w.admin_utilization), rtol=1e-12)
        np.testing.assert_allclose(row.write_saturation_rate_per_s, float(np.ravel(w.saturation_rate_per_s)[0]),
                                   rtol=1e-12)
        assert row.survives_region_failure == float(all(raft.survives(plc, [r]) for r in deploy))


def test_too_many_latency_laws_is_refused_loudly():
    base = _defaults(NB03)
    spec = sweep.parse_spec({"samples": 2500, "axes": {"jitter_mean_ms": {"range": [0.1, 5]}}})
    with pytest.raises(ValueError, match="distinct .*give jitter_mean_ms and intra_region_rtt_ms as lists"):
        sweep.evaluate(NB03, sweep.expand(spec), base)


def test_front_within_workloads_equals_the_pairwise_reference():
    rng = np.random.default_rng(0)
    t = pd.DataFrame({"query_rate_per_s": rng.choice([10.0, 20.0, 30.0], 600),
                      "admin_utilization": np.round(rng.random(600), 2),
                      "staleness_p99_s": np.round(rng.random(600) * 10, 1),
                      "cache_hit_ratio": rng.random(600)})
    t.loc[3, "admin_utilization"] = np.inf
    t.loc[:40, "staleness_p99_s"] = 0.0          # the best staleness ...
    t.loc[:40, "admin_utilization"] = 1.0 + t.loc[:40, "admin_utilization"]   # ... but saturated
    objectives = ["admin_utilization", "staleness_p99_s", "cache_hit_ratio"]
    got = sweep.front_mask(t, objectives, ["query_rate_per_s"])
    feasible = t[t["admin_utilization"] < 1]
    for rate, g in feasible.groupby("query_rate_per_s"):
        want = pareto_front(g[objectives].to_numpy(), maximize=[False, False, True])
        assert np.array_equal(got[g.index], want)
    assert not got[:41].any() and np.array_equal(sweep.saturated(t, objectives), t["admin_utilization"] >= 1)
    assert 0 < got.sum() < len(t)


# ----------------------------------------------------------------------------- Dask = local


@pytest.mark.timeout(120)
def test_dask_chunks_give_the_local_results(tmp_path):
    distributed = pytest.importorskip("distributed")
    base = _defaults(NB02)
    spec = sweep.parse_spec({"samples": 3000, "method": "lhs", "seed": 11, "axes": {
        "query_rate_per_s": {"range": [1, 300]}, "weak_fraction": {"range": [0, 1]}, "nodes": {"range": [2, 40]},
        "routing_mode": ["random", "by_database"]}})
    configs = sweep.expand(spec, integer_axes=("nodes",))
    local = sweep.evaluate(NB02, configs, base)
    # tcp on loopback, free ports (0), one in-process worker with two threads; closed by the with
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, protocol="tcp://",
                                  host="127.0.0.1", scheduler_port=0, dashboard_address=None,
                                  silence_logs=40) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        remote = sweep.evaluate(NB02, configs, base, chunk_size=700, scheduler=cluster.scheduler_address)
        with distributed.Client(cluster) as client:
            via_client = sweep.evaluate(NB02, configs, base, chunk_size=1000, scheduler=client)
    pd.testing.assert_frame_equal(remote, local, check_exact=True)
    pd.testing.assert_frame_equal(via_client, local, check_exact=True)


# ----------------------------------------------------------------------------- through the batch


@pytest.mark.timeout(300)
def test_batch_runs_a_sweep_as_one_run_with_parquet_and_an_index_summary(tmp_path, monkeypatch):
    from followerlab import report
    from followerlab.batch import run_batch

    plotted = []     # figures and comparison leave sweeps out (judged in their own section, on their policy)
    real_figures, real_comparison = report._figures, report._comparison
    monkeypatch.setattr(report, "_figures", lambda out, wide: plotted.append(wide) or real_figures(out, wide))
    monkeypatch.setattr(report, "_comparison", lambda a, p: plotted.append(a) or real_comparison(a, p))

    path = _scenario(tmp_path, f"""
name: writes
notebooks: [{NB03}]
parameters: {{rtt_file: crdb-demo-rtt-2019.csv, home_region: us-east1,
             deployment_regions: [us-east1, us-west1, europe-west1]}}
sweep:
  axes:
    write_rate_per_s: [100, 1000]
    placement: ["3 voters 1-1-1", "REGION 5 voters 2-2-1", "ZONE 3 voters"]
    fsync_ms: {{logspace: [0.5, 8, 5]}}
    batch: [1, 4]
  workload_axes: [write_rate_per_s]
""")
    out = tmp_path / "out"
    result = run_batch(path, out, progress=False, compare=False)
    assert result.exit_status == 0, result.runs
    run = out / "runs" / f"writes--{NB03}"
    table = pd.read_parquet(run / "results.parquet")
    assert len(table) == 2 * 3 * 5 * 2
    assert {"write_latency_p99_ms", "admin_utilization", "on_front"} <= set(table.columns)
    gathered = pd.read_parquet(out / "sweeps.parquet")
    assert len(gathered) == len(table) and set(gathered["run_id"]) == {f"writes--{NB03}"}
    summary = json.loads((run / "sweep.json").read_text())
    assert summary["configurations"] == 60 and summary["front_size"] == int(table["on_front"].sum())
    # the executed notebook holds only the sweep cells (title, parameters, the sweep section)
    cells = json.loads((run / "notebook.ipynb").read_text())["cells"]
    assert len(cells) <= 6 and (run / "sweep.png").exists()
    index = (out / "index.html").read_text()
    assert "<h2>Sweeps</h2>" in index and "60</b> configurations" in index and "Front configurations" in index
    front = result.table[result.table["run_id"] == f"writes--{NB03}"]
    assert set(front["metric"]) == {"write_latency_p50_ms", "write_latency_p99_ms", "admin_utilization",
                                    "write_saturation_rate_per_s", "survives_region_failure", "write_rate_per_s"}
    assert set(table.loc[table["on_front"], "placement"]) >= {"ZONE 3 voters", "3 voters 1-1-1"}   # fast vs survives
    judged = pd.read_csv(out / "results.csv")
    assert len(judged[judged["run_id"] == f"writes--{NB03}"]) == len(front)
    # a batch of only a sweep: no trade-off figure, judging table or comparison of its front rows
    assert plotted == [] and "<h2>Comparison</h2>" not in index and "How configurations are judged" not in index


def test_the_documented_sweep_example_is_valid(tmp_path):
    text = (ROOT / "data" / "scenarios" / "README.md").read_text()
    section = text[text.index("## Sweeps"):]
    block = section[section.index("```yaml") + 7:section.index("```", section.index("```yaml") + 7)]
    runs = load_scenarios(_scenario(tmp_path, block))
    sizes = {r.scenario: sweep.spec_size(json.loads(r.parameters["sweep"])) for r in runs}
    assert sizes == {"weak-heads-sweep": 4 * 21 * 6 * 2, "raft-sampled": 10**6}


def test_the_shipped_sweeps_have_at_least_10_4_configurations():
    runs = load_scenarios(ROOT / "data" / "scenarios" / "sweeps.yaml")
    assert [sweep.spec_size(json.loads(r.parameters["sweep"])) for r in runs] == [14112, 10800]


def test_mm1_response_quantile_fast_path_is_the_closed_form_and_the_solver():
    """M/M/1 response time is Exp(μ − λ): the closed-form branch of response_quantile (what makes
    notebook 02's head p99 fast at 10^6) equals -ln(1-q)/(μ-λ) and the general iteration."""
    from followerlab import queueing
    from followerlab.queueing import _solve_response

    lam = np.array([1e-9, 0.3, 0.77, 0.999, 0.999999]) * 2.5
    m = queueing.mm1(lam, 2.5)
    for q in (1e-6, 0.5, 0.99, 0.999999):
        got = m.response_quantile(q)
        np.testing.assert_allclose(got, -np.log1p(-q) / (2.5 - lam), rtol=1e-12)
        it = _solve_response(np.ravel(m.p_wait), np.ravel(m._theta()), np.full(5, 2.5), np.ones(5), np.full(5, q))
        np.testing.assert_allclose(got, it, rtol=1e-9)   # the iteration: 1.4e-10 at rho = 0.999999, q = 1e-6
    c3 = queueing.mmc(2.4, 1.0, 3)     # c >= 2 is not M/M/1: still the iteration
    it = _solve_response(np.ravel(c3.p_wait), np.ravel(c3._theta()), np.ones(1), np.ones(1), np.array([0.99]))
    assert float(c3.response_quantile(0.99)) == pytest.approx(float(it[0]), rel=1e-12)
    assert float(c3.response_quantile(0.99)) != pytest.approx(-np.log(0.01) / (3 - 2.4), rel=1e-3)


def test_the_density_figure_counts_saturated_configurations_as_the_summary_does(tmp_path):
    """The figure's legend said '2,368 saturated (not drawn)' for the shipped weak-heads sweep while
    its summary counted 6,689, and drew configurations whose admin node was 20x over capacity:
    it called only non-finite values saturated.  It now uses the sweep's own rule."""
    from followerlab.plots import sweep_density

    base = _defaults(NB02)
    spec = {"samples": 400, "method": "lhs", "seed": 5, "axes": {
        "query_rate_per_s": {"range": [1, 400], "log": True}, "weak_fraction": {"range": [0, 1]},
        "nodes": {"range": [2, 40]}, "routing_mode": list(consistency.ROUTING_MODES)}}
    swept = sweep.run_sweep(spec, NB02, base, tmp_path)
    objectives = swept.summary["objectives"]
    x, y = objectives[:2]
    sat = sweep.saturated(swept.table, objectives)
    finite_sat = sat & np.isfinite(swept.table[x].to_numpy(float)) & np.isfinite(swept.table[y].to_numpy(float))
    assert swept.summary["saturated"] == sat.sum() and finite_sat.any()     # saturated yet drawable
    fig = sweep_density(swept.table, x, y, objectives=objectives)
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert f"{int(sat.sum()):,} saturated (not drawn)" in labels
    drawn = int(fig.axes[0].collections[0].get_array().sum())              # hexbin counts
    assert drawn == int((~sat & np.isfinite(swept.table[x].to_numpy(float))
                         & np.isfinite(swept.table[y].to_numpy(float))).sum())
    assert swept.table.loc[~sat, "admin_utilization"].max() < 1.0
