"""The batch runner end to end on the fixture notebooks: 2 scenarios × 2 notebooks + a broken run.

One module-scoped batch (``jobs=2``, the local process pool) is shared by most tests to keep
kernel start-ups (the cost of each run) few on a 2-core machine.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

from followerlab import batch as batch_mod  # first: keeps nbformat's import light (see batch)
from followerlab.batch import gather_results, inputs_hash, run_batch, with_kernel_retries
from followerlab.cli import USAGE_ERROR, main

import nbformat  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "tests" / "fixtures"


@pytest.fixture(scope="module")
def scen(tmp_path_factory):
    """Copies of the fixture scenario files (tests edit them), with notebook paths made absolute."""
    d = tmp_path_factory.mktemp("scenarios")
    for name in ("tiny.yaml", "broken-run.yaml"):
        text = (FIX / "scenarios" / name).read_text().replace("../notebooks/", f"{FIX / 'notebooks'}/")
        (d / name).write_text(text)
    return d


@pytest.fixture(scope="module")
def first(scen, tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    (out / "runs").mkdir()
    (out / "runs" / "ghost.partial").mkdir()  # as an interrupted batch would leave it
    result = run_batch(scen, out, jobs=2, progress=False, compare=False)
    return result, out


def test_runs_finish_and_the_broken_one_is_reported(first):
    result, out = first
    status = dict(zip(result.runs["run_id"], result.runs["status"]))
    assert status == {"broken--fx-refresh-lag": "failed", "strong--fx-refresh-lag": "ok", "strong--fx-queue": "ok",
                      "weak--fx-refresh-lag": "ok", "weak--fx-queue": "ok"}
    assert (result.n_ok, result.n_skipped, result.n_failed, result.exit_status) == (4, 0, 1, 1)
    rec = json.loads((out / "runs" / "broken--fx-refresh-lag" / "run.json").read_text())
    assert rec["error"]["type"] == "RuntimeError" and "fixture asked to fail" in rec["error"]["message"]
    assert "\x1b[" not in rec["error"]["traceback"]  # ANSI colours stripped
    executed = nbformat.read(out / "runs" / "broken--fx-refresh-lag" / "notebook.ipynb", as_version=4)
    assert any(o.get("output_type") == "error" for c in executed.cells for o in c.get("outputs", []))
    assert (out / "runs" / "broken--fx-refresh-lag" / "notebook.html").exists()
    assert (out / "runs" / "strong--fx-queue" / "kernel.log").exists()  # kernel stderr kept per run
    # no half-written leftovers: staging folders swapped in, temp files renamed, stale .partial removed
    assert not list(out.rglob("*.partial")) and not list(out.rglob("*.tmp")) and not list(out.rglob("*.old"))


def test_the_gathered_table_has_run_and_parameter_columns(first):
    result, out = first
    table = pd.read_parquet(out / "results.parquet")
    csv = pd.read_csv(out / "results.csv")
    assert len(table) == len(csv) == len(result.table)
    assert list(table.columns[:9]) == ["scenario", "base_scenario", "label", "notebook", "run_id",
                                       "configuration", "metric", "value", "unit"]
    assert set(table["run_id"]) == {"strong--fx-refresh-lag", "strong--fx-queue", "weak--fx-refresh-lag", "weak--fx-queue"}
    assert len(table) == 2 * 4 + 2 * 6  # refresh-lag: 4 metrics; queue: 2 rates × 3 metrics
    lag = table[(table.run_id == "weak--fx-refresh-lag") & (table.metric == "staleness_mean_s")]
    assert lag["value"].item() == pytest.approx(120 / 2 + 2)  # P/2 + D with the scenario's P = 120 s
    assert lag["param_refresh_period_s"].item() == 120.0 and not lag["param_hot"].item()
    q = table[(table.run_id == "strong--fx-queue") & (table.metric == "read_latency_p50_ms")].sort_values("value")
    # M/M/1 median response ln2/(mu - lambda) at mu = 20/s, lambda = 2 and 8 /s
    assert q["value"].tolist() == pytest.approx([math.log(2) / 18 * 1e3, math.log(2) / 12 * 1e3])
    assert q["param_arrival_rates_per_s"].iloc[0] == "[2.0, 8.0]"  # lists stored as JSON text
    assert table["param_service_rate_per_s"].dropna().eq(20.0).all()  # notebook default filled in


def test_index_lists_runs_failures_table_and_figures(first):
    result, out = first
    html = (out / "index.html").read_text()
    assert result.index == str(out / "index.html")
    for run_id in result.runs["run_id"]:
        assert f"runs/{run_id}/notebook.html" in html
    assert "Failures" in html and "fixture asked to fail (fail=True)" in html
    assert "4 ok" in html and "1 failed" in html
    assert "Comparison" in html and "weak: refresh" not in html  # table cells are separate
    for png in ("staleness-vs-read-latency.png", "staleness-vs-admin-load.png"):
        assert f"figures/{png}" in html and (out / "figures" / png).stat().st_size > 5000
    page = (out / "runs" / "strong--fx-queue" / "notebook.html").read_text()
    assert "fl-hide-code" in page and "show code" in page  # code hidden by default, button to show


def test_unchanged_runs_are_skipped_changed_ones_rerun(first, scen, capfd):
    _, out = first
    again = run_batch(scen / "tiny.yaml", out, jobs=1, progress=True, compare=True)
    assert (again.n_ok, again.n_skipped, again.n_failed) == (0, 4, 0)
    assert "followerlab batch" in capfd.readouterr().err  # the tqdm bar
    assert len(again.table) == 20  # skipped runs' results are still gathered
    # the comparison notebook (04) ran on this batch's table and is linked from the index
    rec = json.loads((out / "comparison" / "run.json").read_text())
    assert rec["status"] == "ok", rec.get("error")
    assert rec["parameters"] == {"results_path": str(out / "results.parquet")}
    assert "comparison/notebook.html" in (out / "index.html").read_text()
    # change one parameter of one scenario: only that scenario's notebook that uses it reruns
    edited = scen / "edited"
    edited.mkdir()
    (edited / "tiny.yaml").write_text((scen / "tiny.yaml").read_text().replace("refresh_period_s: 120",
                                                                                 "refresh_period_s: 240"))
    third = run_batch(edited, out, jobs=1, progress=False)
    assert dict(zip(third.runs["run_id"], third.runs["status"]))["weak--fx-refresh-lag"] == "ok"
    assert (third.n_ok, third.n_skipped) == (1, 3)
    lag = third.table[(third.table.run_id == "weak--fx-refresh-lag") & (third.table.metric == "staleness_mean_s")]
    assert lag["value"].item() == pytest.approx(240 / 2 + 2)


def test_cli_force_reruns_and_exit_status_counts_failures(first, scen, capsys):
    _, out = first
    # without --force an unchanged successful run is skipped; with it, it runs again
    argv = ["batch", str(scen), "--out", str(out), "--notebooks", "fx-refresh-lag", "--no-progress", "--no-report"]
    (scen / "one").mkdir(exist_ok=True)
    (scen / "one" / "strong.yaml").write_text(f"name: strong\nnotebooks: [{FIX / 'notebooks' / 'fx-refresh-lag.ipynb'}]\n"
                                              "parameters: {refresh_period_s: 30}\n")
    assert main(argv[:1] + [str(scen / "one")] + argv[2:]) == 0
    assert "0 ran, 1 skipped (unchanged), 0 failed" in capsys.readouterr().out
    # the broken run failed last time, so it is never skipped; it fails again -> exit status 1
    argv = ["batch", str(scen / "one"), str(scen / "broken-run.yaml"), "--out", str(out), "--force",
            "--no-progress", "--no-report"]
    assert main(argv) == 1
    printed = capsys.readouterr().out
    assert "1 ran, 0 skipped (unchanged), 1 failed" in printed and "FAILED broken--fx-refresh-lag" in printed


def test_cli_refuses_bad_scenarios_before_running(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"name: x\nnotebooks: [{FIX / 'notebooks' / 'fx-queue.ipynb'}]\nparameters: {{consistency: eventual}}\n")
    assert main(["batch", str(bad), "--out", str(tmp_path / "o")]) == USAGE_ERROR
    err = capsys.readouterr().err
    assert f"{bad}: scenario 'x': parameters (fx-queue): consistency: Input should be 'strong' or 'weak'" in err
    assert not (tmp_path / "o").exists()
    with pytest.raises(SystemExit) as info:
        main(["batch", str(bad), "--jobs", "0"])
    assert info.value.code == USAGE_ERROR
    with pytest.raises(ValueError, match="jobs must be >= 1; got 0"):
        run_batch(bad, tmp_path / "o", jobs=0)


def test_cli_schema_and_module_entry_point(capsys):
    assert main(["schema", str(FIX / "notebooks" / "fx-queue.ipynb")]) == 0
    shown = capsys.readouterr().out
    assert "weak_fraction" in shown and "[0, 1] 1" in shown and "output_dir" not in shown
    out = subprocess.run([sys.executable, "-m", "followerlab", "batch", "--help"], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0 and "--scheduler" in out.stdout
    script = Path(sys.executable).parent / "followerlab"
    if script.exists():  # the console script declared in pyproject
        out = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60)
        assert out.returncode == 0 and "batch" in out.stdout


def test_kernel_start_failures_are_retried_cell_errors_are_not(tmp_path, monkeypatch):
    from papermill.exceptions import PapermillExecutionError

    monkeypatch.setattr(batch_mod.time, "sleep", lambda s: None)
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise RuntimeError("Kernel died before replying to kernel_info")
        return "done"

    assert with_kernel_retries(flaky, tmp_path / "absent.ipynb", attempts=3) == ("done", 3)
    calls.clear()
    with pytest.raises(RuntimeError):
        with_kernel_retries(lambda: (calls.append(1), (_ for _ in ()).throw(RuntimeError("x")))[1],
                            tmp_path / "absent.ipynb", attempts=2)
    assert len(calls) == 2

    def cell_error():
        calls.append(1)
        raise PapermillExecutionError(0, 1, "boom", "ValueError", "boom", [])

    calls.clear()
    with pytest.raises(PapermillExecutionError):
        with_kernel_retries(cell_error, tmp_path / "absent.ipynb", attempts=3)
    assert len(calls) == 1
    # a notebook whose first cell started is a cell-level failure, not a start failure
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")])
    nb.cells[0].metadata["papermill"] = {"status": "running"}
    nbformat.write(nb, tmp_path / "started.ipynb")
    calls.clear()
    with pytest.raises(RuntimeError):
        with_kernel_retries(lambda: (calls.append(1), (_ for _ in ()).throw(RuntimeError("x")))[1],
                            tmp_path / "started.ipynb", attempts=3)
    assert len(calls) == 1


def test_inputs_hash_changes_with_notebook_and_parameters(tmp_path):
    nb = tmp_path / "n.ipynb"
    shutil.copy(FIX / "notebooks" / "fx-queue.ipynb", nb)
    h = inputs_hash(nb, {"a": 1.0, "b": "x"})
    assert h == inputs_hash(nb, {"b": "x", "a": 1.0})  # key order does not matter
    assert h != inputs_hash(nb, {"a": 2.0, "b": "x"})
    assert h != inputs_hash(nb, {"a": 1.0, "b": "x"}, kernel_name="other")
    nb.write_bytes(nb.read_bytes() + b" ")
    assert h != inputs_hash(nb, {"a": 1.0, "b": "x"})


def test_gather_types_parameter_columns(tmp_path):
    for run_id in ("a", "b"):
        (tmp_path / "runs" / run_id).mkdir(parents=True)
        (tmp_path / "runs" / run_id / "results.csv").write_text("configuration,metric,value,unit\nc,m,1.5,s\n")
    recs = [{"run_id": "a", "scenario": "a", "base_scenario": "a", "notebook": "n", "status": "ok",
             "effective": {"x": 1, "flag": True, "mode": "weak", "xs": [1, 2]}},
            {"run_id": "b", "scenario": "b", "base_scenario": "b", "notebook": "m", "status": "skipped",
             "effective": {"x": 2.5, "flag": False}},
            {"run_id": "c", "scenario": "c", "base_scenario": "c", "notebook": "m", "status": "failed"}]
    table = gather_results(recs, tmp_path)
    assert str(table["param_x"].dtype) == "Float64" and str(table["param_flag"].dtype) == "boolean"
    assert table["param_xs"].iloc[0] == "[1, 2]" and pd.isna(table["param_xs"].iloc[1])
    back = pd.read_parquet(tmp_path / "results.parquet")
    assert back["param_x"].tolist() == [1.0, 2.5] and back["run_id"].tolist() == ["a", "b"]


def test_kernels_use_ipc_transport_with_unique_absolute_socket_paths():
    cls = batch_mod._ipc_kernel_manager_class()
    a, b = cls(kernel_name="python3"), cls(kernel_name="python3")
    assert a.transport == b.transport == "ipc"
    assert Path(a.ip).is_absolute() and a.ip != b.ip  # jupyter_client's default "kernel-ipc" is shared


def test_exit_status_is_the_failure_count_capped_at_100():
    empty = pd.DataFrame()
    make = lambda n: batch_mod.BatchResult(runs=empty, table=empty, n_ok=0, n_skipped=0, n_failed=n,  # noqa: E731
                                           elapsed_s=0.0, out="", index="")
    assert [make(n).exit_status for n in (0, 1, 100, 250)] == [0, 1, 100, 100]


@pytest.mark.browser
def test_index_renders_in_headless_chromium(first, tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium not installed (apt-get install chromium)")
    _, out = first
    png = tmp_path / "index.png"
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    f"--screenshot={png}", "--window-size=1400,2000", (out / "index.html").as_uri()],
                   capture_output=True, timeout=120)
    assert png.exists() and png.stat().st_size > 20_000
    from PIL import Image
    import numpy as np

    pixels = np.asarray(Image.open(png).convert("L"))
    dark_rows = (pixels < 128).any(axis=1).sum()
    assert dark_rows > 300  # text, table and figures drawn, not a blank page
