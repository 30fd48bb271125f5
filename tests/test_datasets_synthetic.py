"""Tests for tinyrec.datasets.synthetic: determinism, shapes, the stated distributions and the ground truth.

Expected values come from formulas written out here (the normal CDF via math.erf, a leave-latest-out
evaluation, a Monte Carlo average), never from the generators' own helper functions.
"""

import math
import re

import numpy as np
import pytest

from tinyrec.datasets.synthetic import _normal_cdf, make_ads, make_movies, make_music, make_products

# MovieLens 100K star counts (GroupLens u.data): 6110, 11370, 27145, 34174, 21201 of 100,000.
ML100K_SHARES = np.array([6110, 11370, 27145, 34174, 21201]) / 100_000
ML100K_GENRES = [
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary", "Drama",
    "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western",
]


@pytest.fixture(scope="module")
def movies():
    return make_movies()


@pytest.fixture(scope="module")
def products():
    return make_products()


@pytest.fixture(scope="module")
def music():
    return make_music()


@pytest.fixture(scope="module")
def ads():
    return make_ads()


def assert_same(a, b):
    """Recursively equal: same keys, list items, array dtypes and values."""
    if isinstance(a, dict):
        assert list(a) == list(b)
        for key in a:
            assert_same(a[key], b[key])
    elif isinstance(a, list):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    else:
        assert a == b


def no_duplicate_pairs(user_ids, item_ids, n_items):
    keys = user_ids * n_items + item_ids
    return len(np.unique(keys)) == len(keys)


def increasing_within_user(user_ids, timestamps):
    """Rows sorted by user, and each user's timestamps strictly increasing."""
    same_user = user_ids[1:] == user_ids[:-1]
    return bool(np.all(np.diff(user_ids) >= 0) and np.all(np.diff(timestamps)[same_user] > 0))


# ------------------------------------------------------------------------------------------------ determinism

SMALL = {
    make_movies: dict(n_users=40, n_items=80, n_ratings=1200),
    make_products: dict(n_users=40, n_items=80, n_interactions=600),
    make_music: dict(n_users=40, n_items=80, n_interactions=600, n_artists=10),
    make_ads: dict(n_samples=300),
}


@pytest.mark.parametrize("make", list(SMALL), ids=lambda f: f.__name__)
def test_same_seed_same_data_and_different_seed_different_data(make):
    a, b, c = make(**SMALL[make], seed=3), make(**SMALL[make], seed=3), make(**SMALL[make], seed=4)
    assert_same(a, b)
    first = "X" if make is make_ads else "item_ids"
    assert not np.array_equal(a[first], c[first])


@pytest.mark.parametrize("make", list(SMALL), ids=lambda f: f.__name__)
def test_a_generator_can_be_passed_as_seed(make):
    a = make(**SMALL[make], seed=np.random.default_rng(7))
    b = make(**SMALL[make], seed=np.random.default_rng(7))
    assert_same(a, b)


def test_normal_cdf_matches_math_erf():
    x = np.linspace(-8, 8, 161)
    expected = np.array([0.5 * (1 + math.erf(v / math.sqrt(2))) for v in x])
    np.testing.assert_allclose(_normal_cdf(x), expected, rtol=2e-7, atol=1e-12)


# ------------------------------------------------------------------------------------------------ movies


def test_movies_shapes_dtypes_and_ranges(movies):
    d = movies
    n = 100_000
    assert (d.n_users, d.n_items) == (943, 1682)
    for key, dtype in [("user_ids", np.int64), ("item_ids", np.int64), ("ratings", np.float32),
                       ("timestamps", np.int64)]:
        assert d[key].shape == (n,) and d[key].dtype == dtype, key
    assert d.user_ids.min() == 0 and d.user_ids.max() == 942
    assert d.item_ids.min() >= 0 and d.item_ids.max() <= 1681
    assert set(np.unique(d.ratings).tolist()) == {1.0, 2.0, 3.0, 4.0, 5.0}
    assert d.genre_names == ML100K_GENRES
    assert d.item_genres.dtype == np.uint8 and d.item_genres.shape == (1682, 19)
    assert set(np.unique(d.item_genres).tolist()) == {0, 1}
    assert d.item_genres.sum(axis=1).min() >= 1  # every movie has at least one genre
    assert len(d.item_titles) == 1682 and len(set(d.item_titles)) == 1682
    assert all(re.fullmatch(r".+ \((19[2-9]\d)\)", t) for t in d.item_titles)
    assert isinstance(d.description, str) and d.description


def test_movies_interactions_are_plausible(movies):
    d = movies
    assert no_duplicate_pairs(d.user_ids, d.item_ids, d.n_items)
    assert np.bincount(d.user_ids, minlength=d.n_users).min() >= 20
    assert increasing_within_user(d.user_ids, d.timestamps)
    # ML-100K's collection window: 19 Sep 1997 – 22 Apr 1998.
    assert d.timestamps.min() >= 874_627_200 and d.timestamps.max() <= 893_289_599


def test_movies_long_tail_and_heavy_tailed_users(movies):
    item_counts = np.sort(np.bincount(movies.item_ids, minlength=movies.n_items))[::-1]
    assert item_counts[: len(item_counts) // 10].sum() > 0.40 * item_counts.sum()
    user_counts = np.bincount(movies.user_ids)
    assert user_counts.max() > 5 * np.median(user_counts)


def test_movies_rating_distribution_is_close_to_movielens(movies):
    shares = np.bincount(movies.ratings.astype(np.int64), minlength=6)[1:] / len(movies.ratings)
    np.testing.assert_allclose(shares, ML100K_SHARES, atol=0.02)
    assert abs(movies.ratings.mean() - 3.53) < 0.05


def test_movies_expected_ratings_follow_the_stated_model(movies):
    d, t = movies, movies.truth
    rows = np.random.default_rng(0).choice(len(d.ratings), 200, replace=False)
    for r in rows:  # E[r] = 1 + Σ_k P(z > c_k), z ~ N(m, σ²), written out with math.erf
        u, i = d.user_ids[r], d.item_ids[r]
        m = t.global_mean + t.user_bias[u] + t.item_bias[i] + t.user_factors[u] @ t.item_factors[i]
        expected = 1 + sum(0.5 * (1 + math.erf((m - c) / (t.noise_std * math.sqrt(2)))) for c in t.thresholds)
        assert abs(t.expected_ratings[r] - expected) < 1e-6


def test_movies_ratings_scatter_around_their_expectation(movies):
    e, r = movies.truth.expected_ratings, movies.ratings.astype(np.float64)
    # Within each decile of E[r|u,i], the average observed rating matches the average expectation.
    edges = np.quantile(e, np.linspace(0, 1, 11))
    bins = np.clip(np.searchsorted(edges, e, side="right") - 1, 0, 9)
    for b in range(10):
        assert abs(r[bins == b].mean() - e[bins == b].mean()) < 0.03
    # The noise floor is the RMSE of the best predictor, E[r | u, i].
    rmse = np.sqrt(np.mean((r - e) ** 2))
    assert abs(rmse - movies.truth.noise_floor_rmse) < 0.01 * rmse
    assert 0.75 < movies.truth.noise_floor_rmse < 0.95
    # ... which beats predicting the global mean by a wide margin.
    assert rmse < 0.85 * r.std()


def test_movies_truth_shapes(movies):
    t = movies.truth
    assert t.user_factors.shape[0] == 943 and t.item_factors.shape[0] == 1682
    assert t.user_factors.shape[1] == t.item_factors.shape[1]
    assert t.user_bias.shape == (943,) and t.item_bias.shape == (1682,)
    assert t.expected_ratings.shape == (100_000,)
    assert np.all(np.diff(t.thresholds) > 0)
    assert np.all((t.expected_ratings >= 1) & (t.expected_ratings <= 5))


# ------------------------------------------------------------------------------------------------ products


def test_products_shapes_and_constraints(products):
    d = products
    assert len(d.user_ids) == 40_000 and (d.n_users, d.n_items) == (1000, 1500)
    assert d.user_ids.dtype == d.item_ids.dtype == d.timestamps.dtype == np.int64
    assert no_duplicate_pairs(d.user_ids, d.item_ids, d.n_items)
    assert np.bincount(d.user_ids, minlength=d.n_users).min() >= 5
    assert increasing_within_user(d.user_ids, d.timestamps)
    assert d.item_categories.shape == (1500,) and d.item_categories.dtype == np.int64
    assert 0 <= d.item_categories.min() and d.item_categories.max() < len(d.category_names)
    assert d.truth.user_factors.shape[0] == 1000 and d.truth.item_factors.shape[0] == 1500
    assert d.truth.item_bias.shape == (1500,)
    np.testing.assert_allclose(d.truth.item_popularity.sum(), 1.0)


def leave_latest_out_hit_rates(d, seed=0):
    """HR@10 among the held-out latest item and 99 never-bought items: most-popular vs true logits."""
    u, i = d.user_ids, d.item_ids  # sorted by user, then time
    last = np.r_[u[1:] != u[:-1], True]
    counts = np.bincount(i[~last], minlength=d.n_items).astype(np.float64)
    bought = np.zeros((d.n_users, d.n_items), dtype=bool)
    bought[u, i] = True
    rng = np.random.default_rng(seed)
    # 99 distinct unbought items per user: random keys, unbought first (keys < 1), take the 99 smallest.
    keys = rng.random((d.n_users, d.n_items)) + bought
    negatives = np.argsort(keys, axis=1)[:, :99]
    candidates = np.hstack([i[last][:, None], negatives])  # (n_users, 100), the positive first
    t = d.truth
    logits = t.item_bias[candidates] + np.einsum("uk,uck->uc", t.user_factors, t.item_factors[candidates])

    def hit_rate(scores):  # ties count against the positive
        return float(np.mean((scores[:, 1:] >= scores[:, :1]).sum(axis=1) < 10))

    return hit_rate(counts[candidates]), hit_rate(logits)


def test_products_have_personalised_signal(products):
    popular, oracle = leave_latest_out_hit_rates(products)
    assert 0.25 < popular < 0.55
    assert oracle > 0.6 and oracle > popular + 0.15


# ------------------------------------------------------------------------------------------------ music


def test_music_shapes_counts_and_truth(music):
    d = music
    assert len(d.user_ids) == 30_000 and (d.n_users, d.n_items) == (1000, 2000)
    assert d.play_counts.dtype == np.int64 and d.play_counts.min() >= 1
    assert no_duplicate_pairs(d.user_ids, d.item_ids, d.n_items)
    assert increasing_within_user(d.user_ids, d.timestamps)
    assert np.bincount(d.user_ids, minlength=d.n_users).min() >= 5
    # Heavy-tailed: the biggest counts dwarf the typical one.
    assert np.percentile(d.play_counts, 99) > 10 * np.median(d.play_counts)
    # E[plays] = 1 + λ: the averages agree (relative standard error here is about 2%).
    assert abs(d.play_counts.mean() / d.truth.expected_play_counts.mean() - 1) < 0.1
    # Each artist has one genre, and every artist has a name.
    for a in range(len(d.artist_names)):
        assert len(np.unique(d.item_genres[d.item_artists == a])) == 1
    assert d.item_artists.max() < len(d.artist_names) and d.item_genres.max() < len(d.genre_names)


# ------------------------------------------------------------------------------------------------ ads


def test_ads_shapes_and_history_features(ads):
    d = ads
    assert d.X.shape == (20_000, 100) and d.X.dtype == np.float32
    assert d.y.shape == (20_000,) and set(np.unique(d.y).tolist()) == {0.0, 1.0}
    assert 0.3 < d.y.mean() < 0.5
    assert np.all(d.X >= 0) and np.all(d.X == np.round(d.X))  # counts
    assert np.median(d.X) <= 2  # mostly small integers
    assert len(d.feature_names) == 100 and len(set(d.feature_names)) == 100
    col = {name: k for k, name in enumerate(d.feature_names)}
    for cat in ("travel", "pets"):
        imp30, clk30 = d.X[:, col[f"impressions_30d_{cat}"]], d.X[:, col[f"clicks_30d_{cat}"]]
        imp7, clk7 = d.X[:, col[f"impressions_7d_{cat}"]], d.X[:, col[f"clicks_7d_{cat}"]]
        assert np.all(clk30 <= imp30) and np.all(clk7 <= imp7) and np.all(imp7 <= imp30)
    assert d.categorical.shape == (20_000, 4) and d.categorical.dtype == np.int64
    assert d.categorical_names == ["device", "ad_position", "hour_bucket", "ad_category"]
    assert d.categorical_cardinalities == [3, 5, 6, 20]
    assert np.all(d.categorical.min(axis=0) >= 0)
    assert np.all(d.categorical.max(axis=0) < np.array(d.categorical_cardinalities))


def teacher_logits(X, categorical, t, repeat=1):
    """The documented teacher, written out: logit = β + s·f(x) + Σ_j e_j[c_j] + w·h(x, c_category).

    Each row of ``X`` is used ``repeat`` times in a row (``categorical`` has ``repeat·len(X)`` rows).
    """
    tt = t.teacher
    x = (X.astype(np.float64) - tt.x_mean) / tt.x_std
    f = (np.maximum(x @ tt.W1 + tt.b1, 0) @ tt.w2 - tt.f_mean) / tt.f_std
    clicks_30d = X[:, 20:40].astype(np.float64)  # columns clicks_30d_<category>
    h = (np.log1p(clicks_30d) - t.h_mean) / t.h_std
    f, h = np.repeat(f, repeat), np.repeat(h, repeat, axis=0)
    logit = tt.bias + tt.scale * f + t.interaction_weight * h[np.arange(len(f)), categorical[:, 3]]
    for j, effect in enumerate(t.categorical_effects):
        logit = logit + effect[categorical[:, j]]
    return logit


def test_ads_click_probability_follows_the_teacher(ads):
    d, t = ads, ads.truth
    np.testing.assert_allclose(teacher_logits(d.X, d.categorical, t), t.logits, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(t.p_click, 1 / (1 + np.exp(-t.logits)), rtol=1e-9, atol=1e-12)
    # Labels are Bernoulli(p_click): the click rate matches the mean probability.
    assert abs(d.y.mean() - t.p_click.mean()) < 4 * np.sqrt(0.25 / len(d.y))


def test_ads_marginal_matches_monte_carlo(ads):
    d, t = ads, ads.truth
    rows = np.arange(0, 20_000, 100)  # 200 rows
    draws = 3000
    rng = np.random.default_rng(1)
    contexts = np.stack([rng.choice(len(p), size=len(rows) * draws, p=p) for p in t.categorical_probs], axis=1)
    p = 1 / (1 + np.exp(-teacher_logits(d.X[rows], contexts, t, repeat=draws)))
    monte_carlo = p.reshape(len(rows), draws).mean(axis=1)
    diff = np.abs(monte_carlo - t.p_click_given_x[rows])
    assert diff.max() < 5 * 0.5 / np.sqrt(draws)
    assert diff.mean() < 0.01


def test_ads_bayes_accuracies(ads):
    t = ads.truth
    assert t.bayes_accuracy == pytest.approx(np.mean(np.maximum(t.p_click, 1 - t.p_click)))
    assert t.bayes_accuracy_x == pytest.approx(np.mean(np.maximum(t.p_click_given_x, 1 - t.p_click_given_x)))
    assert 0.80 <= t.bayes_accuracy_x <= 0.88
    assert t.bayes_accuracy >= t.bayes_accuracy_x  # knowing the context can only help
    # The Bayes rule on X alone, scored against the actual labels, lands near its expected accuracy.
    realised = np.mean((t.p_click_given_x > 0.5) == (ads.y == 1))
    assert abs(realised - t.bayes_accuracy_x) < 0.02
    assert realised > max(ads.y.mean(), 1 - ads.y.mean()) + 0.15  # far above always guessing the majority


def test_ads_context_is_independent_of_history(ads):
    # Mean activity (sessions_30d) is the same whatever the device; independence makes the marginal exact.
    sessions = ads.X[:, ads.feature_names.index("sessions_30d")]
    overall = sessions.mean()
    for device in range(3):
        group = sessions[ads.categorical[:, 0] == device]
        assert abs(group.mean() - overall) < 4 * sessions.std() / np.sqrt(len(group))


# ------------------------------------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    "call, error, pattern",
    [
        (lambda: make_movies(n_users=10, n_items=30, n_ratings=301, min_user_ratings=1), ValueError, "n_ratings"),
        (lambda: make_movies(n_users=10, n_items=30, n_ratings=100), ValueError, "fewer than 20 per user"),
        (lambda: make_movies(n_users=-5), ValueError, "n_users must be >= 1"),
        (lambda: make_movies(n_items=10), ValueError, "20 distinct items"),
        (lambda: make_movies(n_ratings=1e5), TypeError, "n_ratings must be an integer"),
        (lambda: make_movies(noise_std=-1.0), ValueError, "noise_std"),
        (lambda: make_movies(seed="zero"), TypeError, "seed"),
        (lambda: make_products(n_interactions=-1), ValueError, "n_interactions must be >= 1"),
        (lambda: make_products(n_users=10, n_items=10, n_interactions=101), ValueError, "n_users \\* n_items"),
        (lambda: make_music(n_items=-3), ValueError, "n_items must be >= 1"),
        (lambda: make_music(n_items=100, n_artists=200, n_interactions=5000), ValueError, "n_artists"),
        (lambda: make_ads(n_samples=0), ValueError, "n_samples must be >= 1"),
        (lambda: make_ads(n_features=50), ValueError, "n_features must be 100"),
        (lambda: make_ads(click_rate=1.5), ValueError, "click_rate"),
    ],
)
def test_bad_arguments_raise_clear_errors(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


def test_errors_name_the_function():
    with pytest.raises(ValueError, match="make_products"):
        make_products(n_users=0)
