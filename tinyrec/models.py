"""Models (模型): ``Sequential``, and the ``Model`` base class whose training loop every model shares.

One training step, as data flows (see ``Model.train_on_batch``)::

    ŷ  = model.forward(x, training=True)          each layer caches what its backward needs
    L  = loss.forward(y, ŷ)                        mean over the batch
    dŷ = loss.backward()                           dL/dŷ  (or dL/dz when fused with sigmoid/softmax)
    model.backward(dŷ)                             each layer fills .grads, returns dL/d(its input)
    optimizer.apply_gradients(grads_and_params)    updates every parameter in place

A subclass provides ``layers``, ``build``, ``forward`` and ``backward``; ``Model`` gives it ``compile``,
``fit`` (batches, shuffling, validation, callbacks, progress, ``History``), ``evaluate``, ``predict``,
``summary``, ``get_weights``/``set_weights`` and ``save_weights``/``load_weights``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from . import _checks
from . import losses as losses_module
from . import metrics as metrics_module
from . import optimizers as optimizers_module
from ._blas import blas_threads
from ._checks import spawn_rngs as _spawn_rngs
from .callbacks import CallbackList, History, NonFiniteLossError, ProgbarLogger, TerminateOnNaN
from .layers import Embedding, Layer


def _n_rows(x):
    return len(x[0]) if isinstance(x, tuple) else len(x)


def _take(x, idx):
    """Rows ``idx`` (a slice or index array) of an array or of each array of a tuple of inputs."""
    return tuple(a[idx] for a in x) if isinstance(x, tuple) else x[idx]


class _MetricTracker:
    """Epoch values of the compiled metrics, accumulated batch by batch.

    Most metrics (accuracy, MSE, MAE) are means over rows, so a batch-size-weighted mean of batch values
    is exact. Two kinds are not, and say so with attributes on the metric function:
    ``batch_statistic`` + ``finalize`` (RMSE: average the batch MSEs, then take the square root once) and
    ``needs_all_rows`` (AUC: a ranking of all rows; predictions are kept and scored at the end).
    """

    def __init__(self, metric_fns):
        self.metric_fns = metric_fns
        self.per_batch = [getattr(fn, "batch_statistic", None) or fn for _, fn in metric_fns]
        self.collect = [getattr(fn, "needs_all_rows", False) for _, fn in metric_fns]
        self.any_collect = any(self.collect)
        self.sums = [0.0] * len(metric_fns)
        self.rows = 0
        self.kept = []

    def update(self, y, y_pred):
        nb = len(y)
        self.rows += nb
        if self.any_collect:
            self.kept.append((y, y_pred.copy()))
        for j, fn in enumerate(self.per_batch):
            if not self.collect[j]:
                self.sums[j] += fn(y, y_pred) * nb

    def result(self):
        out = {}
        for j, (key, fn) in enumerate(self.metric_fns):
            if self.collect[j]:
                out[key] = float(fn(np.concatenate([k[0] for k in self.kept]),
                                    np.concatenate([k[1] for k in self.kept])))
            else:
                value = self.sums[j] / self.rows
                finalize = getattr(fn, "finalize", None)
                out[key] = float(finalize(value)) if finalize else value
        return out


class _EpochOutputs:
    """An epoch's (or an evaluation's) loss and metrics, from the outputs of its batches.

    Small outputs — up to ``KEEP_LIMIT`` numbers for the whole epoch, e.g. one click probability per row —
    are kept (references, no copies) and scored in one vectorised pass at the end: the loss over all rows,
    every metric over all rows (exact for RMSE and AUC, which are not means of batch values), and the NaN
    guard (a NaN or infinite output stops training with an error naming the epoch and the batch). The
    training step itself then computes no loss value at all: it needs only the gradient.
    Larger outputs (a softmax over a whole catalogue) are scored batch by batch instead, so memory stays
    bounded: ``_MetricTracker`` accumulates the metrics, and each batch's loss is checked as it comes.
    """

    KEEP_LIMIT = 1 << 22  # numbers (16 MiB of float32)

    @staticmethod
    def fits(model, n):
        if getattr(model, "_loss_couples_rows", False):  # e.g. an in-batch softmax: scored batch by batch
            return False
        return n * int(np.prod(model.output_shape_for(1)[1:])) <= _EpochOutputs.KEEP_LIMIT

    def __init__(self, model, keep, guard=True):
        self.model, self.keep, self.guard = model, keep, guard
        self.kept, self.sizes = [], []
        self.penalty_sum = self.loss_sum = 0.0
        self.rows = 0
        self.tracker = None if keep else _MetricTracker(model.metric_fns)
        self._scored = (0, 0, 0.0)  # running_loss: batches and rows already scored, and their loss sum

    def add(self, y, y_pred):
        """Record one batch whose forward pass was the model's last one."""
        model, nb = self.model, len(y)
        self.rows += nb
        self.penalty_sum += model._penalty() * nb
        if self.keep:
            self.kept.append(model._loss_input(y_pred))
            self.sizes.append(nb)
            return
        value = self._last_value = model._train_loss.forward(y, model._loss_input(y_pred))
        if self.guard and not np.isfinite(value):
            self._stop(value, len(self.sizes))
        self.sizes.append(nb)
        self.loss_sum += value * nb
        if model.metric_fns:
            self.tracker.update(y, y_pred)

    def last_loss(self, y):
        """The loss of the batch added last (``y``: its targets), with its regularisation term."""
        if not self.keep:
            return self._last_value + self.model._penalty()
        return self.model._train_loss.forward(y, self.kept[-1]) + self.model._penalty()

    def running_loss(self, y):
        """The mean loss over the epoch's rows so far (``y``: the epoch's targets, in batch order), as a progress
        bar shows it. Only the batches added since the last call are scored, so reading it ten times a second
        costs next to nothing."""
        if not self.keep:
            return (self.loss_sum + self.penalty_sum) / self.rows
        batches, rows, loss_sum = self._scored
        if batches < len(self.kept):
            z = np.concatenate(self.kept[batches:]) if len(self.kept) - batches > 1 else self.kept[batches]
            loss_sum += self.model._train_loss.forward(y[rows:self.rows], z) * (self.rows - rows)
            self._scored = (len(self.kept), self.rows, loss_sum)
        return (loss_sum + self.penalty_sum) / self.rows

    def _stop(self, value, batch):
        raise NonFiniteLossError(
            f"Loss became {value} at epoch {self.epoch + 1}, batch {batch + 1}; training stopped. Usual causes: "
            "a learning rate too large (try 10x smaller), unscaled inputs, or NaN in the data.")

    def _first_bad_batch(self, y, z):
        """Only on the error path: score the kept batches one by one to name the first bad one."""
        start = 0
        for batch, nb in enumerate(self.sizes):
            rows = slice(start, start + nb)
            value = self.model._train_loss.forward(y[rows], z[rows]) if np.isfinite(z[rows]).all() else np.nan
            if not np.isfinite(value):
                self._stop(value, batch)
            start += nb
        self._stop(np.nan, len(self.sizes) - 1)  # the regularisation term itself overflowed

    def result(self, epoch, y):
        """``{"loss": ..., metric: ...}`` over the rows recorded (``y``: their targets, in batch order)."""
        model, n = self.model, self.rows
        self.epoch = epoch
        if not self.keep:
            logs = {"loss": (self.loss_sum + self.penalty_sum) / n}
            if model.metric_fns:
                logs.update(self.tracker.result())
            return logs
        z = np.concatenate(self.kept) if len(self.kept) > 1 else self.kept[0]
        y = y[:n]
        value = model._train_loss.forward(y, z) + self.penalty_sum / n if np.isfinite(z).all() else np.nan
        if self.guard and not np.isfinite(value):
            self._first_bad_batch(y, z)
        logs = {"loss": value}
        if model.metric_fns:
            y_pred = model.output_layer.activation.forward(z) if model._fused else z
            logs.update({key: float(fn(y, y_pred)) for key, fn in model.metric_fns})
        return logs


class _BatchLogs(Mapping):
    """The logs ``fit`` hands to ``on_train_batch_end``: ``{"loss": this batch's loss}``, computed only when a
    callback reads it (from the batch's kept output), so a step that nobody looks at costs no loss value.

    ``epoch_mean_loss()`` gives the mean loss over the epoch's rows so far, which the progress bar shows: it
    reads that when it redraws, at most ten times a second, instead of adding up every batch's loss.
    """

    def __init__(self, outputs, y, yb):
        self._outputs, self._y, self._yb = outputs, y, yb

    def __getitem__(self, key):
        if key != "loss":
            raise KeyError(key)
        return self._outputs.last_loss(self._yb)

    def __iter__(self):
        return iter(("loss",))

    def __len__(self):
        return 1

    def epoch_mean_loss(self):
        return self._outputs.running_loss(self._y)


class Model:
    """Base class of every model: the compile / fit / evaluate / predict machinery.

    Subclasses must define ``self.layers`` (all layers holding parameters), ``output_layer`` (the
    layer whose activation may be fused with the loss), ``build(...)``, ``forward(x, training)``
    and ``backward(grad, from_logits=False)``; and may override ``_check_inputs``.

    Args:
        seed: int, ``numpy.random.Generator`` or None. Seeds the weight initialisation, the shuffling
            and dropout, so two runs with the same seed are identical bit for bit.
        dtype: the float type of parameters and computation; ``"float32"`` (the default, as in Keras)
            or ``"float64"`` (what gradient checks use).
        name: shown by ``summary``.
    """

    def __init__(self, seed=None, dtype="float32", name=None):
        try:
            self.dtype = np.dtype(dtype)
        except TypeError:
            self.dtype = None
        if self.dtype is None or self.dtype.kind != "f":
            raise ValueError(f"{type(self).__name__}: dtype must be a float type ('float32' or 'float64'); "
                             f"got {dtype!r}.")
        if name is not None and not isinstance(name, str):
            raise TypeError(f"{type(self).__name__}: name must be a string or None; got {name!r}.")
        self.seed = seed
        self._init_rng, self._shuffle_rng = _spawn_rngs(seed, 2, type(self).__name__)
        self.name = name or type(self).__name__.lower()
        self.layers: list[Layer] = []
        self.built = False
        self.compiled = False
        self.optimizer = None
        self.loss = None
        self.stop_training = False
        self.history = None

    # -- to be provided by subclasses ----------------------------------------------------------
    output_layer = None

    def forward(self, x, training=False):
        raise NotImplementedError

    def backward(self, grad, from_logits=False):
        raise NotImplementedError

    def _check_inputs(self, x, where):
        """Validate and convert inputs at the boundary (fit/evaluate/predict); return them converted."""
        return x

    def _ensure_built(self, x):
        raise NotImplementedError

    def _extra_validation_logs(self):
        """Further ``val_...`` values for the epoch logs (e.g. a ranking metric); none by default."""
        return {}

    def _epoch_data(self, epoch, x, y):
        """The training rows of one epoch; by default the same every epoch.

        A model may return fresh rows each epoch (e.g. ``NeuMF`` adds newly sampled negatives), but
        always as many rows as ``fit`` was given.
        """
        return x, y

    # -- compile -------------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None):
        """Choose the optimizer, loss and metrics (Keras' signature and default optimizer).

        Args:
            optimizer: a name (``"sgd"``, ``"adagrad"``, ``"rmsprop"``, ``"adam"``) or an optimizer instance.
            loss: a name (``"mse"``, ``"binary_crossentropy"``, ``"categorical_crossentropy"``,
                ``"sparse_categorical_crossentropy"``) or a ``tinyrec.losses.Loss``.
            metrics: list of names (``"accuracy"``, ``"mae"``, ...) or functions ``f(y_true, y_pred)``.
        """
        if loss is None:
            raise ValueError(f"{self.name}.compile: a loss is required, e.g. loss='binary_crossentropy'.")
        self.optimizer = optimizers_module.get(optimizer)
        self.loss = losses_module.get(loss)
        if isinstance(metrics, (str, bytes)) or callable(metrics):
            metrics = [metrics]
        self.metric_fns = []
        for m in metrics or []:
            key = m if isinstance(m, str) else getattr(m, "__name__", "metric")
            self.metric_fns.append((key, metrics_module.get(m, loss=self.loss.name)))
        self.compiled = True
        self._setup_fusion()

    def _setup_fusion(self):
        """Use a from-logits copy of the loss when the output activation matches it (stability, p − y)."""
        self._train_loss = self.loss
        self._fused = False
        out = self.output_layer if self.built else None
        act = getattr(out, "activation", None)
        if (self.compiled and act is not None and not self.loss.from_logits
                and self.loss.fused_activation == act.name and hasattr(out, "backward_from_logits")):
            self._train_loss = type(self.loss)(from_logits=True)
            self._fused = True

    # -- one step ------------------------------------------------------------------------------
    def _grads_and_params(self):
        # Rebuilt every step (a few microseconds): a layer may replace a grad array, e.g. Embedding.
        return [(layer.grads[k], p) for layer in self.layers for k, p in layer.params.items()]

    def _loss_input(self, y_pred):
        """What the training loss reads: the output layer's logits when fused with it, else ``y_pred``."""
        return self.output_layer.logits if self._fused else y_pred

    def _penalty(self):
        """Regularisation terms of the last forward pass (e.g. ``Embedding(l2=...)``); 0.0 for most layers."""
        return sum(layer.penalty for layer in self.layers if layer.penalty)

    def _loss_value(self, y, y_pred):
        """The loss of a batch whose forward pass was the last one: data term + regularisation."""
        return self._train_loss.forward(y, self._loss_input(y_pred)) + self._penalty()

    def train_on_batch(self, x, y):
        """One step of gradient descent on one batch of prepared ``(x, y)``; returns the batch loss (Keras).

        The five lines of the module docstring; ``fit`` runs the same step without the loss value, which
        only the progress bar or a batch callback needs.
        """
        y_pred = self.forward(x, training=True)
        value = self._loss_value(y, y_pred)
        self.backward(self._train_loss.backward(), from_logits=self._fused)
        self.optimizer.apply_gradients(self._grads_and_params())
        return value

    def _train_step(self, xb, yb):
        """The gradient step of ``fit`` on one prepared batch; returns ``ŷ`` (the loss value is not needed).

        A model may override it with a fused version of the same arithmetic (``NeuMF`` does, for speed), as
        long as the parameters move exactly as these four lines move them.
        """
        y_pred = self.forward(xb, training=True)                              # 1. forward
        grad = self._train_loss.gradient(yb, self._loss_input(y_pred))        # 2. dL/dŷ
        self.backward(grad, from_logits=self._fused)                          # 3. backward
        self.optimizer.apply_gradients(self._grads_and_params())              # 4. update
        return y_pred

    def _prepare(self, x, y, where):
        if not self.compiled:
            raise RuntimeError(f"{self.name}: call compile(optimizer=..., loss=...) before {where}().")
        x = self._check_inputs(x, where)
        self._ensure_built(x)
        n = _n_rows(x)
        return x, self._prepare_targets(y, n, self.output_shape_for(n), where)

    def compute_loss(self, x, y):
        """The loss (with regularisation) of ``(x, y)`` in inference mode: one forward pass, no backward."""
        x, y = self._prepare(x, y, "compute_loss")
        return self._loss_value(y, self.forward(x, training=False))

    def loss_and_gradients(self, x, y):
        """``(loss, {"layer.param": dL/dparam})`` on ``(x, y)`` in inference mode (dropout off).

        The public hook for gradient checks and for training loops written by hand: one forward, one
        backward, nothing updated. Sparse gradients (embeddings) are returned as ``SparseGradient``.
        """
        x, y = self._prepare(x, y, "loss_and_gradients")
        value = self._loss_value(y, self.forward(x, training=False))
        self.backward(self._train_loss.backward(), from_logits=self._fused)
        return value, {f"{layer.name}.{k}": layer.grads[k] for layer in self.layers for k in layer.params}

    # -- fit -----------------------------------------------------------------------------------
    def _prepare_targets(self, y, n, output_shape, where):
        y = _checks.real_array(f"{self.name}.{where}", "y", y)
        if y.ndim == 0 or len(y) != n:
            raise ValueError(f"{self.name}.{where}: x has {n} rows but y has "
                             f"{'no rows (a scalar)' if y.ndim == 0 else len(y)}.")
        self.loss.check_targets(y, (n, *output_shape[1:]))
        # Targets in the model's dtype and the output's shape, once, instead of every batch.
        if self.loss.name != "sparse_categorical_crossentropy":
            y = y.astype(self.dtype, copy=False).reshape((n, *output_shape[1:]))
        return y

    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True):
        """Train with mini-batch gradient descent (小批量梯度下降) and return a ``History``.

        The arguments have Keras' names and defaults.

        Args:
            x: inputs; y: targets with one row per input row.
            batch_size: rows per gradient step (default 32).
            epochs: passes over the data.
            verbose: 0 silent, 1 progress bar (in a terminal/notebook) and epoch lines, 2 epoch lines;
                ``"auto"`` means 1.
            callbacks: list of ``tinyrec.callbacks.Callback``.
            validation_split: fraction of the data, taken from the end before shuffling, held out
                to compute ``val_loss``/``val_<metric>`` after each epoch.
            validation_data: ``(x_val, y_val)``; overrides ``validation_split``.
            shuffle: reshuffle the training rows every epoch.

        Returns:
            ``History`` whose ``.history`` maps ``"loss"``, each metric and their ``val_`` versions to
            a list with one value per epoch.
        """
        owner = f"{self.name}.fit"
        if not self.compiled:
            raise RuntimeError(f"{self.name}: call compile(optimizer=..., loss=...) before fit().")
        batch_size = 32 if batch_size is None else _checks.positive_int(owner, "batch_size", batch_size)
        epochs = _checks.non_negative_int(owner, "epochs", epochs)
        validation_split = _checks.unit_interval(owner, "validation_split", validation_split)
        verbose = 1 if verbose == "auto" else _checks.one_of(owner, "verbose", verbose, (0, 1, 2))
        shuffle = _checks.flag(owner, "shuffle", shuffle)
        if x is None or y is None:
            raise ValueError(f"{owner}: both x and y are required.")

        x, y = self._prepare(x, y, "fit")
        n = _n_rows(x)
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
                raise ValueError(f"{owner}: validation_data must be a tuple (x_val, y_val).")
            x_val, y_val = self._prepare(validation_data[0], validation_data[1], "fit(validation_data)")
            if _n_rows(x_val) == 0:
                raise ValueError(f"{owner}: validation_data has 0 rows; pass None to train without validation.")
        elif validation_split > 0:
            n_val = int(n * validation_split)
            if n_val == 0 or n_val == n:
                raise ValueError(f"{owner}: validation_split={validation_split} of {n} rows leaves "
                                 "an empty training or validation set.")
            cut = n - n_val
            x, x_val = _take(x, slice(0, cut)), _take(x, slice(cut, n))
            y, y_val = y[:cut], y[cut:]
            n = cut
        else:
            x_val = y_val = None
        if n == 0:
            raise ValueError(f"{owner}: no training data (0 rows).")

        steps = -(-n // batch_size)
        history = History()
        cbs = [history, *_user_callbacks(callbacks)]
        if verbose:
            cbs.append(ProgbarLogger(verbose))
        cb = CallbackList(cbs, self, {"epochs": epochs, "steps": steps, "verbose": verbose})

        # The NaN guard: unless the user brings their own TerminateOnNaN, each epoch's outputs are checked
        # when it ends, and a NaN or infinite loss raises an error naming the epoch and the first bad batch.
        guard = not any(isinstance(c, TerminateOnNaN) for c in cbs)
        self.stop_training = False
        self.history = history
        cb.on_train_begin()
        # A diverging run overflows before its loss turns inf/NaN; the NaN guard then stops it with a clear
        # message naming the epoch and batch, so NumPy's own overflow warnings would only add noise.
        # One BLAS thread for the small matrices of a training step (tinyrec/_blas.py gives the measurements).
        with np.errstate(over="ignore", invalid="ignore"), blas_threads():
            self._run_epochs(x, y, x_val, y_val, n, batch_size, epochs, shuffle, cb, guard)
        cb.on_train_end()
        return history

    def _run_epochs(self, x, y, x_val, y_val, n, batch_size, epochs, shuffle, cb, guard):
        batch_logs = cb.wants_batch_logs
        keep = _EpochOutputs.fits(self, n)
        for epoch in range(epochs):
            cb.on_epoch_begin(epoch)
            xe, ye = self._epoch_data(epoch, x, y)
            if shuffle:
                order = self._shuffle_rng.permutation(n)
                xe, ye = _take(xe, order), ye[order]  # one copy per epoch; batches are then cheap views
            outputs = _EpochOutputs(self, keep, guard)
            for step, start in enumerate(range(0, n, batch_size)):
                xb, yb = _take(xe, slice(start, start + batch_size)), ye[start:start + batch_size]
                cb.on_train_batch_begin(step)
                y_pred = self._train_step(xb, yb)                                     # 1.-4. one step
                outputs.add(yb, y_pred)                                               # 5. bookkeeping
                if batch_logs:
                    cb.on_train_batch_end(step, _BatchLogs(outputs, ye, yb))
                if self.stop_training:
                    break
            logs = outputs.result(epoch, ye)
            if x_val is not None:
                logs.update({f"val_{k}": v for k, v in self._evaluate_prepared(x_val, y_val, None).items()})
            logs.update(self._extra_validation_logs())
            cb.on_epoch_end(epoch, logs)
            if self.stop_training:
                break

    # -- evaluate / predict --------------------------------------------------------------------
    def _evaluate_prepared(self, x, y, batch_size):
        n = _n_rows(x)
        batch_size = batch_size or 1024
        outputs = _EpochOutputs(self, _EpochOutputs.fits(self, n), guard=False)
        for start in range(0, n, batch_size):
            yb = y[start:start + batch_size]
            outputs.add(yb, self.forward(_take(x, slice(start, start + batch_size)), training=False))
        return outputs.result(None, y)

    def evaluate(self, x=None, y=None, batch_size=None, verbose=0, return_dict=False):
        """Loss (and compiled metrics) on ``(x, y)``, as Keras returns them. Forward passes only.

        Returns the loss as a float when no metrics were compiled, else ``[loss, metric1, ...]``;
        with ``return_dict=True`` a dict ``{"loss": ..., "accuracy": ...}``. The loss is the mean over
        all rows, the same quantity ``fit`` reports. ``batch_size`` (default 1024) only changes speed.
        """
        owner = f"{self.name}.evaluate"
        if batch_size is not None:
            batch_size = _checks.positive_int(owner, "batch_size", batch_size)
        _checks.one_of(owner, "verbose", verbose, (0, 1, 2))
        x, y = self._prepare(x, y, "evaluate")
        if _n_rows(x) == 0:
            raise ValueError(f"{owner}: no data (0 rows).")
        result = self._evaluate_prepared(x, y, batch_size)
        if verbose:
            from .callbacks import format_logs
            print(format_logs(result))
        if return_dict:
            return result
        return result["loss"] if len(result) == 1 else list(result.values())

    def predict(self, x, batch_size=None, verbose=0):
        """Outputs for ``x`` (inference mode: dropout off), ``(n, units)``; batched, default 1024 rows."""
        owner = f"{self.name}.predict"
        batch_size = 1024 if batch_size is None else _checks.positive_int(owner, "batch_size", batch_size)
        x = self._check_inputs(x, "predict")
        self._ensure_built(x)
        n = _n_rows(x)
        parts = [self.forward(_take(x, slice(s, s + batch_size)), training=False)
                 for s in range(0, n, batch_size)]
        if not parts:
            return np.zeros(self.output_shape_for(0), dtype=self.dtype)
        return np.concatenate(parts).astype(self.dtype, copy=False)

    def __call__(self, x, training=False):
        x = self._check_inputs(x, "__call__")
        self._ensure_built(x)
        return self.forward(x, training=training)

    # -- weights -------------------------------------------------------------------------------
    def _require_built(self, where):
        if not self.built:
            raise RuntimeError(
                f"{self.name}.{where}: the model has no weights yet. Give the first layer input_dim=..., "
                "call model.build(input_shape), or fit/predict on some data first."
            )

    def get_weights(self) -> list[np.ndarray]:
        """Copies of every parameter, layer by layer, in ``layer.params`` order (Keras' name)."""
        self._require_built("get_weights")
        return [w for layer in self.layers for w in layer.get_weights()]

    def set_weights(self, weights):
        """Set every parameter from a list as returned by ``get_weights`` (copied in place)."""
        self._require_built("set_weights")
        weights = list(weights)
        expected = sum(len(layer.params) for layer in self.layers)
        if len(weights) != expected:
            raise ValueError(f"{self.name}.set_weights: expected {expected} arrays; got {len(weights)}.")
        i = 0
        for layer in self.layers:
            k = len(layer.params)
            layer.set_weights(weights[i:i + k])
            i += k

    def _weight_entries(self):
        """``{"003.dense_2.kernel": array, ...}``: position first, so names need not match on load."""
        return {f"{i:03d}.{layer.name}.{k}": p
                for i, layer in enumerate(self.layers) for k, p in layer.params.items()}

    def save(self, path):
        """Save the whole model — architecture, weights, fitted state, compile settings — to one file
        (``tinyrec.saving.save_model``; Keras' ``model.save``). ``tinyrec.models.load_model(path)`` reads it."""
        from .saving import save_model
        return save_model(self, path)

    def save_weights(self, path):
        """Write every parameter to ``path`` (``.npz`` added if missing), atomically, without pickle.

        The file is written under no name, flushed to disk, then renamed over the target, so a crash can never
        leave a half-written file under the real name. Returns the path written.
        """
        self._require_built("save_weights")
        from .saving import save_weights
        return save_weights(self, path)

    def load_weights(self, path):
        """Load parameters saved by ``save_weights`` (exact round trip; no pickle).

        Raises ``FileNotFoundError`` if the file is missing, and ``tinyrec.saving.SavedModelError`` (a
        ``ValueError``) if it is corrupt, not a tinyrec weights file, holds NaN, or was saved from a different
        architecture (the message lists both). Shapes are checked before any array data is read.
        """
        self._require_built("load_weights")
        from .saving import load_weights
        load_weights(self, path)

    # -- summary -------------------------------------------------------------------------------
    def count_params(self) -> int:
        return sum(layer.count_params() for layer in self.layers)

    def summary(self, print_fn=print):
        """Print a table of the layers, their output shapes and parameter counts."""
        self._require_built("summary")
        rows = self._summary_rows()
        header = ("Layer (type)", self._summary_shape_title, "Param #")
        widths = [max(len(header[c]), *(len(r[c]) for r in rows)) + 2 for c in range(3)]
        line = "─" * sum(widths)
        fmt = lambda r: f"{r[0]:<{widths[0]}}{r[1]:<{widths[1]}}{r[2]:>{widths[2]}}"  # noqa: E731
        total = self.count_params()
        print_fn("\n".join([f'Model: "{self.name}"', line, fmt(header), line.replace("─", "═"),
                            *map(fmt, rows), line, f"Total params: {total:,}",
                            f"Trainable params: {total:,}", "Non-trainable params: 0"]))

    _summary_shape_title = "Weights"

    def _summary_rows(self):
        # A model with several inputs has no single chain of output shapes; show each layer's weights.
        return [(f"{layer.name} ({type(layer).__name__})",
                 ", ".join(f"{k} {p.shape}" for k, p in layer.params.items()) or "-", f"{layer.count_params():,}")
                for layer in self.layers]

    def output_shape_for(self, n):
        raise NotImplementedError


def _user_callbacks(callbacks):
    if callbacks is None:
        return []
    return [callbacks] if not isinstance(callbacks, (list, tuple)) else list(callbacks)


class Sequential(Model):
    """A stack of layers, each feeding the next: the article's multilayer perceptron (多层感知机).

    ``forward``: ``a⁰ = x``, ``aˡ = layerˡ.forward(aˡ⁻¹)``, ``ŷ = aᴸ``.
    ``backward``: ``gᴸ = dL/dŷ``, then ``gˡ⁻¹ = layerˡ.backward(gˡ)`` from the top layer down — the chain
    rule (链式法则), one layer at a time. Shapes: ``x (batch, input_dim)`` → ``ŷ (batch, units of last)``.

    Sequences work as in Keras: ``Embedding`` first takes integer ids ``(batch, time)`` (kept int64, never cast
    to float) and gives ``(batch, time, dim)``; ``GRU``/``SimpleRNN``/``Conv1D`` + pooling read such 3-D
    tensors; ``Embedding(..., mask_zero=True)``'s mask of real steps is handed to every later layer with
    ``supports_masking`` (see ``forward``).

    Example (the article's model)::

        model = Sequential()
        model.add(Dense(units=64, activation='relu', input_dim=100))
        model.add(Dense(units=32, activation='relu'))
        model.add(Dense(units=1, activation='sigmoid'))
        model.compile(loss='binary_crossentropy', optimizer='adam', metrics=['accuracy'])
        history = model.fit(x_train, y_train, batch_size=32, epochs=10)
    """

    def __init__(self, layers=None, seed=None, dtype="float32", name=None):
        super().__init__(seed=seed, dtype=dtype, name=name or "sequential")
        for layer in layers or []:
            self.add(layer)

    def add(self, layer):
        """Append a layer; if the first layer knows its input size, build the model right away."""
        if not isinstance(layer, Layer):
            raise TypeError(f"{self.name}.add: expected a tinyrec Layer; got {layer!r}.")
        if any(existing is layer for existing in self.layers):
            raise ValueError(f"{self.name}.add: layer {layer.name!r} is already in this model; a layer holds one "
                             "set of weights and one cached forward pass, so create a new one "
                             f"(e.g. {type(layer).__name__}(...)) to stack another.")
        if self.built:
            shape = self.layers[-1].compute_output_shape(self._output_shapes[-1])
            layer.build(shape, rng=self._init_rng, dtype=self.dtype)
            self.layers.append(layer)
            self._output_shapes.append(layer.compute_output_shape(shape))
            self._setup_fusion()
            return
        self.layers.append(layer)
        if len(self.layers) == 1 and layer.input_shape is not None:
            self.build(layer.input_shape)

    @property
    def output_layer(self):
        return self.layers[-1] if self.layers else None

    @property
    def input_dim(self):
        return self._input_shape[-1] if self.built else None

    def build(self, input_shape):
        """Create every layer's parameters for inputs of ``input_shape``, e.g. ``(None, 100)``."""
        if not self.layers:
            raise ValueError(f"{self.name}: add layers before building the model.")
        shape = (None, *tuple(input_shape)[1:])
        self._input_shape = shape
        self._output_shapes = []
        for layer in self.layers:
            if not layer.built or layer.dtype != self.dtype:
                layer.params, layer.grads = {}, {}
                layer.build(shape, rng=self._init_rng, dtype=self.dtype)
            shape = layer.compute_output_shape(shape)
            self._output_shapes.append(shape)
        self.layers[0].needs_input_grad = False  # its input is data: nobody needs dL/dx
        self.built = True
        self._setup_fusion()

    def _ensure_built(self, x):
        if not self.built:
            self.build(x.shape)

    def output_shape_for(self, n):
        return (n, *self._output_shapes[-1][1:])

    def _check_inputs(self, x, where):
        if self.layers and isinstance(self.layers[0], Embedding):
            # Ids stay int64 end to end: a float32 cast would round an id above 2**24 to a neighbouring row.
            return self.layers[0].check_ids(x)
        try:
            x = np.asarray(x)
            if x.dtype.kind == "c":  # a cast would drop the imaginary part with only a warning
                raise ValueError(f"got complex values (dtype {x.dtype}); x must be real")
            x = x.astype(self.dtype, copy=False)
        except (TypeError, ValueError) as err:
            raise ValueError(f"{self.name}.{where}: x must be numeric; {err}") from None
        if x.ndim == 1 and self.built and self._input_shape[-1] == 1:
            x = x.reshape(-1, 1)
        ndim = len(self._input_shape) if self.built else None
        if x.ndim not in ((ndim,) if ndim else (2, 3)):
            wanted = "3-D (samples, time, features)" if ndim == 3 else "2-D (samples, features)"
            raise ValueError(f"{self.name}.{where}: x must be {wanted}; got shape {x.shape}.")
        if self.built and x.shape[-1] != self._input_shape[-1]:
            raise ValueError(
                f"{self.name}.{where}: expected inputs with {self._input_shape[-1]} features (first layer "
                f"{self.layers[0].name!r}); got shape {x.shape}."
            )
        if not np.isfinite(x).all():
            bad = np.argwhere(~np.isfinite(x))[0]
            raise ValueError(f"{self.name}.{where}: x contains NaN or inf (first at row {bad[0]}, "
                             f"column {bad[-1]}).")
        return x

    def forward(self, x, training=False):
        mask = None  # (batch, time) bool: True at real steps; set by Embedding(mask_zero=True)
        for layer in self.layers:
            if layer.supports_masking:  # GRU, Conv1D, pooling: use the mask, say what it is after them
                x = layer.forward(x, training, mask=mask)
                mask = layer.output_mask
            else:  # Dense ends a sequence anyway; Dropout and Activation act step by step: mask unchanged
                x = layer.forward(x, training)
        return x

    def backward(self, grad, from_logits=False):
        """Backpropagate ``grad = dL/dŷ`` (or ``dL/dz`` of the output layer when ``from_logits``).

        Masks need nothing here: each layer cached the mask of its forward pass and gives padded steps
        no gradient.
        """
        layers = self.layers
        top = layers[-1]
        grad = top.backward_from_logits(grad) if from_logits else top.backward(grad)
        for layer in reversed(layers[:-1]):
            grad = layer.backward(grad)
        return grad

    _summary_shape_title = "Output Shape"

    def _summary_rows(self):
        return [(f"{layer.name} ({type(layer).__name__})", str(shape), f"{layer.count_params():,}")
                for layer, shape in zip(self.layers, self._output_shapes)]


def load_model(path):
    """Read a model saved with ``model.save(path)`` (see ``tinyrec.saving``); Keras' ``load_model``."""
    from .saving import load_model as _load
    return _load(path)
