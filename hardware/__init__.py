"""Chip descriptions (data files), cost models and the simulator backends.

Never imports torch; only the Lava backend imports Lava. (Filled by the simulator issues.)
"""
