"""Interop with PyTorch (与 PyTorch 互通): carry a tinyrec model to ``torch.nn`` and back, same weights.

PyTorch is an optional extra (``pip install -e ".[interop]"``, which pins ``torch==2.13.0``): ``import
tinyrec`` never imports it, and neither does ``import tinyrec.interop``; the functions below import it when
first called and raise an ``ImportError`` saying how to install it when it is missing.

* ``to_torch(model)``: a ``torch.nn.Module`` computing exactly what ``model`` computes, in its dtype.
* ``from_torch(module)``: back again (a module built from the same kinds of layers, e.g. written by hand).
* ``to_torch_optimizer(model, module)``: a ``torch.optim`` optimizer that takes the same steps as
  ``model.optimizer``, its state (moments, accumulators, step count) carried over.
* ``to_torch_loss(loss)``: the loss as a function ``loss_fn(y_pred, y_true)`` of torch tensors.
* ``l2_penalty(module)``: the per-lookup L2 terms of the embeddings (``Embedding(l2=...)``) of the last
  forward pass, to add to the loss as tinyrec's ``fit`` does.

What maps to what (``x (batch, in)``; tinyrec keeps a kernel as ``(in, units)`` so that ``y = x·W``, PyTorch
as ``(units, in)`` so that ``y = x·Wᵀ``: the only layout change is that transpose)::

    tinyrec                                    torch.nn
    Sequential([...])                          nn.Sequential(...)
    Dense(units, activation=f, use_bias=b)     nn.Linear(in, units, bias=b)  [+ the activation module]
        kernel W (in, units), bias (units,)        weight Wᵀ (units, in), bias (units,)
    Activation("relu" | "sigmoid" | "tanh")    nn.ReLU() | nn.Sigmoid() | nn.Tanh()
    Activation("softmax" | "leaky_relu" | "linear")   nn.Softmax(dim=-1) | nn.LeakyReLU(0.3) | nn.Identity()
    Dropout(rate)                              nn.Dropout(p=rate)             (inverted dropout in both)
    Embedding(n, d, l2=λ, mask_zero)           IdEmbedding(n, d, l2=λ, mask_zero)   (an nn.Embedding, table (n, d))
    SimpleRNN(H, activation, return_sequences) RecurrentModule(nn.RNN(F, H, nonlinearity, batch_first=True))
        kernel W (F, H), recurrent U (H, H), b      weight_ih Wᵀ, weight_hh Uᵀ, bias_ih b, bias_hh 0 (frozen)
    GRU(H, return_sequences)                   RecurrentModule(nn.GRU(F, H, batch_first=True))
        W (F, 3H), U (H, 3H), gates z|r|n           weight_ih (3H, F), weight_hh (3H, H), gates r|z|n along rows
        bias (2, 3H)                                bias_ih = bias[0], bias_hh = bias[1] (gates reordered)
    Conv1D(filters, K, activation, padding)    Conv1DModule(nn.Conv1d(F, filters, K), activation, padding)
        kernel (K, F, filters)                      weight (filters, F, K) (a transpose; both cross-correlate)
    GlobalMaxPooling1D / GlobalAveragePooling1D    GlobalMaxPooling1DModule / GlobalAveragePooling1DModule
    Sequential with Embedding(mask_zero=True)  MaskedSequential: hands the padding mask along, as tinyrec does
    MatrixFactorization                        MatrixFactorizationModule: forward(users, items) -> (N, 1)
    NeuMF                                      NeuMFModule: forward(users, items) -> (N, 1) probabilities;
                                               .logits(users, items) for BCEWithLogits

``IdEmbedding`` is ``nn.Embedding`` taking ids as tinyrec does ((batch,) or (batch, 1), or (batch, time);
integers or whole floats) and computing tinyrec's per-lookup L2 term ``λ/N Σ_n ||E[id_n]||²`` on each
forward pass. The sequence modules take ``(batch, time, features)`` (torch's ``batch_first`` layout; a
``Conv1d`` reads channels first, so ``Conv1DModule`` transposes around it) and an optional ``mask=`` (batch,
time) bool, True at real steps: padded steps carry a recurrent state over unchanged and are skipped by the
convolution and the pooling, exactly as in tinyrec. The session recommenders' networks are ``Sequential``:
``to_torch(SessionGRU(n_items).fit(sequences).model)``.

Optimizers: tinyrec follows Keras 3; PyTorch's defaults and formulas differ. ``to_torch_optimizer`` maps the
constructor arguments so that the steps match (``g`` gradient, ``t`` step number)::

    tinyrec (Keras 3)                  torch.optim, as built by to_torch_optimizer      same steps?
    SGD(lr, momentum=μ, nesterov)      SGD(lr, momentum=μ, nesterov, dampening=0)       yes (momentum_buffer = −v/lr)
        v = μv − lr·g;  p += v             b = μb + g;  p −= lr·b
    Adagrad(lr, a₀=0.1, ε=1e-7)        Adagrad(lr, initial_accumulator_value=a₀+ε,      yes (sum = a + ε)
        p −= lr·g/sqrt(a + ε)              eps=0): p −= lr·g/(sqrt(sum) + eps)
                                           (torch's defaults: a₀ = 0, eps = 1e-10 outside the sqrt)
    RMSprop(lr, rho=0.9, ε=1e-7,       RMSprop(lr, alpha=rho, eps=ε, momentum,          only with ε = 0
        momentum, centered)                centered)  (torch's defaults: alpha 0.99, eps 1e-8)
        p −= lr·g/sqrt(s + ε)              p −= lr·g/(sqrt(s) + eps)    (momentum_buffer = u/lr)
    Adam(lr, β₁, β₂, ε=1e-7, amsgrad)  Adam(lr, betas=(β₁, β₂), eps=ε, amsgrad)         only with ε = 0
        p −= α_t·m/(sqrt(v) + ε)           p −= lr/(1−β₁ᵗ)·m/(sqrt(v)/sqrt(1−β₂ᵗ) + eps)
        α_t = lr·sqrt(1−β₂ᵗ)/(1−β₁ᵗ)       (torch's default eps 1e-8)

Where ε differs in placement no constant makes the two rules equal: RMSprop's ``sqrt(s + ε)`` and
``sqrt(s) + ε`` part ways where the mean square ``s`` is about ε or smaller (tiny gradients), and Keras' Adam
ε is Kingma & Ba's "ε̂", equal to torch's eps times ``sqrt(1−β₂ᵗ)`` — it changes with ``t``. Where ``s`` or
``v`` is far above ε the steps agree to a relative ``ε/(2s)`` (RMSprop) or ``ε/sqrt(v)`` (Adam); with
``epsilon=0`` they agree exactly (but then a coordinate whose gradient has always been 0 steps by 0/0 = NaN,
in both libraries). Adagrad's ε, inside the square root too, folds into the starting accumulator, because
``a`` only grows. "yes" means equal up to rounding (float64: ~1e-16 relative per step).

Embedding tables: tinyrec's optimizers update a table **lazily** (only the rows in the batch move, their
state too); ``torch.optim``'s dense optimizers move every row of a table whose state is non-zero (SGD with
momentum, RMSprop, Adam keep moving absent rows along their momentum). Plain SGD and Adagrad agree either
way, and so does any first step from a fresh state; afterwards a model with embeddings and a momentum-based
optimizer drifts apart in the rows that a batch did not touch (``torch.optim.SparseAdam`` with
``nn.Embedding(sparse=True)`` is PyTorch's lazy Adam).

Losses (``to_torch_loss``): MSE → ``F.mse_loss``; binary cross-entropy → ``F.binary_cross_entropy`` on
probabilities clipped to ``[1e-7, 1 − 1e-7]`` as tinyrec does, or ``F.binary_cross_entropy_with_logits``
(``from_logits=True``); categorical and sparse categorical → ``F.cross_entropy`` on logits, or the negative
log of the clipped probabilities. A tinyrec model that ends in ``sigmoid``/``softmax`` trains through the
fused ``p − y`` gradient; its torch twin keeps the activation, so ``to_torch_loss(model.loss)`` takes
probabilities — the same gradient, computed without the fusion.
"""

from __future__ import annotations

import functools

import numpy as np

from . import losses as losses_module
from . import optimizers as optimizers_module
from .activations import LEAKY_SLOPE

# The sequence layers through tinyrec.layers, which re-exports them (and must be imported before them).
from .layers import (
    GRU,
    Activation,
    Conv1D,
    Dense,
    Dropout,
    Embedding,
    GlobalAveragePooling1D,
    GlobalMaxPooling1D,
    Layer,
    SimpleRNN,
)
from .models import Sequential
from .recommenders.mf import MatrixFactorization
from .recommenders.neumf import NeuMF

# Also importable, defined when first asked for (they need torch): the TORCH_CLASSES below. They stay out of
# __all__ so that ``from tinyrec.interop import *`` does not import torch.
__all__ = ["to_torch", "from_torch", "to_torch_optimizer", "to_torch_loss", "l2_penalty", "INSTALL_HINT"]

INSTALL_HINT = 'pip install -e ".[interop]"   (or: pip install torch==2.13.0)'


def _import_torch():
    """``torch``, imported on first use, or an ImportError that says how to install it."""
    try:
        import torch
    except ImportError as err:
        raise ImportError(f"tinyrec.interop needs PyTorch, an optional extra that is not installed ({err}). "
                          f"Install it with: {INSTALL_HINT}") from None
    return torch


def _torch_dtype(dtype):
    torch = _import_torch()
    return {np.dtype("float32"): torch.float32, np.dtype("float64"): torch.float64}[np.dtype(dtype)]


def _numpy_dtype(torch_dtype, owner):
    torch = _import_torch()
    if torch_dtype == torch.float64:
        return "float64"
    if torch_dtype == torch.float32:
        return "float32"
    raise TypeError(f"{owner}: tinyrec computes in float32 or float64; the module's parameters are "
                    f"{torch_dtype}. Convert it first, e.g. module.float() or module.double().")


#: The torch modules defined here (on first use; ``from tinyrec.interop import NeuMFModule`` works).
TORCH_CLASSES = ("IdEmbedding", "MaskedSequential", "RecurrentModule", "Conv1DModule", "GlobalMaxPooling1DModule",
                 "GlobalAveragePooling1DModule", "MatrixFactorizationModule", "NeuMFModule")


# -- the torch modules (defined on first use, so that importing this file never imports torch) -----------
@functools.cache
def _torch_classes():
    torch = _import_torch()
    nn = torch.nn

    class IdEmbedding(nn.Embedding):
        """``nn.Embedding`` with tinyrec's conventions: ids ``(batch,)`` or ``(batch, 1)`` → ``(batch, dim)``,
        ids ``(batch, time)`` → ``(batch, time, dim)``.

        Ids may be any integer type or whole floats (a tinyrec ``Sequential`` of Dense layers hands them over
        as floats). With ``l2 = λ > 0`` the forward pass also sets ``self.penalty = λ/N Σ_n ||E[id_n]||²``
        (``N`` lookups; a tensor in the autograd graph), the term tinyrec's ``Embedding(l2=λ)`` adds to the
        loss; see ``l2_penalty``. With ``mask_zero=True`` id 0 is padding: ``self.output_mask = ids != 0``
        ``(batch, time)``, which ``MaskedSequential`` hands to the layers after it.
        """

        supports_masking = True

        def __init__(self, num_embeddings, embedding_dim, l2=0.0, mask_zero=False, **kwargs):
            super().__init__(num_embeddings, embedding_dim, **kwargs)
            self.l2, self.mask_zero = float(l2), bool(mask_zero)
            self.penalty = self.output_mask = None

        def forward(self, ids, mask=None):
            ids = torch.as_tensor(ids)
            if ids.dim() == 2 and ids.shape[1] == 1 and not self.mask_zero:
                ids = ids[:, 0]
            ids = ids.long()
            rows = super().forward(ids)
            self.output_mask = (ids != 0) if self.mask_zero and ids.dim() == 2 else None
            self.penalty = self.l2 * (rows * rows).sum() / max(ids.numel(), 1) if self.l2 else None
            return rows

        def extra_repr(self):
            return (super().extra_repr() + (f", l2={self.l2}" if self.l2 else "")
                    + (", mask_zero=True" if self.mask_zero else ""))

    class MaskedSequential(nn.Sequential):
        """``nn.Sequential`` that hands a padding mask along, as tinyrec's ``Sequential.forward`` does.

        A child with ``supports_masking`` is called as ``child(x, mask=mask)`` and its ``output_mask`` is the
        mask for the next ones; any other child is called as ``child(x)`` and leaves the mask unchanged.
        """

        def forward(self, x):
            mask = None
            for child in self:
                if getattr(child, "supports_masking", False):
                    x = child(x, mask=mask)
                    mask = child.output_mask
                else:
                    x = child(x)
            return x

    class RecurrentModule(nn.Module):
        """tinyrec's ``SimpleRNN``/``GRU``: torch's ``nn.RNN``/``nn.GRU`` (one layer, ``batch_first``) inside.

        ``x (batch, time, features)`` → ``h_T (batch, units)``, or every ``h_t`` ``(batch, time, units)`` with
        ``return_sequences``. With a mask, a padded step carries the state over (``h_t = h_{t−1}``): torch's
        own layer then runs one step at a time from the carried state, so the equations stay torch's.
        """

        supports_masking = True

        def __init__(self, rnn, return_sequences=False):
            super().__init__()
            self.rnn, self.return_sequences = rnn, bool(return_sequences)
            self.output_mask = None

        def forward(self, x, mask=None):
            if mask is None or bool(mask.all()):
                out, h = self.rnn(x)
                self.output_mask = None
                return out if self.return_sequences else h[0]
            h = x.new_zeros(1, x.shape[0], self.rnn.hidden_size)
            states = []
            for t in range(x.shape[1]):
                _, h_new = self.rnn(x[:, t:t + 1], h)
                h = torch.where(mask[:, t, None], h_new, h)  # (batch, 1) against (1, batch, units)
                states.append(h[0])
            self.output_mask = mask if self.return_sequences else None
            return torch.stack(states, dim=1) if self.return_sequences else h[0]

    class Conv1DModule(nn.Module):
        """tinyrec's ``Conv1D`` on ``(batch, time, features)``: ``nn.Conv1d`` (channels first, no padding) inside.

        ``padding="same"`` pads ``K − 1`` zero steps, ``(K − 1)//2`` on the left and the rest on the right (as
        tinyrec and Keras do), before the convolution. A mask zeroes the padded steps first; an output step
        is real when its window holds a real step.
        """

        supports_masking = True

        def __init__(self, conv, activation, padding="valid"):
            super().__init__()
            self.conv, self.activation, self.padding = conv, activation, padding
            k = conv.kernel_size[0]
            self.pads = ((k - 1) // 2, k - 1 - (k - 1) // 2) if padding == "same" else (0, 0)
            self.output_mask = None

        def forward(self, x, mask=None):
            if mask is not None:
                x = x * mask[:, :, None].to(x.dtype)
            xp = nn.functional.pad(x.transpose(1, 2), self.pads)  # (batch, features, time + K − 1)
            y = self.activation(self.conv(xp).transpose(1, 2))
            if mask is None:
                self.output_mask = None
            else:
                m = nn.functional.pad(mask[:, None, :].to(x.dtype), self.pads)
                self.output_mask = nn.functional.max_pool1d(m, self.conv.kernel_size[0], stride=1)[:, 0] > 0
            return y

    class GlobalMaxPooling1DModule(nn.Module):
        """``(batch, time, channels)`` → the max over the real steps ``(batch, channels)``; 0 for a row of padding."""

        supports_masking = True
        output_mask = None

        def forward(self, x, mask=None):
            if mask is None:
                return x.max(dim=1).values
            y = x.masked_fill(~mask[:, :, None], float("-inf")).max(dim=1).values
            return torch.where(mask.any(dim=1)[:, None], y, torch.zeros_like(y))

    class GlobalAveragePooling1DModule(nn.Module):
        """``(batch, time, channels)`` → the mean over the real steps ``(batch, channels)``."""

        supports_masking = True
        output_mask = None

        def forward(self, x, mask=None):
            if mask is None:
                return x.mean(dim=1)
            m = mask.to(x.dtype)
            w = m / m.sum(dim=1, keepdim=True).clamp(min=1.0)
            return torch.einsum("nt,ntc->nc", w, x)

    class MatrixFactorizationModule(nn.Module):
        """Biased MF ``r̂ = μ + b_u + b_i + p_u·q_i`` (``tinyrec.recommenders.MatrixFactorization``).

        ``forward(users (N,), items (N,)) -> (N, 1)``. Parameters in tinyrec's order: ``user_factors``
        ``(n_users, k)``, ``item_factors (n_items, k)``, ``user_bias (n_users, 1)``, ``item_bias
        (n_items, 1)``; ``global_mean`` μ is a buffer (fixed, not trained).
        """

        def __init__(self, n_users, n_items, n_factors=32, l2=0.0, l2_bias=0.0, global_mean=0.0,
                     dtype=torch.float32):
            super().__init__()
            self.n_factors = int(n_factors)
            self.user_factors = IdEmbedding(n_users, n_factors, l2=l2, dtype=dtype)
            self.item_factors = IdEmbedding(n_items, n_factors, l2=l2, dtype=dtype)
            self.user_bias = IdEmbedding(n_users, 1, l2=l2_bias, dtype=dtype)
            self.item_bias = IdEmbedding(n_items, 1, l2=l2_bias, dtype=dtype)
            self.register_buffer("global_mean", torch.tensor(float(global_mean), dtype=dtype))

        def forward(self, users, items):
            dot = (self.user_factors(users) * self.item_factors(items)).sum(dim=1, keepdim=True)
            return self.global_mean + self.user_bias(users) + self.item_bias(items) + dot

    class NeuMFModule(nn.Module):
        """NeuMF (``tinyrec.recommenders.NeuMF``): ``σ([p_u ⊙ q_i, MLP([a_u, b_i])]·w + c)``.

        ``forward(users (N,), items (N,)) -> (N, 1)`` probabilities; ``logits(users, items)`` is the
        pre-sigmoid ``z``, for ``BCEWithLogitsLoss``. Parameters in tinyrec's order: ``gmf_user``,
        ``gmf_item``, ``mlp_user``, ``mlp_item``, ``mlp`` (Linear + ReLU per width), ``output`` (Linear).
        """

        def __init__(self, n_users, n_items, n_factors=8, mlp_layers=(64, 32, 16, 8), l2=0.0,
                     dtype=torch.float32):
            super().__init__()
            self.n_factors, self.mlp_layers = int(n_factors), tuple(int(w) for w in mlp_layers)
            half = self.mlp_layers[0] // 2
            self.gmf_user = IdEmbedding(n_users, n_factors, l2=l2, dtype=dtype)
            self.gmf_item = IdEmbedding(n_items, n_factors, l2=l2, dtype=dtype)
            self.mlp_user = IdEmbedding(n_users, half, l2=l2, dtype=dtype)
            self.mlp_item = IdEmbedding(n_items, half, l2=l2, dtype=dtype)
            widths = self.mlp_layers
            self.mlp = nn.Sequential(*[m for a, b in zip(widths[:-1], widths[1:])
                                       for m in (nn.Linear(a, b, dtype=dtype), nn.ReLU())])
            self.output = nn.Linear(n_factors + widths[-1], 1, dtype=dtype)

        def logits(self, users, items):
            gmf = self.gmf_user(users) * self.gmf_item(items)
            h = self.mlp(torch.cat([self.mlp_user(users), self.mlp_item(items)], dim=1))
            return self.output(torch.cat([gmf, h], dim=1))

        def forward(self, users, items):
            return torch.sigmoid(self.logits(users, items))

    classes = {cls.__name__: cls for cls in (IdEmbedding, MaskedSequential, RecurrentModule, Conv1DModule,
                                             GlobalMaxPooling1DModule, GlobalAveragePooling1DModule,
                                             MatrixFactorizationModule, NeuMFModule)}
    for name, cls in classes.items():
        cls.__module__, cls.__qualname__ = __name__, name  # picklable as tinyrec.interop.<name>
    return classes


def __getattr__(name):
    """``from tinyrec.interop import NeuMFModule`` works, importing torch only then (PEP 562)."""
    if name in TORCH_CLASSES:
        return _torch_classes()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def l2_penalty(module):
    """Σ of the ``IdEmbedding`` L2 terms of ``module``'s last forward pass (0.0 when it has none).

    tinyrec's ``fit`` minimises ``loss + Σ penalties``; train the torch twin on the same sum.
    """
    terms = [m.penalty for m in module.modules()
             if isinstance(m, _torch_classes()["IdEmbedding"]) and m.penalty is not None]
    return sum(terms) if terms else 0.0


# -- tinyrec → torch --------------------------------------------------------------------------------
def _activation_module(name):
    nn = _import_torch().nn
    return {"linear": nn.Identity, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU,
            "leaky_relu": lambda: nn.LeakyReLU(LEAKY_SLOPE), "softmax": lambda: nn.Softmax(dim=-1)}[name]()


def _copy(param, array):
    """Copy a NumPy array into a torch parameter (already in torch's layout), no gradient recorded."""
    torch = _import_torch()
    with torch.no_grad():
        param.copy_(torch.from_numpy(np.ascontiguousarray(array)))


def _layer_to_torch(layer):
    """The torch modules computing ``layer`` (a list: a Dense with an activation is Linear + activation).

    Weights are not copied here: ``to_torch`` copies every parameter afterwards, through ``_param_specs``.
    """
    torch = _import_torch()
    nn, classes = torch.nn, _torch_classes()
    if not layer.built:
        raise ValueError(f"to_torch: layer {layer.name!r} has no weights yet; build or fit the model first.")
    dtype = _torch_dtype(layer.dtype)
    if isinstance(layer, Dense):
        linear = nn.Linear(layer.in_dim, layer.units, bias=layer.use_bias, dtype=dtype)
        return [linear] if layer.activation.name == "linear" else [linear, _activation_module(layer.activation.name)]
    if isinstance(layer, Activation):
        return [_activation_module(layer.activation.name)]
    if isinstance(layer, Dropout):
        return [nn.Dropout(p=layer.rate)]
    if isinstance(layer, Embedding):
        return [classes["IdEmbedding"](layer.input_dim, layer.output_dim, l2=layer.l2,
                                       mask_zero=getattr(layer, "mask_zero", False), dtype=dtype)]
    if isinstance(layer, GRU):
        return [classes["RecurrentModule"](nn.GRU(layer.in_dim, layer.units, batch_first=True, dtype=dtype),
                                           layer.return_sequences)]
    if isinstance(layer, SimpleRNN):
        if layer.activation.name not in ("tanh", "relu"):
            raise TypeError(f"to_torch: nn.RNN has only tanh and relu; layer {layer.name!r} uses "
                            f"{layer.activation.name!r}.")
        rnn = nn.RNN(layer.in_dim, layer.units, nonlinearity=layer.activation.name, batch_first=True, dtype=dtype)
        # tinyrec has one bias b, torch two (b_ih + b_hh): b_hh stays 0 and frozen, else b would learn twice as fast
        with torch.no_grad():
            rnn.bias_hh_l0.zero_()
        rnn.bias_hh_l0.requires_grad_(False)
        return [classes["RecurrentModule"](rnn, layer.return_sequences)]
    if isinstance(layer, Conv1D):
        conv = nn.Conv1d(layer.in_dim, layer.filters, layer.kernel_size, bias=layer.use_bias, dtype=dtype)
        return [classes["Conv1DModule"](conv, _activation_module(layer.activation.name), layer.padding)]
    if isinstance(layer, GlobalMaxPooling1D):
        return [classes["GlobalMaxPooling1DModule"]()]
    if isinstance(layer, GlobalAveragePooling1D):
        return [classes["GlobalAveragePooling1DModule"]()]
    raise TypeError(f"to_torch: no PyTorch equivalent for layer {layer.name!r} of type {type(layer).__name__}; "
                    f"supported: {', '.join(_SUPPORTED_LAYERS)}.")


_SUPPORTED_LAYERS = ("Dense", "Activation", "Dropout", "Embedding", "SimpleRNN", "GRU", "Conv1D",
                     "GlobalMaxPooling1D", "GlobalAveragePooling1D")


def to_torch(model):
    """A ``torch.nn.Module`` equivalent to ``model`` (a tinyrec model or a single layer), same weights.

    ``Sequential`` → ``nn.Sequential`` (``MaskedSequential`` when an ``Embedding(mask_zero=True)`` makes a
    padding mask); ``MatrixFactorization`` → ``MatrixFactorizationModule``; ``NeuMF`` → ``NeuMFModule``; a
    built ``Layer`` → its module(s), a sequence layer's taking ``(x, mask=None)``. The module is in the
    model's dtype (float32 → ``torch.float32``, float64 → ``torch.float64``) and starts in training mode, as
    every new torch module does: call ``.eval()`` before comparing outputs of a model with dropout. Weights
    are copied, not shared.
    The global torch random state is left as it was (module constructors draw initial weights from it).
    """
    torch = _import_torch()
    with torch.random.fork_rng(devices=[]):
        if isinstance(model, Layer):
            modules = _layer_to_torch(model)
            module = modules[0] if len(modules) == 1 else torch.nn.Sequential(*modules)
            _copy_weights_to_torch(model, module)
            return module
        if isinstance(model, Sequential):
            if not model.built:
                raise ValueError(f"to_torch: model {model.name!r} has no weights yet. Give the first layer "
                                 "input_dim=..., call model.build(input_shape), or fit it first.")
            modules = [m for layer in model.layers for m in _layer_to_torch(layer)]
            masked = any(getattr(layer, "mask_zero", False) for layer in model.layers)
            module = (_torch_classes()["MaskedSequential"] if masked else torch.nn.Sequential)(*modules)
            _copy_weights_to_torch(model, module)
            return module
        if isinstance(model, MatrixFactorization):
            module = _torch_classes()["MatrixFactorizationModule"](
                model.n_users, model.n_items, model.n_factors, l2=model.user_factors.l2,
                l2_bias=model.user_bias.l2, global_mean=model.global_mean, dtype=_torch_dtype(model.dtype))
            _copy_weights_to_torch(model, module)
            return module
        if isinstance(model, NeuMF):
            module = _torch_classes()["NeuMFModule"](model.n_users, model.n_items, model.n_factors,
                                                     model.mlp_layers, l2=model.gmf_user.l2,
                                                     dtype=_torch_dtype(model.dtype))
            _copy_weights_to_torch(model, module)
            return module
    raise TypeError(f"to_torch: expected a tinyrec Sequential, MatrixFactorization, NeuMF or Layer; "
                    f"got {type(model).__name__}.")


# -- parameter links: which torch parameters hold which tinyrec array, in which layout ------------------
def _same(a):
    return [a]


def _param_specs(layer):
    """``[(name, split, join)]`` for each tinyrec parameter of ``layer``, in ``layer.params`` order.

    ``split(array) -> [arrays]`` gives the torch parameter(s) holding it, in torch's layout and in the order
    of ``module.parameters()``; ``join([arrays]) -> array`` goes back. Both are index maps (transposes,
    reorders, splits), so they carry optimizer state shaped like the parameter as well.
    """
    if isinstance(layer, Dense):  # kernel (in, units) ↔ weight (units, in)
        return [("kernel", lambda a: [a.T], lambda ts: ts[0].T), *([("bias", _same, lambda ts: ts[0])]
                                                                   if layer.use_bias else [])]
    if isinstance(layer, SimpleRNN):  # W (F, H) ↔ weight_ih (H, F), U (H, H) ↔ weight_hh, b ↔ bias_ih
        return [("kernel", lambda a: [a.T], lambda ts: ts[0].T),
                ("recurrent_kernel", lambda a: [a.T], lambda ts: ts[0].T), ("bias", _same, lambda ts: ts[0])]
    if isinstance(layer, GRU):
        # tinyrec (Keras) blocks z, r, n along the 3H columns; torch r, z, n along the 3H rows. Swapping the
        # first two blocks is its own inverse. Bias (2, 3H): row 0 ↔ bias_ih, row 1 ↔ bias_hh.
        H = layer.units

        def swap(w):
            return np.concatenate([w[H:2 * H], w[:H], w[2 * H:]])

        return [("kernel", lambda a: [swap(a.T)], lambda ts: swap(ts[0]).T),
                ("recurrent_kernel", lambda a: [swap(a.T)], lambda ts: swap(ts[0]).T),
                ("bias", lambda a: [swap(a[0]), swap(a[1])], lambda ts: np.stack([swap(ts[0]), swap(ts[1])]))]
    if isinstance(layer, Conv1D):  # kernel (K, F, filters) ↔ weight (filters, F, K)
        return [("kernel", lambda a: [a.transpose(2, 1, 0)], lambda ts: ts[0].transpose(2, 1, 0)),
                *([("bias", _same, lambda ts: ts[0])] if layer.use_bias else [])]
    return [(name, _same, lambda ts: ts[0]) for name in layer.params]


def _links(model, module, owner):
    """``[(layer, name, array, [torch parameters], split, join)]`` pairing the parameters of the two models.

    Both list their parameters in the same order (tinyrec: ``model.layers``, then each ``layer.params``;
    torch: ``module.parameters()``, registration order), which ``to_torch`` keeps by construction. Frozen
    torch parameters (``requires_grad=False``) have no tinyrec counterpart and are skipped.
    """
    layers = [model] if isinstance(model, Layer) else model.layers
    theirs = [t for t in module.parameters() if t.requires_grad]
    links, i, ok = [], 0, True
    for layer in layers:
        for name, split, join in _param_specs(layer):
            p = layer.params[name]
            parts = split(p)
            ts = theirs[i:i + len(parts)]
            i += len(parts)
            ok = ok and len(ts) == len(parts) and all(a.shape == tuple(t.shape) for a, t in zip(parts, ts))
            links.append((layer, name, p, ts, split, join))
    if not ok or i != len(theirs):
        ours = [(f"{la.name}.{n}", p.shape) for la in layers for n, p in la.params.items()]
        raise ValueError(
            f"{owner}: the torch module does not have the parameters of this tinyrec model (was it made by "
            f"to_torch(model)?).\n  tinyrec: {ours}\n  torch:   {[tuple(t.shape) for t in theirs]}")
    return links


def _copy_weights_to_torch(model, module):
    for _, _, p, ts, split, _ in _links(model, module, "to_torch"):
        for t, a in zip(ts, split(p)):
            _copy(t, a)


# -- torch → tinyrec --------------------------------------------------------------------------------
def _activation_name(m):
    nn = _import_torch().nn
    simple = {nn.Identity: "linear", nn.Sigmoid: "sigmoid", nn.Tanh: "tanh", nn.ReLU: "relu"}
    if type(m) in simple:
        return simple[type(m)]
    if type(m) is nn.LeakyReLU:
        if m.negative_slope != LEAKY_SLOPE:
            raise ValueError(f"from_torch: tinyrec's leaky_relu has slope {LEAKY_SLOPE} (Keras' default); "
                             f"got nn.LeakyReLU(negative_slope={m.negative_slope}).")
        return "leaky_relu"
    if type(m) is nn.Softmax:
        if m.dim not in (-1, 1):
            raise ValueError(f"from_torch: tinyrec's softmax runs over the last axis; got nn.Softmax(dim={m.dim}).")
        return "softmax"
    return None


def _check_plain_embedding(m, owner):
    """tinyrec's Embedding is a bare lookup: refuse the nn.Embedding options that change what it computes."""
    if m.padding_idx is not None or m.max_norm is not None or m.scale_grad_by_freq:
        raise ValueError(f"{owner}: tinyrec's Embedding has no padding_idx, max_norm or scale_grad_by_freq "
                         f"(use Embedding(mask_zero=True) for padding id 0); got {m}.")


def _layer_from_torch(m, owner):
    """``(tinyrec layer, input shape it reads or None)`` for one torch module (not a Linear; see below)."""
    nn, classes = _import_torch().nn, _torch_classes()
    if isinstance(m, nn.Embedding):
        _check_plain_embedding(m, owner)
        return Embedding(m.num_embeddings, m.embedding_dim, l2=getattr(m, "l2", 0.0),
                         mask_zero=getattr(m, "mask_zero", False)), (None, 1)
    if isinstance(m, nn.Dropout):
        return Dropout(m.p), None
    if isinstance(m, classes["RecurrentModule"]):
        rnn = m.rnn
        if rnn.num_layers != 1 or rnn.bidirectional or not rnn.batch_first:
            raise ValueError(f"{owner}: tinyrec's recurrent layers are one layer, one direction, batch first; "
                             f"got {rnn}.")
        if isinstance(rnn, nn.GRU):
            layer = GRU(rnn.hidden_size, return_sequences=m.return_sequences)
        else:
            layer = SimpleRNN(rnn.hidden_size, activation=rnn.nonlinearity, return_sequences=m.return_sequences)
        return layer, (None, None, rnn.input_size)
    if isinstance(m, classes["Conv1DModule"]):
        c = m.conv
        if c.stride != (1,) or c.dilation != (1,) or c.groups != 1 or c.padding != (0,):
            raise ValueError(f"{owner}: tinyrec's Conv1D has stride 1, no dilation, one group, and pads in "
                             f"Conv1DModule (padding=...), not in nn.Conv1d; got {c}.")
        layer = Conv1D(c.out_channels, c.kernel_size[0], activation=_activation_name(m.activation),
                       use_bias=c.bias is not None, padding=m.padding)
        return layer, (None, None, c.in_channels)
    if isinstance(m, classes["GlobalMaxPooling1DModule"]):
        return GlobalMaxPooling1D(), None
    if isinstance(m, classes["GlobalAveragePooling1DModule"]):
        return GlobalAveragePooling1D(), None
    if _activation_name(m) is not None:
        return Activation(_activation_name(m)), None
    raise TypeError(f"{owner}: no tinyrec layer for torch module {type(m).__name__}; supported: nn.Linear, "
                    "nn.Embedding, nn.Dropout, nn.ReLU, nn.Sigmoid, nn.Tanh, nn.Softmax, nn.LeakyReLU, "
                    f"nn.Identity and this module's {', '.join(TORCH_CLASSES[:6])}.")


def _sequential_from_torch(modules, owner):
    """A tinyrec ``Sequential`` from a list of torch layer modules; a Linear absorbs the activation after it."""
    nn = _import_torch().nn
    params = [p for m in modules for p in m.parameters()]
    dtype = _numpy_dtype(params[0].dtype, owner) if params else "float32"
    layers, input_shape = [], None
    i = 0
    while i < len(modules):
        m = modules[i]
        if isinstance(m, nn.Linear):
            act = _activation_name(modules[i + 1]) if i + 1 < len(modules) else None
            layer, reads = Dense(m.out_features, activation=act, use_bias=m.bias is not None), (None, m.in_features)
            i += 2 if act is not None else 1
        else:
            layer, reads = _layer_from_torch(m, owner)
            i += 1
        layers.append(layer)
        if input_shape is None and reads is not None:  # layers before it (Dropout, ...) keep the shape
            input_shape = reads
    if input_shape is None:
        raise ValueError(f"{owner}: cannot tell the input shape of a module that starts with "
                         f"{type(modules[0]).__name__}.")
    if isinstance(layers[0], Embedding) and any(isinstance(la, (GRU, SimpleRNN, Conv1D)) for la in layers):
        input_shape = (None, None)  # ids (batch, time): a sequence per row
    model = Sequential(layers, dtype=dtype)
    model.build(input_shape)
    return model


def _copy_weights_from_torch(model, module, owner):
    for _, _, p, ts, _, join in _links(model, module, owner):
        np.copyto(p, join([t.detach().cpu().numpy() for t in ts]), casting="same_kind")


def from_torch(module):
    """The tinyrec model computing what ``module`` computes, with its weights copied (the reverse of ``to_torch``).

    ``nn.Sequential`` or ``MaskedSequential`` (or a single layer module) of ``nn.Linear``, ``nn.Embedding``,
    ``nn.Dropout``, the activations and the sequence modules listed in the module docstring → ``Sequential``
    (an activation right after a Linear becomes that ``Dense``'s ``activation=``); ``MatrixFactorizationModule`` →
    ``MatrixFactorization``;
    ``NeuMFModule`` → ``NeuMF``. The dtype follows the parameters (float32 or float64). The result is not
    compiled, and a recommender knows nothing of its training data: ``recommend(..., exclude_seen=False)``.
    """
    torch = _import_torch()
    owner = "from_torch"
    classes = _torch_classes()
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"{owner}: expected a torch.nn.Module; got {type(module).__name__}.")
    if isinstance(module, classes["MatrixFactorizationModule"]):
        model = MatrixFactorization(module.user_factors.num_embeddings, module.item_factors.num_embeddings,
                                    n_factors=module.n_factors, l2=module.user_factors.l2,
                                    l2_bias=module.user_bias.l2,
                                    dtype=_numpy_dtype(module.user_factors.weight.dtype, owner))
        model.global_mean = float(module.global_mean)
    elif isinstance(module, classes["NeuMFModule"]):
        model = NeuMF(module.gmf_user.num_embeddings, module.gmf_item.num_embeddings,
                      n_factors=module.n_factors, mlp_layers=module.mlp_layers, l2=module.gmf_user.l2,
                      dtype=_numpy_dtype(module.gmf_user.weight.dtype, owner))
    else:
        children = list(module) if isinstance(module, torch.nn.Sequential) else [module]
        model = _sequential_from_torch(children, owner)
    _copy_weights_from_torch(model, module, owner)
    return model


# -- optimizers -------------------------------------------------------------------------------------
def to_torch_optimizer(model, module, optimizer=None):
    """A ``torch.optim`` optimizer over ``module = to_torch(model)`` taking the same steps as ``optimizer``.

    ``optimizer`` defaults to ``model.optimizer`` (the compiled one); a name such as ``"adam"`` means
    tinyrec's default of that name. Its hyperparameters are mapped as in the module docstring's table, and
    its state — SGD velocity, Adagrad accumulator, RMSprop mean squares and momentum, Adam moments — and the
    step count are carried over, so training can continue in PyTorch where it stopped in tinyrec.
    """
    torch = _import_torch()
    owner = "to_torch_optimizer"
    if optimizer is None:
        if getattr(model, "optimizer", None) is None:
            raise ValueError(f"{owner}: the model has no optimizer (not compiled, or fitted in closed form as "
                             "MatrixFactorization(solver='als') is); compile it or pass optimizer=..., "
                             "e.g. optimizer='adam'.")
        optimizer = model.optimizer
    optimizer = optimizers_module.get(optimizer)
    links = _links(model, module, owner)
    params = [t for link in links for t in link[3]]
    lr = optimizer.learning_rate
    if isinstance(optimizer, optimizers_module.SGD):
        torch_opt = torch.optim.SGD(params, lr=lr, momentum=optimizer.momentum, nesterov=optimizer.nesterov)
    elif isinstance(optimizer, optimizers_module.Adagrad):
        # ε inside the square root: sqrt(a + ε) = sqrt((a₀ + ε) + Σg²), so it moves into the start value.
        torch_opt = torch.optim.Adagrad(params, lr=lr, eps=0.0,
                                        initial_accumulator_value=optimizer.initial_accumulator_value
                                        + optimizer.epsilon)
    elif isinstance(optimizer, optimizers_module.RMSprop):
        torch_opt = torch.optim.RMSprop(params, lr=lr, alpha=optimizer.rho, eps=optimizer.epsilon,
                                        momentum=optimizer.momentum, centered=optimizer.centered)
    elif isinstance(optimizer, optimizers_module.Adam):
        torch_opt = torch.optim.Adam(params, lr=lr, betas=(optimizer.beta_1, optimizer.beta_2),
                                     eps=optimizer.epsilon, amsgrad=optimizer.amsgrad)
    else:
        raise TypeError(f"{owner}: no torch.optim equivalent for {type(optimizer).__name__}.")
    _carry_state(optimizer, torch_opt, links)
    return torch_opt


def _carry_state(optimizer, torch_opt, links):
    """Copy tinyrec's per-parameter state into ``torch_opt.state`` under torch's names and conventions."""
    torch = _import_torch()
    step_dtype = torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32  # as torch.optim
    lr = optimizer.learning_rate
    step = float(optimizer.iterations)
    for _, _, p, ts, split, _ in links:
        try:
            ours = optimizer.get_state(p)
        except ValueError:
            continue  # never updated: torch starts it fresh, as tinyrec would
        # each state array, in torch's layout: one piece per torch parameter (the same index map as the weight)
        pieces = {key: split(a) for key, a in ours.items()}
        for j, t in enumerate(ts):
            def conv(key, scale=1.0, j=j, t=t, pieces=pieces):
                return torch.from_numpy(np.ascontiguousarray(pieces[key][j] * scale)).to(t.dtype)

            if isinstance(optimizer, optimizers_module.SGD):
                if "velocity" in ours:
                    torch_opt.state[t] = {"momentum_buffer": conv("velocity", -1.0 / lr)}  # v = −lr·b
                continue
            state = {"step": torch.tensor(step, dtype=step_dtype)}
            if isinstance(optimizer, optimizers_module.Adagrad):
                state["sum"] = conv("accumulator") + optimizer.epsilon  # see to_torch_optimizer
            elif isinstance(optimizer, optimizers_module.RMSprop):
                state["square_avg"] = conv("mean_square")
                if "mean_grad" in ours:
                    state["grad_avg"] = conv("mean_grad")
                if "momentum" in ours:
                    state["momentum_buffer"] = conv("momentum", 1.0 / lr)  # u = lr·b
            elif isinstance(optimizer, optimizers_module.Adam):
                state["exp_avg"], state["exp_avg_sq"] = conv("m"), conv("v")
                if "v_hat" in ours:
                    state["max_exp_avg_sq"] = conv("v_hat")
            torch_opt.state[t] = state


# -- losses -----------------------------------------------------------------------------------------
def to_torch_loss(loss):
    """``loss_fn(y_pred, y_true) -> scalar tensor``: tinyrec's ``loss`` (a name or a Loss) in torch functions.

    Same shapes and conventions as tinyrec: ``y_true`` may be ``(N,)`` for outputs ``(N, 1)``; sparse labels
    are ``(N,)`` or ``(N, 1)`` integers; probabilities are clipped to ``[1e-7, 1 − 1e-7]`` as tinyrec does.
    """
    torch = _import_torch()
    F = torch.nn.functional
    loss = losses_module.get(loss)
    eps = losses_module.EPSILON

    def targets(y_true, y_pred):
        return torch.as_tensor(y_true, dtype=y_pred.dtype).reshape(y_pred.shape)

    def labels(y_true):
        return torch.as_tensor(np.asarray(y_true).reshape(-1).astype(np.int64))

    if isinstance(loss, losses_module.MeanSquaredError):
        return lambda y_pred, y_true: F.mse_loss(y_pred, targets(y_true, y_pred))
    if isinstance(loss, losses_module.BinaryCrossentropy):
        if loss.from_logits:
            return lambda z, y_true: F.binary_cross_entropy_with_logits(z, targets(y_true, z))
        return lambda p, y_true: F.binary_cross_entropy(p.clamp(eps, 1 - eps), targets(y_true, p))
    if isinstance(loss, losses_module.SparseCategoricalCrossentropy):
        if loss.from_logits:
            return lambda z, y_true: F.cross_entropy(z, labels(y_true))
        return lambda p, y_true: F.nll_loss(p.clamp(eps, 1 - eps).log(), labels(y_true))
    if isinstance(loss, losses_module.CategoricalCrossentropy):
        if loss.from_logits:
            return lambda z, y_true: F.cross_entropy(z, targets(y_true, z))  # probability targets
        return lambda p, y_true: -(targets(y_true, p) * p.clamp(eps, 1 - eps).log()).sum(dim=-1).mean()
    raise TypeError(f"to_torch_loss: no torch equivalent for {type(loss).__name__}.")

