"""Seconds per NeuMF epoch on real MovieLens 100K: tinyrec vs PyTorch (vs a plain NumPy loop), same run.

    TINYREC_DATA=/path/to/data python benchmarks/bench_neumf_epoch.py             # 7 alternating repeats
    TINYREC_DATA=/path/to/data python benchmarks/bench_neumf_epoch.py --repeats 9 --bare --profile

The measurement of ``bench_movielens.py``'s "NeuMF seconds per epoch" (issue 8), on its own: tinyrec's
default NeuMF (k = 16, MLP 64-32-16) on the leave-latest-out training rows of ML-100K, batch 256, 4 negatives
per positive, Adam; PyTorch's ``TorchNeuMF`` / ``torch_neumf_epoch`` are imported from ``bench_movielens.py``
(one PyTorch thread). Contenders alternate and each figure is the median of ``--repeats`` runs in CPU seconds
of this process (``time.process_time``) with one BLAS thread: CPU time barely moves when other processes
share the machine, wall time does.

What each contender's epoch includes:

* tinyrec: ``NeuMF.fit(epochs=1, early_stopping=False)``, timed from ``on_epoch_begin`` to ``on_epoch_end``
  (as ``bench_movielens.py`` does): shuffling, every batch, the epoch's loss value. Its negatives were drawn
  by ``fit`` before the epoch; the column "fit" times the whole call, sampling and set-up included.
* PyTorch: ``torch_neumf_epoch``: sampling (tinyrec's sampler), shuffling, every batch. No loss value.
* plain NumPy (``--bare``): NeuMF written out the straightforward way, nothing but the arithmetic of a
  step: forward, fused sigmoid + cross-entropy gradient, backward, row sums of the embedding gradients with
  ``np.unique`` + ``np.add.at`` and a lazy Adam step on the touched rows; no checks, layers, callbacks or
  loss value. Not a floor: tinyrec's row sums and fused updates are faster than this textbook version.

``--profile`` then runs one more tinyrec epoch under pyinstrument (if installed) and prints where it went.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_movielens import TorchNeuMF, torch, torch_neumf_epoch  # noqa: E402 (the same PyTorch contender)

K, LAYERS, BATCH, NEGATIVES = 16, (64, 32, 16), 256, 4


def ml100k_train():
    """``(users, items, n_users, n_items)``: the leave-latest-out training positives of ML-100K."""
    from tinyrec.datasets import leave_last_out, load_movielens

    data = load_movielens("ml-100k", download=False, verbose=False)
    train, _ = leave_last_out(data.user_ids, data.timestamps, seed=0)
    return data.user_ids[train], data.item_ids[train], data.n_users, data.n_items


class TinyrecContender:
    """One ``fit(epochs=1)`` per run on the same model; CPU seconds of the epoch and of the whole call."""

    def __init__(self, u, i, n_users, n_items):
        from tinyrec.callbacks import Callback
        from tinyrec.recommenders import NeuMF

        self.u, self.i = u, i
        self.model = NeuMF(n_users, n_items, n_factors=K, mlp_layers=LAYERS)
        self.epoch_seconds = []

        seconds = self.epoch_seconds

        class EpochTimer(Callback):
            def on_epoch_begin(self, epoch, logs=None):
                self.start = time.process_time()

            def on_epoch_end(self, epoch, logs=None):
                seconds.append(time.process_time() - self.start)

        self.timer = EpochTimer

    def __call__(self):
        self.model.fit(self.u, self.i, epochs=1, batch_size=BATCH, n_negatives=NEGATIVES, early_stopping=False,
                       verbose=0, callbacks=[self.timer()])


class TorchContender:
    def __init__(self, u, i, n_users, n_items):
        torch.set_num_threads(1)
        torch.manual_seed(0)
        self.u, self.i, self.n_items = u, i, n_items
        self.net = TorchNeuMF(n_users, n_items, k=K, layers=LAYERS)
        self.opt = torch.optim.Adam(self.net.parameters(), lr=0.001)
        self.rng = np.random.default_rng(0)

    def __call__(self):
        torch_neumf_epoch(self.net, self.opt, self.u, self.i, self.n_items, self.rng, n_negatives=NEGATIVES,
                          batch_size=BATCH)


class PlainNumpy:
    """A plain hand-written NeuMF epoch: the arithmetic only (see the module docstring). float32, lazy Adam."""

    def __init__(self, u, i, n_users, n_items, seed=0):
        self.u, self.i, self.n_users, self.n_items = u, i, n_users, n_items
        rng = self.rng = np.random.default_rng(seed)
        half = LAYERS[0] // 2
        # One table per side holding [GMF | MLP] columns, so each side is one lookup and one Adam step.
        self.tables = [(rng.standard_normal((n, K + half)) * 0.01).astype(np.float32) for n in (n_users, n_items)]
        self.dense = []
        for a, b in zip(LAYERS[:-1], LAYERS[1:]):
            lim = np.sqrt(6 / (a + b))
            self.dense += [rng.uniform(-lim, lim, (a, b)).astype(np.float32), np.zeros(b, np.float32)]
        lim = np.sqrt(6 / (K + LAYERS[-1] + 1))  # Glorot uniform, as the Dense layers
        self.dense += [rng.uniform(-lim, lim, (K + LAYERS[-1], 1)).astype(np.float32), np.zeros(1, np.float32)]
        self.m = [np.zeros_like(p) for p in self.tables + self.dense]
        self.v = [np.zeros_like(p) for p in self.tables + self.dense]
        self.t = 0

    def _adam_rows(self, p, m, v, rows, g, alpha, lr_terms):
        b1, b2, eps = lr_terms
        pr, mr, vr = p[rows], m[rows], v[rows]
        mr += (g - mr) * (1 - b1)
        vr += (g * g - vr) * (1 - b2)
        pr -= alpha * mr / (np.sqrt(vr) + eps)
        p[rows], m[rows], v[rows] = pr, mr, vr

    def __call__(self):
        from tinyrec.interactions import sample_negatives

        u, i = self.u, self.i
        neg = sample_negatives(u, self.n_items, NEGATIVES, u, i, seed=self.rng)
        users = np.concatenate([u, np.repeat(u, NEGATIVES)])
        items = np.concatenate([i, neg.reshape(-1)])
        y = np.concatenate([np.ones(len(u)), np.zeros(neg.size)]).astype(np.float32).reshape(-1, 1)
        order = self.rng.permutation(len(y))
        users, items, y = users[order], items[order], y[order]
        lr, b1, b2, eps = 0.002, 0.9, 0.999, 1e-7
        half = LAYERS[0] // 2
        for s in range(0, len(y), BATCH):
            ub, ib, yb = users[s:s + BATCH], items[s:s + BATCH], y[s:s + BATCH]
            eu, ei = self.tables[0][ub], self.tables[1][ib]
            gmf = eu[:, :K] * ei[:, :K]
            h = np.concatenate([eu[:, K:], ei[:, K:]], axis=1)
            acts = [h]
            for w, b in zip(self.dense[:-2:2], self.dense[1:-2:2]):
                h = np.maximum(h @ w + b, 0)
                acts.append(h)
            top = np.concatenate([gmf, h], axis=1)
            z = top @ self.dense[-2] + self.dense[-1]
            dz = (1 / (1 + np.exp(-z)) - yb) / len(yb)
            grads = [None] * len(self.dense)
            grads[-2], grads[-1] = top.T @ dz, dz.sum(0)
            dtop = dz @ self.dense[-2].T
            dg, dh = dtop[:, :K], dtop[:, K:]
            for j in range(len(acts) - 1, 0, -1):
                dh = dh * (acts[j] > 0)
                grads[2 * (j - 1)], grads[2 * (j - 1) + 1] = acts[j - 1].T @ dh, dh.sum(0)
                dh = dh @ self.dense[2 * (j - 1)].T
            du = np.concatenate([dg * ei[:, :K], dh[:, :half]], axis=1)
            di = np.concatenate([dg * eu[:, :K], dh[:, half:]], axis=1)
            self.t += 1
            alpha = lr * np.sqrt(1 - b2**self.t) / (1 - b1**self.t)
            for side, (ids, g) in enumerate(((ub, du), (ib, di))):
                rows, inverse = np.unique(ids, return_inverse=True)
                summed = np.zeros((len(rows), g.shape[1]), np.float32)
                np.add.at(summed, inverse, g)
                self._adam_rows(self.tables[side], self.m[side], self.v[side], rows, summed, alpha, (b1, b2, eps))
            for p, g, m, v in zip(self.dense, grads, self.m[2:], self.v[2:]):
                m += (g - m) * (1 - b1)
                v += (g * g - v) * (1 - b2)
                p -= alpha * m / (np.sqrt(v) + eps)


def cpu_seconds(fn):
    start = time.process_time()
    fn()
    return time.process_time() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="runs per contender (median reported)")
    parser.add_argument("--bare", action="store_true", help="also time the plain NumPy loop")
    parser.add_argument("--profile", action="store_true", help="profile one more tinyrec epoch (pyinstrument)")
    args = parser.parse_args(argv)
    try:
        from threadpoolctl import threadpool_limits
        threadpool_limits(1)
    except ImportError:
        pass
    u, i, n_users, n_items = ml100k_train()
    print(f"NeuMF epoch on ML-100K ({len(u):,} training positives x {1 + NEGATIVES} rows), k={K}, "
          f"MLP {'-'.join(map(str, LAYERS))}, batch {BATCH}, Adam; median CPU s of {args.repeats}, alternating")
    ours = TinyrecContender(u, i, n_users, n_items)
    contenders = {"tinyrec": ours}
    if torch is not None:
        contenders["PyTorch (1 thread)"] = TorchContender(u, i, n_users, n_items)
    if args.bare:
        contenders["plain NumPy"] = PlainNumpy(u, i, n_users, n_items)
    for fn in contenders.values():  # warm-up: first-call costs (imports, allocations) are not an epoch's
        fn()
    ours.epoch_seconds.clear()
    whole = {name: [] for name in contenders}
    for _ in range(args.repeats):
        for name, fn in contenders.items():
            whole[name].append(cpu_seconds(fn))
    medians = {name: statistics.median(ts) for name, ts in whole.items()}
    medians["tinyrec"] = statistics.median(ours.epoch_seconds)
    print(f"{'contender':<22}{'epoch s':>9}{'fit s':>9}")
    for name, t in medians.items():
        print(f"{name:<22}{t:>9.3f}{statistics.median(whole[name]) if name == 'tinyrec' else t:>9.3f}")
    if "PyTorch (1 thread)" in medians:
        theirs = medians["PyTorch (1 thread)"]
        print(f"ratio tinyrec/PyTorch: {medians['tinyrec'] / theirs:.2f} (epoch), "
              f"{statistics.median(whole['tinyrec']) / theirs:.2f} (whole fit call); target <= 0.30")
    if "plain NumPy" in medians:
        print(f"ratio tinyrec/plain NumPy: {medians['tinyrec'] / medians['plain NumPy']:.2f}")
    if args.profile:
        try:
            from pyinstrument import Profiler
        except ImportError:
            print("(pyinstrument not installed: no profile)")
            return 0
        profiler = Profiler(interval=0.0005)
        profiler.start()
        ours()
        profiler.stop()
        print(profiler.output_text(unicode=False, color=False, show_all=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
