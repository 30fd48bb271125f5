"""tinyrec on real MovieLens next to Surprise and PyTorch, all timed in the same run; then scale and BLAS threads.

    TINYREC_DATA=/path/to/data python benchmarks/bench_movielens.py                # ML-100K (+ ML-1M if present)
    TINYREC_DATA=/path/to/data python benchmarks/bench_movielens.py --sections ratings ranking --seeds 0
    TINYREC_DATA=/path/to/data python benchmarks/bench_movielens.py --sections ratings --repeats 3  # issue #8

Needs MovieLens on disk (``tinyrec.datasets.load_movielens(name, download=False)``); a dataset that is absent
is skipped with a message. Surprise (``pip install scikit-surprise``) and PyTorch (``pip install torch``) are
optional: a contender that is not installed is skipped. Nothing here is a test: figures are printed, with
ratios against the reference timed in the same run.

1. Ratings: a seeded random 90/10 split (``random_split(seed=0)`` and ``--seeds``). RMSE and fit seconds of
   tinyrec's ``MatrixFactorization()`` with its defaults, ``BiasBaseline``, Surprise's ``SVD()`` with its
   defaults, and a small PyTorch biased MF written below (same model and loss as tinyrec's SGD solver).
   ``--repeats n``: each fit n times, contenders alternating; the median wall and CPU seconds are shown.
2. Ranking: leave-latest-out (each user's latest rating is the test item), ranked among 99 sampled unseen
   items (He et al. 2017): HR@10 and NDCG@10 of tinyrec's ``NeuMF()`` with defaults (told the timestamps,
   and not), ``MostPopular``, and PyTorch NeuMFs trained for a fixed ``--torch-epochs``: one with He et al.'s
   settings (k = 8, MLP 64-32-16-8, Adam 0.001, batch 256, 4 negatives) and one with tinyrec's defaults
   (k = 16, MLP 64-32-16, Adam 0.002, batch 512). Then seconds per epoch of tinyrec's default NeuMF at
   batch 256 in tinyrec and in PyTorch.
3. Scale: ML-1M-shaped data (real ML-1M if present, else ``make_movies(6040, 3706, 1_000_000)``): an ALS
   sweep, an SGD epoch, and ``recommend`` for every user, with NumPy's peak memory (tracemalloc).
4. BLAS threads: the same steps with BLAS at its default thread count (``TINYREC_BLAS_THREADS=0``) and at
   tinyrec's default of 1 thread (``tinyrec/_blas.py``), wall and CPU seconds.

Peak memory is what tracemalloc sees: NumPy buffers and Python objects. PyTorch's allocator is invisible
to it, so its column says n/a.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import tracemalloc

import numpy as np

try:
    import torch
except ImportError:  # optional contender
    torch = None
try:
    import surprise
except ImportError:  # optional contender
    surprise = None
try:
    from threadpoolctl import threadpool_info, threadpool_limits
except ImportError:  # optional: section 4 needs it
    threadpool_limits = None


# -- measuring -------------------------------------------------------------------------------------
def timed(fn):
    """``(result, wall seconds, CPU seconds)`` of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def peak_mib(fn):
    """Peak MiB traced during one more call (tracemalloc slows it, so it is not timed)."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def table(rows, header):
    widths = [max(len(str(r[c])) for r in [header, *rows]) + 2 for c in range(len(header))]
    for r in [header, *rows]:
        print("".join(f"{str(v):<{w}}" for v, w in zip(r, widths)))


# -- PyTorch contenders (written here; optional) ---------------------------------------------------
def torch_biased_mf(n_users, n_items, u, i, r, k=32, l2=0.05, lr=0.005, batch_size=1024, epochs=40,
                    patience=3, seed=0):
    """Biased MF in PyTorch: r̂ = μ + b_u + b_i + p_u·q_i, MSE + per-lookup L2, Adam, early stopping on 5 %.

    Returns a ``predict(users, items) -> ndarray`` closure.
    """
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    is_val = rng.random(len(r)) < 0.05
    tu, ti, tr = (torch.as_tensor(a[~is_val]) for a in (u, i, r.astype(np.float32)))
    vu, vi, vr = (torch.as_tensor(a[is_val]) for a in (u, i, r.astype(np.float32)))
    mu = float(tr.mean())
    P, Q = torch.nn.Embedding(n_users, k), torch.nn.Embedding(n_items, k)
    bu, bi = torch.nn.Embedding(n_users, 1), torch.nn.Embedding(n_items, 1)
    for e in (P, Q):
        torch.nn.init.normal_(e.weight, std=0.1)
    for e in (bu, bi):
        torch.nn.init.zeros_(e.weight)
    params = [e.weight for e in (P, Q, bu, bi)]
    opt = torch.optim.Adam(params, lr=lr)

    def forward(us, its):
        p, q = P(us), Q(its)
        return mu + bu(us)[:, 0] + bi(its)[:, 0] + (p * q).sum(1), p, q

    best, best_state, wait = float("inf"), None, 0
    for _ in range(epochs):
        order = torch.as_tensor(rng.permutation(len(tr)))
        for s in range(0, len(order), batch_size):
            b = order[s:s + batch_size]
            pred, p, q = forward(tu[b], ti[b])
            loss = ((pred - tr[b]) ** 2).mean() + l2 * ((p * p).sum(1) + (q * q).sum(1)).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        with torch.no_grad():
            val = float(((forward(vu, vi)[0] - vr) ** 2).mean().sqrt())
        if val < best:
            best, best_state, wait = val, [w.detach().clone() for w in params], 0
        else:
            wait += 1
            if wait >= patience:
                break
    with torch.no_grad():
        for w, saved in zip(params, best_state):
            w.copy_(saved)

    def predict(us, its):
        with torch.no_grad():
            return forward(torch.as_tensor(us), torch.as_tensor(its))[0].numpy()
    return predict


class TorchNeuMF(torch.nn.Module if torch else object):
    """NeuMF (He et al. 2017) in PyTorch: GMF ⊕ MLP towers → one logit."""

    def __init__(self, n_users, n_items, k=8, layers=(64, 32, 16, 8)):
        super().__init__()
        self.gu, self.gi = torch.nn.Embedding(n_users, k), torch.nn.Embedding(n_items, k)
        self.mu, self.mi = torch.nn.Embedding(n_users, layers[0] // 2), torch.nn.Embedding(n_items, layers[0] // 2)
        for e in (self.gu, self.gi, self.mu, self.mi):
            torch.nn.init.normal_(e.weight, std=0.01)
        mlp = []
        for a, b in zip(layers[:-1], layers[1:]):
            mlp += [torch.nn.Linear(a, b), torch.nn.ReLU()]
        self.mlp = torch.nn.Sequential(*mlp)
        self.out = torch.nn.Linear(k + layers[-1], 1)

    def forward(self, u, i):
        h = self.mlp(torch.cat([self.mu(u), self.mi(i)], 1))
        return self.out(torch.cat([self.gu(u) * self.gi(i), h], 1))[:, 0]


def torch_neumf_epoch(model, opt, u, i, n_items, rng, n_negatives=4, batch_size=256):
    """One epoch: fresh negatives (tinyrec's sampler, so both sides pay the same), shuffle, BCE, Adam."""
    from tinyrec.interactions import sample_negatives
    neg = sample_negatives(u, n_items, n_negatives, u, i, seed=rng)
    users = np.concatenate([u, np.repeat(u, n_negatives)])
    items = np.concatenate([i, neg.reshape(-1)])
    y = np.concatenate([np.ones(len(u)), np.zeros(neg.size)]).astype(np.float32)
    order = rng.permutation(len(y))
    users, items, y = (torch.as_tensor(a[order]) for a in (users, items, y))
    loss_fn = torch.nn.BCEWithLogitsLoss()
    for s in range(0, len(y), batch_size):
        loss = loss_fn(model(users[s:s + batch_size], items[s:s + batch_size]), y[s:s + batch_size])
        opt.zero_grad()
        loss.backward()
        opt.step()


class TorchRanker:
    """What ``evaluate_ranking`` needs: ``n_items`` and ``predict(users, items)``."""

    def __init__(self, model, n_users, n_items):
        self.model, self.n_users, self.n_items = model, n_users, n_items

    def predict(self, users, items):
        with torch.no_grad():
            return self.model(torch.as_tensor(users), torch.as_tensor(items)).numpy()


# -- the sections ----------------------------------------------------------------------------------
def ratings_section(data, seeds, repeats=1):
    from tinyrec.datasets import random_split

    print("\n== Ratings: random 90/10 split, RMSE on the 10 % (lower is better); fit seconds; peak MiB ==")
    if repeats > 1:
        print(f"(fit seconds: median of {repeats} fits per contender, contenders alternating)")
    for seed in seeds:
        train, test = random_split(len(data.ratings), test_size=0.1, seed=seed)
        print(f"\nseed {seed}: {len(train):,} training ratings, {len(test):,} test")
        ratings_on_split(data, train, test, repeats)


def ratings_on_split(data, train, test, repeats=1):
    from tinyrec.metrics import rmse
    from tinyrec.recommenders import BiasBaseline, MatrixFactorization

    u, i, r = data.user_ids, data.item_ids, data.ratings.astype(np.float64)
    fit_args = (u[train], i[train], r[train])
    contenders = {
        "tinyrec MatrixFactorization() [ALS]":
            lambda: MatrixFactorization(data.n_users, data.n_items).fit(*fit_args, verbose=0).predict,
        "tinyrec MatrixFactorization(solver='sgd')":
            lambda: MatrixFactorization(data.n_users, data.n_items, solver="sgd").fit(*fit_args, verbose=0).predict,
        "tinyrec BiasBaseline()": lambda: BiasBaseline(data.n_users, data.n_items).fit(*fit_args).predict,
    }
    if surprise is not None:
        trainset = surprise_trainset(*fit_args)

        def surprise_fit():
            algo = surprise.SVD(random_state=0).fit(trainset)
            return lambda us, its: np.array([algo.predict(str(a), str(b)).est for a, b in zip(us, its)])
        contenders["Surprise SVD() (reference)"] = surprise_fit
    if torch is not None:
        torch.set_num_threads(1)  # like for like with tinyrec on one core; see section 4 on BLAS threads
        contenders["PyTorch biased MF (below)"] = lambda: torch_biased_mf(data.n_users, data.n_items, *fit_args)
    errors, walls, cpus = {}, {name: [] for name in contenders}, {name: [] for name in contenders}
    for _ in range(repeats):  # every contender once per round, so drifts of a shared machine hit all alike
        for name, fit in contenders.items():
            predict, wall, cpu = timed(fit)
            walls[name].append(wall)
            cpus[name].append(cpu)
            errors.setdefault(name, rmse(r[test], predict(u[test], i[test])))  # seeded: the same every round
    results = {name: (errors[name], statistics.median(walls[name]), statistics.median(cpus[name]))
               for name in contenders}
    ref = results.get("Surprise SVD() (reference)")
    rows = []
    for name, (err, wall, cpu) in results.items():
        memory = "n/a" if name.startswith("PyTorch") else f"{peak_mib(contenders[name]):.1f}"
        ratio = f"{err / ref[0]:.3f} / {wall / ref[1]:.2f} / {cpu / ref[2]:.2f}" if ref else "-"
        rows.append((name, f"{err:.4f}", f"{wall:.2f}", f"{cpu:.2f}", memory, ratio))
    table(rows, ("contender", "RMSE", "fit s", "fit CPU s", "peak MiB", "RMSE / time / CPU vs Surprise"))


def surprise_trainset(u, i, r):
    """A Surprise trainset of these ratings (through a temporary file: no pandas needed)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "train.tsv")
        np.savetxt(path, np.column_stack([u, i, r]), fmt="%d\t%d\t%.1f")
        reader = surprise.Reader(line_format="user item rating", sep="\t", rating_scale=(1, 5))
        return surprise.Dataset.load_from_file(path, reader).build_full_trainset()


def ranking_section(data, torch_epochs):
    from tinyrec.datasets import leave_last_out
    from tinyrec.recommenders import MostPopular, NeuMF, evaluate_ranking

    u, i, t = data.user_ids, data.item_ids, data.timestamps
    train, test = leave_last_out(u, t, seed=0)
    print("\n== Ranking: each user's latest rating held out, ranked among 99 sampled unseen items ==")
    rows = []

    def evaluate(model):
        res = evaluate_ranking(model, u[train], i[train], u[test], i[test], seed=0)
        return f"{res['hit_rate']:.4f}", f"{res['ndcg']:.4f}"

    pop, wall, _ = timed(lambda: MostPopular(data.n_users, data.n_items).fit(u[train], i[train]))
    rows.append(("MostPopular", *evaluate(pop), f"{wall:.2f}", "-"))
    model = NeuMF(data.n_users, data.n_items)
    _, wall, _ = timed(lambda: model.fit(u[train], i[train], timestamps=t[train], verbose=0))
    epochs = len(model.history.history["loss"])
    one_epoch = peak_mib(lambda: NeuMF(data.n_users, data.n_items).fit(u[train], i[train], epochs=1,
                                                                        early_stopping=False, verbose=0))
    rows.append((f"tinyrec NeuMF() defaults, fit(timestamps=...) ({epochs} epochs)", *evaluate(model),
                 f"{wall:.1f}", f"{one_epoch:.1f} (1 epoch)"))
    blind = NeuMF(data.n_users, data.n_items)
    _, wall, _ = timed(lambda: blind.fit(u[train], i[train], verbose=0))
    epochs = len(blind.history.history["loss"])
    rows.append((f"tinyrec NeuMF() defaults, no timestamps: random holdout ({epochs} epochs)", *evaluate(blind),
                 f"{wall:.1f}", "-"))
    if torch is not None:
        for label, k, layers, lr, batch in (("He et al. settings", 8, (64, 32, 16, 8), 0.001, 256),
                                            ("tinyrec's default settings", 16, (64, 32, 16), 0.002, 512)):
            torch.manual_seed(0)
            net = TorchNeuMF(data.n_users, data.n_items, k=k, layers=layers)
            opt = torch.optim.Adam(net.parameters(), lr=lr)
            rng = np.random.default_rng(0)
            start = time.perf_counter()
            for _ in range(torch_epochs):
                torch_neumf_epoch(net, opt, u[train], i[train], data.n_items, rng, batch_size=batch)
            wall = time.perf_counter() - start
            rows.append((f"PyTorch NeuMF, {label} ({torch_epochs} epochs)",
                         *evaluate(TorchRanker(net, data.n_users, data.n_items)), f"{wall:.1f}", "n/a"))
    table(rows, ("contender", "HR@10", "NDCG@10", "fit s", "peak MiB"))
    neumf_epoch_section(data, u[train], i[train])


def neumf_epoch_section(data, u, i, repeats=3, k=16, layers=(64, 32, 16)):
    from tinyrec.callbacks import Callback
    from tinyrec.recommenders import NeuMF

    print(f"\nNeuMF seconds per epoch, same model (k={k}, MLP {'-'.join(map(str, layers))}: tinyrec's default), "
          f"batch 256, 4 negatives, Adam (median of {repeats}, contenders alternating):")
    seconds = {"tinyrec": [], "PyTorch": []}

    class EpochTimer(Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            seconds["tinyrec"].append(time.perf_counter() - self.start)

    model = NeuMF(data.n_users, data.n_items, n_factors=k, mlp_layers=layers)
    net = TorchNeuMF(data.n_users, data.n_items, k=k, layers=layers) if torch is not None else None
    opt = torch.optim.Adam(net.parameters(), lr=0.001) if net is not None else None
    rng = np.random.default_rng(0)
    for _ in range(repeats):
        model.fit(u, i, epochs=1, batch_size=256, early_stopping=False, verbose=0, callbacks=[EpochTimer()])
        if net is not None:
            seconds["PyTorch"].append(timed(lambda: torch_neumf_epoch(net, opt, u, i, data.n_items, rng))[1])
    ours = statistics.median(seconds["tinyrec"])
    if net is None:
        print(f"  tinyrec {ours:.2f} s/epoch (PyTorch not installed)")
        return
    theirs = statistics.median(seconds["PyTorch"])
    print(f"  tinyrec {ours:.2f} s   PyTorch {theirs:.2f} s ({torch.get_num_threads()} thread(s))   "
          f"ratio tinyrec/PyTorch {ours / theirs:.2f}")


def ml1m_shaped():
    from tinyrec.datasets import load_movielens, make_movies
    try:
        return load_movielens("ml-1m", download=False, verbose=False), "MovieLens 1M"
    except OSError:
        data = make_movies(n_users=6040, n_items=3706, n_ratings=1_000_000, seed=0)
        return data, "synthetic ML-1M-shaped (make_movies(6040, 3706, 1_000_000); real ML-1M not found)"


def scale_steps(data):
    """The steps measured at ML-1M scale: name -> zero-argument callable."""
    from tinyrec.recommenders import MatrixFactorization

    u, i, r = data.user_ids, data.item_ids, data.ratings.astype(np.float64)
    als = MatrixFactorization(data.n_users, data.n_items)
    sgd = MatrixFactorization(data.n_users, data.n_items, solver="sgd")
    als.fit(u, i, r, epochs=1, verbose=0)  # fitted, so recommend has the seen items
    everyone = np.arange(data.n_users)
    return {
        "ALS sweep": lambda: als.fit(u, i, r, epochs=1, verbose=0),
        "SGD epoch (batch 256)": lambda: sgd.fit(u, i, r, epochs=1, early_stopping=False, verbose=0),
        f"recommend(k=10) for all {data.n_users:,} users": lambda: als.recommend(everyone, k=10),
    }


def scale_section(data, name):
    print(f"\n== Scale: {name}: {len(data.ratings):,} ratings, {data.n_users:,} x {data.n_items:,} ==")
    rows = []
    for step, fn in scale_steps(data).items():
        _, wall, _ = timed(fn)
        rows.append((step, f"{wall:.2f}", f"{peak_mib(fn):.1f}"))
    full = data.n_users * data.n_items * 8 / 2**20
    table(rows, ("step", "seconds", "peak MiB"))
    print(f"(the whole users x items score matrix in float64 would be {full:.0f} MiB)")


def threads_section(ml100k, big):
    if threadpool_limits is None:
        print("\n== BLAS threads: skipped (pip install threadpoolctl; tinyrec limits nothing without it) ==")
        return
    blas = [f"{p['internal_api']} {p.get('version')} {p.get('architecture')} ({p['num_threads']} threads)"
            for p in threadpool_info() if p["user_api"] == "blas"]
    print(f"\n== BLAS threads: {', '.join(blas) or 'no BLAS found'}; "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE')} ==")
    from tinyrec.datasets import random_split
    from tinyrec.recommenders import MatrixFactorization, NeuMF

    u, i, r = ml100k.user_ids, ml100k.item_ids, ml100k.ratings.astype(np.float64)
    train, _ = random_split(len(r), test_size=0.1, seed=0)
    steps = {
        "ML-100K MF fit, defaults (ALS)": lambda: MatrixFactorization(ml100k.n_users, ml100k.n_items).fit(
            u[train], i[train], r[train], verbose=0),
        "ML-100K NeuMF, 1 epoch, defaults": lambda: NeuMF(ml100k.n_users, ml100k.n_items).fit(
            u[train], i[train], epochs=1, early_stopping=False, verbose=0),
    }
    if big is not None:  # the SGD epoch is left out here: four more of them would double the run time
        steps.update({f"ML-1M-sized {k}": v for k, v in scale_steps(big).items() if not k.startswith("SGD")})
    rows = []
    saved = os.environ.get("TINYREC_BLAS_THREADS")
    for name, fn in steps.items():
        runs = {}
        for limit in ("0", "1", "0", "1"):  # alternate, so drifts of a shared machine hit both alike
            os.environ["TINYREC_BLAS_THREADS"] = limit  # "0": tinyrec leaves BLAS alone (tinyrec/_blas.py)
            _, wall, cpu = timed(fn)
            runs.setdefault(limit, []).append((wall, cpu))
        (w2, c2), (w1, c1) = (min(runs["0"]), min(runs["1"]))
        rows.append((name, f"{w2:.2f} / {c2:.2f}", f"{w1:.2f} / {c1:.2f}", f"{w1 / w2:.2f}", f"{c1 / c2:.2f}"))
    if saved is None:
        os.environ.pop("TINYREC_BLAS_THREADS", None)
    else:
        os.environ["TINYREC_BLAS_THREADS"] = saved
    table(rows, ("step", "BLAS default: wall / CPU s", "1 thread: wall / CPU s", "wall 1t/default",
                 "CPU 1t/default"))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="random 90/10 splits")
    parser.add_argument("--repeats", type=int, default=1, help="fits per contender in the ratings section "
                        "(median seconds)")
    parser.add_argument("--torch-epochs", type=int, default=20, help="PyTorch NeuMF epochs (He et al.: 20)")
    parser.add_argument("--sections", nargs="+", default=["ratings", "ranking", "scale", "threads"],
                        choices=["ratings", "ranking", "scale", "threads"], help="which sections to run")
    args = parser.parse_args(argv)
    todo = set(args.sections)
    from tinyrec.datasets import load_movielens

    print(f"Contenders: tinyrec; Surprise {surprise.__version__ if surprise else 'not installed'}; "
          f"PyTorch {torch.__version__ if torch else 'not installed'}; NumPy {np.__version__}")
    datasets = {}
    for name in ("ml-100k", "ml-1m"):
        try:
            datasets[name] = load_movielens(name, download=False, verbose=False)
        except OSError:
            print(f"{name}: not found on disk, skipped (see tinyrec.datasets.load_movielens).")
    for name, data in datasets.items():
        print(f"\n######## {name}: {len(data.ratings):,} ratings, {data.n_users:,} users, {data.n_items:,} items")
        if "ratings" in todo:
            ratings_section(data, args.seeds if name == "ml-100k" else args.seeds[:1], args.repeats)
        if "ranking" in todo:
            ranking_section(data, args.torch_epochs)
    big = None
    if todo & {"scale", "threads"}:
        big, name = ml1m_shaped()
    if "scale" in todo:
        scale_section(big, name)
    if "threads" in todo and "ml-100k" in datasets:
        threads_section(datasets["ml-100k"], big)
    return 0


if __name__ == "__main__":
    sys.exit(main())
