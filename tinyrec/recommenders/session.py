"""Session models for next-item recommendation (序列推荐): an MLP, a CNN and a GRU over the items so far.

The article's FAQ names three families of networks — multilayer perceptrons, convolutional networks for
grid-like data and recurrent networks for sequences such as a listening history — and asks how to choose.
These three recommenders answer it on the same data with the same training recipe, differing only in
what reads the window of recent items:

==============  =====================================================================================
``SessionMLP``  mean of the window's item embeddings → Dense(ReLU): **order-free** (a bag of items)
``SessionCNN``  Conv1D (local patterns of ``kernel_size`` consecutive items) → max over positions
``SessionGRU``  GRU over the window in order (GRU4Rec-style; Hidasi et al. 2016): the final state
==============  =====================================================================================

Shared recipe (``_SessionNetwork``), all in the engine's ``Sequential``:

* Items ``0..n_items−1`` become ids ``1..n_items`` (``+1``); id **0 is padding**, so the first layer is
  ``Embedding(n_items + 1, embedding_dim, mask_zero=True)`` and every later layer skips padded steps.
* Training pairs: every prefix of every sequence and the item that followed it — for ``s = (s₀, …, s_{L−1})``
  the pairs ``(s₀ → s₁), (s₀ s₁ → s₂), …``; the input is the last ``max_len`` items of the prefix, padded
  with zeros on the left (``training_pairs``).
* Output: ``Dense(n_items)`` logits, one per item of the whole catalogue, trained with the **full softmax
  cross-entropy** ``SparseCategoricalCrossentropy(from_logits=True)`` (no sampling: every item is a
  negative of every pair), Adam, ``Sequential.fit``'s batches, shuffling, progress output and ``History``.
* ``score_next(histories)`` = those logits for the last ``max_len`` items of each history.

``SessionCNN`` is the simple 1-D CNN (one ``Conv1D`` + global max pooling over the window), not Caser
(Tang & Wang 2018, whose horizontal filters of several heights and a vertical filter read the ``L × d``
embedding matrix as an image): the same idea of local sequential patterns, in one layer that fits the engine.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .. import _checks
from ..convolutional import Conv1D, GlobalAveragePooling1D, GlobalMaxPooling1D
from ..layers import Dense, Embedding
from ..losses import SparseCategoricalCrossentropy
from ..models import Sequential
from ..optimizers import Adam
from ..recurrent import GRU
from .sequential import SequenceRecommender


def last_window(history, max_len):
    """The last ``max_len`` items of one history as shifted ids (``item + 1``), left-padded with 0.

    ``history (L,)`` int → ``(max_len,)`` int64. An empty history is all padding.
    """
    out = np.zeros(max_len, dtype=np.int64)
    tail = np.asarray(history, dtype=np.int64)[-max_len:] + 1 if len(history) else np.zeros(0, np.int64)
    out[max_len - len(tail):] = tail
    return out


def training_pairs(sequences, max_len):
    """Every (prefix → next item) pair of every sequence: ``(windows (N, max_len) int64, targets (N,) int64)``.

    ``windows[i]`` is the last ``max_len`` items before the target, shifted by +1 and left-padded with 0
    (see ``last_window``); ``targets[i]`` is the next item (unshifted, a class in ``[0, n_items)``). A
    sequence of length ``L`` gives ``L − 1`` pairs. Vectorised per sequence: pad ``s + 1`` with ``max_len``
    zeros on the left, then the window ending just before ``s_j`` is ``padded[j : j + max_len]``.
    """
    windows, targets = [], []
    for s in sequences:
        if len(s) < 2:
            continue
        padded = np.concatenate([np.zeros(max_len, np.int64), np.asarray(s, np.int64) + 1])
        windows.append(sliding_window_view(padded, max_len)[1:len(s)])
        targets.append(np.asarray(s[1:], np.int64))
    if not windows:
        return np.zeros((0, max_len), np.int64), np.zeros(0, np.int64)
    return np.concatenate(windows), np.concatenate(targets)


class _SessionNetwork(SequenceRecommender):
    """The recipe the three session models share (module docstring); a subclass gives ``_encoder``.

    Args:
        n_items: item ids are ``0..n_items−1``.
        max_len: how many of the latest items the model reads.
        embedding_dim: size of the item vectors.
        seed: seeds initialisation and shuffling (same seed, same data → identical model).
        dtype: ``"float32"``, or ``"float64"`` for gradient checks.
    """

    def __init__(self, n_items, max_len=20, embedding_dim=32, seed=0, dtype="float32"):
        super().__init__(n_items)
        owner = type(self).__name__
        self.max_len = _checks.positive_int(owner, "max_len", max_len)
        self.embedding_dim = _checks.positive_int(owner, "embedding_dim", embedding_dim)
        self.seed = seed
        self.dtype = np.dtype(dtype)
        self.model = self.build_network()  # built now, so a saved model has somewhere to load its weights

    _extra_args = ()  # a subclass's own constructor arguments, for ``get_config``

    def _encoder(self):
        """The layers between the embedding and the output: ``(batch, max_len, dim)`` → ``(batch, width)``."""
        raise NotImplementedError

    def build_network(self):
        """The whole network as a built ``tinyrec.models.Sequential`` (new weights, seeded by ``seed``)."""
        layers = [Embedding(self.n_items + 1, self.embedding_dim, mask_zero=True, name="items"),
                  *self._encoder(), Dense(self.n_items, name="next_item")]
        net = Sequential(layers, seed=self.seed, dtype=self.dtype, name=type(self).__name__.lower())
        net.build((None, self.max_len))
        return net

    # -- whole-model saving (``model.save(path)``, ``tinyrec.saving.load_model``) ---------------------
    built = True  # the network exists from the start (see ``__init__``)

    def get_config(self):
        """Constructor arguments (JSON-serialisable) that rebuild this model empty."""
        config = {"n_items": self.n_items, "max_len": self.max_len, "embedding_dim": self.embedding_dim,
                  "seed": self.seed if isinstance(self.seed, int) else None, "dtype": self.dtype.name}
        return {**config, **{arg: getattr(self, arg) for arg in self._extra_args}}

    def _weight_entries(self):
        return self.model._weight_entries()

    def _fitted_state(self):
        return {"fitted": self.fitted}, {}

    def _set_fitted_state(self, scalars, arrays):
        self.fitted = bool(scalars.get("fitted", False))

    def _fit(self, sequences, epochs=10, batch_size=64, learning_rate=1e-3, verbose="auto", callbacks=None,
             validation_split=0.0):
        """Train on every (prefix → next item) pair with full softmax cross-entropy; ``History`` in ``history``.

        Args (Keras' names): epochs, batch_size, learning_rate (Adam), verbose, callbacks, validation_split.
        """
        owner = f"{type(self).__name__}.fit"
        windows, targets = training_pairs(sequences, self.max_len)
        if len(targets) == 0:
            raise ValueError(f"{owner}: no training pairs; every sequence needs at least two items.")
        self.model = self.build_network()
        self.model.compile(optimizer=Adam(_checks.positive(owner, "learning_rate", learning_rate)),
                           loss=SparseCategoricalCrossentropy(from_logits=True))
        self.history = self.model.fit(windows, targets, batch_size=batch_size, epochs=epochs, verbose=verbose,
                                      callbacks=callbacks, validation_split=validation_split)

    def _score(self, histories):
        windows = np.stack([last_window(h, self.max_len) for h in histories])
        return self.model.predict(windows, batch_size=1024)


class SessionMLP(_SessionNetwork):
    """An MLP over the last ``max_len`` items, order-free: mean of their embeddings → Dense(ReLU) → logits.

    ``(batch, max_len)`` ids → ``Embedding`` ``(batch, max_len, d)`` → ``GlobalAveragePooling1D`` (mean over
    the real items) ``(batch, d)`` → ``Dense(hidden_units, relu)`` → ``Dense(n_items)``. Shuffling the window
    does not change the scores: the "bag of recent items" baseline for the sequence models.
    """

    _extra_args = ("hidden_units",)

    def __init__(self, n_items, max_len=20, embedding_dim=32, hidden_units=64, seed=0, dtype="float32"):
        self.hidden_units = _checks.positive_int("SessionMLP", "hidden_units", hidden_units)
        super().__init__(n_items, max_len, embedding_dim, seed, dtype)

    def _encoder(self):
        return [GlobalAveragePooling1D(name="mean_of_items"), Dense(self.hidden_units, activation="relu",
                                                                     name="hidden")]


class SessionCNN(_SessionNetwork):
    """A 1-D CNN over the last ``max_len`` items: ``Conv1D(filters, kernel_size, relu, "same")`` → max pooling.

    ``(batch, max_len)`` ids → ``Embedding`` ``(batch, max_len, d)`` → ``Conv1D`` ``(batch, max_len, filters)``
    (each filter fires on a pattern of ``kernel_size`` consecutive items) → ``GlobalMaxPooling1D`` over the
    real positions ``(batch, filters)`` → ``Dense(n_items)``. Simpler than Caser (see the module docstring).
    """

    _extra_args = ("filters", "kernel_size")

    def __init__(self, n_items, max_len=20, embedding_dim=32, filters=64, kernel_size=3, seed=0,
                 dtype="float32"):
        self.filters = _checks.positive_int("SessionCNN", "filters", filters)
        self.kernel_size = _checks.positive_int("SessionCNN", "kernel_size", kernel_size)
        super().__init__(n_items, max_len, embedding_dim, seed, dtype)

    def _encoder(self):
        return [Conv1D(self.filters, self.kernel_size, activation="relu", padding="same", name="patterns"),
                GlobalMaxPooling1D(name="strongest")]


class SessionGRU(_SessionNetwork):
    """GRU4Rec-style: the items so far, in order, through a ``GRU``; its last state scores every item.

    ``(batch, max_len)`` ids → ``Embedding`` ``(batch, max_len, d)`` → ``GRU(units)`` (padded steps skipped)
    ``(batch, units)`` → ``Dense(n_items)`` logits, full softmax cross-entropy. Differences from Hidasi et
    al. (2016): windows of the last ``max_len`` items with shuffled mini-batches instead of session-parallel
    mini-batches, and the full softmax instead of their sampled ranking losses.
    """

    _extra_args = ("units",)

    def __init__(self, n_items, max_len=20, embedding_dim=32, units=64, seed=0, dtype="float32"):
        self.units = _checks.positive_int("SessionGRU", "units", units)
        super().__init__(n_items, max_len, embedding_dim, seed, dtype)

    def _encoder(self):
        return [GRU(self.units, name="gru")]
