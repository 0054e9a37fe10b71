"""The follower figures render, with titles, labelled axes (units) and legends."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from followerlab import plots  # noqa: E402
from followerlab.follower import cache_cost, prefetch_tradeoff, sync_lag, union_window  # noqa: E402


def _check(fig, n_lines_min=1):
    ax = fig.axes[0]
    assert ax.get_title() and ax.get_xlabel()
    assert ax.get_legend() is not None and len(ax.get_legend().get_texts()) >= n_lines_min
    plt.close(fig)


def test_lag_figures():
    lags = {"P = 60 s": sync_lag(60.0, 2.0), "back to back": sync_lag(10.0, 8.0, 0.1, 5.0),
            "unbounded": sync_lag(10.0, 1.0, 0.5, 2.0)}
    fig = plots.follower_lag_cdfs(lags)
    assert "(back to back)" in [t.get_text() for t in fig.axes[0].get_legend().get_texts()][1]
    _check(fig, 3)
    p = np.geomspace(2.0, 600.0, 20)
    fig = plots.follower_lag_vs_period(p, {"80/s": sync_lag(p, 2.0, 0.01, 80.0)})
    assert "(s)" in fig.axes[0].get_xlabel()
    _check(fig, 3)


def test_tradeoff_cache_union_figures():
    rates = np.geomspace(0.01, 300.0, 30) * 1e6
    t = prefetch_tradeoff(60.0, 2.0, 0.01, rates / 2e6, bytes_per_change=2e6, warm_bandwidth_bytes_per_s=2e8)
    fig = plots.follower_prefetch_tradeoff(rates, t)
    labels = [x.get_text() for x in fig.axes[0].get_legend().get_texts()]
    assert any("crossover" in s for s in labels) and any("cannot keep up" in s for s in labels)
    _check(fig, 3)
    c = cache_cost([86400.0, 90 * 86400.0], 2e6, [3600.0, 30 * 86400.0])
    fig = plots.follower_cache_comparison(["leader", "follower"], c.hot_bytes, c.cold_query_fraction)
    assert len(fig.axes) == 2 and all(a.get_ylabel() for a in fig.axes)
    plt.close(fig)
    w = np.linspace(0.0, 600.0, 31)
    fig = plots.follower_union_window(w, union_window(sync_lag(60.0, 2.0), w, 3600.0))
    assert fig.axes[1].get_ylabel()
    _check(fig, 2)


def test_figures_mark_the_runs_own_values():
    p = np.geomspace(2.0, 600.0, 20)
    fig = plots.follower_lag_vs_period(p, {"1/s": sync_lag(p, 2.0, 0.01, 1.0)}, run_period_s=45.0)
    assert any("this run: P = 45 s" in t.get_text() for t in fig.axes[0].get_legend().get_texts())
    plt.close(fig)
    rates = np.geomspace(0.01, 300.0, 30) * 1e6
    t = prefetch_tradeoff(60.0, 2.0, 0.01, rates / 2e6, bytes_per_change=2e6, warm_bandwidth_bytes_per_s=2e8)
    fig = plots.follower_prefetch_tradeoff(rates, t, run_ingest_bytes_per_s=6e6)
    assert any("this run: 6 MB/s" in x.get_text() for x in fig.axes[0].get_legend().get_texts())
    plt.close(fig)
    w = np.linspace(0.0, 600.0, 31)
    fig = plots.follower_union_window(w, union_window(sync_lag(60.0, 2.0), w, 3600.0), run_window_s=120.0)
    assert any("W = 2 min" in x.get_text() for x in fig.axes[0].get_legend().get_texts())
    plt.close(fig)
