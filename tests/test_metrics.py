"""Tests for tinyrec.metrics: every expected value is worked out by hand in a comment, or by a
brute-force reference written here (never by calling the function under test)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tinyrec import metrics as M


# ------------------------------------------------------------------------------------------------
# Training metrics
# ------------------------------------------------------------------------------------------------
def test_binary_accuracy_hand_example():
    y_true = np.array([[1.0], [0.0], [1.0], [0.0]])
    y_pred = np.array([[0.9], [0.2], [0.4], [0.5]])
    # predicted classes (p > 0.5): 1, 0, 0, 0  (0.5 is not > 0.5) → correct: yes, yes, no, yes = 3/4
    assert M.binary_accuracy(y_true, y_pred) == pytest.approx(0.75)
    # threshold 0.45: classes 1, 0, 0, 1 → correct: yes, yes, no, no = 2/4
    assert M.binary_accuracy(y_true, y_pred, threshold=0.45) == pytest.approx(0.5)


def test_binary_accuracy_reshapes_instead_of_broadcasting():
    # (4,) against (4, 1): broadcasting would build a 4×4 comparison and give 0.5 here; reshaping gives 1.
    y_true = np.array([1, 0, 1, 0])
    y_pred = np.array([[0.9], [0.1], [0.8], [0.3]])
    assert M.binary_accuracy(y_true, y_pred) == 1.0
    with pytest.raises(ValueError, match="binary_accuracy"):
        M.binary_accuracy(np.zeros(3), np.zeros((4, 1)))


def test_categorical_and_sparse_accuracy():
    y_pred = np.array([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2], [0.2, 0.2, 0.6]])
    # argmax per row: 1, 0, 2; true classes 1, 2, 2 → 2 of 3 right
    labels = np.array([1, 2, 2])
    one_hot = np.eye(3)[labels]
    assert M.categorical_accuracy(one_hot, y_pred) == pytest.approx(2 / 3)
    assert M.sparse_categorical_accuracy(labels, y_pred) == pytest.approx(2 / 3)
    assert M.sparse_categorical_accuracy(labels[:, None], y_pred) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="sparse_categorical_accuracy"):
        M.sparse_categorical_accuracy(labels[:2], y_pred)
    with pytest.raises(ValueError, match="categorical_accuracy"):
        M.categorical_accuracy(labels, y_pred)


def test_mse_mae_rmse_hand_example():
    y_true = np.array([3.0, 5.0, 1.0, 4.0])
    y_pred = np.array([2.5, 5.0, 2.0, 2.0])
    # errors: 0.5, 0, -1, 2 → squares 0.25, 0, 1, 4 (sum 5.25); |errors| 0.5, 0, 1, 2 (sum 3.5)
    assert M.mse(y_true, y_pred) == pytest.approx(5.25 / 4)
    assert M.mean_squared_error is M.mse
    assert M.mae(y_true, y_pred) == pytest.approx(3.5 / 4)
    assert M.mean_absolute_error is M.mae
    assert M.rmse(y_true, y_pred) == pytest.approx(math.sqrt(5.25 / 4))
    assert M.rmse(y_true[:, None], y_pred) == pytest.approx(math.sqrt(5.25 / 4))  # (n,1) vs (n,)
    with pytest.raises(ValueError, match="mean_squared_error"):
        M.mse(np.zeros(0), np.zeros(0))


# ------------------------------------------------------------------------------------------------
# get
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name, loss, expected",
    [
        ("accuracy", "binary_crossentropy", "binary_accuracy"),
        ("acc", "categorical_crossentropy", "categorical_accuracy"),
        ("accuracy", "sparse_categorical_crossentropy", "sparse_categorical_accuracy"),
        ("accuracy", "mse", "accuracy"),  # picks by shape: binary for one column
        ("accuracy", None, "accuracy"),
        ("ACC", "Categorical_Crossentropy", "categorical_accuracy"),
        ("mse", None, "mean_squared_error"),
        ("mean_squared_error", None, "mean_squared_error"),
        ("mae", None, "mean_absolute_error"),
        ("mean_absolute_error", None, "mean_absolute_error"),
        ("binary_accuracy", "categorical_crossentropy", "binary_accuracy"),
        ("categorical_accuracy", None, "categorical_accuracy"),
        ("sparse_categorical_accuracy", None, "sparse_categorical_accuracy"),
        ("rmse", None, "rmse"),
        ("auc", None, "auc"),
    ],
)
def test_get_by_name(name, loss, expected):
    assert M.get(name, loss=loss).__name__ == expected


def test_get_callable_and_errors():
    def my_metric(y_true, y_pred):
        return 0.0

    assert M.get(my_metric) is my_metric
    with pytest.raises(ValueError, match="valid names are:.*accuracy.*rmse"):
        M.get("precision")
    with pytest.raises(TypeError, match="metrics.get"):
        M.get(3)


# ------------------------------------------------------------------------------------------------
# AUC and log loss
# ------------------------------------------------------------------------------------------------
def _auc_brute_force(y, s):
    """Count every (positive, negative) pair: 1 if the positive scores higher, ½ on a tie."""
    pos, neg = s[y == 1], s[y == 0]
    wins = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return wins / (pos.size * neg.size)


def test_auc_hand_example_with_tie():
    y = np.array([1, 0, 1, 0, 1])
    s = np.array([0.9, 0.8, 0.8, 0.1, 0.3])
    # pairs (pos, neg): (0.9,0.8)=1 (0.9,0.1)=1 (0.8,0.8)=½ (0.8,0.1)=1 (0.3,0.8)=0 (0.3,0.1)=1
    # → 4.5 / 6 = 0.75
    assert M.auc(y, s) == pytest.approx(0.75)
    # via ranks: sorted 0.1(1) 0.3(2) 0.8,0.8(3.5,3.5) 0.9(5); positives 5 + 3.5 + 2 = 10.5
    # (10.5 − 3·4/2) / (3·2) = 4.5 / 6 — the same number, as the docstring claims
    assert M.auc(y[:, None], s[:, None]) == pytest.approx(0.75)


def test_auc_extremes_and_all_tied():
    y = np.array([0, 0, 1, 1])
    assert M.auc(y, np.array([0.1, 0.2, 0.3, 0.4])) == 1.0  # every positive above every negative
    assert M.auc(y, np.array([0.4, 0.3, 0.2, 0.1])) == 0.0
    assert M.auc(y, np.full(4, 0.7)) == 0.5  # all ties: every pair counts ½


def test_auc_matches_brute_force_on_random_ties():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, size=300)
    s = np.round(rng.normal(size=300) + y, 1)  # rounding to 0.1 creates many ties
    assert M.auc(y, s) == pytest.approx(_auc_brute_force(y, s), abs=1e-12)


def test_auc_errors():
    with pytest.raises(ValueError, match="both classes"):
        M.auc(np.ones(4), np.arange(4.0))
    with pytest.raises(ValueError, match="0 and 1"):
        M.auc(np.array([0, 1, 2]), np.arange(3.0))
    with pytest.raises(ValueError, match="auc"):
        M.auc(np.array([0, 1]), np.arange(3.0))
    with pytest.raises(ValueError, match="NaN"):
        M.auc(np.array([0, 1]), np.array([0.1, np.nan]))


def test_log_loss_hand_example_and_clipping():
    y = np.array([1, 0, 1, 0])
    p = np.array([0.8, 0.4, 0.5, 0.1])
    # −(ln 0.8 + ln 0.6 + ln 0.5 + ln 0.9) / 4
    expected = -(math.log(0.8) + math.log(0.6) + math.log(0.5) + math.log(0.9)) / 4
    assert M.log_loss(y, p) == pytest.approx(expected)
    # a certain wrong answer costs −ln(eps) instead of infinity: mean of −ln(1e-7) and −ln(1 − 1e-7) ≈ 0
    val = M.log_loss(np.array([1, 0]), np.array([0.0, 0.0]))
    assert val == pytest.approx((-math.log(1e-7) - math.log(1 - 1e-7)) / 2)
    with pytest.raises(ValueError, match="log_loss: p must be probabilities"):
        M.log_loss(y, np.array([0.5, 1.5, 0.5, 0.5]))
    with pytest.raises(ValueError, match="log_loss"):
        M.log_loss(y, p[:3])


# ------------------------------------------------------------------------------------------------
# Top-k ranking metrics
# ------------------------------------------------------------------------------------------------
# Three users, lists of length 3 (best first), and what each really liked:
REC = np.array([[10, 11, 12],  # user 0: hits at ranks 1 and 3; relevant {10, 12}
                [20, 21, 22],  # user 1: hit at rank 2;         relevant {21, 5, 6, 7}
                [30, 31, 32]])  # user 2: no hit;                relevant {9}
REL = [np.array([10, 12]), [21, 5, 6, 7], {9}]


def test_precision_recall_hit_rate_hand():
    # precision@3: 2/3, 1/3, 0 → mean 1/3
    assert M.precision_at_k(REC, REL) == pytest.approx((2 / 3 + 1 / 3 + 0) / 3)
    # recall@3: 2/2, 1/4, 0/1 → (1 + 0.25 + 0) / 3
    assert M.recall_at_k(REC, REL) == pytest.approx(1.25 / 3)
    # hit rate@3: yes, yes, no → 2/3
    assert M.hit_rate_at_k(REC, REL) == pytest.approx(2 / 3)
    # k=1: user 0 hits at rank 1 only → precision 1/3, recall (1/2)/3, HR 1/3
    assert M.precision_at_k(REC, REL, k=1) == pytest.approx(1 / 3)
    assert M.recall_at_k(REC, REL, k=1) == pytest.approx(0.5 / 3)
    assert M.hit_rate_at_k(REC, REL, k=1) == pytest.approx(1 / 3)


def test_ndcg_hand():
    # user 0: DCG = 1/log2(2) + 1/log2(4) = 1.5; IDCG (2 relevant) = 1 + 1/log2(3)
    u0 = (1 + 1 / math.log2(4)) / (1 + 1 / math.log2(3))
    # user 1: DCG = 1/log2(3); IDCG = min(3, 4) = 3 slots: 1 + 1/log2(3) + 1/log2(4)
    u1 = (1 / math.log2(3)) / (1 + 1 / math.log2(3) + 0.5)
    assert M.ndcg_at_k(REC, REL) == pytest.approx((u0 + u1 + 0.0) / 3)
    # a perfect list scores 1
    assert M.ndcg_at_k(np.array([[4, 3, 9]]), [[3, 4]]) == pytest.approx(1.0)


def test_map_hand():
    # user 0: P@1 = 1 at the hit at rank 1, P@3 = 2/3 at the hit at rank 3 → (1 + 2/3) / min(3, 2)
    # user 1: P@2 = 1/2 at its hit → (1/2) / min(3, 4) = 1/6;  user 2: 0
    assert M.map_at_k(REC, REL) == pytest.approx(((1 + 2 / 3) / 2 + 1 / 6 + 0) / 3)
    # k = 2: user 0 only sees its first hit → 1 / min(2, 2) = 1/2; user 1: (1/2) / 2 = 1/4
    assert M.map_at_k(REC, REL, k=2) == pytest.approx((0.5 + 0.25 + 0) / 3)


def test_mrr_hand():
    # first hit at rank 1, rank 2, none → (1 + 1/2 + 0) / 3
    assert M.mrr(REC, REL) == pytest.approx(0.5)
    # first hit at rank 3 only
    assert M.mrr(np.array([[1, 2, 3]]), np.array([3])) == pytest.approx(1 / 3)


def test_leave_one_out_form_equals_list_form():
    rec = np.array([[5, 1, 2], [7, 8, 9], [3, 4, 6]])
    held_out = np.array([2, 0, 3])  # ranks: 3, none, 1
    # HR = 2/3; NDCG = (1/log2(4) + 0 + 1) / 3; MRR = (1/3 + 0 + 1) / 3; precision = (1/3 + 0 + 1/3)/3
    assert M.hit_rate_at_k(rec, held_out) == pytest.approx(2 / 3)
    assert M.ndcg_at_k(rec, held_out) == pytest.approx((0.5 + 0 + 1) / 3)
    assert M.mrr(rec, held_out) == pytest.approx((1 / 3 + 1) / 3)
    assert M.precision_at_k(rec, held_out) == pytest.approx(2 / 9)
    # the same data as a list of one-element lists must agree
    as_lists = [[2], [0], [3]]
    assert M.ndcg_at_k(rec, as_lists) == pytest.approx((0.5 + 0 + 1) / 3)
    assert M.map_at_k(rec, as_lists) == pytest.approx((1 / 3 + 0 + 1) / 3)


def test_two_d_relevant_and_duplicates_counted_once():
    rec = np.array([[1, 2], [3, 4]])
    rel2d = np.array([[2, 9], [3, 4]])  # user 0: 1 hit of 2; user 1: 2 of 2
    assert M.recall_at_k(rec, rel2d) == pytest.approx((0.5 + 1.0) / 2)
    # a relevant item listed twice is one item: user 0's set {2} → recall 1, not 1/2
    assert M.recall_at_k(rec, [[2, 2], [3, 4]]) == pytest.approx(1.0)


def test_users_without_relevant_items_are_excluded():
    rec = np.array([[1, 2], [3, 4], [5, 6]])
    # user 1 has nothing relevant → mean over users 0 and 2 only: HR (1 + 0) / 2
    assert M.hit_rate_at_k(rec, [[1], [], np.array([7])]) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="every user's relevant set is empty"):
        M.hit_rate_at_k(rec, [[], [], []])


def _reference_topk(rec, rel, k):
    """Plain Python, one user at a time, straight from the textbook definitions."""
    out = {"p": [], "r": [], "hr": [], "ndcg": [], "ap": [], "rr": []}
    for row, r in zip(rec, rel, strict=True):
        r = set(int(x) for x in r)
        if not r:
            continue
        top = [int(x) for x in row[:k]]
        flags = [it in r for it in top]
        n_hit = sum(flags)
        out["p"].append(n_hit / k)
        out["r"].append(n_hit / len(r))
        out["hr"].append(float(n_hit > 0))
        dcg = sum(1 / math.log2(i + 2) for i, f in enumerate(flags) if f)
        idcg = sum(1 / math.log2(i + 2) for i in range(min(k, len(r))))
        out["ndcg"].append(dcg / idcg)
        seen, ap = 0, 0.0
        for i, f in enumerate(flags):
            if f:
                seen += 1
                ap += seen / (i + 1)
        out["ap"].append(ap / min(k, len(r)))
        out["rr"].append(next((1 / (i + 1) for i, f in enumerate(flags) if f), 0.0))
    return {name: float(np.mean(v)) for name, v in out.items()}


def test_vectorised_metrics_match_per_user_reference():
    rng = np.random.default_rng(1)
    n_users, n_items, k = 60, 25, 8
    rec = np.stack([rng.permutation(n_items)[:k] for _ in range(n_users)])
    rel = [rng.choice(n_items, size=rng.integers(0, 6), replace=False) for _ in range(n_users)]
    for kk in (1, 3, 8):
        ref = _reference_topk(rec, rel, kk)
        assert M.precision_at_k(rec, rel, kk) == pytest.approx(ref["p"])
        assert M.recall_at_k(rec, rel, kk) == pytest.approx(ref["r"])
        assert M.hit_rate_at_k(rec, rel, kk) == pytest.approx(ref["hr"])
        assert M.ndcg_at_k(rec, rel, kk) == pytest.approx(ref["ndcg"])
        assert M.map_at_k(rec, rel, kk) == pytest.approx(ref["ap"])
        assert M.mrr(rec, rel, kk) == pytest.approx(ref["rr"])


def test_ranking_input_errors():
    rec = np.array([[1, 2], [3, 4]])
    with pytest.raises(ValueError, match="precision_at_k: relevant has 3 entries"):
        M.precision_at_k(rec, [[1], [2], [3]])
    with pytest.raises(ValueError, match="recall_at_k: relevant has 1 entries"):
        M.recall_at_k(rec, np.array([1]))
    with pytest.raises(ValueError, match="ndcg_at_k: k=3 is larger"):
        M.ndcg_at_k(rec, [[1], [3]], k=3)
    with pytest.raises(ValueError, match="k must be >= 1"):
        M.map_at_k(rec, [[1], [3]], k=0)
    with pytest.raises(TypeError, match="k must be an int"):
        M.map_at_k(rec, [[1], [3]], k=2.0)
    with pytest.raises(ValueError, match="mrr: recommended must be a 2-D"):
        M.mrr(np.array([1, 2]), [[1], [2]])
    with pytest.raises(ValueError, match="same item twice"):
        M.precision_at_k(np.array([[1, 1]]), [[1]])
    with pytest.raises(ValueError, match="negative item id"):
        M.hit_rate_at_k(np.array([[1, -1]]), [[1]])
    with pytest.raises(TypeError, match="integer item ids"):
        M.hit_rate_at_k(np.array([[1.0, 2.0]]), [[1]])
    with pytest.raises(TypeError, match=r"relevant\[1\] must hold integer"):
        M.hit_rate_at_k(rec, [[1], [2.5]])


# ------------------------------------------------------------------------------------------------
# Sampled protocol
# ------------------------------------------------------------------------------------------------
def test_rank_among_hand_and_pessimistic_ties():
    pos = np.array([0.9, 0.5, 0.2])
    neg = np.array([[0.1, 0.2, 0.3],   # all below → rank 0
                    [0.5, 0.7, 0.1],   # 0.7 above, 0.5 tied (counts above) → rank 2
                    [0.4, 0.3, 0.25]])  # all above → rank 3
    np.testing.assert_array_equal(M.rank_among(pos, neg), [0, 2, 3])
    np.testing.assert_array_equal(M.rank_among(pos[:, None], neg), [0, 2, 3])
    # a constant model: every negative ties → worst rank m, not the best
    assert M.rank_among(np.zeros(2), np.zeros((2, 99))).tolist() == [99, 99]
    with pytest.raises(ValueError, match="rank_among: pos_scores"):
        M.rank_among(pos[:2], neg)
    with pytest.raises(ValueError, match="rank_among: neg_scores"):
        M.rank_among(pos, neg[0])
    with pytest.raises(ValueError, match="NaN"):
        M.rank_among(np.array([np.nan, 0, 0]), neg)


def test_hit_rate_and_ndcg_from_ranks_hand():
    ranks = np.array([0, 2, 3, 15])
    # k=3: ranks 0 and 2 count → HR 2/4; NDCG (1/log2(2) + 1/log2(4)) / 4 = (1 + 0.5) / 4
    assert M.hit_rate_from_ranks(ranks, k=3) == pytest.approx(0.5)
    assert M.ndcg_from_ranks(ranks, k=3) == pytest.approx(1.5 / 4)
    # k=10: rank 3 also counts, 1/log2(5)
    assert M.hit_rate_from_ranks(ranks) == pytest.approx(0.75)
    assert M.ndcg_from_ranks(ranks) == pytest.approx((1 + 0.5 + 1 / math.log2(5)) / 4)
    with pytest.raises(ValueError, match="ndcg_from_ranks: ranks must be >= 0"):
        M.ndcg_from_ranks(np.array([-1, 0]))
    with pytest.raises(TypeError, match="hit_rate_from_ranks: ranks must be integers"):
        M.hit_rate_from_ranks(np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="k must be >= 1"):
        M.hit_rate_from_ranks(ranks, k=0)


def test_sampled_protocol_agrees_with_full_list_metrics():
    # Positive at 0-based rank r among the candidates ⇔ a full list where the held-out item sits at r.
    rng = np.random.default_rng(2)
    pos = rng.normal(size=50)
    neg = rng.normal(size=(50, 99))
    ranks = M.rank_among(pos, neg)
    scores = np.concatenate([pos[:, None], neg], axis=1)  # candidate 0 is the positive
    order = np.argsort(-scores, axis=1, kind="stable")[:, :10]  # no ties with continuous scores
    assert M.hit_rate_from_ranks(ranks, 10) == pytest.approx(M.hit_rate_at_k(order, np.zeros(50, int)))
    assert M.ndcg_from_ranks(ranks, 10) == pytest.approx(M.ndcg_at_k(order, np.zeros(50, int)))


# ------------------------------------------------------------------------------------------------
# Beyond accuracy
# ------------------------------------------------------------------------------------------------
def test_catalog_coverage_hand():
    rec = np.array([[0, 1], [1, 2], [0, 2]])
    # union {0, 1, 2} of 10 items → 0.3
    assert M.catalog_coverage(rec, 10) == pytest.approx(0.3)
    with pytest.raises(ValueError, match="catalog_coverage: recommended holds item id 10, out of range"):
        M.catalog_coverage(np.array([[0, 10]]), 10)
    with pytest.raises(ValueError, match=r"catalog_coverage: n_items must be .*; got 0"):
        M.catalog_coverage(rec, 0)


def test_novelty_hand():
    counts = np.array([8, 4, 1, 0])  # out of 8 users: p = 1, 1/2, 1/8, and 0 → treated as 1/8
    rec = np.array([[0, 1], [2, 3]])
    # bits: −log2 1 = 0, −log2 ½ = 1, −log2 ⅛ = 3, 3 → mean (0 + 1 + 3 + 3) / 4 = 1.75
    assert M.novelty(rec, counts, n_users=8) == pytest.approx(1.75)
    with pytest.raises(ValueError, match="novelty: item_popularity must be user counts"):
        M.novelty(rec, np.array([9, 1, 1, 1]), n_users=8)
    with pytest.raises(ValueError, match="novelty: recommended holds item id 4"):
        M.novelty(np.array([[0, 4]]), counts, n_users=8)


def test_intra_list_diversity_hand():
    feats = np.array([[1.0, 0.0],   # item 0: east
                      [0.0, 2.0],   # item 1: north (length 2: cosine ignores length)
                      [3.0, 3.0],   # item 2: north-east, cos 1/√2 with items 0 and 1
                      [0.0, 0.0]])  # item 3: zero vector → cosine 0 with anything
    rec = np.array([[0, 1, 3], [0, 1, 2], [2, 0, 3]])
    # user 0 [0,1,3]: (0,1)=1−0, (0,3)=1, (1,3)=1 → 1
    # user 1 [0,1,2]: (0,1)=1, (0,2)=1−1/√2, (1,2)=1−1/√2 → (3 − 2/√2) / 3
    # user 2 [2,0,3]: (2,0)=1−1/√2, (2,3)=1, (0,3)=1 → (3 − 1/√2) / 3
    r = 1 / math.sqrt(2)
    expected = (1 + (3 - 2 * r) / 3 + (3 - r) / 3) / 3
    assert M.intra_list_diversity(rec, feats) == pytest.approx(expected)
    assert M.intra_list_diversity(rec, feats, batch_size=1) == pytest.approx(expected)  # chunking
    # identical directions → 0
    assert M.intra_list_diversity(np.array([[0, 1]]), np.array([[1.0, 1.0], [2.0, 2.0]])) == pytest.approx(0)
    with pytest.raises(ValueError, match="at least 2 items"):
        M.intra_list_diversity(np.array([[0], [1]]), feats)
    with pytest.raises(ValueError, match="item_features must be 2-D"):
        M.intra_list_diversity(rec, feats[0])
    with pytest.raises(ValueError, match="intra_list_diversity: recommended holds item id 4"):
        M.intra_list_diversity(np.array([[0, 4]]), feats)


# ------------------------------------------------------------------------------------------------
# Issue 7: accuracy, direction, dicts, bools, complex and ragged input
# ------------------------------------------------------------------------------------------------
def test_accuracy_picks_its_rule_from_the_shapes():
    # one column: threshold 0.5 → [1, 0, 1, 1] vs labels [1, 0, 0, 1]: 3 of 4
    assert M.accuracy(np.array([1, 0, 0, 1]), np.array([[0.9], [0.2], [0.7], [0.6]])) == pytest.approx(0.75)
    scores = np.array([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2], [0.2, 0.2, 0.6]])  # argmax 1, 0, 2
    assert M.accuracy(np.eye(3)[[1, 1, 2]], scores) == pytest.approx(2 / 3)  # one-hot rows
    assert M.accuracy(np.array([1, 0, 0]), scores) == pytest.approx(2 / 3)  # class ids
    assert M.accuracy(np.array([[1], [0], [0]]), scores) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="accuracy: y_true"):
        M.accuracy(np.zeros((3, 2)), scores)
    assert M.accuracy.higher_is_better is True


def test_compile_accuracy_still_works():
    from tinyrec.layers import Dense
    from tinyrec.models import Sequential

    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 3))
    y = (x[:, 0] > 0).astype(float)
    model = Sequential([Dense(1, activation="sigmoid", input_dim=3)], seed=0)
    model.compile(optimizer="adam", loss="mse", metrics=["accuracy"])
    history = model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert set(history.history) == {"loss", "accuracy"}
    expected = M.binary_accuracy(y, model.predict(x))
    assert model.evaluate(x, y, verbose=0)[1] == pytest.approx(expected)


@pytest.mark.parametrize(
    "name, expected",
    [("loss", "min"), ("val_loss", "min"), ("val_auc", "max"), ("auc", "max"), ("val_accuracy", "max"),
     ("acc", "max"), ("val_rmse", "min"), ("mae", "min"), ("val_hit_rate", "max"), ("val_ndcg", "max"),
     ("ndcg@10", "max"), ("val_precision_at_k", "max"), ("recall_at_20", "max"), ("mrr", "max"),
     ("val_binary_accuracy", "max"), ("log_loss", "min"), ("val_mean_squared_error", "min"),
     ("val_sparse_categorical_crossentropy", "min"), ("coverage", "max")],
)
def test_direction_by_name(name, expected):
    assert M.direction(name) == expected


def test_direction_by_function_and_errors():
    assert M.direction(M.rmse) == "min" and M.direction(M.ndcg_at_k) == "max"
    for name in M.__all__:
        fn = getattr(M, name)
        if callable(fn) and name not in ("get", "direction", "rank_among"):
            assert isinstance(fn.higher_is_better, bool), name

    def custom(y_true, y_pred):
        return 0.0

    with pytest.raises(TypeError, match="'custom' has no higher_is_better"):
        M.direction(custom)
    custom.higher_is_better = True
    assert M.direction(custom) == "max"
    with pytest.raises(ValueError, match="did you mean 'recall'"):
        M.direction("val_recal")


def test_precision_given_a_dict():
    rec = np.array([[0, 1], [2, 3]])
    # {row: items} with keys exactly 0..n-1 is read as such (any key order) ...
    assert M.precision_at_k(rec, {1: [2], 0: [5]}) == pytest.approx(0.25)
    assert M.precision_at_k(rec, {1: [2], 0: [5]}) == M.precision_at_k(rec, [[5], [2]])
    # ... anything else is refused instead of having its keys read as items (the old answer: 0.25 for this)
    with pytest.raises(ValueError, match=r"precision_at_k: relevant is a dict whose keys \(10, 20\)"):
        M.precision_at_k(rec, {10: [1], 20: [2]})
    with pytest.raises(TypeError, match="precision_at_k: relevant must be a sequence.*set"):
        M.precision_at_k(rec, {1, 2})


@pytest.mark.parametrize("k", [True, False, np.True_, 2.0, "2"])
@pytest.mark.parametrize("fn", [M.precision_at_k, M.ndcg_at_k, M.hit_rate_from_ranks])
def test_k_must_be_an_int_not_a_bool(fn, k):
    first = np.array([[0, 1], [1, 2]]) if fn is not M.hit_rate_from_ranks else np.array([0, 3])
    args = (first, [[1], [2]]) if fn is not M.hit_rate_from_ranks else (first,)
    with pytest.raises(TypeError, match=f"{fn.__name__}: k must be an"):
        fn(*args, k=k)


@pytest.mark.parametrize("fn", [M.mse, M.mae, M.rmse, M.binary_accuracy, M.log_loss, M.auc])
def test_complex_ragged_and_string_inputs_are_refused(fn):
    name = fn.__name__
    with pytest.raises(ValueError, match=f"{name}: .*complex"):
        fn(np.array([1, 0]), np.array([0.5 + 1j, 0.5]))
    with pytest.raises(ValueError, match=f"{name}: y_true must be a rectangular"):
        fn([[1, 0], [1]], np.array([0.5, 0.5]))
    with pytest.raises(ValueError, match=f"{name}: y_true must be numeric"):
        fn(["1", "0"], np.array([0.5, 0.5]))


def test_metric_name_typo_suggests_the_closest():
    with pytest.raises(ValueError, match="Unknown metric 'acuracy'; did you mean 'accuracy'"):
        M.get("acuracy")
