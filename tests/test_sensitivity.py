"""Sobol' indices and Morris screening against functions with known indices, and SALib."""

import numpy as np
import pandas as pd
import pytest

from followerlab.sensitivity import ParameterRange, morris_screening, sobol_indices

A, B = 7.0, 0.1
PI = np.pi
ISHIGAMI_RANGES = {f"x{i}": (-PI, PI) for i in (1, 2, 3)}


def ishigami(p):
    x1, x2, x3 = p["x1"], p["x2"], p["x3"]
    return {"y": np.sin(x1) + A * np.sin(x2) ** 2 + B * x3 ** 4 * np.sin(x1)}


def ishigami_analytic():
    """Ishigami & Homma (1990): partial variances in closed form."""
    v1 = 0.5 * (1 + B * PI ** 4 / 5) ** 2
    v2 = A ** 2 / 8
    v13 = B ** 2 * PI ** 8 * (1 / 18 - 1 / 50)
    v = v1 + v2 + v13
    return np.array([v1, v2, 0.0]) / v, np.array([v1 + v13, v2, v13]) / v


def test_ishigami_analytic_values_are_the_published_ones():
    s1, st = ishigami_analytic()
    np.testing.assert_allclose(s1, [0.3139, 0.4424, 0.0], atol=1e-4)
    np.testing.assert_allclose(st, [0.5576, 0.4424, 0.2437], atol=1e-4)


@pytest.mark.parametrize("seed", [0, 1])
def test_ishigami_indices_within_0_005_at_n_8192(seed):
    # measured: max |error| 0.0015 (S1) and 0.0006 (ST) over seeds 0, 1, 2 at N = 8192
    s1, st = ishigami_analytic()
    res = sobol_indices(ishigami, ISHIGAMI_RANGES, n=8192, seed=seed)
    assert res.parameters == ("x1", "x2", "x3") and res.metrics == ("y",)
    np.testing.assert_allclose(res.S1[0], s1, atol=0.005)
    np.testing.assert_allclose(res.ST[0], st, atol=0.005)
    assert np.all(res.S1_low[0] <= res.S1[0]) and np.all(res.S1[0] <= res.S1_high[0])
    assert np.all(res.ST_low[0] <= st + 0.002) and np.all(st - 0.002 <= res.ST_high[0])
    # the bootstrap treats the quasi-random rows as i.i.d.: conservative (width ~0.06 for an
    # error < 0.002), but it must stay informative
    assert np.all(res.ST_high[0] - res.ST_low[0] < 0.1)
    assert res.n_evaluations == 8192 * 5 + 3 * 11 + 1
    assert res.ranking("y") == ["x1", "x2", "x3"]


def test_small_n_has_wider_intervals_than_large_n():
    small = sobol_indices(ishigami, ISHIGAMI_RANGES, n=256, seed=3)
    large = sobol_indices(ishigami, ISHIGAMI_RANGES, n=8192, seed=3)
    assert np.all(small.ST_high - small.ST_low > large.ST_high - large.ST_low)


def test_sobol_g_function_known_indices():
    """Sobol' G-function: V_i = 1 / (3 (1 + a_i)^2), S_i = V_i / V, S_Ti = V_i prod_{j != i}(1 + V_j) / V."""
    a = np.array([0.0, 1.0, 4.5, 9.0, 99.0])

    def g(p):
        x = np.stack([p[f"x{i}"] for i in range(len(a))], axis=1)
        return {"g": np.prod((np.abs(4 * x - 2) + a) / (1 + a), axis=1)}

    vi = 1 / (3 * (1 + a) ** 2)
    v = np.prod(1 + vi) - 1
    s1 = vi / v
    st = vi * np.prod(1 + vi) / (1 + vi) / v
    res = sobol_indices(g, {f"x{i}": (0, 1) for i in range(len(a))}, n=8192, seed=0)
    np.testing.assert_allclose(res.S1[0], s1, atol=0.01)
    np.testing.assert_allclose(res.ST[0], st, atol=0.01)


def test_linear_model_on_log_and_linear_ranges():
    """y = 2 u + log10(z), u ~ U(0, 3), z log-uniform on [1, 1000]: log10 z ~ U(0, 3), so
    Var(2u) = 4 * 9/12 = 3 and Var(log10 z) = 9/12 = 0.75: S = (0.8, 0.2), no interaction."""
    res = sobol_indices(lambda p: {"y": 2 * p["u"] + np.log10(p["z"])},
                        {"u": (0, 3), "z": (1, 1000, "logspace")}, n=4096, seed=0)
    np.testing.assert_allclose(res.S1[0], [0.8, 0.2], atol=0.005)
    np.testing.assert_allclose(res.ST[0], [0.8, 0.2], atol=0.005)
    # one-at-a-time sweep around the nominal point (3/2, geometric mean 31.6)
    np.testing.assert_allclose(res.nominal["z"], np.sqrt(1000))
    np.testing.assert_allclose(res.oat_max[0] - res.oat_min[0], [6.0, 3.0])
    np.testing.assert_allclose(res.nominal_output[0], 3.0 + 1.5)


def test_agrees_with_salib_on_the_same_design():
    """Same design in SALib's layout (A, AB_1..AB_k, B per row): SALib's estimates are ours."""
    salib_sobol = pytest.importorskip("SALib.analyze.sobol")
    from followerlab.sensitivity import _parse_ranges, _saltelli_design, _unit_to_params

    prs = _parse_ranges(ISHIGAMI_RANGES)
    n, k = 1024, 3
    a, b = _saltelli_design(k, n, 5)
    blocks = [a] + [np.where(np.arange(k) == i, b, a) for i in range(k)] + [b]
    x = np.stack(blocks, axis=1).reshape(-1, k)                         # row-interleaved
    y = ishigami(_unit_to_params(prs, x))["y"]
    problem = {"num_vars": k, "names": list(ISHIGAMI_RANGES), "bounds": [[-PI, PI]] * k}
    si = salib_sobol.analyze(problem, y, calc_second_order=False, seed=1)
    ours = sobol_indices(ishigami, ISHIGAMI_RANGES, n=n, seed=5)
    np.testing.assert_allclose(ours.S1[0], si["S1"], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours.ST[0], si["ST"], rtol=1e-9, atol=1e-12)


def test_seed_reproducible_and_changes_with_seed():
    r1 = sobol_indices(ishigami, ISHIGAMI_RANGES, n=256, seed=7)
    r2 = sobol_indices(ishigami, ISHIGAMI_RANGES, n=256, seed=7)
    r3 = sobol_indices(ishigami, ISHIGAMI_RANGES, n=256, seed=8)
    pd.testing.assert_frame_equal(r1.to_frame(), r2.to_frame())
    assert not np.allclose(r1.S1, r3.S1)
    m1 = morris_screening(ishigami, ISHIGAMI_RANGES, trajectories=10, seed=4)
    m2 = morris_screening(ishigami, ISHIGAMI_RANGES, trajectories=10, seed=4)
    pd.testing.assert_frame_equal(m1.to_frame(), m2.to_frame())


def test_model_called_once_with_all_samples():
    calls = []

    def model(p):
        calls.append(len(p["a"]))
        return pd.DataFrame({"y": p["a"] * p["b"], "z": p["a"]})

    res = sobol_indices(model, {"a": (1, 2), "b": (1, 2)}, n=64, oat_points=5)
    assert calls == [64 * 4 + 2 * 5 + 1]
    assert res.metrics == ("y", "z")
    np.testing.assert_allclose(res.S1[1], [1.0, 0.0], atol=0.01)    # z depends on a only
    assert res.ST[1, 1] == 0.0                                        # Jansen: exactly 0 for b
    morris_screening(model, {"a": (1, 2), "b": (1, 2)}, trajectories=6)
    assert calls[-1] == 6 * 3


def test_to_frame_columns():
    df = sobol_indices(ishigami, ISHIGAMI_RANGES, n=64).to_frame()
    assert list(df.columns[:8]) == ["metric", "parameter", "S1", "S1_low", "S1_high", "ST", "ST_low", "ST_high"]
    assert len(df) == 3


# --- Morris --------------------------------------------------------------------------------------

def test_morris_linear_model_exact():
    """For a linear model every elementary effect is coefficient × range: mu* exact, sigma 0."""
    res = morris_screening(lambda p: {"y": 10 * p["a"] - 3 * p["b"] + 0.5 * p["c"] + 0 * p["d"]},
                           {"a": (0, 1), "b": (0, 2), "c": (-1, 1), "d": (0, 5)}, trajectories=8, seed=2)
    np.testing.assert_allclose(res.mu_star[0], [10.0, 6.0, 1.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(res.mu[0], [10.0, -6.0, 1.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(res.sigma[0], 0.0, atol=1e-12)
    assert res.ranking("y") == ["a", "b", "c", "d"]


def test_morris_ranks_g_function_by_importance():
    a = np.array([99.0, 0.0, 9.0, 1.0])        # importance order: x1, x3, x2, x0

    def g(p):
        x = np.stack([p[f"x{i}"] for i in range(len(a))], axis=1)
        return {"g": np.prod((np.abs(4 * x - 2) + a) / (1 + a), axis=1)}

    res = morris_screening(g, {f"x{i}": (0, 1) for i in range(len(a))}, trajectories=40, seed=0)
    assert res.ranking("g") == ["x1", "x3", "x2", "x0"]
    assert np.all(res.mu_star_low[0] <= res.mu_star[0]) and np.all(res.mu_star[0] <= res.mu_star_high[0])


def test_morris_agrees_with_salib_on_the_same_trajectories():
    salib_morris = pytest.importorskip("SALib.analyze.morris")
    captured = {}

    def model(p):
        captured["x"] = np.stack([p["x1"], p["x2"], p["x3"]], axis=1)
        return ishigami(p)

    unit = {f"x{i}": (0, 1) for i in (1, 2, 3)}
    wrapped = lambda p: model({k: -PI + 2 * PI * v for k, v in p.items()})  # noqa: E731
    res = morris_screening(wrapped, unit, trajectories=12, levels=4, seed=3)
    x_unit = (captured["x"] + PI) / (2 * PI)
    y = ishigami({f"x{i}": captured["x"][:, i - 1] for i in (1, 2, 3)})["y"]
    problem = {"num_vars": 3, "names": list(unit), "bounds": [[0, 1]] * 3}
    si = salib_morris.analyze(problem, x_unit, y, num_levels=4, seed=1)
    np.testing.assert_allclose(res.mu_star[0], si["mu_star"], rtol=1e-9)
    np.testing.assert_allclose(res.sigma[0], si["sigma"], rtol=1e-9)


# --- non-finite outputs and bad input ------------------------------------------------------------

def saturating(p):
    rho = p["load"] / p["capacity"]
    with np.errstate(divide="ignore"):
        wait = np.where(rho < 1, rho / (1 - np.minimum(rho, 0.999999)), np.inf)
    return {"wait_s": wait, "other": p["load"]}


def test_infinite_outputs_refused_by_default_naming_the_metric():
    with pytest.raises(ValueError, match=r"metric 'wait_s' is infinite \(saturated\)"):
        sobol_indices(saturating, {"load": (0.5, 1.5), "capacity": (1, 2)}, n=64)


def test_infinite_outputs_indicator_policy_reports_and_analyses_saturation():
    res = sobol_indices(saturating, {"load": (0.5, 1.5), "capacity": (1, 2)}, n=1024, nonfinite="indicator")
    assert res.metrics == ("wait_s", "wait_s_saturated", "other")
    assert np.isnan(res.S1[0]).all() and np.isnan(res.ST[0]).all()
    # P(load >= capacity) for load ~ U(0.5, 1.5), capacity ~ U(1, 2): 1/8
    np.testing.assert_allclose(res.nonfinite_fraction[0], 0.125, atol=0.01)
    assert np.isfinite(res.S1[1]).all() and res.ranking("wait_s_saturated")[0] in ("load", "capacity")
    assert np.isfinite(res.S1[2]).all()
    m = morris_screening(saturating, {"load": (0.5, 1.5), "capacity": (1, 2)}, trajectories=10, nonfinite="indicator")
    assert np.isnan(m.mu_star[0]).all() and np.isfinite(m.mu_star[1]).all()


def test_nan_output_always_refused():
    with pytest.raises(ValueError, match="metric 'y' is NaN"):
        sobol_indices(lambda p: {"y": np.where(p["a"] > 0.5, np.nan, 1.0)}, {"a": (0, 1)}, n=64,
                      nonfinite="indicator")


@pytest.mark.parametrize("ranges, match", [
    ({"a": (1.0, 1.0)}, "range of 'a' must have low < high; got low=1.0, high=1.0"),
    ({"a": (2.0, 1.0)}, "range of 'a' must have low < high"),
    ({"a": (0.0, 1.0, "log")}, "log range of 'a' needs low > 0"),
    ({"a": (0.0, 1.0, "logarithmic")}, "scale of 'a' must be one of"),
    ({"a": (0.0,)}, r"ranges\['a'\] must be \(low, high\)"),
    ({"a": (0.0, np.nan)}, "high of 'a'"),
    ({}, "ranges must be a non-empty mapping"),
])
def test_bad_ranges(ranges, match):
    with pytest.raises(ValueError, match=match):
        sobol_indices(lambda p: {"y": p["a"]}, ranges, n=64)
    with pytest.raises(ValueError, match=match):
        morris_screening(lambda p: {"y": p["a"]}, ranges)


def test_bad_sizes_and_names():
    f = lambda p: {"y": p["a"]}  # noqa: E731
    with pytest.raises(ValueError, match="n must be >= 64; got 32"):
        sobol_indices(f, {"a": (0, 1)}, n=32)
    with pytest.raises(ValueError, match=r"n must be a power of two \(Sobol. sequence balance\); got 100"):
        sobol_indices(f, {"a": (0, 1)}, n=100)
    with pytest.raises(ValueError, match="trajectories must be >= 2; got 1"):
        morris_screening(f, {"a": (0, 1)}, trajectories=1)
    with pytest.raises(ValueError, match="levels must be even; got 5"):
        morris_screening(f, {"a": (0, 1)}, levels=5)
    with pytest.raises(ValueError, match="nominal names unknown parameter 'b'"):
        sobol_indices(f, {"a": (0, 1)}, n=64, nominal={"b": 1.0})
    with pytest.raises(ValueError, match="metric 'z' not among the model's outputs"):
        sobol_indices(f, {"a": (0, 1)}, n=64, metrics=["z"])
    with pytest.raises(ValueError, match="func must be vectorized"):
        sobol_indices(lambda p: {"y": np.ones(3)}, {"a": (0, 1)}, n=64)
    with pytest.raises(ValueError, match="nonfinite must be one of"):
        sobol_indices(f, {"a": (0, 1)}, n=64, nonfinite="drop")
    with pytest.raises(ValueError, match="metric must be one of"):
        sobol_indices(f, {"a": (0, 1)}, n=64).ranking("x")
    with pytest.raises(KeyError):       # the model itself asks for a parameter it was not given
        sobol_indices(lambda p: {"y": p["b"]}, {"a": (0, 1)}, n=64)


def test_parameter_range_objects_and_aliases():
    r = ParameterRange("x", 1.0, 100.0, "logspace")
    assert r.scale == "log" and r.nominal == pytest.approx(10.0)
    res = sobol_indices(lambda p: {"y": np.log(p["x"])}, {"x": r}, n=64)
    np.testing.assert_allclose(res.S1[0], [1.0], atol=0.01)
    with pytest.raises(ValueError, match="is a ParameterRange named 'x'"):
        sobol_indices(lambda p: {"y": p["x"]}, {"z": r}, n=64)


# --- tornado chart -------------------------------------------------------------------------------

def test_tornado_sorted_by_spread_with_units_and_total_indices(tmp_path):
    import matplotlib.pyplot as plt

    from followerlab.plots import tornado

    res = sobol_indices(lambda p: {"lag_s": p["period_s"] / 2 + p["d_s"] + 0 * p["x"]},
                        {"period_s": (10, 600, "log"), "d_s": (0, 5), "x": (0, 1)}, n=256)
    fig = tornado(res, "lag_s")
    ax = fig.axes[0]
    assert [t.get_text().split("\n")[0] for t in ax.get_yticklabels()] == ["x", "d_s", "period_s"]
    assert ax.get_xlabel() == "lag_s (s)"
    texts = [t.get_text() for t in ax.texts]
    assert any(t.startswith("S_T 0.99") or t.startswith("S_T 1.00") for t in texts)
    fig.savefig(tmp_path / "t.png")
    plt.close(fig)
    # a saturating metric under the indicator policy: drawn clipped, flagged
    sat = sobol_indices(saturating, {"load": (0.5, 1.5), "capacity": (1, 2)}, n=64, nonfinite="indicator")
    fig = tornado(sat, "wait_s")
    assert any("saturates" in t.get_text() for t in fig.axes[0].texts)
    plt.close(fig)
    with pytest.raises(ValueError, match="metric must be one of"):
        tornado(res, "lag_ms")


# --- the models' assumed parameters --------------------------------------------------------------

def test_follower_lag_sensitivity_period_dominates_when_changes_are_few():
    from followerlab.sensitivity import follower_lag_sensitivity

    res = follower_lag_sensitivity({"change_rate_per_s": (0.001, 0.01, "log")}, n=512)
    assert res.metrics == ("lag_mean_s", "lag_p99_s")
    for m in res.metrics:
        assert res.ranking(m)[0] == "period_s"
        assert res.ST[res.metrics.index(m), 0] > 0.9
    # the tornado bar of the period: mean lag ~ P/2 + d0 + ..., P over 10..600 s
    assert res.oat_max[0, 0] - res.oat_min[0, 0] == pytest.approx((600 - 10) / 2, rel=0.01)


def test_follower_lag_sensitivity_changes_dominate_with_a_fixed_period_and_busy_ingestion():
    """P fixed near 100 s, d0 near 1 s, m*d1*P up to 10 s: the per-change terms lead, and
    d1 and m (a product) interact: their S_T exceeds their S1."""
    from followerlab.sensitivity import follower_lag_sensitivity

    res = follower_lag_sensitivity({"period_s": (100, 101), "base_duration_s": (1, 1.1),
                                    "change_rate_per_s": (1, 10, "log"), "duration_per_change_s": (1e-3, 1e-2, "log")},
                                   n=1024)
    top = set(res.ranking("lag_mean_s")[:2])
    assert top == {"change_rate_per_s", "duration_per_change_s"}
    i = res.parameters.index("change_rate_per_s")
    assert res.ST[0, i] > res.S1[0, i] + 0.01


def test_admin_load_sensitivity_sane():
    from followerlab.sensitivity import admin_load_sensitivity

    res = admin_load_sensitivity(n=512)
    assert res.metrics == ("admin_utilization", "admin_mean_response_s", "admin_p99_response_s")
    cv = res.parameters.index("planning_cv")
    assert res.ST[0, cv] == 0.0                          # utilization does not depend on the CV
    assert res.ST[2, cv] > 0.01                          # the p99 response does
    assert set(res.ranking("admin_utilization")[:2]) == {"weak_fraction", "planning_s"}
    assert (res.nonfinite_fraction == 0).all()
    # a higher rate saturates some configurations: reported, not hidden
    hot = admin_load_sensitivity(query_rate_per_s=20, n=256)
    assert "admin_mean_response_s_saturated" in hot.metrics
    assert hot.nonfinite_fraction[hot.metrics.index("admin_mean_response_s")] > 0


def test_model_analyses_refuse_unknown_parameters():
    from followerlab.sensitivity import admin_load_sensitivity, follower_lag_sensitivity

    with pytest.raises(ValueError, match="unknown parameter 'period'; the model's parameters are"):
        follower_lag_sensitivity({"period": (1, 2)})
    with pytest.raises(ValueError, match="range of 'planning_s' must have low < high"):
        admin_load_sensitivity({"planning_s": (0.1, 0.01)})
    with pytest.raises(ValueError, match="query_rate_per_s must be >= 0"):
        admin_load_sensitivity(query_rate_per_s=-1)


def test_morris_log_range_steps_on_the_log_scale():
    """z log-uniform on [1, 1000]: y = log10(z) is linear in the unit-scaled log, EE = 3 exactly."""
    res = morris_screening(lambda p: {"y": np.log10(p["z"]) + p["u"]}, {"z": (1, 1000, "log"), "u": (0, 1)},
                           trajectories=5, seed=1)
    np.testing.assert_allclose(res.mu_star[0], [3.0, 1.0], rtol=1e-12)
    np.testing.assert_allclose(res.sigma[0], [0.0, 0.0], atol=1e-12)


# --- raft_latency_sensitivity ----------------------------------------------------------------

from followerlab import raft  # noqa: E402
from followerlab.configuration import round_trip_jitter  # noqa: E402
from followerlab.sensitivity import (  # noqa: E402
    RAFT_LATENCY_RANGES, _kth_fastest_quantile_ms, leading_assumptions, raft_latency_sensitivity,
)

RTT = raft.load_rtt("azure-rtt-p50-2025-06.csv")
DEPLOY = ["eastus", "westus2", "uksouth"]


@pytest.mark.parametrize("name", ["3 voters 1-1-1", "REGION 5 voters 2-2-1", "ZONE 3 voters"])
@pytest.mark.parametrize("fsync, intra, jitter", [(1.0, 1.0, 2.0), (17.3, 0.2, 0.0), (0.1, 2.0, 9.5)])
def test_write_quantiles_match_the_order_statistic_of_the_raft_module(name, fsync, intra, jitter):
    """The vectorized Poisson-binomial bisection against latency.order_statistic (raft's own law)."""
    plc = raft.placement_layouts(RTT, "eastus", DEPLOY)[name]
    res = raft_latency_sensitivity(RTT, plc, n=64, bootstrap=10, oat_points=2,
                                   nominal={"fsync_ms": fsync, "intra_region_rtt_ms": intra, "jitter_mean_ms": jitter})
    dist = raft.write_latency_distribution(RTT, plc, "eastus", fsync, link_jitter=round_trip_jitter(jitter),
                                           intra_region_rtt_ms=intra)
    for q, metric in [(0.5, "write_latency_p50_ms"), (0.99, "write_latency_p99_ms")]:
        got = res.nominal_output[res.metrics.index(metric)]
        assert got == pytest.approx(float(dist.ppf(q)), abs=1e-6), (name, q)


def test_kth_fastest_quantile_without_jitter_is_the_deterministic_commit():
    links = np.array([[30.0, 70.0, 71.0, 150.0]] * 3)
    for k, want in [(1, 30.0), (2, 70.0), (4, 150.0)]:
        np.testing.assert_allclose(_kth_fastest_quantile_ms(0.99, links, k, np.zeros(3)), want, rtol=1e-12)


def test_kth_fastest_quantile_tail_against_a_closed_form():
    # one follower, Gamma(2, j) jitter: P(J > x) = (1 + x/j) e^{-x/j}; at x = j * 6.6384994 it is 0.01
    j = np.array([0.5, 3.0, 10.0])
    got = _kth_fastest_quantile_ms(0.99, np.full((3, 1), 40.0), 1, j)
    np.testing.assert_allclose(got, 40.0 + 6.638352067993813 * j, rtol=1e-9)
    from scipy import stats
    np.testing.assert_allclose(got, 40.0 + stats.gamma(2, scale=j).ppf(0.99), rtol=1e-9)


def test_raft_utilization_is_write_loads_closed_form():
    plc = raft.placement_layouts(RTT, "eastus", DEPLOY)["REGION 5 voters 2-2-1"]
    nominal = {"per_append_ms": 2.5, "per_follower_ms": 0.37}
    res = raft_latency_sensitivity(RTT, plc, write_rate_per_s=333.0, batch=4, n=64, bootstrap=10, oat_points=2,
                                   nominal=nominal)
    want = raft.write_load(333.0, 5, 50.0, batch=4, per_append_ms=2.5, per_follower_ms=0.37).admin_utilization
    assert res.nominal_output[res.metrics.index("admin_utilization")] == pytest.approx(float(want), rel=1e-12)
    # fsync and the closed-timestamp settings do not enter the utilization: S_T exactly 0
    a = res.metrics.index("admin_utilization")
    for p in ("fsync_ms", "jitter_mean_ms", "target_duration_s"):
        assert res.ST[a, res.parameters.index(p)] == 0.0


def test_raft_sensitivity_rankings_and_speed():
    import time
    plc = raft.spread_placement(RTT, "eastus", DEPLOY)
    t0 = time.perf_counter()
    res = raft_latency_sensitivity(RTT, plc, "uksouth", n=256)
    took = time.perf_counter() - t0
    assert took < 1.0, f"{took:.2f} s"          # measured about 0.25 s on the project machine
    assert res.n_evaluations == 256 * 9 + 7 * 11 + 1
    # the closed-timestamp target drives a bounded read's staleness; append cost the leader's load
    assert res.ranking("staleness_mean_s")[0] == "target_duration_s"
    assert res.ranking("admin_utilization")[0] == "per_append_ms"
    # the in-region RTT moves neither the leader load nor the staleness
    for metric in ("admin_utilization", "staleness_mean_s"):
        assert res.ST[res.metrics.index(metric), res.parameters.index("intra_region_rtt_ms")] == 0.0
    lead = leading_assumptions(res).set_index("metric")
    assert lead.loc["staleness_mean_s", "parameter"] == "target_duration_s"
    # staleness = min(A, bound) with A = T + U I + d: over T in [1, 5] at bound 5 its spread is < 4 s
    assert 0 < lead.loc["staleness_mean_s", "spread"] < 4.0


def test_raft_sensitivity_refuses_bad_input():
    plc = raft.spread_placement(RTT, "eastus", DEPLOY)
    with pytest.raises(ValueError, match="unknown parameter 'fsync_s'"):
        raft_latency_sensitivity(RTT, plc, ranges={"fsync_s": (1, 2)}, n=64)
    with pytest.raises(ValueError, match="read_region 'mars'"):
        raft_latency_sensitivity(RTT, plc, "mars", n=64)
    with pytest.raises(ValueError, match="write_rate_per_s"):
        raft_latency_sensitivity(RTT, plc, write_rate_per_s=-1.0, n=64)
    with pytest.raises(ValueError, match="placement must be"):
        raft_latency_sensitivity(RTT, "eastus", n=64)
    assert set(RAFT_LATENCY_RANGES) == set(raft_latency_sensitivity(RTT, plc, n=64, bootstrap=10).parameters)


def test_leading_assumptions_skips_saturated_metrics_and_picks_the_largest_total_index():
    res = sobol_indices(lambda p: {"y": p["a"] + 3 * p["b"], "z": np.where(p["a"] > 0.5, np.inf, p["b"])},
                        {"a": (0, 1), "b": (0, 1)}, n=256, nonfinite="indicator")
    lead = leading_assumptions(res).set_index("metric")
    assert "z" not in lead.index and lead.loc["z_saturated", "parameter"] == "a"
    assert lead.loc["y", "parameter"] == "b" and lead.loc["y", "spread"] == pytest.approx(3.0)
