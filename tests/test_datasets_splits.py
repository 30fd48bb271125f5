"""Tests for tinyrec.datasets.splits on tiny hand-checked examples."""

import numpy as np
import pytest

from tinyrec.datasets import splits
from tinyrec.datasets.splits import leave_last_out, random_split, sample_negatives, seen_items, temporal_split


def assert_partition(train, test, n):
    """train and test are sorted, disjoint, and together cover 0..n-1."""
    assert train.dtype == np.int64 and test.dtype == np.int64
    assert np.all(np.diff(train) > 0) and np.all(np.diff(test) > 0)
    assert len(np.intersect1d(train, test)) == 0
    np.testing.assert_array_equal(np.sort(np.concatenate([train, test])), np.arange(n))


# ------------------------------------------------------------------------------------------- random_split
def test_random_split_matches_documented_permutation():
    train, test = random_split(10, test_size=0.3, seed=0)
    perm = np.random.default_rng(0).permutation(10)  # the documented recipe: test = first 3 of perm
    np.testing.assert_array_equal(test, np.sort(perm[:3]))
    np.testing.assert_array_equal(train, np.sort(perm[3:]))
    assert_partition(train, test, 10)


def test_random_split_sizes_array_input_and_seeds():
    # float rounds up: ceil(0.25 * 10) = 3; an int is a count; 0.07 * 100 is 7.000000000000001 in
    # floating point, which must still give 7 rows, not 8
    assert len(random_split(10, 0.25)[1]) == 3
    assert len(random_split(10, 4)[1]) == 4
    assert len(random_split(100, 0.07)[1]) == 7
    train, test = random_split(np.zeros(8), test_size=2, seed=1)  # an array: its length is used
    assert_partition(train, test, 8)
    a = random_split(50, 0.2, seed=3)
    b = random_split(50, 0.2, seed=np.random.default_rng(3))
    c = random_split(50, 0.2, seed=4)
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])


@pytest.mark.parametrize("test_size", [0.0, 1.0, -0.1, 1.5, 0, 10, 11, -1])
def test_random_split_rejects_bad_test_size(test_size):
    with pytest.raises(ValueError, match="test_size"):
        random_split(10, test_size=test_size)


def test_random_split_rejects_bad_types():
    with pytest.raises(TypeError, match="test_size"):
        random_split(10, test_size=True)
    with pytest.raises(TypeError, match="test_size"):
        random_split(10, test_size="0.1")
    with pytest.raises(TypeError, match="n must be"):
        random_split(10.0)
    with pytest.raises(TypeError, match="seed"):
        random_split(10, seed="abc")
    with pytest.raises(ValueError, match="test_size"):
        random_split(1, test_size=0.5)  # 1 row cannot give both a train and a test row


# ----------------------------------------------------------------------------------------- leave_last_out
def test_leave_last_out_hand_example():
    #          row: 0  1  2  3  4  5  6  7  8
    users = np.array([0, 1, 0, 2, 1, 0, 1, 3, 3])
    times = np.array([5, 3, 9, 7, 8, 1, 2, 4, 6])
    train, test = leave_last_out(users, times)
    # user 0: max time 9 at row 2; user 1: 8 at row 4; user 2 has one row -> train; user 3: 6 at row 8
    np.testing.assert_array_equal(test, [2, 4, 8])
    np.testing.assert_array_equal(train, [0, 1, 3, 5, 6, 7])


def test_leave_last_out_non_contiguous_ids_and_float_times():
    users = np.array([42, 7, 42, 7, 100])
    times = np.array([1.5, 2.5, 0.5, 3.5, 9.0])
    train, test = leave_last_out(users, times)
    np.testing.assert_array_equal(test, [0, 3])
    np.testing.assert_array_equal(train, [1, 2, 4])


def test_leave_last_out_single_interaction_users_stay_in_train():
    train, test = leave_last_out([0, 1, 2], [10, 20, 30])
    np.testing.assert_array_equal(train, [0, 1, 2])
    assert len(test) == 0


def test_leave_last_out_ties_are_seeded():
    users = np.array([0, 0, 0, 1, 1])
    times = np.array([5, 5, 3, 1, 1])  # user 0: rows 0 and 1 tie at the latest time; user 1: rows 3, 4
    picks = set()
    for seed in range(40):
        train, test = leave_last_out(users, times, seed=seed)
        assert test[0] in (0, 1) and test[1] in (3, 4)
        assert_partition(train, test, 5)
        picks.add(int(test[0]))
        np.testing.assert_array_equal(test, leave_last_out(users, times, seed=seed)[1])  # reproducible
    assert picks == {0, 1}  # the tie is not always broken the same way


def test_leave_last_out_bad_input():
    with pytest.raises(ValueError, match="same length"):
        leave_last_out([0, 1, 2], [1, 2])
    with pytest.raises(TypeError, match="user_ids"):
        leave_last_out([0.5, 1.0], [1, 2])
    with pytest.raises(ValueError, match="1-D"):
        leave_last_out([[0, 1]], [[1, 2]])


# ----------------------------------------------------------------------------------------- temporal_split
def test_temporal_split_hand_example():
    #               row: 0   1   2   3   4   5   6   7   8  9
    times = np.array([30, 10, 80, 50, 20, 90, 60, 40, 70, 0])
    train, test = temporal_split(times, test_size=0.3)
    np.testing.assert_array_equal(test, [2, 5, 8])  # times 80, 90, 70: the three latest
    np.testing.assert_array_equal(train, [0, 1, 3, 4, 6, 7, 9])
    assert times[train].max() < times[test].min()


def test_temporal_split_ties_are_stable():
    # equal times keep input order, so the later rows among the tied ones go to test
    train, test = temporal_split([1, 2, 2, 2, 3], test_size=2)
    np.testing.assert_array_equal(test, [3, 4])
    np.testing.assert_array_equal(train, [0, 1, 2])


def test_temporal_split_bad_test_size():
    with pytest.raises(ValueError, match="test_size"):
        temporal_split([1, 2, 3], test_size=1.0)
    with pytest.raises(ValueError, match="test_size"):
        temporal_split([1, 2, 3], test_size=3)


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
    monkeypatch.setattr(splits, "_MAX_REJECTION_ROUNDS", 0)
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
