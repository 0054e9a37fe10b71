"""The fast Pareto mask equals the O(n²) reference followerlab.compare.pareto_front."""

import numpy as np
import pandas as pd
import pytest

from followerlab._pareto import _front_3, _front_k, pareto_mask
from followerlab.compare import pareto_front


def brute(v, maximize=None):
    """Plain double loop, independent of both vectorized versions."""
    v = np.array(v, dtype=float)
    if maximize is not None:
        v[:, np.asarray(maximize, bool)] *= -1
    n = len(v)
    out = np.zeros(n, bool)
    for i in range(n):
        if np.isnan(v[i]).any():
            continue
        out[i] = not any(
            not np.isnan(v[j]).any() and np.all(v[j] <= v[i]) and np.any(v[j] < v[i]) for j in range(n)
        )
    return out


def random_values(rng, n, k, levels):
    v = rng.integers(0, levels, size=(n, k)).astype(float)     # many ties and duplicate rows
    u = rng.random((n, k))
    v[u < 0.03] = np.inf
    v[(u > 0.03) & (u < 0.045)] = -np.inf
    v[u > 0.985] = np.nan
    return v


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
def test_equals_brute_force_small(k):
    rng = np.random.default_rng(k)
    for _ in range(30):
        n = int(rng.integers(1, 40))
        v = random_values(rng, n, k, int(rng.integers(1, 6)))
        maximize = rng.random(k) < 0.4
        np.testing.assert_array_equal(pareto_mask(v, ["max" if m else "min" for m in maximize]),
                                      brute(v, maximize))


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("levels", [3, 20, 10**9])
def test_equals_reference_pareto_front_on_random_data_with_ties(k, levels):
    """n = 3000 exercises the pre-filter and several blocks; small `levels` gives heavy ties."""
    rng = np.random.default_rng(100 * k + levels % 97)
    v = random_values(rng, 3000, k, levels)
    maximize = rng.random(k) < 0.5
    np.testing.assert_array_equal(pareto_mask(v, list(maximize)), pareto_front(v, maximize=maximize))


@pytest.mark.parametrize("k", [3, 4])
def test_anticorrelated_large_front(k):
    """Rows on a simplex-like surface: most are on the front (the hard case for filtering)."""
    rng = np.random.default_rng(9)
    x = rng.random((2000, k))
    x /= x.sum(axis=1, keepdims=True)
    x[::7] += 0.01                                   # some dominated rows
    np.testing.assert_array_equal(pareto_mask(x), pareto_front(x))
    assert pareto_mask(x).mean() > 0.5


def test_sweep_and_block_filter_alone_equal_reference():
    """The 3-objective sweep without the pre-filter, and the k-filter on 3 objectives."""
    rng = np.random.default_rng(3)
    v = random_values(rng, 1500, 3, 6)
    ok = ~np.isnan(v).any(axis=1)
    ref = pareto_front(v[ok])
    np.testing.assert_array_equal(_front_3(v[ok]), ref)
    np.testing.assert_array_equal(_front_k(v[ok], block=64), ref)


def test_duplicates_all_stay_and_nan_rows_excluded():
    v = [[1, 2], [1, 2], [2, 1], [2, 2], [np.nan, 0], [0, np.inf], [np.inf, np.inf]]
    assert pareto_mask(v).tolist() == [True, True, True, False, False, True, False]
    assert pareto_mask([[np.nan, 1]]).tolist() == [False]
    assert pareto_mask(np.empty((0, 3))).tolist() == []


def test_dataframe_input_and_bool_directions():
    df = pd.DataFrame({"lag_s": [1.0, 2.0, 3.0], "throughput": [1.0, 5.0, 4.0]})
    assert pareto_mask(df, ["min", "max"]).tolist() == [True, True, False]
    assert pareto_mask(df, [False, True]).tolist() == [True, True, False]
    assert pareto_mask(df, "max").tolist() == pareto_front(df.to_numpy(), maximize=[True, True]).tolist()


def test_bad_input():
    with pytest.raises(ValueError, match="2-d array"):
        pareto_mask([1, 2, 3])
    with pytest.raises(ValueError, match="one entry per objective"):
        pareto_mask([[1, 2]], ["min"])
    with pytest.raises(ValueError, match=r"directions\[1\] must be 'min' or 'max'"):
        pareto_mask([[1, 2]], ["min", "up"])
    with pytest.raises(ValueError, match="values must be numbers"):
        pareto_mask([["a", "b"]])
    with pytest.raises(ValueError, match="at least one objective"):
        pareto_mask(np.empty((3, 0)))


def test_large_random_front_is_fast_enough_and_sane():
    rng = np.random.default_rng(0)
    v = rng.random((200_000, 3))
    front = pareto_mask(v)
    idx = np.flatnonzero(front)
    assert 10 < len(idx) < 500
    # every front row is undominated by every row (checked against all rows, vectorized per row)
    for i in idx[:50]:
        assert not ((v <= v[i]).all(axis=1) & (v < v[i]).any(axis=1)).any()
