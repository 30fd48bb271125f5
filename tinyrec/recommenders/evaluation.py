"""Offline evaluation (离线评估) of recommenders: ranking with sampled negatives, and rating error.

``evaluate_ranking`` follows He et al. (2017, "Neural Collaborative Filtering", §4.1): hold out each
user's latest interaction (``tinyrec.datasets.splits.leave_last_out``), then for every test user score
the held-out item together with ``n_negatives = 99`` items drawn at random from those the user never
interacted with (in train *or* test), all distinct. The rank of the held-out item among those 100 gives

    HR@k   = mean_u [rank_u < k]                          hit rate (命中率)
    NDCG@k = mean_u [rank_u < k] / log2(rank_u + 2)         one relevant item, so IDCG = 1

with ``rank_u`` 0-based and ties counted against the model (``tinyrec.metrics.rank_among``). Sampling
makes the evaluation cheap (100 scores per user instead of all items); the sampled numbers are higher
than full-ranking ones and are only comparable between models evaluated with the same negatives — the
same ``seed`` gives the same negatives.

``evaluate_next_item`` is the next-item protocol (序列推荐) for sequence models: each user's last item is
the target, everything before it the history (``tinyrec.datasets.last_item_split``), and the target is
ranked against the **whole catalogue** — no sampled negatives, so the numbers are comparable across
papers' "full ranking" results and do not flatter the model (Krichene & Rendle 2020, "On Sampled Metrics
for Item Recommendation", show sampled metrics can even reorder models). Besides HR@k and NDCG@k it
reports MRR, the mean of ``1 / (rank + 1)`` over the full ranking (not cut at k).
"""

from __future__ import annotations

import numpy as np

from .. import _checks
from ..interactions import sample_negatives
from ..metrics import hit_rate_from_ranks, mean_absolute_error, ndcg_from_ranks, rank_among, rmse
from .base import check_ids


def evaluate_ranking(model, train_users, train_items, test_users, test_items, n_negatives=99, k=10, seed=0):
    """HR@k and NDCG@k of ``model`` under the sampled leave-one-out protocol (module docstring).

    Args:
        model: anything with ``n_items`` and ``predict(user_ids, item_ids) -> (n,)`` (higher = better).
        train_users, train_items: ``(N,)`` training interactions (never sampled as negatives).
        test_users, test_items: ``(T,)`` one held-out item per row (usually one row per user).
        n_negatives: sampled negatives per test row (99 in the paper). k: the cut-off.
        seed: int or Generator for the negatives; fix it to compare models on the same negatives.

    Returns:
        ``{"hit_rate": HR@k, "ndcg": NDCG@k}`` (floats in [0, 1]).

    How (vectorised): one ``(T, 1 + n_negatives)`` matrix of item ids, column 0 the held-out item; one
    ``predict`` call on all its pairs; ``rank_among(scores[:, 0], scores[:, 1:])``.
    """
    owner = "evaluate_ranking"
    n_items = getattr(model, "n_items", None)
    if not isinstance(n_items, (int, np.integer)) or not callable(getattr(model, "predict", None)):
        raise TypeError(f"{owner}: model must have n_items and predict(user_ids, item_ids); got {model!r}.")
    n_users = getattr(model, "n_users", None) or 1 + int(max(np.max(train_users, initial=0),
                                                             np.max(test_users, initial=0)))
    tr_u = check_ids(owner, "user ids (train_users)", train_users, n_users)
    tr_i = check_ids(owner, "item ids (train_items)", train_items, n_items)
    te_u = check_ids(owner, "user ids (test_users)", test_users, n_users)
    te_i = check_ids(owner, "item ids (test_items)", test_items, n_items)
    if len(tr_u) != len(tr_i) or len(te_u) != len(te_i):
        raise ValueError(f"{owner}: train_users/train_items ({len(tr_u)}/{len(tr_i)}) and "
                         f"test_users/test_items ({len(te_u)}/{len(te_i)}) must have equal lengths.")
    if len(te_u) == 0:
        raise ValueError(f"{owner}: no test interactions (0 rows).")
    try:
        negatives = sample_negatives(te_u, n_items, n_negatives, np.concatenate([tr_u, te_u]),
                                     np.concatenate([tr_i, te_i]), seed=seed, distinct=True)  # (T, m)
    except ValueError as err:  # e.g. a user who has seen all but a few items: say which protocol failed
        raise ValueError(f"{owner}: {err}. Lower n_negatives or leave such users out of the test "
                         "set.") from None
    candidates = np.concatenate([te_i[:, None], negatives], axis=1)  # (T, 1 + m): held-out item first
    scores = np.asarray(model.predict(np.repeat(te_u, candidates.shape[1]), candidates.reshape(-1)),
                        dtype=np.float64).reshape(candidates.shape)
    ranks = rank_among(scores[:, 0], scores[:, 1:])
    return {"hit_rate": hit_rate_from_ranks(ranks, k), "ndcg": ndcg_from_ranks(ranks, k)}


def full_ranking_metrics(scores, targets, k=10):
    """HR@k, NDCG@k and MRR of ``targets`` ranked among **all** items by ``scores``.

    Args:
        scores: ``(n, n_items)`` a score for every item per row (higher = better; −inf = never).
        targets: ``(n,)`` the one relevant item of each row.

    Returns ``{"hit_rate": ..., "ndcg": ..., "mrr": ...}``. The 0-based rank of the target counts every
    *other* item scoring at least as high (ties against the model, as ``tinyrec.metrics.rank_among``):
    ``rank = #{j ≠ t : s_j ≥ s_t}``; MRR = ``mean 1 / (rank + 1)``.
    """
    owner = "full_ranking_metrics"
    try:
        raw = np.asarray(scores)
    except ValueError as err:  # ragged rows
        raise ValueError(f"{owner}: scores must be a rectangular 2-D array (n, n_items); {err}") from None
    if raw.dtype.kind not in "biuf":  # strings, objects, complex: nothing NumPy should cast silently
        raise ValueError(f"{owner}: scores must be real numbers; got dtype {raw.dtype}.")
    scores = raw.astype(np.float64)  # −inf is allowed (an item that must never be recommended)
    if scores.ndim != 2 or scores.shape[0] == 0:
        raise ValueError(f"{owner}: scores must be a non-empty 2-D array (n, n_items); got shape {scores.shape}.")
    if np.isnan(scores).any():
        raise ValueError(f"{owner}: scores contain NaN, which cannot be ranked.")
    targets = check_ids(owner, "targets", targets, scores.shape[1])
    if len(targets) != scores.shape[0]:
        raise ValueError(f"{owner}: {scores.shape[0]} rows of scores but {len(targets)} targets.")
    rows = np.arange(len(targets))
    target_scores = scores[rows, targets]
    others = scores.copy()
    others[rows, targets] = -np.inf  # the target does not compete with itself
    ranks = rank_among(target_scores, others)
    if np.isneginf(target_scores).any():  # an excluded target ranks last, even against other −inf items
        ranks[np.isneginf(target_scores)] = scores.shape[1] - 1
    return {"hit_rate": hit_rate_from_ranks(ranks, k), "ndcg": ndcg_from_ranks(ranks, k),
            "mrr": float(np.mean(1.0 / (ranks + 1.0)))}


def evaluate_next_item(model, histories, targets, k=10, batch_size=1024):
    """Next-item HR@k, NDCG@k and MRR of a sequence model, ranking against the whole catalogue.

    Args:
        model: a fitted ``SequenceRecommender`` (anything with ``n_items`` and
            ``score_next(histories) -> (n, n_items)``).
        histories: list of ``n`` 1-D int arrays, each user's items before the target, in time order.
        targets: ``(n,)`` the item each user actually played next.
        k: the cut-off of HR and NDCG. batch_size: histories scored at a time (memory only).

    Returns ``{"hit_rate": HR@k, "ndcg": NDCG@k, "mrr": MRR}`` (see ``full_ranking_metrics``).

    Example::

        seqs = sequences_by_user(data.user_ids, data.item_ids, data.timestamps)
        histories, targets, users = last_item_split(seqs)
        model = MarkovChain(data.n_items).fit(histories)
        evaluate_next_item(model, histories, targets)
    """
    owner = "evaluate_next_item"
    n_items = getattr(model, "n_items", None)
    if not isinstance(n_items, (int, np.integer)) or not callable(getattr(model, "score_next", None)):
        raise TypeError(f"{owner}: model must have n_items and score_next(histories); got {model!r}.")
    if isinstance(histories, np.ndarray) and histories.ndim == 2:
        histories = list(histories)
    if not isinstance(histories, (list, tuple)):
        raise TypeError(f"{owner}: histories must be a list of 1-D integer arrays; got "
                        f"{type(histories).__name__}.")
    targets = check_ids(owner, "targets", targets, n_items)
    if len(targets) != len(histories):
        raise ValueError(f"{owner}: {len(histories)} histories but {len(targets)} targets.")
    if len(targets) == 0:
        raise ValueError(f"{owner}: no test sequences (0 targets).")
    k = _checks.positive_int(owner, "k", k)
    batch_size = _checks.positive_int(owner, "batch_size", batch_size)
    totals = {"hit_rate": 0.0, "ndcg": 0.0, "mrr": 0.0}
    for s in range(0, len(targets), batch_size):  # means of batch means, weighted by batch size
        part = full_ranking_metrics(model.score_next(list(histories[s:s + batch_size])), targets[s:s + batch_size], k)
        for key in totals:
            totals[key] += part[key] * len(targets[s:s + batch_size])
    return {key: value / len(targets) for key, value in totals.items()}


def evaluate_ratings(model, users, items, ratings):
    """Rating-prediction error on held-out ``(users, items, ratings)``, each ``(n,)``.

    ``RMSE = sqrt(mean (r̂ − r)²)`` (均方根误差) and ``MAE = mean |r̂ − r|`` (平均绝对误差), with
    ``r̂ = model.predict(users, items)``. Returns ``{"rmse": ..., "mae": ...}``.
    """
    ratings = np.asarray(ratings, dtype=np.float64).reshape(-1)
    if len(ratings) != len(np.asarray(users)) or len(ratings) != len(np.asarray(items)):
        raise ValueError(f"evaluate_ratings: users, items and ratings must have equal lengths; got "
                         f"{len(np.asarray(users))}, {len(np.asarray(items))}, {len(ratings)}.")
    if len(ratings) == 0:
        raise ValueError("evaluate_ratings: no ratings (0 rows).")
    pred = np.asarray(model.predict(users, items), dtype=np.float64).reshape(-1)
    return {"rmse": rmse(ratings, pred), "mae": mean_absolute_error(ratings, pred)}
