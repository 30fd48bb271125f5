"""Recommenders (推荐模型): models that take user and item ids, built from the engine's layers.

Every model shares one shape (``Recommender``): ``fit(...)``, ``predict(user_ids, item_ids)`` → scores,
``recommend(user_ids, k=10, exclude_seen=True)`` → top-k item ids and scores.

==========================  ======================================================================
``GlobalMean``              r̂ = μ                                                   (ratings)
``BiasBaseline``            r̂ = μ + b_u + b_i                                       (ratings)
``MostPopular``             score = training popularity                            (ranking)
``MatrixFactorization``     r̂ = μ + b_u + b_i + p_u·q_i, MSE + L2                   (ratings)
``NeuMF``                   GMF ⊕ MLP towers → sigmoid, BCE on sampled negatives   (implicit feedback)
``FactorizationMachine``    pairwise feature interactions for click prediction     (ads, CTR)
``SessionMLP/CNN/GRU``      the last items → MLP / 1-D CNN / GRU → every item      (next item, 序列推荐)
==========================  ======================================================================
"""

from .base import Recommender
from .baselines import BiasBaseline, GlobalMean, MostPopular
from .ctr import FactorizationMachine, click_mlp
from .evaluation import evaluate_ranking, evaluate_ratings
from .mf import MatrixFactorization
from .neumf import NeuMF
from .sequential import SequenceRecommender
from .session import SessionCNN, SessionGRU, SessionMLP

__all__ = ["Recommender", "GlobalMean", "BiasBaseline", "MostPopular", "MatrixFactorization", "NeuMF",
           "FactorizationMachine", "click_mlp", "evaluate_ranking", "evaluate_ratings", "SequenceRecommender",
           "SessionMLP", "SessionCNN", "SessionGRU"]
