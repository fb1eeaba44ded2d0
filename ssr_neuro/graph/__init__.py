"""The neuromorphic graph (populations and synapse layers): the contract between model and chip. No torch here.

- ``ir``       node and edge dataclasses, the NeuroGraph container, shape checks
- ``execute``  numpy executor (float and fixed point), per-neuron message rates for the mapper
- ``fixed``    the integer arithmetic of a quantised graph (Lava/Loihi LIF equations)
- ``io``       save/load (npz + versioned JSON header), GraphML and NIR export
"""

from ssr_neuro.graph.ir import (
    LIF, Graded, GradedFixed, ItemInput, LIFFixed, NeuroGraph, Readout, Synapse, WeightFixed, is_spiking, size,
)

__all__ = ["LIF", "Graded", "GradedFixed", "ItemInput", "LIFFixed", "NeuroGraph", "Readout", "Synapse",
           "WeightFixed", "is_spiking", "size"]
