"""Train/test splits (训练集/测试集划分) and negative sampling (负采样) for interaction data.

Interaction data is stored as parallel 1-D arrays, one entry per interaction ``k``:
``user_ids[k]``, ``item_ids[k]``, ``ratings[k]``, ``timestamps[k]``. The split functions therefore return
*index arrays* (both sorted ascending) that you apply to every column::

    train_idx, test_idx = leave_last_out(data.user_ids, data.timestamps)
    train_users, test_users = data.user_ids[train_idx], data.user_ids[test_idx]

All functions are vectorised with NumPy (no Python loop per interaction or per user) and take their
randomness from ``seed`` (an int or a ``numpy.random.Generator``), so results are reproducible.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .._checks import as_rng
from ..interactions import sample_negatives, seen_items  # noqa: F401  (their old home)

__all__ = ["random_split", "leave_last_out", "temporal_split", "sequences_by_user", "last_item_split"]



# --------------------------------------------------------------------------------------------------
# Splits
# --------------------------------------------------------------------------------------------------
def random_split(n, test_size=0.1, seed=0):
    """Split ``n`` interactions uniformly at random into train and test.

    Parameters
    ----------
    n : int, or an array whose length is used
    test_size : float in (0, 1) or int
        A fraction of ``n`` (rounded up: ``n_test = ceil(test_size * n)``) or a count ``1 .. n-1``.
    seed : int or numpy.random.Generator

    Returns
    -------
    train_idx, test_idx : int64 arrays, sorted, disjoint, together ``0 .. n-1``.
    Computed as ``perm = rng.permutation(n)``; test = the first ``n_test`` entries of ``perm``.
    """
    if np.ndim(n) > 0:
        n = len(n)
    elif isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"random_split: n must be an int or an array, got {type(n).__name__}")
    n = int(n)
    n_test = _n_test(n, test_size, "random_split")
    perm = as_rng(seed, "random_split").permutation(n)
    return np.sort(perm[n_test:]).astype(np.int64), np.sort(perm[:n_test]).astype(np.int64)


def leave_last_out(user_ids, timestamps, seed=0):
    """Leave-one-out split (留一法): each user's latest interaction is the test set.

    For every user with at least 2 interactions, the interaction with the largest timestamp goes to test;
    all others (and every interaction of users with only 1) go to train. This is the usual protocol for
    next-item evaluation: "given the past, rank the movie the user watched next".

    Ties (a user with several interactions at the same latest timestamp) are broken by a random key drawn
    from ``seed``, so the choice does not depend on how the file happens to be sorted yet is reproducible.

    How (vectorised): sort rows by (user, timestamp, random key) with ``np.lexsort``; in that order the
    last row of each user's block is their latest interaction. It goes to test unless it is also the
    first row of the block (the user has a single interaction).

    Parameters
    ----------
    user_ids : (N,) integer array
    timestamps : (N,) numeric array
    seed : int or numpy.random.Generator

    Returns
    -------
    train_idx, test_idx : int64 arrays, sorted ascending, disjoint, together ``0 .. N-1``.
    ``len(test_idx)`` equals the number of users with >= 2 interactions.
    """
    users = _as_1d(user_ids, "user_ids", "leave_last_out", integer=True)
    times = _as_1d(timestamps, "timestamps", "leave_last_out")
    if len(users) != len(times):
        raise ValueError(
            f"leave_last_out: user_ids and timestamps must have the same length, "
            f"got {len(users)} and {len(times)}"
        )
    rng = as_rng(seed, "leave_last_out")
    n = len(users)
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    tie_key = rng.random(n)
    order = np.lexsort((tie_key, times, users))  # last key is the primary one: user, then time, then tie
    u = users[order]
    new_block = u[1:] != u[:-1]
    first_of_user = np.concatenate(([True], new_block))
    last_of_user = np.concatenate((new_block, [True]))
    is_test = last_of_user & ~first_of_user
    return np.sort(order[~is_test]).astype(np.int64), np.sort(order[is_test]).astype(np.int64)


def temporal_split(timestamps, test_size=0.2):
    """Global temporal split (时间切分): the most recent ``test_size`` of all interactions is the test set.

    Rows are ordered by timestamp with a stable sort, and the last ``n_test`` rows of that order form
    the test set (``n_test = ceil(test_size * N)``, or ``test_size`` itself if it is an int). Hence no
    train interaction is later than any test interaction; among rows with the *same* timestamp at the
    boundary, those further down in the input go to test.

    Parameters
    ----------
    timestamps : (N,) numeric array
    test_size : float in (0, 1) or int in 1 .. N-1

    Returns
    -------
    train_idx, test_idx : int64 arrays, sorted ascending, disjoint, together ``0 .. N-1``.
    """
    times = _as_1d(timestamps, "timestamps", "temporal_split")
    n = len(times)
    n_test = _n_test(n, test_size, "temporal_split")
    order = np.argsort(times, kind="stable")
    return np.sort(order[: n - n_test]).astype(np.int64), np.sort(order[n - n_test :]).astype(np.int64)


# --------------------------------------------------------------------------------------------------
# Sequences (序列推荐): each user's items in time order, and the next-item split
# --------------------------------------------------------------------------------------------------
def sequences_by_user(user_ids, item_ids, timestamps, n_users=None):
    """Each user's items in time order: a list of ``n_users`` 1-D int64 arrays (empty for users without rows).

    Rows are ordered by (user, timestamp) with a stable sort, so rows with equal timestamps keep their
    order in the input. ``n_users`` defaults to ``max(user_ids) + 1``.

    How (vectorised): one ``np.lexsort``, then ``np.split`` at the users' boundaries (``np.bincount``).
    """
    func = "sequences_by_user"
    users = _as_1d(user_ids, "user_ids", func, integer=True)
    items = _as_1d(item_ids, "item_ids", func, integer=True)
    times = _as_1d(timestamps, "timestamps", func)
    if not len(users) == len(items) == len(times):
        raise ValueError(f"{func}: user_ids, item_ids and timestamps must have the same length, got "
                         f"{len(users)}, {len(items)} and {len(times)}")
    if len(users) and (users.min() < 0 or items.min() < 0):
        raise ValueError(f"{func}: ids must be >= 0, got user ids from {users.min()} and item ids from "
                         f"{items.min()}")
    top = int(users.max()) + 1 if len(users) else 0
    n_users = top if n_users is None else _positive_int(n_users, "n_users", func)
    if n_users < top:
        raise ValueError(f"{func}: n_users={n_users} but user_ids go up to {top - 1}")
    order = np.lexsort((times, users))
    counts = np.bincount(users, minlength=n_users)
    return np.split(items[order], np.cumsum(counts)[:-1])


def last_item_split(sequences, min_length=2):
    """Next-item split (下一个物品): each sequence's last item is the test target, the rest its history.

    Only sequences with at least ``min_length`` (>= 2) items take part. Returns
    ``(histories, targets, index)``: ``histories`` a list of 1-D int64 arrays (``seq[:-1]``, also what a
    model is fitted on), ``targets`` ``(n,)`` int64 (``seq[-1]``), ``index`` ``(n,)`` int64 the positions
    of those sequences in ``sequences`` (the user ids, for ``sequences_by_user`` output).

    This is the time-ordered protocol of GRU4Rec-style evaluation (Hidasi et al. 2016) per user: nothing
    from a user's future leaks into the training histories.
    """
    func = "last_item_split"
    if isinstance(sequences, (str, bytes)) or not isinstance(sequences, (list, tuple)):
        raise TypeError(f"{func}: sequences must be a list of 1-D integer arrays; got {type(sequences).__name__}")
    min_length = _positive_int(min_length, "min_length", func)
    if min_length < 2:
        raise ValueError(f"{func}: min_length must be >= 2 (one item to hold out, one to condition on); "
                         f"got {min_length}")
    index = [j for j, seq in enumerate(sequences) if np.ndim(seq) == 1 and len(seq) >= min_length]
    if not index:
        raise ValueError(f"{func}: no sequence has {min_length} or more items")
    histories = [np.asarray(sequences[j], dtype=np.int64)[:-1] for j in index]
    targets = np.array([sequences[j][-1] for j in index], dtype=np.int64)
    return histories, targets, np.array(index, dtype=np.int64)


# --------------------------------------------------------------------------------------------------
# Argument checking helpers
# --------------------------------------------------------------------------------------------------
def _as_1d(x, name, func, integer=False):
    """``x`` as a 1-D array (int64 if ``integer``), or a ValueError/TypeError naming the argument."""
    try:
        arr = np.asarray(x)
    except ValueError as err:  # ragged nested lists
        raise ValueError(f"{func}: {name} must be a 1-D array; {err}") from None
    if arr.ndim != 1:
        raise ValueError(f"{func}: {name} must be a 1-D array, got shape {arr.shape}")
    if integer:
        if arr.size == 0:
            return arr.astype(np.int64)
        if not np.issubdtype(arr.dtype, np.integer):
            raise TypeError(f"{func}: {name} must contain integers, got dtype {arr.dtype}")
        return arr.astype(np.int64)
    is_real = np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)
    if arr.size and not is_real:
        raise TypeError(f"{func}: {name} must be numeric, got dtype {arr.dtype}")
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        # A NaN sorts after every number, so it would pass for the latest interaction (and inf is no time).
        k = int(np.flatnonzero(~np.isfinite(arr))[0])
        raise ValueError(f"{func}: {name} must be finite; got {arr[k]} at index {k}")
    return arr


def _n_test(n, test_size, func):
    """Number of test rows: ``ceil(test_size * n)`` for a fraction, ``test_size`` for an int count."""
    if isinstance(test_size, bool):
        raise TypeError(f"{func}: test_size must be a float in (0, 1) or an int, got a bool")
    if isinstance(test_size, numbers.Integral):
        n_test = int(test_size)
        if not 1 <= n_test <= n - 1:
            raise ValueError(f"{func}: an int test_size must be in 1 .. n-1 = {n - 1}, got {n_test}")
        return n_test
    if isinstance(test_size, numbers.Real):
        if not 0.0 < test_size < 1.0:
            raise ValueError(f"{func}: a float test_size must be in (0, 1), got {test_size}")
        # The tiny epsilon stops float noise (e.g. 0.7 * 10 = 7.000000000000001) from adding a row.
        n_test = math.ceil(test_size * n - 1e-9)
        if not 1 <= n_test <= n - 1:
            raise ValueError(
                f"{func}: test_size={test_size} of n={n} rows gives {n_test} test rows; "
                f"need at least 1 test and 1 train row"
            )
        return n_test
    raise TypeError(f"{func}: test_size must be a float in (0, 1) or an int, got {type(test_size).__name__}")


def _positive_int(value, name, func):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{func}: {name} must be a positive int, got {value!r}")
    return int(value)
