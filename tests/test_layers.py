"""Layers: every parameter and the input gradient checked against finite differences in float64."""

import numpy as np
import pytest

from tinyrec.gradcheck import TOLERANCE, check_layer
from tinyrec.layers import Activation, Dense, Dropout, Layer

BATCHES = [1, 4, 9]


@pytest.mark.parametrize("activation", [None, "sigmoid", "tanh", "relu", "leaky_relu", "softmax"])
@pytest.mark.parametrize("batch", BATCHES)
def test_dense_gradients(activation, batch):
    rng = np.random.default_rng(batch)
    layer = Dense(5, activation=activation)
    x = rng.standard_normal((batch, 7))
    errors = check_layer(layer, x)
    assert set(errors) == {"input", "kernel", "bias"}
    assert max(errors.values()) <= TOLERANCE, errors


def test_dense_without_bias_gradients():
    layer = Dense(3, use_bias=False)
    errors = check_layer(layer, np.random.default_rng(0).standard_normal((4, 2)))
    assert set(errors) == {"input", "kernel"} and max(errors.values()) <= TOLERANCE


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "softmax"])
@pytest.mark.parametrize("batch", BATCHES)
def test_activation_layer_gradients(name, batch):
    errors = check_layer(Activation(name), np.random.default_rng(2).standard_normal((batch, 6)))
    assert errors["input"] <= TOLERANCE


@pytest.mark.parametrize("batch", BATCHES)
def test_dropout_gradients_in_training_mode(batch):
    errors = check_layer(Dropout(0.4, seed=3), np.random.default_rng(3).standard_normal((batch, 8)),
                         training=True)
    assert errors["input"] <= TOLERANCE


def test_dense_forward_matches_hand_computation():
    layer = Dense(2, activation="relu")
    layer.build((None, 3), dtype=np.float64)
    layer.set_weights([np.array([[1.0, -1.0], [2.0, 0.0], [0.0, 3.0]]), np.array([0.5, -0.5])])
    y = layer(np.array([[1.0, 1.0, 1.0], [0.0, -1.0, 0.0]]))
    # row 1: z = [1+2+0+0.5, -1+0+3-0.5] = [3.5, 1.5]; row 2: z = [-2+0.5, 0-0.5] = [-1.5, -0.5] → relu 0
    assert np.array_equal(y, [[3.5, 1.5], [0.0, 0.0]])


def test_dropout_scales_kept_units_and_is_identity_at_inference():
    x = np.ones((2000, 50))
    layer = Dropout(0.25, seed=0)
    y = layer(x, training=True)
    kept = y != 0
    assert np.allclose(y[kept], 1 / 0.75)  # inverted dropout: kept units are scaled up
    assert abs(kept.mean() - 0.75) < 0.01
    assert np.array_equal(layer(x, training=False), x)


def test_first_call_builds_with_input_dtype():
    layer = Dense(4)
    assert layer(np.zeros((2, 3))).dtype == np.float64
    assert layer.params["kernel"].shape == (3, 4) and layer.count_params() == 16


def test_wrong_input_width_names_the_layer():
    layer = Dense(4, name="hidden")
    layer(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"Layer 'hidden' expects input of shape \(batch, 3\); got shape \(2, 5\)"):
        layer(np.zeros((2, 5)))


@pytest.mark.parametrize("kwargs, match", [
    ({"units": 0}, "units must be a positive integer"),
    ({"units": 2.5}, "units must be a positive integer"),
    ({"units": 3, "activation": "softplusx"}, "Unknown activation 'softplusx'"),
    ({"units": 3, "kernel_initializer": "nope"}, "Unknown initializer 'nope'"),
    ({"units": 3, "input_dim": -1}, "input_dim must be a positive integer"),
])
def test_dense_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Dense(**kwargs)


def test_dropout_bad_rate():
    with pytest.raises(ValueError, match=r"rate must be a number in \[0, 1\); got 1.5"):
        Dropout(1.5)


def test_set_weights_checks_shapes():
    layer = Dense(2, input_dim=3)
    layer.build((None, 3))
    with pytest.raises(ValueError, match=r"weight 'kernel' must have shape \(3, 2\); got \(2, 3\)"):
        layer.set_weights([np.zeros((2, 3)), np.zeros(2)])
    with pytest.raises(ValueError, match="expects 2 weight arrays"):
        layer.set_weights([np.zeros((3, 2))])


class Square(Layer):
    """A user-written layer, y = x², used to show check_layer on a custom class."""

    def forward(self, x, training=False):
        self._x = x
        return x * x

    def backward(self, dy):
        return 2 * self._x * dy


def test_user_layer_checked_in_one_call():
    assert check_layer(Square(), np.random.default_rng(0).standard_normal((3, 4)))["input"] <= TOLERANCE


# --- Embedding ------------------------------------------------------------------------------------
from tinyrec.layers import Embedding  # noqa: E402
from tinyrec.sparse import SparseGradient  # noqa: E402


@pytest.mark.parametrize("ids", [[3], [0, 2, 2, 5], [1, 1, 1], [4, 0, 3, 3, 2, 0, 1]])
@pytest.mark.parametrize("l2", [0.0, 0.1])
def test_embedding_gradients(ids, l2):
    layer = Embedding(6, 3, l2=l2, embeddings_initializer="random_normal")
    layer.build(dtype=np.float64, rng=np.random.default_rng(0))
    layer.params["embeddings"] *= 10  # larger entries so the L2 term is visible in the check
    errors = check_layer(layer, np.array(ids))
    assert set(errors) == {"embeddings"} and errors["embeddings"] <= TOLERANCE


def test_embedding_gradient_is_sparse_and_accumulates_repeats():
    layer = Embedding(10, 2)
    layer.build(dtype=np.float64)
    layer.forward(np.array([7, 2, 7]))
    layer.backward(np.array([[1.0, 2.0], [3.0, 4.0], [10.0, 20.0]]))
    g = layer.grads["embeddings"]
    assert isinstance(g, SparseGradient)
    assert g.indices.tolist() == [2, 7]  # only rows in the batch
    assert g.values.tolist() == [[3.0, 4.0], [11.0, 22.0]]  # id 7 twice: 1+10, 2+20


def test_embedding_lookup_equals_onehot_times_table():
    layer = Embedding(5, 3)
    layer.build(dtype=np.float64, rng=np.random.default_rng(1))
    ids = np.array([4, 0, 4])
    assert np.allclose(layer(ids), np.eye(5)[ids] @ layer.params["embeddings"])


@pytest.mark.parametrize("ids, match", [
    ([0, 5], r"Embedding 'items': ids contains id 5, outside \[0, 5\)"),
    ([-1, 2], r"contains id -1, outside"),
    ([0.5, 1], "ids must be integers; got 0.5"),
    ([[[0, 1], [1, 2]]], r"ids must be \(batch,\) or \(batch, time\) integers; got shape \(1, 2, 2\)"),
    ([[0, 1], [1, 9]], r"contains id 9, outside \[0, 5\)"),  # sequences are checked as well
])
def test_embedding_bad_ids(ids, match):
    with pytest.raises(ValueError, match=match):
        Embedding(5, 2, name="items")(np.array(ids))


# --- Embedding over sequences ------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(1, 1), (1, 4), (3, 5)])
@pytest.mark.parametrize("l2", [0.0, 0.1])
def test_embedding_gradients_for_2d_ids(shape, l2):
    ids = np.random.default_rng(shape[1]).integers(0, 6, shape)
    layer = Embedding(6, 3, l2=l2, mask_zero=True, embeddings_initializer="random_normal")
    layer.build(dtype=np.float64, rng=np.random.default_rng(0))
    layer.params["embeddings"] *= 10
    errors = check_layer(layer, ids)
    assert errors["embeddings"] <= TOLERANCE


def test_embedding_of_sequences_shapes_and_sparse_gradient():
    layer = Embedding(10, 2)
    layer.build(dtype=np.float64, rng=np.random.default_rng(0))
    ids = np.array([[7, 2], [7, 7]])
    y = layer(ids)
    assert y.shape == (2, 2, 2) and np.array_equal(y[1, 0], layer.params["embeddings"][7])
    layer.backward(np.arange(8.0).reshape(2, 2, 2))
    g = layer.grads["embeddings"]
    assert isinstance(g, SparseGradient) and g.indices.tolist() == [2, 7]
    assert g.values.tolist() == [[2.0, 3.0], [0 + 4 + 6, 1 + 5 + 7]]  # id 7 at three positions


def test_embedding_mask_zero():
    layer = Embedding(5, 3, mask_zero=True)
    assert layer(np.array([[0, 0, 3], [1, 0, 4]])).shape == (2, 3, 3)
    assert layer.output_mask.tolist() == [[False, False, True], [True, False, True]]
    assert layer(np.array([[2], [0]])).shape == (2, 1, 3)  # with mask_zero a column is a length-1 sequence
    assert Embedding(5, 3)(np.array([[2], [0]])).shape == (2, 3)  # without: one id per row, as before
    assert Embedding(5, 3, mask_zero=True).compute_output_shape((None, 7)) == (None, 7, 3)
    with pytest.raises(TypeError, match="mask_zero must be True or False"):
        Embedding(5, 3, mask_zero=1)


@pytest.mark.parametrize("first", ["tinyrec.recurrent", "tinyrec.convolutional", "tinyrec.layers"])
def test_sequence_layers_importable_in_any_order_without_a_cycle(first):
    import subprocess
    import sys

    code = (f"import {first}\nfrom tinyrec.layers import GRU, SimpleRNN, Conv1D, GlobalMaxPooling1D, "
            "GlobalAveragePooling1D\nimport tinyrec.recurrent, tinyrec.convolutional\n"
            "assert GRU is tinyrec.recurrent.GRU and Conv1D is tinyrec.convolutional.Conv1D")
    subprocess.run([sys.executable, "-c", code], check=True)
