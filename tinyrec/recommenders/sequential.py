"""``SequenceRecommender``: the shape every next-item (序列推荐 / 下一个物品) recommender shares.

A user's history is a sequence of item ids in time order; a next-item model scores every item of the
catalogue as the *next* one. One interface, whatever is inside (popularity, a first-order Markov chain, an
MLP over a window, a 1-D CNN, a GRU):

* ``fit(sequences) -> self`` — ``sequences``: a list of 1-D integer arrays, one per user (or session), each in
  time order, item ids in ``[0, n_items)``. The training ``History`` (for gradient-trained models) is kept
  in ``model.history`` (scikit-learn's convention: ``fit`` returns the model).
* ``score_next(histories) -> (len(histories), n_items)`` — a score for every item as the next one.
* ``recommend(histories, k=10, exclude_seen=False) -> (items (n, k) int64, scores (n, k))`` — the top ``k``,
  best first; with ``exclude_seen`` the items already in each history are skipped (off by default: music
  and shopping repeat, so a repeat can be the right answer).

A subclass writes ``_fit(sequences)`` and ``_score(histories)`` on already-checked lists of int64 arrays.
"""

from __future__ import annotations

import numpy as np

from .. import _checks


def check_sequences(owner, arg, sequences, n_items, allow_empty_sequence=True):
    """``sequences`` as a list of 1-D int64 arrays with ids in ``[0, n_items)``, or a clear error.

    Accepts a list/tuple of sequences (lists or arrays) or a 2-D integer array (one row per sequence).
    """
    if isinstance(sequences, np.ndarray) and sequences.ndim == 2:
        sequences = list(sequences)
    if isinstance(sequences, (str, bytes)) or not isinstance(sequences, (list, tuple)):
        raise TypeError(f"{owner}: {arg} must be a list of 1-D integer arrays (one per user); "
                        f"got {type(sequences).__name__}.")
    out = []
    for j, seq in enumerate(sequences):
        ids = _checks.check_ids(owner, f"{arg}[{j}]", np.asarray(seq).reshape(-1) if np.ndim(seq) == 0
                                else seq, n_items)
        if not allow_empty_sequence and len(ids) == 0:
            raise ValueError(f"{owner}: {arg}[{j}] is empty; every sequence needs at least one item.")
        out.append(ids)
    if not out:
        raise ValueError(f"{owner}: {arg} is empty (no sequences).")
    return out


class SequenceRecommender:
    """Base class of next-item recommenders; see the module docstring.

    Args:
        n_items: item ids are ``0..n_items-1``.
    """

    def __init__(self, n_items):
        self.n_items = _checks.positive_int(type(self).__name__, "n_items", n_items)
        self.fitted = False
        self.history = None

    # -- to be provided by subclasses ------------------------------------------------------------
    def _fit(self, sequences):
        raise NotImplementedError

    def _score(self, histories):
        raise NotImplementedError

    def save(self, path):
        """Save the whole model (configuration, weights, fitted state) to one file; read it back with
        ``tinyrec.saving.load_model(path)``."""
        from ..saving import save_model
        return save_model(self, path)

    # -- the public interface -------------------------------------------------------------------
    def fit(self, sequences, **kwargs):
        """Learn from ``sequences`` (list of 1-D int arrays in time order); returns ``self``."""
        seqs = check_sequences(f"{type(self).__name__}.fit", "sequences", sequences, self.n_items)
        self._fit(seqs, **kwargs)
        self.fitted = True
        return self

    def score_next(self, histories):
        """Scores of every item as the next one, ``(len(histories), n_items)`` float64."""
        owner = f"{type(self).__name__}.score_next"
        if not self.fitted:
            raise RuntimeError(f"{owner}: call fit first.")
        hist = check_sequences(owner, "histories", histories, self.n_items)
        return np.asarray(self._score(hist), dtype=np.float64)

    def recommend(self, histories, k=10, exclude_seen=False):
        """Top-``k`` next items per history: ``(items (n, k) int64, scores (n, k))``, best first."""
        owner = f"{type(self).__name__}.recommend"
        k = _checks.integer(owner, "k", k, minimum=1, maximum=self.n_items)
        exclude_seen = _checks.flag(owner, "exclude_seen", exclude_seen)
        scores = self.score_next(histories)
        if exclude_seen:
            hist = check_sequences(owner, "histories", histories, self.n_items)
            rows = np.repeat(np.arange(len(hist)), [len(h) for h in hist])
            scores[rows, np.concatenate(hist) if hist else np.zeros(0, np.int64)] = -np.inf
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        top_scores = np.take_along_axis(scores, top, axis=1)
        order = np.argsort(-top_scores, axis=1, kind="stable")
        return np.take_along_axis(top, order, axis=1), np.take_along_axis(top_scores, order, axis=1)
