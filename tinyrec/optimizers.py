"""Optimizers (优化器): the rules that turn a gradient into a change of the parameters.

All four follow Keras 3's names, defaults and update formulas (``keras/src/optimizers/*.py``,
https://keras.io/api/optimizers/). ``g`` is the gradient, ``lr`` the learning rate, ``t`` the step number:

===========  ==============================  ===============================================================
class        name                            update of one parameter ``p`` (state starts at 0 unless noted)
===========  ==============================  ===============================================================
``SGD``      stochastic gradient descent     ``v = μ·v − lr·g;  p += v``   (``μ = 0``: plain ``p −= lr·g``;
             随机梯度下降 (+ momentum 动量)  Nesterov: ``p += μ·v − lr·g``)
``Adagrad``  adaptive gradient               ``a += g²  (a₀ = 0.1);  p −= lr·g / sqrt(a + ε)``
             自适应梯度
``RMSprop``  root mean square propagation    ``s = ρ·s + (1−ρ)·g²;  p −= lr·g / sqrt(s + ε)``
             均方根传播
``Adam``     adaptive moment estimation      ``m += (1−β₁)(g − m);  v += (1−β₂)(g² − v);``
             自适应矩估计                    ``p −= lr·sqrt(1−β₂ᵗ)/(1−β₁ᵗ) · m / (sqrt(v) + ε)``
===========  ==============================  ===============================================================

Usage mirrors Keras: ``optimizer.apply_gradients([(grad, param), ...])``. Each ``param`` is a NumPy float
array that layers hold a reference to, so it is changed **in place** and never replaced. ``grad`` is either
a dense array of the same shape or a :class:`SparseGradient` ``(indices, values)`` saying that only those
rows of an embedding table (嵌入表) have a non-zero gradient.

Sparse gradients get *lazy* updates (惰性更新): rows absent from ``indices`` keep their parameter **and**
their optimizer state (moments, accumulators, velocities) exactly as they were, and a step costs
``O(len(indices) × row size)`` instead of ``O(table size)``. This is what TensorFlow's ``LazyAdam`` and
PyTorch's ``SparseAdam`` do. It is *not* the same as passing a dense gradient full of zero rows: with a
dense gradient, Adam (or SGD with momentum) would keep moving a zero-gradient row along its old momentum
and decay its moments. For embedding tables where most rows are absent from a batch, lazy updates are
both much cheaper and the usual choice in recommenders.

Two more conventions:

* The step count ``t`` used by Adam's bias correction is global: ``t = iterations + 1`` during a call to
  ``apply_gradients``, the same for every parameter and every row, whether or not that row appeared in
  earlier batches (as in Keras and ``LazyAdam``).
* Per-parameter state is created on first use, with the parameter's shape and dtype (float32 stays float32),
  and is keyed by ``id(param)``. The optimizer also keeps a reference to the parameter, which keeps it alive,
  so its ``id`` cannot be reused by another array while the state exists.
"""

from __future__ import annotations

import math

import numpy as np

from ._checks import flag as _flag
from ._checks import non_negative as _non_negative
from ._checks import positive as _positive
from ._checks import unit_interval as _unit_interval
from ._checks import unknown_name
from .sparse import SparseGradient  # re-exported: its old home

__all__ = ["SparseGradient", "Optimizer", "SGD", "Adagrad", "RMSprop", "Adam", "get", "NAMES"]


class Optimizer:
    """Base class: validates ``(grad, param)`` pairs, keeps per-parameter state, counts steps.

    A subclass provides two methods and nothing else:

    * ``_create_state(param) -> dict[str, ndarray]``: zero (or initial) arrays shaped like ``param``.
    * ``_update(p, g, state)``: one step of its rule, **in place** on ``p`` and the ``state`` arrays, where
      ``p``, ``g`` and every state array have the same shape and dtype.

    The rule is written once and serves both gradient kinds. For a dense gradient it receives the full
    arrays themselves (no copies, no fancy indexing: this is the hot path). For a ``SparseGradient`` the
    base class *gathers* the touched rows (``p[rows]``, ``state[k][rows]``), runs the same rule on those
    small copies, then *scatters* them back. Untouched rows are never read or written: lazy updates.

    ``iterations`` counts completed ``apply_gradients`` calls (Keras' name).
    """

    def __init__(self, learning_rate, name=None):
        self.learning_rate = learning_rate  # validated by the property setter
        if name is not None and not isinstance(name, str):
            raise TypeError(f"{type(self).__name__}: name must be a string or None; got {name!r}.")
        self.name = name if name is not None else type(self).__name__.lower()
        self.iterations = 0
        # id(param) -> (param, {state name: array}). Holding ``param`` keeps it alive, so no other array can
        # be given the same id while this entry exists.
        self._states: dict[int, tuple[np.ndarray, dict[str, np.ndarray]]] = {}
        # The last all-dense list of pairs, already checked, and its (param, grad, state) triples (see
        # apply_gradients); None until then, and after any step with a sparse or converted gradient.
        self._last_pairs = self._last_dense = None

    # -- hyperparameters ---------------------------------------------------------------------------

    @property
    def learning_rate(self) -> float:
        """Step size ``lr`` (学习率). Assignable, e.g. by a learning-rate schedule callback."""
        return self._lr

    @learning_rate.setter
    def learning_rate(self, value):
        self._lr = _positive(type(self).__name__, "learning_rate", value)

    def get_config(self) -> dict:
        """The constructor arguments as a dict, so ``type(opt)(**opt.get_config())`` rebuilds it."""
        return {"name": self.name, "learning_rate": self._lr}

    @classmethod
    def from_config(cls, config: dict) -> Optimizer:
        """A fresh optimizer (no state, ``iterations = 0``) with the hyperparameters of ``config``."""
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "name")
        return f"{type(self).__name__}({args})"

    # -- the step ----------------------------------------------------------------------------------

    def apply_gradients(self, grads_and_vars) -> None:
        """One optimisation step: update each ``param`` in place from its ``grad``, then ``iterations += 1``.

        ``grads_and_vars``: iterable of ``(grad, param)`` pairs (Keras' order). ``param`` is a float ndarray;
        ``grad`` is an array of ``param.shape`` (cast to ``param.dtype``) or a :class:`SparseGradient`.
        Every pair is checked before any parameter moves, so a bad pair leaves the model untouched.
        """
        if self._same_dense_pairs(grads_and_vars):  # fit's usual case: the very arrays checked last step
            for param, g, state in self._last_dense:
                self._update(param, g, state)
            self.iterations += 1
            return
        checked = []
        seen = set()
        if grads_and_vars is None or isinstance(grads_and_vars, (str, bytes, np.ndarray)):
            raise TypeError(f"{self._owner()}: expected a list of (grad, param) pairs; got {grads_and_vars!r}.")
        for position, pair in enumerate(grads_and_vars):
            try:
                grad, param = pair
            except (TypeError, ValueError):
                msg = f"{self._owner()}: item #{position} must be a (grad, param) pair; got {pair!r}."
                raise TypeError(msg) from None
            if id(param) in seen:
                raise ValueError(
                    f"{self._owner()}: the parameter in pair #{position} appears twice; a shared (tied) weight "
                    f"must receive one gradient, the sum of its uses."
                )
            seen.add(id(param))
            checked.append(self._check_pair(position, grad, param))

        # Remember an all-dense list of pairs: the next step of ``fit`` passes the same arrays again (each
        # layer writes its gradient into the same array every step), and they need not be checked twice.
        if type(grads_and_vars) is list and all(rows is None and g is pair[0]  # dense, used as given
                                                for (_, g, rows), pair in zip(checked, grads_and_vars)):
            self._last_pairs = list(grads_and_vars)
            self._last_dense = [(param, g, self._state_for(param)) for param, g, _ in checked]
        else:
            self._last_pairs = self._last_dense = None
        for param, g, rows in checked:
            state = self._state_for(param)
            if rows is None:
                self._update(param, g, state)  # dense: the rule writes straight into param and state
            else:
                # Sparse: gather the touched rows (copies; np.take is the faster spelling of param[rows]),
                # update them, scatter them back.
                p_rows = np.take(param, rows, axis=0)
                state_rows = {key: np.take(array, rows, axis=0) for key, array in state.items()}
                self._update(p_rows, g, state_rows)
                param[rows] = p_rows
                for key, array in state.items():
                    array[rows] = state_rows[key]
        self.iterations += 1

    def get_state(self, param) -> dict[str, np.ndarray]:
        """The live state arrays of ``param`` (e.g. ``{"m": ..., "v": ...}`` for Adam), for inspection.

        Empty for plain SGD, which keeps no state. ValueError if this optimizer has never updated ``param``.
        """
        entry = self._states.get(id(param))
        if entry is None or entry[0] is not param:
            raise ValueError(f"{type(self).__name__}.get_state: this parameter has not been updated yet.")
        return entry[1]

    # -- helpers -----------------------------------------------------------------------------------

    def _owner(self):
        """``"Adam.apply_gradients"``: who to name in an error message (built only when one is raised)."""
        return f"{type(self).__name__}.apply_gradients"

    def _same_dense_pairs(self, grads_and_vars):
        """True when ``grads_and_vars`` is a list of exactly the (grad, param) arrays of the last step, all
        dense, with unchanged shapes: they passed every check then, and an array's dtype cannot change."""
        last = self._last_pairs
        if last is None or type(grads_and_vars) is not list or len(grads_and_vars) != len(last):
            return False
        for pair, (grad, param) in zip(grads_and_vars, last):
            if type(pair) is not tuple or len(pair) != 2 or pair[0] is not grad or pair[1] is not param \
                    or grad.shape != param.shape:
                return False
        return True

    def _state_for(self, param):
        """The state dict of ``param``, created on first use with ``param``'s shape and dtype."""
        entry = self._states.get(id(param))
        if entry is None:
            entry = (param, self._create_state(param))
            self._states[id(param)] = entry
        return entry[1]

    def _check_pair(self, position, grad, param):
        """Check one pair; return ``(param, g, rows)``: ``g`` in ``param.dtype``, ``rows=None`` if dense."""
        if not isinstance(param, np.ndarray) or param.dtype.kind != "f":
            got = param.dtype if isinstance(param, np.ndarray) else type(param).__name__
            raise TypeError(f"{self._owner()}: param #{position} must be a floating-point NumPy array; got {got}.")

        if not isinstance(grad, SparseGradient):
            if not (isinstance(grad, np.ndarray) and grad.dtype == param.dtype):  # the hot path skips this
                try:
                    raw = np.asarray(grad)
                except ValueError as err:
                    raise ValueError(f"{self._owner()}: gradient #{position} is not a rectangular array; {err}") \
                        from None
                if raw.dtype.kind not in "fiub":
                    raise ValueError(f"{self._owner()}: gradient #{position} must be real numbers; got dtype "
                                     f"{raw.dtype}.")
            g = np.asarray(grad, dtype=param.dtype)  # no copy when it already has param's dtype
            if g.shape != param.shape:
                raise ValueError(
                    f"{self._owner()}: gradient #{position} has shape {g.shape} but its parameter has shape "
                    f"{param.shape}; they must be equal."
                )
            return param, g, None

        owner = self._owner()  # the sparse checks below cost O(n log n) anyway
        rows = np.asarray(grad.indices)
        if rows.ndim != 1 or rows.dtype.kind not in "iu":
            raise ValueError(
                f"{owner}: SparseGradient #{position} indices must be a 1-D integer array; got dtype "
                f"{rows.dtype} and shape {rows.shape}."
            )
        if param.ndim == 0:
            raise ValueError(f"{owner}: SparseGradient #{position} needs a parameter with rows; got 0-d.")
        g = np.asarray(grad.values, dtype=param.dtype)
        expected = (rows.size,) + param.shape[1:]
        if g.shape != expected:
            raise ValueError(
                f"{owner}: SparseGradient #{position} values have shape {g.shape}; for {rows.size} indices "
                f"into a parameter of shape {param.shape} they must have shape {expected}."
            )
        if rows.size:
            n_rows = param.shape[0]
            # Fast path: ``from_rows`` gives strictly increasing ids, which are unique and in range iff the
            # first is >= 0 and the last < n_rows — two comparisons instead of a sort per step.
            increasing = rows.size == 1 or bool((rows[1:] > rows[:-1]).all())
            if increasing and rows[0] >= 0 and rows[-1] < n_rows:
                return param, g, rows
            bad = rows[(rows < 0) | (rows >= n_rows)]
            if bad.size:
                raise ValueError(
                    f"{owner}: SparseGradient #{position} indices must lie in [0, {n_rows}); got "
                    f"{bad[:5].tolist()}{' ...' if bad.size > 5 else ''}."
                )
            ordered = np.sort(rows)
            repeated = ordered[1:][ordered[1:] == ordered[:-1]]
            if repeated.size:
                # With repeats, ``param[rows] = ...`` would keep only one of the updates: sum them first.
                raise ValueError(
                    f"{owner}: SparseGradient #{position} indices must be unique; "
                    f"{np.unique(repeated)[:5].tolist()} repeat. Use SparseGradient.from_rows to sum them."
                )
        return param, g, rows

    def _create_state(self, param) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def _update(self, p, g, state) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent (随机梯度下降), optionally with momentum (动量).

    Update for parameter ``p`` with gradient ``g`` (Keras 3's formulas and defaults,
    https://keras.io/api/optimizers/sgd/: ``learning_rate=0.01, momentum=0.0, nesterov=False``)::

        momentum = 0:   p = p − lr·g                                    (no state)
        momentum > 0:   v = momentum·v − lr·g;   p = p + v              (velocity v starts at 0)
        nesterov:       v = momentum·v − lr·g;   p = p + momentum·v − lr·g

    Momentum lets steps build up along directions where successive gradients agree and cancel where they
    zig-zag. ``momentum`` must lie in [0, 1) (Keras also accepts 1, where the velocity never decays).
    Sparse gradients: rows not in ``indices`` keep their parameter and their velocity (lazy), so a row does
    not drift along its old velocity while it is absent from the batch.
    """

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, name=None):
        super().__init__(learning_rate, name)
        self.momentum = _unit_interval("SGD", "momentum", momentum)
        self.nesterov = _flag("SGD", "nesterov", nesterov)

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}

    def _create_state(self, param):
        return {"velocity": np.zeros_like(param)} if self.momentum > 0 else {}

    def _update(self, p, g, state):
        lr, mu = self._lr, self.momentum
        if mu == 0:
            p -= lr * g
            return
        v = state["velocity"]
        step = lr * g  # the only temporary
        v *= mu
        v -= step  # v = μ·v − lr·g
        if self.nesterov:
            p -= step
            np.multiply(v, mu, out=step)
            p += step  # p += μ·v − lr·g
        else:
            p += v


class Adagrad(Optimizer):
    """Adagrad (adaptive gradient, 自适应梯度): each coordinate's step shrinks with its gradient history.

    Update (Keras 3, https://keras.io/api/optimizers/adagrad/: ``learning_rate=0.001,
    initial_accumulator_value=0.1, epsilon=1e-7``; Duchi, Hazan & Singer 2011)::

        a = a + g²                      (accumulator a starts at initial_accumulator_value)
        p = p − lr·g / sqrt(a + ε)      (ε inside the square root, as in Keras 3)

    Rarely-updated coordinates (e.g. embeddings of rare items) keep a small ``a`` and so larger steps.
    Keras notes that Adagrad usually wants a larger learning rate than its default. With
    ``initial_accumulator_value = 0`` and ``epsilon = 0`` a zero gradient gives 0/0 = NaN, so keep one > 0.
    Sparse gradients: only the rows in ``indices`` add to their accumulator (lazy); for Adagrad this is
    exactly what a dense zero-gradient row would do, since adding 0² changes nothing.
    """

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, name=None):
        super().__init__(learning_rate, name)
        self.initial_accumulator_value = _non_negative(
            "Adagrad", "initial_accumulator_value", initial_accumulator_value
        )
        self.epsilon = _non_negative("Adagrad", "epsilon", epsilon)

    def get_config(self):
        return {
            **super().get_config(),
            "initial_accumulator_value": self.initial_accumulator_value,
            "epsilon": self.epsilon,
        }

    def _create_state(self, param):
        return {"accumulator": np.full_like(param, self.initial_accumulator_value)}

    def _update(self, p, g, state):
        a = state["accumulator"]
        tmp = np.square(g)  # the only temporary, reused below
        a += tmp  # a = a + g²
        np.add(a, self.epsilon, out=tmp)
        np.sqrt(tmp, out=tmp)
        np.divide(g, tmp, out=tmp)
        tmp *= self._lr
        p -= tmp  # p = p − lr·g / sqrt(a + ε)


class RMSprop(Optimizer):
    """RMSprop (root mean square propagation, 均方根传播): divide by a moving RMS of recent gradients.

    Update (Keras 3, https://keras.io/api/optimizers/rmsprop/: ``learning_rate=0.001, rho=0.9,
    momentum=0.0, epsilon=1e-7, centered=False``; Hinton's Coursera lecture 6e, 2012)::

        s = ρ·s + (1−ρ)·g²                       (mean square s starts at 0)
        centered:  ḡ = ρ·ḡ + (1−ρ)·g;  d = s − ḡ² + ε     (ḡ starts at 0; s − ḡ² estimates the variance)
        otherwise: d = s + ε
        Δ = lr·g / sqrt(d)
        momentum = 0:  p = p − Δ
        momentum > 0:  u = momentum·u + Δ;  p = p − u     (u starts at 0)

    Unlike Adagrad's ever-growing sum, the moving average forgets old gradients, so steps do not shrink to
    zero. There is no bias correction: the first step, with ``s = (1−ρ)·g²``, is about
    ``lr/sqrt(1−ρ)`` ≈ 3.16·lr per coordinate.
    Sparse gradients: rows not in ``indices`` keep ``s``, ``ḡ``, ``u`` and their parameter unchanged (lazy).
    """

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False, name=None):
        super().__init__(learning_rate, name)
        self.rho = _unit_interval("RMSprop", "rho", rho)
        self.momentum = _unit_interval("RMSprop", "momentum", momentum)
        self.epsilon = _non_negative("RMSprop", "epsilon", epsilon)
        self.centered = _flag("RMSprop", "centered", centered)

    def get_config(self):
        return {
            **super().get_config(),
            "rho": self.rho,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "centered": self.centered,
        }

    def _create_state(self, param):
        state = {"mean_square": np.zeros_like(param)}
        if self.centered:
            state["mean_grad"] = np.zeros_like(param)
        if self.momentum > 0:
            state["momentum"] = np.zeros_like(param)
        return state

    def _update(self, p, g, state):
        rho = self.rho
        s = state["mean_square"]
        tmp = np.square(g)  # the only temporary, reused below
        tmp *= 1.0 - rho
        s *= rho
        s += tmp  # s = ρ·s + (1−ρ)·g²
        if self.centered:
            mean_g = state["mean_grad"]
            np.multiply(g, 1.0 - rho, out=tmp)
            mean_g *= rho
            mean_g += tmp  # ḡ = ρ·ḡ + (1−ρ)·g
            np.square(mean_g, out=tmp)
            np.subtract(s, tmp, out=tmp)
            tmp += self.epsilon  # d = s − ḡ² + ε
        else:
            np.add(s, self.epsilon, out=tmp)  # d = s + ε
        np.sqrt(tmp, out=tmp)
        np.divide(g, tmp, out=tmp)
        tmp *= self._lr  # Δ = lr·g / sqrt(d)
        if self.momentum > 0:
            u = state["momentum"]
            u *= self.momentum
            u += tmp
            p -= u
        else:
            p -= tmp


class Adam(Optimizer):
    """Adam (adaptive moment estimation, 自适应矩估计): momentum plus a per-coordinate RMS step size.

    Update at step ``t = iterations + 1`` (Keras 3, https://keras.io/api/optimizers/adam/:
    ``learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False``; Kingma & Ba 2014, with
    the bias correction folded into the step size as at the end of their Section 2)::

        α_t = lr · sqrt(1 − β₂ᵗ) / (1 − β₁ᵗ)
        m = m + (g − m)·(1 − β₁)           (= β₁·m + (1−β₁)·g; m starts at 0)
        v = v + (g² − v)·(1 − β₂)          (= β₂·v + (1−β₂)·g²; v starts at 0)
        amsgrad:  v̂ = max(v̂, v), and v̂ replaces v below   (Reddi, Kale & Kumar 2018; v̂ starts at 0)
        p = p − α_t · m / (sqrt(v) + ε)    (ε outside the square root, as in Keras 3)

    ``t`` is global: every parameter and every row uses the optimizer's step count, whether or not it
    received a gradient in earlier steps (as Keras and TensorFlow's ``LazyAdam`` do).
    Sparse gradients are lazy: rows not in ``indices`` keep ``m``, ``v``, ``v̂`` and their parameter as they
    were. A dense Adam would instead move a zero-gradient row by ``α_t·β₁m/(sqrt(β₂v)+ε)`` (its momentum)
    and decay its moments; ``LazyAdam`` / ``torch.optim.SparseAdam`` skip that, and so do we.
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False, name=None):
        super().__init__(learning_rate, name)
        self.beta_1 = _unit_interval("Adam", "beta_1", beta_1)
        self.beta_2 = _unit_interval("Adam", "beta_2", beta_2)
        self.epsilon = _non_negative("Adam", "epsilon", epsilon)
        self.amsgrad = _flag("Adam", "amsgrad", amsgrad)

    def get_config(self):
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
            "amsgrad": self.amsgrad,
        }

    def _create_state(self, param):
        state = {"m": np.zeros_like(param), "v": np.zeros_like(param)}
        if self.amsgrad:
            state["v_hat"] = np.zeros_like(param)
        return state

    def _update(self, p, g, state):
        b1, b2 = self.beta_1, self.beta_2
        t = self.iterations + 1
        alpha = self._lr * math.sqrt(1.0 - b2**t) / (1.0 - b1**t)  # a Python float, so float32 stays float32
        m, v = state["m"], state["v"]
        tmp = np.subtract(g, m)  # the only temporary, reused below
        tmp *= 1.0 - b1
        m += tmp  # m = m + (g − m)(1 − β₁)
        np.square(g, out=tmp)
        tmp -= v
        tmp *= 1.0 - b2
        v += tmp  # v = v + (g² − v)(1 − β₂)
        if self.amsgrad:
            v_hat = state["v_hat"]
            np.maximum(v_hat, v, out=v_hat)
            v = v_hat
        np.sqrt(v, out=tmp)
        tmp += self.epsilon
        np.divide(m, tmp, out=tmp)
        tmp *= alpha
        p -= tmp  # p = p − α_t·m / (sqrt(v) + ε)


_REGISTRY = {"sgd": SGD, "adagrad": Adagrad, "rmsprop": RMSprop, "adam": Adam}

#: Names accepted by ``get`` (case-insensitive).
NAMES = tuple(_REGISTRY)


def get(identifier) -> Optimizer:
    """An optimizer from a name or an instance, as in Keras' ``compile(optimizer=...)``.

    An ``Optimizer`` instance is returned as is (its state and step count are kept); a name such as
    ``"adam"`` or ``"SGD"`` (case-insensitive) gives a new instance with Keras' defaults.
    """
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        cls = _REGISTRY.get(identifier.lower())
        if cls is not None:
            return cls()
        raise unknown_name("optimizer", identifier, NAMES)
    raise TypeError(
        f"optimizer must be an Optimizer instance or one of the names {', '.join(NAMES)}; got {identifier!r}."
    )
