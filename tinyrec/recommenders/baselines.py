"""Baselines (基线模型): the simple models every recommender must beat before it is worth its cost.

* ``GlobalMean`` — every rating is predicted as the mean training rating ``μ``.
* ``BiasBaseline`` — ``r̂_ui = μ + b_u + b_i``: some users rate high, some items are liked by everyone
  (Koren 2010, "Factor in the neighbors", §2.1). Fitted in closed form, no gradient descent.
* ``MostPopular`` — for implicit feedback: rank items by how often they were interacted with in training,
  the same list for everyone (minus what each user has already seen).

They share the ``Recommender`` interface — ``fit``, ``predict(user_ids, item_ids)``, ``score_items``,
``recommend(user_ids, k=10, exclude_seen=True)`` — so they can be evaluated with exactly the same code
as the neural models. ``forward`` is the whole model (there is no backward: nothing is trained by
gradients), and ``fit`` returns ``self``.
"""

from __future__ import annotations

import numpy as np

from .base import Recommender, check_ids


class _ClosedFormRecommender(Recommender):
    """Shared plumbing: id checks for ``fit``, "fitted yet?" guard, scores for every item at once."""

    def _check_ratings(self, user_ids, item_ids, ratings):
        users, items = self._check_inputs((user_ids, item_ids), "fit")
        ratings = np.asarray(ratings, dtype=np.float64).reshape(-1)
        if len(ratings) != len(users):
            raise ValueError(f"{type(self).__name__}.fit: {len(users)} user/item ids but {len(ratings)} "
                             "ratings.")
        if len(ratings) == 0:
            raise ValueError(f"{type(self).__name__}.fit: no ratings (0 rows).")
        if not np.all(np.isfinite(ratings)):
            raise ValueError(f"{type(self).__name__}.fit: ratings contain NaN or inf.")
        return users, items, ratings

    def _require_fitted(self, where):
        if not self.built:
            raise RuntimeError(f"{type(self).__name__}.{where}: call fit first.")

    def predict(self, user_ids, item_ids, batch_size=None, verbose=0):
        """Scores for the pairs ``(user_ids[n], item_ids[n])``, ``(n,)`` (float64)."""
        self._require_fitted("predict")
        users, items = self._check_inputs((user_ids, item_ids), "predict")
        return self.forward((users, items))[:, 0]

    def score_items(self, user_ids):
        """Every item's score for each user, ``(len(user_ids), n_items)``: one vectorised ``forward``."""
        users = self._check_score_users(user_ids)
        pairs_u = np.repeat(users, self.n_items)
        pairs_i = np.tile(np.arange(self.n_items), len(users))
        return self.forward((pairs_u, pairs_i)).reshape(len(users), self.n_items)

    def _check_score_users(self, user_ids):
        self._require_fitted("score_items")
        return check_ids(f"{type(self).__name__}.score_items", "user_ids", user_ids, self.n_users)

    def recommend(self, user_ids, k=10, exclude_seen=True):
        self._require_fitted("recommend")
        return super().recommend(user_ids, k=k, exclude_seen=exclude_seen)

    recommend.__doc__ = Recommender.recommend.__doc__

    def _finish_fit(self, users, items):
        self._remember_seen(users, items)
        self.built = True  # "fitted": the parameters exist
        return self


class GlobalMean(_ClosedFormRecommender):
    """``r̂_ui = μ = (1/N) Σ_n r_n`` for every user and item: the floor any rating model must beat.

    Its RMSE on held-out ratings is (about) their standard deviation. It ranks all items equally, so
    ``recommend`` returns an arbitrary order; it exists for ratings.
    Shapes: ``fit(user_ids (N,), item_ids (N,), ratings (N,))``; ``predict`` → ``(n,)``.
    """

    def __init__(self, n_users, n_items, name="global_mean"):
        super().__init__(n_users, n_items, seed=0, dtype="float64", name=name)
        self.global_mean = None

    def fit(self, user_ids, item_ids, ratings):
        """``μ`` = the mean of ``ratings``; returns ``self``."""
        users, items, ratings = self._check_ratings(user_ids, item_ids, ratings)
        self.global_mean = float(ratings.mean())
        return self._finish_fit(users, items)

    def forward(self, x, training=False):
        return np.full((len(x[0]), 1), self.global_mean)


class BiasBaseline(_ClosedFormRecommender):
    """``r̂_ui = μ + b_u + b_i``, fitted by regularised alternating least squares (交替最小二乘).

    Objective over the training ratings ``R`` (``μ`` the mean rating, fixed)::

        J(b) = Σ_{(u,i)∈R} (r_ui − μ − b_u − b_i)²  +  λ (Σ_u b_u² + Σ_i b_i²)

    With the user biases fixed, ``J`` is a separate 1-D ridge regression for every item; setting
    ``∂J/∂b_i = 0`` gives the closed form (and symmetrically for users)::

        b_i = Σ_{u∈R(i)} (r_ui − μ − b_u) / (λ + |R(i)|)
        b_u = Σ_{i∈R(u)} (r_ui − μ − b_i) / (λ + |R(u)|)

    ``λ`` shrinks the bias of an item with few ratings towards 0 (towards ``μ``): with 2 ratings and
    ``λ = 10`` the item keeps only 2/12 of its average deviation. Each half-step minimises ``J`` exactly
    over one block, so ``J`` never increases and ``n_iters`` rounds converge to the unique minimum
    (``J`` is strictly convex for ``λ > 0``). Both sums are one ``np.bincount`` each.
    Users/items without training ratings get bias 0.

    Args:
        n_users, n_items: id counts.
        l2: ``λ ≥ 0`` (default 10, the order Koren 2010 uses for the baseline predictors).
        n_iters: rounds of (items, then users) updates.
    Shapes: ``b_u (n_users,)``, ``b_i (n_items,)``; ``predict`` → ``(n,)``.
    """

    def __init__(self, n_users, n_items, l2=10.0, n_iters=10, name="bias_baseline"):
        super().__init__(n_users, n_items, seed=0, dtype="float64", name=name)
        if isinstance(l2, bool) or not isinstance(l2, (int, float, np.floating)) or not l2 >= 0:
            raise ValueError(f"BiasBaseline: l2 must be a number >= 0; got {l2!r}.")
        if isinstance(n_iters, bool) or not isinstance(n_iters, (int, np.integer)) or n_iters < 1:
            raise ValueError(f"BiasBaseline: n_iters must be a positive integer; got {n_iters!r}.")
        self.l2, self.n_iters = float(l2), int(n_iters)
        self.global_mean = None
        self.user_bias = np.zeros(self.n_users)
        self.item_bias = np.zeros(self.n_items)

    def fit(self, user_ids, item_ids, ratings):
        """Alternate the two closed-form updates ``n_iters`` times (class docstring); returns ``self``."""
        users, items, ratings = self._check_ratings(user_ids, item_ids, ratings)
        self.global_mean = mu = float(ratings.mean())
        n_u = np.bincount(users, minlength=self.n_users)
        n_i = np.bincount(items, minlength=self.n_items)
        b_u, b_i = np.zeros(self.n_users), np.zeros(self.n_items)
        with np.errstate(invalid="ignore", divide="ignore"):  # λ = 0 and no ratings: 0/0, set to 0 below
            for _ in range(self.n_iters):
                b_i = np.bincount(items, ratings - mu - b_u[users], minlength=self.n_items) / (self.l2 + n_i)
                b_i[n_i == 0] = 0.0
                b_u = np.bincount(users, ratings - mu - b_i[items], minlength=self.n_users) / (self.l2 + n_u)
                b_u[n_u == 0] = 0.0
        self.user_bias, self.item_bias = b_u, b_i
        return self._finish_fit(users, items)

    def forward(self, x, training=False):
        users, items = x
        return (self.global_mean + self.user_bias[users] + self.item_bias[items])[:, None]

    def score_items(self, user_ids):
        """``μ + b_u + b_iᵀ`` by broadcasting, ``(len(user_ids), n_items)``."""
        users = self._check_score_users(user_ids)
        return self.global_mean + self.user_bias[users][:, None] + self.item_bias[None, :]


class MostPopular(_ClosedFormRecommender):
    """Popularity (流行度): ``score(u, i) = c_i``, the number of training interactions with item ``i``.

    The same ranking for every user; ``recommend(exclude_seen=True)`` only removes each user's own
    items. A strong baseline under sampled evaluation because popular items are likely test items.
    Shapes: ``fit(user_ids (N,), item_ids (N,))``; ``item_counts (n_items,)``; ``predict`` → ``(n,)``.
    """

    def __init__(self, n_users, n_items, name="most_popular"):
        super().__init__(n_users, n_items, seed=0, dtype="float64", name=name)
        self.item_counts = np.zeros(self.n_items)

    def fit(self, user_ids, item_ids):
        """``c_i = |{n : item_ids[n] = i}|`` (repeats count every time); returns ``self``."""
        users, items = self._check_inputs((user_ids, item_ids), "fit")
        if len(users) == 0:
            raise ValueError("MostPopular.fit: no interactions (0 rows).")
        self.item_counts = np.bincount(items, minlength=self.n_items).astype(np.float64)
        return self._finish_fit(users, items)

    def forward(self, x, training=False):
        return self.item_counts[x[1]][:, None]

    def score_items(self, user_ids):
        """``c`` repeated for every user, ``(len(user_ids), n_items)``."""
        users = self._check_score_users(user_ids)
        return np.tile(self.item_counts, (len(users), 1))
