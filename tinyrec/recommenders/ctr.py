"""Click-through-rate models (点击率预估, CTR): will this user click this ad?

Two models for the ads scenario, both ending in a sigmoid (the click probability) trained with binary
cross-entropy (fused with the sigmoid by the engine, so the gradient starts as ``(p − y)/N``):

* ``click_mlp`` — the article's seed model: a multilayer perceptron (多层感知机) on 100 numeric features,
  ``Dense(64, relu) → Dense(32, relu) → Dense(1, sigmoid)``, compiled with Adam.
* ``FactorizationMachine`` — Rendle (2010), "Factorization Machines", ICDM. A linear model plus every
  pairwise feature interaction (特征交叉), each pair's weight factorised as a dot product of two learned
  vectors, so it works for categorical features with many rare values (ad ids, sites, devices).

The FM (因子分解机). The input is numeric features ``x_1..x_n`` and ``C`` categorical fields; field ``f``
takes value ``c_f``. One-hot encoded, every (field, value) is a feature with value 1. Each feature
``j`` has a weight ``w_j`` and a factor vector ``v_j ∈ R^k``; with ``e_j = x_j v_j`` (numeric) and
``e_f = v_{f, c_f}`` (categorical) — ``F = n + C`` vectors per row::

    z = w₀ + Σ_j w_j x_j + Σ_f w_{f, c_f}  +  Σ_{a < b} e_a · e_b              (the logit)
    p = σ(z)

The pairwise sum has ``F(F−1)/2`` terms, but it equals (Rendle's identity, per factor dimension ``t``)::

    Σ_{a<b} e_a·e_b = ½ Σ_t [ (Σ_a e_at)² − Σ_a e_at² ]       = ½ Σ_t (s_t² − Σ_a e_at²),  s = Σ_a e_a

— O(F·k) instead of O(F²·k): square of the sum minus sum of squares counts each pair twice.

Gradient, with ``dz = ∂L/∂z (N, 1)``::

    ∂(pairwise)/∂e_at = ½ (2 s_t − 2 e_at) = s_t − e_at        ⇒  de_a = dz · (s − e_a)
    numeric:      ∂L/∂v_j = Σ_rows x_j · de_j      ∂L/∂w_j = Σ_rows dz · x_j     ∂L/∂w₀ = Σ_rows dz
    categorical:  ∂L/∂v_{f,c} and ∂L/∂w_{f,c} = the rows of de_f / dz with c_f = c, summed (Embedding)
"""

from __future__ import annotations

import numpy as np

from .. import _checks
from ..layers import Activation, Dense, Embedding, Layer
from ..models import Model, Sequential


def click_mlp(input_dim=100, seed=0, dtype="float32"):
    """The article's seed model, compiled: ``x (N, input_dim) → Dense(64, relu) → Dense(32, relu) →
    Dense(1, sigmoid) → p (N, 1)``, Adam + binary cross-entropy + accuracy.

    Train it with ``model.fit(x_train, y_train, batch_size=32, epochs=10)``.
    """
    model = Sequential(seed=seed, dtype=dtype, name="click_mlp")
    model.add(Dense(units=64, activation="relu", input_dim=input_dim))
    model.add(Dense(units=32, activation="relu"))
    model.add(Dense(units=1, activation="sigmoid"))
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


class NumericFactors(Layer):
    """Numeric features as scaled vectors: ``e[n, j] = x[n, j] · v_j``, ``x (N, n) → e (N, n, k)``.

    Each numeric feature ``j`` owns a vector ``v_j`` (the rows of ``V (n, k)``) — the FM's factor for a
    real-valued feature. Backward from ``de (N, n, k)``: ``dV_j = Σ_rows x[n, j] · de[n, j]`` and
    ``dx[n, j] = de[n, j] · v_j``.
    """

    def __init__(self, n_features, n_factors, init_std=0.01, name=None):
        super().__init__(name=name)
        self.n_features, self.n_factors, self.init_std = int(n_features), int(n_factors), float(init_std)

    def build(self, input_shape=None, rng=None, dtype=np.float32):
        super().build(input_shape or (None, self.n_features), rng, dtype)
        rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        shape = (self.n_features, self.n_factors)
        self._add_param("kernel", (rng.standard_normal(shape) * self.init_std).astype(self.dtype))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n_features, self.n_factors)

    def forward(self, x, training=False):
        self._check_input(x, self.n_features)
        self._x = x
        return x[:, :, None] * self.params["kernel"][None, :, :]  # (N, n, k)

    def backward(self, de):
        np.einsum("nj,njk->jk", self._x, de, out=self.grads["kernel"])
        if not self.needs_input_grad:
            return None
        return np.einsum("njk,jk->nj", de, self.params["kernel"])


class FactorizationMachine(Model):
    """A second-order factorization machine for CTR over numeric + categorical features.

    See the module docstring for the model, Rendle's O(F·k) identity and the gradients.

    Inputs: a pair ``(X_numeric (N, n_numeric) float, X_categorical (N, C) int)``, column ``f`` of
    ``X_categorical`` in ``[0, cardinalities[f])``. Output: ``p (N, 1)``, the click probability.

    Layers (all trained by the engine's optimizers):
        ``linear``: ``Dense(1)`` on the numeric features — ``w₀ + Σ_j w_j x_j``.
        ``cat_weights``: ``Embedding(Σ cardinalities, 1)`` — ``w_{f,c}``; every field's values share one
            table, field ``f`` starting at row ``offsets[f] = Σ_{g<f} cardinalities[g]``.
        ``numeric_factors``: ``NumericFactors(n_numeric, k)`` — ``e_j = x_j v_j``.
        ``cat_factors``: ``Embedding(Σ cardinalities, k)`` — ``e_f = v_{f, c_f}``.
        ``output_layer``: ``Activation("sigmoid")`` — ``p = σ(z)``; the engine fuses it with
            binary cross-entropy (its ``logits`` are ``z``, its ``backward_from_logits`` passes ``dz`` on).

    Args:
        n_numeric: number of numeric features (≥ 1).
        cardinalities: number of values of each categorical field (≥ 1 field).
        n_factors: ``k``. l2: per-lookup L2 on the categorical tables (rare values overfit first).
        init_std: standard deviation of the normal initial factors.
        item_field: the categorical column that holds the thing to recommend (e.g. the ad id); enables
            ``score_items`` and ``recommend``, which score every value of that column for each context row.
        seed, dtype: as for every model.

    ``fit`` compiles with Adam + binary cross-entropy + accuracy if the model was not compiled yet.
    """

    def __init__(self, n_numeric, cardinalities, n_factors=8, l2=1e-4, init_std=0.01, item_field=None, seed=0,
                 dtype="float32", name="factorization_machine"):
        super().__init__(seed=seed, dtype=dtype, name=name)
        if isinstance(n_numeric, bool) or not isinstance(n_numeric, (int, np.integer)) or n_numeric < 1:
            raise ValueError(f"FactorizationMachine: n_numeric must be a positive integer; "
                             f"got {n_numeric!r}.")
        card = np.asarray(cardinalities)
        if card.ndim != 1 or card.size == 0 or card.dtype.kind not in "iu" or card.min() < 1:
            raise ValueError("FactorizationMachine: cardinalities must be a non-empty list of positive "
                             f"integers (values per categorical field); got {cardinalities!r}.")
        if isinstance(n_factors, bool) or not isinstance(n_factors, (int, np.integer)) or n_factors < 1:
            raise ValueError(f"FactorizationMachine: n_factors must be a positive integer; "
                             f"got {n_factors!r}.")
        self.n_numeric, self.n_factors = int(n_numeric), int(n_factors)
        self.l2 = _checks.non_negative("FactorizationMachine", "l2", l2)
        self.init_std = _checks.non_negative("FactorizationMachine", "init_std", init_std)
        self.cardinalities = card.astype(np.int64)
        self.item_field = None if item_field is None else _checks.integer(
            "FactorizationMachine", "item_field", item_field, minimum=0, maximum=len(card) - 1)
        self.offsets = np.concatenate([[0], np.cumsum(self.cardinalities)[:-1]])  # (C,)
        total = int(self.cardinalities.sum())
        init = lambda shape, rng, dtype: (rng.standard_normal(shape) * init_std).astype(dtype)  # noqa: E731
        self.linear = Dense(1, name="linear")
        self.cat_weights = Embedding(total, 1, "zeros", l2=l2, name="cat_weights")
        self.numeric_factors = NumericFactors(self.n_numeric, self.n_factors, init_std,
                                              name="numeric_factors")
        self.cat_factors = Embedding(total, self.n_factors, init, l2=l2, name="cat_factors")
        self.output_layer = Activation("sigmoid", name="click_probability")
        self.layers = [self.linear, self.cat_weights, self.numeric_factors, self.cat_factors,
                       self.output_layer]
        for layer in self.layers:
            shape = (None, self.n_numeric) if layer in (self.linear, self.numeric_factors) else (None,)
            layer.build(shape, rng=self._init_rng, dtype=self.dtype)
        self.linear.needs_input_grad = self.numeric_factors.needs_input_grad = False  # inputs are data
        self.built = True

    # -- Model hooks ---------------------------------------------------------------------------
    def _ensure_built(self, x):
        pass  # built in __init__

    def output_shape_for(self, n):
        return (n, 1)

    def _check_inputs(self, x, where):
        """``(X_numeric, X_categorical)`` → float ``(N, n_numeric)``, int64 ``(N, C)``; or a clear error."""
        owner = f"{self.name}.{where}"
        if not isinstance(x, (tuple, list)) or len(x) != 2:
            raise ValueError(f"{owner}: inputs must be a pair (X_numeric, X_categorical).")
        try:
            num = np.asarray(x[0], dtype=self.dtype)
        except (TypeError, ValueError) as err:
            raise ValueError(f"{owner}: X_numeric must be numeric; {err}") from None
        if num.ndim != 2 or num.shape[1] != self.n_numeric:
            raise ValueError(f"{owner}: X_numeric must have shape (N, {self.n_numeric}); got {num.shape}.")
        if not np.isfinite(num).all():
            raise ValueError(f"{owner}: X_numeric contains NaN or inf (first at row "
                             f"{np.argwhere(~np.isfinite(num))[0][0]}).")
        cat = np.asarray(x[1])
        n_fields = len(self.cardinalities)
        if cat.ndim != 2 or cat.shape[1] != n_fields:
            raise ValueError(f"{owner}: X_categorical must have shape (N, {n_fields}); got {cat.shape}.")
        if cat.size and cat.dtype.kind not in "iu":
            raise ValueError(f"{owner}: X_categorical must hold integer codes; got dtype {cat.dtype}.")
        if len(cat) != len(num):
            raise ValueError(f"{owner}: X_numeric has {len(num)} rows but X_categorical has {len(cat)}.")
        cat = cat.astype(np.int64, copy=False)
        bad = (cat < 0) | (cat >= self.cardinalities)
        if bad.any():
            row, col = np.argwhere(bad)[0]
            raise ValueError(f"{owner}: X_categorical column {col} contains value {cat[row, col]} "
                             f"(row {row}), outside [0, {self.cardinalities[col]}).")
        return num, cat

    # -- the two passes ------------------------------------------------------------------------
    def forward(self, x, training=False):
        """``(X_num (N, n), X_cat (N, C))`` → ``p = σ(linear + Σ_f w_{f,c_f} + ½Σ_t(s_t² − Σ_a e_at²))``."""
        num, cat = x
        n_rows, n_fields = cat.shape
        ids = (cat + self.offsets).reshape(-1)  # (N·C,): one shared table for all fields
        first_order = (self.linear.forward(num)  # w₀ + x·w                              (N, 1)
                       + self.cat_weights.forward(ids).reshape(n_rows, n_fields).sum(axis=1, keepdims=True))
        e = np.concatenate([self.numeric_factors.forward(num),  # (N, n, k)
                            self.cat_factors.forward(ids).reshape(n_rows, n_fields, self.n_factors)],
                           axis=1)  # (N, F, k)
        s = e.sum(axis=1)  # (N, k)
        self._e, self._s = e, s
        pairwise = 0.5 * np.sum(s * s - np.sum(e * e, axis=1), axis=1, keepdims=True)  # (N, 1)
        return self.output_layer.forward(first_order + pairwise)

    def backward(self, grad, from_logits=False):
        """``grad = ∂L/∂p`` (or ``∂L/∂z`` when fused); fills every layer's gradient (module docstring)."""
        out = self.output_layer
        dz = out.backward_from_logits(grad) if from_logits else out.backward(grad)  # (N, 1)
        n_rows, n_fields = self._e.shape[0], len(self.cardinalities)
        self.linear.backward(dz)
        self.cat_weights.backward(np.repeat(dz, n_fields, axis=0))  # each field's weight gets dz, (N·C, 1)
        de = dz[:, :, None] * (self._s[:, None, :] - self._e)  # ∂z/∂e_a = s − e_a            (N, F, k)
        self.numeric_factors.backward(de[:, :self.n_numeric])
        self.cat_factors.backward(de[:, self.n_numeric:].reshape(n_rows * n_fields, self.n_factors))

    # -- scikit-learn-style fit and the recommender interface -----------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True):
        """``Model.fit`` (Keras' arguments); compiles with Adam, binary cross-entropy and accuracy first
        if ``compile`` was not called. Returns ``self``, like every recommender (``self.history``)."""
        if not self.compiled:
            self.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
        super().fit(x, y, batch_size=batch_size, epochs=epochs, verbose=verbose, callbacks=callbacks,
                    validation_split=validation_split, validation_data=validation_data, shuffle=shuffle)
        return self

    def score_items(self, x):
        """Click probability of every value of ``item_field`` for each context row: ``(N, n_values)``.

        ``x = (X_numeric (N, n), X_categorical (N, C))``; the ``item_field`` column of ``X_categorical`` is
        ignored and replaced by each value ``0..cardinalities[item_field]-1`` in turn.
        """
        owner = f"{type(self).__name__}.score_items"
        if self.item_field is None:
            raise ValueError(f"{owner}: this model has no item_field; create it with item_field=<the column "
                             "of X_categorical that holds the item to recommend>.")
        num, cat = self._check_inputs(x, "score_items")
        n_values = int(self.cardinalities[self.item_field])
        cat = np.repeat(cat, n_values, axis=0)
        cat[:, self.item_field] = np.tile(np.arange(n_values), len(num))
        p = self.predict((np.repeat(num, n_values, axis=0), cat))
        return p.reshape(len(num), n_values).astype(np.float64)

    def recommend(self, x, k=10):
        """Top-``k`` values of ``item_field`` per context row: ``(items (N, k) int64, scores (N, k))``."""
        owner = f"{type(self).__name__}.recommend"
        scores = self.score_items(x)
        k = _checks.integer(owner, "k", k, minimum=1, maximum=scores.shape[1])
        top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        return top, np.take_along_axis(scores, top, axis=1)

    def get_config(self):
        return {"n_numeric": self.n_numeric, "cardinalities": self.cardinalities.tolist(),
                "n_factors": self.n_factors, "l2": self.l2, "init_std": self.init_std,
                "item_field": self.item_field, "seed": self.seed if isinstance(self.seed, int) else None,
                "dtype": self.dtype.name, "name": self.name}
