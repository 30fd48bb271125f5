"""Engine overhead on a session GRU: ``SessionGRU.fit`` vs a bare hand-written NumPy GRU loop (and, if
installed, PyTorch's ``nn.GRU``), same data and architecture, timed in the same run.

    python benchmarks/bench_sequence.py                 # the bundled sessions if present, else synthetic
    python benchmarks/bench_sequence.py --synthetic --epochs 2 --repeats 5

The model: item ids (+1, 0 = padding) of the last ``max_len`` items → Embedding(n_items + 1, 32, mask_zero)
→ GRU(64) (padded steps skipped) → Dense(n_items) → full softmax cross-entropy over the catalogue; Adam
(lr 1e-3), batch 64, shuffled every epoch, float32, trained on every (prefix → next item) pair.

* **bare NumPy loop** — the floor: the same arithmetic (embedding rows, the GRU recurrence and its BPTT with
  the mask, the output layer, softmax − one-hot, Adam with lazy rows for the embedding table) and nothing
  else: no layers, no checks, no callbacks. It gets the training pairs ready-made.
* **tinyrec** — ``SessionGRU(...).fit(sequences, epochs, verbose=0)``: everything, including building the
  training pairs and the weights.
* **PyTorch (CPU)** — ``nn.Embedding(padding_idx=0)`` + ``nn.GRU`` + ``nn.Linear``, ``CrossEntropyLoss``,
  ``torch.optim.Adam``; the windows are right-aligned instead of left-padded and the state is read at each
  row's last real step (the standard way to skip padding without packing).

All contenders run on one thread (``torch.set_num_threads(1)``; NumPy's BLAS limited through the usual
environment variables before NumPy loads, and threadpoolctl when installed), so the ratios measure the
engines, not how many cores the machine lends to whom. Times are CPU seconds of the process; each
contender's is the median over ``--repeats`` runs, interleaved.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # before NumPy is imported

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

EMBED, UNITS, MAX_LEN, BATCH, LR = 32, 64, 20, 64, 1e-3


def synthetic_sessions(n_sequences=1000, n_items=500, min_len=5, max_len=60, seed=0):
    """A same-shaped stand-in for the bundled sessions: random walks over a ring of items with repeats."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_sequences):
        steps = rng.choice([-1, 0, 1, 2, 5], size=rng.integers(min_len, max_len + 1))
        out.append((rng.integers(n_items) + np.cumsum(steps)) % n_items)
    return out, n_items


def load_data(synthetic):
    """The bundled sessions' training histories (each user's plays but the last), or the synthetic stand-in."""
    if not synthetic:
        try:
            from tinyrec.datasets import last_item_split, load_sessions, sequences_by_user
        except ImportError:  # a tinyrec without the sessions dataset
            print("(tinyrec.datasets.load_sessions not found: synthetic sessions instead)")
        else:
            data = load_sessions()
            histories, _, _ = last_item_split(sequences_by_user(data.user_ids, data.item_ids, data.timestamps))
            return histories, int(data.n_items), "the bundled sessions"
    seqs, n_items = synthetic_sessions()
    return seqs, n_items, "synthetic sessions"


def bare_numpy(windows, targets, n_items, epochs, seed=0):
    """The floor: forward, BPTT, softmax CE, Adam (lazy rows for the table) — nothing else."""
    rng = np.random.default_rng(seed)
    f32 = np.float32
    H, D = UNITS, EMBED
    glorot = lambda a, b: rng.uniform(-np.sqrt(6 / (a + b)), np.sqrt(6 / (a + b)), (a, b)).astype(f32)  # noqa: E731
    E = rng.uniform(-0.05, 0.05, (n_items + 1, D)).astype(f32)
    W, b = glorot(D, 3 * H), np.zeros((2, 3 * H), f32)
    U = np.ascontiguousarray(np.linalg.qr(rng.standard_normal((3 * H, H)))[0].T, dtype=f32)  # orthogonal
    V, c = glorot(H, n_items), np.zeros(n_items, f32)
    params = [E, W, U, b, V, c]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    b1, b2, eps, step = 0.9, 0.999, 1e-7, 0
    sig = lambda a: 0.5 * (1.0 + np.tanh(0.5 * a))  # noqa: E731
    n = len(targets)
    for _ in range(epochs):
        order = rng.permutation(n)
        xs, ys = windows[order], targets[order]
        for s in range(0, n, BATCH):
            ids, y = xs[s:s + BATCH], ys[s:s + BATCH]
            B, T = ids.shape
            mask = (ids != 0).T[:, :, None]  # (T, B, 1)
            x = E[ids.T]  # (T, B, D)
            xw = x @ W + b[0]
            zr, nn, hn = np.empty((T, B, 2 * H), f32), np.empty((T, B, H), f32), np.empty((T, B, H), f32)
            hs = np.zeros((T + 1, B, H), f32)
            for t in range(T):
                h = hs[t]
                hw = h @ U + b[1]
                zr[t] = sig(xw[t, :, :2 * H] + hw[:, :2 * H])
                z, r = zr[t, :, :H], zr[t, :, H:]
                hn[t] = hw[:, 2 * H:]
                nn[t] = np.tanh(xw[t, :, 2 * H:] + r * hn[t])
                hs[t + 1] = np.where(mask[t], nn[t] + z * (h - nn[t]), h)
            logits = hs[T] @ V + c
            p = np.exp(logits - logits.max(1, keepdims=True))
            p /= p.sum(1, keepdims=True)
            loss = -np.log(p[np.arange(B), y]).mean()  # noqa: F841  (every loop reports it)
            p[np.arange(B), y] -= 1.0
            dlogits = p / B
            dV, dc = hs[T].T @ dlogits, dlogits.sum(0)
            g = dlogits @ V.T
            dxw, dhw = np.empty((T, B, 3 * H), f32), np.empty((T, B, 3 * H), f32)
            for t in range(T - 1, -1, -1):
                gc = np.where(mask[t], g, 0.0)
                z, r, nt = zr[t, :, :H], zr[t, :, H:], nn[t]
                dan = gc * (1 - z) * (1 - nt * nt)
                dxw[t, :, :H] = gc * (hs[t] - nt) * z * (1 - z)
                dxw[t, :, H:2 * H] = dan * hn[t] * r * (1 - r)
                dxw[t, :, 2 * H:] = dan
                dhw[t, :, :2 * H] = dxw[t, :, :2 * H]
                dhw[t, :, 2 * H:] = dan * r
                g = gc * z + dhw[t] @ U.T + np.where(mask[t], 0.0, g)
            dW = x.reshape(-1, D).T @ dxw.reshape(-1, 3 * H)
            dU = hs[:-1].reshape(-1, H).T @ dhw.reshape(-1, 3 * H)
            db = np.stack([dxw.sum((0, 1)), dhw.sum((0, 1))])
            dx = (dxw @ W.T).reshape(-1, D)
            flat = ids.T.reshape(-1)  # sum the rows of repeated ids: sort, then add up each run
            order_ = np.argsort(flat, kind="stable")
            starts = np.flatnonzero(np.r_[True, flat[order_][1:] != flat[order_][:-1]])
            rows, dE = flat[order_][starts], np.add.reduceat(dx[order_], starts, axis=0)
            step += 1
            alpha = LR * np.sqrt(1 - b2**step) / (1 - b1**step)
            for i, grad in enumerate([dE, dW, dU, db, dV, dc]):
                if i == 0:  # lazy rows of the table
                    p_, m_, v_ = params[0][rows], m[0][rows], v[0][rows]
                    m_ += (grad - m_) * (1 - b1)
                    v_ += (grad * grad - v_) * (1 - b2)
                    params[0][rows] = p_ - alpha * m_ / (np.sqrt(v_) + eps)
                    m[0][rows], v[0][rows] = m_, v_
                else:
                    m[i] += (grad - m[i]) * (1 - b1)
                    v[i] += (grad * grad - v[i]) * (1 - b2)
                    params[i] -= alpha * m[i] / (np.sqrt(v[i]) + eps)
    return params


def tinyrec_run(sequences, n_items, epochs, seed=0):
    from tinyrec.recommenders.session import SessionGRU

    model = SessionGRU(n_items, max_len=MAX_LEN, embedding_dim=EMBED, units=UNITS, seed=seed)
    model.fit(sequences, epochs=epochs, batch_size=BATCH, learning_rate=LR, verbose=0)


def torch_run(windows, targets, n_items, epochs, seed=0):
    import torch

    torch.manual_seed(seed)
    torch.set_num_threads(1)
    lengths = (windows != 0).sum(1)
    right = np.zeros_like(windows)  # right-aligned: real items first, padding after
    for i, w in enumerate(windows):
        right[i, :lengths[i]] = w[w != 0]
    emb = torch.nn.Embedding(n_items + 1, EMBED, padding_idx=0)
    gru = torch.nn.GRU(EMBED, UNITS, batch_first=True)
    out = torch.nn.Linear(UNITS, n_items)
    params = [*emb.parameters(), *gru.parameters(), *out.parameters()]
    opt = torch.optim.Adam(params, lr=LR, eps=1e-7)
    lossf = torch.nn.CrossEntropyLoss()
    x, y, last = torch.from_numpy(right), torch.from_numpy(targets), torch.from_numpy(lengths - 1)
    g = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        order = torch.randperm(len(y), generator=g)
        for s in range(0, len(y), BATCH):
            idx = order[s:s + BATCH]
            states, _ = gru(emb(x[idx]))
            h = states[torch.arange(len(idx)), last[idx]]
            opt.zero_grad()
            loss = lossf(out(h), y[idx])
            loss.backward()
            opt.step()


def timed(fn, *args):
    """CPU seconds of this process (``time.process_time``) for one run, as ``bench_seed_model.py`` measures:
    on a shared machine other processes stretch wall time at random, while a single-threaded run's own CPU
    time barely moves."""
    start = time.process_time()
    fn(*args)
    return time.process_time() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--synthetic", action="store_true", help="use the synthetic sessions even if bundled exist")
    args = parser.parse_args(argv)
    try:  # the environment variables above are only read when NumPy loads; threadpoolctl enforces it now
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:
        pass
    from tinyrec.recommenders.session import training_pairs

    sequences, n_items, what = load_data(args.synthetic)
    windows, targets = training_pairs(sequences, MAX_LEN)
    print(f"SessionGRU on {what}: {len(sequences):,} sequences, {n_items:,} items, {len(targets):,} training "
          f"pairs, max_len {MAX_LEN}, Embedding {EMBED} → GRU {UNITS} → Dense {n_items}, batch {BATCH}, "
          f"{args.epochs} epoch(s), median of {args.repeats} runs (interleaved), one thread")
    contenders = {"bare NumPy loop": (bare_numpy, (windows, targets, n_items, args.epochs)),
                  "tinyrec": (tinyrec_run, (sequences, n_items, args.epochs))}
    try:
        import torch  # noqa: F401

        contenders["PyTorch (CPU)"] = (torch_run, (windows, targets, n_items, args.epochs))
    except Exception:  # noqa: BLE001 - a missing or broken install is simply skipped
        print("(PyTorch not installed: skipped)")
    times = {name: [] for name in contenders}
    for _ in range(args.repeats):
        for name, (fn, fn_args) in contenders.items():
            times[name].append(timed(fn, *fn_args))
    base = statistics.median(times["bare NumPy loop"])
    print(f"{'contender':<18}{'CPU s':>10}{'s/epoch':>10}{'ratio':>8}")
    for name, ts in times.items():
        t = statistics.median(ts)
        print(f"{name:<18}{t:>10.3f}{t / args.epochs:>10.3f}{t / base:>8.2f}")
    ratio = statistics.median(times["tinyrec"]) / base
    print(f"tinyrec: {ratio:.2f}x the bare loop (target <= 1.2)")
    if "PyTorch (CPU)" in times:
        torch_ratio = statistics.median(times["tinyrec"]) / statistics.median(times["PyTorch (CPU)"])
        print(f"tinyrec / PyTorch: {torch_ratio:.2f} (target <= 1)")
    return ratio


if __name__ == "__main__":
    main()
