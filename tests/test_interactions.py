"""Tests for tinyrec.interactions (seen items, negative sampling) on tiny hand-checked examples."""

import numpy as np
import pytest

from tinyrec import interactions
from tinyrec.interactions import sample_negatives, seen_items

# --------------------------------------------------------------------------------------- sample_negatives
# 6 items. user 0 saw {0, 1, 2, 4} (unseen: 3, 5); user 1 saw {1, 2, 3, 4, 5} (unseen: 0); user 2 saw nothing.
SEEN_U = np.array([0, 0, 0, 0, 1, 1, 1, 1, 1, 0])
SEEN_I = np.array([0, 1, 2, 4, 1, 2, 3, 4, 5, 1])  # the last pair repeats (0, 1): duplicates are fine


def test_sample_negatives_never_returns_seen_items_dense_case():
    neg = sample_negatives([0, 1, 2, 0], 6, 500, SEEN_U, SEEN_I, seed=0)
    assert neg.shape == (4, 500) and neg.dtype == np.int64
    assert set(np.unique(neg[[0, 3]])) == {3, 5}
    assert np.all(neg[1] == 0)
    assert set(np.unique(neg[2])) == set(range(6))  # an unseen user can get any item
    # unseen items of user 0 are drawn with equal probability (1000 draws, seed fixed)
    assert 0.45 < np.mean(neg[[0, 3]] == 3) < 0.55


def test_sample_negatives_distinct_rows():
    # user 0 has exactly 2 unseen items: 2 distinct negatives must be exactly {3, 5}, in either order
    neg = sample_negatives(np.zeros(100, dtype=int), 6, 2, SEEN_U, SEEN_I, seed=1, distinct=True)
    np.testing.assert_array_equal(np.sort(neg, axis=1), np.tile([3, 5], (100, 1)))
    assert {tuple(r) for r in neg} == {(3, 5), (5, 3)}
    # larger case: 30 items, user 0 saw 10 of them; 20 distinct negatives = all the 20 unseen items
    seen = np.arange(0, 30, 3)
    neg = sample_negatives([0, 0, 0], 30, 20, np.zeros(10, dtype=int), seen, seed=2, distinct=True)
    for row in neg:
        np.testing.assert_array_equal(np.sort(row), np.setdiff1d(np.arange(30), seen))


def test_sample_negatives_fallback_path_is_correct(monkeypatch):
    # with 0 rejection rounds every unfinished row goes through the explicit-unseen-list fallback
    monkeypatch.setattr(interactions, "_MAX_REJECTION_ROUNDS", 0)
    neg = sample_negatives([0, 1, 0], 6, 2, SEEN_U, SEEN_I, seed=0, distinct=False)
    assert set(np.unique(neg[[0, 2]])) <= {3, 5} and np.all(neg[1] == 0)
    neg = sample_negatives([0] * 20, 6, 2, SEEN_U, SEEN_I, seed=0, distinct=True)
    np.testing.assert_array_equal(np.sort(neg, axis=1), np.tile([3, 5], (20, 1)))


def test_sample_negatives_is_seeded():
    a = sample_negatives([2, 2, 2], 50, 10, SEEN_U, SEEN_I, seed=7)
    b = sample_negatives([2, 2, 2], 50, 10, SEEN_U, SEEN_I, seed=np.random.default_rng(7))
    c = sample_negatives([2, 2, 2], 50, 10, SEEN_U, SEEN_I, seed=8)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_sample_negatives_impossible_requests_name_the_user():
    with pytest.raises(ValueError, match="user 1"):  # user 1 has 1 unseen item, 2 distinct asked
        sample_negatives([0, 1], 6, 2, SEEN_U, SEEN_I, distinct=True)
    all_u, all_i = np.zeros(6, dtype=int), np.arange(6)
    with pytest.raises(ValueError, match="user 0"):  # saw everything: not even one negative
        sample_negatives([0], 6, 1, all_u, all_i)
    with pytest.raises(ValueError, match="user 3"):  # 5 distinct out of 4 items
        sample_negatives([3], 4, 5, [], [], distinct=True)


def test_sample_negatives_bad_arguments():
    with pytest.raises(ValueError, match="same length"):
        sample_negatives([0], 6, 1, [0, 1], [0])
    with pytest.raises(ValueError, match="item ids"):
        sample_negatives([0], 6, 1, [0], [6])
    with pytest.raises(ValueError, match="n_items"):
        sample_negatives([0], 0, 1, [], [])
    with pytest.raises(ValueError, match="n_negatives"):
        sample_negatives([0], 6, -1, [], [])
    with pytest.raises(ValueError, match="user_ids"):
        sample_negatives([-1], 6, 1, [], [])
    assert sample_negatives([0, 1], 6, 0, SEEN_U, SEEN_I).shape == (2, 0)


# -------------------------------------------------------------------------------------------- seen_items
def test_seen_items_csr_hand_example():
    users = [2, 0, 2, 0, 2, 3]
    items = [4, 1, 0, 1, 3, 2]  # (0, 1) appears twice and is counted once
    indptr, indices = seen_items(users, items, n_users=5, n_items=5)
    # user 0: {1}; user 1: {}; user 2: {0, 3, 4}; user 3: {2}; user 4: {}
    np.testing.assert_array_equal(indptr, [0, 1, 1, 4, 5, 5])
    np.testing.assert_array_equal(indices, [1, 0, 3, 4, 2])
    assert indptr.dtype == np.int64 and indices.dtype == np.int64


def test_seen_items_bad_ids():
    with pytest.raises(ValueError, match="user ids"):
        seen_items([0, 5], [0, 1], n_users=5, n_items=5)
    with pytest.raises(ValueError, match="item ids"):
        seen_items([0, 1], [0, -1], n_users=5, n_items=5)
    with pytest.raises(ValueError, match="same length"):
        seen_items([0, 1], [0], n_users=5, n_items=5)
