"""The metric registry: every metric the shipped notebooks write is registered, the result writer
refuses the others, and the comparison and report take labels, units and directions from it."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest

from followerlab import compare, metrics as M, report
from followerlab.results_io import write_results

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb")) + sorted((ROOT / "tests" / "fixtures" / "notebooks").glob("*.ipynb"))


def _const(node):
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def written_metrics(path: Path) -> tuple[set[str], list[str]]:
    """Metric names a notebook's code writes, read from its cells' syntax trees.

    Three shapes occur: ``add(configuration, "metric", value, unit)`` (01-04), a dict with a
    ``"metric"`` key (fixtures, 03), and ``(configuration, "metric", value, "unit")`` tuples
    (fixture, 04).  Returns the names and the ``add(...)`` calls whose metric is not a literal (so a
    computed name cannot slip past this test).
    """
    nb = nbformat.read(path, as_version=4)
    names, dynamic = set(), []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        src = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))
        tree = ast.parse(src)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "add" and len(node.args) >= 2:
                name = _const(node.args[1])
                if name is None:
                    dynamic.append(f"{path.name}: {ast.unparse(node)}")
                else:
                    names.add(name)
            elif isinstance(node, ast.Dict):
                for k, v in zip(node.keys, node.values):
                    if k is not None and _const(k) == "metric" and _const(v) is not None:
                        names.add(_const(v))
            elif isinstance(node, ast.Tuple) and len(node.elts) == 4 and _const(node.elts[1]):
                names.add(_const(node.elts[1]))
    return names, dynamic


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_metric_a_notebook_writes_is_registered(path):
    names, dynamic = written_metrics(path)
    assert not dynamic, f"metric names must be literals so they can be checked: {dynamic}"
    if path.stem != "00-explore":  # 00 writes followerlab.explore's key numbers: checked below
        assert names, f"{path.name}: found no metric it writes; has the result-writing code changed shape?"
    unregistered = sorted(n for n in names if not M.is_registered(n))
    assert not unregistered, f"{path.name} writes unregistered metrics {unregistered}"


def test_the_parser_finds_what_the_notebooks_write():
    # not a tautology: the names found in 02 include ones only it writes, in 03 the write metrics
    assert {"head_utilization_hottest", "query_rate_per_s", "cache_hit_ratio"} <= written_metrics(
        ROOT / "notebooks" / "02-admin-node-load.ipynb")[0]
    assert {"write_latency_p50_ms", "write_saturation_rate_per_s"} <= written_metrics(
        ROOT / "notebooks" / "03-raft-write-latency.ipynb")[0]


def test_a_real_gathered_table_has_only_registered_metrics_and_units():
    # the example table in data/examples was gathered from an actual batch of notebooks 01-03
    table = pd.read_csv(ROOT / "data" / "examples" / "batch-results.csv")
    for name, unit in table[["metric", "unit"]].drop_duplicates().itertuples(index=False):
        assert M.check_unit(name, unit) == M.unit(name)


def test_registry_entries_are_consistent():
    suffix_unit = {"_ms": "ms", "_s": "s", "_per_s": "1/s", "_tb": "TB"}
    for name, m in M.REGISTRY.items():
        assert m.name == name and m.direction in ("lower", "higher", "none") and m.meaning and m.label
        assert set(m.mechanisms) <= set(M.MECHANISMS)
        for suffix, unit in sorted(suffix_unit.items(), key=lambda kv: -len(kv[0])):
            if name.endswith(suffix):
                assert m.unit == unit, f"{name}: unit {m.unit!r} disagrees with its name"
                break
        if m.role == "workload":
            assert m.direction == "none"
    for name in M.KEY_METRICS + M.DEFAULT_OBJECTIVES:
        assert M.direction(name) != "none"


def test_writer_refuses_unregistered_names_and_wrong_units(tmp_path):
    good = pd.DataFrame({"configuration": ["a"], "metric": ["staleness_mean_s"], "value": [1.0], "unit": ["s"]})
    assert write_results(tmp_path, "nb", {}, good) is not None
    bad = good.assign(metric="staleness_avg_s")
    with pytest.raises(ValueError, match=r"metric 'staleness_avg_s' is not registered.*did you mean 'staleness_mean_s'"):
        write_results(tmp_path / "x", "nb", {}, bad)
    with pytest.raises(ValueError, match="not registered"):  # also when not writing (nbval runs)
        write_results("", "nb", {}, bad)
    assert not (tmp_path / "x").exists()
    with pytest.raises(ValueError, match=r"'staleness_mean_s' is in 's'; got unit 'ms'"):
        write_results(tmp_path, "nb", {}, good.assign(unit="ms"))
    # a registered alias is accepted (notebook 03 writes utilization in "fraction")
    write_results(tmp_path, "nb", {}, good.assign(metric="admin_utilization", unit="fraction"))


def test_directions_drive_the_front():
    assert M.maximize(["cache_hit_ratio", "read_latency_p50_ms"]) == [True, False]
    with pytest.raises(ValueError, match="has no direction"):
        M.maximize(["heads"])


def test_compare_and_report_take_labels_from_the_registry():
    for name in M.REGISTRY:
        assert compare.METRIC_LABELS[name] == M.axis_label(name)
        assert report.SHORT[name] == M.short_label(name)
    assert compare.KEY_METRICS == M.KEY_METRICS and compare.OBJECTIVES == M.DEFAULT_OBJECTIVES


def test_values_render_as_words():
    assert M.format_value("read_latency_p50_ms", math.inf) == "∞ (saturated)"
    assert M.format_value("read_latency_p50_ms", np.nan) == "not applicable"
    assert M.format_value("read_latency_p50_ms", None, missing="unavailable") == "unavailable"
    assert M.format_value("admin_utilization", 1.0) == "1 (saturated)"
    assert M.format_value("admin_utilization", 0.9999) == "0.9999"
    assert M.format_with_unit("write_latency_p50_ms", 72.4) == "72.4 ms"
    assert M.format_with_unit("executed_queries_per_s", 12.0) == "12/s"
    assert M.format_with_unit("hot_data_tb", 123456.0) == "123,456 TB"


def test_the_explorer_writes_registered_metrics():
    from followerlab import explore
    from followerlab.results_io import check_frame

    frame = explore.dashboard().key_numbers().rename(columns={"mechanism": "configuration"})
    check_frame(frame)  # what notebook 00 passes to write_results


def test_the_validation_notebook_writes_registered_metrics(tmp_path):
    # notebook 05 builds its metric names with f-strings; run it on the saved measurements
    # (its default, no etcd needed) and read what it wrote
    import papermill as pm

    pm.execute_notebook(str(ROOT / "notebooks" / "05-validation.ipynb"), str(tmp_path / "05.ipynb"),
                        parameters={"output_dir": str(tmp_path / "out")}, kernel_name="python3", progress_bar=False)
    written = pd.read_csv(tmp_path / "out" / "results.csv")
    assert {"write_latency_p90_ms", "predicted_read_latency_p50_ms", "error_write_latency_p50_ms",
            "visibility_t50_ms"} <= set(written["metric"])
    assert all(M.is_registered(m) for m in written["metric"].unique())
