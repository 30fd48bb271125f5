"""tinyrec: a NumPy-only, autograd-free neural-network engine for learning how deep recommenders work.

Every forward pass sits next to its hand-derived backward pass; ``tinyrec.gradcheck`` checks them.
Public modules follow Keras' import paths: ``tinyrec.models``, ``tinyrec.layers`` (with the sequence layers
of ``tinyrec.recurrent`` and ``tinyrec.convolutional``), ``tinyrec.losses``, ``tinyrec.optimizers``,
``tinyrec.activations``, ``tinyrec.callbacks``, ``tinyrec.metrics``. Recommenders live in
``tinyrec.recommenders``, data in ``tinyrec.datasets``; ``tinyrec.saving`` saves whole models,
``tinyrec.privacy`` trains with differential privacy, ``tinyrec.explain`` explains recommendations and
``tinyrec.interop`` carries models to PyTorch (an optional extra).
"""

__version__ = "0.2.0"
