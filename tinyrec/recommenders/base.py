"""The shapes every user–item recommender shares: ``Recommender`` and ``NeuralRecommender``.

``Recommender`` is "ids in, scores out", whatever is inside (a closed-form baseline or a network):

* ``fit(...) -> self`` — scikit-learn's convention; a gradient-trained model keeps its training
  ``History`` in ``model.history``;
* ``predict(user_ids, item_ids) -> scores (n,)``;
* ``score_items(user_ids) -> (len(user_ids), n_items)``: every item's score for each user;
* ``recommend(user_ids, k=10, exclude_seen=True) -> (items (n, k), scores (n, k))``: the top k per user,
  vectorised over users and chunked so memory stays bounded on large catalogues; items seen in training are
  skipped when ``exclude_seen``.

``NeuralRecommender`` is a ``Recommender`` that is also a ``tinyrec.models.Model``: its input is a pair of id
arrays ``(user_ids, item_ids)``, its output one score per pair ``(n, 1)``, and it reuses the engine's training
loop (batches, shuffling, validation, callbacks, progress output, ``History``). A subclass creates its layers
in ``__init__`` (the sizes are known from the id counts) and writes ``forward`` and ``backward`` out
explicitly, so the chain rule across embeddings and towers is visible. The closed-form baselines are plain
``Recommender`` s: they have no ``compile`` or ``evaluate`` they could not use.
"""

from __future__ import annotations

import numpy as np

from .. import _checks
from .._checks import check_ids
from ..interactions import seen_items
from ..models import Model

#: ``score_items`` inside ``recommend`` works on this many (user, item) scores at a time (8 MiB of float64),
#: so recommending for every user of a large catalogue never holds the whole users × items matrix.
_SCORES_PER_CHUNK = 1 << 20


class Recommender:
    """Base class for user–item models. See the module docstring.

    A subclass implements ``fit`` (ending with ``self._remember_seen(users, items)``; returns ``self``) and
    ``_predict_pairs(users, items) -> (n,)`` on checked int64 ids; it may override ``score_items`` with a
    closed form (a dot product) when one exists.

    Args:
        n_users, n_items: ids are ``0..n_users-1`` and ``0..n_items-1``.
        name: shown in messages.
    """

    def __init__(self, n_users, n_items, name=None):
        owner = type(self).__name__
        self.n_users = _checks.positive_int(owner, "n_users", n_users)
        self.n_items = _checks.positive_int(owner, "n_items", n_items)
        self.name = name or type(self).__name__.lower()
        self._seen = None  # (indptr, indices) of the training interactions, set by fit
        self.fitted = False
        self.history = None

    # -- what a subclass provides --------------------------------------------------------------
    def _predict_pairs(self, users, items):
        raise NotImplementedError

    # -- shared plumbing -----------------------------------------------------------------------
    def _owner(self, where):
        return f"{type(self).__name__}.{where}"

    def _check_pairs(self, user_ids, item_ids, where):
        owner = self._owner(where)
        users = check_ids(owner, "user_ids", user_ids, self.n_users)
        items = check_ids(owner, "item_ids", item_ids, self.n_items)
        if len(users) != len(items):
            raise ValueError(f"{owner}: user_ids has {len(users)} entries but item_ids has {len(items)}.")
        return users, items

    def _check_targets(self, targets, n, where, what="ratings"):
        """``targets`` as a finite float64 ``(n,)`` array, or a clear error (strings, NaN, ragged, length)."""
        owner = self._owner(where)
        y = _checks.real_array(owner, what, targets, dtype=np.float64, ndim=(1, 2))
        if y.ndim == 2 and y.shape[1] != 1:
            raise ValueError(f"{owner}: {what} must be 1-D (n,); got shape {y.shape}.")
        y = y.reshape(-1)
        if len(y) != n:
            raise ValueError(f"{owner}: {n} user/item ids but {len(y)} {what}.")
        return y

    def _require_fitted(self, where):
        if not self.fitted:
            raise RuntimeError(f"{self._owner(where)}: the model is not fitted yet; call fit first "
                               "(or load a saved model with tinyrec.saving.load_model).")

    def _remember_seen(self, user_ids, item_ids):
        """Keep the training interactions as CSR rows per user, for ``recommend(exclude_seen=True)``."""
        self._seen = seen_items(user_ids, item_ids, self.n_users, self.n_items)
        self.fitted = True

    # -- scoring -------------------------------------------------------------------------------
    def predict(self, user_ids, item_ids, batch_size=None, verbose=0):
        """Scores for the pairs ``(user_ids[n], item_ids[n])``: predicted ratings or probabilities, ``(n,)``."""
        self._require_fitted("predict")
        users, items = self._check_pairs(user_ids, item_ids, "predict")
        return self._predict_pairs(users, items)

    def score_items(self, user_ids):
        """Every item's score for each user: ``(len(user_ids), n_items)``.

        The generic way: predict on all (user, item) pairs, a few users at a time. Models with a cheaper
        closed form (a dot product) override it.
        """
        self._require_fitted("score_items")
        users = check_ids(self._owner("score_items"), "user_ids", user_ids, self.n_users)
        chunk = max(1, 200_000 // self.n_items)
        out = np.empty((len(users), self.n_items))
        items = np.arange(self.n_items)
        for s in range(0, len(users), chunk):
            u = users[s:s + chunk]
            out[s:s + chunk] = np.asarray(self._predict_pairs(np.repeat(u, self.n_items), np.tile(items, len(u))),
                                          dtype=np.float64).reshape(len(u), self.n_items)
        return out

    def recommend(self, user_ids, k=10, exclude_seen=True):
        """Top-``k`` items per user: ``(items (n, k) int64, scores (n, k) float64)``, best first.

        With ``exclude_seen``, items the user interacted with in the training data get score −inf and are
        never recommended (unless fewer than ``k`` items are left). Users are scored in chunks of about
        a million scores, so memory does not grow with the number of users.
        """
        owner = self._owner("recommend")
        self._require_fitted("recommend")
        scalar = isinstance(user_ids, (int, np.integer)) and not isinstance(user_ids, bool)
        users = check_ids(owner, "user_ids", [user_ids] if scalar else user_ids, self.n_users)
        k = _checks.integer(owner, "k", k, minimum=1, maximum=self.n_items)
        exclude_seen = _checks.flag(owner, "exclude_seen", exclude_seen)
        if exclude_seen and self._seen is None:
            raise RuntimeError(f"{owner}: exclude_seen=True needs the training interactions; call fit first "
                               "(or pass exclude_seen=False).")
        top_items = np.empty((len(users), k), dtype=np.int64)
        top_scores = np.empty((len(users), k))
        chunk = max(1, _SCORES_PER_CHUNK // self.n_items)
        for s in range(0, len(users), chunk):
            u = users[s:s + chunk]
            scores = np.asarray(self.score_items(u), dtype=np.float64)
            if exclude_seen:
                indptr, indices = self._seen
                counts = indptr[u + 1] - indptr[u]
                rows = np.repeat(np.arange(len(u)), counts)
                starts = np.repeat(indptr[u], counts)
                offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
                scores[rows, indices[starts + offsets]] = -np.inf
            top = np.argpartition(-scores, k - 1, axis=1)[:, :k]  # the k best, unordered: O(n_items) per user
            best = np.take_along_axis(scores, top, axis=1)
            order = np.argsort(-best, axis=1, kind="stable")
            top_items[s:s + chunk] = np.take_along_axis(top, order, axis=1)
            top_scores[s:s + chunk] = np.take_along_axis(best, order, axis=1)
        return top_items, top_scores

    # -- persistence hooks (tinyrec.saving) -----------------------------------------------------
    def get_config(self) -> dict:
        """Constructor arguments that rebuild this model's architecture (JSON-serialisable)."""
        return {"n_users": self.n_users, "n_items": self.n_items, "name": self.name}

    def _fitted_state(self) -> tuple[dict, dict]:
        """``(scalars, arrays)`` of what ``fit`` learned besides layer weights, for whole-model saving."""
        arrays = {}
        if self._seen is not None:
            arrays["seen_indptr"], arrays["seen_indices"] = self._seen
        return {"fitted": self.fitted}, arrays

    def _set_fitted_state(self, scalars, arrays):
        self.fitted = bool(scalars.get("fitted", False))
        if "seen_indptr" in arrays:
            indptr, indices = arrays["seen_indptr"].astype(np.int64), arrays["seen_indices"].astype(np.int64)
            if (indptr.shape != (self.n_users + 1,) or indptr[0] != 0 or indptr[-1] != len(indices)
                    or np.any(np.diff(indptr) < 0) or (len(indices) and (indices.min() < 0
                                                                         or indices.max() >= self.n_items))):
                raise ValueError(f"{type(self).__name__}: the saved seen-items table is inconsistent.")
            self._seen = (indptr, indices)

    def save(self, path):
        """Save the whole model (configuration, weights, fitted state) to one file; read it back with
        ``tinyrec.saving.load_model(path)``."""
        from ..saving import save_model
        return save_model(self, path)

    def __repr__(self):
        return f"{type(self).__name__}(n_users={self.n_users}, n_items={self.n_items})"


class NeuralRecommender(Recommender, Model):
    """A ``Recommender`` trained by gradient descent with the engine's ``Model.fit`` loop.

    Args:
        n_users, n_items: id counts.
        seed: int or Generator; seeds initialisation, shuffling and negative sampling.
        dtype: ``"float32"`` (default) or ``"float64"`` (gradient checks).
    """

    def __init__(self, n_users, n_items, seed=0, dtype="float32", name=None):
        Model.__init__(self, seed=seed, dtype=dtype, name=name)
        Recommender.__init__(self, n_users, n_items, name=name)

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
        if not isinstance(x, (tuple, list)) or len(x) != 2:
            raise ValueError(f"{self._owner(where)}: inputs must be a pair (user_ids, item_ids).")
        return self._check_pairs(x[0], x[1], where)

    # -- training ------------------------------------------------------------------------------
    def _fit_pairs(self, user_ids, item_ids, y, validation_data=None, seen=None, **fit_kwargs):
        """``Model.fit`` on ``(user_ids, item_ids) → y``; ``validation_data`` is ``(users, items, y)``.

        Remembers the training interactions (``recommend(exclude_seen=True)``), keeps the ``History`` in
        ``self.history`` and returns ``self``. ``seen``: the ``(users, items)`` to remember as seen, when
        they are more than the training rows (e.g. rows held out for early stopping).
        """
        x = self._check_inputs((user_ids, item_ids), "fit")
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 3:
                raise ValueError(f"{self._owner('fit')}: validation_data must be (user_ids, item_ids, targets).")
            validation_data = ((validation_data[0], validation_data[1]), validation_data[2])
        self._remember_seen(*(x if seen is None else seen))
        Model.fit(self, x, y, validation_data=validation_data, **fit_kwargs)
        return self

    def _compile_for_fit(self, optimizer, learning_rate, loss, metrics=None):
        """Compile on the first ``fit``; later fits keep the optimizer's state but take a new learning rate.

        ``optimizer`` given: compile with it. Else the first fit compiles ``Adam(learning_rate)``, and a later
        ``fit(learning_rate=...)`` changes the rate of the optimizer already there (its moments are kept, as
        when a Keras user sets ``model.optimizer.learning_rate``).
        """
        from ..optimizers import Adam
        lr = _checks.positive(self._owner("fit"), "learning_rate", learning_rate)
        if optimizer is not None or not self.compiled:
            self.compile(optimizer=optimizer if optimizer is not None else Adam(lr), loss=loss, metrics=metrics)
        elif hasattr(self.optimizer, "learning_rate"):
            self.optimizer.learning_rate = lr

    def _require_fitted(self, where):
        pass  # the weights exist from construction: an untrained network scores (randomly), as in Keras

    # -- scoring -------------------------------------------------------------------------------
    def _predict_pairs(self, users, items):
        return Model.predict(self, (users, items))[:, 0]

    def predict(self, user_ids, item_ids, batch_size=None, verbose=0):
        """Scores for the pairs ``(user_ids[n], item_ids[n])``, ``(n,)`` (in the model's dtype)."""
        return Model.predict(self, (user_ids, item_ids), batch_size=batch_size)[:, 0]

    def get_config(self) -> dict:
        return {**Recommender.get_config(self), "seed": self.seed if isinstance(self.seed, int) else None,
                "dtype": self.dtype.name}
