"""Activations: values against their definitions, derivatives against finite differences (float64)."""

import numpy as np
import pytest

from tinyrec import activations
from tinyrec.gradcheck import TOLERANCE, check_activation

SHAPES = [(1, 1), (1, 5), (4, 3), (7, 10)]


@pytest.mark.parametrize("name", activations.NAMES)
@pytest.mark.parametrize("shape", SHAPES)
def test_backward_matches_finite_differences(name, shape):
    z = np.random.default_rng(1).standard_normal(shape) * 2
    if name in ("relu", "leaky_relu"):
        z[np.abs(z) < 1e-3] = 0.5  # keep finite differences away from the kink at 0
    assert check_activation(name, z) <= TOLERANCE


def test_values_match_definitions():
    z = np.array([[-2.0, -0.5, 0.0, 0.5, 3.0]])
    assert np.allclose(activations.sigmoid(z), 1 / (1 + np.exp(-z)))
    assert np.allclose(activations.tanh(z), (np.exp(z) - np.exp(-z)) / (np.exp(z) + np.exp(-z)))
    assert np.array_equal(activations.relu(z), [[0, 0, 0, 0.5, 3.0]])
    assert np.allclose(activations.leaky_relu(z), [[-0.6, -0.15, 0, 0.5, 3.0]])
    assert np.array_equal(activations.linear(z), z)
    p = activations.softmax(z)
    assert np.allclose(p, np.exp(z) / np.exp(z).sum())
    assert np.isclose(p.sum(), 1.0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_inputs_are_finite_without_warnings(dtype):
    z = np.array([[-1e4, -50.0, 0.0, 50.0, 1e4]], dtype=dtype)
    with np.errstate(over="raise", divide="raise", invalid="raise"):  # (underflow to 0 is exact here)
        s = activations.sigmoid(z)
        p = activations.softmax(z)
    assert s.dtype == dtype and p.dtype == dtype
    assert s[0, 0] == 0.0 and s[0, -1] == 1.0 and s[0, 2] == 0.5
    assert np.all(np.isfinite(p)) and np.isclose(p.sum(), 1.0) and p[0, -1] == 1.0


def test_sigmoid_keeps_relative_precision_of_small_probabilities():
    # σ(−20) = 1/(1+e^20) = 2.0611536181902e-09; a naive 1 − σ(20) form would give 0 in float32
    assert np.isclose(activations.sigmoid(np.float32(-20.0)), 2.0611536e-09, rtol=1e-5)


def test_get_by_name_and_errors():
    assert activations.get(None).name == "linear"
    assert activations.get("ReLU").name == "relu"
    assert activations.get(activations.tanh).name == "tanh"
    with pytest.raises(ValueError, match="valid names are: linear, sigmoid, tanh, relu"):
        activations.get("swishy")
    with pytest.raises(TypeError, match="no hand-written derivative"):
        activations.get(lambda z: z)


def test_non_real_input_and_empty_softmax_are_clear_errors():
    with pytest.raises(TypeError, match="activations.relu: z must be an array of real numbers"):
        activations.relu(np.array(["a"]))
    with pytest.raises(TypeError, match="activations.sigmoid: z must be an array of real numbers"):
        activations.sigmoid(np.array([1j]))
    with pytest.raises(ValueError, match="activations.softmax: the last axis"):
        activations.softmax(np.ones((2, 0)))
    assert np.allclose(activations.softmax([1.0, 1.0]), [0.5, 0.5])  # lists are fine


def test_unknown_name_suggests_the_closest():
    with pytest.raises(ValueError, match="did you mean 'sigmoid'"):
        activations.get("sigmod")
