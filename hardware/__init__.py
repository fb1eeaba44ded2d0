"""Chip descriptions (data files), cost models and the simulator backends.

- ``chip``     ``load_chip(name or path) -> Chip``: TOML chip descriptions, validated; presets in ``chips/``
               (``45nm``: a hypothetical chip priced with Horowitz's 45 nm table; ``loihi``: Davies et al. 2018)

Never imports torch; only the Lava backend imports Lava. (Cost models and the simulator: the simulator issues.)
"""
