"""Tests for tinyrec.recommenders.neumf (NeuMF, He et al. 2017)."""

import numpy as np
import pytest

from tinyrec.gradcheck import TOLERANCE, check_model
from tinyrec.recommenders.neumf import NeuMF

# Tiny implicit data: 6 users, 10 items, positives only (user 5 has bought a lot).
POS_U = np.array([0, 0, 1, 1, 1, 2, 3, 3, 4, 5, 5, 5, 5, 5, 5])
POS_I = np.array([0, 3, 1, 3, 7, 2, 0, 9, 4, 0, 1, 2, 3, 4, 5])


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


# ---------------------------------------------------------------------------------------------
# The model: forward formula and gradients
# ---------------------------------------------------------------------------------------------
def test_forward_matches_the_formula_written_out_in_numpy():
    m = NeuMF(4, 5, n_factors=3, mlp_layers=(6, 4, 2), init_std=0.5, seed=0, dtype="float64")
    users, items = np.array([0, 3, 3, 1]), np.array([4, 0, 4, 2])
    P, Q = m.gmf_user.params["embeddings"], m.gmf_item.params["embeddings"]
    A, B = m.mlp_user.params["embeddings"], m.mlp_item.params["embeddings"]
    h = np.concatenate([A[users], B[items]], axis=1)  # (4, 6): half user, half item
    for layer in m.mlp_dense:
        h = np.maximum(h @ layer.params["kernel"] + layer.params["bias"], 0.0)
    z = np.concatenate([P[users] * Q[items], h], axis=1) @ m.output_layer.params["kernel"]
    expected = _sigmoid(z[:, 0] + m.output_layer.params["bias"][0])
    np.testing.assert_allclose(m.predict(users, items), expected, rtol=1e-12)
    assert A.shape == (4, 3) and m.output_layer.params["kernel"].shape == (3 + 2, 1)


@pytest.mark.parametrize("loss", ["binary_crossentropy", "mse"])  # fused sigmoid, and through σ'
def test_gradients_match_finite_differences(loss):
    m = NeuMF(5, 7, n_factors=3, mlp_layers=(4, 3, 2), l2=0.01, init_std=0.5, seed=1, dtype="float64")
    m.compile(optimizer="adam", loss=loss)
    assert m._fused == (loss == "binary_crossentropy")
    users, items = np.array([0, 1, 1, 4, 0, 0]), np.array([2, 2, 6, 0, 2, 5])  # repeated users and items
    y = np.array([1, 0, 1, 0, 1, 0.0])
    for sl in (slice(None), slice(0, 1)):  # the batch, and batch size 1
        errors = check_model(m, (users[sl], items[sl]), y[sl])
        assert len(errors) == 4 + 2 * 2 + 2
        assert max(errors.values()) <= TOLERANCE, errors


@pytest.mark.parametrize("dtype, rtol", [("float64", 1e-12), ("float32", 1e-5)])
@pytest.mark.parametrize("optimizer", ["adam", "sgd_momentum", "rmsprop"])
@pytest.mark.parametrize("loss", ["binary_crossentropy", "mse"])
def test_fused_training_step_moves_every_parameter_as_forward_backward_and_per_parameter_updates(
        dtype, rtol, optimizer, loss):
    # fit's fused step (one lookup, one row-sum and one optimizer update per side, one update for the flat
    # Dense buffer) against the reference: forward, backward, then the optimizer on each layer's own
    # (grad, param) pairs — four embedding tables and six Dense arrays, each with its own state.
    from tinyrec.models import Model
    from tinyrec.optimizers import SGD, Adam, RMSprop

    make_opt = {"adam": lambda: Adam(0.05), "sgd_momentum": lambda: SGD(0.5, momentum=0.9),
                "rmsprop": lambda: RMSprop(0.01)}[optimizer]
    fused, reference = (NeuMF(6, 9, n_factors=3, mlp_layers=(4, 3, 2), l2=0.01, init_std=0.5, seed=3,
                              dtype=dtype) for _ in range(2))
    for m in (fused, reference):
        m.compile(optimizer=make_opt(), loss=loss)
    rng = np.random.default_rng(0)
    for _ in range(5):
        users, items = rng.integers(0, 6, 12), rng.integers(0, 9, 12)  # many repeated ids per batch
        y = rng.integers(0, 2, 12).astype(dtype).reshape(-1, 1)
        fused._train_step((users, items), y)
        reference.forward((users, items), training=True)
        reference.backward(reference._train_loss.gradient(y, reference._loss_input(reference.output_layer._y)),
                           from_logits=reference._fused)
        reference.optimizer.apply_gradients(Model._grads_and_params(reference))  # per-parameter pairs
        assert fused._penalty() == pytest.approx(reference._penalty(), rel=rtol)
    moved = 0
    for a, b, start in zip(fused.get_weights(), reference.get_weights(),
                           NeuMF(6, 9, n_factors=3, mlp_layers=(4, 3, 2), init_std=0.5, seed=3,
                                 dtype=dtype).get_weights()):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * 1e-3)
        moved += not np.allclose(a, start)
    assert moved == 10  # every table and Dense array was trained, so the comparison means something


def test_rejects_bad_configuration_and_ids():
    with pytest.raises(ValueError, match="mlp_layers"):
        NeuMF(3, 4, mlp_layers=(5, 2))  # odd first width cannot be split between user and item
    with pytest.raises(ValueError, match="n_factors"):
        NeuMF(3, 4, n_factors=0)
    m = NeuMF(6, 10, n_factors=2, mlp_layers=(4, 2))
    with pytest.raises(ValueError, match=r"item_ids.*\b99\b"):
        m.fit(POS_U, np.where(POS_I == 9, 99, POS_I), verbose=0)
    with pytest.raises(ValueError, match=r"user_ids.*-1"):
        m.predict([-1, 0], [0, 0])
    with pytest.raises(ValueError, match="n_negatives"):
        m.fit(POS_U, POS_I, n_negatives=0, verbose=0)
    with pytest.raises(ValueError, match="user_ids has 2 entries but item_ids has 3"):
        m.fit([0, 1], [0, 1, 2], verbose=0)


# ---------------------------------------------------------------------------------------------
# Training with sampled negatives
# ---------------------------------------------------------------------------------------------
class _Spy(NeuMF):
    """Records the training rows of every epoch."""

    def _epoch_data(self, epoch, x, y):
        x, y = super()._epoch_data(epoch, x, y)
        self.epochs_seen = getattr(self, "epochs_seen", []) + [(x[0].copy(), x[1].copy(), y.copy())]
        return x, y


def test_each_epoch_gets_fresh_negatives_that_the_user_never_bought():
    m = _Spy(6, 10, n_factors=2, mlp_layers=(4, 2), seed=0)
    m.fit(POS_U, POS_I, epochs=3, n_negatives=3, batch_size=4, early_stopping=False, verbose=0)
    n_pos = len(POS_U)
    positives = set(zip(POS_U.tolist(), POS_I.tolist()))
    negative_blocks = []
    for users, items, y in m.epochs_seen:
        assert len(users) == n_pos * (1 + 3)
        np.testing.assert_array_equal(y.reshape(-1), np.r_[np.ones(n_pos), np.zeros(3 * n_pos)])
        np.testing.assert_array_equal(users, np.r_[POS_U, np.repeat(POS_U, 3)])
        np.testing.assert_array_equal(items[:n_pos], POS_I)
        assert not any((u, i) in positives for u, i in zip(users[n_pos:].tolist(), items[n_pos:].tolist()))
        negative_blocks.append(items[n_pos:])
    assert not np.array_equal(negative_blocks[0], negative_blocks[1])
    assert not np.array_equal(negative_blocks[1], negative_blocks[2])


def test_early_stopping_holds_out_one_positive_per_user_and_ranks_it():
    rng = np.random.default_rng(0)
    users = np.repeat(np.arange(40), 10)
    items = np.concatenate([rng.choice(200, 10, replace=False) for _ in range(40)])
    m = _Spy(40, 200, n_factors=2, mlp_layers=(4, 2), seed=0)
    history = m.fit(users, items, epochs=2, n_negatives=2, verbose=0).history
    hr = history.history["val_hit_rate"]
    assert len(hr) == len(history.history["loss"]) >= 1 and all(0 <= v <= 1 for v in hr)
    assert len(history.history["val_ndcg"]) == len(hr)
    train_users, train_items, y = m.epochs_seen[0]
    n_train = int(y.sum())
    assert n_train == 400 - 40 and len(y) == 3 * n_train  # one positive per user held out, 2 negatives each
    assert np.array_equal(np.bincount(train_users[:n_train]), np.full(40, 9))
    # The held-out positives are still excluded from the sampled negatives.
    positives = set(zip(users.tolist(), items.tolist()))
    negs = zip(train_users[n_train:].tolist(), train_items[n_train:].tolist())
    assert not any(pair in positives for pair in negs)


def test_with_timestamps_early_stopping_holds_out_each_users_latest_positive():
    rng = np.random.default_rng(1)
    users = np.repeat(np.arange(30), 8)
    items = np.concatenate([rng.choice(150, 8, replace=False) for _ in range(30)])
    times = rng.permutation(len(users)).astype(float)  # distinct times, in no particular order
    times[users == 3] = 7.0  # user 3: all at the same time -> one of them, chosen at random, is "latest"
    m = _Spy(30, 150, n_factors=2, mlp_layers=(4, 2), seed=0)
    m.fit(users, items, epochs=1, n_negatives=1, timestamps=times, verbose=0)
    train_users, train_items, y = m.epochs_seen[0]
    n_train = int(y.sum())
    kept = set(zip(train_users[:n_train].tolist(), train_items[:n_train].tolist()))
    held_out = [(u, it, t) for u, it, t in zip(users.tolist(), items.tolist(), times) if (u, it) not in kept]
    assert sorted(u for u, _, _ in held_out) == list(range(30))  # exactly one per user
    for u, _, t in held_out:
        assert t == times[users == u].max()  # and it is that user's latest
    # Without timestamps the held-out positive is random: over 30 users it is not always the latest.
    r = _Spy(30, 150, n_factors=2, mlp_layers=(4, 2), seed=0)
    r.fit(users, items, epochs=1, n_negatives=1, verbose=0)
    ru, ri, ry = r.epochs_seen[0]
    kept = set(zip(ru[:int(ry.sum())].tolist(), ri[:int(ry.sum())].tolist()))
    latest = [(u, it) for u, it, t in zip(users.tolist(), items.tolist(), times) if t == times[users == u].max()]
    assert sum(pair not in kept for pair in latest) < 25


def test_timestamps_are_checked():
    m = NeuMF(6, 10, n_factors=2, mlp_layers=(4, 2))
    with pytest.raises(ValueError, match="timestamps has 3 entries but there are 15 interactions"):
        m.fit(POS_U, POS_I, timestamps=[1, 2, 3], verbose=0)
    with pytest.raises(ValueError, match="timestamps"):
        m.fit(POS_U, POS_I, timestamps=["a"] * 15, verbose=0)


def test_same_seed_same_model_different_seed_different_model():
    def weights(seed):
        m = NeuMF(6, 10, n_factors=2, mlp_layers=(4, 2), seed=seed)
        m.fit(POS_U, POS_I, epochs=2, batch_size=8, early_stopping=False, verbose=0)
        return m.get_weights()

    a, b, c = weights(3), weights(3), weights(4)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not all(np.array_equal(x, y) for x, y in zip(a, c))


def test_scores_shapes_and_recommend_excludes_only_the_positives():
    m = NeuMF(6, 10, n_factors=2, mlp_layers=(4, 2), seed=0)
    m.fit(POS_U, POS_I, epochs=2, batch_size=8, n_negatives=4, early_stopping=False, verbose=0)
    scores = m.score_items([5, 0])
    assert scores.shape == (2, 10)
    np.testing.assert_allclose(scores[0], m.predict(np.full(10, 5), np.arange(10)), rtol=1e-6)
    assert np.all((scores > 0) & (scores < 1))  # probabilities
    # User 5 bought items 0..5: the 4 others are exactly what is left (sampled negatives are not "seen").
    recs, rec_scores = m.recommend([5, 1], k=4)
    assert recs.shape == rec_scores.shape == (2, 4)
    assert set(recs[0].tolist()) == {6, 7, 8, 9}
    assert not set(recs[1].tolist()) & {1, 3, 7}
    assert np.all(np.diff(rec_scores, axis=1) <= 0)  # best first


# ---------------------------------------------------------------------------------------------
# Quality on the bundled synthetic purchases
# ---------------------------------------------------------------------------------------------
def test_neumf_beats_most_popular_on_synthetic_products():
    synthetic = pytest.importorskip("tinyrec.datasets.synthetic")
    from tinyrec.datasets.splits import leave_last_out
    from tinyrec.recommenders.baselines import MostPopular
    from tinyrec.recommenders.evaluation import evaluate_ranking

    d = synthetic.make_products(n_users=300, n_items=1000, n_interactions=9000, seed=0)
    train, test = leave_last_out(d.user_ids, d.timestamps, seed=0)
    split = (d.user_ids[train], d.item_ids[train], d.user_ids[test], d.item_ids[test])
    popular = evaluate_ranking(MostPopular(d.n_users, d.n_items).fit(*split[:2]), *split, seed=0)
    model = NeuMF(d.n_users, d.n_items, seed=0)
    model.fit(*split[:2], batch_size=512, learning_rate=0.005, verbose=0)  # default early stopping
    neumf = evaluate_ranking(model, *split, seed=0)
    # Measured: NeuMF HR@10 ≈ 0.47, NDCG@10 ≈ 0.29; most popular 0.35 / 0.18 (300 test users).
    assert neumf["hit_rate"] > popular["hit_rate"] + 0.05
    assert neumf["ndcg"] > popular["ndcg"] + 0.05


def test_fit_returns_self_and_warns_when_early_stopping_cannot_run():
    # 12 items cannot rank a held-out item among 99 unseen ones: early stopping is switched off, loudly
    users, items = np.repeat(np.arange(6), 3), np.tile([0, 1, 2], 6)
    model = NeuMF(6, 12, n_factors=2, mlp_layers=(4, 2), seed=0)
    with pytest.warns(UserWarning, match="early stopping is off"):
        assert model.fit(users, items, epochs=2, verbose=0) is model
    assert len(model.history.history["loss"]) == 2
