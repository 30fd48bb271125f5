"""MatrixFactorization: gradients, quality on the bundled movies, the Recommender conventions."""

import numpy as np
import pytest

from tinyrec import gradcheck, metrics
from tinyrec.recommenders import BiasBaseline, GlobalMean, MatrixFactorization


@pytest.mark.parametrize("users, items", [([2], [4]), ([0, 1, 1, 4, 2], [6, 0, 0, 3, 6])])
def test_gradients_including_repeated_ids(users, items):
    model = MatrixFactorization(5, 7, n_factors=3, l2=0.3, l2_bias=0.2, init_std=0.5, dtype="float64", seed=1)
    model.global_mean = 3.0
    model.compile(optimizer="adam", loss="mse")
    ratings = np.linspace(1, 5, len(users))
    # the item_bias/user_bias tables start at zero; give them values so the L2 terms are exercised
    for layer in (model.user_bias, model.item_bias):
        layer.params["embeddings"][:] = np.random.default_rng(0).standard_normal(layer.params["embeddings"].shape)
    errors = gradcheck.check_model(model, (np.array(users), np.array(items)), ratings)
    assert max(errors.values()) <= gradcheck.TOLERANCE, errors


def test_forward_is_the_biased_mf_formula():
    model = MatrixFactorization(3, 4, n_factors=2, dtype="float64")
    model.global_mean = 3.5
    model.user_factors.params["embeddings"][:] = [[1, 0], [0, 2], [1, 1]]
    model.item_factors.params["embeddings"][:] = [[0.5, 0.5], [1, -1], [0, 0], [2, 0]]
    model.user_bias.params["embeddings"][:, 0] = [0.1, -0.2, 0.0]
    model.item_bias.params["embeddings"][:, 0] = [0.0, 0.3, -0.1, 0.0]
    # user 1, item 1: 3.5 − 0.2 + 0.3 + (0·1 + 2·(−1)) = 1.6; user 2, item 3: 3.5 + 0 + 0 + (1·2 + 1·0) = 5.5
    assert np.allclose(model.predict([1, 2], [1, 3]), [1.6, 5.5])
    assert np.allclose(model.score_items([1])[0], [3.5 - 0.2 + 1.0, 1.6, 3.5 - 0.2 - 0.1, 3.3])


@pytest.fixture(scope="module")
def movies_split():
    from tinyrec.datasets import load_movies, random_split

    data = load_movies()
    train, test = random_split(len(data.ratings), test_size=0.1, seed=0)
    return data, train, test


def test_quality_on_bundled_movies(movies_split):
    data, train, test = movies_split
    u, i, r = data.user_ids, data.item_ids, data.ratings
    model = MatrixFactorization(data.n_users, data.n_items, seed=0)
    model.fit(u[train], i[train], r[train], verbose=0)
    mf = metrics.rmse(r[test], model.predict(u[test], i[test]))
    bias = metrics.rmse(r[test], BiasBaseline(data.n_users, data.n_items).fit(u[train], i[train], r[train])
                        .predict(u[test], i[test]))
    mean = metrics.rmse(r[test], GlobalMean(data.n_users, data.n_items).fit(u[train], i[train], r[train])
                        .predict(u[test], i[test]))
    assert mf < bias < mean
    assert mf <= 1.10 * data.truth.noise_floor_rmse, (mf, data.truth.noise_floor_rmse)

    recs, scores = model.recommend(np.arange(5), k=10)
    assert recs.shape == (5, 10) and np.all(np.diff(scores, axis=1) <= 0)
    for row, user in zip(recs, range(5)):
        assert not set(row) & set(i[train][u[train] == user])  # nothing seen in training


def test_same_seed_same_model():
    rng = np.random.default_rng(0)
    u, i, r = rng.integers(0, 20, 300), rng.integers(0, 30, 300), rng.integers(1, 6, 300).astype(float)
    a = MatrixFactorization(20, 30, seed=3)
    b = MatrixFactorization(20, 30, seed=3)
    a.fit(u, i, r, epochs=3, verbose=0)
    b.fit(u, i, r, epochs=3, verbose=0)
    assert all(np.array_equal(x, y) for x, y in zip(a.get_weights(), b.get_weights()))


def test_bad_ids_and_ratings():
    model = MatrixFactorization(4, 5)
    with pytest.raises(ValueError, match=r"item_ids contains id 7, outside \[0, 5\)"):
        model.fit([0, 1], [1, 7], [3.0, 4.0], verbose=0)
    with pytest.raises(ValueError, match=r"user_ids contains id -1"):
        model.predict([-1], [0])
    with pytest.raises(ValueError, match="2 user/item ids but 3 ratings"):
        model.fit([0, 1], [1, 2], [3.0, 4.0, 5.0], verbose=0)
    with pytest.raises(ValueError, match="ratings contains NaN"):
        model.fit([0, 1], [1, 2], [3.0, np.nan], verbose=0)
    with pytest.raises(RuntimeError, match="call fit first"):
        model.recommend([0], k=3)


def test_fit_returns_the_model_and_keeps_the_history():
    u, i, r = np.array([0, 1, 2, 3] * 10), np.array([0, 1, 2, 3] * 10), np.array([4.0, 5.0, 3.0, 1.0] * 10)
    model = MatrixFactorization(5, 5, solver="sgd")
    assert model.fit(u, i, r, epochs=2, verbose=0) is model
    assert set(model.history.history) >= {"loss", "rmse", "val_loss", "val_rmse"}
    als = MatrixFactorization(5, 5)  # the default solver: no hold-out unless asked, so no val_ keys
    assert als.fit(u, i, r, epochs=2, verbose=0) is als
    assert set(als.history.history) == {"loss", "rmse"} and len(als.history.history["loss"]) == 2


def test_tiny_data_trains_without_early_stopping_and_says_so():
    # used to die with ZeroDivisionError: the early-stopping slice was empty
    model = MatrixFactorization(5, 5, solver="sgd")
    with pytest.warns(UserWarning, match="too few to hold out"):
        model.fit([0, 1, 2], [0, 1, 2], [4.0, 5.0, 3.0], epochs=3, verbose=0)
    assert len(model.history.history["loss"]) == 3 and "val_rmse" not in model.history.history
    assert np.isfinite(model.predict([0], [0])).all()


def test_a_second_fit_takes_its_learning_rate():
    u, i = np.repeat(np.arange(10), 5), np.tile(np.arange(5), 10)
    r = np.random.default_rng(0).integers(1, 6, 50).astype(float)
    model = MatrixFactorization(10, 5, solver="sgd").fit(u, i, r, epochs=1, learning_rate=0.01,
                                                         early_stopping=False, verbose=0)
    optimizer = model.optimizer
    model.fit(u, i, r, epochs=1, learning_rate=0.0005, early_stopping=False, verbose=0)
    assert model.optimizer is optimizer and model.optimizer.learning_rate == 0.0005  # moments kept, rate new
    with pytest.raises(ValueError, match="learning_rate must be a finite number > 0"):
        model.fit(u, i, r, learning_rate=-1.0, verbose=0)


@pytest.mark.parametrize("kwargs, error", [({"n_factors": True}, TypeError), ({"l2": -1.0}, ValueError),
                                           ({"n_factors": 0}, ValueError), ({"init_std": float("nan")}, ValueError)])
def test_constructor_arguments_are_checked(kwargs, error):
    with pytest.raises(error, match=next(iter(kwargs))):
        MatrixFactorization(5, 5, **kwargs)


def test_string_ratings_get_a_clear_error():
    with pytest.raises(ValueError, match="ratings must be numeric"):
        MatrixFactorization(5, 5).fit([0, 1], [0, 1], ["4", "5"], verbose=0)


def test_recommend_is_chunked_and_matches_score_items(monkeypatch):
    from tinyrec.recommenders import base
    u, i = np.repeat(np.arange(30), 4), np.tile(np.arange(4), 30)
    model = MatrixFactorization(30, 50).fit(u, i, np.ones(120) * 3, epochs=1, early_stopping=False, verbose=0)
    whole = model.recommend(np.arange(30), k=5)
    monkeypatch.setattr(base, "_SCORES_PER_CHUNK", 120)  # 2 users per chunk
    chunked = model.recommend(np.arange(30), k=5)
    np.testing.assert_array_equal(whole[0], chunked[0])
    # float32 matmuls over 2 rows or 30 rows may round differently in the last bit (BLAS blocking)
    np.testing.assert_allclose(whole[1], chunked[1], rtol=1e-6)


def overfitted_mf(clip=True):
    """An MF free to overfit (tiny λ, many factors) on ratings 1–5, so some raw r̂ leave the scale."""
    rng = np.random.default_rng(7)
    u, i = rng.integers(0, 12, 150), rng.integers(0, 15, 150)
    r = rng.integers(1, 6, 150).astype(float)
    model = MatrixFactorization(12, 15, n_factors=8, l2=1e-3, l2_bias=1e-3, clip=clip, dtype="float64", seed=0)
    return model.fit(u, i, r, epochs=10, verbose=0), r


def test_predict_clips_to_the_range_of_the_training_ratings():
    model, r = overfitted_mf()
    users, items = np.repeat(np.arange(12), 15), np.tile(np.arange(15), 12)
    raw = model.score_items(np.arange(12)).reshape(-1)  # the unclipped r̂ of every pair
    assert raw.max() > 5 and raw.min() < 1, (raw.min(), raw.max())  # else this test would check nothing
    assert model.rating_range == (r.min(), r.max()) == (1.0, 5.0)
    np.testing.assert_allclose(model.predict(users, items), np.clip(raw, 1.0, 5.0), rtol=1e-12)
    unclipped, _ = overfitted_mf(clip=False)
    np.testing.assert_allclose(unclipped.predict(users, items), raw, rtol=1e-12)  # same fit, raw answers


def test_an_unfitted_model_has_no_range_to_clip_to():
    model = MatrixFactorization(3, 4, n_factors=2, init_std=5.0, dtype="float64", seed=0)
    users, items = np.repeat(np.arange(3), 4), np.tile(np.arange(4), 3)
    raw = model.score_items(np.arange(3)).reshape(-1)
    assert model.rating_range is None and (raw.max() > 5 or raw.min() < 1)  # something a clip would change
    np.testing.assert_allclose(model.predict(users, items), raw, rtol=1e-12)


def test_clip_must_be_a_flag():
    with pytest.raises(TypeError, match="clip must be True or False"):
        MatrixFactorization(5, 5, clip="yes")
    with pytest.raises(TypeError, match="clip must be True or False"):
        MatrixFactorization(5, 5, clip=1)
