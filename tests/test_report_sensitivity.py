"""Sensitivity in the batch report: a run's sensitivity.csv is written, gathered and shown (issue 13, part 4)."""

import json

import numpy as np
import pandas as pd
import pytest

from followerlab.batch import gather_sensitivity
from followerlab.report import leading_rows, sensitivity_section, write_report
from followerlab.results_io import SENSITIVITY_COLUMNS, write_figure, write_sensitivity
from followerlab.sensitivity import sobol_indices


def _analysis():
    # y = 2 a + 10 b (a in [0, 1], b in [0, 0.5]): V_a = 4/12, V_b = 25/12 -> S_b = 25/29 exactly
    return sobol_indices(lambda p: {"lat_ms": 2 * p["a_s"] + 10 * p["b_s"], "u": 0.1 + 0 * p["a_s"] + p["a_s"] / 2},
                         {"a_s": (0.0, 1.0), "b_s": (0.0, 0.5)}, n=1024)


def test_write_sensitivity_checks_names_and_keeps_the_indices(tmp_path):
    res = _analysis()
    with pytest.raises(ValueError, match="'lat_ms' is not registered"):
        write_sensitivity(tmp_path, res)
    with pytest.raises(ValueError, match="not among the analysis's metrics"):
        write_sensitivity(tmp_path, res, metrics={"latency": "write_latency_p50_ms"})
    with pytest.raises(ValueError, match="figure given for 'staleness_mean_s'"):
        write_sensitivity(tmp_path, res, metrics={"lat_ms": "write_latency_p50_ms"},
                          figures={"staleness_mean_s": "x.png"})
    assert write_sensitivity("", res, metrics={"lat_ms": "write_latency_p50_ms"}) is None
    assert not (tmp_path / "sensitivity.csv").exists()
    path = write_sensitivity(tmp_path, res, metrics={"lat_ms": "write_latency_p50_ms", "u": "admin_utilization"},
                             scope="toy", figures={"write_latency_p50_ms": "t.png"})
    t = pd.read_csv(path, keep_default_na=False)
    assert list(t.columns) == SENSITIVITY_COLUMNS and len(t) == 4
    row = t[(t.metric == "write_latency_p50_ms") & (t.parameter == "b_s")].iloc[0]
    assert row.unit == "ms" and row.figure == "t.png" and row.scope == "toy"
    assert row.ST == pytest.approx(25 / 29, abs=0.02) and row.spread == pytest.approx(5.0)
    assert t[t.metric == "admin_utilization"].figure.tolist() == ["", ""]


def test_write_figure_is_atomic_and_refuses_paths(tmp_path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([0, 1])
    assert write_figure(tmp_path, "f.png", fig).read_bytes()[:4] == b"\x89PNG"
    assert [p.name for p in tmp_path.iterdir()] == ["f.png"]         # no temporary left
    with pytest.raises(ValueError, match="plain file name"):
        write_figure(tmp_path, "../f.png", fig)
    plt.close(fig)


def _batch_folder(tmp_path):
    res = _analysis()
    recs = []
    for i, status in enumerate(["ok", "skipped", "failed", "ok"]):
        run_id = f"s{i}--nb"
        recs.append({"run_id": run_id, "scenario": f"s{i}", "base_scenario": "s", "notebook": "nb", "status": status,
                     "effective": {}})
        run = tmp_path / "runs" / run_id
        run.mkdir(parents=True)
        if i < 3:   # run 3 wrote no sensitivity table
            write_sensitivity(run, res, metrics={"lat_ms": "write_latency_p50_ms", "u": "admin_utilization"},
                              scope=f"scope {i}", figures={"write_latency_p50_ms": "tornado.png"})
    return res, recs


def test_gather_takes_successful_runs_and_makes_figures_relative(tmp_path):
    _, recs = _batch_folder(tmp_path)
    table = gather_sensitivity(recs, tmp_path)
    assert sorted(set(table.run_id)) == ["s0--nb", "s1--nb"]          # failed run 2 out, run 3 has none
    assert set(table.figure) == {"runs/s0--nb/tornado.png", "runs/s1--nb/tornado.png", ""}
    again = pd.read_csv(tmp_path / "sensitivity.csv", keep_default_na=False)
    assert len(again) == len(table) == 8
    empty = gather_sensitivity([recs[2]], tmp_path)
    assert len(empty) == 0 and "ST" in pd.read_csv(tmp_path / "sensitivity.csv").columns


def test_leading_rows_pick_the_largest_total_index_per_run_and_metric(tmp_path):
    _, recs = _batch_folder(tmp_path)
    lead = leading_rows(gather_sensitivity(recs, tmp_path)).set_index(["run_id", "metric"])
    assert len(lead) == 4
    assert lead.loc[("s0--nb", "write_latency_p50_ms"), "parameter"] == "b_s"
    assert lead.loc[("s0--nb", "admin_utilization"), "parameter"] == "a_s"       # b_s has S_T = 0 exactly
    # a saturated metric (S_T NaN) has no leading assumption
    t = pd.DataFrame({"run_id": ["r", "r"], "scope": ["", ""], "metric": ["m", "m"], "parameter": ["a", "b"],
                      "ST": [np.nan, np.nan]})
    assert len(leading_rows(t)) == 0 and sensitivity_section(t) == []


def test_index_shows_which_assumption_matters(tmp_path):
    res, recs = _batch_folder(tmp_path)
    table = pd.DataFrame({"scenario": ["s0"], "notebook": ["nb"], "configuration": ["c"],
                          "metric": ["write_latency_p50_ms"], "value": [1.0], "unit": ["ms"]})
    sens = gather_sensitivity(recs, tmp_path)
    html = write_report(tmp_path, recs, table, figures=False, sensitivity=sens).read_text()
    assert "Which assumption matters?" in html
    section = html[html.index("Which assumption matters?"):html.index("<h2>Runs</h2>")]
    assert section.count("<tr") == 1 + 4                                  # header + 2 runs x 2 metrics
    assert section.count("runs/s0--nb/notebook.html") == 1               # a run is named once, on its first row
    assert "href='runs/s0--nb/tornado.png'" in section and "scope 1" in section
    b = res.parameters.index("b_s")
    st = res.ST[0, b]
    assert f"{st:.3g}" in section and f"{res.ST_low[0, b]:.3g}" in section    # S_T with its interval
    # b sweeps 0 to 0.5 with a at its nominal 0.5: the latency goes from 1 ms to 6 ms
    assert "<td class='nw'>0 s to 0.5 s</td>" in section and "1 ms to 6 ms <span class='ci'>(spread 5 ms)" in section
    # without a sensitivity table the index has no such section
    html = write_report(tmp_path, recs, table, figures=False).read_text()
    assert "Which assumption matters?" not in html
    json.dumps(recs)
