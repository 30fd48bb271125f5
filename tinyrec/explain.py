"""Interpretability (可解释性): explanations a user or an analyst would see, computed from a trained model.

Two kinds, one per family of model in the course:

* **"Because you liked X"** (``because_you_liked``) for embedding recommenders. An item's learned vector
  ``q_i`` places it among items with similar audiences; the history items whose vectors point the same way
  as the recommended item's are the explanation. Similarity is the cosine
  ``cos(q_i, q_j) = q_i·q_j / (‖q_i‖‖q_j‖)`` (shapes: ``Q (n_items, k)`` → one score per history item).
* **Gradient × input** (``gradient_times_input``) for a ``Sequential`` MLP such as the article's click
  model: feature ``j``'s attribution for row ``n`` is ``a_nj = x_nj · ∂z_n/∂x_nj``, where ``z`` is the output
  logit (or the output itself). The gradient comes from the model's own backward pass — the chain rule run
  from the output down to the input instead of to the weights: ``∂z/∂x = dz·Wᴸᵀ ⊙ f'(…) ⋯ W¹ᵀ`` — so no
  new derivative is written here. For a linear model ``z = x·w + b`` it is exactly ``a_nj = x_nj w_j``: the
  feature's share of the logit.

Both can be *graded* on the bundled data, whose generator knows the truth (the movies' genres, the ad
clicks' teacher network); chapter 9 does it.
"""

from __future__ import annotations

import numpy as np

from ._checks import check_ids
from .layers import Embedding

__all__ = ["item_embeddings", "item_similarity", "because_you_liked", "gradient_times_input"]


def item_embeddings(model):
    """The item vectors a recommender learned, ``(n_items, k)``.

    ``MatrixFactorization``: ``Q`` (``item_factors``); ``NeuMF``: the GMF item table joined with the MLP
    item table (``[gmf_item | mlp_item]``); any other object with an ``item_factors`` ``Embedding``; or a
    plain 2-D array, returned as it is (e.g. a generator's true factors).
    """
    if isinstance(model, np.ndarray):
        if model.ndim != 2:
            raise ValueError(f"item_embeddings: an array of item vectors must be 2-D; got shape {model.shape}.")
        return model
    tables = [getattr(model, name, None) for name in ("item_factors", "gmf_item", "mlp_item")]
    tables = [t.params["embeddings"] for t in tables if isinstance(t, Embedding)]
    if not tables:
        raise TypeError(f"item_embeddings: {type(model).__name__} has no item embedding table (item_factors, "
                        "gmf_item); pass the item vectors as an (n_items, k) array instead.")
    return np.concatenate(tables, axis=1) if len(tables) > 1 else tables[0]


def item_similarity(model, item_id, item_ids):
    """Cosine similarity of ``item_id``'s vector with each of ``item_ids``: ``(len(item_ids),)`` float64."""
    Q = np.asarray(item_embeddings(model), dtype=np.float64)
    i = check_ids("item_similarity", "item_id", np.atleast_1d(item_id), len(Q))
    js = check_ids("item_similarity", "item_ids", np.atleast_1d(item_ids), len(Q))
    unit = Q / np.maximum(np.linalg.norm(Q, axis=1, keepdims=True), 1e-12)  # a zero vector: similarity 0
    return unit[js] @ unit[i[0]]


def because_you_liked(model, user_id, item_id, history=None, k=3):
    """Explain recommending ``item_id`` to ``user_id``: the ``k`` history items most like it.

    Args:
        model: a fitted recommender (see ``item_embeddings``) or an ``(n_items, k)`` array of item vectors.
        user_id: the user; used to read their training interactions when ``history`` is None.
        item_id: the recommended item.
        history: item ids the user liked (e.g. rated 4 stars or more), ``(m,)``. Default: every item the
            user had in the model's training data.
        k: how many explanations, ``1 ≤ k``; fewer come back if the history is shorter.
    Returns:
        ``(items (k,) int64, similarities (k,) float64)``, most similar first ("because you liked
        items[0]"); the recommended item itself is never its own explanation.
    """
    owner = "because_you_liked"
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"{owner}: k must be a positive integer; got {k!r}.")
    if history is None:
        seen = getattr(model, "_seen", None)
        if seen is None:
            raise ValueError(f"{owner}: no history given and the model has no training interactions; pass "
                             "history=[item ids the user liked].")
        n_users = getattr(model, "n_users", len(seen[0]) - 1)
        user = check_ids(owner, "user_id", np.atleast_1d(user_id), n_users)[0]
        indptr, indices = seen
        history = indices[indptr[user]:indptr[user + 1]]
    history = np.unique(np.asarray(history).ravel())
    n_items = len(item_embeddings(model))
    history = check_ids(owner, "history", history, n_items)
    item = check_ids(owner, "item_id", np.atleast_1d(item_id), n_items)[0]
    history = history[history != item]
    if len(history) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    sims = item_similarity(model, item, history)
    order = np.lexsort((history, -sims))[:k]  # most similar first; ties broken by the smaller id
    return history[order], sims[order]


def gradient_times_input(model, x, output="logit", unit=0):
    """Gradient × input attributions of a ``Sequential`` model: ``a = x ⊙ ∂out/∂x``, shape ``(n, d)``.

    The model's forward pass runs in inference mode, then its backward pass from ``∂out/∂out = 1`` on
    output unit ``unit`` gives ``∂out_n/∂x_n`` for every row at once (rows do not interact). The first
    layer normally skips ``dx`` (its input is data), so ``needs_input_grad`` is switched on for the call
    and restored after. The layers' ``grads`` are overwritten (the next training step recomputes them).

    Args:
        model: a built ``Sequential``. x: inputs ``(n, d)``.
        output: ``"logit"`` (the output layer's pre-activation ``z``; additive, the usual choice for a
            sigmoid output) or ``"output"`` (the prediction itself, ``f(z)``).
        unit: which output unit to explain.
    """
    owner = "gradient_times_input"
    if output not in ("logit", "output"):
        raise ValueError(f"{owner}: output must be 'logit' or 'output'; got {output!r}.")
    if not getattr(model, "built", False) or not hasattr(model, "output_shape_for"):
        raise TypeError(f"{owner}: expects a built tinyrec Sequential model; got {type(model).__name__}.")
    x = model._check_inputs(x, owner)
    n = len(x)
    width = model.output_shape_for(n)[1]
    if isinstance(unit, bool) or not isinstance(unit, (int, np.integer)) or not 0 <= unit < width:
        raise ValueError(f"{owner}: unit must be an integer in [0, {width}); got {unit!r}.")
    first = model.layers[0]
    saved = first.needs_input_grad
    first.needs_input_grad = True
    try:
        model.forward(x, training=False)
        seed = np.zeros((n, width), dtype=x.dtype)
        seed[:, unit] = 1.0
        from_logits = output == "logit" and hasattr(model.output_layer, "backward_from_logits")
        grad = model.backward(seed, from_logits=from_logits)
    finally:
        first.needs_input_grad = saved
    return x * grad
