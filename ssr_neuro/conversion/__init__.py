"""From the torch model to the neuromorphic graph, and back to numbers.

- ``from_torch``  ``to_graph(model, dataset)``: the float NeuroGraph of a trained SSR's eval-mode inference
- ``evaluate``    ``compare_scores`` (torch vs graph scores), ``evaluate_graph`` (HR/NDCG/MRR of a graph),
                  ``metrics_of_scores`` (of given scores, e.g. a simulated chip's)
- ``quantize``    fixed point of a float graph (numpy only)

The torch-using names load on first use, so that importing ``ssr_neuro.conversion.quantize`` does not pull in torch.
"""

from importlib import import_module

_LAZY = {"to_graph": "from_torch", "compare_scores": "evaluate", "evaluate_graph": "evaluate",
         "metrics_of_scores": "evaluate"}

__all__ = list(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(f"ssr_neuro.conversion.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'ssr_neuro.conversion' has no attribute {name!r}")
