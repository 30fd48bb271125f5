"""Datasets: seeded generators with ground truth, the bundled copies, real MovieLens loaders, and splits.

Depends on NumPy only; models never import this package.
"""

from .base import Bunch, get_data_home

__all__ = ["Bunch", "get_data_home"]
