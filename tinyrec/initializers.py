"""Weight initializers: the starting point of gradient descent.

Each takes ``(shape, rng, dtype)`` and returns a new array. For a kernel of shape ``(fan_in, fan_out)``:

==================  =====================================================  ============================
name                distribution                                           why
==================  =====================================================  ============================
``glorot_uniform``  U(−a, a), ``a = sqrt(6 / (fan_in + fan_out))``         keeps activation variance
``glorot_normal``   N(0, s²) truncated at 2s, ``s = sqrt(2/(fan_in+fan_out))``  roughly equal across layers
``he_uniform``      U(−a, a), ``a = sqrt(6 / fan_in)``                     the same for ReLU, which
``he_normal``       N(0, s²) truncated at 2s, ``s = sqrt(2 / fan_in)``     zeroes half its inputs
``uniform``         U(−0.05, 0.05)                                         embeddings (Keras' default)
``random_normal``   N(0, 0.05²)                                            embeddings
``zeros``/``ones``  constants                                              biases
``orthogonal``      rows (or columns) orthonormal: Q of a QR of a normal    recurrent kernels: ``h·U``
                    matrix (Saxe et al. 2014; Keras' recurrent default)    neither grows nor shrinks h
==================  =====================================================  ============================

Glorot & Bengio (2010), "Understanding the difficulty of training deep feedforward neural networks";
He et al. (2015), "Delving Deep into Rectifiers". Keras' defaults: ``glorot_uniform`` kernels, ``zeros`` biases.
Keras draws the normal variants from a normal truncated at two standard deviations and rescales the
standard deviation by 1/0.87962566 so the truncated draw keeps the intended variance; we do the same.
"""

from __future__ import annotations

import numbers

import numpy as np

from ._checks import as_rng, integer, unknown_name

# Standard deviation of a unit normal truncated to [-2, 2]; dividing by it restores unit variance.
_TRUNCATED_STD = 0.87962566103423978


def _shape(owner, shape):
    """``shape`` as a tuple of ints >= 0 (an int ``n`` means ``(n,)``), or a TypeError/ValueError naming ``owner``."""
    if isinstance(shape, (numbers.Integral, np.integer)) and not isinstance(shape, (bool, np.bool_)):
        shape = (shape,)
    if not isinstance(shape, (tuple, list)):
        raise TypeError(f"{owner}: shape must be a tuple of ints such as (fan_in, fan_out); got {shape!r}.")
    return tuple(integer(owner, f"shape[{j}]", n, minimum=0) for j, n in enumerate(shape))


def _fans(shape):
    """``(fan_in, fan_out)`` of a weight shape: ``(in, out)`` for a kernel, ``(n, dim)`` for an embedding.

    Each is at least 1 (as in Keras), so an empty shape such as ``(0, 4)`` divides by 1, not by 0; the
    array it makes is empty anyway.
    """
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return max(shape[0], 1), max(shape[0], 1)
    return max(shape[0], 1), max(shape[1], 1)


def _checked(fn):
    """Wrap an initializer ``fn(shape, rng, dtype)`` so that its arguments are checked first.

    ``shape``: a tuple of ints >= 0; ``rng``: a ``numpy.random.Generator``, an int seed or None (fresh
    entropy), via ``_checks.as_rng``; ``dtype``: a floating-point type.
    """
    def initializer(shape, rng=None, dtype=np.float32, **kwargs):
        owner = f"initializers.{fn.__name__}"
        shape = _shape(owner, shape)
        try:
            dtype = np.dtype(dtype)
        except TypeError:
            raise TypeError(f"{owner}: dtype must be a NumPy float type; got {dtype!r}.") from None
        if dtype.kind != "f":
            raise TypeError(f"{owner}: dtype must be a float type (weights are trained); got {dtype}.")
        return fn(shape, as_rng(rng, owner), dtype, **kwargs)

    initializer.__name__ = initializer.__qualname__ = fn.__name__
    initializer.__doc__ = fn.__doc__
    initializer.__wrapped__ = fn
    return initializer


def _truncated_normal(shape, std, rng, dtype):
    """Normal(0, std²) samples redrawn until every one lies within two standard deviations."""
    x = rng.standard_normal(shape)
    bad = np.abs(x) > 2.0
    while bad.any():  # about 4.6% of draws per round, so this ends after a few rounds
        x[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(x) > 2.0
    return (x * (std / _TRUNCATED_STD)).astype(dtype)


@_checked
def glorot_uniform(shape, rng, dtype=np.float32):
    """Uniform on ``[−a, a]`` with ``a = sqrt(6 / (fan_in + fan_out))`` (variance ``2 / (fan_in + fan_out)``)."""
    fan_in, fan_out = _fans(shape)
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=shape).astype(dtype)


@_checked
def glorot_normal(shape, rng, dtype=np.float32):
    """Truncated normal with standard deviation ``sqrt(2 / (fan_in + fan_out))``."""
    fan_in, fan_out = _fans(shape)
    return _truncated_normal(shape, np.sqrt(2.0 / (fan_in + fan_out)), rng, dtype)


@_checked
def he_uniform(shape, rng, dtype=np.float32):
    """Uniform on ``[−a, a]`` with ``a = sqrt(6 / fan_in)`` (variance ``2 / fan_in``), for ReLU layers."""
    fan_in, _ = _fans(shape)
    limit = np.sqrt(6.0 / fan_in)
    return rng.uniform(-limit, limit, size=shape).astype(dtype)


@_checked
def he_normal(shape, rng, dtype=np.float32):
    """Truncated normal with standard deviation ``sqrt(2 / fan_in)``, for ReLU layers."""
    fan_in, _ = _fans(shape)
    return _truncated_normal(shape, np.sqrt(2.0 / fan_in), rng, dtype)


@_checked
def uniform(shape, rng, dtype=np.float32, limit=0.05):
    """Uniform on ``[−0.05, 0.05]``, Keras' ``RandomUniform`` default and its ``Embedding`` default."""
    return rng.uniform(-limit, limit, size=shape).astype(dtype)


@_checked
def random_normal(shape, rng, dtype=np.float32, stddev=0.05):
    """Normal(0, 0.05²), Keras' ``RandomNormal`` default; common for embedding tables."""
    return (rng.standard_normal(shape) * stddev).astype(dtype)


@_checked
def zeros(shape, rng=None, dtype=np.float32):
    """All zeros: the usual bias initializer."""
    return np.zeros(shape, dtype=dtype)


@_checked
def ones(shape, rng=None, dtype=np.float32):
    """All ones."""
    return np.ones(shape, dtype=dtype)


@_checked
def orthogonal(shape, rng, dtype=np.float32):
    """A matrix with orthonormal columns (rows, if it is wide): ``Q`` of the QR decomposition of a normal one.

    A recurrent layer multiplies its state by the same matrix every step; an orthogonal ``U`` keeps
    ``||h·U|| = ||h||``, so at the start of training the state neither explodes nor vanishes over time.
    The signs of ``diag(R)`` are folded into ``Q`` so the draw is uniform over orthogonal matrices.
    """
    rows, cols = shape[0], int(np.prod(shape[1:]))
    a = rng.standard_normal((max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(a)
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return np.ascontiguousarray(q.reshape(shape), dtype=dtype)


_REGISTRY = {
    f.__name__: f
    for f in (glorot_uniform, glorot_normal, he_uniform, he_normal, uniform, random_normal, zeros, ones,
              orthogonal)
}
NAMES = tuple(_REGISTRY)


def get(identifier):
    """An initializer by name (e.g. ``"he_normal"``) or a callable ``(shape, rng, dtype) -> array``."""
    if callable(identifier):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in _REGISTRY:
        return _REGISTRY[identifier.lower()]
    raise unknown_name("initializer", identifier, NAMES)
