"""The explorer without a browser: its numbers, its controls, its figure, and result display.

The dashboard's numbers are checked against values computed here by hand from the published
inputs (the RTT CSV, Leibowitz2023's policy defaults, CRDB-FollowerReads' 4.2 s and CRDB-GlobalTables' 800 ms) and closed forms,
and the hottest-head load against a Monte Carlo of hashing databases onto heads, so a wrong
wiring of the models (wrong argument, wrong unit, wrong region) fails here.
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import nbformat
import numpy as np
import pandas as pd
import pytest

from followerlab import explore
from followerlab._results import Result
from followerlab.plots._style import new_grid

matplotlib.use("Agg")
ROOT = Path(__file__).resolve().parent.parent
RTT = pd.read_csv(ROOT / "data" / "regions" / "crdb-demo-rtt-2019.csv", comment="#", index_col=0)


@pytest.fixture(scope="module")
def default():
    return explore.dashboard()


# --- numbers ---------------------------------------------------------------------------------
@pytest.mark.parametrize("period, rate", [(60.0, 1.0), (300.0, 0.0), (30.0, 2.0)])
def test_follower_lag_mean_is_half_period_plus_sync_duration(period, rate):
    """E[L] = P/2 + d0 + (d1 + [prefetch] s/B) m P: residual phase plus the sync duration."""
    d0, d1 = explore.SYNC_BASE_S, explore.SYNC_PER_CHANGE_S
    warm_per_change = explore.BYTES_PER_CHANGE / explore.WARM_BANDWIDTH_BYTES_PER_S
    off = explore.dashboard(sync_period_s=period, change_rate_per_s=rate, prefetch=False)
    on = explore.dashboard(sync_period_s=period, change_rate_per_s=rate, prefetch=True)
    assert float(off.follower_lag_mean_s) == pytest.approx(period / 2 + d0 + d1 * rate * period, rel=1e-12)
    assert float(on.follower_lag_mean_s) == pytest.approx(
        period / 2 + d0 + (d1 + warm_per_change) * rate * period, rel=1e-12)
    # deterministic sync (rate 0): lag = U(0, P] + d0, so p99 = 0.99 P + d0 exactly
    if rate == 0.0:
        assert float(off.follower_lag_p99_s) == pytest.approx(0.99 * period + d0, abs=1e-6)
    # the first query on the newest data is cold (blob) without prefetch, hot (SSD) with it
    if rate > 0:
        assert float(off.follower_first_query_s) > float(on.follower_first_query_s)
        assert float(on.follower_time_to_answer_s) == pytest.approx(
            float(on.follower_lag_mean_s) + float(on.follower_first_query_s))


def test_prefetch_that_cannot_keep_up_is_flagged_not_hidden():
    """(d1 + s/B) m >= 1: every sync brings more warm-up work than a period holds."""
    d = explore.dashboard(change_rate_per_s=4.0, prefetch=True, extent_mb=50.0)  # (0.01 + 50/200) * 4 = 1.04
    assert bool(d.follower_lag_unbounded) and np.isinf(float(d.follower_lag_mean_s))
    assert not bool(explore.dashboard(change_rate_per_s=4.0, prefetch=False, extent_mb=50.0).follower_lag_unbounded)


def test_admin_utilization_is_strong_share_times_planning_time(default):
    lam, w, s = 30.0, 0.8, explore.PLANNING_S
    lam_c, s_c = explore.MODEL_INPUTS["control_rate_per_s"], explore.MODEL_INPUTS["control_ms"] / 1e3
    assert float(default.admin_utilization_strong) == pytest.approx(lam * s + lam_c * s_c)
    assert float(default.admin_utilization) == pytest.approx((1 - w) * lam * s + lam_c * s_c)
    assert float(default.admin_saturation_rate_per_s) == pytest.approx((1 - lam_c * s_c) / ((1 - w) * s))
    # random routing without a results cache: each of H heads gets w * lambda / H
    plain = explore.dashboard(cache_max_age_s=0.0, control_rate_per_s=0.0)
    assert float(plain.admin_utilization) == pytest.approx((1 - w) * lam * s)
    assert float(plain.hottest_head_utilization) == pytest.approx(w * lam * s / 3)
    # with the cache, random routing sees each repeating text at r/H: hit ratio h = x/(1+x), x = r T / H
    r, T, f = (explore.MODEL_INPUTS[k] for k in ("repeat_rate_per_s", "cache_max_age_s", "repeat_fraction"))
    x = r * T / 3
    assert float(default.hottest_head_utilization) == pytest.approx(w * lam * (1 - f * x / (1 + x)) * s / 3)


def test_hottest_head_under_database_affinity_matches_a_hashing_simulation():
    """E[max head share] when 10 databases (one with 70% of queries) hash onto 3 heads."""
    d = explore.dashboard(routing_mode="by_database", heads=3, query_rate_per_s=30.0, weak_fraction=0.8,
                          cache_max_age_s=0.0)
    rng = np.random.default_rng(20261122)
    shares = np.r_[explore.HOT_SHARE, np.full(explore.DATABASES - 1, (1 - explore.HOT_SHARE) / (explore.DATABASES - 1))]
    n = 40_000
    heads = rng.integers(0, 3, size=(n, shares.size))
    load = np.stack([(shares * (heads == j)).sum(axis=1) for j in range(3)], axis=1).max(axis=1)
    sim_util = load * 0.8 * 30.0 * explore.PLANNING_S
    se = sim_util.std(ddof=1) / math.sqrt(n)
    assert abs(float(d.hottest_head_utilization) - sim_util.mean()) < 5 * se + 1e-3
    # and the closed-form lower bound p_max + (1 - p_max)/H of consistency.head_load_distribution
    assert float(d.hottest_head_utilization) >= (0.7 + 0.3 / 3) * 0.8 * 30.0 * explore.PLANNING_S - 1e-9


def test_monotonic_reads_closed_form_and_zero_under_affinity(default):
    h, r, g = 3, explore.HEAD_REFRESH_S, explore.SESSION_GAP_S
    assert float(default.p_monotonic_violation) == pytest.approx((1 - 1 / h) * (r - g) ** 2 / (2 * r**2))
    assert float(explore.dashboard(routing_mode="by_session").p_monotonic_violation) == 0.0
    # head metadata age: U(0, 120] + 2 s refresh (seed 003 default period, 2 s assumed)
    assert float(default.weak_staleness_mean_s) == pytest.approx(120 / 2 + 2.0)


def test_raft_latencies_by_hand_from_the_rtt_csv():
    """3 voters, lease us-east1, cockroach demo RTTs: commit = 2nd fastest of fsync and acks."""
    default = explore.dashboard(fsync_ms=2.0, jitter_mean_ms=0.0)
    f, intra = 2.0, explore.INTRA_REGION_RTT_MS
    lh = "us-east1"
    commit = max(f, sorted(RTT.loc[lh, r] + f for r in RTT.index if r != lh)[0])  # q = 2: one follower ack
    hop = {c: (intra if c == lh else RTT.loc[c, lh]) for c in RTT.index}
    writes = [intra + hop[c] + commit for c in RTT.index]
    np.testing.assert_allclose(default.curves["write_ms"], writes)
    assert writes == [68.0, 133.0, 131.0]
    # the key write numbers are notebook 03's: a client in the leaseholder's region (no jitter here)
    assert float(default.write_latency_p50_ms) == float(default.write_latency_p99_ms) == 68.0
    assert float(default.read_latency_p50_ms) == float(default.read_latency_p99_ms) == 2 * intra
    lh_reads = explore.dashboard(read_path="leaseholder", fsync_ms=2.0)
    assert float(lh_reads.read_latency_p50_ms) == 65.0 and float(lh_reads.read_latency_p99_ms) == 67.0
    assert float(lh_reads.read_latency_mean_ms) == pytest.approx((2 + 67 + 65) / 3)
    # follower reads: every region holds a replica -> client -> local gateway -> local replica
    np.testing.assert_allclose(default.curves["read_mean_ms"], 2 * intra)
    np.testing.assert_allclose(default.curves["read_leaseholder_ms"], [intra + hop[c] for c in RTT.index])
    assert float(default.read_staleness_mean_s) == pytest.approx(4.2)  # CRDB-FollowerReads, v21.2+


def test_global_tables_pay_the_800_ms_lead_on_writes_and_read_locally():
    d = explore.dashboard(read_path="global", fsync_ms=2.0)
    intra = explore.INTRA_REGION_RTT_MS
    to_lh = {"us-east1": intra, "us-west1": 66.0, "europe-west1": 64.0}
    commit = 66.0
    expected = [intra + max(t + commit, t / 2 + 800.0) for t in to_lh.values()]
    np.testing.assert_allclose(d.curves["write_ms"], expected)
    np.testing.assert_allclose(d.curves["read_mean_ms"], 2 * intra)
    assert float(d.read_staleness_mean_s) == 0.0
    # the key write number (client in the leaseholder's region) waits out the lead too
    assert float(d.write_latency_p50_ms) == pytest.approx(intra + intra / 2 + 800.0)


def test_key_numbers_use_the_shared_metric_names(default):
    frame = default.key_numbers()
    assert list(frame.columns) == ["mechanism", "metric", "value", "unit"]
    shared = {"staleness_mean_s", "staleness_p99_s", "write_latency_p50_ms", "write_latency_p99_ms",
              "read_latency_p50_ms", "read_latency_p99_ms", "admin_utilization"}
    assert shared <= set(frame.metric)
    units = dict(zip(frame.metric, frame.unit))
    assert units["staleness_mean_s"] == "s" and units["write_latency_p50_ms"] == "ms"
    assert frame.value.notna().all()


def test_assumptions_are_listed_with_sources():
    a = explore.assumptions()
    assert set(a.name) == set(explore.MODEL_INPUTS) and {"planning_ms", "fsync_ms", "hot_database_share"} <= set(a.name)
    assert all(src == "assumed" or "Leibowitz2023" in src or "notebook" in src for src in a.source)
    assert not any("seed" in src for src in a.source)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"routing_mode": "by_databse"}, "routing_mode"),
        ({"heads": 0}, "heads"),
        ({"sync_period_s": -5.0}, "sync_period_s"),
        ({"weak_fraction": 1.5}, "weak_fraction"),
        ({"prefetch": "yes"}, "prefetch"),
        ({"read_path": "nearest"}, "read_path"),
        ({"leaseholder_region": "eastus"}, "leaseholder_region"),  # an Azure region, crdb-demo data
        ({"placement": "spread5"}, "placement"),  # 5 regions needed, 3 in crdb-demo
        ({"sync_periods": 60.0}, "sync_periods"),
    ],
)
def test_bad_settings_raise_value_error_naming_the_parameter(kwargs, name):
    with pytest.raises(ValueError, match=name):
        explore.dashboard(**kwargs)


# --- the figure ------------------------------------------------------------------------------
def test_dashboard_figure_has_titles_units_and_legends(default):
    import matplotlib.pyplot as plt

    fig = explore.draw_dashboard(default)
    try:
        axes = fig.axes
        assert len(axes) == 3
        for ax in axes:
            assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
            assert ax.get_legend() is not None and len(ax.get_legend().get_texts()) >= 2
        assert "(s)" in axes[0].get_xlabel() and "(ms)" in axes[2].get_ylabel()
        assert "/s" in axes[1].get_xlabel()
        assert [t.get_text() for t in axes[2].get_xticklabels()] == ["us-east1*", "us-west1", "europe-west1"]
    finally:
        plt.close(fig)


def test_new_grid_refuses_empty_grids():
    with pytest.raises(ValueError, match="nrows"):
        new_grid(0, 3)


# --- the widget ------------------------------------------------------------------------------
def test_explorer_controls_drive_the_dashboard():
    e = explore.Explorer()
    assert set(e.controls) == set(explore.DEFAULTS)
    first_png = e.image.value
    assert first_png[:8] == b"\x89PNG\r\n\x1a\n"
    assert "staleness_mean_s" in e.numbers.value

    e.controls["sync_period_s"].value = 300.0  # what moving the slider does
    assert float(e.result.follower_lag_mean_s) == pytest.approx(150 + 2 + 0.01 * 1.0 * 300)
    assert e.image.value != first_png

    e.controls["placement"].value = "spread5"  # needs 5 regions: crdb-demo has 3
    assert "placement" in e.error and "Not a valid setting" in e.message.value
    assert float(e.result.follower_lag_mean_s) == pytest.approx(155.0)  # the last valid result stays

    e.controls["rtt_data"].value = "azure"  # leaseholder choices follow the data set
    assert list(e.controls["leaseholder_region"].options)[0] == "eastus"
    assert e.error == "" and e.result.parameters["leaseholder_region"] == "eastus"
    assert e.result.parameters["placement"] == "spread5" and len(e.result.curves["regions"]) == 8


def test_explorer_refuses_bad_start_values():
    with pytest.raises(ValueError, match="heads"):
        explore.Explorer(heads=-1)


# --- the notebook mirrors the module ---------------------------------------------------------
def test_notebook_parameters_are_the_explorer_defaults():
    nb = nbformat.read(ROOT / "notebooks" / "00-explore.ipynb", as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    values = {node.target.id: ast.literal_eval(node.value) for node in ast.parse(cell.source).body
              if isinstance(node, ast.AnnAssign)}
    assert values.pop("output_dir") == ""
    assert values == explore.DEFAULTS


# --- Result HTML -----------------------------------------------------------------------------
@dataclass(frozen=True)
class _Demo(Result):
    mode: str
    rate_per_s: np.ndarray
    wait_s: np.ndarray


def test_result_html_one_configuration_is_a_field_value_table():
    r = _Demo("<random>", np.array(2.0), np.array(np.inf))
    html = r._repr_html_()
    assert "<th>field</th>" in html.replace(" ", "") or ">field<" in html
    assert html.index(">rate_per_s<") < html.index(">wait_s<")  # one row per field
    assert "&lt;random&gt;" in html and "<random>" not in html  # escaped
    assert ">inf<" in html and ">2<" in html
    assert "1 configuration)" in html


def test_result_html_many_configurations_shows_the_frame_and_to_frame_is_unchanged():
    r = _Demo("random", np.array([1.0, 2.0, 3.0]), np.array(0.123456))
    frame = r.to_frame()
    assert list(frame.columns) == ["rate_per_s", "wait_s"] and len(frame) == 3
    html = r._repr_html_()
    assert "3 configurations" in html and html.count("0.1235") == 3
    big = _Demo("random", np.arange(100.0), np.array(1.0))._repr_html_()
    assert "..." in big  # long results are truncated to 30 rows


def test_result_html_leaves_out_fields_declared_without_repr(default):
    html = default._repr_html_()
    assert "follower_lag_mean_s" in html and "32.6" in html
    assert "curves" not in html and "parameters =" not in html


def test_every_figure_module_uses_the_shared_style():
    """One look: each followerlab/plots/_<topic>.py builds its axes with the shared style."""
    modules = [p for p in (ROOT / "followerlab" / "plots").glob("_*.py") if p.name not in ("_style.py", "__init__.py")]
    assert modules
    for path in modules:
        text = path.read_text()
        assert "from ._style import" in text and "new_axes" in text, f"{path.name} does not use plots._style"


@pytest.mark.parametrize("mode", ["random", "by_database"])
def test_zero_weak_rate_is_quiet_and_gives_idle_heads(mode):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        d = explore.dashboard(routing_mode=mode, weak_fraction=0.0)
    assert float(d.hottest_head_utilization) == 0.0
    assert float(d.admin_utilization) == float(d.admin_utilization_strong)
