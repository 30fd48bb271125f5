"""Interactions (交互) between users and items: which items each user has seen, and negative sampling (负采样).

Shared by the recommenders (``recommend(exclude_seen=True)``, NeuMF's training negatives, ranking
evaluation) and the datasets, so it sits on the lowest floor and imports neither of them.

Interaction data is stored as parallel 1-D arrays, one entry per interaction ``k``: ``user_ids[k]``,
``item_ids[k]``. Everything here is vectorised with NumPy (no Python loop per interaction or per user).
"""

from __future__ import annotations

import numbers

import numpy as np

from ._checks import as_rng, flag

__all__ = ["sample_negatives", "seen_items"]

#: After this many rejection rounds, the few rows still unfinished are drawn from an explicit list of the
#: user's unseen items (only users who have seen most of the catalogue ever get here).
_MAX_REJECTION_ROUNDS = 50


# --------------------------------------------------------------------------------------------------
# Negative sampling
# --------------------------------------------------------------------------------------------------
def sample_negatives(user_ids, n_items, n_negatives, seen_user_ids, seen_item_ids, seed=0, distinct=False):
    """Draw items each user has *not* interacted with (negative sampling, 负采样).

    With implicit feedback (隐式反馈) we only observe positives (items a user watched); a common trick is to
    treat random unseen items as negatives. For row ``r`` the result holds ``n_negatives`` item ids drawn
    uniformly from the items that ``user_ids[r]`` never interacted with, according to the pairs
    ``(seen_user_ids[k], seen_item_ids[k])``.

    How (vectorised rejection sampling): every pair is encoded as one integer key ``u * n_items + i``;
    the seen keys are sorted once (``np.unique``), and membership of a whole matrix of candidate keys is
    tested with one ``np.searchsorted``. Only the rejected entries are redrawn (and only their rows
    re-checked), in a loop whose length depends on how dense the data is, not on the number of users.
    Rows still unfinished after 50 rounds (users who have seen nearly every item) are drawn from an
    explicit list of their unseen items.

    Parameters
    ----------
    user_ids : (M,) integer array
        The user of each output row (repeats allowed, e.g. one row per training positive).
    n_items : int
        Item ids are ``0 .. n_items-1``.
    n_negatives : int >= 0
        Number of negatives per row.
    seen_user_ids, seen_item_ids : (K,) integer arrays
        The interactions that must never be returned as negatives (duplicates are fine).
    seed : int or numpy.random.Generator
    distinct : bool
        If True, no item repeats within a row (needed e.g. for "rank the test item among 99 sampled
        negatives"); if False, rows are independent draws with replacement (fine for training).

    Returns
    -------
    negatives : int64 array of shape (M, n_negatives).

    Raises
    ------
    ValueError
        Bad shapes or ids, or a user for whom the request is impossible (fewer unseen items than
        ``n_negatives`` with ``distinct=True``, or no unseen item at all).
    """
    func = "sample_negatives"
    distinct = flag(func, "distinct", distinct)
    n_items = _positive_int(n_items, "n_items", func)
    if isinstance(n_negatives, bool) or not isinstance(n_negatives, numbers.Integral) or n_negatives < 0:
        raise ValueError(f"{func}: n_negatives must be an int >= 0, got {n_negatives!r}")
    n_negatives = int(n_negatives)
    users = _as_1d(user_ids, "user_ids", func)
    if users.size and users.min() < 0:
        raise ValueError(f"{func}: user_ids must be >= 0, got {users.min()}")
    _check_key_range(users, n_items, func)
    keys = _pair_keys(seen_user_ids, seen_item_ids, None, n_items, func)
    rng = _as_rng(seed, func)

    m, k = len(users), n_negatives
    if m == 0 or k == 0:
        return np.zeros((m, k), dtype=np.int64)

    # How many items each requested user has seen: the keys of user u fill [u*n_items, (u+1)*n_items).
    base = users * n_items
    lo = np.searchsorted(keys, base)
    hi = np.searchsorted(keys, base + n_items)
    n_free = n_items - (hi - lo)
    need = k if distinct else 1
    impossible = n_free < need
    if impossible.any():
        r = int(np.argmax(impossible))
        what = f"{k} distinct negatives" if distinct else "a negative"
        raise ValueError(
            f"{func}: cannot draw {what} for user {users[r]}: they interacted with "
            f"{n_items - n_free[r]} of the {n_items} items, leaving {n_free[r]} unseen"
        )

    negatives = rng.integers(0, n_items, size=(m, k), dtype=np.int64)
    # `rows` lists the rows that still hold rejected entries and `rejected` is their (len(rows), k) mask.
    # Each round only those rows are redrawn and re-checked, so the work shrinks geometrically.
    rows = np.arange(m)
    rejected = _rejected(negatives, base, keys, distinct)
    for _ in range(_MAX_REJECTION_ROUNDS):
        unfinished = rejected.any(axis=1)
        rows, rejected = rows[unfinished], rejected[unfinished]
        if len(rows) == 0:
            break
        block = negatives[rows]
        block[rejected] = rng.integers(0, n_items, size=int(rejected.sum()), dtype=np.int64)
        negatives[rows] = block
        rejected = _rejected(block, base[rows], keys, distinct)

    # Safety net for very dense users: draw the missing entries from the explicit list of unseen items.
    # This loops over the (few) unfinished rows only, and cannot fail thanks to the check above.
    for j in np.flatnonzero(rejected.any(axis=1)):
        r, bad = rows[j], rejected[j]
        seen = keys[lo[r] : hi[r]] - base[r]
        pool = np.setdiff1d(np.arange(n_items), seen)
        if distinct:
            pool = np.setdiff1d(pool, negatives[r, ~bad])
        negatives[r, bad] = rng.choice(pool, size=int(bad.sum()), replace=not distinct)
    return negatives


def _rejected(negatives, base, keys, distinct):
    """Boolean (M, k) mask of entries to redraw: seen by the row's user, or (if distinct) a repeat.

    ``base[r] = user * n_items``, so ``base[:, None] + negatives`` are the pair keys to look up.
    """
    query = base[:, None] + negatives
    if len(keys):
        pos = np.minimum(np.searchsorted(keys, query), len(keys) - 1)
        bad = keys[pos] == query
    else:
        bad = np.zeros(negatives.shape, dtype=bool)
    if distinct and negatives.shape[1] > 1:
        # Sort each row (stable, so equal ids stay in position order); an id equal to its left neighbour
        # in sorted order is a repeat, and we reject it at its original position. The first copy stays.
        order = np.argsort(negatives, axis=1, kind="stable")
        sorted_rows = np.take_along_axis(negatives, order, axis=1)
        repeat = np.zeros(negatives.shape, dtype=bool)
        np.put_along_axis(repeat, order[:, 1:], sorted_rows[:, 1:] == sorted_rows[:, :-1], axis=1)
        bad |= repeat
    return bad


def seen_items(user_ids, item_ids, n_users, n_items):
    """Each user's interacted items in compressed sparse row (CSR) form.

    Returns ``(indptr, indices)``, both int64:

    - ``indptr`` has shape ``(n_users + 1,)``, with ``indptr[0] == 0`` and ``indptr[-1] == len(indices)``;
    - the items of user ``u`` are ``indices[indptr[u] : indptr[u + 1]]``, sorted ascending, each once
      (repeated interactions with the same item are counted once); a user with none has an empty slice.

    This is the format of ``scipy.sparse.csr_matrix`` without the data array. It is what
    ``recommend(exclude_seen=True)`` needs to mask already-watched items.

    Parameters
    ----------
    user_ids, item_ids : (K,) integer arrays, users in ``0 .. n_users-1``, items in ``0 .. n_items-1``.
    n_users, n_items : int
    """
    func = "seen_items"
    n_users = _positive_int(n_users, "n_users", func)
    n_items = _positive_int(n_items, "n_items", func)
    if n_users * n_items >= 2**63:
        raise ValueError(f"{func}: n_users * n_items = {n_users} * {n_items} is too large to encode (user, item) "
                         "pairs in 64-bit integers.")
    keys = _pair_keys(user_ids, item_ids, n_users, n_items, func)
    counts = np.bincount(keys // n_items, minlength=n_users)
    indptr = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    return indptr, (keys % n_items).astype(np.int64)


def _pair_keys(user_ids, item_ids, n_users, n_items, func):
    """Sorted unique int64 keys ``u * n_items + i`` of the (user, item) pairs, after checking the ids."""
    users = _as_1d(user_ids, "seen user_ids", func)
    items = _as_1d(item_ids, "seen item_ids", func)
    if len(users) != len(items):
        raise ValueError(
            f"{func}: user and item id arrays must have the same length, got {len(users)} and {len(items)}"
        )
    if len(users):
        if users.min() < 0 or (n_users is not None and users.max() >= n_users):
            limit = f"0 .. {n_users - 1}" if n_users is not None else ">= 0"
            raise ValueError(f"{func}: user ids must be {limit}, got range {users.min()} .. {users.max()}")
        if items.min() < 0 or items.max() >= n_items:
            raise ValueError(
                f"{func}: item ids must be 0 .. {n_items - 1}, got range {items.min()} .. {items.max()}"
            )
    _check_key_range(users, n_items, func)
    return np.unique(users * n_items + items)


def _check_key_range(users, n_items, func):
    """Pairs are encoded as ``u * n_items + i`` in int64: refuse sizes whose keys would overflow."""
    if len(users) and (int(users.max()) + 1) * n_items >= 2**63:
        raise ValueError(f"{func}: n_items={n_items} with user ids up to {int(users.max())} is too large to "
                         "encode (user, item) pairs in 64-bit integers.")



def _as_1d(x, name, func):
    """``x`` as a 1-D int64 array of ids, or a ValueError/TypeError naming the argument."""
    try:
        arr = np.asarray(x)
    except ValueError as err:
        raise ValueError(f"{func}: {name} must be a 1-D array of integer ids; {err}") from None
    if arr.ndim != 1:
        raise ValueError(f"{func}: {name} must be a 1-D array, got shape {arr.shape}")
    if arr.size == 0:
        return arr.astype(np.int64)
    if not np.issubdtype(arr.dtype, np.integer) or arr.dtype.kind == "b":
        raise TypeError(f"{func}: {name} must contain integers, got dtype {arr.dtype}")
    return arr.astype(np.int64)


def _positive_int(value, name, func):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{func}: {name} must be a positive int, got {value!r}")
    return int(value)


def _as_rng(seed, func):
    return as_rng(seed, func)
