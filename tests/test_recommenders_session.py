"""SessionMLP, SessionCNN, SessionGRU on tiny sequences written here: what each can and cannot learn, the
(prefix → next item) pairs, masking, seeds, the SequenceRecommender interface and clear errors."""

import numpy as np
import pytest

from tinyrec.gradcheck import TOLERANCE, check_model
from tinyrec.losses import SparseCategoricalCrossentropy
from tinyrec.recommenders.session import SessionCNN, SessionGRU, SessionMLP, last_window, training_pairs

MODELS = [SessionMLP, SessionCNN, SessionGRU]
# Small networks and a larger learning rate keep these tests to a fraction of a second each.
SMALL = {SessionMLP: {"hidden_units": 16}, SessionCNN: {"filters": 16}, SessionGRU: {"units": 16}}
FIT = {"learning_rate": 0.01, "batch_size": 32, "verbose": 0}


def small(cls, n_items=4, **kwargs):
    return cls(n_items, **{"max_len": 4, "embedding_dim": 8, "seed": 0, **SMALL[cls], **kwargs})


def cycle_sequences(n=60, seed=0):
    """Items 1 → 2 → 3 → 1 → … (item 0 never occurs), random start and length: the next item is determined
    by the last one, and all three are equally popular."""
    rng = np.random.default_rng(seed)
    return [1 + (rng.integers(0, 3) + np.arange(rng.integers(3, 9))) % 3 for _ in range(n)]


def hr_at_1(model, sequences):
    items, _ = model.recommend([s[:-1] for s in sequences], k=1)
    return float(np.mean(items[:, 0] == [s[-1] for s in sequences]))


def test_training_pairs_by_hand():
    windows, targets = training_pairs([np.array([4, 0, 2, 7]), np.array([5]), np.array([1, 3])], max_len=2)
    # ids shift by +1 (0 is padding); each target's window is the (at most 2) items before it
    assert windows.tolist() == [[0, 5], [5, 1], [1, 3], [0, 2]]
    assert targets.tolist() == [0, 2, 7, 3]
    assert last_window([4, 0, 2], 5).tolist() == [0, 0, 5, 1, 3]
    assert last_window([], 2).tolist() == [0, 0]


def test_gru_learns_a_cycle_that_popularity_cannot():
    train, test = cycle_sequences(60, seed=0), cycle_sequences(30, seed=1)
    model = small(SessionGRU, max_len=5).fit(train, epochs=10, **FIT)
    assert hr_at_1(model, test) >= 0.95
    counts = np.bincount(np.concatenate(train), minlength=4)  # most popular item, always recommended
    popularity_hr = np.mean([s[-1] == counts.argmax() for s in test])
    assert popularity_hr <= 0.5
    assert model.history.history["loss"][-1] < 0.5 * model.history.history["loss"][0]


@pytest.mark.parametrize("cls", MODELS)
def test_every_model_keeps_the_interface(cls):
    model = small(cls)
    assert model.fit(cycle_sequences(), epochs=10, **FIT) is model
    assert len(model.history.history["loss"]) == 10
    scores = model.score_next([[1, 2], [], [3]])
    assert scores.shape == (3, 4) and scores.dtype == np.float64
    items, top = model.recommend([[1, 2]], k=4, exclude_seen=True)
    assert set(items[0, :2]) == {0, 3} and np.isneginf(top[0, 2:]).all()


def test_order_matters_to_the_cnn_and_gru_not_to_the_mlp():
    """After 1 2 3 comes 1, after 3 1 2 comes 3: the same bag of items, so the order-free MLP must give both
    the same scores and cannot get both right; the CNN and GRU read the order and learn the cycle."""
    seqs, test = cycle_sequences(), cycle_sequences(30, seed=2)
    models = {cls: small(cls).fit(seqs, epochs=10, **FIT) for cls in MODELS}
    a, b = [1, 2, 3], [3, 1, 2]
    mlp = models[SessionMLP]
    assert np.allclose(mlp.score_next([a]), mlp.score_next([b]), atol=1e-6)
    assert mlp.recommend([a], k=1)[0][0, 0] == mlp.recommend([b], k=1)[0][0, 0]
    for cls in (SessionCNN, SessionGRU):
        assert models[cls].recommend([a, b], k=1)[0][:, 0].tolist() == [1, 3]
        assert hr_at_1(models[cls], test) >= 0.95


@pytest.mark.parametrize("cls", [SessionGRU, SessionMLP])
def test_padding_is_invisible(cls):
    """Same weights, longer window: a short history only gains padding, so its scores must not move."""
    model = small(cls, max_len=3).fit(cycle_sequences(), epochs=2, **FIT)
    before = model.score_next([[2, 3], [1]])
    model.max_len = 9
    assert np.allclose(model.score_next([[2, 3], [1]]), before, atol=1e-6)


def test_same_seed_same_model_and_different_seed_differs():
    seqs = cycle_sequences()
    a = small(SessionGRU, seed=3).fit(seqs, epochs=2, **FIT).score_next([[1, 2]])
    b = small(SessionGRU, seed=3).fit(seqs, epochs=2, **FIT).score_next([[1, 2]])
    c = small(SessionGRU, seed=4).fit(seqs, epochs=2, **FIT).score_next([[1, 2]])
    assert np.array_equal(a, b) and not np.allclose(a, c)


def test_progress_output_is_keras_style(capsys):
    small(SessionCNN).fit(cycle_sequences(), epochs=2, verbose=2)
    out = capsys.readouterr().out
    assert "Epoch 1/2" in out and "Epoch 2/2" in out and "loss:" in out


@pytest.mark.parametrize("cls", MODELS)
def test_network_gradients_in_float64(cls):
    net = small(cls, n_items=6, embedding_dim=4, dtype="float64").build_network()
    # The full next-item loss: softmax cross-entropy over every item, on the Dense logits.
    net.compile(loss=SparseCategoricalCrossentropy(from_logits=True), optimizer="adam")
    net.build((None, 4))
    for layer in net.layers:  # larger weights than the initial ones, so the gradients are far from 0
        for p in layer.params.values():
            p *= 4.0
    windows, targets = training_pairs([np.array([1, 4, 2, 5, 0]), np.array([3, 3])], 4)
    errors = check_model(net, windows, targets, max_checks=40)
    assert max(errors.values()) <= TOLERANCE, errors


def test_bad_input():
    with pytest.raises(ValueError, match=r"SessionGRU.fit: sequences\[1\] contains id 4, outside \[0, 4\)"):
        SessionGRU(4).fit([[1, 2], [4]])
    with pytest.raises(ValueError, match="no training pairs; every sequence needs at least two items"):
        SessionGRU(4).fit([[1], [2]])
    with pytest.raises(RuntimeError, match="call fit first"):
        SessionMLP(4).score_next([[1]])
    with pytest.raises(TypeError, match="SessionCNN: max_len must be a positive integer; got 2.0"):
        SessionCNN(4, max_len=2.0)
    with pytest.raises(ValueError, match="learning_rate must be a finite number > 0"):
        SessionGRU(4).fit([[1, 2]], learning_rate=0)


@pytest.mark.parametrize("cls", MODELS)
def test_saved_and_loaded_whole(cls, tmp_path):
    from tinyrec.saving import load_model

    model = small(cls).fit(cycle_sequences(), epochs=2, **FIT)
    path = model.save(tmp_path / "session.tinyrec")
    loaded = load_model(path)
    assert type(loaded) is cls and loaded.get_config() == model.get_config()
    assert np.array_equal(loaded.score_next([[1, 2], [3]]), model.score_next([[1, 2], [3]]))
