"""Tests for tinyrec.datasets.sessions and the sequence splits: the generator, its oracle, and the protocol.

The oracle is checked against a brute-force sum over every path of hidden moods (written out here, not
with the module's forward algorithm), and the data against the oracle by calibration: if each target is
really drawn from the oracle's distribution p, then E[p(target)] = Σ_i p_i².
"""

import itertools

import numpy as np
import pytest

from tinyrec.datasets import (
    SESSION_GENRES,
    last_item_split,
    make_sessions,
    next_item_probabilities,
    sequences_by_user,
)
from tinyrec.recommenders import MarkovChain, SequencePopularity, evaluate_next_item, full_ranking_metrics


@pytest.fixture(scope="module")
def data():
    return make_sessions()


@pytest.fixture(scope="module")
def split(data):
    seqs = sequences_by_user(data.user_ids, data.item_ids, data.timestamps, data.n_users)
    return last_item_split(seqs)


# ------------------------------------------------------------------------------------------- the data


def test_shapes_types_and_order(data):
    n = len(data.item_ids)
    assert n == 60_000 and data.n_users == 3000 and data.n_items == 400
    for key in ("user_ids", "item_ids", "timestamps", "item_genres"):
        assert data[key].dtype == np.int64
    assert len(data.user_ids) == len(data.timestamps) == n
    assert np.all(np.diff(data.user_ids) >= 0)  # grouped by user
    same_user = data.user_ids[1:] == data.user_ids[:-1]
    assert np.all(np.diff(data.timestamps)[same_user] > 0)  # strictly increasing within a user
    lengths = np.bincount(data.user_ids, minlength=data.n_users)
    assert lengths.min() >= 5 and lengths.max() <= 60
    assert np.bincount(data.item_genres).tolist() == [50] * len(SESSION_GENRES)
    assert data.genre_names == SESSION_GENRES
    assert data.truth.moods.shape == data.truth.is_repeat.shape == (n,)


def test_deterministic_given_the_seed():
    a, b, c = make_sessions(n_users=50, seed=3), make_sessions(n_users=50, seed=3), make_sessions(n_users=50, seed=4)
    np.testing.assert_array_equal(a.item_ids, b.item_ids)
    np.testing.assert_array_equal(a.truth.last_item_probs, b.truth.last_item_probs)
    assert not np.array_equal(a.item_ids[:200], c.item_ids[:200])


def test_stated_rates_hold(data):
    first = np.r_[True, data.user_ids[1:] != data.user_ids[:-1]]
    # replays happen with probability r = 0.2 at every position but the first
    assert abs(data.truth.is_repeat[~first].mean() - 0.2) < 0.01
    assert not data.truth.is_repeat[first].any()
    # a fresh track is of the mood's genre with prob. (1 − ε) + ε·(popularity share of that genre)
    fresh = ~data.truth.is_repeat
    share = np.bincount(data.item_genres, weights=data.truth.popularity, minlength=8)
    expected = np.mean(0.7 + 0.3 * share[data.truth.moods[fresh]])
    observed = np.mean(data.item_genres[data.item_ids[fresh]] == data.truth.moods[fresh])
    assert abs(observed - expected) < 0.01
    # the mood stays with probability ρ + (1 − ρ)·π_u(z): at least 0.8
    stays = data.truth.moods[1:][~first[1:]] == data.truth.moods[:-1][~first[1:]]
    assert stays.mean() > 0.8


def test_argument_errors():
    with pytest.raises(TypeError, match="make_sessions: n_users must be an integer"):
        make_sessions(n_users=2.5)
    with pytest.raises(ValueError, match="make_sessions: max_length must be >= 5"):
        make_sessions(max_length=3)
    with pytest.raises(ValueError, match="make_sessions: stay_prob must be in"):
        make_sessions(stay_prob=1.5)
    with pytest.raises(ValueError, match="make_sessions: n_items must be >= 8"):
        make_sessions(n_items=4)


# ------------------------------------------------------------------------------------------- the oracle


def brute_force_next(truth, user, history):
    """P(x_{t+1} | history) by summing the joint over every mood path z_0..z_{t+1} (G^{t+2} paths)."""
    E, pi = truth.emission, truth.taste[user]
    rho, r, lam = truth.stay_prob, truth.repeat_prob, truth.recency_decay
    n_items, G = E.shape[1], E.shape[0]

    def repeat_dist(prefix):  # R(i) ∝ Σ_{s: x_s = i} λ^{t-1-s}
        out = np.zeros(n_items)
        for s, item in enumerate(prefix):
            out[item] += lam ** (len(prefix) - 1 - s)
        return out / out.sum()

    def step_prob(prefix, item, z):
        fresh = E[z, item]
        return fresh if not prefix else r * repeat_dist(prefix)[item] + (1 - r) * fresh

    # P(x_t | z_t, x_<t) for the observed tracks, and P(next = i | z) for every i: tabulated once
    seen = [[step_prob(list(history[:t]), item, z) for z in range(G)] for t, item in enumerate(history)]
    nxt = np.array([[step_prob(list(history), i, z) for i in range(n_items)] for z in range(G)])
    total = np.zeros(n_items)
    for path in itertools.product(range(G), repeat=len(history) + 1):
        p = pi[path[0]]
        for t in range(1, len(path)):
            p *= rho * (path[t] == path[t - 1]) + (1 - rho) * pi[path[t]]
        for t in range(len(history)):
            p *= seen[t][path[t]]
        total += p * nxt[path[-1]]
    return total / total.sum()


def test_oracle_equals_brute_force_enumeration():
    d = make_sessions(n_users=4, n_items=16, seed=1)
    histories = [np.array([3, 3, 7]), np.array([], dtype=np.int64), np.array([5]), np.array([0, 9, 0])]
    users = np.array([0, 1, 2, 3])
    got = next_item_probabilities(d.truth, users, histories)
    for j in range(4):
        np.testing.assert_allclose(got[j], brute_force_next(d.truth, users[j], histories[j]), rtol=1e-10)


def test_last_item_probs_are_distributions_and_calibrated(data, split):
    probs = data.truth.last_item_probs
    assert probs.shape == (3000, 400) and probs.min() >= 0
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    _, targets, users = split
    p_target = probs[users, targets]
    expected = np.sum(probs[users] ** 2, axis=1)  # E[p(x)] for x ~ p
    se = np.sqrt(np.var(p_target - expected) / len(users))
    assert abs(p_target.mean() - expected.mean()) < 4 * se


def test_oracle_argument_errors(data):
    with pytest.raises(ValueError, match="next_item_probabilities: histories must be a list"):
        next_item_probabilities(data.truth, np.array([0, 1]), [np.array([1])])
    with pytest.raises(ValueError, match="outside"):
        next_item_probabilities(data.truth, np.array([0]), [np.array([400])])


# ------------------------------------------------------------------------------------------- the protocol


def test_sequences_by_user_orders_by_time():
    users = np.array([1, 0, 1, 1, 0])
    items = np.array([10, 20, 11, 12, 21])
    times = np.array([5, 9, 1, 3, 2])
    seqs = sequences_by_user(users, items, times, n_users=3)
    assert [s.tolist() for s in seqs] == [[21, 20], [11, 12, 10], []]
    with pytest.raises(ValueError, match="sequences_by_user: n_users=1"):
        sequences_by_user(users, items, times, n_users=1)
    with pytest.raises(ValueError, match="same length"):
        sequences_by_user(users, items[:2], times)


def test_sequences_by_user_round_trips_the_bundled_order(data):
    seqs = sequences_by_user(data.user_ids, data.item_ids, data.timestamps)
    np.testing.assert_array_equal(np.concatenate(seqs), data.item_ids)


def test_last_item_split():
    seqs = [np.array([1, 2, 3]), np.array([4]), np.array([5, 6])]
    hist, targets, index = last_item_split(seqs)
    assert [h.tolist() for h in hist] == [[1, 2], [5]]
    assert targets.tolist() == [3, 6] and index.tolist() == [0, 2]
    hist, targets, index = last_item_split(seqs, min_length=3)
    assert index.tolist() == [0]
    with pytest.raises(ValueError, match="min_length must be >= 2"):
        last_item_split(seqs, min_length=1)
    with pytest.raises(TypeError, match="last_item_split: sequences must be a list"):
        last_item_split(np.array([1, 2, 3]))


def test_order_matters_oracle_beats_markov_beats_popularity(data, split):
    """The headline of the dataset (numbers in datasets/sessions/README.md)."""
    histories, targets, users = split
    oracle = full_ranking_metrics(data.truth.last_item_probs[users], targets)
    markov = evaluate_next_item(MarkovChain(data.n_items).fit(histories), histories, targets)
    popular = evaluate_next_item(SequencePopularity(data.n_items).fit(histories), histories, targets)
    assert oracle["hit_rate"] == pytest.approx(0.4253, abs=1e-4)
    assert markov["hit_rate"] == pytest.approx(0.2953, abs=1e-4)
    assert popular["hit_rate"] == pytest.approx(0.1737, abs=1e-4)
    assert oracle["hit_rate"] > markov["hit_rate"] + 0.1 > popular["hit_rate"] + 0.2  # room for a GRU above
    for key in ("ndcg", "mrr"):
        assert oracle[key] > markov[key] > popular[key]


def test_knobs_switch_the_hidden_structure_off():
    """No crossover and no replays: every track reveals its mood, so only the last track's genre matters."""
    d = make_sessions(n_users=200, n_items=40, crossover=0.0, repeat_prob=0.0, seed=2)
    assert not d.truth.is_repeat.any()
    np.testing.assert_array_equal(d.item_genres[d.item_ids], d.truth.moods)
    g = d.item_genres
    a, b = np.flatnonzero(g == 0)[:2], np.flatnonzero(g == 3)[:2]
    histories = [np.array([b[0], a[0]]), np.array([a[1], b[1], a[1], a[0]]), np.array([a[0], b[0]])]
    p = next_item_probabilities(d.truth, np.array([7, 7, 7]), histories)
    np.testing.assert_allclose(p[0], p[1], rtol=1e-12)  # same user, same last genre: same prediction
    assert not np.allclose(p[0], p[2])  # a different last genre changes it
