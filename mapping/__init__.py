"""Partitioning of the population/synapse graph into core-sized pieces and their placement on a chip mesh.

Reads the graph contract only; never imports torch. (Filled by the conversion-and-mapping issue.)
"""
