"""Sequential: the seed example, fit/evaluate/predict conventions, weights on disk, reproducibility, errors."""


import re

import numpy as np
import pytest

from tinyrec import gradcheck
from tinyrec.callbacks import EarlyStopping, NonFiniteLossError, TerminateOnNaN
from tinyrec.layers import Activation, Dense, Dropout
from tinyrec.models import Sequential
from tinyrec.optimizers import SGD


def blobs(n=400, d=10, seed=0):
    """A linearly separable-ish binary problem, float32."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)).astype(np.float32)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(np.float32)
    return x, y


def seed_model(input_dim=10, seed=0, **kw):
    model = Sequential(seed=seed, **kw)
    model.add(Dense(units=64, activation="relu", input_dim=input_dim))
    model.add(Dense(units=32, activation="relu"))
    model.add(Dense(units=1, activation="sigmoid"))
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


def test_seed_example_learns_and_returns_history(capsys):
    x, y = blobs()
    model = seed_model()
    history = model.fit(x, y, batch_size=32, epochs=10, verbose=0)
    assert capsys.readouterr().out == ""  # verbose=0 is silent
    assert set(history.history) == {"loss", "accuracy"}
    assert len(history.history["loss"]) == 10 and history.epoch == list(range(10))
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert history.history["accuracy"][-1] > 0.9
    assert model.predict(x).shape == (400, 1)


def test_verbose_2_prints_one_line_per_epoch(capsys):
    x, y = blobs()
    seed_model().fit(x, y, epochs=2, verbose=2)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("Epoch 1/2 - ") and "s - loss: " in lines[0] and "accuracy: " in lines[0]


def test_verbose_1_draws_a_live_bar_in_a_terminal(monkeypatch, capsys):
    import sys
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    x, y = blobs()
    h = seed_model().fit(x, y, epochs=1, verbose=1)
    out = capsys.readouterr().out
    assert "Epoch 1/1\n" in out and "\r13/13 " in out and "█" in out
    # The bar's last loss is the mean over the whole epoch, which is what the epoch's log says.
    shown = float(re.findall(r"\r13/13 [█·]+ [\d.]+s - loss: (\d+\.\d{4})", out)[-1])
    assert shown == pytest.approx(h.history["loss"][0], abs=5e-5)


def test_validation_split_and_data():
    x, y = blobs()
    model = seed_model()
    h = model.fit(x, y, epochs=2, validation_split=0.25, verbose=0)
    assert set(h.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    # The held-out part is the last 25% (Keras' convention): val_loss equals evaluate on it.
    assert np.isclose(h.history["val_loss"][-1], model.evaluate(x[300:], y[300:])[0], rtol=1e-6)
    h2 = seed_model().fit(x[:300], y[:300], epochs=1, validation_data=(x[300:], y[300:]), verbose=0)
    assert "val_accuracy" in h2.history


def test_evaluate_matches_hand_computed_loss_and_accuracy():
    x, y = blobs()
    model = seed_model()
    model.fit(x, y, epochs=2, verbose=0)
    p = model.predict(x).astype(np.float64)[:, 0]
    p = np.clip(p, 1e-7, 1 - 1e-7)
    bce = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    loss, acc = model.evaluate(x, y, batch_size=7)
    assert np.isclose(loss, bce, rtol=1e-4)
    assert np.isclose(acc, np.mean((p > 0.5) == (y > 0.5)))
    assert model.evaluate(x, y, return_dict=True).keys() == {"loss", "accuracy"}
    plain = Sequential([Dense(1, input_dim=10)])
    plain.compile(loss="mse", optimizer="sgd")
    assert isinstance(plain.evaluate(x, y), float)  # no metrics: a scalar, as in Keras


def test_same_seed_is_bit_for_bit_reproducible():
    x, y = blobs()

    def run(seed):
        model = Sequential(seed=seed)
        model.add(Dense(16, activation="relu", input_dim=10))
        model.add(Dropout(0.3))
        model.add(Dense(1, activation="sigmoid"))
        model.compile(loss="binary_crossentropy", optimizer="adam")
        h = model.fit(x, y, epochs=3, verbose=0)
        return model.get_weights(), h.history["loss"]

    (w1, l1), (w2, l2), (w3, _) = run(7), run(7), run(8)
    assert all(np.array_equal(a, b) for a, b in zip(w1, w2)) and l1 == l2
    assert not np.array_equal(w1[0], w3[0])
    gen_a, gen_b = run(np.random.default_rng(5)), run(np.random.default_rng(5))
    assert all(np.array_equal(a, b) for a, b in zip(gen_a[0], gen_b[0]))


def test_float32_default_and_float64_option():
    x, y = blobs()
    m32 = seed_model()
    assert m32.predict(x).dtype == np.float32 and m32.get_weights()[0].dtype == np.float32
    m64 = seed_model(dtype="float64")
    m64.fit(x, y, epochs=1, verbose=0)
    assert m64.predict(x).dtype == np.float64


@pytest.mark.parametrize("loss, out_act, units", [
    ("binary_crossentropy", "sigmoid", 1),       # fused: loss from logits
    ("mse", "tanh", 2),
    ("categorical_crossentropy", "softmax", 3),  # fused
    ("sparse_categorical_crossentropy", "softmax", 3),
])
@pytest.mark.parametrize("batch", [1, 5])
def test_whole_model_gradients(loss, out_act, units, batch):
    rng = np.random.default_rng(batch)
    model = Sequential([Dense(6, activation="tanh", input_dim=4), Dense(units, activation=out_act)],
                       seed=0, dtype="float64")
    model.compile(loss=loss, optimizer="sgd")
    x = rng.standard_normal((batch, 4))
    if loss == "binary_crossentropy":
        y = rng.integers(0, 2, (batch, 1)).astype(float)
    elif loss == "mse":
        y = rng.standard_normal((batch, units))
    elif loss == "categorical_crossentropy":
        y = np.eye(units)[rng.integers(0, units, batch)]
    else:
        y = rng.integers(0, units, batch)
    errors = gradcheck.check_model(model, x, y)
    assert max(errors.values()) <= gradcheck.TOLERANCE, errors


def test_separate_activation_layer_is_fused_too():
    model = Sequential([Dense(1, input_dim=3), Activation("sigmoid")], seed=0, dtype="float64")
    model.compile(loss="binary_crossentropy", optimizer="sgd")
    assert model._fused
    errors = gradcheck.check_model(model, np.ones((2, 3)), np.array([1.0, 0.0]))
    assert max(errors.values()) <= gradcheck.TOLERANCE


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_extreme_logits_give_finite_loss_and_gradients(dtype):
    model = Sequential([Dense(1, activation="sigmoid", input_dim=1)], seed=0, dtype=dtype)
    model.compile(loss="binary_crossentropy", optimizer=SGD(1e-6))
    model.set_weights([np.array([[1.0]]), np.array([0.0])])
    x = np.array([[1e4], [-1e4], [1e4], [-1e4]])
    y = np.array([1.0, 0.0, 0.0, 1.0])
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        h = model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    assert np.isclose(h.history["loss"][0], 5000.0, rtol=1e-3)  # (0 + 0 + 1e4 + 1e4)/4
    assert np.all(np.isfinite(model.get_weights()[0]))


def test_summary_table(capsys):
    seed_model(input_dim=100).summary()
    out = capsys.readouterr().out
    # 100·64+64 = 6,464; 64·32+32 = 2,080; 32·1+1 = 33; total 8,577
    for text in ("(None, 64)", "6,464", "2,080", "33", "Total params: 8,577", "dense"):
        assert text in out


def test_set_weights_and_get_weights_are_copies():
    model = seed_model()
    w = model.get_weights()
    w[0][:] = 0
    assert not np.all(model.get_weights()[0] == 0)
    model.set_weights(w)
    assert np.all(model.get_weights()[0] == 0)


def test_early_stopping_restores_best_weights():
    x, y = blobs()
    model = seed_model()
    model.compile(loss="binary_crossentropy", optimizer=SGD(learning_rate=5.0))  # erratic on purpose
    stopper = EarlyStopping(monitor="val_loss", patience=1, restore_best_weights=True)
    h = model.fit(x, y, epochs=30, validation_split=0.25, callbacks=[stopper], verbose=0)
    assert stopper.stopped_epoch > 0 and len(h.history["loss"]) < 30
    best = int(np.argmin(h.history["val_loss"]))
    assert stopper.best_epoch == best
    assert np.isclose(model.evaluate(x[300:], y[300:]), h.history["val_loss"][best], rtol=1e-5)


def test_early_stopping_verbose_reports_when_it_stopped_and_what_it_restored(capsys):
    x, y = blobs()
    model = seed_model()
    model.compile(loss="binary_crossentropy", optimizer=SGD(learning_rate=5.0))  # erratic on purpose
    stopper = EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True, verbose=1)
    h = model.fit(x, y, epochs=30, validation_split=0.25, callbacks=[stopper], verbose=0)
    epochs, best = len(h.history["loss"]), int(np.argmin(h.history["val_loss"])) + 1
    assert epochs < 30 and best < epochs
    assert capsys.readouterr().out == (
        f"Early stopping: stopped after epoch {epochs} (val_loss did not improve for 2 epochs); restored the "
        f"weights of epoch {best} (val_loss {min(h.history['val_loss']):.4f}).\n")


def test_early_stopping_verbose_when_never_triggered(capsys):
    x, y = blobs()
    stopper = EarlyStopping(monitor="loss", patience=50, verbose=1)
    seed_model().fit(x, y, epochs=3, callbacks=[stopper], verbose=0)
    assert capsys.readouterr().out == ("Early stopping: not triggered; trained all 3 epochs; "
                                       "kept the last epoch's weights.\n")
    seed_model().fit(x, y, epochs=3, callbacks=[EarlyStopping(monitor="loss", patience=0)], verbose=0)
    assert capsys.readouterr().out == ""  # verbose=0, Keras's default, stays quiet


def test_early_stopping_without_validation_names_the_problem():
    x, y = blobs()
    with pytest.raises(ValueError, match="monitor='val_loss' is not in the epoch logs"):
        seed_model().fit(x, y, epochs=2, callbacks=[EarlyStopping()], verbose=0)


def diverging_model():
    model = Sequential([Dense(1, input_dim=10)], seed=0)
    model.compile(loss="mse", optimizer=SGD(learning_rate=10.0))
    return model


def test_nan_loss_stops_with_epoch_and_batch():
    x, y = blobs()
    with pytest.raises(NonFiniteLossError, match=r"Loss became (nan|inf) at epoch 1, batch \d+"):
        diverging_model().fit(x * 100, y, epochs=3, verbose=0)


def test_terminate_on_nan_can_stop_gracefully(capsys):
    x, y = blobs()
    h = diverging_model().fit(x * 100, y, epochs=3, verbose=0, callbacks=[TerminateOnNaN(raise_error=False)])
    assert len(h.history["loss"]) == 1 and "Loss became" in capsys.readouterr().err


@pytest.mark.parametrize("call, match", [
    (lambda m, x, y: m.fit(x[:, :5], y, verbose=0), r"expected inputs with 10 features .*got shape \(400, 5\)"),
    (lambda m, x, y: m.fit(x, y[:10], verbose=0), "x has 400 rows but y has 10"),
    (lambda m, x, y: m.fit(x, np.stack([y, y], 1), verbose=0), r"output shape \(400, 1\); got y of shape \(400, 2\)"),
    (lambda m, x, y: m.fit(np.where(x > 2, np.nan, x), y, verbose=0), "x contains NaN or inf"),
    (lambda m, x, y: m.fit(np.where(x > 2, np.inf, x), y, verbose=0), "x contains NaN or inf"),
    (lambda m, x, y: m.fit(x, y * 3, verbose=0), r"targets must lie in \[0, 1\]"),
    (lambda m, x, y: m.fit(x, y, batch_size=0), "batch_size must be a positive integer"),
    (lambda m, x, y: m.fit(x, y, validation_split=1.5), r"validation_split must be in \[0, 1\)"),
    (lambda m, x, y: m.predict(x[0]), r"x must be 2-D"),
    (lambda m, x, y: m.fit(x, y, validation_data=(x, y[:3]), verbose=0), "x has 400 rows but y has 3"),
])
def test_bad_input_errors(call, match):
    x, y = blobs()
    with pytest.raises(ValueError, match=match):
        call(seed_model(), x, y)


def test_fit_before_compile():
    model = Sequential([Dense(1, input_dim=10)])
    x, y = blobs()
    with pytest.raises(RuntimeError, match=r"call compile\(optimizer=..., loss=...\) before fit"):
        model.fit(x, y)


@pytest.mark.parametrize("kwargs, match", [
    ({"loss": "hinge", "optimizer": "adam"}, "Unknown loss 'hinge'; valid names are: "),
    ({"loss": "mse", "optimizer": "adamw"}, "valid names.*adam"),
    ({"loss": "mse", "optimizer": "adam", "metrics": ["f1"]}, "valid names"),
])
def test_unknown_names_list_the_valid_ones(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Sequential([Dense(1, input_dim=2)]).compile(**kwargs)


def test_model_builds_lazily_without_input_dim():
    model = Sequential([Dense(4, activation="relu"), Dense(1)], seed=0)
    model.compile(loss="mse", optimizer="adam")
    with pytest.raises(RuntimeError, match="has no weights yet"):
        model.summary()
    x, y = blobs()
    model.fit(x, y, epochs=1, verbose=0)
    assert model.get_weights()[0].shape == (10, 4)


@pytest.mark.parametrize("optimizer", ["sgd", "adagrad", "rmsprop", "adam"])
def test_every_optimizer_trains_by_name(optimizer):
    x, y = blobs()
    model = Sequential([Dense(1, activation="sigmoid", input_dim=10)], seed=0)
    model.compile(loss="binary_crossentropy", optimizer=optimizer, metrics=["accuracy"])
    before = model.evaluate(x, y)[0]
    model.fit(x, y, epochs=5, verbose=0)
    assert model.evaluate(x, y)[0] < before


def test_epoch_rmse_and_auc_are_exact_not_batch_averages():
    x, y = blobs()
    model = Sequential([Dense(1, activation="sigmoid", input_dim=10)], seed=0)
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["rmse", "auc"])
    result = model.evaluate(x, y, batch_size=16, return_dict=True)
    p = model.predict(x)[:, 0].astype(np.float64)
    assert np.isclose(result["rmse"], np.sqrt(np.mean((p - y) ** 2)), rtol=1e-6)
    # AUC by brute force over all (positive, negative) pairs, ties counting one half
    pos, neg = p[y == 1], p[y == 0]
    pairs = (pos[:, None] > neg[None, :]).mean() + 0.5 * (pos[:, None] == neg[None, :]).mean()
    assert np.isclose(result["auc"], pairs)


# -- the training step and its bookkeeping (issues 7 and 8) -------------------------------------------
def test_fit_scores_loss_and_metrics_once_per_epoch_when_nobody_watches_batches(monkeypatch):
    # At verbose=0 with no batch callback, a step is forward → gradient → backward → update: the loss value
    # is computed once per epoch, over every row, from the kept outputs.
    x, y = blobs()
    model = seed_model()
    calls = []
    original = type(model._train_loss).forward
    monkeypatch.setattr(type(model._train_loss), "forward",
                        lambda self, yt, yp: calls.append(len(yp)) or original(self, yt, yp))
    model.fit(x, y, epochs=2, batch_size=32, verbose=0)
    assert calls == [400, 400]


def test_epoch_loss_and_metrics_equal_the_batch_weighted_means():
    # The epoch values computed in one pass must be what averaging every batch's values would give; the batch
    # logs hold each batch's own loss (computed only when read), and epoch_mean_loss() the mean so far.
    x, y = blobs()

    class Spy(TerminateOnNaN):  # a batch callback that reads the loss every batch
        def on_train_batch_end(self, batch, logs=None):
            losses.append(logs["loss"])
            means.append(logs.epoch_mean_loss())

    losses, means = [], []
    a = seed_model(seed=3)
    h_spy = a.fit(x, y, epochs=1, batch_size=64, shuffle=False, verbose=0, callbacks=[Spy()])
    b = seed_model(seed=3)
    h = b.fit(x, y, epochs=1, batch_size=64, shuffle=False, verbose=0)
    c = seed_model(seed=3)  # the same steps one by one: train_on_batch returns each batch's own loss
    own = [c.train_on_batch(*c._prepare(x[k:k + 64], y[k:k + 64], "fit")) for k in range(0, 400, 64)]
    sizes = [64] * 6 + [16]
    np.testing.assert_allclose(losses, own, rtol=1e-6)
    np.testing.assert_allclose(means, np.cumsum(np.multiply(own, sizes)) / np.cumsum(sizes), rtol=1e-6)
    assert h.history["loss"][0] == pytest.approx(np.dot(losses, sizes) / 400, rel=1e-6)
    assert h.history.keys() == h_spy.history.keys()
    for key in h.history:
        assert h.history[key] == pytest.approx(h_spy.history[key], rel=1e-6)


def test_on_train_batch_begin_is_called():
    from tinyrec.callbacks import Callback

    class Counter(Callback):
        def __init__(self):
            self.begins, self.ends = [], []

        def on_train_batch_begin(self, batch, logs=None):
            self.begins.append(batch)

    counter = Counter()
    x, y = blobs()
    seed_model().fit(x, y, epochs=1, batch_size=100, verbose=0, callbacks=[counter])
    assert counter.begins == [0, 1, 2, 3]


def test_evaluate_runs_no_backward_pass(monkeypatch):
    x, y = blobs()
    model = seed_model()
    expected = model.evaluate(x, y)

    def no_backward(*args, **kwargs):
        raise AssertionError("evaluate must not run a backward pass")

    monkeypatch.setattr(model, "backward", no_backward)
    assert model.evaluate(x, y) == expected


def test_public_hooks_agree_with_fit_and_gradcheck():
    x, y = blobs(n=20)
    model = seed_model(dtype="float64")
    value, grads = model.loss_and_gradients(x, y)
    assert value == pytest.approx(model.compute_loss(x, y)) == pytest.approx(model.evaluate(x, y)[0])
    assert set(grads) == {f"{layer.name}.{k}" for layer in model.layers for k in layer.params}
    assert max(gradcheck.check_model(model, x, y).values()) < 1e-7


@pytest.mark.parametrize("kwargs, error, match", [
    ({"epochs": True}, TypeError, "epochs must be an integer"),
    ({"batch_size": True}, TypeError, "batch_size must be a positive integer"),
    ({"batch_size": 2.0}, TypeError, "batch_size must be a positive integer"),
    ({"validation_split": "0.2"}, TypeError, "validation_split must be a real number"),
    ({"validation_split": float("nan")}, ValueError, "validation_split must be finite"),
    ({"shuffle": "False"}, TypeError, "shuffle must be True or False"),
    ({"verbose": 3}, ValueError, "verbose must be one of"),
])
def test_fit_arguments_are_checked(kwargs, error, match):
    x, y = blobs(n=40)
    with pytest.raises(error, match=match):
        seed_model().fit(x, y, **kwargs)


def test_empty_validation_data_is_a_clear_error_not_a_zero_division():
    x, y = blobs(n=40)
    with pytest.raises(ValueError, match="validation_data has 0 rows"):
        seed_model().fit(x, y, validation_data=(x[:0], y[:0]), verbose=0)


@pytest.mark.parametrize("method", ["predict", "evaluate"])
def test_batch_size_of_predict_and_evaluate_is_checked(method):
    x, y = blobs(n=40)
    model = seed_model()
    args = (x,) if method == "predict" else (x, y)
    for bad, error in ((-1, ValueError), (0, ValueError), (True, TypeError), (1.5, TypeError)):
        with pytest.raises(error, match="batch_size"):
            getattr(model, method)(*args, batch_size=bad)


def test_constructor_and_add_errors_are_clear():
    with pytest.raises(TypeError, match="Sequential: seed must be an int"):
        Sequential(seed="abc")
    with pytest.raises(ValueError, match="dtype must be a float type"):
        Sequential(dtype="int32")
    dense = Dense(4, input_dim=3)
    model = Sequential([dense])
    with pytest.raises(ValueError, match="already in this model"):
        model.add(dense)
    with pytest.raises(TypeError, match="EarlyStopping: patience must be a non-negative integer|patience must be"):
        EarlyStopping(patience="3")
    with pytest.raises(ValueError, match="mode must be one of"):
        EarlyStopping(mode="maximum")


def test_a_ragged_or_string_y_gets_a_clear_error():
    x, _ = blobs(n=4)
    with pytest.raises(ValueError, match="y must be a rectangular numeric array"):
        seed_model().fit(x, [[1], [0, 1], [1], [0]], verbose=0)
    with pytest.raises(ValueError, match="y must be numeric"):
        seed_model().fit(x, ["1", "0", "1", "0"], verbose=0)
    with pytest.raises(ValueError, match="y must be real"):
        seed_model().fit(x, np.ones(4) * 1j, verbose=0)

# --- sequences in a Sequential ---------------------------------------------------------------------
def test_embedding_ids_are_never_cast_to_float():
    """float32 holds integers exactly only up to 2**24: id 2**24 + 1 would read row 2**24."""
    from tinyrec.layers import Embedding

    big = 2**24 + 2
    zeros = lambda shape, rng, dtype: np.zeros(shape, dtype)  # noqa: E731  (lazy pages: no 64 MB of writes)
    model = Sequential([Embedding(big, 1, embeddings_initializer=zeros)], seed=0)
    model.compile(loss="mse", optimizer="sgd")
    model.build((None,))
    table = model.layers[0].params["embeddings"]
    table[2**24, 0], table[2**24 + 1, 0] = 1.0, 2.0
    assert model.predict(np.array([2**24 + 1, 2**24])).ravel().tolist() == [2.0, 1.0]
    with pytest.raises(ValueError, match=rf"Embedding 'embedding.*': ids contains id {big}, outside \[0, {big}\)"):
        model.predict(np.array([big]))
    with pytest.raises(ValueError, match="ids must be integers; got 1.5"):
        model.predict(np.array([1.5]))


def test_mask_flows_through_dropout_to_the_gru():
    from tinyrec.layers import GRU, Dropout, Embedding

    model = Sequential([Embedding(6, 3, mask_zero=True), Dropout(0.5), GRU(4), Dense(2)], seed=0)
    model.build((None, 4))
    padded, short = np.array([[0, 0, 3, 5]]), np.array([[3, 5]])
    assert np.allclose(model.predict(padded), model.predict(short), atol=1e-6)


def test_gru_as_first_layer_reads_float_sequences():
    from tinyrec.layers import GRU

    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((16, 5, 3)), rng.standard_normal((16, 1))
    model = Sequential([GRU(4, input_shape=(None, 3)), Dense(1)], seed=0)
    model.compile(loss="mse", optimizer="adam")
    assert model.built and model.predict(x).shape == (16, 1)
    assert model.predict(x[:, :2]).shape == (16, 1)  # any length
    model.fit(x, y, epochs=2, verbose=0)
    with pytest.raises(ValueError, match=r"x must be 3-D \(samples, time, features\); got shape \(16, 3\)"):
        model.predict(x[:, 0])
    with pytest.raises(ValueError, match="expected inputs with 3 features"):
        model.predict(x[:, :, :2])


def test_early_stopping_takes_its_direction_from_the_metric():
    from tinyrec import metrics
    x, y = blobs()
    stopper = EarlyStopping(monitor="val_accuracy", patience=0)
    seed_model().fit(x, y, epochs=1, validation_split=0.2, verbose=0, callbacks=[stopper])
    assert stopper.mode == "max"
    stopper = EarlyStopping(monitor="val_loss")
    seed_model().fit(x, y, epochs=1, validation_split=0.2, verbose=0, callbacks=[stopper])
    assert stopper.mode == "min"

    def hits_per_row(y_true, y_pred):  # a custom metric that declares its direction
        return float(np.mean((y_pred[:, 0] > 0.5) == (y_true[:, 0] > 0.5)))

    hits_per_row.higher_is_better = True
    model = seed_model()
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=[hits_per_row])
    stopper = EarlyStopping(monitor="val_hits_per_row")
    model.fit(x, y, epochs=1, validation_split=0.2, verbose=0, callbacks=[stopper])
    assert stopper.mode == "max" and metrics.direction(hits_per_row) == "max"
    # "accuracy_gap" contains "acc" but declares nothing: no guessing, a clear error instead
    with pytest.raises(ValueError, match="pass mode='min' or mode='max'"):
        seed_model().fit(x, y, epochs=1, verbose=0, callbacks=[EarlyStopping(monitor="accuracy_gap")])
