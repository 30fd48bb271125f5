"""1-D convolution (卷积神经网络, CNN) over sequences, and the global pooling layers that follow it.

A ``Conv1D`` slides ``filters`` small detectors of width ``kernel_size`` along the time axis: each one fires on
a local pattern (say, three songs of the same genre in a row) wherever it occurs — the same weights at
every position, as an RNN shares its weights over steps. A global pooling layer then summarises the whole
sequence in one vector per row: the strongest response of each filter (``GlobalMaxPooling1D``) or the mean
(``GlobalAveragePooling1D``). Shapes: ``(batch, time, features)`` → ``(batch, time_out, filters)`` →
``(batch, filters)``.

Masks: all three layers accept the ``(batch, time)`` bool mask of ``Embedding(..., mask_zero=True)``
(True = a real step). ``Conv1D`` zeroes the padded steps before convolving (so padding acts like the zeros
of ``padding="same"``), gives them no gradient, and marks an output step real when its window holds at
least one real step. The pooling layers ignore the steps the mask marks as padding.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from . import activations as activations_module
from . import initializers
from ._checks import as_rng as _as_rng
from ._checks import flag as _flag
from ._checks import one_of as _one_of
from ._checks import positive_int as _positive_int
from .layers import Layer


def _keras_name(cls):
    """Keras' default layer names: ``conv1d``, ``global_max_pooling1d`` (not ``conv1_d``)."""
    return Layer._default_name.__func__(cls).replace("1_d", "1d")


def _check_3d(layer, x, width=None):
    if x.ndim != 3 or (width is not None and x.shape[2] != width):
        expected = f"(batch, time, {width})" if width is not None else "(batch, time, features)"
        raise ValueError(f"Layer {layer.name!r} ({type(layer).__name__}) expects input of shape {expected}; "
                         f"got shape {x.shape}.")


def _check_mask(layer, x, mask):
    """``mask`` as a ``(batch, time)`` bool array matching ``x``, or None (every step real)."""
    if mask is None:
        return None
    mask = np.asarray(mask)
    if mask.shape != x.shape[:2]:
        raise ValueError(f"Layer {layer.name!r}: mask must have shape (batch, time) = {x.shape[:2]}; "
                         f"got {mask.shape}.")
    return mask.astype(bool, copy=False)


class Conv1D(Layer):
    """A 1-D convolution over time: ``y[:, s] = f(Σ_{k<K} x[:, s + k]·W[k] + b)``.

    Shapes: ``x (batch, T, F)``, kernel ``W (K, F, filters)`` (Keras' layout), bias ``b (filters,)``,
    ``y (batch, T_out, filters)`` with ``T_out = T − K + 1`` (``padding="valid"``) or ``T`` (``"same"``: ``K − 1``
    zero steps split around the sequence, the extra one on the right, as in Keras).

    Computed as one matrix product (im2col): the windows ``X[:, s] = [x_s, …, x_{s+K−1}]`` are flattened to
    rows ``cols (batch·T_out, K·F)`` (``sliding_window_view``, no Python loop over positions), so

        z = cols · W_flat + b,   W_flat = W.reshape(K·F, filters),   y = f(z)

    Backward, from ``dy (batch, T_out, filters)``:

    * ``dz = dy ⊙ f'(z)``
    * ``dW_flat = colsᵀ · dz``   (reshaped back to ``(K, F, filters)``),   ``db = Σ_{batch, s} dz``
    * ``dcols = dz · W_flatᵀ`` ``(batch, T_out, K, F)``; every input step sits in up to ``K`` windows, so its
      gradient is the **sum** over them: ``dx[:, s + k] += dcols[:, s, k]`` for ``k < K`` (``K`` slice-adds);
      padded and masked steps get none.

    Args:
        filters: number of detectors (output channels). kernel_size: window width ``K``.
        activation: a name from ``tinyrec.activations`` or None (linear). padding: ``"valid"`` or ``"same"``.
    """

    supports_masking = True
    _default_name = classmethod(_keras_name)

    def __init__(self, filters, kernel_size, activation=None, padding="valid", use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", name=None, input_shape=None):
        self.filters = _positive_int("Conv1D", "filters", filters)
        self.kernel_size = _positive_int("Conv1D", "kernel_size", kernel_size)
        self.padding = _one_of("Conv1D", "padding", padding, ("valid", "same"))
        super().__init__(name=name, input_shape=input_shape)
        self.activation = activations_module.get(activation)
        self.use_bias = _flag("Conv1D", "use_bias", use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)

    def build(self, input_shape, rng=None, dtype=np.float32):
        super().build(input_shape, rng, dtype)
        rng = _as_rng(rng)
        self.in_dim = int(input_shape[-1])
        k, f = self.kernel_size, self.in_dim
        # Glorot on the flattened (K·F, filters) kernel: fan_in K·F, as Keras counts it.
        self._add_param("kernel", self.kernel_initializer((k * f, self.filters), rng, self.dtype)
                        .reshape(k, f, self.filters))
        if self.use_bias:
            self._add_param("bias", self.bias_initializer((self.filters,), rng, self.dtype))

    def _pads(self):
        if self.padding == "valid":
            return 0, 0
        left = (self.kernel_size - 1) // 2
        return left, self.kernel_size - 1 - left

    def compute_output_shape(self, input_shape):
        b, t = input_shape[0], input_shape[1]
        if t is not None and self.padding == "valid":
            t = t - self.kernel_size + 1
        return (b, t, self.filters)

    def forward(self, x, training=False, mask=None):
        _check_3d(self, x, self.in_dim)
        mask = _check_mask(self, x, mask)
        B, T, F = x.shape
        K = self.kernel_size
        left, right = self._pads()
        if T + left + right < K:
            raise ValueError(f"Layer {self.name!r} (Conv1D): sequences of length {T} are shorter than "
                             f"kernel_size={K} with padding='valid'; use padding='same' or shorter kernels.")
        if mask is not None:
            x = x * mask[:, :, None]  # padded steps read as zeros
        xp = np.pad(x, ((0, 0), (left, right), (0, 0))) if left + right else x
        t_out = xp.shape[1] - K + 1
        # (B, T_out, F, K) windows → (B·T_out, K·F) rows, ordered to match kernel.reshape(K·F, filters).
        cols = sliding_window_view(xp, K, axis=1).transpose(0, 1, 3, 2).reshape(B * t_out, K * F)
        z = cols @ self.params["kernel"].reshape(K * F, self.filters)
        if self.use_bias:
            z += self.params["bias"]
        z = z.reshape(B, t_out, self.filters)
        y = self.activation.forward(z)
        self._cols, self._z, self._y, self._mask, self._shape = cols, z, y, mask, (B, T, F, t_out)
        if mask is None:
            self.output_mask = None
        else:
            mp = np.pad(mask, ((0, 0), (left, right))) if left + right else mask
            self.output_mask = sliding_window_view(mp, K, axis=1).any(axis=-1)  # (B, T_out)
        return y

    def backward(self, dy):
        B, T, F, t_out = self._shape
        K = self.kernel_size
        dz = self.activation.backward(dy, self._z, self._y).reshape(B * t_out, self.filters)
        w_flat = self.params["kernel"].reshape(K * F, self.filters)
        np.matmul(self._cols.T, dz, out=self.grads["kernel"].reshape(K * F, self.filters))  # colsᵀ·dz
        if self.use_bias:
            np.sum(dz, axis=0, out=self.grads["bias"])
        if not self.needs_input_grad:
            return None
        dcols = (dz @ w_flat.T).reshape(B, t_out, K, F)
        left, right = self._pads()
        dxp = np.zeros((B, T + left + right, F), dtype=dcols.dtype)
        for k in range(K):  # each step collects the gradient of every window it sat in
            dxp[:, k:k + t_out] += dcols[:, :, k]
        dx = dxp[:, left:left + T]
        if self._mask is not None:
            dx = dx * self._mask[:, :, None]
        return dx


class _GlobalPooling1D(Layer):
    """What both global poolings share: ``(batch, time, channels) → (batch, channels)``, mask-aware."""

    supports_masking = True
    _default_name = classmethod(_keras_name)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])


class GlobalMaxPooling1D(_GlobalPooling1D):
    """The largest value of each channel over the (real) steps: ``y[n, c] = max_{t real} x[n, t, c]``.

    Shapes: ``x (batch, time, channels)`` → ``y (batch, channels)``. Backward: the gradient goes to the step
    that won, ``dx[n, t*, c] = dy[n, c]`` with ``t* = argmax_t x[n, t, c]``; every other step gets 0 (ties
    go to the first step, as ``np.argmax``). A row whose steps are all masked gives ``y = 0`` and no gradient.
    """

    def forward(self, x, training=False, mask=None):
        _check_3d(self, x)
        mask = _check_mask(self, x, mask)
        xm = x if mask is None else np.where(mask[:, :, None], x, -np.inf)
        self._argmax = np.argmax(xm, axis=1)[:, None, :]  # (B, 1, C)
        y = np.take_along_axis(x, self._argmax, axis=1)[:, 0, :]
        self._empty = None if mask is None else ~mask.any(axis=1)  # rows with no real step
        if self._empty is not None and self._empty.any():
            y[self._empty] = 0.0
        self._shape = x.shape
        self.output_mask = None
        return y

    def backward(self, dy):
        if self._empty is not None and self._empty.any():
            dy = np.where(self._empty[:, None], 0.0, dy)
        dx = np.zeros(self._shape, dtype=dy.dtype)
        np.put_along_axis(dx, self._argmax, dy[:, None, :], axis=1)
        return dx


class GlobalAveragePooling1D(_GlobalPooling1D):
    """The mean of each channel over the real steps: ``y_n = Σ_t m_nt x_nt / c_n``, ``c_n = max(Σ_t m_nt, 1)``.

    ``m`` is the mask (all ones without one). Shapes: ``x (batch, time, channels)`` → ``y (batch, channels)``.
    Backward: ``dx_nt = m_nt · dy_n / c_n`` — every real step gets an equal share, padding none. A row with
    no real step gives ``y = 0``. Over item embeddings this is an order-free summary of a window.
    """

    def forward(self, x, training=False, mask=None):
        _check_3d(self, x)
        mask = _check_mask(self, x, mask)
        if mask is None:
            self._weights = None
            self._shape = x.shape
            y = x.mean(axis=1)
        else:
            m = mask.astype(x.dtype)
            w = m / np.maximum(m.sum(axis=1, keepdims=True), 1.0)  # (B, T): m_nt / c_n
            self._weights = w
            y = np.einsum("nt,ntc->nc", w, x)
        self._shape = x.shape
        self.output_mask = None
        return y

    def backward(self, dy):
        B, T, C = self._shape
        if self._weights is None:
            return np.broadcast_to(dy[:, None, :] / T, (B, T, C)).copy()
        return self._weights[:, :, None] * dy[:, None, :]
