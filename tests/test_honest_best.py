"""Honest "best": saturated, unavailable or out-of-constraint configurations are never marked best,
fronts are taken within one workload over the scenario's objectives, and the index and notebook 04
say so (a batch of the fixture notebooks on tests/fixtures/scenarios/constraints/honest.yaml)."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

from followerlab import batch as batch_mod  # noqa: F401  first: keeps nbformat's import light (see batch)
from followerlab.batch import run_batch

import nbformat  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from followerlab.compare import assess  # noqa: E402
from followerlab.constraints import (derive_metrics, parse_policy, policies_for_results,  # noqa: E402
                                     policies_from_files)
from followerlab.scenarios import ScenarioError, load_scenarios  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
HONEST = ROOT / "tests" / "fixtures" / "scenarios" / "constraints" / "honest.yaml"
EXAMPLE = ROOT / "data" / "examples" / "batch-results.csv"


def long(rows, scenario="s", notebook="n", **extra):
    """A gathered table from (configuration, {metric: value}) pairs."""
    out = []
    for cfg, values in rows:
        for metric, value in values.items():
            unit = {"s": "s", "ms": "ms"}.get(metric.rsplit("_", 1)[-1], "1")
            out.append({"scenario": scenario, "notebook": notebook, "configuration": cfg, "metric": metric,
                        "value": value, "unit": unit, **extra})
    return pd.DataFrame(out)


def policy(**raw):
    p, problems = parse_policy(raw, "test", list(raw.pop("_grid", [])) if "_grid" in raw else [])
    assert not problems, problems
    return p


# ----------------------------------------------------------------------------- assess, no kernels


def test_an_infeasible_configuration_that_would_dominate_is_not_best():
    t = long([("saturated", {"staleness_mean_s": 0.0, "read_latency_p50_ms": np.inf, "admin_utilization": 1.6}),
              ("over budget", {"staleness_mean_s": 0.0, "read_latency_p50_ms": 5.0, "admin_utilization": 0.95}),
              ("fine", {"staleness_mean_s": 60.0, "read_latency_p50_ms": 9.0, "admin_utilization": 0.3}),
              ("worse", {"staleness_mean_s": 61.0, "read_latency_p50_ms": 9.0, "admin_utilization": 0.3})])
    objectives = ["staleness_mean_s", "read_latency_p50_ms"]
    a = assess(t, {"s": policy(objectives=objectives)}).set_index("configuration")
    assert a["best"].to_dict() == {"saturated": False, "over budget": True, "fine": False, "worse": False}
    a = assess(t, {"s": policy(objectives=objectives, constraints={"max_admin_utilization": 0.5})}).set_index("configuration")
    assert a.loc["saturated", "status"] == "infeasible"
    assert a.loc["saturated", "reason"] == ("saturated: utilization of the node that sees everything 1.6 ≥ 1, "
                                            "read latency p50 ∞")
    assert a.loc["over budget", "status"] == "infeasible"
    assert a.loc["over budget", "reason"] == "utilization of the node that sees everything 0.95 > 0.5"
    assert a["best"].to_dict() == {"saturated": False, "over budget": False, "fine": True, "worse": False}
    assert a.loc["worse", "reason"] == "dominated by fine"
    assert a.loc["fine", "reason"] == "the only feasible configuration of its workload on these objectives" or \
        a.loc["fine", "reason"].startswith("lowest staleness mean (60 s)")
    # a budget nothing meets: nothing is feasible, nothing is best
    a = assess(t, {"s": policy(objectives=objectives, constraints={"max_admin_utilization": 0.25})})
    assert not a["best"].any() and (a["status"] == "infeasible").all()


def test_rows_of_different_workloads_are_never_compared():
    # two grid points of one scenario: the workload axis (change rate) differs, so the slow
    # configuration of the busy workload is best there although the quiet one beats it
    rows = []
    for rate, base in ((1, 10.0), (20, 100.0)):
        t = long([("a", {"staleness_mean_s": base}), ("b", {"staleness_mean_s": base + 1})],
                 scenario=f"f@rate={rate}", run_id=f"f@rate={rate}--n", base_scenario="f", param_rate=rate)
        rows.append(t)
    p = policy(objectives=["staleness_mean_s"], _grid=["rate"])
    a = assess(pd.concat(rows, ignore_index=True), {"f": p})
    best = a[a["best"]]
    assert sorted(best["workload"]) == ["f · rate = 1", "f · rate = 20"]
    assert (best["configuration"] == "a").all()
    # with the rate declared a choice, the two grid points are one workload: only the quiet "a" wins
    p = policy(objectives=["staleness_mean_s"], configuration_axes=["rate"], _grid=["rate"])
    a = assess(pd.concat(rows, ignore_index=True), {"f": p})
    assert a.loc[a["best"], "shown_configuration"].tolist() == ["a (rate = 1)"]
    # a workload metric (the query rate a row was computed at) separates rows of one run too
    t = long([("strong", {"staleness_mean_s": 0.0, "query_rate_per_s": 30.0}),
              ("weak @ 60/s", {"staleness_mean_s": 60.0, "query_rate_per_s": 60.0})])
    a = assess(t, {"s": policy(objectives=["staleness_mean_s"])})
    assert a["best"].all() and a["workload"].nunique() == 2


def test_a_row_without_an_objective_is_not_compared_and_says_which():
    t = long([("placement", {"write_latency_p50_ms": 70.0, "admin_utilization": 0.3}),
              ("read path", {"read_latency_p50_ms": 2.0, "staleness_mean_s": 4.2, "write_latency_p50_ms": 70.0})])
    p = policy(objectives=["read_latency_p50_ms", "write_latency_p50_ms", "staleness_mean_s"])
    a = assess(t, {"s": p}).set_index("configuration")
    assert a.loc["placement", "status"] == "not compared"
    assert a.loc["placement", "reason"] == "reports no read latency p50, mean staleness (an objective)"
    assert a.loc["read path", "status"] == "best"
    # objective sets: the placement is compared on the second set it reports in full
    p = policy(objectives=[["read_latency_p50_ms", "write_latency_p50_ms", "staleness_mean_s"],
                           ["write_latency_p50_ms", "admin_utilization"]], constraints={"survive": "region"})
    a = assess(t, {"s": p}).set_index("configuration")
    # ... but its region survival is required and unknown (no notebook 03 parameters to derive it)
    assert a.loc["placement", "status"] == "not compared" and "cannot check" in a.loc["placement", "reason"]


def test_shipped_scenarios_on_the_example_table():
    table = derive_metrics(pd.read_csv(EXAMPLE))
    policies = policies_for_results(EXAMPLE)
    assert set(policies) == {"follower", "consistency", "raft-us-uk", "raft-europe", "raft-global",
                             "weak-heads-sweep", "raft-writes-sweep"}   # the shipped files (sweeps.yaml too)
    a = assess(table, policies)
    assert not (a["best"] & (a["status"] != "best")).any()
    saturated = (a.get("admin_utilization", 0) >= 1) | np.isinf(a["read_latency_p50_ms"].fillna(0))
    assert saturated.any() and not a.loc[saturated, "best"].any()
    assert (a.loc[saturated, "status"] == "infeasible").all()
    strong = a[(a["notebook"] == "02-admin-node-load") & a["configuration"].str.startswith("strong")]
    assert len(strong) and (strong["status"] == "infeasible").all()
    # every marked row states its workload, and the workload never mixes grid points of a workload axis
    assert (a.loc[a["best"], "workload"].str.len() > 0).all()
    follower = a[a["notebook"] == "01-follower-lag"]
    assert set(follower["workload"]) == {"follower · change_rate_per_s = 1", "follower · change_rate_per_s = 20"}
    # the global-table read path carries its write cost (the ~800 ms commit wait), derived
    glob = a[a["configuration"] == "read global"]
    assert len(glob) == 3 and (glob["write_latency_p50_ms"] > 800).all()
    assert glob["derived"].str.contains("write_latency_p50_ms").all()
    lease = a[a["configuration"] == "read leaseholder"]
    assert (lease["write_latency_p50_ms"] < 300).all()
    # region survival is a stated constraint of the Raft scenarios: ZONE placements are infeasible
    zone = a[a["configuration"] == "ZONE 3 voters"]
    assert (zone["status"] == "infeasible").all()
    assert (zone["reason"] == "does not survive the loss of one region").all()


def test_survival_is_no_winner_reason_unless_stated():
    table = derive_metrics(pd.read_csv(EXAMPLE))
    table = table[table["base_scenario"] == "raft-us-uk"]
    p = policy(objectives=[["read_latency_p50_ms", "write_latency_p50_ms", "staleness_mean_s"],
                           ["write_latency_p50_ms", "admin_utilization"]])
    a = assess(table, {"raft-us-uk": p}).set_index("configuration")
    assert a.loc["ZONE 3 voters", "status"] == "best"  # fastest writes; survival not asked for
    assert not a.loc[a["best"], "reason"].str.contains("surviv").any()


def test_scenario_files_refuse_bad_objectives_and_constraints(tmp_path):
    nb = ROOT / "tests" / "fixtures" / "notebooks" / "fx-refresh-lag.ipynb"
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"name: x\nnotebooks: [{nb}]\ngrid: {{refresh_period_s: [30, 60]}}\n"
                   "objectives: [staleness_avg_s, heads]\n"
                   "constraints: {survive: planet, max_staleness_s: 10, max_read_latency_p99_ms: fast, budget: 1}\n"
                   "configuration_axes: [hot]\n")
    with pytest.raises(ScenarioError) as err:
        load_scenarios(bad)
    where = f"{bad}: scenario 'x'"
    assert err.value.problems == [
        f"{where}: objectives[0]: 'staleness_avg_s' is not a registered metric (did you mean 'staleness_mean_s'?)",
        f"{where}: objectives[1]: 'heads' has no direction (it describes a configuration or workload)",
        f"{where}: constraints.survive: must be one of zone, region; got 'planet'",
        f"{where}: constraints.max_staleness_s: 'staleness_s' is not a registered metric (did you mean 'max_staleness_p99_s'?)",
        f"{where}: constraints.max_read_latency_p99_ms: must be a finite number in ms; got 'fast'",
        f"{where}: constraints.budget: unknown constraint; use survive, max_<metric> or min_<metric>",
        f"{where}: configuration_axes: 'hot' is not a grid axis of this scenario (grid: refresh_period_s)",
    ]
    good = policies_from_files(HONEST)
    assert good["honest-queue"].describe_constraints() == "read latency p50 ≤ 50 ms"
    assert good["honest-queue"].workload_axes() == ["arrival_rates_per_s"]


# ----------------------------------------------------------------------------- the batch, index.html and 04


class _Rows(HTMLParser):
    """Rows of the comparison tables of index.html: (tr class, [cell texts])."""

    def __init__(self):
        super().__init__()
        self.rows, self._in_cmp, self._row, self._cell = [], False, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self._in_cmp = "cmp" in (attrs.get("class") or "")
        elif tag == "tr" and self._in_cmp:
            self._row = (attrs.get("class") or "", [])
        elif tag == "td" and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            self._row[1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if self._row[1]:
                self.rows.append(self._row)
            self._row = None
        elif tag == "table":
            self._in_cmp = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    d = tmp_path_factory.mktemp("scen")
    (d / "honest.yaml").write_text(HONEST.read_text().replace("../../notebooks/",
                                                              f"{ROOT / 'tests' / 'fixtures' / 'notebooks'}/"))
    out = tmp_path_factory.mktemp("out")
    result = run_batch(d, out, jobs=2, progress=False, compare=True)
    assert result.n_failed == 0, result.runs
    return out


INFEASIBLE = {"strong@8/s (consistency = strong)", "strong@30/s (consistency = strong)",
              "refresh (refresh_period_s = 600)"}


def test_index_marks_no_infeasible_configuration_best(batch):
    html = (batch / "index.html").read_text()
    parser = _Rows()
    parser.feed(html)
    rows = {cells[1]: (cls, cells) for cls, cells in parser.rows}
    assert set(rows) == INFEASIBLE | {"weak@8/s (consistency = weak)", "weak@30/s (consistency = weak)",
                                      "refresh (refresh_period_s = 30)"}
    for cfg in INFEASIBLE:
        cls, cells = rows[cfg]
        assert "inf" in cls.split() and cells[2] == "infeasible", (cfg, cells)
    assert rows["strong@30/s (consistency = strong)"][1][3].startswith("saturated")
    assert "read latency p50 57.76 ms > 50 ms" in rows["strong@8/s (consistency = strong)"][1][3]
    assert "p99 staleness 596 s > 300 s" in rows["refresh (refresh_period_s = 600)"][1][3]
    marked = [(cfg, cells) for cfg, (cls, cells) in rows.items() if "front" in cls.split()]
    assert {cfg for cfg, _ in marked} == {"weak@8/s (consistency = weak)", "weak@30/s (consistency = weak)",
                                          "refresh (refresh_period_s = 30)"}
    for cfg, cells in marked:  # each marked row states its workload
        assert cells[2] == "best"
        assert cells[0] in ("honest-queue · arrival_rates_per_s = [8.0]", "honest-queue · arrival_rates_per_s = [30.0]",
                            "honest-lag"), cells
    # the index says which objectives and constraints it used
    assert "read latency p50 ≤ 50 ms" in html and "p99 staleness ≤ 300 s" in html
    assert "mean staleness</td>" in html and "read latency p50, utilization of the node that sees everything" in html
    # no raw None / nan / file path in what the reader sees
    text = re.sub(r"<[^>]+>", " ", html.split("<h2>Runs</h2>")[0])
    assert not re.search(r"\bNone\b|\bnan\b|/tmp/|\.yaml", text), re.findall(r".{30}(?:None|nan|/tmp/).{30}", text)


def test_notebook_04_marks_no_infeasible_configuration_best(batch):
    rec = json.loads((batch / "comparison" / "run.json").read_text())
    assert rec["status"] == "ok", rec.get("error")
    res = pd.read_csv(batch / "comparison" / "results.csv")
    flags = res[res["metric"].isin(["pareto_optimal", "feasible"])].pivot(index="configuration", columns="metric",
                                                                           values="value")
    assert len(flags) == 6
    assert not ((flags["pareto_optimal"] == 1) & (flags["feasible"] == 0)).any()
    assert flags["pareto_optimal"].sum() == 3
    nb = nbformat.read(batch / "comparison" / "notebook.ipynb", as_version=4)
    cell = next(c for c in nb.cells if c.cell_type == "code" and 'best = merge_identical(wide[wide["best"]]' in c.source)
    shown = "".join(o.get("data", {}).get("text/html", "") + o.get("data", {}).get("text/markdown", "")
                    for o in cell.outputs)
    for cfg in INFEASIBLE:
        assert cfg not in shown
    for cfg in ("weak@8/s (consistency = weak)", "weak@30/s (consistency = weak)", "refresh (refresh_period_s = 30)"):
        assert cfg in shown
    assert "honest-queue · arrival_rates_per_s = [8.0]" in shown and "honest-lag" in shown


def test_scatter_draws_saturated_points_apart_and_lists_only_what_it_draws():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from followerlab.plots import tradeoff_scatter

    t = pd.concat([
        long([("strong", {"staleness_mean_s": 0.0, "read_latency_p50_ms": np.inf, "admin_utilization": 1.6}),
              ("weak", {"staleness_mean_s": 60.0, "read_latency_p50_ms": 30.0, "admin_utilization": 0.4})],
             notebook="02-admin-node-load"),
        long([("read follower", {"staleness_mean_s": 4.2, "read_latency_p50_ms": 2.0}),
              ("read leaseholder", {"staleness_mean_s": 0.0, "read_latency_p50_ms": 70.0})],
             notebook="03-raft-write-latency")], ignore_index=True)
    a = assess(t, {"s": policy(objectives=["staleness_mean_s", "read_latency_p50_ms"])})
    fig = tradeoff_scatter(a, "staleness_mean_s", "read_latency_p50_ms")
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert labels == ["02-admin-node-load", "03-raft-write-latency", "best in its workload", "saturated (∞ at the edge)"]
    markers = {c.get_label(): c.get_paths()[0].vertices.round(3).tobytes() for c in fig.axes[0].collections
               if c.get_label() in labels}
    assert markers["saturated (∞ at the edge)"] != markers["03-raft-write-latency"]  # × is not the Raft ▲
    assert not fig.axes[0].lines  # no front drawn, none named
    plt.close(fig)
    fig = tradeoff_scatter(a[a["status"] != "infeasible"], "staleness_mean_s", "read_latency_p50_ms", front=True)
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert "saturated (∞ at the edge)" not in labels and "Pareto front of these two metrics" in labels
    assert len(fig.axes[0].lines) == 1  # the named front is drawn
    plt.close(fig)


def test_policies_are_found_from_a_batch_started_elsewhere(tmp_path, monkeypatch):
    # a batch started in the repository records "data/scenarios/x.yaml"; notebook 04's kernel
    # runs in another folder and must still find the scenario's objectives and constraints
    from followerlab.constraints import policies_from_records

    monkeypatch.chdir(tmp_path)
    records = [{"source": "data/scenarios/raft-placements.yaml"}, {"source": "gone/nowhere.yaml"}]
    found = policies_from_records(records)
    assert sorted(found) == ["raft-europe", "raft-global", "raft-us-uk"]
    assert found["raft-europe"].describe_constraints() == "survives the loss of one region; mean staleness ≤ 10 s"
    run = tmp_path / "batch" / "runs" / "r"
    run.mkdir(parents=True)
    (run / "run.json").write_text(json.dumps({"source": "data/scenarios/query-consistency.yaml"}))
    assert list(policies_for_results(tmp_path / "batch" / "results.parquet")) == ["consistency"]
    # no runs beside the table (the shipped example): the shipped scenario files
    assert len(policies_for_results(EXAMPLE)) == 7   # 5 grid scenarios + the 2 of sweeps.yaml


def test_index_of_the_shipped_scenarios_marks_no_infeasible_configuration(tmp_path):
    # the report of the shipped scenarios (their gathered example table; no kernels)
    from followerlab.report import write_report

    table = pd.read_csv(EXAMPLE)
    records = [{"run_id": r, "scenario": s, "base_scenario": b, "notebook": n, "status": "ok", "parameters": {}}
               for r, s, b, n in table[["run_id", "scenario", "base_scenario", "notebook"]].drop_duplicates().itertuples(index=False)]
    html = write_report(tmp_path, records, table, figures=False, policies=policies_for_results(EXAMPLE)).read_text()
    parser = _Rows()
    parser.feed(html)
    assert len(parser.rows) > 50
    verdicts = {"front": "best", "inf": "infeasible", "nc": "not compared"}
    for cls, cells in parser.rows:
        kind = next((k for k in cls.split() if k in verdicts), "")
        assert cells[2] == verdicts.get(kind, "dominated"), cells
        assert cells[0], cells  # every row states its workload
        if kind == "front":
            assert not cells[3].startswith(("saturated", "does not survive")) and "surviv" not in cells[3]
        if cells[1].startswith("strong") or cells[1] == "ZONE 3 voters" or "∞ (saturated)" in cells:
            assert kind == "inf", cells
    glob = [cells for _, cells in parser.rows if cells[1] == "read global"]
    assert len(glob) == 3 and all(any(c.startswith(("80", "83", "84")) and c.endswith("†") for c in cells) for cells in glob)
    text = re.sub(r"<[^>]+>", " ", html)
    assert not re.search(r"\bNone\b|\bnan\b|\bNaN\b", text)
