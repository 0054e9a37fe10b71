"""followerlab._prose: numbers and result tables as a reader sees them (no inf, nan or None)."""

import math

import pandas as pd
import pytest

from followerlab import _prose as P


@pytest.mark.parametrize("value, digits, text", [
    (32.6, 3, "32.6"), (20829.64, 3, "20830"), (0.00048, 3, "0.00048"), (0.30024, 4, "0.3002"),
    (1.0, 3, "1"), (0.0, 3, "0"), (-2.5, 3, "-2.5"), (math.inf, 3, "∞"), (math.nan, 3, "unavailable"),
])
def test_num_rounds_to_significant_digits_and_words_for_inf_nan(value, digits, text):
    assert P.num(value, digits) == text


def test_qty_pct_words():
    assert P.qty(math.inf, "ms") == "∞" and P.qty(72.356, "ms") == "72.4 ms"
    assert P.pct(0.744) == "74.4 %" and P.pct(math.nan) == "unavailable"
    assert P.words(True) == "yes" and P.words(0.0) == "no"


def _results(rows):
    return pd.DataFrame(rows, columns=["configuration", "metric", "value", "unit"])


def test_tables_group_configurations_by_their_metrics_without_nan_filler():
    r = _results([
        ("3 voters", "write_latency_p50_ms", 72.36, "ms"), ("3 voters", "admin_utilization", 0.25, "fraction"),
        ("ZONE", "write_latency_p50_ms", 6.156, "ms"), ("ZONE", "admin_utilization", math.inf, "fraction"),
        ("read follower", "read_latency_p50_ms", 2.0, "ms"), ("read follower", "staleness_mean_s", 4.2, "s"),
        ("read follower", "read_latency_p99_ms", 2.0, "ms"),
    ])
    text = P.results_table(r).data
    tables = text.split("\n\n")
    assert len(tables) == 2
    assert "write latency p50 (ms)" in tables[0] and "staleness" not in tables[0]
    assert "∞" in tables[0] and "72.36" in tables[0]
    assert "read follower" in tables[1] and "3 voters" not in tables[1]
    for bad in ("nan", "NaN", "None", "inf"):
        assert bad not in text.replace("∞", "")


def test_nearly_equal_metric_sets_share_a_table_with_not_applicable():
    metrics = ["staleness_mean_s", "staleness_p99_s", "read_latency_p99_ms", "admin_utilization"]
    rows = [("leader", m, 1.0, "1") for m in metrics]
    rows += [("follower", m, 2.0, "1") for m in metrics + ["first_query_latency_s"]]
    text = P.results_text(_results(rows))
    assert "\n\n" not in text.strip() and "not applicable" in text


def test_wide_tables_turn_metrics_down():
    rows = [(c, f"metric_{k}_s", float(k), "s") for c in ("a", "b") for k in range(8)]
    text = P.results_table(_results(rows), max_columns=6).data
    assert text.splitlines()[0].startswith("| metric | a | b |")


def test_frame_text():
    out = P.frame_text(pd.DataFrame({"mode": ["x"], "wait_s": [math.inf], "p": [math.nan], "ok": [False]}))
    assert "∞" in out and "unavailable" in out and "no" in out and "inf" not in out.replace("∞", "")
