"""tinyrec.explain: "because you liked X" and gradient × input, checked exactly and against known truth."""

import numpy as np
import pytest

from tinyrec.datasets import make_movies
from tinyrec.explain import because_you_liked, gradient_times_input, item_embeddings, item_similarity
from tinyrec.gradcheck import numerical_gradient, relative_error
from tinyrec.layers import Dense
from tinyrec.models import Sequential
from tinyrec.recommenders import MatrixFactorization, NeuMF

# ---------------------------------------------------------------------------------------------------------
# because_you_liked
# ---------------------------------------------------------------------------------------------------------

# Five items in 2-D: 0 and 1 point east, 2 north-east, 3 north, 4 west.
Q = np.array([[1.0, 0.0], [2.0, 0.1], [1.0, 1.0], [0.0, 1.0], [-1.0, 0.0]])


def test_similarity_is_the_cosine():
    sims = item_similarity(Q, 0, [1, 2, 3, 4])
    assert sims == pytest.approx([2 / np.hypot(2, 0.1), 1 / np.sqrt(2), 0.0, -1.0])


def test_explanations_are_the_most_similar_history_items_first():
    items, sims = because_you_liked(Q, user_id=0, item_id=0, history=[4, 3, 2, 1], k=2)
    assert items.tolist() == [1, 2]
    assert sims[0] > sims[1]
    # The recommended item never explains itself; a short history gives fewer explanations.
    items, _ = because_you_liked(Q, 0, 3, history=[3, 2], k=3)
    assert items.tolist() == [2]
    assert len(because_you_liked(Q, 0, 3, history=[3], k=3)[0]) == 0


def test_history_defaults_to_the_users_training_items():
    mf = MatrixFactorization(3, 5, n_factors=2, seed=0)
    mf.fit([0, 0, 1, 2], [1, 4, 2, 3], [5.0, 1.0, 3.0, 4.0], epochs=1, early_stopping=False, verbose=0)
    mf.item_factors.params["embeddings"][:] = Q
    items, _ = because_you_liked(mf, user_id=0, item_id=0, k=5)
    assert items.tolist() == [1, 4]  # user 0 had items 1 and 4; 1 is the closer
    assert item_embeddings(mf) is mf.item_factors.params["embeddings"]


def test_neumf_uses_both_item_tables():
    model = NeuMF(4, 6, n_factors=3, mlp_layers=(4, 2), seed=0)
    assert item_embeddings(model).shape == (6, 3 + 2)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="because_you_liked.*k"):
        because_you_liked(Q, 0, 0, history=[1], k=0)
    with pytest.raises(ValueError, match="history"):
        because_you_liked(Q, 0, 0, history=[7])
    with pytest.raises(ValueError, match="no history"):
        because_you_liked(Q, 0, 0)
    with pytest.raises(TypeError, match="item embedding"):
        item_embeddings(object())


def test_explanations_from_the_true_factors_share_genres():
    # The generator places an item's true factors near the mean of its genres' centres, so explanations
    # computed from those factors must share a genre with the recommended item far more often than random
    # items from the same history do. (Chapter 9 grades a *trained* model the same way.)
    data = make_movies(n_users=150, n_items=400, n_ratings=8000, seed=3)
    genres = data.item_genres[:, 1:].astype(bool)
    rng = np.random.default_rng(0)
    hits, chance = [], []
    for user in range(150):
        history = data.item_ids[data.user_ids == user]
        target = rng.integers(400)
        items, _ = because_you_liked(data.truth.item_factors, user, target, history=history, k=3)
        hits += [bool((genres[j] & genres[target]).any()) for j in items]
        chance += [bool((genres[j] & genres[target]).any()) for j in rng.choice(history, 3, replace=False)]
    assert np.mean(hits) > np.mean(chance) + 0.08, (np.mean(hits), np.mean(chance))


# ---------------------------------------------------------------------------------------------------------
# gradient_times_input
# ---------------------------------------------------------------------------------------------------------


def _mlp(seed=0):
    model = Sequential([Dense(6, activation="tanh", input_dim=4), Dense(5, activation="relu"),
                        Dense(1, activation="sigmoid")], seed=seed, dtype="float64")
    model.compile(optimizer="adam", loss="binary_crossentropy")
    return model


@pytest.mark.parametrize("output", ["logit", "output"])
def test_gradient_matches_finite_differences(output):
    model = _mlp()
    rng = np.random.default_rng(1)
    x = rng.normal(size=(5, 4))
    attributions = gradient_times_input(model, x, output=output)

    for n in range(5):
        row = x[n].copy()

        def f(row=row):
            y = model.forward(row[None, :])
            return float(model.output_layer.logits[0, 0] if output == "logit" else y[0, 0])

        numeric = numerical_gradient(f, row)
        assert relative_error(attributions[n], x[n] * numeric) < 1e-7


def test_a_linear_model_is_explained_exactly_by_its_weights():
    model = Sequential([Dense(1, activation="sigmoid", input_dim=3)], seed=0, dtype="float64")
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    w = model.layers[0].params["kernel"][:, 0]
    x = np.array([[1.0, 2.0, -1.0], [0.5, 0.0, 3.0]])
    np.testing.assert_allclose(gradient_times_input(model, x), x * w, rtol=1e-14)
    assert model.layers[0].needs_input_grad is False  # restored: training still skips the first dx


def test_attributions_recover_a_known_teacher():
    # Labels from a known logistic teacher; a small MLP trained on them should attribute each row's logit
    # to features roughly as the teacher does (x ⊙ w_true), and much better than the untrained network.
    rng = np.random.default_rng(0)
    w_true = np.array([2.0, -1.5, 1.0, 0.0, 0.5, -0.5])
    x = rng.normal(size=(4000, 6))
    y = (rng.random(4000) < 1 / (1 + np.exp(-(x @ w_true)))).astype(np.float64)
    model = Sequential([Dense(16, activation="relu", input_dim=6), Dense(1, activation="sigmoid")], seed=0)
    model.compile(optimizer="adam", loss="binary_crossentropy")
    untrained = gradient_times_input(model, x[:500])
    model.fit(x, y, batch_size=64, epochs=5, verbose=0)
    trained = gradient_times_input(model, x[:500])
    truth = x[:500] * w_true

    def mean_row_correlation(a, b):
        a = a - a.mean(axis=1, keepdims=True)
        b = b - b.mean(axis=1, keepdims=True)
        return float(np.mean((a * b).sum(1) / np.sqrt((a * a).sum(1) * (b * b).sum(1))))

    assert mean_row_correlation(trained, truth) > 0.8
    assert mean_row_correlation(trained, truth) > mean_row_correlation(untrained, truth) + 0.3


def test_gradient_times_input_checks_its_arguments():
    model = _mlp()
    with pytest.raises(ValueError, match="output"):
        gradient_times_input(model, np.ones((2, 4)), output="prob")
    with pytest.raises(ValueError, match="unit"):
        gradient_times_input(model, np.ones((2, 4)), unit=1)
    with pytest.raises(ValueError, match="4 features"):
        gradient_times_input(model, np.ones((2, 3)))
