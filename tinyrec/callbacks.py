"""Callbacks (回调): code that ``fit`` runs at the start and end of training, epochs and batches.

Same hooks and names as Keras: ``on_train_begin``, ``on_epoch_begin``, ``on_train_batch_end``,
``on_epoch_end``, ``on_train_end``; a callback stops training by setting ``model.stop_training = True``.

* ``History`` records every epoch's logs; ``fit`` always adds one and returns it.
* ``EarlyStopping`` stops when a monitored value stops improving, optionally restoring the best weights.
* ``TerminateOnNaN`` is the NaN guard: ``fit`` always adds one; by default it raises
  ``NonFiniteLossError`` naming the epoch and batch where the loss stopped being a finite number.
* ``ProgbarLogger`` prints progress (``fit`` adds one unless ``verbose=0``).
"""

from __future__ import annotations

import math
import sys
import time

from . import _checks


class NonFiniteLossError(FloatingPointError):
    """Training produced a NaN or infinite loss."""


class Callback:
    """Base class: every hook does nothing. ``self.model`` is set by ``fit`` before training."""

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_train_begin(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_train_batch_begin(self, batch, logs=None):
        pass

    def on_train_batch_end(self, batch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass


class History(Callback):
    """Records the logs of every epoch: ``history.history["loss"]`` is the list of epoch losses.

    Attributes: ``history`` (dict name → list of floats, one per epoch), ``epoch`` (list of epoch
    indices), ``params`` (``epochs``, ``steps``, ``verbose``), ``model``.
    """

    def __init__(self):
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []
        self.params = {}

    def on_train_begin(self, logs=None):
        self.epoch = []  # a model's History is per call of fit, as in Keras

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)

    def __repr__(self):
        return f"History(epochs={len(self.epoch)}, keys={list(self.history)})"


class TerminateOnNaN(Callback):
    """The NaN guard: stop as soon as a batch's loss is NaN or infinite.

    Args:
        raise_error: if True (the default ``fit`` installs), raise ``NonFiniteLossError`` with the epoch
            and batch; if False, print the same message and stop training gracefully (Keras' behaviour).
    """

    def __init__(self, raise_error=True):
        self.raise_error = _checks.flag("TerminateOnNaN", "raise_error", raise_error)
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        loss = logs.get("loss") if logs else None
        if loss is not None and not math.isfinite(loss):
            message = (
                f"Loss became {loss} at epoch {self._epoch + 1}, batch {batch + 1}; training stopped. "
                "Usual causes: a learning rate too large (try 10x smaller), unscaled inputs, or NaN in the data."
            )
            if self.raise_error:
                raise NonFiniteLossError(message)
            print(message, file=sys.stderr)
            self.model.stop_training = True


class EarlyStopping(Callback):
    """Stop training when ``monitor`` has not improved for ``patience`` epochs (早停).

    The arguments have Keras' names and defaults.

    Args:
        monitor: a key of the epoch logs, e.g. ``"val_loss"`` (needs validation data) or ``"loss"``.
        min_delta: an improvement smaller than this does not count.
        patience: epochs without improvement before stopping.
        mode: ``"min"``, ``"max"`` or ``"auto"`` (the direction the monitored metric declares through its
            ``higher_is_better`` attribute, ``tinyrec.metrics.direction``).
        restore_best_weights: at the end, put back the weights of the best epoch.
        baseline: stop if the value does not beat this.
        start_from_epoch: epochs of warm-up before counting.
        verbose: 1 prints one line at the end of training saying when it stopped and which epoch's weights
            were restored (Keras prints two).

    Attributes after training: ``stopped_epoch`` (0 if never stopped), ``best``, ``best_epoch``.
    """

    def __init__(self, monitor="val_loss", min_delta=0.0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0):
        owner = "EarlyStopping"
        if not isinstance(monitor, str) or not monitor:
            raise TypeError(f"{owner}: monitor must be the name of a logged value, e.g. 'val_loss'; got {monitor!r}.")
        _checks.one_of(owner, "mode", mode, ("auto", "min", "max"))
        self.monitor = monitor
        self.min_delta = abs(_checks.real(owner, "min_delta", min_delta))
        self.patience = _checks.non_negative_int(owner, "patience", patience)
        self.verbose = _checks.one_of(owner, "verbose", verbose, (0, 1, 2))
        self.baseline = None if baseline is None else _checks.real(owner, "baseline", baseline)
        self.restore_best_weights = _checks.flag(owner, "restore_best_weights", restore_best_weights)
        self.start_from_epoch = _checks.non_negative_int(owner, "start_from_epoch", start_from_epoch)
        self.mode = mode  # "auto" is resolved when training starts, from the monitored metric itself
        self._auto = mode == "auto"

    def _resolve_mode(self):
        """``mode="auto"``: the direction the monitored metric declares (its ``higher_is_better``, see
        ``tinyrec.metrics.direction``) — never guessed from substrings of its name."""
        from . import metrics
        key = self.monitor[4:] if self.monitor.startswith("val_") else self.monitor
        for name, fn in getattr(getattr(self, "model", None), "metric_fns", None) or []:
            if name == key and isinstance(getattr(fn, "higher_is_better", None), bool):
                return "max" if fn.higher_is_better else "min"
        try:
            return metrics.direction(self.monitor)
        except (TypeError, ValueError) as err:
            raise ValueError(f"EarlyStopping: cannot tell whether {self.monitor!r} should go up or down ({err}); "
                             "pass mode='min' or mode='max'.") from None

    def _improved(self, value, reference):
        if self.mode == "min":
            return value < reference - self.min_delta
        return value > reference + self.min_delta

    def on_train_begin(self, logs=None):
        if self._auto:
            self.mode = self._resolve_mode()
        self.wait = 0
        self.stopped_epoch = 0
        self.best_epoch = 0
        self.best = math.inf if self.mode == "min" else -math.inf
        if self.baseline is not None:
            self.best = self.baseline
        self.best_weights = None
        self._epochs_seen = 0

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.monitor not in logs:
            raise ValueError(
                f"EarlyStopping: monitor={self.monitor!r} is not in the epoch logs; available: {sorted(logs)}. "
                "For 'val_...' values pass validation_data or validation_split to fit."
            )
        self._epochs_seen = epoch + 1
        if epoch < self.start_from_epoch:
            return
        value = logs[self.monitor]
        if self._improved(value, self.best):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        restore = self.restore_best_weights and self.best_weights is not None
        if self.verbose:
            print(self._report(restore))
        if restore:
            self.model.set_weights(self.best_weights)

    def _report(self, restore):
        """One line saying what early stopping did, e.g. ``stopped after epoch 10 (val_loss did not improve
        for 3 epochs); restored the weights of epoch 7 (val_loss 0.4120).`` Epochs count from 1, as printed."""
        if self.stopped_epoch:
            what = (f"Early stopping: stopped after epoch {self.stopped_epoch + 1} ({self.monitor} did not improve "
                    f"for {self.wait} epoch{'s' if self.wait != 1 else ''})")
        else:
            n = self._epochs_seen
            what = f"Early stopping: not triggered; trained all {n} epoch{'s' if n != 1 else ''}"
        if restore:
            return f"{what}; restored the weights of epoch {self.best_epoch + 1} ({self.monitor} {self.best:.4f})."
        if not self.stopped_epoch:
            return f"{what}; kept the last epoch's weights."
        return f"{what}; kept the last epoch's weights (best was epoch {self.best_epoch + 1})."


def _interactive(stream) -> bool:
    """True in a terminal or a Jupyter notebook, where a bar redrawn with ``\\r`` looks right."""
    if "ipykernel" in sys.modules:
        return True
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def format_logs(logs) -> str:
    """``loss: 0.4213 - accuracy: 0.8125``: four decimals, as Keras prints."""
    return " - ".join(f"{k}: {v:.4f}" for k, v in logs.items())


class ProgbarLogger(Callback):
    """Keras-style progress output.

    ``verbose=1``: in a terminal or notebook a live bar redrawn in place (at most ten times a second,
    so drawing costs nothing measurable), then the epoch line; elsewhere (logs, CI) only the epoch line.
    ``verbose=2``: only one line per epoch: ``Epoch 3/10 - 0.41s - loss: 0.4213 - accuracy: 0.8125``.
    """

    BAR_WIDTH = 30
    REFRESH_SECONDS = 0.1

    def __init__(self, verbose=1, stream=None):
        self.verbose = verbose
        self.stream = stream

    def on_train_begin(self, logs=None):
        self._out = self.stream or sys.stdout
        self._live = self.verbose == 1 and _interactive(self._out)
        self.wants_batch_logs = self._live  # the epoch line alone needs no per-batch loss

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._start = self._last_draw = time.perf_counter()
        self._loss_sum = 0.0
        if self._live:
            self._out.write(f"Epoch {epoch + 1}/{self.params['epochs']}\n")

    def on_train_batch_end(self, batch, logs=None):
        if not self._live:
            return
        logs = logs or {}
        mean_so_far = getattr(logs, "epoch_mean_loss", None)  # fit's logs compute it on demand
        if mean_so_far is None:  # plain dict logs (a loop written by hand): add up every batch's loss
            self._loss_sum += logs.get("loss", math.nan)
        now = time.perf_counter()
        steps = self.params["steps"]
        if now - self._last_draw < self.REFRESH_SECONDS and batch + 1 < steps:
            return
        self._last_draw = now
        done = int(self.BAR_WIDTH * (batch + 1) / steps)
        bar = "█" * done + "·" * (self.BAR_WIDTH - done)
        loss = mean_so_far() if mean_so_far is not None else self._loss_sum / (batch + 1)
        self._out.write(f"\r{batch + 1}/{steps} {bar} {now - self._start:.1f}s - loss: {loss:.4f}")
        self._out.flush()

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.perf_counter() - self._start
        steps = self.params["steps"]
        line = f"{steps}/{steps} - {seconds:.2f}s - {format_logs(logs or {})}"
        if self._live:
            self._out.write("\r" + line + " " * 10 + "\n")
        else:
            self._out.write(f"Epoch {epoch + 1}/{self.params['epochs']} - {seconds:.2f}s - "
                            f"{format_logs(logs or {})}\n")
        self._out.flush()


def _ensure_list(callbacks):
    if callbacks is None:
        return []
    if isinstance(callbacks, Callback):
        return [callbacks]
    callbacks = list(callbacks)
    for cb in callbacks:
        if not isinstance(cb, Callback):
            raise TypeError(f"callbacks must be Callback instances; got {cb!r}.")
    return callbacks


class CallbackList:
    """Calls one hook on every callback, in order. Used by ``fit``; not needed in user code."""

    def __init__(self, callbacks, model, params):
        self.callbacks = _ensure_list(callbacks)
        for cb in self.callbacks:
            cb.set_model(model)
            cb.set_params(params)
        self._batch_begin, self._batch_end = [], []

    @property
    def wants_batch_logs(self) -> bool:
        """Whether some callback reads each batch's loss (fit computes it only then)."""
        return bool(self._batch_end)

    def on_train_begin(self, logs=None):
        for cb in self.callbacks:
            cb.on_train_begin(logs)
        # Only callbacks that override a per-batch hook (and, like a progress bar that is not drawn, do not
        # decline it with ``wants_batch_logs = False``) are called per batch: the hot path stays bare.
        self._batch_begin = [cb.on_train_batch_begin for cb in self.callbacks
                             if type(cb).on_train_batch_begin is not Callback.on_train_batch_begin]
        self._batch_end = [cb.on_train_batch_end for cb in self.callbacks
                           if type(cb).on_train_batch_end is not Callback.on_train_batch_end
                           and getattr(cb, "wants_batch_logs", True)]

    def on_train_batch_begin(self, batch, logs=None):
        for hook in self._batch_begin:
            hook(batch, logs)

    def on_epoch_begin(self, epoch, logs=None):
        for cb in self.callbacks:
            cb.on_epoch_begin(epoch, logs)

    def on_train_batch_end(self, batch, logs):
        for hook in self._batch_end:
            hook(batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        for cb in self.callbacks:
            cb.on_epoch_end(epoch, logs)

    def on_train_end(self, logs=None):
        for cb in self.callbacks:
            cb.on_train_end(logs)


__all__ = ["Callback", "History", "EarlyStopping", "TerminateOnNaN", "ProgbarLogger", "NonFiniteLossError",
           "CallbackList"]
