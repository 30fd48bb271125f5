"""Shared pytest set-up: one BLAS thread, and the Hypothesis profiles used by tests/test_properties.py.

The tests' matrices are small: a second OpenBLAS thread only adds synchronisation, and on a shared 2-core
machine it can make a small matmul hundreds of times slower (measured while the suite competed with other
jobs). So the suite asks for one thread before NumPy loads (``setdefault``: a user's own setting wins).

``ci`` (the default) runs few examples, derandomized so every run tries the same inputs and a failure
reproduces exactly; ``dev`` runs many more, with fresh randomness: ``HYPOTHESIS_PROFILE=dev pytest
tests/test_properties.py``. No deadline in either: 2 shared CPU cores make per-example timings noisy.
``ci`` keeps no example database: derandomized runs gain nothing from one.
"""

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from hypothesis import HealthCheck, settings  # noqa: E402  (after the thread settings, on purpose)

settings.register_profile("ci", max_examples=20, deadline=None, derandomize=True, database=None,
                          print_blob=True, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=400, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
