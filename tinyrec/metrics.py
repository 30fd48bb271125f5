"""Metrics (评估指标): numbers that tell us how good a model is, as opposed to the loss it is trained on.

The module has three groups, from cheapest to richest:

1. **Training metrics** — ``f(y_true, y_pred) -> float``, the batch mean, a few NumPy operations each,
   called by ``Model.fit`` after every batch (``metrics=["accuracy"]`` in ``compile``). ``get`` turns a
   name into one of them. Binary/regression shapes: ``y_true, y_pred`` both ``(batch, units)``; a
   ``(batch,)`` vs ``(batch, 1)`` mismatch is reshaped instead of broadcast into ``(batch, batch)``.
2. **Rating and click metrics** — RMSE, MAE (误差), ROC AUC, log loss (对数损失) on a whole test set.
3. **Top-k ranking metrics** (排序指标) for recommendation lists, the sampled "1 positive among 99
   negatives" protocol (He et al., *Neural Collaborative Filtering*, WWW 2017), and beyond-accuracy
   metrics: catalogue coverage (覆盖率), novelty (新颖性), intra-list diversity (多样性).

Ranking inputs, shared by every top-k function:

* ``recommended``: int array ``(n_users, k)``; row ``u`` holds user ``u``'s item ids, best first.
* ``relevant``: what each user actually liked in the test set (相关物品), either
  a sequence of length ``n_users`` whose entries are 1-D int arrays, lists or sets (any length, even 0),
  a 2-D int array (each row one user's set), or a 1-D int array of length ``n_users`` holding one
  held-out item per user (the leave-one-out protocol, 留一法).

A ``dict`` is accepted only when it plainly means "row ``u`` of ``recommended`` → that row's items": its keys
must be exactly the row indices ``0 .. n_users−1`` (in any order). Any other dict (e.g. keyed by raw user
ids, or a ``{item: score}`` map) is refused with an error instead of having its keys read as items.

Users whose relevant set is empty are **left out of the mean** (they have nothing to find, so precision,
recall and NDCG are undefined for them). If no user remains, a ``ValueError`` is raised.

Which way is better: every metric function carries ``higher_is_better`` (``True`` for accuracies, AUC,
the ranking and beyond-accuracy metrics; ``False`` for errors and log loss), and :func:`direction` turns a
metric, or a name as logged by ``fit`` (``"val_auc"``, ``"loss"``, ``"val_hit_rate"``, ``"ndcg@10"``), into
``"max"`` or ``"min"``, so early stopping reads the direction from the metric, not from its spelling.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import numpy as np

from ._checks import positive_int, real, real_array, unknown_name

__all__ = [
    "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
    "mean_squared_error", "mse", "mean_absolute_error", "mae", "rmse", "auc", "log_loss",
    "precision_at_k", "recall_at_k", "hit_rate_at_k", "ndcg_at_k", "map_at_k", "mrr",
    "rank_among", "hit_rate_from_ranks", "ndcg_from_ranks",
    "catalog_coverage", "novelty", "intra_list_diversity", "accuracy", "get", "NAMES", "direction",
]


# ================================================================================================
# Small input checks shared by everything below. They raise before NumPy can broadcast silently.
# ================================================================================================
def _numeric(fn: str, arg: str, x, allow: str = "") -> np.ndarray:
    """``x`` as a real NumPy array, or a ValueError naming ``fn`` and ``arg`` (``_checks.real_array``).

    Ragged lists, strings, objects and complex numbers are always refused (a cast to float would drop
    the imaginary part without a word). ``allow=""`` also refuses NaN and inf; ``allow="inf"`` lets ±inf
    through (e.g. scores of masked items) but not NaN; ``allow="nan"`` lets both through: the training
    metrics use it for ``y_pred``, because ``fit`` calls them before its NaN guard, which must be the one
    to report a diverged model (with the epoch and batch) — a NaN prediction then simply gives a NaN MSE.
    """
    try:
        arr = np.asarray(x)
    except ValueError as err:  # ragged nested lists
        raise ValueError(f"{fn}: {arg} must be a rectangular numeric array; {err}") from None
    if allow and arr.dtype.kind == "f":
        if allow == "inf" and np.isnan(arr).any():
            raise ValueError(f"{fn}: {arg} contains NaN, which cannot be compared or ranked.")
        return arr
    return real_array(fn, arg, arr)


def _paired(fn: str, y_true, y_pred, allow_nan_pred=False, names=("y_true", "y_pred")):
    """Return ``y_true, y_pred`` as arrays of the same shape, or raise a ValueError naming ``fn``.

    ``(n,)`` against ``(n, 1)`` is the common slip: broadcasting would compare every row with every
    row and give an ``(n, n)`` result, so equal-sized inputs are reshaped to ``y_pred``'s shape instead.
    ``y_true`` must be finite; ``y_pred`` too unless ``allow_nan_pred`` (see :func:`_numeric`).
    """
    y_true = _numeric(fn, names[0], y_true)
    y_pred = _numeric(fn, names[1], y_pred, allow="nan" if allow_nan_pred else "")
    if y_true.shape != y_pred.shape:
        if y_true.size == y_pred.size and np.squeeze(y_true).shape == np.squeeze(y_pred).shape:
            y_true = y_true.reshape(y_pred.shape)
        else:
            raise ValueError(
                f"{fn}: {names[0]} and {names[1]} must have the same shape; got {y_true.shape} and "
                f"{y_pred.shape}."
            )
    if y_pred.size == 0:
        raise ValueError(f"{fn}: got empty inputs (shape {y_pred.shape}); a mean over 0 values is undefined.")
    return y_true, y_pred


def _check_k(fn: str, k, upper: int | None = None) -> int:
    """``k`` must be an int ≥ 1 (and ≤ ``upper`` when given: the length of the lists)."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise TypeError(f"{fn}: k must be an int >= 1; got {k!r} ({type(k).__name__}).")
    if k < 1:
        raise ValueError(f"{fn}: k must be >= 1; got {k}.")
    if upper is not None and k > upper:
        raise ValueError(f"{fn}: k={k} is larger than the number of recommended columns ({upper}).")
    return int(k)


def _check_ids(fn: str, arg: str, ids: np.ndarray, n_items: int | None = None) -> None:
    """Item ids must be integers in ``[0, n_items)`` (or just ≥ 0 when ``n_items`` is unknown)."""
    if ids.dtype.kind not in "iu":
        raise TypeError(f"{fn}: {arg} must hold integer item ids; got dtype {ids.dtype}.")
    if ids.size == 0:
        return
    lo, hi = ids.min(), ids.max()
    if lo < 0:
        raise ValueError(f"{fn}: {arg} holds a negative item id ({lo}); ids must be >= 0.")
    if n_items is not None and hi >= n_items:
        raise ValueError(f"{fn}: {arg} holds item id {hi}, out of range for n_items={n_items} (ids 0..n-1).")


def _recommended(fn: str, recommended, k=None, n_items: int | None = None) -> tuple[np.ndarray, int]:
    """Validate ``recommended`` ``(n_users, K)`` and return its first ``k`` columns and ``k``."""
    try:
        rec = np.asarray(recommended)
    except ValueError as err:  # ragged lists of lists
        raise ValueError(f"{fn}: recommended must be a 2-D int array (n_users, k); {err}") from None
    if rec.ndim != 2:
        raise ValueError(
            f"{fn}: recommended must be a 2-D int array (n_users, k), one ranked list per row; "
            f"got shape {rec.shape}."
        )
    if rec.shape[0] == 0 or rec.shape[1] == 0:
        raise ValueError(f"{fn}: recommended is empty (shape {rec.shape}).")
    k = rec.shape[1] if k is None else _check_k(fn, k, upper=rec.shape[1])
    rec = rec[:, :k]
    _check_ids(fn, "recommended", rec, n_items)
    # A list that names the same item twice would count one hit twice (precision could exceed 1).
    if k > 1:
        srt = np.sort(rec, axis=1)
        dup_rows = np.flatnonzero((srt[:, 1:] == srt[:, :-1]).any(axis=1))
        if dup_rows.size:
            raise ValueError(
                f"{fn}: recommended row {dup_rows[0]} lists the same item twice within the top {k}; "
                "each list must hold distinct items."
            )
    return rec, k


def _relevant_flat(fn: str, relevant, n_users: int) -> tuple[np.ndarray, np.ndarray] | np.ndarray:
    """Turn ``relevant`` into either a ``(n_users,)`` array (one item each) or flat ``(users, items)``.

    Returns the 1-D array itself for the leave-one-out form, else a pair of equal-length 1-D arrays
    ``(user_index, item_id)``, one entry per (user, relevant item).
    """
    if isinstance(relevant, np.ndarray) and relevant.dtype != object:
        if relevant.ndim == 1:  # one held-out item per user
            if len(relevant) != n_users:
                raise ValueError(
                    f"{fn}: relevant has {len(relevant)} entries but recommended has {n_users} rows."
                )
            _check_ids(fn, "relevant", relevant)
            return relevant
        if relevant.ndim == 2:  # each row is one user's relevant set, all of the same size
            if relevant.shape[0] != n_users:
                raise ValueError(
                    f"{fn}: relevant has {relevant.shape[0]} rows but recommended has {n_users} rows."
                )
            _check_ids(fn, "relevant", relevant)
            users = np.repeat(np.arange(n_users), relevant.shape[1])
            return users, relevant.ravel()
        raise ValueError(f"{fn}: relevant as an array must be 1-D or 2-D; got shape {relevant.shape}.")

    if isinstance(relevant, dict):
        # Only {row index: items} with the keys 0..n_users-1 is unambiguous (module docstring).
        keys = list(relevant)
        if not all(isinstance(key, (int, np.integer)) and not isinstance(key, (bool, np.bool_)) for key in keys) \
                or sorted(int(key) for key in keys) != list(range(n_users)):
            shown = ", ".join(map(repr, keys[:5])) + (", ..." if len(keys) > 5 else "")
            raise ValueError(
                f"{fn}: relevant is a dict whose keys ({shown}) are not the row indices 0..{n_users - 1} of "
                f"recommended; a dict is read as {{row: items}} only then. Pass a list instead, one entry "
                f"per row of recommended: [relevant_items_of(user) for user in the users of each row]."
            )
        relevant = [relevant[u] for u in range(n_users)]
    elif isinstance(relevant, (str, bytes, set, frozenset)):
        raise TypeError(
            f"{fn}: relevant must be a sequence with one item collection per row of recommended (or an int "
            f"array); got a {type(relevant).__name__}, which has no per-user order."
        )

    # Ragged input (a list of lists/arrays/sets): collecting it needs one pass over users, since
    # Python containers of different lengths cannot be read by NumPy in a single call.
    try:
        n_rel = len(relevant)
    except TypeError:
        raise TypeError(
            f"{fn}: relevant must be a sequence of per-user item lists or an int array; "
            f"got {type(relevant).__name__}."
        ) from None
    if n_rel != n_users:
        raise ValueError(f"{fn}: relevant has {n_rel} entries but recommended has {n_users} rows.")
    arrays = []
    for u, r in enumerate(relevant):
        if isinstance(r, (set, frozenset)):
            r = list(r)
        if isinstance(r, dict) or r is None or isinstance(r, (str, bytes)):
            raise TypeError(f"{fn}: relevant[{u}] must be a collection of integer item ids; got {r!r:.40}.")
        try:
            a = np.ravel(np.asarray(r))
        except ValueError as err:
            raise ValueError(f"{fn}: relevant[{u}] must be a flat collection of item ids; {err}") from None
        if a.size and a.dtype.kind not in "iu":
            raise TypeError(f"{fn}: relevant[{u}] must hold integer item ids; got dtype {a.dtype}.")
        arrays.append(a.astype(np.int64, copy=False))
    lengths = np.fromiter((a.size for a in arrays), dtype=np.int64, count=n_users)
    items = np.concatenate(arrays) if arrays else np.empty(0, dtype=np.int64)
    _check_ids(fn, "relevant", items)
    return np.repeat(np.arange(n_users), lengths), items


def _hits(fn: str, recommended, relevant, k=None) -> tuple[np.ndarray, np.ndarray]:
    """The shared core of every top-k metric: which recommended items are relevant.

    Returns ``hits`` bool ``(n_eval, k)`` with ``hits[u, i] = [recommended[u, i] ∈ relevant_u]``, and
    ``n_rel`` int ``(n_eval,)`` = ``|relevant_u|`` (duplicates counted once), for the ``n_eval`` users
    whose relevant set is non-empty.

    Vectorised by **key encoding**: a (user, item) pair becomes the single integer ``u · B + item``
    with ``B`` larger than every item id, so "is this pair relevant?" for all pairs at once is one
    membership test between two flat integer arrays (a sort plus a binary search) instead of a
    Python loop over users and items.
    """
    rec, k = _recommended(fn, recommended, k)
    n_users = rec.shape[0]
    rel = _relevant_flat(fn, relevant, n_users)

    if not isinstance(rel, tuple):  # leave-one-out: one relevant item per user, a direct comparison
        return rec == rel[:, None], np.ones(n_users, dtype=np.int64)

    users, items = rel
    if items.size == 0:
        raise ValueError(f"{fn}: every user's relevant set is empty, so there is nothing to evaluate.")
    big = int(max(rec.max(), items.max())) + 1
    if n_users * big >= 2**62:
        raise ValueError(f"{fn}: n_users * (max item id + 1) = {n_users * big} overflows the int64 key.")
    rel_keys = np.sort(users * big + items)
    rel_keys = rel_keys[np.r_[True, rel_keys[1:] != rel_keys[:-1]]]  # a repeated relevant item counts once
    n_rel = np.bincount(rel_keys // big, minlength=n_users)  # key // B gives back the user
    rec_keys = np.arange(n_users)[:, None] * big + rec  # (n_users, k)
    # Membership test = np.isin(rec_keys, rel_keys), written as a binary search in the sorted keys:
    # find where each key would be inserted and check whether the key already sits there.
    pos = np.minimum(np.searchsorted(rel_keys, rec_keys), rel_keys.size - 1)  # clip: keys past the end
    hits = rel_keys[pos] == rec_keys

    keep = n_rel > 0  # users with nothing relevant are left out (see the module docstring)
    return hits[keep], n_rel[keep]


def _discounts(k: int) -> np.ndarray:
    """Position discounts ``1 / log2(i + 1)`` for ranks ``i = 1..k``: ``[1, 0.631, 0.5, 0.431, ...]``."""
    return 1.0 / np.log2(np.arange(2, k + 2))


# ================================================================================================
# 1. Training metrics: (y_true, y_pred) -> float, the mean over the batch
# ================================================================================================
def binary_accuracy(y_true, y_pred, threshold=0.5) -> float:
    """Fraction of outputs on the right side of ``threshold`` (二分类准确率).

    ``acc = mean( [y_true > 0.5] == [y_pred > threshold] )`` over every element.
    Shapes: ``y_true, y_pred`` ``(batch, units)``; ``y_pred`` holds probabilities (sigmoid outputs).
    A prediction exactly equal to the threshold counts as class 0, as in Keras. Labels are read as 1
    when above 0.5, so smoothed labels such as 0.9/0.1 behave like 1/0.
    """
    y_true, y_pred = _paired("binary_accuracy", y_true, y_pred, allow_nan_pred=True)
    threshold = real("binary_accuracy", "threshold", threshold)
    return float(np.mean((y_true > 0.5) == (y_pred > threshold)))


def categorical_accuracy(y_true, y_pred) -> float:
    """Fraction of rows whose highest-scoring class is the true class (多分类准确率).

    ``acc = mean_b [ argmax_j y_true[b, j] == argmax_j y_pred[b, j] ]``.
    Shapes: ``y_true`` one-hot ``(batch, classes)``, ``y_pred`` scores or probabilities ``(batch, classes)``.
    """
    y_true = _numeric("categorical_accuracy", "y_true", y_true)
    y_pred = _numeric("categorical_accuracy", "y_pred", y_pred, allow="nan")
    if y_true.shape != y_pred.shape or y_pred.ndim < 2 or y_pred.size == 0:
        raise ValueError(
            "categorical_accuracy: y_true (one-hot) and y_pred must both be (batch, classes); "
            f"got {y_true.shape} and {y_pred.shape}."
        )
    return float(np.mean(np.argmax(y_true, axis=-1) == np.argmax(y_pred, axis=-1)))


def sparse_categorical_accuracy(y_true, y_pred) -> float:
    """Like ``categorical_accuracy`` but the labels are class indices, not one-hot rows.

    ``acc = mean_b [ y_true[b] == argmax_j y_pred[b, j] ]``.
    Shapes: ``y_true`` int ``(batch,)`` or ``(batch, 1)``; ``y_pred`` ``(batch, classes)``.
    """
    y_true = _numeric("sparse_categorical_accuracy", "y_true", y_true)
    y_pred = _numeric("sparse_categorical_accuracy", "y_pred", y_pred, allow="nan")
    if y_pred.ndim != 2 or y_true.size != y_pred.shape[0] or y_true.ndim > 2 or y_pred.size == 0:
        raise ValueError(
            "sparse_categorical_accuracy: expected y_true (batch,) or (batch, 1) of class indices and "
            f"y_pred (batch, classes); got {y_true.shape} and {y_pred.shape}."
        )
    return float(np.mean(y_true.reshape(-1) == np.argmax(y_pred, axis=-1)))


def accuracy(y_true, y_pred) -> float:
    """Accuracy (准确率) that picks its rule from the shapes, as Keras' ``"accuracy"`` does.

    * one output column (``y_pred`` ``(batch,)`` or ``(batch, 1)``): probabilities, so
      ``binary_accuracy`` with threshold 0.5;
    * several columns and ``y_true`` of the same shape (one-hot rows): ``categorical_accuracy``;
    * several columns and ``y_true`` ``(batch,)`` or ``(batch, 1)`` of class ids:
      ``sparse_categorical_accuracy``.

    ``compile(metrics=["accuracy"])`` with a cross-entropy loss uses the accuracy that loss implies
    (see :func:`get`); with any other loss it uses this function.
    """
    y_pred = _numeric("accuracy", "y_pred", y_pred, allow="nan")
    if y_pred.ndim <= 1 or (y_pred.ndim == 2 and y_pred.shape[1] == 1):
        return binary_accuracy(y_true, y_pred)
    y_true = _numeric("accuracy", "y_true", y_true)
    if y_true.shape == y_pred.shape:
        return categorical_accuracy(y_true, y_pred)
    if y_pred.ndim == 2 and y_true.size == y_pred.shape[0] and y_true.ndim <= 2:
        return sparse_categorical_accuracy(y_true, y_pred)
    raise ValueError(
        f"accuracy: y_true {y_true.shape} fits y_pred {y_pred.shape} neither as one-hot rows (same shape) "
        "nor as class ids (batch,)."
    )


def mean_squared_error(y_true, y_pred) -> float:
    """Mean squared error (均方误差): ``MSE = (1/N) Σ (y_true − y_pred)²`` over all ``N`` elements.

    Shapes: ``y_true, y_pred`` ``(batch, units)`` (or both ``(n,)``).
    """
    y_true, y_pred = _paired("mean_squared_error", y_true, y_pred, allow_nan_pred=True)
    return float(np.mean((y_true - y_pred) ** 2))


def mean_absolute_error(y_true, y_pred) -> float:
    """Mean absolute error (平均绝对误差): ``MAE = (1/N) Σ |y_true − y_pred|``; less swayed by outliers.

    Shapes: ``y_true, y_pred`` ``(batch, units)`` (or both ``(n,)``).
    """
    y_true, y_pred = _paired("mean_absolute_error", y_true, y_pred, allow_nan_pred=True)
    return float(np.mean(np.abs(y_true - y_pred)))


mse = mean_squared_error
mae = mean_absolute_error


# ================================================================================================
# 2. Rating and click metrics on a whole test set
# ================================================================================================
def rmse(y_true, y_pred) -> float:
    """Root mean squared error (均方根误差): ``RMSE = sqrt( (1/N) Σ (y_true − y_pred)² )``.

    In the same unit as the ratings (an RMSE of 0.9 means "about 0.9 stars off").
    Shapes: ``y_true, y_pred`` ``(n,)`` or ``(n, 1)``.
    In ``fit``/``evaluate`` the epoch value is exact: the models average the batch MSEs (weighted by
    batch size) and take the square root once (see ``batch_statistic``/``finalize`` below).
    """
    y_true, y_pred = _paired("rmse", y_true, y_pred)
    return float(np.sqrt(np.mean((y_true - y_pred) ** 2)))


# How ``fit``/``evaluate`` accumulate this metric over batches: mean of batch MSEs, then one square root.
rmse.batch_statistic = lambda y_true, y_pred: mean_squared_error(y_true, y_pred)
rmse.finalize = math.sqrt


def _average_ranks(x: np.ndarray) -> np.ndarray:
    """1-based ranks of ``x`` (n,), ties sharing the average of the ranks they span.

    Example: ``x = [0.2, 0.5, 0.5, 0.9]`` → ranks ``[1, 2.5, 2.5, 4]``.
    ``np.unique`` sorts the distinct values and counts them; a group of ``c`` equal values that ends
    at sorted position ``e`` (1-based) covers ranks ``e−c+1 .. e``, whose mean is ``e − (c − 1)/2``.
    """
    _, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    return (ends - (counts - 1) / 2.0)[inverse.reshape(-1)]


def auc(y_true, y_score) -> float:
    """Area under the ROC curve (ROC 曲线下面积), via ranks (the Mann–Whitney U statistic).

    AUC is the probability that a random positive scores above a random negative, ties counting ½:
    ``AUC = (1 / (n₊ n₋)) Σ_{i∈pos} Σ_{j∈neg} ( [s_i > s_j] + ½ [s_i = s_j] )``.
    Counting all ``n₊ n₋`` pairs costs O(n²); ranking instead costs O(n log n). With ``R_i`` the rank of
    each score among all ``n`` (1 = lowest, ties get the average rank),
    ``AUC = ( Σ_{i∈pos} R_i − n₊(n₊ + 1)/2 ) / (n₊ n₋)``:
    a positive's rank counts everything at or below it; subtracting ``n₊(n₊+1)/2`` removes the
    positive-vs-positive part and leaves the number of negatives beaten.

    Shapes: ``y_true`` ``(n,)`` or ``(n, 1)`` of 0/1 labels; ``y_score`` the same size, any real scores
    (probabilities or logits: only their order matters). Raises ValueError if only one class is present.
    """
    y_true, y_score = _paired("auc", y_true, y_score, names=("y_true", "y_score"))
    y_true, y_score = y_true.reshape(-1), y_score.reshape(-1).astype(np.float64)
    pos = y_true == 1
    if not np.all(pos | (y_true == 0)):
        raise ValueError("auc: y_true must hold only 0 and 1 labels.")
    if not np.all(np.isfinite(y_score)):
        raise ValueError("auc: y_score contains NaN or infinity.")
    n_pos = int(pos.sum())
    n_neg = y_true.size - n_pos
    if n_pos == 0 or n_neg == 0:
        raise ValueError(
            f"auc: needs both classes in y_true; got {n_pos} positives and {n_neg} negatives (AUC undefined)."
        )
    ranks = _average_ranks(y_score)
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


# AUC ranks all rows together, so ``fit``/``evaluate`` keep every prediction of the epoch and score once.
auc.needs_all_rows = True


def log_loss(y_true, p, eps=1e-7) -> float:
    """Binary cross-entropy on a test set (对数损失): ``−(1/N) Σ [ y log p + (1 − y) log(1 − p) ]``.

    ``p`` is clipped to ``[eps, 1 − eps]`` first, so a confident wrong prediction (``p = 0`` for a
    positive) costs ``−log(eps) ≈ 16.1`` instead of infinity. Natural log, as in Keras and scikit-learn.
    Shapes: ``y_true`` (labels in [0, 1]) and ``p`` (probabilities in [0, 1]) of the same size.
    """
    y_true, p = _paired("log_loss", y_true, p, names=("y_true", "p"))
    eps = real("log_loss", "eps", eps)
    if np.any((p < 0) | (p > 1)):
        raise ValueError("log_loss: p must be probabilities in [0, 1] (apply a sigmoid to logits first).")
    if np.any((y_true < 0) | (y_true > 1)):
        raise ValueError("log_loss: y_true must be labels in [0, 1].")
    if not 0 < eps < 0.5:
        raise ValueError(f"log_loss: eps must be in (0, 0.5); got {eps}.")
    p = np.clip(p.astype(np.float64), eps, 1.0 - eps)
    return float(-np.mean(y_true * np.log(p) + (1.0 - y_true) * np.log(1.0 - p)))


# ================================================================================================
# 3a. Top-k ranking metrics on full recommendation lists
# ================================================================================================
def precision_at_k(recommended, relevant, k=None) -> float:
    """Precision@k (精确率): the share of the top-k list that is relevant.

    ``P@k(u) = |top_k(u) ∩ R_u| / k``; the result is the mean over users with ``R_u ≠ ∅``.
    The denominator is always ``k``, so a user with fewer than ``k`` relevant items cannot reach 1.
    Shapes: ``recommended`` ``(n_users, ≥k)``; ``relevant`` see the module docstring; ``k`` defaults to
    the number of columns.
    """
    hits, _ = _hits("precision_at_k", recommended, relevant, k)
    return float(np.mean(hits.sum(axis=1) / hits.shape[1]))


def recall_at_k(recommended, relevant, k=None) -> float:
    """Recall@k (召回率): the share of the user's relevant items that the top-k list found.

    ``R@k(u) = |top_k(u) ∩ R_u| / |R_u|``; mean over users with ``R_u ≠ ∅``.
    Shapes as in ``precision_at_k``.
    """
    hits, n_rel = _hits("recall_at_k", recommended, relevant, k)
    return float(np.mean(hits.sum(axis=1) / n_rel))


def hit_rate_at_k(recommended, relevant, k=None) -> float:
    """Hit rate@k, HR@k (命中率): the share of users with at least one relevant item in the top k.

    ``HR@k = mean_u [ |top_k(u) ∩ R_u| ≥ 1 ]``. With one held-out item per user it equals recall@k.
    Shapes as in ``precision_at_k``.
    """
    hits, _ = _hits("hit_rate_at_k", recommended, relevant, k)
    return float(np.mean(hits.any(axis=1)))


def ndcg_at_k(recommended, relevant, k=None) -> float:
    """Normalised discounted cumulative gain, NDCG@k (归一化折损累计增益), binary relevance.

    A hit at rank ``i`` (1-based) is worth ``1 / log2(i + 1)``: 1 at the top, 0.63 second, 0.5 third…
    ``DCG@k(u) = Σ_{i=1}^{k} rel_i / log2(i + 1)`` with ``rel_i = [item at rank i ∈ R_u]``;
    ``IDCG@k(u) = Σ_{i=1}^{min(k, |R_u|)} 1 / log2(i + 1)`` (all relevant items packed at the top);
    ``NDCG@k(u) = DCG / IDCG`` ∈ [0, 1]; mean over users with ``R_u ≠ ∅``.
    Example: hits at ranks 1 and 3, ``|R_u| = 2`` → ``(1 + 1/log2 4) / (1 + 1/log2 3) ≈ 0.920``.
    Shapes as in ``precision_at_k``.
    """
    hits, n_rel = _hits("ndcg_at_k", recommended, relevant, k)
    k = hits.shape[1]
    disc = _discounts(k)
    dcg = hits @ disc
    idcg = np.cumsum(disc)[np.minimum(n_rel, k) - 1]  # cumsum[j-1] = sum of the first j discounts
    return float(np.mean(dcg / idcg))


def map_at_k(recommended, relevant, k=None) -> float:
    """Mean average precision, MAP@k (平均精度均值).

    ``AP@k(u) = (1 / min(k, |R_u|)) Σ_{i=1}^{k} P@i(u) · rel_i``: the precision measured at each hit,
    summed, normalised by the most hits the list could hold. ``MAP@k`` is the mean over users with
    ``R_u ≠ ∅``. Example: hits at ranks 1 and 3, ``|R_u| = 2`` → ``(1/1 + 2/3) / 2 = 5/6``.
    Shapes as in ``precision_at_k``.
    """
    hits, n_rel = _hits("map_at_k", recommended, relevant, k)
    k = hits.shape[1]
    precision_at_i = np.cumsum(hits, axis=1) / np.arange(1, k + 1)  # (n_eval, k): P@1 .. P@k
    ap = (precision_at_i * hits).sum(axis=1) / np.minimum(n_rel, k)
    return float(np.mean(ap))


def mrr(recommended, relevant, k=None) -> float:
    """Mean reciprocal rank, MRR (平均倒数排名).

    ``RR(u) = 1 / rank of the first relevant item in the list`` (1-based), or 0 if the top k holds none;
    ``MRR = mean_u RR(u)`` over users with ``R_u ≠ ∅``. Example: first hit at rank 3 → 1/3.
    Shapes as in ``precision_at_k``.
    """
    hits, _ = _hits("mrr", recommended, relevant, k)
    first = np.argmax(hits, axis=1)  # index of the first True (0 if there is none: masked below)
    return float(np.mean(np.where(hits.any(axis=1), 1.0 / (first + 1), 0.0)))


# ================================================================================================
# 3b. The sampled protocol: one held-out positive ranked among m sampled negatives (He et al. 2017)
# ================================================================================================
def rank_among(pos_scores, neg_scores) -> np.ndarray:
    """0-based rank of each user's positive item among that user's sampled negatives (负采样评估).

    ``rank[u] = |{ j : neg_scores[u, j] ≥ pos_scores[u] }|``, so 0 means the positive beat every
    negative. **Ties count against the model** (pessimistic): a negative with an equal score is placed
    above the positive. Otherwise a model that outputs the same score for everything would rank every
    positive first and get a perfect hit rate.

    Shapes: ``pos_scores`` ``(n,)`` (or ``(n, 1)``); ``neg_scores`` ``(n, m)``, e.g. ``m = 99``.
    Returns int ``(n,)`` with values in ``0..m``.
    """
    pos = _numeric("rank_among", "pos_scores", pos_scores, allow="inf")
    neg = _numeric("rank_among", "neg_scores", neg_scores, allow="inf")
    if neg.ndim != 2:
        raise ValueError(f"rank_among: neg_scores must be 2-D (n, m); got shape {neg.shape}.")
    if pos.size != neg.shape[0] or pos.ndim > 2 or (pos.ndim == 2 and pos.shape[1] != 1):
        raise ValueError(
            f"rank_among: pos_scores must be (n,) with n = neg_scores.shape[0] = {neg.shape[0]}; "
            f"got shape {pos.shape}."
        )
    return np.sum(neg >= pos.reshape(-1, 1), axis=1).astype(np.int64)


def _check_ranks(fn: str, ranks) -> np.ndarray:
    ranks = _numeric(fn, "ranks", ranks)
    if ranks.ndim != 1 or ranks.size == 0:
        raise ValueError(f"{fn}: ranks must be a non-empty 1-D array (n,); got shape {ranks.shape}.")
    if ranks.dtype.kind not in "iu":
        raise TypeError(f"{fn}: ranks must be integers (0-based ranks from rank_among); got {ranks.dtype}.")
    if ranks.min() < 0:
        raise ValueError(f"{fn}: ranks must be >= 0 (0-based); got {ranks.min()}.")
    return ranks


def hit_rate_from_ranks(ranks, k=10) -> float:
    """HR@k from 0-based ranks: ``HR@k = mean_u [ rank_u < k ]`` (the positive made the top k).

    Shapes: ``ranks`` int ``(n,)``, as returned by ``rank_among``.
    """
    ranks = _check_ranks("hit_rate_from_ranks", ranks)
    k = _check_k("hit_rate_from_ranks", k)
    return float(np.mean(ranks < k))


def ndcg_from_ranks(ranks, k=10) -> float:
    """NDCG@k with a single relevant item, from 0-based ranks.

    With one relevant item IDCG = 1, so ``NDCG@k(u) = 1 / log2(rank_u + 2)`` if ``rank_u < k`` else 0
    (rank 0 → 1, rank 1 → 0.631, rank 2 → 0.5). Mean over users.
    Shapes: ``ranks`` int ``(n,)``, as returned by ``rank_among``.
    """
    ranks = _check_ranks("ndcg_from_ranks", ranks)
    k = _check_k("ndcg_from_ranks", k)
    gain = np.where(ranks < k, 1.0 / np.log2(ranks + 2.0), 0.0)
    return float(np.mean(gain))


# ================================================================================================
# 3c. Beyond accuracy: coverage, novelty, diversity
# ================================================================================================
def _check_n(fn: str, arg: str, n) -> int:
    return positive_int(fn, arg, n)


def catalog_coverage(recommended, n_items) -> float:
    """Catalogue coverage (物品覆盖率): the share of all items recommended to at least one user.

    ``coverage = |∪_u top_k(u)| / n_items``. A model that shows everyone the same bestsellers scores
    about ``k / n_items``; one that uses the whole catalogue scores 1.
    Shapes: ``recommended`` int ``(n_users, k)`` with ids in ``0..n_items−1``.
    """
    n_items = _check_n("catalog_coverage", "n_items", n_items)
    rec, _ = _recommended("catalog_coverage", recommended, n_items=n_items)
    return float(np.unique(rec).size / n_items)


def novelty(recommended, item_popularity, n_users) -> float:
    """Novelty (新颖性): how unexpected the recommended items are, in bits of self-information.

    ``p(i) = item_popularity[i] / n_users`` is the fraction of users who interacted with item ``i``;
    ``novelty = mean over all recommended (u, i) of −log2 p(i)``. An item everyone knows (p = 1) adds 0
    bits; one known to 1 user in 1024 adds 10.
    Items with a count of 0 (never seen in training) are treated as seen once, ``p = 1 / n_users``,
    which keeps the value finite (it caps at ``log2(n_users)``).

    Shapes: ``recommended`` int ``(n_users_eval, k)``; ``item_popularity`` counts ``(n_items,)``, each in
    ``0..n_users``; ``n_users`` the number of users those counts come from (e.g. the training users).
    """
    fn = "novelty"
    n_users = _check_n(fn, "n_users", n_users)
    counts = _numeric(fn, "item_popularity", item_popularity)
    if counts.ndim != 1 or counts.size == 0:
        raise ValueError(f"{fn}: item_popularity must be 1-D counts (n_items,); got shape {counts.shape}.")
    if np.any(counts < 0) or np.any(counts > n_users):
        raise ValueError(
            f"{fn}: item_popularity must be user counts in [0, n_users={n_users}]; got values in "
            f"[{counts.min()}, {counts.max()}]."
        )
    rec, _ = _recommended(fn, recommended, n_items=counts.size)
    p = np.maximum(counts, 1) / n_users  # count 0 → as if seen once (see the docstring)
    return float(np.mean(-np.log2(p[rec])))


def intra_list_diversity(recommended, item_features, batch_size=1024) -> float:
    """Intra-list diversity, ILD (列表内多样性): how different the items inside each list are.

    ``ILD(u) = (2 / (k(k − 1))) Σ_{i<j} (1 − cos(f_i, f_j))`` over the pairs of items in user ``u``'s
    list, with ``cos(a, b) = a·b / (‖a‖ ‖b‖)``; the result is the mean over users. With non-negative
    features (genres) it lies in [0, 1]; 0 means all items in a list point the same way.
    A zero feature vector has no direction: its cosine with anything is taken as 0 (distance 1).

    Vectorised: features are normalised once; for a batch of users ``V = F̂[recommended]`` is
    ``(b, k, d)`` and ``np.einsum("bkd,bld->bkl", V, V)`` gives every list's ``k × k`` cosine matrix.
    Users are processed ``batch_size`` at a time so memory stays ``O(batch_size · k · max(k, d))``.
    Shapes: ``recommended`` int ``(n_users, k)`` with ``k ≥ 2``; ``item_features`` ``(n_items, d)``.
    """
    fn = "intra_list_diversity"
    feats = _numeric(fn, "item_features", item_features).astype(np.float64)
    if feats.ndim != 2 or feats.shape[0] == 0:
        raise ValueError(f"{fn}: item_features must be 2-D (n_items, d); got shape {feats.shape}.")
    batch_size = _check_n(fn, "batch_size", batch_size)
    rec, k = _recommended(fn, recommended, n_items=feats.shape[0])
    if k < 2:
        raise ValueError(f"{fn}: needs lists of at least 2 items to form pairs; got k={k}.")
    # Dividing each row by its largest |entry| first changes no cosine but keeps the norm from
    # overflowing to inf for huge features (1e200² is not a float64).
    biggest = np.abs(feats).max(axis=1, keepdims=True)
    feats = np.divide(feats, biggest, out=np.zeros_like(feats), where=biggest > 0)
    norms = np.linalg.norm(feats, axis=1, keepdims=True)
    unit = np.divide(feats, norms, out=np.zeros_like(feats), where=norms > 0)  # zero rows stay zero
    off_diagonal = ~np.eye(k, dtype=bool)  # each unordered pair appears twice: (i, j) and (j, i)
    per_user = []
    for start in range(0, rec.shape[0], batch_size):
        v = unit[rec[start:start + batch_size]]  # (b, k, d)
        cos = np.einsum("bkd,bld->bkl", v, v)  # (b, k, k)
        per_user.append((1.0 - cos)[:, off_diagonal].mean(axis=1))
    return float(np.mean(np.concatenate(per_user)))


# ================================================================================================
# Lookup by name, for compile(metrics=[...])
# ================================================================================================
_REGISTRY: dict[str, Callable] = {
    "binary_accuracy": binary_accuracy,
    "categorical_accuracy": categorical_accuracy,
    "sparse_categorical_accuracy": sparse_categorical_accuracy,
    "mse": mean_squared_error,
    "mean_squared_error": mean_squared_error,
    "mae": mean_absolute_error,
    "mean_absolute_error": mean_absolute_error,
    "rmse": rmse,
    "auc": auc,
    "log_loss": log_loss,
}

#: Which accuracy ``"accuracy"`` means, chosen by the loss (Keras' convention).
_ACCURACY_FOR_LOSS = {
    "binary_crossentropy": binary_accuracy,
    "categorical_crossentropy": categorical_accuracy,
    "sparse_categorical_crossentropy": sparse_categorical_accuracy,
}

#: Names accepted by ``get`` (and by ``metrics=[...]`` in ``compile``).
NAMES = ("accuracy", "acc", *_REGISTRY)


# ================================================================================================
# Which way is better
# ================================================================================================
for _fn in (accuracy, binary_accuracy, categorical_accuracy, sparse_categorical_accuracy, auc,
            precision_at_k, recall_at_k, hit_rate_at_k, ndcg_at_k, map_at_k, mrr,
            hit_rate_from_ranks, ndcg_from_ranks, catalog_coverage, novelty, intra_list_diversity):
    _fn.higher_is_better = True
for _fn in (mean_squared_error, mean_absolute_error, rmse, log_loss):
    _fn.higher_is_better = False
# rank_among returns ranks, not a score; a lower rank is better.
rank_among.higher_is_better = False
del _fn

#: Logged names (after "val_" and any "@k"/"_at_k" are removed) and their direction. Besides the
#: registry names: the loss ("loss" and anything ending in "loss"/"crossentropy"), and the ranking
#: metrics under the names the recommenders log them ("hit_rate", "ndcg", ...).
_HIGHER_IS_BETTER_BY_NAME = {
    **{name: fn.higher_is_better for name, fn in _REGISTRY.items()},
    "accuracy": True, "acc": True,
    "precision": True, "recall": True, "hit_rate": True, "hr": True, "hit": True, "ndcg": True, "map": True,
    "mrr": True, "coverage": True, "catalog_coverage": True, "novelty": True, "diversity": True,
    "intra_list_diversity": True, "ild": True,
    "loss": False, "rank": False,
}
_SUFFIX = re.compile(r"(@\d+|@k|_at_\d+|_at_k|_\d+)$")


def direction(metric) -> str:
    """``"max"`` if larger values of ``metric`` are better, ``"min"`` if smaller ones are.

    ``metric`` is a metric function (its ``higher_is_better`` attribute is read) or a name as ``fit``
    logs it: an optional ``"val_"`` prefix and ``"@10"``/``"_at_10"`` suffix are ignored, so
    ``"val_auc"`` → ``"max"``, ``"loss"``/``"val_loss"``/``"val_rmse"`` → ``"min"``,
    ``"val_hit_rate"``/``"ndcg@10"``/``"val_precision_at_k"`` → ``"max"``. Any name ending in ``loss``
    or ``crossentropy`` is a loss (``"min"``).

    Raises ``ValueError`` for a name it does not know (with the closest known one), and ``TypeError`` for
    a callable without ``higher_is_better``: set that attribute on your own metric function, or tell
    early stopping ``mode="min"``/``"max"``.
    """
    if callable(metric) and not isinstance(metric, str):
        flag = getattr(metric, "higher_is_better", None)
        if not isinstance(flag, bool):
            name = getattr(metric, "__name__", type(metric).__name__)
            raise TypeError(f"metrics.direction: the metric {name!r} has no higher_is_better attribute "
                            "(True or False); set it on the function, e.g. my_metric.higher_is_better = True.")
        return "max" if flag else "min"
    if not isinstance(metric, str):
        raise TypeError(f"metrics.direction: metric must be a name or a metric function; got {metric!r}.")
    key = metric.lower()
    if key.startswith("val_"):
        key = key[4:]
    if key.endswith(("loss", "crossentropy")):
        return "min"
    for candidate in (key, _SUFFIX.sub("", key)):
        if candidate in _HIGHER_IS_BETTER_BY_NAME:
            return "max" if _HIGHER_IS_BETTER_BY_NAME[candidate] else "min"
    raise unknown_name("metric (for metrics.direction)", key, _HIGHER_IS_BETTER_BY_NAME)


def get(identifier, loss=None) -> Callable:
    """Turn a metric name into its function, or pass a callable through unchanged.

    ``"accuracy"``/``"acc"`` depends on the loss, as in Keras: ``binary_crossentropy`` →
    ``binary_accuracy``, ``categorical_crossentropy`` → ``categorical_accuracy``,
    ``sparse_categorical_crossentropy`` → ``sparse_categorical_accuracy``, anything else or ``None`` →
    :func:`accuracy`, which picks by the shapes (binary for one output column).
    ``loss`` is the loss's name (an object's ``name``/``__name__`` is also read).
    ``"rmse"`` and ``"auc"`` are computed exactly over the whole epoch by the models (not averaged
    over batches): see the attributes set on ``rmse`` and ``auc``.
    """
    if callable(identifier):
        return identifier
    if not isinstance(identifier, str):
        raise TypeError(f"metrics.get: a metric must be a name or a callable; got {identifier!r}.")
    key = identifier.lower()
    if key in ("accuracy", "acc"):
        loss_name = loss if isinstance(loss, str) else getattr(loss, "name", getattr(loss, "__name__", None))
        loss_name = loss_name.lower() if isinstance(loss_name, str) else None
        return _ACCURACY_FOR_LOSS.get(loss_name, accuracy)
    if key in _REGISTRY:
        return _REGISTRY[key]
    raise unknown_name("metric", identifier, NAMES)
