"""Tests for the full-catalogue next-item protocol in tinyrec.recommenders.evaluation."""

import numpy as np
import pytest

from tinyrec.recommenders import MarkovChain, evaluate_next_item, full_ranking_metrics


def test_full_ranking_by_hand():
    scores = np.array([[0.1, 0.9, 0.5, 0.3],    # target 2: one item above → rank 1
                       [0.4, 0.4, 0.4, 0.4],    # target 0: all tied → counted against: rank 3
                       [0.0, 0.0, 1.0, 0.0]])   # target 2: rank 0
    out = full_ranking_metrics(scores, [2, 0, 2], k=2)
    assert out["hit_rate"] == pytest.approx(2 / 3)
    assert out["ndcg"] == pytest.approx((1 / np.log2(3) + 1) / 3)
    assert out["mrr"] == pytest.approx((1 / 2 + 1 / 4 + 1) / 3)


def test_excluded_target_ranks_last():
    out = full_ranking_metrics(np.array([[-np.inf, 1.0, -np.inf]]), [0], k=2)
    assert out["hit_rate"] == 0.0 and out["mrr"] == pytest.approx(1 / 3)


class Fixed:
    """A sequence model that always scores item ``i`` as ``-|i - last item - 1|`` (predicts last + 1)."""

    n_items = 6

    def score_next(self, histories):
        last = np.array([h[-1] for h in histories])
        return -np.abs(np.arange(6)[None, :] - last[:, None] - 1).astype(float)


def test_evaluate_next_item_batches_agree():
    hist = [np.array([0, 1]), np.array([2]), np.array([4, 3])]
    targets = np.array([2, 3, 0])
    # ranks: user 0: target 2 = last + 1 → 0; user 1: target 3 = last + 1 → 0; user 2: last 3, so the
    # scores are −|i − 4| = (−4, −3, −2, −1, 0, −1) and target 0 (−4) is below all 5 others → rank 5
    a = evaluate_next_item(Fixed(), hist, targets, k=3)
    b = evaluate_next_item(Fixed(), hist, targets, k=3, batch_size=1)
    assert a == pytest.approx(b)
    assert a["hit_rate"] == pytest.approx(2 / 3)
    assert a["mrr"] == pytest.approx((1 + 1 + 1 / 6) / 3)


def test_evaluate_next_item_errors():
    with pytest.raises(TypeError, match="evaluate_next_item: model must have n_items and score_next"):
        evaluate_next_item(object(), [np.array([1])], [1])
    model = MarkovChain(3).fit([np.array([0, 1, 2])])
    with pytest.raises(ValueError, match="2 histories but 1 targets"):
        evaluate_next_item(model, [np.array([0]), np.array([1])], [1])
    with pytest.raises(ValueError, match="targets contains id 5"):
        evaluate_next_item(model, [np.array([0])], [5])
    with pytest.raises(TypeError, match="evaluate_next_item: k must be a positive integer"):
        evaluate_next_item(model, [np.array([0])], [1], k=2.5)
    with pytest.raises(ValueError, match="scores contain NaN"):
        full_ranking_metrics(np.array([[np.nan, 1.0]]), [1])
    with pytest.raises(ValueError, match="full_ranking_metrics: scores must be real numbers"):
        full_ranking_metrics(np.array([[1j, 1.0]]), [1])
    with pytest.raises(ValueError, match="full_ranking_metrics: scores must be a rectangular"):
        full_ranking_metrics([[0.5, 1.0], [1.0]], [1, 0])
    with pytest.raises(ValueError, match="full_ranking_metrics: scores must be a non-empty 2-D"):
        full_ranking_metrics(np.ones(3), [1])
