"""Alternating least squares (ALS, 交替最小二乘): biased matrix factorisation solved in closed form.

The model is that of ``MatrixFactorization`` (``tinyrec.recommenders.mf``); the loss has one more knob, the
exponent ``a`` of the per-user (per-item) weight of the L2 penalty. With ``n_u`` the number of ratings of user
``u`` and ``n_i`` those of item ``i``::

    r̂_ui = μ + b_u + b_i + p_u · q_i
    L = 1/N [ Σ_n (r̂_n − r_n)²  +  Σ_u n_u^a (λ ||p_u||² + λ_b b_u²)  +  Σ_i n_i^a (λ ||q_i||² + λ_b b_i²) ]

``a = 1`` is exactly the per-lookup penalty of the SGD solver (``p_u`` is penalised once per rating of ``u``,
``λ/N Σ_n ||p_{u_n}||²``): the "weighted-λ regularisation" that Zhou, Wilkinson, Schreiber & Pan (2008,
"Large-scale parallel collaborative filtering for the Netflix Prize") found to keep ALS from overfitting.
``a = 0`` is plain ridge regression, one penalty per user whatever their number of ratings. In between
(ALS's default ``a = 0.5``: ``λ √n_u``) a user with many ratings is shrunk less, relative to their data, than
under ``a = 1``, and a user with a handful more than under ``a = 0``.

Gradient descent takes many small steps on all parameters at once. ALS instead notices that with the item
side (``q_i``, ``b_i``) held fixed, ``L`` is an ordinary ridge regression (岭回归) for each user, which has
a closed-form minimiser; then it swaps the roles. Each half-sweep lands on the exact minimum of ``L`` over
one side, so ``L`` can never go up (a block coordinate descent, 块坐标下降).

Derivation of the user step. Multiply ``L`` by ``N`` (same minimiser) and keep the terms with user ``u``;
``R_u`` are the ``n_u = |R_u|`` ratings of ``u``. Stack the unknowns ``x_u = [p_u, b_u]  (k+1,)`` and, for
each rated item, the known features ``z_i = [q_i, 1]  (k+1,)`` and the target ``y_ui = r_ui − μ − b_i``,
so that ``r̂_ui − r_ui = z_i · x_u − y_ui``::

    N·L_u(x_u) = Σ_{i∈R_u} (z_i·x_u − y_ui)²  +  n_u^a · x_uᵀ Λ x_u,      Λ = diag(λ, …, λ, λ_b)  (k+1, k+1)

With ``Z_u (n_u, k+1)`` the rows ``z_i`` and ``y_u (n_u,)`` the targets, the gradient is
``2 Z_uᵀ(Z_u x_u − y_u) + 2 n_u^a Λ x_u``; setting it to zero::

    (Z_uᵀ Z_u + n_u^a Λ) x_u = Z_uᵀ y_u                                                (k+1 equations)

The matrix is symmetric positive definite whenever ``λ > 0`` and ``n_u ≥ 1`` (``Z_uᵀZ_u`` is positive
semi-definite; ``n_u^a Λ`` makes the factor block definite, and the bias column of ``Z_u`` is all ones), so
the solution is unique. The item step is the mirror image: ``x_i = [q_i, b_i]``, ``z_u = [p_u, 1]``,
``y_ui = r_ui − μ − b_u``. A user with no ratings gets ``x_u = 0`` (nothing in ``L`` involves them).

Cost of one sweep: building the ``Z_uᵀZ_u`` is ``O(N (k+1)²)`` and the solves ``O((n_users + n_items)
(k+1)³)``; no learning rate, no batches.
"""

from __future__ import annotations

import numpy as np

__all__ = ["als_half_step", "als_objective", "fit_als"]


#: Own ids solved per batch of ``np.linalg.solve``: bounds the ``(chunk, k+1, k+1)`` systems held at once.
SOLVE_CHUNK = 1024
#: Ratings per step when the loss is computed: bounds the ``(chunk, k)`` gathered rows.
OBJECTIVE_CHUNK = 65536


def als_half_step(own_ids, other_ids, targets, n_own, other_factors, l2, l2_bias, order=None, l2_exponent=1.0):
    """Solve one side of biased MF exactly, the other side held fixed (module docstring).

    Args:
        own_ids: ``(N,)`` int, the id on the side being solved (users for the user step).
        other_ids: ``(N,)`` int, the id on the fixed side.
        targets: ``(N,)`` float, ``y = r − μ − b_other[other_ids]``.
        n_own: number of rows to solve for (``n_users`` for the user step).
        other_factors: ``(n_other, k)``, the fixed factors (``Q`` for the user step).
        l2, l2_bias: ``λ > 0`` and ``λ_b ≥ 0``, per-lookup L2 strengths as in ``MatrixFactorization``.
        order: optional ``np.argsort(own_ids, kind="stable")``, to reuse it across sweeps.
        l2_exponent: ``a`` in ``n_u^a``, the weight of each row's penalty (``1``: per lookup, as for SGD).

    Returns:
        ``factors (n_own, k)`` and ``biases (n_own,)`` in ``other_factors.dtype``: for each own row ``u``
        the solution of ``(Z_uᵀZ_u + n_u^a Λ) [p_u, b_u] = Z_uᵀ y_u``.

    How: the fixed side is augmented once, ``Z = [other_factors, 1]`` (``(n_other, k+1)``, small); for each
    own id its rows ``Z_u`` are gathered (``np.take``) and two BLAS calls give ``Z_uᵀZ_u`` and ``Z_uᵀy_u`` (a
    Python loop over ids), then ``np.linalg.solve`` handles ``SOLVE_CHUNK`` ids at a time. Memory:
    ``O(N)`` for the sorted ids and targets plus ``O(SOLVE_CHUNK·k²)``, whatever the number of ratings.
    """
    if order is None:
        order = np.argsort(own_ids, kind="stable")  # group each own id's ratings into one contiguous block
    k = other_factors.shape[1]
    dtype = other_factors.dtype  # float32 products for a float32 model, float64 for exact checks
    z_table = np.empty((len(other_factors), k + 1), dtype=dtype)
    z_table[:, :k] = other_factors  # z_i = [q_i, 1]
    z_table[:, k] = 1.0
    other_sorted = other_ids[order]
    y = np.asarray(targets, dtype=dtype)[order]
    counts = np.bincount(own_ids, minlength=n_own)
    bounds = np.concatenate(([0], np.cumsum(counts))).tolist()  # Python ints: cheap slicing in the loop
    penalty = np.full(k + 1, float(l2))
    penalty[k] = l2_bias
    x = np.zeros((n_own, k + 1), dtype=dtype)  # ids without ratings keep x_u = 0
    rated = np.flatnonzero(counts)
    for start in range(0, len(rated), SOLVE_CHUNK):
        ids = rated[start:start + SOLVE_CHUNK]
        system = np.empty((len(ids), k + 1, k + 1), dtype=dtype)
        rhs = np.empty((len(ids), k + 1), dtype=dtype)
        for row, u in enumerate(ids.tolist()):
            lo, hi = bounds[u], bounds[u + 1]
            z = np.take(z_table, other_sorted[lo:hi], axis=0)  # Z_u, (n_u, k+1)
            np.matmul(z.T, z, out=system[row])  # Z_uᵀ Z_u
            np.matmul(y[lo:hi], z, out=rhs[row])  # Z_uᵀ y_u
        weight = counts[ids].astype(np.float64) ** l2_exponent  # n_u^a
        system += weight.astype(dtype)[:, None, None] * np.diag(penalty).astype(dtype)  # + n_u^a Λ
        x[ids] = np.linalg.solve(system, rhs[:, :, None])[:, :, 0]  # all the ridge systems of the chunk
    return x[:, :k], x[:, k]


def als_objective(users, items, ratings, mu, P, Q, bu, bi, l2, l2_bias, l2_exponent=1.0):
    """The loss ``L`` of the module docstring and the plain mean squared error: ``(L, mse)``, floats.

    The penalty is summed per row, weighted by ``n_u^a`` (for ``a = 1`` the same number as one term per
    rating, without gathering ``P[users]`` twice). The prediction error is
    computed ``OBJECTIVE_CHUNK`` ratings at a time, so memory stays ``O(N)`` rather than ``O(N·k)``.
    """
    err = mu + bu[users] + bi[items] - ratings  # r̂ − r without the dot product yet, (N,)
    for start in range(0, len(err), OBJECTIVE_CHUNK):  # P[users] for all N ratings at once would be N·k floats
        rows = slice(start, start + OBJECTIVE_CHUNK)
        err[rows] += np.einsum("nk,nk->n", np.take(P, users[rows], axis=0), np.take(Q, items[rows], axis=0))
    n_u, n_i = np.bincount(users, minlength=len(P)), np.bincount(items, minlength=len(Q))
    n_u = np.where(n_u > 0, n_u.astype(np.float64) ** l2_exponent, 0.0)  # n_u^a; a row never rated is not in L
    n_i = np.where(n_i > 0, n_i.astype(np.float64) ** l2_exponent, 0.0)
    penalty = (l2 * (n_u @ np.einsum("uk,uk->u", P, P) + n_i @ np.einsum("ik,ik->i", Q, Q))
               + l2_bias * (n_u @ (bu * bu) + n_i @ (bi * bi)))
    mse = float(np.mean(err.astype(np.float64) ** 2))
    return mse + float(penalty) / len(ratings), mse


def fit_als(users, items, ratings, mu, P, Q, bu, bi, l2, l2_bias, n_iters, callback=None, l2_exponent=1.0):
    """Run ``n_iters`` ALS sweeps (user step, then item step), updating ``P, Q, bu, bi`` in place.

    Shapes: ``users, items, ratings (N,)``; ``P (n_users, k)``, ``Q (n_items, k)``, ``bu (n_users,)``,
    ``bi (n_items,)`` (1-D views are fine; results are cast to their dtype). ``Q`` and ``bi`` are the
    starting point (the user step runs first and ignores ``P`` and ``bu``). ``callback(sweep)``, if
    given, is called after each sweep and may return True to stop early. ``l2_exponent``: ``a`` of the
    module docstring.
    """
    ratings = np.asarray(ratings, dtype=np.float64)
    by_user, by_item = np.argsort(users, kind="stable"), np.argsort(items, kind="stable")  # once, not per sweep
    for sweep in range(n_iters):
        P[...], bu[...] = als_half_step(users, items, ratings - mu - bi[items], len(P), Q, l2, l2_bias, by_user,
                                        l2_exponent)
        Q[...], bi[...] = als_half_step(items, users, ratings - mu - bu[users], len(Q), P, l2, l2_bias, by_item,
                                        l2_exponent)
        if callback is not None and callback(sweep):
            break
