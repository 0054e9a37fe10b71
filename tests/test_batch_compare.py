"""Comparison helpers: Pareto front against a brute-force definition, wide tables, loading."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from followerlab.compare import load_results, pareto_by_group, pareto_front, wide_table


def brute_force_front(v):
    """The definition, one pair at a time: i is on the front if no j dominates it."""
    out = []
    for i in range(len(v)):
        if np.isnan(v[i]).any():
            out.append(False)
            continue
        dominated = any(
            not np.isnan(v[j]).any() and all(v[j] <= v[i]) and any(v[j] < v[i]) for j in range(len(v)) if j != i
        )
        out.append(not dominated)
    return np.array(out, dtype=bool)


values = st.sampled_from([0.0, 1.0, 2.0, 3.0, 5.0, np.inf, np.nan])


@settings(max_examples=200, deadline=None)
@given(arrays(float, st.tuples(st.integers(1, 12), st.integers(1, 4)), elements=values))
def test_pareto_front_matches_the_definition(v):
    assert np.array_equal(pareto_front(v), brute_force_front(v))


@settings(max_examples=100, deadline=None)
@given(arrays(float, st.tuples(st.integers(1, 15), st.integers(1, 3)),
              elements=st.floats(0, 100, allow_nan=False, allow_infinity=False)))
def test_every_point_off_the_front_is_dominated_by_one_on_it(v):
    front = pareto_front(v)
    assert front.any()  # a finite non-empty set has a minimal element
    for i in np.flatnonzero(~front):
        assert any((v[j] <= v[i]).all() and (v[j] < v[i]).any() for j in np.flatnonzero(front))


def test_pareto_front_maximize_and_errors():
    v = np.array([[1.0, 10.0], [2.0, 20.0]])
    assert pareto_front(v).tolist() == [True, False]
    assert pareto_front(v, maximize=[False, False]).tolist() == [True, False]
    assert pareto_front(v, maximize=[True, True]).tolist() == [False, True]
    assert pareto_front(v, maximize=[True, False]).tolist() == [True, True]
    with pytest.raises(ValueError, match="2-d array"):
        pareto_front([1.0, 2.0])
    with pytest.raises(ValueError, match="maximize must have one entry per objective"):
        pareto_front(v, maximize=[True])
    with pytest.raises(ValueError, match="values must be numbers"):
        pareto_front([["a", "b"]])


def long_table():
    rows = []
    for scen, stale, read in [("a", 1.0, 5.0), ("b", 2.0, 6.0), ("c", 0.0, 9.0)]:
        rows += [(scen, "nb1", "x", "staleness_mean_s", stale, "s"), (scen, "nb1", "x", "read_latency_p50_ms", read, "ms")]
    rows += [("d", "nb2", "w1", "write_latency_p50_ms", 70.0, "ms"), ("d", "nb2", "w2", "write_latency_p50_ms", 20.0, "ms"),
             ("d", "nb2", "r", "staleness_mean_s", 4.2, "s"), ("d", "nb2", "x", "custom", 1.0, "1")]
    return pd.DataFrame(rows, columns=["scenario", "notebook", "configuration", "metric", "value", "unit"])


def test_wide_table_and_pareto_by_group():
    wide = wide_table(long_table())
    assert list(wide.columns) == ["scenario", "notebook", "configuration", "staleness_mean_s",
                                  "read_latency_p50_ms", "write_latency_p50_ms", "custom"]
    assert len(wide) == 7
    flags = dict(zip(wide["scenario"] + "/" + wide["configuration"], pareto_by_group(wide)))
    # nb1: b is dominated by a; c is freshest. nb2: writes compared with writes only, w2 beats w1;
    # the read path and the row without any objective stand alone (the latter is never optimal)
    assert flags == {"a/x": True, "b/x": False, "c/x": True, "d/r": True, "d/w1": False,
                     "d/w2": True, "d/x": False}
    dup = pd.concat([long_table(), long_table().iloc[:1]])
    with pytest.raises(ValueError, match="duplicate rows"):
        wide_table(dup)


def test_load_results_checks_path_and_columns(tmp_path):
    good = tmp_path / "r.csv"
    long_table().to_csv(good, index=False)
    assert len(load_results(good)) == 10
    long_table().to_parquet(tmp_path / "r.parquet")
    assert len(load_results(tmp_path / "r.parquet")) == 10
    with pytest.raises(ValueError, match="results table not found"):
        load_results(tmp_path / "absent.csv")
    (tmp_path / "r.txt").write_text("x")
    with pytest.raises(ValueError, match="must end in .parquet or .csv"):
        load_results(tmp_path / "r.txt")
    long_table().drop(columns="unit").to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(ValueError, match=r"lacks the columns \['unit'\]"):
        load_results(tmp_path / "bad.csv")
