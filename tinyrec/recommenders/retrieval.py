"""Retrieval models (召回模型) for large catalogues: a two-tower model and BPR matrix factorisation.

A production recommender works in two stages: **candidate retrieval** (召回) picks a few hundred items out
of millions, cheaply; **ranking** (排序) orders those few with a richer model (NeuMF, a CTR model). For
retrieval to be cheap, the score must be a dot product of a user vector and an item vector,
``s(u, i) = f(u) · g(i)``: the item vectors are computed once, and the top items for a user are a
(approximate) nearest-neighbour search instead of a pass of a network over every item.

``TwoTower`` (Yi et al. 2019; Covington et al. 2016 for YouTube's candidate generator)::

    user tower:  f(u) = Dense_L(... Dense_1(P[u]))        P (n_users, d) an Embedding; Dense layers optional
    item tower:  g(i) = Dense_L(... Dense_1(Q[i]))        Q (n_items, d), its own Dense layers
    score:       s_ij = f(u_i) · g(y_j)                   for a batch of B pairs (u_i, y_i): a (B, B) matrix

trained with the in-batch softmax and its log-Q correction (``tinyrec.losses.InBatchSoftmax``).
Backward, with ``G = ∂L/∂s (B, B)``, ``F = f(u) (B, d')``, ``H = g(y) (B, d')``::

    ∂L/∂F = G · H           (B, d')       row i collects every column j it was scored against
    ∂L/∂H = Gᵀ · F          (B, d')       column j collects every row that scored it
    then back through each tower's Dense layers into its Embedding (sparse rows).

``BPRMatrixFactorization`` (Rendle et al. 2009): ``s_ui = p_u · q_i + b_i``, trained on triples
``(u, i, j)`` — ``i`` a positive, ``j`` a sampled item the user never touched — with ``tinyrec.losses.BPRLoss``
``L = −1/N Σ log σ(s_ui − s_uj)``. Backward, with ``g⁺ = ∂L/∂s_ui``, ``g⁻ = ∂L/∂s_uj`` (N, 1)::

    ∂L/∂p_u = g⁺ q_i + g⁻ q_j        ∂L/∂q_i = g⁺ p_u        ∂L/∂q_j = g⁻ p_u        ∂L/∂b_i = g⁺, ∂L/∂b_j = g⁻

(the positive and the negative item are looked up in one ``Embedding`` call, so repeated items add up).
"""

from __future__ import annotations

import numpy as np

from .. import _checks
from ..interactions import sample_negatives
from ..layers import Dense, Embedding
from ..losses import BPRLoss, InBatchSoftmax
from ..models import Model
from .base import NeuralRecommender, check_ids


def _normal_init(std):
    return lambda shape, rng, dtype: (rng.standard_normal(shape) * std).astype(dtype)


def _check_units(owner, units):
    units = tuple(units)
    for w in units:
        _checks.positive_int(owner, "tower_units", w)
    return units


class TwoTower(NeuralRecommender):
    """Two towers and a dot product, trained with the in-batch softmax (see the module docstring).

    Shapes: ``user_ids, item_ids (B,)`` → ``forward`` returns the in-batch logits ``(B, B)``,
    ``s_ij = f(u_i) · g(y_j)``; ``predict(user_ids, item_ids) -> (n,)`` the pairs' own scores;
    ``score_items(user_ids) -> (n, n_items)``. Embeddings ``(n_users, d)``, ``(n_items, d)``; with
    ``tower_units = (h_1, ..., h_L)`` each tower adds ``Dense(h_1, relu) ... Dense(h_L)`` (the last one
    linear, so the vectors can take any sign), kernels ``(d, h_1), ..., (h_{L−1}, h_L)``; the item tower's
    last layer has no bias (the softmax of each row could not see it).

    Args:
        n_users, n_items: id counts.
        embedding_dim: ``d``.
        tower_units: widths of the Dense layers on top of each embedding (default none: plain
            embeddings, i.e. matrix factorisation trained with a softmax).
        log_q_correction: subtract ``log q_j`` (training frequency of item ``j``) from the in-batch logits.
        l2: per-lookup L2 strength on both embedding tables. init_std: std of the initial embeddings.
        seed, dtype: as for every model.
    """

    def __init__(self, n_users, n_items, embedding_dim=32, tower_units=(), log_q_correction=True, l2=0.0,
                 init_std=0.1, seed=0, dtype="float32", name="two_tower"):
        super().__init__(n_users, n_items, seed=seed, dtype=dtype, name=name)
        owner = "TwoTower"
        self.embedding_dim = _checks.positive_int(owner, "embedding_dim", embedding_dim)
        self.tower_units = _check_units(owner, tower_units)
        self.log_q_correction = _checks.flag(owner, "log_q_correction", log_q_correction)
        self.init_std = _checks.positive(owner, "init_std", init_std)
        self.l2 = l2 = _checks.non_negative(owner, "l2", l2)
        init = _normal_init(self.init_std)
        self.user_embedding = Embedding(n_users, self.embedding_dim, init, l2=l2, name="user_embedding")
        self.item_embedding = Embedding(n_items, self.embedding_dim, init, l2=l2, name="item_embedding")
        self._build_layers([self.user_embedding, self.item_embedding])
        self.user_tower = self._tower("user")
        self.item_tower = self._tower("item")

    def _tower(self, side):
        layers, width = [], self.embedding_dim
        for j, units in enumerate(self.tower_units, start=1):
            last = j == len(self.tower_units)
            # The item tower's last layer has no bias: adding c to every item vector adds f(u)·c to every
            # logit of user u's row, which a softmax ignores — a parameter with zero gradient forever.
            layer = Dense(units, activation=None if last else "relu", use_bias=not (last and side == "item"),
                          name=f"{side}_dense_{j}")
            layer.build((None, width), rng=self._init_rng, dtype=self.dtype)
            layers.append(layer)
            width = units
        self.layers += layers
        return layers

    # -- the two passes ------------------------------------------------------------------------
    #: A batch's loss couples its rows (each row's softmax runs over the batch's items), so the training
    #: loop must score it batch by batch instead of once over the epoch's concatenated outputs.
    _loss_couples_rows = True

    def output_shape_for(self, n):
        return (n,)  # the targets are the batch's item ids, one per row (see InBatchSoftmax)

    @staticmethod
    def _run(tower, h, training=False):
        for layer in tower:
            h = layer.forward(h, training)
        return h

    def forward(self, x, training=False):
        """``(users (B,), items (B,))`` → in-batch logits ``S = F·Hᵀ`` ``(B, B)``; caches ``F`` and ``H``."""
        users, items = x
        self._F = self._run(self.user_tower, self.user_embedding.forward(users), training)  # (B, d')
        self._H = self._run(self.item_tower, self.item_embedding.forward(items), training)  # (B, d')
        return self._F @ self._H.T

    def backward(self, grad, from_logits=False):
        """``grad = ∂L/∂S (B, B)``: ``dF = G·H``, ``dH = Gᵀ·F``, then down each tower. Returns None."""
        dF = grad @ self._H  # (B, d')
        dH = grad.T @ self._F  # (B, d')
        for layer in reversed(self.user_tower):
            dF = layer.backward(dF)
        for layer in reversed(self.item_tower):
            dH = layer.backward(dH)
        self.user_embedding.backward(dF)
        self.item_embedding.backward(dH)

    # -- vectors and scores --------------------------------------------------------------------
    def user_vectors(self, user_ids):
        """``f(u)`` for each user: ``(n, d')`` (inference mode)."""
        users = check_ids(f"{self.name}.user_vectors", "user_ids", user_ids, self.n_users)
        return self._run(self.user_tower, self.user_embedding.params["embeddings"][users])

    def item_vectors(self, item_ids=None):
        """``g(i)`` for each item (default: the whole catalogue): ``(n, d')`` (inference mode)."""
        items = np.arange(self.n_items) if item_ids is None else check_ids(
            f"{self.name}.item_vectors", "item_ids", item_ids, self.n_items)
        return self._run(self.item_tower, self.item_embedding.params["embeddings"][items])

    def _predict_pairs(self, users, items):
        return np.sum(self.user_vectors(users) * self.item_vectors(items), axis=1)

    def predict(self, user_ids, item_ids, batch_size=None, verbose=0):
        """``s(u, i) = f(u) · g(i)`` for the pairs ``(user_ids[n], item_ids[n])``: ``(n,)``."""
        return self._predict_pairs(*self._check_inputs((user_ids, item_ids), "predict"))

    def score_items(self, user_ids):
        """Every item for each user: ``f(users) · g(all items)ᵀ``, ``(len(user_ids), n_items)``."""
        return self.user_vectors(user_ids) @ self.item_vectors().T

    # -- training ------------------------------------------------------------------------------
    def item_log_q(self, item_ids):
        """``log q_j``: log of each item's share of the training pairs (an unseen item gets half a count)."""
        counts = np.bincount(item_ids, minlength=self.n_items).astype(np.float64)
        counts[counts == 0] = 0.5  # never sampled in a batch anyway; keeps log q finite
        return np.log(counts / counts.sum())

    def fit(self, user_ids, item_ids, epochs=10, batch_size=256, learning_rate=0.005, optimizer=None,
            verbose="auto", callbacks=None, shuffle=True):
        """Train on positive ``(user, item)`` pairs with the in-batch softmax; returns ``self``.

        Each batch of ``batch_size`` pairs is its own set of negatives (``batch_size − 1`` per row), so a
        bigger batch means more (and harder) negatives. ``log q`` comes from the item frequencies of the
        pairs given here. The ``History`` is in ``self.history`` (``loss`` per epoch).
        """
        users, items = self._check_inputs((user_ids, item_ids), "fit")
        log_q = self.item_log_q(items) if self.log_q_correction else None
        self._compile_for_fit(optimizer, learning_rate, loss=InBatchSoftmax(log_q=log_q))
        self.loss.log_q = self._train_loss.log_q = log_q  # a later fit (or a loaded model) gets this data's q
        # The targets are the item ids themselves: InBatchSoftmax reads log q and the duplicates from them.
        return self._fit_pairs(users, items, items, batch_size=batch_size, epochs=epochs, verbose=verbose,
                               callbacks=callbacks, shuffle=shuffle)

    def get_config(self):
        return {**super().get_config(), "embedding_dim": self.embedding_dim, "tower_units": list(self.tower_units),
                "log_q_correction": self.log_q_correction, "l2": self.l2, "init_std": self.init_std}


class BPRMatrixFactorization(NeuralRecommender):
    """Matrix factorisation trained with BPR on sampled negatives: ``s_ui = p_u · q_i + b_i``.

    Shapes: ``forward((users, pos_items, neg_items))``, each ``(N,)`` → ``(N, 2)`` = ``[s_ui, s_uj]``;
    ``predict(user_ids, item_ids) -> (n,)``; ``score_items(user_ids) -> (n, n_items)``. Tables
    ``P (n_users, k)``, ``Q (n_items, k)``, ``b (n_items, 1)``.

    Args:
        n_users, n_items: id counts. n_factors: ``k``.
        l2: per-lookup L2 on ``p_u``, ``q_i``, ``q_j``; l2_bias: on ``b``. init_std: std of the initial factors.
        seed, dtype: as for every model (the seed also drives the negative sampling).
    """

    def __init__(self, n_users, n_items, n_factors=32, l2=0.001, l2_bias=0.0, init_std=0.1, seed=0,
                 dtype="float32", name="bpr_mf"):
        super().__init__(n_users, n_items, seed=seed, dtype=dtype, name=name)
        owner = "BPRMatrixFactorization"
        self.n_factors = _checks.positive_int(owner, "n_factors", n_factors)
        self.init_std = _checks.positive(owner, "init_std", init_std)
        self.l2 = _checks.non_negative(owner, "l2", l2)
        self.l2_bias = _checks.non_negative(owner, "l2_bias", l2_bias)
        init = _normal_init(self.init_std)
        self.user_factors = Embedding(n_users, self.n_factors, init, l2=self.l2, name="user_factors")
        self.item_factors = Embedding(n_items, self.n_factors, init, l2=self.l2, name="item_factors")
        self.item_bias = Embedding(n_items, 1, "zeros", l2=self.l2_bias, name="item_bias")
        self._build_layers([self.user_factors, self.item_factors, self.item_bias])
        self._sampler = None

    def output_shape_for(self, n):
        return (n, 2)

    def _check_inputs(self, x, where):
        if isinstance(x, (tuple, list)) and len(x) == 3:  # training triples (users, positives, negatives)
            owner = f"{type(self).__name__}.{where}"
            users = check_ids(owner, "user_ids", x[0], self.n_users)
            pos = check_ids(owner, "positive item_ids", x[1], self.n_items)
            neg = check_ids(owner, "negative item_ids", x[2], self.n_items)
            if not len(users) == len(pos) == len(neg):
                raise ValueError(f"{owner}: users, positives and negatives must have equal lengths; got "
                                 f"{len(users)}, {len(pos)}, {len(neg)}.")
            return users, pos, neg
        return super()._check_inputs(x, where)

    def forward(self, x, training=False):
        """``(users, pos, neg)`` each ``(N,)`` → ``[s_ui, s_uj]`` ``(N, 2)``."""
        users, pos, neg = x
        n = len(users)
        self._p = self.user_factors.forward(users)  # (N, k)
        q = self.item_factors.forward(np.concatenate([pos, neg]))  # (2N, k): one lookup, both items
        self._q_pos, self._q_neg = q[:n], q[n:]
        b = self.item_bias.forward(np.concatenate([pos, neg]))[:, 0]  # (2N,)
        s_pos = np.sum(self._p * self._q_pos, axis=1) + b[:n]
        s_neg = np.sum(self._p * self._q_neg, axis=1) + b[n:]
        return np.stack([s_pos, s_neg], axis=1)

    def backward(self, grad, from_logits=False):
        """``grad = ∂L/∂[s_ui, s_uj] (N, 2)``; the product rule into ``p_u``, ``q_i``, ``q_j`` and ``b``."""
        g_pos, g_neg = grad[:, :1], grad[:, 1:]  # (N, 1) each
        self.user_factors.backward(g_pos * self._q_pos + g_neg * self._q_neg)
        self.item_factors.backward(np.concatenate([g_pos * self._p, g_neg * self._p]))
        self.item_bias.backward(np.concatenate([g_pos, g_neg]))

    def _predict_pairs(self, users, items):
        P, Q = self.user_factors.params["embeddings"], self.item_factors.params["embeddings"]
        return np.sum(P[users] * Q[items], axis=1) + self.item_bias.params["embeddings"][items, 0]

    def predict(self, user_ids, item_ids, batch_size=None, verbose=0):
        """``s_ui = p_u · q_i + b_i`` for each pair: ``(n,)``."""
        return self._predict_pairs(*self._check_inputs((user_ids, item_ids), "predict"))

    def score_items(self, user_ids):
        """``P[users] · Qᵀ + bᵀ``: ``(len(user_ids), n_items)``."""
        users = check_ids(f"{self.name}.score_items", "user_ids", user_ids, self.n_users)
        P, Q = self.user_factors.params["embeddings"], self.item_factors.params["embeddings"]
        return P[users] @ Q.T + self.item_bias.params["embeddings"][:, 0][None, :]

    def _epoch_data(self, epoch, x, y):
        """A fresh negative for every positive each epoch after the first (uniform over unseen items)."""
        if self._sampler is None or epoch == 0:
            return x, y
        users, pos, _ = x
        s = self._sampler
        neg = sample_negatives(users, self.n_items, 1, s["users"], s["items"], seed=s["rng"])[:, 0]
        return (users, pos, neg), y

    def fit(self, user_ids, item_ids, epochs=20, batch_size=256, learning_rate=0.01, optimizer=None,
            verbose="auto", callbacks=None, shuffle=True):
        """Train on positive ``(user, item)`` pairs with BPR; returns ``self`` (``History`` in ``.history``).

        Each epoch every positive ``(u, i)`` is paired with one item ``j`` drawn uniformly from those
        ``u`` never interacted with (``tinyrec.interactions.sample_negatives``), fresh every epoch.
        """
        users, items = self._check_inputs((user_ids, item_ids), "fit")
        rng = np.random.default_rng(self._shuffle_rng.integers(2**63))
        self._sampler = {"users": users, "items": items, "rng": rng}
        try:
            neg = sample_negatives(users, self.n_items, 1, users, items, seed=rng)[:, 0]
            self._compile_for_fit(optimizer, learning_rate, loss=BPRLoss())
            self._remember_seen(users, items)
            labels = np.tile([1.0, 0.0], (len(users), 1))  # "positive above negative"; BPRLoss needs no more
            Model.fit(self, (users, items, neg), labels, batch_size=batch_size, epochs=epochs, verbose=verbose,
                      callbacks=callbacks, shuffle=shuffle)
        finally:
            self._sampler = None
        return self

    def get_config(self):
        return {**super().get_config(), "n_factors": self.n_factors, "l2": self.l2, "l2_bias": self.l2_bias,
                "init_std": self.init_std}
