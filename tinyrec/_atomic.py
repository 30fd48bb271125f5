"""One way to write a file so that readers see either the old file or the whole new one — never half of it.

Used for every file tinyrec writes (saved models and weights, the bundled data, MovieLens downloads).

How: the bytes go to an unnamed file in the target's folder (Linux ``O_TMPFILE``), are flushed to disk
(``fsync``), then get a temporary name and are renamed over the target (``os.replace``, atomic on POSIX),
and the folder is fsynced so the rename survives a power cut. A process killed while writing leaves
nothing behind: the unnamed file vanishes with it. Where ``O_TMPFILE`` is missing, a named temporary file
(``.<name>.<random>.part``) is used instead and removed on any error. The new file gets the usual
permissions for a new file (``0o666`` less the umask), not the ``0o600`` of a temporary file.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # e.g. Windows: folders cannot be opened; the rename is still atomic there
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(path, write, mode=0o666) -> Path:
    """Create or replace ``path`` atomically with what ``write(binary_file)`` writes; returns the path.

    If ``write`` raises (or the process is interrupted), ``path`` is untouched and no temporary file remains.
    """
    path = Path(path)
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True)
    perms = mode & ~_umask()
    fd = None
    if hasattr(os, "O_TMPFILE"):
        try:
            fd = os.open(folder, os.O_TMPFILE | os.O_WRONLY, perms)
        except OSError:  # a file system without O_TMPFILE support
            fd = None
    if fd is not None:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
            os.fchmod(f.fileno(), perms)
            # Give the finished file a name (a link from /proc), then rename it over the target.
            tmp = folder / f".{path.name}.{os.getpid()}.{id(f)}.part"
            try:
                proc = os.open("/proc/self/fd", os.O_RDONLY)
                try:  # linkat(AT_SYMLINK_FOLLOW) through /proc: the dir_fd makes Python call linkat
                    os.link(str(f.fileno()), tmp, src_dir_fd=proc, follow_symlinks=True)
                finally:
                    os.close(proc)
                linked = True
            except (OSError, NotImplementedError):  # no usable /proc: write again through a named file
                linked = False
        if linked:
            return _rename_into_place(tmp, path)
    fd, name = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".part")
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, perms)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return _rename_into_place(tmp, path)


def _rename_into_place(tmp: Path, path: Path) -> Path:
    """Rename the finished ``tmp`` over ``path`` (atomic on POSIX), then make the rename durable."""
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    return path
