"""The bundled copies (随附数据) of the synthetic datasets: writing them, and loading them back.

The repository commits each ``make_*`` dataset, made with its default arguments, as plain CSV files so
that anyone can open them without Python. They live inside the package, in ``tinyrec/datasets/data/`` (listed
by the repository's ``datasets/README.md``), and ship in the wheel as package data, so a clone and an installed
tinyrec read the same bytes::

    movies/ratings.csv.gz    user_id,item_id,rating,timestamp
    movies/items.csv         item_id,title,genres          (genres joined with "|")
    products/purchases.csv   user_id,item_id,timestamp
    products/items.csv       item_id,category
    music/plays.csv          user_id,item_id,play_count,timestamp
    music/tracks.csv         item_id,artist_id,artist,genre
    ads/clicks.csv.gz        <100 history features>,device,ad_position,hour_bucket,ad_category,click
    sessions/plays.csv.gz    user_id,item_id,timestamp     (each user's listening, in time order)
    sessions/tracks.csv      item_id,genre

``write_bundled`` regenerates them byte for byte (integers as integers, ``gzip`` with ``mtime=0``),
each atomically (``tinyrec._atomic.atomic_write``) so a half-written file never appears, and refreshes the
SHA-256 table in each folder's ``README.md`` (the datasheet). Run it with
``python -m tinyrec.datasets.bundled``.

``load_movies()``, ``load_products()``, ``load_music()``, ``load_ads()`` and ``load_sessions()`` return
the same ``Bunch`` as the generator, read from the files; the ground truth (``truth``) is not in the files,
so it always comes from the generator. If the packaged files are missing (a broken install), a warning
says so and the generated data is returned. If the files and the generator disagree (files edited by hand, or a NumPy
version whose random streams differ), a warning says so and the generated data is returned, because
``truth`` only describes that data.
"""

from __future__ import annotations

import csv
import functools
import gzip
import hashlib
import io
import warnings
from pathlib import Path

import numpy as np

from .._atomic import atomic_write
from . import base
from .base import Bunch
from .sessions import make_sessions
from .synthetic import PRODUCT_CATEGORIES, make_ads, make_movies, make_music, make_products

__all__ = ["DATASET_FILES", "write_bundled", "load_movies", "load_products", "load_music", "load_ads",
           "load_sessions"]

#: The files of each bundled dataset, relative to its folder.
DATASET_FILES = {
    "movies": ["ratings.csv.gz", "items.csv"],
    "products": ["purchases.csv", "items.csv"],
    "music": ["plays.csv", "tracks.csv"],
    "ads": ["clicks.csv.gz"],
    "sessions": ["plays.csv.gz", "tracks.csv"],
}
_GENERATORS = {"movies": make_movies, "products": make_products, "music": make_music, "ads": make_ads,
               "sessions": make_sessions}

# The datasheet's checksum table sits between these two lines; write_bundled rewrites what is between.
CHECKSUM_BEGIN = "<!-- checksums:begin (written by python -m tinyrec.datasets.bundled) -->"
CHECKSUM_END = "<!-- checksums:end -->"

# ---------------------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------------------


def _int_csv(header, columns):
    """CSV bytes: a header row, then one row per element of the equal-length integer ``columns``."""
    table = np.column_stack([np.asarray(c, dtype=np.int64) for c in columns]).tolist()
    lines = [",".join(header)] + [",".join(map(str, row)) for row in table]  # Python ints: exact, no "1e+09"
    return ("\n".join(lines) + "\n").encode("utf-8")


def _text_csv(header, rows):
    """CSV bytes for rows that hold text (titles, names), quoted only where needed."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def _gzip(payload, filename):
    """Gzip ``payload`` reproducibly: fixed ``mtime=0``, fixed stored ``filename``, zlib's default level 6.

    (Level 9 would save 8% on the ads file for ten times the time.)
    """
    out = io.BytesIO()
    with gzip.GzipFile(filename=filename, mode="wb", fileobj=out, compresslevel=6, mtime=0) as gz:
        gz.write(payload)
    return out.getvalue()


def _as_integers(array, what):
    """``array`` as int64, after checking every value is a whole number (so "%d" loses nothing)."""
    array = np.asarray(array)
    if not np.all(array == np.round(array)):
        raise ValueError(f"write_bundled: {what} must hold whole numbers to be written as integers.")
    return array.astype(np.int64)


def _movies_files(d):
    ratings = _int_csv(["user_id", "item_id", "rating", "timestamp"],
                       [d.user_ids, d.item_ids, _as_integers(d.ratings, "ratings"), d.timestamps])
    rows = [(i, title, "|".join(g for g, on in zip(d.genre_names, d.item_genres[i]) if on))
            for i, title in enumerate(d.item_titles)]
    return {"ratings.csv.gz": _gzip(ratings, "ratings.csv"),
            "items.csv": _text_csv(["item_id", "title", "genres"], rows)}


def _products_files(d):
    purchases = _int_csv(["user_id", "item_id", "timestamp"], [d.user_ids, d.item_ids, d.timestamps])
    rows = [(i, d.category_names[c]) for i, c in enumerate(d.item_categories.tolist())]
    return {"purchases.csv": purchases, "items.csv": _text_csv(["item_id", "category"], rows)}


def _music_files(d):
    plays = _int_csv(["user_id", "item_id", "play_count", "timestamp"],
                     [d.user_ids, d.item_ids, d.play_counts, d.timestamps])
    rows = [(i, a, d.artist_names[a], d.genre_names[g])
            for i, (a, g) in enumerate(zip(d.item_artists.tolist(), d.item_genres.tolist()))]
    return {"plays.csv": plays, "tracks.csv": _text_csv(["item_id", "artist_id", "artist", "genre"], rows)}


def _ads_files(d):
    header = list(d.feature_names) + list(d.categorical_names) + ["click"]
    columns = list(_as_integers(d.X, "X").T) + list(d.categorical.T) + [_as_integers(d.y, "y")]
    return {"clicks.csv.gz": _gzip(_int_csv(header, columns), "clicks.csv")}


def _sessions_files(d):
    plays = _int_csv(["user_id", "item_id", "timestamp"], [d.user_ids, d.item_ids, d.timestamps])
    rows = [(i, d.genre_names[g]) for i, g in enumerate(d.item_genres.tolist())]
    return {"plays.csv.gz": _gzip(plays, "plays.csv"), "tracks.csv": _text_csv(["item_id", "genre"], rows)}


_WRITERS = {"movies": _movies_files, "products": _products_files, "music": _music_files, "ads": _ads_files,
            "sessions": _sessions_files}


def _write(path, data):
    """Write ``data`` (bytes) to ``path`` atomically (``tinyrec._atomic.atomic_write``): readers see the old
    file or the whole new one, never half of it, and a failed write leaves no temporary file behind."""
    atomic_write(path, lambda f: f.write(data))


def _sha256(data):
    return hashlib.sha256(data).hexdigest()


def checksum_table(files):
    """Markdown table of ``{file name: bytes}``: size and SHA-256 (and, for ``.gz``, of the CSV inside)."""
    lines = ["| file | bytes | SHA-256 |", "|---|---:|---|"]
    for name, data in files.items():
        lines.append(f"| `{name}` | {len(data)} | `{_sha256(data)}` |")
        if name.endswith(".gz"):
            inner = gzip.decompress(data)
            lines.append(f"| `{name[:-3]}` (inside the gzip) | {len(inner)} | `{_sha256(inner)}` |")
    return "\n".join(lines)


def _check_datasheet(readme):
    """Raise if ``readme`` exists but has no checksum markers (checked before anything is written)."""
    if readme.is_file():
        text = readme.read_text(encoding="utf-8")
        if CHECKSUM_BEGIN not in text or CHECKSUM_END not in text:
            raise ValueError(f"write_bundled: {readme} lacks the checksum markers {CHECKSUM_BEGIN!r} ... "
                             f"{CHECKSUM_END!r}; add them where the SHA-256 table should go.")


def _refresh_datasheet(readme, files):
    """Replace the text between the checksum markers of ``readme`` (if it exists) with a fresh table."""
    if not readme.is_file():
        return
    _check_datasheet(readme)
    text = readme.read_text(encoding="utf-8")
    head, rest = text.split(CHECKSUM_BEGIN, 1)
    _, tail = rest.split(CHECKSUM_END, 1)
    new = f"{head}{CHECKSUM_BEGIN}\n{checksum_table(files)}\n{CHECKSUM_END}{tail}"
    if new != text:
        _write(readme, new.encode("utf-8"))


def write_bundled(root=None, names=None):
    """Write the bundled datasets (default arguments, ``seed=0``) under ``root``, byte for byte.

    ``root`` defaults to the package's data folder (``tinyrec/datasets/data/``); ``names`` to all of them
    (``"movies"``, ``"products"``, ``"music"``, ``"ads"``, ``"sessions"``). Each file is written atomically; a folder's
    ``README.md``, when present, gets its SHA-256 table refreshed. Returns
    ``{"movies/ratings.csv.gz": sha256_hex, ...}``.
    """
    root = Path(base.BUNDLED_DATA if root is None else root)
    if root.exists() and not root.is_dir():
        raise NotADirectoryError(f"write_bundled: root {str(root)!r} is a file, not a folder.")
    names = list(DATASET_FILES) if names is None else list(names)
    unknown = sorted(set(names) - set(DATASET_FILES))
    if unknown:
        raise ValueError(f"write_bundled: unknown dataset names {unknown}; choose from {list(DATASET_FILES)}.")
    for name in names:
        _check_datasheet(root / name / "README.md")
    digests = {}
    for name in names:
        files = _WRITERS[name](_generated(name))
        for filename, data in files.items():
            _write(root / name / filename, data)
            digests[f"{name}/{filename}"] = _sha256(data)
        _refresh_datasheet(root / name / "README.md", files)
    return digests


# ---------------------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------------------


def _open_text(path):
    """Open a ``.csv`` or ``.csv.gz`` file as UTF-8 text."""
    path = Path(path)
    if path.name.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


def _read_int_csv(path, expected_header=None):
    """``(header, table)`` of an all-integer CSV; ``table`` is int64 ``(rows, columns)``."""
    with _open_text(path) as f:
        header = f.readline().rstrip("\n").split(",")
        if expected_header is not None and header != list(expected_header):
            raise ValueError(f"{path}: expected the columns {list(expected_header)}; found {header}.")
        table = np.loadtxt(f, delimiter=",", dtype=np.int64, ndmin=2)
    return header, table.reshape(-1, len(header))


def _read_text_csv(path, expected_header):
    """Rows (lists of str) of a CSV with text fields, after checking its header."""
    with _open_text(path) as f:
        rows = list(csv.reader(f))
    if not rows or rows[0] != list(expected_header):
        raise ValueError(f"{path}: expected the columns {list(expected_header)}; found {rows[:1]}.")
    return rows[1:]


def _index_of(names, value, path, column):
    """Position of ``value`` in ``names``, or a clear error naming the file and column."""
    try:
        return names.index(value)
    except ValueError:
        raise ValueError(f"{path}: unknown {column} {value!r}; expected one of {names}.") from None


def _read_movies(folder, generated):
    _, t = _read_int_csv(folder / "ratings.csv.gz", ["user_id", "item_id", "rating", "timestamp"])
    items = _read_text_csv(folder / "items.csv", ["item_id", "title", "genres"])
    path, names = folder / "items.csv", list(generated.genre_names)
    item_genres = np.zeros((len(items), len(names)), dtype=np.uint8)
    for i, (_, _, genres) in enumerate(items):  # one row per movie: a couple of thousand at most
        item_genres[i, [_index_of(names, g, path, "genre") for g in genres.split("|") if g]] = 1
    return Bunch(user_ids=t[:, 0], item_ids=t[:, 1], ratings=t[:, 2].astype(np.float32), timestamps=t[:, 3],
                 n_users=int(t[:, 0].max()) + 1, n_items=len(items), item_titles=[r[1] for r in items],
                 item_genres=item_genres)


def _read_products(folder, generated):
    _, t = _read_int_csv(folder / "purchases.csv", ["user_id", "item_id", "timestamp"])
    items = _read_text_csv(folder / "items.csv", ["item_id", "category"])
    path = folder / "items.csv"
    categories = [_index_of(PRODUCT_CATEGORIES, r[1], path, "category") for r in items]
    return Bunch(user_ids=t[:, 0], item_ids=t[:, 1], timestamps=t[:, 2], n_users=int(t[:, 0].max()) + 1,
                 n_items=len(items), item_categories=np.array(categories, dtype=np.int64))


def _read_music(folder, generated):
    _, t = _read_int_csv(folder / "plays.csv", ["user_id", "item_id", "play_count", "timestamp"])
    tracks = _read_text_csv(folder / "tracks.csv", ["item_id", "artist_id", "artist", "genre"])
    path = folder / "tracks.csv"
    item_artists = np.array([int(r[1]) for r in tracks], dtype=np.int64)
    artist_names = [""] * (int(item_artists.max()) + 1)
    for r in tracks:  # every artist has at least one track, so every name gets filled
        artist_names[int(r[1])] = r[2]
    return Bunch(user_ids=t[:, 0], item_ids=t[:, 1], play_counts=t[:, 2], timestamps=t[:, 3],
                 n_users=int(t[:, 0].max()) + 1, n_items=len(tracks), item_artists=item_artists,
                 artist_names=artist_names,
                 item_genres=np.array([_index_of(generated.genre_names, r[3], path, "genre") for r in tracks],
                                      dtype=np.int64))


def _read_ads(folder, generated):
    n_features, n_cat = len(generated.feature_names), len(generated.categorical_names)
    expected = list(generated.feature_names) + list(generated.categorical_names) + ["click"]
    _, t = _read_int_csv(folder / "clicks.csv.gz", expected)
    return Bunch(X=t[:, :n_features].astype(np.float32), categorical=t[:, n_features:n_features + n_cat],
                 y=t[:, -1].astype(np.float32))


def _read_sessions(folder, generated):
    _, t = _read_int_csv(folder / "plays.csv.gz", ["user_id", "item_id", "timestamp"])
    tracks = _read_text_csv(folder / "tracks.csv", ["item_id", "genre"])
    path = folder / "tracks.csv"
    genres = [_index_of(generated.genre_names, r[1], path, "genre") for r in tracks]
    return Bunch(user_ids=t[:, 0], item_ids=t[:, 1], timestamps=t[:, 2], n_users=int(t[:, 0].max()) + 1,
                 n_items=len(tracks), item_genres=np.array(genres, dtype=np.int64))


_READERS = {"movies": _read_movies, "products": _read_products, "music": _read_music, "ads": _read_ads,
            "sessions": _read_sessions}


@functools.cache
def _generated(name):
    """The generator's output with default arguments, computed once per process (never handed out)."""
    return _GENERATORS[name]()


def _copy(value):
    """Deep copy of a Bunch of arrays, lists and numbers, so callers can't change the cached one."""
    if isinstance(value, dict):
        return Bunch({k: _copy(v) for k, v in value.items()})
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _same(a, b):
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b)
    return a == b


def _load(name, root):
    """Read ``root/name`` (an incomplete package copy: warn and generate instead); attach ``truth``; return a copy."""
    generated = _generated(name)
    folder = Path(base.BUNDLED_DATA if root is None else root) / name
    missing = [f for f in DATASET_FILES[name] if not (folder / f).is_file()]
    if missing and root is not None:  # the caller named a folder: a wrong one is their mistake to hear about
        raise FileNotFoundError(f"load_{name}: {folder} lacks {missing}; root must be the folder that holds "
                                f"{name}/ (as written by write_bundled), or None for the bundled copy.")
    if missing:  # the package's own copy is incomplete: still usable, since the generator makes the same data
        warnings.warn(f"load_{name}: the bundled files {missing} are missing from {folder} (an incomplete "
                      f"install?); returning {_GENERATORS[name].__name__}()'s data, which they would hold.",
                      stacklevel=3)
        return _copy(generated)
    from_files = _READERS[name](folder, generated)
    differ = [key for key, value in from_files.items() if not _same(value, generated[key])]
    if differ:
        warnings.warn(
            f"load_{name}: the files in {folder} differ from {_GENERATORS[name].__name__}() in {differ} "
            "(edited files, or a NumPy whose random streams changed). Returning the generated data, which "
            "matches .truth; run `python -m tinyrec.datasets.bundled` to rewrite the files.",
            stacklevel=3,
        )
        return _copy(generated)
    # Same keys and order as the generator's Bunch; the arrays are the ones just read from disk.
    return Bunch({key: from_files[key] if key in from_files else _copy(value) for key, value in generated.items()})


def load_movies(root=None):
    """The bundled movie ratings: ``make_movies()`` read from the bundled ``movies/`` files.

    ``root`` is the folder holding ``movies/`` (default: the package's ``tinyrec/datasets/data/``). Returns the
    same ``Bunch`` as ``make_movies()``, ``truth`` included.
    """
    return _load("movies", root)


def load_products(root=None):
    """The bundled purchases: ``make_products()`` read from the bundled ``products/`` files."""
    return _load("products", root)


def load_music(root=None):
    """The bundled play counts: ``make_music()`` read from the bundled ``music/`` files."""
    return _load("music", root)


def load_ads(root=None):
    """The bundled ad clicks: ``make_ads()`` read from the bundled ``ads/`` files."""
    return _load("ads", root)


def load_sessions(root=None):
    """The bundled listening sessions: ``make_sessions()`` read from the bundled ``sessions/`` files.

    Each user's plays in time order; ``truth`` (the hidden moods, tastes and the oracle's next-track
    distribution) always comes from the generator.
    """
    return _load("sessions", root)


def main():
    """``python -m tinyrec.datasets.bundled``: rewrite every bundled file and print their checksums."""
    root = Path(base.BUNDLED_DATA)
    for path, digest in write_bundled(root).items():
        print(f"{(root / path).stat().st_size:>10,d}  {digest}  {path}")


if __name__ == "__main__":
    main()
