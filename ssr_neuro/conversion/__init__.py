"""From the torch model to the neuromorphic graph, and back to numbers.

- ``from_torch``  ``to_graph(model, dataset)``: the float NeuroGraph of a trained SSR's eval-mode inference
- ``evaluate``    ``compare_scores`` (torch vs graph scores), ``evaluate_graph`` (HR/NDCG/MRR of a graph)

The quantisation of a graph (numpy only) is part of the graph layer: ``ssr_neuro.graph.quantize``.
The names load on first use.
"""

from importlib import import_module

_LAZY = {"to_graph": "from_torch", "compare_scores": "evaluate", "evaluate_graph": "evaluate"}

__all__ = list(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(f"ssr_neuro.conversion.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'ssr_neuro.conversion' has no attribute {name!r}")
