"""tinyrec: a NumPy-only, autograd-free neural-network engine for learning how deep recommenders work.

Every forward pass sits next to its hand-derived backward pass; ``tinyrec.gradcheck`` checks them.
Public modules follow Keras' import paths: ``tinyrec.models``, ``tinyrec.layers``, ``tinyrec.losses``,
``tinyrec.optimizers``, ``tinyrec.activations``, ``tinyrec.callbacks``.
"""

__version__ = "0.1.0"
