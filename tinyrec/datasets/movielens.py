"""Load the real MovieLens rating data sets (GroupLens Research) into NumPy arrays.

Two sizes are supported:

* ``"ml-100k"``: 100,000 ratings from 943 users on 1,682 movies (1997-98).
* ``"ml-1m"``:   1,000,209 ratings from 6,040 users on about 3,900 movies (2000).

The data is **not** shipped with tinyrec (its license forbids redistribution). ``load_movielens`` looks in the
data folder (see :func:`tinyrec.datasets.base.get_data_home`) for, in this order,

1. the extracted folder, e.g. ``<data_home>/ml-100k/u.data`` and ``<data_home>/ml-100k/u.item``;
2. the original zip, e.g. ``<data_home>/ml-100k.zip`` (read directly, no need to unzip; its MD5 is checked);
3. otherwise it downloads the zip from GroupLens (if ``download=True``), verifies its MD5 checksum
   (校验和) and saves it atomically, so a broken download never leaves a half-written zip behind.

File formats (from the READMEs inside the zips):

* ML-100K ``u.data``: ``user id <TAB> item id <TAB> rating <TAB> timestamp``, ids start at 1.
  ``u.item`` (latin-1): ``movie id | title | release date | video release date | IMDb URL | 19 genre flags``.
* ML-1M ``ratings.dat``: ``UserID::MovieID::Rating::Timestamp``.
  ``movies.dat`` (latin-1): ``MovieID::Title::Genres`` with genres joined by ``|``.

Please cite: F. Maxwell Harper and Joseph A. Konstan. 2015. The MovieLens Datasets: History and Context.
ACM Transactions on Interactive Intelligent Systems 5(4), Article 19.
"""

from __future__ import annotations

import hashlib
import http.client
import io
import os
import sys
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass

import numpy as np

from .._atomic import atomic_write
from .._checks import flag
from .base import Bunch, get_data_home, make_data_home

__all__ = ["load_movielens", "DatasetNotFoundError", "DatasetChecksumError", "MOVIELENS_GENRES", "DATASETS",
           "MovieLensRecord"]

#: The 19 genre names of ML-100K's ``u.item``, in column order. ML-1M uses the same names except
#: "unknown", so both data sets share this list (ML-1M simply never sets the "unknown" column).
MOVIELENS_GENRES = [
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary",
    "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller",
    "War", "Western",
]  # fmt: skip

_BASE_URL = "https://files.grouplens.org/datasets/movielens/"


@dataclass(frozen=True)
class MovieLensRecord:
    """Everything tinyrec knows about one MovieLens release, in one place.

    ``size`` (bytes) and ``md5`` describe the official zip; ``size=None`` means "not recorded" and is then
    not checked (the MD5 still is). ``ratings_sep``/``items_sep`` are the field separators of the two files
    and ``encoding`` their text encoding (latin-1 maps every byte to a character, so titles such as
    "Amélie" always decode). ``items_format`` chooses the item-file parser.
    """

    name: str
    label: str
    url: str
    size: int | None
    md5: str
    ratings_file: str
    items_file: str
    ratings_sep: str
    items_sep: str
    items_format: str
    encoding: str = "latin-1"


#: One record per supported release. Tests replace a record with ``dataclasses.replace``.
DATASETS = {
    "ml-100k": MovieLensRecord(
        name="ml-100k", label="100K", url=_BASE_URL + "ml-100k.zip", size=4_924_029,
        md5="0e33842e24a9c977be4e0107933c0723", ratings_file="u.data", items_file="u.item",
        ratings_sep="\t", items_sep="|", items_format="100k"),
    "ml-1m": MovieLensRecord(
        name="ml-1m", label="1M", url=_BASE_URL + "ml-1m.zip", size=None,
        md5="c4d9eecfca2ab87c1945afe126590906", ratings_file="ratings.dat", items_file="movies.dat",
        ratings_sep="::", items_sep="::", items_format="1m"),
}

_TIMEOUT = 30  # seconds without data before a download is given up
_CHUNK = 1 << 16  # download in 64 KiB pieces so the progress bar moves and memory stays small


class DatasetNotFoundError(FileNotFoundError):
    """The data set is not on disk and could not be downloaded (offline, or ``download=False``)."""


class DatasetChecksumError(ValueError):
    """A zip's MD5 checksum does not match the official one: the file is incomplete or corrupt."""


# --------------------------------------------------------------------------------------------------
# Public entry point: locate → read → index
# --------------------------------------------------------------------------------------------------
def load_movielens(name="ml-100k", data_home=None, download=True, verbose=True):
    """Load MovieLens 100K or 1M as flat NumPy arrays, one entry per rating (评分).

    Parameters
    ----------
    name : {"ml-100k", "ml-1m"}
    data_home : str or path-like, optional
        Folder that holds (or will receive) the data; default from ``get_data_home``.
    download : bool
        If the data is not found locally, download the zip from GroupLens (about 5-6 MB).
    verbose : bool
        Show a progress bar on stderr while downloading.

    Returns
    -------
    Bunch with fields (``N`` = number of ratings):

    - ``user_ids`` int64 (N,): 0-based contiguous user index, ``0 .. n_users-1``.
    - ``item_ids`` int64 (N,): 0-based contiguous item index over the movies of the item file
      (sorted by original id), ``0 .. n_items-1``.
    - ``ratings`` float32 (N,): 1 to 5 stars.
    - ``timestamps`` int64 (N,): seconds since 1970-01-01 (Unix time).
    - ``n_users``, ``n_items`` : int.
    - ``item_titles`` list[str] of length n_items, e.g. ``"Toy Story (1995)"``.
    - ``item_genres`` uint8 (n_items, 19): ``item_genres[j, g] == 1`` if movie j has genre g.
    - ``genre_names`` list of the 19 genre names (:data:`MOVIELENS_GENRES`).
    - ``raw_user_ids``, ``raw_item_ids`` int64: original id of each 0-based index,
      e.g. ``raw_item_ids[item_ids[k]]`` is the MovieLens id of rating k's movie.
    - ``name``, ``description`` : str.

    Ratings keep the order of the ratings file.

    Three steps, one function each: :func:`_locate` (find the folder or the zip, downloading it if
    allowed), :func:`_read` (the two files' text), :func:`_index` (parse them and number users and
    items from 0). What differs between releases lives in one :class:`MovieLensRecord` in ``DATASETS``.

    Raises
    ------
    ValueError
        Unknown ``name``; a malformed line (the message names the file and the 1-based line number);
        a rating of an item missing from the item file.
    TypeError
        ``download``/``verbose`` not a bool.
    DatasetChecksumError (a ValueError)
        A found or downloaded zip has the wrong MD5.
    DatasetNotFoundError (a FileNotFoundError, hence an OSError)
        Nothing found and ``download=False``, or the download failed (e.g. no internet). The message says
        where to put the files.
    NotADirectoryError (an OSError)
        ``data_home`` is a file.
    """
    if not isinstance(name, str) or name not in DATASETS:
        raise ValueError(f"load_movielens: name must be one of {sorted(DATASETS)}, got {name!r}")
    download = flag("load_movielens", "download", download)
    verbose = flag("load_movielens", "verbose", verbose)
    record = DATASETS[name]
    source = _locate(record, get_data_home(data_home), download, verbose)
    ratings_text, items_text, ratings_src, items_src = _read(record, source)
    return _index(record, ratings_text, items_text, ratings_src, items_src, source)


def _locate(record, home, download, verbose):
    """Where the data is: the extracted folder, else a checksum-verified zip (downloaded if allowed)."""
    folder = home / record.name
    zip_path = home / f"{record.name}.zip"
    # 1. An extracted folder wins: no checksum, because the user may have unpacked it by hand.
    if (folder / record.ratings_file).is_file() and (folder / record.items_file).is_file():
        return folder
    # 2. A zip we already have must match the official checksum; 3. otherwise download it.
    if zip_path.is_file():
        got = _md5_of_file(zip_path)
        if got != record.md5:
            raise DatasetChecksumError(
                f"load_movielens: {zip_path} has MD5 {got}, but the official {record.name}.zip has MD5 "
                f"{record.md5}. The file is incomplete or corrupt; delete it and call load_movielens "
                f"again to re-download it (or fetch {record.url} by hand)."
            )
    elif not download:
        raise DatasetNotFoundError(_not_found_message(record, home, "download=False was given"))
    else:
        try:
            _download(record, zip_path, verbose)
        except (OSError, http.client.HTTPException) as exc:  # URLError and timeouts are OSErrors
            raise DatasetNotFoundError(
                _not_found_message(record, home, f"the download failed ({exc})")
            ) from exc
    return zip_path


def _read(record, source):
    """``(ratings_text, items_text, ratings_src, items_src)`` from a folder or a zip; ``*_src`` name the files."""
    if source.is_dir():
        ratings, items = source / record.ratings_file, source / record.items_file
        return (ratings.read_bytes().decode(record.encoding), items.read_bytes().decode(record.encoding),
                str(ratings), str(items))
    with zipfile.ZipFile(source) as zf:
        ratings_member = _find_member(zf, record.name, record.ratings_file, source)
        items_member = _find_member(zf, record.name, record.items_file, source)
        ratings_text = zf.read(ratings_member).decode(record.encoding)
        items_text = zf.read(items_member).decode(record.encoding)
    return ratings_text, items_text, f"{source} (member {ratings_member})", f"{source} (member {items_member})"


def _index(record, ratings_text, items_text, ratings_src, items_src, source):
    """Parse both files and number users and items from 0; returns the ``Bunch`` of ``load_movielens``."""
    table = _parse_ratings(ratings_text, record.ratings_sep, ratings_src)
    parse_items = _parse_items_100k if record.items_format == "100k" else _parse_items_1m
    raw_items, titles, genres = parse_items(items_text, items_src, record.items_sep)

    # Item index: the movies of the item file sorted by their original id (the files are already sorted,
    # but sorting makes the mapping independent of line order).
    order = np.argsort(raw_items, kind="stable")
    raw_item_ids = raw_items[order]
    dup = raw_item_ids[1:] == raw_item_ids[:-1]
    if dup.any():
        raise ValueError(f"load_movielens: {items_src} lists movie id {raw_item_ids[1:][dup][0]} twice")
    titles = [titles[k] for k in order]
    genres = genres[order]

    # Map original ids to 0-based indices. Users: every user that rated something, sorted by id.
    raw_user_ids, user_ids = np.unique(table[:, 0], return_inverse=True)
    pos = np.searchsorted(raw_item_ids, table[:, 1])
    pos_safe = np.minimum(pos, len(raw_item_ids) - 1)
    known = raw_item_ids[pos_safe] == table[:, 1]
    if not known.all():
        missing = np.unique(table[~known, 1])
        raise ValueError(
            f"load_movielens: {ratings_src} rates {len(missing)} movie id(s) missing from {items_src}, "
            f"e.g. {missing[:10].tolist()}"
        )

    n_users, n_items = len(raw_user_ids), len(raw_item_ids)
    description = (
        f"MovieLens {record.label} (GroupLens Research): {len(table):,} ratings (1-5 stars) by "
        f"{n_users:,} users on {n_items:,} movies, with titles, 19 genre flags and Unix timestamps. "
        f"Loaded from {source}. License: research use only, no redistribution; cite F. M. Harper and "
        f"J. A. Konstan, 'The MovieLens Datasets: History and Context', ACM TiiS 5(4), 2015."
    )
    return Bunch(
        user_ids=user_ids.astype(np.int64).reshape(-1),
        item_ids=pos_safe.astype(np.int64),
        ratings=table[:, 2].astype(np.float32),
        timestamps=table[:, 3].astype(np.int64),
        n_users=n_users,
        n_items=n_items,
        item_titles=titles,
        item_genres=genres,
        genre_names=list(MOVIELENS_GENRES),
        raw_user_ids=raw_user_ids.astype(np.int64),
        raw_item_ids=raw_item_ids.astype(np.int64),
        name=record.name,
        description=description,
    )


# --------------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------------
def _parse_ratings(text, sep, source):
    """Parse ``user sep item sep rating sep timestamp`` lines into an int64 array of shape (N, 4).

    The fast path hands the whole text to ``np.loadtxt`` (C code, no Python loop per rating). It needs a
    one-character delimiter, so ML-1M's ``::`` is first replaced by a tab. Only when something is wrong do
    we walk the lines in Python to report the first bad one with its line number.
    """
    fast = text.replace("\r\n", "\n")
    if sep != "\t":
        fast = fast.replace(sep, "\t")
    table, numpy_error = None, None
    if fast.strip():
        try:
            table = np.loadtxt(io.StringIO(fast), delimiter="\t", dtype=np.int64, ndmin=2, comments=None)
        except ValueError as exc:
            numpy_error = exc  # wrong field count or a non-integer: locate it below
    if table is None or table.shape[1] != 4 or ((table[:, 2] < 1) | (table[:, 2] > 5)).any():
        _raise_first_bad_rating_line(text, sep, source, numpy_error)
    return table


def _raise_first_bad_rating_line(text, sep, source, numpy_error=None):
    """Find the first malformed ratings line and raise a ValueError that shows it (error path only)."""
    n_data_lines = 0
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue  # blank lines (e.g. a final newline) are allowed and skipped
        n_data_lines += 1
        fields = line.split(sep)
        if len(fields) != 4:
            problem = f"expected 4 fields separated by {sep!r}, found {len(fields)}"
        else:
            try:
                values = [int(f) for f in fields]
            except ValueError:
                problem = "user id, item id, rating and timestamp must all be integers"
            else:
                problem = None if 1 <= values[2] <= 5 else f"rating {values[2]} is outside 1..5"
        if problem:
            raise ValueError(f"load_movielens: {source}, line {lineno}: {problem}: {line!r}")
    if n_data_lines == 0:
        raise ValueError(f"load_movielens: {source} contains no ratings")
    # Every line passed the checks above, yet np.loadtxt refused the text (e.g. a stray tab in ML-1M).
    raise ValueError(f"load_movielens: could not parse {source}: {numpy_error}")


def _parse_items_100k(text, source, sep="|"):
    """Parse ML-100K ``u.item``: ``id|title|release|video release|IMDb URL|19 genre flags``.

    Returns (raw ids int64 (n,), titles list[str], genres uint8 (n, 19)). One Python loop per movie
    (1,682 lines) is cheap and lets each error name its line.
    """
    n_fields = 5 + len(MOVIELENS_GENRES)
    ids, titles, flags = [], [], []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split(sep)
        if len(fields) != n_fields:
            raise ValueError(
                f"load_movielens: {source}, line {lineno}: expected {n_fields} fields separated by {sep!r}, "
                f"found {len(fields)}: {line!r}"
            )
        ids.append(_parse_id(fields[0], source, lineno, line))
        titles.append(fields[1])
        genre_fields = fields[5:]
        if any(f not in ("0", "1") for f in genre_fields):
            raise ValueError(
                f"load_movielens: {source}, line {lineno}: the 19 genre flags must be 0 or 1: {line!r}"
            )
        flags.append([f == "1" for f in genre_fields])
    genres = np.array(flags, dtype=np.uint8).reshape(len(ids), len(MOVIELENS_GENRES))
    return np.array(ids, dtype=np.int64), titles, genres


def _parse_items_1m(text, source, sep="::"):
    """Parse ML-1M ``movies.dat``: ``MovieID::Title::Genre1|Genre2|...``.

    Returns the same triple as :func:`_parse_items_100k`, genres as 0/1 columns of MOVIELENS_GENRES.
    """
    column = {g: j for j, g in enumerate(MOVIELENS_GENRES)}
    ids, titles = [], []
    genres = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split(sep)
        if len(fields) != 3:
            raise ValueError(
                f"load_movielens: {source}, line {lineno}: expected 3 fields separated by {sep!r}, "
                f"found {len(fields)}: {line!r}"
            )
        ids.append(_parse_id(fields[0], source, lineno, line))
        titles.append(fields[1])
        row = np.zeros(len(MOVIELENS_GENRES), dtype=np.uint8)
        for g in fields[2].split("|") if fields[2] else []:
            if g not in column:
                raise ValueError(
                    f"load_movielens: {source}, line {lineno}: unknown genre {g!r} "
                    f"(known: {MOVIELENS_GENRES}): {line!r}"
                )
            row[column[g]] = 1
        genres.append(row)
    genres = np.array(genres, dtype=np.uint8).reshape(len(ids), len(MOVIELENS_GENRES))
    return np.array(ids, dtype=np.int64), titles, genres


def _parse_id(field, source, lineno, line):
    """Parse a movie id, or raise a ValueError that names the file and line."""
    try:
        return int(field)
    except ValueError:
        raise ValueError(
            f"load_movielens: {source}, line {lineno}: movie id must be an integer, got {field!r}: {line!r}"
        ) from None


def _find_member(zf, name, filename, zip_path):
    """Name of ``filename`` inside the zip: ``<name>/<filename>`` as GroupLens packs it, else any folder."""
    names = zf.namelist()
    if f"{name}/{filename}" in names:
        return f"{name}/{filename}"
    for member in names:
        if member.rsplit("/", 1)[-1] == filename:
            return member
    raise ValueError(f"load_movielens: {zip_path} does not contain {filename} (it has {names[:10]})")


# --------------------------------------------------------------------------------------------------
# Downloading
# --------------------------------------------------------------------------------------------------
def _md5_of_file(path):
    """Hex MD5 of a file, read in chunks so memory stays small."""
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _download(record, dest, verbose):
    """Download ``record.url`` to ``dest`` through ``tinyrec._atomic.atomic_write``, checking size and MD5.

    The bytes stream into an unnamed temporary file; only when the length and the MD5 are right does it get
    renamed onto ``dest``. On any failure (network error, Ctrl-C, wrong checksum) ``dest`` is not written
    and no temporary file remains.
    """
    if verbose:
        print(f"Downloading {record.url}\n         to {dest}", file=sys.stderr)

    def write(out):
        digest = hashlib.md5()
        with urllib.request.urlopen(record.url, timeout=_TIMEOUT) as response:
            length = response.headers.get("Content-Length")
            total = int(length) if length else record.size
            done = 0
            while True:
                chunk = response.read(_CHUNK)
                if not chunk:
                    break
                out.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                if verbose:
                    print("\r" + _progress_bar(done, total), end="", file=sys.stderr, flush=True)
            if verbose:
                print(file=sys.stderr)
        if total is not None and done != total:
            raise OSError(f"connection closed after {done:,} of {total:,} bytes")
        got = digest.hexdigest()
        if got != record.md5:
            raise DatasetChecksumError(
                f"load_movielens: MD5 checksum mismatch for {record.url}: expected {record.md5}, got {got}. "
                f"The downloaded file was discarded; {dest} was not written. Try again later."
            )

    # The data home is created only now, when a file is about to be written into it; if the download fails,
    # a folder this call created is removed again, so a failed attempt leaves nothing behind.
    created = not dest.parent.exists()
    make_data_home(dest.parent)
    try:
        atomic_write(dest, write)
    except BaseException:
        if created:
            try:
                dest.parent.rmdir()
            except OSError:  # not empty after all: something else wrote there meanwhile
                pass
        raise
    if verbose:
        print(f"MD5 checksum OK; saved {dest}", file=sys.stderr)


def _progress_bar(done, total, width=30):
    """One line of text such as ``[#######.......]  1,234,567 / 4,924,029 bytes ( 25%)``."""
    if not total:
        return f"{done:,} bytes"
    frac = min(done / total, 1.0)
    filled = int(round(frac * width))
    return f"[{'#' * filled}{'.' * (width - filled)}] {done:,} / {total:,} bytes ({frac:4.0%})"


def _not_found_message(record, home, reason):
    """The error text for a missing data set: where to put which file, and where to get it."""
    name = record.name
    return (
        f"MovieLens {name!r} was not found in {home} and {reason}.\n"
        f"On a machine with internet, download\n"
        f"    {record.url}\n"
        f"and put either the zip itself at\n"
        f"    {home / (name + '.zip')}\n"
        f"or its extracted folder at\n"
        f"    {home / name}{os.sep}   (containing {record.ratings_file} and {record.items_file})\n"
        f"To use another folder, pass data_home=... (on the command line: --data-home FOLDER) or set the\n"
        f"TINYREC_DATA environment variable."
    )
