"""The neuromorphic graph (populations and synapse layers): the contract between model and chip. No torch here.

- ``ir``       node and edge dataclasses, the NeuroGraph container, shape checks
"""

from ssr_neuro.graph.ir import (
    LIF, Graded, GradedFixed, ItemInput, LIFFixed, NeuroGraph, Readout, Synapse, WeightFixed, is_spiking, size,
)

__all__ = ["LIF", "Graded", "GradedFixed", "ItemInput", "LIFFixed", "NeuroGraph", "Readout", "Synapse",
           "WeightFixed", "is_spiking", "size"]
