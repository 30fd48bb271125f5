"""Argument checks and random-number helpers shared by every public boundary of tinyrec.

Each check returns the value converted (a Python ``int``/``float``/``bool`` or a NumPy array) or raises an
error that names **who** (``owner``, e.g. ``"MatrixFactorization.fit"``), **which argument**, what was
expected and what came. ``bool`` is refused wherever a number is expected (``True`` is an ``int`` in Python,
so ``epochs=True`` would otherwise mean one epoch without a word). Names of losses, optimizers, metrics,
activations and initializers are matched with :func:`unknown_name`, which suggests the closest valid one.

The float checks return Python floats on purpose: NumPy treats a Python float as "weakly typed" (NEP 50),
so ``float32_array * 0.9`` stays float32, while an ``np.float64`` scalar would promote it to float64.
"""

from __future__ import annotations

import difflib
import math
import numbers

import numpy as np


def _got(value) -> str:
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({type(value).__name__})"


# -- integers --------------------------------------------------------------------------------------
def integer(owner, arg, value, minimum=None, maximum=None) -> int:
    """``value`` as a Python int in ``[minimum, maximum]``; bools, floats and strings are refused."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        kind = "a positive integer" if minimum == 1 and maximum is None else "an integer"
        raise TypeError(f"{owner}: {arg} must be {kind}; got {_got(value)}.")
    value = int(value)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        if maximum is None and minimum in (0, 1):
            kind = "a positive integer" if minimum == 1 else "a non-negative integer"
        else:
            kind = f"an integer in [{'-inf' if minimum is None else minimum}, {'inf' if maximum is None else maximum}]"
        raise ValueError(f"{owner}: {arg} must be {kind}; got {value}.")
    return value


def positive_int(owner, arg, value) -> int:
    """An integer >= 1 (sizes, counts, ``batch_size``, ``k``)."""
    return integer(owner, arg, value, minimum=1)


def non_negative_int(owner, arg, value) -> int:
    """An integer >= 0 (``epochs``, ``patience``, ``verbose``)."""
    return integer(owner, arg, value, minimum=0)


# -- reals -----------------------------------------------------------------------------------------
def real(owner, arg, value) -> float:
    """``value`` as a finite Python float, or a TypeError/ValueError naming ``owner`` and ``arg``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {arg} must be a real number; got {_got(value)}.")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{owner}: {arg} must be finite; got {value!r}.")
    return value


def positive(owner, arg, value) -> float:
    """A finite number > 0 (learning rates, standard deviations)."""
    value = real(owner, arg, value)
    if value <= 0:
        raise ValueError(f"{owner}: {arg} must be a finite number > 0; got {value!r}.")
    return value


def non_negative(owner, arg, value) -> float:
    """A finite number >= 0 (L2 strengths, epsilon, min_delta)."""
    value = real(owner, arg, value)
    if value < 0:
        raise ValueError(f"{owner}: {arg} must be a finite number >= 0; got {value!r}.")
    return value


def unit_interval(owner, arg, value, closed_low=True, closed_high=False) -> float:
    """A number in [0, 1) by default (decay factors, dropout rates, validation fractions)."""
    value = real(owner, arg, value)
    ok_low = value >= 0.0 if closed_low else value > 0.0
    ok_high = value <= 1.0 if closed_high else value < 1.0
    if not (ok_low and ok_high):
        interval = f"{'[' if closed_low else '('}0, 1{']' if closed_high else ')'}"
        raise ValueError(f"{owner}: {arg} must be in {interval}; got {value!r}.")
    return value


def flag(owner, arg, value) -> bool:
    """A boolean switch; 0/1 or strings are refused to catch typos such as ``shuffle="False"``."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{owner}: {arg} must be True or False; got {_got(value)}.")
    return bool(value)


def one_of(owner, arg, value, choices):
    """``value`` if it is one of ``choices`` (compared with ``==``, bools kept apart from ints)."""
    for c in choices:
        if type(value) is type(c) and value == c:
            return value
    raise ValueError(f"{owner}: {arg} must be one of {', '.join(map(repr, choices))}; got {_got(value)}.")


# -- names -----------------------------------------------------------------------------------------
def unknown_name(kind, name, valid) -> ValueError:
    """The error for an unknown ``name`` of ``kind`` ("loss", "optimizer", ...), with the closest valid name.

    ``raise unknown_name("loss", "binary_crossentopy", NAMES)`` says
    ``Unknown loss 'binary_crossentopy'; did you mean 'binary_crossentropy'? Valid names: ...``.
    """
    valid = list(valid)
    close = difflib.get_close_matches(name.lower(), valid, n=1, cutoff=0.6) if isinstance(name, str) else []
    hint = f" did you mean {close[0]!r}?" if close else ""
    return ValueError(f"Unknown {kind} {name!r};{hint} valid names are: {', '.join(valid)}.")


# -- arrays ----------------------------------------------------------------------------------------
def real_array(owner, arg, x, dtype=None, ndim=None, allow_empty=True) -> np.ndarray:
    """``x`` as a finite real NumPy array (``dtype`` if given), with errors instead of NumPy's surprises.

    Refused with a ``ValueError`` naming ``owner`` and ``arg``: ragged nested lists, strings, objects,
    complex numbers (casting would silently drop the imaginary part), NaN or inf, and a wrong ``ndim``.
    """
    try:
        arr = np.asarray(x)
    except ValueError as err:  # ragged nested sequences
        raise ValueError(f"{owner}: {arg} must be a rectangular numeric array; {err}") from None
    if arr.dtype.kind == "c":
        raise ValueError(f"{owner}: {arg} must be real; got complex values (dtype {arr.dtype}).")
    if arr.dtype.kind not in "biuf":
        if arr.size == 0 and arr.dtype.kind in "OUS":
            arr = arr.astype(np.float64)
        else:
            raise ValueError(f"{owner}: {arg} must be numeric; got dtype {arr.dtype} "
                             f"(first entry {arr.flat[0]!r})." if arr.size else
                             f"{owner}: {arg} must be numeric; got dtype {arr.dtype}.")
    if ndim is not None and arr.ndim not in (ndim if isinstance(ndim, tuple) else (ndim,)):
        raise ValueError(f"{owner}: {arg} must be {ndim}-D; got shape {arr.shape}.")
    if not allow_empty and arr.size == 0:
        raise ValueError(f"{owner}: {arg} is empty.")
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise ValueError(f"{owner}: {arg} contains NaN or inf (first at index {tuple(int(b) for b in bad)}).")
    if dtype is not None:
        arr = arr.astype(dtype, copy=False)
    return arr


def check_ids(owner, what, ids, n):
    """``ids`` as a 1-D int64 array in ``[0, n)``, or a ValueError naming ``owner``, ``what`` and the bad id.

    Accepts ``(batch,)`` or ``(batch, 1)`` integers, and floats that hold whole numbers (e.g. ids read from
    a CSV); refuses bools, strings, complex numbers, NaN and ids outside ``[0, n)``. Ids are compared as
    floats **before** any cast, so ``1e20`` is reported as ``1e20``, not as the negative number an int64
    cast would wrap it to. Used at every boundary where ids enter: ``Embedding`` and the recommenders.
    """
    try:
        arr = np.asarray(ids)
    except ValueError as err:
        raise ValueError(f"{owner}: {what} must be a 1-D array of integer ids; {err}") from None
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"{owner}: {what} must be 1-D (batch,); got shape {arr.shape}.")
    if arr.dtype.kind == "b":
        raise ValueError(f"{owner}: {what} must be integer ids; got booleans.")
    if arr.dtype.kind not in "iu":
        if arr.dtype.kind == "f":
            bad = ~np.isfinite(arr) | (arr != np.round(arr))
            if bad.any():
                raise ValueError(f"{owner}: {what} must be integers; got {arr[bad][0].item()!r}.")
            if arr.size and (arr.min() < 0 or arr.max() >= n):
                v = arr.min() if arr.min() < 0 else arr.max()
                raise ValueError(f"{owner}: {what} contains id {v.item()!r}, outside [0, {n}) "
                                 f"(ids are numbered 0..{n - 1}).")
        elif arr.size:
            raise ValueError(f"{owner}: {what} must be integers; got dtype {arr.dtype}.")
        arr = arr.astype(np.int64)
    if arr.size:
        lo, hi = int(arr.min()), int(arr.max())
        if lo < 0 or hi >= n:
            raise ValueError(f"{owner}: {what} contains id {lo if lo < 0 else hi}, outside [0, {n}) "
                             f"(ids are numbered 0..{n - 1}).")
    return arr.astype(np.int64, copy=False)


# -- randomness ------------------------------------------------------------------------------------
def as_rng(seed, owner="tinyrec"):
    """A ``numpy.random.Generator``: passed through, or built from an int (or None: fresh entropy) seed."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or (isinstance(seed, numbers.Integral) and not isinstance(seed, (bool, np.bool_))):
        if seed is not None and seed < 0:
            raise ValueError(f"{owner}: seed must be >= 0; got {seed}.")
        return np.random.default_rng(seed)
    raise TypeError(f"{owner}: seed must be an int, None or a numpy.random.Generator; got {_got(seed)}.")


def spawn_rngs(seed, n, owner="tinyrec"):
    """``n`` independent Generators from one seed (int, None or a Generator), e.g. init / shuffle / dropout."""
    if isinstance(seed, np.random.Generator):
        return [np.random.default_rng(int(s)) for s in seed.integers(0, 2**63 - 1, size=n)]
    as_rng(seed, owner)  # validates
    return [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(n)]
