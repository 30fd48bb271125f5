"""Tests for tinyrec.interop: PyTorch as a second, independent oracle beside finite differences.

Everything here runs in float64. tinyrec's outputs and hand-derived gradients are compared with what
PyTorch's own modules and autograd compute from the same weights; both sides evaluate the same formulas, so
only rounding separates them. The bar asked for was 1e-6; they agree far better, and we hold them to
``TOL = 1e-10`` so that a slip anywhere (a missing factor, a transposed kernel) cannot hide.

Without PyTorch installed every test that needs it is skipped, saying why (``torch`` fixture); the tests
that PyTorch must *not* be needed for run either way.
"""

import subprocess
import sys

import numpy as np
import pytest

from tinyrec.gradcheck import relative_error
from tinyrec.layers import (
    GRU,
    Activation,
    Conv1D,
    Dense,
    Dropout,
    Embedding,
    GlobalAveragePooling1D,
    GlobalMaxPooling1D,
    Layer,
    SimpleRNN,
)
from tinyrec.losses import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    MeanSquaredError,
    SparseCategoricalCrossentropy,
)
from tinyrec.models import Sequential
from tinyrec.optimizers import SGD, Adagrad, Adam, RMSprop
from tinyrec.recommenders import FactorizationMachine, MatrixFactorization, NeuMF
from tinyrec.sparse import SparseGradient

TOL = 1e-10
SKIP_REASON = 'PyTorch is an optional extra: pip install -e ".[interop]" (torch==2.13.0) to run these tests'


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch", reason=SKIP_REASON)


@pytest.fixture(scope="module")
def interop(torch):
    from tinyrec import interop

    return interop


def dense(grad, shape):
    """A gradient as a dense array (an Embedding stores a SparseGradient of the touched rows)."""
    if isinstance(grad, SparseGradient):
        out = np.zeros(shape)
        np.add.at(out, grad.indices, grad.values)
        return out
    return np.asarray(grad)


def torch_layout(name, array):
    """tinyrec keeps a Dense kernel as (in, units); torch.nn.Linear's weight is (units, in)."""
    return array.T if name == "kernel" else array


def tinyrec_params(obj):
    layers = [obj] if isinstance(obj, Layer) else obj.layers
    return [(layer, name, p) for layer in layers for name, p in layer.params.items()]


def assert_same_weights(model, module, tol=TOL):
    params = tinyrec_params(model)
    theirs = list(module.parameters())
    assert len(params) == len(theirs)
    for (layer, name, p), t in zip(params, theirs):
        err = relative_error(torch_layout(name, p), t.detach().numpy())
        assert err <= tol, f"{layer.name}.{name}: {err}"


# ----------------------------------------------------------------------------------------------
# PyTorch stays optional
# ----------------------------------------------------------------------------------------------
def test_importing_tinyrec_never_imports_torch():
    code = ("import sys, tinyrec, tinyrec.models, tinyrec.recommenders, tinyrec.interop; "
            "assert 'torch' not in sys.modules, 'torch was imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_without_torch_a_clear_import_error_says_how_to_install():
    # sys.modules["torch"] = None makes ``import torch`` fail as if it were not installed.
    code = ("import sys; sys.modules['torch'] = None\n"
            "from tinyrec.interop import to_torch\n"
            "from tinyrec.layers import Dense\n"
            "try:\n    to_torch(Dense(2))\nexcept ImportError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert "needs PyTorch" in out and 'pip install -e ".[interop]"' in out and "torch==2.13.0" in out


# ----------------------------------------------------------------------------------------------
# Layers: same outputs, same gradients
# ----------------------------------------------------------------------------------------------
def built(layer, in_dim, seed=0):
    layer.build((None, in_dim), rng=np.random.default_rng(seed), dtype=np.float64)
    for p in layer.params.values():  # biases start at zero: give them values so their gradient is exercised
        p[...] = np.random.default_rng(seed + 1).standard_normal(p.shape)
    return layer


LAYERS = {
    **{f"dense_{a}": (lambda a=a: built(Dense(4, activation=a), 5))
       for a in ("linear", "relu", "sigmoid", "tanh", "leaky_relu", "softmax")},
    "dense_no_bias": lambda: built(Dense(3, use_bias=False), 5),
    **{f"activation_{a}": (lambda a=a: built(Activation(a), 5))
       for a in ("linear", "relu", "sigmoid", "tanh", "leaky_relu", "softmax")},
    "dropout_inference": lambda: built(Dropout(0.4), 5),
}


@pytest.mark.parametrize("key", list(LAYERS))
def test_layer_outputs_and_gradients_match_autograd(torch, interop, key):
    layer = LAYERS[key]()
    rng = np.random.default_rng(1)
    x = rng.standard_normal((6, 5))
    y = layer.forward(x)
    g = rng.standard_normal(y.shape)
    layer.needs_input_grad = True
    dx = layer.backward(g)

    module = interop.to_torch(layer).eval()
    xt = torch.tensor(x, requires_grad=True)
    yt = module(xt)
    (yt * torch.from_numpy(g)).sum().backward()
    assert relative_error(y, yt.detach().numpy()) <= TOL
    assert relative_error(dx, xt.grad.numpy()) <= TOL
    for (_, name, _), t in zip(tinyrec_params(layer), module.parameters()):
        assert relative_error(torch_layout(name, layer.grads[name]), t.grad.numpy()) <= TOL, name


def test_dropout_in_training_mode_matches_torch_given_the_same_mask(torch, interop):
    # Each library draws its own random mask; take torch's and make tinyrec draw exactly that one. Then the
    # forward scaling (kept units ÷ (1 − rate)) and the backward pass must agree.
    rate = 0.4
    x = np.random.default_rng(0).uniform(0.5, 1.5, size=(50, 8))  # no zeros: the mask is y / x
    module = interop.to_torch(built(Dropout(rate), 8)).train()
    xt = torch.tensor(x, requires_grad=True)
    torch.manual_seed(0)
    yt = module(xt)
    kept = yt.detach().numpy() != 0
    assert 0 < kept.mean() < 1

    class Uniform:  # stands in for the layer's Generator: u ≥ rate exactly where torch kept the unit
        def random(self, shape):
            return np.where(kept, 0.9, 0.1)

    layer = Dropout(rate)
    layer.build((None, 8), dtype=np.float64)
    layer.rng = Uniform()
    y = layer.forward(x, training=True)
    g = np.random.default_rng(1).standard_normal(x.shape)
    (yt * torch.from_numpy(g)).sum().backward()
    assert relative_error(y, yt.detach().numpy()) <= TOL
    assert relative_error(layer.backward(g), xt.grad.numpy()) <= TOL


@pytest.mark.parametrize("l2", [0.0, 0.3])
def test_embedding_outputs_gradients_and_l2_match_autograd(torch, interop, l2):
    layer = built(Embedding(7, 3, l2=l2), 1)
    ids = np.array([0, 4, 4, 6, 1, 4])  # repeats accumulate
    y = layer.forward(ids)
    g = np.random.default_rng(2).standard_normal(y.shape)
    layer.backward(g)

    module = interop.to_torch(layer)
    yt = module(torch.from_numpy(ids))
    loss = (yt * torch.from_numpy(g)).sum() + interop.l2_penalty(module)
    loss.backward()
    assert relative_error(y, yt.detach().numpy()) <= TOL
    penalty_t = float(torch.as_tensor(interop.l2_penalty(module)).detach())
    assert abs(float(layer.penalty) - penalty_t) <= TOL * max(1.0, layer.penalty)
    assert relative_error(dense(layer.grads["embeddings"], (7, 3)), module.weight.grad.numpy()) <= TOL
    # tinyrec's (batch, 1) float ids, as a Sequential hands them over, are read the same way
    np.testing.assert_array_equal(module(torch.tensor(ids[:, None], dtype=torch.float64)).detach().numpy(), y)


# ----------------------------------------------------------------------------------------------
# Losses: tinyrec's backward against autograd through torch's own loss functions
# ----------------------------------------------------------------------------------------------
def loss_cases():
    rng = np.random.default_rng(3)
    logits = rng.standard_normal((6, 4))
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    labels = rng.integers(0, 4, size=6)
    onehot = np.eye(4)[labels]
    z1 = rng.standard_normal((6, 1)) * 2
    p1 = 1 / (1 + np.exp(-z1))
    y1 = rng.integers(0, 2, size=6).astype(float)
    return {
        "mse": (MeanSquaredError(), rng.standard_normal((6, 2)), rng.standard_normal((6, 2))),
        "mse_1d_targets": (MeanSquaredError(), rng.standard_normal(6), rng.standard_normal((6, 1))),
        "bce_probabilities": (BinaryCrossentropy(), y1, p1),
        "bce_soft_targets": (BinaryCrossentropy(), rng.uniform(size=(6, 1)), p1),
        "bce_from_logits": (BinaryCrossentropy(from_logits=True), y1, z1),
        "cce_probabilities": (CategoricalCrossentropy(), onehot, probs),
        "cce_from_logits": (CategoricalCrossentropy(from_logits=True), onehot, logits),
        "sparse_cce_probabilities": (SparseCategoricalCrossentropy(), labels, probs),
        "sparse_cce_from_logits": (SparseCategoricalCrossentropy(from_logits=True), labels[:, None], logits),
    }


@pytest.mark.parametrize("key", list(loss_cases()))
def test_loss_values_and_gradients_match_autograd(torch, interop, key):
    loss, y_true, y_pred = loss_cases()[key]
    value = loss.forward(y_true, y_pred)
    grad = loss.backward()
    pt = torch.tensor(y_pred, requires_grad=True)
    vt = interop.to_torch_loss(loss)(pt, y_true)
    vt.backward()
    assert abs(value - vt.item()) <= TOL * abs(value)
    assert relative_error(grad, pt.grad.numpy()) <= TOL


def test_loss_functions_are_torchs_own(torch, interop):
    # the oracle is torch's built-in losses, not tinyrec's formulas re-typed: spot-check two against nn modules
    rng = np.random.default_rng(4)
    z, labels = torch.tensor(rng.standard_normal((5, 3))), rng.integers(0, 3, size=5)
    ours = interop.to_torch_loss("sparse_categorical_crossentropy")  # probabilities
    ref = torch.nn.CrossEntropyLoss()(z, torch.as_tensor(labels))
    assert abs(ours(torch.softmax(z, dim=1), labels).item() - ref.item()) <= TOL
    zb, yb = torch.tensor(rng.standard_normal((5, 1))), rng.integers(0, 2, size=5).astype(float)
    ref = torch.nn.BCEWithLogitsLoss()(zb, torch.tensor(yb[:, None]))
    assert abs(interop.to_torch_loss(BinaryCrossentropy(from_logits=True))(zb, yb).item() - ref.item()) <= TOL


# ----------------------------------------------------------------------------------------------
# Models: outputs and end-to-end gradients (incl. the fused sigmoid/softmax + cross-entropy path)
# ----------------------------------------------------------------------------------------------
def mlp(out_units, out_activation, loss, dropout=0.0):
    model = Sequential(seed=0, dtype="float64")
    model.add(Dense(8, activation="relu", input_dim=5))
    if dropout:
        model.add(Dropout(dropout))
    model.add(Dense(6, activation="tanh"))
    model.add(Dense(out_units, activation=out_activation))
    model.compile(optimizer="sgd", loss=loss)
    return model


def embedding_mlp():
    model = Sequential([Embedding(9, 4, l2=0.05), Dense(5, activation="leaky_relu"), Dense(1)],
                       seed=0, dtype="float64")
    model.build((None, 1))
    model.compile(optimizer="sgd", loss="mse")
    return model


def recommender_mf():
    model = MatrixFactorization(6, 8, n_factors=3, l2=0.1, l2_bias=0.02, init_std=0.5, dtype="float64", seed=1)
    model.global_mean = 3.2
    for layer in (model.user_bias, model.item_bias):  # start at zero; give them values
        layer.params["embeddings"][:] = np.random.default_rng(0).standard_normal(layer.params["embeddings"].shape)
    model.compile(optimizer="sgd", loss="mse")
    return model


def recommender_neumf():
    model = NeuMF(6, 8, n_factors=3, mlp_layers=(6, 4, 3), l2=0.01, init_std=0.5, dtype="float64", seed=1)
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    return model


def model_data(key, model):
    rng = np.random.default_rng(5)
    if isinstance(model, (MatrixFactorization, NeuMF)):
        users, items = np.array([0, 1, 1, 5, 0, 3, 0]), np.array([2, 2, 7, 0, 2, 5, 1])  # repeated ids
        y = rng.uniform(1, 5, size=7) if isinstance(model, MatrixFactorization) else rng.integers(0, 2, 7) * 1.0
        return (users, items), y
    if key == "embedding_mlp":
        return rng.integers(0, 9, size=(10, 1)).astype(float), rng.standard_normal(10)
    x = rng.standard_normal((10, 5))
    loss = model.loss.name
    if loss == "binary_crossentropy":
        return x, rng.integers(0, 2, size=10).astype(float)
    if loss == "sparse_categorical_crossentropy":
        return x, rng.integers(0, 3, size=10)
    if loss == "categorical_crossentropy":
        return x, np.eye(3)[rng.integers(0, 3, size=10)]
    return x, rng.standard_normal((10, 2))


MODELS = {
    "mlp_sigmoid_bce_fused": lambda: mlp(1, "sigmoid", "binary_crossentropy"),
    "mlp_softmax_cce_fused": lambda: mlp(3, "softmax", "categorical_crossentropy"),
    "mlp_softmax_sparse_cce_fused": lambda: mlp(3, "softmax", "sparse_categorical_crossentropy"),
    "mlp_linear_mse_with_dropout": lambda: mlp(2, None, "mse", dropout=0.3),
    "mlp_sigmoid_mse_unfused": lambda: mlp(2, "sigmoid", "mse"),
    "mlp_logits_bce_from_logits": lambda: mlp(1, None, BinaryCrossentropy(from_logits=True)),
    "embedding_mlp": embedding_mlp,
    "matrix_factorization": recommender_mf,
    "neumf": recommender_neumf,
}


def run_torch(module, x):
    import torch

    if isinstance(x, tuple):
        return module(*(torch.from_numpy(a) for a in x))
    return module(torch.from_numpy(x))


@pytest.mark.parametrize("key", list(MODELS))
def test_model_outputs_and_gradients_match_autograd(torch, interop, key):
    model = MODELS[key]()
    x, y = model_data(key, model)
    if key.startswith("mlp_sigmoid_bce") or key.startswith("mlp_softmax"):
        assert model._fused  # these go through the fused p − y path
    # tinyrec: forward (inference mode: dropout off), loss (+ L2), hand-derived backward
    y_pred = model(x)
    value, grads = model.loss_and_gradients(x, y)

    module = interop.to_torch(model).eval()
    out = run_torch(module, x)
    loss_t = interop.to_torch_loss(model.loss)(out, y) + interop.l2_penalty(module)
    loss_t.backward()
    assert relative_error(y_pred, out.detach().numpy()) <= TOL
    assert abs(value - loss_t.item()) <= TOL * abs(value)
    assert len(grads) == len(list(module.parameters()))
    for (layer, name, p), t in zip(tinyrec_params(model), module.parameters()):
        ours = torch_layout(name, dense(grads[f"{layer.name}.{name}"], p.shape))
        err = relative_error(ours, t.grad.numpy())
        assert err <= TOL, f"{layer.name}.{name}: {err}"


def test_neumf_logits_train_with_bce_with_logits_to_the_same_gradients(torch, interop):
    model = recommender_neumf()
    (users, items), y = model_data("neumf", model)
    value, grads = model.loss_and_gradients((users, items), y)
    module = interop.to_torch(model)
    z = module.logits(torch.from_numpy(users), torch.from_numpy(items))
    loss = torch.nn.BCEWithLogitsLoss()(z, torch.tensor(y[:, None])) + interop.l2_penalty(module)
    loss.backward()
    assert abs(value - loss.item()) <= TOL * value
    assert relative_error(grads["prediction.kernel"].T, module.output.weight.grad.numpy()) <= TOL
    assert relative_error(dense(grads["gmf_user.embeddings"], (6, 3)), module.gmf_user.weight.grad.numpy()) <= TOL


@pytest.mark.parametrize("key", list(MODELS))
def test_from_torch_gives_back_the_same_model(torch, interop, key):
    model = MODELS[key]()
    module = interop.to_torch(model)
    back = interop.from_torch(module)
    assert type(back) is type(model) and back.dtype == model.dtype
    assert [type(la) for la in back.layers] == [type(la) for la in model.layers]
    for a, b in zip(model.get_weights(), back.get_weights()):
        np.testing.assert_array_equal(a, b)
    x, _ = model_data(key, model)
    if isinstance(model, (MatrixFactorization, NeuMF)):
        np.testing.assert_array_equal(back.predict(*x), model.predict(*x))
    else:
        np.testing.assert_array_equal(back.predict(x), model.predict(x))


def test_from_torch_reads_a_hand_written_torch_model(torch, interop):
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 7), torch.nn.Tanh(), torch.nn.Dropout(0.1),
                              torch.nn.Linear(7, 3, bias=False), torch.nn.Softmax(dim=1)).double().eval()
    model = interop.from_torch(net)
    assert [type(la).__name__ for la in model.layers] == ["Dense", "Dropout", "Dense"]
    assert model.layers[0].activation.name == "tanh" and model.layers[2].activation.name == "softmax"
    assert not model.layers[2].use_bias and model.dtype == np.float64
    x = np.random.default_rng(0).standard_normal((5, 4))
    assert relative_error(model.predict(x), net(torch.from_numpy(x)).detach().numpy()) <= TOL
    # float32 modules give float32 models
    assert interop.from_torch(torch.nn.Linear(3, 2)).dtype == np.float32


def test_torch_modules_pickle_like_any_torch_module(torch, interop):
    import pickle

    model = recommender_neumf()
    module = interop.to_torch(model)
    again = pickle.loads(pickle.dumps(module))  # what torch.save(module, path) does
    assert type(again) is interop.NeuMFModule
    (users, items), _ = model_data("neumf", model)
    u, i = torch.from_numpy(users), torch.from_numpy(items)
    assert torch.equal(again(u, i), module(u, i))


def test_to_torch_keeps_torchs_global_random_state(torch, interop):
    torch.manual_seed(7)
    expected = torch.rand(3)
    torch.manual_seed(7)
    interop.to_torch(mlp(1, "sigmoid", "binary_crossentropy"))
    assert torch.equal(torch.rand(3), expected)


# ----------------------------------------------------------------------------------------------
# Optimizers: one step in each library, from the same weights and the same optimizer state
# ----------------------------------------------------------------------------------------------
OPTIMIZERS = {
    "sgd": lambda: SGD(0.1),
    "sgd_momentum": lambda: SGD(0.1, momentum=0.9),
    "sgd_nesterov": lambda: SGD(0.1, momentum=0.9, nesterov=True),
    "adagrad_keras_defaults": lambda: Adagrad(0.1),  # a₀ = 0.1 and ε = 1e-7 inside the sqrt: exact
    "adagrad_no_epsilon": lambda: Adagrad(0.1, initial_accumulator_value=0.5, epsilon=0.0),
    # RMSprop and Adam place ε differently (module docstring): exact only with epsilon=0
    "rmsprop": lambda: RMSprop(0.01, rho=0.8, epsilon=0.0),
    "rmsprop_momentum_centered": lambda: RMSprop(0.01, rho=0.8, momentum=0.5, centered=True, epsilon=0.0),
    "adam": lambda: Adam(0.01, beta_1=0.8, beta_2=0.9, epsilon=0.0),
    "adam_amsgrad": lambda: Adam(0.01, epsilon=0.0, amsgrad=True),
}


def tinyrec_step(model, x, y):
    model.train_on_batch(*model._prepare(x, y, "test"))  # train_on_batch takes prepared (converted) data


def torch_step(interop, model, module, opt, x, y):
    opt.zero_grad()
    loss = interop.to_torch_loss(model.loss)(run_torch(module, x), y) + interop.l2_penalty(module)
    loss.backward()
    opt.step()


def batches(model, key, n):
    rng = np.random.default_rng(11)
    x, y = model_data(key, model)
    out = []
    for _ in range(n):
        if isinstance(x, tuple):
            rows = rng.permutation(len(x[0]))[:5]
            out.append(((x[0][rows], x[1][rows]), y[rows]))
        else:
            rows = rng.permutation(len(x))[:6]
            out.append((x[rows], y[rows]))
    return out


@pytest.mark.parametrize("opt_key", list(OPTIMIZERS))
@pytest.mark.parametrize("model_key", ["mlp_sigmoid_bce_fused", "mlp_softmax_sparse_cce_fused"])
@pytest.mark.parametrize("steps_before", [0, 3])  # from a fresh state, and with state carried over
def test_one_step_gives_the_same_weights(torch, interop, opt_key, model_key, steps_before):
    model = MODELS[model_key]()
    model.compile(optimizer=OPTIMIZERS[opt_key](), loss=model.loss)
    *before, last = batches(model, model_key, steps_before + 1)
    for xb, yb in before:
        tinyrec_step(model, xb, yb)
    module = interop.to_torch(model)
    opt = interop.to_torch_optimizer(model, module)
    assert_same_weights(model, module, tol=0.0)
    w_before = model.get_weights()
    tinyrec_step(model, *last)
    torch_step(interop, model, module, opt, *last)
    assert_same_weights(model, module)
    assert all(np.abs(a - b).max() > 1e-4 for a, b in zip(model.get_weights(), w_before))  # a real step


# In a table, torch's dense RMSprop/Adam also step the rows absent from the batch: with ε = 0 that is 0/0 = NaN
# there. ε = 1e-30 makes it 0/ε = 0 (no move, as tinyrec's lazy step) and is far too small to matter elsewhere.
TABLE_OPTIMIZERS = {
    "sgd_momentum": lambda: SGD(0.1, momentum=0.9),
    "adagrad_keras_defaults": lambda: Adagrad(0.1),
    "rmsprop_momentum_centered": lambda: RMSprop(0.01, rho=0.8, momentum=0.5, centered=True, epsilon=1e-30),
    "adam": lambda: Adam(0.01, beta_1=0.8, beta_2=0.9, epsilon=1e-30),
}


@pytest.mark.parametrize("opt_key", list(TABLE_OPTIMIZERS))
@pytest.mark.parametrize("model_key", ["matrix_factorization", "neumf", "embedding_mlp"])
def test_one_step_from_fresh_state_matches_for_models_with_embeddings(torch, interop, opt_key, model_key):
    model = MODELS[model_key]()
    model.compile(optimizer=TABLE_OPTIMIZERS[opt_key](), loss=model.loss)
    module = interop.to_torch(model)
    opt = interop.to_torch_optimizer(model, module)
    (xb, yb), = batches(model, model_key, 1)
    tinyrec_step(model, xb, yb)
    torch_step(interop, model, module, opt, xb, yb)
    assert_same_weights(model, module)


def test_lazy_embedding_rows_are_where_tinyrec_and_dense_torch_adam_part(torch, interop):
    # Documented difference: tinyrec's Adam leaves rows absent from a batch untouched (lazy); torch's dense Adam
    # moves them along their first moment. Rows present in the batch still agree.
    model = recommender_mf()
    model.compile(optimizer=TABLE_OPTIMIZERS["adam"](), loss="mse")
    first, = batches(model, "matrix_factorization", 1)
    tinyrec_step(model, *first)
    module = interop.to_torch(model)
    opt = interop.to_torch_optimizer(model, module)
    users, items = np.array([2, 2]), np.array([3, 3])
    y = np.array([4.0, 4.0])
    item_rows = np.unique(first[0][1])
    tinyrec_step(model, (users, items), y)
    torch_step(interop, model, module, opt, (users, items), y)
    ours, theirs = model.item_factors.params["embeddings"], module.item_factors.weight.detach().numpy()
    assert relative_error(ours[3], theirs[3]) <= TOL  # in the batch: same step
    absent = [r for r in item_rows if r != 3]
    assert absent and np.abs(ours[absent] - theirs[absent]).min() > 1e-6  # seen before, absent now: they part


@pytest.mark.parametrize("opt", [RMSprop(0.01), Adam(0.01)], ids=["rmsprop", "adam"])
def test_with_default_epsilon_steps_agree_where_gradients_dwarf_it(torch, interop, opt):
    # ε = 1e-7 sits inside the square root in Keras' RMSprop, outside in torch's; Keras' Adam adds it after the
    # bias correction. On the first step (s = (1−ρ)g², v = (1−β₂)g²) the relative difference of the two steps
    # is about ε/(2s) = 5e-7/g² (RMSprop, ρ = 0.9) or ε/sqrt(v) ≈ 3.2e-6/|g| (Adam, β₂ = 0.999). For the
    # coordinates with |g| ≥ 0.1 that is ≤ 5e-5: they must agree to 1e-4. Over all coordinates (some with tiny
    # gradients) they must *not* agree to 1e-8 — that is what "ε placed differently" means.
    model = mlp(1, "sigmoid", "binary_crossentropy")
    model.compile(optimizer=opt, loss="binary_crossentropy")
    w0 = model.get_weights()
    module = interop.to_torch(model)
    torch_opt = interop.to_torch_optimizer(model, module)
    x, y = model_data("mlp_sigmoid_bce_fused", model)
    tinyrec_step(model, 10 * x, y)  # large inputs give large first-layer gradients
    torch_step(interop, model, module, torch_opt, 10 * x, y)
    step_ours = model.get_weights()[0] - w0[0]
    step_theirs = module[0].weight.detach().numpy().T - w0[0]
    big = np.abs(model.layers[0].grads["kernel"]) >= 0.1
    assert big.sum() >= 5
    assert relative_error(step_ours[big], step_theirs[big]) <= 1e-4
    assert np.max(np.abs(step_ours - step_theirs) / np.abs(step_theirs).max()) > 1e-8


def test_adagrad_maps_keras_defaults_into_torch_arguments(torch, interop):
    model = mlp(1, "sigmoid", "binary_crossentropy")
    model.compile(optimizer=Adagrad(0.05), loss="binary_crossentropy")
    opt = interop.to_torch_optimizer(model, interop.to_torch(model))
    group = opt.param_groups[0]
    assert isinstance(opt, torch.optim.Adagrad) and group["lr"] == 0.05 and group["eps"] == 0.0
    assert group["initial_accumulator_value"] == pytest.approx(0.1 + 1e-7, rel=1e-15)


# ----------------------------------------------------------------------------------------------
# The demo for chapter 09: train in tinyrec, carry it to PyTorch, keep training — same numbers
# ----------------------------------------------------------------------------------------------
def test_train_in_tinyrec_continue_in_torch(torch):
    from tinyrec.interop import from_torch, to_torch, to_torch_loss, to_torch_optimizer

    rng = np.random.default_rng(0)
    x = rng.standard_normal((512, 10))
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(float)

    # 1. train in tinyrec (float64, so "same numbers" means agreement to rounding, not to float32 noise)
    model = Sequential(seed=0, dtype="float64")
    model.add(Dense(16, activation="relu", input_dim=10))
    model.add(Dense(1, activation="sigmoid"))
    model.compile(optimizer=SGD(learning_rate=0.1, momentum=0.9, nesterov=True), loss="binary_crossentropy")
    model.fit(x[:256], y[:256], batch_size=32, epochs=3, shuffle=False, verbose=0)

    # 2. carry it to PyTorch: the network, the optimizer (with its velocity), the loss
    net = to_torch(model)
    opt = to_torch_optimizer(model, net)
    loss_fn = to_torch_loss(model.loss)

    # 3. keep training in PyTorch ...
    for start in range(256, 512, 32):
        xb, yb = torch.from_numpy(x[start:start + 32]), y[start:start + 32]
        opt.zero_grad()
        loss_fn(net(xb), yb).backward()
        opt.step()

    # ... and in tinyrec, on the same batches: the weights agree
    model.fit(x[256:], y[256:], batch_size=32, epochs=1, shuffle=False, verbose=0)
    for ours, theirs in zip(model.get_weights(), from_torch(net).get_weights()):
        assert relative_error(ours, theirs) <= TOL
    accuracy = ((net(torch.from_numpy(x)).detach().numpy()[:, 0] > 0.5) == y).mean()
    assert accuracy > 0.9  # and it learned something


# ----------------------------------------------------------------------------------------------
# Errors
# ----------------------------------------------------------------------------------------------
def test_clear_errors(torch, interop):
    with pytest.raises(TypeError, match="to_torch: expected a tinyrec Sequential.*FactorizationMachine"):
        interop.to_torch(FactorizationMachine(2, [3, 4]))
    with pytest.raises(ValueError, match="has no weights yet"):
        interop.to_torch(Sequential([Dense(3)]))

    class Square(Layer):
        def forward(self, x, training=False):
            return x * x

    odd = Sequential([Dense(2, input_dim=3), Square()])
    with pytest.raises(TypeError, match="no PyTorch equivalent for layer .* Square; supported: Dense"):
        interop.to_torch(odd)
    with pytest.raises(TypeError, match="no tinyrec layer for torch module Conv1d"):
        interop.from_torch(torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Conv1d(1, 1, 1)))
    with pytest.raises(ValueError, match="slope 0.3"):
        interop.from_torch(torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.LeakyReLU(0.01)))
    with pytest.raises(ValueError, match="padding_idx"):
        interop.from_torch(torch.nn.Sequential(torch.nn.Embedding(5, 2, padding_idx=0), torch.nn.Linear(2, 1)))
    with pytest.raises(TypeError, match="float32 or float64"):
        interop.from_torch(torch.nn.Linear(3, 2).half())
    model = mlp(1, "sigmoid", "binary_crossentropy")
    with pytest.raises(ValueError, match="was it made by to_torch"):
        interop.to_torch_optimizer(model, torch.nn.Linear(5, 1))
    with pytest.raises(ValueError, match="compile it or pass optimizer"):
        interop.to_torch_optimizer(Sequential([Dense(1, input_dim=2)]), torch.nn.Linear(2, 1))


# ----------------------------------------------------------------------------------------------
# Sequence layers (SimpleRNN, GRU, Conv1D, global pooling), with and without a padding mask
# ----------------------------------------------------------------------------------------------
def built_seq(layer, features, seed=0):
    layer.build((None, None, features), rng=np.random.default_rng(seed), dtype=np.float64)
    for p in layer.params.values():  # biases start at zero: give every weight values
        p[...] = np.random.default_rng(seed + 1).standard_normal(p.shape) * 0.5
    return layer


SEQ_LAYERS = {
    "gru_last": lambda: built_seq(GRU(4), 3),
    "gru_sequences": lambda: built_seq(GRU(4, return_sequences=True), 3),
    "simple_rnn_tanh": lambda: built_seq(SimpleRNN(4), 3),
    "simple_rnn_relu_sequences": lambda: built_seq(SimpleRNN(4, activation="relu", return_sequences=True), 3),
    "conv1d_valid_relu": lambda: built_seq(Conv1D(5, 3, activation="relu"), 3),
    "conv1d_same_even_kernel": lambda: built_seq(Conv1D(5, 4, padding="same", activation="tanh"), 3),
    "conv1d_no_bias": lambda: built_seq(Conv1D(2, 2, use_bias=False), 3),
    "global_max_pooling": lambda: built_seq(GlobalMaxPooling1D(), 3),
    "global_average_pooling": lambda: built_seq(GlobalAveragePooling1D(), 3),
}
# left padding (as the session models pad), a gap in the middle, a row of padding only, a full row
MASK = np.array([[0, 0, 1, 1, 1, 1], [1, 1, 0, 1, 1, 0], [0, 0, 0, 0, 0, 0], [1, 1, 1, 1, 1, 1]], dtype=bool)


@pytest.mark.parametrize("masked", [False, True], ids=["no_mask", "mask"])
@pytest.mark.parametrize("key", list(SEQ_LAYERS))
def test_sequence_layer_outputs_and_gradients_match_autograd(torch, interop, key, masked):
    layer = SEQ_LAYERS[key]()
    rng = np.random.default_rng(6)
    x = rng.standard_normal((4, 6, 3))
    mask = MASK if masked else None
    y = layer.forward(x, mask=mask)
    g = rng.standard_normal(y.shape)
    layer.needs_input_grad = True
    dx = layer.backward(g)

    module = interop.to_torch(layer)
    xt = torch.tensor(x, requires_grad=True)
    yt = module(xt, mask=None if mask is None else torch.from_numpy(mask))
    (yt * torch.from_numpy(g)).sum().backward()
    assert relative_error(y, yt.detach().numpy()) <= TOL
    assert relative_error(dx, xt.grad.numpy()) <= TOL
    ours = layer.output_mask
    theirs = module.output_mask
    assert (ours is None and theirs is None) or np.array_equal(ours, theirs.numpy())
    for _, name, _, ts, split, _ in interop._links(layer, module, "test"):
        for a, t in zip(split(layer.grads[name]), ts):
            assert relative_error(a, t.grad.numpy()) <= TOL, name


def test_gru_weights_land_in_torchs_gate_order(torch, interop):
    # tinyrec (Keras) orders the gates z, r, n along the columns; torch r, z, n along the rows
    layer = built_seq(GRU(2), 3)
    module = interop.to_torch(layer)
    W = layer.params["kernel"]
    np.testing.assert_array_equal(module.rnn.weight_ih_l0.detach().numpy()[0:2], W[:, 2:4].T)  # r
    np.testing.assert_array_equal(module.rnn.weight_ih_l0.detach().numpy()[2:4], W[:, 0:2].T)  # z
    np.testing.assert_array_equal(module.rnn.bias_hh_l0.detach().numpy()[4:6], layer.params["bias"][1, 4:6])  # n


def session_model(encoder):
    layers = [Embedding(10, 4, mask_zero=True, l2=0.01)]
    layers += {"gru": [GRU(5)],
               "rnn": [SimpleRNN(5, return_sequences=True), GlobalAveragePooling1D()],
               "cnn": [Conv1D(6, 2, activation="relu", padding="same"), GlobalMaxPooling1D()],
               "mean": [GlobalAveragePooling1D(), Dense(5, activation="relu")]}[encoder]
    model = Sequential([*layers, Dense(9)], seed=0, dtype="float64")
    model.build((None, None))
    model.compile(optimizer="sgd", loss=SparseCategoricalCrossentropy(from_logits=True))
    return model


def session_data():
    rng = np.random.default_rng(8)
    ids = rng.integers(1, 10, size=(7, 5))
    ids[:, :2] *= rng.integers(0, 2, size=(7, 2))  # some left padding (id 0)
    ids[2, :4] = 0
    return ids, rng.integers(0, 9, size=7)


@pytest.mark.parametrize("encoder", ["gru", "rnn", "cnn", "mean"])
def test_session_models_match_autograd_round_trip_and_step(torch, interop, encoder):
    model = session_model(encoder)
    ids, y = session_data()
    y_pred = model(ids)
    value, grads = model.loss_and_gradients(ids, y)

    module = interop.to_torch(model).eval()
    assert type(module).__name__ == "MaskedSequential"
    out = module(torch.from_numpy(ids))
    loss = interop.to_torch_loss(model.loss)(out, y) + interop.l2_penalty(module)
    loss.backward()
    assert relative_error(y_pred, out.detach().numpy()) <= TOL
    assert abs(value - loss.item()) <= TOL * value
    for layer, name, p, ts, split, _ in interop._links(model, module, "test"):
        for a, t in zip(split(dense(grads[f"{layer.name}.{name}"], p.shape)), ts):
            assert relative_error(a, t.grad.numpy()) <= TOL, f"{layer.name}.{name}"

    back = interop.from_torch(module)
    assert [type(la) for la in back.layers] == [type(la) for la in model.layers]
    np.testing.assert_array_equal(back.predict(ids), model.predict(ids))

    # one Adam step each, from the same state (ε tiny: see TABLE_OPTIMIZERS)
    model.compile(optimizer=TABLE_OPTIMIZERS["adam"](), loss=model.loss)
    module = interop.to_torch(model)
    opt = interop.to_torch_optimizer(model, module)
    tinyrec_step(model, ids, y)
    torch_step(interop, model, module, opt, ids, y)
    assert_same_weights_links(interop, model, module)


def assert_same_weights_links(interop, model, module):
    for layer, name, p, ts, split, _ in interop._links(model, module, "test"):
        for a, t in zip(split(p), ts):
            assert relative_error(a, t.detach().numpy()) <= TOL, f"{layer.name}.{name}"


def test_a_fitted_session_gru_carries_over(torch, interop):
    from tinyrec.recommenders.session import SessionGRU, training_pairs

    sequences = [[0, 1, 2, 3], [2, 3, 4], [1, 2, 3, 4, 5], [5, 4]]
    rec = SessionGRU(6, max_len=3, embedding_dim=3, units=4, dtype="float64")
    rec.fit(sequences, epochs=2, verbose=0)
    windows, _ = training_pairs(sequences, 3)
    assert (windows == 0).any()  # some windows are padded on the left
    net = interop.to_torch(rec.model).eval()
    assert relative_error(rec.model.predict(windows), net(torch.from_numpy(windows)).detach().numpy()) <= TOL
