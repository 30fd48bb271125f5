"""Biased matrix factorisation (矩阵分解) for explicit ratings — a two-tower network with a dot product.

Model, for user ``u`` and item ``i`` (Koren, Bell & Volinsky 2009, "Matrix Factorization Techniques for
Recommender Systems")::

    r̂_ui = μ + b_u + b_i + p_u · q_i

``μ`` is the mean training rating (fixed), ``b_u``/``b_i`` learned biases, ``p_u, q_i ∈ R^k`` learned
factors — each an ``Embedding`` lookup. Loss: mean squared error plus L2 on every looked-up vector::

    L = 1/N Σ_n (r̂_n − r_n)²  +  λ/N Σ_n (||p_{u_n}||² + ||q_{i_n}||²)  +  λ_b/N Σ_n (b_{u_n}² + b_{i_n}²)

Gradients (chain rule, with ``g_n = ∂L/∂r̂_n = 2(r̂_n − r_n)/N`` from the MSE loss):

    ∂L/∂b_u = Σ_{n: u_n = u} g_n            ∂L/∂b_i = Σ_{n: i_n = i} g_n
    ∂L/∂p_u = Σ_{n: u_n = u} g_n · q_{i_n}   ∂L/∂q_i = Σ_{n: i_n = i} g_n · p_{u_n}
    (+ the L2 terms, added by each Embedding)

Only the rows of users and items in the batch get a gradient; ``Embedding`` stores it sparse and the
optimizer updates just those rows.

Two solvers (``solver=`` in the constructor):

* ``"sgd"``: mini-batch gradient descent with Adam on the gradients above, the engine's ``Model.fit``;
  early stopping on a held-out slice by default.
* ``"als"`` (default): alternating least squares (交替最小二乘), each half-sweep solving every user's (then
  every item's) ridge regression in closed form — no learning rate, its loss never goes up; derived in
  ``tinyrec.recommenders.als``. 8 sweeps by default. ALS weights each row's penalty by its number of ratings
  ``n_u`` to a power ``a`` (``l2_exponent``): ``λ/N Σ_u n_u^a ||p_u||²`` and the same for items and biases.
  ``a = 1`` is exactly the per-lookup ``L`` above; ALS's default is ``a = 0.5`` (``λ √n_u``), which the
  validation folds preferred. (``forward``/``backward`` and the ``Embedding`` L2 are the network view, the
  per-lookup ``L``, whatever the solver.)

``predict`` clips ``r̂`` to the range of the training ratings (``clip=True``): a prediction of 5.4 stars is
never closer to the truth than 5.0. Training, ``forward`` and the ranking scores use the raw ``r̂``.

Defaults chosen on ML-100K with validation slices carved from the training ratings (never the test split),
``benchmarks/tune_mf.py``: ``k = 32``, ALS with ``a = 0.5``, ``λ = 1.3``, ``λ_b = 0.6`` and 8 sweeps (mean
validation RMSE 0.9041 over 6 folds, against 0.9094 for the best ``a = 1`` setting). (SGD keeps its
``λ = 0.1``, ``λ_b = 0.005``: with early stopping on top it wants less L2.)
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import _checks
from .._blas import blas_threads
from ..callbacks import CallbackList, EarlyStopping, History, ProgbarLogger
from ..layers import Embedding
from ..metrics import rmse
from .als import als_objective, fit_als
from .base import NeuralRecommender, check_ids

SOLVERS = ("als", "sgd")
#: Default ``epochs`` of each solver. ALS: sweeps; on ML-100K validation folds its RMSE is within 0.0002 of its
#: minimum from sweep 6 to 12 (benchmarks/tune_mf.py), lowest at 8.
DEFAULT_EPOCHS = {"als": 8, "sgd": 40}
#: Default ``(l2, l2_bias)`` of each solver. ALS: chosen on ML-100K validation folds (benchmarks/tune_mf.py);
#: SGD: the values tinyrec has always had (early stopping regularises it too), so its results are unchanged.
DEFAULT_L2 = {"als": (1.3, 0.6), "sgd": (0.1, 0.005)}
#: Default ``a`` of the penalty weight ``n_u^a`` (``tinyrec.recommenders.als``). SGD's is 1 by construction.
DEFAULT_L2_EXPONENT = {"als": 0.5, "sgd": 1.0}


class MatrixFactorization(NeuralRecommender):
    """Biased MF: ``r̂ = μ + b_u + b_i + p_u·q_i``, trained with MSE + L2 (see the module docstring).

    Shapes: ``user_ids, item_ids (N,)`` → ``r̂ (N, 1)``; ``P (n_users, k)``, ``Q (n_items, k)``,
    ``b_u (n_users, 1)``, ``b_i (n_items, 1)``.

    Args:
        n_users, n_items: id counts.
        n_factors: ``k``, the size of ``p_u`` and ``q_i``.
        l2: λ on the factors; l2_bias: λ_b on the biases (ALS needs ``l2 > 0``). ``None``: the solver's
            default, ``(1.3, 0.6)`` for ALS and ``(0.1, 0.005)`` for SGD (``DEFAULT_L2``).
        l2_exponent: ALS only, ``a`` in ``[0, 1]``: each user's (item's) penalty is weighted by ``n_u^a``, its
            number of ratings to the power ``a`` (``tinyrec.recommenders.als``). ``None``: 0.5 for ALS; SGD's
            per-lookup penalty is ``a = 1`` and takes nothing else.
        init_std: standard deviation of the normal initial factors (biases start at 0).
        solver: ``"als"`` (closed-form alternating least squares, the default) or ``"sgd"`` (Adam on
            mini-batches through ``Model.fit``); see the module docstring.
        clip: ``predict`` clips to the range of the ratings ``fit`` was given (``rating_range``), as Surprise
            does; ``False``: the raw ``r̂``. ``score_items``/``recommend`` always rank by the raw ``r̂``.
        seed, dtype: as for every model.
    """

    def __init__(self, n_users, n_items, n_factors=32, l2=None, l2_bias=None, l2_exponent=None, init_std=0.1,
                 solver="als", clip=True, seed=0, dtype="float32", name="matrix_factorization"):
        super().__init__(n_users, n_items, seed=seed, dtype=dtype, name=name)
        init = lambda shape, rng, dtype: (rng.standard_normal(shape) * init_std).astype(dtype)  # noqa: E731
        owner = type(self).__name__
        self.n_factors = _checks.positive_int(owner, "n_factors", n_factors)
        if solver not in SOLVERS:
            raise ValueError(f"{owner}: solver must be one of {SOLVERS}; got {solver!r}.")
        l2 = DEFAULT_L2[solver][0] if l2 is None else l2
        l2_bias = DEFAULT_L2[solver][1] if l2_bias is None else l2_bias
        self.l2, self.l2_bias = _checks.non_negative(owner, "l2", l2), _checks.non_negative(owner, "l2_bias", l2_bias)
        if l2_exponent is None:
            l2_exponent = DEFAULT_L2_EXPONENT[solver]
        self.l2_exponent = _checks.unit_interval(owner, "l2_exponent", l2_exponent, closed_high=True)
        if solver == "sgd" and self.l2_exponent != 1:  # an Embedding's L2 is per lookup: exponent 1 by design
            raise ValueError(f"{owner}: l2_exponent={l2_exponent} is for solver='als'; SGD penalises each "
                             "looked-up row once per rating (l2_exponent=1). Leave it None or use solver='als'.")
        self.init_std = _checks.non_negative(owner, "init_std", init_std)
        self.solver = solver
        self.clip = _checks.flag(owner, "clip", clip)
        self.user_factors = Embedding(n_users, n_factors, init, l2=l2, name="user_factors")
        self.item_factors = Embedding(n_items, n_factors, init, l2=l2, name="item_factors")
        self.user_bias = Embedding(n_users, 1, "zeros", l2=l2_bias, name="user_bias")
        self.item_bias = Embedding(n_items, 1, "zeros", l2=l2_bias, name="item_bias")
        self._build_layers([self.user_factors, self.item_factors, self.user_bias, self.item_bias])
        self.global_mean = 0.0
        self.rating_range = None  # (lowest, highest) training rating, set by fit; predict clips to it

    def forward(self, x, training=False):
        """``r̂ = μ + b_u + b_i + Σ_k p_uk q_ik``: ``(N,)``, ``(N,)`` ids → ``(N, 1)``."""
        users, items = x
        self._p = self.user_factors.forward(users)  # (N, k)
        self._q = self.item_factors.forward(items)  # (N, k)
        dot = np.sum(self._p * self._q, axis=1, keepdims=True)  # (N, 1)
        return self.global_mean + self.user_bias.forward(users) + self.item_bias.forward(items) + dot

    def backward(self, grad, from_logits=False):
        """``grad = ∂L/∂r̂ (N, 1)``: ``dp_u = grad·q_i``, ``dq_i = grad·p_u``, ``db_u = db_i = grad``."""
        self.user_factors.backward(grad * self._q)
        self.item_factors.backward(grad * self._p)
        self.user_bias.backward(grad)
        self.item_bias.backward(grad)

    def fit(self, user_ids, item_ids, ratings, epochs=None, batch_size=256, learning_rate=0.005,
            optimizer=None, early_stopping=None, validation_fraction=0.05, patience=3, verbose="auto",
            callbacks=None, validation_data=None, shuffle=True):
        """Train on explicit ratings; returns ``self`` (the ``History`` — ``loss``, ``rmse`` and their ``val_``
        versions — is in ``self.history``).

        ``epochs=None`` and ``early_stopping=None`` mean the solver's defaults: ALS runs 8 sweeps on all
        ratings (its loss cannot go up, and the validation RMSE is flat by then); SGD runs up to 40 epochs
        with early stopping. With early stopping a random ``validation_fraction`` of the ratings is held
        out and training stops once their RMSE has not improved for ``patience`` epochs (sweeps for ALS),
        keeping the best epoch's weights (早停). ``early_stopping=False`` trains all ``epochs`` on all
        ratings. ``batch_size``, ``learning_rate``, ``optimizer`` and ``shuffle`` concern SGD only. When the data are
        too few to hold anything out (the slice would be empty, or would take every rating), a warning says
        so and training runs without early stopping.
        The optimizer defaults to ``Adam(learning_rate)`` with lazy (row-wise) updates of the tables; a
        second ``fit`` continues from the current weights and optimizer state, with the ``learning_rate``
        it is given.
        """
        owner = f"{type(self).__name__}.fit"
        users, items = self._check_inputs((user_ids, item_ids), "fit")
        ratings = self._check_targets(ratings, len(users), "fit")
        if len(ratings) == 0:
            raise ValueError(f"{owner}: no ratings (0 rows).")
        if early_stopping is None:
            early_stopping = self.solver == "sgd"
        early_stopping = _checks.flag(owner, "early_stopping", early_stopping)
        validation_fraction = _checks.unit_interval(owner, "validation_fraction", validation_fraction,
                                                    closed_low=False)
        patience = _checks.non_negative_int(owner, "patience", patience)
        _checks.positive(owner, "learning_rate", learning_rate)  # checked for ALS too: a typo is a typo
        if epochs is None:
            epochs = DEFAULT_EPOCHS[self.solver]
        if self.solver == "als" and optimizer is not None:
            raise ValueError(f"{owner}: optimizer= is for solver='sgd'; ALS solves in closed form. Build the "
                             "model with solver='sgd' to train with an optimizer.")
        callbacks = list(callbacks or [])
        seen = (users, items)
        if early_stopping and validation_data is None:
            rng = np.random.default_rng(self._shuffle_rng.integers(2**63))
            is_val = rng.random(len(ratings)) < validation_fraction
            if 0 < is_val.sum() < len(ratings):
                validation_data = (users[is_val], items[is_val], ratings[is_val])
                users, items, ratings = users[~is_val], items[~is_val], ratings[~is_val]
            else:
                warnings.warn(f"{owner}: {len(ratings)} ratings are too few to hold out a validation_fraction="
                              f"{validation_fraction} slice for early stopping; training all {epochs} epochs "
                              "without it.", stacklevel=2)
                early_stopping = False
        if early_stopping:
            callbacks.append(EarlyStopping(monitor="val_rmse", patience=patience, restore_best_weights=True,
                                           verbose=1 if verbose else 0))
        self.global_mean = float(ratings.mean())
        self.rating_range = (float(ratings.min()), float(ratings.max()))
        with blas_threads():  # one BLAS thread for these small products: tinyrec/_blas.py says why
            if self.solver == "als":
                return self._fit_als(users, items, ratings, epochs, verbose, callbacks, validation_data, seen)
            self._compile_for_fit(optimizer, learning_rate, loss="mse", metrics=["rmse"])
            return self._fit_pairs(users, items, ratings, validation_data=validation_data, seen=seen,
                                   epochs=epochs, batch_size=batch_size, verbose=verbose, callbacks=callbacks,
                                   shuffle=shuffle)

    def _fit_als(self, users, items, ratings, epochs, verbose, callbacks, validation_data, seen):
        """``epochs`` ALS sweeps (``tinyrec.recommenders.als.fit_als``) with the usual callbacks and History.

        Each sweep is one "epoch" for the callbacks: logs ``loss`` (the objective ``L``), ``rmse`` on the
        training ratings and, with validation data, ``val_loss``/``val_rmse`` — so ``EarlyStopping``,
        ``History`` and the progress line work as for SGD. A second ``fit`` starts from the current tables.
        """
        owner = self._owner("fit")
        if self.l2 == 0:  # checked here, not in __init__: a model built with l2=0 may still be trained by SGD
            raise ValueError(f"{owner}: solver='als' needs l2 > 0 (each ridge system must be invertible); "
                             "got l2=0. Build the model with l2 > 0, or with solver='sgd'.")
        epochs = _checks.non_negative_int(owner, "epochs", epochs)
        verbose = 1 if verbose == "auto" else _checks.integer(owner, "verbose", verbose, 0, 2)
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 3:
                raise ValueError(f"{owner}: validation_data must be (user_ids, item_ids, targets).")
            vu, vi = self._check_pairs(validation_data[0], validation_data[1], "fit(validation_data)")
            vr = self._check_targets(validation_data[2], len(vu), "fit(validation_data)")
        tables = [layer.params["embeddings"] for layer in (self.user_factors, self.item_factors,
                                                             self.user_bias, self.item_bias)]
        P, Q, bu, bi = tables[0], tables[1], tables[2][:, 0], tables[3][:, 0]  # 1-D views of the bias columns
        mu, l2, l2b = self.global_mean, self.l2, self.l2_bias
        history = History()
        cbs = [history, *callbacks] + ([ProgbarLogger(verbose)] if verbose else [])
        cb = CallbackList(cbs, self, {"epochs": epochs, "steps": 1, "verbose": verbose})
        self.stop_training = False
        self.history = history

        def end_of_sweep(sweep):
            loss, mse = als_objective(users, items, ratings, mu, P, Q, bu, bi, l2, l2b, self.l2_exponent)
            logs = {"loss": loss, "rmse": float(np.sqrt(mse))}
            if validation_data is not None:
                pred = self._predict_pairs(vu, vi)
                logs.update({"val_loss": float(np.mean((pred - vr) ** 2)), "val_rmse": rmse(vr, pred)})
            cb.on_epoch_end(sweep, logs)
            if not self.stop_training and sweep + 1 < epochs:
                cb.on_epoch_begin(sweep + 1)
            return self.stop_training

        cb.on_train_begin()
        if epochs:
            cb.on_epoch_begin(0)
            fit_als(users, items, ratings, mu, P, Q, bu, bi, l2, l2b, epochs, callback=end_of_sweep,
                    l2_exponent=self.l2_exponent)
        cb.on_train_end()
        self._remember_seen(*seen)
        return self

    def predict(self, user_ids, item_ids, batch_size=None, verbose=0):
        """Predicted ratings ``(n,)``: ``r̂`` clipped to the range of the training ratings (unless ``clip=False``).

        Ratings live on a scale (1–5 stars): a prediction of 5.4 is never closer to the truth than 5.0, so
        clipping can only lower the squared error of each prediction. Only here: ``forward``, the loss, the
        training logs and ``score_items``/``recommend`` use the raw ``r̂`` (clipping would tie every item
        predicted above the top of the scale, and has no useful gradient).
        """
        pred = super().predict(user_ids, item_ids, batch_size=batch_size, verbose=verbose)
        if self.clip and self.rating_range is not None:
            pred = np.clip(pred, *self.rating_range)
        return pred

    def score_items(self, user_ids):
        """All items for each user at once: ``μ + b_u + b_iᵀ + P[users]·Qᵀ``, ``(len(users), n_items)``."""
        users = check_ids(f"{type(self).__name__}.score_items", "user_ids", user_ids, self.n_users)
        P, Q = self.user_factors.params["embeddings"], self.item_factors.params["embeddings"]
        bu, bi = self.user_bias.params["embeddings"], self.item_bias.params["embeddings"]
        with blas_threads():
            return self.global_mean + bu[users] + bi[:, 0][None, :] + P[users] @ Q.T

    def get_config(self):
        return {**super().get_config(), "n_factors": self.n_factors, "l2": self.l2, "l2_bias": self.l2_bias,
                "l2_exponent": self.l2_exponent, "init_std": self.init_std, "solver": self.solver, "clip": self.clip}

    def _fitted_state(self):
        scalars, arrays = super()._fitted_state()
        return {**scalars, "global_mean": self.global_mean, "rating_range": self.rating_range}, arrays

    def _set_fitted_state(self, scalars, arrays):
        super()._set_fitted_state(scalars, arrays)
        self.global_mean = float(scalars["global_mean"])
        saved = scalars.get("rating_range")  # absent in files saved before clipping existed: no clipping
        self.rating_range = None if saved is None else (float(saved[0]), float(saved[1]))
