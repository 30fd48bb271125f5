"""How ``MatrixFactorization``'s defaults were chosen: a grid on validation slices of ML-100K's TRAINING data.

    TINYREC_DATA=/path/to/data python benchmarks/tune_mf.py            # ALS grid (the default solver)
    TINYREC_DATA=/path/to/data python benchmarks/tune_mf.py --solver sgd

The test split of the benchmark (``random_split(100_000, 0.1, seed=0)``) is set aside first and never
looked at: each of ``--folds`` validation slices is 10 % of the remaining 90 % (seeds 1, 2, ...), the model
is fitted on the other 90 % of the training ratings, and the mean validation RMSE over the folds is printed
after every sweep (ALS) or for the early-stopped fit (SGD). Needs MovieLens 100K on disk
(``tinyrec.datasets.load_movielens(download=False)``); prints a message and exits otherwise.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time

import numpy as np


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--solver", choices=["als", "sgd"], default="als")
    parser.add_argument("--folds", type=int, default=2)
    parser.add_argument("--factors", type=int, nargs="+", default=[32, 64])
    parser.add_argument("--l2", type=float, nargs="+", default=[0.1, 0.13, 0.16])
    parser.add_argument("--l2-bias", type=float, nargs="+", default=[0.02, 0.05, 0.1])
    parser.add_argument("--sweeps", type=int, default=14, help="ALS sweeps to trace")
    args = parser.parse_args(argv)

    from tinyrec.callbacks import Callback
    from tinyrec.datasets import load_movielens, random_split
    from tinyrec.metrics import rmse
    from tinyrec.recommenders import MatrixFactorization

    try:
        data = load_movielens("ml-100k", download=False, verbose=False)
    except OSError as err:
        print(f"skipped: MovieLens 100K not found ({err})")
        return 0
    u, i, r = data.user_ids, data.item_ids, data.ratings.astype(np.float64)
    train, _test = random_split(len(r), test_size=0.1, seed=0)  # the test split is never used below
    folds = []
    for f in range(args.folds):
        fit_part, val_part = random_split(len(train), test_size=0.1, seed=1 + f)
        folds.append((train[fit_part], train[val_part]))

    class Trace(Callback):
        """Validation RMSE after every sweep."""

        def __init__(self, val):
            self.val, self.values = val, []

        def on_epoch_end(self, epoch, logs=None):
            self.values.append(rmse(r[self.val], self.model.predict(u[self.val], i[self.val])))

    print(f"solver={args.solver}, {args.folds} validation folds of the training 90 %")
    for k, l2, l2b in itertools.product(args.factors, args.l2, args.l2_bias):
        traces, seconds = [], 0.0
        for fit_idx, val_idx in folds:
            model = MatrixFactorization(data.n_users, data.n_items, n_factors=k, l2=l2, l2_bias=l2b,
                                        solver=args.solver, seed=0)
            start = time.perf_counter()
            if args.solver == "als":
                trace = Trace(val_idx)
                model.fit(u[fit_idx], i[fit_idx], r[fit_idx], epochs=args.sweeps, verbose=0, callbacks=[trace])
                traces.append(trace.values)
            else:
                model.fit(u[fit_idx], i[fit_idx], r[fit_idx], verbose=0)
                traces.append([rmse(r[val_idx], model.predict(u[val_idx], i[val_idx]))])
            seconds += time.perf_counter() - start
        mean = np.mean(traces, axis=0)
        best = int(np.argmin(mean))
        shown = " ".join(f"{v:.4f}" for v in mean[4::2]) if args.solver == "als" else ""
        print(f"k={k:<3} l2={l2:<5} l2_bias={l2b:<5} val RMSE best {mean[best]:.4f} (sweep {best + 1}) "
              f"{'sweeps 5,7,..: ' + shown if shown else ''} [{seconds / len(folds):.1f}s/fit]", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
