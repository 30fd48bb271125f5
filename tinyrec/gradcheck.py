"""Gradient checking (梯度检验): compare hand-derived gradients with centred finite differences.

For a scalar function ``f`` and a parameter entry ``θ_i``, the centred difference

    ∂f/∂θ_i ≈ (f(θ + h·e_i) − f(θ − h·e_i)) / (2h)

has error ``O(h²)`` (the even terms of the Taylor series cancel), against ``O(h)`` for a one-sided
difference. In float64 with ``h = 1e-6`` the truncation error (~h²) and the rounding error
(~1e-16/h) are both around 1e-10 to 1e-12, so a correct backward pass agrees to better than 1e-7 and a
wrong one (a missing factor, a transposed matrix, a forgotten sum) misses by orders of magnitude.

To check a layer, we make its output a scalar with a fixed random upstream gradient ``g``:
``f(x, θ) = Σ layer.forward(x) ⊙ g`` (+ ``layer.penalty``, a regularisation term the layer adds to the
loss). Then ``∂f/∂x = layer.backward(g)`` and ``∂f/∂θ = layer.grads``.

The error reported for one array is

    relative_error(a, n) = max_i |a_i − n_i| / max(max_i |a_i|, max_i |n_i|)

— the largest discrepancy measured against the array's own scale. (A per-entry ratio
``|a_i − n_i| / (|a_i| + |n_i|)`` would explode on entries that happen to be ~0, where both values are
rounding noise; measuring against the array's largest entry keeps the test strict but meaningful.)
Checks must run in float64: in float32 rounding alone is ~1e-3 of such differences.
"""

from __future__ import annotations

import numpy as np

#: The bar a correct float64 backward pass clears.
TOLERANCE = 1e-7


def relative_error(analytic, numeric) -> float:
    """``max|a − n| / max(max|a|, max|n|)``; 0.0 when both are all zeros. See the module docstring."""
    a = np.asarray(analytic, dtype=np.float64)
    n = np.asarray(numeric, dtype=np.float64)
    if a.shape != n.shape:
        raise ValueError(f"relative_error: shapes differ: analytic {a.shape} vs numeric {n.shape}.")
    if a.size == 0:
        return 0.0
    scale = max(np.abs(a).max(), np.abs(n).max())
    return 0.0 if scale == 0 else float(np.abs(a - n).max() / scale)


def _entries(shape, max_checks, rng):
    """All flat indices of an array, or a random sample of ``max_checks`` of them (for big tables)."""
    size = int(np.prod(shape))
    if max_checks is None or size <= max_checks:
        return np.arange(size)
    return np.sort(rng.choice(size, size=max_checks, replace=False))


def numerical_gradient(f, x, eps=1e-6, indices=None):
    """Centred finite-difference gradient of the scalar ``f()`` with respect to the array ``x``.

    ``x`` is perturbed **in place** one entry at a time (and restored), so ``f`` must read it; ``x`` may be
    a view (e.g. NeuMF's tables are column blocks of one array). Returns an array of ``x``'s shape; entries
    not in ``indices`` (flat, row-major) are NaN when a subset is asked.
    """
    if x.dtype != np.float64:
        raise TypeError(f"numerical_gradient: x must be float64 for a meaningful check; got {x.dtype}.")
    grad = np.full(x.shape, np.nan) if indices is not None else np.zeros(x.shape)
    gflat = grad.reshape(-1)
    for i in (range(x.size) if indices is None else indices):
        at = np.unravel_index(i, x.shape)  # an index tuple writes through any view, contiguous or not
        old = x[at]
        x[at] = old + eps
        f_plus = f()
        x[at] = old - eps
        f_minus = f()
        x[at] = old
        gflat[i] = (f_plus - f_minus) / (2 * eps)
    return grad


def _dense(grad, shape):
    """A gradient as a dense array (embeddings store ``SparseGradient(indices, values)``)."""
    if hasattr(grad, "indices") and hasattr(grad, "values"):
        out = np.zeros(shape)
        np.add.at(out, np.asarray(grad.indices), np.asarray(grad.values, dtype=np.float64))
        return out
    return np.asarray(grad, dtype=np.float64)


def _compare(analytic, numeric, indices):
    a, n = analytic.reshape(-1)[indices], numeric.reshape(-1)[indices]
    return relative_error(a, n)


def check_layer(layer, x, training=False, seed=0, eps=1e-6, max_checks=None, mask=None) -> dict[str, float]:
    """Check a layer's ``backward`` against finite differences; return ``{name: relative error}``.

    The result has ``"input"`` (for float inputs; integer ids have no gradient) and one entry per
    parameter. Every value should be ≤ ``tinyrec.gradcheck.TOLERANCE`` (1e-7).

    Args:
        layer: a ``tinyrec.layers.Layer``, unbuilt or built in float64.
        x: input batch; float arrays are converted to float64.
        training: run forward in training mode (for dropout the random mask is held fixed).
        seed: seeds the random upstream gradient.
        max_checks: check at most this many random entries per array (large embedding tables).
        mask: for layers with ``supports_masking`` (recurrent, convolutional, pooling): a ``(batch, time)``
            bool mask passed to every ``forward``; masked steps then must get exactly the gradient the
            finite differences see (none, if the layer ignores them).
    """
    rng = np.random.default_rng(seed)
    x = np.array(x, dtype=np.float64 if np.asarray(x).dtype.kind == "f" else np.asarray(x).dtype)
    if not layer.built:
        layer.build(x.shape, rng=rng, dtype=np.float64)
    for name, p in layer.params.items():
        if p.dtype != np.float64:
            raise TypeError(f"check_layer: parameter {name!r} of layer {layer.name!r} is {p.dtype}; "
                            "gradient checks need float64 (build the layer on float64 input).")
    layer.needs_input_grad = True
    # A layer with its own random stream (dropout) must draw the same mask on every forward call.
    rng_state = layer.rng.bit_generator.state if getattr(layer, "rng", None) is not None else None

    def forward():
        if rng_state is not None:
            layer.rng.bit_generator.state = rng_state
        if mask is not None:
            return layer.forward(x, training=training, mask=mask)
        return layer.forward(x, training=training)

    out = forward()
    g = rng.standard_normal(out.shape)
    dx = layer.backward(g.copy())
    analytic = {name: _dense(layer.grads[name], p.shape) for name, p in layer.params.items()}

    def f():
        out = forward()  # ``penalty`` (e.g. an Embedding's L2 term) is part of the loss the layer adds
        return float(np.sum(out * g)) + float(layer.penalty)

    errors = {}
    if x.dtype.kind == "f":
        idx = _entries(x.shape, max_checks, rng)
        errors["input"] = _compare(np.asarray(dx, np.float64), numerical_gradient(f, x, eps, idx), idx)
    for name, p in layer.params.items():
        idx = _entries(p.shape, max_checks, rng)
        errors[name] = _compare(analytic[name], numerical_gradient(f, p, eps, idx), idx)
    return errors


def check_activation(activation, z, seed=0, eps=1e-6) -> float:
    """Relative error of an activation's backward (``tinyrec.activations.get(activation)``) at ``z``."""
    from .activations import get

    act = get(activation)
    z = np.array(z, dtype=np.float64)
    g = np.random.default_rng(seed).standard_normal(z.shape)
    analytic = act.backward(g, z, act.forward(z))
    numeric = numerical_gradient(lambda: float(np.sum(act.forward(z) * g)), z, eps)
    return relative_error(analytic, numeric)


def check_loss(loss, y_true, y_pred, eps=1e-6) -> float:
    """Relative error of a loss's ``backward`` (``dL/dy_pred``) at ``(y_true, y_pred)``, in float64.

    ``loss`` is a name or a ``tinyrec.losses.Loss``; with ``from_logits=True`` ``y_pred`` holds logits.
    """
    from .losses import get

    loss = get(loss)
    y_pred = np.array(y_pred, dtype=np.float64)
    y_true = np.asarray(y_true, dtype=np.float64)
    loss.forward(y_true, y_pred)
    analytic = loss.backward()
    numeric = numerical_gradient(lambda: loss.forward(y_true, y_pred), y_pred, eps)
    return relative_error(analytic, numeric)


def check_model(model, x, y, seed=0, eps=1e-6, max_checks=30) -> dict[str, float]:
    """Check a compiled float64 model end to end: ``d loss / d every parameter``.

    The model's own ``forward`` → loss (fused with the output activation when it is) → ``backward``
    is compared with finite differences of the loss value. Returns ``{"layer.param": error}``;
    ``max_checks`` random entries per parameter keep it quick for large tables.
    """
    if model.dtype != np.float64:
        raise TypeError(f"check_model: build the model with dtype='float64'; it is {model.dtype}.")
    rng = np.random.default_rng(seed)
    _, grads = model.loss_and_gradients(x, y)  # the public hooks: one forward + backward, then the loss alone

    def loss_value():
        return model.compute_loss(x, y)

    errors = {}
    for layer in model.layers:
        for name, p in layer.params.items():
            analytic = _dense(grads[f"{layer.name}.{name}"], p.shape)
            idx = _entries(p.shape, max_checks, rng)
            errors[f"{layer.name}.{name}"] = _compare(analytic, numerical_gradient(loss_value, p, eps, idx), idx)
    return errors
