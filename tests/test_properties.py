"""Property-based tests (Hypothesis) over the public API: random shapes, dtypes, ids and argument values.

The one property every test checks: a call either **works** — and then its answer is finite and has the
documented shape and range — or raises one of tinyrec's **clear** errors: a ``ValueError``/``TypeError``/
``RuntimeError`` whose message names the function (or class) and, where there is one, the argument. Never
an ``IndexError``, ``ZeroDivisionError``, ``AttributeError``, NumPy's internal errors, or a NaN answer.

Strategies mix good and bad values on purpose (``integers(-3, 40) | booleans() | floats() | text()``), so
the same test covers the legal range and its edges. Profiles (``tests/conftest.py``): ``ci`` by default
(few examples, derandomized), ``HYPOTHESIS_PROFILE=dev`` for many more.
"""

from __future__ import annotations

import contextlib
import re
import warnings

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinyrec import activations, initializers, losses
from tinyrec import metrics as M
from tinyrec import optimizers as O
from tinyrec.datasets import leave_last_out, random_split, temporal_split
from tinyrec.interactions import sample_negatives, seen_items
from tinyrec.layers import Activation, Dense, Dropout, Embedding
from tinyrec.models import Sequential
from tinyrec.recommenders.baselines import BiasBaseline, GlobalMean, MostPopular
from tinyrec.recommenders.mf import MatrixFactorization
from tinyrec.recommenders.neumf import NeuMF

RAW = (IndexError, KeyError, ZeroDivisionError, AttributeError, MemoryError, FloatingPointError)


class Outcome:
    """What ``clear_or_works`` saw: ``ok`` is True when the block ran without an error."""

    ok = False


@contextlib.contextmanager
def clear_or_works(*names, kinds=(ValueError, TypeError)):
    """Run the block; an error must be one of ``kinds``, not a raw one, and name one of ``names``."""
    outcome = Outcome()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. "too few ratings for early stopping" on tiny data
            yield outcome
    except kinds as err:
        assert not isinstance(err, RAW), f"raw {type(err).__name__}: {err}"
        message = str(err)
        assert any(re.search(n, message) for n in names), f"the error does not name {names}: {message}"
        return
    outcome.ok = True


def finite(value):
    return bool(np.all(np.isfinite(np.asarray(value, dtype=np.float64))))


# --------------------------------------------------------------------------------------------------
# Strategies
# --------------------------------------------------------------------------------------------------
NON_FINITE = st.sampled_from([np.nan, np.inf, -np.inf])
ANY_INT = st.one_of(st.integers(-3, 40), st.booleans(), st.floats(-3, 40), NON_FINITE, st.text(max_size=2),
                    st.none())
ANY_REAL = st.one_of(st.floats(-2, 2), NON_FINITE, st.booleans(), st.integers(-2, 2), st.text(max_size=2),
                     st.none(), st.complex_numbers(max_magnitude=2))
FLOAT_DTYPES = st.sampled_from([np.float32, np.float64])


def arrays(shape, dtype=np.float64, lo=-100.0, hi=100.0):
    return hnp.arrays(dtype, shape, elements=st.floats(lo, hi, allow_nan=False, width=32))


# --------------------------------------------------------------------------------------------------
# Layers
# --------------------------------------------------------------------------------------------------
@given(units=ANY_INT, activation=st.sampled_from([*activations.NAMES, None, "relux"]),
       batch=st.integers(0, 6), width=st.integers(1, 5), dtype=FLOAT_DTYPES, data=st.data())
def test_dense(units, activation, batch, width, dtype, data):
    with clear_or_works("Dense", "activation") as out:
        layer = Dense(units, activation=activation)
    if not out.ok:
        return
    x = data.draw(arrays((batch, width), dtype))
    layer.build((None, width), rng=np.random.default_rng(0), dtype=dtype)
    y = layer(x, training=True)
    assert y.shape == (batch, units) and finite(y)
    dx = layer.backward(np.ones_like(y))
    assert dx.shape == x.shape and finite(dx) and finite(layer.grads["kernel"])


@given(name=st.sampled_from(activations.NAMES), shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1,
                                                                         max_side=5), data=st.data())
def test_activation_layer(name, shape, data):
    x = data.draw(arrays(shape, lo=-1e4, hi=1e4))
    layer = Activation(name)
    y = layer(x)
    assert y.shape == x.shape and finite(y)
    if name in ("sigmoid", "softmax"):
        assert np.all((y >= 0) & (y <= 1))
    if name == "softmax":
        assert np.allclose(y.sum(axis=-1), 1.0)
    assert layer.backward(np.ones_like(y)).shape == x.shape


@given(rate=ANY_REAL, shape=st.tuples(st.integers(0, 5), st.integers(1, 5)), seed=st.integers(0, 9))
def test_dropout(rate, shape, seed):
    with clear_or_works("Dropout.*rate") as out:
        layer = Dropout(rate, seed=seed)
    if not out.ok:
        return
    x = np.ones(shape)
    y = layer(x, training=True)
    keep = 1.0 - layer.rate
    assert y.shape == shape and np.all((y == 0) | np.isclose(y, 1.0 / keep))
    assert np.array_equal(layer(x, training=False), x)


IDS = st.one_of(
    hnp.arrays(np.int64, st.integers(0, 6), elements=st.integers(-2, 12)),
    hnp.arrays(np.float64, st.integers(0, 4), elements=st.one_of(st.floats(-1e20, 1e20), NON_FINITE)),
    st.lists(st.integers(-(2**63), 2**64 - 1), max_size=3),
    hnp.arrays(np.bool_, st.integers(1, 3)),
    st.lists(st.text(max_size=1), min_size=1, max_size=2),
)


@given(input_dim=st.integers(1, 10), output_dim=st.integers(1, 4), ids=IDS)
def test_embedding_ids(input_dim, output_dim, ids):
    layer = Embedding(input_dim, output_dim)
    with clear_or_works("Embedding 'embedding.*': ids") as out:
        rows = layer(ids)
    if out.ok:
        assert rows.shape == (len(ids), output_dim) and finite(rows)
        layer.backward(np.ones_like(rows))


@given(name=st.sampled_from(initializers.NAMES), shape=st.one_of(
    st.tuples(st.integers(0, 6), st.integers(0, 6)), st.tuples(st.integers(0, 6)),
    st.tuples(st.integers(-2, 3), st.one_of(st.integers(0, 3), st.booleans(), st.floats(0, 3), st.text(max_size=1)))),
    seed=st.one_of(st.integers(0, 99), st.none(), st.text(max_size=1), st.booleans()), dtype=FLOAT_DTYPES)
def test_initializers(name, shape, seed, dtype):
    init = initializers.get(name)
    with clear_or_works(f"initializers.{name}: (shape|seed)") as out:
        w = init(shape, seed, dtype)
    if out.ok:
        assert w.shape == shape and w.dtype == dtype and finite(w)
        fan_in = max(shape[0], 1) if shape else 1
        fan_out = max(shape[-1], 1) if shape else 1
        bound = {"glorot_uniform": np.sqrt(6 / (fan_in + fan_out)), "he_uniform": np.sqrt(6 / fan_in),
                 "glorot_normal": 2 * np.sqrt(2 / (fan_in + fan_out)) / 0.87962566,
                 "he_normal": 2 * np.sqrt(2 / fan_in) / 0.87962566, "uniform": 0.05}.get(name)
        if bound is not None and w.size:
            assert np.abs(w).max() <= bound * (1 + 1e-6)


# --------------------------------------------------------------------------------------------------
# Activations and losses
# --------------------------------------------------------------------------------------------------
@given(name=st.sampled_from(activations.NAMES), data=st.data(), dtype=FLOAT_DTYPES)
def test_activation_functions(name, data, dtype):
    fn = activations.get(name)
    z = data.draw(arrays(st.tuples(st.integers(1, 4), st.integers(1, 4)), dtype, lo=-1e4, hi=1e4))
    y = fn.forward(z)
    assert y.shape == z.shape and finite(y)
    dz = fn.backward(np.ones_like(z), z, y)
    assert dz.shape == z.shape and finite(dz)


LOSS_NAMES = ["mse", "binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy"]


@given(name=st.sampled_from(LOSS_NAMES), n=st.integers(1, 6), k=st.integers(1, 4), one_d=st.booleans(),
       from_logits=st.booleans(), data=st.data())
def test_losses(name, n, k, one_d, from_logits, data):
    loss = type(losses.get(name))(from_logits=from_logits)
    if name == "mse":
        y_true = data.draw(arrays((n, k)))
        y_pred = data.draw(arrays((n, k)))
    elif name == "binary_crossentropy":
        y_true = data.draw(arrays((n, k), lo=0, hi=1))
        y_pred = data.draw(arrays((n, k), lo=-30, hi=30) if from_logits else arrays((n, k), lo=0, hi=1))
    else:
        labels = data.draw(hnp.arrays(np.int64, n, elements=st.integers(0, k - 1)))
        y_true = labels if name.startswith("sparse") else np.eye(k)[labels]
        y_pred = data.draw(arrays((n, k), lo=-30, hi=30) if from_logits else arrays((n, k), lo=0, hi=1))
    if one_d and k == 1 and name in ("mse", "binary_crossentropy"):
        y_true, y_pred = y_true[:, 0], y_pred[:, 0]
    value = loss(y_true, y_pred)
    assert np.isfinite(value) and value >= -1e-9
    grad = loss.backward()
    assert finite(grad) and grad.shape == (n, k)
    if one_d and k == 1 and name in ("mse", "binary_crossentropy"):  # a 1-D call is the column call
        assert np.isclose(value, loss(y_true[:, None], y_pred[:, None]))


@given(name=st.sampled_from(LOSS_NAMES), y_true=st.one_of(
    st.lists(st.one_of(st.floats(allow_nan=True), st.text(max_size=1), st.complex_numbers(), st.none()),
             max_size=3),
    hnp.arrays(np.float64, hnp.array_shapes(max_dims=3, max_side=3), elements=st.floats(allow_nan=True))),
    y_pred=hnp.arrays(np.float64, hnp.array_shapes(max_dims=3, max_side=3), elements=st.floats(-5, 5)))
def test_losses_on_arbitrary_input(name, y_true, y_pred):
    loss = losses.get(name)
    with clear_or_works(loss.name) as out:
        value = loss(y_true, y_pred)
    if out.ok:
        assert np.isfinite(value)


# --------------------------------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------------------------------
@st.composite
def ranking_case(draw):
    n_items = draw(st.integers(2, 12))
    n_users = draw(st.integers(1, 5))
    k = draw(st.integers(1, n_items))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    recommended = np.stack([rng.permutation(n_items)[:k] for _ in range(n_users)])
    relevant = [draw(st.lists(st.integers(0, n_items - 1), max_size=4)) for _ in range(n_users)]
    return recommended, relevant, n_items


RANKING = [M.precision_at_k, M.recall_at_k, M.hit_rate_at_k, M.ndcg_at_k, M.map_at_k, M.mrr]


@given(case=ranking_case(), k=st.one_of(st.none(), ANY_INT))
def test_ranking_metrics(case, k):
    recommended, relevant, n_items = case
    for fn in RANKING:
        with clear_or_works(f"{fn.__name__}: ") as out:
            value = fn(recommended, relevant, k=k)
        if out.ok:
            assert 0.0 <= value <= 1.0, (fn.__name__, value)
    coverage = M.catalog_coverage(recommended, n_items)
    assert 0.0 < coverage <= 1.0
    if recommended.shape[1] >= 2:
        assert -1e-12 <= M.intra_list_diversity(recommended, np.eye(n_items)) <= 1.0 + 1e-12


@given(case=ranking_case())
def test_ranking_metrics_agree_with_a_per_user_loop(case):
    recommended, relevant, _ = case
    users = [u for u, r in enumerate(relevant) if r]
    assume(users)
    k = recommended.shape[1]
    precision = np.mean([len(set(recommended[u]) & set(relevant[u])) / k for u in users])
    recall = np.mean([len(set(recommended[u]) & set(relevant[u])) / len(set(relevant[u])) for u in users])
    assert np.isclose(M.precision_at_k(recommended, relevant), precision)
    assert np.isclose(M.recall_at_k(recommended, relevant), recall)


@given(n=st.integers(1, 8), classes=st.integers(1, 4), form=st.sampled_from(["sparse", "one-hot", "column"]),
       data=st.data())
def test_accuracy(n, classes, form, data):
    labels = data.draw(hnp.arrays(np.int64, n, elements=st.integers(0, max(classes - 1, 1))))
    if form == "column" or classes == 1:
        y_pred = data.draw(arrays((n, 1), lo=0, hi=1))
        expected = np.mean((labels > 0.5) == (y_pred[:, 0] > 0.5))
        y_true = labels
    else:
        labels = np.minimum(labels, classes - 1)
        y_pred = data.draw(arrays((n, classes), lo=0, hi=1))
        expected = np.mean(labels == np.argmax(y_pred, axis=1))
        y_true = labels if form == "sparse" else np.eye(classes)[labels]
    assert np.isclose(M.accuracy(y_true, y_pred), expected)


@given(y_true=hnp.arrays(np.int64, st.integers(1, 10), elements=st.integers(0, 1)), data=st.data())
def test_auc_and_errors(y_true, data):
    score = data.draw(arrays(y_true.shape))
    with clear_or_works("auc: needs both classes") as out:
        value = M.auc(y_true, score)
    if out.ok:
        assert 0.0 <= value <= 1.0
        assert np.isclose(M.auc(y_true, -score), 1.0 - value)
    for fn in (M.mse, M.mae, M.rmse):
        assert finite(fn(y_true, score)) and fn(y_true, score) >= 0


@given(pos=hnp.arrays(np.float64, st.integers(1, 5), elements=st.floats(allow_nan=False)), m=st.integers(1, 6),
       data=st.data(), k=ANY_INT)
def test_sampled_ranks(pos, m, data, k):
    neg = data.draw(hnp.arrays(np.float64, (len(pos), m), elements=st.floats(allow_nan=False)))
    ranks = M.rank_among(pos, neg)
    assert ranks.shape == pos.shape and np.all((ranks >= 0) & (ranks <= m))
    with clear_or_works("hit_rate_from_ranks: k") as out:
        hr = M.hit_rate_from_ranks(ranks, k=k)
    if out.ok:
        assert 0.0 <= hr <= 1.0 and 0.0 <= M.ndcg_from_ranks(ranks, k=k) <= hr + 1e-12


# --------------------------------------------------------------------------------------------------
# Optimizers
# --------------------------------------------------------------------------------------------------
@given(name=st.sampled_from(O.NAMES), lr=ANY_REAL, shape=hnp.array_shapes(max_dims=2, max_side=4),
       dtype=FLOAT_DTYPES, data=st.data())
def test_optimizers(name, lr, shape, dtype, data):
    cls = type(O.get(name))
    with clear_or_works(f"{cls.__name__}: learning_rate") as out:
        opt = cls(learning_rate=lr)
    if not out.ok:
        return
    param = data.draw(arrays(shape, dtype, lo=-10, hi=10))
    grad = data.draw(arrays(shape, dtype, lo=-10, hi=10))
    for _ in range(3):
        opt.apply_gradients([(grad, param)])
    assert finite(param) and opt.iterations == 3


# --------------------------------------------------------------------------------------------------
# Splits and interactions
# --------------------------------------------------------------------------------------------------
@given(users=hnp.arrays(np.int64, st.integers(0, 30), elements=st.integers(0, 5)), data=st.data(),
       seed=st.integers(0, 99))
def test_leave_last_out(users, data, seed):
    times = data.draw(hnp.arrays(np.float64, users.shape, elements=st.floats(0, 10, width=16)))
    train, test = leave_last_out(users, times, seed=seed)
    assert np.array_equal(np.sort(np.concatenate([train, test])), np.arange(len(users)))
    counts = np.bincount(users, minlength=6) if len(users) else np.zeros(6, int)
    assert len(test) == int(np.sum(counts >= 2))
    for t in test:  # the held-out row is a latest one of its user
        assert times[t] == times[users == users[t]].max()


@given(n=ANY_INT, test_size=st.one_of(st.floats(-0.5, 1.5), NON_FINITE, st.integers(-2, 12), st.booleans(),
                                      st.text(max_size=2)))
def test_random_and_temporal_split(n, test_size):
    with clear_or_works(r"random_split: .*\b(n|test_size)\b") as out:
        train, test = random_split(n, test_size=test_size, seed=0)
    if out.ok:
        assert len(train) >= 1 and len(test) >= 1 and not set(train) & set(test)
        assert len(train) + len(test) == n
    if isinstance(n, int) and not isinstance(n, bool) and n >= 0:
        with clear_or_works(r"temporal_split: .*test_size") as out:
            train, test = temporal_split(np.arange(n)[::-1], test_size=test_size)
        if out.ok:
            assert len(train) + len(test) == n


@given(n_items=st.integers(1, 12), data=st.data(), distinct=st.booleans(), n_negatives=st.integers(0, 5),
       seed=st.integers(0, 99))
def test_sample_negatives_and_seen_items(n_items, data, distinct, n_negatives, seed):
    seen_users = data.draw(hnp.arrays(np.int64, st.integers(0, 20), elements=st.integers(0, 3)))
    seen_itms = data.draw(hnp.arrays(np.int64, seen_users.shape, elements=st.integers(0, n_items - 1)))
    users = data.draw(hnp.arrays(np.int64, st.integers(0, 5), elements=st.integers(0, 3)))
    with clear_or_works("sample_negatives: cannot draw") as out:
        neg = sample_negatives(users, n_items, n_negatives, seen_users, seen_itms, seed=seed, distinct=distinct)
    if out.ok:
        assert neg.shape == (len(users), n_negatives)
        seen = set(zip(seen_users.tolist(), seen_itms.tolist()))
        assert all((int(u), int(i)) not in seen for u, row in zip(users, neg) for i in row)
        assert np.all((neg >= 0) & (neg < n_items))
        if distinct:
            assert all(len(set(row)) == len(row) for row in neg.tolist())
    indptr, indices = seen_items(seen_users, seen_itms, 4, n_items)
    for u in range(4):
        assert indices[indptr[u]:indptr[u + 1]].tolist() == sorted(set(seen_itms[seen_users == u].tolist()))


# --------------------------------------------------------------------------------------------------
# Sequential: fit / predict / evaluate
# --------------------------------------------------------------------------------------------------
@given(n=st.integers(0, 12), width=st.integers(1, 3), batch_size=st.one_of(st.none(), ANY_INT),
       epochs=st.one_of(st.integers(0, 2), st.booleans(), st.just("1"), st.just(-1)),
       loss=st.sampled_from(["mse", "binary_crossentropy"]), validation_split=st.sampled_from([0.0, 0.25, 1.0, "x"]),
       data=st.data())
def test_sequential(n, width, batch_size, epochs, loss, validation_split, data):
    x = data.draw(arrays((n, width), lo=-3, hi=3))
    y = data.draw(arrays((n,), lo=0, hi=1))
    model = Sequential([Dense(3, activation="relu", input_dim=width),
                        Dense(1, activation="sigmoid" if loss != "mse" else None)], seed=0)
    model.compile(optimizer="adam", loss=loss, metrics=["accuracy", "mae"])
    with clear_or_works("sequential.fit: ") as out:
        history = model.fit(x, y, batch_size=batch_size, epochs=epochs, validation_split=validation_split,
                            verbose=0)
    if not out.ok:
        return
    assert all(finite(v) for values in history.history.values() for v in values)
    with clear_or_works("sequential.predict: batch_size") as out:
        pred = model.predict(x, batch_size=batch_size)
    if out.ok:
        assert pred.shape == (n, 1) and finite(pred)
        loss_value, acc, mae = model.evaluate(x, y, batch_size=batch_size)
        assert np.isfinite(loss_value) and 0 <= acc <= 1 and np.isclose(mae, M.mae(y, pred), atol=1e-5)


# --------------------------------------------------------------------------------------------------
# Recommenders
# --------------------------------------------------------------------------------------------------
@st.composite
def interactions(draw, min_size=1):
    n_users, n_items = draw(st.integers(1, 6)), draw(st.integers(2, 8))
    size = draw(st.integers(min_size, 20))
    users = draw(hnp.arrays(np.int64, size, elements=st.integers(0, n_users - 1)))
    items = draw(hnp.arrays(np.int64, size, elements=st.integers(0, n_items - 1)))
    ratings = draw(hnp.arrays(np.float64, size, elements=st.floats(1, 5, width=16)))
    return n_users, n_items, users, items, ratings


def _check_recommender(model, n_users, n_items, k):
    owner = type(model).__name__
    scores = model.score_items(np.arange(n_users))
    assert scores.shape == (n_users, n_items) and finite(scores)
    with clear_or_works(f"{owner}.recommend: k") as out:
        items, top = model.recommend(np.arange(n_users), k=k, exclude_seen=False)
    if out.ok:
        assert items.shape == (n_users, k) and all(len(set(row)) == k for row in items.tolist())
        assert np.all(np.diff(top, axis=1) <= 1e-12)  # best first
    pred = model.predict(np.arange(n_users), np.zeros(n_users, dtype=int))
    assert np.asarray(pred).reshape(-1).shape == (n_users,) and finite(pred)


@given(case=interactions(), k=ANY_INT, which=st.sampled_from(["GlobalMean", "BiasBaseline", "MostPopular"]))
def test_baselines(case, k, which):
    n_users, n_items, users, items, ratings = case
    if which == "MostPopular":
        model = MostPopular(n_users, n_items).fit(users, items)
    else:
        model = {"GlobalMean": GlobalMean, "BiasBaseline": BiasBaseline}[which](n_users, n_items)
        model.fit(users, items, ratings)
    _check_recommender(model, n_users, n_items, k)


@pytest.mark.parametrize("cls", [MatrixFactorization, NeuMF])
@given(case=interactions(), k=st.integers(1, 3), batch_size=st.integers(1, 8), seed=st.integers(0, 9))
def test_neural_recommenders(cls, case, k, batch_size, seed):
    n_users, n_items, users, items, ratings = case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if cls is MatrixFactorization:
            model = cls(n_users, n_items, n_factors=2, seed=seed).fit(users, items, ratings, epochs=2,
                                                                      batch_size=batch_size, verbose=0)
        else:
            model = cls(n_users, n_items, n_factors=2, mlp_layers=(4, 2), seed=seed)
            with clear_or_works("NeuMF.fit: ", "sample_negatives: cannot draw") as out:
                model.fit(users, items, epochs=2, batch_size=batch_size, n_negatives=1, verbose=0)
            if not out.ok:
                return
    assert all(finite(v) for values in model.history.history.values() for v in values)
    _check_recommender(model, n_users, n_items, min(k, n_items))


@given(case=interactions(), ids=IDS, other=IDS)
def test_recommenders_on_arbitrary_ids(case, ids, other):
    n_users, n_items, users, items, ratings = case
    model = BiasBaseline(n_users, n_items).fit(users, items, ratings)
    with clear_or_works(r"BiasBaseline\.predict: (user_ids|item_ids)") as out:
        pred = model.predict(ids, other)
    if out.ok:
        assert pred.shape == (len(ids),) and finite(pred)
    with clear_or_works(r"BiasBaseline\.recommend: user_ids") as out:
        top, _ = model.recommend(ids, k=1)
    if out.ok:
        assert top.shape == (len(ids), 1)


RELEVANT = st.one_of(
    st.lists(st.one_of(st.lists(st.integers(-2, 12), max_size=3), st.sets(st.integers(0, 12), max_size=3),
                       st.integers(0, 12), st.text(max_size=2), st.none(), st.floats(0, 12)), max_size=4),
    st.dictionaries(st.integers(-1, 5), st.lists(st.integers(0, 12), max_size=3), max_size=4),
    hnp.arrays(np.int64, hnp.array_shapes(max_dims=3, max_side=4), elements=st.integers(-1, 12)),
    hnp.arrays(np.float64, st.integers(0, 4), elements=st.floats(0, 12)),
)


@given(case=ranking_case(), relevant=RELEVANT)
def test_ranking_metrics_on_arbitrary_relevant(case, relevant):
    recommended, _, _ = case
    for fn in RANKING:
        with clear_or_works(f"{fn.__name__}: ") as out:
            value = fn(recommended, relevant)
        if out.ok:
            assert 0.0 <= value <= 1.0, (fn.__name__, value)
