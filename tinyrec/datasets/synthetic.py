"""Seeded synthetic datasets (合成数据集) for the four scenarios of the course, each with its ground truth.

===================  ==========================  =====================================================
function             scenario                    what a row is
===================  ==========================  =====================================================
``make_movies``      viewing history (观影记录)   an explicit 1–5 star rating, shaped like MovieLens 100K
``make_products``    purchase history (购买记录)  an implicit purchase (positives only)
``make_music``       play history (播放记录)      how many times a user played a track
``make_ads``         click history (点击记录)     one ad impression: the user's history, context, click
===================  ==========================  =====================================================

Why synthetic data with ground truth? On real data nobody knows how good the best possible model is.
Here the rules that made the data are known, so a notebook can compare a trained model with the
*best achievable* one: the noise floor of a rating predictor, the oracle ranking of a recommender, the
Bayes accuracy of a click model. Every generator takes ``seed`` (an int or a ``numpy.random.Generator``)
and is deterministic given it; ids are 0-based ``int64``; each returns a ``Bunch`` with the data, a short
``description`` and a ``truth`` Bunch.

The three interaction generators share one recipe (a latent-factor model, 隐因子模型):

* users get factors ``p_u`` and items get factors ``q_i`` (items of one genre/category lie near a
  common centre, so learned embeddings show that structure);
* how many rows each user has is heavy-tailed (a few very active users, many light ones);
* which items a user touches is a draw **without replacement** with probability ∝ ``exp(logit[u, i])``,
  where ``logit`` mixes item popularity (Zipf-like, so a long tail 长尾) with ``p_u · q_i``;
* timestamps come in sessions: short gaps inside a session, days between sessions.
"""

from __future__ import annotations

import numbers

import numpy as np

from .base import Bunch

__all__ = [
    "MOVIE_GENRES",
    "PRODUCT_CATEGORIES",
    "MUSIC_GENRES",
    "AD_CATEGORIES",
    "make_movies",
    "make_products",
    "make_music",
    "make_ads",
]

# ---------------------------------------------------------------------------------------------------------
# Argument checks and small numerical helpers
# ---------------------------------------------------------------------------------------------------------


def _make_rng(seed, func):
    """``numpy.random.Generator`` from an int seed, or the Generator itself (then it is advanced)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"{func}: seed must be an int or a numpy.random.Generator; got {type(seed).__name__}.")
    if seed < 0:
        raise ValueError(f"{func}: seed must be >= 0; got {seed}.")
    return np.random.default_rng(int(seed))


def _check_int(func, name, value, minimum):
    """Return ``value`` as an int after checking it is an integer >= ``minimum``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{func}: {name} must be an integer; got {type(value).__name__} {value!r}.")
    if value < minimum:
        raise ValueError(f"{func}: {name} must be >= {minimum}; got {value}.")
    return int(value)


def _check_float(func, name, value, low, high):
    """Return ``value`` as a float after checking ``low <= value <= high`` (and that it is finite)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{func}: {name} must be a number; got {type(value).__name__} {value!r}.")
    value = float(value)
    if not (np.isfinite(value) and low <= value <= high):
        raise ValueError(f"{func}: {name} must be in [{low}, {high}]; got {value}.")
    return value


def _check_interactions(func, name, total, n_users, n_items, minimum):
    """Check that ``total`` rows fit: at least ``minimum`` per user, at most one per (user, item) pair."""
    if minimum > n_items:
        raise ValueError(f"{func}: every user needs {minimum} distinct items but n_items is only {n_items}.")
    if total > n_users * n_items:
        raise ValueError(
            f"{func}: {name}={total} is more than n_users * n_items = {n_users * n_items}, "
            "the number of distinct (user, item) pairs."
        )
    if total < minimum * n_users:
        raise ValueError(
            f"{func}: {name}={total} is fewer than {minimum} per user * n_users = {minimum * n_users}."
        )


def _normal_cdf(x):
    """Standard normal CDF ``Φ(x) = ½·erfc(−x/√2)``, elementwise; ``x`` any shape → same shape, float64.

    NumPy has no ``erf``, so ``erfc`` comes from the Chebyshev-fitted formula in *Numerical Recipes*
    (Press et al., 2nd ed., §6.2, ``erfcc``), whose relative error is below 1.2e-7 for every ``x``:
    ``erfc(z) ≈ t·exp(−z² + P(t))`` with ``t = 1 / (1 + z/2)`` for ``z >= 0``, and
    ``erfc(−z) = 2 − erfc(z)``.
    """
    z = -np.asarray(x, dtype=np.float64) / np.sqrt(2.0)
    a = np.abs(z)
    t = 1.0 / (1.0 + 0.5 * a)
    coefs = (-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806,
             0.27886807, -1.13520398, 1.48851587, -0.82215223, 0.17087277)
    poly = np.zeros_like(t)
    for c in coefs[::-1]:  # Horner's rule, highest power first
        poly = poly * t + c
    erfc_a = t * np.exp(-a * a + poly)
    erfc_z = np.where(z >= 0, erfc_a, 2.0 - erfc_a)
    return 0.5 * erfc_z


def _sigmoid(x):
    """Logistic function ``σ(x) = 1 / (1 + e^{−x}) = ½·(1 + tanh(x/2))``; the tanh form never overflows."""
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(x, dtype=np.float64)))


def _activity_counts(rng, n_users, total, minimum, maximum, sigma):
    """How many rows each user gets: heavy-tailed, each in ``[minimum, maximum]``, summing to ``total``.

    ``count_u ≈ minimum + c·a_u`` with ``a_u ~ LogNormal(0, sigma²)``; ``c`` is found by bisection so the
    clipped counts sum to ``total``; rounding leftovers go to the users with the largest fractions.
    Returns ``(n_users,)`` int64.
    """
    raw = rng.lognormal(0.0, sigma, size=n_users)

    def filled(c):
        return np.minimum(minimum + c * raw, maximum)

    lo, hi = 0.0, 1.0
    while filled(hi).sum() < total and hi < 1e12:  # grow the bracket until it holds the answer
        hi *= 2.0
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if filled(mid).sum() < total else (lo, mid)
    x = filled(hi)
    counts = np.floor(x).astype(np.int64)
    counts = np.minimum(counts, maximum)
    short = int(total - counts.sum())
    if short > 0:  # hand out the rounding leftovers, largest fractional part first
        frac = np.where(counts < maximum, x - counts, -1.0)
        counts[np.argsort(-frac, kind="stable")[:short]] += 1
    elif short < 0:  # bisection overshot by rounding: take back from the most active users
        counts[np.argsort(-counts, kind="stable")[:-short]] -= 1
    return counts


def _draw_items(rng, logits_fn, counts, n_items, block=256):
    """For each user ``u`` draw ``counts[u]`` distinct items, item ``i`` with weight ``exp(logits[u, i])``.

    The Gumbel-top-k trick (Gumbel 技巧): adding independent Gumbel noise to the logits and keeping the
    ``k`` largest gives exactly ``k`` successive draws without replacement, each ∝ ``exp(logit)``
    among the items still left (the Plackett–Luce model). ``logits_fn(start, stop)`` returns the
    ``(stop − start, n_items)`` logits of a block of users, so memory stays bounded.
    Returns ``(user_ids, item_ids)``, both ``(counts.sum(),)`` int64, grouped by user.
    """
    users, items = [], []
    for start in range(0, len(counts), block):
        stop = min(start + block, len(counts))
        keys = logits_fn(start, stop) + rng.gumbel(size=(stop - start, n_items))
        order = np.argsort(-keys, axis=1, kind="stable")
        rows, ranks = np.nonzero(np.arange(n_items)[None, :] < counts[start:stop, None])
        users.append(rows + start)
        items.append(order[rows, ranks])
    return np.concatenate(users).astype(np.int64), np.concatenate(items).astype(np.int64)


def _zipf_log_popularity(rng, n_items, exponent, offset, score=None, corr=0.0):
    """Log-popularity ``−exponent·log(rank + offset)`` of each item: a Zipf-like long tail.

    Ranks are random, or, when ``score`` (n_items,) is given, ranks follow ``corr·z(score) + noise`` so
    popular items tend to be the good ones. Returns ``(n_items,)`` float64.
    """
    noise = rng.standard_normal(n_items)
    if score is not None:
        z = (score - score.mean()) / (score.std() + 1e-12)
        noise = corr * z + np.sqrt(1.0 - corr**2) * noise
    rank = np.empty(n_items)
    rank[np.argsort(-noise, kind="stable")] = np.arange(n_items)
    return -exponent * np.log(rank + offset)


def _session_timestamps(rng, user_ids, start, end, within_mean, between_mean, p_new_session):
    """Strictly increasing unix timestamps inside each user's history, made of sessions.

    ``user_ids`` (n,) must be grouped by user, rows in the order the user acted. Gaps between a user's
    consecutive rows are ``1 + Exp(within_mean)`` seconds inside a session and, with probability
    ``p_new_session``, ``Exp(between_mean)`` seconds to a new session. A history longer than 90% of
    ``[start, end]`` is squeezed to fit; each history then starts at a uniform time where it fits.
    Returns ``(n,)`` int64.
    """
    n = len(user_ids)
    first = np.ones(n, dtype=bool)
    first[1:] = user_ids[1:] != user_ids[:-1]
    starts = np.flatnonzero(first)  # index of each user's first row
    group = np.cumsum(first) - 1  # which history each row belongs to
    new_session = rng.random(n) < p_new_session
    gaps = np.where(new_session, rng.exponential(between_mean, n), 1.0 + rng.exponential(within_mean, n))
    gaps[first] = 0.0
    span = 0.9 * (end - start)
    duration = np.add.reduceat(gaps, starts)
    squeeze = np.minimum(1.0, span / np.maximum(duration, 1.0))
    gaps = np.where(first, 0, np.maximum(1, np.floor(gaps * squeeze[group]))).astype(np.int64)
    offsets = np.cumsum(gaps)
    offsets -= offsets[starts][group]
    duration = offsets[np.r_[starts[1:], n] - 1]
    room = np.maximum(end - start - duration, 0)  # how late the history may begin and still end by ``end``
    begin = start + np.floor(rng.random(len(starts)) * room).astype(np.int64)
    return begin[group] + offsets


def _shuffle_within_users(rng, user_ids, item_ids):
    """Put each user's rows in a random order (users stay grouped): the order they happened in time."""
    order = np.lexsort((rng.random(len(user_ids)), user_ids))
    return user_ids[order], item_ids[order]


def _clustered_factors(rng, groups, n_groups, n_factors, scale, share):
    """Factors ``scale·(√share·c_g + √(1−share)·e)``: each row near its group's centre ``c_g``.

    ``groups`` (n,) int or ``(n, n_groups)`` 0/1 membership (then the centres of all groups are averaged,
    scaled so the variance stays 1). Returns ``(factors (n, n_factors), centres (n_groups, n_factors))``.
    """
    centres = rng.standard_normal((n_groups, n_factors))
    if groups.ndim == 1:
        centre = centres[groups]
    else:
        centre = (groups @ centres) / np.sqrt(np.maximum(groups.sum(axis=1, keepdims=True), 1))
    noise = rng.standard_normal((len(groups), n_factors))
    return scale * (np.sqrt(share) * centre + np.sqrt(1.0 - share) * noise), centres


def _sorted_by_user_time(user_ids, *columns, timestamps):
    """Reorder all columns by (user, timestamp)."""
    order = np.lexsort((timestamps, user_ids))
    return (user_ids[order], *(c[order] for c in columns), timestamps[order])


def _latent_interactions(rng, logits_fn, n_users, n_items, total, minimum, period, sessions):
    """The recipe the three interaction generators share (see the module docstring), in one place.

    1. how many rows each user has: heavy-tailed, at least ``minimum``, ``total`` in all;
    2. which items: drawn without replacement ∝ ``exp(logits_fn(start, stop))``, the ``(stop − start,
       n_items)`` preference logits of a block of users, which each generator defines;
    3. in which order: shuffled within each user;
    4. when: session timestamps in ``period = (start, end)`` (unix seconds), with
       ``sessions = (within_mean, between_mean, p_new_session)``.

    Returns ``user_ids, item_ids, timestamps`` (int64, ``(total,)``, grouped by user, not yet sorted by time).
    The random draws happen in exactly this order, so the generated data is the same as when each
    generator spelled the steps out itself (the bundled files' checksums prove it).
    """
    counts = _activity_counts(rng, n_users, total, minimum, n_items, sigma=0.9)
    user_ids, item_ids = _draw_items(rng, logits_fn, counts, n_items)
    user_ids, item_ids = _shuffle_within_users(rng, user_ids, item_ids)
    within_mean, between_mean, p_new_session = sessions
    timestamps = _session_timestamps(rng, user_ids, *period, within_mean=within_mean,
                                     between_mean=between_mean, p_new_session=p_new_session)
    return user_ids, item_ids, timestamps


# ---------------------------------------------------------------------------------------------------------
# Movies: explicit ratings, shaped like MovieLens 100K
# ---------------------------------------------------------------------------------------------------------

#: The 19 genre columns of MovieLens 100K's ``u.item``, in the same order (including "unknown").
MOVIE_GENRES = [
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary",
    "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller",
    "War", "Western",
]
# Relative genre frequencies, loosely following ML-100K (Drama and Comedy common, Fantasy rare).
_GENRE_WEIGHTS = np.array([2, 251, 135, 42, 122, 505, 109, 50, 725, 22, 24, 92, 56, 61, 247, 101, 251, 71, 27],
                          dtype=np.float64)

#: Shares of 1..5 stars in ML-100K (GroupLens; counts 6110/11370/27145/34174/21201 of 100,000; mean 3.53).
MOVIE_STAR_SHARES = np.array([0.0611, 0.1137, 0.27145, 0.34174, 0.21201])

# ML-100K was collected from 19 Sep 1997 to 22 Apr 1998 (its README); timestamps fall in that window.
_MOVIES_START, _MOVIES_END = 874_627_200, 893_289_599

_ADJECTIVES = (
    "Silent", "Broken", "Golden", "Hidden", "Last", "Midnight", "Crimson", "Frozen", "Lonely", "Wild",
    "Secret", "Distant", "Burning", "Quiet", "Dark", "Bright", "Lost", "Endless", "Savage", "Gentle",
    "Electric", "Forgotten", "Hollow", "Restless", "Velvet", "Iron", "Paper", "Silver", "Scarlet", "Final",
    "Little", "Long", "Strange", "Sudden", "Sweet", "Bitter", "Northern", "Wicked", "Brave", "Falling",
)
_NOUNS = (
    "Harbor", "Road", "River", "Garden", "Summer", "Winter", "Storm", "Promise", "Stranger", "Witness",
    "Kingdom", "Island", "Heart", "Shadow", "Mirror", "Train", "Letter", "Dream", "Empire", "Frontier",
    "Circus", "Orchard", "Lighthouse", "Detective", "Hunter", "Dancer", "Soldier", "Ghost", "Planet", "Moon",
    "Desert", "Canyon", "Bridge", "Tower", "Valley", "Mountain", "Sea", "City", "Night", "Morning",
    "Game", "Song", "Secret", "Machine", "Horizon", "Engine", "Voyage", "Wedding", "Season", "Passage",
)
_NAMES = (
    "Charlie", "Annie", "Max", "Lucy", "Jack", "Rosa", "Sam", "Nora", "Eddie", "Mabel",
    "Oscar", "Ruby", "Frank", "Iris", "Leo", "Vera", "Hank", "Greta", "Milo", "Stella",
)
_PLACES = (
    "Paris", "Brooklyn", "Tokyo", "Texas", "Venice", "Berlin", "Havana", "Alaska", "Rome", "Cairo",
    "Chicago", "Shanghai", "Dublin", "Vegas", "Montana", "Bombay", "Lisbon", "Memphis", "Oslo", "Rio",
)
_TITLE_PATTERNS = (
    "The {adj} {noun}", "{adj} {noun}", "The {noun} of {place}", "{noun} of the {noun2}", "{name}'s {noun}",
    "A {noun} in {place}", "The {noun}", "{name} and the {adj} {noun}", "{adj} {noun}s", "Return to {place}",
)


def _movie_titles(rng, n_items, years):
    """Fake, distinct titles such as ``"The Silent Harbor (1994)"`` built from the word lists above."""
    titles, seen = [], set()
    for year in years:  # one string per item: string building has no vectorised form
        for attempt in range(50):
            pattern = _TITLE_PATTERNS[rng.integers(len(_TITLE_PATTERNS))]
            words = {
                "adj": _ADJECTIVES[rng.integers(len(_ADJECTIVES))],
                "noun": _NOUNS[rng.integers(len(_NOUNS))],
                "noun2": _NOUNS[rng.integers(len(_NOUNS))],
                "name": _NAMES[rng.integers(len(_NAMES))],
                "place": _PLACES[rng.integers(len(_PLACES))],
            }
            title = pattern.format(**words)
            if attempt >= 40:  # the word lists ran dry for this year: make it a sequel
                title += f" {attempt - 38}"
            title = f"{title} ({year})"
            if title not in seen:
                break
        seen.add(title)
        titles.append(title)
    return titles


def _movie_genres(rng, n_items):
    """0/1 genre matrix ``(n_items, 19)``: a primary genre ∝ ML-100K frequencies plus a few secondary ones.

    Secondary genre ``g`` is added with probability ``0.72·w_g`` (w = normalised frequencies, "unknown"
    excluded), so an item has about 1.7 genres on average, as in ML-100K. An item whose primary draw is
    "unknown" keeps only that label.
    """
    w = _GENRE_WEIGHTS / _GENRE_WEIGHTS.sum()
    primary = rng.choice(len(MOVIE_GENRES), size=n_items, p=w)
    secondary = rng.random((n_items, len(MOVIE_GENRES))) < 0.72 * w[None, :]
    secondary[:, 0] = False
    genres = secondary | (np.arange(len(MOVIE_GENRES))[None, :] == primary[:, None])
    genres[primary == 0] = False
    genres[primary == 0, 0] = True
    return genres.astype(np.uint8)


def _star_probabilities(means, thresholds, noise_std):
    """P(r = s | u, i) for s = 1..5 when ``r = 1 + #{k : m + ε > c_k}``, ``ε ~ N(0, σ²)``.

    ``P(r <= s) = Φ((c_s − m) / σ)``, so the five probabilities are differences of four CDF values.
    ``means`` (n,), ``thresholds`` (4,) → ``(n, 5)``.
    """
    cdf = _normal_cdf((thresholds[None, :] - means[:, None]) / noise_std)
    n = len(means)
    cdf = np.concatenate([np.zeros((n, 1)), cdf, np.ones((n, 1))], axis=1)
    return np.diff(cdf, axis=1)


def _calibrate_thresholds(means, noise_std, shares):
    """Thresholds ``c_1 < … < c_4`` so the expected share of each star over ``means`` equals ``shares``.

    Solves ``F(c_k) = mean_n Φ((c_k − m_n) / σ) = shares[0] + … + shares[k−1]`` for each ``k``. ``F``
    increases with ``c``, so bisection on a 1024-bin histogram of the means finds ``c_k`` to about
    1e-3 cheaply; three Newton steps on all the means, ``c ← c − (F(c) − target) / F'(c)`` with
    ``F'(c) = mean_n φ((c − m_n)/σ) / σ``, then make it exact. Returns ``(4,)`` float64.
    """
    target = np.cumsum(shares)[:-1]
    counts, edges = np.histogram(means, bins=1024)
    centres = 0.5 * (edges[:-1] + edges[1:])
    weights = counts / counts.sum()
    lo = np.full(4, means.min() - 10.0 * noise_std)
    hi = np.full(4, means.max() + 10.0 * noise_std)
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        below = weights @ _normal_cdf((mid[None, :] - centres[:, None]) / noise_std) < target
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    c = 0.5 * (lo + hi)
    for _ in range(3):
        u = (c[None, :] - means[:, None]) / noise_std
        slope = (np.exp(-0.5 * u**2) / np.sqrt(2.0 * np.pi)).mean(axis=0) / noise_std
        c = c - (_normal_cdf(u).mean(axis=0) - target) / slope
    return c


def make_movies(n_users=943, n_items=1682, n_ratings=100_000, n_factors=4, noise_std=0.7,
                min_user_ratings=20, seed=0):
    """Explicit 1–5 star ratings shaped like MovieLens 100K: the *viewing history* scenario.

    Model (one row = user ``u`` rated movie ``i``)::

        m_ui = μ + b_u + b_i + p_u · q_i                 latent mean (p_u, q_i: n_factors each)
        z_ui = m_ui + ε,   ε ~ N(0, noise_std²)          noisy taste on the day
        r_ui = 1 + #{k : z_ui > c_k}                     cut into stars by thresholds c_1 < … < c_4

    ``q_i`` lies near the average of its genres' centres, so genres show up in learned item embeddings;
    the thresholds are set so the expected star shares match ML-100K (6/11/27/34/21 %). Which movies a
    user rates is drawn without replacement ∝ ``exp(popularity_i + 0.5·(b_i + p_u·q_i))``: a Zipf-like
    long tail, and users mostly rate movies they were likely to enjoy, as on the real site.

    Ground truth (``truth``): ``global_mean`` μ, ``user_bias`` (n_users,), ``item_bias`` (n_items,),
    ``user_factors`` (n_users, n_factors), ``item_factors`` (n_items, n_factors), ``noise_std``,
    ``thresholds`` (4,), ``expected_ratings`` (n_ratings,) ``E[r | u, i] = Σ_s s·P(r = s)`` computed
    exactly from the normal CDF, ``rating_variance`` (n_ratings,) ``Var[r | u, i]``, and
    ``noise_floor_rmse = sqrt(mean Var[r | u, i])``: the RMSE of the best possible predictor, which
    no model can beat on average.

    Returns a ``Bunch`` with ``user_ids``, ``item_ids`` (int64, 0-based), ``ratings`` (float32, whole
    stars), ``timestamps`` (int64 unix seconds, increasing inside each user's history; rows sorted by
    user then time), ``n_users``, ``n_items``, ``item_titles`` (list of str), ``item_genres`` (uint8
    (n_items, 19) 0/1), ``genre_names`` (the 19 ML-100K genre names, "unknown" first), ``truth``,
    ``description``.
    """
    func = "make_movies"
    n_users = _check_int(func, "n_users", n_users, 1)
    n_items = _check_int(func, "n_items", n_items, 1)
    n_ratings = _check_int(func, "n_ratings", n_ratings, 1)
    n_factors = _check_int(func, "n_factors", n_factors, 1)
    min_user_ratings = _check_int(func, "min_user_ratings", min_user_ratings, 1)
    noise_std = _check_float(func, "noise_std", noise_std, 1e-3, 10.0)
    _check_interactions(func, "n_ratings", n_ratings, n_users, n_items, min_user_ratings)
    rng = _make_rng(seed, func)

    # Items: genres, release years, titles, latent factors and biases.
    item_genres = _movie_genres(rng, n_items)
    years = 1998 - np.minimum(np.floor(rng.exponential(9.0, n_items)), 76).astype(np.int64)
    item_titles = _movie_titles(rng, n_items, years)
    scale = (0.16 / n_factors) ** 0.25  # Var(p·q) = n_factors·scale⁴ = 0.16 (star units²)
    item_factors, _ = _clustered_factors(rng, item_genres[:, 1:].astype(np.float64), len(MOVIE_GENRES) - 1,
                                         n_factors, scale, share=0.6)
    user_factors = scale * rng.standard_normal((n_users, n_factors))
    global_mean = 3.5
    user_bias = 0.40 * rng.standard_normal(n_users)
    item_bias = 0.45 * rng.standard_normal(n_items)
    popularity = _zipf_log_popularity(rng, n_items, exponent=1.3, offset=40.0, score=item_bias, corr=0.5)

    # Who rated what: heavy-tailed activity, then draws without replacement.
    def logits(start, stop):
        taste = item_bias[None, :] + user_factors[start:stop] @ item_factors.T
        return popularity[None, :] + 0.5 * taste

    user_ids, item_ids, timestamps = _latent_interactions(
        rng, logits, n_users, n_items, n_ratings, min_user_ratings, (_MOVIES_START, _MOVIES_END),
        sessions=(40.0, 6 * 86_400.0, 0.06))

    # Ratings: latent mean + noise, cut into stars.
    means = (global_mean + user_bias[user_ids] + item_bias[item_ids]
             + np.einsum("nk,nk->n", user_factors[user_ids], item_factors[item_ids]))
    thresholds = _calibrate_thresholds(means, noise_std, MOVIE_STAR_SHARES)
    z = means + noise_std * rng.standard_normal(n_ratings)
    ratings = 1 + (z[:, None] > thresholds[None, :]).sum(axis=1)
    probs = _star_probabilities(means, thresholds, noise_std)
    stars = np.arange(1, 6, dtype=np.float64)
    expected = probs @ stars
    variance = probs @ stars**2 - expected**2

    user_ids, item_ids, ratings, expected, variance, timestamps = _sorted_by_user_time(
        user_ids, item_ids, ratings, expected, variance, timestamps=timestamps)
    truth = Bunch(
        global_mean=global_mean, user_bias=user_bias, item_bias=item_bias, user_factors=user_factors,
        item_factors=item_factors, noise_std=noise_std, thresholds=thresholds, expected_ratings=expected,
        rating_variance=variance, noise_floor_rmse=float(np.sqrt(variance.mean())),
    )
    description = (
        f"Synthetic movie ratings (viewing history): {n_ratings} ratings of {n_items} movies by {n_users} "
        f"users, 1-5 stars shaped like MovieLens 100K. "
        "Latent model r = stars(mu + b_u + b_i + p_u.q_i + noise); ground truth in .truth."
    )
    return Bunch(
        user_ids=user_ids, item_ids=item_ids, ratings=ratings.astype(np.float32), timestamps=timestamps,
        n_users=n_users, n_items=n_items, item_titles=item_titles, item_genres=item_genres,
        genre_names=list(MOVIE_GENRES), truth=truth, description=description,
    )


# ---------------------------------------------------------------------------------------------------------
# Products: implicit purchases (positives only)
# ---------------------------------------------------------------------------------------------------------

#: Department names of the fake shop; ``item_categories`` indexes this list.
PRODUCT_CATEGORIES = [
    "Books", "Electronics", "Home & Kitchen", "Clothing", "Beauty", "Sports & Outdoors", "Toys & Games",
    "Grocery", "Health", "Garden", "Pet Supplies", "Office",
]
# Purchases fall in 2019–2020 (unix seconds, UTC).
_PRODUCTS_START, _PRODUCTS_END = 1_546_300_800, 1_609_459_199


def make_products(n_users=1000, n_items=1500, n_interactions=40_000, n_factors=8, affinity_scale=2.0,
                  min_user_purchases=5, seed=0):
    """Implicit feedback (隐式反馈): who bought what, positives only — the *purchase history* scenario.

    Model: item ``i`` has a category, factors ``q_i`` near its category's centre and a Zipf-like
    popularity ``b_i``; user ``u`` has factors ``p_u``. The **true preference logit** is::

        s_ui = b_i + p_u · q_i              (Var(p_u · q_i) = affinity_scale²)

    User ``u`` buys ``n_u`` distinct items (heavy-tailed, at least ``min_user_purchases``), drawn one
    after another without replacement, each time ∝ ``exp(s_ui)`` among the items not yet bought. So
    ranking items by ``s_ui`` is the best possible recommender; most-popular ranks by ``b_i`` alone.
    The purchase order (and so the timestamps) is random within a user's history.

    Ground truth (``truth``): ``user_factors`` (n_users, n_factors), ``item_factors`` (n_items,
    n_factors), ``item_bias`` (n_items,) the log-popularity ``b_i``, ``item_popularity`` (n_items,)
    ``softmax(b)``, ``affinity_scale``; compute all logits as
    ``truth.item_bias[None, :] + truth.user_factors @ truth.item_factors.T``.

    Returns a ``Bunch`` with ``user_ids``, ``item_ids`` (int64), ``timestamps`` (int64 unix seconds;
    rows sorted by user then time), ``n_users``, ``n_items``, ``item_categories`` (int64 (n_items,)),
    ``category_names`` (list of str), ``truth``, ``description``.
    """
    func = "make_products"
    n_users = _check_int(func, "n_users", n_users, 1)
    n_items = _check_int(func, "n_items", n_items, 1)
    n_interactions = _check_int(func, "n_interactions", n_interactions, 1)
    n_factors = _check_int(func, "n_factors", n_factors, 1)
    min_user_purchases = _check_int(func, "min_user_purchases", min_user_purchases, 1)
    affinity_scale = _check_float(func, "affinity_scale", affinity_scale, 0.0, 10.0)
    _check_interactions(func, "n_interactions", n_interactions, n_users, n_items, min_user_purchases)
    rng = _make_rng(seed, func)

    n_cat = len(PRODUCT_CATEGORIES)
    category_share = rng.dirichlet(np.full(n_cat, 4.0))  # uneven department sizes
    item_categories = rng.choice(n_cat, size=n_items, p=category_share).astype(np.int64)
    scale = affinity_scale**0.5 / n_factors**0.25  # Var(p·q) = n_factors·scale⁴ = affinity_scale²
    item_factors, _ = _clustered_factors(rng, item_categories, n_cat, n_factors, scale, share=0.5)
    user_factors = scale * rng.standard_normal((n_users, n_factors))
    item_bias = _zipf_log_popularity(rng, n_items, exponent=1.0, offset=30.0)
    item_bias -= item_bias.mean()

    def logits(start, stop):
        return item_bias[None, :] + user_factors[start:stop] @ item_factors.T

    user_ids, item_ids, timestamps = _latent_interactions(
        rng, logits, n_users, n_items, n_interactions, min_user_purchases, (_PRODUCTS_START, _PRODUCTS_END),
        sessions=(300.0, 20 * 86_400.0, 0.6))
    user_ids, item_ids, timestamps = _sorted_by_user_time(user_ids, item_ids, timestamps=timestamps)

    popularity = np.exp(item_bias - item_bias.max())
    truth = Bunch(user_factors=user_factors, item_factors=item_factors, item_bias=item_bias,
                  item_popularity=popularity / popularity.sum(), affinity_scale=affinity_scale)
    description = (
        f"Synthetic purchases (purchase history): {n_interactions} purchases of {n_items} products in "
        f"{n_cat} categories by {n_users} users, positives only. True preference logit "
        "s_ui = item_bias[i] + user_factors[u] . item_factors[i]; ground truth in .truth."
    )
    return Bunch(user_ids=user_ids, item_ids=item_ids, timestamps=timestamps, n_users=n_users,
                 n_items=n_items, item_categories=item_categories, category_names=list(PRODUCT_CATEGORIES),
                 truth=truth, description=description)


# ---------------------------------------------------------------------------------------------------------
# Music: play counts
# ---------------------------------------------------------------------------------------------------------

#: Genres of the fake music catalogue; every artist has one, and ``item_genres`` is the track's artist's.
MUSIC_GENRES = ["Rock", "Pop", "Hip-Hop", "Electronic", "Jazz", "Classical", "Country", "R&B", "Metal", "Folk"]
_BAND_WORDS = (
    "Echo", "Velvet", "Neon", "Paper", "Glass", "Satellite", "Wolf", "Ocean", "Static", "Lantern",
    "Cobalt", "Honey", "Thunder", "Crystal", "Atlas", "Comet", "Violet", "Desert", "Arcade", "Harbor",
)
_BAND_PLURALS = (
    "Foxes", "Tigers", "Kites", "Rivers", "Ghosts", "Machines", "Lights", "Sparrows", "Engines", "Saints",
    "Wolves", "Pilots", "Dreamers", "Shadows", "Owls", "Giants", "Strangers", "Poets", "Rockets", "Bells",
)
_FIRST_NAMES = ("Mia", "Leon", "Ava", "Theo", "Lena", "Omar", "Ines", "Kai", "Zoe", "Ravi",
                "Nina", "Hugo", "Yara", "Felix", "Maya", "Ivan", "Luna", "Otis", "Sara", "Jonas")
_LAST_NAMES = ("Stone", "Rivers", "Vale", "Moreau", "Okafor", "Lindqvist", "Tanaka", "Costa", "Novak", "Reyes",
               "Hart", "Silva", "Berg", "Quinn", "Mendes", "Kowalski", "Sato", "Ferreira", "Holm", "Abara")
# Plays fall in 2020 (unix seconds, UTC).
_MUSIC_START, _MUSIC_END = 1_577_836_800, 1_609_459_199


def _artist_names(rng, n_artists):
    """Distinct fake artist names: ``"The Neon Foxes"``, ``"Mia Stone"`` or ``"DJ Comet"``."""
    names, seen = [], set()
    for _ in range(n_artists):  # one string per artist
        for attempt in range(50):
            kind = rng.choice(3, p=[0.45, 0.45, 0.10])  # DJs are rarer
            if kind == 0:
                name = f"The {_BAND_WORDS[rng.integers(20)]} {_BAND_PLURALS[rng.integers(20)]}"
            elif kind == 1:
                name = f"{_FIRST_NAMES[rng.integers(20)]} {_LAST_NAMES[rng.integers(20)]}"
            else:
                name = f"DJ {_BAND_WORDS[rng.integers(20)]}"
            if attempt >= 40:  # word lists exhausted: number the namesakes
                name += f" {attempt - 38}"
            if name not in seen:
                break
        seen.add(name)
        names.append(name)
    return names


def make_music(n_users=1000, n_items=2000, n_interactions=30_000, n_artists=200, n_factors=8,
               min_user_tracks=5, seed=0):
    """Play counts of tracks — the *play history* scenario (implicit feedback with a strength).

    Model: each artist has a genre and factors near that genre's centre; each track ``i`` has the
    factors of its artist plus a little noise (``q_i``) and a Zipf-like popularity ``b_i``; user ``u``
    has factors ``p_u`` and an activity level ``a_u``. Then::

        s_ui  = b_i + p_u · q_i                           preference logit: which tracks u listens to
        λ_ui  = exp(a_u + 0.3·p_u · q_i)                  expected extra plays once u found the track
        plays = 1 + Poisson(λ_ui · G),  G ~ Gamma(0.5, 1/0.5)   (a negative binomial: heavy-tailed)

    The set of tracks each user played is drawn without replacement ∝ ``exp(s_ui)``; the timestamp
    of a row is when the user first played the track.

    Ground truth (``truth``): ``user_factors``, ``item_factors``, ``artist_factors``, ``item_bias``
    (n_items,), ``user_activity`` ``a_u`` (n_users,), ``gamma_shape`` (0.5), ``expected_play_counts``
    (n_interactions,) ``E[plays | u, i] = 1 + λ_ui``.

    Returns a ``Bunch`` with ``user_ids``, ``item_ids`` (int64), ``play_counts`` (int64 >= 1),
    ``timestamps`` (int64 unix seconds; rows sorted by user then time), ``n_users``, ``n_items``,
    ``item_artists`` (int64 (n_items,)), ``artist_names`` (list of str), ``item_genres`` (int64
    (n_items,), the artist's genre), ``genre_names``, ``truth``, ``description``.
    """
    func = "make_music"
    n_users = _check_int(func, "n_users", n_users, 1)
    n_items = _check_int(func, "n_items", n_items, 1)
    n_interactions = _check_int(func, "n_interactions", n_interactions, 1)
    n_artists = _check_int(func, "n_artists", n_artists, 1)
    n_factors = _check_int(func, "n_factors", n_factors, 1)
    min_user_tracks = _check_int(func, "min_user_tracks", min_user_tracks, 1)
    if n_artists > n_items:
        raise ValueError(f"{func}: n_artists={n_artists} is more than n_items={n_items}; "
                         "every artist needs at least one track.")
    _check_interactions(func, "n_interactions", n_interactions, n_users, n_items, min_user_tracks)
    rng = _make_rng(seed, func)

    # Artists: a genre each, factors near the genre centre; catalogue sizes are uneven.
    n_genres = len(MUSIC_GENRES)
    artist_genres = rng.choice(n_genres, size=n_artists, p=rng.dirichlet(np.full(n_genres, 3.0)))
    scale = (4.0 / n_factors) ** 0.25  # Var(p·q) ≈ 4 before the track noise is added
    artist_factors, _ = _clustered_factors(rng, artist_genres, n_genres, n_factors, scale, share=0.5)
    artist_names = _artist_names(rng, n_artists)
    # Every artist gets one track; the rest go ∝ a lognormal catalogue size.
    extra = rng.choice(n_artists, size=n_items - n_artists, p=_normalise(rng.lognormal(0.0, 1.0, n_artists)))
    item_artists = np.sort(np.concatenate([np.arange(n_artists), extra])).astype(np.int64)
    item_factors = 0.9 * artist_factors[item_artists] + 0.3 * scale * rng.standard_normal((n_items, n_factors))
    artist_pop = _zipf_log_popularity(rng, n_artists, exponent=1.0, offset=5.0)
    item_bias = artist_pop[item_artists] + 0.7 * rng.standard_normal(n_items)
    item_bias -= item_bias.mean()
    user_factors = scale * rng.standard_normal((n_users, n_factors))
    user_activity = rng.normal(1.0, 0.6, n_users)

    def logits(start, stop):
        return item_bias[None, :] + user_factors[start:stop] @ item_factors.T

    user_ids, item_ids, timestamps = _latent_interactions(
        rng, logits, n_users, n_items, n_interactions, min_user_tracks, (_MUSIC_START, _MUSIC_END),
        sessions=(200.0, 4 * 86_400.0, 0.3))
    affinity = np.einsum("nk,nk->n", user_factors[user_ids], item_factors[item_ids])
    rate = np.exp(user_activity[user_ids] + 0.3 * affinity)
    gamma_shape = 0.5
    play_counts = 1 + rng.poisson(rate * rng.gamma(gamma_shape, 1.0 / gamma_shape, len(rate)))
    user_ids, item_ids, play_counts, rate, timestamps = _sorted_by_user_time(
        user_ids, item_ids, play_counts.astype(np.int64), rate, timestamps=timestamps)

    truth = Bunch(user_factors=user_factors, item_factors=item_factors, artist_factors=artist_factors,
                  item_bias=item_bias, user_activity=user_activity, gamma_shape=gamma_shape,
                  expected_play_counts=1.0 + rate)
    description = (
        f"Synthetic play counts (play history): {n_interactions} (user, track) pairs over {n_items} tracks "
        f"by {n_artists} artists and {n_users} users; play_counts >= 1, heavy-tailed. Which tracks: "
        "logit item_bias[i] + p_u . q_i; how often: 1 + negative binomial. Ground truth in .truth."
    )
    return Bunch(user_ids=user_ids, item_ids=item_ids, play_counts=play_counts, timestamps=timestamps,
                 n_users=n_users, n_items=n_items, item_artists=item_artists, artist_names=artist_names,
                 item_genres=artist_genres[item_artists].astype(np.int64), genre_names=list(MUSIC_GENRES),
                 truth=truth, description=description)


def _normalise(w):
    """``w / w.sum()``: weights → probabilities."""
    return w / w.sum()


# ---------------------------------------------------------------------------------------------------------
# Ads: click logs with the user's click history as features
# ---------------------------------------------------------------------------------------------------------

#: The 20 ad categories: the ``ad_category`` column and the per-category history features use them.
AD_CATEGORIES = [
    "travel", "finance", "fashion", "electronics", "games", "autos", "food", "health", "education",
    "real_estate", "sports", "beauty", "home", "pets", "streaming", "insurance", "jobs", "music", "books",
    "telecom",
]
_AD_GENERAL_FEATURES = [
    "sessions_7d", "sessions_30d", "page_views_7d", "page_views_30d", "searches_7d", "searches_30d",
    "cart_adds_30d", "purchases_30d", "purchases_365d", "wishlist_adds_30d", "reviews_written_365d",
    "videos_watched_7d", "emails_opened_30d", "coupons_used_365d", "days_since_last_visit",
    "days_since_last_click", "days_since_last_purchase", "account_age_months", "devices_30d",
    "friends_referred_365d",
]
#: The context columns: (name, value labels, probabilities). They are drawn independently of ``X``.
_AD_CONTEXT = [
    ("device", ["mobile", "desktop", "tablet"], [0.55, 0.35, 0.10]),
    ("ad_position", ["top", "feed_1", "feed_2", "sidebar", "bottom"], [0.25, 0.25, 0.20, 0.15, 0.15]),
    ("hour_bucket", ["00-04", "04-08", "08-12", "12-16", "16-20", "20-24"], [0.05, 0.10, 0.20, 0.22, 0.23, 0.20]),
]
# Position bias: the top slot is seen (and clicked) most. Logit offsets per ad_position.
_POSITION_EFFECT = np.array([0.6, 0.3, 0.0, -0.4, -0.6])


def _ad_history(rng, n):
    """The 100 integer-valued history features ``(n, 100)`` float64, in ``feature_names`` order.

    A latent activity ``A``, click propensity ``κ``, shopping propensity ``S`` and interest shares over
    the 20 categories per user drive Poisson/binomial counts; 7-day counts are binomial thinnings of the
    30-day ones, so ``clicks ≤ impressions`` and ``7d ≤ 30d`` always hold.
    """
    n_cat = len(AD_CATEGORIES)
    base = _normalise(1.0 / (np.arange(n_cat) + 3.0))
    activity = rng.lognormal(0.0, 0.6, n)
    shopper = rng.lognormal(0.0, 0.7, n)
    clickiness = rng.normal(-3.0, 0.6, n)
    interest = 0.7 * rng.dirichlet(np.full(n_cat, 0.3), size=n) + 0.3 * base[None, :]

    sessions_30d = rng.poisson(12.0 * activity)
    sessions_7d = rng.binomial(sessions_30d, 7 / 30)
    # Share of the month's activity that fell in the last week: thins every other 30-day count to 7 days.
    week = np.where(sessions_30d > 0, sessions_7d / np.maximum(sessions_30d, 1), 7 / 30)
    page_views_30d = rng.poisson(4.0 * sessions_30d)
    page_views_7d = rng.binomial(page_views_30d, week)

    impressions_30d = rng.multinomial(rng.poisson(0.5 * page_views_30d), interest)  # (n, 20)
    ctr = _sigmoid(clickiness[:, None] + np.log(n_cat * interest))
    clicks_30d = rng.binomial(impressions_30d, ctr)
    clicks_7d = rng.binomial(clicks_30d, week[:, None])
    impressions_7d = clicks_7d + rng.binomial(impressions_30d - clicks_30d, week[:, None])

    searches_30d = rng.poisson(0.6 * sessions_30d * np.sqrt(shopper))
    cart_adds_30d = rng.poisson(0.15 * sessions_30d * shopper)
    purchases_30d = rng.binomial(cart_adds_30d, 0.4)
    purchases_365d = purchases_30d + rng.poisson(7.9 * activity * shopper)
    total_clicks = clicks_30d.sum(axis=1)
    visit_rate = np.clip(sessions_30d / 30.0, 1e-3, 1.0)
    days_visit = np.where(sessions_30d > 0, np.minimum(rng.geometric(visit_rate) - 1, 29),
                          np.minimum(30 + rng.geometric(0.05, n), 365))
    in_month = days_visit + np.floor(rng.random(n) * (30 - np.minimum(days_visit, 29))).astype(np.int64)
    days_click = np.where(total_clicks > 0, in_month, np.minimum(30 + rng.geometric(0.03, n), 365))
    days_purchase = np.where(purchases_30d > 0, in_month,
                             np.where(purchases_365d > 0, rng.integers(30, 365, n), 365))
    general = [
        sessions_7d, sessions_30d, page_views_7d, page_views_30d, rng.binomial(searches_30d, week),
        searches_30d, cart_adds_30d, purchases_30d, purchases_365d,
        rng.poisson(0.1 * sessions_30d * shopper), rng.binomial(purchases_365d, 0.1),
        rng.poisson(2.0 * sessions_7d * rng.lognormal(-1.0, 1.0, n)), rng.poisson(3.0 * rng.lognormal(-0.5, 1.0, n)),
        rng.binomial(purchases_365d, 0.2), days_visit, days_click, days_purchase,
        np.minimum(1 + np.floor(rng.exponential(24.0, n)), 180), 1 + rng.binomial(2, 0.3, n),
        rng.poisson(0.15, n),
    ]
    return np.hstack([impressions_30d, clicks_30d, impressions_7d, clicks_7d, np.stack(general, axis=1)])


def make_ads(n_samples=20_000, n_features=100, teacher_scale=5.0, interaction_weight=0.6, click_rate=0.4,
             seed=0):
    """Ad impressions with click labels — the *click history* scenario (CTR prediction, 点击率预估).

    Each row is one ad shown to one user. ``X`` (n, 100) is the user's recent history, counted per ad
    category (impressions and clicks over 7 and 30 days: 80 columns) plus 20 general activity counts; all
    values are whole numbers stored as float32. ``categorical`` (n, 4) is the context, drawn
    independently of ``X``: device (3), ad position (5), hour bucket (6), ad category (20).

    Clicks come from a seeded **teacher network** (教师网络)::

        x̃      = (X − x_mean) / x_std                       standardised history
        f(x)   = (w₂ · relu(x̃ W₁ + b₁) − f_mean) / f_std    random 100 → 32 → 1 MLP, scaled to unit std
        h(x,c) = (log(1 + clicks_30d_c) − h_mean) / h_std   the user's interest in ad category c
        logit  = β + teacher_scale·f(x) + Σ_j e_j[c_j] + interaction_weight·h(x, c_category)
        y      ~ Bernoulli(σ(logit))

    where ``e_j`` are per-value effects of the context columns (top ad positions get clicked more) and
    the last term pairs the user's history with the shown ad's category (a feature combination 特征组合:
    history × context); means and standard deviations are taken over the generated sample. ``β`` is set
    so the mean click probability is ``click_rate``; real click rates are a few percent, so the log reads
    as **sub-sampled** (most non-clicks dropped), as tutorial CTR sets often are, which keeps accuracy
    meaningful.

    Ground truth (``truth``): ``p_click`` = σ(logit) (n,); ``p_click_given_x`` = E_c[σ(logit) | x],
    summed exactly over all 3·5·6·20 context combinations with their probabilities; ``bayes_accuracy`` and
    ``bayes_accuracy_x`` = ``mean(max(p, 1 − p))`` for each, the best accuracy any model can expect
    with all columns / with ``X`` only; ``teacher`` (``x_mean``, ``x_std``, ``W1`` (100, 32), ``b1``,
    ``w2`` (32,), ``f_mean``, ``f_std``, ``scale``, ``bias`` β), ``categorical_effects`` (list of 4 arrays
    ``e_j``), ``categorical_probs`` (list of 4 arrays), ``interaction_weight``, ``h_mean``, ``h_std``,
    ``logits`` (n,).

    Returns a ``Bunch`` with ``X`` float32 (n, 100), ``y`` float32 (n,) in {0, 1}, ``categorical`` int64
    (n, 4), ``feature_names`` (100 str), ``categorical_names``, ``categorical_cardinalities``,
    ``categorical_values`` (labels of each column's values), ``truth``, ``description``.
    """
    func = "make_ads"
    n_samples = _check_int(func, "n_samples", n_samples, 1)
    n_features = _check_int(func, "n_features", n_features, 1)
    if n_features != 100:
        raise ValueError(f"{func}: n_features must be 100 (20 categories x 4 counts + 20 general); "
                         f"got {n_features}.")
    teacher_scale = _check_float(func, "teacher_scale", teacher_scale, 0.0, 20.0)
    interaction_weight = _check_float(func, "interaction_weight", interaction_weight, 0.0, 10.0)
    click_rate = _check_float(func, "click_rate", click_rate, 0.01, 0.99)
    rng = _make_rng(seed, func)
    n = n_samples
    n_cat = len(AD_CATEGORIES)

    X = _ad_history(rng, n)
    feature_names = [f"{kind}_{cat}" for kind in ("impressions_30d", "clicks_30d", "impressions_7d", "clicks_7d")
                     for cat in AD_CATEGORIES] + list(_AD_GENERAL_FEATURES)

    # Context columns, independent of X, and their logit effects.
    names = [name for name, _, _ in _AD_CONTEXT] + ["ad_category"]
    values = [list(labels) for _, labels, _ in _AD_CONTEXT] + [list(AD_CATEGORIES)]
    probs = [np.array(p) for _, _, p in _AD_CONTEXT] + [_normalise(1.0 / (np.arange(n_cat) + 3.0))]
    categorical = np.stack([rng.choice(len(p), size=n, p=p) for p in probs], axis=1).astype(np.int64)
    effects = [0.3 * rng.standard_normal(3), _POSITION_EFFECT.copy(), 0.2 * rng.standard_normal(6),
               0.4 * rng.standard_normal(n_cat)]

    # Teacher network on the standardised history.
    x_mean = X.mean(axis=0)
    x_std = X.std(axis=0) + 1e-8
    W1 = rng.standard_normal((n_features, 32)) * np.sqrt(2.0 / n_features)
    b1 = 0.1 * rng.standard_normal(32)
    w2 = rng.standard_normal(32) / np.sqrt(32)
    f = np.maximum((X - x_mean) / x_std @ W1 + b1, 0.0) @ w2
    f_mean, f_std = float(f.mean()), float(f.std()) + 1e-12
    f = teacher_scale * (f - f_mean) / f_std
    # Interaction: the user's own interest in each category, standardised over all (user, category).
    h_all = np.log1p(X[:, n_cat:2 * n_cat])
    h_mean, h_std = float(h_all.mean()), float(h_all.std()) + 1e-12
    h_all = interaction_weight * (h_all - h_mean) / h_std  # (n, 20): h(x, c) for every category c

    context = sum(e[categorical[:, j]] for j, e in enumerate(effects[:3]))
    cat_part = effects[3][categorical[:, 3]] + h_all[np.arange(n), categorical[:, 3]]

    # p(click | x) = Σ over every context combination of its probability times σ(logit).
    dev, pos, hour = np.meshgrid(*(np.arange(len(p)) for p in probs[:3]), indexing="ij")
    combo_offset = (effects[0][dev] + effects[1][pos] + effects[2][hour]).ravel()  # (90,)
    combo_prob = (probs[0][dev] * probs[1][pos] * probs[2][hour]).ravel()

    def p_given_x(bias):
        # Σ_k w_k σ(a_k) = ½·Σ_k w_k + ½·Σ_k w_k tanh(a_k / 2): one tanh per combination, done in place.
        total = np.zeros(n)
        arg = np.empty((n, len(combo_offset)))
        for c in range(n_cat):  # 20 ad categories; the 90 other combinations are vectorised
            offset = bias + f + effects[3][c] + h_all[:, c]
            np.add(offset[:, None], combo_offset[None, :], out=arg)
            arg *= 0.5
            np.tanh(arg, out=arg)
            total += probs[3][c] * 0.5 * (combo_prob.sum() + arg @ combo_prob)
        return total

    # β so that the mean click probability of the log is click_rate (bisection; it increases with β).
    lo, hi = -30.0, 30.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if _sigmoid(mid + f + context + cat_part).mean() < click_rate else (lo, mid)
    bias = 0.5 * (lo + hi)
    p_click_given_x = p_given_x(bias)
    logits = bias + f + context + cat_part
    p_click = _sigmoid(logits)
    y = (rng.random(n) < p_click).astype(np.float32)

    teacher = Bunch(x_mean=x_mean, x_std=x_std, W1=W1, b1=b1, w2=w2, f_mean=f_mean, f_std=f_std,
                    scale=teacher_scale,
                    bias=bias)
    truth = Bunch(
        p_click=p_click, p_click_given_x=p_click_given_x,
        bayes_accuracy=float(np.maximum(p_click, 1 - p_click).mean()),
        bayes_accuracy_x=float(np.maximum(p_click_given_x, 1 - p_click_given_x).mean()),
        teacher=teacher, categorical_effects=effects, categorical_probs=probs,
        interaction_weight=interaction_weight, h_mean=h_mean, h_std=h_std, logits=logits,
    )
    description = (
        f"Synthetic ad clicks (click history): {n} impressions, 100 integer history features, 4 context "
        f"columns, clicks from a seeded teacher MLP; click rate about {click_rate:.0%} (sub-sampled log). "
        "Ground truth in .truth."
    )
    return Bunch(X=X.astype(np.float32), y=y, categorical=categorical, feature_names=feature_names,
                 categorical_names=names, categorical_cardinalities=[len(v) for v in values],
                 categorical_values=values, truth=truth, description=description)
