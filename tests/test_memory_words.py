"""The word-level memory model (mapping/memory.py) shared by the mapper and the cost model: list sizes by format
computed by hand, the mapper's check in words (a format that needs more words than a core holds is refused naming
its keys), chip-file validation of [memory] and [synapse_format], and prices by the array's size."""

import numpy as np
import pytest

from hardware.chip import load_chip, parse_chip
from mapping import map_graph
from mapping.memory import SynapseFormat, list_bits, sram_word_pJ, word_read_pJ
from ssr_neuro.errors import ChipError, MappingError
from ssr_neuro.graph.ir import LIF, Graded, ItemInput, NeuroGraph, Readout, Synapse
from test_hardware_engine import CYCLES, ENERGY


def small_chip(memory_bytes: int, fmt: dict | None = None, word_bits: int = 16, shared: bool = True):
    doc = {"schema": "ssr-neuro/chip", "version": 1, "name": "small", "description": "",
           "mesh": {"rows": 1, "cols": 4, "cores_per_router": 1, "clock_MHz": 100.0, "io_router": [0, 0]},
           "core": {"neurons": 64, "input_axons": 64, "output_axons": 64, "synapse_memory_bytes": memory_bytes,
                    "weight_bits": 8, "state_bits": 24, "mac_units": 1, "shared_weights": shared},
           "energy_pJ": dict(ENERGY), "cycles": dict(CYCLES), "static": {"leakage_mW_per_core": 0.0},
           "memory": {"synapse_word_bits": word_bits}}
    if fmt is not None:
        doc["synapse_format"] = fmt
    return parse_chip(doc, "small.toml")


def fan_in_graph(fan_in: int = 12) -> NeuroGraph:
    """input (1 position, 3 items) -> g Graded (1, fan_in) -> lif LIF (1, 1) dense, fan-in ``fan_in`` -> out
    Readout (1, 4)."""
    rng = np.random.default_rng(0)
    g = NeuroGraph()
    g.add("input", ItemInput(1, 3))
    g.add("g", Graded((1, fan_in), np.zeros((1, fan_in))))
    g.add("lif", LIF((1, 1), 2.0, 1.0, 2, np.zeros((1, 1))))
    g.add("out", Readout((1, 4), np.zeros((1, 4))))
    g.connect("input", "g", Synapse("dense", rng.standard_normal((fan_in, 4)), "each"))
    g.connect("g", "lif", Synapse("dense", rng.standard_normal((1, fan_in)), "each"))
    g.connect("lif", "out", Synapse("dense", rng.standard_normal((4, 1)), "each"))
    return g


def diagonal_graph(channels: int = 8) -> NeuroGraph:
    """input -> a Graded (1, C) dense -> b Graded (1, C) diagonal -> out Readout (1, 4) dense."""
    rng = np.random.default_rng(1)
    g = NeuroGraph()
    g.add("input", ItemInput(1, 3))
    g.add("a", Graded((1, channels), np.zeros((1, channels))))
    g.add("b", Graded((1, channels), np.zeros((1, channels))))
    g.add("out", Readout((1, 4), np.zeros((1, 4))))
    g.connect("input", "a", Synapse("dense", rng.standard_normal((channels, 4)), "each"))
    g.connect("a", "b", Synapse("diagonal", rng.standard_normal(channels), "each"))
    g.connect("b", "out", Synapse("dense", rng.standard_normal((4, channels)), "each"))
    return g


def test_list_sizes_by_hand():
    dense = SynapseFormat()
    sparse = SynapseFormat(dense="sparse", diagonal="sparse", index_bits=8, header_bits=20, align=True)
    assert list_bits(12, dense, "dense", 8, 16) == 96                     # packed: 12 x 8 bits
    assert list_bits(12, sparse, "dense", 8, 16) == (2 + 12) * 16         # 2 header words + 12 entries of 16 bits
    assert list_bits(1, sparse, "diagonal", 8, 16) == (2 + 1) * 16        # a diagonal weight is a whole list
    aligned = SynapseFormat(header_bits=0, align=True)
    assert list_bits(5, aligned, "dense", 8, 64) == 64                    # 5 weights, 8 to a 64-bit word
    assert list_bits(9, aligned, "dense", 6, 16) == 5 * 16                # 6-bit weights: 2 to a word, 5 words
    assert list_bits(0, sparse, "dense", 8, 16) == 0


def test_mapper_counts_words_of_the_format():
    g = diagonal_graph(8)
    plain = map_graph(g, small_chip(1024), "greedy")
    fmt = {"diagonal": "sparse", "index_bits": 8, "header_bits": 16, "align": True}
    listed = map_graph(g, small_chip(1024, fmt), "greedy")
    words = lambda m: sum(c.resources["synapse_words"] for c in m.cores)
    # packed, 16-bit words: a 8 rows of 4 8-bit weights (16 words), b 8 diagonal weights (4), out 4 rows of 8 (16)
    assert words(plain) == 16 + 4 + 16
    # a 16-bit header per list, lists aligned: a 8 x (1 + 2), b as sparse lists (8 + 8 bits an entry) 8 x (1 + 1),
    # out 4 x (1 + 4)
    assert words(listed) == 8 * 3 + 8 * 2 + 4 * 5


def test_a_format_that_needs_more_words_than_a_core_holds_is_refused_by_name():
    g = fan_in_graph(12)
    # 16 bytes = 8 words of 16 bits; lif's row of 12 8-bit weights: 6 words dense, fits
    assert map_graph(g, small_chip(16), "greedy").cores
    sparse = {"dense": "sparse", "index_bits": 8, "header_bits": 16, "align": True}
    # sparse: 12 entries of 16 bits + 1 header word = 13 words > 8: the layer is split by fan-in (mapping.splits)
    # into partial sums whose lists fit, more cores than this 4-core chip has
    with pytest.raises(MappingError, match="cores"):
        map_graph(g, small_chip(16, sparse), "greedy")
    # a 128-bit header: even a list of one entry (8 + 1 words) exceeds a core (the item table's, refused first)
    with pytest.raises(MappingError) as err:
        map_graph(g, small_chip(16, {**sparse, "header_bits": 128}), "greedy")
    msg = str(err.value)
    assert "synapse words" in msg and "has 8" in msg and "synapse_format" in msg
    assert "memory.synapse_word_bits" in msg and "core.synapse_memory_bytes" in msg


def test_a_mapping_checked_against_a_chip_with_fewer_words_is_refused():
    from mapping.mapping import check_fits
    g = fan_in_graph(12)
    m = map_graph(g, small_chip(64), "greedy")
    with pytest.raises(MappingError, match="synapse words.*synapse_format"):
        check_fits(m, g, small_chip(16, {"dense": "sparse", "index_bits": 8, "header_bits": 16, "align": True}))


@pytest.mark.parametrize("change, key", [({"synapse_format": {"dense": "csr"}}, "synapse_format.dense"),
                                         ({"synapse_format": {"dense": "sparse", "index_bits": 60}},
                                          "synapse_format.dense"),
                                         ({"memory": {"synapse_word_bits": 24}}, "memory.synapse_word_bits"),
                                         ({"memory": {"tcam_word_bits": 8}}, "memory.tcam_word_bits"),
                                         ({"synapse_format": {"align": "yes"}}, "synapse_format.align")])
def test_bad_memory_keys_are_refused_by_name(change, key):
    doc = {"schema": "ssr-neuro/chip", "version": 1, "name": "x", "description": "",
           "mesh": {"rows": 1, "cols": 1, "cores_per_router": 1, "clock_MHz": 1.0, "io_router": [0, 0]},
           "core": {"neurons": 4, "input_axons": 4, "output_axons": 4, "synapse_memory_bytes": 1000,
                    "weight_bits": 8, "state_bits": 24, "mac_units": 1, "shared_weights": True},
           "energy_pJ": dict(ENERGY), "cycles": dict(CYCLES), "static": {"leakage_mW_per_core": 0.0}, **change}
    with pytest.raises(ChipError, match=key.replace(".", r"\.")):
        parse_chip(doc, "x.toml")


def test_word_prices_by_array_size():
    assert sram_word_pJ(8192, 64) == pytest.approx(10.0)    # Horowitz 8 KB
    assert sram_word_pJ(32768, 64) == pytest.approx(20.0)   # Horowitz 32 KB
    ideal = load_chip("45nm-ideal")
    assert word_read_pJ(ideal.memory["synapse"]) == pytest.approx(40.0)       # 128 KB
    assert word_read_pJ(ideal.memory["neuron_state"]) == pytest.approx(10.0)  # 1,024 x 64 bits
    for name in ("45nm", "loihi"):  # the calibrated figures include every read: counted, priced 0
        assert all(word_read_pJ(m) == 0.0 for m in load_chip(name).memory.values())
