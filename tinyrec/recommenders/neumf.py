"""Neural matrix factorisation (NeuMF, 神经矩阵分解) for implicit feedback (隐式反馈).

He, Liao, Zhang, Nie, Hu & Chua (2017), "Neural Collaborative Filtering", WWW. Two towers read the same
(user, item) pair with their own embeddings (嵌入) and are joined just before the output:

    GMF tower (generalised MF):  g = p_u ⊙ q_i                                  p_u, q_i ∈ R^k
    MLP tower (多层感知机):       h⁰ = [a_u, b_i]   (concatenation, 拼接)         a_u, b_i ∈ R^{d/2}
                                  hˡ = ReLU(hˡ⁻¹ Wˡ + cˡ),  l = 1..L
    output:                       z = [g, h^L] · w + c,   ŷ = σ(z)   = P(user u interacts with item i)

``mlp_layers = (d, d₁, ..., d_L)``: ``d`` is the width of the concatenated MLP embeddings (each half
``d/2``), ``d₁..d_L`` the widths of the ReLU layers — the paper's notation. Defaults ``k = 16``,
``(64, 32, 16)`` and ``fit(batch_size=512, learning_rate=0.002)``: chosen on MovieLens 100K, on a validation
slice carved from the training data (each user's latest training interaction, ranked among 99 unseen items),
where they reached HR@10 0.678 against 0.645 for He et al.'s sizes ``k = 8``, ``(64, 32, 16, 8)`` with batch
256 and ``learning_rate=0.001`` (their paper's settings, still one argument away).

Loss: binary cross-entropy (二元交叉熵) on positives (y = 1, observed interactions) and sampled
negatives (y = 0, see ``NeuMF.fit``). Because the output is a ``Dense(1, activation="sigmoid")`` set as
``output_layer``, the engine fuses σ with the loss and starts backpropagation from
``∂L/∂z = (ŷ − y)/N`` — stable even when σ saturates.

Backward, with ``dcat = ∂L/∂[g, h^L]  (N, k + d_L)`` returned by the output layer:

    split the concatenation:  dg = dcat[:, :k],   dh^L = dcat[:, k:]
    GMF (product rule):       ∂L/∂p_u = dg ⊙ q_i,   ∂L/∂q_i = dg ⊙ p_u                 (N, k) each
    MLP:                      dh⁰ = backward through the Dense layers (each: dz = dh ⊙ [z > 0], ...)
    split again:              ∂L/∂a_u = dh⁰[:, :d/2],   ∂L/∂b_i = dh⁰[:, d/2:]          (N, d/2) each

and each ``Embedding`` adds up the rows of repeated ids into a sparse gradient. Optional L2 (``l2``) is the
per-lookup penalty of ``Embedding`` on all four tables.
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import _checks
from .._blas import blas_threads
from ..callbacks import EarlyStopping
from ..interactions import sample_negatives
from ..layers import Dense, Embedding
from ..metrics import hit_rate_from_ranks, ndcg_from_ranks, rank_among
from ..models import Model
from ..sparse import SparseGradient
from .base import NeuralRecommender


class NeuMF(NeuralRecommender):
    """NeuMF = GMF ⊕ MLP → sigmoid (see the module docstring for the model and its gradients).

    Shapes: ``user_ids, item_ids (N,)`` → ``ŷ (N, 1)``, a probability. Tables: GMF ``(n_users, k)``,
    ``(n_items, k)``; MLP ``(n_users, d/2)``, ``(n_items, d/2)``. Dense kernels ``(d, d₁), (d₁, d₂), …``;
    output kernel ``(k + d_L, 1)``.

    Args:
        n_users, n_items: id counts.
        n_factors: ``k``, the GMF embedding size (the paper's "predictive factors"; default 16, the paper 8).
        mlp_layers: ``(d, d₁, ..., d_L)``; ``d`` must be even (split between user and item).
        l2: L2 strength λ on every embedding lookup (default 0, as in the paper's runs). On the synthetic
            products, λ from 0 to 0.01 moved HR@10 less than changing the seed; early stopping is the
            regulariser that matters there.
        init_std: standard deviation of the normal initial embeddings (the paper uses 0.01).
        seed: int or Generator; seeds initialisation, shuffling and negative sampling.
        dtype: ``"float32"``, or ``"float64"`` for gradient checks.
    """

    def __init__(self, n_users, n_items, n_factors=16, mlp_layers=(64, 32, 16), l2=0.0, init_std=0.01,
                 seed=0, dtype="float32", name="neumf"):
        super().__init__(n_users, n_items, seed=seed, dtype=dtype, name=name)
        if not isinstance(n_factors, (int, np.integer)) or isinstance(n_factors, bool) or n_factors < 1:
            raise ValueError(f"NeuMF: n_factors must be a positive integer; got {n_factors!r}.")
        if isinstance(mlp_layers, (str, bytes)) or not hasattr(mlp_layers, "__iter__"):
            raise TypeError(f"NeuMF: mlp_layers must be a sequence of layer widths (d, d1, ..., dL); "
                            f"got {mlp_layers!r}.")
        mlp_layers = tuple(mlp_layers)
        if (not mlp_layers or any(not isinstance(w, (int, np.integer)) or isinstance(w, bool) or w < 1
                                  for w in mlp_layers) or mlp_layers[0] % 2):
            raise ValueError("NeuMF: mlp_layers must be positive integers (d, d1, ..., dL) with d even "
                             f"(d/2 for the user, d/2 for the item); got {mlp_layers!r}.")
        self.n_factors, self.mlp_layers = int(n_factors), mlp_layers
        self.l2 = _checks.non_negative("NeuMF", "l2", l2)
        self.init_std = _checks.non_negative("NeuMF", "init_std", init_std)
        half = mlp_layers[0] // 2
        init = lambda shape, rng, dtype: (rng.standard_normal(shape) * init_std).astype(dtype)  # noqa: E731
        self.gmf_user = Embedding(n_users, n_factors, init, l2=l2, name="gmf_user")
        self.gmf_item = Embedding(n_items, n_factors, init, l2=l2, name="gmf_item")
        self.mlp_user = Embedding(n_users, half, init, l2=l2, name="mlp_user")
        self.mlp_item = Embedding(n_items, half, init, l2=l2, name="mlp_item")
        self.mlp_dense = [Dense(w, activation="relu", name=f"mlp_dense_{j}")
                          for j, w in enumerate(mlp_layers[1:], start=1)]
        self.output_layer = Dense(1, activation="sigmoid", name="prediction")
        # Embeddings know their sizes; each Dense is built for the width of what it reads.
        self._build_layers([self.gmf_user, self.gmf_item, self.mlp_user, self.mlp_item])
        width = mlp_layers[0]
        for layer in self.mlp_dense:
            layer.build((None, width), rng=self._init_rng, dtype=self.dtype)
            width = layer.units
        self.output_layer.build((None, n_factors + width), rng=self._init_rng, dtype=self.dtype)
        self.layers += [*self.mlp_dense, self.output_layer]
        # Storage for speed (issue 8), the model unchanged: the four tables are blocks of ONE array,
        #     rows 0 .. n_users-1:                  [p_u | a_u]   (GMF user | MLP user)
        #     rows n_users .. n_users+n_items-1:    [q_i | b_i]   (GMF item | MLP item)
        # and all Dense parameters are consecutive slices of one flat array. Each layer's ``params`` are views
        # into these, so the layers read and write their own tables as before (forward, saving, set_weights),
        # while a training step needs one row lookup, one row-sum and one optimizer update for all four tables,
        # and one update for all Dense weights. Every optimizer rule is element-wise (and a lazy update touches
        # the same rows of the GMF and MLP blocks), so updating a joined array is exactly updating its parts.
        self._table = _join_tables(self.gmf_user, self.mlp_user, self.gmf_item, self.mlp_item)
        self._dense_params, self._dense_grads = _flat_buffers([*self.mlp_dense, self.output_layer])
        self._sampler = None  # negative-sampling state, alive only during fit

    # -- the two passes ------------------------------------------------------------------------
    def forward(self, x, training=False):
        """``(users (N,), items (N,))`` → ``ŷ = σ([p_u ⊙ q_i, MLP([a_u, b_i])] · w + c)``, ``(N, 1)``."""
        users, items = x
        self._p = self.gmf_user.forward(users)  # (N, k)
        self._q = self.gmf_item.forward(items)  # (N, k)
        gmf = self._p * self._q  # (N, k): element-wise product, the GMF tower
        h = np.concatenate([self.mlp_user.forward(users), self.mlp_item.forward(items)], axis=1)  # (N, d)
        for layer in self.mlp_dense:
            h = layer.forward(h, training)  # (N, d_l)
        return self.output_layer.forward(np.concatenate([gmf, h], axis=1), training)  # (N, 1)

    def backward(self, grad, from_logits=False):
        """``grad = ∂L/∂ŷ (N, 1)``, or ``∂L/∂z`` when the loss is fused (``from_logits``). Returns None.

        The chain rule, top to bottom (module docstring): output layer → split ``[g, h^L]`` → GMF
        product rule / MLP layers → split ``[a_u, b_i]`` → the four embedding tables.
        """
        out = self.output_layer
        dcat = out.backward_from_logits(grad) if from_logits else out.backward(grad)  # (N, k + d_L)
        k = self.n_factors
        dg, dh = dcat[:, :k], dcat[:, k:]
        # GMF: g = p ⊙ q, so ∂g/∂p = q and ∂g/∂q = p, element by element.
        self.gmf_user.backward(dg * self._q)
        self.gmf_item.backward(dg * self._p)
        for layer in reversed(self.mlp_dense):
            dh = layer.backward(dh)  # (N, d_{l-1})
        half = self.mlp_layers[0] // 2
        self.mlp_user.backward(dh[:, :half])
        self.mlp_item.backward(dh[:, half:])

    def _grads_and_params(self):
        """The optimizer's pairs after ``backward``: the flat Dense buffer and the joined table (``__init__``)."""
        gu, mu, gi, mi = (layer.grads["embeddings"] for layer in (self.gmf_user, self.mlp_user, self.gmf_item,
                                                                   self.mlp_item))
        rows = np.concatenate([gu.indices, gi.indices + self.n_users])  # still sorted and unique
        values = np.concatenate([np.concatenate([gu.values, mu.values], axis=1),
                                 np.concatenate([gi.values, mi.values], axis=1)])
        return [(self._dense_grads, self._dense_params), (SparseGradient(rows, values), self._table)]

    def _train_step(self, xb, yb):
        """One step of ``fit``: ``forward``, ``backward`` and the optimizer step of ``_grads_and_params``, fused.

        The same arithmetic, with one row lookup and one row-sum for the joined table instead of one per
        table: its gradient rows are ``[∂L/∂p_u | ∂L/∂a_u]`` for the users, then ``[∂L/∂q_i | ∂L/∂b_i]``
        for the items ``(2N, k + d/2)``, summed over repeated ids by ``SparseGradient.from_rows``.
        ``forward`` and ``backward`` stay the readable reference (and what ``predict``, gradient checks
        and ``tinyrec.privacy`` use); a test checks that this step moves every parameter as they do.
        """
        users, items = xb
        k, half, n = self.n_factors, self.mlp_layers[0] // 2, len(users)
        ids = np.concatenate([users, items + self.n_users])  # rows of the joined table: users, then items
        e = np.take(self._table, ids, axis=0)  # (2N, k + d/2), the same as self._table[ids] but faster
        eu, ei = e[:n], e[n:]  # [p_u | a_u] and [q_i | b_i]
        p, q = eu[:, :k], ei[:, :k]
        h = np.concatenate([eu[:, k:], ei[:, k:]], axis=1)  # [a_u, b_i]  (N, d)
        for layer in self.mlp_dense:
            h = layer.forward(h, True)
        out = self.output_layer
        y_pred = out.forward(np.concatenate([p * q, h], axis=1), True)
        grad = self._train_loss.gradient(yb, self._loss_input(y_pred))
        dcat = out.backward_from_logits(grad) if self._fused else out.backward(grad)  # (N, k + d_L)
        dh = dcat[:, k:]
        for layer in reversed(self.mlp_dense):
            dh = layer.backward(dh)  # ends as dh⁰ = [∂L/∂a_u, ∂L/∂b_i]  (N, d)
        de = np.empty_like(e)  # the gradient rows of e
        du, di = de[:n], de[n:]
        np.multiply(dcat[:, :k], q, out=du[:, :k])  # ∂L/∂p_u = dg ⊙ q_i
        np.multiply(dcat[:, :k], p, out=di[:, :k])  # ∂L/∂q_i = dg ⊙ p_u
        du[:, k:], di[:, k:] = dh[:, :half], dh[:, half:]
        if self.l2:  # Embedding's per-lookup penalty λ/N Σ‖row‖², for each of the four tables
            for layer, rows in ((self.gmf_user, p), (self.mlp_user, eu[:, k:]), (self.gmf_item, q),
                                (self.mlp_item, ei[:, k:])):
                layer.penalty = self.l2 * float(np.sum(rows * rows)) / n
            de += (2.0 * self.l2 / n) * e
        self.optimizer.apply_gradients([(self._dense_grads, self._dense_params),
                                        (SparseGradient.from_rows(ids, de), self._table)])
        return y_pred

    # -- training ------------------------------------------------------------------------------
    def _draw_negatives(self, users):
        """``n_negatives`` items per entry of ``users`` that the user never interacted with, fresh draws.

        Shapes: ``users (M,)`` → ``(M, n_negatives)``. Uniform over each user's unseen items, with
        replacement across rows (``tinyrec.interactions.sample_negatives``).
        """

        s = self._sampler
        return sample_negatives(users, self.n_items, s["n_negatives"], s["seen_users"], s["seen_items"],
                                seed=s["rng"])

    _ranking_validation = None  # (users, held-out items, sampled negatives) while fit runs

    def _extra_validation_logs(self):
        """HR@10 and NDCG@10 of the held-out positives among their sampled negatives (see ``fit``)."""
        if self._ranking_validation is None:
            return {}
        users, items, negatives = self._ranking_validation
        m = negatives.shape[1]
        scores = self.predict(np.concatenate([users, np.repeat(users, m)]),
                              np.concatenate([items, negatives.reshape(-1)]))
        ranks = rank_among(scores[:len(users)], scores[len(users):].reshape(len(users), m))
        return {"val_hit_rate": hit_rate_from_ranks(ranks, k=10), "val_ndcg": ndcg_from_ranks(ranks, k=10)}

    def _epoch_data(self, epoch, x, y):
        """Epoch 0 uses the negatives drawn in ``fit``; every later epoch replaces them by fresh ones.

        Rows ``[0, n_pos)`` are the positives (unchanged); rows ``n_pos + r·m + j`` hold negative ``j`` of
        positive ``r`` (``m = n_negatives``), so only the item column of that block changes.
        """
        if self._sampler is None or epoch == 0:
            return x, y
        users, items = x
        positives = self._sampler["train_users"]
        items = np.concatenate([items[:len(positives)], self._draw_negatives(positives).reshape(-1)])
        return (users, items), y

    def _with_negatives(self, users, items, negatives):
        """Positives, then their negatives: ``(users, items, y)``, ``n_pos·(1+m)`` rows, y = 1 then 0."""
        m = negatives.shape[1]
        all_users = np.concatenate([users, np.repeat(users, m)])
        all_items = np.concatenate([items, negatives.reshape(-1)])
        y = np.concatenate([np.ones(len(users)), np.zeros(len(users) * m)])
        return all_users, all_items, y

    def fit(self, user_ids, item_ids, epochs=20, batch_size=512, n_negatives=4, learning_rate=0.002,
            optimizer=None, early_stopping=True, patience=3, verbose="auto", callbacks=None, shuffle=True,
            timestamps=None):
        """Train on **positive** interactions only; returns ``self`` (``self.history``: ``loss``, ``val_hit_rate``).

        Negative sampling (负采样): each epoch, every positive ``(u, i)`` is joined by ``n_negatives``
        items drawn uniformly from those ``u`` never interacted with (in any pair passed here), labelled 0
        — fresh draws every epoch (``_epoch_data``), so the model sees many different negatives. An epoch
        therefore has ``n_pos · (1 + n_negatives)`` rows. Duplicate (user, item) pairs are kept as given.

        Early stopping (早停, default): one positive of every user with at least two is held out and
        ranked, after each epoch, among 99 items the user never touched (drawn once, so epochs are
        compared on the same yardstick) — the evaluation protocol of He et al. on a validation slice.
        With ``timestamps`` (``(N,)``, one per interaction) the held-out positive is each user's
        **latest** one (ties broken at random), so validation asks what the test of a leave-latest-out
        split asks: "what comes next?"; without them it is a random one.
        Training stops when this ``val_hit_rate`` (HR@10) has not improved for ``patience`` epochs, and
        the best epoch's weights are kept. Why the ranking metric and not the validation loss: the
        cross-entropy on sampled negatives can bottom out epochs before the ranking stops improving,
        and ranking is what the model is for. ``early_stopping=False`` trains all ``epochs`` on all
        positives (the paper's fixed-epoch setting).

        The optimizer defaults to ``Adam(learning_rate)`` (lazy row-wise updates of the tables).
        """
        owner = f"{type(self).__name__}.fit"
        users, items = self._check_inputs((user_ids, item_ids), "fit")
        if len(users) == 0:
            raise ValueError(f"{owner}: no interactions (0 rows).")
        n_negatives = _checks.positive_int(owner, "n_negatives", n_negatives)
        times = None
        if timestamps is not None:
            times = _checks.real_array(owner, "timestamps", timestamps, dtype=np.float64, ndim=(1,))
            if len(times) != len(users):
                raise ValueError(f"{owner}: timestamps has {len(times)} entries but there are {len(users)} "
                                 "interactions; pass one timestamp per (user, item) pair.")
        early_stopping = _checks.flag(owner, "early_stopping", early_stopping)
        patience = _checks.non_negative_int(owner, "patience", patience)
        rng = np.random.default_rng(self._shuffle_rng.integers(2**63))
        # Every positive passed in (validation ones too) is excluded from the negatives.
        self._sampler = {"n_negatives": int(n_negatives), "seen_users": users, "seen_items": items,
                         "rng": rng}
        self._remember_seen(users, items)  # for recommend(exclude_seen=True): the positives only
        callbacks = list(callbacks or [])
        try:
            if early_stopping:
                is_val = _one_per_user(users, rng, times)
                vu, vi = users[is_val], items[is_val]
                n_rank = min(99, self.n_items - 1)
                reason = None
                if not is_val.any():
                    reason = "no user has two positives to hold one out"
                elif n_rank < 1 or np.bincount(users, minlength=self.n_users)[vu].max() + n_rank > self.n_items:
                    reason = (f"the catalogue ({self.n_items} items) is too small to rank a held-out item among "
                              f"{n_rank} unseen ones for every user")
                if reason:
                    warnings.warn(f"{owner}: early stopping is off: {reason}. Training all {epochs} epochs; pass "
                                  "early_stopping=False to silence this.", stacklevel=2)
                else:
                    negatives = sample_negatives(vu, self.n_items, n_rank, users, items, seed=rng, distinct=True)
                    self._ranking_validation = (vu, vi, negatives)
                    users, items = users[~is_val], items[~is_val]
                    callbacks.append(EarlyStopping(monitor="val_hit_rate", mode="max", patience=patience,
                                                   restore_best_weights=True, verbose=1 if verbose else 0))
            self._sampler["train_users"] = users  # _epoch_data redraws the negatives of these rows
            x_users, x_items, y = self._with_negatives(users, items, self._draw_negatives(users))
            self._compile_for_fit(optimizer, learning_rate, loss="binary_crossentropy")
            with blas_threads():  # one BLAS thread for these small products: tinyrec/_blas.py says why
                Model.fit(self, (x_users, x_items), y, batch_size=batch_size, epochs=epochs, verbose=verbose,
                          callbacks=callbacks, shuffle=shuffle)
            return self
        finally:
            self._ranking_validation = None
            self._sampler = None  # outside fit, Model.fit on explicit rows keeps them as given

    def get_config(self):
        return {**super().get_config(), "n_factors": self.n_factors, "mlp_layers": list(self.mlp_layers),
                "l2": self.l2, "init_std": self.init_std}


def _one_per_user(users, rng, timestamps=None):
    """Boolean mask choosing one row of every user who has at least two rows (vectorised).

    Without ``timestamps`` the row is random; with them it is the user's latest (ties broken at random).
    How: sort by (user, −time, random key) with ``np.lexsort``; the first row of each user's block wins.
    """
    keys = rng.random(len(users))
    if timestamps is None:
        order = np.lexsort((keys, users))  # by user, then by a random key
    else:
        order = np.lexsort((keys, -np.asarray(timestamps, dtype=np.float64), users))  # latest first
    first = np.ones(len(users), dtype=bool)
    first[1:] = users[order][1:] != users[order][:-1]
    counts = np.bincount(users, minlength=users.max() + 1 if len(users) else 0)
    mask = np.zeros(len(users), dtype=bool)
    chosen = order[first]
    mask[chosen[counts[users[chosen]] >= 2]] = True
    return mask


def _join_tables(gmf_user, mlp_user, gmf_item, mlp_item):
    """``[[P | A], [Q | B]]`` as one new array; each Embedding's table becomes a view of its own block."""
    (P, A, Q, B) = (layer.params["embeddings"] for layer in (gmf_user, mlp_user, gmf_item, mlp_item))
    joined = np.block([[P, A], [Q, B]])
    n_users, k = P.shape
    gmf_user.params["embeddings"], mlp_user.params["embeddings"] = joined[:n_users, :k], joined[:n_users, k:]
    gmf_item.params["embeddings"], mlp_item.params["embeddings"] = joined[n_users:, :k], joined[n_users:, k:]
    return joined


def _flat_buffers(layers):
    """``(params, grads)``: two flat arrays holding every parameter of ``layers`` and its gradient, one after
    another; each layer's ``params[key]`` and ``grads[key]`` become views (shaped as before) into them."""
    entries = [(layer, key) for layer in layers for key in layer.params]
    params = np.concatenate([layer.params[key].ravel() for layer, key in entries])
    grads = np.zeros_like(params)
    start = 0
    for layer, key in entries:
        shape, size = layer.params[key].shape, layer.params[key].size
        layer.params[key] = params[start:start + size].reshape(shape)
        layer.grads[key] = grads[start:start + size].reshape(shape)  # Dense writes its gradients in place
        start += size
    return params, grads
