"""Partitioning of the population/synapse graph into core-sized pieces and their placement on a chip mesh.

Reads the graph contract (``ssr_neuro.graph.ir``) and a chip description (``hardware.chip``: any object with its
``name``, ``mesh``, ``core`` and ``host`` fields); never imports torch.

- ``pieces``      populations as rectangles of neurons (rows x channels) sized to a core; exact per-core resources
- ``traffic``     messages per inference between cores from recorded (or assumed) activity; output routes
- ``strategies``  partitions (layer-order fill, traffic clustering), placement (row-major, simulated annealing)
- ``mapping``     ``map_graph(graph, chip, strategy, activity, seed, time_budget_s) -> Mapping``; mapping.json
- ``plot``        ``plot_mapping(mapping, chip, path)``: PNG heatmaps of utilisation and traffic on the mesh
"""

from mapping.mapping import Mapping, PlacedCore, PlacedPiece, format_summary, load_mapping, map_graph
from mapping.plot import plot_mapping
from mapping.strategies import STRATEGIES

__all__ = ["Mapping", "PlacedCore", "PlacedPiece", "STRATEGIES", "format_summary", "load_mapping", "map_graph",
           "plot_mapping"]
