"""SimpleRNN and GRU: BPTT against finite differences (float64, several lengths, masks, batch 1), the forward
pass against an independent reference written from PyTorch's equations, mask semantics, and proof that the
checker catches a wrong BPTT."""

import numpy as np
import pytest

from tinyrec.gradcheck import TOLERANCE, check_layer, check_model
from tinyrec.layers import GRU, Dense, Embedding, SimpleRNN
from tinyrec.losses import SparseCategoricalCrossentropy
from tinyrec.models import Sequential

LAYERS = {
    "gru": lambda seq: GRU(4, return_sequences=seq),
    "rnn_tanh": lambda seq: SimpleRNN(4, return_sequences=seq),
    "rnn_relu": lambda seq: SimpleRNN(4, activation="relu", return_sequences=seq),
}


def _mask(rng, batch, time):
    """A random mask with at least one real step per row (padding before, between and after items)."""
    mask = rng.random((batch, time)) > 0.35
    mask[np.arange(batch), rng.integers(0, time, batch)] = True
    return mask


@pytest.mark.parametrize("kind", sorted(LAYERS))
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("batch, time", [(1, 1), (1, 5), (3, 2), (3, 6)])
@pytest.mark.parametrize("masked", [False, True])
def test_bptt_matches_finite_differences(kind, return_sequences, batch, time, masked):
    rng = np.random.default_rng(batch * 10 + time)
    x = rng.standard_normal((batch, time, 3))
    mask = _mask(rng, batch, time) if masked else None
    errors = check_layer(LAYERS[kind](return_sequences), x, mask=mask, seed=time)
    assert set(errors) == {"input", "kernel", "recurrent_kernel", "bias"}
    assert max(errors.values()) <= TOLERANCE, errors


def test_fully_masked_row_keeps_the_initial_state_and_gets_no_gradient():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 4, 3))
    mask = np.array([[False] * 4, [True, False, True, True]])
    layer = GRU(5)
    errors = check_layer(layer, x, mask=mask)
    assert max(errors.values()) <= TOLERANCE
    y = layer.forward(x, mask=mask)
    assert np.array_equal(y[0], np.zeros(5))  # h_0 = 0, never updated
    dx = layer.backward(np.ones_like(y))
    assert np.array_equal(dx[0], np.zeros((4, 3))) and np.array_equal(dx[1, 1], np.zeros(3))


class _RecurrentKernelZeroedInBackward:
    """Runs the layer's backward with U = 0 (U is used there only for the recurrent terms), then restores U."""

    def backward(self, dy):
        u = self.params["recurrent_kernel"]
        saved = u.copy()
        u[...] = 0.0
        try:
            return super().backward(dy)
        finally:
            u[...] = saved


class GRUWithoutRecurrentTerm(_RecurrentKernelZeroedInBackward, GRU):
    """A wrong BPTT: the gradient through the gates into h_{t−1} (dĥ·Uᵀ) is dropped, only ∂h_t/∂h_{t−1} = z
    along the direct path is kept."""


class TruncatedRNN(_RecurrentKernelZeroedInBackward, SimpleRNN):
    """A wrong BPTT: truncated to one step (no gradient flows from h_t back into h_{t−1})."""


@pytest.mark.parametrize("wrong", [GRUWithoutRecurrentTerm, TruncatedRNN])
def test_checker_catches_a_bptt_without_the_recurrent_term(wrong):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 5, 3))
    errors = check_layer(wrong(4), x)
    # Only the early steps' input gradients and U's gradient are wrong; they are wrong by a lot.
    assert errors["input"] > 1e-3 and errors["recurrent_kernel"] > 1e-3, errors
    # With one step there is no recurrence, so the same code is right: the check is about exactly that term.
    assert max(check_layer(wrong(4), x[:, :1]).values()) <= TOLERANCE


# --- forward against an independent reference ----------------------------------------------------
def _torch_style_gru(x, w_ih, w_hh, b_ih, b_hh):
    """PyTorch's nn.GRU equations, one sample and one step at a time, gate order (r, z, n)."""
    H = w_hh.shape[1]
    sig = lambda a: 1 / (1 + np.exp(-a))  # noqa: E731
    out = []
    for seq in x:
        h = np.zeros(H)
        for xt in seq:
            gi, gh = w_ih @ xt + b_ih, w_hh @ h + b_hh
            r = sig(gi[:H] + gh[:H])
            z = sig(gi[H:2 * H] + gh[H:2 * H])
            n = np.tanh(gi[2 * H:] + r * gh[2 * H:])
            h = (1 - z) * n + z * h
        out.append(h)
    return np.array(out)


def test_gru_forward_equals_pytorch_equations_with_the_documented_weight_mapping():
    rng = np.random.default_rng(2)
    F, H = 3, 4
    w_ih, w_hh = rng.standard_normal((3 * H, F)), rng.standard_normal((3 * H, H))
    b_ih, b_hh = rng.standard_normal(3 * H), rng.standard_normal(3 * H)
    x = rng.standard_normal((2, 5, F))
    layer = GRU(H)
    layer.build((None, 5, F), dtype=np.float64)
    reorder = lambda w: np.concatenate([w[H:2 * H], w[:H], w[2 * H:]])  # noqa: E731  (r, z, n) → (z, r, n)
    layer.set_weights([reorder(w_ih).T, reorder(w_hh).T, np.stack([reorder(b_ih), reorder(b_hh)])])
    assert np.allclose(layer(x), _torch_style_gru(x, w_ih, w_hh, b_ih, b_hh), atol=1e-12)


def test_gru_matches_pytorch_when_installed():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    F, H = 3, 5
    ref = torch.nn.GRU(F, H, batch_first=True).double()
    x = np.random.default_rng(3).standard_normal((2, 6, F))
    expected = ref(torch.from_numpy(x))[0].detach().numpy()
    w = {k: v.detach().numpy() for k, v in ref.named_parameters()}
    reorder = lambda a: np.concatenate([a[H:2 * H], a[:H], a[2 * H:]])  # noqa: E731
    layer = GRU(H, return_sequences=True)
    layer.build((None, 6, F), dtype=np.float64)
    layer.set_weights([reorder(w["weight_ih_l0"]).T, reorder(w["weight_hh_l0"]).T,
                       np.stack([reorder(w["bias_ih_l0"]), reorder(w["bias_hh_l0"])])])
    assert np.allclose(layer(x), expected, atol=1e-12)


def test_simple_rnn_forward_by_hand():
    layer = SimpleRNN(1)
    layer.build((None, 2, 1), dtype=np.float64)
    layer.set_weights([np.array([[2.0]]), np.array([[0.5]]), np.array([0.1])])
    # h1 = tanh(2·1 + 0.1) ; h2 = tanh(2·(−1) + 0.5·h1 + 0.1)
    h1 = np.tanh(2.1)
    assert np.allclose(layer(np.array([[[1.0], [-1.0]]])), [[np.tanh(-2.0 + 0.5 * h1 + 0.1)]])


# --- masks -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("make", [lambda: GRU(4), lambda: SimpleRNN(4)])
def test_padding_anywhere_changes_nothing(make):
    rng = np.random.default_rng(4)
    layer = make()
    x = rng.standard_normal((1, 3, 2))
    layer.build((None, 3, 2), rng=rng, dtype=np.float64)
    plain = layer(x)
    junk = rng.standard_normal((1, 2, 2)) * 10  # what sits at padded steps must not matter
    left = np.concatenate([junk, x], axis=1)
    right = np.concatenate([x, junk], axis=1)
    assert np.allclose(layer.forward(left, mask=np.array([[0, 0, 1, 1, 1]], bool)), plain, atol=1e-14)
    assert np.allclose(layer.forward(right, mask=np.array([[1, 1, 1, 0, 0]], bool)), plain, atol=1e-14)


def test_return_sequences_carries_the_state_over_masked_steps():
    rng = np.random.default_rng(5)
    layer = GRU(3, return_sequences=True)
    x = rng.standard_normal((1, 4, 2))
    layer.build((None, 4, 2), rng=rng, dtype=np.float64)
    y = layer.forward(x, mask=np.array([[True, False, False, True]]))
    assert y.shape == (1, 4, 3)
    assert np.array_equal(y[0, 1], y[0, 0]) and np.array_equal(y[0, 2], y[0, 0])
    assert not np.allclose(y[0, 3], y[0, 0])
    assert np.array_equal(layer.output_mask, [[True, False, False, True]])


# --- in a Sequential -------------------------------------------------------------------------------
@pytest.mark.parametrize("batch", [1, 5])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_embedding_gru_dense_model_gradients(batch, return_sequences):
    rng = np.random.default_rng(batch)
    layers = [Embedding(9, 4, mask_zero=True, embeddings_initializer="glorot_uniform")]
    layers += [GRU(5, return_sequences=True), GRU(3)] if return_sequences else [GRU(5)]
    model = Sequential([*layers, Dense(8)], seed=0, dtype="float64")
    model.compile(loss=SparseCategoricalCrossentropy(from_logits=True), optimizer="adam")
    ids = rng.integers(1, 9, (batch, 6))
    ids[:, : rng.integers(0, 5)] = 0  # left padding
    errors = check_model(model, ids, rng.integers(0, 8, batch), max_checks=40)
    assert max(errors.values()) <= TOLERANCE, errors


def test_bad_inputs_have_clear_errors():
    layer = GRU(3, name="rec")
    layer(np.zeros((2, 4, 5)))
    with pytest.raises(ValueError, match=r"'rec' \(GRU\) expects input of shape \(batch, time, 5\); got shape \(2, 5"):
        layer(np.zeros((2, 5)))
    with pytest.raises(ValueError, match=r"mask must have shape \(batch, time\) = \(2, 4\); got \(2, 3\)"):
        layer.forward(np.zeros((2, 4, 5)), mask=np.ones((2, 3), bool))
    with pytest.raises(ValueError, match="GRU: units must be a positive integer; got 0"):
        GRU(0)
    with pytest.raises(TypeError, match="return_sequences must be True or False"):
        SimpleRNN(3, return_sequences="yes")
    with pytest.raises(ValueError, match="Unknown activation 'tanhh'"):
        SimpleRNN(3, activation="tanhh")


def test_keras_names_and_shapes():
    assert GRU(2).name.startswith("gru") and SimpleRNN(2).name.startswith("simple_rnn")
    assert GRU(7).compute_output_shape((None, 5, 3)) == (None, 7)
    assert GRU(7, return_sequences=True).compute_output_shape((None, 5, 3)) == (None, 5, 7)
    layer = GRU(7)
    layer.build((None, 5, 3))
    assert [p.shape for p in layer.get_weights()] == [(3, 21), (7, 21), (2, 21)]  # Keras' reset_after layout


def test_calling_a_layer_with_a_mask_builds_it_first():
    x = np.random.default_rng(6).standard_normal((2, 3, 4))
    mask = np.array([[False, True, True], [True, True, True]])
    y = GRU(5)(x, mask=mask)
    assert y.shape == (2, 5)
    with pytest.raises(TypeError, match=r"Layer 'dense.*' \(Dense\) does not accept a mask"):
        Dense(2)(x[:, 0], mask=mask)


def test_sequential_with_recurrent_layers_saves_whole(tmp_path):
    from tinyrec.models import load_model

    model = Sequential([Embedding(9, 4, mask_zero=True), GRU(5, return_sequences=True), SimpleRNN(3, activation="relu"),
                        Dense(2)], seed=0)
    model.compile(loss="mse", optimizer="adam")
    model.build((None, 6))
    loaded = load_model(model.save(tmp_path / "rnn.tinyrec"))
    ids = np.array([[0, 0, 1, 2, 3, 4], [5, 6, 7, 8, 1, 2]])
    assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in model.layers]
    assert loaded.layers[1].return_sequences and loaded.layers[2].activation.name == "relu"
    assert np.array_equal(loaded.predict(ids), model.predict(ids))
