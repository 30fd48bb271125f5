"""A corpus of deliberately bad and odd inputs to every public function and constructor (issue 7).

Each ``bad`` case must raise a *clear* error: a ``ValueError``/``TypeError`` (``RuntimeError``/``OSError``
where that is the documented kind) whose message names the function or class **and** the argument —
never a bare ``IndexError``/``ZeroDivisionError``/``AttributeError`` from inside NumPy, and never a silent
result. Each ``edge`` case is legal but unusual and must give the right answer, worked out by hand.

Kinds of bad input, applied to every argument they fit: bool where an int/float is meant (``True`` is an
``int`` in Python), out of range, NaN/inf, wrong shape, strings, None, complex numbers (a cast to float
drops the imaginary part), empty arrays, huge ids, and pairs of arrays of different lengths.

Cases a file's owner still has to fix are marked ``xfail(strict=True)`` with the file and the fix, so the
mark must be removed (the test then passes) once the fix lands. ``pytest --collect-only -q`` on this file
counts them: the ids start with ``bad-`` or ``edge-``.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from tinyrec import activations, initializers, losses
from tinyrec import metrics as M
from tinyrec import optimizers as O
from tinyrec.callbacks import EarlyStopping
from tinyrec.datasets import (
    get_data_home,
    leave_last_out,
    load_movielens,
    make_ads,
    make_movies,
    make_music,
    make_products,
    random_split,
    temporal_split,
    write_bundled,
)
from tinyrec.interactions import sample_negatives, seen_items
from tinyrec.layers import Activation, Dense, Dropout, Embedding
from tinyrec.models import Sequential
from tinyrec.recommenders.baselines import BiasBaseline, GlobalMean, MostPopular
from tinyrec.recommenders.mf import MatrixFactorization
from tinyrec.recommenders.neumf import NeuMF

#: Errors that are never "clear": they come from inside Python/NumPy, not from an argument check.
RAW = (IndexError, KeyError, ZeroDivisionError, AttributeError, MemoryError, FloatingPointError)

# Small fitted models shared by the cases (built once; every case only reads them).
USERS = np.array([0, 1, 2, 3, 4, 0, 1])
ITEMS = np.array([0, 1, 2, 3, 0, 1, 2])
RATINGS = np.array([1.0, 2, 3, 4, 5, 3, 4])


def _fitted():
    popular = MostPopular(5, 4).fit(USERS, ITEMS)
    mean = GlobalMean(5, 4).fit(USERS, ITEMS, RATINGS)
    return popular, mean


POPULAR, MEAN = _fitted()
REC = np.array([[0, 1], [2, 3]])  # two users' top-2 lists


def _cases(prefix, table):
    """pytest params from ``[(id, call, match[, xfail reason])]``; ``call()`` runs the input."""
    params = []
    for row in table:
        case_id, call, match = row[:3]
        marks = [pytest.mark.xfail(strict=True, reason=row[3])] if len(row) > 3 else []
        params.append(pytest.param(call, match, id=f"{prefix}-{case_id}", marks=marks))
    return params


def expect_clear(call, match, kinds=(ValueError, TypeError)):
    with pytest.raises(kinds) as info:
        call()
    assert not isinstance(info.value, RAW), f"raw {type(info.value).__name__}: {info.value}"
    assert re.search(match, str(info.value), flags=re.S), f"message does not match {match!r}: {info.value}"


# ================================================================================================
# 1. Integer arguments: bools, floats, strings, None, complex, lists, 0 and negatives
# ================================================================================================
BAD_INTS = [True, False, np.True_, 2.5, np.float64(3.0), "3", None, 1 + 0j, [3], 0, -1]
LEAD = "lead ({}): {}"


def _int_rows():
    # (owner regex, argument, call(value), values to skip because they are legal, {value id: xfail reason})
    targets = [
        ("Dense", "units", lambda v: Dense(v), (), {}),
        ("Dense", "input_dim", lambda v: Dense(2, input_dim=v), (None,), {}),
        ("Embedding", "input_dim", lambda v: Embedding(v, 2), (), {}),
        ("Embedding", "output_dim", lambda v: Embedding(5, v), (), {}),
        ("MatrixFactorization", "n_users", lambda v: MatrixFactorization(v, 4), (), {}),
        ("MatrixFactorization", "n_items", lambda v: MatrixFactorization(5, v), (), {}),
        ("MatrixFactorization", "n_factors", lambda v: MatrixFactorization(5, 4, n_factors=v), (), {}),
        ("NeuMF", "n_users", lambda v: NeuMF(v, 4), (), {}),
        ("NeuMF", "n_factors", lambda v: NeuMF(5, 4, n_factors=v), (), {}),
        ("GlobalMean", "n_users", lambda v: GlobalMean(v, 4), (), {}),
        ("BiasBaseline", "n_items", lambda v: BiasBaseline(5, v), (), {}),
        ("BiasBaseline", "n_iters", lambda v: BiasBaseline(5, 4, n_iters=v), (), {}),
        ("MostPopular", "n_items", lambda v: MostPopular(5, v), (), {}),
        ("MostPopular.recommend", "k", lambda v: POPULAR.recommend([0], k=v), (), {}),
        ("sample_negatives", "n_items", lambda v: sample_negatives([0], v, 1, [0], [0]), (), {}),
        ("seen_items", "n_users", lambda v: seen_items([0], [0], v, 3), (), {}),
        ("seen_items", "n_items", lambda v: seen_items([0], [0], 3, v), (), {}),
        ("catalog_coverage", "n_items", lambda v: M.catalog_coverage(REC, v), (), {}),
        ("novelty", "n_users", lambda v: M.novelty(REC, [1, 1, 1, 1], v), (), {}),
        ("intra_list_diversity", "batch_size", lambda v: M.intra_list_diversity(REC, np.eye(4), v), (), {}),
        ("precision_at_k", "k", lambda v: M.precision_at_k(REC, [[1], [2]], k=v), (None,), {}),
        ("recall_at_k", "k", lambda v: M.recall_at_k(REC, [[1], [2]], k=v), (None,), {}),
        ("ndcg_at_k", "k", lambda v: M.ndcg_at_k(REC, [[1], [2]], k=v), (None,), {}),
        ("map_at_k", "k", lambda v: M.map_at_k(REC, [[1], [2]], k=v), (None,), {}),
        ("mrr", "k", lambda v: M.mrr(REC, [[1], [2]], k=v), (None,), {}),
        ("hit_rate_from_ranks", "k", lambda v: M.hit_rate_from_ranks([0, 3], k=v), (), {}),
        ("ndcg_from_ranks", "k", lambda v: M.ndcg_from_ranks([0, 3], k=v), (), {}),
        ("make_movies", "n_users", lambda v: make_movies(n_users=v), (), {}),
        ("make_products", "n_items", lambda v: make_products(n_items=v), (), {}),
        ("make_music", "n_artists", lambda v: make_music(n_artists=v), (), {}),
        ("make_ads", "n_samples", lambda v: make_ads(n_samples=v), (), {}),
    ]
    rows = []
    for owner, arg, call, legal, known in targets:
        for value in BAD_INTS:
            if any(value is v for v in legal):
                continue
            vid = "np.True_" if value is np.True_ else repr(value)
            row = (f"{owner}.{arg}={vid}", (lambda c=call, v=value: c(v)), rf"{owner}.*{arg}")
            if vid in known:
                row = (*row, known[vid])
            rows.append(row)
    # n_negatives may be 0; everything else in BAD_INTS is wrong for it.
    for value in [True, 2.5, "3", None, -1, 1 + 0j]:
        rows.append((f"sample_negatives.n_negatives={value!r}",
                     (lambda v=value: sample_negatives([0], 5, v, [0], [0])), "sample_negatives.*n_negatives"))
    return rows


@pytest.mark.parametrize("call, match", _cases("bad", _int_rows()))
def test_integer_arguments(call, match):
    expect_clear(call, match)


# ================================================================================================
# 2. Real-valued arguments: bools, strings, None, NaN, inf, complex and out-of-range numbers
# ================================================================================================
def _real_rows():
    nan, inf = math.nan, math.inf
    targets = [
        ("SGD", "learning_rate", lambda v: O.SGD(v), [True, "0.1", None, nan, inf, -0.1, 0, 1j]),
        ("Adagrad", "learning_rate", lambda v: O.Adagrad(v), [True, "0.1", nan, -1, 0]),
        ("RMSprop", "learning_rate", lambda v: O.RMSprop(v), [True, "0.1", inf, -1, 0]),
        ("Adam", "learning_rate", lambda v: O.Adam(v), [True, "0.1", None, nan, inf, -1e-3, 0, 1j]),
        ("SGD", "momentum", lambda v: O.SGD(0.1, momentum=v), [True, "0.9", nan, -0.1, 1.0, 1j]),
        ("Adam", "beta_1", lambda v: O.Adam(beta_1=v), [True, "0.9", nan, -0.1, 1.0]),
        ("Adam", "beta_2", lambda v: O.Adam(beta_2=v), [True, nan, -0.1, 1.0]),
        ("Adam", "epsilon", lambda v: O.Adam(epsilon=v), [True, nan, -1.0, inf]),
        ("RMSprop", "rho", lambda v: O.RMSprop(rho=v), [True, nan, -0.1, 1.0]),
        ("Adagrad", "initial_accumulator_value", lambda v: O.Adagrad(initial_accumulator_value=v),
         [True, nan, -1.0, "0.1"]),
        ("Dropout", "rate", lambda v: Dropout(v), [True, "0.5", None, nan, -0.1, 1.0, 1.5, 1j]),
        ("MatrixFactorization", "l2", lambda v: MatrixFactorization(5, 4, l2=v), [True, nan, -1.0, "0.1", inf]),
        ("MatrixFactorization", "l2_bias", lambda v: MatrixFactorization(5, 4, l2_bias=v), [nan, -1.0, "0.1"]),
        ("MatrixFactorization", "init_std", lambda v: MatrixFactorization(5, 4, init_std=v), [nan, -1.0, "1"]),
        ("MatrixFactorization", "l2_exponent", lambda v: MatrixFactorization(5, 4, l2_exponent=v),
         [True, nan, -0.5, 1.5, "0.5", inf]),
        ("NeuMF", "l2", lambda v: NeuMF(5, 4, l2=v), [True, nan, -1.0, "0"]),
        ("NeuMF", "init_std", lambda v: NeuMF(5, 4, init_std=v), [nan, -0.1, None]),
        ("BiasBaseline", "l2", lambda v: BiasBaseline(5, 4, l2=v), [True, nan, -1.0, "10"]),
        ("log_loss", "eps", lambda v: M.log_loss([1, 0], [0.9, 0.1], eps=v), [True, "1e-7", nan, 0, 0.5, -1]),
        ("binary_accuracy", "threshold", lambda v: M.binary_accuracy([1, 0], [0.9, 0.1], threshold=v),
         [True, "0.5", nan, None]),
        ("random_split", "test_size", lambda v: random_split(10, test_size=v), [True, "0.2", nan, 0.0, 1.0, -0.5,
                                                                                0, 10, None]),
        ("temporal_split", "test_size", lambda v: temporal_split(np.arange(10), test_size=v),
         [True, "0.2", nan, 1.0, 0, 10]),
        ("make_ads", "click_rate", lambda v: make_ads(n_samples=10, click_rate=v), [True, nan, 0.0, 1.0, "0.4"]),
        ("make_ads", "teacher_scale", lambda v: make_ads(n_samples=10, teacher_scale=v), [nan, -1.0, inf]),
        ("make_movies", "noise_std", lambda v: make_movies(noise_std=v), [True, nan, -1.0, "0.7"]),
    ]
    known = {}
    targets.append(("Embedding", "l2", lambda v: Embedding(5, 2, l2=v), [True, "0", nan, -1.0, inf, None]))
    rows = []
    for owner, arg, call, values in targets:
        for value in values:
            row = (f"{owner}.{arg}={value!r}", (lambda c=call, v=value: c(v)), rf"{owner}.*{arg}")
            reason = known.get((owner, arg, repr(value)))
            rows.append((*row, reason) if reason else row)
    return rows


@pytest.mark.parametrize("call, match", _cases("bad", _real_rows()))
def test_real_arguments(call, match):
    expect_clear(call, match)


# ================================================================================================
# 3. Switches: 0/1, strings such as "False", None
# ================================================================================================
def _flag_rows():
    targets = [
        ("MostPopular.recommend", "exclude_seen", lambda v: POPULAR.recommend([0], k=2, exclude_seen=v), {}),
        ("load_movielens", "download", lambda v: load_movielens("ml-100k", data_home="/nonexistent-dir/x",
                                                                 download=v), {}),
        ("load_movielens", "verbose", lambda v: load_movielens("ml-100k", data_home="/nonexistent-dir/x",
                                                                download=False, verbose=v), {}),
        ("BinaryCrossentropy", "from_logits", lambda v: losses.BinaryCrossentropy(from_logits=v), {}),
        ("CategoricalCrossentropy", "from_logits", lambda v: losses.CategoricalCrossentropy(from_logits=v), {}),
        ("SGD", "nesterov", lambda v: O.SGD(0.1, momentum=0.9, nesterov=v), {}),
        ("Adam", "amsgrad", lambda v: O.Adam(amsgrad=v), {}),
        ("RMSprop", "centered", lambda v: O.RMSprop(centered=v), {}),
        ("sample_negatives", "distinct", lambda v: sample_negatives([0], 5, 1, [0], [0], distinct=v), {}),
        ("Dense", "use_bias", lambda v: Dense(2, use_bias=v), {}),
        ("MatrixFactorization", "clip", lambda v: MatrixFactorization(5, 4, clip=v), {}),
    ]
    rows = []
    for owner, arg, call, known in targets:
        for value in [1, 0, "no", None]:
            row = (f"{owner}.{arg}={value!r}", (lambda c=call, v=value: c(v)), rf"{owner}.*{arg}")
            reason = known.get(repr(value))
            rows.append((*row, reason) if reason else row)
    return rows


@pytest.mark.parametrize("call, match", _cases("bad", _flag_rows()))
def test_switch_arguments(call, match):
    expect_clear(call, match)


# ================================================================================================
# 4. Names: a typo gets the closest valid name; a non-name says what a name must be
# ================================================================================================
def _seq():
    return Sequential([Dense(1, input_dim=2)], seed=0)


NAME_ROWS = [
    ("loss-typo", lambda: losses.get("binary_crossentopy"), "did you mean 'binary_crossentropy'"),
    ("loss-case-typo", lambda: losses.get("Mean_Squared_Eror"), "did you mean 'mean_squared_error'"),
    ("loss-short", lambda: losses.get("msee"), "did you mean 'mse'"),
    ("optimizer-typo", lambda: O.get("adma"), "did you mean 'adam'"),
    ("optimizer-typo2", lambda: O.get("rmsporp"), "did you mean 'rmsprop'"),
    ("optimizer-typo3", lambda: O.get("sgdd"), "did you mean 'sgd'"),
    ("metric-typo", lambda: M.get("acuracy"), "did you mean 'accuracy'"),
    ("metric-typo2", lambda: M.get("rmsee"), "did you mean 'rmse'"),
    ("metric-typo3", lambda: M.get("mean_absolut_error"), "did you mean 'mean_absolute_error'"),
    ("activation-typo", lambda: activations.get("rellu"), "did you mean 'relu'"),
    ("activation-typo2", lambda: activations.get("sigmod"), "did you mean 'sigmoid'"),
    ("activation-typo3", lambda: activations.get("softmx"), "did you mean 'softmax'"),
    ("activation-typo4", lambda: activations.get("leakyrelu"), "did you mean 'leaky_relu'"),
    ("initializer-typo", lambda: initializers.get("glorot_unifrom"), "did you mean 'glorot_uniform'"),
    ("initializer-typo2", lambda: initializers.get("he_norml"), "did you mean 'he_normal'"),
    ("initializer-typo3", lambda: initializers.get("zeroes"), "did you mean 'zeros'"),
    ("compile-loss-typo", lambda: _seq().compile(loss="binary_crosentropy"), "did you mean 'binary_crossentropy'"),
    ("compile-optimizer-typo", lambda: _seq().compile(loss="mse", optimizer="adamm"), "did you mean 'adam'"),
    ("compile-metric-typo", lambda: _seq().compile(loss="mse", metrics=["maee"]), "did you mean 'mae'"),
    ("compile-accuracy-typo", lambda: _seq().compile(loss="mse", metrics=["accuarcy"]), "did you mean 'accuracy'"),
    ("Dense-activation-typo", lambda: Dense(2, activation="tanhh"), "did you mean 'tanh'"),
    ("Activation-typo", lambda: Activation("lineer"), "did you mean 'linear'"),
    ("Dense-kernel_initializer-typo", lambda: Dense(2, kernel_initializer="he_unifrom"), "did you mean 'he_uniform'"),
    ("Embedding-initializer-typo", lambda: Embedding(3, 2, embeddings_initializer="unifrom"),
     "did you mean 'uniform'"),
    ("direction-typo", lambda: M.direction("val_aucc"), "did you mean 'auc'"),
    ("loss-int", lambda: losses.get(42), "loss 42"),
    ("loss-None", lambda: losses.get(None), "loss None"),
    ("optimizer-int", lambda: O.get(42), "optimizer must be"),
    ("optimizer-None", lambda: O.get(None), "optimizer must be"),
    ("metric-int", lambda: M.get(42), "metrics.get: a metric must be"),
    ("activation-int", lambda: activations.get(42), "activation must be a name"),
    ("activation-lambda", lambda: activations.get(lambda z: z), "no hand-written derivative"),
    ("initializer-int", lambda: initializers.get(42), "initializer 42"),
    ("direction-int", lambda: M.direction(42), "metrics.direction"),
    ("direction-plain-function", lambda: M.direction(lambda a, b: 0.0), "higher_is_better"),
    ("write_bundled-unknown", lambda: write_bundled("/nonexistent-dir/x", names=["movie"]), "write_bundled"),
    ("load_movielens-unknown", lambda: load_movielens("ml-20m", data_home="/nonexistent-dir/x"),
     "load_movielens: name must be one of"),
    ("load_movielens-int", lambda: load_movielens(100, data_home="/nonexistent-dir/x"), "load_movielens: name"),
]


@pytest.mark.parametrize("call, match", _cases("bad", NAME_ROWS))
def test_names(call, match):
    expect_clear(call, match)


# ================================================================================================
# 5. Arrays: ragged, strings, complex, NaN/inf, None, empty, wrong shapes, huge or negative ids
# ================================================================================================
RAGGED = [[1.0, 0.0], [1.0]]
STRINGS = ["1", "0"]
COMPLEX = np.array([1 + 1j, 0.0])
NAN = np.array([np.nan, 0.0])


def _metric_rows():
    rows = []
    pairs = {
        "mean_squared_error": M.mse, "mean_absolute_error": M.mae, "rmse": M.rmse,
        "binary_accuracy": M.binary_accuracy, "accuracy": M.accuracy, "log_loss": M.log_loss, "auc": M.auc,
    }
    good = np.array([0.9, 0.1])
    for name, fn in pairs.items():
        for label, y_true in [("ragged", RAGGED), ("strings", STRINGS), ("complex", COMPLEX), ("nan", NAN),
                              ("None", None), ("dict", {0: 1, 1: 0}), ("length-3", [1, 0, 1])]:
            rows.append((f"{name}.y_true={label}", (lambda f=fn, y=y_true: f(y, good)), f"{name}: "))
        for label, y_pred in [("ragged", RAGGED), ("strings", STRINGS), ("complex", COMPLEX),
                              ("empty", np.zeros(0)), ("(3,)", np.ones(3)), ("None", None)]:
            rows.append((f"{name}.y_pred={label}", (lambda f=fn, p=y_pred: f([1.0, 0.0], p)), f"{name}: "))
    # NaN predictions are refused by the whole-test-set metrics (the training ones let them through, see
    # metrics._numeric: fit calls them before its NaN guard, which must be the one to report it).
    for name, fn in [("rmse", M.rmse), ("log_loss", M.log_loss), ("auc", M.auc)]:
        rows.append((f"{name}.y_pred=nan", (lambda f=fn: f([1.0, 0.0], NAN)), f"{name}: .*NaN"))
    rows += [
        ("log_loss.p>1", lambda: M.log_loss([1, 0], [1.5, 0.1]), "log_loss: p must be probabilities"),
        ("log_loss.y_true=2", lambda: M.log_loss([2, 0], [0.5, 0.1]), "log_loss: y_true must be labels"),
        ("auc.one-class", lambda: M.auc([1, 1], [0.5, 0.1]), "auc: needs both classes"),
        ("auc.labels=0.5", lambda: M.auc([0.5, 1], [0.5, 0.1]), "auc: y_true must hold only 0 and 1"),
        ("auc.y_score=inf", lambda: M.auc([0, 1], [np.inf, 0.1]), "auc: y_score"),
        ("categorical_accuracy.1-D", lambda: M.categorical_accuracy([0, 1], [0.3, 0.7]), "categorical_accuracy"),
        ("categorical_accuracy.strings", lambda: M.categorical_accuracy([["a", "b"]], [[0.3, 0.7]]),
         "categorical_accuracy: y_true must be numeric"),
        ("categorical_accuracy.complex", lambda: M.categorical_accuracy([[0, 1]], [[0.3j, 0.7]]),
         "categorical_accuracy: y_pred must be real"),
        ("categorical_accuracy.empty", lambda: M.categorical_accuracy(np.zeros((0, 2)), np.zeros((0, 2))),
         "categorical_accuracy"),
        ("sparse_categorical_accuracy.length", lambda: M.sparse_categorical_accuracy([0], [[0.3, 0.7]] * 2),
         "sparse_categorical_accuracy"),
        ("sparse_categorical_accuracy.ragged", lambda: M.sparse_categorical_accuracy([[0], [1, 2]], [[0.3, 0.7]]),
         "sparse_categorical_accuracy: y_true must be a rectangular"),
        ("accuracy.mismatch", lambda: M.accuracy(np.zeros((3, 2)), np.ones((3, 4))), "accuracy: y_true"),
    ]
    return rows


@pytest.mark.parametrize("call, match", _cases("bad", _metric_rows()))
def test_metric_arrays(call, match):
    expect_clear(call, match)


def _ranking_rows():
    rows = []
    fns = {"precision_at_k": M.precision_at_k, "recall_at_k": M.recall_at_k, "hit_rate_at_k": M.hit_rate_at_k,
           "ndcg_at_k": M.ndcg_at_k, "map_at_k": M.map_at_k, "mrr": M.mrr}
    bad_recommended = [
        ("1-D", np.array([0, 1])), ("ragged", [[0, 1], [2]]), ("strings", [["a", "b"]]),
        ("floats", np.array([[0.0, 1.0]])), ("negative", np.array([[0, -1]])), ("repeats", np.array([[1, 1]])),
        ("empty", np.zeros((0, 2), dtype=int)), ("bools", np.array([[True, False]])), ("None", None),
        ("complex", np.array([[1j, 0]])),
    ]
    bad_relevant = [
        ("length-3", [[1], [2], [3]]), ("dict-raw-ids", {10: [1], 20: [2]}), ("set", {1, 2}), ("string", "ab"),
        ("None", None), ("int", 3), ("ragged-entry", [[[1, 2], [3]], [1]]), ("float-entries", [[1.5], [2.0]]),
        ("negative-id", [[-1], [2]]), ("all-empty", [[], []]), ("str-entry", ["ab", [1]]),
        ("dict-entry", [{1: 2}, [1]]), ("1-D-floats", np.array([1.0, 2.0])), ("1-D-wrong-length", np.array([1, 2, 3])),
        ("3-D", np.zeros((2, 1, 1), dtype=int)), ("bool-entries", [[True], [False]]),
    ]
    for name, fn in fns.items():
        for label, rec in bad_recommended:
            rows.append((f"{name}.recommended={label}", (lambda f=fn, r=rec: f(r, [[1], [2]])), f"{name}: "))
        for label, rel in bad_relevant:
            rows.append((f"{name}.relevant={label}", (lambda f=fn, r=rel: f(REC, r)), f"{name}: "))
        rows.append((f"{name}.k>columns", (lambda f=fn: f(REC, [[1], [2]], k=3)), f"{name}: k=3 is larger"))
    rows += [
        ("rank_among.nan", lambda: M.rank_among([np.nan, 0.0], np.zeros((2, 3))), "rank_among: pos_scores"),
        ("rank_among.strings", lambda: M.rank_among(["a", "b"], np.zeros((2, 3))), "rank_among: pos_scores"),
        ("rank_among.1-D-neg", lambda: M.rank_among([0.0, 1.0], [0.0, 1.0]), "rank_among: neg_scores"),
        ("rank_among.length", lambda: M.rank_among([0.0], np.zeros((2, 3))), "rank_among: pos_scores"),
        ("rank_among.complex", lambda: M.rank_among([1j, 0], np.zeros((2, 3))), "rank_among: pos_scores"),
        ("rank_among.ragged", lambda: M.rank_among([0.0, 1.0], [[0.0], [1.0, 2.0]]), "rank_among: neg_scores"),
        ("hit_rate_from_ranks.floats", lambda: M.hit_rate_from_ranks([0.5, 1.0]), "hit_rate_from_ranks: ranks"),
        ("hit_rate_from_ranks.negative", lambda: M.hit_rate_from_ranks([-1, 2]), "hit_rate_from_ranks: ranks"),
        ("hit_rate_from_ranks.2-D", lambda: M.hit_rate_from_ranks([[1, 2]]), "hit_rate_from_ranks: ranks"),
        ("hit_rate_from_ranks.empty", lambda: M.hit_rate_from_ranks([]), "hit_rate_from_ranks: ranks"),
        ("ndcg_from_ranks.strings", lambda: M.ndcg_from_ranks(["1"]), "ndcg_from_ranks: ranks"),
        ("ndcg_from_ranks.nan", lambda: M.ndcg_from_ranks([np.nan]), "ndcg_from_ranks: ranks"),
        ("catalog_coverage.id>=n_items", lambda: M.catalog_coverage([[0, 4]], 4), "catalog_coverage: recommended"),
        ("novelty.count>n_users", lambda: M.novelty(REC, [1, 9, 1, 1], 4), "novelty: item_popularity"),
        ("novelty.negative", lambda: M.novelty(REC, [1, -1, 1, 1], 4), "novelty: item_popularity"),
        ("novelty.nan", lambda: M.novelty(REC, [1, np.nan, 1, 1], 4), "novelty: item_popularity"),
        ("novelty.strings", lambda: M.novelty(REC, ["1", "1", "1", "1"], 4), "novelty: item_popularity"),
        ("novelty.2-D", lambda: M.novelty(REC, [[1, 1, 1, 1]], 4), "novelty: item_popularity"),
        ("novelty.too-few-items", lambda: M.novelty(REC, [1, 1], 4), "novelty: recommended"),
        ("intra_list_diversity.nan", lambda: M.intra_list_diversity(REC, np.full((4, 2), np.nan)),
         "intra_list_diversity: item_features"),
        ("intra_list_diversity.1-D", lambda: M.intra_list_diversity(REC, np.ones(4)),
         "intra_list_diversity: item_features"),
        ("intra_list_diversity.strings", lambda: M.intra_list_diversity(REC, [["a"]] * 4),
         "intra_list_diversity: item_features"),
        ("intra_list_diversity.k=1", lambda: M.intra_list_diversity([[0], [1]], np.eye(4)),
         "intra_list_diversity: needs lists of at least 2"),
    ]
    return rows


@pytest.mark.parametrize("call, match", _cases("bad", _ranking_rows()))
def test_ranking_arrays(call, match):
    expect_clear(call, match)


def _loss_rows():
    rows = []
    two_col = np.array([[0.3, 0.7], [0.6, 0.4]])
    for name in ["mean_squared_error", "binary_crossentropy", "categorical_crossentropy",
                 "sparse_categorical_crossentropy"]:
        loss = losses.get(name)
        good_pred = two_col
        for label, y_true in [("ragged", RAGGED), ("strings", [["a", "b"], ["c", "d"]]),
                              ("complex", np.array([[1j, 0], [0, 1]])), ("nan", np.array([[np.nan, 1], [0, 1]])),
                              ("None", None), ("wrong-shape", np.ones((3, 2)))]:
            rows.append((f"{name}.y_true={label}", (lambda f=loss, y=y_true, p=good_pred: f(y, p)), f"{name}: "))
        for label, y_pred in [("complex", two_col + 1j), ("strings", [["a", "b"], ["c", "d"]]),
                              ("nan", np.array([[np.nan, 1], [0, 1]])), ("empty", np.zeros((0, 2))),
                              ("3-D", np.ones((2, 2, 1))), ("ragged", [[0.3, 0.7], [0.6]]), ("None", None)]:
            rows.append((f"{name}.y_pred={label}", (lambda f=loss, p=y_pred: f(np.eye(2), p)), f"{name}: "))
    rows += [
        ("binary_crossentropy.targets>1", lambda: losses.get("binary_crossentropy")([2.0, 0.0], [0.5, 0.5]),
         "binary_crossentropy: targets must lie in"),
        ("categorical_crossentropy.not-one-hot", lambda: losses.get("categorical_crossentropy")(
            np.ones((2, 2)), np.full((2, 2), 0.5)), "categorical_crossentropy: targets must be one-hot"),
        ("categorical_crossentropy.1-D-pred", lambda: losses.get("categorical_crossentropy")(
            [0.0, 1.0], [0.3, 0.7]), r"categorical_crossentropy: y_pred must be \(N, K\)"),
        ("sparse_categorical_crossentropy.label=2", lambda: losses.get("sparse_categorical_crossentropy")(
            [0, 2], np.full((2, 2), 0.5)), "sparse_categorical_crossentropy: labels must be integers in"),
        ("sparse_categorical_crossentropy.label=0.5", lambda: losses.get("sparse_categorical_crossentropy")(
            [0, 0.5], np.full((2, 2), 0.5)), "sparse_categorical_crossentropy: labels must be integers"),
        ("mean_squared_error.length", lambda: losses.get("mse")([1.0, 2.0, 3.0], [1.0, 2.0]),
         "mean_squared_error: targets must have"),
    ]
    return rows


@pytest.mark.parametrize("call, match", _cases("bad", _loss_rows()))
def test_loss_arrays(call, match):
    expect_clear(call, match)


BAD_IDS = [
    ("1e20", [1e20]), ("-1", [-1]), ("5", [5]), ("2.5", [2.5]), ("nan", [np.nan]), ("inf", [np.inf]),
    ("strings", ["a"]), ("bools", [True]), ("complex", [1j]), ("ragged", [[0, 1], [2]]), ("(1,2)", [[0, 1]]),
    ("None", None), ("2**63", [2**63]), ("uint64-max", np.array([2**64 - 1], dtype=np.uint64)),
]


def _id_rows():
    rows = []
    for label, ids in BAD_IDS:
        if label == "(1,2)":  # (batch, time) ids are sequences since issue 9; for Embedding, 3-D is the bad shape
            rows.append(("Embedding.ids=(1,1,2)", (lambda: Embedding(5, 2)([[[0, 1]]])),
                         r"Embedding 'embedding.*': ids must be \(batch,\) or \(batch, time\)"))
        else:
            rows.append((f"Embedding.ids={label}", (lambda i=ids: Embedding(5, 2)(i)), "Embedding 'embedding.*': ids"))
        rows.append((f"MostPopular.predict.user_ids={label}", (lambda i=ids: POPULAR.predict(i, [0])),
                     "MostPopular.predict: user_ids"))
        rows.append((f"GlobalMean.predict.item_ids={label}", (lambda i=ids: MEAN.predict([0], i)),
                     "GlobalMean.predict: item_ids"))
        row = (f"MostPopular.recommend.user_ids={label}", (lambda i=ids: POPULAR.recommend(i, k=1)),
               "MostPopular.recommend: user_ids")
        rows.append(row)
        rows.append((f"MostPopular.fit.item_ids={label}", (lambda i=ids: MostPopular(5, 4).fit([0], i)),
                     "MostPopular.fit: item_ids"))
    rows += [
        ("GlobalMean.predict.lengths", lambda: MEAN.predict([0, 1], [0]), "GlobalMean.predict: user_ids has 2"),
        ("GlobalMean.fit.lengths", lambda: GlobalMean(5, 4).fit([0, 1], [0, 1], [1.0]), "GlobalMean.fit"),
        ("GlobalMean.fit.ratings=str", lambda: GlobalMean(5, 4).fit([0], [0], ["4"]), "GlobalMean.fit: ratings"),
        ("GlobalMean.fit.ratings=nan", lambda: GlobalMean(5, 4).fit([0], [0], [np.nan]), "GlobalMean.fit: ratings"),
        ("GlobalMean.fit.ratings=complex", lambda: GlobalMean(5, 4).fit([0], [0], [4j]), "GlobalMean.fit: ratings"),
        ("GlobalMean.fit.ratings=ragged", lambda: GlobalMean(5, 4).fit([0, 1], [0, 1], [[1.0], [2.0, 3.0]]),
         "GlobalMean.fit: ratings"),
        ("GlobalMean.fit.empty", lambda: GlobalMean(5, 4).fit([], [], []), "GlobalMean.fit: no ratings"),
        ("BiasBaseline.fit.ratings=inf", lambda: BiasBaseline(5, 4).fit([0], [0], [np.inf]),
         "BiasBaseline.fit: ratings"),
        ("MatrixFactorization.fit.ratings=str",
         lambda: MatrixFactorization(5, 4).fit(USERS, ITEMS, RATINGS.astype(str)),
         "MatrixFactorization.fit: ratings"),
        ("MostPopular.fit.empty", lambda: MostPopular(5, 4).fit([], []), "MostPopular.fit: no interactions"),
        ("MostPopular.recommend.k>n_items", lambda: POPULAR.recommend([0], k=5), "MostPopular.recommend: k"),
        ("NeuMF.mlp_layers=odd", lambda: NeuMF(5, 4, mlp_layers=(3, 2)), "NeuMF: mlp_layers"),
        ("NeuMF.mlp_layers=()", lambda: NeuMF(5, 4, mlp_layers=()), "NeuMF: mlp_layers"),
        ("NeuMF.mlp_layers=True", lambda: NeuMF(5, 4, mlp_layers=True), "NeuMF.*mlp_layers"),
        ("NeuMF.mlp_layers=None", lambda: NeuMF(5, 4, mlp_layers=None), "NeuMF.*mlp_layers"),
        ("MatrixFactorization.dtype=int8", lambda: MatrixFactorization(5, 4, dtype="int8"),
         "MatrixFactorization: dtype"),
        ("MatrixFactorization.seed=str", lambda: MatrixFactorization(5, 4, seed="a"), "seed"),
    ]
    return rows


@pytest.mark.parametrize("call, match", _cases("bad", _id_rows()))
def test_ids_and_recommenders(call, match):
    expect_clear(call, match, kinds=(ValueError, TypeError, RuntimeError))


def _interaction_and_split_rows():
    rows = [
        ("sample_negatives.user_ids=float", lambda: sample_negatives([0.5], 5, 1, [0], [0]),
         "sample_negatives: user_ids"),
        ("sample_negatives.user_ids=negative", lambda: sample_negatives([-1], 5, 1, [0], [0]),
         "sample_negatives: user_ids"),
        ("sample_negatives.user_ids=ragged", lambda: sample_negatives([[0], [0, 1]], 5, 1, [0], [0]),
         "sample_negatives: user_ids"),
        ("sample_negatives.user_ids=strings", lambda: sample_negatives(["a"], 5, 1, [0], [0]),
         "sample_negatives: user_ids"),
        ("sample_negatives.seen-lengths", lambda: sample_negatives([0], 5, 1, [0, 1], [0]), "sample_negatives"),
        ("sample_negatives.seen-item>=n_items", lambda: sample_negatives([0], 5, 1, [0], [5]),
         "sample_negatives: item ids"),
        ("sample_negatives.too-many-distinct", lambda: sample_negatives([0], 5, 5, [0], [0], distinct=True),
         "sample_negatives: cannot draw 5 distinct"),
        ("sample_negatives.all-seen", lambda: sample_negatives([0], 2, 1, [0, 0], [0, 1]),
         "sample_negatives: cannot draw a negative"),
        ("sample_negatives.seed=str", lambda: sample_negatives([0], 5, 1, [0], [0], seed="a"), "sample_negatives"),
        ("sample_negatives.huge-n_items", lambda: sample_negatives([3], 2**62, 1, [3], [1]),
         "sample_negatives.*n_items"),
        ("seen_items.item>=n_items", lambda: seen_items([0], [3], 2, 3), "seen_items: item ids"),
        ("seen_items.user>=n_users", lambda: seen_items([2], [0], 2, 3), "seen_items: user ids"),
        ("seen_items.lengths", lambda: seen_items([0, 1], [0], 2, 3), "seen_items"),
        ("seen_items.floats", lambda: seen_items([0.0], [1.0], 2, 3), "seen_items"),
        ("seen_items.bools", lambda: seen_items([True], [False], 2, 3), "seen_items"),
        ("seen_items.huge", lambda: seen_items([0], [1], 2**40, 2**40), "seen_items.*n_users"),
        ("leave_last_out.user_ids=float", lambda: leave_last_out([0.5, 1.0], [1, 2]), "leave_last_out: user_ids"),
        ("leave_last_out.user_ids=bool", lambda: leave_last_out([True, False], [1, 2]), "leave_last_out: user_ids"),
        ("leave_last_out.user_ids=2-D", lambda: leave_last_out([[0, 1]], [[1, 2]]), "leave_last_out: user_ids"),
        ("leave_last_out.timestamps=nan", lambda: leave_last_out([0, 0], [1.0, np.nan]),
         "leave_last_out: timestamps must be finite"),
        ("leave_last_out.timestamps=inf", lambda: leave_last_out([0, 0], [np.inf, 1.0]),
         "leave_last_out: timestamps must be finite"),
        ("leave_last_out.timestamps=str", lambda: leave_last_out([0, 0], ["a", "b"]), "leave_last_out: timestamps"),
        ("leave_last_out.timestamps=complex", lambda: leave_last_out([0, 0], [1j, 2]), "leave_last_out: timestamps"),
        ("leave_last_out.lengths", lambda: leave_last_out([0, 0, 1], [1, 2]), "leave_last_out: user_ids and"),
        ("leave_last_out.seed=str", lambda: leave_last_out([0, 0], [1, 2], seed="x"), "leave_last_out"),
        ("temporal_split.timestamps=nan", lambda: temporal_split([1.0, np.nan, 3.0], 1),
         "temporal_split: timestamps must be finite"),
        ("temporal_split.timestamps=2-D", lambda: temporal_split([[1, 2]], 1), "temporal_split: timestamps"),
        ("temporal_split.empty", lambda: temporal_split([], 0.5), "temporal_split: test_size"),
        ("random_split.n=True", lambda: random_split(True), "random_split: n"),
        ("random_split.n=str", lambda: random_split("abc"), "random_split: n"),
        ("random_split.n=2.5", lambda: random_split(2.5), "random_split: n"),
        ("random_split.n=1", lambda: random_split(1), "random_split: test_size"),
        ("random_split.seed=-1", lambda: random_split(10, seed=-1), "random_split"),
        ("make_movies.seed=str", lambda: make_movies(seed="a"), "make_movies: seed"),
        ("make_movies.seed=True", lambda: make_movies(seed=True), "make_movies: seed"),
        ("make_movies.seed=-1", lambda: make_movies(seed=-1), "make_movies: seed"),
        ("make_movies.too-few-items", lambda: make_movies(n_users=2, n_items=3, n_ratings=6), "make_movies"),
        ("make_products.too-many", lambda: make_products(n_users=2, n_items=3, n_interactions=7), "make_products"),
        ("make_music.artists>items", lambda: make_music(n_items=10), "make_music: n_artists"),
        ("make_ads.n_features=99", lambda: make_ads(n_samples=10, n_features=99), "make_ads: n_features"),
    ]
    return rows


@pytest.mark.parametrize("call, match", _cases("bad", _interaction_and_split_rows()))
def test_interactions_splits_generators(call, match):
    expect_clear(call, match)


def _layer_model_optimizer_rows():
    x = np.random.default_rng(0).standard_normal((8, 2))
    y = x.sum(axis=1)

    def compiled():
        model = _seq()
        model.compile(loss="mse", optimizer="sgd")
        return model

    p = np.zeros(3)
    dense = Dense(2)
    rows = [
        ("Dense.forward.1-D", lambda: Dense(2)(np.ones(3)), "dense.*shape"),
        ("Dense.forward.strings", lambda: Dense(2)(np.array([["a"]])), "[Dd]ense.*x"),
        ("Activation.forward.strings", lambda: Activation("relu")(np.array([["a"]])), "activations.relu: z"),
        ("Activation.forward.complex", lambda: Activation("sigmoid")(np.array([[1j]])), "activations.sigmoid: z"),
        ("softmax.empty-classes", lambda: activations.softmax(np.ones((2, 0))), "activations.softmax"),
        ("relu.object", lambda: activations.relu(np.array([None])), "activations.relu: z"),
        ("tanh.bool", lambda: activations.tanh(np.array([True])), "activations.tanh: z"),
        ("glorot_uniform.shape=-1", lambda: initializers.glorot_uniform((-1, 3), 0), "glorot_uniform: shape"),
        ("glorot_uniform.shape=str", lambda: initializers.glorot_uniform("ab", 0), "glorot_uniform: shape"),
        ("he_normal.shape=bool", lambda: initializers.he_normal((2, True), 0), "he_normal: shape"),
        ("he_normal.shape=float", lambda: initializers.he_normal((2.0, 3), 0), "he_normal: shape"),
        ("uniform.rng=str", lambda: initializers.uniform((2,), "x"), "initializers.uniform"),
        ("ones.dtype=int", lambda: initializers.ones((2,), dtype=int), "initializers.ones: dtype"),
        ("zeros.dtype=bogus", lambda: initializers.zeros((2,), dtype="bogus"), "initializers.zeros: dtype"),
        ("Sequential.add.str", lambda: Sequential().add("dense"), "sequential.add"),
        ("Sequential.layers=str", lambda: Sequential("abc"), "sequential.add"),
        ("Sequential.compile.no-loss", lambda: _seq().compile(), "compile: a loss is required"),
        ("Sequential.compile.metrics=42", lambda: _seq().compile(loss="mse", metrics=[42]), "metrics.get"),
        ("Sequential.fit.y=str", lambda: compiled().fit(x, y.astype(str), verbose=0), "fit: y must be numeric"),
        ("Sequential.fit.y=complex", lambda: compiled().fit(x, y + 1j, verbose=0), "fit: y must be (numeric|real)"),
        ("Sequential.fit.y=nan", lambda: compiled().fit(x, np.r_[y[:-1], np.nan], verbose=0), "fit|y|targets"),
        ("Sequential.fit.y-length", lambda: compiled().fit(x, y[:5], verbose=0), "fit: x has 8 rows but y has 5"),
        ("Sequential.fit.y=ragged", lambda: compiled().fit(x, [[1.0]] * 7 + [[1.0, 2.0]], verbose=0), "fit.*y"),
        ("Sequential.fit.x=ragged", lambda: compiled().fit([[1.0, 2.0]] * 7 + [[1.0]], y, verbose=0),
         "fit: x must be numeric"),
        ("Sequential.fit.x=complex", lambda: compiled().fit(x + 1j, y, verbose=0), "fit.*x"),
        ("Sequential.fit.x=nan", lambda: compiled().fit(np.full((8, 2), np.nan), y, verbose=0), "fit: x contains NaN"),
        ("Sequential.fit.x=strings", lambda: compiled().fit(x.astype(str).astype(object) + "z", y, verbose=0),
         "fit: x must be numeric"),
        ("Sequential.fit.x-width", lambda: compiled().fit(np.ones((8, 3)), y, verbose=0),
         "fit: expected inputs with 2"),
        ("Sequential.fit.x=empty", lambda: compiled().fit(x[:0], y[:0], verbose=0), "fit: no training data"),
        ("Sequential.fit.batch_size=0", lambda: compiled().fit(x, y, batch_size=0, verbose=0), "fit: batch_size"),
        ("Sequential.fit.verbose=7", lambda: compiled().fit(x, y, verbose=7), "fit: verbose"),
        ("Sequential.fit.validation_split=1.0", lambda: compiled().fit(x, y, validation_split=1.0, verbose=0),
         "fit: validation_split"),
        ("Sequential.fit.validation_data=3-tuple", lambda: compiled().fit(x, y, validation_data=(x, y, y), verbose=0),
         "fit: validation_data"),
        ("Sequential.fit.shuffle=str", lambda: compiled().fit(x, y, shuffle="False", verbose=0), "fit.*shuffle"),
        ("Sequential.fit.uncompiled", lambda: _seq().fit(x, y, verbose=0), "compile"),
        ("Sequential.evaluate.empty", lambda: compiled().evaluate(x[:0], y[:0]), "evaluate: no data"),
        ("Sequential.predict.width", lambda: compiled().predict(np.ones((2, 5))), "predict: expected inputs with 2"),
        ("Sequential.predict.strings", lambda: compiled().predict([["a", "b"]]), "predict: x must be numeric"),
        ("Adam.apply.shape", lambda: O.Adam().apply_gradients([(np.zeros(4), p)]), "Adam.apply_gradients: gradient"),
        ("Adam.apply.int-param", lambda: O.Adam().apply_gradients([(np.zeros(3), np.zeros(3, int))]),
         "Adam.apply_gradients: param"),
        ("Adam.apply.not-a-pair", lambda: O.Adam().apply_gradients([np.zeros(3)]), "Adam.apply_gradients: item #0"),
        ("Adam.apply.strings", lambda: O.Adam().apply_gradients([(np.array(["a", "b", "c"]), p)]),
         "Adam.apply_gradients: gradient"),
        ("Adam.apply.ragged", lambda: O.Adam().apply_gradients([([[1.0], [1.0, 2.0]], p)]),
         "Adam.apply_gradients: gradient"),
        ("SGD.apply.complex", lambda: O.SGD(0.1).apply_gradients([(np.array([1j, 0, 0]), np.zeros(3))]),
         "SGD.apply_gradients: gradient"),
        ("Adam.apply.None", lambda: O.Adam().apply_gradients(None), "Adam.apply_gradients"),
        ("Sequential.seed=str", lambda: Sequential(seed="abc"), "seed"),
        ("Sequential.seed=True", lambda: Sequential(seed=True), "seed"),
        ("Sequential.same-layer-twice", lambda: Sequential([Dense(2, input_dim=2), dense, dense]),
         "sequential.add: layer .* is already in this model"),
        ("Sequential.fit.validation_split=str", lambda: compiled().fit(x, y, validation_split="0.2", verbose=0),
         "fit: validation_split"),
        ("Sequential.fit.validation_data=empty", lambda: compiled().fit(x, y, validation_data=(x[:0], y[:0]),
                                                                        verbose=0), "fit: validation_data"),
        ("Sequential.fit.epochs=True", lambda: compiled().fit(x, y, epochs=True, verbose=0), "fit: epochs"),
        ("Sequential.fit.epochs=-1", lambda: compiled().fit(x, y, epochs=-1, verbose=0), "fit: epochs"),
        ("Sequential.fit.epochs=2.0", lambda: compiled().fit(x, y, epochs=2.0, verbose=0), "fit: epochs"),
        ("Sequential.fit.batch_size=True", lambda: compiled().fit(x, y, batch_size=True, verbose=0),
         "fit: batch_size"),
        ("Sequential.fit.batch_size=str", lambda: compiled().fit(x, y, batch_size="32", verbose=0),
         "fit: batch_size"),
        ("Sequential.predict.batch_size=-1", lambda: compiled().predict(x, batch_size=-1), "predict: batch_size"),
        ("Sequential.predict.batch_size=True", lambda: compiled().predict(x, batch_size=True), "predict: batch_size"),
        ("Sequential.evaluate.batch_size=-1", lambda: compiled().evaluate(x, y, batch_size=-1),
         "evaluate: batch_size"),
        ("Sequential.evaluate.batch_size=0.5", lambda: compiled().evaluate(x, y, batch_size=0.5),
         "evaluate: batch_size"),
        ("EarlyStopping.patience=str", lambda: EarlyStopping(patience="3"), "EarlyStopping: patience"),
        ("EarlyStopping.patience=True", lambda: EarlyStopping(patience=True), "EarlyStopping: patience"),
        ("EarlyStopping.patience=-1", lambda: EarlyStopping(patience=-1), "EarlyStopping: patience"),
        ("EarlyStopping.mode=typo", lambda: EarlyStopping(mode="maxx"), "EarlyStopping: mode"),
        ("EarlyStopping.min_delta=nan", lambda: EarlyStopping(min_delta=math.nan), "EarlyStopping: min_delta"),
        ("EarlyStopping.monitor=int", lambda: EarlyStopping(monitor=3), "EarlyStopping: monitor"),
        ("Optimizer.name=int", lambda: O.Adam(name=3), "Adam: name"),
        ("get_data_home.file", lambda: get_data_home(__file__), "get_data_home: data_home .* is a file"),
        ("get_data_home.int", lambda: get_data_home(3), "get_data_home: data_home must be a folder path"),
        ("write_bundled.root=file", lambda: write_bundled(__file__, names=["products"]),
         "write_bundled: root .* is a file"),
    ]
    return rows


@pytest.mark.parametrize("call, match", _cases("bad", _layer_model_optimizer_rows()))
def test_layers_models_optimizers(call, match):
    expect_clear(call, match, kinds=(ValueError, TypeError, RuntimeError, OSError))


def test_weights_files(tmp_path):
    """A ``.npy`` renamed ``.npz`` and a file holding NaN weights are refused by ``load_weights``."""
    def model():
        m = _seq()
        m.compile(loss="mse", optimizer="sgd")
        return m

    fake = tmp_path / "weights.npz"
    np.save(tmp_path / "weights.npy", np.zeros(3))
    (tmp_path / "weights.npy").rename(fake)
    expect_clear(lambda: model().load_weights(fake), "load_weights: .* is not a tinyrec file")

    broken = model()
    broken.set_weights([np.full_like(w, np.nan) for w in broken.get_weights()])
    broken.save_weights(tmp_path / "nan.npz")
    expect_clear(lambda: model().load_weights(tmp_path / "nan.npz"), "load_weights: .*NaN")
    expect_clear(lambda: model().load_weights(tmp_path / "missing.npz"), "load_weights|missing.npz",
                 kinds=(ValueError, OSError))


# ================================================================================================
# 6. Legal edge cases: unusual but valid input, and the answer worked out by hand
# ================================================================================================
def _close(expected):
    return lambda got: np.allclose(got, expected)


def _recommend_all():
    items, scores = POPULAR.recommend([4], k=4, exclude_seen=False)
    # counts: item 0 ×2, 1 ×2, 2 ×2, 3 ×1 → the three ties first (any order), item 3 last
    return bool(sorted(items[0, :3].tolist()) == [0, 1, 2] and items[0, 3] == 3 and scores[0, 3] == 1.0)


EDGE_ROWS = [
    ("mse-identical", lambda: M.mse([1.0, 2.0], [1.0, 2.0]), _close(0.0)),
    ("mse-(n,)-vs-(n,1)", lambda: M.mse([1.0, 2.0], [[2.0], [2.0]]), _close(0.5)),
    ("mae-single", lambda: M.mae([3], [5]), _close(2.0)),
    ("rmse-ints", lambda: M.rmse([1, 2, 3], [1, 2, 5]), _close(math.sqrt(4 / 3))),
    ("binary_accuracy-at-threshold-is-0", lambda: M.binary_accuracy([0, 1], [0.5, 0.5]), _close(0.5)),
    ("binary_accuracy-bool-labels", lambda: M.binary_accuracy(np.array([True, False]), [0.9, 0.2]), _close(1.0)),
    ("binary_accuracy-nan-pred-is-wrong", lambda: M.binary_accuracy([1, 0], [np.nan, 0.2]), _close(0.5)),
    ("accuracy-one-column", lambda: M.accuracy([1, 0, 1], [[0.9], [0.4], [0.3]]), _close(2 / 3)),
    ("accuracy-sparse", lambda: M.accuracy([2, 0], [[0.1, 0.2, 0.7], [0.2, 0.5, 0.3]]), _close(0.5)),
    ("accuracy-one-hot", lambda: M.accuracy([[0, 1], [1, 0]], [[0.1, 0.9], [0.8, 0.2]]), _close(1.0)),
    ("auc-perfect", lambda: M.auc([0, 0, 1], [0.1, 0.2, 0.9]), _close(1.0)),
    ("auc-reversed", lambda: M.auc([1, 0], [0.1, 0.9]), _close(0.0)),
    ("auc-all-ties", lambda: M.auc([1, 0, 1, 0], [0.5] * 4), _close(0.5)),
    ("log_loss-certain-right", lambda: M.log_loss([1, 0], [1.0, 0.0]), lambda v: 0 <= v < 1e-6),
    ("log_loss-certain-wrong", lambda: M.log_loss([1], [0.0]), _close(-math.log(1e-7))),
    ("precision-np.int64-k", lambda: M.precision_at_k(REC, [[1], [2]], k=np.int64(1)), _close(0.5)),
    ("precision-empty-user-left-out", lambda: M.precision_at_k(REC, [[], [2, 3]]), _close(1.0)),
    ("precision-dict-rows", lambda: M.precision_at_k(REC, {1: {2, 3}, 0: [0]}), _close(0.75)),
    ("precision-sets", lambda: M.precision_at_k(REC, [{0, 1}, set()]), _close(1.0)),
    ("recall-duplicate-relevant-counted-once", lambda: M.recall_at_k(REC, [[1, 1], [9]]), _close(0.5)),
    ("ndcg-perfect", lambda: M.ndcg_at_k(REC, [[0, 1], [2, 3]]), _close(1.0)),
    ("mrr-second", lambda: M.mrr(REC, np.array([1, 9])), _close(0.25)),
    ("map-hand", lambda: M.map_at_k([[5, 1, 6]], [[5, 6]]), _close((1 + 2 / 3) / 2)),
    ("hit_rate-leave-one-out", lambda: M.hit_rate_at_k(REC, np.array([1, 0])), _close(0.5)),
    ("hit_rate_from_ranks-big-k", lambda: M.hit_rate_from_ranks([0, 5, 99], k=1000), _close(1.0)),
    ("ndcg_from_ranks-rank1", lambda: M.ndcg_from_ranks([1], k=10), _close(1 / math.log2(3))),
    ("rank_among-minus-inf-negatives", lambda: M.rank_among([0.0], [[-np.inf, -np.inf]]), _close([0])),
    ("rank_among-ties-count-against", lambda: M.rank_among([1.0], [[1.0, 0.0]]), _close([1])),
    ("catalog_coverage-all", lambda: M.catalog_coverage(REC, 4), _close(1.0)),
    ("novelty-unseen-as-once", lambda: M.novelty([[0]], [0, 4], 4), _close(2.0)),
    ("ild-identical-features", lambda: M.intra_list_diversity(REC, np.ones((4, 3))), _close(0.0)),
    ("ild-zero-vectors", lambda: M.intra_list_diversity(REC, np.zeros((4, 3))), _close(1.0)),
    ("ild-huge-features", lambda: M.intra_list_diversity(REC, np.eye(4) * 1e200), _close(1.0)),
    ("direction-val_hit_rate", lambda: M.direction("val_hit_rate"), lambda v: v == "max"),
    ("direction-loss", lambda: M.direction("loss"), lambda v: v == "min"),
    ("metrics.get-accuracy-for-bce", lambda: M.get("acc", loss="binary_crossentropy"),
     lambda f: f is M.binary_accuracy),
    ("mse-loss-1-D", lambda: losses.get("mse")(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 3.0])), _close(0.0)),
    ("bce-1-D-equals-2-D", lambda: losses.get("binary_crossentropy")([1, 0], [0.8, 0.4])
     - losses.get("binary_crossentropy")([[1], [0]], [[0.8], [0.4]]), _close(0.0)),
    ("sparse-cce-(n,1)-labels", lambda: losses.get("sparse_categorical_crossentropy")(
        [[1], [0]], [[0.5, 0.5], [0.5, 0.5]]), _close(math.log(2))),
    ("bce-from-logits-1e4", lambda: losses.BinaryCrossentropy(from_logits=True)([1.0], [1e4]), _close(0.0)),
    ("sigmoid-extremes", lambda: activations.sigmoid(np.array([-1e4, 1e4])), _close([0.0, 1.0])),
    ("softmax-huge", lambda: activations.softmax(np.array([[1e4, 0.0]])), _close([[1.0, 0.0]])),
    ("relu-ints", lambda: activations.relu(np.array([-2, 3])), _close([0, 3])),
    ("linear-list", lambda: activations.linear([1.0, -1.0]), _close([1.0, -1.0])),
    ("glorot-empty-shape", lambda: initializers.glorot_uniform((0, 0), 0).shape, lambda s: s == (0, 0)),
    ("he_normal-zero-fan-in", lambda: initializers.he_normal((0, 3), 0).shape, lambda s: s == (0, 3)),
    ("uniform-int-seed-reproducible", lambda: initializers.uniform((3,), 7) - initializers.uniform((3,), 7),
     _close(0.0)),
    ("Embedding-(n,1)-and-whole-floats", lambda: Embedding(5, 2, embeddings_initializer="ones")(
        np.array([[1.0], [4.0]])), _close(np.ones((2, 2)))),
    ("Embedding-empty-ids", lambda: Embedding(5, 2)(np.zeros(0, dtype=int)).shape, lambda s: s == (0, 2)),
    ("Dense-empty-batch", lambda: Dense(3)(np.zeros((0, 2))).shape, lambda s: s == (0, 3)),
    ("Dropout-rate-0-is-identity", lambda: Dropout(0.0)(np.ones((2, 2)), training=True), _close(1.0)),
    ("sample_negatives-zero-negatives", lambda: sample_negatives([0, 1], 5, 0, [0], [0]).shape,
     lambda s: s == (2, 0)),
    ("sample_negatives-last-unseen-item", lambda: sample_negatives([0] * 3, 3, 1, [0, 0], [0, 2]),
     _close([[1], [1], [1]])),
    ("seen_items-user-without-items", lambda: seen_items([1, 1, 1], [2, 0, 2], 3, 4),
     lambda r: r[0].tolist() == [0, 0, 2, 2] and r[1].tolist() == [0, 2]),
    ("leave_last_out-single-interaction-stays", lambda: leave_last_out([0, 1, 1], [5, 1, 2]),
     lambda r: r[0].tolist() == [0, 1] and r[1].tolist() == [2]),
    ("leave_last_out-empty", lambda: leave_last_out([], []), lambda r: r[0].size == 0 and r[1].size == 0),
    ("random_split-n=2", lambda: random_split(2, test_size=0.5), lambda r: len(r[0]) == 1 and len(r[1]) == 1),
    ("temporal_split-int-size", lambda: temporal_split([3, 1, 2], test_size=1), lambda r: r[1].tolist() == [0]),
    ("recommend-k=n_items", _recommend_all, lambda ok: ok is True),
    ("recommend-scalar-user", lambda: POPULAR.recommend(np.int64(0), k=1)[0].shape, lambda s: s == (1, 1)),
    ("predict-empty", lambda: MEAN.predict([], []).shape, lambda s: s == (0,)),
    ("GlobalMean-value", lambda: MEAN.predict([1], [1]), _close([RATINGS.mean()])),
]


@pytest.mark.parametrize("call, check", [pytest.param(c, k, id=f"edge-{i}") for i, c, k in EDGE_ROWS])
def test_legal_edge_cases(call, check):
    assert check(call())
