"""Initializers: the spread each one promises (Glorot & Bengio 2010; He et al. 2015)."""

import numpy as np
import pytest

from tinyrec import initializers


def test_glorot_uniform_bounds_and_variance():
    w = initializers.glorot_uniform((400, 200), np.random.default_rng(0))
    limit = np.sqrt(6 / 600)
    assert w.dtype == np.float32 and np.abs(w).max() <= limit
    assert np.isclose(w.var(), 2 / 600, rtol=0.05)  # U(-a, a) has variance a²/3 = 2/(fan_in+fan_out)


def test_he_uniform_variance():
    w = initializers.he_uniform((300, 300), np.random.default_rng(0), dtype=np.float64)
    assert w.dtype == np.float64 and np.isclose(w.var(), 2 / 300, rtol=0.05)


@pytest.mark.parametrize("name, expected_var", [("glorot_normal", 2 / 600), ("he_normal", 2 / 400)])
def test_truncated_normals_keep_the_intended_variance(name, expected_var):
    w = initializers.get(name)((400, 200), np.random.default_rng(0))
    std = np.sqrt(expected_var)
    assert np.abs(w).max() <= 2 * std / 0.87962566 + 1e-6  # truncated at two (pre-rescale) std
    assert np.isclose(w.var(), expected_var, rtol=0.05)


def test_constants_and_lookup():
    assert np.array_equal(initializers.get("zeros")((3,)), [0, 0, 0])
    assert np.array_equal(initializers.get("ones")((2, 2)), [[1, 1], [1, 1]])
    with pytest.raises(ValueError, match="valid names are: glorot_uniform"):
        initializers.get("xavier")


def test_arguments_are_checked_and_empty_shapes_work():
    # fans of 0 used to divide by zero (ZeroDivisionError); Keras takes each fan as at least 1
    assert initializers.he_normal((0, 3), np.random.default_rng(0)).shape == (0, 3)
    assert initializers.glorot_uniform((0, 0), 0).shape == (0, 0)
    assert np.array_equal(initializers.uniform((4,), 3), initializers.uniform((4,), 3))  # int seed
    with pytest.raises(ValueError, match=r"initializers.glorot_uniform: shape\[0\] must be"):
        initializers.glorot_uniform((-1, 3), 0)
    with pytest.raises(TypeError, match=r"initializers.he_uniform: shape\[1\] must be an integer"):
        initializers.he_uniform((2, True), 0)
    with pytest.raises(TypeError, match="initializers.ones: dtype must be a float type"):
        initializers.ones((2,), dtype=np.int64)


def test_unknown_name_suggests_the_closest():
    with pytest.raises(ValueError, match="did you mean 'glorot_uniform'"):
        initializers.get("glorot_unifrom")
