"""One BLAS thread for tinyrec's small-matrix work (optional: needs ``threadpoolctl``).

NumPy hands matrix products and solves to a BLAS library (OpenBLAS in NumPy's wheels), which starts one
thread per core. tinyrec's training steps multiply small matrices — a batch of 256 rows by a 64 x 32 layer,
thousands of 33 x 33 ridge systems in ALS — where splitting the work costs more than it saves: the threads
spin while they wait for each other. Measured with ``benchmarks/bench_movielens.py`` (section "BLAS threads")
on 2 cores, one OpenBLAS thread instead of two gave the same or shorter wall time for a NeuMF epoch, an ALS
sweep and an SGD epoch, with 1.1x to 9x less CPU time (the 9x on a machine busy with other work, where the
spinning threads compete with everything else); see the README's "Speed" section for the figures.

So ``Model.fit`` (every gradient-trained model), ALS and the recommenders' ``recommend`` run inside
:func:`blas_threads`, which limits BLAS to
``TINYREC_BLAS_THREADS`` threads (default 1) through ``threadpoolctl`` when it is installed
(``pip install tinyrec[fast]``), and does nothing otherwise. ``TINYREC_BLAS_THREADS=0`` leaves BLAS alone.
The limit is lifted when the block ends, so the user's own NumPy code keeps all its threads.
"""

from __future__ import annotations

import contextlib
import os

try:
    import threadpoolctl
except ImportError:  # optional dependency: without it tinyrec simply does not touch BLAS threads
    threadpoolctl = None

ENV = "TINYREC_BLAS_THREADS"
_controller = None  # threadpoolctl.ThreadpoolController, made once: scanning the loaded libraries takes ms


def blas_thread_limit() -> int | None:
    """The limit :func:`blas_threads` applies: ``TINYREC_BLAS_THREADS`` (default 1), or None for "no limit"."""
    raw = os.environ.get(ENV, "1").strip()
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{ENV} must be a non-negative integer (0 = leave BLAS alone); got {raw!r}.") from None
    if value < 0:
        raise ValueError(f"{ENV} must be a non-negative integer (0 = leave BLAS alone); got {raw!r}.")
    return value or None


def blas_threads():
    """Context manager: BLAS limited to :func:`blas_thread_limit` threads inside (module docstring)."""
    global _controller
    limit = blas_thread_limit()
    if threadpoolctl is None or limit is None:
        return contextlib.nullcontext()
    if _controller is None:
        _controller = threadpoolctl.ThreadpoolController()
    return _controller.limit(limits=limit, user_api="blas")
