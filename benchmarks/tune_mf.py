"""How ``MatrixFactorization``'s defaults were chosen: a grid on validation slices of ML-100K's TRAINING data.

    TINYREC_DATA=/path/to/data python benchmarks/tune_mf.py                     # ALS grid (the default solver)
    TINYREC_DATA=/path/to/data python benchmarks/tune_mf.py --l2-exponent 1 --l2 0.12 0.13 --l2-bias 0.05
    TINYREC_DATA=/path/to/data python benchmarks/tune_mf.py --solver sgd

For each ``--outer-seeds`` seed ``s`` the benchmark's test split (``random_split(100_000, 0.1, seed=s)``, the
one ``bench_movielens.py`` scores) is set aside first and never looked at. Each of ``--folds`` validation
slices is 10 % of the remaining 90 % (inner seeds 1, 2, ...); the model is fitted on the other 90 % of the
training ratings. So a row averages ``len(outer_seeds) × folds`` fits, none of which saw a test rating.

Printed per setting: the mean validation RMSE of ``predict`` (clipped to the training rating range, the
default) after every ALS sweep (for SGD: of the early-stopped fit), its best sweep, the worst fold at that
sweep, the same mean without clipping, and CPU seconds per fit. The best setting overall comes last. Needs
MovieLens 100K on disk (``tinyrec.datasets.load_movielens(download=False)``); prints a message and exits
otherwise.
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
    parser.add_argument("--outer-seeds", type=int, nargs="+", default=[0, 1, 2],
                        help="benchmark splits whose TRAINING part is carved into validation folds")
    parser.add_argument("--folds", type=int, default=2, help="validation folds per outer seed")
    parser.add_argument("--factors", type=int, nargs="+", default=[32])
    parser.add_argument("--l2", type=float, nargs="+", default=[1.2, 1.3, 1.4, 1.5])
    parser.add_argument("--l2-bias", type=float, nargs="+", default=[0.3, 0.6, 1.0])
    parser.add_argument("--l2-exponent", type=float, nargs="+", default=[0.5], help="ALS only")
    parser.add_argument("--init-std", type=float, nargs="+", default=[0.1])
    parser.add_argument("--sweeps", type=int, default=12, help="ALS sweeps to trace")
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
    folds = []
    for outer in args.outer_seeds:
        train, _test = random_split(len(r), test_size=0.1, seed=outer)  # the test split is never used below
        for f in range(args.folds):
            fit_part, val_part = random_split(len(train), test_size=0.1, seed=1 + f)
            folds.append((train[fit_part], train[val_part]))

    class Trace(Callback):
        """Validation RMSE after every sweep, clipped (what ``predict`` returns by default) and raw."""

        def __init__(self, val):
            self.val, self.clipped, self.raw = val, [], []

        def on_epoch_end(self, epoch, logs=None):
            raw = self.model.predict(u[self.val], i[self.val])  # the model is built with clip=False
            self.raw.append(rmse(r[self.val], raw))
            self.clipped.append(rmse(r[self.val], np.clip(raw, *self.model.rating_range)))

    exponents = args.l2_exponent if args.solver == "als" else [None]
    print(f"solver={args.solver}: {len(folds)} validation folds ({args.folds} of the training 90 % of each of "
          f"the benchmark splits {args.outer_seeds}); validation RMSE of predict (clipped), mean over folds")
    rows = []
    for k, a, l2, l2b, init_std in itertools.product(args.factors, exponents, args.l2, args.l2_bias,
                                                     args.init_std):
        clipped, raw, seconds = [], [], 0.0
        for fit_idx, val_idx in folds:
            model = MatrixFactorization(data.n_users, data.n_items, n_factors=k, l2=l2, l2_bias=l2b,
                                        l2_exponent=a, init_std=init_std, solver=args.solver, clip=False, seed=0)
            trace = Trace(val_idx)
            start = time.process_time()
            if args.solver == "als":
                model.fit(u[fit_idx], i[fit_idx], r[fit_idx], epochs=args.sweeps, verbose=0, callbacks=[trace])
            else:
                model.fit(u[fit_idx], i[fit_idx], r[fit_idx], verbose=0)
                trace.set_model(model)
                trace.on_epoch_end(0)
            seconds += time.process_time() - start
            clipped.append(trace.clipped)
            raw.append(trace.raw)
        clipped, raw = np.array(clipped), np.array(raw)  # (folds, sweeps)
        mean = clipped.mean(axis=0)
        best = int(np.argmin(mean))
        label = f"k={k:<3} a={a} l2={l2:<5} l2_bias={l2b:<5} init_std={init_std:<5}"
        trace_text = (" | sweeps 4,6,..: " + " ".join(f"{v:.4f}" for v in mean[3::2])) if len(mean) > 1 else ""
        print(f"{label} val RMSE {mean[best]:.4f} (sweep {best + 1}; worst fold {clipped[:, best].max():.4f}; "
              f"unclipped {raw.mean(axis=0)[best]:.4f}){trace_text} [{seconds / len(folds):.2f} CPU s/fit]",
              flush=True)
        rows.append((mean[best], label, best + 1))
    score, label, sweep = min(rows)
    print(f"best: {label} sweep {sweep}: mean validation RMSE {score:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
