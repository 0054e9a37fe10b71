"""The Raft figures render with titles, unit-bearing axis labels and legends (Agg backend)."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from scipy import stats  # noqa: E402

from followerlab import plots, raft, staleness  # noqa: E402


@pytest.fixture(scope="module")
def demo():
    return raft.load_rtt("crdb-demo-rtt-2019.csv")


def _axes_ok(fig, unit):
    ax = fig.axes[0]
    assert ax.get_title()
    assert unit in ax.get_xlabel() + ax.get_ylabel() or any(unit in a.get_ylabel() for a in fig.axes[1:])
    return ax


def test_raft_figures_render(demo, tmp_path):
    figs = []
    figs.append(plots.raft_rtt_heatmap(demo))
    _axes_ok(figs[-1], "ms")
    p = raft.spread_placement(demo, "us-east1")
    table = pd.DataFrame([{"leaseholder": lh, "placement": "1-1-1", "write_p50_ms": 70.0, "write_p99_ms": 80.0}
                          for lh in demo.index])
    figs.append(plots.raft_write_latency_bars(table))
    assert _axes_ok(figs[-1], "ms").get_legend() is not None
    reads = pd.concat([raft.read_latency(demo, p, c, path).to_frame() for c in demo.index for path in raft.READ_PATHS])
    figs.append(plots.raft_read_latency_bars(reads))
    assert _axes_ok(figs[-1], "ms").get_legend() is not None
    st = pd.DataFrame({"read_type": ["a", "b"], "staleness_mean_s": [0.0, 4.2], "staleness_max_s": [0.0, 4.2]})
    figs.append(plots.raft_staleness_bars(st))
    _axes_ok(figs[-1], "(s)")
    loads = {"3 voters": raft.write_load(np.geomspace(10, 1000, 50), 3, 64.0)}
    figs.append(plots.raft_write_load_curves(loads))
    assert _axes_ok(figs[-1], "ms").get_legend() is not None
    e = stats.expon(scale=5.0)
    curves = {"n=3, r=1, w=1": staleness.t_visibility(np.linspace(0, 50, 20), 3, 1, 1, e, e, e, e, trials=200, seed=0)}
    figs.append(plots.raft_t_visibility_curves(curves))
    assert _axes_ok(figs[-1], "ms").get_legend() is not None
    for i, fig in enumerate(figs):
        fig.savefig(tmp_path / f"fig{i}.png")
        assert (tmp_path / f"fig{i}.png").stat().st_size > 5000


def test_write_load_figure_marks_the_runs_rate():
    loads = {"3 voters": raft.write_load(np.geomspace(10, 1000, 50), 3, 64.0)}
    fig = plots.raft_write_load_curves(loads, rate_per_s=200.0)
    assert any("this run: 200 writes/s" in t.get_text() for t in fig.axes[0].get_legend().get_texts())
