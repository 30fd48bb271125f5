"""Engine overhead on the article's model: tinyrec vs a bare hand-written NumPy loop (and, if installed,
PyTorch and Keras), same data and architecture, timed in the same run.

    python benchmarks/bench_seed_model.py            # 20,000 x 100 float32 rows, batch 32, 3 epochs
    python benchmarks/bench_seed_model.py --epochs 5 --repeats 5

The model is 100 → Dense(64, relu) → Dense(32, relu) → Dense(1, sigmoid), binary cross-entropy, Adam
(lr 1e-3), batch 32, shuffled every epoch. tinyrec runs with ``metrics=['accuracy']``, once with
``verbose=0`` and once with ``verbose=1`` drawing its live progress bar (into a terminal-like sink, so the
bar's per-batch loss is computed as it would be on screen).
The bare loop is the floor a NumPy engine can reach: only the arithmetic training needs — forward, the
fused sigmoid + cross-entropy gradient, backward, Adam — with no loss value, no metric, no layers, no
callbacks. Each contender's time is the median over ``--repeats`` runs; the ratio is contender ÷ bare NumPy.
Targets (issue 8): tinyrec ≤ 1.1× at ``verbose=0``, ≤ 1.2× at ``verbose=1``.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import os
import statistics
import time

import numpy as np


def make_data(n=20_000, d=100, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)).astype(np.float32)
    w = rng.standard_normal(d).astype(np.float32)
    y = (x @ w + rng.standard_normal(n).astype(np.float32) > 0).astype(np.float32).reshape(-1, 1)
    return x, y


def bare_numpy(x, y, epochs, batch_size=32, seed=0):
    """The hand-written floor: forward, fused sigmoid+BCE gradient, backward, Adam — nothing else (not
    even the loss value: training does not need it)."""
    rng = np.random.default_rng(seed)
    sizes = [(100, 64), (64, 32), (32, 1)]
    params = []
    for fan_in, fan_out in sizes:
        lim = np.sqrt(6 / (fan_in + fan_out))
        params += [rng.uniform(-lim, lim, (fan_in, fan_out)).astype(np.float32), np.zeros(fan_out, np.float32)]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    lr, b1, b2, eps, t = 1e-3, 0.9, 0.999, 1e-7, 0
    n = len(x)
    for _ in range(epochs):
        order = rng.permutation(n)
        xs, ys = x[order], y[order]
        for s in range(0, n, batch_size):
            xb, yb = xs[s:s + batch_size], ys[s:s + batch_size]
            w1, b1_, w2, b2_, w3, b3 = params
            z1 = xb @ w1 + b1_
            a1 = np.maximum(z1, 0)
            z2 = a1 @ w2 + b2_
            a2 = np.maximum(z2, 0)
            z3 = a2 @ w3 + b3
            dz3 = (1 / (1 + np.exp(-z3)) - yb) / len(xb)
            dz2 = (dz3 @ w3.T) * (z2 > 0)
            dz1 = (dz2 @ w2.T) * (z1 > 0)
            grads = [xb.T @ dz1, dz1.sum(0), a1.T @ dz2, dz2.sum(0), a2.T @ dz3, dz3.sum(0)]
            t += 1
            alpha = lr * np.sqrt(1 - b2**t) / (1 - b1**t)
            for p, g, mi, vi in zip(params, grads, m, v):
                mi += (g - mi) * (1 - b1)
                vi += (g * g - vi) * (1 - b2)
                p -= alpha * mi / (np.sqrt(vi) + eps)
    return params


class _TerminalSink(io.StringIO):
    """Swallows output but says it is a terminal, so ``verbose=1`` draws (and pays for) its live bar."""

    def isatty(self):
        return True


def tinyrec_bar_run(x, y, epochs, batch_size=32, seed=0):
    with contextlib.redirect_stdout(_TerminalSink()):
        tinyrec_run(x, y, epochs, batch_size, seed, verbose=1)


def tinyrec_run(x, y, epochs, batch_size=32, seed=0, verbose=0):
    from tinyrec.layers import Dense
    from tinyrec.models import Sequential

    model = Sequential(seed=seed)
    model.add(Dense(units=64, activation="relu", input_dim=100))
    model.add(Dense(units=32, activation="relu"))
    model.add(Dense(units=1, activation="sigmoid"))
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=verbose)


def torch_run(x, y, epochs, batch_size=32, seed=0):
    import torch

    torch.manual_seed(seed)
    torch.set_num_threads(1)
    net = torch.nn.Sequential(torch.nn.Linear(100, 64), torch.nn.ReLU(), torch.nn.Linear(64, 32),
                              torch.nn.ReLU(), torch.nn.Linear(32, 1))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-7)
    lossf = torch.nn.BCEWithLogitsLoss()
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    g = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        order = torch.randperm(len(xt), generator=g)
        for s in range(0, len(xt), batch_size):
            idx = order[s:s + batch_size]
            opt.zero_grad()
            loss = lossf(net(xt[idx]), yt[idx])
            loss.backward()
            opt.step()


def keras_run(x, y, epochs, batch_size=32, seed=0):
    import keras

    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((100,)), keras.layers.Dense(64, activation="relu"),
                              keras.layers.Dense(32, activation="relu"), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0)


def timed(fn, *args, repeats=3):
    """Median CPU seconds of this process (``time.process_time``) over ``repeats`` runs.

    CPU time, not wall time: on a shared machine other processes stretch wall time at random, while the
    CPU time a run itself uses barely moves. Every contender runs single-threaded (BLAS and PyTorch limited
    to one thread), so its CPU time is its compute time.
    """
    times = []
    for _ in range(repeats):
        start = time.process_time()
        fn(*args)
        times.append(time.process_time() - start)
    return statistics.median(times)


def _single_threaded_blas():
    """One BLAS thread for every contender (threadpoolctl when installed, else the environment variables
    are only a hint read at import): at these matrix sizes a second thread costs more than it saves."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(1)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    _single_threaded_blas()
    x, y = make_data(args.rows)
    print(f"seed model on {args.rows:,} x 100 float32 rows, batch 32, {args.epochs} epochs, "
          f"median CPU seconds of {args.repeats} runs (alternating order)")
    contenders = {"bare NumPy loop": bare_numpy, "tinyrec": tinyrec_run, "tinyrec verbose=1": tinyrec_bar_run}
    if importlib.util.find_spec("tensorflow") is None and importlib.util.find_spec("torch") is not None:
        os.environ.setdefault("KERAS_BACKEND", "torch")  # Keras 3 on PyTorch when TensorFlow is absent
    for name, fn in (("PyTorch (CPU)", torch_run), ("Keras", keras_run)):
        try:
            __import__("torch" if name.startswith("PyTorch") else "keras")
            contenders[name] = fn
        except Exception:  # noqa: BLE001 - missing or broken installs are simply skipped
            print(f"({name} not installed: skipped)")
    # Interleave runs so slow drifts of a shared machine hit every contender alike.
    times = {name: [] for name in contenders}
    for _ in range(args.repeats):
        for name, fn in contenders.items():
            times[name].append(timed(fn, x, y, args.epochs, repeats=1))
    base = statistics.median(times["bare NumPy loop"])
    print(f"{'contender':<20}{'seconds':>10}{'s/epoch':>10}{'ratio':>8}")
    for name, ts in times.items():
        t = statistics.median(ts)
        print(f"{name:<20}{t:>10.3f}{t / args.epochs:>10.3f}{t / base:>8.2f}")
    ratio = statistics.median(times["tinyrec"]) / base
    bar = statistics.median(times["tinyrec verbose=1"]) / base
    print(f"tinyrec overhead: {ratio:.2f}x the bare loop at verbose=0 (target <= 1.1), {bar:.2f}x at verbose=1 "
          "(target <= 1.2)")
    return ratio


if __name__ == "__main__":
    main()
