"""Loss functions (损失函数): a value and its gradient, written side by side.

Every loss here is the **mean over the batch** (for MSE also over the output units, as in Keras), and
``backward`` returns the gradient **of that mean**, ``dL/dŷ`` with ``ŷ``'s shape; so ``fit`` and
``evaluate`` report the same number for the same data.

Use: ``loss.forward(y_true, y_pred) -> float`` caches what ``backward() -> dL/dy_pred`` needs;
``loss(y_true, y_pred)`` also checks the targets first and just returns the value.

Numerical stability — why the output activation is fused with the loss
---------------------------------------------------------------------
A sigmoid output in float32 rounds to exactly 1.0 once ``z > 17``; then ``log(1 − p) = log(0) = −inf``
and ``(p − y) / (p(1 − p))`` divides by zero. Computing the loss from the **logit** ``z`` avoids ever
forming ``log(0)``:

    −[y log σ(z) + (1 − y) log(1 − σ(z))] = log(1 + e^{z}) − z·y

(use ``log σ(z) = z − log(1 + e^{z})`` and ``log(1 − σ(z)) = −log(1 + e^{z})``); ``np.logaddexp(0, z)``
computes ``log(1 + e^{z})`` without ever overflowing, as ``max(z, 0) + log(1 + e^{−|z|})``.
Its derivative collapses to the famous ``dL/dz = σ(z) − y = p − y``:
the ``p(1 − p)`` of the sigmoid's derivative cancels the ``1/(p(1 − p))`` of the log-loss's.
Softmax with categorical cross-entropy is the same story: ``L = −Σ_k y_k log softmax(z)_k`` with
``log softmax(z) = z − max(z) − log Σ_j e^{z_j − max(z)}`` and ``dL/dz = softmax(z) − y``.

So when a model ends in ``sigmoid``/``softmax`` and is compiled with the matching cross-entropy,
``Sequential`` computes the loss from the output layer's logits (a loss built with ``from_logits=True``)
and back-propagates ``(p − y)/N`` straight into the layer's pre-activation. Predictions are unchanged.
"""

from __future__ import annotations

import numpy as np

from ._checks import flag, real_array, unknown_name
from .activations import sigmoid

#: Probabilities are clipped to [EPSILON, 1 − EPSILON] when a loss receives probabilities (Keras' 1e-7).
EPSILON = 1e-7


def _as_2d(y):
    return y.reshape(-1, 1) if y.ndim == 1 else y


class Loss:
    """Base class. Subclasses implement ``forward``, ``backward`` and, if needed, ``check_targets``."""

    name = "loss"
    #: The output activation this loss can be fused with (see the module docstring).
    fused_activation: str | None = None

    #: Element-wise losses (MSE, binary cross-entropy) read a 1-D ``y_pred`` as one column ``(N, 1)``;
    #: the categorical ones need ``(N, K)`` rows of class scores.
    elementwise = True

    def __init__(self, from_logits=False):
        self.from_logits = flag(type(self).__name__, "from_logits", from_logits)

    def __call__(self, y_true, y_pred):
        """The loss value for ``y_true`` and ``y_pred``, after checking both (the direct, stand-alone use).

        ``y_pred`` ``(N, K)``, or ``(N,)`` for the element-wise losses, read as the column ``(N, 1)``:
        without that, ``y_true (N,)`` against ``y_pred (N,)`` would meet as ``(N, 1) − (N,)`` and broadcast
        to an ``(N, N)`` grid of every target against every prediction.
        """
        y_pred = real_array(self.name, "y_pred", y_pred, allow_empty=False)
        if y_pred.dtype.kind != "f":
            y_pred = y_pred.astype(np.float64)
        if y_pred.ndim == 1 and self.elementwise:
            y_pred = y_pred.reshape(-1, 1)
        if y_pred.ndim != 2:
            expected = "(N,) or (N, K)" if self.elementwise else "(N, K), one row of class scores per sample"
            raise ValueError(f"{self.name}: y_pred must be {expected}; got shape {y_pred.shape}.")
        y_true = self.check_targets(y_true, y_pred.shape)
        return self.forward(y_true, y_pred)

    def check_targets(self, y_true, output_shape):
        """Raise a clear error when ``y_true`` can't be targets for outputs of ``output_shape``.

        Refused: ragged lists, strings, complex numbers (a cast would drop the imaginary part), NaN/inf,
        and any shape other than ``output_shape`` (or ``(N,)`` for an ``(N, 1)`` output).
        """
        y_true = real_array(self.name, "y_true", y_true)
        if y_true.shape != tuple(output_shape) and not (
            y_true.ndim == 1 and len(output_shape) == 2 and output_shape[1] == 1
            and y_true.shape[0] == output_shape[0]
        ):
            raise ValueError(
                f"{self.name}: targets must have the model's output shape {tuple(output_shape)}; "
                f"got y of shape {y_true.shape}."
            )
        return y_true

    def forward(self, y_true, y_pred):
        raise NotImplementedError

    def backward(self):
        raise NotImplementedError

    def gradient(self, y_true, y_pred):
        """``dL/dŷ`` without the loss value: what a training step needs (``forward`` then ``backward``,
        unless a subclass has a cheaper direct formula). Shapes as ``y_pred``."""
        self.forward(y_true, y_pred)
        return self.backward()

    def get_config(self):
        return {"name": self.name, "from_logits": self.from_logits}

    def __repr__(self):
        return f"{type(self).__name__}(from_logits={self.from_logits})"


class MeanSquaredError(Loss):
    """Mean squared error (均方误差), for regression such as rating prediction.

    ``L = 1/(N·K) Σ_{n,k} (ŷ_nk − y_nk)²``   with ``y, ŷ (N, K)`` (a 1-D ``y`` is taken as ``(N, 1)``).
    ``dL/dŷ = 2 (ŷ − y) / (N·K)``            ``(N, K)``.
    """

    name = "mean_squared_error"

    def forward(self, y_true, y_pred):
        self._diff = y_pred - _as_2d(y_true).astype(y_pred.dtype, copy=False)
        return float(np.sum(self._diff * self._diff)) / self._diff.size

    def backward(self):
        return self._diff * self._diff.dtype.type(2.0 / self._diff.size)

    def gradient(self, y_true, y_pred):
        diff = y_pred - _as_2d(y_true).astype(y_pred.dtype, copy=False)
        diff *= diff.dtype.type(2.0 / diff.size)
        return diff


class BinaryCrossentropy(Loss):
    """Binary cross-entropy (二元交叉熵), for click / no-click targets ``y ∈ [0, 1]``.

    With probabilities ``p`` (``from_logits=False``), clipped to ``[ε, 1 − ε]``:
        ``L = −1/(N·K) Σ [y log p + (1 − y) log(1 − p)]``,   ``dL/dp = (p − y) / (p(1 − p)) / (N·K)``.
    With logits ``z`` (``from_logits=True``), stable for any ``z``:
        ``L = 1/(N·K) Σ [log(1 + e^{z}) − z·y]``  (``log(1 + e^z)`` via ``np.logaddexp(0, z)``),
        ``dL/dz = (σ(z) − y) / (N·K)``.
    Shapes: ``y, p, z`` all ``(N, K)``; usually ``K = 1``. See the module docstring for the derivation.
    """

    name = "binary_crossentropy"
    fused_activation = "sigmoid"

    def check_targets(self, y_true, output_shape):
        y_true = super().check_targets(y_true, output_shape)
        if y_true.size and (y_true.min() < 0 or y_true.max() > 1):
            raise ValueError(
                f"{self.name}: targets must lie in [0, 1] (click = 1, no click = 0); got values from "
                f"{y_true.min()} to {y_true.max()}."
            )
        return y_true

    def forward(self, y_true, y_pred):
        y = _as_2d(y_true).astype(y_pred.dtype, copy=False)
        self._y = y
        if self.from_logits:
            z = y_pred
            self._z = z
            losses = np.logaddexp(0, z) - z * y  # softplus(z) − z·y, never overflows
        else:
            p = np.clip(y_pred, EPSILON, 1 - EPSILON)
            self._p = p
            losses = -(y * np.log(p) + (1 - y) * np.log1p(-p))
        return float(losses.sum()) / losses.size

    def backward(self):
        scale = self._y.dtype.type(1.0 / self._y.size)
        if self.from_logits:
            return (sigmoid(self._z) - self._y) * scale
        p = self._p
        return (p - self._y) / (p * (1 - p)) * scale

    def gradient(self, y_true, y_pred):
        if not self.from_logits:
            return super().gradient(y_true, y_pred)
        g = sigmoid(y_pred)  # (σ(z) − y)/(N·K), skipping the softplus the loss value needs
        g -= _as_2d(y_true).astype(y_pred.dtype, copy=False)
        g *= g.dtype.type(1.0 / g.size)
        return g


class CategoricalCrossentropy(Loss):
    """Categorical cross-entropy (交叉熵) for one-hot targets over ``K`` classes.

    With probabilities ``p`` (rows sum to 1; clipped to ``[ε, 1 − ε]``):
        ``L = −1/N Σ_n Σ_k y_nk log p_nk``,   ``dL/dp = −y / p / N``.
    With logits ``z``: ``log p = z − max z − log Σ_j e^{z_j − max z}`` (never overflows) and
        ``dL/dz = (softmax(z) − y) / N``.
    Shapes: ``y, p, z`` all ``(N, K)``.
    """

    name = "categorical_crossentropy"
    fused_activation = "softmax"
    elementwise = False

    def check_targets(self, y_true, output_shape):
        y_true = super().check_targets(y_true, output_shape)
        if y_true.size and (y_true.min() < 0 or not np.allclose(y_true.sum(axis=-1), 1.0, atol=1e-3)):
            raise ValueError(
                f"{self.name}: targets must be one-hot (non-negative rows summing to 1); for integer "
                f"class labels use sparse_categorical_crossentropy."
            )
        return y_true

    def forward(self, y_true, y_pred):
        self._y = y_true.astype(y_pred.dtype, copy=False)
        if self.from_logits:
            shifted = y_pred - y_pred.max(axis=-1, keepdims=True)
            log_p = shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))
            self._p = np.exp(log_p)  # = softmax(z), reused by backward
        else:
            self._p = np.clip(y_pred, EPSILON, 1 - EPSILON)
            log_p = np.log(self._p)
        return float(-np.sum(self._y * log_p) / len(y_pred))

    def backward(self):
        scale = self._p.dtype.type(1.0 / len(self._p))
        if self.from_logits:
            return (self._p - self._y) * scale
        return -self._y / self._p * scale


class SparseCategoricalCrossentropy(CategoricalCrossentropy):
    """Categorical cross-entropy with integer labels ``y ∈ {0..K−1}`` of shape ``(N,)`` or ``(N, 1)``.

    Same formulas as ``CategoricalCrossentropy`` with ``y`` one-hot encoded: ``L = −1/N Σ_n log p_{n,y_n}``;
    from logits ``dL/dz = (softmax(z) − onehot(y)) / N``.
    """

    name = "sparse_categorical_crossentropy"

    def check_targets(self, y_true, output_shape):
        n_classes = output_shape[-1]
        y_true = real_array(self.name, "y_true (labels)", y_true)
        if y_true.ndim == 2 and y_true.shape[1] == 1:
            y_true = y_true[:, 0]
        if y_true.ndim != 1 or y_true.shape[0] != output_shape[0]:
            raise ValueError(
                f"{self.name}: labels must be integers of shape ({output_shape[0]},); got {y_true.shape}."
            )
        if y_true.size and (
            np.any(y_true != np.round(y_true)) or y_true.min() < 0 or y_true.max() >= n_classes
        ):
            raise ValueError(
                f"{self.name}: labels must be integers in [0, {n_classes - 1}] for {n_classes} outputs; "
                f"got values from {y_true.min()} to {y_true.max()}."
            )
        return y_true

    def forward(self, y_true, y_pred):
        labels = np.asarray(y_true).reshape(-1).astype(np.int64)
        onehot = np.zeros_like(y_pred)
        onehot[np.arange(len(labels)), labels] = 1
        return super().forward(onehot, y_pred)


_REGISTRY = {
    "mean_squared_error": MeanSquaredError,
    "mse": MeanSquaredError,
    "binary_crossentropy": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
}
NAMES = tuple(_REGISTRY)

def get(identifier) -> Loss:
    """A ``Loss`` from a name (e.g. ``"binary_crossentropy"``), a ``Loss`` subclass, or an instance."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if isinstance(identifier, str) and identifier.lower() in _REGISTRY:
        return _REGISTRY[identifier.lower()]()
    raise unknown_name("loss", identifier, NAMES)


# =========================================================================================================
# Losses for large catalogues (召回, candidate retrieval): in-batch sampled softmax with the log-Q
# correction, and BPR. Both score *items against each other* instead of one row against its own label.
# =========================================================================================================


class InBatchSoftmax(Loss):
    """Softmax over the batch's own items (in-batch negatives), with the log-Q correction (Yi et al. 2019).

    A retrieval model wants ``P(item | user) = softmax over the whole catalogue``, but a catalogue of a
    million items is too big to normalise over at every step. In-batch negatives: the ``B`` positive pairs
    ``(user_i, item y_i)`` of a batch are scored all against all, ``s_ij = u_i · v_j`` (column ``j`` is the
    item of row ``j``), and row ``i`` is a ``B``-way classification whose right answer is column ``i``.

    The other items of the batch are not uniform negatives: they are drawn ∝ their popularity ``q_j``
    (how often they appear in the training pairs), so popular items get pushed down far more often than
    they should. Subtracting ``log q_j`` from every logit corrects the sampled softmax towards the full
    one (Yi et al. 2019, "Sampling-Bias-Corrected Neural Modeling for Large Corpus Item
    Recommendations", RecSys, eq. 3; Bengio & Senécal 2008 for the importance-sampling argument)::

        c_ij = s_ij − log q_{y_j}                                   corrected logits      (B, B)
        m_ij = 0 if j ≠ i and y_j = y_i ("accidental hit": the same item again), else 1
        P_ij = m_ij e^{c_ij} / Σ_k m_ik e^{c_ik}                    masked softmax per row (B, B)
        L    = −1/B Σ_i log P_ii
        ∂L/∂s_ij = (P_ij − [i = j]) / B                             (0 where m_ij = 0)

    (``∂c/∂s = 1``, so the gradient with respect to ``s`` is that of an ordinary softmax cross-entropy on
    the corrected logits; ``log q`` is a constant.)

    Args:
        log_q: ``(n_items,)`` log of each item's in-batch sampling probability, or None for no correction
            (``TwoTower.fit`` sets it from the training item frequencies: ``q_j = count_j / N``).
        remove_accidental_hits: mask other columns holding the row's own positive item (default True).

    ``forward(y_true, y_pred)``: ``y_true (B,)`` the item ids of the batch's positives (used for ``log q``
    and the mask), ``y_pred (B, B)`` the logits ``s``. ``backward() -> (B, B)``.
    """

    name = "in_batch_softmax"
    elementwise = False  # one row's loss reads the whole batch

    def __init__(self, log_q=None, remove_accidental_hits=True, from_logits=True):
        if not from_logits:
            raise ValueError(f"{self.name}: works on scores (logits) only; from_logits must be True.")
        super().__init__(from_logits=True)
        if log_q is not None:
            log_q = np.asarray(log_q, dtype=np.float64)
            if log_q.ndim != 1 or not np.all(np.isfinite(log_q)):
                raise ValueError(f"{self.name}: log_q must be a 1-D array of finite log-probabilities (one per "
                                 f"item); got shape {log_q.shape}.")
        self.log_q = log_q
        self.remove_accidental_hits = bool(remove_accidental_hits)

    def check_targets(self, y_true, output_shape):
        y = real_array(self.name, "y_true (the batch's item ids)", y_true)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim != 1 or y.shape[0] != output_shape[0]:
            raise ValueError(f"{self.name}: targets must be the batch's item ids, shape ({output_shape[0]},); "
                             f"got shape {y.shape}.")
        if y.size and (not np.all(np.isfinite(y)) or np.any(y != np.round(y)) or y.min() < 0):
            raise ValueError(f"{self.name}: targets must be non-negative integer item ids.")
        if self.log_q is not None and y.size and y.max() >= len(self.log_q):
            raise ValueError(f"{self.name}: item id {int(y.max())} has no log_q entry (log_q covers "
                             f"{len(self.log_q)} items).")
        return y

    def forward(self, y_true, y_pred):
        items = np.asarray(y_true).reshape(-1).astype(np.int64)
        if y_pred.ndim != 2 or y_pred.shape != (len(items), len(items)):
            raise ValueError(f"{self.name}: logits must be (B, B) for B = {len(items)} item ids; got "
                             f"{y_pred.shape}.")
        logits = y_pred if self.log_q is None else y_pred - self.log_q[items][None, :].astype(y_pred.dtype)
        keep = np.ones(logits.shape, dtype=bool)
        if self.remove_accidental_hits:
            keep = items[:, None] != items[None, :]
            np.fill_diagonal(keep, True)
        masked = np.where(keep, logits, -np.inf)
        shifted = masked - masked.max(axis=1, keepdims=True)  # the diagonal is always kept: max is finite
        log_p = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
        self._p = np.exp(log_p)  # masked entries: exp(−inf) = 0, so they get no gradient
        return float(-np.mean(np.diagonal(log_p)))

    def backward(self):
        grad = self._p.copy()
        grad[np.diag_indices_from(grad)] -= 1.0
        return grad * grad.dtype.type(1.0 / len(grad))

    def get_config(self):
        return {"name": self.name, "remove_accidental_hits": self.remove_accidental_hits,
                "log_q": None if self.log_q is None else self.log_q.tolist()}

    def __repr__(self):
        return f"InBatchSoftmax(log_q={'None' if self.log_q is None else 'array'}, " \
               f"remove_accidental_hits={self.remove_accidental_hits})"


class BPRLoss(Loss):
    """Bayesian personalised ranking (BPR, 贝叶斯个性化排序; Rendle et al. 2009, UAI).

    Implicit feedback only says what a user *did* interact with. BPR learns from pairs: for a user ``u``,
    an item ``i`` they interacted with should score higher than an item ``j`` they did not (a sampled
    negative, 负采样). With ``x = s_ui − s_uj``::

        L        = −1/N Σ_n log σ(x_n) = 1/N Σ_n log(1 + e^{−x_n})     (np.logaddexp(0, −x): no overflow)
        ∂L/∂s_ui = −σ(−x) / N,     ∂L/∂s_uj = +σ(−x) / N

    (``d/dx log σ(x) = 1 − σ(x) = σ(−x)``.) The gradient fades once ``i`` is well above ``j``: BPR cares
    about the order, not about the scores themselves — unlike pointwise BCE, which pushes every positive
    towards probability 1 and every negative towards 0. BPR is BCE with target 1 on the difference ``x``.

    ``forward(y_true, y_pred)``: ``y_pred (N, 2)`` — column 0 ``s_ui`` (the positive), column 1 ``s_uj``
    (the negative). ``y_true`` is ``(N, 2)`` rows ``[1, 0]`` (or ``(N,)``): a pairwise loss has no
    labels to learn from — column 0 is preferred by construction — so only its length is checked.
    ``backward() -> (N, 2)``.
    """

    name = "bpr"
    elementwise = False  # a row is a pair of scores

    def __init__(self, from_logits=True):
        if not from_logits:
            raise ValueError(f"{self.name}: works on scores only; from_logits must be True.")
        super().__init__(from_logits=True)

    def check_targets(self, y_true, output_shape):
        if len(output_shape) != 2 or output_shape[1] != 2:
            raise ValueError(f"{self.name}: scores must be (N, 2), [positive, negative] per row; got "
                             f"{tuple(output_shape)}.")
        y = real_array(self.name, "y_true", y_true)
        if y.shape[:1] != tuple(output_shape[:1]):
            raise ValueError(f"{self.name}: y_true must have one row per pair ({output_shape[0]}); got shape "
                             f"{y.shape}.")
        return y

    def forward(self, y_true, y_pred):
        if y_pred.ndim != 2 or y_pred.shape[1] != 2:
            raise ValueError(f"{self.name}: scores must be (N, 2), [positive, negative] per row; got "
                             f"{y_pred.shape}.")
        self._x = y_pred[:, 0] - y_pred[:, 1]  # (N,)
        return float(np.mean(np.logaddexp(0, -self._x)))

    def backward(self):
        g = sigmoid(-self._x) * self._x.dtype.type(1.0 / len(self._x))  # σ(−x)/N, (N,)
        return np.stack([-g, g], axis=1)

    def get_config(self):
        return {"name": self.name}

    def __repr__(self):
        return "BPRLoss()"


# Registered by name too (``compile(loss="bpr")``); added here, at the end, next to their classes.
_REGISTRY["bpr"] = BPRLoss
_REGISTRY["in_batch_softmax"] = InBatchSoftmax
NAMES = tuple(_REGISTRY)
