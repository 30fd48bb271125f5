"""Differential privacy (差分隐私): DP-SGD for tinyrec models, and the accountant that prices it in ε.

**The guarantee.** A training algorithm ``M`` is (ε, δ)-differentially private when, for any two data sets
``D, D'`` that differ in one example and any set of outcomes ``S``,
``P[M(D) ∈ S] ≤ e^ε · P[M(D') ∈ S] + δ`` (Dwork et al. 2006): the trained model reveals almost nothing
about whether any one rating or click was in the data.

**DP-SGD** (Abadi et al. 2016, "Deep Learning with Differential Privacy", CCS, Algorithm 1), one step:

1. Poisson sampling: every example joins the batch independently with probability ``q`` (so the batch
   size varies; its expectation is ``q·N``).
2. Per-example gradients ``g_n = ∇_θ ℓ_n`` of the **whole model** (every layer's parameters as one
   vector), each clipped to L2 norm ``C``: ``ḡ_n = g_n / max(1, ‖g_n‖/C)``.
3. Sum, add Gaussian noise to every coordinate, divide by the *expected* batch size:
   ``g̃ = (Σ_n ḡ_n + N(0, σ²C²·I)) / (q·N)``; then any optimizer's ``apply_gradients`` (post-processing
   costs no privacy).

The engine's ``backward`` returns gradients *summed* over the batch, so step 2 needs more: here the batch
backward runs once and each parameter layer records what it received, which is already per example:

* ``Dense``: ``z_n = x_n W + b``, so ``∂ℓ_n/∂W = x_nᵀ dz_n`` ``(in, units)`` — an outer product of two
  vectors — and ``∂ℓ_n/∂b = dz_n``. Its norm needs no ``(batch, in, units)`` array:
  ``‖x_nᵀ dz_n‖_F = ‖x_n‖·‖dz_n‖`` (the "norm trick", Goodfellow 2015). The clipped sum is again one
  matrix product: ``Σ_n c_n x_nᵀ dz_n = xᵀ (c ⊙ dz)``.
* ``Embedding``: example ``n`` touches one row ``ids_n`` with gradient ``dy_n`` (plus ``2λ E[ids_n]``
  from its L2 term), so its per-example gradient is that single row.

Here ``dz`` and ``dy`` are the rows the layer receives during the backward pass of the *mean* loss, i.e.
``(1/B)·∂ℓ_n/∂·``: multiplied by the batch size ``B`` they are per-example gradients.

Noise goes on **every row** of every embedding table, touched or not (otherwise *which* rows changed
would reveal who was in the batch), so a DP step of a recommender is dense: ``O(table size)``, not the
``O(batch)`` of a sparse update.

**Accounting.** One step is the *sampled Gaussian mechanism*. Its Rényi-DP (Mironov 2017) at an integer
order ``α ≥ 2`` is exact (Mironov, Talwar & Zhang 2019, "Rényi Differential Privacy of the Sampled
Gaussian Mechanism", §3.3)::

    A_α = Σ_{k=0..α} C(α,k) (1−q)^{α−k} q^k exp((k² − k) / (2σ²))      ε_RDP(α) = log(A_α) / (α − 1)

computed in log space (``rdp_subsampled_gaussian``). RDP adds up over steps (``T·ε_RDP(α)``), and is turned
into (ε, δ) at the best order (``epsilon``), with either conversion:

* ``"classic"`` (Mironov 2017, Proposition 3): ``ε = T·ε_RDP(α) + log(1/δ)/(α − 1)``;
* ``"improved"`` (the default; Balle et al. 2020, "Hypothesis Testing Interpretations and Rényi
  Differential Privacy", AISTATS, Theorem 21; Canonne, Kamath & Steinke 2020, "The Discrete Gaussian for
  Differential Privacy", Proposition 12): ``ε = T·ε_RDP(α) + log((α−1)/α) − (log δ + log α)/(α − 1)``,
  never larger; TensorFlow Privacy and Opacus use it today.

Only integer orders are supported (fractional orders need a different series); with the orders 2..256 the
ε is at most slightly above what a fractional grid gives (tests/test_privacy.py shows how much).
"""

from __future__ import annotations

import math

import numpy as np

from ._checks import as_rng
from .callbacks import History
from .layers import Dense, Embedding

__all__ = ["DEFAULT_ORDERS", "rdp_subsampled_gaussian", "rdp_to_epsilon", "epsilon", "privacy_spent",
           "per_example_gradients", "per_example_norms", "dp_step", "dp_fit"]

#: Integer Rényi orders tried by default: small orders suit many steps/large σ, large ones few steps.
DEFAULT_ORDERS = tuple(range(2, 257))


# ---------------------------------------------------------------------------------------------------------
# The accountant
# ---------------------------------------------------------------------------------------------------------

def _check_q_sigma(owner, q, sigma):
    if isinstance(q, bool) or not isinstance(q, (int, float, np.integer, np.floating)) or not 0 <= q <= 1:
        raise ValueError(f"{owner}: the sampling rate q must be a number in [0, 1]; got {q!r}.")
    if (isinstance(sigma, bool) or not isinstance(sigma, (int, float, np.integer, np.floating))
            or not math.isfinite(sigma) or sigma <= 0):
        raise ValueError(f"{owner}: the noise multiplier sigma must be a positive number; got {sigma!r}.")
    return float(q), float(sigma)


def _check_orders(owner, orders):
    arr = np.atleast_1d(np.asarray(orders))
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{owner}: orders must be a non-empty 1-D list of integers >= 2; got {orders!r}.")
    if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
        arr = arr.astype(np.int64)
    if arr.dtype.kind not in "iu" or np.any(arr < 2):
        raise ValueError(f"{owner}: orders must be integers >= 2 (the exact formula of Mironov et al. 2019 "
                         f"is for integer orders); got {orders!r}.")
    return [int(a) for a in arr]


def _log_a(q, sigma, alpha, log_factorial):
    """``log A_α`` for one integer ``α``: a log-sum-exp over the ``α + 1`` binomial terms.

    ``log_factorial[m] = log m!`` (a table), so ``log C(α, k) = log α! − log k! − log (α−k)!``.
    """
    k = np.arange(alpha + 1, dtype=np.float64)
    log_binom = log_factorial[alpha] - log_factorial[: alpha + 1] - log_factorial[alpha::-1]
    terms = log_binom + (alpha - k) * math.log1p(-q) + k * math.log(q) + (k * k - k) / (2 * sigma**2)
    top = terms.max()
    return float(top + math.log(np.exp(terms - top).sum()))


def rdp_subsampled_gaussian(q, sigma, orders=DEFAULT_ORDERS):
    """Rényi-DP of **one** step of the sampled Gaussian mechanism, at each integer order.

    ``ε_RDP(α) = log(A_α)/(α − 1)`` with ``A_α = Σ_k C(α,k)(1−q)^{α−k} q^k e^{(k²−k)/(2σ²)}`` (Mironov,
    Talwar & Zhang 2019, §3.3): ``A_α`` is ``E_{z∼N(0,σ²)}[(μ(z)/μ₀(z))^α]`` for the mixture
    ``μ = (1−q)N(0,σ²) + qN(1,σ²)`` against ``μ₀ = N(0,σ²)``, expanded with the binomial theorem.

    Args:
        q: sampling rate in [0, 1] (expected batch size / N). sigma: noise multiplier σ > 0.
        orders: integers ``α ≥ 2``, shape ``(m,)`` (a single int is allowed).
    Returns:
        float64 array ``(m,)``; ``0`` when ``q = 0``, ``α/(2σ²)`` when ``q = 1`` (the plain Gaussian).
    """
    owner = "rdp_subsampled_gaussian"
    q, sigma = _check_q_sigma(owner, q, sigma)
    orders = _check_orders(owner, orders)
    if q == 0:
        return np.zeros(len(orders))
    if q == 1:
        return np.array([a / (2 * sigma**2) for a in orders])
    log_factorial = np.concatenate(([0.0], np.cumsum(np.log(np.arange(1, max(orders) + 1)))))
    return np.array([_log_a(q, sigma, a, log_factorial) / (a - 1) for a in orders])


def rdp_to_epsilon(rdp, orders, delta, conversion="improved"):
    """The smallest ε over the orders for a total RDP curve ``rdp (m,)``; returns ``(ε, best order)``.

    ``conversion="improved"``: ``ε(α) = rdp(α) + log((α−1)/α) − (log δ + log α)/(α − 1)`` (Balle et al.
    2020, Thm 21; Canonne, Kamath & Steinke 2020, Prop. 12). ``"classic"``: ``rdp(α) + log(1/δ)/(α − 1)``
    (Mironov 2017, Prop. 3). ε is never reported below 0.
    """
    owner = "rdp_to_epsilon"
    orders = _check_orders(owner, orders)
    rdp = np.atleast_1d(np.asarray(rdp, dtype=np.float64))
    if rdp.shape != (len(orders),):
        raise ValueError(f"{owner}: rdp must have one value per order ({len(orders)}); got shape {rdp.shape}.")
    if isinstance(delta, bool) or not isinstance(delta, (int, float, np.floating)) or not 0 < delta < 1:
        raise ValueError(f"{owner}: delta must be a number in (0, 1); got {delta!r}.")
    if conversion not in ("improved", "classic"):
        raise ValueError(f"{owner}: conversion must be 'improved' or 'classic'; got {conversion!r}.")
    if np.all(rdp == 0):
        return 0.0, orders[0]  # nothing released depends on the data (q = 0 or no steps): (0, 0)-DP
    a = np.asarray(orders, dtype=np.float64)
    if conversion == "classic":
        eps = rdp + math.log(1 / delta) / (a - 1)
    else:
        eps = rdp + np.log((a - 1) / a) - (math.log(delta) + np.log(a)) / (a - 1)
    best = int(np.argmin(eps))
    return max(float(eps[best]), 0.0), orders[best]


def privacy_spent(q, sigma, steps, delta, orders=DEFAULT_ORDERS, conversion="improved"):
    """``(ε, best order)`` after ``steps`` steps of DP-SGD with sampling rate ``q`` and noise multiplier σ."""
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"privacy_spent: steps must be a non-negative integer; got {steps!r}.")
    rdp = int(steps) * rdp_subsampled_gaussian(q, sigma, orders)
    return rdp_to_epsilon(rdp, orders, delta, conversion)


def epsilon(q, sigma, steps, delta, orders=DEFAULT_ORDERS, conversion="improved"):
    """ε of (ε, δ)-DP after ``steps`` steps of the sampled Gaussian mechanism (see ``privacy_spent``).

    Example: the bundled movies (100,000 ratings), batches of 1,000 expected (q = 0.01), σ = 1, 10
    epochs (1,000 steps), δ = 1e-6: ``epsilon(0.01, 1.0, 1000, 1e-6)``.
    """
    return privacy_spent(q, sigma, steps, delta, orders, conversion)[0]


# ---------------------------------------------------------------------------------------------------------
# Per-example gradients
# ---------------------------------------------------------------------------------------------------------

class _Tape:
    """While active, each ``Dense``/``Embedding`` of the model records what its forward and backward saw.

    It wraps the methods on the layer *instances* (the classes are untouched) and restores them on exit:
    ``Dense``: the input ``x`` of ``forward`` and the ``dz`` of ``backward_from_logits`` (which
    ``backward`` also goes through); ``Embedding``: the ids of ``forward`` and the ``dy`` of ``backward``
    (which then only records: the table's ``grads`` are left as they were).
    """

    def __init__(self, model):
        self.layers = []
        for layer in model.layers:
            if isinstance(layer, (Dense, Embedding)):
                self.layers.append(layer)
            elif layer.params:
                raise TypeError(
                    f"tinyrec.privacy: per-example gradients are derived for Dense and Embedding layers only; "
                    f"layer {layer.name!r} ({type(layer).__name__}) has parameters {list(layer.params)}.")
        self.seen = {}

    def _record(self, layer, key, value):
        slot = self.seen.setdefault(id(layer), {})
        if key in slot:
            raise ValueError(f"tinyrec.privacy: layer {layer.name!r} was used twice in one step; per-example "
                             "gradients need each parameter layer called once per forward pass.")
        slot[key] = value

    def __enter__(self):
        for layer in self.layers:
            fwd = type(layer).forward.__get__(layer)
            if isinstance(layer, Dense):
                back = type(layer).backward_from_logits.__get__(layer)

                def forward(x, training=False, _f=fwd, _l=layer):
                    self._record(_l, "input", x)
                    return _f(x, training)

                def backward_from_logits(dz, _b=back, _l=layer):
                    self._record(_l, "grad", dz)
                    return _b(dz)

                layer.forward, layer.backward_from_logits = forward, backward_from_logits
            else:
                def forward(ids, training=False, _f=fwd, _l=layer):
                    self._record(_l, "input", _l.check_ids(ids))
                    return _f(ids, training)

                def backward(dy, _l=layer):
                    # Only record: DP-SGD builds the table's gradient from these per-example rows, so the
                    # layer's own sum into a SparseGradient (its .grads) would be wasted work.
                    self._record(_l, "grad", dy)

                layer.forward, layer.backward = forward, backward
        return self

    def __exit__(self, *exc):
        for layer in self.layers:
            for name in ("forward", "backward", "backward_from_logits"):
                layer.__dict__.pop(name, None)
        return False


def _loss_and_backward(model, x, y):
    """Forward, loss of the batch mean, backward (fused with a sigmoid/softmax output as ``fit`` does)."""
    y_pred = model.forward(x, training=True)
    loss = model.loss
    out = model.output_layer
    act = getattr(out, "activation", None)
    fused = (act is not None and not loss.from_logits and loss.fused_activation == act.name
             and hasattr(out, "backward_from_logits"))
    if fused:
        train_loss = type(loss)(from_logits=True)
        value = train_loss.forward(y, out.logits)
    else:
        train_loss = loss
        value = train_loss.forward(y, y_pred)
    value += sum(layer.penalty for layer in model.layers)
    model.backward(train_loss.backward(), from_logits=fused)
    return float(value)


def _per_example_records(model, x, y):
    """Run one batch backward and return ``(loss, B, records)``.

    ``records``: list of ``(layer, kind, a, g)``; for a ``Dense`` layer ``a = x (B, in)`` and
    ``g = ∂ℓ_n/∂z_n (B, units)``; for an ``Embedding`` ``a = ids (B,)`` and ``g = ∂ℓ_n/∂E[ids_n] (B, k)``.
    """
    if not model.compiled:
        raise RuntimeError(f"{model.name}: compile(optimizer=..., loss=...) before DP training.")
    with _Tape(model) as tape:
        value = _loss_and_backward(model, x, y)
    records = []
    batch = None
    for layer in tape.layers:
        seen = tape.seen.get(id(layer), {})
        if "grad" not in seen:
            continue  # not used in this forward pass: zero gradient
        a, g = seen["input"], np.asarray(seen["grad"], dtype=np.float64)
        batch = len(g) if batch is None else batch
        if len(g) != batch:
            raise ValueError(f"tinyrec.privacy: layer {layer.name!r} saw {len(g)} rows, not the batch's {batch}.")
        g = g * batch  # the mean loss gave (1/B)·∂ℓ_n: rescale to per-example gradients
        if isinstance(layer, Dense):
            records.append((layer, "dense", np.asarray(a, dtype=np.float64), g))
        else:
            if layer.l2:  # the layer's penalty λ/B Σ_n ‖E[ids_n]‖² is Σ_n of λ‖E[ids_n]‖² / B: per example
                g = g + 2.0 * layer.l2 * layer.params["embeddings"][a]
            records.append((layer, "embedding", a, g))
    return value, batch, records


def _norms_squared(records, batch):
    sq = np.zeros(batch)
    for layer, kind, a, g in records:
        if kind == "dense":
            gz = np.einsum("bu,bu->b", g, g)
            sq += np.einsum("bi,bi->b", a, a) * gz  # ‖x_nᵀ dz_n‖² = ‖x_n‖²·‖dz_n‖²
            if layer.use_bias:
                sq += gz
        else:
            sq += np.einsum("bk,bk->b", g, g)
    return sq


def per_example_norms(model, x, y):
    """L2 norm of each example's gradient of the **whole model** (all layers' parameters), ``(B,)``.

    Uses the norm trick for ``Dense`` (``‖x_nᵀ dz_n‖ = ‖x_n‖·‖dz_n‖``); ``x``/``y`` are one batch, already
    in the model's input format (an array, or ``(user_ids, item_ids)`` for a recommender).
    """
    _, batch, records = _per_example_records(model, x, _targets(model, x, y))
    return np.sqrt(_norms_squared(records, batch))


def per_example_gradients(model, x, y):
    """Every example's gradient, materialised: ``{"layer.param": array (B, *param.shape)}`` (float64).

    ``Dense`` kernel: ``einsum('bi,bu->biu', x, dz)`` ``(B, in, units)``; bias ``dz (B, units)``;
    ``Embedding`` table ``(B, rows, k)``, zero except row ``ids_n``. This builds big arrays and is meant
    for checking and teaching on small models; ``dp_step`` never builds it.
    """
    _, batch, records = _per_example_records(model, x, _targets(model, x, y))
    out = {}
    for layer, kind, a, g in records:
        if kind == "dense":
            out[f"{layer.name}.kernel"] = np.einsum("bi,bu->biu", a, g)
            if layer.use_bias:
                out[f"{layer.name}.bias"] = g
        else:
            table = np.zeros((batch, *layer.params["embeddings"].shape))
            table[np.arange(batch), a] = g
            out[f"{layer.name}.embeddings"] = table
    return out


def _targets(model, x, y):
    n = len(x[0]) if isinstance(x, (tuple, list)) else len(x)
    y = np.asarray(y, dtype=model.dtype)
    if len(y) != n:
        raise ValueError(f"tinyrec.privacy: x has {n} rows but y has {len(y)}.")
    if model.loss is not None and model.loss.name != "sparse_categorical_crossentropy":
        shape = model.output_shape_for(n)
        if y.size != int(np.prod(shape)):
            raise ValueError(f"tinyrec.privacy: y must fit the model's output shape {shape}; got {y.shape}.")
        y = y.reshape(shape)
    return y


# ---------------------------------------------------------------------------------------------------------
# DP-SGD
# ---------------------------------------------------------------------------------------------------------

def dp_step(model, x, y, l2_norm_clip, noise_multiplier, expected_batch_size, rng):
    """One DP-SGD step on the batch ``(x, y)``: clip, sum, add noise, divide, ``apply_gradients``.

    Every parameter of ``model.layers`` gets a gradient ``(Σ_n c_n g_n + N(0, σ²C²)) / (qN)`` with
    ``c_n = 1/max(1, ‖g_n‖/C)``; an empty batch (possible with Poisson sampling) gets noise alone.
    Returns the batch's mean loss (``nan`` for an empty batch).
    """
    sums = {}
    value = float("nan")
    n = len(y)
    if n:
        value, batch, records = _per_example_records(model, x, y)
        scale = 1.0 / np.maximum(1.0, np.sqrt(_norms_squared(records, batch)) / l2_norm_clip)  # (B,)
        for layer, kind, a, g in records:
            g = g * scale[:, None]
            if kind == "dense":
                sums[id(layer.params["kernel"])] = a.T @ g  # Σ_n c_n x_nᵀ dz_n
                if layer.use_bias:
                    sums[id(layer.params["bias"])] = g.sum(axis=0)
            else:
                n_rows = layer.params["embeddings"].shape[0]
                # Row r of the sum is Σ_{n: ids_n = r} c_n g_n (repeated ids add up): one bincount per column.
                sums[id(layer.params["embeddings"])] = np.stack(
                    [np.bincount(a, weights=g[:, j], minlength=n_rows) for j in range(g.shape[1])], axis=1)
    pairs = []
    std = noise_multiplier * l2_norm_clip
    for layer in model.layers:
        for p in layer.params.values():
            total = sums.get(id(p), 0.0) + std * rng.standard_normal(p.shape)  # noise on EVERY coordinate
            pairs.append(((total / expected_batch_size).astype(p.dtype), p))
    model.optimizer.apply_gradients(pairs)
    return value


def _positive_number(owner, name, value, allow_zero=False):
    ok = (not isinstance(value, bool) and isinstance(value, (int, float, np.integer, np.floating))
          and math.isfinite(value) and (value >= 0 if allow_zero else value > 0))
    if not ok:
        kind = "a number >= 0" if allow_zero else "a positive number"
        raise ValueError(f"{owner}: {name} must be {kind}; got {value!r}.")
    return float(value)


def dp_fit(model, x, y, noise_multiplier, l2_norm_clip, sampling_rate, epochs=1, delta=None, seed=None,
           verbose=0):
    """Train a compiled tinyrec model with DP-SGD (Poisson sampling, per-example clipping, Gaussian noise).

    Works for models whose parameter layers are ``Dense`` and ``Embedding``: ``Sequential`` MLPs and the
    recommenders (``MatrixFactorization``, ``NeuMF``; for NeuMF pass the positives *and* the sampled
    negatives as ``(x, y)``, since ``dp_fit`` does no negative sampling of its own; for MF set
    ``model.global_mean`` first). The model's own optimizer applies the noisy gradients. One epoch is
    ``round(1/q)`` steps, so each example is used about once per epoch.

    Args:
        model: a compiled, built model. x: its inputs (``(N, d)`` array, or ``(user_ids, item_ids)``);
            y: targets ``(N,)`` or the output's shape.
        noise_multiplier: σ ≥ 0 (0 trains with clipping only: no privacy). l2_norm_clip: C > 0.
        sampling_rate: q in (0, 1]: each example's chance to be in a batch.
        epochs: passes; steps ``T = epochs · round(1/q)``.
        delta: if given, ``history.history["epsilon"]`` holds ε(δ) after each epoch (``epsilon``).
        seed: int or Generator for the sampling and the noise (the model's own seed set its weights).
        verbose: 1 prints one line per epoch.
    Returns:
        ``History`` with ``loss`` (mean loss of the sampled batches) and, with ``delta``, ``epsilon``.
    """
    owner = "dp_fit"
    noise_multiplier = _positive_number(owner, "noise_multiplier", noise_multiplier, allow_zero=True)
    l2_norm_clip = _positive_number(owner, "l2_norm_clip", l2_norm_clip)
    sampling_rate = _positive_number(owner, "sampling_rate", sampling_rate)
    if sampling_rate > 1:
        raise ValueError(f"{owner}: sampling_rate must be in (0, 1]; got {sampling_rate!r}.")
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
        raise ValueError(f"{owner}: epochs must be a non-negative integer; got {epochs!r}.")
    if delta is not None and noise_multiplier == 0:
        raise ValueError(f"{owner}: with noise_multiplier=0 there is no privacy to account (ε is infinite); "
                         "pass delta=None.")
    if not model.compiled:
        raise RuntimeError(f"{owner}: compile the model (optimizer, loss) before dp_fit.")
    tuple_input = isinstance(x, (tuple, list))
    if not tuple_input:
        x = np.asarray(x, dtype=model.dtype)
        if not model.built:
            model.build(x.shape)
    n = len(x[0]) if tuple_input else len(x)
    if n == 0:
        raise ValueError(f"{owner}: no training data (0 rows).")
    y = _targets(model, x, y)
    rng = as_rng(seed, f"{owner}(seed)")
    steps_per_epoch = max(1, round(1 / sampling_rate))
    expected = sampling_rate * n
    history = History()
    history.on_train_begin()
    for epoch in range(epochs):
        losses, weights = 0.0, 0
        for _ in range(steps_per_epoch):
            rows = np.flatnonzero(rng.random(n) < sampling_rate)  # Poisson sampling
            xb = tuple(np.asarray(a)[rows] for a in x) if tuple_input else x[rows]
            value = dp_step(model, xb, y[rows], l2_norm_clip, noise_multiplier, expected, rng)
            if len(rows):
                losses += value * len(rows)
                weights += len(rows)
        logs = {"loss": losses / max(weights, 1)}
        if delta is not None:
            logs["epsilon"] = epsilon(sampling_rate, noise_multiplier, (epoch + 1) * steps_per_epoch, delta)
        history.on_epoch_end(epoch, logs)
        if verbose:
            print(f"Epoch {epoch + 1}/{epochs} - " + " - ".join(f"{k}: {v:.4f}" for k, v in logs.items()))
    return history
