"""Tests for tinyrec.datasets.splits on tiny hand-checked examples."""

import numpy as np
import pytest

from tinyrec.datasets.splits import leave_last_out, random_split, temporal_split


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


# ------------------------------------------------------------------------------------------------
# Non-finite timestamps (issue 7): a NaN sorted last and passed for the latest interaction
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_leave_last_out_refuses_non_finite_timestamps(bad):
    users = np.array([0, 0, 0, 1, 1])
    times = np.array([1.0, bad, 2.0, 5.0, 6.0])
    with pytest.raises(ValueError, match=r"leave_last_out: timestamps must be finite; got .* at index 1"):
        leave_last_out(users, times)


def test_temporal_split_refuses_nan_timestamps():
    with pytest.raises(ValueError, match="temporal_split: timestamps must be finite"):
        temporal_split(np.array([1.0, 2.0, np.nan, 3.0]), test_size=1)


def test_ragged_user_ids_are_a_clear_error():
    with pytest.raises(ValueError, match="leave_last_out: user_ids must be a 1-D array"):
        leave_last_out([[0, 1], [2]], [1, 2])
