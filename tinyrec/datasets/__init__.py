"""Datasets: seeded generators with ground truth, the bundled copies, real MovieLens loaders, and splits.

Depends on NumPy only; models never import the loaders (recommenders use the split helpers
``seen_items`` and ``sample_negatives``).

=================================  ==========================================================
``load_movies`` / ``make_movies``      explicit 1–5 star ratings, MovieLens-100K-shaped (viewing history)
``load_products`` / ``make_products``  implicit purchases (purchase history)
``load_music`` / ``make_music``        play counts (play history)
``load_ads`` / ``make_ads``            ad impressions with 100 features and clicks (click history)
``load_sessions`` / ``make_sessions``  listening sessions in time order, hidden-mood Markov model (sequences)
``load_movielens``                     real MovieLens 100K / 1M, downloaded once into ``data_home``
``random_split``, ``leave_last_out``, ``temporal_split``      train/test index splits
``sequences_by_user``, ``last_item_split``                  per-user sequences, next-item split
``sample_negatives``, ``seen_items``                         negative sampling, seen-item lists
=================================  ==========================================================
"""

from ..interactions import sample_negatives, seen_items
from .base import Bunch, get_data_home
from .bundled import load_ads, load_movies, load_music, load_products, load_sessions, write_bundled
from .movielens import MOVIELENS_GENRES, DatasetChecksumError, DatasetNotFoundError, load_movielens
from .sessions import SESSION_GENRES, make_sessions, next_item_probabilities
from .splits import last_item_split, leave_last_out, random_split, sequences_by_user, temporal_split
from .synthetic import make_ads, make_movies, make_music, make_products

__all__ = [
    "Bunch", "get_data_home",
    "load_movies", "load_products", "load_music", "load_ads", "load_sessions", "write_bundled",
    "make_movies", "make_products", "make_music", "make_ads", "make_sessions", "next_item_probabilities",
    "SESSION_GENRES",
    "load_movielens", "DatasetNotFoundError", "DatasetChecksumError", "MOVIELENS_GENRES",
    "random_split", "leave_last_out", "temporal_split", "sequences_by_user", "last_item_split",
    "sample_negatives", "seen_items",
]
