"""Count-based next-item baselines (基线): popularity and a first-order Markov chain (马尔可夫链).

Both are ``SequenceRecommender`` s: ``fit(sequences)`` on each user's items in time order, then
``score_next(histories) -> (n, n_items)``. No gradients — they count.

``SequencePopularity``: ``score(i) = c_i``, how often item ``i`` was played as the *next* item (every
position but the first of each training sequence). Ignores the history; every model must beat it.

``MarkovChain``: "people who played ``a`` next played ``b``". From the transition counts
``C[a, b] = #{(t, seq) : seq[t] = a, seq[t+1] = b}`` and the popularity ``p_b = c_b / Σ c``::

    P(b | last item a) = (C[a, b] + α·p_b) / (Σ_b' C[a, b'] + α)

a Dirichlet prior of strength ``α`` (``smoothing``) centred on popularity: a well-observed row follows
its counts, a rarely seen ``a`` backs off to popularity, and an ``a`` never followed by anything (or an
empty history) gets popularity itself. Only the last item of a history matters — the first-order Markov
property. (Rendle et al. 2010, "Factorizing Personalized Markov Chains", is the classic model that
factorises this table; here it is counted directly.)

The counts are kept sparse (CSR over the unique ``(a, b)`` keys ``a·n_items + b``, built with
``np.unique``), so memory grows with the number of distinct transitions, not ``n_items²``.
"""

from __future__ import annotations

import numpy as np

from .. import _checks
from .sequential import SequenceRecommender


def _transitions(sequences):
    """All consecutive pairs ``(a, b)`` of every sequence: two ``(T,)`` int64 arrays (vectorised)."""
    lengths = np.array([len(s) for s in sequences])
    if lengths.sum() == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    flat = np.concatenate(sequences)
    # a pair (flat[j], flat[j+1]) is a transition unless flat[j] is the last item of its sequence
    ends = np.cumsum(lengths)[lengths > 0] - 1
    is_start = np.ones(len(flat), dtype=bool)
    is_start[ends] = False
    src = np.flatnonzero(is_start[:-1])
    return flat[src], flat[src + 1]


def _next_item_counts(sequences, n_items):
    """``c (n_items,)``: how often each item appears at a position > 0 of a sequence."""
    heads = [s[1:] for s in sequences if len(s) > 1]
    return np.bincount(np.concatenate(heads) if heads else np.zeros(0, np.int64),
                       minlength=n_items).astype(np.float64)


class SequencePopularity(SequenceRecommender):
    """Most played next items: ``score(i) = c_i`` for every history (see the module docstring).

    Shapes: ``histories`` (n sequences) → scores ``(n, n_items)`` (the same row for everyone).
    Fitted state: ``item_counts (n_items,)`` = ``c``.
    """

    def _fit(self, sequences):
        counts = _next_item_counts(sequences, self.n_items)
        self.item_counts = counts

    def _score(self, histories):
        return np.broadcast_to(self.item_counts, (len(histories), self.n_items)).copy()

    # -- whole-model saving (tinyrec.saving) ---------------------------------------------------
    def get_config(self):
        return {"n_items": self.n_items}

    def _fitted_state(self):
        return {"fitted": self.fitted}, ({"item_counts": self.item_counts} if self.fitted else {})

    def _set_fitted_state(self, scalars, arrays):
        self.fitted = bool(scalars.get("fitted", False))
        if self.fitted:
            counts = np.asarray(arrays["item_counts"], dtype=np.float64)
            if counts.shape != (self.n_items,) or counts.min() < 0:
                raise ValueError("SequencePopularity: the saved item_counts are inconsistent.")
            self.item_counts = counts


class MarkovChain(SequenceRecommender):
    """First-order Markov chain with popularity backoff: ``P(b | a) = (C[a,b] + α p_b) / (C[a,·] + α)``.

    Args:
        n_items: item ids are ``0..n_items-1``.
        smoothing: ``α >= 0``, the weight (in pseudo-transitions) of the popularity prior. ``α = 0``
            gives the raw transition frequencies (popularity only for rows without counts).

    Fitted state: ``indptr (n_items + 1,)``, ``next_items``, ``counts`` — row ``a`` of ``C`` is
    ``next_items[indptr[a]:indptr[a+1]]`` with ``counts[...]``; ``row_totals (n_items,)`` = ``C[a,·]``;
    ``popularity (n_items,)`` = ``p``.
    """

    def __init__(self, n_items, smoothing=1.0):
        super().__init__(n_items)
        self.smoothing = _checks.non_negative("MarkovChain", "smoothing", smoothing)

    def _fit(self, sequences):
        n = self.n_items
        src, dst = _transitions(sequences)
        keys, counts = np.unique(src * n + dst, return_counts=True)  # sorted: grouped by source item
        rows = keys // n
        self.indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=n))]).astype(np.int64)
        self.next_items = (keys % n).astype(np.int64)
        self.counts = counts.astype(np.float64)
        self.row_totals = np.bincount(rows, weights=self.counts, minlength=n)
        pop = _next_item_counts(sequences, n)
        # With no training transitions at all, the prior is uniform (every item equally likely).
        self.popularity = pop / pop.sum() if pop.sum() > 0 else np.full(n, 1.0 / n)

    def transition_probabilities(self, items):
        """``P(· | a)`` for each ``a`` in ``items``: ``(len(items), n_items)``, rows summing to 1."""
        items = _checks.check_ids("MarkovChain.transition_probabilities", "items", items, self.n_items)
        alpha = self.smoothing
        out = np.broadcast_to(alpha * self.popularity, (len(items), self.n_items)).copy()
        # Scatter each row's sparse counts: rows r of the output, entries indptr[a_r]..indptr[a_r + 1].
        start, stop = self.indptr[items], self.indptr[items + 1]
        sizes = stop - start
        rows = np.repeat(np.arange(len(items)), sizes)
        entries = np.repeat(start - np.cumsum(sizes) + sizes, sizes) + np.arange(sizes.sum())
        out[rows, self.next_items[entries]] += self.counts[entries]
        total = self.row_totals[items] + alpha
        seen = total > 0
        out[seen] /= total[seen, None]
        out[~seen] = self.popularity  # α = 0 and a never followed by anything: back off completely
        return out

    # -- whole-model saving (tinyrec.saving) ---------------------------------------------------
    _STATE = ("indptr", "next_items", "counts", "row_totals", "popularity")

    def get_config(self):
        return {"n_items": self.n_items, "smoothing": self.smoothing}

    def _fitted_state(self):
        arrays = {key: getattr(self, key) for key in self._STATE} if self.fitted else {}
        return {"fitted": self.fitted}, arrays

    def _set_fitted_state(self, scalars, arrays):
        self.fitted = bool(scalars.get("fitted", False))
        if not self.fitted:
            return
        indptr = np.asarray(arrays["indptr"], dtype=np.int64)
        next_items = np.asarray(arrays["next_items"], dtype=np.int64)
        counts = np.asarray(arrays["counts"], dtype=np.float64)
        n = self.n_items
        if (indptr.shape != (n + 1,) or indptr[0] != 0 or indptr[-1] != len(next_items)
                or np.any(np.diff(indptr) < 0) or counts.shape != next_items.shape
                or (len(next_items) and (next_items.min() < 0 or next_items.max() >= n))
                or np.shape(arrays["row_totals"]) != (n,) or np.shape(arrays["popularity"]) != (n,)):
            raise ValueError("MarkovChain: the saved transition table is inconsistent.")
        self.indptr, self.next_items, self.counts = indptr, next_items, counts
        self.row_totals = np.asarray(arrays["row_totals"], dtype=np.float64)
        self.popularity = np.asarray(arrays["popularity"], dtype=np.float64)

    def _score(self, histories):
        has_last = np.array([len(h) > 0 for h in histories])
        scores = np.broadcast_to(self.popularity, (len(histories), self.n_items)).copy()
        if has_last.any():
            last = np.array([h[-1] for h, ok in zip(histories, has_last) if ok], dtype=np.int64)
            scores[has_last] = self.transition_probabilities(last)
        return scores
