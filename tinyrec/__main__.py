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
    model.fit(x_train, y_train, batch_size=32, epochs=args.epochs or 10, verbose=args.verbose)
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
        print("error: the bundled products are purchases without ratings; use --model neumf with them, or "
              "--dataset movies for matrix factorisation.", file=sys.stderr)
        return 2
    if dataset == "movies":
        data = load_movies()
        name = "bundled synthetic movies (MovieLens-100K-shaped)"
    elif dataset == "products":
        data = load_products()
        name = "bundled synthetic products (purchase histories, positives only)"
        data.item_titles = [f"product {j} ({data.category_names[c]})" for j, c in enumerate(data.item_categories)]
    else:
        data = load_movielens(dataset)
        name = f"MovieLens {dataset[3:].upper()}"
    what = "ratings" if "ratings" in data else "purchases"
    print(f"{name}: {len(data.user_ids):,} {what}, {data.n_users:,} users, {data.n_items:,} items")

    u, i = data.user_ids, data.item_ids
    r = data.ratings if "ratings" in data else None
    if args.model == "mf":
        train, test = random_split(len(r), test_size=0.1, seed=args.seed)
        model = MatrixFactorization(data.n_users, data.n_items, seed=args.seed)
        fit_kwargs = {"verbose": args.verbose}
        if args.epochs:
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
        if args.epochs:
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

    user = int(args.user) if args.user is not None else int(np.bincount(u[train]).argmax())
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


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tinyrec", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_demo = sub.add_parser("demo", help="train a recommender and show recommendations")
    p_demo.add_argument("--dataset", default=None, choices=["movies", "products", "ml-100k", "ml-1m"],
                        help="bundled synthetic movies (default for mf) or products (default for neumf), or "
                             "real MovieLens (downloaded once)")
    p_demo.add_argument("--model", default="mf", choices=["mf", "neumf"],
                        help="mf: matrix factorisation on ratings; neumf: neural CF on implicit feedback")
    p_demo.add_argument("--epochs", type=int, default=None, help="maximum epochs (default: the model's)")
    p_demo.add_argument("--user", type=int, default=None, help="user to show (default: the most active)")
    p_demo.add_argument("--seed", type=int, default=0)
    p_demo.add_argument("--verbose", type=int, default=2, choices=[0, 1, 2])
    p_demo.set_defaults(func=demo)
    p_clicks = sub.add_parser("clicks", help="the article's Keras-style model on bundled ad clicks")
    p_clicks.add_argument("--epochs", type=int, default=10)
    p_clicks.add_argument("--seed", type=int, default=0)
    p_clicks.add_argument("--verbose", type=int, default=2, choices=[0, 1, 2])
    p_clicks.set_defaults(func=clicks)
    args = parser.parse_args(argv)
    try:
        status = args.func(args)
    except OSError as err:  # e.g. MovieLens not downloadable offline: the message says what to do
        print(f"error: {err}", file=sys.stderr)
        return 1
    return status or 0


if __name__ == "__main__":
    sys.exit(main())
