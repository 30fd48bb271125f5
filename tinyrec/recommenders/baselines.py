"""Baselines (基线模型): the simple models every recommender must beat before it is worth its cost.

* ``GlobalMean`` — every rating is predicted as the mean training rating ``μ``.
* ``BiasBaseline`` — ``r̂_ui = μ + b_u + b_i``: some users rate high, some items are liked by everyone
  (Koren 2010, "Factor in the neighbors", §2.1). Fitted in closed form, no gradient descent.
* ``MostPopular`` — for implicit feedback: rank items by how often they were interacted with in training,
  the same list for everyone (minus what each user has already seen).

They share the ``Recommender`` interface — ``fit``, ``predict(user_ids, item_ids)``, ``score_items``,
``recommend(user_ids, k=10, exclude_seen=True)`` — so they can be evaluated with exactly the same code
as the neural models, but they are not ``tinyrec.models.Model`` s: nothing is trained by gradients, so
there is no ``compile`` or ``evaluate``. ``fit`` returns ``self``.
"""

from __future__ import annotations

import numpy as np

from .. import _checks
from .base import Recommender, check_ids


class _ClosedFormRecommender(Recommender):
    """Shared plumbing: checked ratings for ``fit``, and the end of every ``fit``."""

    def _check_ratings(self, user_ids, item_ids, ratings):
        users, items = self._check_pairs(user_ids, item_ids, "fit")
        ratings = self._check_targets(ratings, len(users), "fit")
        if len(ratings) == 0:
            raise ValueError(f"{type(self).__name__}.fit: no ratings (0 rows).")
        return users, items, ratings

    def _finish_fit(self, users, items):
        self._remember_seen(users, items)
        return self

    def _score_users(self, user_ids):
        self._require_fitted("score_items")
        return check_ids(f"{type(self).__name__}.score_items", "user_ids", user_ids, self.n_users)

    # What fit learned, for whole-model saving: the subclass lists its scalar and array attributes.
    _state_scalars: tuple[str, ...] = ()
    _state_arrays: tuple[str, ...] = ()

    def _fitted_state(self):
        scalars, arrays = super()._fitted_state()
        scalars.update({k: getattr(self, k) for k in self._state_scalars})
        arrays.update({k: getattr(self, k) for k in self._state_arrays})
        return scalars, arrays

    def _set_fitted_state(self, scalars, arrays):
        super()._set_fitted_state(scalars, arrays)
        for k in self._state_scalars:
            setattr(self, k, None if scalars[k] is None else float(scalars[k]))
        for k in self._state_arrays:
            value = arrays[k]
            if value.shape != getattr(self, k).shape:
                raise ValueError(f"{type(self).__name__}: saved {k} has shape {value.shape}; expected "
                                 f"{getattr(self, k).shape}.")
            setattr(self, k, value.astype(np.float64))


class GlobalMean(_ClosedFormRecommender):
    """``r̂_ui = μ = (1/N) Σ_n r_n`` for every user and item: the floor any rating model must beat.

    Its RMSE on held-out ratings is (about) their standard deviation. It ranks all items equally, so
    ``recommend`` returns an arbitrary order; it exists for ratings.
    Shapes: ``fit(user_ids (N,), item_ids (N,), ratings (N,))``; ``predict`` → ``(n,)``.
    """

    _state_scalars = ("global_mean",)

    def __init__(self, n_users, n_items, name="global_mean"):
        super().__init__(n_users, n_items, name=name)
        self.global_mean = None

    def fit(self, user_ids, item_ids, ratings):
        """``μ`` = the mean of ``ratings``; returns ``self``."""
        users, items, ratings = self._check_ratings(user_ids, item_ids, ratings)
        self.global_mean = float(ratings.mean())
        return self._finish_fit(users, items)

    def _predict_pairs(self, users, items):
        return np.full(len(users), self.global_mean)


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

    _state_scalars = ("global_mean",)
    _state_arrays = ("user_bias", "item_bias")

    def __init__(self, n_users, n_items, l2=10.0, n_iters=10, name="bias_baseline"):
        super().__init__(n_users, n_items, name=name)
        self.l2 = _checks.non_negative("BiasBaseline", "l2", l2)
        self.n_iters = _checks.positive_int("BiasBaseline", "n_iters", n_iters)
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

    def _predict_pairs(self, users, items):
        return self.global_mean + self.user_bias[users] + self.item_bias[items]

    def score_items(self, user_ids):
        """``μ + b_u + b_iᵀ`` by broadcasting, ``(len(user_ids), n_items)``."""
        users = self._score_users(user_ids)
        return self.global_mean + self.user_bias[users][:, None] + self.item_bias[None, :]


    def get_config(self):
        return {**super().get_config(), "l2": self.l2, "n_iters": self.n_iters}


class MostPopular(_ClosedFormRecommender):
    """Popularity (流行度): ``score(u, i) = c_i``, the number of training interactions with item ``i``.

    The same ranking for every user; ``recommend(exclude_seen=True)`` only removes each user's own
    items. A strong baseline under sampled evaluation because popular items are likely test items.
    Shapes: ``fit(user_ids (N,), item_ids (N,))``; ``item_counts (n_items,)``; ``predict`` → ``(n,)``.
    """

    _state_arrays = ("item_counts",)

    def __init__(self, n_users, n_items, name="most_popular"):
        super().__init__(n_users, n_items, name=name)
        self.item_counts = np.zeros(self.n_items)

    def fit(self, user_ids, item_ids):
        """``c_i = |{n : item_ids[n] = i}|`` (repeats count every time); returns ``self``."""
        users, items = self._check_pairs(user_ids, item_ids, "fit")
        if len(users) == 0:
            raise ValueError("MostPopular.fit: no interactions (0 rows).")
        self.item_counts = np.bincount(items, minlength=self.n_items).astype(np.float64)
        return self._finish_fit(users, items)

    def _predict_pairs(self, users, items):
        return self.item_counts[items]

    def score_items(self, user_ids):
        """``c`` repeated for every user, ``(len(user_ids), n_items)``."""
        users = self._score_users(user_ids)
        return np.tile(self.item_counts, (len(users), 1))
