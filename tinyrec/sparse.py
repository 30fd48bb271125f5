"""``SparseGradient``: the gradient of a table of which a batch touched only a few rows.

A data type shared by ``tinyrec.layers`` (``Embedding`` produces it) and ``tinyrec.optimizers`` (every
optimizer applies it lazily, to the touched rows only). It lives on its own floor so neither of those two
modules has to import the other.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["SparseGradient"]


class SparseGradient(NamedTuple):
    """The gradient of a table whose only non-zero rows are ``indices``.

    ``indices``: integer array ``(n,)`` of **unique** row numbers in ``[0, param.shape[0])``.
    ``values``: array ``(n, *param.shape[1:])``; ``values[i]`` is the gradient of row ``indices[i]``.
    An embedding layer whose batch looked up the same id twice must add those rows up first:
    :meth:`from_rows` does that.
    """

    indices: np.ndarray
    values: np.ndarray

    @classmethod
    def from_rows(cls, indices, values) -> SparseGradient:
        """Build a ``SparseGradient`` from possibly repeated row ids by summing the repeats.

        ``indices (n,)``, ``values (n, *row_shape)`` → ``indices (u,)`` sorted and unique,
        ``values (u, *row_shape)`` with ``values_out[j] = Σ_{i : indices[i] = unique[j]} values[i]``.
        Repeats must be summed because the loss depends on a row once per lookup (chain rule).
        """
        indices = np.asarray(indices)
        values = np.asarray(values)
        if indices.ndim != 1 or indices.dtype.kind not in "iu":
            raise ValueError(
                f"SparseGradient.from_rows: indices must be a 1-D integer array; got dtype {indices.dtype} "
                f"and shape {indices.shape}."
            )
        if values.shape[:1] != indices.shape:
            raise ValueError(
                f"SparseGradient.from_rows: values must have one row per index, shape ({indices.size}, ...); "
                f"got {values.shape}."
            )
        if indices.size == 0:
            return cls(indices.astype(np.int64), values[:0])
        # Sort the ids so equal ids sit next to each other. Most ids of a batch are distinct, so take each
        # id's first row as it is and add only the repeats into it: twice as fast on ML-100K batches as
        # ``np.add.reduceat`` over all rows, which runs a tiny loop per (id, column). ``np.add.at`` is the
        # unbuffered add, so an id repeated three times gets both of its extra rows, in order.
        order = np.argsort(indices, kind="stable")
        ordered = indices[order]
        first = np.empty(len(ordered), dtype=bool)  # True where a new id starts
        first[0] = True
        np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
        rows = np.take(values, order, axis=0)  # the rows in id order
        summed = rows[first]
        repeats = np.flatnonzero(~first)
        if repeats.size:
            group = np.cumsum(first) - 1  # sorted row -> the position of its id among the unique ids
            np.add.at(summed, group[repeats], rows[repeats])
        return cls(ordered[first].astype(np.int64, copy=False), summed)
