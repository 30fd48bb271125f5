"""The checker itself: it must pass correct gradients and catch wrong ones."""

import numpy as np
import pytest

from tinyrec import gradcheck
from tinyrec.layers import Dense, Dropout, Layer


class WrongDense(Dense):
    """Dense whose backward forgets to transpose-multiply correctly: dW off by a factor of 2."""

    def backward_from_logits(self, dz):
        dx = super().backward_from_logits(dz)
        self.grads["kernel"] *= 2.0
        return dx


class ForgetsBias(Dense):
    """Dense whose backward averages instead of summing the bias gradient over the batch."""

    def backward_from_logits(self, dz):
        dx = super().backward_from_logits(dz)
        self.grads["bias"] /= len(dz)
        return dx


def test_numerical_gradient_of_known_function():
    x = np.array([1.0, -2.0, 0.5])
    g = gradcheck.numerical_gradient(lambda: float(np.sum(x**3)), x)
    assert np.allclose(g, 3 * np.array([1.0, -2.0, 0.5]) ** 2, atol=1e-8)
    assert np.array_equal(x, [1.0, -2.0, 0.5])  # restored after perturbation


def test_relative_error():
    assert gradcheck.relative_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert np.isclose(gradcheck.relative_error([1.0, 4.0], [1.0, 3.0]), 1 / 4)
    assert gradcheck.relative_error([0.0], [0.0]) == 0.0


def test_catches_wrong_kernel_gradient():
    errors = gradcheck.check_layer(WrongDense(3), np.random.default_rng(0).standard_normal((4, 5)))
    assert errors["kernel"] > 0.1 and errors["input"] <= gradcheck.TOLERANCE


def test_catches_wrong_bias_gradient():
    errors = gradcheck.check_layer(ForgetsBias(3), np.random.default_rng(0).standard_normal((4, 5)))
    assert errors["bias"] > 0.1


def test_catches_wrong_input_gradient():
    class Twice(Layer):
        def forward(self, x, training=False):
            return 2 * x

        def backward(self, dy):
            return dy  # should be 2·dy

    assert gradcheck.check_layer(Twice(), np.ones((2, 2)))["input"] > 0.1


def test_requires_float64():
    layer = Dense(2)
    layer(np.zeros((1, 3), dtype=np.float32))
    with pytest.raises(TypeError, match="need float64"):
        gradcheck.check_layer(layer, np.zeros((1, 3)))


def test_dropout_mask_held_fixed():
    errors = gradcheck.check_layer(Dropout(0.5, seed=1), np.ones((3, 4)), training=True)
    assert errors["input"] <= gradcheck.TOLERANCE


def test_max_checks_samples_entries():
    errors = gradcheck.check_layer(Dense(30), np.random.default_rng(0).standard_normal((2, 40)), max_checks=10)
    assert max(errors.values()) <= gradcheck.TOLERANCE
