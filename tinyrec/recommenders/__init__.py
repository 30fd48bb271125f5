"""Recommenders (推荐模型): models that take user and item ids, built from the engine's layers.

Every model shares one shape (``Recommender``): ``fit(...)``, ``predict(user_ids, item_ids)`` → scores,
``recommend(user_ids, k=10, exclude_seen=True)`` → top-k item ids and scores.
"""

from .base import Recommender
from .mf import MatrixFactorization

__all__ = ["Recommender", "MatrixFactorization"]
