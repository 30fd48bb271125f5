"""Recurrent layers (循环神经网络, RNN): ``SimpleRNN`` and ``GRU`` (门控循环单元), with backpropagation through
time (时间反向传播, BPTT) derived by hand.

A recurrent layer reads a sequence one step at a time and keeps a state ``h`` (a summary of everything read
so far), with the **same** weights at every step:

    h_t = cell(x_t, h_{t−1}),   t = 1..T,   h_0 = 0

Shapes, for both layers: ``x (batch, time, features)`` → ``h_T (batch, units)``, or every state
``(batch, time, units)`` with ``return_sequences=True``.

Backpropagation through time: unroll the loop into a ``T``-layer network whose layers share weights, and
apply the chain rule from the last step back to the first. The gradient reaching ``h_{t−1}`` is what step
``t`` sends back plus what the output at ``t − 1`` adds (``return_sequences``); a shared weight's gradient is
the **sum** of its gradients at every step. The sums over steps are done with one matrix product over all
``(step, row)`` pairs at the end, not inside the loop.

Masks (variable-length sequences). ``mask (batch, time)`` bool, True for a real step (``Embedding(...,
mask_zero=True)`` makes it from id 0 = padding). At a masked step the state is carried over unchanged,

    h_t = m_t · cell(x_t, h_{t−1}) + (1 − m_t) · h_{t−1}

so padding (before or after the items) changes nothing, and backward sends the gradient of ``h_t`` straight
through to ``h_{t−1}`` at such a step: a masked step receives **no** gradient (its ``dx_t`` is 0). With
``return_sequences=True`` the output at a masked step is the carried state (as in Keras).

Each cell's equations, forward and backward, with shapes, are in its class's docstring.
"""

from __future__ import annotations

import numpy as np

from . import activations as activations_module
from . import initializers
from ._checks import as_rng as _as_rng
from ._checks import flag as _flag
from ._checks import positive_int as _positive_int
from .layers import Layer


def _sigmoid(a, out=None):
    """``σ(a) = ½(1 + tanh(a/2))``: the same function as ``tinyrec.activations.sigmoid``, one ``tanh`` call
    (cheaper inside the time loop) and it never overflows. Its derivative is still ``σ(1 − σ)``."""
    out = np.multiply(a, 0.5, out=out)
    np.tanh(out, out=out)
    out += 1.0
    out *= 0.5
    return out


class _Recurrent(Layer):
    """What ``SimpleRNN`` and ``GRU`` share: argument checks, input/mask checks, output shapes."""

    supports_masking = True

    @classmethod
    def _default_name(cls):
        return {"SimpleRNN": "simple_rnn", "GRU": "gru"}.get(cls.__name__, super()._default_name())

    def __init__(self, units, return_sequences=False, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros", name=None, input_shape=None):
        owner = type(self).__name__
        self.units = _positive_int(owner, "units", units)
        self.return_sequences = _flag(owner, "return_sequences", return_sequences)
        super().__init__(name=name, input_shape=input_shape)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if self.return_sequences:
            return (input_shape[0], input_shape[1], self.units)
        return (input_shape[0], self.units)

    def _check_sequence(self, x, mask):
        """``x (batch, time, features)`` and ``mask`` → (x time-major ``(time, batch, features)``, step mask).

        The step mask is ``(time, batch, 1)`` bool, or None when every step is real.
        """
        if x.ndim != 3 or x.shape[2] != self.in_dim:
            raise ValueError(f"Layer {self.name!r} ({type(self).__name__}) expects input of shape (batch, time, "
                             f"{self.in_dim}); got shape {x.shape}.")
        if x.shape[1] == 0:
            raise ValueError(f"Layer {self.name!r}: the sequence is empty (time = 0).")
        if mask is not None:
            mask = np.asarray(mask)
            if mask.shape != x.shape[:2]:
                raise ValueError(f"Layer {self.name!r}: mask must have shape (batch, time) = {x.shape[:2]}; "
                                 f"got {mask.shape}.")
            mask = None if mask.all() else mask.astype(bool).T[:, :, None]
        return np.ascontiguousarray(x.transpose(1, 0, 2)), mask  # contiguous: one step is one block

    def _output(self, states, mask_in):
        """``states (time + 1, batch, units)`` (``states[0] = h_0``) → the layer's output."""
        self.output_mask = mask_in if self.return_sequences else None
        return states[1:].transpose(1, 0, 2).copy() if self.return_sequences else states[-1].copy()

    def _upstream(self, dy, t):
        """``dL/dh_t`` coming from the layer's output: ``dy[:, t]`` for sequences, ``dy`` at the last step."""
        if self.return_sequences:
            return dy[:, t]
        return dy if t == self._T - 1 else None


class SimpleRNN(_Recurrent):
    """The plain (Elman) recurrent layer: ``h_t = f(x_t·W + h_{t−1}·U + b)``.

    Shapes: ``x_t (batch, features)``, kernel ``W (features, units)``, recurrent kernel ``U (units, units)``,
    bias ``b (units,)``, ``a_t, h_t (batch, units)``; ``f`` is ``activation`` (default tanh).

    Forward, t = 1..T:   ``a_t = x_t·W + h_{t−1}·U + b``,   ``h_t = f(a_t)``   (masked: ``h_t = h_{t−1}``).

    Backward (BPTT), with ``g_t = dL/dh_t`` = (output gradient at t) + (what step t+1 sent back):

    * ``da_t = g_t ⊙ f'(a_t)``                       ``(batch, units)``   (0 at a masked step)
    * ``dh_{t−1} = da_t · Uᵀ``  (+ ``g_t`` itself at a masked step: the state was copied)
    * ``dW = Σ_t x_tᵀ · da_t``,  ``dU = Σ_t h_{t−1}ᵀ · da_t``,  ``db = Σ_t Σ_batch da_t``
    * ``dx_t = da_t · Wᵀ``                           ``(batch, features)``

    Because ``dh_{t−1} = (g_t ⊙ f'(a_t))·Uᵀ``, the gradient reaching step ``t`` from step ``T`` is a product of
    ``T − t`` such factors: it shrinks (or grows) geometrically — the vanishing-gradient problem that the
    gates of ``GRU`` address.

    PyTorch ``nn.RNN`` (one layer, ``batch_first=True``): ``W = weight_ih_l0ᵀ``, ``U = weight_hh_l0ᵀ``,
    ``b = bias_ih_l0 + bias_hh_l0``. Keras ``SimpleRNN``: the same three weights in the same order.

    Args:
        units: state size. activation: a name from ``tinyrec.activations`` (``"tanh"``, ``"relu"``, ...).
        return_sequences: return every ``h_t`` ``(batch, time, units)`` instead of ``h_T``.
    """

    def __init__(self, units, activation="tanh", return_sequences=False, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros", name=None, input_shape=None):
        super().__init__(units, return_sequences, kernel_initializer, recurrent_initializer, bias_initializer,
                         name=name, input_shape=input_shape)
        self.activation = activations_module.get(activation)
        if self.activation.name == "softmax":
            raise ValueError("SimpleRNN: activation='softmax' is not element-wise; use tanh or relu.")

    def build(self, input_shape, rng=None, dtype=np.float32):
        super().build(input_shape, rng, dtype)
        rng = _as_rng(rng)
        self.in_dim = int(input_shape[-1])
        h = self.units
        self._add_param("kernel", self.kernel_initializer((self.in_dim, h), rng, self.dtype))
        self._add_param("recurrent_kernel", self.recurrent_initializer((h, h), rng, self.dtype))
        self._add_param("bias", self.bias_initializer((h,), rng, self.dtype))

    def forward(self, x, training=False, mask=None):
        xt, m = self._check_sequence(x, mask)
        T, B, _ = xt.shape
        W, U, b = self.params["kernel"], self.params["recurrent_kernel"], self.params["bias"]
        a = xt @ W + b  # (T, B, H): the input part of every step in one product
        y = np.empty_like(a)  # f(a_t), the new state before masking
        states = np.zeros((T + 1, B, self.units), dtype=a.dtype)  # states[t + 1] = h_t, states[0] = h_0
        for t in range(T):
            a[t] += states[t] @ U
            y[t] = self.activation.forward(a[t])
            states[t + 1] = y[t] if m is None else np.where(m[t], y[t], states[t])
        self._xt, self._m, self._a, self._y, self._states, self._T = xt, m, a, y, states, T
        return self._output(states, mask if m is not None else None)

    def backward(self, dy):
        U = self.params["recurrent_kernel"]
        m, T = self._m, self._T
        da = np.empty_like(self._a)  # (T, B, H)
        g = np.zeros_like(self._states[0])  # dL/dh_t, starting after the last step
        for t in range(T - 1, -1, -1):
            up = self._upstream(dy, t)
            if up is not None:
                g = g + up
            g_step = g if m is None else np.where(m[t], g, 0.0)  # masked: no gradient into the cell
            da[t] = self.activation.backward(g_step, self._a[t], self._y[t])
            g_prev = da[t] @ U.T
            g = g_prev if m is None else g_prev + np.where(m[t], 0.0, g)  # masked: h_t = h_{t−1} carries g
        H, F = self.units, self.in_dim
        da2 = da.reshape(-1, H)
        np.matmul(self._xt.reshape(-1, F).T, da2, out=self.grads["kernel"])  # Σ_t x_tᵀ·da_t
        np.matmul(self._states[:-1].reshape(-1, H).T, da2, out=self.grads["recurrent_kernel"])  # Σ_t h_{t−1}ᵀ·da_t
        np.sum(da2, axis=0, out=self.grads["bias"])
        if not self.needs_input_grad:
            return None
        return (da @ self.params["kernel"].T).transpose(1, 0, 2)  # (B, T, F)


class GRU(_Recurrent):
    """Gated recurrent unit (门控循环单元; Cho et al. 2014), PyTorch ``nn.GRU`` / Keras ``GRU(reset_after=True)``.

    Shapes: ``x_t (batch, F)``, ``h_t (batch, H)`` with ``H = units``; kernel ``W (F, 3H)``, recurrent kernel
    ``U (H, 3H)``, bias ``b (2, 3H)`` (row 0 added to the input part, row 1 to the recurrent part). The three
    column blocks of ``W``, ``U`` and each bias row are the gates in the order **z, r, n** (Keras' order):
    ``W = [W_z | W_r | W_n]``, each ``(F, H)``.

    Forward, t = 1..T (``σ`` the sigmoid, ``⊙`` element-wise)::

        x̂ = x_t·W + b[0]               (batch, 3H)   input part, for every step at once
        ĥ = h_{t−1}·U + b[1]           (batch, 3H)   recurrent part
        z_t = σ(x̂_z + ĥ_z)             update gate: how much of the old state to keep
        r_t = σ(x̂_r + ĥ_r)             reset gate: how much of the old state the candidate may read
        n_t = tanh(x̂_n + r_t ⊙ ĥ_n)    candidate state (the reset gate acts *after* the matmul)
        h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t−1}                 (masked step: h_t = h_{t−1})

    Backward (BPTT), with ``g_t = dL/dh_t`` (output gradient at t + what step t+1 sent back; 0 into the cell
    at a masked step, which passes ``g_t`` on to ``h_{t−1}`` unchanged)::

        dn = g_t ⊙ (1 − z_t)                  dz = g_t ⊙ (h_{t−1} − n_t)
        dâ_n = dn ⊙ (1 − n_t²)                 (through tanh)
        dâ_r = (dâ_n ⊙ ĥ_n) ⊙ r_t(1 − r_t)     dâ_z = dz ⊙ z_t(1 − z_t)     (through σ)
        dx̂ = [dâ_z | dâ_r | dâ_n]             dĥ = [dâ_z | dâ_r | dâ_n ⊙ r_t]        (batch, 3H)
        dh_{t−1} = g_t ⊙ z_t + dĥ·Uᵀ          (the direct path through z, plus through the gates)
        dW = Σ_t x_tᵀ·dx̂_t (F, 3H)    dU = Σ_t h_{t−1}ᵀ·dĥ_t (H, 3H)
        db[0] = Σ_{t,batch} dx̂_t       db[1] = Σ_{t,batch} dĥ_t        dx_t = dx̂_t·Wᵀ (batch, F)

    The direct path ``g_t ⊙ z_t`` is why a GRU remembers: where ``z ≈ 1`` the state and its gradient pass
    through a step almost untouched, instead of being multiplied by ``Uᵀ`` and a ``tanh'`` every time.

    Weights from PyTorch ``nn.GRU(F, H, batch_first=True)`` (gate order **r, z, n** in blocks of ``H`` rows;
    ``w[a:b]`` rows ``a..b−1``)::

        reorder = lambda w: np.concatenate([w[H:2*H], w[:H], w[2*H:]])      # (r, z, n) → (z, r, n)
        W = reorder(weight_ih_l0).T              # (3H, F) → (F, 3H)
        U = reorder(weight_hh_l0).T              # (3H, H) → (H, 3H)
        b = np.stack([reorder(bias_ih_l0), reorder(bias_hh_l0)])            # (2, 3H)
        layer.set_weights([W, U, b])

    From Keras ``GRU(H, reset_after=True)`` (its default): ``layer.set_weights(keras_layer.get_weights())``
    as they are (same names, shapes and gate order). Both compute the same ``h_t`` (the equations above).

    Args:
        units: state size ``H``. return_sequences: return every ``h_t`` ``(batch, time, H)``, not only ``h_T``.
        kernel_initializer, recurrent_initializer, bias_initializer: Keras' defaults (glorot_uniform,
            orthogonal, zeros).
    """

    def build(self, input_shape, rng=None, dtype=np.float32):
        super().build(input_shape, rng, dtype)
        rng = _as_rng(rng)
        self.in_dim = int(input_shape[-1])
        h = self.units
        self._add_param("kernel", self.kernel_initializer((self.in_dim, 3 * h), rng, self.dtype))
        self._add_param("recurrent_kernel", self.recurrent_initializer((h, 3 * h), rng, self.dtype))
        self._add_param("bias", self.bias_initializer((2, 3 * h), rng, self.dtype))

    def forward(self, x, training=False, mask=None):
        xt, m = self._check_sequence(x, mask)
        T, B, _ = xt.shape
        H = self.units
        U, b = self.params["recurrent_kernel"], self.params["bias"]
        xw = xt @ self.params["kernel"] + b[0]  # (T, B, 3H): x̂ for every step in one product
        zr = np.empty((T, B, 2 * H), dtype=xw.dtype)  # [z_t | r_t]
        n = np.empty((T, B, H), dtype=xw.dtype)  # n_t
        hn = np.empty((T, B, H), dtype=xw.dtype)  # ĥ_n, kept for dr
        states = np.zeros((T + 1, B, H), dtype=xw.dtype)  # states[t + 1] = h_t
        hw = np.empty((B, 3 * H), dtype=xw.dtype)
        # The step below writes into preallocated arrays (``out=``): the same formulas, fewer temporaries.
        for t in range(T):
            h, new, nt = states[t], states[t + 1], n[t]
            np.matmul(h, U, out=hw)
            hw += b[1]  # ĥ = h_{t−1}·U + b[1]
            np.add(xw[t, :, :2 * H], hw[:, :2 * H], out=zr[t])
            _sigmoid(zr[t], out=zr[t])  # [z | r] = σ(x̂_zr + ĥ_zr)
            z, r = zr[t, :, :H], zr[t, :, H:]
            hn[t] = hw[:, 2 * H:]
            np.multiply(r, hn[t], out=nt)
            nt += xw[t, :, 2 * H:]
            np.tanh(nt, out=nt)  # n = tanh(x̂_n + r ⊙ ĥ_n)
            np.subtract(h, nt, out=new)
            new *= z
            new += nt  # h_t = n + z ⊙ (h_{t−1} − n) = (1 − z) ⊙ n + z ⊙ h_{t−1}
            if m is not None:
                np.copyto(new, h, where=~m[t])  # masked step: h_t = h_{t−1}
        self._xt, self._m, self._zr, self._n, self._hn, self._states, self._T = xt, m, zr, n, hn, states, T
        return self._output(states, mask if m is not None else None)

    def backward(self, dy):
        U = self.params["recurrent_kernel"]
        H, F, T, m = self.units, self.in_dim, self._T, self._m
        B = self._states.shape[1]
        dtype = self._n.dtype
        dxw = np.empty((T, B, 3 * H), dtype=dtype)  # dx̂_t = [dâ_z | dâ_r | dâ_n]
        dhw = np.empty_like(dxw)  # dĥ_t = [dâ_z | dâ_r | dâ_n ⊙ r]
        g = np.zeros((B, H), dtype=dtype)  # g_t = dL/dh_t
        gc = np.empty_like(g)  # the part of g_t that enters the cell (all of it at a real step)
        one_minus = np.empty_like(g)
        for t in range(T - 1, -1, -1):
            up = self._upstream(dy, t)
            if up is not None:
                g += up
            if m is None:
                gc[...] = g
            else:
                np.multiply(g, m[t], out=gc)  # masked step: nothing enters the cell
            z, r, nt, hp = self._zr[t, :, :H], self._zr[t, :, H:], self._n[t], self._states[t]
            daz, dar, dan = dxw[t, :, :H], dxw[t, :, H:2 * H], dxw[t, :, 2 * H:]
            np.subtract(1.0, z, out=one_minus)
            np.multiply(nt, nt, out=dan)
            np.subtract(1.0, dan, out=dan)
            dan *= one_minus
            dan *= gc  # dâ_n = g ⊙ (1 − z) ⊙ (1 − n²)
            np.subtract(hp, nt, out=daz)
            daz *= gc
            daz *= z
            daz *= one_minus  # dâ_z = g ⊙ (h_{t−1} − n) ⊙ z(1 − z)
            np.multiply(dan, self._hn[t], out=dar)
            dar *= r
            np.subtract(1.0, r, out=one_minus)
            dar *= one_minus  # dâ_r = dâ_n ⊙ ĥ_n ⊙ r(1 − r)
            dhw[t, :, :2 * H] = dxw[t, :, :2 * H]
            np.multiply(dan, r, out=dhw[t, :, 2 * H:])  # the reset gate scaled ĥ_n
            g_prev = dhw[t] @ U.T  # through the three gates
            gc *= z
            g_prev += gc  # + the direct path g ⊙ z
            if m is not None:
                np.add(g_prev, g, out=g_prev, where=~m[t])  # masked step: the copy h_t = h_{t−1} carries g
            g = g_prev
        dxw2, dhw2 = dxw.reshape(-1, 3 * H), dhw.reshape(-1, 3 * H)
        np.matmul(self._xt.reshape(-1, F).T, dxw2, out=self.grads["kernel"])  # Σ_t x_tᵀ·dx̂_t
        np.matmul(self._states[:-1].reshape(-1, H).T, dhw2, out=self.grads["recurrent_kernel"])  # Σ_t h_{t−1}ᵀ·dĥ_t
        np.sum(dxw2, axis=0, out=self.grads["bias"][0])
        np.sum(dhw2, axis=0, out=self.grads["bias"][1])
        if not self.needs_input_grad:
            return None
        return (dxw @ self.params["kernel"].T).transpose(1, 0, 2)  # (B, T, F)
