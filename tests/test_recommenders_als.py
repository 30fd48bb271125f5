"""ALS for biased MF: each half-step is the exact minimiser, the loss never goes up, and the solver plugs into
MatrixFactorization (History, callbacks, early stopping, errors). Its quality with the defaults on the bundled
movies is checked in test_recommenders_mf.py (ALS is the default solver)."""

import numpy as np
import pytest

from tinyrec.callbacks import Callback
from tinyrec.recommenders import MatrixFactorization
from tinyrec.recommenders.als import als_half_step, als_objective, fit_als


def tiny_problem(seed=0, n_users=6, n_items=5, n=40, k=3):
    rng = np.random.default_rng(seed)
    users, items = rng.integers(0, n_users, n), rng.integers(0, n_items, n)  # repeats on purpose
    users[0] = n_users - 2  # make sure user n_users-1 has no ratings: it must come out as zeros
    users[users == n_users - 1] = 0
    ratings = rng.integers(1, 6, n).astype(np.float64)
    P, Q = rng.standard_normal((n_users, k)), rng.standard_normal((n_items, k))
    bu, bi = rng.standard_normal(n_users), rng.standard_normal(n_items)
    return users, items, ratings, P, Q, bu, bi


def direct_loss(users, items, ratings, mu, P, Q, bu, bi, l2, l2b, a=None):
    """The MF loss as the docstrings state it. ``a=None``: SGD's form, one penalty term per lookup; else
    the ALS form, one term per rated user and item weighted by its count to the power ``a``, in a plain loop."""
    err = mu + bu[users] + bi[items] + np.sum(P[users] * Q[items], axis=1) - ratings
    if a is None:
        reg = l2 * (np.sum(P[users] ** 2) + np.sum(Q[items] ** 2)) + l2b * (np.sum(bu[users] ** 2)
                                                                          + np.sum(bi[items] ** 2))
        return (np.sum(err**2) + reg) / len(ratings)
    reg = 0.0
    for ids, F, b in ((users, P, bu), (items, Q, bi)):
        for row in np.unique(ids):
            reg += np.sum(ids == row) ** a * (l2 * F[row] @ F[row] + l2b * b[row] ** 2)
    return (np.sum(err**2) + reg) / len(ratings)


def test_objective_is_the_per_lookup_loss():
    users, items, ratings, P, Q, bu, bi = tiny_problem(seed=5)
    loss, mse = als_objective(users, items, ratings, 3.0, P, Q, bu, bi, 0.3, 0.1)
    assert loss == pytest.approx(direct_loss(users, items, ratings, 3.0, P, Q, bu, bi, 0.3, 0.1), rel=1e-12)
    assert mse == pytest.approx(direct_loss(users, items, ratings, 3.0, P, Q, bu, bi, 0.0, 0.0), rel=1e-12)


@pytest.mark.parametrize("a", [0.0, 0.5, 1.0])
def test_objective_weights_each_row_by_its_count_to_the_power_a(a):
    users, items, ratings, P, Q, bu, bi = tiny_problem(seed=5)
    loss, _ = als_objective(users, items, ratings, 3.0, P, Q, bu, bi, 0.3, 0.1, l2_exponent=a)
    assert loss == pytest.approx(direct_loss(users, items, ratings, 3.0, P, Q, bu, bi, 0.3, 0.1, a), rel=1e-12)
    if a == 1.0:  # n_u^1 per row is the per-lookup penalty of SGD: the same loss
        assert loss == pytest.approx(direct_loss(users, items, ratings, 3.0, P, Q, bu, bi, 0.3, 0.1), rel=1e-12)


@pytest.mark.parametrize("a", [0.0, 0.5, 1.0])
def test_user_step_is_the_direct_least_squares_solution(a):
    users, items, ratings, P, Q, bu, bi = tiny_problem()
    mu, l2, l2b = ratings.mean(), 0.3, 0.1
    factors, biases = als_half_step(users, items, ratings - mu - bi[items], len(P), Q, l2, l2b, l2_exponent=a)
    # Direct route, one user at a time: stack the ratings and the penalty rows sqrt(n_u^a·λ)·I into one tall
    # least-squares problem and let lstsq solve it — a different algorithm than the normal equations.
    k = Q.shape[1]
    for u in range(len(P)):
        rows = users == u
        n_u = rows.sum()
        if n_u == 0:
            assert np.all(factors[u] == 0) and biases[u] == 0
            continue
        A = np.c_[Q[items[rows]], np.ones(n_u)]
        y = ratings[rows] - mu - bi[items[rows]]
        penalty = np.sqrt(n_u**a * np.r_[np.full(k, l2), l2b])
        x, *_ = np.linalg.lstsq(np.r_[A, np.diag(penalty)], np.r_[y, np.zeros(k + 1)], rcond=None)
        np.testing.assert_allclose(factors[u], x[:k], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(biases[u], x[k], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("a", [0.5, 1.0])
def test_half_step_is_a_minimum_of_the_loss(a):
    users, items, ratings, P, Q, bu, bi = tiny_problem(seed=1)
    mu, l2, l2b = ratings.mean(), 0.2, 0.05
    P[...], bu[...] = als_half_step(users, items, ratings - mu - bi[items], len(P), Q, l2, l2b, l2_exponent=a)
    best = direct_loss(users, items, ratings, mu, P, Q, bu, bi, l2, l2b, a)
    rng = np.random.default_rng(0)
    for _ in range(20):  # any nudge of the solved side raises the loss (the objective is strictly convex in it)
        dP, dbu = 1e-3 * rng.standard_normal(P.shape), 1e-3 * rng.standard_normal(bu.shape)
        assert direct_loss(users, items, ratings, mu, P + dP, Q, bu + dbu, bi, l2, l2b, a) > best


@pytest.mark.parametrize("a", [0.5, 1.0])
def test_objective_never_increases_across_half_steps(a):
    users, items, ratings, P, Q, bu, bi = tiny_problem(seed=2, n_users=15, n_items=12, n=120, k=4)
    mu, l2, l2b = ratings.mean(), 0.05, 0.01
    values = [direct_loss(users, items, ratings, mu, P, Q, bu, bi, l2, l2b, a)]
    for _ in range(10):
        P[...], bu[...] = als_half_step(users, items, ratings - mu - bi[items], len(P), Q, l2, l2b, l2_exponent=a)
        values.append(direct_loss(users, items, ratings, mu, P, Q, bu, bi, l2, l2b, a))
        Q[...], bi[...] = als_half_step(items, users, ratings - mu - bu[users], len(Q), P, l2, l2b, l2_exponent=a)
        values.append(direct_loss(users, items, ratings, mu, P, Q, bu, bi, l2, l2b, a))
    assert np.all(np.diff(values) <= 1e-12 * values[0]), np.diff(values)
    assert values[-1] < 0.5 * values[0]  # and it actually went down


def test_fit_als_matches_the_model_and_its_history():
    users, items, ratings, *_ = tiny_problem(seed=3, n_users=15, n_items=12, n=120)
    model = MatrixFactorization(15, 12, n_factors=3, l2=0.1, l2_bias=0.02, l2_exponent=0.5, clip=False,
                                dtype="float64", seed=0)
    q0 = model.item_factors.params["embeddings"].copy()
    model.fit(users, items, ratings, epochs=4, verbose=0)
    assert model.solver == "als" and model.history.history["loss"] == sorted(model.history.history["loss"],
                                                                             reverse=True)
    # the same sweeps by hand from the same starting Q
    P, Q, bu, bi = np.zeros((15, 3)), q0, np.zeros(15), np.zeros(12)
    fit_als(users, items, ratings, ratings.mean(), P, Q, bu, bi, 0.1, 0.02, 4, l2_exponent=0.5)
    np.testing.assert_allclose(model.predict(users, items), ratings.mean() + bu[users] + bi[items]
                               + np.sum(P[users] * Q[items], axis=1), rtol=1e-12)
    assert model.history.history["loss"][-1] == pytest.approx(
        direct_loss(users, items, ratings, ratings.mean(), P, Q, bu, bi, 0.1, 0.02, 0.5), rel=1e-12)


def test_als_early_stopping_and_callbacks():
    rng = np.random.default_rng(4)
    users, items = rng.integers(0, 30, 600), rng.integers(0, 40, 600)
    ratings = rng.integers(1, 6, 600).astype(float)  # pure noise: validation RMSE must stop improving

    class Count(Callback):
        def on_train_begin(self, logs=None):
            self.begins, self.ends = 0, 0

        def on_epoch_begin(self, epoch, logs=None):
            self.begins += 1

        def on_epoch_end(self, epoch, logs=None):
            self.ends += 1
            assert set(logs) == {"loss", "rmse", "val_loss", "val_rmse"}

    count = Count()
    model = MatrixFactorization(30, 40, n_factors=8, l2=0.01, seed=0)
    model.fit(users, items, ratings, epochs=30, early_stopping=True, patience=2, verbose=0, callbacks=[count])
    hist = model.history.history
    assert count.begins == count.ends == len(hist["loss"]) < 30
    best = int(np.argmin(hist["val_rmse"]))
    assert len(hist["loss"]) == best + 1 + 2  # stopped `patience` sweeps after the best one


def test_als_errors_name_the_argument():
    with pytest.raises(ValueError, match="solver must be one of"):
        MatrixFactorization(3, 3, solver="newton")
    with pytest.raises(ValueError, match="solver='als' needs l2 > 0"):
        MatrixFactorization(3, 3, l2=0).fit([0, 1], [1, 2], [3.0, 4.0], verbose=0)
    with pytest.raises(ValueError, match="optimizer= is for solver='sgd'"):
        MatrixFactorization(3, 3).fit([0, 1], [1, 2], [3.0, 4.0], optimizer="adam", verbose=0)
    with pytest.raises(ValueError, match="l2_exponent=0.5 is for solver='als'"):
        MatrixFactorization(3, 3, solver="sgd", l2_exponent=0.5)
    with pytest.raises(ValueError, match=r"l2_exponent must be in \[0, 1\]"):
        MatrixFactorization(3, 3, l2_exponent=1.5)
    assert MatrixFactorization(3, 3, solver="sgd").l2_exponent == 1.0  # None: the solver's own default


def test_sgd_solver_still_trains_with_early_stopping():
    rng = np.random.default_rng(5)
    users, items = rng.integers(0, 20, 400), rng.integers(0, 25, 400)
    ratings = rng.integers(1, 6, 400).astype(float)
    model = MatrixFactorization(20, 25, solver="sgd", seed=0).fit(users, items, ratings, epochs=50, verbose=0)
    assert "val_rmse" in model.history.history and len(model.history.history["loss"]) < 50
