"""Listening sessions (听歌序列) in which the **order** matters — data for next-item recommendation.

``make_sessions`` generates one listening history per user from a hidden Markov model (隐马尔可夫模型)
whose rules are known, so the best possible next-item prediction (the *oracle*) can be computed exactly
and compared with what popularity, a first-order Markov chain or a recurrent network achieve.

The generative story, for user ``u`` and position ``t = 0, 1, ..., L_u − 1``::

    taste      π_u ~ Dirichlet(taste_concentration · 1)               which genres u likes (hidden)
    mood       z_0 ~ π_u;   z_t = z_{t−1} with prob. ρ (stay_prob), else a fresh draw z_t ~ π_u
    repeat?    with prob. r (repeat_prob, for t ≥ 1): replay an earlier track of the session,
               track s < t chosen ∝ λ^{t−1−s} (recency_decay λ: the last tracks are the likeliest)
    otherwise  x_t ~ E(· | z_t) = (1 − ε)·w_i·[g_i = z_t] / W_{z_t} + ε·w_i / W      (ε = crossover)

``g_i`` is track ``i``'s genre, ``w_i`` its Zipf-like popularity (``W_z`` the total of genre ``z``, ``W``
of all). The mood ``z_t`` is never observed. Why these rules:

* **The last track only partly reveals the mood**: with probability ε a track comes from outside the
  current genre, and repeats reveal nothing. The whole history tells more (a filter over ``z``).
* **The user's taste π_u** decides where a mood switch goes; only the user's history shows it.
* **Repeats** reach back several tracks. A first-order Markov chain (下一个物品 from the last item only)
  sees none of this, so a model that remembers the history (an RNN / GRU) has room to beat it, while
  popularity ignores order altogether and is clearly the weakest.

The oracle (``next_item_probabilities``) is the exact predictive distribution
``P(x_{t+1} = i | x_0..x_t, π_u)``, computed with the forward algorithm (前向算法)::

    α_t(z) ∝ [ρ·α_{t−1}(z) + (1 − ρ)·π_u(z)] · ℓ_t(z),    ℓ_t(z) = r_t·R_t(x_t) + (1 − r_t)·E(x_t | z)
    P(x_{t+1} = i | ·) = r·R_{t+1}(i) + (1 − r)·Σ_z [ρ·α_t(z) + (1 − ρ)·π_u(z)]·E(i | z)

with ``α_{−1} = π_u`` and ``R_t(i) = Σ_{s<t, x_s=i} λ^{t−1−s} / Σ_{s<t} λ^{t−1−s}`` the repeat
distribution (``r_0 = 0``: nothing to repeat yet).
"""

from __future__ import annotations

import numpy as np

from .base import Bunch
from .synthetic import _activity_counts, _check_float, _check_int, _make_rng, _session_timestamps

__all__ = ["SESSION_GENRES", "make_sessions", "next_item_probabilities"]

#: Genre names of the session catalogue (one per hidden mood).
SESSION_GENRES = ["Rock", "Pop", "Hip-Hop", "Electronic", "Jazz", "Classical", "Country", "Metal"]

# Listening in 2021 (unix seconds, UTC).
_SESSIONS_START, _SESSIONS_END = 1_609_459_200, 1_640_995_199


def _emission_matrix(item_genres, popularity, n_genres, crossover):
    """``E (n_genres, n_items)``: ``E[z, i] = (1 − ε)·w_i·[g_i = z]/W_z + ε·w_i/W``; rows sum to 1."""
    in_genre = (item_genres[None, :] == np.arange(n_genres)[:, None]) * popularity[None, :]
    in_genre /= in_genre.sum(axis=1, keepdims=True)
    return (1.0 - crossover) * in_genre + crossover * (popularity / popularity.sum())[None, :]


def _repeat_weights(sequences_block, t, n_items, decay):
    """``R_t`` for a block of equal-length-so-far sequences: ``(n, t)`` ids → ``(n, n_items)``, rows sum to 1."""
    n = sequences_block.shape[0]
    weights = decay ** np.arange(t - 1, -1, -1, dtype=np.float64)  # (t,): λ^{t−1−s}
    out = np.zeros((n, n_items))
    np.add.at(out, (np.repeat(np.arange(n), t), sequences_block.reshape(-1)), np.tile(weights, n))
    return out / weights.sum()


def next_item_probabilities(truth, user_ids, histories):
    """The oracle: ``P(next track = i | history, the user's true taste)`` for each ``(user, history)``.

    Args:
        truth: the ``truth`` Bunch of ``make_sessions`` (``taste``, ``emission``, ``stay_prob``, ...).
        user_ids: ``(n,)`` the users the histories belong to (their taste ``π_u`` is used).
        histories: list of ``n`` 1-D int arrays, each a prefix ``x_0..x_t`` of that user's session, in time
            order (may be empty: then the prediction is the first track's distribution).

    Returns:
        ``(n, n_items)`` float64, each row a probability distribution (the forward algorithm of the module
        docstring, vectorised over histories of equal length).
    """
    owner = "next_item_probabilities"
    E, taste = truth.emission, truth.taste
    n_users, n_items = taste.shape[0], E.shape[1]
    users = np.asarray(user_ids)
    if users.ndim != 1 or users.dtype.kind not in "iu" or (users.size and (users.min() < 0
                                                                           or users.max() >= n_users)):
        raise ValueError(f"{owner}: user_ids must be a 1-D integer array with ids in [0, {n_users}).")
    if not isinstance(histories, (list, tuple)) or len(histories) != len(users):
        raise ValueError(f"{owner}: histories must be a list with one sequence per user id "
                         f"({len(users)}); got {type(histories).__name__} of length "
                         f"{len(histories) if hasattr(histories, '__len__') else '?'}.")
    hist = [np.asarray(h, dtype=np.int64).reshape(-1) for h in histories]
    for j, h in enumerate(hist):
        if h.size and (h.min() < 0 or h.max() >= n_items):
            raise ValueError(f"{owner}: histories[{j}] has item ids outside [0, {n_items}).")
    rho, r, decay = truth.stay_prob, truth.repeat_prob, truth.recency_decay
    lengths = np.array([len(h) for h in hist])
    out = np.empty((len(hist), n_items))
    for length in np.unique(lengths):  # histories of one length share every step: vectorise over them
        rows = np.flatnonzero(lengths == length)
        seqs = np.stack([hist[j] for j in rows]) if length else np.zeros((len(rows), 0), np.int64)
        pi = taste[users[rows]]  # (m, G)
        alpha = pi.copy()  # α_{−1}: before the first track the mood follows the taste
        for t in range(length):
            prior = rho * alpha + (1.0 - rho) * pi if t else pi  # P(z_t | x_<t)
            lik = E[:, seqs[:, t]].T  # (m, G): E(x_t | z)
            if t:
                rep = _repeat_weights(seqs[:, :t], t, n_items, decay)[np.arange(len(rows)), seqs[:, t]]
                lik = r * rep[:, None] + (1.0 - r) * lik
            alpha = prior * lik
            alpha /= alpha.sum(axis=1, keepdims=True)
        prior = rho * alpha + (1.0 - rho) * pi if length else pi
        probs = prior @ E
        if length:
            probs = r * _repeat_weights(seqs, length, n_items, decay) + (1.0 - r) * probs
        out[rows] = probs
    return out


def make_sessions(n_users=3000, n_items=400, mean_length=20, min_length=5, max_length=60, stay_prob=0.8,
                  repeat_prob=0.2, recency_decay=0.6, crossover=0.3, taste_concentration=0.3,
                  popularity_exponent=0.8, seed=0):
    """One listening session per user from a hidden Markov model of moods (see the module docstring).

    Args:
        n_users, n_items: sizes; tracks are spread evenly over the 8 genres of ``SESSION_GENRES``.
        mean_length, min_length, max_length: tracks per user (heavy-tailed, clipped to the range).
        stay_prob: ρ, the chance the mood stays from one track to the next.
        repeat_prob: r, the chance a track is a replay of an earlier one in the session.
        recency_decay: λ, how fast the chance of replaying a track fades with how long ago it played.
        crossover: ε, the share of tracks drawn from outside the current mood's genre.
        taste_concentration: Dirichlet concentration of each user's genre taste (small: a few favourites).
        popularity_exponent: Zipf exponent of track popularity ``w_i ∝ (rank + 5)^−s``.
        seed: int or ``numpy.random.Generator``.

    Returns a ``Bunch``: ``user_ids``, ``item_ids``, ``timestamps`` (int64; rows sorted by user then time,
    timestamps strictly increasing within a user), ``n_users``, ``n_items``, ``item_genres`` (int64
    ``(n_items,)``, index into ``genre_names``), ``genre_names``, ``description`` and ``truth``:
    ``taste`` π ``(n_users, 8)``, ``emission`` E ``(8, n_items)``, ``popularity`` w ``(n_items,)``,
    ``stay_prob``, ``repeat_prob``, ``recency_decay``, ``crossover``, ``moods`` z (one per row),
    ``is_repeat`` (one per row), and ``last_item_probs`` ``(n_users, n_items)``: the oracle's
    distribution of each user's **last** track given all the earlier ones (the test of
    ``tinyrec.datasets.last_item_split``).
    """
    func = "make_sessions"
    n_users = _check_int(func, "n_users", n_users, 1)
    n_items = _check_int(func, "n_items", n_items, len(SESSION_GENRES))
    min_length = _check_int(func, "min_length", min_length, 2)
    max_length = _check_int(func, "max_length", max_length, min_length)
    mean_length = _check_float(func, "mean_length", mean_length, min_length, max_length)
    stay_prob = _check_float(func, "stay_prob", stay_prob, 0.0, 1.0)
    repeat_prob = _check_float(func, "repeat_prob", repeat_prob, 0.0, 0.9)
    recency_decay = _check_float(func, "recency_decay", recency_decay, 0.01, 1.0)
    crossover = _check_float(func, "crossover", crossover, 0.0, 1.0)
    taste_concentration = _check_float(func, "taste_concentration", taste_concentration, 0.01, 100.0)
    popularity_exponent = _check_float(func, "popularity_exponent", popularity_exponent, 0.0, 5.0)
    rng = _make_rng(seed, func)
    n_genres = len(SESSION_GENRES)

    # Catalogue: genres in equal shares (shuffled), Zipf-like popularity with random ranks.
    item_genres = rng.permutation(np.arange(n_items) % n_genres).astype(np.int64)
    rank = rng.permutation(n_items)
    popularity = (rank + 5.0) ** -popularity_exponent
    popularity /= popularity.sum()
    E = _emission_matrix(item_genres, popularity, n_genres, crossover)
    cdf_E = np.cumsum(E, axis=1)

    taste = rng.dirichlet(np.full(n_genres, taste_concentration), size=n_users)  # (U, G)
    cdf_taste = np.cumsum(taste, axis=1)
    lengths = _activity_counts(rng, n_users, int(round(mean_length * n_users)), min_length, max_length, 1.0)

    # Simulate all users step by step (vectorised over users still listening at step t).
    T = int(lengths.max())
    items = np.zeros((n_users, T), dtype=np.int64)
    moods = np.zeros((n_users, T), dtype=np.int64)
    repeats = np.zeros((n_users, T), dtype=bool)

    def draw(cdf, rows):  # one categorical draw per row of a (m, K) CDF
        u = rng.random(len(rows))[:, None] * cdf[:, -1:]
        return np.minimum((cdf < u).sum(axis=1), cdf.shape[1] - 1)

    z = draw(cdf_taste, np.arange(n_users))
    for t in range(T):
        if t:
            switch = rng.random(n_users) >= stay_prob
            z = np.where(switch, draw(cdf_taste, np.arange(n_users)), z)
        moods[:, t] = z
        fresh = draw(cdf_E[z], np.arange(n_users))
        if t:
            weights = np.cumsum(recency_decay ** np.arange(t - 1, -1, -1, dtype=np.float64))
            back = np.minimum(np.searchsorted(weights, rng.random(n_users) * weights[-1], side="right"), t - 1)
            is_rep = rng.random(n_users) < repeat_prob
            items[:, t] = np.where(is_rep, items[np.arange(n_users), back], fresh)
            repeats[:, t] = is_rep
        else:
            items[:, t] = fresh
    keep = np.arange(T)[None, :] < lengths[:, None]
    user_ids = np.repeat(np.arange(n_users, dtype=np.int64), lengths)
    item_ids = items[keep]
    timestamps = _session_timestamps(rng, user_ids, _SESSIONS_START, _SESSIONS_END, within_mean=210.0,
                                     between_mean=2 * 86_400.0, p_new_session=0.05)

    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    last_histories = [item_ids[s:s + n - 1] for s, n in zip(starts, lengths)]
    truth = Bunch(taste=taste, emission=E, popularity=popularity, stay_prob=stay_prob,
                  repeat_prob=repeat_prob, recency_decay=recency_decay, crossover=crossover,
                  moods=moods[keep], is_repeat=repeats[keep], last_item_probs=None)
    truth.last_item_probs = next_item_probabilities(truth, np.arange(n_users), last_histories)
    description = (
        f"Synthetic listening sessions: {n_users} users, {n_items} tracks in {n_genres} genres, "
        f"{len(item_ids)} plays in time order; a hidden mood (genre) drifts as a Markov chain "
        f"(stay {stay_prob:.0%}), {repeat_prob:.0%} replays of earlier tracks. Ground truth in .truth."
    )
    return Bunch(user_ids=user_ids, item_ids=item_ids, timestamps=timestamps, n_users=n_users,
                 n_items=n_items, item_genres=item_genres, genre_names=list(SESSION_GENRES), truth=truth,
                 description=description)
