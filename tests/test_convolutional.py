"""Conv1D and the global pooling layers: gradients against finite differences (float64, masks, batch 1),
the im2col forward against a direct loop, padding and mask rules."""

import numpy as np
import pytest

from tinyrec.gradcheck import TOLERANCE, check_layer, check_model
from tinyrec.layers import Conv1D, Dense, Embedding, GlobalAveragePooling1D, GlobalMaxPooling1D
from tinyrec.losses import SparseCategoricalCrossentropy
from tinyrec.models import Sequential


def _mask(rng, batch, time):
    mask = rng.random((batch, time)) > 0.35
    mask[np.arange(batch), rng.integers(0, time, batch)] = True
    return mask


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("kernel_size", [1, 2, 3])
@pytest.mark.parametrize("batch, time", [(1, 3), (4, 5)])
@pytest.mark.parametrize("activation", [None, "tanh"])
@pytest.mark.parametrize("masked", [False, True])
def test_conv1d_gradients(padding, kernel_size, batch, time, activation, masked):
    rng = np.random.default_rng(kernel_size * 7 + time)
    x = rng.standard_normal((batch, time, 2))
    mask = _mask(rng, batch, time) if masked else None
    errors = check_layer(Conv1D(3, kernel_size, activation=activation, padding=padding), x, mask=mask)
    assert set(errors) == {"input", "kernel", "bias"}
    assert max(errors.values()) <= TOLERANCE, errors


@pytest.mark.parametrize("layer", [GlobalMaxPooling1D, GlobalAveragePooling1D])
@pytest.mark.parametrize("batch, time", [(1, 1), (1, 4), (3, 6)])
@pytest.mark.parametrize("masked", [False, True])
def test_pooling_gradients(layer, batch, time, masked):
    rng = np.random.default_rng(time)
    x = rng.standard_normal((batch, time, 4))
    mask = _mask(rng, batch, time) if masked else None
    assert check_layer(layer(), x, mask=mask)["input"] <= TOLERANCE


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_conv1d_forward_equals_a_direct_loop(padding):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 6, 3))
    layer = Conv1D(4, 3, padding=padding)
    layer.build((None, 6, 3), rng=rng, dtype=np.float64)
    layer.params["bias"][:] = rng.standard_normal(4)
    W, b = layer.params["kernel"], layer.params["bias"]
    xp = np.pad(x, ((0, 0), (1, 1), (0, 0))) if padding == "same" else x  # K = 3: one zero step each side
    expected = np.array([[sum(xp[n, s + k] @ W[k] for k in range(3)) + b for s in range(xp.shape[1] - 2)]
                         for n in range(2)])
    y = layer(x)
    assert y.shape == (2, 6 if padding == "same" else 4, 4)
    assert np.allclose(y, expected, atol=1e-12)


def test_same_padding_puts_the_extra_zero_on_the_right_as_keras():
    layer = Conv1D(1, 2, padding="same", use_bias=False)
    layer.build((None, 3, 1), dtype=np.float64)
    layer.set_weights([np.array([[[1.0]], [[10.0]]])])  # y_s = x_s + 10·x_{s+1}
    assert np.allclose(layer(np.array([[[1.0], [2.0], [3.0]]]))[0, :, 0], [21.0, 32.0, 3.0])


def test_masked_steps_read_as_zeros_and_get_no_gradient():
    rng = np.random.default_rng(1)
    layer = Conv1D(2, 2, padding="valid")
    x = rng.standard_normal((1, 4, 3))
    layer.build((None, 4, 3), rng=rng, dtype=np.float64)
    mask = np.array([[False, False, True, True]])
    zeroed = x.copy()
    zeroed[0, :2] = 0.0
    y = layer.forward(x, mask=mask)
    assert np.allclose(y, layer.forward(zeroed))
    layer.forward(x, mask=mask)
    dx = layer.backward(np.ones_like(y))
    assert np.array_equal(dx[0, :2], np.zeros((2, 3))) and np.abs(dx[0, 2:]).min() > 0
    # output step s covers inputs s, s+1: real iff one of them is real
    assert layer.output_mask.tolist() == [[False, True, True]]


def test_pooling_ignores_padding():
    x = np.array([[[100.0], [1.0], [3.0]]])
    mask = np.array([[False, True, True]])
    assert GlobalMaxPooling1D().forward(x, mask=mask).tolist() == [[3.0]]
    assert GlobalAveragePooling1D().forward(x, mask=mask).tolist() == [[2.0]]
    assert GlobalMaxPooling1D().forward(x).tolist() == [[100.0]]
    empty = np.array([[False, False, False]])
    for layer in (GlobalMaxPooling1D(), GlobalAveragePooling1D()):
        assert layer.forward(x, mask=empty).tolist() == [[0.0]]
        assert np.array_equal(layer.backward(np.ones((1, 1))), np.zeros((1, 3, 1)))


def test_max_pooling_sends_the_gradient_to_the_winner():
    layer = GlobalMaxPooling1D()
    layer.forward(np.array([[[1.0, 5.0], [4.0, 2.0]]]))
    assert layer.backward(np.array([[7.0, 9.0]])).tolist() == [[[0.0, 9.0], [7.0, 0.0]]]


@pytest.mark.parametrize("pooling", [GlobalMaxPooling1D, GlobalAveragePooling1D])
@pytest.mark.parametrize("batch", [1, 4])
def test_embedding_conv_pool_dense_model_gradients(pooling, batch):
    rng = np.random.default_rng(batch)
    model = Sequential([Embedding(9, 4, mask_zero=True, embeddings_initializer="glorot_uniform"),
                        Conv1D(5, 2, activation="tanh", padding="same"), pooling(), Dense(8)],
                       seed=0, dtype="float64")
    model.compile(loss=SparseCategoricalCrossentropy(from_logits=True), optimizer="adam")
    ids = rng.integers(1, 9, (batch, 5))
    ids[:, :2] = 0
    errors = check_model(model, ids, rng.integers(0, 8, batch), max_checks=40)
    assert max(errors.values()) <= TOLERANCE, errors


def test_bad_arguments_and_inputs():
    with pytest.raises(ValueError, match="padding must be one of 'valid', 'same'; got 'causal'"):
        Conv1D(2, 3, padding="causal")
    with pytest.raises(TypeError, match="Conv1D: kernel_size must be a positive integer; got 2.5"):
        Conv1D(2, 2.5)
    layer = Conv1D(2, 4, name="c")
    layer(np.zeros((1, 5, 3)))
    with pytest.raises(ValueError, match=r"sequences of length 2 are shorter than kernel_size=4"):
        layer(np.zeros((1, 2, 3)))
    with pytest.raises(ValueError, match=r"'c' \(Conv1D\) expects input of shape \(batch, time, 3\)"):
        layer(np.zeros((1, 5)))
    with pytest.raises(ValueError, match=r"expects input of shape \(batch, time, features\)"):
        GlobalMaxPooling1D()(np.zeros((2, 3)))


def test_keras_names_and_shapes():
    assert Conv1D(2, 2).name.startswith("conv1d") and GlobalMaxPooling1D().name.startswith("global_max_pooling1d")
    assert Conv1D(8, 3).compute_output_shape((None, 10, 4)) == (None, 8, 8)
    assert Conv1D(8, 3, padding="same").compute_output_shape((None, 10, 4)) == (None, 10, 8)
    layer = Conv1D(8, 3)
    layer.build((None, 10, 4))
    assert layer.params["kernel"].shape == (3, 4, 8)  # Keras' (kernel_size, in, filters)


def test_sequential_with_conv_and_pooling_saves_whole(tmp_path):
    from tinyrec.models import load_model

    model = Sequential([Embedding(9, 4, mask_zero=True), Conv1D(3, 2, activation="relu", padding="same"),
                        GlobalMaxPooling1D(), Dense(2)], seed=0)
    model.compile(loss="mse", optimizer="adam")
    model.build((None, 6))
    loaded = load_model(model.save(tmp_path / "cnn.tinyrec"))
    assert loaded.layers[1].padding == "same" and loaded.layers[1].kernel_size == 2
    ids = np.array([[0, 0, 1, 2, 3, 4]])
    assert np.array_equal(loaded.predict(ids), model.predict(ids))


@pytest.mark.parametrize("bad", [1, 0, "no", None])
def test_use_bias_must_be_a_bool(bad):
    with pytest.raises(TypeError, match="Conv1D: use_bias must be True or False"):
        Conv1D(2, 3, use_bias=bad)
