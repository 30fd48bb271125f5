"""Losses: values against hand computation, gradients against finite differences, stability at ±1e4."""

import numpy as np
import pytest

from tinyrec import losses
from tinyrec.gradcheck import TOLERANCE, check_loss

BATCHES = [1, 3, 8]


def _probs(rng, shape):
    return rng.uniform(0.05, 0.95, size=shape)


@pytest.mark.parametrize("batch", BATCHES)
def test_mse_gradient(batch):
    rng = np.random.default_rng(batch)
    assert check_loss("mse", rng.standard_normal((batch, 2)), rng.standard_normal((batch, 2))) <= TOLERANCE


@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("from_logits", [False, True])
def test_binary_crossentropy_gradient(batch, from_logits):
    rng = np.random.default_rng(batch)
    y = rng.integers(0, 2, (batch, 1)).astype(float)
    pred = rng.standard_normal((batch, 1)) * 3 if from_logits else _probs(rng, (batch, 1))
    assert check_loss(losses.BinaryCrossentropy(from_logits=from_logits), y, pred) <= TOLERANCE


@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("from_logits", [False, True])
def test_categorical_crossentropy_gradient(batch, from_logits):
    rng = np.random.default_rng(batch)
    y = np.eye(4)[rng.integers(0, 4, batch)]
    if from_logits:
        pred = rng.standard_normal((batch, 4)) * 2
    else:
        pred = _probs(rng, (batch, 4))
        pred /= pred.sum(axis=1, keepdims=True)
    assert check_loss(losses.CategoricalCrossentropy(from_logits=from_logits), y, pred) <= TOLERANCE


@pytest.mark.parametrize("batch", BATCHES)
def test_sparse_categorical_crossentropy_gradient(batch):
    rng = np.random.default_rng(batch)
    labels = rng.integers(0, 3, batch)
    assert check_loss(losses.SparseCategoricalCrossentropy(from_logits=True), labels,
                      rng.standard_normal((batch, 3))) <= TOLERANCE


def test_values_by_hand():
    y = np.array([[1.0], [0.0]])
    p = np.array([[0.8], [0.4]])
    # BCE = −(log 0.8 + log 0.6)/2
    assert np.isclose(losses.get("binary_crossentropy")(y, p), -(np.log(0.8) + np.log(0.6)) / 2)
    # MSE over all entries: ((0.8−1)² + 0.4²)/2 = (0.04 + 0.16)/2 = 0.1
    assert np.isclose(losses.get("mse")(y, p), 0.1)
    # logits z = log(p/(1−p)) must give the same BCE
    z = np.log(p / (1 - p))
    assert np.isclose(losses.BinaryCrossentropy(from_logits=True)(y, z), -(np.log(0.8) + np.log(0.6)) / 2)
    onehot = np.array([[0, 1, 0.0]])
    probs = np.array([[0.2, 0.5, 0.3]])
    assert np.isclose(losses.get("categorical_crossentropy")(onehot, probs), -np.log(0.5))
    assert np.isclose(losses.get("sparse_categorical_crossentropy")(np.array([1]), probs), -np.log(0.5))


def test_fused_gradient_is_p_minus_y_over_n():
    z = np.array([[2.0], [-1.0], [0.0]])
    y = np.array([[1.0], [1.0], [0.0]])
    loss = losses.BinaryCrossentropy(from_logits=True)
    loss.forward(y, z)
    assert np.allclose(loss.backward(), (1 / (1 + np.exp(-z)) - y) / 3)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_stable_at_extreme_logits(dtype):
    z = np.array([[1e4], [-1e4], [1e4], [-1e4]], dtype=dtype)
    y = np.array([[1.0], [0.0], [0.0], [1.0]], dtype=dtype)
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        bce = losses.BinaryCrossentropy(from_logits=True)
        value = bce.forward(y, z)
        grad = bce.backward()
        cce = losses.CategoricalCrossentropy(from_logits=True)
        zc = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 0.0]], dtype=dtype)
        value_c = cce.forward(np.eye(3, dtype=dtype)[[0, 2]], zc)
        grad_c = cce.backward()
    # right answers cost 0, confidently wrong ones cost |z| = 1e4: mean (0 + 0 + 1e4 + 1e4)/4 = 5000
    assert np.isclose(value, 5000.0)
    assert grad.dtype == dtype and np.allclose(grad, [[0], [0], [0.25], [-0.25]])
    assert np.isfinite(value_c) and np.all(np.isfinite(grad_c)) and np.isclose(value_c, 1e4 / 2)


def test_probability_input_is_clipped_not_infinite():
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        value = losses.get("binary_crossentropy")(np.array([[1.0]]), np.array([[0.0]]))
    assert np.isclose(value, -np.log(1e-7))


def test_bad_targets():
    bce = losses.get("binary_crossentropy")
    with pytest.raises(ValueError, match=r"targets must lie in \[0, 1\].*from 0.0 to 2.0"):
        bce(np.array([[0.0], [2.0]]), np.array([[0.5], [0.5]]))
    with pytest.raises(ValueError, match=r"targets must have the model's output shape \(2, 1\); got y of shape \(3,\)"):
        bce(np.zeros(3), np.full((2, 1), 0.5))
    with pytest.raises(ValueError, match="NaN or inf"):
        losses.get("mse")(np.array([[np.nan]]), np.array([[0.0]]))
    with pytest.raises(ValueError, match=r"labels must be integers in \[0, 2\]"):
        losses.get("sparse_categorical_crossentropy")(np.array([3]), np.full((1, 3), 1 / 3))
    with pytest.raises(ValueError, match="must be one-hot"):
        losses.get("categorical_crossentropy")(np.array([[2.0, 0, 0]]), np.full((1, 3), 1 / 3))


def test_unknown_loss_lists_valid_names():
    with pytest.raises(ValueError, match="valid names are: mean_squared_error, mse, binary_crossentropy"):
        losses.get("hinge")


# ------------------------------------------------------------------------------------------------
# Direct calls on raw inputs (issue 7)
# ------------------------------------------------------------------------------------------------
def test_direct_call_on_1d_arrays_does_not_broadcast():
    # (N,) targets met (N,) predictions as (N, 1) − (N,) and gave the (N, N) grid mean 4/3.
    y = np.array([1.0, 2.0, 3.0])
    assert losses.MeanSquaredError()(y, y) == 0.0
    assert losses.MeanSquaredError()(y, np.array([1.0, 2.0, 5.0])) == pytest.approx(4 / 3)
    p = np.array([0.8, 0.4])
    expected = -(np.log(0.8) + np.log(0.6)) / 2
    assert losses.BinaryCrossentropy()(np.array([1.0, 0.0]), p) == pytest.approx(expected)
    with pytest.raises(ValueError, match=r"categorical_crossentropy: y_pred must be \(N, K\)"):
        losses.CategoricalCrossentropy()(np.array([0.0, 1.0]), np.array([0.3, 0.7]))


@pytest.mark.parametrize("loss", ["mse", "binary_crossentropy"])
@pytest.mark.parametrize(
    "y_true, message",
    [
        ([[1.0, 0.0], [1.0]], "y_true must be a rectangular numeric array"),  # ragged
        (["1", "0"], "y_true must be numeric"),  # strings
        (np.array([1 + 1j, 0]), "y_true must be real; got complex"),  # the imaginary part was dropped
        (np.array([np.nan, 0.0]), "y_true contains NaN or inf"),
    ],
)
def test_direct_call_refuses_bad_targets(loss, y_true, message):
    with pytest.raises(ValueError, match=f"{losses.get(loss).name}: {message}"):
        losses.get(loss)(y_true, np.array([0.5, 0.5]))


def test_direct_call_refuses_complex_predictions():
    with pytest.raises(ValueError, match="mean_squared_error: y_pred must be real; got complex"):
        losses.MeanSquaredError()(np.array([1.0]), np.array([1 + 2j]))


def test_from_logits_must_be_a_bool():
    with pytest.raises(TypeError, match="BinaryCrossentropy: from_logits must be True or False"):
        losses.BinaryCrossentropy(from_logits="yes")


def test_unknown_loss_name_suggests_the_closest():
    with pytest.raises(ValueError, match="Unknown loss 'binary_crossentopy'; did you mean 'binary_crossentropy'"):
        losses.get("binary_crossentopy")

@pytest.mark.parametrize("batch, n_items", [(1, 2000), (2, 1000)])
def test_full_softmax_over_a_catalogue(batch, n_items):
    """Next-item models score the whole catalogue: softmax cross-entropy over thousands of classes.

    With logits spread like a trained model's (a few items far above the rest), the gradient is still
    softmax − onehot over N, entry by entry, in float64.
    """
    rng = np.random.default_rng(n_items)
    logits = rng.standard_normal((batch, n_items)) * 3.0
    labels = rng.integers(0, n_items, batch)
    loss = losses.SparseCategoricalCrossentropy(from_logits=True)
    assert check_loss(loss, labels, logits) <= TOLERANCE
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    assert np.isclose(loss(labels, logits), -np.mean(np.log(p[np.arange(batch), labels])))


# ------------------------------------------------------------------ in-batch softmax (log-Q) and BPR


def _in_batch_reference(items, s, log_q, remove_hits):
    """The definition row by row: −log of the positive's share among the kept columns, corrected logits."""
    total = 0.0
    for i in range(len(items)):
        c = s[i] - (log_q[items] if log_q is not None else 0.0)
        keep = [j for j in range(len(items)) if j == i or not remove_hits or items[j] != items[i]]
        total += -(c[i] - np.log(np.sum(np.exp(c[keep]))))
    return total / len(items)


@pytest.mark.parametrize("remove_hits", [True, False])
@pytest.mark.parametrize("with_log_q", [True, False])
def test_in_batch_softmax_value_and_gradient(remove_hits, with_log_q):
    rng = np.random.default_rng(7)
    items = np.array([3, 1, 3, 0, 2, 1])  # two accidental hits: items 3 and 1 appear twice
    s = rng.standard_normal((6, 6)) * 2
    log_q = np.log(rng.dirichlet(np.ones(5))) if with_log_q else None
    loss = losses.InBatchSoftmax(log_q=log_q, remove_accidental_hits=remove_hits)
    assert loss(items, s) == pytest.approx(_in_batch_reference(items, s, log_q, remove_hits), rel=1e-12)
    assert check_loss(loss, items, s) <= TOLERANCE
    grad = (loss.forward(items, s), loss.backward())[1]
    if remove_hits:  # a masked column is not a negative: it gets no gradient at all
        assert grad[0, 2] == 0 and grad[1, 5] == 0 and grad[2, 0] == 0
    np.testing.assert_allclose(grad.sum(axis=1), 0.0, atol=1e-15)  # softmax − one-hot sums to 0


def test_log_q_correction_is_a_column_shift():
    """Subtracting log q_j raises rare items' logits: with equal scores, the rarer column gets more mass."""
    items = np.array([0, 1])
    loss = losses.InBatchSoftmax(log_q=np.log([0.9, 0.1]))
    loss.forward(items, np.zeros((2, 2)))
    p = loss._p
    assert p[0, 1] == pytest.approx(0.9) and p[1, 0] == pytest.approx(0.1)


def test_in_batch_softmax_is_stable_and_checks_shapes():
    items = np.arange(3)
    big = np.array([[1e4, -1e4, 0.0], [0.0, 1e4, 1e4], [-1e4, 0.0, 1e4]])
    value = losses.InBatchSoftmax()(items, big)
    assert np.isfinite(value) and value == pytest.approx(np.log(2) / 3)
    with pytest.raises(ValueError, match="in_batch_softmax: logits must be \\(B, B\\)"):
        losses.InBatchSoftmax().forward(items, np.zeros((3, 4)))
    with pytest.raises(ValueError, match="has no log_q entry"):
        losses.InBatchSoftmax(log_q=np.zeros(2))(items, np.zeros((3, 3)))
    with pytest.raises(ValueError, match="non-negative integer item ids"):
        losses.InBatchSoftmax()(np.array([0.5, 1, 2]), np.zeros((3, 3)))


@pytest.mark.parametrize("batch", BATCHES)
def test_bpr_value_and_gradient(batch):
    rng = np.random.default_rng(batch)
    s = rng.standard_normal((batch, 2)) * 3
    x = s[:, 0] - s[:, 1]
    expected = np.mean(-np.log(1.0 / (1.0 + np.exp(-x))))
    assert losses.get("bpr")(np.ones(batch), s) == pytest.approx(expected, rel=1e-12)
    assert check_loss(losses.BPRLoss(), np.ones(batch), s) <= TOLERANCE


def test_bpr_only_sees_the_difference_and_is_stable():
    loss = losses.BPRLoss()
    a = loss(np.ones(2), np.array([[3.0, 1.0], [0.0, 5.0]]))
    b = loss(np.ones(2), np.array([[102.0, 100.0], [-7.0, -2.0]]))
    assert a == pytest.approx(b)
    assert loss(np.ones(1), np.array([[-1e4, 1e4]])) == pytest.approx(2e4)  # log(1 + e^{2e4}) without overflow
    with pytest.raises(ValueError, match="bpr: scores must be \\(N, 2\\)"):
        loss(np.ones(3), np.zeros((3, 1)))
