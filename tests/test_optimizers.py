"""Tests for tinyrec.optimizers.

Expected values are computed here from each rule's formula (written out step by step), or as literals
worked out by hand in the comments; the optimizer's own code is never used to produce an expectation.
"""

import numpy as np
import pytest

from tinyrec.optimizers import NAMES, SGD, Adagrad, Adam, Optimizer, RMSprop, SparseGradient, get

P0 = np.array([1.0, -2.0, 0.5])
G1 = np.array([0.5, -1.0, 2.0])
G2 = np.array([1.0, 0.5, -0.5])
G3 = np.array([0.0, 0.0, 1.0])


def run(opt, p, grads):
    """Apply each gradient in turn to ``p`` (in place); return ``p`` after every step."""
    history = []
    for g in grads:
        opt.apply_gradients([(g, p)])
        history.append(p.copy())
    return history


# ----------------------------------------------------------------------------------------------
# First steps against hand computation
# ----------------------------------------------------------------------------------------------


def test_sgd_plain_by_hand():
    p = P0.copy()
    p1, p2 = run(SGD(learning_rate=0.1), p, [G1, G2])
    # p1 = p0 − 0.1·g1 = [1 − 0.05, −2 + 0.1, 0.5 − 0.2]
    np.testing.assert_allclose(p1, [0.95, -1.9, 0.3], rtol=0, atol=1e-15)
    # p2 = p1 − 0.1·g2 = [0.95 − 0.1, −1.9 − 0.05, 0.3 + 0.05]
    np.testing.assert_allclose(p2, [0.85, -1.95, 0.35], rtol=0, atol=1e-15)


def test_sgd_momentum_by_hand():
    p = P0.copy()
    opt = SGD(learning_rate=0.1, momentum=0.9)
    p1, p2, p3 = run(opt, p, [G1, G2, G3])
    # v1 = −0.1·g1 = [−0.05, 0.1, −0.2];  p1 = p0 + v1
    np.testing.assert_allclose(p1, [0.95, -1.9, 0.3], atol=1e-15)
    # v2 = 0.9·v1 − 0.1·g2 = [−0.045 − 0.1, 0.09 − 0.05, −0.18 + 0.05] = [−0.145, 0.04, −0.13]
    np.testing.assert_allclose(p2, [0.805, -1.86, 0.17], atol=1e-15)
    # v3 = 0.9·v2 − 0.1·g3 = [−0.1305, 0.036, −0.117 − 0.1] = [−0.1305, 0.036, −0.217]
    np.testing.assert_allclose(p3, [0.6745, -1.824, -0.047], atol=1e-15)
    np.testing.assert_allclose(opt.get_state(p)["velocity"], [-0.1305, 0.036, -0.217], atol=1e-15)


def test_sgd_nesterov_by_hand():
    p = P0.copy()
    p1, p2 = run(SGD(learning_rate=0.1, momentum=0.9, nesterov=True), p, [G1, G2])
    # v1 = [−0.05, 0.1, −0.2];  p1 = p0 + 0.9·v1 − 0.1·g1 = p0 + [−0.045, 0.09, −0.18] + [−0.05, 0.1, −0.2]
    np.testing.assert_allclose(p1, [0.905, -1.81, 0.12], atol=1e-15)
    # v2 = [−0.145, 0.04, −0.13];  p2 = p1 + [−0.1305, 0.036, −0.117] + [−0.1, −0.05, 0.05]
    np.testing.assert_allclose(p2, [0.6745, -1.824, 0.053], atol=1e-15)


def test_adagrad_by_hand():
    lr, a0, eps = 0.1, 0.1, 1e-7
    p = P0.copy()
    opt = Adagrad(learning_rate=lr, initial_accumulator_value=a0, epsilon=eps)
    p1, p2, p3 = run(opt, p, [G1, G2, G3])
    a1 = a0 + G1**2  # [0.35, 1.1, 4.1]
    e1 = P0 - lr * G1 / np.sqrt(a1 + eps)
    a2 = a1 + G2**2  # [1.35, 1.35, 4.35]
    e2 = e1 - lr * G2 / np.sqrt(a2 + eps)
    a3 = a2 + G3**2  # [1.35, 1.35, 5.35]; the zero-gradient coordinates do not move
    e3 = e2 - lr * G3 / np.sqrt(a3 + eps)
    np.testing.assert_allclose(p1, e1, rtol=1e-14)
    np.testing.assert_allclose(p2, e2, rtol=1e-14)
    np.testing.assert_allclose(p3, e3, rtol=1e-14)
    np.testing.assert_allclose(opt.get_state(p)["accumulator"], [1.35, 1.35, 5.35], rtol=1e-14)


def test_adagrad_epsilon_is_inside_the_square_root():
    # a = 0 + 3² = 9;  Keras 3: sqrt(a + ε) = sqrt(9 + 7) = 4, so p1 = 1 − 0.1·3/4 = 0.925.
    # (ε outside would give 3 + 7 = 10 and p1 = 0.97.)
    p = np.array([1.0])
    Adagrad(learning_rate=0.1, initial_accumulator_value=0.0, epsilon=7.0).apply_gradients([(np.array([3.0]), p)])
    np.testing.assert_allclose(p, [0.925], rtol=1e-15)


def test_rmsprop_by_hand():
    lr, rho, eps = 0.01, 0.9, 1e-7
    p = P0.copy()
    opt = RMSprop(learning_rate=lr, rho=rho, epsilon=eps)
    p1, p2 = run(opt, p, [G1, G2])
    s1 = 0.1 * G1**2
    e1 = P0 - lr * G1 / np.sqrt(s1 + eps)
    s2 = 0.9 * s1 + 0.1 * G2**2
    e2 = e1 - lr * G2 / np.sqrt(s2 + eps)
    np.testing.assert_allclose(p1, e1, rtol=1e-14)
    np.testing.assert_allclose(p2, e2, rtol=1e-14)
    # Literal check of step 1 with ε ≈ 0: lr·g/sqrt(0.1·g²) = lr·sign(g)/sqrt(0.1) = ±0.0316227766
    np.testing.assert_allclose(p1, P0 - 0.01 * np.sign(G1) / np.sqrt(0.1), atol=1e-8)


def test_rmsprop_epsilon_is_inside_the_square_root():
    # s1 = 0.1·2² = 0.4;  sqrt(0.4 + 0.6) = 1, so p1 = 1 − 0.5·2/1 = 0.
    p = np.array([1.0])
    RMSprop(learning_rate=0.5, epsilon=0.6).apply_gradients([(np.array([2.0]), p)])
    np.testing.assert_allclose(p, [0.0], atol=1e-15)


def test_rmsprop_centered_with_momentum_by_hand():
    lr, rho, mu, eps = 0.01, 0.9, 0.5, 1e-7
    p = P0.copy()
    opt = RMSprop(learning_rate=lr, rho=rho, momentum=mu, epsilon=eps, centered=True)
    p1, p2 = run(opt, p, [G1, G2])
    s1 = 0.1 * G1**2
    gbar1 = 0.1 * G1
    d1 = lr * G1 / np.sqrt(s1 - gbar1**2 + eps)  # = lr·g/sqrt(0.09·g²) ≈ lr·sign(g)/0.3
    u1 = d1
    e1 = P0 - u1
    s2 = 0.9 * s1 + 0.1 * G2**2
    gbar2 = 0.9 * gbar1 + 0.1 * G2
    d2 = lr * G2 / np.sqrt(s2 - gbar2**2 + eps)
    u2 = 0.5 * u1 + d2
    e2 = e1 - u2
    np.testing.assert_allclose(p1, e1, rtol=1e-13)
    np.testing.assert_allclose(p1, P0 - 0.01 * np.sign(G1) / 0.3, atol=1e-7)
    np.testing.assert_allclose(p2, e2, rtol=1e-13)
    state = opt.get_state(p)
    np.testing.assert_allclose(state["mean_grad"], gbar2, rtol=1e-14)
    np.testing.assert_allclose(state["momentum"], u2, rtol=1e-13)


def test_adam_by_hand():
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-7
    p = P0.copy()
    opt = Adam(learning_rate=lr)
    p1, p2, p3 = run(opt, p, [G1, G2, G3])
    m, v, e = np.zeros(3), np.zeros(3), P0.copy()
    expected = []
    for t, g in enumerate([G1, G2, G3], start=1):
        alpha = lr * np.sqrt(1 - b2**t) / (1 - b1**t)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        e = e - alpha * m / (np.sqrt(v) + eps)
        expected.append(e)
    np.testing.assert_allclose(p1, expected[0], rtol=1e-13)
    np.testing.assert_allclose(p2, expected[1], rtol=1e-13)
    np.testing.assert_allclose(p3, expected[2], rtol=1e-13)
    # Literal step 1: α1·m1/sqrt(v1) = [0.01·sqrt(0.001)/0.1]·0.1·g/(sqrt(0.001)·|g|) = 0.01·sign(g)
    np.testing.assert_allclose(p1, [0.99, -1.99, 0.49], atol=1e-7)
    np.testing.assert_allclose(opt.get_state(p)["m"], m, rtol=1e-13)
    np.testing.assert_allclose(opt.get_state(p)["v"], v, rtol=1e-13)
    assert opt.iterations == 3


def test_adam_amsgrad_by_hand():
    # β₂ = 0.5 makes v shrink at step 2 for the last two coordinates, so v̂ = max(v̂, v) matters.
    lr, b1, b2, eps = 0.01, 0.9, 0.5, 1e-7
    p = P0.copy()
    opt = Adam(learning_rate=lr, beta_2=b2, amsgrad=True)
    p1, p2 = run(opt, p, [G1, G2])
    m1 = 0.1 * G1
    v1 = 0.5 * G1**2  # [0.125, 0.5, 2.0]
    vh1 = v1
    e1 = P0 - lr * np.sqrt(1 - b2) / (1 - b1) * m1 / (np.sqrt(vh1) + eps)
    m2 = 0.9 * m1 + 0.1 * G2
    v2 = 0.5 * v1 + 0.5 * G2**2  # [0.5625, 0.375, 1.125]
    vh2 = np.array([0.5625, 0.5, 2.0])  # elementwise max(v1, v2)
    e2 = e1 - lr * np.sqrt(1 - b2**2) / (1 - b1**2) * m2 / (np.sqrt(vh2) + eps)
    np.testing.assert_allclose(p1, e1, rtol=1e-13)
    np.testing.assert_allclose(p2, e2, rtol=1e-13)
    np.testing.assert_allclose(opt.get_state(p)["v_hat"], vh2, rtol=1e-14)
    np.testing.assert_allclose(opt.get_state(p)["v"], v2, rtol=1e-14)
    # Plain Adam would have divided by sqrt(v2) instead: the two must differ.
    plain = e1 - lr * np.sqrt(1 - 0.25) / (1 - 0.81) * m2 / (np.sqrt(v2) + eps)
    assert not np.allclose(p2, plain)


# ----------------------------------------------------------------------------------------------
# Convergence on a quadratic bowl f(w) = ½ (w − w*)ᵀ A (w − w*), ∇f = A (w − w*)
# ----------------------------------------------------------------------------------------------

A = np.array([[3.0, 1.0], [1.0, 2.0]])  # symmetric positive definite, eigenvalues ≈ 1.38 and 3.62
W_STAR = np.array([1.0, -2.0])

CONVERGENCE = [
    (SGD, {"learning_rate": 0.1}, 300, 1e-8),
    (SGD, {"learning_rate": 0.05, "momentum": 0.9}, 300, 1e-5),
    (SGD, {"learning_rate": 0.05, "momentum": 0.9, "nesterov": True}, 300, 1e-5),
    (Adagrad, {"learning_rate": 0.5}, 500, 1e-8),
    # Constant-step RMSprop ends in a small oscillation of size ~lr around the minimum.
    (RMSprop, {"learning_rate": 0.01}, 500, 2e-2),
    (RMSprop, {"learning_rate": 0.01, "momentum": 0.5, "centered": True}, 500, 2e-2),
    (Adam, {"learning_rate": 0.05}, 500, 1e-6),
    (Adam, {"learning_rate": 0.05, "amsgrad": True}, 500, 1e-6),
]


@pytest.mark.parametrize("cls, kwargs, steps, tol", CONVERGENCE)
def test_converges_on_quadratic_bowl(cls, kwargs, steps, tol):
    w = np.zeros(2)
    start_error = np.abs(w - W_STAR).max()
    opt = cls(**kwargs)
    for _ in range(steps):
        opt.apply_gradients([(A @ (w - W_STAR), w)])
    assert np.abs(w - W_STAR).max() < tol < start_error


def test_sgd_solves_least_squares():
    # f(w) = ‖Xw − y‖² / (2n), ∇f = Xᵀ(Xw − y)/n; y is exactly linear in X, so w must reach w_true.
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 3))
    w_true = np.array([0.5, -1.0, 2.0])
    y = X @ w_true
    w, b = np.zeros(3), np.zeros(1)
    opt = SGD(learning_rate=0.1, momentum=0.5)
    for _ in range(300):
        r = X @ w + b - y
        opt.apply_gradients([(X.T @ r / len(y), w), (np.array([r.mean()]), b)])
    np.testing.assert_allclose(w, w_true, atol=1e-6)
    np.testing.assert_allclose(b, [0.0], atol=1e-6)


# ----------------------------------------------------------------------------------------------
# Sparse gradients: lazy updates
# ----------------------------------------------------------------------------------------------

ALL_CONFIGS = [
    (SGD, {"learning_rate": 0.1}),
    (SGD, {"learning_rate": 0.1, "momentum": 0.9}),
    (SGD, {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True}),
    (Adagrad, {"learning_rate": 0.1}),
    (RMSprop, {"learning_rate": 0.01}),
    (RMSprop, {"learning_rate": 0.01, "momentum": 0.5, "centered": True}),
    (Adam, {"learning_rate": 0.01}),
    (Adam, {"learning_rate": 0.01, "amsgrad": True}),
]


@pytest.mark.parametrize("cls, kwargs", ALL_CONFIGS)
def test_sparse_first_step_matches_dense_on_its_rows(cls, kwargs):
    rng = np.random.default_rng(1)
    table = rng.standard_normal((6, 3))
    rows = np.array([4, 1])  # unsorted on purpose
    values = rng.standard_normal((2, 3))
    dense_grad = np.zeros_like(table)
    dense_grad[rows] = values

    dense_table, sparse_table = table.copy(), table.copy()
    dense_opt, sparse_opt = cls(**kwargs), cls(**kwargs)
    dense_opt.apply_gradients([(dense_grad, dense_table)])
    sparse_opt.apply_gradients([(SparseGradient(rows, values), sparse_table)])

    np.testing.assert_allclose(sparse_table[rows], dense_table[rows], rtol=1e-14)
    assert not np.allclose(sparse_table[rows], table[rows])  # the rows did move
    others = np.setdiff1d(np.arange(6), rows)
    np.testing.assert_array_equal(sparse_table[others], table[others])  # bit-for-bit untouched
    fresh = cls(**kwargs)._create_state(table)  # what untouched state rows must still hold
    for key, array in sparse_opt.get_state(sparse_table).items():
        np.testing.assert_allclose(array[rows], dense_opt.get_state(dense_table)[key][rows], rtol=1e-14)
        np.testing.assert_array_equal(array[others], fresh[key][others])


def test_sparse_adam_is_lazy_across_steps():
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-7
    table = np.zeros((3, 2))
    opt = Adam(learning_rate=lr)
    g_a = np.array([[1.0, -2.0], [0.5, 4.0]])  # step 1: rows 0 and 2
    opt.apply_gradients([(SparseGradient(np.array([0, 2]), g_a), table)])
    g_b = np.array([[-1.0, 3.0]])  # step 2: row 2 only
    opt.apply_gradients([(SparseGradient(np.array([2]), g_b), table)])

    # Row 0 (skipped in step 2) keeps its step-1 moments and parameter.
    m0, v0 = 0.1 * g_a[0], 0.001 * g_a[0] ** 2
    p0 = -lr * np.sqrt(1 - b2) / (1 - b1) * m0 / (np.sqrt(v0) + eps)
    state = opt.get_state(table)
    np.testing.assert_allclose(state["m"][0], m0, rtol=1e-14)
    np.testing.assert_allclose(state["v"][0], v0, rtol=1e-14)
    np.testing.assert_allclose(table[0], p0, rtol=1e-13)
    # Row 2: two ordinary Adam steps, t = 1 and t = 2 (global step count).
    m1, v1 = 0.1 * g_a[1], 0.001 * g_a[1] ** 2
    p1 = -lr * np.sqrt(1 - b2) / (1 - b1) * m1 / (np.sqrt(v1) + eps)
    m2, v2 = 0.9 * m1 + 0.1 * g_b[0], 0.999 * v1 + 0.001 * g_b[0] ** 2
    p2 = p1 - lr * np.sqrt(1 - b2**2) / (1 - b1**2) * m2 / (np.sqrt(v2) + eps)
    np.testing.assert_allclose(table[2], p2, rtol=1e-13)
    np.testing.assert_allclose(state["m"][2], m2, rtol=1e-14)
    # Row 1 was never in a batch.
    np.testing.assert_array_equal(table[1], [0.0, 0.0])
    np.testing.assert_array_equal(state["m"][1], [0.0, 0.0])

    # A dense zero-gradient row would have moved on its momentum in step 2: that is what lazy avoids.
    dense_row0 = p0 - lr * np.sqrt(1 - b2**2) / (1 - b1**2) * (0.9 * m0) / (np.sqrt(0.999 * v0) + eps)
    assert np.abs(dense_row0 - table[0]).min() > 1e-3


def test_sparse_sgd_momentum_keeps_velocity_of_skipped_rows():
    table = np.ones((2, 1))
    opt = SGD(learning_rate=0.1, momentum=0.9)
    opt.apply_gradients([(SparseGradient(np.array([0, 1]), np.array([[1.0], [2.0]])), table)])
    # v = [−0.1, −0.2];  table = [0.9, 0.8]
    opt.apply_gradients([(SparseGradient(np.array([1]), np.array([[1.0]])), table)])
    # row 1: v = 0.9·(−0.2) − 0.1·1 = −0.28, table = 0.8 − 0.28 = 0.52; row 0 unchanged
    np.testing.assert_allclose(table[:, 0], [0.9, 0.52], atol=1e-15)
    np.testing.assert_allclose(opt.get_state(table)["velocity"][:, 0], [-0.1, -0.28], atol=1e-15)


def test_sparse_gradient_on_a_vector_and_with_no_rows():
    bias = np.array([1.0, 2.0, 3.0])
    opt = SGD(learning_rate=0.5)
    opt.apply_gradients([(SparseGradient(np.array([2]), np.array([4.0])), bias)])
    np.testing.assert_array_equal(bias, [1.0, 2.0, 1.0])  # 3 − 0.5·4
    opt.apply_gradients([(SparseGradient(np.array([], dtype=np.int64), np.zeros(0)), bias)])
    np.testing.assert_array_equal(bias, [1.0, 2.0, 1.0])


def test_sparse_gradient_from_rows_sums_repeats():
    values = np.array([[1.0, 2.0], [10.0, 20.0], [100.0, 200.0]])
    sg = SparseGradient.from_rows([2, 0, 2], values)
    np.testing.assert_array_equal(sg.indices, [0, 2])
    np.testing.assert_array_equal(sg.values, [[10.0, 20.0], [101.0, 202.0]])
    assert sg.indices.dtype == np.int64
    with pytest.raises(ValueError, match="one row per index"):
        SparseGradient.from_rows([0, 1], np.zeros((3, 2)))


# ----------------------------------------------------------------------------------------------
# dtype, in-place updates, state bookkeeping
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cls, kwargs", ALL_CONFIGS)
def test_float32_stays_float32(cls, kwargs):
    table = np.ones((4, 3), dtype=np.float32)
    same_object = table
    view = table[1:]  # a layer might hold a view; it must see the update
    opt = cls(**kwargs)
    opt.apply_gradients([(np.full((4, 3), 0.5, dtype=np.float32), table)])
    opt.apply_gradients([(np.full((4, 3), 0.25), table)])  # float64 gradient is cast, not upcasting param
    opt.apply_gradients([(SparseGradient(np.array([0]), np.ones((1, 3))), table)])
    assert table is same_object and table.dtype == np.float32
    assert np.all(view < 1.0)
    for array in opt.get_state(table).values():
        assert array.dtype == np.float32


def test_state_is_per_parameter_object():
    a, b = np.zeros(2), np.zeros(2)  # equal values, different objects
    opt = Adam()
    opt.apply_gradients([(np.ones(2), a), (-np.ones(2), b)])
    assert opt.get_state(a)["m"][0] == pytest.approx(0.1)
    assert opt.get_state(b)["m"][0] == pytest.approx(-0.1)
    with pytest.raises(ValueError, match="not been updated"):
        opt.get_state(np.zeros(2))


def test_iterations_counts_calls():
    opt = SGD()
    p = np.zeros(1)
    assert opt.iterations == 0
    for _ in range(3):
        opt.apply_gradients([(np.ones(1), p)])
    assert opt.iterations == 3


def test_defaults_and_config_follow_keras():
    assert SGD().get_config() == {
        "name": "sgd", "learning_rate": 0.01, "momentum": 0.0, "nesterov": False,
    }
    assert Adagrad().get_config() == {
        "name": "adagrad", "learning_rate": 0.001, "initial_accumulator_value": 0.1, "epsilon": 1e-7,
    }
    assert RMSprop().get_config() == {
        "name": "rmsprop", "learning_rate": 0.001, "rho": 0.9, "momentum": 0.0, "epsilon": 1e-7,
        "centered": False,
    }
    assert Adam().get_config() == {
        "name": "adam", "learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7,
        "amsgrad": False,
    }
    opt = Adam(learning_rate=0.02, beta_2=0.99, amsgrad=True, name="mine")
    clone = Adam.from_config(opt.get_config())
    assert clone.get_config() == opt.get_config() and clone.name == "mine"


def test_learning_rate_can_be_changed_and_is_checked():
    opt = SGD(learning_rate=0.1)
    opt.learning_rate = 0.5
    p = np.array([1.0])
    opt.apply_gradients([(np.array([1.0]), p)])
    np.testing.assert_allclose(p, [0.5])
    with pytest.raises(ValueError, match="SGD: learning_rate"):
        opt.learning_rate = -1


def test_get():
    opt = Adam()
    assert get(opt) is opt
    for name, cls in [("sgd", SGD), ("Adagrad", Adagrad), ("RMSPROP", RMSprop), ("adam", Adam)]:
        made = get(name)
        assert type(made) is cls and made.get_config() == cls().get_config()
    assert NAMES == ("sgd", "adagrad", "rmsprop", "adam")
    with pytest.raises(ValueError, match="valid names are: sgd, adagrad, rmsprop, adam"):
        get("adamw")
    with pytest.raises(TypeError, match="Optimizer instance"):
        get(3)
    assert isinstance(get("sgd"), Optimizer)


# ----------------------------------------------------------------------------------------------
# Errors
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", [SGD, Adagrad, RMSprop, Adam])
@pytest.mark.parametrize("bad", [0, -0.1, float("nan"), float("inf")])
def test_bad_learning_rate(cls, bad):
    with pytest.raises(ValueError, match=rf"{cls.__name__}: learning_rate .*got {bad!r}"):
        cls(learning_rate=bad)


@pytest.mark.parametrize("bad", ["0.1", None, True, [0.1]])
def test_learning_rate_of_wrong_type(bad):
    with pytest.raises(TypeError, match="Adam: learning_rate must be a real number"):
        Adam(learning_rate=bad)


@pytest.mark.parametrize(
    "cls, kwargs, match",
    [
        (SGD, {"momentum": 1.0}, r"SGD: momentum must be in \[0, 1\); got 1.0"),
        (SGD, {"momentum": -0.1}, r"SGD: momentum must be in \[0, 1\)"),
        (RMSprop, {"rho": 1.0}, r"RMSprop: rho must be in \[0, 1\)"),
        (RMSprop, {"momentum": 1.5}, r"RMSprop: momentum must be in \[0, 1\)"),
        (RMSprop, {"epsilon": -1e-7}, "RMSprop: epsilon must be a finite number >= 0"),
        (Adam, {"beta_1": 1.0}, r"Adam: beta_1 must be in \[0, 1\)"),
        (Adam, {"beta_2": -0.5}, r"Adam: beta_2 must be in \[0, 1\)"),
        (Adam, {"epsilon": -1.0}, "Adam: epsilon must be a finite number >= 0"),
        (Adagrad, {"epsilon": float("nan")}, "Adagrad: epsilon must be finite"),
        (Adagrad, {"initial_accumulator_value": -0.1}, "Adagrad: initial_accumulator_value must be"),
    ],
)
def test_bad_hyperparameters(cls, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cls(**kwargs)


@pytest.mark.parametrize(
    "cls, kwargs", [(SGD, {"nesterov": "yes"}), (RMSprop, {"centered": 1}), (Adam, {"amsgrad": None})]
)
def test_flags_must_be_bool(cls, kwargs):
    with pytest.raises(TypeError, match="must be True or False"):
        cls(**kwargs)


def test_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"gradient #0 has shape \(3,\) but its parameter has shape \(2,\)"):
        SGD().apply_gradients([(np.zeros(3), np.zeros(2))])
    with pytest.raises(ValueError, match=r"shape \(1, 2\)"):  # no broadcasting either
        SGD().apply_gradients([(np.zeros((1, 2)), np.zeros((3, 2)))])


@pytest.mark.parametrize(
    "indices, values, match",
    [
        (np.array([0, 5]), np.zeros((2, 2)), r"indices must lie in \[0, 5\); got \[5\]"),
        (np.array([-1, 2]), np.zeros((2, 2)), r"indices must lie in \[0, 5\); got \[-1\]"),
        (np.array([3, 1, 3]), np.zeros((3, 2)), r"indices must be unique; \[3\] repeat"),
        (np.array([[0, 1]]), np.zeros((2, 2)), "1-D integer array"),
        (np.array([0.0, 1.0]), np.zeros((2, 2)), "1-D integer array"),
        (np.array([0, 1]), np.zeros((2, 3)), r"values have shape \(2, 3\).*must have shape \(2, 2\)"),
    ],
)
def test_bad_sparse_gradient(indices, values, match):
    with pytest.raises(ValueError, match=match):
        Adam().apply_gradients([(SparseGradient(indices, values), np.zeros((5, 2)))])


def test_bad_pair_leaves_everything_untouched():
    good = np.ones(2)
    opt = Adam()
    with pytest.raises(ValueError, match="gradient #1"):
        opt.apply_gradients([(np.ones(2), good), (np.ones(4), np.ones(3))])
    np.testing.assert_array_equal(good, [1.0, 1.0])
    assert opt.iterations == 0
    with pytest.raises(ValueError, match="not been updated"):
        opt.get_state(good)


def test_bad_params_and_pairs():
    with pytest.raises(TypeError, match="floating-point NumPy array; got int64"):
        SGD().apply_gradients([(np.ones(2), np.ones(2, dtype=np.int64))])
    with pytest.raises(TypeError, match="floating-point NumPy array; got list"):
        SGD().apply_gradients([(np.ones(2), [1.0, 2.0])])
    with pytest.raises(TypeError, match=r"\(grad, param\) pair"):
        SGD().apply_gradients([(np.ones(2),)])
    p = np.ones(2)
    with pytest.raises(ValueError, match="appears twice"):
        SGD().apply_gradients([(np.ones(2), p), (np.ones(2), p)])


# --------------------------------------------------------------------- the same arrays as last step
def test_reused_gradient_arrays_give_the_same_steps_as_fresh_ones():
    """fit hands the optimizer the same (grad, param) arrays every step and the checks are skipped then;
    the arithmetic must be exactly that of a step whose pairs are new arrays (and checked)."""
    rng = np.random.default_rng(0)
    shapes = [(5, 3), (3,), (3, 1)]
    reused = [rng.standard_normal(s) for s in shapes]
    fresh = [p.copy() for p in reused]
    grads = [np.zeros(s) for s in shapes]
    a, b = Adam(learning_rate=0.01), Adam(learning_rate=0.01)
    for _ in range(5):
        for g in grads:
            g[...] = rng.standard_normal(g.shape)  # written in place, as Dense.backward does
        a.apply_gradients(list(zip(grads, reused)))
        b.apply_gradients([(g.copy(), p) for g, p in zip(grads, fresh)])
    for x, y in zip(reused, fresh):
        np.testing.assert_array_equal(x, y)
    assert a.iterations == b.iterations == 5


def test_a_changed_pair_is_checked_again():
    p, g = np.zeros((2, 3)), np.ones((2, 3))
    opt = SGD(learning_rate=0.1)
    opt.apply_gradients([(g, p)])
    opt.apply_gradients([(g, p)])  # the same arrays: fine
    with pytest.raises(ValueError, match=r"gradient #0 has shape \(3,\)"):
        opt.apply_gradients([(np.ones(3), p)])
    g.shape = (3, 2)  # the same array object, reshaped in place
    with pytest.raises(ValueError, match=r"gradient #0 has shape \(3, 2\)"):
        opt.apply_gradients([(g, p)])
    np.testing.assert_allclose(p, -0.2)  # only the two good steps moved it
