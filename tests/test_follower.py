"""Checks of followerlab.follower against the seed's examples, closed forms and the simulation.

Statistical tolerances: KS at alpha = 1e-3 on independent samples (one probe per sync cycle),
means within 4 standard errors, proportions within 4 binomial standard errors.
"""

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from followerlab._data import data_path
from followerlab.follower import (
    MAX_SHARING_ENTRIES, cache_cost, effective_caching, effective_principals, estimate_lag,
    fit_sync_model, parse_timespan_s, prefetch_tradeoff, select_entities, select_tables,
    split_faq_output, sync_lag, union_window, workload_read_latency,
)
from followerlab.sim.follower import simulate_follower

ALPHA = 1e-3
DAY = 86400.0
SEED_DB = ["tableA", "tableA2", "tableA_private", "tableB", "tableC", "tableD"]


# ---------------------------------------------------------------- 1-2 sync lag and prefetch
def test_prefetch_adds_warm_time_per_change_closed_form():
    no = sync_lag(60.0, 1.0, 0.001, 2.0)
    pf = sync_lag(60.0, 1.0, 0.001, 2.0, prefetch=True, bytes_per_change=50e6, warm_bandwidth_bytes_per_s=200e6)
    # 120 extents per sync x 50 MB at 200 MB/s = 30 s more per sync
    assert float(pf.mean_s - no.mean_s) == pytest.approx(30.0)
    assert float(pf.duration_s) == pytest.approx(1.0 + 0.12 + 30.0)
    # prefetch flag is vectorized
    both = sync_lag(60.0, 1.0, 0.001, 2.0, prefetch=np.array([False, True]), bytes_per_change=50e6,
                    warm_bandwidth_bytes_per_s=200e6)
    np.testing.assert_allclose(both.mean_s, [float(no.mean_s), float(pf.mean_s)])


def test_prefetch_lag_matches_simulation():
    P, d0, d1, m, size, bw = 60.0, 1.0, 0.001, 2.0, 20e6, 200e6
    cycles = 2000
    sim = simulate_follower(P, d0, d1, m, horizon_s=P * cycles, prefetch=True, bytes_per_change=size,
                            warm_bandwidth_bytes_per_s=bw, seed=31)
    t = (np.arange(10, cycles - 10) + np.random.default_rng(32).random(cycles - 20)) * P
    lag = sim.probe_lag_s(t)
    model = sync_lag(P, d0, d1, m, prefetch=True, bytes_per_change=size, warm_bandwidth_bytes_per_s=bw)
    assert stats.kstest(lag, model.cdf).pvalue > ALPHA
    assert stats.kstest(lag, sync_lag(P, d0, d1, m).cdf).pvalue < ALPHA  # the no-prefetch law is rejected


def test_prefetch_back_to_back_is_flagged():
    # 5 extents/s x 100 MB at 200 MB/s = 2.5 s of warming per second of ingest: unbounded
    r = sync_lag(60.0, 1.0, 0.0, 5.0, prefetch=True, bytes_per_change=100e6, warm_bandwidth_bytes_per_s=200e6)
    assert bool(r.unbounded) and np.isinf(r.mean_s)
    r = sync_lag(15.0, 10.0, 0.0, 5.0, prefetch=True, bytes_per_change=20e6, warm_bandwidth_bytes_per_s=200e6)
    assert bool(r.back_to_back) and float(r.effective_period_s) == pytest.approx(20.0)


def test_tradeoff_crossover_is_where_times_are_equal():
    base = dict(period_s=60.0, base_duration_s=1.0, duration_per_change_s=0.0, change_rate_per_s=1.0,
                warm_bandwidth_bytes_per_s=2e8, query_new_fraction=0.2, blob_latency_s=0.5)
    t = prefetch_tradeoff(bytes_per_change=1e6, **base)
    cross = float(t.crossover_ingest_bytes_per_s)
    assert 0 < cross < np.inf
    # ingest rate = m * bytes_per_change; at the crossover the two mean times agree
    at = prefetch_tradeoff(bytes_per_change=cross / 1.0, **base)
    assert float(at.time_to_answer_mean_s_on) == pytest.approx(float(at.time_to_answer_mean_s_off), rel=1e-9)
    below = prefetch_tradeoff(bytes_per_change=0.5 * cross, **base)
    above = prefetch_tradeoff(bytes_per_change=2.0 * cross, **base)
    assert bool(below.prefetch_better) and not bool(above.prefetch_better)
    # hand computation at 1 MB/extent: 60 MB per sync
    assert float(t.new_bytes_per_sync) == pytest.approx(60e6)
    assert float(t.first_query_s_off) == pytest.approx(0.5 + 0.2 * 60e6 / 2e8)
    assert float(t.first_query_s_on) == pytest.approx(0.001 + 0.2 * 60e6 / 2e9)
    assert float(t.lag_mean_s_on - t.lag_mean_s_off) == pytest.approx(60e6 / 2e8)


def test_newest_cold_probability_matches_simulation():
    """Background warm-up after each sync: share of time the newest extents are still cold."""
    P, d0, m, size, bw = 30.0, 1.0, 2.0, 20e6, 1e8  # 60 extents x 20 MB / 100 MB/s = 12 s of 30
    t = prefetch_tradeoff(P, d0, 0.0, m, bytes_per_change=size, warm_bandwidth_bytes_per_s=bw)
    sim = simulate_follower(P, d0, 0.0, m, horizon_s=P * 3000, seed=41)
    probes = np.random.default_rng(42).uniform(300.0, P * 2990, 4000)
    j = np.searchsorted(sim.sync_ends_s, probes, side="right") - 1
    cold = (probes - sim.sync_ends_s[j]) < sim.sync_changes[j] * size / bw
    p = float(t.newest_cold_probability_off)
    assert p == pytest.approx(0.4)
    assert abs(cold.mean() - p) < 4 * np.sqrt(p * (1 - p) / probes.size)


@settings(max_examples=50, deadline=None)
@given(P=st.floats(1.0, 600.0), d0=st.floats(0.0, 30.0), d1=st.floats(0.0, 0.05), m=st.floats(0.0, 10.0),
       size=st.floats(0.0, 1e8), bw=st.floats(1e6, 1e9), t=st.floats(0.0, 3000.0))
def test_prefetch_never_lowers_lag(P, d0, d1, m, size, bw, t):
    # property of the closed-form algebra (the overrun chain is checked in test_sync_overrun.py)
    no = sync_lag(P, d0, d1, m, method="closed form")
    pf = sync_lag(P, d0, d1, m, prefetch=True, bytes_per_change=size, warm_bandwidth_bytes_per_s=bw,
                  method="closed form")
    assert np.isinf(pf.mean_s) or float(pf.mean_s) >= float(no.mean_s) - 1e-9 * max(1.0, float(no.mean_s))
    if not (pf.back_to_back or no.back_to_back):
        assert float(pf.cdf(t)) <= float(no.cdf(t)) + 1e-9


@settings(max_examples=50, deadline=None)
@given(P=st.floats(1.0, 600.0), dP=st.floats(0.0, 600.0), d0=st.floats(0.0, 30.0), d1=st.floats(0.0, 0.05),
       m=st.floats(0.0, 10.0), dm=st.floats(0.0, 10.0))
def test_sync_lag_non_decreasing_in_period_and_change_rate(P, dP, d0, d1, m, dm):
    r = sync_lag([P, P + dP, P], d0, d1, [m, m, m + dm], method="closed form")
    a, b, c = r.mean_s
    assert np.isinf(b) or b >= a - 1e-9 * max(1.0, a)
    assert np.isinf(c) or c >= a - 1e-9 * max(1.0, a)


# ---------------------------------------------------------------- 3 caching
def test_seed_example_leader_1d_follower_90d():
    lead = effective_caching(["MyTable"], leader_database_hot="1d", kind="none", override_database_hot="90d")
    foll = effective_caching(["MyTable"], leader_database_hot="1d", override_database_hot="90d")
    assert lead.hot_span_s.tolist() == [DAY] and foll.hot_span_s.tolist() == [90 * DAY]
    assert foll.source == ("override database",)


def test_caching_kinds_empty_set_and_zero_days():
    tables = ["T1", "T2", "T3"]
    kw = dict(leader_database_hot="7d", leader_table_hot={"T2": "30d"})
    # none: override ignored
    e = effective_caching(tables, override_database_hot="1d", override_table_hot={"T3": "2d"}, kind="none", **kw)
    assert (e.hot_span_s / DAY).tolist() == [7, 30, 7]
    # union: override wins at the same level, a table policy beats a database one
    e = effective_caching(tables, override_database_hot="1d", override_table_hot={"T3": "2d"}, kind="union", **kw)
    assert (e.hot_span_s / DAY).tolist() == [1, 30, 2]
    assert e.source == ("override database", "leader table", "override table")
    # replace: the leader's policies are gone
    e = effective_caching(tables, override_database_hot="1d", override_table_hot={"T3": "2d"}, kind="replace", **kw)
    assert (e.hot_span_s / DAY).tolist() == [1, 1, 2]
    # replace with an empty override set: everything is cached
    e = effective_caching(tables, kind="replace", **kw)
    assert np.isinf(e.hot_span_s).all() and set(e.source) == {"none (all hot)"}
    # union with an empty override set: the leader's
    e = effective_caching(tables, kind="union", **kw)
    assert (e.hot_span_s / DAY).tolist() == [7, 30, 7]
    # database override 0d caches nothing (tables without their own override)
    e = effective_caching(tables, override_database_hot="0d", kind="replace", **kw)
    assert e.hot_span_s.tolist() == [0, 0, 0]
    e = effective_caching(tables, override_database_hot="0d", kind="union", **kw)
    assert (e.hot_span_s / DAY).tolist() == [0, 30, 0]
    # null leader policy: all hot
    assert np.isinf(effective_caching(["T"], kind="none").hot_span_s).all()
    assert len(e.to_frame()) == 3


def test_timespans():
    assert parse_timespan_s("12h") == 43200.0
    assert parse_timespan_s("00:05:00") == 300.0
    assert parse_timespan_s("0d") == 0.0
    assert parse_timespan_s(None) is None
    for bad in ("-1d", "1 week", "", True, float("nan"), -3.0):
        with pytest.raises(ValueError, match="hot"):
            parse_timespan_s(bad, "hot")


def test_caching_bad_input():
    with pytest.raises(ValueError, match="kind.*did you mean 'replace'"):
        effective_caching(["T"], kind="replce")
    with pytest.raises(ValueError, match="override_database_hot"):
        effective_caching(["T"], override_database_hot="ninety days")
    with pytest.raises(ValueError, match="override_table_hot.*not followed"):
        effective_caching(["T"], override_table_hot={"U": "1d"})
    with pytest.raises(ValueError, match="tables"):
        effective_caching("T")


def test_cache_cost_against_exponential_closed_form():
    mu = 5 * DAY
    n = 20000
    lookback = stats.expon(scale=mu).ppf((np.arange(n) + 0.5) / n)
    spans = np.array([0.0, DAY, 7 * DAY, 30 * DAY, np.inf])
    c = cache_cost(spans, 1e6, lookback, compression_ratio=8.0, retention_s=365 * DAY)
    # P(R > h) = E[(R-h)^+]/E[R] = exp(-h/mu) for an exponential range; midpoint-quantile grid
    # error is at most 1/n for the probability and O(log(n)/n) for the scan share
    np.testing.assert_allclose(c.cold_query_fraction, np.exp(-spans / mu), atol=1 / n)
    np.testing.assert_allclose(c.cold_scan_fraction, np.exp(-spans / mu), atol=10 / n)
    np.testing.assert_allclose(c.hot_bytes, [0.0, 1e6 * DAY / 8, 7e6 * DAY / 8, 30e6 * DAY / 8, 365e6 * DAY / 8])
    np.testing.assert_allclose(c.ssd_bytes_needed, c.hot_bytes / 0.95)
    with pytest.raises(ValueError, match="lookback_s"):
        cache_cost(DAY, 1e6, [])
    with pytest.raises(ValueError, match="compression_ratio"):
        cache_cost(DAY, 1e6, [1.0], compression_ratio=0.0)


def test_workload_read_latency_closed_forms():
    # one query type, all hot: latency = t0 + bR/R_ssd; half the time the newest data is cold
    r = workload_read_latency([3600.0], 86400.0, scan_bytes_per_s_of_range=1e5, base_latency_s=0.1,
                              ssd_throughput_bytes_per_s=1e9, blob_latency_s=0.05, blob_throughput_bytes_per_s=1e8,
                              newest_cold_probability=0.5, newest_cold_bytes=1e8)
    hot = 0.1 + 3.6e8 / 1e9
    extra = 0.05 + 1e8 * (1 / 1e8 - 1 / 1e9)
    assert float(r.p50_s) == pytest.approx(hot)
    assert float(r.p99_s) == pytest.approx(hot + extra)
    assert float(r.mean_s) == pytest.approx(hot + 0.5 * extra)
    # a mixture workload vs a brute-force weighted sample
    rng = np.random.default_rng(7)
    look = rng.exponential(2 * DAY, 2000)
    r = workload_read_latency(look, [DAY, 90 * DAY], scan_bytes_per_s_of_range=1e4)
    lat = 0.2 + 1e4 * np.minimum(look[:, None], [DAY, 90 * DAY]) / 2e9 \
        + 1e4 * np.maximum(look[:, None] - [DAY, 90 * DAY], 0) / 2e8 + 0.05 * (look[:, None] > [DAY, 90 * DAY])
    np.testing.assert_allclose(r.mean_s, lat.mean(0))
    np.testing.assert_allclose(r.p99_s, np.quantile(lat, 0.99, axis=0, method="inverted_cdf"))
    np.testing.assert_allclose(r.p50_s, np.quantile(lat, 0.5, axis=0, method="inverted_cdf"))


# ---------------------------------------------------------------- 4 principals
def test_principals_set_algebra():
    lead = {("admins", "aaduser=alice@contoso.com"), ("viewers", "aadgroup=analysts")}
    over = {("Viewers", "aadapp=dashboard"), ("viewers", "aadgroup=analysts")}
    none = effective_principals(lead, over, "none")
    union = effective_principals(lead, over, "union")
    repl = effective_principals(lead, over, "replace")
    assert none.principals == lead and not none.added and not none.removed
    assert union.principals == lead | {("viewers", "aadapp=dashboard")}
    assert union.added == {("viewers", "aadapp=dashboard")} and not union.removed
    assert repl.principals == {("viewers", "aadapp=dashboard"), ("viewers", "aadgroup=analysts")}
    assert repl.removed == {("admins", "aaduser=alice@contoso.com")}
    assert effective_principals(lead, [], "replace").principals == frozenset()
    assert len(union.to_frame()) == 3


@pytest.mark.parametrize("leader,override,kind,match", [
    ({("admins", "a")}, "viewers", "union", "override"),
    ({("admins",)}, set(), "union", "leader"),
    ({("admins", "")}, set(), "union", "leader"),
    ({("admins", "a")}, set(), "merge", "kind"),
])
def test_principals_bad_input(leader, override, kind, match):
    with pytest.raises(ValueError, match=match):
        effective_principals(leader, override, kind)


# ---------------------------------------------------------------- 5 table selection
def test_seed_examples():
    assert select_tables(SEED_DB, include=["tableA", "tableB", "tableC"]).tables == ("tableA", "tableB", "tableC")
    ex2 = select_tables(SEED_DB, exclude=["tableD", "tableE"])
    assert ex2.tables == ("tableA", "tableA2", "tableA_private", "tableB", "tableC")
    assert ex2.unmatched_exclude == ("tableE",)  # the seed excludes a table that does not exist
    ex3 = select_tables(SEED_DB, include=["tableA*", "tableB*"], exclude=["tableA_private"])
    assert ex3.tables == ("tableA", "tableA2", "tableB")


def test_seed_example_3_typo():
    """The seed's example 3 excludes 'tableAPrivate' but the table is 'tableA_private'.  Taken
    literally the exclusion matches nothing and tableA_private stays available, contradicting the
    stated result ('Only tableA, tableA2, tableB'): the seed has a typo, and the model reports
    the unmatched pattern instead of guessing."""
    literal = select_tables(SEED_DB, include=["tableA*", "tableB*"], exclude=["tableAPrivate"])
    assert literal.tables == ("tableA", "tableA2", "tableA_private", "tableB")
    assert literal.unmatched_exclude == ("tableAPrivate",)


def test_wildcards_and_exclude_wins():
    tabs = ["Logs", "LogsRaw", "MyLogs", "Users", "users_private"]
    assert select_tables(tabs, include=["*"]).tables == tuple(tabs)
    assert select_tables(tabs, include=[]).tables == tuple(tabs)
    assert select_tables(tabs, include=["*Logs*"]).tables == ("Logs", "LogsRaw", "MyLogs")
    assert select_tables(tabs, include=["*_private"]).tables == ("users_private",)
    assert select_tables(tabs, include=["Users"], exclude=["Users"]).tables == ()
    assert select_tables(tabs, exclude=["*"]).tables == ()
    assert select_tables(tabs, include=["logs"]).tables == ()  # case-sensitive


def test_entry_limit():
    tabs = [f"t{i}" for i in range(150)]
    assert len(select_tables(tabs, include=tabs[:60], exclude=tabs[60:100]).tables) == 60
    with pytest.raises(ValueError, match=f"at most {MAX_SHARING_ENTRIES} entries; got 101"):
        select_tables(tabs, include=tabs[:61], exclude=tabs[61:101])
    with pytest.raises(ValueError, match="at most 100 entries in all; got 101"):
        select_entities(tables=tabs, tables_to_include=tabs[:50], functions_to_exclude=[f"f{i}" for i in range(51)])


@pytest.mark.parametrize("include,match", [
    ("tableA", "include must be a list"),
    ([""], "include entries"),
    (["table[A]"], "include entries"),
    (["**"], "include entries"),
    ([3], "include entries"),
    (5, "include must be a list"),
])
def test_malformed_patterns(include, match):
    with pytest.raises(ValueError, match=match):
        select_tables(SEED_DB, include=include)


def test_select_entities_all_kinds_and_view_sources():
    s = select_entities(
        tables=["Logs", "LogsRaw", "Users"], external_tables=["ArchiveA", "ArchiveB"],
        materialized_views={"LogsByHour": "LogsRaw", "UsersDaily": "Users"},
        functions=["Top10", "Secret"],
        tables_to_include=["Logs"], external_tables_to_exclude=["*B"],
        materialized_views_to_include=["Logs*"], functions_to_exclude=["Secret", "Nope"])
    assert s.tables == ("Logs", "LogsRaw")
    assert s.added_source_tables == ("LogsRaw",)
    assert s.external_tables == ("ArchiveA",)
    assert s.materialized_views == ("LogsByHour",)
    assert s.functions == ("Top10",)
    assert s.unmatched == ("functions_to_exclude: Nope",)
    assert len(s.to_frame()) == 5
    with pytest.raises(ValueError, match="materialized_views.*not in tables"):
        select_entities(tables=["A"], materialized_views={"V": "B"})
    with pytest.raises(ValueError, match="tables has duplicate"):
        select_tables(["A", "A"])


# ---------------------------------------------------------------- 6 union window
def test_union_window_against_simulated_snapshot_ages():
    P, d0, d1, m = 60.0, 2.0, 0.01, 2.0  # sd(D) = 0.11 s: age law == lag law to << 1 se
    lag = sync_lag(P, d0, d1, m)
    sim = simulate_follower(P, d0, d1, m, horizon_s=P * 3000, seed=51)
    t = (np.arange(10, 2990) + np.random.default_rng(52).random(2980)) * P
    age = sim.snapshot_age_s(t)
    windows = np.array([0.0, 10.0, 30.0, 50.0, 300.0])
    u = union_window(lag, windows, 3600.0)
    for w, p, g in zip(windows, u.gap_probability, u.expected_gap_s):
        emp_p = np.mean(age > w)
        assert abs(emp_p - p) <= 4 * np.sqrt(max(p * (1 - p), 1e-12) / age.size) + 1e-12
        excess = np.maximum(age - w, 0.0)
        assert abs(excess.mean() - g) <= 4 * excess.std() / np.sqrt(age.size) + 1e-12
    assert u.expected_gap_s[0] == pytest.approx(float(lag.mean_s))
    assert u.expected_gap_s[-1] == pytest.approx(0.0, abs=1e-9) and u.gap_probability[-1] == 0.0
    np.testing.assert_allclose(u.freshness_gained_s, float(lag.mean_s) - u.expected_gap_s)
    np.testing.assert_allclose(u.leader_work_share, np.minimum(windows, 3600.0) / 3600.0)


def test_union_window_broadcast_and_bad_input():
    u = union_window(sync_lag([30.0, 120.0], 1.0), np.array([[0.0], [300.0]]), 86400.0)
    assert u.expected_gap_s.shape == (2, 2)
    with pytest.raises(ValueError, match="window_s"):
        union_window(sync_lag(30.0), -1.0, 10.0)
    with pytest.raises(ValueError, match="query_range_s"):
        union_window(sync_lag(30.0), 1.0, 0.0)
    with pytest.raises(ValueError, match="lag must be a RefreshLag"):
        union_window(30.0, 1.0, 10.0)


# ---------------------------------------------------------------- 7 lag from observations
def _faq_probes(seed=61, m=2.0, n=1500):
    P, d0, d1 = 60.0, 2.0, 0.05
    sim = simulate_follower(P, d0, d1, m, horizon_s=P * (n + 40), seed=seed)
    t = (np.arange(20, n + 20) + np.random.default_rng(seed + 1).random(n)) * P
    return sim, t, sync_lag(P, d0, d1, m)


def test_estimate_lag_from_simulated_faq_queries():
    sim, t, model = _faq_probes()
    e = estimate_lag(sim.max_ingestion_time_s(t, "leader"), sim.max_ingestion_time_s(t, "follower"))
    assert e.n == t.size and e.negative == 0
    # the snapshot age has the model's mean; the leader/follower ingestion gaps add zero-mean noise
    assert abs(e.mean_s - float(model.mean_s)) < 4 * e.std_s / np.sqrt(e.n)
    assert float(e.cdf(np.inf)) == 1.0


def test_estimate_lag_input_forms(tmp_path):
    start = pd.Timestamp("2026-01-01T00:00:00Z")
    probes = [start + pd.Timedelta(minutes=i) for i in range(4)]
    lead = pd.DataFrame({"probe_time": probes, "max_ingestion_time": [p - pd.Timedelta(seconds=1) for p in probes]})
    foll = pd.DataFrame({"probe_time": probes, "max_ingestion_time": [p - pd.Timedelta(seconds=s)
                                                                      for p, s in zip(probes, [31, 41, 51, 61])]})
    shuffled = foll.iloc[[2, 0, 3, 1]]
    e = estimate_lag(lead, shuffled)  # matched on probe_time, not position
    assert e.lag_s.tolist() == [30.0, 40.0, 50.0, 60.0]
    lead.to_csv(tmp_path / "l.csv", index=False)
    foll.to_csv(tmp_path / "f.csv", index=False)
    assert estimate_lag(tmp_path / "l.csv", str(tmp_path / "f.csv")).lag_s.tolist() == [30.0, 40.0, 50.0, 60.0]
    assert estimate_lag([100.0, 200.0], np.array([70.0, 140.0])).lag_s.tolist() == [30.0, 60.0]
    with pytest.raises(ValueError, match="probe_time values must match"):
        estimate_lag(lead, foll.iloc[:3])


@pytest.mark.parametrize("leader,follower,match", [
    ([], [], "leader_times is empty"),
    ([1.0], [], "follower_times is empty"),
    ([1.0, 2.0], [1.0], "same length"),
    ([1.0, np.nan], [1.0, 1.0], "leader_times has missing"),
    (["yesterday"], [1.0], "leader_times must hold datetimes"),
    (pd.DataFrame({"t": [1.0]}), [1.0], "leader_times needs a column"),
    ("/nonexistent/leader.csv", [1.0], "leader_times: no such file"),
])
def test_estimate_lag_bad_input(leader, follower, match):
    with pytest.raises(ValueError, match=match):
        estimate_lag(leader, follower)


def test_fit_recovers_sync_parameters():
    """Two ingest rates, 1000 probes each.  The fit's spread with this setup, measured over 20
    seeds (script in the report), is sd(P) = 0.43 s, sd(d0) = 0.70 s, sd(d1) = 0.0035 s/change;
    tolerance 4 sd.  The mean duration per group d0 + d1 m P is pinned better than d0, d1 alone."""
    P, d0, d1 = 60.0, 3.0, 0.02
    lags, rates = [], []
    for k, m in enumerate((1.0, 5.0)):
        sim = simulate_follower(P, d0, d1, m, horizon_s=P * 1100, seed=71 + k)
        t = np.random.default_rng(81 + k).uniform(1200.0, P * 1090, 1000)
        lags.append(sim.probe_lag_s(t))
        rates.append(np.full(t.size, m))
    fit = fit_sync_model(np.concatenate(lags), np.concatenate(rates))
    assert fit.period_s == pytest.approx(P, abs=4 * 0.43)
    assert fit.base_duration_s == pytest.approx(d0, abs=4 * 0.70)
    assert fit.duration_per_change_s == pytest.approx(d1, abs=4 * 0.0035)
    # the fitted mean lag of the fast-ingest group matches its sample mean within 4 se
    x, mm = np.concatenate(lags), np.concatenate(rates)
    assert abs(fit.period_s / 2 + fit.base_duration_s + fit.duration_per_change_s * 5 * fit.period_s
               - x[mm == 5].mean()) < 4 * x[mm == 5].std() / np.sqrt(1000)
    with pytest.raises(ValueError, match="lag_s"):
        fit_sync_model([1.0, 2.0], 1.0)
    with pytest.raises(ValueError, match="change_rate_per_s"):
        fit_sync_model(np.ones(20), -1.0)


def test_shipped_example_observations():
    path = data_path("follower", "follower-lag-example.csv")
    params = json.loads(data_path("follower", "follower-lag-example.json").read_text())
    lead, foll = split_faq_output(path, params["leader_url"], params["follower_url"])
    e = estimate_lag(lead, foll)
    assert e.n == 2 * params["probes_per_phase"] and e.negative == 0
    rates = lead.set_index("probe_time").loc[:, "change_rate_per_s"].sort_index().to_numpy()
    model = sync_lag(params["period_s"], params["base_duration_s"], params["duration_per_change_s"], rates)
    # per-probe model means: the sample mean must match their average within 4 se
    assert abs(e.mean_s - float(np.mean(model.mean_s))) < 4 * e.std_s / np.sqrt(e.n)
    with pytest.raises(ValueError, match="follower_url"):
        split_faq_output(path, params["leader_url"], "https://nope")


# ---------------------------------------------------------------- bad input, sync side
@pytest.mark.parametrize("kwargs,match", [
    (dict(period_s=-1.0), "period_s"),
    (dict(period_s=np.nan), "period_s"),
    (dict(period_s=60.0, change_rate_per_s=-2.0), "change_rate_per_s"),
    (dict(period_s=60.0, prefetch="yes"), "prefetch"),
    (dict(period_s=60.0, prefetch=True, bytes_per_change=-1.0), "bytes_per_change"),
    (dict(period_s=60.0, prefetch=True, warm_bandwidth_bytes_per_s=0.0), "warm_bandwidth_bytes_per_s"),
])
def test_sync_lag_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        sync_lag(**kwargs)


def test_simulation_bad_input():
    with pytest.raises(ValueError, match="horizon_s"):
        simulate_follower(60.0, horizon_s=-5.0)
    with pytest.raises(ValueError, match="period_s"):
        simulate_follower(0.0, horizon_s=5.0)
    with pytest.raises(ValueError, match="cluster"):
        simulate_follower(60.0, horizon_s=600.0, seed=1).max_ingestion_time_s([1.0], "primary")


def test_tradeoff_edge_cases_unbounded_and_idle():
    # the follower cannot keep up even without prefetch (d1 m = 2): inf, flagged, no exception
    t = prefetch_tradeoff(60.0, 2.0, 0.01, 200.0, bytes_per_change=2e6, warm_bandwidth_bytes_per_s=2e8)
    assert np.isinf(t.lag_mean_s_off) and float(t.newest_cold_probability_off) == 1.0
    r = workload_read_latency([3600.0, 7200.0], [86400.0, 86400.0], scan_bytes_per_s_of_range=1e4,
                              newest_cold_probability=[1.0, 0.0], newest_cold_bytes=float(t.new_bytes_per_sync))
    assert np.isinf(r.p99_s[0]) and np.isfinite(r.p99_s[1]) and np.isfinite(r.mean_s[1])
    # no ingest: nothing new to read cold, prefetch changes nothing
    t = prefetch_tradeoff(60.0, 2.0, 0.01, 0.0, bytes_per_change=2e6, warm_bandwidth_bytes_per_s=2e8)
    assert float(t.first_query_s_off) == float(t.first_query_s_on)
    assert float(t.time_to_answer_mean_s_off) == float(t.time_to_answer_mean_s_on)
    assert float(t.newest_cold_probability_off) == 0.0


def test_cache_cost_respects_retention():
    # Nothing older than the retention is stored, so a query reaches back at most min(R, ret):
    # with a 90-day hot span and 30-day retention nothing is cold (was: the 100-day query counted
    # as cold and 10/120 of the scan as cold); with a 7-day span the cold bytes are
    # (30 - 7) + (20 - 7) days of the (30 + 20) days scanned.
    c = cache_cost([90 * DAY, 7 * DAY], 1e6, [100 * DAY, 20 * DAY], retention_s=30 * DAY)
    np.testing.assert_allclose(c.cold_query_fraction, [0.0, 1.0])
    np.testing.assert_allclose(c.cold_scan_fraction, [0.0, 36.0 / 50.0])
    np.testing.assert_allclose(c.hot_bytes, [30e6 * DAY, 7e6 * DAY])


def test_union_window_with_an_unbounded_lag_gains_the_whole_window_without_nan():
    import warnings

    from followerlab import follower as fl

    lag = fl.sync_lag(60.0, 2.0, 1.0, 5.0)      # 1 s per change at 5 changes/s: syncs never catch up
    assert bool(lag.unbounded)
    with warnings.catch_warnings():
        warnings.simplefilter("error")           # no inf - inf RuntimeWarning
        u = fl.union_window(lag, [0.0, 300.0], 3600.0)
    assert u.freshness_gained_s.tolist() == [0.0, 300.0]       # E[min(A, W)] with A = inf
    assert np.all(np.isinf(u.expected_gap_s)) and u.gap_probability.tolist() == [1.0, 1.0]
