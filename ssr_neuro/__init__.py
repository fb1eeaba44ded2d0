"""ssr-neuro: the SSR spiking sequential recommender, from training to neuromorphic hardware.

Layers (imports point down only; tests/test_layers.py checks it):
- foundation, no torch: ``graph`` (the IR, its executor, fixed point, quantisation, files), ``metrics``,
  ``counting``, ``files``, ``errors``, ``progress``, ``runtime``
- model side (torch): ``data``, ``model``, ``baselines``, ``training``, ``conversion``;
  chip side (no torch, separate top-level packages): ``mapping``, ``hardware``
- application: ``app`` (``pipeline``, ``cli``, ``compare``, ``dse``, ``model_variants``)
"""

__version__ = "0.1.0"
