"""``Recommender``: the shape every model in ``tinyrec.recommenders`` shares.

A recommender is a ``tinyrec.models.Model`` whose input is a pair of id arrays ``(user_ids, item_ids)``
and whose output is one score per pair, ``(n, 1)``. It reuses the engine's training loop (batches,
shuffling, validation, callbacks, progress output, ``History``) and adds what recommending needs:

* ``predict(user_ids, item_ids) -> scores (n,)``
* ``score_items(user_ids) -> (len(user_ids), n_items)``: every item's score for each user
* ``recommend(user_ids, k=10, exclude_seen=True) -> (items (n, k), scores (n, k))``: the top k per user,
  vectorised over users; items seen in training are skipped when ``exclude_seen``.

A subclass creates its layers in ``__init__`` (the sizes are known from the id counts) and writes its
``forward`` and ``backward`` out explicitly, so the chain rule across embeddings and towers is visible.
"""

from __future__ import annotations

import numpy as np

from .._checks import check_ids
from ..interactions import seen_items
from ..models import Model


def _positive_count(owner, name, value):
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{owner}: {name} must be a positive integer; got {value!r}.")
    return int(value)


class Recommender(Model):
    """Base class for user–item models. See the module docstring.

    Args:
        n_users, n_items: ids are ``0..n_users-1`` and ``0..n_items-1``.
        seed: int or Generator; seeds initialisation, shuffling and negative sampling.
        dtype: ``"float32"`` (default) or ``"float64"`` (gradient checks).
    """

    def __init__(self, n_users, n_items, seed=0, dtype="float32", name=None):
        super().__init__(seed=seed, dtype=dtype, name=name)
        self.n_users = _positive_count(type(self).__name__, "n_users", n_users)
        self.n_items = _positive_count(type(self).__name__, "n_items", n_items)
        self._seen = None  # (indptr, indices) of the training interactions, set by fit

    # -- the Model hooks -----------------------------------------------------------------------
    def _build_layers(self, layers):
        """Build every layer now (sizes are known) with the model's seeded generator and dtype."""
        self.layers = list(layers)
        for layer in self.layers:
            layer.build((None,), rng=self._init_rng, dtype=self.dtype)
        self.built = True

    def _ensure_built(self, x):
        pass  # built in __init__

    def output_shape_for(self, n):
        return (n, 1)

    def _check_inputs(self, x, where):
        owner = f"{type(self).__name__}.{where}"
        if not isinstance(x, (tuple, list)) or len(x) != 2:
            raise ValueError(f"{owner}: inputs must be a pair (user_ids, item_ids).")
        users = check_ids(owner, "user_ids", x[0], self.n_users)
        items = check_ids(owner, "item_ids", x[1], self.n_items)
        if len(users) != len(items):
            raise ValueError(f"{owner}: user_ids has {len(users)} entries but item_ids has {len(items)}.")
        return users, items

    # -- training ------------------------------------------------------------------------------
    def _remember_seen(self, user_ids, item_ids):
        """Keep the training interactions as CSR rows per user, for ``recommend(exclude_seen=True)``."""
        self._seen = seen_items(user_ids, item_ids, self.n_users, self.n_items)

    def _fit_pairs(self, user_ids, item_ids, y, validation_data=None, **fit_kwargs):
        """``Model.fit`` on ``(user_ids, item_ids) → y``; ``validation_data`` is ``(users, items, y)``."""
        x = self._check_inputs((user_ids, item_ids), "fit")
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 3:
                raise ValueError(f"{type(self).__name__}.fit: validation_data must be "
                                 "(user_ids, item_ids, targets).")
            validation_data = ((validation_data[0], validation_data[1]), validation_data[2])
        self._remember_seen(*x)
        return super().fit(x, y, validation_data=validation_data, **fit_kwargs)

    # -- scoring -------------------------------------------------------------------------------
    def predict(self, user_ids, item_ids, batch_size=None, verbose=0):
        """Scores for the pairs ``(user_ids[n], item_ids[n])``: predicted ratings or probabilities, ``(n,)``."""
        return super().predict((user_ids, item_ids), batch_size=batch_size)[:, 0]

    def score_items(self, user_ids):
        """Every item's score for each user: ``(len(user_ids), n_items)``.

        The generic way: predict on all (user, item) pairs, a few users at a time. Models with a cheaper
        closed form (a dot product) override it.
        """
        users = check_ids(f"{type(self).__name__}.score_items", "user_ids", user_ids, self.n_users)
        chunk = max(1, 200_000 // self.n_items)
        out = np.empty((len(users), self.n_items), dtype=self.dtype)
        items = np.arange(self.n_items)
        for s in range(0, len(users), chunk):
            u = users[s:s + chunk]
            pairs_u = np.repeat(u, self.n_items)
            pairs_i = np.tile(items, len(u))
            out[s:s + chunk] = self.forward((pairs_u, pairs_i)).reshape(len(u), self.n_items)
        return out

    def recommend(self, user_ids, k=10, exclude_seen=True):
        """Top-``k`` items per user: ``(items (n, k) int64, scores (n, k))``, best first.

        With ``exclude_seen``, items the user interacted with in the training data get score −inf
        and are never recommended (unless fewer than ``k`` items are left).
        """
        owner = f"{type(self).__name__}.recommend"
        users = check_ids(owner, "user_ids", np.atleast_1d(user_ids), self.n_users)
        if not isinstance(k, (int, np.integer)) or not 1 <= k <= self.n_items:
            raise ValueError(f"{owner}: k must be an integer in [1, {self.n_items}]; got {k!r}.")
        scores = self.score_items(users).astype(np.float64)
        if exclude_seen:
            if self._seen is None:
                raise RuntimeError(f"{owner}: exclude_seen=True needs the training data; call fit first "
                                   "(or pass exclude_seen=False).")
            indptr, indices = self._seen
            counts = indptr[users + 1] - indptr[users]
            rows = np.repeat(np.arange(len(users)), counts)
            starts = np.repeat(indptr[users], counts)
            offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
            scores[rows, indices[starts + offsets]] = -np.inf
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k]  # the k best, unordered: O(n_items) per user
        top_scores = np.take_along_axis(scores, top, axis=1)
        order = np.argsort(-top_scores, axis=1, kind="stable")
        return np.take_along_axis(top, order, axis=1), np.take_along_axis(top_scores, order, axis=1)
