"""followerlab._stats.weighted_quantile against numpy's inverted-CDF quantile of repeated samples."""

import numpy as np
import pytest

from followerlab._stats import weighted_quantile


@pytest.mark.parametrize("seed", range(5))
def test_integer_weights_equal_quantile_of_repeated_values(seed):
    rng = np.random.default_rng(seed)
    values = rng.normal(size=7).round(2)
    counts = rng.integers(0, 6, size=7)
    counts[0] += 1
    q = np.array([0.0, 0.01, 0.25, 0.5, 0.9, 0.99, 1.0])
    expected = np.quantile(np.repeat(values, counts), q, method="inverted_cdf")
    assert np.array_equal(weighted_quantile(values, counts, q), expected)
    assert np.array_equal(weighted_quantile(values, counts / counts.sum(), q), expected)  # scale-free


def test_vectorized_along_an_axis_and_infinite_values():
    values = np.array([[1.0, 2.0, np.inf], [3.0, 1.0, 0.5]])        # axis 1 holds the support
    weights = np.array([[0.2, 0.79, 0.01], [0.5, 0.25, 0.25]])
    assert weighted_quantile(values, weights, 0.99, axis=1).tolist() == [2.0, 3.0]
    assert weighted_quantile(values, weights, 0.995, axis=1).tolist() == [np.inf, 3.0]
    assert weighted_quantile(values.T, weights.T, [0.5, 0.99]).shape == (2, 2)


def test_zero_weight_points_are_never_the_answer():
    assert float(weighted_quantile([5.0, 1.0, 9.0], [0.0, 1.0, 0.0], 0.99)) == 1.0
    assert float(weighted_quantile([5.0, 1.0, 9.0], [0.0, 1.0, 0.0], 1.0)) == 1.0


@pytest.mark.parametrize("values, weights, q, match", [
    ([1.0, np.nan], [0.5, 0.5], 0.5, "values"),
    ([1.0, 2.0], [0.5, -0.5], 0.5, "weights"),
    ([1.0, 2.0], [0.0, 0.0], 0.5, "positive sum"),
    ([1.0, 2.0], [0.5, 0.5], 1.5, "q must be"),
])
def test_bad_input_is_refused(values, weights, q, match):
    with pytest.raises(ValueError, match=match):
        weighted_quantile(values, weights, q)
