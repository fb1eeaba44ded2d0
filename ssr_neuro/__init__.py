"""ssr-neuro: the SSR spiking sequential recommender, from training to neuromorphic hardware.

Packages (the folder tree is the architecture):
- ``ssr_neuro.data``      datasets: loaders, preprocessing, samples and splits, cache
- ``ssr_neuro.model``     the SSR model, its LIF neuron and instrumentation (torch)
- ``ssr_neuro.training``  training loop, full-ranking evaluation, checkpoints
- ``ssr_neuro.cli``       the ``ssr-neuro`` command
- ``mapping``             partitioning and placement on chip cores (no torch)
- ``hardware``            chip descriptions, cost models, simulator (no torch)
"""

__version__ = "0.1.0"
