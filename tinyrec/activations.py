"""Activation functions (激活函数) and their derivatives.

Each activation is a pair of functions written next to each other:

* ``forward``:  ``y = f(z)``, element-wise for all but softmax; ``z`` and ``y`` have the same shape.
* ``backward``: given the upstream gradient ``dy = dL/dy``, return ``dz = dL/dz``.  It receives both the
  input ``z`` and the output ``y`` because most derivatives are cheapest in terms of the output
  (``σ' = y(1 − y)``, ``tanh' = 1 − y²``), and nothing has to be recomputed.

The functions are usable on their own (``tinyrec.activations.relu(z)``), by name in a layer
(``Dense(32, activation="relu")``) and as a layer (``tinyrec.layers.Activation("relu")``).

Shapes: ``z, y, dy, dz`` all ``(batch, units)`` (any shape for the element-wise ones).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from ._checks import unknown_name


def _real(fn, z):
    """``z`` as an array of real numbers, or a TypeError naming the activation (O(1): only the dtype is read).

    Strings, objects and complex numbers are refused (a complex ``z`` would make ``relu`` compare complex
    numbers, and booleans cannot be negated); NaN is left alone: the model's NaN guard reports it.
    """
    z = np.asarray(z)
    if z.dtype.kind not in "fiu":
        raise TypeError(f"activations.{fn}: z must be an array of real numbers; got dtype {z.dtype}.")
    return z


# --- linear -------------------------------------------------------------------------------------
def linear(z):
    """``f(z) = z``: the identity, used for regression outputs and logits."""
    return _real("linear", z)


def linear_backward(dy, z, y):
    """``f'(z) = 1``, so ``dz = dy``."""
    return dy


# --- sigmoid ------------------------------------------------------------------------------------
def sigmoid(z):
    """``σ(z) = 1 / (1 + e^{-z})``, squashing any real number into (0, 1): a probability.

    Computed as ``σ(z) = exp(−log(1 + e^{−z})) = exp(−logaddexp(0, −z))``: ``np.logaddexp`` evaluates
    ``log(e^a + e^b)`` without overflow, so ``z = ±1e4`` gives exactly 1.0 / 0.0 with no NumPy warning,
    and small probabilities such as ``σ(−20) ≈ 2.06e-9`` keep full relative precision.
    """
    z = _real("sigmoid", z)
    return np.exp(-np.logaddexp(0, -z))


def sigmoid_backward(dy, z, y):
    """``σ'(z) = σ(z)(1 − σ(z))``, so ``dz = dy · y · (1 − y)``."""
    return dy * y * (1.0 - y)


# --- tanh ---------------------------------------------------------------------------------------
def tanh(z):
    """``tanh(z) = (e^{z} − e^{-z}) / (e^{z} + e^{-z})``, in (−1, 1), zero-centred."""
    return np.tanh(_real("tanh", z))


def tanh_backward(dy, z, y):
    """``tanh'(z) = 1 − tanh²(z)``, so ``dz = dy · (1 − y²)``."""
    return dy * (1.0 - y * y)


# --- ReLU ---------------------------------------------------------------------------------------
def relu(z):
    """``ReLU(z) = max(0, z)``: the default hidden activation of modern networks."""
    return np.maximum(_real("relu", z), 0)


def relu_backward(dy, z, y):
    """``ReLU'(z) = 1 if z > 0 else 0`` (we take 0 at the kink z = 0), so ``dz = dy · [z > 0]``."""
    return dy * (z > 0)


# --- leaky ReLU ---------------------------------------------------------------------------------
LEAKY_SLOPE = 0.3  # Keras' default negative slope for LeakyReLU


def leaky_relu(z, negative_slope=LEAKY_SLOPE):
    """``f(z) = z if z > 0 else a·z`` with ``a = 0.3`` (Keras' default): negative inputs still pass a gradient."""
    z = _real("leaky_relu", z)
    return np.where(z > 0, z, negative_slope * z)


def leaky_relu_backward(dy, z, y, negative_slope=LEAKY_SLOPE):
    """``f'(z) = 1 if z > 0 else a``, so ``dz = dy · (1 if z > 0 else a)``."""
    return np.where(z > 0, dy, negative_slope * dy)


# --- softmax ------------------------------------------------------------------------------------
def softmax(z):
    """``softmax(z)_j = e^{z_j} / Σ_k e^{z_k}`` over the last axis: turns scores into a distribution.

    Subtracting the row maximum first changes nothing mathematically (it cancels between numerator
    and denominator) but keeps every exponent ≤ 0, so large scores cannot overflow.
    """
    z = _real("softmax", z)
    if z.ndim and z.shape[-1] == 0:
        raise ValueError(f"activations.softmax: the last axis (the classes) is empty; got shape {z.shape}.")
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def softmax_backward(dy, z, y):
    """Vector–Jacobian product of softmax, per row.

    The Jacobian is ``∂y_j/∂z_i = y_j(δ_ij − y_i)``, so
    ``dz_i = Σ_j dy_j · y_j(δ_ij − y_i) = y_i · (dy_i − Σ_j dy_j y_j)``.
    Shapes: ``dy, y, dz`` are ``(batch, classes)``; the sum runs over the classes of each row.
    """
    return y * (dy - np.sum(dy * y, axis=-1, keepdims=True))


class ActivationFunction(NamedTuple):
    """An activation's name, its forward function ``y = f(z)`` and its backward ``dz = g(dy, z, y)``."""

    name: str
    forward: Callable
    backward: Callable


_REGISTRY = {
    "linear": ActivationFunction("linear", linear, linear_backward),
    "sigmoid": ActivationFunction("sigmoid", sigmoid, sigmoid_backward),
    "tanh": ActivationFunction("tanh", tanh, tanh_backward),
    "relu": ActivationFunction("relu", relu, relu_backward),
    "leaky_relu": ActivationFunction("leaky_relu", leaky_relu, leaky_relu_backward),
    "softmax": ActivationFunction("softmax", softmax, softmax_backward),
}

#: Names accepted by ``get`` and by ``activation=`` arguments.
NAMES = tuple(_REGISTRY)


def get(identifier) -> ActivationFunction:
    """Look up an activation by name (``None`` means linear, as in Keras) or pass one through.

    Accepts a name such as ``"relu"``, ``None``, an ``ActivationFunction``, or a plain forward
    function that is registered here (e.g. ``tinyrec.activations.relu``). A custom callable without
    a derivative cannot be used, because every backward pass here is written by hand.
    """
    if identifier is None:
        return _REGISTRY["linear"]
    if isinstance(identifier, ActivationFunction):
        return identifier
    if isinstance(identifier, str):
        key = identifier.lower()
        if key in _REGISTRY:
            return _REGISTRY[key]
        raise unknown_name("activation", identifier, NAMES)
    for act in _REGISTRY.values():
        if identifier is act.forward:
            return act
    raise TypeError(
        f"activation must be a name ({', '.join(NAMES)}), None or an ActivationFunction(name, forward, "
        f"backward); got {identifier!r}. A bare function has no hand-written derivative."
    )
