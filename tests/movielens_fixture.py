"""A small stand-in for real MovieLens 100K in GroupLens's layout, written by the tests that need one.

GroupLens forbids redistributing MovieLens, so nothing of it is committed; these files are made from
tinyrec's own generator (``make_movies``), with 1-based ids as in ``u.data`` and ``u.item``.
"""

from pathlib import Path

from tinyrec.datasets import make_movies


def write_ml100k(data_home, n_users=80, n_items=120, n_ratings=4000, seed=0):
    """Write ``<data_home>/ml-100k/u.data`` and ``u.item``; return the folder."""
    d = make_movies(n_users=n_users, n_items=n_items, n_ratings=n_ratings, seed=seed)
    folder = Path(data_home) / "ml-100k"
    folder.mkdir(parents=True)
    rows = zip(d.user_ids + 1, d.item_ids + 1, d.ratings.astype(int), d.timestamps)
    (folder / "u.data").write_text("".join(f"{u}\t{i}\t{r}\t{t}\n" for u, i, r, t in rows), encoding="latin-1")
    items = []
    for j, title in enumerate(d.item_titles):
        flags = "|".join(str(int(g)) for g in d.item_genres[j])
        items.append(f"{j + 1}|{title}|01-Jan-1995||http://example.invalid/{j + 1}|{flags}\n")
    (folder / "u.item").write_text("".join(items), encoding="latin-1")
    return folder
