"""Layers (层): each a small class with ``forward`` and its hand-derived ``backward`` side by side.

The contract every layer follows (``Layer``):

* ``build(input_shape, rng, dtype)`` creates the parameters once the input width is known (lazily, on
  the first call), so ``Dense(32)`` needs no input size unless it is the first layer of a model.
* ``forward(x, training=False) -> y`` computes the output and caches what ``backward`` will need.
* ``backward(dy) -> dx`` receives ``dL/dy``, fills ``self.grads`` (same keys as ``self.params``) and
  returns ``dL/dx`` for the layer below. Nothing else computes gradients; nothing but the optimizer
  moves parameters.

Parameter arrays are updated in place by the optimizer and gradients are written in place, so the
``(grad, param)`` pairs a model hands to its optimizer stay valid for the whole of training.
"""

from __future__ import annotations

import inspect
import itertools
from collections import defaultdict

import numpy as np

from . import _checks, initializers
from . import activations as activations_module
from ._checks import as_rng as _as_rng
from ._checks import check_ids
from .sparse import SparseGradient  # a data type: (row indices, row gradients) of a table

_name_counters: dict[str, itertools.count] = defaultdict(itertools.count)


def _auto_name(prefix: str) -> str:
    """Keras-style unique names: ``dense``, ``dense_1``, ``dense_2``, ..."""
    n = next(_name_counters[prefix])
    return prefix if n == 0 else f"{prefix}_{n}"


class Layer:
    """Base class: named parameters, same-named gradients, lazy build, ``forward``/``backward``.

    To write your own layer, override ``build`` (create ``self.params[...]`` and matching zero
    ``self.grads[...]``), ``forward`` and ``backward``, and ``compute_output_shape`` if the width
    changes; then check it with ``tinyrec.gradcheck.check_layer(layer, x)``.

    Attributes:
        params: dict name → array, e.g. ``{"kernel": W, "bias": b}``.
        grads: dict name → array of the same shapes, written by ``backward``.
        input_shape: ``(None, width)`` when given (``input_dim=``), else set at build.
        needs_input_grad: ``False`` for a model's first layer, whose input is data: its ``dx`` is
            never used, so ``backward`` may skip computing it and return ``None``.
    """

    activation = None  # the output activation, if the layer ends in one (see ``backward_from_logits``)
    penalty = 0.0  # a regularisation term this layer adds to the loss on the last forward pass
    # Masks (variable-length sequences): a layer with ``supports_masking`` has
    # ``forward(x, training=False, mask=None)`` taking a ``(batch, time)`` bool mask (True = a real step), and
    # sets ``output_mask`` to the mask of its own output (None once the time axis is gone).
    supports_masking = False
    output_mask = None

    def __init__(self, name=None, input_dim=None, input_shape=None):
        self.name = name or _auto_name(self._default_name())
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.built = False
        self.needs_input_grad = True
        self.dtype = None
        if input_dim is not None:
            input_shape = (input_dim,)
        self.input_shape = None if input_shape is None else (None, *tuple(input_shape))

    @classmethod
    def _default_name(cls):
        # "Dense" → "dense", "BiasOnly" → "bias_only"
        return "".join("_" + c.lower() if c.isupper() else c for c in cls.__name__).lstrip("_")

    # -- building ----------------------------------------------------------------------------
    def build(self, input_shape, rng=None, dtype=np.float32):
        """Create parameters for inputs of ``input_shape`` (``(None, width)``); the base has none."""
        self.input_shape = (None, *tuple(input_shape)[1:])
        self.dtype = np.dtype(dtype)
        self.built = True

    def _add_param(self, name, value):
        self.params[name] = value
        self.grads[name] = np.zeros_like(value)

    def __call__(self, x, training=False, mask=None):
        """Build on first use (from ``x``'s shape and float dtype), then ``forward`` (with ``mask`` if given)."""
        if not self.built:
            x = np.asarray(x)
            dtype = x.dtype if x.dtype.kind == "f" else np.float32
            self.build(x.shape, rng=None, dtype=dtype)
        if mask is not None:
            if not self.supports_masking:
                raise TypeError(f"Layer {self.name!r} ({type(self).__name__}) does not accept a mask.")
            return self.forward(x, training=training, mask=mask)
        return self.forward(x, training=training)

    # -- the two passes ------------------------------------------------------------------------
    def forward(self, x, training=False):
        raise NotImplementedError(f"{type(self).__name__} must implement forward(x, training)")

    def backward(self, dy):
        raise NotImplementedError(f"{type(self).__name__} must implement backward(dy)")

    # -- bookkeeping -------------------------------------------------------------------------
    def compute_output_shape(self, input_shape):
        """Output shape for inputs of ``input_shape``; unchanged unless a layer overrides it."""
        return tuple(input_shape)

    def count_params(self) -> int:
        return int(sum(p.size for p in self.params.values()))

    def get_weights(self) -> list[np.ndarray]:
        """Copies of the parameters, in ``self.params`` order (Keras' name)."""
        return [p.copy() for p in self.params.values()]

    def set_weights(self, weights):
        """Copy ``weights`` (a list in ``self.params`` order) into the parameters, in place."""
        weights = list(weights)
        if len(weights) != len(self.params):
            raise ValueError(
                f"Layer {self.name!r} expects {len(self.params)} weight arrays "
                f"({', '.join(self.params) or 'none'}); got {len(weights)}."
            )
        for (pname, p), w in zip(self.params.items(), weights):
            w = np.asarray(w)
            if w.shape != p.shape:
                raise ValueError(
                    f"Layer {self.name!r}: weight {pname!r} must have shape {p.shape}; got {w.shape}."
                )
            np.copyto(p, w, casting="same_kind")

    def _check_input(self, x, width):
        """Raise a clear error when ``x`` is not ``(batch, width)``: better here than deep in NumPy."""
        if x.ndim != 2 or x.shape[1] != width:
            raise ValueError(
                f"Layer {self.name!r} expects input of shape (batch, {width}); got shape {x.shape}."
            )
        if x.dtype.kind not in "fiub":
            raise ValueError(f"Layer {self.name!r}: x must be a real numeric array; got dtype {x.dtype}.")

    def get_config(self) -> dict:
        """Constructor arguments that rebuild this layer (Keras' name), for ``model.save``.

        Read generically: every ``__init__`` argument stored under the same attribute name, activations by
        name, initializers by registered name (a custom initializer function is left out: the saved weights
        replace the initial ones anyway). A layer whose arguments are stored differently overrides this.
        """
        config = {}
        for arg in inspect.signature(type(self).__init__).parameters:
            if arg == "self" or not hasattr(self, arg):
                continue
            value = getattr(self, arg)
            if isinstance(value, activations_module.ActivationFunction):
                value = value.name
            elif callable(value):
                value = getattr(value, "__name__", None)
                if value not in initializers.NAMES:
                    continue
            elif isinstance(value, tuple):
                value = list(value)
            elif isinstance(value, np.generic):
                value = value.item()
            if value is None or isinstance(value, (bool, int, float, str, list)):
                config[arg] = value
        return config

    def __repr__(self):
        return f"{type(self).__name__}(name={self.name!r})"


class Dense(Layer):
    """A fully connected layer (全连接层): ``y = f(x·W + b)``.

    Shapes: ``x (batch, in)``, kernel ``W (in, units)``, bias ``b (units,)``, ``z = x·W + b`` and
    ``y = f(z)`` are ``(batch, units)``.

    Backward, given ``dy = dL/dy (batch, units)``:

    * through the activation: ``dz = dy ⊙ f'(z)``                        ``(batch, units)``
    * ``dW = xᵀ · dz``                                                    ``(in, units)``
    * ``db = Σ_batch dz``  (sum over rows: b was added to every row)       ``(units,)``
    * ``dx = dz · Wᵀ``                                                    ``(batch, in)``

    Args:
        units: output width.
        activation: a name from ``tinyrec.activations`` (``"relu"``, ``"sigmoid"``, ...) or None (linear).
        use_bias: add ``b``.
        kernel_initializer, bias_initializer: names from ``tinyrec.initializers``.
        input_dim: input width, needed only on a model's first layer (as in Keras).
    """

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", input_dim=None, name=None, input_shape=None):
        if not isinstance(units, (int, np.integer)) or isinstance(units, bool) or units < 1:
            raise ValueError(f"Dense: units must be a positive integer; got {units!r}.")
        if input_dim is not None:
            input_dim = _checks.positive_int("Dense", "input_dim", input_dim)
        super().__init__(name=name, input_dim=input_dim, input_shape=input_shape)
        self.units = int(units)
        self.activation = activations_module.get(activation)
        self.use_bias = _checks.flag("Dense", "use_bias", use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)

    def build(self, input_shape, rng=None, dtype=np.float32):
        super().build(input_shape, rng, dtype)
        rng = _as_rng(rng)
        self.in_dim = int(input_shape[-1])
        self._add_param("kernel", self.kernel_initializer((self.in_dim, self.units), rng, self.dtype))
        if self.use_bias:
            self._add_param("bias", self.bias_initializer((self.units,), rng, self.dtype))

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape)[:-1], self.units)

    def forward(self, x, training=False):
        self._check_input(x, self.in_dim)
        z = x @ self.params["kernel"]
        if self.use_bias:
            z += self.params["bias"]
        self._x, self._z = x, z  # cached for backward
        self._y = self.activation.forward(z)
        return self._y

    def backward(self, dy):
        dz = self.activation.backward(dy, self._z, self._y)
        return self.backward_from_logits(dz)

    def backward_from_logits(self, dz):
        """The backward pass from ``dz = dL/dz`` (pre-activation), skipping ``f'``.

        Models call this on the output layer when the loss is fused with its sigmoid/softmax
        (``dz = (p − y)/N`` is then computed by the loss directly, see ``tinyrec.losses``).
        """
        np.matmul(self._x.T, dz, out=self.grads["kernel"])  # dW = xᵀ·dz
        if self.use_bias:
            dz.sum(axis=0, out=self.grads["bias"])  # db = Σ_batch dz
        if not self.needs_input_grad:
            return None
        return dz @ self.params["kernel"].T  # dx = dz·Wᵀ

    @property
    def logits(self):
        """The pre-activation ``z`` of the last forward pass ``(batch, units)``."""
        return self._z


class Activation(Layer):
    """An activation as a layer of its own: ``y = f(x)``; backward ``dx = dy ⊙ f'(x)`` (shapes equal).

    ``Activation("relu")`` after ``Dense(32)`` computes the same as ``Dense(32, activation="relu")``.
    """

    def __init__(self, activation, name=None, input_dim=None, input_shape=None):
        super().__init__(name=name, input_dim=input_dim, input_shape=input_shape)
        self.activation = activations_module.get(activation)

    def forward(self, x, training=False):
        self._x = x
        self._y = self.activation.forward(x)
        return self._y

    def backward(self, dy):
        return self.activation.backward(dy, self._x, self._y)

    def backward_from_logits(self, dz):
        """With a fused loss, ``dz`` already is the gradient w.r.t. this layer's input."""
        return dz

    @property
    def logits(self):
        return self._x


class Dropout(Layer):
    """Inverted dropout (随机失活): during training each unit is zeroed with probability ``rate``.

    Forward (training): draw ``mask_ij = [u_ij ≥ rate] / (1 − rate)`` with ``u ~ U(0, 1)``, ``y = x ⊙ mask``.
    Dividing by ``1 − rate`` keeps ``E[y] = x``, so at inference (``training=False``) ``y = x`` unchanged.
    Backward: ``dx = dy ⊙ mask`` (identity at inference). Shapes: all ``(batch, units)``.

    Args:
        rate: fraction of units to drop, in [0, 1).
        seed: int or Generator for the masks; by default the model's seeded generator.
    """

    def __init__(self, rate, seed=None, name=None):
        if not (isinstance(rate, (int, float)) and 0.0 <= rate < 1.0):
            raise ValueError(f"Dropout: rate must be a number in [0, 1); got {rate!r}.")
        super().__init__(name=name)
        self.rate = float(rate)
        self.rng = None if seed is None else _as_rng(seed)

    def build(self, input_shape, rng=None, dtype=np.float32):
        super().build(input_shape, rng, dtype)
        if self.rng is None:
            self.rng = _as_rng(rng)

    def forward(self, x, training=False):
        if not training or self.rate == 0.0:
            self._mask = None
            return x
        keep = 1.0 - self.rate
        self._mask = (self.rng.random(x.shape) >= self.rate).astype(x.dtype) / x.dtype.type(keep)
        return x * self._mask

    def backward(self, dy):
        return dy if self._mask is None else dy * self._mask


class Embedding(Layer):
    """An embedding table (嵌入): maps integer ids to learned vectors, ``y_n = E[id_n]``.

    A lookup is a one-hot vector times the table: ``E[id] = onehot(id) · E``, so an embedding is a
    ``Dense`` layer without bias whose input is one-hot — computed without ever building the one-hot.

    Shapes: table ``E (input_dim, output_dim)``; ids are integers in ``[0, input_dim)``:

    * ``ids (batch,)`` (or ``(batch, 1)``) → ``(batch, output_dim)``: one id per row (users, items);
    * ``ids (batch, time)`` → ``(batch, time, output_dim)``: a sequence per row (a listening history), for
      the recurrent and convolutional layers. With ``mask_zero=True`` ids are always sequences, so
      ``(batch, 1)`` gives ``(batch, 1, output_dim)``.

    ``mask_zero=True`` (Keras' name): id 0 is padding, not an item. The layer then sets
    ``self.output_mask = (ids != 0)`` ``(batch, time)`` bool on every forward pass; ``Sequential`` hands it
    to the next layers that accept a mask (``GRU``, ``Conv1D``, the pooling layers), which skip the padded
    steps. Give such a table ``input_dim = n_items + 1`` and shift item ids by one.

    Backward, from ``dy`` (the output's shape): with ``dE = onehot(ids)ᵀ · dy``, row ``r`` of the gradient is
    ``dE_r = Σ_{n : id_n = r} dy_n`` (``n`` running over every position, rows and time steps alike) —
    repeated ids **accumulate**, rows not in the batch are **zero**. So the gradient is stored sparse, as
    ``SparseGradient(unique ids, summed rows)``, and an optimizer step costs O(lookups × output_dim), not
    O(input_dim × output_dim). Ids have no gradient: ``backward`` returns ``None``. (Padded steps receive
    ``dy = 0`` from a mask-aware layer above, so row 0 never moves.)

    L2 regularisation (``l2 = λ``), per lookup as in classic matrix factorisation:
    ``penalty = λ/N Σ_n ||E[id_n]||²`` (``N`` lookups) is added to the loss, and
    ``dE_r += 2λ/N · count_r · E_r``.

    Args:
        input_dim: number of ids (users or items; ``n_items + 1`` with ``mask_zero``). output_dim: vector size.
        embeddings_initializer: a name from ``tinyrec.initializers`` (Keras' default ``"uniform"``).
        l2: the regularisation strength λ ≥ 0.
        mask_zero: id 0 is padding (see above).
    """

    supports_masking = True  # it *produces* the mask; an incoming one is ignored

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform", l2=0.0, mask_zero=False,
                 name=None):
        for arg, value in (("input_dim", input_dim), ("output_dim", output_dim)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise ValueError(f"Embedding: {arg} must be a positive integer; got {value!r}.")
        l2 = _checks.non_negative("Embedding", "l2", l2)
        if not isinstance(mask_zero, (bool, np.bool_)):
            raise TypeError(f"Embedding: mask_zero must be True or False; got {mask_zero!r}.")
        super().__init__(name=name)
        self.input_dim, self.output_dim = int(input_dim), int(output_dim)
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.l2 = float(l2)
        self.mask_zero = bool(mask_zero)
        self.needs_input_grad = False
        self.output_mask = None

    def build(self, input_shape=None, rng=None, dtype=np.float32):
        super().build(input_shape or (None,), rng, dtype)
        self._add_param("embeddings", self.embeddings_initializer(
            (self.input_dim, self.output_dim), _as_rng(rng), self.dtype))

    def __call__(self, ids, training=False):
        if not self.built:
            self.build((None,), rng=None, dtype=np.float32)
        return self.forward(ids, training=training)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) == 2 and (self.mask_zero or input_shape[1] != 1):
            return (input_shape[0], input_shape[1], self.output_dim)  # a sequence per row
        return (input_shape[0], self.output_dim)

    def check_ids(self, ids):
        """``ids`` as an int64 array, ``(batch,)`` or ``(batch, time)``, or a clear error naming this layer.

        One id per row comes back 1-D (a ``(batch, 1)`` column is flattened, unless ``mask_zero``); a
        ``(batch, time)`` matrix stays 2-D. Ids are never cast to float, so id 2²⁴ + 1 stays itself.
        """
        owner = f"Embedding {self.name!r}"
        try:
            arr = np.asarray(ids)
        except ValueError:  # ragged nested lists: check_ids words that error
            return check_ids(owner, "ids", ids, self.input_dim)
        if arr.ndim == 2 and (self.mask_zero or arr.shape[1] != 1):
            return check_ids(owner, "ids", arr.reshape(-1), self.input_dim).reshape(arr.shape)
        if arr.ndim > 2:
            raise ValueError(f"{owner}: ids must be (batch,) or (batch, time) integers; got shape {arr.shape}.")
        return check_ids(owner, "ids", arr, self.input_dim)

    def forward(self, ids, training=False, mask=None):
        ids = self.check_ids(ids)
        self._ids = ids
        rows = self.params["embeddings"][ids]  # (batch, dim) or (batch, time, dim)
        self.output_mask = (ids != 0) if self.mask_zero and ids.ndim == 2 else None
        if self.l2:
            self._rows = rows
            self.penalty = self.l2 * float(np.sum(rows * rows)) / max(ids.size, 1)
        return rows

    def backward(self, dy):
        if self.l2:
            dy = dy + (2.0 * self.l2 / max(self._ids.size, 1)) * self._rows
        # Sequences: every (row, step) is one lookup, so flatten both to a list of lookups.
        self.grads["embeddings"] = SparseGradient.from_rows(self._ids.reshape(-1),
                                                            dy.reshape(-1, self.output_dim))
        return None


# The sequence layers live in their own modules (one concept per module) but are re-exported here, so
# ``from tinyrec.layers import GRU`` works as in Keras. Those modules import ``Layer`` from this one, so a
# plain import of them here would be a cycle: at the bottom of this file it works only when ``tinyrec.layers``
# happens to be imported first, and fails with "partially initialized module" when a program starts with
# ``import tinyrec.recurrent``. Instead the names are looked up on first use (PEP 562's module __getattr__).
_ELSEWHERE = {"SimpleRNN": "recurrent", "GRU": "recurrent", "Conv1D": "convolutional",
              "GlobalMaxPooling1D": "convolutional", "GlobalAveragePooling1D": "convolutional"}


def __getattr__(name):
    if name in _ELSEWHERE:
        import importlib

        return getattr(importlib.import_module(f".{_ELSEWHERE[name]}", __package__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_ELSEWHERE])


# ``from tinyrec.layers import *`` gives every layer, the lazily re-exported ones included.
__all__ = ["Layer", "Dense", "Activation", "Dropout", "Embedding", *_ELSEWHERE]
