"""Shared pieces of the datasets package: the ``Bunch`` container and where data lives on disk."""

from __future__ import annotations

import os
from pathlib import Path

#: Environment variable that overrides where datasets are looked for and downloaded to.
DATA_HOME_ENV = "TINYREC_DATA"

#: The repository's top-level ``datasets/`` folder (exists in a clone or an editable install).
REPO_DATASETS = Path(__file__).resolve().parents[2] / "datasets"


class Bunch(dict):
    """A dict whose keys are also attributes, as in scikit-learn: ``data.ratings`` is ``data["ratings"]``."""

    def __getattr__(self, key):
        try:
            return self[key]
        except KeyError:
            raise AttributeError(f"Bunch has no field {key!r}; fields: {sorted(self)}") from None

    def __setattr__(self, key, value):
        self[key] = value

    def __dir__(self):
        return list(self.keys())


def get_data_home(data_home: str | os.PathLike | None = None) -> Path:
    """Folder for real datasets (e.g. MovieLens), in scikit-learn's manner.

    Order: the ``data_home`` argument; else the ``TINYREC_DATA`` environment variable; else the
    repository's ``datasets/`` folder when running from a clone; else ``~/tinyrec_data``.
    The folder is created if missing. A ``data_home`` that is a file (or lies under one) raises
    ``NotADirectoryError`` (an ``OSError``) naming it.
    """
    if data_home is None:
        data_home = os.environ.get(DATA_HOME_ENV)
    if data_home is None:
        data_home = REPO_DATASETS if REPO_DATASETS.is_dir() else Path.home() / "tinyrec_data"
    if not isinstance(data_home, (str, os.PathLike)):
        raise TypeError(f"get_data_home: data_home must be a folder path (str or path-like) or None; "
                        f"got {data_home!r} ({type(data_home).__name__}).")
    path = Path(data_home).expanduser()
    if path.exists() and not path.is_dir():
        raise NotADirectoryError(f"get_data_home: data_home {str(path)!r} is a file, not a folder; pass the "
                                 "folder that holds (or should receive) the datasets.")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as err:  # a parent folder on the way is a file
        raise NotADirectoryError(f"get_data_home: cannot create the folder {str(path)!r}: {err.strerror} "
                                 f"({err.filename}).") from None
    return path
