"""Tests for tinyrec.recommenders.baselines and tinyrec.recommenders.evaluation."""

import numpy as np
import pytest

from tinyrec.recommenders.baselines import BiasBaseline, GlobalMean, MostPopular
from tinyrec.recommenders.evaluation import evaluate_ranking, evaluate_ratings

# A tiny rating matrix: 3 users, 4 items.
USERS = np.array([0, 0, 1, 1, 2, 2, 2])
ITEMS = np.array([0, 1, 0, 2, 1, 2, 3])
RATINGS = np.array([5.0, 3.0, 4.0, 2.0, 1.0, 4.0, 5.0])


# ---------------------------------------------------------------------------------------------
# GlobalMean
# ---------------------------------------------------------------------------------------------
def test_global_mean_predicts_the_training_mean():
    model = GlobalMean(3, 4).fit(USERS, ITEMS, RATINGS)
    assert model.predict([0, 2, 1], [3, 0, 1]) == pytest.approx([24 / 7] * 3)


# ---------------------------------------------------------------------------------------------
# BiasBaseline
# ---------------------------------------------------------------------------------------------
def test_bias_baseline_one_round_matches_the_closed_form_by_hand():
    # μ = 4; λ = 1. Items first: b_i0 = ((5−4) + (4−4)) / (1+2) = 1/3,  b_i1 = (3−4) / (1+1) = −1/2.
    # Then users: b_u0 = ((5−4−1/3) + (3−4+1/2)) / (1+2) = 1/18,  b_u1 = (4−4−1/3) / (1+1) = −1/6.
    model = BiasBaseline(2, 2, l2=1.0, n_iters=1).fit([0, 0, 1], [0, 1, 0], [5.0, 3.0, 4.0])
    assert model.global_mean == pytest.approx(4.0)
    assert model.item_bias == pytest.approx([1 / 3, -1 / 2])
    assert model.user_bias == pytest.approx([1 / 18, -1 / 6])
    assert model.predict([0, 1], [1, 1]) == pytest.approx([4 + 1 / 18 - 1 / 2, 4 - 1 / 6 - 1 / 2])


def _ridge_solution(users, items, ratings, n_users, n_items, lam):
    """The exact minimiser of Σ(r − μ − b_u − b_i)² + λ(Σb_u² + Σb_i²): (AᵀA + λI) b = Aᵀ(r − μ)."""
    A = np.zeros((len(ratings), n_users + n_items))
    A[np.arange(len(ratings)), users] = 1.0
    A[np.arange(len(ratings)), n_users + items] = 1.0
    b = np.linalg.solve(A.T @ A + lam * np.eye(n_users + n_items), A.T @ (ratings - ratings.mean()))
    return b[:n_users], b[n_users:]


def test_bias_baseline_converges_to_the_exact_ridge_solution():
    rng = np.random.default_rng(0)
    n_users, n_items, n = 15, 10, 80
    users, items = rng.integers(0, n_users, n), rng.integers(0, n_items, n)
    ratings = rng.integers(1, 6, n).astype(float)
    b_u, b_i = _ridge_solution(users, items, ratings, n_users, n_items, lam=2.0)
    model = BiasBaseline(n_users, n_items, l2=2.0, n_iters=300).fit(users, items, ratings)
    np.testing.assert_allclose(model.user_bias, b_u, atol=1e-8)
    np.testing.assert_allclose(model.item_bias, b_i, atol=1e-8)


def test_bias_baseline_objective_never_increases_with_more_rounds():
    rng = np.random.default_rng(1)
    users, items = rng.integers(0, 20, 200), rng.integers(0, 30, 200)
    ratings = rng.integers(1, 6, 200).astype(float)

    def objective(m):
        resid = ratings - m.predict(users, items)
        return np.sum(resid**2) + 5.0 * (np.sum(m.user_bias**2) + np.sum(m.item_bias**2))

    fits = [BiasBaseline(20, 30, l2=5.0, n_iters=t).fit(users, items, ratings) for t in (1, 2, 4, 8)]
    values = [objective(m) for m in fits]
    assert all(a >= b - 1e-9 for a, b in zip(values, values[1:]))
    assert values[-1] < values[0]


def test_bias_baseline_unrated_ids_get_zero_bias_even_without_regularisation():
    model = BiasBaseline(3, 4, l2=0.0).fit([0, 1], [0, 1], [5.0, 3.0])
    assert model.user_bias[2] == 0.0 and model.item_bias[2] == 0.0 and model.item_bias[3] == 0.0
    assert np.all(np.isfinite(model.predict([2], [3])))


def test_bias_baseline_beats_global_mean_on_held_out_movie_ratings():
    synthetic = pytest.importorskip("tinyrec.datasets.synthetic")
    from tinyrec.datasets.splits import random_split

    d = synthetic.make_movies(n_users=300, n_items=400, n_ratings=15_000, seed=0)
    train, test = random_split(len(d.ratings), test_size=0.1, seed=0)
    args = d.user_ids[train], d.item_ids[train], d.ratings[train]
    held_out = d.user_ids[test], d.item_ids[test], d.ratings[test]
    mean = evaluate_ratings(GlobalMean(d.n_users, d.n_items).fit(*args), *held_out)
    bias = evaluate_ratings(BiasBaseline(d.n_users, d.n_items).fit(*args), *held_out)
    # GlobalMean's RMSE is the root-mean-square deviation of the test ratings from the train mean.
    expected = np.sqrt(np.mean((d.ratings[test] - d.ratings[train].astype(float).mean()) ** 2))
    assert mean["rmse"] == pytest.approx(expected, rel=1e-6)
    assert bias["rmse"] < mean["rmse"] - 0.05
    assert bias["mae"] < mean["mae"]


def test_bias_baseline_rejects_bad_arguments():
    with pytest.raises(ValueError, match="l2"):
        BiasBaseline(3, 4, l2=-1.0)
    with pytest.raises(ValueError, match="n_iters"):
        BiasBaseline(3, 4, n_iters=0)
    with pytest.raises(ValueError, match="ratings"):
        BiasBaseline(3, 4).fit(USERS, ITEMS, RATINGS[:-1])
    with pytest.raises(ValueError, match="NaN"):
        BiasBaseline(3, 4).fit([0], [0], [np.nan])


# ---------------------------------------------------------------------------------------------
# MostPopular and the shared interface
# ---------------------------------------------------------------------------------------------
def test_most_popular_scores_are_training_counts():
    model = MostPopular(3, 4).fit(USERS, ITEMS)
    np.testing.assert_array_equal(model.item_counts, [2, 2, 2, 1])
    np.testing.assert_array_equal(model.predict([0, 1, 2], [3, 0, 3]), [1, 2, 1])
    np.testing.assert_array_equal(model.score_items([1, 2]), [[2, 2, 2, 1], [2, 2, 2, 1]])


def test_most_popular_recommend_orders_by_count_and_excludes_seen():
    users = np.array([0, 1, 1, 2, 2, 2, 3, 3, 3, 3])
    items = np.array([0, 1, 0, 2, 1, 0, 3, 2, 1, 0])  # counts: item 0 → 4, 1 → 3, 2 → 2, 3 → 1, 4 → 0
    model = MostPopular(4, 5).fit(users, items)
    recs, scores = model.recommend([0, 1, 3], k=2)
    np.testing.assert_array_equal(recs[0], [1, 2])  # user 0 saw item 0
    np.testing.assert_array_equal(recs[1], [2, 3])  # user 1 saw items 0 and 1
    np.testing.assert_array_equal(scores[:2], [[3, 2], [2, 1]])
    assert recs[2, 0] == 4 and scores[2, 0] == 0  # user 3 saw 0..3: only item 4 is left ...
    assert scores[2, 1] == -np.inf  # ... then a seen item, marked −inf
    recs_all, _ = model.recommend([3], k=2, exclude_seen=False)
    np.testing.assert_array_equal(recs_all, [[0, 1]])


@pytest.mark.parametrize("cls", [GlobalMean, BiasBaseline, MostPopular])
def test_bad_ids_raise_a_clear_error(cls):
    model = cls(3, 4)
    fit_args = (USERS, ITEMS) if cls is MostPopular else (USERS, ITEMS, RATINGS)
    with pytest.raises(RuntimeError, match="fit"):
        model.predict([0], [0])
    model.fit(*fit_args)
    with pytest.raises(ValueError, match=r"item_ids.*\b7\b"):
        model.predict([0, 1], [0, 7])
    with pytest.raises(ValueError, match=r"user_ids.*-1"):
        model.recommend([-1, 0], k=2)
    bad_users = np.array([0, 0, 1, 1, 2, 2, 5])
    with pytest.raises(ValueError, match=r"user_ids.*\b5\b"):
        cls(3, 4).fit(bad_users, *fit_args[1:])


# ---------------------------------------------------------------------------------------------
# evaluate_ranking / evaluate_ratings
# ---------------------------------------------------------------------------------------------
class _ScoreByItem:
    """A fake model whose score depends on the item only: ``score(u, i) = table[i]``; records calls."""

    def __init__(self, table, n_users):
        self.table = np.asarray(table, dtype=float)
        self.n_items, self.n_users = len(self.table), n_users
        self.calls = []

    def predict(self, user_ids, item_ids):
        self.calls.append((np.asarray(user_ids), np.asarray(item_ids)))
        return self.table[np.asarray(item_ids)]


def test_evaluate_ranking_matches_hand_computed_ranks():
    # 11 items; each user has one train item and one test item, and n_negatives = 9 is every other item,
    # so the candidate set is fixed. Score = −item id: the rank of test item t is the number of unseen
    # items with a smaller id.
    model = _ScoreByItem(-np.arange(11), n_users=3)
    train_u, train_i = np.array([0, 1, 2]), np.array([0, 0, 10])
    test_u, test_i = np.array([0, 1, 2]), np.array([5, 1, 3])
    # user 0: unseen {1..4, 6..10} → items 1,2,3,4 beat 5 → rank 4
    # user 1: unseen {2..10} → nothing beats item 1 → rank 0
    # user 2: unseen {0,1,2,4..9} → items 0,1,2 beat 3 → rank 3
    ranks = np.array([4, 0, 3])
    for k in (1, 4, 5):
        result = evaluate_ranking(model, train_u, train_i, test_u, test_i, n_negatives=9, k=k)
        assert result["hit_rate"] == pytest.approx(np.mean(ranks < k))
        assert result["ndcg"] == pytest.approx(np.mean(np.where(ranks < k, 1 / np.log2(ranks + 2), 0)))


def test_evaluate_ranking_negatives_are_distinct_and_unseen():
    rng = np.random.default_rng(0)
    n_users, n_items = 30, 200
    train_u, train_i = rng.integers(0, n_users, 600), rng.integers(0, n_items, 600)
    test_u, test_i = np.arange(n_users), rng.integers(0, n_items, n_users)
    model = _ScoreByItem(rng.random(n_items), n_users)
    evaluate_ranking(model, train_u, train_i, test_u, test_i, n_negatives=99, seed=3)
    users, items = model.calls[0]
    users, items = users.reshape(n_users, 100), items.reshape(n_users, 100)
    np.testing.assert_array_equal(users, np.repeat(test_u[:, None], 100, axis=1))
    np.testing.assert_array_equal(items[:, 0], test_i)  # the held-out item is scored with its negatives
    known = set(zip(train_u.tolist(), train_i.tolist())) | set(zip(test_u.tolist(), test_i.tolist()))
    for u in range(n_users):
        negs = items[u, 1:]
        assert len(set(negs.tolist())) == 99
        assert not any((u, int(i)) in known for i in negs)
    # The same seed gives the same negatives (models are compared on one candidate set).
    evaluate_ranking(model, train_u, train_i, test_u, test_i, n_negatives=99, seed=3)
    np.testing.assert_array_equal(model.calls[1][1], model.calls[0][1])


def test_evaluate_ranking_counts_ties_against_the_model():
    model = _ScoreByItem(np.ones(50), n_users=5)  # every item scores the same
    result = evaluate_ranking(model, [0, 1], [0, 0], [0, 1], [1, 2], n_negatives=20, k=10)
    assert result == {"hit_rate": 0.0, "ndcg": 0.0}


def test_evaluate_ranking_rejects_bad_input():
    model = _ScoreByItem(np.zeros(10), n_users=3)
    with pytest.raises(ValueError, match=r"test_items.*\b12\b"):
        evaluate_ranking(model, [0], [1], [0], [12], n_negatives=5)
    with pytest.raises(ValueError, match="equal lengths"):
        evaluate_ranking(model, [0, 1], [1], [0], [2], n_negatives=5)
    with pytest.raises(TypeError, match="n_items"):
        evaluate_ranking(object(), [0], [1], [0], [2])


def test_evaluate_ratings_by_hand():
    model = _ScoreByItem([3.0, 4.0, 1.0], n_users=2)
    result = evaluate_ratings(model, [0, 1, 1], [0, 1, 2], [4.0, 4.0, 3.0])  # errors −1, 0, −2
    assert result["rmse"] == pytest.approx(np.sqrt(5 / 3))
    assert result["mae"] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="equal lengths"):
        evaluate_ratings(model, [0, 1], [0, 1, 2], [4.0, 4.0, 3.0])


def test_baselines_are_recommenders_but_not_gradient_models():
    from tinyrec.models import Model
    from tinyrec.recommenders import Recommender
    for cls in (GlobalMean, BiasBaseline, MostPopular):
        model = cls(3, 4)
        assert isinstance(model, Recommender) and not isinstance(model, Model)
        assert not hasattr(model, "compile") and not hasattr(model, "evaluate")
        with pytest.raises(RuntimeError, match="call fit first"):
            model.predict([0], [0])
