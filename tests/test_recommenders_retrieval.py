"""Tests for tinyrec.recommenders.retrieval: TwoTower (in-batch softmax + log-Q) and BPR matrix factorisation."""

import numpy as np
import pytest

from tinyrec.datasets import leave_last_out, make_products
from tinyrec.gradcheck import TOLERANCE, check_model
from tinyrec.losses import BPRLoss, InBatchSoftmax
from tinyrec.recommenders import BPRMatrixFactorization, MostPopular, Recommender, TwoTower, full_ranking_metrics

USERS = np.array([0, 1, 1, 2, 3, 3, 4, 0])
ITEMS = np.array([2, 2, 5, 0, 1, 2, 6, 4])  # item 2 three times: accidental hits inside one batch


@pytest.fixture(scope="module")
def products():
    """A small planted data set (users' tastes are latent factors); leave-latest-out split."""
    d = make_products(n_users=300, n_items=200, n_interactions=6000, seed=0)
    train, test = leave_last_out(d.user_ids, d.timestamps)
    return d, train, test


def hit_rate(model, d, train, test):
    users, targets = d.user_ids[test], d.item_ids[test]
    scores = model.score_items(users).astype(np.float64)
    indptr, indices = model._seen  # never recommend what the user already bought
    for r, u in enumerate(users):
        scores[r, indices[indptr[u]:indptr[u + 1]]] = -np.inf
    return full_ranking_metrics(scores, targets, k=10)["hit_rate"]


# ------------------------------------------------------------------------------------------- TwoTower


def test_two_tower_forward_is_the_in_batch_score_matrix():
    m = TwoTower(5, 7, embedding_dim=3, tower_units=(4, 2), seed=0, dtype="float64")
    S = m.forward((USERS, ITEMS))
    P, Q = m.user_embedding.params["embeddings"], m.item_embedding.params["embeddings"]

    def tower(h, layers):
        h = np.maximum(h @ layers[0].params["kernel"] + layers[0].params["bias"], 0.0)  # relu
        return h @ layers[1].params["kernel"] + layers[1].params.get("bias", 0.0)  # linear last layer

    F, H = tower(P[USERS], m.user_tower), tower(Q[ITEMS], m.item_tower)
    np.testing.assert_allclose(S, F @ H.T, rtol=1e-12)
    np.testing.assert_allclose(m.predict(USERS, ITEMS), np.diagonal(S), rtol=1e-12)
    np.testing.assert_allclose(m.score_items(USERS)[np.arange(8), ITEMS], np.diagonal(S), rtol=1e-12)
    assert m.score_items([0, 1]).shape == (2, 7)


@pytest.mark.parametrize("tower_units", [(), (4,), (4, 3)])
@pytest.mark.parametrize("with_log_q", [True, False])
def test_two_tower_gradients(tower_units, with_log_q):
    m = TwoTower(5, 7, embedding_dim=3, tower_units=tower_units, l2=0.01, init_std=0.5, seed=1, dtype="float64")
    log_q = m.item_log_q(ITEMS) if with_log_q else None
    m.compile(optimizer="sgd", loss=InBatchSoftmax(log_q=log_q))
    errors = check_model(m, (USERS, ITEMS), ITEMS)
    assert set(errors) >= {"user_embedding.embeddings", "item_embedding.embeddings"}
    # kernel and bias of every Dense in both towers, but the item tower's last one has no bias (a row-constant
    # shift of the logits, invisible to the softmax)
    assert len(errors) == 2 + max(4 * len(tower_units) - 1, 0)
    assert max(errors.values()) <= TOLERANCE, errors


def test_two_tower_log_q_is_the_training_frequency():
    m = TwoTower(5, 7)
    log_q = m.item_log_q(ITEMS)
    np.testing.assert_allclose(np.exp(log_q[[0, 2]]), np.array([1, 3]) / 8.5)  # 8 counts + 0.5 for item 3, never seen
    assert np.isfinite(log_q).all()


def test_two_tower_fit_returns_self_and_learns(products):
    d, train, test = products
    m = TwoTower(d.n_users, d.n_items, embedding_dim=16, seed=0)
    assert m.fit(d.user_ids[train], d.item_ids[train], epochs=8, batch_size=128, verbose=0) is m
    assert isinstance(m, Recommender)
    loss = m.history.history["loss"]
    assert len(loss) == 8 and loss[-1] < loss[0]
    popular = MostPopular(d.n_users, d.n_items).fit(d.user_ids[train], d.item_ids[train])
    assert hit_rate(m, d, train, test) > hit_rate(popular, d, train, test) + 0.05
    items, scores = m.recommend([0, 1], k=5)
    assert items.shape == scores.shape == (2, 5) and np.all(np.diff(scores, axis=1) <= 0)
    bought = set(d.item_ids[train][d.user_ids[train] == 0].tolist())
    assert not bought & set(items[0].tolist())


def test_two_tower_errors():
    with pytest.raises(ValueError, match="TwoTower: tower_units must be a positive integer"):
        TwoTower(3, 4, tower_units=(4, 0))
    with pytest.raises(TypeError, match="TwoTower: log_q_correction must be True or False"):
        TwoTower(3, 4, log_q_correction="yes")
    with pytest.raises(ValueError, match="item_ids contains id 9"):
        TwoTower(3, 4).fit([0, 1], [1, 9], verbose=0)


# ------------------------------------------------------------------------------------------- BPR-MF


def test_bpr_forward_and_gradients():
    m = BPRMatrixFactorization(5, 7, n_factors=3, l2=0.01, l2_bias=0.001, init_std=0.5, seed=2, dtype="float64")
    m.item_bias.params["embeddings"][:] = np.random.default_rng(0).standard_normal((7, 1))
    neg = np.array([3, 3, 0, 6, 6, 5, 1, 2])  # repeats, and item 2 both a positive and a negative
    S = m.forward((USERS, ITEMS, neg))
    np.testing.assert_allclose(S[:, 0], m.predict(USERS, ITEMS), rtol=1e-12)
    np.testing.assert_allclose(S[:, 1], m.score_items(USERS)[np.arange(8), neg], rtol=1e-12)
    m.compile(optimizer="sgd", loss=BPRLoss())
    errors = check_model(m, (USERS, ITEMS, neg), np.tile([1.0, 0.0], (8, 1)))
    assert len(errors) == 3 and max(errors.values()) <= TOLERANCE, errors


def test_bpr_fit_draws_fresh_unseen_negatives(products, monkeypatch):
    d, train, test = products
    m = BPRMatrixFactorization(d.n_users, d.n_items, n_factors=16, seed=0)
    seen_pairs = set(zip(d.user_ids[train].tolist(), d.item_ids[train].tolist()))
    drawn = []
    original = m._epoch_data

    def spy(epoch, x, y):
        out = original(epoch, x, y)
        drawn.append(out[0][2].copy())
        return out

    monkeypatch.setattr(m, "_epoch_data", spy)
    assert m.fit(d.user_ids[train], d.item_ids[train], epochs=6, verbose=0) is m
    assert not np.array_equal(drawn[1], drawn[2])  # fresh every epoch
    assert not any((u, j) in seen_pairs for u, j in zip(d.user_ids[train].tolist(), drawn[3].tolist()))
    popular = MostPopular(d.n_users, d.n_items).fit(d.user_ids[train], d.item_ids[train])
    assert hit_rate(m, d, train, test) > hit_rate(popular, d, train, test) + 0.05


def test_bpr_errors():
    m = BPRMatrixFactorization(3, 4)
    with pytest.raises(ValueError, match="equal lengths"):
        m._check_inputs(([0, 1], [1, 2], [3]), "fit")
    with pytest.raises(ValueError, match="BPRMatrixFactorization: n_factors must be a positive integer"):
        BPRMatrixFactorization(3, 4, n_factors=0)


@pytest.mark.parametrize("make", [
    lambda: TwoTower(5, 7, embedding_dim=3, tower_units=(4, 2), seed=1).fit(USERS, ITEMS, epochs=2, batch_size=4,
                                                                          verbose=0),
    lambda: BPRMatrixFactorization(5, 7, n_factors=3, seed=1).fit(USERS, ITEMS, epochs=2, verbose=0),
], ids=["TwoTower", "BPRMatrixFactorization"])
def test_saved_and_loaded_models_recommend_the_same(make, tmp_path):
    from tinyrec.models import load_model

    model = make()
    model.save(tmp_path / "m.tinyrec")
    loaded = load_model(tmp_path / "m.tinyrec")
    assert type(loaded) is type(model) and loaded.get_config() == model.get_config()
    np.testing.assert_array_equal(loaded.predict(USERS, ITEMS), model.predict(USERS, ITEMS))
    for a, b in zip(loaded.recommend(np.arange(5), k=3), model.recommend(np.arange(5), k=3)):
        np.testing.assert_array_equal(a, b)
    assert loaded.fit(USERS, ITEMS, epochs=1, verbose=0) is loaded  # the reloaded loss trains on


def test_two_tower_epoch_loss_is_the_mean_of_its_batch_losses():
    """The in-batch loss couples a batch's rows, so the epoch's loss must be averaged batch by batch."""
    from tinyrec.optimizers import SGD

    m = TwoTower(5, 7, embedding_dim=3, seed=4, dtype="float64", log_q_correction=False)
    m.fit(USERS, ITEMS, epochs=1, batch_size=3, shuffle=False, optimizer=SGD(learning_rate=1e-300), verbose=0)
    loss = InBatchSoftmax()
    expected = sum(len(ITEMS[rows]) * loss(ITEMS[rows], m.forward((USERS[rows], ITEMS[rows])))
                   for rows in (slice(0, 3), slice(3, 6), slice(6, 8))) / 8
    assert m.history.history["loss"][0] == pytest.approx(expected, rel=1e-12)
