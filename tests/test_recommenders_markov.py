"""Tests for tinyrec.recommenders.markov: counts and probabilities worked out by hand on tiny sequences."""

import numpy as np
import pytest

from tinyrec.recommenders import MarkovChain, SequencePopularity, SequenceRecommender

# transitions: 0→1, 1→2, 0→1, 1→0, 2→2, 2→1; item 3 and 4 are never followed by anything
SEQS = [np.array([0, 1, 2]), np.array([0, 1, 0]), np.array([2, 2, 1]), np.array([3])]
N_ITEMS = 5


def dense_reference(seqs, n_items, alpha):
    """The same model with a dense table and Python loops: the definition, written plainly."""
    C = np.zeros((n_items, n_items))
    pop = np.zeros(n_items)
    for s in seqs:
        for a, b in zip(s[:-1], s[1:]):
            C[a, b] += 1
        for b in s[1:]:
            pop[b] += 1
    p = pop / pop.sum()
    out = np.empty((n_items, n_items))
    for a in range(n_items):
        total = C[a].sum() + alpha
        out[a] = (C[a] + alpha * p) / total if total > 0 else p
    return out


def test_is_a_sequence_recommender_and_fit_returns_self():
    model = MarkovChain(N_ITEMS)
    assert isinstance(model, SequenceRecommender)
    assert model.fit(SEQS) is model


def test_popularity_counts_next_items():
    model = SequencePopularity(N_ITEMS).fit(SEQS)
    # positions > 0: [1, 2], [1, 0], [2, 1] → item 0 once, 1 three times, 2 twice
    assert model.item_counts.tolist() == [1, 3, 2, 0, 0]
    scores = model.score_next([np.array([4]), np.array([], dtype=np.int64)])
    assert scores.shape == (2, N_ITEMS) and np.all(scores == model.item_counts)
    items, _ = model.recommend([np.array([4])], k=3)
    assert items.tolist() == [[1, 2, 0]]


def test_markov_probabilities_by_hand():
    model = MarkovChain(N_ITEMS, smoothing=1.0).fit(SEQS)
    p = np.array([1, 3, 2, 0, 0]) / 6
    # from 0: 0→1 twice; total 2 + α
    np.testing.assert_allclose(model.transition_probabilities([0])[0], (np.array([0, 2, 0, 0, 0]) + p) / 3)
    # from 2: 2→2 once, 2→1 once
    np.testing.assert_allclose(model.transition_probabilities([2])[0], (np.array([0, 1, 1, 0, 0]) + p) / 3)
    # from 3 and 4: never followed by anything → (0 + α p) / α = popularity
    np.testing.assert_allclose(model.transition_probabilities([3, 4]), np.stack([p, p]))


@pytest.mark.parametrize("alpha", [0.0, 0.5, 3.0])
def test_markov_matches_the_dense_definition(alpha):
    rng = np.random.default_rng(0)
    seqs = [rng.integers(0, 12, size=rng.integers(0, 9)) for _ in range(40)]
    model = MarkovChain(12, smoothing=alpha).fit(seqs)
    ref = dense_reference(seqs, 12, alpha)
    np.testing.assert_allclose(model.transition_probabilities(np.arange(12)), ref, rtol=1e-12)
    np.testing.assert_allclose(model.transition_probabilities(np.arange(12)).sum(axis=1), 1.0)
    histories = seqs[:10]
    expected = np.stack([ref[h[-1]] if len(h) else model.popularity for h in histories])
    np.testing.assert_allclose(model.score_next(histories), expected, rtol=1e-12)


def test_only_the_last_item_matters_and_empty_history_is_popularity():
    model = MarkovChain(N_ITEMS).fit(SEQS)
    a, b, empty = model.score_next([np.array([3, 4, 0]), np.array([0]), np.array([], dtype=np.int64)])
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(empty, model.popularity)


def test_recommend_learns_a_deterministic_cycle():
    seqs = [np.array([0, 1, 2, 3, 0, 1, 2, 3])] * 5
    model = MarkovChain(4).fit(seqs)
    items, scores = model.recommend([np.array([2]), np.array([3, 0])], k=1)
    assert items[:, 0].tolist() == [3, 1] and np.all(scores > 0.8)


def test_errors_name_the_model_and_argument():
    with pytest.raises(ValueError, match="MarkovChain: smoothing must be a finite number >= 0"):
        MarkovChain(5, smoothing=-1)
    with pytest.raises(RuntimeError, match="call fit first"):
        MarkovChain(5).score_next([np.array([1])])
    model = MarkovChain(5).fit(SEQS)
    with pytest.raises(ValueError, match=r"histories\[0\] contains id 7"):
        model.score_next([np.array([7])])
    with pytest.raises(ValueError, match=r"sequences\[1\] contains id 9"):
        MarkovChain(5).fit([np.array([1]), np.array([9])])
    with pytest.raises(TypeError, match="sequences must be a list"):
        MarkovChain(5).fit("0 1 2")


@pytest.mark.parametrize("cls", [MarkovChain, SequencePopularity])
def test_saved_and_loaded_models_score_the_same(cls, tmp_path):
    from tinyrec.models import load_model

    model = cls(N_ITEMS).fit(SEQS)
    model.save(tmp_path / "m.tinyrec")
    loaded = load_model(tmp_path / "m.tinyrec")
    assert type(loaded) is cls
    histories = [np.array([0]), np.array([2, 1]), np.array([], dtype=np.int64), np.array([4])]
    np.testing.assert_array_equal(loaded.score_next(histories), model.score_next(histories))
