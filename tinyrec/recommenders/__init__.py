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
``TwoTower``                user tower · item tower, in-batch softmax + log-Q        (retrieval, 召回)
``BPRMatrixFactorization``  p_u·q_i + b_i, BPR on sampled negatives                (retrieval, 召回)
``SequencePopularity``      next item = most played next items                     (sequences)
``MarkovChain``             next item ∝ P(b | last item a), popularity backoff      (sequences)
``SessionMLP/CNN/GRU``      the last items → MLP / 1-D CNN / GRU → every item      (next item, 序列推荐)
==========================  ======================================================================

Sequence models (``SequenceRecommender``) take each user's items in time order instead of user ids:
``fit(sequences)``, ``score_next(histories)``, ``recommend(histories, k)``; ``evaluate_next_item`` ranks
each user's next item against the whole catalogue.
"""

from .base import NeuralRecommender, Recommender
from .baselines import BiasBaseline, GlobalMean, MostPopular
from .ctr import FactorizationMachine, click_mlp
from .evaluation import evaluate_next_item, evaluate_ranking, evaluate_ratings, full_ranking_metrics
from .markov import MarkovChain, SequencePopularity
from .mf import MatrixFactorization
from .neumf import NeuMF
from .retrieval import BPRMatrixFactorization, TwoTower
from .sequential import SequenceRecommender
from .session import SessionCNN, SessionGRU, SessionMLP

__all__ = ["Recommender", "NeuralRecommender", "GlobalMean", "BiasBaseline", "MostPopular", "MatrixFactorization",
           "NeuMF", "FactorizationMachine", "click_mlp", "evaluate_ranking", "evaluate_ratings",
           "TwoTower", "BPRMatrixFactorization", "SequenceRecommender", "SequencePopularity", "MarkovChain",
           "SessionMLP", "SessionCNN", "SessionGRU", "evaluate_next_item", "full_ranking_metrics"]
