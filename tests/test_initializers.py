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
