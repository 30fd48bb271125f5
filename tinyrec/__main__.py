"""Command line: ``python -m tinyrec demo`` (a recommender end to end) and ``python -m tinyrec clicks``
(the article's Keras-style model on the bundled ad-click data). ``python -m tinyrec --help`` lists options.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np


def _print_table(rows, header):
    widths = [max(len(str(r[c])) for r in [header, *rows]) + 2 for c in range(len(header))]
    for r in [header, *rows]:
        print("".join(f"{str(v):<{w}}" for v, w in zip(r, widths)))


def _usage_error(message):
    """Print ``error: message`` as argparse does, and return its exit status 2."""
    sys.stdout.flush()  # what was printed so far comes first, then the error
    print(f"error: {message}", file=sys.stderr)
    return 2


def clicks(args):
    """Train the article's model (100 → 64 relu → 32 relu → 1 sigmoid) on the bundled ad clicks."""
    from .datasets import load_ads
    from .layers import Dense
    from .models import Sequential

    data = load_ads()
    n_train = int(0.8 * len(data.y))
    x_train, y_train = data.X[:n_train], data.y[:n_train]
    x_test, y_test = data.X[n_train:], data.y[n_train:]
    print(f"Ad clicks: {len(data.y):,} impressions x {data.X.shape[1]} features "
          f"(train {n_train:,}, test {len(y_test):,}); click rate {data.y.mean():.3f}")

    model = Sequential(seed=args.seed)
    model.add(Dense(units=64, activation="relu", input_dim=100))
    model.add(Dense(units=32, activation="relu"))
    model.add(Dense(units=1, activation="sigmoid"))
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=32, epochs=args.epochs, verbose=args.verbose)
    loss, accuracy = model.evaluate(x_test, y_test)
    majority = max(y_test.mean(), 1 - y_test.mean())
    best = float(np.mean(np.maximum(data.truth.p_click_given_x, 1 - data.truth.p_click_given_x)[n_train:]))
    print()
    _print_table([("always predict the majority class", f"{majority:.3f}"),
                  ("tinyrec Sequential (the article's model)", f"{accuracy:.3f}"),
                  ("best possible from these features (Bayes rule)", f"{best:.3f}")],
                 ("held-out accuracy", ""))


def demo(args):
    """Train a recommender, compare it with baselines, and show one user's top 10."""
    from . import metrics
    from .datasets import leave_last_out, load_movielens, load_movies, load_products, random_split
    from .recommenders import MatrixFactorization, NeuMF
    from .recommenders.baselines import BiasBaseline, GlobalMean, MostPopular
    from .recommenders.evaluation import evaluate_ranking

    start = time.perf_counter()
    dataset = args.dataset or ("products" if args.model == "neumf" else "movies")
    if dataset == "products" and args.model == "mf":
        return _usage_error("the bundled products are purchases without ratings; use --model neumf with them, "
                            "or --dataset movies for matrix factorisation.")
    if args.data_home is not None and not dataset.startswith("ml-"):
        return _usage_error(f"--data-home is where MovieLens is kept; the bundled {dataset} ship with tinyrec. "
                            "Use it with --dataset ml-100k or ml-1m.")
    if dataset == "movies":
        data = load_movies()
        name = "bundled synthetic movies (MovieLens-100K-shaped)"
    elif dataset == "products":
        data = load_products()
        name = "bundled synthetic products (purchase histories, positives only)"
        data.item_titles = [f"product {j} ({data.category_names[c]})" for j, c in enumerate(data.item_categories)]
    else:
        data = load_movielens(dataset, data_home=args.data_home)
        name = f"MovieLens {dataset[3:].upper()}"
    what = "ratings" if "ratings" in data else "purchases"
    print(f"{name}: {len(data.user_ids):,} {what}, {data.n_users:,} users, {data.n_items:,} items")
    if args.user is not None and args.user >= data.n_users:  # said now, not after training
        return _usage_error(f"--user {args.user} is not a user of this dataset: ids run from 0 to "
                            f"{data.n_users - 1}.")

    u, i = data.user_ids, data.item_ids
    r = data.ratings if "ratings" in data else None
    if args.model == "mf":
        train, test = random_split(len(r), test_size=0.1, seed=args.seed)
        model = MatrixFactorization(data.n_users, data.n_items, seed=args.seed)
        fit_kwargs = {"verbose": args.verbose}
        if args.epochs is not None:
            fit_kwargs["epochs"] = args.epochs
        model.fit(u[train], i[train], r[train], **fit_kwargs)
        rows = []
        for label, m in (("global mean", GlobalMean(data.n_users, data.n_items)),
                         ("user + item biases", BiasBaseline(data.n_users, data.n_items))):
            m.fit(u[train], i[train], r[train])
            rows.append((label, m.predict(u[test], i[test])))
        rows.append(("matrix factorisation (tinyrec)", model.predict(u[test], i[test])))
        print()
        _print_table([(label, f"{metrics.rmse(r[test], p):.4f}", f"{metrics.mae(r[test], p):.4f}")
                      for label, p in rows], ("held-out 10% of ratings", "RMSE", "MAE"))
        if "truth" in data:
            print(f"(noise floor of the generator: RMSE {data.truth.noise_floor_rmse:.4f})")
    else:
        train, test = leave_last_out(u, data.timestamps, seed=args.seed)
        model = NeuMF(data.n_users, data.n_items, seed=args.seed)
        fit_kwargs = {"verbose": args.verbose}
        if args.epochs is not None:
            fit_kwargs["epochs"] = args.epochs
        # Validation asks what the test asks: each user's latest training interaction is held out.
        model.fit(u[train], i[train], timestamps=data.timestamps[train], **fit_kwargs)
        pop = MostPopular(data.n_users, data.n_items).fit(u[train], i[train])
        rows, res = [], {}
        for label, m in (("most popular", pop), ("NeuMF (tinyrec)", model)):
            res[label] = evaluate_ranking(m, u[train], i[train], u[test], i[test], seed=args.seed)
            rows.append((label, f"{res[label]['hit_rate']:.4f}", f"{res[label]['ndcg']:.4f}"))
        print()
        _print_table(rows, ("latest item of each user among 99 sampled", "HR@10", "NDCG@10"))
        ours, theirs = res["NeuMF (tinyrec)"], res["most popular"]
        verdict = "beats" if ours["hit_rate"] > theirs["hit_rate"] else "does not beat"
        print(f"NeuMF {verdict} popularity here: HR@10 {ours['hit_rate']:.3f} vs {theirs['hit_rate']:.3f} "
              f"({ours['hit_rate'] - theirs['hit_rate']:+.3f}), NDCG@10 {ours['ndcg']:.3f} vs "
              f"{theirs['ndcg']:.3f} ({ours['ndcg'] - theirs['ndcg']:+.3f}).")

    user = args.user if args.user is not None else int(np.bincount(u[train]).argmax())
    items, scores = model.recommend([user], k=10)
    history = train[(u[train] == user)]
    if r is not None:
        history = history[np.argsort(-r[history], kind="stable")][:10]
        print(f"\nUser {user} rated highly:")
    else:
        history = history[np.argsort(-data.timestamps[history], kind="stable")][:10]
        print(f"\nUser {user} bought most recently:")
    for j in history:
        print(f"  {r[j]:.0f}★  {data.item_titles[i[j]]}" if r is not None else f"  {data.item_titles[i[j]]}")
    print(f"Top 10 recommendations for user {user} (not seen in training):")
    for item, score in zip(items[0], scores[0]):
        print(f"  {score:6.3f}  {data.item_titles[item]}")
    print(f"\nDone in {time.perf_counter() - start:.1f}s.")
    return 0


DESCRIPTION = """\
tinyrec's command line: train a recommender end to end (demo), or the article's
Keras-style model on the bundled ad clicks (clicks).

examples:
  python -m tinyrec demo                          matrix factorisation on the bundled movies
  python -m tinyrec demo --model neumf            NeuMF on the bundled purchases
  python -m tinyrec demo --dataset ml-100k        real MovieLens 100K, downloaded once
  python -m tinyrec clicks                        the article's model on ad clicks
  python -m tinyrec demo --help                   the options of one command
"""


def _whole_number(lowest, wording):
    """An argparse ``type``: a whole number >= ``lowest``, or a message saying what was expected (so that
    ``--epochs 0`` is refused rather than silently ignored)."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < lowest:
            raise argparse.ArgumentTypeError(f"must be {wording}, got {value}")
        return value
    return parse


_positive_int = _whole_number(1, "at least 1")          # epochs
_non_negative_int = _whole_number(0, "0 or more")       # user ids, seeds


def _default_epochs(model):
    """The ``epochs`` default of the model's ``fit``, read from its signature so the help never goes stale."""
    import inspect

    from .recommenders import NeuMF
    from .recommenders.mf import DEFAULT_EPOCHS
    if model == "mf":
        return DEFAULT_EPOCHS["als"]  # fit(epochs=None) means the solver's default
    return inspect.signature(NeuMF.fit).parameters["epochs"].default


def _parser():
    parser = argparse.ArgumentParser(prog="python -m tinyrec", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, metavar="{demo,clicks}")
    p_demo = sub.add_parser(
        "demo", help="train a recommender, compare it with baselines, show one user's top 10",
        description="Train a recommender on the chosen data, compare it with simple baselines on held-out "
                    "interactions, and print one user's history and top 10 recommendations.")
    p_demo.add_argument("--dataset", default=None, choices=["movies", "products", "ml-100k", "ml-1m"],
                        help="bundled synthetic movies (default for mf) or products (default for neumf), or "
                             "real MovieLens (downloaded once into the data home)")
    p_demo.add_argument("--model", default="mf", choices=["mf", "neumf"],
                        help="mf: matrix factorisation on ratings (default); neumf: neural collaborative "
                             "filtering on implicit feedback")
    p_demo.add_argument("--epochs", type=_positive_int, default=None, metavar="N",
                        help=f"training epochs, at least 1: ALS sweeps for mf (default {_default_epochs('mf')}), "
                             f"the most epochs for neumf, which stops early (default {_default_epochs('neumf')})")
    p_demo.add_argument("--user", type=_non_negative_int, default=None, metavar="ID",
                        help="the user whose recommendations are shown, a 0-based id (default: the most "
                             "active user); checked before training")
    p_demo.add_argument("--seed", type=_non_negative_int, default=0, metavar="N",
                        help="random seed for the split, the initial weights and the negatives (default 0)")
    p_demo.add_argument("--verbose", type=int, default=2, choices=[0, 1, 2],
                        help="0: results only; 1: a progress bar; 2: one line per epoch (default)")
    p_demo.add_argument("--data-home", default=None, metavar="FOLDER",
                        help="where MovieLens is looked for and downloaded to (default: the TINYREC_DATA "
                             "environment variable, else ~/tinyrec_data); only with --dataset ml-100k/ml-1m")
    p_demo.set_defaults(func=demo)
    p_clicks = sub.add_parser(
        "clicks", help="the article's Keras-style model on the bundled ad clicks",
        description="Train the article's model (100 inputs, Dense 64 relu, Dense 32 relu, Dense 1 sigmoid; "
                    "binary cross-entropy, Adam, batch 32) on the bundled ad clicks and compare its held-out "
                    "accuracy with the majority class and with the best possible (Bayes rule).")
    p_clicks.add_argument("--epochs", type=_positive_int, default=10, metavar="N",
                          help="training epochs, at least 1 (default 10, as in the article)")
    p_clicks.add_argument("--seed", type=_non_negative_int, default=0, metavar="N",
                          help="random seed for the initial weights and the shuffling (default 0)")
    p_clicks.add_argument("--verbose", type=int, default=2, choices=[0, 1, 2],
                          help="0: results only; 1: a progress bar; 2: one line per epoch (default)")
    p_clicks.set_defaults(func=clicks)
    return parser


def main(argv=None):
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        status = args.func(args)
    except OSError as err:  # e.g. MovieLens not downloadable offline: the message says what to do
        print(f"error: {err}", file=sys.stderr)
        return 1
    return status or 0


if __name__ == "__main__":
    sys.exit(main())
