"""Shared pytest set-up: the Hypothesis profiles used by tests/test_properties.py.

``ci`` (the default) runs few examples, derandomized so every run tries the same inputs and a failure
reproduces exactly; ``dev`` runs many more, with fresh randomness: ``HYPOTHESIS_PROFILE=dev pytest
tests/test_properties.py``. No deadline in either: 2 shared CPU cores make per-example timings noisy.
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=20, deadline=None, derandomize=True, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=400, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
