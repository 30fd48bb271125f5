"""Shared pieces of the datasets package: the ``Bunch`` container and where data lives on disk."""

from __future__ import annotations

import importlib.resources
import os
from pathlib import Path

#: Environment variable that overrides where datasets are looked for and downloaded to.
DATA_HOME_ENV = "TINYREC_DATA"

#: Where the bundled datasets live: inside the package (``tinyrec/datasets/data/<name>/``), so a clone, an
#: editable install and an installed wheel all read the same committed files (``package_data`` in setup.cfg).
#: The repository's top-level ``datasets/README.md`` is the index that points here.
BUNDLED_DATA = Path(str(importlib.resources.files("tinyrec.datasets") / "data"))

#: Default data home when neither ``data_home`` nor ``TINYREC_DATA`` is given, as scikit-learn's
#: ``~/scikit_learn_data``. Never a folder found relative to the installed package: beside ``site-packages``
#: there may be an unrelated package called ``datasets``.
DEFAULT_DATA_HOME = "~/tinyrec_data"


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

    Order: the ``data_home`` argument; else the ``TINYREC_DATA`` environment variable; else
    ``~/tinyrec_data``. Asking does not create the folder: it is made only when something is written to it
    (see :func:`make_data_home`). A ``data_home`` that is a file raises ``NotADirectoryError`` (an
    ``OSError``) naming it.
    """
    if data_home is None:
        data_home = os.environ.get(DATA_HOME_ENV) or DEFAULT_DATA_HOME
    if not isinstance(data_home, (str, os.PathLike)):
        raise TypeError(f"get_data_home: data_home must be a folder path (str or path-like) or None; "
                        f"got {data_home!r} ({type(data_home).__name__}).")
    path = Path(data_home).expanduser()
    if path.exists() and not path.is_dir():
        raise NotADirectoryError(f"get_data_home: data_home {str(path)!r} is a file, not a folder; pass the "
                                 "folder that holds (or should receive) the datasets.")
    existing = next((parent for parent in path.parents if parent.exists()), None)
    if existing is not None and not existing.is_dir():  # it could never be created: say so now, not later
        raise NotADirectoryError(f"get_data_home: cannot create the folder {str(path)!r}: {str(existing)!r} "
                                 "on its way is a file.")
    return path


def make_data_home(path: Path) -> Path:
    """Create the data home ``path`` (and its parents) just before the first file is written into it."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as err:  # a parent folder on the way is a file
        raise NotADirectoryError(f"make_data_home: cannot create the folder {str(path)!r}: {err.strerror} "
                                 f"({err.filename}).") from None
    return path
